/*
 * key.c - key pairs, their PEM and SPKI encodings, and local signing.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/pkcs12.h>

#include "pki_int.h"

/* scrypt cost of encrypted key files (RFC 7914 §2): N = 2^14, r = 8, p = 1
 * is what `openssl pkcs8 -scrypt` uses and fits OpenSSL's default 32 MiB
 * scrypt memory ceiling when the key is read back (N = 2^15 does not). */
#define SCRYPT_N	16384
#define SCRYPT_R	8
#define SCRYPT_P	1

/* Longest key PEM read: an encrypted RSA-8192 key is about 6.6 KiB. */
#define KEY_PEM_MAX	(16 * 1024)

static const char *const key_names[PKI_KEY__MAX] = {
	[PKI_KEY_P256] = "p256",
	[PKI_KEY_P384] = "p384",
	[PKI_KEY_RSA2048] = "rsa2048",
	[PKI_KEY_RSA3072] = "rsa3072",
	[PKI_KEY_RSA4096] = "rsa4096",
	[PKI_KEY_ED25519] = "ed25519",
};

enum dv_rc
pki_key_type_parse(const char *s, enum pki_key_type *out)
{
	int i;

	for (i = 0; i < PKI_KEY__MAX; i++) {
		if (strcmp(s, key_names[i]) == 0) {
			*out = (enum pki_key_type)i;
			return DV_OK;
		}
	}
	log_msg(LOG_INFO, "pki.key.type", "{s:s,s:s}", "detail",
	    "unknown key type", "type", s);
	return DV_ERR_BAD_KEY;
}

const char *
pki_key_type_name(enum pki_key_type t)
{
	if ((unsigned)t >= PKI_KEY__MAX)
		return "unknown";
	return key_names[t];
}

enum dv_rc
pki_key_generate(enum pki_key_type t, EVP_PKEY **out)
{
	EVP_PKEY *k = NULL;

	*out = NULL;
	switch (t) {
	case PKI_KEY_P256:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
		break;
	case PKI_KEY_P384:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384");
		break;
	case PKI_KEY_RSA2048:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
		break;
	case PKI_KEY_RSA3072:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)3072);
		break;
	case PKI_KEY_RSA4096:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)4096);
		break;
	case PKI_KEY_ED25519:
		k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519");
		break;
	default:
		log_msg(LOG_ERR, "pki.key.generate", "{s:s}", "detail",
		    "unknown key type");
		return DV_ERR_BAD_KEY;
	}
	if (k == NULL) {
		pki_log_ssl(LOG_ERR, "pki.key.generate", "EVP_PKEY_Q_keygen %s",
		    key_names[t]);
		return DV_ERR_CRYPTO;
	}
	*out = k;
	return DV_OK;
}

void
pki_key_free(EVP_PKEY *k)
{
	EVP_PKEY_free(k);
}

EVP_PKEY *
pki_key_ref(EVP_PKEY *k)
{
	if (EVP_PKEY_up_ref(k) != 1)
		abort();	/* an atomic increment: cannot fail */
	return k;
}

enum dv_rc
pki_key_sig_alg(EVP_PKEY *k, enum pki_sig_alg *out)
{
	char group[32];

	if (EVP_PKEY_is_a(k, "EC")) {
		if (!EVP_PKEY_get_utf8_string_param(k,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL)) {
			ERR_clear_error();
			group[0] = '\0';
		}
		if (strcmp(group, "prime256v1") == 0 ||
		    strcmp(group, "P-256") == 0) {
			*out = PKI_SIG_ECDSA_SHA256;
			return DV_OK;
		}
		if (strcmp(group, "secp384r1") == 0 ||
		    strcmp(group, "P-384") == 0) {
			*out = PKI_SIG_ECDSA_SHA384;
			return DV_OK;
		}
	} else if (EVP_PKEY_is_a(k, "RSA")) {
		*out = PKI_SIG_RSA_SHA256;
		return DV_OK;
	} else if (EVP_PKEY_is_a(k, "ED25519")) {
		*out = PKI_SIG_ED25519;
		return DV_OK;
	}
	log_msg(LOG_ERR, "pki.key.sig_alg", "{s:s}", "detail",
	    "key is not EC P-256/P-384, RSA or Ed25519");
	return DV_ERR_BAD_KEY;
}

/* Copies a memory BIO's contents into a new NUL-terminated string. */
static char *
bio_to_str(BIO *b)
{
	char *data, *s;
	long n;

	n = BIO_get_mem_data(b, &data);
	if (n < 0)
		n = 0;
	s = xmalloc((size_t)n + 1);
	memcpy(s, data, (size_t)n);
	s[n] = '\0';
	return s;
}

enum dv_rc
pki_key_to_encrypted_pem(EVP_PKEY *k, const char *pass, char **pem)
{
	PKCS8_PRIV_KEY_INFO *p8inf = NULL;
	X509_ALGOR *pbe = NULL;
	X509_SIG *p8 = NULL;
	EVP_CIPHER *aes = NULL;
	BIO *b = NULL;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*pem = NULL;
	if ((aes = EVP_CIPHER_fetch(NULL, "AES-256-CBC", NULL)) == NULL ||
	    (p8inf = EVP_PKEY2PKCS8(k)) == NULL ||
	    (pbe = PKCS5_pbe2_set_scrypt(aes, NULL, 0, NULL, SCRYPT_N,
	    SCRYPT_R, SCRYPT_P)) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.key.encrypt", "PKCS#8 scrypt setup");
		goto out;
	}
	/* PKCS8_set0_pbe takes pbe only on success. */
	if ((p8 = PKCS8_set0_pbe(pass, (int)strlen(pass), p8inf, pbe)) ==
	    NULL) {
		pki_log_ssl(LOG_ERR, "pki.key.encrypt", "PKCS8_set0_pbe");
		goto out;
	}
	pbe = NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PKCS8(b, p8)) {
		pki_log_ssl(LOG_ERR, "pki.key.encrypt", "PEM_write_bio_PKCS8");
		goto out;
	}
	*pem = bio_to_str(b);
	rc = DV_OK;
out:
	BIO_free(b);
	X509_SIG_free(p8);
	X509_ALGOR_free(pbe);
	PKCS8_PRIV_KEY_INFO_free(p8inf);
	EVP_CIPHER_free(aes);
	return rc;
}

/* PEM password callback: the password given, never a terminal prompt. */
static int
pem_pass_cb(char *buf, int size, int rwflag, void *u)
{
	const char *pass = u;
	size_t n;

	if (pass == NULL)
		return -1;
	n = strlen(pass);
	if (n > (size_t)size)
		return -1;
	memcpy(buf, pass, n);
	return (int)n;
}

enum dv_rc
pki_key_from_pem(const char *pem, size_t len, const char *pass,
    EVP_PKEY **out)
{
	EVP_PKEY *k = NULL;
	BIO *b = NULL;

	*out = NULL;
	if (len > KEY_PEM_MAX)
		return DV_ERR_TOO_LARGE;
	if ((b = BIO_new_mem_buf(pem, (int)len)) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.key.read", "BIO_new_mem_buf");
		return DV_ERR_CRYPTO;
	}
	k = PEM_read_bio_PrivateKey(b, NULL, pem_pass_cb, (void *)pass);
	BIO_free(b);
	if (k == NULL) {
		pki_log_ssl(LOG_ERR, "pki.key.read",
		    "not a private key, or wrong password");
		return DV_ERR_BAD_KEY;
	}
	*out = k;
	return DV_OK;
}

enum dv_rc
pki_key_to_pem(EVP_PKEY *k, char **pem)
{
	BIO *b;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*pem = NULL;
	if ((b = BIO_new(BIO_s_mem())) == NULL ||
	    !PEM_write_bio_PrivateKey(b, k, NULL, NULL, 0, NULL, NULL)) {
		pki_log_ssl(LOG_ERR, "pki.key.pem", "PEM_write_bio_PrivateKey");
		goto out;
	}
	*pem = bio_to_str(b);
	rc = DV_OK;
out:
	BIO_free(b);
	return rc;
}

enum dv_rc
pki_key_spki_der(EVP_PKEY *k, uint8_t **der, size_t *len)
{
	unsigned char *p = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if ((n = i2d_PUBKEY(k, &p)) <= 0) {
		pki_log_ssl(LOG_ERR, "pki.key.spki", "i2d_PUBKEY");
		return DV_ERR_CRYPTO;
	}
	*der = pki_take_buf(p, (size_t)n);
	*len = (size_t)n;
	return DV_OK;
}

enum dv_rc
pki_key_from_spki(const uint8_t *der, size_t len, EVP_PKEY **out)
{
	const unsigned char *p = der;
	EVP_PKEY *k;

	*out = NULL;
	if (len > DV_MAX_DER)
		return DV_ERR_TOO_LARGE;
	k = d2i_PUBKEY(NULL, &p, (long)len);
	if (k == NULL || p != der + len) {
		pki_log_ssl(LOG_INFO, "pki.key.spki",
		    "RFC 5280 §4.1.2.7: bad SubjectPublicKeyInfo");
		EVP_PKEY_free(k);
		return DV_ERR_BAD_KEY;
	}
	*out = k;
	return DV_OK;
}

/* The digest of a, NULL for Ed25519 (RFC 8032 PureEdDSA hashes itself). */
static bool
sig_alg_md(EVP_PKEY *k, enum pki_sig_alg a, const EVP_MD **md)
{
	switch (a) {
	case PKI_SIG_ECDSA_SHA256:
		*md = pki_md(PKI_MD_SHA256);
		return EVP_PKEY_is_a(k, "EC");
	case PKI_SIG_ECDSA_SHA384:
		*md = pki_md(PKI_MD_SHA384);
		return EVP_PKEY_is_a(k, "EC");
	case PKI_SIG_RSA_SHA256:
		*md = pki_md(PKI_MD_SHA256);
		return EVP_PKEY_is_a(k, "RSA");
	case PKI_SIG_ED25519:
		*md = NULL;
		return EVP_PKEY_is_a(k, "ED25519");
	default:
		return false;
	}
}

enum dv_rc
pki_sign_data(EVP_PKEY *k, enum pki_sig_alg a, const uint8_t *data,
    size_t len, uint8_t **sig, size_t *siglen)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	uint8_t *s = NULL;
	size_t n = 0;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*sig = NULL;
	*siglen = 0;
	if (!sig_alg_md(k, a, &md)) {
		log_msg(LOG_ERR, "pki.sign", "{s:s}", "detail",
		    "signature algorithm does not fit the key");
		return DV_ERR_BAD_KEY;
	}
	/* EVP_DigestSign is one-shot only: Ed25519 cannot stream. */
	if ((ctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(ctx, NULL, md, NULL, k) != 1 ||
	    EVP_DigestSign(ctx, NULL, &n, data, len) != 1) {
		pki_log_ssl(LOG_ERR, "pki.sign", "EVP_DigestSignInit");
		goto out;
	}
	s = xmalloc(n);
	if (EVP_DigestSign(ctx, s, &n, data, len) != 1) {
		pki_log_ssl(LOG_ERR, "pki.sign", "EVP_DigestSign");
		free(s);
		goto out;
	}
	*sig = s;
	*siglen = n;
	rc = DV_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

/* The digest of a without a key at hand; NULL for Ed25519 or a bad a. */
static const EVP_MD *
sig_alg_md_only(enum pki_sig_alg a)
{
	switch (a) {
	case PKI_SIG_ECDSA_SHA256:
	case PKI_SIG_RSA_SHA256:
		return pki_md(PKI_MD_SHA256);
	case PKI_SIG_ECDSA_SHA384:
		return pki_md(PKI_MD_SHA384);
	default:
		return NULL;
	}
}

enum dv_rc
pki_sig_digest(enum pki_sig_alg a, const uint8_t *data, size_t len,
    uint8_t *md, size_t *mdlen)
{
	const EVP_MD *m = sig_alg_md_only(a);
	unsigned int n = 0;

	*mdlen = 0;
	if (m == NULL)
		return DV_ERR_BAD_KEY;
	if (!EVP_Digest(data, len, md, &n, m, NULL)) {
		pki_log_ssl(LOG_ERR, "pki.sign", "EVP_Digest");
		return DV_ERR_CRYPTO;
	}
	*mdlen = n;
	return DV_OK;
}

struct pki_sign_ctx {
	EVP_PKEY_CTX	*ctx;		/* owned: sign_init done, md set */
	size_t		 mdlen;		/* the digest length it signs */
	size_t		 maxsig;	/* EVP_PKEY_get_size of the key */
};

void
pki_sign_ctx_free(struct pki_sign_ctx *c)
{
	if (c == NULL)
		return;
	EVP_PKEY_CTX_free(c->ctx);
	free(c);
}

enum dv_rc
pki_sign_ctx_new(EVP_PKEY *k, enum pki_sig_alg a, struct pki_sign_ctx **out)
{
	struct pki_sign_ctx *c;
	const EVP_MD *m;
	int size;

	*out = NULL;
	if (!sig_alg_md(k, a, &m) || m == NULL || (size = EVP_PKEY_get_size(k))
	    <= 0) {
		log_msg(LOG_ERR, "pki.sign", "{s:s}", "detail",
		    "no digest signature algorithm for the key");
		return DV_ERR_BAD_KEY;
	}
	c = xcalloc(1, sizeof(*c));
	c->mdlen = (size_t)EVP_MD_get_size(m);
	c->maxsig = (size_t)size;
	/* RSA: PKCS#1 v1.5 padding with the DigestInfo of m (the default) */
	if ((c->ctx = EVP_PKEY_CTX_new_from_pkey(NULL, k, NULL)) == NULL ||
	    EVP_PKEY_sign_init(c->ctx) != 1 ||
	    EVP_PKEY_CTX_set_signature_md(c->ctx, m) != 1) {
		pki_log_ssl(LOG_ERR, "pki.sign", "EVP_PKEY_sign_init");
		pki_sign_ctx_free(c);
		return DV_ERR_CRYPTO;
	}
	*out = c;
	return DV_OK;
}

enum dv_rc
pki_sign_ctx_digest(struct pki_sign_ctx *c, const uint8_t *md, size_t mdlen,
    uint8_t **sig, size_t *siglen)
{
	uint8_t *s;
	size_t n = c->maxsig;

	*sig = NULL;
	*siglen = 0;
	if (mdlen != c->mdlen) {
		log_msg(LOG_ERR, "pki.sign", "{s:s}", "detail",
		    "digest does not fit the key's signature algorithm");
		return DV_ERR_BAD_KEY;
	}
	/* EVP_PKEY_get_size is the largest signature: no size query */
	s = xmalloc(n);
	if (EVP_PKEY_sign(c->ctx, s, &n, md, mdlen) != 1) {
		pki_log_ssl(LOG_ERR, "pki.sign", "EVP_PKEY_sign");
		free(s);
		return DV_ERR_CRYPTO;
	}
	*sig = s;
	*siglen = n;
	return DV_OK;
}

enum dv_rc
pki_sign_digest(EVP_PKEY *k, enum pki_sig_alg a, const uint8_t *md,
    size_t mdlen, uint8_t **sig, size_t *siglen)
{
	struct pki_sign_ctx *c;
	enum dv_rc rc;

	*sig = NULL;
	*siglen = 0;
	if ((rc = pki_sign_ctx_new(k, a, &c)) != DV_OK)
		return rc;
	rc = pki_sign_ctx_digest(c, md, mdlen, sig, siglen);
	pki_sign_ctx_free(c);
	return rc;
}

enum dv_rc
pki_verify_data(EVP_PKEY *k, enum pki_sig_alg a, const uint8_t *data,
    size_t len, const uint8_t *sig, size_t siglen)
{
	EVP_MD_CTX *ctx = NULL;
	const EVP_MD *md;
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	if (!sig_alg_md(k, a, &md)) {
		log_msg(LOG_INFO, "pki.verify", "{s:s}", "detail",
		    "signature algorithm does not fit the key");
		return DV_ERR_BAD_KEY;
	}
	if ((ctx = EVP_MD_CTX_new()) == NULL)
		abort();
	if (EVP_DigestVerifyInit(ctx, NULL, md, NULL, k) != 1 ||
	    EVP_DigestVerify(ctx, sig, siglen, data, len) != 1) {
		/* a bad signature is the caller's input, not our fault */
		pki_log_ssl(LOG_DEBUG, "pki.verify", "EVP_DigestVerify");
		goto out;
	}
	rc = DV_OK;
out:
	EVP_MD_CTX_free(ctx);
	return rc;
}

enum dv_rc
pki_key_ed25519_from_raw(const uint8_t x[32], const uint8_t *d,
    EVP_PKEY **out)
{
	*out = d != NULL ?
	    EVP_PKEY_new_raw_private_key(EVP_PKEY_ED25519, NULL, d, 32) :
	    EVP_PKEY_new_raw_public_key(EVP_PKEY_ED25519, NULL, x, 32);
	if (*out == NULL) {
		pki_log_ssl(LOG_INFO, "pki.key", "EVP_PKEY_new_raw_key");
		return DV_ERR_BAD_KEY;
	}
	if (d != NULL) {
		uint8_t pub[32];
		size_t n = sizeof(pub);

		/* the private seed determines x: refuse a JWK whose x lies */
		if (EVP_PKEY_get_raw_public_key(*out, pub, &n) != 1 ||
		    n != 32 || memcmp(pub, x, 32) != 0) {
			ERR_clear_error();
			EVP_PKEY_free(*out);
			*out = NULL;
			log_msg(LOG_INFO, "pki.key", "{s:s}", "detail",
			    "RFC 8037 §2: Ed25519 x does not match d");
			return DV_ERR_BAD_KEY;
		}
	}
	return DV_OK;
}

enum dv_rc
pki_key_ed25519_to_raw(EVP_PKEY *k, uint8_t x[32], uint8_t *d)
{
	size_t n = 32;

	if (EVP_PKEY_get_base_id(k) != EVP_PKEY_ED25519 ||
	    EVP_PKEY_get_raw_public_key(k, x, &n) != 1 || n != 32) {
		ERR_clear_error();
		return DV_ERR_BAD_KEY;
	}
	n = 32;
	if (d != NULL && (EVP_PKEY_get_raw_private_key(k, d, &n) != 1 ||
	    n != 32)) {
		ERR_clear_error();
		return DV_ERR_BAD_KEY;
	}
	return DV_OK;
}

static enum dv_rc
signer_local_sign(void *arg, const uint8_t *tbs, size_t len, uint8_t **sig,
    size_t *siglen)
{
	enum pki_sig_alg a;
	enum dv_rc rc;

	*sig = NULL;
	*siglen = 0;
	if ((rc = pki_key_sig_alg(arg, &a)) != DV_OK)
		return rc;
	return pki_sign_data(arg, a, tbs, len, sig, siglen);
}

void
pki_signer_local(EVP_PKEY *k, struct pki_signer *out)
{
	memset(out, 0, sizeof(*out));
	if (pki_key_sig_alg(k, &out->alg) != DV_OK)
		out->alg = PKI_SIG__MAX;	/* sign() will refuse */
	out->sign = signer_local_sign;
	out->arg = k;
}
