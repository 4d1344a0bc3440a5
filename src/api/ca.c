/*
 * ca.c - the step-ca API of one authority (spec/provisioners.md §1.3-1.8).
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <ctype.h>

#include "api.h"
#include "api_int.h"

/* ---- GET ------------------------------------------------------------ */

static void
get_roots(struct http_req *q, struct ca_authority *a, bool pem)
{
	if (pem) {
		http_reply(q, 200, "application/x-pem-file", a->root_pem,
		    strlen(a->root_pem));
		return;
	}
	/* step-ca answers /roots with 201 (api.go Roots). */
	http_reply_json(q, 201, json_pack("{s:[s]}", "crts", a->root_pem));
}

static void
get_intermediates(struct http_req *q, struct ca_authority *a, bool pem)
{
	if (pem) {
		http_reply(q, 200, "application/x-pem-file", a->inter_pem,
		    strlen(a->inter_pem));
		return;
	}
	http_reply_json(q, 201, json_pack("{s:[s]}", "crts", a->inter_pem));
}

static void
get_intermediate_der(struct http_req *q, struct ca_authority *a)
{
	uint8_t *der = NULL;
	size_t len;

	if (pki_cert_to_der(a->inter, &der, &len) != DV_OK) {
		http_reply_problem(q, DV_ERR_INTERNAL, NULL);
		return;
	}
	http_reply(q, 200, "application/pkix-cert", der, len);
	free(der);
}

static void
get_root_sha(struct http_req *q, struct ca_authority *a, const char *sha)
{
	char norm[65];
	size_t i, n = 0;

	for (i = 0; sha[i] != '\0' && n < sizeof(norm) - 1; i++) {
		if (sha[i] == '-')
			continue;
		norm[n++] = (char)tolower((unsigned char)sha[i]);
	}
	norm[n] = '\0';
	if (sha[i] != '\0' || strcmp(norm, a->root_sha) != 0) {
		http_reply_problem(q, DV_ERR_NOT_FOUND, "root not found");
		return;
	}
	http_reply_json(q, 200, json_pack("{s:s}", "ca", a->root_pem));
}

static void
get_provisioners(struct http_req *q, struct ca_authority *a)
{
	const char *cs = http_req_query(q, "cursor");
	const char *ls = http_req_query(q, "limit");
	long long cursor = 0, limit = DV_LIST_DEFAULT;
	size_t i, n = prov_set_count(a->provs);
	json_t *list = json_array();
	char next[24] = "";

	if ((cs != NULL && cs[0] != '\0' &&
	    num_parse(cs, 0, 1000000, &cursor) != DV_OK) ||
	    (ls != NULL && ls[0] != '\0' &&
	    num_parse(ls, 1, 1000000, &limit) != DV_OK)) {
		json_decref(list);
		http_reply_problem(q, DV_ERR_MALFORMED, "bad cursor or limit");
		return;
	}
	if (limit > DV_LIST_MAX)
		limit = DV_LIST_MAX;
	for (i = (size_t)cursor; i < n && json_array_size(list) <
	    (size_t)limit; i++)
		json_array_append(list,
		    (json_t *)prov_get_json(prov_set_get(a->provs, i)));
	if (i < n)
		snprintf(next, sizeof(next), "%zu", i);
	http_reply_json(q, 200, json_pack("{s:o,s:s}", "provisioners", list,
	    "nextCursor", next));
}

static void
get_encrypted_key(struct http_req *q, struct ca_authority *a,
    const char *kid)
{
	size_t i, n = prov_set_count(a->provs);

	for (i = 0; i < n; i++) {
		struct prov *p = prov_set_get(a->provs, i);
		const char *k = prov_jwk_kid(p);

		if (prov_get_type(p) == PROV_JWK && k != NULL &&
		    strcmp(k, kid) == 0 && prov_jwk_encrypted_key(p) != NULL) {
			http_reply_json(q, 200, json_pack("{s:s}", "key",
			    prov_jwk_encrypted_key(p)));
			return;
		}
	}
	http_reply_problem(q, DV_ERR_NOT_FOUND, "no encrypted key");
}

static void
get_crl(struct http_req *q, struct ca_authority *a)
{
	uint8_t *der = NULL;
	char *pem = NULL, exp[64];
	size_t len;
	time_t next;
	struct tm tm;
	enum dv_rc rc;

	if ((rc = ca_crl_get(a, &der, &len, &next)) != DV_OK) {
		http_reply_problem(q, rc, NULL);
		return;
	}
	gmtime_r(&next, &tm);
	strftime(exp, sizeof(exp), "%a, %d %b %Y %H:%M:%S GMT", &tm);
	http_reply_header(q, "Expires", exp);
	if (http_req_has_query(q, "pem")) {
		if (pki_crl_der_to_pem(der, len, &pem) != DV_OK) {
			free(der);
			http_reply_problem(q, DV_ERR_INTERNAL, NULL);
			return;
		}
		http_reply_header(q, "Content-Disposition",
		    "attachment; filename=\"crl.pem\"");
		http_reply(q, 200, "application/x-pem-file", pem, strlen(pem));
	} else
		http_reply(q, 200, "application/pkix-crl", der, len);
	free(pem);
	free(der);
}

/* RFC 6960 Appendix A: GET {url}/{base64 DER}, POST with the DER body. */
static void
ocsp(struct http_req *q, struct ca_authority *a, const char *b64)
{
	const uint8_t *req = NULL;
	uint8_t *dec = NULL, *resp = NULL;
	size_t len = 0, rlen;
	enum dv_rc rc;

	if (b64 != NULL) {
		if (strlen(b64) > DV_MAX_OCSP_REQ * 2 ||
		    pki_b64_decode(b64, strlen(b64), &dec, &len) != DV_OK)
			rc = pki_ocsp_resp_error(1, &resp, &rlen);
		else
			rc = ca_ocsp_answer(a, dec, len, &resp, &rlen);
	} else {
		if ((rc = http_req_body(q, &req, &len)) != DV_OK) {
			http_reply_problem(q, rc, NULL);
			return;
		}
		rc = ca_ocsp_answer(a, req, len, &resp, &rlen);
	}
	if (rc != DV_OK)
		http_reply_problem(q, rc, NULL);
	else
		http_reply(q, 200, "application/ocsp-response", resp, rlen);
	free(dec);
	free(resp);
}

/* ---- POST ----------------------------------------------------------- */

struct issue_ctx {
	struct ca_issue	*iss;	/* owned */
	struct http_req	*q;
	struct ca	*ca;
};

static void
issue_reply(struct http_req *q, void *arg)
{
	struct issue_ctx *c = arg;
	char *body;
	size_t len;

	if (c->iss->rc != DV_OK)
		http_reply_problem(q, c->iss->rc, "the certificate could not "
		    "be stored");
	else if ((body = ca_issue_response(c->iss, &len)) == NULL)
		http_reply_problem(q, DV_ERR_INTERNAL, NULL);
	else {
		http_reply(q, 201, "application/json", body, len);
		free(body);
	}
	ca_issue_free(c->iss);
	free(c);
}

/* Called by the store's committer thread once the row is durable. */
static void
issue_stored(void *arg, enum dv_rc rc)
{
	struct issue_ctx *c = arg;

	(void)rc;	/* kept in c->iss->rc */
	http_req_resume(c->q, issue_reply, c);
}

/* Stores iss; the answer leaves only after the commit. */
static void
issue_commit(struct http_req *q, struct ca_authority *a, struct ca_issue *iss)
{
	struct issue_ctx *c = xcalloc(1, sizeof(*c));

	c->iss = iss;
	c->q = q;
	c->ca = a->ca;
	http_req_defer(q);
	ca_commit_submit(a->ca, iss, issue_stored, c);
}

enum dv_rc
api_sign_req_parse(const uint8_t *body, size_t len, struct api_sign_req *r,
    const char **detail)
{
	json_t *td = NULL;
	json_error_t err;
	enum dv_rc rc;

	memset(r, 0, sizeof(*r));
	*detail = NULL;
	if (len == 0) {
		*detail = api_body_detail(DV_ERR_MALFORMED);
		return DV_ERR_MALFORMED;
	}
	if ((rc = json_parse_strict(body, len, DV_MAX_BODY_CEILING, &r->doc))
	    != DV_OK) {
		*detail = api_body_detail(rc);
		return rc;
	}
	if (json_unpack_ex(r->doc, &err, JSON_STRICT, "{s?s,s?s,s?s,s?s,s?o}",
	    "csr", &r->csr, "ott", &r->ott, "notBefore", &r->not_before,
	    "notAfter", &r->not_after, "templateData", &td) != 0) {
		*detail = "unexpected or mistyped member in the sign request";
		rc = DV_ERR_MALFORMED;
	} else if (r->csr == NULL || r->csr[0] == '\0') {
		*detail = "missing csr";
		rc = DV_ERR_MALFORMED;
	} else if (r->ott == NULL || r->ott[0] == '\0') {
		*detail = "missing ott";
		rc = DV_ERR_MALFORMED;
	}
	if (rc != DV_OK)
		api_sign_req_clear(r);
	return rc;
}

void
api_sign_req_clear(struct api_sign_req *r)
{
	json_decref(r->doc);
	memset(r, 0, sizeof(*r));
}

static void
post_sign(struct http_req *q, struct ca_authority *a)
{
	struct api_sign_req r;
	struct ca_issue *iss = NULL;
	const char *detail;
	const uint8_t *b;
	size_t len;
	enum dv_rc rc;

	if ((rc = http_req_body(q, &b, &len)) != DV_OK) {
		http_reply_problem(q, rc, api_body_detail(rc));
		return;
	}
	if ((rc = api_sign_req_parse(b, len, &r, &detail)) != DV_OK) {
		http_reply_problem(q, rc, detail);
		return;
	}
	rc = ca_sign_prepare(a, r.csr, r.ott, r.not_before, r.not_after,
	    http_req_id(q), &iss);
	api_sign_req_clear(&r);
	if (rc != DV_OK) {
		http_reply_problem(q, rc, api_sign_detail(rc));
		return;
	}
	issue_commit(q, a, iss);
}

static const char *
bearer_token(struct http_req *q)
{
	const char *h = http_req_header(q, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	return h + 7;
}

static void
post_renew(struct http_req *q, struct ca_authority *a, bool rekey)
{
	STACK_OF(X509) *chain = NULL;
	X509 *peer = http_req_peer(q, &chain);
	const char *csr = NULL, *bearer = rekey ? NULL : bearer_token(q);
	struct ca_issue *iss = NULL;
	json_t *body = NULL;
	json_error_t err;
	enum dv_rc rc;

	if (rekey) {
		if (peer == NULL) {
			http_reply_problem(q, DV_ERR_MALFORMED,
			    "missing client certificate");
			return;
		}
		if ((rc = api_body_json(q, &body)) != DV_OK) {
			http_reply_problem(q, rc, api_body_detail(rc));
			return;
		}
		if (json_unpack_ex(body, &err, JSON_STRICT, "{s:s}", "csr",
		    &csr) != 0) {
			json_decref(body);
			http_reply_problem(q, DV_ERR_MALFORMED, "missing csr");
			return;
		}
	}
	/* The bearer token wins when both are present: it is how a client
	 * behind a TLS-terminating proxy, or with an expired cert, renews. */
	if (bearer != NULL)
		peer = NULL;
	if (peer == NULL && bearer == NULL) {
		json_decref(body);
		http_reply_problem(q, DV_ERR_UNAUTHORIZED,
		    "missing client certificate or bearer token");
		return;
	}
	rc = ca_renew_prepare(a, peer, chain, bearer, csr, http_req_id(q),
	    &iss);
	json_decref(body);
	if (rc != DV_OK) {
		http_reply_problem(q, rc, api_sign_detail(rc));
		return;
	}
	issue_commit(q, a, iss);
}

static void
post_revoke(struct http_req *q, struct ca_authority *a)
{
	struct ca_revoke_req r;
	json_t *body = NULL;
	json_error_t err;
	int passive = 0, code = 0;
	enum dv_rc rc;

	memset(&r, 0, sizeof(r));
	if ((rc = api_body_json(q, &body)) != DV_OK) {
		http_reply_problem(q, rc, api_body_detail(rc));
		return;
	}
	if (json_unpack_ex(body, &err, JSON_STRICT, "{s:s,s?s,s?i,s?s,s?b}",
	    "serial", &r.serial, "ott", &r.ott, "reasonCode", &code,
	    "reason", &r.reason, "passive", &passive) != 0) {
		json_decref(body);
		http_reply_problem(q, DV_ERR_MALFORMED,
		    "the revoke request needs a serial");
		return;
	}
	r.reason_code = code;
	r.passive = passive != 0;
	r.peer = http_req_peer(q, &r.peer_chain);
	r.request_id = http_req_id(q);
	rc = ca_revoke(a, &r);
	json_decref(body);
	if (rc == DV_ERR_NOT_IMPLEMENTED) {
		http_reply_problem(q, rc,
		    "non-passive revocation not implemented");
		return;
	}
	if (rc != DV_OK) {
		http_reply_problem(q, rc, api_revoke_detail(rc));
		return;
	}
	http_reply_json(q, 200, json_pack("{s:s}", "status", "ok"));
}

/* ---- routing -------------------------------------------------------- */

void
api_ca_route(struct http_req *q, struct ca_authority *a, const char *rest)
{
	enum http_method m = http_req_method(q);
	bool get = m == HTTP_M_GET || m == HTTP_M_HEAD;

	if (strncmp(rest, "/acme/", 6) == 0) {
		api_acme_route(q, a, rest + 5);
		return;
	}
	/* Every route also answers without the /1.0 prefix (§1.1). */
	if (strncmp(rest, "/1.0/", 5) == 0)
		rest += 4;
	if (get && strcmp(rest, "/health") == 0)
		http_reply_json(q, 200, json_pack("{s:s}", "status", "ok"));
	else if (get && strcmp(rest, "/version") == 0)
		http_reply_json(q, 200, json_pack("{s:s}", "version",
		    DEVID_VERSION));
	else if (get && strcmp(rest, "/roots") == 0)
		get_roots(q, a, false);
	else if (get && strcmp(rest, "/roots.pem") == 0)
		get_roots(q, a, true);
	else if (get && strcmp(rest, "/intermediates") == 0)
		get_intermediates(q, a, false);
	else if (get && strcmp(rest, "/intermediates.pem") == 0)
		get_intermediates(q, a, true);
	else if (get && strcmp(rest, "/intermediate.crt") == 0)
		get_intermediate_der(q, a);
	else if (get && strncmp(rest, "/root/", 6) == 0)
		get_root_sha(q, a, rest + 6);
	else if (get && strcmp(rest, "/provisioners") == 0)
		get_provisioners(q, a);
	else if (get && strncmp(rest, "/provisioners/", 14) == 0 &&
	    strlen(rest) > 28 &&
	    strcmp(rest + strlen(rest) - 14, "/encrypted-key") == 0) {
		char *kid = xstrndup(rest + 14, strlen(rest) - 28);

		get_encrypted_key(q, a, kid);
		free(kid);
	} else if (get && strcmp(rest, "/crl") == 0)
		get_crl(q, a);
	else if (get && strncmp(rest, "/ocsp/", 6) == 0)
		ocsp(q, a, rest + 6);
	else if (m == HTTP_M_POST && strcmp(rest, "/ocsp") == 0)
		ocsp(q, a, NULL);
	else if (m == HTTP_M_POST && strcmp(rest, "/sign") == 0)
		post_sign(q, a);
	else if (m == HTTP_M_POST && (strcmp(rest, "/renew") == 0 ||
	    strcmp(rest, "/re-sign") == 0))
		post_renew(q, a, false);
	else if (m == HTTP_M_POST && strcmp(rest, "/rekey") == 0)
		post_renew(q, a, true);
	else if (m == HTTP_M_POST && strcmp(rest, "/revoke") == 0)
		post_revoke(q, a);
	else if (m == HTTP_M_POST && a->kind == CA_ATTESTATION &&
	    strcmp(rest, "/attest") == 0)
		api_attest_post(q, a);
	else if (m == HTTP_M_POST && a->kind == CA_ATTESTATION &&
	    strcmp(rest, "/secret") == 0)
		api_secret_post(q, a);
	else
		http_reply_problem(q, DV_ERR_NOT_FOUND, "no such endpoint");
}
