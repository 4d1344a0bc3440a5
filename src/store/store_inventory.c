/*
 * store_inventory.c - the typed operations of the device inventory
 * (store.h, inventory section; schema: migration 2 in store.c).
 *
 * Fixed statements are prepared once per connection through store_tx_run;
 * the device list and the audit pages build their WHERE clause from the
 * filters given (only placeholders, never values, go into the text) and
 * are prepared for the call.  The SQL is the dialect store_int.h
 * describes: row values, ON CONFLICT DO NOTHING and RETURNING are in both
 * SQLite (>= 3.35) and PostgreSQL.
 *
 * Collection membership is a query, never stored: a device belongs to a
 * collection when it is of the collection's kind, os and source (a NULL
 * one matches any) and it is a static member or matches one of its rules.
 */
#include <stdlib.h>
#include <string.h>

#include "store.h"
#include "store_int.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

enum inv_q {
	INV_Q_DEV_INSERT,
	INV_Q_DEV_UPDATE,
	INV_Q_DEV_GET,
	INV_Q_DEV_SEEN,
	INV_Q_DEV_ACTIVATE,
	INV_Q_DEV_MISSING,
	INV_Q_DEV_MARK,
	INV_Q_TAG_DEL,
	INV_Q_TAG_INS,
	INV_Q_ID_INS,
	INV_Q_ID_DEL,
	INV_Q_ID_OWNER,
	INV_Q_ID_LIST,
	INV_Q_DEV_COLLS,
	INV_Q_CERTS_OPEN,
	INV_Q_REVOKE_INS,
	INV_Q_COLL_INS,
	INV_Q_COLL_UPD,
	INV_Q_COLL_DEL,
	INV_Q_COLL_GET,
	INV_Q_COLL_LIST,
	INV_Q_RULE_DEL,
	INV_Q_RULE_INS,
	INV_Q_MEM_DEL,
	INV_Q_MEM_INS,
	INV_Q_MEM_LIST,
	INV_Q_DEV_IN_TEAM,
	INV_Q_TOK_INS,
	INV_Q_TOK_HASH,
	INV_Q_TOK_LIST,
	INV_Q_TOK_REVOKE,
	INV_Q_TOK_GET,
	INV_Q__MAX
};

_Static_assert(INV_Q__MAX <= STORE_XSTMT_MAX, "store_int.h STORE_XSTMT_MAX");

#define DEV_COLS							\
	"d.id, d.team, d.name, d.owner, d.owner_domain, d.os, d.kind, "	\
	"d.source, d.status, d.tags, d.posture, d.missing, d.created_at, " \
	"d.updated_at, d.last_seen_at"

/* d is a member of collection c (see the top of this file). */
#define MEMBERSHIP							\
	"(c.kind IS NULL OR c.kind = d.kind) "				\
	"AND (c.os IS NULL OR c.os = d.os) "				\
	"AND (c.source IS NULL OR c.source = d.source) "		\
	"AND (EXISTS (SELECT 1 FROM collection_members m "		\
	"  WHERE m.team = c.team AND m.collection = c.name "		\
	"  AND m.device_id = d.id) "					\
	"OR EXISTS (SELECT 1 FROM collection_rules r "			\
	"  WHERE r.team = c.team AND r.collection = c.name AND ("	\
	"  (r.field = 'tag' AND EXISTS (SELECT 1 FROM device_tags t "	\
	"    WHERE t.device_id = d.id AND t.tag = r.value)) "		\
	"  OR (r.field = 'os' AND r.value = d.os) "			\
	"  OR (r.field = 'source' AND r.value = d.source) "		\
	"  OR (r.field = 'ownerDomain' AND r.value = d.owner_domain))))"

#define COLL_COLS							\
	"team, name, kind, os, source, rules, settings, created_at, "	\
	"updated_at"

#define TOK_COLS							\
	"id, team, name, role, hash, created_at, expires_at, revoked_at"

static const char *const inv_sql[INV_Q__MAX] = {
	[INV_Q_DEV_INSERT] =
	    "INSERT INTO devices (id, team, name, owner, owner_domain, os, "
	    "kind, source, status, tags, posture, missing, sync_mark, "
	    "created_at, updated_at, last_seen_at) VALUES ($1, $2, $3, $4, "
	    "$5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, NULLIF($16, 0))",
	[INV_Q_DEV_UPDATE] =
	    "UPDATE devices SET name = $3, owner = $4, owner_domain = $5, "
	    "os = $6, kind = $7, source = $8, status = $9, tags = $10, "
	    "posture = $11, missing = $12, sync_mark = $13, updated_at = $14, "
	    "last_seen_at = NULLIF($15, 0) WHERE id = $1 AND team = $2 "
	    "RETURNING id",
	[INV_Q_DEV_GET] =
	    "SELECT " DEV_COLS " FROM devices d WHERE d.team = $1 "
	    "AND d.id = $2",
	/* two statements: a SET of status rewrites the devices_status index
	 * entry even when the value stays (two more pages into the WAL on
	 * every check-in of an active device) */
	[INV_Q_DEV_SEEN] =
	    "UPDATE devices SET last_seen_at = $3 "
	    "WHERE team = $1 AND id = $2 RETURNING status",
	[INV_Q_DEV_ACTIVATE] =
	    "UPDATE devices SET status = 'active' "
	    "WHERE team = $1 AND id = $2 AND status = 'approved'",
	[INV_Q_DEV_MISSING] =
	    "UPDATE devices SET missing = 1, updated_at = $4 "
	    "WHERE team = $1 AND source = $2 AND missing = 0 "
	    "AND (sync_mark IS NULL OR sync_mark <> $3) RETURNING id",
	[INV_Q_DEV_MARK] =
	    "UPDATE devices SET sync_mark = $3 WHERE team = $1 AND id = $2 "
	    "RETURNING id",
	[INV_Q_TAG_DEL] = "DELETE FROM device_tags WHERE device_id = $1",
	[INV_Q_TAG_INS] =
	    "INSERT INTO device_tags (team, device_id, tag) "
	    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	[INV_Q_ID_INS] =
	    "INSERT INTO device_identifiers (team, device_id, type, value, "
	    "tpm_manufacturer, tpm_model, tpm_version, certificate, "
	    "created_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	[INV_Q_ID_DEL] =
	    "DELETE FROM device_identifiers WHERE team = $1 AND "
	    "device_id = $2 AND value = $3 RETURNING value",
	[INV_Q_ID_OWNER] =
	    "SELECT device_id FROM device_identifiers WHERE team = $1 "
	    "AND value = $2",
	[INV_Q_ID_LIST] =
	    "SELECT device_id, type, value, tpm_manufacturer, tpm_model, "
	    "tpm_version, certificate FROM device_identifiers "
	    "WHERE device_id = $1 ORDER BY created_at, value",
	[INV_Q_DEV_COLLS] =
	    "SELECT c.name FROM collections c, devices d WHERE c.team = $1 "
	    "AND d.id = $2 AND d.team = c.team AND " MEMBERSHIP
	    " ORDER BY c.name",
	[INV_Q_CERTS_OPEN] =
	    "SELECT c.serial, c.authority FROM certificates c "
	    "LEFT JOIN revocations r ON r.serial = c.serial "
	    "WHERE c.device_id = $1 AND r.serial IS NULL ORDER BY c.serial",
	[INV_Q_REVOKE_INS] =
	    "INSERT INTO revocations (serial, authority, reason_code, "
	    "reason, revoked_at) VALUES ($1, $2, $3, $4, $5)",
	[INV_Q_COLL_INS] =
	    "INSERT INTO collections (" COLL_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
	[INV_Q_COLL_UPD] =
	    "UPDATE collections SET kind = $3, os = $4, source = $5, "
	    "rules = $6, settings = $7, updated_at = $8 "
	    "WHERE team = $1 AND name = $2 RETURNING name",
	[INV_Q_COLL_DEL] =
	    "DELETE FROM collections WHERE team = $1 AND name = $2 "
	    "RETURNING name",
	[INV_Q_COLL_GET] =
	    "SELECT " COLL_COLS " FROM collections WHERE team = $1 "
	    "AND name = $2",
	[INV_Q_COLL_LIST] =
	    "SELECT " COLL_COLS " FROM collections WHERE team = $1 "
	    "ORDER BY name",
	[INV_Q_RULE_DEL] =
	    "DELETE FROM collection_rules WHERE team = $1 AND collection = $2",
	[INV_Q_RULE_INS] =
	    "INSERT INTO collection_rules (team, collection, field, value) "
	    "VALUES ($1, $2, $3, $4)",
	[INV_Q_MEM_DEL] =
	    "DELETE FROM collection_members WHERE team = $1 "
	    "AND collection = $2",
	[INV_Q_MEM_INS] =
	    "INSERT INTO collection_members (team, collection, device_id) "
	    "VALUES ($1, $2, $3) ON CONFLICT DO NOTHING",
	[INV_Q_MEM_LIST] =
	    "SELECT device_id FROM collection_members WHERE team = $1 "
	    "AND collection = $2 ORDER BY device_id",
	[INV_Q_DEV_IN_TEAM] =
	    "SELECT 1 FROM devices WHERE team = $1 AND id = $2",
	[INV_Q_TOK_INS] =
	    "INSERT INTO api_tokens (" TOK_COLS ") "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
	[INV_Q_TOK_HASH] =
	    "SELECT " TOK_COLS " FROM api_tokens WHERE hash = $1",
	[INV_Q_TOK_LIST] =
	    "SELECT " TOK_COLS " FROM api_tokens WHERE team = $1 "
	    "ORDER BY created_at, id",
	[INV_Q_TOK_REVOKE] =
	    "UPDATE api_tokens SET revoked_at = $3 WHERE team = $1 "
	    "AND id = $2 AND revoked_at IS NULL RETURNING id",
	[INV_Q_TOK_GET] =
	    "SELECT 1 FROM api_tokens WHERE team = $1 AND id = $2",
};

/* store_tx_run with the statement text of the table. */
#define RUN(tx, q, stp, ...)						\
	store_tx_run((tx), (q), inv_sql[(q)], (stp), __VA_ARGS__)

/*
 * Runs a statement whose RETURNING gives at most one row to its end:
 * DV_OK when a row came back, DV_ERR_NOT_FOUND when none did.  *stp is
 * read here, after r was computed (argument order is unspecified).
 */
static enum dv_rc
returning_one(struct store_tx *tx, enum store_step r, struct store_stmt **stp,
    const char *what)
{
	struct store_stmt *st = *stp;

	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return store_step_rc(r, DV_ERR_EXISTS, what, NULL);
	while ((r = tx->drv->step(st)) == STORE_STEP_ROW)
		;
	tx->drv->reset(st);
	return r == STORE_STEP_DONE ? DV_OK : DV_ERR_STORE;
}

/* ---- devices ------------------------------------------------------- */

void
store_device_clear(struct store_device *d)
{
	if (d == NULL)
		return;
	free(d->id);
	free(d->team);
	free(d->name);
	free(d->owner);
	free(d->owner_domain);
	free(d->os);
	free(d->kind);
	free(d->source);
	free(d->status);
	free(d->tags);
	free(d->posture);
	free(d->sync_mark);
	memset(d, 0, sizeof(*d));
}

void
store_devices_free(struct store_device *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_device_clear(&v[i]);
	free(v);
}

/* Copies DEV_COLS of the current row into d. */
static void
dev_row(struct store_tx *tx, struct store_stmt *st, struct store_device *d)
{
	const struct store_driver *drv = tx->drv;

	memset(d, 0, sizeof(*d));
	d->id = store_strdup(drv->col_text(st, 0));
	d->team = store_strdup(drv->col_text(st, 1));
	d->name = store_strdup(drv->col_text(st, 2));
	d->owner = store_strdup(drv->col_text(st, 3));
	d->owner_domain = store_strdup(drv->col_text(st, 4));
	d->os = store_strdup(drv->col_text(st, 5));
	d->kind = store_strdup(drv->col_text(st, 6));
	d->source = store_strdup(drv->col_text(st, 7));
	d->status = store_strdup(drv->col_text(st, 8));
	d->tags = store_strdup(drv->col_text(st, 9));
	d->posture = store_strdup(drv->col_text(st, 10));
	d->missing = drv->col_int64(st, 11) != 0;
	d->created_at = (time_t)drv->col_int64(st, 12);
	d->updated_at = (time_t)drv->col_int64(st, 13);
	d->last_seen_at = (time_t)drv->col_int64(st, 14);
}

/* Rewrites the device_tags rows of d from its JSON tags text (a new
 * device has none to delete). */
static enum dv_rc
dev_tags_write(struct store_tx *tx, const struct store_device *d, bool fresh)
{
	json_t *tags, *t;
	enum dv_rc rc = DV_OK;
	size_t i;

	if (!fresh && (rc = store_step_rc(RUN(tx, INV_Q_TAG_DEL, NULL, "t",
	    d->id), DV_ERR_STORE, "device_tags", d->id)) != DV_OK)
		return rc;
	tags = json_loads(d->tags, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(tags)) {
		json_decref(tags);
		log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what",
		    "device_tags", "error", "tags are not a JSON array");
		return DV_ERR_INTERNAL;
	}
	json_array_foreach(tags, i, t) {
		if (!json_is_string(t))
			continue;
		rc = store_step_rc(RUN(tx, INV_Q_TAG_INS, NULL, "ttt",
		    d->team, d->id, json_string_value(t)), DV_ERR_STORE,
		    "device_tags", d->id);
		if (rc != DV_OK)
			break;
	}
	json_decref(tags);
	return rc;
}

enum dv_rc
store_dev_insert(struct store_tx *tx, const struct store_device *d)
{
	enum dv_rc rc;

	if (!store_tx_writer(tx, "devices"))
		return DV_ERR_INTERNAL;
	rc = store_step_rc(RUN(tx, INV_Q_DEV_INSERT, NULL, "ttttttttttti"
	    "tiii", d->id, d->team, d->name, d->owner, d->owner_domain, d->os,
	    d->kind, d->source, d->status, d->tags, d->posture,
	    (int64_t)d->missing, d->sync_mark, (int64_t)d->created_at,
	    (int64_t)d->updated_at, (int64_t)d->last_seen_at), DV_ERR_EXISTS,
	    "device", d->id);
	if (rc != DV_OK)
		return rc;
	return dev_tags_write(tx, d, true);
}

enum dv_rc
store_dev_update(struct store_tx *tx, const struct store_device *d)
{
	struct store_stmt *st;
	enum store_step r;
	enum dv_rc rc;

	if (!store_tx_writer(tx, "devices"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, INV_Q_DEV_UPDATE, &st, "tttttttttttitii", d->id, d->team,
	    d->name, d->owner, d->owner_domain, d->os, d->kind, d->source,
	    d->status, d->tags, d->posture, (int64_t)d->missing, d->sync_mark,
	    (int64_t)d->updated_at, (int64_t)d->last_seen_at);
	if ((rc = returning_one(tx, r, &st, "device")) != DV_OK)
		return rc;
	return dev_tags_write(tx, d, false);
}

enum dv_rc
store_dev_get(struct store_tx *tx, const char *team, const char *id,
    struct store_device *out)
{
	struct store_stmt *st;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, INV_Q_DEV_GET, &st, "tt", team, id);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	dev_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_dev_seen(struct store_tx *tx, const char *team, const char *id,
    time_t when)
{
	struct store_stmt *st;
	const char *status;
	enum store_step r;
	bool approved;

	if (!store_tx_writer(tx, "devices"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, INV_Q_DEV_SEEN, &st, "tti", team, id, (int64_t)when);
	if (r != STORE_STEP_ROW)
		return returning_one(tx, r, &st, "device");
	status = tx->drv->col_text(st, 0);
	approved = status != NULL && strcmp(status, "approved") == 0;
	while ((r = tx->drv->step(st)) == STORE_STEP_ROW)
		;
	tx->drv->reset(st);
	if (r != STORE_STEP_DONE)
		return DV_ERR_STORE;
	if (!approved)
		return DV_OK;
	return store_step_rc(RUN(tx, INV_Q_DEV_ACTIVATE, NULL, "tt", team,
	    id), DV_ERR_STORE, "device", id);
}

enum dv_rc
store_dev_mark(struct store_tx *tx, const char *team, const char *id,
    const char *mark)
{
	struct store_stmt *st;

	if (!store_tx_writer(tx, "devices"))
		return DV_ERR_INTERNAL;
	return returning_one(tx, RUN(tx, INV_Q_DEV_MARK, &st, "ttt", team,
	    id, mark), &st, "device");
}

enum dv_rc
store_dev_mark_missing(struct store_tx *tx, const char *team,
    const char *source, const char *mark, time_t now, json_t **ids)
{
	struct store_stmt *st;
	enum store_step r;
	json_t *a;

	*ids = NULL;
	if (!store_tx_writer(tx, "devices"))
		return DV_ERR_INTERNAL;
	a = json_array();
	r = RUN(tx, INV_Q_DEV_MISSING, &st, "ttti", team, source, mark,
	    (int64_t)now);
	for (; r == STORE_STEP_ROW; r = tx->drv->step(st))
		json_array_append_new(a, json_string(tx->drv->col_text(st,
		    0)));
	if (st != NULL)
		tx->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		json_decref(a);
		return DV_ERR_STORE;
	}
	*ids = a;
	return DV_OK;
}

/* A bound value of a statement built at run time. */
struct dyn_arg {
	const char	*text;
	int64_t		 num;
	bool		 is_num;
};

struct dyn {
	struct buf	 sql;
	struct dyn_arg	 arg[16];
	int		 n;
};

static void
dyn_text(struct dyn *q, const char *s)
{
	buf_append(&q->sql, s, strlen(s));
}

/* Appends fragment with its one "?" replaced by the next "$n". */
static void
dyn_param(struct dyn *q, const char *frag, const char *text, int64_t num,
    bool is_num)
{
	const char *p = strchr(frag, '?');
	char *ph;

	if (p == NULL || q->n >= (int)nitems(q->arg))
		abort();
	buf_append(&q->sql, frag, (size_t)(p - frag));
	q->arg[q->n].text = text;
	q->arg[q->n].num = num;
	q->arg[q->n].is_num = is_num;
	q->n++;
	ph = xasprintf("$%d", q->n);
	dyn_text(q, ph);
	free(ph);
	dyn_text(q, p + 1);
}

/* Prepares q and binds its arguments; *out is new (finalize). */
static enum dv_rc
dyn_prepare(struct store_tx *tx, struct dyn *q, struct store_stmt **out)
{
	struct store_stmt *st;
	int i;

	*out = NULL;
	buf_append(&q->sql, "", 1);
	if (tx->drv->prepare(tx->conn, (const char *)q->sql.data, &st) !=
	    DV_OK)
		return DV_ERR_STORE;
	for (i = 0; i < q->n; i++) {
		if (q->arg[i].is_num)
			tx->drv->bind_int64(st, i + 1, q->arg[i].num);
		else
			tx->drv->bind_text(st, i + 1, q->arg[i].text);
	}
	*out = st;
	return DV_OK;
}

enum dv_rc
store_dev_list(struct store_tx *tx, const char *team,
    const struct store_dev_filter *f, struct store_device **v, size_t *n)
{
	struct dyn q = { 0 };
	struct store_stmt *st = NULL;
	struct store_device *r = NULL;
	enum store_step s;
	size_t len = 0, cap = 0;
	enum dv_rc rc;

	*v = NULL;
	*n = 0;
	dyn_text(&q, "SELECT " DEV_COLS " FROM devices d ");
	dyn_param(&q, "WHERE d.team = ?", team, 0, false);
	if (f->status != NULL)
		dyn_param(&q, " AND d.status = ?", f->status, 0, false);
	if (f->owner != NULL)
		dyn_param(&q, " AND d.owner = ?", f->owner, 0, false);
	if (f->owner_domain != NULL)
		dyn_param(&q, " AND d.owner_domain = ?", f->owner_domain, 0,
		    false);
	if (f->source != NULL)
		dyn_param(&q, " AND d.source = ?", f->source, 0, false);
	if (f->tag != NULL) {
		dyn_param(&q, " AND d.id IN (SELECT device_id FROM "
		    "device_tags WHERE team = ?", team, 0, false);
		dyn_param(&q, " AND tag = ?)", f->tag, 0, false);
	}
	if (f->identifier != NULL) {
		dyn_param(&q, " AND d.id IN (SELECT device_id FROM "
		    "device_identifiers WHERE team = ?", team, 0, false);
		dyn_param(&q, " AND value = ?)", f->identifier, 0, false);
	}
	if (f->collection != NULL)
		dyn_param(&q, " AND EXISTS (SELECT 1 FROM collections c "
		    "WHERE c.team = d.team AND c.name = ? AND " MEMBERSHIP ")",
		    f->collection, 0, false);
	if (f->seen_after > 0)
		dyn_param(&q, " AND d.last_seen_at > ?", NULL,
		    (int64_t)f->seen_after, true);
	if (f->seen_before > 0)
		dyn_param(&q, " AND d.last_seen_at < ?", NULL,
		    (int64_t)f->seen_before, true);
	if (f->has_cursor) {
		dyn_param(&q, " AND (d.created_at > ?", NULL,
		    (int64_t)f->cursor_created, true);
		dyn_param(&q, " OR (d.created_at = ?", NULL,
		    (int64_t)f->cursor_created, true);
		dyn_param(&q, " AND d.id > ?))", f->cursor_id, 0, false);
	}
	dyn_param(&q, " ORDER BY d.created_at, d.id LIMIT ?", NULL,
	    (int64_t)(f->limit > 0 ? f->limit : 1), true);
	if ((rc = dyn_prepare(tx, &q, &st)) != DV_OK)
		goto out;
	for (s = tx->drv->step(st); s == STORE_STEP_ROW;
	    s = tx->drv->step(st)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			r = xrealloc(r, cap * sizeof(*r));
		}
		dev_row(tx, st, &r[len++]);
	}
	if (s != STORE_STEP_DONE) {
		store_devices_free(r, len);
		rc = DV_ERR_STORE;
		goto out;
	}
	*v = r;
	*n = len;
out:
	tx->drv->finalize(st);
	buf_free(&q.sql);
	return rc;
}

/* ---- identifiers --------------------------------------------------- */

static void
ident_clear(struct store_ident *i)
{
	free(i->device_id);
	free(i->type);
	free(i->value);
	free(i->tpm_manufacturer);
	free(i->tpm_model);
	free(i->tpm_version);
	free(i->certificate);
	memset(i, 0, sizeof(*i));
}

void
store_idents_free(struct store_ident *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		ident_clear(&v[i]);
	free(v);
}

enum dv_rc
store_ident_insert(struct store_tx *tx, const char *team,
    const char *device_id, const struct store_ident *i)
{
	enum store_step r;

	if (!store_tx_writer(tx, "device_identifiers"))
		return DV_ERR_INTERNAL;
	r = RUN(tx, INV_Q_ID_INS, NULL, "tttttttti", team, device_id,
	    i->type, i->value, i->tpm_manufacturer, i->tpm_model,
	    i->tpm_version, i->certificate, (int64_t)dv_now());
	/* a duplicate is an expected answer the caller explains: no log */
	if (r == STORE_STEP_UNIQUE)
		return DV_ERR_EXISTS;
	return store_step_rc(r, DV_ERR_EXISTS, "device_identifier", i->value);
}

enum dv_rc
store_ident_delete(struct store_tx *tx, const char *team,
    const char *device_id, const char *value)
{
	struct store_stmt *st;

	if (!store_tx_writer(tx, "device_identifiers"))
		return DV_ERR_INTERNAL;
	return returning_one(tx, RUN(tx, INV_Q_ID_DEL, &st, "ttt", team,
	    device_id, value), &st, "device_identifier");
}

enum dv_rc
store_ident_owner(struct store_tx *tx, const char *team, const char *value,
    char **device_id)
{
	struct store_stmt *st;
	enum store_step r;

	*device_id = NULL;
	r = RUN(tx, INV_Q_ID_OWNER, &st, "tt", team, value);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	*device_id = store_strdup(tx->drv->col_text(st, 0));
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_ident_list(struct store_tx *tx, const char *device_id,
    struct store_ident **v, size_t *n)
{
	const struct store_driver *d = tx->drv;
	struct store_ident *r = NULL, *i;
	struct store_stmt *st;
	enum store_step s;
	size_t len = 0, cap = 0;

	*v = NULL;
	*n = 0;
	s = RUN(tx, INV_Q_ID_LIST, &st, "t", device_id);
	for (; s == STORE_STEP_ROW; s = d->step(st)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 4;
			r = xrealloc(r, cap * sizeof(*r));
		}
		i = &r[len++];
		i->device_id = store_strdup(d->col_text(st, 0));
		i->type = store_strdup(d->col_text(st, 1));
		i->value = store_strdup(d->col_text(st, 2));
		i->tpm_manufacturer = store_strdup(d->col_text(st, 3));
		i->tpm_model = store_strdup(d->col_text(st, 4));
		i->tpm_version = store_strdup(d->col_text(st, 5));
		i->certificate = store_strdup(d->col_text(st, 6));
	}
	if (st != NULL)
		d->reset(st);
	if (s != STORE_STEP_DONE) {
		store_idents_free(r, len);
		return DV_ERR_STORE;
	}
	*v = r;
	*n = len;
	return DV_OK;
}

/* Appends column 0 of every row of a statement started with RUN. */
static enum dv_rc
names_collect(struct store_tx *tx, enum store_step s, struct store_stmt *st,
    json_t **out)
{
	json_t *a = json_array();

	*out = NULL;
	for (; s == STORE_STEP_ROW; s = tx->drv->step(st))
		json_array_append_new(a, json_string(tx->drv->col_text(st,
		    0)));
	if (st != NULL)
		tx->drv->reset(st);
	if (s != STORE_STEP_DONE) {
		json_decref(a);
		return DV_ERR_STORE;
	}
	*out = a;
	return DV_OK;
}

enum dv_rc
store_dev_collections(struct store_tx *tx, const char *team,
    const char *device_id, json_t **names)
{
	struct store_stmt *st;
	enum store_step s;

	s = RUN(tx, INV_Q_DEV_COLLS, &st, "tt", team, device_id);
	return names_collect(tx, s, st, names);
}

enum dv_rc
store_dev_certs_revoke(struct store_tx *tx, const char *device_id,
    int reason_code, const char *reason, time_t at, json_t **revoked)
{
	const struct store_driver *d = tx->drv;
	struct store_stmt *st;
	enum store_step s;
	json_t *a, *e;
	enum dv_rc rc = DV_OK;
	size_t i;

	*revoked = NULL;
	if (!store_tx_writer(tx, "revocations"))
		return DV_ERR_INTERNAL;
	/* collected first: the inserts below run on the same connection */
	a = json_array();
	s = RUN(tx, INV_Q_CERTS_OPEN, &st, "t", device_id);
	for (; s == STORE_STEP_ROW; s = d->step(st))
		json_array_append_new(a, json_pack("{s:s,s:s}", "serial",
		    d->col_text(st, 0), "authority", d->col_text(st, 1)));
	if (st != NULL)
		d->reset(st);
	if (s != STORE_STEP_DONE) {
		json_decref(a);
		return DV_ERR_STORE;
	}
	json_array_foreach(a, i, e) {
		rc = store_step_rc(RUN(tx, INV_Q_REVOKE_INS, NULL, "ttiti",
		    json_get_str(e, "serial"), json_get_str(e, "authority"),
		    (int64_t)reason_code, reason, (int64_t)at),
		    DV_ERR_ALREADY_REVOKED, "revocation",
		    json_get_str(e, "serial"));
		if (rc != DV_OK)
			break;
	}
	if (rc != DV_OK) {
		json_decref(a);
		return rc;
	}
	*revoked = a;
	return DV_OK;
}

/* ---- collections --------------------------------------------------- */

void
store_collection_clear(struct store_collection *c)
{
	if (c == NULL)
		return;
	free(c->team);
	free(c->name);
	free(c->kind);
	free(c->os);
	free(c->source);
	free(c->rules);
	free(c->settings);
	memset(c, 0, sizeof(*c));
}

void
store_collections_free(struct store_collection *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_collection_clear(&v[i]);
	free(v);
}

static void
coll_row(struct store_tx *tx, struct store_stmt *st,
    struct store_collection *c)
{
	const struct store_driver *d = tx->drv;

	memset(c, 0, sizeof(*c));
	c->team = store_strdup(d->col_text(st, 0));
	c->name = store_strdup(d->col_text(st, 1));
	c->kind = store_strdup(d->col_text(st, 2));
	c->os = store_strdup(d->col_text(st, 3));
	c->source = store_strdup(d->col_text(st, 4));
	c->rules = store_strdup(d->col_text(st, 5));
	c->settings = store_strdup(d->col_text(st, 6));
	c->created_at = (time_t)d->col_int64(st, 7);
	c->updated_at = (time_t)d->col_int64(st, 8);
}

/* Rewrites the collection_rules rows of c from its JSON rules text. */
static enum dv_rc
coll_rules_write(struct store_tx *tx, const struct store_collection *c)
{
	json_t *rules, *r, *v;
	const char *field;
	enum dv_rc rc;
	size_t i;

	if ((rc = store_step_rc(RUN(tx, INV_Q_RULE_DEL, NULL, "tt", c->team,
	    c->name), DV_ERR_STORE, "collection_rules", c->name)) != DV_OK)
		return rc;
	rules = json_loads(c->rules, JSON_REJECT_DUPLICATES, NULL);
	if (!json_is_array(rules)) {
		json_decref(rules);
		log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what",
		    "collection_rules", "error", "rules are not an array");
		return DV_ERR_INTERNAL;
	}
	json_array_foreach(rules, i, r) {
		json_object_foreach(r, field, v) {
			if (!json_is_string(v))
				continue;
			rc = store_step_rc(RUN(tx, INV_Q_RULE_INS, NULL,
			    "tttt", c->team, c->name, field,
			    json_string_value(v)), DV_ERR_STORE,
			    "collection_rules", c->name);
			if (rc != DV_OK)
				goto out;
		}
	}
out:
	json_decref(rules);
	return rc;
}

enum dv_rc
store_coll_insert(struct store_tx *tx, const struct store_collection *c)
{
	enum dv_rc rc;

	if (!store_tx_writer(tx, "collections"))
		return DV_ERR_INTERNAL;
	rc = store_step_rc(RUN(tx, INV_Q_COLL_INS, NULL, "tttttttii",
	    c->team, c->name, c->kind, c->os, c->source, c->rules,
	    c->settings, (int64_t)c->created_at, (int64_t)c->updated_at),
	    DV_ERR_EXISTS, "collection", c->name);
	if (rc != DV_OK)
		return rc;
	return coll_rules_write(tx, c);
}

enum dv_rc
store_coll_update(struct store_tx *tx, const struct store_collection *c)
{
	struct store_stmt *st;
	enum dv_rc rc;

	if (!store_tx_writer(tx, "collections"))
		return DV_ERR_INTERNAL;
	rc = returning_one(tx, RUN(tx, INV_Q_COLL_UPD, &st, "ttttttti",
	    c->team, c->name, c->kind, c->os, c->source, c->rules,
	    c->settings, (int64_t)c->updated_at), &st, "collection");
	if (rc != DV_OK)
		return rc;
	return coll_rules_write(tx, c);
}

enum dv_rc
store_coll_delete(struct store_tx *tx, const char *team, const char *name)
{
	struct store_stmt *st;
	enum dv_rc rc;

	if (!store_tx_writer(tx, "collections"))
		return DV_ERR_INTERNAL;
	if ((rc = store_step_rc(RUN(tx, INV_Q_RULE_DEL, NULL, "tt", team,
	    name), DV_ERR_STORE, "collection_rules", name)) != DV_OK)
		return rc;
	if ((rc = store_step_rc(RUN(tx, INV_Q_MEM_DEL, NULL, "tt", team,
	    name), DV_ERR_STORE, "collection_members", name)) != DV_OK)
		return rc;
	return returning_one(tx, RUN(tx, INV_Q_COLL_DEL, &st, "tt", team,
	    name), &st, "collection");
}

enum dv_rc
store_coll_get(struct store_tx *tx, const char *team, const char *name,
    struct store_collection *out)
{
	struct store_stmt *st;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, INV_Q_COLL_GET, &st, "tt", team, name);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	coll_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_coll_list(struct store_tx *tx, const char *team,
    struct store_collection **v, size_t *n)
{
	struct store_collection *r = NULL;
	struct store_stmt *st;
	enum store_step s;
	size_t len = 0, cap = 0;

	*v = NULL;
	*n = 0;
	s = RUN(tx, INV_Q_COLL_LIST, &st, "t", team);
	for (; s == STORE_STEP_ROW; s = tx->drv->step(st)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			r = xrealloc(r, cap * sizeof(*r));
		}
		coll_row(tx, st, &r[len++]);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (s != STORE_STEP_DONE) {
		store_collections_free(r, len);
		return DV_ERR_STORE;
	}
	*v = r;
	*n = len;
	return DV_OK;
}

enum dv_rc
store_coll_members_set(struct store_tx *tx, const char *team,
    const char *name, const json_t *ids)
{
	enum store_step r;
	const json_t *e;
	const char *id;
	enum dv_rc rc;
	size_t i;

	if (!store_tx_writer(tx, "collection_members"))
		return DV_ERR_INTERNAL;
	if ((rc = store_step_rc(RUN(tx, INV_Q_MEM_DEL, NULL, "tt", team,
	    name), DV_ERR_STORE, "collection_members", name)) != DV_OK)
		return rc;
	json_array_foreach(ids, i, e) {
		if ((id = json_string_value(e)) == NULL)
			return DV_ERR_INTERNAL;
		/* a device of another team is as absent as a missing one */
		r = RUN(tx, INV_Q_DEV_IN_TEAM, NULL, "tt", team, id);
		if (r == STORE_STEP_DONE)
			return DV_ERR_NOT_FOUND;
		if (r != STORE_STEP_ROW)
			return DV_ERR_STORE;
		if ((rc = store_step_rc(RUN(tx, INV_Q_MEM_INS, NULL, "ttt",
		    team, name, id), DV_ERR_STORE, "collection_members",
		    name)) != DV_OK)
			return rc;
	}
	return DV_OK;
}

enum dv_rc
store_coll_members(struct store_tx *tx, const char *team, const char *name,
    json_t **ids, int64_t *count)
{
	struct store_stmt *st;
	enum store_step s;
	enum dv_rc rc;
	json_t *a = NULL;

	*ids = NULL;
	*count = 0;
	s = RUN(tx, INV_Q_MEM_LIST, &st, "tt", team, name);
	if ((rc = names_collect(tx, s, st, &a)) != DV_OK)
		return rc;
	*ids = a;
	*count = (int64_t)json_array_size(a);
	return DV_OK;
}

/* ---- API tokens ---------------------------------------------------- */

void
store_api_token_clear(struct store_api_token *t)
{
	if (t == NULL)
		return;
	free(t->id);
	free(t->team);
	free(t->name);
	free(t->role);
	free(t->hash);
	memset(t, 0, sizeof(*t));
}

void
store_api_tokens_free(struct store_api_token *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_api_token_clear(&v[i]);
	free(v);
}

static void
tok_row(struct store_tx *tx, struct store_stmt *st, struct store_api_token *t)
{
	const struct store_driver *d = tx->drv;

	memset(t, 0, sizeof(*t));
	t->id = store_strdup(d->col_text(st, 0));
	t->team = store_strdup(d->col_text(st, 1));
	t->name = store_strdup(d->col_text(st, 2));
	t->role = store_strdup(d->col_text(st, 3));
	t->hash = store_strdup(d->col_text(st, 4));
	t->created_at = (time_t)d->col_int64(st, 5);
	t->expires_at = (time_t)d->col_int64(st, 6);
	t->revoked_at = (time_t)d->col_int64(st, 7);
}

enum dv_rc
store_apitok_insert(struct store_tx *tx, const struct store_api_token *t)
{
	if (!store_tx_writer(tx, "api_tokens"))
		return DV_ERR_INTERNAL;
	/* expires_at 0 is stored as NULL: "never" */
	if (t->expires_at == 0)
		return store_step_rc(RUN(tx, INV_Q_TOK_INS, NULL, "tttttitt",
		    t->id, t->team, t->name, t->role, t->hash,
		    (int64_t)t->created_at, NULL, NULL), DV_ERR_EXISTS,
		    "api_token", t->id);
	return store_step_rc(RUN(tx, INV_Q_TOK_INS, NULL, "tttttiit", t->id,
	    t->team, t->name, t->role, t->hash, (int64_t)t->created_at,
	    (int64_t)t->expires_at, NULL), DV_ERR_EXISTS, "api_token", t->id);
}

enum dv_rc
store_apitok_by_hash(struct store_tx *tx, const char *hash,
    struct store_api_token *out)
{
	struct store_stmt *st;
	enum store_step r;

	memset(out, 0, sizeof(*out));
	r = RUN(tx, INV_Q_TOK_HASH, &st, "t", hash);
	if (r == STORE_STEP_DONE)
		return DV_ERR_NOT_FOUND;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	tok_row(tx, st, out);
	tx->drv->reset(st);
	return DV_OK;
}

enum dv_rc
store_apitok_list(struct store_tx *tx, const char *team,
    struct store_api_token **v, size_t *n)
{
	struct store_api_token *r = NULL;
	struct store_stmt *st;
	enum store_step s;
	size_t len = 0, cap = 0;

	*v = NULL;
	*n = 0;
	s = RUN(tx, INV_Q_TOK_LIST, &st, "t", team);
	for (; s == STORE_STEP_ROW; s = tx->drv->step(st)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 8;
			r = xrealloc(r, cap * sizeof(*r));
		}
		tok_row(tx, st, &r[len++]);
	}
	if (st != NULL)
		tx->drv->reset(st);
	if (s != STORE_STEP_DONE) {
		store_api_tokens_free(r, len);
		return DV_ERR_STORE;
	}
	*v = r;
	*n = len;
	return DV_OK;
}

enum dv_rc
store_apitok_revoke(struct store_tx *tx, const char *team, const char *id,
    time_t at)
{
	struct store_stmt *st;
	enum store_step r;
	enum dv_rc rc;

	if (!store_tx_writer(tx, "api_tokens"))
		return DV_ERR_INTERNAL;
	rc = returning_one(tx, RUN(tx, INV_Q_TOK_REVOKE, &st, "tti", team,
	    id, (int64_t)at), &st, "api_token");
	if (rc != DV_ERR_NOT_FOUND)
		return rc;
	/* no row changed: absent, or revoked before */
	r = RUN(tx, INV_Q_TOK_GET, NULL, "tt", team, id);
	if (r == STORE_STEP_ROW)
		return DV_ERR_ALREADY_REVOKED;
	return r == STORE_STEP_DONE ? DV_ERR_NOT_FOUND : DV_ERR_STORE;
}

/* ---- audit --------------------------------------------------------- */

enum dv_rc
store_audit_rows(struct store_tx *tx, const char *team, int64_t before,
    bool desc, int limit, store_audit_fn fn, void *arg)
{
	const struct store_driver *d = tx->drv;
	struct store_audit_row row;
	struct dyn q = { 0 };
	struct store_stmt *st = NULL;
	enum store_step s;
	enum dv_rc rc;
	bool where = false;

	dyn_text(&q, "SELECT id, time, team, actor, action, object, "
	    "request_id, detail, prev_hash, hash FROM audit");
	if (team != NULL) {
		dyn_param(&q, " WHERE team = ?", team, 0, false);
		where = true;
	}
	if (before > 0)
		dyn_param(&q, desc ? (where ? " AND id < ?" : " WHERE id < ?") :
		    (where ? " AND id > ?" : " WHERE id > ?"), NULL, before,
		    true);
	dyn_text(&q, desc ? " ORDER BY id DESC" : " ORDER BY id");
	if (limit > 0)
		dyn_param(&q, " LIMIT ?", NULL, (int64_t)limit, true);
	if ((rc = dyn_prepare(tx, &q, &st)) != DV_OK)
		goto out;
	for (s = d->step(st); s == STORE_STEP_ROW && rc == DV_OK;
	    s = d->step(st)) {
		row.id = d->col_int64(st, 0);
		row.time = (time_t)d->col_int64(st, 1);
		row.team = d->col_text(st, 2);
		row.actor = d->col_text(st, 3);
		row.action = d->col_text(st, 4);
		row.object = d->col_text(st, 5);
		row.request_id = d->col_text(st, 6);
		row.detail = d->col_text(st, 7);
		row.prev_hash = d->col_text(st, 8);
		row.hash = d->col_text(st, 9);
		rc = fn(&row, arg);
	}
	if (rc == DV_OK && s != STORE_STEP_DONE)
		rc = DV_ERR_STORE;
out:
	d->finalize(st);
	buf_free(&q.sql);
	return rc;
}
