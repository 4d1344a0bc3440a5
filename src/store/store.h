/*
 * store.h - the durable store of devid (DESIGN §5).
 *
 * Callers see typed operations only.  Behind them sits a driver interface
 * (store_int.h) with one file per engine: store_sqlite.c today (WAL,
 * synchronous=FULL), a PostgreSQL driver later, chosen by the URL given to
 * store_open().  Schema migrations are versioned (table schema_version).
 *
 * Writes that must be durable before an answer leaves (issuance, revocation,
 * one-time token use) go through a committer thread that gathers every
 * operation queued while the previous commit was in flight into one
 * transaction (group commit, at most DV_MAX_COMMIT_BATCH operations), each
 * operation in its own savepoint so a failed one does not undo the others.
 * The _submit variants return at once and call done(arg, rc) from the
 * committer thread after the commit reached disk; the plain variants wait.
 * done must not call back into the store's blocking functions (it runs on
 * the committer) and should return quickly: the next batch waits for it.
 * Once store_close() has begun, submissions fail at once, in the caller's
 * thread, with DV_ERR_UNAVAILABLE.  Reads use pooled connections of their
 * own and never wait for the committer.
 */
#ifndef DV_STORE_H
#define DV_STORE_H

#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"

struct store;

/* "sqlite:/path/devid.db" or a plain path (SQLite). */
enum dv_rc	store_open(const char *url, struct store **out);
/* Waits for queued commits, stops the committer, closes. Accepts NULL. */
void		store_close(struct store *);

typedef void	(*store_done_fn)(void *arg, enum dv_rc rc);

/* An issued certificate. Strings are borrowed in inputs, owned in outputs. */
struct store_cert {
	char		*serial;	/* decimal, unique */
	char		*authority;	/* "team/authority", e.g. "default/account" */
	char		*provisioner;	/* name, may be NULL */
	char		*subject;	/* RFC 2253 text */
	char		*sans;		/* JSON array text, may be NULL */
	time_t		 not_before;
	time_t		 not_after;
	uint8_t		*der;
	size_t		 derlen;
	char		*renewed_from;	/* serial, may be NULL */
	char		*device_id;	/* devices.id, may be NULL (issue 3) */
	/* revocation (outputs only) */
	bool		 revoked;
	time_t		 revoked_at;
	int		 reason_code;
	char		*reason;
};
void		store_cert_free(struct store_cert *);	/* outputs only */

/* An audit row (issue, renew, revoke, ...). Strings borrowed. */
struct store_audit {
	const char	*actor;		/* "provisioner:jwk/admin", "mtls:<serial>" */
	const char	*action;	/* "cert.issue", "cert.renew", "cert.revoke" */
	const char	*object;	/* serial */
	const char	*request_id;
	const char	*detail;	/* JSON text, may be NULL */
	const char	*team;		/* may be NULL (issue 3) */
};

/*
 * One issuance, atomically: use the one-time token id (if not NULL; refused
 * with DV_ERR_TOKEN_REUSED when already used; kept until token_exp), insert
 * the certificate, run also(tx, also_arg) when not NULL (the caller's
 * writes that belong with the certificate, e.g. the ACME order it
 * completes; its failure undoes the whole issuance), append the audit row.
 * Struct contents are copied before _submit returns, except also_arg,
 * which must live until done is called.
 */
struct store_tx;
typedef enum dv_rc (*store_tx_fn)(struct store_tx *, void *arg);
/*
 * A certificate signed by the committer just before it is stored: for the
 * issuances of a batch that carry one, the function set with
 * store_set_presign is called once, before the batch's transaction, so
 * that one exchange with the signer process serves them all (and no
 * request thread waits for the signer).  It sets der (new; the caller's
 * to free) and rc of each.  An issuance whose rc is not DV_OK fails with
 * it, and nothing of it is stored (its token stays unused).
 */
struct store_presign {
	void		*arg;		/* the caller's */
	uint8_t		*der;		/* out */
	size_t		 derlen;
	enum dv_rc	 rc;		/* out */
};
typedef void	(*store_presign_fn)(void *ctx, struct store_presign *const *v,
		    size_t n);
/* Sets the presign function (before the first store_issue_submit). */
void		store_set_presign(struct store *, store_presign_fn,
		    void *ctx);

struct store_issue {
	const char	*token_id;
	time_t		 token_exp;
	const struct store_cert *cert;	/* der may be NULL with presign */
	const struct store_audit *audit;
	store_tx_fn	 also;		/* may be NULL */
	void		*also_arg;	/* borrowed */
	struct store_presign *presign;	/* borrowed until done; may be NULL */
};
void		store_issue_submit(struct store *, const struct store_issue *,
		    store_done_fn done, void *arg);
enum dv_rc	store_issue(struct store *, const struct store_issue *);

/*
 * Revokes serial of authority: DV_ERR_NOT_FOUND if no such certificate of
 * that authority, DV_ERR_ALREADY_REVOKED if revoked before.  Uses token_id
 * (may be NULL) like store_issue.
 */
struct store_revoke {
	const char	*authority;
	const char	*serial;
	int		 reason_code;
	const char	*reason;
	time_t		 at;
	const char	*token_id;
	time_t		 token_exp;
	const struct store_audit *audit;
};
void		store_revoke_submit(struct store *, const struct store_revoke *,
		    store_done_fn done, void *arg);
enum dv_rc	store_revoke(struct store *, const struct store_revoke *);

/* Uses a one-time token id on its own (durable). */
enum dv_rc	store_token_use(struct store *, const char *token_id,
		    time_t exp);

/* Reads one certificate by serial; DV_ERR_NOT_FOUND if absent. */
enum dv_rc	store_cert_get(struct store *, const char *serial,
		    struct store_cert **out);

/* Revoked certificates of authority that expire after not_after_min, in
 * serial order; *out is a new array of n entries (store_certs_free). */
enum dv_rc	store_revoked_list(struct store *, const char *authority,
		    time_t not_after_min, struct store_cert **out, size_t *n);
void		store_certs_free(struct store_cert *, size_t n);

/* Next CRL number of authority, durably incremented (starts at 1). */
enum dv_rc	store_crl_number_next(struct store *, const char *authority,
		    uint64_t *out);

/* Number of certificates stored (all authorities). */
enum dv_rc	store_cert_count(struct store *, uint64_t *out);

/* Deletes used-token rows whose expiry passed before t. */
enum dv_rc	store_tokens_expire(struct store *, time_t t);

/*
 * Runs the engine's integrity check (SQLite PRAGMA integrity_check), then
 * recomputes the audit hash chain (store.c describes the canonical row):
 * DV_ERR_STORE, logged, on the first finding.
 */
enum dv_rc	store_check(struct store *);

/* Counters since store_open(), for tests and metrics. */
struct store_stats {
	uint64_t	 commits;	/* write transactions committed */
	uint64_t	 commits_lazy;	/* of which not durable (store_write_lazy) */
	uint64_t	 ops;		/* operations run by the committer */
	uint64_t	 batch_max;	/* most operations in one transaction */
	int		 schema_version; /* after the migrations of open */
};
/* Copies the counters into *out. */
void		store_stats(struct store *, struct store_stats *out);

/* ---- inventory (issue 3) ---- */
/*
 * The device inventory's storage (src/inventory).  Its writes run as a
 * function inside the committer's batch transaction (store_write), in
 * their own savepoint like every operation; store_tx_nested() gives a row
 * of a bulk import a savepoint of its own.  Reads run on a pooled reader
 * (store_read).  The typed operations below take the struct store_tx the
 * function was given; those that write fail with DV_ERR_INTERNAL on a
 * reader.  Outputs' strings are owned (the *_clear / *_free functions);
 * inputs are borrowed.  Times are Unix seconds, 0 for "none".
 */
/* Runs fn on the committer inside the group-commit transaction and waits
 * until it committed (or fn failed and was rolled back alone): fn's
 * result, or DV_ERR_STORE / DV_ERR_UNAVAILABLE.  fn must not call the
 * store's blocking functions; it should return within milliseconds (the
 * batch waits for it). */
enum dv_rc	store_write(struct store *, store_tx_fn fn, void *arg);
/*
 * store_write for state changes that must be transactional but need not
 * be durable when the call returns: the commit does not wait for the
 * disk, so a crash soon after may undo it (whole, never in part, and
 * never a later durable commit without it: commits reach the disk in
 * order).  It becomes durable with the next durable commit, or at the
 * latest STORE_FLUSH_MS (store.c) later.  Not for certificates, token
 * uses, revocations, or anything whose loss a client could exploit.
 * fn runs in the calling thread, in a transaction of its own on the
 * writer connection (waiting while the committer holds it); the same
 * rules as store_write's fn.
 */
enum dv_rc	store_write_lazy(struct store *, store_tx_fn fn, void *arg);
/*
 * Runs fn in a write transaction of the volatile database, in the calling
 * thread: rows that every node sharing the store can read and write, but
 * that a crash may lose (the last commits before a power failure), so the
 * commit waits for no disk.  Only the operations documented as volatile
 * (ACME nonces, the Attestation CA's pending sessions) may run there;
 * fn's result, or DV_ERR_STORE.  fn must not call the store's blocking
 * functions.
 */
enum dv_rc	store_write_volatile(struct store *, store_tx_fn fn, void *arg);
/* Runs fn with a reader connection (last committed state). */
enum dv_rc	store_read(struct store *, store_tx_fn fn, void *arg);
/* Inside a write: runs fn in a nested savepoint, undoing only its changes
 * (and audit rows) when it fails; returns fn's result.  Not re-entrant. */
enum dv_rc	store_tx_nested(struct store_tx *, store_tx_fn fn, void *arg);
/* Appends a hash-chained audit row in the transaction. */
enum dv_rc	store_tx_audit(struct store_tx *, const struct store_audit *);

struct store_device {
	char		*id;
	char		*team;
	char		*name;
	char		*owner;		/* may be NULL */
	char		*owner_domain;	/* lower-case part after '@', or NULL */
	char		*os;		/* may be NULL */
	char		*kind;		/* may be NULL */
	char		*source;
	char		*status;
	char		*tags;		/* JSON array of strings, text */
	char		*posture;	/* JSON text, may be NULL */
	bool		 missing;	/* missing from its MDM source */
	char		*sync_mark;	/* input: the MDM sync that saw it */
	time_t		 created_at;
	time_t		 updated_at;
	time_t		 last_seen_at;
};
void		store_device_clear(struct store_device *);
void		store_devices_free(struct store_device *, size_t n);

/* Inserts d (and its tags); DV_ERR_EXISTS if the id is taken. */
enum dv_rc	store_dev_insert(struct store_tx *,
		    const struct store_device *);
/* Rewrites every column of d but id, team, created_at (and its tags);
 * DV_ERR_NOT_FOUND if absent. */
enum dv_rc	store_dev_update(struct store_tx *,
		    const struct store_device *);
enum dv_rc	store_dev_get(struct store_tx *, const char *team,
		    const char *id, struct store_device *out);
/* Sets last_seen_at, and status "active" when "approved". */
enum dv_rc	store_dev_seen(struct store_tx *, const char *team,
		    const char *id, time_t when);
/* Sets only the sync_mark of a device (an MDM sync saw it unchanged). */
enum dv_rc	store_dev_mark(struct store_tx *, const char *team,
		    const char *id, const char *mark);
/* On a full MDM sync: marks missing every device of team and source whose
 * sync_mark differs from mark; *ids is a new JSON array of their ids. */
enum dv_rc	store_dev_mark_missing(struct store_tx *, const char *team,
		    const char *source, const char *mark, time_t now,
		    json_t **ids);

/* List filters; NULL/0 do not filter.  Page order (created_at, id). */
struct store_dev_filter {
	const char	*status;
	const char	*collection;
	const char	*tag;
	const char	*owner;
	const char	*owner_domain;
	const char	*identifier;
	const char	*source;
	time_t		 seen_after;
	time_t		 seen_before;
	bool		 has_cursor;	/* after (cursor_created, cursor_id) */
	time_t		 cursor_created;
	const char	*cursor_id;
	int		 limit;		/* rows wanted, > 0 */
};
/* *v is a new array of *n devices (store_devices_free). */
enum dv_rc	store_dev_list(struct store_tx *, const char *team,
		    const struct store_dev_filter *, struct store_device **v,
		    size_t *n);

struct store_ident {
	char		*device_id;	/* output only */
	char		*type;
	char		*value;
	char		*tpm_manufacturer;	/* may be NULL */
	char		*tpm_model;
	char		*tpm_version;
	char		*certificate;	/* PEM, ek-cert only */
};
void		store_idents_free(struct store_ident *, size_t n);
/* DV_ERR_EXISTS when the value is held in team already. */
enum dv_rc	store_ident_insert(struct store_tx *, const char *team,
		    const char *device_id, const struct store_ident *);
enum dv_rc	store_ident_delete(struct store_tx *, const char *team,
		    const char *device_id, const char *value);
/* The id of the device holding value (new string); DV_ERR_NOT_FOUND. */
enum dv_rc	store_ident_owner(struct store_tx *, const char *team,
		    const char *value, char **device_id);
/* Identifiers of a device in insertion order; *v new. */
enum dv_rc	store_ident_list(struct store_tx *, const char *device_id,
		    struct store_ident **v, size_t *n);
/* Names of the collections device is a member of (new JSON array). */
enum dv_rc	store_dev_collections(struct store_tx *, const char *team,
		    const char *device_id, json_t **names);

/* Revokes (reason_code, reason, at) every certificate of device_id not yet
 * revoked; *revoked is a new JSON array of {"authority","serial"}. */
enum dv_rc	store_dev_certs_revoke(struct store_tx *,
		    const char *device_id, int reason_code, const char *reason,
		    time_t at, json_t **revoked);

struct store_collection {
	char		*team;
	char		*name;
	char		*kind;		/* NULL: any */
	char		*os;
	char		*source;
	char		*rules;		/* JSON array text [{"tag":"x"},...] */
	char		*settings;	/* JSON object text */
	time_t		 created_at;
	time_t		 updated_at;
};
void		store_collection_clear(struct store_collection *);
void		store_collections_free(struct store_collection *, size_t n);
/* Insert / rewrite c and its rules (rules parsed from c->rules: one
 * member "tag", "os", "source" or "ownerDomain" per element).
 * DV_ERR_EXISTS / DV_ERR_NOT_FOUND. */
enum dv_rc	store_coll_insert(struct store_tx *,
		    const struct store_collection *);
enum dv_rc	store_coll_update(struct store_tx *,
		    const struct store_collection *);
/* Deletes c, its rules and members; DV_ERR_NOT_FOUND. */
enum dv_rc	store_coll_delete(struct store_tx *, const char *team,
		    const char *name);
enum dv_rc	store_coll_get(struct store_tx *, const char *team,
		    const char *name, struct store_collection *out);
/* Every collection of team by name; *v new. */
enum dv_rc	store_coll_list(struct store_tx *, const char *team,
		    struct store_collection **v, size_t *n);
/* Replaces the static members by the device ids of the JSON array ids
 * (each must be a device of team: DV_ERR_NOT_FOUND naming none). */
enum dv_rc	store_coll_members_set(struct store_tx *, const char *team,
		    const char *name, const json_t *ids);
/* Static members (new JSON array of ids) and the number of devices the
 * collection holds by membership (static or rule). */
enum dv_rc	store_coll_members(struct store_tx *, const char *team,
		    const char *name, json_t **ids, int64_t *count);

struct store_api_token {
	char		*id;
	char		*team;
	char		*name;
	char		*role;
	char		*hash;		/* hex SHA-256 of the secret */
	time_t		 created_at;
	time_t		 expires_at;	/* 0: never */
	time_t		 revoked_at;	/* 0: not revoked */
};
void		store_api_token_clear(struct store_api_token *);
void		store_api_tokens_free(struct store_api_token *, size_t n);
enum dv_rc	store_apitok_insert(struct store_tx *,
		    const struct store_api_token *);
/* DV_ERR_NOT_FOUND when no token has that hash. */
enum dv_rc	store_apitok_by_hash(struct store_tx *, const char *hash,
		    struct store_api_token *out);
enum dv_rc	store_apitok_list(struct store_tx *, const char *team,
		    struct store_api_token **v, size_t *n);
/* DV_ERR_NOT_FOUND, DV_ERR_ALREADY_REVOKED. */
enum dv_rc	store_apitok_revoke(struct store_tx *, const char *team,
		    const char *id, time_t at);

/* A stored audit row (strings borrowed for the callback's duration). */
struct store_audit_row {
	int64_t		 id;
	time_t		 time;
	const char	*team;
	const char	*actor;
	const char	*action;
	const char	*object;
	const char	*request_id;
	const char	*detail;
	const char	*prev_hash;
	const char	*hash;
};
typedef enum dv_rc (*store_audit_fn)(const struct store_audit_row *,
		    void *arg);
/*
 * Calls fn for the audit rows of team (NULL: all) in id order, or newest
 * first when desc; only ids below before (desc) or above it (!desc) when
 * before > 0; at most limit rows when limit > 0.  Stops at fn's first
 * failure and returns it.
 */
enum dv_rc	store_audit_rows(struct store_tx *, const char *team,
		    int64_t before, bool desc, int limit, store_audit_fn fn,
		    void *arg);

/* The audit chain recomputed (store_check's, as an answer). */
struct store_audit_report {
	bool		 ok;
	int64_t		 rows;		/* rows verified before the break */
	int64_t		 first_bad;	/* id of the first bad row, or 0 */
	const char	*reason;	/* static text, NULL when ok */
};
/* DV_OK with out->ok false when the chain is broken. */
enum dv_rc	store_audit_check(struct store *,
		    struct store_audit_report *out);

/* ---- attestation (issue 4) ---- */
/*
 * Pending TPM credential activations of the Attestation CA
 * (spec/attestation.md §2.1, §2.6): a row per /attest answered, keyed by
 * the hex SHA-256 of the 32-byte secret sent encrypted to the EK, so that
 * any node sharing the store can answer the /secret that follows.  A
 * session is single-use and expires (DV_ATT_SESSION_LIFETIME); a team's EK
 * holds at most DV_ATT_MAX_PENDING pending sessions at once.  Strings and
 * blobs are borrowed in inputs, owned in outputs (store_att_session_clear).
 */
struct store_att_session {
	char		*id;		/* hex SHA-256 of the secret */
	char		*team;
	char		*ek_urn;
	char		*device_id;
	uint8_t		*ak_spki;	/* SubjectPublicKeyInfo DER of the AK */
	size_t		 ak_spki_len;
	char		*tpm_manufacturer;	/* may be NULL */
	char		*tpm_model;		/* may be NULL */
	char		*tpm_version;		/* may be NULL */
	time_t		 created_at;
	time_t		 expires_at;
	time_t		 used_at;	/* 0: still pending (outputs only) */
};
void		store_att_session_clear(struct store_att_session *);

/*
 * Inserts the pending session s (a write).  DV_ERR_UNAVAILABLE when the EK
 * of s already has max_pending sessions pending at now (nothing inserted;
 * expired rows do not count), DV_ERR_EXISTS when the id is taken.
 */
enum dv_rc	store_att_session_insert(struct store_tx *,
		    const struct store_att_session *s, time_t now,
		    int max_pending);
/*
 * Deletes at most max sessions that expired at now (expires_at <= now),
 * used or not, any EK's (a write): only bounds the table, since an
 * expired session is refused and not counted as pending anyway.  After it,
 * a replayed secret of a deleted session is DV_ERR_NOT_FOUND to
 * store_att_session_take.
 */
enum dv_rc	store_att_session_purge(struct store_tx *, time_t now,
		    int max);
/*
 * Reads the session with id into *out (either connection), whatever its
 * state: DV_ERR_NOT_FOUND when there is none.
 */
enum dv_rc	store_att_session_get(struct store_tx *, const char *id,
		    struct store_att_session *out);
/*
 * Marks the session with id used at now (a write), single use: DV_OK and
 * *out filled when it was pending and unexpired; DV_ERR_NOT_FOUND when
 * there is no such session (wrong secret, or purged after expiry) or,
 * with team non-NULL, when it is another team's; DV_ERR_TOKEN_REUSED when
 * used before, DV_ERR_TOKEN_EXPIRED when expired (expires_at <= now), in
 * that order.  Nothing changes on a refusal.
 */
enum dv_rc	store_att_session_take(struct store_tx *, const char *id,
		    const char *team, time_t now,
		    struct store_att_session *out);

/* ---- ACME (issue 5; store_acme.c, migration 4) ---- */
/*
 * The state of the ACME server (RFC 8555 §7.1): nonces, accounts, orders,
 * authorizations and challenges, so that any node sharing the store can
 * answer any request.  State changes run inside store_write, so a
 * read-check-update is one transaction (two concurrent finalizes of one
 * order see one winner).  Strings are borrowed in inputs and owned in
 * outputs (the *_clear functions); JSON columns hold JSON text.
 */
struct store_acme_account {
	char		*id;
	char		*prov;		/* "team/authority/provisioner" */
	char		*thumbprint;	/* RFC 7638 of jwk */
	char		*jwk;		/* JSON text */
	char		*status;	/* valid, deactivated, revoked */
	char		*contact;	/* JSON array text, may be NULL */
	time_t		 created_at;
};
void		store_acme_account_clear(struct store_acme_account *);

struct store_acme_order {
	char		*id;
	char		*prov;
	char		*account_id;
	char		*status;	/* pending ready processing valid invalid */
	char		*identifiers;	/* JSON array text */
	time_t		 not_before;
	time_t		 not_after;
	time_t		 expires_at;
	char		*error;		/* problem JSON text, may be NULL */
	char		*cert_serial;	/* may be NULL */
	time_t		 created_at;
	char		*replaces;	/* RFC 9773 certID, may be NULL */
};
void		store_acme_order_clear(struct store_acme_order *);

struct store_acme_authz {
	char		*id;
	char		*order_id;
	char		*account_id;
	char		*ident_type;	/* dns, ip */
	char		*ident_value;
	bool		 wildcard;
	char		*status;	/* pending valid invalid deactivated ... */
	time_t		 expires_at;
	char		*key_sha256;	/* attested key (device-attest-01), NULL */
	int		 idx;		/* position in the order */
};
void		store_acme_authz_clear(struct store_acme_authz *);
void		store_acme_authzs_free(struct store_acme_authz *, size_t n);

struct store_acme_chall {
	char		*id;
	char		*authz_id;
	char		*type;		/* http-01, ... */
	char		*token;
	char		*status;	/* pending processing valid invalid */
	time_t		 validated_at;	/* 0: not validated */
	char		*error;		/* problem JSON text, may be NULL */
	int		 idx;
};
void		store_acme_chall_clear(struct store_acme_chall *);
void		store_acme_challs_free(struct store_acme_chall *, size_t n);

/*
 * External account binding keys (RFC 8555 §7.3.4, store_acme_eab.c): an
 * admin's key id and HMAC key for one ACME provisioner (prov), bound to at
 * most one account.  Outputs' strings are owned; the HMAC key is wiped by
 * store_acme_eab_clear.
 */
struct store_acme_eab {
	char		*id;		/* the key id (EAB "kid") */
	char		*team;
	char		*prov;		/* "team/authority/provisioner" */
	char		*reference;	/* admin's label, may be NULL */
	uint8_t		*hmac_key;	/* get only; NULL in lists */
	size_t		 hmac_key_len;
	time_t		 created_at;
	char		*account_id;	/* NULL: not bound yet */
	time_t		 bound_at;	/* 0: not bound yet */
};
void		store_acme_eab_clear(struct store_acme_eab *);
void		store_acme_eabs_free(struct store_acme_eab *, size_t n);
/* DV_ERR_EXISTS when the id is taken. */
enum dv_rc	store_acme_eab_insert(struct store_tx *,
		    const struct store_acme_eab *);
/* With its HMAC key; DV_ERR_NOT_FOUND. */
enum dv_rc	store_acme_eab_get(struct store_tx *, const char *id,
		    struct store_acme_eab *out);
/* The keys of team (of prov only, when not NULL) oldest first, at most
 * limit, without their HMAC keys; *v new. */
enum dv_rc	store_acme_eab_list(struct store_tx *, const char *team,
		    const char *prov, int limit, struct store_acme_eab **v,
		    size_t *n);
/* DV_ERR_NOT_FOUND when team has no key id.  A bound key may be deleted:
 * its account stays. */
enum dv_rc	store_acme_eab_delete(struct store_tx *, const char *team,
		    const char *id);
/* Binds key id of prov to account_id at time at (a write):
 * DV_ERR_NOT_FOUND when prov has no such key, DV_ERR_EXISTS when it is
 * bound already (to any account). */
enum dv_rc	store_acme_eab_bind(struct store_tx *, const char *id,
		    const char *prov, const char *account_id, time_t at);

/*
 * Nonces live in the volatile database (store_write_volatile): losing
 * unused ones in a crash only costs their clients a badNonce and a retry
 * (RFC 8555 §6.5), so they are not worth an fsync per request.
 * Inserts a nonce valid until expires_at.
 */
enum dv_rc	store_acme_nonce_insert(struct store_tx *, const char *id,
		    time_t expires_at);
/* Deletes the nonces expired at now (a scan of the table: not for every
 * request). */
enum dv_rc	store_acme_nonce_purge(struct store_tx *, time_t now);
/* Deletes the nonce id (single use): DV_ERR_NOT_FOUND when it is unknown,
 * used or expired at now.  The three functions need store_write_volatile's
 * transaction. */
enum dv_rc	store_acme_nonce_take(struct store_tx *, const char *id,
		    time_t now);

/* DV_OK when an order of prov that is not invalid (nor expired at now
 * while pending) says it replaces cert_id, DV_ERR_NOT_FOUND when none. */
enum dv_rc	store_acme_order_replaced(struct store_tx *, const char *prov,
		    const char *cert_id, time_t now);

/* DV_ERR_EXISTS when prov already has an account with the thumbprint. */
enum dv_rc	store_acme_account_insert(struct store_tx *,
		    const struct store_acme_account *);
/* By id or by (prov, thumbprint); DV_ERR_NOT_FOUND. */
enum dv_rc	store_acme_account_get(struct store_tx *, const char *id,
		    struct store_acme_account *out);
enum dv_rc	store_acme_account_find(struct store_tx *, const char *prov,
		    const char *thumbprint, struct store_acme_account *out);
/* Rewrites thumbprint, jwk, status and contact of a->id; DV_ERR_EXISTS
 * when the new thumbprint is another account's. */
enum dv_rc	store_acme_account_update(struct store_tx *,
		    const struct store_acme_account *a);

enum dv_rc	store_acme_order_insert(struct store_tx *,
		    const struct store_acme_order *);
enum dv_rc	store_acme_order_get(struct store_tx *, const char *id,
		    struct store_acme_order *out);
/* Rewrites status, error and cert_serial of o->id. */
enum dv_rc	store_acme_order_update(struct store_tx *,
		    const struct store_acme_order *o);
/* The order whose certificate has serial; DV_ERR_NOT_FOUND. */
enum dv_rc	store_acme_order_by_cert(struct store_tx *, const char *serial,
		    struct store_acme_order *out);
/* Ids of the orders of account (new JSON array), oldest first, at most
 * limit. */
enum dv_rc	store_acme_order_list(struct store_tx *, const char *account_id,
		    int limit, json_t **ids);

/* Ids of the orders in status "processing" (new JSON array), oldest
 * first, at most limit: what a stop left between finalize's two
 * transactions (acme_recover). */
enum dv_rc	store_acme_orders_processing(struct store_tx *, int limit,
		    json_t **ids);
/* DV_OK when a certificate with serial is stored, else DV_ERR_NOT_FOUND. */
enum dv_rc	store_acme_cert_stored(struct store_tx *, const char *serial);

enum dv_rc	store_acme_authz_insert(struct store_tx *,
		    const struct store_acme_authz *);
enum dv_rc	store_acme_authz_get(struct store_tx *, const char *id,
		    struct store_acme_authz *out);
/* Rewrites status and key_sha256 of z->id. */
enum dv_rc	store_acme_authz_update(struct store_tx *,
		    const struct store_acme_authz *z);
/* The authorizations of order_id in order; *v new. */
enum dv_rc	store_acme_authz_list(struct store_tx *, const char *order_id,
		    struct store_acme_authz **v, size_t *n);

enum dv_rc	store_acme_chall_insert(struct store_tx *,
		    const struct store_acme_chall *);
enum dv_rc	store_acme_chall_get(struct store_tx *, const char *id,
		    struct store_acme_chall *out);
/* Rewrites status, validated_at and error of c->id. */
enum dv_rc	store_acme_chall_update(struct store_tx *,
		    const struct store_acme_chall *c);
/* The challenges of authz_id in order; *v new. */
enum dv_rc	store_acme_chall_list(struct store_tx *, const char *authz_id,
		    struct store_acme_chall **v, size_t *n);

#endif
