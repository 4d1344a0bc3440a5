/* ca_int.h - shared internals of src/authority (rule 1). */
#ifndef DV_CA_INT_H
#define DV_CA_INT_H

#include "ca.h"

/* Resolves a path of the config relative to the data folder (new). */
char	*ca_path(const struct ca *, const char *rel);
/* The CA keys' password (ca->dir and ca->config set): DEVID_PASSWORD_FD (a
 * descriptor), DEVID_PASSWORD (the environment, wiped from it) or the
 * passwordFile; never logged.  *pass is new, NUL-terminated, *len bytes:
 * explicit_bzero it before free. */
enum dv_rc	ca_password_read(const struct ca *, uint8_t **pass,
		    size_t *len);

/* A new issuance of a (ca_issue_free), for the request request_id. */
struct ca_issue	*ca_issue_new(struct ca_authority *a, const char *request_id);
/* Leaves the signature of iss->cert (built, unsigned) to the committer
 * (ca_presign): iss->tbs is its TBSCertificate for a's key. */
enum dv_rc	ca_issue_tbs(struct ca_authority *a, struct ca_issue *iss);

/* Builds and signs the leaf for iss (profile filled by the caller). */
enum dv_rc	ca_issue_sign(struct ca_authority *, const struct pki_profile *,
		    const uint8_t *spki, size_t spkilen, struct ca_issue *iss);
/* Issues under the authority with old as template (renew/rekey). */
enum dv_rc	ca_issue_renew(struct ca_authority *, X509 *old,
		    time_t nb, time_t na, const uint8_t *spki, size_t spkilen,
		    struct ca_issue *iss);

/* Reads the "attestation" policy of a team (NULL: the defaults) into
 * a->att (attest.c); DV_ERR_MALFORMED, logged, for a bad member. */
enum dv_rc	ca_attest_load(struct ca_authority *a, const json_t *cfg);

/* The store's presign function (store_set_presign): signs the
 * deferred issuances of a batch, one signer exchange per key. */
void		ca_presign(void *ca, struct store_presign *const *v,
		    size_t n);

#endif
