/*
 * attest.c - the Attestation CA (ca.h, attestation section; issue 4):
 * /attest checks an EK against the inventory and the TPM makers' roots
 * and an AK against spec/attestation.md §4, then encrypts a fresh secret
 * to the EK for the AK's Name (MakeCredential, src/tpm); /secret trades
 * the recovered secret for an AK certificate (§13.3).
 *
 * What this proves: only a TPM that holds the EK's private key, and in
 * which an object with exactly the AK's Name (so its attributes:
 * fixedTPM, restricted, sign) is loaded, can recover the secret (TPM 2.0
 * Part 1 §24).  The EK is the one the admin registered for a device of
 * the team (or, under trust on first use, one a TPM maker certified).
 *
 * A pending activation is a store row keyed by SHA-256(secret), so that
 * any node sharing the store can answer /secret; the secret itself lives
 * only in this function's stack and in the TPM's answer.
 */
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_int.h"
#include "tpm/tpm.h"

#define EV		"attest"
/* notBefore is backdated like every certificate of devid (issue.c). */
#define AK_BACKDATE	60
/*
 * Seconds between two purges of expired activations by one process, and
 * the most rows one purge deletes.  A purge holds the volatile database
 * (every /attest, /secret and ACME nonce waits): once a minute, at 1 000
 * pairs a second, it was 60 000 rows and half a second; each second, a
 * second's expiries, about 10 ms.  The bound caps the wait after a burst
 * (4096 rows: about 0.15 s) and is above the rate one process sustains
 * (1 200 pairs a second on two cores, docs/operations.md).
 */
#define ATT_PURGE_EVERY	1
#define ATT_PURGE_MAX	4096

/* TPM manufacturer, model and version for the AK certificate's SAN. */
struct att_tpm {
	char		*manufacturer;	/* owned */
	char		*model;		/* owned */
	char		*version;	/* owned */
};

static void
att_tpm_clear(struct att_tpm *t)
{
	free(t->manufacturer);
	free(t->model);
	free(t->version);
	memset(t, 0, sizeof(*t));
}

static bool
att_tpm_complete(const struct att_tpm *t)
{
	return t->manufacturer != NULL && t->model != NULL &&
	    t->version != NULL;
}

/* Fills the members of t still NULL from the three values (any NULL). */
static void
att_tpm_fill(struct att_tpm *t, const char *man, const char *model,
    const char *ver)
{
	if (t->manufacturer == NULL && man != NULL && man[0] != '\0')
		t->manufacturer = xstrdup(man);
	if (t->model == NULL && model != NULL && model[0] != '\0')
		t->model = xstrdup(model);
	if (t->version == NULL && ver != NULL && ver[0] != '\0')
		t->version = xstrdup(ver);
}

/* Logs a refusal of the Attestation CA once (rule 9); ek may be NULL. */
static void
refuse(const struct ca_authority *a, const char *ek, const char *clause)
{
	log_msg(LOG_INFO, EV ".refused", "{s:s,s:s?,s:s}", "authority", a->id,
	    "ek", ek, "detail", clause);
}

/* ---- policy -------------------------------------------------------- */

void
ca_attest_policy_free(struct ca_attest_policy *p)
{
	if (p == NULL)
		return;
	pki_ek_roots_free(p->ek_roots);
	free(p);
}

/* A duration member of cfg within [min, max] seconds, else the default. */
static enum dv_rc
policy_dur(const json_t *cfg, const char *key, int64_t min, int64_t max,
    int64_t *out)
{
	const json_t *v = json_object_get(cfg, key);
	int64_t secs;

	if (v == NULL)
		return DV_OK;
	if (!json_is_string(v) || dur_parse(json_string_value(v), &secs) !=
	    DV_OK || secs < min || secs > max) {
		log_msg(LOG_ERR, "config.attestation", "{s:s,s:s,s:I,s:I}",
		    "member", key, "detail", "not a duration within the bounds",
		    "min", (json_int_t)min, "max", (json_int_t)max);
		return DV_ERR_MALFORMED;
	}
	*out = secs;
	return DV_OK;
}

enum dv_rc
ca_attest_load(struct ca_authority *a, const json_t *cfg)
{
	struct ca_attest_policy *p = xcalloc(1, sizeof(*p));
	const char *roots = NULL, *life = NULL, *sess = NULL;
	json_error_t err;
	int allow = 1, tofu = 0;
	char *path = NULL;
	enum dv_rc rc = DV_OK;

	p->allow_ek_without_cert = true;
	p->ak_lifetime = DV_ATT_AK_LIFETIME;
	p->session_lifetime = DV_ATT_SESSION_LIFETIME;
	if (cfg != NULL && json_unpack_ex((json_t *)cfg, &err, JSON_STRICT,
	    "{s?s,s?b,s?b,s?s,s?s}", "ekRoots", &roots,
	    "allowEkWithoutCert", &allow, "trustOnFirstUse", &tofu,
	    "akCertLifetime", &life, "sessionLifetime", &sess) != 0) {
		log_msg(LOG_ERR, "config.attestation", "{s:s,s:s}", "team",
		    a->team, "detail", err.text);
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	p->allow_ek_without_cert = allow != 0;
	p->trust_on_first_use = tofu != 0;
	if ((rc = policy_dur(cfg, "akCertLifetime", DV_ATT_AK_LIFETIME_MIN,
	    DV_ATT_AK_LIFETIME_CEILING, &p->ak_lifetime)) != DV_OK ||
	    (rc = policy_dur(cfg, "sessionLifetime", DV_ATT_SESSION_MIN,
	    DV_ATT_SESSION_CEILING, &p->session_lifetime)) != DV_OK)
		goto out;
	if (roots != NULL) {
		path = ca_path(a->ca, roots);
		if ((rc = pki_ek_roots_load(path, &p->ek_roots)) != DV_OK)
			goto out;
		log_msg(LOG_INFO, "config.attestation", "{s:s,s:s,s:I}",
		    "team", a->team, "ekRoots", path, "certificates",
		    (json_int_t)pki_ek_roots_count(p->ek_roots));
	}
out:
	free(path);
	if (rc != DV_OK) {
		ca_attest_policy_free(p);
		return rc;
	}
	ca_attest_policy_free(a->att);
	a->att = p;
	return DV_OK;
}

/* ---- /attest ------------------------------------------------------- */

/* Fixed client-facing texts of the failures tpm_ak_check reports. */
static const char *
ak_detail(enum dv_rc rc)
{
	switch (rc) {
	case DV_ERR_TPM_STRUCT:
		return "an AK parameter is not a well-formed TPM structure";
	case DV_ERR_TOO_LARGE:
		return "an AK parameter exceeds a size limit";
	case DV_ERR_AK_KEY:
		return "the AK algorithm, curve or key size is not allowed";
	case DV_ERR_AK_ATTRIBUTES:
		return "the AK must be fixedTPM, fixedParent, "
		    "sensitiveDataOrigin, restricted, sign and not decrypt";
	case DV_ERR_AK_NOT_GENERATED:
		return "the creation attestation was not generated by a TPM";
	case DV_ERR_AK_ATTEST_TYPE:
		return "createAttestation is not a creation attestation";
	case DV_ERR_AK_CREATION:
		return "the creation hash does not match createData";
	case DV_ERR_AK_NAME:
		return "the creation attestation refers to a different key";
	case DV_ERR_AK_SIGNATURE:
		return "createSignature does not verify under the AK";
	default:
		return "the AK parameters could not be checked";
	}
}

/*
 * The device of the team holding an EK, as /attest needs it: its id and
 * status and its identifiers (the TPM details of an ek-cert one), read in
 * one reader transaction.  Straight from the store rather than through
 * inv_device_by_identifier, whose JSON view adds the device's collections,
 * tags and posture (a third of the lookup's cost) that nothing here reads.
 */
struct ek_owner {
	struct store_device dev;	/* filled by the transaction */
	struct store_ident *ids;	/* owned, nids of them */
	size_t		 nids;
	bool		 found;
};

struct ek_owner_get {
	const char	*team;		/* borrowed */
	const char	*urn;		/* borrowed */
	struct ek_owner	*out;		/* borrowed */
};

static void
ek_owner_clear(struct ek_owner *o)
{
	store_device_clear(&o->dev);
	store_idents_free(o->ids, o->nids);
	memset(o, 0, sizeof(*o));
}

static enum dv_rc
ek_owner_tx(struct store_tx *tx, void *arg)
{
	struct ek_owner_get *g = arg;
	char *id = NULL;
	enum dv_rc rc;

	if ((rc = store_ident_owner(tx, g->team, g->urn, &id)) != DV_OK)
		return rc;
	rc = store_dev_get(tx, g->team, id, &g->out->dev);
	free(id);
	if (rc != DV_OK)
		return rc;
	g->out->found = true;
	return store_ident_list(tx, g->out->dev.id, &g->out->ids,
	    &g->out->nids);
}

/*
 * Step 2: the device holding urn in the team (o->found), or none when
 * there is none and trust on first use may register it later.  *o is
 * cleared on entry; ek_owner_clear.
 */
static enum dv_rc
ek_device(struct ca_authority *a, const char *urn, struct ek_owner *o,
    const char **detail)
{
	struct ek_owner_get g = { a->team, urn, o };
	const char *status;
	enum dv_rc rc;

	memset(o, 0, sizeof(*o));
	rc = store_read(a->ca->store, ek_owner_tx, &g);
	if (rc == DV_ERR_NOT_FOUND && !o->found) {
		if (a->att->trust_on_first_use)
			return DV_OK;
		refuse(a, urn, "the EK is not registered for this team");
		*detail = "the EK is not registered for this team";
		return DV_ERR_FORBIDDEN;
	}
	if (rc != DV_OK) {
		ek_owner_clear(o);
		*detail = "the inventory could not be read";
		return rc;
	}
	status = o->dev.status;
	if (status != NULL && strcmp(status, "retired") == 0) {
		refuse(a, urn, "the EK's device is retired");
		*detail = "the device holding this EK is retired";
		rc = DV_ERR_FORBIDDEN;
	} else if (status != NULL && strcmp(status, "pending") == 0) {
		refuse(a, urn, "the EK's device awaits approval");
		*detail = "the device holding this EK awaits approval";
		rc = DV_ERR_FORBIDDEN;
	}
	if (rc != DV_OK)
		ek_owner_clear(o);
	return rc;
}

/*
 * Step 3: with ekRoots configured, the EK certificates sent must decode,
 * one must be for this EK, and that one must chain to the roots; it is
 * written to *cert (*verified true).  Without ekRoots, or when none is
 * sent, *verified stays false.
 */
static enum dv_rc
ek_certs_check(struct ca_authority *a, const struct ca_attest_req *r,
    const char *urn, struct pki_ek_cert *cert, bool *verified,
    const char **detail)
{
	struct pki_ek_cert c;
	size_t i, match = r->nek_certs;
	enum dv_rc rc;

	memset(cert, 0, sizeof(*cert));
	*verified = false;
	if (r->nek_certs == 0 || a->att->ek_roots == NULL)
		return DV_OK;
	for (i = 0; i < r->nek_certs; i++) {
		if ((rc = pki_ek_cert_parse(r->ek_certs[i].der,
		    r->ek_certs[i].len, true, &c)) != DV_OK) {
			*detail = "an EK certificate could not be parsed";
			return rc == DV_ERR_TOO_LARGE ? rc : DV_ERR_MALFORMED;
		}
		if (match == r->nek_certs && strcmp(c.urn, urn) == 0) {
			match = i;
			*cert = c;
		} else
			pki_ek_cert_clear(&c);
	}
	if (match == r->nek_certs) {
		refuse(a, urn, "TCG EK Credential Profile §3.2: no EK "
		    "certificate sent holds the EK's key");
		*detail = "no EK certificate sent is for this EK";
		return DV_ERR_FORBIDDEN;
	}
	if ((rc = pki_ek_cert_verify(a->att->ek_roots, r->ek_certs,
	    r->nek_certs, match)) != DV_OK) {
		pki_ek_cert_clear(cert);
		*detail = "the EK certificate does not chain to a trusted TPM "
		    "maker";
		return rc;
	}
	*verified = true;
	return DV_OK;
}

/* The TPM details the inventory holds for urn (its ek-cert identifier). */
static void
tpm_from_device(const struct ek_owner *o, const char *urn, struct att_tpm *t)
{
	const struct store_ident *e;
	size_t i;

	for (i = 0; i < o->nids; i++) {
		e = &o->ids[i];
		if (e->type == NULL || e->value == NULL ||
		    strcmp(e->type, "ek-cert") != 0 ||
		    strcmp(e->value, urn) != 0)
			continue;
		att_tpm_fill(t, e->tpm_manufacturer, e->tpm_model,
		    e->tpm_version);
	}
}

/* A tpmInfo string fit for the certificate: printable, bounded. */
static const char *
info_str(const char *s)
{
	size_t n;

	if (s == NULL || (n = strlen(s)) == 0 || n > DV_ATT_MAX_TPM_INFO ||
	    !str_printable(s, n))
		return NULL;
	return s;
}

/*
 * The client's tpmInfo (spec §2.2): manufacturer is the decimal
 * TPM_PT_MANUFACTURER, written the TCG way ("id:" + 8 hex digits, §13.2);
 * model and firmware version as sent.
 */
static void
tpm_from_info(const struct ca_attest_req *r, struct att_tpm *t)
{
	long long m;
	char man[16];

	if (r->tpm_manufacturer != NULL &&
	    num_parse(r->tpm_manufacturer, 0, 0xffffffffLL, &m) == DV_OK) {
		snprintf(man, sizeof(man), "id:%08llX", m);
		att_tpm_fill(t, man, NULL, NULL);
	}
	att_tpm_fill(t, NULL, info_str(r->tpm_model),
	    info_str(r->tpm_firmware));
}

/*
 * Trust on first use: registers the EK as a new approved device (tag
 * "tofu"; the inventory audits it), with its verified certificate when
 * there is one.  *dev is new.
 */
static enum dv_rc
tofu_register(struct ca_authority *a, const char *urn,
    const struct pki_ek_cert *cert, const char *request_id, json_t **dev,
    const char **detail)
{
	struct inv_actor actor = { "attestation:tofu", request_id };
	uint8_t md[32];
	char *hex, *name, *why = NULL;
	json_t *body;
	enum dv_rc rc;

	*dev = NULL;
	pki_sha256(urn, strlen(urn), md);
	hex = hex_encode(md, 6);
	name = xasprintf("tpm-%s", hex);
	body = json_pack("{s:s,s:s,s:[s],s:[{s:s,s:s}]}", "name", name,
	    "source", "api", "tags", "tofu", "identifiers", "type",
	    cert != NULL ? "ek-cert" : "ek", "value",
	    cert != NULL ? cert->pem : urn);
	rc = inv_device_add(a->ca->inv, a->team, body, &actor, dev, &why);
	/* a concurrent /attest of the same EK registered it first */
	if (rc == DV_ERR_EXISTS)
		rc = inv_device_by_identifier(a->ca->inv, a->team, urn, dev);
	if (rc != DV_OK)
		*detail = "the EK could not be registered on first use";
	else
		log_msg(LOG_INFO, EV ".tofu", "{s:s,s:s,s:s?}", "authority",
		    a->id, "ek", urn, "device", json_get_str(*dev, "id"));
	json_decref(body);
	free(why);
	free(name);
	free(hex);
	return rc;
}

/* When this process last purged expired activations. */
static _Atomic time_t last_purge;

static enum dv_rc
session_insert_tx(struct store_tx *tx, void *arg)
{
	const struct store_att_session *s = arg;
	time_t now = s->created_at, last = atomic_load(&last_purge);
	enum dv_rc rc;

	/* expired sessions are refused and not counted as pending anyway:
	 * deleting them only bounds the table, once a second at most (one
	 * thread wins the exchange), a bounded batch */
	if ((now < last || now - last >= ATT_PURGE_EVERY) &&
	    atomic_compare_exchange_strong(&last_purge, &last, now) &&
	    (rc = store_att_session_purge(tx, now, ATT_PURGE_MAX)) != DV_OK)
		return rc;
	return store_att_session_insert(tx, s, now, DV_ATT_MAX_PENDING);
}

/*
 * A JSON string of base64 text.  Base64 is ASCII, so jansson's UTF-8
 * check of every byte (json_string) is skipped: the chain of /secret is
 * two kilobytes of it.  Never for text from a request.
 */
static json_t *
b64_json(const char *b64)
{
	json_t *j;

	if ((j = json_string_nocheck(b64)) == NULL)
		abort();
	return j;
}

/* {"credential", "secret"}: base64 of both TPM2Bs, prefixes kept. */
static enum dv_rc
attest_response(const uint8_t *cred, size_t credlen, const uint8_t *enc,
    size_t enclen, json_t **out)
{
	char *c = NULL, *e = NULL;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_b64_encode(cred, credlen, &c)) == DV_OK &&
	    (rc = pki_b64_encode(enc, enclen, &e)) == DV_OK) {
		if ((*out = json_object()) == NULL)
			abort();
		json_object_set_new_nocheck(*out, "credential", b64_json(c));
		json_object_set_new_nocheck(*out, "secret", b64_json(e));
	}
	free(c);
	free(e);
	return rc;
}

enum dv_rc
ca_attest_begin(struct ca_authority *a, const struct ca_attest_req *r,
    const char *request_id, json_t **out, const char **detail)
{
	struct tpm_ak_params params;
	struct store_att_session sess;
	struct pki_ek_cert cert;
	struct att_tpm tpm;
	struct tpm_public *ek = NULL;
	struct tpm_ak *ak = NULL;
	uint8_t secret[DV_ATT_SECRET_LEN], md[32];
	uint8_t *cred = NULL, *enc = NULL;
	size_t credlen = 0, enclen = 0;
	struct ek_owner owner;
	json_t *dev = NULL;
	char *urn = NULL, *id = NULL;
	const char *dev_id;
	bool verified = false;
	time_t now = dv_now();
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	memset(&cert, 0, sizeof(cert));
	memset(&tpm, 0, sizeof(tpm));
	memset(&sess, 0, sizeof(sess));
	memset(&owner, 0, sizeof(owner));
	if (a->kind != CA_ATTESTATION || a->att == NULL) {
		*detail = "this authority does not attest TPMs";
		return DV_ERR_NOT_FOUND;
	}

	/* 1. the EK */
	if ((rc = tpm_ek_from_spki(r->ek, r->eklen, &ek)) != DV_OK) {
		*detail = "the EK must be an RSA 2048-4096 or EC P-256/P-384 "
		    "public key";
		goto out;
	}
	/* the key was checked just above: hash its SPKI as sent */
	if ((rc = pki_ek_spki_urn(r->ek, r->eklen, &urn)) != DV_OK)
		goto out;
	/* 2. registered, not retired */
	if ((rc = ek_device(a, urn, &owner, detail)) != DV_OK)
		goto out;
	/* 3. its certificate */
	if ((rc = ek_certs_check(a, r, urn, &cert, &verified, detail)) !=
	    DV_OK)
		goto out;
	/* 4. policy for an EK without a verified certificate */
	if (!verified && !a->att->allow_ek_without_cert) {
		refuse(a, urn, "team policy: an EK certificate that chains to "
		    "a TPM maker is required");
		*detail = "team policy requires an EK certificate from a "
		    "trusted TPM maker";
		rc = DV_ERR_FORBIDDEN;
		goto out;
	}
	/* 5. the AK (spec §4) */
	params.public = r->ak_public;
	params.publiclen = r->ak_publiclen;
	params.create_data = r->create_data;
	params.create_datalen = r->create_datalen;
	params.create_attestation = r->create_attestation;
	params.create_attestationlen = r->create_attestationlen;
	params.create_signature = r->create_signature;
	params.create_signaturelen = r->create_signaturelen;
	if ((rc = tpm_ak_check(&params, &ak)) != DV_OK) {
		*detail = ak_detail(rc);
		goto out;
	}
	/* 6. what the AK certificate will say about the TPM */
	if (verified)
		att_tpm_fill(&tpm, cert.manufacturer, cert.model,
		    cert.version);
	if (owner.found)
		tpm_from_device(&owner, urn, &tpm);
	tpm_from_info(r, &tpm);
	if (!att_tpm_complete(&tpm)) {
		refuse(a, urn, "spec §13.3: TPM manufacturer, model or version "
		    "unknown");
		*detail = "the TPM manufacturer, model and version are "
		    "unknown (send tpmInfo)";
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (!owner.found && (rc = tofu_register(a, urn, verified ? &cert :
	    NULL, request_id, &dev, detail)) != DV_OK)
		goto out;
	if ((dev_id = owner.found ? owner.dev.id : json_get_str(dev, "id")) ==
	    NULL) {
		rc = DV_ERR_INTERNAL;
		goto out;
	}

	/* MakeCredential of a fresh secret for the AK's Name */
	if ((rc = pki_random(secret, sizeof(secret))) != DV_OK ||
	    (rc = tpm_make_credential(ek, ak->name, ak->namelen, secret,
	    sizeof(secret), &cred, &credlen, &enc, &enclen)) != DV_OK)
		goto out;
	pki_sha256(secret, sizeof(secret), md);
	explicit_bzero(secret, sizeof(secret));
	id = hex_encode(md, sizeof(md));

	sess.id = id;
	sess.team = a->team;
	sess.ek_urn = urn;
	sess.device_id = (char *)dev_id;
	sess.ak_spki = ak->spki;
	sess.ak_spki_len = ak->spkilen;
	sess.tpm_manufacturer = tpm.manufacturer;
	sess.tpm_model = tpm.model;
	sess.tpm_version = tpm.version;
	sess.created_at = now;
	sess.expires_at = now + a->att->session_lifetime;
	/*
	 * In the volatile database (store_write_volatile: committed before
	 * the client can answer, never waiting for a disk, in this thread):
	 * a session lost in a crash only fails the /secret that would use it
	 * (401, attest again); it grants nothing.  The AK certificate and its
	 * audit row are written durably by /secret before any byte of the
	 * certificate is returned.
	 */
	if ((rc = store_write_volatile(a->ca->store, session_insert_tx,
	    &sess)) !=
	    DV_OK) {
		*detail = rc == DV_ERR_UNAVAILABLE ? "too many pending "
		    "activations for this EK; retry when they expire" :
		    "the activation could not be stored";
		goto out;
	}
	if ((rc = attest_response(cred, credlen, enc, enclen, out)) != DV_OK)
		goto out;
	log_msg(LOG_INFO, EV ".begin", "{s:s,s:s,s:s,s:b,s:s}", "authority",
	    a->id, "ek", urn, "device", dev_id, "ekCertVerified", verified,
	    "requestId", request_id != NULL ? request_id : "");
out:
	explicit_bzero(secret, sizeof(secret));
	free(id);
	free(cred);
	free(enc);
	json_decref(dev);
	ek_owner_clear(&owner);
	att_tpm_clear(&tpm);
	pki_ek_cert_clear(&cert);
	tpm_ak_free(ak);
	tpm_public_free(ek);
	free(urn);
	return rc;
}

/* ---- /secret ------------------------------------------------------- */

/* The session of secret hash id, taken (single use) when it is this
 * team's: one transaction of the volatile database. */
struct session_take {
	const char	*id;
	const char	*team;
	time_t		 now;
	struct store_att_session *out;
};

static enum dv_rc
session_take_tx(struct store_tx *tx, void *arg)
{
	struct session_take *t = arg;

	/* another team's session is not found, and stays untouched */
	return store_att_session_take(tx, t->id, t->team, t->now, t->out);
}

/*
 * Written with the AK certificate and its audit row, in the committer's
 * transaction: the device, unless retired since /attest (FORBIDDEN, and
 * nothing of the operation is stored), is seen (approved -> active) now.
 * Checked here rather than before signing, so that a retirement
 * committed between the check and the certificate cannot leave a live
 * AK certificate for a retired device.
 */
static enum dv_rc
seen_tx(struct store_tx *tx, void *arg)
{
	const struct ca_issue *iss = arg;
	struct store_device dev;
	bool retired;
	enum dv_rc rc;

	if ((rc = store_dev_get(tx, iss->auth->team, iss->row.device_id,
	    &dev)) != DV_OK)
		return rc == DV_ERR_NOT_FOUND ? DV_ERR_FORBIDDEN : rc;
	retired = dev.status == NULL || strcmp(dev.status, "retired") == 0;
	store_device_clear(&dev);
	if (retired)
		return DV_ERR_FORBIDDEN;
	return store_dev_seen(tx, iss->auth->team, iss->row.device_id,
	    dv_now());
}

/* Fixed texts for a session that cannot be used. */
static const char *
session_detail(enum dv_rc rc)
{
	switch (rc) {
	case DV_ERR_UNAUTHORIZED:
		return "no pending activation has this secret";
	case DV_ERR_TOKEN_REUSED:
		return "this activation secret was used already";
	case DV_ERR_TOKEN_EXPIRED:
		return "the activation expired; attest again";
	default:
		return "the activation could not be completed";
	}
}

/* {"chain": [leaf, intermediate]} as standard base64 DER. */
static enum dv_rc
chain_response(struct ca_authority *a, const uint8_t *der, size_t len,
    json_t **out)
{
	uint8_t *ider = NULL;
	size_t ilen;
	char *l = NULL, *i = NULL;
	json_t *chain;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_cert_to_der(a->inter, &ider, &ilen)) == DV_OK &&
	    (rc = pki_b64_encode(der, len, &l)) == DV_OK &&
	    (rc = pki_b64_encode(ider, ilen, &i)) == DV_OK) {
		if ((chain = json_array()) == NULL)
			abort();
		json_array_append_new(chain, b64_json(l));
		json_array_append_new(chain, b64_json(i));
		if ((*out = json_object()) == NULL)
			abort();
		json_object_set_new_nocheck(*out, "chain", chain);
	}
	free(ider);
	free(l);
	free(i);
	return rc;
}

enum dv_rc
ca_attest_finish(struct ca_authority *a, const uint8_t *secret, size_t len,
    const char *request_id, struct ca_issue **out, const char **detail)
{
	struct store_att_session s;
	struct pki_ak_profile p;
	struct pki_sans sans = { 0 };
	struct ca_issue *iss = NULL;
	struct session_take take;
	uint8_t md[32];
	json_t *j;
	char *id = NULL;
	time_t now = dv_now();
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	memset(&s, 0, sizeof(s));
	if (a->kind != CA_ATTESTATION || a->att == NULL) {
		*detail = "this authority does not attest TPMs";
		return DV_ERR_NOT_FOUND;
	}
	if (len != DV_ATT_SECRET_LEN) {
		refuse(a, NULL, "spec §2.4: the secret is not 32 bytes");
		*detail = "the secret must be the 32 bytes ActivateCredential "
		    "returned";
		return DV_ERR_MALFORMED;
	}
	pki_sha256(secret, len, md);
	id = hex_encode(md, sizeof(md));

	/*
	 * The session, taken first (single use; of two /secret requests
	 * with one secret, one wins): nothing is signed for a bad secret.
	 * A failure after this point costs the client a new /attest.
	 */
	take.id = id;
	take.team = a->team;
	take.now = now;
	take.out = &s;
	rc = store_write_volatile(a->ca->store, session_take_tx, &take);
	if (rc == DV_ERR_NOT_FOUND)
		rc = DV_ERR_UNAUTHORIZED;
	if (rc != DV_OK) {
		refuse(a, NULL, session_detail(rc));
		*detail = session_detail(rc);
		goto out;
	}
	/* built here, signed by the committer with the rest of its batch */
	memset(&p, 0, sizeof(p));
	p.ek_urn = s.ek_urn;
	p.manufacturer = s.tpm_manufacturer;
	p.model = s.tpm_model;
	p.version = s.tpm_version;
	p.not_before = now - AK_BACKDATE;
	p.not_after = now + a->att->ak_lifetime;
	p.crl_url = a->crl_url;
	p.ocsp_url = a->ocsp_url;
	p.issuer_url = a->issuer_url;
	iss = ca_issue_new(a, request_id);
	if ((rc = pki_akcert_build(a->inter, &p, s.ak_spki, s.ak_spki_len,
	    &iss->cert)) != DV_OK || (rc = ca_issue_tbs(a, iss)) != DV_OK) {
		*detail = "the AK certificate could not be issued";
		goto out;
	}

	/* stored and audited like every certificate (issue.c issue_fill) */
	iss->row.serial = pki_cert_serial_dec(iss->cert);
	iss->row.authority = xstrdup(a->id);
	iss->row.subject = pki_cert_subject(iss->cert);
	if (iss->row.subject == NULL)
		iss->row.subject = xstrdup("");
	/*
	 * The row's names as pki_cert_sans(x) would read them back, without
	 * decoding the extension just encoded: the AK profile's only URI is
	 * the EK URN, and devid records no directoryName (pki_sans).
	 */
	if ((rc = pki_sans_add(&sans, PKI_SAN_URI, s.ek_urn)) != DV_OK)
		goto out;
	j = pki_sans_to_json(&sans);
	iss->row.sans = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	iss->row.not_before = pki_cert_not_before(iss->cert);
	iss->row.not_after = pki_cert_not_after(iss->cert);
	iss->row.device_id = s.device_id;
	s.device_id = NULL;
	iss->actor = xasprintf("tpm:%s", s.ek_urn);
	j = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s}", "type", "ak", "ekUrn",
	    s.ek_urn, "deviceId", iss->row.device_id, "tpmManufacturer",
	    s.tpm_manufacturer, "tpmModel", s.tpm_model, "tpmVersion",
	    s.tpm_version);
	iss->detail = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	iss->audit.team = a->team;
	iss->audit.actor = iss->actor;
	iss->audit.action = "cert.issue";
	iss->audit.object = iss->row.serial;
	iss->audit.request_id = iss->request_id;
	iss->audit.detail = iss->detail;
	/* certificate, audit and last-seen: one durable transaction */
	iss->also = seen_tx;
	iss->also_arg = iss;
	*out = iss;
	iss = NULL;
out:
	ca_issue_free(iss);
	store_att_session_clear(&s);
	pki_sans_clear(&sans);
	free(id);
	return rc;
}

enum dv_rc
ca_attest_answer(const struct ca_issue *iss, json_t **out,
    const char **detail)
{
	struct ca_authority *a = iss->auth;
	/* iss->actor is "tpm:" and the EK URN */
	const char *urn = iss->actor + 4;
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (iss->rc == DV_ERR_FORBIDDEN) {
		refuse(a, urn, "the EK's device was retired");
		*detail = "the device holding this EK is retired";
		return iss->rc;
	}
	if (iss->rc != DV_OK) {
		*detail = "the AK certificate could not be stored";
		return iss->rc;
	}
	if ((rc = chain_response(a, iss->der, iss->derlen, out)) != DV_OK)
		return rc;
	log_msg(LOG_INFO, EV ".issued", "{s:s,s:s,s:s,s:s}", "authority",
	    a->id, "ek", urn, "device", iss->row.device_id, "serial",
	    iss->row.serial);
	return DV_OK;
}
