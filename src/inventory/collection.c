/*
 * collection.c - Device Collections (inv.h): named groups of one device
 * type (kind, os, source; absent = any) with static members and rules.
 * Membership is a query of the store (store_inventory.c), never a stored
 * list, so a device changing its tags or owner moves at once.
 */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#include "inv_int.h"

static const char *const coll_members[] = { "name", "kind", "os", "source",
	"members", "rules", "settings", NULL };
static const char *const rule_fields[] = { "tag", "os", "source",
	"ownerDomain", NULL };

static bool
in_list(const char *s, const char *const *list)
{
	for (; *list != NULL; list++)
		if (strcmp(s, *list) == 0)
			return true;
	return false;
}

/* A collection name: 1 to 64 of [A-Za-z0-9._-] (it goes into URLs). */
static bool
name_ok(const char *s)
{
	size_t n;

	return s != NULL && (n = strlen(s)) > 0 && n <= 64 &&
	    strspn(s, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
	    "0123456789._-") == n;
}

static char *
lower_dup(const char *s)
{
	char *d = xstrdup(s), *p;

	for (p = d; *p != '\0'; p++)
		*p = (char)tolower((unsigned char)*p);
	return d;
}

/* A checked collection body; NULL members were not given. */
struct coll_in {
	char		*kind;		/* owned */
	char		*os;
	char		*source;
	json_t		*members;	/* array of device ids */
	json_t		*rules;		/* normalised array */
	json_t		*settings;	/* object */
};

static void
coll_in_clear(struct coll_in *c)
{
	free(c->kind);
	free(c->os);
	free(c->source);
	json_decref(c->members);
	json_decref(c->rules);
	json_decref(c->settings);
	memset(c, 0, sizeof(*c));
}

static enum dv_rc
coll_parse(const json_t *body, bool create, struct coll_in *out,
    char **detail)
{
	struct coll_in c = { 0 };
	const char *key, *field;
	const json_t *v, *e, *rv;
	char *val;
	size_t i;

	memset(out, 0, sizeof(*out));
	if (!json_is_object(body)) {
		inv_detail(detail, "the collection must be a JSON object");
		return DV_ERR_MALFORMED;
	}
	json_object_foreach((json_t *)body, key, v) {
		if (!in_list(key, coll_members) || (!create &&
		    strcmp(key, "name") == 0)) {
			inv_detail(detail, "unknown member in the collection "
			    "(the name cannot change)");
			return DV_ERR_MALFORMED;
		}
	}
	if (create && !name_ok(json_string_value(json_object_get(body,
	    "name")))) {
		inv_detail(detail, "name: 1 to 64 letters, digits, '.', '_' "
		    "or '-'");
		return DV_ERR_MALFORMED;
	}
	if ((v = json_object_get(body, "kind")) != NULL) {
		if (!inv_text_ok(json_string_value(v), 64))
			goto str;
		c.kind = lower_dup(json_string_value(v));
	}
	if ((v = json_object_get(body, "os")) != NULL) {
		if (!inv_text_ok(json_string_value(v), 64))
			goto str;
		c.os = lower_dup(json_string_value(v));
	}
	if ((v = json_object_get(body, "source")) != NULL) {
		if (!inv_text_ok(json_string_value(v), 80))
			goto str;
		c.source = xstrdup(json_string_value(v));
	}
	if ((v = json_object_get(body, "members")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) >
		    DV_INV_MAX_MEMBERS) {
			inv_detail(detail, "members: an array of at most %d "
			    "device ids", DV_INV_MAX_MEMBERS);
			goto err;
		}
		json_array_foreach(v, i, e)
			if (!inv_text_ok(json_string_value(e), 64)) {
				inv_detail(detail, "members[%zu]: a device id",
				    i);
				goto err;
			}
		c.members = json_deep_copy(v);
	}
	if ((v = json_object_get(body, "rules")) != NULL) {
		if (!json_is_array(v) || json_array_size(v) >
		    DV_INV_MAX_RULES) {
			inv_detail(detail, "rules: an array of at most %d "
			    "rules", DV_INV_MAX_RULES);
			goto err;
		}
		c.rules = json_array();
		json_array_foreach(v, i, e) {
			if (!json_is_object(e) || json_object_size(e) != 1)
				goto rule;
			json_object_foreach((json_t *)e, field, rv) {
				if (!in_list(field, rule_fields) ||
				    !inv_text_ok(json_string_value(rv),
				    DV_INV_MAX_FIELD))
					goto rule;
				/* os and domains are stored lower-case */
				val = strcmp(field, "os") == 0 ||
				    strcmp(field, "ownerDomain") == 0 ?
				    lower_dup(json_string_value(rv)) :
				    xstrdup(json_string_value(rv));
				json_array_append_new(c.rules, json_pack(
				    "{s:s}", field, val));
				free(val);
			}
		}
	}
	if ((v = json_object_get(body, "settings")) != NULL) {
		if (!json_is_object(v)) {
			inv_detail(detail, "settings: must be an object");
			goto err;
		}
		c.settings = json_deep_copy(v);
	}
	*out = c;
	return DV_OK;
rule:
	inv_detail(detail, "rules[%zu]: one of {\"tag\"|\"os\"|\"source\"|"
	    "\"ownerDomain\": string}", i);
	goto err;
str:
	inv_detail(detail, "kind, os, source: strings of 1 to 64 bytes");
err:
	coll_in_clear(&c);
	return DV_ERR_MALFORMED;
}

static json_t *
json_or(const char *text, json_t *dflt)
{
	json_t *j = text != NULL ? json_loads(text, 0, NULL) : NULL;

	if (j == NULL)
		return dflt;
	json_decref(dflt);
	return j;
}

static enum dv_rc
coll_json(struct store_tx *tx, const struct store_collection *c,
    json_t **out)
{
	json_t *members = NULL;
	int64_t count = 0;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = store_coll_members(tx, c->team, c->name, &members,
	    &count)) != DV_OK)
		return rc;
	*out = json_pack("{s:s,s:s?,s:s?,s:s?,s:o,s:o,s:o,s:o,s:o}",
	    "name", c->name, "kind", c->kind, "os", c->os, "source",
	    c->source, "members", members,
	    "rules", json_or(c->rules, json_array()),
	    "settings", json_or(c->settings, json_object()),
	    "createdAt", inv_time_json(c->created_at),
	    "updatedAt", inv_time_json(c->updated_at));
	return *out != NULL ? DV_OK : DV_ERR_STORE;
}

struct coll_op {
	const char	*team;
	const char	*name;
	const struct coll_in *in;
	const struct inv_actor *actor;
	char		*detail;	/* owned */
	json_t		*out;		/* owned */
};

static enum dv_rc
coll_get_tx(struct store_tx *tx, void *arg)
{
	struct coll_op *op = arg;
	struct store_collection c;
	enum dv_rc rc;

	if ((rc = store_coll_get(tx, op->team, op->name, &c)) != DV_OK)
		return rc;
	rc = coll_json(tx, &c, &op->out);
	store_collection_clear(&c);
	return rc;
}

/* Writes members (when given) and the audit row, then reads back. */
static enum dv_rc
coll_finish(struct store_tx *tx, struct coll_op *op, const char *action)
{
	json_t *audit;
	enum dv_rc rc;

	if (op->in->members != NULL) {
		rc = store_coll_members_set(tx, op->team, op->name,
		    op->in->members);
		if (rc == DV_ERR_NOT_FOUND)
			inv_detail(&op->detail, "members: a device id is not a "
			    "device of this team");
		if (rc != DV_OK)
			return rc == DV_ERR_NOT_FOUND ? DV_ERR_MALFORMED : rc;
	}
	audit = json_pack("{s:s?,s:s?,s:s?,s:O?,s:O?}", "kind", op->in->kind,
	    "os", op->in->os, "source", op->in->source, "rules",
	    op->in->rules, "members", op->in->members);
	rc = inv_audit(tx, op->team, op->actor, action, op->name, audit);
	json_decref(audit);
	if (rc != DV_OK)
		return rc;
	return coll_get_tx(tx, op);
}

static enum dv_rc
coll_create_tx(struct store_tx *tx, void *arg)
{
	struct coll_op *op = arg;
	struct store_collection c = { 0 };
	enum dv_rc rc;

	c.team = (char *)op->team;
	c.name = (char *)op->name;
	c.kind = op->in->kind;
	c.os = op->in->os;
	c.source = op->in->source;
	c.rules = op->in->rules != NULL ? inv_json_text(op->in->rules) :
	    xstrdup("[]");
	c.settings = op->in->settings != NULL ?
	    inv_json_text(op->in->settings) : xstrdup("{}");
	c.created_at = c.updated_at = dv_now();
	rc = store_coll_insert(tx, &c);
	free(c.rules);
	free(c.settings);
	if (rc == DV_ERR_EXISTS)
		inv_detail(&op->detail, "name: a collection of that name "
		    "exists");
	if (rc != DV_OK)
		return rc;
	return coll_finish(tx, op, "collection.create");
}

/* Runs fn over op and hands over its JSON and detail. */
static enum dv_rc
coll_write(struct inv *inv, store_tx_fn fn, struct coll_op *op,
    json_t **out, char **detail)
{
	enum dv_rc rc;

	rc = store_write(inv->st, fn, op);
	if (rc == DV_OK && out != NULL) {
		*out = op->out;
		op->out = NULL;
	} else if (rc != DV_OK && detail != NULL) {
		*detail = op->detail;
		op->detail = NULL;
	}
	json_decref(op->out);
	free(op->detail);
	return rc;
}

enum dv_rc
inv_collection_create(struct inv *inv, const char *team, const json_t *body,
    const struct inv_actor *actor, json_t **out, char **detail)
{
	struct coll_in in;
	struct coll_op op = { 0 };
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if ((rc = coll_parse(body, true, &in, detail)) != DV_OK)
		return rc;
	op.team = team;
	op.name = json_string_value(json_object_get(body, "name"));
	op.in = &in;
	op.actor = actor;
	rc = coll_write(inv, coll_create_tx, &op, out, detail);
	coll_in_clear(&in);
	return rc;
}

enum dv_rc
inv_collection_get(struct inv *inv, const char *team, const char *name,
    json_t **out)
{
	struct coll_op op = { .team = team, .name = name };
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team) || !name_ok(name))
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, coll_get_tx, &op)) == DV_OK)
		*out = op.out;
	return rc;
}

static enum dv_rc
coll_patch_tx(struct store_tx *tx, void *arg)
{
	struct coll_op *op = arg;
	struct store_collection c;
	enum dv_rc rc;

	if ((rc = store_coll_get(tx, op->team, op->name, &c)) != DV_OK)
		return rc;
	if (op->in->kind != NULL) {
		free(c.kind);
		c.kind = xstrdup(op->in->kind);
	}
	if (op->in->os != NULL) {
		free(c.os);
		c.os = xstrdup(op->in->os);
	}
	if (op->in->source != NULL) {
		free(c.source);
		c.source = xstrdup(op->in->source);
	}
	if (op->in->rules != NULL) {
		free(c.rules);
		c.rules = inv_json_text(op->in->rules);
	}
	if (op->in->settings != NULL) {
		free(c.settings);
		c.settings = inv_json_text(op->in->settings);
	}
	c.updated_at = dv_now();
	rc = store_coll_update(tx, &c);
	store_collection_clear(&c);
	if (rc != DV_OK)
		return rc;
	return coll_finish(tx, op, "collection.update");
}

enum dv_rc
inv_collection_patch(struct inv *inv, const char *team, const char *name,
    const json_t *body, const struct inv_actor *actor, json_t **out,
    char **detail)
{
	struct coll_in in;
	struct coll_op op = { 0 };
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (!inv_team_ok(team) || !name_ok(name))
		return DV_ERR_NOT_FOUND;
	if ((rc = coll_parse(body, false, &in, detail)) != DV_OK)
		return rc;
	op.team = team;
	op.name = name;
	op.in = &in;
	op.actor = actor;
	rc = coll_write(inv, coll_patch_tx, &op, out, detail);
	coll_in_clear(&in);
	return rc;
}

static enum dv_rc
coll_delete_tx(struct store_tx *tx, void *arg)
{
	struct coll_op *op = arg;
	enum dv_rc rc;

	if ((rc = store_coll_delete(tx, op->team, op->name)) != DV_OK)
		return rc;
	return inv_audit(tx, op->team, op->actor, "collection.delete",
	    op->name, NULL);
}

enum dv_rc
inv_collection_delete(struct inv *inv, const char *team, const char *name,
    const struct inv_actor *actor)
{
	struct coll_op op = { .team = team, .name = name, .actor = actor };

	if (!inv_team_ok(team) || !name_ok(name))
		return DV_ERR_NOT_FOUND;
	return coll_write(inv, coll_delete_tx, &op, NULL, NULL);
}

static enum dv_rc
coll_list_tx(struct store_tx *tx, void *arg)
{
	struct coll_op *op = arg;
	struct store_collection *v = NULL;
	json_t *a, *j;
	size_t n = 0, i;
	enum dv_rc rc;

	if ((rc = store_coll_list(tx, op->team, &v, &n)) != DV_OK)
		return rc;
	a = json_array();
	for (i = 0; i < n && rc == DV_OK; i++)
		if ((rc = coll_json(tx, &v[i], &j)) == DV_OK)
			json_array_append_new(a, j);
	store_collections_free(v, n);
	if (rc != DV_OK) {
		json_decref(a);
		return rc;
	}
	op->out = json_pack("{s:o}", "collections", a);
	return DV_OK;
}

enum dv_rc
inv_collection_list(struct inv *inv, const char *team, json_t **out)
{
	struct coll_op op = { .team = team };
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, coll_list_tx, &op)) == DV_OK)
		*out = op.out;
	return rc;
}
