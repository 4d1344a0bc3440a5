/*
 * cmd_certificate.c - `devid certificate`: generate a key and a CSR, get
 * the certificate from POST /1.0/sign (spec/provisioners.md §1.4) with a
 * JWK or X5C token, and write the chain and the key.
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

enum dv_rc
cli_sign_response(const json_t *resp, EVP_PKEY *key, char **chain_pem,
    char **serial)
{
	STACK_OF(X509) *chain = NULL;
	json_t *arr, *v;
	struct buf out = { 0 };
	X509 *x = NULL;
	const char *s;
	char *pem = NULL;
	size_t i;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*chain_pem = NULL;
	*serial = NULL;
	chain = sk_X509_new_null();
	arr = json_object_get(resp, "certChain");
	if (json_is_array(arr) && json_array_size(arr) > 0) {
		if (json_array_size(arr) > DV_MAX_CHAIN) {
			cli_err("the CA answered with a chain of %zu "
			    "certificates (at most %d accepted)",
			    json_array_size(arr), DV_MAX_CHAIN);
			goto out;
		}
		json_array_foreach(arr, i, v) {
			if ((s = json_string_value(v)) == NULL ||
			    pki_cert_from_pem(s, strlen(s), &x) != DV_OK) {
				cli_err("certChain[%zu] of the CA's answer is "
				    "not a PEM certificate", i);
				goto out;
			}
			sk_X509_push(chain, x);
			x = NULL;
		}
	} else {
		/* Older answers: "crt" and "ca" only. */
		if ((s = json_get_str(resp, "crt")) == NULL ||
		    pki_cert_from_pem(s, strlen(s), &x) != DV_OK) {
			cli_err("the CA's answer has neither \"certChain\" nor "
			    "a PEM \"crt\"");
			goto out;
		}
		sk_X509_push(chain, x);
		x = NULL;
		if ((s = json_get_str(resp, "ca")) != NULL) {
			if (pki_cert_from_pem(s, strlen(s), &x) != DV_OK) {
				cli_err("\"ca\" of the CA's answer is not a "
				    "PEM certificate");
				goto out;
			}
			sk_X509_push(chain, x);
			x = NULL;
		}
	}
	if (!cli_cert_matches_key(sk_X509_value(chain, 0), key)) {
		cli_err("the certificate the CA returned is not for our key; "
		    "refusing to save it");
		rc = DV_ERR_UNTRUSTED;
		goto out;
	}
	/* Re-encode: what is written is exactly the certificates parsed. */
	for (i = 0; i < (size_t)sk_X509_num(chain); i++) {
		if ((rc = pki_cert_to_pem(sk_X509_value(chain, (int)i),
		    &pem)) != DV_OK) {
			cli_err_rc(rc, "cannot encode the certificate");
			goto out;
		}
		buf_append(&out, pem, strlen(pem));
		free(pem);
		pem = NULL;
	}
	buf_append(&out, "", 1);
	*serial = pki_cert_serial_dec(sk_X509_value(chain, 0));
	*chain_pem = (char *)out.data;
	out.data = NULL;
	rc = DV_OK;
out:
	buf_free(&out);
	free(pem);
	pki_cert_free(x);
	pki_certs_free(chain);
	return rc;
}

/* --kty/--curve/--size to a key type; false after reporting. */
static bool
key_type_arg(const char *kty, const char *curve, const char *size,
    enum pki_key_type *out)
{
	if (kty == NULL || strcmp(kty, "EC") == 0) {
		if (size != NULL) {
			cli_usage_err("--size applies to --kty RSA only");
			return false;
		}
		if (curve == NULL || strcmp(curve, "P-256") == 0)
			*out = PKI_KEY_P256;
		else if (strcmp(curve, "P-384") == 0)
			*out = PKI_KEY_P384;
		else {
			cli_usage_err("--curve '%s' is not supported for EC "
			    "keys; use P-256 or P-384", curve);
			return false;
		}
	} else if (strcmp(kty, "RSA") == 0) {
		if (curve != NULL) {
			cli_usage_err("--curve does not apply to RSA keys; use "
			    "--size");
			return false;
		}
		if (size == NULL || strcmp(size, "2048") == 0)
			*out = PKI_KEY_RSA2048;
		else if (strcmp(size, "3072") == 0)
			*out = PKI_KEY_RSA3072;
		else if (strcmp(size, "4096") == 0)
			*out = PKI_KEY_RSA4096;
		else {
			cli_usage_err("--size '%s' is not supported; use "
			    "2048, 3072 or 4096", size);
			return false;
		}
	} else if (strcmp(kty, "OKP") == 0) {
		if (size != NULL || (curve != NULL &&
		    strcmp(curve, "Ed25519") != 0)) {
			cli_usage_err("--kty OKP supports --curve Ed25519 "
			    "only");
			return false;
		}
		*out = PKI_KEY_ED25519;
	} else {
		cli_usage_err("--kty '%s' is not supported; use EC, RSA or "
		    "OKP", kty);
		return false;
	}
	return true;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid certificate NAME CRT KEY --ca-url URL --root ROOTPEM\n"
"           (--token TOKEN | --key PROVFILE |\n"
"            --x5c-cert CERT --x5c-key KEY --provisioner NAME) [options]\n"
"\n"
"Generates a key and a CSR for NAME, asks the CA to sign it (POST\n"
"URL/1.0/sign), and writes the certificate chain (leaf first) to CRT and\n"
"the private key (PKCS#8 PEM, mode 0600) to KEY.\n"
"\n"
"  --ca-url URL        the authority: https://HOST:PORT/t/TEAM/AUTHORITY\n"
"  --root FILE         root certificate(s) that the CA's TLS certificate\n"
"                      chains to (DIR/certs/account-root.crt)\n"
"  --token TOKEN       a one-time token from 'devid token'\n"
"  --key FILE          mint the token with this JWK provisioner key\n"
"                      (DIR/admin/provisioner.json or a private JWK)\n"
"  --provisioner NAME  provisioner (JWK: default from --key; X5C: required)\n"
"  --kid KID           JWK key id (default from --key)\n"
"  --x5c-cert FILE     authenticate with this certificate chain (X5C)\n"
"  --x5c-key FILE      ... and its private key\n"
"  --san NAME          subject alternative name (repeatable; default NAME)\n"
"  --kty EC|RSA|OKP    key type (default EC)\n"
"  --curve C           P-256 (default) or P-384 for EC, Ed25519 for OKP\n"
"  --size BITS         RSA modulus: 2048 (default), 3072, 4096\n"
"  --not-before T      certificate validity start (RFC 3339 or duration)\n"
"  --not-after T       certificate validity end (RFC 3339 or duration)\n"
"  --force             overwrite CRT and KEY if they exist\n"
"  --help              this text\n");
}

int
cmd_certificate(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-url", required_argument, NULL, 'u' },
		{ "root", required_argument, NULL, 'R' },
		{ "token", required_argument, NULL, 't' },
		{ "key", required_argument, NULL, 'k' },
		{ "provisioner", required_argument, NULL, 'p' },
		{ "kid", required_argument, NULL, 'i' },
		{ "x5c-cert", required_argument, NULL, 'X' },
		{ "x5c-key", required_argument, NULL, 'K' },
		{ "san", required_argument, NULL, 's' },
		{ "kty", required_argument, NULL, 'T' },
		{ "curve", required_argument, NULL, 'C' },
		{ "size", required_argument, NULL, 'S' },
		{ "not-before", required_argument, NULL, 'b' },
		{ "not-after", required_argument, NULL, 'a' },
		{ "force", no_argument, NULL, 'f' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url_arg = NULL, *root = NULL, *token = NULL, *key = NULL;
	const char *prov = NULL, *kid = NULL, *x5c_cert = NULL;
	const char *x5c_key = NULL, *kty = NULL, *curve = NULL, *size = NULL;
	const char *nb = NULL, *na = NULL, *name, *crt_path, *key_path;
	struct cli_strs sans = { 0 };
	struct pki_sans psans = { 0 };
	struct cli_claims c;
	struct cli_req req;
	STACK_OF(X509) *x5c = NULL;
	EVP_PKEY *k = NULL, *x5ck = NULL;
	enum pki_key_type kt;
	json_t *body = NULL, *resp = NULL, *claims = NULL;
	char *url = NULL, *aud = NULL, *csr = NULL, *tok = NULL;
	char *chain = NULL, *serial = NULL, *keypem = NULL, *endpoint = NULL;
	time_t now = dv_now(), t;
	bool force = false;
	int ch, rv = CLI_EXIT_USAGE;
	size_t i;
	enum dv_rc rc;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url_arg = optarg; break;
		case 'R': root = optarg; break;
		case 't': token = optarg; break;
		case 'k': key = optarg; break;
		case 'p': prov = optarg; break;
		case 'i': kid = optarg; break;
		case 'X': x5c_cert = optarg; break;
		case 'K': x5c_key = optarg; break;
		case 's': cli_strs_add(&sans, optarg); break;
		case 'T': kty = optarg; break;
		case 'C': curve = optarg; break;
		case 'S': size = optarg; break;
		case 'b': nb = optarg; break;
		case 'a': na = optarg; break;
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
	if (argc != 3) {
		rv = cli_usage_err("give NAME CRT KEY (the certificate's name, "
		    "where to write the certificate, where to write the key)");
		goto out;
	}
	name = argv[0];
	crt_path = argv[1];
	key_path = argv[2];
	if ((url = cli_ca_url(url_arg)) == NULL)
		goto out;
	if (root == NULL) {
		rv = cli_usage_err("--root ROOTPEM is required to verify the "
		    "CA (e.g. DIR/certs/account-root.crt; see 'devid roots')");
		goto out;
	}
	if ((token != NULL) + (key != NULL) + (x5c_cert != NULL ||
	    x5c_key != NULL) != 1) {
		rv = cli_usage_err("give exactly one of --token, --key "
		    "PROVFILE, or --x5c-cert with --x5c-key");
		goto out;
	}
	if ((x5c_cert != NULL) != (x5c_key != NULL)) {
		rv = cli_usage_err("--x5c-cert and --x5c-key go together");
		goto out;
	}
	if (x5c_cert != NULL && prov == NULL) {
		rv = cli_usage_err("--x5c-cert needs --provisioner NAME (the "
		    "CA's X5C provisioner, e.g. devices)");
		goto out;
	}
	if (!key_type_arg(kty, curve, size, &kt))
		goto out;
	if ((nb != NULL && !cli_time_arg("--not-before", nb, now, &t)) ||
	    (na != NULL && !cli_time_arg("--not-after", na, now, &t)))
		goto out;
	if (strcmp(crt_path, key_path) == 0) {
		rv = cli_usage_err("CRT and KEY must be different files");
		goto out;
	}
	rv = CLI_EXIT_FAIL;
	if (!cli_may_write(crt_path, force) || !cli_may_write(key_path, force))
		goto out;
	if (sans.n == 0)
		cli_strs_add(&sans, name);
	for (i = 0; i < sans.n; i++)
		if ((rc = pki_sans_add_auto(&psans, sans.v[i])) != DV_OK) {
			rv = cli_usage_err("--san '%s' is not a valid DNS "
			    "name, IP address, email or URI (or more than %d "
			    "names)", sans.v[i], DV_MAX_SANS);
			goto out;
		}

	/* The key and the CSR. */
	if ((rc = pki_key_generate(kt, &k)) != DV_OK) {
		cli_err_rc(rc, "cannot generate a %s key",
		    pki_key_type_name(kt));
		goto out;
	}
	if ((rc = pki_csr_make(k, name, &psans, &csr)) != DV_OK) {
		cli_err_rc(rc, "cannot make a CSR for '%s'", name);
		goto out;
	}

	/* The token. */
	c.sub = name;
	c.sans = &sans;
	c.iat = c.nbf = now;
	c.exp = now + CLI_TOKEN_LIFETIME;
	if (x5c_cert != NULL) {
		if (cli_certs_read("--x5c-cert", x5c_cert, &x5c) != DV_OK ||
		    cli_key_read("--x5c-key", x5c_key, &x5ck) != DV_OK)
			goto out;
		if (!cli_cert_matches_key(sk_X509_value(x5c, 0), x5ck)) {
			cli_err("--x5c-key '%s' is not the key of the first "
			    "certificate in --x5c-cert '%s'", x5c_key,
			    x5c_cert);
			goto out;
		}
		aud = xasprintf("%s/1.0/sign#x5c/%s", url, prov);
		c.iss = prov;
		c.aud = aud;
		if ((claims = cli_claims_build(&c)) == NULL) {
			cli_err("cannot build the token claims");
			goto out;
		}
		if (cli_token_x5c(x5ck, x5c, "x5c", claims, &tok) != DV_OK)
			goto out;
	} else if (key != NULL) {
		aud = xasprintf("%s/1.0/sign", url);
		c.aud = aud;
		if (cli_token_from_file(key, prov, kid, &c, &tok) != DV_OK)
			goto out;
	} else
		tok = xstrdup(token);

	/* The request (spec §1.4). */
	body = json_pack("{s:s,s:s}", "csr", csr, "ott", tok);
	if (body == NULL) {
		cli_err("cannot encode the request (is the token text?)");
		goto out;
	}
	if (nb != NULL)
		json_object_set_new(body, "notBefore", json_string(nb));
	if (na != NULL)
		json_object_set_new(body, "notAfter", json_string(na));
	endpoint = xasprintf("%s/1.0/sign", url);
	memset(&req, 0, sizeof(req));
	req.method = "POST";
	req.url = endpoint;
	req.cafile = root;
	req.body = body;
	req.hint401 = "check the provisioner (--key, --kid, --provisioner), "
	    "the token's lifetime, and that the token was not used before";
	if (cli_api_json(&req, 201, &resp) != DV_OK)
		goto out;
	if (cli_sign_response(resp, k, &chain, &serial) != DV_OK)
		goto out;

	/* Key first: a certificate without its key is of no use. */
	if ((rc = pki_key_to_pem(k, &keypem)) != DV_OK) {
		cli_err_rc(rc, "cannot encode the private key");
		goto out;
	}
	if (cli_file_write("the private key", key_path, keypem,
	    strlen(keypem), 0600) != DV_OK ||
	    cli_file_write("the certificate", crt_path, chain, strlen(chain),
	    0644) != DV_OK)
		goto out;
	printf("certificate: %s\nprivate key: %s\nserial: %s\n", crt_path,
	    key_path, serial);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (keypem != NULL)
		OPENSSL_cleanse(keypem, strlen(keypem));
	free(keypem);
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
	free(serial);
	free(chain);
	free(endpoint);
	free(csr);
	free(aud);
	free(url);
	json_decref(resp);
	json_decref(body);
	json_decref(claims);
	pki_key_free(x5ck);
	pki_certs_free(x5c);
	pki_key_free(k);
	pki_sans_clear(&psans);
	cli_strs_free(&sans);
	return rv;
}
