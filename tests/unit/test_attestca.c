/*
 * test_attestca.c - the Attestation CA of src/authority (attest.c) in
 * process, over a real data folder and the local signer: /attest with the
 * AK parameters of real TPMs (../shared/data/ak-params: Infineon RSA,
 * Google vTPM ECC) for a software EK, every refusal in the order ca.h
 * lists, the pending limit; /secret on a session stored with a known
 * secret (recovering one needs the TPM: tests/e2e/t_attest_swtpm.sh):
 * the AK certificate profile, single use, expiry, a retired device.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authority/ca.h"
#include "authority/ca_int.h"	/* ca_attest_load */
#include "inventory/inv.h"
#include "tpm/tpm.h"

struct ak_vec {
	uint8_t		*pub, *cd, *ca, *cs;
	size_t		 publen, cdlen, calen, cslen;
};

struct fx {
	char		 dir[64];
	char		*datadir;
	struct ca	*ca;
	struct ca_authority *att;
	EVP_PKEY	*ek;
	uint8_t		*ekder;
	size_t		 eklen;
	char		*urn;
	char		*dev;		/* device id holding the EK */
	struct ak_vec	 rsa, ecc;
};

static void
b64_member(const json_t *j, const char *k, uint8_t **out, size_t *len)
{
	const char *s = json_get_str(j, k);

	assert_non_null(s);
	assert_int_equal(pki_b64_decode(s, strlen(s), out, len), DV_OK);
}

static void
ak_load(const char *file, struct ak_vec *v)
{
	const char *shared = getenv("DEVID_SHARED");
	uint8_t *data;
	size_t len;
	json_t *j;
	char *p;

	p = xasprintf("%s/data/ak-params/%s", shared != NULL ? shared :
	    "../shared", file);
	assert_int_equal(file_read(p, 1 << 20, &data, &len), DV_OK);
	free(p);
	assert_int_equal(json_parse_strict(data, len, 1 << 20, &j), DV_OK);
	free(data);
	b64_member(j, "Public", &v->pub, &v->publen);
	b64_member(j, "CreateData", &v->cd, &v->cdlen);
	b64_member(j, "CreateAttestation", &v->ca, &v->calen);
	b64_member(j, "CreateSignature", &v->cs, &v->cslen);
	json_decref(j);
}

static void
ak_free(struct ak_vec *v)
{
	free(v->pub);
	free(v->cd);
	free(v->ca);
	free(v->cs);
}

static void
req_init(struct ca_attest_req *r, const uint8_t *ek, size_t eklen,
    const struct ak_vec *v)
{
	memset(r, 0, sizeof(*r));
	r->ek = ek;
	r->eklen = eklen;
	r->ak_public = v->pub;
	r->ak_publiclen = v->publen;
	r->create_data = v->cd;
	r->create_datalen = v->cdlen;
	r->create_attestation = v->ca;
	r->create_attestationlen = v->calen;
	r->create_signature = v->cs;
	r->create_signaturelen = v->cslen;
	r->tpm_manufacturer = "1229081856";
	r->tpm_model = "SLB9670";
	r->tpm_firmware = "7.85";
}

/* Registers a device holding the EK URN urn; returns its id (new). */
static char *
register_ek(struct fx *f, const char *name, const char *urn,
    const char *status)
{
	struct inv_actor who = { "test", "req" };
	json_t *body, *out = NULL;
	char *detail = NULL, *id;

	body = json_pack("{s:s,s:s,s:[{s:s,s:s}]}", "name", name, "status",
	    status, "identifiers", "type", "ek", "value", urn);
	assert_int_equal(inv_device_add(f->ca->inv, "default", body, &who,
	    &out, &detail), DV_OK);
	id = xstrdup(json_get_str(out, "id"));
	json_decref(out);
	json_decref(body);
	return id;
}

/* A fresh software EK (RSA 2048) and its URN. */
static void
new_ek(EVP_PKEY **k, uint8_t **der, size_t *len, char **urn)
{
	assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, k), DV_OK);
	assert_int_equal(pki_key_spki_der(*k, der, len), DV_OK);
	assert_int_equal(pki_ek_pub_urn(*der, *len, true, urn), DV_OK);
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct ca_init_opts o;
	json_t *sum = NULL;

	strcpy(f->dir, "/tmp/devid-attca-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->datadir = xasprintf("%s/data", f->dir);
	memset(&o, 0, sizeof(o));
	o.dir = f->datadir;
	o.listen = "127.0.0.1:18443";
	o.key_type = PKI_KEY_P256;
	o.team = "default";
	assert_int_equal(ca_init_data(&o, &sum), DV_OK);
	json_decref(sum);
	assert_int_equal(ca_open(f->datadir, true, &f->ca), DV_OK);
	f->att = ca_find(f->ca, "default", "attestation");
	assert_non_null(f->att);
	assert_non_null(f->att->att);
	new_ek(&f->ek, &f->ekder, &f->eklen, &f->urn);
	f->dev = register_ek(f, "laptop-1", f->urn, "approved");
	ak_load("infineon_rsa_ak.json", &f->rsa);
	ak_load("gce_vtpm_ecc_ak.json", &f->ecc);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd;

	ca_free(f->ca);
	pki_key_free(f->ek);
	free(f->ekder);
	free(f->urn);
	free(f->dev);
	ak_free(&f->rsa);
	ak_free(&f->ecc);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->datadir);
	free(f);
	return 0;
}

/* The size prefix of a base64 TPM2B member of out. */
static unsigned
tpm2b_size(const json_t *out, const char *k, size_t *total)
{
	uint8_t *b = NULL;
	size_t len = 0;
	unsigned n;

	b64_member(out, k, &b, &len);
	assert_true(len >= 2);
	n = (unsigned)b[0] << 8 | b[1];
	*total = len;
	free(b);
	return n;
}

static void
test_begin(void **state)
{
	struct fx *f = *state;
	struct ca_attest_req r;
	const char *detail;
	json_t *out = NULL;
	size_t total;

	/* a real Infineon AK for a registered software EK */
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	assert_int_equal(ca_attest_begin(f->att, &r, "req-1", &out, &detail),
	    DV_OK);
	/* TPM2B_ID_OBJECT: HMAC-SHA256 (2 + 32) + encrypted 2 + 32 */
	assert_int_equal(tpm2b_size(out, "credential", &total), 0x44);
	assert_int_equal(total, 0x46);
	/* TPM2B_ENCRYPTED_SECRET: RSA-2048 OAEP */
	assert_int_equal(tpm2b_size(out, "secret", &total), 256);
	json_decref(out);

	/* and the Google vTPM ECC AK */
	req_init(&r, f->ekder, f->eklen, &f->ecc);
	assert_int_equal(ca_attest_begin(f->att, &r, "req-2", &out, &detail),
	    DV_OK);
	json_decref(out);
}

static void
test_begin_refusals(void **state)
{
	struct fx *f = *state;
	struct ca_attest_req r;
	struct inv_actor who = { "test", "req" };
	EVP_PKEY *k = NULL;
	uint8_t *der = NULL, *sig;
	size_t len;
	const char *detail;
	json_t *out = NULL, *rev = NULL;
	char *urn = NULL, *id;

	/* 1. not an EK key: Ed25519 */
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &k), DV_OK);
	assert_int_equal(pki_key_spki_der(k, &der, &len), DV_OK);
	req_init(&r, der, len, &f->rsa);
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_BAD_KEY);
	assert_null(out);
	assert_non_null(detail);
	pki_key_free(k);
	free(der);

	/* 2. an EK nobody registered */
	new_ek(&k, &der, &len, &urn);
	req_init(&r, der, len, &f->rsa);
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_FORBIDDEN);
	assert_non_null(strstr(detail, "not registered"));
	/* ... pending approval */
	id = register_ek(f, "pending-1", urn, "pending");
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_FORBIDDEN);
	assert_non_null(strstr(detail, "approval"));
	/* ... retired */
	assert_int_equal(inv_device_retire(f->ca->inv, "default", id, &who,
	    &rev), DV_OK);
	json_decref(rev);
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_FORBIDDEN);
	assert_non_null(strstr(detail, "retired"));
	free(id);
	free(urn);
	pki_key_free(k);
	free(der);

	/* 5. the AK checks: a flipped signature bit, a trailing byte */
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	sig = xmemdup(f->rsa.cs, f->rsa.cslen);
	sig[f->rsa.cslen - 1] ^= 1;
	r.create_signature = sig;
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_AK_SIGNATURE);
	assert_non_null(strstr(detail, "createSignature"));
	free(sig);
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	der = xmalloc(f->rsa.publen + 1);
	memcpy(der, f->rsa.pub, f->rsa.publen);
	der[f->rsa.publen] = 0;
	r.ak_public = der;
	r.ak_publiclen = f->rsa.publen + 1;
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_TPM_STRUCT);
	free(der);
	/* the ECC AK's attestation under the RSA AK's key */
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	r.create_attestation = f->ecc.ca;
	r.create_attestationlen = f->ecc.calen;
	assert_int_not_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_OK);

	/* 6. nothing says what the TPM is */
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	r.tpm_manufacturer = r.tpm_model = r.tpm_firmware = NULL;
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_MALFORMED);
	assert_null(out);
}

static void
test_begin_policy(void **state)
{
	struct fx *f = *state;
	struct ca_attest_req r;
	const char *detail;
	json_t *out = NULL, *cfg, *dev = NULL;
	EVP_PKEY *k = NULL;
	uint8_t *der = NULL;
	size_t len;
	char *urn = NULL;
	int i;

	/* 4. an EK certificate is required: none sent */
	cfg = json_pack("{s:b}", "allowEkWithoutCert", 0);
	assert_int_equal(ca_attest_load(f->att, cfg), DV_OK);
	json_decref(cfg);
	req_init(&r, f->ekder, f->eklen, &f->rsa);
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_FORBIDDEN);
	assert_non_null(strstr(detail, "policy"));

	/* bad policies are refused, the old one kept */
	cfg = json_pack("{s:s}", "akCertLifetime", "1s");
	assert_int_equal(ca_attest_load(f->att, cfg), DV_ERR_MALFORMED);
	json_decref(cfg);
	cfg = json_pack("{s:b}", "nope", 1);
	assert_int_equal(ca_attest_load(f->att, cfg), DV_ERR_MALFORMED);
	json_decref(cfg);
	cfg = json_pack("{s:s}", "ekRoots", "/nonexistent");
	assert_int_equal(ca_attest_load(f->att, cfg), DV_ERR_IO);
	json_decref(cfg);
	assert_false(f->att->att->allow_ek_without_cert);

	/* trust on first use: an unknown EK becomes a device (tag tofu) */
	cfg = json_pack("{s:b}", "trustOnFirstUse", 1);
	assert_int_equal(ca_attest_load(f->att, cfg), DV_OK);
	json_decref(cfg);
	new_ek(&k, &der, &len, &urn);
	req_init(&r, der, len, &f->rsa);
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_OK);
	json_decref(out);
	assert_int_equal(inv_device_by_identifier(f->ca->inv, "default", urn,
	    &dev), DV_OK);
	assert_string_equal(json_string_value(json_array_get(
	    json_object_get(dev, "tags"), 0)), "tofu");
	json_decref(dev);

	/* the pending limit per EK: 8, the first made above */
	for (i = 1; i < DV_ATT_MAX_PENDING; i++) {
		assert_int_equal(ca_attest_begin(f->att, &r, "r", &out,
		    &detail), DV_OK);
		json_decref(out);
	}
	assert_int_equal(ca_attest_begin(f->att, &r, "r", &out, &detail),
	    DV_ERR_UNAVAILABLE);
	assert_null(out);
	pki_key_free(k);
	free(der);
	free(urn);
	assert_int_equal(ca_attest_load(f->att, NULL), DV_OK);
}

/* Stores a pending session for secret, as ca_attest_begin would. */
struct put {
	struct store_att_session s;
};

static enum dv_rc
put_tx(struct store_tx *tx, void *arg)
{
	struct put *p = arg;

	return store_att_session_insert(tx, &p->s, p->s.created_at,
	    DV_ATT_MAX_PENDING);
}

static void
put_session(struct fx *f, const uint8_t secret[32], const char *dev,
    time_t expires)
{
	struct put p;
	uint8_t md[32], *spki = NULL;
	size_t spkilen;
	EVP_PKEY *ak = NULL;

	assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, &ak), DV_OK);
	assert_int_equal(pki_key_spki_der(ak, &spki, &spkilen), DV_OK);
	pki_sha256(secret, 32, md);
	memset(&p, 0, sizeof(p));
	p.s.id = hex_encode(md, sizeof(md));
	p.s.team = "default";
	p.s.ek_urn = f->urn;
	p.s.device_id = (char *)dev;
	p.s.ak_spki = spki;
	p.s.ak_spki_len = spkilen;
	p.s.tpm_manufacturer = "id:49424D00";
	p.s.tpm_model = "SLB9670";
	p.s.tpm_version = "7.85";
	p.s.created_at = dv_now();
	p.s.expires_at = expires;
	assert_int_equal(store_write_volatile(f->ca->store, put_tx, &p), DV_OK);
	free(p.s.id);
	free(spki);
	pki_key_free(ak);
}

static void
stored(void *arg, enum dv_rc rc)
{
	(void)rc;
	atomic_store((atomic_int *)arg, 1);
}

/*
 * /secret as the API runs it: ca_attest_finish, the committer signs and
 * stores (ca_commit_submit), then ca_attest_answer.  *out new on DV_OK.
 */
static enum dv_rc
finish(struct fx *f, const uint8_t *secret, size_t len, const char *rid,
    json_t **out, const char **detail)
{
	struct ca_issue *iss = NULL;
	atomic_int done = 0;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = ca_attest_finish(f->att, secret, len, rid, &iss, detail))
	    != DV_OK) {
		assert_null(iss);
		return rc;
	}
	assert_non_null(iss);
	/* not signed yet: the committer does it with its batch */
	assert_non_null(iss->tbs);
	assert_null(iss->der);
	ca_commit_submit(f->ca, iss, stored, &done);
	while (!atomic_load(&done))
		usleep(1000);
	rc = ca_attest_answer(iss, out, detail);
	ca_issue_free(iss);
	return rc;
}

static void
test_finish(void **state)
{
	struct fx *f = *state;
	struct inv_actor who = { "test", "req" };
	uint8_t secret[32], *der = NULL;
	size_t len;
	const char *detail, *s;
	json_t *out = NULL, *dev = NULL, *info = NULL, *rev = NULL;
	X509 *x = NULL;
	char *text, *id;

	assert_int_equal(pki_random(secret, sizeof(secret)), DV_OK);
	put_session(f, secret, f->dev, dv_now() + 300);

	/* the wrong length, a secret nobody holds */
	assert_int_equal(finish(f, secret, 31, "r", &out,
	    &detail), DV_ERR_MALFORMED);
	secret[0] ^= 1;
	assert_int_equal(finish(f, secret, 32, "r", &out,
	    &detail), DV_ERR_UNAUTHORIZED);
	secret[0] ^= 1;

	assert_int_equal(finish(f, secret, 32, "req-9", &out,
	    &detail), DV_OK);
	assert_int_equal(json_array_size(json_object_get(out, "chain")), 2);
	s = json_string_value(json_array_get(json_object_get(out, "chain"),
	    0));
	assert_int_equal(pki_b64_decode(s, strlen(s), &der, &len), DV_OK);
	assert_int_equal(pki_cert_from_der(der, len, &x), DV_OK);
	text = pki_cert_subject(x);
	assert_string_equal(text, "");
	free(text);
	/* the profile, as pki_inspect reads it */
	assert_int_equal(pki_inspect(der, len, &info), DV_OK);
	text = json_dumps(info, JSON_COMPACT);
	assert_non_null(strstr(text, f->urn));
	assert_non_null(strstr(text, "2.23.133.8.3"));
	assert_null(strstr(text, "clientAuth"));
	assert_null(strstr(text, "serverAuth"));
	free(text);
	json_decref(info);
	assert_true(pki_cert_not_after(x) - pki_cert_not_before(x) >=
	    DV_ATT_AK_LIFETIME);
	pki_cert_free(x);
	free(der);
	json_decref(out);
	out = NULL;

	/* the device is active and seen */
	assert_int_equal(inv_device_get(f->ca->inv, "default", f->dev, &dev),
	    DV_OK);
	assert_string_equal(json_get_str(dev, "status"), "active");
	assert_non_null(json_get_str(dev, "lastSeenAt"));
	json_decref(dev);

	/* single use */
	assert_int_equal(finish(f, secret, 32, "r", &out,
	    &detail), DV_ERR_TOKEN_REUSED);
	assert_null(out);

	/* expired */
	assert_int_equal(pki_random(secret, sizeof(secret)), DV_OK);
	put_session(f, secret, f->dev, dv_now() - 1);
	assert_int_equal(finish(f, secret, 32, "r", &out,
	    &detail), DV_ERR_TOKEN_EXPIRED);

	/* the device retired between /attest and /secret; the AK
	 * certificate issued above is revoked with it */
	id = register_ek(f, "laptop-2", "urn:ek:sha256:"
	    "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", "approved");
	assert_int_equal(pki_random(secret, sizeof(secret)), DV_OK);
	put_session(f, secret, id, dv_now() + 300);
	assert_int_equal(inv_device_retire(f->ca->inv, "default", id, &who,
	    &rev), DV_OK);
	json_decref(rev);
	assert_int_equal(finish(f, secret, 32, "r", &out,
	    &detail), DV_ERR_FORBIDDEN);
	assert_null(out);
	assert_int_equal(inv_device_retire(f->ca->inv, "default", f->dev,
	    &who, &rev), DV_OK);
	assert_int_equal(json_array_size(rev), 1);
	json_decref(rev);
	free(id);
}

/* Reads a file of ../shared/data (new buffer). */
static uint8_t *
shared_file(const char *rel, size_t *len)
{
	const char *shared = getenv("DEVID_SHARED");
	uint8_t *data = NULL;
	char *p;

	p = xasprintf("%s/data/%s", shared != NULL ? shared : "../shared",
	    rel);
	assert_int_equal(file_read(p, 1 << 20, &data, len), DV_OK);
	free(p);
	return data;
}

/*
 * Real EK certificates (../shared/data/ek-certs) chain to the TPM makers'
 * certificates of ../shared/data/ek-roots: Nuvoton (issued by the root
 * itself), STMicroelectronics RSA (0xff NV padding after the DER, via the
 * STM intermediate) and ECC (an intermediate whose GlobalSign root is not
 * published: a partial chain); a Google vTPM EK does not.
 */
static void
test_ek_roots(void **state)
{
	static const char *const good[] = {
		"ek-certs/nuvoton/nuvoton_ek_devicecert.cer",
		"ek-certs/stm/stm_rsa_ek_with_trailing_ff.der",
		"ek-certs/stm/stm_ecc_ek.der",
	};
	struct pki_ek_roots *roots = NULL;
	struct pki_der d[2];
	const char *shared = getenv("DEVID_SHARED");
	uint8_t *data, *other;
	size_t len, olen, i;
	char *dir;

	(void)state;
	dir = xasprintf("%s/data/ek-roots", shared != NULL ? shared :
	    "../shared");
	assert_int_equal(pki_ek_roots_load(dir, &roots), DV_OK);
	free(dir);
	/* 51 files, one certificate each */
	assert_int_equal(pki_ek_roots_count(roots), 51);
	for (i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		data = shared_file(good[i], &len);
		d[0].der = data;
		d[0].len = len;
		assert_int_equal(pki_ek_cert_verify(roots, d, 1, 0), DV_OK);
		free(data);
	}
	/* a vTPM EK whose CA is not among them, with or without another
	 * EK certificate sent along */
	data = shared_file("ek-certs/gce-vtpm/tpm_ek_intermediate_2.crt", &len);
	other = shared_file("ek-certs/stm/stm_ecc_ek.der", &olen);
	d[0].der = data;
	d[0].len = len;
	d[1].der = other;
	d[1].len = olen;
	assert_int_equal(pki_ek_cert_verify(roots, d, 2, 0),
	    DV_ERR_UNTRUSTED);
	/* garbage is untrusted, not a crash */
	d[0].len = 10;
	assert_int_equal(pki_ek_cert_verify(roots, d, 1, 0),
	    DV_ERR_UNTRUSTED);
	free(data);
	free(other);
	pki_ek_roots_free(roots);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_begin),
		cmocka_unit_test(test_begin_refusals),
		cmocka_unit_test(test_begin_policy),
		cmocka_unit_test(test_finish),
		cmocka_unit_test(test_ek_roots),
	};

	log_init(LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	tpm_init();
	return cmocka_run_group_tests(tests, setup, teardown);
}
