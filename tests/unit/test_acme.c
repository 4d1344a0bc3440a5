/*
 * test_acme.c - the ACME state machine (src/acme) without HTTP: requests
 * built as struct acme_req against a real data folder and store, the
 * validation outcome injected with acme_chall_result() (the validator
 * threads' only way to change state), and two finalizes of one order
 * racing on two threads.  The wire side is covered by the e2e scenarios
 * (t_acme_protocol.sh and the real clients).
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "acme/acme.h"
#include "acme/acme_int.h"	/* acme_chall_result, acme_order_load */
#include "jws/jws.h"

#include <jose/jose.h>

struct fx {
	char		 dir[64];
	char		*datadir;
	struct ca	*ca;
	struct ca_authority *agent;
	struct prov	*prov;
	json_t		*key;		/* private JWK, no kid */
	char		*kid;		/* account URL */
};

#define BASE	"https://127.0.0.1:18443/t/default/agent/acme/acme"

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
	assert_int_equal(r.status, 200);
	assert_non_null(r.nonce);
	n = xstrdup(r.nonce);
	acme_resp_clear(&r);
	return n;
}

/* A flattened JWS of payload (NULL: empty, POST-as-GET) for rest, signed
 * by key with libjose (an independent signer); with kid or (kid NULL) the
 * public jwk; nonce NULL: a fresh one. */
static char *
flat(struct fx *f, const json_t *key, const char *kid, const char *rest,
    const json_t *payload, const char *nonce)
{
	json_t *hdr, *jws, *sig;
	char *url = xasprintf("%s%s", BASE, rest), *n, *out, *pl = NULL;
	char *b64 = NULL;

	n = nonce != NULL ? xstrdup(nonce) : get_nonce(f);
	hdr = json_pack("{s:s,s:s,s:s}", "alg", "ES256", "nonce", n, "url",
	    url);
	if (kid != NULL)
		json_object_set_new(hdr, "kid", json_string(kid));
	else
		json_object_set_new(hdr, "jwk", jws_jwk_public(key));
	if (payload != NULL) {
		pl = json_dumps(payload, JSON_COMPACT);
		b64 = jws_b64url_encode((const uint8_t *)pl, strlen(pl));
	}
	jws = json_pack("{s:s}", "payload", b64 != NULL ? b64 : "");
	sig = json_pack("{s:O}", "protected", hdr);
	assert_true(jose_jws_sig(NULL, jws, sig, key));
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

/* POSTs body to rest; *r must be cleared by the caller. */
static void
post(struct fx *f, const char *rest, const char *body, struct acme_resp *r)
{
	struct acme_req q;

	req_init(f, &q, true, rest);
	q.body = (const uint8_t *)body;
	q.len = strlen(body);
	acme_handle(&q, r);
	assert_non_null(r->nonce);	/* §6.5: on every answer */
}

static const char *
ptype(const struct acme_resp *r)
{
	return r->problem ? json_get_str(r->json, "type") : "";
}

static json_t *
new_key(void)
{
	json_t *k = NULL;

	assert_int_equal(jws_jwk_generate("ES256", &k), DV_OK);
	json_object_del(k, "kid");
	return k;
}

static int
setup(void **state)
{
	struct fx *f = xcalloc(1, sizeof(*f));
	struct ca_init_opts o;
	struct acme_resp r;
	json_t *sum = NULL, *pl;
	char *b;

	strcpy(f->dir, "/tmp/devid-acme-XXXXXX");
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
	assert_non_null(f->agent);
	/* devid-ca init gives the agent authority its "acme" provisioner */
	f->prov = prov_set_find(f->agent->provs, "acme");
	assert_non_null(f->prov);
	assert_int_equal(prov_get_type(f->prov), PROV_ACME);

	f->key = new_key();
	pl = json_pack("{s:b}", "termsOfServiceAgreed", 1);
	b = flat(f, f->key, NULL, "/new-account", pl, NULL);
	post(f, "/new-account", b, &r);
	assert_int_equal(r.status, 201);
	assert_non_null(r.location);
	f->kid = xstrdup(r.location);
	acme_resp_clear(&r);
	free(b);
	json_decref(pl);
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
	cmd = xasprintf("rm -rf '%s'", f->dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	free(f->datadir);
	free(f);
	return 0;
}

static void
test_errors(void **state)
{
	int e;

	(void)state;
	for (e = ACME_ERR_MALFORMED; e < ACME_ERR__MAX; e++) {
		const struct acme_err_info *i = acme_err_info(e);

		assert_non_null(i->type);
		assert_int_equal(strncmp(i->type,
		    "urn:ietf:params:acme:error:", 27), 0);
		assert_true(i->status >= 400 && i->status < 600);
	}
	assert_int_equal(acme_err_info(ACME_ERR__MAX)->status, 500);
	assert_string_equal(acme_err_info(ACME_ERR_BAD_NONCE)->type,
	    "urn:ietf:params:acme:error:badNonce");
	assert_int_equal(acme_err_info(ACME_ERR_ORDER_NOT_READY)->status, 403);
}

static void
test_flat_parse(void **state)
{
	struct jws_flat *f = NULL;
	static const char *const bad[] = {
		"{\"protected\":\"e30\",\"payload\":\"\"}",
		"{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\","
		    "\"header\":{}}",
		/* {} has no alg */
		"{\"protected\":\"e30\",\"payload\":\"\",\"signature\":\"AA\"}",
		/* {"alg":"ES256","crit":["x"]} */
		"{\"protected\":\"eyJhbGciOiJFUzI1NiIsImNyaXQiOlsieCJdfQ\","
		    "\"payload\":\"\",\"signature\":\"AA\"}",
		"{\"protected\":\"e30=\",\"payload\":\"\",\"signature\":\"AA\"}",
		"[]",
	};
	const char *good = "{\"protected\":\"eyJhbGciOiJFUzI1NiJ9\","
	    "\"payload\":\"\",\"signature\":\"AAAA\"}";
	char *big;
	size_t i;

	(void)state;
	assert_int_equal(jws_flat_parse((const uint8_t *)good, strlen(good),
	    &f), DV_OK);
	assert_string_equal(json_get_str(f->header, "alg"), "ES256");
	assert_int_equal(f->payloadlen, 0);
	assert_string_equal(f->input, "eyJhbGciOiJFUzI1NiJ9.");
	assert_int_equal(f->siglen, 3);
	jws_flat_free(f);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		f = (struct jws_flat *)1;
		assert_int_equal(jws_flat_parse((const uint8_t *)bad[i],
		    strlen(bad[i]), &f), DV_ERR_MALFORMED);
		assert_null(f);
	}
	big = xcalloc(1, DV_MAX_TOKEN + 2);
	memset(big, ' ', DV_MAX_TOKEN + 1);
	assert_int_equal(jws_flat_parse((const uint8_t *)big, DV_MAX_TOKEN + 1,
	    &f), DV_ERR_TOO_LARGE);
	free(big);
	assert_true(jws_alg_accepted("EdDSA"));
	assert_false(jws_alg_accepted("HS256"));
	assert_false(jws_alg_accepted("none"));
}

static void
test_nonces(void **state)
{
	struct fx *f = *state;
	struct acme_resp r;
	char *n = get_nonce(f), *b;

	/* the same nonce twice on the account resource: the second fails */
	b = flat(f, f->key, f->kid, f->kid + strlen(BASE), NULL, n);
	post(f, f->kid + strlen(BASE), b, &r);
	assert_int_equal(r.status, 200);
	assert_string_not_equal(r.nonce, n);
	acme_resp_clear(&r);
	post(f, f->kid + strlen(BASE), b, &r);
	assert_string_equal(ptype(&r), "urn:ietf:params:acme:error:badNonce");
	acme_resp_clear(&r);
	free(b);
	free(n);
}

struct race {
	struct fx	*f;
	const char	*rest;
	char		*body;
	struct acme_req	 q;
	struct acme_resp r;
};

static void *
race_main(void *arg)
{
	struct race *x = arg;

	req_init(x->f, &x->q, true, x->rest);
	x->q.body = (const uint8_t *)x->body;
	x->q.len = strlen(x->body);
	acme_handle(&x->q, &x->r);
	return NULL;
}

struct wait {
	pthread_mutex_t	 m;
	pthread_cond_t	 c;
	bool		 done;
};

static void
stored(void *arg, enum dv_rc rc)
{
	struct wait *w = arg;

	(void)rc;
	pthread_mutex_lock(&w->m);
	w->done = true;
	pthread_cond_signal(&w->c);
	pthread_mutex_unlock(&w->m);
}

/* Test-only: puts challenge id in "processing", as a started one is. */
static enum dv_rc
processing_tx(struct store_tx *tx, void *arg)
{
	struct store_acme_chall c;
	enum dv_rc rc;

	if ((rc = store_acme_chall_get(tx, arg, &c)) != DV_OK)
		return rc;
	free(c.status);
	c.status = xstrdup("processing");
	rc = store_acme_chall_update(tx, &c);
	store_acme_chall_clear(&c);
	return rc;
}

/* newOrder for name; *oid (new) its id, *cid (new) its challenge's. */
static void
order_new(struct fx *f, const char *name, char **oid, char **cid)
{
	struct acme_resp r;
	json_t *pl;
	char *b, *ar;
	const char *u;

	pl = json_pack("{s:[{s:s,s:s}]}", "identifiers", "type", "dns",
	    "value", name);
	b = flat(f, f->key, f->kid, "/new-order", pl, NULL);
	post(f, "/new-order", b, &r);
	assert_int_equal(r.status, 201);
	assert_string_equal(json_get_str(r.json, "status"), "pending");
	*oid = xstrdup(strrchr(r.location, '/') + 1);
	u = json_string_value(json_array_get(json_object_get(r.json,
	    "authorizations"), 0));
	ar = xstrdup(u + strlen(BASE));
	acme_resp_clear(&r);
	free(b);
	b = flat(f, f->key, f->kid, ar, NULL, NULL);
	post(f, ar, b, &r);
	assert_int_equal(r.status, 200);
	u = json_get_str(json_array_get(json_object_get(r.json, "challenges"),
	    0), "url");
	assert_string_equal(json_get_str(json_array_get(json_object_get(
	    r.json, "challenges"), 0), "type"), "http-01");
	*cid = xstrdup(strrchr(u, '/') + 1);
	acme_resp_clear(&r);
	free(b);
	free(ar);
	json_decref(pl);
}

static const char *
order_status(struct fx *f, const char *oid, char *buf, size_t len)
{
	struct store_acme_order o;
	struct store_acme_authz *z = NULL;
	size_t n = 0;

	assert_int_equal(acme_order_load(f->ca->store, oid, &o, &z, &n),
	    DV_OK);
	snprintf(buf, len, "%s", o.status);
	store_acme_order_clear(&o);
	store_acme_authzs_free(z, n);
	return buf;
}

static char *
csr_b64(const char *name, EVP_PKEY **k)
{
	struct pki_sans sans = { 0 };
	struct pki_csr *csr = NULL;
	char *pem = NULL, *b64;

	assert_int_equal(pki_key_generate(PKI_KEY_P256, k), DV_OK);
	assert_int_equal(pki_sans_add(&sans, PKI_SAN_DNS, name), DV_OK);
	assert_int_equal(pki_csr_make(*k, name, &sans, &pem), DV_OK);
	assert_int_equal(pki_csr_parse((const uint8_t *)pem, strlen(pem),
	    false, &csr), DV_OK);
	b64 = jws_b64url_encode(csr->der, csr->derlen);
	pki_csr_free(csr);
	pki_sans_clear(&sans);
	free(pem);
	return b64;
}

static void
test_order_flow(void **state)
{
	struct fx *f = *state;
	struct acme_resp r;
	struct race x[2];
	struct wait w = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, false };
	pthread_t t[2];
	EVP_PKEY *k = NULL;
	json_t *csr;
	char *b, *oid, *cid, *fin, *b64, *cr, st[32];
	int i, winner = -1, losers = 0;

	order_new(f, "unit.test", &oid, &cid);
	fin = xasprintf("/order/%s/finalize", oid);
	b64 = csr_b64("unit.test", &k);
	csr = json_pack("{s:s}", "csr", b64);

	/* §7.4: not ready yet */
	b = flat(f, f->key, f->kid, fin, csr, NULL);
	post(f, fin, b, &r);
	assert_int_equal(r.status, 403);
	assert_string_equal(ptype(&r),
	    "urn:ietf:params:acme:error:orderNotReady");
	assert_null(r.iss);
	acme_resp_clear(&r);
	free(b);

	/* a verdict for a challenge nobody started changes nothing */
	assert_int_equal(acme_chall_result(f->ca->store, cid, true, NULL),
	    DV_OK);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "pending");
	/* started, then valid: authorization valid, order ready */
	assert_int_equal(store_write(f->ca->store, processing_tx, cid),
	    DV_OK);
	assert_int_equal(acme_chall_result(f->ca->store, cid, true, NULL),
	    DV_OK);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "ready");
	/* a late second verdict does not undo it */
	assert_int_equal(acme_chall_result(f->ca->store, cid, false, NULL),
	    DV_OK);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "ready");

	/* two finalizes at once: one signs, the other is refused */
	for (i = 0; i < 2; i++) {
		memset(&x[i], 0, sizeof(x[i]));
		x[i].f = f;
		x[i].rest = fin;
		x[i].body = flat(f, f->key, f->kid, fin, csr, NULL);
	}
	for (i = 0; i < 2; i++)
		assert_int_equal(pthread_create(&t[i], NULL, race_main, &x[i]),
		    0);
	for (i = 0; i < 2; i++)
		pthread_join(t[i], NULL);
	for (i = 0; i < 2; i++) {
		if (x[i].r.iss != NULL) {
			assert_int_equal(winner, -1);
			winner = i;
		} else {
			assert_string_equal(ptype(&x[i].r),
			    "urn:ietf:params:acme:error:orderNotReady");
			losers++;
		}
	}
	assert_int_not_equal(winner, -1);
	assert_int_equal(losers, 1);
	assert_string_equal(order_status(f, oid, st, sizeof(st)),
	    "processing");

	/* stored durably, then the order names the certificate */
	ca_commit_submit(f->ca, x[winner].r.iss, stored, &w);
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
	acme_finalize_done(&x[winner].q, &x[winner].r,
	    x[winner].r.iss->rc);
	assert_int_equal(x[winner].r.status, 200);
	assert_string_equal(json_get_str(x[winner].r.json, "status"),
	    "valid");
	cr = xstrdup(json_get_str(x[winner].r.json, "certificate") +
	    strlen(BASE));
	for (i = 0; i < 2; i++) {
		acme_resp_clear(&x[i].r);
		free(x[i].body);
	}

	/* the PEM chain: leaf and intermediate */
	b = flat(f, f->key, f->kid, cr, NULL, NULL);
	post(f, cr, b, &r);
	assert_int_equal(r.status, 200);
	assert_non_null(r.pem);
	assert_non_null(strstr(strstr(r.pem, "BEGIN CERTIFICATE") + 1,
	    "BEGIN CERTIFICATE"));
	acme_resp_clear(&r);
	free(b);

	/* and finalize again: the order is valid, not ready */
	b = flat(f, f->key, f->kid, fin, csr, NULL);
	post(f, fin, b, &r);
	assert_string_equal(ptype(&r),
	    "urn:ietf:params:acme:error:orderNotReady");
	acme_resp_clear(&r);
	free(b);

	json_decref(csr);
	pki_key_free(k);
	free(b64);
	free(cr);
	free(oid);
	free(cid);
	free(fin);
}

/* With no validator thread, a started challenge fails at once and takes
 * its authorization and order with it. */
static void
test_no_validator(void **state)
{
	struct fx *f = *state;
	struct acme_resp r;
	json_t *empty = json_object();
	char *oid, *cid, *cr, *b, st[32];

	order_new(f, "novalidator.test", &oid, &cid);
	cr = xasprintf("/chall/%s", cid);
	b = flat(f, f->key, f->kid, cr, empty, NULL);
	post(f, cr, b, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.nlinks, 2);	/* up, index */
	acme_resp_clear(&r);
	free(b);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "invalid");
	b = flat(f, f->key, f->kid, cr, NULL, NULL);
	post(f, cr, b, &r);
	assert_string_equal(json_get_str(r.json, "status"), "invalid");
	assert_string_equal(json_get_str(json_object_get(r.json, "error"),
	    "type"), "urn:ietf:params:acme:error:serverInternal");
	acme_resp_clear(&r);
	free(b);
	json_decref(empty);
	free(cr);
	free(oid);
	free(cid);
}

/* newOrder for name, made ready; *oid (new) the order id. */
static void
order_ready(struct fx *f, const char *name, char **oid)
{
	char *cid, st[32];

	order_new(f, name, oid, &cid);
	assert_int_equal(store_write(f->ca->store, processing_tx, cid),
	    DV_OK);
	assert_int_equal(acme_chall_result(f->ca->store, cid, true, NULL),
	    DV_OK);
	assert_string_equal(order_status(f, *oid, st, sizeof(st)), "ready");
	free(cid);
}

/* Finalizes order oid for name: r holds the signed, unstored certificate
 * and *serial (new) its serial; the order is processing. */
static void
finalize_signed(struct fx *f, const char *name, const char *oid,
    struct acme_req *q, struct acme_resp *r, char **serial)
{
	EVP_PKEY *k = NULL;
	json_t *csr;
	char *fin, *b, *b64, st[32];

	fin = xasprintf("/order/%s/finalize", oid);
	b64 = csr_b64(name, &k);
	csr = json_pack("{s:s}", "csr", b64);
	b = flat(f, f->key, f->kid, fin, csr, NULL);
	req_init(f, q, true, xstrdup(fin));
	q->body = (const uint8_t *)b;
	q->len = strlen(b);
	acme_handle(q, r);
	assert_non_null(r->iss);
	*serial = xstrdup(r->iss->row.serial);
	assert_string_equal(order_status(f, oid, st, sizeof(st)),
	    "processing");
	json_decref(csr);
	pki_key_free(k);
	free(b64);
	free(fin);
	/* q->body (b) and q->rest are freed by finalize_end */
}

static void
finalize_end(struct acme_req *q, struct acme_resp *r)
{
	acme_resp_clear(r);
	free((char *)q->body);
	free((char *)q->rest);
}

static void
commit_wait(struct fx *f, struct ca_issue *iss)
{
	struct wait w = { PTHREAD_MUTEX_INITIALIZER,
	    PTHREAD_COND_INITIALIZER, false };

	ca_commit_submit(f->ca, iss, stored, &w);
	pthread_mutex_lock(&w.m);
	while (!w.done)
		pthread_cond_wait(&w.c, &w.m);
	pthread_mutex_unlock(&w.m);
}

static bool
cert_stored(struct fx *f, const char *serial)
{
	struct store_cert *c = NULL;
	bool ok = store_cert_get(f->ca->store, serial, &c) == DV_OK;

	store_cert_free(c);
	return ok;
}

/*
 * The certificate and the order's valid state are one transaction: the
 * order is valid as soon as the certificate is durable (before
 * acme_finalize_done); an order that is no longer processing makes the
 * certificate's commit fail whole; a restart (acme_recover) makes an
 * order left processing invalid, or valid when its certificate is stored.
 */
static void
test_finalize_atomic(void **state)
{
	struct fx *f = *state;
	struct acme_req q;
	struct acme_resp r;
	struct store_issue op;
	char *oid, *serial, st[32];
	unsigned valid, invalid;

	/* 1. one transaction: valid with the certificate */
	order_ready(f, "atomic.test", &oid);
	finalize_signed(f, "atomic.test", oid, &q, &r, &serial);
	assert_false(cert_stored(f, serial));
	commit_wait(f, r.iss);
	assert_int_equal(r.iss->rc, DV_OK);
	assert_true(cert_stored(f, serial));
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "valid");
	acme_finalize_done(&q, &r, r.iss->rc);
	assert_int_equal(r.status, 200);
	assert_string_equal(json_get_str(r.json, "status"), "valid");
	assert_non_null(json_get_str(r.json, "certificate"));
	finalize_end(&q, &r);
	free(oid);
	free(serial);

	/* 2. a stop before the commit: recovered invalid; the late commit
	 * of the certificate then fails whole (no row without its order) */
	order_ready(f, "crash.test", &oid);
	finalize_signed(f, "crash.test", oid, &q, &r, &serial);
	assert_int_equal(acme_recover(f->ca->store, &valid, &invalid), DV_OK);
	assert_int_equal(valid, 0);
	assert_int_equal(invalid, 1);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "invalid");
	commit_wait(f, r.iss);
	assert_int_not_equal(r.iss->rc, DV_OK);
	assert_false(cert_stored(f, serial));
	acme_finalize_done(&q, &r, r.iss->rc);
	assert_string_equal(json_get_str(r.json, "type"),
	    "urn:ietf:params:acme:error:serverInternal");
	finalize_end(&q, &r);
	free(oid);
	free(serial);

	/* 3. a certificate stored without its order update (a store
	 * without the combined transaction): recovered valid */
	order_ready(f, "stored.test", &oid);
	finalize_signed(f, "stored.test", oid, &q, &r, &serial);
	memset(&op, 0, sizeof(op));
	op.cert = &r.iss->row;
	op.audit = &r.iss->audit;
	/* signed by the committer, as ca_commit_submit has it */
	assert_non_null(r.iss->tbs);
	op.presign = &r.iss->presign;
	assert_int_equal(store_issue(f->ca->store, &op), DV_OK);
	assert_string_equal(order_status(f, oid, st, sizeof(st)),
	    "processing");
	assert_int_equal(acme_recover(f->ca->store, &valid, &invalid), DV_OK);
	assert_int_equal(valid, 1);
	assert_int_equal(invalid, 0);
	assert_string_equal(order_status(f, oid, st, sizeof(st)), "valid");
	/* nothing left to recover */
	assert_int_equal(acme_recover(f->ca->store, &valid, &invalid), DV_OK);
	assert_int_equal(valid + invalid, 0);
	finalize_end(&q, &r);
	free(oid);
	free(serial);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_flat_parse),
		cmocka_unit_test_setup_teardown(test_nonces, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_flow, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_no_validator, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_finalize_atomic, setup,
		    teardown),
	};

	log_init(LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	return cmocka_run_group_tests(tests, NULL, NULL);
}
