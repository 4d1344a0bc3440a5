/*
 * prov.c - provisioner configuration (spec §2: ca.json
 * authority.provisioners[] entries) and the set an authority holds.
 */
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "jws/jws.h"
#include "prov_int.h"

/* A roots bundle read from "rootsFile": generous, still bounded. */
#define PROV_MAX_ROOTS_FILE	DV_MAX_BODY_CEILING

void
prov_log(const char *event, const char *clause, const struct prov *p,
    const char *value)
{
	log_msg(LOG_WARN, event, "{s:s,s:s*,s:s*}", "reason", clause,
	    "provisioner", p != NULL ? p->name : NULL, "value", value);
}

static const struct {
	const char	*name;
	enum prov_type	 type;
} type_names[] = {
	{ "JWK", PROV_JWK },
	{ "OIDC", PROV_OIDC },
	{ "GCP", PROV_GCP },
	{ "AWS", PROV_AWS },
	{ "Azure", PROV_AZURE },
	{ "ACME", PROV_ACME },
	{ "X5C", PROV_X5C },
	{ "SCEP", PROV_SCEP },
};

/* JWK (spec §2.1): "key" public JWK with a kid, optional "encryptedKey". */
static enum dv_rc
load_jwk(struct prov *p, const json_t *cfg)
{
	const json_t *key, *ek;
	const char *kid;
	json_t *pub;
	char *thp = NULL;

	key = json_object_get(cfg, "key");
	if (!json_is_object(key)) {
		prov_log("config.provisioner", "spec §2.1: JWK provisioner "
		    "without key", p, NULL);
		return DV_ERR_MALFORMED;
	}
	if ((pub = jws_jwk_public(key)) == NULL) {
		prov_log("config.provisioner", "spec §2.1: key is not a "
		    "usable public JWK", p, NULL);
		return DV_ERR_BAD_KEY;
	}
	p->jwk = pub;
	/* the key must be one tokens can be verified with */
	if (jws_jwk_check(pub) != DV_OK ||
	    jws_jwk_thumbprint(pub, &thp) != DV_OK) {
		prov_log("config.provisioner", "spec §2.1: key is not a "
		    "usable public JWK", p, NULL);
		return DV_ERR_BAD_KEY;
	}
	free(thp);
	/* decoded once: every token is verified with it (jws_verify_key) */
	if (jws_jwk_to_pkey(pub, &p->pkey) != DV_OK) {
		prov_log("config.provisioner", "spec §2.1: key is not a "
		    "usable public JWK", p, NULL);
		return DV_ERR_BAD_KEY;
	}
	kid = json_get_str(pub, "kid");
	if (kid == NULL || *kid == '\0') {
		prov_log("config.provisioner", "spec §2.1: key has no kid (the "
		    "token id is name:kid)", p, NULL);
		return DV_ERR_MALFORMED;
	}
	p->kid = xstrdup(kid);
	if ((ek = json_object_get(cfg, "encryptedKey")) != NULL) {
		if (!json_is_string(ek)) {
			prov_log("config.provisioner", "spec §2.1: "
			    "encryptedKey is not a JWE compact string", p,
			    NULL);
			return DV_ERR_MALFORMED;
		}
		p->encrypted_key = xstrdup(json_string_value(ek));
	}
	p->token_id = xasprintf("%s:%s", p->name, p->kid);
	/* never list a private member given by mistake */
	json_object_set(p->json, "key", pub);
	return DV_OK;
}

/* X5C (spec §2.2): "roots" base64 of a PEM bundle, or "rootsFile". */
static enum dv_rc
load_x5c(struct prov *p, const json_t *cfg)
{
	const char *b64, *path;
	uint8_t *pem = NULL;
	size_t len = 0;
	char *enc = NULL;
	X509 *first = NULL;
	enum dv_rc rc;

	b64 = json_get_str(cfg, "roots");
	path = json_get_str(cfg, "rootsFile");
	if ((b64 == NULL) == (path == NULL)) {
		prov_log("config.provisioner", "spec §2.2: X5C needs exactly "
		    "one of roots and rootsFile", p, NULL);
		return DV_ERR_MALFORMED;
	}
	if (b64 != NULL) {
		if ((rc = pki_b64_decode(b64, strlen(b64), &pem, &len)) !=
		    DV_OK) {
			prov_log("config.provisioner", "spec §2.2: roots is "
			    "not base64", p, NULL);
			goto out;
		}
	} else if ((rc = file_read(path, PROV_MAX_ROOTS_FILE, &pem, &len)) !=
	    DV_OK) {
		prov_log("config.provisioner", "spec §2.2: cannot read "
		    "rootsFile", p, path);
		goto out;
	}
	/* x5c.go Init: the bundle must hold at least one certificate */
	if ((rc = pki_cert_from_pem((const char *)pem, len, &first)) !=
	    DV_OK) {
		prov_log("config.provisioner", "spec §2.2: roots hold no "
		    "certificate", p, NULL);
		goto out;
	}
	p->roots = pki_trust_new();
	if ((rc = pki_trust_add_roots_pem(p->roots, (const char *)pem, len)) !=
	    DV_OK) {
		prov_log("config.provisioner", "spec §2.2: roots do not "
		    "parse", p, NULL);
		goto out;
	}
	if (path != NULL) {
		/* list the roots the way step-ca does, not a local path */
		if ((rc = pki_b64_encode(pem, len, &enc)) != DV_OK)
			goto out;
		json_object_del(p->json, "rootsFile");
		json_object_set_new(p->json, "roots", json_string(enc));
	}
	p->token_id = xasprintf("x5c/%s", p->name);
out:
	pki_cert_free(first);
	free(enc);
	free(pem);
	return rc;
}

enum dv_rc
prov_load(const json_t *cfg, const struct prov_claims *global,
    struct prov **out)
{
	struct prov_claims defaults;
	struct prov *p = NULL;
	const char *type, *name;
	size_t i;
	enum dv_rc rc;

	*out = NULL;
	if (!json_is_object(cfg)) {
		prov_log("config.provisioner", "spec §2: provisioner is not an "
		    "object", NULL, NULL);
		return DV_ERR_MALFORMED;
	}
	type = json_get_str(cfg, "type");
	name = json_get_str(cfg, "name");
	if (type == NULL) {
		prov_log("config.provisioner", "spec §2: provisioner without "
		    "type", NULL, name);
		return DV_ERR_MALFORMED;
	}
	for (i = 0; i < sizeof(type_names) / sizeof(type_names[0]); i++)
		if (strcasecmp(type_names[i].name, type) == 0)
			break;
	if (i == sizeof(type_names) / sizeof(type_names[0]) ||
	    (type_names[i].type != PROV_JWK && type_names[i].type !=
	    PROV_X5C && type_names[i].type != PROV_ACME)) {
		log_msg(LOG_WARN, "config.provisioner", "{s:s,s:s,s:s*}",
		    "reason", "spec §2: provisioner type not implemented",
		    "type", type, "provisioner", name);
		return DV_ERR_NOT_IMPLEMENTED;
	}
	if (name == NULL || *name == '\0' || strlen(name) > DV_MAX_NAME ||
	    !str_printable(name, strlen(name))) {
		prov_log("config.provisioner", "spec §2: provisioner name "
		    "missing or not printable", NULL, NULL);
		return DV_ERR_MALFORMED;
	}

	p = xcalloc(1, sizeof(*p));
	p->type = type_names[i].type;
	p->name = xstrdup(name);
	if ((p->json = json_deep_copy(cfg)) == NULL)
		abort();
	json_object_set_new(p->json, "type", json_string(type_names[i].name));
	if (global == NULL) {
		prov_claims_default(&defaults);
		global = &defaults;
	}
	if ((rc = prov_claims_load(json_object_get(cfg, "claims"), global,
	    &p->claims)) != DV_OK)
		goto err;
	if ((rc = prov_policy_load(json_object_get(cfg, "policy"),
	    &p->policy)) != DV_OK)
		goto err;
	/* ACME: no key; src/acme reads its own options from the JSON */
	if (p->type == PROV_JWK)
		rc = load_jwk(p, cfg);
	else if (p->type == PROV_X5C)
		rc = load_x5c(p, cfg);
	else {
		/* no token flow; a token naming it is refused by type */
		p->token_id = xasprintf("acme:%s", p->name);
		rc = DV_OK;
	}
	if (rc != DV_OK)
		goto err;
	*out = p;
	return DV_OK;
err:
	prov_free(p);
	return rc;
}

void
prov_free(struct prov *p)
{
	if (p == NULL)
		return;
	free(p->name);
	free(p->token_id);
	json_decref(p->json);
	prov_policy_clear(&p->policy);
	json_decref(p->jwk);
	pki_key_free(p->pkey);
	free(p->kid);
	free(p->encrypted_key);
	pki_trust_free(p->roots);
	free(p);
}

enum prov_type
prov_get_type(const struct prov *p)
{
	return p->type;
}

const char *
prov_get_name(const struct prov *p)
{
	return p->name;
}

const json_t *
prov_get_json(const struct prov *p)
{
	return p->json;
}

const struct prov_claims *
prov_get_claims(const struct prov *p)
{
	return &p->claims;
}

const char *
prov_jwk_kid(const struct prov *p)
{
	return p->type == PROV_JWK ? p->kid : NULL;
}

const char *
prov_jwk_encrypted_key(const struct prov *p)
{
	return p->type == PROV_JWK ? p->encrypted_key : NULL;
}

/* ---- sets ----------------------------------------------------------- */

struct prov_set *
prov_set_new(void)
{
	return xcalloc(1, sizeof(struct prov_set));
}

enum dv_rc
prov_set_add(struct prov_set *s, struct prov *p)
{
	size_t i;

	if (s == NULL || p == NULL) {
		prov_free(p);
		return DV_ERR_INTERNAL;
	}
	/* collection.go Store: names and token ids are unique */
	for (i = 0; i < s->n; i++) {
		if (strcmp(s->v[i]->name, p->name) == 0 ||
		    strcmp(s->v[i]->token_id, p->token_id) == 0) {
			prov_log("config.provisioner", "spec §2: duplicate "
			    "provisioner name or token id", p, p->token_id);
			prov_free(p);
			return DV_ERR_EXISTS;
		}
	}
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n++] = p;
	return DV_OK;
}

void
prov_set_free(struct prov_set *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		prov_free(s->v[i]);
	free(s->v);
	free(s);
}

size_t
prov_set_count(const struct prov_set *s)
{
	return s != NULL ? s->n : 0;
}

struct prov *
prov_set_get(const struct prov_set *s, size_t i)
{
	return s != NULL && i < s->n ? s->v[i] : NULL;
}

struct prov *
prov_set_find(const struct prov_set *s, const char *name)
{
	size_t i;

	for (i = 0; s != NULL && name != NULL && i < s->n; i++)
		if (strcmp(s->v[i]->name, name) == 0)
			return s->v[i];
	return NULL;
}

struct prov *
prov_set_find_token_id(const struct prov_set *s, const char *id)
{
	size_t i;

	for (i = 0; s != NULL && id != NULL && i < s->n; i++)
		if (strcmp(s->v[i]->token_id, id) == 0)
			return s->v[i];
	return NULL;
}
