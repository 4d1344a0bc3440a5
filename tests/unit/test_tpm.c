/*
 * test_tpm.c - unit tests of src/tpm and the TPM crypto of src/pki:
 *  - every known-answer vector of shared/data/tpm-kat bit-exact: KDFa and
 *    KDFe (100 each), RSA and ECC labeled secret sharing (100 each, all
 *    labels), the go-tpm MakeCredential vectors (RSA-2048, P-256);
 *  - the random (production) MakeCredential path activated in software by
 *    an independent ActivateCredential written here with OpenSSL's own
 *    OAEP decryption and ECDH (Part 1 §24), for RSA 2048/3072 and
 *    P-256/P-384 EKs, and with the private keys of the labeled vectors;
 *  - the real-TPM AK parameters of shared/data/ak-params pass
 *    tpm_ak_check; negative variants fail with their codes, truncation at
 *    every offset and a trailing byte fail as DV_ERR_TPM_STRUCT;
 *  - AKs and EKs made on swtpm (kept as fuzz seeds): the AKs pass, the EK
 *    template assumed for an SPKI equals swtpm's RSA, P-256 and P-384 EKs.
 * The data directory is $DEVID_SHARED/data, the seeds $DEVID_SRC/fuzz
 * (CMake sets both).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/ec.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>

#include "pki/pki.h"
#include "tpm/tpm.h"
#include "tpm/tpm_int.h"

/* ---- helpers ------------------------------------------------------------ */

static json_t *
load_json(const char *rel)
{
	const char *shared = getenv("DEVID_SHARED");
	json_error_t e;
	json_t *j;
	char *path;

	path = xasprintf("%s/data/%s", shared != NULL ? shared :
	    "../shared", rel);
	j = json_load_file(path, 0, &e);
	if (j == NULL)
		fail_msg("%s: %s", path, e.text);
	free(path);
	return j;
}

static uint8_t *
hexv(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	uint8_t *out = NULL;

	assert_non_null(s);
	if (*s == '\0') {
		*len = 0;
		return xmalloc(1);
	}
	assert_int_equal(hex_decode(s, &out, len), DV_OK);
	return out;
}

static uint8_t *
b64v(const json_t *o, const char *key, size_t *len)
{
	const char *s = json_string_value(json_object_get(o, key));
	uint8_t *out = NULL;

	assert_non_null(s);
	assert_int_equal(pki_b64_decode(s, strlen(s), &out, len), DV_OK);
	return out;
}

static enum pki_hash
hash_of(json_int_t alg)
{
	enum pki_hash h = PKI_HASH__MAX;

	assert_true(tpm_hash_of((uint16_t)alg, &h));
	return h;
}

static void
assert_bytes(const uint8_t *got, size_t gotlen, const uint8_t *want,
    size_t wantlen, const char *what)
{
	if (gotlen != wantlen || memcmp(got, want, wantlen) != 0) {
		char *g = hex_encode(got, gotlen), *w = hex_encode(want,
		    wantlen);

		print_error("%s:\n got  %s\n want %s\n", what, g, w);
		free(g);
		free(w);
		fail();
	}
}

/* SPKI DER of a PEM public key. */
static uint8_t *
pem_to_spki(const char *pem, size_t *len)
{
	BIO *b = BIO_new_mem_buf(pem, -1);
	EVP_PKEY *k = PEM_read_bio_PUBKEY(b, NULL, NULL, NULL);
	uint8_t *der = NULL;

	assert_non_null(k);
	assert_int_equal(pki_key_spki_der(k, &der, len), DV_OK);
	EVP_PKEY_free(k);
	BIO_free(b);
	return der;
}

/* ---- KDFs --------------------------------------------------------------- */

static void
kdf_file(const char *file, bool kdfe, const int counts[4])
{
	json_t *all = load_json(file), *v;
	int seen[4] = { 0 };
	size_t i;

	assert_int_equal(json_array_size(all), 100);
	json_array_foreach(all, i, v) {
		size_t klen, ulen, vlen, rlen;
		uint8_t *k = hexv(v, kdfe ? "Z" : "Key", &klen);
		uint8_t *u = hexv(v, "ContextU", &ulen);
		uint8_t *cv = hexv(v, "ContextV", &vlen);
		uint8_t *want = hexv(v, "Result", &rlen);
		uint32_t bits = (uint32_t)json_integer_value(
		    json_object_get(v, "Bits"));
		enum pki_hash h = hash_of(json_integer_value(
		    json_object_get(v, "HashAlg")));
		const char *label = json_string_value(json_object_get(v,
		    "Label"));
		uint8_t *got = xcalloc(1, (bits + 7) / 8);

		seen[h]++;
		assert_int_equal(kdfe ?
		    pki_tpm_kdfe(h, k, klen, label, u, ulen, cv, vlen, bits,
		    got) :
		    pki_tpm_kdfa(h, k, klen, label, u, ulen, cv, vlen, bits,
		    got), DV_OK);
		assert_bytes(got, (bits + 7) / 8, want, rlen,
		    json_string_value(json_object_get(v, "Name")));
		free(got);
		free(k);
		free(u);
		free(cv);
		free(want);
	}
	for (i = 0; i < 4; i++)
		assert_int_equal(seen[i], counts[i]);
	json_decref(all);
}

static void
test_kdfa(void **state)
{
	static const int counts[4] = { 27, 27, 24, 22 };

	kdf_file("tpm-kat/kdfa.json", false, counts);
}

static void
test_kdfe(void **state)
{
	static const int counts[4] = { 22, 23, 28, 27 };

	kdf_file("tpm-kat/kdfe.json", true, counts);
}

/* ---- private keys of the labeled vectors (decrypt oracle) --------------- */

/* The EK private key from TPMT_PUBLIC + TPMT_SENSITIVE: RSA from the prime
 * p (q = n/p, d = e^-1 mod (p-1)(q-1)); ECC from the scalar. */
static EVP_PKEY *
private_key(const struct tpm_public *pub, const uint8_t *sens, size_t len)
{
	OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
	OSSL_PARAM *params;
	EVP_PKEY_CTX *ctx;
	EVP_PKEY *k = NULL;
	TPMT_SENSITIVE s;
	size_t off = 0;

	memset(&s, 0, sizeof(s));
	assert_int_equal(Tss2_MU_TPMT_SENSITIVE_Unmarshal(sens, len, &off, &s),
	    0);
	assert_int_equal(off, len);
	if (pub->type == TPM_ALG_RSA) {
		BN_CTX *bc = BN_CTX_new();
		BIGNUM *n = BN_bin2bn(pub->unique, (int)pub->uniquelen, NULL);
		BIGNUM *e = BN_new(), *p, *q = BN_new(), *r = BN_new();
		BIGNUM *phi = BN_new(), *d = BN_new(), *p1 = BN_new();
		BIGNUM *q1 = BN_new();

		p = BN_bin2bn(s.sensitive.rsa.buffer, s.sensitive.rsa.size,
		    NULL);
		BN_set_word(e, pub->rsa_exponent);
		assert_int_equal(BN_div(q, r, n, p, bc), 1);
		assert_true(BN_is_zero(r));
		BN_sub(p1, p, BN_value_one());
		BN_sub(q1, q, BN_value_one());
		BN_mul(phi, p1, q1, bc);
		assert_non_null(BN_mod_inverse(d, e, phi, bc));
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_N, n);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_E, e);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_RSA_D, d);
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "RSA", NULL);
		BN_free(n);
		BN_free(e);
		BN_free(p);
		BN_free(q);
		BN_free(r);
		BN_free(phi);
		BN_free(d);
		BN_free(p1);
		BN_free(q1);
		BN_CTX_free(bc);
	} else {
		static const char *groups[] = { [TPM_ECC_NIST_P256] =
		    "P-256", [TPM_ECC_NIST_P384] = "P-384",
		    [TPM_ECC_NIST_P521] = "P-521" };
		uint8_t pt[1 + 2 * 66];
		BIGNUM *d = BN_bin2bn(s.sensitive.ecc.buffer,
		    s.sensitive.ecc.size, NULL);

		pt[0] = 4;
		memcpy(pt + 1, pub->unique, pub->uniquelen);
		OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, groups[pub->curve], 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pt, 1 + pub->uniquelen);
		OSSL_PARAM_BLD_push_BN(bld, OSSL_PKEY_PARAM_PRIV_KEY, d);
		params = OSSL_PARAM_BLD_to_param(bld);
		ctx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL);
		BN_free(d);
	}
	assert_int_equal(EVP_PKEY_fromdata_init(ctx), 1);
	assert_int_equal(EVP_PKEY_fromdata(ctx, &k, EVP_PKEY_KEYPAIR, params),
	    1);
	EVP_PKEY_CTX_free(ctx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	return k;
}

static const EVP_MD *
evp_md(enum pki_hash h)
{
	static const char *names[PKI_HASH__MAX] = { [PKI_HASH_SHA1] = "SHA1",
	    [PKI_HASH_SHA256] = "SHA256", [PKI_HASH_SHA384] = "SHA384",
	    [PKI_HASH_SHA512] = "SHA512" };

	return EVP_get_digestbyname(names[h]);
}

/*
 * The TPM side of secret sharing, with OpenSSL's own primitives: RSA-OAEP
 * decryption with the label, or ECDH of the EK private key with the
 * ephemeral point + KDFe.  Writes the recovered seed.
 */
static void
seed_unshare(const struct tpm_public *pub, EVP_PKEY *priv, const char *label,
    const uint8_t *ct, size_t ctlen, uint8_t *seed, size_t *seedlen)
{
	enum pki_hash h = hash_of(pub->name_alg);
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new(priv, NULL);

	if (pub->type == TPM_ALG_RSA) {
		enum pki_hash oh = pub->scheme == TPM_ALG_OAEP ?
		    hash_of(pub->scheme_hash) : h;
		size_t n = 512;
		uint8_t out[512];

		assert_int_equal(EVP_PKEY_decrypt_init(ctx), 1);
		EVP_PKEY_CTX_set_rsa_padding(ctx, RSA_PKCS1_OAEP_PADDING);
		EVP_PKEY_CTX_set_rsa_oaep_md(ctx, evp_md(oh));
		EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, evp_md(oh));
		EVP_PKEY_CTX_set0_rsa_oaep_label(ctx,
		    OPENSSL_memdup(label, strlen(label) + 1),
		    (int)strlen(label) + 1);
		assert_int_equal(EVP_PKEY_decrypt(ctx, out, &n, ct, ctlen), 1);
		memcpy(seed, out, n);
		*seedlen = n;
	} else {
		size_t flen = ((size_t)ct[0] << 8) | ct[1], zlen = 66;
		uint8_t pt[1 + 2 * 66], z[66];
		EVP_PKEY *eph = NULL;
		EVP_PKEY_CTX *ectx = EVP_PKEY_CTX_new_from_name(NULL, "EC",
		    NULL);
		OSSL_PARAM_BLD *bld = OSSL_PARAM_BLD_new();
		OSSL_PARAM *params;
		char group[32];

		assert_int_equal(ctlen, 4 + 2 * flen);
		pt[0] = 4;
		memcpy(pt + 1, ct + 2, flen);
		memcpy(pt + 1 + flen, ct + 4 + flen, flen);
		EVP_PKEY_get_utf8_string_param(priv,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL);
		OSSL_PARAM_BLD_push_utf8_string(bld,
		    OSSL_PKEY_PARAM_GROUP_NAME, group, 0);
		OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY,
		    pt, 1 + 2 * flen);
		params = OSSL_PARAM_BLD_to_param(bld);
		assert_int_equal(EVP_PKEY_fromdata_init(ectx), 1);
		assert_int_equal(EVP_PKEY_fromdata(ectx, &eph,
		    EVP_PKEY_PUBLIC_KEY, params), 1);
		assert_int_equal(EVP_PKEY_derive_init(ctx), 1);
		assert_int_equal(EVP_PKEY_derive_set_peer(ctx, eph), 1);
		assert_int_equal(EVP_PKEY_derive(ctx, z, &zlen), 1);
		assert_int_equal(pki_tpm_kdfe(h, z, zlen, label, ct + 2, flen,
		    pub->unique, pub->xlen, (uint32_t)(8 * pki_hash_size(h)),
		    seed), DV_OK);
		*seedlen = pki_hash_size(h);
		EVP_PKEY_free(eph);
		EVP_PKEY_CTX_free(ectx);
		OSSL_PARAM_free(params);
		OSSL_PARAM_BLD_free(bld);
	}
	EVP_PKEY_CTX_free(ctx);
}

/* ---- labeled secret sharing --------------------------------------------- */

static void
encaps_file(const char *file, bool rsa)
{
	json_t *all = load_json(file), *v;
	int identity = 0, oracle = 0;
	size_t i;

	assert_int_equal(json_array_size(all), 100);
	json_array_foreach(all, i, v) {
		const char *name = json_string_value(json_object_get(v,
		    "Name"));
		const char *label = json_string_value(json_object_get(v,
		    "Label"));
		size_t publen, seclen, ctlen, fixlen, privlen, gotseedlen;
		size_t gotctlen, rseedlen;
		uint8_t *pub = hexv(v, "PublicKey", &publen);
		uint8_t *secret = hexv(v, "Secret", &seclen);
		uint8_t *ct = hexv(v, "Ciphertext", &ctlen);
		uint8_t *priv = hexv(v, "PrivateKey", &privlen);
		uint8_t *fix = hexv(v, rsa ? "OAEPSalt" : "EphemeralPrivate",
		    &fixlen);
		uint8_t gotseed[TPM_DIGEST_MAX], rseed[512], *gotct = NULL;
		struct tpm_fixed f = { 0 };
		struct tpm_public *p = NULL;
		EVP_PKEY *k;

		assert_int_equal(tpm_public_parse(pub, publen, &p), DV_OK);
		assert_int_equal(p->type, rsa ? TPM_ALG_RSA : TPM_ALG_ECC);
		if (rsa) {
			f.seed = secret;
			f.seedlen = seclen;
			f.oaep_seed = fix;
		} else {
			f.ecc_priv = fix;
			f.ecc_privlen = fixlen;
		}
		assert_int_equal(tpm_secret_share(p, label, &f, gotseed,
		    &gotseedlen, &gotct, &gotctlen), DV_OK);
		assert_bytes(gotct, gotctlen, ct, ctlen, name);
		assert_bytes(gotseed, gotseedlen, secret, seclen, name);
		free(gotct);
		gotct = NULL;
		identity += strcmp(label, "IDENTITY") == 0;

		/* the random path, recovered with the private key */
		k = private_key(p, priv, privlen);
		assert_int_equal(tpm_secret_share(p, label, NULL, gotseed,
		    &gotseedlen, &gotct, &gotctlen), DV_OK);
		seed_unshare(p, k, label, gotct, gotctlen, rseed, &rseedlen);
		assert_bytes(rseed, rseedlen, gotseed, gotseedlen, name);
		oracle++;
		/* and the vector's own ciphertext, for good measure */
		seed_unshare(p, k, label, ct, ctlen, rseed, &rseedlen);
		assert_bytes(rseed, rseedlen, secret, seclen, name);
		EVP_PKEY_free(k);
		free(gotct);
		tpm_public_free(p);
		free(pub);
		free(secret);
		free(ct);
		free(priv);
		free(fix);
	}
	assert_int_equal(identity, rsa ? 36 : 30);
	assert_int_equal(oracle, 100);
	json_decref(all);
}

static void
test_rsa_encaps(void **state)
{
	encaps_file("tpm-kat/rsa_labeled_encaps.json", true);
}

static void
test_ecc_encaps(void **state)
{
	encaps_file("tpm-kat/ecc_labeled_encaps.json", false);
}

/* ---- MakeCredential ----------------------------------------------------- */

static void
test_makecredential_kat(void **state)
{
	json_t *kat = load_json("tpm-kat/makecredential_kat.json"), *v;
	size_t namelen, seclen, i, n = 0;
	uint8_t *name = hexv(kat, "ak_name_hex", &namelen);
	uint8_t *secret = hexv(kat, "secret_hex", &seclen);

	json_array_foreach(json_object_get(kat, "vectors"), i, v) {
		const char *id = json_string_value(json_object_get(v, "id"));
		size_t spkilen, wantlen, credlen, eslen, fixlen, oslen;
		uint8_t *spki = pem_to_spki(json_string_value(
		    json_object_get(v, "ek_public_pem")), &spkilen);
		uint8_t *want = b64v(v, "expected_b64", &wantlen);
		uint8_t *cred = NULL, *es = NULL, *fix, *os = NULL, *all;
		struct tpm_public *ek = NULL;
		struct tpm_fixed f = { 0 };
		char *urn = NULL;

		assert_int_equal(tpm_ek_from_spki(spki, spkilen, &ek), DV_OK);
		assert_int_equal(ek->name_alg, TPM_ALG_SHA256);
		assert_int_equal(ek->sym_bits, 128);
		if (strcmp(id, "rsa2048_ek") == 0) {
			fix = hexv(v, "seed_hex", &fixlen);
			os = hexv(v, "oaep_seed_hex", &oslen);
			f.seed = fix;
			f.seedlen = fixlen;
			f.oaep_seed = os;
			/* spec §2.5 example: go-tpm's test RSA EK */
			assert_int_equal(tpm_ek_urn(ek, &urn), DV_OK);
			assert_string_equal(urn, "urn:ek:sha256:b3A5sfcHCEIsgge"
			    "qR2BUSWfJSbNT++q/4ghmBNZt7ew=");
			free(urn);
		} else {
			fix = hexv(v, "ephemeral_private_key_hex", &fixlen);
			f.ecc_priv = fix;
			f.ecc_privlen = fixlen;
		}
		assert_int_equal(tpm_make_credential_fixed(ek, name, namelen,
		    secret, seclen, &f, &cred, &credlen, &es, &eslen), DV_OK);
		all = xmalloc(credlen + eslen);
		memcpy(all, cred, credlen);
		memcpy(all + credlen, es, eslen);
		assert_int_equal(credlen + eslen, json_integer_value(
		    json_object_get(v, "expected_len")));
		assert_bytes(all, credlen + eslen, want, wantlen, id);
		n++;
		free(all);
		free(cred);
		free(es);
		free(fix);
		free(os);
		free(want);
		free(spki);
		tpm_public_free(ek);
	}
	assert_int_equal(n, 2);
	free(name);
	free(secret);
	json_decref(kat);
}

/*
 * ActivateCredential in software (TPM 2.0 Part 1 §24; ms-tpm
 * CredentialToSecret): recover the seed with the EK private key, check
 * the outer HMAC over encIdentity || name, decrypt, unmarshal the
 * TPM2B_DIGEST.  Returns the secret length (0 on an integrity failure).
 */
static size_t
activate(const struct tpm_public *ek, EVP_PKEY *priv, const uint8_t *name,
    size_t namelen, const uint8_t *cred, size_t credlen, const uint8_t *es,
    size_t eslen, uint8_t *out)
{
	enum pki_hash h = hash_of(ek->name_alg);
	size_t hlen = pki_hash_size(h), seedlen, enclen;
	uint8_t seed[512], symkey[32], hmackey[64], md[64], plain[128];
	EVP_CIPHER_CTX *c;
	int n = 0;

	assert_int_equal(((size_t)cred[0] << 8 | cred[1]), credlen - 2);
	assert_int_equal(((size_t)es[0] << 8 | es[1]), eslen - 2);
	assert_int_equal(((size_t)cred[2] << 8 | cred[3]), hlen);
	seed_unshare(ek, priv, "IDENTITY", es + 2, eslen - 2, seed, &seedlen);
	enclen = credlen - 4 - hlen;
	assert_int_equal(pki_tpm_kdfa(h, seed, seedlen, "INTEGRITY", NULL, 0,
	    NULL, 0, (uint32_t)(8 * hlen), hmackey), DV_OK);
	assert_int_equal(pki_hmac(h, hmackey, hlen, cred + 4 + hlen, enclen,
	    name, namelen, md), DV_OK);
	if (memcmp(md, cred + 4, hlen) != 0)
		return 0;
	assert_int_equal(pki_tpm_kdfa(h, seed, seedlen, "STORAGE", name,
	    namelen, NULL, 0, ek->sym_bits, symkey), DV_OK);
	c = EVP_CIPHER_CTX_new();
	assert_int_equal(EVP_DecryptInit_ex(c, ek->sym_bits == 128 ?
	    EVP_aes_128_cfb128() : EVP_aes_256_cfb128(), NULL, symkey,
	    (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0"), 1);
	assert_int_equal(EVP_DecryptUpdate(c, plain, &n, cred + 4 + hlen,
	    (int)enclen), 1);
	EVP_CIPHER_CTX_free(c);
	assert_int_equal((size_t)n, enclen);
	assert_int_equal(((size_t)plain[0] << 8 | plain[1]), enclen - 2);
	memcpy(out, plain + 2, enclen - 2);
	return enclen - 2;
}

static void
roundtrip(const char *alg, const char *opt, uint16_t name_alg,
    uint16_t sym_bits)
{
	static const uint8_t name[34] = { 0x00, 0x0b, 1, 2, 3, 4, 5 };
	EVP_PKEY_CTX *ctx = EVP_PKEY_CTX_new_from_name(NULL, alg, NULL);
	EVP_PKEY *k = NULL;
	uint8_t secret[32], got[64], *spki = NULL, *cred = NULL, *es = NULL;
	size_t spkilen, credlen, eslen;
	struct tpm_public *ek = NULL;

	assert_int_equal(EVP_PKEY_keygen_init(ctx), 1);
	if (strcmp(alg, "RSA") == 0)
		EVP_PKEY_CTX_set_rsa_keygen_bits(ctx, atoi(opt));
	else
		EVP_PKEY_CTX_set_group_name(ctx, opt);
	assert_int_equal(EVP_PKEY_keygen(ctx, &k), 1);
	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	assert_int_equal(tpm_ek_from_spki(spki, spkilen, &ek), DV_OK);
	assert_int_equal(ek->name_alg, name_alg);
	assert_int_equal(ek->sym_bits, sym_bits);
	assert_int_equal(pki_random(secret, sizeof(secret)), DV_OK);
	assert_int_equal(tpm_make_credential(ek, name, sizeof(name), secret,
	    sizeof(secret), &cred, &credlen, &es, &eslen), DV_OK);
	assert_int_equal(activate(ek, k, name, sizeof(name), cred, credlen,
	    es, eslen, got), sizeof(secret));
	assert_memory_equal(got, secret, sizeof(secret));
	/* another object's Name fails the integrity check (TPM_RC_INTEGRITY) */
	{
		uint8_t other[34];

		memcpy(other, name, sizeof(other));
		other[33] ^= 1;
		assert_int_equal(activate(ek, k, other, sizeof(other), cred,
		    credlen, es, eslen, got), 0);
	}
	free(cred);
	free(es);
	free(spki);
	tpm_public_free(ek);
	EVP_PKEY_free(k);
	EVP_PKEY_CTX_free(ctx);
}

static void
test_makecredential_roundtrip(void **state)
{
	roundtrip("RSA", "2048", TPM_ALG_SHA256, 128);
	roundtrip("RSA", "3072", TPM_ALG_SHA384, 256);
	roundtrip("EC", "P-256", TPM_ALG_SHA256, 128);
	roundtrip("EC", "P-384", TPM_ALG_SHA384, 256);
	roundtrip("EC", "P-521", TPM_ALG_SHA512, 256);
}

static void
test_makecredential_bad(void **state)
{
	static const uint8_t name[34] = { 0x00, 0x0b };
	uint8_t secret[65] = { 0 }, *spki = NULL, *cred = (uint8_t *)1;
	uint8_t *es = (uint8_t *)1;
	size_t spkilen, credlen = 1, eslen = 1;
	struct tpm_public *ek = NULL;
	EVP_PKEY *k = NULL;
	json_t *kat = load_json("tpm-kat/makecredential_kat.json");

	spki = pem_to_spki(json_string_value(json_object_get(json_array_get(
	    json_object_get(kat, "vectors"), 0), "ek_public_pem")), &spkilen);
	assert_int_equal(tpm_ek_from_spki(spki, spkilen, &ek), DV_OK);
	/* secret longer than the nameAlg digest (Part 3 §12.6 TPM_RC_SIZE) */
	assert_int_equal(tpm_make_credential(ek, name, sizeof(name), secret,
	    33, &cred, &credlen, &es, &eslen), DV_ERR_INTERNAL);
	assert_null(cred);
	assert_null(es);
	assert_int_equal(credlen + eslen, 0);
	assert_int_equal(tpm_make_credential(ek, name, sizeof(name), secret,
	    0, &cred, &credlen, &es, &eslen), DV_ERR_INTERNAL);
	/* not a restricted decryption key */
	ek->attributes &= ~TPMA_DECRYPT;
	assert_int_equal(tpm_make_credential(ek, name, sizeof(name), secret,
	    32, &cred, &credlen, &es, &eslen), DV_ERR_BAD_KEY);
	ek->attributes |= TPMA_DECRYPT;
	ek->sym_alg = TPM_ALG_NULL;
	assert_int_equal(tpm_make_credential(ek, name, sizeof(name), secret,
	    32, &cred, &credlen, &es, &eslen), DV_ERR_BAD_KEY);
	tpm_public_free(ek);
	free(spki);
	/* EK key types: Ed25519 and RSA-1024 are not EKs */
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &k), DV_OK);
	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	ek = (struct tpm_public *)1;
	assert_int_equal(tpm_ek_from_spki(spki, spkilen, &ek), DV_ERR_BAD_KEY);
	assert_null(ek);
	pki_key_free(k);
	free(spki);
	k = EVP_RSA_gen(1024);
	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	assert_int_equal(tpm_ek_from_spki(spki, spkilen, &ek), DV_ERR_BAD_KEY);
	EVP_PKEY_free(k);
	free(spki);
	assert_int_equal(tpm_ek_from_spki((const uint8_t *)"\x30\x00", 2,
	    &ek), DV_ERR_BAD_KEY);
	json_decref(kat);
}

/* ---- AK parameters ------------------------------------------------------ */

struct akfile {
	uint8_t		*v[4];		/* public, cd, att, sig */
	size_t		 len[4];
	char		*name_hex;
};

static void
ak_load(const char *file, struct akfile *a)
{
	static const char *keys[4] = { "Public", "CreateData",
	    "CreateAttestation", "CreateSignature" };
	json_t *j = load_json(file), *o, *exp;
	const char *nm = NULL;
	int i;

	o = json_object_get(j, "AK") != NULL ? json_object_get(j, "AK") : j;
	for (i = 0; i < 4; i++)
		a->v[i] = b64v(o, keys[i], &a->len[i]);
	if ((exp = json_object_get(j, "expected")) != NULL)
		nm = json_string_value(json_object_get(exp, "ak_name_hex"));
	a->name_hex = xstrdup(nm != NULL ? nm : "000b4ce9b151f75089d74c15dab"
	    "e9d520cffafbcafd5d43be0aad2e2d88d54717e2e");
	json_decref(j);
}

static void
ak_free(struct akfile *a)
{
	int i;

	for (i = 0; i < 4; i++)
		free(a->v[i]);
	free(a->name_hex);
}

static void
ak_params(const struct akfile *a, struct tpm_ak_params *p)
{
	p->public = a->v[0];
	p->publiclen = a->len[0];
	p->create_data = a->v[1];
	p->create_datalen = a->len[1];
	p->create_attestation = a->v[2];
	p->create_attestationlen = a->len[2];
	p->create_signature = a->v[3];
	p->create_signaturelen = a->len[3];
}

static enum dv_rc
ak_check(const struct akfile *a)
{
	struct tpm_ak_params p;
	struct tpm_ak *ak = (struct tpm_ak *)1;
	enum dv_rc rc;

	ak_params(a, &p);
	rc = tpm_ak_check(&p, &ak);
	if (rc != DV_OK)
		assert_null(ak);
	tpm_ak_free(ak);
	return rc;
}

/* Checks with byte i of structure s xor'ed with x. */
static enum dv_rc
ak_check_flip(struct akfile *a, int s, size_t i, uint8_t x)
{
	enum dv_rc rc;

	a->v[s][i] ^= x;
	rc = ak_check(a);
	a->v[s][i] ^= x;
	return rc;
}

static const char *ak_files[] = {
	"ak-params/infineon_rsa_ak.json",
	"ak-params/gce_vtpm_ecc_ak.json",
	"ak-params/windows_gcp_shielded_vm.json",
};

static void
test_ak_real(void **state)
{
	size_t i;

	for (i = 0; i < 3; i++) {
		struct akfile a;
		struct tpm_ak_params p;
		struct tpm_ak *ak = NULL;
		struct tpm_attest att;
		char *hex;
		EVP_PKEY *k = NULL;

		ak_load(ak_files[i], &a);
		ak_params(&a, &p);
		assert_int_equal(tpm_ak_check(&p, &ak), DV_OK);
		hex = hex_encode(ak->name, ak->namelen);
		assert_string_equal(hex, a.name_hex);
		free(hex);
		assert_int_equal(ak->pub->attributes, 0x00050472);
		assert_int_equal(ak->pub->name_alg, TPM_ALG_SHA256);
		assert_int_equal(ak->pub->scheme_hash, TPM_ALG_SHA1);
		assert_int_equal(ak->pub->type, i == 1 ? TPM_ALG_ECC :
		    TPM_ALG_RSA);
		assert_int_equal(pki_key_from_spki(ak->spki, ak->spkilen, &k),
		    DV_OK);
		pki_key_free(k);
		assert_int_equal(tpm_attest_parse(a.v[2], a.len[2], &att),
		    DV_OK);
		assert_int_equal(att.magic, TPM_GENERATED_VALUE);
		assert_int_equal(att.type, TPM_ST_ATTEST_CREATION);
		assert_int_equal(att.extra_data.len, 0);
		assert_int_equal(att.qualified_signer.len, 34);
		assert_memory_equal(att.name.v, ak->name, ak->namelen);
		tpm_ak_free(ak);
		ak_free(&a);
	}
}

static void
test_ak_negative(void **state)
{
	struct akfile rsa, ecc, win;
	uint8_t *save;
	size_t savelen, i;
	int s;

	ak_load(ak_files[0], &rsa);
	ak_load(ak_files[1], &ecc);
	ak_load(ak_files[2], &win);

	/* attributes: bytes 4..7 of TPMT_PUBLIC are objectAttributes (BE) */
	assert_int_equal(ak_check_flip(&rsa, 0, 5, 0x01), /* restricted */
	    DV_ERR_AK_ATTRIBUTES);
	assert_int_equal(ak_check_flip(&rsa, 0, 5, 0x02), /* decrypt */
	    DV_ERR_AK_ATTRIBUTES);
	assert_int_equal(ak_check_flip(&ecc, 0, 5, 0x04), /* sign */
	    DV_ERR_AK_ATTRIBUTES);
	assert_int_equal(ak_check_flip(&ecc, 0, 7, 0x02), /* fixedTPM */
	    DV_ERR_AK_ATTRIBUTES);
	assert_int_equal(ak_check_flip(&rsa, 0, 7, 0x10), /* fixedParent */
	    DV_ERR_AK_ATTRIBUTES);
	assert_int_equal(ak_check_flip(&rsa, 0, 7, 0x20), /* sensitive... */
	    DV_ERR_AK_ATTRIBUTES);
	/* noDA (0x400) is not checked but is in the Name */
	assert_int_equal(ak_check_flip(&rsa, 0, 6, 0x04), DV_ERR_AK_NAME);
	/* a modulus byte: the Name changes */
	assert_int_equal(ak_check_flip(&rsa, 0, rsa.len[0] - 1, 0x01),
	    DV_ERR_AK_NAME);
	/* nameAlg SHA-1 (bytes 2..3: 000b -> 0004): refused as a key */
	assert_int_equal(ak_check_flip(&rsa, 0, 3, 0x0b ^ 0x04),
	    DV_ERR_AK_KEY);
	/* keyBits 2048 -> 1024: type, nameAlg, attributes, authPolicy
	 * (2 + 32), symmetric NULL (2), scheme RSASSA-SHA1 (4) = 48 */
	assert_int_equal(rsa.v[0][48], 0x08);
	assert_int_equal(ak_check_flip(&rsa, 0, 48, 0x08 ^ 0x04),
	    DV_ERR_AK_KEY);
	/* curve P-256 -> P-224 (0x0002, not allowed) */
	assert_int_equal(ecc.v[0][49], 0x03);
	assert_int_equal(ak_check_flip(&ecc, 0, 49, 0x03 ^ 0x02),
	    DV_ERR_AK_KEY);
	/* a point coordinate off the curve */
	assert_int_equal(ak_check_flip(&ecc, 0, ecc.len[0] - 1, 0x01),
	    DV_ERR_AK_KEY);

	/* magic and type */
	assert_int_equal(ak_check_flip(&rsa, 2, 0, 0x01),
	    DV_ERR_AK_NOT_GENERATED);
	assert_int_equal(ak_check_flip(&ecc, 2, 3, 0x80),
	    DV_ERR_AK_NOT_GENERATED);
	assert_int_equal(ak_check_flip(&rsa, 2, 5, 0x1a ^ 0x17),
	    DV_ERR_AK_ATTEST_TYPE);	/* 0x801A -> 0x8017 (certify) */
	assert_int_equal(ak_check_flip(&rsa, 2, 5, 0x1a ^ 0x18),
	    DV_ERR_TPM_STRUCT);	/* quote: the union does not fit */
	/* creation data: a byte of parentQualifiedName, and the hash */
	assert_int_equal(ak_check_flip(&rsa, 1, rsa.len[1] - 5, 0x01),
	    DV_ERR_AK_CREATION);
	assert_int_equal(ak_check_flip(&win, 1, 10, 0x80),
	    DV_ERR_AK_CREATION);
	assert_int_equal(ak_check_flip(&rsa, 2, rsa.len[2] - 1, 0x01),
	    DV_ERR_AK_CREATION);
	/* objectName in the attestation (just before the creationHash) */
	assert_int_equal(ak_check_flip(&ecc, 2, ecc.len[2] - 35, 0x01),
	    DV_ERR_AK_NAME);
	/* signatures: a byte of the value, of the hash alg, r and s */
	assert_int_equal(ak_check_flip(&rsa, 3, rsa.len[3] - 1, 0x01),
	    DV_ERR_AK_SIGNATURE);
	assert_int_equal(ak_check_flip(&rsa, 3, 10, 0x80),
	    DV_ERR_AK_SIGNATURE);
	assert_int_equal(ak_check_flip(&ecc, 3, 10, 0x01),
	    DV_ERR_AK_SIGNATURE);
	assert_int_equal(ak_check_flip(&ecc, 3, ecc.len[3] - 1, 0x01),
	    DV_ERR_AK_SIGNATURE);
	assert_int_equal(ak_check_flip(&rsa, 3, 3, 0x04 ^ 0x0b),
	    DV_ERR_AK_SIGNATURE);	/* hash SHA-1 -> SHA-256 */
	/* a signed attestation byte (clock) */
	assert_int_equal(ak_check_flip(&rsa, 2, 0x30, 0x01),
	    DV_ERR_AK_SIGNATURE);
	/* HMAC scheme (0x0005) is no asymmetric signature */
	assert_int_equal(ak_check_flip(&rsa, 3, 1, 0x14 ^ 0x05),
	    DV_ERR_TPM_STRUCT);
	/* RSAPSS instead of the key's RSASSA */
	assert_int_equal(ak_check_flip(&rsa, 3, 1, 0x14 ^ 0x16),
	    DV_ERR_AK_SIGNATURE);

	/* swapped signatures and publics (go-attestation's negatives) */
	save = rsa.v[3];
	savelen = rsa.len[3];
	rsa.v[3] = ecc.v[3];
	rsa.len[3] = ecc.len[3];
	assert_int_equal(ak_check(&rsa), DV_ERR_AK_SIGNATURE);
	rsa.v[3] = win.v[3];
	rsa.len[3] = win.len[3];
	assert_int_equal(ak_check(&rsa), DV_ERR_AK_SIGNATURE);
	rsa.v[3] = save;
	rsa.len[3] = savelen;
	save = rsa.v[0];
	savelen = rsa.len[0];
	rsa.v[0] = win.v[0];
	rsa.len[0] = win.len[0];
	assert_int_equal(ak_check(&rsa), DV_ERR_AK_NAME);
	rsa.v[0] = save;
	rsa.len[0] = savelen;
	save = rsa.v[1];
	savelen = rsa.len[1];
	rsa.v[1] = win.v[1];
	rsa.len[1] = win.len[1];
	assert_int_equal(ak_check(&rsa), DV_ERR_AK_CREATION);
	rsa.v[1] = save;
	rsa.len[1] = savelen;
	assert_int_equal(ak_check(&rsa), DV_OK);

	/* truncation at every offset and one trailing byte, each structure */
	for (s = 0; s < 4; s++) {
		struct akfile *f[3] = { &rsa, &ecc, &win };
		int j;

		for (j = 0; j < 3; j++) {
			size_t len = f[j]->len[s];
			uint8_t *longer = xmalloc(len + 1);

			for (i = 0; i < len; i++) {
				f[j]->len[s] = i;
				if (ak_check(f[j]) != DV_ERR_TPM_STRUCT)
					fail_msg("file %d struct %d cut at "
					    "%zu", j, s, i);
			}
			memcpy(longer, f[j]->v[s], len);
			longer[len] = 0;
			save = f[j]->v[s];
			f[j]->v[s] = longer;
			f[j]->len[s] = len + 1;
			assert_int_equal(ak_check(f[j]), DV_ERR_TPM_STRUCT);
			f[j]->v[s] = save;
			f[j]->len[s] = len;
			free(longer);
			assert_int_equal(ak_check(f[j]), DV_OK);
		}
	}
	ak_free(&rsa);
	ak_free(&ecc);
	ak_free(&win);
}

static void
test_ak_limits(void **state)
{
	struct tpm_ak_params p = { 0 };
	struct tpm_ak *ak = NULL;
	struct akfile rsa;
	uint8_t *big = xcalloc(1, 8192);

	ak_load(ak_files[0], &rsa);
	ak_params(&rsa, &p);
	p.public = big;
	p.publiclen = DV_TPM_MAX_PUBLIC + 1;
	assert_int_equal(tpm_ak_check(&p, &ak), DV_ERR_TOO_LARGE);
	ak_params(&rsa, &p);
	p.create_attestation = big;
	p.create_attestationlen = DV_TPM_MAX_ATTEST + 1;
	assert_int_equal(tpm_ak_check(&p, &ak), DV_ERR_TOO_LARGE);
	ak_params(&rsa, &p);
	p.create_data = big;
	p.create_datalen = DV_TPM_MAX_CREATION_DATA + 1;
	assert_int_equal(tpm_ak_check(&p, &ak), DV_ERR_TOO_LARGE);
	ak_params(&rsa, &p);
	p.create_signature = big;
	p.create_signaturelen = DV_TPM_MAX_SIGNATURE + 1;
	assert_int_equal(tpm_ak_check(&p, &ak), DV_ERR_TOO_LARGE);
	assert_null(ak);
	free(big);
	ak_free(&rsa);
}

/* ---- structures --------------------------------------------------------- */

static void
test_public(void **state)
{
	struct akfile rsa, ecc;
	struct tpm_public *p = (struct tpm_public *)1;
	uint8_t name[TPM_NAME_MAX], *twob;
	size_t namelen;
	char *hex;

	ak_load(ak_files[0], &rsa);
	ak_load(ak_files[1], &ecc);
	assert_int_equal(tpm_public_parse(rsa.v[0], rsa.len[0], &p), DV_OK);
	assert_int_equal(p->rsa_bits, 2048);
	assert_int_equal(p->rsa_exponent, 65537);
	assert_int_equal(p->scheme, TPM_ALG_RSASSA);
	assert_int_equal(p->sym_alg, TPM_ALG_NULL);
	assert_int_equal(p->uniquelen, 256);
	assert_int_equal(tpm_public_name(p, name, &namelen), DV_OK);
	hex = hex_encode(name, namelen);
	assert_string_equal(hex, rsa.name_hex);
	free(hex);
	tpm_public_free(p);

	/* TPM2B_PUBLIC: the same with its size; a wrong size fails */
	twob = xmalloc(ecc.len[0] + 2);
	twob[0] = (uint8_t)(ecc.len[0] >> 8);
	twob[1] = (uint8_t)ecc.len[0];
	memcpy(twob + 2, ecc.v[0], ecc.len[0]);
	assert_int_equal(tpm_public_parse_2b(twob, ecc.len[0] + 2, &p), DV_OK);
	assert_int_equal(p->curve, TPM_ECC_NIST_P256);
	assert_int_equal(p->xlen, 32);
	assert_int_equal(p->uniquelen, 64);
	assert_int_equal(p->scheme, TPM_ALG_ECDSA);
	tpm_public_free(p);
	assert_int_equal(tpm_public_parse_2b(twob, ecc.len[0] + 1, &p),
	    DV_ERR_TPM_STRUCT);
	assert_null(p);
	twob[1]++;
	assert_int_equal(tpm_public_parse_2b(twob, ecc.len[0] + 2, &p),
	    DV_ERR_TPM_STRUCT);
	free(twob);
	/* a keyedhash object (type 0x0008) decodes but is not a key */
	{
		static const uint8_t kh[] = { 0x00, 0x08, 0x00, 0x0b, 0x00,
		    0x04, 0x00, 0x72, 0x00, 0x00, 0x00, 0x10, 0x00, 0x00 };

		assert_int_equal(tpm_public_parse(kh, sizeof(kh), &p),
		    DV_ERR_TPM_STRUCT);
	}
	assert_int_equal(tpm_public_parse(NULL, 0, &p), DV_ERR_TPM_STRUCT);
	ak_free(&rsa);
	ak_free(&ecc);
}

static void
test_signature_parse(void **state)
{
	struct akfile rsa, ecc;
	struct tpm_signature sig;
	struct tpm_public *p = NULL;

	ak_load(ak_files[0], &rsa);
	ak_load(ak_files[1], &ecc);
	assert_int_equal(tpm_signature_parse(rsa.v[3], rsa.len[3], &sig),
	    DV_OK);
	assert_int_equal(sig.sig_alg, TPM_ALG_RSASSA);
	assert_int_equal(sig.hash_alg, TPM_ALG_SHA1);
	assert_int_equal(sig.siglen, 256);
	assert_int_equal(tpm_public_parse(rsa.v[0], rsa.len[0], &p), DV_OK);
	assert_int_equal(tpm_signature_verify(p, rsa.v[2], rsa.len[2], &sig),
	    DV_OK);
	assert_int_equal(tpm_signature_verify(p, rsa.v[2], rsa.len[2] - 1,
	    &sig), DV_ERR_AK_SIGNATURE);
	assert_int_equal(tpm_signature_parse(ecc.v[3], ecc.len[3], &sig),
	    DV_OK);
	assert_int_equal(sig.sig_alg, TPM_ALG_ECDSA);
	assert_int_equal(sig.rlen, 32);
	assert_int_equal(sig.slen, 32);
	/* an ECDSA signature on an RSA key */
	assert_int_equal(tpm_signature_verify(p, rsa.v[2], rsa.len[2], &sig),
	    DV_ERR_AK_SIGNATURE);
	tpm_public_free(p);
	/* TPM_ALG_NULL signature: decodes (alg only), not a signature */
	assert_int_equal(tpm_signature_parse((const uint8_t *)"\x00\x10", 2,
	    &sig), DV_ERR_AK_SIGNATURE);
	assert_int_equal(sig.sig_alg, 0);
	ak_free(&rsa);
	ak_free(&ecc);
}

/* ---- swtpm objects of the fuzz corpora (rule 28 regression) ------------- */

static uint8_t *
corpus(const char *dir, const char *name, size_t *len)
{
	const char *src = getenv("DEVID_SRC");
	uint8_t *b = NULL;
	char *path;

	path = xasprintf("%s/fuzz/corpus/%s/%s", src != NULL ? src : ".", dir,
	    name);
	if (file_read(path, 1 << 16, &b, len) != DV_OK)
		fail_msg("%s", path);
	free(path);
	return b;
}

/* AKs made by tpm2_create + tpm2_certifycreation on swtpm 0.7.1 (spec
 * §14.5 step 5): SHA-256 RSASSA and ECDSA signatures. */
static void
test_ak_swtpm(void **state)
{
	static const struct {
		const char	*t;
		const char	*name;
	} v[] = {
		{ "rsa2048", "000b184bf2e7602552e5d6412682b89820c6f1b3"
		    "95af0b8acf26e11a63390fb7f3ca" },
		{ "ecc256", "000b31d3c6c9360af04cd0fcd8f4107dbe45b6a7"
		    "c817bf6b10245c084caa0aaa65ae" },
	};
	size_t i;

	for (i = 0; i < 2; i++) {
		struct akfile a;
		struct tpm_ak_params p;
		struct tpm_ak *ak = NULL;
		char *f, *hex;

		f = xasprintf("swtpm_%s_ak_public", v[i].t);
		a.v[0] = corpus("tpm_public", f, &a.len[0]);
		free(f);
		f = xasprintf("swtpm_%s_create_data", v[i].t);
		a.v[1] = corpus("tpm_attest", f, &a.len[1]);
		free(f);
		f = xasprintf("swtpm_%s_create_attestation", v[i].t);
		a.v[2] = corpus("tpm_attest", f, &a.len[2]);
		free(f);
		f = xasprintf("swtpm_%s_create_signature", v[i].t);
		a.v[3] = corpus("tpm_signature", f, &a.len[3]);
		free(f);
		a.name_hex = xstrdup(v[i].name);
		ak_params(&a, &p);
		assert_int_equal(tpm_ak_check(&p, &ak), DV_OK);
		hex = hex_encode(ak->name, ak->namelen);
		assert_string_equal(hex, v[i].name);
		free(hex);
		assert_int_equal(ak->pub->scheme_hash, TPM_ALG_SHA256);
		tpm_ak_free(ak);
		/* and a flipped signature byte fails */
		assert_int_equal(ak_check_flip(&a, 3, a.len[3] - 2, 0x10),
		    DV_ERR_AK_SIGNATURE);
		ak_free(&a);
	}
}

/* The EK template tpm_ek_from_spki assumes equals swtpm's real EKs
 * (tpm2_createek -G rsa / ecc / ecc384) in everything MakeCredential
 * uses, and in the attributes. */
static void
test_ek_template_swtpm(void **state)
{
	static const char *eks[] = { "swtpm_ek_rsa", "swtpm_ek_ecc",
	    "swtpm_ek_ecc384" };
	size_t i;

	for (i = 0; i < 3; i++) {
		struct tpm_public *real = NULL, *tmpl = NULL;
		uint8_t *b, *spki = NULL;
		size_t len, spkilen;

		b = corpus("tpm_public", eks[i], &len);
		assert_int_equal(tpm_public_parse(b, len, &real), DV_OK);
		assert_int_equal(tpm_public_spki(real, &spki, &spkilen), DV_OK);
		assert_int_equal(tpm_ek_from_spki(spki, spkilen, &tmpl), DV_OK);
		assert_int_equal(tmpl->type, real->type);
		assert_int_equal(tmpl->name_alg, real->name_alg);
		assert_int_equal(tmpl->attributes, real->attributes);
		assert_int_equal(tmpl->sym_alg, real->sym_alg);
		assert_int_equal(tmpl->sym_bits, real->sym_bits);
		assert_int_equal(tmpl->sym_mode, real->sym_mode);
		assert_int_equal(tmpl->scheme, real->scheme);
		assert_int_equal(tmpl->curve, real->curve);
		assert_int_equal(tmpl->uniquelen, real->uniquelen);
		assert_memory_equal(tmpl->unique, real->unique,
		    real->uniquelen);
		tpm_public_free(real);
		tpm_public_free(tmpl);
		free(spki);
		free(b);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_kdfa),
		cmocka_unit_test(test_kdfe),
		cmocka_unit_test(test_rsa_encaps),
		cmocka_unit_test(test_ecc_encaps),
		cmocka_unit_test(test_makecredential_kat),
		cmocka_unit_test(test_makecredential_roundtrip),
		cmocka_unit_test(test_makecredential_bad),
		cmocka_unit_test(test_ak_real),
		cmocka_unit_test(test_ak_negative),
		cmocka_unit_test(test_ak_limits),
		cmocka_unit_test(test_public),
		cmocka_unit_test(test_signature_parse),
		cmocka_unit_test(test_ak_swtpm),
		cmocka_unit_test(test_ek_template_swtpm),
	};

	log_init(LOG__MAX, 2);
	tpm_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
