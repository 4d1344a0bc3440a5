/*
 * signer_int.h - what the signer backends share (STYLE rule 1: no other
 * module includes this file).  signer.c holds the code common to every
 * backend; signer_proc.c and signer_local.c each fill a struct signer_ops.
 */
#ifndef DV_SIGNER_INT_H
#define DV_SIGNER_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "signer.h"

/*
 * Largest to-be-signed input sent as it is, which only Ed25519 keys need
 * (PureEdDSA signs the message): a TBSCertificate is below DV_MAX_DER
 * (16 KiB), an OCSP response's tbsResponseData with DV_MAX_OCSP_IDS
 * answers is smaller, and 64 KiB holds the TBSCertList of a CRL of about
 * 1500 revoked certificates.  ECDSA and RSA keys are sent the digest
 * (signer_sign), so their CRLs have no such bound.
 */
#define SIGNER_MAX_TBS		(64 * 1024)
/* Largest digest: SHA-512. */
#define SIGNER_MAX_DIGEST	64
/* Largest signature: RSA-8192 gives 1024 bytes, DER ECDSA P-384 < 110. */
#define SIGNER_MAX_SIG		2048
/* Keys one signer may hold: three authorities per team, two keys each,
 * for many teams; bounds the start-up message of the proc backend. */
#define SIGNER_MAX_KEYS		1024
/* Channels of the proc backend (threads that sign at once). */
#define SIGNER_MAX_CHAN		64

/* The argument of a pki_signer made by signer_pki(). */
struct signer_ref {
	struct signer	*s;		/* borrowed: the signer that owns us */
	unsigned	 idx;
};

struct signer_ops {
	/* Signs with key idx (< nkeys): when digest, tbs is the digest of
	 * the data made by pki_sig_digest (len <= SIGNER_MAX_DIGEST), else
	 * the data (len <= SIGNER_MAX_TBS); both checked by signer_sign.
	 * Thread-safe.  *sig is new. */
	enum dv_rc	(*sign)(struct signer *, unsigned idx, bool digest,
			    const uint8_t *tbs, size_t len, uint8_t **sig,
			    size_t *siglen);
	/* Signs n digests (each <= SIGNER_MAX_DIGEST, n <=
	 * SIGNER_MAX_BATCH) with key idx; rcs[i], sigs[i] (new), siglens[i]
	 * per digest.  May be NULL: signer.c then calls sign n times. */
	void		(*sign_batch)(struct signer *, unsigned idx, size_t n,
			    const uint8_t *const *md, const size_t *mdlen,
			    uint8_t **sigs, size_t *siglens, enum dv_rc *rcs);
	/* Releases the backend state s->be (and its keys or child). */
	void		(*stop)(struct signer *);
};

struct signer {
	const struct signer_ops *ops;	/* borrowed, static */
	size_t		 nkeys;
	enum pki_sig_alg *algs;		/* owned: nkeys algorithms */
	struct signer_ref *refs;	/* owned: nkeys signer_pki args */
	void		*be;		/* owned by ops: backend state */
};

/* A signer for nkeys keys with backend ops; algs still to be filled. */
struct signer	*signer_new(const struct signer_ops *, size_t nkeys);

/*
 * Reads the PEM file path and decrypts it with pass.  The PEM text is read
 * into one buffer that is wiped before it is freed, so no copy of a key
 * stays in freed memory.  *out is new (pki_key_free).
 */
enum dv_rc	signer_key_load(const char *path, const char *pass,
		    EVP_PKEY **out);

#endif
