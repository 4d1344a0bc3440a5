/*
 * cmd_admintoken.c - `devid admin-token create|list|revoke`: admin API
 * tokens of a team (owner role; docs/api.md "Admin API").
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid admin-token create NAME --role viewer|mdm-sync|admin|owner\n"
"           [--expires-in DURATION] [--out FILE]\n"
"       devid admin-token list\n"
"       devid admin-token revoke ID\n"
"\n"
"Admin API tokens of a team; only an owner token may manage them.  create\n"
"prints the secret once (the server keeps only its hash): with --out it\n"
"is written to FILE (0600) and its metadata printed instead.  Roles:\n"
"viewer reads devices, collections and the audit log; mdm-sync also\n"
"imports; admin also adds, changes and retires devices and collections;\n"
"owner also manages tokens.\n"
"\n"
"  --role ROLE         the token's role\n"
"  --expires-in DUR    lifetime (720h; default: the server's)\n"
"  --out FILE          write the secret to FILE instead of stdout\n"
"Every command takes:\n"
CLI_ADMIN_HELP
"  --help              this text\n");
}

int
cmd_admintoken(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "role", required_argument, NULL, 'r' },
		{ "expires-in", required_argument, NULL, 'e' },
		{ "out", required_argument, NULL, 'o' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	struct cli_req req;
	json_t *body = NULL, *out = NULL;
	const char *role = NULL, *exp = NULL, *path = NULL, *secret;
	char *url = NULL, *line = NULL;
	int64_t d;
	int ch, sub, rv = CLI_EXIT_USAGE;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	if ((ch = cli_subcommand(argc, argv, "admin-token",
	    (const char *const[]){ "create", "list", "revoke" }, usage,
	    &sub)) != -1)
		return ch;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'r': role = optarg; break;
		case 'e': exp = optarg; break;
		case 'o': path = optarg; break;
		case 'h':
			usage(stdout);
			return CLI_EXIT_OK;
		default:
			if (!cli_admin_opt(&aa, ch, optarg))
				return cli_usage_err("unknown or incomplete "
				    "option");
		}
	}
	if (argc - optind != (sub == 1 ? 0 : 1))
		return cli_usage_err(sub == 0 ? "give the token's NAME (what "
		    "it is for)" : sub == 2 ? "give the token ID (from "
		    "'devid admin-token list')" : "list takes no arguments");
	if (sub != 0 && (role || exp || path))
		return cli_usage_err("--role, --expires-in and --out are "
		    "options of 'admin-token create'");
	if (sub == 0 && role == NULL)
		return cli_usage_err("give --role viewer, mdm-sync, admin or "
		    "owner");
	if (exp != NULL && !cli_dur_arg("--expires-in", exp, &d))
		return CLI_EXIT_USAGE;
	if (path != NULL && !cli_may_write(path, false))
		return CLI_EXIT_FAIL;
	if (cli_admin_open(&aa, &adm) != DV_OK)
		return CLI_EXIT_FAIL;
	rv = CLI_EXIT_FAIL;
	url = cli_admin_url(&adm, "tokens", sub == 2 ? argv[optind] : NULL,
	    NULL, NULL);
	cli_admin_req(&adm, sub == 0 ? "POST" : sub == 1 ? "GET" : "DELETE",
	    url, &req);
	req.hint403 = "only an owner token of the team manages tokens";
	if (sub == 0) {
		body = json_pack("{s:s,s:s}", "name", argv[optind], "role",
		    role);
		if (exp != NULL)
			json_object_set_new(body, "expiresIn",
			    json_string(exp));
		req.body = body;
	}
	if (cli_api_json(&req, sub == 0 ? 201 : sub == 1 ? 200 : 204, &out) !=
	    DV_OK)
		goto out;
	if (sub == 2)
		printf("revoked: %s\n", argv[optind]);
	else if (sub == 1 || path != NULL) {
		if (sub == 0) {
			secret = json_get_str(out, "token");
			if (secret == NULL) {
				cli_err("the server's answer holds no token");
				goto out;
			}
			line = xasprintf("%s\n", secret);
			if (cli_file_write("token", path, line, strlen(line),
			    0600) != DV_OK)
				goto out;
			json_object_del(out, "token");
		}
		if (!cli_print_json(out))
			goto out;
	} else {
		if ((secret = json_get_str(out, "token")) == NULL) {
			cli_err("the server's answer holds no token");
			goto out;
		}
		printf("%s\n", secret);
	}
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (line != NULL)
		OPENSSL_cleanse(line, strlen(line));
	free(line);
	free(url);
	json_decref(out);
	json_decref(body);
	cli_admin_clear(&adm);
	return rv;
}
