/*
 * fuzz_tpm_public.c - TPMT_PUBLIC from /attest params.public (rule 28):
 * tpm_public_parse() on the fuzzer's bytes, and tpm_public_parse_2b() on
 * them as a TPM2B_PUBLIC.  A parsed object must keep exactly the input as
 * its raw bytes, have a Name of 2 + digest bytes, agree with the TPM2B
 * form, and its key (when OpenSSL takes it) must survive the SPKI round
 * trip; a restricted decryption key is also used as an EK for
 * tpm_make_credential, whose output sizes are checked.
 *
 * Seeds in fuzz/corpus/tpm_public/: the AK publics of
 * shared/data/ak-params (Infineon RSA, Google vTPM ECC, Windows GCP), EK
 * publics of shared/data/tpm-kat (RSA 2048/3072/4096, P-256/384/521, OAEP
 * and ECMQV schemes), and hostile_* seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "tpm/tpm.h"

static void
use_as_ek(const struct tpm_public *p)
{
	static const uint8_t name[34] = { 0x00, 0x0b, 0x42 };
	static const uint8_t secret[20] = { 1, 2, 3 };
	uint8_t *cred = NULL, *es = NULL;
	size_t credlen = 0, eslen = 0;

	if (tpm_make_credential(p, name, sizeof(name), secret, sizeof(secret),
	    &cred, &credlen, &es, &eslen) == DV_OK) {
		/* u16 size || u16 hLen || HMAC || encIdentity (2 + 20) */
		if (credlen < 2 + 2 + 20 + 22 || eslen < 2 ||
		    ((size_t)cred[0] << 8 | cred[1]) != credlen - 2 ||
		    ((size_t)es[0] << 8 | es[1]) != eslen - 2)
			abort();
	} else if (cred != NULL || es != NULL || credlen != 0 || eslen != 0)
		abort();
	free(cred);
	free(es);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tpm_public *p = NULL, *q = NULL;
	uint8_t name[TPM_NAME_MAX], *der = NULL, *twob;
	size_t namelen = 0, derlen = 0;
	enum dv_rc rc;
	EVP_PKEY *k = NULL;

	log_init(LOG__MAX, 2);
	tpm_init();
	rc = tpm_public_parse(data, len, &p);
	if (rc != DV_OK) {
		if (p != NULL)
			abort();
	} else {
		if (p->rawlen != len || memcmp(p->raw, data, len) != 0 ||
		    (p->type != 0x0001 && p->type != 0x0023))
			abort();
		if (tpm_public_name(p, name, &namelen) == DV_OK &&
		    namelen != 22 && namelen != 34 && namelen != 50 &&
		    namelen != 66)
			abort();
		if (tpm_public_to_pkey(p, &k) == DV_OK) {
			if (tpm_public_spki(p, &der, &derlen) != DV_OK)
				abort();
			pki_key_free(k);
			k = NULL;
			if (pki_key_from_spki(der, derlen, &k) != DV_OK)
				abort();
			pki_key_free(k);
			free(der);
		}
		if ((p->attributes & (TPMA_RESTRICTED | TPMA_DECRYPT)) ==
		    (TPMA_RESTRICTED | TPMA_DECRYPT))
			use_as_ek(p);
	}
	/* the same bytes as a TPM2B_PUBLIC must give the same answer */
	if (len <= 0xffff) {
		twob = malloc(len + 2);
		if (twob == NULL)
			abort();
		twob[0] = (uint8_t)(len >> 8);
		twob[1] = (uint8_t)len;
		if (len > 0)
			memcpy(twob + 2, data, len);
		if ((tpm_public_parse_2b(twob, len + 2, &q) == DV_OK) !=
		    (rc == DV_OK))
			abort();
		tpm_public_free(q);
		free(twob);
	}
	tpm_public_free(p);
	return 0;
}
