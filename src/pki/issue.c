/*
 * issue.c - building certificates (RFC 5280 §4) and having them signed by
 * a pki_signer.
 *
 * The public key goes in as bytes (X509_PUBKEY_set0_param): X509_set_pubkey
 * would run OpenSSL 3.0's encoder and cost more than the rest of the
 * issuance (spec/performance.md §2.2).  One consequence: a certificate built
 * here has no decoded key, so X509_get0_pubkey / pki_cert_pubkey0 return NULL
 * on it; read its DER back when the key object is needed.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1.h"
#include "pki_int.h"

#define EV		"pki.issue"
/* RFC 5280 §4.1.2.2: at most 20 octets; one bit kept clear for the sign. */
#define SERIAL_LEN	20

static enum dv_rc
ssl_fail(const char *what)
{
	pki_log_ssl(LOG_ERR, EV, "%s", what);
	return DV_ERR_CRYPTO;
}

/* A random positive serial of up to 159 bits (CA/B BR §7.1: >= 64 bits of
 * CSPRNG output), never zero. */
static enum dv_rc
set_serial(X509 *x)
{
	uint8_t sn[SERIAL_LEN];
	size_t i;
	enum dv_rc rc;

	if ((rc = pki_random(sn, sizeof(sn))) != DV_OK)
		return rc;
	sn[0] &= 0x7f;
	for (i = 0; i < sizeof(sn) - 1 && sn[i] == 0; i++)
		continue;
	if (sn[i] == 0)
		sn[i] = 1;
	/* the content of an ASN1_INTEGER is the magnitude, minimal */
	if (!ASN1_STRING_set(X509_get_serialNumber(x), sn + i,
	    (int)(sizeof(sn) - i)))
		return ssl_fail("serial");
	return DV_OK;
}

static enum dv_rc
set_validity(X509 *x, time_t nb, time_t na)
{
	if (na <= nb) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail",
		    "RFC 5280 §4.1.2.5: notAfter is not after notBefore");
		return DV_ERR_LIFETIME;
	}
	/* ASN1_TIME_set picks UTCTime up to 2049, then GeneralizedTime,
	 * as RFC 5280 §4.1.2.5 requires. */
	if (ASN1_TIME_set(X509_getm_notBefore(x), nb) == NULL ||
	    ASN1_TIME_set(X509_getm_notAfter(x), na) == NULL)
		return ssl_fail("validity");
	return DV_OK;
}

/*
 * Copies an SPKI into x without decoding the key and returns its key
 * identifier (SHA-1 of the key bits) in *ski.
 */
static enum dv_rc
set_spki_raw(X509 *x, const X509_ALGOR *alg, const uint8_t *key,
    size_t keylen, ASN1_OCTET_STRING **ski)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	void *param = NULL;
	unsigned char *bits = NULL;
	ASN1_OBJECT *aobj = NULL;
	int ptype;

	*ski = NULL;
	X509_ALGOR_get0(&obj, &ptype, &pval, alg);
	switch (ptype) {
	case V_ASN1_UNDEF:
	case V_ASN1_NULL:
		break;
	case V_ASN1_OBJECT:
		param = OBJ_dup(pval);
		break;
	case V_ASN1_SEQUENCE:
		param = ASN1_STRING_dup(pval);
		break;
	default:
		log_msg(LOG_ERR, EV, "{s:s}", "detail",
		    "SubjectPublicKeyInfo with unexpected parameters");
		return DV_ERR_BAD_KEY;
	}
	if (keylen == 0 || keylen > INT_MAX ||
	    (ptype == V_ASN1_OBJECT || ptype == V_ASN1_SEQUENCE) !=
	    (param != NULL) || (aobj = OBJ_dup(obj)) == NULL ||
	    (bits = OPENSSL_memdup(key, keylen)) == NULL)
		goto err;
	/* set0 takes aobj, param and bits on success */
	if (!X509_PUBKEY_set0_param(X509_get_X509_PUBKEY(x), aobj, ptype,
	    param, bits, (int)keylen))
		goto err;
	if ((*ski = pki_key_id(key, keylen)) == NULL)
		return DV_ERR_CRYPTO;
	return DV_OK;
err:
	OPENSSL_free(bits);
	ASN1_OBJECT_free(aobj);
	if (ptype == V_ASN1_OBJECT)
		ASN1_OBJECT_free(param);
	else
		ASN1_STRING_free(param);
	return ssl_fail("X509_PUBKEY_set0_param");
}

static enum dv_rc
set_spki(X509 *x, const uint8_t *spki, size_t len, ASN1_OCTET_STRING **ski)
{
	const unsigned char *p = spki;
	PKI_SPKI *s = NULL;
	enum dv_rc rc;

	*ski = NULL;
	if (len > DV_MAX_DER || (s = d2i_PKI_SPKI(NULL, &p, (long)len)) ==
	    NULL || p != spki + len) {
		PKI_SPKI_free(s);
		pki_log_ssl(LOG_ERR, EV, "RFC 5280 §4.1.2.7: bad "
		    "SubjectPublicKeyInfo");
		return DV_ERR_BAD_KEY;
	}
	rc = set_spki_raw(x, s->algor, s->key->data, (size_t)s->key->length,
	    ski);
	PKI_SPKI_free(s);
	return rc;
}

static enum dv_rc
add_ext(X509 *x, int nid, void *value, int crit, const char *what)
{
	if (X509_add1_ext_i2d(x, nid, value, crit, X509V3_ADD_DEFAULT) != 1)
		return ssl_fail(what);
	return DV_OK;
}

static enum dv_rc
add_aki(X509 *x, ASN1_OCTET_STRING *keyid)
{
	AUTHORITY_KEYID *akid;
	enum dv_rc rc;

	if ((akid = AUTHORITY_KEYID_new()) == NULL)
		return ssl_fail("AUTHORITY_KEYID_new");
	akid->keyid = keyid;	/* borrowed for the encoding */
	rc = add_ext(x, NID_authority_key_identifier, akid, 0, "AKI");
	akid->keyid = NULL;
	AUTHORITY_KEYID_free(akid);
	return rc;
}

/* RFC 5280 §4.2.1.9 */
static enum dv_rc
add_basic_constraints(X509 *x, bool ca, int path_len)
{
	BASIC_CONSTRAINTS *bc;
	enum dv_rc rc = DV_ERR_CRYPTO;

	if ((bc = BASIC_CONSTRAINTS_new()) == NULL)
		return ssl_fail("BASIC_CONSTRAINTS_new");
	bc->ca = ca ? 0xff : 0;
	if (ca && path_len >= 0 &&
	    ((bc->pathlen = ASN1_INTEGER_new()) == NULL ||
	    !ASN1_INTEGER_set(bc->pathlen, path_len))) {
		rc = ssl_fail("pathLenConstraint");
		goto out;
	}
	rc = add_ext(x, NID_basic_constraints, bc, 1, "basicConstraints");
out:
	BASIC_CONSTRAINTS_free(bc);
	return rc;
}

/* RFC 5280 §4.2.1.3 */
static enum dv_rc
add_key_usage(X509 *x, unsigned ku)
{
	static const struct {
		unsigned	 bit;
		int		 n;
	} map[] = {
		{ PKI_KU_DIGITAL_SIGNATURE, 0 },
		{ PKI_KU_KEY_ENCIPHERMENT, 2 },
		{ PKI_KU_CERT_SIGN, 5 },
		{ PKI_KU_CRL_SIGN, 6 },
	};
	ASN1_BIT_STRING *bs;
	enum dv_rc rc;
	size_t i;

	if ((bs = ASN1_BIT_STRING_new()) == NULL)
		return ssl_fail("ASN1_BIT_STRING_new");
	for (i = 0; i < sizeof(map) / sizeof(map[0]); i++) {
		if ((ku & map[i].bit) &&
		    !ASN1_BIT_STRING_set_bit(bs, map[i].n, 1)) {
			ASN1_BIT_STRING_free(bs);
			return ssl_fail("keyUsage");
		}
	}
	rc = add_ext(x, NID_key_usage, bs, 1, "keyUsage");
	ASN1_BIT_STRING_free(bs);
	return rc;
}

/* RFC 5280 §4.2.1.12 */
static enum dv_rc
add_ext_key_usage(X509 *x, unsigned eku)
{
	EXTENDED_KEY_USAGE *e;
	enum dv_rc rc;

	if ((e = sk_ASN1_OBJECT_new_null()) == NULL ||
	    ((eku & PKI_EKU_SERVER_AUTH) &&
	    !sk_ASN1_OBJECT_push(e, OBJ_nid2obj(NID_server_auth))) ||
	    ((eku & PKI_EKU_CLIENT_AUTH) &&
	    !sk_ASN1_OBJECT_push(e, OBJ_nid2obj(NID_client_auth))) ||
	    ((eku & PKI_EKU_OCSP_SIGNING) &&
	    !sk_ASN1_OBJECT_push(e, OBJ_nid2obj(NID_OCSP_sign)))) {
		sk_ASN1_OBJECT_free(e);
		return ssl_fail("extKeyUsage");
	}
	rc = add_ext(x, NID_ext_key_usage, e, 0, "extKeyUsage");
	sk_ASN1_OBJECT_free(e);	/* static objects: not pop_free */
	return rc;
}

static GENERAL_NAME *
uri_name(const char *uri)
{
	ASN1_IA5STRING *s;
	GENERAL_NAME *g;

	if ((s = ASN1_IA5STRING_new()) == NULL ||
	    !ASN1_STRING_set(s, uri, -1) || (g = GENERAL_NAME_new()) == NULL) {
		ASN1_IA5STRING_free(s);
		return NULL;
	}
	GENERAL_NAME_set0_value(g, GEN_URI, s);
	return g;
}

/*
 * Appends the otherName id-on-permanentIdentifier (RFC 4043 §2) with
 * identifierValue value to gens.
 */
static enum dv_rc
add_perm_id(GENERAL_NAMES *gens, const char *value)
{
	PKI_PERMANENT_ID *pid = NULL;
	ASN1_OBJECT *oid = NULL;
	ASN1_STRING *seq = NULL;
	ASN1_TYPE *t = NULL;
	GENERAL_NAME *g = NULL;
	unsigned char *der = NULL;
	int len;
	enum dv_rc rc = DV_ERR_CRYPTO;

	if ((pid = PKI_PERMANENT_ID_new()) == NULL ||
	    (pid->value = ASN1_UTF8STRING_new()) == NULL ||
	    !ASN1_STRING_set(pid->value, value, -1) ||
	    (len = i2d_PKI_PERMANENT_ID(pid, &der)) <= 0 ||
	    (seq = ASN1_STRING_new()) == NULL ||
	    !ASN1_STRING_set(seq, der, len) ||
	    (t = ASN1_TYPE_new()) == NULL ||
	    (oid = OBJ_txt2obj(PKI_OID_PERMANENT_ID, 1)) == NULL ||
	    (g = GENERAL_NAME_new()) == NULL) {
		rc = ssl_fail("PermanentIdentifier");
		goto out;
	}
	ASN1_TYPE_set(t, V_ASN1_SEQUENCE, seq);
	seq = NULL;
	if (!GENERAL_NAME_set0_othername(g, oid, t)) {
		rc = ssl_fail("otherName");
		goto out;
	}
	oid = NULL;
	t = NULL;
	if (!sk_GENERAL_NAME_push(gens, g)) {
		rc = ssl_fail("subjectAltName");
		goto out;
	}
	g = NULL;
	rc = DV_OK;
out:
	GENERAL_NAME_free(g);
	ASN1_OBJECT_free(oid);
	ASN1_TYPE_free(t);
	ASN1_STRING_free(seq);
	OPENSSL_free(der);
	PKI_PERMANENT_ID_free(pid);
	return rc;
}

/* RFC 5280 §4.2.1.13: one distribution point, fullName = url. */
static enum dv_rc
add_crl_dp(X509 *x, const char *url)
{
	CRL_DIST_POINTS *cdp = NULL;
	DIST_POINT *dp = NULL;
	GENERAL_NAME *g = NULL;
	enum dv_rc rc = DV_ERR_CRYPTO;

	if ((cdp = CRL_DIST_POINTS_new()) == NULL ||
	    (dp = DIST_POINT_new()) == NULL ||
	    (dp->distpoint = DIST_POINT_NAME_new()) == NULL ||
	    (dp->distpoint->name.fullname = GENERAL_NAMES_new()) == NULL ||
	    (g = uri_name(url)) == NULL ||
	    !sk_GENERAL_NAME_push(dp->distpoint->name.fullname, g)) {
		rc = ssl_fail("cRLDistributionPoints");
		goto out;
	}
	g = NULL;
	dp->distpoint->type = 0;	/* fullName */
	if (!sk_DIST_POINT_push(cdp, dp)) {
		rc = ssl_fail("cRLDistributionPoints");
		goto out;
	}
	dp = NULL;
	rc = add_ext(x, NID_crl_distribution_points, cdp, 0,
	    "cRLDistributionPoints");
out:
	GENERAL_NAME_free(g);
	DIST_POINT_free(dp);
	CRL_DIST_POINTS_free(cdp);
	return rc;
}

/* RFC 5280 §4.2.2.1: id-ad-ocsp and id-ad-caIssuers, each if given. */
static enum dv_rc
add_aia(X509 *x, const char *ocsp, const char *issuer)
{
	AUTHORITY_INFO_ACCESS *aia;
	ACCESS_DESCRIPTION *ad = NULL;
	const char *url[2] = { ocsp, issuer };
	const int method[2] = { NID_ad_OCSP, NID_ad_ca_issuers };
	enum dv_rc rc = DV_ERR_CRYPTO;
	int i;

	if ((aia = AUTHORITY_INFO_ACCESS_new()) == NULL)
		return ssl_fail("authorityInfoAccess");
	for (i = 0; i < 2; i++) {
		if (url[i] == NULL)
			continue;
		if ((ad = ACCESS_DESCRIPTION_new()) == NULL)
			goto err;
		ASN1_OBJECT_free(ad->method);
		ad->method = OBJ_nid2obj(method[i]);
		GENERAL_NAME_free(ad->location);
		if ((ad->location = uri_name(url[i])) == NULL ||
		    !sk_ACCESS_DESCRIPTION_push(aia, ad))
			goto err;
		ad = NULL;
	}
	rc = add_ext(x, NID_info_access, aia, 0, "authorityInfoAccess");
	goto out;
err:
	rc = ssl_fail("authorityInfoAccess");
out:
	ACCESS_DESCRIPTION_free(ad);
	AUTHORITY_INFO_ACCESS_free(aia);
	return rc;
}

/* step-ca's provisioner extension (asn1.h). */
static enum dv_rc
add_provisioner(X509 *x, int type, const char *name, const char *cred)
{
	PKI_PROVISIONER *p;
	enum dv_rc rc;

	if ((p = PKI_PROVISIONER_new()) == NULL ||
	    !ASN1_INTEGER_set(p->type, type) ||
	    !ASN1_OCTET_STRING_set(p->name, (const unsigned char *)
	    (name != NULL ? name : ""), -1) ||
	    !ASN1_OCTET_STRING_set(p->credential_id, (const unsigned char *)
	    (cred != NULL ? cred : ""), -1)) {
		PKI_PROVISIONER_free(p);
		return ssl_fail("provisioner extension");
	}
	rc = add_ext(x, pki_nid_provisioner(), p, 0, "provisioner extension");
	PKI_PROVISIONER_free(p);
	return rc;
}

/* Extra extensions of the profile; an OID already present is refused
 * (RFC 5280 §4.2: at most one instance of an extension). */
/* True if the extra extensions of p hold a subjectAltName (the AK
 * certificate's, akcert.c). */
static bool
extra_has_san(const struct pki_profile *p)
{
	size_t i;

	for (i = 0; i < p->next; i++)
		if (strcmp(p->ext[i].oid, "2.5.29.17") == 0)
			return true;
	return false;
}

static enum dv_rc
add_extra(X509 *x, const struct pki_ext *ext, size_t n)
{
	X509_EXTENSION *e = NULL;
	ASN1_OCTET_STRING *v = NULL;
	ASN1_OBJECT *obj = NULL;
	enum dv_rc rc = DV_OK;
	size_t i;

	for (i = 0; i < n && rc == DV_OK; i++) {
		if ((obj = OBJ_txt2obj(ext[i].oid, 1)) == NULL ||
		    ext[i].len > INT_MAX) {
			pki_log_ssl(LOG_ERR, EV, "extension OID %s",
			    ext[i].oid);
			rc = DV_ERR_MALFORMED;
		} else if (X509_get_ext_by_OBJ(x, obj, -1) >= 0) {
			log_msg(LOG_ERR, EV, "{s:s,s:s}", "detail",
			    "RFC 5280 §4.2: extension given twice", "oid",
			    ext[i].oid);
			rc = DV_ERR_MALFORMED;
		} else if ((v = ASN1_OCTET_STRING_new()) == NULL ||
		    !ASN1_OCTET_STRING_set(v, ext[i].der, (int)ext[i].len) ||
		    (e = X509_EXTENSION_create_by_OBJ(NULL, obj,
		    ext[i].critical, v)) == NULL || !X509_add_ext(x, e, -1))
			rc = ssl_fail("extra extension");
		X509_EXTENSION_free(e);
		e = NULL;
		ASN1_OCTET_STRING_free(v);
		v = NULL;
		ASN1_OBJECT_free(obj);
		obj = NULL;
	}
	return rc;
}

/*
 * Signs x through signer: the signature fields are set, the TBS DER
 * handed to the signer and wrapped with the signature into the DER, and the
 * signature also put in x, which is then the certificate returned.
 */
static enum dv_rc
cert_sign(X509 *x, const struct pki_signer *signer, uint8_t **der,
    size_t *derlen)
{
	uint8_t *tbs = NULL, *s = NULL;
	size_t tbslen, slen = 0;
	enum dv_rc rc;

	*der = NULL;
	*derlen = 0;
	/* the DER from the TBS bytes signed: no second TBS encoding */
	if ((rc = pki_cert_tbs(x, signer->alg, &tbs, &tbslen)) != DV_OK ||
	    (rc = pki_sign_wrap(signer, tbs, tbslen, der, derlen, &s,
	    &slen)) != DV_OK)
		goto out;
	if ((rc = pki_cert_set_signature(x, s, slen)) != DV_OK) {
		free(*der);
		*der = NULL;
		*derlen = 0;
	}
out:
	free(s);
	free(tbs);
	return rc;
}

/* Hands x and its DER to the caller (either may be NULL). */
static void
cert_out(X509 *x, uint8_t *d, size_t dlen, X509 **out, uint8_t **der,
    size_t *derlen)
{
	if (out != NULL)
		*out = x;
	else
		X509_free(x);
	if (der != NULL) {
		*der = d;
		*derlen = dlen;
	} else
		free(d);
}

static void
outs_clear(X509 **out, uint8_t **der, size_t *derlen)
{
	if (out != NULL)
		*out = NULL;
	if (der != NULL)
		*der = NULL;
	if (derlen != NULL)
		*derlen = 0;
}

enum dv_rc
pki_cert_build(X509 *issuer, const struct pki_profile *p,
    const uint8_t *spki, size_t spkilen, X509 **out)
{
	ASN1_OCTET_STRING *ski = NULL, *akid = NULL;
	GENERAL_NAMES *gens = NULL;
	X509_NAME *subj = NULL;
	X509 *x = NULL;
	bool san;
	enum dv_rc rc;

	*out = NULL;
	if (!pki_ready())
		return DV_ERR_INTERNAL;
	san = (p->sans != NULL && p->sans->n > 0) || p->perm_id != NULL;
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3)) {
		rc = ssl_fail("X509_new");
		goto out;
	}
	if ((rc = set_serial(x)) != DV_OK ||
	    (rc = set_validity(x, p->not_before, p->not_after)) != DV_OK ||
	    (rc = set_spki(x, spki, spkilen, &ski)) != DV_OK)
		goto out;

	if (p->subject != NULL) {
		if (!X509_set_subject_name(x, p->subject)) {
			rc = ssl_fail("subject");
			goto out;
		}
	} else if (p->cn != NULL) {
		if ((subj = X509_NAME_new()) == NULL ||
		    !X509_NAME_add_entry_by_NID(subj, NID_commonName,
		    MBSTRING_UTF8, (const unsigned char *)p->cn, -1, -1, 0) ||
		    !X509_set_subject_name(x, subj)) {
			/* e.g. longer than ub-common-name (64) */
			pki_log_ssl(LOG_ERR, EV, "RFC 5280 §4.1.2.6: bad "
			    "commonName");
			rc = DV_ERR_MALFORMED;
			goto out;
		}
	}
	if (X509_NAME_entry_count(X509_get_subject_name(x)) == 0 && !san &&
	    !extra_has_san(p)) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "RFC 5280 §4.1.2.6: "
		    "empty subject needs a subjectAltName");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (!X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : X509_get_subject_name(x))) {
		rc = ssl_fail("issuer");
		goto out;
	}
	if (issuer != NULL && (akid = pki_issuer_key_id(issuer)) == NULL) {
		rc = DV_ERR_CRYPTO;
		goto out;
	}

	if ((rc = add_basic_constraints(x, p->is_ca, p->path_len)) != DV_OK)
		goto out;
	if (p->ku != 0 && (rc = add_key_usage(x, p->ku)) != DV_OK)
		goto out;
	if (p->eku != 0 && (rc = add_ext_key_usage(x, p->eku)) != DV_OK)
		goto out;
	if ((rc = add_ext(x, NID_subject_key_identifier, ski, 0, "SKI")) !=
	    DV_OK ||
	    (rc = add_aki(x, akid != NULL ? akid : ski)) != DV_OK)
		goto out;
	if (san) {
		if (p->sans != NULL)
			rc = pki_sans_to_gens(p->sans, &gens);
		else if ((gens = GENERAL_NAMES_new()) == NULL)
			rc = ssl_fail("subjectAltName");
		if (rc != DV_OK)
			goto out;
		if (p->perm_id != NULL && (rc = add_perm_id(gens, p->perm_id))
		    != DV_OK)
			goto out;
		/* RFC 5280 §4.2.1.6: critical if the subject is empty */
		if ((rc = add_ext(x, NID_subject_alt_name, gens,
		    X509_NAME_entry_count(X509_get_subject_name(x)) == 0,
		    "subjectAltName")) != DV_OK)
			goto out;
	}
	if (p->crl_url != NULL && (rc = add_crl_dp(x, p->crl_url)) != DV_OK)
		goto out;
	if ((p->ocsp_url != NULL || p->issuer_url != NULL) &&
	    (rc = add_aia(x, p->ocsp_url, p->issuer_url)) != DV_OK)
		goto out;
	if (p->prov_type != 0 && (rc = add_provisioner(x, p->prov_type,
	    p->prov_name, p->prov_cred)) != DV_OK)
		goto out;
	if ((rc = add_extra(x, p->ext, p->next)) != DV_OK)
		goto out;
	*out = x;
	x = NULL;
out:
	GENERAL_NAMES_free(gens);
	X509_NAME_free(subj);
	ASN1_OCTET_STRING_free(akid);
	ASN1_OCTET_STRING_free(ski);
	X509_free(x);
	return rc;
}

enum dv_rc
pki_cert_tbs(X509 *x, enum pki_sig_alg alg, uint8_t **tbs, size_t *len)
{
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	unsigned char *t = NULL;
	int n;
	enum dv_rc rc;

	*tbs = NULL;
	*len = 0;
	/* both AlgorithmIdentifiers (RFC 5280 §4.1.1.2: they must match);
	 * OpenSSL 3 has no setter: the getters' const is cast away, as
	 * X509_sign does internally */
	X509_get0_signature(&csig, &calg, x);
	if ((rc = pki_sig_algor_set((X509_ALGOR *)X509_get0_tbs_sigalg(x),
	    alg)) != DV_OK ||
	    (rc = pki_sig_algor_set((X509_ALGOR *)calg, alg)) != DV_OK)
		return rc;
	if ((n = i2d_re_X509_tbs(x, &t)) <= 0)
		return ssl_fail("i2d_re_X509_tbs");
	*tbs = pki_take_buf(t, (size_t)n);
	*len = (size_t)n;
	return DV_OK;
}

enum dv_rc
pki_cert_set_signature(X509 *x, const uint8_t *sig, size_t siglen)
{
	const ASN1_BIT_STRING *csig;
	const X509_ALGOR *calg;
	ASN1_BIT_STRING *bs;

	/* the getter's const is cast away, as X509_sign does internally */
	X509_get0_signature(&csig, &calg, x);
	bs = (ASN1_BIT_STRING *)csig;
	if (!pki_bits_set(bs, sig, siglen))
		return ssl_fail("signature");
	return DV_OK;
}

enum dv_rc
pki_cert_issue(X509 *issuer, const struct pki_signer *signer,
    const struct pki_profile *p, const uint8_t *spki, size_t spkilen,
    X509 **out, uint8_t **der, size_t *derlen)
{
	X509 *x = NULL;
	uint8_t *d = NULL;
	size_t dlen = 0;
	enum dv_rc rc;

	outs_clear(out, der, derlen);
	if ((rc = pki_cert_build(issuer, p, spki, spkilen, &x)) != DV_OK)
		return rc;
	if ((rc = cert_sign(x, signer, &d, &dlen)) != DV_OK) {
		X509_free(x);
		return rc;
	}
	cert_out(x, d, dlen, out, der, derlen);
	return DV_OK;
}

enum dv_rc
pki_cert_renew(X509 *issuer, const struct pki_signer *signer, X509 *old,
    time_t not_before, time_t not_after, const uint8_t *spki, size_t spkilen,
    X509 **out, uint8_t **der, size_t *derlen)
{
	const unsigned char *kbits;
	ASN1_OCTET_STRING *ski = NULL, *akid = NULL;
	const ASN1_OCTET_STRING *old_ski;
	X509_ALGOR *kalg;
	X509_EXTENSION *e;
	X509 *x = NULL;
	uint8_t *d = NULL;
	size_t dlen = 0;
	bool rekey = spki != NULL, aki_done = false;
	int i, nid, kbitslen;
	enum dv_rc rc;

	outs_clear(out, der, derlen);
	if (!pki_ready())
		return DV_ERR_INTERNAL;
	if ((x = X509_new()) == NULL || !X509_set_version(x, X509_VERSION_3) ||
	    !X509_set_subject_name(x, X509_get_subject_name(old))) {
		rc = ssl_fail("X509_new");
		goto out;
	}
	if ((rc = set_serial(x)) != DV_OK ||
	    (rc = set_validity(x, not_before, not_after)) != DV_OK)
		goto out;
	if (rekey)
		rc = set_spki(x, spki, spkilen, &ski);
	else if (!X509_PUBKEY_get0_param(NULL, &kbits, &kbitslen, &kalg,
	    X509_get_X509_PUBKEY(old)) || kbitslen <= 0)
		rc = ssl_fail("X509_PUBKEY_get0_param");
	else
		rc = set_spki_raw(x, kalg, kbits, (size_t)kbitslen, &ski);
	if (rc != DV_OK)
		goto out;
	if (!X509_set_issuer_name(x, issuer != NULL ?
	    X509_get_subject_name(issuer) : X509_get_subject_name(old))) {
		rc = ssl_fail("issuer");
		goto out;
	}
	if (issuer != NULL)
		akid = pki_issuer_key_id(issuer);
	else if (!rekey && (old_ski = X509_get0_subject_key_id(old)) != NULL)
		akid = ASN1_OCTET_STRING_dup(old_ski);	/* self-signed */
	else
		akid = ASN1_OCTET_STRING_dup(ski);
	/* see pki_issuer_key_id about errors queued by extension caching */
	ERR_clear_error();
	if (akid == NULL) {
		rc = DV_ERR_CRYPTO;
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "no AKI for renewal");
		goto out;
	}

	/* Everything but the AKI is copied (spec/provisioners.md §1.5), in
	 * the same order; a rekey also gets the new key's SKI. */
	for (i = 0; i < X509_get_ext_count(old); i++) {
		e = X509_get_ext(old, i);
		nid = OBJ_obj2nid(X509_EXTENSION_get_object(e));
		if (nid == NID_authority_key_identifier) {
			rc = add_aki(x, akid);
			aki_done = true;
		} else if (nid == NID_subject_key_identifier && rekey)
			rc = add_ext(x, nid, ski, 0, "SKI");
		else if (!X509_add_ext(x, e, -1))
			rc = ssl_fail("X509_add_ext");
		if (rc != DV_OK)
			goto out;
	}
	if (!aki_done && (rc = add_aki(x, akid)) != DV_OK)
		goto out;

	if ((rc = cert_sign(x, signer, &d, &dlen)) != DV_OK)
		goto out;
	cert_out(x, d, dlen, out, der, derlen);
	x = NULL;
out:
	ASN1_OCTET_STRING_free(akid);
	ASN1_OCTET_STRING_free(ski);
	X509_free(x);
	return rc;
}
