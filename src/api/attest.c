/*
 * attest.c - the Attestation CA's two routes as step's attestation client
 * speaks them (spec/attestation.md §2.1-2.4):
 *   POST /t/{team}/attestation/attest  {tpmInfo, ek, ekCerts, params}
 *        -> {"credential", "secret"}
 *   POST /t/{team}/attestation/secret  {"secret"} -> {"chain": [...]}
 * JSON bodies without a Content-Type requirement (Go's http.NewRequest
 * sets none); byte fields are standard padded base64 (Go encoding/json).
 * The checks and the activation live in src/authority/attest.c.
 */
#include <stdlib.h>
#include <string.h>

#include "api.h"
#include "api_int.h"

/* Base64 text of at most max decoded bytes (4 symbols per 3 bytes, plus
 * slack for the white space pki_b64_decode skips). */
#define B64_MAX(max)	(((max) + 2) / 3 * 4 + 64)

/* Decodes a base64 member into a new buffer of at most max bytes. */
static enum dv_rc
b64_member(const char *s, size_t max, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s);
	enum dv_rc rc;

	*out = NULL;
	*outlen = 0;
	if (n > B64_MAX(max))
		return DV_ERR_TOO_LARGE;
	if ((rc = pki_b64_decode(s, n, out, outlen)) != DV_OK)
		return DV_ERR_MALFORMED;
	if (*outlen > max) {
		free(*out);
		*out = NULL;
		*outlen = 0;
		return DV_ERR_TOO_LARGE;
	}
	return DV_OK;
}

/* Decodes s (which must be present and non-empty) into a buffer kept in
 * r->bufs. */
static enum dv_rc
req_bytes(struct api_attest_req *r, const char *s, size_t max,
    const uint8_t **out, size_t *outlen)
{
	uint8_t *b;
	enum dv_rc rc;

	*out = NULL;
	*outlen = 0;
	if (s == NULL || s[0] == '\0')
		return DV_ERR_MALFORMED;
	if (r->nbufs >= sizeof(r->bufs) / sizeof(r->bufs[0]))
		return DV_ERR_INTERNAL;
	if ((rc = b64_member(s, max, &b, outlen)) != DV_OK)
		return rc;
	if (*outlen == 0) {
		free(b);
		return DV_ERR_MALFORMED;
	}
	r->bufs[r->nbufs++] = b;
	*out = b;
	return DV_OK;
}

void
api_attest_req_clear(struct api_attest_req *r)
{
	size_t i;

	json_decref(r->doc);
	for (i = 0; i < r->nbufs; i++)
		free(r->bufs[i]);
	memset(r, 0, sizeof(*r));
}

enum dv_rc
api_attest_req_parse(const uint8_t *body, size_t len,
    struct api_attest_req *r, const char **detail)
{
	struct ca_attest_req *q = &r->req;
	json_t *info = NULL, *certs = NULL, *params = NULL, *e;
	json_int_t version = 2;
	const char *ek = NULL, *akcert = NULL, *pub = NULL, *cd = NULL;
	const char *ca = NULL, *cs = NULL;
	json_error_t err;
	int tcsd = 0;
	size_t i;
	enum dv_rc rc;

	memset(r, 0, sizeof(*r));
	*detail = NULL;
	if (len == 0) {
		*detail = api_body_detail(DV_ERR_MALFORMED);
		return DV_ERR_MALFORMED;
	}
	if ((rc = json_parse_strict(body, len, DV_MAX_BODY_CEILING, &r->doc))
	    != DV_OK) {
		*detail = api_body_detail(rc);
		return rc;
	}
	if (json_unpack_ex(r->doc, &err, JSON_STRICT, "{s?o,s?s,s?o,s?s,s?o}",
	    "tpmInfo", &info, "ek", &ek, "ekCerts", &certs, "akCert", &akcert,
	    "params", &params) != 0) {
		*detail = "unexpected or mistyped member in the attest request";
		return DV_ERR_MALFORMED;
	}
	if (info != NULL && json_unpack_ex(info, &err, JSON_STRICT,
	    "{s?I,s?s,s?s,s?s}", "version", &version, "manufacturer",
	    &q->tpm_manufacturer, "model", &q->tpm_model, "firmwareVersion",
	    &q->tpm_firmware) != 0) {
		*detail = "unexpected or mistyped member in tpmInfo";
		return DV_ERR_MALFORMED;
	}
	if (version != 2) {
		*detail = "tpmInfo.version must be 2 (TPM 2.0)";
		return DV_ERR_MALFORMED;
	}
	if (params == NULL || json_unpack_ex(params, &err, JSON_STRICT,
	    "{s?s,s?b,s?s,s?s,s?s}", "public", &pub,
	    "useTCSDActivationFormat", &tcsd, "createData", &cd,
	    "createAttestation", &ca, "createSignature", &cs) != 0) {
		*detail = "params is missing or has an unexpected or mistyped "
		    "member";
		return DV_ERR_MALFORMED;
	}
	if (tcsd) {
		*detail = "the TPM 1.2 (TCSD) activation format is not "
		    "supported";
		return DV_ERR_MALFORMED;
	}
	if ((rc = req_bytes(r, ek, DV_MAX_DER, &q->ek, &q->eklen)) != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "ek is too large" :
		    "ek is missing or not base64";
		return rc;
	}
	if ((rc = req_bytes(r, pub, DV_ATT_MAX_TPM_STRUCT, &q->ak_public,
	    &q->ak_publiclen)) != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "params.public is too "
		    "large" : "params.public is missing or not base64";
		return rc;
	}
	if ((rc = req_bytes(r, cd, DV_ATT_MAX_TPM_STRUCT, &q->create_data,
	    &q->create_datalen)) != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "params.createData is too "
		    "large" : "params.createData is missing or not base64";
		return rc;
	}
	if ((rc = req_bytes(r, ca, DV_ATT_MAX_TPM_STRUCT,
	    &q->create_attestation, &q->create_attestationlen)) != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "params.createAttestation "
		    "is too large" : "params.createAttestation is missing or "
		    "not base64";
		return rc;
	}
	if ((rc = req_bytes(r, cs, DV_ATT_MAX_TPM_STRUCT,
	    &q->create_signature, &q->create_signaturelen)) != DV_OK) {
		*detail = rc == DV_ERR_TOO_LARGE ? "params.createSignature is "
		    "too large" : "params.createSignature is missing or not "
		    "base64";
		return rc;
	}
	if (certs != NULL && !json_is_array(certs)) {
		*detail = "ekCerts must be an array";
		return DV_ERR_MALFORMED;
	}
	if (json_array_size(certs) > DV_ATT_MAX_EK_CERTS) {
		*detail = "too many ekCerts";
		return DV_ERR_TOO_LARGE;
	}
	json_array_foreach(certs, i, e) {
		if ((rc = req_bytes(r, json_string_value(e),
		    DV_ATT_MAX_EK_CERT, &q->ek_certs[i].der,
		    &q->ek_certs[i].len)) != DV_OK) {
			*detail = rc == DV_ERR_TOO_LARGE ? "an EK certificate "
			    "is too large" : "an ekCerts element is not "
			    "base64";
			return rc;
		}
		q->nek_certs++;
	}
	return DV_OK;
}

enum dv_rc
api_secret_req_parse(const uint8_t *body, size_t len, uint8_t **secret,
    size_t *secretlen, const char **detail)
{
	json_t *doc = NULL;
	json_error_t err;
	const char *s = NULL;
	enum dv_rc rc;

	*secret = NULL;
	*secretlen = 0;
	*detail = NULL;
	if (len == 0) {
		*detail = api_body_detail(DV_ERR_MALFORMED);
		return DV_ERR_MALFORMED;
	}
	if ((rc = json_parse_strict(body, len, DV_MAX_BODY_CEILING, &doc)) !=
	    DV_OK) {
		*detail = api_body_detail(rc);
		return rc;
	}
	if (json_unpack_ex(doc, &err, JSON_STRICT, "{s:s}", "secret", &s) !=
	    0 || s[0] == '\0') {
		*detail = "the secret request needs one member, secret";
		rc = DV_ERR_MALFORMED;
	} else if ((rc = b64_member(s, DV_TPM_MAX_SECRET, secret, secretlen))
	    != DV_OK)
		*detail = rc == DV_ERR_TOO_LARGE ? "the secret is too long" :
		    "the secret is not base64";
	json_decref(doc);
	return rc;
}

void
api_attest_post(struct http_req *q, struct ca_authority *a)
{
	struct api_attest_req r;
	json_t *out = NULL;
	const char *detail = NULL;
	const uint8_t *b;
	size_t len;
	enum dv_rc rc;

	if ((rc = http_req_body(q, &b, &len)) != DV_OK) {
		http_reply_problem(q, rc, api_body_detail(rc));
		return;
	}
	if ((rc = api_attest_req_parse(b, len, &r, &detail)) == DV_OK)
		rc = ca_attest_begin(a, &r.req, http_req_id(q), &out,
		    &detail);
	else
		log_msg(LOG_INFO, "attest.refused", "{s:s,s:s?}", "authority",
		    a->id, "detail", detail);
	api_attest_req_clear(&r);
	if (rc != DV_OK) {
		http_reply_problem(q, rc, detail);
		return;
	}
	http_reply_json(q, 200, out);
}

/* A /secret whose AK certificate the committer signs and stores. */
struct secret_ctx {
	struct ca_issue	*iss;	/* owned */
	struct http_req	*q;
};

static void
secret_reply(struct http_req *q, void *arg)
{
	struct secret_ctx *c = arg;
	const char *detail = NULL;
	json_t *out = NULL;
	enum dv_rc rc;

	if ((rc = ca_attest_answer(c->iss, &out, &detail)) != DV_OK)
		http_reply_problem(q, rc, detail);
	else
		http_reply_json(q, 200, out);
	ca_issue_free(c->iss);
	free(c);
}

/* Called by the store's committer thread once the row is durable. */
static void
secret_stored(void *arg, enum dv_rc rc)
{
	struct secret_ctx *c = arg;

	(void)rc;	/* kept in c->iss->rc */
	http_req_resume(c->q, secret_reply, c);
}

void
api_secret_post(struct http_req *q, struct ca_authority *a)
{
	struct secret_ctx *c;
	struct ca_issue *iss = NULL;
	uint8_t *secret = NULL;
	size_t secretlen = 0;
	const char *detail = NULL;
	const uint8_t *b;
	size_t len;
	enum dv_rc rc;

	if ((rc = http_req_body(q, &b, &len)) != DV_OK) {
		http_reply_problem(q, rc, api_body_detail(rc));
		return;
	}
	if ((rc = api_secret_req_parse(b, len, &secret, &secretlen, &detail))
	    == DV_OK)
		rc = ca_attest_finish(a, secret, secretlen, http_req_id(q),
		    &iss, &detail);
	else
		log_msg(LOG_INFO, "attest.refused", "{s:s,s:s?}", "authority",
		    a->id, "detail", detail);
	if (secret != NULL)
		explicit_bzero(secret, secretlen);
	free(secret);
	if (rc != DV_OK) {
		http_reply_problem(q, rc, detail);
		return;
	}
	/* the answer leaves only once the certificate is durable */
	c = xcalloc(1, sizeof(*c));
	c->iss = iss;
	c->q = q;
	http_req_defer(q);
	ca_commit_submit(a->ca, iss, secret_stored, c);
}
