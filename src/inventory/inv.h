/*
 * inv.h - the device inventory of a team: devices and their permanent
 * hardware identifiers, Device Collections, admin API tokens and the audit
 * log (DESIGN §5, issue 3).  Only devices registered here may ever get a
 * device certificate: this module is the root of trust of the later CAs.
 *
 * The boundary is JSON so that src/api handlers stay thin: bodies come in
 * as untrusted json_t (already bounded and parsed strictly by api/), are
 * parsed into structs, checked, and only then stored (rule 22).  Every
 * change appends a hash-chained audit row in the same transaction.  All
 * storage goes through src/store (store.h, inventory section).
 *
 * JSON shape of a device (what every call returns):
 * {
 *   "id": "dev_<26 chars>", "team": "default", "name": "laptop-42",
 *   "owner": "alice@example.com", "os": "linux", "kind": "laptop",
 *   "source": "manual" | "api" | "mdm:<name>" | "aws" | "gcp" | "azure",
 *   "status": "pending" | "approved" | "active" | "retired",
 *   "identifiers": [
 *     {"type": "ek", "value": "urn:ek:sha256:<b64>"},
 *     {"type": "ek-cert", "value": "urn:ek:sha256:<b64 of its key>",
 *      "tpmManufacturer": "id:4E544300", "tpmModel": "...",
 *      "tpmVersion": "id:00070002", "certificate": "<PEM>"},
 *     {"type": "serial" | "udid" | "yubikey-serial", "value": "..."}],
 *   "tags": ["finance"], "posture": {...}, "collections": ["linux-laptops"],
 *   "missingFromSource": false,
 *   "createdAt": "RFC 3339", "updatedAt": "...", "lastSeenAt": "..." | null
 * }
 * Identifier input: "ek" takes a PEM or base64-DER SubjectPublicKeyInfo (or
 * the URN itself) and stores the URN of spec/attestation.md §2.5:
 * "urn:ek:sha256:" + base64std(SHA-256(SPKI DER)); "ek-cert" takes a PEM or
 * base64-DER certificate, stores it, the URN of its key, and the TPM
 * manufacturer/model/version from its SAN directoryName (2.23.133.2.1/2/3).
 * An identifier is unique per team (an ek and an ek-cert of the same key
 * collide); a duplicate is DV_ERR_EXISTS with a detail naming the device.
 */
#ifndef DV_INV_H
#define DV_INV_H

#include <stdbool.h>
#include <time.h>

#include "base/base.h"
#include "store/store.h"

struct inv;

/* Who acts: recorded in the audit log. */
struct inv_actor {
	const char	*who;		/* "token:<id>", "mdm:<source>", "cli" */
	const char	*request_id;
};

/* True if team is a team name: 1 to 64 of [a-z0-9._-]. */
bool		inv_team_ok(const char *team);

/* Opens the inventory over st (borrowed).  *out is new (inv_free). */
enum dv_rc	inv_open(struct store *st, struct inv **out);
void		inv_free(struct inv *);

/* ---- devices ------------------------------------------------------- */

/*
 * Registers a device from body {name, owner?, os?, kind?, source?,
 * status? (pending|approved; default approved for API/CSV, as the admin's
 * word), identifiers: [{type, value}], tags?}.  Writes the stored device to
 * *out.  On a refusal *detail is a new client-facing text (fixed words,
 * the offending field and, for duplicates, the id of the device that holds
 * the identifier).
 */
enum dv_rc	inv_device_add(struct inv *, const char *team,
		    const json_t *body, const struct inv_actor *,
		    json_t **out, char **detail);
enum dv_rc	inv_device_get(struct inv *, const char *team, const char *id,
		    json_t **out);
/*
 * Changes name, owner, os, kind, status (pending -> approved, any ->
 * retired is inv_device_retire), tags, posture; "addIdentifiers" and
 * "removeIdentifiers" arrays.  Unknown members are refused.
 */
enum dv_rc	inv_device_patch(struct inv *, const char *team, const char *id,
		    const json_t *body, const struct inv_actor *,
		    json_t **out, char **detail);
/*
 * Retires: status retired, no longer attests or enrolls, and every
 * certificate recorded against the device is revoked (reason
 * cessationOfOperation) in the same transaction.  *revoked is a new JSON
 * array of {"authority","serial"} so the caller can refresh CRLs.
 */
enum dv_rc	inv_device_retire(struct inv *, const char *team,
		    const char *id, const struct inv_actor *, json_t **revoked);

/* List filters; NULL/0 members do not filter. */
struct inv_query {
	const char	*status;
	const char	*collection;	/* collection name */
	const char	*tag;
	const char	*owner;		/* exact, or "@domain" */
	const char	*identifier;	/* exact stored value (URN, serial) */
	const char	*source;
	time_t		 seen_after;	/* last seen after */
	time_t		 seen_before;
	const char	*cursor;	/* opaque, from nextCursor */
	int		 limit;		/* 1..DV_LIST_MAX, 0 = default */
};
/* {"devices":[...],"nextCursor":"..."|""}; stable order (creation, id). */
enum dv_rc	inv_device_list(struct inv *, const char *team,
		    const struct inv_query *, json_t **out);
/* The device holding the identifier value (e.g. an EK URN), any status:
 * the Attestation CA's lookup (must be fast: indexed). */
enum dv_rc	inv_device_by_identifier(struct inv *, const char *team,
		    const char *value, json_t **out);
/* Marks the device seen now (and active when approved). */
enum dv_rc	inv_device_seen(struct inv *, const char *team, const char *id,
		    time_t when);

/*
 * Bulk import (upsert by identifier): format "csv" (header row: name,
 * owner, os, kind, source, status, ek, ek_cert, serial, udid,
 * yubikey_serial, tags (';'-separated)) or "jsonl" (one device body per
 * line, as inv_device_add).  Each row is its own savepoint: a bad row
 * never aborts the good ones nor leaves half a device.  *report is
 * {"created":n,"updated":n,"unchanged":n,"rejected":n,
 *  "rows":[{"row":i,"result":"created|updated|unchanged|rejected",
 *           "id":"...","error":"..."}]} (rows listed only when not
 * "created"/"unchanged" unless verbose).
 */
enum dv_rc	inv_import(struct inv *, const char *team, const char *format,
		    const uint8_t *data, size_t len, bool verbose,
		    const struct inv_actor *, json_t **report);

/*
 * MDM sync: devices is the mapped list (device bodies with source
 * "mdm:<source>"), the complete inventory of that source (full) or a delta
 * (!full).  Upserts each; on a full sync, devices of that source absent
 * from the list are marked missingFromSource, never deleted.  *report as
 * inv_import's plus "missing":n.
 */
enum dv_rc	inv_mdm_apply(struct inv *, const char *team,
		    const char *source, const json_t *devices, bool full,
		    const struct inv_actor *, json_t **report);

/* ---- collections --------------------------------------------------- */

/*
 * A Device Collection: {"name", "kind", "os", "source" (the one device
 * type it holds), "members": [device ids] (static), "rules": [{"tag"|"os"|
 * "source"|"ownerDomain": value}] (a device matches if it is of the
 * collection's type and matches any rule), "settings": {...}}.
 * Membership is evaluated when listed and when a device changes.
 */
enum dv_rc	inv_collection_create(struct inv *, const char *team,
		    const json_t *body, const struct inv_actor *, json_t **out,
		    char **detail);
enum dv_rc	inv_collection_get(struct inv *, const char *team,
		    const char *name, json_t **out);
enum dv_rc	inv_collection_patch(struct inv *, const char *team,
		    const char *name, const json_t *body,
		    const struct inv_actor *, json_t **out, char **detail);
enum dv_rc	inv_collection_delete(struct inv *, const char *team,
		    const char *name, const struct inv_actor *);
enum dv_rc	inv_collection_list(struct inv *, const char *team,
		    json_t **out);

/* ---- admin API tokens ---------------------------------------------- */

enum inv_role {
	INV_ROLE_VIEWER,	/* read devices, collections, audit */
	INV_ROLE_MDM_SYNC,	/* viewer + import + MDM webhook/sync */
	INV_ROLE_ADMIN,		/* + add/patch/retire devices, collections */
	INV_ROLE_OWNER,		/* + tokens */
	INV_ROLE__MAX
};
const char	*inv_role_name(enum inv_role);
enum dv_rc	inv_role_parse(const char *, enum inv_role *out);

/* The principal a bearer token stands for. */
struct inv_principal {
	char		*token_id;	/* owned */
	char		*team;		/* owned */
	enum inv_role	 role;
};
void		inv_principal_clear(struct inv_principal *);

/*
 * Creates a token {"name", "role", "expiresIn": "720h"?} for team.  The
 * secret "dvt_<id>_<base64url 32 random bytes>" is returned once in
 * *secret (new); only its SHA-256 is stored.  *meta is
 * {"id","name","role","team","createdAt","expiresAt"}.
 */
enum dv_rc	inv_token_create(struct inv *, const char *team,
		    const json_t *body, const struct inv_actor *,
		    char **secret, json_t **meta, char **detail);
/* Checks a bearer secret: unknown, revoked or expired ->
 * DV_ERR_UNAUTHORIZED. */
enum dv_rc	inv_token_auth(struct inv *, const char *secret, time_t now,
		    struct inv_principal *out);
enum dv_rc	inv_token_list(struct inv *, const char *team, json_t **out);
enum dv_rc	inv_token_revoke(struct inv *, const char *team,
		    const char *id, const struct inv_actor *);
/* The bootstrap owner token of `devid-ca init` (no actor check). */
enum dv_rc	inv_token_bootstrap(struct inv *, const char *team,
		    char **secret);

/* ---- audit --------------------------------------------------------- */

/* Recomputes the hash chain: {"ok":bool,"rows":n,"firstBad":id|null,
 * "reason":"..."} (a changed, deleted or reordered row is found). */
enum dv_rc	inv_audit_verify(struct inv *, json_t **out);
/* Writes every audit row of team (NULL: all) as JSON lines to fd. */
enum dv_rc	inv_audit_export(struct inv *, const char *team, int fd);
/* Pages of the audit log for the API: {"events":[...],"nextCursor"}. */
enum dv_rc	inv_audit_list(struct inv *, const char *team,
		    const char *cursor, int limit, json_t **out);

/* ---- MDM (issue 3) ---- */
/*
 * MDM sync (docs/mdm.md): a mapping turns one MDM's JSON device list into
 * the device bodies inv_mdm_apply takes (mdm_map.c); a background thread
 * pulls each configured source over HTTPS on its interval and applies it
 * as a full sync; a webhook pushes deltas signed with HMAC-SHA256
 * (mdm_sync.c, route in api/mdm.c).  Devices that disappear from a
 * source are marked missingFromSource by inv_mdm_apply, never deleted.
 */
struct inv_mdm_map;

/*
 * Loads a mapping.  spec is the name of a built-in mapping ("jamf": Jamf
 * Pro API computers-inventory, "intune": Microsoft Graph managedDevices)
 * or an object:
 *   {"base": "jamf"?          start from a built-in, members below replace
 *    "list": "results",        dotted path of the device array
 *    "next": "@odata.nextLink"?  path of the next-page URL, or
 *    "page": {"param": "page", "sizeParam": "page-size", "size": 100,
 *             "total": "totalCount"}?   page-number paging
 *    "fields": {"name"|"owner"|"os"|"kind"|"serial"|"udid"|"ek"|"ekCert":
 *               FIELD, "tags": [FIELD...]},
 *    "osMap": {"macOS": "macos", ...}?}
 * FIELD is a dotted path ("general.name"), an array of paths (the first
 * that holds a string wins), {"const": "macos"}, or {"path": P, "map":
 * {from: to}, "default": "x"?}.  Only non-empty strings are taken.  *out
 * is new (inv_mdm_map_free); on a refusal *detail is a new text naming
 * the member.
 */
enum dv_rc	inv_mdm_map_load(const json_t *spec, struct inv_mdm_map **out,
		    char **detail);
void		inv_mdm_map_free(struct inv_mdm_map *);

/* The URL of the first page for the configured url: page-number paging
 * parameters added when the mapping pages by number.  New string. */
char		*inv_mdm_map_first_url(const struct inv_mdm_map *,
		    const char *url);

/*
 * Maps page number page (from 0) of a source document fetched from the
 * configured url: appends to devices (an array) one body per element of
 * the list ({"name", "owner"?, "os"?, "kind"?, "source": "mdm:<source>",
 * "identifiers": [...], "tags"?}) and counts in *skipped the elements that
 * have no name or no identifier or are not objects.  *next is a new URL of
 * the next page, or NULL on the last.  DV_ERR_MALFORMED when the list is
 * absent, DV_ERR_TOO_LARGE beyond DV_MAX_MDM_PAGE_DEVICES (nothing is
 * appended then).
 */
enum dv_rc	inv_mdm_map_doc(const struct inv_mdm_map *, const char *source,
		    const json_t *doc, const char *url, unsigned page,
		    json_t *devices, size_t *skipped, char **next);
/* Maps an array of source-shaped device objects (a webhook's "devices")
 * the same way. */
enum dv_rc	inv_mdm_map_list(const struct inv_mdm_map *,
		    const char *source, const json_t *list, json_t *devices,
		    size_t *skipped);

struct inv_mdm;

/*
 * Reads the "mdm" sources of every team of config (docs/mdm.md; relative
 * paths are under dir), loads their mappings and webhook secrets, and
 * starts one sync thread when any source has a "url".  Call it after the
 * signer process is forked.  *out is new (inv_mdm_stop); inv is borrowed
 * and must outlive it.
 */
enum dv_rc	inv_mdm_start(struct inv *, const json_t *config,
		    const char *dir, struct inv_mdm **out);
/* Stops the sync thread (an ongoing fetch is abandoned) and frees m. */
void		inv_mdm_stop(struct inv_mdm *m);

/*
 * The webhook of source of team: checks sig ("sha256=<hex of
 * HMAC-SHA256(secret, body)>", compared in constant time) over the raw
 * body, then applies {"event": "upsert"|"delete", "devices": [...]} mapped
 * with the source's mapping: an upsert through inv_mdm_apply (!full); a
 * delete marks missing the devices of this source holding the mapped
 * identifiers, changing nothing else (unknown ones are not created, those
 * of other sources are left alone; *report {"missing", "unchanged",
 * "unknown", "otherSource"}).
 * DV_ERR_NOT_FOUND for an unknown source or one without a webhook secret,
 * DV_ERR_UNAUTHORIZED for a missing or wrong signature, DV_ERR_MALFORMED
 * for a bad body (*detail: fixed words).  *report (new) also has
 * "skipped": source devices without a name or an identifier.
 */
enum dv_rc	inv_mdm_webhook(struct inv_mdm *, const char *team,
		    const char *source, const uint8_t *body, size_t len,
		    const char *sig, const char *request_id, json_t **report,
		    const char **detail);

#endif
