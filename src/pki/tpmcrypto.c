/*
 * tpmcrypto.c - the OpenSSL half of TPM 2.0 credential protection and of
 * TPM signatures (issue 4; spec/attestation.md §5): digests and HMAC by
 * TPM hash, KDFa and KDFe (TPM 2.0 Part 1 §11.4.9.2/.3), AES-CFB, RSAES-OAEP
 * with an injectable seed (RFC 8017 §7.1.1), one-pass ECDH with an
 * injectable scalar (Part 1 Annex C.6.1), raw public keys in and out, and
 * RSASSA/RSAPSS/ECDSA verification.  The TPM logic is in src/tpm.
 */
#include <limits.h>
#include <pthread.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/hmac.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>

#include "pki_int.h"

#define EV		"pki.tpm"
/* Longest KDF output: 8192 bits covers any TPM key (Part 1 §11.4.9). */
#define KDF_MAX_BITS	8192

static const EVP_MD *
hash_md(enum pki_hash h)
{
	switch (h) {
	case PKI_HASH_SHA1:
		return pki_md(PKI_MD_SHA1);
	case PKI_HASH_SHA256:
		return pki_md(PKI_MD_SHA256);
	case PKI_HASH_SHA384:
		return pki_md(PKI_MD_SHA384);
	case PKI_HASH_SHA512:
		return pki_md(PKI_MD_SHA512);
	default:
		return NULL;
	}
}

size_t
pki_hash_size(enum pki_hash h)
{
	static const size_t sizes[PKI_HASH__MAX] = {
		[PKI_HASH_SHA1] = 20,
		[PKI_HASH_SHA256] = 32,
		[PKI_HASH_SHA384] = 48,
		[PKI_HASH_SHA512] = 64,
	};

	return (unsigned)h < PKI_HASH__MAX ? sizes[h] : 0;
}

enum dv_rc
pki_digest(enum pki_hash h, const void *data, size_t len, uint8_t *md)
{
	const EVP_MD *m = hash_md(h);
	unsigned int n = 0;

	if (m == NULL) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "unknown hash");
		return DV_ERR_INTERNAL;
	}
	if (EVP_Digest(len == 0 ? "" : data, len, md, &n, m, NULL) != 1 ||
	    n != pki_hash_size(h)) {
		pki_log_ssl(LOG_ERR, EV, "EVP_Digest");
		return DV_ERR_CRYPTO;
	}
	return DV_OK;
}

/*
 * HMAC templates, one per TPM hash, built once: HMAC() fetches the MAC
 * and then its digest by name on every call (OpenSSL 3.0, EVP_Q_mac), a
 * third of a KDFa.  A template is keyed with a dummy key, because an
 * HMAC EVP_MAC_CTX can only be duplicated once its digest contexts are
 * set up; each call duplicates one (no fetch) and keys the copy.  The
 * templates are only read after pthread_once, so threads share them.
 */
static pthread_once_t	 mac_once = PTHREAD_ONCE_INIT;
static EVP_MAC_CTX	*mac_tmpl[PKI_HASH__MAX];

static void
mac_init(void)
{
	static const unsigned char dummy[1];
	EVP_MAC *mac;
	OSSL_PARAM p[2];
	const EVP_MD *m;
	int h;

	if ((mac = EVP_MAC_fetch(NULL, OSSL_MAC_NAME_HMAC, NULL)) == NULL) {
		pki_log_ssl(LOG_ERR, EV, "EVP_MAC_fetch HMAC");
		return;
	}
	for (h = 0; h < PKI_HASH__MAX; h++) {
		if ((m = hash_md((enum pki_hash)h)) == NULL)
			continue;
		if ((mac_tmpl[h] = EVP_MAC_CTX_new(mac)) == NULL)
			abort();
		p[0] = OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST,
		    (char *)EVP_MD_get0_name(m), 0);
		p[1] = OSSL_PARAM_construct_end();
		if (EVP_MAC_init(mac_tmpl[h], dummy, sizeof(dummy), p) != 1) {
			pki_log_ssl(LOG_ERR, EV, "EVP_MAC_init HMAC-%s",
			    EVP_MD_get0_name(m));
			EVP_MAC_CTX_free(mac_tmpl[h]);
			mac_tmpl[h] = NULL;
		}
	}
	EVP_MAC_free(mac);
}

enum dv_rc
pki_hmac(enum pki_hash h, const void *key, size_t keylen, const void *a,
    size_t alen, const void *b, size_t blen, uint8_t *md)
{
	static const unsigned char empty[1];
	EVP_MAC_CTX *ctx;
	size_t n = 0;
	enum dv_rc rc = DV_OK;

	pthread_once(&mac_once, mac_init);
	if ((unsigned)h >= PKI_HASH__MAX || mac_tmpl[h] == NULL ||
	    keylen > INT_MAX) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "bad HMAC arguments");
		return DV_ERR_INTERNAL;
	}
	if ((ctx = EVP_MAC_CTX_dup(mac_tmpl[h])) == NULL)
		abort();
	if (EVP_MAC_init(ctx, keylen == 0 ? empty : key, keylen, NULL) !=
	    1 || (alen > 0 && EVP_MAC_update(ctx, a, alen) != 1) ||
	    (blen > 0 && EVP_MAC_update(ctx, b, blen) != 1) ||
	    EVP_MAC_final(ctx, md, &n, pki_hash_size(h)) != 1 ||
	    n != pki_hash_size(h)) {
		pki_log_ssl(LOG_ERR, EV, "HMAC");
		rc = DV_ERR_CRYPTO;
	}
	/* frees the copy of the key the context holds, cleansed */
	EVP_MAC_CTX_free(ctx);
	return rc;
}

static void
be32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

/*
 * The counter-mode KDFs of Part 1 §11.4.9: for i = 1.. each block is
 * HMAC_H(key, BE32(i) || label || 0 || u || v || BE32(bits)) (KDFa, hmac
 * true) or H(BE32(i) || z || label || 0 || u || v) (KDFe); the output is
 * cut to ceil(bits/8) bytes and its first byte masked to bits % 8 bits.
 * Zero bits is an empty output (the TCG vectors have such a case).
 */
static enum dv_rc
kdf(bool hmac, enum pki_hash h, const uint8_t *key, size_t keylen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, uint32_t bits, uint8_t *out)
{
	const size_t hlen = pki_hash_size(h), llen = strlen(label) + 1;
	const size_t olen = (bits + 7) / 8;
	uint8_t blk[64], *in = NULL, *p;
	size_t inlen, done, n;
	uint32_t i;
	enum dv_rc rc = DV_OK;

	if (bits == 0)
		return DV_OK;
	if (hlen == 0 || bits > KDF_MAX_BITS ||
	    (key == NULL && keylen > 0)) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "bad KDF arguments");
		return DV_ERR_INTERNAL;
	}
	inlen = 4 + (hmac ? 0 : keylen) + llen + ulen + vlen + (hmac ? 4 : 0);
	p = in = xmalloc(inlen);
	p += 4;
	if (!hmac && keylen > 0) {
		memcpy(p, key, keylen);
		p += keylen;
	}
	memcpy(p, label, llen);		/* with its NUL: the 0x00 */
	p += llen;
	if (ulen > 0)
		memcpy(p, u, ulen);
	p += ulen;
	if (vlen > 0)
		memcpy(p, v, vlen);
	p += vlen;
	if (hmac)
		be32(p, bits);
	for (i = 1, done = 0; done < olen; i++, done += n) {
		be32(in, i);
		rc = hmac ? pki_hmac(h, key, keylen, in, inlen, NULL, 0, blk) :
		    pki_digest(h, in, inlen, blk);
		if (rc != DV_OK)
			goto out;
		n = olen - done < hlen ? olen - done : hlen;
		memcpy(out + done, blk, n);
	}
	if (bits % 8 != 0)
		out[0] &= (uint8_t)((1u << (bits % 8)) - 1);
out:
	if (rc != DV_OK)
		OPENSSL_cleanse(out, olen);
	OPENSSL_cleanse(blk, sizeof(blk));
	OPENSSL_cleanse(in, inlen);
	free(in);
	return rc;
}

enum dv_rc
pki_tpm_kdfa(enum pki_hash h, const uint8_t *key, size_t keylen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, uint32_t bits, uint8_t *out)
{
	return kdf(true, h, key, keylen, label, u, ulen, v, vlen, bits, out);
}

enum dv_rc
pki_tpm_kdfe(enum pki_hash h, const uint8_t *z, size_t zlen,
    const char *label, const uint8_t *u, size_t ulen, const uint8_t *v,
    size_t vlen, uint32_t bits, uint8_t *out)
{
	return kdf(false, h, z, zlen, label, u, ulen, v, vlen, bits, out);
}

enum dv_rc
pki_aes_cfb_encrypt(const uint8_t *key, size_t keylen, const uint8_t *iv,
    const uint8_t *in, size_t len, uint8_t *out)
{
	static const uint8_t zero[16];
	const EVP_CIPHER *c;
	EVP_CIPHER_CTX *ctx = NULL;
	int n = 0, fin = 0;
	enum dv_rc rc = DV_ERR_CRYPTO;

	switch (keylen) {
	case 16:
		c = EVP_aes_128_cfb128();
		break;
	case 24:
		c = EVP_aes_192_cfb128();
		break;
	case 32:
		c = EVP_aes_256_cfb128();
		break;
	default:
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "bad AES key size");
		return DV_ERR_INTERNAL;
	}
	if (len > INT_MAX) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "AES input too long");
		return DV_ERR_INTERNAL;
	}
	if ((ctx = EVP_CIPHER_CTX_new()) == NULL)
		abort();
	if (EVP_EncryptInit_ex(ctx, c, NULL, key, iv != NULL ? iv : zero) !=
	    1 || EVP_EncryptUpdate(ctx, out, &n, in, (int)len) != 1 ||
	    EVP_EncryptFinal_ex(ctx, out + n, &fin) != 1 ||
	    (size_t)n + (size_t)fin != len) {
		pki_log_ssl(LOG_ERR, EV, "AES-CFB");
		OPENSSL_cleanse(out, len);
		goto out;
	}
	rc = DV_OK;
out:
	EVP_CIPHER_CTX_free(ctx);
	return rc;
}

/* MGF1 (RFC 8017 §B.2.1): out (len bytes) ^= MGF1_H(seed). */
static enum dv_rc
mgf1_xor(enum pki_hash h, const uint8_t *seed, size_t seedlen,
    uint8_t *out, size_t len)
{
	const size_t hlen = pki_hash_size(h);
	uint8_t md[64], *in;
	size_t done, n, j;
	uint32_t c;
	enum dv_rc rc = DV_OK;

	in = xmalloc(seedlen + 4);
	memcpy(in, seed, seedlen);
	for (c = 0, done = 0; done < len; c++, done += n) {
		be32(in + seedlen, c);
		if ((rc = pki_digest(h, in, seedlen + 4, md)) != DV_OK)
			break;
		n = len - done < hlen ? len - done : hlen;
		for (j = 0; j < n; j++)
			out[done + j] ^= md[j];
	}
	OPENSSL_cleanse(md, sizeof(md));
	OPENSSL_cleanse(in, seedlen + 4);
	free(in);
	return rc;
}

/*
 * EME-OAEP encoding is done here rather than by OpenSSL's RSA_PKCS1_OAEP
 * padding so that the known-answer tests can pass the OAEP seed (spec
 * §14.1); the production path draws it with pki_random and runs the same
 * code.  The block then goes through raw RSA (RSA_NO_PADDING).
 */
enum dv_rc
pki_rsa_oaep_encrypt(EVP_PKEY *k, enum pki_hash h, const uint8_t *label,
    size_t labellen, const uint8_t *msg, size_t msglen, const uint8_t *seed,
    uint8_t **out, size_t *outlen)
{
	const size_t hlen = pki_hash_size(h);
	EVP_PKEY_CTX *ctx = NULL;
	uint8_t *em = NULL, *ct = NULL, *db;
	size_t klen, ctlen, dblen;
	enum dv_rc rc = DV_ERR_CRYPTO;
	int bits;

	*out = NULL;
	*outlen = 0;
	if (!EVP_PKEY_is_a(k, "RSA") || hlen == 0 ||
	    (bits = EVP_PKEY_get_bits(k)) <= 0) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 8017 §7.1: OAEP needs an RSA key");
		return DV_ERR_BAD_KEY;
	}
	klen = ((size_t)bits + 7) / 8;
	/* RFC 8017 §7.1.1 step 1.b */
	if (klen < 2 * hlen + 2 || msglen > klen - 2 * hlen - 2) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 8017 §7.1.1: message too long for the key");
		return DV_ERR_BAD_KEY;
	}
	/* EM = 0x00 || maskedSeed (hLen) || maskedDB (k - hLen - 1),
	 * DB = lHash || PS || 0x01 || M */
	em = xcalloc(1, klen);
	db = em + 1 + hlen;
	dblen = klen - hlen - 1;
	if ((rc = pki_digest(h, label, labellen, db)) != DV_OK)
		goto out;
	db[dblen - msglen - 1] = 0x01;
	memcpy(db + dblen - msglen, msg, msglen);
	if (seed != NULL)
		memcpy(em + 1, seed, hlen);
	else if ((rc = pki_random(em + 1, hlen)) != DV_OK)
		goto out;
	if ((rc = mgf1_xor(h, em + 1, hlen, db, dblen)) != DV_OK ||
	    (rc = mgf1_xor(h, db, dblen, em + 1, hlen)) != DV_OK)
		goto out;
	rc = DV_ERR_CRYPTO;
	ct = xmalloc(klen);
	ctlen = klen;
	if ((ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_encrypt_init(ctx) != 1 ||
	    EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_NO_PADDING) != 1 ||
	    EVP_PKEY_encrypt(ctx, ct, &ctlen, em, klen) != 1 ||
	    ctlen != klen) {
		pki_log_ssl(LOG_ERR, EV, "RSA encrypt (OAEP)");
		goto out;
	}
	*out = ct;
	*outlen = ctlen;
	ct = NULL;
	rc = DV_OK;
out:
	EVP_PKEY_CTX_free(ctx);
	free(ct);
	OPENSSL_cleanse(em, klen);
	free(em);
	return rc;
}

/*
 * Import contexts for raw public keys, one per thread and key type:
 * EVP_PKEY_CTX_new_from_name fetches the key manager on every call, and a
 * fromdata context cannot be duplicated (EVP_PKEY_CTX_dup refuses it), so
 * each thread keeps its own, initialised once and reused; freed when the
 * thread exits.
 */
enum import_kind { IMPORT_RSA, IMPORT_EC, IMPORT__MAX };

static pthread_once_t	 import_once = PTHREAD_ONCE_INIT;
static pthread_key_t	 import_key[IMPORT__MAX];

static void
import_ctx_free(void *p)
{
	EVP_PKEY_CTX_free(p);
}

static void
import_init(void)
{
	int i;

	for (i = 0; i < IMPORT__MAX; i++)
		if (pthread_key_create(&import_key[i], import_ctx_free) != 0)
			abort();
}

/* This thread's fromdata context for kind; NULL on an OpenSSL error. */
static EVP_PKEY_CTX *
import_ctx(enum import_kind kind)
{
	static const char *const names[IMPORT__MAX] = {
		[IMPORT_RSA] = "RSA",
		[IMPORT_EC] = "EC",
	};
	EVP_PKEY_CTX *ctx;

	pthread_once(&import_once, import_init);
	if ((ctx = pthread_getspecific(import_key[kind])) != NULL)
		return ctx;
	if ((ctx = EVP_PKEY_CTX_new_from_name(NULL, names[kind], NULL)) ==
	    NULL || EVP_PKEY_fromdata_init(ctx) != 1) {
		EVP_PKEY_CTX_free(ctx);
		return NULL;
	}
	if (pthread_setspecific(import_key[kind], ctx) != 0)
		abort();
	return ctx;
}

/* Builds an EC public key from group name and public point octets. */
static EVP_PKEY *
ec_key_build(const char *group, const uint8_t *pub, size_t publen)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k = NULL;

	params[0] = OSSL_PARAM_construct_utf8_string(
	    OSSL_PKEY_PARAM_GROUP_NAME, (char *)group, 0);
	params[1] = OSSL_PARAM_construct_octet_string(OSSL_PKEY_PARAM_PUB_KEY,
	    (void *)pub, publen);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = import_ctx(IMPORT_EC)) == NULL ||
	    EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_PUBLIC_KEY, params) != 1)
		k = NULL;
	return k;
}

enum dv_rc
pki_ecdh_ephemeral(const char *curve, const uint8_t *x, size_t xlen,
    const uint8_t *y, size_t ylen, const uint8_t *priv, size_t privlen,
    uint8_t *z, uint8_t *qx, uint8_t *qy, size_t *coordlen)
{
	uint8_t pub[1 + 2 * DV_TPM_MAX_ECC_BYTES];
	const EC_GROUP *g = NULL;
	EC_POINT *q = NULL, *pk = NULL, *sh = NULL;
	BN_CTX *bnctx = NULL;
	BIGNUM *d = NULL, *bx = NULL;
	size_t flen, publen = 0;
	enum dv_rc rc;

	*coordlen = 0;
	/* the peer's point, checked to be on the curve, and the curve's
	 * group shared by every request (public parameters only) */
	if ((rc = pki_ec_point_oct(curve, x, xlen, y, ylen, pub, &publen,
	    &g)) != DV_OK) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "Part 1 Annex C.6.1: EK point");
		return rc;
	}
	rc = DV_ERR_CRYPTO;
	flen = (publen - 1) / 2;
	if ((bnctx = BN_CTX_secure_new()) == NULL ||
	    (d = BN_secure_new()) == NULL || (bx = BN_secure_new()) == NULL ||
	    (q = EC_POINT_new(g)) == NULL || (sh = EC_POINT_new(g)) == NULL ||
	    (pk = EC_POINT_new(g)) == NULL)
		abort();
	if (EC_POINT_oct2point(g, pk, pub, publen, bnctx) != 1) {
		pki_log_ssl(LOG_ERR, EV, "EC_POINT_oct2point");
		goto out;
	}
	if (priv != NULL) {
		if (privlen > INT_MAX || BN_bin2bn(priv, (int)privlen, d) ==
		    NULL || BN_is_zero(d) ||
		    BN_cmp(d, EC_GROUP_get0_order(g)) >= 0) {
			ERR_clear_error();
			log_msg(LOG_ERR, EV, "{s:s}", "detail",
			    "ephemeral scalar out of range");
			rc = DV_ERR_INTERNAL;
			goto out;
		}
	} else {
		do {
			if (BN_priv_rand_range(d, EC_GROUP_get0_order(g)) !=
			    1) {
				pki_log_ssl(LOG_ERR, EV, "BN_priv_rand_range");
				goto out;
			}
		} while (BN_is_zero(d));
	}
	/* Qe = d * G; Z = x(d * Qek).  A single-point EC_POINT_mul runs
	 * OpenSSL's constant-time ladder, as its ECDH does. */
	BN_set_flags(d, BN_FLG_CONSTTIME);
	if (EC_POINT_mul(g, q, d, NULL, NULL, bnctx) != 1 ||
	    EC_POINT_point2oct(g, q, POINT_CONVERSION_UNCOMPRESSED, pub,
	    sizeof(pub), bnctx) != 1 + 2 * flen ||
	    EC_POINT_mul(g, sh, NULL, pk, d, bnctx) != 1 ||
	    EC_POINT_is_at_infinity(g, sh) ||
	    EC_POINT_get_affine_coordinates(g, sh, bx, NULL, bnctx) != 1 ||
	    BN_bn2binpad(bx, z, (int)flen) != (int)flen) {
		pki_log_ssl(LOG_ERR, EV, "ECDH");
		goto out;
	}
	memcpy(qx, pub + 1, flen);
	memcpy(qy, pub + 1 + flen, flen);
	*coordlen = flen;
	rc = DV_OK;
out:
	BN_clear_free(d);
	BN_clear_free(bx);
	EC_POINT_clear_free(sh);
	EC_POINT_free(q);
	EC_POINT_free(pk);
	BN_CTX_free(bnctx);
	return rc;
}

/* True on a little-endian host. */
static bool
host_le(void)
{
	const uint16_t one = 1;

	return *(const uint8_t *)&one == 1;
}

enum dv_rc
pki_key_from_rsa(const uint8_t *n, size_t nlen, uint64_t e, EVP_PKEY **out)
{
	OSSL_PARAM params[3];
	EVP_PKEY_CTX *ctx;
	uint8_t *le;
	size_t i;
	bool zero = true;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	*out = NULL;
	if (nlen == 0 || nlen > INT_MAX) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 8017 §3.1: empty RSA modulus");
		return DV_ERR_BAD_KEY;
	}
	/* OSSL_PARAM integers are in native byte order
	 * (OSSL_PARAM_construct_BN): the big-endian modulus, reversed on a
	 * little-endian host, without a BIGNUM and a parameter builder in
	 * between */
	le = xmalloc(nlen);
	for (i = 0; i < nlen; i++) {
		le[i] = host_le() ? n[nlen - 1 - i] : n[i];
		zero = zero && n[i] == 0;
	}
	/* a zero modulus is no key (pki_spki_from_rsa refuses it too) */
	if (zero) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 8017 §3.1: zero RSA modulus");
		goto out;
	}
	params[0] = OSSL_PARAM_construct_BN(OSSL_PKEY_PARAM_RSA_N, le, nlen);
	params[1] = OSSL_PARAM_construct_uint64(OSSL_PKEY_PARAM_RSA_E, &e);
	params[2] = OSSL_PARAM_construct_end();
	if ((ctx = import_ctx(IMPORT_RSA)) == NULL ||
	    EVP_PKEY_fromdata(ctx, out, EVP_PKEY_PUBLIC_KEY, params) != 1) {
		*out = NULL;
		pki_log_ssl(LOG_INFO, EV, "RSA public key from n, e");
		goto out;
	}
	rc = DV_OK;
out:
	free(le);
	return rc;
}

enum dv_rc
pki_key_from_ec(const char *curve, const uint8_t *x, size_t xlen,
    const uint8_t *y, size_t ylen, EVP_PKEY **out)
{
	uint8_t pub[1 + 2 * DV_TPM_MAX_ECC_BYTES];
	const EC_GROUP *g;
	size_t publen;
	enum dv_rc rc;

	*out = NULL;
	/* on the curve and not at infinity: on the NIST curves (cofactor 1)
	 * that is the whole public key check; the full one adds a scalar
	 * multiplication by the order (0.5 ms on P-384) */
	if ((rc = pki_ec_point_oct(curve, x, xlen, y, ylen, pub, &publen,
	    &g)) != DV_OK)
		return rc;
	if ((*out = ec_key_build(OBJ_nid2sn(EC_GROUP_get_curve_name(g)), pub,
	    publen)) == NULL) {
		pki_log_ssl(LOG_INFO, EV, "SEC 1 §2.3.4: EC point not on %s",
		    curve);
		return DV_ERR_BAD_KEY;
	}
	return DV_OK;
}

enum dv_rc
pki_key_rsa_get(EVP_PKEY *k, uint8_t **n, size_t *nlen, uint64_t *e)
{
	BIGNUM *bn = NULL, *be = NULL;
	enum dv_rc rc = DV_ERR_BAD_KEY;
	BN_ULONG w;

	*n = NULL;
	*nlen = 0;
	*e = 0;
	if (!EVP_PKEY_is_a(k, "RSA")) {
		log_msg(LOG_DEBUG, EV, "{s:s}", "detail", "not an RSA key");
		return DV_ERR_BAD_KEY;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_N, &bn) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_RSA_E, &be) != 1 ||
	    BN_num_bytes(bn) <= 0 || BN_num_bits(be) > 64) {
		pki_log_ssl(LOG_INFO, EV, "not an RSA public key");
		goto out;
	}
	w = BN_get_word(be);
	*nlen = (size_t)BN_num_bytes(bn);
	*n = xmalloc(*nlen);
	BN_bn2bin(bn, *n);
	*e = (uint64_t)w;
	rc = DV_OK;
out:
	BN_free(bn);
	BN_free(be);
	return rc;
}

enum dv_rc
pki_key_ec_get(EVP_PKEY *k, const char **curve, uint8_t *x, uint8_t *y,
    size_t *coordlen)
{
	char group[64];
	BIGNUM *bx = NULL, *by = NULL;
	enum dv_rc rc = DV_ERR_BAD_KEY;
	size_t flen;
	int nid;

	*curve = NULL;
	*coordlen = 0;
	if (!EVP_PKEY_is_a(k, "EC")) {
		log_msg(LOG_DEBUG, EV, "{s:s}", "detail", "not an EC key");
		return DV_ERR_BAD_KEY;
	}
	if (EVP_PKEY_get_utf8_string_param(k, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, sizeof(group), NULL) != 1) {
		pki_log_ssl(LOG_INFO, EV, "not an EC key on a named curve");
		return DV_ERR_BAD_KEY;
	}
	switch ((nid = OBJ_sn2nid(group))) {
	case NID_X9_62_prime256v1:
		*curve = "P-256";
		flen = 32;
		break;
	case NID_secp384r1:
		*curve = "P-384";
		flen = 48;
		break;
	case NID_secp521r1:
		*curve = "P-521";
		flen = 66;
		break;
	default:
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "EC curve is not NIST P-256/384/521", "curve", group);
		return DV_ERR_BAD_KEY;
	}
	if (EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_X, &bx) != 1 ||
	    EVP_PKEY_get_bn_param(k, OSSL_PKEY_PARAM_EC_PUB_Y, &by) != 1 ||
	    BN_bn2binpad(bx, x, (int)flen) < 0 ||
	    BN_bn2binpad(by, y, (int)flen) < 0) {
		*curve = NULL;
		pki_log_ssl(LOG_INFO, EV, "EC public point");
		goto out;
	}
	*coordlen = flen;
	rc = DV_OK;
out:
	BN_free(bx);
	BN_free(by);
	return rc;
}

enum dv_rc
pki_ecdsa_sig_der(const uint8_t *r, size_t rlen, const uint8_t *s,
    size_t slen, uint8_t **der, size_t *derlen)
{
	ECDSA_SIG *es = NULL;
	BIGNUM *br = NULL, *bs = NULL;
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	*derlen = 0;
	if (rlen > INT_MAX || slen > INT_MAX)
		return DV_ERR_AK_SIGNATURE;
	if ((es = ECDSA_SIG_new()) == NULL)
		abort();
	if ((br = BN_bin2bn(r, (int)rlen, NULL)) == NULL ||
	    (bs = BN_bin2bn(s, (int)slen, NULL)) == NULL ||
	    ECDSA_SIG_set0(es, br, bs) != 1) {
		BN_free(br);
		BN_free(bs);
		ECDSA_SIG_free(es);
		pki_log_ssl(LOG_ERR, EV, "ECDSA_SIG_set0");
		return DV_ERR_CRYPTO;
	}
	n = i2d_ECDSA_SIG(es, &p);
	ECDSA_SIG_free(es);
	if (n <= 0) {
		pki_log_ssl(LOG_ERR, EV, "i2d_ECDSA_SIG");
		return DV_ERR_CRYPTO;
	}
	*der = pki_take_buf(p, (size_t)n);
	*derlen = (size_t)n;
	return DV_OK;
}

enum dv_rc
pki_tpm_verify(EVP_PKEY *k, enum pki_tpm_sig scheme, enum pki_hash h,
    const uint8_t *data, size_t len, const uint8_t *sig, size_t siglen,
    const uint8_t *r, size_t rlen, const uint8_t *s, size_t slen)
{
	const EVP_MD *md = hash_md(h);
	EVP_MD_CTX *ctx = NULL;
	EVP_PKEY_CTX *pctx = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0;
	bool rsa = scheme == PKI_TPM_SIG_RSASSA ||
	    scheme == PKI_TPM_SIG_RSAPSS;
	enum dv_rc rc;

	if (md == NULL || (unsigned)scheme >= PKI_TPM_SIG__MAX ||
	    !EVP_PKEY_is_a(k, rsa ? "RSA" : "EC")) {
		log_msg(LOG_DEBUG, EV, "{s:s}", "detail",
		    "signature scheme does not fit the key");
		return DV_ERR_AK_SIGNATURE;
	}
	if (!rsa) {
		if ((rc = pki_ecdsa_sig_der(r, rlen, s, slen, &der, &derlen))
		    != DV_OK)
			return rc;
		sig = der;
		siglen = derlen;
	}
	rc = DV_ERR_AK_SIGNATURE;
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestVerifyInit(ctx, &pctx, md, NULL, k) != 1 ||
	    (rsa && EVP_PKEY_CTX_set_rsa_padding(pctx,
	    scheme == PKI_TPM_SIG_RSAPSS ? RSA_PKCS1_PSS_PADDING :
	    RSA_PKCS1_PADDING) != 1) ||
	    (scheme == PKI_TPM_SIG_RSAPSS &&
	    EVP_PKEY_CTX_set_rsa_pss_saltlen(pctx, RSA_PSS_SALTLEN_AUTO) !=
	    1)) {
		pki_log_ssl(LOG_ERR, EV, "EVP_DigestVerifyInit");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	if (EVP_DigestVerify(ctx, sig, siglen, data, len) != 1) {
		/* the caller's input, logged by the caller with its clause */
		pki_log_ssl(LOG_DEBUG, EV, "EVP_DigestVerify");
		goto out;
	}
	rc = DV_OK;
out:
	EVP_MD_CTX_free(ctx);
	free(der);
	return rc;
}
