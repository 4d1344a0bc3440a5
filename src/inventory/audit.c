/*
 * audit.c - the audit log of the inventory (inv.h): verify the hash chain
 * (store.c describes the canonical row), export JSON lines, list pages.
 * Rows are appended by every write of the inventory and of the
 * authorities, in the transaction of the change (store_tx_audit).
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "inv_int.h"

#define EV	"inv.audit"

enum dv_rc
inv_audit_verify(struct inv *inv, json_t **out)
{
	struct store_audit_report rep;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = store_audit_check(inv->st, &rep)) != DV_OK)
		return rc;
	*out = json_pack("{s:b,s:I}", "ok", rep.ok, "rows",
	    (json_int_t)rep.rows);
	json_object_set_new(*out, "firstBad", rep.ok ? json_null() :
	    json_integer((json_int_t)rep.first_bad));
	json_object_set_new(*out, "reason", rep.ok ? json_null() :
	    json_string(rep.reason));
	return DV_OK;
}

/* The JSON of one audit row (new reference). */
static json_t *
row_json(const struct store_audit_row *r)
{
	json_t *j, *detail = NULL;

	/* detail is JSON text the inventory wrote; anything else (a row
	 * changed behind our back) is kept as a string, not dropped */
	if (r->detail != NULL && (detail = json_loads(r->detail,
	    JSON_DECODE_ANY, NULL)) == NULL)
		detail = json_string(r->detail);
	j = json_pack("{s:I,s:o,s:s?,s:s?,s:s?,s:s?,s:s?,s:o?,s:s?,s:s?}",
	    "id", (json_int_t)r->id, "time", inv_time_json(r->time),
	    "team", r->team, "actor", r->actor, "action", r->action,
	    "object", r->object, "requestId", r->request_id,
	    "detail", detail, "prevHash", r->prev_hash, "hash", r->hash);
	return j != NULL ? j : json_pack("{s:I,s:s}", "id", (json_int_t)r->id,
	    "error", "row is not text");
}

struct export_op {
	const char	*team;
	int		 fd;
	struct buf	 b;		/* owned: pending output */
};

static enum dv_rc
export_flush(struct export_op *op)
{
	size_t o = 0;
	ssize_t n;

	while (o < op->b.len) {
		n = write(op->fd, op->b.data + o, op->b.len - o);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			log_msg(LOG_ERR, EV, "{s:s,s:s}", "error", "export "
			    "write failed", "errno", strerror(errno));
			return DV_ERR_IO;
		}
		o += (size_t)n;
	}
	op->b.len = 0;
	return DV_OK;
}

static enum dv_rc
export_row(const struct store_audit_row *r, void *arg)
{
	struct export_op *op = arg;
	json_t *j = row_json(r);
	char *s = inv_json_text(j);

	json_decref(j);
	buf_append(&op->b, s, strlen(s));
	buf_append(&op->b, "\n", 1);
	free(s);
	return op->b.len >= 64 * 1024 ? export_flush(op) : DV_OK;
}

static enum dv_rc
export_tx(struct store_tx *tx, void *arg)
{
	return store_audit_rows(tx, ((struct export_op *)arg)->team, 0, false,
	    0, export_row, arg);
}

enum dv_rc
inv_audit_export(struct inv *inv, const char *team, int fd)
{
	struct export_op op = { .team = team, .fd = fd };
	enum dv_rc rc;

	if (team != NULL && !inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, export_tx, &op)) == DV_OK)
		rc = export_flush(&op);
	buf_free(&op.b);
	return rc;
}

struct list_op {
	const char	*team;
	int64_t		 before;
	int		 limit;
	json_t		*events;	/* owned */
	int64_t		 last;
};

static enum dv_rc
list_row(const struct store_audit_row *r, void *arg)
{
	struct list_op *op = arg;

	json_array_append_new(op->events, row_json(r));
	op->last = r->id;
	return DV_OK;
}

static enum dv_rc
list_tx(struct store_tx *tx, void *arg)
{
	struct list_op *op = arg;

	return store_audit_rows(tx, op->team, op->before, true, op->limit,
	    list_row, op);
}

enum dv_rc
inv_audit_list(struct inv *inv, const char *team, const char *cursor,
    int limit, json_t **out)
{
	struct list_op op = { .team = team };
	uint8_t *b = NULL, id8[8];
	char *next = NULL;
	size_t len = 0, i;
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if (limit < 0 || limit > DV_LIST_MAX)
		return DV_ERR_MALFORMED;
	op.limit = limit == 0 ? DV_LIST_DEFAULT : limit;
	/* the cursor: base64url of the last id seen, 8 bytes big-endian;
	 * pages go from the newest row back */
	if (cursor != NULL && cursor[0] != '\0') {
		if (strlen(cursor) > 16 || inv_b64url_decode(cursor, &b,
		    &len) != DV_OK || len != 8) {
			free(b);
			log_msg(LOG_INFO, EV, "{s:s}", "error", "bad cursor");
			return DV_ERR_MALFORMED;
		}
		for (i = 0; i < 8; i++)
			op.before = op.before << 8 | b[i];
		free(b);
		if (op.before <= 1) {
			*out = json_pack("{s:[],s:s}", "events", "nextCursor",
			    "");
			return DV_OK;
		}
	}
	op.events = json_array();
	if ((rc = store_read(inv->st, list_tx, &op)) != DV_OK) {
		json_decref(op.events);
		return rc;
	}
	if (json_array_size(op.events) == (size_t)op.limit && op.last > 1) {
		for (i = 0; i < 8; i++)
			id8[i] = (uint8_t)((uint64_t)op.last >> (56 - 8 * i));
		next = inv_b64url(id8, sizeof(id8));
	}
	*out = json_pack("{s:o,s:s}", "events", op.events, "nextCursor",
	    next != NULL ? next : "");
	free(next);
	return DV_OK;
}
