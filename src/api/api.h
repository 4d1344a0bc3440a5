/*
 * api.h - thin HTTP handlers per surface (DESIGN §3): the step-ca API of
 * each authority under /t/{team}/{authority}, CRL and OCSP.  Handlers parse
 * and bound the request, call src/authority, and render; no logic of their
 * own.
 */
#ifndef DV_API_H
#define DV_API_H

#include "authority/ca.h"
#include "http/http.h"

/* The server's one http_handler_fn; arg is the struct ca. */
void	api_handle(struct http_req *, void *arg);

/* A parsed POST /1.0/sign body (spec/provisioners.md §1.4). */
struct api_sign_req {
	json_t		*doc;		/* owned: the strings below live in it */
	const char	*csr;
	const char	*ott;
	const char	*not_before;	/* may be NULL */
	const char	*not_after;	/* may be NULL */
};
/*
 * Parses and checks a sign request body (strict JSON, known members only,
 * csr and ott present).  On failure *detail is a fixed client-facing text.
 * Free with api_sign_req_clear.
 */
enum dv_rc	api_sign_req_parse(const uint8_t *body, size_t len,
		    struct api_sign_req *out, const char **detail);
void		api_sign_req_clear(struct api_sign_req *);

/*
 * The admin REST API under /admin/v1/teams/{team}/ (admin.c): one table of
 * routes, data rather than code, so that the authorization matrix and
 * docs/openapi.yaml can be checked against it (tests/unit/test_api.c).
 * A request is matched to a path (404 if none), then a method (405), then
 * authenticated by its bearer token (401), whose team must be the path's
 * (403, not 404: the team name is in the URL the caller chose, so 403
 * leaks nothing) and whose role must reach min_role (403).
 */
struct api_admin_call;		/* what a handler gets: params, principal */
struct api_route {
	const char	*method;	/* "GET" (also HEAD), "POST", "PATCH",
					 * "DELETE" */
	const char	*pattern;	/* "/admin/v1/teams/{team}/devices/{id}";
					 * a {param} is a non-empty run of
					 * characters other than '/' and ':' */
	int		 min_role;	/* enum inv_role (inv.h); API_ROLE_NONE:
					 * the handler authenticates itself */
	void		(*handler)(struct http_req *,
			    const struct api_admin_call *);
};
#define API_ROLE_NONE	(-1)

/* The admin routes, read-only (static storage); *n is their number. */
const struct api_route *api_admin_routes(size_t *n);

/* Background jobs (imports) still running: the server waits for them
 * before it stops its workers. */
int	api_jobs_running(void);

/* ---- attestation (issue 4) ---- */
/*
 * A parsed POST /t/{team}/attestation/attest body (spec/attestation.md
 * §2.2): strict JSON, the members step's attestation client sends and
 * nothing else; ek and params.{public, createData, createAttestation,
 * createSignature} present; tpmInfo.version 2 when given;
 * useTCSDActivationFormat false; every base64 value (standard alphabet)
 * decoded within its limits.h bound.  req points into doc and bufs.
 */
struct api_attest_req {
	json_t		*doc;		/* owned: tpmInfo strings live in it */
	uint8_t		*bufs[5 + DV_ATT_MAX_EK_CERTS];	/* owned */
	size_t		 nbufs;
	struct ca_attest_req req;
};
/*
 * Parses an /attest body.  On failure *detail is a fixed client-facing
 * text (DV_ERR_MALFORMED, DV_ERR_TOO_LARGE).  Clear with
 * api_attest_req_clear (also after a failure).
 */
enum dv_rc	api_attest_req_parse(const uint8_t *body, size_t len,
		    struct api_attest_req *out, const char **detail);
void		api_attest_req_clear(struct api_attest_req *);
/*
 * Parses a /secret body {"secret": base64} (spec §2.4); *secret is new
 * (at most DV_TPM_MAX_SECRET bytes): wipe it before free (rule 14).
 */
enum dv_rc	api_secret_req_parse(const uint8_t *body, size_t len,
		    uint8_t **secret, size_t *secretlen, const char **detail);

/* The version string served at /version. */
#define DEVID_VERSION	"0.1.0"

#endif
