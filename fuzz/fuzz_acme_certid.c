/*
 * fuzz_acme_certid.c - the certID of an RFC 9773 renewalInfo request
 * (GET renewal-info/{certID}, unauthenticated): acme_certid_parse() on the
 * fuzzer's bytes as a path segment.
 *
 * Seeds in fuzz/corpus/acme_certid/: real certIDs of devid certificates
 * (SHA-1 keyIdentifier, 20-octet serial, one with a leading zero octet);
 * the hostile_* seeds are named for their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "acme/acme_int.h"
#include "pki/pki.h"

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG__MAX, 2);	/* quiet */
	if (pki_init() != DV_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	uint8_t *aki = NULL;
	size_t akilen = 0;
	char *s, *serial = NULL;

	/* a path segment: a C string, as evhttp hands it over */
	s = xstrndup((const char *)data, size);
	if (acme_certid_parse(s, &aki, &akilen, &serial)) {
		if (akilen == 0 || serial == NULL)
			abort();
		free(aki);
		free(serial);
	}
	free(s);
	return 0;
}
