/*
 * signer.h - the one interface through which CA private keys are used
 * (STYLE rule 15, DESIGN §6).
 *
 * Two backends share this header, one file each (rule 3):
 *   signer_proc.c  - default: a child process forked at start holds the
 *                    decrypted keys and answers typed, length-prefixed sign
 *                    requests over socketpairs; the network-facing process
 *                    never holds key material.
 *   signer_local.c - keys in this process (for `devid-ca init` and tests).
 * A PKCS#11 backend can be added as a third file.
 */
#ifndef DV_SIGNER_H
#define DV_SIGNER_H

#include "base/base.h"
#include "pki/pki.h"

struct signer;

/* One CA key: a PEM file of an encrypted PKCS#8 key. */
struct signer_key {
	const char	*path;		/* borrowed */
};

/*
 * Starts the signer with keys[0..n) decrypted with pass (NUL-terminated,
 * wiped by the caller after the call).  The proc backend forks before
 * returning and opens nchan channels so that nchan threads can sign at once;
 * the decrypted keys exist only in the child.  Key i is then addressed by
 * index i.  *out is new (signer_stop).
 */
enum dv_rc	signer_start_proc(const struct signer_key *keys, size_t n,
		    const char *pass, unsigned nchan, struct signer **out);
enum dv_rc	signer_start_local(const struct signer_key *keys, size_t n,
		    const char *pass, struct signer **out);
/* Stops the child (if any) and frees s; accepts NULL. */
void		signer_stop(struct signer *s);

/* Signs tbs with key idx.  Thread-safe.  *sig is new. */
enum dv_rc	signer_sign(struct signer *s, unsigned idx,
		    const uint8_t *tbs, size_t len, uint8_t **sig,
		    size_t *siglen);
/* One input of signer_sign_batch. */
struct signer_job {
	const uint8_t	*tbs;		/* borrowed: the data to sign */
	size_t		 len;
	uint8_t		*sig;		/* out, new on DV_OK */
	size_t		 siglen;
	enum dv_rc	 rc;		/* out */
};
/*
 * Signs jobs[0..n) with key idx, each job getting its own rc and
 * signature.  For ECDSA and RSA keys the proc backend signs up to
 * SIGNER_MAX_BATCH digests in one exchange with the signer process (one
 * round trip, two context switches, instead of one per job); Ed25519 jobs
 * are signed one by one.  Thread-safe.
 */
#define SIGNER_MAX_BATCH	64
void		signer_sign_batch(struct signer *s, unsigned idx,
		    struct signer_job *jobs, size_t n);
/* Fills out a pki_signer for key idx (borrowing s). */
enum dv_rc	signer_pki(struct signer *s, unsigned idx,
		    struct pki_signer *out);

#endif
