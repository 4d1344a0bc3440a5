/*
 * test_inventory.c - the device inventory over a real SQLite store in a
 * fresh directory under /tmp: identifiers of every type (the EK URN known
 * answer of spec/attestation.md §2.5, real EK certificates of
 * ${DEVID_SHARED}/data/ek-certs), duplicates, patch, list filters and
 * cursor paging, import (CSV, JSONL, upsert), MDM apply, collections,
 * retire, admin tokens and the audit chain (tampered with through SQLite).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <dirent.h>
#include <fcntl.h>
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "inventory/inv.h"
#include "inventory/inv_int.h"
#include "pki/pki.h"

#define TEAM	"default"

/* go-tpm legacy/tpm2/credactivation test RSA EK (spec §14.1). */
static const char ek_rsa_pem[] =
    "-----BEGIN PUBLIC KEY-----\n"
    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArIqmuAvuIcakIEPd2hZl\n"
    "avob21ehQ7zaHduJQNbNuKVSc1HTlvw9DkWN03b0SktcRIfsjw/omqPl60RhCx0j\n"
    "qxsYnf5Gk4jhfCnUeQVicAqHnUGrKjMkLIGTZVOpyqBEXHsdhugw6M5HVIKyfwNO\n"
    "KhvLZKRH8JkvtElVhLQ6E2+H83XoSpkt9oCnGPyN2Z5qRP+fhQiRylMCD8Rz8ABn\n"
    "YVqGBBrG+2cBt/0uFLjxHx2mm/4sI/1scG5xrcrDLva9WZB40MehW5VlS6Fwqq05\n"
    "dKtLGpk7ludjH38m2zhM5/UdKZ34skJaS/Aiyj+P5AT1BpJL2ZtjCbBdnMDUSbRF\n"
    "1QIDAQAB\n"
    "-----END PUBLIC KEY-----\n";
static const char ek_rsa_urn[] =
    "urn:ek:sha256:b3A5sfcHCEIsggeqR2BUSWfJSbNT++q/4ghmBNZt7ew=";

struct fixture {
	char		 dir[64];
	char		 path[128];
	struct store	*st;
	struct inv	*inv;
};

static const struct inv_actor actor = { "token:test", "req-1" };

static int
setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_inventory.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/devid.db", f->dir);
	if (store_open(f->path, &f->st) != DV_OK)
		return -1;
	if (inv_open(f->st, &f->inv) != DV_OK)
		return -1;
	*state = f;
	return 0;
}

static int
teardown(void **state)
{
	struct fixture *f = *state;
	char p[160];

	inv_free(f->inv);
	store_close(f->st);
	snprintf(p, sizeof(p), "%s", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-shm", f->path);
	unlink(p);
	/* the volatile database beside it (store_write_volatile) */
	snprintf(p, sizeof(p), "%s-volatile", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-volatile-wal", f->path);
	unlink(p);
	snprintf(p, sizeof(p), "%s-volatile-shm", f->path);
	unlink(p);
	rmdir(f->dir);
	free(f);
	return 0;
}

static void
sql_exec(const char *path, const char *sql)
{
	sqlite3 *db;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, sql, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);
}

static long long
sql_int(const char *path, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	long long v = -1;

	assert_int_equal(sqlite3_open(path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL),
	    SQLITE_OK);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return v;
}

/* Reads ${DEVID_SHARED}/data/<rel> (or ../shared from the source tree). */
static uint8_t *
shared_file(const char *rel, size_t *len)
{
	const char *base = getenv("DEVID_SHARED");
	uint8_t *data = NULL;
	char path[512];

	snprintf(path, sizeof(path), "%s/data/%s",
	    base != NULL ? base : "/work/shared", rel);
	assert_int_equal(file_read(path, 1 << 20, &data, len), DV_OK);
	return data;
}

/* The body of the PEM ek_rsa_pem, i.e. base64 of its DER, one line. */
static char *
pem_body(const char *pem)
{
	const char *p = strchr(pem, '\n') + 1, *e = strstr(pem, "-----END");
	char *s = xmalloc((size_t)(e - p) + 1);
	size_t n = 0;

	for (; p < e; p++)
		if (*p != '\n')
			s[n++] = *p;
	s[n] = '\0';
	return s;
}

/* Adds {name, identifiers: [{type, value}]} and returns the new id. */
static char *
add_dev(struct fixture *f, const char *name, const char *type,
    const char *value, enum dv_rc want, char **detail_out)
{
	json_t *body, *out = NULL;
	char *detail = NULL, *id = NULL;
	enum dv_rc rc;

	body = json_pack("{s:s,s:s,s:s,s:s,s:[{s:s,s:s}]}", "name", name,
	    "owner", "alice@Example.com", "os", "linux", "kind", "laptop",
	    "identifiers", "type", type, "value", value);
	rc = inv_device_add(f->inv, TEAM, body, &actor, &out, &detail);
	if (rc != want)
		fprintf(stderr, "add %s: %d (%s)\n", name, rc,
		    detail != NULL ? detail : "");
	assert_int_equal(rc, want);
	if (rc == DV_OK) {
		id = xstrdup(json_string_value(json_object_get(out, "id")));
		assert_non_null(id);
		assert_int_equal(strlen(id), 4 + 26);
		assert_true(strncmp(id, "dev_", 4) == 0);
	}
	if (detail_out != NULL)
		*detail_out = detail;
	else
		free(detail);
	json_decref(out);
	json_decref(body);
	return id;
}

static const json_t *
first_ident(const json_t *dev)
{
	return json_array_get(json_object_get(dev, "identifiers"), 0);
}

static const json_t *
ident_of(const json_t *dev, const char *type)
{
	const json_t *i;
	size_t k;

	json_array_foreach(json_object_get(dev, "identifiers"), k, i)
		if (strcmp(json_string_value(json_object_get(i, "type")),
		    type) == 0)
			return i;
	return NULL;
}

/* ---- identifiers ---------------------------------------------------- */

static void
test_ek_urn_known_answer(void **state)
{
	char *urn = NULL, *b64;
	uint8_t *der = NULL;
	size_t len;

	(void)state;
	assert_int_equal(pki_ek_pub_urn((const uint8_t *)ek_rsa_pem,
	    strlen(ek_rsa_pem), false, &urn), DV_OK);
	assert_string_equal(urn, ek_rsa_urn);
	free(urn);
	b64 = pem_body(ek_rsa_pem);
	assert_int_equal(pki_b64_decode(b64, strlen(b64), &der, &len), DV_OK);
	assert_int_equal(pki_ek_pub_urn(der, len, true, &urn), DV_OK);
	assert_string_equal(urn, ek_rsa_urn);
	assert_true(pki_ek_urn_valid(ek_rsa_urn));
	assert_false(pki_ek_urn_valid("urn:ek:sha256:AAAA"));
	assert_false(pki_ek_urn_valid("urn:ek:sha1:b3A5sfcHCEIsggeqR2BUSWfJSbN"
	    "T++q/4ghmBNZt7ew="));
	free(urn);
	free(der);
	free(b64);
}

struct ek_case {
	const char	*file;
	bool		 der;
	const char	*mfr;
	const char	*model;
	const char	*version;
};

static const struct ek_case ek_cases[] = {
	{ "ek-certs/nuvoton/nuvoton_ek_devicecert.cer", true, "id:4E544300",
	    "NPCT75x", "id:00070002" },
	{ "ek-certs/stm/stm_ecc_ek.der", true, "id:53544D20", "ST33HTPHAHB4",
	    "id:00490004" },
	/* 1169 bytes of certificate, 431 bytes of 0xff NV padding */
	{ "ek-certs/stm/stm_rsa_ek_with_trailing_ff.der", true, "id:53544D20",
	    "ST33HTPHAHB4", "id:00490004" },
	{ "ek-certs/gce-vtpm/uca_tpm_rsa_sign_cert.pem", false, "id:474F4F47",
	    "vTPM", "id:20160511" },
	/* a vTPM EK certificate without SAN: no TPM details */
	{ "ek-certs/gce-vtpm/pca_tpm_ecc_enc_cert.pem", false, NULL, NULL,
	    NULL },
};

static void
test_ek_cert_parse(void **state)
{
	struct pki_ek_cert ek;
	uint8_t *data;
	size_t len, i;

	(void)state;
	for (i = 0; i < sizeof(ek_cases) / sizeof(ek_cases[0]); i++) {
		data = shared_file(ek_cases[i].file, &len);
		assert_int_equal(pki_ek_cert_parse(data, len, ek_cases[i].der,
		    &ek), DV_OK);
		assert_true(pki_ek_urn_valid(ek.urn));
		assert_true(strncmp(ek.pem, "-----BEGIN CERTIFICATE-----",
		    27) == 0);
		if (ek_cases[i].mfr == NULL) {
			assert_null(ek.manufacturer);
			assert_null(ek.model);
			assert_null(ek.version);
		} else {
			assert_string_equal(ek.manufacturer, ek_cases[i].mfr);
			assert_string_equal(ek.model, ek_cases[i].model);
			assert_string_equal(ek.version, ek_cases[i].version);
		}
		pki_ek_cert_clear(&ek);
		free(data);
	}
	/* garbage and a public key are not certificates */
	assert_int_equal(pki_ek_cert_parse((const uint8_t *)"\x30\x03\x02\x01"
	    "\x01", 5, true, &ek), DV_ERR_MALFORMED);
	assert_int_equal(pki_ek_cert_parse((const uint8_t *)ek_rsa_pem,
	    strlen(ek_rsa_pem), false, &ek), DV_ERR_MALFORMED);
	assert_null(ek.urn);
}

/* The URN of an EK certificate's key is its own ek URN (ek vs ek-cert). */
static char *
ek_cert_b64(const char *file, char **urn)
{
	struct pki_ek_cert ek;
	uint8_t *data;
	char *b64 = NULL;
	size_t len;

	data = shared_file(file, &len);
	assert_int_equal(pki_ek_cert_parse(data, len, true, &ek), DV_OK);
	*urn = xstrdup(ek.urn);
	assert_int_equal(pki_b64_encode(data, len, &b64), DV_OK);
	pki_ek_cert_clear(&ek);
	free(data);
	return b64;
}

static void
test_add_identifier_types(void **state)
{
	struct fixture *f = *state;
	json_t *dev = NULL;
	const json_t *id;
	char *a, *b, *c, *d, *e, *g, *h, *b64, *urn, *detail = NULL;
	uint8_t *pem;
	size_t len;

	/* ek as PEM: stored as the URN of §2.5 */
	a = add_dev(f, "ek-pem", "ek", ek_rsa_pem, DV_OK, NULL);
	assert_int_equal(inv_device_get(f->inv, TEAM, a, &dev), DV_OK);
	id = first_ident(dev);
	assert_string_equal(json_string_value(json_object_get(id, "type")),
	    "ek");
	assert_string_equal(json_string_value(json_object_get(id, "value")),
	    ek_rsa_urn);
	assert_string_equal(json_string_value(json_object_get(dev, "status")),
	    "approved");
	assert_string_equal(json_string_value(json_object_get(dev, "source")),
	    "api");
	assert_true(json_is_null(json_object_get(dev, "lastSeenAt")));
	json_decref(dev);

	/* the same key as base64 DER, and as its URN: duplicates of a */
	b64 = pem_body(ek_rsa_pem);
	assert_null(add_dev(f, "ek-der", "ek", b64, DV_ERR_EXISTS, &detail));
	assert_non_null(strstr(detail, a));
	free(detail);
	assert_null(add_dev(f, "ek-urn", "ek", ek_rsa_urn, DV_ERR_EXISTS,
	    &detail));
	assert_non_null(strstr(detail, a));
	free(detail);
	free(b64);

	/* ek-cert (DER in base64) with its TPM details */
	b64 = ek_cert_b64("ek-certs/nuvoton/nuvoton_ek_devicecert.cer", &urn);
	b = add_dev(f, "ek-cert", "ek-cert", b64, DV_OK, NULL);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, urn, &dev),
	    DV_OK);
	assert_string_equal(json_string_value(json_object_get(dev, "id")), b);
	id = first_ident(dev);
	assert_string_equal(json_string_value(json_object_get(id, "type")),
	    "ek-cert");
	assert_string_equal(json_string_value(json_object_get(id,
	    "tpmManufacturer")), "id:4E544300");
	assert_string_equal(json_string_value(json_object_get(id,
	    "tpmModel")), "NPCT75x");
	assert_string_equal(json_string_value(json_object_get(id,
	    "tpmVersion")), "id:00070002");
	assert_non_null(json_string_value(json_object_get(id,
	    "certificate")));
	json_decref(dev);
	/* ek and ek-cert of one key collide */
	assert_null(add_dev(f, "ek-of-cert", "ek", urn, DV_ERR_EXISTS,
	    &detail));
	assert_non_null(strstr(detail, b));
	free(detail);
	free(urn);
	free(b64);

	/* ek-cert as PEM (a GCE vTPM) */
	pem = shared_file("ek-certs/gce-vtpm/uca_tpm_ecc_sign_cert.pem", &len);
	c = add_dev(f, "vtpm", "ek-cert", (char *)pem, DV_OK, NULL);
	free(pem);

	d = add_dev(f, "serial", "serial", "C02XK0AAJG5H", DV_OK, NULL);
	e = add_dev(f, "udid", "udid", "00006030-000651690a84001c", DV_OK,
	    NULL);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM,
	    "00006030-000651690A84001C", &dev), DV_OK);
	assert_string_equal(json_string_value(json_object_get(dev, "id")), e);
	json_decref(dev);
	g = add_dev(f, "yubikey", "yubikey-serial", "12345678", DV_OK, NULL);
	h = add_dev(f, "serial-dup", "serial", "C02XK0AAJG5H", DV_ERR_EXISTS,
	    &detail);
	assert_null(h);
	assert_non_null(strstr(detail, d));
	free(detail);

	/* refused inputs */
	assert_null(add_dev(f, "x", "ek", "not base64 !", DV_ERR_MALFORMED,
	    NULL));
	assert_null(add_dev(f, "x", "ek-cert", ek_rsa_pem, DV_ERR_MALFORMED,
	    NULL));
	assert_null(add_dev(f, "x", "tpm", "1", DV_ERR_MALFORMED, NULL));
	assert_null(add_dev(f, "x", "yubikey-serial", "12a", DV_ERR_MALFORMED,
	    NULL));
	assert_null(add_dev(f, "x", "serial", "a\nb", DV_ERR_MALFORMED,
	    NULL));
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "nothing",
	    &dev), DV_ERR_NOT_FOUND);
	assert_int_equal(inv_device_by_identifier(f->inv, "other", d, &dev),
	    DV_ERR_NOT_FOUND);
	free(a);
	free(b);
	free(c);
	free(d);
	free(e);
	free(g);
}

static void
test_add_refusals(void **state)
{
	struct fixture *f = *state;
	json_t *body, *out = NULL;
	char *detail = NULL;
	size_t i;
	const char *bad[] = {
		"{\"identifiers\":[{\"type\":\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\"}",
		"{\"name\":\"n\",\"identifiers\":[]}",
		"{\"name\":\"n\",\"x\":1,\"identifiers\":[{\"type\":\"serial\","
		    "\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"owner\":\"nobody\",\"identifiers\":[{\"type"
		    "\":\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"kind\":\"toaster\",\"identifiers\":[{\"type"
		    "\":\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"status\":\"retired\",\"identifiers\":[{"
		    "\"type\":\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"source\":\"mdm:\",\"identifiers\":[{\"type"
		    "\":\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"tags\":[1],\"identifiers\":[{\"type\":"
		    "\"serial\",\"value\":\"1\"}]}",
		"{\"name\":\"n\",\"identifiers\":[{\"type\":\"serial\","
		    "\"value\":\"1\",\"extra\":1}]}",
		/* the same identifier twice in one request */
		"{\"name\":\"n\",\"identifiers\":[{\"type\":\"serial\","
		    "\"value\":\"1\"},{\"type\":\"serial\",\"value\":\"1\"}]}",
	};

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		body = json_loads(bad[i], 0, NULL);
		assert_non_null(body);
		assert_int_not_equal(inv_device_add(f->inv, TEAM, body, &actor,
		    &out, &detail), DV_OK);
		assert_null(out);
		assert_non_null(detail);
		free(detail);
		json_decref(body);
	}
	/* no half device was left by the refused duplicate request */
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM devices"), 0);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM "
	    "device_identifiers"), 0);
	body = json_loads(bad[0], 0, NULL);
	assert_int_equal(inv_device_add(f->inv, "Bad Team", body, &actor,
	    &out, &detail), DV_ERR_NOT_FOUND);
	json_decref(body);
}

/* ---- tokens --------------------------------------------------------- */

static void
test_tokens(void **state)
{
	struct fixture *f = *state;
	struct inv_principal p;
	json_t *body, *meta = NULL, *list = NULL;
	char *secret = NULL, *boot = NULL, *detail = NULL, *id, *s2;
	json_t *m2;
	time_t now = time(NULL);

	assert_int_equal(inv_token_bootstrap(f->inv, TEAM, &boot), DV_OK);
	assert_true(strncmp(boot, "dvt_", 4) == 0);
	assert_int_equal(inv_token_auth(f->inv, boot, now, &p), DV_OK);
	assert_int_equal(p.role, INV_ROLE_OWNER);
	assert_string_equal(p.team, TEAM);
	inv_principal_clear(&p);

	body = json_pack("{s:s,s:s,s:s}", "name", "ci", "role", "mdm-sync",
	    "expiresIn", "1h");
	assert_int_equal(inv_token_create(f->inv, TEAM, body, &actor, &secret,
	    &meta, &detail), DV_OK);
	json_decref(body);
	id = xstrdup(json_string_value(json_object_get(meta, "id")));
	assert_string_equal(json_string_value(json_object_get(meta, "role")),
	    "mdm-sync");
	assert_non_null(strstr(secret, id));
	/* only the hash is stored */
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM api_tokens "
	    "WHERE length(hash) = 64"), 2);
	assert_int_equal(inv_token_auth(f->inv, secret, now, &p), DV_OK);
	assert_int_equal(p.role, INV_ROLE_MDM_SYNC);
	assert_string_equal(p.token_id, id);
	inv_principal_clear(&p);
	/* expired an hour later */
	assert_int_equal(inv_token_auth(f->inv, secret, now + 3601, &p),
	    DV_ERR_UNAUTHORIZED);
	assert_null(p.team);
	/* unknown, altered, not a token */
	secret[strlen(secret) - 1] ^= 1;
	assert_int_equal(inv_token_auth(f->inv, secret, now, &p),
	    DV_ERR_UNAUTHORIZED);
	secret[strlen(secret) - 1] ^= 1;
	assert_int_equal(inv_token_auth(f->inv, "Bearer x", now, &p),
	    DV_ERR_UNAUTHORIZED);
	assert_int_equal(inv_token_list(f->inv, TEAM, &list), DV_OK);
	assert_int_equal(json_array_size(json_object_get(list, "tokens")), 2);
	json_decref(list);
	/* revoked */
	assert_int_equal(inv_token_revoke(f->inv, TEAM, id, &actor), DV_OK);
	assert_int_equal(inv_token_revoke(f->inv, TEAM, id, &actor),
	    DV_ERR_ALREADY_REVOKED);
	assert_int_equal(inv_token_revoke(f->inv, TEAM, "nope", &actor),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(inv_token_revoke(f->inv, "other", id, &actor),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(inv_token_auth(f->inv, secret, now, &p),
	    DV_ERR_UNAUTHORIZED);
	/* bad bodies */
	body = json_pack("{s:s,s:s}", "name", "x", "role", "root");
	assert_int_equal(inv_token_create(f->inv, TEAM, body, &actor, &s2,
	    &m2, &detail), DV_ERR_MALFORMED);
	assert_null(s2);
	assert_null(m2);
	assert_non_null(detail);
	free(detail);
	json_decref(body);
	body = json_pack("{s:s,s:s,s:s}", "name", "x", "role", "viewer",
	    "expiresIn", "-1h");
	assert_int_equal(inv_token_create(f->inv, TEAM, body, &actor, &s2,
	    &m2, &detail), DV_ERR_MALFORMED);
	assert_null(s2);
	assert_null(m2);
	free(detail);
	json_decref(body);
	assert_string_equal(inv_role_name(INV_ROLE_ADMIN), "admin");
	json_decref(meta);
	free(secret);
	free(id);
	free(boot);
}

/* ---- list ----------------------------------------------------------- */

/* Device ids of later milliseconds sort after earlier ones (strcmp), across
 * every carry of the base32 digits: 150 ids, one every 1.5 ms.  With the
 * RFC 4648 alphabet ('z' < '2' in value, not in ASCII) this failed within
 * 32 ms, and test_list_paging failed when it crossed a second. */
static void
test_id_time_order(void **state)
{
	char *prev, *id;
	int i;

	(void)state;
	prev = inv_id_time("dev_");
	for (i = 0; i < 150; i++) {
		usleep(1500);
		id = inv_id_time("dev_");
		assert_int_equal(strlen(id), strlen(prev));
		assert_true(strcmp(prev, id) < 0);
		free(prev);
		prev = id;
	}
	free(prev);
}

static void
test_list_paging(void **state)
{
	struct fixture *f = *state;
	struct inv_query q = { 0 };
	json_t *page, *devs, *d;
	char serial[32], name[32], *id, *cursor = NULL, seen[40][31];
	size_t i, j, n = 0;

	for (i = 0; i < 37; i++) {
		snprintf(serial, sizeof(serial), "S%03zu", i);
		snprintf(name, sizeof(name), "dev-%zu", i);
		id = add_dev(f, name, "serial", serial, DV_OK, NULL);
		free(id);
	}
	q.limit = 10;
	for (;;) {
		q.cursor = cursor;
		assert_int_equal(inv_device_list(f->inv, TEAM, &q, &page),
		    DV_OK);
		devs = json_object_get(page, "devices");
		json_array_foreach(devs, i, d) {
			assert_true(n < 40);
			snprintf(seen[n], sizeof(seen[n]), "%s",
			    json_string_value(json_object_get(d, "id")));
			for (j = 0; j < n; j++)
				assert_string_not_equal(seen[j], seen[n]);
			n++;
		}
		free(cursor);
		cursor = xstrdup(json_string_value(json_object_get(page,
		    "nextCursor")));
		json_decref(page);
		if (cursor[0] == '\0')
			break;
	}
	free(cursor);
	assert_int_equal(n, 37);
	/* the order is (created_at, id) ascending: with ids that start with
	 * their creation time in milliseconds, id order */
	for (i = 1; i < n; i++)
		assert_true(strcmp(seen[i - 1], seen[i]) < 0);
	q.cursor = "!!";
	assert_int_equal(inv_device_list(f->inv, TEAM, &q, &page),
	    DV_ERR_MALFORMED);
	q.cursor = NULL;
	q.limit = DV_LIST_MAX + 1;
	assert_int_equal(inv_device_list(f->inv, TEAM, &q, &page),
	    DV_ERR_MALFORMED);
}

/* ---- patch ---------------------------------------------------------- */

static json_t *
patch(struct fixture *f, const char *id, const char *text, enum dv_rc want)
{
	json_t *body = json_loads(text, 0, NULL), *out = NULL;
	char *detail = NULL;
	enum dv_rc rc;

	assert_non_null(body);
	rc = inv_device_patch(f->inv, TEAM, id, body, &actor, &out, &detail);
	if (rc != want)
		fprintf(stderr, "patch %s: %d (%s)\n", text, rc,
		    detail != NULL ? detail : "");
	assert_int_equal(rc, want);
	if (rc != DV_OK)
		assert_null(out);
	free(detail);
	json_decref(body);
	return out;
}

static void
test_patch(void **state)
{
	struct fixture *f = *state;
	json_t *d;
	char *id, *other;

	id = add_dev(f, "p1", "serial", "P1", DV_OK, NULL);
	other = add_dev(f, "p2", "serial", "P2", DV_OK, NULL);
	d = patch(f, id, "{\"name\":\"renamed\",\"tags\":[\"finance\","
	    "\"eu\",\"eu\"],\"posture\":{\"disk\":\"encrypted\"},\"status\":"
	    "\"pending\",\"addIdentifiers\":[{\"type\":\"udid\",\"value\":"
	    "\"abcdef01\"}]}", DV_OK);
	assert_string_equal(json_string_value(json_object_get(d, "name")),
	    "renamed");
	assert_string_equal(json_string_value(json_object_get(d, "status")),
	    "pending");
	assert_int_equal(json_array_size(json_object_get(d, "tags")), 2);
	assert_string_equal(json_string_value(json_object_get(json_object_get(
	    d, "posture"), "disk")), "encrypted");
	assert_int_equal(json_array_size(json_object_get(d, "identifiers")),
	    2);
	json_decref(d);
	d = patch(f, id, "{\"status\":\"approved\",\"removeIdentifiers\":["
	    "\"P1\"]}", DV_OK);
	assert_int_equal(json_array_size(json_object_get(d, "identifiers")),
	    1);
	json_decref(d);
	/* refusals: unknown member, duplicate of another device, unknown
	 * identifier to remove, status retired, unknown device */
	patch(f, id, "{\"id\":\"x\"}", DV_ERR_MALFORMED);
	patch(f, id, "{\"addIdentifiers\":[{\"type\":\"serial\",\"value\":"
	    "\"P2\"}]}", DV_ERR_EXISTS);
	patch(f, id, "{\"removeIdentifiers\":[\"nope\"]}", DV_ERR_MALFORMED);
	patch(f, id, "{\"status\":\"retired\"}", DV_ERR_MALFORMED);
	patch(f, "dev_nope", "{\"name\":\"x\"}", DV_ERR_NOT_FOUND);
	/* the refused patches changed nothing */
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM "
	    "device_identifiers"), 2);
	free(id);
	free(other);
}

/* ---- list filters --------------------------------------------------- */

static json_t *
add_body(struct fixture *f, const char *text)
{
	json_t *body = json_loads(text, 0, NULL), *out = NULL;
	char *detail = NULL;

	assert_non_null(body);
	assert_int_equal(inv_device_add(f->inv, TEAM, body, &actor, &out,
	    &detail), DV_OK);
	json_decref(body);
	return out;
}

static size_t
count(struct fixture *f, const struct inv_query *q)
{
	json_t *page;
	size_t n;

	assert_int_equal(inv_device_list(f->inv, TEAM, q, &page), DV_OK);
	n = json_array_size(json_object_get(page, "devices"));
	json_decref(page);
	return n;
}

static void
test_list_filters(void **state)
{
	struct fixture *f = *state;
	struct inv_query q = { 0 };
	json_t *a, *b, *c, *coll, *body;
	char *detail = NULL;

	a = add_body(f, "{\"name\":\"a\",\"owner\":\"ann@Corp.example\","
	    "\"os\":\"linux\",\"kind\":\"laptop\",\"tags\":[\"finance\"],"
	    "\"identifiers\":[{\"type\":\"serial\",\"value\":\"A\"}]}");
	b = add_body(f, "{\"name\":\"b\",\"owner\":\"bob@other.example\","
	    "\"os\":\"macos\",\"kind\":\"laptop\",\"status\":\"pending\","
	    "\"source\":\"manual\",\"identifiers\":[{\"type\":\"serial\","
	    "\"value\":\"B\"}]}");
	c = add_body(f, "{\"name\":\"c\",\"owner\":\"cy@corp.example\","
	    "\"os\":\"linux\",\"kind\":\"server\",\"identifiers\":[{\"type\":"
	    "\"ek\",\"value\":\"urn:ek:sha256:b3A5sfcHCEIsggeqR2BUSWfJSbNT++q/"
	    "4ghmBNZt7ew=\"}]}");
	assert_int_equal(count(f, &q), 3);
	q.status = "pending";
	assert_int_equal(count(f, &q), 1);
	q.status = NULL;
	q.tag = "finance";
	assert_int_equal(count(f, &q), 1);
	q.tag = NULL;
	q.owner = "@CORP.example";
	assert_int_equal(count(f, &q), 2);
	q.owner = "bob@other.example";
	assert_int_equal(count(f, &q), 1);
	q.owner = NULL;
	q.identifier = ek_rsa_urn;
	assert_int_equal(count(f, &q), 1);
	q.identifier = NULL;
	q.source = "manual";
	assert_int_equal(count(f, &q), 1);
	q.source = NULL;
	/* last seen */
	assert_int_equal(inv_device_seen(f->inv, TEAM, json_string_value(
	    json_object_get(a, "id")), 1000), DV_OK);
	assert_int_equal(inv_device_seen(f->inv, TEAM, json_string_value(
	    json_object_get(c, "id")), 2000), DV_OK);
	q.seen_after = 1500;
	assert_int_equal(count(f, &q), 1);
	q.seen_after = 0;
	q.seen_before = 1500;
	assert_int_equal(count(f, &q), 1);
	q.seen_before = 0;
	/* approved and seen: active */
	q.status = "active";
	assert_int_equal(count(f, &q), 2);
	q.status = NULL;
	/* collection (linux, by rule) */
	body = json_loads("{\"name\":\"linux-corp\",\"os\":\"linux\","
	    "\"rules\":[{\"ownerDomain\":\"corp.example\"}]}", 0, NULL);
	assert_int_equal(inv_collection_create(f->inv, TEAM, body, &actor,
	    &coll, &detail), DV_OK);
	json_decref(body);
	json_decref(coll);
	q.collection = "linux-corp";
	assert_int_equal(count(f, &q), 2);
	q.collection = "nothing";
	assert_int_equal(count(f, &q), 0);
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ---- import --------------------------------------------------------- */

static json_t *
import(struct fixture *f, const char *format, const char *data, bool verbose)
{
	json_t *rep = NULL;

	assert_int_equal(inv_import(f->inv, TEAM, format,
	    (const uint8_t *)data, strlen(data), verbose, &actor, &rep),
	    DV_OK);
	return rep;
}

static json_int_t
rep_n(const json_t *rep, const char *key)
{
	return json_integer_value(json_object_get(rep, key));
}

/* The rows entry of the report for row num, or NULL. */
static const json_t *
rep_row(const json_t *rep, json_int_t num)
{
	const json_t *r;
	size_t i;

	json_array_foreach(json_object_get(rep, "rows"), i, r)
		if (json_integer_value(json_object_get(r, "row")) == num)
			return r;
	return NULL;
}

static void
test_import_csv(void **state)
{
	struct fixture *f = *state;
	json_t *rep, *d;
	const json_t *r;
	char *b64, *urn, *csv;
	uint8_t *pem;
	size_t len;

	b64 = ek_cert_b64("ek-certs/stm/stm_ecc_ek.der", &urn);
	pem = shared_file("ek-certs/gce-vtpm/uca_tpm_rsa_enc_cert.pem", &len);
	csv = xasprintf(
	    "\xef\xbb\xbfName,owner,OS,kind,source,status,ek,ek_cert,serial,"
	    "udid,yubikey_serial,tags\r\n"
	    /* 1: good, quoted comma and doubled quote in the name */
	    "\"lap, \"\"one\"\"\",a@x.example,linux,laptop,manual,,,,S1,,,"
	    "fin;eu\r\n"
	    /* 2: good, an EK certificate */
	    "two,,linux,server,,,,%s,,,,\n"
	    /* 3: bad kind */
	    "three,,linux,toaster,,,,,S3,,,\n"
	    /* 4: bad quote */
	    "fo\"ur,,,,,,,,S4,,,\n"
	    /* 5: too few fields */
	    "five,,,\n"
	    /* 6: a good serial plus a bad EK: no half device */
	    "six,,,,,,not-a-key,,S6,,,\n"
	    "\n"
	    /* 7: its ek is row 2's certificate key, its serial row 1's */
	    "seven,,,,,,%s,,S1,,,\n"
	    /* 8: good, a PEM certificate quoted over many lines */
	    "eight,,,,,,,\"%s\",S8,,,\n",
	    b64, urn, (char *)pem);
	rep = import(f, "csv", csv, false);
	assert_int_equal(rep_n(rep, "created"), 3);
	assert_int_equal(rep_n(rep, "rejected"), 5);
	assert_int_equal(rep_n(rep, "updated"), 0);
	assert_null(rep_row(rep, 1));	/* created rows are not listed */
	r = rep_row(rep, 3);
	assert_string_equal(json_string_value(json_object_get(r, "result")),
	    "rejected");
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
	    "kind"));
	assert_non_null(rep_row(rep, 4));
	assert_non_null(rep_row(rep, 5));
	assert_non_null(rep_row(rep, 6));
	assert_non_null(strstr(json_string_value(json_object_get(rep_row(rep,
	    7), "error")), "dev_"));
	json_decref(rep);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM devices"), 3);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM "
	    "device_identifiers WHERE value = 'S6'"), 0);
	/* the certificate's TPM details and the quoted name came through */
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, urn, &d),
	    DV_OK);
	assert_string_equal(json_string_value(json_object_get(first_ident(d),
	    "tpmModel")), "ST33HTPHAHB4");
	json_decref(d);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "S1", &d),
	    DV_OK);
	assert_string_equal(json_string_value(json_object_get(d, "name")),
	    "lap, \"one\"");
	assert_string_equal(json_string_value(json_object_get(d, "source")),
	    "manual");
	assert_int_equal(json_array_size(json_object_get(d, "tags")), 2);
	json_decref(d);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "S8", &d),
	    DV_OK);
	assert_string_equal(json_string_value(json_object_get(ident_of(d,
	    "ek-cert"), "tpmModel")), "vTPM");
	json_decref(d);

	/* a second import: upsert by identifier */
	free(csv);
	csv = xasprintf("serial,name,os,udid\n"
	    "S1,\"lap, \"\"one\"\"\",linux,\n"	/* unchanged */
	    "S8,eight,linux,\n"			/* updated: name, os */
	    "S9,nine,,\n"			/* created */
	    "S1,mixed,,0000AAAA\n"		/* updated: adds a udid */
	    "S9,,,0000AAAA\n");			/* two devices: rejected */
	rep = import(f, "csv", csv, true);
	assert_int_equal(rep_n(rep, "unchanged"), 1);
	assert_int_equal(rep_n(rep, "updated"), 2);
	assert_int_equal(rep_n(rep, "created"), 1);
	assert_int_equal(rep_n(rep, "rejected"), 1);
	/* verbose: every row is listed */
	assert_int_equal(json_array_size(json_object_get(rep, "rows")), 5);
	r = rep_row(rep, 5);
	assert_non_null(strstr(json_string_value(json_object_get(r, "error")),
	    "dev_"));
	json_decref(rep);
	/* bad headers and formats refuse the whole import */
	assert_int_equal(inv_import(f->inv, TEAM, "csv", (const uint8_t *)
	    "serial,colour\nS1,red\n", 21, false, &actor, &rep),
	    DV_ERR_MALFORMED);
	assert_int_equal(inv_import(f->inv, TEAM, "csv", (const uint8_t *)
	    "serial,serial\n", 14, false, &actor, &rep), DV_ERR_MALFORMED);
	assert_int_equal(inv_import(f->inv, TEAM, "xml", (const uint8_t *)"x",
	    1, false, &actor, &rep), DV_ERR_MALFORMED);
	assert_null(rep);
	free(csv);
	free(b64);
	free(urn);
	free(pem);
}

static void
test_import_jsonl(void **state)
{
	struct fixture *f = *state;
	json_t *rep;
	char *jsonl;

	jsonl = xasprintf(
	    "{\"name\":\"j1\",\"identifiers\":[{\"type\":\"ek\",\"value\":"
	    "\"%s\"}],\"tags\":[\"a\"]}\n"
	    "\n"
	    "{\"name\":\"j2\",\"name\":\"dup\",\"identifiers\":[]}\n"
	    "[1,2]\n"
	    "{\"name\":\"j5\",\"identifiers\":[{\"type\":\"yubikey-serial\","
	    "\"value\":\"555\"}]}\r\n"
	    "{\"identifiers\":[{\"type\":\"yubikey-serial\",\"value\":"
	    "\"777\"}]}\n"
	    "{\"name\":\"j1\",\"identifiers\":[{\"type\":\"ek\",\"value\":"
	    "\"%s\"}],\"tags\":[\"a\"]}",
	    ek_rsa_urn, ek_rsa_urn);
	rep = import(f, "jsonl", jsonl, false);
	/* 1 and 5 created, 3 (duplicate key), 4 (array), 6 (no name for a
	 * new device) rejected, 7 unchanged (same as 1) */
	assert_int_equal(rep_n(rep, "created"), 2);
	assert_int_equal(rep_n(rep, "rejected"), 3);
	assert_int_equal(rep_n(rep, "unchanged"), 1);
	assert_non_null(rep_row(rep, 3));
	assert_non_null(rep_row(rep, 4));
	assert_non_null(rep_row(rep, 6));
	assert_null(rep_row(rep, 2));
	json_decref(rep);
	free(jsonl);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM devices"), 2);
	/* one row over the limit is refused before anything is written */
	jsonl = xmalloc(DV_INV_MAX_IMPORT_ROWS + 1);
	memset(jsonl, '\n', DV_INV_MAX_IMPORT_ROWS + 1);
	assert_int_equal(inv_import(f->inv, TEAM, "jsonl", (uint8_t *)jsonl,
	    DV_INV_MAX_IMPORT_ROWS + 1, false, &actor, &rep),
	    DV_ERR_TOO_LARGE);
	assert_null(rep);
	assert_int_equal(inv_import(f->inv, TEAM, "jsonl", (uint8_t *)jsonl,
	    DV_INV_MAX_IMPORT_ROWS, false, &actor, &rep), DV_OK);
	assert_int_equal(rep_n(rep, "rejected"), 0);
	json_decref(rep);
	free(jsonl);
}

/* ---- MDM apply ------------------------------------------------------ */

static void
test_mdm_apply(void **state)
{
	struct fixture *f = *state;
	json_t *devs, *rep, *d;
	char *manual;

	manual = add_dev(f, "manual", "serial", "M0", DV_OK, NULL);
	devs = json_loads("[{\"name\":\"m1\",\"identifiers\":[{\"type\":"
	    "\"serial\",\"value\":\"M1\"}]},{\"name\":\"m2\",\"identifiers\":"
	    "[{\"type\":\"serial\",\"value\":\"M2\"}]},{\"name\":\"m3\","
	    "\"identifiers\":[{\"type\":\"serial\",\"value\":\"M3\"}]}]", 0,
	    NULL);
	assert_int_equal(inv_mdm_apply(f->inv, TEAM, "jamf", devs, true,
	    &actor, &rep), DV_OK);
	assert_int_equal(rep_n(rep, "created"), 3);
	assert_int_equal(rep_n(rep, "missing"), 0);
	json_decref(rep);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "M1", &d),
	    DV_OK);
	assert_string_equal(json_string_value(json_object_get(d, "source")),
	    "mdm:jamf");
	json_decref(d);
	/* full sync without m2: marked, not deleted; the manual device is
	 * not the source's and is left alone */
	json_array_remove(devs, 1);
	assert_int_equal(inv_mdm_apply(f->inv, TEAM, "jamf", devs, true,
	    &actor, &rep), DV_OK);
	assert_int_equal(rep_n(rep, "missing"), 1);
	assert_int_equal(rep_n(rep, "unchanged"), 2);
	json_decref(rep);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "M2", &d),
	    DV_OK);
	assert_true(json_is_true(json_object_get(d, "missingFromSource")));
	json_decref(d);
	assert_int_equal(inv_device_get(f->inv, TEAM, manual, &d), DV_OK);
	assert_true(json_is_false(json_object_get(d, "missingFromSource")));
	json_decref(d);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM devices"), 4);
	/* a delta sync bringing m2 back clears the mark and marks nothing */
	json_decref(devs);
	devs = json_loads("[{\"name\":\"m2\",\"identifiers\":[{\"type\":"
	    "\"serial\",\"value\":\"M2\"}]}]", 0, NULL);
	assert_int_equal(inv_mdm_apply(f->inv, TEAM, "jamf", devs, false,
	    &actor, &rep), DV_OK);
	assert_int_equal(rep_n(rep, "updated"), 1);
	assert_int_equal(rep_n(rep, "missing"), 0);
	json_decref(rep);
	assert_int_equal(inv_device_by_identifier(f->inv, TEAM, "M2", &d),
	    DV_OK);
	assert_true(json_is_false(json_object_get(d, "missingFromSource")));
	json_decref(d);
	assert_int_equal(inv_mdm_apply(f->inv, TEAM, "Bad Name", devs, false,
	    &actor, &rep), DV_ERR_MALFORMED);
	json_decref(devs);
	free(manual);
}

/* ---- collections ---------------------------------------------------- */

static json_t *
coll_create(struct fixture *f, const char *text, enum dv_rc want)
{
	json_t *body = json_loads(text, 0, NULL), *out = NULL;
	char *detail = NULL;

	assert_non_null(body);
	assert_int_equal(inv_collection_create(f->inv, TEAM, body, &actor,
	    &out, &detail), want);
	if (want != DV_OK)
		assert_non_null(detail);
	free(detail);
	json_decref(body);
	return out;
}

static bool
dev_in(struct fixture *f, const char *id, const char *coll)
{
	json_t *d, *c;
	size_t i;
	bool in = false;

	assert_int_equal(inv_device_get(f->inv, TEAM, id, &d), DV_OK);
	json_array_foreach(json_object_get(d, "collections"), i, c)
		if (strcmp(json_string_value(c), coll) == 0)
			in = true;
	json_decref(d);
	return in;
}

static void
test_collections(void **state)
{
	struct fixture *f = *state;
	json_t *a, *b, *c, *coll, *body, *list;
	char *text, *detail = NULL;
	const char *ida, *idb, *idc;

	a = add_body(f, "{\"name\":\"a\",\"owner\":\"a@corp.example\",\"os\":"
	    "\"linux\",\"kind\":\"laptop\",\"identifiers\":[{\"type\":"
	    "\"serial\",\"value\":\"CA\"}]}");
	b = add_body(f, "{\"name\":\"b\",\"owner\":\"b@home.example\",\"os\":"
	    "\"linux\",\"kind\":\"laptop\",\"tags\":[\"eng\"],\"identifiers\":"
	    "[{\"type\":\"serial\",\"value\":\"CB\"}]}");
	c = add_body(f, "{\"name\":\"c\",\"owner\":\"c@home.example\",\"os\":"
	    "\"macos\",\"kind\":\"laptop\",\"identifiers\":[{\"type\":"
	    "\"serial\",\"value\":\"CC\"}]}");
	ida = json_string_value(json_object_get(a, "id"));
	idb = json_string_value(json_object_get(b, "id"));
	idc = json_string_value(json_object_get(c, "id"));
	/* linux laptops: a by the domain rule, b by the tag rule, c (macos)
	 * not even as a static member */
	text = xasprintf("{\"name\":\"linux-laptops\",\"kind\":\"laptop\","
	    "\"os\":\"Linux\",\"rules\":[{\"ownerDomain\":\"CORP.example\"},"
	    "{\"tag\":\"eng\"}],\"members\":[\"%s\"],\"settings\":{\"wifi\":"
	    "true}}", idc);
	coll = coll_create(f, text, DV_OK);
	free(text);
	assert_string_equal(json_string_value(json_object_get(coll, "os")),
	    "linux");
	assert_int_equal(json_array_size(json_object_get(coll, "members")), 1);
	json_decref(coll);
	assert_true(dev_in(f, ida, "linux-laptops"));
	assert_true(dev_in(f, idb, "linux-laptops"));
	assert_false(dev_in(f, idc, "linux-laptops"));
	/* static membership of a matching type */
	text = xasprintf("{\"name\":\"macs\",\"os\":\"macos\",\"members\":"
	    "[\"%s\"]}", idc);
	coll = coll_create(f, text, DV_OK);
	free(text);
	json_decref(coll);
	assert_true(dev_in(f, idc, "macs"));
	assert_false(dev_in(f, ida, "macs"));
	/* a device changing its tags moves at once */
	json_decref(patch(f, idb, "{\"tags\":[]}", DV_OK));
	assert_false(dev_in(f, idb, "linux-laptops"));
	/* patch the rules: by source */
	body = json_loads("{\"rules\":[{\"source\":\"api\"}]}", 0, NULL);
	assert_int_equal(inv_collection_patch(f->inv, TEAM, "linux-laptops",
	    body, &actor, &coll, &detail), DV_OK);
	json_decref(body);
	json_decref(coll);
	assert_true(dev_in(f, idb, "linux-laptops"));
	/* refusals */
	json_decref(coll_create(f, "{\"name\":\"macs\"}", DV_ERR_EXISTS));
	json_decref(coll_create(f, "{\"name\":\"x\",\"rules\":[{\"colour\":"
	    "\"red\"}]}", DV_ERR_MALFORMED));
	json_decref(coll_create(f, "{\"name\":\"x\",\"members\":"
	    "[\"dev_nope\"]}", DV_ERR_MALFORMED));
	json_decref(coll_create(f, "{\"name\":\"a b\"}", DV_ERR_MALFORMED));
	assert_int_equal(inv_collection_list(f->inv, TEAM, &list), DV_OK);
	assert_int_equal(json_array_size(json_object_get(list,
	    "collections")), 2);
	json_decref(list);
	assert_int_equal(inv_collection_get(f->inv, TEAM, "macs", &coll),
	    DV_OK);
	json_decref(coll);
	assert_int_equal(inv_collection_delete(f->inv, TEAM, "macs", &actor),
	    DV_OK);
	assert_int_equal(inv_collection_delete(f->inv, TEAM, "macs", &actor),
	    DV_ERR_NOT_FOUND);
	assert_false(dev_in(f, idc, "macs"));
	json_decref(a);
	json_decref(b);
	json_decref(c);
}

/* ---- retire --------------------------------------------------------- */

static void
cert_issue(struct fixture *f, const char *serial, const char *auth,
    const char *device)
{
	static const uint8_t der[] = { 0x30, 0x03, 0x02, 0x01, 0x07 };
	struct store_cert c = { 0 };
	struct store_issue op = { 0 };

	c.serial = (char *)serial;
	c.authority = (char *)auth;
	c.subject = "CN=dev";
	c.not_before = 1700000000;
	c.not_after = 2000000000;
	c.der = (uint8_t *)der;
	c.derlen = sizeof(der);
	c.device_id = (char *)device;
	op.cert = &c;
	assert_int_equal(store_issue(f->st, &op), DV_OK);
}

static void
test_retire(void **state)
{
	struct fixture *f = *state;
	struct store_cert *c;
	json_t *revoked;
	char *id, *other;

	id = add_dev(f, "r", "serial", "R1", DV_OK, NULL);
	other = add_dev(f, "o", "serial", "R2", DV_OK, NULL);
	cert_issue(f, "101", "default/agent", id);
	cert_issue(f, "102", "default/account", id);
	cert_issue(f, "103", "default/account", other);
	cert_issue(f, "104", "default/account", id);
	assert_int_equal(store_revoke(f->st, &(struct store_revoke){
	    .authority = "default/account", .serial = "104", .reason_code = 1,
	    .at = 1700000001 }), DV_OK);
	assert_int_equal(store_cert_get(f->st, "101", &c), DV_OK);
	assert_string_equal(c->device_id, id);
	store_cert_free(c);

	assert_int_equal(inv_device_retire(f->inv, TEAM, id, &actor,
	    &revoked), DV_OK);
	/* the two open certificates; 104 was revoked before */
	assert_int_equal(json_array_size(revoked), 2);
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    revoked, 0), "serial")), "101");
	assert_string_equal(json_string_value(json_object_get(json_array_get(
	    revoked, 0), "authority")), "default/agent");
	json_decref(revoked);
	assert_int_equal(store_cert_get(f->st, "102", &c), DV_OK);
	assert_true(c->revoked);
	assert_int_equal(c->reason_code, 5);
	store_cert_free(c);
	assert_int_equal(store_cert_get(f->st, "104", &c), DV_OK);
	assert_int_equal(c->reason_code, 1);
	store_cert_free(c);
	assert_int_equal(store_cert_get(f->st, "103", &c), DV_OK);
	assert_false(c->revoked);
	store_cert_free(c);
	/* retired for good: not approved again, not retired twice */
	patch(f, id, "{\"status\":\"approved\"}", DV_ERR_FORBIDDEN);
	assert_int_equal(inv_device_retire(f->inv, TEAM, id, &actor,
	    &revoked), DV_ERR_ALREADY_REVOKED);
	assert_null(revoked);
	assert_int_equal(inv_device_retire(f->inv, TEAM, "dev_nope", &actor,
	    &revoked), DV_ERR_NOT_FOUND);
	assert_int_equal(sql_int(f->path, "SELECT COUNT(*) FROM audit WHERE "
	    "action = 'cert.revoke' AND team = 'default'"), 2);
	free(id);
	free(other);
}

/* ---- audit ---------------------------------------------------------- */

static void
test_audit(void **state)
{
	struct fixture *f = *state;
	json_t *v, *page, *e;
	char *id, tmp[160], line[8192], *cursor;
	FILE *fp;
	int fd;
	size_t lines = 0, n = 0;

	id = add_dev(f, "a1", "serial", "AU1", DV_OK, NULL);
	json_decref(patch(f, id, "{\"name\":\"a2\"}", DV_OK));
	free(id);
	id = add_dev(f, "b1", "serial", "AU2", DV_OK, NULL);
	free(id);
	id = add_dev(f, "c1", "serial", "AU3", DV_OK, NULL);
	free(id);
	assert_int_equal(inv_audit_verify(f->inv, &v), DV_OK);
	assert_true(json_is_true(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "rows")), 4);
	assert_true(json_is_null(json_object_get(v, "firstBad")));
	json_decref(v);

	/* export: one JSON object per line */
	snprintf(tmp, sizeof(tmp), "%s/audit.jsonl", f->dir);
	fd = open(tmp, O_CREAT | O_WRONLY | O_TRUNC, 0600);
	assert_true(fd >= 0);
	assert_int_equal(inv_audit_export(f->inv, TEAM, fd), DV_OK);
	close(fd);
	fp = fopen(tmp, "r");
	assert_non_null(fp);
	while (fgets(line, sizeof(line), fp) != NULL) {
		e = json_loads(line, 0, NULL);
		assert_non_null(e);
		assert_string_equal(json_string_value(json_object_get(e,
		    "team")), TEAM);
		assert_non_null(json_string_value(json_object_get(e, "hash")));
		json_decref(e);
		lines++;
	}
	fclose(fp);
	unlink(tmp);
	assert_int_equal(lines, 4);

	/* pages, newest first */
	assert_int_equal(inv_audit_list(f->inv, TEAM, NULL, 3, &page), DV_OK);
	assert_int_equal(json_array_size(json_object_get(page, "events")), 3);
	assert_int_equal(json_integer_value(json_object_get(json_array_get(
	    json_object_get(page, "events"), 0), "id")), 4);
	cursor = xstrdup(json_string_value(json_object_get(page,
	    "nextCursor")));
	json_decref(page);
	assert_int_equal(inv_audit_list(f->inv, TEAM, cursor, 3, &page),
	    DV_OK);
	n = json_array_size(json_object_get(page, "events"));
	assert_int_equal(n, 1);
	json_decref(page);
	free(cursor);

	/* a changed row */
	sql_exec(f->path, "UPDATE audit SET actor = 'mallory' WHERE id = 2");
	assert_int_equal(inv_audit_verify(f->inv, &v), DV_OK);
	assert_true(json_is_false(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "firstBad")),
	    2);
	json_decref(v);
	sql_exec(f->path, "UPDATE audit SET actor = 'token:test' WHERE id = 2");
	assert_int_equal(inv_audit_verify(f->inv, &v), DV_OK);
	assert_true(json_is_true(json_object_get(v, "ok")));
	json_decref(v);
	/* a changed team is a changed row too */
	sql_exec(f->path, "UPDATE audit SET team = 'other' WHERE id = 3");
	assert_int_equal(inv_audit_verify(f->inv, &v), DV_OK);
	assert_int_equal(json_integer_value(json_object_get(v, "firstBad")),
	    3);
	json_decref(v);
	sql_exec(f->path, "UPDATE audit SET team = 'default' WHERE id = 3");
	/* a deleted row */
	sql_exec(f->path, "DELETE FROM audit WHERE id = 2");
	assert_int_equal(inv_audit_verify(f->inv, &v), DV_OK);
	assert_true(json_is_false(json_object_get(v, "ok")));
	assert_int_equal(json_integer_value(json_object_get(v, "firstBad")),
	    3);
	assert_non_null(json_string_value(json_object_get(v, "reason")));
	json_decref(v);
}

/*
 * The ekcert fuzz corpus as a regression test with golden output (rule
 * 28): each seed parsed as an EK certificate (DER for *.der, else PEM) and
 * as an EK public key, one line per seed, compared with
 * fuzz/corpus/ekcert.golden.
 */
static void
test_ekcert_corpus_golden(void **state)
{
	const char *src = getenv("DEVID_SRC");
	struct dirent **names = NULL;
	struct pki_ek_cert c;
	struct buf out = { 0 };
	char dir[512], path[1024], *line, *urn;
	uint8_t *data, *golden;
	size_t len, glen;
	bool der;
	int n, i;
	enum dv_rc rc, krc;

	(void)state;
	snprintf(dir, sizeof(dir), "%s/fuzz/corpus/ekcert",
	    src != NULL ? src : "/work/main");
	n = scandir(dir, &names, NULL, alphasort);
	assert_true(n > 2);
	for (i = 0; i < n; i++) {
		if (names[i]->d_name[0] == '.') {
			free(names[i]);
			continue;
		}
		snprintf(path, sizeof(path), "%s/%s", dir, names[i]->d_name);
		assert_int_equal(file_read(path, 1 << 20, &data, &len), DV_OK);
		der = strstr(names[i]->d_name, ".der") != NULL;
		rc = pki_ek_cert_parse(data, len, der, &c);
		urn = NULL;
		krc = pki_ek_pub_urn(data, len, der, &urn);
		line = xasprintf("%s cert=%s key=%s %s %s %s %s\n",
		    names[i]->d_name, rc == DV_OK ? "ok" :
		    dv_rc_info(rc)->name, krc == DV_OK ? "ok" :
		    dv_rc_info(krc)->name, rc == DV_OK ? c.urn : urn != NULL ?
		    urn : "-", rc == DV_OK && c.manufacturer != NULL ?
		    c.manufacturer : "-", rc == DV_OK && c.model != NULL ?
		    c.model : "-", rc == DV_OK && c.version != NULL ?
		    c.version : "-");
		buf_append(&out, line, strlen(line));
		free(line);
		free(urn);
		if (rc == DV_OK)
			pki_ek_cert_clear(&c);
		free(data);
		free(names[i]);
	}
	free(names);
	buf_append(&out, "", 1);
	snprintf(path, sizeof(path), "%s/fuzz/corpus/ekcert.golden",
	    src != NULL ? src : "/work/main");
	if (getenv("DEVID_GOLDEN_WRITE") != NULL)
		assert_int_equal(file_write(path, out.data, out.len - 1, 0644),
		    DV_OK);
	assert_int_equal(file_read(path, 1 << 20, &golden, &glen), DV_OK);
	if (strcmp((char *)golden, (char *)out.data) != 0)
		fprintf(stderr, "got:\n%s", (char *)out.data);
	assert_string_equal((char *)golden, (char *)out.data);
	free(golden);
	buf_free(&out);
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_id_time_order),
		cmocka_unit_test(test_ek_urn_known_answer),
		cmocka_unit_test(test_ek_cert_parse),
		cmocka_unit_test(test_ekcert_corpus_golden),
		cmocka_unit_test_setup_teardown(test_add_identifier_types,
		    setup, teardown),
		cmocka_unit_test_setup_teardown(test_add_refusals, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_tokens, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_paging, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_patch, setup, teardown),
		cmocka_unit_test_setup_teardown(test_list_filters, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_csv, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_import_jsonl, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_mdm_apply, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_collections, setup,
		    teardown),
		cmocka_unit_test_setup_teardown(test_retire, setup, teardown),
		cmocka_unit_test_setup_teardown(test_audit, setup, teardown),
	};

	log_init(LOG_ERR, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
