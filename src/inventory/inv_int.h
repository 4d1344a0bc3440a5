/*
 * inv_int.h - what the files of src/inventory share (STYLE rule 1).
 */
#ifndef DV_INV_INT_H
#define DV_INV_INT_H

#include "inv.h"

struct inv {
	struct store	*st;		/* borrowed from the caller */
};

/* ---- inv.c: helpers ---- */

/* "<prefix>" + base32 (lower case, no padding) of n random bytes: new. */
char		*inv_id_new(const char *prefix, size_t n);
/*
 * "<prefix>" + 26 base32 characters of 48 bits of Unix milliseconds and 80
 * random bits (the layout of a ULID): new ids sort by creation, so the
 * B-tree indexes over them grow at their right edge instead of dirtying a
 * random page per insert (bulk import: 1 000 rows per commit).  New.
 */
char		*inv_id_time(const char *prefix);
/* base64url without padding of data (new string) and back. */
char		*inv_b64url(const uint8_t *, size_t);
enum dv_rc	 inv_b64url_decode(const char *, uint8_t **out, size_t *len);
/* Text of t as RFC 3339, or JSON null for 0 (new reference). */
json_t		*inv_time_json(time_t t);
/* Compact JSON text with sorted keys (new string). */
char		*inv_json_text(const json_t *);
/* Sets *detail (when detail != NULL) to a new printf-formatted string. */
void		 inv_detail(char **detail, const char *fmt, ...)
		    __attribute__((format(printf, 2, 3)));
/* True if s is 1..max bytes with no control characters (UTF-8 allowed:
 * jansson has validated it). */
bool		 inv_text_ok(const char *s, size_t max);
/* Appends an audit row for actor (NULL: "system") in the transaction. */
enum dv_rc	 inv_audit(struct store_tx *, const char *team,
		    const struct inv_actor *, const char *action,
		    const char *object, const json_t *detail);

/* ---- device.c: parsed device bodies ---- */

enum inv_mode {
	INV_MODE_ADD,		/* inv_device_add: name, identifiers needed */
	INV_MODE_IMPORT,	/* upsert rows of inv_import / inv_mdm_apply */
	INV_MODE_PATCH,		/* inv_device_patch */
	INV_MODE__MAX
};

/* A checked device body: NULL / absent members are "not given". */
struct inv_dev_in {
	char		*name;		/* every pointer owned */
	char		*owner;
	char		*os;
	char		*kind;
	char		*source;
	char		*status;
	json_t		*tags;		/* array of strings, or NULL */
	json_t		*posture;	/* object, or NULL */
	struct store_ident *ids;	/* to add */
	size_t		 nids;
	char		**rm;		/* PATCH: values to remove */
	size_t		 nrm;
};
void		 inv_dev_in_clear(struct inv_dev_in *);
/* Parses and checks body for mode; on failure *detail is new. */
enum dv_rc	 inv_dev_parse(const json_t *body, enum inv_mode,
		    struct inv_dev_in *out, char **detail);

enum inv_upsert {
	INV_UPSERT_CREATED,
	INV_UPSERT_UPDATED,
	INV_UPSERT_UNCHANGED,
	INV_UPSERT__MAX
};
/*
 * Inside a write: creates the device of in, or updates the one device that
 * holds any of its identifiers (see inv_import).  mark (may be NULL) is the
 * MDM sync mark stored on the device.  *id is new; *detail is new on a
 * refusal (DV_ERR_EXISTS for identifiers of two devices, DV_ERR_FORBIDDEN
 * for a retired device's status).
 */
enum dv_rc	 inv_dev_upsert(struct store_tx *, const char *team,
		    const struct inv_dev_in *, const struct inv_actor *,
		    const char *mark, enum inv_upsert *result, char **id,
		    char **detail);
/* The JSON of a stored device (with identifiers and collections). */
enum dv_rc	 inv_dev_json(struct store_tx *, const struct store_device *,
		    json_t **out);

#endif
