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
};

/*
 * One issuance, atomically: use the one-time token id (if not NULL; refused
 * with DV_ERR_TOKEN_REUSED when already used; kept until token_exp), insert
 * the certificate, append the audit row.  Struct contents are copied before
 * _submit returns.
 */
struct store_issue {
	const char	*token_id;
	time_t		 token_exp;
	const struct store_cert *cert;
	const struct store_audit *audit;
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
	uint64_t	 ops;		/* operations run by the committer */
	uint64_t	 batch_max;	/* most operations in one transaction */
	int		 schema_version; /* after the migrations of open */
};
/* Copies the counters into *out. */
void		store_stats(struct store *, struct store_stats *out);

#endif
