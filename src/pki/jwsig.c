/*
 * jwsig.c - verifying the signature of a JWS with a key already decoded
 * (RFC 7518 §3).  The token path verifies every request's JWS; converting
 * the provisioner's JWK to a key each time through libjose costs more than
 * the signature itself, so the key is decoded once and the signature checked
 * here.  ECDSA signatures arrive as R || S (RFC 7518 §3.4) and are turned
 * into the DER Ecdsa-Sig-Value with OpenSSL's ECDSA_SIG, not by hand.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/rsa.h>

#include "pki_int.h"

#define EV	"pki.jws_verify"

struct jws_alg_def {
	const char	*name;
	const char	*keytype;	/* EVP_PKEY_is_a */
	const char	*curve;		/* EC only */
	int		 md;		/* enum pki_md, -1: none */
	size_t		 half;		/* EC: bytes of R and of S */
	bool		 pss;
};

static const struct jws_alg_def algs[] = {
	{ "ES256", "EC", "prime256v1", PKI_MD_SHA256, 32, false },
	{ "ES384", "EC", "secp384r1", PKI_MD_SHA384, 48, false },
	{ "ES512", "EC", "secp521r1", PKI_MD_SHA512, 66, false },
	{ "RS256", "RSA", NULL, PKI_MD_SHA256, 0, false },
	{ "RS384", "RSA", NULL, PKI_MD_SHA384, 0, false },
	{ "RS512", "RSA", NULL, PKI_MD_SHA512, 0, false },
	{ "PS256", "RSA", NULL, PKI_MD_SHA256, 0, true },
	{ "PS384", "RSA", NULL, PKI_MD_SHA384, 0, true },
	{ "PS512", "RSA", NULL, PKI_MD_SHA512, 0, true },
	{ "EdDSA", "ED25519", NULL, -1, 0, false },
};

static const struct jws_alg_def *
alg_find(const char *name)
{
	size_t i;

	for (i = 0; name != NULL && i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

/* True if k is of the type (and curve, and size) alg a needs. */
static bool
key_fits(EVP_PKEY *k, const struct jws_alg_def *a)
{
	char group[32];
	size_t n = 0;

	if (!EVP_PKEY_is_a(k, a->keytype))
		return false;
	if (a->curve != NULL) {
		if (EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), &n) != 1)
			return false;
		return strcmp(group, a->curve) == 0;
	}
	if (strcmp(a->keytype, "RSA") == 0)
		return EVP_PKEY_get_bits(k) >= DV_MIN_RSA_BITS &&
		    EVP_PKEY_get_bits(k) <= DV_MAX_RSA_BITS;
	return true;
}

enum dv_rc
pki_verify_jws(EVP_PKEY *k, const char *alg, const uint8_t *input,
    size_t len, const uint8_t *sig, size_t siglen)
{
	const struct jws_alg_def *a = alg_find(alg);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	if (a == NULL || k == NULL) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 7518 §3.1: alg not supported");
		return DV_ERR_BAD_TOKEN;
	}
	if (!key_fits(k, a)) {
		ERR_clear_error();
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "RFC 7518 §3: the key does not fit alg", "alg", a->name);
		return DV_ERR_BAD_TOKEN;
	}
	if (a->half != 0) {
		if (siglen != 2 * a->half || pki_ecdsa_sig_der(sig, a->half,
		    sig + a->half, a->half, &der, &derlen) != DV_OK) {
			log_msg(LOG_INFO, EV, "{s:s}", "detail",
			    "RFC 7518 §3.4: ECDSA signature is not R || S");
			return DV_ERR_BAD_TOKEN;
		}
		sig = der;
		siglen = derlen;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestVerifyInit(ctx, &pctx, a->md < 0 ? NULL :
	    pki_md((enum pki_md)a->md), NULL, k) != 1)
		goto out;
	if (a->pss && (EVP_PKEY_CTX_set_rsa_padding(pctx,
	    RSA_PKCS1_PSS_PADDING) != 1 ||
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_DIGEST)
	    != 1))
		goto out;
	if (EVP_DigestVerify(ctx, sig, siglen, input, len) != 1)
		goto out;
	rc = DV_OK;
out:
	if (rc != DV_OK) {
		pki_log_ssl(LOG_DEBUG, EV, "EVP_DigestVerify");
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "RFC 7515 §5.2: signature does not verify", "alg", a->name);
	}
	EVP_MD_CTX_free(ctx);
	free(der);
	return rc;
}
