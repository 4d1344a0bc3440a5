/*
 * cmd_renew.c - `devid renew`: POST /1.0/renew (spec/provisioners.md §1.5)
 * authenticated by mTLS with the certificate itself, or by an x5cInsecure
 * bearer token (works after expiry when the provisioner allows it).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

/* The issuer step's renewer puts in x5cInsecure tokens. */
#define RENEW_ISSUER	"step-ca-client/1.0"

/* The x5cInsecure token of spec §1.5 (no jti, as step). */
static enum dv_rc
renew_token(const char *url, EVP_PKEY *key, STACK_OF(X509) *chain,
    char **out)
{
	json_t *claims;
	char *aud, *cn;
	time_t now = dv_now();
	enum dv_rc rc;

	*out = NULL;
	cn = pki_cert_cn(sk_X509_value(chain, 0));
	aud = xasprintf("%s/1.0/renew", url);
	claims = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I}", "iss", RENEW_ISSUER,
	    "sub", cn != NULL ? cn : "", "aud", aud,
	    "nbf", (json_int_t)now, "iat", (json_int_t)now,
	    "exp", (json_int_t)(now + CLI_TOKEN_LIFETIME));
	if (claims == NULL) {
		cli_err("cannot build the renewal token (is the certificate's "
		    "CN UTF-8?)");
		rc = DV_ERR_MALFORMED;
	} else
		rc = cli_token_x5c(key, chain, "x5cInsecure", claims, out);
	json_decref(claims);
	free(aud);
	free(cn);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid renew CRT KEY --ca-url URL --root ROOTPEM [options]\n"
"\n"
"Renews the certificate in CRT (chain, leaf first) whose key is KEY: POST\n"
"URL/1.0/renew authenticated by TLS client authentication with CRT and KEY,\n"
"or with --token-auth by an x5cInsecure token signed with KEY (this works\n"
"for an expired certificate when the CA allows renewal after expiry).\n"
"The renewed chain replaces CRT unless --out is given.\n"
"\n"
"  --ca-url URL    the authority, e.g. https://HOST:PORT/t/default/account\n"
"  --root FILE     root certificate(s) of the CA's TLS certificate\n"
"  --out FILE      write the renewed chain here instead of CRT\n"
"  --token-auth    authenticate with Authorization: Bearer <x5cInsecure>\n"
"  --force         overwrite --out if it exists\n"
"  --help          this text\n");
}

int
cmd_renew(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-url", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ "out", required_argument, NULL, 'o' },
		{ "token-auth", no_argument, NULL, 't' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url_arg = NULL, *root = NULL, *outp = NULL;
	const char *crt_path, *key_path;
	STACK_OF(X509) *chain = NULL;
	EVP_PKEY *k = NULL;
	struct cli_req req;
	json_t *resp = NULL;
	char *url = NULL, *endpoint = NULL, *tok = NULL, *pem = NULL;
	char *serial = NULL, *old = NULL;
	bool token_auth = false, force = false;
	char when[32];
	int ch, rv = CLI_EXIT_USAGE;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url_arg = optarg; break;
		case 'R': root = optarg; break;
		case 'o': outp = optarg; break;
		case 't': token_auth = true; break;
		case 'f': force = true; break;
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
	if (argc != 2) {
		rv = cli_usage_err("give CRT KEY (the certificate to renew "
		    "and its private key)");
		goto out;
	}
	crt_path = argv[0];
	key_path = argv[1];
	if ((url = cli_ca_url(url_arg)) == NULL)
		goto out;
	if (root == NULL) {
		rv = cli_usage_err("--root ROOTPEM is required to verify the "
		    "CA (e.g. DIR/certs/account-root.crt)");
		goto out;
	}
	rv = CLI_EXIT_FAIL;
	if (outp == NULL)
		outp = crt_path;
	else if (strcmp(outp, crt_path) != 0 && !cli_may_write(outp, force))
		goto out;
	if (cli_certs_read("certificate", crt_path, &chain) != DV_OK ||
	    cli_key_read("key", key_path, &k) != DV_OK)
		goto out;
	if (!cli_cert_matches_key(sk_X509_value(chain, 0), k)) {
		cli_err("'%s' is not the private key of the first certificate "
		    "in '%s'", key_path, crt_path);
		goto out;
	}
	if (!token_auth && pki_cert_not_after(sk_X509_value(chain, 0)) <
	    dv_now()) {
		time_format_rfc3339(pki_cert_not_after(sk_X509_value(chain,
		    0)), when, sizeof(when));
		cli_err("'%s' expired at %s, so it cannot authenticate a TLS "
		    "connection; use --token-auth (the CA must allow renewal "
		    "after expiry)", crt_path, when);
		goto out;
	}

	memset(&req, 0, sizeof(req));
	endpoint = xasprintf("%s/1.0/renew", url);
	req.method = "POST";
	req.url = endpoint;
	req.cafile = root;
	if (token_auth) {
		if (renew_token(url, k, chain, &tok) != DV_OK)
			goto out;
		req.bearer = tok;
	} else {
		req.cert = crt_path;
		req.key = key_path;
	}
	req.hint401 = "the certificate may be revoked, expired, or not "
	    "issued by this authority";
	if (cli_api_json(&req, 201, &resp) != DV_OK)
		goto out;
	if (cli_sign_response(resp, k, &pem, &serial) != DV_OK)
		goto out;
	old = pki_cert_serial_dec(sk_X509_value(chain, 0));
	if (old != NULL && strcmp(old, serial) == 0) {
		cli_err("the CA returned the same certificate (serial %s); "
		    "not saving it", serial);
		goto out;
	}
	if (cli_file_write("the renewed certificate", outp, pem, strlen(pem),
	    0644) != DV_OK)
		goto out;
	printf("certificate: %s\nserial: %s\n", outp, serial);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
	free(old);
	free(serial);
	free(pem);
	free(endpoint);
	free(url);
	json_decref(resp);
	pki_key_free(k);
	pki_certs_free(chain);
	return rv;
}
