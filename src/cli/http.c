/*
 * http.c - HTTPS requests to the CA over libcurl.  The server is verified
 * against the --root file only (no system store); responses are bounded by
 * CLI_MAX_RESPONSE; redirects are not followed.
 */
#include <stdlib.h>
#include <string.h>

#include <curl/curl.h>

#include "cli.h"

/* Seconds to connect, and for a whole request. */
#define CLI_CONNECT_TIMEOUT	10L
#define CLI_REQUEST_TIMEOUT	60L
/* Characters of a server message shown to the user. */
#define CLI_MAX_MESSAGE		512

struct sink {
	struct buf	*b;
	bool		 overflow;
};

static size_t
on_body(char *p, size_t size, size_t n, void *arg)
{
	struct sink *s = arg;
	size_t len = size * n;

	if (len > CLI_MAX_RESPONSE || s->b->len > CLI_MAX_RESPONSE - len) {
		s->overflow = true;
		return 0;	/* makes curl fail with CURLE_WRITE_ERROR */
	}
	buf_append(s->b, p, len);
	return len;
}

void
cli_resp_free(struct cli_resp *r)
{
	if (r == NULL)
		return;
	buf_free(&r->body);
	free(r->ctype);
	r->ctype = NULL;
	r->status = 0;
}

/* Explains a transport failure in terms of what the user can change. */
static void
report_curl(const struct cli_req *q, CURLcode c, const char *detail)
{
	const char *d = detail[0] != '\0' ? detail : curl_easy_strerror(c);

	switch (c) {
	case CURLE_PEER_FAILED_VERIFICATION:
	case CURLE_SSL_CACERT_BADFILE:
		cli_err("%s %s: the server's TLS certificate does not verify "
		    "against the root '%s' (%s); is --root the CA's root "
		    "certificate (e.g. DIR/certs/account-root.crt)?",
		    q->method, q->url, q->cafile ? q->cafile : "(none)", d);
		break;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_OPERATION_TIMEDOUT:
		cli_err("%s %s: %s; is the CA running and --ca-url right?",
		    q->method, q->url, d);
		break;
	case CURLE_SSL_CERTPROBLEM:
	case CURLE_SSL_ENGINE_INITFAILED:
		cli_err("%s %s: cannot use the client certificate '%s' with "
		    "key '%s' (%s)", q->method, q->url, q->cert ? q->cert : "",
		    q->key ? q->key : "", d);
		break;
	default:
		cli_err("%s %s: %s", q->method, q->url, d);
		break;
	}
}

enum dv_rc
cli_http(const struct cli_req *q, struct cli_resp *r)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	struct curl_slist *hdrs = NULL;
	struct sink sink;
	char *body = NULL, *auth = NULL, *ct = NULL, *ctline = NULL;
	CURL *c = NULL;
	CURLcode cc;
	enum dv_rc rc = DV_ERR_IO;

	memset(r, 0, sizeof(*r));
	sink.b = &r->body;
	sink.overflow = false;
	if ((c = curl_easy_init()) == NULL) {
		cli_err("cannot create a libcurl handle");
		return DV_ERR_INTERNAL;
	}
	curl_easy_setopt(c, CURLOPT_URL, q->url);
	curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "https");
	curl_easy_setopt(c, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT, CLI_CONNECT_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_TIMEOUT, CLI_REQUEST_TIMEOUT);
	curl_easy_setopt(c, CURLOPT_ERRORBUFFER, errbuf);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &sink);
	curl_easy_setopt(c, CURLOPT_USERAGENT, "devid-cli/1.0");
	curl_easy_setopt(c, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2);
	if (q->insecure) {
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 0L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 0L);
	} else {
		/* Only the CA's roots: never the system store. */
		curl_easy_setopt(c, CURLOPT_CAINFO, q->cafile);
		curl_easy_setopt(c, CURLOPT_CAPATH, NULL);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
		curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
	}
	if (q->cert != NULL) {
		curl_easy_setopt(c, CURLOPT_SSLCERT, q->cert);
		curl_easy_setopt(c, CURLOPT_SSLCERTTYPE, "PEM");
		curl_easy_setopt(c, CURLOPT_SSLKEY, q->key);
		curl_easy_setopt(c, CURLOPT_SSLKEYTYPE, "PEM");
	}
	hdrs = curl_slist_append(hdrs, "Accept: application/json");
	if (q->bearer != NULL) {
		auth = xasprintf("Authorization: Bearer %s", q->bearer);
		hdrs = curl_slist_append(hdrs, auth);
	}
	if (q->raw != NULL) {
		ctline = xasprintf("Content-Type: %s", q->ctype);
		hdrs = curl_slist_append(hdrs, ctline);
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE,
		    (curl_off_t)q->rawlen);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, q->raw);
	} else if (strcmp(q->method, "GET") != 0 &&
	    (strcmp(q->method, "POST") == 0 || q->body != NULL)) {
		if (q->body != NULL &&
		    (body = json_dumps(q->body, JSON_COMPACT)) == NULL) {
			cli_err("cannot encode the request body");
			rc = DV_ERR_INTERNAL;
			goto out;
		}
		hdrs = curl_slist_append(hdrs,
		    "Content-Type: application/json");
		curl_easy_setopt(c, CURLOPT_POST, 1L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE,
		    body != NULL ? (long)strlen(body) : 0L);
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body ? body : "");
	} else
		curl_easy_setopt(c, CURLOPT_HTTPGET, 1L);
	/* PATCH and DELETE: the request above under another method name */
	if (strcmp(q->method, "GET") != 0 && strcmp(q->method, "POST") != 0)
		curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, q->method);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);

	cc = curl_easy_perform(c);
	if (sink.overflow) {
		cli_err("%s %s: the response is larger than %d bytes; refusing "
		    "it (is --ca-url a devid CA?)", q->method, q->url,
		    CLI_MAX_RESPONSE);
		rc = DV_ERR_TOO_LARGE;
		goto out;
	}
	if (cc != CURLE_OK) {
		report_curl(q, cc, errbuf);
		rc = DV_ERR_IO;
		goto out;
	}
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	if (curl_easy_getinfo(c, CURLINFO_CONTENT_TYPE, &ct) == CURLE_OK &&
	    ct != NULL)
		r->ctype = xstrdup(ct);
	/* Keep the body NUL-terminated for the callers. */
	buf_append(&r->body, "", 1);
	r->body.len--;
	rc = DV_OK;
out:
	if (auth != NULL)
		explicit_bzero(auth, strlen(auth));
	free(auth);
	free(body);
	free(ctline);
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(c);
	if (rc != DV_OK)
		cli_resp_free(r);
	return rc;
}

/* Copies at most CLI_MAX_MESSAGE characters of untrusted s, replacing what
 * is not printable ASCII, into a new string. */
static char *
sanitise(const char *s, size_t len)
{
	char *o;
	size_t i;

	if (len > CLI_MAX_MESSAGE)
		len = CLI_MAX_MESSAGE;
	o = xmalloc(len + 1);
	for (i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)s[i];

		o[i] = (ch >= 0x20 && ch < 0x7f) ? (char)ch : '?';
	}
	o[len] = '\0';
	return o;
}

static enum dv_rc
status_rc(long st)
{
	switch (st) {
	case 400:
		return DV_ERR_MALFORMED;
	case 401:
		return DV_ERR_UNAUTHORIZED;
	case 403:
		return DV_ERR_FORBIDDEN;
	case 404:
		return DV_ERR_NOT_FOUND;
	case 409:
		return DV_ERR_EXISTS;
	case 413:
		return DV_ERR_TOO_LARGE;
	case 503:
		return DV_ERR_UNAVAILABLE;
	default:
		return st >= 500 ? DV_ERR_INTERNAL : DV_ERR_MALFORMED;
	}
}

/* What to try next for a refusal with status st. */
static const char *
status_hint(const struct cli_req *q, long st)
{
	switch (st) {
	case 401:
		return q->hint401;
	case 403:
		return q->hint403 != NULL ? q->hint403 : "the CA's policy "
		    "refused the request (names, lifetime or provisioner "
		    "rules)";
	case 404:
		return q->hint404 != NULL ? q->hint404 : "is --ca-url the "
		    "base of an authority (https://HOST:PORT/t/TEAM/AUTHORITY)?";
	default:
		return NULL;
	}
}

enum dv_rc
cli_api_json(const struct cli_req *q, long want, json_t **out)
{
	struct cli_resp r;
	json_t *j = NULL;
	const char *m;
	char *msg = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = cli_http(q, &r)) != DV_OK)
		return rc;
	if (r.status != want) {
		rc = status_rc(r.status);
		if (json_parse_strict(r.body.data, r.body.len, CLI_MAX_RESPONSE,
		    &j) == DV_OK && ((m = json_get_str(j, "detail")) != NULL ||
		    (m = json_get_str(j, "message")) != NULL ||
		    (m = json_get_str(j, "title")) != NULL))
			msg = sanitise(m, strlen(m));
		else
			msg = sanitise((const char *)r.body.data, r.body.len);
		cli_err("%s %s: the CA answered %ld: %s%s%s", q->method,
		    q->url, r.status, msg[0] ? msg : "(no message)",
		    status_hint(q, r.status) ? "; " : "",
		    status_hint(q, r.status) ? status_hint(q, r.status) : "");
		goto out;
	}
	if (want == 204)
		goto out;
	if ((rc = json_parse_strict(r.body.data, r.body.len, CLI_MAX_RESPONSE,
	    &j)) != DV_OK) {
		cli_err("%s %s: the CA answered %ld but the body is not a JSON "
		    "object", q->method, q->url, r.status);
		goto out;
	}
	*out = j;
	j = NULL;
out:
	free(msg);
	json_decref(j);
	cli_resp_free(&r);
	return rc;
}
