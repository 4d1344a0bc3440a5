/*
 * fmt_tpm.c - device-attest-01 format `tpm` (spec/attestation.md §8;
 * step-ca doTPMAttestationFormat, go-attestation CertificationParameters
 * .Verify).  The AK, certified by the team's Attestation CA (x5c), signs a
 * TPM2_Certify of the attested key (certInfo over pubArea) whose
 * qualifyingData is SHA-256 of the key authorization.
 */
#include <stdlib.h>
#include <string.h>

#include "tpm/tpm.h"

#include "attest_int.h"

/* COSE algorithm ids (RFC 9053 §2.1, RFC 8812 §2). */
#define COSE_ES256	(-7)
#define COSE_RS256	(-257)

/* spec §8 step 8: RSA >= 2048 (and what src/tpm can hold) or a NIST
 * curve OpenSSL can use. */
static bool
tpm_key_ok(const struct tpm_public *k)
{
	if (k->type == TPM_ALG_RSA)
		return k->rsa_bits >= DV_TPM_MIN_RSA_BITS &&
		    k->rsa_bits <= DV_TPM_MAX_RSA_BITS;
	return k->curve == TPM_ECC_NIST_P256 ||
	    k->curve == TPM_ECC_NIST_P384 || k->curve == TPM_ECC_NIST_P521;
}

/* The AK signature over certInfo (spec §8 step 8 end). */
static enum dv_rc
tpm_sig_check(const struct att_object *o, X509 *ak)
{
	struct tpm_signature sig;
	enum pki_tpm_sig scheme;
	enum dv_rc rc;

	if ((rc = tpm_signature_parse(o->sig.v, o->sig.len, &sig)) != DV_OK) {
		if (rc == DV_ERR_TPM_STRUCT || rc == DV_ERR_TOO_LARGE)
			return rc;	/* logged by src/tpm */
		att_log(o->fmt, DV_ERR_ATT_ALG, "spec §8 step 8: signature "
		    "scheme not RSASSA, RSAPSS or ECDSA");
		return DV_ERR_ATT_ALG;
	}
	if (sig.hash_alg != TPM_ALG_SHA256) {
		att_log(o->fmt, DV_ERR_ATT_ALG, "spec §8 step 7: signature "
		    "hash is not alg's (SHA-256)");
		return DV_ERR_ATT_ALG;
	}
	scheme = sig.sig_alg == TPM_ALG_RSASSA ? PKI_TPM_SIG_RSASSA :
	    sig.sig_alg == TPM_ALG_RSAPSS ? PKI_TPM_SIG_RSAPSS :
	    PKI_TPM_SIG_ECDSA;
	if (pki_tpm_verify(pki_cert_pubkey0(ak), scheme, PKI_HASH_SHA256,
	    o->cert_info.v, o->cert_info.len, sig.sig, sig.siglen, sig.r,
	    sig.rlen, sig.s, sig.slen) != DV_OK) {
		att_log(o->fmt, DV_ERR_ATT_SIGNATURE, "spec §8 step 8: sig "
		    "does not verify over certInfo under the AK certificate");
		return DV_ERR_ATT_SIGNATURE;
	}
	return DV_OK;
}

/* spec §8 steps 7-9: the TPM structures, in go-attestation's order. */
static enum dv_rc
tpm_certify_check(const struct att_object *o, const struct att_params *p,
    X509 *ak, struct tpm_public **pub)
{
	const uint32_t must = TPMA_FIXED_TPM | TPMA_FIXED_PARENT |
	    TPMA_SENSITIVE_ORIGIN;
	struct tpm_attest att;
	uint8_t name[TPM_NAME_MAX], md[32];
	size_t namelen;
	enum dv_rc rc;

	*pub = NULL;
	if ((rc = tpm_attest_parse(o->cert_info.v, o->cert_info.len,
	    &att)) != DV_OK)
		return rc;	/* logged by src/tpm */
	if (att.type != TPM_ST_ATTEST_CERTIFY) {
		att_log(o->fmt, DV_ERR_ATT_CERTIFY_TYPE, "spec §8 step 8: "
		    "certInfo is not TPM_ST_ATTEST_CERTIFY");
		return DV_ERR_ATT_CERTIFY_TYPE;
	}
	if ((rc = tpm_public_parse(o->pub_area.v, o->pub_area.len, pub)) !=
	    DV_OK)
		return rc;
	if (!tpm_key_ok(*pub)) {
		rc = DV_ERR_ATT_KEY;
		att_log(o->fmt, rc, "spec §8 step 8: attested key not RSA "
		    "2048-4096 or NIST P-256/384/521");
		goto bad;
	}
	if (att.magic != TPM_GENERATED_VALUE) {
		rc = DV_ERR_ATT_NOT_GENERATED;
		att_log(o->fmt, rc, "TPM 2.0 Part 2 §10.12.8: certInfo magic "
		    "is not TPM_GENERATED_VALUE");
		goto bad;
	}
	if (((*pub)->attributes & must) != must ||
	    ((*pub)->attributes & TPMA_RESTRICTED)) {
		rc = DV_ERR_ATT_ATTRIBUTES;
		att_log(o->fmt, rc, "spec §8 step 8: attested key lacks "
		    "fixedTPM, fixedParent or sensitiveDataOrigin, or is "
		    "restricted");
		goto bad;
	}
	if (tpm_public_name(*pub, name, &namelen) != DV_OK ||
	    att.name.len != namelen ||
	    memcmp(att.name.v, name, namelen) != 0) {
		rc = DV_ERR_ATT_NAME;
		att_log(o->fmt, rc, "spec §8 step 8: certified name is not "
		    "Name(pubArea)");
		goto bad;
	}
	if ((rc = tpm_sig_check(o, ak)) != DV_OK)
		goto bad;
	/* spec §8 step 9: always SHA-256, whatever alg says (§15.7) */
	pki_sha256(p->key_auth, p->key_auth != NULL ? strlen(p->key_auth) :
	    0, md);
	if (p->key_auth == NULL || att.extra_data.len != sizeof(md) ||
	    !pki_mem_equal(att.extra_data.v, md, sizeof(md))) {
		rc = DV_ERR_ATT_KEYAUTH;
		att_log(o->fmt, rc, "spec §8 step 9: extraData is not "
		    "SHA-256(keyAuthorization)");
		goto bad;
	}
	return DV_OK;
bad:
	tpm_public_free(*pub);
	*pub = NULL;
	return rc;
}

enum dv_rc
att_tpm_verify(const struct att_object *o, const struct att_params *p,
    struct att_result *res)
{
	struct att_result r;
	struct tpm_public *pub = NULL;
	X509 *ak = NULL;
	uint8_t *spki = NULL;
	size_t spkilen;
	enum dv_rc rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	rc = DV_ERR_ATT_FORMAT;
	if (o->fmt != ATT_FMT_TPM) {
		att_log(o->fmt, rc, "att_tpm_verify: fmt is not tpm");
		goto out;
	}
	rc = DV_ERR_ATT_STMT;
	if (!(o->present & ATT_F_VER)) {
		att_log(o->fmt, rc, "spec §8 step 1: ver missing");
		goto out;
	}
	if (strcmp(o->ver, "2.0") != 0) {
		rc = DV_ERR_ATT_VERSION;
		att_log(o->fmt, rc, "spec §8 step 1: ver is not \"2.0\"");
		goto out;
	}
	if ((rc = att_x5c_verify(o, p->tpm_roots, p, &ak)) != DV_OK)
		goto out;
	if (pki_akcert_read(ak, &r.ak) != DV_OK) {
		rc = DV_ERR_ATT_AK_CERT;
		att_log(o->fmt, rc, "spec §8 step 5: AK certificate profile");
		goto out;
	}
	rc = DV_ERR_ATT_STMT;
	if (o->pub_area.len == 0 || o->sig.len == 0 ||
	    o->cert_info.len == 0 || !(o->present & ATT_F_ALG)) {
		att_log(o->fmt, rc, "spec §8 step 7: pubArea, sig, certInfo "
		    "or alg missing or empty");
		goto out;
	}
	/* spec §8 step 7; RS1 (-65535, SHA-1) is refused unlike step-ca:
	 * a SHA-1 certify signature is not worth trusting in 2026 */
	if (o->alg != COSE_RS256 && o->alg != COSE_ES256) {
		rc = DV_ERR_ATT_ALG;
		att_log(o->fmt, rc, "spec §8 step 7: alg is not RS256 (-257) "
		    "or ES256 (-7)");
		goto out;
	}
	if ((rc = tpm_certify_check(o, p, ak, &pub)) != DV_OK)
		goto out;
	if ((rc = tpm_public_spki(pub, &spki, &spkilen)) != DV_OK)
		goto out;
	r.fmt = ATT_FMT_TPM;
	if ((rc = att_result_set_spki(&r, spki, spkilen)) != DV_OK)
		goto out;
	*res = r;
	memset(&r, 0, sizeof(r));
out:
	free(spki);
	tpm_public_free(pub);
	pki_cert_free(ak);
	att_result_clear(&r);
	return rc;
}
