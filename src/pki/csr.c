/*
 * csr.c - PKCS#10 certification requests (RFC 2986).
 *
 * The fast path of spec/performance.md §2.2: the request is decoded with the
 * PKI_CSR template, which keeps the public key as bytes; the key is imported
 * only to check the proof of possession (EVP_PKEY_fromdata for EC, a raw
 * import for Ed25519), over the CertificationRequestInfo bytes as received.
 */
#include <limits.h>
#include <stdlib.h>
#include <pthread.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/params.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "asn1.h"
#include "pki_int.h"

#define EV	"pki.csr"

void
pki_csr_free(struct pki_csr *c)
{
	if (c == NULL)
		return;
	free(c->der);
	free(c->spki);
	free(c->cn);
	pki_sans_clear(&c->sans);
	free(c);
}

/* Logs why untrusted input was refused; drains whatever OpenSSL queued. */
static enum dv_rc
csr_bad(enum dv_rc rc, const char *why)
{
	pki_log_ssl(LOG_INFO, EV, "%s", why);
	return rc;
}

/*
 * Finds the CertificationRequestInfo inside the DER of a CertificationRequest
 * (the bytes the signature covers, as received rather than re-encoded).
 */
static bool
csr_info_span(const uint8_t *der, size_t len, const uint8_t **info,
    size_t *infolen)
{
	const unsigned char *p = der;
	long l;
	int tag, cls, r;

	r = ASN1_get_object(&p, &l, &tag, &cls, (long)len);
	/* 0x80: error; 0x21: indefinite length, which DER forbids */
	if (r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL || p + l != der + len)
		return false;
	*info = p;
	r = ASN1_get_object(&p, &l, &tag, &cls, (long)(der + len - p));
	if (r != V_ASN1_CONSTRUCTED || tag != V_ASN1_SEQUENCE ||
	    cls != V_ASN1_UNIVERSAL)
		return false;
	*infolen = (size_t)(p - *info) + (size_t)l;
	return true;
}

/* True when a BIT STRING has unused bits (never in a key or signature). */
static bool
bits_left(const ASN1_BIT_STRING *b)
{
	return (b->flags & ASN1_STRING_FLAG_BITS_LEFT) && (b->flags & 0x07);
}

/*
 * Public-only template keys, one per curve, made once.  Importing a point
 * with EVP_PKEY_fromdata builds the curve's group every time (~24 µs of a
 * ~30 µs import); duplicating a template and setting its point costs
 * ~7 µs (measured on this machine).  The templates are only ever read.
 */
static pthread_once_t	 tmpl_once = PTHREAD_ONCE_INIT;
static EVP_PKEY		*ec_tmpl[2];	/* P-256, P-384 */

static EVP_PKEY *
tmpl_make(const char *group)
{
	EVP_PKEY *priv = NULL, *pub = NULL;
	EVP_PKEY_CTX *ctx = NULL;
	unsigned char *pt = NULL;
	OSSL_PARAM prm[3];
	size_t n;

	if ((priv = EVP_EC_gen(group)) == NULL ||
	    (n = EVP_PKEY_get1_encoded_public_key(priv, &pt)) == 0)
		goto out;
	prm[0] = OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME,
	    (char *)group, 0);
	prm[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    pt, n);
	prm[2] = OSSL_PARAM_construct_end();
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ctx) != 1 ||
	    EVP_PKEY_fromdata(ctx, &pub, EVP_PKEY_PUBLIC_KEY, prm) != 1)
		pub = NULL;
out:
	if (pub == NULL)
		pki_log_ssl(LOG_ERR, "pki.csr", "EC template key");
	OPENSSL_free(pt);
	EVP_PKEY_CTX_free(ctx);
	EVP_PKEY_free(priv);
	return pub;
}

static void
tmpl_init(void)
{
	ec_tmpl[0] = tmpl_make("P-256");
	ec_tmpl[1] = tmpl_make("P-384");
}

/* RFC 5480 §2.1.1 named curve with an uncompressed or compressed point. */
static enum dv_rc
csr_key_ec(int ptype, const void *pval, const ASN1_BIT_STRING *kb,
    EVP_PKEY **pk, enum pki_key_type *kt)
{
	size_t len = (size_t)kb->length, full, comp;
	EVP_PKEY *tmpl;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	if (ptype != V_ASN1_OBJECT)
		return csr_bad(rc, "RFC 5480 §2.1.1: EC key without a named "
		    "curve");
	pthread_once(&tmpl_once, tmpl_init);
	switch (OBJ_obj2nid(pval)) {
	case NID_X9_62_prime256v1:
		tmpl = ec_tmpl[0];
		*kt = PKI_KEY_P256;
		full = 65;
		comp = 33;
		break;
	case NID_secp384r1:
		tmpl = ec_tmpl[1];
		*kt = PKI_KEY_P384;
		full = 97;
		comp = 49;
		break;
	default:
		return csr_bad(rc, "EC curve is not P-256 or P-384");
	}
	if (!((len == full && kb->data[0] == 4) ||
	    (len == comp && (kb->data[0] == 2 || kb->data[0] == 3))))
		return csr_bad(rc, "SEC 1 §2.3.3: bad EC point encoding");
	if (tmpl == NULL)
		return DV_ERR_CRYPTO;
	/* set1_encoded_public_key decodes the point and checks it is on
	 * the curve */
	if ((*pk = EVP_PKEY_dup(tmpl)) == NULL ||
	    EVP_PKEY_set1_encoded_public_key(*pk, kb->data, len) != 1) {
		EVP_PKEY_free(*pk);
		*pk = NULL;
		return csr_bad(rc, "EC point is not on the curve");
	}
	return DV_OK;
}

static enum dv_rc
csr_key_rsa(const uint8_t *spki, size_t spkilen, EVP_PKEY **pk,
    enum pki_key_type *kt)
{
	const unsigned char *p = spki;
	int bits;

	/* a modulus beyond DV_MAX_RSA_BITS is refused before it is decoded */
	if (spkilen > DV_MAX_RSA_BITS / 8 + 64)
		return csr_bad(DV_ERR_BAD_KEY, "RSA key larger than "
		    "DV_MAX_RSA_BITS");
	if ((*pk = d2i_PUBKEY(NULL, &p, (long)spkilen)) == NULL ||
	    !EVP_PKEY_is_a(*pk, "RSA"))
		return csr_bad(DV_ERR_BAD_KEY, "RFC 8017 §A.1.1: bad RSA key");
	bits = EVP_PKEY_get_bits(*pk);
	if (bits < DV_MIN_RSA_BITS || bits > DV_MAX_RSA_BITS) {
		log_msg(LOG_INFO, EV, "{s:s,s:i}", "detail",
		    "RSA modulus size not accepted", "bits", bits);
		return DV_ERR_BAD_KEY;
	}
	*kt = bits < 3072 ? PKI_KEY_RSA2048 : bits < 4096 ? PKI_KEY_RSA3072 :
	    PKI_KEY_RSA4096;
	return DV_OK;
}

/*
 * Imports the request's key (only to verify its signature) and checks it is
 * one devid accepts.  spki is the re-encoded SubjectPublicKeyInfo.
 */
static enum dv_rc
csr_key(const PKI_SPKI *s, const uint8_t *spki, size_t spkilen,
    EVP_PKEY **pk, enum pki_key_type *kt)
{
	const ASN1_OBJECT *obj;
	const void *pval;
	int ptype;

	X509_ALGOR_get0(&obj, &ptype, &pval, s->algor);
	if (bits_left(s->key) || s->key->length <= 0)
		return csr_bad(DV_ERR_BAD_KEY, "RFC 5280 §4.1.2.7: bad key "
		    "bits");
	switch (OBJ_obj2nid(obj)) {
	case NID_X9_62_id_ecPublicKey:
		return csr_key_ec(ptype, pval, s->key, pk, kt);
	case NID_rsaEncryption:
		return csr_key_rsa(spki, spkilen, pk, kt);
	case NID_ED25519:
		/* RFC 8410 §3: parameters absent, 32-byte key */
		if (ptype != V_ASN1_UNDEF || s->key->length != 32)
			return csr_bad(DV_ERR_BAD_KEY, "RFC 8410 §3: bad "
			    "Ed25519 key");
		if ((*pk = EVP_PKEY_new_raw_public_key_ex(NULL, "ED25519",
		    NULL, s->key->data, 32)) == NULL)
			return csr_bad(DV_ERR_BAD_KEY, "Ed25519 import");
		*kt = PKI_KEY_ED25519;
		return DV_OK;
	default:
		return csr_bad(DV_ERR_BAD_KEY, "key is not EC, RSA or "
		    "Ed25519");
	}
}

/* The digest the request's signature algorithm uses with key type kt
 * (*md NULL for Ed25519); false if the pair is not accepted. */
static bool
csr_sig_md(const X509_ALGOR *alg, enum pki_key_type kt, const EVP_MD **md)
{
	const ASN1_OBJECT *obj;
	int nid, ptype;

	X509_ALGOR_get0(&obj, &ptype, NULL, alg);
	nid = OBJ_obj2nid(obj);
	*md = NULL;
	switch (kt) {
	case PKI_KEY_P256:
	case PKI_KEY_P384:
		*md = nid == NID_ecdsa_with_SHA256 ?
		    pki_md(PKI_MD_SHA256) : nid == NID_ecdsa_with_SHA384 ?
		    pki_md(PKI_MD_SHA384) : nid == NID_ecdsa_with_SHA512 ?
		    pki_md(PKI_MD_SHA512) : NULL;
		return *md != NULL;
	case PKI_KEY_RSA2048:
	case PKI_KEY_RSA3072:
	case PKI_KEY_RSA4096:
		*md = nid == NID_sha256WithRSAEncryption ?
		    pki_md(PKI_MD_SHA256) : nid == NID_sha384WithRSAEncryption ?
		    pki_md(PKI_MD_SHA384) : nid == NID_sha512WithRSAEncryption ?
		    pki_md(PKI_MD_SHA512) : NULL;
		return *md != NULL;
	case PKI_KEY_ED25519:
		return nid == NID_ED25519 && ptype == V_ASN1_UNDEF;
	default:
		return false;
	}
}

/* Checks the proof of possession over the request info bytes. */
static bool
csr_verify(EVP_PKEY *pk, const EVP_MD *md, const uint8_t *info,
    size_t infolen, const ASN1_BIT_STRING *sig)
{
	unsigned char h[EVP_MAX_MD_SIZE];
	unsigned int hlen = 0;
	EVP_PKEY_CTX *ctx = NULL;
	EVP_MD_CTX *mctx = NULL;
	bool ok = false;

	if (bits_left(sig))
		return false;
	if (md == NULL) {
		/* Ed25519 signs the message itself (RFC 8032 §5.1.6) */
		ok = (mctx = EVP_MD_CTX_new()) != NULL &&
		    EVP_DigestVerifyInit_ex(mctx, NULL, NULL, NULL, NULL, pk,
		    NULL) == 1 &&
		    EVP_DigestVerify(mctx, sig->data, (size_t)sig->length,
		    info, infolen) == 1;
		EVP_MD_CTX_free(mctx);
		return ok;
	}
	/* Hash once, then a raw verify: cheaper than EVP_DigestVerify in
	 * OpenSSL 3.0 (spec/performance.md §2.2). */
	ok = EVP_Digest(info, infolen, h, &hlen, md, NULL) &&
	    (ctx = EVP_PKEY_CTX_new_from_pkey(NULL, pk, NULL)) != NULL &&
	    EVP_PKEY_verify_init(ctx) == 1 &&
	    (!EVP_PKEY_is_a(pk, "RSA") ||
	    (EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_PADDING) == 1 &&
	    EVP_PKEY_CTX_set_signature_md(ctx, md) == 1)) &&
	    EVP_PKEY_verify(ctx, sig->data, (size_t)sig->length, h,
	    hlen) == 1;
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/* SANs of the PKCS#9 extensionRequest attribute (RFC 2985 §5.4.2). */
static enum dv_rc
csr_sans(const PKI_CSR_INFO *info, struct pki_sans *sans)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	const X509_ATTRIBUTE *a;
	X509_EXTENSION *e;
	GENERAL_NAMES *gens = NULL;
	ASN1_TYPE *t;
	bool seen_req = false, seen_san = false;
	int i, j, nid;
	enum dv_rc rc = DV_ERR_BAD_CSR;

	for (i = 0; i < sk_X509_ATTRIBUTE_num(info->attributes); i++) {
		a = sk_X509_ATTRIBUTE_value(info->attributes, i);
		nid = OBJ_obj2nid(X509_ATTRIBUTE_get0_object(
		    (X509_ATTRIBUTE *)a));
		if (nid != NID_ext_req && nid != NID_ms_ext_req)
			continue;
		if (seen_req || X509_ATTRIBUTE_count(a) != 1) {
			rc = csr_bad(rc, "RFC 2985 §5.4.2: extensionRequest "
			    "repeated or not single-valued");
			goto out;
		}
		seen_req = true;
		t = X509_ATTRIBUTE_get0_type((X509_ATTRIBUTE *)a, 0);
		if (t == NULL || t->type != V_ASN1_SEQUENCE ||
		    (exts = ASN1_TYPE_unpack_sequence(
		    ASN1_ITEM_rptr(X509_EXTENSIONS), t)) == NULL) {
			rc = csr_bad(rc, "RFC 2985 §5.4.2: bad "
			    "extensionRequest");
			goto out;
		}
		for (j = 0; j < sk_X509_EXTENSION_num(exts); j++) {
			e = sk_X509_EXTENSION_value(exts, j);
			if (OBJ_obj2nid(X509_EXTENSION_get_object(e)) !=
			    NID_subject_alt_name)
				continue;
			if (seen_san) {
				rc = csr_bad(rc, "RFC 5280 §4.2: repeated "
				    "subjectAltName");
				goto out;
			}
			seen_san = true;
			if ((gens = X509V3_EXT_d2i(e)) == NULL) {
				rc = csr_bad(rc, "RFC 5280 §4.2.1.6: bad "
				    "subjectAltName");
				goto out;
			}
			if (sk_GENERAL_NAME_num(gens) > DV_MAX_SANS) {
				rc = csr_bad(DV_ERR_TOO_LARGE, "more "
				    "subjectAltNames than DV_MAX_SANS");
				goto out;
			}
			/* an unusable name makes the request bad */
			if ((rc = pki_sans_from_gens(gens, sans)) != DV_OK) {
				if (rc == DV_ERR_MALFORMED)
					rc = DV_ERR_BAD_CSR;
				goto out;
			}
			GENERAL_NAMES_free(gens);
			gens = NULL;
		}
	}
	rc = DV_OK;
out:
	GENERAL_NAMES_free(gens);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	return rc;
}

/* Decodes and checks one DER CertificationRequest. */
static enum dv_rc
csr_decode(const uint8_t *der, size_t len, struct pki_csr **out)
{
	const unsigned char *p = der;
	const uint8_t *info;
	unsigned char *spki = NULL;
	size_t infolen;
	PKI_CSR *req = NULL;
	EVP_PKEY *pk = NULL;
	const EVP_MD *md;
	struct pki_csr *c = NULL;
	int n;
	enum dv_rc rc = DV_ERR_BAD_CSR;

	if (!csr_info_span(der, len, &info, &infolen) ||
	    (req = d2i_PKI_CSR(NULL, &p, (long)len)) == NULL ||
	    p != der + len) {
		rc = csr_bad(rc, "RFC 2986 §4: not a DER "
		    "CertificationRequest");
		goto out;
	}
	if (ASN1_INTEGER_get(req->info->version) != 0) {
		rc = csr_bad(rc, "RFC 2986 §4.1: version is not 0");
		goto out;
	}
	if ((n = i2d_PKI_SPKI(req->info->spki, &spki)) <= 0) {
		rc = csr_bad(rc, "RFC 5280 §4.1.2.7: bad "
		    "SubjectPublicKeyInfo");
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	c->spki = pki_take_buf(spki, (size_t)n);
	c->spkilen = (size_t)n;
	spki = NULL;
	if ((rc = csr_key(req->info->spki, c->spki, c->spkilen, &pk,
	    &c->keytype)) != DV_OK)
		goto out;
	rc = DV_ERR_BAD_CSR;
	if (!csr_sig_md(req->sigalg, c->keytype, &md)) {
		rc = csr_bad(rc, "signature algorithm not accepted for the "
		    "key");
		goto out;
	}
	if (!csr_verify(pk, md, info, infolen, req->signature)) {
		rc = csr_bad(rc, "RFC 2986 §3: signature does not verify");
		goto out;
	}
	c->cn = pki_name_cn(req->info->subject);
	if ((rc = csr_sans(req->info, &c->sans)) != DV_OK)
		goto out;
	c->der = xmemdup(der, len);
	c->derlen = len;
	pki_sha256(der, len, c->sha256);
	*out = c;
	c = NULL;
	rc = DV_OK;
out:
	pki_csr_free(c);
	EVP_PKEY_free(pk);
	OPENSSL_free(spki);
	PKI_CSR_free(req);
	return rc;
}

enum dv_rc
pki_csr_parse(const uint8_t *data, size_t len, bool der,
    struct pki_csr **out)
{
	unsigned char *buf = NULL;
	long blen = 0;
	BIO *b = NULL;
	enum dv_rc rc;

	*out = NULL;
	if (!pki_ready())
		return DV_ERR_INTERNAL;
	if (len > (der ? DV_MAX_DER : DV_MAX_PEM)) {
		log_msg(LOG_INFO, EV, "{s:s,s:I}", "detail",
		    "CSR larger than DV_MAX_DER/DV_MAX_PEM", "length",
		    (json_int_t)len);
		return DV_ERR_TOO_LARGE;
	}
	if (der)
		return csr_decode(data, len, out);
	if ((b = BIO_new_mem_buf(data, (int)len)) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "BIO_new_mem_buf");
		return DV_ERR_CRYPTO;
	}
	rc = pki_pem_next(b, PEM_STRING_X509_REQ, PEM_STRING_X509_REQ_OLD,
	    &buf, &blen);
	BIO_free(b);
	if (rc != DV_OK) {
		if (rc == DV_ERR_NOT_FOUND)
			log_msg(LOG_INFO, EV, "{s:s}", "detail",
			    "RFC 7468 §7: no CERTIFICATE REQUEST block");
		return DV_ERR_BAD_CSR;
	}
	rc = csr_decode(buf, (size_t)blen, out);
	OPENSSL_free(buf);
	return rc;
}

enum dv_rc
pki_csr_make(EVP_PKEY *k, const char *cn, const struct pki_sans *sans,
    char **pem)
{
	STACK_OF(X509_EXTENSION) *exts = NULL;
	GENERAL_NAMES *gens = NULL;
	X509_NAME *name = NULL;
	X509_REQ *req = NULL;
	const EVP_MD *md = NULL;
	enum pki_sig_alg a;
	BIO *b = NULL;
	char *data;
	long n;
	enum dv_rc rc;

	*pem = NULL;
	if ((rc = pki_key_sig_alg(k, &a)) != DV_OK)
		return rc;
	if (a == PKI_SIG_ECDSA_SHA384)
		md = pki_md(PKI_MD_SHA384);
	else if (a != PKI_SIG_ED25519)
		md = pki_md(PKI_MD_SHA256);
	rc = DV_ERR_CRYPTO;
	if ((req = X509_REQ_new()) == NULL ||
	    !X509_REQ_set_version(req, X509_REQ_VERSION_1) ||
	    (name = X509_NAME_new()) == NULL ||
	    (cn != NULL && !X509_NAME_add_entry_by_NID(name, NID_commonName,
	    MBSTRING_UTF8, (const unsigned char *)cn, -1, -1, 0)) ||
	    !X509_REQ_set_subject_name(req, name) ||
	    !X509_REQ_set_pubkey(req, k)) {
		pki_log_ssl(LOG_ERR, EV, "building the request");
		goto out;
	}
	if (sans != NULL && sans->n > 0) {
		if ((rc = pki_sans_to_gens(sans, &gens)) != DV_OK)
			goto out;
		rc = DV_ERR_CRYPTO;
		/* RFC 5280 §4.2.1.6: critical when the subject is empty */
		if (!X509V3_add1_i2d(&exts, NID_subject_alt_name, gens,
		    cn == NULL, X509V3_ADD_DEFAULT) ||
		    !X509_REQ_add_extensions(req, exts)) {
			pki_log_ssl(LOG_ERR, EV, "extensionRequest");
			goto out;
		}
	}
	if (X509_REQ_sign(req, k, md) <= 0 ||
	    (b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_X509_REQ(b, req)) {
		pki_log_ssl(LOG_ERR, EV, "X509_REQ_sign");
		goto out;
	}
	n = BIO_get_mem_data(b, &data);
	*pem = xstrndup(data, n < 0 ? 0 : (size_t)n);
	rc = DV_OK;
out:
	BIO_free(b);
	sk_X509_EXTENSION_pop_free(exts, X509_EXTENSION_free);
	GENERAL_NAMES_free(gens);
	X509_NAME_free(name);
	X509_REQ_free(req);
	return rc;
}
