/*
 * admin.c - the admin REST API of a team's inventory (DESIGN §2a, issue 3):
 * devices, imports, Device Collections, admin API tokens, ACME external
 * account binding keys and the audit log under /admin/v1/teams/{team}/, every route described in docs/openapi.yaml.
 *
 * The routes are one table (api_admin_routes); the dispatcher matches the
 * path, the method, the bearer token, its team and its role, in that order,
 * before any handler runs, so a handler never sees an unauthorized call.
 * Handlers parse the query or body, call src/inventory and render.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>


#include "acme/acme.h"
#include "inventory/inv.h"

#include "api.h"
#include "api_int.h"

/* Longest team name and object id or name in a path. */
#define ADMIN_MAX_TEAM		64
#define ADMIN_MAX_PARAM		256

struct api_admin_call {
	struct ca	*ca;		/* borrowed */
	struct inv	*inv;		/* borrowed from ca */
	const char	*team;		/* the path's {team} (= the token's) */
	const char	*param;		/* {id} or {name}, or NULL */
	const struct inv_actor *actor;
};

/* ---- replies -------------------------------------------------------- */

/*
 * Replies with a problem document for rc: detail is the inventory's
 * client-facing text when it gave one (fixed words, the field, the id of a
 * conflicting device: never request bytes, inv.h), else fallback.
 */
static void
reply_rc(struct http_req *q, enum dv_rc rc, const char *detail,
    const char *fallback)
{
	if (detail == NULL && rc == DV_ERR_MALFORMED)
		detail = "the request is malformed";
	http_reply_problem(q, rc, detail != NULL ? detail : fallback);
}

static void
reply_body_error(struct http_req *q, enum dv_rc rc)
{
	http_reply_problem(q, rc, api_body_detail(rc));
}

/* ---- devices -------------------------------------------------------- */

static void
device_location(struct http_req *q, const char *team, const json_t *dev)
{
	const char *id = json_get_str(dev, "id");
	char *loc;

	if (id == NULL)
		return;
	loc = xasprintf("/admin/v1/teams/%s/devices/%s", team, id);
	http_reply_header(q, "Location", loc);
	free(loc);
}

static void
devices_create(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *out = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = inv_device_add(c->inv, c->team, body, c->actor, &out, &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, "the device was not added");
	else {
		device_location(q, c->team, out);
		http_reply_json(q, 201, out);
	}
	free(detail);
	json_decref(body);
}

/* An optional RFC 3339 query parameter; false if present and bad. */
static bool
query_time(struct http_req *q, const char *key, time_t *out)
{
	const char *s = http_req_query(q, key);

	*out = 0;
	return s == NULL || s[0] == '\0' || time_parse_rfc3339(s, out) == DV_OK;
}

/* An optional limit in 1..DV_LIST_MAX (0 when absent); false if bad. */
static bool
query_limit(struct http_req *q, int *out)
{
	const char *s = http_req_query(q, "limit");
	long long n;

	*out = 0;
	if (s == NULL || s[0] == '\0')
		return true;
	if (num_parse(s, 1, DV_LIST_MAX, &n) != DV_OK)
		return false;
	*out = (int)n;
	return true;
}

/* A query string parameter, NULL when absent or empty. */
static const char *
query_str(struct http_req *q, const char *key)
{
	const char *s = http_req_query(q, key);

	return s != NULL && s[0] != '\0' ? s : NULL;
}

static void
devices_list(struct http_req *q, const struct api_admin_call *c)
{
	struct inv_query f;
	json_t *out = NULL;
	enum dv_rc rc;

	memset(&f, 0, sizeof(f));
	if (!query_time(q, "seenAfter", &f.seen_after) ||
	    !query_time(q, "seenBefore", &f.seen_before)) {
		http_reply_problem(q, DV_ERR_MALFORMED, "seenAfter and "
		    "seenBefore are RFC 3339 times (2026-01-02T15:04:05Z)");
		return;
	}
	if (!query_limit(q, &f.limit)) {
		http_reply_problem(q, DV_ERR_MALFORMED,
		    "limit is a number from 1 to 100");
		return;
	}
	f.status = query_str(q, "status");
	f.collection = query_str(q, "collection");
	f.tag = query_str(q, "tag");
	f.owner = query_str(q, "owner");
	f.identifier = query_str(q, "identifier");
	f.source = query_str(q, "source");
	f.cursor = query_str(q, "cursor");
	if ((rc = inv_device_list(c->inv, c->team, &f, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "bad filter or cursor");
	else
		http_reply_json(q, 200, out);
}

static void
devices_get(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = inv_device_get(c->inv, c->team, c->param, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "no such device");
	else
		http_reply_json(q, 200, out);
}

static void
devices_patch(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *out = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = inv_device_patch(c->inv, c->team, c->param, body, c->actor, &out,
	    &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, rc == DV_ERR_NOT_FOUND ?
		    "no such device" : "the device was not changed");
	else
		http_reply_json(q, 200, out);
	free(detail);
	json_decref(body);
}

/*
 * Retires the device; the inventory revoked its certificates in the same
 * transaction, so the CRLs of their authorities are rebuilt at the next
 * fetch (OCSP reads the store and is right at once).
 */
static void
devices_retire(struct http_req *q, const struct api_admin_call *c)
{
	json_t *revoked = NULL, *dev = NULL, *e;
	enum dv_rc rc;
	size_t i;

	rc = inv_device_retire(c->inv, c->team, c->param, c->actor, &revoked);
	if (rc != DV_OK) {
		reply_rc(q, rc, NULL, rc == DV_ERR_NOT_FOUND ?
		    "no such device" : "the device was not retired");
		return;
	}
	json_array_foreach(revoked, i, e) {
		const char *a = json_get_str(e, "authority");

		if (a != NULL)
			ca_crl_invalidate(c->ca, a);
	}
	if ((rc = inv_device_get(c->inv, c->team, c->param, &dev)) != DV_OK) {
		json_decref(revoked);
		reply_rc(q, rc, NULL, "the device was retired but cannot be "
		    "read back");
		return;
	}
	http_reply_json(q, 200, json_pack("{s:o,s:o}", "device", dev,
	    "revoked", revoked));
}

/* The import format named by the Content-Type, or NULL. */
static const char *
import_format(struct http_req *q)
{
	static const struct {
		const char	*ctype;
		const char	*format;
	} types[] = {
		{ "text/csv", "csv" },
		{ "application/x-ndjson", "jsonl" },
		{ "application/jsonl", "jsonl" },
		{ "application/jsonlines", "jsonl" },
	};
	const char *h = http_req_header(q, "Content-Type");
	size_t i, n;

	if (h == NULL)
		return NULL;
	/* the media type ends at parameters ("; charset=utf-8") */
	n = strcspn(h, "; \t");
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++)
		if (strlen(types[i].ctype) == n &&
		    strncasecmp(h, types[i].ctype, n) == 0)
			return types[i].format;
	return NULL;
}

/*
 * An import runs on a thread of its own, not on the worker's event loop:
 * tens of thousands of rows take seconds, and meanwhile the worker keeps
 * serving its other connections (DESIGN §6: one thread never blocks
 * another).  The request is deferred and resumed on its worker to reply.
 * At most API_IMPORTS_MAX run at once; more get 503 with Retry-After.
 */
#define API_IMPORTS_MAX	2

static atomic_int imports_running;

struct import_job {
	struct http_req	*q;		/* borrowed until the reply */
	struct inv	*inv;		/* borrowed */
	char		*team;		/* owned */
	const char	*fmt;		/* static */
	bool		 verbose;
	char		*who;		/* owned */
	const uint8_t	*body;		/* borrowed from q */
	size_t		 len;
	json_t		*report;	/* owned */
	enum dv_rc	 rc;
};

int
api_jobs_running(void)
{
	return atomic_load(&imports_running);
}

static void
import_reply(struct http_req *q, void *arg)
{
	struct import_job *j = arg;

	if (j->rc != DV_OK)
		reply_rc(q, j->rc, NULL, "the import was refused");
	else {
		http_reply_json(q, 200, j->report);
		j->report = NULL;
	}
	json_decref(j->report);
	free(j->team);
	free(j->who);
	free(j);
	atomic_fetch_sub(&imports_running, 1);
}

static void *
import_run(void *arg)
{
	struct import_job *j = arg;
	struct inv_actor actor;

	actor.who = j->who;
	actor.request_id = http_req_id(j->q);
	j->rc = inv_import(j->inv, j->team, j->fmt, j->body, j->len,
	    j->verbose, &actor, &j->report);
	http_req_resume(j->q, import_reply, j);
	return NULL;
}

static void
devices_import(struct http_req *q, const struct api_admin_call *c)
{
	const char *fmt = import_format(q), *v;
	struct import_job *j;
	const uint8_t *b;
	pthread_attr_t attr;
	pthread_t th;
	size_t len;
	enum dv_rc rc;

	if (fmt == NULL) {
		http_reply_problem(q, DV_ERR_MALFORMED, "the Content-Type of an "
		    "import is text/csv or application/x-ndjson");
		return;
	}
	if ((rc = http_req_body_large(q, &b, &len)) != DV_OK) {
		http_reply_problem(q, rc, rc == DV_ERR_TOO_LARGE ? "the import "
		    "is larger than maxImportBytes; split it" : NULL);
		return;
	}
	if (len == 0) {
		http_reply_problem(q, DV_ERR_MALFORMED, "the import is empty");
		return;
	}
	if (atomic_fetch_add(&imports_running, 1) >= API_IMPORTS_MAX) {
		atomic_fetch_sub(&imports_running, 1);
		http_reply_header(q, "Retry-After", "5");
		http_reply_problem(q, DV_ERR_UNAVAILABLE, "other imports are "
		    "running; retry shortly");
		return;
	}
	j = xcalloc(1, sizeof(*j));
	j->q = q;
	j->inv = c->inv;
	j->team = xstrdup(c->team);
	j->fmt = fmt;
	v = http_req_query(q, "verbose");
	j->verbose = http_req_has_query(q, "verbose") && (v == NULL ||
	    (strcmp(v, "false") != 0 && strcmp(v, "0") != 0));
	j->who = xstrdup(c->actor->who != NULL ? c->actor->who : "");
	j->body = b;
	j->len = len;
	http_req_defer(q);
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&th, &attr, import_run, j) != 0) {
		/* no thread: run it here rather than fail the import */
		log_msg(LOG_WARN, "admin.import.thread", NULL);
		pthread_attr_destroy(&attr);
		import_run(j);
		return;
	}
	pthread_attr_destroy(&attr);
}

/* ---- collections ---------------------------------------------------- */

static void
collections_create(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *out = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = inv_collection_create(c->inv, c->team, body, c->actor, &out,
	    &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, "the collection was not created");
	else
		http_reply_json(q, 201, out);
	free(detail);
	json_decref(body);
}

static void
collections_list(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = inv_collection_list(c->inv, c->team, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "the collections cannot be listed");
	else
		http_reply_json(q, 200, out);
}

static void
collections_get(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = inv_collection_get(c->inv, c->team, c->param, &out))
	    != DV_OK)
		reply_rc(q, rc, NULL, "no such collection");
	else
		http_reply_json(q, 200, out);
}

static void
collections_patch(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *out = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = inv_collection_patch(c->inv, c->team, c->param, body, c->actor,
	    &out, &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, rc == DV_ERR_NOT_FOUND ?
		    "no such collection" : "the collection was not changed");
	else
		http_reply_json(q, 200, out);
	free(detail);
	json_decref(body);
}

static void
collections_delete(struct http_req *q, const struct api_admin_call *c)
{
	enum dv_rc rc;

	if ((rc = inv_collection_delete(c->inv, c->team, c->param, c->actor))
	    != DV_OK)
		reply_rc(q, rc, NULL, "no such collection");
	else
		http_reply(q, 204, NULL, NULL, 0);
}

/* ---- admin API tokens ----------------------------------------------- */

static void
tokens_create(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *meta = NULL;
	char *secret = NULL, *detail = NULL;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = inv_token_create(c->inv, c->team, body, c->actor, &secret, &meta,
	    &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, "the token was not created");
	else {
		/* the only time the secret leaves the server */
		json_object_set_new(meta, "token", json_string(secret));
		http_reply_json(q, 201, meta);
	}
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	free(detail);
	json_decref(body);
}

static void
tokens_list(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = inv_token_list(c->inv, c->team, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "the tokens cannot be listed");
	else
		http_reply_json(q, 200, out);
}

static void
tokens_revoke(struct http_req *q, const struct api_admin_call *c)
{
	enum dv_rc rc;

	if ((rc = inv_token_revoke(c->inv, c->team, c->param, c->actor))
	    != DV_OK)
		reply_rc(q, rc, NULL, "no such token");
	else
		http_reply(q, 204, NULL, NULL, 0);
}

/* ---- ACME external account binding keys (RFC 8555 §7.3.4) ---------- */

static void
eab_create(struct http_req *q, const struct api_admin_call *c)
{
	json_t *body = NULL, *out = NULL;
	const char *detail = NULL, *hmac;
	enum dv_rc rc;

	if ((rc = api_body_json(q, &body)) != DV_OK) {
		reply_body_error(q, rc);
		return;
	}
	rc = acme_eab_create(c->ca, c->team, body, c->actor->who,
	    c->actor->request_id, &out, &detail);
	if (rc != DV_OK)
		reply_rc(q, rc, detail, "the key was not created");
	else
		/* the only time the HMAC key leaves the server */
		http_reply_json(q, 201, json_incref(out));
	if (out != NULL && (hmac = json_get_str(out, "hmacKey")) != NULL)
		explicit_bzero((char *)hmac, strlen(hmac));
	json_decref(out);
	json_decref(body);
}

static void
eab_list(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	const char *detail = NULL;
	enum dv_rc rc;

	if ((rc = acme_eab_list(c->ca, c->team, query_str(q, "authority"),
	    query_str(q, "provisioner"), &out, &detail)) != DV_OK)
		reply_rc(q, rc, detail, "the keys cannot be listed");
	else
		http_reply_json(q, 200, out);
}

static void
eab_delete(struct http_req *q, const struct api_admin_call *c)
{
	enum dv_rc rc;

	if ((rc = acme_eab_delete(c->ca, c->team, c->param, c->actor->who,
	    c->actor->request_id)) != DV_OK)
		reply_rc(q, rc, NULL, "no such key");
	else
		http_reply(q, 204, NULL, NULL, 0);
}

/* ---- audit ---------------------------------------------------------- */

static void
audit_list(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	int limit;
	enum dv_rc rc;

	if (!query_limit(q, &limit)) {
		http_reply_problem(q, DV_ERR_MALFORMED,
		    "limit is a number from 1 to 100");
		return;
	}
	if ((rc = inv_audit_list(c->inv, c->team, query_str(q, "cursor"),
	    limit, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "bad cursor");
	else
		http_reply_json(q, 200, out);
}

/*
 * The hash chain is one for the whole store (every team's rows and the
 * CAs' issuance rows), so any team's viewer learns whether it is intact:
 * a break concerns everyone who trusts this server.
 */
static void
audit_verify(struct http_req *q, const struct api_admin_call *c)
{
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = inv_audit_verify(c->inv, &out)) != DV_OK)
		reply_rc(q, rc, NULL, "the audit log cannot be read");
	else
		http_reply_json(q, 200, out);
}

/* ---- the route table ------------------------------------------------ */

#define T	"/admin/v1/teams/{team}"

/* The MDM webhook (mdm.c) authenticates by signature, not by token. */
static void
mdm_webhook(struct http_req *q, const struct api_admin_call *c)
{
	api_mdm_webhook(q, c->ca, c->team, c->param);
}

static const struct api_route routes[] = {
	{ "GET", T "/devices", INV_ROLE_VIEWER, devices_list },
	{ "POST", T "/devices", INV_ROLE_ADMIN, devices_create },
	{ "POST", T "/devices:import", INV_ROLE_MDM_SYNC, devices_import },
	{ "GET", T "/devices/{id}", INV_ROLE_VIEWER, devices_get },
	{ "PATCH", T "/devices/{id}", INV_ROLE_ADMIN, devices_patch },
	{ "POST", T "/devices/{id}:retire", INV_ROLE_ADMIN, devices_retire },
	{ "GET", T "/collections", INV_ROLE_VIEWER, collections_list },
	{ "POST", T "/collections", INV_ROLE_ADMIN, collections_create },
	{ "GET", T "/collections/{name}", INV_ROLE_VIEWER, collections_get },
	{ "PATCH", T "/collections/{name}", INV_ROLE_ADMIN,
	    collections_patch },
	{ "DELETE", T "/collections/{name}", INV_ROLE_ADMIN,
	    collections_delete },
	{ "GET", T "/tokens", INV_ROLE_OWNER, tokens_list },
	{ "POST", T "/tokens", INV_ROLE_OWNER, tokens_create },
	{ "DELETE", T "/tokens/{id}", INV_ROLE_OWNER, tokens_revoke },
	{ "GET", T "/acme-eab-keys", INV_ROLE_VIEWER, eab_list },
	{ "POST", T "/acme-eab-keys", INV_ROLE_ADMIN, eab_create },
	{ "DELETE", T "/acme-eab-keys/{id}", INV_ROLE_ADMIN, eab_delete },
	{ "GET", T "/audit", INV_ROLE_VIEWER, audit_list },
	{ "GET", T "/audit:verify", INV_ROLE_VIEWER, audit_verify },
	{ "POST", T "/mdm/{source}/webhook", API_ROLE_NONE, mdm_webhook },
};

#undef T

const struct api_route *
api_admin_routes(size_t *n)
{
	*n = sizeof(routes) / sizeof(routes[0]);
	return routes;
}

/*
 * Matches path against pattern.  Writes the {team} parameter to team and
 * the other one (if any) to param; each is a non-empty run of characters
 * other than '/' and ':' that fits its buffer.
 */
static bool
route_match(const char *pattern, const char *path, char *team, size_t tsz,
    char *param, size_t psz)
{
	const char *p = pattern, *s = path;

	team[0] = param[0] = '\0';
	while (*p != '\0') {
		if (*p == '{') {
			const char *end = strchr(p, '}');
			size_t n = strcspn(s, "/:");
			bool is_team;

			if (end == NULL || n == 0)
				return false;
			is_team = (size_t)(end - p) == 5 &&
			    strncmp(p, "{team", 5) == 0;
			if (n >= (is_team ? tsz : psz))
				return false;
			memcpy(is_team ? team : param, s, n);
			(is_team ? team : param)[n] = '\0';
			s += n;
			p = end + 1;
		} else if (*p++ != *s++)
			return false;
	}
	return *s == '\0';
}

static const char *
method_name(enum http_method m)
{
	switch (m) {
	case HTTP_M_GET:
	case HTTP_M_HEAD:
		return "GET";
	case HTTP_M_POST:
		return "POST";
	case HTTP_M_PATCH:
		return "PATCH";
	case HTTP_M_DELETE:
		return "DELETE";
	default:
		return "";
	}
}

/* The token of "Authorization: Bearer <token>", or NULL. */
static const char *
bearer(struct http_req *q)
{
	const char *h = http_req_header(q, "Authorization");

	if (h == NULL || strncasecmp(h, "Bearer ", 7) != 0)
		return NULL;
	h += 7;
	while (*h == ' ')
		h++;
	return *h != '\0' ? h : NULL;
}

static void
deny(struct http_req *q, const struct api_route *r, enum dv_rc rc,
    const char *why)
{
	log_msg(LOG_INFO, "admin.denied", "{s:s,s:s,s:s,s:s}", "id",
	    http_req_id(q), "method", r->method, "route", r->pattern, "why",
	    why);
	if (rc == DV_ERR_UNAUTHORIZED)
		http_reply_header(q, "WWW-Authenticate", "Bearer realm=\"devid "
		    "admin\"");
	http_reply_problem(q, rc, why);
}

void
api_admin_handle(struct http_req *q, struct ca *ca)
{
	const struct api_route *r = NULL;
	struct inv_principal who;
	struct inv_actor actor;
	struct api_admin_call call;
	const char *m = method_name(http_req_method(q)), *tok;
	char team[ADMIN_MAX_TEAM], param[ADMIN_MAX_PARAM], allow[64] = "";
	char *actor_who = NULL, *need = NULL;
	size_t i;
	enum dv_rc rc;

	memset(&who, 0, sizeof(who));
	for (i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
		if (!route_match(routes[i].pattern, http_req_path(q), team,
		    sizeof(team), param, sizeof(param)))
			continue;
		if (strcmp(routes[i].method, m) == 0) {
			r = &routes[i];
			break;
		}
		if (strlen(allow) + strlen(routes[i].method) + 3 <
		    sizeof(allow)) {
			if (allow[0] != '\0')
				strcat(allow, ", ");
			strcat(allow, routes[i].method);
		}
	}
	if (r == NULL && allow[0] != '\0') {
		http_reply_header(q, "Allow", allow);
		http_reply_problem(q, DV_ERR_METHOD, "this method is not "
		    "allowed on this route");
		return;
	}
	if (r == NULL) {
		http_reply_problem(q, DV_ERR_NOT_FOUND, "no such endpoint");
		return;
	}
	if (ca->inv == NULL) {
		http_reply_problem(q, DV_ERR_UNAVAILABLE,
		    "the inventory is not open");
		return;
	}
	memset(&call, 0, sizeof(call));
	memset(&actor, 0, sizeof(actor));
	if (r->min_role != API_ROLE_NONE) {
		if ((tok = bearer(q)) == NULL) {
			deny(q, r, DV_ERR_UNAUTHORIZED, "this route needs an "
			    "admin API token (Authorization: Bearer dvt_...)");
			return;
		}
		rc = inv_token_auth(ca->inv, tok, dv_now(), &who);
		if (rc == DV_ERR_UNAUTHORIZED) {
			deny(q, r, rc, "the admin API token is unknown, revoked "
			    "or expired");
			return;
		}
		if (rc != DV_OK) {
			http_reply_problem(q, rc, NULL);
			return;
		}
		if (strcmp(who.team, team) != 0) {
			deny(q, r, DV_ERR_FORBIDDEN, "the admin API token "
			    "belongs to another team");
			goto out;
		}
		if ((int)who.role < r->min_role) {
			need = xasprintf("this route needs the %s role or "
			    "higher", inv_role_name((enum inv_role)
			    r->min_role));
			deny(q, r, DV_ERR_FORBIDDEN, need);
			goto out;
		}
		actor_who = xasprintf("token:%s", who.token_id);
		actor.who = actor_who;
	}
	actor.request_id = http_req_id(q);
	call.ca = ca;
	call.inv = ca->inv;
	call.team = team;
	call.param = param[0] != '\0' ? param : NULL;
	call.actor = &actor;
	r->handler(q, &call);
out:
	free(need);
	free(actor_who);
	inv_principal_clear(&who);
}
