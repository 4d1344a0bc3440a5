/*
 * store_int.h - the driver interface of the store (STYLE rule 1: no other
 * module includes this file).
 *
 * store.c holds everything that does not depend on the engine: URL parsing,
 * migrations, the committer thread and group commit, the SQL of every typed
 * operation.  A driver only moves SQL text and values to and from one
 * engine.  The SQL is written once, in the dialect SQLite and PostgreSQL
 * share:
 *   - parameters are numbered "$1", "$2", ... in order of first appearance
 *     (PostgreSQL's native form; SQLite takes "$1" as a named parameter,
 *     which its driver binds by name);
 *   - types are TEXT, BIGINT, INTEGER and BLOB; BLOB is the one type name a
 *     driver may rewrite in migrations (PostgreSQL: BYTEA);
 *   - INSERT ... ON CONFLICT ... DO UPDATE ... RETURNING, SAVEPOINT, RELEASE
 *     and ROLLBACK TO are standard in both engines.
 *
 * A connection is used by one thread at a time.  Every failure a driver
 * reports as DV_ERR_STORE or STORE_STEP_ERROR has been logged by the driver
 * (once, with the engine's message); constraint violations are not errors
 * of the engine and are returned as STORE_STEP_UNIQUE / _FOREIGN without a
 * log line, for store.c to map to DV_ERR_TOKEN_REUSED, ... (rule 9).
 */
#ifndef DV_STORE_INT_H
#define DV_STORE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "base/base.h"

struct store_conn;	/* one engine connection, driver-defined */
struct store_stmt;	/* one prepared statement, driver-defined */

enum store_role {
	STORE_ROLE_WRITER,	/* the committer's connection, runs migrations */
	STORE_ROLE_READER,	/* a pooled connection that only reads */
	/*
	 * The connection of store_write_volatile(): rows every node can
	 * read and write but that a crash may lose, so its commits need not
	 * reach the disk (SQLite: a second file beside the database, WAL with
	 * synchronous=NORMAL; PostgreSQL: the same database with
	 * synchronous_commit = off).  Not migrated: store.c creates its few
	 * tables when missing.
	 */
	STORE_ROLE_VOLATILE,
	STORE_ROLE__MAX
};

/* Outcome of one step of a statement. */
enum store_step {
	STORE_STEP_ROW,		/* a row is available through col_* */
	STORE_STEP_DONE,	/* the statement has finished */
	STORE_STEP_UNIQUE,	/* UNIQUE or PRIMARY KEY violation */
	STORE_STEP_FOREIGN,	/* FOREIGN KEY violation */
	STORE_STEP_ERROR,	/* engine failure, logged by the driver */
	STORE_STEP__MAX
};

struct store_driver {
	const char	*name;		/* "sqlite", "postgresql" */

	/*
	 * Opens target (the URL with its scheme removed) for role: the
	 * writer gets the durability settings (SQLite: WAL,
	 * synchronous=FULL), the volatile connection its own (above), every
	 * connection foreign keys and a busy timeout.  *out is new (close).
	 */
	enum dv_rc	(*open)(const char *target, enum store_role,
			    struct store_conn **out);
	/* Finalises nothing: every statement must be finalised first.
	 * Accepts NULL. */
	void		(*close)(struct store_conn *);
	/* Runs SQL text of one or more statements without parameters whose
	 * rows, if any, are discarded (migrations, pragmas). */
	enum dv_rc	(*exec)(struct store_conn *, const char *sql);

	/* A write transaction that holds the engine's write lock from its
	 * start (SQLite BEGIN IMMEDIATE), so that it cannot fail later on a
	 * lock upgrade. */
	enum dv_rc	(*begin)(struct store_conn *);
	/* A read transaction (SQLite BEGIN DEFERRED: the snapshot is taken
	 * by the first read), ended with commit: the reads of one
	 * store_read() see one state and take the engine's read locks once,
	 * not once per statement. */
	enum dv_rc	(*begin_read)(struct store_conn *);
	/* Commits; returns once the engine reports the commit durable
	 * (unless set_durable(false) was called, below). */
	enum dv_rc	(*commit)(struct store_conn *);
	/*
	 * Writer only, between transactions: whether the next commits wait
	 * for the disk (true, the default) or only keep the database
	 * consistent, so that a crash may lose them but never a part of one
	 * (SQLite in WAL mode: synchronous=FULL or NORMAL; PostgreSQL:
	 * synchronous_commit on or off).  A durable commit makes every
	 * earlier commit durable too.
	 */
	enum dv_rc	(*set_durable)(struct store_conn *, bool durable);
	/* Writer only, outside a transaction: makes every commit so far
	 * durable (SQLite: a WAL checkpoint, which syncs). */
	enum dv_rc	(*flush)(struct store_conn *);
	/* Rolls back the open transaction, if any; never fails. */
	void		(*rollback)(struct store_conn *);
	/* Savepoints inside the write transaction; name is an identifier
	 * chosen by store.c, never user data. */
	enum dv_rc	(*savepoint)(struct store_conn *, const char *name);
	enum dv_rc	(*release)(struct store_conn *, const char *name);
	enum dv_rc	(*rollback_to)(struct store_conn *, const char *name);

	/* Prepares one statement of sql.  *out is new (finalize). */
	enum dv_rc	(*prepare)(struct store_conn *, const char *sql,
			    struct store_stmt **out);
	/* Accepts NULL. */
	void		(*finalize)(struct store_stmt *);
	/* Ends the current execution, releasing its locks and snapshot, and
	 * clears the bindings. */
	void		(*reset)(struct store_stmt *);

	/*
	 * Binds parameter "$i" (1-based).  A failure is remembered in the
	 * statement and reported (logged) by the next step, so that callers
	 * bind several values and check once.  bind_text(NULL) binds SQL
	 * NULL.
	 */
	void		(*bind_text)(struct store_stmt *, int i, const char *);
	void		(*bind_int64)(struct store_stmt *, int i, int64_t);
	void		(*bind_blob)(struct store_stmt *, int i, const void *,
			    size_t);
	enum store_step	(*step)(struct store_stmt *);

	/*
	 * Column i (0-based) of the current row.  Text and blobs are
	 * borrowed until the next step or reset; col_text returns NULL for
	 * SQL NULL; col_blob sets *len to 0 and may return NULL for an empty
	 * or NULL value.
	 */
	const char	*(*col_text)(struct store_stmt *, int i);
	int64_t		(*col_int64)(struct store_stmt *, int i);
	const void	*(*col_blob)(struct store_stmt *, int i, size_t *len);

	/* Runs the engine's own consistency check (SQLite PRAGMA
	 * integrity_check); DV_ERR_STORE, logged, on any finding. */
	enum dv_rc	(*check)(struct store_conn *);
};

/* The drivers built in (rule 3: one file each). */
extern const struct store_driver store_driver_sqlite;

/*
 * ---- store.c internals shared with the typed operations of other files
 * (store_inventory.c) ----
 *
 * A struct store_tx is a connection lent to a caller's function: the
 * writer inside the batch transaction (store_write) or a pooled reader
 * (store_read).  store_tx_run() is store.c's statement runner over a
 * second per-connection cache of STORE_XSTMT_MAX statements: q is the
 * caller's own index, sql the text it always passes for that index.
 * Slots are split between the files: store_inventory.c from 0,
 * store_attest.c from 48, store_acme.c from 64, store_acme_eab.c from 96
 * (each asserts its range at compile time).
 */
#define STORE_XSTMT_MAX	112

struct store;
struct store_db;

struct store_tx {
	struct store	*s;		/* borrowed */
	struct store_db	*db;		/* borrowed */
	const struct store_driver *drv;	/* borrowed, static */
	struct store_conn *conn;	/* borrowed from db */
	bool		 write;		/* the writer, in a transaction */
	bool		 nested;	/* inside store_tx_nested */
	bool		 is_volatile;	/* store_write_volatile's connection */
};

/*
 * Binds types ('t' const char *, 'i' int64_t, 'b' pointer + size_t) to
 * $1.. and runs the first step; on STORE_STEP_ROW the statement is left in
 * *stp (when not NULL) for more steps and the caller resets it.
 */
/* A copy of s, or NULL for NULL (columns and optional fields). */
char		*store_strdup(const char *s);
/* True when tx may write; else logs "what" as an internal error. */
bool		store_tx_writer(struct store_tx *, const char *what);
/* True when tx is store_write_volatile's; else logs like the above. */
bool		store_tx_volatile(struct store_tx *, const char *what);
enum store_step	store_tx_run(struct store_tx *, int q, const char *sql,
		    struct store_stmt **stp, const char *types, ...);
/* Maps the result of a statement that returns no row; unique is the code
 * of a UNIQUE violation (logged at warning level naming what and key). */
enum dv_rc	store_step_rc(enum store_step, enum dv_rc unique,
		    const char *what, const char *key);

#endif
