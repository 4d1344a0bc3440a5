/*
 * tpm_int.h - what the files of src/tpm share and nobody else includes
 * (STYLE rule 1), plus the entry points with injected randomness that the
 * known-answer tests of tests/unit/test_tpm.c call ("we accept exposing
 * symbols to get better test coverage", tpm2-tss coding standard).
 */
#ifndef DV_TPM_INT_H
#define DV_TPM_INT_H

#include <tss2/tss2_mu.h>

#include "pki/pki.h"
#include "tpm.h"

#define TPM_EV		"tpm"

/* The pki hash of a TPM_ALG_ID hash; false for anything else. */
bool		tpm_hash_of(uint16_t alg, enum pki_hash *out);
/* "P-256", "P-384", "P-521" for a TPM_ECC_CURVE OpenSSL has; NULL for
 * the others. */
const char	*tpm_curve_name(uint16_t curve);

/*
 * Fixed "random" inputs of the secret sharing (known-answer tests only;
 * production passes NULL and everything is drawn at random):
 *   seed, seedlen      RSA: the seed to encrypt (1..hLen bytes);
 *   oaep_seed          RSA: the OAEP seed (hLen of the OAEP hash);
 *   ecc_priv, ..len    ECC: the ephemeral private scalar.
 */
struct tpm_fixed {
	const uint8_t	*seed;
	size_t		 seedlen;
	const uint8_t	*oaep_seed;
	const uint8_t	*ecc_priv;
	size_t		 ecc_privlen;
};

/*
 * Secret sharing with key (TPM 2.0 Part 1 §24.3 with Annex B.10.3 RSA /
 * C.6.1 ECC; spec §5.2) under label ("IDENTITY", "DUPLICATE", "SECRET";
 * the 0x00 terminator is added).  Writes the seed (seed buffer of
 * TPM_DIGEST_MAX bytes, *seedlen) and the TPMU_ENCRYPTED_SECRET contents:
 * the RSA-OAEP block or the marshalled TPMS_ECC_POINT of the ephemeral
 * key (*ct new, free()).  fixed may be NULL.
 */
enum dv_rc	tpm_secret_share(const struct tpm_public *key,
		    const char *label, const struct tpm_fixed *fixed,
		    uint8_t *seed, size_t *seedlen, uint8_t **ct,
		    size_t *ctlen);

/* tpm_make_credential with the fixed inputs of the known-answer tests. */
enum dv_rc	tpm_make_credential_fixed(const struct tpm_public *ek,
		    const uint8_t *name, size_t namelen,
		    const uint8_t *secret, size_t secretlen,
		    const struct tpm_fixed *fixed, uint8_t **credential,
		    size_t *credentiallen, uint8_t **encrypted_secret,
		    size_t *encrypted_secretlen);

#endif
