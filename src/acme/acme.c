/*
 * acme.c - the ACME request dispatcher (RFC 8555 §7.1): the resource
 * paths of one provisioner, the directory, and the error table of §6.7.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

#define URN	"urn:ietf:params:acme:error:"
#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

static const struct acme_err_info errs[ACME_ERR__MAX] = {
	[ACME_ERR_NONE] = { URN "serverInternal", 500 },
	[ACME_ERR_MALFORMED] = { URN "malformed", 400 },
	[ACME_ERR_BAD_NONCE] = { URN "badNonce", 400 },
	[ACME_ERR_UNAUTHORIZED] = { URN "unauthorized", 403 },
	[ACME_ERR_ACCOUNT_DOES_NOT_EXIST] = { URN "accountDoesNotExist", 400 },
	[ACME_ERR_ORDER_NOT_READY] = { URN "orderNotReady", 403 },
	[ACME_ERR_BAD_CSR] = { URN "badCSR", 400 },
	[ACME_ERR_REJECTED_IDENTIFIER] = { URN "rejectedIdentifier", 400 },
	[ACME_ERR_UNSUPPORTED_IDENTIFIER] = { URN "unsupportedIdentifier",
	    400 },
	[ACME_ERR_BAD_SIGNATURE_ALGORITHM] = { URN "badSignatureAlgorithm",
	    400 },
	[ACME_ERR_BAD_PUBLIC_KEY] = { URN "badPublicKey", 400 },
	[ACME_ERR_CONNECTION] = { URN "connection", 400 },
	[ACME_ERR_DNS] = { URN "dns", 400 },
	[ACME_ERR_INCORRECT_RESPONSE] = { URN "incorrectResponse", 400 },
	[ACME_ERR_UNSUPPORTED_CONTACT] = { URN "unsupportedContact", 400 },
	[ACME_ERR_INVALID_CONTACT] = { URN "invalidContact", 400 },
	[ACME_ERR_EXTERNAL_ACCOUNT_REQUIRED] = {
	    URN "externalAccountRequired", 401 },
	[ACME_ERR_ALREADY_REVOKED] = { URN "alreadyRevoked", 400 },
	[ACME_ERR_BAD_REVOCATION_REASON] = { URN "badRevocationReason", 400 },
	[ACME_ERR_SERVER_INTERNAL] = { URN "serverInternal", 500 },
	[ACME_ERR_NOT_FOUND] = { URN "malformed", 404 },
	[ACME_ERR_CONFLICT] = { URN "malformed", 409 },
	[ACME_ERR_METHOD] = { URN "malformed", 405 },
	[ACME_ERR_TOO_LARGE] = { URN "malformed", 413 },
	[ACME_ERR_MEDIA_TYPE] = { URN "malformed", 415 },
	[ACME_ERR_UNAVAILABLE] = { URN "serverInternal", 503 },
	[ACME_ERR_BAD_ATTESTATION_STATEMENT] = { URN "badAttestationStatement",
	    400 },
	[ACME_ERR_ALREADY_REPLACED] = { URN "alreadyReplaced", 409 },
};

const char *const acme_ch_names[ACME_CH__MAX] = {
	[ACME_CH_HTTP01] = "http-01",
	[ACME_CH_DNS01] = "dns-01",
	[ACME_CH_TLSALPN01] = "tls-alpn-01",
	[ACME_CH_DEVICE_ATTEST01] = "device-attest-01",
};

const struct acme_err_info *
acme_err_info(enum acme_err e)
{
	if ((unsigned)e >= ACME_ERR__MAX || e == ACME_ERR_NONE)
		return &errs[ACME_ERR_SERVER_INTERNAL];
	return &errs[e];
}

void
acme_resp_clear(struct acme_resp *r)
{
	size_t i;

	if (r == NULL)
		return;
	json_decref(r->json);
	free(r->pem);
	free(r->location);
	for (i = 0; i < r->nlinks; i++)
		free(r->links[i]);
	free(r->nonce);
	ca_issue_free(r->iss);
	free(r->order_id);
	free(r->account_id);
	memset(r, 0, sizeof(*r));
}

json_t *
acme_problem_json(enum acme_err err, const char *detail)
{
	const struct acme_err_info *i = acme_err_info(err);

	return json_pack("{s:s,s:s,s:i}", "type", i->type, "detail",
	    detail != NULL ? detail : "", "status", i->status);
}

void
acme_fail(struct acme_ctx *c, enum acme_err err, const char *detail)
{
	struct acme_resp *r = c->resp;

	json_decref(r->json);
	free(r->location);
	r->location = NULL;
	r->json = acme_problem_json(err, detail);
	r->status = acme_err_info(err)->status;
	r->problem = true;
	if (err == ACME_ERR_BAD_SIGNATURE_ALGORITHM)
		json_object_set_new(r->json, "algorithms", json_pack(
		    "[s,s,s,s,s]", "ES256", "ES384", "RS256", "PS256",
		    "EdDSA"));
	if (err == ACME_ERR_UNAVAILABLE)
		r->retry_after = 10;
}

char *
acme_url(const struct acme_ctx *c, const char *suffix, const char *id)
{
	if (id == NULL)
		return xasprintf("%s%s", c->base, suffix);
	return xasprintf("%s%s%s", c->base, suffix, id);
}

char *
acme_id_new(void)
{
	uint8_t rnd[16];

	if (pki_random(rnd, sizeof(rnd)) != DV_OK)
		abort();	/* logged by pki: no safe way on */
	return jws_b64url_encode(rnd, sizeof(rnd));
}

bool
acme_cfg_load(const struct prov *p, struct acme_cfg *out)
{
	const json_t *j = prov_get_json(p), *v;
	const char *key;
	json_t *e;
	size_t i, k;

	memset(out, 0, sizeof(*out));
	out->http_port = 80;
	out->tlsalpn_port = 443;
	v = json_object_get(j, "challenges");
	if (v == NULL)
		out->chall[ACME_CH_HTTP01] = true;
	json_array_foreach(v, i, e) {
		for (k = 0; k < ACME_CH__MAX; k++)
			if (json_is_string(e) && strcmp(json_string_value(e),
			    acme_ch_names[k]) == 0)
				break;
		/* the types with a validator (issue 5 item 2) */
		if (k != ACME_CH_HTTP01 && k != ACME_CH_DNS01 &&
		    k != ACME_CH_TLSALPN01 && k != ACME_CH_DEVICE_ATTEST01) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "challenge type not supported");
			return false;
		}
		out->chall[k] = true;
	}
	if (!acme_attest_cfg_load(p, out))
		return false;
	if ((v = json_object_get(j, "httpPort")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "httpPort is not a port number");
			return false;
		}
		out->http_port = (int)json_integer_value(v);
	}
	if ((v = json_object_get(j, "requireEAB")) != NULL) {
		if (!json_is_boolean(v)) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "requireEAB is not a boolean");
			return false;
		}
		out->require_eab = json_is_true(v);
	}
	if ((v = json_object_get(j, "tlsAlpnPort")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 65535) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "tlsAlpnPort is not a port number");
			return false;
		}
		out->tlsalpn_port = (int)json_integer_value(v);
	}
	if ((v = json_object_get(j, "dnsResolver")) != NULL) {
		if (!json_is_string(v) || !acme_dns01_resolver_parse(
		    json_string_value(v), &out->dns_resolver)) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "dnsResolver is not an IPv4 address[:port]");
			return false;
		}
		out->dns_resolver_set = true;
	}
	if ((v = json_object_get(j, "resolve")) != NULL) {
		if (!json_is_object(v)) {
			log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
			    "provisioner", prov_get_name(p), "detail",
			    "resolve is not an object");
			return false;
		}
		json_object_foreach((json_t *)v, key, e) {
			const char *ip = json_string_value(e);
			unsigned char addr[16];

			if (ip == NULL || (inet_pton(AF_INET, ip, addr) != 1 &&
			    inet_pton(AF_INET6, ip, addr) != 1)) {
				log_msg(LOG_ERR, "acme.config", "{s:s,s:s}",
				    "provisioner", prov_get_name(p), "detail",
				    "resolve values must be IP addresses");
				return false;
			}
		}
		out->resolve = v;
	}
	return true;
}

/* The scheme and authority of our URLs: the request's Host when it is
 * one of the configured names at our port, else the first name. */
static char *
base_url(const struct acme_req *q)
{
	struct ca *ca = q->auth->ca;
	const char *h = ca->dns[0];
	char hostport[DV_MAX_NAME + 16];
	bool v6;
	size_t i;

	for (i = 0; q->host != NULL && i < ca->ndns; i++) {
		v6 = strchr(ca->dns[i], ':') != NULL;
		snprintf(hostport, sizeof(hostport), "%s%s%s:%d",
		    v6 ? "[" : "", ca->dns[i], v6 ? "]" : "", ca->port);
		if (strcasecmp(hostport, q->host) == 0) {
			h = ca->dns[i];
			break;
		}
	}
	v6 = strchr(h, ':') != NULL;
	return xasprintf("https://%s%s%s:%d%s/acme/%s", v6 ? "[" : "", h,
	    v6 ? "]" : "", ca->port, q->auth->base, prov_get_name(q->prov));
}

/* Sets a string member to a URL built from our base (frees it). */
static void
set_url(json_t *o, const char *key, char *url)
{
	json_object_set_new(o, key, json_string(url));
	free(url);
}

static void
directory_get(struct acme_ctx *c)
{
	json_t *d = json_object(), *meta = json_object();

	set_url(d, "newNonce", acme_url(c, "/new-nonce", NULL));
	set_url(d, "newAccount", acme_url(c, "/new-account", NULL));
	set_url(d, "newOrder", acme_url(c, "/new-order", NULL));
	set_url(d, "revokeCert", acme_url(c, "/revoke-cert", NULL));
	set_url(d, "keyChange", acme_url(c, "/key-change", NULL));
	set_url(d, "renewalInfo", acme_url(c, "/renewal-info", NULL));
	json_object_set_new(meta, "externalAccountRequired",
	    json_boolean(c->cfg.require_eab));
	json_object_set_new(d, "meta", meta);
	c->resp->json = d;
	c->resp->status = 200;
}

/* Splits rest "/name/id[/tail]" for name: *id (new) and the tail. */
static bool
path_id(const char *rest, const char *name, char **id, const char **tail)
{
	size_t n = strlen(name);
	const char *p, *s;

	*id = NULL;
	*tail = NULL;
	if (strncmp(rest, name, n) != 0 || rest[n] != '/')
		return false;
	p = rest + n + 1;
	s = strchr(p, '/');
	n = s != NULL ? (size_t)(s - p) : strlen(p);
	if (n == 0 || n > 64)
		return false;
	*id = xstrndup(p, n);
	*tail = s != NULL ? s : "";
	return true;
}

/* The POST resources named by an object id: {name}/{id}{tail}. */
static const struct {
	const char	*name;
	const char	*tail;
	void		(*fn)(struct acme_ctx *, const char *id);
} id_routes[] = {
	{ "/account", "", acme_account_post },
	{ "/account", "/orders", acme_account_orders },
	{ "/order", "", acme_order_get },
	{ "/order", "/finalize", acme_finalize },
	{ "/authz", "", acme_authz_post },
	{ "/chall", "", acme_chall_post },
	{ "/cert", "", acme_cert_get },
};

static void
dispatch(struct acme_ctx *c)
{
	const struct acme_req *q = c->req;
	const char *r = q->rest, *tail;
	char *id = NULL;
	size_t i;

	if (!q->post) {
		if (strcmp(r, "/directory") == 0)
			directory_get(c);
		else if (strcmp(r, "/new-nonce") == 0) {
			/* §7.2: 200 for HEAD, 204 for GET */
			c->resp->status = q->head ? 200 : 204;
			c->resp->no_cache = true;
		} else if (strncmp(r, "/renewal-info/", 14) == 0)
			/* the certID is checked and bounded there */
			acme_renewal_info(c, r + 14);
		else if (strcmp(r, "/new-account") == 0 ||
		    strcmp(r, "/new-order") == 0 ||
		    strcmp(r, "/revoke-cert") == 0 ||
		    strcmp(r, "/key-change") == 0 ||
		    strncmp(r, "/order/", 7) == 0 ||
		    strncmp(r, "/account/", 9) == 0 ||
		    strncmp(r, "/authz/", 7) == 0 ||
		    strncmp(r, "/chall/", 7) == 0 ||
		    strncmp(r, "/cert/", 6) == 0)
			/* §6.3: resources are fetched with POST-as-GET */
			acme_fail(c, ACME_ERR_METHOD, "use POST (RFC 8555 "
			    "§6.3: POST-as-GET)");
		else
			acme_fail(c, ACME_ERR_NOT_FOUND, "no such resource");
		free(id);
		return;
	}
	if (strcmp(r, "/new-account") == 0)
		acme_account_new(c);
	else if (strcmp(r, "/new-order") == 0)
		acme_order_new(c);
	else if (strcmp(r, "/revoke-cert") == 0)
		acme_revoke(c);
	else if (strcmp(r, "/key-change") == 0)
		acme_key_change(c);
	else if (strcmp(r, "/directory") == 0 ||
	    strcmp(r, "/new-nonce") == 0)
		acme_fail(c, ACME_ERR_METHOD, "use GET");
	else {
		for (i = 0; i < nitems(id_routes); i++) {
			if (path_id(r, id_routes[i].name, &id, &tail) &&
			    strcmp(tail, id_routes[i].tail) == 0) {
				id_routes[i].fn(c, id);
				break;
			}
			free(id);
			id = NULL;
		}
		if (i == nitems(id_routes))
			acme_fail(c, ACME_ERR_NOT_FOUND, "no such resource");
	}
	free(id);
}

void
acme_ctx_init(struct acme_ctx *c, const struct acme_req *q,
    struct acme_resp *resp)
{
	memset(c, 0, sizeof(*c));
	c->req = q;
	c->resp = resp;
	c->auth = q->auth;
	c->prov = q->prov;
	c->store = q->auth->ca->store;
	c->base = base_url(q);
	c->provid = xasprintf("%s/%s", q->auth->id, prov_get_name(q->prov));
}

void
acme_ctx_clear(struct acme_ctx *c)
{
	jws_flat_free(c->jws);
	json_decref(c->payload);
	json_decref(c->jwk);
	pki_key_free(c->pkey);
	free(c->thumbprint);
	store_acme_account_clear(&c->acct);
	free(c->provid);
	free(c->base);
	memset(c, 0, sizeof(*c));
}

void
acme_handle(const struct acme_req *q, struct acme_resp *resp)
{
	struct acme_ctx c;

	memset(resp, 0, sizeof(*resp));
	acme_ctx_init(&c, q, resp);
	if (!acme_cfg_load(q->prov, &c.cfg))
		acme_fail(&c, ACME_ERR_SERVER_INTERNAL, "the ACME provisioner "
		    "is misconfigured");
	else if (q->post && q->too_large)
		acme_fail(&c, ACME_ERR_TOO_LARGE, "the request body is larger "
		    "than the server accepts");
	else if (q->post && (q->ctype == NULL ||
	    strcasecmp(q->ctype, "application/jose+json") != 0))
		/* §6.2: POST bodies are application/jose+json */
		acme_fail(&c, ACME_ERR_MEDIA_TYPE, "the Content-Type must be "
		    "application/jose+json");
	else
		dispatch(&c);
	if (resp->status == 0)
		resp->status = 200;
	/* §6.5: every response carries a fresh nonce */
	if (resp->nonce == NULL && acme_nonce_issue(&c) != DV_OK &&
	    !resp->problem)
		acme_fail(&c, ACME_ERR_UNAVAILABLE, "try again later");
	/* §7.1: the directory is linked from every response */
	if (resp->nlinks < ACME_MAX_LINKS)
		resp->links[resp->nlinks++] = xasprintf("<%s/directory>;"
		    "rel=\"index\"", c.base);
	acme_ctx_clear(&c);
}
