/*
 * device.c - devices and their permanent identifiers (inv.h): parsing and
 * checking of device bodies, then the store writes inside one transaction
 * with their audit rows (rule 22: parse, check, act).
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "inv_int.h"

#define EV	"inv.device"

/* RFC 5280 reason code cessationOfOperation (§5.3.1). */
#define REASON_CESSATION	5

enum ident_type {
	IDENT_EK,
	IDENT_EK_CERT,
	IDENT_SERIAL,
	IDENT_UDID,
	IDENT_YUBIKEY,
	IDENT__MAX
};

static const char *const ident_names[IDENT__MAX] = {
	[IDENT_EK] = "ek",
	[IDENT_EK_CERT] = "ek-cert",
	[IDENT_SERIAL] = "serial",
	[IDENT_UDID] = "udid",
	[IDENT_YUBIKEY] = "yubikey-serial",
};

/* Device kinds (issue 3: laptop, VM, phone, server, IoT, and neighbours). */
static const char *const kinds[] = {
	"laptop", "desktop", "server", "vm", "phone", "tablet", "iot",
	"other", NULL
};

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

static void
lower(char *s)
{
	for (; *s != '\0'; s++)
		*s = (char)tolower((unsigned char)*s);
}

/* A token of [a-z0-9._-] from 1 to max bytes. */
static bool
token_ok(const char *s, size_t max)
{
	size_t n = strlen(s);

	return n > 0 && n <= max && strspn(s, "abcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

/* "manual", "api", "aws", "gcp", "azure" or "mdm:<token>". */
static bool
source_ok(const char *s)
{
	static const char *const fixed[] = { "manual", "api", "aws", "gcp",
	    "azure", NULL };

	if (strncmp(s, "mdm:", 4) == 0)
		return token_ok(s + 4, 64);
	return in_list(s, fixed);
}

/* ---- identifiers --------------------------------------------------- */

static bool
is_pem(const char *s)
{
	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	return strncmp(s, "-----BEGIN ", 11) == 0;
}

/* Base64 text (whitespace allowed) to new DER bytes. */
static enum dv_rc
b64_der(const char *v, uint8_t **der, size_t *len)
{
	return pki_b64_decode(v, strlen(v), der, len);
}

/*
 * Parses one identifier {type, value} into out (new strings).  *why is a
 * fixed text on failure.
 */
static enum dv_rc
ident_parse(const char *type, const char *value, struct store_ident *out,
    const char **why)
{
	struct pki_ek_cert ek;
	uint8_t *der = NULL;
	size_t len = 0, n = strlen(value), i;
	enum dv_rc rc = DV_OK;
	int t;

	memset(out, 0, sizeof(*out));
	*why = NULL;
	for (t = 0; t < IDENT__MAX; t++)
		if (strcmp(type, ident_names[t]) == 0)
			break;
	if (t == IDENT__MAX) {
		*why = "unknown type (ek, ek-cert, serial, udid, "
		    "yubikey-serial)";
		return DV_ERR_MALFORMED;
	}
	if (n == 0 || n > DV_MAX_PEM) {
		*why = "value empty or too long";
		return DV_ERR_MALFORMED;
	}
	switch (t) {
	case IDENT_EK:
		if (strncmp(value, PKI_EK_URN_PREFIX,
		    sizeof(PKI_EK_URN_PREFIX) - 1) == 0) {
			if (!pki_ek_urn_valid(value)) {
				*why = "not an EK URN (urn:ek:sha256:<base64 "
				    "of 32 bytes>)";
				return DV_ERR_MALFORMED;
			}
			out->value = xstrdup(value);
		} else if (is_pem(value))
			rc = pki_ek_pub_urn((const uint8_t *)value, n, false,
			    &out->value);
		else if ((rc = b64_der(value, &der, &len)) == DV_OK)
			rc = pki_ek_pub_urn(der, len, true, &out->value);
		if (rc != DV_OK)
			*why = rc == DV_ERR_BAD_KEY ? "not an RSA or EC public "
			    "key" : "not a PEM or base64 DER public key";
		break;
	case IDENT_EK_CERT:
		if (is_pem(value))
			rc = pki_ek_cert_parse((const uint8_t *)value, n,
			    false, &ek);
		else if ((rc = b64_der(value, &der, &len)) == DV_OK)
			rc = pki_ek_cert_parse(der, len, true, &ek);
		if (rc != DV_OK) {
			*why = rc == DV_ERR_BAD_KEY ? "certificate key is "
			    "not an RSA or EC key" : "not a PEM or base64 DER "
			    "EK certificate";
			break;
		}
		out->value = ek.urn;
		out->tpm_manufacturer = ek.manufacturer;
		out->tpm_model = ek.model;
		out->tpm_version = ek.version;
		out->certificate = ek.pem;
		break;
	case IDENT_SERIAL:
		if (n > DV_INV_MAX_FIELD || !str_printable(value, n)) {
			*why = "serial must be printable ASCII";
			return DV_ERR_MALFORMED;
		}
		out->value = xstrdup(value);
		break;
	case IDENT_UDID:
		/* Apple: 40 hex digits, or 8-16 with a dash (A12 on) */
		if (n > 64 || strspn(value, "0123456789abcdefABCDEF-") != n) {
			*why = "UDID must be hex digits and dashes";
			return DV_ERR_MALFORMED;
		}
		out->value = xstrdup(value);
		for (i = 0; i < n; i++)
			out->value[i] = (char)toupper(
			    (unsigned char)out->value[i]);
		break;
	case IDENT_YUBIKEY:
		if (n > 10 || strspn(value, "0123456789") != n) {
			*why = "YubiKey serial must be decimal digits";
			return DV_ERR_MALFORMED;
		}
		out->value = xstrdup(value);
		break;
	}
	free(der);
	if (rc != DV_OK) {
		free(out->value);
		out->value = NULL;
		return rc == DV_ERR_TOO_LARGE ? rc : DV_ERR_MALFORMED;
	}
	out->type = xstrdup(ident_names[t]);
	return DV_OK;
}

/* ---- device bodies ------------------------------------------------- */

void
inv_dev_in_clear(struct inv_dev_in *in)
{
	size_t i;

	if (in == NULL)
		return;
	free(in->name);
	free(in->owner);
	free(in->os);
	free(in->kind);
	free(in->source);
	free(in->status);
	json_decref(in->tags);
	json_decref(in->posture);
	store_idents_free(in->ids, in->nids);
	for (i = 0; i < in->nrm; i++)
		free(in->rm[i]);
	free(in->rm);
	memset(in, 0, sizeof(*in));
}

static const char *const members_add[] = { "name", "owner", "os", "kind",
	"source", "status", "identifiers", "tags", NULL };
static const char *const members_patch[] = { "name", "owner", "os", "kind",
	"status", "tags", "posture", "addIdentifiers", "removeIdentifiers",
	NULL };

/* Reads an optional string member into *out (new), checked by inv_text_ok. */
static enum dv_rc
member_str(const json_t *body, const char *key, size_t max, char **out,
    char **detail)
{
	const json_t *v;

	*out = NULL;
	if ((v = json_object_get(body, key)) == NULL)
		return DV_OK;
	if (!json_is_string(v) || !inv_text_ok(json_string_value(v), max)) {
		inv_detail(detail, "%s: must be a non-empty string of at most "
		    "%zu bytes without control characters", key, max);
		return DV_ERR_MALFORMED;
	}
	*out = xstrdup(json_string_value(v));
	return DV_OK;
}

static enum dv_rc
parse_tags(const json_t *v, json_t **out, char **detail)
{
	const json_t *t, *u;
	json_t *a;
	size_t i, j;
	bool dup;

	*out = NULL;
	if (!json_is_array(v) || json_array_size(v) > DV_INV_MAX_TAGS) {
		inv_detail(detail, "tags: must be an array of at most %d "
		    "strings", DV_INV_MAX_TAGS);
		return DV_ERR_MALFORMED;
	}
	a = json_array();
	json_array_foreach(v, i, t) {
		if (!json_is_string(t) || !inv_text_ok(json_string_value(t),
		    DV_INV_MAX_TAG) || strchr(json_string_value(t), ';') !=
		    NULL) {
			json_decref(a);
			inv_detail(detail, "tags[%zu]: must be 1 to %d bytes, "
			    "no control characters nor ';'", i,
			    DV_INV_MAX_TAG);
			return DV_ERR_MALFORMED;
		}
		dup = false;
		json_array_foreach(a, j, u)
			if (strcmp(json_string_value(u),
			    json_string_value(t)) == 0)
				dup = true;
		if (!dup)
			json_array_append_new(a, json_string(
			    json_string_value(t)));
	}
	*out = a;
	return DV_OK;
}

static enum dv_rc
parse_idents(const json_t *v, const char *key, struct inv_dev_in *out,
    char **detail)
{
	const char *type, *value, *why;
	const json_t *e;
	enum dv_rc rc;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > DV_INV_MAX_IDENTIFIERS) {
		inv_detail(detail, "%s: must be an array of at most %d "
		    "identifiers", key, DV_INV_MAX_IDENTIFIERS);
		return DV_ERR_MALFORMED;
	}
	out->ids = xcalloc(json_array_size(v) + 1, sizeof(*out->ids));
	json_array_foreach(v, i, e) {
		if (json_unpack((json_t *)e, "{s:s,s:s!}", "type", &type,
		    "value", &value) != 0) {
			inv_detail(detail, "%s[%zu]: must be {\"type\", "
			    "\"value\"} strings", key, i);
			return DV_ERR_MALFORMED;
		}
		rc = ident_parse(type, value, &out->ids[i], &why);
		if (rc != DV_OK) {
			inv_detail(detail, "%s[%zu]: %s", key, i, why);
			return rc;
		}
		out->nids = i + 1;
	}
	return DV_OK;
}

static enum dv_rc
parse_removals(const json_t *v, struct inv_dev_in *out, char **detail)
{
	const json_t *e;
	size_t i;

	if (!json_is_array(v) || json_array_size(v) > DV_INV_MAX_IDENTIFIERS) {
		inv_detail(detail, "removeIdentifiers: must be an array of at "
		    "most %d values", DV_INV_MAX_IDENTIFIERS);
		return DV_ERR_MALFORMED;
	}
	out->rm = xcalloc(json_array_size(v) + 1, sizeof(*out->rm));
	json_array_foreach(v, i, e) {
		if (!json_is_string(e) || !inv_text_ok(json_string_value(e),
		    DV_MAX_PEM)) {
			inv_detail(detail, "removeIdentifiers[%zu]: must be "
			    "a stored identifier value", i);
			return DV_ERR_MALFORMED;
		}
		out->rm[out->nrm++] = xstrdup(json_string_value(e));
	}
	return DV_OK;
}

enum dv_rc
inv_dev_parse(const json_t *body, enum inv_mode mode, struct inv_dev_in *out,
    char **detail)
{
	struct inv_dev_in in = { 0 };
	const char *key, *at;
	const json_t *v;
	char *text;
	enum dv_rc rc;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(body)) {
		inv_detail(detail, "the device must be a JSON object");
		return DV_ERR_MALFORMED;
	}
	json_object_foreach((json_t *)body, key, v) {
		if (!in_list(key, mode == INV_MODE_PATCH ? members_patch :
		    members_add)) {
			/* the key is untrusted: not echoed (rule 12) */
			inv_detail(detail, "unknown member in the device");
			return DV_ERR_MALFORMED;
		}
	}
	if ((rc = member_str(body, "name", DV_INV_MAX_FIELD, &in.name,
	    detail)) != DV_OK ||
	    (rc = member_str(body, "owner", DV_INV_MAX_FIELD, &in.owner,
	    detail)) != DV_OK ||
	    (rc = member_str(body, "os", 64, &in.os, detail)) != DV_OK ||
	    (rc = member_str(body, "kind", 64, &in.kind, detail)) != DV_OK ||
	    (rc = member_str(body, "source", 80, &in.source, detail)) !=
	    DV_OK ||
	    (rc = member_str(body, "status", 16, &in.status, detail)) != DV_OK)
		goto err;
	rc = DV_ERR_MALFORMED;
	if (mode == INV_MODE_ADD && in.name == NULL) {
		inv_detail(detail, "name: required");
		goto err;
	}
	if (in.owner != NULL && ((at = strchr(in.owner, '@')) == NULL ||
	    at == in.owner || at[1] == '\0' || strchr(at + 1, '@') != NULL)) {
		inv_detail(detail, "owner: must be an email address");
		goto err;
	}
	if (in.os != NULL) {
		lower(in.os);
		if (!token_ok(in.os, 64)) {
			inv_detail(detail, "os: must be a word of letters, "
			    "digits, '.', '_' or '-'");
			goto err;
		}
	}
	if (in.kind != NULL) {
		lower(in.kind);
		if (!in_list(in.kind, kinds)) {
			inv_detail(detail, "kind: must be one of laptop, "
			    "desktop, server, vm, phone, tablet, iot, other");
			goto err;
		}
	}
	if (in.source != NULL && !source_ok(in.source)) {
		inv_detail(detail, "source: must be manual, api, aws, gcp, "
		    "azure or mdm:<name>");
		goto err;
	}
	if (in.status != NULL && strcmp(in.status, "pending") != 0 &&
	    strcmp(in.status, "approved") != 0) {
		inv_detail(detail, "status: must be pending or approved "
		    "(retire a device to retire it)");
		goto err;
	}
	if ((v = json_object_get(body, "tags")) != NULL &&
	    (rc = parse_tags(v, &in.tags, detail)) != DV_OK)
		goto err;
	if ((v = json_object_get(body, "posture")) != NULL) {
		rc = DV_ERR_MALFORMED;
		text = json_is_object(v) ? inv_json_text(v) : NULL;
		if (text == NULL || strlen(text) > DV_INV_MAX_POSTURE) {
			free(text);
			inv_detail(detail, "posture: must be an object of at "
			    "most %d bytes", DV_INV_MAX_POSTURE);
			goto err;
		}
		free(text);
		in.posture = json_deep_copy(v);
	}
	key = mode == INV_MODE_PATCH ? "addIdentifiers" : "identifiers";
	if ((v = json_object_get(body, key)) != NULL &&
	    (rc = parse_idents(v, key, &in, detail)) != DV_OK)
		goto err;
	if (mode != INV_MODE_PATCH && in.nids == 0) {
		inv_detail(detail, "identifiers: at least one is required");
		rc = DV_ERR_MALFORMED;
		goto err;
	}
	if ((v = json_object_get(body, "removeIdentifiers")) != NULL &&
	    (rc = parse_removals(v, &in, detail)) != DV_OK)
		goto err;
	*out = in;
	return DV_OK;
err:
	inv_dev_in_clear(&in);
	return rc;
}

/* ---- JSON ---------------------------------------------------------- */

enum dv_rc
inv_dev_json(struct store_tx *tx, const struct store_device *d, json_t **out)
{
	struct store_ident *ids = NULL;
	json_t *j, *a, *e, *colls = NULL;
	size_t n = 0, i;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = store_ident_list(tx, d->id, &ids, &n)) != DV_OK)
		return rc;
	if ((rc = store_dev_collections(tx, d->team, d->id, &colls)) !=
	    DV_OK) {
		store_idents_free(ids, n);
		return rc;
	}
	a = json_array();
	for (i = 0; i < n; i++) {
		e = json_pack("{s:s,s:s}", "type", ids[i].type, "value",
		    ids[i].value);
		if (ids[i].tpm_manufacturer != NULL)
			json_object_set_new(e, "tpmManufacturer",
			    json_string(ids[i].tpm_manufacturer));
		if (ids[i].tpm_model != NULL)
			json_object_set_new(e, "tpmModel",
			    json_string(ids[i].tpm_model));
		if (ids[i].tpm_version != NULL)
			json_object_set_new(e, "tpmVersion",
			    json_string(ids[i].tpm_version));
		if (ids[i].certificate != NULL)
			json_object_set_new(e, "certificate",
			    json_string(ids[i].certificate));
		json_array_append_new(a, e);
	}
	store_idents_free(ids, n);
	j = json_pack("{s:s,s:s,s:s,s:s?,s:s?,s:s?,s:s,s:s,s:o,s:o,s:o,s:b,"
	    "s:o,s:o,s:o}",
	    "id", d->id, "team", d->team, "name", d->name, "owner", d->owner,
	    "os", d->os, "kind", d->kind, "source", d->source,
	    "status", d->status, "identifiers", a,
	    "tags", json_loads(d->tags, 0, NULL),
	    "posture", d->posture != NULL ? json_loads(d->posture, 0, NULL) :
	    json_object(),
	    "missingFromSource", d->missing,
	    "collections", colls,
	    "createdAt", inv_time_json(d->created_at),
	    "updatedAt", inv_time_json(d->updated_at));
	if (j == NULL) {
		log_msg(LOG_ERR, EV, "{s:s,s:s}", "id", d->id, "error",
		    "stored device does not make JSON");
		return DV_ERR_STORE;
	}
	json_object_set_new(j, "lastSeenAt", inv_time_json(d->last_seen_at));
	*out = j;
	return DV_OK;
}

/* ---- writes -------------------------------------------------------- */

static char *
owner_domain(const char *owner)
{
	const char *at;
	char *d;

	if (owner == NULL || (at = strrchr(owner, '@')) == NULL)
		return NULL;
	d = xstrdup(at + 1);
	lower(d);
	return d;
}

/* Inserts in's identifiers for device id; a duplicate names its holder. */
static enum dv_rc
idents_insert(struct store_tx *tx, const char *team, const char *id,
    const struct store_ident *ids, size_t n, const char *key, char **detail)
{
	char *holder = NULL;
	enum dv_rc rc;
	size_t i;

	for (i = 0; i < n; i++) {
		rc = store_ident_insert(tx, team, id, &ids[i]);
		if (rc != DV_ERR_EXISTS) {
			if (rc != DV_OK)
				return rc;
			continue;
		}
		if (store_ident_owner(tx, team, ids[i].value, &holder) !=
		    DV_OK)
			return DV_ERR_STORE;
		if (strcmp(holder, id) == 0)
			inv_detail(detail, "%s[%zu]: the device has this "
			    "identifier already", key, i);
		else
			inv_detail(detail, "%s[%zu]: identifier is held by "
			    "device %s", key, i, holder);
		free(holder);
		return DV_ERR_EXISTS;
	}
	return DV_OK;
}

static json_t *
ident_values(const struct store_ident *ids, size_t n)
{
	json_t *a = json_array();
	size_t i;

	for (i = 0; i < n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s}", "type",
		    ids[i].type, "value", ids[i].value));
	return a;
}

/* Creates the device of in (name required); *id new. */
static enum dv_rc
dev_create(struct store_tx *tx, const char *team, const struct inv_dev_in *in,
    const struct inv_actor *actor, const char *mark, char **id,
    char **detail)
{
	struct store_device d = { 0 };
	json_t *audit;
	enum dv_rc rc;

	*id = NULL;
	if (in->name == NULL) {
		inv_detail(detail, "name: required for a new device");
		return DV_ERR_MALFORMED;
	}
	d.id = inv_id_time("dev_");
	d.team = (char *)team;
	d.name = in->name;
	d.owner = in->owner;
	d.owner_domain = owner_domain(in->owner);
	d.os = in->os;
	d.kind = in->kind;
	d.source = in->source != NULL ? in->source : "api";
	d.status = in->status != NULL ? in->status : "approved";
	d.tags = in->tags != NULL ? inv_json_text(in->tags) : xstrdup("[]");
	d.posture = in->posture != NULL ? inv_json_text(in->posture) : NULL;
	d.sync_mark = (char *)mark;
	d.created_at = d.updated_at = dv_now();
	if ((rc = store_dev_insert(tx, &d)) != DV_OK)
		goto out;
	if ((rc = idents_insert(tx, team, d.id, in->ids, in->nids,
	    "identifiers", detail)) != DV_OK)
		goto out;
	audit = json_pack("{s:s,s:s,s:s,s:o}", "name", d.name, "source",
	    d.source, "status", d.status, "identifiers",
	    ident_values(in->ids, in->nids));
	rc = inv_audit(tx, team, actor, "device.create", d.id, audit);
	json_decref(audit);
	if (rc == DV_OK) {
		*id = d.id;
		d.id = NULL;
	}
out:
	free(d.id);
	free(d.owner_domain);
	free(d.tags);
	free(d.posture);
	return rc;
}

/* Replaces *slot by a copy of v when v differs; records the field. */
static void
field_set(char **slot, const char *v, const char *name, json_t *changed)
{
	if (v == NULL)
		return;
	if (*slot != NULL && strcmp(*slot, v) == 0)
		return;
	free(*slot);
	*slot = xstrdup(v);
	json_array_append_new(changed, json_string(name));
}

/* Compares JSON texts of two values (NULL a: absent). */
static void
json_field_set(char **slot, const json_t *v, const char *name,
    json_t *changed)
{
	char *t;

	if (v == NULL)
		return;
	t = inv_json_text(v);
	if (*slot != NULL && strcmp(*slot, t) == 0) {
		free(t);
		return;
	}
	free(*slot);
	*slot = t;
	json_array_append_new(changed, json_string(name));
}

/*
 * Applies the given fields of in to d, recording the names of the changed
 * ones in changed.  A retired device keeps its status: asking for another
 * is DV_ERR_FORBIDDEN.
 */
static enum dv_rc
dev_merge(struct store_device *d, const struct inv_dev_in *in,
    json_t *changed, char **detail)
{
	if (in->status != NULL && strcmp(d->status, "retired") == 0) {
		inv_detail(detail, "status: device %s is retired", d->id);
		return DV_ERR_FORBIDDEN;
	}
	/* active is approved and seen: asking for approved changes nothing */
	if (in->status != NULL && !(strcmp(in->status, "approved") == 0 &&
	    strcmp(d->status, "active") == 0))
		field_set(&d->status, in->status, "status", changed);
	field_set(&d->name, in->name, "name", changed);
	if (in->owner != NULL) {
		field_set(&d->owner, in->owner, "owner", changed);
		free(d->owner_domain);
		d->owner_domain = owner_domain(d->owner);
	}
	field_set(&d->os, in->os, "os", changed);
	field_set(&d->kind, in->kind, "kind", changed);
	field_set(&d->source, in->source, "source", changed);
	json_field_set(&d->tags, in->tags, "tags", changed);
	json_field_set(&d->posture, in->posture, "posture", changed);
	return DV_OK;
}

enum dv_rc
inv_dev_upsert(struct store_tx *tx, const char *team,
    const struct inv_dev_in *in, const struct inv_actor *actor,
    const char *mark, enum inv_upsert *result, char **id, char **detail)
{
	struct store_device d = { 0 };
	struct store_ident *fresh;
	json_t *changed = NULL, *audit;
	char *holder = NULL, *found = NULL;
	size_t i, nfresh = 0;
	enum dv_rc rc;

	*result = INV_UPSERT_UNCHANGED;
	*id = NULL;
	fresh = xcalloc(in->nids + 1, sizeof(*fresh));
	for (i = 0; i < in->nids; i++) {
		rc = store_ident_owner(tx, team, in->ids[i].value, &holder);
		if (rc == DV_ERR_NOT_FOUND) {
			/* borrowed: freed with in */
			fresh[nfresh++] = in->ids[i];
			continue;
		}
		if (rc != DV_OK)
			goto out;
		if (found == NULL)
			found = holder;
		else if (strcmp(found, holder) != 0) {
			inv_detail(detail, "identifiers[%zu]: held by device "
			    "%s, another identifier by device %s", i, holder,
			    found);
			free(holder);
			rc = DV_ERR_EXISTS;
			goto out;
		} else
			free(holder);
		holder = NULL;
	}
	if (found == NULL) {
		if ((rc = dev_create(tx, team, in, actor, mark, id, detail)) ==
		    DV_OK)
			*result = INV_UPSERT_CREATED;
		goto out;
	}
	if ((rc = store_dev_get(tx, team, found, &d)) != DV_OK)
		goto out;
	changed = json_array();
	if ((rc = dev_merge(&d, in, changed, detail)) != DV_OK)
		goto out;
	if (d.missing) {
		d.missing = false;
		json_array_append_new(changed, json_string(
		    "missingFromSource"));
	}
	if (nfresh > 0) {
		if ((rc = idents_insert(tx, team, d.id, fresh, nfresh,
		    "identifiers", detail)) != DV_OK)
			goto out;
		json_array_append_new(changed, json_string("identifiers"));
	}
	if (json_array_size(changed) > 0) {
		d.updated_at = dv_now();
		d.sync_mark = mark != NULL ? xstrdup(mark) : NULL;
		if ((rc = store_dev_update(tx, &d)) != DV_OK)
			goto out;
	} else if (mark != NULL &&
	    (rc = store_dev_mark(tx, team, d.id, mark)) != DV_OK)
		goto out;
	if (json_array_size(changed) > 0) {
		audit = json_pack("{s:O,s:o}", "changed", changed,
		    "identifiers", ident_values(fresh, nfresh));
		rc = inv_audit(tx, team, actor, "device.update", d.id, audit);
		json_decref(audit);
		if (rc != DV_OK)
			goto out;
		*result = INV_UPSERT_UPDATED;
	}
	*id = xstrdup(d.id);
out:
	json_decref(changed);
	store_device_clear(&d);
	free(found);
	free(fresh);
	return rc;
}

/* ---- the public operations ----------------------------------------- */

/* The arguments and results of a store_write/store_read function. */
struct dev_op {
	const char	*team;
	const char	*id;
	const struct inv_dev_in *in;
	const struct inv_actor *actor;
	time_t		 when;
	char		*new_id;	/* owned */
	char		*detail;	/* owned */
	json_t		*out;		/* owned */
};

static enum dv_rc
dev_get_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;
	struct store_device d;
	enum dv_rc rc;

	if ((rc = store_dev_get(tx, op->team, op->id, &d)) != DV_OK)
		return rc;
	rc = inv_dev_json(tx, &d, &op->out);
	store_device_clear(&d);
	return rc;
}

static enum dv_rc
dev_add_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;
	enum dv_rc rc;

	rc = dev_create(tx, op->team, op->in, op->actor, NULL, &op->new_id,
	    &op->detail);
	if (rc != DV_OK)
		return rc;
	op->id = op->new_id;
	/* the answer comes from the transaction that wrote it */
	return dev_get_tx(tx, op);
}

enum dv_rc
inv_device_add(struct inv *inv, const char *team, const json_t *body,
    const struct inv_actor *actor, json_t **out, char **detail)
{
	struct inv_dev_in in;
	struct dev_op op = { 0 };
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if ((rc = inv_dev_parse(body, INV_MODE_ADD, &in, detail)) != DV_OK)
		return rc;
	op.team = team;
	op.in = &in;
	op.actor = actor;
	rc = store_write(inv->st, dev_add_tx, &op);
	if (rc == DV_OK) {
		*out = op.out;
		op.out = NULL;
	} else if (op.detail != NULL) {
		*detail = op.detail;
		op.detail = NULL;
	}
	inv_dev_in_clear(&in);
	json_decref(op.out);
	free(op.detail);
	free(op.new_id);
	return rc;
}

enum dv_rc
inv_device_get(struct inv *inv, const char *team, const char *id,
    json_t **out)
{
	struct dev_op op = { .team = team, .id = id };
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team) || id == NULL)
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, dev_get_tx, &op)) == DV_OK)
		*out = op.out;
	return rc;
}

static enum dv_rc
dev_patch_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;
	const struct inv_dev_in *in = op->in;
	struct store_device d;
	json_t *changed, *audit;
	enum dv_rc rc;
	size_t i;

	if ((rc = store_dev_get(tx, op->team, op->id, &d)) != DV_OK)
		return rc;
	changed = json_array();
	if ((rc = dev_merge(&d, in, changed, &op->detail)) != DV_OK)
		goto out;
	for (i = 0; i < in->nrm; i++) {
		rc = store_ident_delete(tx, op->team, d.id, in->rm[i]);
		if (rc == DV_ERR_NOT_FOUND) {
			inv_detail(&op->detail, "removeIdentifiers[%zu]: not "
			    "an identifier of the device", i);
			rc = DV_ERR_MALFORMED;
		}
		if (rc != DV_OK)
			goto out;
	}
	if (in->nrm > 0)
		json_array_append_new(changed, json_string(
		    "removeIdentifiers"));
	if ((rc = idents_insert(tx, op->team, d.id, in->ids, in->nids,
	    "addIdentifiers", &op->detail)) != DV_OK)
		goto out;
	if (in->nids > 0)
		json_array_append_new(changed, json_string("addIdentifiers"));
	if (json_array_size(changed) > 0) {
		d.updated_at = dv_now();
		if ((rc = store_dev_update(tx, &d)) != DV_OK)
			goto out;
		audit = json_pack("{s:O,s:o,s:o}", "changed", changed,
		    "added", ident_values(in->ids, in->nids), "removed",
		    json_array());
		for (i = 0; i < in->nrm; i++)
			json_array_append_new(json_object_get(audit,
			    "removed"), json_string(in->rm[i]));
		rc = inv_audit(tx, op->team, op->actor, "device.update", d.id,
		    audit);
		json_decref(audit);
		if (rc != DV_OK)
			goto out;
	}
	rc = dev_get_tx(tx, op);
out:
	json_decref(changed);
	store_device_clear(&d);
	return rc;
}

enum dv_rc
inv_device_patch(struct inv *inv, const char *team, const char *id,
    const json_t *body, const struct inv_actor *actor, json_t **out,
    char **detail)
{
	struct inv_dev_in in;
	struct dev_op op = { 0 };
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (!inv_team_ok(team) || id == NULL)
		return DV_ERR_NOT_FOUND;
	if ((rc = inv_dev_parse(body, INV_MODE_PATCH, &in, detail)) != DV_OK)
		return rc;
	op.team = team;
	op.id = id;
	op.in = &in;
	op.actor = actor;
	rc = store_write(inv->st, dev_patch_tx, &op);
	if (rc == DV_OK) {
		*out = op.out;
		op.out = NULL;
	} else if (op.detail != NULL) {
		*detail = op.detail;
		op.detail = NULL;
	}
	inv_dev_in_clear(&in);
	json_decref(op.out);
	free(op.detail);
	return rc;
}

static enum dv_rc
dev_retire_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;
	struct store_device d;
	json_t *revoked = NULL, *e, *audit;
	enum dv_rc rc;
	size_t i;

	if ((rc = store_dev_get(tx, op->team, op->id, &d)) != DV_OK)
		return rc;
	if (strcmp(d.status, "retired") == 0) {
		rc = DV_ERR_ALREADY_REVOKED;
		goto out;
	}
	free(d.status);
	d.status = xstrdup("retired");
	d.updated_at = op->when;
	if ((rc = store_dev_update(tx, &d)) != DV_OK)
		goto out;
	if ((rc = store_dev_certs_revoke(tx, d.id, REASON_CESSATION,
	    "cessationOfOperation", op->when, &revoked)) != DV_OK)
		goto out;
	audit = json_pack("{s:I}", "revoked",
	    (json_int_t)json_array_size(revoked));
	rc = inv_audit(tx, op->team, op->actor, "device.retire", d.id, audit);
	json_decref(audit);
	json_array_foreach(revoked, i, e) {
		if (rc != DV_OK)
			break;
		audit = json_pack("{s:O,s:i,s:s}", "authority",
		    json_object_get(e, "authority"), "reasonCode",
		    REASON_CESSATION, "device", d.id);
		rc = inv_audit(tx, op->team, op->actor, "cert.revoke",
		    json_get_str(e, "serial"), audit);
		json_decref(audit);
	}
	if (rc == DV_OK) {
		op->out = revoked;
		revoked = NULL;
	}
out:
	json_decref(revoked);
	store_device_clear(&d);
	return rc;
}

enum dv_rc
inv_device_retire(struct inv *inv, const char *team, const char *id,
    const struct inv_actor *actor, json_t **revoked)
{
	struct dev_op op = { 0 };
	enum dv_rc rc;

	*revoked = NULL;
	if (!inv_team_ok(team) || id == NULL)
		return DV_ERR_NOT_FOUND;
	op.team = team;
	op.id = id;
	op.actor = actor;
	op.when = dv_now();
	if ((rc = store_write(inv->st, dev_retire_tx, &op)) == DV_OK) {
		*revoked = op.out;
		op.out = NULL;
		log_msg(LOG_INFO, EV, "{s:s,s:s,s:I}", "retired", id, "team",
		    team, "revoked", (json_int_t)json_array_size(*revoked));
	}
	json_decref(op.out);
	return rc;
}

static enum dv_rc
dev_seen_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;

	return store_dev_seen(tx, op->team, op->id, op->when);
}

enum dv_rc
inv_device_seen(struct inv *inv, const char *team, const char *id,
    time_t when)
{
	struct dev_op op = { .team = team, .id = id, .when = when };

	if (!inv_team_ok(team) || id == NULL)
		return DV_ERR_NOT_FOUND;
	return store_write(inv->st, dev_seen_tx, &op);
}

static enum dv_rc
dev_by_ident_tx(struct store_tx *tx, void *arg)
{
	struct dev_op *op = arg;
	enum dv_rc rc;

	if ((rc = store_ident_owner(tx, op->team, op->id, &op->new_id)) !=
	    DV_OK)
		return rc;
	op->id = op->new_id;
	return dev_get_tx(tx, op);
}

enum dv_rc
inv_device_by_identifier(struct inv *inv, const char *team,
    const char *value, json_t **out)
{
	struct dev_op op = { .team = team, .id = value };
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team) || value == NULL)
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, dev_by_ident_tx, &op)) == DV_OK) {
		*out = op.out;
		op.out = NULL;
	}
	json_decref(op.out);
	free(op.new_id);
	return rc;
}

/* ---- list ---------------------------------------------------------- */

/* The cursor: base64url of created_at (8 bytes, big-endian) || id. */
static char *
cursor_make(const struct store_device *d)
{
	uint8_t buf[8 + 64];
	uint64_t t = (uint64_t)d->created_at;
	size_t n = strlen(d->id), i;

	if (n > 64)
		n = 64;
	for (i = 0; i < 8; i++)
		buf[i] = (uint8_t)(t >> (56 - 8 * i));
	memcpy(buf + 8, d->id, n);
	return inv_b64url(buf, 8 + n);
}

static enum dv_rc
cursor_parse(const char *s, time_t *created, char **id)
{
	uint8_t *b = NULL;
	uint64_t t = 0;
	size_t len = 0, i;

	*created = 0;
	*id = NULL;
	if (strlen(s) > 128 || inv_b64url_decode(s, &b, &len) != DV_OK ||
	    len <= 8 || len > 8 + 64 || !str_printable((char *)b + 8,
	    len - 8)) {
		free(b);
		log_msg(LOG_INFO, EV, "{s:s}", "error", "bad list cursor");
		return DV_ERR_MALFORMED;
	}
	for (i = 0; i < 8; i++)
		t = t << 8 | b[i];
	*created = (time_t)t;
	*id = xstrndup((char *)b + 8, len - 8);
	free(b);
	return DV_OK;
}

struct list_op {
	const char	*team;
	const struct store_dev_filter *f;
	json_t		*out;		/* owned */
};

static enum dv_rc
dev_list_tx(struct store_tx *tx, void *arg)
{
	struct list_op *op = arg;
	struct store_device *v = NULL;
	json_t *devs, *j;
	char *next = NULL;
	size_t n = 0, i, want = (size_t)op->f->limit - 1;
	enum dv_rc rc;

	if ((rc = store_dev_list(tx, op->team, op->f, &v, &n)) != DV_OK)
		return rc;
	devs = json_array();
	for (i = 0; i < n && i < want; i++) {
		if ((rc = inv_dev_json(tx, &v[i], &j)) != DV_OK)
			goto out;
		json_array_append_new(devs, j);
	}
	/* one row more than the page was asked for: there is a next page */
	if (n > want)
		next = cursor_make(&v[want - 1]);
	op->out = json_pack("{s:O,s:s}", "devices", devs, "nextCursor",
	    next != NULL ? next : "");
out:
	free(next);
	json_decref(devs);
	store_devices_free(v, n);
	return rc;
}

enum dv_rc
inv_device_list(struct inv *inv, const char *team, const struct inv_query *q,
    json_t **out)
{
	struct store_dev_filter f = { 0 };
	struct list_op op = { .team = team, .f = &f };
	char *cid = NULL, *dom = NULL;
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if (q->limit < 0 || q->limit > DV_LIST_MAX) {
		log_msg(LOG_INFO, EV, "{s:s,s:i}", "error", "limit out of "
		    "range", "limit", q->limit);
		return DV_ERR_MALFORMED;
	}
	f.limit = (q->limit == 0 ? DV_LIST_DEFAULT : q->limit) + 1;
	f.status = q->status;
	f.collection = q->collection;
	f.tag = q->tag;
	if (q->owner != NULL && q->owner[0] == '@') {
		dom = xstrdup(q->owner + 1);
		lower(dom);
		f.owner_domain = dom;
	} else
		f.owner = q->owner;
	f.identifier = q->identifier;
	f.source = q->source;
	f.seen_after = q->seen_after;
	f.seen_before = q->seen_before;
	if (q->cursor != NULL && q->cursor[0] != '\0') {
		if ((rc = cursor_parse(q->cursor, &f.cursor_created, &cid)) !=
		    DV_OK)
			goto out;
		f.has_cursor = true;
		f.cursor_id = cid;
	}
	if ((rc = store_read(inv->st, dev_list_tx, &op)) == DV_OK)
		*out = op.out;
out:
	free(cid);
	free(dom);
	return rc;
}
