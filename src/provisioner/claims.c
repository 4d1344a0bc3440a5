/*
 * claims.c - provisioner claims (spec §3.1; step-ca
 * authority/provisioner/claims.go).  Durations are Go durations: a string
 * ("24h") or, as Go's time.Duration marshals, an integer of nanoseconds.
 */
#include <string.h>

#include "prov_int.h"

enum claim_kind { CLAIM_DUR, CLAIM_BOOL, CLAIM_IGNORED_DUR,
    CLAIM_IGNORED_BOOL };

/* step-ca's Claims fields; the SSH ones are accepted and unused. */
static const struct {
	const char	*key;
	enum claim_kind	 kind;
	size_t		 off;
} claim_keys[] = {
	{ "minTLSCertDuration", CLAIM_DUR,
	    offsetof(struct prov_claims, min_dur) },
	{ "maxTLSCertDuration", CLAIM_DUR,
	    offsetof(struct prov_claims, max_dur) },
	{ "defaultTLSCertDuration", CLAIM_DUR,
	    offsetof(struct prov_claims, default_dur) },
	{ "disableRenewal", CLAIM_BOOL,
	    offsetof(struct prov_claims, disable_renewal) },
	{ "allowRenewalAfterExpiry", CLAIM_BOOL,
	    offsetof(struct prov_claims, allow_renewal_after_expiry) },
	{ "disableSmallstepExtensions", CLAIM_BOOL,
	    offsetof(struct prov_claims, disable_smallstep_ext) },
	{ "minUserSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "maxUserSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "defaultUserSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "minHostSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "maxHostSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "defaultHostSSHCertDuration", CLAIM_IGNORED_DUR, 0 },
	{ "enableSSHCA", CLAIM_IGNORED_BOOL, 0 },
};

void
prov_claims_default(struct prov_claims *c)
{
	memset(c, 0, sizeof(*c));
	c->min_dur = 5 * 60;
	c->max_dur = 24 * 60 * 60;
	c->default_dur = 24 * 60 * 60;
}

/* A Go duration from JSON: "1h30m" or nanoseconds (provisioner.Duration). */
static enum dv_rc
duration(const json_t *v, int64_t *out)
{
	*out = 0;
	if (json_is_string(v))
		return dur_parse(json_string_value(v), out);
	if (json_is_integer(v)) {
		*out = json_integer_value(v) / 1000000000;
		return DV_OK;
	}
	return DV_ERR_MALFORMED;
}

/*
 * out may be base (the global claims are read over themselves), so the
 * result is built in a local copy and *out is written only on success.
 */
enum dv_rc
prov_claims_load(const json_t *j, const struct prov_claims *base,
    struct prov_claims *out)
{
	struct prov_claims c;
	const char *key;
	json_t *v;
	int64_t d;
	size_t i;

	c = *base;
	if (j == NULL || json_is_null(j)) {
		*out = c;
		return DV_OK;
	}
	if (!json_is_object(j)) {
		prov_log("config.claims", "spec §3.1: claims is not an object",
		    NULL, NULL);
		return DV_ERR_MALFORMED;
	}
	json_object_foreach((json_t *)j, key, v) {
		for (i = 0; i < sizeof(claim_keys) / sizeof(claim_keys[0]); i++)
			if (strcmp(claim_keys[i].key, key) == 0)
				break;
		if (i == sizeof(claim_keys) / sizeof(claim_keys[0])) {
			prov_log("config.claims", "spec §3.1: unknown claim",
			    NULL, key);
			return DV_ERR_MALFORMED;
		}
		switch (claim_keys[i].kind) {
		case CLAIM_DUR:
		case CLAIM_IGNORED_DUR:
			if (duration(v, &d) != DV_OK) {
				prov_log("config.claims", "spec §3.1: claim is "
				    "not a Go duration", NULL, key);
				return DV_ERR_MALFORMED;
			}
			if (claim_keys[i].kind == CLAIM_DUR)
				*(int64_t *)((char *)&c + claim_keys[i].off) =
				    d;
			break;
		case CLAIM_BOOL:
		case CLAIM_IGNORED_BOOL:
			if (!json_is_boolean(v)) {
				prov_log("config.claims", "spec §3.1: claim is "
				    "not a boolean", NULL, key);
				return DV_ERR_MALFORMED;
			}
			if (claim_keys[i].kind == CLAIM_BOOL)
				*(bool *)((char *)&c + claim_keys[i].off) =
				    json_is_true(v);
			break;
		}
	}
	/* Claimer.Validate */
	if (c.min_dur <= 0 || c.min_dur > c.default_dur ||
	    c.default_dur > c.max_dur) {
		prov_log("config.claims", "spec §3.1: claims need 0 < "
		    "minTLSCertDuration <= defaultTLSCertDuration <= "
		    "maxTLSCertDuration", NULL, NULL);
		return DV_ERR_MALFORMED;
	}
	*out = c;
	return DV_OK;
}
