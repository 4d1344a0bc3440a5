/*
 * revoke.c - revocation, CRL and OCSP (spec/provisioners.md §1.7, §1.8;
 * RFC 5280 §5, RFC 6960).
 */
#include <stdlib.h>
#include <string.h>

#include "ca.h"
#include "ca_int.h"

/* CRLs skip entries whose certificate expired more than an hour ago. */
#define CRL_EXPIRED_GRACE	3600

static void
crl_invalidate(struct ca_authority *a)
{
	pthread_mutex_lock(&a->crl_lock);
	a->crl_next = 0;
	pthread_mutex_unlock(&a->crl_lock);
}

void
ca_crl_invalidate(struct ca *ca, const char *authority_id)
{
	size_t i;

	for (i = 0; i < ca->nauths; i++)
		if (strcmp(ca->auths[i]->id, authority_id) == 0)
			crl_invalidate(ca->auths[i]);
}

enum dv_rc
ca_revoke(struct ca_authority *a, const struct ca_revoke_req *r)
{
	struct prov_authz *az = NULL;
	struct store_revoke op;
	struct store_audit audit;
	char *serial = NULL, *peer_serial = NULL, *actor = NULL;
	time_t now = dv_now();
	enum dv_rc rc;

	if (r->serial == NULL || r->serial[0] == '\0') {
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if ((rc = pki_serial_normalise(r->serial, &serial)) != DV_OK)
		goto out;
	if (r->reason_code < 0 || r->reason_code > 10 || r->reason_code == 7) {
		log_msg(LOG_INFO, "revoke.reason", "{s:i}", "reasonCode",
		    r->reason_code);
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	if (!r->passive) {
		rc = DV_ERR_NOT_IMPLEMENTED;
		goto out;
	}
	memset(&op, 0, sizeof(op));
	if (r->ott != NULL && r->ott[0] != '\0') {
		if ((rc = prov_authorize(a->provs, r->ott, PROV_REVOKE,
		    (const char *const *)a->auds[PROV_REVOKE],
		    a->nauds[PROV_REVOKE], now, &az)) != DV_OK)
			goto out;
		/* prov_authorize checked that sub is the serial; recheck
		 * against the normalised request serial. */
		{
			char *sub = NULL;

			if (pki_serial_normalise(az->sub, &sub) != DV_OK ||
			    strcmp(sub, serial) != 0) {
				free(sub);
				log_msg(LOG_INFO, "revoke.sub", "{s:s}",
				    "serial", serial);
				rc = DV_ERR_FORBIDDEN;
				goto out;
			}
			free(sub);
		}
		op.token_id = az->token_id;
		op.token_exp = az->token_exp;
		actor = xstrdup(az->actor);
	} else if (r->peer != NULL) {
		/* Revoke yourself with your own key (§1.7). */
		if ((rc = pki_trust_verify(a->trust, r->peer, r->peer_chain, 0,
		    0, false)) != DV_OK)
			goto out;
		peer_serial = pki_cert_serial_dec(r->peer);
		if (strcmp(peer_serial, serial) != 0) {
			log_msg(LOG_INFO, "revoke.mtls_serial", "{s:s,s:s}",
			    "serial", serial, "peer", peer_serial);
			rc = DV_ERR_FORBIDDEN;
			goto out;
		}
		actor = xasprintf("mtls:%s", peer_serial);
	} else {
		rc = DV_ERR_UNAUTHORIZED;
		goto out;
	}
	memset(&audit, 0, sizeof(audit));
	audit.team = a->team;
	audit.actor = actor;
	audit.action = "cert.revoke";
	audit.object = serial;
	audit.request_id = r->request_id;
	op.authority = a->id;
	op.serial = serial;
	op.reason_code = r->reason_code;
	op.reason = r->reason;
	op.at = now;
	op.audit = &audit;
	if ((rc = store_revoke(a->ca->store, &op)) != DV_OK)
		goto out;
	/* generateOnRevoke: the next /crl is built afresh */
	crl_invalidate(a);
	log_msg(LOG_INFO, "cert.revoked", "{s:s,s:s,s:i}", "authority", a->id,
	    "serial", serial, "reasonCode", r->reason_code);
out:
	prov_authz_free(az);
	free(serial);
	free(peer_serial);
	free(actor);
	return rc;
}

static enum dv_rc
crl_build(struct ca_authority *a, time_t now)
{
	struct store_cert *rows = NULL;
	struct pki_revoked *ents = NULL;
	uint8_t *der = NULL;
	size_t n = 0, len, i;
	uint64_t number;
	enum dv_rc rc;

	if ((rc = store_revoked_list(a->ca->store, a->id,
	    now - CRL_EXPIRED_GRACE, &rows, &n)) != DV_OK)
		return rc;
	ents = xcalloc(n + 1, sizeof(*ents));
	for (i = 0; i < n; i++) {
		ents[i].serial_dec = rows[i].serial;
		ents[i].revoked_at = rows[i].revoked_at;
		ents[i].reason = rows[i].reason_code;
	}
	if ((rc = store_crl_number_next(a->ca->store, a->id, &number))
	    != DV_OK)
		goto out;
	if ((rc = pki_crl_build(a->inter, &a->inter_signer, ents, n, number,
	    now, now + a->crl_cache, a->crl_url, &der, &len)) != DV_OK)
		goto out;
	free(a->crl_der);
	a->crl_der = der;
	a->crl_len = len;
	/* renewPeriod: two thirds of the cache duration (step-ca) */
	a->crl_next = now + a->crl_cache * 2 / 3;
out:
	free(ents);
	store_certs_free(rows, n);
	return rc;
}

enum dv_rc
ca_crl_get(struct ca_authority *a, uint8_t **der, size_t *len,
    time_t *next_update)
{
	time_t now = dv_now();
	enum dv_rc rc = DV_OK;

	*der = NULL;
	*len = 0;
	pthread_mutex_lock(&a->crl_lock);
	if (a->crl_der == NULL || now >= a->crl_next)
		rc = crl_build(a, now);
	if (rc == DV_OK) {
		*der = xmemdup(a->crl_der, a->crl_len);
		*len = a->crl_len;
		*next_update = a->crl_next + a->crl_cache / 3;
	}
	pthread_mutex_unlock(&a->crl_lock);
	return rc;
}

enum dv_rc
ca_ocsp_answer(struct ca_authority *a, const uint8_t *req, size_t len,
    uint8_t **resp, size_t *resplen)
{
	struct pki_ocsp_req *r = NULL;
	struct pki_ocsp_answer *ans = NULL;
	time_t now = dv_now();
	size_t i;
	enum dv_rc rc;

	*resp = NULL;
	*resplen = 0;
	if (pki_ocsp_req_parse(req, len, &r) != DV_OK)
		/* malformedRequest, still a 200 with an OCSP body */
		return pki_ocsp_resp_error(1, resp, resplen);
	ans = xcalloc(r->nids, sizeof(*ans));
	for (i = 0; i < r->nids; i++) {
		struct store_cert *c = NULL;

		ans[i].status = PKI_OCSP_UNKNOWN;
		if (!pki_ocsp_id_matches(&r->ids[i], a->inter))
			continue;
		rc = store_cert_get(a->ca->store, r->ids[i].serial_dec, &c);
		if (rc == DV_OK && strcmp(c->authority, a->id) == 0) {
			if (c->revoked) {
				ans[i].status = PKI_OCSP_REVOKED;
				ans[i].revoked_at = c->revoked_at;
				ans[i].reason = c->reason_code;
			} else
				ans[i].status = PKI_OCSP_GOOD;
		} else if (rc != DV_OK && rc != DV_ERR_NOT_FOUND) {
			store_cert_free(c);
			rc = pki_ocsp_resp_error(2, resp, resplen);
			goto out;
		}
		store_cert_free(c);
	}
	rc = pki_ocsp_resp_build(a->inter, &a->inter_signer, r, ans, now,
	    a->ocsp_validity, resp, resplen);
out:
	free(ans);
	pki_ocsp_req_free(r);
	return rc;
}
