/*
 * test_jws.c - src/jws: compact parsing and its refusals (alg none, HS256,
 * crit, b64, duplicate header keys, oversized, malformed), signatures with
 * every key type (ES256/384, RS256, PS256, EdDSA with the RFC 8037 A.4
 * vector), tokens made by the independent `jose` CLI, time claims with
 * leeway, audiences with and without port, RFC 7638 / RFC 8037
 * thumbprints.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <jose/jose.h>

#include "jws/jws.h"
#include "jws/jws_int.h"
#include "pki/pki.h"

#define NOW	1800000000	/* 2027-01-15 */

static json_t *
claims_at(time_t now)
{
	json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", "admin",
	    "sub", "device-1", "aud", "https://ca.example/1.0/sign", "nbf",
	    (json_int_t)now, "iat", (json_int_t)now, "exp",
	    (json_int_t)now + 300, "jti", "0123456789abcdef");

	assert_non_null(c);
	return c;
}

/* Builds a compact token from raw header and payload JSON text. */
static char *
raw_token(const char *hdr, const char *payload, const char *sig)
{
	char *h, *p, *t;

	h = jws_b64url_encode((const uint8_t *)hdr, strlen(hdr));
	p = jws_b64url_encode((const uint8_t *)payload, strlen(payload));
	t = xasprintf("%s.%s.%s", h, p, sig);
	free(h);
	free(p);
	return t;
}

static enum dv_rc
parse_str(const char *s, struct jws_token **t)
{
	return jws_parse(s, strlen(s), t);
}

/* ---- base64url ---------------------------------------------------- */

static void
test_b64url(void **state)
{
	static const uint8_t data[] = { 0xfb, 0xff, 0x00, 0x41 };
	uint8_t *out = NULL;
	size_t len = 0;
	char *s;

	(void)state;
	s = jws_b64url_encode(data, sizeof(data));
	assert_string_equal(s, "-_8AQQ");
	assert_int_equal(jws_b64url_decode(s, &out, &len), DV_OK);
	assert_int_equal(len, sizeof(data));
	assert_memory_equal(out, data, len);
	free(out);
	free(s);
	/* padding, standard alphabet, 1 mod 4, non-zero trailing bits */
	assert_int_equal(jws_b64url_decode("-_8AQQ==", &out, &len),
	    DV_ERR_MALFORMED);
	assert_null(out);
	assert_int_equal(jws_b64url_decode("+/8AQQ", &out, &len),
	    DV_ERR_MALFORMED);
	assert_int_equal(jws_b64url_decode("-_8AQ", &out, &len),
	    DV_ERR_MALFORMED);
	assert_int_equal(jws_b64url_decode("-_8AQR", &out, &len),
	    DV_ERR_MALFORMED);
	assert_int_equal(jws_b64url_decode(NULL, &out, &len),
	    DV_ERR_MALFORMED);
}

/* The decoder accepts and refuses exactly what libjose's does: every
 * string of 0 to 6 characters over a small alphabet that holds each
 * class of character (trailing-bit patterns, the two url characters, a
 * standard-only one and padding). */
static void
test_b64url_vs_libjose(void **state)
{
	static const char abc[] = "AQRgw-_+=";
	char s[8];
	uint8_t want[8], *out = NULL;
	size_t len, n, k, i, idx, total;
	enum dv_rc rc;

	(void)state;
	for (k = 0; k <= 6; k++) {
		for (total = 1, i = 0; i < k; i++)
			total *= sizeof(abc) - 1;
		for (idx = 0; idx < total; idx++) {
			size_t x = idx;

			for (i = 0; i < k; i++) {
				s[i] = abc[x % (sizeof(abc) - 1)];
				x /= sizeof(abc) - 1;
			}
			s[k] = '\0';
			n = jose_b64_dec_buf(s, k, NULL, 0);
			if (n != SIZE_MAX && n > 0 &&
			    jose_b64_dec_buf(s, k, want, n) != n)
				n = SIZE_MAX;
			rc = jws_b64url_decode(s, &out, &len);
			if (n == SIZE_MAX || strpbrk(s, "+=") != NULL) {
				assert_int_equal(rc, DV_ERR_MALFORMED);
				continue;
			}
			assert_int_equal(rc, DV_OK);
			assert_int_equal(len, n);
			assert_memory_equal(out, want, n);
			free(out);
		}
	}
	/* round trips of every length to past the decoder's stack buffer
	 * (1 024 characters), checked against libjose's decoder too */
	for (n = 0; n <= 1100; n++) {
		uint8_t *data = malloc(n + 1), *ref = malloc(n + 1);
		char *enc;

		assert_non_null(data);
		assert_non_null(ref);
		for (i = 0; i < n; i++)
			data[i] = (uint8_t)(i * 131 + n * 7 + (i >> 3));
		enc = jws_b64url_encode(data, n);
		assert_int_equal(jws_b64url_decode(enc, &out, &len), DV_OK);
		assert_int_equal(len, n);
		assert_memory_equal(out, data, n);
		assert_int_equal(out[n], 0);
		if (n > 0) {
			assert_int_equal(jose_b64_dec_buf(enc, strlen(enc),
			    ref, n), n);
			assert_memory_equal(ref, out, n);
		}
		free(out);
		free(enc);
		free(data);
		free(ref);
	}
}

/* ---- sign and verify with every key type ---------------------------- */

static void
roundtrip(const char *alg)
{
	json_t *jwk = NULL, *other = NULL, *pub, *claims;
	struct jws_token *t = NULL;
	char *tok = NULL, *thp = NULL;

	assert_int_equal(jws_jwk_generate(alg, &jwk), DV_OK);
	assert_int_equal(jws_jwk_generate(alg, &other), DV_OK);
	assert_string_equal(json_get_str(jwk, "alg"), alg);
	/* kid is the RFC 7638 thumbprint, as step makes it */
	assert_int_equal(jws_jwk_thumbprint(jwk, &thp), DV_OK);
	assert_string_equal(json_get_str(jwk, "kid"), thp);
	pub = jws_jwk_public(jwk);
	assert_non_null(pub);
	assert_null(json_object_get(pub, "d"));
	assert_null(json_object_get(pub, "p"));

	claims = claims_at(NOW);
	assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_OK);
	assert_int_equal(parse_str(tok, &t), DV_OK);
	assert_string_equal(json_get_str(t->header, "alg"), alg);
	assert_string_equal(json_get_str(t->header, "typ"), "JWT");
	assert_string_equal(json_get_str(t->header, "kid"), thp);
	assert_true(json_equal(t->claims, claims));
	assert_int_equal(jws_verify_jwk(t, pub), DV_OK);
	assert_int_equal(jws_verify_jwk(t, jwk), DV_OK);
	/* token signed by another key */
	assert_int_equal(jws_verify_jwk(t, other), DV_ERR_BAD_TOKEN);

	jws_token_free(t);
	json_decref(claims);
	json_decref(pub);
	json_decref(other);
	json_decref(jwk);
	free(tok);
	free(thp);
}

static void
test_roundtrip_es256(void **state)
{
	(void)state;
	roundtrip("ES256");
}

static void
test_roundtrip_es384(void **state)
{
	(void)state;
	roundtrip("ES384");
}

static void
test_roundtrip_rs256(void **state)
{
	(void)state;
	roundtrip("RS256");
}

static void
test_roundtrip_ps256(void **state)
{
	(void)state;
	roundtrip("PS256");
}

static void
test_roundtrip_eddsa(void **state)
{
	(void)state;
	roundtrip("EdDSA");
}

static void
test_generate_refused(void **state)
{
	json_t *jwk = (json_t *)1;

	(void)state;
	assert_int_equal(jws_jwk_generate("none", &jwk), DV_ERR_BAD_KEY);
	assert_null(jwk);
	assert_int_equal(jws_jwk_generate("HS256", &jwk), DV_ERR_BAD_KEY);
}

/* RFC 8037 Appendix A.1, A.3, A.4: key, thumbprint and signature. */
static void
test_eddsa_rfc8037(void **state)
{
	static const char x[] = "11qYAYKxCrfVS_7TyWQHOg7hcvPapiMlrwIaaPcHURo";
	static const char d[] = "nWGxne_9WmC6hEr0kuwsxERJxWl7MmkZcDusAxyuf2A";
	static const char input[] =
	    "eyJhbGciOiJFZERTQSJ9.RXhhbXBsZSBvZiBFZDI1NTE5IHNpZ25pbmc";
	static const char sig64[] = "hgyY0il_MGCjP0JzlnLWG1PPOt7-09PGcvMg3AI"
	    "bQR6dWbhijcNR4ki4iylGjg5BhVsPt9g7sVvpAr_MuM0KAg";
	json_t *jwk;
	uint8_t *sig = NULL, *mine = NULL;
	size_t siglen = 0, minelen = 0;
	char *thp = NULL;

	(void)state;
	jwk = json_pack("{s:s,s:s,s:s,s:s}", "kty", "OKP", "crv", "Ed25519",
	    "x", x, "d", d);
	assert_int_equal(jws_jwk_thumbprint(jwk, &thp), DV_OK);
	assert_string_equal(thp, "kPrK_qmxVWaYVA9wwBF6Iuo3vVzz7TxHCTwXBygrS4k");
	assert_int_equal(jws_b64url_decode(sig64, &sig, &siglen), DV_OK);
	assert_int_equal(jws_okp_verify(jwk, input, strlen(input), sig,
	    siglen), DV_OK);
	/* Ed25519 is deterministic: our signature is the RFC's */
	assert_int_equal(jws_okp_sign(jwk, input, strlen(input), &mine,
	    &minelen), DV_OK);
	assert_int_equal(minelen, siglen);
	assert_memory_equal(mine, sig, siglen);
	sig[0] ^= 1;
	assert_int_equal(jws_okp_verify(jwk, input, strlen(input), sig,
	    siglen), DV_ERR_BAD_TOKEN);
	free(mine);
	free(sig);
	free(thp);
	json_decref(jwk);
}

/* RFC 7638 §3.1 example thumbprint. */
static void
test_thumbprint_rfc7638(void **state)
{
	json_t *jwk;
	char *thp = NULL;

	(void)state;
	jwk = json_pack("{s:s,s:s,s:s,s:s,s:s}", "kty", "RSA", "n",
	    "0vx7agoebGcQSuuPiLJXZptN9nndrQmbXEps2aiAFbWhM78LhWx4cbbfAAtVT86zw"
	    "u1RK7aPFFxuhDR1L6tSoc_BJECPebWKRXjBZCiFV4n3oknjhMstn64tZ_2W-5JsGY"
	    "4Hc5n9yBXArwl93lqt7_RN5w6Cf0h4QyQ5v-65YGjQR0_FDW2QvzqY368QQMicAtaS"
	    "qzs8KJZgnYb9c7d0zgdAZHzu6qMQvRL5hajrn1n91CbOpbISD08qNLyrdkt-bFTWhA"
	    "I4vMQFh6WeZu0fM4lFd2NcRwr3XPksINHaQ-G_xBniIqbw0Ls1jF44-csFCur-kEgU"
	    "8awapJzKnqDKgw", "e", "AQAB", "alg", "RS256", "kid",
	    "2011-04-29");
	assert_int_equal(jws_jwk_thumbprint(jwk, &thp), DV_OK);
	assert_string_equal(thp, "NzbLsXh8uDCcd-6MNwXF4W_7noWXFZAfHkxZsRGC9Xs");
	free(thp);
	json_decref(jwk);
}

/* jws_sign_pkey / jws_verify_pkey with keys made by pki. */
static void
test_pkey(void **state)
{
	static const enum pki_key_type types[] = { PKI_KEY_P256, PKI_KEY_P384,
	    PKI_KEY_RSA2048, PKI_KEY_ED25519 };
	static const char *const algs[] = { "ES256", "ES384", "RS256",
	    "EdDSA" };
	EVP_PKEY *k, *k2;
	struct jws_token *t;
	json_t *claims, *hdr, *jwk;
	char *tok;
	size_t i;

	(void)state;
	claims = claims_at(NOW);
	hdr = json_pack("{s:[s]}", "x5c", "AAAA");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		k = k2 = NULL;
		t = NULL;
		tok = NULL;
		jwk = NULL;
		assert_int_equal(pki_key_generate(types[i], &k), DV_OK);
		assert_int_equal(pki_key_generate(types[i], &k2), DV_OK);
		assert_int_equal(jws_sign_pkey(k, hdr, claims, &tok), DV_OK);
		assert_int_equal(parse_str(tok, &t), DV_OK);
		assert_string_equal(json_get_str(t->header, "alg"), algs[i]);
		assert_non_null(json_object_get(t->header, "x5c"));
		assert_int_equal(jws_verify_pkey(t, k), DV_OK);
		assert_int_equal(jws_verify_pkey(t, k2), DV_ERR_BAD_TOKEN);
		/* the public JWK form has no private member */
		assert_int_equal(jws_jwk_from_pkey(k, false, &jwk), DV_OK);
		assert_null(json_object_get(jwk, "d"));
		assert_int_equal(jws_verify_jwk(t, jwk), DV_OK);
		json_decref(jwk);
		assert_int_equal(jws_jwk_from_pkey(k, true, &jwk), DV_OK);
		assert_non_null(json_object_get(jwk, "d"));
		json_decref(jwk);
		jws_token_free(t);
		free(tok);
		pki_key_free(k);
		pki_key_free(k2);
	}
	json_decref(hdr);
	json_decref(claims);
}

/* ---- refusals --------------------------------------------------------- */

static void
test_refuse_alg_none(void **state)
{
	struct jws_token *t = (struct jws_token *)1;
	char *tok;

	(void)state;
	tok = raw_token("{\"alg\":\"none\",\"typ\":\"JWT\"}",
	    "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	assert_null(t);
	free(tok);
	/* unsecured JWS with an empty signature segment */
	tok = raw_token("{\"alg\":\"none\"}", "{\"sub\":\"x\"}", "");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"HS256\"}", "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"es256\"}", "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"typ\":\"JWT\"}", "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":256}", "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
}

static void
test_refuse_crit_b64(void **state)
{
	struct jws_token *t = NULL;
	char *tok;

	(void)state;
	tok = raw_token("{\"alg\":\"ES256\",\"crit\":[\"exp\"],\"exp\":1}",
	    "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"ES256\",\"crit\":[]}", "{\"sub\":\"x\"}",
	    "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"ES256\",\"b64\":false}", "{\"sub\":\"x\"}",
	    "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	assert_null(t);
}

static void
test_refuse_duplicate_keys(void **state)
{
	struct jws_token *t = NULL;
	char *tok;

	(void)state;
	/* a second alg could make a parser see "none" */
	tok = raw_token("{\"alg\":\"ES256\",\"alg\":\"none\"}",
	    "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"ES256\",\"kid\":\"a\",\"kid\":\"b\"}",
	    "{\"sub\":\"x\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = raw_token("{\"alg\":\"ES256\"}",
	    "{\"sub\":\"x\",\"sub\":\"admin\"}", "AAAA");
	assert_int_equal(parse_str(tok, &t), DV_ERR_BAD_TOKEN);
	free(tok);
	assert_null(t);
}

static void
test_refuse_malformed(void **state)
{
	static const char *const bad[] = {
		"",
		"abc",
		"abc.def",
		"a.b.c.d",
		"eyJhbGciOiJFUzI1NiJ9..AAAA",
		".eyJzdWIiOiJ4In0.AAAA",
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.",
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AA AA",
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AA+A",
		"eyJhbGciOiJFUzI1NiJ9.eyJzdWIiOiJ4In0.AAA=",
		/* payload "[1]" and "\"x\"": not objects */
		"eyJhbGciOiJFUzI1NiJ9.WzFd.AAAA",
		"eyJhbGciOiJFUzI1NiJ9.Ingi.AAAA",
		/* header not JSON */
		"bm90IGpzb24.eyJzdWIiOiJ4In0.AAAA",
	};
	struct jws_token *t = NULL;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(parse_str(bad[i], &t), DV_ERR_BAD_TOKEN);
		assert_null(t);
	}
	assert_int_equal(jws_parse(NULL, 0, &t), DV_ERR_BAD_TOKEN);
	/* an embedded NUL is not part of any compact JWS */
	assert_int_equal(jws_parse("eyJh\0bGc.a.b", 12, &t), DV_ERR_BAD_TOKEN);
}

static void
test_refuse_oversized(void **state)
{
	struct jws_token *t = NULL;
	json_t *jwk = NULL, *claims;
	char *big, *tok = NULL;

	(void)state;
	big = xmalloc(DV_MAX_TOKEN + 2);
	memset(big, 'A', DV_MAX_TOKEN + 1);
	big[10] = '.';
	big[20] = '.';
	big[DV_MAX_TOKEN + 1] = '\0';
	assert_int_equal(jws_parse(big, DV_MAX_TOKEN + 1, &t),
	    DV_ERR_TOO_LARGE);
	assert_null(t);
	free(big);
	/* a validly signed token whose claims push it over the limit */
	assert_int_equal(jws_jwk_generate("ES256", &jwk), DV_OK);
	claims = claims_at(NOW);
	big = xmalloc(DV_MAX_TOKEN);
	memset(big, 'x', DV_MAX_TOKEN - 1);
	big[DV_MAX_TOKEN - 1] = '\0';
	json_object_set_new(claims, "pad", json_string(big));
	assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_OK);
	assert_int_equal(parse_str(tok, &t), DV_ERR_TOO_LARGE);
	free(tok);
	free(big);
	json_decref(claims);
	json_decref(jwk);
}

/* A valid token changed after signing, or with a lying header. */
static void
test_refuse_tampered(void **state)
{
	struct jws_token *t = NULL;
	json_t *jwk = NULL, *rsa = NULL, *claims, *pub, *hdr;
	char *tok = NULL, *forged, *dot, *h2;

	(void)state;
	assert_int_equal(jws_jwk_generate("ES256", &jwk), DV_OK);
	pub = jws_jwk_public(jwk);
	claims = claims_at(NOW);
	assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_OK);

	/* payload swapped for another one */
	dot = strchr(tok, '.');
	json_object_set_new(claims, "sub", json_string("admin"));
	{
		char *js = json_dumps(claims, JSON_COMPACT);
		char *p64 = jws_b64url_encode((const uint8_t *)js, strlen(js));

		*dot = '\0';
		forged = xasprintf("%s.%s.%s", tok, p64, strchr(dot + 1, '.') +
		    1);
		*dot = '.';
		free(js);
		free(p64);
	}
	assert_int_equal(parse_str(forged, &t), DV_OK);
	assert_int_equal(jws_verify_jwk(t, pub), DV_ERR_BAD_TOKEN);
	jws_token_free(t);
	free(forged);

	/* header says ES384 over an ES256 key */
	hdr = json_pack("{s:s,s:s}", "alg", "ES384", "typ", "JWT");
	{
		char *js = json_dumps(hdr, JSON_COMPACT);

		h2 = jws_b64url_encode((const uint8_t *)js, strlen(js));
		free(js);
	}
	forged = xasprintf("%s%s", h2, dot);
	assert_int_equal(parse_str(forged, &t), DV_OK);
	assert_int_equal(jws_verify_jwk(t, pub), DV_ERR_BAD_TOKEN);
	jws_token_free(t);
	free(forged);
	free(h2);
	json_decref(hdr);

	/* RS256 claimed, verified with an RSA key: alg/key confusion */
	assert_int_equal(jws_jwk_generate("RS256", &rsa), DV_OK);
	assert_int_equal(parse_str(tok, &t), DV_OK);
	assert_int_equal(jws_verify_jwk(t, rsa), DV_ERR_BAD_TOKEN);
	jws_token_free(t);

	json_decref(rsa);
	json_decref(claims);
	json_decref(pub);
	json_decref(jwk);
	free(tok);
}

/* An RSA key under DV_MIN_RSA_BITS is refused for signing and verifying. */
static void
test_refuse_small_rsa(void **state)
{
	struct jws_token *t = NULL;
	json_t *jwk = NULL, *claims;
	uint8_t *n = NULL;
	size_t len = 0;
	char *tok = NULL, *small;

	(void)state;
	assert_int_equal(jws_jwk_generate("RS256", &jwk), DV_OK);
	claims = claims_at(NOW);
	assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_OK);
	/* the same key with a 1024-bit modulus */
	assert_int_equal(jws_b64url_decode(json_get_str(jwk, "n"), &n, &len),
	    DV_OK);
	assert_int_equal(len, 256);
	small = jws_b64url_encode(n, 128);
	json_object_set_new(jwk, "n", json_string(small));
	assert_int_equal(parse_str(tok, &t), DV_OK);
	assert_int_equal(jws_verify_jwk(t, jwk), DV_ERR_BAD_TOKEN);
	free(tok);
	tok = NULL;
	assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_ERR_BAD_KEY);
	assert_null(tok);
	jws_token_free(t);
	free(small);
	free(n);
	json_decref(claims);
	json_decref(jwk);
}

/* ---- a token made by the jose command-line tool ---------------------- */

static char *
run(const char *cmd)
{
	char buf[4096];
	size_t n;
	FILE *f;

	if ((f = popen(cmd, "r")) == NULL)
		return NULL;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	if (pclose(f) != 0 || n == 0)
		return NULL;
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == '\r'))
		buf[--n] = '\0';
	return xstrdup(buf);
}

static void
test_jose_cli(void **state)
{
	char dir[] = "/tmp/test_jws.XXXXXX", *cmd, *tok, *pubs;
	struct jws_token *t = NULL;
	json_t *pub, *claims;
	FILE *f;

	(void)state;
	if (access("/usr/bin/jose", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("jose jwk gen -i '{\"alg\":\"ES256\"}' -o %s/k.jwk",
	    dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	claims = claims_at(time(NULL));
	cmd = xasprintf("%s/claims.json", dir);
	f = fopen(cmd, "w");
	assert_non_null(f);
	assert_int_equal(json_dumpf(claims, f, JSON_COMPACT), 0);
	fclose(f);
	free(cmd);
	cmd = xasprintf("jose jws sig -I %s/claims.json -k %s/k.jwk -c "
	    "-s '{\"protected\":{\"typ\":\"JWT\",\"kid\":\"cli\"}}'", dir, dir);
	tok = run(cmd);
	free(cmd);
	assert_non_null(tok);
	cmd = xasprintf("jose jwk pub -i %s/k.jwk", dir);
	pubs = run(cmd);
	free(cmd);
	assert_non_null(pubs);
	pub = json_loads(pubs, 0, NULL);
	assert_non_null(pub);

	assert_int_equal(parse_str(tok, &t), DV_OK);
	assert_string_equal(json_get_str(t->header, "alg"), "ES256");
	assert_int_equal(jws_verify_jwk(t, pub), DV_OK);
	assert_int_equal(jws_check_times(t->claims, time(NULL)), DV_OK);
	jws_token_free(t);

	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	json_decref(pub);
	json_decref(claims);
	free(pubs);
	free(tok);
}

/* ---- claims ----------------------------------------------------------- */

static void
test_times(void **state)
{
	json_t *c;

	(void)state;
	c = claims_at(NOW);
	assert_int_equal(jws_check_times(c, NOW), DV_OK);
	/* 1 minute of leeway each side */
	assert_int_equal(jws_check_times(c, NOW - 60), DV_OK);
	assert_int_equal(jws_check_times(c, NOW + 300 + 60), DV_OK);
	/* expired */
	assert_int_equal(jws_check_times(c, NOW + 300 + 61),
	    DV_ERR_TOKEN_EXPIRED);
	/* not yet valid */
	assert_int_equal(jws_check_times(c, NOW - 61), DV_ERR_TOKEN_EXPIRED);
	/* issued in the future (no nbf) */
	json_object_del(c, "nbf");
	assert_int_equal(jws_check_times(c, NOW - 61), DV_ERR_TOKEN_EXPIRED);
	/* more than an hour between start and exp */
	json_object_set_new(c, "exp", json_integer(NOW + 3601));
	assert_int_equal(jws_check_times(c, NOW), DV_ERR_TOKEN_EXPIRED);
	json_object_set_new(c, "exp", json_integer(NOW + 3600));
	assert_int_equal(jws_check_times(c, NOW), DV_OK);
	/* a real number is a NumericDate too */
	json_object_set_new(c, "exp", json_real(NOW + 10.5));
	assert_int_equal(jws_check_times(c, NOW), DV_OK);
	/* exp required, numbers only */
	json_object_set_new(c, "exp", json_string("tomorrow"));
	assert_int_equal(jws_check_times(c, NOW), DV_ERR_BAD_TOKEN);
	json_object_del(c, "exp");
	assert_int_equal(jws_check_times(c, NOW), DV_ERR_BAD_TOKEN);
	json_object_set_new(c, "exp", json_integer(NOW + 10));
	json_object_set_new(c, "nbf", json_true());
	assert_int_equal(jws_check_times(c, NOW), DV_ERR_BAD_TOKEN);
	json_object_set_new(c, "nbf", json_integer(-5));
	assert_int_equal(jws_check_times(c, NOW), DV_ERR_BAD_TOKEN);
	json_decref(c);
}

static void
test_audience(void **state)
{
	static const char *const auds[] = {
		"https://ca.example:9000/t/default/account/1.0/sign",
		"step-certificate-authority",
	};
	json_t *c;

	(void)state;
	c = json_pack("{s:s}", "aud",
	    "https://ca.example:9000/t/default/account/1.0/sign");
	assert_true(jws_check_audience(c, auds, 2));
	/* stripPort: another port, or none, is the same audience */
	json_object_set_new(c, "aud", json_string(
	    "https://ca.example/t/default/account/1.0/sign"));
	assert_true(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_string(
	    "https://ca.example:443/t/default/account/1.0/sign"));
	assert_true(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_string(
	    "https://evil.example:9000/t/default/account/1.0/sign"));
	assert_false(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_string(
	    "https://ca.example:9000/t/default/account/1.0/revoke"));
	assert_false(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_pack("[s,s]", "other",
	    "step-certificate-authority"));
	assert_true(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_pack("[i,s]", 1, "other"));
	assert_false(jws_check_audience(c, auds, 2));
	json_object_set_new(c, "aud", json_integer(1));
	assert_false(jws_check_audience(c, auds, 2));
	json_object_del(c, "aud");
	assert_false(jws_check_audience(c, auds, 2));
	json_decref(c);
}

/* jws_verify_key (key decoded once, pki_verify_jws) agrees with libjose's
 * verification (jws_verify_jwk) for every alg, on good and bad tokens. */
static void
test_verify_key_all_algs(void **state)
{
	static const char *const algs[] = { "ES256", "ES384", "ES512",
	    "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "EdDSA" };
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++) {
		json_t *jwk = NULL, *other = NULL, *pub, *claims;
		struct jws_token *t = NULL, *bad = NULL;
		EVP_PKEY *k = NULL, *ko = NULL;
		char *tok = NULL, *tampered;
		size_t n;

		assert_int_equal(jws_jwk_generate(algs[i], &jwk), DV_OK);
		assert_int_equal(jws_jwk_generate(algs[i], &other), DV_OK);
		claims = json_pack("{s:s,s:i}", "sub", "x", "exp", 2000000000);
		assert_int_equal(jws_sign(jwk, NULL, claims, &tok), DV_OK);
		assert_int_equal(jws_parse(tok, strlen(tok), &t), DV_OK);
		pub = jws_jwk_public(jwk);
		assert_int_equal(jws_jwk_to_pkey(pub, &k), DV_OK);
		assert_int_equal(jws_jwk_to_pkey(other, &ko), DV_OK);
		assert_int_equal(jws_verify_key(t, pub, k), DV_OK);
		assert_int_equal(jws_verify_jwk(t, pub), DV_OK);
		/* another key of the same alg */
		assert_int_equal(jws_verify_key(t, NULL, ko), DV_ERR_BAD_TOKEN);
		/* a flipped signature character */
		tampered = xstrdup(tok);
		n = strlen(tampered);
		tampered[n - 2] = tampered[n - 2] == 'A' ? 'B' : 'A';
		assert_int_equal(jws_parse(tampered, n, &bad), DV_OK);
		assert_int_equal(jws_verify_key(bad, pub, k), DV_ERR_BAD_TOKEN);
		assert_int_equal(jws_verify_jwk(bad, pub), DV_ERR_BAD_TOKEN);
		jws_token_free(bad);
		free(tampered);
		jws_token_free(t);
		free(tok);
		pki_key_free(k);
		pki_key_free(ko);
		json_decref(pub);
		json_decref(claims);
		json_decref(jwk);
		json_decref(other);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_b64url),
		cmocka_unit_test(test_b64url_vs_libjose),
		cmocka_unit_test(test_roundtrip_es256),
		cmocka_unit_test(test_roundtrip_es384),
		cmocka_unit_test(test_roundtrip_rs256),
		cmocka_unit_test(test_roundtrip_ps256),
		cmocka_unit_test(test_roundtrip_eddsa),
		cmocka_unit_test(test_generate_refused),
		cmocka_unit_test(test_eddsa_rfc8037),
		cmocka_unit_test(test_thumbprint_rfc7638),
		cmocka_unit_test(test_pkey),
		cmocka_unit_test(test_refuse_alg_none),
		cmocka_unit_test(test_refuse_crit_b64),
		cmocka_unit_test(test_refuse_duplicate_keys),
		cmocka_unit_test(test_refuse_malformed),
		cmocka_unit_test(test_refuse_oversized),
		cmocka_unit_test(test_refuse_tampered),
		cmocka_unit_test(test_refuse_small_rsa),
		cmocka_unit_test(test_jose_cli),
		cmocka_unit_test(test_times),
		cmocka_unit_test(test_audience),
		cmocka_unit_test(test_verify_key_all_algs),
	};

	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_DEBUG : LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
