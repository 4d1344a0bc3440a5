/* api_int.h - internals shared by the files of src/api (rule 1). */
#ifndef DV_API_INT_H
#define DV_API_INT_H

#include "api.h"

/* The request body as a strict JSON object (limits.h bounds). */
enum dv_rc	api_body_json(struct http_req *, json_t **out);
/* Fixed client-facing texts for a failure code. */
const char	*api_body_detail(enum dv_rc);
const char	*api_sign_detail(enum dv_rc);
const char	*api_revoke_detail(enum dv_rc);
/* The step-ca API of one authority; rest is the path after its base. */
void		api_ca_route(struct http_req *, struct ca_authority *,
		    const char *rest);

/* The admin REST API: every path under /admin/v1/ (admin.c). */
void		api_admin_handle(struct http_req *, struct ca *);

/* POST /admin/v1/teams/{team}/mdm/{source}/webhook (mdm.c): authenticated
 * by its X-Devid-Signature, not by an admin token (API_ROLE_NONE). */
void		api_mdm_webhook(struct http_req *, struct ca *,
		    const char *team, const char *source);

/* POST .../attestation/attest and .../secret (attest.c, issue 4). */
void		api_attest_post(struct http_req *, struct ca_authority *);
void		api_secret_post(struct http_req *, struct ca_authority *);

/* Everything under .../acme/ of an authority (acme.c, issue 5); rest is
 * the path after "/acme". */
void		api_acme_route(struct http_req *, struct ca_authority *,
		    const char *rest);

#endif
