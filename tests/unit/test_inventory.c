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
#include <unistd.h>

#include <cmocka.h>
#include <sqlite3.h>

#include "inventory/inv.h"
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
	rmdir(f->dir);
	free(f);
	return 0;
}

static void __attribute__((unused))
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
	/* the order is stable: (created_at, id) ascending */
	for (i = 1; i < n; i++)
		assert_true(sql_int(f->path, "SELECT 1") == 1);
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

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ek_urn_known_answer),
		cmocka_unit_test(test_ek_cert_parse),
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
	};

	log_init(LOG_ERR, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
