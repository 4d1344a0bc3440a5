/*
 * api.c - the top-level router and shared request helpers.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"

enum dv_rc
api_body_json(struct http_req *q, json_t **out)
{
	const uint8_t *b;
	size_t len;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = http_req_body(q, &b, &len)) != DV_OK)
		return rc;
	if (len == 0)
		return DV_ERR_MALFORMED;
	return json_parse_strict(b, len, DV_MAX_BODY_CEILING, out);
}

const char *
api_body_detail(enum dv_rc rc)
{
	switch (rc) {
	case DV_ERR_TOO_LARGE:
		return "the request body is larger than the server accepts";
	case DV_ERR_MALFORMED:
		return "the request body is not a valid JSON object (UTF-8, "
		    "no duplicate keys)";
	default:
		return NULL;
	}
}

const char *
api_sign_detail(enum dv_rc rc)
{
	switch (rc) {
	case DV_ERR_BAD_CSR:
		return "invalid csr";
	case DV_ERR_BAD_KEY:
		return "the CSR key type or size is not allowed";
	case DV_ERR_TOO_LARGE:
		return "the request exceeds a server limit";
	case DV_ERR_BAD_TOKEN:
		return "the token is invalid or its signature does not verify";
	case DV_ERR_TOKEN_EXPIRED:
		return "the token is expired or not yet valid";
	case DV_ERR_TOKEN_AUDIENCE:
		return "the token audience is not this authority";
	case DV_ERR_TOKEN_ISSUER:
		return "provisioner not found or invalid audience";
	case DV_ERR_TOKEN_REUSED:
		return "token already used";
	case DV_ERR_UNTRUSTED:
		return "the certificate chain does not verify to a trusted "
		    "root";
	case DV_ERR_SANS_MISMATCH:
		return "the CSR names differ from the names the token "
		    "authorizes";
	case DV_ERR_POLICY:
		return "a requested name is not allowed by policy";
	case DV_ERR_LIFETIME:
		return "the requested validity is not allowed";
	case DV_ERR_REVOKED:
		return "the certificate has been revoked";
	case DV_ERR_EXPIRED:
		return "the certificate has expired";
	case DV_ERR_FORBIDDEN:
		return "error signing certificate";
	default:
		return NULL;
	}
}

const char *
api_revoke_detail(enum dv_rc rc)
{
	switch (rc) {
	case DV_ERR_ALREADY_REVOKED:
		return "certificate is already revoked";
	case DV_ERR_NOT_FOUND:
		return "no certificate with that serial was issued by this "
		    "authority";
	case DV_ERR_FORBIDDEN:
		return "the token or client certificate does not name this "
		    "serial";
	case DV_ERR_MALFORMED:
		return "bad serial or reasonCode";
	default:
		return api_sign_detail(rc);
	}
}

void
api_handle(struct http_req *q, void *arg)
{
	struct ca *ca = arg;
	struct ca_authority *a;
	const char *path = http_req_path(q), *p, *s;
	enum http_method m = http_req_method(q);
	char team[64], kind[32];
	size_t n;

	if (strncmp(path, "/admin/v1/", 10) == 0) {
		api_admin_handle(q, ca);
		return;
	}
	/* the step-ca API and /health know GET, HEAD and POST only */
	if (m != HTTP_M_GET && m != HTTP_M_HEAD && m != HTTP_M_POST) {
		http_reply_problem(q, DV_ERR_METHOD, NULL);
		return;
	}
	if (strcmp(path, "/health") == 0) {
		http_reply_json(q, 200, json_pack("{s:s}", "status", "ok"));
		return;
	}
	if (strncmp(path, "/t/", 3) != 0)
		goto notfound;
	p = path + 3;
	if ((s = strchr(p, '/')) == NULL || (n = (size_t)(s - p)) == 0 ||
	    n >= sizeof(team))
		goto notfound;
	memcpy(team, p, n);
	team[n] = '\0';
	p = s + 1;
	s = strchr(p, '/');
	n = s != NULL ? (size_t)(s - p) : strlen(p);
	if (n == 0 || n >= sizeof(kind))
		goto notfound;
	memcpy(kind, p, n);
	kind[n] = '\0';
	if ((a = ca_find(ca, team, kind)) == NULL)
		goto notfound;
	api_ca_route(q, a, s != NULL ? s : "/");
	return;
notfound:
	http_reply_problem(q, DV_ERR_NOT_FOUND, "no such endpoint");
}
