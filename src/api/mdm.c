/*
 * mdm.c - POST /admin/v1/teams/{team}/mdm/{source}/webhook (docs/mdm.md,
 * issue 3 item 3): changes pushed by an MDM relay, authenticated by an
 * HMAC-SHA256 signature of the raw body instead of an admin token.  The
 * route is a row of the admin table (admin.c, API_ROLE_NONE); the checks
 * and the apply are the inventory's (inv_mdm_webhook).
 */
#include "api.h"
#include "api_int.h"

void
api_mdm_webhook(struct http_req *q, struct ca *ca, const char *team,
    const char *source)
{
	const uint8_t *body;
	const char *detail = NULL;
	json_t *report = NULL;
	size_t len;
	enum dv_rc rc;

	if ((rc = http_req_body(q, &body, &len)) != DV_OK) {
		http_reply_problem(q, rc, api_body_detail(rc));
		return;
	}
	rc = inv_mdm_webhook(ca->mdm, team, source, body, len,
	    http_req_header(q, "X-Devid-Signature"), http_req_id(q), &report,
	    &detail);
	if (rc != DV_OK) {
		if (rc == DV_ERR_UNAUTHORIZED)
			http_reply_header(q, "WWW-Authenticate",
			    "HMAC-SHA256 header=\"X-Devid-Signature\"");
		http_reply_problem(q, rc, detail != NULL ? detail :
		    "the changes were not applied");
		return;
	}
	http_reply_json(q, 200, report);
}
