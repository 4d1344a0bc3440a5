/*
 * request.c - the JWS envelope of an ACME POST (RFC 8555 §6.2-6.4):
 * checks in this order, each with its own error type:
 *   1. a flattened JWS within DV_MAX_TOKEN ............... malformed
 *   2. alg accepted ........................... badSignatureAlgorithm
 *   3. "url" equals the request URL ....................... unauthorized
 *   4. exactly one of "kid" and "jwk"; "jwk" only for newAccount and
 *      revokeCert ........................................... malformed
 *   5. kid: an account of this provisioner .......... accountDoesNotExist
 *      and valid ......................................... unauthorized
 *      jwk: a key we accept ............................. badPublicKey
 *   6. the signature ......................................... malformed
 *   7. "nonce": issued by us and unused ....................... badNonce
 */
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"

struct acct_get {
	const char	*id;
	struct store_acme_account *out;
};

static enum dv_rc
acct_get_tx(struct store_tx *tx, void *arg)
{
	struct acct_get *g = arg;

	return store_acme_account_get(tx, g->id, g->out);
}

bool
acme_verify(struct acme_ctx *c, bool jwk_ok)
{
	const struct acme_req *q = c->req;
	const char *alg, *url, *kid, *nonce, *prefix_end;
	json_t *hjwk, *key = NULL;
	EVP_PKEY *pkey = NULL;
	char *want = NULL, *prefix = NULL;
	struct acct_get g;
	enum dv_rc rc;
	bool ok = false;

	if ((rc = jws_flat_parse(q->body, q->len, &c->jws)) != DV_OK) {
		acme_fail(c, rc == DV_ERR_TOO_LARGE ? ACME_ERR_TOO_LARGE :
		    ACME_ERR_MALFORMED, "the body is not a flattened JWS "
		    "(RFC 8555 §6.2)");
		goto out;
	}
	alg = json_get_str(c->jws->header, "alg");
	if (!jws_alg_accepted(alg) || strcmp(alg, "none") == 0) {
		acme_fail(c, ACME_ERR_BAD_SIGNATURE_ALGORITHM, "the JWS alg "
		    "is not accepted");
		goto out;
	}
	url = json_get_str(c->jws->header, "url");
	want = acme_url(c, q->rest, NULL);
	if (url == NULL || strcmp(url, want) != 0) {
		acme_fail(c, ACME_ERR_UNAUTHORIZED, "the JWS url is not the "
		    "request URL (RFC 8555 §6.4)");
		goto out;
	}
	kid = json_get_str(c->jws->header, "kid");
	hjwk = json_object_get(c->jws->header, "jwk");
	if ((kid != NULL) == (hjwk != NULL)) {
		acme_fail(c, ACME_ERR_MALFORMED, "the JWS must have exactly "
		    "one of kid and jwk (RFC 8555 §6.2)");
		goto out;
	}
	if (hjwk != NULL && !jwk_ok) {
		acme_fail(c, ACME_ERR_MALFORMED, "this resource requires a "
		    "kid (RFC 8555 §6.2)");
		goto out;
	}
	if (kid != NULL) {
		prefix = acme_url(c, "/account/", NULL);
		if (strncmp(kid, prefix, strlen(prefix)) != 0 ||
		    strlen(kid) - strlen(prefix) > 64 ||
		    strchr((prefix_end = kid + strlen(prefix)), '/') != NULL) {
			acme_fail(c, ACME_ERR_ACCOUNT_DOES_NOT_EXIST, "kid is "
			    "not an account URL of this server");
			goto out;
		}
		g.id = prefix_end;
		g.out = &c->acct;
		rc = store_read(c->store, acct_get_tx, &g);
		if (rc == DV_ERR_NOT_FOUND || (rc == DV_OK &&
		    strcmp(c->acct.prov, c->provid) != 0)) {
			acme_fail(c, ACME_ERR_ACCOUNT_DOES_NOT_EXIST, "no such "
			    "account");
			goto out;
		}
		if (rc != DV_OK) {
			acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
			goto out;
		}
		c->has_acct = true;
		if (strcmp(c->acct.status, "valid") != 0) {
			acme_fail(c, ACME_ERR_UNAUTHORIZED, "the account is "
			    "not valid (deactivated or revoked)");
			goto out;
		}
		/* decoded once per account and key (keycache.c) */
		if (acme_key_get(&c->acct, &key, &pkey) != DV_OK) {
			acme_fail(c, ACME_ERR_SERVER_INTERNAL, "stored key "
			    "unreadable");
			goto out;
		}
	} else {
		if (!json_is_object(hjwk) || jws_jwk_check(hjwk) != DV_OK ||
		    json_object_get(hjwk, "d") != NULL) {
			acme_fail(c, ACME_ERR_BAD_PUBLIC_KEY, "the jwk is not "
			    "an accepted public key");
			goto out;
		}
		key = jws_jwk_public(hjwk);
	}
	rc = pkey != NULL ? jws_flat_verify_key(c->jws, key, pkey) :
	    jws_flat_verify(c->jws, key);
	if (rc != DV_OK) {
		acme_fail(c, rc == DV_ERR_BAD_KEY ? ACME_ERR_BAD_PUBLIC_KEY :
		    ACME_ERR_MALFORMED, "the JWS signature does not verify");
		goto out;
	}
	nonce = json_get_str(c->jws->header, "nonce");
	if (nonce == NULL || strlen(nonce) > 64) {
		acme_fail(c, ACME_ERR_BAD_NONCE, "missing or bad nonce");
		/* a fresh nonce comes with every response */
		goto out;
	}
	rc = acme_nonce_take(c, nonce);
	if (rc == DV_ERR_NOT_FOUND) {
		acme_fail(c, ACME_ERR_BAD_NONCE, "the nonce is unknown, used "
		    "or expired");
		goto out;
	}
	if (rc != DV_OK) {
		acme_fail(c, ACME_ERR_UNAVAILABLE, "try again later");
		goto out;
	}
	/* a kid's key: the row's thumbprint is the RFC 7638 one of its
	 * jwk (account.c computes it) */
	if (kid != NULL)
		c->thumbprint = xstrdup(c->acct.thumbprint);
	else if (jws_jwk_thumbprint(key, &c->thumbprint) != DV_OK) {
		acme_fail(c, ACME_ERR_BAD_PUBLIC_KEY, "no thumbprint");
		goto out;
	}
	c->jwk = key;
	key = NULL;
	c->pkey = pkey;
	pkey = NULL;
	ok = true;
out:
	json_decref(key);
	pki_key_free(pkey);
	free(want);
	free(prefix);
	return ok;
}

bool
acme_payload(struct acme_ctx *c, bool empty_ok)
{
	if (c->jws->payloadlen == 0) {
		if (empty_ok)
			return true;
		acme_fail(c, ACME_ERR_MALFORMED, "this resource needs a "
		    "payload");
		return false;
	}
	if (json_parse_strict(c->jws->payload, c->jws->payloadlen,
	    DV_MAX_TOKEN, &c->payload) != DV_OK) {
		acme_fail(c, ACME_ERR_MALFORMED, "the payload is not a JSON "
		    "object");
		return false;
	}
	return true;
}
