/*
 * token.c - admin API tokens (inv.h): scoped to one team with a role,
 * shown once, stored as the SHA-256 of the whole secret, revocable, with an
 * optional expiry (issue 3 §6).
 */
#include <openssl/crypto.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "inv_int.h"

#define EV		"inv.token"
#define TOKEN_PREFIX	"dvt_"
/* Random bytes of a secret (256 bits) and of a token id (80 bits). */
#define SECRET_BYTES	32
#define ID_BYTES	10

static const char *const role_names[INV_ROLE__MAX] = {
	[INV_ROLE_VIEWER] = "viewer",
	[INV_ROLE_MDM_SYNC] = "mdm-sync",
	[INV_ROLE_ADMIN] = "admin",
	[INV_ROLE_OWNER] = "owner",
};

const char *
inv_role_name(enum inv_role r)
{
	if ((int)r < 0 || r >= INV_ROLE__MAX)
		return "unknown";
	return role_names[r];
}

enum dv_rc
inv_role_parse(const char *s, enum inv_role *out)
{
	int i;

	*out = INV_ROLE_VIEWER;
	for (i = 0; s != NULL && i < INV_ROLE__MAX; i++)
		if (strcmp(s, role_names[i]) == 0) {
			*out = (enum inv_role)i;
			return DV_OK;
		}
	return DV_ERR_MALFORMED;
}

void
inv_principal_clear(struct inv_principal *p)
{
	if (p == NULL)
		return;
	free(p->token_id);
	free(p->team);
	memset(p, 0, sizeof(*p));
}

/* Hex SHA-256 of the secret text: what the store keeps. */
static char *
secret_hash(const char *secret)
{
	uint8_t md[32];

	pki_sha256(secret, strlen(secret), md);
	return hex_encode(md, sizeof(md));
}

static json_t *
token_meta(const struct store_api_token *t)
{
	json_t *j;

	j = json_pack("{s:s,s:s,s:s,s:s,s:o,s:o}", "id", t->id, "name",
	    t->name, "role", t->role, "team", t->team, "createdAt",
	    inv_time_json(t->created_at), "expiresAt",
	    inv_time_json(t->expires_at));
	if (t->revoked_at != 0)
		json_object_set_new(j, "revokedAt",
		    inv_time_json(t->revoked_at));
	return j;
}

struct tok_op {
	const char	*team;
	const struct store_api_token *t;
	const struct inv_actor *actor;
	const char	*id;
	time_t		 when;
};

static enum dv_rc
tok_create_tx(struct store_tx *tx, void *arg)
{
	struct tok_op *op = arg;
	json_t *audit;
	enum dv_rc rc;

	if ((rc = store_apitok_insert(tx, op->t)) != DV_OK)
		return rc;
	audit = json_pack("{s:s,s:s,s:o}", "name", op->t->name, "role",
	    op->t->role, "expiresAt", inv_time_json(op->t->expires_at));
	rc = inv_audit(tx, op->team, op->actor, "token.create", op->t->id,
	    audit);
	json_decref(audit);
	return rc;
}

/* Makes and stores a token of role for team; *secret and *meta new. */
static enum dv_rc
token_make(struct inv *inv, const char *team, const char *name,
    const char *role, int64_t lifetime, const struct inv_actor *actor,
    char **secret, json_t **meta)
{
	struct store_api_token t = { 0 };
	struct tok_op op = { 0 };
	uint8_t rnd[SECRET_BYTES];
	char *b64, *s;
	enum dv_rc rc;

	*secret = NULL;
	if (meta != NULL)
		*meta = NULL;
	if ((rc = pki_random(rnd, sizeof(rnd))) != DV_OK)
		return rc;
	t.id = inv_id_new("", ID_BYTES);
	b64 = inv_b64url(rnd, sizeof(rnd));
	OPENSSL_cleanse(rnd, sizeof(rnd));
	s = xasprintf(TOKEN_PREFIX "%s_%s", t.id, b64);
	OPENSSL_cleanse(b64, strlen(b64));
	free(b64);
	t.team = (char *)team;
	t.name = (char *)name;
	t.role = (char *)role;
	t.hash = secret_hash(s);
	t.created_at = dv_now();
	t.expires_at = lifetime > 0 ? t.created_at + (time_t)lifetime : 0;
	op.team = team;
	op.t = &t;
	op.actor = actor;
	if ((rc = store_write(inv->st, tok_create_tx, &op)) != DV_OK) {
		OPENSSL_cleanse(s, strlen(s));
		free(s);
		goto out;
	}
	*secret = s;
	if (meta != NULL)
		*meta = token_meta(&t);
out:
	free(t.id);
	free(t.hash);
	return rc;
}

enum dv_rc
inv_token_create(struct inv *inv, const char *team, const json_t *body,
    const struct inv_actor *actor, char **secret, json_t **meta,
    char **detail)
{
	const char *name = NULL, *role = NULL, *exp = NULL;
	enum inv_role r;
	int64_t life = 0;

	*secret = NULL;
	*meta = NULL;
	*detail = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if (json_unpack((json_t *)body, "{s:s,s:s,s?:s!}", "name", &name,
	    "role", &role, "expiresIn", &exp) != 0) {
		inv_detail(detail, "token: {\"name\", \"role\", "
		    "\"expiresIn\"?} strings expected");
		return DV_ERR_MALFORMED;
	}
	if (!inv_text_ok(name, DV_INV_MAX_FIELD)) {
		inv_detail(detail, "name: must be 1 to %d bytes without "
		    "control characters", DV_INV_MAX_FIELD);
		return DV_ERR_MALFORMED;
	}
	if (inv_role_parse(role, &r) != DV_OK) {
		inv_detail(detail, "role: must be owner, admin, viewer or "
		    "mdm-sync");
		return DV_ERR_MALFORMED;
	}
	if (exp != NULL && (dur_parse(exp, &life) != DV_OK || life <= 0 ||
	    life > DV_INV_MAX_TOKEN_LIFETIME)) {
		inv_detail(detail, "expiresIn: must be a positive duration "
		    "(\"720h\") of at most ten years");
		return DV_ERR_MALFORMED;
	}
	return token_make(inv, team, name, inv_role_name(r), life, actor,
	    secret, meta);
}

enum dv_rc
inv_token_bootstrap(struct inv *inv, const char *team, char **secret)
{
	const struct inv_actor actor = { "cli", NULL };

	*secret = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_MALFORMED;
	return token_make(inv, team, "bootstrap",
	    inv_role_name(INV_ROLE_OWNER), 0, &actor, secret, NULL);
}

struct auth_op {
	const char	*hash;
	struct store_api_token t;	/* owned */
};

static enum dv_rc
tok_auth_tx(struct store_tx *tx, void *arg)
{
	struct auth_op *op = arg;

	return store_apitok_by_hash(tx, op->hash, &op->t);
}

enum dv_rc
inv_token_auth(struct inv *inv, const char *secret, time_t now,
    struct inv_principal *out)
{
	struct auth_op op = { 0 };
	const char *why = NULL;
	enum inv_role role;
	enum dv_rc rc;
	size_t n;

	memset(out, 0, sizeof(*out));
	if (secret == NULL || (n = strlen(secret)) < sizeof(TOKEN_PREFIX) ||
	    n > 256 || strncmp(secret, TOKEN_PREFIX,
	    sizeof(TOKEN_PREFIX) - 1) != 0) {
		log_msg(LOG_INFO, EV, "{s:s}", "rejected", "not a dvt_ token");
		return DV_ERR_UNAUTHORIZED;
	}
	/*
	 * The lookup is by the SHA-256 of the whole secret, so no
	 * comparison of secret bytes happens here: whatever the index
	 * lookup's timing tells an attacker is about the hash of their own
	 * guess, which does not bring them closer to a stored secret
	 * (finding a preimage of a stored hash is the only way in).  Hence
	 * no constant-time compare.
	 */
	op.hash = secret_hash(secret);
	rc = store_read(inv->st, tok_auth_tx, &op);
	if (rc == DV_ERR_NOT_FOUND)
		why = "unknown token";
	else if (rc != DV_OK)
		goto out;
	else if (op.t.revoked_at != 0)
		why = "revoked token";
	else if (op.t.expires_at != 0 && op.t.expires_at <= now)
		why = "expired token";
	else if (inv_role_parse(op.t.role, &role) != DV_OK)
		why = "stored role unknown";
	if (why != NULL) {
		/* the token id is not secret; the secret is never logged */
		log_msg(LOG_INFO, EV, "{s:s,s:s?}", "rejected", why, "id",
		    op.t.id);
		rc = DV_ERR_UNAUTHORIZED;
		goto out;
	}
	out->token_id = op.t.id;
	out->team = op.t.team;
	out->role = role;
	op.t.id = op.t.team = NULL;
out:
	store_api_token_clear(&op.t);
	free((char *)op.hash);
	return rc;
}

struct tok_list_op {
	const char	*team;
	json_t		*out;		/* owned */
};

static enum dv_rc
tok_list_tx(struct store_tx *tx, void *arg)
{
	struct tok_list_op *op = arg;
	struct store_api_token *v = NULL;
	size_t n = 0, i;
	enum dv_rc rc;

	if ((rc = store_apitok_list(tx, op->team, &v, &n)) != DV_OK)
		return rc;
	op->out = json_pack("{s:[]}", "tokens");
	for (i = 0; i < n; i++)
		json_array_append_new(json_object_get(op->out, "tokens"),
		    token_meta(&v[i]));
	store_api_tokens_free(v, n);
	return DV_OK;
}

enum dv_rc
inv_token_list(struct inv *inv, const char *team, json_t **out)
{
	struct tok_list_op op = { .team = team };
	enum dv_rc rc;

	*out = NULL;
	if (!inv_team_ok(team))
		return DV_ERR_NOT_FOUND;
	if ((rc = store_read(inv->st, tok_list_tx, &op)) == DV_OK)
		*out = op.out;
	return rc;
}

static enum dv_rc
tok_revoke_tx(struct store_tx *tx, void *arg)
{
	struct tok_op *op = arg;
	enum dv_rc rc;

	if ((rc = store_apitok_revoke(tx, op->team, op->id, op->when)) !=
	    DV_OK)
		return rc;
	return inv_audit(tx, op->team, op->actor, "token.revoke", op->id,
	    NULL);
}

enum dv_rc
inv_token_revoke(struct inv *inv, const char *team, const char *id,
    const struct inv_actor *actor)
{
	struct tok_op op = { .team = team, .id = id, .actor = actor };

	if (!inv_team_ok(team) || id == NULL)
		return DV_ERR_NOT_FOUND;
	op.when = dv_now();
	return store_write(inv->st, tok_revoke_tx, &op);
}
