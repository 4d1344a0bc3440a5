/*
 * fuzz_mdm_map.c - MDM documents from the network (rule 28): a page as an
 * MDM source or a webhook sends it, parsed strictly and mapped with the
 * built-in Jamf and Intune mappings and with a custom one (paths with
 * dots, alternatives, maps, tags); the same bytes are also loaded as a
 * mapping spec and, when accepted, applied to themselves.
 *
 * Seeds in fuzz/corpus/mdm_map/: the recorded samples of tests/data/mdm,
 * a webhook body, a custom mapping, and hostile_* documents named for
 * their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include "inventory/inv.h"

static const char custom_spec[] =
    "{\"list\": \"data.hosts\", \"next\": \"meta.next.url\","
    " \"fields\": {\"name\": [\"display.name\", \"hostname\"],"
    "  \"serial\": \"hardware_serial\", \"ek\": \"tpm.ek\","
    "  \"udid\": \"a.b\", \"owner\": \"primary.user.email\","
    "  \"os\": \"platform\", \"kind\": {\"const\": \"server\"},"
    "  \"tags\": [\"team\", {\"path\": \"env\", \"map\": "
    "   {\"prod\": \"production\"}, \"default\": \"other\"}]},"
    " \"osMap\": {\"ubuntu\": \"linux\"}}";

static struct inv_mdm_map *maps[3];

static void
fuzz_init(void)
{
	json_t *spec[3];
	char *detail;
	size_t i;

	log_init(LOG__MAX, 2);	/* quiet */
	spec[0] = json_string("jamf");
	spec[1] = json_string("intune");
	spec[2] = json_loads(custom_spec, 0, NULL);
	for (i = 0; i < 3; i++) {
		if (inv_mdm_map_load(spec[i], &maps[i], &detail) != DV_OK)
			abort();
		json_decref(spec[i]);
	}
}

static void
apply(const struct inv_mdm_map *m, const json_t *doc)
{
	json_t *devs = json_array();
	size_t skipped = 0;
	char *next = NULL;

	(void)inv_mdm_map_doc(m, "fuzz", doc, "https://mdm.example/list?x=1",
	    3, devs, &skipped, &next);
	free(next);
	(void)inv_mdm_map_list(m, "fuzz", json_object_get(doc, "devices"),
	    devs, &skipped);
	if (json_array_size(devs) + skipped == (size_t)-1)
		abort();
	json_decref(devs);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct inv_mdm_map *own = NULL;
	json_t *doc = NULL;
	char *detail = NULL;
	size_t i;

	if (maps[0] == NULL)
		fuzz_init();
	if (json_parse_strict(data, size, DV_MAX_MDM_PAGE_BYTES, &doc) !=
	    DV_OK)
		return 0;
	for (i = 0; i < 3; i++)
		apply(maps[i], doc);
	if (inv_mdm_map_load(doc, &own, &detail) == DV_OK) {
		apply(own, doc);
		free(inv_mdm_map_first_url(own, "https://mdm.example/"));
	}
	inv_mdm_map_free(own);
	free(detail);
	json_decref(doc);
	return 0;
}
