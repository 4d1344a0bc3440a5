/*
 * acme.c - end-to-end ACME issuance benchmark client (issue 5 "Benchmark",
 * spec/performance.md §4, §8(b)).  A benchmark program, not project code:
 * it calls OpenSSL directly for TLS and the ES256 signatures.
 *
 * W worker threads, each with its own ES256 account (registered before the
 * clock starts) and one HTTPS keep-alive connection to the server (the
 * server certificate verified against --cafile).  Per issuance:
 * newOrder (one random dns name under --domain) -> POST-as-GET authz ->
 * POST challenge {} -> poll authz (--poll-ms between polls) -> finalize
 * (fresh P-256 key + CSR) -> poll order -> download the chain.
 *
 * A built-in http-01 responder (HTTP/1.1 on 127.0.0.1:--http-port, a pool
 * of threads blocking in accept, "Connection: close") serves
 * /.well-known/acme-challenge/{token} from an in-memory table the workers
 * fill; the server under test validates against it.  The same code runs
 * against pebble and devid.
 *
 *   bench_acme --dir https://IP:PORT/path --cafile PEM --http-port P
 *       [-w WORKERS] [--warm S] [-d S] [--pid PID] [--domain D]
 *       [--poll-ms MS] [--timeout S] [--label TEXT] [--count N]
 *
 * --count N: each worker stops after N issuances and the run ends when
 * all did (a fixed load for instruction counts under callgrind; use
 * --warm 0 and a long -d with it).
 *
 * Output: one line "RESULT key=value ..."; wedged=1 when a request took
 * longer than --timeout (pebble can deadlock, spec §4).
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include "base/base.h"
#include "jws/jws.h"
#include "pki/pki.h"

#define RESPONDERS	16
#define TOKBUCKETS	1024

/* ---- settings and shared state -------------------------------------- */

struct cfg {
	struct sockaddr_in addr;	/* the ACME server */
	char		*hostport;	/* owned: Host header */
	char		*dir;		/* owned: directory URL */
	const char	*domain;
	SSL_CTX		*ctx;		/* owned */
	unsigned	 poll_ms;
	unsigned	 timeout_s;
	unsigned long	 count;		/* issuances per worker, 0: by time */
	/* directory */
	char		*new_nonce, *new_account, *new_order;	/* owned */
};

static struct cfg cfg;

/* run window, ns CLOCK_MONOTONIC */
static _Atomic uint64_t t_meas, t_end;
static atomic_bool stopping;
static atomic_bool wedged;
static atomic_ulong validations;	/* challenge GETs answered 200 */
static atomic_ulong resp_404;		/* challenge GETs for unknown tokens */

/* ---- token table (http-01) -------------------------------------------- */

struct tok {
	struct tok	*next;
	char		*token;		/* owned */
	char		*keyauth;	/* owned */
};

static struct tok *tokens[TOKBUCKETS];
static pthread_mutex_t tokmu = PTHREAD_MUTEX_INITIALIZER;

static unsigned
tok_hash(const char *s)
{
	unsigned h = 2166136261u;

	while (*s != '\0')
		h = (h ^ (unsigned char)*s++) * 16777619u;
	return h % TOKBUCKETS;
}

static void
tok_put(const char *token, const char *keyauth)
{
	struct tok *t = xcalloc(1, sizeof(*t));
	unsigned h = tok_hash(token);

	t->token = xstrdup(token);
	t->keyauth = xstrdup(keyauth);
	pthread_mutex_lock(&tokmu);
	t->next = tokens[h];
	tokens[h] = t;
	pthread_mutex_unlock(&tokmu);
}

static void
tok_del(const char *token)
{
	struct tok **pp, *t = NULL;
	unsigned h = tok_hash(token);

	pthread_mutex_lock(&tokmu);
	for (pp = &tokens[h]; *pp != NULL; pp = &(*pp)->next) {
		if (strcmp((*pp)->token, token) == 0) {
			t = *pp;
			*pp = t->next;
			break;
		}
	}
	pthread_mutex_unlock(&tokmu);
	if (t != NULL) {
		free(t->token);
		free(t->keyauth);
		free(t);
	}
}

/* Copies the key authorization of token into buf; false if unknown. */
static bool
tok_get(const char *token, char *buf, size_t cap)
{
	struct tok *t;
	bool found = false;

	pthread_mutex_lock(&tokmu);
	for (t = tokens[tok_hash(token)]; t != NULL; t = t->next) {
		if (strcmp(t->token, token) == 0) {
			snprintf(buf, cap, "%s", t->keyauth);
			found = true;
			break;
		}
	}
	pthread_mutex_unlock(&tokmu);
	return found;
}

/* ---- misc ------------------------------------------------------------- */

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
sleep_ms(unsigned ms)
{
	struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000L };

	nanosleep(&ts, NULL);
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_acme: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

/* ---- http-01 responder -------------------------------------------------- */

static void
respond_one(int fd)
{
	static const char pfx[] = "GET /.well-known/acme-challenge/";
	char req[4096], ka[512], out[1024], token[256];
	size_t n = 0, tl;
	ssize_t r;
	int len;

	while (n < sizeof(req) - 1) {
		r = read(fd, req + n, sizeof(req) - 1 - n);
		if (r <= 0)
			return;
		n += (size_t)r;
		req[n] = '\0';
		if (strstr(req, "\r\n\r\n") != NULL)
			break;
	}
	tl = 0;
	if (strncmp(req, pfx, sizeof(pfx) - 1) == 0) {
		tl = strcspn(req + sizeof(pfx) - 1, " ?\r\n");
		if (tl >= sizeof(token))
			tl = 0;
		memcpy(token, req + sizeof(pfx) - 1, tl);
		token[tl] = '\0';
	}
	if (tl > 0 && tok_get(token, ka, sizeof(ka))) {
		atomic_fetch_add(&validations, 1);
		len = snprintf(out, sizeof(out), "HTTP/1.1 200 OK\r\n"
		    "Content-Type: application/octet-stream\r\n"
		    "Content-Length: %zu\r\nConnection: close\r\n\r\n%s",
		    strlen(ka), ka);
	} else {
		atomic_fetch_add(&resp_404, 1);
		len = snprintf(out, sizeof(out), "HTTP/1.1 404 Not Found\r\n"
		    "Content-Length: 0\r\nConnection: close\r\n\r\n");
	}
	if (write(fd, out, (size_t)len) < 0)
		return;
}

static void *
responder_run(void *arg)
{
	int lfd = *(int *)arg, fd, one = 1;
	struct timeval tv = { 5, 0 };

	for (;;) {
		fd = accept(lfd, NULL, NULL);
		if (fd < 0) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			return NULL;
		}
		setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
		setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		respond_one(fd);
		close(fd);
	}
}

static void
responder_start(unsigned port)
{
	static int lfd;
	struct sockaddr_in a;
	pthread_t th;
	int one = 1, i;

	lfd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (lfd < 0)
		die("socket");
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons((uint16_t)port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(lfd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    listen(lfd, 512) != 0)
		die("http-01 responder: cannot listen on 127.0.0.1:port");
	for (i = 0; i < RESPONDERS; i++) {
		if (pthread_create(&th, NULL, responder_run, &lfd) != 0)
			die("pthread_create");
		pthread_detach(th);
	}
}

/* ---- HTTPS client (blocking, keep-alive) -------------------------------- */

struct resp {
	int		 status;
	char		*hdr;		/* owned, NUL-terminated headers */
	char		*body;		/* owned, NUL-terminated */
	size_t		 bodylen;
	bool		 close;
};

struct conn {
	int		 fd;
	SSL		*ssl;		/* owned */
	char		*buf;		/* owned: bytes read, not yet used */
	size_t		 len, cap;
	unsigned	 requests;
};

static void
resp_clear(struct resp *r)
{
	free(r->hdr);
	free(r->body);
	memset(r, 0, sizeof(*r));
}

static void
conn_close(struct conn *c)
{
	if (c->ssl != NULL)
		SSL_free(c->ssl);
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
	c->len = 0;
}

static bool
conn_open(struct conn *c)
{
	struct timeval tv = { (time_t)cfg.timeout_s, 0 };
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	setsockopt(c->fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(c->fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	if (connect(c->fd, (struct sockaddr *)&cfg.addr,
	    sizeof(cfg.addr)) != 0)
		goto fail;
	if ((c->ssl = SSL_new(cfg.ctx)) == NULL)
		goto fail;
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1)
		goto fail;
	return true;
fail:
	ERR_print_errors_fp(stderr);
	conn_close(c);
	return false;
}

/* Reads more bytes into c->buf; false on EOF, error or timeout. */
static bool
conn_fill(struct conn *c)
{
	int r;

	if (c->cap - c->len < 16384) {
		c->cap = c->cap ? 2 * c->cap : 65536;
		c->buf = xrealloc(c->buf, c->cap);
	}
	r = SSL_read(c->ssl, c->buf + c->len, (int)(c->cap - c->len - 1));
	if (r <= 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			atomic_store(&wedged, true);
		return false;
	}
	c->len += (size_t)r;
	c->buf[c->len] = '\0';
	return true;
}

static void
conn_consume(struct conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->len - n);
	c->len -= n;
	c->buf[c->len] = '\0';
}

static const char *
hdr_find(const char *h, const char *name)
{
	size_t nl = strlen(name);
	const char *p;

	for (p = h; (p = strchr(p, '\n')) != NULL; ) {
		p++;
		if (strncasecmp(p, name, nl) == 0 && p[nl] == ':') {
			p += nl + 1;
			return p + strspn(p, " \t");
		}
	}
	return NULL;
}

/* Header value as a new string (up to CR/LF), NULL if absent. */
static char *
hdr_get(const struct resp *r, const char *name)
{
	const char *v = hdr_find(r->hdr, name);

	return v == NULL ? NULL : xstrndup(v, strcspn(v, "\r\n"));
}

/* Reads one response; head: a HEAD request (no body). */
static bool
read_response(struct conn *c, bool head, struct resp *r)
{
	const char *v, *e;
	size_t hl, cl, off, sz;
	char *end;

	while ((e = strstr(c->buf != NULL ? c->buf : "", "\r\n\r\n")) ==
	    NULL)
		if (!conn_fill(c))
			return false;
	hl = (size_t)(e - c->buf) + 4;
	if (strncmp(c->buf, "HTTP/1.", 7) != 0)
		return false;
	r->hdr = xstrndup(c->buf, hl);
	r->status = atoi(c->buf + 9);
	v = hdr_find(r->hdr, "connection");
	r->close = v != NULL && strncasecmp(v, "close", 5) == 0;
	conn_consume(c, hl);
	if (head || r->status == 204 || r->status == 304) {
		r->body = xstrdup("");
		return true;
	}
	if ((v = hdr_find(r->hdr, "content-length")) != NULL) {
		cl = strtoul(v, NULL, 10);
		while (c->len < cl)
			if (!conn_fill(c))
				return false;
		r->body = xstrndup(c->buf, cl);
		r->bodylen = cl;
		conn_consume(c, cl);
		return true;
	}
	v = hdr_find(r->hdr, "transfer-encoding");
	if (v == NULL || strncasecmp(v, "chunked", 7) != 0)
		return false;
	r->body = xstrdup("");
	for (;;) {
		while (strstr(c->buf, "\r\n") == NULL)
			if (!conn_fill(c))
				return false;
		sz = strtoul(c->buf, &end, 16);
		off = (size_t)(strstr(c->buf, "\r\n") - c->buf) + 2;
		while (c->len < off + sz + 2)
			if (!conn_fill(c))
				return false;
		if (sz == 0) {
			/* no trailers expected: "0\r\n\r\n" */
			conn_consume(c, off + 2);
			return true;
		}
		r->body = xrealloc(r->body, r->bodylen + sz + 1);
		memcpy(r->body + r->bodylen, c->buf + off, sz);
		r->bodylen += sz;
		r->body[r->bodylen] = '\0';
		conn_consume(c, off + sz + 2);
	}
}

/* The path part of an absolute https URL. */
static const char *
url_path(const char *url)
{
	const char *p = strstr(url, "://");

	p = p != NULL ? p + 3 : url;
	p = strchr(p, '/');
	return p != NULL ? p : "/";
}

/* One request on c (reconnecting if needed); false on a transport error. */
static bool
http_do(struct conn *c, const char *method, const char *url,
    const char *body, struct resp *r)
{
	char *req;
	size_t bl = body != NULL ? strlen(body) : 0;
	int tries, n;

	memset(r, 0, sizeof(*r));
	req = xasprintf("%s %s HTTP/1.1\r\nHost: %s\r\n"
	    "User-Agent: devid-bench-acme\r\n%s"
	    "Content-Length: %zu\r\n\r\n%s", method, url_path(url),
	    cfg.hostport, body != NULL ?
	    "Content-Type: application/jose+json\r\n" : "", bl,
	    body != NULL ? body : "");
	for (tries = 0; tries < 2; tries++) {
		if (c->ssl == NULL && !conn_open(c))
			break;
		n = SSL_write(c->ssl, req, (int)strlen(req));
		if (n == (int)strlen(req) &&
		    read_response(c, strcmp(method, "HEAD") == 0, r)) {
			c->requests++;
			if (r->close)
				conn_close(c);
			free(req);
			return true;
		}
		resp_clear(r);
		conn_close(c);
		if (atomic_load(&wedged))
			break;
	}
	free(req);
	return false;
}

/* ---- ACME client -------------------------------------------------------- */

struct acct {
	EVP_PKEY	*key;		/* owned: ES256 account key */
	json_t		*jwk;		/* owned: public JWK */
	char		*thumb;		/* owned: RFC 7638 thumbprint */
	char		*kid;		/* owned: account URL */
	char		*nonce;		/* owned: next nonce */
};

struct worker {
	unsigned	 id;
	pthread_t	 th;
	struct conn	 c;
	struct acct	 a;
	uint32_t	*lat;		/* owned: us per issuance in the window */
	size_t		 nlat, caplat;
	unsigned long	 ok, all_ok, failed, requests, badnonce;
	unsigned long	 iss_failed;	/* issuances that failed */
	bool		 ready;		/* account registered */
	bool		 done;
	int		 shown;
};

/* ES256 signature over in, as base64url(r || s). */
static char *
es256_sign(EVP_PKEY *k, const char *in)
{
	EVP_MD_CTX *md = EVP_MD_CTX_new();
	uint8_t der[128], raw[64];
	const uint8_t *p = der;
	size_t dl = sizeof(der);
	ECDSA_SIG *s = NULL;
	const BIGNUM *br, *bs;
	char *out = NULL;

	if (md == NULL || EVP_DigestSignInit(md, NULL, EVP_sha256(), NULL,
	    k) != 1 || EVP_DigestSign(md, der, &dl, (const uint8_t *)in,
	    strlen(in)) != 1)
		goto out;
	if ((s = d2i_ECDSA_SIG(NULL, &p, (long)dl)) == NULL)
		goto out;
	ECDSA_SIG_get0(s, &br, &bs);
	if (BN_bn2binpad(br, raw, 32) != 32 ||
	    BN_bn2binpad(bs, raw + 32, 32) != 32)
		goto out;
	out = jws_b64url_encode(raw, sizeof(raw));
out:
	ECDSA_SIG_free(s);
	EVP_MD_CTX_free(md);
	return out;
}

/* Flattened JWS body; payload NULL: POST-as-GET (empty payload). */
static char *
jws_body(struct acct *a, const char *url, const json_t *payload,
    bool use_jwk)
{
	json_t *h;
	char *hs, *ph, *pl = NULL, *ps, *in, *sig = NULL, *body = NULL;

	h = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "nonce",
	    a->nonce != NULL ? a->nonce : "", "url", url);
	if (use_jwk)
		json_object_set(h, "jwk", a->jwk);
	else
		json_object_set_new(h, "kid", json_string(a->kid));
	hs = json_dumps(h, JSON_COMPACT);
	json_decref(h);
	ph = jws_b64url_encode((const uint8_t *)hs, strlen(hs));
	if (payload != NULL) {
		ps = json_dumps(payload, JSON_COMPACT);
		pl = jws_b64url_encode((const uint8_t *)ps, strlen(ps));
		free(ps);
	} else
		pl = xstrdup("");
	in = xasprintf("%s.%s", ph, pl);
	if ((sig = es256_sign(a->key, in)) == NULL)
		goto out;
	body = xasprintf("{\"protected\":\"%s\",\"payload\":\"%s\","
	    "\"signature\":\"%s\"}", ph, pl, sig);
out:
	free(sig);
	free(in);
	free(pl);
	free(ph);
	free(hs);
	return body;
}

static bool
get_nonce(struct worker *w)
{
	struct resp r;
	bool ok;

	if (!http_do(&w->c, "HEAD", cfg.new_nonce, NULL, &r))
		return false;
	w->requests++;
	free(w->a.nonce);
	w->a.nonce = hdr_get(&r, "replay-nonce");
	ok = w->a.nonce != NULL;
	resp_clear(&r);
	return ok;
}

/*
 * Signed POST to url (payload NULL: POST-as-GET), retried once on
 * badNonce.  On success *out holds the response (any HTTP status) and its
 * JSON body in *js when it has one.
 */
static bool
acme_post(struct worker *w, const char *url, const json_t *payload,
    bool use_jwk, struct resp *out, json_t **js)
{
	char *body;
	int tries;

	*js = NULL;
	for (tries = 0; tries < 3; tries++) {
		if (w->a.nonce == NULL && !get_nonce(w))
			return false;
		body = jws_body(&w->a, url, payload, use_jwk);
		free(w->a.nonce);
		w->a.nonce = NULL;
		if (body == NULL)
			return false;
		if (!http_do(&w->c, "POST", url, body, out)) {
			free(body);
			return false;
		}
		free(body);
		w->requests++;
		w->a.nonce = hdr_get(out, "replay-nonce");
		*js = json_loadb(out->body, out->bodylen, 0, NULL);
		if (out->status == 400 && *js != NULL &&
		    json_get_str(*js, "type") != NULL &&
		    strstr(json_get_str(*js, "type"), "badNonce") != NULL) {
			w->badnonce++;
			json_decref(*js);
			*js = NULL;
			resp_clear(out);
			continue;
		}
		return true;
	}
	return false;
}

static void
complain(struct worker *w, const char *step, const struct resp *r)
{
	w->failed++;
	if (w->shown++ < 3)
		fprintf(stderr, "bench_acme: worker %u: %s: HTTP %d %.400s\n",
		    w->id, step, r != NULL ? r->status : 0,
		    r != NULL && r->body != NULL ? r->body : "(no response)");
}

static bool
account_register(struct worker *w)
{
	struct resp r;
	json_t *p, *js;
	bool ok = false;

	if (pki_key_generate(PKI_KEY_P256, &w->a.key) != DV_OK ||
	    jws_jwk_from_pkey(w->a.key, false, &w->a.jwk) != DV_OK ||
	    jws_jwk_thumbprint(w->a.jwk, &w->a.thumb) != DV_OK)
		die("account key");
	p = json_pack("{s:b,s:[s]}", "termsOfServiceAgreed", 1, "contact",
	    "mailto:bench@example.org");
	if (!acme_post(w, cfg.new_account, p, true, &r, &js)) {
		complain(w, "newAccount", NULL);
		goto out;
	}
	if (r.status != 201 && r.status != 200) {
		complain(w, "newAccount", &r);
		goto out;
	}
	w->a.kid = hdr_get(&r, "location");
	ok = w->a.kid != NULL;
out:
	json_decref(p);
	json_decref(js);
	resp_clear(&r);
	return ok;
}

/* POST-as-GET url until its "status" is not in the pending set. */
static char *
poll_status(struct worker *w, const char *url, const char *what,
    json_t **js)
{
	struct resp r;
	const char *st;
	unsigned i;

	for (i = 0; i < 2000; i++) {
		if (i > 0)
			sleep_ms(cfg.poll_ms);
		if (!acme_post(w, url, NULL, false, &r, js)) {
			complain(w, what, NULL);
			return NULL;
		}
		if (r.status != 200 || *js == NULL ||
		    (st = json_get_str(*js, "status")) == NULL) {
			complain(w, what, &r);
			resp_clear(&r);
			json_decref(*js);
			*js = NULL;
			return NULL;
		}
		resp_clear(&r);
		if (strcmp(st, "pending") != 0 &&
		    strcmp(st, "processing") != 0)
			return xstrdup(st);
		json_decref(*js);
		*js = NULL;
		if (atomic_load(&wedged))
			return NULL;
	}
	return NULL;
}

/* CSR for name with a fresh P-256 key, as base64url DER. */
static char *
csr_b64(const char *name)
{
	struct pki_sans sans = { NULL, 0 };
	EVP_PKEY *k = NULL;
	X509_REQ *req = NULL;
	BIO *b = NULL;
	uint8_t *der = NULL;
	char *pem = NULL, *out = NULL;
	int dl;

	if (pki_key_generate(PKI_KEY_P256, &k) != DV_OK ||
	    pki_sans_add(&sans, PKI_SAN_DNS, name) != DV_OK ||
	    pki_csr_make(k, name, &sans, &pem) != DV_OK)
		goto out;
	if ((b = BIO_new_mem_buf(pem, -1)) == NULL ||
	    (req = PEM_read_bio_X509_REQ(b, NULL, NULL, NULL)) == NULL ||
	    (dl = i2d_X509_REQ(req, &der)) <= 0)
		goto out;
	out = jws_b64url_encode(der, (size_t)dl);
out:
	OPENSSL_free(der);
	X509_REQ_free(req);
	BIO_free(b);
	free(pem);
	pki_sans_clear(&sans);
	pki_key_free(k);
	return out;
}

/* One issuance end to end; true when the chain was downloaded. */
static bool
issue_one(struct worker *w)
{
	struct resp r;
	json_t *js = NULL, *p = NULL, *ch;
	char *order = NULL, *authz = NULL, *fin = NULL, *chall = NULL;
	char *token = NULL, *ka = NULL, *st = NULL, *csr = NULL, *cert = NULL;
	char name[128];
	uint8_t rnd[8];
	const char *s;
	bool ok = false;
	size_t i;

	memset(&r, 0, sizeof(r));
	RAND_bytes(rnd, sizeof(rnd));
	snprintf(name, sizeof(name), "w%u-%02x%02x%02x%02x%02x%02x%02x%02x.%s",
	    w->id, rnd[0], rnd[1], rnd[2], rnd[3], rnd[4], rnd[5], rnd[6],
	    rnd[7], cfg.domain);

	/* newOrder */
	p = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns",
	    "value", name);
	if (!acme_post(w, cfg.new_order, p, false, &r, &js) ||
	    r.status != 201 || js == NULL) {
		complain(w, "newOrder", &r);
		goto out;
	}
	order = hdr_get(&r, "location");
	s = json_string_value(json_array_get(json_object_get(js,
	    "authorizations"), 0));
	authz = s != NULL ? xstrdup(s) : NULL;
	fin = json_get_str(js, "finalize") != NULL ?
	    xstrdup(json_get_str(js, "finalize")) : NULL;
	if (order == NULL || authz == NULL || fin == NULL) {
		complain(w, "newOrder (fields)", &r);
		goto out;
	}
	resp_clear(&r);
	json_decref(js);
	js = NULL;

	/* authorization: the http-01 challenge */
	if (!acme_post(w, authz, NULL, false, &r, &js) || r.status != 200 ||
	    js == NULL) {
		complain(w, "authz", &r);
		goto out;
	}
	ch = json_object_get(js, "challenges");
	for (i = 0; i < json_array_size(ch); i++) {
		s = json_get_str(json_array_get(ch, i), "type");
		if (s != NULL && strcmp(s, "http-01") == 0) {
			s = json_get_str(json_array_get(ch, i), "url");
			chall = s != NULL ? xstrdup(s) : NULL;
			s = json_get_str(json_array_get(ch, i), "token");
			token = s != NULL ? xstrdup(s) : NULL;
			break;
		}
	}
	if (chall == NULL || token == NULL) {
		complain(w, "authz (no http-01 challenge)", &r);
		goto out;
	}
	resp_clear(&r);
	json_decref(js);
	js = NULL;
	ka = xasprintf("%s.%s", token, w->a.thumb);
	tok_put(token, ka);

	/* respond to the challenge, then poll the authorization */
	json_decref(p);
	p = json_object();
	if (!acme_post(w, chall, p, false, &r, &js) || r.status != 200) {
		complain(w, "challenge", &r);
		goto out;
	}
	resp_clear(&r);
	json_decref(js);
	js = NULL;
	if ((st = poll_status(w, authz, "poll authz", &js)) == NULL)
		goto out;
	if (strcmp(st, "valid") != 0) {
		w->failed++;
		if (w->shown++ < 3) {
			char *d = json_dumps(js, JSON_COMPACT);

			fprintf(stderr, "bench_acme: worker %u: authz %s: "
			    "%.600s\n", w->id, st, d != NULL ? d : "");
			free(d);
		}
		goto out;
	}
	json_decref(js);
	js = NULL;
	free(st);
	st = NULL;

	/* finalize with a fresh key, then poll the order */
	if ((csr = csr_b64(name)) == NULL)
		die("CSR");
	json_decref(p);
	p = json_pack("{s:s}", "csr", csr);
	if (!acme_post(w, fin, p, false, &r, &js) || r.status != 200 ||
	    js == NULL || (s = json_get_str(js, "status")) == NULL) {
		complain(w, "finalize", &r);
		goto out;
	}
	resp_clear(&r);
	if (strcmp(s, "valid") != 0) {
		json_decref(js);
		js = NULL;
		if ((st = poll_status(w, order, "poll order", &js)) == NULL)
			goto out;
		if (strcmp(st, "valid") != 0) {
			complain(w, "order not valid", NULL);
			goto out;
		}
	}
	s = json_get_str(js, "certificate");
	if (s == NULL) {
		complain(w, "order (no certificate)", NULL);
		goto out;
	}
	cert = xstrdup(s);
	json_decref(js);
	js = NULL;

	/* download */
	if (!acme_post(w, cert, NULL, false, &r, &js) || r.status != 200 ||
	    strstr(r.body, "-----BEGIN CERTIFICATE-----") == NULL) {
		complain(w, "certificate", &r);
		goto out;
	}
	ok = true;
out:
	if (token != NULL)
		tok_del(token);
	resp_clear(&r);
	json_decref(js);
	json_decref(p);
	free(order);
	free(authz);
	free(fin);
	free(chall);
	free(token);
	free(ka);
	free(st);
	free(csr);
	free(cert);
	return ok;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	uint64_t t0, t1;
	bool ok;

	while (!atomic_load(&stopping) && !atomic_load(&wedged)) {
		if (cfg.count != 0 && w->all_ok + w->iss_failed >= cfg.count)
			break;
		t0 = now_ns();
		ok = issue_one(w);
		t1 = now_ns();
		if (ok)
			w->all_ok++;
		else
			w->iss_failed++;
		if (t1 < atomic_load(&t_meas) || t1 >= atomic_load(&t_end))
			continue;
		if (!ok)
			continue;
		w->ok++;
		if (w->nlat == w->caplat) {
			w->caplat = w->caplat ? 2 * w->caplat : 4096;
			w->lat = xrealloc(w->lat, w->caplat * sizeof(*w->lat));
		}
		w->lat[w->nlat++] = (uint32_t)((t1 - t0) / 1000);
	}
	w->done = true;
	return NULL;
}

/* ---- /proc readings (as bench/loadgen.c) ------------------------------- */

static bool
proc_cpu_one(int pid, unsigned long long *ticks, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	FILE *f;
	size_t n;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu", &pp, &ut, &st, &cut, &cst) != 5)
		return false;
	*ticks = ut + st + cut + cst;
	*ppid = pp;
	return true;
}

static long
proc_rss(int pid)
{
	char path[64], line[256];
	long rss = 0;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return 0;
	while (fgets(line, sizeof(line), f) != NULL)
		if (strncmp(line, "VmRSS:", 6) == 0)
			rss = strtol(line + 6, NULL, 10);
	fclose(f);
	return rss;
}

static unsigned long long
host_busy_ticks(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[3] = v[4] = 0;
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

/* CPU ticks of pid and every descendant (devid's signer child). */
static unsigned long long
tree_ticks(int pid)
{
	int pids[256], np = 0, i, q, pp;
	unsigned long long tk, sum = 0;
	struct dirent *de;
	DIR *d;
	bool grew;

	if (pid <= 0)
		return 0;
	pids[np++] = pid;
	do {
		grew = false;
		if ((d = opendir("/proc")) == NULL)
			break;
		while ((de = readdir(d)) != NULL && np < 256) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			q = atoi(de->d_name);
			if (!proc_cpu_one(q, &tk, &pp))
				continue;
			for (i = 0; i < np && pids[i] != q; i++)
				;
			if (i < np)
				continue;
			for (i = 0; i < np && pids[i] != pp; i++)
				;
			if (i < np) {
				pids[np++] = q;
				grew = true;
			}
		}
		closedir(d);
	} while (grew);
	for (i = 0; i < np; i++)
		if (proc_cpu_one(pids[i], &tk, &pp))
			sum += tk;
	return sum;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const uint32_t *v, size_t n, double p)
{
	if (n == 0)
		return 0;
	return v[(size_t)(p * (double)(n - 1) + 0.5)] / 1000.0;
}

/* ---- setup ------------------------------------------------------------- */

static void
parse_dir_url(const char *url)
{
	char host[256], *colon;
	const char *p, *slash;
	size_t hl;
	long port = 443;

	if (strncmp(url, "https://", 8) != 0)
		die("--dir must be https://IP:PORT/path");
	p = url + 8;
	slash = strchr(p, '/');
	hl = slash != NULL ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(host))
		die("bad --dir host");
	memcpy(host, p, hl);
	host[hl] = '\0';
	cfg.hostport = xstrdup(host);
	if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = strtol(colon + 1, NULL, 10);
	}
	memset(&cfg.addr, 0, sizeof(cfg.addr));
	cfg.addr.sin_family = AF_INET;
	cfg.addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &cfg.addr.sin_addr) != 1)
		die("--dir host must be an IPv4 address");
	cfg.dir = xstrdup(url);
}

static void
load_directory(void)
{
	struct conn c = { -1, NULL, NULL, 0, 0, 0 };
	struct resp r;
	json_t *js;
	const char *a, *b, *o;

	if (!http_do(&c, "GET", cfg.dir, NULL, &r) || r.status != 200)
		die("cannot GET the directory");
	js = json_loadb(r.body, r.bodylen, 0, NULL);
	a = json_get_str(js, "newNonce");
	b = json_get_str(js, "newAccount");
	o = json_get_str(js, "newOrder");
	if (a == NULL || b == NULL || o == NULL)
		die("directory without newNonce/newAccount/newOrder");
	cfg.new_nonce = xstrdup(a);
	cfg.new_account = xstrdup(b);
	cfg.new_order = xstrdup(o);
	json_decref(js);
	resp_clear(&r);
	conn_close(&c);
	free(c.buf);
}

static void
usage(void)
{
	fputs("usage: bench_acme --dir https://IP:PORT/directory --cafile PEM "
	    "--http-port PORT\n"
	    "         [-w WORKERS] [--warm S] [-d S] [--pid PID] "
	    "[--domain D] [--poll-ms MS]\n"
	    "         [--timeout S] [--label TEXT] [--count N]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dir", required_argument, NULL, 'D' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "http-port", required_argument, NULL, 'H' },
		{ "workers", required_argument, NULL, 'w' },
		{ "warm", required_argument, NULL, 'W' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "domain", required_argument, NULL, 'n' },
		{ "poll-ms", required_argument, NULL, 'P' },
		{ "timeout", required_argument, NULL, 't' },
		{ "label", required_argument, NULL, 'l' },
		{ "count", required_argument, NULL, 'c' },
		{ NULL, 0, NULL, 0 }
	};
	struct worker *w;
	const char *dir = NULL, *cafile = NULL, *label = "run";
	unsigned nw = 1, hport = 0, i;
	double warm = 2, dur = 10, secs, self0, self1;
	unsigned long long srv0, srv1, host0, host1;
	unsigned long ok = 0, all_ok = 0, failed = 0, reqs = 0, bad = 0, v0, v1, nf0, nf1;
	uint32_t *lat;
	size_t nlat = 0;
	uint64_t t0, ta, tb, deadline;
	long tck = sysconf(_SC_CLK_TCK);
	bool all_done;
	int c, pid = 0;
	double srv_ms, other;

	cfg.domain = "bench.test";
	cfg.poll_ms = 5;
	cfg.timeout_s = 10;
	while ((c = getopt_long(argc, argv, "D:C:H:w:W:d:p:n:P:t:l:c:", opts,
	    NULL)) != -1) {
		switch (c) {
		case 'D': dir = optarg; break;
		case 'C': cafile = optarg; break;
		case 'H': hport = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'w': nw = (unsigned)strtoul(optarg, NULL, 10); break;
		case 'W': warm = strtod(optarg, NULL); break;
		case 'd': dur = strtod(optarg, NULL); break;
		case 'p': pid = atoi(optarg); break;
		case 'n': cfg.domain = optarg; break;
		case 'P': cfg.poll_ms = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 't': cfg.timeout_s = (unsigned)strtoul(optarg, NULL, 10);
			break;
		case 'l': label = optarg; break;
		case 'c': cfg.count = strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (dir == NULL || cafile == NULL || hport == 0 || nw == 0 ||
	    nw > 256)
		usage();

	parse_dir_url(dir);
	if ((cfg.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	if (SSL_CTX_load_verify_locations(cfg.ctx, cafile, NULL) != 1)
		die("--cafile");
	SSL_CTX_set_verify(cfg.ctx, SSL_VERIFY_PEER, NULL);
	responder_start(hport);
	load_directory();

	/* accounts before the clock */
	atomic_store(&t_meas, UINT64_MAX);
	atomic_store(&t_end, UINT64_MAX);
	w = xcalloc(nw, sizeof(*w));
	for (i = 0; i < nw; i++) {
		w[i].id = i;
		w[i].c.fd = -1;
		if (!account_register(&w[i]))
			die("newAccount failed");
	}

	t0 = now_ns();
	atomic_store(&t_meas, t0 + (uint64_t)(warm * 1e9));
	atomic_store(&t_end, t0 + (uint64_t)((warm + dur) * 1e9));
	for (i = 0; i < nw; i++)
		if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0)
			die("pthread_create");

	while (now_ns() < atomic_load(&t_meas) && !atomic_load(&wedged))
		sleep_ms(10);
	ta = now_ns();
	srv0 = tree_ticks(pid);
	host0 = host_busy_ticks();
	self0 = self_cpu_s();
	v0 = atomic_load(&validations);
	nf0 = atomic_load(&resp_404);
	while (now_ns() < atomic_load(&t_end) && !atomic_load(&wedged)) {
		if (cfg.count != 0) {
			/* --count: the run ends when every worker did its
			 * share (a fixed load, e.g. under callgrind) */
			for (all_done = true, i = 0; i < nw; i++)
				if (!w[i].done)
					all_done = false;
			if (all_done)
				break;
		}
		sleep_ms(10);
	}
	tb = now_ns();
	srv1 = tree_ticks(pid);
	host1 = host_busy_ticks();
	self1 = self_cpu_s();
	v1 = atomic_load(&validations);
	nf1 = atomic_load(&resp_404);
	atomic_store(&stopping, true);

	/* in-flight issuances finish (not counted), bounded */
	deadline = now_ns() + (uint64_t)(cfg.timeout_s + 5) * 1000000000ull;
	do {
		all_done = true;
		for (i = 0; i < nw; i++)
			if (!w[i].done)
				all_done = false;
		if (!all_done)
			sleep_ms(20);
	} while (!all_done && now_ns() < deadline);
	if (!all_done)
		atomic_store(&wedged, true);

	/* totals (unjoined workers are abandoned at exit when wedged) */
	for (i = 0; i < nw; i++) {
		ok += w[i].ok;
		all_ok += w[i].all_ok;
		failed += w[i].failed;
		reqs += w[i].requests;
		bad += w[i].badnonce;
		nlat += w[i].nlat;
	}
	lat = xcalloc(nlat + 1, sizeof(*lat));
	for (nlat = 0, i = 0; i < nw; i++) {
		memcpy(lat + nlat, w[i].lat, w[i].nlat * sizeof(*lat));
		nlat += w[i].nlat;
	}
	qsort(lat, nlat, sizeof(*lat), cmp_u32);
	secs = (double)(tb - ta) / 1e9;
	srv_ms = nlat ? (double)(srv1 - srv0) * 1000.0 / (double)tck /
	    (double)nlat : 0;
	other = (double)((long long)(host1 - host0) -
	    (long long)(srv1 - srv0)) / (double)tck - (self1 - self0);
	printf("RESULT label=%s w=%u secs=%.2f n=%zu ips=%.1f p50=%.2f "
	    "p90=%.2f p99=%.2f max=%.2f srv_cpu_ms=%.3f srv_cores=%.2f "
	    "cli_cpu_ms=%.3f other_cores=%.2f val_per_iss=%.2f "
	    "req_per_iss=%.2f failed=%lu badnonce=%lu http01_404=%lu "
	    "srv_rss_kib=%ld wedged=%d\n", label, nw, secs, nlat,
	    secs > 0 ? (double)nlat / secs : 0, pct(lat, nlat, 0.50),
	    pct(lat, nlat, 0.90), pct(lat, nlat, 0.99),
	    nlat ? lat[nlat - 1] / 1000.0 : 0.0, srv_ms,
	    secs > 0 ? (double)(srv1 - srv0) / (double)tck / secs : 0,
	    nlat ? (self1 - self0) * 1000.0 / (double)nlat : 0,
	    secs > 0 && other > 0 ? other / secs : 0,
	    nlat ? (double)(v1 - v0) / (double)nlat : 0,
	    all_ok ? (double)reqs / (double)all_ok : 0, failed, bad, nf1 - nf0,
	    proc_rss(pid), atomic_load(&wedged) ? 1 : 0);
	fflush(stdout);
	if (!all_done)
		_exit(0);
	for (i = 0; i < nw; i++) {
		pthread_join(w[i].th, NULL);
		conn_close(&w[i].c);
		free(w[i].c.buf);
		free(w[i].lat);
		free(w[i].a.nonce);
		free(w[i].a.kid);
		free(w[i].a.thumb);
		json_decref(w[i].a.jwk);
		pki_key_free(w[i].a.key);
	}
	free(w);
	free(lat);
	return 0;
}
