/*
 * http.h - the HTTPS server: libevent evhttp over OpenSSL (TLS 1.2/1.3),
 * several worker threads sharing one listening socket, with limits on
 * header bytes, body size and time (limits.h).  Client certificates are
 * requested and accepted unverified at the TLS layer; handlers verify them
 * against the authority they address (api/).
 *
 * A handler either replies before it returns, or calls http_req_defer()
 * and later http_req_resume() from any thread; the continuation then runs
 * on the request's own worker thread, where it replies.
 */
#ifndef DV_HTTP_H
#define DV_HTTP_H

#include <openssl/x509.h>

#include "base/base.h"

struct http_server;
struct http_req;

typedef void	(*http_handler_fn)(struct http_req *, void *arg);

struct http_config {
	const char	*listen;	/* "127.0.0.1:8443", "[::1]:8443" */
	unsigned	 workers;	/* threads */
	size_t		 max_body;	/* bytes; handlers see at most this */
	int		 max_conns;	/* live connections; 0: DV_MAX_CONNS */
	/* bytes, 0: none; routes that take bulk uploads read their body
	 * with http_req_body_large().  XXX evhttp 2.1 has no per-request
	 * hook before it buffers a body, so it buffers up to this much for
	 * every request; http_req_body() still refuses beyond max_body. */
	size_t		 max_body_large;
	http_handler_fn	 handler;
	void		*arg;
	const char	*chain_pem;	/* server certificate chain */
	const char	*key_pem;	/* its key */
};

/* Binds, sets up TLS and starts the worker threads. *out is new. */
enum dv_rc	http_server_start(const struct http_config *,
		    struct http_server **out);
/* Replaces the TLS certificate for new connections (thread-safe). */
enum dv_rc	http_server_set_cert(struct http_server *, const char *chain,
		    const char *key);
/* Stops the workers and frees s (NULL accepted). */
void		http_server_stop(struct http_server *);
/* The bound port (useful with port 0). */
int		http_server_port(const struct http_server *);

enum http_method {
	HTTP_M_GET, HTTP_M_HEAD, HTTP_M_POST, HTTP_M_PATCH, HTTP_M_DELETE,
	HTTP_M_OTHER
};

enum http_method http_req_method(const struct http_req *);
/* Decoded path without the query, borrowed; NULL if undecodable. */
const char	*http_req_path(const struct http_req *);
/* Value of query parameter key (decoded), borrowed, or NULL. */
const char	*http_req_query(const struct http_req *, const char *key);
/* True if the query has parameter key, with or without a value. */
bool		 http_req_has_query(const struct http_req *, const char *key);
const char	*http_req_header(const struct http_req *, const char *name);
/* The body, or NULL with *len 0.  DV_ERR_TOO_LARGE over max_body. */
enum dv_rc	 http_req_body(struct http_req *, const uint8_t **body,
		    size_t *len);
/* The same for a route that takes bulk uploads (an inventory import):
 * DV_ERR_TOO_LARGE over max_body_large (max_body when that is 0). */
enum dv_rc	 http_req_body_large(struct http_req *, const uint8_t **body,
		    size_t *len);
/* Client certificate and the chain it sent (both borrowed, may be NULL). */
X509		*http_req_peer(const struct http_req *,
		    STACK_OF(X509) **chain);
/* Request id (also sent back as X-Request-Id), borrowed. */
const char	*http_req_id(const struct http_req *);

void		http_reply_header(struct http_req *, const char *name,
		    const char *value);
void		http_reply(struct http_req *, int status, const char *ctype,
		    const void *body, size_t len);
/* Replies with body (reference stolen), application/json. */
void		http_reply_json(struct http_req *, int status, json_t *body);
/*
 * Replies with an RFC 9457 problem document for rc that also carries
 * step-ca's "status"/"message" members.  detail is a fixed string or NULL
 * (never raw request bytes, rule 12).
 */
void		http_reply_problem(struct http_req *, enum dv_rc rc,
		    const char *detail);

void		http_req_defer(struct http_req *);
/* From any thread: runs fn(req, arg) on the request's worker thread. */
void		http_req_resume(struct http_req *, http_handler_fn fn,
		    void *arg);

#endif
