/*
 * sign.c - puts a pki_signer's signature around to-be-signed DER, so that
 * certificates, CRLs and OCSP responses are signed without a private key in
 * this process (STYLE rule 15).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1.h"
#include "pki_int.h"

enum dv_rc
pki_sig_algor_set(X509_ALGOR *alg, enum pki_sig_alg a)
{
	int nid, ptype = V_ASN1_UNDEF;

	switch (a) {
	case PKI_SIG_ECDSA_SHA256:
		nid = NID_ecdsa_with_SHA256;
		break;
	case PKI_SIG_ECDSA_SHA384:
		nid = NID_ecdsa_with_SHA384;
		break;
	case PKI_SIG_RSA_SHA256:
		nid = NID_sha256WithRSAEncryption;
		ptype = V_ASN1_NULL;
		break;
	case PKI_SIG_ED25519:
		nid = NID_ED25519;
		break;
	default:
		log_msg(LOG_ERR, "pki.sign", "{s:s}", "detail",
		    "signer has no usable signature algorithm");
		return DV_ERR_BAD_KEY;
	}
	if (!X509_ALGOR_set0(alg, OBJ_nid2obj(nid), ptype, NULL)) {
		pki_log_ssl(LOG_ERR, "pki.sign", "X509_ALGOR_set0");
		return DV_ERR_CRYPTO;
	}
	return DV_OK;
}

enum dv_rc
pki_signed_der(enum pki_sig_alg alg, const uint8_t *tbs, size_t tbslen,
    const uint8_t *sig, size_t siglen, uint8_t **der, size_t *derlen)
{
	PKI_SIGNED *s = NULL;
	ASN1_STRING *seq = NULL;
	unsigned char *p = NULL;
	int n;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*der = NULL;
	*derlen = 0;
	if (tbslen > INT_MAX || siglen > INT_MAX ||
	    (s = PKI_SIGNED_new()) == NULL ||
	    (seq = ASN1_STRING_type_new(V_ASN1_SEQUENCE)) == NULL ||
	    !ASN1_STRING_set(seq, tbs, (int)tbslen)) {
		pki_log_ssl(LOG_ERR, "pki.sign", "PKI_SIGNED_new");
		goto out;
	}
	/* ANY of type SEQUENCE is written verbatim, tag included */
	ASN1_TYPE_set(s->tbs, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if ((rc = pki_sig_algor_set(s->sigalg, alg)) != DV_OK)
		goto out;
	rc = DV_ERR_CRYPTO;
	if (!pki_bits_set(s->signature, sig, siglen)) {
		pki_log_ssl(LOG_ERR, "pki.sign", "ASN1_BIT_STRING_set");
		goto out;
	}
	if ((n = i2d_PKI_SIGNED(s, &p)) <= 0) {
		pki_log_ssl(LOG_ERR, "pki.sign", "i2d_PKI_SIGNED");
		goto out;
	}
	*der = pki_take_buf(p, (size_t)n);
	*derlen = (size_t)n;
	rc = DV_OK;
out:
	ASN1_STRING_free(seq);
	PKI_SIGNED_free(s);
	return rc;
}

enum dv_rc
pki_sign_wrap(const struct pki_signer *signer, const uint8_t *tbs,
    size_t tbslen, uint8_t **der, size_t *derlen, uint8_t **sigout,
    size_t *sigoutlen)
{
	uint8_t *sig = NULL;
	size_t siglen = 0;
	enum dv_rc rc;

	*der = NULL;
	*derlen = 0;
	if (sigout != NULL) {
		*sigout = NULL;
		*sigoutlen = 0;
	}
	if ((rc = signer->sign(signer->arg, tbs, tbslen, &sig, &siglen)) !=
	    DV_OK)
		goto out;
	if ((rc = pki_signed_der(signer->alg, tbs, tbslen, sig, siglen, der,
	    derlen)) != DV_OK)
		goto out;
	if (sigout != NULL) {
		*sigout = sig;
		*sigoutlen = siglen;
		sig = NULL;
	}
out:
	free(sig);
	return rc;
}

ASN1_OCTET_STRING *
pki_key_id(const uint8_t *bits, size_t len)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int mdlen = 0;
	ASN1_OCTET_STRING *id;

	if (!EVP_Digest(bits, len, md, &mdlen, pki_md(PKI_MD_SHA1), NULL) ||
	    (id = ASN1_OCTET_STRING_new()) == NULL)
		goto err;
	if (!ASN1_OCTET_STRING_set(id, md, (int)mdlen)) {
		ASN1_OCTET_STRING_free(id);
		goto err;
	}
	return id;
err:
	pki_log_ssl(LOG_ERR, "pki.key_id", "SHA-1 key identifier");
	return NULL;
}

ASN1_OCTET_STRING *
pki_issuer_key_id(X509 *issuer)
{
	const ASN1_OCTET_STRING *ski;
	const ASN1_BIT_STRING *bits;
	ASN1_OCTET_STRING *id;

	/* X509_get0_subject_key_id caches the extensions (rule 17).  On a
	 * certificate fresh from pki_cert_issue the caching queues a "no
	 * public key" error while it looks for self-signature: dropped. */
	ski = X509_get0_subject_key_id(issuer);
	ERR_clear_error();
	if (ski != NULL) {
		if ((id = ASN1_OCTET_STRING_dup(ski)) == NULL)
			pki_log_ssl(LOG_ERR, "pki.key_id", "ASN1_STRING_dup");
		return id;
	}
	if ((bits = X509_get0_pubkey_bitstr(issuer)) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.key_id", "issuer has no key");
		return NULL;
	}
	return pki_key_id(ASN1_STRING_get0_data(bits),
	    (size_t)ASN1_STRING_length(bits));
}
