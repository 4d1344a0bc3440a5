/*
 * limits.h - every bound on untrusted input, in one place (STYLE rule 21).
 *
 * Each limit says why it has its value and, where one exists, the hard
 * ceiling beyond which a configuration may not raise it.  Parsers check the
 * limit before they allocate.
 */
#ifndef DV_LIMITS_H
#define DV_LIMITS_H

/* HTTP request body.  A sign request is a CSR (< 4 KiB) plus a token
 * (< 8 KiB); 64 KiB leaves room for long chains.  Configurable up to 1 MiB. */
#define DV_MAX_BODY		(64 * 1024)
#define DV_MAX_BODY_CEILING	(1024 * 1024)

/* Total bytes of request line + headers.  Bearer x5cInsecure tokens carry a
 * chain in a header, so 16 KiB (a chain of DV_MAX_CHAIN small certificates). */
#define DV_MAX_HEADERS		(16 * 1024)

/* Open connections per server; beyond it new ones are closed at accept. */
#define DV_MAX_CONNS		4096

/* Seconds a connection may take to send a whole request (slow loris). */
#define DV_TIMEOUT_READ		10
/* Seconds an idle keep-alive connection is kept. */
#define DV_TIMEOUT_IDLE		60

/* JSON nesting depth of any request document. */
#define DV_MAX_JSON_DEPTH	16

/* Compact JWS/JWT size: header with an x5c chain + claims + signature. */
#define DV_MAX_TOKEN		(32 * 1024)

/* Certificates in an x5c header or presented chain, leaf included. */
#define DV_MAX_CHAIN		8

/* One certificate or CSR in DER.  An RSA-4096 certificate with many SANs
 * stays below 8 KiB; 16 KiB is generous. */
#define DV_MAX_DER		(16 * 1024)

/* PEM text of one object (base64 inflates DER by 4/3 plus line breaks). */
#define DV_MAX_PEM		(24 * 1024)

/* Subject alternative names per CSR, token or certificate.  step-ca has no
 * limit; 100 covers every real device and service certificate. */
#define DV_MAX_SANS		100

/* Length of one name (DNS name is 253 by RFC 1035; URIs and emails longer). */
#define DV_MAX_NAME		1024

/* RSA modulus bits accepted in CSRs and tokens. */
#define DV_MIN_RSA_BITS		2048
#define DV_MAX_RSA_BITS		8192

/* Clock leeway applied to token nbf/exp/iat (step-ca: 1 minute). */
#define DV_TOKEN_LEEWAY		60
/* Longest token lifetime accepted (step CLI allows up to 1 hour). */
#define DV_MAX_TOKEN_LIFETIME	(60 * 60)

/* Items per page of a list endpoint (step-ca: default 20, max 100). */
#define DV_LIST_DEFAULT		20
#define DV_LIST_MAX		100

/* OCSP request size (DER) and number of requests in one OCSPRequest. */
#define DV_MAX_OCSP_REQ		(4 * 1024)
#define DV_MAX_OCSP_IDS		8

/* Operations one group commit may gather before it commits. */
#define DV_MAX_COMMIT_BATCH	256

/* Body of one inventory import request (POST .../devices:import, CSV or
 * JSON lines; config "maxImportBytes").  A CSV row with an EK URN is ~150
 * bytes, so 8 MiB holds ~50 000 devices; `devid device import` sends larger
 * files in chunks cut at row boundaries.  evhttp 2.1 cannot see the path
 * before it buffers a body, so any request may buffer up to this before the
 * route refuses it: with at most DV_MAX_CONNS connections that bounds the
 * worst case at DV_MAX_CONNS * 8 MiB.  Kept small for that reason. */
#define DV_MAX_IMPORT		(8 * 1024 * 1024)
#define DV_MAX_IMPORT_CEILING	(512 * 1024 * 1024)

/* ---- MDM sync (issue 3; src/inventory/mdm_*.c) ---- */

/* Bytes of one fetched MDM page.  A Microsoft Graph page holds at most
 * 1000 managedDevices (~2.5 KiB each) and a Jamf Pro computers-inventory
 * page of 2000 computers with three sections ~3 MiB: 8 MiB is twice the
 * larger.  The parsed tree costs about ten times the text. */
#define DV_MAX_MDM_PAGE_BYTES	(8 * 1024 * 1024)

/* Devices in one page (Jamf page-size ceiling 2000, Graph 999); a longer
 * list refuses the whole page rather than truncate it (a truncated full
 * sync would mark the rest missing). */
#define DV_MAX_MDM_PAGE_DEVICES	5000

/* Pages of one sync, and devices of one source in all of them: the mapped
 * bodies are held until the sync is applied (~1 KiB each), so 200 000
 * devices cost ~200 MB for the length of one sync. */
#define DV_MAX_MDM_PAGES	1000
#define DV_MAX_MDM_DEVICES	200000

/* Components of a dotted field path in a mapping ("general.name" is 2). */
#define DV_MAX_MDM_PATH_DEPTH	8

/* Tag expressions of a mapping, so tags per mapped device. */
#define DV_MAX_MDM_TAGS		16

/* MDM sources per team, and the shortest sync interval (tests use 1-2 s;
 * real sources are synced hourly). */
#define DV_MAX_MDM_SOURCES	16
#define DV_MIN_MDM_INTERVAL	1

/* Seconds to connect to, and to fetch one page from, an MDM source. */
#define DV_MDM_CONNECT_TIMEOUT	10
#define DV_MDM_FETCH_TIMEOUT	60

/* Bytes of a bearer token file or webhook secret file. */
#define DV_MAX_MDM_SECRET	(16 * 1024)

/* ---- inventory (issue 3) ---- */
/* Identifiers per device: an EK, its certificate, a serial, a UDID, a
 * YubiKey serial or two; 16 leaves room for replaced parts. */
#define DV_INV_MAX_IDENTIFIERS	16
/* Tags per device and bytes per tag. */
#define DV_INV_MAX_TAGS		32
#define DV_INV_MAX_TAG		64
/* Bytes of a name, owner, os, kind, source or serial value. */
#define DV_INV_MAX_FIELD	256
/* Posture document of a device (JSON text, written by the agent later). */
#define DV_INV_MAX_POSTURE	(16 * 1024)
/* One import row (CSV record or JSON line): an EK certificate in base64
 * is ~2 KiB, an RSA one with a PEM header ~3 KiB; 64 KiB is generous. */
#define DV_INV_MAX_ROW		(64 * 1024)
/* CSV columns (12 are defined; the rest is refused, not ignored). */
#define DV_INV_MAX_COLUMNS	32
/* Rows of one import request or MDM sync: a million-device fleet in one
 * file.  The report lists rows only when asked or not created/unchanged. */
#define DV_INV_MAX_IMPORT_ROWS	(1000 * 1000)
/* Rows per write transaction of an import.  The committer (which also
 * commits issued certificates) is held for the whole chunk: ~25 ms at
 * 100k devices, ~100 ms at 1M (random EK URN index pages).  Measured on
 * 300k rows: 250 and 1000 import at the same rate (~4.8k devices/s, the
 * cost is index pages, not fsyncs), so the smaller hold wins. */
#define DV_INV_IMPORT_CHUNK	250
/* Rules and static members of one collection. */
#define DV_INV_MAX_RULES	64
#define DV_INV_MAX_MEMBERS	10000
/* Longest admin API token lifetime ("expiresIn"): 10 years. */
#define DV_INV_MAX_TOKEN_LIFETIME (10LL * 366 * 24 * 3600)

/* ---- TPM structures (issue 4; src/tpm, spec/attestation.md §3) ---- */
/* Bytes of a marshalled TPMT_PUBLIC.  The largest an RSA or ECC object can
 * be is ~600 (RSA-4096 modulus 512 + SHA-512 authPolicy 64 + header and
 * parameters); tss2's own TPMT_PUBLIC holds at most 612. */
#define DV_TPM_MAX_PUBLIC	1024
/* TPMS_CREATION_DATA: 16 PCR banks (~120) + pcrDigest, two names and
 * outsideInfo of at most 66 each: below 512; twice that. */
#define DV_TPM_MAX_CREATION_DATA 1024
/* TPMS_ATTEST: ~180 bytes for a creation or certify attestation; an NV
 * certify may carry 1 KiB of NV data.  4 KiB is the ceiling of any kind. */
#define DV_TPM_MAX_ATTEST	4096
/* TPMT_SIGNATURE: an RSA-4096 signature is 518 bytes. */
#define DV_TPM_MAX_SIGNATURE	1024
/* RSA keys (AK and EK) in bits and bytes: TPMs implement 2048, some 3072
 * and 4096 (TCG EK template H-7); tss2's TPM2_MAX_RSA_KEY_BYTES is 512. */
#define DV_TPM_MIN_RSA_BITS	2048
#define DV_TPM_MAX_RSA_BITS	4096
#define DV_TPM_MAX_RSA_BYTES	(DV_TPM_MAX_RSA_BITS / 8)
/* Bytes of one ECC coordinate or ECDSA r/s: P-521 is 66. */
#define DV_TPM_MAX_ECC_BYTES	66
/* Bytes of a credential secret: at most the EK nameAlg's digest (TPM 2.0
 * Part 3 §12.6: TPM_RC_SIZE beyond); step uses 32. */
#define DV_TPM_MAX_SECRET	64

/* ---- attestation (issue 4; src/authority/attest.c) ---- */
/* Seconds a pending credential activation (/attest answered, /secret not
 * yet) lives: step's client posts /secret right after ActivateCredential,
 * within its 10 s HTTP timeout of /attest; 5 minutes leaves room for a
 * slow TPM and clock skew between nodes.  A team may shorten it (config
 * "attestation": {"sessionLifetime"}) down to DV_ATT_SESSION_MIN, never
 * beyond the ceiling. */
#define DV_ATT_SESSION_LIFETIME	300
#define DV_ATT_SESSION_MIN	1
#define DV_ATT_SESSION_CEILING	3600
/* Pending activations per EK and team.  An EK's public key is no secret,
 * so anyone may start activations for it; the bound keeps the table small
 * (each row ~1 KiB) while a device retrying after a crash still fits. */
#define DV_ATT_MAX_PENDING	8
/* Length of the activation secret (go-attestation activationSecretLen). */
#define DV_ATT_SECRET_LEN	32
/* EK certificates in one /attest (the cli sends one per EK: RSA and ECC)
 * and the bytes of one (an RSA EK certificate with NV padding is ~1.6 KiB). */
#define DV_ATT_MAX_EK_CERTS	8
#define DV_ATT_MAX_EK_CERT	(16 * 1024)
/* Bytes of each TPM structure of an /attest body (TPMT_PUBLIC of an
 * RSA-4096 key ~550, TPMS_ATTEST and TPMT_SIGNATURE below 1 KiB; the TPM
 * 2.0 MAX_*_BUFFER values stay under 2 KiB). */
#define DV_ATT_MAX_TPM_STRUCT	4096
/* Bytes of a tpmInfo model or firmware version string kept. */
#define DV_ATT_MAX_TPM_INFO	128
/* Certificates read from the TPM-maker roots folder ("ekRoots"); the
 * keylime store has 51. */
#define DV_ATT_MAX_EK_ROOTS	1024
/* AK certificate lifetime: default 30 days ("akCertLifetime"), ceiling 10
 * years (attezt issues 10-year AK certificates). */
#define DV_ATT_AK_LIFETIME	(30LL * 24 * 3600)
#define DV_ATT_AK_LIFETIME_MIN	60
#define DV_ATT_AK_LIFETIME_CEILING (10LL * 366 * 24 * 3600)

/* ---- device-attest-01 (issue 5; src/attest, spec/attestation.md §7-10) */
/* Bytes of one attestation object (the CBOR after base64url).  The ACME
 * body is at most DV_MAX_BODY (64 KiB) and base64url costs 4/3, so 48 KiB
 * is the most a client can send; a real tpm statement (AK certificate,
 * one intermediate, TPM structures) is below 4 KiB. */
#define DV_ATT_MAX_OBJECT	(48 * 1024)
/* Nesting of CBOR arrays and maps: object map > attStmt map > x5c array
 * is 3; one more is refused rather than decoded. */
#define DV_ATT_CBOR_MAX_DEPTH	3
/* Pairs of one CBOR map: the tpm attStmt has six (ver, alg, x5c, sig,
 * certInfo, pubArea); the object itself three (fmt, attStmt, authData). */
#define DV_ATT_CBOR_MAX_PAIRS	8
/* Elements of one CBOR array: only x5c is one, at most DV_MAX_CHAIN. */
#define DV_ATT_CBOR_MAX_ITEMS	DV_MAX_CHAIN
/* Bytes of one CBOR byte or text string: a certificate (DV_MAX_DER); the
 * TPM structures have their own, smaller DV_TPM_MAX_* bounds. */
#define DV_ATT_CBOR_MAX_STRING	DV_MAX_DER
/* Bytes of a map key or the fmt text ("android-key" is the longest). */
#define DV_ATT_MAX_KEY		32
/* Bytes of a device identifier read from an attestation certificate:
 * Apple serials are 10-12 characters, UDIDs 25 or 40, YubiKey serials at
 * most 10 digits; 128 is generous. */
#define DV_ATT_MAX_DEVICE_ID	128

#endif
