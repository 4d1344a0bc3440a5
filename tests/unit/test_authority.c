/*
 * test_authority.c - the authorities end to end in process: init a data
 * folder, open it with the local signer, sign with a JWK token, replay,
 * renew, rekey, revoke, CRL and OCSP, and the refusals on the way.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "authority/ca.h"
#include "inventory/inv.h"
#include "jws/jws.h"

struct fx {
	char		 dir[64];
	char		*datadir;
	struct ca	*ca;
	struct ca_authority *acct;
	json_t		*jwk;		/* admin private JWK */
	char		*kid;
};

static char *
aud(struct fx *f, const char *what)
{
	return xasprintf("https://127.0.0.1:%d%s/1.0/%s", f->ca->port,
	    f->acct->base, what);
}

static char *
mint(struct fx *f, const char *sub, const char *audience, time_t iat,
    const char *san)
{
	uint8_t rnd[32];
	char *jti, *tok = NULL;
	json_t *claims;

	assert_int_equal(pki_random(rnd, sizeof(rnd)), DV_OK);
	jti = hex_encode(rnd, sizeof(rnd));
	claims = json_pack("{s:s,s:s,s:s,s:[s],s:I,s:I,s:I,s:s}",
	    "iss", "admin", "aud", audience, "sub", sub, "sans",
	    san != NULL ? san : sub, "nbf", (json_int_t)iat, "iat",
	    (json_int_t)iat, "exp", (json_int_t)(iat + 300), "jti", jti);
	assert_int_equal(jws_sign(f->jwk, NULL, claims, &tok), DV_OK);
	json_decref(claims);
	free(jti);
	return tok;
}

static char *
make_csr(const char *cn, const char *san, EVP_PKEY **keyp)
{
	struct pki_sans sans = { 0 };
	EVP_PKEY *k = NULL;
	char *pem = NULL;

	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	if (san != NULL)
		assert_int_equal(pki_sans_add_auto(&sans, san), DV_OK);
	assert_int_equal(pki_csr_make(k, cn, &sans, &pem), DV_OK);
	pki_sans_clear(&sans);
	if (keyp != NULL)
		*keyp = k;
	else
		pki_key_free(k);
	return pem;
}

static void
wait_done(void *arg, enum dv_rc rc)
{
	(void)rc;
	*(volatile int *)arg = 1;
}

/* Stores iss through the group-commit path and waits. */
static enum dv_rc
commit(struct fx *f, struct ca_issue *iss)
{
	volatile int done = 0;

	ca_commit_submit(f->ca, iss, wait_done, (void *)&done);
	while (!done)
		usleep(1000);
	return iss->rc;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct ca_init_opts o;
	json_t *sum = NULL, *adm;
	uint8_t *data;
	size_t len;
	char *p;

	strcpy(f->dir, "/tmp/devid-auth-XXXXXX");
	assert_non_null(mkdtemp(f->dir));
	f->datadir = xasprintf("%s/data", f->dir);
	memset(&o, 0, sizeof(o));
	o.dir = f->datadir;
	o.listen = "127.0.0.1:18443";
	o.key_type = PKI_KEY_P256;
	o.team = "default";
	assert_int_equal(ca_init_data(&o, &sum), DV_OK);
	assert_non_null(json_object_get(sum, "account"));
	json_decref(sum);
	/* A second init of the same folder is refused. */
	assert_int_equal(ca_init_data(&o, &sum), DV_ERR_EXISTS);

	assert_int_equal(ca_open(f->datadir, true, &f->ca), DV_OK);
	f->acct = ca_find(f->ca, "default", "account");
	assert_non_null(f->acct);
	assert_non_null(ca_find(f->ca, "default", "agent"));
	assert_non_null(ca_find(f->ca, "default", "attestation"));
	assert_null(ca_find(f->ca, "default", "nope"));

	p = xasprintf("%s/admin/provisioner.json", f->datadir);
	assert_int_equal(file_read(p, 65536, &data, &len), DV_OK);
	free(p);
	assert_int_equal(json_parse_strict(data, len, 65536, &adm), DV_OK);
	free(data);
	f->jwk = json_incref(json_object_get(adm, "key"));
	f->kid = xstrdup(json_get_str(adm, "kid"));
	json_decref(adm);
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fx *f = *state;
	char *cmd;

	ca_free(f->ca);
	json_decref(f->jwk);
	free(f->kid);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->datadir);
	free(f);
	return 0;
}

static void
test_sign_and_replay(void **state)
{
	struct fx *f = *state;
	struct ca_issue *iss = NULL, *again = NULL;
	struct store_cert *row = NULL;
	char *a = aud(f, "sign"), *tok, *csr;
	json_t *resp;

	tok = mint(f, "dev1.example.test", a, dv_now(), NULL);
	csr = make_csr("dev1.example.test", "dev1.example.test", NULL);
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, "1h", "t1",
	    &iss), DV_OK);
	assert_int_equal(commit(f, iss), DV_OK);
	assert_int_equal(store_cert_get(f->ca->store, iss->row.serial, &row),
	    DV_OK);
	assert_string_equal(row->authority, "default/account");
	assert_int_equal(row->not_after - row->not_before, 3600 + 60);
	store_cert_free(row);
	{
		char *text, *pem;
		size_t tlen;
		json_t *tls;

		assert_non_null(text = ca_issue_response(iss, &tlen));
		assert_int_equal(tlen, strlen(text));
		assert_non_null(resp = json_loads(text, JSON_REJECT_DUPLICATES,
		    NULL));
		free(text);
		assert_int_equal(pki_cert_to_pem(iss->cert, &pem), DV_OK);
		assert_string_equal(json_get_str(resp, "crt"), pem);
		assert_string_equal(json_get_str(resp, "ca"),
		    f->acct->inter_pem);
		assert_int_equal(json_array_size(json_object_get(resp,
		    "certChain")), 2);
		assert_string_equal(json_string_value(json_array_get(
		    json_object_get(resp, "certChain"), 0)), pem);
		assert_string_equal(json_string_value(json_array_get(
		    json_object_get(resp, "certChain"), 1)), f->acct->inter_pem);
		tls = json_object_get(resp, "tlsOptions");
		assert_int_equal(json_array_size(json_object_get(tls,
		    "cipherSuites")), 2);
		assert_true(json_real_value(json_object_get(tls, "minVersion"))
		    == 1.2);
		assert_true(json_is_false(json_object_get(tls,
		    "renegotiation")));
		free(pem);
		json_decref(resp);
	}

	/* The same token again: signed, but refused when stored. */
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, NULL, "t2",
	    &again), DV_OK);
	assert_int_equal(commit(f, again), DV_ERR_TOKEN_REUSED);
	assert_int_equal(store_cert_get(f->ca->store, again->row.serial, &row),
	    DV_ERR_NOT_FOUND);
	/* the issuance is in the team's audit log */
	{
		json_t *page = NULL, *ev;
		size_t i;
		int found = 0;

		assert_int_equal(inv_audit_list(f->ca->inv, "default", NULL,
		    100, &page), DV_OK);
		json_array_foreach(json_object_get(page, "events"), i, ev) {
			const char *act = json_get_str(ev, "action");
			const char *obj = json_get_str(ev, "object");

			if (act != NULL && obj != NULL &&
			    strcmp(act, "cert.issue") == 0 &&
			    strcmp(obj, iss->row.serial) == 0)
				found++;
		}
		assert_int_equal(found, 1);
		json_decref(page);
	}
	ca_issue_free(again);
	ca_issue_free(iss);
	free(tok);
	free(csr);
	free(a);
}

static void
test_sign_refusals(void **state)
{
	struct fx *f = *state;
	struct ca_issue *iss = NULL;
	char *a = aud(f, "sign"), *tok, *csr;

	csr = make_csr("dev2.example.test", "dev2.example.test", NULL);
	/* wrong audience: the agent authority's URL */
	tok = mint(f, "dev2.example.test",
	    "https://127.0.0.1:18443/t/default/nope/1.0/sign", dv_now(), NULL);
	assert_int_not_equal(ca_sign_prepare(f->acct, csr, tok, NULL, NULL,
	    "r1", &iss), DV_OK);
	free(tok);
	/* expired */
	tok = mint(f, "dev2.example.test", a, dv_now() - 3600, NULL);
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, NULL, "r2",
	    &iss), DV_ERR_TOKEN_EXPIRED);
	free(tok);
	/* the CSR asks for another name than the token */
	tok = mint(f, "dev2.example.test", a, dv_now(), "other.example.test");
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, NULL, "r3",
	    &iss), DV_ERR_SANS_MISMATCH);
	free(tok);
	/* lifetime beyond the 24h maximum */
	tok = mint(f, "dev2.example.test", a, dv_now(), NULL);
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, "48h", "r4",
	    &iss), DV_ERR_LIFETIME);
	free(tok);
	/* garbage CSR */
	tok = mint(f, "dev2.example.test", a, dv_now(), NULL);
	assert_int_equal(ca_sign_prepare(f->acct, "-----BEGIN CERTIFICATE "
	    "REQUEST-----\nAAAA\n-----END CERTIFICATE REQUEST-----\n", tok,
	    NULL, NULL, "r5", &iss), DV_ERR_BAD_CSR);
	assert_null(iss);
	free(tok);
	free(csr);
	free(a);
}

static void
test_renew_rekey_revoke(void **state)
{
	struct fx *f = *state;
	struct ca_issue *iss = NULL, *ren = NULL, *rek = NULL;
	struct ca_revoke_req r;
	char *a = aud(f, "sign"), *ra = aud(f, "revoke"), *tok, *csr, *csr2;
	uint8_t *crl = NULL;
	size_t crllen;
	time_t next;
	struct store_cert *row = NULL;

	tok = mint(f, "dev3.example.test", a, dv_now(), NULL);
	csr = make_csr("dev3.example.test", "dev3.example.test", NULL);
	assert_int_equal(ca_sign_prepare(f->acct, csr, tok, NULL, NULL, "x1",
	    &iss), DV_OK);
	assert_int_equal(commit(f, iss), DV_OK);

	/* renew with the certificate as the mTLS peer: decoded from its DER,
	 * as the TLS layer hands it over */
	{
		X509 *peer = NULL;

		assert_int_equal(pki_cert_from_der(iss->der, iss->derlen, &peer),
		    DV_OK);
		pki_cert_free(iss->cert);
		iss->cert = peer;
	}
	assert_int_equal(ca_renew_prepare(f->acct, iss->cert, NULL, NULL,
	    NULL, "x2", &ren), DV_OK);
	assert_int_equal(commit(f, ren), DV_OK);
	assert_string_not_equal(ren->row.serial, iss->row.serial);
	assert_string_equal(ren->row.sans, iss->row.sans);
	assert_string_equal(ren->row.renewed_from, iss->row.serial);

	{
		X509 *peer = NULL;

		assert_int_equal(pki_cert_from_der(ren->der, ren->derlen, &peer),
		    DV_OK);
		pki_cert_free(ren->cert);
		ren->cert = peer;
	}
	/* rekey: same names, the new CSR's key */
	csr2 = make_csr("dev3.example.test", NULL, NULL);
	assert_int_equal(ca_renew_prepare(f->acct, ren->cert, NULL, NULL, csr2,
	    "x3", &rek), DV_OK);
	assert_int_equal(commit(f, rek), DV_OK);

	/* revoke by token: sub is the serial */
	free(tok);
	tok = mint(f, iss->row.serial, ra, dv_now(), NULL);
	memset(&r, 0, sizeof(r));
	r.serial = iss->row.serial;
	r.ott = tok;
	r.reason_code = 1;
	r.reason = "key compromise";
	r.passive = true;
	r.request_id = "x4";
	assert_int_equal(ca_revoke(f->acct, &r), DV_OK);
	/* twice: refused */
	free(tok);
	tok = mint(f, iss->row.serial, ra, dv_now(), NULL);
	r.ott = tok;
	assert_int_equal(ca_revoke(f->acct, &r), DV_ERR_ALREADY_REVOKED);
	assert_int_equal(store_cert_get(f->ca->store, iss->row.serial, &row),
	    DV_OK);
	assert_true(row->revoked);
	assert_int_equal(row->reason_code, 1);
	store_cert_free(row);

	/* a revoked certificate does not renew */
	{
		struct ca_issue *no = NULL;

		assert_int_equal(ca_renew_prepare(f->acct, iss->cert, NULL,
		    NULL, NULL, "x5", &no), DV_ERR_REVOKED);
		assert_null(no);
	}
	/* revoke yourself with mTLS: the renewed certificate */
	memset(&r, 0, sizeof(r));
	r.serial = ren->row.serial;
	r.passive = true;
	r.peer = ren->cert;
	r.request_id = "x6";
	assert_int_equal(ca_revoke(f->acct, &r), DV_OK);
	/* mTLS may not revoke somebody else */
	r.serial = rek->row.serial;
	r.peer = iss->cert;
	assert_int_not_equal(ca_revoke(f->acct, &r), DV_OK);

	/* the CRL lists both */
	assert_int_equal(ca_crl_get(f->acct, &crl, &crllen, &next), DV_OK);
	assert_true(crllen > 100);
	assert_true(next > dv_now());
	{
		char path[128], cmd[512];
		FILE *fp;
		char line[256];
		int found = 0;

		snprintf(path, sizeof(path), "%s/crl.der", f->dir);
		assert_int_equal(file_write(path, crl, crllen, 0644), DV_OK);
		snprintf(cmd, sizeof(cmd), "openssl crl -inform DER -in %s "
		    "-noout -text -CAfile %s/certs/account-intermediate.crt "
		    "2>&1", path, f->datadir);
		fp = popen(cmd, "r");
		assert_non_null(fp);
		while (fgets(line, sizeof(line), fp) != NULL)
			if (strstr(line, "Serial Number:") != NULL)
				found++;
		pclose(fp);
		assert_int_equal(found, 2);
	}
	free(crl);
	ca_issue_free(iss);
	ca_issue_free(ren);
	ca_issue_free(rek);
	free(tok);
	free(csr);
	free(csr2);
	free(a);
	free(ra);
}

static void
test_tls_cert(void **state)
{
	struct fx *f = *state;
	char *chain = NULL, *key = NULL;
	time_t na;

	assert_int_equal(ca_tls_issue(f->ca, &chain, &key, &na), DV_OK);
	assert_non_null(strstr(chain, "BEGIN CERTIFICATE"));
	assert_non_null(strstr(key, "PRIVATE KEY"));
	assert_true(na > dv_now() + 3600);
	free(chain);
	free(key);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sign_and_replay),
		cmocka_unit_test(test_sign_refusals),
		cmocka_unit_test(test_renew_rekey_revoke),
		cmocka_unit_test(test_tls_cert),
	};

	log_init(LOG_ERR, 2);
	if (pki_init() != DV_OK)
		return 1;
	return cmocka_run_group_tests(tests, setup, teardown);
}
