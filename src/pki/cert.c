/*
 * cert.c - reading, writing and querying certificates (RFC 5280 §4).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/err.h>
#include <openssl/pem.h>

#include "asn1.h"
#include "pki_int.h"

#define EV	"pki.cert"

enum dv_rc
pki_cert_from_der(const uint8_t *der, size_t len, X509 **out)
{
	const unsigned char *p = der;
	X509 *x;

	*out = NULL;
	if (len > DV_MAX_DER) {
		log_msg(LOG_INFO, EV, "{s:s,s:I}", "detail",
		    "certificate larger than DV_MAX_DER", "length",
		    (json_int_t)len);
		return DV_ERR_TOO_LARGE;
	}
	if ((x = d2i_X509(NULL, &p, (long)len)) == NULL || p != der + len) {
		X509_free(x);
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.1: not a DER "
		    "certificate");
		return DV_ERR_MALFORMED;
	}
	/* Caches the extensions; without it X509_check_ca and friends can
	 * answer wrongly (rule 17).  0: an extension is malformed. */
	if (X509_check_purpose(x, -1, 0) != 1) {
		X509_free(x);
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2: malformed "
		    "extension");
		return DV_ERR_MALFORMED;
	}
	*out = x;
	return DV_OK;
}

/* Reads the next CERTIFICATE block of b. */
static enum dv_rc
cert_pem_next(BIO *b, X509 **out)
{
	unsigned char *der = NULL;
	long len = 0;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_pem_next(b, PEM_STRING_X509, NULL, &der, &len)) !=
	    DV_OK)
		return rc;
	rc = pki_cert_from_der(der, (size_t)len, out);
	OPENSSL_free(der);
	return rc;
}

enum dv_rc
pki_cert_from_pem(const char *pem, size_t len, X509 **out)
{
	BIO *b;
	enum dv_rc rc;

	*out = NULL;
	if (len > DV_MAX_PEM) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "certificate PEM larger than DV_MAX_PEM");
		return DV_ERR_TOO_LARGE;
	}
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "BIO_new_mem_buf");
		return DV_ERR_CRYPTO;
	}
	rc = cert_pem_next(b, out);
	BIO_free(b);
	if (rc == DV_ERR_NOT_FOUND) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 7468 §5: no CERTIFICATE block");
		rc = DV_ERR_MALFORMED;
	}
	return rc;
}

enum dv_rc
pki_certs_from_pem(const char *pem, size_t len, size_t max,
    STACK_OF(X509) **out)
{
	STACK_OF(X509) *sk = NULL;
	X509 *x = NULL;
	BIO *b = NULL;
	enum dv_rc rc;

	*out = NULL;
	if (max == 0 || len / DV_MAX_PEM >= max || len > INT_MAX) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "PEM bundle larger than max * DV_MAX_PEM");
		return DV_ERR_TOO_LARGE;
	}
	rc = DV_ERR_CRYPTO;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL ||
	    (sk = sk_X509_new_null()) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "BIO_new_mem_buf");
		goto out;
	}
	while ((rc = cert_pem_next(b, &x)) == DV_OK) {
		if ((size_t)sk_X509_num(sk) >= max) {
			log_msg(LOG_INFO, EV, "{s:s,s:I}", "detail",
			    "more certificates than allowed", "max",
			    (json_int_t)max);
			rc = DV_ERR_TOO_LARGE;
			goto out;
		}
		if (!sk_X509_push(sk, x)) {
			pki_log_ssl(LOG_ERR, EV, "sk_X509_push");
			rc = DV_ERR_CRYPTO;
			goto out;
		}
		x = NULL;
	}
	if (rc != DV_ERR_NOT_FOUND)
		goto out;
	if (sk_X509_num(sk) == 0) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 7468 §5: no CERTIFICATE block");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	*out = sk;
	sk = NULL;
	rc = DV_OK;
out:
	X509_free(x);
	sk_X509_pop_free(sk, X509_free);
	BIO_free(b);
	return rc;
}

enum dv_rc
pki_cert_to_pem(X509 *x, char **pem)
{
	uint8_t *der;
	size_t len;
	enum dv_rc rc;

	*pem = NULL;
	if ((rc = pki_cert_to_der(x, &der, &len)) != DV_OK)
		return rc;
	rc = pki_cert_der_to_pem(der, len, pem);
	free(der);
	return rc;
}

enum dv_rc
pki_cert_der_to_pem(const uint8_t *der, size_t len, char **pem)
{
	char *data;
	long n;
	BIO *b;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*pem = NULL;
	if (len == 0 || len > LONG_MAX)
		return DV_ERR_MALFORMED;
	/* what PEM_write_bio_X509 writes after i2d_X509 */
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(b, PEM_STRING_X509, "", der, (long)len) <= 0) {
		pki_log_ssl(LOG_ERR, EV, "PEM_write_bio");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	*pem = xstrndup(data, n < 0 ? 0 : (size_t)n);
	rc = DV_OK;
out:
	BIO_free(b);
	return rc;
}

enum dv_rc
pki_cert_to_der(X509 *x, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if ((n = i2d_X509(x, &p)) <= 0) {
		pki_log_ssl(LOG_ERR, EV, "i2d_X509");
		return DV_ERR_CRYPTO;
	}
	*der = pki_take_buf(p, (size_t)n);
	*len = (size_t)n;
	return DV_OK;
}

void
pki_cert_free(X509 *x)
{
	X509_free(x);
}

X509 *
pki_cert_up_ref(X509 *x)
{
	if (x != NULL && !X509_up_ref(x))
		abort();	/* only fails on a corrupt refcount lock */
	return x;
}

X509 *
pki_cert_decoded(X509 *x)
{
	uint8_t *der = NULL;
	size_t len = 0;
	X509 *y = NULL;

	if (X509_get0_pubkey(x) != NULL)
		return pki_cert_up_ref(x);
	ERR_clear_error();
	if (pki_cert_to_der(x, &der, &len) == DV_OK)
		(void)pki_cert_from_der(der, len, &y);
	free(der);
	return y;
}

void
pki_certs_free(STACK_OF(X509) *sk)
{
	sk_X509_pop_free(sk, X509_free);
}

char *
pki_cert_fingerprint(X509 *x)
{
	unsigned char md[EVP_MAX_MD_SIZE];
	unsigned int n = 0;

	if (!X509_digest(x, pki_md(PKI_MD_SHA256), md, &n)) {
		pki_log_ssl(LOG_ERR, EV, "X509_digest");
		return NULL;
	}
	return hex_encode(md, n);
}

char *
pki_serial_to_dec(const ASN1_INTEGER *ai)
{
	BIGNUM *bn;
	char *s, *r = NULL;

	if ((bn = ASN1_INTEGER_to_BN(ai, NULL)) == NULL ||
	    (s = BN_bn2dec(bn)) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "serial to decimal");
		BN_free(bn);
		return NULL;
	}
	r = xstrdup(s);
	OPENSSL_free(s);
	BN_free(bn);
	return r;
}

ASN1_INTEGER *
pki_serial_from_dec(const char *dec)
{
	BIGNUM *bn = NULL;
	ASN1_INTEGER *ai = NULL;
	size_t len = strlen(dec), i;

	for (i = 0; i < len; i++)
		if (dec[i] < '0' || dec[i] > '9')
			break;
	if (len == 0 || i != len || len > 64) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail",
		    "serial is not a decimal number");
		return NULL;
	}
	if (BN_dec2bn(&bn, dec) != (int)len ||
	    (ai = BN_to_ASN1_INTEGER(bn, NULL)) == NULL)
		pki_log_ssl(LOG_ERR, EV, "serial from decimal");
	BN_free(bn);
	return ai;
}

char *
pki_cert_serial_dec(X509 *x)
{
	return pki_serial_to_dec(X509_get0_serialNumber(x));
}

static time_t
asn1_time(const ASN1_TIME *t)
{
	struct tm tm;

	memset(&tm, 0, sizeof(tm));
	if (t == NULL || !ASN1_TIME_to_tm(t, &tm)) {
		pki_log_ssl(LOG_ERR, EV, "ASN1_TIME_to_tm");
		return 0;
	}
	return timegm(&tm);
}

time_t
pki_cert_not_before(X509 *x)
{
	return asn1_time(X509_get0_notBefore(x));
}

time_t
pki_cert_not_after(X509 *x)
{
	return asn1_time(X509_get0_notAfter(x));
}

char *
pki_cert_cn(X509 *x)
{
	return pki_name_cn(X509_get_subject_name(x));
}

char *
pki_cert_subject(X509 *x)
{
	char *data, *s = NULL;
	long n;
	BIO *b;

	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    X509_NAME_print_ex(b, X509_get_subject_name(x), 0,
	    XN_FLAG_RFC2253) < 0) {
		pki_log_ssl(LOG_ERR, EV, "X509_NAME_print_ex");
		goto out;
	}
	/* an empty subject (an AK certificate) leaves data NULL */
	n = BIO_get_mem_data(b, &data);
	s = n > 0 && data != NULL ? xstrndup(data, (size_t)n) : xstrdup("");
out:
	BIO_free(b);
	return s;
}

enum dv_rc
pki_cert_sans(X509 *x, struct pki_sans *out)
{
	GENERAL_NAMES *gens;
	enum dv_rc rc;
	int crit = -1;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		if (crit == -1)
			return DV_OK;	/* absent */
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2.1.6: malformed or "
		    "repeated subjectAltName");
		return DV_ERR_MALFORMED;
	}
	rc = pki_sans_from_gens(gens, out);
	GENERAL_NAMES_free(gens);
	return rc;
}

EVP_PKEY *
pki_cert_pubkey0(X509 *x)
{
	EVP_PKEY *k;

	if ((k = X509_get0_pubkey(x)) == NULL)
		ERR_clear_error();
	return k;
}

enum dv_rc
pki_cert_provisioner(X509 *x, int *type, char **name)
{
	PKI_PROVISIONER *p;
	int64_t t;
	int crit = -1, len;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*type = 0;
	*name = NULL;
	p = X509_get_ext_d2i(x, pki_nid_provisioner(), &crit, NULL);
	if (p == NULL) {
		if (crit == -1)
			return DV_ERR_NOT_FOUND;
		pki_log_ssl(LOG_INFO, EV, "provisioner extension malformed "
		    "or repeated");
		return DV_ERR_MALFORMED;
	}
	len = ASN1_STRING_length(p->name);
	if (!ASN1_INTEGER_get_int64(&t, p->type) || t < 0 || t > INT_MAX ||
	    len > DV_MAX_NAME ||
	    memchr(ASN1_STRING_get0_data(p->name), '\0', (size_t)len) !=
	    NULL) {
		pki_log_ssl(LOG_INFO, EV, "provisioner extension: bad type "
		    "or name");
		goto out;
	}
	*type = (int)t;
	*name = xstrndup((const char *)ASN1_STRING_get0_data(p->name),
	    (size_t)len);
	rc = DV_OK;
out:
	PKI_PROVISIONER_free(p);
	return rc;
}

bool
pki_cert_ski_equal(X509 *x, const uint8_t *id, size_t len)
{
	const ASN1_OCTET_STRING *ski;

	/* caches the extensions (rule 17); NULL when there is none */
	if ((ski = X509_get0_subject_key_id(x)) == NULL)
		return false;
	/* rule 18: length plus memcmp */
	return (size_t)ASN1_STRING_length(ski) == len && len > 0 &&
	    memcmp(ASN1_STRING_get0_data(ski), id, len) == 0;
}
