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

/* The version string served at /version. */
#define DEVID_VERSION	"0.1.0"

#endif
