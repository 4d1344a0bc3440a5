/*
 * cmd_audit.c - `devid audit verify|export`: the hash-chained audit log
 * through the admin API (docs/api.md "Admin API").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid audit verify [--json]\n"
"       devid audit export [--out FILE]\n"
"\n"
"verify asks the server to recompute the audit log's hash chain and says\n"
"whether a row was changed, deleted or reordered (exit 1 if so).  export\n"
"writes every audit event of the team as JSON lines, oldest first, to\n"
"FILE (0600) or stdout.\n"
"\n"
"Every command takes:\n"
CLI_ADMIN_HELP
"  --help              this text\n");
}

static int
audit_verify(const struct cli_admin *adm, bool js)
{
	struct cli_req req;
	json_t *out = NULL;
	char *url = cli_admin_url(adm, "audit:verify", NULL, NULL, NULL);
	int rv = CLI_EXIT_FAIL;

	cli_admin_req(adm, "GET", url, &req);
	if (cli_api_json(&req, 200, &out) != DV_OK)
		goto out;
	if (js && !cli_print_json(out))
		goto out;
	if (json_is_true(json_object_get(out, "ok"))) {
		if (!js)
			printf("audit log intact: %lld rows\n", (long long)
			    json_integer_value(json_object_get(out, "rows")));
		rv = CLI_EXIT_OK;
	} else {
		const json_t *bad = json_object_get(out, "firstBad");
		const char *why = json_get_str(out, "reason");

		cli_err("the audit log does not verify: first bad row %lld "
		    "(%s); restore the database from a backup and compare",
		    json_is_integer(bad) ? (long long)json_integer_value(bad) :
		    -1LL, why != NULL ? why : "no reason given");
	}
	if (fflush(stdout) != 0)
		rv = CLI_EXIT_FAIL;
out:
	free(url);
	json_decref(out);
	return rv;
}

static int
audit_export(const struct cli_admin *adm, const char *path)
{
	struct cli_req req;
	struct buf q = { 0 }, lines = { 0 };
	json_t *page = NULL, *e;
	char *url = NULL, *cursor = NULL, *line;
	size_t i, n = 0;
	int rv = CLI_EXIT_FAIL;

	do {
		const char *next;

		buf_free(&q);
		cli_query_add(&q, "limit", "100");
		cli_query_add(&q, "cursor", cursor);
		free(url);
		url = cli_admin_url(adm, "audit", NULL, NULL, &q);
		json_decref(page);
		page = NULL;
		cli_admin_req(adm, "GET", url, &req);
		if (cli_api_json(&req, 200, &page) != DV_OK)
			goto out;
		json_array_foreach(json_object_get(page, "events"), i, e) {
			if ((line = json_dumps(e, JSON_COMPACT)) == NULL)
				goto out;
			if (path == NULL) {
				if (puts(line) == EOF) {
					free(line);
					goto out;
				}
			} else {
				buf_append(&lines, line, strlen(line));
				buf_append(&lines, "\n", 1);
			}
			free(line);
			n++;
		}
		next = json_get_str(page, "nextCursor");
		free(cursor);
		cursor = next != NULL && next[0] != '\0' ? xstrdup(next) :
		    NULL;
	} while (cursor != NULL);
	if (path != NULL) {
		if (cli_file_write("audit export", path, lines.data ?
		    (const char *)lines.data : "", lines.len, 0600) != DV_OK)
			goto out;
		fprintf(stderr, "devid audit export: %zu events written to "
		    "%s\n", n, path);
	}
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(url);
	free(cursor);
	buf_free(&q);
	buf_free(&lines);
	json_decref(page);
	return rv;
}

int
cmd_audit(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "out", required_argument, NULL, 'o' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	const char *out = NULL;
	bool js = false, verify;
	int ch, rv;

	memset(&aa, 0, sizeof(aa));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") == 0) {
		verify = true;
		cli_cmd = "audit verify";
	} else if (strcmp(argv[1], "export") == 0) {
		verify = false;
		cli_cmd = "audit export";
	} else
		return cli_usage_err("unknown subcommand '%s' (verify, export)",
		    argv[1]);
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': js = true; break;
		case 'o': out = optarg; break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			if (!cli_admin_opt(&aa, ch, optarg))
				return cli_usage_err("unknown or incomplete "
				    "option");
		}
	}
	if (argc != optind)
		return cli_usage_err("no arguments expected");
	if ((verify && out != NULL) || (!verify && js))
		return cli_usage_err("--json goes with verify, --out with "
		    "export");
	if (cli_admin_open(&aa, &adm) != DV_OK)
		return CLI_EXIT_FAIL;
	rv = verify ? audit_verify(&adm, js) : audit_export(&adm, out);
	cli_admin_clear(&adm);
	return rv;
}
