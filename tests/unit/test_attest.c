/*
 * test_attest.c - unit tests of src/attest (device-attest-01 statements,
 * issue 5) and of the X.509 readers of src/pki/attext.c:
 *  - the real Apple MDA leaf and YubiKey PIV chains of shared/data yield
 *    the serial, UDID and nonce of their .expected.json files; the recent
 *    YubiKey chain verifies to the real Yubico PIV root, the 2018 one and
 *    the Apple leaf (no intermediate) do not;
 *  - the attestation object decoder: good objects, then every strictness
 *    rule (trailing bytes, duplicate keys, wrong types, indefinite lengths,
 *    tags, floats, depth, sizes, every truncation);
 *  - `apple` and `step` statements built here on generated chains whose
 *    test roots stand in for Apple's and Yubico's, every check and its
 *    failure;
 *  - `tpm` statements with a software key pair standing in for the AK
 *    (TPMS_ATTEST, TPMT_PUBLIC, TPMT_SIGNATURE marshalled with tss2-mu),
 *    the AK certificate issued by pki_akcert_issue, every check and its
 *    failure; and two statements made by swtpm (RSA and ECC AK certifying
 *    a P-256 key over SHA-256 of the key authorization) verify.
 * With DEVID_ATT_SEEDS=<dir> set, the good objects are also written there
 * (the fuzz seeds of fuzz/corpus/attobj and att_formats).
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cbor.h>
#include <tss2/tss2_mu.h>

#include "attest/attest.h"
#include "pki/pki.h"
#include "tpm/tpm.h"

#define TOKEN		"evaGxfADs6pSRb2LAv9IZf17Dt3juxGJ-PCt92wr-oA"
#define KEYAUTH		\
	TOKEN ".LoqXcYV8q5ONbJQxbmR7SCTNo3tiAXDfowyjxAjEuX0"
#define DAY		(24 * 3600)

/* ---- helpers ------------------------------------------------------------ */

struct ca {
	EVP_PKEY	*k;
	X509		*x;		/* decoded from der */
	uint8_t		*der;
	size_t		 len;
	struct pki_signer s;
};

static struct fixture {
	time_t		 now;
	struct ca	 root, inter, other;	/* test roots */
	struct pki_trust *trust, *trust_other;
	EVP_PKEY	*p256, *p384, *ed, *ak, *ak2;	/* leaf keys */
} F;

static char *
data_path(const char *rel)
{
	const char *shared = getenv("DEVID_SHARED");

	return xasprintf("%s/data/%s", shared != NULL ? shared : "../shared",
	    rel);
}

static X509 *
data_cert(const char *rel)
{
	uint8_t *b;
	size_t n;
	X509 *x;
	char *p = data_path(rel);

	assert_int_equal(file_read(p, 65536, &b, &n), DV_OK);
	assert_int_equal(pki_cert_from_pem((char *)b, n, &x), DV_OK);
	free(b);
	free(p);
	return x;
}

static json_t *
data_json(const char *rel)
{
	json_error_t e;
	json_t *j;
	char *p = data_path(rel);

	j = json_load_file(p, 0, &e);
	if (j == NULL)
		fail_msg("%s: %s", p, e.text);
	free(p);
	return j;
}

static void
spki_of(EVP_PKEY *k, uint8_t **der, size_t *len)
{
	assert_int_equal(pki_key_spki_der(k, der, len), DV_OK);
}

/* A CA certificate for c (self-signed when issuer is NULL). */
static void
ca_make(struct ca *c, struct ca *issuer, const char *cn)
{
	struct pki_profile pr;
	uint8_t *spki;
	size_t spkilen;
	X509 *tmp;

	memset(&pr, 0, sizeof(pr));
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &c->k), DV_OK);
	pki_signer_local(c->k, &c->s);
	pr.cn = cn;
	pr.not_before = F.now - DAY;
	pr.not_after = F.now + 365 * DAY;
	pr.ku = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN;
	pr.is_ca = true;
	pr.path_len = -1;
	spki_of(c->k, &spki, &spkilen);
	assert_int_equal(pki_cert_issue(issuer != NULL ? issuer->x : NULL,
	    issuer != NULL ? &issuer->s : &c->s, &pr, spki, spkilen, &tmp,
	    &c->der, &c->len), DV_OK);
	pki_cert_free(tmp);
	free(spki);
	assert_int_equal(pki_cert_from_der(c->der, c->len, &c->x), DV_OK);
}

static void
ca_free(struct ca *c)
{
	pki_cert_free(c->x);
	pki_key_free(c->k);
	free(c->der);
	memset(c, 0, sizeof(*c));
}

/* A leaf for k under issuer with extra extensions; *der new. */
static void
leaf_make(struct ca *issuer, EVP_PKEY *k, const struct pki_ext *ext,
    size_t next, time_t not_after, uint8_t **der, size_t *len)
{
	struct pki_profile pr;
	uint8_t *spki;
	size_t spkilen;
	X509 *tmp;

	memset(&pr, 0, sizeof(pr));
	pr.cn = "attestation leaf";
	pr.not_before = F.now - DAY;
	pr.not_after = not_after != 0 ? not_after : F.now + 30 * DAY;
	pr.ku = PKI_KU_DIGITAL_SIGNATURE;
	pr.path_len = -1;
	pr.ext = ext;
	pr.next = next;
	spki_of(k, &spki, &spkilen);
	assert_int_equal(pki_cert_issue(issuer->x, &issuer->s, &pr, spki,
	    spkilen, &tmp, der, len), DV_OK);
	pki_cert_free(tmp);
	free(spki);
}

static struct att_params
params(const struct pki_trust *t)
{
	struct att_params p;

	memset(&p, 0, sizeof(p));
	p.token = TOKEN;
	p.key_auth = KEYAUTH;
	p.tpm_roots = p.apple_roots = p.step_roots = t;
	p.now = F.now;
	return p;
}

/* ---- CBOR building -------------------------------------------------- */

static void
put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	assert_true(cbor_map_add(m, (struct cbor_pair){
	    .key = cbor_move(cbor_build_string(k)),
	    .value = cbor_move(v) }));
}

static cbor_item_t *
bstr(const uint8_t *p, size_t n)
{
	return cbor_build_bytestring(p, n);
}

static cbor_item_t *
x5c_array(uint8_t *const *der, const size_t *len, size_t n)
{
	cbor_item_t *a = cbor_new_definite_array(n);
	size_t i;

	for (i = 0; i < n; i++)
		assert_true(cbor_array_push(a, cbor_move(bstr(der[i],
		    len[i]))));
	return a;
}

static cbor_item_t *
cose_alg(int64_t alg)
{
	return alg < 0 ? cbor_build_negint32((uint32_t)(-1 - alg)) :
	    cbor_build_uint32((uint32_t)alg);
}

static uint8_t *
encode(cbor_item_t *item, size_t *len)
{
	uint8_t *buf = NULL;
	size_t cap = 0;

	*len = cbor_serialize_alloc(item, &buf, &cap);
	assert_true(*len > 0);
	cbor_decref(&item);
	return buf;
}

static void
seed(const char *name, const uint8_t *p, size_t n)
{
	const char *dir = getenv("DEVID_ATT_SEEDS");
	char *path;
	FILE *f;

	if (dir == NULL)
		return;
	path = xasprintf("%s/%s", dir, name);
	assert_non_null(f = fopen(path, "wb"));
	assert_int_equal(fwrite(p, 1, n, f), n);
	fclose(f);
	free(path);
}

/* {fmt: fmt, attStmt: stmt}; stmt is consumed. */
static uint8_t *
object(const char *fmt, cbor_item_t *stmt, size_t *len)
{
	cbor_item_t *top = cbor_new_definite_map(2);

	put(top, "fmt", cbor_build_string(fmt));
	put(top, "attStmt", stmt);
	return encode(top, len);
}

static enum dv_rc
parse_verify(const uint8_t *b, size_t n, const struct att_params *p,
    struct att_result *r)
{
	struct att_object *o;
	enum dv_rc rc;

	memset(r, 0, sizeof(*r));
	if ((rc = att_object_parse(b, n, &o)) != DV_OK) {
		assert_null(o);
		return rc;
	}
	rc = att_verify(o, p, r);
	att_object_free(o);
	return rc;
}

/* ---- setup -------------------------------------------------------------- */

static int
setup(void **state)
{
	(void)state;
	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_INFO : LOG__MAX, 2);
	assert_int_equal(pki_init(), DV_OK);
	tpm_init();
	F.now = time(NULL);
	ca_make(&F.root, NULL, "Test Attestation Root");
	ca_make(&F.inter, &F.root, "Test Attestation Sub CA");
	ca_make(&F.other, NULL, "Other Root");
	F.trust = pki_trust_new();
	assert_int_equal(pki_trust_add_root(F.trust, F.root.x), DV_OK);
	F.trust_other = pki_trust_new();
	assert_int_equal(pki_trust_add_root(F.trust_other, F.other.x), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &F.p256), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P384, &F.p384), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &F.ed), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, &F.ak), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &F.ak2), DV_OK);
	return 0;
}

static int
teardown(void **state)
{
	(void)state;
	ca_free(&F.root);
	ca_free(&F.inter);
	ca_free(&F.other);
	pki_trust_free(F.trust);
	pki_trust_free(F.trust_other);
	pki_key_free(F.p256);
	pki_key_free(F.p384);
	pki_key_free(F.ed);
	pki_key_free(F.ak);
	pki_key_free(F.ak2);
	return 0;
}

/* ---- real certificates of shared/data ----------------------------------- */

static void
test_real_apple_leaf(void **state)
{
	json_t *j = data_json("apple-mda/nanoca_mda_leaf.expected.json");
	json_t *ext;
	struct pki_apple_att a;
	struct pki_trust *t;
	struct pki_der d;
	X509 *x, *leaf;
	uint8_t *der = NULL;
	size_t len;
	char *hex;

	(void)state;
	x = data_cert("apple-mda/nanoca_mda_leaf.pem");
	assert_int_equal(pki_apple_att_read(x, &a), DV_OK);
	assert_string_equal(a.serial, json_string_value(json_object_get(
	    json_object_get(j, "upstream_expected"), "serial_number")));
	assert_string_equal(a.udid, json_string_value(json_object_get(
	    json_object_get(j, "upstream_expected"), "udid")));
	ext = json_object_get(json_object_get(j, "decoded_for_this_collection"),
	    "extensions");
	hex = hex_encode(a.nonce, a.noncelen);
	assert_string_equal(hex, json_string_value(json_object_get(ext,
	    "1.2.840.113635.100.8.11.1 (freshness code / nonce), hex")));
	free(hex);
	pki_apple_att_clear(&a);
	pki_apple_att_clear(&a);	/* idempotent */

	/* the Sub CA is not public: no chain to the real Apple root, even
	 * at a time the leaf was valid */
	t = pki_trust_new();
	leaf = data_cert("vendor-roots/apple-att-ca.crt");
	assert_int_equal(pki_trust_add_root(t, leaf), DV_OK);
	pki_cert_free(leaf);
	assert_int_equal(pki_cert_to_der(x, &der, &len), DV_OK);
	d.der = der;
	d.len = len;
	assert_int_equal(pki_att_chain_verify(t, &d, 1, 1754006400, &leaf),
	    DV_ERR_UNTRUSTED);
	assert_null(leaf);
	free(der);
	pki_trust_free(t);
	pki_cert_free(x);
	json_decref(j);
}

/* The built-in apple and step roots are the vendors' published ones, and
 * the real YubiKey chain verifies to them. */
static void
test_builtin_roots(void **state)
{
	static const char *const want[] = { "vendor-roots/apple-att-ca.crt",
	    "vendor-roots/yubico-piv-ca.crt",
	    "vendor-roots/yubico_attestation_root_1.pem" };
	STACK_OF(X509) *sk;
	struct pki_trust *t;
	struct pki_der d[2];
	uint8_t *der[2], *a, *b;
	size_t len[2], an, bn;
	const char *pem;
	X509 *x, *leaf;
	int i, k = 0, f;

	(void)state;
	assert_null(att_default_roots_pem(ATT_FMT_TPM));
	for (f = ATT_FMT_APPLE; f <= ATT_FMT_STEP; f++) {
		assert_non_null(pem = att_default_roots_pem((enum att_fmt)f));
		assert_int_equal(pki_certs_from_pem(pem, strlen(pem), 8, &sk),
		    DV_OK);
		assert_int_equal(sk_X509_num(sk), f == ATT_FMT_APPLE ? 1 : 2);
		for (i = 0; i < sk_X509_num(sk); i++, k++) {
			x = data_cert(want[k]);
			assert_int_equal(pki_cert_to_der(x, &a, &an), DV_OK);
			assert_int_equal(pki_cert_to_der(sk_X509_value(sk, i),
			    &b, &bn), DV_OK);
			assert_int_equal(an, bn);
			assert_memory_equal(a, b, an);
			free(a);
			free(b);
			pki_cert_free(x);
		}
		pki_certs_free(sk);
	}
	assert_int_equal(k, 3);

	pem = att_default_roots_pem(ATT_FMT_STEP);
	t = pki_trust_new();
	assert_int_equal(pki_trust_add_roots_pem(t, pem, strlen(pem)), DV_OK);
	x = data_cert("yubikey/yk_attestation_9a.pem");
	assert_int_equal(pki_cert_to_der(x, &der[0], &len[0]), DV_OK);
	pki_cert_free(x);
	x = data_cert("yubikey/yk_intermediate_pivroot.pem");
	assert_int_equal(pki_cert_to_der(x, &der[1], &len[1]), DV_OK);
	pki_cert_free(x);
	d[0].der = der[0]; d[0].len = len[0];
	d[1].der = der[1]; d[1].len = len[1];
	assert_int_equal(pki_att_chain_verify(t, d, 2, 0, &leaf), DV_OK);
	pki_cert_free(leaf);
	free(der[0]);
	free(der[1]);
	pki_trust_free(t);
}

static void
test_real_yubikey(void **state)
{
	json_t *j = data_json("yubikey/yubikey_chains.expected.json");
	json_t *c0 = json_array_get(json_object_get(j, "chains"), 0);
	struct pki_trust *t, *t2018;
	struct pki_der d[2];
	uint8_t *der[2];
	size_t len[2];
	X509 *x, *leaf;
	char *serial, *want;

	(void)state;
	t = pki_trust_new();
	x = data_cert("vendor-roots/yubico-piv-ca.crt");
	assert_int_equal(pki_trust_add_root(t, x), DV_OK);
	pki_cert_free(x);

	x = data_cert("yubikey/yk_attestation_9a.pem");
	assert_int_equal(pki_yubikey_serial(x, &serial), DV_OK);
	want = xasprintf("%lld", (long long)json_integer_value(
	    json_object_get(c0, "yubikey_serial_number")));
	assert_string_equal(serial, want);
	assert_string_equal(serial, "15732500");
	free(want);
	free(serial);
	assert_int_equal(pki_cert_to_der(x, &der[0], &len[0]), DV_OK);
	pki_cert_free(x);
	x = data_cert("yubikey/yk_intermediate_pivroot.pem");
	assert_int_equal(pki_cert_to_der(x, &der[1], &len[1]), DV_OK);
	pki_cert_free(x);
	d[0].der = der[0]; d[0].len = len[0];
	d[1].der = der[1]; d[1].len = len[1];
	assert_int_equal(pki_att_chain_verify(t, d, 2, 0, &leaf), DV_OK);
	pki_cert_free(leaf);
	/* the leaf alone does not reach the root */
	assert_int_equal(pki_att_chain_verify(t, d, 1, 0, &leaf),
	    DV_ERR_UNTRUSTED);

	/* as a step statement: the chain passes, the signature cannot */
	{
		struct att_params p = params(t);
		struct att_result r;
		cbor_item_t *st = cbor_new_definite_map(3);
		uint8_t junk[2] = { 0x41, 0x00 }, *b;
		size_t n;

		put(st, "alg", cose_alg(-7));
		put(st, "sig", bstr(junk, sizeof(junk)));
		put(st, "x5c", x5c_array(der, len, 2));
		b = object("step", st, &n);
		seed("yubikey_real", b, n);
		assert_int_equal(parse_verify(b, n, &p, &r),
		    DV_ERR_ATT_SIGNATURE);
		free(b);
	}
	free(der[0]);
	free(der[1]);

	/* 2018 chain: no serial extension; strict path validation fails
	 * (intermediate without basicConstraints, root pathlen 0) */
	x = data_cert("yubikey/yk2018_attestation_9a.pem");
	assert_int_equal(pki_yubikey_serial(x, &serial), DV_ERR_NOT_FOUND);
	assert_null(serial);
	assert_int_equal(pki_cert_to_der(x, &der[0], &len[0]), DV_OK);
	pki_cert_free(x);
	x = data_cert("yubikey/yk2018_intermediate_u2froot.pem");
	assert_int_equal(pki_cert_to_der(x, &der[1], &len[1]), DV_OK);
	pki_cert_free(x);
	t2018 = pki_trust_new();
	x = data_cert("vendor-roots/yubico_u2f_root_ca_serial_457200631.pem");
	assert_int_equal(pki_trust_add_root(t2018, x), DV_OK);
	pki_cert_free(x);
	d[0].der = der[0]; d[0].len = len[0];
	d[1].der = der[1]; d[1].len = len[1];
	assert_int_equal(pki_att_chain_verify(t2018, d, 2, 0, &leaf),
	    DV_ERR_UNTRUSTED);
	/* InvalidChain: the recent leaf under the 2018 intermediate */
	assert_int_equal(pki_att_chain_verify(t, d, 2, 0, &leaf),
	    DV_ERR_UNTRUSTED);
	free(der[0]);
	free(der[1]);
	pki_trust_free(t2018);
	pki_trust_free(t);
	json_decref(j);
}

/* ---- the attestation object --------------------------------------------- */

/* A small valid step object (x5c of one fake certificate). */
static uint8_t *
small_object(size_t *len)
{
	cbor_item_t *st = cbor_new_definite_map(3);
	uint8_t c[3] = { 1, 2, 3 };
	cbor_item_t *a = cbor_new_definite_array(1);

	assert_true(cbor_array_push(a, cbor_move(bstr(c, 3))));
	put(st, "alg", cose_alg(-257));
	put(st, "sig", bstr(c, 2));
	put(st, "x5c", a);
	return object("step", st, len);
}

static enum dv_rc
parse_only(const uint8_t *b, size_t n)
{
	struct att_object *o = (struct att_object *)1;
	enum dv_rc rc = att_object_parse(b, n, &o);

	if (rc != DV_OK)
		assert_null(o);
	att_object_free(o);
	return rc;
}

static enum dv_rc
parse_stmt(cbor_item_t *st)
{
	uint8_t *b;
	size_t n;
	enum dv_rc rc;

	b = object("tpm", st, &n);
	rc = parse_only(b, n);
	free(b);
	return rc;
}

static void
test_object_good(void **state)
{
	struct att_object *o;
	cbor_item_t *st, *top;
	uint8_t *b, c[4] = { 9, 8, 7, 6 };
	size_t n;

	(void)state;
	b = small_object(&n);
	seed("small_step", b, n);
	assert_int_equal(att_object_parse(b, n, &o), DV_OK);
	assert_int_equal(o->fmt, ATT_FMT_STEP);
	assert_int_equal(o->alg, -257);
	assert_int_equal(o->nx5c, 1);
	assert_int_equal(o->x5c[0].len, 3);
	assert_int_equal(o->sig.len, 2);
	assert_int_equal(o->present, ATT_F_ALG | ATT_F_SIG | ATT_F_X5C);
	att_object_free(o);
	att_object_free(NULL);
	free(b);

	/* every field, authData ignored, any key order */
	st = cbor_new_definite_map(6);
	put(st, "pubArea", bstr(c, 4));
	put(st, "certInfo", bstr(c, 3));
	put(st, "ver", cbor_build_string("2.0"));
	put(st, "alg", cose_alg(-65535));
	put(st, "sig", bstr(c, 1));
	put(st, "x5c", cbor_new_definite_array(0));
	top = cbor_new_definite_map(3);
	put(top, "attStmt", st);
	put(top, "authData", bstr(c, 4));
	put(top, "fmt", cbor_build_string("tpm"));
	b = encode(top, &n);
	assert_int_equal(att_object_parse(b, n, &o), DV_OK);
	assert_int_equal(o->fmt, ATT_FMT_TPM);
	assert_string_equal(o->ver, "2.0");
	assert_int_equal(o->alg, -65535);
	assert_int_equal(o->nx5c, 0);
	assert_int_equal(o->pub_area.len, 4);
	assert_int_equal(o->cert_info.len, 3);
	att_object_free(o);
	free(b);

	/* apple: x5c only */
	st = cbor_new_definite_map(1);
	put(st, "x5c", cbor_new_definite_array(0));
	b = object("apple", st, &n);
	assert_int_equal(att_object_parse(b, n, &o), DV_OK);
	assert_int_equal(o->fmt, ATT_FMT_APPLE);
	att_object_free(o);
	free(b);
	assert_string_equal(att_fmt_name(ATT_FMT_APPLE), "apple");
	assert_string_equal(att_fmt_name(ATT_FMT__MAX), "unknown");
}

static void
test_object_strict(void **state)
{
	cbor_item_t *st, *top, *a, *b2;
	uint8_t *b, *t, c[2] = { 1, 2 };
	size_t n, i;
	/* hand-made hostile encodings */
	static const uint8_t indef_map[] = { 0xbf, 0x63, 'f', 'm', 't', 0x63,
	    't', 'p', 'm', 0xff };
	static const uint8_t tagged[] = { 0xc0, 0xa0 };
	static const uint8_t flt[] = { 0xf9, 0x00, 0x00 };
	static const uint8_t two_items[] = { 0xa0, 0xa0 };
	static const uint8_t reserved[] = { 0x1c };
	static const uint8_t huge_str[] = { 0x5b, 0xff, 0xff, 0xff, 0xff,
	    0xff, 0xff, 0xff, 0xff };
	static const uint8_t huge_map[] = { 0xba, 0x7f, 0xff, 0xff, 0xff };
	static const uint8_t empty_map[] = { 0xa0 };

	(void)state;
	/* trailing byte, and every truncation */
	b = small_object(&n);
	t = xmalloc(n + 1);
	memcpy(t, b, n);
	t[n] = 0x00;
	assert_int_equal(parse_only(t, n + 1), DV_ERR_ATT_OBJECT);
	for (i = 0; i < n; i++)
		assert_int_not_equal(parse_only(b, i), DV_OK);
	free(t);
	free(b);

	assert_int_equal(parse_only(NULL, 0), DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(empty_map, 1), DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(indef_map, sizeof(indef_map)),
	    DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(tagged, sizeof(tagged)),
	    DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(flt, sizeof(flt)), DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(two_items, sizeof(two_items)),
	    DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(reserved, sizeof(reserved)),
	    DV_ERR_ATT_OBJECT);
	assert_int_equal(parse_only(huge_str, sizeof(huge_str)),
	    DV_ERR_TOO_LARGE);
	assert_int_equal(parse_only(huge_map, sizeof(huge_map)),
	    DV_ERR_TOO_LARGE);

	/* too large as a whole */
	t = xcalloc(1, DV_ATT_MAX_OBJECT + 1);
	assert_int_equal(parse_only(t, DV_ATT_MAX_OBJECT + 1),
	    DV_ERR_TOO_LARGE);
	free(t);

	/* duplicate key, top and in attStmt */
	top = cbor_new_definite_map(3);
	put(top, "fmt", cbor_build_string("tpm"));
	put(top, "fmt", cbor_build_string("apple"));
	put(top, "attStmt", cbor_new_definite_map(0));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	st = cbor_new_definite_map(2);
	put(st, "sig", bstr(c, 1));
	put(st, "sig", bstr(c, 2));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_OBJECT);

	/* wrong types */
	top = cbor_new_definite_map(2);
	put(top, "fmt", cbor_build_uint8(1));
	put(top, "attStmt", cbor_new_definite_map(0));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	top = cbor_new_definite_map(2);
	put(top, "fmt", cbor_build_string("tpm"));
	put(top, "attStmt", cbor_new_definite_array(0));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	top = cbor_new_definite_map(2);
	put(top, "fmt", cbor_build_string("tpm"));
	put(top, "authData", cbor_build_string("x"));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	top = cbor_new_definite_map(1);		/* attStmt missing */
	put(top, "fmt", cbor_build_string("tpm"));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	top = cbor_new_definite_map(3);		/* unknown member */
	put(top, "fmt", cbor_build_string("tpm"));
	put(top, "attStmt", cbor_new_definite_map(0));
	put(top, "extra", cbor_build_uint8(0));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);
	top = cbor_new_definite_map(2);		/* integer key */
	assert_true(cbor_map_add(top, (struct cbor_pair){
	    .key = cbor_move(cbor_build_uint8(1)),
	    .value = cbor_move(cbor_build_string("tpm")) }));
	put(top, "attStmt", cbor_new_definite_map(0));
	b = encode(top, &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_OBJECT);
	free(b);

	st = cbor_new_definite_map(1);
	put(st, "x5c", bstr(c, 2));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	a = cbor_new_definite_array(1);
	assert_true(cbor_array_push(a, cbor_move(cbor_build_uint8(3))));
	put(st, "x5c", a);
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "sig", cbor_build_string("sig"));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "certInfo", cbor_build_uint8(0));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "pubArea", cbor_new_definite_map(0));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "alg", cbor_build_string("-7"));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "alg", cbor_build_negint64(UINT64_MAX));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "ver", bstr((const uint8_t *)"2.0", 3));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "ver", cbor_build_string("2.0\n"));
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);
	st = cbor_new_definite_map(1);
	put(st, "response", bstr(c, 1));	/* unknown field */
	assert_int_equal(parse_stmt(st), DV_ERR_ATT_STMT);

	/* unsupported formats */
	b = object("android-key", cbor_new_definite_map(0), &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_FORMAT);
	free(b);
	b = object("TPM", cbor_new_definite_map(0), &n);
	assert_int_equal(parse_only(b, n), DV_ERR_ATT_FORMAT);
	free(b);

	/* depth: an array inside x5c; length: more than DV_MAX_CHAIN */
	st = cbor_new_definite_map(1);
	a = cbor_new_definite_array(1);
	assert_true(cbor_array_push(a, cbor_move(cbor_new_definite_array(1))));
	b2 = cbor_array_get(a, 0);
	assert_true(cbor_array_push(b2, cbor_move(bstr(c, 1))));
	cbor_decref(&b2);
	put(st, "x5c", a);
	assert_int_equal(parse_stmt(st), DV_ERR_TOO_LARGE);
	st = cbor_new_definite_map(1);
	a = cbor_new_definite_array(DV_MAX_CHAIN + 1);
	for (i = 0; i < DV_MAX_CHAIN + 1; i++)
		assert_true(cbor_array_push(a, cbor_move(bstr(c, 1))));
	put(st, "x5c", a);
	assert_int_equal(parse_stmt(st), DV_ERR_TOO_LARGE);
}

/* ---- apple -------------------------------------------------------------- */

struct apple_case {
	const char	*nonce_of;	/* SHA-256 of it; NULL: no nonce */
	bool		 serial, udid;
	bool		 crit_nonce;
	bool		 no_inter;
	time_t		 not_after;
};

static uint8_t *
apple_object(const struct apple_case *c, size_t *len, uint8_t **spki,
    size_t *spkilen)
{
	struct pki_ext ext[3];
	uint8_t md[32], *der[2];
	size_t dl[2], n = 0;
	cbor_item_t *st;
	uint8_t *b;

	if (c->nonce_of != NULL) {
		pki_sha256(c->nonce_of, strlen(c->nonce_of), md);
		ext[n++] = (struct pki_ext){ PKI_OID_APPLE_NONCE,
		    c->crit_nonce, md, sizeof(md) };
	}
	if (c->serial)
		ext[n++] = (struct pki_ext){ PKI_OID_APPLE_SERIAL, false,
		    (const uint8_t *)"TMWFWWWP67", 10 };
	if (c->udid)
		ext[n++] = (struct pki_ext){ PKI_OID_APPLE_UDID, false,
		    (const uint8_t *)"00006030-000651690A84001C", 25 };
	leaf_make(&F.inter, F.p384, ext, n, c->not_after, &der[0], &dl[0]);
	der[1] = F.inter.der;
	dl[1] = F.inter.len;
	st = cbor_new_definite_map(1);
	put(st, "x5c", x5c_array(der, dl, c->no_inter ? 1 : 2));
	b = object("apple", st, len);
	free(der[0]);
	if (spki != NULL)
		spki_of(F.p384, spki, spkilen);
	return b;
}

static enum dv_rc
apple_run(const struct apple_case *c, const struct pki_trust *t)
{
	struct att_params p = params(t);
	struct att_result r;
	uint8_t *b;
	size_t n;
	enum dv_rc rc;

	b = apple_object(c, &n, NULL, NULL);
	rc = parse_verify(b, n, &p, &r);
	att_result_clear(&r);
	free(b);
	return rc;
}

static void
test_apple(void **state)
{
	struct apple_case ok = { TOKEN, true, true, false, false, 0 }, c;
	struct att_params p = params(F.trust);
	struct att_object *o;
	struct att_result r;
	uint8_t *b, *spki, md[32];
	size_t n, spkilen;

	(void)state;
	b = apple_object(&ok, &n, &spki, &spkilen);
	seed("apple_ok", b, n);
	assert_int_equal(parse_verify(b, n, &p, &r), DV_OK);
	assert_int_equal(r.fmt, ATT_FMT_APPLE);
	assert_string_equal(r.serial, "TMWFWWWP67");
	assert_string_equal(r.udid, "00006030-000651690A84001C");
	assert_int_equal(r.spkilen, spkilen);
	assert_memory_equal(r.spki, spki, spkilen);
	pki_sha256(spki, spkilen, md);
	assert_memory_equal(r.spki_sha256, md, 32);
	assert_true(att_result_has_id(&r, "TMWFWWWP67"));
	assert_true(att_result_has_id(&r, "00006030-000651690A84001C"));
	assert_false(att_result_has_id(&r, "TMWFWWWP6"));
	assert_false(att_result_has_id(&r, ""));
	att_result_clear(&r);

	/* the other verifiers refuse it */
	assert_int_equal(att_object_parse(b, n, &o), DV_OK);
	assert_int_equal(att_tpm_verify(o, &p, &r), DV_ERR_ATT_FORMAT);
	assert_int_equal(att_step_verify(o, &p, &r), DV_ERR_ATT_FORMAT);
	assert_null(r.spki);
	/* no roots configured: the server's fault */
	p.apple_roots = NULL;
	assert_int_equal(att_apple_verify(o, &p, &r), DV_ERR_ATT_NO_ROOTS);
	p.apple_roots = F.trust;
	/* the nonce does not match another challenge */
	p.token = "another-token";
	p.key_auth = "another-token.thumbprint";
	assert_int_equal(att_apple_verify(o, &p, &r), DV_ERR_ATT_KEYAUTH);
	p = params(F.trust);
	/* verification time after the leaf expired */
	p.now = F.now + 60 * DAY;
	assert_int_equal(att_apple_verify(o, &p, &r), DV_ERR_ATT_CHAIN);
	att_object_free(o);
	free(b);
	free(spki);

	/* nonce = SHA-256(key authorization) is accepted too */
	c = ok;
	c.nonce_of = KEYAUTH;
	assert_int_equal(apple_run(&c, F.trust), DV_OK);
	/* UDID alone, serial alone */
	c = ok;
	c.serial = false;
	assert_int_equal(apple_run(&c, F.trust), DV_OK);
	c = ok;
	c.udid = false;
	assert_int_equal(apple_run(&c, F.trust), DV_OK);

	/* failures, in step-ca's order */
	assert_int_equal(apple_run(&ok, F.trust_other), DV_ERR_ATT_CHAIN);
	c = ok;
	c.no_inter = true;
	assert_int_equal(apple_run(&c, F.trust), DV_ERR_ATT_CHAIN);
	/* RFC 5280 §6.1.3: an unknown critical extension fails the path;
	 * pki_apple_att_read refuses it on its own as well */
	c = ok;
	c.crit_nonce = true;
	assert_int_equal(apple_run(&c, F.trust), DV_ERR_ATT_CHAIN);
	{
		struct pki_ext e = { PKI_OID_APPLE_NONCE, true,
		    (const uint8_t *)"nonce", 5 };
		struct pki_apple_att a;
		uint8_t *der;
		size_t dl;
		X509 *x;

		leaf_make(&F.inter, F.p384, &e, 1, 0, &der, &dl);
		assert_int_equal(pki_cert_from_der(der, dl, &x), DV_OK);
		assert_int_equal(pki_apple_att_read(x, &a), DV_ERR_MALFORMED);
		assert_null(a.nonce);
		pki_cert_free(x);
		free(der);
	}
	c = ok;
	c.nonce_of = "wrong nonce";
	assert_int_equal(apple_run(&c, F.trust), DV_ERR_ATT_KEYAUTH);
	c = ok;
	c.nonce_of = NULL;
	assert_int_equal(apple_run(&c, F.trust), DV_ERR_ATT_KEYAUTH);
	c = ok;
	c.serial = c.udid = false;
	assert_int_equal(apple_run(&c, F.trust), DV_ERR_ATT_IDENTIFIER);

	/* x5c missing, x5c empty */
	b = object("apple", cbor_new_definite_map(0), &n);
	assert_int_equal(parse_verify(b, n, &p, &r), DV_ERR_ATT_STMT);
	free(b);
	{
		cbor_item_t *st = cbor_new_definite_map(1);

		put(st, "x5c", cbor_new_definite_array(0));
		b = object("apple", st, &n);
		assert_int_equal(parse_verify(b, n, &p, &r), DV_ERR_ATT_STMT);
		free(b);
	}
	/* an x5c element that is not a certificate */
	{
		cbor_item_t *st = cbor_new_definite_map(1);
		uint8_t junk[3] = { 0x30, 0x01, 0x00 }, *d = junk;
		size_t dl = sizeof(junk);

		put(st, "x5c", x5c_array(&d, &dl, 1));
		b = object("apple", st, &n);
		assert_int_equal(parse_verify(b, n, &p, &r),
		    DV_ERR_ATT_CHAIN);
		free(b);
	}
}

/* ---- step (YubiKey PIV) ------------------------------------------------- */

struct step_case {
	EVP_PKEY	*leaf_key;	/* attested key */
	EVP_PKEY	*signer;	/* signs the key authorization */
	const char	*signed_text;
	const uint8_t	*serial;	/* extnValue; NULL: absent */
	size_t		 seriallen;
	bool		 unwrapped;	/* sig not CBOR-wrapped */
	bool		 no_sig;
	const uint8_t	*devid;		/* Smallstep device ID extnValue */
	size_t		 devidlen;
};

/* DER INTEGER 15732500, as the real YubiKey */
static const uint8_t yk_serial[] = { 0x02, 0x04, 0x00, 0xf0, 0x0f, 0x14 };

static uint8_t *
step_object(const struct step_case *c, size_t *len)
{
	struct pki_ext ext[2];
	size_t next = 0;
	enum pki_sig_alg alg;
	uint8_t *der[2], *sig, *wrapped;
	size_t dl[2], siglen, wlen;
	cbor_item_t *st;
	uint8_t *b;

	if (c->serial != NULL)
		ext[next++] = (struct pki_ext){ PKI_OID_YUBIKEY_SERIAL, false,
		    c->serial, c->seriallen };
	if (c->devid != NULL)
		ext[next++] = (struct pki_ext){ PKI_OID_STEP_DEVICE_ID, false,
		    c->devid, c->devidlen };
	leaf_make(&F.inter, c->leaf_key, ext, next, 0, &der[0], &dl[0]);
	der[1] = F.inter.der;
	dl[1] = F.inter.len;
	assert_int_equal(pki_key_sig_alg(c->signer, &alg), DV_OK);
	assert_int_equal(pki_sign_data(c->signer, alg,
	    (const uint8_t *)c->signed_text, strlen(c->signed_text), &sig,
	    &siglen), DV_OK);
	wrapped = encode(bstr(sig, siglen), &wlen);
	st = cbor_new_definite_map(3);
	put(st, "alg", cose_alg(-7));
	if (!c->no_sig)
		put(st, "sig", c->unwrapped ? bstr(sig, siglen) :
		    bstr(wrapped, wlen));
	put(st, "x5c", x5c_array(der, dl, 2));
	b = object("step", st, len);
	free(wrapped);
	free(sig);
	free(der[0]);
	return b;
}

static enum dv_rc
step_run(const struct step_case *c, const struct pki_trust *t,
    struct att_result *r)
{
	struct att_params p = params(t);
	struct att_result tmp;
	uint8_t *b;
	size_t n;
	enum dv_rc rc;

	b = step_object(c, &n);
	rc = parse_verify(b, n, &p, r != NULL ? r : &tmp);
	if (r == NULL)
		att_result_clear(&tmp);
	free(b);
	return rc;
}

static void
test_step(void **state)
{
	struct step_case ok = { F.p256, F.p256, KEYAUTH, yk_serial,
	    sizeof(yk_serial), false, false, NULL, 0 }, c;
	/* SEQUENCE { UTF8String "device-123" }, and not that shape */
	static const uint8_t devid[] = { 0x30, 0x0c, 0x0c, 0x0a, 'd', 'e',
	    'v', 'i', 'c', 'e', '-', '1', '2', '3' };
	static const uint8_t bad_devid[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	static const uint8_t not_int[] = { 0x04, 0x01, 0x05 };
	static const uint8_t negative[] = { 0x02, 0x01, 0xff };
	static const uint8_t nonminimal[] = { 0x02, 0x02, 0x00, 0x05 };
	struct att_result r;
	uint8_t *spki, *b;
	size_t spkilen, n;

	(void)state;
	b = step_object(&ok, &n);
	seed("step_ok", b, n);
	free(b);
	assert_int_equal(step_run(&ok, F.trust, &r), DV_OK);
	assert_int_equal(r.fmt, ATT_FMT_STEP);
	assert_string_equal(r.serial, "15732500");
	assert_null(r.udid);
	spki_of(F.p256, &spki, &spkilen);
	assert_int_equal(r.spkilen, spkilen);
	assert_memory_equal(r.spki, spki, spkilen);
	{
		/* step-ca's fingerprint: SHA-256 of the BIT STRING contents,
		 * for P-256 the last 65 bytes (04 || x || y) of the SPKI */
		uint8_t md[32];
		char *b64, *want;

		pki_sha256(spki + spkilen - 65, 65, md);
		assert_int_equal(pki_b64_encode(md, 32, &b64), DV_OK);
		want = xasprintf("SHA256:%s", b64);
		assert_string_equal(r.fingerprint, want);
		free(want);
		free(b64);
	}
	free(spki);
	assert_true(att_result_has_id(&r, "15732500"));
	assert_false(att_result_has_id(&r, "015732500"));
	att_result_clear(&r);

	/* Ed25519 slot key: signature over the key authorization itself */
	c = ok;
	c.leaf_key = c.signer = F.ed;
	assert_int_equal(step_run(&c, F.trust, NULL), DV_OK);

	/* a Smallstep managed device: the device ID when no YubiKey serial;
	 * the YubiKey serial wins when both are there */
	c = ok;
	c.serial = NULL;
	c.devid = devid;
	c.devidlen = sizeof(devid);
	assert_int_equal(step_run(&c, F.trust, &r), DV_OK);
	assert_string_equal(r.serial, "device-123");
	att_result_clear(&r);
	c.serial = yk_serial;
	assert_int_equal(step_run(&c, F.trust, &r), DV_OK);
	assert_string_equal(r.serial, "15732500");
	att_result_clear(&r);
	c.serial = NULL;
	c.devid = bad_devid;
	c.devidlen = sizeof(bad_devid);
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_IDENTIFIER);

	/* failures in order */
	assert_int_equal(step_run(&ok, F.trust_other, NULL),
	    DV_ERR_ATT_CHAIN);
	c = ok;
	c.no_sig = true;
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_STMT);
	c = ok;
	c.unwrapped = true;
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_STMT);
	c = ok;
	c.leaf_key = c.signer = F.p384;
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_KEY);
	c = ok;
	c.signed_text = TOKEN ".another-thumbprint";
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_SIGNATURE);
	c = ok;
	c.signer = F.ak2;		/* another key */
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_SIGNATURE);
	c = ok;
	c.serial = NULL;
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_IDENTIFIER);
	c = ok;
	c.serial = not_int;
	c.seriallen = sizeof(not_int);
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_IDENTIFIER);
	c.serial = negative;
	c.seriallen = sizeof(negative);
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_IDENTIFIER);
	c.serial = nonminimal;
	c.seriallen = sizeof(nonminimal);
	assert_int_equal(step_run(&c, F.trust, NULL), DV_ERR_ATT_IDENTIFIER);
}

/* ---- tpm ---------------------------------------------------------------- */

struct tpm_case {
	const char	*ver;		/* NULL: absent */
	int64_t		 alg;
	bool		 no_alg;
	const struct pki_trust *trust;
	bool		 plain_cert;	/* AK cert without AK profile */
	uint16_t	 type;
	uint32_t	 magic;
	uint32_t	 attrs;
	uint16_t	 curve;
	const char	*extra_of;	/* extraData = SHA-256(this) */
	bool		 other_name;	/* certify another key's name */
	EVP_PKEY	*signer;	/* signs certInfo */
	bool		 trailing;	/* a byte after certInfo */
	uint16_t	 sig_hash;
};

#define ATTRS_OK	(TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_SIGN_ENCRYPT)

static const char *ek_urn;

/* TPMT_PUBLIC of the ECC key k; *len bytes into out. */
static void
tpm_pub_of(EVP_PKEY *k, uint32_t attrs, uint16_t curve, uint8_t *out,
    size_t *len)
{
	TPMT_PUBLIC pub;
	const char *cname;
	size_t cl, off = 0;

	memset(&pub, 0, sizeof(pub));
	pub.type = TPM2_ALG_ECC;
	pub.nameAlg = TPM2_ALG_SHA256;
	pub.objectAttributes = attrs;
	pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	pub.parameters.eccDetail.curveID = curve;
	pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	assert_int_equal(pki_key_ec_get(k, &cname, pub.unique.ecc.x.buffer,
	    pub.unique.ecc.y.buffer, &cl), DV_OK);
	pub.unique.ecc.x.size = pub.unique.ecc.y.size = (UINT16)cl;
	assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, out, 1024, &off),
	    TSS2_RC_SUCCESS);
	*len = off;
}

static uint8_t *
tpm_object(const struct tpm_case *c, size_t *len)
{
	struct pki_ak_profile akp = { ek_urn, "id:49424D00", "SW  TPM",
	    "id:20191023", 0, 0, NULL, NULL, NULL };
	uint8_t pubarea[1024], other[1024], ci[2048], sigb[1024];
	size_t publen, otherlen, cilen = 0, siglen = 0, rawlen;
	uint8_t *akspki, *akder, *raw, md[32];
	size_t akspkilen, akderlen;
	TPMS_ATTEST att;
	TPMT_SIGNATURE sig;
	enum pki_sig_alg alg;
	cbor_item_t *st;
	X509 *tmp;

	/* the attested key: F.p256 (or its Name replaced by F.ak2's) */
	tpm_pub_of(F.p256, c->attrs, c->curve, pubarea, &publen);
	tpm_pub_of(F.ak2, ATTRS_OK, TPM2_ECC_NIST_P256, other, &otherlen);

	memset(&att, 0, sizeof(att));
	att.magic = c->magic;
	att.type = c->type;
	pki_sha256(c->extra_of, strlen(c->extra_of), md);
	att.extraData.size = 32;
	memcpy(att.extraData.buffer, md, 32);
	att.clockInfo.safe = 1;
	att.firmwareVersion = 0x2019102300000000ull;
	att.attested.certify.name.size = 34;
	att.attested.certify.name.name[0] = 0x00;
	att.attested.certify.name.name[1] = 0x0b;
	if (c->other_name)
		pki_sha256(other, otherlen, att.attested.certify.name.name + 2);
	else
		pki_sha256(pubarea, publen, att.attested.certify.name.name + 2);
	att.attested.certify.qualifiedName = att.attested.certify.name;
	if (c->type == TPM2_ST_ATTEST_CREATION) {
		TPM2B_NAME nm = att.attested.certify.name;

		memset(&att.attested, 0, sizeof(att.attested));
		att.attested.creation.objectName = nm;
	}
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&att, ci, sizeof(ci),
	    &cilen), TSS2_RC_SUCCESS);
	if (c->trailing)
		ci[cilen++] = 0x00;

	/* the AK (RSA) signs certInfo: RSASSA-PKCS1-v1_5 SHA-256 */
	assert_int_equal(pki_key_sig_alg(c->signer, &alg), DV_OK);
	assert_int_equal(pki_sign_data(c->signer, alg, ci, cilen, &raw,
	    &rawlen), DV_OK);
	memset(&sig, 0, sizeof(sig));
	sig.sigAlg = TPM2_ALG_RSASSA;
	sig.signature.rsassa.hash = c->sig_hash;
	sig.signature.rsassa.sig.size = (UINT16)rawlen;
	memcpy(sig.signature.rsassa.sig.buffer, raw, rawlen);
	free(raw);
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sigb,
	    sizeof(sigb), &siglen), TSS2_RC_SUCCESS);

	/* the AK certificate */
	spki_of(F.ak, &akspki, &akspkilen);
	akp.not_before = F.now - DAY;
	akp.not_after = F.now + 30 * DAY;
	if (c->plain_cert) {
		struct pki_profile pr;

		memset(&pr, 0, sizeof(pr));
		pr.cn = "not an AK certificate";
		pr.not_before = akp.not_before;
		pr.not_after = akp.not_after;
		pr.ku = PKI_KU_DIGITAL_SIGNATURE;
		pr.eku = PKI_EKU_CLIENT_AUTH;
		pr.path_len = -1;
		assert_int_equal(pki_cert_issue(F.root.x, &F.root.s, &pr,
		    akspki, akspkilen, &tmp, &akder, &akderlen), DV_OK);
	} else
		assert_int_equal(pki_akcert_issue(F.root.x, &F.root.s, &akp,
		    akspki, akspkilen, &tmp, &akder, &akderlen), DV_OK);
	pki_cert_free(tmp);
	free(akspki);

	st = cbor_new_definite_map(6);
	if (c->ver != NULL)
		put(st, "ver", cbor_build_string(c->ver));
	if (!c->no_alg)
		put(st, "alg", cose_alg(c->alg));
	put(st, "x5c", x5c_array(&akder, &akderlen, 1));
	put(st, "sig", bstr(sigb, siglen));
	put(st, "certInfo", bstr(ci, cilen));
	put(st, "pubArea", bstr(pubarea, publen));
	free(akder);
	return object("tpm", st, len);
}

static struct tpm_case
tpm_ok(void)
{
	struct tpm_case c;

	memset(&c, 0, sizeof(c));
	c.ver = "2.0";
	c.alg = -257;
	c.trust = F.trust;
	c.type = TPM2_ST_ATTEST_CERTIFY;
	c.magic = TPM2_GENERATED_VALUE;
	c.attrs = ATTRS_OK;
	c.curve = TPM2_ECC_NIST_P256;
	c.extra_of = KEYAUTH;
	c.signer = F.ak;
	c.sig_hash = TPM2_ALG_SHA256;
	return c;
}

static enum dv_rc
tpm_run(const struct tpm_case *c, struct att_result *r)
{
	struct att_params p = params(c->trust);
	struct att_result tmp;
	uint8_t *b;
	size_t n;
	enum dv_rc rc;

	b = tpm_object(c, &n);
	rc = parse_verify(b, n, &p, r != NULL ? r : &tmp);
	if (r == NULL)
		att_result_clear(&tmp);
	free(b);
	return rc;
}

static void
test_tpm(void **state)
{
	struct tpm_case ok = tpm_ok(), c;
	struct att_params p;
	struct att_result r;
	uint8_t *spki, md[32], *b;
	size_t spkilen, n;
	char *urn;

	(void)state;
	pki_sha256("test EK", 7, md);
	assert_int_equal(pki_b64_encode(md, 32, &urn), DV_OK);
	ek_urn = xasprintf("%s%s", PKI_EK_URN_PREFIX, urn);
	free(urn);

	b = tpm_object(&ok, &n);
	seed("tpm_ok", b, n);
	p = params(F.trust);
	assert_int_equal(parse_verify(b, n, &p, &r), DV_OK);
	assert_int_equal(r.fmt, ATT_FMT_TPM);
	assert_string_equal(r.ak.ek_urn, ek_urn);
	assert_string_equal(r.ak.manufacturer, "id:49424D00");
	assert_string_equal(r.ak.model, "SW  TPM");
	assert_string_equal(r.ak.version, "id:20191023");
	assert_int_equal(r.ak.nperm_ids, 0);
	spki_of(F.p256, &spki, &spkilen);
	assert_int_equal(r.spkilen, spkilen);
	assert_memory_equal(r.spki, spki, spkilen);
	free(spki);
	assert_true(att_result_has_id(&r, ek_urn));
	assert_non_null(r.fingerprint);
	assert_memory_equal(r.fingerprint, "SHA256:", 7);
	assert_false(att_result_has_id(&r, "urn:ek:sha256:x"));
	att_result_clear(&r);
	/* extraData of another key authorization; no roots */
	p.key_auth = TOKEN ".another-thumbprint";
	assert_int_equal(parse_verify(b, n, &p, &r), DV_ERR_ATT_KEYAUTH);
	p = params(NULL);
	assert_int_equal(parse_verify(b, n, &p, &r), DV_ERR_ATT_NO_ROOTS);
	free(b);

	/* each check, in step-ca's order */
	c = ok; c.ver = NULL;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_STMT);
	c = ok; c.ver = "1.2";
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_VERSION);
	c = ok; c.trust = F.trust_other;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_CHAIN);
	c = ok; c.plain_cert = true;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_AK_CERT);
	c = ok; c.no_alg = true;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_STMT);
	c = ok; c.alg = -65535;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ALG);
	c = ok; c.alg = -8;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ALG);
	c = ok; c.trailing = true;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_TPM_STRUCT);
	c = ok; c.type = TPM2_ST_ATTEST_CREATION;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_CERTIFY_TYPE);
	c = ok; c.curve = TPM2_ECC_BN_P256;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_KEY);
	c = ok; c.magic = 0xff544348;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_NOT_GENERATED);
	c = ok; c.attrs = ATTRS_OK | TPMA_OBJECT_RESTRICTED;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ATTRIBUTES);
	c = ok; c.attrs = ATTRS_OK & ~TPMA_OBJECT_FIXEDTPM;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ATTRIBUTES);
	c = ok; c.attrs = ATTRS_OK & ~TPMA_OBJECT_SENSITIVEDATAORIGIN;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ATTRIBUTES);
	c = ok; c.other_name = true;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_NAME);
	c = ok; c.sig_hash = TPM2_ALG_SHA384;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_ALG);
	{
		EVP_PKEY *k2;

		assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, &k2),
		    DV_OK);
		c = ok; c.signer = k2;
		assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_SIGNATURE);
		pki_key_free(k2);
	}
	c = ok; c.extra_of = TOKEN;
	assert_int_equal(tpm_run(&c, NULL), DV_ERR_ATT_KEYAUTH);
	free((char *)ek_urn);
}

/* swtpm 0.7.1 via ESAPI: RSA AK (restricted, sign), P-256 key
 * (fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign),
 * TPM2_Certify(key, AK, qualifyingData = SHA-256(KEYAUTH)). */
static const char *swtpm_rsa[4] = {
	/* ak_public */
	("0001000b00050472000000100014000b0800000000000100b5fd4cb3789dfb18"
	 "1ed54c613b74010345490d02c31f51a48efcc077b30d48446ec24635e5581079"
	 "0b01b65b23d2b5c7cbc84d1505867ceb353a7cfc62007ae421908564f6f7b636"
	 "76f2864a9dcf2f33c25f0c05ce5bb055953a653eb15820b510107fb70d0645e1"
	 "8049e9161127277d6aaf68788a9be1dbd326c66eaa2828470b1bc3227e9ebe5d"
	 "5192da08fc97ed6175ac13f5212f6518ea8ffc50f36d0806b4e89081e3c78844"
	 "1a92a6729bd955144fecbe03f70311ad21131be58bfa3fe7778a6635c83b6bfa"
	 "1055569d087ef0e704f76ff9e1b5cd59c6212ff202e27c6077849630c6e33768"
	 "03b35cc536a9079207debee7040bfd3a1ca0fc2a96c08c27"),
	/* pub_area */
	("0023000b00040072000000100010000300100020ecd0791cd9c4ae38774562be"
	 "fffcff4cf6f8142b1e273829c518ce96d5a1c19300205dc8d8ac88bc7ac3b97f"
	 "81444746bd823a19de8561f2eb3326eee90e00095a0d"),
	/* cert_info */
	("ff54434780170022000b1e71240e620b87c4ca8d71c4262bc7e1c28d4eaafd85"
	 "972e9d5f1ca821424b500020c4982262abf822f1149209c3c4122209e69afef9"
	 "9fb4f32642412d7ef1df4fb900000000000088a0a3a833de5ab1c3eb01b115d0"
	 "a10d5d148c0022000b18d2cf6f1efdb3a19a21ac7487857d7a7717c902884d0d"
	 "b2b80e8d0ad4ac94490022000b9fbecb9634f63f53fc6d54b2d05a9510fc71ff"
	 "b8056c51b792ba65aa396a450b"),
	/* sig */
	("0014000b010005b6244ca1c05db3204d497ca19b43f7e29fddd40bcef7c4b523"
	 "113113da8bddc2193dea82ff4e2d71bca629960c3380d312445e58eab3f1b964"
	 "9ac76854c14051143575d86755fd303c52a49e13392d6b07ff337bec345e39c6"
	 "ca45ce640fc44a718503c2eb2ece5a584c4ae2b7a1c6bc0266e994b2b50cd4b7"
	 "8c6d3140471c4342fa82b562177a35106d131e5663bf93ded3aac0d7f5a7ae9d"
	 "2464e222a18b9f5881a75c7ad8d401a6a0bd03d8ae0cc1405f7496e0fd86632c"
	 "06fb89d3349732163a418d56a0b22fdf49319d6d4adc723b50a774bcbeab5aa2"
	 "f01948a68672ceb587fee1518f51ab1750f79f52be50925597c3e0b787ae696e"
	 "db30dd3e4b61"),
};

/* swtpm 0.7.1 via ESAPI: ECC AK (restricted, sign), P-256 key
 * (fixedTPM|fixedParent|sensitiveDataOrigin|userWithAuth|sign),
 * TPM2_Certify(key, AK, qualifyingData = SHA-256(KEYAUTH)). */
static const char *swtpm_ecc[4] = {
	/* ak_public */
	("0023000b00050472000000100018000b0003001000204e3b6a76357cc0474419"
	 "1c256f60d175787b7f3d3b988fdf77474d3abb7b3bc00020aace87d29d763e9c"
	 "64fbd61f18b6539f553a56abbd6df1fc618b9dcac17724c6"),
	/* pub_area */
	("0023000b00040072000000100010000300100020a057e13bc0d7962365128f8e"
	 "17c183e59cda3225e8e0cb4e6a11af52a35a572800204f400cc7e16dbb279bbd"
	 "9c6d17ed365f5fab5178e271973e66ab6c17e12a7e9a"),
	/* cert_info */
	("ff54434780170022000be1be66a541797c8ca3bfa5d06e1d9f3aad7a3d13272e"
	 "a41dd32e41452f8e34d00020c4982262abf822f1149209c3c4122209e69afef9"
	 "9fb4f32642412d7ef1df4fb900000000000088b61c3e252b81afe53301b0b457"
	 "7f8f4edb640022000ba8571ce5cb60faf6c6a2deb2f20ad7b04eda59eabaae06"
	 "31a4229d03a4ff40160022000bc07821fc9f5ccd3ecc62b9a1ed7fcc39ae7da6"
	 "e1732e22e55c7318f98da0bc95"),
	/* sig */
	("0018000b00204fff71fb90c23be473c813eb8c7dd9679590b5c2bc42196985e4"
	 "04a7c742ef08002092ac1e01540cee1b6e98634e9015a4db76432e543c2746a5"
	 "2487a4bbfbb4bee9"),
};

/* A statement made by a real (software) TPM: only the AK certificate is
 * issued here, for the AK public key the TPM made. */
static void
swtpm_case(const char *const hx[4], int64_t alg)
{
	struct pki_ak_profile akp = { NULL, "id:49424D00", "swtpm",
	    "id:20191023", 0, 0, NULL, NULL, NULL };
	struct tpm_public *akpub, *kpub;
	struct att_params p = params(F.trust);
	struct att_result r;
	uint8_t *v[4], *akspki, *akder, *kspki, *b, md[32];
	size_t vl[4], akspkilen, akderlen, kspkilen, n, i;
	cbor_item_t *st;
	char *urn;
	X509 *tmp;

	for (i = 0; i < 4; i++)
		assert_int_equal(hex_decode(hx[i], &v[i], &vl[i]), DV_OK);
	assert_int_equal(tpm_public_parse(v[0], vl[0], &akpub), DV_OK);
	assert_int_equal(tpm_public_spki(akpub, &akspki, &akspkilen), DV_OK);
	assert_int_equal(tpm_public_parse(v[1], vl[1], &kpub), DV_OK);
	assert_int_equal(tpm_public_spki(kpub, &kspki, &kspkilen), DV_OK);
	pki_sha256("swtpm EK", 8, md);
	assert_int_equal(pki_b64_encode(md, 32, &urn), DV_OK);
	akp.ek_urn = xasprintf("%s%s", PKI_EK_URN_PREFIX, urn);
	akp.not_before = F.now - DAY;
	akp.not_after = F.now + DAY;
	assert_int_equal(pki_akcert_issue(F.root.x, &F.root.s, &akp, akspki,
	    akspkilen, &tmp, &akder, &akderlen), DV_OK);
	pki_cert_free(tmp);

	st = cbor_new_definite_map(6);
	put(st, "ver", cbor_build_string("2.0"));
	put(st, "alg", cose_alg(alg));
	put(st, "x5c", x5c_array(&akder, &akderlen, 1));
	put(st, "sig", bstr(v[3], vl[3]));
	put(st, "certInfo", bstr(v[2], vl[2]));
	put(st, "pubArea", bstr(v[1], vl[1]));
	b = object("tpm", st, &n);
	assert_int_equal(parse_verify(b, n, &p, &r), DV_OK);
	assert_int_equal(r.spkilen, kspkilen);
	assert_memory_equal(r.spki, kspki, kspkilen);
	assert_string_equal(r.ak.ek_urn, akp.ek_urn);
	att_result_clear(&r);
	/* the same TPM statement for another challenge */
	p.key_auth = TOKEN ".another-thumbprint";
	assert_int_equal(parse_verify(b, n, &p, &r), DV_ERR_ATT_KEYAUTH);
	free(b);

	free((char *)akp.ek_urn);
	free(urn);
	free(akder);
	free(kspki);
	free(akspki);
	tpm_public_free(kpub);
	tpm_public_free(akpub);
	for (i = 0; i < 4; i++)
		free(v[i]);
}

static void
test_tpm_swtpm(void **state)
{
	(void)state;
	swtpm_case(swtpm_rsa, -257);
	/* cli sets alg from the attested key (ECC: -7); SHA-256 either way */
	swtpm_case(swtpm_rsa, -7);
	swtpm_case(swtpm_ecc, -7);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_real_apple_leaf),
		cmocka_unit_test(test_real_yubikey),
		cmocka_unit_test(test_builtin_roots),
		cmocka_unit_test(test_object_good),
		cmocka_unit_test(test_object_strict),
		cmocka_unit_test(test_apple),
		cmocka_unit_test(test_step),
		cmocka_unit_test(test_tpm),
		cmocka_unit_test(test_tpm_swtpm),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
