/*
 * jws_int.h - internals shared by the files of src/jws (STYLE rule 1); no
 * other module includes this header.
 */
#ifndef DV_JWS_INT_H
#define DV_JWS_INT_H

#include <jose/jose.h>

#include "jws.h"

/*
 * One accepted JWS algorithm (RFC 7518 §3.1, RFC 8037 §3.1) and the key it
 * needs.  Anything not in this table - "none", HS*, unknown names - is
 * refused by jws_parse() before a key is ever looked at.
 */
struct jws_alg {
	const char	*name;		/* "ES256" ... */
	const char	*kty;		/* "EC", "RSA", "OKP" */
	const char	*crv;		/* required curve, NULL for RSA */
};

/* Returns the table entry for name, or NULL when the alg is refused. */
const struct jws_alg *jws_alg_find(const char *name);

/*
 * Returns the alg a JWK signs with: its "alg" member if any, else the one
 * its kty/crv imply (EC by curve, RSA -> RS256, OKP Ed25519 -> EdDSA).
 * NULL when the JWK fits no accepted alg.
 */
const struct jws_alg *jws_alg_for_jwk(const json_t *jwk);

/*
 * Checks that jwk is a key for alg: kty and crv match, an RSA modulus has
 * DV_MIN_RSA_BITS..DV_MAX_RSA_BITS bits, and a JWK "alg" member, if any,
 * equals alg (RFC 7517 §4.4).  Returns DV_ERR_BAD_KEY, logged.
 */
enum dv_rc	jws_key_check(const json_t *jwk, const struct jws_alg *alg);

/*
 * libjose reports errors through a callback that by default prints to
 * stderr.  jws_cfg_new() returns a new configuration whose callback keeps
 * the first message in e->msg for our own log instead.
 */
struct jws_jose_err {
	char		 msg[160];
};
jose_cfg_t	*jws_cfg_new(struct jws_jose_err *e);
/* jose_cfg_decref() that accepts NULL (libjose's does not). */
void		jws_cfg_free(jose_cfg_t *);

/* Overwrites the private members of a JWK (rule 14) and drops it. */
void		jws_jwk_wipe_free(json_t *jwk);

/*
 * Ed25519 (RFC 8037), which libjose 11 does not implement.  Keys are moved
 * in and out of OpenSSL through src/pki (fixed RFC 8410 DER prefixes).
 */
enum dv_rc	jws_okp_generate(json_t **out);
enum dv_rc	jws_okp_from_pkey(EVP_PKEY *, bool priv, json_t **out);
/* The public key of an OKP (Ed25519) JWK.  *out is new. */
enum dv_rc	jws_okp_public_pkey(const json_t *jwk, EVP_PKEY **out);
/* Signs input with the private OKP JWK; *sig is new (64 bytes). */
enum dv_rc	jws_okp_sign(const json_t *jwk, const char *input, size_t len,
		    uint8_t **sig, size_t *siglen);
/* Verifies sig over input with the OKP JWK: DV_OK or DV_ERR_BAD_TOKEN. */
enum dv_rc	jws_okp_verify(const json_t *jwk, const char *input,
		    size_t len, const uint8_t *sig, size_t siglen);

/* Splits t->compact into its three segments (borrowed pointers into it). */
struct jws_parts {
	const char	*hdr;
	size_t		 hdrlen;
	const char	*payload;
	size_t		 payloadlen;
	const char	*sig;
	size_t		 siglen;
};
void		jws_split(const char *compact, struct jws_parts *out);
/* True if the len characters of s are all base64url (compact.c). */
bool		jws_b64url_valid(const char *s, size_t len);

#endif
