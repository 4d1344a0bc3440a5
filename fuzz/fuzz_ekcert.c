/*
 * fuzz_ekcert.c - EK certificates and EK public keys given to the
 * inventory (rule 28): pki_ek_cert_parse() on the fuzzer's bytes as DER
 * (with trailing NV padding allowed) and as PEM, and pki_ek_pub_urn() on
 * them as SPKI DER and PEM.  A parsed certificate must come with a valid
 * EK URN and a PEM that parses again to the same URN and TPM details.
 *
 * Seeds in fuzz/corpus/ekcert/ are the real EK certificates of
 * shared/data/ek-certs (Nuvoton, STMicroelectronics RSA with 0xff padding
 * and ECC, Google vTPM with and without SAN) and hostile_* seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

static bool
same(const char *a, const char *b)
{
	if (a == NULL || b == NULL)
		return a == b;
	return strcmp(a, b) == 0;
}

static void
check(const struct pki_ek_cert *c)
{
	struct pki_ek_cert again;

	if (!pki_ek_urn_valid(c->urn) || c->pem == NULL)
		abort();
	if (pki_ek_cert_parse((const uint8_t *)c->pem, strlen(c->pem), false,
	    &again) != DV_OK)
		abort();
	if (!same(c->urn, again.urn) || !same(c->manufacturer,
	    again.manufacturer) || !same(c->model, again.model) ||
	    !same(c->version, again.version))
		abort();
	pki_ek_cert_clear(&again);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct pki_ek_cert c;
	char *urn = NULL;

	log_init(LOG__MAX, 2);
	if (pki_ek_cert_parse(data, len, true, &c) == DV_OK) {
		check(&c);
		pki_ek_cert_clear(&c);
	} else if (c.urn != NULL || c.pem != NULL)
		abort();
	if (pki_ek_cert_parse(data, len, false, &c) == DV_OK) {
		check(&c);
		pki_ek_cert_clear(&c);
	}
	if (pki_ek_pub_urn(data, len, true, &urn) == DV_OK &&
	    !pki_ek_urn_valid(urn))
		abort();
	free(urn);
	urn = NULL;
	if (pki_ek_pub_urn(data, len, false, &urn) == DV_OK &&
	    !pki_ek_urn_valid(urn))
		abort();
	free(urn);
	return 0;
}
