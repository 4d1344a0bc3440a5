/*
 * rawkey.c - RSA and EC public keys as their parts, to and from
 * SubjectPublicKeyInfo DER (RFC 5280 §4.1.2.7; RFC 3279 §2.3.1, RFC 5480
 * §2), without OpenSSL's key decoders and encoders.
 *
 * Why: under OpenSSL 3.0 d2i_PUBKEY builds an OSSL_DECODER context and
 * i2d_PUBKEY an OSSL_ENCODER context on every call (provider store walks
 * under read-write locks, spec/performance.md §2.2): about a quarter of the
 * Attestation CA's CPU per /attest went to the EK's SPKI in and the AK's
 * SPKI out.  Here the structure is read and written with the local
 * templates of asn1.h, and an EC point is checked to be on its curve with
 * a group built once (pki_ec_group): the same checks OpenSSL's decoder
 * makes (a NIST curve's cofactor is 1, so on the curve is the whole public
 * key check).  Anything not in the canonical form read here (a compressed
 * or hybrid point, explicit curve parameters, RSA-PSS, an unusual
 * encoding) goes through d2i_PUBKEY as before, which accepts or refuses it
 * exactly as it always did.
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/err.h>

#include "asn1.h"
#include "pki_int.h"

#define EV		"pki.rawkey"

void
pki_raw_key_clear(struct pki_raw_key *k)
{
	if (k == NULL)
		return;
	free(k->n);
	memset(k, 0, sizeof(*k));
}

/* NID and coordinate length of "P-256", "P-384", "P-521"; false for
 * another name. */
static bool
curve_by_name(const char *curve, int *nid, size_t *flen)
{
	if (strcmp(curve, "P-256") == 0) {
		*nid = NID_X9_62_prime256v1;
		*flen = 32;
	} else if (strcmp(curve, "P-384") == 0) {
		*nid = NID_secp384r1;
		*flen = 48;
	} else if (strcmp(curve, "P-521") == 0) {
		*nid = NID_secp521r1;
		*flen = 66;
	} else
		return false;
	return true;
}

static const char *
curve_by_nid(int nid, size_t *flen)
{
	switch (nid) {
	case NID_X9_62_prime256v1:
		*flen = 32;
		return "P-256";
	case NID_secp384r1:
		*flen = 48;
		return "P-384";
	case NID_secp521r1:
		*flen = 66;
		return "P-521";
	default:
		return NULL;
	}
}

/* Whether pub (an uncompressed point) decodes to a point of g: oct2point
 * refuses a point off the curve (EC_POINT_set_affine_coordinates). */
static bool
point_on_curve(const EC_GROUP *g, const uint8_t *pub, size_t publen)
{
	EC_POINT *q;
	bool ok;

	if ((q = EC_POINT_new(g)) == NULL)
		abort();
	ok = EC_POINT_oct2point(g, q, pub, publen, NULL) == 1 &&
	    !EC_POINT_is_at_infinity(g, q);
	EC_POINT_free(q);
	ERR_clear_error();
	return ok;
}

enum dv_rc
pki_ec_point_oct(const char *curve, const uint8_t *x, size_t xlen,
    const uint8_t *y, size_t ylen, uint8_t *pub, size_t *publen,
    const EC_GROUP **group)
{
	const EC_GROUP *g;
	size_t flen;
	int nid;

	*publen = 0;
	*group = NULL;
	if (!curve_by_name(curve, &nid, &flen) ||
	    (g = pki_ec_group(nid)) == NULL) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail", "unknown curve");
		return DV_ERR_BAD_KEY;
	}
	/* leading zeros may have been dropped (tpm2-tools BN_bn2bin) or,
	 * never in practice, added: re-pad to the field length */
	while (xlen > flen && *x == 0) {
		x++;
		xlen--;
	}
	while (ylen > flen && *y == 0) {
		y++;
		ylen--;
	}
	if (xlen > flen || ylen > flen) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "EC coordinate longer than the field");
		return DV_ERR_BAD_KEY;
	}
	memset(pub, 0, 1 + 2 * flen);
	pub[0] = POINT_CONVERSION_UNCOMPRESSED;
	memcpy(pub + 1 + flen - xlen, x, xlen);
	memcpy(pub + 1 + 2 * flen - ylen, y, ylen);
	if (!point_on_curve(g, pub, 1 + 2 * flen)) {
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "SEC 1 §3.2.2.1: EC point not on the curve", "curve",
		    curve);
		return DV_ERR_BAD_KEY;
	}
	*publen = 1 + 2 * flen;
	*group = g;
	return DV_OK;
}

/* The subjectPublicKey BIT STRING's bytes when it has no unused bits. */
static bool
bits_whole(const ASN1_BIT_STRING *b)
{
	return (b->flags & ASN1_STRING_FLAG_BITS_LEFT) == 0 ||
	    (b->flags & 0x07) == 0;
}

/* rsaEncryption with NULL or absent parameters and an RSAPublicKey of
 * positive integers, read exactly; false for anything else. */
static bool
raw_rsa(const PKI_SPKI *spki, struct pki_raw_key *out)
{
	const unsigned char *p;
	const void *pval;
	PKI_RSA_PUB *rp = NULL;
	const ASN1_INTEGER *n;
	uint64_t e = 0;
	int ptype;
	bool ok = false;

	X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
	if ((ptype != V_ASN1_UNDEF && ptype != V_ASN1_NULL) ||
	    !bits_whole(spki->key) || spki->key->length <= 0)
		return false;
	p = spki->key->data;
	if ((rp = d2i_PKI_RSA_PUB(NULL, &p, spki->key->length)) == NULL ||
	    p != spki->key->data + spki->key->length)
		goto out;
	n = rp->n;
	/* ASN1_INTEGER data is the magnitude, minimal (DER) */
	if (ASN1_STRING_type(n) != V_ASN1_INTEGER || n->length <= 0 ||
	    n->data[0] == 0 || ASN1_STRING_type(rp->e) != V_ASN1_INTEGER ||
	    ASN1_INTEGER_get_uint64(&e, rp->e) != 1 || e == 0)
		goto out;
	out->rsa = true;
	out->nlen = (size_t)n->length;
	out->n = xmemdup(n->data, out->nlen);
	out->e = e;
	ok = true;
out:
	PKI_RSA_PUB_free(rp);
	ERR_clear_error();
	return ok;
}

/* id-ecPublicKey on a named NIST curve with an uncompressed point that is
 * on it; false for anything else. */
static bool
raw_ec(const PKI_SPKI *spki, struct pki_raw_key *out)
{
	const ASN1_OBJECT *cobj;
	const EC_GROUP *g;
	const void *pval;
	const char *curve;
	size_t flen = 0;
	int ptype;

	X509_ALGOR_get0(NULL, &ptype, &pval, spki->algor);
	if (ptype != V_ASN1_OBJECT)
		return false;
	cobj = pval;
	if ((curve = curve_by_nid(OBJ_obj2nid(cobj), &flen)) == NULL ||
	    (g = pki_ec_group(OBJ_obj2nid(cobj))) == NULL ||
	    !bits_whole(spki->key) ||
	    (size_t)spki->key->length != 1 + 2 * flen ||
	    spki->key->data[0] != POINT_CONVERSION_UNCOMPRESSED ||
	    !point_on_curve(g, spki->key->data, 1 + 2 * flen))
		return false;
	out->rsa = false;
	out->curve = curve;
	memcpy(out->x, spki->key->data + 1, flen);
	memcpy(out->y, spki->key->data + 1 + flen, flen);
	out->coordlen = flen;
	return true;
}

/* The general path: OpenSSL's decoder and the EVP_PKEY accessors. */
static enum dv_rc
raw_decoded(const uint8_t *der, size_t len, struct pki_raw_key *out)
{
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	if ((rc = pki_key_from_spki(der, len, &k)) != DV_OK)
		return rc;
	if ((rc = pki_key_rsa_get(k, &out->n, &out->nlen, &out->e)) ==
	    DV_OK)
		out->rsa = true;
	else if ((rc = pki_key_ec_get(k, &out->curve, out->x, out->y,
	    &out->coordlen)) != DV_OK)
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "not an RSA key or an EC key on NIST P-256/384/521");
	EVP_PKEY_free(k);
	return rc;
}

enum dv_rc
pki_spki_raw_get(const uint8_t *der, size_t len, struct pki_raw_key *out)
{
	const unsigned char *p = der;
	const ASN1_OBJECT *obj;
	PKI_SPKI *spki = NULL;
	bool fast = false;
	int nid;

	memset(out, 0, sizeof(*out));
	if (len > DV_MAX_DER) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "public key over the size limit");
		return DV_ERR_TOO_LARGE;
	}
	if ((spki = d2i_PKI_SPKI(NULL, &p, (long)len)) != NULL &&
	    p == der + len) {
		X509_ALGOR_get0(&obj, NULL, NULL, spki->algor);
		nid = OBJ_obj2nid(obj);
		if (nid == NID_rsaEncryption)
			fast = raw_rsa(spki, out);
		else if (nid == NID_X9_62_id_ecPublicKey)
			fast = raw_ec(spki, out);
	}
	PKI_SPKI_free(spki);
	ERR_clear_error();
	if (fast)
		return DV_OK;
	pki_raw_key_clear(out);
	return raw_decoded(der, len, out);
}

/* SPKI DER of algorithm alg (parameters ptype/pval, taken) over key. */
static enum dv_rc
spki_der(int alg, int ptype, void *pval, const uint8_t *key, size_t keylen,
    uint8_t **der, size_t *len)
{
	PKI_SPKI *spki;
	unsigned char *d = NULL;
	int n;

	if ((spki = PKI_SPKI_new()) == NULL)
		abort();
	if (!X509_ALGOR_set0(spki->algor, OBJ_nid2obj(alg), ptype, pval) ||
	    !pki_bits_set(spki->key, key, keylen)) {
		PKI_SPKI_free(spki);
		pki_log_ssl(LOG_ERR, EV, "SubjectPublicKeyInfo");
		return DV_ERR_CRYPTO;
	}
	n = i2d_PKI_SPKI(spki, &d);
	PKI_SPKI_free(spki);
	if (n <= 0) {
		pki_log_ssl(LOG_ERR, EV, "i2d_PKI_SPKI");
		return DV_ERR_CRYPTO;
	}
	*der = pki_take_buf(d, (size_t)n);
	*len = (size_t)n;
	return DV_OK;
}

enum dv_rc
pki_spki_from_rsa(const uint8_t *n, size_t nlen, uint64_t e, uint8_t **der,
    size_t *len)
{
	PKI_RSA_PUB *rp;
	BIGNUM *bn = NULL;
	unsigned char *key = NULL;
	int klen;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	*der = NULL;
	*len = 0;
	if (nlen == 0 || nlen > INT_MAX || e == 0) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 8017 §3.1: empty RSA modulus or zero exponent");
		return DV_ERR_BAD_KEY;
	}
	if ((rp = PKI_RSA_PUB_new()) == NULL)
		abort();
	/* through a BIGNUM: leading zero bytes dropped, a 0x00 added where
	 * the top bit is set (DER INTEGER, as i2d_PUBKEY writes it) */
	if ((bn = BN_bin2bn(n, (int)nlen, NULL)) == NULL || BN_is_zero(bn) ||
	    BN_to_ASN1_INTEGER(bn, rp->n) == NULL ||
	    ASN1_INTEGER_set_uint64(rp->e, e) != 1) {
		pki_log_ssl(LOG_INFO, EV, "RSA public key from n, e");
		goto out;
	}
	if ((klen = i2d_PKI_RSA_PUB(rp, &key)) <= 0) {
		pki_log_ssl(LOG_ERR, EV, "i2d_PKI_RSA_PUB");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	rc = spki_der(NID_rsaEncryption, V_ASN1_NULL, NULL, key,
	    (size_t)klen, der, len);
out:
	OPENSSL_free(key);
	BN_free(bn);
	PKI_RSA_PUB_free(rp);
	return rc;
}

enum dv_rc
pki_spki_from_ec(const char *curve, const uint8_t *x, size_t xlen,
    const uint8_t *y, size_t ylen, uint8_t **der, size_t *len)
{
	uint8_t pub[1 + 2 * DV_TPM_MAX_ECC_BYTES];
	const EC_GROUP *g;
	size_t publen;
	enum dv_rc rc;

	*der = NULL;
	*len = 0;
	if ((rc = pki_ec_point_oct(curve, x, xlen, y, ylen, pub, &publen,
	    &g)) != DV_OK)
		return rc;
	/* namedCurve parameters (RFC 5480 §2.1.1), as i2d_PUBKEY writes */
	return spki_der(NID_X9_62_id_ecPublicKey, V_ASN1_OBJECT,
	    OBJ_nid2obj(EC_GROUP_get_curve_name(g)), pub, publen, der, len);
}
