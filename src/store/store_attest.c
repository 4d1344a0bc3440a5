/*
 * store_attest.c - the typed operations of the Attestation CA (store.h,
 * attestation section; schema: the volatile database's in store.c).
 *
 * A pending credential activation is a row of attestation_pending keyed
 * by the hex SHA-256 of its secret, in the volatile database
 * (store_write_volatile: a crash may lose one, which only fails its
 * /secret).  The secret itself is never stored: the row is found again
 * only by whoever recovered the secret with the TPM.  Taking a session
 * (single use) is one transaction, so two /secret requests with the same
 * secret see one winner.  Expired rows are purged by
 * store_att_session_purge, which the Attestation CA runs once in a while
 * (per row, a purge at every insert dirtied four more pages), a bounded
 * number at a time through the expires_at index: a purge holds the
 * volatile database, which every /attest, /secret and ACME nonce waits
 * for (one of 60 000 rows took half a second).  A used row stays until
 * then, so that a replay within the lifetime is told apart from a wrong
 * secret.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

/*
 * Statement slots of store_tx_run's per-connection cache: the inventory
 * (store_inventory.c) holds the slots from 0, this file those from
 * ATT_Q_BASE up.
 */
#define ATT_Q_BASE	48

enum att_q {
	ATT_Q_PURGE,
	ATT_Q_PENDING,
	ATT_Q_INSERT,
	ATT_Q_GET,
	ATT_Q_USE,
	ATT_Q__MAX
};

_Static_assert(ATT_Q_BASE + ATT_Q__MAX <= STORE_XSTMT_MAX,
    "store_int.h STORE_XSTMT_MAX");

#define SESSION_COLS							\
	"id, team, ek_urn, device_id, ak_spki, tpm_manufacturer, "	\
	"tpm_model, tpm_version, created_at, expires_at, used_at"

static const char *const att_sql[ATT_Q__MAX] = {
	[ATT_Q_PURGE] =
	    "DELETE FROM attestation_pending WHERE rowid IN (SELECT rowid "
	    "FROM attestation_pending WHERE expires_at <= $1 "
	    "ORDER BY expires_at LIMIT $2)",
	[ATT_Q_PENDING] =
	    "SELECT COUNT(*) FROM attestation_pending WHERE team = $1 "
	    "AND ek_urn = $2 AND expires_at > $3 AND used_at IS NULL",
	[ATT_Q_INSERT] =
	    "INSERT INTO attestation_pending (" SESSION_COLS ") VALUES "
	    "($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL)",
	[ATT_Q_GET] =
	    "SELECT " SESSION_COLS " FROM attestation_pending WHERE id = $1",
	[ATT_Q_USE] =
	    "UPDATE attestation_pending SET used_at = $2 WHERE id = $1 "
	    "AND used_at IS NULL AND expires_at > $2 RETURNING id",
};

/* store_tx_run with the statement text of the table, in this file's
 * slots. */
#define RUN(tx, q, stp, ...)						\
	store_tx_run((tx), ATT_Q_BASE + (q), att_sql[(q)], (stp),	\
	    __VA_ARGS__)

static uint8_t *
bdup(const void *p, size_t len, size_t *outlen)
{
	*outlen = p != NULL ? len : 0;
	return p != NULL && len > 0 ? xmemdup(p, len) : NULL;
}

void
store_att_session_clear(struct store_att_session *s)
{
	if (s == NULL)
		return;
	free(s->id);
	free(s->team);
	free(s->ek_urn);
	free(s->device_id);
	free(s->ak_spki);
	free(s->tpm_manufacturer);
	free(s->tpm_model);
	free(s->tpm_version);
	memset(s, 0, sizeof(*s));
}

/* Copies SESSION_COLS of the current row into s. */
static void
session_row(struct store_tx *tx, struct store_stmt *st,
    struct store_att_session *s)
{
	const struct store_driver *d = tx->drv;
	const void *b;
	size_t len;

	memset(s, 0, sizeof(*s));
	s->id = store_strdup(d->col_text(st, 0));
	s->team = store_strdup(d->col_text(st, 1));
	s->ek_urn = store_strdup(d->col_text(st, 2));
	s->device_id = store_strdup(d->col_text(st, 3));
	b = d->col_blob(st, 4, &len);
	s->ak_spki = bdup(b, len, &s->ak_spki_len);
	s->tpm_manufacturer = store_strdup(d->col_text(st, 5));
	s->tpm_model = store_strdup(d->col_text(st, 6));
	s->tpm_version = store_strdup(d->col_text(st, 7));
	s->created_at = (time_t)d->col_int64(st, 8);
	s->expires_at = (time_t)d->col_int64(st, 9);
	s->used_at = (time_t)d->col_int64(st, 10);
}

enum dv_rc
store_att_session_insert(struct store_tx *tx,
    const struct store_att_session *s, time_t now, int max_pending)
{
	struct store_stmt *st;
	enum store_step r;
	int64_t pending;

	if (!store_tx_volatile(tx, "attestation_pending"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, ATT_Q_PENDING, &st, "tti", s->team, s->ek_urn,
	    (int64_t)now);
	if (r != STORE_STEP_ROW)
		return store_step_rc(r, DV_ERR_STORE, "attestation_pending",
		    NULL);
	pending = tx->drv->col_int64(st, 0);
	tx->drv->reset(st);
	if (pending >= max_pending) {
		log_msg(LOG_INFO, "store.attest", "{s:s,s:s,s:I}", "detail",
		    "too many pending activations for this EK", "ek",
		    s->ek_urn, "pending", (json_int_t)pending);
		return DV_ERR_UNAVAILABLE;
	}
	return store_step_rc(RUN(tx, ATT_Q_INSERT, NULL, "ttttbtttii",
	    s->id, s->team, s->ek_urn, s->device_id,
	    (const void *)s->ak_spki, s->ak_spki_len, s->tpm_manufacturer,
	    s->tpm_model, s->tpm_version, (int64_t)s->created_at,
	    (int64_t)s->expires_at), DV_ERR_EXISTS, "attestation session",
	    s->id);
}

enum dv_rc
store_att_session_purge(struct store_tx *tx, time_t now, int max)
{
	if (!store_tx_volatile(tx, "attestation_pending"))
		return DV_ERR_INTERNAL;
	return store_step_rc(RUN(tx, ATT_Q_PURGE, NULL, "ii", (int64_t)now,
	    (int64_t)max),
	    DV_ERR_STORE, "attestation_pending", NULL);
}

enum dv_rc
store_att_session_get(struct store_tx *tx, const char *id,
    struct store_att_session *out)
{
	struct store_stmt *st;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, ATT_Q_GET, &st, "t", id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	session_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_att_session_take(struct store_tx *tx, const char *id, const char *team,
    time_t now, struct store_att_session *out)
{
	struct store_att_session s;
	struct store_stmt *st;
	enum store_step r;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!store_tx_volatile(tx, "attestation_pending"))
		return DV_ERR_INTERNAL;
	if ((rc = store_att_session_get(tx, id, &s)) != DV_OK)
		return rc;
	if (team != NULL && (s.team == NULL || strcmp(s.team, team) != 0))
		rc = DV_ERR_NOT_FOUND;
	else if (s.used_at != 0)
		rc = DV_ERR_TOKEN_REUSED;
	else if (s.expires_at <= now)
		rc = DV_ERR_TOKEN_EXPIRED;
	if (rc != DV_OK) {
		store_att_session_clear(&s);
		return rc;
	}
	/* the UPDATE repeats both conditions: it alone decides */
	r = RUN(tx, ATT_Q_USE, &st, "ti", id, (int64_t)now);
	if (r == STORE_STEP_ROW) {
		while ((r = tx->drv->step(st)) == STORE_STEP_ROW)
			;
		tx->drv->reset(st);
		if (r == STORE_STEP_DONE) {
			s.used_at = now;
			*out = s;
			return DV_OK;
		}
		rc = DV_ERR_STORE;
	} else if (r == STORE_STEP_DONE)
		rc = DV_ERR_TOKEN_REUSED;
	else
		rc = store_step_rc(r, DV_ERR_STORE, "attestation session",
		    id);
	store_att_session_clear(&s);
	return rc;
}
