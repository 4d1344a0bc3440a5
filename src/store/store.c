/*
 * store.c - the engine-independent half of the store (store.h): URL
 * parsing, schema migrations, the committer thread with group commit, the
 * typed operations and their SQL, the audit hash chain.  The engine sits
 * behind struct store_driver (store_int.h).
 *
 * Threads.  One committer thread owns the write connection.  Submitters
 * copy their operation into a queue (mutex + condvar) and return; the
 * committer takes everything queued (at most DV_MAX_COMMIT_BATCH), runs it
 * in one write transaction with each operation inside its own savepoint,
 * commits once (one fsync for the whole batch) and only then calls every
 * operation's done callback.  Lazy writes (store_write_lazy) commit in
 * the caller's thread without waiting for the disk (below); the next
 * durable batch, or a flush after STORE_FLUSH_MS without one, syncs them.
 * Readers take a connection from a pool that grows to the number of
 * threads reading at once; with WAL they read the last committed state and
 * never wait for the committer.  store_write_volatile runs in the caller's
 * thread on a connection of its own (STORE_ROLE_VOLATILE).
 *
 * Audit chain.  Row n stores prev_hash = hash of row n-1 (32 zero bytes for
 * row 1) and hash = SHA-256(prev_hash || canonical row n), both as
 * lower-case hex.  The canonical row is, in this order: id and time as
 * 8-byte big-endian two's complement, then actor, action, object,
 * request_id and detail, each as a 4-byte big-endian length followed by the
 * bytes, or 0xffffffff alone for NULL; then, only when it is not NULL, the
 * team the same way (the column came with migration 2: rows written before
 * keep their hash, and a row with a team never hashes like one without,
 * the lengths differ).  store_check() recomputes the chain.
 *
 * Callers' write functions (store_write, store.h inventory section) run on
 * the committer inside the batch transaction like any other operation.
 * Lazy ones (store_write_lazy) run in the caller's thread, in their own
 * transaction on the writer connection: writer_mu, which the committer
 * holds for each batch and checkpoint, gives them the connection in turn.
 * Nothing to wait for on the disk, so the hand-off to the committer and
 * back (two thread wake-ups per request on the ACME path) cost more than
 * the mutex.  Lock order: writer_mu before mu.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki.h"
#include "store.h"
#include "store_int.h"

#define nitems(a)	(sizeof(a) / sizeof((a)[0]))

#define STORE_HASH_LEN	32
/* The one savepoint name; operations never nest. */
#define STORE_SP	"dv_op"
/*
 * Milliseconds the committer lets lazy commits (store_write_lazy) wait for
 * a durable commit to carry them to the disk before it syncs them itself.
 */
#define STORE_FLUSH_MS	200
/*
 * Group commit.  Each commit writes every page its batch dirtied to the
 * WAL and syncs it once: the append-only pages (table leaves, the
 * authority, expiry and audit indexes) and the fsync are shared by the
 * whole batch.  When operations arrive faster than one per
 * STORE_LINGER_US / 2 and the last batch held more than one (callers
 * are concurrent), the committer waits up to STORE_LINGER_US for as many
 * as that rate promises (at most STORE_LINGER_OPS) before it begins the
 * transaction; a lone caller never waits.
 */
#define STORE_LINGER_US		1000
#define STORE_LINGER_OPS	16

/*
 * Versioned schema: migration i brings the schema from version i to i + 1,
 * in one transaction with the update of schema_version.  Append only: a
 * released migration is never edited.  Times are Unix seconds.
 */
static const char *const store_migrations[] = {
	/* 1: certificates, revocations, one-time tokens, CRL numbers, audit */
	"CREATE TABLE certificates ("
	"  serial TEXT PRIMARY KEY,"
	"  authority TEXT NOT NULL,"
	"  provisioner TEXT,"
	"  subject TEXT NOT NULL,"
	"  sans TEXT,"
	"  not_before BIGINT NOT NULL,"
	"  not_after BIGINT NOT NULL,"
	"  der BLOB NOT NULL,"
	"  renewed_from TEXT,"
	"  created_at BIGINT NOT NULL"
	");"
	"CREATE INDEX certificates_authority ON certificates (authority);"
	"CREATE TABLE revocations ("
	"  serial TEXT PRIMARY KEY REFERENCES certificates (serial),"
	"  authority TEXT NOT NULL,"
	"  reason_code INTEGER NOT NULL,"
	"  reason TEXT,"
	"  revoked_at BIGINT NOT NULL"
	");"
	"CREATE INDEX revocations_authority ON revocations (authority);"
	"CREATE TABLE used_tokens ("
	"  id TEXT PRIMARY KEY,"
	"  expires_at BIGINT NOT NULL"
	");"
	"CREATE INDEX used_tokens_expires ON used_tokens (expires_at);"
	"CREATE TABLE crl_numbers ("
	"  authority TEXT PRIMARY KEY,"
	"  number BIGINT NOT NULL"
	");"
	"CREATE TABLE audit ("
	"  id INTEGER PRIMARY KEY,"
	"  time BIGINT NOT NULL,"
	"  actor TEXT NOT NULL,"
	"  action TEXT NOT NULL,"
	"  object TEXT,"
	"  request_id TEXT,"
	"  detail TEXT,"
	"  prev_hash TEXT NOT NULL,"
	"  hash TEXT NOT NULL"
	");",
	/*
	 * 2: the device inventory (issue 3): devices, their identifiers
	 * (unique per team: an ek and an ek-cert of one key share the URN)
	 * and tags, collections with static members and rules, admin API
	 * tokens (SHA-256 only), certificates linked to a device, the team
	 * of an audit row.  Every list filter of inv_device_list has an
	 * index ending in (created_at, id), the page order.
	 */
	"CREATE TABLE devices ("
	"  id TEXT PRIMARY KEY,"
	"  team TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  owner TEXT,"
	"  owner_domain TEXT,"
	"  os TEXT,"
	"  kind TEXT,"
	"  source TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  tags TEXT NOT NULL,"
	"  posture TEXT,"
	"  missing INTEGER NOT NULL DEFAULT 0,"
	"  sync_mark TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  last_seen_at BIGINT"
	");"
	"CREATE INDEX devices_page ON devices (team, created_at, id);"
	"CREATE INDEX devices_status ON devices (team, status, created_at, id);"
	"CREATE INDEX devices_owner ON devices (team, owner, created_at, id);"
	"CREATE INDEX devices_domain ON devices "
	"  (team, owner_domain, created_at, id);"
	"CREATE INDEX devices_source ON devices (team, source, created_at, id);"
	"CREATE INDEX devices_seen ON devices (team, last_seen_at);"
	"CREATE TABLE device_identifiers ("
	"  team TEXT NOT NULL,"
	"  device_id TEXT NOT NULL REFERENCES devices (id),"
	"  type TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  tpm_manufacturer TEXT,"
	"  tpm_model TEXT,"
	"  tpm_version TEXT,"
	"  certificate TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  UNIQUE (team, value)"
	");"
	"CREATE INDEX device_identifiers_device "
	"  ON device_identifiers (device_id);"
	"CREATE TABLE device_tags ("
	"  team TEXT NOT NULL,"
	"  device_id TEXT NOT NULL REFERENCES devices (id),"
	"  tag TEXT NOT NULL,"
	"  PRIMARY KEY (device_id, tag)"
	");"
	"CREATE INDEX device_tags_tag ON device_tags (team, tag);"
	"CREATE TABLE collections ("
	"  team TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  kind TEXT,"
	"  os TEXT,"
	"  source TEXT,"
	"  rules TEXT NOT NULL,"
	"  settings TEXT NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  updated_at BIGINT NOT NULL,"
	"  PRIMARY KEY (team, name)"
	");"
	"CREATE TABLE collection_rules ("
	"  team TEXT NOT NULL,"
	"  collection TEXT NOT NULL,"
	"  field TEXT NOT NULL,"
	"  value TEXT NOT NULL,"
	"  FOREIGN KEY (team, collection) REFERENCES collections (team, name)"
	");"
	"CREATE INDEX collection_rules_coll "
	"  ON collection_rules (team, collection);"
	"CREATE TABLE collection_members ("
	"  team TEXT NOT NULL,"
	"  collection TEXT NOT NULL,"
	"  device_id TEXT NOT NULL REFERENCES devices (id),"
	"  PRIMARY KEY (team, collection, device_id),"
	"  FOREIGN KEY (team, collection) REFERENCES collections (team, name)"
	");"
	"CREATE INDEX collection_members_device "
	"  ON collection_members (device_id);"
	"CREATE TABLE api_tokens ("
	"  id TEXT PRIMARY KEY,"
	"  team TEXT NOT NULL,"
	"  name TEXT NOT NULL,"
	"  role TEXT NOT NULL,"
	"  hash TEXT NOT NULL UNIQUE,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT,"
	"  revoked_at BIGINT"
	");"
	"CREATE INDEX api_tokens_team ON api_tokens (team, created_at);"
	"ALTER TABLE certificates ADD COLUMN device_id TEXT;"
	"CREATE INDEX certificates_device ON certificates (device_id);"
	"ALTER TABLE audit ADD COLUMN team TEXT;"
	"CREATE INDEX audit_team ON audit (team, id);",
	/*
	 * 3: pending TPM credential activations of the Attestation CA
	 * (issue 4), keyed by the hex SHA-256 of the secret; used_at is set
	 * once, by the /secret that consumes the session.  Rows are deleted
	 * once expired (store_attest.c).
	 */
	"CREATE TABLE attestation_sessions ("
	"  id TEXT PRIMARY KEY,"
	"  team TEXT NOT NULL,"
	"  ek_urn TEXT NOT NULL,"
	"  device_id TEXT NOT NULL REFERENCES devices (id),"
	"  ak_public BLOB NOT NULL,"
	"  ak_name BLOB NOT NULL,"
	"  ak_spki BLOB NOT NULL,"
	"  tpm_manufacturer TEXT,"
	"  tpm_model TEXT,"
	"  tpm_version TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  used_at BIGINT"
	");"
	"CREATE INDEX attestation_sessions_ek "
	"  ON attestation_sessions (team, ek_urn, expires_at);"
	"CREATE INDEX attestation_sessions_expires "
	"  ON attestation_sessions (expires_at);",
	/*
	 * 4: the ACME server (RFC 8555, issue 5; store_acme.c).  prov is
	 * "team/authority/provisioner"; identifiers, contact and error are
	 * JSON text; nonces are single use (deleted when used or expired).
	 */
	"CREATE TABLE acme_nonces ("
	"  id TEXT PRIMARY KEY,"
	"  expires_at BIGINT NOT NULL"
	");"
	"CREATE INDEX acme_nonces_expires ON acme_nonces (expires_at);"
	"CREATE TABLE acme_accounts ("
	"  id TEXT PRIMARY KEY,"
	"  prov TEXT NOT NULL,"
	"  thumbprint TEXT NOT NULL,"
	"  jwk TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  contact TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  UNIQUE (prov, thumbprint)"
	");"
	"CREATE TABLE acme_orders ("
	"  id TEXT PRIMARY KEY,"
	"  prov TEXT NOT NULL,"
	"  account_id TEXT NOT NULL REFERENCES acme_accounts (id),"
	"  status TEXT NOT NULL,"
	"  identifiers TEXT NOT NULL,"
	"  not_before BIGINT NOT NULL,"
	"  not_after BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  error TEXT,"
	"  cert_serial TEXT,"
	"  created_at BIGINT NOT NULL"
	");"
	"CREATE INDEX acme_orders_account "
	"  ON acme_orders (account_id, created_at);"
	"CREATE INDEX acme_orders_cert ON acme_orders (cert_serial);"
	"CREATE TABLE acme_authzs ("
	"  id TEXT PRIMARY KEY,"
	"  order_id TEXT NOT NULL REFERENCES acme_orders (id),"
	"  account_id TEXT NOT NULL,"
	"  ident_type TEXT NOT NULL,"
	"  ident_value TEXT NOT NULL,"
	"  wildcard INTEGER NOT NULL,"
	"  status TEXT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  key_sha256 TEXT,"
	"  idx INTEGER NOT NULL"
	");"
	"CREATE INDEX acme_authzs_order ON acme_authzs (order_id, idx);"
	"CREATE TABLE acme_challenges ("
	"  id TEXT PRIMARY KEY,"
	"  authz_id TEXT NOT NULL REFERENCES acme_authzs (id),"
	"  type TEXT NOT NULL,"
	"  token TEXT NOT NULL,"
	"  status TEXT NOT NULL,"
	"  validated_at BIGINT,"
	"  error TEXT,"
	"  idx INTEGER NOT NULL"
	");"
	"CREATE INDEX acme_challenges_authz ON acme_challenges (authz_id, idx);",
	/*
	 * 5: external account binding keys of ACME provisioners (RFC 8555
	 * §7.3.4, store_acme_eab.c): the HMAC key itself is kept (an HMAC
	 * cannot be checked against a hash of its key); account_id is set
	 * once, by the newAccount that binds the key, and then never again.
	 * The status index lets a restart find the orders left
	 * "processing" (acme_recover).
	 */
	"CREATE TABLE acme_eab_keys ("
	"  id TEXT PRIMARY KEY,"
	"  team TEXT NOT NULL,"
	"  prov TEXT NOT NULL,"
	"  reference TEXT,"
	"  hmac_key BLOB NOT NULL,"
	"  created_at BIGINT NOT NULL,"
	"  account_id TEXT UNIQUE,"
	"  bound_at BIGINT"
	");"
	"CREATE INDEX acme_eab_keys_prov ON acme_eab_keys (team, prov, "
	"  created_at);"
	"CREATE INDEX acme_orders_status ON acme_orders (status);",
	/*
	 * 6: the pending-activation count of an EK (store_attest.c) read
	 * every used session of that EK still within its lifetime through
	 * attestation_sessions_ek, and then each row for used_at: thousands
	 * of rows for an EK that attests often, on every /attest.  Only the
	 * unused sessions are indexed now (a partial index, which SQLite and
	 * PostgreSQL both have); the count reads at most the pending ones.
	 */
	"DROP INDEX attestation_sessions_ek;"
	"CREATE INDEX attestation_sessions_pending "
	"  ON attestation_sessions (team, ek_urn, expires_at) "
	"  WHERE used_at IS NULL;",
	/*
	 * 7: the certificate an ACME order replaces (RFC 9773 §5): its
	 * certID as the client sent it, at most one order that is not
	 * invalid per certificate (store_acme_order_replaced).
	 */
	("ALTER TABLE acme_orders ADD COLUMN replaces TEXT;"
	"CREATE INDEX acme_orders_replaces ON acme_orders (replaces);"),
	/*
	 * 8: partial indexes, so that a row's states nobody looks up no
	 * longer rewrite index pages (a WAL frame each in the commit): every
	 * status change of an ACME order rewrote acme_orders_status, read
	 * only for 'processing' (acme_recover, in created_at order); every
	 * new order put a NULL into acme_orders_cert and acme_orders_replaces,
	 * every certificate without a device one into certificates_device,
	 * and these are read only with "= $1" (store_acme.c,
	 * store_inventory.c), which implies IS NOT NULL: the partial index
	 * serves it (SQLite and PostgreSQL alike).
	 */
	("DROP INDEX acme_orders_status;"
	"CREATE INDEX acme_orders_processing ON acme_orders (created_at, id) "
	"  WHERE status = 'processing';"
	"DROP INDEX acme_orders_cert;"
	"CREATE INDEX acme_orders_cert ON acme_orders (cert_serial) "
	"  WHERE cert_serial IS NOT NULL;"
	"DROP INDEX acme_orders_replaces;"
	"CREATE INDEX acme_orders_replaces ON acme_orders (replaces) "
	"  WHERE replaces IS NOT NULL;"
	"DROP INDEX certificates_device;"
	"CREATE INDEX certificates_device ON certificates (device_id) "
	"  WHERE device_id IS NOT NULL;"),
};

/*
 * The tables of the volatile database (store_write_volatile), created when
 * missing: what a crash may lose, so never migrated.  acme_replay_nonces:
 * RFC 8555 §7.2 Replay-Nonces, single use (deleted when used or expired).
 * WITHOUT ROWID: the id is the b-tree's key, so taking one nonce and
 * issuing the next (every ACME request) dirties one b-tree, not a table
 * and its id index: half the WAL frames per request.  The rowid table
 * acme_nonces that earlier versions kept here is dropped (its nonces were
 * volatile anyway: a client that held one gets badNonce and retries, RFC
 * 8555 §6.5); the table of that name that migration 4 created in the
 * durable database is no longer used.  No index on expires_at: one more
 * b-tree to update per request, for a purge that runs once a minute over
 * a small table.
 */
static const char store_volatile_schema[] =
	"DROP TABLE IF EXISTS acme_nonces;"
	"CREATE TABLE IF NOT EXISTS acme_replay_nonces ("
	"  id TEXT PRIMARY KEY,"
	"  expires_at BIGINT NOT NULL"
	") WITHOUT ROWID;"
	/*
	 * attestation_pending: the Attestation CA's pending credential
	 * activations (store_attest.c), single use, 5 minutes: a row lost in
	 * a crash only fails the /secret that would use it.  It keeps what
	 * /secret needs to build the AK certificate (the AK's SPKI, the TPM's
	 * manufacturer, model and version), not the AK's TPMT_PUBLIC or Name,
	 * which nothing reads after /attest.  attestation_sessions, the table
	 * earlier versions kept here with those two blobs, is dropped (its
	 * rows were volatile anyway: a client that held one attests again);
	 * the table of that name that migrations 3 and 6 made in the durable
	 * database is no longer used.
	 */
	"DROP TABLE IF EXISTS attestation_sessions;"
	"CREATE TABLE IF NOT EXISTS attestation_pending ("
	"  id TEXT PRIMARY KEY,"
	"  team TEXT NOT NULL,"
	"  ek_urn TEXT NOT NULL,"
	"  device_id TEXT NOT NULL,"
	"  ak_spki BLOB NOT NULL,"
	"  tpm_manufacturer TEXT,"
	"  tpm_model TEXT,"
	"  tpm_version TEXT,"
	"  created_at BIGINT NOT NULL,"
	"  expires_at BIGINT NOT NULL,"
	"  used_at BIGINT"
	");"
	"CREATE INDEX IF NOT EXISTS attestation_pending_ek "
	"  ON attestation_pending (team, ek_urn, expires_at) "
	"  WHERE used_at IS NULL;"
	"CREATE INDEX IF NOT EXISTS attestation_pending_expires "
	"  ON attestation_pending (expires_at);";

/* Every statement store.c runs, prepared once per connection. */
enum store_q {
	STORE_Q_VERSION_GET,
	STORE_Q_VERSION_CLEAR,
	STORE_Q_VERSION_SET,
	STORE_Q_TOKEN_USE,
	STORE_Q_TOKENS_EXPIRE,
	STORE_Q_CERT_INSERT,
	STORE_Q_CERT_EXISTS,
	STORE_Q_CERT_GET,
	STORE_Q_CERT_COUNT,
	STORE_Q_REVOKE_INSERT,
	STORE_Q_REVOKED_LIST,
	STORE_Q_CRL_NEXT,
	STORE_Q_AUDIT_LAST,
	STORE_Q_AUDIT_INSERT,
	STORE_Q_AUDIT_ALL,
	STORE_Q__MAX
};

/* Columns of a certificate row, as store_cert_row() reads them. */
#define STORE_CERT_COLS							\
	"c.serial, c.authority, c.provisioner, c.subject, c.sans, "	\
	"c.not_before, c.not_after, c.der, c.renewed_from, "		\
	"r.serial, r.revoked_at, r.reason_code, r.reason, c.device_id"

static const char *const store_sql[STORE_Q__MAX] = {
	[STORE_Q_VERSION_GET] =
	    "SELECT COALESCE(MAX(version), 0) FROM schema_version",
	[STORE_Q_VERSION_CLEAR] = "DELETE FROM schema_version",
	[STORE_Q_VERSION_SET] =
	    "INSERT INTO schema_version (version) VALUES ($1)",
	[STORE_Q_TOKEN_USE] =
	    "INSERT INTO used_tokens (id, expires_at) VALUES ($1, $2)",
	[STORE_Q_TOKENS_EXPIRE] = "DELETE FROM used_tokens WHERE expires_at < $1",
	[STORE_Q_CERT_INSERT] =
	    "INSERT INTO certificates (serial, authority, provisioner, "
	    "subject, sans, not_before, not_after, der, renewed_from, "
	    "created_at, device_id) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)",
	[STORE_Q_CERT_EXISTS] =
	    "SELECT 1 FROM certificates WHERE serial = $1 AND authority = $2",
	[STORE_Q_CERT_GET] =
	    "SELECT " STORE_CERT_COLS " FROM certificates c "
	    "LEFT JOIN revocations r ON r.serial = c.serial "
	    "WHERE c.serial = $1",
	[STORE_Q_CERT_COUNT] = "SELECT COUNT(*) FROM certificates",
	[STORE_Q_REVOKE_INSERT] =
	    "INSERT INTO revocations (serial, authority, reason_code, reason, "
	    "revoked_at) VALUES ($1, $2, $3, $4, $5)",
	/* decimal serials without leading zeros: shorter is smaller */
	[STORE_Q_REVOKED_LIST] =
	    "SELECT " STORE_CERT_COLS " FROM revocations r "
	    "JOIN certificates c ON c.serial = r.serial "
	    "WHERE r.authority = $1 AND c.not_after > $2 "
	    "ORDER BY LENGTH(c.serial), c.serial",
	[STORE_Q_CRL_NEXT] =
	    "INSERT INTO crl_numbers (authority, number) VALUES ($1, 1) "
	    "ON CONFLICT (authority) DO UPDATE "
	    "SET number = crl_numbers.number + 1 RETURNING number",
	[STORE_Q_AUDIT_LAST] =
	    "SELECT id, hash FROM audit ORDER BY id DESC LIMIT 1",
	[STORE_Q_AUDIT_INSERT] =
	    "INSERT INTO audit (id, time, actor, action, object, request_id, "
	    "detail, prev_hash, hash, team) "
	    "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)",
	[STORE_Q_AUDIT_ALL] =
	    "SELECT id, time, actor, action, object, request_id, detail, "
	    "prev_hash, hash, team FROM audit ORDER BY id",
};

/* One connection with its prepared statements. */
struct store_db {
	const struct store_driver *drv;		/* borrowed, static */
	struct store_conn *conn;		/* owned */
	struct store_stmt *stmt[STORE_Q__MAX];	/* owned, prepared lazily */
	struct store_stmt *xstmt[STORE_XSTMT_MAX]; /* owned: store_tx_run's */
	struct store_db	*next;			/* reader pool link */
};

enum store_op_type {
	STORE_OP_ISSUE,
	STORE_OP_REVOKE,
	STORE_OP_TOKEN,
	STORE_OP_CRL_NEXT,
	STORE_OP_EXPIRE,
	STORE_OP_FUNC,
	STORE_OP__MAX
};

static const char *const store_op_names[STORE_OP__MAX] = {
	[STORE_OP_ISSUE] = "issue",
	[STORE_OP_REVOKE] = "revoke",
	[STORE_OP_TOKEN] = "token",
	[STORE_OP_CRL_NEXT] = "crl_next",
	[STORE_OP_EXPIRE] = "tokens_expire",
	[STORE_OP_FUNC] = "write",
};

/* A queued write; every pointer is owned unless said otherwise. */
struct store_op {
	enum store_op_type type;
	char		*token_id;	/* NULL: no token */
	time_t		 token_exp;
	/*
	 * ISSUE: the certificate.  REVOKE: serial, authority, reason_code,
	 * reason, revoked_at.  CRL_NEXT: authority.  EXPIRE: not_after is
	 * the cut-off time.
	 */
	struct store_cert cert;
	bool		 has_audit;
	char		*actor;
	char		*action;
	char		*object;
	char		*request_id;
	char		*detail;
	char		*team;
	uint64_t	*result;	/* CRL_NEXT: borrowed from the waiter */
	store_tx_fn	 fn;		/* FUNC, ISSUE (may be NULL): the
					 * caller's write function */
	void		*fn_arg;	/* borrowed from the waiter */
	struct store_presign *presign;	/* ISSUE: borrowed, may be NULL */
	store_done_fn	 done;
	void		*arg;
	enum dv_rc	 rc;
	struct store_op	*next;		/* queue link */
};

struct store {
	const struct store_driver *drv;	/* borrowed, static */
	char		*target;	/* owned: URL without scheme */
	struct store_db	*writer;	/* owned, guarded by writer_mu */
	pthread_mutex_t	 writer_mu;	/* writer, audit_*, durable */

	pthread_mutex_t	 mu;		/* queue, stopping, stats */
	pthread_cond_t	 cv;		/* queue not empty, or stopping */
	struct store_op	*head;		/* owned queue */
	struct store_op	*tail;
	size_t		 qlen;		/* operations queued */
	size_t		 linger_want;	/* committer waits for qlen >= this */
	int64_t		 last_enq_ns;	/* monotonic time of the last enqueue */
	int64_t		 gap_ns;	/* moving average of enqueue gaps */
	size_t		 last_batch;	/* operations in the last batch */
	store_presign_fn presign;	/* set before use, then read only */
	void		*presign_ctx;
	bool		 stopping;
	struct store_stats stats;
	pthread_t	 committer;

	pthread_mutex_t	 wait_mu;	/* guards struct store_wait */

	pthread_mutex_t	 pool_mu;
	struct store_db	*pool;		/* owned idle reader connections */

	pthread_mutex_t	 vol_mu;	/* one store_write_volatile at a time */
	struct store_db	*vol;		/* owned, guarded by vol_mu */

	/* under writer_mu: the chain head of the open transaction */
	int64_t		 audit_id;
	uint8_t		 audit_hash[STORE_HASH_LEN];
	bool		 audit_loaded;	/* audit_id, audit_hash are read */
	/* under writer_mu: the writer's commits wait for the disk */
	bool		 durable;
	/* under writer_mu and mu (either, to read): some lazy commits are
	 * not yet durable */
	bool		 unsynced;
};

/* ---- statements ---------------------------------------------------- */

static void
store_db_free(struct store_db *db)
{
	size_t i;

	if (db == NULL)
		return;
	for (i = 0; i < nitems(db->stmt); i++)
		db->drv->finalize(db->stmt[i]);
	for (i = 0; i < nitems(db->xstmt); i++)
		db->drv->finalize(db->xstmt[i]);
	db->drv->close(db->conn);
	free(db);
}

static enum dv_rc
store_db_open(const struct store_driver *drv, const char *target,
    enum store_role role, struct store_db **out)
{
	struct store_db *db;
	enum dv_rc rc;

	*out = NULL;
	db = xcalloc(1, sizeof(*db));
	db->drv = drv;
	if ((rc = drv->open(target, role, &db->conn)) != DV_OK) {
		free(db);
		return rc;
	}
	*out = db;
	return DV_OK;
}

/*
 * Binds the arguments described by types to $1, $2, ... and runs the first
 * step of statement q: 't' is a const char * (NULL binds NULL), 'i' an
 * int64_t, 'b' a const void * followed by a size_t.  On STORE_STEP_ROW the
 * statement is left open in *stp for more steps and the caller resets it;
 * on any other result it has been reset already.
 */
static enum store_step
store_vrun(struct store_db *db, struct store_stmt **slot, const char *sql,
    struct store_stmt **stp, const char *types, va_list ap)
{
	const struct store_driver *d = db->drv;
	struct store_stmt *st;
	enum store_step r;
	const void *p;
	int i;

	if (stp != NULL)
		*stp = NULL;
	if (*slot == NULL && d->prepare(db->conn, sql, slot) != DV_OK)
		return STORE_STEP_ERROR;
	st = *slot;
	for (i = 0; types[i] != '\0'; i++) {
		switch (types[i]) {
		case 't':
			d->bind_text(st, i + 1, va_arg(ap, const char *));
			break;
		case 'i':
			d->bind_int64(st, i + 1, va_arg(ap, int64_t));
			break;
		case 'b':
			p = va_arg(ap, const void *);
			d->bind_blob(st, i + 1, p, va_arg(ap, size_t));
			break;
		default:
			abort();
		}
	}
	r = d->step(st);
	if (r == STORE_STEP_ROW && stp != NULL)
		*stp = st;
	else
		d->reset(st);
	return r;
}

static enum store_step
store_run(struct store_db *db, enum store_q q, struct store_stmt **stp,
    const char *types, ...)
{
	enum store_step r;
	va_list ap;

	va_start(ap, types);
	r = store_vrun(db, &db->stmt[q], store_sql[q], stp, types, ap);
	va_end(ap);
	return r;
}

enum store_step
store_tx_run(struct store_tx *tx, int q, const char *sql,
    struct store_stmt **stp, const char *types, ...)
{
	enum store_step r;
	va_list ap;

	if (q < 0 || q >= STORE_XSTMT_MAX)
		abort();
	va_start(ap, types);
	r = store_vrun(tx->db, &tx->db->xstmt[q], sql, stp, types, ap);
	va_end(ap);
	return r;
}

/*
 * Maps the result of a statement that returns no row.  unique is the code
 * of a UNIQUE violation, which is an expected outcome (token replayed,
 * second revocation) and logged here at warning level naming what.
 */
enum dv_rc
store_step_rc(enum store_step r, enum dv_rc unique, const char *what,
    const char *key)
{
	switch (r) {
	case STORE_STEP_DONE:
		return DV_OK;
	case STORE_STEP_UNIQUE:
		log_msg(LOG_WARN, "store.conflict", "{s:s,s:s?,s:s}", "what",
		    what, "key", key, "result", dv_rc_str(unique));
		return unique;
	case STORE_STEP_FOREIGN:
		log_msg(LOG_WARN, "store.conflict", "{s:s,s:s?,s:s}", "what",
		    what, "key", key, "result", "missing referenced row");
		return DV_ERR_NOT_FOUND;
	case STORE_STEP_ERROR:
		return DV_ERR_STORE;	/* logged by the driver */
	default:
		log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what", what,
		    "error", "unexpected row");
		return DV_ERR_INTERNAL;
	}
}

/* ---- audit chain --------------------------------------------------- */

static void
store_put_u32(struct buf *b, uint32_t v)
{
	uint8_t p[4] = { v >> 24, v >> 16, v >> 8, v };

	buf_append(b, p, sizeof(p));
}

static void
store_put_i64(struct buf *b, int64_t v)
{
	uint64_t u = (uint64_t)v;
	uint8_t p[8];
	size_t i;

	for (i = 0; i < 8; i++)
		p[i] = (uint8_t)(u >> (56 - 8 * i));
	buf_append(b, p, sizeof(p));
}

static void
store_put_str(struct buf *b, const char *s)
{
	size_t n;

	if (s == NULL) {
		store_put_u32(b, UINT32_MAX);
		return;
	}
	n = strlen(s);
	store_put_u32(b, (uint32_t)n);
	buf_append(b, s, n);
}

/* The hash of one audit row (see the top of this file). */
static void
store_audit_hash(const uint8_t prev[STORE_HASH_LEN], int64_t id, int64_t t,
    const char *const text[5], const char *team, uint8_t md[STORE_HASH_LEN])
{
	struct buf b = { 0 };
	size_t i;

	buf_append(&b, prev, STORE_HASH_LEN);
	store_put_i64(&b, id);
	store_put_i64(&b, t);
	for (i = 0; i < 5; i++)
		store_put_str(&b, text[i]);
	if (team != NULL)
		store_put_str(&b, team);
	pki_sha256(b.data, b.len, md);
	buf_free(&b);
}

/* Reads the chain head into s->audit_id and s->audit_hash. */
static enum dv_rc
store_audit_load(struct store *s)
{
	struct store_stmt *st;
	enum store_step r;
	const char *hex;
	uint8_t *h = NULL;
	size_t hlen;
	enum dv_rc rc = DV_OK;

	s->audit_id = 0;
	memset(s->audit_hash, 0, sizeof(s->audit_hash));
	r = store_run(s->writer, STORE_Q_AUDIT_LAST, &st, "");
	if (r == STORE_STEP_DONE)
		return DV_OK;
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	s->audit_id = s->drv->col_int64(st, 0);
	hex = s->drv->col_text(st, 1);
	if (hex == NULL || hex_decode(hex, &h, &hlen) != DV_OK ||
	    hlen != STORE_HASH_LEN) {
		log_msg(LOG_ERR, "store.audit", "{s:s,s:I}", "error",
		    "bad hash in last row", "id", (json_int_t)s->audit_id);
		rc = DV_ERR_STORE;
	} else
		memcpy(s->audit_hash, h, STORE_HASH_LEN);
	s->drv->reset(st);
	free(h);
	return rc;
}

/* Appends an audit row to the chain (committer, in a transaction). */
static enum dv_rc
store_audit_append(struct store *s, const char *const text[5],
    const char *team)
{
	uint8_t md[STORE_HASH_LEN];
	char *prev, *hash;
	int64_t id, t;
	enum dv_rc rc;

	if (!s->audit_loaded) {
		if ((rc = store_audit_load(s)) != DV_OK)
			return rc;
		s->audit_loaded = true;
	}
	id = s->audit_id + 1;
	t = (int64_t)dv_now();
	store_audit_hash(s->audit_hash, id, t, text, team, md);
	prev = hex_encode(s->audit_hash, STORE_HASH_LEN);
	hash = hex_encode(md, STORE_HASH_LEN);
	rc = store_step_rc(store_run(s->writer, STORE_Q_AUDIT_INSERT, NULL,
	    "iitttttttt", id, t, text[0], text[1], text[2], text[3], text[4],
	    prev, hash, team), DV_ERR_STORE, "audit", NULL);
	if (rc == DV_OK) {
		s->audit_id = id;
		memcpy(s->audit_hash, md, STORE_HASH_LEN);
	}
	free(hash);
	free(prev);
	return rc;
}

/* Recomputes the whole chain on a reader connection; *rep says where it
 * breaks (DV_ERR_STORE, logged, then). */
static enum dv_rc
store_audit_verify(struct store_db *db, struct store_audit_report *rep)
{
	const struct store_driver *d = db->drv;
	uint8_t prev[STORE_HASH_LEN] = { 0 }, md[STORE_HASH_LEN];
	const char *text[5], *ph, *h, *why = NULL;
	struct store_stmt *st;
	enum store_step r;
	char *prevhex, *hashhex;
	int64_t id = 0, want = 1;
	size_t i;

	memset(rep, 0, sizeof(*rep));
	r = store_run(db, STORE_Q_AUDIT_ALL, &st, "");
	for (; r == STORE_STEP_ROW && why == NULL; want++) {
		id = d->col_int64(st, 0);
		for (i = 0; i < 5; i++)
			text[i] = d->col_text(st, (int)i + 2);
		ph = d->col_text(st, 7);
		h = d->col_text(st, 8);
		store_audit_hash(prev, id, d->col_int64(st, 1), text,
		    d->col_text(st, 9), md);
		prevhex = hex_encode(prev, STORE_HASH_LEN);
		hashhex = hex_encode(md, STORE_HASH_LEN);
		if (id != want)
			why = "id out of sequence";
		else if (ph == NULL || strcmp(ph, prevhex) != 0)
			why = "prev_hash differs from the previous row's hash";
		else if (h == NULL || strcmp(h, hashhex) != 0)
			why = "hash differs from the row's contents";
		free(prevhex);
		free(hashhex);
		memcpy(prev, md, STORE_HASH_LEN);
		if (why == NULL) {
			rep->rows++;
			r = d->step(st);
		}
	}
	if (st != NULL)
		d->reset(st);
	if (why != NULL) {
		log_msg(LOG_ERR, "store.audit", "{s:s,s:I}", "error", why,
		    "id", (json_int_t)id);
		rep->first_bad = id;
		rep->reason = why;
		return DV_ERR_STORE;
	}
	if (r != STORE_STEP_DONE)
		return DV_ERR_STORE;
	rep->ok = true;
	return DV_OK;
}

/* ---- operations (committer thread, inside a savepoint) -------------- */

static enum dv_rc
store_token_insert(struct store_db *w, const char *id, time_t exp)
{
	return store_step_rc(store_run(w, STORE_Q_TOKEN_USE, NULL, "ti", id,
	    (int64_t)exp), DV_ERR_TOKEN_REUSED, "token", id);
}

static enum dv_rc
store_op_issue(struct store *s, struct store_op *op)
{
	const struct store_cert *c = &op->cert;

	return store_step_rc(store_run(s->writer, STORE_Q_CERT_INSERT, NULL,
	    "tttttiibtit", c->serial, c->authority, c->provisioner,
	    c->subject, c->sans, (int64_t)c->not_before,
	    (int64_t)c->not_after, (const void *)c->der, c->derlen,
	    c->renewed_from, (int64_t)dv_now(), c->device_id), DV_ERR_EXISTS,
	    "certificate", c->serial);
}

static enum dv_rc
store_op_revoke(struct store *s, struct store_op *op)
{
	const struct store_cert *c = &op->cert;
	enum store_step r;

	r = store_run(s->writer, STORE_Q_CERT_EXISTS, NULL, "tt", c->serial,
	    c->authority);
	if (r == STORE_STEP_DONE) {
		log_msg(LOG_WARN, "store.revoke", "{s:s,s:s,s:s}", "serial",
		    c->serial, "authority", c->authority, "result",
		    "no such certificate");
		return DV_ERR_NOT_FOUND;
	}
	if (r != STORE_STEP_ROW)
		return DV_ERR_STORE;
	return store_step_rc(store_run(s->writer, STORE_Q_REVOKE_INSERT, NULL,
	    "ttiti", c->serial, c->authority, (int64_t)c->reason_code,
	    c->reason, (int64_t)c->revoked_at), DV_ERR_ALREADY_REVOKED,
	    "revocation", c->serial);
}

static enum dv_rc
store_op_crl_next(struct store *s, struct store_op *op)
{
	const struct store_driver *d = s->drv;
	struct store_stmt *st;
	enum store_step r;
	int64_t n;

	r = store_run(s->writer, STORE_Q_CRL_NEXT, &st, "t",
	    op->cert.authority);
	if (r == STORE_STEP_DONE) {
		log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what",
		    "crl_number", "error", "RETURNING gave no row");
		return DV_ERR_INTERNAL;
	}
	if (r != STORE_STEP_ROW)
		return store_step_rc(r, DV_ERR_STORE, "crl_number",
		    op->cert.authority);
	n = d->col_int64(st, 0);
	/* run the statement to its end before the savepoint is released */
	while ((r = d->step(st)) == STORE_STEP_ROW)
		;
	d->reset(st);
	if (r != STORE_STEP_DONE)
		return DV_ERR_STORE;
	*op->result = (uint64_t)n;
	return DV_OK;
}

/* Runs a caller's write function on the writer connection. */
static enum dv_rc
store_op_func(struct store *s, struct store_op *op)
{
	struct store_tx tx = { .s = s, .db = s->writer, .drv = s->drv,
	    .conn = s->writer->conn, .write = true };

	return op->fn(&tx, op->fn_arg);
}

enum dv_rc
store_tx_audit(struct store_tx *tx, const struct store_audit *a)
{
	const char *text[5] = { a->actor, a->action, a->object,
	    a->request_id, a->detail };

	if (!tx->write || a->actor == NULL || a->action == NULL) {
		log_msg(LOG_ERR, "store.internal", "{s:s}", "error",
		    "audit row outside a write or without actor/action");
		return DV_ERR_INTERNAL;
	}
	return store_audit_append(tx->s, text, a->team);
}

/* The savepoint of store_tx_nested, inside the operation's STORE_SP. */
#define STORE_SP_NESTED	"dv_row"

enum dv_rc
store_tx_nested(struct store_tx *tx, store_tx_fn fn, void *arg)
{
	struct store *s = tx->s;
	int64_t id;
	uint8_t hash[STORE_HASH_LEN];
	bool loaded;
	enum dv_rc rc;

	if (!tx->write || tx->nested) {
		log_msg(LOG_ERR, "store.internal", "{s:s}", "error",
		    "nested savepoint outside a write or twice");
		return DV_ERR_INTERNAL;
	}
	if (tx->drv->savepoint(tx->conn, STORE_SP_NESTED) != DV_OK)
		return DV_ERR_STORE;
	id = s->audit_id;
	memcpy(hash, s->audit_hash, STORE_HASH_LEN);
	loaded = s->audit_loaded;
	tx->nested = true;
	rc = fn(tx, arg);
	tx->nested = false;
	if (rc != DV_OK) {
		s->audit_id = id;
		memcpy(s->audit_hash, hash, STORE_HASH_LEN);
		s->audit_loaded = loaded;
		if (tx->drv->rollback_to(tx->conn, STORE_SP_NESTED) != DV_OK)
			return DV_ERR_STORE;
	}
	/* after ROLLBACK TO the savepoint is still open */
	if (tx->drv->release(tx->conn, STORE_SP_NESTED) != DV_OK)
		return DV_ERR_STORE;
	return rc;
}

static bool
store_op_valid(const struct store_op *op)
{
	const struct store_cert *c = &op->cert;

	if (op->has_audit && (op->actor == NULL || op->action == NULL))
		return false;
	switch (op->type) {
	case STORE_OP_ISSUE:
		return c->serial != NULL && c->authority != NULL &&
		    c->subject != NULL && c->der != NULL && c->derlen > 0;
	case STORE_OP_REVOKE:
		return c->serial != NULL && c->authority != NULL;
	case STORE_OP_TOKEN:
		return op->token_id != NULL;
	case STORE_OP_CRL_NEXT:
		return c->authority != NULL && op->result != NULL;
	case STORE_OP_EXPIRE:
		return true;
	case STORE_OP_FUNC:
		return op->fn != NULL;
	default:
		return false;
	}
}

/* Runs one operation; the caller wraps it in a savepoint. */
static enum dv_rc
store_op_apply(struct store *s, struct store_op *op)
{
	enum dv_rc rc = DV_OK;

	if (!store_op_valid(op)) {
		log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "op",
		    store_op_names[op->type], "error", "required field missing");
		return DV_ERR_INTERNAL;
	}
	if (op->token_id != NULL &&
	    (rc = store_token_insert(s->writer, op->token_id,
	    op->token_exp)) != DV_OK)
		return rc;
	switch (op->type) {
	case STORE_OP_ISSUE:
		rc = store_op_issue(s, op);
		/* the caller's writes, in the same savepoint */
		if (rc == DV_OK && op->fn != NULL)
			rc = store_op_func(s, op);
		break;
	case STORE_OP_REVOKE:
		rc = store_op_revoke(s, op);
		break;
	case STORE_OP_CRL_NEXT:
		rc = store_op_crl_next(s, op);
		break;
	case STORE_OP_EXPIRE:
		rc = store_step_rc(store_run(s->writer, STORE_Q_TOKENS_EXPIRE,
		    NULL, "i", (int64_t)op->cert.not_after), DV_ERR_STORE,
		    "tokens_expire", NULL);
		break;
	case STORE_OP_FUNC:
		rc = store_op_func(s, op);
		break;
	default:
		break;
	}
	if (rc == DV_OK && op->has_audit) {
		const char *text[5] = { op->actor, op->action, op->object,
		    op->request_id, op->detail };

		rc = store_audit_append(s, text, op->team);
	}
	return rc;
}

/* ---- committer ----------------------------------------------------- */

/*
 * Runs batch in one transaction and sets each op->rc.  An operation that
 * fails is rolled back to its savepoint alone; a failure of the
 * transaction itself (BEGIN, savepoint, COMMIT) fails every operation with
 * DV_ERR_STORE, since none of them is durable.
 */
static void
store_batch_run(struct store *s, struct store_op *batch, size_t n)
{
	const struct store_driver *d = s->drv;
	struct {
		int64_t	 id;
		uint8_t	 hash[STORE_HASH_LEN];
		bool	 loaded;
	} saved;
	struct store_op *op;
	bool committed = false;

	/* every queued operation is durable (store_write_lazy does not
	 * queue); the writer may come from a lazy commit */
	if (!s->durable) {
		if (d->set_durable(s->writer->conn, true) != DV_OK)
			goto out;
		s->durable = true;
	}
	if (d->begin(s->writer->conn) != DV_OK)
		goto out;
	/* the chain head is read by the first audit row of the batch */
	s->audit_loaded = false;
	for (op = batch; op != NULL; op = op->next) {
		if (op->type == STORE_OP_ISSUE && op->presign != NULL &&
		    op->presign->rc != DV_OK) {
			/* not signed: nothing of it is written */
			op->rc = op->presign->rc;
			continue;
		}
		if (d->savepoint(s->writer->conn, STORE_SP) != DV_OK)
			goto out;
		saved.id = s->audit_id;
		memcpy(saved.hash, s->audit_hash, STORE_HASH_LEN);
		saved.loaded = s->audit_loaded;
		op->rc = store_op_apply(s, op);
		if (op->rc != DV_OK) {
			s->audit_id = saved.id;
			memcpy(s->audit_hash, saved.hash, STORE_HASH_LEN);
			s->audit_loaded = saved.loaded;
			if (d->rollback_to(s->writer->conn, STORE_SP) != DV_OK)
				goto out;
		}
		/* after ROLLBACK TO the savepoint is still open */
		if (d->release(s->writer->conn, STORE_SP) != DV_OK)
			goto out;
	}
	if (d->commit(s->writer->conn) != DV_OK)
		goto out;
	committed = true;
out:
	if (!committed) {
		d->rollback(s->writer->conn);
		for (op = batch; op != NULL; op = op->next)
			op->rc = DV_ERR_STORE;
	}
	pthread_mutex_lock(&s->mu);
	s->stats.ops += n;
	if (committed) {
		/* a durable commit syncs every earlier one too */
		s->unsynced = false;
		s->stats.commits++;
	}
	if (n > s->stats.batch_max)
		s->stats.batch_max = n;
	pthread_mutex_unlock(&s->mu);
}

static void
store_op_free(struct store_op *op)
{
	if (op == NULL)
		return;
	free(op->token_id);
	free(op->cert.serial);
	free(op->cert.authority);
	free(op->cert.provisioner);
	free(op->cert.subject);
	free(op->cert.sans);
	free(op->cert.der);
	free(op->cert.renewed_from);
	free(op->cert.reason);
	free(op->cert.device_id);
	free(op->actor);
	free(op->action);
	free(op->object);
	free(op->request_id);
	free(op->detail);
	free(op->team);
	free(op);
}

/* The CLOCK_REALTIME time us microseconds from now (the clock of
 * pthread_cond_timedwait). */
static struct timespec
store_deadline(long us)
{
	struct timespec t;

	clock_gettime(CLOCK_REALTIME, &t);
	t.tv_sec += us / 1000000;
	t.tv_nsec += (us % 1000000) * 1000L;
	if (t.tv_nsec >= 1000000000L) {
		t.tv_sec++;
		t.tv_nsec -= 1000000000L;
	}
	return t;
}

/* Waits on s->cv (s->mu held) for at most ms: true on the timeout. */
static bool
store_wait_until(struct store *s, long ms)
{
	struct timespec t = store_deadline(ms * 1000);

	return pthread_cond_timedwait(&s->cv, &s->mu, &t) == ETIMEDOUT;
}

/* Makes the lazy commits durable (committer, s->mu held: released while
 * the engine syncs). */
static void
store_flush(struct store *s)
{
	enum dv_rc rc;

	pthread_mutex_unlock(&s->mu);
	pthread_mutex_lock(&s->writer_mu);
	rc = s->drv->flush(s->writer->conn);	/* logged by the driver */
	pthread_mutex_lock(&s->mu);
	if (rc == DV_OK)
		s->unsynced = false;
	pthread_mutex_unlock(&s->writer_mu);
}

/*
 * The committer, before a batch's transaction: signs the issuances that
 * carry a store_presign in one call, and gives each its DER.
 */
static void
store_presign_run(struct store *s, struct store_op *batch)
{
	struct store_presign *v[DV_MAX_COMMIT_BATCH];
	struct store_op *op;
	size_t n = 0;

	for (op = batch; op != NULL; op = op->next)
		if (op->type == STORE_OP_ISSUE && op->presign != NULL) {
			op->presign->der = NULL;
			op->presign->derlen = 0;
			op->presign->rc = DV_ERR_INTERNAL;
			if (n < DV_MAX_COMMIT_BATCH)
				v[n++] = op->presign;
		}
	if (n == 0)
		return;
	if (s->presign == NULL)
		log_msg(LOG_ERR, "store.internal", "{s:s}", "error",
		    "an issuance to sign but no presign function");
	else
		s->presign(s->presign_ctx, v, n);
	for (op = batch; op != NULL; op = op->next) {
		if (op->type != STORE_OP_ISSUE || op->presign == NULL ||
		    op->presign->rc != DV_OK)
			continue;
		if (op->presign->der == NULL || op->presign->derlen == 0) {
			op->presign->rc = DV_ERR_INTERNAL;
			continue;
		}
		free(op->cert.der);
		op->cert.der = xmemdup(op->presign->der, op->presign->derlen);
		op->cert.derlen = op->presign->derlen;
	}
}

static int64_t
store_mono_ns(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (int64_t)t.tv_sec * 1000000000 + t.tv_nsec;
}

/* The group commit's wait (s->mu held): for the operations the arrival
 * rate promises within STORE_LINGER_US, or that long at most. */
static void
store_linger(struct store *s)
{
	struct timespec t;
	int64_t want;

	/* one caller at a time (no operation queued behind the last
	 * batch) gains nothing from a wait (every queued operation is
	 * durable: store_write_lazy does not queue) */
	if (s->last_batch < 2 || s->gap_ns <= 0 ||
	    s->gap_ns > STORE_LINGER_US * 1000 / 2)
		return;
	want = STORE_LINGER_US * 1000 / s->gap_ns;
	if (want > STORE_LINGER_OPS)
		want = STORE_LINGER_OPS;
	if ((int64_t)s->qlen >= want)
		return;
	s->linger_want = (size_t)want;
	t = store_deadline(STORE_LINGER_US);
	while (s->qlen < s->linger_want && !s->stopping)
		if (pthread_cond_timedwait(&s->cv, &s->mu, &t) == ETIMEDOUT)
			break;
	s->linger_want = 0;
}

static void *
store_committer(void *arg)
{
	struct store *s = arg;
	struct store_op *batch, *last, *op, *next;
	size_t n;

	pthread_mutex_lock(&s->mu);
	for (;;) {
		while (s->head == NULL && !s->stopping) {
			if (!s->unsynced) {
				pthread_cond_wait(&s->cv, &s->mu);
				continue;
			}
			/* lazy commits reach the disk with the next durable
			 * one, or after STORE_FLUSH_MS without any */
			if (store_wait_until(s, STORE_FLUSH_MS) &&
			    s->head == NULL && !s->stopping)
				store_flush(s);
		}
		/* stopping: the queue is drained before the thread ends */
		if (s->head == NULL) {
			if (s->unsynced)
				store_flush(s);
			break;
		}
		store_linger(s);
		batch = last = s->head;
		for (n = 1; n < DV_MAX_COMMIT_BATCH && last->next != NULL; n++)
			last = last->next;
		s->head = last->next;
		if (s->head == NULL)
			s->tail = NULL;
		last->next = NULL;
		s->qlen -= n;
		s->last_batch = n;
		pthread_mutex_unlock(&s->mu);

		/* signing first, without the writer: lazy writers go on */
		store_presign_run(s, batch);
		pthread_mutex_lock(&s->writer_mu);
		store_batch_run(s, batch, n);
		pthread_mutex_unlock(&s->writer_mu);
		for (op = batch; op != NULL; op = next) {
			next = op->next;
			op->done(op->arg, op->rc);
			store_op_free(op);
		}
		pthread_mutex_lock(&s->mu);
	}
	pthread_mutex_unlock(&s->mu);
	return NULL;
}

/* Queues op (taking it) or, once the store is closing, fails it at once
 * with DV_ERR_UNAVAILABLE. */
static void
store_enqueue(struct store *s, struct store_op *op)
{
	int64_t now = store_mono_ns(), gap;

	pthread_mutex_lock(&s->mu);
	if (s->stopping) {
		pthread_mutex_unlock(&s->mu);
		log_msg(LOG_WARN, "store.closing", "{s:s}", "op",
		    store_op_names[op->type]);
		op->done(op->arg, DV_ERR_UNAVAILABLE);
		store_op_free(op);
		return;
	}

	if (s->tail != NULL)
		s->tail->next = op;
	else
		s->head = op;
	s->tail = op;
	s->qlen++;
	/* moving average (1/8) of the gaps, a gap capped at 1 ms so one
	 * idle spell does not hide a burst for long */
	gap = now - s->last_enq_ns;
	if (gap > 1000000)
		gap = 1000000;
	s->gap_ns += (gap - s->gap_ns) / 8;
	s->last_enq_ns = now;
	if (s->linger_want == 0 || s->qlen >= s->linger_want)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
}

/* A blocking caller: the committer signals the per-call condvar. */
struct store_wait {
	struct store	*s;		/* borrowed */
	pthread_cond_t	 cv;
	bool		 done;
	enum dv_rc	 rc;
};

static void
store_wait_done(void *arg, enum dv_rc rc)
{
	struct store_wait *w = arg;

	pthread_mutex_lock(&w->s->wait_mu);
	w->rc = rc;
	w->done = true;
	/* signalled under the mutex: the waiter cannot destroy cv before */
	pthread_cond_signal(&w->cv);
	pthread_mutex_unlock(&w->s->wait_mu);
}

static enum dv_rc
store_submit_wait(struct store *s, struct store_op *op)
{
	struct store_wait w = { .s = s, .done = false, .rc = DV_OK };

	pthread_cond_init(&w.cv, NULL);
	op->done = store_wait_done;
	op->arg = &w;
	store_enqueue(s, op);
	pthread_mutex_lock(&s->wait_mu);
	while (!w.done)
		pthread_cond_wait(&w.cv, &s->wait_mu);
	pthread_mutex_unlock(&s->wait_mu);
	pthread_cond_destroy(&w.cv);
	return w.rc;
}

char *
store_strdup(const char *s)
{
	return s != NULL ? xstrdup(s) : NULL;
}

bool
store_tx_writer(struct store_tx *tx, const char *what)
{
	if (tx->write && !tx->is_volatile)
		return true;
	log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what", what,
	    "error", tx->write ? "durable write on the volatile connection" :
	    "write on a reader connection");
	return false;
}

bool
store_tx_volatile(struct store_tx *tx, const char *what)
{
	if (tx->is_volatile)
		return true;
	log_msg(LOG_ERR, "store.internal", "{s:s,s:s}", "what", what,
	    "error", "volatile row outside store_write_volatile");
	return false;
}

static struct store_op *
store_op_new(enum store_op_type type, const char *token_id, time_t exp,
    const struct store_audit *a)
{
	struct store_op *op;

	op = xcalloc(1, sizeof(*op));
	op->type = type;
	op->token_id = store_strdup(token_id);
	op->token_exp = exp;
	if (a != NULL) {
		op->has_audit = true;
		op->actor = store_strdup(a->actor);
		op->action = store_strdup(a->action);
		op->object = store_strdup(a->object);
		op->request_id = store_strdup(a->request_id);
		op->detail = store_strdup(a->detail);
		op->team = store_strdup(a->team);
	}
	return op;
}

static struct store_op *
store_issue_op(const struct store_issue *in)
{
	const struct store_cert *c = in->cert;
	struct store_op *op;

	op = store_op_new(STORE_OP_ISSUE, in->token_id, in->token_exp,
	    in->audit);
	if (c == NULL)
		return op;	/* refused by store_op_valid() */
	op->cert.serial = store_strdup(c->serial);
	op->cert.authority = store_strdup(c->authority);
	op->cert.provisioner = store_strdup(c->provisioner);
	op->cert.subject = store_strdup(c->subject);
	op->cert.sans = store_strdup(c->sans);
	op->cert.not_before = c->not_before;
	op->cert.not_after = c->not_after;
	if (c->der != NULL && c->derlen > 0) {
		op->cert.der = xmemdup(c->der, c->derlen);
		op->cert.derlen = c->derlen;
	}
	op->cert.renewed_from = store_strdup(c->renewed_from);
	op->cert.device_id = store_strdup(c->device_id);
	op->fn = in->also;
	op->fn_arg = in->also_arg;
	op->presign = in->presign;
	return op;
}

void
store_set_presign(struct store *s, store_presign_fn fn, void *ctx)
{
	s->presign = fn;
	s->presign_ctx = ctx;
}

static struct store_op *
store_revoke_op(const struct store_revoke *in)
{
	struct store_op *op;

	op = store_op_new(STORE_OP_REVOKE, in->token_id, in->token_exp,
	    in->audit);
	op->cert.serial = store_strdup(in->serial);
	op->cert.authority = store_strdup(in->authority);
	op->cert.reason_code = in->reason_code;
	op->cert.reason = store_strdup(in->reason);
	op->cert.revoked_at = in->at;
	return op;
}

void
store_issue_submit(struct store *s, const struct store_issue *in,
    store_done_fn done, void *arg)
{
	struct store_op *op = store_issue_op(in);

	op->done = done;
	op->arg = arg;
	store_enqueue(s, op);
}

enum dv_rc
store_issue(struct store *s, const struct store_issue *in)
{
	return store_submit_wait(s, store_issue_op(in));
}

void
store_revoke_submit(struct store *s, const struct store_revoke *in,
    store_done_fn done, void *arg)
{
	struct store_op *op = store_revoke_op(in);

	op->done = done;
	op->arg = arg;
	store_enqueue(s, op);
}

enum dv_rc
store_revoke(struct store *s, const struct store_revoke *in)
{
	return store_submit_wait(s, store_revoke_op(in));
}

enum dv_rc
store_token_use(struct store *s, const char *token_id, time_t exp)
{
	return store_submit_wait(s, store_op_new(STORE_OP_TOKEN, token_id,
	    exp, NULL));
}

enum dv_rc
store_crl_number_next(struct store *s, const char *authority, uint64_t *out)
{
	struct store_op *op;
	uint64_t n = 0;
	enum dv_rc rc;

	*out = 0;
	op = store_op_new(STORE_OP_CRL_NEXT, NULL, 0, NULL);
	op->cert.authority = store_strdup(authority);
	op->result = &n;
	if ((rc = store_submit_wait(s, op)) == DV_OK)
		*out = n;
	return rc;
}

enum dv_rc
store_tokens_expire(struct store *s, time_t t)
{
	struct store_op *op;

	op = store_op_new(STORE_OP_EXPIRE, NULL, 0, NULL);
	op->cert.not_after = t;
	return store_submit_wait(s, op);
}

/* ---- readers ------------------------------------------------------- */

static enum dv_rc
store_reader_get(struct store *s, struct store_db **out)
{
	*out = NULL;
	pthread_mutex_lock(&s->pool_mu);
	if (s->pool != NULL) {
		*out = s->pool;
		s->pool = s->pool->next;
		(*out)->next = NULL;
	}
	pthread_mutex_unlock(&s->pool_mu);
	if (*out != NULL)
		return DV_OK;
	return store_db_open(s->drv, s->target, STORE_ROLE_READER, out);
}

static void
store_reader_put(struct store *s, struct store_db *db)
{
	if (db == NULL)
		return;
	pthread_mutex_lock(&s->pool_mu);
	db->next = s->pool;
	s->pool = db;
	pthread_mutex_unlock(&s->pool_mu);
}

static void
store_cert_clear(struct store_cert *c)
{
	free(c->serial);
	free(c->authority);
	free(c->provisioner);
	free(c->subject);
	free(c->sans);
	free(c->der);
	free(c->renewed_from);
	free(c->reason);
	free(c->device_id);
	memset(c, 0, sizeof(*c));
}

void
store_cert_free(struct store_cert *c)
{
	if (c == NULL)
		return;
	store_cert_clear(c);
	free(c);
}

void
store_certs_free(struct store_cert *v, size_t n)
{
	size_t i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		store_cert_clear(&v[i]);
	free(v);
}

/* Copies the STORE_CERT_COLS of the current row into c. */
static void
store_cert_row(struct store_db *db, struct store_stmt *st,
    struct store_cert *c)
{
	const struct store_driver *d = db->drv;
	const void *der;
	size_t len;

	memset(c, 0, sizeof(*c));
	c->serial = store_strdup(d->col_text(st, 0));
	c->authority = store_strdup(d->col_text(st, 1));
	c->provisioner = store_strdup(d->col_text(st, 2));
	c->subject = store_strdup(d->col_text(st, 3));
	c->sans = store_strdup(d->col_text(st, 4));
	c->not_before = (time_t)d->col_int64(st, 5);
	c->not_after = (time_t)d->col_int64(st, 6);
	der = d->col_blob(st, 7, &len);
	if (der != NULL && len > 0) {
		c->der = xmemdup(der, len);
		c->derlen = len;
	}
	c->renewed_from = store_strdup(d->col_text(st, 8));
	if (d->col_text(st, 9) != NULL) {
		c->revoked = true;
		c->revoked_at = (time_t)d->col_int64(st, 10);
		c->reason_code = (int)d->col_int64(st, 11);
		c->reason = store_strdup(d->col_text(st, 12));
	}
	c->device_id = store_strdup(d->col_text(st, 13));
}

enum dv_rc
store_cert_get(struct store *s, const char *serial, struct store_cert **out)
{
	struct store_db *db = NULL;
	struct store_stmt *st;
	struct store_cert *c;
	enum store_step r;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = store_reader_get(s, &db)) != DV_OK)
		goto out;
	r = store_run(db, STORE_Q_CERT_GET, &st, "t", serial);
	if (r == STORE_STEP_DONE) {
		/* an expected answer, not a failure: not logged (rule 9 is
		 * the caller's, which knows whether absence is an error) */
		rc = DV_ERR_NOT_FOUND;
		goto out;
	}
	if (r != STORE_STEP_ROW) {
		rc = DV_ERR_STORE;
		goto out;
	}
	c = xcalloc(1, sizeof(*c));
	store_cert_row(db, st, c);
	db->drv->reset(st);
	*out = c;
	rc = DV_OK;
out:
	store_reader_put(s, db);
	return rc;
}

enum dv_rc
store_revoked_list(struct store *s, const char *authority,
    time_t not_after_min, struct store_cert **out, size_t *n)
{
	struct store_db *db = NULL;
	struct store_cert *v = NULL;
	struct store_stmt *st;
	enum store_step r;
	size_t len = 0, cap = 0;
	enum dv_rc rc;

	*out = NULL;
	*n = 0;
	if ((rc = store_reader_get(s, &db)) != DV_OK)
		goto out;
	r = store_run(db, STORE_Q_REVOKED_LIST, &st, "ti", authority,
	    (int64_t)not_after_min);
	for (; r == STORE_STEP_ROW; r = db->drv->step(st)) {
		if (len == cap) {
			cap = cap ? cap * 2 : 16;
			v = xrealloc(v, cap * sizeof(*v));
		}
		store_cert_row(db, st, &v[len++]);
	}
	if (st != NULL)
		db->drv->reset(st);
	if (r != STORE_STEP_DONE) {
		store_certs_free(v, len);
		rc = DV_ERR_STORE;
		goto out;
	}
	*out = v;
	*n = len;
	rc = DV_OK;
out:
	store_reader_put(s, db);
	return rc;
}

enum dv_rc
store_cert_count(struct store *s, uint64_t *out)
{
	struct store_db *db = NULL;
	struct store_stmt *st;
	enum dv_rc rc;

	*out = 0;
	if ((rc = store_reader_get(s, &db)) != DV_OK)
		goto out;
	if (store_run(db, STORE_Q_CERT_COUNT, &st, "") != STORE_STEP_ROW) {
		rc = DV_ERR_STORE;
		goto out;
	}
	*out = (uint64_t)db->drv->col_int64(st, 0);
	db->drv->reset(st);
out:
	store_reader_put(s, db);
	return rc;
}

enum dv_rc
store_check(struct store *s)
{
	struct store_audit_report rep;
	struct store_db *db = NULL;
	enum dv_rc rc;

	if ((rc = store_reader_get(s, &db)) != DV_OK)
		goto out;
	if ((rc = db->drv->check(db->conn)) != DV_OK)
		goto out;
	rc = store_audit_verify(db, &rep);
out:
	store_reader_put(s, db);
	return rc;
}

enum dv_rc
store_audit_check(struct store *s, struct store_audit_report *out)
{
	struct store_db *db = NULL;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	if ((rc = store_reader_get(s, &db)) != DV_OK)
		return rc;
	/* a broken chain is an answer here, not a failure */
	if (store_audit_verify(db, out) != DV_OK && out->reason == NULL)
		rc = DV_ERR_STORE;
	store_reader_put(s, db);
	return rc;
}

enum dv_rc
store_write(struct store *s, store_tx_fn fn, void *arg)
{
	struct store_op *op;

	op = store_op_new(STORE_OP_FUNC, NULL, 0, NULL);
	op->fn = fn;
	op->fn_arg = arg;
	return store_submit_wait(s, op);
}

enum dv_rc
store_write_lazy(struct store *s, store_tx_fn fn, void *arg)
{
	const struct store_driver *d = s->drv;
	struct store_tx tx = { .s = s, .db = s->writer, .drv = d,
	    .conn = s->writer->conn, .write = true };
	bool stopping, committed = false, wake = false;
	enum dv_rc rc;

	/*
	 * In the caller's thread (the file's comment): a transaction of its
	 * own, committed without waiting for the disk; the committer syncs
	 * it with its next durable batch or flush.
	 */
	pthread_mutex_lock(&s->writer_mu);
	pthread_mutex_lock(&s->mu);
	stopping = s->stopping;
	pthread_mutex_unlock(&s->mu);
	if (stopping) {
		pthread_mutex_unlock(&s->writer_mu);
		log_msg(LOG_WARN, "store.closing", "{s:s}", "op",
		    store_op_names[STORE_OP_FUNC]);
		return DV_ERR_UNAVAILABLE;
	}
	rc = DV_ERR_STORE;
	if (s->durable) {
		if (d->set_durable(tx.conn, false) != DV_OK)
			goto out;
		s->durable = false;
	}
	if (d->begin(tx.conn) != DV_OK)
		goto out;
	/* the chain head is read by the first audit row, as in a batch */
	s->audit_loaded = false;
	rc = fn(&tx, arg);
	if (rc == DV_OK && d->commit(tx.conn) == DV_OK)
		committed = true;
	else {
		d->rollback(tx.conn);
		s->audit_loaded = false;
		if (rc == DV_OK)
			rc = DV_ERR_STORE;
	}
out:
	pthread_mutex_lock(&s->mu);
	s->stats.ops++;
	if (committed) {
		s->stats.commits++;
		s->stats.commits_lazy++;
		/* the committer's flush timer starts with the first one */
		wake = !s->unsynced;
		s->unsynced = true;
	}
	if (s->stats.batch_max == 0)
		s->stats.batch_max = 1;
	if (wake)
		pthread_cond_signal(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_mutex_unlock(&s->writer_mu);
	return rc;
}

enum dv_rc
store_write_volatile(struct store *s, store_tx_fn fn, void *arg)
{
	const struct store_driver *d = s->drv;
	struct store_tx tx = { .s = s, .db = s->vol, .drv = d,
	    .conn = s->vol->conn, .write = true, .is_volatile = true };
	enum dv_rc rc;

	/*
	 * In the caller's thread, not the committer's: nothing here waits
	 * for a disk, and the transactions are a few statements long, so
	 * a mutex costs less than two thread hand-offs.
	 */
	pthread_mutex_lock(&s->vol_mu);
	if ((rc = d->begin(tx.conn)) == DV_OK) {
		rc = fn(&tx, arg);
		if (rc == DV_OK && d->commit(tx.conn) != DV_OK)
			rc = DV_ERR_STORE;
		if (rc != DV_OK)
			d->rollback(tx.conn);
	}
	pthread_mutex_unlock(&s->vol_mu);
	return rc;
}

enum dv_rc
store_read(struct store *s, store_tx_fn fn, void *arg)
{
	struct store_tx tx = { .s = s };
	struct store_db *db = NULL;
	enum dv_rc rc;

	if ((rc = store_reader_get(s, &db)) != DV_OK)
		return rc;
	tx.db = db;
	tx.drv = db->drv;
	tx.conn = db->conn;
	/* one snapshot and one taking of the read locks for all of fn's
	 * statements (each would otherwise be a transaction of its own) */
	if ((rc = tx.drv->begin_read(tx.conn)) != DV_OK) {
		store_reader_put(s, db);
		return rc;
	}
	rc = fn(&tx, arg);
	/* nothing to keep: a failed end only needs the connection clean */
	if (tx.drv->commit(tx.conn) != DV_OK)
		tx.drv->rollback(tx.conn);
	store_reader_put(s, db);
	return rc;
}

void
store_stats(struct store *s, struct store_stats *out)
{
	pthread_mutex_lock(&s->mu);
	*out = s->stats;
	pthread_mutex_unlock(&s->mu);
}

/* ---- open, migrate, close ------------------------------------------ */

/*
 * "sqlite:PATH", "sqlite://PATH" (so "sqlite:///abs" is "/abs") or a plain
 * PATH.  PostgreSQL URLs are recognised but no driver is built yet.  The URL
 * is not logged: a PostgreSQL one may hold a password.
 */
static enum dv_rc
store_url_parse(const char *url, const struct store_driver **drv,
    char **target)
{
	const char *p;

	*drv = NULL;
	*target = NULL;
	if (strncmp(url, "sqlite://", 9) == 0)
		p = url + 9;
	else if (strncmp(url, "sqlite:", 7) == 0)
		p = url + 7;
	else if (strncmp(url, "postgres://", 11) == 0 ||
	    strncmp(url, "postgresql://", 13) == 0) {
		log_msg(LOG_ERR, "store.open", "{s:s}", "error",
		    "no PostgreSQL driver in this build");
		return DV_ERR_NOT_IMPLEMENTED;
	} else if (strstr(url, "://") != NULL) {
		log_msg(LOG_ERR, "store.open", "{s:s}", "error",
		    "unknown URL scheme");
		return DV_ERR_MALFORMED;
	} else
		p = url;
	if (*p == '\0' || strcmp(p, ":memory:") == 0) {
		/* every connection to :memory: is a database of its own */
		log_msg(LOG_ERR, "store.open", "{s:s}", "error",
		    "the store needs a file path");
		return DV_ERR_MALFORMED;
	}
	*drv = &store_driver_sqlite;
	*target = xstrdup(p);
	return DV_OK;
}

static enum dv_rc
store_version_get(struct store_db *w, int64_t *out)
{
	struct store_stmt *st;

	*out = 0;
	if (store_run(w, STORE_Q_VERSION_GET, &st, "") != STORE_STEP_ROW)
		return DV_ERR_STORE;
	*out = w->drv->col_int64(st, 0);
	w->drv->reset(st);
	return DV_OK;
}

/* Brings the schema to the last version, one transaction per migration. */
static enum dv_rc
store_migrate(struct store *s)
{
	const struct store_driver *d = s->drv;
	struct store_db *w = s->writer;
	const int64_t last = (int64_t)nitems(store_migrations);
	int64_t v;
	enum dv_rc rc;

	rc = d->exec(w->conn, "CREATE TABLE IF NOT EXISTS schema_version "
	    "(version INTEGER NOT NULL)");
	if (rc != DV_OK)
		return rc;
	for (;;) {
		if ((rc = d->begin(w->conn)) != DV_OK)
			return rc;
		/* read inside the write transaction: another process may
		 * have migrated since */
		if ((rc = store_version_get(w, &v)) != DV_OK)
			goto out;
		if (v > last) {
			log_msg(LOG_ERR, "store.migrate", "{s:s,s:I,s:I}",
			    "error", "database schema newer than this program",
			    "version", (json_int_t)v, "known", (json_int_t)last);
			rc = DV_ERR_STORE;
			goto out;
		}
		if (v == last)
			break;
		if ((rc = d->exec(w->conn, store_migrations[v])) != DV_OK)
			goto out;
		if ((rc = store_step_rc(store_run(w, STORE_Q_VERSION_CLEAR,
		    NULL, ""), DV_ERR_STORE, "schema_version", NULL)) != DV_OK)
			goto out;
		if ((rc = store_step_rc(store_run(w, STORE_Q_VERSION_SET,
		    NULL, "i", v + 1), DV_ERR_STORE, "schema_version",
		    NULL)) != DV_OK)
			goto out;
		if ((rc = d->commit(w->conn)) != DV_OK)
			goto out;
		log_msg(LOG_INFO, "store.migrated", "{s:I}", "version",
		    (json_int_t)(v + 1));
	}
	s->stats.schema_version = (int)v;
out:
	d->rollback(w->conn);
	return rc;
}

static void
store_free(struct store *s)
{
	struct store_db *db;

	while ((db = s->pool) != NULL) {
		s->pool = db->next;
		store_db_free(db);
	}
	store_db_free(s->writer);
	store_db_free(s->vol);
	pthread_mutex_destroy(&s->writer_mu);
	pthread_mutex_destroy(&s->vol_mu);
	pthread_mutex_destroy(&s->pool_mu);
	pthread_mutex_destroy(&s->wait_mu);
	pthread_cond_destroy(&s->cv);
	pthread_mutex_destroy(&s->mu);
	free(s->target);
	free(s);
}

enum dv_rc
store_open(const char *url, struct store **out)
{
	struct store *s;
	enum dv_rc rc;
	int e;

	*out = NULL;
	s = xcalloc(1, sizeof(*s));
	pthread_mutex_init(&s->mu, NULL);
	pthread_cond_init(&s->cv, NULL);
	pthread_mutex_init(&s->wait_mu, NULL);
	pthread_mutex_init(&s->pool_mu, NULL);
	pthread_mutex_init(&s->vol_mu, NULL);
	pthread_mutex_init(&s->writer_mu, NULL);
	if ((rc = store_url_parse(url, &s->drv, &s->target)) != DV_OK)
		goto err;
	if ((rc = store_db_open(s->drv, s->target, STORE_ROLE_WRITER,
	    &s->writer)) != DV_OK)
		goto err;
	s->durable = true;	/* the driver opens the writer so */
	if ((rc = store_migrate(s)) != DV_OK)
		goto err;
	if ((rc = store_db_open(s->drv, s->target, STORE_ROLE_VOLATILE,
	    &s->vol)) != DV_OK)
		goto err;
	if ((rc = s->drv->exec(s->vol->conn, store_volatile_schema)) != DV_OK)
		goto err;
	if ((e = pthread_create(&s->committer, NULL, store_committer, s))
	    != 0) {
		log_msg(LOG_ERR, "store.open", "{s:s,s:s}", "error",
		    "cannot start the committer thread", "errno", strerror(e));
		rc = DV_ERR_INTERNAL;
		goto err;
	}
	*out = s;
	return DV_OK;
err:
	store_free(s);
	return rc;
}

void
store_close(struct store *s)
{
	if (s == NULL)
		return;
	pthread_mutex_lock(&s->mu);
	s->stopping = true;
	pthread_cond_broadcast(&s->cv);
	pthread_mutex_unlock(&s->mu);
	pthread_join(s->committer, NULL);
	/* a store_write_lazy that began before stopping ends first */
	pthread_mutex_lock(&s->writer_mu);
	pthread_mutex_unlock(&s->writer_mu);
	/* group commit at work: operations per durable commit */
	log_msg(LOG_INFO, "store.closed", "{s:I,s:I,s:I}", "commits",
	    (json_int_t)s->stats.commits, "ops", (json_int_t)s->stats.ops,
	    "batch_max", (json_int_t)s->stats.batch_max);
	store_free(s);
}
