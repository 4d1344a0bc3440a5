/*
 * store_sqlite.c - the SQLite 3 driver of the store (store_int.h).
 *
 * Every connection: extended result codes (to tell a UNIQUE violation from a
 * FOREIGN KEY one), foreign keys on, a busy timeout.  The writer also sets
 * journal_mode=WAL, so readers never wait for the committer nor it for them,
 * and synchronous=FULL, so that COMMIT returns only after the WAL was
 * fsync'ed: a certificate is on disk before any byte of it leaves (DESIGN
 * §6).  After set_durable(false) commits run under synchronous=NORMAL: their
 * frames reach the WAL (the OS's page cache) without an fsync, and the
 * next durable commit's fsync of the same file covers them.  Readers are
 * query_only.  The volatile connection opens its own file, the database's
 * path + STORE_SQLITE_VOLATILE, in WAL mode with synchronous=NORMAL: a
 * commit only appends to the WAL (no fsync; the checkpoints sync), which
 * keeps the file consistent through a crash but may lose the last commits,
 * as store_write_volatile() allows.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

#include "store_int.h"

/*
 * Milliseconds a connection waits for a lock held by another connection:
 * in this process only at the checkpoint and on first open, but a second
 * process (devid-ca init, sqlite3 shell) may hold the write lock for a
 * while.  Five seconds, then the operation fails with DV_ERR_STORE.
 */
#define STORE_SQLITE_BUSY_MS	5000
/* Savepoint statements (verb + name) kept prepared per connection. */
#define STORE_SQLITE_SP_KEPT	8
/* Suffix of the volatile database's file name. */
#define STORE_SQLITE_VOLATILE	"-volatile"

struct store_conn {
	sqlite3		*db;		/* owned */
	/* owned, prepared at first use: every transaction runs them, and
	 * sqlite3_exec would parse them each time */
	sqlite3_stmt	*begin;
	sqlite3_stmt	*begin_read;
	sqlite3_stmt	*commit;
	sqlite3_stmt	*sync[2];	/* synchronous = NORMAL, FULL */
	/* likewise the savepoint statements (store.c uses a few names) */
	struct {
		char		 sql[48];
		sqlite3_stmt	*st;	/* owned, NULL: free slot */
	}		 sp[STORE_SQLITE_SP_KEPT];
};

struct store_stmt {
	sqlite3_stmt	*st;		/* owned */
	sqlite3		*db;		/* borrowed from the connection */
	int		 bind_rc;	/* first failed bind, SQLITE_OK if none */
	/* parameter i is "$i" for every i (store_int.h's numbering), so
	 * binds skip the lookup by name */
	bool		 numbered;
	int		 nparam;
};

static void
sqlite_log(sqlite3 *db, const char *what, int rc)
{
	log_msg(LOG_ERR, "store.sqlite", "{s:s,s:i,s:s}", "op", what,
	    "code", rc, "error",
	    db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
}

static enum dv_rc
sqlite_exec(struct store_conn *c, const char *sql)
{
	char *msg = NULL;
	int rc;

	rc = sqlite3_exec(c->db, sql, NULL, NULL, &msg);
	if (rc != SQLITE_OK) {
		log_msg(LOG_ERR, "store.sqlite", "{s:s,s:i,s:s}", "op", "exec",
		    "code", rc, "error", msg != NULL ? msg : sqlite3_errstr(rc));
		sqlite3_free(msg);
		return DV_ERR_STORE;
	}
	return DV_OK;
}

/* Runs a one-row pragma and compares its text answer to want. */
static enum dv_rc
sqlite_pragma_is(sqlite3 *db, const char *sql, const char *want)
{
	sqlite3_stmt *st = NULL;
	const char *got;
	enum dv_rc rc = DV_ERR_STORE;
	int src;

	if ((src = sqlite3_prepare_v2(db, sql, -1, &st, NULL)) != SQLITE_OK) {
		sqlite_log(db, sql, src);
		goto out;
	}
	if ((src = sqlite3_step(st)) != SQLITE_ROW) {
		sqlite_log(db, sql, src);
		goto out;
	}
	got = (const char *)sqlite3_column_text(st, 0);
	if (got == NULL || strcmp(got, want) != 0) {
		log_msg(LOG_ERR, "store.sqlite", "{s:s,s:s,s:s?}", "op", sql,
		    "want", want, "got", got);
		goto out;
	}
	rc = DV_OK;
out:
	sqlite3_finalize(st);
	return rc;
}

static void
sqlite_close(struct store_conn *c)
{
	size_t i;

	if (c == NULL)
		return;
	sqlite3_finalize(c->begin);
	sqlite3_finalize(c->begin_read);
	sqlite3_finalize(c->commit);
	sqlite3_finalize(c->sync[0]);
	sqlite3_finalize(c->sync[1]);
	for (i = 0; i < STORE_SQLITE_SP_KEPT; i++)
		sqlite3_finalize(c->sp[i].st);
	/* close_v2 so that a leaked statement cannot keep the file open */
	sqlite3_close_v2(c->db);
	free(c);
}

/*
 * Process-wide settings, before SQLite initialises: no memory statistics.
 * With them on (the default) every allocation SQLite makes takes one
 * global mutex to count bytes that nothing here reads, and the threads
 * that use connections at once (event loops, validators, the committer)
 * meet on it.  sqlite3_config fails harmlessly (SQLITE_MISUSE) if SQLite
 * was initialised already.
 */
static pthread_once_t sqlite_once = PTHREAD_ONCE_INIT;

static void
sqlite_global_init(void)
{
	(void)sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

static enum dv_rc
sqlite_open(const char *target, enum store_role role, struct store_conn **out)
{
	struct store_conn *c;
	char *path = NULL;
	int flags, src;

	*out = NULL;
	pthread_once(&sqlite_once, sqlite_global_init);
	c = xcalloc(1, sizeof(*c));
	/* One thread at a time uses a connection: no per-connection mutex.
	 * URIs are off so that a path is always a path. */
	flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX;
	if (role == STORE_ROLE_WRITER || role == STORE_ROLE_VOLATILE)
		flags |= SQLITE_OPEN_CREATE;
	if (role == STORE_ROLE_VOLATILE)
		path = xasprintf("%s%s", target, STORE_SQLITE_VOLATILE);
	src = sqlite3_open_v2(path != NULL ? path : target, &c->db, flags,
	    NULL);
	free(path);
	if (src != SQLITE_OK) {
		sqlite_log(c->db, "open", src);
		goto err;
	}
	sqlite3_extended_result_codes(c->db, 1);
	sqlite3_busy_timeout(c->db, STORE_SQLITE_BUSY_MS);
	if (sqlite_exec(c, "PRAGMA foreign_keys = ON") != DV_OK)
		goto err;
	if (role == STORE_ROLE_WRITER) {
		/* journal_mode answers with the mode it got: a :memory: or
		 * read-only database silently stays out of WAL. */
		if (sqlite_pragma_is(c->db, "PRAGMA journal_mode = WAL",
		    "wal") != DV_OK)
			goto err;
		if (sqlite_exec(c, "PRAGMA synchronous = FULL") != DV_OK)
			goto err;
		/*
		 * 64 MiB of page cache (default 2 MiB) for the one writer:
		 * the inventory's indexes (random EK URNs) outgrow 2 MiB at
		 * a few ten thousand devices, after which every insert
		 * re-reads index pages from the OS (bulk import 3x slower).
		 * A ceiling, allocated only as pages are used.
		 */
		if (sqlite_exec(c, "PRAGMA cache_size = -65536") != DV_OK)
			goto err;
		/*
		 * Statement journals in memory: each operation of a batch
		 * runs in its own savepoint, and SQLite copies every page
		 * the savepoint dirties into a sub-journal that spills to a
		 * file in /var/tmp past 64 KiB (a batch of three issuances
		 * did: 2.7 writes of up to 60 KiB per certificate).  A
		 * RELEASE empties the in-memory journal, so it holds one
		 * operation's pages at most.
		 */
		if (sqlite_exec(c, "PRAGMA temp_store = MEMORY") != DV_OK)
			goto err;
	} else if (role == STORE_ROLE_VOLATILE) {
		/*
		 * Small pages for small rows: a commit writes and checksums
		 * every page it dirtied into the WAL (1 KiB: a third less
		 * CPU per nonce than 4 KiB).  Only a new file takes it.
		 */
		if (sqlite_exec(c, "PRAGMA page_size = 1024") != DV_OK)
			goto err;
		if (sqlite_pragma_is(c->db, "PRAGMA journal_mode = WAL",
		    "wal") != DV_OK)
			goto err;
		/* WAL + NORMAL: consistent after a crash, not durable */
		if (sqlite_exec(c, "PRAGMA synchronous = NORMAL") != DV_OK)
			goto err;
		if (sqlite_exec(c, "PRAGMA temp_store = MEMORY") != DV_OK)
			goto err;
	} else {
		if (sqlite_exec(c, "PRAGMA query_only = ON") != DV_OK)
			goto err;
	}
	*out = c;
	return DV_OK;
err:
	sqlite_close(c);
	return DV_ERR_STORE;
}

/* Runs the statement sql kept in *slot (prepared at first use). */
static enum dv_rc
sqlite_run_kept(struct store_conn *c, sqlite3_stmt **slot, const char *sql)
{
	int src;

	if (*slot == NULL && (src = sqlite3_prepare_v3(c->db, sql, -1,
	    SQLITE_PREPARE_PERSISTENT, slot, NULL)) != SQLITE_OK) {
		sqlite_log(c->db, sql, src);
		return DV_ERR_STORE;
	}
	src = sqlite3_step(*slot);
	(void)sqlite3_reset(*slot);
	if (src != SQLITE_DONE) {
		sqlite_log(c->db, sql, src);
		return DV_ERR_STORE;
	}
	return DV_OK;
}

static enum dv_rc
sqlite_begin(struct store_conn *c)
{
	return sqlite_run_kept(c, &c->begin, "BEGIN IMMEDIATE");
}

static enum dv_rc
sqlite_begin_read(struct store_conn *c)
{
	return sqlite_run_kept(c, &c->begin_read, "BEGIN DEFERRED");
}

static enum dv_rc
sqlite_commit(struct store_conn *c)
{
	return sqlite_run_kept(c, &c->commit, "COMMIT");
}

static enum dv_rc
sqlite_set_durable(struct store_conn *c, bool durable)
{
	/* in WAL mode NORMAL syncs only at checkpoints; a FULL commit syncs
	 * the WAL file, and with it the frames of earlier NORMAL commits */
	return sqlite_run_kept(c, &c->sync[durable], durable ?
	    "PRAGMA synchronous = FULL" : "PRAGMA synchronous = NORMAL");
}

static enum dv_rc
sqlite_flush(struct store_conn *c)
{
	/* PASSIVE never waits for readers; the sync of the WAL before the
	 * copy is what makes the last commits durable */
	return sqlite_exec(c, "PRAGMA wal_checkpoint(PASSIVE)");
}

static void
sqlite_rollback(struct store_conn *c)
{
	/* After some errors (SQLITE_FULL, IOERR) SQLite has already rolled
	 * back; a second ROLLBACK would only log a spurious failure. */
	if (!sqlite3_get_autocommit(c->db))
		(void)sqlite_exec(c, "ROLLBACK");
}

static enum dv_rc
sqlite_sp(struct store_conn *c, const char *verb, const char *name)
{
	char sql[96];
	size_t i;
	int n;

	n = snprintf(sql, sizeof(sql), "%s %s", verb, name);
	if (n < 0 || (size_t)n >= sizeof(sql)) {
		log_msg(LOG_ERR, "store.sqlite", "{s:s,s:s}", "op", verb,
		    "error", "savepoint name too long");
		return DV_ERR_INTERNAL;
	}
	for (i = 0; (size_t)n < sizeof(c->sp[0].sql) &&
	    i < STORE_SQLITE_SP_KEPT; i++) {
		if (c->sp[i].st == NULL)
			memcpy(c->sp[i].sql, sql, (size_t)n + 1);
		if (strcmp(c->sp[i].sql, sql) == 0)
			return sqlite_run_kept(c, &c->sp[i].st, sql);
	}
	return sqlite_exec(c, sql);	/* more names than kept */
}

static enum dv_rc
sqlite_savepoint(struct store_conn *c, const char *name)
{
	return sqlite_sp(c, "SAVEPOINT", name);
}

static enum dv_rc
sqlite_release(struct store_conn *c, const char *name)
{
	return sqlite_sp(c, "RELEASE", name);
}

static enum dv_rc
sqlite_rollback_to(struct store_conn *c, const char *name)
{
	return sqlite_sp(c, "ROLLBACK TO", name);
}

/* Sets s->numbered when SQLite gave each "$i" the index i (it numbers
 * parameters in order of first appearance, as store_int.h writes them). */
static void
sqlite_numbering(struct store_stmt *s)
{
	const char *name;
	char want[16];
	int i;

	s->nparam = sqlite3_bind_parameter_count(s->st);
	s->numbered = true;
	for (i = 1; i <= s->nparam && s->numbered; i++) {
		(void)snprintf(want, sizeof(want), "$%d", i);
		name = sqlite3_bind_parameter_name(s->st, i);
		s->numbered = name != NULL && strcmp(name, want) == 0;
	}
}

static enum dv_rc
sqlite_prepare(struct store_conn *c, const char *sql, struct store_stmt **out)
{
	struct store_stmt *s;
	int src;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	s->db = c->db;
	/* PERSISTENT: these statements are cached for the connection's
	 * lifetime (store.c), which is what the flag tunes for. */
	src = sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT,
	    &s->st, NULL);
	if (src != SQLITE_OK) {
		sqlite_log(c->db, "prepare", src);
		free(s);
		return DV_ERR_STORE;
	}
	sqlite_numbering(s);
	*out = s;
	return DV_OK;
}

static void
sqlite_finalize(struct store_stmt *s)
{
	if (s == NULL)
		return;
	sqlite3_finalize(s->st);
	free(s);
}

static void
sqlite_reset(struct store_stmt *s)
{
	/* reset returns the error of the last step again: already logged */
	(void)sqlite3_reset(s->st);
	sqlite3_clear_bindings(s->st);
	s->bind_rc = SQLITE_OK;
}

/* Index of "$i" in the statement; 0 if it has no such parameter. */
static int
sqlite_param(struct store_stmt *s, int i)
{
	char name[16];

	if (s->numbered)
		return i >= 1 && i <= s->nparam ? i : 0;
	(void)snprintf(name, sizeof(name), "$%d", i);
	return sqlite3_bind_parameter_index(s->st, name);
}

static void
sqlite_bind_rc(struct store_stmt *s, int src)
{
	if (src != SQLITE_OK && s->bind_rc == SQLITE_OK)
		s->bind_rc = src;
}

static void
sqlite_bind_text(struct store_stmt *s, int i, const char *v)
{
	int p;

	if ((p = sqlite_param(s, i)) == 0) {
		sqlite_bind_rc(s, SQLITE_RANGE);
		return;
	}
	if (v == NULL)
		sqlite_bind_rc(s, sqlite3_bind_null(s->st, p));
	else
		sqlite_bind_rc(s, sqlite3_bind_text(s->st, p, v, -1,
		    SQLITE_TRANSIENT));
}

static void
sqlite_bind_int64(struct store_stmt *s, int i, int64_t v)
{
	int p;

	if ((p = sqlite_param(s, i)) == 0) {
		sqlite_bind_rc(s, SQLITE_RANGE);
		return;
	}
	sqlite_bind_rc(s, sqlite3_bind_int64(s->st, p, v));
}

static void
sqlite_bind_blob(struct store_stmt *s, int i, const void *v, size_t len)
{
	int p;

	if ((p = sqlite_param(s, i)) == 0) {
		sqlite_bind_rc(s, SQLITE_RANGE);
		return;
	}
	sqlite_bind_rc(s, sqlite3_bind_blob64(s->st, p, v != NULL ? v : "",
	    len, SQLITE_TRANSIENT));
}

static enum store_step
sqlite_step(struct store_stmt *s)
{
	int src;

	if (s->bind_rc != SQLITE_OK) {
		log_msg(LOG_ERR, "store.sqlite", "{s:s,s:i,s:s,s:s}", "op",
		    "bind", "code", s->bind_rc, "error",
		    sqlite3_errstr(s->bind_rc), "sql", sqlite3_sql(s->st));
		return STORE_STEP_ERROR;
	}
	switch ((src = sqlite3_step(s->st))) {
	case SQLITE_ROW:
		return STORE_STEP_ROW;
	case SQLITE_DONE:
		return STORE_STEP_DONE;
	case SQLITE_CONSTRAINT_PRIMARYKEY:
	case SQLITE_CONSTRAINT_UNIQUE:
		return STORE_STEP_UNIQUE;
	case SQLITE_CONSTRAINT_FOREIGNKEY:
		return STORE_STEP_FOREIGN;
	default:
		sqlite_log(s->db, "step", src);
		return STORE_STEP_ERROR;
	}
}

static const char *
sqlite_col_text(struct store_stmt *s, int i)
{
	return (const char *)sqlite3_column_text(s->st, i);
}

static int64_t
sqlite_col_int64(struct store_stmt *s, int i)
{
	return sqlite3_column_int64(s->st, i);
}

static const void *
sqlite_col_blob(struct store_stmt *s, int i, size_t *len)
{
	const void *p;

	/* blob before bytes: the documented order that avoids a conversion */
	p = sqlite3_column_blob(s->st, i);
	*len = (size_t)sqlite3_column_bytes(s->st, i);
	return p;
}

static enum dv_rc
sqlite_check(struct store_conn *c)
{
	return sqlite_pragma_is(c->db, "PRAGMA integrity_check", "ok");
}

const struct store_driver store_driver_sqlite = {
	.name = "sqlite",
	.open = sqlite_open,
	.close = sqlite_close,
	.exec = sqlite_exec,
	.begin = sqlite_begin,
	.begin_read = sqlite_begin_read,
	.commit = sqlite_commit,
	.set_durable = sqlite_set_durable,
	.flush = sqlite_flush,
	.rollback = sqlite_rollback,
	.savepoint = sqlite_savepoint,
	.release = sqlite_release,
	.rollback_to = sqlite_rollback_to,
	.prepare = sqlite_prepare,
	.finalize = sqlite_finalize,
	.reset = sqlite_reset,
	.bind_text = sqlite_bind_text,
	.bind_int64 = sqlite_bind_int64,
	.bind_blob = sqlite_bind_blob,
	.step = sqlite_step,
	.col_text = sqlite_col_text,
	.col_int64 = sqlite_col_int64,
	.col_blob = sqlite_col_blob,
	.check = sqlite_check,
};
