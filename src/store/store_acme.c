/*
 * store_acme.c - the typed operations of the ACME server (store.h, ACME
 * section; schema: migration 4 in store.c).
 *
 * Every row is written by the committer inside the batch transaction
 * (store_write), so that the acme module's read-check-update sequences
 * are atomic across threads and nodes.  A nonce is a row of the volatile
 * database (store_write_volatile) deleted by the request that uses it: the
 * DELETE ... RETURNING alone decides whether it was still there.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

/* Statement slots of store_tx_run: this file holds those from 64 up. */
#define ACME_Q_BASE	64

enum acme_q {
	ACME_Q_NONCE_PURGE,
	ACME_Q_NONCE_INSERT,
	ACME_Q_NONCE_TAKE,
	ACME_Q_ACCT_INSERT,
	ACME_Q_ACCT_GET,
	ACME_Q_ACCT_FIND,
	ACME_Q_ACCT_UPDATE,
	ACME_Q_ORDER_INSERT,
	ACME_Q_ORDER_GET,
	ACME_Q_ORDER_UPDATE,
	ACME_Q_ORDER_LIST,
	ACME_Q_ORDER_BY_CERT,
	ACME_Q_AUTHZ_INSERT,
	ACME_Q_AUTHZ_GET,
	ACME_Q_AUTHZ_UPDATE,
	ACME_Q_AUTHZ_LIST,
	ACME_Q_CHALL_INSERT,
	ACME_Q_CHALL_GET,
	ACME_Q_CHALL_UPDATE,
	ACME_Q_CHALL_LIST,
	ACME_Q_ORDER_PROCESSING,
	ACME_Q_CERT_STORED,
	ACME_Q_ORDER_REPLACED,
	ACME_Q__MAX
};

_Static_assert(ACME_Q_BASE + ACME_Q__MAX <= STORE_XSTMT_MAX,
    "store_int.h STORE_XSTMT_MAX");

#define ACCT_COLS	"id, prov, thumbprint, jwk, status, contact, created_at"
#define ORDER_COLS							\
	"id, prov, account_id, status, identifiers, not_before, "	\
	"not_after, expires_at, error, cert_serial, created_at, replaces"
#define AUTHZ_COLS							\
	"id, order_id, account_id, ident_type, ident_value, wildcard, "	\
	"status, expires_at, key_sha256, idx"
#define CHALL_COLS							\
	"id, authz_id, type, token, status, validated_at, error, idx"

static const char *const acme_sql[ACME_Q__MAX] = {
	[ACME_Q_NONCE_PURGE] =
	    "DELETE FROM acme_replay_nonces WHERE expires_at <= $1",
	[ACME_Q_NONCE_INSERT] =
	    "INSERT INTO acme_replay_nonces (id, expires_at) VALUES ($1, $2)",
	[ACME_Q_NONCE_TAKE] =
	    "DELETE FROM acme_replay_nonces WHERE id = $1 AND expires_at > $2 "
	    "RETURNING id",
	[ACME_Q_ACCT_INSERT] =
	    "INSERT INTO acme_accounts (" ACCT_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7)",
	[ACME_Q_ACCT_GET] =
	    "SELECT " ACCT_COLS " FROM acme_accounts WHERE id = $1",
	[ACME_Q_ACCT_FIND] =
	    "SELECT " ACCT_COLS " FROM acme_accounts WHERE prov = $1 AND "
	    "thumbprint = $2",
	[ACME_Q_ACCT_UPDATE] =
	    "UPDATE acme_accounts SET thumbprint = $2, jwk = $3, status = $4, "
	    "contact = $5 WHERE id = $1",
	[ACME_Q_ORDER_INSERT] =
	    "INSERT INTO acme_orders (" ORDER_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)",
	[ACME_Q_ORDER_GET] =
	    "SELECT " ORDER_COLS " FROM acme_orders WHERE id = $1",
	[ACME_Q_ORDER_UPDATE] =
	    "UPDATE acme_orders SET status = $2, error = $3, cert_serial = $4 "
	    "WHERE id = $1",
	[ACME_Q_ORDER_LIST] =
	    "SELECT id FROM acme_orders WHERE account_id = $1 "
	    "ORDER BY created_at, id LIMIT $2",
	[ACME_Q_ORDER_BY_CERT] =
	    "SELECT id FROM acme_orders WHERE cert_serial = $1",
	[ACME_Q_AUTHZ_INSERT] =
	    "INSERT INTO acme_authzs (" AUTHZ_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	[ACME_Q_AUTHZ_GET] =
	    "SELECT " AUTHZ_COLS " FROM acme_authzs WHERE id = $1",
	[ACME_Q_AUTHZ_UPDATE] =
	    "UPDATE acme_authzs SET status = $2, key_sha256 = $3 "
	    "WHERE id = $1",
	[ACME_Q_AUTHZ_LIST] =
	    "SELECT " AUTHZ_COLS " FROM acme_authzs WHERE order_id = $1 "
	    "ORDER BY idx",
	[ACME_Q_CHALL_INSERT] =
	    "INSERT INTO acme_challenges (" CHALL_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8)",
	[ACME_Q_CHALL_GET] =
	    "SELECT " CHALL_COLS " FROM acme_challenges WHERE id = $1",
	[ACME_Q_CHALL_UPDATE] =
	    "UPDATE acme_challenges SET status = $2, validated_at = $3, "
	    "error = $4 WHERE id = $1",
	[ACME_Q_CHALL_LIST] =
	    "SELECT " CHALL_COLS " FROM acme_challenges WHERE authz_id = $1 "
	    "ORDER BY idx",
	[ACME_Q_ORDER_PROCESSING] =
	    "SELECT id FROM acme_orders WHERE status = 'processing' "
	    "ORDER BY created_at, id LIMIT $1",
	[ACME_Q_CERT_STORED] =
	    "SELECT 1 FROM certificates WHERE serial = $1",
	[ACME_Q_ORDER_REPLACED] =
	    "SELECT 1 FROM acme_orders WHERE replaces = $1 AND prov = $2 "
	    "AND status != 'invalid' AND (status != 'pending' OR "
	    "expires_at > $3) LIMIT 1",
};

#define RUN(tx, q, stp, ...)						\
	store_tx_run((tx), ACME_Q_BASE + (q), acme_sql[(q)], (stp),	\
	    __VA_ARGS__)

/* ---- nonces ---------------------------------------------------------- */

enum dv_rc
store_acme_nonce_insert(struct store_tx *tx, const char *id,
    time_t expires_at)
{
	if (!store_tx_volatile(tx, "acme_replay_nonces"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_NONCE_INSERT, NULL, "ti", id,
	    (int64_t)expires_at), DV_ERR_EXISTS, "acme nonce", NULL);
}

enum dv_rc
store_acme_nonce_purge(struct store_tx *tx, time_t now)
{
	if (!store_tx_volatile(tx, "acme_replay_nonces"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_NONCE_PURGE, NULL, "i",
	    (int64_t)now), DV_ERR_STORE, "acme_replay_nonces", NULL);
}

enum dv_rc
store_acme_nonce_take(struct store_tx *tx, const char *id, time_t now)
{
	struct store_stmt *st;
	enum store_step r;

	if (!store_tx_volatile(tx, "acme_replay_nonces"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, ACME_Q_NONCE_TAKE, &st, "ti", id, (int64_t)now);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return store_step_rc(r, DV_ERR_STORE, "acme nonce", NULL);
	while ((r = tx->drv->step(st)) == STORE_STEP_ROW)
		;
	tx->drv->reset(st);
	return r == STORE_STEP_DONE ? DV_OK : DV_ERR_STORE;
}

/* ---- accounts -------------------------------------------------------- */

void
store_acme_account_clear(struct store_acme_account *a)
{
	if (a == NULL)
		return;
	free(a->id);
	free(a->prov);
	free(a->thumbprint);
	free(a->jwk);
	free(a->status);
	free(a->contact);
	memset(a, 0, sizeof(*a));
}

static void
account_row(struct store_tx *tx, struct store_stmt *st,
    struct store_acme_account *a)
{
	const struct store_driver *d = tx->drv;

	a->id = store_strdup(d->col_text(st, 0));
	a->prov = store_strdup(d->col_text(st, 1));
	a->thumbprint = store_strdup(d->col_text(st, 2));
	a->jwk = store_strdup(d->col_text(st, 3));
	a->status = store_strdup(d->col_text(st, 4));
	a->contact = store_strdup(d->col_text(st, 5));
	a->created_at = (time_t)d->col_int64(st, 6);
}

enum dv_rc
store_acme_account_insert(struct store_tx *tx,
    const struct store_acme_account *a)
{
	if (!store_tx_writer(tx, "acme_accounts"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_ACCT_INSERT, NULL, "tttttti",
	    a->id, a->prov, a->thumbprint, a->jwk, a->status, a->contact,
	    (int64_t)a->created_at), DV_ERR_EXISTS, "acme account", a->id);
}

/* Reads one row of q (account) into out. */
static enum dv_rc
account_one(struct store_tx *tx, enum store_step r, struct store_stmt *st,
    struct store_acme_account *out)
{
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	account_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_acme_account_get(struct store_tx *tx, const char *id,
    struct store_acme_account *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_ACCT_GET, &st, "t", id);
	return account_one(tx, r, st, out);
}

enum dv_rc
store_acme_account_find(struct store_tx *tx, const char *prov,
    const char *thumbprint, struct store_acme_account *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_ACCT_FIND, &st, "tt", prov, thumbprint);
	return account_one(tx, r, st, out);
}

enum dv_rc
store_acme_account_update(struct store_tx *tx,
    const struct store_acme_account *a)
{
	if (!store_tx_writer(tx, "acme_accounts"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_ACCT_UPDATE, NULL, "ttttt",
	    a->id, a->thumbprint, a->jwk, a->status, a->contact), DV_ERR_EXISTS,
	    "acme account", a->id);
}

/* ---- orders ---------------------------------------------------------- */

void
store_acme_order_clear(struct store_acme_order *o)
{
	if (o == NULL)
		return;
	free(o->id);
	free(o->prov);
	free(o->account_id);
	free(o->status);
	free(o->identifiers);
	free(o->error);
	free(o->cert_serial);
	free(o->replaces);
	memset(o, 0, sizeof(*o));
}

enum dv_rc
store_acme_order_insert(struct store_tx *tx,
    const struct store_acme_order *o)
{
	if (!store_tx_writer(tx, "acme_orders"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_ORDER_INSERT, NULL,
	    "tttttiiittit", o->id, o->prov, o->account_id, o->status,
	    o->identifiers, (int64_t)o->not_before, (int64_t)o->not_after,
	    (int64_t)o->expires_at, o->error, o->cert_serial,
	    (int64_t)o->created_at, o->replaces), DV_ERR_EXISTS, "acme order",
	    o->id);
}

enum dv_rc
store_acme_order_get(struct store_tx *tx, const char *id,
    struct store_acme_order *out)
{
	const struct store_driver *d = tx->drv;
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_ORDER_GET, &st, "t", id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	out->id = store_strdup(d->col_text(st, 0));
	out->prov = store_strdup(d->col_text(st, 1));
	out->account_id = store_strdup(d->col_text(st, 2));
	out->status = store_strdup(d->col_text(st, 3));
	out->identifiers = store_strdup(d->col_text(st, 4));
	out->not_before = (time_t)d->col_int64(st, 5);
	out->not_after = (time_t)d->col_int64(st, 6);
	out->expires_at = (time_t)d->col_int64(st, 7);
	out->error = store_strdup(d->col_text(st, 8));
	out->cert_serial = store_strdup(d->col_text(st, 9));
	out->created_at = (time_t)d->col_int64(st, 10);
	out->replaces = store_strdup(d->col_text(st, 11));
	d->reset(st);
	return DV_OK;
}

enum dv_rc
store_acme_order_update(struct store_tx *tx,
    const struct store_acme_order *o)
{
	if (!store_tx_writer(tx, "acme_orders"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_ORDER_UPDATE, NULL, "tttt",
	    o->id, o->status, o->error, o->cert_serial), DV_ERR_EXISTS, "acme order",
	    o->id);
}

enum dv_rc
store_acme_order_list(struct store_tx *tx, const char *account_id,
    int limit, json_t **ids)
{
	struct store_stmt *st = NULL;
	enum store_step r;
	json_t *v = json_array();

	*ids = NULL;
	r = RUN(tx, ACME_Q_ORDER_LIST, &st, "ti", account_id, (int64_t)limit);
	while (r == STORE_STEP_ROW) {
		json_array_append_new(v, json_string(tx->drv->col_text(st,
		    0)));
		r = tx->drv->step(st);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		json_decref(v);
		return DV_ERR_STORE;
	}
	*ids = v;
	return DV_OK;
}

enum dv_rc
store_acme_order_by_cert(struct store_tx *tx, const char *serial,
    struct store_acme_order *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;
	char *id;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_ORDER_BY_CERT, &st, "t", serial);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	id = store_strdup(tx->drv->col_text(st, 0));
	tx->drv->reset(st);
	rc = store_acme_order_get(tx, id, out);
	free(id);
	return rc;
}

enum dv_rc
store_acme_order_replaced(struct store_tx *tx, const char *prov,
    const char *cert_id, time_t now)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	r = RUN(tx, ACME_Q_ORDER_REPLACED, &st, "tti", cert_id, prov,
	    (int64_t)now);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	tx->drv->reset(st);
	return DV_OK;
}

/* ---- authorizations -------------------------------------------------- */

void
store_acme_authz_clear(struct store_acme_authz *z)
{
	if (z == NULL)
		return;
	free(z->id);
	free(z->order_id);
	free(z->account_id);
	free(z->ident_type);
	free(z->ident_value);
	free(z->status);
	free(z->key_sha256);
	memset(z, 0, sizeof(*z));
}

void
store_acme_authzs_free(struct store_acme_authz *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_acme_authz_clear(&v[i]);
	free(v);
}

static void
authz_row(struct store_tx *tx, struct store_stmt *st,
    struct store_acme_authz *z)
{
	const struct store_driver *d = tx->drv;

	z->id = store_strdup(d->col_text(st, 0));
	z->order_id = store_strdup(d->col_text(st, 1));
	z->account_id = store_strdup(d->col_text(st, 2));
	z->ident_type = store_strdup(d->col_text(st, 3));
	z->ident_value = store_strdup(d->col_text(st, 4));
	z->wildcard = d->col_int64(st, 5) != 0;
	z->status = store_strdup(d->col_text(st, 6));
	z->expires_at = (time_t)d->col_int64(st, 7);
	z->key_sha256 = store_strdup(d->col_text(st, 8));
	z->idx = (int)d->col_int64(st, 9);
}

enum dv_rc
store_acme_authz_insert(struct store_tx *tx,
    const struct store_acme_authz *z)
{
	if (!store_tx_writer(tx, "acme_authzs"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_AUTHZ_INSERT, NULL, "tttttititi",
	    z->id, z->order_id, z->account_id, z->ident_type, z->ident_value,
	    (int64_t)z->wildcard, z->status, (int64_t)z->expires_at,
	    z->key_sha256, (int64_t)z->idx), DV_ERR_EXISTS, "acme authz",
	    z->id);
}

enum dv_rc
store_acme_authz_get(struct store_tx *tx, const char *id,
    struct store_acme_authz *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_AUTHZ_GET, &st, "t", id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	authz_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_acme_authz_update(struct store_tx *tx,
    const struct store_acme_authz *z)
{
	if (!store_tx_writer(tx, "acme_authzs"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_AUTHZ_UPDATE, NULL, "ttt",
	    z->id, z->status, z->key_sha256), DV_ERR_EXISTS, "acme authz", z->id);
}

enum dv_rc
store_acme_authz_list(struct store_tx *tx, const char *order_id,
    struct store_acme_authz **v, size_t *n)
{
	struct store_acme_authz *a = NULL;
	struct store_stmt *st = NULL;
	enum store_step r;
	size_t cap = 0, k = 0;

	*v = NULL;
	*n = 0;
	r = RUN(tx, ACME_Q_AUTHZ_LIST, &st, "t", order_id);
	while (r == STORE_STEP_ROW) {
		if (k == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			a = xrealloc(a, cap * sizeof(*a));
		}
		memset(&a[k], 0, sizeof(a[k]));
		authz_row(tx, st, &a[k++]);
		r = tx->drv->step(st);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		store_acme_authzs_free(a, k);
		return DV_ERR_STORE;
	}
	*v = a;
	*n = k;
	return DV_OK;
}

/* ---- challenges ------------------------------------------------------ */

void
store_acme_chall_clear(struct store_acme_chall *c)
{
	if (c == NULL)
		return;
	free(c->id);
	free(c->authz_id);
	free(c->type);
	free(c->token);
	free(c->status);
	free(c->error);
	memset(c, 0, sizeof(*c));
}

void
store_acme_challs_free(struct store_acme_chall *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_acme_chall_clear(&v[i]);
	free(v);
}

static void
chall_row(struct store_tx *tx, struct store_stmt *st,
    struct store_acme_chall *c)
{
	const struct store_driver *d = tx->drv;

	c->id = store_strdup(d->col_text(st, 0));
	c->authz_id = store_strdup(d->col_text(st, 1));
	c->type = store_strdup(d->col_text(st, 2));
	c->token = store_strdup(d->col_text(st, 3));
	c->status = store_strdup(d->col_text(st, 4));
	c->validated_at = (time_t)d->col_int64(st, 5);
	c->error = store_strdup(d->col_text(st, 6));
	c->idx = (int)d->col_int64(st, 7);
}

enum dv_rc
store_acme_chall_insert(struct store_tx *tx,
    const struct store_acme_chall *c)
{
	if (!store_tx_writer(tx, "acme_challenges"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_CHALL_INSERT, NULL, "tttttiti",
	    c->id, c->authz_id, c->type, c->token, c->status,
	    (int64_t)c->validated_at, c->error, (int64_t)c->idx),
	    DV_ERR_EXISTS, "acme challenge", c->id);
}

enum dv_rc
store_acme_chall_get(struct store_tx *tx, const char *id,
    struct store_acme_chall *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ACME_Q_CHALL_GET, &st, "t", id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	chall_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_acme_chall_update(struct store_tx *tx,
    const struct store_acme_chall *c)
{
	if (!store_tx_writer(tx, "acme_challenges"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ACME_Q_CHALL_UPDATE, NULL, "ttit",
	    c->id, c->status, (int64_t)c->validated_at, c->error), DV_ERR_EXISTS,
	    "acme challenge", c->id);
}

enum dv_rc
store_acme_chall_list(struct store_tx *tx, const char *authz_id,
    struct store_acme_chall **v, size_t *n)
{
	struct store_acme_chall *a = NULL;
	struct store_stmt *st = NULL;
	enum store_step r;
	size_t cap = 0, k = 0;

	*v = NULL;
	*n = 0;
	r = RUN(tx, ACME_Q_CHALL_LIST, &st, "t", authz_id);
	while (r == STORE_STEP_ROW) {
		if (k == cap) {
			cap = cap == 0 ? 4 : cap * 2;
			a = xrealloc(a, cap * sizeof(*a));
		}
		memset(&a[k], 0, sizeof(a[k]));
		chall_row(tx, st, &a[k++]);
		r = tx->drv->step(st);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		store_acme_challs_free(a, k);
		return DV_ERR_STORE;
	}
	*v = a;
	*n = k;
	return DV_OK;
}

/* ---- recovery after a stop ------------------------------------------ */

enum dv_rc
store_acme_orders_processing(struct store_tx *tx, int limit, json_t **ids)
{
	struct store_stmt *st = NULL;
	enum store_step r;
	json_t *v = json_array();

	*ids = NULL;
	r = RUN(tx, ACME_Q_ORDER_PROCESSING, &st, "i", (int64_t)limit);
	while (r == STORE_STEP_ROW) {
		json_array_append_new(v, json_string(tx->drv->col_text(st,
		    0)));
		r = tx->drv->step(st);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		json_decref(v);
		return DV_ERR_STORE;
	}
	*ids = v;
	return DV_OK;
}

enum dv_rc
store_acme_cert_stored(struct store_tx *tx, const char *serial)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	r = RUN(tx, ACME_Q_CERT_STORED, &st, "t", serial);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	tx->drv->reset(st);
	return DV_OK;
}
