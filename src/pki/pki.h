/*
 * pki.h - every use of OpenSSL's X.509, key, CRL and OCSP machinery in devid
 * (STYLE rule 16).  Other modules hold X509 / EVP_PKEY pointers only to pass
 * them back here.
 *
 * Hot path (spec/performance.md §2.2): CSRs are parsed with a local ASN.1
 * template that leaves the public key as bytes, the key is imported with
 * EVP_PKEY_fromdata only to check the proof of possession, and the SPKI is
 * copied into the certificate with X509_PUBKEY_set0_param; digests are
 * pre-fetched once (pki_init).  Never X509_set_pubkey / d2i_X509_REQ there.
 *
 * CA private keys are never needed here: a certificate, CRL or OCSP response
 * is built, its to-be-signed bytes handed to a struct pki_signer, and the
 * returned signature put in place.
 *
 * Every buffer or string said to be new is freed with free(); OpenSSL
 * objects with the pki_*_free functions (or their OpenSSL counterparts).
 */
#ifndef DV_PKI_H
#define DV_PKI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/base.h"

/* Pre-fetches digests and registers custom OIDs.  Call once before threads. */
enum dv_rc	pki_init(void);

/* Drains the OpenSSL error queue into one log entry named event (rule 10). */
void		pki_log_errors(enum log_level, const char *event);

/* ---- keys ---------------------------------------------------------- */

enum pki_key_type {
	PKI_KEY_P256,
	PKI_KEY_P384,
	PKI_KEY_RSA2048,
	PKI_KEY_RSA3072,
	PKI_KEY_RSA4096,
	PKI_KEY_ED25519,
	PKI_KEY__MAX
};

/* Signature algorithm of a CA key (what goes in signatureAlgorithm). */
enum pki_sig_alg {
	PKI_SIG_ECDSA_SHA256,
	PKI_SIG_ECDSA_SHA384,
	PKI_SIG_RSA_SHA256,	/* RSASSA-PKCS1-v1_5 */
	PKI_SIG_ED25519,
	PKI_SIG__MAX
};

/* "p256" "p384" "rsa2048" "rsa3072" "rsa4096" "ed25519" <-> enum. */
enum dv_rc	 pki_key_type_parse(const char *, enum pki_key_type *out);
const char	*pki_key_type_name(enum pki_key_type);

/* New key pair; *out is owned by the caller (pki_key_free). */
enum dv_rc	pki_key_generate(enum pki_key_type, EVP_PKEY **out);
void		pki_key_free(EVP_PKEY *);
/* k with one more reference (get1: the caller frees it with pki_key_free);
 * thread-safe, for keys shared by a cache. */
EVP_PKEY	*pki_key_ref(EVP_PKEY *k);
/* Signature algorithm to use with key k (P-384 -> ECDSA_SHA384, ...). */
enum dv_rc	pki_key_sig_alg(EVP_PKEY *k, enum pki_sig_alg *out);

/* PKCS#8 PEM encrypted with scrypt (N=2^14, r=8, p=1: 2^15 exceeds
 * OpenSSL's 32 MiB scrypt limit on reading) + AES-256-CBC under pass.  *pem
 * is a new NUL-terminated string. */
enum dv_rc	pki_key_to_encrypted_pem(EVP_PKEY *, const char *pass,
		    char **pem);
/* Reads an encrypted (pass != NULL) or plain PKCS#8 PEM private key. */
enum dv_rc	pki_key_from_pem(const char *pem, size_t len, const char *pass,
		    EVP_PKEY **out);
/* Unencrypted PKCS#8 PEM (client-side keys, 0600 files).  *pem is new and
 * secret: OPENSSL_cleanse it before free (rule 14). */
enum dv_rc	pki_key_to_pem(EVP_PKEY *, char **pem);
/* SubjectPublicKeyInfo DER of k, new buffer. */
enum dv_rc	pki_key_spki_der(EVP_PKEY *k, uint8_t **der, size_t *len);
/* Public key from SPKI DER. */
enum dv_rc	pki_key_from_spki(const uint8_t *der, size_t len,
		    EVP_PKEY **out);

/* Signs data (hashing it per alg) with a local key: used only by the signer
 * process and by `devid-ca init`.  *sig is new. */
enum dv_rc	pki_sign_data(EVP_PKEY *k, enum pki_sig_alg,
		    const uint8_t *data, size_t len, uint8_t **sig,
		    size_t *siglen);

/*
 * The digest alg signs for data into md (EVP_MAX_MD_SIZE bytes), so that a
 * signer can be sent the digest instead of the data (a CRL's to-be-signed
 * part grows with every revocation).  DV_ERR_BAD_KEY for Ed25519: PureEdDSA
 * signs the message itself.
 */
enum dv_rc	pki_sig_digest(enum pki_sig_alg, const uint8_t *data,
		    size_t len, uint8_t *md, size_t *mdlen);
/* Signs the digest md made by pki_sig_digest for alg with a local key, the
 * same signature pki_sign_data gives over the data.  *sig is new. */
enum dv_rc	pki_sign_digest(EVP_PKEY *k, enum pki_sig_alg,
		    const uint8_t *md, size_t mdlen, uint8_t **sig,
		    size_t *siglen);
/*
 * A context that signs digests for one key and alg again and again, as
 * pki_sign_digest does once (the signer child keeps one per key instead
 * of setting one up per signature: EVP_PKEY_CTX_set_signature_md fetches
 * the digest by name).  *out is new: pki_sign_ctx_free.  The key must
 * outlive it.  pki_sign_ctx_digest: *sig is new.
 */
struct pki_sign_ctx;
enum dv_rc	pki_sign_ctx_new(EVP_PKEY *k, enum pki_sig_alg,
		    struct pki_sign_ctx **out);
enum dv_rc	pki_sign_ctx_digest(struct pki_sign_ctx *, const uint8_t *md,
		    size_t mdlen, uint8_t **sig, size_t *siglen);
void		pki_sign_ctx_free(struct pki_sign_ctx *);

/* Verifies sig over data (hashing it per alg) with public key k:
 * DV_ERR_BAD_TOKEN when it does not verify. */
enum dv_rc	pki_verify_data(EVP_PKEY *k, enum pki_sig_alg,
		    const uint8_t *data, size_t len, const uint8_t *sig,
		    size_t siglen);
/*
 * Verifies a JWS signature (RFC 7518 §3: alg "ES256", "ES384", "ES512",
 * "RS256".."PS512", "EdDSA"; ECDSA as R || S) over input with k, which must
 * fit alg (curve, RSA size).  DV_ERR_BAD_TOKEN when it does not verify.
 */
enum dv_rc	pki_verify_jws(EVP_PKEY *k, const char *alg,
		    const uint8_t *input, size_t len, const uint8_t *sig,
		    size_t siglen);
/* Ed25519 keys from and to their raw RFC 8032 bytes (JWK "x", "d"): with
 * d a private key (x must match it), else a public one. */
enum dv_rc	pki_key_ed25519_from_raw(const uint8_t x[32], const uint8_t *d,
		    EVP_PKEY **out);
/* Writes x (and d when not NULL) of an Ed25519 key. */
enum dv_rc	pki_key_ed25519_to_raw(EVP_PKEY *k, uint8_t x[32], uint8_t *d);

/*
 * Whatever holds a CA key.  sign() receives the DER to-be-signed bytes and
 * returns the signature value (DER ECDSA-Sig-Value for ECDSA) in a new
 * buffer.  Implementations: pki_signer_local() here, the signer process in
 * src/signer.
 */
struct pki_signer {
	enum pki_sig_alg alg;
	enum dv_rc	(*sign)(void *arg, const uint8_t *tbs, size_t len,
			    uint8_t **sig, size_t *siglen);
	void		*arg;
};
/* A signer over a key held in this process (k borrowed). */
void		pki_signer_local(EVP_PKEY *k, struct pki_signer *out);

/* ---- names --------------------------------------------------------- */

enum pki_san_type {
	PKI_SAN_DNS,
	PKI_SAN_IP,	/* value is the text form: "192.0.2.1", "2001:db8::1" */
	PKI_SAN_EMAIL,
	PKI_SAN_URI,
	PKI_SAN__MAX
};

struct pki_san {
	enum pki_san_type type;
	char		*value;		/* owned */
};

struct pki_sans {
	struct pki_san	*v;		/* owned */
	size_t		 n;
};

/* Adds one name (copied).  Fails on more than DV_MAX_SANS or a name that
 * is not valid for its type (IP that does not parse, DNS with bad chars). */
enum dv_rc	pki_sans_add(struct pki_sans *, enum pki_san_type,
		    const char *value);
/* Classifies value the way step's SplitSANs does (IP, URI with a scheme,
 * email if '@', else DNS) and adds it. */
enum dv_rc	pki_sans_add_auto(struct pki_sans *, const char *value);
void		pki_sans_clear(struct pki_sans *);
/* True if a and b hold the same set of names of type t (order ignored,
 * DNS case-insensitive, IPs compared as addresses). */
bool		pki_sans_equal_type(const struct pki_sans *a,
		    const struct pki_sans *b, enum pki_san_type t);
/* Number of names of type t. */
size_t		pki_sans_count(const struct pki_sans *, enum pki_san_type t);
/* JSON array of {"type":"dns","value":"..."} (new reference). */
json_t		*pki_sans_to_json(const struct pki_sans *);

/* ---- CSR ----------------------------------------------------------- */

/* A parsed CSR whose self-signature has been verified. */
struct pki_csr {
	uint8_t		*der;		/* owned: CertificationRequest DER */
	size_t		 derlen;
	uint8_t		*spki;		/* owned: SubjectPublicKeyInfo DER */
	size_t		 spkilen;
	char		*cn;		/* owned, NULL if no CN */
	struct pki_sans	 sans;		/* from the extensionRequest */
	enum pki_key_type keytype;
	uint8_t		 sha256[32];	/* of der (cnf "x5rt#S256") */
};

/*
 * Parses a PEM (or, if der is true, DER) CSR, bounded by DV_MAX_PEM /
 * DV_MAX_DER, checks the key (EC P-256/P-384, RSA 2048..8192, Ed25519) and
 * verifies the self-signature (proof of possession).  Returns DV_ERR_BAD_CSR
 * or DV_ERR_BAD_KEY on failure, DV_ERR_TOO_LARGE over DV_MAX_PEM/DV_MAX_DER
 * or DV_MAX_SANS (also DV_ERR_BAD_CSR for an invalid SAN); *out is new
 * (pki_csr_free).  keytype of an RSA key is the largest RSA type not above
 * its size (RSA-8192 reads as PKI_KEY_RSA4096).  SAN types other than DNS,
 * IP, email and URI are skipped.
 */
enum dv_rc	pki_csr_parse(const uint8_t *data, size_t len, bool der,
		    struct pki_csr **out);
void		pki_csr_free(struct pki_csr *);
/* Builds and signs a CSR with key k (client side).  *pem is new. */
enum dv_rc	pki_csr_make(EVP_PKEY *k, const char *cn,
		    const struct pki_sans *, char **pem);

/* ---- certificates -------------------------------------------------- */

enum dv_rc	pki_cert_from_der(const uint8_t *, size_t, X509 **out);
/* Reads the first certificate of a PEM text. */
enum dv_rc	pki_cert_from_pem(const char *, size_t, X509 **out);
/* Reads every certificate of a PEM bundle (at most max). */
enum dv_rc	pki_certs_from_pem(const char *, size_t, size_t max,
		    STACK_OF(X509) **out);
enum dv_rc	pki_cert_to_pem(X509 *, char **pem);
/* The PEM text pki_cert_to_pem gives, straight from the DER of a
 * certificate this CA issued and stored, without decoding it (decoding
 * costs ~100 us in OpenSSL 3); *pem is new.  Never for untrusted bytes:
 * nothing is checked. */
enum dv_rc	pki_cert_der_to_pem(const uint8_t *der, size_t len,
		    char **pem);
enum dv_rc	pki_cert_to_der(X509 *, uint8_t **der, size_t *len);
void		pki_cert_free(X509 *);
void		pki_certs_free(STACK_OF(X509) *);
/* SHA-256 of the DER, lower-case hex (new string). */
char		*pki_cert_fingerprint(X509 *);
/* Serial as a decimal string (new) - the store's key, as step-ca. */
char		*pki_cert_serial_dec(X509 *);
time_t		 pki_cert_not_before(X509 *);
time_t		 pki_cert_not_after(X509 *);
/* True when x has a subject key identifier of len bytes equal to id
 * (RFC 5280 §4.2.1.2; e.g. a certificate's AKI keyIdentifier, RFC 9773
 * §4.1). */
bool		 pki_cert_ski_equal(X509 *x, const uint8_t *id, size_t len);
/* Subject CN (new string) or NULL. */
char		*pki_cert_cn(X509 *);
/* Subject as one-line RFC 2253 text (new string). */
char		*pki_cert_subject(X509 *);
/* SANs of the certificate (appended to *out). */
enum dv_rc	pki_cert_sans(X509 *, struct pki_sans *out);
/* The certificate's public key, borrowed; NULL for a certificate fresh
 * from pki_cert_issue / pki_cert_renew (see there). */
EVP_PKEY	*pki_cert_pubkey0(X509 *);
/* Provisioner extension (1.3.6.1.4.1.37476.9000.64.1) if present: type and
 * name (new string).  DV_ERR_NOT_FOUND when absent. */
enum dv_rc	pki_cert_provisioner(X509 *, int *type, char **name);

/* Normalises "123", "0x7b" or "0X7B" to the decimal string (new). */
enum dv_rc	pki_serial_normalise(const char *in, char **dec);

/* What an issued certificate must contain. */
enum pki_ku {
	PKI_KU_DIGITAL_SIGNATURE = 1 << 0,
	PKI_KU_KEY_ENCIPHERMENT = 1 << 1,
	PKI_KU_CERT_SIGN = 1 << 2,
	PKI_KU_CRL_SIGN = 1 << 3,
};
enum pki_eku {
	PKI_EKU_SERVER_AUTH = 1 << 0,
	PKI_EKU_CLIENT_AUTH = 1 << 1,
	PKI_EKU_OCSP_SIGNING = 1 << 2,
};

struct pki_ext {
	const char	*oid;		/* borrowed, dotted */
	bool		 critical;
	const uint8_t	*der;		/* borrowed: extnValue contents */
	size_t		 len;
};

struct pki_profile {
	const char	*cn;		/* borrowed; NULL: no CN */
	const X509_NAME	*subject;	/* borrowed; overrides cn (renew) */
	const struct pki_sans *sans;	/* borrowed; may be NULL */
	/* borrowed; NULL: none.  An RFC 4043 PermanentIdentifier otherName
	   with this identifierValue is added to the SAN (device-attest-01) */
	const char	*perm_id;
	time_t		 not_before;
	time_t		 not_after;
	unsigned	 ku;		/* enum pki_ku bits */
	unsigned	 eku;		/* enum pki_eku bits */
	bool		 is_ca;
	int		 path_len;	/* -1: none */
	const char	*crl_url;	/* borrowed; NULL: no CDP */
	const char	*ocsp_url;	/* borrowed; NULL: no AIA OCSP */
	const char	*issuer_url;	/* borrowed; NULL: no AIA caIssuers */
	int		 prov_type;	/* 0: no provisioner extension */
	const char	*prov_name;	/* borrowed */
	const char	*prov_cred;	/* borrowed: credentialID (JWK kid) */
	const struct pki_ext *ext;	/* borrowed extra extensions */
	size_t		 next;
};

/*
 * Issues a certificate for the public key spki under issuer (NULL issuer:
 * self-signed, then spki must be the signer's own key).  A random positive
 * 159-bit serial is chosen.  Writes the new certificate to *out (caller
 * frees) and its DER to *der (new buffer, free()); either out or der may be
 * NULL when not wanted.  DV_ERR_BAD_KEY for an unusable spki or signer,
 * DV_ERR_LIFETIME if not_after <= not_before, DV_ERR_MALFORMED for a bad
 * CN, extra extension, or an empty subject without SANs.
 *
 * *out is the certificate as built: its public key is kept as bytes, not
 * decoded (decoding would double the cost of an issuance), so
 * pki_cert_pubkey0 returns NULL on it.  Everything else (names, serial,
 * times, extensions, pki_trust_add_*) works; use pki_cert_from_der on *der
 * when the key object itself is needed.  The same holds for pki_cert_renew.
 */
enum dv_rc	pki_cert_issue(X509 *issuer, const struct pki_signer *,
		    const struct pki_profile *, const uint8_t *spki,
		    size_t spkilen, X509 **out, uint8_t **der, size_t *derlen);
/*
 * pki_cert_issue in two halves, for a caller that has the signature made
 * elsewhere (signer_sign_batch): pki_cert_build makes the certificate
 * without a signature (*out new, as pki_cert_issue's), pki_cert_tbs sets
 * its signature algorithms for alg and gives its TBSCertificate DER (new),
 * and pki_signed_der wraps TBS DER and signature into the certificate's
 * DER (new): byte for byte what pki_cert_issue returns for that signature.
 */
enum dv_rc	pki_cert_build(X509 *issuer, const struct pki_profile *,
		    const uint8_t *spki, size_t spkilen, X509 **out);
enum dv_rc	pki_cert_tbs(X509 *, enum pki_sig_alg, uint8_t **tbs,
		    size_t *len);
enum dv_rc	pki_signed_der(enum pki_sig_alg, const uint8_t *tbs,
		    size_t tbslen, const uint8_t *sig, size_t siglen,
		    uint8_t **der, size_t *derlen);
/* Puts sig into x's signatureValue (the X509 pki_cert_issue returns). */
enum dv_rc	pki_cert_set_signature(X509 *, const uint8_t *sig,
		    size_t siglen);
/*
 * Renewal (spec/provisioners.md §1.5): a copy of old with a new serial, the
 * validity [not_before, not_after], a new AKI, and (rekey) the public key
 * spki instead of the old one when spki != NULL.
 */
enum dv_rc	pki_cert_renew(X509 *issuer, const struct pki_signer *,
		    X509 *old, time_t not_before, time_t not_after,
		    const uint8_t *spki, size_t spkilen, X509 **out,
		    uint8_t **der, size_t *derlen);

/* ---- trust --------------------------------------------------------- */

/* A set of trusted roots plus untrusted intermediates. */
struct pki_trust;
struct pki_trust *pki_trust_new(void);
void		pki_trust_free(struct pki_trust *);
/* Adds a root (up-ref'd). */
enum dv_rc	pki_trust_add_root(struct pki_trust *, X509 *);
/* Adds an intermediate that may complete presented chains (up-ref'd). */
enum dv_rc	pki_trust_add_intermediate(struct pki_trust *, X509 *);
/* Adds every certificate of a PEM bundle as a root. */
enum dv_rc	pki_trust_add_roots_pem(struct pki_trust *, const char *,
		    size_t);
/*
 * Verifies leaf with the extra untrusted certificates chain (may be NULL)
 * to a root of t, at time at (0: now), requiring the EKU bits in eku (0:
 * any) and, if need_ds, KU digitalSignature.  DV_ERR_UNTRUSTED on failure.
 */
enum dv_rc	pki_trust_verify(const struct pki_trust *t, X509 *leaf,
		    STACK_OF(X509) *chain, time_t at, unsigned eku,
		    bool need_ds);

/* ---- CRL and OCSP -------------------------------------------------- */

struct pki_revoked {
	const char	*serial_dec;	/* borrowed */
	time_t		 revoked_at;
	int		 reason;	/* RFC 5280 CRLReason, 0..10 */
};

/*
 * Builds and signs a CRL v2: CRL number, AKI, thisUpdate/nextUpdate, and a
 * critical Issuing Distribution Point with idp_url when not NULL.  *der is
 * new.
 */
enum dv_rc	pki_crl_build(X509 *issuer, const struct pki_signer *,
		    const struct pki_revoked *, size_t n, uint64_t number,
		    time_t this_update, time_t next_update,
		    const char *idp_url, uint8_t **der, size_t *derlen);
/* DER CRL to PEM text (new). */
enum dv_rc	pki_crl_der_to_pem(const uint8_t *, size_t, char **pem);

/* One CertID of an OCSP request (RFC 6960 §4.1.1). */
struct pki_ocsp_id {
	int		 hash_nid;	/* NID of hashAlgorithm */
	uint8_t		 name_hash[64];
	uint8_t		 key_hash[64];
	size_t		 hash_len;
	char		*serial_dec;	/* owned */
};

struct pki_ocsp_req {
	void		*req;		/* owned OCSP_REQUEST */
	struct pki_ocsp_id *ids;	/* owned */
	size_t		 nids;
	bool		 has_nonce;
};

/* Parses a DER OCSPRequest (bounded by DV_MAX_OCSP_REQ, DV_MAX_OCSP_IDS). */
enum dv_rc	pki_ocsp_req_parse(const uint8_t *, size_t,
		    struct pki_ocsp_req **out);
void		pki_ocsp_req_free(struct pki_ocsp_req *);
/* True if id names a certificate issued by issuer (name and key hash). */
bool		pki_ocsp_id_matches(const struct pki_ocsp_id *, X509 *issuer);

enum pki_ocsp_status { PKI_OCSP_GOOD, PKI_OCSP_REVOKED, PKI_OCSP_UNKNOWN };

struct pki_ocsp_answer {
	enum pki_ocsp_status status;
	time_t		 revoked_at;
	int		 reason;
};

/*
 * Builds a signed BasicOCSPResponse (responder ID by key hash, the issuer
 * itself signs) with one SingleResponse per request id, answers[i] for
 * ids[i], thisUpdate now, nextUpdate now + validity, copying the nonce.
 */
enum dv_rc	pki_ocsp_resp_build(X509 *issuer, const struct pki_signer *,
		    const struct pki_ocsp_req *,
		    const struct pki_ocsp_answer *, time_t now,
		    time_t validity, uint8_t **der, size_t *derlen);
/* An unsigned error response (malformedRequest = 1, internalError = 2,
 * unauthorized = 6). */
enum dv_rc	pki_ocsp_resp_error(int status, uint8_t **der, size_t *derlen);

/* ---- encodings ----------------------------------------------------- */

/* Standard (not URL) padded base64; *out new and NUL-terminated. */
enum dv_rc	pki_b64_encode(const uint8_t *, size_t, char **out);
enum dv_rc	pki_b64_decode(const char *, size_t, uint8_t **out,
		    size_t *outlen);
/* SHA-256 of data into md[32]. */
void		pki_sha256(const void *data, size_t len, uint8_t md[32]);
/* Cryptographic random bytes. */
enum dv_rc	pki_random(void *, size_t);

/* ---- references (authority) ---- */
/* Takes a reference on x and returns it (free with pki_cert_free). */
X509		*pki_cert_up_ref(X509 *x);

/* ---- inspect (cli) ---- */
/*
 * Describes a certificate, CSR or CRL (DER, or PEM with one or more blocks)
 * for display: a JSON object with "type" ("certificate", "csr", "crl") and
 * its fields (subject, issuer, serial {dec,hex}, validity, SANs, KU/EKU,
 * provisioner extension, revoked entries ...), or an array of such objects
 * for a PEM text of several blocks.  Nothing is verified except that a
 * CSR's self-signature is reported.  *out is a new reference.
 */
enum dv_rc	pki_inspect(const uint8_t *data, size_t len, json_t **out);

/* ---- TPM identifiers (inventory) ---- */
/*
 * EK identities of the device inventory (spec/attestation.md §2.5, §13.1).
 * The EK URN is "urn:ek:sha256:" + base64std(SHA-256(SPKI DER)), the SPKI
 * re-encoded from the decoded key (what Go's x509.MarshalPKIXPublicKey
 * gives step's client), so a non-canonical input encoding names the same
 * key.  Only RSA and EC keys are EKs: others are DV_ERR_BAD_KEY.
 */
#define PKI_EK_URN_PREFIX	"urn:ek:sha256:"

/*
 * The URN of an EK public key given as PEM "PUBLIC KEY" text (der false)
 * or SubjectPublicKeyInfo DER (der true).  *urn is new.  DV_ERR_MALFORMED
 * for no such PEM block, DV_ERR_BAD_KEY for an undecodable or non-EK key,
 * DV_ERR_TOO_LARGE over DV_MAX_PEM / DV_MAX_DER.
 */
enum dv_rc	pki_ek_pub_urn(const uint8_t *data, size_t len, bool der,
		    char **urn);
/* True if s is a well-formed EK URN (prefix, padded base64 of 32 bytes). */
/* The same URN straight from SPKI DER (no key decode: the hot path of
 * /attest); the key itself is not validated here.  *urn is new. */
enum dv_rc	pki_ek_spki_urn(const uint8_t *der, size_t len, char **urn);
bool		pki_ek_urn_valid(const char *s);

/* A parsed EK certificate.  Every pointer is owned. */
struct pki_ek_cert {
	char		*urn;		/* EK URN of its public key */
	char		*manufacturer;	/* 2.23.133.2.1, e.g. "id:4E544300" */
	char		*model;		/* 2.23.133.2.2, e.g. "NPCT75x" */
	char		*version;	/* 2.23.133.2.3, e.g. "id:00070002" */
	char		*pem;		/* the certificate alone, PEM */
};
/*
 * Parses an EK certificate, PEM (der false: the first CERTIFICATE block) or
 * DER (der true).  DER input may carry bytes after the certificate, as read
 * from TPM NV (0xff padding): like d2i_X509 and `openssl x509 -inform DER`
 * they are ignored and only the certificate's own bytes are kept.  The TPM
 * manufacturer, model and version come from the directoryName of the SAN
 * (critical or not; one multi-valued RDN or three single ones, §13.2);
 * each is NULL when absent (some vTPM EK certificates have no SAN), a
 * repeated attribute or a value over 128 bytes or not printable is
 * DV_ERR_MALFORMED.  Nothing is verified against a TPM maker root here.
 * On success *out is filled (pki_ek_cert_clear); on failure it is zeroed.
 */
enum dv_rc	pki_ek_cert_parse(const uint8_t *data, size_t len, bool der,
		    struct pki_ek_cert *out);
void		pki_ek_cert_clear(struct pki_ek_cert *);

/* ---- HMAC (MDM webhooks, issue 3) ---- */
/* HMAC-SHA256 (RFC 2104) of data under key into md[32]. */
enum dv_rc	pki_hmac_sha256(const void *key, size_t keylen,
		    const void *data, size_t len, uint8_t md[32]);
/* True if a and b (len bytes each) are equal; the time taken does not
 * depend on where they differ (CRYPTO_memcmp).  For secrets and MACs. */
bool		pki_mem_equal(const void *a, const void *b, size_t len);

/* ---- TPM crypto (issue 4) ---- */
/*
 * The OpenSSL half of TPM 2.0 credential protection (spec/attestation.md
 * §5; TPM 2.0 Part 1 §11.4.9, §24, Annex B.10, C.6) and of TPM signature
 * checks; the TPM logic that uses them is in src/tpm.  Output buffers of
 * fixed size are written only on success.  A signature or key that does
 * not check is logged at LOG_DEBUG only: the caller logs it once with the
 * clause (rule 9).
 */
enum pki_hash {
	PKI_HASH_SHA1,
	PKI_HASH_SHA256,
	PKI_HASH_SHA384,
	PKI_HASH_SHA512,
	PKI_HASH__MAX
};
/* Digest bytes of h (20, 32, 48, 64). */
size_t		pki_hash_size(enum pki_hash h);
/* md (pki_hash_size(h) bytes) = H(data). */
enum dv_rc	pki_digest(enum pki_hash h, const void *data, size_t len,
		    uint8_t *md);
/* md (pki_hash_size(h) bytes) = HMAC_H(key, a || b); b may be NULL. */
enum dv_rc	pki_hmac(enum pki_hash h, const void *key, size_t keylen,
		    const void *a, size_t alen, const void *b, size_t blen,
		    uint8_t *md);

/*
 * KDFa (TPM 2.0 Part 1 §11.4.9.2): out = the first ceil(bits/8) bytes of
 * HMAC_H(key, BE32(i) || label || 0x00 || u || v || BE32(bits)) for
 * i = 1, 2, ..., the unused high bits of out[0] cleared when bits % 8 != 0.
 * label is a C string (its NUL is the 0x00); u, v may be NULL when empty.
 * bits 0..8192 (0: nothing is written).
 */
enum dv_rc	pki_tpm_kdfa(enum pki_hash h, const uint8_t *key,
		    size_t keylen, const char *label, const uint8_t *u,
		    size_t ulen, const uint8_t *v, size_t vlen, uint32_t bits,
		    uint8_t *out);
/* KDFe (Part 1 §11.4.9.3): H(BE32(i) || z || label || 0x00 || u || v),
 * truncated and masked as pki_tpm_kdfa. */
enum dv_rc	pki_tpm_kdfe(enum pki_hash h, const uint8_t *z, size_t zlen,
		    const char *label, const uint8_t *u, size_t ulen,
		    const uint8_t *v, size_t vlen, uint32_t bits, uint8_t *out);

/* AES-CFB128 encryption (AES-128/192/256 by keylen 16/24/32) of len bytes
 * with iv (16 bytes; NULL: zero IV, as TPM credential protection, Part 1
 * §24.4), no padding: out has len bytes. */
enum dv_rc	pki_aes_cfb_encrypt(const uint8_t *key, size_t keylen,
		    const uint8_t *iv, const uint8_t *in, size_t len,
		    uint8_t *out);

/*
 * RSAES-OAEP (RFC 8017 §7.1.1, MGF1 with the same hash h) of msg under the
 * RSA public key k with label (its bytes as given: the TPM's "IDENTITY"
 * label is 9 bytes with the NUL).  seed is the OAEP seed of
 * pki_hash_size(h) bytes, NULL to draw it at random (the only production
 * use; known-answer tests pass one).  *out is new, the modulus size.
 */
enum dv_rc	pki_rsa_oaep_encrypt(EVP_PKEY *k, enum pki_hash h,
		    const uint8_t *label, size_t labellen, const uint8_t *msg,
		    size_t msglen, const uint8_t *seed, uint8_t **out,
		    size_t *outlen);

/*
 * One-pass ECDH with an ephemeral key on curve ("P-256", "P-384",
 * "P-521") with the peer's point (x, y big-endian, leading zeros allowed;
 * TPM 2.0 Part 1 Annex C.6.1): d = priv (privlen bytes, big-endian,
 * 1 <= d < order) or a random scalar when priv is NULL; writes
 * z = x(d * peer), and qx, qy = the point d * G, each at full coordinate
 * length *coordlen (32 for P-256; buffers of DV_TPM_MAX_ECC_BYTES).
 * DV_ERR_BAD_KEY for another curve or a peer point not on it.  The scalar
 * is wiped (rule 14); nothing of it outlives the call.
 */
enum dv_rc	pki_ecdh_ephemeral(const char *curve, const uint8_t *x,
		    size_t xlen, const uint8_t *y, size_t ylen,
		    const uint8_t *priv, size_t privlen, uint8_t *z,
		    uint8_t *qx, uint8_t *qy, size_t *coordlen);

/* RSA public key from the modulus n (big-endian) and exponent e. */
enum dv_rc	pki_key_from_rsa(const uint8_t *n, size_t nlen, uint64_t e,
		    EVP_PKEY **out);
/* EC public key on curve ("P-256", "P-384", "P-521") from the affine
 * coordinates x, y (big-endian, leading zeros allowed).  DV_ERR_BAD_KEY if
 * the point is not on the curve or the curve is unknown. */
enum dv_rc	pki_key_from_ec(const char *curve, const uint8_t *x,
		    size_t xlen, const uint8_t *y, size_t ylen,
		    EVP_PKEY **out);
/* Modulus (new, *nlen bytes without leading zeros) and exponent of an RSA
 * key; DV_ERR_BAD_KEY for another key type (logged at LOG_DEBUG only, so
 * that a caller may try pki_key_ec_get next). */
enum dv_rc	pki_key_rsa_get(EVP_PKEY *k, uint8_t **n, size_t *nlen,
		    uint64_t *e);
/* Curve name ("P-256", "P-384", "P-521"; static) and the affine point of
 * an EC key, x and y at full length *coordlen (buffers of
 * DV_TPM_MAX_ECC_BYTES).  DV_ERR_BAD_KEY for another key (LOG_DEBUG) or
 * curve. */
enum dv_rc	pki_key_ec_get(EVP_PKEY *k, const char **curve, uint8_t *x,
		    uint8_t *y, size_t *coordlen);

/*
 * An RSA or EC public key as its parts (rawkey.c: SPKI DER in and out
 * without OpenSSL 3's decoder and encoder contexts).  RSA: n (owned,
 * big-endian, no leading zero) and e.  EC: curve ("P-256", "P-384",
 * "P-521"; static) and the affine point, x and y at full length coordlen.
 */
struct pki_raw_key {
	bool		 rsa;
	uint8_t		*n;		/* owned */
	size_t		 nlen;
	uint64_t	 e;
	const char	*curve;		/* static */
	uint8_t		 x[DV_TPM_MAX_ECC_BYTES];
	uint8_t		 y[DV_TPM_MAX_ECC_BYTES];
	size_t		 coordlen;
};
/* Frees n and zeroes k; accepts NULL. */
void		pki_raw_key_clear(struct pki_raw_key *k);
/*
 * The parts of the RSA or EC (NIST P-256/384/521) key of SPKI DER, which
 * must be exactly len bytes; an EC point is checked to be on its curve.
 * Canonical encodings are read with local templates; others go through
 * d2i_PUBKEY, so that what is accepted is what OpenSSL accepts.  *out is
 * cleared on entry, pki_raw_key_clear when done.  DV_ERR_TOO_LARGE over
 * DV_MAX_DER, DV_ERR_BAD_KEY for anything else (logged).
 */
enum dv_rc	pki_spki_raw_get(const uint8_t *der, size_t len,
		    struct pki_raw_key *out);
/* SPKI DER (new) of the RSA key n (big-endian, leading zeros allowed), e,
 * byte for byte what i2d_PUBKEY writes.  DV_ERR_BAD_KEY for n = 0 or
 * e = 0. */
enum dv_rc	pki_spki_from_rsa(const uint8_t *n, size_t nlen, uint64_t e,
		    uint8_t **der, size_t *len);
/* SPKI DER (new; namedCurve, uncompressed point) of the point x, y on
 * curve, as pki_key_from_ec takes them, byte for byte what i2d_PUBKEY
 * writes.  DV_ERR_BAD_KEY for a point not on the curve. */
enum dv_rc	pki_spki_from_ec(const char *curve, const uint8_t *x,
		    size_t xlen, const uint8_t *y, size_t ylen, uint8_t **der,
		    size_t *len);

/* TPM signature schemes (TPM 2.0 Part 1 §30.2, Part 2 §11.2.1.5). */
enum pki_tpm_sig {
	PKI_TPM_SIG_RSASSA,	/* RSASSA-PKCS1-v1_5 */
	PKI_TPM_SIG_RSAPSS,	/* RSASSA-PSS, MGF1 = h, any salt length */
	PKI_TPM_SIG_ECDSA,	/* r, s as unsigned big-endian integers */
	PKI_TPM_SIG__MAX
};
/*
 * Verifies a TPM signature over data (hashed with h) under k: sig/siglen
 * for the RSA schemes, r and s for ECDSA (the other pair unused, may be
 * NULL).  DV_ERR_AK_SIGNATURE when it does not verify or the scheme does
 * not fit the key.
 */
enum dv_rc	pki_tpm_verify(EVP_PKEY *k, enum pki_tpm_sig scheme,
		    enum pki_hash h, const uint8_t *data, size_t len,
		    const uint8_t *sig, size_t siglen, const uint8_t *r,
		    size_t rlen, const uint8_t *s, size_t slen);

/* ---- AK certificates and EK roots (issue 4; akcert.c) ---- */
/*
 * The AK certificate of the Attestation CA (spec/attestation.md §13.3):
 * X.509 v3, empty subject, a critical subjectAltName holding the URI
 * ek_urn and a directoryName with tcg-at-tpmManufacturer, tpmModel and
 * tpmVersion (2.23.133.2.1/2/3, one RDN each, UTF8String), extKeyUsage
 * tcg-kp-AIKCertificate (2.23.133.8.3) alone - neither clientAuth nor
 * serverAuth -, keyUsage digitalSignature, basicConstraints CA:FALSE,
 * SKI/AKI, CRL and AIA when given.  Strings are borrowed.
 */
struct pki_ak_profile {
	const char	*ek_urn;	/* "urn:ek:sha256:..." (valid) */
	const char	*manufacturer;	/* non-empty, printable, <= 128 */
	const char	*model;
	const char	*version;
	time_t		 not_before;
	time_t		 not_after;
	const char	*crl_url;	/* NULL: no CDP */
	const char	*ocsp_url;	/* NULL: no AIA OCSP */
	const char	*issuer_url;	/* NULL: no AIA caIssuers */
};
/*
 * Issues the AK certificate for spki (the AK's SubjectPublicKeyInfo DER)
 * under issuer, as pki_cert_issue (outputs, serial, key kept as bytes).
 * DV_ERR_MALFORMED for an invalid URN or a missing or unprintable TPM
 * attribute.
 */
enum dv_rc	pki_akcert_issue(X509 *issuer, const struct pki_signer *,
		    const struct pki_ak_profile *, const uint8_t *spki,
		    size_t spkilen, X509 **out, uint8_t **der,
		    size_t *derlen);
/*
 * The same certificate unsigned (*out new, as pki_cert_build's), for a
 * caller that has it signed elsewhere: pki_cert_tbs, signer_sign_batch,
 * pki_signed_der.
 */
enum dv_rc	pki_akcert_build(X509 *issuer, const struct pki_ak_profile *,
		    const uint8_t *spki, size_t spkilen, X509 **out);

/* TPM-maker CA certificates that EK certificates must chain to. */
struct pki_ek_roots;
/*
 * Reads every *.pem, *.crt, *.cer and *.der file of dir (PEM bundles, text
 * before a PEM block allowed, or one DER certificate); every certificate,
 * root or intermediate, becomes a trust anchor.  At most
 * DV_ATT_MAX_EK_ROOTS.  *out is new (pki_ek_roots_free).  DV_ERR_IO for
 * an unreadable folder, DV_ERR_MALFORMED for a bad file or an empty folder.
 */
enum dv_rc	pki_ek_roots_load(const char *dir, struct pki_ek_roots **out);
void		pki_ek_roots_free(struct pki_ek_roots *);
/* Certificates read (a certificate in two files counts twice). */
size_t		pki_ek_roots_count(const struct pki_ek_roots *);

/* DER bytes, borrowed. */
struct pki_der {
	const uint8_t	*der;
	size_t		 len;
};
/*
 * Verifies certs[leaf] (DER, NV padding after it allowed) to a certificate
 * of r (partial chains allowed, validity periods not checked: an EK
 * certificate dates the TPM's manufacture), the other certs (at most
 * DV_ATT_MAX_EK_CERTS in all) serving as untrusted intermediates.
 * DV_ERR_UNTRUSTED, logged, when it does not verify or does not decode.
 */
enum dv_rc	pki_ek_cert_verify(const struct pki_ek_roots *r,
		    const struct pki_der *certs, size_t n, size_t leaf);

/* ---- device-attest-01 certificates (issue 5; attext.c) ---- */
/*
 * What src/attest needs from X.509 (spec/attestation.md §8-10, §13): the
 * x5c chain check, the AK certificate profile, and the vendor extensions of
 * Apple MDA and YubiKey PIV attestation leaves.  The OIDs, none registered
 * with OpenSSL (they are compared as objects):
 */
/* Apple MDA (spec §9; values are raw extnValue octets, not DER) */
#define PKI_OID_APPLE_SERIAL	"1.2.840.113635.100.8.9.1"  /* serial */
#define PKI_OID_APPLE_UDID	"1.2.840.113635.100.8.9.2"  /* UDID */
#define PKI_OID_APPLE_NONCE	"1.2.840.113635.100.8.11.1" /* freshness */
/* YubiKey PIV attestation serial: DER INTEGER (spec §10) */
#define PKI_OID_YUBIKEY_SERIAL	"1.3.6.1.4.1.41482.3.7"
/* Smallstep managed device: DER SEQUENCE { deviceID string } (spec §10) */
#define PKI_OID_STEP_DEVICE_ID	"1.3.6.1.4.1.37476.9000.64.4"
/* tcg-kp-AIKCertificate, the AK certificate's first EKU (spec §13.1) */
#define PKI_OID_TCG_KP_AIK	"2.23.133.8.3"
/* id-on-permanentIdentifier (RFC 4043 §2) */
#define PKI_OID_PERMANENT_ID	"1.3.6.1.5.5.7.8.3"

/*
 * Decodes the x5c certificates (DER, exactly, leaf first, at most
 * DV_MAX_CHAIN) and verifies certs[0] to a root of t at time at (0: now),
 * the others serving as untrusted intermediates; no EKU is required of
 * the chain (step-ca: key usage "any").  On success *leaf is the decoded
 * leaf (pki_cert_free).  DV_ERR_MALFORMED for an undecodable certificate,
 * DV_ERR_TOO_LARGE over DV_MAX_CHAIN, DV_ERR_UNTRUSTED when it does not
 * verify; each logged.
 */
enum dv_rc	pki_att_chain_verify(const struct pki_trust *t,
		    const struct pki_der *certs, size_t n, time_t at,
		    X509 **leaf);

/* The AK certificate fields src/attest keeps.  Every pointer is owned. */
struct pki_akcert_info {
	char		*ek_urn;	/* URI SAN urn:ek:...; NULL
					   if absent */
	char		*manufacturer;	/* 2.23.133.2.1 (dirName) */
	char		*model;		/* 2.23.133.2.2 */
	char		*version;	/* 2.23.133.2.3 */
	char		**perm_ids;	/* RFC 4043 identifierValues */
	size_t		 nperm_ids;
};
/*
 * Checks the AK certificate profile step-ca applies (spec §8 step 5-6,
 * WebAuthn "TPM Attestation Statement Certificate Requirements"), in this
 * order: X.509 v3; empty subject; not a CA; an EKU whose first OID is
 * tcg-kp-AIKCertificate; a SAN directoryName with non-empty printable
 * 2.23.133.2.1/2/3 (one multi-valued or three single RDNs); at most one
 * EK URN URI and DV_MAX_SANS PermanentIdentifiers, each printable UTF-8 of
 * at most DV_ATT_MAX_DEVICE_ID bytes.  On success *out is filled
 * (pki_akcert_info_clear); on failure it is zeroed.  DV_ERR_MALFORMED,
 * logged with the clause, for any violation.
 */
enum dv_rc	pki_akcert_read(X509 *ak, struct pki_akcert_info *out);
void		pki_akcert_info_clear(struct pki_akcert_info *);

/* Apple MDA leaf fields (spec §9).  Every pointer is owned. */
struct pki_apple_att {
	uint8_t		*nonce;		/* 8.11.1; NULL: absent */
	size_t		 noncelen;
	char		*serial;	/* 8.9.1; NULL if absent */
	char		*udid;		/* 8.9.2; NULL if absent */
};
/*
 * Reads the Apple MDA extensions of leaf.  An extension present twice,
 * marked critical, empty, longer than DV_ATT_MAX_DEVICE_ID (serial, UDID)
 * or 64 (nonce) bytes, or a serial/UDID not printable ASCII is
 * DV_ERR_MALFORMED.  Absence is not an error here.  On success *out is
 * filled (pki_apple_att_clear); on failure it is zeroed.
 */
enum dv_rc	pki_apple_att_read(X509 *leaf, struct pki_apple_att *out);
void		pki_apple_att_clear(struct pki_apple_att *);

/*
 * The YubiKey serial (1.3.6.1.4.1.41482.3.7, a non-negative DER INTEGER
 * below 2^63) of a PIV attestation leaf as a decimal string (*serial new).
 * DV_ERR_NOT_FOUND when absent; DV_ERR_MALFORMED when repeated, critical,
 * not an exact DER INTEGER, negative or too large.
 */
enum dv_rc	pki_yubikey_serial(X509 *leaf, char **serial);
/*
 * The Smallstep managed-device identifier (1.3.6.1.4.1.37476.9000.64.4,
 * DER SEQUENCE whose first element is a UTF8String, PrintableString or
 * IA5String: step-ca searchSerialNumber's fallback) as a new string.
 * DV_ERR_NOT_FOUND when absent; DV_ERR_MALFORMED when repeated, critical,
 * not that shape, empty, not printable or over DV_ATT_MAX_DEVICE_ID.
 */
enum dv_rc	pki_step_device_id(X509 *leaf, char **id);

/*
 * The attested-key fingerprint as step-ca stores it on the authorization
 * (spec §12, go.step.sm keyutil.Fingerprint): "SHA256:" followed by
 * base64std(SHA-256(subjectPublicKey BIT STRING contents)) of the SPKI
 * DER spki.  *fp is new.  DV_ERR_BAD_KEY for an undecodable SPKI.
 */
enum dv_rc	pki_spki_fingerprint(const uint8_t *spki, size_t len,
		    char **fp);

/* ---- ACME tls-alpn-01 (acme) ---- */
/*
 * RFC 8737 §3: a TLS handshake over the connected socket fd (blocking; the
 * caller bounds it with socket timeouts) offering only ALPN "acme-tls/1",
 * with SNI sni, the peer's chain not validated.  *out is the peer
 * certificate (X509_free) with its extensions cached.  DV_ERR_IO when the
 * handshake fails, DV_ERR_UNAUTHORIZED when acme-tls/1 was not selected,
 * DV_ERR_MALFORMED for a missing or undecodable certificate.
 */
enum dv_rc	pki_tlsalpn_handshake(int fd, const char *sni, X509 **out);
/*
 * RFC 8737 §3 checks of the tls-alpn-01 certificate x: exactly one
 * subjectAltName, equal to ident (a dNSName, or an iPAddress for an IP
 * identifier, RFC 8738 §6), else DV_ERR_SANS_MISMATCH; one critical
 * id-pe-acmeIdentifier extension holding an OCTET STRING of 32 bytes,
 * else DV_ERR_MALFORMED; equal to digest (SHA-256(keyAuthorization)),
 * else DV_ERR_UNAUTHORIZED.
 */
enum dv_rc	pki_tlsalpn_cert_check(X509 *x, const char *ident,
		    const uint8_t digest[32]);

#endif
