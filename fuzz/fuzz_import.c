/*
 * fuzz_import.c - bulk device import (rule 28): inv_import() of the
 * fuzzer's bytes as CSV (first byte even) or JSON lines (odd), the rest
 * being the file, against one SQLite store opened once in a temporary
 * directory.  Every answer must be DV_OK with a report whose counts add
 * up, or a refusal of the whole input; never a crash or a leak.
 *
 * Seeds in fuzz/corpus/import/: CSV with quoting, CRLF, a multi-line PEM
 * EK certificate and bad rows; JSON lines with every identifier type;
 * hostile_* seeds named for their attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#include "inventory/inv.h"

static struct store *st;
static struct inv *inv;

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	char dir[] = "/tmp/fuzz_import.XXXXXX", path[64];

	(void)argc;
	(void)argv;
	log_init(LOG__MAX, 2);
	if (mkdtemp(dir) == NULL)
		abort();
	snprintf(path, sizeof(path), "%s/devid.db", dir);
	if (store_open(path, &st) != DV_OK || inv_open(st, &inv) != DV_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t len)
{
	const struct inv_actor actor = { "fuzz", NULL };
	json_t *rep = NULL;
	json_int_t rows;
	enum dv_rc rc;

	if (len < 1)
		return 0;
	rc = inv_import(inv, "default", data[0] % 2 == 0 ? "csv" : "jsonl",
	    data + 1, len - 1, data[0] & 2, &actor, &rep);
	if (rc == DV_OK) {
		if (rep == NULL)
			abort();
		rows = json_integer_value(json_object_get(rep, "created")) +
		    json_integer_value(json_object_get(rep, "updated")) +
		    json_integer_value(json_object_get(rep, "unchanged")) +
		    json_integer_value(json_object_get(rep, "rejected"));
		if (rows < 0 || (size_t)rows > len)
			abort();
	} else if (rep != NULL)
		abort();
	json_decref(rep);
	return 0;
}
