/*
 * crl.c - certificate revocation lists, v2 (RFC 5280 §5).
 *
 * The TBSCertList is built in the PKI_TBS_CRL mirror (asn1.h) from
 * OpenSSL's X509_REVOKED and extension types, because X509_CRL has no
 * setter for its inner signature field and the signature comes from a
 * pki_signer, not a key in this process.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/pem.h>

#include "asn1.h"
#include "pki_int.h"

#define EV	"pki.crl"

static enum dv_rc
ssl_fail(const char *what)
{
	pki_log_ssl(LOG_ERR, EV, "%s", what);
	return DV_ERR_CRYPTO;
}

/* RFC 5280 §5.3.1: reasonCode; 0 (unspecified) is left out, 7 is unused. */
static enum dv_rc
revoked_entry(const struct pki_revoked *r, X509_REVOKED **out)
{
	X509_REVOKED *rv = NULL;
	ASN1_INTEGER *sn = NULL;
	ASN1_TIME *t = NULL;
	ASN1_ENUMERATED *reason = NULL;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*out = NULL;
	if (r->reason < 0 || r->reason > 10 || r->reason == 7) {
		log_msg(LOG_ERR, EV, "{s:s,s:i}", "detail",
		    "RFC 5280 §5.3.1: bad CRLReason", "reason", r->reason);
		return DV_ERR_MALFORMED;
	}
	if ((sn = pki_serial_from_dec(r->serial_dec)) == NULL) {
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if ((rv = X509_REVOKED_new()) == NULL ||
	    !X509_REVOKED_set_serialNumber(rv, sn) ||
	    (t = ASN1_TIME_set(NULL, r->revoked_at)) == NULL ||
	    !X509_REVOKED_set_revocationDate(rv, t)) {
		rc = ssl_fail("revoked entry");
		goto out;
	}
	if (r->reason != 0 && ((reason = ASN1_ENUMERATED_new()) == NULL ||
	    !ASN1_ENUMERATED_set(reason, r->reason) ||
	    X509_REVOKED_add1_ext_i2d(rv, NID_crl_reason, reason, 0,
	    X509V3_ADD_DEFAULT) != 1)) {
		rc = ssl_fail("reasonCode");
		goto out;
	}
	*out = rv;
	rv = NULL;
	rc = DV_OK;
out:
	ASN1_ENUMERATED_free(reason);
	ASN1_TIME_free(t);
	ASN1_INTEGER_free(sn);
	X509_REVOKED_free(rv);
	return rc;
}

/* RFC 5280 §5.2.5: critical IDP whose distributionPoint is fullName url. */
static enum dv_rc
add_idp(STACK_OF(X509_EXTENSION) **exts, const char *url)
{
	ISSUING_DIST_POINT *idp = NULL;
	ASN1_IA5STRING *s = NULL;
	GENERAL_NAME *g = NULL;
	enum dv_rc rc = DV_ERR_CRYPTO;

	if ((idp = ISSUING_DIST_POINT_new()) == NULL ||
	    (idp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (idp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (s = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, url, -1) ||
	    (g = GENERAL_NAME_new()) == NULL)
		goto err;
	idp->distpoint->type = 0;	/* fullName */
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	s = NULL;
	if (!sk_GENERAL_NAME_push(idp->distpoint->name.fullname, g))
		goto err;
	g = NULL;
	if (X509V3_add1_i2d(exts, NID_issuing_distribution_point, idp, 1,
	    X509V3_ADD_DEFAULT) != 1)
		goto err;
	rc = DV_OK;
	goto out;
err:
	rc = ssl_fail("issuingDistributionPoint");
out:
	GENERAL_NAME_free(g);
	ASN1_IA5STRING_free(s);
	ISSUING_DIST_POINT_free(idp);
	return rc;
}

enum dv_rc
pki_crl_build(X509 *issuer, const struct pki_signer *signer,
    const struct pki_revoked *r, size_t n, uint64_t number,
    time_t this_update, time_t next_update, const char *idp_url,
    uint8_t **der, size_t *derlen)
{
	PKI_TBS_CRL *tbs = NULL;
	X509_REVOKED *rv = NULL;
	AUTHORITY_KEYID *akid = NULL;
	ASN1_INTEGER *num = NULL;
	unsigned char *t = NULL;
	size_t i;
	int tlen;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*der = NULL;
	*derlen = 0;
	if (!pki_ready())
		return DV_ERR_INTERNAL;
	if (next_update <= this_update) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail",
		    "RFC 5280 §5.1.2.5: nextUpdate not after thisUpdate");
		return DV_ERR_INTERNAL;
	}
	if ((tbs = PKI_TBS_CRL_new()) == NULL ||
	    (tbs->version = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(tbs->version, 1) ||	/* v2 */
	    !X509_NAME_set(&tbs->issuer, X509_get_subject_name(issuer)) ||
	    ASN1_TIME_set(tbs->this_update, this_update) == NULL ||
	    (tbs->next_update = ASN1_TIME_set(NULL, next_update)) == NULL) {
		rc = ssl_fail("TBSCertList");
		goto out;
	}
	if ((rc = pki_sig_algor_set(tbs->signature, signer->alg)) != DV_OK)
		goto out;
	if (n > 0 && (tbs->revoked = sk_X509_REVOKED_new_null()) == NULL) {
		rc = ssl_fail("revokedCertificates");
		goto out;
	}
	for (i = 0; i < n; i++) {
		if ((rc = revoked_entry(&r[i], &rv)) != DV_OK)
			goto out;
		if (!sk_X509_REVOKED_push(tbs->revoked, rv)) {
			rc = ssl_fail("revokedCertificates");
			goto out;
		}
		rv = NULL;
	}
	/* RFC 5280 §5.2.1 AKI and §5.2.3 cRLNumber, both required */
	if ((akid = AUTHORITY_KEYID_new()) == NULL ||
	    (akid->keyid = pki_issuer_key_id(issuer)) == NULL ||
	    X509V3_add1_i2d(&tbs->extensions, NID_authority_key_identifier,
	    akid, 0, X509V3_ADD_DEFAULT) != 1 ||
	    (num = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set_uint64(num, number) ||
	    X509V3_add1_i2d(&tbs->extensions, NID_crl_number, num, 0,
	    X509V3_ADD_DEFAULT) != 1) {
		rc = ssl_fail("AKI / cRLNumber");
		goto out;
	}
	if (idp_url != NULL &&
	    (rc = add_idp(&tbs->extensions, idp_url)) != DV_OK)
		goto out;
	if ((tlen = i2d_PKI_TBS_CRL(tbs, &t)) <= 0) {
		rc = ssl_fail("i2d TBSCertList");
		goto out;
	}
	rc = pki_sign_wrap(signer, t, (size_t)tlen, der, derlen, NULL,
	    NULL);
out:
	OPENSSL_free(t);
	ASN1_INTEGER_free(num);
	AUTHORITY_KEYID_free(akid);
	X509_REVOKED_free(rv);
	PKI_TBS_CRL_free(tbs);
	return rc;
}

enum dv_rc
pki_crl_der_to_pem(const uint8_t *der, size_t len, char **pem)
{
	char *data;
	long n;
	BIO *b;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*pem = NULL;
	if (len > LONG_MAX)
		return DV_ERR_TOO_LARGE;
	/* PEM armour only: the DER is ours and need not be decoded */
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    PEM_write_bio(b, PEM_STRING_X509_CRL, "", der, (long)len) <= 0) {
		rc = ssl_fail("PEM_write_bio");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	*pem = xstrndup(data, n < 0 ? 0 : (size_t)n);
	rc = DV_OK;
out:
	BIO_free(b);
	return rc;
}
