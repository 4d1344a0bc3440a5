/*
 * ak.c - the AK checks of /attest (spec/attestation.md §4: go-attestation
 * CheckAKParameters, plus the [inferred] sign and decrypt checks), each
 * failure with its own code and a log line naming the clause.
 */
#include <string.h>

#include "tpm_int.h"

/* Bytes of one coordinate on a curve, 0 if the curve is not allowed. */
static size_t
curve_bytes(uint16_t curve)
{
	switch (curve) {
	case TPM_ECC_NIST_P256:
		return 32;
	case TPM_ECC_NIST_P384:
		return 48;
	case TPM_ECC_NIST_P521:
		return 66;
	default:
		return 0;
	}
}

/* Step 3: algorithm, size, nameAlg and scheme of the AK. */
static enum dv_rc
ak_key_check(const struct tpm_public *p)
{
	enum pki_hash h;
	size_t flen;

	if (p->name_alg == TPM_ALG_SHA1 || !tpm_hash_of(p->name_alg, &h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §4 step 4: AK nameAlg is not SHA-256/384/512",
		    "nameAlg", (int)p->name_alg);
		return DV_ERR_AK_KEY;
	}
	if (p->type == TPM_ALG_RSA) {
		if (p->rsa_bits < DV_TPM_MIN_RSA_BITS ||
		    p->rsa_bits > DV_TPM_MAX_RSA_BITS ||
		    p->uniquelen * 8 != p->rsa_bits ||
		    (p->unique[0] & 0x80) == 0) {
			log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
			    "spec §4 step 4: AK RSA key is not 2048..4096 "
			    "bits or its modulus differs from keyBits",
			    "keyBits", (int)p->rsa_bits);
			return DV_ERR_AK_KEY;
		}
		if (p->rsa_exponent != 65537) {
			log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
			    "spec §4 step 4: AK RSA exponent is not 65537");
			return DV_ERR_AK_KEY;
		}
		if (p->scheme != TPM_ALG_NULL &&
		    p->scheme != TPM_ALG_RSASSA &&
		    p->scheme != TPM_ALG_RSAPSS) {
			log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
			    "spec §4 step 9: AK RSA scheme is not RSASSA or "
			    "RSAPSS", "scheme", (int)p->scheme);
			return DV_ERR_AK_KEY;
		}
	} else {
		/* BN P-256/P-638 are in go-attestation's list but no
		 * verifier here has them: refuse rather than pass */
		if ((flen = curve_bytes(p->curve)) == 0) {
			log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
			    "spec §4 step 4: AK curve is not NIST "
			    "P-256/P-384/P-521", "curve", (int)p->curve);
			return DV_ERR_AK_KEY;
		}
		if (p->xlen != flen || p->uniquelen != 2 * flen) {
			log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
			    "spec §4 step 4: AK point coordinates are not at "
			    "the curve's length");
			return DV_ERR_AK_KEY;
		}
		if (p->scheme != TPM_ALG_NULL && p->scheme != TPM_ALG_ECDSA) {
			log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
			    "spec §4 step 9: AK ECC scheme is not ECDSA",
			    "scheme", (int)p->scheme);
			return DV_ERR_AK_KEY;
		}
	}
	if (p->scheme != TPM_ALG_NULL && !tpm_hash_of(p->scheme_hash, &h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §4 step 9: AK scheme hash is not SHA-1/256/384/512",
		    "hashAlg", (int)p->scheme_hash);
		return DV_ERR_AK_KEY;
	}
	return DV_OK;
}

/* Step 6 (spec §4 step 7 and the [inferred] sign/decrypt rule). */
static enum dv_rc
ak_attributes_check(uint32_t a)
{
	static const struct {
		uint32_t	 bit;
		bool		 set;
		const char	*why;
	} rules[] = {
		{ TPMA_FIXED_TPM, true,
		    "spec §4 step 7: AK is not fixedTPM (exportable)" },
		{ TPMA_FIXED_PARENT, true,
		    "spec §4 step 7: AK is not fixedParent" },
		{ TPMA_SENSITIVE_ORIGIN, true,
		    "spec §4 step 7: AK is not sensitiveDataOrigin" },
		{ TPMA_RESTRICTED, true,
		    "spec §4 step 7: AK is not restricted (not limited to "
		    "attestation)" },
		{ TPMA_SIGN, true, "spec §4 [inferred]: AK is not a signing "
		    "key (sign clear)" },
		{ TPMA_DECRYPT, false, "spec §4 [inferred]: AK is a "
		    "decryption key (decrypt set)" },
	};
	size_t i;

	for (i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
		if (((a & rules[i].bit) != 0) != rules[i].set) {
			log_msg(LOG_INFO, TPM_EV, "{s:s,s:I}", "detail",
			    rules[i].why, "objectAttributes", (json_int_t)a);
			return DV_ERR_AK_ATTRIBUTES;
		}
	}
	return DV_OK;
}

void
tpm_ak_free(struct tpm_ak *ak)
{
	if (ak == NULL)
		return;
	tpm_public_free(ak->pub);
	free(ak->spki);
	free(ak);
}

enum dv_rc
tpm_ak_check(const struct tpm_ak_params *p, struct tpm_ak **out)
{
	struct tpm_signature sig;
	struct tpm_attest att;
	struct tpm_ak *ak = NULL;
	uint8_t md[TPM_DIGEST_MAX];
	enum pki_hash h;
	enum dv_rc rc;

	*out = NULL;
	/* 1. sizes, then every structure decodes exactly */
	if (p->create_signaturelen < 8) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §4 step 1: createSignature shorter than 8 bytes");
		return DV_ERR_TPM_STRUCT;
	}
	ak = xcalloc(1, sizeof(*ak));
	if ((rc = tpm_public_parse(p->public, p->publiclen, &ak->pub)) !=
	    DV_OK || (rc = tpm_creation_data_parse(p->create_data,
	    p->create_datalen)) != DV_OK || (rc = tpm_attest_parse(
	    p->create_attestation, p->create_attestationlen, &att)) != DV_OK)
		goto err;
	/* the scheme check of tpm_signature_parse comes under step 9 */
	if ((rc = tpm_signature_parse(p->create_signature,
	    p->create_signaturelen, &sig)) != DV_OK)
		goto err;
	/* 2. a creation attestation */
	if (att.type != TPM_ST_ATTEST_CREATION) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §4 step 3: attestation type is not "
		    "TPM_ST_ATTEST_CREATION", "type", (int)att.type);
		rc = DV_ERR_AK_ATTEST_TYPE;
		goto err;
	}
	/* 3. algorithms and sizes; the key must also decode */
	if ((rc = ak_key_check(ak->pub)) != DV_OK)
		goto err;
	if ((rc = tpm_public_spki(ak->pub, &ak->spki, &ak->spkilen)) !=
	    DV_OK) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §4 step 4: AK public key is not a valid key");
		rc = DV_ERR_AK_KEY;
		goto err;
	}
	/* 4. creationHash = H_nameAlg(createData) */
	(void)tpm_hash_of(ak->pub->name_alg, &h);
	if ((rc = pki_digest(h, p->create_data, p->create_datalen, md)) !=
	    DV_OK)
		goto err;
	if (att.digest.len != pki_hash_size(h) ||
	    memcmp(att.digest.v, md, att.digest.len) != 0) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §4 step 5: creationHash is not the hash of "
		    "createData");
		rc = DV_ERR_AK_CREATION;
		goto err;
	}
	/* 5. made by a TPM */
	if (att.magic != TPM_GENERATED_VALUE) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:I}", "detail",
		    "spec §4 step 6: attestation magic is not TPM_GENERATED",
		    "magic", (json_int_t)att.magic);
		rc = DV_ERR_AK_NOT_GENERATED;
		goto err;
	}
	/* 6. attributes */
	if ((rc = ak_attributes_check(ak->pub->attributes)) != DV_OK)
		goto err;
	/* 7. the attestation is about this key */
	if ((rc = tpm_public_name(ak->pub, ak->name, &ak->namelen)) != DV_OK)
		goto err;
	if (att.name.len != ak->namelen ||
	    memcmp(att.name.v, ak->name, ak->namelen) != 0) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §4 step 8: attested objectName is not Name(AK)");
		rc = DV_ERR_AK_NAME;
		goto err;
	}
	/* 8. signed by the AK itself */
	if ((rc = tpm_signature_verify(ak->pub, p->create_attestation,
	    p->create_attestationlen, &sig)) != DV_OK)
		goto err;
	*out = ak;
	return DV_OK;
err:
	tpm_ak_free(ak);
	return rc;
}
