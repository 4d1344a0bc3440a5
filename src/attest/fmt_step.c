/*
 * fmt_step.c - device-attest-01 format `step`: YubiKey PIV attestation as
 * the step CLI sends it (spec/attestation.md §10; step-ca
 * doStepAttestationFormat).  x5c is the slot attestation certificate then
 * the device's F9 certificate; the slot key (the leaf's, the attested key)
 * signs the key authorization, and sig is that signature CBOR-encoded as
 * a byte string once more.
 */
#include <stdlib.h>
#include <string.h>

#include "attest_int.h"

/* spec §10, §15.13: sig is a CBOR byte string inside the attStmt byte
 * string.  *item is new (cbor_decref). */
static enum dv_rc
step_sig_unwrap(const struct att_object *o, cbor_item_t **item)
{
	*item = NULL;
	if (!(o->present & ATT_F_SIG) ||
	    att_cbor_load(o->sig.v, o->sig.len, "sig", item) != DV_OK)
		goto bad;
	if (!cbor_isa_bytestring(*item) ||
	    cbor_bytestring_length(*item) == 0)
		goto bad;
	return DV_OK;
bad:
	if (*item != NULL)
		cbor_decref(item);
	att_log(o->fmt, DV_ERR_ATT_STMT, "spec §10: sig missing or not a "
	    "CBOR byte string");
	return DV_ERR_ATT_STMT;
}

enum dv_rc
att_step_verify(const struct att_object *o, const struct att_params *p,
    struct att_result *res)
{
	struct att_result r;
	enum pki_sig_alg alg;
	cbor_item_t *sig = NULL;
	X509 *leaf = NULL;
	EVP_PKEY *k;
	uint8_t *spki = NULL;
	size_t spkilen;
	char *serial = NULL;
	enum dv_rc rc;

	memset(res, 0, sizeof(*res));
	memset(&r, 0, sizeof(r));
	if (o->fmt != ATT_FMT_STEP) {
		rc = DV_ERR_ATT_FORMAT;
		att_log(o->fmt, rc, "att_step_verify: fmt is not step");
		goto out;
	}
	if ((rc = att_x5c_verify(o, p->step_roots, p, &leaf)) != DV_OK)
		goto out;
	if ((rc = step_sig_unwrap(o, &sig)) != DV_OK)
		goto out;
	/* spec §10: alg is ignored, the key decides; ECDSA only P-256 */
	k = pki_cert_pubkey0(leaf);
	if (pki_key_sig_alg(k, &alg) != DV_OK ||
	    alg == PKI_SIG_ECDSA_SHA384) {
		rc = DV_ERR_ATT_KEY;
		att_log(o->fmt, rc, "spec §10: attested key is not ECDSA "
		    "P-256, RSA or Ed25519");
		goto out;
	}
	if (p->key_auth == NULL || pki_verify_data(k, alg,
	    (const uint8_t *)p->key_auth, strlen(p->key_auth),
	    cbor_bytestring_handle(sig), cbor_bytestring_length(sig)) !=
	    DV_OK) {
		rc = DV_ERR_ATT_SIGNATURE;
		att_log(o->fmt, rc, "spec §10: sig does not verify over the "
		    "key authorization under the attested key");
		goto out;
	}
	if ((rc = pki_yubikey_serial(leaf, &serial)) == DV_ERR_NOT_FOUND)
		rc = pki_step_device_id(leaf, &serial);
	if (rc != DV_OK) {
		rc = DV_ERR_ATT_IDENTIFIER;
		att_log(o->fmt, rc, "spec §10: neither a YubiKey serial "
		    "(41482.3.7) nor a Smallstep device ID (37476.9000.64.4), "
		    "or malformed");
		goto out;
	}
	if ((rc = pki_key_spki_der(k, &spki, &spkilen)) != DV_OK)
		goto out;
	r.fmt = ATT_FMT_STEP;
	if ((rc = att_result_set_spki(&r, spki, spkilen)) != DV_OK)
		goto out;
	r.serial = serial;
	serial = NULL;
	*res = r;
	memset(&r, 0, sizeof(r));
out:
	free(serial);
	free(spki);
	if (sig != NULL)
		cbor_decref(&sig);
	pki_cert_free(leaf);
	att_result_clear(&r);
	return rc;
}
