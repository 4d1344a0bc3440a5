/*
 * cmd_acmeeab.c - `devid acme-eab create|list|delete`: external account
 * binding keys of a team's ACME provisioners (RFC 8555 §7.3.4; admin
 * role to create and delete; docs/api.md "ACME external account binding").
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
"usage: devid acme-eab create PROVISIONER [--authority NAME]\n"
"           [--reference TEXT]\n"
"       devid acme-eab list [--provisioner NAME] [--authority NAME]\n"
"       devid acme-eab delete ID\n"
"\n"
"External account binding keys of the team's ACME provisioners.  create\n"
"prints the key id and the HMAC key (base64url) once, as JSON: give them\n"
"to the ACME client (lego --eab --kid ID --hmac KEY; certbot --eab-kid ID\n"
"--eab-hmac-key KEY).  A key binds to the first account registered with\n"
"it and to no other.  delete refuses the key id from then on (an account\n"
"it bound stays).\n"
"\n"
"  --authority NAME    attestation, agent (default) or account\n"
"  --reference TEXT    a label kept with the key (who it is for)\n"
"  --provisioner NAME  list: the keys of this provisioner only\n"
"Every command takes:\n"
CLI_ADMIN_HELP
"  --help              this text\n");
}

int
cmd_acmeeab(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "authority", required_argument, NULL, 'a' },
		{ "reference", required_argument, NULL, 'R' },
		{ "provisioner", required_argument, NULL, 'p' },
		CLI_ADMIN_OPTIONS,
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct cli_admin_args aa;
	struct cli_admin adm;
	struct cli_req req;
	struct buf query = { 0 };
	json_t *body = NULL, *out = NULL;
	const char *authority = NULL, *ref = NULL, *prov = NULL, *hmac;
	char *url = NULL;
	int ch, sub, rv = CLI_EXIT_USAGE;

	memset(&aa, 0, sizeof(aa));
	memset(&adm, 0, sizeof(adm));
	if ((ch = cli_subcommand(argc, argv, "acme-eab", (const char *const[])
	    { "create", "list", "delete" }, usage, &sub)) != -1)
		return ch;
	argc--;
	argv++;
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'a': authority = optarg; break;
		case 'R': ref = optarg; break;
		case 'p': prov = optarg; break;
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
		return cli_usage_err(sub == 0 ? "give the ACME PROVISIONER's "
		    "name" : sub == 2 ? "give the key ID (from 'devid acme-eab "
		    "list')" : "list takes no arguments");
	if ((sub != 0 && ref != NULL) || (sub != 1 && prov != NULL) ||
	    (sub == 2 && authority != NULL))
		return cli_usage_err("--reference is an option of create, "
		    "--provisioner of list, --authority of both");
	if (cli_admin_open(&aa, &adm) != DV_OK)
		return CLI_EXIT_FAIL;
	rv = CLI_EXIT_FAIL;
	if (sub == 1) {
		cli_query_add(&query, "provisioner", prov);
		cli_query_add(&query, "authority", authority);
	}
	url = cli_admin_url(&adm, "acme-eab-keys", sub == 2 ? argv[optind] :
	    NULL, NULL, &query);
	cli_admin_req(&adm, sub == 0 ? "POST" : sub == 1 ? "GET" : "DELETE",
	    url, &req);
	req.hint403 = "an admin token of the team manages these keys";
	if (sub == 0) {
		body = json_pack("{s:s}", "provisioner", argv[optind]);
		if (authority != NULL)
			json_object_set_new(body, "authority",
			    json_string(authority));
		if (ref != NULL)
			json_object_set_new(body, "reference",
			    json_string(ref));
		req.body = body;
	}
	if (cli_api_json(&req, sub == 0 ? 201 : sub == 1 ? 200 : 204, &out) !=
	    DV_OK)
		goto out;
	if (sub == 2)
		printf("deleted: %s\n", argv[optind]);
	else if (!cli_print_json(out))
		goto out;
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (out != NULL && (hmac = json_get_str(out, "hmacKey")) != NULL)
		OPENSSL_cleanse((char *)hmac, strlen(hmac));
	buf_free(&query);
	free(url);
	json_decref(out);
	json_decref(body);
	cli_admin_clear(&adm);
	return rv;
}
