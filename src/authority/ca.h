/*
 * ca.h - the authorities of devid: for each team an Attestation CA, an
 * Agent CA and an Account CA, each a root and an issuing intermediate,
 * with its provisioners, CRL and OCSP (DESIGN §2).
 *
 * Knows nothing of HTTP: api/ turns requests into these calls.  Every
 * issued certificate is durably stored before the caller gets its bytes:
 * ca_*_prepare() authorizes and builds the certificate (renew, rekey:
 * and signs it), ca_commit_submit() has the committer sign the others with
 * the rest of its batch (ca_presign), stores (group commit) and calls
 * back; only then may the answer be sent, from iss->der.
 */
#ifndef DV_CA_H
#define DV_CA_H

#include <pthread.h>

#include "base/base.h"
#include "inventory/inv.h"
#include "pki/pki.h"
#include "provisioner/prov.h"
#include "signer/signer.h"
#include "store/store.h"

enum ca_kind { CA_ATTESTATION, CA_AGENT, CA_ACCOUNT, CA__MAX };

const char	*ca_kind_name(enum ca_kind);

struct ca_authority {
	char		*team;		/* owned */
	enum ca_kind	 kind;
	char		*id;		/* owned: "team/kind" */
	char		*base;		/* owned: "/t/team/kind" */
	X509		*root;		/* owned */
	X509		*inter;		/* owned */
	char		*root_pem;	/* owned */
	char		*inter_pem;	/* owned */
	char		*root_sha;	/* owned: hex SHA-256 of root DER */
	struct pki_signer inter_signer;	/* borrows the ca's signer */
	unsigned	 inter_key;	/* the intermediate's signer key */
	struct pki_trust *trust;	/* owned: own root + intermediate */
	struct prov_set	*provs;		/* owned */
	char		**auds[PROV__MAX];	/* owned, accepted audiences */
	size_t		 nauds[PROV__MAX];
	char		*crl_url;	/* owned */
	char		*ocsp_url;	/* owned */
	char		*issuer_url;	/* owned */
	int64_t		 crl_cache;	/* seconds a CRL is valid */
	int64_t		 ocsp_validity;	/* seconds an OCSP answer is valid */
	pthread_mutex_t	 crl_lock;
	uint8_t		*crl_der;	/* owned: cached, guarded by crl_lock */
	size_t		 crl_len;
	time_t		 crl_next;	/* regenerate after this time */
	struct ca_attest_policy *att;	/* owned: attestation kind only */
	struct ca	*ca;		/* borrowed: back pointer */
};

struct ca {
	char		*dir;		/* owned: the data folder */
	json_t		*config;	/* owned */
	char		*listen;	/* owned: "host:port" */
	char		**dns;		/* owned: names/IPs the server answers as */
	size_t		 ndns;
	int		 port;
	unsigned	 workers;
	size_t		 max_body;
	size_t		 max_import;	/* body of an inventory import */
	int		 max_conns;	/* live connections */
	struct store	*store;		/* owned */
	struct inv	*inv;		/* owned: over store (issue 3) */
	struct inv_mdm	*mdm;		/* owned: MDM sources (issue 3) */
	struct signer	*signer;	/* owned */
	struct ca_authority **auths;	/* owned */
	size_t		 nauths;
	struct ca_authority *tls_auth;	/* borrowed: issues the TLS cert */
	int64_t		 tls_dur;
	time_t		 started;
};

/* What `devid-ca init` asks for. */
struct ca_init_opts {
	const char	*dir;
	const char	*listen;	/* "127.0.0.1:8443" */
	const char	*const *dns;	/* extra DNS names / IPs */
	size_t		 ndns;
	enum pki_key_type key_type;
	const char	*team;		/* "default" */
};

/*
 * Creates the data folder: password (0600), for each authority a root and an
 * intermediate with encrypted keys, the JWK admin provisioner (private key
 * in admin/provisioner.json, 0600), config.json.  Refuses an existing one
 * (DV_ERR_EXISTS).  Prints nothing; *summary (new JSON) says what was made.
 */
enum dv_rc	ca_init_data(const struct ca_init_opts *, json_t **summary);
/*
 * Adds team o->team to the data folder o->dir made by ca_init_data: its
 * three authorities with keys under the folder's password, its own admin
 * JWK provisioner (admin/{team}-provisioner.json), its roots appended to
 * certs/roots.pem, config.json rewritten.  DV_ERR_EXISTS when the team is
 * there, DV_ERR_MALFORMED for a bad name; the server serves it after a
 * restart.  *summary as ca_init_data's.
 */
enum dv_rc	ca_team_add(const struct ca_init_opts *, json_t **summary);

/*
 * Loads dir/config.json, starts the signer (process backend: call this
 * before any thread exists), opens the store and builds the authorities.
 * *out is new (ca_free).
 */
enum dv_rc	ca_open(const char *dir, bool local_signer, struct ca **out);
void		ca_free(struct ca *);

/* The authority at "/t/{team}/{kind}" or NULL. */
struct ca_authority *ca_find(struct ca *, const char *team, const char *kind);

/* The server's TLS certificate: new key, chain PEM (leaf, intermediate) and
 * key PEM (new strings), valid for ca->tls_dur, for every ca->dns name. */
enum dv_rc	ca_tls_issue(struct ca *, char **chain_pem, char **key_pem,
		    time_t *not_after);

/* A certificate signed and waiting to be stored. */
struct ca_issue {
	struct ca_authority *auth;	/* borrowed */
	X509		*cert;		/* owned */
	uint8_t		*der;		/* owned */
	size_t		 derlen;
	struct store_cert row;		/* strings owned */
	struct store_audit audit;	/* strings owned */
	char		*token_id;	/* owned, may be NULL */
	time_t		 token_exp;
	char		*actor;		/* owned */
	char		*request_id;	/* owned */
	char		*detail;	/* owned */
	/* the caller's writes committed with the certificate (store.h
	 * struct store_issue), e.g. the ACME order it completes */
	store_tx_fn	 also;		/* may be NULL */
	void		*also_arg;	/* borrowed: lives until done */
	/* a certificate signed by the committer (ca_presign): its TBS DER,
	 * and der set once it is stored */
	uint8_t		*tbs;		/* owned, NULL when der is set */
	size_t		 tbslen;
	struct store_presign presign;
	enum dv_rc	 rc;		/* result of the commit */
};
void		ca_issue_free(struct ca_issue *);

/* POST /1.0/sign (spec §1.4, §1.10).  nb/na may be NULL. */
enum dv_rc	ca_sign_prepare(struct ca_authority *, const char *csr_pem,
		    const char *ott, const char *nb, const char *na,
		    const char *request_id, struct ca_issue **out);
/*
 * POST /1.0/renew and /1.0/rekey (spec §1.5, §1.6).  Authenticated either
 * by mTLS (peer != NULL, verified here against the authority) or by a
 * bearer x5cInsecure token (bearer != NULL).  csr_pem != NULL means rekey.
 */
enum dv_rc	ca_renew_prepare(struct ca_authority *, X509 *peer,
		    STACK_OF(X509) *peer_chain, const char *bearer,
		    const char *csr_pem, const char *request_id,
		    struct ca_issue **out);
/* Stores iss durably (group commit), signed first when ca_*_prepare left
 * its signature to the committer (iss->tbs), with iss->also in the same
 * transaction when set, and then calls done(arg, rc) from the committer
 * thread; iss->der is set when rc is DV_OK. */
void		ca_commit_submit(struct ca *, struct ca_issue *iss,
		    store_done_fn done, void *arg);

/* The answer: {"crt","ca","certChain","tlsOptions"} as compact JSON text
 * of *len bytes (new), or NULL. */
char		*ca_issue_response(const struct ca_issue *, size_t *len);

/* POST /1.0/revoke (spec §1.7).  Returns when durable. */
struct ca_revoke_req {
	const char	*serial;
	const char	*ott;		/* NULL/"": mTLS */
	int		 reason_code;
	const char	*reason;
	bool		 passive;
	X509		*peer;		/* borrowed, may be NULL */
	STACK_OF(X509)	*peer_chain;
	const char	*request_id;
};
enum dv_rc	ca_revoke(struct ca_authority *, const struct ca_revoke_req *);

/* Current CRL (DER, new buffer), regenerated when stale or after a
 * revocation. */
enum dv_rc	ca_crl_get(struct ca_authority *, uint8_t **der, size_t *len,
		    time_t *next_update);
/* Makes the next ca_crl_get() of the authority with id ("team/kind")
 * build a new CRL: for revocations made outside ca_revoke (a retired
 * device's certificates, revoked by the inventory).  Unknown ids are
 * ignored. */
void		ca_crl_invalidate(struct ca *, const char *authority_id);
/* Answers an OCSP request (DER in, DER out). */
enum dv_rc	ca_ocsp_answer(struct ca_authority *, const uint8_t *req,
		    size_t len, uint8_t **resp, size_t *resplen);

/* ---- attestation (issue 4) ---- */
/*
 * The Attestation CA (spec/attestation.md §2, §4, §5, §13.3): TPM 2.0
 * credential activation as step's attestation client speaks it, then an
 * attestation-only AK certificate.  Policy per team, config.json
 * "teams": {"<team>": {"attestation": {...}}} (docs/configuration.md):
 *   "ekRoots": folder of TPM-maker CA certificates (relative to the data
 *       folder); without it EK certificates are not verified and count as
 *       absent;
 *   "allowEkWithoutCert": a registered EK without a verified certificate
 *       is accepted (default true: registration is the admin's word);
 *   "trustOnFirstUse": an unregistered EK is registered as a new device
 *       (audited, tag "tofu") when its certificate verifies, or, with
 *       allowEkWithoutCert, without one (default false);
 *   "akCertLifetime": AK certificate lifetime (default 720h);
 *   "sessionLifetime": pending activation lifetime (default 5m).
 */
struct ca_attest_policy {
	struct pki_ek_roots *ek_roots;	/* owned, NULL: none configured */
	bool		 allow_ek_without_cert;
	bool		 trust_on_first_use;
	int64_t		 ak_lifetime;		/* seconds */
	int64_t		 session_lifetime;	/* seconds */
};
void		ca_attest_policy_free(struct ca_attest_policy *);

/* An /attest request body, decoded (spec §2.2).  Every pointer is
 * borrowed. */
struct ca_attest_req {
	const uint8_t	*ek;		/* SubjectPublicKeyInfo DER */
	size_t		 eklen;
	struct pki_der	 ek_certs[DV_ATT_MAX_EK_CERTS];	/* DER */
	size_t		 nek_certs;
	const uint8_t	*ak_public;	/* params: TPMT_PUBLIC */
	size_t		 ak_publiclen;
	const uint8_t	*create_data;	/* TPMS_CREATION_DATA */
	size_t		 create_datalen;
	const uint8_t	*create_attestation; /* TPMS_ATTEST */
	size_t		 create_attestationlen;
	const uint8_t	*create_signature; /* TPMT_SIGNATURE */
	size_t		 create_signaturelen;
	const char	*tpm_manufacturer; /* tpmInfo, decimal; may be NULL */
	const char	*tpm_model;	/* may be NULL */
	const char	*tpm_firmware;	/* may be NULL */
};

/*
 * POST /t/{team}/attestation/attest.  Checks, in this order, each failure
 * logged once and answered with its own code and fixed *detail:
 *   1. ek is an RSA 2048..4096 or EC P-256/P-384 key ........ BAD_KEY 400
 *   2. the EK is registered in the team (ek or ek-cert URN) .. FORBIDDEN
 *      403 (unless trustOnFirstUse); its device is not retired
 *      (FORBIDDEN 403) nor pending approval (FORBIDDEN 403)
 *   3. EK certificates (when sent and ekRoots is set): each decodes
 *      (MALFORMED 400), one is for this EK (FORBIDDEN 403) and it chains
 *      to ekRoots (UNTRUSTED 401)
 *   4. no verified EK certificate: allowEkWithoutCert ..... FORBIDDEN 403
 *   5. the AK checks of spec §4 (tpm_ak_check) ....... TPM_STRUCT / AK_* 400
 *   6. TPM manufacturer, model and version known (verified EK certificate,
 *      the inventory's ek-cert, or tpmInfo) ............... MALFORMED 400
 * then MakeCredential of a random 32-byte secret to the EK for the AK's
 * Name, and stores the pending session (UNAVAILABLE 503 beyond
 * DV_ATT_MAX_PENDING for the EK).  *out is new: {"credential", "secret"},
 * standard padded base64, each with its 2-byte size prefix (spec §2.3).
 */
enum dv_rc	ca_attest_begin(struct ca_authority *,
		    const struct ca_attest_req *, const char *request_id,
		    json_t **out, const char **detail);
/*
 * POST /t/{team}/attestation/secret (spec §2.4): secret is the raw
 * credential the TPM recovered.  Refused: not DV_ATT_SECRET_LEN bytes
 * (MALFORMED 400), no pending session of this team (UNAUTHORIZED 401),
 * used before (TOKEN_REUSED 401), expired (TOKEN_EXPIRED 401).  Uses the
 * session and builds the AK certificate (profile of pki_akcert_issue,
 * lifetime akCertLifetime): *out is new, to be given to
 * ca_commit_submit(), which has the committer sign it with the rest of
 * its batch and, in one transaction, check that the device was not
 * retired meanwhile, store the certificate against it, append the audit
 * row and mark the device seen (approved -> active).  Only then may
 * ca_attest_answer() build the reply.
 */
enum dv_rc	ca_attest_finish(struct ca_authority *, const uint8_t *secret,
		    size_t len, const char *request_id, struct ca_issue **out,
		    const char **detail);
/*
 * The answer of /secret for iss after ca_commit_submit: iss->rc, with
 * *detail (static) when not DV_OK (FORBIDDEN 403: the device was retired
 * since /attest; nothing was stored); else *out new, {"chain": [AK
 * certificate, intermediate]}, base64 DER, leaf first, and the issuance
 * logged.
 */
enum dv_rc	ca_attest_answer(const struct ca_issue *iss, json_t **out,
		    const char **detail);

/* ---- ACME (issue 5) ---- */
/*
 * Signs the certificate of a finalized ACME order (RFC 8555 §7.4): the
 * caller (src/acme) has checked csr against the order; names are the
 * order's identifiers, [nb, na] its validity, prov the ACME provisioner
 * and actor the audit actor ("acme/<prov>:<account>").  The CN is the
 * CSR's when it is one of names, else the first name.  *out is new, to
 * be stored with ca_commit_submit() before the certificate is served.
 */
enum dv_rc	ca_acme_prepare(struct ca_authority *, const struct prov *prov,
		    const struct pki_csr *csr, const struct pki_sans *names,
		    time_t nb, time_t na, const char *actor,
		    const char *request_id, struct ca_issue **out);

/* The device a device-attest-01 certificate is for.  Borrowed strings. */
struct ca_device_id {
	const char	*perm_id;	/* the order's permanent-identifier */
	const char	*ek_urn;	/* tpm: the EK URN (URI SAN), or NULL */
	const char	*device_id;	/* inventory id: certificates.device_id */
};
/*
 * The device certificate of an ACME device-attest-01 order
 * (draft-ietf-acme-device-attest §6, spec/attestation.md §12-13): the
 * CSR's CN as subject (if any), a SAN with the RFC 4043 PermanentIdentifier dev->perm_id and, when set,
 * the URI dev->ek_urn; EKU clientAuth only; validity [nb, na]; recorded
 * against dev->device_id so that retiring the device revokes it.  The CSR
 * key must already be the attested one (the caller checks).  *out is new,
 * to be stored with ca_commit_submit().
 */
enum dv_rc	ca_acme_device_prepare(struct ca_authority *,
		    const struct prov *prov, const struct pki_csr *csr,
		    const struct ca_device_id *dev, time_t nb, time_t na,
		    const char *actor, const char *request_id,
		    struct ca_issue **out);

#endif
