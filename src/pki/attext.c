/*
 * attext.c - the X.509 side of device-attest-01 (issue 5;
 * spec/attestation.md §8-10, §13): x5c chains, the AK certificate profile,
 * and the Apple MDA and YubiKey PIV attestation extensions.  src/attest
 * calls these and never OpenSSL itself (STYLE rule 16).
 *
 * Failures are logged once here at LOG_INFO, naming the clause; the
 * caller maps them to its own code without logging again (rule 9).
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/x509v3.h>

#include "asn1.h"
#include "pki_int.h"

#define EV		"pki.attext"
/* Bytes of an Apple freshness nonce: SHA-256 is 32; 64 allows SHA-512. */
#define NONCE_MAX	64

enum dv_rc
pki_att_chain_verify(const struct pki_trust *t, const struct pki_der *certs,
    size_t n, time_t at, X509 **leaf)
{
	STACK_OF(X509) *chain = NULL;
	X509 *l = NULL, *x;
	enum dv_rc rc;
	size_t i;

	*leaf = NULL;
	if (n == 0 || n > DV_MAX_CHAIN) {
		log_msg(LOG_INFO, EV, "{s:s,s:I}", "detail", n == 0 ?
		    "x5c: no certificate" : "x5c: longer than DV_MAX_CHAIN",
		    "count", (json_int_t)n);
		return n == 0 ? DV_ERR_MALFORMED : DV_ERR_TOO_LARGE;
	}
	if ((rc = pki_cert_from_der(certs[0].der, certs[0].len, &l)) != DV_OK)
		goto out;
	if ((chain = sk_X509_new_null()) == NULL)
		abort();	/* rule 11 */
	for (i = 1; i < n; i++) {
		if ((rc = pki_cert_from_der(certs[i].der, certs[i].len,
		    &x)) != DV_OK)
			goto out;
		if (!sk_X509_push(chain, x))
			abort();
	}
	/* EKU "any" and no keyUsage demand, as step-ca (spec §8 step 4) */
	if ((rc = pki_trust_verify(t, l, chain, at, 0, false)) != DV_OK)
		goto out;
	*leaf = l;
	l = NULL;
out:
	sk_X509_pop_free(chain, X509_free);
	X509_free(l);
	return rc;
}

void
pki_akcert_info_clear(struct pki_akcert_info *i)
{
	size_t k;

	if (i == NULL)
		return;
	free(i->ek_urn);
	free(i->manufacturer);
	free(i->model);
	free(i->version);
	for (k = 0; k < i->nperm_ids; k++)
		free(i->perm_ids[k]);
	free(i->perm_ids);
	memset(i, 0, sizeof(*i));
}

/* A printable copy (new) of an ASN.1 string of at most max UTF-8 bytes,
 * or NULL, logged with what. */
static char *
att_string(const ASN1_STRING *v, size_t max, const char *what)
{
	unsigned char *u = NULL;
	char *s;
	int n;

	if ((n = ASN1_STRING_to_UTF8(&u, v)) < 0) {
		pki_log_ssl(LOG_INFO, EV, "%s: not a string", what);
		return NULL;
	}
	/* embedded NULs and control bytes are refused, not truncated */
	if (n == 0 || (size_t)n > max || !str_printable((char *)u,
	    (size_t)n)) {
		OPENSSL_free(u);
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "empty, too long or not printable", "field", what);
		return NULL;
	}
	s = xstrndup((char *)u, (size_t)n);
	OPENSSL_free(u);
	return s;
}

/* The first EKU OID must be tcg-kp-AIKCertificate (spec §8 step 5,
 * §15.10: step-ca reads ExtKeyUsage[0]). */
static bool
akcert_eku_ok(X509 *x)
{
	EXTENDED_KEY_USAGE *eku;
	ASN1_OBJECT *want;
	int crit = -1;
	bool ok = false;

	if ((eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit,
	    NULL)) == NULL) {
		ERR_clear_error();
		return false;
	}
	if ((want = OBJ_txt2obj(PKI_OID_TCG_KP_AIK, 1)) == NULL)
		abort();
	ok = sk_ASN1_OBJECT_num(eku) > 0 &&
	    OBJ_cmp(sk_ASN1_OBJECT_value(eku, 0), want) == 0;
	ASN1_OBJECT_free(want);
	EXTENDED_KEY_USAGE_free(eku);
	return ok;
}

/*
 * RFC 4043 §2: PermanentIdentifier ::= SEQUENCE { identifierValue
 * UTF8String OPTIONAL, assigner OBJECT IDENTIFIER OPTIONAL }.  Read with
 * OpenSSL's generic SEQUENCE OF ANY, so no template is needed: the value
 * (new) or NULL, logged.  An absent identifierValue is refused: there is
 * nothing to compare an ACME identifier with.
 */
static char *
perm_id_value(const ASN1_TYPE *v)
{
	const unsigned char *p;
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const ASN1_TYPE *e;
	char *s = NULL;
	long len;

	if (v == NULL || v->type != V_ASN1_SEQUENCE)
		goto bad;
	p = v->value.sequence->data;
	len = v->value.sequence->length;
	if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)) == NULL ||
	    p != v->value.sequence->data + len)
		goto bad;
	if (sk_ASN1_TYPE_num(seq) < 1 || sk_ASN1_TYPE_num(seq) > 2)
		goto bad;
	e = sk_ASN1_TYPE_value(seq, 0);
	if (e->type != V_ASN1_UTF8STRING)
		goto bad;
	if (sk_ASN1_TYPE_num(seq) == 2 &&
	    sk_ASN1_TYPE_value(seq, 1)->type != V_ASN1_OBJECT)
		goto bad;
	s = att_string(e->value.utf8string, DV_ATT_MAX_DEVICE_ID,
	    "PermanentIdentifier");
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return s;
bad:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
	log_msg(LOG_INFO, EV, "{s:s}", "detail", "RFC 4043 §2: "
	    "PermanentIdentifier is not SEQUENCE { UTF8String [, OID] }");
	return NULL;
}

/* Reads the TPM attributes of a directoryName into slots (spec §13.2). */
static enum dv_rc
akcert_dirname(const X509_NAME *dn, ASN1_OBJECT *const oid[3],
    char **slot[3])
{
	static const char *what[3] = { "tpmManufacturer", "tpmModel",
	    "tpmVersion" };
	const X509_NAME_ENTRY *e;
	int j, k;

	for (j = 0; j < X509_NAME_entry_count(dn); j++) {
		e = X509_NAME_get_entry(dn, j);
		for (k = 0; k < 3; k++)
			if (OBJ_cmp(X509_NAME_ENTRY_get_object(e), oid[k]) == 0)
				break;
		if (k == 3)
			continue;
		if (*slot[k] != NULL) {
			log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
			    "TCG EK profile §3.2.9: TPM attribute repeated",
			    "field", what[k]);
			return DV_ERR_MALFORMED;
		}
		if ((*slot[k] = att_string(X509_NAME_ENTRY_get_data(e),
		    128, what[k])) == NULL)
			return DV_ERR_MALFORMED;
	}
	return DV_OK;
}

/* The SAN of the AK certificate: TPM attributes, EK URN, permanent IDs. */
static enum dv_rc
akcert_san(X509 *x, struct pki_akcert_info *o)
{
	ASN1_OBJECT *oid[3] = { NULL, NULL, NULL }, *pid = NULL;
	char **slot[3] = { &o->manufacturer, &o->model, &o->version };
	const char *txt[3] = { PKI_OID_TPM_MANUFACTURER, PKI_OID_TPM_MODEL,
	    PKI_OID_TPM_VERSION };
	GENERAL_NAMES *gens;
	const GENERAL_NAME *g;
	const ASN1_IA5STRING *uri;
	enum dv_rc rc = DV_ERR_MALFORMED;
	char *s;
	int crit = -1, i, k;

	if ((gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit,
	    NULL)) == NULL) {
		pki_log_ssl(LOG_INFO, EV, "WebAuthn §8.3.1: AK certificate "
		    "SAN absent, malformed or repeated");
		return DV_ERR_MALFORMED;
	}
	for (k = 0; k < 3; k++)
		if ((oid[k] = OBJ_txt2obj(txt[k], 1)) == NULL)
			abort();
	if ((pid = OBJ_txt2obj(PKI_OID_PERMANENT_ID, 1)) == NULL)
		abort();
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		switch (g->type) {
		case GEN_DIRNAME:
			if (akcert_dirname(g->d.dirn, oid, slot) != DV_OK)
				goto out;
			break;
		case GEN_URI:
			uri = g->d.uniformResourceIdentifier;
			if (ASN1_STRING_length(uri) <
			    (int)strlen(PKI_EK_URN_PREFIX) ||
			    memcmp(ASN1_STRING_get0_data(uri),
			    PKI_EK_URN_PREFIX, strlen(PKI_EK_URN_PREFIX)) != 0)
				break;
			if (o->ek_urn != NULL) {
				log_msg(LOG_INFO, EV, "{s:s}", "detail",
				    "spec §13.3: more than one EK URN");
				goto out;
			}
			if ((o->ek_urn = att_string(uri, DV_MAX_NAME,
			    "EK URN")) == NULL)
				goto out;
			if (!pki_ek_urn_valid(o->ek_urn)) {
				log_msg(LOG_INFO, EV, "{s:s}", "detail",
				    "spec §13.2: malformed EK URN");
				goto out;
			}
			break;
		case GEN_OTHERNAME:
			if (OBJ_cmp(g->d.otherName->type_id, pid) != 0)
				break;
			if (o->nperm_ids == DV_MAX_SANS) {
				log_msg(LOG_INFO, EV, "{s:s}", "detail", "more "
				    "than DV_MAX_SANS PermanentIdentifiers");
				goto out;
			}
			if ((s = perm_id_value(g->d.otherName->value)) == NULL)
				goto out;
			o->perm_ids = xrealloc(o->perm_ids,
			    (o->nperm_ids + 1) * sizeof(*o->perm_ids));
			o->perm_ids[o->nperm_ids++] = s;
			break;
		default:
			break;
		}
	}
	for (k = 0; k < 3; k++)
		if (*slot[k] == NULL) {
			log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
			    "spec §8 step 5: SAN directoryName lacks a TPM "
			    "attribute", "oid", txt[k]);
			goto out;
		}
	rc = DV_OK;
out:
	for (k = 0; k < 3; k++)
		ASN1_OBJECT_free(oid[k]);
	ASN1_OBJECT_free(pid);
	GENERAL_NAMES_free(gens);
	return rc;
}

enum dv_rc
pki_akcert_read(X509 *ak, struct pki_akcert_info *out)
{
	struct pki_akcert_info o;
	const char *why = NULL;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	memset(&o, 0, sizeof(o));
	if (X509_check_purpose(ak, -1, 0) != 1) {
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2: AK certificate "
		    "has a malformed extension");
		return DV_ERR_MALFORMED;
	}
	if (X509_get_version(ak) != X509_VERSION_3)
		why = "WebAuthn §8.3.1: AK certificate is not version 3";
	else if (X509_NAME_entry_count(X509_get_subject_name(ak)) != 0)
		why = "WebAuthn §8.3.1: AK certificate subject is not empty";
	else if (X509_check_ca(ak) != 0)
		why = "WebAuthn §8.3.1: AK certificate is a CA";
	else if (!akcert_eku_ok(ak))
		why = "spec §8 step 5: first EKU is not tcg-kp-AIKCertificate";
	if (why != NULL) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail", why);
		return DV_ERR_MALFORMED;
	}
	if ((rc = akcert_san(ak, &o)) != DV_OK) {
		pki_akcert_info_clear(&o);
		return rc;
	}
	*out = o;
	return DV_OK;
}

void
pki_apple_att_clear(struct pki_apple_att *a)
{
	if (a == NULL)
		return;
	free(a->nonce);
	free(a->serial);
	free(a->udid);
	memset(a, 0, sizeof(*a));
}

/*
 * The extnValue octets of the one extension oid of x: *v borrowed from x,
 * NULL when absent.  Repeated or critical is DV_ERR_MALFORMED (a critical
 * vendor extension is one this verifier would have to understand fully).
 */
static enum dv_rc
ext_octets(X509 *x, const char *oid, const ASN1_OCTET_STRING **v)
{
	ASN1_OBJECT *o;
	X509_EXTENSION *e;
	int i;

	*v = NULL;
	if ((o = OBJ_txt2obj(oid, 1)) == NULL)
		abort();
	i = X509_get_ext_by_OBJ(x, o, -1);
	if (i >= 0 && X509_get_ext_by_OBJ(x, o, i) >= 0) {
		ASN1_OBJECT_free(o);
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "RFC 5280 §4.2: extension repeated", "oid", oid);
		return DV_ERR_MALFORMED;
	}
	ASN1_OBJECT_free(o);
	if (i < 0)
		return DV_OK;
	e = X509_get_ext(x, i);
	if (X509_EXTENSION_get_critical(e)) {
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "vendor extension marked critical", "oid", oid);
		return DV_ERR_MALFORMED;
	}
	*v = X509_EXTENSION_get_data(e);
	return DV_OK;
}

/* A raw-octet Apple string (spec §9: not DER inside) into *s (new). */
static enum dv_rc
apple_string(X509 *x, const char *oid, char **s)
{
	const ASN1_OCTET_STRING *v;
	enum dv_rc rc;
	int n;

	if ((rc = ext_octets(x, oid, &v)) != DV_OK || v == NULL)
		return rc;
	n = ASN1_STRING_length(v);
	if (n <= 0 || n > DV_ATT_MAX_DEVICE_ID ||
	    !str_printable((const char *)ASN1_STRING_get0_data(v),
	    (size_t)n)) {
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail", "Apple MDA: "
		    "identifier empty, too long or not printable", "oid", oid);
		return DV_ERR_MALFORMED;
	}
	*s = xstrndup((const char *)ASN1_STRING_get0_data(v), (size_t)n);
	return DV_OK;
}

enum dv_rc
pki_apple_att_read(X509 *leaf, struct pki_apple_att *out)
{
	struct pki_apple_att a;
	const ASN1_OCTET_STRING *v;
	enum dv_rc rc;
	int n;

	memset(out, 0, sizeof(*out));
	memset(&a, 0, sizeof(a));
	if ((rc = ext_octets(leaf, PKI_OID_APPLE_NONCE, &v)) != DV_OK)
		goto out;
	if (v != NULL) {
		n = ASN1_STRING_length(v);
		if (n <= 0 || n > NONCE_MAX) {
			log_msg(LOG_INFO, EV, "{s:s}", "detail", "Apple MDA: "
			    "nonce empty or longer than 64 bytes");
			rc = DV_ERR_MALFORMED;
			goto out;
		}
		a.nonce = xmemdup(ASN1_STRING_get0_data(v), (size_t)n);
		a.noncelen = (size_t)n;
	}
	if ((rc = apple_string(leaf, PKI_OID_APPLE_SERIAL, &a.serial)) !=
	    DV_OK ||
	    (rc = apple_string(leaf, PKI_OID_APPLE_UDID, &a.udid)) != DV_OK)
		goto out;
	*out = a;
	memset(&a, 0, sizeof(a));
out:
	pki_apple_att_clear(&a);
	return rc;
}

enum dv_rc
pki_yubikey_serial(X509 *leaf, char **serial)
{
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	ASN1_INTEGER *ai = NULL;
	enum dv_rc rc;
	int64_t n;
	long len;

	*serial = NULL;
	if ((rc = ext_octets(leaf, PKI_OID_YUBIKEY_SERIAL, &v)) != DV_OK)
		return rc;
	if (v == NULL)
		return DV_ERR_NOT_FOUND;
	p = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	/* d2i_ASN1_INTEGER refuses non-minimal encodings (OpenSSL 3) */
	if ((ai = d2i_ASN1_INTEGER(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(v) + len ||
	    ASN1_INTEGER_get_int64(&n, ai) != 1 || n < 0) {
		ASN1_INTEGER_free(ai);
		ERR_clear_error();
		log_msg(LOG_INFO, EV, "{s:s}", "detail", "Yubico PIV "
		    "attestation: serial is not a non-negative DER INTEGER");
		return DV_ERR_MALFORMED;
	}
	ASN1_INTEGER_free(ai);
	*serial = xasprintf("%lld", (long long)n);
	return DV_OK;
}

enum dv_rc
pki_step_device_id(X509 *leaf, char **id)
{
	const ASN1_OCTET_STRING *v;
	const unsigned char *p;
	STACK_OF(ASN1_TYPE) *seq = NULL;
	const ASN1_TYPE *e;
	enum dv_rc rc;
	long len;

	*id = NULL;
	if ((rc = ext_octets(leaf, PKI_OID_STEP_DEVICE_ID, &v)) != DV_OK)
		return rc;
	if (v == NULL)
		return DV_ERR_NOT_FOUND;
	p = ASN1_STRING_get0_data(v);
	len = ASN1_STRING_length(v);
	if ((seq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, len)) == NULL ||
	    p != ASN1_STRING_get0_data(v) + len ||
	    sk_ASN1_TYPE_num(seq) < 1)
		goto bad;
	e = sk_ASN1_TYPE_value(seq, 0);
	if (e->type != V_ASN1_UTF8STRING && e->type != V_ASN1_PRINTABLESTRING &&
	    e->type != V_ASN1_IA5STRING)
		goto bad;
	if ((*id = att_string(e->value.asn1_string, DV_ATT_MAX_DEVICE_ID,
	    "Smallstep deviceID")) == NULL) {
		sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
		return DV_ERR_MALFORMED;
	}
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	return DV_OK;
bad:
	sk_ASN1_TYPE_pop_free(seq, ASN1_TYPE_free);
	ERR_clear_error();
	log_msg(LOG_INFO, EV, "{s:s}", "detail", "Smallstep device "
	    "extension is not SEQUENCE { string, ... }");
	return DV_ERR_MALFORMED;
}

enum dv_rc
pki_spki_fingerprint(const uint8_t *spki, size_t len, char **fp)
{
	const unsigned char *p = spki;
	PKI_SPKI *s = NULL;
	uint8_t md[32];
	char *b64;

	*fp = NULL;
	if (len > DV_MAX_DER || (s = d2i_PKI_SPKI(NULL, &p, (long)len)) ==
	    NULL || p != spki + len) {
		PKI_SPKI_free(s);
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.1.2.7: not a "
		    "SubjectPublicKeyInfo");
		return DV_ERR_BAD_KEY;
	}
	pki_sha256(ASN1_STRING_get0_data(s->key), (size_t)ASN1_STRING_length(
	    s->key), md);
	PKI_SPKI_free(s);
	if (pki_b64_encode(md, sizeof(md), &b64) != DV_OK)
		return DV_ERR_CRYPTO;
	*fp = xasprintf("SHA256:%s", b64);
	free(b64);
	return DV_OK;
}
