/*
 * import.c - bulk import (CSV, JSON lines) and MDM apply (inv.h): upsert
 * by identifier, each row in its own savepoint, DV_INV_IMPORT_CHUNK rows
 * per write transaction.
 *
 * Rows are parsed and checked (EK keys and certificates decoded) in the
 * caller's thread; only the checked rows go to the committer, which runs
 * a chunk as one operation of the group commit: one fsync per chunk, and
 * the committer is held only for the SQL of one chunk (limits.h).
 *
 * CSV is RFC 4180 read by hand (no Debian C CSV library in our list):
 * fields separated by ',', records by LF or CRLF, a field in double quotes
 * may hold ',', CR, LF and '""' for '"'; a quote inside an unquoted field
 * or text after a closing quote is an error of that record.  A UTF-8 BOM
 * before the header is skipped; empty lines are skipped.  Every record is
 * bounded by DV_INV_MAX_ROW bytes and DV_INV_MAX_COLUMNS fields, checked
 * before anything is allocated for it.
 */
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "inv_int.h"

#define EV	"inv.import"

static const char *const upsert_names[INV_UPSERT__MAX] = {
	[INV_UPSERT_CREATED] = "created",
	[INV_UPSERT_UPDATED] = "updated",
	[INV_UPSERT_UNCHANGED] = "unchanged",
};

/* One row on its way to the store and back. */
struct row {
	size_t		 num;		/* 1-based, as reported */
	struct inv_dev_in in;		/* owned */
	enum dv_rc	 rc;
	enum inv_upsert	 result;
	char		*id;		/* owned */
	char		*detail;	/* owned */
};

/* The running import: a chunk of rows and the report so far. */
struct importer {
	struct inv	*inv;		/* borrowed */
	const char	*team;
	const struct inv_actor *actor;
	const char	*mark;		/* MDM sync mark, or NULL */
	bool		 verbose;
	struct row	*rows;		/* owned, DV_INV_IMPORT_CHUNK */
	size_t		 n;
	int64_t		 count[INV_UPSERT__MAX];
	int64_t		 rejected;
	json_t		*list;		/* owned: report rows */
};

static void
row_clear(struct row *r)
{
	inv_dev_in_clear(&r->in);
	free(r->id);
	free(r->detail);
	memset(r, 0, sizeof(*r));
}

static void
report_reject(struct importer *im, size_t num, const char *error)
{
	im->rejected++;
	json_array_append_new(im->list, json_pack("{s:I,s:s,s:s}", "row",
	    (json_int_t)num, "result", "rejected", "error",
	    error != NULL ? error : "rejected"));
}

static enum dv_rc
row_tx(struct store_tx *tx, void *arg)
{
	struct importer *im = ((void **)arg)[0];
	struct row *r = ((void **)arg)[1];

	return inv_dev_upsert(tx, im->team, &r->in, im->actor, im->mark,
	    &r->result, &r->id, &r->detail);
}

/* Whether rc refuses one row (reported) rather than the whole import. */
static bool
row_error(enum dv_rc rc)
{
	return rc == DV_ERR_MALFORMED || rc == DV_ERR_EXISTS ||
	    rc == DV_ERR_FORBIDDEN || rc == DV_ERR_TOO_LARGE ||
	    rc == DV_ERR_BAD_KEY || rc == DV_ERR_NOT_FOUND;
}

static enum dv_rc
chunk_tx(struct store_tx *tx, void *arg)
{
	struct importer *im = arg;
	void *pair[2] = { im, NULL };
	struct row *r;
	size_t i;

	for (i = 0; i < im->n; i++) {
		r = &im->rows[i];
		pair[1] = r;
		r->rc = store_tx_nested(tx, row_tx, pair);
		if (r->rc != DV_OK && !row_error(r->rc))
			return r->rc;
	}
	return DV_OK;
}

/* Writes the chunk, adds its rows to the report and empties it. */
static enum dv_rc
chunk_flush(struct importer *im)
{
	struct row *r;
	enum dv_rc rc = DV_OK;
	size_t i;

	if (im->n > 0)
		rc = store_write(im->inv->st, chunk_tx, im);
	for (i = 0; i < im->n; i++) {
		r = &im->rows[i];
		if (rc != DV_OK)
			;	/* nothing of the chunk was kept */
		else if (r->rc != DV_OK)
			report_reject(im, r->num, r->detail != NULL ?
			    r->detail : dv_rc_str(r->rc));
		else {
			im->count[r->result]++;
			if (im->verbose || r->result == INV_UPSERT_UPDATED)
				json_array_append_new(im->list, json_pack(
				    "{s:I,s:s,s:s}", "row", (json_int_t)r->num,
				    "result", upsert_names[r->result], "id",
				    r->id));
		}
		row_clear(r);
	}
	im->n = 0;
	return rc;
}

/* Checks one row body and queues it; a bad one is reported at once. */
static enum dv_rc
row_add(struct importer *im, size_t num, const json_t *body)
{
	struct row *r = &im->rows[im->n];
	char *detail = NULL;

	memset(r, 0, sizeof(*r));
	if (inv_dev_parse(body, INV_MODE_IMPORT, &r->in, &detail) != DV_OK) {
		report_reject(im, num, detail);
		free(detail);
		return DV_OK;
	}
	r->num = num;
	if (++im->n == DV_INV_IMPORT_CHUNK)
		return chunk_flush(im);
	return DV_OK;
}

static void
importer_init(struct importer *im, struct inv *inv, const char *team,
    const struct inv_actor *actor, bool verbose)
{
	memset(im, 0, sizeof(*im));
	im->inv = inv;
	im->team = team;
	im->actor = actor;
	im->verbose = verbose;
	im->rows = xcalloc(DV_INV_IMPORT_CHUNK, sizeof(*im->rows));
	im->list = json_array();
}

static void
importer_clear(struct importer *im)
{
	size_t i;

	for (i = 0; i < im->n; i++)
		row_clear(&im->rows[i]);
	free(im->rows);
	json_decref(im->list);
	memset(im, 0, sizeof(*im));
}

static json_t *
importer_report(struct importer *im)
{
	json_t *j;

	j = json_pack("{s:I,s:I,s:I,s:I,s:O}",
	    "created", (json_int_t)im->count[INV_UPSERT_CREATED],
	    "updated", (json_int_t)im->count[INV_UPSERT_UPDATED],
	    "unchanged", (json_int_t)im->count[INV_UPSERT_UNCHANGED],
	    "rejected", (json_int_t)im->rejected, "rows", im->list);
	return j;
}

/* ---- CSV ----------------------------------------------------------- */

enum csv_col {
	COL_NAME, COL_OWNER, COL_OS, COL_KIND, COL_SOURCE, COL_STATUS,
	COL_EK, COL_EK_CERT, COL_SERIAL, COL_UDID, COL_YUBIKEY, COL_TAGS,
	COL__MAX
};

static const char *const col_names[COL__MAX] = {
	[COL_NAME] = "name", [COL_OWNER] = "owner", [COL_OS] = "os",
	[COL_KIND] = "kind", [COL_SOURCE] = "source",
	[COL_STATUS] = "status", [COL_EK] = "ek", [COL_EK_CERT] = "ek_cert",
	[COL_SERIAL] = "serial", [COL_UDID] = "udid",
	[COL_YUBIKEY] = "yubikey_serial", [COL_TAGS] = "tags",
};

/* The identifier type of an identifier column, or NULL. */
static const char *const col_ident[COL__MAX] = {
	[COL_EK] = "ek", [COL_EK_CERT] = "ek-cert", [COL_SERIAL] = "serial",
	[COL_UDID] = "udid", [COL_YUBIKEY] = "yubikey-serial",
};

struct csv {
	const char	*p;		/* borrowed: next byte */
	const char	*end;
};

/* One record: fields point into buf (NUL-terminated). */
struct csv_rec {
	char		 buf[DV_INV_MAX_ROW + 1];
	char		*f[DV_INV_MAX_COLUMNS];
	size_t		 n;
};

/* Skips to the byte after the next LF (resync after a bad record). */
static void
csv_skip_line(struct csv *c)
{
	const char *nl = memchr(c->p, '\n', (size_t)(c->end - c->p));

	c->p = nl != NULL ? nl + 1 : c->end;
}

/*
 * Reads the next record into r.  DV_ERR_NOT_FOUND at the end of input;
 * on a bad record *why is a fixed text and the input is past it.
 */
static enum dv_rc
csv_next(struct csv *c, struct csv_rec *r, const char **why)
{
	size_t o = 0;
	bool quoted, start;
	char ch;

	*why = NULL;
	r->n = 0;
	/* empty lines between records */
	while (c->p < c->end && (*c->p == '\n' || (*c->p == '\r' &&
	    c->p + 1 < c->end && c->p[1] == '\n')))
		c->p += *c->p == '\r' ? 2 : 1;
	if (c->p >= c->end)
		return DV_ERR_NOT_FOUND;
	r->f[r->n++] = r->buf;
	quoted = false;
	start = true;
	while (c->p < c->end) {
		ch = *c->p++;
		if (o >= DV_INV_MAX_ROW) {
			*why = "row longer than the limit";
			goto bad;
		}
		if (quoted) {
			if (ch != '"') {
				r->buf[o++] = ch;
				continue;
			}
			if (c->p < c->end && *c->p == '"') {
				r->buf[o++] = '"';
				c->p++;
				continue;
			}
			quoted = false;
			/* only a separator or the end may follow */
			if (c->p < c->end && *c->p != ',' && *c->p != '\n' &&
			    *c->p != '\r') {
				*why = "text after a closing quote";
				goto bad;
			}
			continue;
		}
		if (ch == '"' && start) {
			quoted = true;
			start = false;
			continue;
		}
		if (ch == '"') {
			*why = "quote inside an unquoted field";
			goto bad;
		}
		if (ch == ',') {
			r->buf[o++] = '\0';
			if (r->n == DV_INV_MAX_COLUMNS) {
				*why = "more columns than the limit";
				goto bad;
			}
			r->f[r->n++] = r->buf + o;
			start = true;
			continue;
		}
		if (ch == '\r' && c->p < c->end && *c->p == '\n')
			continue;
		if (ch == '\n')
			break;
		start = false;
		r->buf[o++] = ch;
	}
	if (quoted) {
		*why = "quoted field not closed";
		return DV_ERR_MALFORMED;
	}
	r->buf[o] = '\0';
	return DV_OK;
bad:
	csv_skip_line(c);
	return DV_ERR_MALFORMED;
}

static char *
trim(char *s)
{
	char *e;

	while (*s == ' ' || *s == '\t')
		s++;
	e = s + strlen(s);
	while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
		*--e = '\0';
	return s;
}

/* Maps the header to columns: map[i] is the column of field i. */
static enum dv_rc
csv_header(struct csv_rec *r, int map[DV_INV_MAX_COLUMNS])
{
	bool seen[COL__MAX] = { false };
	char *name, *p;
	size_t i;
	int k;

	for (i = 0; i < r->n; i++) {
		name = trim(r->f[i]);
		for (p = name; *p != '\0'; p++)
			if (*p >= 'A' && *p <= 'Z')
				*p = (char)(*p - 'A' + 'a');
		for (k = 0; k < COL__MAX; k++)
			if (strcmp(name, col_names[k]) == 0)
				break;
		if (k == COL__MAX || seen[k]) {
			log_msg(LOG_INFO, EV, "{s:s,s:I}", "error",
			    "CSV header: unknown or repeated column",
			    "column", (json_int_t)i + 1);
			return DV_ERR_MALFORMED;
		}
		seen[k] = true;
		map[i] = k;
	}
	return DV_OK;
}

/* A CSV record as a device body (new); NULL with *why on bad text. */
static json_t *
csv_body(struct csv_rec *r, const int map[DV_INV_MAX_COLUMNS],
    const char **why)
{
	json_t *b, *ids, *tags, *s;
	char *v, *t, *save = NULL;
	size_t i;

	*why = NULL;
	b = json_object();
	ids = json_array();
	for (i = 0; i < r->n; i++) {
		v = trim(r->f[i]);
		if (*v == '\0')
			continue;
		if (map[i] == COL_TAGS) {
			tags = json_array();
			for (t = strtok_r(v, ";", &save); t != NULL;
			    t = strtok_r(NULL, ";", &save)) {
				t = trim(t);
				if (*t == '\0')
					continue;
				if ((s = json_string(t)) == NULL)
					break;
				json_array_append_new(tags, s);
			}
			json_object_set_new(b, "tags", tags);
			if (t != NULL)
				goto utf8;
			continue;
		}
		if ((s = json_string(v)) == NULL)
			goto utf8;
		if (col_ident[map[i]] != NULL)
			json_array_append_new(ids, json_pack("{s:s,s:o}",
			    "type", col_ident[map[i]], "value", s));
		else
			json_object_set_new(b, col_names[map[i]], s);
	}
	json_object_set_new(b, "identifiers", ids);
	return b;
utf8:
	*why = "field is not UTF-8 text";
	json_decref(ids);
	json_decref(b);
	return NULL;
}

/* Records in data: LF outside quotes, roughly (before allocating). */
static size_t
csv_count(const uint8_t *p, size_t len)
{
	size_t i, n = 0;
	bool q = false;

	for (i = 0; i < len; i++) {
		if (p[i] == '"')
			q = !q;
		else if (p[i] == '\n' && !q)
			n++;
	}
	/* the last record needs no line end */
	return len > 0 && p[len - 1] != '\n' ? n + 1 : n;
}

static enum dv_rc
import_csv(struct importer *im, const uint8_t *data, size_t len)
{
	struct csv c = { (const char *)data, (const char *)data + len };
	struct csv_rec *r;
	int map[DV_INV_MAX_COLUMNS];
	const char *why;
	json_t *body;
	size_t num = 0, ncols;
	enum dv_rc rc;

	if (len >= 3 && memcmp(data, "\xef\xbb\xbf", 3) == 0)
		c.p += 3;
	r = xmalloc(sizeof(*r));
	if ((rc = csv_next(&c, r, &why)) != DV_OK) {
		log_msg(LOG_INFO, EV, "{s:s}", "error", why != NULL ? why :
		    "CSV without a header");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if ((rc = csv_header(r, map)) != DV_OK)
		goto out;
	ncols = r->n;
	for (;;) {
		rc = csv_next(&c, r, &why);
		if (rc == DV_ERR_NOT_FOUND) {
			rc = DV_OK;
			break;
		}
		num++;
		/* as many fields as the header (RFC 4180 §2.4) */
		if (rc == DV_OK && r->n != ncols) {
			rc = DV_ERR_MALFORMED;
			why = "not as many fields as the header";
		}
		if (rc != DV_OK) {
			report_reject(im, num, why);
			continue;
		}
		if ((body = csv_body(r, map, &why)) == NULL) {
			report_reject(im, num, why);
			continue;
		}
		rc = row_add(im, num, body);
		json_decref(body);
		if (rc != DV_OK)
			goto out;
	}
	rc = chunk_flush(im);
out:
	free(r);
	return rc;
}

/* ---- JSON lines ---------------------------------------------------- */

static size_t
lines_count(const uint8_t *p, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		if (p[i] == '\n')
			n++;
	return len > 0 && p[len - 1] != '\n' ? n + 1 : n;
}

static bool
blank(const uint8_t *p, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if (p[i] != ' ' && p[i] != '\t' && p[i] != '\r')
			return false;
	return true;
}

static enum dv_rc
import_jsonl(struct importer *im, const uint8_t *data, size_t len)
{
	const uint8_t *p = data, *end = data + len, *nl;
	size_t num = 0, n;
	json_t *body;
	enum dv_rc rc;

	for (; p < end; p = nl + 1) {
		if ((nl = memchr(p, '\n', (size_t)(end - p))) == NULL)
			nl = end;
		n = (size_t)(nl - p);
		num++;
		if (blank(p, n))
			continue;
		if (n > DV_INV_MAX_ROW) {
			report_reject(im, num, "row longer than the limit");
			continue;
		}
		if (json_parse_strict(p, n, DV_INV_MAX_ROW, &body) != DV_OK) {
			report_reject(im, num, "not a JSON object (duplicate "
			    "keys, bad UTF-8 and deep nesting are refused)");
			continue;
		}
		rc = row_add(im, num, body);
		json_decref(body);
		if (rc != DV_OK)
			return rc;
	}
	return chunk_flush(im);
}

enum dv_rc
inv_import(struct inv *inv, const char *team, const char *format,
    const uint8_t *data, size_t len, bool verbose,
    const struct inv_actor *actor, json_t **report)
{
	struct importer im;
	bool csv;
	size_t rows;
	enum dv_rc rc;

	*report = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if (format == NULL || (strcmp(format, "csv") != 0 &&
	    strcmp(format, "jsonl") != 0)) {
		log_msg(LOG_INFO, EV, "{s:s}", "error", "format must be csv or "
		    "jsonl");
		return DV_ERR_MALFORMED;
	}
	csv = strcmp(format, "csv") == 0;
	/* counted before anything is written: all or nothing on the limit */
	rows = csv ? csv_count(data, len) : lines_count(data, len);
	if (rows > DV_INV_MAX_IMPORT_ROWS + (csv ? 1 : 0)) {
		log_msg(LOG_INFO, EV, "{s:s,s:I}", "error", "more rows than "
		    "DV_INV_MAX_IMPORT_ROWS", "rows", (json_int_t)rows);
		return DV_ERR_TOO_LARGE;
	}
	importer_init(&im, inv, team, actor, verbose);
	rc = csv ? import_csv(&im, data, len) : import_jsonl(&im, data, len);
	if (rc == DV_OK) {
		*report = importer_report(&im);
		log_msg(LOG_INFO, EV, "{s:s,s:I,s:I,s:I,s:I}", "team", team,
		    "created", (json_int_t)im.count[INV_UPSERT_CREATED],
		    "updated", (json_int_t)im.count[INV_UPSERT_UPDATED],
		    "unchanged", (json_int_t)im.count[INV_UPSERT_UNCHANGED],
		    "rejected", (json_int_t)im.rejected);
	}
	importer_clear(&im);
	return rc;
}

/* ---- MDM apply ----------------------------------------------------- */

struct missing_op {
	const char	*team;
	const char	*source;	/* "mdm:<name>" */
	const char	*mark;
	const struct inv_actor *actor;
	json_t		*ids;		/* owned */
};

static enum dv_rc
missing_tx(struct store_tx *tx, void *arg)
{
	struct missing_op *op = arg;
	const json_t *id;
	json_t *audit;
	enum dv_rc rc;
	size_t i;

	if ((rc = store_dev_mark_missing(tx, op->team, op->source, op->mark,
	    dv_now(), &op->ids)) != DV_OK)
		return rc;
	audit = json_pack("{s:s}", "source", op->source);
	json_array_foreach(op->ids, i, id) {
		rc = inv_audit(tx, op->team, op->actor, "device.missing",
		    json_string_value(id), audit);
		if (rc != DV_OK)
			break;
	}
	json_decref(audit);
	return rc;
}

enum dv_rc
inv_mdm_apply(struct inv *inv, const char *team, const char *source,
    const json_t *devices, bool full, const struct inv_actor *actor,
    json_t **report)
{
	struct missing_op mop = { 0 };
	struct importer im;
	const json_t *d;
	json_t *body;
	char *src, *mark;
	size_t i;
	enum dv_rc rc = DV_OK;

	*report = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if (source == NULL || !inv_team_ok(source) || !json_is_array(devices)
	    || json_array_size(devices) > DV_INV_MAX_IMPORT_ROWS) {
		log_msg(LOG_INFO, EV, "{s:s}", "error", "MDM apply: bad source "
		    "name or device list");
		return DV_ERR_MALFORMED;
	}
	src = xasprintf("mdm:%s", source);
	/* a sync of its own: devices it sees carry the mark, the rest of
	 * the source's devices are missing from it */
	mark = inv_id_new("sync_", 16);
	importer_init(&im, inv, team, actor, false);
	im.mark = mark;
	json_array_foreach(devices, i, d) {
		if (!json_is_object(d)) {
			report_reject(&im, i + 1, "the device must be a JSON "
			    "object");
			continue;
		}
		body = json_copy((json_t *)d);
		json_object_set_new(body, "source", json_string(src));
		rc = row_add(&im, i + 1, body);
		json_decref(body);
		if (rc != DV_OK)
			goto out;
	}
	if ((rc = chunk_flush(&im)) != DV_OK)
		goto out;
	if (full) {
		mop.team = team;
		mop.source = src;
		mop.mark = mark;
		mop.actor = actor;
		if ((rc = store_write(inv->st, missing_tx, &mop)) != DV_OK)
			goto out;
	}
	*report = importer_report(&im);
	json_object_set_new(*report, "missing", json_integer(
	    (json_int_t)json_array_size(mop.ids)));
	log_msg(LOG_INFO, EV, "{s:s,s:s,s:b,s:I,s:I,s:I,s:I,s:I}", "team",
	    team, "source", src, "full", full,
	    "created", (json_int_t)im.count[INV_UPSERT_CREATED],
	    "updated", (json_int_t)im.count[INV_UPSERT_UPDATED],
	    "unchanged", (json_int_t)im.count[INV_UPSERT_UNCHANGED],
	    "rejected", (json_int_t)im.rejected,
	    "missing", (json_int_t)json_array_size(mop.ids));
out:
	json_decref(mop.ids);
	importer_clear(&im);
	free(mark);
	free(src);
	return rc;
}
