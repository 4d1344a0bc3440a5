/*
 * cmd_collection.c - `devid collection create|list|get|delete`: Device
 * Collections of a team through the admin API (docs/api.md "Admin API").
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
"usage: devid collection create NAME [--kind KIND] [--os OS]\n"
"           [--source SOURCE] [--member DEVICE-ID]...\n"
"           [--rule tag|os|source|ownerDomain=VALUE]...\n"
"       devid collection list\n"
"       devid collection get NAME\n"
"       devid collection delete NAME\n"
"\n"
"A Device Collection groups devices of one type (kind, OS, source): its\n"
"static --member devices plus every device of that type that matches any\n"
"--rule.  Accounts are granted to collections.  Answers are printed as\n"
"JSON.\n"
"\n"
"Every command takes:\n"
CLI_ADMIN_HELP
"  --help              this text\n");
}

/* Appends {key: value} of "key=value" to rules; false after reporting. */
static bool
rule_add(json_t *rules, const char *arg)
{
	static const char *const keys[] = { "tag", "os", "source",
	    "ownerDomain" };
	const char *eq = strchr(arg, '=');
	size_t i, n;

	n = eq != NULL ? (size_t)(eq - arg) : 0;
	for (i = 0; eq != NULL && eq[1] != '\0' &&
	    i < sizeof(keys) / sizeof(keys[0]); i++)
		if (strlen(keys[i]) == n && strncmp(arg, keys[i], n) == 0) {
			json_array_append_new(rules, json_pack("{s:s}",
			    keys[i], eq + 1));
			return true;
		}
	cli_usage_err("--rule '%s' must be tag=VALUE, os=VALUE, "
	    "source=VALUE or ownerDomain=VALUE", arg);
	return false;
}

int
cmd_collection(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "kind", required_argument, NULL, 'k' },
		{ "os", required_argument, NULL, 'o' },
		{ "source", required_argument, NULL, 's' },
		{ "member", required_argument, NULL, 'm' },
		{ "rule", required_argument, NULL, 'r' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	static const struct {
		const char	*name;
		const char	*cmd;
		int		 nargs;
	} subs[] = {
		{ "create", "collection create", 1 },
		{ "list", "collection list", 0 },
		{ "get", "collection get", 1 },
		{ "delete", "collection delete", 1 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	struct cli_req req;
	json_t *body = json_object(), *members = json_array();
	json_t *rules = json_array(), *out = NULL;
	const char *kind = NULL, *os = NULL, *source = NULL;
	char *url = NULL;
	size_t s;
	int ch, rv = CLI_EXIT_USAGE;
	bool ok = true;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		rv = argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
		goto out;
	}
	for (s = 0; s < sizeof(subs) / sizeof(subs[0]); s++)
		if (strcmp(argv[1], subs[s].name) == 0)
			break;
	if (s == sizeof(subs) / sizeof(subs[0])) {
		rv = cli_usage_err("unknown subcommand '%s' (create, list, get, "
		    "delete)", argv[1]);
		goto out;
	}
	cli_cmd = subs[s].cmd;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'k': kind = optarg; break;
		case 'o': os = optarg; break;
		case 's': source = optarg; break;
		case 'm':
			json_array_append_new(members, json_string(optarg));
			break;
		case 'r': ok = ok && rule_add(rules, optarg); break;
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
	if (argc - optind != subs[s].nargs) {
		rv = cli_usage_err(subs[s].nargs ? "give the collection NAME" :
		    "list takes no arguments");
		goto out;
	}
	if (s != 0 && (kind || os || source || json_array_size(members) ||
	    json_array_size(rules))) {
		rv = cli_usage_err("--kind, --os, --source, --member and --rule "
		    "are options of 'collection create'");
		goto out;
	}
	if (cli_admin_open(&aa, &adm) != DV_OK) {
		rv = CLI_EXIT_FAIL;
		goto out;
	}
	rv = CLI_EXIT_FAIL;
	url = cli_admin_url(&adm, "collections", s == 0 || s == 1 ? NULL :
	    argv[optind], NULL, NULL);
	cli_admin_req(&adm, s == 0 ? "POST" : s == 3 ? "DELETE" : "GET", url,
	    &req);
	if (s == 0) {
		json_object_set_new(body, "name", json_string(argv[optind]));
		if (kind != NULL)
			json_object_set_new(body, "kind", json_string(kind));
		if (os != NULL)
			json_object_set_new(body, "os", json_string(os));
		if (source != NULL)
			json_object_set_new(body, "source",
			    json_string(source));
		if (json_array_size(members) > 0)
			json_object_set(body, "members", members);
		if (json_array_size(rules) > 0)
			json_object_set(body, "rules", rules);
		req.body = body;
	}
	if (cli_api_json(&req, s == 0 ? 201 : s == 3 ? 204 : 200, &out) !=
	    DV_OK)
		goto out;
	if (s == 3)
		printf("deleted: %s\n", argv[optind]);
	else if (!cli_print_json(out))
		goto out;
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(url);
	cli_admin_clear(&adm);
	json_decref(out);
	json_decref(rules);
	json_decref(members);
	json_decref(body);
	return rv;
}
