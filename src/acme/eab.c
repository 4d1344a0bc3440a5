/*
 * eab.c - external account binding (RFC 8555 §7.3.4): the keys an admin
 * creates for an ACME provisioner (the admin API's acme-eab-keys), and the
 * check of the "externalAccountBinding" JWS of a newAccount.  The binding
 * itself is written by account.c in the newAccount transaction.
 *
 * The server keeps the HMAC key (a MAC cannot be checked against a hash of
 * its key); it leaves the server once, in the answer to its creation, and
 * is never logged.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "acme_int.h"

/* ---- admin side ---------------------------------------------------- */

/* The ACME provisioner named by (team, authority, name), or NULL. */
static struct prov *
eab_prov(struct ca *ca, const char *team, const char *authority,
    const char *name, struct ca_authority **auth)
{
	struct prov *p;

	*auth = NULL;
	if (authority == NULL || name == NULL ||
	    (*auth = ca_find(ca, team, authority)) == NULL ||
	    (p = prov_set_find((*auth)->provs, name)) == NULL ||
	    prov_get_type(p) != PROV_ACME)
		return NULL;
	return p;
}

/* The admin API's view of k (no HMAC key). */
static json_t *
eab_json(const struct store_acme_eab *k)
{
	const char *a, *p;
	char ts[40];
	json_t *j;

	/* prov is "team/authority/provisioner" */
	a = strchr(k->prov, '/');
	a = a != NULL ? a + 1 : k->prov;
	p = strchr(a, '/');
	j = json_pack("{s:s,s:s%,s:s}", "id", k->id, "authority", a,
	    p != NULL ? (size_t)(p - a) : strlen(a), "provisioner",
	    p != NULL ? p + 1 : "");
	if (k->reference != NULL)
		json_object_set_new(j, "reference", json_string(k->reference));
	time_format_rfc3339(k->created_at, ts, sizeof(ts));
	json_object_set_new(j, "createdAt", json_string(ts));
	if (k->account_id != NULL) {
		json_object_set_new(j, "account", json_string(k->account_id));
		time_format_rfc3339(k->bound_at, ts, sizeof(ts));
		json_object_set_new(j, "boundAt", json_string(ts));
	}
	return j;
}

struct eab_write {
	const struct store_acme_eab *k;	/* create */
	const char	*team;		/* delete */
	const char	*id;		/* delete */
	const struct store_audit *audit;
};

static enum dv_rc
eab_create_tx(struct store_tx *tx, void *arg)
{
	struct eab_write *w = arg;
	enum dv_rc rc;

	if ((rc = store_acme_eab_insert(tx, w->k)) != DV_OK)
		return rc;
	return store_tx_audit(tx, w->audit);
}

enum dv_rc
acme_eab_create(struct ca *ca, const char *team, const json_t *body,
    const char *actor, const char *request_id, json_t **out,
    const char **detail)
{
	struct ca_authority *auth;
	struct store_acme_eab k;
	struct store_audit audit;
	struct eab_write w;
	const char *authority = "agent", *name = NULL, *ref = NULL;
	uint8_t key[ACME_EAB_KEY_LEN];
	json_error_t err;
	json_t *d = NULL;
	char *det = NULL, *hmac = NULL, *rnd = NULL;
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	memset(&k, 0, sizeof(k));
	if (json_unpack_ex((json_t *)body, &err, JSON_STRICT, "{s?s,s:s,s?s}",
	    "authority", &authority, "provisioner", &name, "reference", &ref)
	    != 0) {
		*detail = "the body is {\"provisioner\", \"authority\", "
		    "\"reference\"} (strings; provisioner required)";
		return DV_ERR_MALFORMED;
	}
	if (ref != NULL && (strlen(ref) == 0 || strlen(ref) >
	    ACME_EAB_MAX_REFERENCE || !str_printable(ref, strlen(ref)))) {
		*detail = "reference is 1 to 256 printable characters";
		return DV_ERR_MALFORMED;
	}
	if (eab_prov(ca, team, authority, name, &auth) == NULL) {
		*detail = "no such ACME provisioner in this team";
		return DV_ERR_NOT_FOUND;
	}
	/*
	 * A base64url text that starts with '-' is taken for an option by
	 * command lines (certbot's --eab-hmac-key, --eab-kid): a key whose
	 * first 6 bits encode '-' (62) or '_' (63) is drawn again (1 in 32
	 * keys; the key keeps 255.9 bits of entropy), and the id gets a
	 * prefix.
	 */
	do {
		if ((rc = pki_random(key, sizeof(key))) != DV_OK)
			return rc;
	} while ((key[0] >> 2) >= 62);
	rnd = acme_id_new();
	k.id = xasprintf("eab_%s", rnd);
	k.team = (char *)team;
	k.prov = xasprintf("%s/%s", auth->id, name);
	k.reference = (char *)ref;
	k.hmac_key = key;
	k.hmac_key_len = sizeof(key);
	k.created_at = dv_now();
	d = json_pack("{s:s}", "provisioner", k.prov);
	if (ref != NULL)
		json_object_set_new(d, "reference", json_string(ref));
	det = json_dumps(d, JSON_COMPACT);
	memset(&audit, 0, sizeof(audit));
	audit.team = team;
	audit.actor = actor;
	audit.action = "acme.eab.create";
	audit.object = k.id;
	audit.request_id = request_id;
	audit.detail = det;
	w.k = &k;
	w.audit = &audit;
	if ((rc = store_write(ca->store, eab_create_tx, &w)) != DV_OK)
		goto out;
	log_msg(LOG_INFO, "acme.eab.create", "{s:s,s:s}", "provisioner",
	    k.prov, "kid", k.id);
	*out = eab_json(&k);
	/* the only time the HMAC key leaves the server */
	hmac = jws_b64url_encode(key, sizeof(key));
	json_object_set_new(*out, "hmacKey", json_string(hmac));
out:
	if (hmac != NULL)
		OPENSSL_cleanse(hmac, strlen(hmac));
	free(hmac);
	OPENSSL_cleanse(key, sizeof(key));
	free(rnd);
	free(k.id);
	free(k.prov);
	free(det);
	json_decref(d);
	return rc;
}

struct eab_list {
	const char	*team;
	const char	*prov;
	struct store_acme_eab *v;
	size_t		 n;
};

static enum dv_rc
eab_list_tx(struct store_tx *tx, void *arg)
{
	struct eab_list *l = arg;

	return store_acme_eab_list(tx, l->team, l->prov, ACME_EAB_MAX_LIST,
	    &l->v, &l->n);
}

enum dv_rc
acme_eab_list(struct ca *ca, const char *team, const char *authority,
    const char *name, json_t **out, const char **detail)
{
	struct ca_authority *auth;
	struct eab_list l;
	char *prov = NULL;
	json_t *keys;
	size_t i;
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	memset(&l, 0, sizeof(l));
	if (name != NULL) {
		if (eab_prov(ca, team, authority != NULL ? authority : "agent",
		    name, &auth) == NULL) {
			*detail = "no such ACME provisioner in this team";
			return DV_ERR_NOT_FOUND;
		}
		prov = xasprintf("%s/%s", auth->id, name);
	} else if (authority != NULL) {
		*detail = "authority filters only with provisioner";
		return DV_ERR_MALFORMED;
	}
	l.team = team;
	l.prov = prov;
	if ((rc = store_read(ca->store, eab_list_tx, &l)) == DV_OK) {
		keys = json_array();
		for (i = 0; i < l.n; i++)
			json_array_append_new(keys, eab_json(&l.v[i]));
		*out = json_pack("{s:o}", "keys", keys);
	}
	store_acme_eabs_free(l.v, l.n);
	free(prov);
	return rc;
}

static enum dv_rc
eab_delete_tx(struct store_tx *tx, void *arg)
{
	struct eab_write *w = arg;
	enum dv_rc rc;

	if ((rc = store_acme_eab_delete(tx, w->team, w->id)) != DV_OK)
		return rc;
	return store_tx_audit(tx, w->audit);
}

enum dv_rc
acme_eab_delete(struct ca *ca, const char *team, const char *id,
    const char *actor, const char *request_id)
{
	struct store_audit audit;
	struct eab_write w;

	memset(&audit, 0, sizeof(audit));
	audit.team = team;
	audit.actor = actor;
	audit.action = "acme.eab.delete";
	audit.object = id;
	audit.request_id = request_id;
	memset(&w, 0, sizeof(w));
	w.team = team;
	w.id = id;
	w.audit = &audit;
	return store_write(ca->store, eab_delete_tx, &w);
}

/* ---- newAccount side ------------------------------------------------ */

struct eab_get {
	const char	*id;
	struct store_acme_eab k;
};

static enum dv_rc
eab_get_tx(struct store_tx *tx, void *arg)
{
	struct eab_get *g = arg;

	return store_acme_eab_get(tx, g->id, &g->k);
}

bool
acme_eab_check(struct acme_ctx *c, const json_t *eab, char **kid)
{
	struct jws_flat *f = NULL;
	struct eab_get g;
	const char *alg, *url, *id;
	json_t *pay = NULL;
	char *body = NULL, *want = NULL, *tp = NULL;
	bool ok = false;
	enum dv_rc rc;

	*kid = NULL;
	memset(&g, 0, sizeof(g));
	/* the outer JWS was bounded by DV_MAX_TOKEN: so is this member */
	if (!json_is_object(eab) || (body = json_dumps(eab, JSON_COMPACT)) ==
	    NULL || jws_flat_parse((const uint8_t *)body, strlen(body), &f) !=
	    DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "externalAccountBinding is "
		    "not a flattened JWS (RFC 8555 §7.3.4)");
		goto out;
	}
	alg = json_get_str(f->header, "alg");
	url = json_get_str(f->header, "url");
	id = json_get_str(f->header, "kid");
	want = acme_url(c, "/new-account", NULL);
	if (strcmp(alg, "HS256") != 0 && strcmp(alg, "HS384") != 0 &&
	    strcmp(alg, "HS512") != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "the binding's alg must be "
		    "HS256, HS384 or HS512 (RFC 8555 §7.3.4)");
		goto out;
	}
	if (id == NULL || strlen(id) == 0 || strlen(id) > 64 || url == NULL ||
	    strcmp(url, want) != 0 ||
	    json_object_get(f->header, "nonce") != NULL ||
	    json_object_get(f->header, "jwk") != NULL) {
		acme_fail(c, ACME_ERR_MALFORMED, "the binding's header needs "
		    "kid and the newAccount url, and no nonce (RFC 8555 "
		    "§7.3.4)");
		goto out;
	}
	/* the payload is the account key: compared as RFC 7638 thumbprints */
	if (f->payloadlen == 0 || json_parse_strict(f->payload, f->payloadlen,
	    DV_MAX_TOKEN, &pay) != DV_OK || jws_jwk_check(pay) != DV_OK ||
	    json_object_get(pay, "d") != NULL ||
	    jws_jwk_thumbprint(pay, &tp) != DV_OK ||
	    strcmp(tp, c->thumbprint) != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "the binding's payload is not "
		    "the account key (RFC 8555 §7.3.4)");
		goto out;
	}
	g.id = id;
	rc = store_read(c->store, eab_get_tx, &g);
	if (rc == DV_OK && strcmp(g.k.prov, c->provid) != 0)
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_ERR_NOT_FOUND) {
		log_msg(LOG_INFO, "acme.eab.refused", "{s:s,s:s}",
		    "provisioner", c->provid, "reason", "unknown key id");
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the external account "
		    "key is unknown or does not verify");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (jws_flat_verify_hmac(f, g.k.hmac_key, g.k.hmac_key_len) !=
	    DV_OK) {
		log_msg(LOG_INFO, "acme.eab.refused", "{s:s,s:s,s:s}",
		    "provisioner", c->provid, "kid", g.k.id, "reason",
		    "RFC 8555 §7.3.4: the MAC does not verify");
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the external account "
		    "key is unknown or does not verify");
		goto out;
	}
	/* a key bound already is refused by the bind in the newAccount
	 * transaction, unless the account of this key exists (then it is
	 * returned, as without a binding) */
	*kid = xstrdup(g.k.id);
	ok = true;
out:
	store_acme_eab_clear(&g.k);
	jws_flat_free(f);
	json_decref(pay);
	free(body);
	free(want);
	free(tp);
	return ok;
}
