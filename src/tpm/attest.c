/*
 * attest.c - TPMS_ATTEST (TPM 2.0 Part 2 §10.12.12), TPMS_CREATION_DATA
 * (§15.1) and TPMT_SIGNATURE (§11.3.4) decoded with tss2-mu, and TPM
 * signature verification (Part 1 §30.2; spec/attestation.md §3, §4).
 */
#include <string.h>

#include "tpm_int.h"

/* Copies a TPM2B's contents (at most TPM_NAME_MAX bytes: names, digests,
 * qualifying data, whose tss2 buffers are no larger). */
static void
bytes_set(struct tpm_bytes *b, const uint8_t *v, size_t len)
{
	b->len = len < sizeof(b->v) ? len : sizeof(b->v);
	memcpy(b->v, v, b->len);
}

enum dv_rc
tpm_attest_parse(const uint8_t *data, size_t len, struct tpm_attest *out)
{
	TPMS_ATTEST a;
	size_t off = 0;
	TSS2_RC r = TSS2_RC_SUCCESS;

	memset(out, 0, sizeof(*out));
	if (len > DV_TPM_MAX_ATTEST) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "TPMS_ATTEST over DV_TPM_MAX_ATTEST");
		return DV_ERR_TOO_LARGE;
	}
	memset(&a, 0, sizeof(a));
	/* tss2-mu logs an error of its own for a NULL buffer */
	if (data == NULL || len == 0 ||
	    (r = Tss2_MU_TPMS_ATTEST_Unmarshal(data, len, &off, &a)) !=
	    TSS2_RC_SUCCESS || off != len) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i,s:i}", "detail",
		    "spec §3: TPMS_ATTEST does not decode exactly", "rc",
		    (int)r, "used", (int)off);
		return DV_ERR_TPM_STRUCT;
	}
	/* TPM2B_NAME, TPM2B_DATA and TPM2B_DIGEST buffers hold at most
	 * sizeof(TPMU_NAME) / sizeof(TPMU_HA) bytes, which fit struct
	 * tpm_bytes: tss2-mu refused anything larger */
	out->magic = a.magic;
	out->type = a.type;
	bytes_set(&out->qualified_signer, a.qualifiedSigner.name,
	    a.qualifiedSigner.size);
	bytes_set(&out->extra_data, a.extraData.buffer, a.extraData.size);
	out->clock = a.clockInfo.clock;
	out->reset_count = a.clockInfo.resetCount;
	out->restart_count = a.clockInfo.restartCount;
	out->safe = a.clockInfo.safe != 0;
	out->firmware_version = a.firmwareVersion;
	switch (a.type) {
	case TPM2_ST_ATTEST_CREATION:
		bytes_set(&out->name, a.attested.creation.objectName.name,
		    a.attested.creation.objectName.size);
		bytes_set(&out->digest, a.attested.creation.creationHash.buffer,
		    a.attested.creation.creationHash.size);
		break;
	case TPM2_ST_ATTEST_CERTIFY:
		bytes_set(&out->name, a.attested.certify.name.name,
		    a.attested.certify.name.size);
		bytes_set(&out->qualified_name,
		    a.attested.certify.qualifiedName.name,
		    a.attested.certify.qualifiedName.size);
		break;
	default:
		break;
	}
	return DV_OK;
}

enum dv_rc
tpm_creation_data_parse(const uint8_t *data, size_t len)
{
	TPMS_CREATION_DATA cd;
	size_t off = 0;
	TSS2_RC r = TSS2_RC_SUCCESS;

	if (len > DV_TPM_MAX_CREATION_DATA) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "TPMS_CREATION_DATA over DV_TPM_MAX_CREATION_DATA");
		return DV_ERR_TOO_LARGE;
	}
	memset(&cd, 0, sizeof(cd));
	/* tss2-mu logs an error of its own for a NULL buffer */
	if (data == NULL || len == 0 ||
	    (r = Tss2_MU_TPMS_CREATION_DATA_Unmarshal(data, len, &off,
	    &cd)) != TSS2_RC_SUCCESS || off != len) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i,s:i}", "detail",
		    "spec §3: TPMS_CREATION_DATA does not decode exactly",
		    "rc", (int)r, "used", (int)off);
		return DV_ERR_TPM_STRUCT;
	}
	return DV_OK;
}

enum dv_rc
tpm_signature_parse(const uint8_t *data, size_t len,
    struct tpm_signature *out)
{
	TPMT_SIGNATURE s;
	enum pki_hash h;
	size_t off = 0;
	TSS2_RC r = TSS2_RC_SUCCESS;

	memset(out, 0, sizeof(*out));
	if (len > DV_TPM_MAX_SIGNATURE) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "TPMT_SIGNATURE over DV_TPM_MAX_SIGNATURE");
		return DV_ERR_TOO_LARGE;
	}
	memset(&s, 0, sizeof(s));
	/* tss2-mu logs an error of its own for a NULL buffer */
	if (data == NULL || len == 0 ||
	    (r = Tss2_MU_TPMT_SIGNATURE_Unmarshal(data, len, &off, &s)) !=
	    TSS2_RC_SUCCESS || off != len) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i,s:i}", "detail",
		    "spec §3: TPMT_SIGNATURE does not decode exactly", "rc",
		    (int)r, "used", (int)off);
		return DV_ERR_TPM_STRUCT;
	}
	switch (s.sigAlg) {
	case TPM2_ALG_RSASSA:
	case TPM2_ALG_RSAPSS:
		if (s.signature.rsassa.sig.size > sizeof(out->sig))
			goto big;
		out->hash_alg = s.signature.rsassa.hash;
		out->siglen = s.signature.rsassa.sig.size;
		memcpy(out->sig, s.signature.rsassa.sig.buffer, out->siglen);
		break;
	case TPM2_ALG_ECDSA:
		if (s.signature.ecdsa.signatureR.size > sizeof(out->r) ||
		    s.signature.ecdsa.signatureS.size > sizeof(out->s))
			goto big;
		out->hash_alg = s.signature.ecdsa.hash;
		out->rlen = s.signature.ecdsa.signatureR.size;
		memcpy(out->r, s.signature.ecdsa.signatureR.buffer, out->rlen);
		out->slen = s.signature.ecdsa.signatureS.size;
		memcpy(out->s, s.signature.ecdsa.signatureS.buffer, out->slen);
		break;
	default:
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §4 step 9: signature scheme is not RSASSA, RSAPSS "
		    "or ECDSA", "sigAlg", (int)s.sigAlg);
		return DV_ERR_AK_SIGNATURE;
	}
	if (!tpm_hash_of(out->hash_alg, &h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §4 step 9: signature hash is not SHA-1/256/384/512",
		    "hashAlg", (int)out->hash_alg);
		memset(out, 0, sizeof(*out));
		return DV_ERR_AK_SIGNATURE;
	}
	out->sig_alg = s.sigAlg;
	return DV_OK;
big:
	memset(out, 0, sizeof(*out));
	log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
	    "TPMT_SIGNATURE value over DV_TPM_MAX_RSA_BYTES / _ECC_BYTES");
	return DV_ERR_TOO_LARGE;
}

enum dv_rc
tpm_signature_verify(const struct tpm_public *pub, const uint8_t *data,
    size_t len, const struct tpm_signature *sig)
{
	enum pki_tpm_sig scheme;
	enum pki_hash h;
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	switch (sig->sig_alg) {
	case TPM_ALG_RSASSA:
		scheme = PKI_TPM_SIG_RSASSA;
		break;
	case TPM_ALG_RSAPSS:
		scheme = PKI_TPM_SIG_RSAPSS;
		break;
	case TPM_ALG_ECDSA:
		scheme = PKI_TPM_SIG_ECDSA;
		break;
	default:
		goto bad;
	}
	if (!tpm_hash_of(sig->hash_alg, &h) ||
	    (pub->type == TPM_ALG_RSA) != (scheme != PKI_TPM_SIG_ECDSA)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §4 step 9: signature scheme does not fit the key");
		return DV_ERR_AK_SIGNATURE;
	}
	/* a key with a scheme signs only with it (Part 1 §30.2; go-attestation
	 * hashes with the AK's own scheme hash) */
	if (pub->scheme != TPM_ALG_NULL && (pub->scheme != sig->sig_alg ||
	    pub->scheme_hash != sig->hash_alg)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i,s:i}", "detail",
		    "spec §4 step 9: signature scheme differs from the key's",
		    "sigAlg", (int)sig->sig_alg, "hashAlg",
		    (int)sig->hash_alg);
		return DV_ERR_AK_SIGNATURE;
	}
	if ((rc = tpm_public_to_pkey(pub, &k)) != DV_OK)
		return rc;
	rc = pki_tpm_verify(k, scheme, h, data, len, sig->sig, sig->siglen,
	    sig->r, sig->rlen, sig->s, sig->slen);
	pki_key_free(k);
	if (rc == DV_ERR_AK_SIGNATURE)
		goto bad;
	return rc;
bad:
	log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
	    "spec §4 step 9: signature does not verify under the key");
	return DV_ERR_AK_SIGNATURE;
}
