/*
 * trust.c - chain verification against a set of roots (RFC 5280 §6).
 */
#include <stdlib.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "pki_int.h"

#define EV		"pki.trust"
/* Roots in one PEM bundle. */
#define ROOTS_MAX	64

struct pki_trust {
	X509_STORE	*store;	/* owned: the roots */
	STACK_OF(X509)	*inter;	/* owned: known intermediates */
};

struct pki_trust *
pki_trust_new(void)
{
	struct pki_trust *t;

	t = xcalloc(1, sizeof(*t));
	if ((t->store = X509_STORE_new()) == NULL ||
	    (t->inter = sk_X509_new_null()) == NULL) {
		/* allocation failure inside OpenSSL: rule 11 */
		pki_log_ssl(LOG_ERR, EV, "X509_STORE_new");
		abort();
	}
	return t;
}

void
pki_trust_free(struct pki_trust *t)
{
	if (t == NULL)
		return;
	X509_STORE_free(t->store);
	sk_X509_pop_free(t->inter, X509_free);
	free(t);
}

/*
 * A reference to x fit for the store: checked (rule 17) and with its key
 * decoded, which a certificate fresh from pki_cert_issue lacks and chain
 * verification needs.
 */
static X509 *
trust_cert(X509 *x, const char *what)
{
	X509 *y;

	if ((y = pki_cert_decoded(x)) == NULL ||
	    X509_check_purpose(y, -1, 0) != 1) {
		pki_log_ssl(LOG_ERR, EV, "%s: unreadable certificate or "
		    "malformed extensions", what);
		X509_free(y);
		return NULL;
	}
	return y;
}

enum dv_rc
pki_trust_add_root(struct pki_trust *t, X509 *x)
{
	enum dv_rc rc = DV_OK;

	if ((x = trust_cert(x, "root")) == NULL)
		return DV_ERR_MALFORMED;
	if (!X509_STORE_add_cert(t->store, x)) {
		unsigned long e = ERR_peek_last_error();

		/* the same root twice is harmless */
		if (ERR_GET_REASON(e) == X509_R_CERT_ALREADY_IN_HASH_TABLE)
			ERR_clear_error();
		else {
			pki_log_ssl(LOG_ERR, EV, "X509_STORE_add_cert");
			rc = DV_ERR_CRYPTO;
		}
	}
	X509_free(x);	/* the store holds its own reference */
	return rc;
}

enum dv_rc
pki_trust_add_intermediate(struct pki_trust *t, X509 *x)
{
	if ((x = trust_cert(x, "intermediate")) == NULL)
		return DV_ERR_MALFORMED;
	if (!sk_X509_push(t->inter, x)) {
		pki_log_ssl(LOG_ERR, EV, "sk_X509_push");
		X509_free(x);
		return DV_ERR_CRYPTO;
	}
	return DV_OK;
}

enum dv_rc
pki_trust_add_roots_pem(struct pki_trust *t, const char *pem, size_t len)
{
	STACK_OF(X509) *sk = NULL;
	enum dv_rc rc;
	int i;

	if ((rc = pki_certs_from_pem(pem, len, ROOTS_MAX, &sk)) != DV_OK)
		return rc;
	for (i = 0; i < sk_X509_num(sk) && rc == DV_OK; i++)
		rc = pki_trust_add_root(t, sk_X509_value(sk, i));
	pki_certs_free(sk);
	return rc;
}

/* RFC 5280 §4.2.1.12: every purpose asked for must be present; a leaf
 * without the extension may be used for any purpose. */
static bool
eku_ok(X509 *leaf, unsigned eku)
{
	uint32_t have = X509_get_extended_key_usage(leaf);

	if ((eku & PKI_EKU_SERVER_AUTH) && !(have & XKU_SSL_SERVER))
		return false;
	if ((eku & PKI_EKU_CLIENT_AUTH) && !(have & XKU_SSL_CLIENT))
		return false;
	if ((eku & PKI_EKU_OCSP_SIGNING) && !(have & XKU_OCSP_SIGN))
		return false;
	return true;
}

enum dv_rc
pki_trust_verify(const struct pki_trust *t, X509 *leaf,
    STACK_OF(X509) *chain, time_t at, unsigned eku, bool need_ds)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x;
	int i, err;
	enum dv_rc rc = DV_ERR_UNTRUSTED;

	if (sk_X509_num(chain) + 1 > DV_MAX_CHAIN) {
		log_msg(LOG_INFO, EV, "{s:s,s:i}", "detail",
		    "chain longer than DV_MAX_CHAIN", "max", DV_MAX_CHAIN);
		return DV_ERR_TOO_LARGE;
	}
	/* X509_verify_cert wants every key of the chain decoded, the
	 * leaf's included (X509_get_pubkey_parameters) */
	if ((leaf = pki_cert_decoded(leaf)) == NULL ||
	    X509_check_purpose(leaf, -1, 0) != 1) {
		pki_log_ssl(LOG_INFO, EV, "RFC 5280 §4.2: leaf has malformed "
		    "extensions");
		X509_free(leaf);
		return DV_ERR_UNTRUSTED;
	}
	/* the presented chain first, then the intermediates we know */
	if ((untrusted = sk_X509_new_null()) == NULL)
		goto ssl_err;
	for (i = 0; i < sk_X509_num(chain); i++) {
		if ((x = pki_cert_decoded(sk_X509_value(chain, i))) == NULL) {
			pki_log_ssl(LOG_INFO, EV, "unreadable chain "
			    "certificate");
			goto out;
		}
		if (!sk_X509_push(untrusted, x)) {
			X509_free(x);
			goto ssl_err;
		}
	}
	for (i = 0; i < sk_X509_num(t->inter); i++) {
		if (!sk_X509_push(untrusted, pki_cert_up_ref(
		    sk_X509_value(t->inter, i)))) {
			X509_free(sk_X509_value(t->inter, i));
			goto ssl_err;
		}
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, t->store, leaf, untrusted))
		goto ssl_err;
	if (at != 0)
		X509_VERIFY_PARAM_set_time(X509_STORE_CTX_get0_param(ctx), at);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		log_msg(LOG_INFO, EV, "{s:s,s:s}", "detail",
		    "RFC 5280 §6: chain does not verify", "reason",
		    X509_verify_cert_error_string(err));
		goto out;
	}
	if (!eku_ok(leaf, eku)) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 5280 §4.2.1.12: leaf lacks the required extKeyUsage");
		goto out;
	}
	/* X509_get_key_usage is UINT32_MAX when the extension is absent */
	if (need_ds && !(X509_get_key_usage(leaf) & KU_DIGITAL_SIGNATURE)) {
		log_msg(LOG_INFO, EV, "{s:s}", "detail",
		    "RFC 5280 §4.2.1.3: leaf lacks digitalSignature");
		goto out;
	}
	rc = DV_OK;
	goto out;
ssl_err:
	pki_log_ssl(LOG_ERR, EV, "X509_STORE_CTX_init");
	rc = DV_ERR_CRYPTO;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(leaf);
	return rc;
}
