/*
 * prov_int.h - internals shared by the files of src/provisioner (STYLE
 * rule 1); no other module includes this header.
 */
#ifndef DV_PROV_INT_H
#define DV_PROV_INT_H

#include "prov.h"

/* authority.backdate (spec §1.10 step 1, §3.1): one minute. */
#define PROV_BACKDATE		60

/* iss of the renew token made by step >= 0.18 (spec §1.5). */
#define PROV_RENEW_ISSUER	"step-ca-client/1.0"

struct prov {
	enum prov_type	 type;
	char		*name;		/* owned */
	/* owned: the token id of spec §1.9, "name:kid" (JWK), "x5c/name" */
	char		*token_id;
	json_t		*json;		/* owned: as /provisioners lists it */
	struct prov_claims claims;
	struct prov_policy policy;	/* owned lists */

	/* JWK (spec §2.1) */
	json_t		*jwk;		/* owned: the public key */
	EVP_PKEY	*pkey;		/* owned: jwk decoded once */
	char		*kid;		/* owned */
	char		*encrypted_key;	/* owned, NULL if none */

	/* X5C (spec §2.2) */
	struct pki_trust *roots;	/* owned */
};

struct prov_set {
	struct prov	**v;		/* owned, each owned */
	size_t		 n;
};

/* Logs a refusal once, where it is detected (rule 9): the clause of the
 * spec, the provisioner (may be NULL) and the offending value (may be
 * NULL, escaped by jansson). */
void		prov_log(const char *event, const char *clause,
		    const struct prov *, const char *value);

/* Name policy (policy.c). */
enum dv_rc	prov_policy_load(const json_t *, struct prov_policy *out);
void		prov_policy_clear(struct prov_policy *);

/* The provisioner whose token id (spec §1.9) is id, or NULL. */
struct prov	*prov_set_find_token_id(const struct prov_set *,
		    const char *id);

/*
 * Decodes the x5c-style header member (RFC 7515 §4.1.6: standard base64
 * DER, leaf first, at most DV_MAX_CHAIN).  *leaf is new; *chain is new, or
 * NULL when the header holds the leaf only.  DV_ERR_BAD_TOKEN, logged.
 */
enum dv_rc	prov_x5c_decode(const json_t *hdr, const char *member,
		    X509 **leaf, STACK_OF(X509) **chain);

/* SHA-256 of the token text in lower-case hex (the replay key when the
 * token has no jti, spec §1.9 step 3).  New string. */
char		*prov_token_sha256(const char *token);

#endif
