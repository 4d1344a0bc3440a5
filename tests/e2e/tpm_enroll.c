/*
 * tpm_enroll.c - the TPM side of t_acme_device_attest.sh through ESAPI
 * (the start of the agent's TPM code; tests may include tss2_esys.h,
 * DESIGN/STYLE rule 20).  tpm2-tools 5.4's tpm2_certify cannot set
 * qualifyingData, which device-attest-01 needs (spec/attestation.md §8:
 * extraData = SHA-256(keyAuthorization)), so this helper runs
 * TPM2_Certify itself:
 *
 *	tpm_enroll certify AK.ctx KEY.ctx QUALIFYING_HEX ATTEST_OUT SIG_OUT
 *
 * AK.ctx and KEY.ctx are tpm2-tools context files (a saved TPMS_CONTEXT
 * after a header: magic 0xBADCC0DE, version 1); the TCTI comes from
 * TPM2TOOLS_TCTI (e.g. "swtpm:host=127.0.0.1,port=N").  ATTEST_OUT gets
 * the TPMS_ATTEST bytes, SIG_OUT the marshalled TPMT_SIGNATURE.  Exit
 * status 0 on success.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <tss2/tss2_esys.h>
#include <tss2/tss2_mu.h>
#include <tss2/tss2_tctildr.h>

#define CTX_MAGIC	0xBADCC0DEu
#define MAX_FILE	8192

static int
read_file(const char *path, uint8_t *buf, size_t *len)
{
	FILE *f;

	if ((f = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	*len = fread(buf, 1, MAX_FILE, f);
	fclose(f);
	return *len > 0 && *len < MAX_FILE ? 0 : -1;
}

static int
write_file(const char *path, const uint8_t *buf, size_t len)
{
	FILE *f;
	int rc = 0;

	if ((f = fopen(path, "wb")) == NULL) {
		perror(path);
		return -1;
	}
	if (fwrite(buf, 1, len, f) != len)
		rc = -1;
	if (fclose(f) != 0)
		rc = -1;
	return rc;
}

/* Loads a tpm2-tools context file into the TPM: *out is its ESYS_TR. */
static int
context_load(ESYS_CONTEXT *ectx, const char *path, ESYS_TR *out)
{
	uint8_t buf[MAX_FILE];
	size_t len, off = 0;
	uint32_t magic, version;
	TPMS_CONTEXT c;

	memset(&c, 0, sizeof(c));
	if (read_file(path, buf, &len) != 0 ||
	    Tss2_MU_UINT32_Unmarshal(buf, len, &off, &magic) != 0 ||
	    Tss2_MU_UINT32_Unmarshal(buf, len, &off, &version) != 0 ||
	    magic != CTX_MAGIC || version != 1 ||
	    Tss2_MU_UINT32_Unmarshal(buf, len, &off, &c.hierarchy) != 0 ||
	    Tss2_MU_UINT32_Unmarshal(buf, len, &off, &c.savedHandle) != 0 ||
	    Tss2_MU_UINT64_Unmarshal(buf, len, &off, &c.sequence) != 0 ||
	    Tss2_MU_TPM2B_CONTEXT_DATA_Unmarshal(buf, len, &off,
	    &c.contextBlob) != 0 || off != len) {
		fprintf(stderr, "%s: not a tpm2-tools context file\n", path);
		return -1;
	}
	if (Esys_ContextLoad(ectx, &c, out) != TSS2_RC_SUCCESS) {
		fprintf(stderr, "%s: TPM2_ContextLoad failed\n", path);
		return -1;
	}
	return 0;
}

static int
hex_decode(const char *s, uint8_t *out, size_t max, size_t *len)
{
	size_t n = strlen(s), i;
	unsigned v;

	if (n % 2 != 0 || n / 2 > max)
		return -1;
	for (i = 0; i < n / 2; i++) {
		if (sscanf(s + 2 * i, "%2x", &v) != 1)
			return -1;
		out[i] = (uint8_t)v;
	}
	*len = n / 2;
	return 0;
}

static int
certify(ESYS_CONTEXT *ectx, char **argv)
{
	ESYS_TR ak = ESYS_TR_NONE, key = ESYS_TR_NONE;
	TPM2B_DATA qual;
	TPMT_SIG_SCHEME scheme = { .scheme = TPM2_ALG_NULL };
	TPM2B_ATTEST *info = NULL;
	TPMT_SIGNATURE *sig = NULL;
	uint8_t sbuf[sizeof(TPMT_SIGNATURE)];
	size_t qlen = 0, soff = 0;
	TSS2_RC r;
	int rc = -1;

	memset(&qual, 0, sizeof(qual));
	if (hex_decode(argv[2], qual.buffer, sizeof(qual.buffer), &qlen) !=
	    0) {
		fprintf(stderr, "qualifying data is not hex\n");
		return -1;
	}
	qual.size = (UINT16)qlen;
	if (context_load(ectx, argv[0], &ak) != 0 ||
	    context_load(ectx, argv[1], &key) != 0)
		goto out;
	/* empty password authorizations for both keys */
	r = Esys_Certify(ectx, key, ak, ESYS_TR_PASSWORD, ESYS_TR_PASSWORD,
	    ESYS_TR_NONE, &qual, &scheme, &info, &sig);
	if (r != TSS2_RC_SUCCESS) {
		fprintf(stderr, "TPM2_Certify: 0x%x\n", (unsigned)r);
		goto out;
	}
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(sig, sbuf, sizeof(sbuf), &soff) !=
	    TSS2_RC_SUCCESS)
		goto out;
	if (write_file(argv[3], info->attestationData, info->size) != 0 ||
	    write_file(argv[4], sbuf, soff) != 0)
		goto out;
	rc = 0;
out:
	if (key != ESYS_TR_NONE)
		Esys_FlushContext(ectx, key);
	if (ak != ESYS_TR_NONE)
		Esys_FlushContext(ectx, ak);
	Esys_Free(info);
	Esys_Free(sig);
	return rc;
}

int
main(int argc, char **argv)
{
	TSS2_TCTI_CONTEXT *tcti = NULL;
	ESYS_CONTEXT *ectx = NULL;
	const char *conf = getenv("TPM2TOOLS_TCTI");
	int rc = 1;

	if (argc != 7 || strcmp(argv[1], "certify") != 0) {
		fprintf(stderr, "usage: tpm_enroll certify AK.ctx KEY.ctx "
		    "QUALIFYING_HEX ATTEST_OUT SIG_OUT\n");
		return 2;
	}
	if (Tss2_TctiLdr_Initialize(conf, &tcti) != TSS2_RC_SUCCESS ||
	    Esys_Initialize(&ectx, tcti, NULL) != TSS2_RC_SUCCESS) {
		fprintf(stderr, "cannot reach the TPM (TCTI %s)\n",
		    conf != NULL ? conf : "default");
		goto out;
	}
	rc = certify(ectx, argv + 2) == 0 ? 0 : 1;
out:
	Esys_Finalize(&ectx);
	Tss2_TctiLdr_Finalize(&tcti);
	return rc;
}
