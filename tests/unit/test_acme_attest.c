/*
 * test_acme_attest.c - device-attest-01 in the ACME state machine
 * (src/acme/challenge_attest.c) without HTTP: permanent-identifier orders,
 * `tpm` statements made in software (an RSA key standing in for the AK,
 * its certificate issued by the team's Attestation CA, certInfo signed
 * over SHA-256(keyAuthorization)), the distinct problems of each refusal,
 * and the device certificate's profile.  The swtpm run is
 * tests/e2e/t_acme_device_attest.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include <cbor.h>
#include <jose/jose.h>
#include <openssl/x509v3.h>
#include <tss2/tss2_mu.h>

#include "acme/acme.h"
#include "acme/acme_int.h"
#include "jws/jws.h"
#include "tpm/tpm.h"

#define BASE	"https://127.0.0.1:18443/t/default/agent/acme/acme"
#define URN_BAD	"urn:ietf:params:acme:error:"
#define DAY	(24 * 3600)
#define ATTRS_OK (TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT | \
	TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH | \
	TPMA_OBJECT_SIGN_ENCRYPT)

struct fx {
	char		 dir[64];
	char		*datadir;
	struct ca	*ca;
	struct ca_authority *agent, *att;
	struct prov	*prov;
	json_t		*key;		/* account key, private JWK */
	char		*kid;
	char		*thumb;
	EVP_PKEY	*ak;		/* stands in for the AK */
	EVP_PKEY	*dk;		/* the attested device key */
	EVP_PKEY	*other;		/* another key */
	char		*urn;		/* the device's EK URN */
	char		*dev_id;
};

static void
req_init(struct fx *f, struct acme_req *q, bool post, const char *rest)
{
	memset(q, 0, sizeof(*q));
	q->auth = f->agent;
	q->prov = f->prov;
	q->post = post;
	q->rest = rest;
	q->host = "127.0.0.1:18443";
	q->ctype = "application/jose+json";
	q->request_id = "test";
}

static char *
get_nonce(struct fx *f)
{
	struct acme_req q;
	struct acme_resp r;
	char *n;

	req_init(f, &q, false, "/new-nonce");
	q.head = true;
	acme_handle(&q, &r);
	n = xstrdup(r.nonce);
	acme_resp_clear(&r);
	return n;
}

/* A flattened JWS of payload (NULL: POST-as-GET), kid or jwk. */
static char *
flat(struct fx *f, const char *kid, const char *rest, const json_t *payload)
{
	json_t *hdr, *jws, *sig;
	char *url = xasprintf("%s%s", BASE, rest), *n, *out, *pl = NULL;
	char *b64 = NULL;

	n = get_nonce(f);
	hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "nonce", n, "url",
	    url);
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	else
		json_object_set_new(hdr, "jwk", jws_jwk_public(f->key));
	if (payload != NULL) {
		pl = json_dumps(payload, JSON_COMPACT);
		b64 = jws_b64url_encode((const uint8_t *)pl, strlen(pl));
	}
	jws = json_pack("{s:s}", "payload", b64 != NULL ? b64 : "");
	sig = json_pack("{s:O}", "protected", hdr);
	assert_true(jose_jws_sig(NULL, jws, sig, f->key));
	out = json_dumps(jws, JSON_COMPACT);
	json_decref(sig);
	json_decref(jws);
	json_decref(hdr);
	free(pl);
	free(b64);
	free(url);
	free(n);
	return out;
}

/* POSTs payload to rest as the account; *r cleared by the caller. */
static void
post(struct fx *f, const char *rest, const json_t *payload,
    struct acme_resp *r)
{
	struct acme_req q;
	char *body = flat(f, f->kid, rest, payload);

	req_init(f, &q, true, rest);
	q.body = (const uint8_t *)body;
	q.len = strlen(body);
	acme_handle(&q, r);
	free(body);
}

static const char *
ptype(const struct acme_resp *r)
{
	return r->problem ? json_get_str(r->json, "type") : "";
}

/* Registers a device holding urn with status; returns its id (new). */
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

static char *
urn_of(const char *seed)
{
	uint8_t md[32];
	char *b, *u;

	pki_sha256(seed, strlen(seed), md);
	assert_int_equal(pki_b64_encode(md, 32, &b), DV_OK);
	u = xasprintf("%s%s", PKI_EK_URN_PREFIX, b);
	free(b);
	return u;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct ca_init_opts o;
	struct acme_resp r;
	json_t *sum = NULL, *pl, *pj;

	strcpy(f->dir, "/tmp/devid-acmeatt-XXXXXX");
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
	f->agent = ca_find(f->ca, "default", "agent");
	f->att = ca_find(f->ca, "default", "attestation");
	assert_non_null(f->agent);
	assert_non_null(f->att);
	f->prov = prov_set_find(f->agent->provs, "acme");
	assert_non_null(f->prov);
	/* the provisioner offers device-attest-01 (what the configuration
	 * file says; changed in place for the test) */
	pj = (json_t *)prov_get_json(f->prov);
	json_object_set_new(pj, "challenges", json_pack("[s,s]", "http-01",
	    "device-attest-01"));
	json_object_set_new(pj, "attestationFormats", json_pack("[s]",
	    "tpm"));

	assert_int_equal(jws_jwk_generate("ES256", &f->key), DV_OK);
	json_object_del(f->key, "kid");
	assert_int_equal(jws_jwk_thumbprint(f->key, &f->thumb), DV_OK);
	pl = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	{
		struct acme_req q;
		char *b = flat(f, NULL, "/new-account", pl);

		req_init(f, &q, true, "/new-account");
		q.body = (const uint8_t *)b;
		q.len = strlen(b);
		acme_handle(&q, &r);
		free(b);
	}
	assert_int_equal(r.status, 201);
	f->kid = xstrdup(r.location);
	acme_resp_clear(&r);
	json_decref(pl);

	assert_int_equal(pki_key_generate(PKI_KEY_RSA2048, &f->ak), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &f->dk), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &f->other), DV_OK);
	f->urn = urn_of("unit EK");
	f->dev_id = register_ek(f, "laptop-1", f->urn, "approved");
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd;

	ca_free(f->ca);
	json_decref(f->key);
	free(f->kid);
	free(f->thumb);
	pki_key_free(f->ak);
	pki_key_free(f->dk);
	pki_key_free(f->other);
	free(f->urn);
	free(f->dev_id);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->datadir);
	free(f);
	return 0;
}

/* ---- the statement ---------------------------------------------------- */

static void
put(cbor_item_t *m, const char *k, cbor_item_t *v)
{
	assert_true(cbor_map_add(m, (struct cbor_pair){
	    .key = cbor_move(cbor_build_string(k)),
	    .value = cbor_move(v) }));
}

/* TPMT_PUBLIC of the P-256 key k. */
static void
pub_of(EVP_PKEY *k, uint8_t *out, size_t *len)
{
	TPMT_PUBLIC pub;
	const char *cname;
	size_t cl, off = 0;

	memset(&pub, 0, sizeof(pub));
	pub.type = TPM2_ALG_ECC;
	pub.nameAlg = TPM2_ALG_SHA256;
	pub.objectAttributes = ATTRS_OK;
	pub.parameters.eccDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.parameters.eccDetail.scheme.scheme = TPM2_ALG_NULL;
	pub.parameters.eccDetail.curveID = TPM2_ECC_NIST_P256;
	pub.parameters.eccDetail.kdf.scheme = TPM2_ALG_NULL;
	assert_int_equal(pki_key_ec_get(k, &cname, pub.unique.ecc.x.buffer,
	    pub.unique.ecc.y.buffer, &cl), DV_OK);
	pub.unique.ecc.x.size = pub.unique.ecc.y.size = (UINT16)cl;
	assert_int_equal(Tss2_MU_TPMT_PUBLIC_Marshal(&pub, out, 1024, &off),
	    TSS2_RC_SUCCESS);
	*len = off;
}

struct stmt {
	const char	*key_auth;	/* certified over SHA-256 of this */
	EVP_PKEY	*named;		/* certInfo names this key */
	const char	*ek_urn;	/* in the AK certificate */
	X509		*issuer;	/* of the AK certificate */
	const struct pki_signer *signer;
};

/* base64url of the attestation object {fmt: tpm, attStmt}. */
static char *
att_obj(struct fx *f, const struct stmt *s)
{
	struct pki_ak_profile akp = { s->ek_urn, "id:49424D00", "SW  TPM",
	    "id:20191023", 0, 0, NULL, NULL, NULL };
	uint8_t pubarea[1024], named[1024], ci[2048], sigb[1024], md[32];
	uint8_t *raw, *akspki, *akder, *buf = NULL;
	size_t publen, namedlen, cilen = 0, siglen = 0, rawlen, akspkilen;
	size_t akderlen, len, cap = 0;
	enum pki_sig_alg alg;
	TPMS_ATTEST att;
	TPMT_SIGNATURE sig;
	cbor_item_t *st, *top, *x5c;
	X509 *tmp;
	char *b64;

	pub_of(f->dk, pubarea, &publen);
	pub_of(s->named, named, &namedlen);
	memset(&att, 0, sizeof(att));
	att.magic = TPM2_GENERATED_VALUE;
	att.type = TPM2_ST_ATTEST_CERTIFY;
	pki_sha256(s->key_auth, strlen(s->key_auth), md);
	att.extraData.size = 32;
	memcpy(att.extraData.buffer, md, 32);
	att.clockInfo.safe = 1;
	att.attested.certify.name.size = 34;
	att.attested.certify.name.name[1] = 0x0b;	/* SHA-256 */
	pki_sha256(named, namedlen, att.attested.certify.name.name + 2);
	att.attested.certify.qualifiedName = att.attested.certify.name;
	assert_int_equal(Tss2_MU_TPMS_ATTEST_Marshal(&att, ci, sizeof(ci),
	    &cilen), TSS2_RC_SUCCESS);
	assert_int_equal(pki_key_sig_alg(f->ak, &alg), DV_OK);
	assert_int_equal(pki_sign_data(f->ak, alg, ci, cilen, &raw, &rawlen),
	    DV_OK);
	memset(&sig, 0, sizeof(sig));
	sig.sigAlg = TPM2_ALG_RSASSA;
	sig.signature.rsassa.hash = TPM2_ALG_SHA256;
	sig.signature.rsassa.sig.size = (UINT16)rawlen;
	memcpy(sig.signature.rsassa.sig.buffer, raw, rawlen);
	free(raw);
	assert_int_equal(Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sigb,
	    sizeof(sigb), &siglen), TSS2_RC_SUCCESS);

	assert_int_equal(pki_key_spki_der(f->ak, &akspki, &akspkilen), DV_OK);
	akp.not_before = time(NULL) - DAY;
	akp.not_after = time(NULL) + DAY;
	assert_int_equal(pki_akcert_issue(s->issuer, s->signer, &akp, akspki,
	    akspkilen, &tmp, &akder, &akderlen), DV_OK);
	pki_cert_free(tmp);
	free(akspki);

	st = cbor_new_definite_map(6);
	put(st, "ver", cbor_build_string("2.0"));
	put(st, "alg", cbor_build_negint32(256));	/* -257 RS256 */
	x5c = cbor_new_definite_array(1);
	assert_true(cbor_array_push(x5c, cbor_move(cbor_build_bytestring(
	    akder, akderlen))));
	put(st, "x5c", x5c);
	put(st, "sig", cbor_build_bytestring(sigb, siglen));
	put(st, "certInfo", cbor_build_bytestring(ci, cilen));
	put(st, "pubArea", cbor_build_bytestring(pubarea, publen));
	top = cbor_new_definite_map(2);
	put(top, "fmt", cbor_build_string("tpm"));
	put(top, "attStmt", st);
	len = cbor_serialize_alloc(top, &buf, &cap);
	assert_true(len > 0);
	cbor_decref(&top);
	b64 = jws_b64url_encode(buf, len);
	free(buf);
	free(akder);
	return b64;
}

/* ---- the flow --------------------------------------------------------- */

struct order {
	char	*fin;		/* finalize path */
	char	*chall;		/* challenge path */
	char	*token;
	char	*key_auth;
};

static void
order_clear(struct order *o)
{
	free(o->fin);
	free(o->chall);
	free(o->token);
	free(o->key_auth);
}

static void
order_new(struct fx *f, const char *value, struct order *o)
{
	struct acme_resp r;
	json_t *pl, *ch;
	char *az;

	memset(o, 0, sizeof(*o));
	pl = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type",
	    "permanent-identifier", "value", value);
	post(f, "/new-order", pl, &r);
	assert_int_equal(r.status, 201);
	o->fin = xstrdup(json_get_str(r.json, "finalize") + strlen(BASE));
	az = xstrdup(json_string_value(json_array_get(json_object_get(r.json,
	    "authorizations"), 0)) + strlen(BASE));
	acme_resp_clear(&r);
	post(f, az, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_get_str(json_object_get(r.json,
	    "identifier"), "type"), "permanent-identifier");
	/* spec §6.3: exactly [device-attest-01] */
	assert_int_equal(json_array_size(json_object_get(r.json,
	    "challenges")), 1);
	ch = json_array_get(json_object_get(r.json, "challenges"), 0);
	assert_string_equal(json_get_str(ch, "type"), "device-attest-01");
	o->chall = xstrdup(json_get_str(ch, "url") + strlen(BASE));
	o->token = xstrdup(json_get_str(ch, "token"));
	o->key_auth = xasprintf("%s.%s", o->token, f->thumb);
	acme_resp_clear(&r);
	json_decref(pl);
	free(az);
}

/* POSTs {attObj} and checks the challenge's status and error type
 * (NULL: none). */
static void
answer(struct fx *f, const struct order *o, const char *attobj,
    const char *status, const char *err)
{
	struct acme_resp r;
	json_t *pl = json_pack("{s:s}", "attObj", attobj);
	const json_t *e;

	post(f, o->chall, pl, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_get_str(r.json, "status"), status);
	e = json_object_get(r.json, "error");
	if (err == NULL)
		assert_null(e);
	else
		assert_string_equal(json_get_str(e, "type"), err);
	acme_resp_clear(&r);
	json_decref(pl);
}

/* Finalizes with a CSR of k (CN cn); *r cleared by the caller. */
static void
finalize(struct fx *f, const struct order *o, EVP_PKEY *k, const char *cn,
    struct acme_resp *r)
{
	struct pki_csr *csr = NULL;
	json_t *pl;
	char *pem = NULL, *b64;

	assert_int_equal(pki_csr_make(k, cn, NULL, &pem), DV_OK);
	assert_int_equal(pki_csr_parse((const uint8_t *)pem, strlen(pem),
	    false, &csr), DV_OK);
	b64 = jws_b64url_encode(csr->der, csr->derlen);
	pl = json_pack("{s:s}", "csr", b64);
	post(f, o->fin, pl, r);
	json_decref(pl);
	free(b64);
	free(pem);
	pki_csr_free(csr);
}

static struct stmt
good(struct fx *f, const struct order *o)
{
	struct stmt s = { o->key_auth, f->dk, f->urn, f->att->inter,
	    &f->att->inter_signer };

	return s;
}

/* The device certificate: SAN PermanentIdentifier = urn and URI = urn,
 * EKU clientAuth only. */
static void
cert_check(X509 *x, const char *urn)
{
	GENERAL_NAMES *gens;
	EXTENDED_KEY_USAGE *eku;
	const GENERAL_NAME *g;
	ASN1_OBJECT *pid = OBJ_txt2obj(PKI_OID_PERMANENT_ID, 1);
	const unsigned char *p;
	const ASN1_STRING *seq;
	STACK_OF(ASN1_TYPE) *sq;
	const ASN1_TYPE *v;
	bool perm = false, uri = false;
	int i, crit;

	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	assert_non_null(gens);
	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		if (g->type == GEN_URI && (size_t)ASN1_STRING_length(
		    g->d.uniformResourceIdentifier) == strlen(urn) &&
		    memcmp(ASN1_STRING_get0_data(g->d.uniformResourceIdentifier),
		    urn, strlen(urn)) == 0)
			uri = true;
		if (g->type == GEN_OTHERNAME &&
		    OBJ_cmp(g->d.otherName->type_id, pid) == 0) {
			seq = g->d.otherName->value->value.sequence;
			p = seq->data;
			sq = d2i_ASN1_SEQUENCE_ANY(NULL, &p, seq->length);
			assert_non_null(sq);
			v = sk_ASN1_TYPE_value(sq, 0);
			assert_int_equal(v->type, V_ASN1_UTF8STRING);
			assert_int_equal(ASN1_STRING_length(v->value.utf8string),
			    strlen(urn));
			assert_memory_equal(ASN1_STRING_get0_data(
			    v->value.utf8string), urn, strlen(urn));
			sk_ASN1_TYPE_pop_free(sq, ASN1_TYPE_free);
			perm = true;
		}
	}
	assert_true(perm);
	assert_true(uri);
	GENERAL_NAMES_free(gens);
	eku = X509_get_ext_d2i(x, NID_ext_key_usage, &crit, NULL);
	assert_non_null(eku);
	assert_int_equal(sk_ASN1_OBJECT_num(eku), 1);
	assert_int_equal(OBJ_obj2nid(sk_ASN1_OBJECT_value(eku, 0)),
	    NID_client_auth);
	EXTENDED_KEY_USAGE_free(eku);
	ASN1_OBJECT_free(pid);
	/* 24 h by default (the claims) */
	assert_true(pki_cert_not_after(x) - pki_cert_not_before(x) <=
	    DAY + 120);
}

static void
test_device_attest(void **state)
{
	struct fx *f = *state;
	struct acme_resp r;
	struct order o;
	struct stmt s;
	char *b;

	order_new(f, f->urn, &o);
	s = good(f, &o);
	b = att_obj(f, &s);
	answer(f, &o, b, "valid", NULL);
	free(b);
	/* spec §12: another key than the attested one is refused */
	finalize(f, &o, f->other, NULL, &r);
	assert_string_equal(ptype(&r), URN_BAD "badCSR");
	acme_resp_clear(&r);
	/* a CN other than the identifier */
	finalize(f, &o, f->dk, "someone-else", &r);
	assert_string_equal(ptype(&r), URN_BAD "badCSR");
	acme_resp_clear(&r);
	finalize(f, &o, f->dk, f->urn, &r);
	assert_false(r.problem);
	assert_non_null(r.iss);
	cert_check(r.iss->cert, f->urn);
	/* recorded against the device: retiring it revokes the cert */
	assert_string_equal(r.iss->row.device_id, f->dev_id);
	acme_resp_clear(&r);
	order_clear(&o);
}

static void
test_device_attest_refused(void **state)
{
	struct fx *f = *state;
	struct inv_actor who = { "test", "req" };
	struct acme_resp r;
	struct order o;
	struct stmt s;
	json_t *rev = NULL, *pl;
	char *b, *urn2, *urn3, *id3;

	/* wrong keyAuthorization */
	order_new(f, f->urn, &o);
	s = good(f, &o);
	s.key_auth = "another.authorization";
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "badAttestationStatement");
	free(b);
	order_clear(&o);

	/* certInfo certifies another key than pubArea */
	order_new(f, f->urn, &o);
	s = good(f, &o);
	s.named = f->other;
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "badAttestationStatement");
	free(b);
	order_clear(&o);

	/* AK certificate from another CA (the Agent CA stands in for
	 * another team's Attestation CA) */
	order_new(f, f->urn, &o);
	s = good(f, &o);
	s.issuer = f->agent->inter;
	s.signer = &f->agent->inter_signer;
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "badAttestationStatement");
	free(b);
	order_clear(&o);

	/* not an attestation object */
	order_new(f, f->urn, &o);
	answer(f, &o, "AAAA", "invalid", URN_BAD "badAttestationStatement");
	order_clear(&o);

	/* the statement is for another device than the order's */
	urn2 = urn_of("another EK");
	order_new(f, urn2, &o);
	s = good(f, &o);
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "badAttestationStatement");
	free(b);
	order_clear(&o);

	/* a genuine statement of an EK no device of the team holds */
	order_new(f, urn2, &o);
	s = good(f, &o);
	s.ek_urn = urn2;
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "unauthorized");
	free(b);
	order_clear(&o);

	/* a retired device */
	urn3 = urn_of("retired EK");
	id3 = register_ek(f, "laptop-3", urn3, "approved");
	assert_int_equal(inv_device_retire(f->ca->inv, "default", id3, &who,
	    &rev), DV_OK);
	json_decref(rev);
	order_new(f, urn3, &o);
	s = good(f, &o);
	s.ek_urn = urn3;
	b = att_obj(f, &s);
	answer(f, &o, b, "invalid", URN_BAD "unauthorized");
	free(b);
	order_clear(&o);

	/* a provisioner without device-attest-01 refuses the type */
	json_object_set_new((json_t *)prov_get_json(f->prov), "challenges",
	    json_pack("[s]", "http-01"));
	pl = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type",
	    "permanent-identifier", "value", f->urn);
	post(f, "/new-order", pl, &r);
	assert_string_equal(ptype(&r), URN_BAD "unsupportedIdentifier");
	acme_resp_clear(&r);
	json_decref(pl);

	free(urn2);
	free(urn3);
	free(id3);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_device_attest, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_device_attest_refused,
		    setup, teardown),
	};

	log_init(LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	tpm_init();
	return cmocka_run_group_tests(tests, NULL, NULL);
}
