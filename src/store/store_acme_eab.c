/*
 * store_acme_eab.c - external account binding keys of the ACME
 * provisioners (RFC 8555 §7.3.4; store.h, ACME section; schema:
 * migration 5 in store.c).
 *
 * A key is created by an admin, listed without its HMAC key, deleted, and
 * bound once to the account whose newAccount presented it: the bind
 * checks and sets account_id in the newAccount's write transaction, so two
 * newAccounts racing with one key see one winner.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "store.h"
#include "store_int.h"

/* Statement slots of store_tx_run: this file holds those from 96 up. */
#define EAB_Q_BASE	96

enum eab_q {
	EAB_Q_INSERT,
	EAB_Q_GET,
	EAB_Q_LIST,
	EAB_Q_LIST_PROV,
	EAB_Q_DELETE,
	EAB_Q_BIND,
	EAB_Q__MAX
};

_Static_assert(EAB_Q_BASE + EAB_Q__MAX <= STORE_XSTMT_MAX,
    "store_int.h STORE_XSTMT_MAX");

/* Columns read by eab_row (the HMAC key last: lists leave it out). */
#define EAB_COLS							\
	"id, team, prov, reference, created_at, account_id, bound_at"

static const char *const eab_sql[EAB_Q__MAX] = {
	[EAB_Q_INSERT] =
	    "INSERT INTO acme_eab_keys (id, team, prov, reference, hmac_key, "
	    "created_at) VALUES ($1, $2, $3, $4, $5, $6)",
	[EAB_Q_GET] =
	    "SELECT " EAB_COLS ", hmac_key FROM acme_eab_keys WHERE id = $1",
	[EAB_Q_LIST] =
	    "SELECT " EAB_COLS " FROM acme_eab_keys WHERE team = $1 "
	    "ORDER BY created_at, id LIMIT $2",
	[EAB_Q_LIST_PROV] =
	    "SELECT " EAB_COLS " FROM acme_eab_keys WHERE team = $1 AND "
	    "prov = $2 ORDER BY created_at, id LIMIT $3",
	[EAB_Q_DELETE] =
	    "DELETE FROM acme_eab_keys WHERE team = $1 AND id = $2 "
	    "RETURNING id",
	[EAB_Q_BIND] =
	    "UPDATE acme_eab_keys SET account_id = $2, bound_at = $3 "
	    "WHERE id = $1 AND account_id IS NULL",
};

#define RUN(tx, q, stp, ...)						\
	store_tx_run((tx), EAB_Q_BASE + (q), eab_sql[(q)], (stp),	\
	    __VA_ARGS__)

void
store_acme_eab_clear(struct store_acme_eab *k)
{
	if (k == NULL)
		return;
	free(k->id);
	free(k->team);
	free(k->prov);
	free(k->reference);
	if (k->hmac_key != NULL)
		OPENSSL_cleanse(k->hmac_key, k->hmac_key_len);
	free(k->hmac_key);
	free(k->account_id);
	memset(k, 0, sizeof(*k));
}

void
store_acme_eabs_free(struct store_acme_eab *v, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		store_acme_eab_clear(&v[i]);
	free(v);
}

/* Reads the EAB_COLS of the current row (and the key when with_key). */
static void
eab_row(struct store_tx *tx, struct store_stmt *st, bool with_key,
    struct store_acme_eab *k)
{
	const struct store_driver *d = tx->drv;
	const void *b;
	size_t len = 0;

	k->id = store_strdup(d->col_text(st, 0));
	k->team = store_strdup(d->col_text(st, 1));
	k->prov = store_strdup(d->col_text(st, 2));
	k->reference = store_strdup(d->col_text(st, 3));
	k->created_at = (time_t)d->col_int64(st, 4);
	k->account_id = store_strdup(d->col_text(st, 5));
	k->bound_at = (time_t)d->col_int64(st, 6);
	if (with_key && (b = d->col_blob(st, 7, &len)) != NULL && len > 0) {
		k->hmac_key = xmemdup(b, len);
		k->hmac_key_len = len;
	}
}

enum dv_rc
store_acme_eab_insert(struct store_tx *tx, const struct store_acme_eab *k)
{
	if (!store_tx_writer(tx, "acme_eab_keys"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, EAB_Q_INSERT, NULL, "ttttbi", k->id,
	    k->team, k->prov, k->reference, (const void *)k->hmac_key,
	    k->hmac_key_len, (int64_t)k->created_at), DV_ERR_EXISTS,
	    "acme eab key", k->id);
}

enum dv_rc
store_acme_eab_get(struct store_tx *tx, const char *id,
    struct store_acme_eab *out)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, EAB_Q_GET, &st, "t", id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	eab_row(tx, st, true, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_acme_eab_list(struct store_tx *tx, const char *team, const char *prov,
    int limit, struct store_acme_eab **v, size_t *n)
{
	struct store_stmt *st = NULL;
	struct store_acme_eab *a = NULL;
	enum store_step r;
	size_t cap = 0, k = 0;

	*v = NULL;
	*n = 0;
	r = prov != NULL ? RUN(tx, EAB_Q_LIST_PROV, &st, "tti", team, prov,
	    (int64_t)limit) : RUN(tx, EAB_Q_LIST, &st, "ti", team,
	    (int64_t)limit);
	while (r == STORE_STEP_ROW) {
		if (k == cap) {
			cap = cap ? cap * 2 : 16;
			a = xrealloc(a, cap * sizeof(*a));
		}
		memset(&a[k], 0, sizeof(a[k]));
		eab_row(tx, st, false, &a[k++]);
		r = tx->drv->step(st);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		store_acme_eabs_free(a, k);
		return DV_ERR_STORE;
	}
	*v = a;
	*n = k;
	return DV_OK;
}

enum dv_rc
store_acme_eab_delete(struct store_tx *tx, const char *team, const char *id)
{
	struct store_stmt *st = NULL;
	enum store_step r;

	if (!store_tx_writer(tx, "acme_eab_keys"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, EAB_Q_DELETE, &st, "tt", team, id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return store_step_rc(r, DV_ERR_STORE, "acme eab key", id);
	while ((r = tx->drv->step(st)) == STORE_STEP_ROW)
		;
	tx->drv->reset(st);
	return r == STORE_STEP_DONE ? DV_OK : DV_ERR_STORE;
}

enum dv_rc
store_acme_eab_bind(struct store_tx *tx, const char *id, const char *prov,
    const char *account_id, time_t at)
{
	struct store_acme_eab k;
	enum dv_rc rc;

	if (!store_tx_writer(tx, "acme_eab_keys"))
		return DV_ERR_INTERNAL;
	/* the committer runs one write at a time: read-check-update is
	 * atomic, and the UPDATE's condition says so once more */
	if ((rc = store_acme_eab_get(tx, id, &k)) != DV_OK)
		return rc;
	if (strcmp(k.prov, prov) != 0)
		rc = DV_ERR_NOT_FOUND;
	else if (k.account_id != NULL)
		rc = DV_ERR_EXISTS;
	store_acme_eab_clear(&k);
	if (rc != DV_OK)
		return rc;
	return store_step_rc(RUN(tx, EAB_Q_BIND, NULL, "tti", id, account_id,
	    (int64_t)at), DV_ERR_EXISTS, "acme eab binding", id);
}
