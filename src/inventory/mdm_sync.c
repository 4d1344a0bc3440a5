/*
 * mdm_sync.c - MDM sources of each team (docs/mdm.md, issue 3 item 3):
 * a background thread pulls every source with a "url" over HTTPS on its
 * interval and applies the mapped list as a full sync; the webhook applies
 * HMAC-SHA256-signed deltas.
 *
 * The thread is the only place that talks to an MDM: never a request
 * handler (DESIGN §6).  It fetches with libcurl, HTTPS only, certificates
 * verified against the source's caFile or the system roots, no redirects,
 * each page bounded in bytes (DV_MAX_MDM_PAGE_BYTES) and time
 * (DV_MDM_FETCH_TIMEOUT), and follows a next-page link only to the origin
 * of the configured URL, so the bearer token never leaves for another
 * host.  A sync is applied only when every page arrived and mapped: a
 * partial list would mark the rest of the devices missing.  Failures are
 * logged and retried at the next interval.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "inv.h"
#include "inv_int.h"
#include "pki/pki.h"

struct mdm_source {
	char		*team;		/* owned */
	char		*name;		/* owned */
	struct inv_mdm_map *map;	/* owned */
	char		*url;		/* owned; NULL: webhook only */
	int64_t		 interval;	/* seconds */
	char		*token_path;	/* owned, may be NULL */
	char		*ca_path;	/* owned, may be NULL */
	uint8_t		*secret;	/* owned, wiped; NULL: no webhook */
	size_t		 secret_len;
	struct timespec	 due;		/* CLOCK_MONOTONIC */
};

struct inv_mdm {
	struct inv	*inv;		/* borrowed from the caller */
	struct mdm_source **srcs;	/* owned */
	size_t		 nsrcs;
	pthread_mutex_t	 lock;
	pthread_cond_t	 cond;		/* signalled on stop */
	atomic_bool	 stop;
	bool		 running;	/* the thread was started */
	bool		 curl_init;
	pthread_t	 thread;
};

/* A fetched page. */
struct page {
	struct buf	 b;
	bool		 too_large;
};

static void
source_free(struct mdm_source *s)
{
	if (s == NULL)
		return;
	if (s->secret != NULL)
		explicit_bzero(s->secret, s->secret_len);
	free(s->secret);
	free(s->team);
	free(s->name);
	inv_mdm_map_free(s->map);
	free(s->url);
	free(s->token_path);
	free(s->ca_path);
	free(s);
}

static char *
abs_path(const char *dir, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	return xasprintf("%s/%s", dir, rel);
}

/*
 * Reads a secret file: trailing newlines and spaces are not part of it.
 * *out is new (wipe before freeing).  The caller logs a failure.
 */
static enum dv_rc
secret_read(const char *path, uint8_t **out, size_t *outlen)
{
	uint8_t *data = NULL;
	size_t len;
	enum dv_rc rc;

	*out = NULL;
	*outlen = 0;
	if ((rc = file_read(path, DV_MAX_MDM_SECRET, &data, &len)) != DV_OK)
		return rc;
	while (len > 0 && (data[len - 1] == '\n' || data[len - 1] == '\r' ||
	    data[len - 1] == ' ' || data[len - 1] == '\t'))
		data[--len] = '\0';
	*out = data;
	*outlen = len;
	return DV_OK;
}

/* A source name: it is part of URLs and of "mdm:<name>". */
static bool
name_ok(const char *s)
{
	size_t n = strlen(s);

	return n > 0 && n <= 64 && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789-_") == n;
}

/* Parses one entry of teams.<team>.mdm. */
static enum dv_rc
source_load(const char *team, const json_t *j, const char *dir,
    struct mdm_source **out)
{
	struct mdm_source *s = xcalloc(1, sizeof(*s));
	const json_t *v;
	const char *k, *str;
	char *detail = NULL, *path;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*out = NULL;
	s->team = xstrdup(team);
	if (!json_is_object(j)) {
		detail = xstrdup("each mdm source is an object");
		goto err;
	}
	json_object_foreach((json_t *)j, k, v) {
		if (strcmp(k, "name") != 0 && strcmp(k, "mapping") != 0 &&
		    strcmp(k, "url") != 0 && strcmp(k, "interval") != 0 &&
		    strcmp(k, "bearerTokenFile") != 0 &&
		    strcmp(k, "caFile") != 0 &&
		    strcmp(k, "webhookSecretFile") != 0) {
			detail = xasprintf("unknown member \"%.64s\"", k);
			goto err;
		}
	}
	if ((str = json_get_str(j, "name")) == NULL || !name_ok(str)) {
		detail = xstrdup("\"name\" must be 1-64 of a-z 0-9 - _");
		goto err;
	}
	s->name = xstrdup(str);
	if ((rc = inv_mdm_map_load(json_object_get(j, "mapping"), &s->map,
	    &detail)) != DV_OK)
		goto err;
	rc = DV_ERR_MALFORMED;
	if ((v = json_object_get(j, "url")) != NULL) {
		str = json_string_value(v);
		if (str == NULL || strncasecmp(str, "https://", 8) != 0 ||
		    strlen(str) > DV_MAX_NAME || !str_printable(str,
		    strlen(str))) {
			detail = xstrdup("\"url\" must be an https:// URL");
			goto err;
		}
		s->url = xstrdup(str);
	}
	s->interval = 3600;
	if ((v = json_object_get(j, "interval")) != NULL &&
	    (!json_is_string(v) || dur_parse(json_string_value(v),
	    &s->interval) != DV_OK || s->interval < DV_MIN_MDM_INTERVAL)) {
		detail = xstrdup("\"interval\" must be a duration of at least "
		    "1s (\"1h\")");
		goto err;
	}
	if ((v = json_object_get(j, "bearerTokenFile")) != NULL) {
		if (!json_is_string(v)) {
			detail = xstrdup("\"bearerTokenFile\" must be a path");
			goto err;
		}
		s->token_path = abs_path(dir, json_string_value(v));
	}
	if ((v = json_object_get(j, "caFile")) != NULL) {
		if (!json_is_string(v)) {
			detail = xstrdup("\"caFile\" must be a path");
			goto err;
		}
		s->ca_path = abs_path(dir, json_string_value(v));
		if (!file_exists(s->ca_path)) {
			detail = xstrdup("\"caFile\" does not exist");
			goto err;
		}
	}
	if ((v = json_object_get(j, "webhookSecretFile")) != NULL) {
		if (!json_is_string(v)) {
			detail = xstrdup("\"webhookSecretFile\" must be a "
			    "path");
			goto err;
		}
		path = abs_path(dir, json_string_value(v));
		rc = secret_read(path, &s->secret, &s->secret_len);
		free(path);
		if (rc != DV_OK) {
			detail = xasprintf("\"webhookSecretFile\" cannot be "
			    "read: %s", dv_rc_str(rc));
			goto err;
		}
		rc = DV_ERR_MALFORMED;
		/* RFC 2104 §3: a key shorter than the output weakens it */
		if (s->secret_len < 32) {
			detail = xstrdup("the webhook secret must be at least "
			    "32 bytes");
			goto err;
		}
	}
	if (s->url == NULL && s->secret == NULL) {
		detail = xstrdup("a source needs \"url\", "
		    "\"webhookSecretFile\" or both");
		goto err;
	}
	*out = s;
	return DV_OK;
err:
	log_msg(LOG_ERR, "config.mdm", "{s:s,s:s?,s:s?}", "team", team,
	    "source", s->name, "detail", detail);
	free(detail);
	source_free(s);
	return rc;
}

static struct mdm_source *
source_find(const struct inv_mdm *m, const char *team, const char *name)
{
	size_t i;

	for (i = 0; m != NULL && i < m->nsrcs; i++)
		if (strcmp(m->srcs[i]->team, team) == 0 &&
		    strcmp(m->srcs[i]->name, name) == 0)
			return m->srcs[i];
	return NULL;
}

/* ---- fetching ------------------------------------------------------ */

static size_t
page_write(char *p, size_t size, size_t n, void *arg)
{
	struct page *pg = arg;

	n *= size;
	if (pg->b.len + n > DV_MAX_MDM_PAGE_BYTES) {
		pg->too_large = true;
		return 0;	/* aborts the transfer */
	}
	buf_append(&pg->b, p, n);
	return n;
}

static int
page_progress(void *arg, curl_off_t dltotal, curl_off_t dlnow,
    curl_off_t ultotal, curl_off_t ulnow)
{
	struct inv_mdm *m = arg;

	return atomic_load(&m->stop) ? 1 : 0;
}

/* True when a and b have the same scheme, host and port. */
static bool
same_origin(const char *a, const char *b)
{
	static const CURLUPart parts[] = {
		CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT
	};
	CURLU *ua = curl_url(), *ub = curl_url();
	char *pa, *pb;
	bool same = ua != NULL && ub != NULL &&
	    curl_url_set(ua, CURLUPART_URL, a, 0) == CURLUE_OK &&
	    curl_url_set(ub, CURLUPART_URL, b, 0) == CURLUE_OK;
	size_t i;

	for (i = 0; same && i < sizeof(parts) / sizeof(parts[0]); i++) {
		pa = pb = NULL;
		same = curl_url_get(ua, parts[i], &pa, CURLU_DEFAULT_PORT) ==
		    CURLUE_OK && curl_url_get(ub, parts[i], &pb,
		    CURLU_DEFAULT_PORT) == CURLUE_OK &&
		    strcasecmp(pa, pb) == 0;
		curl_free(pa);
		curl_free(pb);
	}
	curl_url_cleanup(ua);
	curl_url_cleanup(ub);
	return same;
}

/* Why a sync failed, for its one log line (rule 9). */
struct why {
	const char	*text;		/* fixed words */
	char		 detail[CURL_ERROR_SIZE];	/* curl's words */
	long		 status;	/* HTTP status, 0 if none */
	unsigned	 page;
	const char	*url;		/* borrowed, may be NULL */
};

/* GETs url into *doc (strict JSON). */
static enum dv_rc
fetch(CURL *c, struct curl_slist *hdrs, const char *url, json_t **doc,
    struct why *w)
{
	struct page pg;
	CURLcode cc;
	enum dv_rc rc;

	*doc = NULL;
	memset(&pg, 0, sizeof(pg));
	w->url = url;
	w->detail[0] = '\0';
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, page_write);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &pg);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, w->detail);
	cc = curl_easy_perform(c);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, NULL);
	if (cc != CURLE_OK) {
		if (pg.too_large) {
			w->text = "a page is larger than DV_MAX_MDM_PAGE_BYTES";
			rc = DV_ERR_TOO_LARGE;
		} else {
			w->text = curl_easy_strerror(cc);
			rc = DV_ERR_IO;
		}
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &w->status);
	if (w->status != 200) {
		w->text = "the source answered a status other than 200";
		rc = DV_ERR_IO;
		goto out;
	}
	if ((rc = json_parse_strict(pg.b.data, pg.b.len,
	    DV_MAX_MDM_PAGE_BYTES, doc)) != DV_OK)
		w->text = "a page is not a JSON object (strict: UTF-8, no "
		    "duplicate keys, bounded depth)";
out:
	buf_free(&pg.b);
	return rc;
}

/* A curl handle with the options every page of s shares. */
static CURL *
source_curl(struct inv_mdm *m, const struct mdm_source *s)
{
	CURL *c = curl_easy_init();

	if (c == NULL)
		return NULL;
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
	curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	if (s->ca_path != NULL)
		curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_path);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT,
	    (long)DV_MDM_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, (long)DV_MDM_FETCH_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_MAXFILESIZE_LARGE,
	    (curl_off_t)DV_MAX_MDM_PAGE_BYTES);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(c, CURLOPT_USERAGENT, "devid-mdm-sync");
	curl_easy_setopt(c, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(c, CURLOPT_XFERINFOFUNCTION, page_progress);
	curl_easy_setopt(c, CURLOPT_XFERINFODATA, m);
	return c;
}

/* The request headers; the bearer token is read anew for every sync so
 * that an outside job can refresh it (Graph tokens last an hour). */
static enum dv_rc
source_headers(const struct mdm_source *s, struct curl_slist **out)
{
	struct curl_slist *h = NULL, *n;
	uint8_t *tok = NULL;
	size_t len = 0;
	char *line;
	enum dv_rc rc;

	*out = NULL;
	h = curl_slist_append(h, "Accept: application/json");
	if (s->token_path != NULL) {
		if ((rc = secret_read(s->token_path, &tok, &len)) != DV_OK) {
			curl_slist_free_all(h);
			return rc;
		}
		if (len == 0 || !str_printable((char *)tok, len)) {
			explicit_bzero(tok, len);
			free(tok);
			curl_slist_free_all(h);
			return DV_ERR_MALFORMED;
		}
		line = xasprintf("Authorization: Bearer %s", (char *)tok);
		n = curl_slist_append(h, line);
		explicit_bzero(line, strlen(line));
		explicit_bzero(tok, len);
		free(line);
		free(tok);
		if (n == NULL) {
			curl_slist_free_all(h);
			return DV_ERR_INTERNAL;
		}
		h = n;
	}
	*out = h;
	return h != NULL ? DV_OK : DV_ERR_INTERNAL;
}

static void
headers_free(struct curl_slist *h)
{
	struct curl_slist *n;

	for (n = h; n != NULL; n = n->next)
		explicit_bzero(n->data, strlen(n->data));
	curl_slist_free_all(h);
}

static int64_t
elapsed_ms(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (int64_t)(t1.tv_sec - t0->tv_sec) * 1000 +
	    (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

static json_int_t
report_n(const json_t *r, const char *k)
{
	return json_integer_value(json_object_get(r, k));
}

/* One full sync of s: every page, then one inv_mdm_apply.  Logs one
 * line: mdm.sync with the counts, or mdm.sync.failed with the reason. */
static void
source_sync(struct inv_mdm *m, struct mdm_source *s)
{
	struct inv_actor actor;
	struct curl_slist *hdrs = NULL;
	struct timespec t0;
	struct why w;
	json_t *devices = json_array(), *doc = NULL, *report = NULL;
	unsigned pages = 0;
	size_t skipped = 0;
	char *url = NULL, *next = NULL, *who = NULL, *rid = NULL;
	CURL *c = NULL;
	enum dv_rc rc;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	memset(&w, 0, sizeof(w));
	if ((rc = source_headers(s, &hdrs)) != DV_OK) {
		w.text = rc == DV_ERR_MALFORMED ? "the bearer token file is "
		    "empty or not printable" : "the bearer token file cannot "
		    "be read";
		w.url = s->token_path;
		goto out;
	}
	if ((c = source_curl(m, s)) == NULL) {
		w.text = "curl_easy_init";
		rc = DV_ERR_INTERNAL;
		goto out;
	}
	url = inv_mdm_map_first_url(s->map, s->url);
	while (url != NULL && !atomic_load(&m->stop)) {
		w.page = pages;
		w.url = url;
		if (pages == DV_MAX_MDM_PAGES) {
			w.text = "more pages than DV_MAX_MDM_PAGES";
			rc = DV_ERR_TOO_LARGE;
			goto out;
		}
		/* the token goes to the configured origin only */
		if (pages > 0 && !same_origin(s->url, url)) {
			w.text = "the next-page link leaves the origin of the "
			    "configured url: not followed";
			rc = DV_ERR_FORBIDDEN;
			goto out;
		}
		if ((rc = fetch(c, hdrs, url, &doc, &w)) != DV_OK)
			goto out;
		rc = inv_mdm_map_doc(s->map, s->name, doc, s->url, pages,
		    devices, &skipped, &next);
		json_decref(doc);
		doc = NULL;
		if (rc != DV_OK) {
			w.text = rc == DV_ERR_TOO_LARGE ? "more devices in a "
			    "page than DV_MAX_MDM_PAGE_DEVICES" : "the device "
			    "list is not where the mapping says";
			goto out;
		}
		if (json_array_size(devices) > DV_MAX_MDM_DEVICES) {
			w.text = "more devices than DV_MAX_MDM_DEVICES";
			rc = DV_ERR_TOO_LARGE;
			goto out;
		}
		pages++;
		free(url);
		url = next;
		next = NULL;
	}
	w.url = NULL;
	if (atomic_load(&m->stop)) {
		w.text = "the server is stopping";
		rc = DV_ERR_UNAVAILABLE;
		goto out;
	}
	who = xasprintf("mdm:%s", s->name);
	rid = xasprintf("mdm-sync-%s-%lld", s->name, (long long)dv_now());
	actor.who = who;
	actor.request_id = rid;
	if ((rc = inv_mdm_apply(m->inv, s->team, s->name, devices, true,
	    &actor, &report)) != DV_OK) {
		w.text = "the inventory did not apply the sync";
		goto out;
	}
	log_msg(LOG_INFO, "mdm.sync", "{s:s,s:s,s:i,s:I,s:I,s:I,s:I,s:I,s:I,"
	    "s:I,s:I}", "team", s->team, "source", s->name, "pages",
	    (int)pages, "devices", (json_int_t)json_array_size(devices),
	    "skipped", (json_int_t)skipped, "created", report_n(report,
	    "created"), "updated", report_n(report, "updated"), "unchanged",
	    report_n(report, "unchanged"), "rejected", report_n(report,
	    "rejected"), "missing", report_n(report, "missing"), "ms",
	    (json_int_t)elapsed_ms(&t0));
out:
	if (rc != DV_OK)
		log_msg(LOG_WARN, "mdm.sync.failed", "{s:s,s:s,s:s,s:s,s:s?,"
		    "s:s?,s:i,s:i,s:I,s:I}", "team", s->team, "source",
		    s->name, "code", dv_rc_info(rc)->name, "error", w.text,
		    "detail", w.detail[0] != '\0' ? w.detail : NULL, "url",
		    w.url, "page", (int)w.page, "status", (int)w.status,
		    "retryInSeconds", (json_int_t)s->interval, "ms",
		    (json_int_t)elapsed_ms(&t0));
	json_decref(report);
	json_decref(devices);
	free(who);
	free(rid);
	free(url);
	free(next);
	curl_easy_cleanup(c);
	headers_free(hdrs);
}

static bool
ts_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	    (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

static void *
sync_main(void *arg)
{
	struct inv_mdm *m = arg;
	struct mdm_source *s;
	struct timespec now;
	size_t i;

	pthread_mutex_lock(&m->lock);
	while (!atomic_load(&m->stop)) {
		s = NULL;
		for (i = 0; i < m->nsrcs; i++) {
			if (m->srcs[i]->url == NULL)
				continue;
			if (s == NULL || ts_before(&m->srcs[i]->due, &s->due))
				s = m->srcs[i];
		}
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (ts_before(&now, &s->due)) {
			pthread_cond_timedwait(&m->cond, &m->lock, &s->due);
			continue;
		}
		pthread_mutex_unlock(&m->lock);
		source_sync(m, s);
		pthread_mutex_lock(&m->lock);
		clock_gettime(CLOCK_MONOTONIC, &s->due);
		s->due.tv_sec += s->interval;
	}
	pthread_mutex_unlock(&m->lock);
	return NULL;
}

static void
mdm_free(struct inv_mdm *m)
{
	size_t i;

	for (i = 0; i < m->nsrcs; i++)
		source_free(m->srcs[i]);
	free(m->srcs);
	pthread_cond_destroy(&m->cond);
	pthread_mutex_destroy(&m->lock);
	if (m->curl_init)
		curl_global_cleanup();
	free(m);
}

enum dv_rc
inv_mdm_start(struct inv *inv, const json_t *config, const char *dir,
    struct inv_mdm **out)
{
	struct inv_mdm *m = xcalloc(1, sizeof(*m));
	struct mdm_source *s;
	pthread_condattr_t ca;
	const json_t *teams, *t, *list, *e;
	const char *team;
	bool pull = false;
	size_t i;
	enum dv_rc rc = DV_OK;

	*out = NULL;
	m->inv = inv;
	atomic_init(&m->stop, false);
	pthread_mutex_init(&m->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&m->cond, &ca);
	pthread_condattr_destroy(&ca);
	teams = json_object_get(config, "teams");
	json_object_foreach((json_t *)teams, team, t) {
		if ((list = json_object_get(t, "mdm")) == NULL)
			continue;
		if (!json_is_array(list) ||
		    json_array_size(list) > DV_MAX_MDM_SOURCES) {
			log_msg(LOG_ERR, "config.mdm", "{s:s,s:s}", "team",
			    team, "detail", "\"mdm\" must be an array of at "
			    "most 16 sources");
			rc = DV_ERR_MALFORMED;
			goto err;
		}
		json_array_foreach(list, i, e) {
			if ((rc = source_load(team, e, dir, &s)) != DV_OK)
				goto err;
			if (source_find(m, team, s->name) != NULL) {
				log_msg(LOG_ERR, "config.mdm", "{s:s,s:s,s:s}",
				    "team", team, "source", s->name, "detail",
				    "two sources with one name");
				source_free(s);
				rc = DV_ERR_MALFORMED;
				goto err;
			}
			clock_gettime(CLOCK_MONOTONIC, &s->due);
			m->srcs = xrealloc(m->srcs, (m->nsrcs + 1) *
			    sizeof(*m->srcs));
			m->srcs[m->nsrcs++] = s;
			pull = pull || s->url != NULL;
		}
	}
	if (pull) {
		if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
			log_msg(LOG_ERR, "mdm.start", "{s:s}", "error",
			    "curl_global_init");
			rc = DV_ERR_INTERNAL;
			goto err;
		}
		m->curl_init = true;
		if (pthread_create(&m->thread, NULL, sync_main, m) != 0) {
			log_msg(LOG_ERR, "mdm.start", "{s:s}", "error",
			    "pthread_create");
			rc = DV_ERR_INTERNAL;
			goto err;
		}
		m->running = true;
	}
	if (m->nsrcs > 0)
		log_msg(LOG_INFO, "mdm.start", "{s:i,s:b}", "sources",
		    (int)m->nsrcs, "pulling", pull);
	*out = m;
	return DV_OK;
err:
	mdm_free(m);
	return rc;
}

void
inv_mdm_stop(struct inv_mdm *m)
{
	if (m == NULL)
		return;
	if (m->running) {
		pthread_mutex_lock(&m->lock);
		atomic_store(&m->stop, true);
		pthread_cond_broadcast(&m->cond);
		pthread_mutex_unlock(&m->lock);
		pthread_join(m->thread, NULL);
	}
	mdm_free(m);
}

/* ---- webhook ------------------------------------------------------- */

/* Checks "sha256=<64 hex>" against HMAC-SHA256(secret, body). */
static bool
signature_ok(const struct mdm_source *s, const uint8_t *body, size_t len,
    const char *sig)
{
	uint8_t md[32], *want = NULL;
	size_t wlen = 0;
	bool ok;

	if (sig == NULL || strncmp(sig, "sha256=", 7) != 0 ||
	    strlen(sig + 7) != 64 || hex_decode(sig + 7, &want, &wlen) !=
	    DV_OK)
		return false;
	ok = wlen == sizeof(md) && pki_hmac_sha256(s->secret, s->secret_len,
	    body, len, md) == DV_OK && pki_mem_equal(md, want, sizeof(md));
	explicit_bzero(md, sizeof(md));
	free(want);
	return ok;
}

/* A webhook's delete: the devices it names, marked missing. */
struct delete_op {
	const char	*team;
	const char	*source;	/* "mdm:<name>" */
	const struct inv_actor *actor;
	const json_t	*devices;	/* mapped bodies */
	json_int_t	 n[4];		/* DEL_* */
};
enum { DEL_MISSING, DEL_UNCHANGED, DEL_UNKNOWN, DEL_OTHER };

/* The id of the device holding any identifier of body (new), or NULL. */
static enum dv_rc
delete_holder(struct store_tx *tx, const char *team, const json_t *body,
    char **id)
{
	const json_t *e;
	const char *v;
	size_t i;
	enum dv_rc rc;

	*id = NULL;
	json_array_foreach(json_object_get(body, "identifiers"), i, e) {
		if ((v = json_get_str(e, "value")) == NULL)
			continue;
		rc = store_ident_owner(tx, team, v, id);
		if (rc != DV_ERR_NOT_FOUND)
			return rc;
	}
	return DV_OK;
}

/*
 * Marks missing, in one transaction, each device named by a body that
 * belongs to this source.  A device another source (or an admin) owns is
 * left alone: a source can only withdraw what it brought.  An unknown one
 * is not created.
 */
static enum dv_rc
delete_tx(struct store_tx *tx, void *arg)
{
	struct delete_op *op = arg;
	struct store_device d;
	const json_t *body;
	json_t *audit;
	char *id = NULL;
	size_t i;
	enum dv_rc rc = DV_OK;

	memset(op->n, 0, sizeof(op->n));
	json_array_foreach(op->devices, i, body) {
		if ((rc = delete_holder(tx, op->team, body, &id)) != DV_OK)
			return rc;
		if (id == NULL) {
			op->n[DEL_UNKNOWN]++;
			continue;
		}
		memset(&d, 0, sizeof(d));
		rc = store_dev_get(tx, op->team, id, &d);
		free(id);
		id = NULL;
		if (rc != DV_OK)
			return rc;
		if (d.source == NULL || strcmp(d.source, op->source) != 0)
			op->n[DEL_OTHER]++;
		else if (d.missing)
			op->n[DEL_UNCHANGED]++;
		else {
			d.missing = true;
			d.updated_at = dv_now();
			audit = json_pack("{s:s,s:s}", "source", op->source,
			    "via", "webhook");
			if ((rc = store_dev_update(tx, &d)) == DV_OK)
				rc = inv_audit(tx, op->team, op->actor,
				    "device.missing", d.id, audit);
			json_decref(audit);
			op->n[DEL_MISSING]++;
		}
		store_device_clear(&d);
		if (rc != DV_OK)
			return rc;
	}
	return DV_OK;
}

enum dv_rc
inv_mdm_webhook(struct inv_mdm *m, const char *team, const char *source,
    const uint8_t *body, size_t len, const char *sig, const char *request_id,
    json_t **report, const char **detail)
{
	struct mdm_source *s = source_find(m, team, source);
	struct inv_actor actor;
	json_t *doc = NULL, *devices = NULL;
	const json_t *v;
	const char *k, *ev;
	size_t skipped = 0;
	char *who = NULL;
	bool del;
	enum dv_rc rc;

	*report = NULL;
	*detail = NULL;
	if (s == NULL || s->secret == NULL) {
		*detail = "no MDM source with a webhook of that name";
		return DV_ERR_NOT_FOUND;
	}
	if (!signature_ok(s, body, len, sig)) {
		log_msg(LOG_WARN, "mdm.webhook.signature", "{s:s,s:s,s:s?}",
		    "team", team, "source", source, "requestId", request_id);
		*detail = "missing or wrong X-Devid-Signature";
		return DV_ERR_UNAUTHORIZED;
	}
	rc = DV_ERR_MALFORMED;
	if (json_parse_strict(body, len, DV_MAX_BODY_CEILING, &doc) != DV_OK) {
		*detail = "the body is not a JSON object";
		goto out;
	}
	json_object_foreach(doc, k, v) {
		if (strcmp(k, "event") != 0 && strcmp(k, "devices") != 0) {
			*detail = "unknown member in the body (event, devices)";
			goto out;
		}
	}
	ev = json_get_str(doc, "event");
	if (ev == NULL || (strcmp(ev, "upsert") != 0 &&
	    strcmp(ev, "delete") != 0)) {
		*detail = "\"event\" must be \"upsert\" or \"delete\"";
		goto out;
	}
	del = strcmp(ev, "delete") == 0;
	devices = json_array();
	rc = inv_mdm_map_list(s->map, s->name, json_object_get(doc,
	    "devices"), devices, &skipped);
	if (rc != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "more devices than the limit"
		    : "\"devices\" must be an array";
		goto out;
	}
	who = xasprintf("mdm:%s", s->name);
	actor.who = who;
	actor.request_id = request_id;
	if (del) {
		/* marked, not deleted (issue 3) */
		struct delete_op op;

		memset(&op, 0, sizeof(op));
		op.team = team;
		op.source = who;
		op.actor = &actor;
		op.devices = devices;
		if ((rc = store_write(m->inv->st, delete_tx, &op)) != DV_OK)
			goto out;
		*report = json_pack("{s:I,s:I,s:I,s:I}", "missing",
		    op.n[DEL_MISSING], "unchanged", op.n[DEL_UNCHANGED],
		    "unknown", op.n[DEL_UNKNOWN], "otherSource",
		    op.n[DEL_OTHER]);
	} else if ((rc = inv_mdm_apply(m->inv, team, s->name, devices, false,
	    &actor, report)) != DV_OK)
		goto out;
	json_object_set_new(*report, "skipped", json_integer((json_int_t)
	    skipped));
	log_msg(LOG_INFO, "mdm.webhook", "{s:s,s:s,s:s,s:I,s:I,s:I,s:I,s:I}",
	    "team", team, "source", source, "event", ev, "devices",
	    (json_int_t)json_array_size(devices), "skipped",
	    (json_int_t)skipped, "created", report_n(*report, "created"),
	    "updated", report_n(*report, "updated"), "missing",
	    report_n(*report, "missing"));
out:
	free(who);
	json_decref(devices);
	json_decref(doc);
	return rc;
}
