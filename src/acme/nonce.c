/*
 * nonce.c - Replay-Nonce (RFC 8555 §6.5, §7.2): random, stored so that
 * any node can check it, single use, expiring after ACME_NONCE_LIFETIME.
 * The store keeps them without fsync (store_write_volatile).
 */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

struct nonce_op {
	const char	*take;		/* NULL: only issue */
	const char	*next;
	bool		 taken;
};

/* When this process last purged expired nonces. */
static _Atomic time_t last_purge;

static enum dv_rc
nonce_tx(struct store_tx *tx, void *arg)
{
	struct nonce_op *op = arg;
	time_t now = dv_now(), last = atomic_load(&last_purge);
	enum dv_rc rc;

	/* expired nonces are refused anyway: deleting them only bounds the
	 * table, once in a while (one thread wins the exchange) */
	if ((now < last || now - last >= ACME_NONCE_PURGE_EVERY) &&
	    atomic_compare_exchange_strong(&last_purge, &last, now) &&
	    (rc = store_acme_nonce_purge(tx, now)) != DV_OK)
		return rc;
	if ((rc = store_acme_nonce_insert(tx, op->next,
	    now + ACME_NONCE_LIFETIME)) != DV_OK)
		return rc;
	if (op->take != NULL) {
		rc = store_acme_nonce_take(tx, op->take, now);
		if (rc != DV_OK && rc != DV_ERR_NOT_FOUND)
			return rc;
		op->taken = rc == DV_OK;
	}
	return DV_OK;
}

static enum dv_rc
nonce_run(struct acme_ctx *c, const char *take, bool *taken)
{
	struct nonce_op op = { .take = take };
	char *next = acme_id_new();
	enum dv_rc rc;

	op.next = next;
	/* volatile: a nonce lost in a crash is only a badNonce (§6.5) */
	if ((rc = store_write_volatile(c->store, nonce_tx, &op)) != DV_OK) {
		free(next);
		return rc;
	}
	free(c->resp->nonce);
	c->resp->nonce = next;
	if (taken != NULL)
		*taken = op.taken;
	return DV_OK;
}

enum dv_rc
acme_nonce_issue(struct acme_ctx *c)
{
	return nonce_run(c, NULL, NULL);
}

enum dv_rc
acme_nonce_take(struct acme_ctx *c, const char *nonce)
{
	bool taken = false;
	enum dv_rc rc;

	if ((rc = nonce_run(c, nonce, &taken)) != DV_OK)
		return rc;
	return taken ? DV_OK : DV_ERR_NOT_FOUND;
}
