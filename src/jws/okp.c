/*
 * okp.c - EdDSA with Ed25519 (RFC 8037), which libjose 11 lacks.
 *
 * Keys cross into OpenSSL through src/pki only: an Ed25519 public key is a
 * fixed 12-byte SubjectPublicKeyInfo prefix plus x, a private key a fixed
 * 16-byte PKCS#8 prefix plus d (RFC 8410 §4, §7).  Signing uses
 * pki_sign_data().
 *
 * XXX pki.h has no "verify raw signature" call, so jws_okp_verify() makes
 * the one EVP_DigestVerify call of this module (STYLE rule 16 exception).
 * Move it behind a pki_verify_data() when pki grows one.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jws_int.h"
#include "pki/pki.h"

#define ED25519_LEN	32
#define ED25519_SIGLEN	64

/* SEQUENCE { SEQUENCE { OID 1.3.101.112 } BIT STRING (33 bytes) } */
static const uint8_t spki_prefix[] = {
	0x30, 0x2a, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00,
};
/* SEQUENCE { INTEGER 0, SEQUENCE { OID 1.3.101.112 },
 *            OCTET STRING { OCTET STRING (32 bytes) } } */
static const uint8_t pkcs8_prefix[] = {
	0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70,
	0x04, 0x22, 0x04, 0x20,
};

static const char pem_begin[] = "-----BEGIN PRIVATE KEY-----";
static const char pem_end[] = "-----END PRIVATE KEY-----";

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

static enum dv_rc
okp_public_pkey(const json_t *jwk, EVP_PKEY **out)
{
	uint8_t der[sizeof(spki_prefix) + ED25519_LEN];

	*out = NULL;
	memcpy(der, spki_prefix, sizeof(spki_prefix));
	if (member32(jwk, "x", der + sizeof(spki_prefix)) != DV_OK) {
		okp_reject("RFC 8037 §2: Ed25519 x is not 32 bytes");
		return DV_ERR_BAD_KEY;
	}
	return pki_key_from_spki(der, sizeof(der), out);
}

static enum dv_rc
okp_private_pkey(const json_t *jwk, EVP_PKEY **out)
{
	uint8_t der[sizeof(pkcs8_prefix) + ED25519_LEN];
	char *b64 = NULL, *pem = NULL;
	enum dv_rc rc;

	*out = NULL;
	memcpy(der, pkcs8_prefix, sizeof(pkcs8_prefix));
	if (member32(jwk, "d", der + sizeof(pkcs8_prefix)) != DV_OK) {
		okp_reject("RFC 8037 §2: Ed25519 d is not 32 bytes");
		rc = DV_ERR_BAD_KEY;
		goto out;
	}
	/* 48 bytes of DER are 64 base64 characters: one PEM line */
	if ((rc = pki_b64_encode(der, sizeof(der), &b64)) != DV_OK)
		goto out;
	pem = xasprintf("%s\n%s\n%s\n", pem_begin, b64, pem_end);
	rc = pki_key_from_pem(pem, strlen(pem), NULL, out);
out:
	explicit_bzero(der, sizeof(der));
	if (b64 != NULL)
		explicit_bzero(b64, strlen(b64));
	if (pem != NULL)
		explicit_bzero(pem, strlen(pem));
	free(b64);
	free(pem);
	return rc;
}

/* The 32-byte seed d of an Ed25519 key, read from its PKCS#8 PEM. */
static enum dv_rc
okp_private_seed(EVP_PKEY *k, uint8_t d[ED25519_LEN])
{
	char *pem = NULL, *body = NULL;
	const char *b, *e, *p;
	uint8_t *der = NULL;
	size_t derlen = 0, n = 0;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	if (pki_key_to_pem(k, &pem) != DV_OK)
		goto out;
	if ((b = strstr(pem, pem_begin)) == NULL ||
	    (e = strstr(b, pem_end)) == NULL)
		goto out;
	b += sizeof(pem_begin) - 1;
	body = xmalloc(e - b + 1);
	for (p = b; p < e; p++)
		if (*p != '\n' && *p != '\r')
			body[n++] = *p;
	body[n] = '\0';
	if (pki_b64_decode(body, n, &der, &derlen) != DV_OK ||
	    derlen != sizeof(pkcs8_prefix) + ED25519_LEN ||
	    memcmp(der, pkcs8_prefix, sizeof(pkcs8_prefix)) != 0)
		goto out;
	memcpy(d, der + sizeof(pkcs8_prefix), ED25519_LEN);
	rc = DV_OK;
out:
	if (rc != DV_OK)
		okp_reject("RFC 8410 §7: not an Ed25519 private key");
	if (pem != NULL)
		explicit_bzero(pem, strlen(pem));
	if (body != NULL)
		explicit_bzero(body, n);
	if (der != NULL)
		explicit_bzero(der, derlen);
	free(pem);
	free(body);
	free(der);
	return rc;
}

enum dv_rc
jws_okp_from_pkey(EVP_PKEY *k, bool priv, json_t **out)
{
	uint8_t *der = NULL, d[ED25519_LEN];
	size_t len = 0;
	char *x = NULL, *ds = NULL;
	json_t *jwk;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_key_spki_der(k, &der, &len)) != DV_OK)
		goto out;
	if (len != sizeof(spki_prefix) + ED25519_LEN ||
	    memcmp(der, spki_prefix, sizeof(spki_prefix)) != 0) {
		okp_reject("RFC 8410 §4: not an Ed25519 public key");
		rc = DV_ERR_BAD_KEY;
		goto out;
	}
	x = jws_b64url_encode(der + sizeof(spki_prefix), ED25519_LEN);
	if (priv) {
		if ((rc = okp_private_seed(k, d)) != DV_OK)
			goto out;
		ds = jws_b64url_encode(d, sizeof(d));
		explicit_bzero(d, sizeof(d));
	}
	jwk = json_pack("{s:s,s:s,s:s,s:s*}", "kty", "OKP", "crv", "Ed25519",
	    "x", x, "d", ds);
	if (jwk == NULL)
		abort();
	*out = jwk;
out:
	if (ds != NULL)
		explicit_bzero(ds, strlen(ds));
	free(ds);
	free(x);
	free(der);
	return rc;
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
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY *k = NULL;
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	if (siglen != ED25519_SIGLEN)	/* RFC 8032 §5.1.6 */
		goto out;
	if (okp_public_pkey(jwk, &k) != DV_OK)
		goto out;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	/* Ed25519 is a one-shot signature: no digest, whole message */
	if (EVP_DigestVerifyInit(ctx, NULL, NULL, NULL, k) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, (const uint8_t *)input,
	    len) != 1) {
		pki_log_errors(LOG_DEBUG, "jws.eddsa");
		goto out;
	}
	rc = DV_OK;
out:
	EVP_MD_CTX_free(ctx);
	pki_key_free(k);
	return rc;
}
