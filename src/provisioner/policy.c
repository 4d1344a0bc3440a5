/*
 * policy.c - the X.509 name policy engine (spec §3.3; step-ca
 * authority/policy/options.go, policy/engine.go), per provisioner as a
 * devid extension:
 *
 *   "policy": {"x509": {"allow": {"cn":[],"dns":[],"ip":[],"email":[],
 *                                 "uri":[]},
 *                       "deny": {...}, "allowWildcardNames": false}}
 *
 * Every name is checked: deny rules win; once any allow rule exists, a name
 * of a type without allow rules is refused.  dns: "*.example.com" matches
 * exactly one more label, otherwise names match exactly (case-insensitive);
 * ip: an address or a CIDR; email: "user@domain" exactly or "@domain" for
 * the whole domain (no subdomains); uri: the host, matched like dns; cn:
 * exact strings, and a CN no cn rule allows is checked as the name type it
 * looks like.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "prov_int.h"

enum name_kind { NAME_DNS, NAME_IP, NAME_EMAIL, NAME_URI, NAME_CN,
    NAME__MAX };

static const char *const kind_names[NAME__MAX] = {
	[NAME_DNS] = "dns",
	[NAME_IP] = "ip",
	[NAME_EMAIL] = "email",
	[NAME_URI] = "uri",
	[NAME_CN] = "cn",
};

static char ***
names_list(struct prov_names *n, enum name_kind k)
{
	switch (k) {
	case NAME_DNS:
		return &n->dns;
	case NAME_IP:
		return &n->ip;
	case NAME_EMAIL:
		return &n->email;
	case NAME_URI:
		return &n->uri;
	default:
		return &n->cn;
	}
}

static char *const *
names_get(const struct prov_names *n, enum name_kind k)
{
	return *names_list((struct prov_names *)n, k);
}

static bool
names_empty(const struct prov_names *n, enum name_kind k)
{
	char *const *v = names_get(n, k);

	return v == NULL || v[0] == NULL;
}

static void
names_clear(struct prov_names *n)
{
	enum name_kind k;
	char **v;
	size_t i;

	for (k = 0; k < NAME__MAX; k++) {
		v = *names_list(n, k);
		for (i = 0; v != NULL && v[i] != NULL; i++)
			free(v[i]);
		free(v);
		*names_list(n, k) = NULL;
	}
}

void
prov_policy_clear(struct prov_policy *p)
{
	names_clear(&p->allow);
	names_clear(&p->deny);
	memset(p, 0, sizeof(*p));
}

/* ---- address helpers ------------------------------------------------ */

/* Parses an IPv4 or IPv6 address: 4 or 16 bytes in a, 0 on failure. */
static size_t
ip_parse(const char *s, uint8_t a[16])
{
	if (inet_pton(AF_INET, s, a) == 1)
		return 4;
	if (inet_pton(AF_INET6, s, a) == 1)
		return 16;
	return 0;
}

/* "192.0.2.1" or "192.0.2.0/24": address and prefix length. */
static bool
cidr_parse(const char *rule, uint8_t a[16], size_t *alen, int *bits)
{
	char buf[64];
	const char *slash;
	long long v;

	if ((slash = strchr(rule, '/')) == NULL) {
		if ((*alen = ip_parse(rule, a)) == 0)
			return false;
		*bits = (int)*alen * 8;
		return true;
	}
	if ((size_t)(slash - rule) >= sizeof(buf))
		return false;
	memcpy(buf, rule, slash - rule);
	buf[slash - rule] = '\0';
	if ((*alen = ip_parse(buf, a)) == 0)
		return false;
	if (num_parse(slash + 1, 0, (long long)*alen * 8, &v) != DV_OK)
		return false;
	*bits = (int)v;
	return true;
}

static bool
ip_match(const char *rule, const char *name)
{
	uint8_t r[16], a[16];
	size_t rlen, alen;
	int bits, i;

	if (!cidr_parse(rule, r, &rlen, &bits) ||
	    (alen = ip_parse(name, a)) == 0 || alen != rlen)
		return false;
	for (i = 0; i < bits / 8; i++)
		if (r[i] != a[i])
			return false;
	if (bits % 8 != 0) {
		uint8_t m = (uint8_t)(0xff << (8 - bits % 8));

		if ((r[i] & m) != (a[i] & m))
			return false;
	}
	return true;
}

/* A DNS name or rule: letters, digits, '-', '_', dots between labels. */
static bool
dns_syntax(const char *s, bool wildcard_ok)
{
	size_t label = 0;
	const char *p = s;

	if (wildcard_ok && strncmp(p, "*.", 2) == 0)
		p += 2;
	if (*p == '\0' || strlen(s) > 253)
		return false;
	for (; *p != '\0'; p++) {
		unsigned char c = (unsigned char)*p;

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!isalnum(c) && c != '-' && c != '_')
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* Rule "*.example.com": name is exactly one label plus ".example.com". */
static bool
dns_match(const char *rule, const char *name)
{
	size_t rl, nl;
	const char *dot;

	if (strncmp(rule, "*.", 2) != 0)
		return strcasecmp(rule, name) == 0;
	rule++;				/* ".example.com" */
	rl = strlen(rule);
	nl = strlen(name);
	if (nl <= rl || strcasecmp(name + nl - rl, rule) != 0)
		return false;
	/* the part before must be one non-empty label */
	dot = memchr(name, '.', nl - rl);
	return dot == NULL;
}

static bool
email_match(const char *rule, const char *name)
{
	const char *rat, *nat;

	if ((rat = strrchr(rule, '@')) == NULL ||
	    (nat = strrchr(name, '@')) == NULL)
		return false;
	if (strcasecmp(rat + 1, nat + 1) != 0)
		return false;
	if (rat == rule)		/* "@domain": every mailbox */
		return true;
	/* local parts are case-sensitive (RFC 5321 §2.4) */
	return (size_t)(rat - rule) == (size_t)(nat - name) &&
	    memcmp(rule, name, rat - rule) == 0;
}

/* The host of a URI with an authority, in a new string; NULL if none or
 * if the host is an IP literal (which no domain rule matches). */
static char *
uri_host(const char *uri)
{
	const char *a, *end, *at, *colon, *p;

	if ((a = strstr(uri, "://")) == NULL)
		return NULL;
	a += 3;
	end = a + strcspn(a, "/?#");
	at = NULL;
	for (p = a; p < end; p++)
		if (*p == '@')
			at = p;
	if (at != NULL)
		a = at + 1;
	if (a < end && *a == '[')
		return NULL;
	colon = memchr(a, ':', end - a);
	if (colon != NULL)
		end = colon;
	if (end == a)
		return NULL;
	return xstrndup(a, end - a);
}

static bool
rule_match(enum name_kind k, const char *rule, const char *name)
{
	char *host;
	bool ok;

	switch (k) {
	case NAME_DNS:
		return dns_match(rule, name);
	case NAME_IP:
		return ip_match(rule, name);
	case NAME_EMAIL:
		return email_match(rule, name);
	case NAME_URI:
		if ((host = uri_host(name)) == NULL)
			return false;
		ok = dns_match(rule, host);
		free(host);
		return ok;
	default:
		return strcmp(rule, name) == 0;
	}
}

static bool
list_match(const struct prov_names *n, enum name_kind k, const char *name)
{
	char *const *v = names_get(n, k);
	size_t i;

	for (i = 0; v != NULL && v[i] != NULL; i++)
		if (rule_match(k, v[i], name))
			return true;
	return false;
}

static bool
any_allow(const struct prov_policy *p)
{
	enum name_kind k;

	for (k = 0; k < NAME__MAX; k++)
		if (!names_empty(&p->allow, k))
			return true;
	return false;
}

/* ---- loading -------------------------------------------------------- */

/* Validates and normalises one rule; a new string or NULL if invalid. */
static char *
rule_normalise(enum name_kind k, const char *s)
{
	uint8_t a[16];
	size_t alen, i;
	int bits;
	char *r, *at;

	if (s == NULL || *s == '\0' || strlen(s) > DV_MAX_NAME)
		return NULL;
	switch (k) {
	case NAME_DNS:
	case NAME_URI:
		/* "*." only as a whole leading label */
		if (!dns_syntax(s, true))
			return NULL;
		r = xstrdup(s);
		for (i = 0; r[i] != '\0'; i++)
			r[i] = (char)tolower((unsigned char)r[i]);
		return r;
	case NAME_IP:
		return cidr_parse(s, a, &alen, &bits) ? xstrdup(s) : NULL;
	case NAME_EMAIL:
		if ((at = strrchr(s, '@')) == NULL || !dns_syntax(at + 1,
		    false))
			return NULL;
		r = xstrdup(s);
		for (at = strrchr(r, '@'); *at != '\0'; at++)
			*at = (char)tolower((unsigned char)*at);
		return r;
	default:
		return xstrdup(s);
	}
}

static enum dv_rc
names_load(const json_t *o, struct prov_names *out)
{
	enum name_kind k;
	const char *key;
	json_t *v, *e;
	size_t i, n;
	char **list, *r;

	if (o == NULL)
		return DV_OK;
	if (!json_is_object(o)) {
		prov_log("config.policy", "spec §3.3: allow/deny is not an "
		    "object", NULL, NULL);
		return DV_ERR_MALFORMED;
	}
	json_object_foreach((json_t *)o, key, v) {
		for (k = 0; k < NAME__MAX; k++)
			if (strcmp(kind_names[k], key) == 0)
				break;
		if (k == NAME__MAX) {
			prov_log("config.policy", "spec §3.3: unknown name "
			    "type", NULL, key);
			return DV_ERR_MALFORMED;
		}
		if (!json_is_array(v)) {
			prov_log("config.policy", "spec §3.3: rules are not a "
			    "list", NULL, key);
			return DV_ERR_MALFORMED;
		}
		n = json_array_size(v);
		list = xcalloc(n + 1, sizeof(*list));
		/* the caller frees a partly filled list on error */
		*names_list(out, k) = list;
		json_array_foreach(v, i, e) {
			if ((r = rule_normalise(k, json_string_value(e))) ==
			    NULL) {
				prov_log("config.policy", "spec §3.3: invalid "
				    "rule", NULL, json_string_value(e));
				return DV_ERR_MALFORMED;
			}
			list[i] = r;
		}
	}
	return DV_OK;
}

enum dv_rc
prov_policy_load(const json_t *j, struct prov_policy *out)
{
	struct prov_policy p;
	const json_t *x509, *w;
	const char *key;
	json_t *v;
	enum name_kind k;
	enum dv_rc rc = DV_ERR_MALFORMED;

	memset(out, 0, sizeof(*out));
	memset(&p, 0, sizeof(p));
	if (j == NULL || json_is_null(j))
		return DV_OK;
	if (!json_is_object(j)) {
		prov_log("config.policy", "spec §3.3: policy is not an object",
		    NULL, NULL);
		goto err;
	}
	json_object_foreach((json_t *)j, key, v) {
		/* devid has no SSH CA: an "ssh" policy is accepted, unused */
		if (strcmp(key, "x509") != 0 && strcmp(key, "ssh") != 0) {
			prov_log("config.policy", "spec §3.3: unknown policy "
			    "member", NULL, key);
			goto err;
		}
	}
	if ((x509 = json_object_get(j, "x509")) == NULL)
		return DV_OK;
	if (!json_is_object(x509)) {
		prov_log("config.policy", "spec §3.3: x509 is not an object",
		    NULL, NULL);
		goto err;
	}
	json_object_foreach((json_t *)x509, key, v) {
		if (strcmp(key, "allow") != 0 && strcmp(key, "deny") != 0 &&
		    strcmp(key, "allowWildcardNames") != 0) {
			prov_log("config.policy", "spec §3.3: unknown x509 "
			    "policy member", NULL, key);
			goto err;
		}
	}
	if ((rc = names_load(json_object_get(x509, "allow"), &p.allow)) !=
	    DV_OK ||
	    (rc = names_load(json_object_get(x509, "deny"), &p.deny)) != DV_OK)
		goto err;
	rc = DV_ERR_MALFORMED;
	if ((w = json_object_get(x509, "allowWildcardNames")) != NULL) {
		if (!json_is_boolean(w)) {
			prov_log("config.policy", "spec §3.3: "
			    "allowWildcardNames is not a boolean", NULL, NULL);
			goto err;
		}
		p.allow_wildcard = json_is_true(w);
	}
	for (k = 0; k < NAME__MAX; k++)
		if (!names_empty(&p.allow, k) || !names_empty(&p.deny, k))
			p.present = true;
	*out = p;
	return DV_OK;
err:
	prov_policy_clear(&p);
	return rc;
}

/* ---- checking ------------------------------------------------------- */

/* Why name of kind k is refused, or NULL if it is allowed. */
static const char *
name_refusal(const struct prov_policy *p, enum name_kind k, const char *name)
{
	if (k == NAME_DNS && strncmp(name, "*.", 2) == 0 &&
	    !p->allow_wildcard)
		return "spec §3.3: wildcard name without allowWildcardNames";
	if (list_match(&p->deny, k, name))
		return "spec §3.3: name matches a deny rule";
	if (!any_allow(p))
		return NULL;
	if (names_empty(&p->allow, k))
		return "spec §3.3: allow rules exist, none for this name type";
	if (!list_match(&p->allow, k, name))
		return "spec §3.3: name matches no allow rule";
	return NULL;
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static bool
has_scheme(const char *s)
{
	const char *p = s;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	return *p == ':';
}

/* The type a CN looks like (step's appendSubjectCommonName through
 * x509util.SplitSANs: IP, then URI with a scheme, then email, else DNS). */
static enum name_kind
cn_kind(const char *cn)
{
	uint8_t a[16];

	if (ip_parse(cn, a) != 0)
		return NAME_IP;
	if (has_scheme(cn))
		return NAME_URI;
	if (strchr(cn, '@') != NULL)
		return NAME_EMAIL;
	return NAME_DNS;
}

static enum name_kind
san_kind(enum pki_san_type t)
{
	switch (t) {
	case PKI_SAN_DNS:
		return NAME_DNS;
	case PKI_SAN_IP:
		return NAME_IP;
	case PKI_SAN_EMAIL:
		return NAME_EMAIL;
	default:
		return NAME_URI;
	}
}

static enum dv_rc
refuse(const struct prov *p, enum name_kind k, const char *why,
    const char *name)
{
	log_msg(LOG_WARN, "policy.rejected", "{s:s,s:s,s:s,s:s}", "reason",
	    why, "provisioner", p->name, "type", kind_names[k], "value", name);
	return DV_ERR_POLICY;
}

enum dv_rc
prov_policy_check(const struct prov *p, const char *cn,
    const struct pki_sans *sans)
{
	const struct prov_policy *pol;
	const char *why;
	enum name_kind k;
	size_t i;

	if (p == NULL)
		return DV_ERR_INTERNAL;
	pol = &p->policy;
	if (!pol->present)
		return DV_OK;
	for (i = 0; sans != NULL && i < sans->n; i++) {
		k = san_kind(sans->v[i].type);
		if ((why = name_refusal(pol, k, sans->v[i].value)) != NULL)
			return refuse(p, k, why, sans->v[i].value);
	}
	if (cn == NULL || *cn == '\0')
		return DV_OK;
	if (list_match(&pol->deny, NAME_CN, cn))
		return refuse(p, NAME_CN, "spec §3.3: CN matches a deny rule",
		    cn);
	if (list_match(&pol->allow, NAME_CN, cn))
		return DV_OK;
	k = cn_kind(cn);
	if ((why = name_refusal(pol, k, cn)) != NULL)
		return refuse(p, NAME_CN, why, cn);
	return DV_OK;
}
