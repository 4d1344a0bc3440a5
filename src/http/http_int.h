/* http_int.h - internals shared by http.c and tls.c (rule 1). */
#ifndef DV_HTTP_INT_H
#define DV_HTTP_INT_H

#include <openssl/ssl.h>

#include "http.h"

/* A server SSL_CTX for chain/key (PEM): TLS 1.2+, client certificates
 * requested and accepted unverified.  *out is new. */
enum dv_rc	tls_ctx_new(const char *chain, const char *key, SSL_CTX **out);
/*
 * Counts a new connection (its SSL) and sets its first deadline; false,
 * with the connection doomed to close at its first record, beyond max
 * live connections.  The count drops when OpenSSL frees ssl.
 */
bool		tls_conn_admit(SSL *ssl, time_t deadline, int max);
/* Live connections now. */
int		tls_conn_count(void);
/* The time by which the connection of ssl must have sent a whole request;
 * after it, the next TLS record read closes the connection. */
void		tls_deadline_set(SSL *ssl, time_t when);
/* Logs and clears the OpenSSL error queue. */
void		tls_log_errors(const char *event);

#endif
