/*
 * renewal.c - ACME Renewal Information (RFC 9773 §4): GET
 * renewal-info/{certID}, certID = base64url(AKI keyIdentifier) "."
 * base64url(serial DER content).  The suggested window is the last third
 * of the certificate's lifetime (the second half of it, roughly where
 * clients renew by themselves), or "now" for a revoked certificate.
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

/* Clients poll again after this many seconds (RFC 9773 §4.3). */
#define ACME_ARI_RETRY	21600

void
acme_renewal_info(struct acme_ctx *c, const char *cert_id)
{
	struct store_cert *row = NULL;
	const char *dot = strchr(cert_id, '.');
	uint8_t *aki = NULL, *ser = NULL;
	size_t akilen = 0, serlen = 0;
	char *hex = NULL, *x = NULL, *serial = NULL, *aki_s = NULL;
	char a[40], b[40];
	time_t start, end, life;
	enum dv_rc rc;

	if (dot == NULL || dot == cert_id || dot[1] == '\0' ||
	    strchr(dot + 1, '.') != NULL) {
		acme_fail(c, ACME_ERR_MALFORMED, "the certID is not "
		    "AKI.serial (RFC 9773 §4.1)");
		goto out;
	}
	aki_s = xstrndup(cert_id, (size_t)(dot - cert_id));
	if (jws_b64url_decode(aki_s, &aki, &akilen) != DV_OK ||
	    jws_b64url_decode(dot + 1, &ser, &serlen) != DV_OK ||
	    serlen == 0 || serlen > 20 || akilen == 0) {
		acme_fail(c, ACME_ERR_MALFORMED, "the certID is not "
		    "AKI.serial (RFC 9773 §4.1)");
		goto out;
	}
	hex = hex_encode(ser, serlen);
	x = xasprintf("0x%s", hex);
	if (pki_serial_normalise(x, &serial) != DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "bad serial in certID");
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
	c->resp->retry_after = ACME_ARI_RETRY;
out:
	if (row != NULL)
		store_cert_free(row);
	free(aki);
	free(ser);
	free(hex);
	free(x);
	free(serial);
	free(aki_s);
}
