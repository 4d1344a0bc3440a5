/*
 * fuzz_attobj.c - the device-attest-01 attestation object (rule 28): the
 * fuzzer's bytes go to att_object_parse(), which must either fail with a
 * known code and no object, or return an object within the DV_ATT_*
 * limits.  Decoded objects are then verified by every format with no
 * roots configured (each must stop at a statement or roots check).
 *
 * Seeds in fuzz/corpus/attobj/: good apple, step and tpm objects written
 * by tests/unit/test_attest.c (DEVID_ATT_SEEDS), the real YubiKey chain as
 * a step object, and hostile_* encodings named for their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "attest/attest.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct att_object *o = (struct att_object *)1;
	struct att_params p;
	struct att_result r;
	enum dv_rc rc;

	if (!ready) {
		log_init(LOG__MAX, 2);
		if (pki_init() != DV_OK)
			abort();
		ready = 1;
	}
	rc = att_object_parse(data, size, &o);
	if (rc != DV_OK) {
		if (o != NULL || (rc != DV_ERR_ATT_OBJECT &&
		    rc != DV_ERR_ATT_FORMAT && rc != DV_ERR_ATT_STMT &&
		    rc != DV_ERR_TOO_LARGE))
			abort();
		return 0;
	}
	if (o == NULL || o->nx5c > DV_ATT_CBOR_MAX_ITEMS ||
	    o->fmt >= ATT_FMT__MAX || strlen(o->ver) > DV_ATT_MAX_KEY)
		abort();
	memset(&p, 0, sizeof(p));
	p.token = "token";
	p.key_auth = "token.thumbprint";
	rc = att_verify(o, &p, &r);
	if (rc == DV_OK || r.spki != NULL)
		abort();
	att_object_free(o);
	return 0;
}
