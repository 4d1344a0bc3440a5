/*
 * flattened.c - the flattened JSON serialization of a JWS (RFC 7515
 * §7.2.2) as ACME uses it (RFC 8555 §6.2): {"protected", "payload",
 * "signature"}, no unprotected header, the payload possibly empty
 * (POST-as-GET).  Parsing only decodes; the signature is checked by
 * jws_flat_verify() once the caller knows which key to use.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "jws_int.h"
#include "pki/pki.h"

static void
reject(const char *clause)
{
	log_msg(LOG_INFO, "jws.flattened", "{s:s}", "reason", clause);
}

void
jws_flat_free(struct jws_flat *f)
{
	if (f == NULL)
		return;
	json_decref(f->header);
	free(f->payload);
	free(f->input);
	free(f->sig);
	free(f);
}

/* True if s is non-empty base64url without padding. */
static bool
b64url_chars(const char *s, bool empty_ok)
{
	if (*s == '\0')
		return empty_ok;
	return jws_b64url_valid(s, strlen(s));
}

enum dv_rc
jws_flat_parse(const uint8_t *body, size_t len, struct jws_flat **out)
{
	struct jws_flat *f = NULL;
	const char *prot = NULL, *payload = NULL, *sig = NULL;
	uint8_t *raw = NULL;
	size_t rawlen;
	json_t *doc = NULL;
	json_error_t err;
	enum dv_rc rc;

	*out = NULL;
	if (len > DV_MAX_TOKEN) {
		reject("RFC 8555 §6.2: JWS larger than DV_MAX_TOKEN");
		return DV_ERR_TOO_LARGE;
	}
	if ((rc = json_parse_strict(body, len, DV_MAX_TOKEN, &doc)) != DV_OK)
		return DV_ERR_MALFORMED;
	/* strict: an unprotected "header" member is refused (§6.2) */
	if (json_unpack_ex(doc, &err, JSON_STRICT, "{s:s,s:s,s:s}",
	    "protected", &prot, "payload", &payload, "signature", &sig) != 0) {
		reject("RFC 8555 §6.2: not a flattened JWS {protected, "
		    "payload, signature}");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (!b64url_chars(prot, false) || !b64url_chars(payload, true) ||
	    !b64url_chars(sig, false)) {
		reject("RFC 7515 §2: member is not base64url");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	f = xcalloc(1, sizeof(*f));
	if (jws_b64url_decode(prot, &raw, &rawlen) != DV_OK ||
	    json_parse_strict(raw, rawlen, DV_MAX_TOKEN, &f->header)
	    != DV_OK) {
		reject("RFC 7515 §7.2.1: protected header is not a JSON "
		    "object");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (json_get_str(f->header, "alg") == NULL) {
		reject("RFC 7515 §4.1.1: alg missing");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (json_object_get(f->header, "crit") != NULL) {
		reject("RFC 7515 §4.1.11: crit not understood");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (*payload != '\0' && jws_b64url_decode(payload, &f->payload,
	    &f->payloadlen) != DV_OK) {
		reject("RFC 7515 §7.2.1: payload is not base64url");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (jws_b64url_decode(sig, &f->sig, &f->siglen) != DV_OK) {
		reject("RFC 7515 §7.2.1: signature is not base64url");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	f->input = xasprintf("%s.%s", prot, payload);
	f->inputlen = strlen(f->input);
	*out = f;
	f = NULL;
	rc = DV_OK;
out:
	free(raw);
	jws_flat_free(f);
	json_decref(doc);
	return rc;
}

bool
jws_alg_accepted(const char *alg)
{
	return alg != NULL && jws_alg_find(alg) != NULL;
}

/* Verifies f with jwk, or with k (jwk decoded) when not NULL. */
static enum dv_rc
flat_verify(const struct jws_flat *f, const json_t *jwk, EVP_PKEY *k)
{
	const struct jws_alg *alg;
	const char *name = json_get_str(f->header, "alg");
	EVP_PKEY *own = NULL;
	enum dv_rc rc;

	if ((alg = jws_alg_find(name)) == NULL) {
		reject("RFC 7518 §3.1: alg not accepted");
		return DV_ERR_BAD_TOKEN;
	}
	if ((rc = jws_key_check(jwk, alg)) != DV_OK)
		return DV_ERR_BAD_KEY;
	if (k == NULL) {
		if ((rc = jws_jwk_to_pkey(jwk, &own)) != DV_OK)
			return DV_ERR_BAD_KEY;
		k = own;
	}
	rc = pki_verify_jws(k, name, (const uint8_t *)f->input, f->inputlen,
	    f->sig, f->siglen);
	pki_key_free(own);
	if (rc != DV_OK)
		reject("RFC 7515 §5.2: signature does not verify");
	return rc == DV_OK ? DV_OK : DV_ERR_UNAUTHORIZED;
}

enum dv_rc
jws_flat_verify(const struct jws_flat *f, const json_t *jwk)
{
	return flat_verify(f, jwk, NULL);
}

enum dv_rc
jws_flat_verify_key(const struct jws_flat *f, const json_t *jwk, EVP_PKEY *k)
{
	if (k == NULL)
		return DV_ERR_BAD_KEY;
	return flat_verify(f, jwk, k);
}

/* The MAC algorithms of an external account binding (RFC 8555 §7.3.4). */
static bool
hmac_alg(const char *alg)
{
	return alg != NULL && (strcmp(alg, "HS256") == 0 ||
	    strcmp(alg, "HS384") == 0 || strcmp(alg, "HS512") == 0);
}

enum dv_rc
jws_flat_verify_hmac(const struct jws_flat *f, const uint8_t *key,
    size_t keylen)
{
	struct jws_jose_err e;
	jose_cfg_t *cfg = NULL;
	json_t *jws = NULL, *jwk = NULL;
	const char *dot;
	char *k = NULL, *sig = NULL;
	enum dv_rc rc = DV_ERR_UNAUTHORIZED;

	if (!hmac_alg(json_get_str(f->header, "alg"))) {
		reject("RFC 8555 §7.3.4: the binding's alg is not a MAC");
		return DV_ERR_BAD_TOKEN;
	}
	if (key == NULL || keylen == 0 || (dot = strchr(f->input, '.')) ==
	    NULL)
		return DV_ERR_UNAUTHORIZED;
	k = jws_b64url_encode(key, keylen);
	sig = jws_b64url_encode(f->sig, f->siglen);
	jwk = json_pack("{s:s,s:s}", "kty", "oct", "k", k);
	jws = json_pack("{s:s%,s:s,s:s}", "protected", f->input,
	    (size_t)(dot - f->input), "payload", dot + 1, "signature", sig);
	if (jwk == NULL || jws == NULL)
		abort();	/* ASCII strings: only OOM fails */
	cfg = jws_cfg_new(&e);
	/* RFC 7518 §3.2: libjose refuses a key shorter than the hash */
	if (jose_jws_ver(cfg, jws, NULL, jwk, false))
		rc = DV_OK;
	else
		reject("RFC 7518 §3.2: the MAC does not verify");
	jws_cfg_free(cfg);
	json_decref(jws);
	jws_jwk_wipe_free(jwk);
	OPENSSL_cleanse(k, strlen(k));
	free(k);
	free(sig);
	return rc;
}
