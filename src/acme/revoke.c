/*
 * revoke.c - revokeCert (RFC 8555 §7.6), authorized either by the
 * account that ordered the certificate (kid) or by the certificate's own
 * key (jwk).
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

struct owner_op {
	const char	*serial;
	struct store_acme_order o;
};

static enum dv_rc
owner_tx(struct store_tx *tx, void *arg)
{
	struct owner_op *op = arg;

	return store_acme_order_by_cert(tx, op->serial, &op->o);
}

/* True if the signer may revoke x (serial): the ordering account, or
 * the certificate key itself. */
static bool
may_revoke(struct acme_ctx *c, X509 *x, const char *serial)
{
	struct owner_op op;
	EVP_PKEY *k = NULL;
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	bool ok = false;

	memset(&op, 0, sizeof(op));
	if (c->has_acct) {
		op.serial = serial;
		ok = store_read(c->store, owner_tx, &op) == DV_OK &&
		    strcmp(op.o.account_id, c->acct.id) == 0;
		store_acme_order_clear(&op.o);
		return ok;
	}
	if (jws_jwk_to_pkey(c->jwk, &k) == DV_OK &&
	    pki_key_spki_der(k, &a, &alen) == DV_OK &&
	    pki_key_spki_der(pki_cert_pubkey0(x), &b, &blen) == DV_OK)
		ok = alen == blen && memcmp(a, b, alen) == 0;
	pki_key_free(k);
	free(a);
	free(b);
	return ok;
}

void
acme_revoke(struct acme_ctx *c)
{
	struct store_cert *row = NULL;
	struct store_revoke rv;
	struct store_audit au;
	const char *b64 = NULL;
	json_int_t reason = 0;
	json_error_t err;
	uint8_t *der = NULL;
	size_t derlen = 0;
	char *serial = NULL, *actor = NULL;
	X509 *x = NULL;
	enum dv_rc rc;

	if (!acme_verify(c, true) || !acme_payload(c, false))
		return;
	if (json_unpack_ex(c->payload, &err, 0, "{s:s,s?I}", "certificate",
	    &b64, "reason", &reason) != 0 || strlen(b64) > DV_MAX_DER * 2 ||
	    jws_b64url_decode(b64, &der, &derlen) != DV_OK ||
	    pki_cert_from_der(der, derlen, &x) != DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "revokeCert needs a base64url "
		    "DER certificate");
		goto out;
	}
	/* RFC 5280 §5.3.1 codes; 7 is unused */
	if (reason < 0 || reason > 10 || reason == 7) {
		acme_fail(c, ACME_ERR_BAD_REVOCATION_REASON, "reason is not "
		    "an RFC 5280 reason code");
		goto out;
	}
	serial = pki_cert_serial_dec(x);
	rc = store_cert_get(c->store, serial, &row);
	if (rc == DV_OK && strcmp(row->authority, c->auth->id) != 0)
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_ERR_NOT_FOUND || (rc == DV_OK && (row->derlen != derlen
	    || memcmp(row->der, der, derlen) != 0))) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the certificate was not "
		    "issued by this authority");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (row->revoked) {
		acme_fail(c, ACME_ERR_ALREADY_REVOKED, "the certificate is "
		    "already revoked");
		goto out;
	}
	if (!may_revoke(c, x, serial)) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "neither the ordering "
		    "account nor the certificate key signed the request");
		goto out;
	}
	actor = c->has_acct ? xasprintf("acme/%s:%s", prov_get_name(c->prov),
	    c->acct.id) : xasprintf("acme/%s:certificate-key",
	    prov_get_name(c->prov));
	memset(&au, 0, sizeof(au));
	au.actor = actor;
	au.action = "cert.revoke";
	au.object = serial;
	au.request_id = c->req->request_id;
	au.team = c->auth->team;
	memset(&rv, 0, sizeof(rv));
	rv.authority = c->auth->id;
	rv.serial = serial;
	rv.reason_code = (int)reason;
	rv.at = dv_now();
	rv.audit = &au;
	rc = store_revoke(c->store, &rv);
	if (rc == DV_ERR_ALREADY_REVOKED || rc == DV_ERR_EXISTS) {
		acme_fail(c, ACME_ERR_ALREADY_REVOKED, "the certificate is "
		    "already revoked");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	ca_crl_invalidate(c->auth->ca, c->auth->id);
	log_msg(LOG_INFO, "acme.revoked", "{s:s,s:s,s:s}", "provisioner",
	    c->provid, "serial", serial, "actor", actor);
	c->resp->status = 200;
out:
	if (row != NULL)
		store_cert_free(row);
	pki_cert_free(x);
	free(der);
	free(serial);
	free(actor);
}
