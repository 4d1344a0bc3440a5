/*
 * tls.c - the server's TLS context (the one place outside src/pki that
 * calls OpenSSL, rule 16).
 */
#include <string.h>

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
	SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, accept_any);
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
