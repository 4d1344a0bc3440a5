/*
 * acme.c - the HTTP side of the ACME server (src/acme): requests under
 * /t/{team}/{authority}/acme/{provisioner}/..., answers with their
 * Replay-Nonce, Link, Location and Retry-After headers, and the deferred
 * answer of a finalize, sent once the certificate is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme.h"
#include "api_int.h"

struct acme_call {
	struct acme_req	 req;
	struct acme_resp resp;
	struct http_req	*q;
};

static void
reply(struct http_req *q, struct acme_resp *r)
{
	char ra[32];
	char *body = NULL;
	size_t i;

	if (r->nonce != NULL)
		http_reply_header(q, "Replay-Nonce", r->nonce);
	for (i = 0; i < r->nlinks; i++)
		http_reply_header(q, "Link", r->links[i]);
	if (r->location != NULL)
		http_reply_header(q, "Location", r->location);
	if (r->retry_after > 0) {
		snprintf(ra, sizeof(ra), "%d", r->retry_after);
		http_reply_header(q, "Retry-After", ra);
	}
	if (r->pem != NULL)
		http_reply(q, r->status, "application/pem-certificate-chain",
		    r->pem, strlen(r->pem));
	else if (r->json != NULL) {
		body = json_dumps(r->json, JSON_COMPACT);
		http_reply(q, r->status, r->problem ?
		    "application/problem+json" : "application/json", body,
		    strlen(body));
		free(body);
	} else
		http_reply(q, r->status, NULL, NULL, 0);
}

static void
finalize_reply(struct http_req *q, void *arg)
{
	struct acme_call *c = arg;

	acme_finalize_done(&c->req, &c->resp, c->resp.iss->rc);
	reply(q, &c->resp);
	acme_resp_clear(&c->resp);
	free(c);
}

/* The committer thread: the certificate is durable (or failed). */
static void
finalize_stored(void *arg, enum dv_rc rc)
{
	struct acme_call *c = arg;

	(void)rc;	/* kept in c->resp.iss->rc */
	http_req_resume(c->q, finalize_reply, c);
}

void
api_acme_route(struct http_req *q, struct ca_authority *a, const char *rest)
{
	enum http_method m = http_req_method(q);
	struct acme_call *c;
	struct prov *p;
	const char *s;
	char name[DV_MAX_NAME + 1];
	size_t n;
	enum dv_rc rc;

	/* rest: "/{provisioner}/..." */
	if (rest[0] != '/' || (s = strchr(rest + 1, '/')) == NULL ||
	    (n = (size_t)(s - rest - 1)) == 0 || n > DV_MAX_NAME)
		goto notfound;
	memcpy(name, rest + 1, n);
	name[n] = '\0';
	if ((p = prov_set_find(a->provs, name)) == NULL ||
	    prov_get_type(p) != PROV_ACME)
		goto notfound;
	if (m != HTTP_M_GET && m != HTTP_M_HEAD && m != HTTP_M_POST) {
		http_reply_problem(q, DV_ERR_METHOD, NULL);
		return;
	}
	c = xcalloc(1, sizeof(*c));
	c->q = q;
	c->req.auth = a;
	c->req.prov = p;
	c->req.post = m == HTTP_M_POST;
	c->req.head = m == HTTP_M_HEAD;
	c->req.rest = s;
	c->req.host = http_req_header(q, "Host");
	c->req.ctype = http_req_header(q, "Content-Type");
	c->req.request_id = http_req_id(q);
	if (c->req.post) {
		rc = http_req_body(q, &c->req.body, &c->req.len);
		c->req.too_large = rc != DV_OK;
	}
	acme_handle(&c->req, &c->resp);
	if (c->resp.iss != NULL) {
		http_req_defer(q);
		ca_commit_submit(a->ca, c->resp.iss, finalize_stored, c);
		return;
	}
	reply(q, &c->resp);
	acme_resp_clear(&c->resp);
	free(c);
	return;
notfound:
	http_reply_problem(q, DV_ERR_NOT_FOUND, "no such endpoint");
}
