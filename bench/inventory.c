/*
 * inventory.c - the inventory benchmark of issue 3: import N generated
 * devices with EK identifiers, then lookups by EK URN, filtered list pages
 * and memory.
 *
 *   bench_inventory --db PATH [-n DEVICES] [--lookups N] [--pages N]
 *       [--chunk ROWS]
 *   bench_inventory --url https://HOST:PORT --token-file F --root PEM
 *       [-n DEVICES] [--chunk ROWS]
 *
 * In-process (--db): a fresh SQLite store and inv_open(); the devices go in
 * as JSON lines through inv_import() in chunks of --chunk rows; then
 * --lookups random inv_device_by_identifier() calls (one EK URN each) and
 * --pages inv_device_list() pages of 100 with a filter: the status filter
 * walks pending devices by cursor, the tag filter reads the first page of
 * a random tag.  Over HTTP (--url): the same JSON lines are POSTed to
 * /admin/v1/teams/default/devices:import.  Prints "key value" lines that
 * bench/inventory.sh turns into a table.
 *
 * Device i (0-based) is a function of i alone, so the lookups recompute
 * their URNs instead of keeping a million in memory: name dev-<i>, owner
 * u<i % 5000>@example.com, os linux/windows/macos, kind laptop, status
 * pending for one device in ten (approved otherwise), tag t<i % 100>, and
 * one "ek" identifier: the URN form of spec/attestation.md §2.5,
 * urn:ek:sha256:<base64 SHA-256>, of 91 pseudo-random bytes (the size of a
 * P-256 SubjectPublicKeyInfo).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "inventory/inv.h"
#include "pki/pki.h"
#include "store/store.h"

#define TEAM	"default"

struct opts {
	const char	*db;
	const char	*url;
	const char	*token_file;
	const char	*root;
	long long	 n;
	long long	 lookups;
	long long	 pages;
	long long	 chunk;
};

static double
now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* splitmix64: the pseudo-random bytes of device i. */
static uint64_t
mix(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ull;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ull;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebull;
	return x ^ (x >> 31);
}

/* The EK URN of device i (new string). */
static char *
ek_urn(long long i)
{
	uint8_t spki[91], md[32];
	char *b64 = NULL, *urn;
	size_t k;

	for (k = 0; k < sizeof(spki); k++)
		spki[k] = (uint8_t)(mix((uint64_t)i * 97 + k / 8) >>
		    (8 * (k % 8)));
	pki_sha256(spki, sizeof(spki), md);
	if (pki_b64_encode(md, sizeof(md), &b64) != DV_OK)
		abort();
	urn = xasprintf("urn:ek:sha256:%s", b64);
	free(b64);
	return urn;
}

static const char *const oses[] = { "linux", "windows", "macos" };

/* JSON lines of devices [from, to). */
static void
gen_rows(long long from, long long to, struct buf *out)
{
	char name[32], owner[48], tag[16], *urn, *line;
	json_t *d;
	long long i;
	size_t len;

	out->len = 0;
	for (i = from; i < to; i++) {
		snprintf(name, sizeof(name), "dev-%07lld", i);
		snprintf(owner, sizeof(owner), "u%lld@example.com", i % 5000);
		snprintf(tag, sizeof(tag), "t%lld", i % 100);
		urn = ek_urn(i);
		d = json_pack("{s:s,s:s,s:s,s:s,s:s,s:[{s:s,s:s}],s:[s]}",
		    "name", name, "owner", owner, "os", oses[i % 3], "kind",
		    "laptop", "status", i % 10 == 3 ? "pending" : "approved",
		    "identifiers", "type", "ek", "value", urn, "tags", tag);
		line = json_dumps(d, JSON_COMPACT);
		len = strlen(line);
		buf_append(out, line, len);
		buf_append(out, "\n", 1);
		free(line);
		json_decref(d);
		free(urn);
	}
}

static long
rss_kib(const char *what)
{
	char line[256];
	FILE *f = fopen("/proc/self/status", "r");
	long v = -1;

	if (f == NULL)
		return -1;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, what, strlen(what)) == 0)
			v = strtol(line + strlen(what), NULL, 10);
	fclose(f);
	return v;
}

static int
cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double
pct(double *v, size_t n, double p)
{
	size_t k = (size_t)(p * (double)(n - 1) + 0.5);

	return n == 0 ? 0 : v[k];
}

static int
run_local(const struct opts *o)
{
	struct store *st = NULL;
	struct inv *inv = NULL;
	struct inv_actor actor = { "bench", "bench-import" };
	struct inv_query q;
	struct buf rows = { 0 };
	json_t *report = NULL, *out = NULL;
	double t0, t, *lat = NULL;
	long long i, created = 0, rejected = 0, n, got;
	char *urn, *cursor = NULL, tag[16];
	int ret = 1;

	if (store_open(o->db, &st) != DV_OK || inv_open(st, &inv) != DV_OK) {
		fprintf(stderr, "bench_inventory: cannot open %s\n", o->db);
		goto out;
	}
	/* ---- import ---- */
	t = 0;
	for (i = 0; i < o->n; i += o->chunk) {
		gen_rows(i, i + o->chunk < o->n ? i + o->chunk : o->n, &rows);
		t0 = now_s();
		if (inv_import(inv, TEAM, "jsonl", rows.data, rows.len, false,
		    &actor, &report) != DV_OK) {
			fprintf(stderr, "bench_inventory: inv_import failed at "
			    "row %lld\n", i);
			goto out;
		}
		t += now_s() - t0;
		created += json_integer_value(json_object_get(report,
		    "created"));
		rejected += json_integer_value(json_object_get(report,
		    "rejected"));
		json_decref(report);
		report = NULL;
	}
	buf_free(&rows);
	printf("devices %lld\n", o->n);
	printf("import_created %lld\n", created);
	printf("import_rejected %lld\n", rejected);
	printf("import_seconds %.2f\n", t);
	printf("import_rate %.0f\n", (double)o->n / t);
	fflush(stdout);

	/* ---- lookups by EK URN ---- */
	lat = xcalloc((size_t)o->lookups, sizeof(*lat));
	for (i = 0; i < o->lookups; i++) {
		urn = ek_urn((long long)(mix((uint64_t)i ^ 0x5eedull) %
		    (uint64_t)o->n));
		t0 = now_s();
		if (inv_device_by_identifier(inv, TEAM, urn, &out) != DV_OK) {
			fprintf(stderr, "bench_inventory: %s not found\n", urn);
			free(urn);
			goto out;
		}
		lat[i] = now_s() - t0;
		json_decref(out);
		out = NULL;
		free(urn);
	}
	qsort(lat, (size_t)o->lookups, sizeof(*lat), cmp_double);
	printf("lookup_n %lld\n", o->lookups);
	printf("lookup_p50_us %.1f\n", pct(lat, (size_t)o->lookups, 0.50) *
	    1e6);
	printf("lookup_p99_us %.1f\n", pct(lat, (size_t)o->lookups, 0.99) *
	    1e6);
	printf("lookup_max_us %.1f\n", lat[o->lookups - 1] * 1e6);
	fflush(stdout);
	free(lat);

	/* ---- list pages: status=pending walked by cursor ---- */
	lat = xcalloc((size_t)o->pages, sizeof(*lat));
	for (i = 0, n = 0; i < o->pages; i++) {
		memset(&q, 0, sizeof(q));
		q.status = "pending";
		q.limit = 100;
		q.cursor = cursor;
		t0 = now_s();
		if (inv_device_list(inv, TEAM, &q, &out) != DV_OK) {
			fprintf(stderr, "bench_inventory: list failed\n");
			goto out;
		}
		lat[i] = now_s() - t0;
		got = (long long)json_array_size(json_object_get(out,
		    "devices"));
		n += got;
		free(cursor);
		cursor = NULL;
		if (json_get_str(out, "nextCursor") != NULL &&
		    json_get_str(out, "nextCursor")[0] != '\0')
			cursor = xstrdup(json_get_str(out, "nextCursor"));
		json_decref(out);
		out = NULL;
		/* at the end of the pending devices, start over */
		if (got == 0 || (got != 100 && cursor != NULL)) {
			fprintf(stderr, "bench_inventory: page %lld held %lld "
			    "devices\n", i, got);
			goto out;
		}
	}
	qsort(lat, (size_t)o->pages, sizeof(*lat), cmp_double);
	printf("list_status_pages %lld\n", o->pages);
	printf("list_status_devices %lld\n", n);
	printf("list_status_p50_ms %.2f\n", pct(lat, (size_t)o->pages, 0.50) *
	    1e3);
	printf("list_status_p99_ms %.2f\n", pct(lat, (size_t)o->pages, 0.99) *
	    1e3);
	fflush(stdout);

	/* ---- list pages: first page of a random tag ---- */
	for (i = 0; i < o->pages; i++) {
		memset(&q, 0, sizeof(q));
		snprintf(tag, sizeof(tag), "t%llu", (unsigned long long)(mix(
		    (uint64_t)i + 77) % 100));
		q.tag = tag;
		q.limit = 100;
		t0 = now_s();
		if (inv_device_list(inv, TEAM, &q, &out) != DV_OK) {
			fprintf(stderr, "bench_inventory: list failed\n");
			goto out;
		}
		lat[i] = now_s() - t0;
		got = (long long)json_array_size(json_object_get(out,
		    "devices"));
		json_decref(out);
		out = NULL;
		if (got != 100 && o->n >= 10000) {
			fprintf(stderr, "bench_inventory: tag page held %lld "
			    "devices\n", got);
			goto out;
		}
	}
	qsort(lat, (size_t)o->pages, sizeof(*lat), cmp_double);
	printf("list_tag_p50_ms %.2f\n", pct(lat, (size_t)o->pages, 0.50) *
	    1e3);
	printf("list_tag_p99_ms %.2f\n", pct(lat, (size_t)o->pages, 0.99) *
	    1e3);
	printf("rss_kib %ld\n", rss_kib("VmRSS:"));
	printf("rss_peak_kib %ld\n", rss_kib("VmHWM:"));
	ret = 0;
out:
	free(cursor);
	free(lat);
	buf_free(&rows);
	json_decref(out);
	json_decref(report);
	inv_free(inv);
	store_close(st);
	return ret;
}

static size_t
sink(char *p, size_t size, size_t n, void *arg)
{
	buf_append(arg, p, size * n);
	return size * n;
}

static int
run_http(const struct opts *o)
{
	struct curl_slist *h = NULL;
	struct buf rows = { 0 }, resp = { 0 };
	uint8_t *tok = NULL;
	size_t toklen;
	json_t *r;
	char *auth = NULL, *url = NULL;
	long status = 0;
	long long i, created = 0, rejected = 0;
	double t = 0, t0;
	CURLcode cc;
	CURL *c = NULL;
	int ret = 1;

	if (file_read(o->token_file, 4096, &tok, &toklen) != DV_OK)
		goto out;
	while (toklen > 0 && (tok[toklen - 1] == '\n' || tok[toklen - 1] ==
	    '\r'))
		tok[--toklen] = '\0';
	auth = xasprintf("Authorization: Bearer %s", (char *)tok);
	h = curl_slist_append(h, auth);
	h = curl_slist_append(h, "Content-Type: application/x-ndjson");
	url = xasprintf("%s/admin/v1/teams/%s/devices:import", o->url, TEAM);
	c = curl_easy_init();
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CAINFO, o->root);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &resp);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, 3600L);
	for (i = 0; i < o->n; i += o->chunk) {
		gen_rows(i, i + o->chunk < o->n ? i + o->chunk : o->n, &rows);
		resp.len = 0;
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, rows.data);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)rows.len);
		t0 = now_s();
		if ((cc = curl_easy_perform(c)) != CURLE_OK) {
			fprintf(stderr, "bench_inventory: POST failed: %s\n",
			    curl_easy_strerror(cc));
			goto out;
		}
		t += now_s() - t0;
		curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
		if (status != 200) {
			fprintf(stderr, "bench_inventory: import answered %ld: "
			    "%.*s\n", status, (int)(resp.len > 400 ? 400 :
			    resp.len), (char *)resp.data);
			goto out;
		}
		r = json_loadb((char *)resp.data, resp.len, 0, NULL);
		created += json_integer_value(json_object_get(r, "created"));
		rejected += json_integer_value(json_object_get(r, "rejected"));
		json_decref(r);
	}
	printf("http_devices %lld\n", o->n);
	printf("http_import_created %lld\n", created);
	printf("http_import_rejected %lld\n", rejected);
	printf("http_import_seconds %.2f\n", t);
	printf("http_import_rate %.0f\n", (double)o->n / t);
	ret = 0;
out:
	curl_easy_cleanup(c);
	curl_slist_free_all(h);
	if (tok != NULL)
		explicit_bzero(tok, toklen);
	free(tok);
	free(auth);
	free(url);
	buf_free(&rows);
	buf_free(&resp);
	return ret;
}

int
main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "db", required_argument, NULL, 'd' },
		{ "url", required_argument, NULL, 'u' },
		{ "token-file", required_argument, NULL, 't' },
		{ "root", required_argument, NULL, 'r' },
		{ "devices", required_argument, NULL, 'n' },
		{ "lookups", required_argument, NULL, 'l' },
		{ "pages", required_argument, NULL, 'p' },
		{ "chunk", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct opts o = { NULL, NULL, NULL, NULL, 1000000, 100000, 1000,
	    100000 };
	long long *v;
	int c;

	while ((c = getopt_long(argc, argv, "d:u:t:r:n:l:p:c:", lopts,
	    NULL)) != -1) {
		switch (c) {
		case 'd':
			o.db = optarg;
			continue;
		case 'u':
			o.url = optarg;
			continue;
		case 't':
			o.token_file = optarg;
			continue;
		case 'r':
			o.root = optarg;
			continue;
		case 'n':
			v = &o.n;
			break;
		case 'l':
			v = &o.lookups;
			break;
		case 'p':
			v = &o.pages;
			break;
		case 'c':
			v = &o.chunk;
			break;
		default:
			goto usage;
		}
		if (num_parse(optarg, 1, 100000000, v) != DV_OK)
			goto usage;
	}
	log_init(LOG_WARN, 2);
	if (pki_init() != DV_OK)
		return 1;
	if (o.db != NULL && o.url == NULL)
		return run_local(&o);
	if (o.url != NULL && o.token_file != NULL && o.root != NULL &&
	    o.db == NULL) {
		curl_global_init(CURL_GLOBAL_DEFAULT);
		return run_http(&o);
	}
usage:
	fputs("usage: bench_inventory --db PATH [-n DEVICES] [--lookups N] "
	    "[--pages N] [--chunk ROWS]\n"
	    "       bench_inventory --url https://HOST:PORT --token-file F "
	    "--root PEM [-n DEVICES] [--chunk ROWS]\n", stderr);
	return 2;
}
