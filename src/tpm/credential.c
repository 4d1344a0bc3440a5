/*
 * credential.c - TPM2_MakeCredential in software (TPM 2.0 Part 1 §24
 * "Credential Protection"; spec/attestation.md §5): seed sharing with the
 * EK (RSA-OAEP or ECDH + KDFe, label "IDENTITY"), KDFa "STORAGE" and
 * "INTEGRITY", AES-CFB of the TPM2B_DIGEST credential, outer HMAC.  Follows
 * the TPM (ms-tpm Object_spt.c SecretToCredential) and tpm2-tools: the
 * EK's nameAlg and symmetric key size everywhere, an hLen seed (spec §5.6).
 */
#include <string.h>

#include "tpm_int.h"

static void
put16(uint8_t *p, size_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

/* RSA secret sharing (Part 1 Annex B.10.3): OAEP with the scheme's hash
 * if the key's scheme is OAEP, else nameAlg (ms-tpm CryptSecretEncrypt). */
static enum dv_rc
share_rsa(const struct tpm_public *key, EVP_PKEY *k, const char *label,
    const struct tpm_fixed *fixed, uint8_t *seed, size_t *seedlen,
    uint8_t **ct, size_t *ctlen)
{
	enum pki_hash oh, nh;
	size_t n;
	enum dv_rc rc;

	if (!tpm_hash_of(key->scheme == TPM_ALG_OAEP ? key->scheme_hash :
	    key->name_alg, &oh) || !tpm_hash_of(key->name_alg, &nh)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "Part 1 Annex B.10.3: no OAEP hash for the key");
		return DV_ERR_BAD_KEY;
	}
	/* the seed is hLen of nameAlg (tpm2-tools, go-tpm tpm2); the TPM
	 * takes any length up to the OAEP hash's */
	n = pki_hash_size(nh);
	if (fixed != NULL && fixed->seed != NULL) {
		if (fixed->seedlen == 0 || fixed->seedlen > TPM_DIGEST_MAX) {
			log_msg(LOG_ERR, TPM_EV, "{s:s}", "detail",
			    "fixed seed size");
			return DV_ERR_INTERNAL;
		}
		n = fixed->seedlen;
		memcpy(seed, fixed->seed, n);
	} else if ((rc = pki_random(seed, n)) != DV_OK)
		return rc;
	if ((rc = pki_rsa_oaep_encrypt(k, oh, (const uint8_t *)label,
	    strlen(label) + 1, seed, n, fixed != NULL ? fixed->oaep_seed :
	    NULL, ct, ctlen)) != DV_OK) {
		OPENSSL_cleanse(seed, n);
		return rc;
	}
	*seedlen = n;
	return DV_OK;
}

/* ECC secret sharing (Part 1 Annex C.6.1, ms-tpm CryptSecretEncrypt):
 * seed = KDFe(nameAlg, Z, label, Qe.x, Qek.x, 8 hLen); the ciphertext is
 * the TPMS_ECC_POINT Qe, each coordinate at the curve's full length. */
static enum dv_rc
share_ecc(const struct tpm_public *key, const char *label,
    const struct tpm_fixed *fixed, uint8_t *seed, size_t *seedlen,
    uint8_t **ct, size_t *ctlen)
{
	uint8_t z[DV_TPM_MAX_ECC_BYTES], qx[DV_TPM_MAX_ECC_BYTES];
	uint8_t qy[DV_TPM_MAX_ECC_BYTES];
	uint8_t *pt;
	const char *curve;
	enum pki_hash h;
	size_t flen = 0;
	enum dv_rc rc;

	if (!tpm_hash_of(key->name_alg, &h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "Part 1 Annex C.6.1: nameAlg is not a hash");
		return DV_ERR_BAD_KEY;
	}
	if ((curve = tpm_curve_name(key->curve)) == NULL) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "Part 2 §11.2.5: curve not supported (NIST P-256, P-384, "
		    "P-521 only)", "curve", (int)key->curve);
		return DV_ERR_BAD_KEY;
	}
	/* straight from the TPM's point: no EVP_PKEY to build and take
	 * apart again */
	if ((rc = pki_ecdh_ephemeral(curve, key->unique,
	    key->xlen, key->unique + key->xlen, key->uniquelen - key->xlen,
	    fixed != NULL ? fixed->ecc_priv : NULL, fixed != NULL ?
	    fixed->ecc_privlen : 0, z, qx, qy, &flen)) != DV_OK)
		goto out;
	/* partyUInfo is the ephemeral x, partyVInfo the EK's x as the TPM
	 * holds it (its unique.ecc.x, whatever its length) */
	if ((rc = pki_tpm_kdfe(h, z, flen, label, qx, flen, key->unique,
	    key->xlen, (uint32_t)(8 * pki_hash_size(h)), seed)) != DV_OK)
		goto out;
	*seedlen = pki_hash_size(h);
	pt = xmalloc(4 + 2 * flen);
	put16(pt, flen);
	memcpy(pt + 2, qx, flen);
	put16(pt + 2 + flen, flen);
	memcpy(pt + 4 + flen, qy, flen);
	*ct = pt;
	*ctlen = 4 + 2 * flen;
out:
	OPENSSL_cleanse(z, sizeof(z));
	return rc;
}

enum dv_rc
tpm_secret_share(const struct tpm_public *key, const char *label,
    const struct tpm_fixed *fixed, uint8_t *seed, size_t *seedlen,
    uint8_t **ct, size_t *ctlen)
{
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	*seedlen = 0;
	*ct = NULL;
	*ctlen = 0;
	if (key->type == TPM_ALG_ECC)
		return share_ecc(key, label, fixed, seed, seedlen, ct, ctlen);
	if ((rc = tpm_public_to_pkey(key, &k)) != DV_OK)
		return rc;
	rc = share_rsa(key, k, label, fixed, seed, seedlen, ct, ctlen);
	pki_key_free(k);
	return rc;
}

/* The checks of TPM2_MakeCredential (Part 3 §12.6: a restricted
 * decryption key with a symmetric algorithm; secret no longer than the
 * nameAlg digest) that the software version must make too. */
static enum dv_rc
credential_args_check(const struct tpm_public *ek, size_t namelen,
    size_t secretlen, enum pki_hash *h)
{
	if ((ek->attributes & (TPMA_RESTRICTED | TPMA_DECRYPT)) !=
	    (TPMA_RESTRICTED | TPMA_DECRYPT) || ek->sym_alg != TPM_ALG_AES ||
	    ek->sym_mode != TPM_ALG_CFB || (ek->sym_bits != 128 &&
	    ek->sym_bits != 192 && ek->sym_bits != 256) ||
	    !tpm_hash_of(ek->name_alg, h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "Part 3 §12.6: EK is not a restricted decryption key "
		    "with AES-CFB and a hash nameAlg");
		return DV_ERR_BAD_KEY;
	}
	if (namelen < 2 || namelen > TPM_NAME_MAX || secretlen == 0 ||
	    secretlen > pki_hash_size(*h)) {
		log_msg(LOG_ERR, TPM_EV, "{s:s}", "detail",
		    "Part 3 §12.6: name or secret size out of range");
		return DV_ERR_INTERNAL;
	}
	return DV_OK;
}

enum dv_rc
tpm_make_credential_fixed(const struct tpm_public *ek, const uint8_t *name,
    size_t namelen, const uint8_t *secret, size_t secretlen,
    const struct tpm_fixed *fixed, uint8_t **credential,
    size_t *credentiallen, uint8_t **encrypted_secret,
    size_t *encrypted_secretlen)
{
	uint8_t seed[TPM_DIGEST_MAX], symkey[32], hmackey[TPM_DIGEST_MAX];
	uint8_t cv[2 + TPM_DIGEST_MAX], *ct = NULL, *cred = NULL, *es;
	size_t seedlen = 0, ctlen = 0, hlen, cvlen, credlen;
	enum pki_hash h;
	enum dv_rc rc;

	*credential = NULL;
	*credentiallen = 0;
	*encrypted_secret = NULL;
	*encrypted_secretlen = 0;
	if ((rc = credential_args_check(ek, namelen, secretlen, &h)) != DV_OK)
		return rc;
	hlen = pki_hash_size(h);
	if ((rc = tpm_secret_share(ek, "IDENTITY", fixed, seed, &seedlen,
	    &ct, &ctlen)) != DV_OK)
		goto out;
	/* Part 1 §24.4: symKey = KDFa(nameAlg, seed, "STORAGE", name, NULL,
	 * keyBits); the credential is the marshalled TPM2B_DIGEST */
	if ((rc = pki_tpm_kdfa(h, seed, seedlen, "STORAGE", name, namelen,
	    NULL, 0, ek->sym_bits, symkey)) != DV_OK)
		goto out;
	cvlen = 2 + secretlen;
	put16(cv, secretlen);
	memcpy(cv + 2, secret, secretlen);
	/* TPM2B_ID_OBJECT = u16 size || u16 hLen || outerHMAC || encIdentity
	 * (encIdentity without a size of its own: tpm2-tools "do NOT include
	 * the encrypted_sensitive size") */
	credlen = 2 + 2 + hlen + cvlen;
	cred = xmalloc(credlen);
	put16(cred, credlen - 2);
	put16(cred + 2, hlen);
	if ((rc = pki_aes_cfb_encrypt(symkey, ek->sym_bits / 8, NULL, cv,
	    cvlen, cred + 4 + hlen)) != DV_OK)
		goto out;
	/* Part 1 §24.5: HMAC key = KDFa(nameAlg, seed, "INTEGRITY", NULL,
	 * NULL, 8 hLen); outerHMAC over encIdentity || name */
	if ((rc = pki_tpm_kdfa(h, seed, seedlen, "INTEGRITY", NULL, 0, NULL,
	    0, (uint32_t)(8 * hlen), hmackey)) != DV_OK ||
	    (rc = pki_hmac(h, hmackey, hlen, cred + 4 + hlen, cvlen, name,
	    namelen, cred + 4)) != DV_OK)
		goto out;
	es = xmalloc(2 + ctlen);
	put16(es, ctlen);
	memcpy(es + 2, ct, ctlen);
	*credential = cred;
	*credentiallen = credlen;
	*encrypted_secret = es;
	*encrypted_secretlen = 2 + ctlen;
	cred = NULL;
out:
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hmackey, sizeof(hmackey));
	OPENSSL_cleanse(cv, sizeof(cv));
	free(cred);
	free(ct);
	return rc;
}

enum dv_rc
tpm_make_credential(const struct tpm_public *ek, const uint8_t *name,
    size_t namelen, const uint8_t *secret, size_t secretlen,
    uint8_t **credential, size_t *credentiallen, uint8_t **encrypted_secret,
    size_t *encrypted_secretlen)
{
	return tpm_make_credential_fixed(ek, name, namelen, secret, secretlen,
	    NULL, credential, credentiallen, encrypted_secret,
	    encrypted_secretlen);
}
