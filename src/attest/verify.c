/*
 * verify.c - what the three formats share: the x5c chain, the result, the
 * identifier comparison, and the dispatch on fmt.
 */
#include <stdlib.h>
#include <string.h>

#include "attest_int.h"

void
att_log(enum att_fmt f, enum dv_rc rc, const char *clause)
{
	log_msg(LOG_INFO, ATT_EV, "{s:s,s:s,s:s}", "fmt", att_fmt_name(f),
	    "detail", clause, "error", dv_rc_str(rc));
}

enum dv_rc
att_x5c_verify(const struct att_object *o, const struct pki_trust *roots,
    const struct att_params *p, X509 **leaf)
{
	struct pki_der der[DV_ATT_CBOR_MAX_ITEMS];
	size_t i;

	*leaf = NULL;
	if (!(o->present & ATT_F_X5C) || o->nx5c == 0) {
		att_log(o->fmt, DV_ERR_ATT_STMT, "spec §8 step 2: x5c missing "
		    "or empty");
		return DV_ERR_ATT_STMT;
	}
	if (roots == NULL) {
		/* step-ca: a 500, the server's configuration is at fault */
		log_msg(LOG_ERR, ATT_EV, "{s:s,s:s}", "fmt",
		    att_fmt_name(o->fmt), "detail", "spec §8 step 4: no "
		    "attestation roots configured for this format");
		return DV_ERR_ATT_NO_ROOTS;
	}
	for (i = 0; i < o->nx5c; i++) {
		der[i].der = o->x5c[i].v;
		der[i].len = o->x5c[i].len;
	}
	if (pki_att_chain_verify(roots, der, o->nx5c, p->now, leaf) != DV_OK) {
		att_log(o->fmt, DV_ERR_ATT_CHAIN, "spec §8 step 4: x5c does "
		    "not chain to a configured root");
		return DV_ERR_ATT_CHAIN;
	}
	return DV_OK;
}

enum dv_rc
att_result_set_spki(struct att_result *res, const uint8_t *der, size_t len)
{
	enum dv_rc rc;

	free(res->fingerprint);
	res->fingerprint = NULL;
	if ((rc = pki_spki_fingerprint(der, len, &res->fingerprint)) != DV_OK)
		return rc;
	free(res->spki);
	res->spki = xmemdup(der, len);
	res->spkilen = len;
	pki_sha256(der, len, res->spki_sha256);
	return DV_OK;
}

void
att_result_clear(struct att_result *r)
{
	if (r == NULL)
		return;
	free(r->spki);
	free(r->fingerprint);
	pki_akcert_info_clear(&r->ak);
	free(r->serial);
	free(r->udid);
	memset(r, 0, sizeof(*r));
}

bool
att_result_has_id(const struct att_result *r, const char *value)
{
	size_t i;

	if (value == NULL || *value == '\0')
		return false;
	switch (r->fmt) {
	case ATT_FMT_TPM:
		if (r->ak.ek_urn != NULL && strcmp(r->ak.ek_urn, value) == 0)
			return true;
		for (i = 0; i < r->ak.nperm_ids; i++)
			if (strcmp(r->ak.perm_ids[i], value) == 0)
				return true;
		return false;
	case ATT_FMT_APPLE:
		return (r->serial != NULL && strcmp(r->serial, value) == 0) ||
		    (r->udid != NULL && strcmp(r->udid, value) == 0);
	case ATT_FMT_STEP:
		return r->serial != NULL && strcmp(r->serial, value) == 0;
	default:
		return false;
	}
}

enum dv_rc
att_verify(const struct att_object *o, const struct att_params *p,
    struct att_result *res)
{
	memset(res, 0, sizeof(*res));
	switch (o->fmt) {
	case ATT_FMT_TPM:
		return att_tpm_verify(o, p, res);
	case ATT_FMT_APPLE:
		return att_apple_verify(o, p, res);
	case ATT_FMT_STEP:
		return att_step_verify(o, p, res);
	default:
		att_log(o->fmt, DV_ERR_ATT_FORMAT, "unsupported fmt");
		return DV_ERR_ATT_FORMAT;
	}
}
