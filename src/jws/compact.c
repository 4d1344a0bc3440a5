/*
 * compact.c - the JWS compact serialisation (RFC 7515 §3.1, §7.1) and
 * base64url (RFC 7515 §2, RFC 4648 §5 without padding).
 */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/evp.h>

#include "jws_int.h"

static const struct jws_alg algs[] = {
	{ "ES256", "EC", "P-256" },
	{ "ES384", "EC", "P-384" },
	{ "ES512", "EC", "P-521" },
	{ "RS256", "RSA", NULL },
	{ "RS384", "RSA", NULL },
	{ "RS512", "RSA", NULL },
	{ "PS256", "RSA", NULL },
	{ "PS384", "RSA", NULL },
	{ "PS512", "RSA", NULL },
	{ "EdDSA", "OKP", "Ed25519" },
};

const struct jws_alg *
jws_alg_find(const char *name)
{
	size_t i;

	if (name == NULL)
		return NULL;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].name, name) == 0)
			return &algs[i];
	return NULL;
}

const struct jws_alg *
jws_alg_for_jwk(const json_t *jwk)
{
	const char *alg, *kty, *crv;
	size_t i;

	if ((alg = json_get_str(jwk, "alg")) != NULL)
		return jws_alg_find(alg);
	if ((kty = json_get_str(jwk, "kty")) == NULL)
		return NULL;
	if (strcmp(kty, "RSA") == 0)
		return jws_alg_find("RS256");
	if ((crv = json_get_str(jwk, "crv")) == NULL)
		return NULL;
	for (i = 0; i < sizeof(algs) / sizeof(algs[0]); i++)
		if (strcmp(algs[i].kty, kty) == 0 && algs[i].crv != NULL &&
		    strcmp(algs[i].crv, crv) == 0)
			return &algs[i];
	return NULL;
}

static void
reject(enum log_level l, const char *clause, const char *value)
{
	log_msg(l, "jws.rejected", "{s:s,s:s*}", "reason", clause, "value",
	    value);
}

/* 1 + the value of each base64url character (RFC 4648 §5), 0 for the
 * others: one load per character on the request path. */
static const uint8_t b64url_tab[256] = {
	['A'] = 1, ['B'] = 2, ['C'] = 3, ['D'] = 4, ['E'] = 5, ['F'] = 6,
	['G'] = 7, ['H'] = 8, ['I'] = 9, ['J'] = 10, ['K'] = 11, ['L'] = 12,
	['M'] = 13, ['N'] = 14, ['O'] = 15, ['P'] = 16, ['Q'] = 17,
	['R'] = 18, ['S'] = 19, ['T'] = 20, ['U'] = 21, ['V'] = 22,
	['W'] = 23, ['X'] = 24, ['Y'] = 25, ['Z'] = 26, ['a'] = 27,
	['b'] = 28, ['c'] = 29, ['d'] = 30, ['e'] = 31, ['f'] = 32,
	['g'] = 33, ['h'] = 34, ['i'] = 35, ['j'] = 36, ['k'] = 37,
	['l'] = 38, ['m'] = 39, ['n'] = 40, ['o'] = 41, ['p'] = 42,
	['q'] = 43, ['r'] = 44, ['s'] = 45, ['t'] = 46, ['u'] = 47,
	['v'] = 48, ['w'] = 49, ['x'] = 50, ['y'] = 51, ['z'] = 52,
	['0'] = 53, ['1'] = 54, ['2'] = 55, ['3'] = 56, ['4'] = 57,
	['5'] = 58, ['6'] = 59, ['7'] = 60, ['8'] = 61, ['9'] = 62,
	['-'] = 63, ['_'] = 64
};

/* The value of a base64url character, -1 for others. */
static int
b64url_val(unsigned char c)
{
	return (int)b64url_tab[c] - 1;
}

bool
jws_b64url_valid(const char *s, size_t len)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i;

	for (i = 0; i < len; i++)
		if (b64url_tab[p[i]] == 0)
			return false;
	return true;
}

char *
jws_b64url_encode(const uint8_t *data, size_t len)
{
	size_t n;
	char *s;

	n = jose_b64_enc_buf(data, len, NULL, 0);
	if (n == SIZE_MAX)
		abort();	/* only on size overflow: cannot happen */
	s = xmalloc(n + 1);
	if (n > 0 && jose_b64_enc_buf(data, len, s, n) != n)
		abort();
	s[n] = '\0';
	return s;
}

/*
 * Decodes exactly len characters.  The alphabet and the trailing bits are
 * checked here (a length of 1 mod 4 and non-zero trailing bits are
 * refused), so each byte string has one encoding only: a token cannot be
 * re-encoded to dodge a replay key made from its text.  The text is mapped
 * to the standard alphabet with its padding and decoded by OpenSSL's
 * EVP_DecodeBlock: libjose's decoder cost ~140 instructions a character,
 * 3 % of a /1.0/sign (callgrind).
 */
static enum dv_rc
b64url_decode_n(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	static const char std[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	const unsigned char *p = (const unsigned char *)s;
	unsigned char stackbuf[1024], *tmp;
	uint8_t *buf;
	size_t i, n, padded;
	int v = 0, got;

	*out = NULL;
	*outlen = 0;
	if (len % 4 == 1 || len > (size_t)INT_MAX - 4)
		return DV_ERR_MALFORMED;
	padded = (len + 3) / 4 * 4;
	tmp = padded <= sizeof(stackbuf) ? stackbuf : xmalloc(padded);
	for (i = 0; i < len; i++) {
		if ((v = b64url_val(p[i])) < 0)
			break;
		tmp[i] = (unsigned char)std[v];
	}
	/* RFC 4648 §3.5: the unused bits of the last character are zero */
	if (i < len || (len % 4 == 2 && (v & 0x0f) != 0) ||
	    (len % 4 == 3 && (v & 0x03) != 0)) {
		if (tmp != stackbuf)
			free(tmp);
		return DV_ERR_MALFORMED;
	}
	for (; i < padded; i++)
		tmp[i] = '=';
	n = len / 4 * 3 + (len % 4 != 0 ? len % 4 - 1 : 0);
	buf = xmalloc(padded / 4 * 3 + 1);
	got = padded > 0 ? EVP_DecodeBlock(buf, tmp, (int)padded) : 0;
	if (tmp != stackbuf)
		free(tmp);
	if (got < 0 || (size_t)got != padded / 4 * 3) {
		free(buf);
		return DV_ERR_MALFORMED;
	}
	buf[n] = '\0';
	*out = buf;
	*outlen = n;
	return DV_OK;
}

enum dv_rc
jws_b64url_decode(const char *s, uint8_t **out, size_t *len)
{
	*out = NULL;
	*len = 0;
	if (s == NULL)
		return DV_ERR_MALFORMED;
	return b64url_decode_n(s, strlen(s), out, len);
}

void
jws_split(const char *compact, struct jws_parts *out)
{
	const char *d1, *d2;

	memset(out, 0, sizeof(*out));
	/* jws_parse() made sure there are exactly two dots */
	d1 = strchr(compact, '.');
	d2 = strchr(d1 + 1, '.');
	out->hdr = compact;
	out->hdrlen = d1 - compact;
	out->payload = d1 + 1;
	out->payloadlen = d2 - (d1 + 1);
	out->sig = d2 + 1;
	out->siglen = strlen(d2 + 1);
}

/* Decodes one segment as a strict JSON object. */
static enum dv_rc
segment_json(const char *seg, size_t len, const char *what, json_t **out)
{
	uint8_t *raw = NULL;
	size_t rawlen;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = b64url_decode_n(seg, len, &raw, &rawlen)) != DV_OK) {
		reject(LOG_WARN, "RFC 7515 §7.1: segment is not base64url",
		    what);
		rc = DV_ERR_BAD_TOKEN;
		goto out;
	}
	if ((rc = json_parse_strict(raw, rawlen, DV_MAX_TOKEN, out)) != DV_OK) {
		reject(LOG_WARN, "RFC 7515 §7.1: segment is not a strict JSON "
		    "object (duplicate keys refused)", what);
		rc = DV_ERR_BAD_TOKEN;
		goto out;
	}
out:
	free(raw);
	return rc;
}

/* RFC 7515 §4.1: the protected header members we accept. */
static enum dv_rc
header_check(const json_t *hdr)
{
	const char *alg;

	if (!json_is_string(json_object_get(hdr, "alg"))) {
		reject(LOG_WARN, "RFC 7515 §4.1.1: alg missing", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	alg = json_get_str(hdr, "alg");
	if (jws_alg_find(alg) == NULL) {
		/* "none" (RFC 7518 §3.6), HS* and unknown algs */
		reject(LOG_WARN, "RFC 7515 §4.1.1: alg not accepted", alg);
		return DV_ERR_BAD_TOKEN;
	}
	if (json_object_get(hdr, "crit") != NULL) {
		/* RFC 7515 §4.1.11: we understand no extension */
		reject(LOG_WARN, "RFC 7515 §4.1.11: crit header refused",
		    NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (json_object_get(hdr, "b64") != NULL) {
		/* RFC 7797 §6: b64 only makes sense with crit */
		reject(LOG_WARN, "RFC 7797 §6: b64 header refused", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	return DV_OK;
}

enum dv_rc
jws_parse(const char *s, size_t len, struct jws_token **out)
{
	struct jws_token *t = NULL;
	struct jws_parts p;
	size_t i, dots = 0;
	enum dv_rc rc;

	*out = NULL;
	if (s == NULL || len == 0) {
		reject(LOG_WARN, "RFC 7515 §7.1: empty token", NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (len > DV_MAX_TOKEN) {
		reject(LOG_WARN, "limits.h DV_MAX_TOKEN: token too large",
		    NULL);
		return DV_ERR_TOO_LARGE;
	}
	for (i = 0; i < len; i++) {
		if (s[i] == '.')
			dots++;
		else if (b64url_val((unsigned char)s[i]) < 0) {
			reject(LOG_WARN, "RFC 7515 §7.1: character outside "
			    "base64url in compact JWS", NULL);
			return DV_ERR_BAD_TOKEN;
		}
	}
	if (dots != 2) {
		reject(LOG_WARN, "RFC 7515 §7.1: compact JWS needs three "
		    "segments", NULL);
		return DV_ERR_BAD_TOKEN;
	}

	t = xcalloc(1, sizeof(*t));
	t->compact = xstrndup(s, len);
	jws_split(t->compact, &p);
	if (p.hdrlen == 0 || p.payloadlen == 0 || p.siglen == 0) {
		reject(LOG_WARN, "RFC 7515 §7.1: empty segment", NULL);
		rc = DV_ERR_BAD_TOKEN;
		goto err;
	}
	if ((rc = segment_json(p.hdr, p.hdrlen, "header", &t->header)) !=
	    DV_OK)
		goto err;
	if ((rc = header_check(t->header)) != DV_OK)
		goto err;
	if ((rc = segment_json(p.payload, p.payloadlen, "payload",
	    &t->claims)) != DV_OK)
		goto err;
	*out = t;
	return DV_OK;
err:
	jws_token_free(t);
	return rc;
}

void
jws_token_free(struct jws_token *t)
{
	if (t == NULL)
		return;
	if (t->compact != NULL) {
		/* a bearer credential until it is used (rule 14) */
		explicit_bzero(t->compact, strlen(t->compact));
		free(t->compact);
	}
	json_decref(t->header);
	json_decref(t->claims);
	free(t);
}
