/*
 * cmd_revoke.c - `devid revoke`: POST /1.0/revoke (spec/provisioners.md
 * §1.7) with a revocation token of a JWK provisioner, or by mTLS with the
 * certificate being revoked.
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
"usage: devid revoke SERIAL --ca-url URL --root ROOTPEM\n"
"           (--token TOKEN | --key PROVFILE | --cert CRT --key KEY)\n"
"           [--reason-code N] [--reason TEXT]\n"
"\n"
"Revokes the certificate with SERIAL (decimal, or hex with 0x): POST\n"
"URL/1.0/revoke.  A provisioner authorizes it with a token (--token, or\n"
"--key to mint one), or the certificate's holder revokes it over mTLS with\n"
"--cert and --key (SERIAL may then be omitted).\n"
"\n"
"  --ca-url URL        the authority: https://HOST:PORT/t/TEAM/AUTHORITY\n"
"  --root FILE         root certificate(s) of the CA's TLS certificate\n"
"  --token TOKEN       a revocation token ('devid token --revoke SERIAL')\n"
"  --key FILE          without --cert: DIR/admin/provisioner.json or a\n"
"                      private JWK to mint the token; with --cert: the\n"
"                      certificate's private key\n"
"  --provisioner NAME  provisioner name (default from --key)\n"
"  --kid KID           provisioner key id (default from --key)\n"
"  --cert FILE         revoke this certificate with its own key (mTLS)\n"
"  --reason-code N     RFC 5280 CRLReason, 0..10 (default 0, unspecified)\n"
"  --reason TEXT       free-text reason\n"
"  --help              this text\n");
}

int
cmd_revoke(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-url", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ "token", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "provisioner", required_argument, NULL, 'p' },
		{ "kid", required_argument, NULL, 'i' },
		{ "cert", required_argument, NULL, 'c' },
		{ "reason-code", required_argument, NULL, 'C' },
		{ "reason", required_argument, NULL, 'r' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url_arg = NULL, *root = NULL, *token = NULL, *key = NULL;
	const char *prov = NULL, *kid = NULL, *cert = NULL, *reason = "";
	const char *code_arg = NULL;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *k = NULL;
	struct cli_claims c;
	struct cli_req req;
	json_t *body = NULL, *resp = NULL;
	char *url = NULL, *serial = NULL, *cserial = NULL, *aud = NULL;
	char *tok = NULL, *endpoint = NULL;
	long long code = 0;
	int ch, rv = CLI_EXIT_USAGE;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url_arg = optarg; break;
		case 'R': root = optarg; break;
		case 't': token = optarg; break;
		case 'k': key = optarg; break;
		case 'p': prov = optarg; break;
		case 'i': kid = optarg; break;
		case 'c': cert = optarg; break;
		case 'C': code_arg = optarg; break;
		case 'r': reason = optarg; break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			rv = cli_usage_err("unknown or incomplete option");
			goto out;
		}
	}
	argc -= optind;
	argv += optind;
	if (argc > 1 || (argc == 0 && cert == NULL)) {
		rv = cli_usage_err("give the SERIAL of the certificate to "
		    "revoke (or --cert CRT --key KEY)");
		goto out;
	}
	if ((url = cli_ca_url(url_arg)) == NULL)
		goto out;
	if (root == NULL) {
		rv = cli_usage_err("--root ROOTPEM is required to verify the "
		    "CA (e.g. DIR/certs/account-root.crt)");
		goto out;
	}
	if (cert != NULL ? (token != NULL || key == NULL) :
	    ((token != NULL) == (key != NULL))) {
		rv = cli_usage_err("give --token TOKEN, or --key PROVFILE, or "
		    "--cert CRT with --key KEY");
		goto out;
	}
	if (code_arg != NULL && num_parse(code_arg, 0, 10, &code) != DV_OK) {
		rv = cli_usage_err("--reason-code '%s' must be a number 0..10 "
		    "(RFC 5280 CRLReason)", code_arg);
		goto out;
	}
	if (argc == 1 && pki_serial_normalise(argv[0], &serial) != DV_OK) {
		rv = cli_usage_err("'%s' is not a serial number (decimal, or "
		    "hex with 0x)", argv[0]);
		goto out;
	}

	rv = CLI_EXIT_FAIL;
	memset(&req, 0, sizeof(req));
	if (cert != NULL) {
		if (cli_certs_read("certificate", cert, &chain) != DV_OK ||
		    cli_key_read("key", key, &k) != DV_OK)
			goto out;
		if (!cli_cert_matches_key(sk_X509_value(chain, 0), k)) {
			cli_err("'%s' is not the private key of the first "
			    "certificate in '%s'", key, cert);
			goto out;
		}
		cserial = pki_cert_serial_dec(sk_X509_value(chain, 0));
		if (serial == NULL)
			serial = xstrdup(cserial);
		else if (strcmp(serial, cserial) != 0) {
			cli_err("SERIAL %s is not the serial of '%s' (%s); "
			    "over mTLS a certificate can revoke only itself",
			    serial, cert, cserial);
			goto out;
		}
		req.cert = cert;
		req.key = key;
		token = "";
	} else if (key != NULL) {
		aud = xasprintf("%s/1.0/revoke", url);
		c.sub = serial;
		c.aud = aud;
		c.iat = c.nbf = dv_now();
		c.exp = c.nbf + CLI_TOKEN_LIFETIME;
		if (cli_token_from_file(key, prov, kid, &c, &tok) != DV_OK)
			goto out;
		token = tok;
	}
	body = json_pack("{s:s,s:s,s:I,s:s,s:b}", "serial", serial,
	    "ott", token, "reasonCode", (json_int_t)code, "reason", reason,
	    "passive", 1);
	if (body == NULL) {
		cli_err("cannot encode the request (is --reason UTF-8?)");
		goto out;
	}
	endpoint = xasprintf("%s/1.0/revoke", url);
	req.method = "POST";
	req.url = endpoint;
	req.cafile = root;
	req.body = body;
	req.hint401 = "check the token (or, over mTLS, that the certificate "
	    "is valid and was issued by this authority)";
	if (cli_api_json(&req, 200, &resp) != DV_OK)
		goto out;
	printf("revoked: %s\n", serial);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
	free(endpoint);
	free(aud);
	free(cserial);
	free(serial);
	free(url);
	json_decref(resp);
	json_decref(body);
	pki_key_free(k);
	pki_certs_free(chain);
	return rv;
}
