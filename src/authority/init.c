/*
 * init.c - `devid-ca init`: the data folder with three authorities per team.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "inventory/inv.h"
#include "jws/jws.h"

#include "ca.h"
#include "ca_int.h"

static const char *const kind_titles[CA__MAX] = {
	[CA_ATTESTATION] = "Attestation",
	[CA_AGENT] = "Agent",
	[CA_ACCOUNT] = "Account",
};

/* Root: 10 years; intermediate: 5 years (both backdated by a minute). */
#define ROOT_LIFETIME	(10LL * 365 * 24 * 3600)
#define INTER_LIFETIME	(5LL * 365 * 24 * 3600)

static enum dv_rc
write_pem_key(const char *path, EVP_PKEY *k, const char *pass)
{
	char *pem = NULL;
	enum dv_rc rc;

	if ((rc = pki_key_to_encrypted_pem(k, pass, &pem)) != DV_OK)
		return rc;
	rc = file_write(path, pem, strlen(pem), 0600);
	free(pem);
	return rc;
}

static enum dv_rc
write_cert(const char *path, X509 *x, struct buf *bundle)
{
	char *pem = NULL;
	enum dv_rc rc;

	if ((rc = pki_cert_to_pem(x, &pem)) != DV_OK)
		return rc;
	rc = file_write(path, pem, strlen(pem), 0644);
	if (bundle != NULL)
		buf_append(bundle, pem, strlen(pem));
	free(pem);
	return rc;
}

/* Makes root and intermediate of one authority; writes keys and certs. */
static enum dv_rc
make_authority(const struct ca_init_opts *o, enum ca_kind kind,
    const char *pre, const char *pass, struct buf *roots, json_t *summary)
{
	EVP_PKEY *rkey = NULL, *ikey = NULL;
	X509 *root = NULL, *inter = NULL;
	uint8_t *spki = NULL, *der = NULL;
	size_t spkilen, derlen;
	struct pki_signer rsig;
	struct pki_profile p;
	char *cn = NULL, *path = NULL, *fp = NULL;
	const char *kn = ca_kind_name(kind);
	time_t now = dv_now();
	enum dv_rc rc;

	if ((rc = pki_key_generate(o->key_type, &rkey)) != DV_OK ||
	    (rc = pki_key_generate(o->key_type, &ikey)) != DV_OK)
		goto out;

	memset(&p, 0, sizeof(p));
	cn = xasprintf("devid %s %s Root CA", o->team, kind_titles[kind]);
	p.cn = cn;
	p.not_before = now - 60;
	p.not_after = now + ROOT_LIFETIME;
	p.ku = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN;
	p.is_ca = true;
	p.path_len = 1;
	pki_signer_local(rkey, &rsig);
	if ((rc = pki_key_spki_der(rkey, &spki, &spkilen)) != DV_OK ||
	    (rc = pki_cert_issue(NULL, &rsig, &p, spki, spkilen, &root, &der,
	    &derlen)) != DV_OK)
		goto out;
	free(spki);
	spki = NULL;
	free(der);
	der = NULL;
	free(cn);

	cn = xasprintf("devid %s %s Intermediate CA", o->team,
	    kind_titles[kind]);
	p.cn = cn;
	p.not_after = now + INTER_LIFETIME;
	p.ku = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN | PKI_KU_DIGITAL_SIGNATURE;
	p.path_len = 0;
	if ((rc = pki_key_spki_der(ikey, &spki, &spkilen)) != DV_OK ||
	    (rc = pki_cert_issue(root, &rsig, &p, spki, spkilen, &inter, &der,
	    &derlen)) != DV_OK)
		goto out;

	path = xasprintf("%s/keys/%s%s-root.key", o->dir, pre, kn);
	if ((rc = write_pem_key(path, rkey, pass)) != DV_OK)
		goto out;
	free(path);
	path = xasprintf("%s/keys/%s%s-intermediate.key", o->dir, pre, kn);
	if ((rc = write_pem_key(path, ikey, pass)) != DV_OK)
		goto out;
	free(path);
	path = xasprintf("%s/certs/%s%s-root.crt", o->dir, pre, kn);
	if ((rc = write_cert(path, root, roots)) != DV_OK)
		goto out;
	free(path);
	path = xasprintf("%s/certs/%s%s-intermediate.crt", o->dir, pre, kn);
	if ((rc = write_cert(path, inter, NULL)) != DV_OK)
		goto out;
	fp = pki_cert_fingerprint(root);
	free(path);
	path = xasprintf("%s/certs/%s%s-root.crt", o->dir, pre, kn);
	json_object_set_new(summary, kn, json_pack("{s:s,s:s}",
	    "rootFingerprint", fp, "root", path));
out:
	free(fp);
	free(path);
	free(cn);
	free(spki);
	free(der);
	pki_cert_free(root);
	pki_cert_free(inter);
	pki_key_free(rkey);
	pki_key_free(ikey);
	return rc;
}

/* The config of one authority, as ca_open reads it back; its files are
 * named with the prefix pre ("" for the first team, "{team}-" after). */
static json_t *
authority_config(enum ca_kind kind, const char *pre, const json_t *jwk_pub)
{
	const char *kn = ca_kind_name(kind);
	json_t *provs, *a;
	char *root, *inter, *key, *agent_root;

	root = xasprintf("certs/%s%s-root.crt", pre, kn);
	inter = xasprintf("certs/%s%s-intermediate.crt", pre, kn);
	key = xasprintf("keys/%s%s-intermediate.key", pre, kn);
	agent_root = xasprintf("certs/%s%s-root.crt", pre,
	    ca_kind_name(CA_AGENT));
	provs = json_pack("[{s:s,s:s,s:O}]", "type", "JWK", "name", "admin",
	    "key", jwk_pub);
	if (kind == CA_AGENT)
		/* the Agent CA's ACME server (issue 5): device-attest-01
		 * for devices (permanent-identifier orders; tpm against the
		 * team's Attestation CA, apple and step against the built-in
		 * vendor roots), http-01 for dns names */
		json_array_append_new(provs, json_pack("{s:s,s:s,s:[s,s]}",
		    "type", "ACME", "name", "acme", "challenges", "http-01",
		    "device-attest-01"));
	if (kind == CA_ACCOUNT)
		/* device certificates (Agent CA) buy account certificates */
		json_array_append_new(provs, json_pack("{s:s,s:s,s:s}",
		    "type", "X5C", "name", "devices", "rootsFile",
		    agent_root));
	a = json_pack("{s:s,s:s,s:s,s:o,s:{s:s},s:{s:s}}",
	    "root", root, "intermediate", inter, "key", key,
	    "provisioners", provs,
	    "crl", "cacheDuration", "24h",
	    "ocsp", "validity", "4h");
	free(root);
	free(inter);
	free(key);
	free(agent_root);
	return a;
}

/*
 * The authorities of team (files prefixed pre) and its admin JWK
 * provisioner: *auths (the config's "authorities", new) and *adm (the
 * admin's provisioner.json with the private key and CA URLs, new).
 */
static enum dv_rc
team_config(const char *listen, const char *team, const char *pre,
    json_t **auths, json_t **adm)
{
	json_t *jwk = NULL, *pub = NULL, *urls;
	char *kid = NULL;
	enum dv_rc rc;
	int k;

	*auths = NULL;
	*adm = NULL;
	if ((rc = jws_jwk_generate("ES256", &jwk)) != DV_OK ||
	    (rc = jws_jwk_thumbprint(jwk, &kid)) != DV_OK)
		goto out;
	json_object_set_new(jwk, "kid", json_string(kid));
	json_object_set_new(jwk, "use", json_string("sig"));
	pub = jws_jwk_public(jwk);
	*auths = json_object();
	urls = json_object();
	for (k = 0; k < CA__MAX; k++) {
		const char *kn = ca_kind_name((enum ca_kind)k);
		char *u = xasprintf("https://%s/t/%s/%s", listen, team, kn);

		json_object_set_new(*auths, kn,
		    authority_config((enum ca_kind)k, pre, pub));
		json_object_set_new(urls, kn, json_string(u));
		free(u);
	}
	*adm = json_pack("{s:s,s:s,s:O,s:o}", "provisioner", "admin",
	    "kid", kid, "key", jwk, "caUrls", urls);
out:
	free(kid);
	json_decref(jwk);
	json_decref(pub);
	return rc;
}

/*
 * Writes the admin provisioner adm to admin/{adm_name} and the config cfg
 * to config.json (both 0600, the texts wiped after), naming both in sum.
 */
static enum dv_rc
write_admin_and_config(const char *dir, const char *adm_name,
    const json_t *adm, const json_t *cfg, json_t *sum)
{
	const json_t *doc[2] = { adm, cfg };
	const char *key[2] = { "adminCredentials", "config" };
	char *path, *text;
	enum dv_rc rc = DV_OK;
	int i;

	for (i = 0; i < 2 && rc == DV_OK; i++) {
		path = i == 0 ? xasprintf("%s/admin/%s", dir, adm_name) :
		    xasprintf("%s/config.json", dir);
		if ((text = json_dumps(doc[i], JSON_INDENT(2))) == NULL)
			rc = DV_ERR_INTERNAL;
		else {
			rc = file_write(path, text, strlen(text), 0600);
			explicit_bzero(text, strlen(text));
			free(text);
		}
		if (rc == DV_OK)
			json_object_set_new(sum, key[i], json_string(path));
		free(path);
	}
	return rc;
}

enum dv_rc
ca_init_data(const struct ca_init_opts *o, json_t **summary)
{
	static const char *const subdirs[] = { "secrets", "keys", "admin" };
	json_t *cfg = NULL, *dns, *auths = NULL;
	json_t *sum = json_object(), *adm = NULL;
	struct buf roots = { 0 };
	uint8_t rnd[32];
	char *pass = NULL, *path = NULL;
	char *host = NULL;
	enum dv_rc rc;
	size_t i;
	int k;

	*summary = NULL;
	path = xasprintf("%s/config.json", o->dir);
	if (file_exists(path)) {
		log_msg(LOG_ERR, "init.exists", "{s:s}", "path", path);
		rc = DV_ERR_EXISTS;
		goto out;
	}
	if ((rc = dir_make(o->dir, 0700)) != DV_OK)
		goto out;
	for (i = 0; i < sizeof(subdirs) / sizeof(subdirs[0]); i++) {
		free(path);
		path = xasprintf("%s/%s", o->dir, subdirs[i]);
		if ((rc = dir_make(path, 0700)) != DV_OK)
			goto out;
	}
	free(path);
	path = xasprintf("%s/certs", o->dir);
	if ((rc = dir_make(path, 0755)) != DV_OK)
		goto out;

	/* The password that encrypts every CA key. */
	if ((rc = pki_random(rnd, sizeof(rnd))) != DV_OK)
		goto out;
	pass = hex_encode(rnd, sizeof(rnd));
	explicit_bzero(rnd, sizeof(rnd));
	free(path);
	path = xasprintf("%s/secrets/password", o->dir);
	if ((rc = file_write(path, pass, strlen(pass), 0600)) != DV_OK)
		goto out;

	for (k = 0; k < CA__MAX; k++)
		if ((rc = make_authority(o, (enum ca_kind)k, "", pass, &roots,
		    sum)) != DV_OK)
			goto out;
	free(path);
	path = xasprintf("%s/certs/roots.pem", o->dir);
	if ((rc = file_write(path, roots.data, roots.len, 0644)) != DV_OK)
		goto out;

	/* The admin JWK provisioner; its private key goes to the admin. */
	if ((rc = team_config(o->listen, o->team, "", &auths, &adm)) !=
	    DV_OK)
		goto out;

	dns = json_array();
	host = xstrdup(o->listen);
	if (strrchr(host, ':') != NULL)
		*strrchr(host, ':') = '\0';
	json_array_append_new(dns, json_string(host));
	if (strcmp(host, "localhost") != 0)
		json_array_append_new(dns, json_string("localhost"));
	for (i = 0; i < o->ndns; i++)
		json_array_append_new(dns, json_string(o->dns[i]));

	cfg = json_pack("{s:s,s:o,s:i,s:{s:s,s:s},s:s,s:{s:s},s:i,"
	    "s:{s:s,s:s},s:{s:s},s:{s:{s:o}}}",
	    "listen", o->listen,
	    "dnsNames", dns,
	    "workers", 2,
	    "db", "type", "sqlite", "dataSource", "devid.db",
	    "passwordFile", "secrets/password",
	    "signer", "type", "process",
	    "maxBodyBytes", DV_MAX_BODY,
	    "tls", "authority", "default/account", "duration", "24h",
	    "log", "level", "info",
	    "teams", o->team, "authorities", auths);
	auths = NULL;	/* stolen by json_pack's "o", even on failure */
	if (cfg == NULL) {
		rc = DV_ERR_INTERNAL;
		goto out;
	}
	if (strcmp(o->team, "default") != 0)
		json_object_set_new(json_object_get(cfg, "tls"), "authority",
		    json_sprintf("%s/account", o->team));

	if ((rc = write_admin_and_config(o->dir, "provisioner.json", adm, cfg,
	    sum)) != DV_OK)
		goto out;
	*summary = sum;
	sum = NULL;
out:
	if (pass != NULL)
		explicit_bzero(pass, strlen(pass));
	free(pass);
	free(path);
	free(host);
	buf_free(&roots);
	json_decref(adm);
	json_decref(cfg);
	json_decref(auths);
	json_decref(sum);
	return rc;
}

/*
 * A team added to a data folder that has one: its three authorities (keys
 * under the same password, files named "{team}-{authority}-..."), its own
 * admin JWK provisioner (admin/{team}-provisioner.json), its roots
 * appended to certs/roots.pem, and config.json rewritten with the team.
 */
enum dv_rc
ca_team_add(const struct ca_init_opts *o, json_t **summary)
{
	struct ca tmp;
	json_t *cfg = NULL, *teams, *auths = NULL;
	json_t *sum = json_object(), *adm = NULL;
	struct buf roots = { 0 };
	uint8_t *data = NULL, *pass = NULL;
	size_t len = 0, plen = 0;
	char *path = NULL, *pre = NULL;
	const char *listen;
	enum dv_rc rc;
	int k;

	*summary = NULL;
	memset(&tmp, 0, sizeof(tmp));
	if (!inv_team_ok(o->team) || o->team[0] == '.') {
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	path = xasprintf("%s/config.json", o->dir);
	if ((rc = file_read(path, 1024 * 1024, &data, &len)) != DV_OK ||
	    (rc = json_parse_strict(data, len, 1024 * 1024, &cfg)) != DV_OK)
		goto out;
	teams = json_object_get(cfg, "teams");
	listen = json_get_str(cfg, "listen");
	if (!json_is_object(teams) || listen == NULL) {
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (json_object_get(teams, o->team) != NULL) {
		log_msg(LOG_ERR, "init.team.exists", "{s:s}", "team", o->team);
		rc = DV_ERR_EXISTS;
		goto out;
	}
	tmp.dir = (char *)o->dir;
	tmp.config = cfg;
	if ((rc = ca_password_read(&tmp, &pass, &plen)) != DV_OK)
		goto out;

	pre = xasprintf("%s-", o->team);
	for (k = 0; k < CA__MAX; k++)
		if ((rc = make_authority(o, (enum ca_kind)k, pre,
		    (const char *)pass, &roots, sum)) != DV_OK)
			goto out;
	free(path);
	path = xasprintf("%s/certs/roots.pem", o->dir);
	free(data);
	data = NULL;
	if ((rc = file_read(path, 1024 * 1024, &data, &len)) != DV_OK)
		goto out;
	buf_append(&roots, data, len);	/* theirs after ours: order free */
	if ((rc = file_write(path, roots.data, roots.len, 0644)) != DV_OK)
		goto out;

	if ((rc = team_config(listen, o->team, pre, &auths, &adm)) != DV_OK)
		goto out;
	json_object_set_new(teams, o->team, json_pack("{s:o}", "authorities",
	    auths));
	auths = NULL;	/* stolen by "o" */
	free(path);
	path = xasprintf("%s-provisioner.json", o->team);
	if ((rc = write_admin_and_config(o->dir, path, adm, cfg, sum)) !=
	    DV_OK)
		goto out;
	*summary = sum;
	sum = NULL;
out:
	if (pass != NULL)
		explicit_bzero(pass, plen);
	free(pass);
	free(data);
	free(path);
	free(pre);
	buf_free(&roots);
	json_decref(adm);
	json_decref(cfg);
	json_decref(auths);
	json_decref(sum);
	return rc;
}
