/*
 * cmd_device.c - `devid device add|list|get|patch|retire|import`: the
 * device inventory of a team through the admin API (docs/api.md "Admin
 * API").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Largest import file read into memory; it is sent in chunks. */
#define CLI_MAX_IMPORT	(1024 * 1024 * 1024)
/* Bytes per upload: half the server's default maxImportBytes. */
#define CLI_IMPORT_CHUNK	(DV_MAX_IMPORT / 2)

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid device add NAME [--owner EMAIL] [--os OS] [--kind KIND]\n"
"           [--status pending|approved] [--ek FILE|URN]... [--ek-cert FILE]...\n"
"           [--serial S]... [--udid U]... [--yubikey-serial N]... [--tag T]...\n"
"       devid device list [--status S] [--collection C] [--tag T]\n"
"           [--owner EMAIL|@DOMAIN] [--identifier VALUE] [--source S]\n"
"           [--seen-after TIME] [--seen-before TIME] [--limit N]\n"
"           [--cursor C] [--all] [--json]\n"
"       devid device get ID\n"
"       devid device patch ID [--name N] [--owner E] [--os OS] [--kind K]\n"
"           [--status approved] [--tag T]... [--no-tags]\n"
"           [--add-identifier TYPE=VALUE]... [--remove-identifier TYPE=VALUE]...\n"
"       devid device retire ID\n"
"       devid device import FILE [--format csv|jsonl] [--chunk-bytes N]\n"
"                               [--verbose] [--json]\n"
"\n"
"The device inventory of a team (admin API /admin/v1/teams/TEAM/devices).\n"
"add registers a device by its permanent identifiers: --ek takes the TPM\n"
"EK public key (PEM or DER file) or its urn:ek:sha256: URN, --ek-cert an\n"
"EK certificate file.  list prints a table (--json: the page as JSON,\n"
"--all: every page).  retire revokes every certificate of the device.\n"
"import uploads a CSV (header: name,owner,os,kind,source,status,ek,ek_cert,\n"
"serial,udid,yubikey_serial,tags) or JSON lines file and prints what was\n"
"created, updated, unchanged or rejected; it exits 1 if any row was\n"
"rejected.  Large files go up in chunks of at most --chunk-bytes (default\n"
"half the server's default maxImportBytes), cut at row boundaries.\n"
"add, get, patch and retire print the device as JSON.\n"
"\n"
"Every command takes:\n"
CLI_ADMIN_HELP
"  --help              this text\n");
}

/* The value of an identifier option: a file's content (PEM as is, DER in
 * base64) or the argument itself.  New string, NULL after reporting. */
static char *
ident_value(const char *what, const char *arg, bool must_be_file)
{
	uint8_t *data = NULL;
	char *v = NULL;
	size_t len;

	if (!file_exists(arg)) {
		if (must_be_file)
			cli_err("%s file '%s' does not exist", what, arg);
		else
			v = xstrdup(arg);
		return v;
	}
	if (cli_file_read(what, arg, &data, &len) != DV_OK)
		return NULL;
	if (len > 10 && memcmp(data, "-----BEGIN", 10) == 0)
		v = (char *)data;
	else {
		if (pki_b64_encode(data, len, &v) != DV_OK)
			cli_err("cannot encode %s file '%s'", what, arg);
		free(data);
	}
	return v;
}

/* Appends {"type": type, "value": value} to ids; false after reporting. */
static bool
ident_add(json_t *ids, const char *type, const char *arg)
{
	static const struct {
		const char	*type;
		const char	*what;
		bool		 file;
	} kinds[] = {
		{ "ek", "EK public key", false },
		{ "ek-cert", "EK certificate", true },
	};
	char *v = NULL;
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++)
		if (strcmp(type, kinds[i].type) == 0)
			break;
	if (i < sizeof(kinds) / sizeof(kinds[0])) {
		if ((v = ident_value(kinds[i].what, arg, kinds[i].file)) ==
		    NULL)
			return false;
	} else
		v = xstrdup(arg);
	json_array_append_new(ids, json_pack("{s:s,s:s}", "type", type,
	    "value", v));
	free(v);
	return true;
}

/* Parses TYPE=VALUE into ids; false after reporting. */
static bool
ident_pair(json_t *ids, const char *opt, const char *arg)
{
	const char *eq = strchr(arg, '=');
	char *type;
	bool ok;

	if (eq == NULL || eq == arg || eq[1] == '\0') {
		cli_usage_err("%s '%s' must be TYPE=VALUE (ek, ek-cert, serial, "
		    "udid, yubikey-serial)", opt, arg);
		return false;
	}
	type = xstrndup(arg, (size_t)(eq - arg));
	ok = ident_add(ids, type, eq + 1);
	free(type);
	return ok;
}

/* Sets member key of o to the string s when s is given. */
static void
set_str(json_t *o, const char *key, const char *s)
{
	if (s != NULL)
		json_object_set_new(o, key, json_string(s));
}

/* Runs one admin request; prints the JSON answer when print. */
static int
call(const struct cli_admin *adm, const char *method, const char *url,
    const json_t *body, long want, bool print, json_t **keep)
{
	struct cli_req req;
	json_t *out = NULL;
	int rv = CLI_EXIT_FAIL;

	cli_admin_req(adm, method, url, &req);
	req.body = body;
	if (cli_api_json(&req, want, &out) != DV_OK)
		goto out;
	if (print && out != NULL && !cli_print_json(out))
		goto out;
	rv = CLI_EXIT_OK;
	if (keep != NULL) {
		*keep = out;
		out = NULL;
	}
out:
	json_decref(out);
	return rv;
}

static int
device_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "owner", required_argument, NULL, 'o' },
		{ "os", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "status", required_argument, NULL, 'S' },
		{ "ek", required_argument, NULL, 'e' },
		{ "ek-cert", required_argument, NULL, 'E' },
		{ "serial", required_argument, NULL, 'n' },
		{ "udid", required_argument, NULL, 'u' },
		{ "yubikey-serial", required_argument, NULL, 'y' },
		{ "tag", required_argument, NULL, 't' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	json_t *body = json_object(), *ids = json_array(), *tags = NULL;
	const char *owner = NULL, *os = NULL, *kind = NULL, *status = NULL;
	char *url = NULL;
	int ch, rv = CLI_EXIT_USAGE;
	bool ok = true;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'o': owner = optarg; break;
		case 's': os = optarg; break;
		case 'k': kind = optarg; break;
		case 'S': status = optarg; break;
		case 'e': ok = ok && ident_add(ids, "ek", optarg); break;
		case 'E': ok = ok && ident_add(ids, "ek-cert", optarg); break;
		case 'n': ok = ok && ident_add(ids, "serial", optarg); break;
		case 'u': ok = ok && ident_add(ids, "udid", optarg); break;
		case 'y': ok = ok && ident_add(ids, "yubikey-serial", optarg);
			break;
		case 't':
			if (tags == NULL)
				tags = json_array();
			json_array_append_new(tags, json_string(optarg));
			break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			if (!cli_admin_opt(&aa, ch, optarg)) {
				rv = cli_usage_err("unknown or incomplete "
				    "option");
				goto out;
			}
		}
	}
	if (!ok) {
		rv = CLI_EXIT_FAIL;
		goto out;
	}
	if (argc - optind != 1) {
		rv = cli_usage_err("give the device NAME (and its identifiers: "
		    "--ek, --ek-cert, --serial, --udid, --yubikey-serial)");
		goto out;
	}
	if (json_array_size(ids) == 0) {
		rv = cli_usage_err("give at least one identifier (--ek, "
		    "--ek-cert, --serial, --udid, --yubikey-serial): only "
		    "registered identifiers can enroll");
		goto out;
	}
	if (cli_admin_open(&aa, &adm) != DV_OK)
		goto out;
	set_str(body, "name", argv[optind]);
	set_str(body, "owner", owner);
	set_str(body, "os", os);
	set_str(body, "kind", kind);
	set_str(body, "status", status);
	json_object_set(body, "identifiers", ids);
	if (tags != NULL)
		json_object_set(body, "tags", tags);
	url = cli_admin_url(&adm, "devices", NULL, NULL, NULL);
	rv = call(&adm, "POST", url, body, 201, true, NULL);
out:
	free(url);
	cli_admin_clear(&adm);
	json_decref(tags);
	json_decref(ids);
	json_decref(body);
	return rv;
}

/* One table row of a device. */
static void
print_row(const json_t *d)
{
	const char *v[6];
	static const char *const keys[6] = { "id", "name", "status", "owner",
	    "os", "lastSeenAt" };
	size_t i;

	for (i = 0; i < 6; i++) {
		v[i] = json_get_str(d, keys[i]);
		if (v[i] == NULL)
			v[i] = "-";
	}
	printf("%-30s %-24s %-9s %-28s %-8s %s\n", v[0], v[1], v[2], v[3],
	    v[4], v[5]);
}

static int
device_list(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "status", required_argument, NULL, 's' },
		{ "collection", required_argument, NULL, 'c' },
		{ "tag", required_argument, NULL, 't' },
		{ "owner", required_argument, NULL, 'o' },
		{ "identifier", required_argument, NULL, 'i' },
		{ "source", required_argument, NULL, 'S' },
		{ "seen-after", required_argument, NULL, 'a' },
		{ "seen-before", required_argument, NULL, 'b' },
		{ "limit", required_argument, NULL, 'l' },
		{ "cursor", required_argument, NULL, 'C' },
		{ "all", no_argument, NULL, 'A' },
		{ "json", no_argument, NULL, 'j' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const char *const keys[] = { "status", "collection", "tag",
	    "owner", "identifier", "source", "seenAfter", "seenBefore",
	    "limit" };
	const char *vals[sizeof(keys) / sizeof(keys[0])] = { NULL };
	struct cli_admin_args aa;
	struct cli_admin adm;
	struct buf q = { 0 };
	json_t *page = NULL, *d;
	char *url = NULL, *cursor = NULL, *seen[2] = { NULL, NULL }, tbuf[32];
	time_t t;
	long long n;
	size_t i;
	bool all = false, js = false;
	int ch, rv = CLI_EXIT_USAGE;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 's': vals[0] = optarg; break;
		case 'c': vals[1] = optarg; break;
		case 't': vals[2] = optarg; break;
		case 'o': vals[3] = optarg; break;
		case 'i': vals[4] = optarg; break;
		case 'S': vals[5] = optarg; break;
		case 'a': vals[6] = optarg; break;
		case 'b': vals[7] = optarg; break;
		case 'l': vals[8] = optarg; break;
		case 'C':
			free(cursor);
			cursor = xstrdup(optarg);
			break;
		case 'A': all = true; break;
		case 'j': js = true; break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			if (!cli_admin_opt(&aa, ch, optarg)) {
				rv = cli_usage_err("unknown or incomplete "
				    "option");
				goto out;
			}
		}
	}
	if (argc != optind) {
		rv = cli_usage_err("list takes no arguments, only filters");
		goto out;
	}
	if (vals[8] != NULL && num_parse(vals[8], 1, DV_LIST_MAX, &n) !=
	    DV_OK) {
		rv = cli_usage_err("--limit '%s' must be 1..%d", vals[8],
		    DV_LIST_MAX);
		goto out;
	}
	/* seen times: RFC 3339 or a duration back from now ("24h") */
	for (i = 6; i <= 7; i++) {
		int64_t d;

		if (vals[i] == NULL || time_parse_rfc3339(vals[i], &t) == DV_OK)
			continue;
		if (dur_parse(vals[i], &d) != DV_OK) {
			rv = cli_usage_err("--seen-%s '%s' is neither an RFC "
			    "3339 time nor a duration back from now (24h)",
			    i == 6 ? "after" : "before", vals[i]);
			goto out;
		}
		time_format_rfc3339(dv_now() - (time_t)d, tbuf, sizeof(tbuf));
		vals[i] = seen[i - 6] = xstrdup(tbuf);
	}
	if (cli_admin_open(&aa, &adm) != DV_OK) {
		rv = CLI_EXIT_FAIL;
		goto out;
	}
	rv = CLI_EXIT_FAIL;
	if (!js)
		printf("%-30s %-24s %-9s %-28s %-8s %s\n", "ID", "NAME",
		    "STATUS", "OWNER", "OS", "LAST SEEN");
	do {
		const char *next;

		buf_free(&q);
		for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			cli_query_add(&q, keys[i], vals[i]);
		cli_query_add(&q, "cursor", cursor);
		free(url);
		url = cli_admin_url(&adm, "devices", NULL, NULL, &q);
		json_decref(page);
		page = NULL;
		if (call(&adm, "GET", url, NULL, 200, js && !all, &page) !=
		    CLI_EXIT_OK)
			goto out;
		json_array_foreach(json_object_get(page, "devices"), i, d) {
			if (!js)
				print_row(d);
			else if (all) {
				if (json_dumpf(d, stdout, JSON_COMPACT) != 0)
					goto out;
				putchar('\n');
			}
		}
		next = json_get_str(page, "nextCursor");
		free(cursor);
		cursor = next != NULL && next[0] != '\0' ? xstrdup(next) :
		    NULL;
	} while (all && cursor != NULL);
	if (!js && cursor != NULL)
		printf("# more: --cursor %s (or --all)\n", cursor);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(seen[0]);
	free(seen[1]);
	free(url);
	free(cursor);
	buf_free(&q);
	json_decref(page);
	cli_admin_clear(&adm);
	return rv;
}

static int
device_simple(int argc, char **argv, const char *method, const char *suffix)
{
	static const struct option opts[] = {
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	char *url = NULL;
	int ch, rv = CLI_EXIT_USAGE;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		if (ch == 'h') {
			usage(stdout);
			return CLI_EXIT_OK;
		}
		if (!cli_admin_opt(&aa, ch, optarg))
			return cli_usage_err("unknown or incomplete option");
	}
	if (argc - optind != 1)
		return cli_usage_err("give the device ID (dev_..., from "
		    "'devid device list')");
	if (cli_admin_open(&aa, &adm) != DV_OK)
		return CLI_EXIT_FAIL;
	url = cli_admin_url(&adm, "devices", argv[optind], suffix, NULL);
	rv = call(&adm, method, url, NULL, 200, true, NULL);
	free(url);
	cli_admin_clear(&adm);
	return rv;
}

static int
device_patch(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "name", required_argument, NULL, 'N' },
		{ "owner", required_argument, NULL, 'o' },
		{ "os", required_argument, NULL, 's' },
		{ "kind", required_argument, NULL, 'k' },
		{ "status", required_argument, NULL, 'S' },
		{ "tag", required_argument, NULL, 't' },
		{ "no-tags", no_argument, NULL, 'T' },
		{ "add-identifier", required_argument, NULL, 'a' },
		{ "remove-identifier", required_argument, NULL, 'r' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	json_t *body = json_object(), *add = json_array(), *rm = json_array();
	json_t *tags = NULL;
	char *url = NULL;
	int ch, rv = CLI_EXIT_USAGE;
	bool ok = true;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'N': set_str(body, "name", optarg); break;
		case 'o': set_str(body, "owner", optarg); break;
		case 's': set_str(body, "os", optarg); break;
		case 'k': set_str(body, "kind", optarg); break;
		case 'S': set_str(body, "status", optarg); break;
		case 't':
			if (tags == NULL)
				tags = json_array();
			json_array_append_new(tags, json_string(optarg));
			break;
		case 'T':
			if (tags == NULL)
				tags = json_array();
			break;
		case 'a': ok = ok && ident_pair(add, "--add-identifier",
			    optarg); break;
		case 'r': ok = ok && ident_pair(rm, "--remove-identifier",
			    optarg); break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			if (!cli_admin_opt(&aa, ch, optarg)) {
				rv = cli_usage_err("unknown or incomplete "
				    "option");
				goto out;
			}
		}
	}
	if (!ok)
		goto out;
	if (argc - optind != 1) {
		rv = cli_usage_err("give the device ID to change");
		goto out;
	}
	if (tags != NULL)
		json_object_set(body, "tags", tags);
	if (json_array_size(add) > 0)
		json_object_set(body, "addIdentifiers", add);
	if (json_array_size(rm) > 0)
		json_object_set(body, "removeIdentifiers", rm);
	if (json_object_size(body) == 0) {
		rv = cli_usage_err("nothing to change: give --name, --owner, "
		    "--os, --kind, --status, --tag, --add-identifier or "
		    "--remove-identifier");
		goto out;
	}
	if (cli_admin_open(&aa, &adm) != DV_OK) {
		rv = CLI_EXIT_FAIL;
		goto out;
	}
	url = cli_admin_url(&adm, "devices", argv[optind], NULL, NULL);
	rv = call(&adm, "PATCH", url, body, 200, true, NULL);
out:
	free(url);
	cli_admin_clear(&adm);
	json_decref(tags);
	json_decref(add);
	json_decref(rm);
	json_decref(body);
	return rv;
}

/* The format of an import file from --format or its name. */
static const char *
import_ctype(const char *fmt, const char *path)
{
	const char *dot = strrchr(path, '.');

	if (fmt == NULL && dot != NULL) {
		if (strcmp(dot, ".csv") == 0)
			fmt = "csv";
		else if (strcmp(dot, ".jsonl") == 0 ||
		    strcmp(dot, ".ndjson") == 0)
			fmt = "jsonl";
	}
	if (fmt == NULL)
		return NULL;
	if (strcmp(fmt, "csv") == 0)
		return "text/csv";
	if (strcmp(fmt, "jsonl") == 0)
		return "application/x-ndjson";
	return NULL;
}

/*
 * The end of the next chunk of data[off..len): at most max bytes, cut after
 * a newline that is not inside a CSV quoted field (RFC 4180 §2.6), so no
 * row is split.  A single row longer than max is sent whole (the server
 * rejects it).
 */
static size_t
chunk_end(const uint8_t *data, size_t len, size_t off, size_t max,
    bool csv)
{
	size_t i, cut = 0;
	bool quoted = false;

	for (i = off; i < len; i++) {
		if (csv && data[i] == '"')
			quoted = !quoted;
		else if (data[i] == '\n' && !quoted) {
			if (i + 1 - off > max && cut != 0)
				return cut;
			cut = i + 1;
		}
	}
	if (len - off > max && cut != 0)
		return cut;
	return len;
}

/* Adds the counts of one chunk's report to the total and its rows,
 * renumbered after the rows of the chunks before it. */
static void
report_merge(json_t *total, const json_t *part, json_int_t *offset)
{
	static const char *const keys[] = { "created", "updated", "unchanged",
	    "rejected" };
	json_t *rows = json_object_get(total, "rows"), *row;
	json_int_t n = 0;
	size_t i;

	for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++) {
		json_int_t v = json_integer_value(json_object_get(part,
		    keys[i]));

		n += v;
		json_object_set_new(total, keys[i], json_integer(v +
		    json_integer_value(json_object_get(total, keys[i]))));
	}
	json_array_foreach(json_object_get(part, "rows"), i, row) {
		json_t *r = json_deep_copy(row);

		json_object_set_new(r, "row", json_integer(*offset +
		    json_integer_value(json_object_get(row, "row"))));
		json_array_append_new(rows, r);
	}
	*offset += n;
}

static int
device_import(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "format", required_argument, NULL, 'f' },
		{ "chunk-bytes", required_argument, NULL, 'c' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "json", no_argument, NULL, 'j' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	struct cli_req req;
	struct buf q = { 0 };
	json_t *rep = NULL, *row;
	const char *fmt = NULL, *ctype;
	uint8_t *data = NULL;
	char *url = NULL;
	size_t len, i;
	json_int_t rejected, offset = 0;
	long long chunk = CLI_IMPORT_CHUNK;
	size_t off, end, hdrlen = 0;
	struct buf body = { 0 };
	bool verbose = false, js = false, csv;
	int ch, rv = CLI_EXIT_USAGE;
	enum dv_rc rc;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'f': fmt = optarg; break;
		case 'c':
			if (num_parse(optarg, 1024, DV_MAX_IMPORT_CEILING,
			    &chunk) != DV_OK)
				return cli_usage_err("--chunk-bytes takes a "
				    "number of bytes from 1024 up");
			break;
		case 'v': verbose = true; break;
		case 'j': js = true; break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			if (!cli_admin_opt(&aa, ch, optarg))
				return cli_usage_err("unknown or incomplete "
				    "option");
		}
	}
	if (argc - optind != 1)
		return cli_usage_err("give the FILE to import (.csv or .jsonl)");
	if ((ctype = import_ctype(fmt, argv[optind])) == NULL)
		return cli_usage_err("give --format csv or --format jsonl (the "
		    "file name does not end in .csv, .jsonl or .ndjson)");
	if (!file_exists(argv[optind])) {
		cli_err("import file '%s' does not exist", argv[optind]);
		return CLI_EXIT_FAIL;
	}
	rv = CLI_EXIT_FAIL;
	if ((rc = file_read(argv[optind], CLI_MAX_IMPORT, &data, &len)) !=
	    DV_OK) {
		cli_err_rc(rc, "cannot read import file '%s' (at most %d "
		    "bytes; split larger inventories)", argv[optind],
		    CLI_MAX_IMPORT);
		goto out;
	}
	if (cli_admin_open(&aa, &adm) != DV_OK)
		goto out;
	if (verbose)
		cli_query_add(&q, "verbose", "true");
	url = cli_admin_url(&adm, "devices", NULL, ":import", &q);
	/*
	 * Uploaded in chunks below the server's maxImportBytes, each cut at a
	 * row boundary; a CSV chunk repeats the header row.  Rows are
	 * upserts, so a chunk that fails can simply be imported again.
	 */
	csv = strcmp(ctype, "text/csv") == 0;
	if (csv)
		hdrlen = chunk_end(data, len, 0, 1, true);
	rep = json_pack("{s:i,s:i,s:i,s:i,s:[]}", "created", 0, "updated", 0,
	    "unchanged", 0, "rejected", 0, "rows");
	off = hdrlen;
	do {
		json_t *part = NULL;

		end = chunk_end(data, len, off, (size_t)chunk, csv);
		body.len = 0;
		buf_append(&body, data, hdrlen);
		buf_append(&body, data + off, end - off);
		cli_admin_req(&adm, "POST", url, &req);
		req.raw = body.data;
		req.rawlen = body.len;
		req.ctype = ctype;
		if (cli_api_json(&req, 200, &part) != DV_OK) {
			if (off > hdrlen)
				cli_err("the rows before byte %zu of '%s' were "
				    "imported; importing the file again is "
				    "safe (rows are upserts)", off,
				    argv[optind]);
			goto out;
		}
		report_merge(rep, part, &offset);
		json_decref(part);
		off = end;
	} while (off < len);
	if (js) {
		if (!cli_print_json(rep))
			goto out;
	} else {
		printf("created %lld, updated %lld, unchanged %lld, rejected "
		    "%lld\n",
		    (long long)json_integer_value(json_object_get(rep,
		    "created")),
		    (long long)json_integer_value(json_object_get(rep,
		    "updated")),
		    (long long)json_integer_value(json_object_get(rep,
		    "unchanged")),
		    (long long)json_integer_value(json_object_get(rep,
		    "rejected")));
		json_array_foreach(json_object_get(rep, "rows"), i, row) {
			const char *res = json_get_str(row, "result");
			const char *err = json_get_str(row, "error");
			const char *id = json_get_str(row, "id");

			printf("row %lld: %s%s%s%s%s\n",
			    (long long)json_integer_value(json_object_get(row,
			    "row")), res ? res : "?", id ? " " : "",
			    id ? id : "", err ? ": " : "", err ? err : "");
		}
		if (fflush(stdout) != 0)
			goto out;
	}
	rejected = json_integer_value(json_object_get(rep, "rejected"));
	if (rejected > 0) {
		cli_err("%lld rows of '%s' were rejected (see above); fix them "
		    "and import the file again (rows already imported are "
		    "left unchanged)", (long long)rejected, argv[optind]);
		goto out;
	}
	rv = CLI_EXIT_OK;
out:
	free(url);
	free(data);
	buf_free(&body);
	buf_free(&q);
	json_decref(rep);
	cli_admin_clear(&adm);
	return rv;
}

int
cmd_device(int argc, char **argv)
{
	static const struct {
		const char	*name;
		const char	*cmd;
	} subs[] = {
		{ "add", "device add" }, { "list", "device list" },
		{ "get", "device get" }, { "patch", "device patch" },
		{ "retire", "device retire" }, { "import", "device import" },
	};
	size_t i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(subs) / sizeof(subs[0]); i++)
		if (strcmp(argv[1], subs[i].name) == 0)
			break;
	if (i == sizeof(subs) / sizeof(subs[0]))
		return cli_usage_err("unknown subcommand '%s' (add, list, get, "
		    "patch, retire, import)", argv[1]);
	cli_cmd = subs[i].cmd;
	argc--;
	argv++;
	switch (i) {
	case 0:
		return device_add(argc, argv);
	case 1:
		return device_list(argc, argv);
	case 2:
		return device_simple(argc, argv, "GET", NULL);
	case 3:
		return device_patch(argc, argv);
	case 4:
		return device_simple(argc, argv, "POST", ":retire");
	default:
		return device_import(argc, argv);
	}
}
