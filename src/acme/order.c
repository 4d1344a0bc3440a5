/*
 * order.c - orders and authorizations (RFC 8555 §7.1.3, §7.1.4, §7.4,
 * §7.5): newOrder with the provisioner's name policy, order and
 * authorization resources, authorization deactivation (§7.5.2).
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

static json_t *
time_json(time_t t)
{
	char buf[40];

	time_format_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

const char *
acme_order_status(const struct store_acme_order *o, time_t now)
{
	if ((strcmp(o->status, "pending") == 0 ||
	    strcmp(o->status, "ready") == 0) && o->expires_at <= now)
		return "invalid";
	return o->status;
}

json_t *
acme_order_json(const struct acme_ctx *c, const struct store_acme_order *o,
    const struct store_acme_authz *z, size_t n)
{
	json_t *j = json_object(), *az = json_array(), *ids, *err;
	size_t i;
	char *u;

	json_object_set_new(j, "status", json_string(acme_order_status(o,
	    dv_now())));
	json_object_set_new(j, "expires", time_json(o->expires_at));
	ids = json_loads(o->identifiers, JSON_REJECT_DUPLICATES, NULL);
	json_object_set_new(j, "identifiers", ids != NULL ? ids :
	    json_array());
	json_object_set_new(j, "notBefore", time_json(o->not_before));
	json_object_set_new(j, "notAfter", time_json(o->not_after));
	for (i = 0; i < n; i++) {
		u = acme_url(c, "/authz/", z[i].id);
		json_array_append_new(az, json_string(u));
		free(u);
	}
	json_object_set_new(j, "authorizations", az);
	u = acme_url(c, "/order/", o->id);
	json_object_set_new(j, "finalize", json_pack("s+", u, "/finalize"));
	free(u);
	if (o->replaces != NULL)
		json_object_set_new(j, "replaces", json_string(o->replaces));
	if (o->cert_serial != NULL && strcmp(o->status, "valid") == 0) {
		u = acme_url(c, "/cert/", o->id);
		json_object_set_new(j, "certificate", json_string(u));
		free(u);
	}
	if (o->error != NULL && (err = json_loads(o->error,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL)
		json_object_set_new(j, "error", err);
	return j;
}

/* ---- newOrder ------------------------------------------------------- */

struct new_order {
	struct store_acme_order o;
	struct store_acme_authz z[ACME_MAX_IDENTIFIERS];
	struct store_acme_chall ch[ACME_MAX_IDENTIFIERS][ACME_CH__MAX];
	size_t		 nch[ACME_MAX_IDENTIFIERS];
	size_t		 n;
	bool		 replaced;	/* out: alreadyReplaced */
};

static enum dv_rc
new_order_tx(struct store_tx *tx, void *arg)
{
	struct new_order *no = arg;
	size_t i, k;
	enum dv_rc rc;

	if ((rc = acme_replaces_tx(tx, &no->o, &no->replaced)) != DV_OK ||
	    (rc = store_acme_order_insert(tx, &no->o)) != DV_OK)
		return rc;
	for (i = 0; i < no->n; i++) {
		if ((rc = store_acme_authz_insert(tx, &no->z[i])) != DV_OK)
			return rc;
		for (k = 0; k < no->nch[i]; k++)
			if ((rc = store_acme_chall_insert(tx, &no->ch[i][k]))
			    != DV_OK)
				return rc;
	}
	return DV_OK;
}

static void
new_order_free(struct new_order *no)
{
	size_t i, k;

	for (i = 0; i < no->n; i++) {
		free(no->z[i].id);
		free(no->z[i].ident_value);
		for (k = 0; k < no->nch[i]; k++) {
			free(no->ch[i][k].id);
			free(no->ch[i][k].token);
		}
	}
	free(no->o.id);
	free(no->o.identifiers);
	free(no->o.replaces);
}

/* Checks one identifier and adds it to sans; false with the problem
 * set. */
static bool
ident_check(struct acme_ctx *c, const json_t *e, struct pki_sans *sans,
    bool *wildcard)
{
	const char *type = NULL, *value = NULL;
	json_error_t err;

	*wildcard = false;
	if (json_unpack_ex((json_t *)e, &err, JSON_STRICT, "{s:s,s:s}",
	    "type", &type, "value", &value) != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "an identifier is not "
		    "{type, value}");
		return false;
	}
	if (strcmp(type, "dns") == 0) {
		/* §7.1.3: a wildcard is authorized for its base name, by
		 * dns-01 only (http-01 and tls-alpn-01 cannot prove it) */
		if (strncmp(value, "*.", 2) == 0) {
			*wildcard = true;
			if (!c->cfg.chall[ACME_CH_DNS01]) {
				acme_fail(c, ACME_ERR_REJECTED_IDENTIFIER,
				    "wildcard names need dns-01, which this "
				    "provisioner does not offer");
				return false;
			}
		}
		if (pki_sans_add(sans, PKI_SAN_DNS, value) != DV_OK) {
			acme_fail(c, ACME_ERR_REJECTED_IDENTIFIER, "a dns "
			    "identifier is not a valid name");
			return false;
		}
	} else if (strcmp(type, "ip") == 0) {
		if (pki_sans_add(sans, PKI_SAN_IP, value) != DV_OK) {
			acme_fail(c, ACME_ERR_REJECTED_IDENTIFIER, "an ip "
			    "identifier is not an address (RFC 8738)");
			return false;
		}
	} else {
		acme_fail(c, ACME_ERR_UNSUPPORTED_IDENTIFIER, "identifier "
		    "types are dns and ip");
		return false;
	}
	return true;
}

void
acme_order_new(struct acme_ctx *c)
{
	struct new_order *no = NULL;
	struct pki_sans sans = { 0 };
	const struct prov_claims *cl = prov_get_claims(c->prov);
	const json_t *ids = NULL, *e;
	const char *nb = NULL, *na = NULL, *replaces = NULL;
	json_t *norm = NULL;
	json_error_t err;
	time_t now = dv_now(), tnb, tna;
	size_t i, k;
	bool wc;

	if (!acme_verify(c, false) || !acme_payload(c, false))
		return;
	if (json_unpack_ex(c->payload, &err, 0, "{s:o,s?s,s?s,s?s}",
	    "identifiers", &ids, "notBefore", &nb, "notAfter", &na,
	    "replaces", &replaces) != 0 ||
	    !json_is_array(ids) || json_array_size(ids) == 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "newOrder needs a non-empty "
		    "identifiers array");
		return;
	}
	if (json_array_size(ids) > ACME_MAX_IDENTIFIERS) {
		acme_fail(c, ACME_ERR_REJECTED_IDENTIFIER, "too many "
		    "identifiers in one order");
		return;
	}
	if (acme_attest_order_has_device(ids)) {
		/* device-attest-01: validity from the claims only */
		acme_attest_order_new(c, ids, replaces, now - 60, now +
		    cl->default_dur);
		goto out;
	}
	json_array_foreach(ids, i, e)
		if (!ident_check(c, e, &sans, &wc))
			goto out;
	if (prov_policy_check(c->prov, NULL, &sans) != DV_OK) {
		acme_fail(c, ACME_ERR_REJECTED_IDENTIFIER, "an identifier is "
		    "not allowed by the provisioner's policy");
		goto out;
	}
	/* validity: the claims' default, or what the client asks within
	 * min/max (§7.4 notBefore/notAfter) */
	tnb = now - 60;
	tna = now + cl->default_dur;
	if ((nb != NULL && time_parse_rfc3339(nb, &tnb) != DV_OK) ||
	    (na != NULL && time_parse_rfc3339(na, &tna) != DV_OK)) {
		acme_fail(c, ACME_ERR_MALFORMED, "notBefore/notAfter are not "
		    "RFC 3339 times");
		goto out;
	}
	if (nb != NULL && na == NULL)
		tna = tnb + cl->default_dur;
	/* the backdated minute does not count against max */
	if (tna <= tnb || tna - (tnb > now ? tnb : now) > cl->max_dur ||
	    tna - tnb < cl->min_dur || tna <= now) {
		acme_fail(c, ACME_ERR_MALFORMED, "the requested validity is "
		    "outside the provisioner's claims");
		goto out;
	}

	no = xcalloc(1, sizeof(*no));
	norm = json_array();
	for (i = 0; i < sans.n; i++)
		json_array_append_new(norm, json_pack("{s:s,s:s}", "type",
		    sans.v[i].type == PKI_SAN_IP ? "ip" : "dns", "value",
		    sans.v[i].value));
	if (replaces != NULL && !acme_replaces_check(c, replaces, norm))
		goto out;
	no->o.replaces = replaces != NULL ? xstrdup(replaces) : NULL;
	no->o.id = acme_id_new();
	no->o.prov = c->provid;
	no->o.account_id = c->acct.id;
	no->o.status = "pending";
	no->o.identifiers = json_dumps(norm, JSON_COMPACT);
	no->o.not_before = tnb;
	no->o.not_after = tna;
	no->o.expires_at = now + ACME_ORDER_LIFETIME;
	no->o.created_at = now;
	no->n = sans.n;
	for (i = 0; i < sans.n; i++) {
		struct store_acme_authz *z = &no->z[i];

		z->id = acme_id_new();
		z->order_id = no->o.id;
		z->account_id = c->acct.id;
		z->ident_type = sans.v[i].type == PKI_SAN_IP ? "ip" : "dns";
		/* §7.1.4: a wildcard's authorization names the base domain
		 * and says "wildcard": true */
		z->wildcard = sans.v[i].type == PKI_SAN_DNS &&
		    strncmp(sans.v[i].value, "*.", 2) == 0;
		z->ident_value = xstrdup(sans.v[i].value + (z->wildcard ? 2 :
		    0));
		z->status = "pending";
		z->expires_at = no->o.expires_at;
		z->idx = (int)i;
		for (k = 0; k < ACME_CH__MAX; k++) {
			struct store_acme_chall *ch;

			/* the challenge types that fit a dns/ip name */
			if (!c->cfg.chall[k] || (k != ACME_CH_HTTP01 &&
			    k != ACME_CH_DNS01 && k != ACME_CH_TLSALPN01) ||
			    (z->wildcard && k != ACME_CH_DNS01))
				continue;
			ch = &no->ch[i][no->nch[i]];
			ch->id = acme_id_new();
			ch->authz_id = z->id;
			ch->type = (char *)acme_ch_names[k];
			ch->token = acme_id_new();
			ch->status = "pending";
			ch->idx = (int)no->nch[i]++;
		}
	}
	/* lazy: a crash may lose a new order, never a part of one */
	if (store_write_lazy(c->store, new_order_tx, no) != DV_OK) {
		if (no->replaced)
			acme_fail(c, ACME_ERR_ALREADY_REPLACED, "another order "
			    "already replaces this certificate (RFC 9773 §5)");
		else
			acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	log_msg(LOG_INFO, "acme.order", "{s:s,s:s,s:s}", "provisioner",
	    c->provid, "account", c->acct.id, "order", no->o.id);
	c->resp->status = 201;
	c->resp->location = acme_url(c, "/order/", no->o.id);
	c->resp->json = acme_order_json(c, &no->o, no->z, no->n);
out:
	if (no != NULL)
		new_order_free(no);
	free(no);
	json_decref(norm);
	pki_sans_clear(&sans);
}

/* ---- order and authorization resources ------------------------------ */

struct order_load {
	const char	*id;
	struct store_acme_order *o;
	struct store_acme_authz **z;
	size_t		*n;
};

static enum dv_rc
order_load_tx(struct store_tx *tx, void *arg)
{
	struct order_load *l = arg;
	enum dv_rc rc;

	if ((rc = store_acme_order_get(tx, l->id, l->o)) != DV_OK)
		return rc;
	return store_acme_authz_list(tx, l->id, l->z, l->n);
}

enum dv_rc
acme_order_load(struct store *s, const char *id, struct store_acme_order *o,
    struct store_acme_authz **z, size_t *n)
{
	struct order_load l = { id, o, z, n };
	enum dv_rc rc;

	memset(o, 0, sizeof(*o));
	*z = NULL;
	*n = 0;
	if ((rc = store_read(s, order_load_tx, &l)) != DV_OK)
		store_acme_order_clear(o);
	return rc;
}

void
acme_order_get(struct acme_ctx *c, const char *id)
{
	struct store_acme_order o;
	struct store_acme_authz *z = NULL;
	size_t n = 0;
	enum dv_rc rc;

	if (!acme_verify(c, false) || !acme_payload(c, true))
		return;
	rc = acme_order_load(c->store, id, &o, &z, &n);
	if (rc == DV_OK && strcmp(o.account_id, c->acct.id) != 0)
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_ERR_NOT_FOUND)
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such order");
	else if (rc != DV_OK)
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
	else {
		c->resp->json = acme_order_json(c, &o, z, n);
		if (strcmp(o.status, "processing") == 0)
			c->resp->retry_after = ACME_RETRY_AFTER;
	}
	store_acme_order_clear(&o);
	store_acme_authzs_free(z, n);
}

struct authz_op {
	const char	*id;
	const char	*account;
	bool		 deactivate;
	struct store_acme_authz z;
	struct store_acme_chall *ch;
	size_t		 nch;
};

static enum dv_rc
authz_tx(struct store_tx *tx, void *arg)
{
	struct authz_op *a = arg;
	struct store_acme_order o;
	enum dv_rc rc;

	if ((rc = store_acme_authz_get(tx, a->id, &a->z)) != DV_OK)
		return rc;
	if (strcmp(a->z.account_id, a->account) != 0)
		return DV_ERR_NOT_FOUND;
	if (a->deactivate) {
		/* §7.5.2: only a pending or valid authorization */
		if (strcmp(a->z.status, "pending") != 0 &&
		    strcmp(a->z.status, "valid") != 0)
			return DV_ERR_FORBIDDEN;
		free(a->z.status);
		a->z.status = xstrdup("deactivated");
		if ((rc = store_acme_authz_update(tx, &a->z)) != DV_OK)
			return rc;
		/* its order can no longer be finalized */
		if ((rc = store_acme_order_get(tx, a->z.order_id, &o)) !=
		    DV_OK)
			return rc;
		if (strcmp(o.status, "pending") == 0 ||
		    strcmp(o.status, "ready") == 0) {
			free(o.status);
			o.status = xstrdup("invalid");
			rc = store_acme_order_update(tx, &o);
		}
		store_acme_order_clear(&o);
		if (rc != DV_OK)
			return rc;
	}
	return store_acme_chall_list(tx, a->id, &a->ch, &a->nch);
}

void
acme_authz_post(struct acme_ctx *c, const char *id)
{
	struct authz_op a;
	const char *status = NULL;
	json_error_t err;
	json_t *j, *chs;
	size_t i;
	enum dv_rc rc;

	memset(&a, 0, sizeof(a));
	if (!acme_verify(c, false) || !acme_payload(c, true))
		return;
	if (c->payload != NULL) {
		if (json_unpack_ex(c->payload, &err, 0, "{s:s}", "status",
		    &status) != 0 || strcmp(status, "deactivated") != 0) {
			acme_fail(c, ACME_ERR_MALFORMED, "an authorization "
			    "may only be deactivated (RFC 8555 §7.5.2)");
			return;
		}
		a.deactivate = true;
	}
	a.id = id;
	a.account = c->acct.id;
	rc = a.deactivate ? store_write(c->store, authz_tx, &a) :
	    store_read(c->store, authz_tx, &a);
	if (rc == DV_ERR_NOT_FOUND)
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such authorization");
	else if (rc == DV_ERR_FORBIDDEN)
		acme_fail(c, ACME_ERR_MALFORMED, "the authorization cannot be "
		    "deactivated in its state");
	else if (rc != DV_OK)
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
	else {
		j = json_object();
		json_object_set_new(j, "identifier", json_pack("{s:s,s:s}",
		    "type", a.z.ident_type, "value", a.z.ident_value));
		json_object_set_new(j, "status", json_string(
		    strcmp(a.z.status, "pending") == 0 && a.z.expires_at <=
		    dv_now() ? "expired" : a.z.status));
		json_object_set_new(j, "expires", time_json(a.z.expires_at));
		chs = json_array();
		for (i = 0; i < a.nch; i++)
			json_array_append_new(chs, acme_chall_json(c,
			    &a.ch[i]));
		json_object_set_new(j, "challenges", chs);
		if (a.z.wildcard)
			json_object_set_new(j, "wildcard", json_true());
		c->resp->json = j;
	}
	store_acme_authz_clear(&a.z);
	store_acme_challs_free(a.ch, a.nch);
}
