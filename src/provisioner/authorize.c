/*
 * authorize.c - the token pipeline of spec §1.9: parse, select the
 * provisioner, verify (JWK §2.1, X5C §2.2), check the claims, and say what
 * the token allows.
 */
#include <stdlib.h>
#include <string.h>

#include "jws/jws.h"
#include "prov_int.h"

static const char *const method_names[PROV__MAX] = {
	[PROV_SIGN] = "sign",
	[PROV_REVOKE] = "revoke",
	[PROV_RENEW] = "renew",
};

void
prov_authz_free(struct prov_authz *a)
{
	if (a == NULL)
		return;
	free(a->sub);
	pki_sans_clear(&a->sans);
	free(a->token_id);
	pki_cert_free(a->x5c_leaf);
	free(a->actor);
	free(a);
}

char *
prov_token_sha256(const char *token)
{
	uint8_t md[32];

	pki_sha256(token, strlen(token), md);
	return hex_encode(md, sizeof(md));
}

/*
 * The fragment of the first audience that has one (collection.go
 * extractFragment): "x5c/name" in "https://ca/1.0/sign#x5c/name".  New
 * string or NULL.
 */
static char *
aud_fragment(const json_t *claims)
{
	const json_t *aud, *v;
	const char *s, *h;
	size_t i;

	aud = json_object_get(claims, "aud");
	if (json_is_string(aud)) {
		s = json_string_value(aud);
		if ((h = strchr(s, '#')) != NULL && h[1] != '\0')
			return xstrdup(h + 1);
		return NULL;
	}
	json_array_foreach(aud, i, v) {
		if ((s = json_string_value(v)) != NULL &&
		    (h = strchr(s, '#')) != NULL && h[1] != '\0')
			return xstrdup(h + 1);
	}
	return NULL;
}

/* auds[0..n) each with "#frag" appended (Audiences.WithFragment). */
static char **
auds_with_fragment(const char *const *auds, size_t n, const char *frag)
{
	char **v = xcalloc(n + 1, sizeof(*v));
	size_t i;

	for (i = 0; i < n; i++)
		v[i] = xasprintf("%s#%s", auds[i] != NULL ? auds[i] : "",
		    frag);
	return v;
}

static void
strv_free(char **v, size_t n)
{
	size_t i;

	for (i = 0; v != NULL && i < n; i++)
		free(v[i]);
	free(v);
}

enum dv_rc
prov_x5c_decode(const json_t *hdr, const char *member, X509 **leaf,
    STACK_OF(X509) **chain)
{
	const json_t *arr, *e;
	struct buf pem = { 0 };
	uint8_t *der = NULL;
	size_t i, n, derlen = 0, off, len;
	char *b64 = NULL;
	static const char begin[] = "-----BEGIN CERTIFICATE-----\n";
	static const char end[] = "-----END CERTIFICATE-----\n";
	enum dv_rc rc = DV_ERR_BAD_TOKEN;

	*leaf = NULL;
	*chain = NULL;
	arr = json_object_get(hdr, member);
	if (!json_is_array(arr) || (n = json_array_size(arr)) == 0) {
		prov_log("token.rejected", "RFC 7515 §4.1.6: x5c header "
		    "missing or empty", NULL, member);
		return DV_ERR_BAD_TOKEN;
	}
	if (n > DV_MAX_CHAIN) {
		prov_log("token.rejected", "limits.h DV_MAX_CHAIN: x5c chain "
		    "too long", NULL, member);
		return DV_ERR_BAD_TOKEN;
	}
	json_array_foreach(arr, i, e) {
		const char *s = json_string_value(e);

		free(der);
		der = NULL;
		if (s == NULL || strlen(s) > (DV_MAX_DER / 3 + 1) * 4) {
			prov_log("token.rejected", "RFC 7515 §4.1.6: x5c entry "
			    "is not a certificate", NULL, member);
			goto err;
		}
		if (pki_b64_decode(s, strlen(s), &der, &derlen) != DV_OK ||
		    derlen == 0 || derlen > DV_MAX_DER) {
			prov_log("token.rejected", "RFC 7515 §4.1.6: x5c entry "
			    "is not standard base64 DER", NULL, member);
			goto err;
		}
		if (i == 0) {
			if (pki_cert_from_der(der, derlen, leaf) != DV_OK) {
				prov_log("token.rejected", "RFC 7515 §4.1.6: "
				    "x5c leaf does not parse", NULL, member);
				goto err;
			}
			continue;
		}
		/* pki builds the untrusted chain from PEM (64-char lines) */
		if (pki_b64_encode(der, derlen, &b64) != DV_OK)
			goto err;
		buf_append(&pem, begin, sizeof(begin) - 1);
		len = strlen(b64);
		for (off = 0; off < len; off += 64) {
			buf_append(&pem, b64 + off, len - off < 64 ? len - off :
			    64);
			buf_append(&pem, "\n", 1);
		}
		buf_append(&pem, end, sizeof(end) - 1);
		free(b64);
		b64 = NULL;
	}
	if (n > 1 && pki_certs_from_pem((const char *)pem.data, pem.len,
	    DV_MAX_CHAIN - 1, chain) != DV_OK) {
		prov_log("token.rejected", "RFC 7515 §4.1.6: x5c chain "
		    "certificate does not parse", NULL, member);
		goto err;
	}
	rc = DV_OK;
	goto out;
err:
	pki_cert_free(*leaf);
	*leaf = NULL;
	pki_certs_free(*chain);
	*chain = NULL;
out:
	free(b64);
	free(der);
	buf_free(&pem);
	return rc;
}

/* "sans" (default [sub]) into out; BAD_TOKEN on a name pki refuses. */
static enum dv_rc
token_sans(const struct prov *p, const json_t *claims, const char *sub,
    struct pki_sans *out)
{
	const json_t *sans, *v;
	size_t i;

	sans = json_object_get(claims, "sans");
	if (sans != NULL && !json_is_null(sans) && !json_is_array(sans)) {
		prov_log("token.rejected", "spec §2.1: sans is not a list", p,
		    NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (json_array_size(sans) > DV_MAX_SANS) {
		prov_log("token.rejected", "limits.h DV_MAX_SANS: too many "
		    "sans", p, NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (json_array_size(sans) == 0) {
		/* step: older clients put the subject as the only SAN */
		if (pki_sans_add_auto(out, sub) != DV_OK) {
			prov_log("token.rejected", "spec §2.1: sub is not a "
			    "valid name for the default sans", p, sub);
			return DV_ERR_BAD_TOKEN;
		}
		return DV_OK;
	}
	json_array_foreach(sans, i, v) {
		if (!json_is_string(v) ||
		    pki_sans_add_auto(out, json_string_value(v)) != DV_OK) {
			prov_log("token.rejected", "spec §2.1: sans entry is "
			    "not a valid name", p, json_string_value(v));
			return DV_ERR_BAD_TOKEN;
		}
	}
	return DV_OK;
}

/* cnf {"x5rt#S256": b64url SHA-256 of the CSR DER} (spec §2.1). */
static enum dv_rc
token_cnf(const struct prov *p, const json_t *claims, struct prov_authz *a)
{
	const json_t *cnf, *fp;
	uint8_t *md = NULL;
	size_t len = 0;

	if ((cnf = json_object_get(claims, "cnf")) == NULL || json_is_null(cnf))
		return DV_OK;
	if (!json_is_object(cnf)) {
		prov_log("token.rejected", "spec §2.1: cnf is not an object", p,
		    NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if ((fp = json_object_get(cnf, "x5rt#S256")) == NULL ||
	    (json_is_string(fp) && json_string_length(fp) == 0))
		return DV_OK;
	if (jws_b64url_decode(json_string_value(fp), &md, &len) != DV_OK ||
	    len != sizeof(a->cnf_sha256)) {
		free(md);
		prov_log("token.rejected", "spec §2.1: cnf x5rt#S256 is not a "
		    "base64url SHA-256", p, NULL);
		return DV_ERR_BAD_TOKEN;
	}
	memcpy(a->cnf_sha256, md, sizeof(a->cnf_sha256));
	a->has_cnf = true;
	free(md);
	return DV_OK;
}

/*
 * Verifies an X5C token's chain to p's roots now (clientAuth,
 * digitalSignature) and its signature by the leaf.  *leaf is new.
 */
static enum dv_rc
verify_x5c(const struct prov *p, const struct jws_token *t, time_t now,
    X509 **leaf)
{
	STACK_OF(X509) *chain = NULL;
	X509 *l = NULL;
	enum dv_rc rc;

	*leaf = NULL;
	if ((rc = prov_x5c_decode(t->header, "x5c", &l, &chain)) != DV_OK)
		goto out;
	if (pki_trust_verify(p->roots, l, chain, now, PKI_EKU_CLIENT_AUTH,
	    true) != DV_OK) {
		prov_log("token.rejected", "spec §2.2: x5c chain does not "
		    "verify to the provisioner roots with clientAuth and "
		    "digitalSignature", p, NULL);
		rc = DV_ERR_UNTRUSTED;
		goto out;
	}
	if ((rc = jws_verify_pkey(t, pki_cert_pubkey0(l))) != DV_OK)
		goto out;
	*leaf = l;
	l = NULL;
out:
	pki_certs_free(chain);
	pki_cert_free(l);
	return rc;
}

/* The claims every provisioner checks the same way (jwk.go/x5c.go
 * authorizeToken): iss, times, aud, sub. */
static enum dv_rc
common_claims(const struct prov *p, const json_t *claims,
    const char *const *auds, size_t n, time_t now)
{
	const char *iss, *sub;
	enum dv_rc rc;

	iss = json_get_str(claims, "iss");
	if (iss == NULL || strcmp(iss, p->name) != 0) {
		prov_log("token.rejected", "spec §2.1: iss is not the "
		    "provisioner name", p, iss);
		return DV_ERR_TOKEN_ISSUER;
	}
	if ((rc = jws_check_times(claims, now)) != DV_OK)
		return rc;
	if (!jws_check_audience(claims, auds, n)) {
		prov_log("token.rejected", "spec §1.9: aud is not an audience "
		    "of this authority for the method", p, NULL);
		return DV_ERR_TOKEN_AUDIENCE;
	}
	sub = json_get_str(claims, "sub");
	if (sub == NULL || *sub == '\0') {
		prov_log("token.rejected", "spec §2.1: sub is empty", p, NULL);
		return DV_ERR_BAD_TOKEN;
	}
	return DV_OK;
}

/* jti (GetTokenID), else SHA-256 of the token (spec §1.9 step 3). */
static enum dv_rc
token_id(const struct prov *p, const json_t *claims, const char *token,
    char **out)
{
	const json_t *jti;

	*out = NULL;
	jti = json_object_get(claims, "jti");
	if (jti != NULL && !json_is_string(jti)) {
		prov_log("token.rejected", "RFC 7519 §4.1.7: jti is not a "
		    "string", p, NULL);
		return DV_ERR_BAD_TOKEN;
	}
	if (json_string_length(jti) > 0)
		*out = xstrdup(json_string_value(jti));
	else
		*out = prov_token_sha256(token);
	return DV_OK;
}

/* Picks the provisioner (collection.go LoadByToken). */
static enum dv_rc
select_prov(const struct prov_set *set, const struct jws_token *t,
    const char *const *auds, size_t n, struct prov **out, char **frag)
{
	char **fauds = NULL, *id = NULL;
	const char *iss, *kid;
	enum dv_rc rc = DV_OK;

	*out = NULL;
	*frag = aud_fragment(t->claims);
	if (*frag != NULL)
		fauds = auds_with_fragment(auds, n, *frag);
	if (!jws_check_audience(t->claims, fauds != NULL ?
	    (const char *const *)fauds : auds, n)) {
		prov_log("token.rejected", "spec §1.9: aud is not an audience "
		    "of this authority for the method", NULL, NULL);
		rc = DV_ERR_TOKEN_AUDIENCE;
		goto out;
	}
	if (*frag != NULL) {
		*out = prov_set_find_token_id(set, *frag);
	} else {
		iss = json_get_str(t->claims, "iss");
		kid = json_get_str(t->header, "kid");
		if (iss != NULL && kid != NULL) {
			id = xasprintf("%s:%s", iss, kid);
			*out = prov_set_find_token_id(set, id);
		}
	}
	if (*out == NULL) {
		prov_log("token.rejected", "spec §1.9: no provisioner for the "
		    "token (iss:kid or aud fragment)", NULL, *frag != NULL ?
		    *frag : id);
		rc = DV_ERR_TOKEN_ISSUER;
	}
out:
	strv_free(fauds, n);
	free(id);
	return rc;
}

enum dv_rc
prov_authorize(const struct prov_set *set, const char *token,
    enum prov_method m, const char *const *auds, size_t n, time_t now,
    struct prov_authz **out)
{
	struct jws_token *t = NULL;
	struct prov_authz *a = NULL;
	struct prov *p = NULL;
	char **fauds = NULL, *frag = NULL, *cn = NULL, *serial = NULL;
	const char *kid, *sub;
	size_t len;
	enum dv_rc rc;

	*out = NULL;
	if (set == NULL || token == NULL || (unsigned)m >= PROV__MAX) {
		prov_log("token.rejected", "spec §1.9: no token", NULL, NULL);
		return DV_ERR_BAD_TOKEN;
	}
	len = strnlen(token, DV_MAX_TOKEN + 1);
	if ((rc = jws_parse(token, len, &t)) != DV_OK)
		goto out;
	if ((rc = select_prov(set, t, auds, n, &p, &frag)) != DV_OK)
		goto out;

	a = xcalloc(1, sizeof(*a));
	a->prov = p;
	switch (p->type) {
	case PROV_JWK:
		/* jwk.go: header kid == key kid, signature by the key */
		kid = json_get_str(t->header, "kid");
		if (kid == NULL || strcmp(kid, p->kid) != 0) {
			prov_log("token.rejected", "spec §2.1: header kid is "
			    "not the provisioner key's", p, kid);
			rc = DV_ERR_BAD_TOKEN;
			goto out;
		}
		if ((rc = jws_verify_key(t, p->jwk, p->pkey)) != DV_OK)
			goto out;
		if ((rc = common_claims(p, t->claims, auds, n, now)) != DV_OK)
			goto out;
		a->actor = xasprintf("jwk/%s", p->name);
		break;
	case PROV_X5C:
		if ((rc = verify_x5c(p, t, now, &a->x5c_leaf)) != DV_OK)
			goto out;
		fauds = auds_with_fragment(auds, n, p->token_id);
		if ((rc = common_claims(p, t->claims,
		    (const char *const *)fauds, n, now)) != DV_OK)
			goto out;
		cn = pki_cert_cn(a->x5c_leaf);
		a->actor = xasprintf("x5c/%s:%s", p->name, cn != NULL ? cn :
		    "");
		break;
	default:
		prov_log("token.rejected", "spec §2: provisioner type has no "
		    "token flow", p, NULL);
		rc = DV_ERR_NOT_IMPLEMENTED;
		goto out;
	}

	sub = json_get_str(t->claims, "sub");
	if ((rc = token_id(p, t->claims, t->compact, &a->token_id)) != DV_OK)
		goto out;
	/* common_claims() read exp as a NumericDate already */
	a->token_exp = (time_t)json_number_value(json_object_get(t->claims,
	    "exp"));
	switch (m) {
	case PROV_SIGN:
		if ((rc = token_sans(p, t->claims, sub, &a->sans)) != DV_OK ||
		    (rc = token_cnf(p, t->claims, a)) != DV_OK)
			goto out;
		a->sub = xstrdup(sub);
		break;
	case PROV_REVOKE:
		/* tls.go Revoke: the token's sub is the serial */
		if (pki_serial_normalise(sub, &serial) != DV_OK) {
			prov_log("token.rejected", "spec §1.7: revoke token "
			    "sub is not a serial number", p, sub);
			rc = DV_ERR_FORBIDDEN;
			goto out;
		}
		a->sub = serial;
		serial = NULL;
		break;
	default:
		a->sub = xstrdup(sub);
		break;
	}
	log_msg(LOG_DEBUG, "token.authorized", "{s:s,s:s,s:s}", "provisioner",
	    p->name, "method", method_names[m], "sub", a->sub);
	*out = a;
	a = NULL;
out:
	free(serial);
	free(cn);
	strv_free(fauds, n);
	free(frag);
	prov_authz_free(a);
	jws_token_free(t);
	return rc;
}
