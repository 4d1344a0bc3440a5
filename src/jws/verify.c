/*
 * verify.c - JWS signature validation (RFC 7515 §5.2) with a public key.
 * ES*, RS*, PS* go through libjose's jose_jws_ver(); EdDSA through okp.c.
 */
#include <stdlib.h>
#include <string.h>

#include "jws_int.h"
#include "pki/pki.h"

static void
reject(const char *clause, const char *value)
{
	log_msg(LOG_WARN, "jws.rejected", "{s:s,s:s*}", "reason", clause,
	    "value", value);
}

/* The flattened JSON form libjose verifies (RFC 7515 §7.2.2). */
static json_t *
flattened(const struct jws_parts *p)
{
	json_t *jws;

	jws = json_pack("{s:s%,s:s%,s:s%}", "protected", p->hdr, p->hdrlen,
	    "payload", p->payload, p->payloadlen, "signature", p->sig,
	    p->siglen);
	if (jws == NULL)
		abort();	/* the segments are ASCII: only OOM fails */
	return jws;
}

enum dv_rc
jws_verify_jwk(const struct jws_token *t, const json_t *jwk)
{
	struct jws_jose_err e;
	const struct jws_alg *alg;
	struct jws_parts p;
	jose_cfg_t *cfg = NULL;
	json_t *jws = NULL;
	uint8_t *sig = NULL;
	size_t siglen;
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	if (t == NULL || jwk == NULL) {
		reject("RFC 7515 §5.2: nothing to verify", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	/* jws_parse() already refused algs outside the table */
	alg = jws_alg_find(json_get_str(t->header, "alg"));
	if (alg == NULL) {
		reject("RFC 7515 §4.1.1: alg not accepted", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	/* a key of another type or alg: logged by jws_key_check() */
	if (jws_key_check(jwk, alg) != DV_OK)
		return DV_ERR_BAD_TOKEN;
	jws_split(t->compact, &p);
	if (strcmp(alg->kty, "OKP") == 0) {
		if (jws_b64url_decode(p.sig, &sig, &siglen) != DV_OK)
			goto out;
		/* signing input: ASCII(header) "." ASCII(payload) */
		rc = jws_okp_verify(jwk, p.hdr, p.hdrlen + 1 + p.payloadlen,
		    sig, siglen);
		if (rc != DV_OK)
			reject("RFC 7515 §5.2: EdDSA signature does not verify",
			    NULL);
		goto out;
	}
	jws = flattened(&p);
	cfg = jws_cfg_new(&e);
	if (!jose_jws_ver(cfg, jws, NULL, jwk, false)) {
		reject("RFC 7515 §5.2: signature does not verify",
		    e.msg[0] != '\0' ? e.msg : NULL);
		pki_log_errors(LOG_DEBUG, "jws.verify");
		goto out;
	}
	rc = DV_OK;
out:
	free(sig);
	json_decref(jws);
	jws_cfg_free(cfg);
	return rc;
}

enum dv_rc
jws_verify_key(const struct jws_token *t, const json_t *jwk, EVP_PKEY *k)
{
	const struct jws_alg *alg;
	struct jws_parts p;
	uint8_t *sig = NULL;
	size_t siglen = 0;
	enum dv_rc rc;

	if (t == NULL || k == NULL) {
		reject("RFC 7515 §5.2: nothing to verify", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	alg = jws_alg_find(json_get_str(t->header, "alg"));
	if (alg == NULL) {
		reject("RFC 7515 §4.1.1: alg not accepted", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (jwk != NULL && jws_key_check(jwk, alg) != DV_OK)
		return DV_ERR_BAD_TOKEN;
	jws_split(t->compact, &p);
	if (jws_b64url_decode(p.sig, &sig, &siglen) != DV_OK) {
		reject("RFC 7515 §7.1: signature is not base64url", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	/* signing input: ASCII(header) "." ASCII(payload); pki logs why a
	 * signature does not verify */
	rc = pki_verify_jws(k, alg->name, (const uint8_t *)p.hdr,
	    p.hdrlen + 1 + p.payloadlen, sig, siglen);
	free(sig);
	return rc == DV_OK ? DV_OK : DV_ERR_BAD_TOKEN;
}

enum dv_rc
jws_verify_pkey(const struct jws_token *t, EVP_PKEY *k)
{
	return jws_verify_key(t, NULL, k);
}
