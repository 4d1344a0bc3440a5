/*
 * okp.c - Ed25519 JWKs (RFC 8037) and EdDSA signatures.  libjose 11 has no
 * EdDSA, so the raw key bytes of the JWK go through src/pki (raw key
 * import/export, sign, verify).
 */
#include <stdlib.h>
#include <string.h>

#include "jws_int.h"
#include "pki/pki.h"

#define ED25519_LEN	32
#define ED25519_SIGLEN	64

static void
okp_reject(const char *clause)
{
	log_msg(LOG_WARN, "jwk.rejected", "{s:s}", "reason", clause);
}

/* Decodes a 32-byte member of an OKP JWK into b. */
static enum dv_rc
member32(const json_t *jwk, const char *name, uint8_t b[ED25519_LEN])
{
	uint8_t *raw = NULL;
	size_t len = 0;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	if (jws_b64url_decode(json_get_str(jwk, name), &raw, &len) == DV_OK &&
	    len == ED25519_LEN) {
		memcpy(b, raw, ED25519_LEN);
		rc = DV_OK;
	}
	if (raw != NULL)
		explicit_bzero(raw, len);
	free(raw);
	return rc;
}

enum dv_rc
jws_okp_public_pkey(const json_t *jwk, EVP_PKEY **out)
{
	uint8_t x[ED25519_LEN];

	*out = NULL;
	if (member32(jwk, "x", x) != DV_OK) {
		okp_reject("RFC 8037 §2: Ed25519 x is not 32 bytes");
		return DV_ERR_BAD_KEY;
	}
	return pki_key_ed25519_from_raw(x, NULL, out);
}

static enum dv_rc
okp_private_pkey(const json_t *jwk, EVP_PKEY **out)
{
	uint8_t x[ED25519_LEN], d[ED25519_LEN];
	enum dv_rc rc;

	*out = NULL;
	if (member32(jwk, "x", x) != DV_OK || member32(jwk, "d", d) != DV_OK) {
		okp_reject("RFC 8037 §2: Ed25519 x or d is not 32 bytes");
		return DV_ERR_BAD_KEY;
	}
	rc = pki_key_ed25519_from_raw(x, d, out);
	explicit_bzero(d, sizeof(d));
	return rc;
}

enum dv_rc
jws_okp_from_pkey(EVP_PKEY *k, bool priv, json_t **out)
{
	uint8_t x[ED25519_LEN], d[ED25519_LEN];
	char *xs = NULL, *ds = NULL;
	json_t *jwk;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_key_ed25519_to_raw(k, x, priv ? d : NULL)) != DV_OK) {
		okp_reject("RFC 8410 §4: not an Ed25519 key");
		return rc;
	}
	xs = jws_b64url_encode(x, ED25519_LEN);
	if (priv) {
		ds = jws_b64url_encode(d, sizeof(d));
		explicit_bzero(d, sizeof(d));
	}
	jwk = json_pack("{s:s,s:s,s:s,s:s*}", "kty", "OKP", "crv", "Ed25519",
	    "x", xs, "d", ds);
	if (jwk == NULL)
		abort();
	*out = jwk;
	if (ds != NULL)
		explicit_bzero(ds, strlen(ds));
	free(ds);
	free(xs);
	return DV_OK;
}

enum dv_rc
jws_okp_generate(json_t **out)
{
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_key_generate(PKI_KEY_ED25519, &k)) != DV_OK)
		return rc;
	rc = jws_okp_from_pkey(k, true, out);
	pki_key_free(k);
	return rc;
}

enum dv_rc
jws_okp_sign(const json_t *jwk, const char *input, size_t len,
    uint8_t **sig, size_t *siglen)
{
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	*sig = NULL;
	*siglen = 0;
	if ((rc = okp_private_pkey(jwk, &k)) != DV_OK)
		return rc;
	rc = pki_sign_data(k, PKI_SIG_ED25519, (const uint8_t *)input, len,
	    sig, siglen);
	pki_key_free(k);
	return rc;
}

enum dv_rc
jws_okp_verify(const json_t *jwk, const char *input, size_t len,
    const uint8_t *sig, size_t siglen)
{
	EVP_PKEY *k = NULL;
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	if (siglen != ED25519_SIGLEN)	/* RFC 8032 §5.1.6 */
		return rc;
	if (jws_okp_public_pkey(jwk, &k) != DV_OK)
		return rc;
	/* Ed25519 is a one-shot signature: no digest, whole message */
	if (pki_verify_data(k, PKI_SIG_ED25519, (const uint8_t *)input, len,
	    sig, siglen) == DV_OK)
		rc = DV_OK;
	pki_key_free(k);
	return rc;
}
