/*
 * test_store.c - the store against real SQLite files in a fresh directory
 * under /tmp: migrations, the typed operations, group commit (one failed
 * operation does not undo the others of its transaction; many concurrent
 * issues share few commits), durability across reopen, the integrity check
 * and the audit hash chain.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pthread.h>
#include <cmocka.h>
#include <sqlite3.h>

#include "store/store.h"

#define AUTH	"default/account"

struct fixture {
	char	 dir[64];
	char	 path[128];
};

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_store.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/devid.db", f->dir);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	snprintf(p, sizeof(p), "%s", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	/* the volatile database beside it (store_write_volatile) */
	snprintf(p, sizeof(p), "%s-volatile", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-volatile-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-volatile-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static const uint8_t der_a[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };

static void
cert_init(struct store_cert *c, char *serial, char *authority)
{
	memset(c, 0, sizeof(*c));
	c->serial = serial;
	c->authority = authority;
	c->provisioner = "admin";
	c->subject = "CN=device-1";
	c->sans = "[{\"type\":\"dns\",\"value\":\"d1.example\"}]";
	c->not_before = 1700000000;
	c->not_after = 1700086400;
	c->der = (uint8_t *)der_a;
	c->derlen = sizeof(der_a);
}

static enum dv_rc
issue(struct store *s, const char *serial, const char *token)
{
	struct store_cert c;
	struct store_audit a = { "provisioner:jwk/admin", "cert.issue",
	    serial, "req-1", "{\"k\":1}", NULL };
	struct store_issue op = { .token_id = token,
	    .token_exp = 2000000000, .cert = &c, .audit = &a };

	cert_init(&c, (char *)serial, AUTH);
	return store_issue(s, &op);
}

/* Runs a one-integer query on the file directly, bypassing the store. */
static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

/* true when SQLite plans sql with the index named idx */
static bool
sql_plan_uses(const char *path, const char *sql, const char *idx)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	char *q = xasprintf("EXPLAIN QUERY PLAN %s", sql);
	const char *d;
	bool found = false;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, q, -1, &st, NULL), SQLITE_OK);
	while (sqlite3_step(st) == SQLITE_ROW)
		if ((d = (const char *)sqlite3_column_text(st, 3)) != NULL &&
		    strstr(d, idx) != NULL)
			found = true;
	sqlite3_finalize(st);
	sqlite3_close(db);
	free(q);
	return found;
}

/* migration 8: the lookups of the store still find their (now partial)
 * indexes */
static void
test_partial_indexes(void **state)
{
	struct fixture *f = *state;
	struct store *s;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	store_close(s);
	assert_true(sql_plan_uses(f->path, "SELECT id FROM acme_orders "
	    "WHERE status = 'processing' ORDER BY created_at, id LIMIT $1",
	    "acme_orders_processing"));
	assert_true(sql_plan_uses(f->path, "SELECT id FROM acme_orders "
	    "WHERE cert_serial = $1", "acme_orders_cert"));
	assert_true(sql_plan_uses(f->path, "SELECT 1 FROM acme_orders WHERE "
	    "replaces = $1 AND prov = $2 AND status != 'invalid' AND "
	    "(status != 'pending' OR expires_at > $3) LIMIT 1",
	    "acme_orders_replaces"));
	assert_true(sql_plan_uses(f->path, "SELECT c.serial FROM "
	    "certificates c WHERE c.device_id = $1", "certificates_device"));
	/* the full index on status is gone */
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM "
	    "sqlite_master WHERE name = 'acme_orders_status'"), 0);
}

static void
test_migrate_reopen(void **state)
{
	struct fixture *f = *state;
	struct store_stats st;
	struct store *s;
	struct store_cert *c;
	char wal[160];
	uint64_t n;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	store_stats(s, &st);
	assert_int_equal(st.schema_version, 8);
	assert_int_equal(issue(s, "42", NULL), DV_OK);
	/* WAL: the log file exists while the store is open */
	snprintf(wal, sizeof(wal), "%s-wal", f->path);
	assert_int_equal(access(wal, F_OK), 0);
	store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT version FROM schema_version"),
	    8);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM schema_version"),
	    1);

	/* reopen: nothing migrated again, the data is there */
	assert_int_equal(store_open(f->path, &s), DV_OK);
	store_stats(s, &st);
	assert_int_equal(st.schema_version, 8);
	assert_int_equal(store_cert_count(s, &n), DV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_cert_get(s, "42", &c), DV_OK);
	store_cert_free(c);
	store_close(s);

	/* a schema newer than the program is refused */
	sql_exec(f->path, "UPDATE schema_version SET version = 99");
	s = (struct store *)1;
	assert_int_equal(store_open(f->path, &s), DV_ERR_STORE);
	assert_null(s);
}

static void
test_url(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	char url[160];

	snprintf(url, sizeof(url), "sqlite:%s", f->path);
	assert_int_equal(store_open(url, &s), DV_OK);
	store_close(s);
	snprintf(url, sizeof(url), "sqlite://%s", f->path);
	assert_int_equal(store_open(url, &s), DV_OK);
	store_close(s);
	assert_int_equal(store_open("postgres://u:p@h/db", &s),
	    DV_ERR_NOT_IMPLEMENTED);
	assert_int_equal(store_open("mysql://h/db", &s), DV_ERR_MALFORMED);
	assert_int_equal(store_open(":memory:", &s), DV_ERR_MALFORMED);
	assert_int_equal(store_open("sqlite:", &s), DV_ERR_MALFORMED);
	assert_int_equal(store_open("/nonexistent/dir/x.db", &s), DV_ERR_STORE);
	store_close(NULL);
}

static void
test_issue_get(void **state)
{
	struct fixture *f = *state;
	struct store_cert in, *c;
	struct store_issue op = { .cert = &in };
	struct store *s;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	cert_init(&in, "123456789012345678901234567890", AUTH);
	in.renewed_from = "41";
	assert_int_equal(store_issue(s, &op), DV_OK);
	/* the same serial twice */
	assert_int_equal(store_issue(s, &op), DV_ERR_EXISTS);

	c = (struct store_cert *)1;
	assert_int_equal(store_cert_get(s, "1", &c), DV_ERR_NOT_FOUND);
	assert_null(c);
	assert_int_equal(store_cert_get(s, in.serial, &c), DV_OK);
	assert_string_equal(c->serial, in.serial);
	assert_string_equal(c->authority, AUTH);
	assert_string_equal(c->provisioner, "admin");
	assert_string_equal(c->subject, in.subject);
	assert_string_equal(c->sans, in.sans);
	assert_int_equal(c->not_before, in.not_before);
	assert_int_equal(c->not_after, in.not_after);
	assert_int_equal(c->derlen, sizeof(der_a));
	assert_memory_equal(c->der, der_a, sizeof(der_a));
	assert_string_equal(c->renewed_from, "41");
	assert_false(c->revoked);
	assert_null(c->reason);
	store_cert_free(c);

	/* optional fields stay NULL */
	cert_init(&in, "7", AUTH);
	in.provisioner = NULL;
	in.sans = NULL;
	assert_int_equal(store_issue(s, &op), DV_OK);
	assert_int_equal(store_cert_get(s, "7", &c), DV_OK);
	assert_null(c->provisioner);
	assert_null(c->sans);
	assert_null(c->renewed_from);
	store_cert_free(c);

	/* a certificate without DER is a caller bug, refused */
	cert_init(&in, "8", AUTH);
	in.der = NULL;
	in.derlen = 0;
	assert_int_equal(store_issue(s, &op), DV_ERR_INTERNAL);
	store_cert_free(NULL);
	store_close(s);
}

/* Holds the committer inside a done callback until the test opens gate. */
struct gate {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	bool		 entered;
	bool		 open;
	int		 pending;
	enum dv_rc	 rc[8];
};

struct gate_arg {
	struct gate	*g;
	int		 i;
};

static void
gate_hold(void *arg, enum dv_rc rc)
{
	struct gate_arg *a = arg;
	struct gate *g = a->g;

	pthread_mutex_lock(&g->mu);
	g->rc[a->i] = rc;
	g->entered = true;
	g->pending--;
	pthread_cond_broadcast(&g->cv);
	while (!g->open)
		pthread_cond_wait(&g->cv, &g->mu);
	pthread_mutex_unlock(&g->mu);
}

static void
gate_done(void *arg, enum dv_rc rc)
{
	struct gate_arg *a = arg;
	struct gate *g = a->g;

	pthread_mutex_lock(&g->mu);
	g->rc[a->i] = rc;
	g->pending--;
	pthread_cond_broadcast(&g->cv);
	pthread_mutex_unlock(&g->mu);
}

static void
test_token_replay_batch(void **state)
{
	static const char *serials[] = { "100", "101", "102", "103", "104",
	    "105" };
	static const char *tokens[] = { "t0", "t1", "t0", "t3", "t3", NULL };
	static const enum dv_rc want[] = { DV_OK, DV_OK, DV_ERR_TOKEN_REUSED,
	    DV_OK, DV_ERR_TOKEN_REUSED, DV_OK };
	struct fixture *f = *state;
	struct gate g = { .pending = 6 };
	struct gate_arg args[6];
	struct store_cert certs[6], *c;
	struct store_audit audit = { "provisioner:jwk/admin", "cert.issue",
	    NULL, NULL, NULL, NULL };
	struct store_issue ops[6];
	struct store_stats before, after;
	struct store *s;
	int i;

	pthread_mutex_init(&g.mu, NULL);
	pthread_cond_init(&g.cv, NULL);
	assert_int_equal(store_open(f->path, &s), DV_OK);
	for (i = 0; i < 6; i++) {
		cert_init(&certs[i], (char *)serials[i], AUTH);
		ops[i] = (struct store_issue){ .token_id = tokens[i],
		    .token_exp = 2000000000, .cert = &certs[i],
		    .audit = &audit };
		args[i] = (struct gate_arg){ &g, i };
	}
	store_stats(s, &before);

	/* op 0 commits alone, and its callback keeps the committer busy */
	store_issue_submit(s, &ops[0], gate_hold, &args[0]);
	pthread_mutex_lock(&g.mu);
	while (!g.entered)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);
	/* so that 1..5 are queued together and form one transaction */
	for (i = 1; i < 6; i++)
		store_issue_submit(s, &ops[i], gate_done, &args[i]);
	pthread_mutex_lock(&g.mu);
	g.open = true;
	pthread_cond_broadcast(&g.cv);
	while (g.pending > 0)
		pthread_cond_wait(&g.cv, &g.mu);
	pthread_mutex_unlock(&g.mu);

	store_stats(s, &after);
	assert_int_equal(after.commits - before.commits, 2);
	assert_int_equal(after.batch_max, 5);
	for (i = 0; i < 6; i++) {
		assert_int_equal(g.rc[i], want[i]);
		if (want[i] == DV_OK) {
			assert_int_equal(store_cert_get(s, serials[i], &c),
			    DV_OK);
			store_cert_free(c);
		} else
			assert_int_equal(store_cert_get(s, serials[i], &c),
			    DV_ERR_NOT_FOUND);
	}
	/* audit rows only for the committed operations, chain intact */
	assert_int_equal(store_check(s), DV_OK);

	/* tokens on their own, and their expiry */
	assert_int_equal(store_token_use(s, "t1", 2000000000),
	    DV_ERR_TOKEN_REUSED);
	assert_int_equal(store_token_use(s, "short", 1000), DV_OK);
	assert_int_equal(store_token_use(s, "short", 1000),
	    DV_ERR_TOKEN_REUSED);
	assert_int_equal(store_tokens_expire(s, 1001), DV_OK);
	assert_int_equal(store_token_use(s, "short", 1000), DV_OK);
	assert_int_equal(store_token_use(s, "t1", 2000000000),
	    DV_ERR_TOKEN_REUSED);
	store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit"), 4);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM used_tokens"),
	    4);
	pthread_cond_destroy(&g.cv);
	pthread_mutex_destroy(&g.mu);
}

static void
test_revoke(void **state)
{
	struct fixture *f = *state;
	struct store_audit a = { "mtls:9", "cert.revoke", "9", "r-2", NULL,
	    NULL };
	struct store_revoke rv = { AUTH, "9", 1, "keyCompromise", 1700001000,
	    "rt-1", 2000000000, &a };
	struct store_cert *v, *c;
	struct store *s;
	size_t n;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(issue(s, "9", NULL), DV_OK);
	assert_int_equal(issue(s, "10", NULL), DV_OK);
	assert_int_equal(issue(s, "11", NULL), DV_OK);

	assert_int_equal(store_revoked_list(s, AUTH, 0, &v, &n), DV_OK);
	assert_null(v);
	assert_int_equal(n, 0);

	assert_int_equal(store_revoke(s, &rv), DV_OK);
	/* second revocation: new token, same serial */
	rv.token_id = "rt-2";
	assert_int_equal(store_revoke(s, &rv), DV_ERR_ALREADY_REVOKED);
	/* the token of the refused revocation was not consumed */
	assert_int_equal(store_token_use(s, "rt-2", 2000000000), DV_OK);
	/* replayed token */
	rv.token_id = "rt-1";
	rv.serial = "10";
	assert_int_equal(store_revoke(s, &rv), DV_ERR_TOKEN_REUSED);
	rv.token_id = NULL;
	assert_int_equal(store_revoke(s, &rv), DV_OK);
	/* unknown serial, and a known one of another authority */
	rv.serial = "12";
	assert_int_equal(store_revoke(s, &rv), DV_ERR_NOT_FOUND);
	rv.serial = "11";
	rv.authority = "default/agent";
	assert_int_equal(store_revoke(s, &rv), DV_ERR_NOT_FOUND);

	/* numeric serial order: 9 before 10 */
	assert_int_equal(store_revoked_list(s, AUTH, 0, &v, &n), DV_OK);
	assert_int_equal(n, 2);
	assert_string_equal(v[0].serial, "9");
	assert_string_equal(v[1].serial, "10");
	assert_true(v[0].revoked);
	assert_int_equal(v[0].reason_code, 1);
	assert_string_equal(v[0].reason, "keyCompromise");
	assert_int_equal(v[0].revoked_at, 1700001000);
	store_certs_free(v, n);
	/* expired certificates drop out of the list */
	assert_int_equal(store_revoked_list(s, AUTH, 1700086400, &v, &n),
	    DV_OK);
	assert_int_equal(n, 0);
	assert_int_equal(store_revoked_list(s, "default/agent", 0, &v, &n),
	    DV_OK);
	assert_int_equal(n, 0);

	assert_int_equal(store_cert_get(s, "9", &c), DV_OK);
	assert_true(c->revoked);
	assert_int_equal(c->reason_code, 1);
	store_cert_free(c);
	assert_int_equal(store_cert_get(s, "11", &c), DV_OK);
	assert_false(c->revoked);
	store_cert_free(c);
	assert_int_equal(store_check(s), DV_OK);
	store_close(s);
}

static void
test_crl_number(void **state)
{
	struct fixture *f = *state;
	struct store *s;
	uint64_t n;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_crl_number_next(s, AUTH, &n), DV_OK);
	assert_int_equal(n, 1);
	assert_int_equal(store_crl_number_next(s, AUTH, &n), DV_OK);
	assert_int_equal(n, 2);
	assert_int_equal(store_crl_number_next(s, "default/agent", &n), DV_OK);
	assert_int_equal(n, 1);
	store_close(s);
	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_crl_number_next(s, AUTH, &n), DV_OK);
	assert_int_equal(n, 3);
	store_close(s);
}

#define NTHREADS	8
#define NISSUES		500

struct worker {
	struct store	*s;
	int		 t;
	int		 failed;
};

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct store_cert *c;
	char serial[32], token[32];
	int i;

	for (i = 0; i < NISSUES; i++) {
		snprintf(serial, sizeof(serial), "%d", 1000000 + w->t * NISSUES + i);
		snprintf(token, sizeof(token), "tok-%d-%d", w->t, i);
		if (issue(w->s, serial, token) != DV_OK)
			w->failed++;
		/* reads run alongside the committer */
		if (i % 50 == 0) {
			if (store_cert_get(w->s, serial, &c) != DV_OK)
				w->failed++;
			store_cert_free(c);
		}
	}
	return NULL;
}

static void
test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct worker w[NTHREADS];
	pthread_t th[NTHREADS];
	struct store_stats st;
	struct store *s;
	uint64_t n;
	int i;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	for (i = 0; i < NTHREADS; i++) {
		w[i] = (struct worker){ s, i, 0 };
		assert_int_equal(pthread_create(&th[i], NULL, worker_run, &w[i]),
		    0);
	}
	for (i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		assert_int_equal(w[i].failed, 0);
	}
	assert_int_equal(store_cert_count(s, &n), DV_OK);
	assert_int_equal(n, NTHREADS * NISSUES);
	store_stats(s, &st);
	print_message("group commit: %llu issues in %llu commits "
	    "(%.2f commits per issue, largest batch %llu)\n",
	    (unsigned long long)st.ops, (unsigned long long)st.commits,
	    (double)st.commits / (double)st.ops,
	    (unsigned long long)st.batch_max);
	assert_int_equal(st.ops, NTHREADS * NISSUES);
	assert_true(st.commits * 3 < NTHREADS * NISSUES);
	assert_int_equal(store_check(s), DV_OK);
	store_close(s);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit"),
	    NTHREADS * NISSUES);
}

static int	drained;

static void
count_done(void *arg, enum dv_rc rc)
{
	if (rc == DV_OK)
		__atomic_add_fetch(&drained, 1, __ATOMIC_SEQ_CST);
}

static void
test_close_drains(void **state)
{
	struct fixture *f = *state;
	struct store_cert c;
	struct store_issue op = { .cert = &c };
	struct store *s;
	char serial[16];
	uint64_t n;
	int i;

	drained = 0;
	assert_int_equal(store_open(f->path, &s), DV_OK);
	for (i = 0; i < 300; i++) {
		snprintf(serial, sizeof(serial), "%d", 500 + i);
		cert_init(&c, serial, AUTH);
		store_issue_submit(s, &op, count_done, NULL);
	}
	store_close(s);
	assert_int_equal(drained, 300);
	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_cert_count(s, &n), DV_OK);
	assert_int_equal(n, 300);
	store_close(s);
}

static void
test_check_audit(void **state)
{
	struct fixture *f = *state;
	struct store *s;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_check(s), DV_OK);	/* empty chain */
	assert_int_equal(issue(s, "1", "a"), DV_OK);
	assert_int_equal(issue(s, "2", "b"), DV_OK);
	assert_int_equal(issue(s, "3", "c"), DV_OK);
	assert_int_equal(store_check(s), DV_OK);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit"), 3);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit "
	    "WHERE prev_hash = '0000000000000000000000000000000000000000"
	    "000000000000000000000000'"), 1);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit a "
	    "JOIN audit b ON b.id = a.id + 1 WHERE b.prev_hash = a.hash"), 2);

	/* an edited row breaks the chain */
	sql_exec(f->path, "UPDATE audit SET actor = 'someone' WHERE id = 2");
	assert_int_equal(store_check(s), DV_ERR_STORE);
	sql_exec(f->path, "UPDATE audit SET actor = 'provisioner:jwk/admin' "
	    "WHERE id = 2");
	assert_int_equal(store_check(s), DV_OK);
	/* a deleted row too */
	sql_exec(f->path, "DELETE FROM audit WHERE id = 2");
	assert_int_equal(store_check(s), DV_ERR_STORE);
	store_close(s);
}

/* ---- attestation sessions (issue 4) ---- */

struct att_op {
	struct store_att_session in;
	const char	*id;
	time_t		 now;
	int		 max;
	struct store_att_session out;
};

static enum dv_rc
att_dev_tx(struct store_tx *tx, void *arg)
{
	struct store_device d;

	(void)arg;
	memset(&d, 0, sizeof(d));
	d.id = "dev_1";
	d.team = "default";
	d.name = "tpm-1";
	d.source = "api";
	d.status = "approved";
	d.tags = "[]";
	d.created_at = d.updated_at = 1700000000;
	return store_dev_insert(tx, &d);
}

static enum dv_rc
att_insert_tx(struct store_tx *tx, void *arg)
{
	struct att_op *op = arg;

	return store_att_session_insert(tx, &op->in, op->now, op->max);
}

static enum dv_rc
att_purge_tx(struct store_tx *tx, void *arg)
{
	struct att_op *op = arg;

	return store_att_session_purge(tx, op->now, op->max);
}

static enum dv_rc
att_take_tx(struct store_tx *tx, void *arg)
{
	struct att_op *op = arg;

	store_att_session_clear(&op->out);
	return store_att_session_take(tx, op->id, NULL, op->now, &op->out);
}

static enum dv_rc
att_get_tx(struct store_tx *tx, void *arg)
{
	struct att_op *op = arg;

	store_att_session_clear(&op->out);
	return store_att_session_get(tx, op->id, &op->out);
}

static void
att_session(struct att_op *op, char *id, time_t created, time_t expires)
{
	static uint8_t spki[] = { 0x30, 0x00 };

	memset(&op->in, 0, sizeof(op->in));
	op->in.id = id;
	op->in.team = "default";
	op->in.ek_urn = "urn:ek:sha256:AAAA";
	op->in.device_id = "dev_1";
	op->in.ak_spki = spki;
	op->in.ak_spki_len = sizeof(spki);
	op->in.tpm_manufacturer = "id:00001014";
	op->in.tpm_model = "swtpm";
	op->in.tpm_version = "id:20191023";
	op->in.created_at = created;
	op->in.expires_at = expires;
}

static void
test_attest_sessions(void **state)
{
	struct fixture *f = *state;
	struct att_op op;
	struct store_cert c;
	struct store_audit a = { "tpm:urn", "cert.issue", "77", "req-1", NULL,
	    "default" };
	struct store_issue iss = { 0 };
	struct store_cert *got = NULL;
	struct store_stats before, after;
	struct store *s;
	char id[8], vol[200];
	int i;

	memset(&op, 0, sizeof(op));
	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_write(s, att_dev_tx, NULL), DV_OK);

	/* a session is inserted in the volatile database, read back whole;
	 * the durable one refuses it */
	att_session(&op, "s0", 1000, 1300);
	op.now = 1000;
	op.max = 8;
	assert_int_equal(store_write(s, att_insert_tx, &op), DV_ERR_INTERNAL);
	store_stats(s, &before);
	assert_int_equal(store_write_volatile(s, att_insert_tx, &op), DV_OK);
	assert_int_equal(store_write_volatile(s, att_insert_tx, &op),
	    DV_ERR_EXISTS);
	op.id = "s0";
	assert_int_equal(store_write_volatile(s, att_get_tx, &op), DV_OK);
	assert_string_equal(op.out.ek_urn, "urn:ek:sha256:AAAA");
	assert_string_equal(op.out.device_id, "dev_1");
	assert_string_equal(op.out.tpm_model, "swtpm");
	assert_int_equal(op.out.ak_spki_len, 2);
	assert_int_equal(op.out.ak_spki[0], 0x30);
	assert_int_equal(op.out.expires_at, 1300);
	assert_int_equal(op.out.used_at, 0);
	op.id = "nope";
	assert_int_equal(store_write_volatile(s, att_get_tx, &op),
	    DV_ERR_NOT_FOUND);

	/* at most max pending per EK: 7 more fit, the ninth is refused */
	for (i = 1; i < 8; i++) {
		snprintf(id, sizeof(id), "s%d", i);
		att_session(&op, id, 1000, 1300);
		assert_int_equal(store_write_volatile(s, att_insert_tx, &op),
		    DV_OK);
	}
	att_session(&op, "s8", 1000, 1300);
	assert_int_equal(store_write_volatile(s, att_insert_tx, &op),
	    DV_ERR_UNAVAILABLE);
	/* no durable commit for any of it, and the rows are in the
	 * volatile file, where the count reads only unused sessions */
	store_stats(s, &after);
	assert_int_equal(after.commits, before.commits);
	snprintf(vol, sizeof(vol), "%s-volatile", f->path);
	assert_int_equal(sql_int(vol, "SELECT COUNT(*) FROM "
	    "attestation_pending"), 8);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM "
	    "attestation_sessions"), 0);
	assert_int_equal(sql_int(vol, "SELECT COUNT(*) FROM sqlite_master "
	    "WHERE name = 'attestation_sessions'"), 0);
	assert_int_equal(sql_int(vol, "SELECT COUNT(*) FROM sqlite_master "
	    "WHERE type = 'index' AND name = 'attestation_pending_ek' "
	    "AND sql LIKE '%WHERE used_at IS NULL'"), 1);

	/* single use; the certificate follows in the durable database */
	op.id = "s0";
	op.now = 1100;
	assert_int_equal(store_write_volatile(s, att_take_tx, &op), DV_OK);
	assert_int_equal(op.out.used_at, 1100);
	assert_int_equal(store_write(s, att_take_tx, &op), DV_ERR_INTERNAL);
	cert_init(&c, "77", "default/attestation");
	c.device_id = "dev_1";
	iss.cert = &c;
	iss.audit = &a;
	assert_int_equal(store_issue(s, &iss), DV_OK);
	assert_int_equal(store_cert_get(s, "77", &got), DV_OK);
	assert_string_equal(got->device_id, "dev_1");
	store_cert_free(got);
	assert_int_equal(store_write_volatile(s, att_take_tx, &op),
	    DV_ERR_TOKEN_REUSED);
	/* a used session no longer counts as pending */
	assert_int_equal(store_write_volatile(s, att_insert_tx, &op), DV_OK);
	op.id = "nope";
	assert_int_equal(store_write_volatile(s, att_take_tx, &op),
	    DV_ERR_NOT_FOUND);

	/* expiry: refused at expires_at, not pending, gone after a purge */
	op.id = "s2";
	op.now = 1300;
	assert_int_equal(store_write_volatile(s, att_take_tx, &op),
	    DV_ERR_TOKEN_EXPIRED);
	att_session(&op, "s9", 1300, 1600);
	assert_int_equal(store_write_volatile(s, att_insert_tx, &op), DV_OK);
	op.id = "s2";
	assert_int_equal(store_write_volatile(s, att_take_tx, &op),
	    DV_ERR_TOKEN_EXPIRED);
	/* a purge deletes at most max expired rows (s0-s8 expired, s9
	 * not), oldest-expiring first by the expires_at index */
	op.max = 4;
	assert_int_equal(store_write_volatile(s, att_purge_tx, &op), DV_OK);
	assert_int_equal(sql_int(vol, "SELECT COUNT(*) FROM "
	    "attestation_pending"), 6);
	op.max = 100;
	assert_int_equal(store_write_volatile(s, att_purge_tx, &op), DV_OK);
	assert_int_equal(sql_int(vol, "SELECT COUNT(*) FROM "
	    "attestation_pending"), 1);
	op.id = "s9";
	assert_int_equal(store_write_volatile(s, att_get_tx, &op), DV_OK);
	op.id = "s2";
	assert_int_equal(store_write_volatile(s, att_get_tx, &op),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(store_write_volatile(s, att_take_tx, &op),
	    DV_ERR_NOT_FOUND);

	store_att_session_clear(&op.out);
	store_close(s);
}

/* ---- volatile rows: ACME nonces ------------------------------------ */

struct nonce_op {
	const char	*id;
	time_t		 exp;
	time_t		 now;
	bool		 take;
};

static enum dv_rc
nonce_tx(struct store_tx *tx, void *arg)
{
	struct nonce_op *op = arg;

	enum dv_rc rc;

	if (op->take)
		return store_acme_nonce_take(tx, op->id, op->now);
	if ((rc = store_acme_nonce_purge(tx, op->now)) != DV_OK)
		return rc;
	return store_acme_nonce_insert(tx, op->id, op->exp);
}

static void
test_volatile_nonces(void **state)
{
	struct fixture *f = *state;
	struct nonce_op op = { "n1", 2000, 1000, false };
	struct store_stats st;
	struct store *s;
	char p[160];

	assert_int_equal(store_open(f->path, &s), DV_OK);
	assert_int_equal(store_write_volatile(s, nonce_tx, &op), DV_OK);
	op.id = "n2";
	op.exp = 1500;
	assert_int_equal(store_write_volatile(s, nonce_tx, &op), DV_OK);
	/* its own file, and no commit of the durable database */
	snprintf(p, sizeof(p), "%s-volatile", f->path);
	assert_int_equal(access(p, F_OK), 0);
	store_stats(s, &st);
	assert_int_equal(st.commits, 0);
	/* nonce rows are refused on the durable writer */
	assert_int_equal(store_write(s, nonce_tx, &op), DV_ERR_INTERNAL);
	store_close(s);

	/* a clean close keeps them; single use; expired ones are gone */
	assert_int_equal(store_open(f->path, &s), DV_OK);
	op.take = true;
	op.id = "n1";
	assert_int_equal(store_write_volatile(s, nonce_tx, &op), DV_OK);
	assert_int_equal(store_write_volatile(s, nonce_tx, &op),
	    DV_ERR_NOT_FOUND);
	op.id = "n2";
	op.now = 1500;
	assert_int_equal(store_write_volatile(s, nonce_tx, &op),
	    DV_ERR_NOT_FOUND);
	op.id = "unknown";
	assert_int_equal(store_write_volatile(s, nonce_tx, &op),
	    DV_ERR_NOT_FOUND);
	store_close(s);
}

/* ---- ACME external account binding keys ---------------------------- */

struct eab_op {
	struct store_acme_eab in;
	const char	*id;
	const char	*prov;
	const char	*account;
	struct store_acme_eab out;
	struct store_acme_eab *v;
	size_t		 n;
};

static enum dv_rc
eab_insert_tx(struct store_tx *tx, void *arg)
{
	return store_acme_eab_insert(tx, &((struct eab_op *)arg)->in);
}

static enum dv_rc
eab_bind_tx(struct store_tx *tx, void *arg)
{
	struct eab_op *op = arg;

	return store_acme_eab_bind(tx, op->id, op->prov, op->account, 1234);
}

static enum dv_rc
eab_get_tx(struct store_tx *tx, void *arg)
{
	struct eab_op *op = arg;

	store_acme_eab_clear(&op->out);
	return store_acme_eab_get(tx, op->id, &op->out);
}

static enum dv_rc
eab_list_tx(struct store_tx *tx, void *arg)
{
	struct eab_op *op = arg;

	return store_acme_eab_list(tx, "default", op->prov, 10, &op->v,
	    &op->n);
}

static enum dv_rc
eab_delete_tx(struct store_tx *tx, void *arg)
{
	return store_acme_eab_delete(tx, "default",
	    ((struct eab_op *)arg)->id);
}

/* A key is stored with its HMAC key, listed without it, bound once (to
 * one account, of its own provisioner only), and deleted. */
static void
test_acme_eab(void **state)
{
	struct fixture *f = *state;
	static uint8_t key[32] = { 1, 2, 3 };
	struct store *s;
	struct eab_op op;

	memset(&op, 0, sizeof(op));
	assert_int_equal(store_open(f->path, &s), DV_OK);
	op.in.id = "kid1";
	op.in.team = "default";
	op.in.prov = "default/agent/acme";
	op.in.reference = "host-1";
	op.in.hmac_key = key;
	op.in.hmac_key_len = sizeof(key);
	op.in.created_at = 1000;
	assert_int_equal(store_write(s, eab_insert_tx, &op), DV_OK);
	assert_int_equal(store_write(s, eab_insert_tx, &op), DV_ERR_EXISTS);
	op.in.id = "kid2";
	assert_int_equal(store_write(s, eab_insert_tx, &op), DV_OK);

	op.id = "kid1";
	assert_int_equal(store_read(s, eab_get_tx, &op), DV_OK);
	assert_int_equal(op.out.hmac_key_len, sizeof(key));
	assert_memory_equal(op.out.hmac_key, key, sizeof(key));
	assert_string_equal(op.out.reference, "host-1");
	assert_null(op.out.account_id);

	op.prov = "default/agent/acme";
	assert_int_equal(store_read(s, eab_list_tx, &op), DV_OK);
	assert_int_equal(op.n, 2);
	assert_null(op.v[0].hmac_key);
	assert_string_equal(op.v[0].id, "kid1");
	store_acme_eabs_free(op.v, op.n);
	op.prov = "default/agent/other";
	assert_int_equal(store_read(s, eab_list_tx, &op), DV_OK);
	assert_int_equal(op.n, 0);
	store_acme_eabs_free(op.v, op.n);

	/* another provisioner's key is not found; bound once only */
	op.account = "acct1";
	assert_int_equal(store_write(s, eab_bind_tx, &op), DV_ERR_NOT_FOUND);
	op.prov = "default/agent/acme";
	assert_int_equal(store_write(s, eab_bind_tx, &op), DV_OK);
	op.account = "acct2";
	assert_int_equal(store_write(s, eab_bind_tx, &op), DV_ERR_EXISTS);
	assert_int_equal(store_read(s, eab_get_tx, &op), DV_OK);
	assert_string_equal(op.out.account_id, "acct1");
	assert_int_equal(op.out.bound_at, 1234);
	op.id = "nokey";
	assert_int_equal(store_write(s, eab_bind_tx, &op), DV_ERR_NOT_FOUND);

	op.id = "kid1";
	assert_int_equal(store_write(s, eab_delete_tx, &op), DV_OK);
	assert_int_equal(store_write(s, eab_delete_tx, &op), DV_ERR_NOT_FOUND);
	assert_int_equal(store_read(s, eab_get_tx, &op), DV_ERR_NOT_FOUND);
	store_acme_eab_clear(&op.out);
	store_close(s);
}

/* ---- lazy writes ---------------------------------------------------- */

struct acct_op {
	struct store_acme_account in;
	struct store_acme_account out;
	bool		 fail;		/* insert, then fail */
};

static enum dv_rc
acct_insert_tx(struct store_tx *tx, void *arg)
{
	struct acct_op *op = arg;
	enum dv_rc rc;

	if ((rc = store_acme_account_insert(tx, &op->in)) != DV_OK)
		return rc;
	return op->fail ? DV_ERR_FORBIDDEN : DV_OK;
}

static enum dv_rc
acct_get_tx(struct store_tx *tx, void *arg)
{
	struct acct_op *op = arg;

	store_acme_account_clear(&op->out);
	return store_acme_account_get(tx, op->in.id, &op->out);
}

/* ---- issuances signed by the committer (store_presign) -------------- */

static int presign_calls;
static size_t presign_max;

/* v[i]->arg is "ok" or "fail": "ok" gets a DER naming its serial. */
static void
fake_presign(void *ctx, struct store_presign *const *v, size_t n)
{
	size_t i;

	assert_ptr_equal(ctx, &presign_calls);
	presign_calls++;
	if (n > presign_max)
		presign_max = n;
	for (i = 0; i < n; i++) {
		if (strcmp(v[i]->arg, "ok") == 0) {
			v[i]->der = (uint8_t *)strdup("signed-der");
			v[i]->derlen = strlen("signed-der");
			v[i]->rc = DV_OK;
		} else
			v[i]->rc = DV_ERR_UNAVAILABLE;
	}
}

struct presign_wait {
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;
	int		 left;
	enum dv_rc	 rc[8];
};

static struct presign_wait pw = { PTHREAD_MUTEX_INITIALIZER,
    PTHREAD_COND_INITIALIZER, 0, { 0 } };

static void
presign_done(void *arg, enum dv_rc rc)
{
	pthread_mutex_lock(&pw.mu);
	pw.rc[(intptr_t)arg] = rc;
	pw.left--;
	pthread_cond_signal(&pw.cv);
	pthread_mutex_unlock(&pw.mu);
}

static void
test_presign(void **state)
{
	struct fixture *f = *state;
	struct store_presign ps[6];
	struct store_cert c[6];
	struct store_audit a = { "provisioner:jwk/admin", "cert.issue",
	    "x", "req-p", NULL, NULL };
	struct store_issue op;
	struct store_cert *row;
	struct store *s;
	char serial[6][16], token[6][16];
	int i;

	assert_int_equal(store_open(f->path, &s), DV_OK);
	/* without a presign function: refused, nothing stored */
	memset(&ps[0], 0, sizeof(ps[0]));
	ps[0].arg = "ok";
	cert_init(&c[0], "700", AUTH);
	c[0].der = NULL;
	c[0].derlen = 0;
	op = (struct store_issue){ .token_id = "tok-p0",
	    .token_exp = 2000000000, .cert = &c[0], .audit = &a,
	    .presign = &ps[0] };
	assert_int_not_equal(store_issue(s, &op), DV_OK);
	assert_int_equal(store_cert_get(s, "700", &row), DV_ERR_NOT_FOUND);

	/* six at once, every other one failing to sign */
	store_set_presign(s, fake_presign, &presign_calls);
	pw.left = 6;
	for (i = 0; i < 6; i++) {
		snprintf(serial[i], sizeof(serial[i]), "%d", 710 + i);
		snprintf(token[i], sizeof(token[i]), "tok-p%d", 10 + i);
		memset(&ps[i], 0, sizeof(ps[i]));
		ps[i].arg = i % 2 == 0 ? "ok" : "fail";
		cert_init(&c[i], serial[i], AUTH);
		c[i].der = NULL;
		c[i].derlen = 0;
		op = (struct store_issue){ .token_id = token[i],
		    .token_exp = 2000000000, .cert = &c[i], .audit = &a,
		    .presign = &ps[i] };
		store_issue_submit(s, &op, presign_done, (void *)(intptr_t)i);
	}
	pthread_mutex_lock(&pw.mu);
	while (pw.left > 0)
		pthread_cond_wait(&pw.cv, &pw.mu);
	pthread_mutex_unlock(&pw.mu);
	assert_true(presign_calls >= 1);
	for (i = 0; i < 6; i++) {
		if (i % 2 == 0) {
			assert_int_equal(pw.rc[i], DV_OK);
			assert_int_equal(store_cert_get(s, serial[i], &row),
			    DV_OK);
			assert_int_equal(row->derlen, strlen("signed-der"));
			assert_memory_equal(row->der, "signed-der",
			    row->derlen);
			store_cert_free(row);
		} else {
			assert_int_equal(pw.rc[i], DV_ERR_UNAVAILABLE);
			assert_int_equal(store_cert_get(s, serial[i], &row),
			    DV_ERR_NOT_FOUND);
			/* its token was not used up */
			assert_int_equal(store_token_use(s, token[i],
			    2000000000), DV_OK);
		}
		free(ps[i].der);
	}
	/* the tokens of the stored ones were */
	assert_int_equal(store_token_use(s, token[0], 2000000000),
	    DV_ERR_TOKEN_REUSED);
	assert_int_equal(store_check(s), DV_OK);
	store_close(s);
}

static void
test_lazy_write(void **state)
{
	struct fixture *f = *state;
	struct acct_op op;
	struct store_stats st;
	struct store *s;

	memset(&op, 0, sizeof(op));
	op.in.id = "a1";
	op.in.prov = "default/agent/acme";
	op.in.thumbprint = "tp1";
	op.in.jwk = "{}";
	op.in.status = "valid";
	op.in.created_at = 1000;
	assert_int_equal(store_open(f->path, &s), DV_OK);
	/* committed (readers see it) when the call returns */
	assert_int_equal(store_write_lazy(s, acct_insert_tx, &op), DV_OK);
	assert_int_equal(store_read(s, acct_get_tx, &op), DV_OK);
	assert_string_equal(op.out.thumbprint, "tp1");
	/* transactional: a failing function leaves nothing behind */
	op.in.id = "a2";
	op.in.thumbprint = "tp2";
	op.fail = true;
	assert_int_equal(store_write_lazy(s, acct_insert_tx, &op),
	    DV_ERR_FORBIDDEN);
	assert_int_equal(store_read(s, acct_get_tx, &op), DV_ERR_NOT_FOUND);
	/* the same constraints as store_write */
	op.in.id = "a1";
	op.fail = false;
	assert_int_equal(store_write_lazy(s, acct_insert_tx, &op),
	    DV_ERR_EXISTS);
	store_stats(s, &st);
	assert_int_equal(st.ops, 3);
	/* the flush after STORE_FLUSH_MS runs (and must not disturb) */
	usleep(400 * 1000);
	op.in.id = "a3";
	op.in.thumbprint = "tp3";
	assert_int_equal(store_write(s, acct_insert_tx, &op), DV_OK);
	store_close(s);

	/* a clean close keeps every lazy commit */
	assert_int_equal(store_open(f->path, &s), DV_OK);
	op.in.id = "a1";
	assert_int_equal(store_read(s, acct_get_tx, &op), DV_OK);
	op.in.id = "a3";
	assert_int_equal(store_read(s, acct_get_tx, &op), DV_OK);
	store_acme_account_clear(&op.out);
	store_close(s);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_migrate_reopen, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_partial_indexes, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_url, setup, teardown),
		cmocka_unit_test_setup_teardown(test_issue_get, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_token_replay_batch, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_revoke, setup, teardown),
		cmocka_unit_test_setup_teardown(test_crl_number, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_concurrent, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_close_drains, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_acme_eab, setup, teardown),
		cmocka_unit_test_setup_teardown(test_attest_sessions, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_check_audit, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_volatile_nonces, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_lazy_write, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_presign, setup,
		    teardown),
	};

	/* expected refusals log at warn; show only errors */
	log_init(LOG_ERR, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
