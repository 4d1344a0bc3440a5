/*
 * test_mdm.c - MDM mappings (src/inventory/mdm_map.c) against recorded
 * sample documents written from the vendors' API references
 * (tests/data/mdm/: Jamf Pro computers-inventory, Microsoft Graph
 * managedDevices in two pages), with golden results; custom mappings;
 * refused mappings; hostile documents (deep nesting, arrays beyond the
 * bound, non-string and control-character fields); HMAC-SHA256 (RFC
 * 4231); source configuration refusals; the webhook over a real store
 * (signatures, bodies, upsert, delete marks missing).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "inventory/inv.h"
#include "pki/pki.h"
#include "store/store.h"

#define JAMF_URL	"https://jamf.example.com/api/v1/computers-inventory" \
			"?section=GENERAL&section=HARDWARE"
#define GRAPH_URL	"https://graph.microsoft.com/v1.0/deviceManagement/" \
			"managedDevices"

static char *srcdir;

/* Reads tests/data/mdm/<name> as strict JSON. */
static json_t *
sample(const char *name)
{
	char *path = xasprintf("%s/tests/data/mdm/%s", srcdir, name);
	uint8_t *data;
	size_t len;
	json_t *j;

	assert_int_equal(file_read(path, DV_MAX_MDM_PAGE_BYTES, &data, &len),
	    DV_OK);
	assert_int_equal(json_parse_strict(data, len, DV_MAX_MDM_PAGE_BYTES,
	    &j), DV_OK);
	free(data);
	free(path);
	return j;
}

static struct inv_mdm_map *
load(const char *spec_text)
{
	struct inv_mdm_map *m = NULL;
	json_t *spec = json_loads(spec_text, JSON_DECODE_ANY, NULL);
	char *detail = NULL;

	assert_non_null(spec);
	if (inv_mdm_map_load(spec, &m, &detail) != DV_OK)
		fail_msg("mapping refused: %s", detail);
	assert_null(detail);
	json_decref(spec);
	return m;
}

/* Fails with both documents printed when a and b differ. */
static void
assert_json_equal(const json_t *a, const json_t *b)
{
	char *sa, *sb;

	if (json_equal(a, b))
		return;
	sa = json_dumps(a, JSON_INDENT(1) | JSON_SORT_KEYS);
	sb = json_dumps(b, JSON_INDENT(1) | JSON_SORT_KEYS);
	fail_msg("got\n%s\nwant\n%s", sa, sb);
}

static void
test_jamf_sample(void **state)
{
	struct inv_mdm_map *m = load("\"jamf\"");
	json_t *doc = sample("jamf_computers_inventory.json");
	json_t *want = sample("jamf_expected.json");
	json_t *devs = json_array();
	size_t skipped = 0;
	char *url, *next = NULL;

	(void)state;
	url = inv_mdm_map_first_url(m, JAMF_URL);
	assert_string_equal(url, JAMF_URL "&page=0&page-size=500");
	assert_int_equal(inv_mdm_map_doc(m, "jamf", doc, JAMF_URL, 0, devs,
	    &skipped, &next), DV_OK);
	assert_null(next);	/* 6 of totalCount 6 */
	assert_int_equal(skipped, json_integer_value(json_object_get(want,
	    "skipped")));
	assert_json_equal(devs, json_object_get(want, "devices"));
	free(url);
	json_decref(devs);
	json_decref(want);
	json_decref(doc);
	inv_mdm_map_free(m);
}

static void
test_intune_pages(void **state)
{
	struct inv_mdm_map *m = load("\"intune\"");
	json_t *p1 = sample("intune_managed_devices_page1.json");
	json_t *p2 = sample("intune_managed_devices_page2.json");
	json_t *want = sample("intune_expected.json");
	json_t *devs = json_array();
	size_t skipped = 0;
	char *url, *next = NULL;

	(void)state;
	url = inv_mdm_map_first_url(m, GRAPH_URL);
	assert_string_equal(url, GRAPH_URL);
	assert_int_equal(inv_mdm_map_doc(m, "intune", p1, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_OK);
	/* the next link is followed as Graph wrote it */
	assert_non_null(next);
	assert_string_equal(next, json_string_value(json_object_get(p1,
	    "@odata.nextLink")));
	assert_int_equal(json_array_size(devs), 2);
	assert_int_equal(skipped, 1);	/* kiosk-vm-03: no serial, no udid */
	free(next);
	assert_int_equal(inv_mdm_map_doc(m, "intune", p2, GRAPH_URL, 1, devs,
	    &skipped, &next), DV_OK);
	assert_null(next);
	assert_int_equal(skipped, json_integer_value(json_object_get(want,
	    "skipped")));
	assert_json_equal(devs, json_object_get(want, "devices"));
	free(url);
	json_decref(devs);
	json_decref(want);
	json_decref(p1);
	json_decref(p2);
	inv_mdm_map_free(m);
}

/* Page-number paging: a built-in with a smaller page, pages cut from the
 * recorded document. */
static void
test_jamf_paging(void **state)
{
	struct inv_mdm_map *m = load("{\"base\": \"jamf\", \"page\": "
	    "{\"param\": \"page\", \"sizeParam\": \"page-size\", \"size\": 2, "
	    "\"total\": \"totalCount\"}}");
	json_t *doc = sample("jamf_computers_inventory.json");
	json_t *res = json_object_get(doc, "results");
	json_t *page, *devs = json_array();
	size_t skipped = 0;
	unsigned p;
	char *url, *next = NULL;

	(void)state;
	url = inv_mdm_map_first_url(m, "https://j.example/api/v1/c");
	assert_string_equal(url, "https://j.example/api/v1/c?page=0&"
	    "page-size=2");
	free(url);
	for (p = 0; p < 3; p++) {
		page = json_pack("{s:I,s:[OO]}", "totalCount", (json_int_t)6,
		    "results", json_array_get(res, 2 * p),
		    json_array_get(res, 2 * p + 1));
		assert_int_equal(inv_mdm_map_doc(m, "jamf", page, JAMF_URL, p,
		    devs, &skipped, &next), DV_OK);
		if (p < 2) {
			url = xasprintf("%s&page=%u&page-size=2", JAMF_URL,
			    p + 1);
			assert_non_null(next);
			assert_string_equal(next, url);
			free(url);
		} else
			assert_null(next);
		free(next);
		json_decref(page);
	}
	assert_int_equal(json_array_size(devs), 6);
	/* no total: a full page asks for another, an empty one ends */
	page = json_pack("{s:[OO]}", "results", json_array_get(res, 0),
	    json_array_get(res, 1));
	assert_int_equal(inv_mdm_map_doc(m, "jamf", page, JAMF_URL, 7, devs,
	    &skipped, &next), DV_OK);
	assert_string_equal(next, JAMF_URL "&page=8&page-size=2");
	free(next);
	json_decref(page);
	page = json_pack("{s:I,s:[]}", "totalCount", (json_int_t)6, "results");
	assert_int_equal(inv_mdm_map_doc(m, "jamf", page, JAMF_URL, 3, devs,
	    &skipped, &next), DV_OK);
	assert_null(next);
	json_decref(page);
	assert_int_equal(skipped, 0);
	json_decref(devs);
	json_decref(doc);
	inv_mdm_map_free(m);
}

/* A custom mapping of another MDM's shape: nested list, alternatives,
 * constants, maps with defaults, tags, keys with dots, an ek. */
static void
test_custom(void **state)
{
	struct inv_mdm_map *m = load("{"
	    "\"list\": \"data.hosts\","
	    "\"next\": \"meta.next.url\","
	    "\"fields\": {"
	    " \"name\": [\"display.name\", \"hostname\"],"
	    " \"serial\": \"hardware_serial\","
	    " \"ek\": \"tpm.ek\","
	    " \"owner\": \"primary.user.email\","
	    " \"os\": \"platform\","
	    " \"kind\": {\"const\": \"server\"},"
	    " \"tags\": [\"team\", {\"path\": \"env\", \"map\": "
	    "   {\"prod\": \"production\"}, \"default\": \"non-prod\"},"
	    "   {\"const\": \"fleet\"}, \"a.b\"]},"
	    "\"osMap\": {\"ubuntu\": \"linux\", \"rhel\": \"linux\","
	    " \"windows\": \"windows\"}}");
	json_t *doc = json_loads("{\"data\": {\"hosts\": ["
	    "{\"hostname\": \"web-1\", \"display\": {\"name\": \"Web 1\"},"
	    " \"hardware_serial\": \"VM-0001\", \"platform\": \"ubuntu\","
	    " \"tpm\": {\"ek\": \"urn:ek:sha256:AAAA\"}, \"team\": \"infra\","
	    " \"env\": \"prod\", \"a.b\": \"dotted\","
	    " \"primary\": {\"user\": {\"email\": \"ops@example.com\"}}},"
	    "{\"hostname\": \"db-2\", \"hardware_serial\": \"VM-0002\","
	    " \"platform\": \"plan9\", \"env\": \"qa\", \"team\": \"fleet\"},"
	    "{\"hostname\": \"pem-3\", \"tpm\": {\"ek\": "
	    "\"-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----"
	    "\\n\"}, \"team\": \"a-tag-of-sixty-five-bytes-is-one-more-than-"
	    "the-inventory-takes-xy\"},"
	    "{\"hostname\": \"ghost\"}"
	    "]}, \"meta\": {\"next\": {\"url\": "
	    "\"https://fleet.example/p2\"}}}", 0, NULL);
	json_t *want = json_loads("["
	    "{\"name\": \"Web 1\", \"owner\": \"ops@example.com\","
	    " \"os\": \"linux\", \"kind\": \"server\","
	    " \"source\": \"mdm:fleet\","
	    " \"identifiers\": [{\"type\": \"serial\","
	    "  \"value\": \"VM-0001\"},"
	    "  {\"type\": \"ek\", \"value\": \"urn:ek:sha256:AAAA\"}],"
	    " \"tags\": [\"infra\", \"production\", \"fleet\", \"dotted\"]},"
	    "{\"name\": \"db-2\", \"kind\": \"server\","
	    " \"source\": \"mdm:fleet\","
	    " \"identifiers\": [{\"type\": \"serial\","
	    "  \"value\": \"VM-0002\"}],"
	    " \"tags\": [\"fleet\", \"non-prod\"]},"
	    "{\"name\": \"pem-3\", \"kind\": \"server\","
	    " \"source\": \"mdm:fleet\","
	    " \"identifiers\": [{\"type\": \"ek\", \"value\": "
	    "  \"-----BEGIN PUBLIC KEY-----\\nMFkw\\n-----END PUBLIC KEY-----"
	    "\\n\"}],"
	    " \"tags\": [\"fleet\"]}]", 0, NULL);
	json_t *devs = json_array();
	size_t skipped = 0;
	char *next = NULL;

	(void)state;
	assert_non_null(doc);
	assert_non_null(want);
	assert_int_equal(inv_mdm_map_doc(m, "fleet", doc, "https://f/", 0,
	    devs, &skipped, &next), DV_OK);
	assert_string_equal(next, "https://fleet.example/p2");
	assert_int_equal(skipped, 1);	/* ghost: no identifier */
	assert_json_equal(devs, want);
	free(next);
	json_decref(devs);
	json_decref(want);
	json_decref(doc);
	inv_mdm_map_free(m);
}

static void
test_bad_mappings(void **state)
{
	static const char *const bad[] = {
		"\"airwatch\"",
		"42",
		"{\"base\": \"nope\"}",
		"{\"base\": 1}",
		"{\"base\": \"jamf\", \"colour\": \"red\"}",
		"{\"fields\": {\"name\": \"n\", \"serial\": \"s\"}}",
		"{\"list\": \"a..b\", \"fields\": {\"name\": \"n\", "
		    "\"serial\": \"s\"}}",
		"{\"list\": \".a\", \"fields\": {\"name\": \"n\", "
		    "\"serial\": \"s\"}}",
		"{\"list\": \"a.b.c.d.e.f.g.h.i\", \"fields\": {\"name\": "
		    "\"n\", \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"next\": \"n\", \"page\": {\"param\": "
		    "\"p\", \"sizeParam\": \"s\", \"size\": 5}, \"fields\": "
		    "{\"name\": \"n\", \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"page\": {\"param\": \"p&x=1\", "
		    "\"sizeParam\": \"s\", \"size\": 5}, \"fields\": "
		    "{\"name\": \"n\", \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"page\": {\"param\": \"p\", "
		    "\"sizeParam\": \"s\", \"size\": 0}, \"fields\": "
		    "{\"name\": \"n\", \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"page\": {\"param\": \"p\", "
		    "\"sizeParam\": \"s\", \"size\": 100000}, \"fields\": "
		    "{\"name\": \"n\", \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"serial\": \"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", "
		    "\"owner\": \"o\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", "
		    "\"serial\": \"s\", \"colour\": \"c\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": {\"const\": 7}, "
		    "\"serial\": \"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": {\"const\": \"\"}, "
		    "\"serial\": \"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": {\"const\": \"x\", "
		    "\"path\": \"p\"}, \"serial\": \"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": [], \"serial\": "
		    "\"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": [1], \"serial\": "
		    "\"s\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", \"serial\": "
		    "{\"path\": \"s\", \"map\": {\"a\": 1}}}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", \"serial\": "
		    "\"s\"}, \"osMap\": {\"Windows\": [\"windows\"]}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", \"serial\": "
		    "\"s\", \"tags\": \"t\"}}",
		"{\"list\": \"v\", \"fields\": {\"name\": \"n\", \"serial\": "
		    "\"s\", \"tags\": [\"1\", \"2\", \"3\", \"4\", \"5\","
		    "\"6\", \"7\", \"8\", \"9\", \"10\", \"11\", \"12\","
		    "\"13\", \"14\", \"15\", \"16\", \"17\"]}}",
		"{\"list\": \"v\", \"fields\": \"n\"}",
	};
	struct inv_mdm_map *m;
	char *detail;
	json_t *spec;
	size_t i;

	(void)state;
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		spec = json_loads(bad[i], JSON_DECODE_ANY, NULL);
		assert_non_null(spec);
		m = (struct inv_mdm_map *)&m;
		detail = NULL;
		if (inv_mdm_map_load(spec, &m, &detail) != DV_ERR_MALFORMED)
			fail_msg("accepted: %s", bad[i]);
		assert_null(m);
		assert_non_null(detail);
		free(detail);
		json_decref(spec);
	}
}

/* Nesting far deeper than any path: resolution stops at the path's end. */
static void
test_hostile_deep(void **state)
{
	struct inv_mdm_map *m = load("{\"list\": \"a.b.c.d.e.f.g.list\", "
	    "\"fields\": {\"name\": \"n.n.n.n.n.n.n.n\", \"serial\": \"s\"}}");
	json_t *doc, *deep, *dev, *devs = json_array();
	size_t skipped = 0, i;
	char *next = NULL;

	(void)state;
	/* a 100 000 deep chain under "n": never walked past 8 levels */
	deep = json_string("bottom");
	for (i = 0; i < 100000; i++)
		deep = json_pack("{s:o}", "n", deep);
	dev = json_pack("{s:o,s:s}", "n", deep, "s", "SER-1");
	doc = json_pack("{s:{s:{s:{s:{s:{s:{s:{s:[o]}}}}}}}}", "a", "b", "c",
	    "d", "e", "f", "g", "list", dev);
	assert_int_equal(inv_mdm_map_doc(m, "x", doc, "https://x/", 0, devs,
	    &skipped, &next), DV_OK);
	assert_int_equal(json_array_size(devs), 0);
	assert_int_equal(skipped, 1);
	assert_null(next);
	/* json_decref recurses as deep as the chain: unlink it level by
	 * level first so that the test does not blow its own stack */
	deep = json_incref(json_object_get(dev, "n"));
	json_object_del(dev, "n");
	while (json_is_object(deep)) {
		json_t *child = json_incref(json_object_get(deep, "n"));

		json_object_del(deep, "n");
		json_decref(deep);
		deep = child;
	}
	json_decref(deep);
	json_decref(doc);
	json_decref(devs);
	inv_mdm_map_free(m);
}

/* A list one element beyond the bound is refused whole; nothing is
 * appended (a truncated full sync would mark devices missing). */
static void
test_hostile_huge(void **state)
{
	struct inv_mdm_map *m = load("\"intune\"");
	json_t *doc, *list = json_array(), *devs = json_array();
	size_t skipped = 0, i;
	char *next = NULL;

	(void)state;
	for (i = 0; i <= DV_MAX_MDM_PAGE_DEVICES; i++)
		json_array_append_new(list, json_pack("{s:s,s:s}",
		    "deviceName", "d", "serialNumber", "S"));
	doc = json_pack("{s:o,s:s}", "value", list, "@odata.nextLink",
	    "https://graph.microsoft.com/next");
	assert_int_equal(inv_mdm_map_doc(m, "intune", doc, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_ERR_TOO_LARGE);
	assert_int_equal(json_array_size(devs), 0);
	assert_null(next);
	/* exactly at the bound is fine */
	assert_int_equal(json_array_remove(list, 0), 0);
	assert_int_equal(inv_mdm_map_doc(m, "intune", doc, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_OK);
	assert_int_equal(json_array_size(devs), DV_MAX_MDM_PAGE_DEVICES);
	free(next);
	/* and the webhook's list the same */
	json_array_append_new(list, json_object());
	assert_int_equal(inv_mdm_map_list(m, "intune", list, devs, &skipped),
	    DV_ERR_TOO_LARGE);
	json_decref(doc);
	json_decref(devs);
	inv_mdm_map_free(m);
}

/* Strings only: numbers, booleans, objects, arrays, null, empty, over-long
 * or control-character values count as absent. */
static void
test_hostile_types(void **state)
{
	struct inv_mdm_map *m = load("\"intune\"");
	char *long_name = xcalloc(1, DV_INV_MAX_FIELD + 2);
	json_t *doc, *devs = json_array(), *want;
	size_t skipped = 0;
	char *next = NULL;

	(void)state;
	/* one byte beyond what the inventory takes */
	memset(long_name, 'n', DV_INV_MAX_FIELD + 1);
	doc = json_pack("{s:[iss{s:i,s:i}{s:s,s:b}{s:s,s:{}}{s:s,s:[s]}"
	    "{s:s,s:n}{s:s,s:s}{s:s,s:s}{s:s,s:s}"
	    "{s:s,s:s,s:i,s:b,s:[],s:s}], s:i}",
	    "value", 7, "string", "",
	    "deviceName", 1, "serialNumber", 2,
	    "deviceName", "a", "serialNumber", 1,
	    "deviceName", "b", "serialNumber",
	    "deviceName", "c", "serialNumber", "SER",
	    "deviceName", "d", "serialNumber",
	    "deviceName", "e", "serialNumber", "",
	    "deviceName", "f", "serialNumber", "bad\nserial",
	    "deviceName", long_name, "serialNumber", "SER-LONG",
	    "deviceName", "g", "serialNumber", "SER-G", "userPrincipalName", 5,
	    "operatingSystem", 1, "managedDeviceOwnerType", "udid", "\x01u",
	    "@odata.nextLink", 12);
	assert_non_null(doc);
	assert_int_equal(inv_mdm_map_doc(m, "intune", doc, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_OK);
	/* a non-string next link ends the paging */
	assert_null(next);
	/* the long name falls back to the serial, "g" keeps only what is a
	 * string */
	want = json_loads("["
	    "{\"name\": \"SER-LONG\", \"source\": \"mdm:intune\","
	    " \"identifiers\": [{\"type\": \"serial\", \"value\": "
	    "\"SER-LONG\"}]},"
	    "{\"name\": \"g\", \"source\": \"mdm:intune\","
	    " \"identifiers\": [{\"type\": \"serial\", \"value\": "
	    "\"SER-G\"}]}]", 0, NULL);
	assert_json_equal(devs, want);
	assert_int_equal(skipped, 10);
	/* the list itself must be an array */
	json_object_set_new(doc, "value", json_string("devices"));
	assert_int_equal(inv_mdm_map_doc(m, "intune", doc, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_ERR_MALFORMED);
	json_object_del(doc, "value");
	assert_int_equal(inv_mdm_map_doc(m, "intune", doc, GRAPH_URL, 0, devs,
	    &skipped, &next), DV_ERR_MALFORMED);
	assert_int_equal(inv_mdm_map_list(m, "intune", NULL, devs, &skipped),
	    DV_ERR_MALFORMED);
	free(long_name);
	json_decref(want);
	json_decref(doc);
	json_decref(devs);
	inv_mdm_map_free(m);
}

/*
 * The fuzz corpus as a regression test with golden results (rule 28):
 * each seed through a mapping gives exactly these counts.
 */
static void
test_corpus_golden(void **state)
{
	static const struct {
		const char	*file;
		const char	*map;
		enum dv_rc	 rc;
		size_t		 devices;
		size_t		 skipped;
		bool		 next;
	} golden[] = {
		{ "jamf_computers_inventory", "\"jamf\"", DV_OK, 6, 0, false },
		{ "intune_page1", "\"intune\"", DV_OK, 2, 1, true },
		{ "intune_page2", "\"intune\"", DV_OK, 2, 0, false },
		{ "webhook_jamf_upsert", "\"jamf\"", DV_ERR_MALFORMED, 0, 0,
		    false },
		{ "hostile_types", "\"intune\"", DV_OK, 0, 9, false },
		{ "hostile_dotted_keys", "\"intune\"", DV_OK, 1, 0, true },
		{ "hostile_dup_keys", "\"intune\"", DV_ERR_MALFORMED, 0, 0,
		    false },
		{ "hostile_deep_nesting", "\"intune\"", DV_ERR_MALFORMED, 0, 0,
		    false },
		{ "hostile_long_values", "\"intune\"", DV_OK, 0, 1, false },
		{ "custom_fleet", "\"jamf\"", DV_ERR_MALFORMED, 0, 0, false },
	};
	struct inv_mdm_map *m;
	json_t *doc, *devs;
	uint8_t *data;
	size_t i, len, skipped;
	char *path, *next;
	enum dv_rc rc;

	(void)state;
	for (i = 0; i < sizeof(golden) / sizeof(golden[0]); i++) {
		path = xasprintf("%s/fuzz/corpus/mdm_map/%s", srcdir,
		    golden[i].file);
		assert_int_equal(file_read(path, DV_MAX_MDM_PAGE_BYTES, &data,
		    &len), DV_OK);
		free(path);
		m = load(golden[i].map);
		devs = json_array();
		skipped = 0;
		next = NULL;
		/* as the sync thread: strict parse, then the mapping */
		rc = json_parse_strict(data, len, DV_MAX_MDM_PAGE_BYTES, &doc);
		if (rc == DV_OK) {
			rc = inv_mdm_map_doc(m, "corpus", doc, GRAPH_URL, 0,
			    devs, &skipped, &next);
			json_decref(doc);
		}
		if (rc != golden[i].rc || json_array_size(devs) !=
		    golden[i].devices || skipped != golden[i].skipped ||
		    (next != NULL) != golden[i].next)
			fail_msg("%s: rc %d, %zu devices, %zu skipped, next %s",
			    golden[i].file, rc, json_array_size(devs), skipped,
			    next != NULL ? next : "none");
		free(next);
		json_decref(devs);
		inv_mdm_map_free(m);
		free(data);
	}
}

/* RFC 4231 §4.3 (test case 2) and the constant-time comparison. */
static void
test_hmac(void **state)
{
	static const char want[] = "5bdcc146bf60754e6a042426089575c7"
	    "5a003f089d2739839dec58b964ec3843";
	uint8_t md[32];
	char *hex;

	(void)state;
	assert_int_equal(pki_hmac_sha256("Jefe", 4,
	    "what do ya want for nothing?", 28, md), DV_OK);
	hex = hex_encode(md, sizeof(md));
	assert_string_equal(hex, want);
	free(hex);
	assert_true(pki_mem_equal(md, md, sizeof(md)));
	md[31] ^= 1;
	assert_false(pki_mem_equal(md, md + 1, 8));
	assert_int_equal(pki_hmac_sha256("k", 1, NULL, 0, md), DV_OK);
}

/* A temp data folder with a 64-byte webhook secret and a store. */
struct hook_fx {
	char		 dir[64];
	char		*secret_path;
	char		*db;
	struct store	*st;
	struct inv	*inv;
};

static const char hook_secret[] =
    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef";

static int
hook_setup(void **state)
{
	struct hook_fx *f = xcalloc(1, sizeof(*f));

	snprintf(f->dir, sizeof(f->dir), "/tmp/test_mdm.XXXXXX");
	if (mkdtemp(f->dir) == NULL)
		return -1;
	f->secret_path = xasprintf("%s/push.webhook", f->dir);
	/* with a trailing newline, as `echo` writes it */
	if (file_write(f->secret_path, hook_secret, sizeof(hook_secret) - 1,
	    0600) != DV_OK)
		return -1;
	f->db = xasprintf("%s/devid.db", f->dir);
	if (store_open(f->db, &f->st) != DV_OK ||
	    inv_open(f->st, &f->inv) != DV_OK)
		return -1;
	*state = f;
	return 0;
}

static int
hook_teardown(void **state)
{
	struct hook_fx *f = *state;
	char *cmd;

	inv_free(f->inv);
	store_close(f->st);
	cmd = xasprintf("rm -rf '%s'", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(cmd);
	free(f->secret_path);
	free(f->db);
	free(f);
	return 0;
}

/* inv_mdm_start refuses bad sources, in every member. */
static void
test_config(void **state)
{
	struct hook_fx *f = *state;
	static const char *const bad[] = {
		"[{\"mapping\": \"jamf\", \"webhookSecretFile\": \"S\"}]",
		"[{\"name\": \"Jamf!\", \"mapping\": \"jamf\", "
		    "\"webhookSecretFile\": \"S\"}]",
		"[{\"name\": \"j\", \"mapping\": \"nope\", "
		    "\"webhookSecretFile\": \"S\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"url\": \"http://jamf.example/\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"url\": \"https://j/\", \"interval\": \"0s\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"url\": \"https://j/\", \"interval\": 60}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"url\": \"https://j/\", \"caFile\": \"/nonexistent\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"webhookSecretFile\": \"/nonexistent\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"webhookSecretFile\": \"S\", \"colour\": \"red\"}]",
		"[{\"name\": \"j\", \"mapping\": \"jamf\", "
		    "\"webhookSecretFile\": \"S\"}, {\"name\": \"j\", "
		    "\"mapping\": \"intune\", \"webhookSecretFile\": \"S\"}]",
		"{\"name\": \"j\"}",
		"[\"jamf\"]",
	};
	struct inv_mdm *m;
	json_t *cfg, *list;
	char *text, *shortp;
	size_t i;
	enum dv_rc rc;

	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		/* "S" stands for the good secret file */
		text = xstrdup(bad[i]);
		list = json_loads(text, 0, NULL);
		assert_non_null(list);
		if (json_is_array(list) && json_is_object(json_array_get(list,
		    0)) && json_get_str(json_array_get(list, 0),
		    "webhookSecretFile") != NULL && strcmp(json_get_str(
		    json_array_get(list, 0), "webhookSecretFile"), "S") == 0) {
			size_t j;

			for (j = 0; j < json_array_size(list); j++)
				json_object_set_new(json_array_get(list, j),
				    "webhookSecretFile",
				    json_string(f->secret_path));
		}
		cfg = json_pack("{s:{s:{s:o}}}", "teams", "default", "mdm",
		    list);
		m = (struct inv_mdm *)&m;
		rc = inv_mdm_start(f->inv, cfg, f->dir, &m);
		/* the missing secret file is an I/O error */
		if (rc == DV_OK || (rc != DV_ERR_MALFORMED && i != 8))
			fail_msg("accepted: %s", bad[i]);
		assert_null(m);
		json_decref(cfg);
		free(text);
	}
	/* a secret shorter than 32 bytes */
	shortp = xasprintf("%s/short", f->dir);
	assert_int_equal(file_write(shortp, "tooshort\n", 9, 0600), DV_OK);
	cfg = json_pack("{s:{s:{s:[{s:s,s:s,s:s}]}}}", "teams", "default",
	    "mdm", "name", "j", "mapping", "jamf", "webhookSecretFile",
	    shortp);
	assert_int_equal(inv_mdm_start(f->inv, cfg, f->dir, &m),
	    DV_ERR_MALFORMED);
	json_decref(cfg);
	free(shortp);
	/* no "mdm" anywhere: nothing to do, and stop accepts NULL */
	cfg = json_pack("{s:{s:{}}}", "teams", "default");
	assert_int_equal(inv_mdm_start(f->inv, cfg, f->dir, &m), DV_OK);
	inv_mdm_stop(m);
	inv_mdm_stop(NULL);
	json_decref(cfg);
}

static char *
sign(const char *body, const char *key)
{
	uint8_t md[32];
	char *hex, *sig;

	assert_int_equal(pki_hmac_sha256(key, strlen(key), body,
	    strlen(body), md), DV_OK);
	hex = hex_encode(md, sizeof(md));
	sig = xasprintf("sha256=%s", hex);
	free(hex);
	return sig;
}

static enum dv_rc
hook(struct inv_mdm *m, const char *team, const char *src, const char *body,
    const char *sig, json_t **report)
{
	const char *detail;
	enum dv_rc rc;

	rc = inv_mdm_webhook(m, team, src, (const uint8_t *)body,
	    strlen(body), sig, "req-test", report, &detail);
	if (rc != DV_OK)
		assert_non_null(detail);
	return rc;
}

static void
test_webhook(void **state)
{
	struct hook_fx *f = *state;
	struct inv_query q;
	struct inv_mdm *m = NULL;
	json_t *cfg, *doc, *body, *report = NULL, *list = NULL, *d;
	char *up, *del, *sig, *other;
	size_t i;

	cfg = json_pack("{s:{s:{s:[{s:s,s:s,s:s}]}}}", "teams", "default",
	    "mdm", "name", "push", "mapping", "jamf", "webhookSecretFile",
	    f->secret_path);
	assert_int_equal(inv_mdm_start(f->inv, cfg, f->dir, &m), DV_OK);
	json_decref(cfg);
	doc = sample("jamf_computers_inventory.json");
	body = json_pack("{s:s,s:[OO]}", "event", "upsert", "devices",
	    json_array_get(json_object_get(doc, "results"), 0),
	    json_array_get(json_object_get(doc, "results"), 1));
	up = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	body = json_pack("{s:s,s:[O]}", "event", "delete", "devices",
	    json_array_get(json_object_get(doc, "results"), 1));
	del = json_dumps(body, JSON_COMPACT);
	json_decref(body);
	sig = sign(up, hook_secret);

	/* refusals: where, who, what */
	assert_int_equal(hook(m, "default", "jamf", up, sig, &report),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(hook(m, "other", "push", up, sig, &report),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(hook(NULL, "default", "push", up, sig, &report),
	    DV_ERR_NOT_FOUND);
	assert_int_equal(hook(m, "default", "push", up, NULL, &report),
	    DV_ERR_UNAUTHORIZED);
	other = sign(up, "another secret of more than 32 bytes....");
	assert_int_equal(hook(m, "default", "push", up, other, &report),
	    DV_ERR_UNAUTHORIZED);
	free(other);
	other = sign(del, hook_secret);	/* signature of another body */
	assert_int_equal(hook(m, "default", "push", up, other, &report),
	    DV_ERR_UNAUTHORIZED);
	free(other);
	other = xstrdup(sig);
	other[strlen(other) - 1] = '\0';	/* 63 hex digits */
	assert_int_equal(hook(m, "default", "push", up, other, &report),
	    DV_ERR_UNAUTHORIZED);
	free(other);
	other = xasprintf("sha1=%s", sig + 7);
	assert_int_equal(hook(m, "default", "push", up, other, &report),
	    DV_ERR_UNAUTHORIZED);
	free(other);
	assert_null(report);
	{
		static const char *const bad[] = {
			"{\"event\": \"remove\", \"devices\": []}",
			"{\"event\": \"upsert\"}",
			"{\"event\": \"upsert\", \"devices\": {}}",
			"{\"event\": \"upsert\", \"devices\": [], \"x\": 1}",
			("{\"event\": \"upsert\", \"event\": \"delete\", "
			    "\"devices\": []}"),
			"[1]",
			"not json",
		};

		for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
			other = sign(bad[i], hook_secret);
			if (hook(m, "default", "push", bad[i], other, &report)
			    != DV_ERR_MALFORMED)
				fail_msg("accepted: %s", bad[i]);
			free(other);
		}
	}
	assert_null(report);

	/* upsert: both devices created, as mdm:push */
	assert_int_equal(hook(m, "default", "push", up, sig, &report), DV_OK);
	assert_int_equal(json_integer_value(json_object_get(report,
	    "created")), 2);
	assert_int_equal(json_integer_value(json_object_get(report,
	    "skipped")), 0);
	json_decref(report);
	report = NULL;
	memset(&q, 0, sizeof(q));
	q.source = "mdm:push";
	assert_int_equal(inv_device_list(f->inv, "default", &q, &list), DV_OK);
	assert_int_equal(json_array_size(json_object_get(list, "devices")), 2);
	json_decref(list);
	/* the same again changes nothing */
	assert_int_equal(hook(m, "default", "push", up, sig, &report), DV_OK);
	assert_int_equal(json_integer_value(json_object_get(report,
	    "unchanged")), 2);
	json_decref(report);
	report = NULL;

	/* delete: bob-air marked missing, kept */
	free(sig);
	sig = sign(del, hook_secret);
	assert_int_equal(hook(m, "default", "push", del, sig, &report), DV_OK);
	json_decref(report);
	assert_int_equal(inv_device_list(f->inv, "default", &q, &list), DV_OK);
	assert_int_equal(json_array_size(json_object_get(list, "devices")), 2);
	json_array_foreach(json_object_get(list, "devices"), i, d) {
		bool bob = strcmp(json_get_str(d, "name"), "bob-air") == 0;

		assert_true(json_is_boolean(json_object_get(d,
		    "missingFromSource")));
		assert_int_equal(json_is_true(json_object_get(d,
		    "missingFromSource")), bob);
	}
	json_decref(list);
	free(sig);
	free(up);
	free(del);
	json_decref(doc);
	inv_mdm_stop(m);
}

int
main(void)
{
	static const char self[] = "/tests/unit/test_mdm.c";
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_jamf_sample),
		cmocka_unit_test(test_intune_pages),
		cmocka_unit_test(test_jamf_paging),
		cmocka_unit_test(test_custom),
		cmocka_unit_test(test_bad_mappings),
		cmocka_unit_test(test_hostile_deep),
		cmocka_unit_test(test_hostile_huge),
		cmocka_unit_test(test_hostile_types),
		cmocka_unit_test(test_corpus_golden),
		cmocka_unit_test(test_hmac),
		cmocka_unit_test_setup_teardown(test_config, hook_setup,
		    hook_teardown),
		cmocka_unit_test_setup_teardown(test_webhook, hook_setup,
		    hook_teardown),
	};
	const char *src = getenv("DEVID_SRC");
	int rc;

	log_init(getenv("DEVID_TEST_LOG") != NULL ? LOG_DEBUG : LOG__MAX, 2);
	if (pki_init() != DV_OK)
		return 1;
	/* ctest sets DEVID_SRC; run by hand, CMake's absolute __FILE__ */
	if (src != NULL)
		srcdir = xstrdup(src);
	else if (strlen(__FILE__) > strlen(self) &&
	    strcmp(&__FILE__[strlen(__FILE__) - strlen(self)], self) == 0)
		srcdir = xstrndup(__FILE__, strlen(__FILE__) - strlen(self));
	else
		return 1;
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	free(srcdir);
	return rc;
}
