/*
 * renewal.c - ACME Renewal Information (RFC 9773 §4): GET
 * renewal-info/{certID}, certID = base64url(AKI keyIdentifier) "."
 * base64url(serial DER content).  Checks, in this order:
 *   1. at most ACME_ARI_MAX_CERTID characters, two non-empty base64url
 *      parts around one "." ..................................... malformed
 *   2. the serial is a positive, minimally encoded INTEGER of at most 20
 *      octets (RFC 5280 §4.1.2.2), the keyIdentifier 1..64 octets . malformed
 *   3. the keyIdentifier is our intermediate's (the issuer's) subject key
 *      identifier, and a certificate of this authority has the serial
 *      ............................................. malformed, status 404
 * The suggested window is the last third of the certificate's lifetime
 * (the first half of it: roughly where clients renew by themselves), or
 * an hour ago to now for a revoked certificate (§4.2: renew at once).
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

/* Clients poll again after this many seconds (RFC 9773 §4.3); after a
 * minute for a revoked certificate (§4.3.2's floor). */
#define ACME_ARI_RETRY		21600
#define ACME_ARI_RETRY_REVOKED	60
/* Bytes of a keyIdentifier (SHA-1: 20; longer methods: up to 64). */
#define ACME_ARI_MAX_KEYID	64

static bool
b64url(const char *s, size_t n)
{
	size_t i;

	for (i = 0; i < n; i++)
		if (!((s[i] >= 'A' && s[i] <= 'Z') || (s[i] >= 'a' &&
		    s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		    s[i] == '-' || s[i] == '_'))
			return false;
	return n > 0;
}

bool
acme_certid_parse(const char *cert_id, uint8_t **aki, size_t *akilen,
    char **serial)
{
	const char *dot = strchr(cert_id, '.');
	uint8_t *k = NULL, *ser = NULL;
	size_t klen = 0, serlen = 0;
	char *aki_s = NULL, *hex = NULL, *x = NULL;
	bool ok = false;

	*aki = NULL;
	*akilen = 0;
	*serial = NULL;
	if (strlen(cert_id) > ACME_ARI_MAX_CERTID || dot == NULL ||
	    !b64url(cert_id, (size_t)(dot - cert_id)) ||
	    !b64url(dot + 1, strlen(dot + 1)))
		goto out;
	aki_s = xstrndup(cert_id, (size_t)(dot - cert_id));
	if (jws_b64url_decode(aki_s, &k, &klen) != DV_OK ||
	    jws_b64url_decode(dot + 1, &ser, &serlen) != DV_OK ||
	    klen == 0 || klen > ACME_ARI_MAX_KEYID ||
	    serlen == 0 || serlen > 20 || (ser[0] & 0x80) != 0 ||
	    (serlen > 1 && ser[0] == 0 && (ser[1] & 0x80) == 0))
		goto out;
	hex = hex_encode(ser, serlen);
	x = xasprintf("0x%s", hex);
	if (pki_serial_normalise(x, serial) != DV_OK)
		goto out;
	*aki = k;
	*akilen = klen;
	k = NULL;
	ok = true;
out:
	free(k);
	free(ser);
	free(aki_s);
	free(hex);
	free(x);
	return ok;
}

void
acme_renewal_info(struct acme_ctx *c, const char *cert_id)
{
	struct store_cert *row = NULL;
	uint8_t *aki = NULL;
	size_t akilen = 0;
	char *serial = NULL;
	char a[40], b[40];
	time_t start, end, life;
	enum dv_rc rc;

	if (!acme_certid_parse(cert_id, &aki, &akilen, &serial)) {
		acme_fail(c, ACME_ERR_MALFORMED, "the certID is not "
		    "base64url(AKI keyIdentifier).base64url(serial), a "
		    "positive DER INTEGER of at most 20 octets (RFC 9773 "
		    "§4.1)");
		goto out;
	}
	/* not our issuer's key: a certificate we cannot know */
	if (!pki_cert_ski_equal(c->auth->inter, aki, akilen)) {
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such certificate");
		goto out;
	}
	rc = store_cert_get(c->store, serial, &row);
	if (rc == DV_OK && strcmp(row->authority, c->auth->id) != 0)
		rc = DV_ERR_NOT_FOUND;
	if (rc == DV_ERR_NOT_FOUND) {
		acme_fail(c, ACME_ERR_NOT_FOUND, "no such certificate");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	life = row->not_after - row->not_before;
	if (row->revoked) {
		/* §4.2: renew now */
		start = dv_now() - 3600;
		end = dv_now();
	} else {
		start = row->not_after - life / 3;
		end = row->not_after - life / 6;
	}
	time_format_rfc3339(start, a, sizeof(a));
	time_format_rfc3339(end, b, sizeof(b));
	c->resp->json = json_pack("{s:{s:s,s:s}}", "suggestedWindow",
	    "start", a, "end", b);
	c->resp->retry_after = row->revoked ? ACME_ARI_RETRY_REVOKED :
	    ACME_ARI_RETRY;
out:
	if (row != NULL)
		store_cert_free(row);
	free(aki);
	free(serial);
}

/* ---- newOrder "replaces" (RFC 9773 §5) ------------------------------ */

/* True when the JSON identifier arrays a and b share a {type, value}. */
static bool
ids_share(const json_t *a, const json_t *b)
{
	const json_t *x, *y;
	size_t i, k;

	json_array_foreach(a, i, x)
		json_array_foreach(b, k, y)
			if (json_equal((json_t *)x, (json_t *)y))
				return true;
	return false;
}

struct replaced_by {
	const char	*serial;
	struct store_acme_order o;
};

static enum dv_rc
order_by_cert_tx(struct store_tx *tx, void *arg)
{
	struct replaced_by *r = arg;

	return store_acme_order_by_cert(tx, r->serial, &r->o);
}

bool
acme_replaces_check(struct acme_ctx *c, const char *cert_id,
    const json_t *ids)
{
	struct replaced_by r;
	uint8_t *aki = NULL;
	size_t akilen = 0;
	char *serial = NULL;
	json_t *old = NULL;
	bool ok = false;
	enum dv_rc rc;

	memset(&r, 0, sizeof(r));
	if (!acme_certid_parse(cert_id, &aki, &akilen, &serial)) {
		acme_fail(c, ACME_ERR_MALFORMED, "replaces is not a certID "
		    "(RFC 9773 §4.1)");
		goto out;
	}
	r.serial = serial;
	if (!pki_cert_ski_equal(c->auth->inter, aki, akilen) ||
	    (rc = store_read(c->store, order_by_cert_tx, &r)) ==
	    DV_ERR_NOT_FOUND || (rc == DV_OK && strcmp(r.o.prov, c->provid)
	    != 0)) {
		acme_fail(c, ACME_ERR_MALFORMED, "replaces names no "
		    "certificate this ACME provisioner issued");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	if (strcmp(r.o.account_id, c->acct.id) != 0) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the certificate replaces "
		    "names was issued to another account");
		goto out;
	}
	if ((old = json_loads(r.o.identifiers, JSON_REJECT_DUPLICATES, NULL))
	    == NULL || !ids_share(old, ids)) {
		acme_fail(c, ACME_ERR_MALFORMED, "the order shares no "
		    "identifier with the certificate it replaces");
		goto out;
	}
	ok = true;
out:
	json_decref(old);
	store_acme_order_clear(&r.o);
	free(aki);
	free(serial);
	return ok;
}

enum dv_rc
acme_replaces_tx(struct store_tx *tx, const struct store_acme_order *o,
    bool *replaced)
{
	enum dv_rc rc;

	*replaced = false;
	if (o->replaces == NULL)
		return DV_OK;
	rc = store_acme_order_replaced(tx, o->prov, o->replaces,
	    o->created_at);
	if (rc == DV_ERR_NOT_FOUND)
		return DV_OK;
	if (rc == DV_OK) {
		*replaced = true;
		return DV_ERR_EXISTS;
	}
	return rc;
}
