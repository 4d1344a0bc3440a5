/*
 * fmt_apple.c - device-attest-01 format `apple`: Apple Managed Device
 * Attestation (spec/attestation.md §9; step-ca doAppleAttestationFormat,
 * nanoca verifiers/apple).  The statement is only x5c: the leaf, issued
 * by Apple's Enterprise Attestation Sub CA, holds the freshness nonce and
 * the device identifiers, and its key is the attested key.
 */
#include <stdlib.h>
#include <string.h>

#include "attest_int.h"

/* True if nonce is SHA-256 of s (s may be NULL: no match). */
static bool
nonce_is_sha256(const struct pki_apple_att *a, const char *s)
{
	uint8_t md[32];

	if (s == NULL || a->noncelen != sizeof(md))
		return false;
	pki_sha256(s, strlen(s), md);
	return pki_mem_equal(a->nonce, md, sizeof(md));
}

enum dv_rc
att_apple_verify(const struct att_object *o, const struct att_params *p,
    struct att_result *res)
{
	struct att_result r;
	struct pki_apple_att a;
	X509 *leaf = NULL;
	uint8_t *spki = NULL;
	size_t spkilen;
	enum dv_rc rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	memset(&a, 0, sizeof(a));
	if (o->fmt != ATT_FMT_APPLE) {
		rc = DV_ERR_ATT_FORMAT;
		att_log(o->fmt, rc, "att_apple_verify: fmt is not apple");
		goto out;
	}
	if ((rc = att_x5c_verify(o, p->apple_roots, p, &leaf)) != DV_OK)
		goto out;
	if (pki_apple_att_read(leaf, &a) != DV_OK) {
		rc = DV_ERR_ATT_IDENTIFIER;
		att_log(o->fmt, rc, "spec §9: Apple MDA extension malformed");
		goto out;
	}
	/* spec §9, §15.8: Apple binds the token (draft §5 allows formats
	 * signed before the account key is known to use it alone); the key
	 * authorization, which contains the token, is accepted as well */
	if (a.nonce == NULL) {
		rc = DV_ERR_ATT_KEYAUTH;
		att_log(o->fmt, rc, "spec §9: nonce extension "
		    "1.2.840.113635.100.8.11.1 absent");
		goto out;
	}
	if (!nonce_is_sha256(&a, p->token) &&
	    !nonce_is_sha256(&a, p->key_auth)) {
		rc = DV_ERR_ATT_KEYAUTH;
		att_log(o->fmt, rc, "spec §9: nonce is not SHA-256 of the "
		    "token or key authorization");
		goto out;
	}
	if (a.serial == NULL && a.udid == NULL) {
		rc = DV_ERR_ATT_IDENTIFIER;
		att_log(o->fmt, rc, "spec §9: neither serial (8.9.1) nor "
		    "UDID (8.9.2) present (User Enrollment)");
		goto out;
	}
	if ((rc = pki_key_spki_der(pki_cert_pubkey0(leaf), &spki,
	    &spkilen)) != DV_OK)
		goto out;
	r.fmt = ATT_FMT_APPLE;
	if ((rc = att_result_set_spki(&r, spki, spkilen)) != DV_OK)
		goto out;
	r.serial = a.serial;
	r.udid = a.udid;
	a.serial = a.udid = NULL;
	*res = r;
	memset(&r, 0, sizeof(r));
out:
	free(spki);
	pki_apple_att_clear(&a);
	pki_cert_free(leaf);
	att_result_clear(&r);
	return rc;
}
