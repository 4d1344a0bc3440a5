/*
 * signer.c - the part of the signer common to every backend: argument
 * checks, the pki_signer adapter, start-up key loading, stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "signer_int.h"

struct signer *
signer_new(const struct signer_ops *ops, size_t nkeys)
{
	struct signer *s;
	size_t i;

	s = xcalloc(1, sizeof(*s));
	s->ops = ops;
	s->nkeys = nkeys;
	s->algs = xcalloc(nkeys, sizeof(*s->algs));
	s->refs = xcalloc(nkeys, sizeof(*s->refs));
	for (i = 0; i < nkeys; i++) {
		s->refs[i].s = s;
		s->refs[i].idx = (unsigned)i;
	}
	return s;
}

enum dv_rc
signer_key_load(const char *path, const char *pass, EVP_PKEY **out)
{
	char *pem;
	size_t len = 0;
	ssize_t n;
	enum dv_rc rc = DV_ERR_IO;
	int fd;

	*out = NULL;
	/* one buffer of the largest size: no realloc leaves copies behind */
	pem = xmalloc(DV_MAX_PEM + 1);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(LOG_ERR, "signer.key", "{s:s,s:s}", "path", path,
		    "error", strerror(errno));
		goto out;
	}
	for (;;) {
		n = read(fd, pem + len, DV_MAX_PEM + 1 - len);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1) {
			log_msg(LOG_ERR, "signer.key", "{s:s,s:s}", "path",
			    path, "error", strerror(errno));
			goto out;
		}
		if (n == 0)
			break;
		len += (size_t)n;
		if (len > DV_MAX_PEM) {
			log_msg(LOG_ERR, "signer.key", "{s:s,s:s}", "path",
			    path, "error", "larger than DV_MAX_PEM");
			rc = DV_ERR_TOO_LARGE;
			goto out;
		}
	}
	pem[len] = '\0';
	/* pki_key_from_pem logs a wrong password or a bad key itself */
	rc = pki_key_from_pem(pem, len, pass, out);
out:
	if (fd != -1)
		close(fd);
	explicit_bzero(pem, DV_MAX_PEM + 1);
	free(pem);
	return rc;
}

/* The digest key idx (ECDSA or RSA) signs for tbs, as sent to the
 * backend. */
static enum dv_rc
digest_for(const struct signer *s, unsigned idx, const uint8_t *tbs,
    size_t len, uint8_t md[EVP_MAX_MD_SIZE], size_t *mdlen)
{
	enum dv_rc rc;

	if ((rc = pki_sig_digest(s->algs[idx], tbs, len, md, mdlen)) != DV_OK)
		return rc;
	return *mdlen <= SIGNER_MAX_DIGEST ? DV_OK : DV_ERR_INTERNAL;
}

enum dv_rc
signer_sign(struct signer *s, unsigned idx, const uint8_t *tbs, size_t len,
    uint8_t **sig, size_t *siglen)
{
	*sig = NULL;
	*siglen = 0;
	if (idx >= s->nkeys) {
		log_msg(LOG_ERR, "signer.sign", "{s:s,s:i}", "error",
		    "no such key", "key", (int)idx);
		return DV_ERR_INTERNAL;
	}
	/* The backend is sent the digest: the same few bytes for a CRL of
	 * any size, and no hashing in the process that holds the keys. */
	if (s->algs[idx] != PKI_SIG_ED25519) {
		uint8_t md[EVP_MAX_MD_SIZE];
		size_t mdlen;
		enum dv_rc rc;

		if ((rc = digest_for(s, idx, tbs, len, md, &mdlen)) != DV_OK)
			return rc;
		return s->ops->sign(s, idx, true, md, mdlen, sig, siglen);
	}
	if (len > SIGNER_MAX_TBS) {
		log_msg(LOG_ERR, "signer.sign", "{s:s,s:I}", "error",
		    "input larger than SIGNER_MAX_TBS", "len", (json_int_t)len);
		return DV_ERR_TOO_LARGE;
	}
	return s->ops->sign(s, idx, false, tbs, len, sig, siglen);
}

/* Up to SIGNER_MAX_BATCH ECDSA/RSA jobs: digests, then one backend call. */
static void
batch_digests(struct signer *s, unsigned idx, struct signer_job *jobs,
    size_t n)
{
	uint8_t md[SIGNER_MAX_BATCH][EVP_MAX_MD_SIZE];
	const uint8_t *mdp[SIGNER_MAX_BATCH];
	uint8_t *sigs[SIGNER_MAX_BATCH];
	size_t mdlen[SIGNER_MAX_BATCH], siglens[SIGNER_MAX_BATCH], i, m = 0;
	size_t map[SIGNER_MAX_BATCH];
	enum dv_rc rcs[SIGNER_MAX_BATCH];

	for (i = 0; i < n; i++) {
		if ((jobs[i].rc = digest_for(s, idx, jobs[i].tbs, jobs[i].len,
		    md[m], &mdlen[m])) != DV_OK)
			continue;
		mdp[m] = md[m];
		map[m++] = i;
	}
	if (m == 0)
		return;
	s->ops->sign_batch(s, idx, m, mdp, mdlen, sigs, siglens, rcs);
	for (i = 0; i < m; i++) {
		jobs[map[i]].rc = rcs[i];
		jobs[map[i]].sig = sigs[i];
		jobs[map[i]].siglen = siglens[i];
	}
}

void
signer_sign_batch(struct signer *s, unsigned idx, struct signer_job *jobs,
    size_t n)
{
	size_t i, k;

	for (i = 0; i < n; i++) {
		jobs[i].sig = NULL;
		jobs[i].siglen = 0;
		jobs[i].rc = DV_ERR_INTERNAL;
	}
	if (idx >= s->nkeys || s->algs[idx] == PKI_SIG_ED25519 ||
	    s->ops->sign_batch == NULL) {
		/* one by one (signer_sign logs a bad index) */
		for (i = 0; i < n; i++)
			jobs[i].rc = signer_sign(s, idx, jobs[i].tbs,
			    jobs[i].len, &jobs[i].sig, &jobs[i].siglen);
		return;
	}
	for (i = 0; i < n; i += k) {
		k = n - i < SIGNER_MAX_BATCH ? n - i : SIGNER_MAX_BATCH;
		batch_digests(s, idx, jobs + i, k);
	}
}

static enum dv_rc
signer_pki_sign(void *arg, const uint8_t *tbs, size_t len, uint8_t **sig,
    size_t *siglen)
{
	struct signer_ref *r = arg;

	return signer_sign(r->s, r->idx, tbs, len, sig, siglen);
}

enum dv_rc
signer_pki(struct signer *s, unsigned idx, struct pki_signer *out)
{
	memset(out, 0, sizeof(*out));
	if (idx >= s->nkeys) {
		log_msg(LOG_ERR, "signer.pki", "{s:s,s:i}", "error",
		    "no such key", "key", (int)idx);
		return DV_ERR_INTERNAL;
	}
	out->alg = s->algs[idx];
	out->sign = signer_pki_sign;
	out->arg = &s->refs[idx];
	return DV_OK;
}

void
signer_stop(struct signer *s)
{
	if (s == NULL)
		return;
	s->ops->stop(s);
	free(s->refs);
	free(s->algs);
	free(s);
}
