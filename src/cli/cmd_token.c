/*
 * cmd_token.c - `devid token`: one-time tokens of a JWK provisioner, minted
 * the way `step ca token` does (spec/provisioners.md §2.1), and the X5C /
 * x5cInsecure tokens the other commands need (§1.5, §2.2).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jws/jws.h"

#include "cli.h"

/* The shortest and longest token lifetimes step allows. */
#define TOKEN_MIN_LIFETIME	10
#define TOKEN_MAX_LIFETIME	DV_MAX_TOKEN_LIFETIME

void
cli_prov_clear(struct cli_prov *p)
{
	if (p == NULL)
		return;
	json_decref(p->jwk);
	free(p->name);
	free(p->kid);
	memset(p, 0, sizeof(*p));
}

static bool
jwk_is_private(const json_t *jwk)
{
	const char *kty = json_get_str(jwk, "kty");

	if (kty == NULL)
		return false;
	/* EC, RSA and OKP private keys all carry "d" (RFC 7518, RFC 8037). */
	return json_get_str(jwk, "d") != NULL;
}

enum dv_rc
cli_prov_load(const char *path, struct cli_prov *p)
{
	uint8_t *text = NULL;
	size_t len = 0;
	json_t *j = NULL, *key;
	const char *s;
	enum dv_rc rc;

	memset(p, 0, sizeof(*p));
	if ((rc = cli_file_read("provisioner key", path, &text, &len)) !=
	    DV_OK)
		goto out;
	if ((rc = json_parse_strict(text, len, CLI_MAX_FILE, &j)) != DV_OK) {
		cli_err("--key '%s' is not a JSON object; give "
		    "DIR/admin/provisioner.json or a private JWK (decrypt an "
		    "encrypted JWE key first, e.g. with 'jose jwe dec')", path);
		goto out;
	}
	if ((key = json_object_get(j, "key")) != NULL) {
		/* DIR/admin/provisioner.json (docs/CONTRACTS.md) */
		if (!json_is_object(key)) {
			cli_err("--key '%s': member \"key\" is not a JWK "
			    "object", path);
			rc = DV_ERR_MALFORMED;
			goto out;
		}
		p->jwk = json_incref(key);
		if ((s = json_get_str(j, "provisioner")) != NULL)
			p->name = xstrdup(s);
		if ((s = json_get_str(j, "kid")) != NULL)
			p->kid = xstrdup(s);
	} else
		p->jwk = json_incref(j);
	if (!jwk_is_private(p->jwk)) {
		cli_err("--key '%s' holds no private JWK (no \"kty\"/\"d\"); "
		    "the token must be signed with the provisioner's private "
		    "key", path);
		rc = DV_ERR_BAD_KEY;
		goto out;
	}
	if (p->kid == NULL && (s = json_get_str(p->jwk, "kid")) != NULL)
		p->kid = xstrdup(s);
	rc = DV_OK;
out:
	if (text != NULL)
		OPENSSL_cleanse(text, len);
	free(text);
	json_decref(j);
	if (rc != DV_OK)
		cli_prov_clear(p);
	return rc;
}

json_t *
cli_claims_build(const struct cli_claims *c)
{
	uint8_t rnd[32];
	json_t *o, *sans;
	char *jti, *x5rt;
	size_t i;

	/* jti: 256 random bits in hex, as step (token/options.go). */
	if (pki_random(rnd, sizeof(rnd)) != DV_OK)
		return NULL;
	jti = hex_encode(rnd, sizeof(rnd));
	o = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}",
	    "iss", c->iss, "sub", c->sub, "aud", c->aud,
	    "nbf", (json_int_t)c->nbf,
	    "iat", (json_int_t)(c->iat != 0 ? c->iat : dv_now()),
	    "exp", (json_int_t)c->exp, "jti", jti);
	free(jti);
	if (o == NULL)
		return NULL;
	if (c->sans != NULL) {
		sans = json_array();
		for (i = 0; i < c->sans->n; i++)
			json_array_append_new(sans,
			    json_string(c->sans->v[i]));
		json_object_set_new(o, "sans", sans);
	}
	if (c->cnf != NULL) {
		x5rt = jws_b64url_encode(c->cnf, 32);
		json_object_set_new(o, "cnf",
		    json_pack("{s:s}", "x5rt#S256", x5rt));
		free(x5rt);
	}
	return o;
}

enum dv_rc
cli_token_jwk(const struct cli_prov *p, const char *kid,
    const struct cli_claims *c, char **out)
{
	json_t *jwk = NULL, *claims = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((claims = cli_claims_build(c)) == NULL) {
		cli_err("cannot build the token claims (is a --san not "
		    "UTF-8?)");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	/* jws_sign takes the header kid from the JWK: make it the one asked
	 * for. */
	jwk = json_deep_copy(p->jwk);
	json_object_set_new(jwk, "kid", json_string(kid));
	if ((rc = jws_sign(jwk, NULL, claims, out)) != DV_OK)
		cli_err_rc(rc, "cannot sign the token with the provisioner "
		    "key");
out:
	json_decref(jwk);
	json_decref(claims);
	return rc;
}

enum dv_rc
cli_token_x5c(EVP_PKEY *key, STACK_OF(X509) *chain, const char *hdrname,
    const json_t *claims, char **out)
{
	json_t *hdr = NULL, *arr, *pub = NULL;
	uint8_t *der = NULL;
	size_t derlen;
	char *b64 = NULL, *tp = NULL;
	enum dv_rc rc;
	int i;

	*out = NULL;
	arr = json_array();
	for (i = 0; i < sk_X509_num(chain); i++) {
		if ((rc = pki_cert_to_der(sk_X509_value(chain, i), &der,
		    &derlen)) != DV_OK ||
		    (rc = pki_b64_encode(der, derlen, &b64)) != DV_OK) {
			cli_err_rc(rc, "cannot encode certificate %d of the "
			    "chain", i);
			json_decref(arr);
			goto out;
		}
		json_array_append_new(arr, json_string(b64));
		free(der);
		der = NULL;
		free(b64);
		b64 = NULL;
	}
	hdr = json_object();
	json_object_set_new(hdr, hdrname, arr);
	/* step sets kid to the JWK thumbprint of the signing key. */
	if (jws_jwk_from_pkey(key, false, &pub) == DV_OK &&
	    jws_jwk_thumbprint(pub, &tp) == DV_OK)
		json_object_set_new(hdr, "kid", json_string(tp));
	if ((rc = jws_sign_pkey(key, hdr, claims, out)) != DV_OK)
		cli_err_rc(rc, "cannot sign the %s token with the certificate "
		    "key", hdrname);
out:
	free(der);
	free(b64);
	free(tp);
	json_decref(pub);
	json_decref(hdr);
	return rc;
}

enum dv_rc
cli_token_from_file(const char *keyfile, const char *provname,
    const char *kid, const struct cli_claims *tmpl, char **out)
{
	struct cli_prov p;
	struct cli_claims c = *tmpl;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = cli_prov_load(keyfile, &p)) != DV_OK)
		return rc;
	c.iss = provname != NULL ? provname : p.name;
	if (kid == NULL)
		kid = p.kid;
	if (c.iss == NULL) {
		cli_err("--key '%s' does not name its provisioner; add "
		    "--provisioner NAME", keyfile);
		rc = DV_ERR_MALFORMED;
	} else if (kid == NULL) {
		cli_err("--key '%s' has no \"kid\"; add --kid KID (the "
		    "provisioner key's id in the CA configuration)", keyfile);
		rc = DV_ERR_MALFORMED;
	} else
		rc = cli_token_jwk(&p, kid, &c, out);
	cli_prov_clear(&p);
	return rc;
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid token SUBJECT --ca-url URL --key FILE [options]\n"
"       devid token --revoke SERIAL --ca-url URL --key FILE [options]\n"
"\n"
"Mints a one-time token of a JWK provisioner, as 'step ca token' does, and\n"
"prints it.  The token authorizes one certificate for SUBJECT (POST\n"
"URL/1.0/sign) or, with --revoke, the revocation of SERIAL (URL/1.0/revoke).\n"
"\n"
"  --ca-url URL        the authority: https://HOST:PORT/t/TEAM/AUTHORITY\n"
"  --key FILE          DIR/admin/provisioner.json, or a private JWK file\n"
"  --provisioner NAME  issuer (default: \"provisioner\" of the --key file)\n"
"  --kid KID           key id (default: from the --key file)\n"
"  --san NAME          a name for the certificate (repeatable;\n"
"                      default SUBJECT)\n"
"  --not-before T      token valid from T (RFC 3339, or duration from now)\n"
"  --not-after T       token valid until T (time, or duration from now)\n"
"  --lifetime D        token lifetime when --not-after is absent (default 5m)\n"
"  --revoke SERIAL     a revocation token for SERIAL (decimal or 0x hex)\n"
"  --cnf-csr FILE      bind the token to this CSR (cnf x5rt#S256)\n"
"  --help              this text\n");
}

int
cmd_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-url", required_argument, NULL, 'u' },
		{ "key", required_argument, NULL, 'k' },
		{ "provisioner", required_argument, NULL, 'p' },
		{ "kid", required_argument, NULL, 'i' },
		{ "san", required_argument, NULL, 's' },
		{ "not-before", required_argument, NULL, 'b' },
		{ "not-after", required_argument, NULL, 'a' },
		{ "lifetime", required_argument, NULL, 'l' },
		{ "revoke", required_argument, NULL, 'r' },
		{ "cnf-csr", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *url_arg = NULL, *key = NULL, *prov = NULL, *kid = NULL;
	const char *nb = NULL, *na = NULL, *life = NULL, *revoke = NULL;
	const char *cnf_csr = NULL;
	struct cli_strs sans = { 0 };
	struct cli_claims c;
	struct pki_csr *csr = NULL;
	uint8_t *csrtext = NULL;
	size_t csrlen;
	char *url = NULL, *aud = NULL, *serial = NULL, *tok = NULL;
	time_t now = dv_now();
	int64_t lifetime = CLI_TOKEN_LIFETIME;
	int ch, rv = CLI_EXIT_USAGE;
	enum dv_rc rc;

	memset(&c, 0, sizeof(c));
	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'u': url_arg = optarg; break;
		case 'k': key = optarg; break;
		case 'p': prov = optarg; break;
		case 'i': kid = optarg; break;
		case 's': cli_strs_add(&sans, optarg); break;
		case 'b': nb = optarg; break;
		case 'a': na = optarg; break;
		case 'l': life = optarg; break;
		case 'r': revoke = optarg; break;
		case 'c': cnf_csr = optarg; break;
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
	if (revoke == NULL && argc != 1) {
		rv = cli_usage_err("give exactly one SUBJECT (the "
		    "certificate's name), or --revoke SERIAL");
		goto out;
	}
	if (revoke != NULL && argc != 0) {
		rv = cli_usage_err("--revoke SERIAL takes no SUBJECT: the "
		    "token's subject is the serial");
		goto out;
	}
	if (key == NULL) {
		rv = cli_usage_err("--key FILE is required "
		    "(DIR/admin/provisioner.json or a private JWK)");
		goto out;
	}
	if ((url = cli_ca_url(url_arg)) == NULL)
		goto out;
	if (revoke != NULL && sans.n > 0) {
		rv = cli_usage_err("--san does not apply to --revoke tokens");
		goto out;
	}
	if (life != NULL && na != NULL) {
		rv = cli_usage_err("give --lifetime or --not-after, not both");
		goto out;
	}
	if (life != NULL && !cli_dur_arg("--lifetime", life, &lifetime))
		goto out;
	c.iat = c.nbf = now;
	if (nb != NULL && !cli_time_arg("--not-before", nb, now, &c.nbf))
		goto out;
	c.exp = c.nbf + (time_t)lifetime;
	if (na != NULL && !cli_time_arg("--not-after", na, now, &c.exp))
		goto out;
	if (c.exp - c.nbf < TOKEN_MIN_LIFETIME ||
	    c.exp - c.nbf > TOKEN_MAX_LIFETIME) {
		rv = cli_usage_err("the token would be valid for %lld s; it "
		    "must be between %d s and %d s (the CA refuses longer)",
		    (long long)(c.exp - c.nbf), TOKEN_MIN_LIFETIME,
		    TOKEN_MAX_LIFETIME);
		goto out;
	}

	rv = CLI_EXIT_FAIL;
	if (cnf_csr != NULL) {
		if (cli_file_read("CSR", cnf_csr, &csrtext, &csrlen) != DV_OK)
			goto out;
		if ((rc = pki_csr_parse(csrtext, csrlen, false, &csr)) !=
		    DV_OK) {
			cli_err_rc(rc, "--cnf-csr '%s' is not a valid PEM CSR",
			    cnf_csr);
			goto out;
		}
		c.cnf = csr->sha256;
	}
	if (revoke != NULL) {
		if ((rc = pki_serial_normalise(revoke, &serial)) != DV_OK) {
			rv = cli_usage_err("--revoke '%s' is not a serial "
			    "number (decimal, or hex with 0x)", revoke);
			goto out;
		}
		c.sub = serial;
		aud = xasprintf("%s/1.0/revoke", url);
	} else {
		c.sub = argv[0];
		if (sans.n == 0)
			cli_strs_add(&sans, argv[0]);
		c.sans = &sans;
		aud = xasprintf("%s/1.0/sign", url);
	}
	c.aud = aud;
	if (cli_token_from_file(key, prov, kid, &c, &tok) != DV_OK)
		goto out;
	printf("%s\n", tok);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	if (tok != NULL)
		OPENSSL_cleanse(tok, strlen(tok));
	free(tok);
	free(serial);
	free(aud);
	free(url);
	free(csrtext);
	pki_csr_free(csr);
	cli_strs_free(&sans);
	return rv;
}
