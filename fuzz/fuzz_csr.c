/*
 * fuzz_csr.c - CSRs from the network (rule 28): pki_csr_parse() on the
 * fuzzer's bytes as DER and as PEM and, when a request parses, issuance of
 * a certificate for its key and names (the SPKI copy of the hot path,
 * spec/performance.md §2.2) with a signer that returns fixed bytes.
 *
 * The seeds in fuzz/corpus/csr/ are real requests made with `openssl req`
 * (P-256, P-384, RSA-2048, Ed25519; PEM and DER); the hostile_* seeds are
 * named for their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"

static enum dv_rc
fixed_sign(void *arg, const uint8_t *tbs, size_t len, uint8_t **sig,
    size_t *siglen)
{
	static const uint8_t s[] = { 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01,
	    0x01 };

	*sig = xmemdup(s, sizeof(s));
	*siglen = sizeof(s);
	return DV_OK;
}

static void
issue(const struct pki_csr *c)
{
	struct pki_signer signer = { PKI_SIG_ECDSA_SHA256, fixed_sign, NULL };
	struct pki_profile p;
	uint8_t *der = NULL;
	size_t derlen = 0;
	X509 *x = NULL;

	memset(&p, 0, sizeof(p));
	p.cn = c->cn != NULL ? c->cn : "fuzz";
	p.sans = &c->sans;
	p.not_before = 1800000000;
	p.not_after = p.not_before + 3600;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	p.prov_type = 1;
	p.prov_name = "fuzz";
	p.prov_cred = "kid";
	if (pki_cert_issue(NULL, &signer, &p, c->spki, c->spkilen, &x, &der,
	    &derlen) == DV_OK) {
		struct pki_sans sans = { 0 };

		if (x == NULL || der == NULL || derlen == 0)
			abort();
		/* names survive the round trip */
		if (pki_cert_sans(x, &sans) != DV_OK || sans.n != c->sans.n)
			abort();
		pki_sans_clear(&sans);
	}
	pki_cert_free(x);
	free(der);
}

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	log_init(LOG__MAX, 2);	/* rejected input is expected: no logs */
	if (pki_init() != DV_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pki_csr *c = NULL;
	int der;

	for (der = 0; der < 2; der++) {
		if (pki_csr_parse(data, size, der, &c) != DV_OK) {
			if (c != NULL)
				abort();	/* cleared on failure */
			continue;
		}
		if (c->der == NULL || c->spki == NULL ||
		    c->sans.n > DV_MAX_SANS)
			abort();
		issue(c);
		pki_csr_free(c);
		c = NULL;
	}
	return 0;
}
