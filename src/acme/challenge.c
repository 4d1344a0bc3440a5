/*
 * challenge.c - challenge resources (RFC 8555 §7.5.1, §8): the client's
 * POST starts a validation that a validator thread runs; its outcome
 * moves the challenge, the authorization and the order in one
 * transaction.  The validators are chosen by type in validators[]; a new
 * type (dns-01, tls-alpn-01, device-attest-01) adds its entry there.
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

/* Which challenge types have a validator thread (others are refused by
 * acme_cfg_load until they do). */
static const bool validators[ACME_CH__MAX] = {
	[ACME_CH_HTTP01] = true,
	[ACME_CH_DNS01] = true,
	[ACME_CH_TLSALPN01] = true,
};

json_t *
acme_chall_json(const struct acme_ctx *c, const struct store_acme_chall *ch)
{
	json_t *j = json_object(), *err;
	char buf[40], *u;

	json_object_set_new(j, "type", json_string(ch->type));
	u = acme_url(c, "/chall/", ch->id);
	json_object_set_new(j, "url", json_string(u));
	free(u);
	json_object_set_new(j, "status", json_string(ch->status));
	json_object_set_new(j, "token", json_string(ch->token));
	if (ch->validated_at != 0) {
		time_format_rfc3339(ch->validated_at, buf, sizeof(buf));
		json_object_set_new(j, "validated", json_string(buf));
	}
	if (ch->error != NULL && (err = json_loads(ch->error,
	    JSON_REJECT_DUPLICATES, NULL)) != NULL)
		json_object_set_new(j, "error", err);
	return j;
}

static enum acme_ch
ch_type(const char *name)
{
	size_t k;

	for (k = 0; k < ACME_CH__MAX; k++)
		if (strcmp(name, acme_ch_names[k]) == 0)
			return (enum acme_ch)k;
	return ACME_CH__MAX;
}

struct chall_op {
	const char	*id;
	const char	*account;
	bool		 start;
	struct store_acme_chall ch;
	struct store_acme_authz z;
	bool		 started;
};

static enum dv_rc
chall_tx(struct store_tx *tx, void *arg)
{
	struct chall_op *op = arg;
	enum dv_rc rc;

	if ((rc = store_acme_chall_get(tx, op->id, &op->ch)) != DV_OK)
		return rc;
	if ((rc = store_acme_authz_get(tx, op->ch.authz_id, &op->z)) != DV_OK)
		return rc;
	if (strcmp(op->z.account_id, op->account) != 0)
		return DV_ERR_NOT_FOUND;
	/* §7.5.1: a POST to a pending challenge of a pending authorization
	 * starts it; otherwise the current state is returned */
	if (!op->start || strcmp(op->ch.status, "pending") != 0 ||
	    strcmp(op->z.status, "pending") != 0 || op->z.expires_at <=
	    dv_now())
		return DV_OK;
	free(op->ch.status);
	op->ch.status = xstrdup("processing");
	if ((rc = store_acme_chall_update(tx, &op->ch)) != DV_OK)
		return rc;
	op->started = true;
	return DV_OK;
}

/* The address to connect to instead of resolving ident (tests). */
static const char *
resolve_for(const struct acme_cfg *cfg, const char *ident)
{
	const char *s;

	if (cfg->resolve == NULL)
		return NULL;
	if ((s = json_get_str(cfg->resolve, ident)) != NULL)
		return s;
	return json_get_str(cfg->resolve, "*");
}

void
acme_chall_post(struct acme_ctx *c, const char *id)
{
	struct chall_op op;
	struct acme_job *job;
	const char *ip;
	enum acme_ch t;
	json_t *err;
	char *u;
	enum dv_rc rc;

	memset(&op, 0, sizeof(op));
	if (!acme_verify(c, false) || !acme_payload(c, true))
		return;
	op.id = id;
	op.account = c->acct.id;
	op.start = c->payload != NULL;
	/* lazy: a start lost in a crash leaves the challenge pending */
	rc = op.start ? store_write_lazy(c->store, chall_tx, &op) :
	    store_read(c->store, chall_tx, &op);
	if (rc == DV_ERR_NOT_FOUND) {
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such challenge");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (op.started) {
		t = ch_type(op.ch.type);
		if (t == ACME_CH_DEVICE_ATTEST01)
			/* no network I/O: validated in the request */
			acme_attest_validate(c, &op.z, &op.ch);
		else if (t == ACME_CH__MAX || !validators[t]) {
			/* configured types all have validators: a stored row
			 * of a type since removed */
			err = acme_problem_json(ACME_ERR_SERVER_INTERNAL,
			    "this challenge type is no longer offered");
			(void)acme_chall_result(c->store, op.ch.id, false,
			    err);
			json_decref(err);
		} else {
			job = xcalloc(1, sizeof(*job));
			job->store = c->store;
			job->chall_id = xstrdup(op.ch.id);
			job->ident = xstrdup(op.z.ident_value);
			job->token = xstrdup(op.ch.token);
			job->key_auth = xasprintf("%s.%s", op.ch.token,
			    c->thumbprint);
			ip = resolve_for(&c->cfg, op.z.ident_value);
			job->connect_ip = ip != NULL ? xstrdup(ip) : NULL;
			job->port = t == ACME_CH_TLSALPN01 ?
			    c->cfg.tlsalpn_port : c->cfg.http_port;
			job->resolver_set = c->cfg.dns_resolver_set;
			job->resolver = c->cfg.dns_resolver;
			job->type = t;
			if (acme_job_submit(job) != DV_OK) {
				err = acme_problem_json(
				    ACME_ERR_SERVER_INTERNAL, "the validation "
				    "queue is full");
				(void)acme_chall_result(c->store, op.ch.id,
				    false, err);
				json_decref(err);
			}
		}
	}
	c->resp->json = acme_chall_json(c, &op.ch);
	if (strcmp(op.ch.status, "processing") == 0)
		c->resp->retry_after = ACME_RETRY_AFTER;
	u = acme_url(c, "/authz/", op.z.id);
	c->resp->links[c->resp->nlinks++] = xasprintf("<%s>;rel=\"up\"", u);
	free(u);
out:
	store_acme_chall_clear(&op.ch);
	store_acme_authz_clear(&op.z);
}

struct result_op {
	const char	*id;
	bool		 ok;
	char		*error;
};

static enum dv_rc
result_tx(struct store_tx *tx, void *arg)
{
	struct result_op *r = arg;
	struct store_acme_chall ch;
	struct store_acme_authz z, *all = NULL;
	struct store_acme_order o;
	size_t n = 0, i, valid = 0;
	enum dv_rc rc;

	memset(&z, 0, sizeof(z));
	memset(&o, 0, sizeof(o));
	if ((rc = store_acme_chall_get(tx, r->id, &ch)) != DV_OK)
		return rc;
	if (strcmp(ch.status, "processing") != 0)
		goto out;
	free(ch.status);
	ch.status = xstrdup(r->ok ? "valid" : "invalid");
	ch.validated_at = r->ok ? dv_now() : 0;
	ch.error = r->error != NULL ? xstrdup(r->error) : NULL;
	if ((rc = store_acme_chall_update(tx, &ch)) != DV_OK ||
	    (rc = store_acme_authz_get(tx, ch.authz_id, &z)) != DV_OK)
		goto out;
	if (strcmp(z.status, "pending") != 0)
		goto out;
	free(z.status);
	z.status = xstrdup(r->ok ? "valid" : "invalid");
	if ((rc = store_acme_authz_update(tx, &z)) != DV_OK ||
	    (rc = store_acme_order_get(tx, z.order_id, &o)) != DV_OK ||
	    (rc = store_acme_authz_list(tx, z.order_id, &all, &n)) != DV_OK)
		goto out;
	if (strcmp(o.status, "pending") != 0)
		goto out;
	for (i = 0; i < n; i++)
		if (strcmp(all[i].status, "valid") == 0)
			valid++;
	free(o.status);
	o.status = NULL;
	if (!r->ok) {
		/* §7.1.6: an invalid authorization makes the order invalid */
		o.status = xstrdup("invalid");
		free(o.error);
		o.error = r->error != NULL ? xstrdup(r->error) : NULL;
	} else if (valid == n)
		o.status = xstrdup("ready");
	if (o.status != NULL)
		rc = store_acme_order_update(tx, &o);
out:
	store_acme_chall_clear(&ch);
	store_acme_authz_clear(&z);
	store_acme_order_clear(&o);
	store_acme_authzs_free(all, n);
	return rc;
}

enum dv_rc
acme_chall_result(struct store *s, const char *chall_id, bool ok,
    const json_t *error)
{
	struct result_op r = { .id = chall_id, .ok = ok };
	enum dv_rc rc;

	if (error != NULL)
		r.error = json_dumps(error, JSON_COMPACT);
	/* lazy: transactional; the certificate finalize stores later is
	 * durable and carries this commit to the disk with it */
	rc = store_write_lazy(s, result_tx, &r);
	free(r.error);
	return rc;
}
