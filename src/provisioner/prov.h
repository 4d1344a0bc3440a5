/*
 * prov.h - provisioners: how an authority decides that a request may be
 * signed (spec/provisioners.md §1.9, §2.1, §2.2, §3).  Provisioners know
 * nothing of HTTP; the authority calls them with the token text and the
 * audiences it answers to.
 */
#ifndef DV_PROV_H
#define DV_PROV_H

#include <stdbool.h>
#include <time.h>

#include "base/base.h"
#include "pki/pki.h"

/* step-ca's provisioner type integers (provisioner extension). */
enum prov_type {
	PROV_JWK = 1,
	PROV_OIDC = 2,
	PROV_GCP = 3,
	PROV_AWS = 4,
	PROV_AZURE = 5,
	PROV_ACME = 6,
	PROV_X5C = 7,
	PROV_SCEP = 10,
};

/* Claims (spec §3.1), seconds. */
struct prov_claims {
	int64_t		 min_dur;		/* default 5m */
	int64_t		 max_dur;		/* default 24h */
	int64_t		 default_dur;		/* default 24h */
	bool		 disable_renewal;
	bool		 allow_renewal_after_expiry;
	bool		 disable_smallstep_ext;
};

/* Name policy (spec §3.3): allow/deny per type; empty = no rule. */
struct prov_names {
	char		**dns, **ip, **email, **uri, **cn;	/* owned, NULL-terminated */
};
struct prov_policy {
	struct prov_names allow;
	struct prov_names deny;
	bool		 allow_wildcard;
	bool		 present;	/* any rule at all */
};

struct prov;		/* opaque: one configured provisioner */
struct prov_set;	/* the provisioners of one authority */

/*
 * Loads one provisioner from its step-ca-shaped JSON (ca.json
 * authority.provisioners[] entry): "type" JWK or X5C (case-insensitive),
 * "name", "key"/"encryptedKey" (JWK), "roots" (X5C: base64 of a PEM bundle,
 * or "rootsFile": a path, devid extension), "claims", "policy" (devid
 * extension: per provisioner, spec §3.3 shape).  Claims missing from the
 * object come from global.  Unknown types are DV_ERR_NOT_IMPLEMENTED.
 */
enum dv_rc	prov_load(const json_t *cfg, const struct prov_claims *global,
		    struct prov **out);
void		prov_free(struct prov *);
enum prov_type	prov_get_type(const struct prov *);
const char	*prov_get_name(const struct prov *);
/* The configuration JSON as GET /provisioners lists it (borrowed). */
const json_t	*prov_get_json(const struct prov *);
const struct prov_claims *prov_get_claims(const struct prov *);
/* JWK: kid and encryptedKey (NULL if none), borrowed. */
const char	*prov_jwk_kid(const struct prov *);
const char	*prov_jwk_encrypted_key(const struct prov *);

struct prov_set	*prov_set_new(void);
/* Adds p (takes ownership); DV_ERR_EXISTS on a duplicate name or token id. */
enum dv_rc	prov_set_add(struct prov_set *, struct prov *p);
void		prov_set_free(struct prov_set *);
size_t		prov_set_count(const struct prov_set *);
struct prov	*prov_set_get(const struct prov_set *, size_t i);
struct prov	*prov_set_find(const struct prov_set *, const char *name);

enum prov_method { PROV_SIGN, PROV_REVOKE, PROV_RENEW, PROV__MAX };

/* What a verified token allows. */
struct prov_authz {
	struct prov	*prov;		/* borrowed from the set */
	char		*sub;		/* owned */
	struct pki_sans	 sans;		/* owned: from the token (sign) */
	char		*token_id;	/* owned: replay key (jti or sha256) */
	time_t		 token_exp;
	bool		 has_cnf;
	uint8_t		 cnf_sha256[32];/* cnf "x5rt#S256" */
	X509		*x5c_leaf;	/* owned, X5C only: bounds validity */
	char		*actor;		/* owned: "jwk/<name>", "x5c/<name>:<cn>" */
};
void		prov_authz_free(struct prov_authz *);

/*
 * The token pipeline of spec §1.9: parse; pick the provisioner by
 * audience fragment (#x5c/<name>) or iss + kid (JWK); verify the signature
 * (JWK key, or x5c chain to the provisioner roots with clientAuth and
 * digitalSignature, then the leaf key); iss == name; times with leeway;
 * aud one of auds[0..n) (with "#x5c/<name>" appended for X5C); sub not
 * empty; sign: sans (default [sub]) and cnf; revoke: sub is the serial.
 * Does NOT record the token id: the caller stores it atomically with its
 * effect.  *out is new.
 */
enum dv_rc	prov_authorize(const struct prov_set *, const char *token,
		    enum prov_method, const char *const *auds, size_t n,
		    time_t now, struct prov_authz **out);

/*
 * Sign options on the CSR (spec §2.1): CN empty, == sub or one of the sans;
 * for each SAN type the CSR lists, the set equals the token's; cnf matches
 * the CSR DER; key allowed (pki_csr_parse already limited types).
 */
enum dv_rc	prov_check_csr(const struct prov_authz *,
		    const struct pki_csr *);

/*
 * Validity (spec §3.1): nb/na are the request's notBefore/notAfter strings
 * (RFC 3339 or a duration; NULL/"" absent); backdate 1 min; checked against
 * the claims; X5C clips the default end to the x5c leaf's notAfter and
 * refuses requests outside the leaf's validity.
 */
enum dv_rc	prov_validity(const struct prov_authz *, const char *nb,
		    const char *na, time_t now, time_t *not_before,
		    time_t *not_after);

/* Name policy of p over cn and sans: DV_ERR_POLICY naming the first
 * refused name in the log. */
enum dv_rc	prov_policy_check(const struct prov *p, const char *cn,
		    const struct pki_sans *sans);

/*
 * The renew bearer token (spec §1.5): x5cInsecure header chain verifies to
 * trust at leaf notAfter - 1 min with clientAuth + digitalSignature; JWS
 * signature by the leaf; sub == leaf CN; times with leeway; aud one of
 * auds; iss "step-ca-client/1.0" or a provisioner name.  *leaf is new;
 * *token_id the replay key (sha256 of the token, hex).
 */
enum dv_rc	prov_authorize_renew_token(const struct pki_trust *trust,
		    const struct prov_set *, const char *token,
		    const char *const *auds, size_t n, time_t now, X509 **leaf,
		    char **token_id, time_t *token_exp);

/* Default claims: 5m / 24h / 24h. */
void		prov_claims_default(struct prov_claims *);
/* Reads a "claims" object over base (missing keys keep base's values);
 * checks 0 < min <= default <= max. */
enum dv_rc	prov_claims_load(const json_t *, const struct prov_claims *base,
		    struct prov_claims *out);

#endif
