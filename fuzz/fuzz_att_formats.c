/*
 * fuzz_att_formats.c - the three device-attest-01 verifiers (rule 28) on
 * hostile statements that get past the chain: at start-up a test root is
 * made and, under it, one valid statement of each format (apple leaf with
 * serial, UDID and nonce; YubiKey-style leaf with serial and a wrapped
 * signature; tpm AK certificate with a certify of a P-256 key).  Each input
 * is then
 *   00 || object   an attestation object, verified by all three formats;
 *   01 || f || b   the valid statement of format f%3 with one field (b[0]%6:
 *                  x5c[0], sig, certInfo, pubArea, ver, x5c[1]) replaced by
 *                  the rest of b, so every check after it sees the bytes.
 * Only the untouched valid statements may verify.
 *
 * Seeds in fuzz/corpus/att_formats/.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <tss2/tss2_mu.h>

#include "attest/attest.h"
#include "tpm/tpm.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

#define TOKEN	"fuzz-token"
#define KEYAUTH	TOKEN ".fuzz-thumbprint"

static struct pki_trust *trust;
/* the root key, kept for the life of the process (the signer points at
 * it) */
static EVP_PKEY *rk;
static struct att_object *base[ATT_FMT__MAX];

static void
check(int ok)
{
	if (!ok)
		abort();
}

static void
put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	check(cbor_map_add(m, (struct cbor_pair){
	    .key = cbor_move(cbor_build_string(k)),
	    .value = cbor_move(v) }));
}

static struct att_object *
finish(const char *fmt, cbor_item_t *st)
{
	cbor_item_t *top = cbor_new_definite_map(2);
	struct att_object *o;
	uint8_t *buf = NULL;
	size_t cap, len;

	put(top, "fmt", cbor_build_string(fmt));
	put(top, "attStmt", st);
	len = cbor_serialize_alloc(top, &buf, &cap);
	cbor_decref(&top);
	check(att_object_parse(buf, len, &o) == DV_OK);
	free(buf);
	return o;
}

static void
issue(X509 *ca, const struct pki_signer *s, EVP_PKEY *k, bool is_ca,
    const struct pki_ext *ext, size_t next, X509 **x, uint8_t **der,
    size_t *len)
{
	struct pki_profile pr;
	uint8_t *spki;
	size_t spkilen;
	X509 *tmp;

	memset(&pr, 0, sizeof(pr));
	pr.cn = is_ca ? "Fuzz Root" : "fuzz leaf";
	pr.not_before = time(NULL) - 3600;
	pr.not_after = time(NULL) + 3650L * 86400;
	pr.ku = is_ca ? PKI_KU_CERT_SIGN : PKI_KU_DIGITAL_SIGNATURE;
	pr.is_ca = is_ca;
	pr.path_len = -1;
	pr.ext = ext;
	pr.next = next;
	check(pki_key_spki_der(k, &spki, &spkilen) == DV_OK);
	check(pki_cert_issue(ca, s, &pr, spki, spkilen, &tmp, der, len) ==
	    DV_OK);
	pki_cert_free(tmp);
	free(spki);
	if (x != NULL)
		check(pki_cert_from_der(*der, *len, x) == DV_OK);
}

static cbor_item_t *
x5c1(const uint8_t *der, size_t len)
{
	cbor_item_t *a = cbor_new_definite_array(1);

	check(cbor_array_push(a, cbor_move(cbor_build_bytestring(der, len))));
	return a;
}

static void
make_tpm(X509 *root, const struct pki_signer *rs)
{
	struct pki_ak_profile akp;
	EVP_PKEY *ak, *k;
	TPMT_PUBLIC pub;
	TPMS_ATTEST att;
	TPMT_SIGNATURE sig;
	uint8_t pa[1024], ci[1024], sb[1024], md[32], *spki, *der, *raw;
	size_t pal = 0, cil = 0, sbl = 0, spkilen, derlen, rawlen, cl;
	const char *curve;
	char *b64, *urn;
	cbor_item_t *st;
	X509 *tmp;

	check(pki_key_generate(PKI_KEY_P256, &ak) == DV_OK);
	check(pki_key_generate(PKI_KEY_P256, &k) == DV_OK);
	memset(&pub, 0, sizeof(pub));
	pub.type = TPM2_ALG_ECC;
	pub.nameAlg = TPM2_ALG_SHA256;
	pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_SIGN_ENCRYPT;
	pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	check(pki_key_ec_get(k, &curve, pub.unique.ecc.x.buffer,
	    pub.unique.ecc.y.buffer, &cl) == DV_OK);
	pub.unique.ecc.x.size = pub.unique.ecc.y.size = (UINT16)cl;
	check(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, pa, sizeof(pa), &pal) ==
	    TSS2_RC_SUCCESS);
	memset(&att, 0, sizeof(att));
	att.magic = TPM2_GENERATED_VALUE;
	att.type = TPM2_ST_ATTEST_CERTIFY;
	att.extraData.size = 32;
	pki_sha256(KEYAUTH, strlen(KEYAUTH), att.extraData.buffer);
	att.attested.certify.name.size = 34;
	att.attested.certify.name.name[1] = 0x0b;
	pki_sha256(pa, pal, att.attested.certify.name.name + 2);
	check(Tss2_MU_TPMS_ATTEST_Marshal(&att, ci, sizeof(ci), &cil) ==
	    TSS2_RC_SUCCESS);
	/* the AK (P-256) signs certInfo; pki_sign_data gives ECDSA-Sig-Value
	 * DER, whose r and s (short-form lengths for P-256) go into the
	 * TPMS_SIGNATURE_ECDSA */
	check(pki_sign_data(ak, PKI_SIG_ECDSA_SHA256, ci, cil, &raw,
	    &rawlen) == DV_OK);
	memset(&sig, 0, sizeof(sig));
	sig.sigAlg = TPM2_ALG_ECDSA;
	sig.signature.ecdsa.hash = TPM2_ALG_SHA256;
	/* DER SEQUENCE { INTEGER r, INTEGER s }: copy the integers */
	{
		size_t off = 2, n;

		n = raw[off + 1];
		off += 2;
		if (raw[off] == 0) {
			off++;
			n--;
		}
		sig.signature.ecdsa.signatureR.size = (UINT16)n;
		memcpy(sig.signature.ecdsa.signatureR.buffer, raw + off, n);
		off += n;
		n = raw[off + 1];
		off += 2;
		if (raw[off] == 0) {
			off++;
			n--;
		}
		sig.signature.ecdsa.signatureS.size = (UINT16)n;
		memcpy(sig.signature.ecdsa.signatureS.buffer, raw + off, n);
	}
	free(raw);
	check(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sb, sizeof(sb), &sbl) ==
	    TSS2_RC_SUCCESS);
	pki_sha256("fuzz EK", 7, md);
	check(pki_b64_encode(md, 32, &b64) == DV_OK);
	urn = xasprintf("%s%s", PKI_EK_URN_PREFIX, b64);
	memset(&akp, 0, sizeof(akp));
	akp.ek_urn = urn;
	akp.manufacturer = "id:49424D00";
	akp.model = "SW  TPM";
	akp.version = "id:20191023";
	akp.not_before = time(NULL) - 3600;
	akp.not_after = time(NULL) + 3650L * 86400;
	check(pki_key_spki_der(ak, &spki, &spkilen) == DV_OK);
	check(pki_akcert_issue(root, rs, &akp, spki, spkilen, &tmp, &der,
	    &derlen) == DV_OK);
	pki_cert_free(tmp);
	st = cbor_new_definite_map(6);
	put(st, "ver", cbor_build_string("2.0"));
	put(st, "alg", cbor_build_negint8(6));
	put(st, "x5c", x5c1(der, derlen));
	put(st, "sig", cbor_build_bytestring(sb, sbl));
	put(st, "certInfo", cbor_build_bytestring(ci, cil));
	put(st, "pubArea", cbor_build_bytestring(pa, pal));
	base[ATT_FMT_TPM] = finish("tpm", st);
	free(spki);
	free(der);
	free(urn);
	free(b64);
	pki_key_free(ak);
	pki_key_free(k);
}

static struct att_params
params(void)
{
	struct att_params p;

	memset(&p, 0, sizeof(p));
	p.token = TOKEN;
	p.key_auth = KEYAUTH;
	p.tpm_roots = p.apple_roots = p.step_roots = trust;
	p.now = 0;
	return p;
}

static void
init(void)
{
	static const uint8_t serial[] = { 0x02, 0x02, 0x30, 0x39 };
	struct pki_signer rs;
	struct pki_ext ext[3];
	EVP_PKEY *k;
	X509 *root;
	uint8_t *der, *sig, *w = NULL, md[32];
	size_t len, siglen, wcap, wlen;
	cbor_item_t *st, *b;

	log_init(LOG__MAX, 2);
	check(pki_init() == DV_OK);
	tpm_init();
	check(pki_key_generate(PKI_KEY_P256, &rk) == DV_OK);
	pki_signer_local(rk, &rs);
	issue(NULL, &rs, rk, true, NULL, 0, &root, &der, &len);
	free(der);
	trust = pki_trust_new();
	check(pki_trust_add_root(trust, root) == DV_OK);

	/* apple */
	check(pki_key_generate(PKI_KEY_P384, &k) == DV_OK);
	pki_sha256(TOKEN, strlen(TOKEN), md);
	ext[0] = (struct pki_ext){ PKI_OID_APPLE_NONCE, false, md, 32 };
	ext[1] = (struct pki_ext){ PKI_OID_APPLE_SERIAL, false,
	    (const uint8_t *)"C02FUZZ", 7 };
	ext[2] = (struct pki_ext){ PKI_OID_APPLE_UDID, false,
	    (const uint8_t *)"00008030-FUZZ", 13 };
	issue(root, &rs, k, false, ext, 3, NULL, &der, &len);
	st = cbor_new_definite_map(1);
	put(st, "x5c", x5c1(der, len));
	base[ATT_FMT_APPLE] = finish("apple", st);
	free(der);
	pki_key_free(k);

	/* step */
	check(pki_key_generate(PKI_KEY_P256, &k) == DV_OK);
	ext[0] = (struct pki_ext){ PKI_OID_YUBIKEY_SERIAL, false, serial,
	    sizeof(serial) };
	issue(root, &rs, k, false, ext, 1, NULL, &der, &len);
	check(pki_sign_data(k, PKI_SIG_ECDSA_SHA256, (const uint8_t *)KEYAUTH,
	    strlen(KEYAUTH), &sig, &siglen) == DV_OK);
	b = cbor_build_bytestring(sig, siglen);
	wlen = cbor_serialize_alloc(b, &w, &wcap);
	cbor_decref(&b);
	st = cbor_new_definite_map(3);
	put(st, "alg", cbor_build_negint8(6));
	put(st, "sig", cbor_build_bytestring(w, wlen));
	put(st, "x5c", x5c1(der, len));
	base[ATT_FMT_STEP] = finish("step", st);
	free(w);
	free(sig);
	free(der);
	pki_key_free(k);

	make_tpm(root, &rs);
	pki_cert_free(root);
	/* the untouched statements verify: the fuzzed ones start from there */
	{
		struct att_params p = params();
		struct att_result r;
		int f;

		for (f = 0; f < ATT_FMT__MAX; f++) {
			check(att_verify(base[f], &p, &r) == DV_OK);
			att_result_clear(&r);
		}
	}
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct att_params p;
	struct att_result r;
	struct att_object *o, copy;
	struct att_buf fz;
	enum dv_rc rc;
	int f;

	if (!ready) {
		init();
		ready = 1;
	}
	p = params();
	if (size < 1)
		return 0;
	if (data[0] == 0) {
		if (att_object_parse(data + 1, size - 1, &o) != DV_OK)
			return 0;
		rc = att_tpm_verify(o, &p, &r);
		att_result_clear(&r);
		rc = att_apple_verify(o, &p, &r);
		att_result_clear(&r);
		rc = att_step_verify(o, &p, &r);
		att_result_clear(&r);
		(void)rc;
		att_object_free(o);
		return 0;
	}
	if (size < 3)
		return 0;
	f = data[1] % ATT_FMT__MAX;
	copy = *base[f];	/* shallow: the buffers stay base's */
	fz.v = (uint8_t *)(data + 3);
	fz.len = size - 3;
	switch (data[2] % 6) {
	case 0:
		copy.x5c[0] = fz;
		break;
	case 1:
		copy.sig = fz;
		break;
	case 2:
		copy.cert_info = fz;
		break;
	case 3:
		copy.pub_area = fz;
		break;
	case 4:
		if (fz.len > DV_ATT_MAX_KEY)
			return 0;
		memcpy(copy.ver, fz.v, fz.len);
		copy.ver[fz.len] = '\0';
		break;
	default:
		if (copy.nx5c >= DV_ATT_CBOR_MAX_ITEMS)
			return 0;
		copy.x5c[copy.nx5c++] = fz;
		break;
	}
	rc = att_verify(&copy, &p, &r);
	att_result_clear(&r);
	(void)rc;
	return 0;
}
