/*
 * fuzz_attest_body.c - the request-body parsers of the Attestation CA:
 * POST .../attestation/attest (api_attest_req_parse: strict JSON, step's
 * members only, base64 fields decoded within their bounds) and
 * POST .../attestation/secret (api_secret_req_parse), both on every input.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/api.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_attest_req r;
	const char *detail;
	uint8_t *secret = NULL;
	size_t secretlen = 0, i;

	log_init(LOG__MAX, 2);	/* quiet */
	if (api_attest_req_parse(data, size, &r, &detail) == DV_OK) {
		/* what the parser promises the authority */
		if (r.req.ek == NULL || r.req.eklen == 0 ||
		    r.req.ak_public == NULL || r.req.create_data == NULL ||
		    r.req.create_attestation == NULL ||
		    r.req.create_signature == NULL ||
		    r.req.nek_certs > DV_ATT_MAX_EK_CERTS)
			abort();
		for (i = 0; i < r.req.nek_certs; i++)
			if (r.req.ek_certs[i].len == 0 ||
			    r.req.ek_certs[i].len > DV_ATT_MAX_EK_CERT)
				abort();
	} else if (detail == NULL)
		abort();
	api_attest_req_clear(&r);
	if (api_secret_req_parse(data, size, &secret, &secretlen, &detail) ==
	    DV_OK) {
		if (secretlen > DV_TPM_MAX_SECRET)
			abort();
		memset(secret, 0, secretlen);
		free(secret);
	}
	return 0;
}
