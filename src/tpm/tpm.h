/*
 * tpm.h - TPM 2.0 structures on the server side, no TPM needed
 * (DESIGN.md §3; spec/attestation.md §2-5).
 *
 * Every TPM byte string from a client is decoded with Tss2_MU_*_Unmarshal
 * into a stack structure and must be consumed exactly (offset == len,
 * STYLE rule 20); no pointer casts.  Parsing, checking and acting are
 * separate (rule 22): tpm_*_parse decode, tpm_ak_check applies every check
 * of spec §4, tpm_make_credential acts on a checked AK Name.  All crypto
 * goes through src/pki (rule 16).
 *
 * Failures are logged once where they are found, naming the clause, under
 * the event "tpm" (rule 9).  Codes:
 *   DV_ERR_TPM_STRUCT   bytes do not decode, or bytes are left over
 *   DV_ERR_TOO_LARGE    over a DV_TPM_* limit of limits.h
 *   DV_ERR_BAD_KEY      an EK that is not RSA 2048..4096 / P-256, P-384
 *   DV_ERR_AK_*         one per check of tpm_ak_check (see there)
 *   DV_ERR_CRYPTO       OpenSSL failed on data that was already checked
 *
 * Typical /attest flow (spec §2.6):
 *
 *	struct tpm_ak_params p = { public, n, cd, n, att, n, sig, n };
 *	struct tpm_ak *ak;
 *	struct tpm_public *ek;
 *	if ((rc = tpm_ak_check(&p, &ak)) != DV_OK) return rc;
 *	if ((rc = tpm_ek_from_spki(ek_der, ek_len, &ek)) != DV_OK) ...
 *	pki_random(secret, 32);
 *	rc = tpm_make_credential(ek, ak->name, ak->namelen, secret, 32,
 *	    &cred, &credlen, &encsec, &encseclen);
 *	// base64 cred and encsec into {"credential","secret"} as they are
 *	// (both include their 2-byte size prefix, spec §2.3)
 *	// issue the AK certificate for ak->spki after /secret
 */
#ifndef DV_TPM_H
#define DV_TPM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <openssl/evp.h>

#include "base/base.h"

/* Bytes of a TPM2B_NAME's contents: u16 nameAlg || digest (SHA-512). */
#define TPM_NAME_MAX		(2 + 64)
/* Bytes of the largest digest (SHA-512). */
#define TPM_DIGEST_MAX		64

/* TPM_ALG_ID values used in the structures below (TPM 2.0 Part 2 §6.3;
 * spec §3).  Fields hold the raw 16-bit IDs so that unknown ones can be
 * logged; these name the ones devid understands. */
#define TPM_ALG_RSA		0x0001
#define TPM_ALG_SHA1		0x0004
#define TPM_ALG_AES		0x0006
#define TPM_ALG_SHA256		0x000B
#define TPM_ALG_SHA384		0x000C
#define TPM_ALG_SHA512		0x000D
#define TPM_ALG_NULL		0x0010
#define TPM_ALG_RSASSA		0x0014
#define TPM_ALG_RSAPSS		0x0016
#define TPM_ALG_OAEP		0x0017
#define TPM_ALG_ECDSA		0x0018
#define TPM_ALG_ECC		0x0023
#define TPM_ALG_CFB		0x0043

/* TPM_ECC_CURVE (Part 2 §6.4). */
#define TPM_ECC_NIST_P256	0x0003
#define TPM_ECC_NIST_P384	0x0004
#define TPM_ECC_NIST_P521	0x0005
#define TPM_ECC_BN_P256		0x0010
#define TPM_ECC_BN_P638		0x0011

/* TPMA_OBJECT bits (Part 2 §8.3). */
#define TPMA_FIXED_TPM		0x00000002u
#define TPMA_FIXED_PARENT	0x00000010u
#define TPMA_SENSITIVE_ORIGIN	0x00000020u
#define TPMA_USER_WITH_AUTH	0x00000040u
#define TPMA_ADMIN_WITH_POLICY	0x00000080u
#define TPMA_NO_DA		0x00000400u
#define TPMA_RESTRICTED		0x00010000u
#define TPMA_DECRYPT		0x00020000u
#define TPMA_SIGN		0x00040000u

/* TPMS_ATTEST magic and types (Part 2 §6.2, §6.9). */
#define TPM_GENERATED_VALUE	0xff544347u
#define TPM_ST_ATTEST_CERTIFY	0x8017
#define TPM_ST_ATTEST_QUOTE	0x8018
#define TPM_ST_ATTEST_CREATION	0x801A

/*
 * Call once at start-up, before threads: silences tss2-mu's own stderr
 * logging (sets TSS2_LOG=marshal+none unless TSS2_LOG is already set), which
 * would otherwise print a WARNING line for some hostile inputs; every
 * decoding failure is logged by this module itself (rule 9).
 */
void		tpm_init(void);

/* ---- TPMT_PUBLIC -------------------------------------------------- */

/*
 * A decoded TPMT_PUBLIC of an RSA or ECC key (spec §3), or an EK made from
 * a SubjectPublicKeyInfo with the TCG default template's parameters
 * (tpm_ek_from_spki).  Objects of other types (keyedhash, symcipher) are
 * refused by the parser.
 */
struct tpm_public {
	uint16_t	 type;		/* TPM_ALG_RSA or TPM_ALG_ECC */
	uint16_t	 name_alg;	/* TPM_ALG_SHA1/256/384/512 */
	uint32_t	 attributes;	/* TPMA_OBJECT */
	uint16_t	 sym_alg;	/* TPM_ALG_AES or TPM_ALG_NULL */
	uint16_t	 sym_bits;	/* 0 when sym_alg is NULL */
	uint16_t	 sym_mode;	/* TPM_ALG_CFB ...; 0 when NULL */
	uint16_t	 scheme;	/* RSASSA, RSAPSS, OAEP, ECDSA, NULL */
	uint16_t	 scheme_hash;	/* 0 when scheme is NULL */
	uint16_t	 rsa_bits;	/* RSA: keyBits; 0 for ECC */
	uint32_t	 rsa_exponent;	/* RSA; 65537 for a 0 field */
	uint16_t	 curve;		/* ECC: TPM_ECC_*; 0 for RSA */
	uint8_t		*unique;	/* owned: RSA modulus / ECC x || y */
	size_t		 uniquelen;
	size_t		 xlen;		/* ECC: bytes of x (y: the rest
					   uniquelen - xlen); 0 for RSA */
	uint8_t		*raw;		/* owned: TPMT_PUBLIC bytes; NULL
					   when made by tpm_ek_from_spki */
	size_t		 rawlen;
};

/*
 * Decodes a TPMT_PUBLIC (no TPM2B size prefix: what step's client sends
 * as params.public, spec §2.2) with Tss2_MU_TPMT_PUBLIC_Unmarshal and
 * requires every byte to be used.  Only RSA and ECC objects are accepted;
 * nothing else is checked (that is tpm_ak_check's job).  *out is new
 * (tpm_public_free).  DV_ERR_TOO_LARGE over DV_TPM_MAX_PUBLIC,
 * DV_ERR_TPM_STRUCT for anything undecodable or trailing.
 */
enum dv_rc	tpm_public_parse(const uint8_t *data, size_t len,
		    struct tpm_public **out);
/* As tpm_public_parse for a TPM2B_PUBLIC (u16 size || TPMT_PUBLIC: what
 * tpm2_createek -u / tpm2_create -u write), size must match exactly. */
enum dv_rc	tpm_public_parse_2b(const uint8_t *data, size_t len,
		    struct tpm_public **out);
void		tpm_public_free(struct tpm_public *);

/*
 * The Name of the object: u16 nameAlg || H_nameAlg(TPMT_PUBLIC bytes)
 * (TPM 2.0 Part 1 §16; spec §3), written to name (TPM_NAME_MAX bytes) and
 * its length to *namelen.  DV_ERR_BAD_KEY for an object made by
 * tpm_ek_from_spki (it has no TPMT_PUBLIC bytes) or a nameAlg that is not
 * SHA-1/256/384/512.
 */
enum dv_rc	tpm_public_name(const struct tpm_public *,
		    uint8_t name[TPM_NAME_MAX], size_t *namelen);

/*
 * The public key as an OpenSSL key (RSA n, e; ECC point on its curve,
 * checked to be on the curve).  *out is new (pki_key_free).  DV_ERR_BAD_KEY
 * for a curve OpenSSL lacks (BN curves) or a point not on the curve.
 */
enum dv_rc	tpm_public_to_pkey(const struct tpm_public *, EVP_PKEY **out);

/* SubjectPublicKeyInfo DER of the public key (what goes in the AK
 * certificate).  *der is new (free()). */
enum dv_rc	tpm_public_spki(const struct tpm_public *, uint8_t **der,
		    size_t *len);

/* ---- TPMS_ATTEST and TPMT_SIGNATURE ------------------------------- */

/* A TPM2B's contents held in place. */
struct tpm_bytes {
	uint8_t		 v[TPM_NAME_MAX];
	size_t		 len;
};

/*
 * A decoded TPMS_ATTEST (spec §3).  Filled in place; nothing to free.
 * For type TPM_ST_ATTEST_CREATION, name = objectName and digest =
 * creationHash; for TPM_ST_ATTEST_CERTIFY, name = name and qualified_name
 * = qualifiedName.  For other types (quote, time, ...) the attested union
 * is decoded but not kept (name, digest, qualified_name are empty).
 */
struct tpm_attest {
	uint32_t	 magic;		/* TPM_GENERATED_VALUE if by TPM */
	uint16_t	 type;		/* TPM_ST_ATTEST_* */
	struct tpm_bytes qualified_signer;
	struct tpm_bytes extra_data;	/* TPM2B_DATA: qualifyingData */
	uint64_t	 clock;
	uint32_t	 reset_count;
	uint32_t	 restart_count;
	bool		 safe;
	uint64_t	 firmware_version;
	struct tpm_bytes name;		/* objectName (creation) / name */
	struct tpm_bytes qualified_name; /* certify only */
	struct tpm_bytes digest;	/* creationHash (creation only) */
};

/*
 * Decodes a TPMS_ATTEST (no size prefix, spec §2.2 createAttestation)
 * with Tss2_MU_TPMS_ATTEST_Unmarshal, every byte used.  Nothing is checked
 * (magic and type are tpm_ak_check's).  *out is cleared on entry and
 * filled only on success.  DV_ERR_TOO_LARGE over DV_TPM_MAX_ATTEST,
 * DV_ERR_TPM_STRUCT otherwise.
 */
enum dv_rc	tpm_attest_parse(const uint8_t *data, size_t len,
		    struct tpm_attest *out);

/*
 * Decodes a TPMS_CREATION_DATA (spec §2.2 createData, no size prefix) with
 * Tss2_MU_TPMS_CREATION_DATA_Unmarshal, every byte used.  Nothing of it is
 * kept: only its hash matters (spec §4 step 5).  DV_ERR_TOO_LARGE over
 * DV_TPM_MAX_CREATION_DATA, DV_ERR_TPM_STRUCT otherwise.
 */
enum dv_rc	tpm_creation_data_parse(const uint8_t *data, size_t len);

/* A decoded TPMT_SIGNATURE.  Filled in place; nothing to free. */
struct tpm_signature {
	uint16_t	 sig_alg;	/* RSASSA, RSAPSS or ECDSA */
	uint16_t	 hash_alg;	/* SHA-1/256/384/512 */
	uint8_t		 sig[DV_TPM_MAX_RSA_BYTES]; /* RSA signature */
	size_t		 siglen;
	uint8_t		 r[DV_TPM_MAX_ECC_BYTES]; /* ECDSA */
	size_t		 rlen;
	uint8_t		 s[DV_TPM_MAX_ECC_BYTES];
	size_t		 slen;
};

/*
 * Decodes a TPMT_SIGNATURE (spec §2.2 createSignature) with
 * Tss2_MU_TPMT_SIGNATURE_Unmarshal, every byte used.  Only RSASSA, RSAPSS
 * and ECDSA with SHA-1/256/384/512 are accepted (DV_ERR_AK_SIGNATURE for
 * other schemes: HMAC, SM2, ECDAA ..., which tpm_signature_verify could
 * not check).  *out is cleared on entry and filled only on success.
 */
enum dv_rc	tpm_signature_parse(const uint8_t *data, size_t len,
		    struct tpm_signature *out);

/*
 * Verifies sig over data under the key pub: RSASSA-PKCS1-v1_5 or RSAPSS
 * for an RSA key, ECDSA (r, s) for an ECC key, hashing data with
 * sig->hash_alg (TPM 2.0 Part 1 §30.2).  A scheme that does not fit the
 * key type, or a key whose own scheme is not NULL and differs from sig's,
 * fails.  DV_ERR_AK_SIGNATURE when it does not verify.
 */
enum dv_rc	tpm_signature_verify(const struct tpm_public *pub,
		    const uint8_t *data, size_t len,
		    const struct tpm_signature *sig);

/* ---- AK checks (spec §4) ------------------------------------------ */

/* The AK attestation parameters as sent by step's client (spec §2.2
 * params, base64-decoded).  Every pointer is borrowed. */
struct tpm_ak_params {
	const uint8_t	*public;	/* TPMT_PUBLIC */
	size_t		 publiclen;
	const uint8_t	*create_data;	/* TPMS_CREATION_DATA */
	size_t		 create_datalen;
	const uint8_t	*create_attestation; /* TPMS_ATTEST */
	size_t		 create_attestationlen;
	const uint8_t	*create_signature; /* TPMT_SIGNATURE */
	size_t		 create_signaturelen;
};

/* A checked AK. */
struct tpm_ak {
	struct tpm_public *pub;		/* owned */
	uint8_t		 name[TPM_NAME_MAX]; /* Name(pub) = attested
					   objectName: the MakeCredential
					   name (spec §4 end) */
	size_t		 namelen;
	uint8_t		*spki;		/* owned: SPKI DER of the AK */
	size_t		 spkilen;
};

/*
 * Applies every check of spec §4 (go-attestation CheckAKParameters, plus
 * the [inferred] sign/decrypt checks), in this order, each with its code
 * and a log line naming the clause:
 *   1. createSignature at least 8 bytes; the four structures decode
 *      exactly (TPMS_CREATION_DATA too) .................. DV_ERR_TPM_STRUCT
 *   2. attest type TPM_ST_ATTEST_CREATION ............ DV_ERR_AK_ATTEST_TYPE
 *   3. RSA keyBits 2048..DV_TPM_MAX_RSA_BITS, exponent 65537 or 0; ECC
 *      curve NIST P-256/P-384/P-521 (BN curves decode but OpenSSL cannot
 *      verify them, so they are refused), x and y at full curve length;
 *      nameAlg SHA-256/384/512 (SHA-1 names are refused: collisions); the
 *      key's own scheme NULL or a signing scheme ............ DV_ERR_AK_KEY
 *   4. creationHash == H_nameAlg(createData) ........... DV_ERR_AK_CREATION
 *   5. magic TPM_GENERATED_VALUE ..................... DV_ERR_AK_NOT_GENERATED
 *   6. attributes fixedTPM, fixedParent, sensitiveDataOrigin, restricted,
 *      sign set, decrypt clear ......................... DV_ERR_AK_ATTRIBUTES
 *   7. objectName == Name(public) .......................... DV_ERR_AK_NAME
 *   8. createSignature verifies over createAttestation under the AK
 *      (tpm_signature_verify) ........................ DV_ERR_AK_SIGNATURE
 * Sizes over DV_TPM_MAX_* are DV_ERR_TOO_LARGE.  On success *out is new
 * (tpm_ak_free); on failure it is NULL.
 */
enum dv_rc	tpm_ak_check(const struct tpm_ak_params *,
		    struct tpm_ak **out);
void		tpm_ak_free(struct tpm_ak *);

/* ---- EK and MakeCredential (spec §5) ------------------------------ */

/*
 * An EK from its SubjectPublicKeyInfo DER (the /attest "ek" field), with
 * the TCG EK Credential Profile default template's parameters, as
 * tpm2-tools assumes for a PEM EK (spec §5.1):
 *   RSA 2048        nameAlg SHA-256, AES-128-CFB
 *   RSA 3072, 4096  nameAlg SHA-384, AES-256-CFB   (templates H-6, H-7)
 *   ECC P-256       nameAlg SHA-256, AES-128-CFB
 *   ECC P-384       nameAlg SHA-384, AES-256-CFB   (template H-3)
 *   ECC P-521       nameAlg SHA-512, AES-256-CFB   (template H-4)
 * attributes 0x000300B2 (restricted|decrypt|adminWithPolicy|
 * sensitiveDataOrigin|fixedParent|fixedTPM; the SHA-384/512 templates add
 * userWithAuth: 0x000300F2), scheme NULL.  raw is NULL: such an object
 * has no Name here (the authPolicy is not known).  Checked against swtpm's
 * RSA-2048, P-256 and high-range P-384 EKs (tests/unit/test_tpm.c).
 * *out is new (tpm_public_free).
 * DV_ERR_BAD_KEY for an undecodable SPKI or another key type or size
 * (spec §2.6 step 2), DV_ERR_TOO_LARGE over DV_MAX_DER.
 */
enum dv_rc	tpm_ek_from_spki(const uint8_t *der, size_t len,
		    struct tpm_public **out);

/*
 * The EK URN "urn:ek:sha256:" + base64std(SHA-256(SPKI DER)) of an EK
 * (spec §2.5, §13.2), the SPKI re-encoded as pki_ek_pub_urn does (one
 * function for the inventory and the AK certificate).  *urn is new.
 */
enum dv_rc	tpm_ek_urn(const struct tpm_public *ek, char **urn);

/*
 * TPM2_MakeCredential in software (TPM 2.0 Part 1 §24; spec §5.2-5.4),
 * following the TPM spec, not go-tpm legacy (spec §5.6, §15.2): every hash
 * is the EK's nameAlg, the symmetric key has the EK's keyBits.
 *   seed: RSA EK: hLen random bytes, RSAES-OAEP (hash = the EK scheme's
 *         hash if OAEP, else nameAlg; label "IDENTITY\0"); ECC EK (P-256,
 *         P-384, P-521): ephemeral ECDH, KDFe(nameAlg, Z, "IDENTITY",
 *         Qe.x, Qek.x), the ephemeral point at full coordinate length;
 *   symKey = KDFa(nameAlg, seed, "STORAGE", name, "", keyBits),
 *   encIdentity = AES-CFB(symKey, zero IV, u16 len || secret),
 *   hmacKey = KDFa(nameAlg, seed, "INTEGRITY", "", "", 8 hLen),
 *   outerHMAC = HMAC(hmacKey, encIdentity || name).
 * ek must be a restricted decryption key with AES-CFB symmetric parameters
 * (tpm_ek_from_spki makes one); name is the AK's Name contents (nameAlg ||
 * digest, 34 bytes for SHA-256, as tpm_ak gives it); secretlen 1..hLen.
 *
 * *credential is the TPM2B_ID_OBJECT and *encrypted_secret the
 * TPM2B_ENCRYPTED_SECRET, both WITH their 2-byte size prefix: exactly what
 * step's client expects in "credential" and "secret" (spec §2.3) and what
 * tpm2_activatecredential reads after the 0xBADCC0DE header (spec §14.5).
 * Both are new (free()).  DV_ERR_BAD_KEY for an unusable EK,
 * DV_ERR_INTERNAL for bad sizes of name or secret, DV_ERR_CRYPTO on an
 * OpenSSL failure.  The seed and derived keys are wiped (rule 14).
 */
enum dv_rc	tpm_make_credential(const struct tpm_public *ek,
		    const uint8_t *name, size_t namelen,
		    const uint8_t *secret, size_t secretlen,
		    uint8_t **credential, size_t *credentiallen,
		    uint8_t **encrypted_secret, size_t *encrypted_secretlen);

#endif
