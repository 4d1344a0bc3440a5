/*
 * keycache.c - the decoded keys of ACME accounts.  Every kid request
 * (RFC 8555 §6.2) is verified with the account's key; parsing its stored
 * JWK and decoding it through libjose and OpenSSL cost more than the
 * signature check itself, so the decoded key is kept here, per process.
 *
 * An entry is keyed by the account id and the thumbprint of the row it was
 * decoded from.  The caller always reads the account row first (status and
 * key come from the store, so that every node sees a deactivation or a key
 * change at once); a row whose thumbprint differs from the entry's (key
 * rollover, §7.3.5) misses and replaces it, so an old key is never used
 * for a new row.  acme_key_forget drops an entry early (deactivation, key
 * change) only to free its memory.
 *
 * Bounded: ACME_KEY_CACHE_SLOTS entries, direct-mapped by a hash of the
 * account id; a collision evicts.  One mutex guards the table; hits only
 * take references (the key and the JSON are shared read-only: OpenSSL keys
 * and jansson reference counts are thread-safe).
 */
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

struct key_entry {
	char		*acct_id;	/* owned, NULL: empty slot */
	char		*thumbprint;	/* owned: of the row decoded */
	json_t		*jwk;		/* owned reference: public JWK */
	EVP_PKEY	*pkey;		/* owned reference */
};

static struct {
	pthread_mutex_t	 lock;
	struct key_entry slot[ACME_KEY_CACHE_SLOTS];
} cache = { .lock = PTHREAD_MUTEX_INITIALIZER };

/* FNV-1a of the account id: ids are random, any spread will do. */
static size_t
slot_of(const char *id)
{
	const unsigned char *p = (const unsigned char *)id;
	uint32_t h = 2166136261u;

	for (; *p != '\0'; p++)
		h = (h ^ *p) * 16777619u;
	return h % ACME_KEY_CACHE_SLOTS;
}

static void
entry_clear(struct key_entry *e)
{
	free(e->acct_id);
	free(e->thumbprint);
	json_decref(e->jwk);
	pki_key_free(e->pkey);
	memset(e, 0, sizeof(*e));
}

enum dv_rc
acme_key_get(const struct store_acme_account *a, json_t **jwk,
    EVP_PKEY **pkey)
{
	struct key_entry *e, n;
	json_t *key = NULL;
	EVP_PKEY *k = NULL;
	enum dv_rc rc;

	*jwk = NULL;
	*pkey = NULL;
	e = &cache.slot[slot_of(a->id)];
	pthread_mutex_lock(&cache.lock);
	if (e->acct_id != NULL && strcmp(e->acct_id, a->id) == 0 &&
	    strcmp(e->thumbprint, a->thumbprint) == 0) {
		*jwk = json_incref(e->jwk);
		*pkey = pki_key_ref(e->pkey);
		pthread_mutex_unlock(&cache.lock);
		return DV_OK;
	}
	pthread_mutex_unlock(&cache.lock);

	/* a miss: decode outside the lock */
	if ((rc = json_parse_strict(a->jwk, strlen(a->jwk), DV_MAX_TOKEN,
	    &key)) != DV_OK)
		return rc;
	if ((rc = jws_jwk_to_pkey(key, &k)) != DV_OK) {
		json_decref(key);
		return rc;
	}
	n.acct_id = xstrdup(a->id);
	n.thumbprint = xstrdup(a->thumbprint);
	n.jwk = json_incref(key);
	n.pkey = pki_key_ref(k);
	pthread_mutex_lock(&cache.lock);
	entry_clear(e);
	*e = n;
	pthread_mutex_unlock(&cache.lock);
	*jwk = key;
	*pkey = k;
	return DV_OK;
}

void
acme_key_forget(const char *acct_id)
{
	struct key_entry *e = &cache.slot[slot_of(acct_id)], old;

	memset(&old, 0, sizeof(old));
	pthread_mutex_lock(&cache.lock);
	if (e->acct_id != NULL && strcmp(e->acct_id, acct_id) == 0) {
		old = *e;
		memset(e, 0, sizeof(*e));
	}
	pthread_mutex_unlock(&cache.lock);
	entry_clear(&old);
}

void
acme_key_cache_clear(void)
{
	size_t i;

	pthread_mutex_lock(&cache.lock);
	for (i = 0; i < ACME_KEY_CACHE_SLOTS; i++)
		entry_clear(&cache.slot[i]);
	pthread_mutex_unlock(&cache.lock);
}
