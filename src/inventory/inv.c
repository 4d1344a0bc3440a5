/*
 * inv.c - the inventory handle, identifiers and encodings shared by the
 * files of src/inventory, and the audit glue.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pki/pki.h"
#include "inv_int.h"

enum dv_rc
inv_open(struct store *st, struct inv **out)
{
	struct inv *inv;

	*out = NULL;
	if (st == NULL)
		return DV_ERR_INTERNAL;
	inv = xcalloc(1, sizeof(*inv));
	inv->st = st;
	*out = inv;
	return DV_OK;
}

void
inv_free(struct inv *inv)
{
	free(inv);
}

/* RFC 4648 base32, lower case */
static const char b32_rfc[] = "abcdefghijklmnopqrstuvwxyz234567";
/* the same 32 characters in ASCII order: encodings sort as the bytes do */
static const char b32_sorted[] = "234567abcdefghijklmnopqrstuvwxyz";

/* "<prefix>" + base32 over the alphabet b32 (no padding) of p[0..n). */
static char *
id_b32(const char *prefix, const char *b32, const uint8_t *p, size_t n)
{
	size_t plen = strlen(prefix), i, bits = 0, o;
	uint32_t acc = 0;
	char *s;

	s = xmalloc(plen + (n * 8 + 4) / 5 + 1);
	memcpy(s, prefix, plen);
	o = plen;
	for (i = 0; i < n; i++) {
		acc = acc << 8 | p[i];
		bits += 8;
		while (bits >= 5) {
			s[o++] = b32[(acc >> (bits - 5)) & 31];
			bits -= 5;
		}
	}
	if (bits > 0)
		s[o++] = b32[(acc << (5 - bits)) & 31];
	s[o] = '\0';
	return s;
}

char *
inv_id_new(const char *prefix, size_t n)
{
	uint8_t rnd[32];

	if (n > sizeof(rnd))
		abort();
	/* pki_random fails only if the system RNG does: nothing to go on
	 * with, as with out-of-memory (rule 11) */
	if (pki_random(rnd, n) != DV_OK)
		abort();
	return id_b32(prefix, b32_rfc, rnd, n);
}

char *
inv_id_time(const char *prefix)
{
	struct timespec ts;
	uint8_t b[16];
	uint64_t ms;
	size_t i;

	clock_gettime(CLOCK_REALTIME, &ts);
	ms = (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
	for (i = 0; i < 6; i++)
		b[i] = (uint8_t)(ms >> (40 - 8 * i));
	if (pki_random(b + 6, 10) != DV_OK)
		abort();
	/* ids of later milliseconds sort after (strcmp): the device list's
	 * (created_at, id) order is then creation order across seconds */
	return id_b32(prefix, b32_sorted, b, sizeof(b));
}

char *
inv_b64url(const uint8_t *p, size_t len)
{
	char *s = NULL;
	size_t i, n;

	if (pki_b64_encode(p, len, &s) != DV_OK)
		abort();
	n = strlen(s);
	while (n > 0 && s[n - 1] == '=')
		s[--n] = '\0';
	for (i = 0; i < n; i++) {
		if (s[i] == '+')
			s[i] = '-';
		else if (s[i] == '/')
			s[i] = '_';
	}
	return s;
}

enum dv_rc
inv_b64url_decode(const char *s, uint8_t **out, size_t *len)
{
	size_t n = strlen(s), i;
	enum dv_rc rc;
	char *t;

	*out = NULL;
	*len = 0;
	if (n % 4 == 1)
		return DV_ERR_MALFORMED;
	t = xmalloc(n + 3);
	for (i = 0; i < n; i++) {
		if (s[i] == '+' || s[i] == '/' || s[i] == '=') {
			free(t);
			return DV_ERR_MALFORMED;
		}
		t[i] = s[i] == '-' ? '+' : s[i] == '_' ? '/' : s[i];
	}
	while (i % 4 != 0)
		t[i++] = '=';
	rc = pki_b64_decode(t, i, out, len);
	free(t);
	return rc;
}

json_t *
inv_time_json(time_t t)
{
	char buf[40];

	if (t == 0)
		return json_null();
	time_format_rfc3339(t, buf, sizeof(buf));
	return json_string(buf);
}

char *
inv_json_text(const json_t *j)
{
	char *s;

	if ((s = json_dumps(j, JSON_COMPACT | JSON_SORT_KEYS |
	    JSON_ENCODE_ANY)) == NULL)
		abort();	/* jansson fails only out of memory */
	return s;
}

void
inv_detail(char **detail, const char *fmt, ...)
{
	va_list ap;
	char *s;

	if (detail == NULL)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		abort();
	va_end(ap);
	free(*detail);
	*detail = s;
}

bool
inv_text_ok(const char *s, size_t max)
{
	size_t n, i;

	if (s == NULL || (n = strlen(s)) == 0 || n > max)
		return false;
	for (i = 0; i < n; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] == 0x7f)
			return false;
	return true;
}

bool
inv_team_ok(const char *team)
{
	size_t n;

	return team != NULL && (n = strlen(team)) > 0 && n <= 64 &&
	    strspn(team, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

enum dv_rc
inv_audit(struct store_tx *tx, const char *team, const struct inv_actor *a,
    const char *action, const char *object, const json_t *detail)
{
	struct store_audit row = { 0 };
	char *text = NULL;
	enum dv_rc rc;

	row.actor = a != NULL && a->who != NULL ? a->who : "system";
	row.request_id = a != NULL ? a->request_id : NULL;
	row.action = action;
	row.object = object;
	row.team = team;
	if (detail != NULL)
		row.detail = text = inv_json_text(detail);
	rc = store_tx_audit(tx, &row);
	free(text);
	return rc;
}
