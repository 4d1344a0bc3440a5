/*
 * http.c - evhttp workers, request wrapper, replies and problem documents.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <sys/queue.h>
#include <event2/keyvalq_struct.h>
#include <event2/thread.h>

#include "http_int.h"

struct worker {
	pthread_t	 th;
	struct event_base *base;	/* owned */
	struct evhttp	*http;		/* owned */
	struct http_server *srv;	/* borrowed */
	unsigned	 idx;
	uint64_t	 counter;	/* request ids */
};

struct http_server {
	int		 fd;
	int		 port;
	size_t		 max_body;
	int		 max_conns;
	size_t		 max_body_large;	/* >= max_body */
	http_handler_fn	 handler;
	void		*arg;
	pthread_mutex_t	 ctx_lock;
	SSL_CTX		*ctx;		/* owned, guarded by ctx_lock */
	struct worker	*w;		/* owned */
	unsigned	 nw;
	atomic_ullong	 served;	/* requests, all workers */
	unsigned long long trim_seen;	/* served at the last tick */
	int		 trim_conns;	/* live connections then */
	bool		 trimmed;	/* trimmed since then */
	struct event	*trim_ev;	/* owned, on worker 0's base */
};

struct http_req {
	struct evhttp_request *r;	/* borrowed from evhttp */
	struct worker	*w;		/* borrowed */
	char		*path;		/* owned, decoded */
	struct evkeyvalq query;
	bool		 query_ok;
	uint8_t		*body;		/* owned */
	size_t		 bodylen;
	bool		 body_read;
	char		 id[40];
	http_handler_fn	 resume_fn;
	void		*resume_arg;
};

static void
req_free(struct http_req *q)
{
	if (q == NULL)
		return;
	if (q->query_ok)
		evhttp_clear_headers(&q->query);
	free(q->path);
	free(q->body);
	free(q);
}

enum http_method
http_req_method(const struct http_req *q)
{
	switch (evhttp_request_get_command(q->r)) {
	case EVHTTP_REQ_GET:
		return HTTP_M_GET;
	case EVHTTP_REQ_HEAD:
		return HTTP_M_HEAD;
	case EVHTTP_REQ_POST:
		return HTTP_M_POST;
	case EVHTTP_REQ_PATCH:
		return HTTP_M_PATCH;
	case EVHTTP_REQ_DELETE:
		return HTTP_M_DELETE;
	default:
		return HTTP_M_OTHER;
	}
}

const char *
http_req_path(const struct http_req *q)
{
	return q->path;
}

const char *
http_req_query(const struct http_req *q, const char *key)
{
	if (!q->query_ok)
		return NULL;
	return evhttp_find_header(&q->query, key);
}

bool
http_req_has_query(const struct http_req *q, const char *key)
{
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(q->r);
	const char *qs = u != NULL ? evhttp_uri_get_query(u) : NULL;
	size_t kl = strlen(key);

	while (qs != NULL && *qs != '\0') {
		if (strncmp(qs, key, kl) == 0 && (qs[kl] == '\0' ||
		    qs[kl] == '=' || qs[kl] == '&'))
			return true;
		qs = strchr(qs, '&');
		if (qs != NULL)
			qs++;
	}
	return false;
}

const char *
http_req_header(const struct http_req *q, const char *name)
{
	return evhttp_find_header(evhttp_request_get_input_headers(q->r),
	    name);
}

static enum dv_rc
req_body(struct http_req *q, size_t max, const uint8_t **body, size_t *len)
{
	struct evbuffer *in = evhttp_request_get_input_buffer(q->r);
	size_t n = evbuffer_get_length(in);

	*body = NULL;
	*len = 0;
	if (!q->body_read) {
		if (n > max)
			return DV_ERR_TOO_LARGE;
		q->body = xmalloc(n + 1);
		if (n > 0 && evbuffer_remove(in, q->body, n) != (int)n)
			return DV_ERR_INTERNAL;
		q->body[n] = '\0';
		q->bodylen = n;
		q->body_read = true;
	}
	*body = q->body;
	*len = q->bodylen;
	return DV_OK;
}

enum dv_rc
http_req_body(struct http_req *q, const uint8_t **body, size_t *len)
{
	return req_body(q, q->w->srv->max_body, body, len);
}

enum dv_rc
http_req_body_large(struct http_req *q, const uint8_t **body, size_t *len)
{
	return req_body(q, q->w->srv->max_body_large, body, len);
}

static SSL *
req_ssl(const struct http_req *q)
{
	struct evhttp_connection *c = evhttp_request_get_connection(q->r);
	struct bufferevent *bev;

	if (c == NULL || (bev = evhttp_connection_get_bufferevent(c)) == NULL)
		return NULL;
	return bufferevent_openssl_get_ssl(bev);
}

X509 *
http_req_peer(const struct http_req *q, STACK_OF(X509) **chain)
{
	SSL *ssl = req_ssl(q);

	if (chain != NULL)
		*chain = ssl != NULL ? SSL_get_peer_cert_chain(ssl) : NULL;
	return ssl != NULL ? SSL_get0_peer_certificate(ssl) : NULL;
}

const char *
http_req_id(const struct http_req *q)
{
	return q->id;
}

void
http_reply_header(struct http_req *q, const char *name, const char *value)
{
	evhttp_add_header(evhttp_request_get_output_headers(q->r), name,
	    value);
}

static const char *
reason_phrase(int status)
{
	switch (status) {
	case 200: return "OK";
	case 201: return "Created";
	case 204: return "No Content";
	case 400: return "Bad Request";
	case 401: return "Unauthorized";
	case 403: return "Forbidden";
	case 404: return "Not Found";
	case 405: return "Method Not Allowed";
	case 409: return "Conflict";
	case 413: return "Payload Too Large";
	case 500: return "Internal Server Error";
	case 501: return "Not Implemented";
	case 503: return "Service Unavailable";
	default: return "Status";
	}
}

void
http_reply(struct http_req *q, int status, const char *ctype,
    const void *body, size_t len)
{
	struct evbuffer *out = evbuffer_new();
	struct evhttp_connection *evcon = evhttp_request_get_connection(q->r);
	struct bufferevent *bev = evcon != NULL ?
	    evhttp_connection_get_bufferevent(evcon) : NULL;

	if (ctype != NULL)
		http_reply_header(q, "Content-Type", ctype);
	http_reply_header(q, "X-Request-Id", q->id);
	http_reply_header(q, "Cache-Control", "no-store");
	if (len > 0 && http_req_method(q) != HTTP_M_HEAD)
		evbuffer_add(out, body, len);
	evhttp_send_reply(q->r, status, reason_phrase(status), out);
	evbuffer_free(out);
	/*
	 * The headers and the body sit in two chains of the output buffer
	 * until the write event: bufferevent_openssl would SSL_write each
	 * (two TLS records, two syscalls).  One chain makes one record.
	 */
	if (bev != NULL)
		(void)evbuffer_pullup(bufferevent_get_output(bev), -1);
	if (log_enabled(LOG_DEBUG))
		log_msg(LOG_DEBUG, "http.reply", "{s:s,s:i}", "id", q->id,
		    "status", status);
	req_free(q);
}

void
http_reply_json(struct http_req *q, int status, json_t *body)
{
	char *s = body != NULL ? json_dumps(body, JSON_COMPACT) : NULL;

	json_decref(body);
	if (s == NULL) {
		http_reply_problem(q, DV_ERR_INTERNAL, NULL);
		return;
	}
	http_reply(q, status, "application/json", s, strlen(s));
	free(s);
}

void
http_reply_problem(struct http_req *q, enum dv_rc rc, const char *detail)
{
	const struct dv_rc_info *i = dv_rc_info(rc);
	json_t *p;
	char *type, *s;

	type = xasprintf("urn:devid:problem:%s", i->name);
	p = json_pack("{s:s,s:s,s:i,s:s,s:s,s:s}",
	    "type", type, "title", i->title, "status", i->status,
	    "detail", detail != NULL ? detail : i->title,
	    "message", detail != NULL ? detail : i->title,
	    "requestId", q->id);
	free(type);
	s = p != NULL ? json_dumps(p, JSON_COMPACT) : NULL;
	json_decref(p);
	if (i->status >= 500)
		log_msg(LOG_ERR, "http.error", "{s:s,s:i,s:s}", "id", q->id,
		    "status", i->status, "title", i->title);
	http_reply(q, i->status, "application/problem+json", s ? s : "{}",
	    s ? strlen(s) : 2);
	free(s);
}

void
http_req_defer(struct http_req *q)
{
	(void)q;	/* evhttp keeps the request until we reply */
}

static void
resume_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_req *q = arg;

	(void)fd;
	(void)what;
	q->resume_fn(q, q->resume_arg);
}

void
http_req_resume(struct http_req *q, http_handler_fn fn, void *arg)
{
	static const struct timeval now = { 0, 0 };

	q->resume_fn = fn;
	q->resume_arg = arg;
	/* Thread-safe: evthread_use_pthreads() was called at start. */
	if (event_base_once(q->w->base, -1, EV_TIMEOUT, resume_cb, q, &now)
	    != 0)
		abort();
}

static void
gen_cb(struct evhttp_request *r, void *arg)
{
	struct worker *w = arg;
	struct http_req *q = xcalloc(1, sizeof(*q));
	const struct evhttp_uri *u = evhttp_request_get_evhttp_uri(r);
	const char *p, *qs;
	size_t plen;

	atomic_fetch_add_explicit(&w->srv->served, 1, memory_order_relaxed);
	q->r = r;
	q->w = w;
	/* a whole request arrived: the next one has until idle + read time */
	if (req_ssl(q) != NULL)
		tls_deadline_set(req_ssl(q), time(NULL) + DV_TIMEOUT_IDLE +
		    DV_TIMEOUT_READ);
	snprintf(q->id, sizeof(q->id), "%x-%llx", w->idx,
	    (unsigned long long)++w->counter);
	p = u != NULL ? evhttp_uri_get_path(u) : NULL;
	if (p == NULL || *p == '\0')
		p = "/";
	q->path = evhttp_uridecode(p, 0, &plen);
	if (q->path == NULL || strlen(q->path) != plen) {
		/* NUL byte in the path */
		http_reply_problem(q, DV_ERR_MALFORMED, "bad path");
		return;
	}
	qs = u != NULL ? evhttp_uri_get_query(u) : NULL;
	TAILQ_INIT(&q->query);
	if (qs != NULL && evhttp_parse_query_str(qs, &q->query) == 0)
		q->query_ok = true;
	w->srv->handler(q, w->srv->arg);
}

static struct bufferevent *
bev_cb(struct event_base *base, void *arg)
{
	struct http_server *s = arg;
	struct bufferevent *bev;
	SSL *ssl;

	pthread_mutex_lock(&s->ctx_lock);
	ssl = SSL_new(s->ctx);
	pthread_mutex_unlock(&s->ctx_lock);
	if (ssl == NULL)
		return NULL;
	if (!tls_conn_admit(ssl, time(NULL) + DV_TIMEOUT_READ, s->max_conns)) {
		static _Atomic time_t last;
		time_t now = time(NULL);

		/* once a second at most: a flood must not flood the log */
		if (atomic_exchange(&last, now) != now)
			log_msg(LOG_WARN, "http.too_many_connections", "{s:i}",
			    "max", s->max_conns);
	}
	bev = bufferevent_openssl_socket_new(base, -1, ssl,
	    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
	if (bev != NULL)
		bufferevent_openssl_set_allow_dirty_shutdown(bev, 1);
	return bev;
}

/*
 * Memory per idle connection (spec/performance.md §6).  A TLS handshake
 * allocates and frees tens of KiB; glibc keeps freed pages in each worker's
 * arena, so after a burst of 1000 connections RSS stayed ~47 KiB per idle
 * connection while malloc had ~17 KiB per connection in use.  Once a second
 * (worker 0), if no request arrived and no connection came or went since
 * the last tick, free pages go back to the kernel, once per idle period:
 * never under load.
 */
static void
trim_cb(evutil_socket_t fd, short what, void *arg)
{
	struct http_server *s = arg;
	unsigned long long n;
	int conns;

	(void)fd;
	(void)what;
	n = atomic_load_explicit(&s->served, memory_order_relaxed);
	conns = tls_conn_count();
	if (n != s->trim_seen || conns != s->trim_conns) {
		s->trim_seen = n;
		s->trim_conns = conns;
		s->trimmed = false;
	} else if (!s->trimmed) {
		malloc_trim(0);
		s->trimmed = true;
	}
}

static void *
worker_main(void *arg)
{
	struct worker *w = arg;

	event_base_dispatch(w->base);
	return NULL;
}

/*
 * True when ss (its port 0 or taken) can be bound by a socket without
 * SO_REUSEPORT, with the port in *ss set to the one the kernel gave.  The
 * workers' sockets share their port through SO_REUSEPORT, which would just
 * as well let a second devid-ca (same user) join a running one's group and
 * take half its connections; this probe makes that start fail instead.
 */
static bool
port_probe(struct sockaddr_storage *ss, socklen_t sl)
{
	socklen_t gl = sl;
	int fd, one = 1, e;
	bool ok;

	if ((fd = socket(ss->ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return false;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	ok = bind(fd, (struct sockaddr *)ss, sl) == 0 &&
	    getsockname(fd, (struct sockaddr *)ss, &gl) == 0;
	e = errno;
	close(fd);
	errno = e;
	return ok;
}

static enum dv_rc
listen_socket(const char *addr, bool probe, int *fdp, int *portp)
{
	struct sockaddr_storage ss;
	socklen_t sl = sizeof(ss);
	char *host = xstrdup(addr), *c = strrchr(host, ':');
	long long port;
	int fd = -1, one = 1;
	enum dv_rc rc = DV_ERR_IO;

	*fdp = -1;
	if (c == NULL || num_parse(c + 1, 0, 65535, &port) != DV_OK) {
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	*c = '\0';
	memset(&ss, 0, sizeof(ss));
	if (host[0] == '[' && host[strlen(host) - 1] == ']') {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		host[strlen(host) - 1] = '\0';
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		if (inet_pton(AF_INET6, host + 1, &s6->sin6_addr) != 1) {
			rc = DV_ERR_MALFORMED;
			goto out;
		}
		sl = sizeof(*s6);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		if (strcmp(host, "localhost") == 0)
			strcpy(host, "127.0.0.1");
		if (inet_pton(AF_INET, host, &s4->sin_addr) != 1) {
			rc = DV_ERR_MALFORMED;
			goto out;
		}
		sl = sizeof(*s4);
	}
	if (probe && !port_probe(&ss, sl))
		goto out;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0)) == -1)
		goto out;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	/*
	 * One listening socket per worker on the same port: the kernel
	 * spreads new connections over them.  With one shared socket,
	 * libevent's accept loop lets whichever worker wakes first take a
	 * whole burst, and one worker ends up with most of the load.
	 */
	setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof(one));
	/*
	 * Accepted sockets inherit TCP_NODELAY from the listener (Linux
	 * clones the socket).  Without it, a reply that leaves in two TLS
	 * records (headers, body) waits for the client's delayed ACK: 40 ms
	 * per request on a keep-alive connection (Nagle).
	 */
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&ss, sl) == -1 ||
	    listen(fd, 1024) == -1)
		goto out;
	sl = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &sl) == -1)
		goto out;
	*portp = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	*fdp = fd;
	fd = -1;
	rc = DV_OK;
out:
	if (rc != DV_OK)
		log_msg(LOG_ERR, "http.listen", "{s:s,s:s}", "listen", addr,
		    "error", strerror(errno));
	if (fd != -1)
		close(fd);
	free(host);
	return rc;
}

/*
 * A worker's event base.  With the epoll changelist, the enable/disable
 * pairs evhttp and bufferevent_openssl make around every request are
 * merged per loop iteration instead of costing one epoll_ctl each (about
 * four per request).  The changelist's known trap, a file descriptor
 * dup()ed while registered, does not occur here: libevent owns the
 * sockets.
 */
static struct event_base *
worker_base_new(void)
{
	struct event_config *cfg;
	struct event_base *b;

	if ((cfg = event_config_new()) == NULL)
		return NULL;
	(void)event_config_set_flag(cfg, EVENT_BASE_FLAG_EPOLL_USE_CHANGELIST);
	b = event_base_new_with_config(cfg);
	event_config_free(cfg);
	return b;
}

enum dv_rc
http_server_start(const struct http_config *cfg, struct http_server **out)
{
	static const struct timeval trim_tick = { 1, 0 };
	struct http_server *s = xcalloc(1, sizeof(*s));
	char *host = NULL, *same = NULL;
	enum dv_rc rc;
	unsigned i;
	int port;

	*out = NULL;
	evthread_use_pthreads();
	pthread_mutex_init(&s->ctx_lock, NULL);
	s->fd = -1;
	s->handler = cfg->handler;
	s->arg = cfg->arg;
	s->max_body = cfg->max_body;
	s->max_conns = cfg->max_conns > 0 ? cfg->max_conns : DV_MAX_CONNS;
	s->max_body_large = cfg->max_body_large > cfg->max_body ?
	    cfg->max_body_large : cfg->max_body;
	if ((rc = tls_ctx_new(cfg->chain_pem, cfg->key_pem, &s->ctx)) != DV_OK)
		goto err;
	if ((rc = listen_socket(cfg->listen, true, &s->fd, &s->port)) != DV_OK)
		goto err;
	/* the other workers' sockets take the port the first one got */
	host = xstrdup(cfg->listen);
	*strrchr(host, ':') = '\0';
	same = xasprintf("%s:%d", host, s->port);
	s->nw = cfg->workers ? cfg->workers : 1;
	s->w = xcalloc(s->nw, sizeof(*s->w));
	for (i = 0; i < s->nw; i++) {
		struct worker *w = &s->w[i];

		w->srv = s;
		w->idx = i;
		if ((w->base = worker_base_new()) == NULL ||
		    (w->http = evhttp_new(w->base)) == NULL) {
			rc = DV_ERR_INTERNAL;
			goto err;
		}
		evhttp_set_bevcb(w->http, bev_cb, s);
		evhttp_set_gencb(w->http, gen_cb, w);
		evhttp_set_max_headers_size(w->http, DV_MAX_HEADERS);
		/*
		 * evhttp answers bodies beyond its own limit with an HTML 413;
		 * let it buffer up to twice ours so that the common oversize
		 * case gets our problem document (http_req_body).
		 */
		evhttp_set_max_body_size(w->http, (ev_ssize_t)(s->max_body * 2 >
		    s->max_body_large ? s->max_body * 2 : s->max_body_large));
		evhttp_set_timeout(w->http, DV_TIMEOUT_READ);
		/* every method reaches api_handle, which answers 405 as a
		 * problem document (evhttp would send an HTML 501) */
		evhttp_set_allowed_methods(w->http, EVHTTP_REQ_GET | EVHTTP_REQ_PUT |
		    EVHTTP_REQ_DELETE | EVHTTP_REQ_OPTIONS | EVHTTP_REQ_PATCH |
		    EVHTTP_REQ_HEAD | EVHTTP_REQ_POST);
		evhttp_set_default_content_type(w->http, "application/json");
		if (i > 0 && (rc = listen_socket(same, false, &s->fd,
		    &port)) != DV_OK)
			goto err;
		if (evhttp_accept_socket(w->http, s->fd) != 0) {
			rc = DV_ERR_IO;
			goto err;
		}
		/* the evhttp listener now owns (and closes on free) it */
		s->fd = -1;
	}
	free(host);
	free(same);
	host = same = NULL;
	s->trim_ev = event_new(s->w[0].base, -1, EV_PERSIST, trim_cb, s);
	if (s->trim_ev == NULL || event_add(s->trim_ev, &trim_tick) != 0) {
		rc = DV_ERR_INTERNAL;
		goto err;
	}
	for (i = 0; i < s->nw; i++)
		if (pthread_create(&s->w[i].th, NULL, worker_main, &s->w[i])
		    != 0)
			abort();
	*out = s;
	return DV_OK;
err:
	free(host);
	free(same);
	s->nw = 0;	/* no thread started */
	http_server_stop(s);
	return rc;
}

enum dv_rc
http_server_set_cert(struct http_server *s, const char *chain,
    const char *key)
{
	SSL_CTX *ctx, *old;
	enum dv_rc rc;

	if ((rc = tls_ctx_new(chain, key, &ctx)) != DV_OK)
		return rc;
	pthread_mutex_lock(&s->ctx_lock);
	old = s->ctx;
	s->ctx = ctx;
	pthread_mutex_unlock(&s->ctx_lock);
	SSL_CTX_free(old);	/* live SSLs hold their own reference */
	return DV_OK;
}

int
http_server_port(const struct http_server *s)
{
	return s->port;
}

void
http_server_stop(struct http_server *s)
{
	unsigned i;

	if (s == NULL)
		return;
	for (i = 0; i < s->nw; i++)
		event_base_loopbreak(s->w[i].base);
	for (i = 0; i < s->nw; i++)
		pthread_join(s->w[i].th, NULL);
	if (s->trim_ev != NULL)		/* before worker 0's base */
		event_free(s->trim_ev);
	if (s->w != NULL) {
		for (i = 0; i < (s->nw ? s->nw : 0); i++) {
			if (s->w[i].http != NULL)
				evhttp_free(s->w[i].http);
			if (s->w[i].base != NULL)
				event_base_free(s->w[i].base);
		}
	}
	free(s->w);
	if (s->fd != -1)
		close(s->fd);
	SSL_CTX_free(s->ctx);
	pthread_mutex_destroy(&s->ctx_lock);
	free(s);
}
