/*
 * pki_int.h - what the files of src/pki share and nobody else includes
 * (STYLE rule 1).
 */
#ifndef DV_PKI_INT_H
#define DV_PKI_INT_H

#include <openssl/ec.h>
#include <openssl/x509v3.h>

#include "pki.h"

/* Digests fetched once by pki_init (spec/performance.md §2.2: implicit
 * fetches such as EVP_sha256() take the provider store locks each time). */
enum pki_md {
	PKI_MD_SHA1,
	PKI_MD_SHA256,
	PKI_MD_SHA384,
	PKI_MD_SHA512,
	PKI_MD__MAX
};

/* Runs pki_init once if nobody did; false if it failed. */
bool		 pki_ready(void);
const EVP_MD	*pki_md(enum pki_md);
/* The shared group of NIST P-256, P-384 or P-521 by NID (built once by
 * pki_init; never freed by callers), NULL for another curve. */
const EC_GROUP	*pki_ec_group(int nid);
/*
 * rawkey.c: the uncompressed point (at most 1 + 2 DV_TPM_MAX_ECC_BYTES
 * into pub) of the affine x, y (big-endian, leading zeros allowed) on
 * curve ("P-256", "P-384", "P-521"), checked to be on it, and the curve's
 * shared group.  DV_ERR_BAD_KEY (logged) otherwise.
 */
enum dv_rc	 pki_ec_point_oct(const char *curve, const uint8_t *x,
		    size_t xlen, const uint8_t *y, size_t ylen, uint8_t *pub,
		    size_t *publen, const EC_GROUP **group);
/* The pre-fetched digest for a digest NID, or NULL if it is not one. */
const EVP_MD	*pki_md_by_nid(int nid);
/* NID of the provisioner extension, registered by pki_init. */
int		 pki_nid_provisioner(void);

/*
 * Logs event at level with a printf-style detail followed by the drained
 * OpenSSL error queue (rule 10).  The queue is empty afterwards.
 */
void		 pki_log_ssl(enum log_level, const char *event,
		    const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* Moves an OPENSSL_malloc'd buffer into a malloc'd one (callers free()). */
uint8_t		*pki_take_buf(unsigned char *p, size_t len);

/*
 * Reads the next PEM block labelled label (or alt, when not NULL) from b,
 * skipping blocks of other types: its DER is new (OPENSSL_free).  Blocks
 * with RFC 1421 headers (encryption) are refused, never decrypted.
 * DV_ERR_NOT_FOUND when no such block is left, DV_ERR_MALFORMED on bad
 * base64.
 */
enum dv_rc	 pki_pem_next(BIO *b, const char *label, const char *alt,
		    unsigned char **der, long *len);

/* names.c: SANs <-> GENERAL_NAMES.  from_gens skips name types devid does
 * not issue (otherName, directoryName, ...) and fails on invalid names. */
enum dv_rc	 pki_sans_to_gens(const struct pki_sans *,
		    GENERAL_NAMES **out);
enum dv_rc	 pki_sans_from_gens(const GENERAL_NAMES *,
		    struct pki_sans *out);
/* X509_NAME first commonName as a new UTF-8 string; NULL if absent/bad. */
char		*pki_name_cn(const X509_NAME *);

/* sign.c: the signer glue shared by certificates, CRLs and OCSP. */
/* Sets alg to the AlgorithmIdentifier of a (RFC 5758 §3.2, RFC 4055 §5,
 * RFC 8410 §3: ECDSA and Ed25519 without parameters, RSA with NULL). */
enum dv_rc	 pki_sig_algor_set(X509_ALGOR *alg, enum pki_sig_alg a);
/*
 * Signs tbs with signer and writes SEQUENCE { tbs, algorithm, signature }
 * (RFC 5280 §4.1 / §5.1, RFC 6960 §4.2.1 without certs) to *der (new,
 * free()).  The signature value itself is returned in *sig (new) when sig
 * is not NULL.
 */
enum dv_rc	 pki_sign_wrap(const struct pki_signer *, const uint8_t *tbs,
		    size_t tbslen, uint8_t **der, size_t *derlen,
		    uint8_t **sig, size_t *siglen);
/* Sets bs to the len bytes at p (copied) as a whole number of bytes: no
 * unused bits, so that the encoder keeps trailing zero bits.  False when
 * OpenSSL fails (not logged). */
bool		 pki_bits_set(ASN1_BIT_STRING *bs, const uint8_t *p,
		    size_t len);
/* DER ECDSA-Sig-Value (SEC 1 §C.5) of big-endian r, s (the TPM's and
 * JWS's R || S halves); *der new, free().  DV_ERR_AK_SIGNATURE for a
 * length past INT_MAX, DV_ERR_CRYPTO (logged) otherwise. */
enum dv_rc	 pki_ecdsa_sig_der(const uint8_t *r, size_t rlen,
		    const uint8_t *s, size_t slen, uint8_t **der,
		    size_t *derlen);
/* Key identifier (RFC 5280 §4.2.1.2 method 1): SHA-1 of the key bits. */
ASN1_OCTET_STRING *pki_key_id(const uint8_t *bits, size_t len);
/* The issuer's SKI or, if it has none, its computed key identifier. */
ASN1_OCTET_STRING *pki_issuer_key_id(X509 *issuer);

/* cert.c: x itself (up-ref'd) when its key is decoded, else a decoded copy
 * read back from its DER (a certificate built by issue.c); NULL on error. */
X509		*pki_cert_decoded(X509 *x);
/* cert.c: decimal serial string -> ASN1_INTEGER (new). */
ASN1_INTEGER	*pki_serial_from_dec(const char *dec);
/* ASN1_INTEGER -> decimal string (new, free()). */
char		*pki_serial_to_dec(const ASN1_INTEGER *);

#endif
