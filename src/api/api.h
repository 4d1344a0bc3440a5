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

/* The version string served at /version. */
#define DEVID_VERSION	"0.1.0"

#endif
