/*
 * fuzz_body.c - the request-body parser of POST /1.0/sign: strict JSON,
 * known members only (api_sign_req_parse).
 */
#include <stddef.h>
#include <stdint.h>

#include "api/api.h"

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct api_sign_req r;
	const char *detail;

	log_init(LOG__MAX, 2);	/* quiet */
	if (api_sign_req_parse(data, size, &r, &detail) == DV_OK)
		api_sign_req_clear(&r);
	return 0;
}
