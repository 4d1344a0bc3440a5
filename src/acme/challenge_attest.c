/*
 * challenge_attest.c - device-attest-01 (draft-ietf-acme-device-attest-09,
 * spec/attestation.md §6.2-6.3, §12): the provisioner options, the
 * permanent-identifier orders, the synchronous validation of the
 * attestation object (no network I/O, so no validator thread) and the
 * binding of the attested key to the CSR at finalize.
 *
 * As step-ca does, a failed verification is stored on the challenge
 * (invalid, with its problem) and the POST still answers 200 with the
 * challenge; the checks map to distinct problems:
 *   attObj missing, undecodable, format not enabled, statement refused
 *   ...................................... badAttestationStatement
 *   attested identifiers do not include the order's .. rejectedIdentifier
 *   identifier not a device of the team, or retired ........ unauthorized
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"
#include "attest/attest.h"

/* ---- configuration -------------------------------------------------- */

static bool
cfg_fail(const struct prov *p, const char *detail)
{
	log_msg(LOG_ERR, "acme.config", "{s:s,s:s}", "provisioner",
	    prov_get_name(p), "detail", detail);
	return false;
}

bool
acme_attest_cfg_load(const struct prov *p, struct acme_cfg *out)
{
	const json_t *j = prov_get_json(p), *v;
	const char *key;
	json_t *e;
	size_t i, k;

	out->att_formats = (1u << ATT_FMT__MAX) - 1;
	out->att_roots = NULL;
	if ((v = json_object_get(j, "attestationFormats")) != NULL) {
		if (!json_is_array(v))
			return cfg_fail(p, "attestationFormats is not an "
			    "array");
		out->att_formats = 0;
		json_array_foreach(v, i, e) {
			for (k = 0; k < ATT_FMT__MAX; k++)
				if (json_is_string(e) && strcasecmp(
				    json_string_value(e),
				    att_fmt_name((enum att_fmt)k)) == 0)
					break;
			if (k == ATT_FMT__MAX)
				return cfg_fail(p, "attestationFormats: "
				    "formats are tpm, apple and step");
			out->att_formats |= 1u << k;
		}
	}
	if ((v = json_object_get(j, "attestationRoots")) != NULL) {
		if (!json_is_object(v))
			return cfg_fail(p, "attestationRoots is not an "
			    "object");
		json_object_foreach((json_t *)v, key, e)
			if ((strcmp(key, "apple") != 0 &&
			    strcmp(key, "step") != 0) || !json_is_string(e))
				return cfg_fail(p, "attestationRoots: "
				    "{\"apple\"|\"step\": PEM file}");
		out->att_roots = v;
	}
	return true;
}

/* ---- newOrder ------------------------------------------------------- */

bool
acme_attest_order_has_device(const json_t *ids)
{
	const json_t *e;
	const char *t;
	size_t i;

	json_array_foreach(ids, i, e)
		if ((t = json_get_str(e, "type")) != NULL &&
		    strcmp(t, "permanent-identifier") == 0)
			return true;
	return false;
}

/* A device order: one authorization with one challenge. */
struct device_order {
	struct store_acme_order o;
	struct store_acme_authz z;
	struct store_acme_chall ch;
	bool		 replaced;	/* out: alreadyReplaced */
};

static enum dv_rc
device_order_tx(struct store_tx *tx, void *arg)
{
	struct device_order *d = arg;
	enum dv_rc rc;

	if ((rc = acme_replaces_tx(tx, &d->o, &d->replaced)) != DV_OK ||
	    (rc = store_acme_order_insert(tx, &d->o)) != DV_OK ||
	    (rc = store_acme_authz_insert(tx, &d->z)) != DV_OK)
		return rc;
	return store_acme_chall_insert(tx, &d->ch);
}

void
acme_attest_order_new(struct acme_ctx *c, const json_t *ids,
    const char *replaces, time_t nb, time_t na)
{
	struct device_order d;
	struct store_acme_order *o = &d.o;
	struct store_acme_authz *z = &d.z;
	struct store_acme_chall *ch = &d.ch;
	const char *type = NULL, *value = NULL;
	json_t *norm = NULL;
	json_error_t err;
	time_t now = dv_now();

	memset(&d, 0, sizeof(d));
	if (!c->cfg.chall[ACME_CH_DEVICE_ATTEST01]) {
		acme_fail(c, ACME_ERR_UNSUPPORTED_IDENTIFIER, "this "
		    "provisioner does not offer device-attest-01");
		goto out;
	}
	/* one device per certificate: its identifier is the only SAN */
	if (json_array_size(ids) != 1 ||
	    json_unpack_ex((json_t *)json_array_get(ids, 0), &err,
	    JSON_STRICT, "{s:s,s:s}", "type", &type, "value", &value) != 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "a permanent-identifier order "
		    "has exactly one {type, value} identifier");
		goto out;
	}
	if (value[0] == '\0' || strlen(value) > DV_ATT_MAX_DEVICE_ID) {
		acme_fail(c, ACME_ERR_MALFORMED, "the permanent identifier is "
		    "empty or too long");
		goto out;
	}
	norm = json_pack("[{s:s,s:s}]", "type", "permanent-identifier",
	    "value", value);
	if (replaces != NULL && !acme_replaces_check(c, replaces, norm))
		goto out;
	o->replaces = (char *)replaces;
	o->id = acme_id_new();
	o->prov = c->provid;
	o->account_id = c->acct.id;
	o->status = "pending";
	o->identifiers = json_dumps(norm, JSON_COMPACT);
	o->not_before = nb;
	o->not_after = na;
	o->expires_at = now + ACME_ORDER_LIFETIME;
	o->created_at = now;
	z->id = acme_id_new();
	z->order_id = o->id;
	z->account_id = c->acct.id;
	z->ident_type = "permanent-identifier";
	z->ident_value = (char *)value;
	z->status = "pending";
	z->expires_at = o->expires_at;
	ch->id = acme_id_new();
	ch->authz_id = z->id;
	ch->type = (char *)acme_ch_names[ACME_CH_DEVICE_ATTEST01];
	ch->token = acme_id_new();
	ch->status = "pending";
	if (store_write(c->store, device_order_tx, &d) != DV_OK) {
		if (d.replaced)
			acme_fail(c, ACME_ERR_ALREADY_REPLACED, "another order "
			    "already replaces this certificate (RFC 9773 §5)");
		else
			acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	log_msg(LOG_INFO, "acme.order", "{s:s,s:s,s:s,s:s}", "provisioner",
	    c->provid, "account", c->acct.id, "order", o->id, "type",
	    "permanent-identifier");
	c->resp->status = 201;
	c->resp->location = acme_url(c, "/order/", o->id);
	c->resp->json = acme_order_json(c, o, z, 1);
out:
	free(o->id);
	free(o->identifiers);
	free(z->id);
	free(ch->id);
	free(ch->token);
	json_decref(norm);
}

/* ---- validation ----------------------------------------------------- */

/* The roots of the format: the team's Attestation CA for tpm (borrowed
 * from the authority); for apple and step the configured PEM file, else
 * the built-in vendor roots (new, also in *owned to be freed).  NULL when
 * none can be read. */
static const struct pki_trust *
roots_for(struct acme_ctx *c, enum att_fmt f, struct pki_trust **owned)
{
	struct ca_authority *a;
	const char *path = NULL, *builtin;
	uint8_t *pem = NULL;
	size_t len = 0;
	enum dv_rc rc;

	*owned = NULL;
	if (f == ATT_FMT_TPM) {
		a = ca_find(c->auth->ca, c->auth->team,
		    ca_kind_name(CA_ATTESTATION));
		return a != NULL ? a->trust : NULL;
	}
	if (c->cfg.att_roots != NULL)
		path = json_get_str(c->cfg.att_roots, att_fmt_name(f));
	*owned = pki_trust_new();
	if (path == NULL) {
		if ((builtin = att_default_roots_pem(f)) == NULL)
			rc = DV_ERR_NOT_FOUND;
		else
			rc = pki_trust_add_roots_pem(*owned, builtin,
			    strlen(builtin));
	} else if ((rc = file_read(path, 8 * DV_MAX_PEM, &pem, &len)) ==
	    DV_OK) {
		/* a bundle of a few roots */
		rc = pki_trust_add_roots_pem(*owned, (const char *)pem, len);
		free(pem);
	} else
		log_msg(LOG_ERR, "acme.attest.roots", "{s:s,s:s}", "format",
		    att_fmt_name(f), "path", path);
	if (rc != DV_OK) {
		pki_trust_free(*owned);
		*owned = NULL;
	}
	return *owned;
}

/* Sets key_sha256 on a pending authorization. */
static enum dv_rc
key_tx(struct store_tx *tx, void *arg)
{
	const char **a = arg;
	struct store_acme_authz z;
	enum dv_rc rc;

	if ((rc = store_acme_authz_get(tx, a[0], &z)) != DV_OK)
		return rc;
	if (strcmp(z.status, "pending") == 0) {
		free(z.key_sha256);
		z.key_sha256 = xstrdup(a[1]);
		rc = store_acme_authz_update(tx, &z);
	}
	store_acme_authz_clear(&z);
	return rc;
}

/* Checks the identifier against the team's inventory: ACME_ERR_NONE
 * with *device_id (new) for an approved or active device, else the
 * problem's type with *detail. */
static enum acme_err
device_check(struct acme_ctx *c, const char *value, char **device_id,
    const char **detail)
{
	json_t *dev = NULL;
	const char *st, *id;
	enum acme_err e = ACME_ERR_NONE;
	enum dv_rc rc;

	*device_id = NULL;
	rc = inv_device_by_identifier(c->auth->ca->inv, c->auth->team, value,
	    &dev);
	if (rc == DV_ERR_NOT_FOUND) {
		e = ACME_ERR_UNAUTHORIZED;
		*detail = "the identifier is not a registered device of the "
		    "team";
		goto out;
	}
	if (rc != DV_OK) {
		e = ACME_ERR_SERVER_INTERNAL;
		*detail = "the inventory is unavailable";
		goto out;
	}
	st = json_get_str(dev, "status");
	id = json_get_str(dev, "id");
	if (st == NULL || id == NULL || (strcmp(st, "approved") != 0 &&
	    strcmp(st, "active") != 0)) {
		e = ACME_ERR_UNAUTHORIZED;
		*detail = st != NULL && strcmp(st, "retired") == 0 ? "the "
		    "device is retired" : "the device is not approved";
		goto out;
	}
	*device_id = xstrdup(id);
out:
	json_decref(dev);
	return e;
}

/* Runs the checks: ACME_ERR_NONE with *key (hex SHA-256 of the attested
 * SPKI, new) or the problem's type and detail. */
static enum acme_err
attest_check(struct acme_ctx *c, const struct store_acme_authz *z,
    const struct store_acme_chall *ch, char **key, const char **detail)
{
	struct att_object *obj = NULL;
	struct att_result r;
	struct att_params p;
	struct pki_trust *owned = NULL;
	const char *b64 = NULL;
	uint8_t *cbor = NULL;
	size_t len = 0;
	char *ka = NULL, *dev = NULL;
	enum acme_err e = ACME_ERR_BAD_ATTESTATION_STATEMENT;
	enum dv_rc rc;

	*key = NULL;
	memset(&r, 0, sizeof(r));
	/* clients MAY add fields: only attObj is read (draft §5) */
	if (c->payload == NULL || (b64 = json_get_str(c->payload, "attObj"))
	    == NULL || b64[0] == '\0' ||
	    strlen(b64) > (DV_ATT_MAX_OBJECT / 3 + 1) * 4 ||
	    jws_b64url_decode(b64, &cbor, &len) != DV_OK) {
		*detail = "the payload needs attObj, base64url of an "
		    "attestation object";
		goto out;
	}
	if (att_object_parse(cbor, len, &obj) != DV_OK) {
		*detail = "the attestation object is not valid";
		goto out;
	}
	if ((c->cfg.att_formats & (1u << obj->fmt)) == 0) {
		*detail = "this attestation format is not enabled";
		goto out;
	}
	ka = xasprintf("%s.%s", ch->token, c->thumbprint);
	memset(&p, 0, sizeof(p));
	p.token = ch->token;
	p.key_auth = ka;
	switch (obj->fmt) {
	case ATT_FMT_TPM:
		p.tpm_roots = roots_for(c, obj->fmt, &owned);
		break;
	case ATT_FMT_APPLE:
		p.apple_roots = roots_for(c, obj->fmt, &owned);
		break;
	default:
		p.step_roots = roots_for(c, obj->fmt, &owned);
		break;
	}
	if ((rc = att_verify(obj, &p, &r)) != DV_OK) {
		if (rc == DV_ERR_ATT_NO_ROOTS) {
			e = ACME_ERR_SERVER_INTERNAL;
			*detail = "no trust roots are configured for this "
			    "attestation format";
		} else if (rc == DV_ERR_ATT_KEYAUTH)
			*detail = "the statement does not cover the key "
			    "authorization";
		else if (rc == DV_ERR_ATT_CHAIN)
			*detail = "the attestation chain is not trusted";
		else
			*detail = "the attestation statement was refused";
		goto out;
	}
	if (!att_result_has_id(&r, z->ident_value)) {
		e = ACME_ERR_REJECTED_IDENTIFIER;
		*detail = "permanent identifier does not match the attested "
		    "device";
		goto out;
	}
	if ((e = device_check(c, z->ident_value, &dev, detail)) !=
	    ACME_ERR_NONE)
		goto out;
	*key = hex_encode(r.spki_sha256, sizeof(r.spki_sha256));
	log_msg(LOG_INFO, "acme.attest", "{s:s,s:s,s:s,s:s,s:s}",
	    "provisioner", c->provid, "authz", z->id, "format",
	    att_fmt_name(r.fmt), "device", dev, "key", r.fingerprint);
	e = ACME_ERR_NONE;
out:
	if (e != ACME_ERR_NONE)
		log_msg(LOG_INFO, "acme.attest", "{s:s,s:s,s:s}",
		    "provisioner", c->provid, "authz", z->id, "reason",
		    *detail);
	att_result_clear(&r);
	att_object_free(obj);
	pki_trust_free(owned);
	free(cbor);
	free(ka);
	free(dev);
	return e;
}

void
acme_attest_validate(struct acme_ctx *c, const struct store_acme_authz *z,
    struct store_acme_chall *ch)
{
	const char *detail = NULL, *a[2];
	json_t *prob = NULL, *sub;
	char *key = NULL;
	enum acme_err e;
	bool ok;

	e = attest_check(c, z, ch, &key, &detail);
	if (e == ACME_ERR_NONE) {
		a[0] = z->id;
		a[1] = key;
		if (store_write(c->store, key_tx, a) != DV_OK) {
			e = ACME_ERR_SERVER_INTERNAL;
			detail = "the attested key could not be stored";
		}
	}
	ok = e == ACME_ERR_NONE;
	if (!ok) {
		prob = acme_problem_json(e, detail);
		if (e == ACME_ERR_REJECTED_IDENTIFIER) {
			/* step-ca: badAttestationStatement with the
			 * identifier as a subproblem */
			sub = prob;
			prob = acme_problem_json(
			    ACME_ERR_BAD_ATTESTATION_STATEMENT, detail);
			json_object_set_new(sub, "identifier", json_pack(
			    "{s:s,s:s}", "type", "permanent-identifier",
			    "value", z->ident_value));
			json_object_set_new(prob, "subproblems",
			    json_pack("[o]", sub));
		}
	}
	if (acme_chall_result(c->store, ch->id, ok, prob) != DV_OK) {
		json_decref(prob);
		prob = acme_problem_json(ACME_ERR_SERVER_INTERNAL, "the "
		    "validation could not be stored");
	}
	free(ch->status);
	ch->status = xstrdup(ok ? "valid" : "invalid");
	ch->validated_at = ok ? dv_now() : 0;
	free(ch->error);
	ch->error = prob != NULL ? json_dumps(prob, JSON_COMPACT) : NULL;
	json_decref(prob);
	free(key);
}

/* ---- finalize ------------------------------------------------------- */

bool
acme_attest_csr_check(struct acme_ctx *c, const struct store_acme_authz *z,
    const struct pki_csr *csr, char **device_id)
{
	uint8_t md[32];
	const char *detail = NULL;
	char *hex = NULL;
	enum acme_err e;
	bool ok = false;

	*device_id = NULL;
	/* spec §12: the CN is empty or the identifier; SANs are not
	 * copied */
	if (csr->cn != NULL && strcmp(csr->cn, z->ident_value) != 0) {
		acme_fail(c, ACME_ERR_BAD_CSR, "the CSR common name is not the "
		    "permanent identifier");
		goto out;
	}
	pki_sha256(csr->spki, csr->spkilen, md);
	hex = hex_encode(md, sizeof(md));
	if (z->key_sha256 == NULL || strcmp(hex, z->key_sha256) != 0) {
		log_msg(LOG_INFO, "acme.finalize", "{s:s,s:s,s:s}",
		    "provisioner", c->provid, "authz", z->id, "reason",
		    "spec §12: CSR key is not the attested key");
		acme_fail(c, ACME_ERR_BAD_CSR, "the CSR key is not the "
		    "attested key");
		goto out;
	}
	/* the device may have been retired since the challenge */
	if ((e = device_check(c, z->ident_value, device_id, &detail)) !=
	    ACME_ERR_NONE) {
		acme_fail(c, e, detail);
		goto out;
	}
	ok = true;
out:
	free(hex);
	return ok;
}
