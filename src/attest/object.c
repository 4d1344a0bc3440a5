/*
 * object.c - the device-attest-01 attestation object (draft-ietf-acme-
 * device-attest-09 §5, WebAuthn §6.5.4; spec/attestation.md §7): strict,
 * bounded CBOR decoding with libcbor into struct att_object.
 *
 * libcbor 0.8 builds the whole tree and accepts indefinite lengths, tags
 * and any nesting, so the bytes are scanned first against limits.h
 * (rule 21: check before allocating) and only then handed to cbor_load.
 */
#include <stdlib.h>
#include <string.h>

#include "attest_int.h"

static const char *const fmt_names[ATT_FMT__MAX] = {
	[ATT_FMT_TPM] = "tpm",
	[ATT_FMT_APPLE] = "apple",
	[ATT_FMT_STEP] = "step",
};

const char *
att_fmt_name(enum att_fmt f)
{
	if ((unsigned)f >= ATT_FMT__MAX)
		return "unknown";
	return fmt_names[f];
}

/* Logs a refused CBOR object and returns rc. */
static enum dv_rc
cbor_bad(enum dv_rc rc, const char *what, const char *why, size_t off)
{
	log_msg(LOG_INFO, ATT_EV, "{s:s,s:s,s:I}", "object", what, "detail",
	    why, "offset", (json_int_t)off);
	return rc;
}

/*
 * RFC 8949 §3: checks that data is one well-formed item within the limits,
 * without allocating.  Only definite lengths (§3.2.2 indefinite ones are
 * refused), major types 0-5 (no tags, floats or simple values: nothing of
 * an attestation object is one).
 */
static enum dv_rc
cbor_scan(const uint8_t *d, size_t len, const char *what)
{
	uint64_t left[DV_ATT_CBOR_MAX_DEPTH + 1], arg;
	size_t off = 0, i, n;
	int depth = 0;
	unsigned mt, ai;

	if (len > DV_ATT_MAX_OBJECT)
		return cbor_bad(DV_ERR_TOO_LARGE, what,
		    "larger than DV_ATT_MAX_OBJECT", len);
	left[0] = 1;
	for (;;) {
		while (depth > 0 && left[depth] == 0)
			depth--;
		if (left[depth] == 0)
			break;
		left[depth]--;
		if (off >= len)
			return cbor_bad(DV_ERR_ATT_OBJECT, what,
			    "RFC 8949 §3: truncated", off);
		mt = d[off] >> 5;
		ai = d[off] & 0x1f;
		off++;
		if (ai < 24)
			arg = ai;
		else if (ai <= 27) {
			n = (size_t)1 << (ai - 24);
			if (len - off < n)
				return cbor_bad(DV_ERR_ATT_OBJECT, what,
				    "RFC 8949 §3: truncated argument", off);
			for (arg = 0, i = 0; i < n; i++)
				arg = arg << 8 | d[off + i];
			off += n;
		} else
			return cbor_bad(DV_ERR_ATT_OBJECT, what, "RFC 8949 "
			    "§3.2.2: indefinite length or reserved value",
			    off - 1);
		switch (mt) {
		case 0:		/* unsigned integer */
		case 1:		/* negative integer */
			break;
		case 2:		/* byte string */
		case 3:		/* text string */
			if (arg > DV_ATT_CBOR_MAX_STRING)
				return cbor_bad(DV_ERR_TOO_LARGE, what,
				    "string longer than "
				    "DV_ATT_CBOR_MAX_STRING", off);
			if (arg > len - off)
				return cbor_bad(DV_ERR_ATT_OBJECT, what,
				    "RFC 8949 §3: truncated string", off);
			off += (size_t)arg;
			break;
		case 4:		/* array */
		case 5:		/* map */
			if (arg > (mt == 4 ? DV_ATT_CBOR_MAX_ITEMS :
			    DV_ATT_CBOR_MAX_PAIRS))
				return cbor_bad(DV_ERR_TOO_LARGE, what,
				    mt == 4 ? "array longer than "
				    "DV_ATT_CBOR_MAX_ITEMS" : "map larger than "
				    "DV_ATT_CBOR_MAX_PAIRS", off);
			if (depth == DV_ATT_CBOR_MAX_DEPTH)
				return cbor_bad(DV_ERR_TOO_LARGE, what,
				    "nested deeper than DV_ATT_CBOR_MAX_DEPTH",
				    off);
			if (arg > 0)
				left[++depth] = mt == 4 ? arg : 2 * arg;
			break;
		default:
			return cbor_bad(DV_ERR_ATT_OBJECT, what, "tag, float "
			    "or simple value", off);
		}
	}
	if (off != len)
		return cbor_bad(DV_ERR_ATT_OBJECT, what,
		    "RFC 8949 §5.1: bytes after the item", off);
	return DV_OK;
}

enum dv_rc
att_cbor_load(const uint8_t *data, size_t len, const char *what,
    cbor_item_t **item)
{
	struct cbor_load_result r;
	cbor_item_t *it;
	enum dv_rc rc;

	*item = NULL;
	if ((rc = cbor_scan(data, len, what)) != DV_OK)
		return rc;
	it = cbor_load(data, len, &r);
	if (it == NULL) {
		/* CBOR_ERR_MEMERROR is the only failure left after the scan */
		if (r.error.code == CBOR_ERR_MEMERROR)
			abort();	/* rule 11 */
		return cbor_bad(DV_ERR_ATT_OBJECT, what, "libcbor refused it",
		    r.error.position);
	}
	if (r.read != len) {
		cbor_decref(&it);
		return cbor_bad(DV_ERR_ATT_OBJECT, what,
		    "RFC 8949 §5.1: bytes after the item", r.read);
	}
	*item = it;
	return DV_OK;
}

void
att_object_free(struct att_object *o)
{
	size_t i;

	if (o == NULL)
		return;
	for (i = 0; i < o->nx5c; i++)
		free(o->x5c[i].v);
	free(o->sig.v);
	free(o->cert_info.v);
	free(o->pub_area.v);
	free(o);
}

/* True if the text string item k is s. */
static bool
key_is(cbor_item_t *k, const char *s)
{
	return cbor_string_length(k) == strlen(s) &&
	    memcmp(cbor_string_handle(k), s, strlen(s)) == 0;
}

/* The map's keys are text strings and none repeats (RFC 8949 §5.6). */
static enum dv_rc
map_keys_ok(cbor_item_t *m, const char *what)
{
	struct cbor_pair *p = cbor_map_handle(m);
	size_t i, j, n = cbor_map_size(m);

	for (i = 0; i < n; i++) {
		if (!cbor_isa_string(p[i].key) ||
		    cbor_string_length(p[i].key) > DV_ATT_MAX_KEY)
			return cbor_bad(DV_ERR_ATT_OBJECT, what,
			    "map key is not a short text string", 0);
		for (j = 0; j < i; j++)
			if (cbor_string_length(p[i].key) ==
			    cbor_string_length(p[j].key) &&
			    memcmp(cbor_string_handle(p[i].key),
			    cbor_string_handle(p[j].key),
			    cbor_string_length(p[i].key)) == 0)
				return cbor_bad(DV_ERR_ATT_OBJECT, what,
				    "RFC 8949 §5.6: duplicate map key", 0);
	}
	return DV_OK;
}

/* A copy of byte string item v into b, or DV_ERR_ATT_STMT. */
static enum dv_rc
take_bytes(cbor_item_t *v, struct att_buf *b, const char *field)
{
	if (!cbor_isa_bytestring(v))
		return cbor_bad(DV_ERR_ATT_STMT, "attStmt", field, 0);
	b->len = cbor_bytestring_length(v);
	b->v = xmemdup(cbor_bytestring_handle(v), b->len ? b->len : 1);
	return DV_OK;
}

/* spec §7: each field with the type step-ca asserts. */
static enum dv_rc
stmt_field(struct att_object *o, cbor_item_t *k, cbor_item_t *v)
{
	cbor_item_t **items;
	uint64_t u;
	size_t i, n;
	enum dv_rc rc;

	if (key_is(k, "ver")) {
		n = cbor_isa_string(v) ? cbor_string_length(v) : 0;
		if (!cbor_isa_string(v) || n > DV_ATT_MAX_KEY ||
		    !str_printable((char *)cbor_string_handle(v), n))
			return cbor_bad(DV_ERR_ATT_STMT, "attStmt",
			    "ver is not a short printable text string", 0);
		memcpy(o->ver, cbor_string_handle(v), n);
		o->ver[n] = '\0';
		o->present |= ATT_F_VER;
	} else if (key_is(k, "alg")) {
		if (!cbor_isa_uint(v) && !cbor_isa_negint(v))
			return cbor_bad(DV_ERR_ATT_STMT, "attStmt",
			    "alg is not an integer", 0);
		if ((u = cbor_get_int(v)) > INT64_MAX)
			return cbor_bad(DV_ERR_ATT_STMT, "attStmt",
			    "alg out of range", 0);
		o->alg = cbor_isa_uint(v) ? (int64_t)u : -1 - (int64_t)u;
		o->present |= ATT_F_ALG;
	} else if (key_is(k, "x5c")) {
		if (!cbor_isa_array(v))
			return cbor_bad(DV_ERR_ATT_STMT, "attStmt",
			    "x5c is not an array", 0);
		items = cbor_array_handle(v);
		n = cbor_array_size(v);
		for (i = 0; i < n; i++) {
			if ((rc = take_bytes(items[i], &o->x5c[i],
			    "x5c element is not a byte string")) != DV_OK)
				return rc;
			o->nx5c = i + 1;
		}
		o->present |= ATT_F_X5C;
	} else if (key_is(k, "sig")) {
		if ((rc = take_bytes(v, &o->sig, "sig is not a byte string"))
		    != DV_OK)
			return rc;
		o->present |= ATT_F_SIG;
	} else if (key_is(k, "certInfo")) {
		if ((rc = take_bytes(v, &o->cert_info,
		    "certInfo is not a byte string")) != DV_OK)
			return rc;
		o->present |= ATT_F_CERTINFO;
	} else if (key_is(k, "pubArea")) {
		if ((rc = take_bytes(v, &o->pub_area,
		    "pubArea is not a byte string")) != DV_OK)
			return rc;
		o->present |= ATT_F_PUBAREA;
	} else
		return cbor_bad(DV_ERR_ATT_STMT, "attStmt", "unknown field",
		    0);
	return DV_OK;
}

/* fmt's text into o->fmt. */
static enum dv_rc
object_fmt(struct att_object *o, cbor_item_t *v)
{
	int f;

	if (!cbor_isa_string(v))
		return cbor_bad(DV_ERR_ATT_OBJECT, "object",
		    "fmt is not a text string", 0);
	for (f = 0; f < ATT_FMT__MAX; f++)
		if (key_is(v, fmt_names[f])) {
			o->fmt = (enum att_fmt)f;
			return DV_OK;
		}
	return cbor_bad(DV_ERR_ATT_FORMAT, "object",
	    "draft-ietf-acme-device-attest §5: unsupported fmt", 0);
}

enum dv_rc
att_object_parse(const uint8_t *data, size_t len, struct att_object **out)
{
	struct att_object *o;
	cbor_item_t *top = NULL, *stmt = NULL;
	struct cbor_pair *p, *sp;
	bool have_fmt = false;
	enum dv_rc rc;
	size_t i;

	*out = NULL;
	o = xcalloc(1, sizeof(*o));
	if ((rc = att_cbor_load(data, len, "object", &top)) != DV_OK)
		goto out;
	rc = DV_ERR_ATT_OBJECT;
	if (!cbor_isa_map(top)) {
		cbor_bad(rc, "object", "WebAuthn §6.5.4: not a map", 0);
		goto out;
	}
	if ((rc = map_keys_ok(top, "object")) != DV_OK)
		goto out;
	p = cbor_map_handle(top);
	for (i = 0; i < cbor_map_size(top); i++) {
		if (key_is(p[i].key, "fmt")) {
			if ((rc = object_fmt(o, p[i].value)) != DV_OK)
				goto out;
			have_fmt = true;
		} else if (key_is(p[i].key, "attStmt")) {
			stmt = p[i].value;
		} else if (key_is(p[i].key, "authData")) {
			/* draft §5: SHOULD be omitted; ignored when sent */
			if (!cbor_isa_bytestring(p[i].value)) {
				rc = cbor_bad(DV_ERR_ATT_OBJECT, "object",
				    "authData is not a byte string", 0);
				goto out;
			}
		} else {
			rc = cbor_bad(DV_ERR_ATT_OBJECT, "object",
			    "unknown member", 0);
			goto out;
		}
	}
	if (!have_fmt || stmt == NULL || !cbor_isa_map(stmt)) {
		rc = cbor_bad(DV_ERR_ATT_OBJECT, "object", "WebAuthn §6.5.4: "
		    "fmt or attStmt missing, or attStmt not a map", 0);
		goto out;
	}
	if ((rc = map_keys_ok(stmt, "attStmt")) != DV_OK)
		goto out;
	sp = cbor_map_handle(stmt);
	for (i = 0; i < cbor_map_size(stmt); i++)
		if ((rc = stmt_field(o, sp[i].key, sp[i].value)) != DV_OK)
			goto out;
	*out = o;
	o = NULL;
	rc = DV_OK;
out:
	if (top != NULL)
		cbor_decref(&top);
	att_object_free(o);
	return rc;
}
