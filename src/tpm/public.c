/*
 * public.c - TPMT_PUBLIC (TPM 2.0 Part 2 §12.2.4; spec/attestation.md §3):
 * decoding with tss2-mu, the object Name (Part 1 §16), the key as an
 * EVP_PKEY and SPKI, and EKs made from an SPKI with the TCG default
 * template's parameters (TCG EK Credential Profile 2.x §2.1.5; spec §5.1).
 */
#include <stdlib.h>
#include <string.h>

#include "tpm_int.h"

void
tpm_init(void)
{
	/* read by libtss2-mu at its first log call */
	(void)setenv("TSS2_LOG", "marshal+none", 0);
}

bool
tpm_hash_of(uint16_t alg, enum pki_hash *out)
{
	switch (alg) {
	case TPM_ALG_SHA1:
		*out = PKI_HASH_SHA1;
		return true;
	case TPM_ALG_SHA256:
		*out = PKI_HASH_SHA256;
		return true;
	case TPM_ALG_SHA384:
		*out = PKI_HASH_SHA384;
		return true;
	case TPM_ALG_SHA512:
		*out = PKI_HASH_SHA512;
		return true;
	default:
		return false;
	}
}

void
tpm_public_free(struct tpm_public *p)
{
	if (p == NULL)
		return;
	free(p->unique);
	free(p->raw);
	free(p);
}

/* Copies the decoded fields of t into a new struct tpm_public. */
static struct tpm_public *
public_from_tpmt(const TPMT_PUBLIC *t)
{
	const TPMT_SYM_DEF_OBJECT *sym;
	struct tpm_public *p;

	p = xcalloc(1, sizeof(*p));
	p->type = t->type;
	p->name_alg = t->nameAlg;
	p->attributes = t->objectAttributes;
	if (t->type == TPM2_ALG_RSA) {
		const TPMS_RSA_PARMS *r = &t->parameters.rsaDetail;

		sym = &r->symmetric;
		p->scheme = r->scheme.scheme;
		p->scheme_hash = r->scheme.scheme == TPM2_ALG_NULL ? 0 :
		    r->scheme.details.anySig.hashAlg;
		p->rsa_bits = r->keyBits;
		p->rsa_exponent = r->exponent == 0 ? 65537 : r->exponent;
		p->uniquelen = t->unique.rsa.size;
		p->unique = xmalloc(p->uniquelen + 1);
		memcpy(p->unique, t->unique.rsa.buffer, p->uniquelen);
	} else {
		const TPMS_ECC_PARMS *e = &t->parameters.eccDetail;
		const TPMS_ECC_POINT *q = &t->unique.ecc;

		sym = &e->symmetric;
		p->scheme = e->scheme.scheme;
		p->scheme_hash = e->scheme.scheme == TPM2_ALG_NULL ? 0 :
		    e->scheme.details.anySig.hashAlg;
		p->curve = e->curveID;
		p->xlen = q->x.size;
		p->uniquelen = (size_t)q->x.size + q->y.size;
		p->unique = xmalloc(p->uniquelen + 1);
		memcpy(p->unique, q->x.buffer, q->x.size);
		memcpy(p->unique + q->x.size, q->y.buffer, q->y.size);
	}
	p->sym_alg = sym->algorithm;
	if (sym->algorithm != TPM2_ALG_NULL) {
		p->sym_bits = sym->keyBits.sym;
		p->sym_mode = sym->mode.sym;
	}
	return p;
}

enum dv_rc
tpm_public_parse(const uint8_t *data, size_t len, struct tpm_public **out)
{
	TPMT_PUBLIC t;
	size_t off = 0;
	TSS2_RC r = TSS2_RC_SUCCESS;

	*out = NULL;
	if (len > DV_TPM_MAX_PUBLIC) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "TPMT_PUBLIC over DV_TPM_MAX_PUBLIC");
		return DV_ERR_TOO_LARGE;
	}
	memset(&t, 0, sizeof(t));
	/* tss2-mu logs an error of its own for a NULL buffer */
	if (data == NULL || len == 0 ||
	    (r = Tss2_MU_TPMT_PUBLIC_Unmarshal(data, len, &off, &t)) !=
	    TSS2_RC_SUCCESS || off != len) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i,s:i}", "detail",
		    "spec §3: TPMT_PUBLIC does not decode exactly", "rc",
		    (int)r, "used", (int)off);
		return DV_ERR_TPM_STRUCT;
	}
	if (t.type != TPM2_ALG_RSA && t.type != TPM2_ALG_ECC) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "spec §3: TPMT_PUBLIC is neither RSA nor ECC", "type",
		    (int)t.type);
		return DV_ERR_TPM_STRUCT;
	}
	*out = public_from_tpmt(&t);
	(*out)->raw = xmemdup(data, len);
	(*out)->rawlen = len;
	return DV_OK;
}

enum dv_rc
tpm_public_parse_2b(const uint8_t *data, size_t len, struct tpm_public **out)
{
	*out = NULL;
	if (len < 2 || ((size_t)data[0] << 8 | data[1]) != len - 2) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "Part 2 §12.2.5: TPM2B_PUBLIC size does not match");
		return DV_ERR_TPM_STRUCT;
	}
	return tpm_public_parse(data + 2, len - 2, out);
}

enum dv_rc
tpm_public_name(const struct tpm_public *p, uint8_t name[TPM_NAME_MAX],
    size_t *namelen)
{
	enum pki_hash h;
	enum dv_rc rc;

	*namelen = 0;
	if (p->raw == NULL || !tpm_hash_of(p->name_alg, &h)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "Part 1 §16: no Name without TPMT_PUBLIC and a hash "
		    "nameAlg", "nameAlg", (int)p->name_alg);
		return DV_ERR_BAD_KEY;
	}
	name[0] = (uint8_t)(p->name_alg >> 8);
	name[1] = (uint8_t)p->name_alg;
	if ((rc = pki_digest(h, p->raw, p->rawlen, name + 2)) != DV_OK)
		return rc;
	*namelen = 2 + pki_hash_size(h);
	return DV_OK;
}

const char *
tpm_curve_name(uint16_t curve)
{
	switch (curve) {
	case TPM_ECC_NIST_P256:
		return "P-256";
	case TPM_ECC_NIST_P384:
		return "P-384";
	case TPM_ECC_NIST_P521:
		return "P-521";
	default:
		return NULL;
	}
}

enum dv_rc
tpm_public_to_pkey(const struct tpm_public *p, EVP_PKEY **out)
{
	const char *curve;

	*out = NULL;
	if (p->type == TPM_ALG_RSA)
		return pki_key_from_rsa(p->unique, p->uniquelen,
		    p->rsa_exponent, out);
	if (p->type != TPM_ALG_ECC || (curve = tpm_curve_name(p->curve)) ==
	    NULL) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "Part 2 §11.2.5: curve not supported (NIST P-256, P-384, "
		    "P-521 only)", "curve", (int)p->curve);
		return DV_ERR_BAD_KEY;
	}
	return pki_key_from_ec(curve, p->unique, p->xlen, p->unique + p->xlen,
	    p->uniquelen - p->xlen, out);
}

enum dv_rc
tpm_public_spki(const struct tpm_public *p, uint8_t **der, size_t *len)
{
	const char *curve;

	*der = NULL;
	*len = 0;
	/* the same checks as tpm_public_to_pkey, without an EVP_PKEY and
	 * OpenSSL's encoder (pki_spki_from_*) */
	if (p->type == TPM_ALG_RSA)
		return pki_spki_from_rsa(p->unique, p->uniquelen,
		    p->rsa_exponent, der, len);
	if (p->type != TPM_ALG_ECC || (curve = tpm_curve_name(p->curve)) ==
	    NULL) {
		log_msg(LOG_INFO, TPM_EV, "{s:s,s:i}", "detail",
		    "Part 2 §11.2.5: curve not supported (NIST P-256, P-384, "
		    "P-521 only)", "curve", (int)p->curve);
		return DV_ERR_BAD_KEY;
	}
	return pki_spki_from_ec(curve, p->unique, p->xlen, p->unique + p->xlen,
	    p->uniquelen - p->xlen, der, len);
}

/* TCG EK Credential Profile templates L-1, L-2 (attributes 0x000300B2) and
 * the high-range H-3, H-4, H-6, H-7 (0x000300F2: userWithAuth too, as
 * swtpm's P-384 EK at 0x81010016). */
static bool
ek_template(struct tpm_public *p, unsigned bits)
{
	p->attributes = TPMA_FIXED_TPM | TPMA_FIXED_PARENT |
	    TPMA_SENSITIVE_ORIGIN | TPMA_ADMIN_WITH_POLICY |
	    TPMA_RESTRICTED | TPMA_DECRYPT;
	p->sym_alg = TPM_ALG_AES;
	p->sym_mode = TPM_ALG_CFB;
	p->scheme = TPM_ALG_NULL;
	if (p->type == TPM_ALG_RSA) {
		p->rsa_bits = (uint16_t)bits;
		if (bits == 2048) {
			p->name_alg = TPM_ALG_SHA256;
			p->sym_bits = 128;
			return true;
		}
		if (bits == 3072 || bits == 4096) {
			p->attributes |= TPMA_USER_WITH_AUTH;
			p->name_alg = TPM_ALG_SHA384;
			p->sym_bits = 256;
			return true;
		}
		return false;
	}
	switch (p->curve) {
	case TPM_ECC_NIST_P256:
		p->name_alg = TPM_ALG_SHA256;
		p->sym_bits = 128;
		return true;
	case TPM_ECC_NIST_P384:
		p->attributes |= TPMA_USER_WITH_AUTH;
		p->name_alg = TPM_ALG_SHA384;
		p->sym_bits = 256;
		return true;
	case TPM_ECC_NIST_P521:
		p->attributes |= TPMA_USER_WITH_AUTH;
		p->name_alg = TPM_ALG_SHA512;
		p->sym_bits = 256;
		return true;
	default:
		return false;
	}
}

/* Fills p from the EK key k: RSA 2048/3072/4096 with an odd 32-bit
 * exponent, or ECC P-256/P-384/P-521, with its template's parameters.
 * Takes k's modulus. */
static bool
ek_fill(struct tpm_public *p, struct pki_raw_key *k)
{
	if (k->rsa) {
		p->type = TPM_ALG_RSA;
		p->unique = k->n;
		p->uniquelen = k->nlen;
		k->n = NULL;
		k->nlen = 0;
		p->rsa_exponent = (uint32_t)k->e;
		/* Part 2 §12.2.3.5: a 32-bit exponent; keyBits exact */
		return k->e >= 3 && k->e <= UINT32_MAX && (k->e & 1) != 0 &&
		    (p->unique[0] & 0x80) != 0 &&
		    ek_template(p, (unsigned)p->uniquelen * 8);
	}
	p->type = TPM_ALG_ECC;
	p->curve = strcmp(k->curve, "P-256") == 0 ? TPM_ECC_NIST_P256 :
	    strcmp(k->curve, "P-384") == 0 ? TPM_ECC_NIST_P384 :
	    TPM_ECC_NIST_P521;
	p->xlen = k->coordlen;
	p->uniquelen = 2 * k->coordlen;
	p->unique = xmalloc(2 * k->coordlen);
	memcpy(p->unique, k->x, k->coordlen);
	memcpy(p->unique + k->coordlen, k->y, k->coordlen);
	return ek_template(p, 0);
}

enum dv_rc
tpm_ek_from_spki(const uint8_t *der, size_t len, struct tpm_public **out)
{
	struct pki_raw_key k;
	struct tpm_public *p = NULL;
	enum dv_rc rc;

	*out = NULL;
	/* the key's parts without OpenSSL 3's decoder (pki_spki_raw_get):
	 * most of an /attest request's CPU went to it */
	if ((rc = pki_spki_raw_get(der, len, &k)) != DV_OK)
		return rc;
	p = xcalloc(1, sizeof(*p));
	if (!ek_fill(p, &k)) {
		log_msg(LOG_INFO, TPM_EV, "{s:s}", "detail",
		    "spec §2.6 step 2: EK is not RSA 2048/3072/4096 (odd "
		    "32-bit exponent) or ECC P-256/P-384/P-521");
		rc = DV_ERR_BAD_KEY;
		goto err;
	}
	pki_raw_key_clear(&k);
	*out = p;
	return DV_OK;
err:
	tpm_public_free(p);
	pki_raw_key_clear(&k);
	return rc;
}

enum dv_rc
tpm_ek_urn(const struct tpm_public *ek, char **urn)
{
	uint8_t *der = NULL;
	size_t len = 0;
	enum dv_rc rc;

	*urn = NULL;
	if ((rc = tpm_public_spki(ek, &der, &len)) != DV_OK)
		return rc;
	rc = pki_ek_pub_urn(der, len, true, urn);
	free(der);
	return rc;
}
