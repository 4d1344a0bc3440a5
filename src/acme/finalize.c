/*
 * finalize.c - order finalization and certificate download (RFC 8555
 * §7.4, §7.4.2), and the recovery of orders a stop left "processing".
 *
 * The certificate is built first (the committer signs it with the rest
 * of its batch, ca_commit_submit); then the order moves ready ->
 * processing, naming the certificate's serial, in one transaction, so
 * that of two concurrent finalizes one wins (the other's certificate is
 * never signed, stored nor served).  The certificate row, its audit row
 * and the order's processing -> valid are then one transaction
 * (ca_commit_submit runs fin_commit_tx with the row): the order is valid
 * exactly when its certificate is stored.  A stop between the two
 * transactions leaves the order "processing" without a stored
 * certificate: acme_recover() makes it invalid at the next start (or
 * valid, should its certificate be stored, which only a store without the
 * combined transaction leaves).
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

/* The identifiers of o as SANs. */
static enum dv_rc
order_sans(const struct store_acme_order *o, struct pki_sans *out)
{
	json_t *ids, *e;
	size_t i;
	enum dv_rc rc = DV_OK;

	memset(out, 0, sizeof(*out));
	if ((ids = json_loads(o->identifiers, JSON_REJECT_DUPLICATES, NULL))
	    == NULL)
		return DV_ERR_STORE;
	json_array_foreach(ids, i, e) {
		const char *t = json_get_str(e, "type");

		rc = pki_sans_add(out, t != NULL && strcmp(t, "ip") == 0 ?
		    PKI_SAN_IP : PKI_SAN_DNS, json_get_str(e, "value"));
		if (rc != DV_OK)
			break;
	}
	json_decref(ids);
	if (rc != DV_OK)
		pki_sans_clear(out);
	return rc;
}

/* §7.4: the CSR names exactly the order's identifiers (CN one of them),
 * and its key is not the account key. */
static bool
csr_check(struct acme_ctx *c, const struct pki_csr *csr,
    const struct pki_sans *want)
{
	EVP_PKEY *k = NULL;
	uint8_t *spki = NULL;
	size_t spkilen = 0, i;
	bool ok = false, cn_ok;

	if (pki_sans_count(&csr->sans, PKI_SAN_EMAIL) != 0 ||
	    pki_sans_count(&csr->sans, PKI_SAN_URI) != 0 ||
	    !pki_sans_equal_type(&csr->sans, want, PKI_SAN_DNS) ||
	    !pki_sans_equal_type(&csr->sans, want, PKI_SAN_IP)) {
		log_msg(LOG_INFO, "acme.finalize", "{s:s,s:s}", "provisioner",
		    c->provid, "reason", "RFC 8555 §7.4: CSR SANs differ "
		    "from the order");
		acme_fail(c, ACME_ERR_BAD_CSR, "the CSR names differ from the "
		    "order's identifiers");
		goto out;
	}
	cn_ok = csr->cn == NULL;
	for (i = 0; !cn_ok && i < want->n; i++)
		cn_ok = strcasecmp(csr->cn, want->v[i].value) == 0;
	if (!cn_ok) {
		acme_fail(c, ACME_ERR_BAD_CSR, "the CSR common name is not one "
		    "of the order's identifiers");
		goto out;
	}
	/* kid requests carry the account key already decoded */
	if (c->pkey != NULL)
		k = pki_key_ref(c->pkey);
	if ((k == NULL && jws_jwk_to_pkey(c->jwk, &k) != DV_OK) ||
	    pki_key_spki_der(k, &spki, &spkilen) != DV_OK) {
		acme_fail(c, ACME_ERR_SERVER_INTERNAL, "account key "
		    "unreadable");
		goto out;
	}
	if (spkilen == csr->spkilen && memcmp(spki, csr->spki, spkilen) == 0) {
		acme_fail(c, ACME_ERR_BAD_CSR, "the CSR key is the account "
		    "key");
		goto out;
	}
	ok = true;
out:
	free(spki);
	pki_key_free(k);
	return ok;
}

struct fin_op {
	const char	*id;
	const char	*account;
	const char	*to;		/* new status */
	const char	*from;		/* required status, NULL: any */
	const char	*serial;	/* with to "valid" */
	const char	*error;		/* with to "invalid" */
	struct store_acme_order o;
	bool		 moved;
};

static enum dv_rc
fin_tx(struct store_tx *tx, void *arg)
{
	struct fin_op *f = arg;
	enum dv_rc rc;

	if ((rc = store_acme_order_get(tx, f->id, &f->o)) != DV_OK)
		return rc;
	if (strcmp(f->o.account_id, f->account) != 0)
		return DV_ERR_NOT_FOUND;
	if (f->from != NULL && (strcmp(acme_order_status(&f->o, dv_now()),
	    f->from) != 0))
		return DV_OK;
	free(f->o.status);
	f->o.status = xstrdup(f->to);
	if (f->serial != NULL) {
		free(f->o.cert_serial);
		f->o.cert_serial = xstrdup(f->serial);
	}
	if (f->error != NULL) {
		free(f->o.error);
		f->o.error = xstrdup(f->error);
	}
	if ((rc = store_acme_order_update(tx, &f->o)) != DV_OK)
		return rc;
	f->moved = true;
	return DV_OK;
}

/* Moves the order (from -> to) in a transaction; lazy: ready ->
 * processing reaches the disk with the durable commit of the certificate
 * that follows it (commits reach the disk in order), so a crash before
 * that commit leaves the order ready or processing without a
 * certificate, and acme_recover makes a processing one invalid. */
static enum dv_rc
order_move(struct store *s, struct fin_op *f)
{
	return store_write_lazy(s, fin_tx, f);
}

/*
 * The store's issue operation runs this in the transaction that inserts
 * the certificate (arg: the struct acme_resp of the finalize): the order,
 * still processing with this serial, becomes valid.  Anything else fails
 * the whole issuance, certificate row included.
 */
static enum dv_rc
fin_commit_tx(struct store_tx *tx, void *arg)
{
	const struct acme_resp *r = arg;
	struct store_acme_order o;
	enum dv_rc rc;

	if ((rc = store_acme_order_get(tx, r->order_id, &o)) != DV_OK)
		return rc;
	if (strcmp(o.status, "processing") != 0 || o.cert_serial == NULL ||
	    strcmp(o.cert_serial, r->iss->row.serial) != 0) {
		log_msg(LOG_WARN, "acme.finalize", "{s:s,s:s}", "order", o.id,
		    "error", "the order left processing before its "
		    "certificate was stored");
		rc = DV_ERR_EXISTS;
	} else {
		free(o.status);
		o.status = xstrdup("valid");
		rc = store_acme_order_update(tx, &o);
	}
	store_acme_order_clear(&o);
	return rc;
}

void
acme_finalize(struct acme_ctx *c, const char *id)
{
	struct store_acme_order o;
	struct store_acme_authz *z = NULL;
	struct pki_sans want = { 0 };
	struct pki_csr *csr = NULL;
	struct fin_op f;
	struct ca_issue *iss = NULL;
	json_error_t err;
	const char *b64 = NULL;
	uint8_t *der = NULL;
	size_t derlen = 0, n = 0;
	char *actor = NULL, *device_id = NULL;
	struct ca_device_id dev;
	bool device;
	enum dv_rc rc;

	memset(&o, 0, sizeof(o));
	memset(&f, 0, sizeof(f));
	memset(&dev, 0, sizeof(dev));
	if (!acme_verify(c, false) || !acme_payload(c, false))
		return;
	if (json_unpack_ex(c->payload, &err, 0, "{s:s}", "csr", &b64) != 0 ||
	    strlen(b64) > DV_MAX_DER * 2 ||
	    jws_b64url_decode(b64, &der, &derlen) != DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "finalize needs a base64url "
		    "csr");
		goto out;
	}
	rc = acme_order_load(c->store, id, &o, &z, &n);
	if (rc == DV_OK && strcmp(o.account_id, c->acct.id) != 0)
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_ERR_NOT_FOUND) {
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such order");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (strcmp(acme_order_status(&o, dv_now()), "ready") != 0) {
		acme_fail(c, ACME_ERR_ORDER_NOT_READY, "the order is not "
		    "ready (RFC 8555 §7.4)");
		goto out;
	}
	if ((rc = pki_csr_parse(der, derlen, true, &csr)) != DV_OK) {
		acme_fail(c, rc == DV_ERR_BAD_KEY ? ACME_ERR_BAD_PUBLIC_KEY :
		    ACME_ERR_BAD_CSR, rc == DV_ERR_BAD_KEY ? "the CSR key "
		    "type or size is not allowed" : "the CSR is invalid");
		goto out;
	}
	/* device-attest-01 orders have one permanent-identifier */
	device = n == 1 && strcmp(z[0].ident_type, "permanent-identifier") ==
	    0;
	if (device) {
		if (!acme_attest_csr_check(c, &z[0], csr, &device_id))
			goto out;
		dev.perm_id = z[0].ident_value;
		/* tpm: the identifier is the EK URN, also a URI SAN */
		if (strncmp(z[0].ident_value, "urn:ek:", 7) == 0)
			dev.ek_urn = z[0].ident_value;
		dev.device_id = device_id;
	} else {
		if (order_sans(&o, &want) != DV_OK) {
			acme_fail(c, ACME_ERR_SERVER_INTERNAL, "order "
			    "unreadable");
			goto out;
		}
		if (!csr_check(c, csr, &want))
			goto out;
	}
	actor = xasprintf("acme/%s:%s", prov_get_name(c->prov), c->acct.id);
	rc = device ? ca_acme_device_prepare(c->auth, c->prov, csr, &dev,
	    o.not_before, o.not_after, actor, c->req->request_id, &iss) :
	    ca_acme_prepare(c->auth, c->prov, csr, &want, o.not_before,
	    o.not_after, actor, c->req->request_id, &iss);
	if (rc != DV_OK) {
		/* the order stays ready: the client may finalize again */
		acme_fail(c, ACME_ERR_SERVER_INTERNAL, "the certificate could "
		    "not be signed");
		goto out;
	}
	f.id = id;
	f.account = c->acct.id;
	f.from = "ready";
	f.to = "processing";
	f.serial = iss->row.serial;
	if (order_move(c->store, &f) != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (!f.moved) {
		/* another finalize won the race: this certificate is
		 * dropped, never stored nor served */
		acme_fail(c, ACME_ERR_ORDER_NOT_READY, "the order is not "
		    "ready (RFC 8555 §7.4)");
		goto out;
	}
	c->resp->iss = iss;
	iss = NULL;
	c->resp->iss->also = fin_commit_tx;
	c->resp->iss->also_arg = c->resp;
	if (device)
		(void)inv_device_seen(c->auth->ca->inv, c->auth->team,
		    device_id, dv_now());
	c->resp->order_id = xstrdup(id);
	c->resp->account_id = xstrdup(c->acct.id);
out:
	ca_issue_free(iss);
	free(device_id);
	store_acme_order_clear(&f.o);
	store_acme_order_clear(&o);
	store_acme_authzs_free(z, n);
	pki_sans_clear(&want);
	pki_csr_free(csr);
	free(der);
	free(actor);
}

void
acme_finalize_done(const struct acme_req *q, struct acme_resp *resp,
    enum dv_rc rc)
{
	struct acme_ctx c;
	struct store_acme_order o;
	struct store_acme_authz *z = NULL;
	struct fin_op f;
	json_t *prob = NULL;
	char *perr = NULL;
	size_t n = 0;

	acme_ctx_init(&c, q, resp);
	memset(&f, 0, sizeof(f));
	memset(&o, 0, sizeof(o));
	f.id = resp->order_id;
	f.account = resp->account_id;
	f.from = "processing";
	if (rc == DV_OK && resp->iss != NULL && resp->iss->rc == DV_OK) {
		/* fin_commit_tx made it valid with the certificate */
		f.to = "valid";
		log_msg(LOG_INFO, "acme.issued", "{s:s,s:s,s:s}", "provisioner",
		    c.provid, "order", f.id, "serial", resp->iss->row.serial);
	} else {
		prob = acme_problem_json(ACME_ERR_SERVER_INTERNAL, "the "
		    "certificate could not be stored");
		perr = json_dumps(prob, JSON_COMPACT);
		f.to = "invalid";
		f.error = perr;
		if (order_move(c.store, &f) != DV_OK || !f.moved) {
			acme_fail(&c, ACME_ERR_SERVER_INTERNAL, "the order "
			    "could not be updated");
			goto out;
		}
	}
	if (acme_order_load(c.store, f.id, &o, &z, &n) != DV_OK) {
		acme_fail(&c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (strcmp(f.to, "invalid") == 0)
		acme_fail(&c, ACME_ERR_SERVER_INTERNAL, "the certificate could "
		    "not be stored");
	else {
		resp->status = 200;
		resp->json = acme_order_json(&c, &o, z, n);
		resp->location = acme_url(&c, "/order/", f.id);
	}
out:
	ca_issue_free(resp->iss);
	resp->iss = NULL;
	store_acme_order_clear(&f.o);
	store_acme_order_clear(&o);
	store_acme_authzs_free(z, n);
	json_decref(prob);
	free(perr);
	acme_ctx_clear(&c);
}

void
acme_cert_get(struct acme_ctx *c, const char *id)
{
	struct store_acme_order o;
	struct store_acme_authz *z = NULL;
	struct store_cert *row = NULL;
	char *pem = NULL;
	size_t n = 0;
	enum dv_rc rc;

	if (!acme_verify(c, false) || !acme_payload(c, true))
		return;
	rc = acme_order_load(c->store, id, &o, &z, &n);
	if (rc == DV_OK && (strcmp(o.account_id, c->acct.id) != 0 ||
	    o.cert_serial == NULL || strcmp(o.status, "valid") != 0))
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_OK)
		rc = store_cert_get(c->store, o.cert_serial, &row);
	/* our own stored DER: encoded as PEM without a decode */
	if (rc == DV_OK)
		rc = pki_cert_der_to_pem(row->der, row->derlen, &pem);
	if (rc == DV_ERR_NOT_FOUND)
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such certificate");
	else if (rc != DV_OK)
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
	else {
		/* §7.4.2: the leaf, then the chain up to (not incl.) root */
		c->resp->pem = xasprintf("%s%s", pem, c->auth->inter_pem);
	}
	free(pem);
	if (row != NULL)
		store_cert_free(row);
	store_acme_order_clear(&o);
	store_acme_authzs_free(z, n);
}

/* Orders recovered per transaction. */
#define ACME_RECOVER_BATCH	256

struct recover {
	const char	*error;		/* problem JSON text */
	unsigned	 valid;
	unsigned	 invalid;
	size_t		 seen;
};

static enum dv_rc
recover_tx(struct store_tx *tx, void *arg)
{
	struct recover *r = arg;
	struct store_acme_order o;
	json_t *ids, *e;
	size_t i;
	bool stored;
	enum dv_rc rc;

	if ((rc = store_acme_orders_processing(tx, ACME_RECOVER_BATCH, &ids))
	    != DV_OK)
		return rc;
	r->seen = json_array_size(ids);
	json_array_foreach(ids, i, e) {
		if ((rc = store_acme_order_get(tx, json_string_value(e), &o))
		    != DV_OK)
			break;
		stored = o.cert_serial != NULL &&
		    store_acme_cert_stored(tx, o.cert_serial) == DV_OK;
		free(o.status);
		o.status = xstrdup(stored ? "valid" : "invalid");
		if (!stored) {
			free(o.error);
			o.error = xstrdup(r->error);
			free(o.cert_serial);
			o.cert_serial = NULL;
		}
		rc = store_acme_order_update(tx, &o);
		log_msg(LOG_WARN, "acme.recovered", "{s:s,s:s,s:s}",
		    "provisioner", o.prov, "order", o.id, "status", o.status);
		store_acme_order_clear(&o);
		if (rc != DV_OK)
			break;
		if (stored)
			r->valid++;
		else
			r->invalid++;
	}
	json_decref(ids);
	return rc;
}

enum dv_rc
acme_recover(struct store *s, unsigned *valid, unsigned *invalid)
{
	struct recover r;
	json_t *prob;
	char *perr;
	enum dv_rc rc;

	*valid = *invalid = 0;
	memset(&r, 0, sizeof(r));
	prob = acme_problem_json(ACME_ERR_SERVER_INTERNAL, "the server "
	    "stopped while finalizing the order; order again");
	perr = json_dumps(prob, JSON_COMPACT);
	r.error = perr;
	/* each pass takes the orders out of "processing" */
	do {
		r.seen = 0;
		rc = store_write(s, recover_tx, &r);
	} while (rc == DV_OK && r.seen == ACME_RECOVER_BATCH);
	if (rc == DV_OK) {
		*valid = r.valid;
		*invalid = r.invalid;
	}
	json_decref(prob);
	free(perr);
	return rc;
}
