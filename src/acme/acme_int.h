/* acme_int.h - internals shared by the files of src/acme (rule 1). */
#ifndef DV_ACME_INT_H
#define DV_ACME_INT_H

#include <netinet/in.h>

#include "acme.h"
#include "jws/jws.h"

/* Lifetimes (seconds) of the objects of an ACME provisioner. */
#define ACME_NONCE_LIFETIME	3600
/* Seconds between two purges of expired nonces by one process. */
#define ACME_NONCE_PURGE_EVERY	60
#define ACME_ORDER_LIFETIME	(24 * 3600)
/* Orders listed per account (RFC 8555 §7.1.2.1; no paging). */
#define ACME_MAX_ORDERS_LIST	1000
/* Identifiers per order. */
#define ACME_MAX_IDENTIFIERS	DV_INV_MAX_IDENTIFIERS
/* Contacts per account, and bytes per contact. */
#define ACME_MAX_CONTACTS	4
#define ACME_MAX_CONTACT_LEN	256
/* Bytes of an http-01 answer read (RFC 8555 §8.3 keyAuthorization + ws). */
#define ACME_HTTP01_MAX_BODY	1024
/* Seconds an http-01 fetch may take, connecting included. */
#define ACME_HTTP01_TIMEOUT	10
/* dns-01 (RFC 8555 §8.4): bytes of a DNS answer read (beyond: refused),
 * TXT records looked at, bytes of one joined TXT value, seconds per try
 * (two tries per resolver). */
#define ACME_DNS01_MAX_ANSWER	4096
#define ACME_DNS01_MAX_RECORDS	32
#define ACME_DNS01_MAX_TXT	255
#define ACME_DNS01_TIMEOUT	3
/* Seconds a tls-alpn-01 connect, and each TLS read or write, may take. */
#define ACME_TLSALPN_TIMEOUT	10
/* Validations queued at most (beyond: the challenge POST gets 503). */
#define ACME_MAX_QUEUED		1024
/* Decoded account keys kept (keycache.c): ~2 KiB each. */
#define ACME_KEY_CACHE_SLOTS	1024
/* Characters of a renewalInfo certID (RFC 9773 §4.1): two base64url
 * parts, a keyIdentifier of up to 64 octets and a serial of up to 20. */
#define ACME_ARI_MAX_CERTID	128
/* Retry-After (seconds) for objects still being processed. */
#define ACME_RETRY_AFTER	1

/* External account binding: bytes of a generated HMAC key (RFC 7518
 * §3.2: at least the hash output of HS256), characters of an admin's
 * reference, keys listed at most. */
#define ACME_EAB_KEY_LEN	32
#define ACME_EAB_MAX_REFERENCE	256
#define ACME_EAB_MAX_LIST	1000

/* Challenge types: the dispatch table of challenge.c.  Types not yet
 * implemented have no validator and are refused in the configuration. */
enum acme_ch {
	ACME_CH_HTTP01,
	ACME_CH_DNS01,
	ACME_CH_TLSALPN01,
	ACME_CH_DEVICE_ATTEST01,
	ACME_CH__MAX
};
extern const char *const acme_ch_names[ACME_CH__MAX];

/* Options of an ACME provisioner (docs/configuration.md). */
struct acme_cfg {
	bool		 chall[ACME_CH__MAX];	/* types offered */
	int		 http_port;		/* http-01 port, default 80 */
	const json_t	*resolve;		/* borrowed: {"name"|"*": ip} */
	unsigned	 att_formats;		/* bits 1 << enum att_fmt */
	const json_t	*att_roots;		/* borrowed: {"apple"|"step": path} */
	int		 tlsalpn_port;		/* tls-alpn-01 port, default 443 */
	bool		 dns_resolver_set;	/* else the system's resolvers */
	struct sockaddr_in dns_resolver;	/* "dnsResolver" */
	bool		 require_eab;		/* "requireEAB" */
};

/* One request being answered. */
struct acme_ctx {
	const struct acme_req *req;	/* borrowed */
	struct acme_resp *resp;		/* borrowed */
	struct ca_authority *auth;	/* borrowed */
	struct prov	*prov;		/* borrowed */
	struct store	*store;		/* borrowed */
	char		*base;		/* owned: https://host:port/t/.../prov */
	char		*provid;	/* owned: "team/authority/prov" */
	struct acme_cfg	 cfg;
	struct jws_flat	*jws;		/* owned, after acme_verify */
	json_t		*payload;	/* owned, NULL for POST-as-GET */
	json_t		*jwk;		/* owned: the key that signed */
	EVP_PKEY	*pkey;		/* owned: jwk decoded, kid requests */
	char		*thumbprint;	/* owned: RFC 7638 of jwk */
	bool		 has_acct;	/* acct filled (kid requests) */
	struct store_acme_account acct;
	bool		 nonce_done;	/* resp->nonce already issued */
};

/* Sets up c for q (base URL, provisioner id) and releases it. */
void		acme_ctx_init(struct acme_ctx *c, const struct acme_req *q,
		    struct acme_resp *resp);
void		acme_ctx_clear(struct acme_ctx *c);
/* Sets the problem document of err with a fixed detail (rule 12). */
void		acme_fail(struct acme_ctx *, enum acme_err err,
		    const char *detail);
/* base + suffix (new string). */
char		*acme_url(const struct acme_ctx *, const char *suffix,
		    const char *id);
/* A new random object id (22 base64url characters). */
char		*acme_id_new(void);
/* Reads the provisioner's options (false, logged, when invalid). */
bool		acme_cfg_load(const struct prov *, struct acme_cfg *out);

/*
 * The JWS rules of RFC 8555 §6.2-6.3 for a POST to this URL: flattened
 * JWS, accepted alg, url equal to the request URL, exactly one of kid and
 * jwk (jwk only when jwk_ok), a known and valid account for kid, the
 * signature, then the single-use nonce.  On success ctx->jws, payload,
 * jwk and (for kid) acct are set; else the problem is set and false
 * returned.
 */
bool		acme_verify(struct acme_ctx *, bool jwk_ok);
/* Payload as JSON object (false + malformed when not; empty payload
 * allowed only when empty_ok, then ctx->payload stays NULL). */
bool		acme_payload(struct acme_ctx *, bool empty_ok);

/*
 * keycache.c: the decoded key of account a (its row just read): *jwk (the
 * public JWK) and *pkey are new references (json_decref, pki_key_free).
 * DV_ERR_MALFORMED or DV_ERR_BAD_KEY when the stored key is unreadable.
 * acme_key_forget drops the entry of an account (deactivated, new key).
 */
enum dv_rc	acme_key_get(const struct store_acme_account *a, json_t **jwk,
		    EVP_PKEY **pkey);
void		acme_key_forget(const char *acct_id);

/* nonce.c: issues a fresh nonce into resp; takes one (single use). */
enum dv_rc	acme_nonce_issue(struct acme_ctx *);
/* Takes nonce and issues the next one in the same transaction:
 * DV_ERR_NOT_FOUND when nonce was unknown or used. */
enum dv_rc	acme_nonce_take(struct acme_ctx *, const char *nonce);

/* account.c */
void		acme_account_new(struct acme_ctx *);
void		acme_account_post(struct acme_ctx *, const char *id);
void		acme_account_orders(struct acme_ctx *, const char *id);
void		acme_key_change(struct acme_ctx *);
json_t		*acme_account_json(const struct acme_ctx *,
		    const struct store_acme_account *);

/* eab.c: checks the externalAccountBinding of a newAccount (RFC 8555
 * §7.3.4) once acme_verify passed: a flattened JWS with alg HS256/384/512,
 * kid, url = the newAccount URL, no nonce, payload = the account key, a
 * key id of this provisioner, and the MAC (whether the key is bound
 * already is for the transaction to say).  true with *kid
 * (new), else false with the problem set (malformed or unauthorized). */
bool		acme_eab_check(struct acme_ctx *, const json_t *eab,
		    char **kid);

/* order.c */
void		acme_order_new(struct acme_ctx *);
void		acme_order_get(struct acme_ctx *, const char *id);
void		acme_authz_post(struct acme_ctx *, const char *id);
json_t		*acme_order_json(const struct acme_ctx *,
		    const struct store_acme_order *,
		    const struct store_acme_authz *, size_t n);
/* Reads order id with its authorizations (reader connection). */
enum dv_rc	acme_order_load(struct store *, const char *id,
		    struct store_acme_order *o, struct store_acme_authz **z,
		    size_t *n);
/* The status an order shows at now (expiry of pending/ready). */
const char	*acme_order_status(const struct store_acme_order *, time_t now);

/* challenge.c */
void		acme_chall_post(struct acme_ctx *, const char *id);
json_t		*acme_chall_json(const struct acme_ctx *,
		    const struct store_acme_chall *);
/*
 * Records the outcome of a validation in one transaction: challenge
 * valid or invalid (with error, a problem JSON text), its authorization
 * likewise, and the order ready (all authorizations valid) or invalid.
 */
enum dv_rc	acme_chall_result(struct store *, const char *chall_id,
		    bool ok, const json_t *error);

/* validate_http01.c: a validation job, all strings owned by the job. */
struct acme_job {
	struct store	*store;		/* borrowed: lives as long as the ca */
	char		*chall_id;
	char		*ident;		/* the identifier value */
	char		*token;
	char		*key_auth;	/* token "." thumbprint */
	char		*connect_ip;	/* resolve override, may be NULL */
	int		 port;
	bool		 resolver_set;	/* dns-01: resolver given */
	struct sockaddr_in resolver;
	enum acme_ch	 type;
};
void		acme_job_free(struct acme_job *);
/* Queues job (taken); DV_ERR_UNAVAILABLE when the queue is full or no
 * validator runs. */
enum dv_rc	acme_job_submit(struct acme_job *);
/* Runs an http-01 validation: DV_OK when the answer is the key
 * authorization; otherwise *err is a new problem object. */
enum dv_rc	acme_http01_validate(const struct acme_job *, json_t **err);

/* validate_dns01.c: parses "a.b.c.d[:port]" (port 53 by default). */
bool		acme_dns01_resolver_parse(const char *, struct sockaddr_in *out);
/* Runs a dns-01 validation (RFC 8555 §8.4): DV_OK when a TXT record of
 * _acme-challenge.{name} is the digest; otherwise *err is a new problem. */
enum dv_rc	acme_dns01_validate(const struct acme_job *, json_t **err);
/* validate_tlsalpn01.c: runs a tls-alpn-01 validation (RFC 8737), same
 * contract. */
enum dv_rc	acme_tlsalpn01_validate(const struct acme_job *, json_t **err);

/*
 * challenge_attest.c: device-attest-01 (draft-ietf-acme-device-attest).
 * acme_attest_cfg_load reads "attestationFormats" and "attestationRoots"
 * into out (false, logged, when invalid).  acme_attest_order_has_device
 * is true when newOrder's identifiers include a permanent-identifier;
 * acme_attest_order_new then creates that order (one identifier, one
 * device-attest-01 challenge) with the validity [nb, na], replacing the
 * certificate of certID replaces (RFC 9773 §5) when not NULL.
 * acme_attest_validate verifies the payload's attObj for challenge ch of
 * z (already "processing"), records the outcome (acme_chall_result, the
 * attested key on z) and updates ch for the answer.
 * acme_attest_csr_check: the CSR key is z's attested key and the device
 * is still approved or active; true with *device_id (new), else false
 * with the problem set.
 */
bool		acme_attest_cfg_load(const struct prov *, struct acme_cfg *out);
bool		acme_attest_order_has_device(const json_t *ids);
void		acme_attest_order_new(struct acme_ctx *, const json_t *ids,
		    const char *replaces, time_t nb, time_t na);
void		acme_attest_validate(struct acme_ctx *,
		    const struct store_acme_authz *z,
		    struct store_acme_chall *ch);
bool		acme_attest_csr_check(struct acme_ctx *,
		    const struct store_acme_authz *z, const struct pki_csr *csr,
		    char **device_id);

/* finalize.c */
void		acme_finalize(struct acme_ctx *, const char *id);
void		acme_cert_get(struct acme_ctx *, const char *id);

/* revoke.c */
void		acme_revoke(struct acme_ctx *);

/* renewal.c (RFC 9773) */
void		acme_renewal_info(struct acme_ctx *, const char *cert_id);
/* Parses a certID (RFC 9773 §4.1, checks 1-2 of renewal.c): true with
 * *aki (the keyIdentifier, *akilen bytes) and *serial (decimal), both
 * new; false, nothing allocated, when malformed. */
bool		acme_certid_parse(const char *cert_id, uint8_t **aki,
		    size_t *akilen, char **serial);
/*
 * The replaces member of a newOrder (RFC 9773 §5) whose identifiers are
 * ids ([{type, value}], normalized): the certID names a certificate this
 * authority issued to an order of the same account that shares at least
 * one identifier with ids.  true when it does, else false with the
 * problem set.  Whether another order already replaces it is the insert
 * transaction's to say (acme_replaces_tx).
 */
bool		acme_replaces_check(struct acme_ctx *, const char *cert_id,
		    const json_t *ids);
/* In the newOrder transaction of o: DV_ERR_EXISTS with *replaced when an
 * order that is not invalid already replaces o->replaces (alreadyReplaced),
 * DV_OK when o->replaces is NULL or free. */
enum dv_rc	acme_replaces_tx(struct store_tx *,
		    const struct store_acme_order *o, bool *replaced);

/* A problem object of err with detail (new reference). */
json_t		*acme_problem_json(enum acme_err err, const char *detail);

#endif
