/*
 * account.c - account objects (RFC 8555 §7.3): newAccount, update and
 * deactivation, the orders list, and key rollover (§7.3.5).
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

json_t *
acme_account_json(const struct acme_ctx *c,
    const struct store_acme_account *a)
{
	json_t *j = json_object(), *contact = NULL;
	char *u;

	json_object_set_new(j, "status", json_string(a->status));
	/* our own JSON text (contact_check wrote it) */
	if (a->contact != NULL && (contact = json_loads(a->contact,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL)
		json_object_set_new(j, "contact", contact);
	u = acme_url(c, "/account/", a->id);
	json_object_set_new(j, "orders", json_pack("s+", u, "/orders"));
	free(u);
	return j;
}

/* Checks a "contact" value (§7.3): an array of mailto: URLs.  *out is the
 * JSON array text to store (new), NULL when v is absent. */
static bool
contact_check(struct acme_ctx *c, const json_t *v, char **out)
{
	const json_t *e;
	const char *s;
	json_t *w;
	size_t i;

	*out = NULL;
	if (v == NULL)
		return true;
	if (!json_is_array(v) || json_array_size(v) > ACME_MAX_CONTACTS) {
		acme_fail(c, ACME_ERR_INVALID_CONTACT, "contact must be an "
		    "array of at most 4 mailto: URLs");
		return false;
	}
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || (s = json_string_value(e)) == NULL ||
		    strlen(s) > ACME_MAX_CONTACT_LEN ||
		    !str_printable(s, strlen(s)) || strchr(s, ',') != NULL) {
			acme_fail(c, ACME_ERR_INVALID_CONTACT, "a contact is "
			    "not a valid URL");
			return false;
		}
		if (strncmp(s, "mailto:", 7) != 0 || strchr(s + 7, '@') ==
		    NULL) {
			acme_fail(c, ACME_ERR_UNSUPPORTED_CONTACT, "only "
			    "mailto: contacts are supported");
			return false;
		}
	}
	w = json_deep_copy(v);
	*out = json_dumps(w, JSON_COMPACT | JSON_ENCODE_ANY);
	json_decref(w);
	return true;
}

struct new_acct {
	struct acme_ctx	*c;
	bool		 only_existing;
	bool		 require_eab;
	const char	*eab_kid;	/* checked binding, or NULL */
	const struct store_audit *audit; /* of the binding */
	struct store_acme_account *in;
	struct store_acme_account out;
	bool		 created;
	bool		 eab_missing;	/* required, absent: nothing done */
	enum dv_rc	 eab_rc;	/* the bind's refusal */
};

/* The account of the key, or a new one: with a binding, the key is bound
 * to it in the same transaction (RFC 8555 §7.3.4: one account per key). */
static enum dv_rc
new_acct_tx(struct store_tx *tx, void *arg)
{
	struct new_acct *n = arg;
	enum dv_rc rc;

	rc = store_acme_account_find(tx, n->in->prov, n->in->thumbprint,
	    &n->out);
	if (rc != DV_ERR_NOT_FOUND || n->only_existing)
		return rc;
	if (n->require_eab && n->eab_kid == NULL) {
		n->eab_missing = true;
		return DV_OK;
	}
	if ((rc = store_acme_account_insert(tx, n->in)) != DV_OK)
		return rc;
	if (n->eab_kid != NULL) {
		rc = store_acme_eab_bind(tx, n->eab_kid, n->in->prov,
		    n->in->id, n->in->created_at);
		if (rc == DV_ERR_NOT_FOUND || rc == DV_ERR_EXISTS) {
			/* deleted or bound since the check: rolled back */
			n->eab_rc = rc;
			return rc;
		}
		if (rc != DV_OK || (rc = store_tx_audit(tx, n->audit)) !=
		    DV_OK)
			return rc;
	}
	n->created = true;
	return store_acme_account_get(tx, n->in->id, &n->out);
}

void
acme_account_new(struct acme_ctx *c)
{
	struct store_acme_account a;
	struct new_acct n;
	const json_t *contact = NULL, *eab = NULL;
	struct store_audit audit;
	int tos = -1, only = 0;
	json_error_t err;
	json_t *d = NULL;
	char *jwk = NULL, *ctext = NULL, *kid = NULL, *actor = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	memset(&a, 0, sizeof(a));
	memset(&n, 0, sizeof(n));
	if (!acme_verify(c, true) || !acme_payload(c, false))
		return;
	if (c->has_acct) {
		acme_fail(c, ACME_ERR_MALFORMED, "newAccount is signed with "
		    "jwk (RFC 8555 §7.3)");
		return;
	}
	/* §7.3: fields the server does not recognise are ignored */
	if (json_unpack_ex(c->payload, &err, 0, "{s?o,s?b,s?b,s?o}",
	    "contact", &contact, "termsOfServiceAgreed", &tos,
	    "onlyReturnExisting", &only, "externalAccountBinding", &eab)
	    != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "mistyped member in the "
		    "newAccount payload");
		return;
	}
	if (!contact_check(c, contact, &ctext))
		return;
	/* §7.3.4: a binding is checked whenever one is sent (also when the
	 * provisioner does not require it); onlyReturnExisting needs none */
	if (eab != NULL && !only && !acme_eab_check(c, eab, &kid))
		goto out;
	jwk = json_dumps(c->jwk, JSON_COMPACT | JSON_SORT_KEYS);
	a.id = acme_id_new();
	actor = xasprintf("acme/%s:%s", prov_get_name(c->prov), a.id);
	if (kid != NULL) {
		d = json_pack("{s:s,s:s}", "provisioner", c->provid,
		    "account", a.id);
		detail = json_dumps(d, JSON_COMPACT);
	}
	memset(&audit, 0, sizeof(audit));
	audit.team = c->auth->team;
	audit.actor = actor;
	audit.action = "acme.eab.bind";
	audit.object = kid;
	audit.request_id = c->req->request_id;
	audit.detail = detail;
	a.prov = c->provid;
	a.thumbprint = c->thumbprint;
	a.jwk = jwk;
	a.status = "valid";
	a.contact = ctext;
	a.created_at = dv_now();
	n.c = c;
	n.in = &a;
	n.only_existing = only != 0;
	n.require_eab = c->cfg.require_eab;
	n.eab_kid = kid;
	n.audit = &audit;
	rc = store_write(c->store, new_acct_tx, &n);
	if (n.eab_rc != DV_OK)
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the external account key "
		    "is unknown or bound to another account");
	else if (rc == DV_ERR_NOT_FOUND)
		acme_fail(c, ACME_ERR_ACCOUNT_DOES_NOT_EXIST, "no account "
		    "with this key");
	else if (rc == DV_OK && n.eab_missing)
		acme_fail(c, ACME_ERR_EXTERNAL_ACCOUNT_REQUIRED, "this "
		    "provisioner requires an external account binding "
		    "(RFC 8555 §7.3.4)");
	else if (rc != DV_OK)
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
	else if (strcmp(n.out.status, "valid") != 0)
		/* §7.3.6: a deactivated account is not found again */
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the account with this key "
		    "is deactivated");
	else {
		c->resp->status = n.created ? 201 : 200;
		c->resp->location = acme_url(c, "/account/", n.out.id);
		c->resp->json = acme_account_json(c, &n.out);
		if (n.created)
			log_msg(LOG_INFO, "acme.account", "{s:s,s:s,s:s?}",
			    "provisioner", c->provid, "account", n.out.id,
			    "eab", n.eab_kid);
	}
out:
	store_acme_account_clear(&n.out);
	free(a.id);
	free(jwk);
	free(ctext);
	free(kid);
	free(actor);
	free(detail);
	json_decref(d);
}

struct acct_upd {
	struct store_acme_account *a;
};

static enum dv_rc
acct_upd_tx(struct store_tx *tx, void *arg)
{
	struct acct_upd *u = arg;

	return store_acme_account_update(tx, u->a);
}

/* True if the request's account is the one of URL id. */
static bool
own_account(struct acme_ctx *c, const char *id)
{
	if (!c->has_acct || strcmp(c->acct.id, id) != 0) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the account is not the "
		    "signer's");
		return false;
	}
	return true;
}

void
acme_account_post(struct acme_ctx *c, const char *id)
{
	struct store_acme_account a;
	struct acct_upd u;
	const json_t *contact = NULL;
	const char *status = NULL;
	json_error_t err;
	char *ctext = NULL;
	bool change = false;

	if (!acme_verify(c, false) || !own_account(c, id) ||
	    !acme_payload(c, true))
		return;
	a = c->acct;
	if (c->payload != NULL) {
		if (json_unpack_ex(c->payload, &err, 0, "{s?o,s?s}",
		    "contact", &contact, "status", &status) != 0) {
			acme_fail(c, ACME_ERR_MALFORMED, "mistyped member in "
			    "the account update");
			return;
		}
		if (status != NULL && strcmp(status, "deactivated") != 0 &&
		    strcmp(status, "valid") != 0) {
			acme_fail(c, ACME_ERR_MALFORMED, "status may only be "
			    "set to deactivated (RFC 8555 §7.3.6)");
			return;
		}
		if (!contact_check(c, contact, &ctext))
			return;
		if (contact != NULL) {
			a.contact = ctext;
			change = true;
		}
		if (status != NULL && strcmp(status, "deactivated") == 0) {
			a.status = "deactivated";
			change = true;
		}
	}
	if (change) {
		u.a = &a;
		if (store_write(c->store, acct_upd_tx, &u) != DV_OK) {
			acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
			free(ctext);
			return;
		}
		if (strcmp(a.status, "deactivated") == 0) {
			log_msg(LOG_INFO, "acme.account.deactivated",
			    "{s:s,s:s}", "provisioner", c->provid, "account",
			    a.id);
			acme_key_forget(a.id);
		}
	}
	c->resp->json = acme_account_json(c, &a);
	c->resp->location = acme_url(c, "/account/", id);
	free(ctext);
}

struct orders_list {
	const char	*id;
	json_t		*ids;
};

static enum dv_rc
orders_tx(struct store_tx *tx, void *arg)
{
	struct orders_list *l = arg;

	return store_acme_order_list(tx, l->id, ACME_MAX_ORDERS_LIST, &l->ids);
}

void
acme_account_orders(struct acme_ctx *c, const char *id)
{
	struct orders_list l = { .id = id };
	json_t *urls, *e;
	size_t i;
	char *u;

	if (!acme_verify(c, false) || !own_account(c, id))
		return;
	if (store_read(c->store, orders_tx, &l) != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		return;
	}
	urls = json_array();
	json_array_foreach(l.ids, i, e) {
		u = acme_url(c, "/order/", json_string_value(e));
		json_array_append_new(urls, json_string(u));
		free(u);
	}
	json_decref(l.ids);
	c->resp->json = json_pack("{s:o}", "orders", urls);
}

struct key_change {
	struct store_acme_account *a;
	struct store_acme_account other;
	bool		 conflict;
};

static enum dv_rc
key_change_tx(struct store_tx *tx, void *arg)
{
	struct key_change *k = arg;
	enum dv_rc rc;

	rc = store_acme_account_find(tx, k->a->prov, k->a->thumbprint,
	    &k->other);
	if (rc == DV_OK) {
		k->conflict = true;
		return DV_OK;
	}
	if (rc != DV_ERR_NOT_FOUND)
		return rc;
	return store_acme_account_update(tx, k->a);
}

void
acme_key_change(struct acme_ctx *c)
{
	struct jws_flat *inner = NULL;
	struct store_acme_account a;
	struct key_change k;
	const char *iurl, *account = NULL;
	json_t *ijwk, *ipay = NULL, *old = NULL;
	json_error_t err;
	char *body = NULL, *want = NULL, *tp_new = NULL, *tp_old = NULL;
	char *jwk = NULL;

	memset(&k, 0, sizeof(k));
	if (!acme_verify(c, false) || !acme_payload(c, false))
		return;
	/* §7.3.5: the payload is a JWS signed by the new key */
	body = json_dumps(c->payload, JSON_COMPACT);
	if (jws_flat_parse((const uint8_t *)body, strlen(body), &inner) !=
	    DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "the keyChange payload is "
		    "not a flattened JWS");
		goto out;
	}
	iurl = json_get_str(inner->header, "url");
	ijwk = json_object_get(inner->header, "jwk");
	want = acme_url(c, "/key-change", NULL);
	if (!jws_alg_accepted(json_get_str(inner->header, "alg"))) {
		acme_fail(c, ACME_ERR_BAD_SIGNATURE_ALGORITHM, "the inner "
		    "JWS alg is not accepted");
		goto out;
	}
	if (iurl == NULL || strcmp(iurl, want) != 0 || ijwk == NULL ||
	    json_object_get(inner->header, "kid") != NULL ||
	    json_object_get(inner->header, "nonce") != NULL) {
		acme_fail(c, ACME_ERR_MALFORMED, "the inner JWS needs the "
		    "outer url, a jwk, no kid and no nonce (RFC 8555 §7.3.5)");
		goto out;
	}
	if (!json_is_object(ijwk) || jws_jwk_check(ijwk) != DV_OK ||
	    json_object_get(ijwk, "d") != NULL) {
		acme_fail(c, ACME_ERR_BAD_PUBLIC_KEY, "the new key is not an "
		    "accepted public key");
		goto out;
	}
	if (jws_flat_verify(inner, ijwk) != DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "the inner JWS signature "
		    "does not verify");
		goto out;
	}
	if (inner->payloadlen == 0 || json_parse_strict(inner->payload,
	    inner->payloadlen, DV_MAX_TOKEN, &ipay) != DV_OK ||
	    json_unpack_ex(ipay, &err, 0, "{s:s,s:o}", "account", &account,
	    "oldKey", &old) != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "the inner payload needs "
		    "account and oldKey");
		goto out;
	}
	free(want);
	want = acme_url(c, "/account/", c->acct.id);
	if (strcmp(account, want) != 0) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "account is not the "
		    "outer kid");
		goto out;
	}
	if (jws_jwk_thumbprint(old, &tp_old) != DV_OK ||
	    strcmp(tp_old, c->acct.thumbprint) != 0) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "oldKey is not the "
		    "account key");
		goto out;
	}
	if (jws_jwk_thumbprint(ijwk, &tp_new) != DV_OK) {
		acme_fail(c, ACME_ERR_BAD_PUBLIC_KEY, "no thumbprint");
		goto out;
	}
	a = c->acct;
	a.thumbprint = tp_new;
	{
		json_t *pub = jws_jwk_public(ijwk);

		jwk = json_dumps(pub, JSON_COMPACT | JSON_SORT_KEYS);
		json_decref(pub);
	}
	a.jwk = jwk;
	k.a = &a;
	if (store_write(c->store, key_change_tx, &k) != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (k.conflict) {
		acme_fail(c, ACME_ERR_CONFLICT, "the new key is another "
		    "account's");
		c->resp->location = acme_url(c, "/account/", k.other.id);
		goto out;
	}
	log_msg(LOG_INFO, "acme.account.key_change", "{s:s,s:s}",
	    "provisioner", c->provid, "account", a.id);
	acme_key_forget(a.id);
	c->resp->json = acme_account_json(c, &a);
	c->resp->location = acme_url(c, "/account/", a.id);
out:
	store_acme_account_clear(&k.other);
	jws_flat_free(inner);
	json_decref(ipay);
	free(body);
	free(want);
	free(tp_new);
	free(tp_old);
	free(jwk);
}
