/*
 * cmd_roots.c - `devid roots`: GET /roots.pem (spec/provisioners.md §1.3).
 * With --fingerprint it bootstraps trust as `step ca bootstrap` does: the
 * download is not verified, and only the root whose SHA-256 matches the
 * fingerprint the user got out of band is printed.
 */
#include <ctype.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* A SHA-256 fingerprint given as hex, maybe with ':' or '-' separators,
 * to lower-case hex (new); NULL if it is not 64 hex digits. */
static char *
fingerprint_norm(const char *s)
{
	char *o = xmalloc(strlen(s) + 1);
	size_t n = 0;

	for (; *s != '\0'; s++) {
		if (*s == ':' || *s == '-')
			continue;
		if (!isxdigit((unsigned char)*s)) {
			free(o);
			return NULL;
		}
		o[n++] = (char)tolower((unsigned char)*s);
	}
	o[n] = '\0';
	if (n != 64) {
		free(o);
		return NULL;
	}
	return o;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid roots --ca-url URL (--root ROOTPEM | --fingerprint SHA256)\n"
"\n"
"Prints the CA's root certificates (GET URL/roots.pem).  With --root the\n"
"CA's TLS certificate is verified against ROOTPEM.  With --fingerprint (the\n"
"hex SHA-256 of a root, as printed by 'devid-ca init') the download is not\n"
"verified; only the root with that fingerprint is printed, so the output\n"
"can be trusted (bootstrap).\n"
"\n"
"  --ca-url URL          the authority: https://HOST:PORT/t/TEAM/AUTHORITY\n"
"  --root FILE           root certificate(s) of the CA's TLS certificate\n"
"  --fingerprint SHA256  the expected root fingerprint\n"
"  --help                this text\n");
}

int
cmd_roots(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-url", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ "fingerprint", required_argument, NULL, 'F' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url_arg = NULL, *root = NULL, *fp_arg = NULL;
	STACK_OF(X509) *certs = NULL;
	struct cli_resp resp = { 0 };
	struct cli_req req;
	struct buf out = { 0 };
	char *url = NULL, *endpoint = NULL, *fp = NULL, *got = NULL;
	char *pem = NULL;
	int ch, i, rv = CLI_EXIT_USAGE;
	enum dv_rc rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url_arg = optarg; break;
		case 'R': root = optarg; break;
		case 'F': fp_arg = optarg; break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			rv = cli_usage_err("unknown or incomplete option");
			goto out;
		}
	}
	if (optind != argc) {
		rv = cli_usage_err("unexpected argument '%s'", argv[optind]);
		goto out;
	}
	if ((url = cli_ca_url(url_arg)) == NULL)
		goto out;
	if ((root == NULL) == (fp_arg == NULL)) {
		rv = cli_usage_err("give either --root ROOTPEM or "
		    "--fingerprint SHA256");
		goto out;
	}
	if (fp_arg != NULL && (fp = fingerprint_norm(fp_arg)) == NULL) {
		rv = cli_usage_err("--fingerprint '%s' is not a SHA-256 in hex "
		    "(64 digits)", fp_arg);
		goto out;
	}

	rv = CLI_EXIT_FAIL;
	memset(&req, 0, sizeof(req));
	endpoint = xasprintf("%s/roots.pem", url);
	req.method = "GET";
	req.url = endpoint;
	req.cafile = root;
	req.insecure = root == NULL;
	if (cli_http(&req, &resp) != DV_OK)
		goto out;
	if (resp.status != 200) {
		cli_err("GET %s: the CA answered %ld; is --ca-url the base of "
		    "an authority?", endpoint, resp.status);
		goto out;
	}
	if ((rc = pki_certs_from_pem((const char *)resp.body.data,
	    resp.body.len, DV_MAX_CHAIN, &certs)) != DV_OK) {
		cli_err_rc(rc, "GET %s: the answer is not a PEM bundle of at "
		    "most %d certificates", endpoint, DV_MAX_CHAIN);
		goto out;
	}
	for (i = 0; i < sk_X509_num(certs); i++) {
		X509 *x = sk_X509_value(certs, i);

		if (fp != NULL) {
			free(got);
			got = pki_cert_fingerprint(x);
			if (got == NULL || strcmp(got, fp) != 0)
				continue;
		}
		if ((rc = pki_cert_to_pem(x, &pem)) != DV_OK) {
			cli_err_rc(rc, "cannot encode a root");
			goto out;
		}
		buf_append(&out, pem, strlen(pem));
		free(pem);
		pem = NULL;
	}
	if (out.len == 0) {
		cli_err("no root served by %s has the SHA-256 fingerprint %s; "
		    "check the fingerprint and --ca-url (someone may be "
		    "intercepting the connection)", endpoint, fp);
		goto out;
	}
	if (fwrite(out.data, 1, out.len, stdout) != out.len ||
	    fflush(stdout) != 0) {
		cli_err("cannot write to standard output");
		goto out;
	}
	rv = CLI_EXIT_OK;
out:
	free(pem);
	free(got);
	free(fp);
	free(endpoint);
	free(url);
	buf_free(&out);
	cli_resp_free(&resp);
	pki_certs_free(certs);
	return rv;
}
