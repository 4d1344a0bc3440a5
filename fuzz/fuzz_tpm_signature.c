/*
 * fuzz_tpm_signature.c - TPMT_SIGNATURE from /attest
 * params.createSignature (rule 28): tpm_signature_parse() on the fuzzer's
 * bytes, tpm_signature_verify() of a parsed signature under the real RSA
 * and ECC AKs over their creation attestations, and tpm_ak_check() with
 * the bytes as each AK's createSignature.  The real signatures must pass;
 * nothing but the real RSA signature may verify under the RSA AK.
 *
 * Seeds in fuzz/corpus/tpm_signature/: the signatures of
 * shared/data/ak-params (RSASSA-SHA1 and ECDSA-SHA1) and hostile_* seeds
 * (HMAC and NULL schemes, oversized values, RSAPSS, SHA-256).
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
/* shared/data/ak-params/gce_vtpm_ecc_ak.json */
static const char *ecc_b64[4] = {
	/* Public */
	("ACMACwAFBHIAIJ3/y/NsODrmmfuYaNxty4nXFTiEvigDkiwSQVi/rSKuABAA"
	 "GAAEAAMAEAAgydcfFWW6O7PjW9vnOE4IDx3545TxylD1iVHP8MIFI78AIJuD"
	 "/QM9EbqM+3SEl7PgiXlWV1NhmvnmE2AHiEfI/hUn"),
	/* CreateData */
	("AAAAAAAg47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFUBAAsAIgAL"
	 "LEyPGewwEIKqPNw9Lx7QXsfp0MsOZFt4EzHFT4tSXekAIgALf7O+OxqTNzTu"
	 "Ihi1YGQoulPZoyxsNKHpBgT4dHqT3+UAAA=="),
	/* CreateAttestation */
	("/1RDR4AaACIAC8Uqr5OAkfcyLJ2gLU2oSvIoPi8XdoLHGdpS5h/JJz8aAAAA"
	 "AAAEXezQqarG49k44bBnAUna81DZr1xhACIAC3AoqIzDrusUtdH3uAwqbqUr"
	 "ybtu35H1XPQDyLBHVGF+ACCKEKpwL1LFbw/IG+vtJ6CtXHIYBhVWyrkAqYLk"
	 "HleYMw=="),
	/* CreateSignature */
	("ABgABAAgbTEBcZvjb9uEEYZCiSqPh/XO0BZQS+egnJ8WKtpSbmkAIDNgvF9i"
	 "yiOCvd5480hOCzjRj7GP3YZ3XqjEVvN3Q3Ca"),
};

static uint8_t	*ak[2][4];
static size_t	 aklen[2][4];
static struct tpm_public *pub[2];

static void
load(void)
{
	const char **b64[2] = { rsa_b64, ecc_b64 };
	int i, j;

	if (pub[0] != NULL)
		return;
	for (j = 0; j < 2; j++) {
		for (i = 0; i < 4; i++)
			if (pki_b64_decode(b64[j][i], strlen(b64[j][i]),
			    &ak[j][i], &aklen[j][i]) != DV_OK)
				abort();
		if (tpm_public_parse(ak[j][0], aklen[j][0], &pub[j]) != DV_OK)
			abort();
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	struct tpm_signature sig;
	struct tpm_ak_params p;
	struct tpm_ak *out;
	enum dv_rc rc, rc2;
	bool same;
	int j;

	log_init(LOG__MAX, 2);
	tpm_init();
	load();
	rc = tpm_signature_parse(data, len, &sig);
	if (rc != DV_OK && (sig.sig_alg != 0 || sig.siglen != 0 ||
	    sig.rlen != 0 || sig.slen != 0))
		abort();
	for (j = 0; j < 2; j++) {
		same = len == aklen[j][3] && memcmp(data, ak[j][3], len) == 0;
		/* ECDSA: (r, n - s) and r or s with leading zeros verify too,
		 * so only the RSA signature is unique */
		if (rc == DV_OK && tpm_signature_verify(pub[j], ak[j][2],
		    aklen[j][2], &sig) == DV_OK && !same && j == 0)
			abort();
		p.public = ak[j][0];
		p.publiclen = aklen[j][0];
		p.create_data = ak[j][1];
		p.create_datalen = aklen[j][1];
		p.create_attestation = ak[j][2];
		p.create_attestationlen = aklen[j][2];
		p.create_signature = data;
		p.create_signaturelen = len;
		out = NULL;
		rc2 = tpm_ak_check(&p, &out);
		if ((same && rc2 != DV_OK) || (!same && j == 0 &&
		    rc2 == DV_OK) || (rc2 == DV_OK) != (out != NULL))
			abort();
		tpm_ak_free(out);
	}
	return 0;
}
