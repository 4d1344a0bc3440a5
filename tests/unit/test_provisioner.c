/*
 * test_provisioner.c - src/provisioner against real keys, tokens and
 * certificate chains made with src/jws and src/pki: configuration loading
 * (step-ca ca.json shape), JWK and X5C sign tokens and every refusal of the
 * pipeline (spec §1.9, §2.1, §2.2), a token made by the `jose` CLI, CSR
 * checks, validity resolution (§3.1), the name policy engine (§3.3), revoke
 * tokens and the x5cInsecure renew token (§1.5).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "jws/jws.h"
#include "pki/pki.h"
#include "provisioner/prov.h"

/*
 * The fuzz target's provisioners (fuzz_init: JWK "admin" and X5C "devices"
 * over the keys that signed fuzz/corpus/token/) so that the seed corpus
 * also runs here as a regression test with golden results (rule 28).
 */
#include "../../fuzz/fuzz_token.c"

#define BASE	"https://ca.example:9000/t/default/account"
#define DAY	(24 * 60 * 60)

static const char *const tsign_auds[] = {
	BASE "/1.0/sign",
	"https://ca.example/t/default/account/1.0/sign",
	"step-certificate-authority",
};
static const char *const trevoke_auds[] = {
	BASE "/1.0/revoke",
	"step-certificate-authority",
};
static const char *const trenew_auds[] = {
	BASE "/1.0/renew",
	BASE "/renew",
};

/* A certificate with its key. */
struct cred {
	EVP_PKEY	*key;
	X509		*cert;
	char		*b64;		/* standard base64 DER (x5c entry) */
};

struct fx {
	time_t		 now;
	json_t		*jwk;		/* private key of "admin" (ES256) */
	json_t		*rsa;		/* second JWK provisioner (RS256) */
	json_t		*other;		/* a key no provisioner knows */
	struct cred	 root, inter, leaf, leaf_noclient, leaf_short;
	struct cred	 evil_root, evil_leaf;
	struct cred	 ca_root, renew_leaf, renew_expired, renew_prov;
	struct prov_set	*set;
	struct pki_trust *ca_trust;
};

/* ---- fixtures ------------------------------------------------------ */

static void
cred_issue(struct cred *c, const struct cred *issuer, enum pki_key_type kt,
    const char *cn, bool is_ca, unsigned eku, unsigned ku, time_t nb,
    time_t na, const char *prov_name)
{
	struct pki_signer signer;
	struct pki_profile p;
	struct pki_sans sans = { 0 };
	uint8_t *spki = NULL, *der = NULL;
	size_t spkilen = 0, derlen = 0;

	memset(c, 0, sizeof(*c));
	assert_int_equal(pki_key_generate(kt, &c->key), DV_OK);
	assert_int_equal(pki_key_spki_der(c->key, &spki, &spkilen), DV_OK);
	pki_signer_local(issuer != NULL ? issuer->key : c->key, &signer);
	memset(&p, 0, sizeof(p));
	p.cn = cn;
	if (!is_ca) {
		assert_int_equal(pki_sans_add_auto(&sans, cn), DV_OK);
		p.sans = &sans;
	}
	p.not_before = nb;
	p.not_after = na;
	p.ku = ku;
	p.eku = eku;
	p.is_ca = is_ca;
	p.path_len = -1;
	if (prov_name != NULL) {
		p.prov_type = PROV_JWK;
		p.prov_name = prov_name;
		p.prov_cred = "kid";
	}
	assert_int_equal(pki_cert_issue(issuer != NULL ? issuer->cert : NULL,
	    &signer, &p, spki, spkilen, &c->cert, &der, &derlen), DV_OK);
	assert_int_equal(pki_b64_encode(der, derlen, &c->b64), DV_OK);
	pki_sans_clear(&sans);
	free(spki);
	free(der);
}

static void
cred_free(struct cred *c)
{
	pki_key_free(c->key);
	pki_cert_free(c->cert);
	free(c->b64);
}

static char *
cert_pem(X509 *x)
{
	char *pem = NULL;

	assert_int_equal(pki_cert_to_pem(x, &pem), DV_OK);
	return pem;
}

/* {"type":"JWK","name":name,"key":public jwk,"encryptedKey":...} */
static struct prov *
load_jwk(const char *type, const char *name, const json_t *jwk,
    const char *policy_json)
{
	struct prov *p = NULL;
	json_t *cfg, *pub;

	pub = jws_jwk_public(jwk);
	cfg = json_pack("{s:s,s:s,s:o,s:s}", "type", type, "name", name,
	    "key", pub, "encryptedKey", "eyJhbGciOiJQQkVTMi1IUzI1NitBMTI4S1ci"
	    "fQ.x.y.z.w");
	if (policy_json != NULL)
		json_object_set_new(cfg, "policy", json_loads(policy_json, 0,
		    NULL));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	json_decref(cfg);
	return p;
}

static struct prov *
load_x5c(const char *name, X509 *root, const char *claims_json)
{
	struct prov *p = NULL;
	char *pem, *b64 = NULL;
	json_t *cfg;

	pem = cert_pem(root);
	assert_int_equal(pki_b64_encode((const uint8_t *)pem, strlen(pem),
	    &b64), DV_OK);
	cfg = json_pack("{s:s,s:s,s:s}", "type", "X5C", "name", name, "roots",
	    b64);
	if (claims_json != NULL)
		json_object_set_new(cfg, "claims", json_loads(claims_json, 0,
		    NULL));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	json_decref(cfg);
	free(b64);
	free(pem);
	return p;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	time_t now = time(NULL);
	unsigned ds = PKI_KU_DIGITAL_SIGNATURE;
	unsigned casign = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN;

	f->now = now;
	assert_int_equal(jws_jwk_generate("ES256", &f->jwk), DV_OK);
	assert_int_equal(jws_jwk_generate("RS256", &f->rsa), DV_OK);
	assert_int_equal(jws_jwk_generate("ES256", &f->other), DV_OK);

	/* the device PKI an X5C provisioner trusts */
	cred_issue(&f->root, NULL, PKI_KEY_P256, "Agent Root", true, 0,
	    casign, now - DAY, now + 3650 * DAY, NULL);
	cred_issue(&f->inter, &f->root, PKI_KEY_P256, "Agent Intermediate",
	    true, 0, casign, now - DAY, now + 365 * DAY, NULL);
	cred_issue(&f->leaf, &f->inter, PKI_KEY_P256, "device-7.example.com",
	    false, PKI_EKU_CLIENT_AUTH, ds, now - DAY, now + 30 * DAY, NULL);
	cred_issue(&f->leaf_noclient, &f->inter, PKI_KEY_P256,
	    "server.example.com", false, PKI_EKU_SERVER_AUTH, ds, now - DAY,
	    now + 30 * DAY, NULL);
	/* expires in two hours: bounds the certificates it may obtain */
	cred_issue(&f->leaf_short, &f->inter, PKI_KEY_P256,
	    "short.example.com", false, PKI_EKU_CLIENT_AUTH, ds, now - 3600,
	    now + 2 * 3600, NULL);
	cred_issue(&f->evil_root, NULL, PKI_KEY_P256, "Evil Root", true, 0,
	    casign, now - DAY, now + 3650 * DAY, NULL);
	cred_issue(&f->evil_leaf, &f->evil_root, PKI_KEY_P256,
	    "device-7.example.com", false, PKI_EKU_CLIENT_AUTH, ds, now - DAY,
	    now + 30 * DAY, NULL);

	/* the CA's own PKI, for renew tokens */
	cred_issue(&f->ca_root, NULL, PKI_KEY_P256, "Account Root", true, 0,
	    casign, now - 30 * DAY, now + 3650 * DAY, NULL);
	cred_issue(&f->renew_leaf, &f->ca_root, PKI_KEY_P256,
	    "laptop.example.com", false, PKI_EKU_CLIENT_AUTH |
	    PKI_EKU_SERVER_AUTH, ds, now - 3600, now + DAY, NULL);
	cred_issue(&f->renew_expired, &f->ca_root, PKI_KEY_P256,
	    "old.example.com", false, PKI_EKU_CLIENT_AUTH, ds, now - 10 * DAY,
	    now - 2 * DAY, NULL);
	cred_issue(&f->renew_prov, &f->ca_root, PKI_KEY_P256,
	    "provd.example.com", false, PKI_EKU_CLIENT_AUTH, ds, now - 3600,
	    now + DAY, "admin");
	f->ca_trust = pki_trust_new();
	assert_int_equal(pki_trust_add_root(f->ca_trust, f->ca_root.cert),
	    DV_OK);

	f->set = prov_set_new();
	assert_int_equal(prov_set_add(f->set, load_jwk("JWK", "admin", f->jwk,
	    NULL)), DV_OK);
	assert_int_equal(prov_set_add(f->set, load_jwk("jwk", "rsa", f->rsa,
	    NULL)), DV_OK);
	assert_int_equal(prov_set_add(f->set, load_x5c("devices",
	    f->root.cert, NULL)), DV_OK);
	assert_int_equal(prov_set_add(f->set, load_jwk("JWK", "policed",
	    f->other, "{\"x509\":{\"allow\":{\"dns\":[\"*.example.com\"]}}}")),
	    DV_OK);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;

	prov_set_free(f->set);
	pki_trust_free(f->ca_trust);
	cred_free(&f->root);
	cred_free(&f->inter);
	cred_free(&f->leaf);
	cred_free(&f->leaf_noclient);
	cred_free(&f->leaf_short);
	cred_free(&f->evil_root);
	cred_free(&f->evil_leaf);
	cred_free(&f->ca_root);
	cred_free(&f->renew_leaf);
	cred_free(&f->renew_expired);
	cred_free(&f->renew_prov);
	json_decref(f->jwk);
	json_decref(f->rsa);
	json_decref(f->other);
	free(f);
	return 0;
}

/* ---- token helpers -------------------------------------------------- */

/* step's sign token claims: iss, sub, aud, nbf = iat = now, exp + 5m. */
static json_t *
claims(const char *iss, const char *sub, const char *aud, time_t now)
{
	json_t *c = json_pack("{s:s,s:s,s:s,s:I,s:I,s:I,s:s}", "iss", iss,
	    "sub", sub, "aud", aud, "nbf", (json_int_t)now, "iat",
	    (json_int_t)now, "exp", (json_int_t)now + 300, "jti",
	    "6ae3e0c2d0f6b6c8f2c1ad3f0e8d6b4c6a1e9f0b2c3d4e5f60718293a4b5c6d7");

	assert_non_null(c);
	return c;
}

static char *
sign_jwk(const json_t *jwk, const json_t *c)
{
	char *tok = NULL;

	assert_int_equal(jws_sign(jwk, NULL, c, &tok), DV_OK);
	return tok;
}

/* An X5C token: header x5c = certs (leaf first), signed with key. */
static char *
sign_x5c(EVP_PKEY *key, const char *member, const struct cred *const *certs,
    size_t n, const json_t *c)
{
	json_t *hdr, *arr;
	char *tok = NULL;
	size_t i;

	arr = json_array();
	for (i = 0; i < n; i++)
		json_array_append_new(arr, json_string(certs[i]->b64));
	hdr = json_pack("{s:o}", member, arr);
	assert_int_equal(jws_sign_pkey(key, hdr, c, &tok), DV_OK);
	json_decref(hdr);
	return tok;
}

static enum dv_rc
authorize(struct fx *f, const char *tok, enum prov_method m,
    struct prov_authz **az)
{
	const char *const *auds = m == PROV_REVOKE ? trevoke_auds : tsign_auds;
	size_t n = m == PROV_REVOKE ? NAUDS(trevoke_auds) : NAUDS(tsign_auds);

	return prov_authorize(f->set, tok, m, auds, n, f->now, az);
}

/* Authorizes a JWK sign token for claims c signed with key. */
static enum dv_rc
try_jwk(struct fx *f, const json_t *key, const json_t *c)
{
	struct prov_authz *az = (struct prov_authz *)1;
	char *tok = sign_jwk(key, c);
	enum dv_rc rc;

	rc = authorize(f, tok, PROV_SIGN, &az);
	if (rc != DV_OK)
		assert_null(az);
	prov_authz_free(rc == DV_OK ? az : NULL);
	free(tok);
	return rc;
}

static struct pki_csr *
csr_make(const char *cn, const char *const *sans, size_t n)
{
	struct pki_sans s = { 0 };
	struct pki_csr *csr = NULL;
	EVP_PKEY *k = NULL;
	char *pem = NULL;
	size_t i;

	for (i = 0; i < n; i++)
		assert_int_equal(pki_sans_add_auto(&s, sans[i]), DV_OK);
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	assert_int_equal(pki_csr_make(k, cn, &s, &pem), DV_OK);
	assert_int_equal(pki_csr_parse((const uint8_t *)pem, strlen(pem),
	    false, &csr), DV_OK);
	free(pem);
	pki_key_free(k);
	pki_sans_clear(&s);
	return csr;
}

/* ---- configuration -------------------------------------------------- */

static void
test_claims(void **state)
{
	struct prov_claims base, c;
	json_t *j;

	(void)state;
	prov_claims_default(&base);
	assert_int_equal(base.min_dur, 300);
	assert_int_equal(base.max_dur, DAY);
	assert_int_equal(base.default_dur, DAY);
	assert_false(base.disable_renewal);

	j = json_pack("{s:s,s:s,s:b,s:b}", "maxTLSCertDuration", "720h",
	    "defaultTLSCertDuration", "1h30m", "allowRenewalAfterExpiry", 1,
	    "enableSSHCA", 1);
	assert_int_equal(prov_claims_load(j, &base, &c), DV_OK);
	assert_int_equal(c.min_dur, 300);
	assert_int_equal(c.max_dur, 720 * 3600);
	assert_int_equal(c.default_dur, 5400);
	assert_true(c.allow_renewal_after_expiry);
	json_decref(j);
	/* nanoseconds, as Go marshals a time.Duration */
	j = json_pack("{s:I}", "minTLSCertDuration",
	    (json_int_t)60 * 1000000000);
	assert_int_equal(prov_claims_load(j, &base, &base), DV_OK);
	assert_int_equal(base.min_dur, 60);
	json_decref(j);
	/* Claimer.Validate: 0 < min <= default <= max */
	j = json_pack("{s:s}", "minTLSCertDuration", "25h");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	j = json_pack("{s:s}", "maxTLSCertDuration", "1h");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	j = json_pack("{s:s}", "minTLSCertDuration", "0s");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	j = json_pack("{s:s}", "maxTLSCertDuration", "soon");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	j = json_pack("{s:s}", "disableRenewal", "true");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	j = json_pack("{s:s}", "maxTlsCertDuration", "1h");
	assert_int_equal(prov_claims_load(j, &base, &c), DV_ERR_MALFORMED);
	json_decref(j);
	assert_int_equal(prov_claims_load(NULL, &base, &c), DV_OK);
	assert_memory_equal(&c, &base, sizeof(c));
}

static void
test_load(void **state)
{
	struct fx *f = *state;
	struct prov *p = NULL, *q = NULL;
	struct prov_set *s;
	const json_t *j;
	json_t *cfg, *pub;
	char *pem, path[] = "/tmp/test_prov.XXXXXX";
	int fd;

	/* JWK: the set from setup() */
	assert_int_equal(prov_set_count(f->set), 4);
	p = prov_set_find(f->set, "admin");
	assert_non_null(p);
	assert_int_equal(prov_get_type(p), PROV_JWK);
	assert_string_equal(prov_get_name(p), "admin");
	assert_string_equal(prov_jwk_kid(p), json_get_str(f->jwk, "kid"));
	assert_non_null(prov_jwk_encrypted_key(p));
	j = prov_get_json(p);
	assert_string_equal(json_get_str(j, "type"), "JWK");
	assert_null(json_object_get(json_object_get(j, "key"), "d"));
	assert_int_equal(prov_get_claims(p)->default_dur, DAY);
	/* "jwk" is matched case-insensitively and listed as "JWK" */
	assert_string_equal(json_get_str(prov_get_json(prov_set_find(f->set,
	    "rsa")), "type"), "JWK");
	p = prov_set_find(f->set, "devices");
	assert_int_equal(prov_get_type(p), PROV_X5C);
	assert_null(prov_jwk_kid(p));
	assert_null(prov_set_find(f->set, "nobody"));
	assert_null(prov_set_get(f->set, 4));

	/* a private key in the config is never listed */
	cfg = json_pack("{s:s,s:s,s:O}", "type", "JWK", "name", "priv", "key",
	    f->jwk);
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	assert_null(json_object_get(json_object_get(prov_get_json(p), "key"),
	    "d"));
	/* duplicate name, and duplicate token id (same name:kid) */
	s = prov_set_new();
	assert_int_equal(prov_set_add(s, p), DV_OK);
	assert_int_equal(prov_load(cfg, NULL, &q), DV_OK);
	assert_int_equal(prov_set_add(s, q), DV_ERR_EXISTS);
	prov_set_free(s);
	json_decref(cfg);

	/* refusals */
	cfg = json_pack("{s:s,s:s}", "type", "OIDC", "name", "google");
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_NOT_IMPLEMENTED);
	assert_null(p);
	json_object_set_new(cfg, "type", json_string("Teleport"));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_NOT_IMPLEMENTED);
	json_object_set_new(cfg, "type", json_string("JWK"));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	pub = jws_jwk_public(f->jwk);
	json_object_del(pub, "kid");
	json_object_set_new(cfg, "key", pub);
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	/* keys tokens must not be verified with */
	json_object_set_new(cfg, "key", json_pack("{s:s,s:s,s:s,s:s}", "kty",
	    "oct", "alg", "HS256", "k", "c2VjcmV0", "kid", "k1"));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_BAD_KEY);
	pub = jws_jwk_public(f->jwk);
	json_object_set_new(pub, "use", json_string("enc"));
	json_object_set_new(cfg, "key", pub);
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_BAD_KEY);
	pub = jws_jwk_public(f->jwk);
	json_object_set_new(pub, "alg", json_string("ES384"));
	json_object_set_new(cfg, "key", pub);
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_BAD_KEY);
	json_object_set_new(cfg, "key", jws_jwk_public(f->jwk));
	json_object_set_new(cfg, "claims", json_pack("{s:s}",
	    "minTLSCertDuration", "48h"));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	json_object_del(cfg, "claims");
	json_object_set_new(cfg, "policy", json_loads("{\"x509\":{\"allow\":"
	    "{\"dns\":[\"*.*.example.com\"]}}}", 0, NULL));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	json_object_set_new(cfg, "policy", json_loads("{\"x509\":{\"allow\":"
	    "{\"ip\":[\"10.0.0.0/33\"]}}}", 0, NULL));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	json_object_del(cfg, "policy");
	json_object_del(cfg, "name");
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);
	json_decref(cfg);
	/* X5C roots: base64 of PEM, at least one certificate */
	cfg = json_pack("{s:s,s:s,s:s}", "type", "x5c", "name", "x", "roots",
	    "bm90IGEgY2VydGlmaWNhdGU=");
	assert_int_equal(prov_load(cfg, NULL, &p) == DV_OK, false);
	json_object_del(cfg, "roots");
	assert_int_equal(prov_load(cfg, NULL, &p), DV_ERR_MALFORMED);

	/* rootsFile (devid): listed as step-ca's "roots" */
	fd = mkstemp(path);
	assert_true(fd >= 0);
	pem = cert_pem(f->root.cert);
	assert_int_equal(write(fd, pem, strlen(pem)), (ssize_t)strlen(pem));
	close(fd);
	json_object_set_new(cfg, "rootsFile", json_string(path));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	j = prov_get_json(p);
	assert_null(json_object_get(j, "rootsFile"));
	assert_non_null(json_get_str(j, "roots"));
	assert_string_equal(json_get_str(j, "type"), "X5C");
	prov_free(p);
	unlink(path);
	json_object_set_new(cfg, "rootsFile", json_string(path));
	assert_int_equal(prov_load(cfg, NULL, &p) == DV_OK, false);
	free(pem);
	json_decref(cfg);
	prov_free(NULL);
	prov_set_free(NULL);
	prov_authz_free(NULL);
}

/* ---- JWK ------------------------------------------------------------ */

static void
test_jwk_sign_ok(void **state)
{
	struct fx *f = *state;
	struct prov_authz *az = NULL;
	struct pki_csr *csr;
	json_t *c;
	char *tok;
	time_t nb, na;

	c = claims("admin", "device-1.example.com", BASE "/1.0/sign", f->now);
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	assert_string_equal(prov_get_name(az->prov), "admin");
	assert_string_equal(az->sub, "device-1.example.com");
	assert_string_equal(az->actor, "jwk/admin");
	assert_string_equal(az->token_id, json_get_str(c, "jti"));
	assert_int_equal(az->token_exp, f->now + 300);
	assert_false(az->has_cnf);
	assert_null(az->x5c_leaf);
	/* sans default to [sub] */
	assert_int_equal(az->sans.n, 1);
	assert_int_equal(az->sans.v[0].type, PKI_SAN_DNS);
	assert_string_equal(az->sans.v[0].value, "device-1.example.com");

	csr = csr_make("device-1.example.com", (const char *const[]){
	    "device-1.example.com" }, 1);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	assert_int_equal(prov_validity(az, NULL, NULL, f->now, &nb, &na),
	    DV_OK);
	assert_int_equal(nb, f->now - 60);
	assert_int_equal(na, f->now + DAY);
	assert_int_equal(prov_policy_check(az->prov, az->sub, &az->sans),
	    DV_OK);
	prov_authz_free(az);
	free(tok);

	/* aud with another port, or none; aud as an array */
	json_object_set_new(c, "aud", json_string(
	    "https://ca.example:443/t/default/account/1.0/sign"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_OK);
	json_object_set_new(c, "aud", json_pack("[s,s]", "https://x/",
	    "step-certificate-authority"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_OK);
	json_decref(c);
}

static void
test_jwk_rs256(void **state)
{
	struct fx *f = *state;
	struct prov_authz *az = NULL;
	json_t *c;
	char *tok;

	c = claims("rsa", "10.1.2.3", BASE "/1.0/sign", f->now);
	json_object_set_new(c, "sans", json_pack("[s,s,s,s]", "10.1.2.3",
	    "svc.example.com", "ops@example.com", "spiffe://example.com/svc"));
	json_object_del(c, "jti");
	tok = sign_jwk(f->rsa, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	assert_string_equal(az->actor, "jwk/rsa");
	assert_int_equal(az->sans.n, 4);
	assert_int_equal(pki_sans_count(&az->sans, PKI_SAN_IP), 1);
	assert_int_equal(pki_sans_count(&az->sans, PKI_SAN_EMAIL), 1);
	assert_int_equal(pki_sans_count(&az->sans, PKI_SAN_URI), 1);
	/* no jti: the replay key is the token's SHA-256 */
	assert_int_equal(strlen(az->token_id), 64);
	{
		uint8_t md[32];
		char *hex;

		pki_sha256(tok, strlen(tok), md);
		hex = hex_encode(md, sizeof(md));
		assert_string_equal(az->token_id, hex);
		free(hex);
	}
	prov_authz_free(az);
	free(tok);
	json_decref(c);
}

static void
test_jwk_refusals(void **state)
{
	struct fx *f = *state;
	struct prov_authz *az = (struct prov_authz *)1;
	json_t *c, *hdr;
	char *tok, *big;

	c = claims("admin", "device-1", BASE "/1.0/sign", f->now);
	/* expired, not yet valid, issued in the future */
	json_object_set_new(c, "exp", json_integer(f->now - 61));
	json_object_set_new(c, "nbf", json_integer(f->now - 300));
	json_object_set_new(c, "iat", json_integer(f->now - 300));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_EXPIRED);
	json_decref(c);
	c = claims("admin", "device-1", BASE "/1.0/sign", f->now + 120);
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_EXPIRED);
	json_decref(c);
	/* wrong audience: another host, another method */
	c = claims("admin", "device-1", "https://other.example/1.0/sign",
	    f->now);
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_AUDIENCE);
	json_object_set_new(c, "aud", json_string(BASE "/1.0/revoke"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_AUDIENCE);
	json_object_del(c, "aud");
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_AUDIENCE);
	json_decref(c);
	/* wrong issuer: no provisioner "root:<kid>" */
	c = claims("root", "device-1", BASE "/1.0/sign", f->now);
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOKEN_ISSUER);
	json_decref(c);
	/* signed by another key that claims the provisioner's kid */
	c = claims("admin", "device-1", BASE "/1.0/sign", f->now);
	{
		json_t *k = json_deep_copy(f->other);

		json_object_set(k, "kid", json_object_get(f->jwk, "kid"));
		assert_int_equal(try_jwk(f, k, c), DV_ERR_BAD_TOKEN);
		json_decref(k);
	}
	/* and with its own kid under another provisioner's name */
	assert_int_equal(try_jwk(f, f->other, c), DV_ERR_TOKEN_ISSUER);
	/* empty sub */
	json_object_set_new(c, "sub", json_string(""));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_BAD_TOKEN);
	json_object_set_new(c, "sub", json_string("device-1"));
	/* sans that are not names */
	json_object_set_new(c, "sans", json_pack("[s]", "bad name!"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_BAD_TOKEN);
	json_object_set_new(c, "sans", json_string("device-1"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_BAD_TOKEN);
	json_object_del(c, "sans");
	json_object_set_new(c, "cnf", json_pack("{s:s}", "x5rt#S256", "AAAA"));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_BAD_TOKEN);
	json_object_del(c, "cnf");
	json_object_set_new(c, "jti", json_integer(5));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_BAD_TOKEN);
	json_object_set_new(c, "jti", json_string("x"));

	/* alg none: an unsigned token naming the provisioner */
	{
		char *h, *p, *js;

		hdr = json_pack("{s:s,s:s}", "alg", "none", "kid",
		    json_get_str(f->jwk, "kid"));
		js = json_dumps(hdr, JSON_COMPACT);
		h = jws_b64url_encode((const uint8_t *)js, strlen(js));
		free(js);
		js = json_dumps(c, JSON_COMPACT);
		p = jws_b64url_encode((const uint8_t *)js, strlen(js));
		free(js);
		tok = xasprintf("%s.%s.", h, p);
		assert_int_equal(authorize(f, tok, PROV_SIGN, &az),
		    DV_ERR_BAD_TOKEN);
		assert_null(az);
		free(tok);
		/* duplicate header keys: "kid" twice */
		js = xasprintf("{\"alg\":\"ES256\",\"kid\":\"%s\","
		    "\"kid\":\"x\"}", json_get_str(f->jwk, "kid"));
		free(h);
		h = jws_b64url_encode((const uint8_t *)js, strlen(js));
		free(js);
		tok = xasprintf("%s.%s.AAAA", h, p);
		assert_int_equal(authorize(f, tok, PROV_SIGN, &az),
		    DV_ERR_BAD_TOKEN);
		free(tok);
		free(h);
		free(p);
		json_decref(hdr);
	}
	/* oversized */
	big = xmalloc(DV_MAX_TOKEN + 1);
	memset(big, 'a', DV_MAX_TOKEN);
	big[DV_MAX_TOKEN] = '\0';
	json_object_set_new(c, "pad", json_string(big));
	assert_int_equal(try_jwk(f, f->jwk, c), DV_ERR_TOO_LARGE);
	free(big);
	/* nothing at all */
	assert_int_equal(authorize(f, "", PROV_SIGN, &az), DV_ERR_BAD_TOKEN);
	assert_int_equal(authorize(f, NULL, PROV_SIGN, &az), DV_ERR_BAD_TOKEN);
	assert_int_equal(authorize(f, "not.a.token", PROV_SIGN, &az),
	    DV_ERR_BAD_TOKEN);
	json_decref(c);
}

/* A token from the independent jose(1) tool verifies (DESIGN §4 oracle). */
static void
test_jose_cli_token(void **state)
{
	struct fx *f = *state;
	char dir[] = "/tmp/test_prov.XXXXXX", *cmd, *tok, *kid = NULL;
	struct prov_authz *az = NULL;
	struct prov_set *set;
	struct prov *p = NULL;
	json_t *priv, *c, *cfg;
	char buf[4096];
	size_t n;
	FILE *fp;

	if (access("/usr/bin/jose", X_OK) != 0)
		skip();
	assert_non_null(mkdtemp(dir));
	cmd = xasprintf("jose jwk gen -i '{\"alg\":\"ES256\"}' -o %s/k.jwk",
	    dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	cmd = xasprintf("%s/k.jwk", dir);
	priv = json_load_file(cmd, 0, NULL);
	free(cmd);
	assert_non_null(priv);
	assert_int_equal(jws_jwk_thumbprint(priv, &kid), DV_OK);
	/* the provisioner holds the public key jose(1) made, with a kid */
	cfg = json_pack("{s:s,s:s,s:o}", "type", "JWK", "name", "cli", "key",
	    jws_jwk_public(priv));
	json_object_set_new(json_object_get(cfg, "key"), "kid",
	    json_string(kid));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	set = prov_set_new();
	assert_int_equal(prov_set_add(set, p), DV_OK);

	c = claims("cli", "device-9.example.com", BASE "/1.0/sign", f->now);
	cmd = xasprintf("%s/claims.json", dir);
	assert_int_equal(json_dump_file(c, cmd, JSON_COMPACT), 0);
	free(cmd);
	cmd = xasprintf("jose jws sig -I %s/claims.json -k %s/k.jwk -c "
	    "-s '{\"protected\":{\"typ\":\"JWT\",\"kid\":\"%s\"}}' -o -", dir,
	    dir, kid);
	fp = popen(cmd, "r");
	assert_non_null(fp);
	n = fread(buf, 1, sizeof(buf) - 1, fp);
	assert_int_equal(pclose(fp), 0);
	free(cmd);
	buf[n] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	tok = buf;

	assert_int_equal(prov_authorize(set, tok, PROV_SIGN, tsign_auds,
	    NAUDS(tsign_auds), f->now, &az), DV_OK);
	assert_string_equal(az->sub, "device-9.example.com");
	assert_string_equal(az->actor, "jwk/cli");
	prov_authz_free(az);

	cmd = xasprintf("rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	prov_set_free(set);
	json_decref(c);
	json_decref(cfg);
	json_decref(priv);
	free(kid);
}

/* ---- X5C ------------------------------------------------------------ */

static enum dv_rc
try_x5c(struct fx *f, EVP_PKEY *key, const struct cred *const *certs,
    size_t n, const json_t *c, struct prov_authz **az)
{
	char *tok = sign_x5c(key, "x5c", certs, n, c);
	enum dv_rc rc;

	*az = NULL;
	rc = authorize(f, tok, PROV_SIGN, az);
	free(tok);
	return rc;
}

static void
test_x5c_sign_ok(void **state)
{
	struct fx *f = *state;
	const struct cred *chain[] = { &f->leaf, &f->inter };
	struct prov_authz *az = NULL;
	struct pki_csr *csr;
	json_t *c;
	time_t nb, na;

	c = claims("devices", "device-7.example.com",
	    BASE "/1.0/sign#x5c/devices", f->now);
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az), DV_OK);
	assert_int_equal(prov_get_type(az->prov), PROV_X5C);
	assert_string_equal(az->actor, "x5c/devices:device-7.example.com");
	assert_non_null(az->x5c_leaf);
	assert_string_equal(az->sub, "device-7.example.com");
	/* CSR CN must be empty or sub (commonNameValidator) */
	csr = csr_make("device-7.example.com", NULL, 0);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	csr = csr_make(NULL, (const char *const[]){ "device-7.example.com" },
	    1);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	/* the default end is inside the leaf's validity */
	assert_int_equal(prov_validity(az, NULL, NULL, f->now, &nb, &na),
	    DV_OK);
	assert_int_equal(na, f->now + DAY);
	prov_authz_free(az);

	/* the leaf alone verifies too when the root signed... not here: the
	 * intermediate is missing, so the chain is incomplete */
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 1, c, &az),
	    DV_ERR_UNTRUSTED);
	assert_null(az);
	json_decref(c);
}

static void
test_x5c_refusals(void **state)
{
	struct fx *f = *state;
	const struct cred *chain[] = { &f->leaf, &f->inter };
	const struct cred *evil[] = { &f->evil_leaf, &f->evil_root };
	const struct cred *noclient[] = { &f->leaf_noclient, &f->inter };
	const struct cred *long_chain[DV_MAX_CHAIN + 1];
	struct prov_authz *az = NULL;
	json_t *c;
	size_t i;

	c = claims("devices", "device-7.example.com",
	    BASE "/1.0/sign#x5c/devices", f->now);
	/* a chain to a root the provisioner does not trust */
	assert_int_equal(try_x5c(f, f->evil_leaf.key, evil, 2, c, &az),
	    DV_ERR_UNTRUSTED);
	/* a leaf without clientAuth */
	json_object_set_new(c, "sub", json_string("server.example.com"));
	assert_int_equal(try_x5c(f, f->leaf_noclient.key, noclient, 2, c,
	    &az), DV_ERR_UNTRUSTED);
	json_object_set_new(c, "sub", json_string("device-7.example.com"));
	/* signed by a key that is not the leaf's */
	assert_int_equal(try_x5c(f, f->evil_leaf.key, chain, 2, c, &az),
	    DV_ERR_BAD_TOKEN);
	/* chains longer than DV_MAX_CHAIN */
	for (i = 0; i < DV_MAX_CHAIN + 1; i++)
		long_chain[i] = i == 0 ? &f->leaf : &f->inter;
	assert_int_equal(try_x5c(f, f->leaf.key, long_chain, DV_MAX_CHAIN + 1,
	    c, &az), DV_ERR_BAD_TOKEN);
	/* wrong issuer */
	json_object_set_new(c, "iss", json_string("admin"));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az),
	    DV_ERR_TOKEN_ISSUER);
	json_object_set_new(c, "iss", json_string("devices"));
	/* audience without the fragment, or naming no provisioner */
	json_object_set_new(c, "aud", json_string(BASE "/1.0/sign"));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az),
	    DV_ERR_TOKEN_ISSUER);
	json_object_set_new(c, "aud", json_string(BASE "/1.0/sign#x5c/other"));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az),
	    DV_ERR_TOKEN_ISSUER);
	json_object_set_new(c, "aud", json_string(
	    "https://evil.example/1.0/sign#x5c/devices"));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az),
	    DV_ERR_TOKEN_AUDIENCE);
	json_object_set_new(c, "aud", json_string(BASE
	    "/1.0/sign#x5c/devices"));
	/* expired token */
	json_object_set_new(c, "exp", json_integer(f->now - 120));
	json_object_set_new(c, "nbf", json_integer(f->now - 400));
	json_object_set_new(c, "iat", json_integer(f->now - 400));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az),
	    DV_ERR_TOKEN_EXPIRED);
	json_decref(c);
	/* x5c entries that are not certificates */
	{
		json_t *hdr = json_pack("{s:[s]}", "x5c", "bm90IGEgY2VydA==");
		char *tok = NULL;

		c = claims("devices", "d", BASE "/1.0/sign#x5c/devices",
		    f->now);
		assert_int_equal(jws_sign_pkey(f->leaf.key, hdr, c, &tok),
		    DV_OK);
		assert_int_equal(authorize(f, tok, PROV_SIGN, &az),
		    DV_ERR_BAD_TOKEN);
		free(tok);
		json_object_set_new(hdr, "x5c", json_pack("[s]", "-_-_"));
		assert_int_equal(jws_sign_pkey(f->leaf.key, hdr, c, &tok),
		    DV_OK);
		assert_int_equal(authorize(f, tok, PROV_SIGN, &az),
		    DV_ERR_BAD_TOKEN);
		free(tok);
		json_decref(hdr);
		json_decref(c);
	}
	assert_null(az);
}

/* ---- CSR checks ------------------------------------------------------ */

static void
test_check_csr(void **state)
{
	struct fx *f = *state;
	const struct cred *chain[] = { &f->leaf, &f->inter };
	struct prov_authz *az = NULL;
	struct pki_csr *csr;
	json_t *c;
	char *tok, *x5rt;

	c = claims("admin", "web", BASE "/1.0/sign", f->now);
	json_object_set_new(c, "sans", json_pack("[s,s,s]", "a.example.com",
	    "b.example.com", "192.0.2.7"));
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	free(tok);
	/* CN: empty, sub or one of the sans; types the CSR omits are fine */
	csr = csr_make("web", (const char *const[]){ "b.example.com",
	    "A.example.com" }, 2);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	csr = csr_make("a.example.com", NULL, 0);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	csr = csr_make("evil.example.com", NULL, 0);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	/* CSR SANs != token SANs, per type */
	csr = csr_make(NULL, (const char *const[]){ "a.example.com" }, 1);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	csr = csr_make(NULL, (const char *const[]){ "a.example.com",
	    "b.example.com", "c.example.com" }, 3);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	csr = csr_make(NULL, (const char *const[]){ "192.0.2.8" }, 1);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	csr = csr_make(NULL, (const char *const[]){ "me@example.com" }, 1);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	prov_authz_free(az);
	az = NULL;

	/* cnf binds the token to one CSR */
	csr = csr_make("web", NULL, 0);
	x5rt = jws_b64url_encode(csr->sha256, sizeof(csr->sha256));
	json_object_set_new(c, "cnf", json_pack("{s:s}", "x5rt#S256", x5rt));
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	assert_true(az->has_cnf);
	assert_int_equal(prov_check_csr(az, csr), DV_OK);
	pki_csr_free(csr);
	csr = csr_make("web", NULL, 0);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_FORBIDDEN);
	pki_csr_free(csr);
	prov_authz_free(az);
	az = NULL;
	free(tok);
	free(x5rt);
	json_decref(c);

	/* X5C: CN is empty or sub, not another SAN */
	c = claims("devices", "device-7.example.com",
	    BASE "/1.0/sign#x5c/devices", f->now);
	json_object_set_new(c, "sans", json_pack("[s,s]",
	    "device-7.example.com", "alias.example.com"));
	assert_int_equal(try_x5c(f, f->leaf.key, chain, 2, c, &az), DV_OK);
	csr = csr_make("alias.example.com", NULL, 0);
	assert_int_equal(prov_check_csr(az, csr), DV_ERR_SANS_MISMATCH);
	pki_csr_free(csr);
	prov_authz_free(az);
	json_decref(c);
}

/* ---- validity -------------------------------------------------------- */

static void
test_validity(void **state)
{
	struct fx *f = *state;
	const struct cred *chain[] = { &f->leaf_short, &f->inter };
	struct prov_authz *az = NULL;
	char when[32], later[32];
	time_t nb, na, t = f->now;
	json_t *c;
	char *tok;

	c = claims("admin", "d", BASE "/1.0/sign", t);
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	free(tok);
	json_decref(c);
	/* a duration notAfter counts from notBefore (now, unbackdated) */
	assert_int_equal(prov_validity(az, NULL, "1h", t, &nb, &na), DV_OK);
	assert_int_equal(nb, t - 60);
	assert_int_equal(na, t + 3600);
	assert_int_equal(prov_validity(az, "", "", t, &nb, &na), DV_OK);
	assert_int_equal(na - nb, DAY + 60);
	/* an explicit notBefore is not backdated */
	time_format_rfc3339(t + 3600, when, sizeof(when));
	time_format_rfc3339(t + 7200, later, sizeof(later));
	assert_int_equal(prov_validity(az, when, later, t, &nb, &na), DV_OK);
	assert_int_equal(nb, t + 3600);
	assert_int_equal(na, t + 7200);
	assert_int_equal(prov_validity(az, "30m", "2h", t, &nb, &na), DV_OK);
	assert_int_equal(nb, t + 1800);
	assert_int_equal(na, t + 1800 + 7200);
	/* lifetime outside the claims: below 5m, above 24h (+ backdate) */
	assert_int_equal(prov_validity(az, NULL, "1m", t, &nb, &na),
	    DV_ERR_LIFETIME);
	assert_int_equal(nb, 0);
	assert_int_equal(prov_validity(az, NULL, "24h", t, &nb, &na), DV_OK);
	assert_int_equal(na - nb, DAY + 60);
	assert_int_equal(prov_validity(az, NULL, "24h1m", t, &nb, &na),
	    DV_ERR_LIFETIME);
	/* not backdated: max + backdate all the same (step's NOTE) */
	assert_int_equal(prov_validity(az, "1m", "24h1m", t, &nb, &na),
	    DV_OK);
	assert_int_equal(prov_validity(az, "1m", "24h2m", t, &nb, &na),
	    DV_ERR_LIFETIME);
	assert_int_equal(prov_validity(az, NULL, "48h", t, &nb, &na),
	    DV_ERR_LIFETIME);
	/* notAfter in the past, or before notBefore */
	time_format_rfc3339(t - 3600, when, sizeof(when));
	assert_int_equal(prov_validity(az, NULL, when, t, &nb, &na),
	    DV_ERR_LIFETIME);
	assert_int_equal(prov_validity(az, "2h", "-1h", t, &nb, &na),
	    DV_ERR_LIFETIME);
	assert_int_equal(prov_validity(az, "tomorrow", NULL, t, &nb, &na),
	    DV_ERR_MALFORMED);
	assert_int_equal(prov_validity(az, NULL, "2026-13-01", t, &nb, &na),
	    DV_ERR_MALFORMED);
	prov_authz_free(az);

	/* X5C: clipped to the leaf that expires in two hours */
	c = claims("devices", "short.example.com",
	    BASE "/1.0/sign#x5c/devices", t);
	assert_int_equal(try_x5c(f, f->leaf_short.key, chain, 2, c, &az),
	    DV_OK);
	assert_int_equal(prov_validity(az, NULL, NULL, t, &nb, &na), DV_OK);
	assert_int_equal(na, pki_cert_not_after(f->leaf_short.cert));
	assert_int_equal(nb, t - 60);
	assert_int_equal(prov_validity(az, NULL, "1h", t, &nb, &na), DV_OK);
	assert_int_equal(prov_validity(az, NULL, "3h", t, &nb, &na),
	    DV_ERR_LIFETIME);
	/* notBefore before the leaf's */
	assert_int_equal(prov_validity(az, "-2h", "1h", t, &nb, &na),
	    DV_ERR_LIFETIME);
	prov_authz_free(az);
	json_decref(c);
}

/* ---- policy ---------------------------------------------------------- */

static enum dv_rc
policy(const char *json, const char *cn, const char *const *names, size_t n)
{
	struct pki_sans sans = { 0 };
	struct prov *p = NULL;
	json_t *cfg, *jwk = NULL;
	enum dv_rc rc;
	size_t i;

	assert_int_equal(jws_jwk_generate("ES256", &jwk), DV_OK);
	cfg = json_pack("{s:s,s:s,s:o,s:o}", "type", "JWK", "name", "p",
	    "key", jws_jwk_public(jwk), "policy", json_loads(json, 0, NULL));
	assert_int_equal(prov_load(cfg, NULL, &p), DV_OK);
	for (i = 0; i < n; i++)
		assert_int_equal(pki_sans_add_auto(&sans, names[i]), DV_OK);
	rc = prov_policy_check(p, cn, &sans);
	pki_sans_clear(&sans);
	prov_free(p);
	json_decref(cfg);
	json_decref(jwk);
	return rc;
}

#define NAMES(...)	(const char *const[]){ __VA_ARGS__ }, \
	sizeof((const char *const[]){ __VA_ARGS__ }) / sizeof(char *)

static void
test_policy(void **state)
{
	const char *dns = "{\"x509\":{\"allow\":{\"dns\":[\"*.example.com\","
	    "\"example.net\"]},\"deny\":{\"dns\":[\"bad.example.com\"]}}}";
	const char *mixed = "{\"x509\":{\"allow\":{\"ip\":[\"10.0.0.0/8\","
	    "\"2001:db8::1\"],\"email\":[\"@example.com\","
	    "\"boss@corp.example\"],"
	    "\"uri\":[\"*.example.com\"],\"cn\":[\"Device Seven\"]},"
	    "\"deny\":{\"ip\":[\"10.9.9.9\"]}}}";

	(void)state;
	/* "*.example.com" matches exactly one label */
	assert_int_equal(policy(dns, "", NAMES("a.example.com")), DV_OK);
	assert_int_equal(policy(dns, "", NAMES("A.Example.COM")), DV_OK);
	assert_int_equal(policy(dns, "", NAMES("example.net")), DV_OK);
	assert_int_equal(policy(dns, "", NAMES("example.com")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(dns, "", NAMES("a.b.example.com")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(dns, "", NAMES("a.example.net")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(dns, "", NAMES("a.example.com.evil")),
	    DV_ERR_POLICY);
	/* deny wins over allow */
	assert_int_equal(policy(dns, "", NAMES("a.example.com",
	    "bad.example.com")), DV_ERR_POLICY);
	/* an allow rule for dns refuses the types without allow rules */
	assert_int_equal(policy(dns, "", NAMES("a.example.com", "10.0.0.1")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(dns, "", NAMES("me@example.com")),
	    DV_ERR_POLICY);
	/* the CN is checked too, as the type it looks like */
	assert_int_equal(policy(dns, "a.example.com", NAMES("a.example.com")),
	    DV_OK);
	assert_int_equal(policy(dns, "other.org", NAMES("a.example.com")),
	    DV_ERR_POLICY);
	/* literal wildcards only with allowWildcardNames */
	assert_int_equal(policy(dns, "", NAMES("*.example.com")),
	    DV_ERR_POLICY);
	assert_int_equal(policy("{\"x509\":{\"allow\":{\"dns\":"
	    "[\"*.example.com\"]},\"allowWildcardNames\":true}}", "",
	    NAMES("*.example.com")), DV_OK);

	/* ip (CIDR and single), email (domain and exact), uri host, cn */
	assert_int_equal(policy(mixed, "", NAMES("10.1.2.3", "2001:db8::1")),
	    DV_OK);
	assert_int_equal(policy(mixed, "", NAMES("11.1.2.3")), DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES("10.9.9.9")), DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES("2001:db8::2")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES("ops@example.com",
	    "boss@corp.example")), DV_OK);
	assert_int_equal(policy(mixed, "", NAMES("ops@sub.example.com")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES("intern@corp.example")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES(
	    "spiffe://svc.example.com/ns/a?x#y")), DV_OK);
	assert_int_equal(policy(mixed, "", NAMES(
	    "https://svc.example.com:8443/")), DV_OK);
	assert_int_equal(policy(mixed, "", NAMES("spiffe://example.com/a")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "", NAMES("urn:uuid:1234")),
	    DV_ERR_POLICY);
	assert_int_equal(policy(mixed, "Device Seven", NAMES("10.0.0.1")),
	    DV_OK);
	assert_int_equal(policy(mixed, "Device Eight", NAMES("10.0.0.1")),
	    DV_ERR_POLICY);
	/* dns has no allow rule here */
	assert_int_equal(policy(mixed, "", NAMES("host.example.com")),
	    DV_ERR_POLICY);

	/* deny only: everything else passes */
	assert_int_equal(policy("{\"x509\":{\"deny\":{\"cn\":[\"root\"],"
	    "\"email\":[\"@evil.example\"]}}}", "anything", NAMES("10.0.0.1",
	    "a@good.example")), DV_OK);
	assert_int_equal(policy("{\"x509\":{\"deny\":{\"cn\":[\"root\"]}}}",
	    "root", NAMES("10.0.0.1")), DV_ERR_POLICY);
	assert_int_equal(policy("{\"x509\":{\"deny\":{\"email\":"
	    "[\"@evil.example\"]}}}", "", NAMES("x@EVIL.example")),
	    DV_ERR_POLICY);
	/* no policy at all */
	assert_int_equal(policy("{}", "x", NAMES("a.b.c")), DV_OK);
}

/* The provisioner loaded with a policy refuses a token's names. */
static void
test_policy_token(void **state)
{
	struct fx *f = *state;
	struct prov_authz *az = NULL;
	json_t *c;
	char *tok;

	c = claims("policed", "www.example.org", BASE "/1.0/sign", f->now);
	tok = sign_jwk(f->other, c);
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az), DV_OK);
	assert_int_equal(prov_policy_check(az->prov, az->sub, &az->sans),
	    DV_ERR_POLICY);
	prov_authz_free(az);
	free(tok);
	json_decref(c);
}

/* ---- revoke ---------------------------------------------------------- */

static void
test_revoke(void **state)
{
	struct fx *f = *state;
	struct prov_authz *az = NULL;
	json_t *c;
	char *tok;

	c = claims("admin", "0x7B", BASE "/1.0/revoke", f->now);
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_REVOKE, &az), DV_OK);
	assert_string_equal(az->sub, "123");
	assert_int_equal(az->sans.n, 0);
	prov_authz_free(az);
	az = NULL;
	/* a sign audience is not a revoke audience */
	assert_int_equal(authorize(f, tok, PROV_SIGN, &az) ==
	    DV_ERR_TOKEN_AUDIENCE, true);
	free(tok);
	/* sub must be a serial */
	json_object_set_new(c, "sub", json_string("laptop.example.com"));
	tok = sign_jwk(f->jwk, c);
	assert_int_equal(authorize(f, tok, PROV_REVOKE, &az),
	    DV_ERR_FORBIDDEN);
	assert_null(az);
	free(tok);
	json_decref(c);
}

/* ---- renew (x5cInsecure) ---------------------------------------------- */

static enum dv_rc
renew(struct fx *f, const struct cred *leaf, EVP_PKEY *key, const char *iss,
    const char *sub, const char *aud, X509 **out, char **tid)
{
	const struct cred *chain[] = { leaf };
	time_t exp = 0;
	json_t *c;
	char *tok;
	enum dv_rc rc;

	c = claims(iss, sub, aud, f->now);
	json_object_del(c, "jti");
	tok = sign_x5c(key, "x5cInsecure", chain, 1, c);
	*out = NULL;
	*tid = NULL;
	rc = prov_authorize_renew_token(f->ca_trust, f->set, tok, trenew_auds,
	    NAUDS(trenew_auds), f->now, out, tid, &exp);
	if (rc == DV_OK) {
		uint8_t md[32];
		char *hex;

		assert_int_equal(exp, f->now + 300);
		pki_sha256(tok, strlen(tok), md);
		hex = hex_encode(md, sizeof(md));
		assert_string_equal(*tid, hex);
		free(hex);
	} else {
		assert_null(*out);
		assert_null(*tid);
	}
	free(tok);
	json_decref(c);
	return rc;
}

static void
test_renew_token(void **state)
{
	struct fx *f = *state;
	X509 *leaf = NULL;
	char *tid = NULL, *cn;

	assert_int_equal(renew(f, &f->renew_leaf, f->renew_leaf.key,
	    "step-ca-client/1.0", "laptop.example.com", BASE "/1.0/renew",
	    &leaf, &tid), DV_OK);
	cn = pki_cert_cn(leaf);
	assert_string_equal(cn, "laptop.example.com");
	free(cn);
	pki_cert_free(leaf);
	free(tid);
	/* an expired leaf still authenticates (verified at notAfter - 1m) */
	assert_int_equal(renew(f, &f->renew_expired, f->renew_expired.key,
	    "step-ca-client/1.0", "old.example.com", BASE "/renew", &leaf,
	    &tid), DV_OK);
	pki_cert_free(leaf);
	free(tid);
	/* older clients: iss is the leaf's provisioner */
	assert_int_equal(renew(f, &f->renew_prov, f->renew_prov.key, "admin",
	    "provd.example.com", BASE "/renew", &leaf, &tid), DV_OK);
	pki_cert_free(leaf);
	free(tid);
	assert_int_equal(renew(f, &f->renew_prov, f->renew_prov.key, "rsa",
	    "provd.example.com", BASE "/renew", &leaf, &tid),
	    DV_ERR_TOKEN_ISSUER);
	assert_int_equal(renew(f, &f->renew_leaf, f->renew_leaf.key, "admin",
	    "laptop.example.com", BASE "/renew", &leaf, &tid),
	    DV_ERR_TOKEN_ISSUER);
	/* sub must be the leaf CN */
	assert_int_equal(renew(f, &f->renew_leaf, f->renew_leaf.key,
	    "step-ca-client/1.0", "other.example.com", BASE "/renew", &leaf,
	    &tid), DV_ERR_BAD_TOKEN);
	/* a sign audience */
	assert_int_equal(renew(f, &f->renew_leaf, f->renew_leaf.key,
	    "step-ca-client/1.0", "laptop.example.com", BASE "/1.0/sign",
	    &leaf, &tid), DV_ERR_TOKEN_AUDIENCE);
	/* not the CA's certificate */
	assert_int_equal(renew(f, &f->evil_leaf, f->evil_leaf.key,
	    "step-ca-client/1.0", "device-7.example.com", BASE "/renew",
	    &leaf, &tid), DV_ERR_UNTRUSTED);
	/* the leaf's certificate with another key's signature */
	assert_int_equal(renew(f, &f->renew_leaf, f->evil_leaf.key,
	    "step-ca-client/1.0", "laptop.example.com", BASE "/renew", &leaf,
	    &tid), DV_ERR_BAD_TOKEN);
	/* an x5c (not x5cInsecure) header is not a renew token */
	{
		const struct cred *chain[] = { &f->renew_leaf };
		json_t *c = claims("step-ca-client/1.0", "laptop.example.com",
		    BASE "/renew", f->now);
		char *tok = sign_x5c(f->renew_leaf.key, "x5c", chain, 1, c);
		time_t exp;

		assert_int_equal(prov_authorize_renew_token(f->ca_trust,
		    f->set, tok, trenew_auds, NAUDS(trenew_auds), f->now, &leaf,
		    &tid, &exp), DV_ERR_BAD_TOKEN);
		free(tok);
		json_decref(c);
	}
}

/* ---- the fuzz corpus, with golden results --------------------------- */

static void
test_corpus_golden(void **state)
{
	static const struct {
		const char	*file;
		enum dv_rc	 sign, revoke, renew;
	} golden[] = {
		{ "jwk_sign", DV_OK, DV_ERR_TOKEN_AUDIENCE, DV_ERR_BAD_TOKEN },
		{ "jwk_sign_nojti", DV_OK, DV_ERR_TOKEN_AUDIENCE,
		    DV_ERR_BAD_TOKEN },
		{ "jwk_revoke", DV_ERR_TOKEN_AUDIENCE, DV_OK, DV_ERR_BAD_TOKEN },
		{ "x5c_sign", DV_OK, DV_ERR_TOKEN_AUDIENCE, DV_ERR_BAD_TOKEN },
		{ "renew_x5cinsecure", DV_ERR_TOKEN_AUDIENCE,
		    DV_ERR_TOKEN_AUDIENCE, DV_OK },
		{ "hostile_alg_none", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_alg_hs256", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_dup_alg", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_dup_claims", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_crit", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_deep_json", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_times_real", DV_ERR_BAD_TOKEN, DV_ERR_BAD_TOKEN,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_aud_types", DV_ERR_BAD_TOKEN, DV_ERR_TOKEN_AUDIENCE,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_x5c_garbage", DV_ERR_BAD_TOKEN, DV_ERR_TOKEN_AUDIENCE,
		    DV_ERR_BAD_TOKEN },
		{ "hostile_x5c_not_array", DV_ERR_BAD_TOKEN,
		    DV_ERR_TOKEN_AUDIENCE, DV_ERR_BAD_TOKEN },
		{ "hostile_renew_no_chain", DV_ERR_TOKEN_AUDIENCE,
		    DV_ERR_TOKEN_AUDIENCE, DV_ERR_BAD_TOKEN },
	};
	static const char self[] = "/tests/unit/test_provisioner.c";
	const char *src = getenv("DEVID_SRC");
	struct prov_authz *az;
	X509 *leaf;
	char *path, *tid, *dir = NULL;
	uint8_t *tok;
	size_t i, len;
	time_t exp;

	(void)state;
	/* ctest sets DEVID_SRC; run by hand, CMake's absolute __FILE__ */
	if (src == NULL && strlen(__FILE__) > strlen(self) &&
	    strcmp(__FILE__ + strlen(__FILE__) - strlen(self), self) == 0)
		src = dir = xstrndup(__FILE__, strlen(__FILE__) - strlen(self));
	if (src == NULL)
		skip();
	/* the first call runs fuzz_init(), exactly as under libFuzzer */
	assert_int_equal(LLVMFuzzerTestOneInput((const uint8_t *)"", 0), 0);
	assert_non_null(set);
	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_DEBUG : LOG__MAX, 2);
	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		path = xasprintf("%s/fuzz/corpus/token/%s", src, golden[i].file);
		assert_int_equal(file_read(path, DV_MAX_TOKEN, &tok, &len),
		    DV_OK);
		free(path);
		az = NULL;
		assert_int_equal(prov_authorize(set, (char *)tok, PROV_SIGN,
		    sign_auds, NAUDS(sign_auds), FUZZ_NOW, &az), golden[i].sign);
		prov_authz_free(az);
		az = NULL;
		assert_int_equal(prov_authorize(set, (char *)tok, PROV_REVOKE,
		    revoke_auds, NAUDS(revoke_auds), FUZZ_NOW, &az),
		    golden[i].revoke);
		prov_authz_free(az);
		leaf = NULL;
		tid = NULL;
		assert_int_equal(prov_authorize_renew_token(trust, set,
		    (char *)tok, renew_auds, NAUDS(renew_auds), FUZZ_NOW, &leaf,
		    &tid, &exp), golden[i].renew);
		pki_cert_free(leaf);
		free(tid);
		/* the fuzz target itself runs each seed cleanly */
		assert_int_equal(LLVMFuzzerTestOneInput(tok, len), 0);
		free(tok);
	}
	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_DEBUG : LOG__MAX, 2);
	prov_set_free(set);
	pki_trust_free(trust);
	set = NULL;
	trust = NULL;
	free(dir);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_claims),
		cmocka_unit_test(test_load),
		cmocka_unit_test(test_jwk_sign_ok),
		cmocka_unit_test(test_jwk_rs256),
		cmocka_unit_test(test_jwk_refusals),
		cmocka_unit_test(test_jose_cli_token),
		cmocka_unit_test(test_x5c_sign_ok),
		cmocka_unit_test(test_x5c_refusals),
		cmocka_unit_test(test_check_csr),
		cmocka_unit_test(test_validity),
		cmocka_unit_test(test_policy),
		cmocka_unit_test(test_policy_token),
		cmocka_unit_test(test_revoke),
		cmocka_unit_test(test_renew_token),
		cmocka_unit_test(test_corpus_golden),
	};

	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_DEBUG : LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
