/*
 * fuzz_tpm_attest.c - TPMS_ATTEST and TPMS_CREATION_DATA from /attest
 * params.createAttestation and params.createData (rule 28): the fuzzer's
 * bytes go to tpm_attest_parse() and tpm_creation_data_parse(), and then
 * into tpm_ak_check() twice with a real AK (Infineon RSA): once as its
 * createAttestation, once as its createData, so that every later check
 * (type, creation hash, magic, name, signature) sees hostile values.  The
 * result must be a known code, and DV_OK only for the real bytes.
 *
 * Seeds in fuzz/corpus/tpm_attest/: the creation attestations and
 * creation data of shared/data/ak-params and hostile_* seeds.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pki/pki.h"
#include "tpm/tpm.h"

/* shared/data/ak-params/infineon_rsa_ak.json */
static const char *rsa_b64[4] = {
	/* Public */
	("AAEACwAFBHIAIJ3/y/NsODrmmfuYaNxty4nXFTiEvigDkiwSQVi/rSKuABAA"
	 "FAAECAAAAAAAAQC/08gj/04z4xGMIVTmr02lzhI5epufXgU831xEpf2qpXfv"
	 "tNGUfqTcgWF2EUux2HDPqgcj59dtXRobQdlr4uCGNzfZIGAej4JusLa4MjpG"
	 "6W2DtJPot6F1Mry63talzJ36U47niy9Iesd34CO2p9Xk3+86ZmBnQ6PQ2roU"
	 "NK3l7bKz6cFLM9drOLwCqU0AUl6pHvzYPPz+xXsPl3iaA2cM97oneUiJNmJM"
	 "7wtR9OcaKyIA4wVlX5TndB9NwWq5Iuj8q2Sp40Dg0noXXGSPliAtVD8flkXt"
	 "AcuI9UHkQbzu9cGPRdSJPMn743GONg3bYalFtcgh2VpACXkPbXB32J7B"),
	/* CreateData */
	("AAAAAAAg47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUBAAsAIgAL"
	 "WI9hwDRB3zYSkannqM5z0J1coQNA1Jz/oCRxJQwTaNwAIgALmyFYBhHeIU3F"
	 "UKIAPgXFD3NXyasP3siQviDEyH7avu4AAA=="),
	/* CreateAttestation */
	("/1RDR4AaACIAC41+jhmEOue1MZhJjIk79ENar6i15rBvamXLpQnGTBCOAAAA"
	 "AAAAD3GRNfU4syzJ1jQGATDCDteFC5C4ACIAC3ToMYGy9GXxcf8A0HvOuLOH"
	 "bU7HPEppM47C7CMcU8TtACBDmJFUFO1f5+BYevaYdd3VtfMCsxIuHhoTZJcz"
	 "zLP2BA=="),
	/* CreateSignature */
	("ABQABAEALVzJSnKRJU39gHjETaI89/sM1L6HwBPGNekw6NojSW8bwD5/W1cL"
	 "RDakCsYKUQu68mmbjs8xaIVBRvVM2YWP10tbTWNB0iJc9b8rERhkk3QIIFm/"
	 "XsiVZsb0mysTxfeh8zygaAKQ/50sYyzp+raD0Ho0mYIRKJOEdQ6chsBflM3e"
	 "B8mCXGTugUfrET80q3iu0gncaKWbfxQaQUb9ZTPSJrTN64HQ9tlOfnGT+8++"
	 "WA3hV0NqKMnoAqiI9GZnI5MPXs6XxEncu/GJLJpAYZakBiS74Jvlr34Pur32"
	 "B4xjm1M25AUGHEIgb6r49S0sV+hzaKu45858lQRMXj01GcyBhw=="),
};

static uint8_t	*ak[4];
static size_t	 aklen[4];

static void
load(void)
{
	int i;

	if (ak[0] != NULL)
		return;
	for (i = 0; i < 4; i++)
		if (pki_b64_decode(rsa_b64[i], strlen(rsa_b64[i]), &ak[i],
		    &aklen[i]) != DV_OK)
			abort();
}

static bool
known(enum dv_rc rc)
{
	switch (rc) {
	case DV_OK:
	case DV_ERR_TPM_STRUCT:
	case DV_ERR_TOO_LARGE:
	case DV_ERR_AK_KEY:
	case DV_ERR_AK_ATTRIBUTES:
	case DV_ERR_AK_NOT_GENERATED:
	case DV_ERR_AK_ATTEST_TYPE:
	case DV_ERR_AK_CREATION:
	case DV_ERR_AK_NAME:
	case DV_ERR_AK_SIGNATURE:
		return true;
	default:
		return false;
	}
}

static void
check(int slot, const uint8_t *data, size_t len)
{
	struct tpm_ak_params p;
	struct tpm_ak *out = NULL;
	enum dv_rc rc;
	bool same;

	p.public = ak[0];
	p.publiclen = aklen[0];
	p.create_data = slot == 1 ? data : ak[1];
	p.create_datalen = slot == 1 ? len : aklen[1];
	p.create_attestation = slot == 2 ? data : ak[2];
	p.create_attestationlen = slot == 2 ? len : aklen[2];
	p.create_signature = ak[3];
	p.create_signaturelen = aklen[3];
	rc = tpm_ak_check(&p, &out);
	same = len == aklen[slot] && memcmp(data, ak[slot], len) == 0;
	if (!known(rc) || (rc == DV_OK) != (out != NULL))
		abort();
	/* the signature covers the attestation, whose creationHash covers
	 * the creation data: nothing else may pass */
	if (rc == DV_OK && !same)
		abort();
	tpm_ak_free(out);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tpm_attest a;

	log_init(LOG__MAX, 2);
	tpm_init();
	load();
	if (tpm_attest_parse(data, len, &a) != DV_OK) {
		if (a.magic != 0 || a.type != 0 || a.name.len != 0)
			abort();
	} else if (a.name.len > TPM_NAME_MAX || a.digest.len > TPM_NAME_MAX ||
	    a.extra_data.len > TPM_NAME_MAX)
		abort();
	(void)tpm_creation_data_parse(data, len);
	check(1, data, len);
	check(2, data, len);
	return 0;
}
