/*
 * sign.c - the sign options a provisioner applies to a request (spec §1.10
 * steps 2 and 4-5): CSR validators (§2.1, §2.2) and validity (§3.1).
 */
#include <stdlib.h>
#include <string.h>

#include "prov_int.h"

static const char *const san_names[PKI_SAN__MAX] = {
	[PKI_SAN_DNS] = "DNS names",
	[PKI_SAN_IP] = "IP addresses",
	[PKI_SAN_EMAIL] = "email addresses",
	[PKI_SAN_URI] = "URIs",
};

/*
 * CN rule: JWK commonNameSliceValidator (empty, sub, or one of the sans),
 * X5C commonNameValidator (empty or sub).
 */
static bool
cn_allowed(const struct prov_authz *a, const char *cn)
{
	size_t i;

	if (cn == NULL || *cn == '\0' || strcmp(cn, a->sub) == 0)
		return true;
	if (a->prov->type == PROV_X5C)
		return false;
	for (i = 0; i < a->sans.n; i++)
		if (strcmp(cn, a->sans.v[i].value) == 0)
			return true;
	return false;
}

enum dv_rc
prov_check_csr(const struct prov_authz *a, const struct pki_csr *csr)
{
	enum pki_san_type t;
	char *clause;

	if (a == NULL || csr == NULL || a->sub == NULL)
		return DV_ERR_INTERNAL;
	if (!cn_allowed(a, csr->cn)) {
		prov_log("csr.rejected", a->prov->type == PROV_X5C ?
		    "spec §2.2: CSR CN is neither empty nor the token sub" :
		    "spec §2.1: CSR CN is neither empty, the token sub nor one "
		    "of the token sans", a->prov, csr->cn);
		return DV_ERR_SANS_MISMATCH;
	}
	/* newDefaultSANsValidator: a type the CSR lists must equal the
	 * token's set of that type; a type the CSR leaves out is fine */
	for (t = 0; t < PKI_SAN__MAX; t++) {
		if (pki_sans_count(&csr->sans, t) == 0 ||
		    pki_sans_equal_type(&csr->sans, &a->sans, t))
			continue;
		clause = xasprintf("spec §2.1: CSR %s differ from token sans",
		    san_names[t]);
		prov_log("csr.rejected", clause, a->prov, NULL);
		free(clause);
		return DV_ERR_SANS_MISMATCH;
	}
	if (a->has_cnf && memcmp(a->cnf_sha256, csr->sha256,
	    sizeof(a->cnf_sha256)) != 0) {
		prov_log("csr.rejected", "spec §2.1: CSR fingerprint differs "
		    "from token cnf x5rt#S256", a->prov, NULL);
		return DV_ERR_FORBIDDEN;
	}
	/* defaultPublicKeyValidator: pki_csr_parse() allowed only EC P-256,
	 * P-384, RSA >= 2048 and Ed25519 */
	if ((unsigned)csr->keytype >= PKI_KEY__MAX) {
		prov_log("csr.rejected", "spec §2.1: CSR key type not allowed",
		    a->prov, NULL);
		return DV_ERR_BAD_KEY;
	}
	return DV_OK;
}

/* A TimeDuration (spec §1.4): RFC 3339, or a Go duration from base. */
static enum dv_rc
time_duration(const char *s, time_t base, time_t *out)
{
	int64_t d;

	*out = 0;
	if (time_parse_rfc3339(s, out) == DV_OK)
		return DV_OK;
	if (dur_parse(s, &d) == DV_OK) {
		*out = base + d;
		return DV_OK;
	}
	return DV_ERR_MALFORMED;
}

static enum dv_rc
lifetime_reject(const struct prov_authz *a, const char *clause)
{
	prov_log("validity.rejected", clause, a->prov, NULL);
	return DV_ERR_LIFETIME;
}

enum dv_rc
prov_validity(const struct prov_authz *a, const char *nb, const char *na,
    time_t now, time_t *not_before, time_t *not_after)
{
	const struct prov_claims *c;
	time_t b, e = 0, lnb, lna, backdate = 0;
	bool has_na = na != NULL && *na != '\0';

	*not_before = 0;
	*not_after = 0;
	if (a == NULL)
		return DV_ERR_INTERNAL;
	c = &a->prov->claims;
	/* profileDefaultDuration: notBefore, else now backdated */
	if (nb == NULL || *nb == '\0') {
		b = now;
		backdate = PROV_BACKDATE;
	} else if (time_duration(nb, now, &b) != DV_OK) {
		prov_log("validity.rejected", "spec §1.4: notBefore is neither "
		    "RFC 3339 nor a duration", a->prov, nb);
		return DV_ERR_MALFORMED;
	}
	/* a notAfter duration counts from the (unbackdated) notBefore */
	if (has_na && time_duration(na, b, &e) != DV_OK) {
		prov_log("validity.rejected", "spec §1.4: notAfter is neither "
		    "RFC 3339 nor a duration", a->prov, na);
		return DV_ERR_MALFORMED;
	}
	if (a->prov->type == PROV_X5C && a->x5c_leaf != NULL) {
		/* profileLimitDuration: inside the x5c leaf's validity */
		lnb = pki_cert_not_before(a->x5c_leaf);
		lna = pki_cert_not_after(a->x5c_leaf);
		if (b < lnb)
			return lifetime_reject(a, "spec §2.2: notBefore is "
			    "before the x5c certificate's validity");
		if (has_na && e > lna)
			return lifetime_reject(a, "spec §2.2: notAfter is "
			    "after the x5c certificate expires");
		if (!has_na)
			e = b + c->default_dur > lna ? lna :
			    b + c->default_dur;
	} else if (!has_na)
		e = b + c->default_dur;
	b -= backdate;

	/* validityValidator */
	if (e < now)
		return lifetime_reject(a, "spec §3.1: notAfter is in the past");
	if (e < b)
		return lifetime_reject(a, "spec §3.1: notAfter is before "
		    "notBefore");
	if (e - b < c->min_dur)
		return lifetime_reject(a, "spec §3.1: duration is below "
		    "minTLSCertDuration");
	/* step allows max + backdate whether or not it backdated */
	if (e - b > c->max_dur + PROV_BACKDATE)
		return lifetime_reject(a, "spec §3.1: duration is above "
		    "maxTLSCertDuration");
	*not_before = b;
	*not_after = e;
	return DV_OK;
}
