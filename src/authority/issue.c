/*
 * issue.c - sign, renew and rekey (spec/provisioners.md §1.4-1.6, §1.10).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_int.h"

/* step-ca backdates notBefore by a minute (authority.backdate). */
#define CA_BACKDATE	60

void
ca_issue_free(struct ca_issue *iss)
{
	if (iss == NULL)
		return;
	pki_cert_free(iss->cert);
	free(iss->der);
	free(iss->row.serial);
	free(iss->row.authority);
	free(iss->row.provisioner);
	free(iss->row.subject);
	free(iss->row.sans);
	free(iss->row.renewed_from);
	free(iss->row.device_id);
	free(iss->token_id);
	free(iss->actor);
	free(iss->request_id);
	free(iss->detail);
	free(iss->tbs);
	free(iss->presign.der);
	free(iss);
}

struct ca_issue *
ca_issue_new(struct ca_authority *a, const char *request_id)
{
	struct ca_issue *iss = xcalloc(1, sizeof(*iss));

	iss->auth = a;
	iss->request_id = xstrdup(request_id != NULL ? request_id : "");
	return iss;
}

/* Fills the store row and audit of iss from its certificate. */
static enum dv_rc
issue_fill(struct ca_issue *iss, const char *prov, const char *action)
{
	struct pki_sans sans = { 0 };
	json_t *j;
	enum dv_rc rc;

	iss->row.serial = pki_cert_serial_dec(iss->cert);
	iss->row.authority = xstrdup(iss->auth->id);
	iss->row.provisioner = prov != NULL ? xstrdup(prov) : NULL;
	iss->row.subject = pki_cert_subject(iss->cert);
	if ((rc = pki_cert_sans(iss->cert, &sans)) != DV_OK)
		return rc;
	j = pki_sans_to_json(&sans);
	iss->row.sans = json_dumps(j, JSON_COMPACT);
	json_decref(j);
	pki_sans_clear(&sans);
	iss->row.not_before = pki_cert_not_before(iss->cert);
	iss->row.not_after = pki_cert_not_after(iss->cert);
	iss->row.der = iss->der;
	iss->row.derlen = iss->derlen;
	iss->audit.team = iss->auth->team;
	iss->audit.actor = iss->actor;
	iss->audit.action = action;
	iss->audit.object = iss->row.serial;
	iss->audit.request_id = iss->request_id;
	iss->audit.detail = iss->detail;
	return DV_OK;
}

enum dv_rc
ca_issue_sign(struct ca_authority *a, const struct pki_profile *p,
    const uint8_t *spki, size_t spkilen, struct ca_issue *iss)
{
	return pki_cert_issue(a->inter, &a->inter_signer, p, spki, spkilen,
	    &iss->cert, &iss->der, &iss->derlen);
}

/*
 * The certificate built, its signature left to the committer with the rest
 * of its batch (ca_presign, ca_commit_submit): the request thread does not
 * wait for the signer process.
 */
static enum dv_rc
ca_issue_defer(struct ca_authority *a, const struct pki_profile *p,
    const uint8_t *spki, size_t spkilen, struct ca_issue *iss)
{
	enum dv_rc rc;

	if ((rc = pki_cert_build(a->inter, p, spki, spkilen, &iss->cert)) !=
	    DV_OK)
		return rc;
	return ca_issue_tbs(a, iss);
}

enum dv_rc
ca_issue_tbs(struct ca_authority *a, struct ca_issue *iss)
{
	enum dv_rc rc;

	if ((rc = pki_cert_tbs(iss->cert, a->inter_signer.alg, &iss->tbs,
	    &iss->tbslen)) != DV_OK)
		return rc;
	iss->presign.arg = iss;
	return DV_OK;
}

enum dv_rc
ca_issue_renew(struct ca_authority *a, X509 *old, time_t nb, time_t na,
    const uint8_t *spki, size_t spkilen, struct ca_issue *iss)
{
	return pki_cert_renew(a->inter, &a->inter_signer, old, nb, na, spki,
	    spkilen, &iss->cert, &iss->der, &iss->derlen);
}

enum dv_rc
ca_sign_prepare(struct ca_authority *a, const char *csr_pem, const char *ott,
    const char *nb, const char *na, const char *request_id,
    struct ca_issue **out)
{
	struct prov_authz *az = NULL;
	struct pki_csr *csr = NULL;
	struct ca_issue *iss = NULL;
	const struct prov_claims *cl;
	struct pki_profile p;
	time_t now = dv_now(), not_before, not_after;
	json_t *d;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = pki_csr_parse((const uint8_t *)csr_pem, strlen(csr_pem),
	    false, &csr)) != DV_OK)
		goto out;
	if ((rc = prov_authorize(a->provs, ott, PROV_SIGN,
	    (const char *const *)a->auds[PROV_SIGN], a->nauds[PROV_SIGN], now,
	    &az)) != DV_OK)
		goto out;
	if ((rc = prov_check_csr(az, csr)) != DV_OK ||
	    (rc = prov_validity(az, nb, na, now, &not_before, &not_after))
	    != DV_OK ||
	    (rc = prov_policy_check(az->prov, az->sub, &az->sans)) != DV_OK)
		goto out;

	cl = prov_get_claims(az->prov);
	memset(&p, 0, sizeof(p));
	p.cn = az->sub;
	p.sans = &az->sans;
	p.not_before = not_before;
	p.not_after = not_after;
	/* step's DefaultLeafTemplate: KU digitalSignature (+ keyEncipherment
	 * for RSA keys), EKU serverAuth and clientAuth. */
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	if (csr->keytype == PKI_KEY_RSA2048 || csr->keytype == PKI_KEY_RSA3072
	    || csr->keytype == PKI_KEY_RSA4096)
		p.ku |= PKI_KU_KEY_ENCIPHERMENT;
	p.eku = PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	p.crl_url = a->crl_url;
	p.ocsp_url = a->ocsp_url;
	p.issuer_url = a->issuer_url;
	if (!cl->disable_smallstep_ext) {
		p.prov_type = (int)prov_get_type(az->prov);
		p.prov_name = prov_get_name(az->prov);
		p.prov_cred = prov_get_type(az->prov) == PROV_JWK ?
		    prov_jwk_kid(az->prov) : "";
	}

	iss = ca_issue_new(a, request_id);
	if ((rc = ca_issue_defer(a, &p, csr->spki, csr->spkilen, iss)) !=
	    DV_OK)
		goto out;
	iss->token_id = xstrdup(az->token_id);
	iss->token_exp = az->token_exp;
	iss->actor = xstrdup(az->actor);
	d = json_pack("{s:s}", "provisionerType",
	    prov_get_type(az->prov) == PROV_X5C ? "X5C" : "JWK");
	iss->detail = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if ((rc = issue_fill(iss, prov_get_name(az->prov), "cert.issue"))
	    != DV_OK)
		goto out;
	*out = iss;
	iss = NULL;
out:
	ca_issue_free(iss);
	prov_authz_free(az);
	pki_csr_free(csr);
	return rc;
}

enum dv_rc
ca_renew_prepare(struct ca_authority *a, X509 *peer,
    STACK_OF(X509) *peer_chain, const char *bearer, const char *csr_pem,
    const char *request_id, struct ca_issue **out)
{
	struct store_cert *row = NULL;
	struct pki_csr *csr = NULL;
	struct ca_issue *iss = NULL;
	const struct prov_claims *cl = NULL;
	struct prov *prov = NULL;
	X509 *leaf = NULL;
	char *serial = NULL, *token_id = NULL, *pname = NULL;
	time_t now = dv_now(), token_exp = 0, nb, na;
	int ptype = 0;
	enum dv_rc rc;

	*out = NULL;
	if (peer != NULL) {
		/* mTLS: the presented certificate, valid now, of this CA. */
		if ((rc = pki_trust_verify(a->trust, peer, peer_chain, 0, 0,
		    false)) != DV_OK)
			goto out;
		leaf = pki_cert_up_ref(peer);
	} else if (bearer != NULL && csr_pem == NULL) {
		if ((rc = prov_authorize_renew_token(a->trust, a->provs,
		    bearer, (const char *const *)a->auds[PROV_RENEW],
		    a->nauds[PROV_RENEW], now, &leaf, &token_id, &token_exp))
		    != DV_OK)
			goto out;
	} else {
		log_msg(LOG_INFO, "renew.unauthenticated", "{s:s}",
		    "authority", a->id);
		rc = csr_pem != NULL ? DV_ERR_MALFORMED : DV_ERR_UNAUTHORIZED;
		goto out;
	}

	serial = pki_cert_serial_dec(leaf);
	rc = store_cert_get(a->ca->store, serial, &row);
	if (rc == DV_OK && row->revoked) {
		log_msg(LOG_INFO, "renew.revoked", "{s:s}", "serial", serial);
		rc = DV_ERR_REVOKED;
		goto out;
	}
	if (rc != DV_OK && rc != DV_ERR_NOT_FOUND)
		goto out;
	/* The provisioner: from the store, else from the extension. */
	if (row != NULL && row->provisioner != NULL)
		prov = prov_set_find(a->provs, row->provisioner);
	else if (pki_cert_provisioner(leaf, &ptype, &pname) == DV_OK)
		prov = prov_set_find(a->provs, pname);
	if (prov != NULL) {
		cl = prov_get_claims(prov);
		if (cl->disable_renewal) {
			log_msg(LOG_INFO, "renew.disabled", "{s:s}",
			    "provisioner", prov_get_name(prov));
			rc = DV_ERR_FORBIDDEN;
			goto out;
		}
	}
	if (now < pki_cert_not_before(leaf)) {
		rc = DV_ERR_UNAUTHORIZED;
		goto out;
	}
	if (now > pki_cert_not_after(leaf) &&
	    (cl == NULL || !cl->allow_renewal_after_expiry)) {
		log_msg(LOG_INFO, "renew.expired", "{s:s}", "serial", serial);
		rc = DV_ERR_EXPIRED;
		goto out;
	}
	if (csr_pem != NULL && (rc = pki_csr_parse((const uint8_t *)csr_pem,
	    strlen(csr_pem), false, &csr)) != DV_OK)
		goto out;

	/* Same lifetime as the old certificate, starting now (§1.5). */
	nb = now - CA_BACKDATE;
	na = now + (pki_cert_not_after(leaf) - pki_cert_not_before(leaf) -
	    CA_BACKDATE);
	iss = ca_issue_new(a, request_id);
	if ((rc = ca_issue_renew(a, leaf, nb, na, csr ? csr->spki : NULL,
	    csr ? csr->spkilen : 0, iss)) != DV_OK)
		goto out;
	iss->token_id = token_id;
	token_id = NULL;
	iss->token_exp = token_exp;
	iss->actor = xasprintf("%s:%s", peer != NULL ? "mtls" : "x5cInsecure",
	    serial);
	iss->detail = NULL;
	if ((rc = issue_fill(iss, prov != NULL ? prov_get_name(prov) :
	    (row != NULL ? row->provisioner : NULL), csr_pem != NULL ?
	    "cert.rekey" : "cert.renew")) != DV_OK)
		goto out;
	iss->row.renewed_from = serial;
	serial = NULL;
	*out = iss;
	iss = NULL;
out:
	ca_issue_free(iss);
	pki_csr_free(csr);
	store_cert_free(row);
	pki_cert_free(leaf);
	free(serial);
	free(token_id);
	free(pname);
	return rc;
}

struct commit_ctx {
	struct ca_issue	*iss;
	store_done_fn	 done;
	void		*arg;
};

/*
 * The issuances of one committer batch that wait for their signature:
 * grouped by authority (one signer key each), one signer_sign_batch per
 * group, then each certificate's DER from its TBS and signature, and the
 * signature also put in its X509 (as pki_cert_issue leaves it).
 */
void
ca_presign(void *arg, struct store_presign *const *v, size_t n)
{
	struct ca *ca = arg;
	struct signer_job jobs[DV_MAX_COMMIT_BATCH];
	struct ca_issue *iss[DV_MAX_COMMIT_BATCH];
	struct ca_authority *a;
	bool done[DV_MAX_COMMIT_BATCH] = { false };
	size_t i, j, k;

	if (n > DV_MAX_COMMIT_BATCH)
		n = DV_MAX_COMMIT_BATCH;	/* the store passes no more */
	for (i = 0; i < n; i++) {
		if (done[i])
			continue;
		a = ((struct ca_issue *)v[i]->arg)->auth;
		for (j = i, k = 0; j < n; j++) {
			if (done[j] || ((struct ca_issue *)v[j]->arg)->auth != a)
				continue;
			iss[k] = v[j]->arg;
			jobs[k].tbs = iss[k]->tbs;
			jobs[k].len = iss[k]->tbslen;
			k++;
			done[j] = true;
		}
		signer_sign_batch(ca->signer, a->inter_key, jobs, k);
		for (j = 0; j < k; j++) {
			struct store_presign *ps = &iss[j]->presign;

			ps->rc = jobs[j].rc;
			if (ps->rc == DV_OK)
				ps->rc = pki_signed_der(a->inter_signer.alg,
				    iss[j]->tbs, iss[j]->tbslen, jobs[j].sig,
				    jobs[j].siglen, &ps->der, &ps->derlen);
			if (ps->rc == DV_OK)
				ps->rc = pki_cert_set_signature(iss[j]->cert,
				    jobs[j].sig, jobs[j].siglen);
			if (ps->rc != DV_OK)
				log_msg(LOG_ERR, "cert.sign", "{s:s,s:s}",
				    "authority", a->id, "error",
				    dv_rc_str(ps->rc));
			free(jobs[j].sig);
		}
	}
}

static void
commit_done(void *arg, enum dv_rc rc)
{
	struct commit_ctx *c = arg;

	/* a certificate signed by the committer: its DER is the answer's */
	if (c->iss->tbs != NULL && rc == DV_OK) {
		c->iss->der = c->iss->presign.der;
		c->iss->derlen = c->iss->presign.derlen;
		c->iss->presign.der = NULL;
		free(c->iss->tbs);
		c->iss->tbs = NULL;
	}
	c->iss->rc = rc;
	if (rc != DV_OK)
		log_msg(LOG_WARN, "cert.store", "{s:s,s:s}", "serial",
		    c->iss->row.serial, "error", dv_rc_str(rc));
	c->done(c->arg, rc);
	free(c);
}

void
ca_commit_submit(struct ca *ca, struct ca_issue *iss, store_done_fn done,
    void *arg)
{
	struct commit_ctx *c = xcalloc(1, sizeof(*c));
	struct store_issue op;

	c->iss = iss;
	c->done = done;
	c->arg = arg;
	op.token_id = iss->token_id;
	op.token_exp = iss->token_exp;
	op.cert = &iss->row;
	op.audit = &iss->audit;
	op.also = iss->also;
	op.also_arg = iss->also_arg;
	op.presign = iss->tbs != NULL ? &iss->presign : NULL;
	store_issue_submit(ca->store, &op, commit_done, c);
}

/*
 * The answer of /1.0/sign, /1.0/renew and /1.0/rekey (step-ca's
 * SignResponse), built and encoded by jansson (STYLE rule 23).  Both PEMs
 * are ASCII by construction, so their strings skip jansson's UTF-8 check.
 */
char *
ca_issue_response(const struct ca_issue *iss, size_t *len)
{
	const char *inter = iss->auth->inter_pem;
	char *pem = NULL, *out = NULL;
	json_t *js = NULL, *leaf, *ca;

	*len = 0;
	if (pki_cert_der_to_pem(iss->der, iss->derlen, &pem) != DV_OK)
		return NULL;
	leaf = json_stringn_nocheck(pem, strlen(pem));
	ca = json_stringn_nocheck(inter, strlen(inter));
	/* step-ca's tlsOptions (constant) */
	js = json_pack("{s:O,s:O,s:[O,O],s:{s:[s,s],s:f,s:f,s:b}}",
	    "crt", leaf, "ca", ca, "certChain", leaf, ca, "tlsOptions",
	    "cipherSuites", "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256",
	    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256", "minVersion", 1.2,
	    "maxVersion", 1.3, "renegotiation", 0);
	json_decref(leaf);
	json_decref(ca);
	if (js != NULL && (out = json_dumps(js, JSON_COMPACT)) != NULL)
		*len = strlen(out);
	json_decref(js);
	free(pem);
	return out;
}

enum dv_rc
ca_tls_issue(struct ca *ca, char **chain_pem, char **key_pem,
    time_t *not_after)
{
	struct ca_authority *a = ca->tls_auth;
	struct pki_sans sans = { 0 };
	struct pki_profile p;
	struct ca_issue *iss = NULL;
	EVP_PKEY *k = NULL;
	uint8_t *spki = NULL;
	size_t spkilen, i;
	char *leaf = NULL;
	time_t now = dv_now();
	enum dv_rc rc;

	*chain_pem = *key_pem = NULL;
	*not_after = 0;
	for (i = 0; i < ca->ndns; i++)
		if ((rc = pki_sans_add_auto(&sans, ca->dns[i])) != DV_OK)
			goto out;
	if ((rc = pki_key_generate(PKI_KEY_P256, &k)) != DV_OK ||
	    (rc = pki_key_spki_der(k, &spki, &spkilen)) != DV_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	p.cn = "devid-ca";
	p.sans = &sans;
	p.not_before = now - CA_BACKDATE;
	p.not_after = now + ca->tls_dur;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = PKI_EKU_SERVER_AUTH;
	p.path_len = -1;
	p.crl_url = a->crl_url;
	p.ocsp_url = a->ocsp_url;
	p.issuer_url = a->issuer_url;
	iss = ca_issue_new(a, "tls");
	if ((rc = ca_issue_sign(a, &p, spki, spkilen, iss)) != DV_OK)
		goto out;
	iss->actor = xstrdup("devid-ca");
	if ((rc = issue_fill(iss, NULL, "cert.issue.tls")) != DV_OK)
		goto out;
	/* Stored like every certificate, before it is used. */
	{
		struct store_issue op = { .cert = &iss->row,
		    .audit = &iss->audit };

		if ((rc = store_issue(ca->store, &op)) != DV_OK)
			goto out;
	}
	if ((rc = pki_cert_to_pem(iss->cert, &leaf)) != DV_OK ||
	    (rc = pki_key_to_pem(k, key_pem)) != DV_OK)
		goto out;
	*chain_pem = xasprintf("%s%s", leaf, a->inter_pem);
	*not_after = p.not_after;
out:
	free(leaf);
	free(spki);
	pki_key_free(k);
	pki_sans_clear(&sans);
	ca_issue_free(iss);
	return rc;
}

enum dv_rc
ca_acme_prepare(struct ca_authority *a, const struct prov *prov,
    const struct pki_csr *csr, const struct pki_sans *names, time_t nb,
    time_t na, const char *actor, const char *request_id,
    struct ca_issue **out)
{
	struct ca_issue *iss = NULL;
	struct pki_profile p;
	const char *cn = NULL;
	size_t i;
	json_t *d;
	enum dv_rc rc;

	*out = NULL;
	/* step-ca: the CSR's CN when it is one of the names, else the
	 * first name */
	for (i = 0; csr->cn != NULL && i < names->n; i++)
		if (strcasecmp(names->v[i].value, csr->cn) == 0)
			cn = csr->cn;
	if (cn == NULL && names->n > 0)
		cn = names->v[0].value;
	memset(&p, 0, sizeof(p));
	p.cn = cn;
	p.sans = names;
	p.not_before = nb;
	p.not_after = na;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	if (csr->keytype == PKI_KEY_RSA2048 || csr->keytype == PKI_KEY_RSA3072
	    || csr->keytype == PKI_KEY_RSA4096)
		p.ku |= PKI_KU_KEY_ENCIPHERMENT;
	p.eku = PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	p.crl_url = a->crl_url;
	p.ocsp_url = a->ocsp_url;
	p.issuer_url = a->issuer_url;
	if (!prov_get_claims(prov)->disable_smallstep_ext) {
		p.prov_type = (int)prov_get_type(prov);
		p.prov_name = prov_get_name(prov);
		p.prov_cred = "";
	}
	iss = ca_issue_new(a, request_id);
	if ((rc = ca_issue_defer(a, &p, csr->spki, csr->spkilen, iss)) !=
	    DV_OK)
		goto out;
	iss->actor = xstrdup(actor);
	d = json_pack("{s:s}", "provisionerType", "ACME");
	iss->detail = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if ((rc = issue_fill(iss, prov_get_name(prov), "cert.issue"))
	    != DV_OK)
		goto out;
	*out = iss;
	iss = NULL;
out:
	ca_issue_free(iss);
	return rc;
}

enum dv_rc
ca_acme_device_prepare(struct ca_authority *a, const struct prov *prov,
    const struct pki_csr *csr, const struct ca_device_id *dev, time_t nb,
    time_t na, const char *actor, const char *request_id,
    struct ca_issue **out)
{
	struct ca_issue *iss = NULL;
	struct pki_profile p;
	struct pki_sans sans = { 0 };
	json_t *d;
	enum dv_rc rc;

	*out = NULL;
	/* draft-ietf-acme-device-attest §6: the permanent identifier in
	 * the SAN, with the EK URN as a URI for tpm; clientAuth only */
	if (dev->ek_urn != NULL && (rc = pki_sans_add(&sans, PKI_SAN_URI,
	    dev->ek_urn)) != DV_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	/* spec §12: the subject is the CSR's CN (the caller checked it is
	 * empty or the identifier) */
	p.cn = csr->cn;
	p.sans = &sans;
	p.perm_id = dev->perm_id;
	p.not_before = nb;
	p.not_after = na;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	if (csr->keytype == PKI_KEY_RSA2048 || csr->keytype == PKI_KEY_RSA3072
	    || csr->keytype == PKI_KEY_RSA4096)
		p.ku |= PKI_KU_KEY_ENCIPHERMENT;
	p.eku = PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	p.crl_url = a->crl_url;
	p.ocsp_url = a->ocsp_url;
	p.issuer_url = a->issuer_url;
	if (!prov_get_claims(prov)->disable_smallstep_ext) {
		p.prov_type = (int)prov_get_type(prov);
		p.prov_name = prov_get_name(prov);
		p.prov_cred = "";
	}
	iss = ca_issue_new(a, request_id);
	if ((rc = ca_issue_defer(a, &p, csr->spki, csr->spkilen, iss)) !=
	    DV_OK)
		goto out;
	iss->actor = xstrdup(actor);
	d = json_pack("{s:s,s:s,s:s}", "provisionerType", "ACME",
	    "challenge", "device-attest-01", "permanentIdentifier",
	    dev->perm_id);
	iss->detail = json_dumps(d, JSON_COMPACT);
	json_decref(d);
	if ((rc = issue_fill(iss, prov_get_name(prov), "cert.issue"))
	    != DV_OK)
		goto out;
	/* retiring the device revokes this certificate */
	iss->row.device_id = xstrdup(dev->device_id);
	*out = iss;
	iss = NULL;
out:
	ca_issue_free(iss);
	pki_sans_clear(&sans);
	return rc;
}
