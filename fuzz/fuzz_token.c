/*
 * fuzz_token.c - one-time tokens from the network (rule 28): jws_parse(),
 * then the whole provisioner pipeline on the fuzzer's bytes - selection,
 * x5c chain decoding and verification, signature, claims (spec §1.9, §2.1,
 * §2.2), the renew x5cInsecure token (§1.5), and, for what a token
 * authorizes, validity (§3.1) and the name policy (§3.3).
 *
 * The seeds in fuzz/corpus/token/ are real tokens signed by the keys whose
 * public halves are below, valid at FUZZ_NOW, so mutations start from deep
 * paths; the hostile_* seeds are named for their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jws/jws.h"
#include "pki/pki.h"
#include "provisioner/prov.h"

#define FUZZ_NOW	1800000000

/* JWK provisioner "admin": public key of the seeds' signer. */
static const char jwk_pub[] =
    "{\"alg\":\"ES256\",\"crv\":\"P-256\","
    "\"kid\":\"vWR2xEoOqI_6ot2ihZWfUWSD4F0sW5ktCNOQBhFmi4U\","
    "\"kty\":\"EC\",\"use\":\"sig\","
    "\"x\":\"wyCYFu-GMMwLulieV0EiJabzzK4TwTGpNs04asju0Hw\","
    "\"y\":\"D5NFNH-UfYCz2w-JT-xoOmMW33b9aAJHqEC20MySI2I\"}";

/* X5C provisioner "devices" and the renew trust: the seeds' root. */
static const char root_pem[] =
	"-----BEGIN CERTIFICATE-----\n"
	"MIIBjDCCATOgAwIBAgIUOvkfk7foyIkAUnrFYJY+rGkCN90wCgYIKoZIzj0EAwIw\n"
	"FDESMBAGA1UEAwwJRnV6eiBSb290MB4XDTI2MTIxNjA4MDAwMFoXDTM3MDExMjA4\n"
	"MDAwMFowFDESMBAGA1UEAwwJRnV6eiBSb290MFkwEwYHKoZIzj0CAQYIKoZIzj0D\n"
	"AQcDQgAE7DWktRfJrB3rylVNoIF3HX95/2sZT+5SBgIJ3y3opVWKBFfYhsxxVUaj\n"
	"gQP0blvqpEXiGoru9t1pk3B0Xtcd7aNjMGEwDwYDVR0TAQH/BAUwAwEB/zAOBgNV\n"
	"HQ8BAf8EBAMCAQYwHQYDVR0OBBYEFM0m387mE1CpHrBS62vcq7CwJ6oJMB8GA1Ud\n"
	"IwQYMBaAFM0m387mE1CpHrBS62vcq7CwJ6oJMAoGCCqGSM49BAMCA0cAMEQCIC70\n"
	"rKbfxWZ8gGlg/mSCXrcPNRcoDkNyEEdOuYnd+7ABAiAHMvyfetnY4zBEyjQbk9RE\n"
	"Q3wMX1YmSGnI27qAyVjmuw==\n"
	"-----END CERTIFICATE-----\n";

static const char *const sign_auds[] = {
	"https://ca.example:9000/1.0/sign",
	"https://ca.example/1.0/sign",
	"step-certificate-authority",
};
static const char *const revoke_auds[] = {
	"https://ca.example:9000/1.0/revoke",
	"step-certificate-authority",
};
static const char *const renew_auds[] = {
	"https://ca.example:9000/1.0/renew",
	"https://ca.example:9000/renew",
};
#define NAUDS(a)	(sizeof(a) / sizeof((a)[0]))

static struct prov_set	*set;
static struct pki_trust	*trust;

static void
fuzz_init(void)
{
	struct prov *p = NULL;
	json_t *cfg;
	char *b64 = NULL;

	log_init(LOG__MAX, 2);	/* quiet */
	if (pki_init() != DV_OK)
		abort();
	set = prov_set_new();
	cfg = json_pack("{s:s,s:s,s:o,s:{s:{s:{s:[s],s:[s],s:[s]},"
	    "s:{s:[s]}}}}", "type", "JWK", "name", "admin", "key",
	    json_loads(jwk_pub, 0, NULL), "policy", "x509", "allow", "dns",
	    "*.example.com", "ip", "192.0.2.0/24", "email", "@example.com",
	    "deny", "dns", "bad.example.com");
	if (cfg == NULL || prov_load(cfg, NULL, &p) != DV_OK ||
	    prov_set_add(set, p) != DV_OK)
		abort();
	json_decref(cfg);
	if (pki_b64_encode((const uint8_t *)root_pem, strlen(root_pem),
	    &b64) != DV_OK)
		abort();
	cfg = json_pack("{s:s,s:s,s:s}", "type", "X5C", "name", "devices",
	    "roots", b64);
	p = NULL;
	if (cfg == NULL || prov_load(cfg, NULL, &p) != DV_OK ||
	    prov_set_add(set, p) != DV_OK)
		abort();
	json_decref(cfg);
	free(b64);
	trust = pki_trust_new();
	if (pki_trust_add_roots_pem(trust, root_pem, strlen(root_pem)) !=
	    DV_OK)
		abort();
}

/* What an authorized token allows, as the authority would use it. */
static void
use_authz(struct prov_authz *az)
{
	time_t nb, na;

	(void)prov_validity(az, NULL, NULL, FUZZ_NOW, &nb, &na);
	(void)prov_validity(az, "5m", "2h", FUZZ_NOW, &nb, &na);
	(void)prov_policy_check(az->prov, az->sub, &az->sans);
	prov_authz_free(az);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int ready;
	struct jws_token *t = NULL;
	struct prov_authz *az = NULL;
	X509 *leaf = NULL;
	char *s, *tid = NULL;
	time_t exp;

	if (!ready) {
		fuzz_init();
		ready = 1;
	}
	if (jws_parse((const char *)data, size, &t) == DV_OK)
		jws_token_free(t);

	/* the API hands provisioners NUL-terminated text */
	s = xmalloc(size + 1);
	memcpy(s, data, size);
	s[size] = '\0';
	if (prov_authorize(set, s, PROV_SIGN, sign_auds, NAUDS(sign_auds),
	    FUZZ_NOW, &az) == DV_OK)
		use_authz(az);
	az = NULL;
	if (prov_authorize(set, s, PROV_REVOKE, revoke_auds,
	    NAUDS(revoke_auds), FUZZ_NOW, &az) == DV_OK)
		use_authz(az);
	if (prov_authorize_renew_token(trust, set, s, renew_auds,
	    NAUDS(renew_auds), FUZZ_NOW, &leaf, &tid, &exp) == DV_OK) {
		pki_cert_free(leaf);
		free(tid);
	}
	free(s);
	return 0;
}
