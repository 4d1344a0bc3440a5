/*
 * jwk.c - JSON Web Keys (RFC 7517) through libjose: generation, public
 * part, RFC 7638 thumbprints, conversion from EVP_PKEY, and the check that
 * a key fits a JWS alg (RFC 7518 §3.1).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jose/openssl.h>

#include "jws_int.h"
#include "pki/pki.h"

/* Private members of every kty (RFC 7518 §6.2.2, §6.3.2, §6.4; RFC 8037). */
static const char *const private_members[] = {
	"d", "p", "q", "dp", "dq", "qi", "oth", "k",
};

static void
key_reject(const char *clause, const char *value)
{
	log_msg(LOG_WARN, "jwk.rejected", "{s:s,s:s*}", "reason", clause,
	    "value", value);
}

static void
jose_errfn(void *misc, const char *file, int line, uint64_t err,
    const char *fmt, va_list ap)
{
	struct jws_jose_err *e = misc;

	if (e != NULL && e->msg[0] == '\0')
		vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
}

jose_cfg_t *
jws_cfg_new(struct jws_jose_err *e)
{
	jose_cfg_t *cfg;

	memset(e, 0, sizeof(*e));
	if ((cfg = jose_cfg()) == NULL)
		abort();	/* allocation failure, rule 11 */
	jose_cfg_set_err_func(cfg, jose_errfn, e);
	return cfg;
}

void
jws_cfg_free(jose_cfg_t *cfg)
{
	if (cfg != NULL)
		jose_cfg_decref(cfg);
}

void
jws_jwk_wipe_free(json_t *jwk)
{
	json_t *v;
	size_t i;

	if (jwk == NULL)
		return;
	/* only the last reference may scrub what others would still read */
	if (jwk->refcount == 1) {
		for (i = 0; i < sizeof(private_members) /
		    sizeof(private_members[0]); i++) {
			v = json_object_get(jwk, private_members[i]);
			if (json_is_string(v))
				explicit_bzero((char *)json_string_value(v),
				    json_string_length(v));
		}
	}
	json_decref(jwk);
}

/* Bits of a big-endian unsigned integer. */
static size_t
bignum_bits(const uint8_t *b, size_t len)
{
	size_t bits;
	uint8_t top;

	while (len > 0 && b[0] == 0) {
		b++;
		len--;
	}
	if (len == 0)
		return 0;
	bits = (len - 1) * 8;
	for (top = b[0]; top != 0; top >>= 1)
		bits++;
	return bits;
}

enum dv_rc
jws_key_check(const json_t *jwk, const struct jws_alg *alg)
{
	const char *kty, *crv, *kalg, *use;
	uint8_t *raw = NULL;
	size_t rawlen, bits;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	if (!json_is_object(jwk) || alg == NULL) {
		key_reject("RFC 7517 §4: key is not a JWK", NULL);
		goto out;
	}
	kty = json_get_str(jwk, "kty");
	if (kty == NULL || strcmp(kty, alg->kty) != 0) {
		key_reject("RFC 7518 §3.1: kty does not fit the alg", kty);
		goto out;
	}
	crv = json_get_str(jwk, "crv");
	if (alg->crv != NULL && (crv == NULL || strcmp(crv, alg->crv) != 0)) {
		key_reject("RFC 7518 §3.4: crv does not fit the alg", crv);
		goto out;
	}
	kalg = json_get_str(jwk, "alg");
	if (json_object_get(jwk, "alg") != NULL &&
	    (kalg == NULL || strcmp(kalg, alg->name) != 0)) {
		key_reject("RFC 7517 §4.4: key alg differs from token alg",
		    kalg);
		goto out;
	}
	use = json_get_str(jwk, "use");
	if (json_object_get(jwk, "use") != NULL &&
	    (use == NULL || strcmp(use, "sig") != 0)) {
		key_reject("RFC 7517 §4.2: key use is not sig", use);
		goto out;
	}
	if (strcmp(alg->kty, "RSA") == 0) {
		if (jws_b64url_decode(json_get_str(jwk, "n"), &raw, &rawlen) !=
		    DV_OK) {
			key_reject("RFC 7518 §6.3.1.1: RSA n missing", NULL);
			goto out;
		}
		bits = bignum_bits(raw, rawlen);
		if (bits < DV_MIN_RSA_BITS || bits > DV_MAX_RSA_BITS) {
			key_reject("limits.h DV_MIN_RSA_BITS: RSA modulus size "
			    "not accepted", NULL);
			goto out;
		}
	} else if (strcmp(alg->kty, "OKP") == 0) {
		if (jws_b64url_decode(json_get_str(jwk, "x"), &raw, &rawlen) !=
		    DV_OK || rawlen != 32) {
			key_reject("RFC 8037 §2: Ed25519 x is not 32 bytes",
			    NULL);
			goto out;
		}
	} else if (!json_is_string(json_object_get(jwk, "x")) ||
	    !json_is_string(json_object_get(jwk, "y"))) {
		key_reject("RFC 7518 §6.2.1: EC x or y missing", NULL);
		goto out;
	}
	rc = DV_OK;
out:
	free(raw);
	return rc;
}

enum dv_rc
jws_jwk_check(const json_t *jwk)
{
	const struct jws_alg *alg;

	if ((alg = jws_alg_for_jwk(jwk)) == NULL) {
		key_reject("RFC 7518 §3.1: the key fits no accepted alg",
		    json_get_str(jwk, "alg"));
		return DV_ERR_BAD_KEY;
	}
	return jws_key_check(jwk, alg);
}

enum dv_rc
jws_jwk_generate(const char *alg, json_t **out)
{
	struct jws_jose_err e;
	const struct jws_alg *a;
	jose_cfg_t *cfg = NULL;
	json_t *jwk = NULL;
	char *kid = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((a = jws_alg_find(alg)) == NULL) {
		key_reject("RFC 7518 §3.1: cannot generate a key for alg",
		    alg);
		return DV_ERR_BAD_KEY;
	}
	if (strcmp(a->kty, "OKP") == 0) {
		if ((rc = jws_okp_generate(&jwk)) != DV_OK)
			goto err;
		json_object_set_new(jwk, "alg", json_string(a->name));
		json_object_set_new(jwk, "use", json_string("sig"));
	} else {
		/* "use" rather than libjose's default key_ops, as step does */
		jwk = json_pack("{s:s,s:s}", "alg", a->name, "use", "sig");
		if (jwk == NULL)
			abort();
		cfg = jws_cfg_new(&e);
		if (!jose_jwk_gen(cfg, jwk)) {
			log_msg(LOG_ERR, "jwk.generate", "{s:s,s:s}", "alg",
			    a->name, "error", e.msg);
			pki_log_errors(LOG_ERR, "jwk.generate");
			rc = DV_ERR_CRYPTO;
			goto err;
		}
	}
	if ((rc = jws_jwk_thumbprint(jwk, &kid)) != DV_OK)
		goto err;
	json_object_set_new(jwk, "kid", json_string(kid));
	*out = jwk;
	jwk = NULL;
err:
	free(kid);
	jws_jwk_wipe_free(jwk);
	jws_cfg_free(cfg);
	return rc;
}

/* Drops "sign" (and other private operations) from key_ops. */
static void
key_ops_public(json_t *jwk)
{
	json_t *ops, *keep, *v;
	size_t i;

	if (!json_is_array(ops = json_object_get(jwk, "key_ops")))
		return;
	keep = json_array();
	json_array_foreach(ops, i, v) {
		const char *s = json_string_value(v);

		if (s != NULL && (strcmp(s, "verify") == 0 ||
		    strcmp(s, "encrypt") == 0 || strcmp(s, "wrapKey") == 0))
			json_array_append(keep, v);
	}
	json_object_set_new(jwk, "key_ops", keep);
}

json_t *
jws_jwk_public(const json_t *jwk)
{
	struct jws_jose_err e;
	jose_cfg_t *cfg;
	const char *kty;
	json_t *pub;
	size_t i;

	if (!json_is_object(jwk))
		return NULL;
	if ((pub = json_deep_copy(jwk)) == NULL)
		abort();
	kty = json_get_str(pub, "kty");
	if (kty != NULL && strcmp(kty, "OKP") == 0) {
		/* libjose 11 has no OKP type: RFC 8037 §2, d is private */
		json_object_del(pub, "d");
		key_ops_public(pub);
	} else {
		cfg = jws_cfg_new(&e);
		if (!jose_jwk_pub(cfg, pub)) {
			log_msg(LOG_WARN, "jwk.rejected", "{s:s,s:s}", "reason",
			    "RFC 7517 §4: no public part", "error", e.msg);
			json_decref(pub);
			pub = NULL;
		}
		jws_cfg_free(cfg);
	}
	if (pub == NULL)
		return NULL;
	/* libjose 11 keeps "d" in a JWK without key_ops: whatever the kty,
	 * no private member leaves */
	for (i = 0; i < sizeof(private_members) / sizeof(private_members[0]);
	    i++)
		json_object_del(pub, private_members[i]);
	return pub;
}

/* RFC 8037 §2 + RFC 7638 §3.2: the members crv, kty, x, sorted, compact. */
static enum dv_rc
okp_thumbprint(const json_t *jwk, char **out)
{
	const char *crv, *x;
	uint8_t md[32];
	json_t *m;
	char *s;

	crv = json_get_str(jwk, "crv");
	x = json_get_str(jwk, "x");
	if (crv == NULL || x == NULL) {
		key_reject("RFC 8037 §2: OKP key without crv or x", NULL);
		return DV_ERR_BAD_KEY;
	}
	m = json_pack("{s:s,s:s,s:s}", "crv", crv, "kty", "OKP", "x", x);
	if (m == NULL)
		abort();
	s = json_dumps(m, JSON_COMPACT | JSON_SORT_KEYS);
	json_decref(m);
	if (s == NULL)
		abort();
	pki_sha256(s, strlen(s), md);
	free(s);
	*out = jws_b64url_encode(md, sizeof(md));
	return DV_OK;
}

enum dv_rc
jws_jwk_thumbprint(const json_t *jwk, char **out)
{
	struct jws_jose_err e;
	jose_cfg_t *cfg;
	const char *kty;
	json_t *thp;

	*out = NULL;
	if (!json_is_object(jwk)) {
		key_reject("RFC 7638 §3: not a JWK", NULL);
		return DV_ERR_BAD_KEY;
	}
	kty = json_get_str(jwk, "kty");
	if (kty != NULL && strcmp(kty, "OKP") == 0)
		return okp_thumbprint(jwk, out);
	cfg = jws_cfg_new(&e);
	thp = jose_jwk_thp(cfg, jwk, "S256");
	jws_cfg_free(cfg);
	if (!json_is_string(thp)) {
		json_decref(thp);
		log_msg(LOG_WARN, "jwk.rejected", "{s:s,s:s}", "reason",
		    "RFC 7638 §3: thumbprint failed", "error", e.msg);
		return DV_ERR_BAD_KEY;
	}
	*out = xstrdup(json_string_value(thp));
	json_decref(thp);
	return DV_OK;
}

enum dv_rc
jws_jwk_from_pkey(EVP_PKEY *k, bool priv, json_t **out)
{
	struct jws_jose_err e;
	enum pki_sig_alg sa;
	jose_cfg_t *cfg = NULL;
	json_t *jwk = NULL;
	enum dv_rc rc = DV_ERR_BAD_KEY;

	*out = NULL;
	if (k == NULL) {
		key_reject("RFC 7517 §4: no key", NULL);
		return DV_ERR_BAD_KEY;
	}
	if (pki_key_sig_alg(k, &sa) == DV_OK && sa == PKI_SIG_ED25519)
		return jws_okp_from_pkey(k, priv, out);
	cfg = jws_cfg_new(&e);
	if ((jwk = jose_openssl_jwk_from_EVP_PKEY(cfg, k)) == NULL) {
		log_msg(LOG_WARN, "jwk.rejected", "{s:s,s:s}", "reason",
		    "RFC 7517 §4: key type has no JWK form", "error", e.msg);
		pki_log_errors(LOG_DEBUG, "jwk.from_pkey");
		goto out;
	}
	if (priv && json_object_get(jwk, "d") == NULL) {
		key_reject("RFC 7517 §4: key has no private part", NULL);
		goto out;
	}
	if (!priv) {
		/* libjose's jose_jwk_pub() keeps "d" when the JWK has no
		 * key_ops: jws_jwk_public() removes every private member */
		if ((*out = jws_jwk_public(jwk)) == NULL)
			goto out;
	} else {
		*out = jwk;
		jwk = NULL;
	}
	rc = DV_OK;
out:
	jws_jwk_wipe_free(jwk);
	jws_cfg_free(cfg);
	return rc;
}

enum dv_rc
jws_jwk_to_pkey(const json_t *jwk, EVP_PKEY **out)
{
	struct jws_jose_err e;
	jose_cfg_t *cfg;
	json_t *pub;
	const char *kty = json_get_str(jwk, "kty");

	*out = NULL;
	if (kty != NULL && strcmp(kty, "OKP") == 0)
		return jws_okp_public_pkey(jwk, out);
	/* libjose would make a private key of a private JWK: strip it */
	if ((pub = jws_jwk_public(jwk)) == NULL) {
		key_reject("RFC 7517 §4: not a usable public JWK", kty);
		return DV_ERR_BAD_KEY;
	}
	cfg = jws_cfg_new(&e);
	*out = jose_openssl_jwk_to_EVP_PKEY(cfg, pub);
	jws_cfg_free(cfg);
	json_decref(pub);
	if (*out == NULL) {
		key_reject("RFC 7517 §4: libjose cannot decode the JWK",
		    e.msg[0] != '\0' ? e.msg : kty);
		pki_log_errors(LOG_DEBUG, "jws.jwk");
		return DV_ERR_BAD_KEY;
	}
	return DV_OK;
}
