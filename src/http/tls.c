/*
 * tls.c - the server's TLS context (the one place outside src/pki that
 * calls OpenSSL, rule 16).
 */
#include <stdatomic.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/ssl.h>

#include "http_int.h"

void
tls_log_errors(const char *event)
{
	char buf[256];
	unsigned long e;
	json_t *errs = json_array();

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		json_array_append_new(errs, json_string(buf));
	}
	log_msg(LOG_WARN, event, "{s:o}", "openssl", errs);
}

/*
 * Whole-request deadline (slow loris).  evhttp's timeout is an inactivity
 * timeout that every byte resets, so a client trickling a byte every few
 * seconds would hold a connection for hours.  Each connection's SSL carries
 * a deadline (ex_data, a time_t cast to a pointer: no allocation); every TLS
 * record read runs the message callback, and once the deadline has passed
 * the socket is shut down, so libevent's next read sees EOF and frees the
 * connection.  http.c sets the deadline at accept and moves it on each
 * complete request.
 */
static int deadline_idx = -1;

/*
 * Live connections: every accepted connection's SSL gets a deadline
 * (tls_conn_admit), and OpenSSL calls conn_gone when it frees that SSL, so
 * the count needs no hook into libevent's connection lifetime.
 */
static atomic_int live_conns;

static void
conn_gone(void *parent, void *ptr, CRYPTO_EX_DATA *ad, int idx, long argl,
    void *argp)
{
	(void)parent;
	(void)ad;
	(void)idx;
	(void)argl;
	(void)argp;
	if (ptr != NULL)
		atomic_fetch_sub(&live_conns, 1);
}

static void
deadline_cb(int write_p, int version, int content_type, const void *buf,
    size_t len, SSL *ssl, void *arg)
{
	time_t dl;

	(void)version;
	(void)buf;
	(void)len;
	(void)arg;
	if (write_p || content_type != SSL3_RT_HEADER || deadline_idx < 0)
		return;
	dl = (time_t)(intptr_t)SSL_get_ex_data(ssl, deadline_idx);
	if (dl != 0 && time(NULL) > dl && SSL_get_fd(ssl) >= 0)
		shutdown(SSL_get_fd(ssl), SHUT_RDWR);
}

bool
tls_conn_admit(SSL *ssl, time_t deadline, int max)
{
	int n = atomic_fetch_add(&live_conns, 1) + 1;

	if (n > max) {
		/* an already passed deadline: its first record closes it */
		tls_deadline_set(ssl, 1);
		return false;
	}
	tls_deadline_set(ssl, deadline);
	return true;
}

int
tls_conn_count(void)
{
	return atomic_load(&live_conns);
}

void
tls_deadline_set(SSL *ssl, time_t when)
{
	if (deadline_idx >= 0)
		SSL_set_ex_data(ssl, deadline_idx, (void *)(intptr_t)when);
}

/*
 * Client certificates are verified by the handler against the authority the
 * request addresses (each has its own roots), so the TLS layer only asks for
 * one and keeps whatever is sent.
 */
static int
accept_any(int ok, X509_STORE_CTX *ctx)
{
	(void)ok;
	(void)ctx;
	return 1;
}

enum dv_rc
tls_ctx_new(const char *chain, const char *key, SSL_CTX **out)
{
	SSL_CTX *ctx = NULL;
	BIO *b = NULL;
	X509 *x = NULL;
	EVP_PKEY *k = NULL;
	enum dv_rc rc = DV_ERR_CRYPTO;
	static const unsigned char sid[] = "devid-ca";

	*out = NULL;
	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto out;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	/* Idle connections keep no read/write buffers (memory per conn). */
	SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS);
	SSL_CTX_set_session_id_context(ctx, sid, sizeof(sid) - 1);
	/*
	 * No server-side session cache: it keeps every session (up to 20 000)
	 * in memory, a kilobyte or more each, for clients that mostly never
	 * resume.  Resumption still works through stateless tickets; one per
	 * handshake is enough (TLS 1.3 sends two by default).
	 */
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_num_tickets(ctx, 1);
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
	if (deadline_idx < 0)	/* first call is before any thread */
		deadline_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL,
		    conn_gone);
	SSL_CTX_set_msg_callback(ctx, deadline_cb);
	if ((b = BIO_new_mem_buf(chain, -1)) == NULL)
		goto out;
	if ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_certificate(ctx, x) != 1)
		goto out;
	X509_free(x);
	while ((x = PEM_read_bio_X509(b, NULL, NULL, NULL)) != NULL) {
		if (SSL_CTX_add0_chain_cert(ctx, x) != 1)
			goto out;
		x = NULL;
	}
	ERR_clear_error();	/* the end of the PEM bundle */
	BIO_free(b);
	if ((b = BIO_new_mem_buf(key, -1)) == NULL ||
	    (k = PEM_read_bio_PrivateKey(b, NULL, NULL, NULL)) == NULL ||
	    SSL_CTX_use_PrivateKey(ctx, k) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1)
		goto out;
	*out = ctx;
	ctx = NULL;
	rc = DV_OK;
out:
	if (rc != DV_OK)
		tls_log_errors("tls.ctx");
	EVP_PKEY_free(k);
	X509_free(x);
	BIO_free(b);
	SSL_CTX_free(ctx);
	return rc;
}
