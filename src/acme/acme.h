/*
 * acme.h - the ACME server (RFC 8555) of an authority's ACME provisioners,
 * at /t/{team}/{authority}/acme/{provisioner}/... (DESIGN §2a, spec
 * provisioners.md §2.7), with ACME Renewal Information (RFC 9773).
 *
 * Knows nothing of evhttp: api/acme.c turns a request into a struct
 * acme_req, calls acme_handle() and writes the struct acme_resp back.
 * Every state (nonces, accounts, orders, authorizations, challenges) is in
 * the store, so any node can answer any request; state changes are store
 * transactions.  Challenges are validated by the worker threads of
 * acme_validators_start(), never on the request path.
 */
#ifndef DV_ACME_H
#define DV_ACME_H

#include "authority/ca.h"

/* RFC 8555 §6.7 error types (urn:ietf:params:acme:error:<name>). */
enum acme_err {
	ACME_ERR_NONE = 0,
	ACME_ERR_MALFORMED,
	ACME_ERR_BAD_NONCE,
	ACME_ERR_UNAUTHORIZED,
	ACME_ERR_ACCOUNT_DOES_NOT_EXIST,
	ACME_ERR_ORDER_NOT_READY,
	ACME_ERR_BAD_CSR,
	ACME_ERR_REJECTED_IDENTIFIER,
	ACME_ERR_UNSUPPORTED_IDENTIFIER,
	ACME_ERR_BAD_SIGNATURE_ALGORITHM,
	ACME_ERR_BAD_PUBLIC_KEY,
	ACME_ERR_CONNECTION,
	ACME_ERR_DNS,
	ACME_ERR_INCORRECT_RESPONSE,
	ACME_ERR_UNSUPPORTED_CONTACT,
	ACME_ERR_INVALID_CONTACT,
	ACME_ERR_EXTERNAL_ACCOUNT_REQUIRED,
	ACME_ERR_ALREADY_REVOKED,
	ACME_ERR_BAD_REVOCATION_REASON,
	ACME_ERR_SERVER_INTERNAL,
	ACME_ERR_NOT_FOUND,		/* malformed, status 404 */
	ACME_ERR_CONFLICT,		/* malformed, status 409 (§7.3.5) */
	ACME_ERR_METHOD,		/* malformed, status 405 */
	ACME_ERR_TOO_LARGE,		/* malformed, status 413 */
	ACME_ERR_MEDIA_TYPE,		/* malformed, status 415 */
	ACME_ERR_UNAVAILABLE,		/* serverInternal, status 503 */
	ACME_ERR_BAD_ATTESTATION_STATEMENT, /* draft-ietf-acme-device-attest */
	ACME_ERR_ALREADY_REPLACED,	/* RFC 9773 §5, status 409 */
	ACME_ERR__MAX
};

struct acme_err_info {
	const char	*type;		/* full URN */
	int		 status;	/* HTTP status of a response */
};
/* Never NULL (unknown values map to serverInternal). */
const struct acme_err_info *acme_err_info(enum acme_err);

struct acme_req {
	struct ca_authority *auth;	/* borrowed */
	struct prov	*prov;		/* borrowed: type PROV_ACME */
	bool		 post;		/* else GET (or HEAD) */
	bool		 head;
	const char	*rest;		/* path after .../acme/{prov}, "/..." */
	const char	*host;		/* Host header, may be NULL */
	const uint8_t	*body;		/* borrowed */
	size_t		 len;
	bool		 too_large;	/* the body was over the limit */
	const char	*ctype;		/* Content-Type, may be NULL */
	const char	*request_id;
};

#define ACME_MAX_LINKS	4

struct acme_resp {
	int		 status;
	json_t		*json;		/* owned, NULL: no JSON body */
	char		*pem;		/* owned: certificate chain */
	char		*location;	/* owned, may be NULL */
	char		*links[ACME_MAX_LINKS];	/* owned Link values */
	size_t		 nlinks;
	int		 retry_after;	/* seconds, 0: none */
	char		*nonce;		/* owned: Replay-Nonce */
	bool		 no_cache;	/* Cache-Control: no-store */
	bool		 problem;	/* json is application/problem+json */
	/* finalize: a signed certificate to store before answering */
	struct ca_issue	*iss;		/* owned */
	char		*order_id;	/* owned */
	char		*account_id;	/* owned */
};
void		acme_resp_clear(struct acme_resp *);

/*
 * Answers one ACME request: fills *resp (cleared on entry), always with
 * a fresh Replay-Nonce.  When resp->iss is set, the caller stores it with
 * ca_commit_submit() and then calls acme_finalize_done() with the result
 * before answering.
 */
void		acme_handle(const struct acme_req *, struct acme_resp *resp);
/* Completes a finalize once resp->iss was stored (rc of the commit):
 * the order becomes valid with the certificate, or invalid. */
void		acme_finalize_done(const struct acme_req *,
		    struct acme_resp *resp, enum dv_rc rc);

/*
 * External account binding keys (RFC 8555 §7.3.4) of team's ACME
 * provisioners, for the admin API (docs/api.md).  acme_eab_create: body
 * {"provisioner", "authority" (default "agent"), "reference"}; generates
 * a key id and a 256-bit HMAC key, stores both and the audit row
 * (acme.eab.create) in one transaction; *out (new) is the key's metadata
 * plus "hmacKey" (base64url), the only time it is shown.
 * acme_eab_list: *out (new) {"keys": [...]} without HMAC keys, of one
 * provisioner when name is not NULL.  acme_eab_delete: deletes and audits
 * (acme.eab.delete); DV_ERR_NOT_FOUND when team has no such key.  Bad
 * input: DV_ERR_MALFORMED / DV_ERR_NOT_FOUND with a fixed *detail.
 */
enum dv_rc	acme_eab_create(struct ca *ca, const char *team,
		    const json_t *body, const char *actor,
		    const char *request_id, json_t **out, const char **detail);
enum dv_rc	acme_eab_list(struct ca *ca, const char *team,
		    const char *authority, const char *name, json_t **out,
		    const char **detail);
enum dv_rc	acme_eab_delete(struct ca *ca, const char *team,
		    const char *id, const char *actor, const char *request_id);

/*
 * Run once at start, before serving: every order a stop left "processing"
 * becomes valid when the certificate it names is stored, else invalid
 * (serverInternal; the client orders again); logged acme.recovered.
 * *valid and *invalid count them.
 * XXX with several nodes on one store, a node starting while another
 * finalizes would fail that finalize; orders need a processing-since
 * time first.
 */
enum dv_rc	acme_recover(struct store *, unsigned *valid,
		    unsigned *invalid);

/* Checks the options of every ACME provisioner of ca (DV_ERR_MALFORMED,
 * logged), then starts n challenge-validation threads (before serving).
 * acme_validators_stop() lets them finish the queued validations and
 * joins them (accepts none started). */
enum dv_rc	acme_validators_start(struct ca *ca, unsigned n);
void		acme_validators_stop(void);
/* Frees the decoded account keys kept between requests (at shutdown,
 * once no request runs). */
void		acme_key_cache_clear(void);

#endif
