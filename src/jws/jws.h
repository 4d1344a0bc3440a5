/*
 * jws.h - JWS/JWT/JWK over libjose (DESIGN §4).  The module lives in
 * src/jws/ rather than src/jose/ so that "jose/jose.h" always means libjose's
 * header; the prefix is jws_ (jose_ belongs to libjose, rule 4).
 */
#ifndef DV_JWS_H
#define DV_JWS_H

#include <openssl/evp.h>

#include "base/base.h"

/* A compact JWS split and decoded, signature NOT yet verified. */
struct jws_token {
	char		*compact;	/* owned copy of the token */
	json_t		*header;	/* owned: protected header */
	json_t		*claims;	/* owned: payload as a JSON object */
};

/*
 * Splits a compact JWS (header.payload.signature), bounded by DV_MAX_TOKEN,
 * decodes the header and payload as strict JSON objects.  Refuses "alg":
 * "none", unknown algs, and any "crit" header.  *out is new.
 */
enum dv_rc	jws_parse(const char *s, size_t len, struct jws_token **out);
void		jws_token_free(struct jws_token *);

/* Verifies the signature with a public JWK (json object). */
enum dv_rc	jws_verify_jwk(const struct jws_token *, const json_t *jwk);
/* Verifies the signature with a public key (e.g. an x5c leaf's). */
enum dv_rc	jws_verify_pkey(const struct jws_token *, EVP_PKEY *);

/*
 * Verifies the signature with k, a key decoded once (e.g. when a
 * provisioner was loaded, jws_jwk_to_pkey) instead of on every token; when
 * jwk is not NULL, its "alg"/"use" must also allow the token's alg.
 */
enum dv_rc	jws_verify_key(const struct jws_token *, const json_t *jwk,
		    EVP_PKEY *k);
/* The public key of a JWK (EC, RSA, OKP).  *out is new (pki_key_free). */
enum dv_rc	jws_jwk_to_pkey(const json_t *jwk, EVP_PKEY **out);

/* Signs claims with the private JWK, header gets alg, kid (if the JWK has
 * one) and typ JWT plus extra members of hdr (may be NULL).  *out is new. */
enum dv_rc	jws_sign(const json_t *jwk, const json_t *hdr,
		    const json_t *claims, char **out);
/* Signs with a private EVP_PKEY (x5c tokens); alg from the key. */
enum dv_rc	jws_sign_pkey(EVP_PKEY *, const json_t *hdr,
		    const json_t *claims, char **out);

/* New private JWK for alg ("ES256", "ES384", "RS256", "EdDSA"). */
enum dv_rc	jws_jwk_generate(const char *alg, json_t **out);
/* Public part of a JWK (new reference). */
json_t		*jws_jwk_public(const json_t *jwk);
/* RFC 7638 SHA-256 thumbprint, base64url (new string). */
enum dv_rc	jws_jwk_thumbprint(const json_t *jwk, char **out);
/* JWK from an EVP_PKEY (new reference), public only unless priv. */
enum dv_rc	jws_jwk_from_pkey(EVP_PKEY *, bool priv, json_t **out);
/* Checks that jwk can verify tokens: its "alg" (or the one its kty/crv
 * imply) is an accepted signature alg, kty/crv fit it, "use" is "sig" if
 * present, an RSA modulus has DV_MIN_RSA_BITS..DV_MAX_RSA_BITS bits.
 * DV_ERR_BAD_KEY, logged, otherwise. */
enum dv_rc	jws_jwk_check(const json_t *jwk);

/* Time claims with leeway (DV_TOKEN_LEEWAY): exp required, nbf and iat
 * optional, exp - max(nbf, iat) <= DV_MAX_TOKEN_LIFETIME. */
enum dv_rc	jws_check_times(const json_t *claims, time_t now);
/* True if claim "aud" (string or array) contains one of auds[0..n). */
bool		jws_check_audience(const json_t *claims,
		    const char *const *auds, size_t n);

/* base64url without padding (new string) and back. */
char		*jws_b64url_encode(const uint8_t *, size_t);
enum dv_rc	jws_b64url_decode(const char *, uint8_t **out, size_t *len);

/* ---- flattened JSON serialization (RFC 7515 §7.2.2; ACME, issue 5) ---- */
/* A flattened JWS decoded, signature NOT yet verified. */
struct jws_flat {
	json_t		*header;	/* owned: the protected header */
	uint8_t		*payload;	/* owned, NULL when empty */
	size_t		 payloadlen;	/* 0: POST-as-GET (RFC 8555 §6.3) */
	char		*input;		/* owned: signing input, prot "." pay */
	size_t		 inputlen;
	uint8_t		*sig;		/* owned */
	size_t		 siglen;
};
/*
 * Parses body, at most DV_MAX_TOKEN bytes (DV_ERR_TOO_LARGE), as a strict
 * JSON object with exactly "protected", "payload" and "signature" (no
 * unprotected header), each base64url; the protected header a JSON object
 * with a string "alg" and no "crit".  DV_ERR_MALFORMED otherwise, logged.
 * *out is new (jws_flat_free).  The alg is not checked here: see
 * jws_alg_accepted().
 */
enum dv_rc	jws_flat_parse(const uint8_t *body, size_t len,
		    struct jws_flat **out);
void		jws_flat_free(struct jws_flat *);
/* True if alg is one this module verifies (ES*, RS*, PS*, EdDSA). */
bool		jws_alg_accepted(const char *alg);
/*
 * Verifies f with the public jwk: DV_ERR_BAD_TOKEN for an alg not
 * accepted, DV_ERR_BAD_KEY when jwk does not fit the alg or is not
 * acceptable (jws_jwk_check rules), DV_ERR_UNAUTHORIZED when the
 * signature does not verify.
 */
enum dv_rc	jws_flat_verify(const struct jws_flat *, const json_t *jwk);
/* The same with k, jwk already decoded (jws_jwk_to_pkey), so that a
 * caller that sees one key often decodes it once. */
enum dv_rc	jws_flat_verify_key(const struct jws_flat *, const json_t *jwk,
		    EVP_PKEY *k);
/*
 * Verifies f, the MAC-protected JWS of an ACME external account binding
 * (RFC 8555 §7.3.4), with the HMAC key (keylen bytes) through libjose:
 * DV_ERR_BAD_TOKEN when alg is not HS256, HS384 or HS512,
 * DV_ERR_UNAUTHORIZED when the MAC does not verify (including a key
 * shorter than the hash output, RFC 7518 §3.2).
 */
enum dv_rc	jws_flat_verify_hmac(const struct jws_flat *,
		    const uint8_t *key, size_t keylen);

#endif
