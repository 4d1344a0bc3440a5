/*
 * asn1.h - the ASN.1 structures devid declares itself (STYLE rule 19), each
 * citing its specification, and the table of OIDs it uses.  The templates
 * are in asn1.c.
 *
 * Why local templates at all: OpenSSL's own CSR type decodes the public key
 * eagerly (an OSSL_DECODER round trip, ~100 us and provider locks under
 * OpenSSL 3.0, spec/performance.md §2.2), and OpenSSL 3 has no setter for the
 * signature field inside a TBSCertList or for the ResponseData of an OCSP
 * response, which devid must sign through an external pki_signer.
 */
#ifndef DV_PKI_ASN1_H
#define DV_PKI_ASN1_H

#include <openssl/asn1t.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

/*
 * OIDs.  Standard ones are used through OpenSSL's NIDs:
 *   id-ecPublicKey, prime256v1, secp384r1      RFC 5480 §2.1.1
 *   rsaEncryption, sha256WithRSAEncryption     RFC 4055 §1.2, §5
 *   ecdsa-with-SHA256/384                      RFC 5758 §3.2
 *   id-Ed25519                                 RFC 8410 §3
 *   extensionRequest (PKCS#9)                  RFC 2985 §5.4.2
 *   certificate and CRL extensions             RFC 5280 §4.2, §5.2
 *   id-pkix-ocsp-nonce                         RFC 6960 §4.4.1
 * The ones OpenSSL does not know are registered by pki_init:
 */
/* step-ca provisioner extension (authority/provisioner/extension.go). */
#define PKI_OID_PROVISIONER	"1.3.6.1.4.1.37476.9000.64.1"
#define PKI_SN_PROVISIONER	"stepProvisioner"
#define PKI_LN_PROVISIONER	"Smallstep provisioner"
/* TCG EK Credential Profile attributes of the SAN directoryName of EK
 * certificates (spec/attestation.md §13.1); compared as objects, never
 * registered. */
#define PKI_OID_TPM_MANUFACTURER "2.23.133.2.1"	/* tcg-at-tpmManufacturer */
#define PKI_OID_TPM_MODEL	"2.23.133.2.2"	/* tcg-at-tpmModel */
#define PKI_OID_TPM_VERSION	"2.23.133.2.3"	/* tcg-at-tpmVersion */
/* RFC 8737 §6.1 id-pe-acmeIdentifier (tls-alpn-01); found by OID, never
 * registered. */
#define PKI_OID_ACME_IDENTIFIER	"1.3.6.1.5.5.7.1.31"

/* RFC 5280 §4.1.2.7 SubjectPublicKeyInfo, with the key left as bytes. */
typedef struct {
	X509_ALGOR	*algor;
	ASN1_BIT_STRING	*key;
} PKI_SPKI;
DECLARE_ASN1_FUNCTIONS(PKI_SPKI)

/* RFC 8017 §A.1.1 RSAPublicKey, the subjectPublicKey of rsaEncryption
 * (RFC 3279 §2.3.1); OpenSSL's own d2i_RSAPublicKey is deprecated in 3.0
 * and decodes into an RSA object. */
typedef struct {
	ASN1_INTEGER	*n;
	ASN1_INTEGER	*e;
} PKI_RSA_PUB;
DECLARE_ASN1_FUNCTIONS(PKI_RSA_PUB)

/* RFC 2986 §4.1 CertificationRequestInfo. */
typedef struct {
	ASN1_INTEGER	*version;
	X509_NAME	*subject;
	PKI_SPKI	*spki;
	STACK_OF(X509_ATTRIBUTE) *attributes;
} PKI_CSR_INFO;
DECLARE_ASN1_FUNCTIONS(PKI_CSR_INFO)

/* RFC 2986 §4.2 CertificationRequest. */
typedef struct {
	PKI_CSR_INFO	*info;
	X509_ALGOR	*sigalg;
	ASN1_BIT_STRING	*signature;
} PKI_CSR;
DECLARE_ASN1_FUNCTIONS(PKI_CSR)

/*
 * step-ca provisioner extension value (authority/provisioner/extension.go):
 * SEQUENCE { type INTEGER, name OCTET STRING, credentialID OCTET STRING,
 * keyValuePairs SEQUENCE OF UTF8String OPTIONAL }.
 */
typedef struct {
	ASN1_INTEGER	*type;
	ASN1_OCTET_STRING *name;
	ASN1_OCTET_STRING *credential_id;
	STACK_OF(ASN1_UTF8STRING) *key_values;
} PKI_PROVISIONER;
DECLARE_ASN1_FUNCTIONS(PKI_PROVISIONER)

/*
 * RFC 4043 §2 PermanentIdentifier, the value of the otherName
 * id-on-permanentIdentifier (PKI_OID_PERMANENT_ID in pki.h) of the device
 * certificates of device-attest-01 (draft-ietf-acme-device-attest §6):
 * SEQUENCE { identifierValue UTF8String OPTIONAL, assigner OBJECT
 * IDENTIFIER OPTIONAL }.  Written with this template; attext.c reads it
 * generically.
 */
typedef struct {
	ASN1_UTF8STRING	*value;
	ASN1_OBJECT	*assigner;
} PKI_PERMANENT_ID;
DECLARE_ASN1_FUNCTIONS(PKI_PERMANENT_ID)

/*
 * The subjectAltName value of an AK certificate (spec/attestation.md
 * §13.3): GeneralNames (RFC 5280 §4.2.1.6) of exactly two names,
 * SEQUENCE { [6] IMPLICIT IA5String uniformResourceIdentifier,
 * [4] EXPLICIT Name directoryName }, the Name being three RDNs of one
 * AttributeTypeAndValue each (RFC 5280 §4.1.2.4; tcg-at-tpmManufacturer,
 * tcg-at-tpmModel, tcg-at-tpmVersion with UTF8String values).  The same
 * DER as GENERAL_NAMES with an X509_NAME, whose encoder also builds a
 * canonical copy of the name for comparisons: this template encodes once.
 * Written only; the SAN is read back generically (GENERAL_NAMES).
 */
typedef struct {
	ASN1_OBJECT	*type;
	ASN1_UTF8STRING	*value;
} PKI_AK_ATTR;
DECLARE_ASN1_FUNCTIONS(PKI_AK_ATTR)
DEFINE_STACK_OF(PKI_AK_ATTR)

/* Name ::= SEQUENCE OF RelativeDistinguishedName, three of them here,
 * each RDN a SET OF one attribute. */
typedef struct {
	STACK_OF(PKI_AK_ATTR) *manufacturer;
	STACK_OF(PKI_AK_ATTR) *model;
	STACK_OF(PKI_AK_ATTR) *version;
} PKI_AK_DIRNAME;
DECLARE_ASN1_FUNCTIONS(PKI_AK_DIRNAME)

typedef struct {
	ASN1_IA5STRING	*uri;
	PKI_AK_DIRNAME	*dirname;
} PKI_AK_SAN;
DECLARE_ASN1_FUNCTIONS(PKI_AK_SAN)

/* RFC 5280 §5.1 TBSCertList, mirrored so its signature field can be set. */
typedef struct {
	ASN1_INTEGER	*version;
	X509_ALGOR	*signature;
	X509_NAME	*issuer;
	ASN1_TIME	*this_update;
	ASN1_TIME	*next_update;
	STACK_OF(X509_REVOKED) *revoked;
	STACK_OF(X509_EXTENSION) *extensions;
} PKI_TBS_CRL;
DECLARE_ASN1_FUNCTIONS(PKI_TBS_CRL)

/* RFC 6960 §4.2.1 ResponseData, mirrored so it can be signed outside
 * OCSP_basic_sign (which needs the private key in this process). */
typedef struct {
	ASN1_INTEGER	*version;
	OCSP_RESPID	*responder_id;
	ASN1_GENERALIZEDTIME *produced_at;
	STACK_OF(OCSP_SINGLERESP) *responses;
	STACK_OF(X509_EXTENSION) *extensions;
} PKI_OCSP_RESPDATA;
DECLARE_ASN1_FUNCTIONS(PKI_OCSP_RESPDATA)

/*
 * Any signed object: SEQUENCE { tbs, signatureAlgorithm, signature }, the
 * shape of Certificate (RFC 5280 §4.1), CertificateList (§5.1) and
 * BasicOCSPResponse without certs (RFC 6960 §4.2.1).  tbs holds the DER of
 * the to-be-signed SEQUENCE verbatim (ANY).
 */
typedef struct {
	ASN1_TYPE	*tbs;
	X509_ALGOR	*sigalg;
	ASN1_BIT_STRING	*signature;
} PKI_SIGNED;
DECLARE_ASN1_FUNCTIONS(PKI_SIGNED)

#endif
