/*
 * claims.c - JWT registered claims (RFC 7519 §4.1) as step-ca checks them:
 * go-jose ValidateWithLeeway with one minute of leeway
 * (spec/provisioners.md §1.9 step 4), audiences compared with and without
 * the port (collection.go matchesAudience/stripPort).
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "jws_int.h"

static void
reject(const char *clause)
{
	log_msg(LOG_WARN, "jws.rejected", "{s:s}", "reason", clause);
}

/*
 * Reads a NumericDate (RFC 7519 §2: a JSON number, integer or not).
 * Returns DV_ERR_NOT_FOUND when absent, DV_ERR_BAD_TOKEN when not a number
 * or out of any sane range.
 */
static enum dv_rc
numeric_date(const json_t *claims, const char *key, int64_t *out)
{
	const json_t *v;
	double d;

	*out = 0;
	if ((v = json_object_get(claims, key)) == NULL)
		return DV_ERR_NOT_FOUND;
	if (json_is_integer(v)) {
		*out = json_integer_value(v);
	} else if (json_is_real(v)) {
		d = json_real_value(v);
		if (!isfinite(d))
			return DV_ERR_BAD_TOKEN;
		if (d < 0 || d > 1e15)
			return DV_ERR_BAD_TOKEN;
		*out = (int64_t)d;
	} else
		return DV_ERR_BAD_TOKEN;
	/* year 1970 to about 33000: keeps the arithmetic below exact */
	if (*out < 0 || *out > ((int64_t)1 << 40))
		return DV_ERR_BAD_TOKEN;
	return DV_OK;
}

enum dv_rc
jws_check_times(const json_t *claims, time_t now)
{
	int64_t exp, nbf = 0, iat = 0, start;
	bool has_nbf, has_iat;
	enum dv_rc rc;

	if ((rc = numeric_date(claims, "exp", &exp)) != DV_OK) {
		reject(rc == DV_ERR_NOT_FOUND ?
		    "RFC 7519 §4.1.4: exp claim missing" :
		    "RFC 7519 §4.1.4: exp is not a NumericDate");
		return DV_ERR_BAD_TOKEN;
	}
	rc = numeric_date(claims, "nbf", &nbf);
	if (rc != DV_OK && rc != DV_ERR_NOT_FOUND) {
		reject("RFC 7519 §4.1.5: nbf is not a NumericDate");
		return DV_ERR_BAD_TOKEN;
	}
	has_nbf = rc == DV_OK;
	rc = numeric_date(claims, "iat", &iat);
	if (rc != DV_OK && rc != DV_ERR_NOT_FOUND) {
		reject("RFC 7519 §4.1.6: iat is not a NumericDate");
		return DV_ERR_BAD_TOKEN;
	}
	has_iat = rc == DV_OK;

	if (has_nbf && (int64_t)now + DV_TOKEN_LEEWAY < nbf) {
		reject("RFC 7519 §4.1.5: token not yet valid (nbf, 1 min "
		    "leeway)");
		return DV_ERR_TOKEN_EXPIRED;
	}
	if ((int64_t)now - DV_TOKEN_LEEWAY > exp) {
		reject("RFC 7519 §4.1.4: token expired (exp, 1 min leeway)");
		return DV_ERR_TOKEN_EXPIRED;
	}
	if (has_iat && (int64_t)now + DV_TOKEN_LEEWAY < iat) {
		/* go-jose ErrIssuedInTheFuture */
		reject("RFC 7519 §4.1.6: token issued in the future (iat, "
		    "1 min leeway)");
		return DV_ERR_TOKEN_EXPIRED;
	}
	start = now;
	if (has_nbf || has_iat)
		start = has_nbf && (!has_iat || nbf > iat) ? nbf : iat;
	if (exp - start > DV_MAX_TOKEN_LIFETIME) {
		reject("limits.h DV_MAX_TOKEN_LIFETIME: token lives longer "
		    "than 1 hour");
		return DV_ERR_TOKEN_EXPIRED;
	}
	return DV_OK;
}

/*
 * step-ca stripPort: "https://host:443/1.0/sign" and "https://host/1.0/sign"
 * name the same audience.  Writes into buf (at least strlen(s) + 1 bytes)
 * s without the ":port" of its authority; other strings are copied as is.
 */
static void
strip_port(const char *s, char *buf)
{
	const char *auth, *end, *colon = NULL, *p;
	size_t n;

	strcpy(buf, s);
	if ((auth = strstr(s, "://")) == NULL)
		return;
	auth += 3;
	end = auth + strcspn(auth, "/?#");
	for (p = auth; p < end; p++) {
		if (*p == '@')		/* userinfo may contain ':' */
			colon = NULL;
		else if (*p == ']')	/* IPv6 literal: colons inside */
			colon = NULL;
		else if (*p == ':')
			colon = p;
	}
	if (colon == NULL)
		return;
	for (p = colon + 1; p < end; p++)
		if (*p < '0' || *p > '9')
			return;
	n = colon - s;
	memcpy(buf, s, n);
	strcpy(buf + n, end);
}

static bool
aud_matches(const char *a, const char *b)
{
	char *sa, *sb;
	bool ok;

	if (strcmp(a, b) == 0)
		return true;
	sa = xmalloc(strlen(a) + 1);
	sb = xmalloc(strlen(b) + 1);
	strip_port(a, sa);
	strip_port(b, sb);
	ok = strcmp(sa, sb) == 0;
	free(sa);
	free(sb);
	return ok;
}

bool
jws_check_audience(const json_t *claims, const char *const *auds, size_t n)
{
	const json_t *aud, *v;
	size_t i, j;

	aud = json_object_get(claims, "aud");
	if (json_is_string(aud)) {
		for (j = 0; j < n; j++)
			if (auds[j] != NULL &&
			    aud_matches(json_string_value(aud), auds[j]))
				return true;
		return false;
	}
	if (!json_is_array(aud))
		return false;
	json_array_foreach(aud, i, v) {
		if (!json_is_string(v))
			continue;
		for (j = 0; j < n; j++)
			if (auds[j] != NULL &&
			    aud_matches(json_string_value(v), auds[j]))
				return true;
	}
	return false;
}
