/*
 * renew.c - the x5cInsecure bearer token of POST /renew (spec §1.5;
 * step-ca authority/authorize.go AuthorizeRenewToken, go.step.sm/crypto
 * jose/parse.go ParseX5cInsecure).
 */
#include <stdlib.h>
#include <string.h>

#include "jws/jws.h"
#include "prov_int.h"

static enum dv_rc
renew_reject(enum dv_rc rc, const char *clause, const char *value)
{
	prov_log("renew.rejected", clause, NULL, value);
	return rc;
}

/*
 * iss: "step-ca-client/1.0", or (older step) the name of the provisioner
 * that issued the leaf, as its provisioner extension says.
 */
static bool
renew_issuer_ok(const struct prov_set *set, X509 *leaf, const char *iss)
{
	char *name = NULL;
	int type;
	bool ok;

	if (iss == NULL)
		return false;
	if (strcmp(iss, PROV_RENEW_ISSUER) == 0)
		return true;
	if (pki_cert_provisioner(leaf, &type, &name) != DV_OK)
		return false;
	ok = strcmp(name, iss) == 0 && prov_set_find(set, name) != NULL;
	free(name);
	return ok;
}

enum dv_rc
prov_authorize_renew_token(const struct pki_trust *trust,
    const struct prov_set *set, const char *token, const char *const *auds,
    size_t n, time_t now, X509 **leaf, char **token_id, time_t *token_exp)
{
	STACK_OF(X509) *chain = NULL;
	struct jws_token *t = NULL;
	X509 *l = NULL;
	char *cn = NULL;
	const char *sub;
	time_t at;
	enum dv_rc rc;

	*leaf = NULL;
	*token_id = NULL;
	*token_exp = 0;
	if (trust == NULL || token == NULL)
		return renew_reject(DV_ERR_BAD_TOKEN, "spec §1.5: no token",
		    NULL);
	if ((rc = jws_parse(token, strnlen(token, DV_MAX_TOKEN + 1), &t)) !=
	    DV_OK)
		goto out;
	if ((rc = prov_x5c_decode(t->header, "x5cInsecure", &l, &chain)) !=
	    DV_OK)
		goto out;
	/* as of one minute before the leaf expires: expired leaves pass */
	at = pki_cert_not_after(l) - 60;
	if (at <= 0)
		at = 1;
	if (pki_trust_verify(trust, l, chain, at, PKI_EKU_CLIENT_AUTH, true) !=
	    DV_OK) {
		rc = renew_reject(DV_ERR_UNTRUSTED, "spec §1.5: x5cInsecure "
		    "chain does not verify to the CA roots at notAfter - 1m "
		    "with clientAuth and digitalSignature", NULL);
		goto out;
	}
	if ((rc = jws_verify_pkey(t, pki_cert_pubkey0(l))) != DV_OK)
		goto out;
	sub = json_get_str(t->claims, "sub");
	cn = pki_cert_cn(l);
	if (sub == NULL || cn == NULL || strcmp(sub, cn) != 0) {
		rc = renew_reject(DV_ERR_BAD_TOKEN, "spec §1.5: sub is not the "
		    "leaf CN", sub);
		goto out;
	}
	if ((rc = jws_check_times(t->claims, now)) != DV_OK)
		goto out;
	if (!jws_check_audience(t->claims, auds, n)) {
		rc = renew_reject(DV_ERR_TOKEN_AUDIENCE, "spec §1.5: aud is "
		    "not a renew audience of this authority", NULL);
		goto out;
	}
	if (!renew_issuer_ok(set, l, json_get_str(t->claims, "iss"))) {
		rc = renew_reject(DV_ERR_TOKEN_ISSUER, "spec §1.5: iss is "
		    "neither step-ca-client/1.0 nor the leaf's provisioner",
		    json_get_str(t->claims, "iss"));
		goto out;
	}
	/* no jti in renew tokens: the replay key is the token's hash */
	*token_id = prov_token_sha256(t->compact);
	*token_exp = (time_t)json_number_value(json_object_get(t->claims,
	    "exp"));
	*leaf = l;
	l = NULL;
out:
	free(cn);
	pki_cert_free(l);
	pki_certs_free(chain);
	jws_token_free(t);
	return rc;
}
