/*
 * attest.h - device-attest-01 attestation statements (issue 5;
 * draft-ietf-acme-device-attest-09, spec/attestation.md §6.2-10, §12-13):
 * decoding the CBOR attestation object and verifying the formats `tpm`,
 * `apple` and `step` (YubiKey PIV), as step-ca does.  A pure library: no
 * HTTP, no store.  X.509 and crypto go through src/pki, TPM structures
 * through src/tpm (STYLE rule 16, 20).
 *
 * Parsing, checking and acting are separate (rule 22): att_object_parse
 * decodes strictly and bounded (limits.h DV_ATT_*); att_<fmt>_verify
 * applies every check of its format in step-ca's order, each with its own
 * code and a log line under the event "attest" naming the clause (rule 9);
 * the caller (the ACME challenge handler) then compares the identifiers of
 * the result with the order's and binds result.spki to the CSR (§12).
 *
 *	struct att_object *o;
 *	struct att_result r;
 *	if ((rc = att_object_parse(cbor, len, &o)) != DV_OK) ...
 *	struct att_params p = { token, key_auth, tpm_roots, apple_roots,
 *	    step_roots, now };
 *	rc = att_verify(o, &p, &r);
 *	att_object_free(o);
 *	if (rc == DV_OK && att_result_has_id(&r, identifier_value)) ...
 *	att_result_clear(&r);
 *
 * Codes (rc.h): DV_ERR_ATT_* one per check (see each verifier),
 * DV_ERR_TPM_STRUCT for an undecodable TPM structure, DV_ERR_TOO_LARGE
 * over a limit.  All but DV_ERR_ATT_NO_ROOTS are the client's fault
 * (ACME badAttestationStatement).
 */
#ifndef DV_ATTEST_H
#define DV_ATTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include "base/base.h"
#include "pki/pki.h"

/* Attestation formats devid verifies ("android-key" is not one). */
enum att_fmt {
	ATT_FMT_TPM,
	ATT_FMT_APPLE,
	ATT_FMT_STEP,
	ATT_FMT__MAX
};

/* "tpm", "apple", "step". */
const char	*att_fmt_name(enum att_fmt);
/* The built-in roots of apple (Apple Enterprise Attestation Root CA) and
 * step (Yubico's PIV attestation roots) as a PEM bundle; NULL for tpm,
 * whose root is the team's Attestation CA. */
const char	*att_default_roots_pem(enum att_fmt);

/* A byte string of the statement.  v is owned. */
struct att_buf {
	uint8_t		*v;
	size_t		 len;
};

/* Which attStmt fields were present (bits of att_object.present). */
#define ATT_F_VER	(1u << 0)
#define ATT_F_ALG	(1u << 1)
#define ATT_F_X5C	(1u << 2)
#define ATT_F_SIG	(1u << 3)
#define ATT_F_CERTINFO	(1u << 4)
#define ATT_F_PUBAREA	(1u << 5)

/*
 * A decoded attestation object (WebAuthn §6.5.4 as draft-ietf-acme-device-
 * attest §5 uses it): fmt plus the attStmt fields any of the three formats
 * uses, each with the CBOR type step-ca asserts (spec §7).  Which fields a
 * format requires is its verifier's business.
 */
struct att_object {
	enum att_fmt	 fmt;
	unsigned	 present;	/* ATT_F_* */
	char		 ver[DV_ATT_MAX_KEY + 1]; /* text, NUL-terminated */
	int64_t		 alg;		/* COSE algorithm id */
	struct att_buf	 x5c[DV_ATT_CBOR_MAX_ITEMS]; /* DER, leaf first */
	size_t		 nx5c;
	struct att_buf	 sig;
	struct att_buf	 cert_info;	/* tpm: TPMS_ATTEST */
	struct att_buf	 pub_area;	/* tpm: TPMT_PUBLIC */
};

/*
 * Decodes an attestation object: a CBOR map {"fmt": tstr, "attStmt": map}
 * (an "authData" bstr is allowed and ignored, draft §5: SHOULD be omitted).
 * Before libcbor sees the bytes they are scanned against DV_ATT_MAX_OBJECT,
 * DV_ATT_CBOR_MAX_DEPTH, _PAIRS, _ITEMS and _STRING; definite lengths only,
 * no tags, no floats or simple values, one item with no trailing bytes.
 * Map keys are text strings, none repeated.  attStmt keys are "ver" (tstr
 * of at most DV_ATT_MAX_KEY bytes), "alg" (int), "x5c" (array of bstr),
 * "sig", "certInfo", "pubArea" (bstr); any other key or type is refused.
 * On success *out is new (att_object_free); on failure NULL.
 * DV_ERR_TOO_LARGE over a limit, DV_ERR_ATT_OBJECT for bad CBOR or shape,
 * DV_ERR_ATT_FORMAT for an fmt other than tpm, apple, step,
 * DV_ERR_ATT_STMT for an unknown or mistyped attStmt field.
 */
enum dv_rc	att_object_parse(const uint8_t *data, size_t len,
		    struct att_object **out);
void		att_object_free(struct att_object *);

/* What a verifier needs besides the object.  Everything is borrowed. */
struct att_params {
	const char	*token;		/* the challenge token */
	/* token "." base64url(JWK thumbprint) (RFC 8555 §8.1) */
	const char	*key_auth;
	/* per format, NULL when none is configured: the team's Attestation
	   CA, Apple Enterprise Attestation Root, Yubico PIV root(s) */
	const struct pki_trust *tpm_roots;
	const struct pki_trust *apple_roots;
	const struct pki_trust *step_roots;
	time_t		 now;		/* 0: the clock */
};

/* A verified statement.  Every pointer is owned; att_result_clear. */
struct att_result {
	enum att_fmt	 fmt;
	uint8_t		*spki;		/* attested key, SPKI */
	size_t		 spkilen;
	uint8_t		 spki_sha256[32]; /* SHA-256 of spki */
	char		*fingerprint;	/* pki_spki_fingerprint */
	/* tpm: the AK certificate (EK URN, TPM attributes, and RFC 4043
	   PermanentIdentifiers if it has any) */
	struct pki_akcert_info ak;
	char		*serial;	/* apple (NULL if absent), step */
	char		*udid;		/* apple (NULL if absent) */
};

/*
 * Verifies o (of any format) with the roots of its format: dispatches to
 * att_tpm_verify, att_apple_verify or att_step_verify.  On success *res is
 * filled (att_result_clear); on failure it is zeroed.
 */
enum dv_rc	att_verify(const struct att_object *o,
		    const struct att_params *p, struct att_result *res);

/*
 * `tpm` (spec §8, step-ca doTPMAttestationFormat), in this order:
 *   fmt is tpm ........................................ DV_ERR_ATT_FORMAT
 *   ver present .......................................... DV_ERR_ATT_STMT
 *   ver is "2.0" ...................................... DV_ERR_ATT_VERSION
 *   x5c present and non-empty ............................ DV_ERR_ATT_STMT
 *   tpm_roots configured ............................. DV_ERR_ATT_NO_ROOTS
 *   x5c chains to tpm_roots at now ...................... DV_ERR_ATT_CHAIN
 *   AK certificate profile (pki_akcert_read) ........... DV_ERR_ATT_AK_CERT
 *   pubArea, sig, certInfo non-empty, alg present ........ DV_ERR_ATT_STMT
 *   alg -257 (RS256) or -7 (ES256): SHA-256; RS1 (SHA-1) is refused,
 *   unlike step-ca ........................................ DV_ERR_ATT_ALG
 *   certInfo decodes exactly (TPMS_ATTEST) ............. DV_ERR_TPM_STRUCT
 *   certInfo type TPM_ST_ATTEST_CERTIFY ........... DV_ERR_ATT_CERTIFY_TYPE
 *   pubArea decodes exactly (TPMT_PUBLIC) .............. DV_ERR_TPM_STRUCT
 *   attested key RSA 2048..4096 or NIST P-256/384/521 ..... DV_ERR_ATT_KEY
 *   magic TPM_GENERATED_VALUE ..................... DV_ERR_ATT_NOT_GENERATED
 *   attributes fixedTPM, fixedParent, sensitiveDataOrigin set,
 *   restricted clear .................................. DV_ERR_ATT_ATTRIBUTES
 *   attested.certify.name == Name(pubArea) ................ DV_ERR_ATT_NAME
 *   sig decodes (TPMT_SIGNATURE) ....................... DV_ERR_TPM_STRUCT
 *   its scheme RSASSA/RSAPSS/ECDSA, hash = alg's hash ...... DV_ERR_ATT_ALG
 *   sig verifies over certInfo under the AK certificate's key
 *   ................................................. DV_ERR_ATT_SIGNATURE
 *   extraData == SHA-256(key_auth), constant time ...... DV_ERR_ATT_KEYAUTH
 * The result's key is pubArea's; its identifiers are the AK certificate's.
 */
enum dv_rc	att_tpm_verify(const struct att_object *o,
		    const struct att_params *p, struct att_result *res);

/*
 * `apple` (spec §9, step-ca doAppleAttestationFormat), in this order:
 *   fmt is apple ...................................... DV_ERR_ATT_FORMAT
 *   x5c present and non-empty ............................ DV_ERR_ATT_STMT
 *   apple_roots configured ........................... DV_ERR_ATT_NO_ROOTS
 *   x5c chains to apple_roots at now .................... DV_ERR_ATT_CHAIN
 *   extensions well-formed (pki_apple_att_read) ..... DV_ERR_ATT_IDENTIFIER
 *   nonce 1.2.840.113635.100.8.11.1 present and equal to SHA-256(token)
 *   (what Apple devices put there, spec §9) or SHA-256(key_auth) (what
 *   issue 5 names); absent is refused, as nanoca (step-ca skips it) .......
 *   ................................................... DV_ERR_ATT_KEYAUTH
 *   serial (8.9.1) or UDID (8.9.2) present .......... DV_ERR_ATT_IDENTIFIER
 * The result's key is the leaf's.
 */
enum dv_rc	att_apple_verify(const struct att_object *o,
		    const struct att_params *p, struct att_result *res);

/*
 * `step` (YubiKey PIV; spec §10, step-ca doStepAttestationFormat), in
 * this order:
 *   fmt is step ....................................... DV_ERR_ATT_FORMAT
 *   x5c present and non-empty ............................ DV_ERR_ATT_STMT
 *   step_roots configured ............................ DV_ERR_ATT_NO_ROOTS
 *   x5c chains to step_roots at now ..................... DV_ERR_ATT_CHAIN
 *   sig present and exactly one CBOR byte string (the double wrap of
 *   spec §10, §15.13) .................................... DV_ERR_ATT_STMT
 *   leaf key ECDSA P-256, RSA or Ed25519 (alg is ignored) .. DV_ERR_ATT_KEY
 *   the unwrapped signature verifies over key_auth (ECDSA/RSA with
 *   SHA-256, Ed25519 over the bytes) ................. DV_ERR_ATT_SIGNATURE
 *   YubiKey serial 1.3.6.1.4.1.41482.3.7 (DER INTEGER) or, without it, the
 *   Smallstep device ID 1.3.6.1.4.1.37476.9000.64.4 (step-ca
 *   searchSerialNumber) present and well-formed ... DV_ERR_ATT_IDENTIFIER
 * The result's key is the leaf's, its serial the decimal YubiKey serial
 * or the device ID.  The 2018 YubiKey chains (intermediate without
 * basicConstraints under a pathlen:0 root, shared/data/README.md) fail
 * strict path validation and are refused.
 */
enum dv_rc	att_step_verify(const struct att_object *o,
		    const struct att_params *p, struct att_result *res);

void		att_result_clear(struct att_result *);

/*
 * True if value (the ACME permanent-identifier) names the attested device:
 * equals, byte for byte, the EK URN or a PermanentIdentifier of a tpm
 * result, the serial or UDID of an apple result, the serial of a step
 * result (draft §5 validation step 3; spec §8 step 11, §9, §10).
 */
bool		att_result_has_id(const struct att_result *r,
		    const char *value);

#endif
