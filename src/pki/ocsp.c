/*
 * ocsp.c - OCSP requests and responses (RFC 6960).
 *
 * Responses are signed by the issuing CA itself through a pki_signer: the
 * ResponseData is built in the PKI_OCSP_RESPDATA mirror (asn1.h), since
 * OCSP_basic_sign needs the private key in this process.  SingleResponses
 * are still made by OpenSSL (OCSP_basic_add1_status).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>

#include "asn1.h"
#include "pki_int.h"

#define EV	"pki.ocsp"

static enum dv_rc
ssl_fail(const char *what)
{
	pki_log_ssl(LOG_ERR, EV, "%s", what);
	return DV_ERR_CRYPTO;
}

void
pki_ocsp_req_free(struct pki_ocsp_req *r)
{
	size_t i;

	if (r == NULL)
		return;
	for (i = 0; i < r->nids; i++)
		free(r->ids[i].serial_dec);
	free(r->ids);
	OCSP_REQUEST_free(r->req);
	free(r);
}

/* RFC 6960 §4.1.1 CertID into id. */
static enum dv_rc
ocsp_id(OCSP_CERTID *cid, struct pki_ocsp_id *id)
{
	ASN1_OCTET_STRING *nh = NULL, *kh = NULL;
	ASN1_OBJECT *md = NULL;
	ASN1_INTEGER *sn = NULL;
	int len;

	if (!OCSP_id_get0_info(&nh, &md, &kh, &sn, cid)) {
		pki_log_ssl(LOG_INFO, EV, "RFC 6960 §4.1.1: bad CertID");
		return DV_ERR_MALFORMED;
	}
	len = ASN1_STRING_length(nh);
	if (len <= 0 || len > (int)sizeof(id->name_hash) ||
	    len != ASN1_STRING_length(kh)) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail", "RFC 6960 §4.1.1: "
		    "issuerNameHash and issuerKeyHash lengths differ");
		return DV_ERR_MALFORMED;
	}
	id->hash_nid = OBJ_obj2nid(md);
	id->hash_len = (size_t)len;
	memcpy(id->name_hash, ASN1_STRING_get0_data(nh), (size_t)len);
	memcpy(id->key_hash, ASN1_STRING_get0_data(kh), (size_t)len);
	if ((id->serial_dec = pki_serial_to_dec(sn)) == NULL)
		return DV_ERR_MALFORMED;
	return DV_OK;
}

enum dv_rc
pki_ocsp_req_parse(const uint8_t *der, size_t len, struct pki_ocsp_req **out)
{
	const unsigned char *p = der;
	struct pki_ocsp_req *r = NULL;
	OCSP_REQUEST *req = NULL;
	int i, n;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*out = NULL;
	if (len > DV_MAX_OCSP_REQ) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "OCSP request larger than DV_MAX_OCSP_REQ");
		return DV_ERR_TOO_LARGE;
	}
	if ((req = d2i_OCSP_REQUEST(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		OCSP_REQUEST_free(req);
		pki_log_ssl(LOG_INFO, EV, "RFC 6960 §4.1.1: not a DER "
		    "OCSPRequest");
		return DV_ERR_MALFORMED;
	}
	n = OCSP_request_onereq_count(req);
	if (n <= 0 || n > DV_MAX_OCSP_IDS) {
		OCSP_REQUEST_free(req);
		log_msg(LOG_INFO, EV, "{s:s,s:i}", "detail", "RFC 6960 §4.1.1: "
		    "no request, or more than DV_MAX_OCSP_IDS", "count", n);
		return n <= 0 ? DV_ERR_MALFORMED : DV_ERR_TOO_LARGE;
	}
	r = xcalloc(1, sizeof(*r));
	r->req = req;
	r->ids = xcalloc((size_t)n, sizeof(*r->ids));
	for (i = 0; i < n; i++) {
		r->nids++;
		if ((rc = ocsp_id(OCSP_onereq_get0_id(
		    OCSP_request_onereq_get0(req, i)), &r->ids[i])) != DV_OK)
			goto out;
	}
	r->has_nonce = OCSP_REQUEST_get_ext_by_NID(req,
	    NID_id_pkix_OCSP_Nonce, -1) >= 0;
	*out = r;
	r = NULL;
	rc = DV_OK;
out:
	pki_ocsp_req_free(r);
	return rc;
}

bool
pki_ocsp_id_matches(const struct pki_ocsp_id *id, X509 *issuer)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	const ASN1_BIT_STRING *key;
	const unsigned char *name;
	const EVP_MD *md;
	size_t namelen;

	if ((md = pki_md_by_nid(id->hash_nid)) == NULL ||
	    (size_t)EVP_MD_get_size(md) != id->hash_len)
		return false;
	/* issuerNameHash: over the DER of the issuer's subject */
	if (!X509_NAME_get0_der(X509_get_subject_name(issuer), &name,
	    &namelen) ||
	    !EVP_Digest(name, namelen, h, &hlen, md, NULL)) {
		pki_log_ssl(LOG_ERR, EV, "issuerNameHash");
		return false;
	}
	if (hlen != id->hash_len || memcmp(h, id->name_hash, hlen) != 0)
		return false;
	/* issuerKeyHash: over the subjectPublicKey bits */
	if ((key = X509_get0_pubkey_bitstr(issuer)) == NULL ||
	    !EVP_Digest(ASN1_STRING_get0_data(key),
	    (size_t)ASN1_STRING_length(key), h, &hlen, md, NULL)) {
		pki_log_ssl(LOG_ERR, EV, "issuerKeyHash");
		return false;
	}
	return hlen == id->hash_len && memcmp(h, id->key_hash, hlen) == 0;
}

/* Adds the SingleResponses (RFC 6960 §4.2.1) for every id of req to rd. */
static enum dv_rc
ocsp_singles(PKI_OCSP_RESPDATA *rd, const struct pki_ocsp_req *req,
    const struct pki_ocsp_answer *a, time_t now, time_t validity)
{
	OCSP_BASICRESP *bs = NULL;
	OCSP_SINGLERESP *s;
	ASN1_TIME *thisupd = NULL, *nextupd = NULL, *revtime = NULL;
	OCSP_CERTID *cid;
	size_t i;
	int status, reason;
	enum dv_rc rc = DV_ERR_CRYPTO;

	/* a scratch response only to have OpenSSL build the entries */
	if ((bs = OCSP_BASICRESP_new()) == NULL ||
	    (thisupd = ASN1_TIME_set(NULL, now)) == NULL ||
	    (validity > 0 &&
	    (nextupd = ASN1_TIME_set(NULL, now + validity)) == NULL))
		goto err;
	for (i = 0; i < req->nids; i++) {
		cid = OCSP_onereq_get0_id(OCSP_request_onereq_get0(req->req,
		    (int)i));
		reason = OCSP_REVOKED_STATUS_NOSTATUS;
		switch (a[i].status) {
		case PKI_OCSP_GOOD:
			status = V_OCSP_CERTSTATUS_GOOD;
			break;
		case PKI_OCSP_REVOKED:
			status = V_OCSP_CERTSTATUS_REVOKED;
			if (a[i].reason > 0 && a[i].reason <= 10 &&
			    a[i].reason != 7)
				reason = a[i].reason;
			ASN1_TIME_free(revtime);
			if ((revtime = ASN1_TIME_set(NULL,
			    a[i].revoked_at)) == NULL)
				goto err;
			break;
		default:
			status = V_OCSP_CERTSTATUS_UNKNOWN;
			break;
		}
		if ((s = OCSP_basic_add1_status(bs, cid, status, reason,
		    status == V_OCSP_CERTSTATUS_REVOKED ? revtime : NULL,
		    thisupd, nextupd)) == NULL)
			goto err;
		if ((s = ASN1_item_dup(ASN1_ITEM_rptr(OCSP_SINGLERESP), s)) ==
		    NULL)
			goto err;
		if (!sk_OCSP_SINGLERESP_push(rd->responses, s)) {
			OCSP_SINGLERESP_free(s);
			goto err;
		}
	}
	rc = DV_OK;
	goto out;
err:
	rc = ssl_fail("SingleResponse");
out:
	ASN1_TIME_free(revtime);
	ASN1_TIME_free(nextupd);
	ASN1_TIME_free(thisupd);
	OCSP_BASICRESP_free(bs);
	return rc;
}

/* Wraps a BasicOCSPResponse in a successful OCSPResponse (§4.2.1). */
static enum dv_rc
ocsp_wrap(const uint8_t *basic, size_t len, uint8_t **der, size_t *derlen)
{
	const unsigned char *p = basic;
	OCSP_BASICRESP *bs = NULL;
	OCSP_RESPONSE *resp = NULL;
	unsigned char *o = NULL;
	int n;
	enum dv_rc rc = DV_ERR_CRYPTO;

	if ((bs = d2i_OCSP_BASICRESP(NULL, &p, (long)len)) == NULL ||
	    p != basic + len ||
	    (resp = OCSP_response_create(OCSP_RESPONSE_STATUS_SUCCESSFUL,
	    bs)) == NULL ||
	    (n = i2d_OCSP_RESPONSE(resp, &o)) <= 0) {
		rc = ssl_fail("OCSPResponse");
		goto out;
	}
	*der = pki_take_buf(o, (size_t)n);
	*derlen = (size_t)n;
	rc = DV_OK;
out:
	OCSP_RESPONSE_free(resp);
	OCSP_BASICRESP_free(bs);
	return rc;
}

enum dv_rc
pki_ocsp_resp_build(X509 *issuer, const struct pki_signer *signer,
    const struct pki_ocsp_req *req, const struct pki_ocsp_answer *answers,
    time_t now, time_t validity, uint8_t **der, size_t *derlen)
{
	PKI_OCSP_RESPDATA *rd = NULL;
	X509_EXTENSION *nonce;
	unsigned char *tbs = NULL;
	uint8_t *basic = NULL;
	size_t basiclen = 0;
	int i, tlen;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*der = NULL;
	*derlen = 0;
	if (!pki_ready())
		return DV_ERR_INTERNAL;
	/* responderID byKey (§4.2.2.3): SHA-1 of the issuer's key bits */
	if ((rd = PKI_OCSP_RESPDATA_new()) == NULL ||
	    !OCSP_RESPID_set_by_key(rd->responder_id, issuer) ||
	    ASN1_GENERALIZEDTIME_set(rd->produced_at, now) == NULL) {
		rc = ssl_fail("ResponseData");
		goto out;
	}
	if ((rc = ocsp_singles(rd, req, answers, now, validity)) != DV_OK)
		goto out;
	/* RFC 8954 / RFC 6960 §4.4.1: echo the request's nonce */
	if ((i = OCSP_REQUEST_get_ext_by_NID(req->req, NID_id_pkix_OCSP_Nonce,
	    -1)) >= 0) {
		nonce = OCSP_REQUEST_get_ext(req->req, i);
		if (X509v3_add_ext(&rd->extensions, nonce, -1) == NULL) {
			rc = ssl_fail("nonce");
			goto out;
		}
	}
	if ((tlen = i2d_PKI_OCSP_RESPDATA(rd, &tbs)) <= 0) {
		rc = ssl_fail("i2d ResponseData");
		goto out;
	}
	if ((rc = pki_sign_wrap(signer, tbs, (size_t)tlen, &basic,
	    &basiclen, NULL, NULL)) != DV_OK)
		goto out;
	rc = ocsp_wrap(basic, basiclen, der, derlen);
out:
	free(basic);
	OPENSSL_free(tbs);
	PKI_OCSP_RESPDATA_free(rd);
	return rc;
}

enum dv_rc
pki_ocsp_resp_error(int status, uint8_t **der, size_t *derlen)
{
	OCSP_RESPONSE *resp = NULL;
	unsigned char *o = NULL;
	int n;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*der = NULL;
	*derlen = 0;
	switch (status) {
	case OCSP_RESPONSE_STATUS_MALFORMEDREQUEST:
	case OCSP_RESPONSE_STATUS_INTERNALERROR:
	case OCSP_RESPONSE_STATUS_TRYLATER:
	case OCSP_RESPONSE_STATUS_SIGREQUIRED:
	case OCSP_RESPONSE_STATUS_UNAUTHORIZED:
		break;
	default:
		log_msg(LOG_ERR, EV, "{s:s,s:i}", "detail",
		    "RFC 6960 §4.2.1: not an error status", "status", status);
		return DV_ERR_INTERNAL;
	}
	if ((resp = OCSP_response_create(status, NULL)) == NULL ||
	    (n = i2d_OCSP_RESPONSE(resp, &o)) <= 0) {
		rc = ssl_fail("OCSPResponse");
		goto out;
	}
	*der = pki_take_buf(o, (size_t)n);
	*derlen = (size_t)n;
	rc = DV_OK;
out:
	OCSP_RESPONSE_free(resp);
	return rc;
}
