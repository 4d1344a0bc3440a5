/*
 * attest_int.h - what the files of src/attest share and nobody else
 * includes (STYLE rule 1).
 */
#ifndef DV_ATTEST_INT_H
#define DV_ATTEST_INT_H

#include <cbor.h>

#include "attest.h"

#define ATT_EV		"attest"

/*
 * Scans data as exactly one CBOR item within the DV_ATT_CBOR_* limits
 * (definite lengths, no tags, no floats or simple values, nothing after
 * it), then decodes it with libcbor: *item is new (cbor_decref).
 * DV_ERR_TOO_LARGE over a limit, DV_ERR_ATT_OBJECT otherwise; logged with
 * what names the object.
 */
enum dv_rc	att_cbor_load(const uint8_t *data, size_t len,
		    const char *what, cbor_item_t **item);

/* Logs a refused check once: the format, the clause, and rc's title. */
void		att_log(enum att_fmt, enum dv_rc rc, const char *clause);

/*
 * The x5c checks every format shares (spec §8 steps 2-4): x5c present and
 * non-empty (DV_ERR_ATT_STMT), roots configured (DV_ERR_ATT_NO_ROOTS), the
 * chain verifies at p->now (DV_ERR_ATT_CHAIN).  *leaf is new
 * (pki_cert_free).
 */
enum dv_rc	att_x5c_verify(const struct att_object *,
		    const struct pki_trust *roots, const struct att_params *,
		    X509 **leaf);

/* Sets res->spki (a copy of der), res->spki_sha256 and
 * res->fingerprint.  DV_ERR_BAD_KEY if der is not an SPKI. */
enum dv_rc	att_result_set_spki(struct att_result *res,
		    const uint8_t *der, size_t len);

#endif
