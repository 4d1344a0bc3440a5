/*
 * mdm_map.c - field mappings from an MDM's JSON device list to inventory
 * device bodies (issue 3 item 3, docs/mdm.md).
 *
 * A mapping names where the device array is in a source document, how to
 * reach the next page, and for each device field a dotted path into one
 * source device.  The source is untrusted: paths are bounded
 * (DV_MAX_MDM_PATH_DEPTH), only non-empty printable strings within the
 * inventory's bounds are taken (DV_INV_MAX_FIELD, DV_INV_MAX_TAG; PEM for
 * an EK), and a device without a name or without any identifier is
 * skipped and counted, never guessed.
 *
 * The built-in mappings follow the vendors' public API references:
 *
 * Jamf Pro API, GET /api/v1/computers-inventory (developer.jamf.com,
 * "Return a Computer Inventory for paginated list of computers"; schemas
 * ComputerInventorySearchResults {totalCount, results[]} and
 * ComputerInventory {id, udid, general{name, platform, ...}, hardware{make,
 * model, serialNumber, ...}, userAndLocation{username, realname, email,
 * ...}, operatingSystem{name, version, build, ...}} as generated from the
 * server's api/schema, e.g. ruby-jss Jamf::OAPISchemas and
 * jamf-pro-sdk-python models/pro/computers.py).  Paging is by number:
 * query parameters page (from 0) and page-size, with totalCount in every
 * answer; sections are chosen with section=GENERAL&section=HARDWARE&...
 *
 * Microsoft Graph v1.0, GET /deviceManagement/managedDevices
 * (learn.microsoft.com/graph/api/intune-devices-manageddevice-list and the
 * managedDevice resource type: id, userId, deviceName,
 * managedDeviceOwnerType (unknown|company|personal), operatingSystem
 * ("Windows", "iOS", "macOS", "Android", ...), osVersion,
 * userPrincipalName, emailAddress, serialNumber, udid, ...).  Collections
 * are {"@odata.context", "value": [...], "@odata.nextLink"?}; the next
 * link is a complete URL to follow as is (Graph paging guide).
 */
#include <stdlib.h>
#include <string.h>

#include "inv.h"

enum fkind { F_PATH, F_CONST };

/* One field expression. */
struct fexpr {
	enum fkind	 kind;
	char		**paths;	/* owned: alternatives, first wins */
	size_t		 npaths;
	char		*cval;		/* owned: F_CONST value */
	json_t		*map;		/* owned: {from: to} or NULL */
	char		*dflt;		/* owned: when map has no entry */
	size_t		 max;		/* longest value taken, bytes */
	bool		 lines;		/* PEM: line breaks allowed */
};

/* The device fields a mapping may fill, in body order. */
enum mfield {
	MF_NAME, MF_OWNER, MF_OS, MF_KIND,
	MF_SERIAL, MF_UDID, MF_EK, MF_EK_CERT,
	MF__MAX
};

static const char *const field_names[MF__MAX] = {
	[MF_NAME] = "name",
	[MF_OWNER] = "owner",
	[MF_OS] = "os",
	[MF_KIND] = "kind",
	[MF_SERIAL] = "serial",
	[MF_UDID] = "udid",
	[MF_EK] = "ek",
	[MF_EK_CERT] = "ekCert",
};

/* The identifier type of an identifier field, NULL for the others. */
static const char *const ident_types[MF__MAX] = {
	[MF_SERIAL] = "serial",
	[MF_UDID] = "udid",
	[MF_EK] = "ek",
	[MF_EK_CERT] = "ek-cert",
};

struct inv_mdm_map {
	char		*list;		/* owned: path of the device array */
	char		*next;		/* owned: next-link path, or NULL */
	char		*page_param;	/* owned: page-number paging, or NULL */
	char		*size_param;	/* owned */
	char		*total;		/* owned: path of the total, or NULL */
	long long	 page_size;
	struct fexpr	*f[MF__MAX];	/* owned, NULL when unmapped */
	struct fexpr	*tags[DV_MAX_MDM_TAGS];	/* owned */
	size_t		 ntags;
};

/*
 * The built-in mappings, as JSON so that they read like a custom one and go
 * through the same checks.
 */
static const char jamf_map[] =
    "{\"list\": \"results\","
    " \"page\": {\"param\": \"page\", \"sizeParam\": \"page-size\","
    "  \"size\": 500, \"total\": \"totalCount\"},"
    " \"fields\": {"
    "  \"name\": [\"general.name\", \"hardware.serialNumber\"],"
    "  \"serial\": \"hardware.serialNumber\","
    "  \"udid\": \"udid\","
    "  \"owner\": \"userAndLocation.email\","
    "  \"os\": {\"const\": \"macos\"}}}";

static const char intune_map[] =
    "{\"list\": \"value\","
    " \"next\": \"@odata.nextLink\","
    " \"fields\": {"
    "  \"name\": [\"deviceName\", \"serialNumber\"],"
    "  \"serial\": \"serialNumber\","
    "  \"udid\": \"udid\","
    "  \"owner\": [\"userPrincipalName\", \"emailAddress\"],"
    "  \"os\": \"operatingSystem\","
    "  \"tags\": [{\"path\": \"managedDeviceOwnerType\","
    "   \"map\": {\"company\": \"company-owned\","
    "    \"personal\": \"personal\"}}]},"
    " \"osMap\": {\"Windows\": \"windows\", \"macOS\": \"macos\","
    "  \"iOS\": \"ios\", \"iPadOS\": \"ios\", \"Android\": \"android\","
    "  \"AndroidForWork\": \"android\", \"AndroidEnterprise\": \"android\","
    "  \"Linux\": \"linux\", \"ChromeOS\": \"chromeos\"}}";

static const struct {
	const char	*name;
	const char	*json;
} builtins[] = {
	{ "jamf", jamf_map },
	{ "intune", intune_map },
};

static void
fexpr_free(struct fexpr *e)
{
	size_t i;

	if (e == NULL)
		return;
	for (i = 0; i < e->npaths; i++)
		free(e->paths[i]);
	free(e->paths);
	free(e->cval);
	json_decref(e->map);
	free(e->dflt);
	free(e);
}

void
inv_mdm_map_free(struct inv_mdm_map *m)
{
	size_t i;

	if (m == NULL)
		return;
	for (i = 0; i < MF__MAX; i++)
		fexpr_free(m->f[i]);
	for (i = 0; i < m->ntags; i++)
		fexpr_free(m->tags[i]);
	free(m->list);
	free(m->next);
	free(m->page_param);
	free(m->size_param);
	free(m->total);
	free(m);
}

/* A usable value: non-empty, at most max bytes (the inventory's bounds,
 * so that a value it would refuse counts as absent here and a fallback can
 * apply), no control bytes but line breaks in PEM (UTF-8 is already
 * guaranteed by jansson). */
static bool
value_ok(const char *s, size_t len, size_t max, bool lines)
{
	size_t i;

	if (len == 0 || len > max)
		return false;
	for (i = 0; i < len; i++) {
		if (lines && (s[i] == '\n' || s[i] == '\r'))
			continue;
		if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f)
			return false;
	}
	return true;
}

static bool
jvalue_ok(const json_t *v, size_t max, bool lines)
{
	return json_is_string(v) && value_ok(json_string_value(v),
	    json_string_length(v), max, lines);
}

/* A path in a mapping: 1..DV_MAX_MDM_PATH_DEPTH non-empty components. */
static bool
path_ok(const char *p)
{
	size_t n = 1, len = strlen(p);
	const char *c;

	if (len == 0 || len > DV_MAX_NAME || p[0] == '.' || p[len - 1] == '.')
		return false;
	for (c = p; *c != '\0'; c++) {
		if (*c != '.')
			continue;
		if (c[1] == '.' || ++n > DV_MAX_MDM_PATH_DEPTH)
			return false;
	}
	return str_printable(p, len);
}

/*
 * Resolves a dotted path in v.  Keys may themselves hold dots
 * ("@odata.nextLink"), so at each level the longest prefix of the rest
 * that is a key wins.  Returns a borrowed value or NULL.
 */
static const json_t *
path_get(const json_t *v, const char *path)
{
	const char *rest = path;
	size_t len, steps;

	for (steps = 0; steps < DV_MAX_MDM_PATH_DEPTH; steps++) {
		const json_t *c = NULL;

		if (!json_is_object(v))
			return NULL;
		len = strlen(rest);
		for (;;) {
			if ((c = json_object_getn(v, rest, len)) != NULL)
				break;
			while (len > 0 && rest[len - 1] != '.')
				len--;
			if (len == 0)
				return NULL;
			len--;	/* before the dot */
		}
		if (rest[len] == '\0')
			return c;
		v = c;
		rest += len + 1;
	}
	return NULL;
}

static enum dv_rc
load_paths(const json_t *j, struct fexpr *e)
{
	const json_t *p;
	size_t i;

	if (json_is_string(j)) {
		if (!path_ok(json_string_value(j)))
			return DV_ERR_MALFORMED;
		e->paths = xcalloc(1, sizeof(*e->paths));
		e->paths[e->npaths++] = xstrdup(json_string_value(j));
		return DV_OK;
	}
	if (!json_is_array(j) || json_array_size(j) == 0 ||
	    json_array_size(j) > DV_MAX_MDM_PATH_DEPTH)
		return DV_ERR_MALFORMED;
	e->paths = xcalloc(json_array_size(j), sizeof(*e->paths));
	json_array_foreach(j, i, p) {
		if (!json_is_string(p) || !path_ok(json_string_value(p)))
			return DV_ERR_MALFORMED;
		e->paths[e->npaths++] = xstrdup(json_string_value(p));
	}
	return DV_OK;
}

/* A {from: to} table whose values are usable strings. */
static bool
map_ok(const json_t *map, size_t max)
{
	const char *k;
	json_t *v;

	if (!json_is_object(map))
		return false;
	json_object_foreach((json_t *)map, k, v) {
		if (!jvalue_ok(v, max, false))
			return false;
	}
	return true;
}

/* Parses one FIELD expression (see inv.h) whose values are at most max
 * bytes (lines: PEM). */
static enum dv_rc
load_fexpr(const json_t *j, const json_t *map, size_t max, bool lines,
    struct fexpr **out)
{
	struct fexpr *e = xcalloc(1, sizeof(*e));
	const json_t *v;
	const char *k;

	*out = NULL;
	e->kind = F_PATH;
	e->max = max;
	e->lines = lines;
	if (json_is_object(j) && json_object_get(j, "const") != NULL) {
		v = json_object_get(j, "const");
		if (json_object_size(j) != 1 || !jvalue_ok(v, max, lines))
			goto err;
		e->kind = F_CONST;
		e->cval = xstrdup(json_string_value(v));
		*out = e;
		return DV_OK;
	}
	if (json_is_object(j)) {
		json_object_foreach((json_t *)j, k, v) {
			if (strcmp(k, "path") != 0 && strcmp(k, "map") != 0 &&
			    strcmp(k, "default") != 0)
				goto err;
		}
		if (load_paths(json_object_get(j, "path"), e) != DV_OK)
			goto err;
		if ((v = json_object_get(j, "map")) != NULL) {
			if (!map_ok(v, max))
				goto err;
			map = v;
		}
		if ((v = json_object_get(j, "default")) != NULL) {
			if (!jvalue_ok(v, max, false))
				goto err;
			e->dflt = xstrdup(json_string_value(v));
		}
	} else if (load_paths(j, e) != DV_OK)
		goto err;
	if (map != NULL)
		e->map = json_deep_copy(map);
	*out = e;
	return DV_OK;
err:
	fexpr_free(e);
	return DV_ERR_MALFORMED;
}

/* The value of e in device d: a borrowed string or NULL. */
static const char *
fexpr_eval(const struct fexpr *e, const json_t *d)
{
	const json_t *v = NULL, *m;
	const char *s = NULL;
	size_t i;

	if (e->kind == F_CONST)
		return e->cval;
	for (i = 0; i < e->npaths; i++) {
		v = path_get(d, e->paths[i]);
		if (jvalue_ok(v, e->max, e->lines)) {
			s = json_string_value(v);
			break;
		}
	}
	if (s == NULL || e->map == NULL)
		return s;
	m = json_object_get(e->map, s);
	return m != NULL ? json_string_value(m) : e->dflt;
}

static enum dv_rc
load_paging(struct inv_mdm_map *m, const json_t *spec)
{
	const json_t *next = json_object_get(spec, "next");
	const json_t *page = json_object_get(spec, "page");
	const json_t *v;
	const char *k;

	if (next != NULL && page != NULL)
		return DV_ERR_MALFORMED;
	if (next != NULL) {
		if (!json_is_string(next) || !path_ok(json_string_value(next)))
			return DV_ERR_MALFORMED;
		m->next = xstrdup(json_string_value(next));
		return DV_OK;
	}
	if (page == NULL)
		return DV_OK;
	if (!json_is_object(page))
		return DV_ERR_MALFORMED;
	json_object_foreach((json_t *)page, k, v) {
		if (strcmp(k, "param") != 0 && strcmp(k, "sizeParam") != 0 &&
		    strcmp(k, "size") != 0 && strcmp(k, "total") != 0)
			return DV_ERR_MALFORMED;
	}
	/* Query parameter names are put into URLs as they are: plain ones
	 * only. */
	v = json_object_get(page, "param");
	if (!json_is_string(v) || strspn(json_string_value(v),
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
	    != json_string_length(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 64)
		return DV_ERR_MALFORMED;
	m->page_param = xstrdup(json_string_value(v));
	v = json_object_get(page, "sizeParam");
	if (!json_is_string(v) || strspn(json_string_value(v),
	    "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-_")
	    != json_string_length(v) || json_string_length(v) == 0 ||
	    json_string_length(v) > 64)
		return DV_ERR_MALFORMED;
	m->size_param = xstrdup(json_string_value(v));
	v = json_object_get(page, "size");
	if (!json_is_integer(v) || json_integer_value(v) < 1 ||
	    json_integer_value(v) > DV_MAX_MDM_PAGE_DEVICES)
		return DV_ERR_MALFORMED;
	m->page_size = json_integer_value(v);
	if ((v = json_object_get(page, "total")) != NULL) {
		if (!json_is_string(v) || !path_ok(json_string_value(v)))
			return DV_ERR_MALFORMED;
		m->total = xstrdup(json_string_value(v));
	}
	return DV_OK;
}

static enum dv_rc
load_fields(struct inv_mdm_map *m, const json_t *fields, const json_t *os_map,
    char **detail)
{
	const json_t *v, *t;
	const char *k;
	size_t i;
	bool pem;
	int f;

	if (!json_is_object(fields)) {
		*detail = xstrdup("mapping: \"fields\" must be an object");
		return DV_ERR_MALFORMED;
	}
	json_object_foreach((json_t *)fields, k, v) {
		if (strcmp(k, "tags") == 0) {
			if (!json_is_array(v) ||
			    json_array_size(v) > DV_MAX_MDM_TAGS)
				goto bad;
			json_array_foreach(v, i, t) {
				if (load_fexpr(t, NULL, DV_INV_MAX_TAG, false,
				    &m->tags[m->ntags]) != DV_OK)
					goto bad;
				m->ntags++;
			}
			continue;
		}
		for (f = 0; f < MF__MAX; f++)
			if (strcmp(k, field_names[f]) == 0)
				break;
		if (f == MF__MAX || m->f[f] != NULL)
			goto bad;
		/* an EK or EK certificate may be PEM */
		pem = f == MF_EK || f == MF_EK_CERT;
		if (load_fexpr(v, f == MF_OS ? os_map : NULL, pem ? DV_MAX_PEM :
		    DV_INV_MAX_FIELD, pem, &m->f[f]) != DV_OK)
			goto bad;
	}
	if (m->f[MF_NAME] == NULL) {
		*detail = xstrdup("mapping: \"fields\" needs \"name\"");
		return DV_ERR_MALFORMED;
	}
	if (m->f[MF_SERIAL] == NULL && m->f[MF_UDID] == NULL &&
	    m->f[MF_EK] == NULL && m->f[MF_EK_CERT] == NULL) {
		*detail = xstrdup("mapping: \"fields\" needs an identifier "
		    "(serial, udid, ek or ekCert)");
		return DV_ERR_MALFORMED;
	}
	return DV_OK;
bad:
	*detail = xasprintf("mapping: bad field expression for \"%.64s\"", k);
	return DV_ERR_MALFORMED;
}

/* Loads a mapping object that names no base. */
static enum dv_rc
load_object(const json_t *spec, struct inv_mdm_map **out, char **detail)
{
	struct inv_mdm_map *m = xcalloc(1, sizeof(*m));
	const json_t *v, *os_map;
	const char *k;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*out = NULL;
	json_object_foreach((json_t *)spec, k, v) {
		if (strcmp(k, "list") != 0 && strcmp(k, "next") != 0 &&
		    strcmp(k, "page") != 0 && strcmp(k, "fields") != 0 &&
		    strcmp(k, "osMap") != 0) {
			*detail = xasprintf("mapping: unknown member "
			    "\"%.64s\"", k);
			goto err;
		}
	}
	v = json_object_get(spec, "list");
	if (!json_is_string(v) || !path_ok(json_string_value(v))) {
		*detail = xstrdup("mapping: \"list\" must be a dotted path");
		goto err;
	}
	m->list = xstrdup(json_string_value(v));
	if (load_paging(m, spec) != DV_OK) {
		*detail = xstrdup("mapping: bad \"next\" or \"page\"");
		goto err;
	}
	os_map = json_object_get(spec, "osMap");
	if (os_map != NULL && !map_ok(os_map, DV_INV_MAX_FIELD)) {
		*detail = xstrdup("mapping: \"osMap\" must map strings to "
		    "strings");
		goto err;
	}
	if ((rc = load_fields(m, json_object_get(spec, "fields"), os_map,
	    detail)) != DV_OK)
		goto err;
	*out = m;
	return DV_OK;
err:
	inv_mdm_map_free(m);
	return rc;
}

static json_t *
builtin_spec(const char *name)
{
	size_t i;

	for (i = 0; i < sizeof(builtins) / sizeof(builtins[0]); i++)
		if (strcmp(builtins[i].name, name) == 0)
			return json_loads(builtins[i].json,
			    JSON_REJECT_DUPLICATES, NULL);
	return NULL;
}

enum dv_rc
inv_mdm_map_load(const json_t *spec, struct inv_mdm_map **out, char **detail)
{
	const json_t *base;
	json_t *full = NULL;
	enum dv_rc rc;

	*out = NULL;
	*detail = NULL;
	if (json_is_string(spec)) {
		if ((full = builtin_spec(json_string_value(spec))) == NULL) {
			*detail = xstrdup("mapping: unknown built-in mapping "
			    "(use \"jamf\" or \"intune\")");
			return DV_ERR_MALFORMED;
		}
	} else if (json_is_object(spec)) {
		full = json_deep_copy(spec);
		if ((base = json_object_get(spec, "base")) != NULL) {
			json_t *b;

			if (!json_is_string(base) || (b = builtin_spec(
			    json_string_value(base))) == NULL) {
				json_decref(full);
				*detail = xstrdup("mapping: \"base\" must name "
				    "a built-in mapping");
				return DV_ERR_MALFORMED;
			}
			/* the custom members replace the built-in's */
			json_object_del(full, "base");
			json_object_update(b, full);
			json_decref(full);
			full = b;
		}
	} else {
		*detail = xstrdup("mapping: a built-in name or an object");
		return DV_ERR_MALFORMED;
	}
	rc = load_object(full, out, detail);
	json_decref(full);
	return rc;
}

char *
inv_mdm_map_first_url(const struct inv_mdm_map *m, const char *url)
{
	if (m->page_param == NULL)
		return xstrdup(url);
	return xasprintf("%s%s%s=0&%s=%lld", url,
	    strchr(url, '?') != NULL ? "&" : "?", m->page_param,
	    m->size_param, m->page_size);
}

/* Maps one source device; NULL when it cannot be (skipped). */
static json_t *
map_device(const struct inv_mdm_map *m, const char *source, const json_t *d)
{
	json_t *body, *ids, *tags;
	const char *v;
	size_t i;
	int f;

	if (!json_is_object(d))
		return NULL;
	if ((v = fexpr_eval(m->f[MF_NAME], d)) == NULL)
		return NULL;
	body = json_pack("{s:s}", "name", v);
	for (f = MF_OWNER; f <= MF_KIND; f++) {
		if (m->f[f] == NULL ||
		    (v = fexpr_eval(m->f[f], d)) == NULL)
			continue;
		json_object_set_new(body, field_names[f], json_string(v));
	}
	json_object_set_new(body, "source", json_sprintf("mdm:%s", source));
	ids = json_array();
	for (f = MF_SERIAL; f < MF__MAX; f++) {
		if (m->f[f] == NULL ||
		    (v = fexpr_eval(m->f[f], d)) == NULL)
			continue;
		json_array_append_new(ids, json_pack("{s:s,s:s}", "type",
		    ident_types[f], "value", v));
	}
	if (json_array_size(ids) == 0) {
		json_decref(ids);
		json_decref(body);
		return NULL;
	}
	json_object_set_new(body, "identifiers", ids);
	tags = json_array();
	for (i = 0; i < m->ntags; i++) {
		size_t j;
		bool dup = false;

		if ((v = fexpr_eval(m->tags[i], d)) == NULL)
			continue;
		for (j = 0; j < json_array_size(tags); j++)
			if (strcmp(json_string_value(json_array_get(tags, j)),
			    v) == 0)
				dup = true;
		if (!dup)
			json_array_append_new(tags, json_string(v));
	}
	if (json_array_size(tags) > 0)
		json_object_set_new(body, "tags", tags);
	else
		json_decref(tags);
	return body;
}

enum dv_rc
inv_mdm_map_list(const struct inv_mdm_map *m, const char *source,
    const json_t *list, json_t *devices, size_t *skipped)
{
	const json_t *d;
	json_t *body;
	size_t i;

	if (!json_is_array(list))
		return DV_ERR_MALFORMED;
	if (json_array_size(list) > DV_MAX_MDM_PAGE_DEVICES)
		return DV_ERR_TOO_LARGE;
	json_array_foreach(list, i, d) {
		if ((body = map_device(m, source, d)) == NULL)
			(*skipped)++;
		else
			json_array_append_new(devices, body);
	}
	return DV_OK;
}

enum dv_rc
inv_mdm_map_doc(const struct inv_mdm_map *m, const char *source,
    const json_t *doc, const char *url, unsigned page, json_t *devices,
    size_t *skipped, char **next)
{
	const json_t *list, *v;
	size_t n;
	enum dv_rc rc;

	*next = NULL;
	list = path_get(doc, m->list);
	if ((rc = inv_mdm_map_list(m, source, list, devices, skipped))
	    != DV_OK)
		return rc;
	n = json_array_size(list);
	if (m->next != NULL) {
		v = path_get(doc, m->next);
		if (json_is_string(v) && json_string_length(v) > 0 &&
		    json_string_length(v) <= DV_MAX_NAME * 4)
			*next = xstrdup(json_string_value(v));
		return DV_OK;
	}
	if (m->page_param == NULL || n == 0 || (long long)n < m->page_size)
		return DV_OK;
	if (m->total != NULL) {
		v = path_get(doc, m->total);
		if (json_is_integer(v) && json_integer_value(v) <=
		    ((long long)page + 1) * m->page_size)
			return DV_OK;
	}
	/* The caller bounds the pages (DV_MAX_MDM_PAGES): stopping here
	 * would turn a long inventory into a short one. */
	*next = xasprintf("%s%s%s=%u&%s=%lld", url,
	    strchr(url, '?') != NULL ? "&" : "?", m->page_param, page + 1,
	    m->size_param, m->page_size);
	return DV_OK;
}
