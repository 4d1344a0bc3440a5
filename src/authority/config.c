/*
 * config.c - loading config.json into the authorities (docs/configuration.md).
 */
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_int.h"

static const char *const kind_names[CA__MAX] = {
	[CA_ATTESTATION] = "attestation",
	[CA_AGENT] = "agent",
	[CA_ACCOUNT] = "account",
};

const char *
ca_kind_name(enum ca_kind k)
{
	return (unsigned)k < CA__MAX ? kind_names[k] : "unknown";
}

char *
ca_path(const struct ca *ca, const char *rel)
{
	if (rel[0] == '/')
		return xstrdup(rel);
	return xasprintf("%s/%s", ca->dir, rel);
}

enum dv_rc
ca_password_read(const struct ca *ca, uint8_t **pass, size_t *len)
{
	const char *s;
	char *path;
	long long n;
	enum dv_rc rc;

	*pass = NULL;
	*len = 0;
	if ((s = getenv("DEVID_PASSWORD")) != NULL &&
	    getenv("DEVID_PASSWORD_FD") == NULL) {
		/* from the environment: copied, then wiped from environ */
		*len = strlen(s);
		*pass = xmemdup(s, *len + 1);
		explicit_bzero((char *)s, *len);
		unsetenv("DEVID_PASSWORD");
		return DV_OK;
	}
	if ((s = getenv("DEVID_PASSWORD_FD")) != NULL) {
		if (num_parse(s, 0, 1024, &n) != DV_OK)
			return DV_ERR_MALFORMED;
		path = xasprintf("/proc/self/fd/%lld", n);
	} else
		path = ca_path(ca, json_get_str(ca->config, "passwordFile") ?
		    json_get_str(ca->config, "passwordFile") :
		    "secrets/password");
	rc = file_read(path, 4096, pass, len);
	free(path);
	if (rc != DV_OK)
		return rc;
	while (*len > 0 && ((*pass)[*len - 1] == '\n' ||
	    (*pass)[*len - 1] == '\r'))
		(*pass)[--*len] = '\0';
	return DV_OK;
}

static enum dv_rc
read_cert(const struct ca *ca, const char *rel, X509 **x, char **pem)
{
	uint8_t *data = NULL;
	size_t len;
	char *path;
	enum dv_rc rc;

	*x = NULL;
	*pem = NULL;
	if (rel == NULL)
		return DV_ERR_MALFORMED;
	path = ca_path(ca, rel);
	rc = file_read(path, DV_MAX_PEM, &data, &len);
	free(path);
	if (rc != DV_OK)
		return rc;
	if ((rc = pki_cert_from_pem((char *)data, len, x)) == DV_OK)
		*pem = (char *)data;
	else
		free(data);
	return rc;
}

/* Audience URLs of one method for base on every name (spec §1.9). */
static void
add_auds(struct ca_authority *a, enum prov_method m, const char *const *sfx,
    size_t nsfx)
{
	struct ca *ca = a->ca;
	size_t i, j, n = 0, cap = ca->ndns * nsfx * 2 + 1;
	char **v = xcalloc(cap + 1, sizeof(*v));

	for (i = 0; i < ca->ndns; i++) {
		const char *h = ca->dns[i];
		bool v6 = strchr(h, ':') != NULL;

		for (j = 0; j < nsfx; j++) {
			v[n++] = xasprintf("https://%s%s%s:%d%s%s", v6 ? "[" :
			    "", h, v6 ? "]" : "", ca->port, a->base, sfx[j]);
			v[n++] = xasprintf("https://%s%s%s%s%s", v6 ? "[" : "",
			    h, v6 ? "]" : "", a->base, sfx[j]);
		}
	}
	if (m != PROV_RENEW)
		v[n++] = xstrdup("step-certificate-authority");
	a->auds[m] = v;
	a->nauds[m] = n;
}

static void
authority_free(struct ca_authority *a)
{
	size_t i;
	int m;

	if (a == NULL)
		return;
	for (m = 0; m < PROV__MAX; m++) {
		for (i = 0; i < a->nauds[m]; i++)
			free(a->auds[m][i]);
		free(a->auds[m]);
	}
	prov_set_free(a->provs);
	pki_trust_free(a->trust);
	pki_cert_free(a->root);
	pki_cert_free(a->inter);
	free(a->root_pem);
	free(a->inter_pem);
	free(a->root_sha);
	free(a->crl_url);
	free(a->ocsp_url);
	free(a->issuer_url);
	free(a->crl_der);
	ca_attest_policy_free(a->att);
	pthread_mutex_destroy(&a->crl_lock);
	free(a->team);
	free(a->id);
	free(a->base);
	free(a);
}

static enum dv_rc
load_provisioners(struct ca_authority *a, const json_t *list,
    const struct prov_claims *global)
{
	struct ca *ca = a->ca;
	json_t *e;
	size_t i;
	enum dv_rc rc;

	a->provs = prov_set_new();
	if (list == NULL)
		return DV_OK;
	if (!json_is_array(list))
		return DV_ERR_MALFORMED;
	json_array_foreach(list, i, e) {
		struct prov *p = NULL;
		const char *rf = json_get_str(e, "rootsFile");
		json_t *c = json_deep_copy(e);

		/* rootsFile and the files of attestationRoots are relative
		 * to the data folder */
		if (rf != NULL) {
			char *abs = ca_path(ca, rf);

			json_object_set_new(c, "rootsFile", json_string(abs));
			free(abs);
		}
		{
			json_t *ar = json_object_get(c, "attestationRoots"), *v;
			const char *k;

			json_object_foreach(ar, k, v) {
				char *abs;

				if (!json_is_string(v))
					continue;	/* refused at load */
				abs = ca_path(ca, json_string_value(v));
				json_object_set_new(ar, k, json_string(abs));
				free(abs);
			}
		}
		rc = prov_load(c, global, &p);
		json_decref(c);
		if (rc != DV_OK) {
			log_msg(LOG_ERR, "config.provisioner", "{s:s,s:i}",
			    "authority", a->id, "index", (int)i);
			return rc;
		}
		if ((rc = prov_set_add(a->provs, p)) != DV_OK)
			return rc;
	}
	return DV_OK;
}

static enum dv_rc
load_authority(struct ca *ca, const char *team, enum ca_kind kind,
    const json_t *cfg, unsigned key_idx, const struct prov_claims *global,
    struct ca_authority **out)
{
	struct ca_authority *a = xcalloc(1, sizeof(*a));
	const char *host = ca->dns[0];
	bool v6 = strchr(host, ':') != NULL;
	int64_t secs;
	const char *s;
	enum dv_rc rc;
	static const char *const sign_sfx[] = { "/1.0/sign", "/sign" };
	static const char *const revoke_sfx[] = { "/1.0/revoke", "/revoke" };
	static const char *const renew_sfx[] = { "/1.0/renew", "/renew" };

	*out = NULL;
	pthread_mutex_init(&a->crl_lock, NULL);
	a->ca = ca;
	a->team = xstrdup(team);
	a->kind = kind;
	a->id = xasprintf("%s/%s", team, ca_kind_name(kind));
	a->base = xasprintf("/t/%s/%s", team, ca_kind_name(kind));
	if ((rc = read_cert(ca, json_get_str(cfg, "root"), &a->root,
	    &a->root_pem)) != DV_OK ||
	    (rc = read_cert(ca, json_get_str(cfg, "intermediate"), &a->inter,
	    &a->inter_pem)) != DV_OK)
		goto err;
	a->root_sha = pki_cert_fingerprint(a->root);
	a->trust = pki_trust_new();
	if ((rc = pki_trust_add_root(a->trust, a->root)) != DV_OK ||
	    (rc = pki_trust_add_intermediate(a->trust, a->inter)) != DV_OK)
		goto err;
	if ((rc = signer_pki(ca->signer, key_idx, &a->inter_signer)) != DV_OK)
		goto err;
	a->inter_key = key_idx;

	a->crl_url = xasprintf("https://%s%s%s:%d%s/crl", v6 ? "[" : "", host,
	    v6 ? "]" : "", ca->port, a->base);
	a->ocsp_url = xasprintf("https://%s%s%s:%d%s/ocsp", v6 ? "[" : "",
	    host, v6 ? "]" : "", ca->port, a->base);
	a->issuer_url = xasprintf("https://%s%s%s:%d%s/intermediate.crt",
	    v6 ? "[" : "", host, v6 ? "]" : "", ca->port, a->base);
	a->crl_cache = 24 * 3600;
	if ((s = json_get_str(json_object_get(cfg, "crl"), "cacheDuration"))
	    != NULL) {
		if ((rc = dur_parse(s, &secs)) != DV_OK || secs < 60)
			goto bad;
		a->crl_cache = secs;
	}
	a->ocsp_validity = 4 * 3600;
	if ((s = json_get_str(json_object_get(cfg, "ocsp"), "validity"))
	    != NULL) {
		if ((rc = dur_parse(s, &secs)) != DV_OK || secs < 60)
			goto bad;
		a->ocsp_validity = secs;
	}
	add_auds(a, PROV_SIGN, sign_sfx, 2);
	add_auds(a, PROV_REVOKE, revoke_sfx, 2);
	add_auds(a, PROV_RENEW, renew_sfx, 2);
	if ((rc = load_provisioners(a, json_object_get(cfg, "provisioners"),
	    global)) != DV_OK)
		goto err;
	*out = a;
	return DV_OK;
bad:
	log_msg(LOG_ERR, "config.authority", "{s:s,s:s}", "authority", a->id,
	    "detail", "bad crl/ocsp duration");
	rc = DV_ERR_MALFORMED;
err:
	authority_free(a);
	return rc;
}

static enum dv_rc
parse_listen(struct ca *ca)
{
	const char *c = strrchr(ca->listen, ':');
	long long port;

	if (c == NULL || num_parse(c + 1, 1, 65535, &port) != DV_OK)
		return DV_ERR_MALFORMED;
	ca->port = (int)port;
	return DV_OK;
}

enum dv_rc
ca_open(const char *dir, bool local_signer, struct ca **out)
{
	struct ca *ca = xcalloc(1, sizeof(*ca));
	struct signer_key *keys = NULL;
	struct prov_claims global;
	const char *team, *kn, *s;
	json_t *teams, *t, *auths, *acfg, *v;
	uint8_t *data = NULL, *pass = NULL;
	size_t len, nkeys = 0, i;
	char *path = NULL, *url = NULL;
	long long n;
	enum dv_rc rc;

	*out = NULL;
	ca->dir = xstrdup(dir);
	ca->started = dv_now();
	path = xasprintf("%s/config.json", dir);
	if ((rc = file_read(path, 1024 * 1024, &data, &len)) != DV_OK)
		goto err;
	if ((rc = json_parse_strict(data, len, 1024 * 1024, &ca->config))
	    != DV_OK) {
		log_msg(LOG_ERR, "config.parse", "{s:s}", "path", path);
		goto err;
	}
	if ((s = json_get_str(ca->config, "listen")) == NULL)
		goto bad;
	ca->listen = xstrdup(s);
	if (parse_listen(ca) != DV_OK)
		goto bad;
	v = json_object_get(ca->config, "dnsNames");
	if (!json_is_array(v) || json_array_size(v) == 0)
		goto bad;
	ca->ndns = json_array_size(v);
	ca->dns = xcalloc(ca->ndns, sizeof(*ca->dns));
	for (i = 0; i < ca->ndns; i++) {
		if ((s = json_string_value(json_array_get(v, i))) == NULL)
			goto bad;
		ca->dns[i] = xstrdup(s);
	}
	ca->workers = 2;
	if ((v = json_object_get(ca->config, "workers")) != NULL) {
		if (!json_is_integer(v) || json_integer_value(v) < 1 ||
		    json_integer_value(v) > 64)
			goto bad;
		ca->workers = (unsigned)json_integer_value(v);
	}
	ca->max_body = DV_MAX_BODY;
	if ((v = json_object_get(ca->config, "maxBodyBytes")) != NULL) {
		n = json_integer_value(v);
		if (!json_is_integer(v) || n < 1024 || n > DV_MAX_BODY_CEILING)
			goto bad;
		ca->max_body = (size_t)n;
	}
	ca->max_conns = DV_MAX_CONNS;
	if ((v = json_object_get(ca->config, "maxConnections")) != NULL) {
		n = json_integer_value(v);
		if (!json_is_integer(v) || n < 1 || n > 1000000)
			goto bad;
		ca->max_conns = (int)n;
	}
	ca->max_import = DV_MAX_IMPORT;
	if ((v = json_object_get(ca->config, "maxImportBytes")) != NULL) {
		n = json_integer_value(v);
		if (!json_is_integer(v) || n < 1024 ||
		    n > DV_MAX_IMPORT_CEILING)
			goto bad;
		ca->max_import = (size_t)n;
	}
	ca->tls_dur = 24 * 3600;
	if ((s = json_get_str(json_object_get(ca->config, "tls"), "duration"))
	    != NULL) {
		int64_t d;

		if (dur_parse(s, &d) != DV_OK || d < 600)
			goto bad;
		ca->tls_dur = d;
	}

	prov_claims_default(&global);
	if ((v = json_object_get(ca->config, "claims")) != NULL &&
	    (rc = prov_claims_load(v, &global, &global)) != DV_OK)
		goto err;

	/* Collect the intermediate keys in authority order. */
	teams = json_object_get(ca->config, "teams");
	if (!json_is_object(teams) || json_object_size(teams) == 0)
		goto bad;
	json_object_foreach(teams, team, t) {
		auths = json_object_get(t, "authorities");
		if (!json_is_object(auths))
			goto bad;
		json_object_foreach(auths, kn, acfg) {
			if ((s = json_get_str(acfg, "key")) == NULL)
				goto bad;
			keys = xrealloc(keys, (nkeys + 1) * sizeof(*keys));
			keys[nkeys++].path = ca_path(ca, s);
		}
	}

	if ((rc = ca_password_read(ca, &pass, &len)) != DV_OK)
		goto err;
	s = json_get_str(json_object_get(ca->config, "signer"), "type");
	if (local_signer || (s != NULL && strcmp(s, "local") == 0))
		rc = signer_start_local(keys, nkeys, (char *)pass, &ca->signer);
	else
		rc = signer_start_proc(keys, nkeys, (char *)pass,
		    ca->workers + 2, &ca->signer);
	explicit_bzero(pass, len);
	if (rc != DV_OK)
		goto err;

	s = json_get_str(json_object_get(ca->config, "db"), "dataSource");
	url = ca_path(ca, s != NULL ? s : "devid.db");
	if ((rc = store_open(url, &ca->store)) != DV_OK)
		goto err;
	store_set_presign(ca->store, ca_presign, ca);
	if ((rc = inv_open(ca->store, &ca->inv)) != DV_OK)
		goto err;
	/* MDM sources (docs/mdm.md): the sync thread starts here, after the
	 * signer process was forked. */
	if ((rc = inv_mdm_start(ca->inv, ca->config, dir, &ca->mdm)) != DV_OK)
		goto err;

	i = 0;
	json_object_foreach(teams, team, t) {
		auths = json_object_get(t, "authorities");
		json_object_foreach(auths, kn, acfg) {
			struct ca_authority *a;
			int k;

			for (k = 0; k < CA__MAX; k++)
				if (strcmp(kn, kind_names[k]) == 0)
					break;
			if (k == CA__MAX) {
				log_msg(LOG_ERR, "config.authority", "{s:s}",
				    "unknown", kn);
				goto bad;
			}
			if ((rc = load_authority(ca, team, (enum ca_kind)k,
			    acfg, (unsigned)i++, &global, &a)) != DV_OK)
				goto err;
			/* the team's attestation policy (issue 4) */
			if (k == CA_ATTESTATION && (rc = ca_attest_load(a,
			    json_object_get(t, "attestation"))) != DV_OK) {
				authority_free(a);
				goto err;
			}
			ca->auths = xrealloc(ca->auths,
			    (ca->nauths + 1) * sizeof(*ca->auths));
			ca->auths[ca->nauths++] = a;
		}
	}
	s = json_get_str(json_object_get(ca->config, "tls"), "authority");
	for (i = 0; s != NULL && i < ca->nauths; i++)
		if (strcmp(ca->auths[i]->id, s) == 0)
			ca->tls_auth = ca->auths[i];
	if (ca->tls_auth == NULL)
		goto bad;
	rc = DV_OK;
	goto out;
bad:
	log_msg(LOG_ERR, "config.invalid", "{s:s}", "dir", dir);
	rc = DV_ERR_MALFORMED;
err:
	ca_free(ca);
	ca = NULL;
out:
	for (i = 0; i < nkeys; i++)
		free((char *)keys[i].path);
	free(keys);
	free(pass);
	free(data);
	free(path);
	free(url);
	*out = ca;
	return rc;
}

void
ca_free(struct ca *ca)
{
	size_t i;

	if (ca == NULL)
		return;
	inv_mdm_stop(ca->mdm);
	inv_free(ca->inv);
	/* the store drains its queue first: an issuance still queued is
	 * signed (ca_presign) with its authority and the signer alive */
	store_close(ca->store);
	for (i = 0; i < ca->nauths; i++)
		authority_free(ca->auths[i]);
	free(ca->auths);
	signer_stop(ca->signer);
	for (i = 0; i < ca->ndns; i++)
		free(ca->dns[i]);
	free(ca->dns);
	free(ca->listen);
	json_decref(ca->config);
	free(ca->dir);
	free(ca);
}

struct ca_authority *
ca_find(struct ca *ca, const char *team, const char *kind)
{
	size_t i;

	for (i = 0; i < ca->nauths; i++)
		if (strcmp(ca->auths[i]->team, team) == 0 &&
		    strcmp(ca_kind_name(ca->auths[i]->kind), kind) == 0)
			return ca->auths[i];
	return NULL;
}
