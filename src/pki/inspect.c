/*
 * inspect.c - a JSON description of a certificate, CSR or CRL for people
 * (`devid inspect`).  Display only: nothing here decides trust, and the
 * description is never parsed back.
 */
#include <arpa/inet.h>

#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <openssl/asn1.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "pki.h"

/* step-ca's provisioner extension (spec/provisioners.md §1.10). */
#define OID_PROVISIONER	"1.3.6.1.4.1.37476.9000.64.1"

/* Provisioner type integers to names (spec §1.10). */
static const char *const prov_type_names[] = {
	[1] = "JWK", [2] = "OIDC", [3] = "GCP", [4] = "AWS", [5] = "Azure",
	[6] = "ACME", [7] = "X5C", [8] = "K8sSA", [9] = "SSHPOP",
	[10] = "SCEP", [11] = "Nebula",
};

/* RFC 5280 §4.2.1.3 KeyUsage named bits. */
static const char *const ku_names[] = {
	[0] = "digitalSignature", [1] = "contentCommitment",
	[2] = "keyEncipherment", [3] = "dataEncipherment",
	[4] = "keyAgreement", [5] = "keyCertSign", [6] = "cRLSign",
	[7] = "encipherOnly", [8] = "decipherOnly",
};

/* RFC 5280 §4.2.1.12 key purposes by NID. */
static const struct {
	int		 nid;
	const char	*name;
} eku_names[] = {
	{ NID_server_auth, "serverAuth" },
	{ NID_client_auth, "clientAuth" },
	{ NID_code_sign, "codeSigning" },
	{ NID_email_protect, "emailProtection" },
	{ NID_time_stamp, "timeStamping" },
	{ NID_OCSP_sign, "OCSPSigning" },
};

/* RFC 5280 §5.3.1 CRLReason. */
static const char *const reason_names[] = {
	[0] = "unspecified", [1] = "keyCompromise", [2] = "cACompromise",
	[3] = "affiliationChanged", [4] = "superseded",
	[5] = "cessationOfOperation", [6] = "certificateHold",
	[8] = "removeFromCRL", [9] = "privilegeWithdrawn",
	[10] = "aACompromise",
};

/* A JSON string of untrusted bytes: the bytes if they are UTF-8, else a
 * copy with every non-ASCII byte replaced by '?'. */
static json_t *
jstr(const void *p, size_t len)
{
	json_t *s;
	char *c;
	size_t i;

	if ((s = json_stringn(p, len)) != NULL)
		return s;
	c = xmemdup(p, len);
	for (i = 0; i < len; i++)
		if ((unsigned char)c[i] >= 0x80)
			c[i] = '?';
	s = json_stringn(c, len);
	free(c);
	return s != NULL ? s : json_string("?");
}

static json_t *
jtime(const ASN1_TIME *t)
{
	struct tm tm;
	char buf[32];

	if (t == NULL || !ASN1_TIME_to_tm(t, &tm))
		return json_null();
	time_format_rfc3339(timegm(&tm), buf, sizeof(buf));
	return json_string(buf);
}

static json_t *
joid(const ASN1_OBJECT *o)
{
	char buf[128];

	if (OBJ_obj2txt(buf, sizeof(buf), o, 1) <= 0)
		return json_string("?");
	return json_string(buf);
}

static json_t *
jname(const X509_NAME *n)
{
	BIO *b;
	char *p;
	long len;
	json_t *s;

	if (n == NULL || (b = BIO_new(BIO_s_mem())) == NULL)
		return json_null();
	if (X509_NAME_print_ex(b, n, 0, XN_FLAG_RFC2253 & ~ASN1_STRFLGS_ESC_MSB)
	    < 0) {
		BIO_free(b);
		return json_null();
	}
	len = BIO_get_mem_data(b, &p);
	s = jstr(p, (size_t)len);
	BIO_free(b);
	return s;
}

/* {"dec": "...", "hex": "..."} of an INTEGER. */
static json_t *
jserial(const ASN1_INTEGER *i)
{
	BIGNUM *bn;
	char *dec = NULL, *hex = NULL;
	json_t *o;

	if ((bn = ASN1_INTEGER_to_BN(i, NULL)) == NULL)
		return json_null();
	dec = BN_bn2dec(bn);
	hex = BN_bn2hex(bn);
	o = json_pack("{s:s?,s:s?}", "dec", dec, "hex", hex);
	OPENSSL_free(dec);
	OPENSSL_free(hex);
	BN_free(bn);
	return o != NULL ? o : json_null();
}

static json_t *
jhex(const ASN1_OCTET_STRING *s)
{
	char *h;
	json_t *o;

	if (s == NULL)
		return json_null();
	h = hex_encode(ASN1_STRING_get0_data(s), (size_t)ASN1_STRING_length(s));
	o = json_string(h);
	free(h);
	return o;
}

static json_t *
jpubkey(EVP_PKEY *k)
{
	char group[64];
	size_t glen = 0;
	const char *nist;
	json_t *o;

	if (k == NULL)
		return json_null();
	o = json_pack("{s:s,s:i}", "type", EVP_PKEY_get0_type_name(k) ?
	    EVP_PKEY_get0_type_name(k) : "?", "bits", EVP_PKEY_get_bits(k));
	if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), &glen)) {
		nist = EC_curve_nid2nist(OBJ_sn2nid(group));
		json_object_set_new(o, "curve",
		    json_string(nist != NULL ? nist : group));
	}
	return o;
}

/* One GeneralName as {"type","value"}. */
static json_t *
jgn(const GENERAL_NAME *g)
{
	const ASN1_STRING *s = NULL;
	const unsigned char *ip;
	const char *type = "other";
	char buf[64];
	json_t *v = NULL;
	int iplen;

	switch (g->type) {
	case GEN_DNS:
		type = "dns";
		s = g->d.dNSName;
		break;
	case GEN_EMAIL:
		type = "email";
		s = g->d.rfc822Name;
		break;
	case GEN_URI:
		type = "uri";
		s = g->d.uniformResourceIdentifier;
		break;
	case GEN_IPADD:
		type = "ip";
		ip = ASN1_STRING_get0_data(g->d.iPAddress);
		iplen = ASN1_STRING_length(g->d.iPAddress);
		if ((iplen == 4 &&
		    inet_ntop(AF_INET, ip, buf, sizeof(buf)) != NULL) ||
		    (iplen == 16 &&
		    inet_ntop(AF_INET6, ip, buf, sizeof(buf)) != NULL))
			v = json_string(buf);
		else
			v = jhex(g->d.iPAddress);
		break;
	case GEN_DIRNAME:
		type = "dirName";
		v = jname(g->d.directoryName);
		break;
	case GEN_OTHERNAME:
		type = "otherName";
		v = joid(g->d.otherName->type_id);
		break;
	case GEN_RID:
		type = "registeredID";
		v = joid(g->d.registeredID);
		break;
	default:
		v = json_string("?");
		break;
	}
	if (s != NULL)
		v = jstr(ASN1_STRING_get0_data(s),
		    (size_t)ASN1_STRING_length(s));
	return json_pack("{s:s,s:o}", "type", type, "value", v);
}

static json_t *
jgns(const GENERAL_NAMES *gns)
{
	json_t *a = json_array();
	int i;

	for (i = 0; i < sk_GENERAL_NAME_num(gns); i++)
		json_array_append_new(a, jgn(sk_GENERAL_NAME_value(gns, i)));
	return a;
}

/* The provisioner extension, decoded generically (SEQUENCE of INTEGER,
 * OCTET STRING, OCTET STRING, ...). */
static json_t *
jprovisioner(const ASN1_OCTET_STRING *val)
{
	STACK_OF(ASN1_TYPE) *seq;
	const unsigned char *p = ASN1_STRING_get0_data(val);
	const ASN1_TYPE *t;
	long type;
	json_t *o = NULL;

	if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p,
	    ASN1_STRING_length(val))) == NULL) {
		ERR_clear_error();
		return json_pack("{s:s}", "error", "malformed");
	}
	if (sk_ASN1_TYPE_num(seq) < 2 ||
	    (t = sk_ASN1_TYPE_value(seq, 0))->type != V_ASN1_INTEGER ||
	    sk_ASN1_TYPE_value(seq, 1)->type != V_ASN1_OCTET_STRING) {
		o = json_pack("{s:s}", "error", "malformed");
		goto out;
	}
	type = ASN1_INTEGER_get(t->value.integer);
	o = json_pack("{s:I,s:s,s:o}", "type", (json_int_t)type,
	    "typeName", type > 0 && type < (long)(sizeof(prov_type_names) /
	    sizeof(prov_type_names[0])) && prov_type_names[type] != NULL ?
	    prov_type_names[type] : "?",
	    "name", jstr(ASN1_STRING_get0_data(sk_ASN1_TYPE_value(seq,
	    1)->value.octet_string), (size_t)ASN1_STRING_length(
	    sk_ASN1_TYPE_value(seq, 1)->value.octet_string)));
	if (sk_ASN1_TYPE_num(seq) >= 3 &&
	    (t = sk_ASN1_TYPE_value(seq, 2))->type == V_ASN1_OCTET_STRING)
		json_object_set_new(o, "credentialID",
		    jstr(ASN1_STRING_get0_data(t->value.octet_string),
		    (size_t)ASN1_STRING_length(t->value.octet_string)));
out:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return o;
}

/* True if o is the dotted OID text (compared as text: pki_init may have
 * registered it, so its NID is not fixed). */
static bool
oid_is(const ASN1_OBJECT *o, const char *text)
{
	char buf[128];

	return OBJ_obj2txt(buf, sizeof(buf), o, 1) > 0 &&
	    strcmp(buf, text) == 0;
}

/* Extensions of a certificate or CSR into o. */
static void
jexts(json_t *o, const STACK_OF(X509_EXTENSION) *exts)
{
	EXTENDED_KEY_USAGE *eku;
	BASIC_CONSTRAINTS *bc;
	GENERAL_NAMES *gns;
	CRL_DIST_POINTS *cdp;
	AUTHORITY_INFO_ACCESS *aia;
	AUTHORITY_KEYID *akid;
	ASN1_OCTET_STRING *skid;
	ASN1_BIT_STRING *ku;
	const X509_EXTENSION *e;
	json_t *a, *list = json_array();
	int i, j, crit;

	for (i = 0; i < sk_X509_EXTENSION_num(exts); i++) {
		e = sk_X509_EXTENSION_value(exts, i);
		json_array_append_new(list, json_pack("{s:o,s:b}", "oid",
		    joid(X509_EXTENSION_get_object((X509_EXTENSION *)e)),
		    "critical", X509_EXTENSION_get_critical(e)));
		if (oid_is(X509_EXTENSION_get_object((X509_EXTENSION *)e),
		    OID_PROVISIONER))
			json_object_set_new(o, "provisioner",
			    jprovisioner(X509_EXTENSION_get_data(
			    (X509_EXTENSION *)e)));
	}
	json_object_set_new(o, "extensions", list);

	if ((gns = X509V3_get_d2i(exts, NID_subject_alt_name, &crit, NULL)) !=
	    NULL) {
		json_object_set_new(o, "sans", jgns(gns));
		GENERAL_NAMES_free(gns);
	}
	if ((ku = X509V3_get_d2i(exts, NID_key_usage, &crit, NULL)) != NULL) {
		a = json_array();
		for (j = 0; j < (int)(sizeof(ku_names) / sizeof(ku_names[0]));
		    j++)
			if (ASN1_BIT_STRING_get_bit(ku, j))
				json_array_append_new(a,
				    json_string(ku_names[j]));
		json_object_set_new(o, "keyUsage", a);
		ASN1_BIT_STRING_free(ku);
	}
	if ((eku = X509V3_get_d2i(exts, NID_ext_key_usage, &crit, NULL)) !=
	    NULL) {
		a = json_array();
		for (i = 0; i < sk_ASN1_OBJECT_num(eku); i++) {
			ASN1_OBJECT *ob = sk_ASN1_OBJECT_value(eku, i);
			json_t *n = NULL;

			for (j = 0; j < (int)(sizeof(eku_names) /
			    sizeof(eku_names[0])); j++)
				if (OBJ_obj2nid(ob) == eku_names[j].nid)
					n = json_string(eku_names[j].name);
			json_array_append_new(a, n != NULL ? n : joid(ob));
		}
		json_object_set_new(o, "extKeyUsage", a);
		EXTENDED_KEY_USAGE_free(eku);
	}
	if ((bc = X509V3_get_d2i(exts, NID_basic_constraints, &crit, NULL)) !=
	    NULL) {
		json_t *b = json_pack("{s:b}", "ca", bc->ca ? 1 : 0);

		if (bc->pathlen != NULL)
			json_object_set_new(b, "pathLen",
			    json_integer(ASN1_INTEGER_get(bc->pathlen)));
		json_object_set_new(o, "basicConstraints", b);
		BASIC_CONSTRAINTS_free(bc);
	}
	if ((skid = X509V3_get_d2i(exts, NID_subject_key_identifier, &crit,
	    NULL)) != NULL) {
		json_object_set_new(o, "subjectKeyId", jhex(skid));
		ASN1_OCTET_STRING_free(skid);
	}
	if ((akid = X509V3_get_d2i(exts, NID_authority_key_identifier, &crit,
	    NULL)) != NULL) {
		if (akid->keyid != NULL)
			json_object_set_new(o, "authorityKeyId",
			    jhex(akid->keyid));
		AUTHORITY_KEYID_free(akid);
	}
	if ((cdp = X509V3_get_d2i(exts, NID_crl_distribution_points, &crit,
	    NULL)) != NULL) {
		a = json_array();
		for (i = 0; i < sk_DIST_POINT_num(cdp); i++) {
			DIST_POINT *dp = sk_DIST_POINT_value(cdp, i);
			json_t *names;

			if (dp->distpoint == NULL || dp->distpoint->type != 0)
				continue;
			names = jgns(dp->distpoint->name.fullname);
			json_array_extend(a, names);
			json_decref(names);
		}
		json_object_set_new(o, "crlDistributionPoints", a);
		CRL_DIST_POINTS_free(cdp);
	}
	if ((aia = X509V3_get_d2i(exts, NID_info_access, &crit, NULL)) !=
	    NULL) {
		json_t *ocsp = json_array(), *iss = json_array();

		for (i = 0; i < sk_ACCESS_DESCRIPTION_num(aia); i++) {
			ACCESS_DESCRIPTION *ad =
			    sk_ACCESS_DESCRIPTION_value(aia, i);
			int nid = OBJ_obj2nid(ad->method);

			if (nid == NID_ad_OCSP)
				json_array_append_new(ocsp, jgn(ad->location));
			else if (nid == NID_ad_ca_issuers)
				json_array_append_new(iss, jgn(ad->location));
		}
		json_object_set_new(o, "ocsp", ocsp);
		json_object_set_new(o, "caIssuers", iss);
		AUTHORITY_INFO_ACCESS_free(aia);
	}
	ERR_clear_error();
}

static json_t *
describe_cert(X509 *x)
{
	json_t *o;
	char *fp;

	/* Caches the extensions (rule 17); the answer itself is not used. */
	(void)X509_check_purpose(x, -1, 0);
	fp = pki_cert_fingerprint(x);
	o = json_pack("{s:s,s:i,s:o,s:s,s:o,s:o,s:o,s:o,s:o,s:s?}",
	    "type", "certificate",
	    "version", (int)X509_get_version(x) + 1,
	    "serial", jserial(X509_get0_serialNumber(x)),
	    "signatureAlgorithm",
	    OBJ_nid2ln(X509_get_signature_nid(x)) ?
	    OBJ_nid2ln(X509_get_signature_nid(x)) : "?",
	    "subject", jname(X509_get_subject_name(x)),
	    "issuer", jname(X509_get_issuer_name(x)),
	    "notBefore", jtime(X509_get0_notBefore(x)),
	    "notAfter", jtime(X509_get0_notAfter(x)),
	    "publicKey", jpubkey(X509_get0_pubkey(x)),
	    "sha256", fp);
	free(fp);
	if (o != NULL)
		jexts(o, X509_get0_extensions(x));
	return o;
}

static json_t *
describe_csr(X509_REQ *r)
{
	STACK_OF(X509_EXTENSION) *exts;
	EVP_PKEY *k = X509_REQ_get0_pubkey(r);
	json_t *o;

	o = json_pack("{s:s,s:o,s:s,s:o,s:b}",
	    "type", "csr",
	    "subject", jname(X509_REQ_get_subject_name(r)),
	    "signatureAlgorithm",
	    OBJ_nid2ln(X509_REQ_get_signature_nid(r)) ?
	    OBJ_nid2ln(X509_REQ_get_signature_nid(r)) : "?",
	    "publicKey", jpubkey(k),
	    "signatureValid", k != NULL && X509_REQ_verify(r, k) == 1);
	if (o != NULL && (exts = X509_REQ_get_extensions(r)) != NULL) {
		jexts(o, exts);
		sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	}
	ERR_clear_error();
	return o;
}

static json_t *
describe_crl(X509_CRL *c)
{
	STACK_OF(X509_REVOKED) *revs = X509_CRL_get_REVOKED(c);
	AUTHORITY_KEYID *akid;
	ASN1_INTEGER *num;
	ASN1_ENUMERATED *reason;
	json_t *o, *a = json_array(), *r;
	int i, crit;
	long code;

	o = json_pack("{s:s,s:i,s:o,s:s,s:o,s:o}",
	    "type", "crl",
	    "version", (int)X509_CRL_get_version(c) + 1,
	    "issuer", jname(X509_CRL_get_issuer(c)),
	    "signatureAlgorithm",
	    OBJ_nid2ln(X509_CRL_get_signature_nid(c)) ?
	    OBJ_nid2ln(X509_CRL_get_signature_nid(c)) : "?",
	    "thisUpdate", jtime(X509_CRL_get0_lastUpdate(c)),
	    "nextUpdate", jtime(X509_CRL_get0_nextUpdate(c)));
	if (o == NULL) {
		json_decref(a);
		return NULL;
	}
	if ((num = X509_CRL_get_ext_d2i(c, NID_crl_number, &crit, NULL)) !=
	    NULL) {
		json_object_set_new(o, "crlNumber", jserial(num));
		ASN1_INTEGER_free(num);
	}
	if ((akid = X509_CRL_get_ext_d2i(c, NID_authority_key_identifier,
	    &crit, NULL)) != NULL) {
		if (akid->keyid != NULL)
			json_object_set_new(o, "authorityKeyId",
			    jhex(akid->keyid));
		AUTHORITY_KEYID_free(akid);
	}
	for (i = 0; i < sk_X509_REVOKED_num(revs); i++) {
		X509_REVOKED *rv = sk_X509_REVOKED_value(revs, i);

		r = json_pack("{s:o,s:o}",
		    "serial", jserial(X509_REVOKED_get0_serialNumber(rv)),
		    "revocationDate",
		    jtime(X509_REVOKED_get0_revocationDate(rv)));
		if ((reason = X509_REVOKED_get_ext_d2i(rv, NID_crl_reason,
		    &crit, NULL)) != NULL) {
			code = ASN1_ENUMERATED_get(reason);
			json_object_set_new(r, "reasonCode",
			    json_integer(code));
			if (code >= 0 && code < (long)(sizeof(reason_names) /
			    sizeof(reason_names[0])) &&
			    reason_names[code] != NULL)
				json_object_set_new(r, "reason",
				    json_string(reason_names[code]));
			ASN1_ENUMERATED_free(reason);
		}
		json_array_append_new(a, r);
	}
	json_object_set_new(o, "revoked", a);
	ERR_clear_error();
	return o;
}

/* Decodes DER as whichever of the three types consumes it exactly. */
static json_t *
describe_der(const uint8_t *der, size_t len, const char *pem_name)
{
	const unsigned char *p;
	X509 *x;
	X509_REQ *r;
	X509_CRL *c;
	json_t *o = NULL;

	if (len > LONG_MAX)
		return NULL;
	if (pem_name == NULL || strcmp(pem_name, PEM_STRING_X509) == 0) {
		p = der;
		if ((x = d2i_X509(NULL, &p, (long)len)) != NULL) {
			if (p == der + len)
				o = describe_cert(x);
			X509_free(x);
			if (o != NULL)
				return o;
		}
	}
	if (pem_name == NULL || strcmp(pem_name, PEM_STRING_X509_REQ) == 0 ||
	    strcmp(pem_name, PEM_STRING_X509_REQ_OLD) == 0) {
		p = der;
		if ((r = d2i_X509_REQ(NULL, &p, (long)len)) != NULL) {
			if (p == der + len)
				o = describe_csr(r);
			X509_REQ_free(r);
			if (o != NULL)
				return o;
		}
	}
	if (pem_name == NULL || strcmp(pem_name, PEM_STRING_X509_CRL) == 0) {
		p = der;
		if ((c = d2i_X509_CRL(NULL, &p, (long)len)) != NULL) {
			if (p == der + len)
				o = describe_crl(c);
			X509_CRL_free(c);
		}
	}
	return o;
}

enum dv_rc
pki_inspect(const uint8_t *data, size_t len, json_t **out)
{
	BIO *b = NULL;
	char *name = NULL, *hdr = NULL;
	unsigned char *der = NULL;
	long derlen = 0;
	json_t *list = NULL, *o;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*out = NULL;
	if (len > INT_MAX)
		return DV_ERR_TOO_LARGE;
	if (memmem(data, len, "-----BEGIN ", 11) == NULL) {
		if ((o = describe_der(data, len, NULL)) == NULL)
			goto out;
		*out = o;
		rc = DV_OK;
		goto out;
	}
	/* PEM: every block, in order. */
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	list = json_array();
	while (PEM_read_bio(b, &name, &hdr, &der, &derlen) == 1) {
		o = describe_der(der, (size_t)derlen, name);
		OPENSSL_free(name);
		OPENSSL_free(hdr);
		OPENSSL_free(der);
		name = hdr = NULL;
		der = NULL;
		if (o == NULL)
			goto out;
		json_array_append_new(list, o);
	}
	if (json_array_size(list) == 0)
		goto out;
	*out = json_array_size(list) == 1 ?
	    json_incref(json_array_get(list, 0)) : json_incref(list);
	rc = DV_OK;
out:
	/* The tries of the other types leave errors behind. */
	ERR_clear_error();
	json_decref(list);
	BIO_free(b);
	return rc;
}
