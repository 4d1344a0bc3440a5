/*
 * tpm.c - TPM identifiers of the device inventory: the EK URN of an EK
 * public key (spec/attestation.md §2.5) and the EK certificate with the
 * TPM manufacturer, model and version of its SAN directoryName (§13.1,
 * §13.2; TCG EK Credential Profile 2.0 §3.2.9).
 */
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "asn1.h"
#include "pki_int.h"

#define EV		"pki.ek"
/* Longest TPM manufacturer / model / version string kept.  Real ones are
 * below 16 bytes ("id:4E544300", "ST33HTPHAHB4"). */
#define EK_ATTR_MAX	128

/* "urn:ek:sha256:" + base64std(SHA-256(SPKI of k)); k must be RSA or EC. */
static enum dv_rc
ek_key_urn(EVP_PKEY *k, char **urn)
{
	uint8_t md[32], *spki = NULL;
	char *b64 = NULL;
	size_t len;
	enum dv_rc rc;
	int id;

	*urn = NULL;
	id = EVP_PKEY_get_base_id(k);
	if (id != EVP_PKEY_RSA && id != EVP_PKEY_EC) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "TPM 2.0 Part 1 §34: an EK is an RSA or ECC key");
		return DV_ERR_BAD_KEY;
	}
	/* the canonical re-encoding, as Go's MarshalPKIXPublicKey */
	if ((rc = pki_key_spki_der(k, &spki, &len)) != DV_OK)
		return rc;
	pki_sha256(spki, len, md);
	free(spki);
	if ((rc = pki_b64_encode(md, sizeof(md), &b64)) != DV_OK)
		return rc;
	*urn = xasprintf("%s%s", PKI_EK_URN_PREFIX, b64);
	free(b64);
	return DV_OK;
}

enum dv_rc
pki_ek_pub_urn(const uint8_t *data, size_t len, bool der, char **urn)
{
	unsigned char *buf = NULL;
	long blen = 0;
	EVP_PKEY *k = NULL;
	BIO *b = NULL;
	enum dv_rc rc;

	*urn = NULL;
	if (len > (der ? DV_MAX_DER : DV_MAX_PEM)) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "EK public key over the size limit");
		return DV_ERR_TOO_LARGE;
	}
	if (der) {
		rc = pki_key_from_spki(data, len, &k);
		goto key;
	}
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "BIO_new_mem_buf");
		return DV_ERR_CRYPTO;
	}
	rc = pki_pem_next(b, PEM_STRING_PUBLIC, NULL, &buf, &blen);
	BIO_free(b);
	if (rc == DV_ERR_NOT_FOUND) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 7468 §13: no PUBLIC KEY block");
		return DV_ERR_MALFORMED;
	}
	if (rc != DV_OK)
		return rc;
	rc = pki_key_from_spki(buf, (size_t)blen, &k);
	OPENSSL_free(buf);
key:
	if (rc != DV_OK)
		return rc;
	rc = ek_key_urn(k, urn);
	EVP_PKEY_free(k);
	return rc;
}

/*
 * The URN straight from SPKI DER, without decoding the key: the structure
 * is read with the local template (asn1.h) and re-encoded, which is the
 * canonical DER Go's MarshalPKIXPublicKey produces for RSA keys and EC keys
 * with an uncompressed point.  Decoding and re-encoding through EVP_PKEY
 * costs OpenSSL 3.0 a decoder and an encoder context each time (most of an
 * /attest request).  A compressed EC point takes the full path, which
 * re-encodes it uncompressed.
 */
enum dv_rc
pki_ek_spki_urn(const uint8_t *der, size_t len, char **urn)
{
	const unsigned char *p = der;
	PKI_SPKI *spki = NULL;
	unsigned char *canon = NULL;
	const ASN1_OBJECT *obj;
	uint8_t md[32];
	char *b64 = NULL;
	int clen, nid;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	*urn = NULL;
	if (len > DV_MAX_DER) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "EK public key over the size limit");
		return DV_ERR_TOO_LARGE;
	}
	if ((spki = d2i_PKI_SPKI(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		ERR_clear_error();
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 5280 §4.1.2.7: not a SubjectPublicKeyInfo");
		goto out;
	}
	X509_ALGOR_get0(&obj, NULL, NULL, spki->algor);
	nid = OBJ_obj2nid(obj);
	if (nid == NID_X9_62_id_ecPublicKey && (spki->key->length < 1 ||
	    spki->key->data[0] != 4)) {
		rc = pki_ek_pub_urn(der, len, true, urn);
		goto out;
	}
	if (nid != NID_rsaEncryption && nid != NID_X9_62_id_ecPublicKey) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "TPM 2.0 Part 1 §34: an EK is an RSA or ECC key");
		goto out;
	}
	if ((clen = i2d_PKI_SPKI(spki, &canon)) <= 0) {
		pki_log_ssl(LOG_ERR, EV, "i2d_PKI_SPKI");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	pki_sha256(canon, (size_t)clen, md);
	if ((rc = pki_b64_encode(md, sizeof(md), &b64)) != DV_OK)
		goto out;
	*urn = xasprintf("%s%s", PKI_EK_URN_PREFIX, b64);
	rc = DV_OK;
out:
	free(b64);
	OPENSSL_free(canon);
	PKI_SPKI_free(spki);
	return rc;
}

bool
pki_ek_urn_valid(const char *s)
{
	const size_t plen = sizeof(PKI_EK_URN_PREFIX) - 1;
	uint8_t *md = NULL;
	size_t len = 0, n;
	bool ok;

	if (s == NULL || strncmp(s, PKI_EK_URN_PREFIX, plen) != 0)
		return false;
	s += plen;
	/* 32 bytes are exactly 44 padded base64 characters, last one '=' */
	n = strlen(s);
	if (n != 44 || s[43] != '=' || s[42] == '=' ||
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789+/") != 43)
		return false;
	ok = pki_b64_decode(s, n, &md, &len) == DV_OK && len == 32;
	free(md);
	return ok;
}

void
pki_ek_cert_clear(struct pki_ek_cert *c)
{
	if (c == NULL)
		return;
	free(c->urn);
	free(c->manufacturer);
	free(c->model);
	free(c->version);
	free(c->pem);
	memset(c, 0, sizeof(*c));
}

/* Stores the value of one TPM attribute in *slot, refusing a repeat. */
static enum dv_rc
ek_attr_take(const ASN1_STRING *v, char **slot)
{
	unsigned char *u = NULL;
	int n;

	if (*slot != NULL) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "TCG EK profile §3.2.9: TPM attribute repeated");
		return DV_ERR_MALFORMED;
	}
	if ((n = ASN1_STRING_to_UTF8(&u, v)) < 0) {
		pki_log_ssl(LOG_INFO, EV, "TCG EK profile §3.2.9: TPM "
		    "attribute is not a string");
		return DV_ERR_MALFORMED;
	}
	/* embedded NULs and control bytes are refused, not truncated */
	if (n == 0 || n > EK_ATTR_MAX || !str_printable((char *)u,
	    (size_t)n)) {
		OPENSSL_free(u);
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "TPM attribute empty, too long or not printable");
		return DV_ERR_MALFORMED;
	}
	*slot = xstrndup((char *)u, (size_t)n);
	OPENSSL_free(u);
	return DV_OK;
}

/* Reads 2.23.133.2.1/2/3 of every directoryName of the SAN into c. */
static enum dv_rc
ek_san_tpm(X509 *x, struct pki_ek_cert *c)
{
	ASN1_OBJECT *oid[3] = { NULL, NULL, NULL };
	char **slot[3] = { &c->manufacturer, &c->model, &c->version };
	const char *txt[3] = { PKI_OID_TPM_MANUFACTURER, PKI_OID_TPM_MODEL,
	    PKI_OID_TPM_VERSION };
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const X509_NAME_ENTRY *e;
	enum dv_rc rc = DV_OK;
	int crit = -1, i, j, k;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		if (crit == -1)
			return DV_OK;	/* no SAN: no TPM details */
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2.1.6: SAN malformed "
		    "or repeated");
		return DV_ERR_MALFORMED;
	}
	/* EK certificates have an empty subject, so the SAN is critical
	 * (RFC 5280 §4.2.1.6); either way it is read the same. */
	for (k = 0; k < 3; k++)
		if ((oid[k] = OBJ_txt2obj(txt[k], 1)) == NULL) {
			pki_log_ssl(LOG_ERR, EV, "OBJ_txt2obj");
			rc = DV_ERR_CRYPTO;
			goto out;
		}
	for (i = 0; i < sk_GENERAL_NAME_num(gens) && rc == DV_OK; i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type != GEN_DIRNAME)
			continue;
		for (j = 0; j < X509_NAME_entry_count(g->d.dirn) &&
		    rc == DV_OK; j++) {
			e = X509_NAME_get_entry(g->d.dirn, j);
			for (k = 0; k < 3; k++)
				if (OBJ_cmp(X509_NAME_ENTRY_get_object(e),
				    oid[k]) == 0)
					break;
			if (k < 3)
				rc = ek_attr_take(X509_NAME_ENTRY_get_data(e),
				    slot[k]);
		}
	}
out:
	for (k = 0; k < 3; k++)
		ASN1_OBJECT_free(oid[k]);
	GENERAL_NAMES_free(gens);
	return rc;
}

/* Decodes the first DER certificate of data, ignoring what follows. */
static enum dv_rc
ek_cert_der(const uint8_t *data, size_t len, X509 **out)
{
	const unsigned char *p = data;
	X509 *x;

	*out = NULL;
	if (len > DV_MAX_DER) {
		log_msg(LOG_INFO, EV, "{s:s,s:I}", "detail",
		    "EK certificate larger than DV_MAX_DER", "length",
		    (json_int_t)len);
		return DV_ERR_TOO_LARGE;
	}
	/*
	 * No p == data + len check, unlike pki_cert_from_der: a certificate
	 * read from TPM NV comes padded to the NV index size (keylime's
	 * STM sample: 1169 bytes of certificate, 431 of 0xff).  d2i_X509
	 * stops at the end of the outer SEQUENCE; the trailing bytes are not
	 * part of anything kept (the PEM re-encodes the certificate alone).
	 */
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL) {
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.1: not a DER "
		    "certificate");
		return DV_ERR_MALFORMED;
	}
	if (X509_check_purpose(x, -1, 0) != 1) {
		X509_free(x);
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2: malformed "
		    "extension");
		return DV_ERR_MALFORMED;
	}
	*out = x;
	return DV_OK;
}

enum dv_rc
pki_ek_cert_parse(const uint8_t *data, size_t len, bool der,
    struct pki_ek_cert *out)
{
	struct pki_ek_cert c = { 0 };
	EVP_PKEY *k;
	X509 *x = NULL;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	if (der)
		rc = ek_cert_der(data, len, &x);
	else	/* pki_cert_from_pem checks purpose (rule 17) */
		rc = pki_cert_from_pem((const char *)data, len, &x);
	if (rc != DV_OK)
		return rc;
	if ((k = X509_get0_pubkey(x)) == NULL) {
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.1.2.7: EK certificate "
		    "key does not decode");
		rc = DV_ERR_BAD_KEY;
		goto err;
	}
	if ((rc = ek_key_urn(k, &c.urn)) != DV_OK)
		goto err;
	if ((rc = ek_san_tpm(x, &c)) != DV_OK)
		goto err;
	if ((rc = pki_cert_to_pem(x, &c.pem)) != DV_OK)
		goto err;
	X509_free(x);
	*out = c;
	return DV_OK;
err:
	pki_ek_cert_clear(&c);
	X509_free(x);
	return rc;
}
