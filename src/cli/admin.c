/*
 * admin.c - what the admin commands (device, collection, audit,
 * admin-token) share: where the server is, which roots verify it, which
 * token and team to use, and URLs under /admin/v1/teams/{team}.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#include "cli.h"

/* Bytes of a token file. */
#define CLI_MAX_TOKEN_FILE	4096

bool
cli_admin_opt(struct cli_admin_args *a, int ch, const char *arg)
{
	switch (ch) {
	case CLI_OPT_DATA:
		a->data = arg;
		return true;
	case CLI_OPT_ADMIN_URL:
		a->url = arg;
		return true;
	case CLI_OPT_ROOT:
		a->root = arg;
		return true;
	case CLI_OPT_TOKEN_FILE:
		a->token_file = arg;
		return true;
	case CLI_OPT_TEAM:
		a->team = arg;
		return true;
	default:
		return false;
	}
}

/* "https://" + the "listen" of DIR/config.json, or NULL after reporting. */
static char *
url_from_data(const char *data)
{
	uint8_t *text = NULL;
	json_t *cfg = NULL;
	const char *listen;
	char *path, *url = NULL;
	size_t len;

	path = xasprintf("%s/config.json", data);
	if (cli_file_read("server configuration", path, &text, &len) != DV_OK)
		goto out;
	if (json_parse_strict(text, len, CLI_MAX_FILE, &cfg) != DV_OK ||
	    (listen = json_get_str(cfg, "listen")) == NULL) {
		cli_err("'%s' has no \"listen\"; give --admin-url "
		    "https://HOST:PORT", path);
		goto out;
	}
	url = xasprintf("https://%s", listen);
out:
	json_decref(cfg);
	free(text);
	free(path);
	return url;
}

/* Reads the token (first line of the file), or NULL after reporting. */
static char *
token_from_file(const char *path)
{
	uint8_t *text = NULL;
	char *tok = NULL;
	size_t len, n;

	if (!file_exists(path)) {
		cli_err("token file '%s' does not exist; give --token-file "
		    "FILE or set DEVID_TOKEN (devid-ca init wrote "
		    "DIR/admin/owner.token; 'devid admin-token create' makes "
		    "more)", path);
		return NULL;
	}
	if (file_read(path, CLI_MAX_TOKEN_FILE, &text, &len) != DV_OK) {
		cli_err("cannot read token file '%s' (at most %d bytes)", path,
		    CLI_MAX_TOKEN_FILE);
		return NULL;
	}
	n = strcspn((char *)text, "\r\n");
	if (n == 0 || !str_printable((char *)text, n))
		cli_err("token file '%s' does not hold a token on its first "
		    "line", path);
	else
		tok = xstrndup((char *)text, n);
	OPENSSL_cleanse(text, len);
	free(text);
	return tok;
}

static char *
escape(const char *s)
{
	char *e = curl_easy_escape(NULL, s, 0), *r;

	if (e == NULL)
		abort();	/* out of memory (rule 11) */
	r = xstrdup(e);
	curl_free(e);
	return r;
}

enum dv_rc
cli_admin_open(const struct cli_admin_args *a, struct cli_admin *c)
{
	const char *env_url = getenv("DEVID_ADMIN_URL");
	const char *env_tok = getenv("DEVID_TOKEN");
	char *url = NULL, *team = NULL, *p = NULL;
	enum dv_rc rc = DV_ERR_MALFORMED;
	size_t n;

	memset(c, 0, sizeof(*c));
	if (a->url != NULL)
		url = xstrdup(a->url);
	else if (env_url != NULL && env_url[0] != '\0')
		url = xstrdup(env_url);
	else if (a->data != NULL) {
		if ((url = url_from_data(a->data)) == NULL)
			goto out;
	} else {
		cli_usage_err("give --admin-url https://HOST:PORT (or --data "
		    "DIR, or set DEVID_ADMIN_URL)");
		goto out;
	}
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    strpbrk(url, " \t\r\n?#") != NULL) {
		cli_usage_err("the admin URL '%s' must be https://HOST:PORT "
		    "without path, query or fragment", url);
		goto out;
	}
	n = strlen(url);
	while (n > 8 && url[n - 1] == '/')
		url[--n] = '\0';
	if (strchr(url + 8, '/') != NULL) {
		cli_usage_err("the admin URL '%s' must be https://HOST:PORT "
		    "(the server, not an authority's URL)", url);
		goto out;
	}
	if (a->root != NULL)
		c->root = xstrdup(a->root);
	else if (a->data != NULL)
		c->root = xasprintf("%s/certs/roots.pem", a->data);
	else {
		cli_usage_err("give --root FILE, the roots of the server's TLS "
		    "certificate (DIR/certs/roots.pem), or --data DIR");
		goto out;
	}
	if (a->token_file != NULL)
		c->token = token_from_file(a->token_file);
	else if (env_tok != NULL && env_tok[0] != '\0')
		c->token = xstrdup(env_tok);
	else if (a->data != NULL) {
		p = xasprintf("%s/admin/owner.token", a->data);
		c->token = token_from_file(p);
	} else
		cli_usage_err("give --token-file FILE or set DEVID_TOKEN (an "
		    "admin API token; the owner's is DIR/admin/owner.token)");
	if (c->token == NULL)
		goto out;
	team = escape(a->team != NULL ? a->team : "default");
	c->base = xasprintf("%s/admin/v1/teams/%s", url, team);
	rc = DV_OK;
out:
	if (rc != DV_OK)
		cli_admin_clear(c);
	free(p);
	free(team);
	free(url);
	return rc;
}

void
cli_admin_clear(struct cli_admin *c)
{
	if (c == NULL)
		return;
	if (c->token != NULL)
		OPENSSL_cleanse(c->token, strlen(c->token));
	free(c->token);
	free(c->root);
	free(c->base);
	memset(c, 0, sizeof(*c));
}

char *
cli_admin_url(const struct cli_admin *c, const char *coll, const char *id,
    const char *suffix, const struct buf *query)
{
	char *e = id != NULL ? escape(id) : NULL, *u;

	u = xasprintf("%s/%s%s%s%s%s%.*s", c->base, coll, e ? "/" : "",
	    e ? e : "", suffix ? suffix : "",
	    query != NULL && query->len > 0 ? "?" : "",
	    query != NULL ? (int)query->len : 0,
	    query != NULL && query->data ? (const char *)query->data : "");
	free(e);
	return u;
}

void
cli_query_add(struct buf *q, const char *key, const char *value)
{
	char *e;

	if (value == NULL)
		return;
	e = escape(value);
	if (q->len > 0)
		buf_append(q, "&", 1);
	buf_append(q, key, strlen(key));
	buf_append(q, "=", 1);
	buf_append(q, e, strlen(e));
	free(e);
}

void
cli_admin_req(const struct cli_admin *c, const char *method, const char *url,
    struct cli_req *r)
{
	memset(r, 0, sizeof(*r));
	r->method = method;
	r->url = url;
	r->cafile = c->root;
	r->bearer = c->token;
	r->hint401 = "the admin API token is missing, unknown, revoked or "
	    "expired (--token-file, DEVID_TOKEN); an owner makes one with "
	    "'devid admin-token create'";
	r->hint403 = "the token's role does not allow this (viewer < "
	    "mdm-sync < admin < owner), or it belongs to another team than "
	    "--team";
	r->hint404 = "no such object (or is --admin-url https://HOST:PORT of "
	    "a devid-ca server?)";
}

bool
cli_print_json(const json_t *j)
{
	if (json_dumpf(j, stdout, JSON_INDENT(2)) != 0)
		return false;
	return fputc('\n', stdout) != EOF && fflush(stdout) == 0;
}
