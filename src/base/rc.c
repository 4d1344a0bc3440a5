#include <stddef.h>

#include "rc.h"

static const struct dv_rc_info rc_table[DV_RC__MAX] = {
	[DV_OK] = { 200, "ok", "OK" },
	[DV_ERR_INTERNAL] = { 500, "internal", "Internal server error" },
	[DV_ERR_IO] = { 500, "internal", "Internal server error (I/O)" },
	[DV_ERR_CRYPTO] = { 500, "internal", "Internal server error (crypto)" },
	[DV_ERR_STORE] = { 500, "internal", "Internal server error (store)" },
	[DV_ERR_UNAVAILABLE] = { 503, "unavailable", "Service unavailable" },
	[DV_ERR_MALFORMED] = { 400, "malformed", "The request could not be parsed" },
	[DV_ERR_TOO_LARGE] = { 413, "tooLarge", "The request exceeds a limit" },
	[DV_ERR_BAD_CSR] = { 400, "badCSR", "invalid csr" },
	[DV_ERR_BAD_KEY] = { 400, "badPublicKey", "The public key is not acceptable" },
	[DV_ERR_UNAUTHORIZED] = { 401, "unauthorized", "The request lacked necessary authorization" },
	[DV_ERR_BAD_TOKEN] = { 401, "badToken", "The token is invalid" },
	[DV_ERR_TOKEN_EXPIRED] = { 401, "tokenExpired", "The token is expired or not yet valid" },
	[DV_ERR_TOKEN_AUDIENCE] = { 401, "badAudience", "The token audience is not this authority" },
	[DV_ERR_TOKEN_ISSUER] = { 401, "badIssuer", "The token issuer does not match a provisioner" },
	[DV_ERR_TOKEN_REUSED] = { 401, "tokenReused", "token already used" },
	[DV_ERR_UNTRUSTED] = { 401, "untrusted", "The certificate chain is not trusted" },
	[DV_ERR_FORBIDDEN] = { 403, "forbidden", "The request was forbidden by the certificate authority" },
	[DV_ERR_POLICY] = { 403, "rejectedIdentifier", "A name is not allowed by policy" },
	[DV_ERR_LIFETIME] = { 403, "badLifetime", "The requested validity is not allowed" },
	[DV_ERR_SANS_MISMATCH] = { 403, "badSANs", "The CSR names differ from the authorized names" },
	[DV_ERR_REVOKED] = { 401, "revoked", "The certificate is revoked" },
	[DV_ERR_EXPIRED] = { 401, "expired", "The certificate is expired" },
	[DV_ERR_ALREADY_REVOKED] = { 400, "alreadyRevoked", "The certificate is already revoked" },
	[DV_ERR_NOT_FOUND] = { 404, "notFound", "Not found" },
	[DV_ERR_METHOD] = { 405, "methodNotAllowed", "Method not allowed" },
	[DV_ERR_EXISTS] = { 409, "conflict", "The object already exists" },
	[DV_ERR_NOT_IMPLEMENTED] = { 501, "notImplemented", "Not implemented" },
};

const struct dv_rc_info *
dv_rc_info(enum dv_rc rc)
{
	if ((unsigned)rc >= DV_RC__MAX || rc_table[rc].name == NULL)
		return &rc_table[DV_ERR_INTERNAL];
	return &rc_table[rc];
}

const char *
dv_rc_str(enum dv_rc rc)
{
	return dv_rc_info(rc)->title;
}
