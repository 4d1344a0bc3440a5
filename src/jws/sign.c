/*
 * sign.c - compact JWS/JWT creation (RFC 7515 §5.1, RFC 7519 §7.1), the
 * way step's token generator shapes them: protected header
 * {"alg", "kid", "typ":"JWT"} plus the caller's members.
 */
#include <stdlib.h>
#include <string.h>

#include "jws_int.h"
#include "pki/pki.h"

static void
reject(const char *clause)
{
	log_msg(LOG_WARN, "jws.sign", "{s:s}", "reason", clause);
}

/* The protected header: typ, kid (from the key), hdr's members, alg. */
static json_t *
header_build(const json_t *jwk, const json_t *hdr, const char *alg)
{
	json_t *h;

	h = json_object();
	json_object_set_new(h, "typ", json_string("JWT"));
	if (json_is_string(json_object_get(jwk, "kid")))
		json_object_set(h, "kid", json_object_get(jwk, "kid"));
	if (hdr != NULL)
		json_object_update(h, (json_t *)hdr);
	/* the key decides the alg, whatever hdr says */
	json_object_set_new(h, "alg", json_string(alg));
	return h;
}

static char *
json_b64url(const json_t *j)
{
	char *s, *b;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS)) == NULL)
		abort();
	b = jws_b64url_encode((const uint8_t *)s, strlen(s));
	free(s);
	return b;
}

static enum dv_rc
sign_okp(const json_t *jwk, const json_t *h, const json_t *claims,
    char **out)
{
	char *h64, *p64, *input, *s64;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	enum dv_rc rc;

	h64 = json_b64url(h);
	p64 = json_b64url(claims);
	input = xasprintf("%s.%s", h64, p64);
	rc = jws_okp_sign(jwk, input, strlen(input), &sig, &siglen);
	if (rc == DV_OK) {
		s64 = jws_b64url_encode(sig, siglen);
		*out = xasprintf("%s.%s", input, s64);
		free(s64);
	}
	free(sig);
	free(input);
	free(p64);
	free(h64);
	return rc;
}

static enum dv_rc
sign_jose(const json_t *jwk, json_t *h, const json_t *claims, char **out)
{
	struct jws_jose_err e;
	const char *prot, *payload, *sig;
	jose_cfg_t *cfg;
	json_t *jws, *tmpl;
	char *p64;
	enum dv_rc rc = DV_ERR_CRYPTO;

	p64 = json_b64url(claims);
	jws = json_pack("{s:s}", "payload", p64);
	tmpl = json_pack("{s:O}", "protected", h);
	if (jws == NULL || tmpl == NULL)
		abort();
	cfg = jws_cfg_new(&e);
	if (!jose_jws_sig(cfg, jws, tmpl, jwk)) {
		log_msg(LOG_ERR, "jws.sign", "{s:s,s:s}", "reason",
		    "RFC 7515 §5.1: signing failed", "error", e.msg);
		pki_log_errors(LOG_ERR, "jws.sign");
		goto out;
	}
	prot = json_get_str(jws, "protected");
	payload = json_get_str(jws, "payload");
	sig = json_get_str(jws, "signature");
	if (prot == NULL || payload == NULL || sig == NULL ||
	    json_object_get(jws, "header") != NULL) {
		reject("RFC 7515 §7.1: libjose made no compact-able JWS");
		rc = DV_ERR_INTERNAL;
		goto out;
	}
	*out = xasprintf("%s.%s.%s", prot, payload, sig);
	rc = DV_OK;
out:
	jws_cfg_free(cfg);
	json_decref(tmpl);
	json_decref(jws);
	free(p64);
	return rc;
}

enum dv_rc
jws_sign(const json_t *jwk, const json_t *hdr, const json_t *claims,
    char **out)
{
	const struct jws_alg *alg;
	json_t *h = NULL;
	enum dv_rc rc;

	*out = NULL;
	if (!json_is_object(claims) || (hdr != NULL && !json_is_object(hdr))) {
		reject("RFC 7519 §7.1: claims and header must be objects");
		return DV_ERR_INTERNAL;
	}
	if ((alg = jws_alg_for_jwk(jwk)) == NULL) {
		reject("RFC 7518 §3.1: the key fits no accepted alg");
		return DV_ERR_BAD_KEY;
	}
	if ((rc = jws_key_check(jwk, alg)) != DV_OK)
		return rc;
	if (json_object_get(jwk, "d") == NULL) {
		reject("RFC 7517 §4: signing needs a private key");
		return DV_ERR_BAD_KEY;
	}
	h = header_build(jwk, hdr, alg->name);
	if (strcmp(alg->kty, "OKP") == 0)
		rc = sign_okp(jwk, h, claims, out);
	else
		rc = sign_jose(jwk, h, claims, out);
	json_decref(h);
	return rc;
}

enum dv_rc
jws_sign_pkey(EVP_PKEY *k, const json_t *hdr, const json_t *claims,
    char **out)
{
	const struct jws_alg *alg;
	json_t *jwk = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = jws_jwk_from_pkey(k, true, &jwk)) != DV_OK)
		return rc;
	/* EC by curve, RSA -> RS256 (step's default), Ed25519 -> EdDSA */
	if ((alg = jws_alg_for_jwk(jwk)) == NULL) {
		reject("RFC 7518 §3.1: the key fits no accepted alg");
		rc = DV_ERR_BAD_KEY;
		goto out;
	}
	json_object_set_new(jwk, "alg", json_string(alg->name));
	rc = jws_sign(jwk, hdr, claims, out);
out:
	jws_jwk_wipe_free(jwk);
	return rc;
}
