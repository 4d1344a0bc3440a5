/*
 * rc.h - the one error-code enum of devid (STYLE rule 7).
 *
 * A function that can fail returns enum dv_rc; DV_OK is 0.  Each code maps,
 * through dv_rc_info(), to an HTTP status, a problem-type name and a fixed
 * title.  Only src/api uses the mapping to build responses.
 */
#ifndef DV_RC_H
#define DV_RC_H

enum dv_rc {
	DV_OK = 0,
	DV_ERR_INTERNAL,	/* bug or unexpected library failure: 500 */
	DV_ERR_IO,		/* file or socket error: 500 */
	DV_ERR_CRYPTO,		/* OpenSSL failure on trusted data: 500 */
	DV_ERR_STORE,		/* database failure: 500 */
	DV_ERR_UNAVAILABLE,	/* overloaded or shutting down: 503 */
	DV_ERR_MALFORMED,	/* request cannot be parsed: 400 */
	DV_ERR_TOO_LARGE,	/* over a limit of limits.h: 413 */
	DV_ERR_BAD_CSR,		/* CSR unparsable or bad signature: 400 */
	DV_ERR_BAD_KEY,		/* key type or size not allowed: 400 */
	DV_ERR_UNAUTHORIZED,	/* no or bad credentials: 401 */
	DV_ERR_BAD_TOKEN,	/* token unparsable or signature bad: 401 */
	DV_ERR_TOKEN_EXPIRED,	/* exp/nbf/iat out of range: 401 */
	DV_ERR_TOKEN_AUDIENCE,	/* aud not ours: 401 */
	DV_ERR_TOKEN_ISSUER,	/* iss does not name the provisioner: 401 */
	DV_ERR_TOKEN_REUSED,	/* one-time token replayed: 401 */
	DV_ERR_UNTRUSTED,	/* chain does not verify to a trusted root: 401 */
	DV_ERR_FORBIDDEN,	/* authenticated, not allowed: 403 */
	DV_ERR_POLICY,		/* names outside the provisioner policy: 403 */
	DV_ERR_LIFETIME,	/* validity outside the claims: 403 */
	DV_ERR_SANS_MISMATCH,	/* CSR names differ from the token: 403 */
	DV_ERR_REVOKED,		/* certificate is revoked: 401 */
	DV_ERR_EXPIRED,		/* certificate expired (renewal refused): 401 */
	DV_ERR_ALREADY_REVOKED,	/* second revocation: 400 */
	DV_ERR_NOT_FOUND,	/* no such object: 404 */
	DV_ERR_METHOD,		/* method not allowed on this path: 405 */
	DV_ERR_EXISTS,		/* unique object exists: 409 */
	DV_ERR_NOT_IMPLEMENTED,	/* 501 */
	/* ---- TPM attestation (issue 4; src/tpm, spec/attestation.md §4) -- */
	DV_ERR_TPM_STRUCT,	/* TPM structure undecodable or trailing: 400 */
	DV_ERR_AK_KEY,		/* AK algorithm, curve or size not allowed: 400 */
	DV_ERR_AK_ATTRIBUTES,	/* AK not fixedTPM/restricted/sign-only: 400 */
	DV_ERR_AK_NOT_GENERATED, /* TPMS_ATTEST magic not TPM_GENERATED: 400 */
	DV_ERR_AK_ATTEST_TYPE,	/* TPMS_ATTEST not TPM_ST_ATTEST_CREATION: 400 */
	DV_ERR_AK_CREATION,	/* creationHash != H(TPMS_CREATION_DATA): 400 */
	DV_ERR_AK_NAME,		/* attested objectName != Name(AK): 400 */
	DV_ERR_AK_SIGNATURE,	/* creation attestation not signed by AK: 400 */
	/* ---- device-attest-01 (issue 5; src/attest, spec/attestation.md
	 * §7-10): one code per check, ACME badAttestationStatement ---- */
	DV_ERR_ATT_OBJECT,	/* attestation object not strict CBOR: 400 */
	DV_ERR_ATT_FORMAT,	/* fmt unknown or not this verifier's: 400 */
	DV_ERR_ATT_STMT,	/* attStmt field missing or mistyped: 400 */
	DV_ERR_ATT_VERSION,	/* tpm ver is not "2.0": 400 */
	DV_ERR_ATT_NO_ROOTS,	/* no trust roots configured: 500 */
	DV_ERR_ATT_CHAIN,	/* x5c does not chain to the roots: 400 */
	DV_ERR_ATT_AK_CERT,	/* AK certificate profile violated: 400 */
	DV_ERR_ATT_ALG,		/* alg or signature hash not allowed: 400 */
	DV_ERR_ATT_CERTIFY_TYPE, /* certInfo not TPM_ST_ATTEST_CERTIFY: 400 */
	DV_ERR_ATT_KEY,		/* attested key type or size not allowed: 400 */
	DV_ERR_ATT_NOT_GENERATED, /* certInfo magic not TPM_GENERATED: 400 */
	DV_ERR_ATT_ATTRIBUTES,	/* attested key not TPM-resident: 400 */
	DV_ERR_ATT_NAME,	/* certified name != Name(pubArea): 400 */
	DV_ERR_ATT_SIGNATURE,	/* statement signature invalid: 400 */
	DV_ERR_ATT_KEYAUTH,	/* extraData / nonce != key authorization: 400 */
	DV_ERR_ATT_IDENTIFIER,	/* serial / UDID extension missing or bad: 400 */
	DV_RC__MAX
};

struct dv_rc_info {
	int		 status;	/* HTTP status */
	const char	*name;		/* problem type suffix, e.g. "badToken" */
	const char	*title;		/* fixed, human title */
};

/* Returns the static description of rc (never NULL; unknown codes map to
 * DV_ERR_INTERNAL). */
const struct dv_rc_info *dv_rc_info(enum dv_rc rc);

/* Returns the fixed title of rc; shorthand for dv_rc_info(rc)->title. */
const char *dv_rc_str(enum dv_rc rc);

#endif
