/*
 * signer_local.c - the in-process signer backend: the keys live in this
 * process.  For `devid-ca init` (which generates the keys anyway) and
 * tests; a server that parses network input uses signer_proc.c (rule 15).
 */
#include <stdlib.h>

#include "signer_int.h"

struct local {
	EVP_PKEY	**keys;		/* owned: nkeys decrypted keys */
	size_t		 n;
};

static enum dv_rc
local_sign(struct signer *s, unsigned idx, bool digest, const uint8_t *tbs,
    size_t len, uint8_t **sig, size_t *siglen)
{
	struct local *l = s->be;

	/* an EVP_PKEY may sign from several threads at once (OpenSSL 3) */
	if (digest)
		return pki_sign_digest(l->keys[idx], s->algs[idx], tbs, len,
		    sig, siglen);
	return pki_sign_data(l->keys[idx], s->algs[idx], tbs, len, sig,
	    siglen);
}

static void
local_stop(struct signer *s)
{
	struct local *l = s->be;
	size_t i;

	if (l == NULL)
		return;
	/* EVP_PKEY_free clears the private key material it frees */
	for (i = 0; i < l->n; i++)
		pki_key_free(l->keys[i]);
	free(l->keys);
	free(l);
	s->be = NULL;
}

static void
local_sign_batch(struct signer *s, unsigned idx, size_t n,
    const uint8_t *const *md, const size_t *mdlen, uint8_t **sigs,
    size_t *siglens, enum dv_rc *rcs)
{
	struct local *l = s->be;
	size_t i;

	for (i = 0; i < n; i++)
		rcs[i] = pki_sign_digest(l->keys[idx], s->algs[idx], md[i],
		    mdlen[i], &sigs[i], &siglens[i]);
}

static const struct signer_ops local_ops = {
	.sign = local_sign,
	.sign_batch = local_sign_batch,
	.stop = local_stop,
};

enum dv_rc
signer_start_local(const struct signer_key *keys, size_t n, const char *pass,
    struct signer **out)
{
	struct signer *s;
	struct local *l;
	enum dv_rc rc;
	size_t i;

	*out = NULL;
	s = signer_new(&local_ops, n);
	l = xcalloc(1, sizeof(*l));
	l->keys = xcalloc(n, sizeof(*l->keys));
	s->be = l;
	for (i = 0; i < n; i++) {
		if ((rc = signer_key_load(keys[i].path, pass,
		    &l->keys[i])) != DV_OK)
			goto err;
		l->n = i + 1;
		if ((rc = pki_key_sig_alg(l->keys[i], &s->algs[i])) != DV_OK)
			goto err;
	}
	*out = s;
	return DV_OK;
err:
	signer_stop(s);
	return rc;
}
