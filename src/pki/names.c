/*
 * names.c - subject alternative names (RFC 5280 §4.2.1.6) and subject CNs.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <ctype.h>
#include <string.h>
#include <strings.h>

#include <openssl/err.h>

#include "pki_int.h"

/* RFC 1035 §2.3.4: 255 octets on the wire, 253 as text. */
#define DNS_NAME_MAX	253

static const char *const san_names[PKI_SAN__MAX] = {
	[PKI_SAN_DNS] = "dns",
	[PKI_SAN_IP] = "ip",
	[PKI_SAN_EMAIL] = "email",
	[PKI_SAN_URI] = "uri",
};

/* Letters, digits, '-' and '_' in dot-separated non-empty labels; "*." may
 * lead (wildcard).  Policy, not syntax, decides whether either is allowed. */
static bool
dns_valid(const char *s, size_t len)
{
	size_t i, label = 0;

	if (len == 0 || len > DNS_NAME_MAX)
		return false;
	if (len > 2 && s[0] == '*' && s[1] == '.') {
		s += 2;
		len -= 2;
	}
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '.') {
			if (label == 0)
				return false;
			label = 0;
			continue;
		}
		if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_'))
			return false;
		if (++label > 63)
			return false;
	}
	return label > 0;
}

/* Printable ASCII without spaces. */
static bool
token_valid(const char *s, size_t len)
{
	size_t i;

	if (len == 0 || len > DV_MAX_NAME)
		return false;
	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] <= 0x20 || (unsigned char)s[i] >= 0x7f)
			return false;
	return true;
}

static bool
email_valid(const char *s, size_t len)
{
	const char *at;

	if (!token_valid(s, len))
		return false;
	at = strrchr(s, '@');
	return at != NULL && at != s && at[1] != '\0';
}

/* RFC 3986 §3.1: scheme ":" ... */
static bool
uri_valid(const char *s, size_t len)
{
	size_t i;

	if (!token_valid(s, len) ||
	    !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= 'A' && s[0] <= 'Z')))
		return false;
	for (i = 1; i < len && s[i] != ':'; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') ||
		    (s[i] >= 'A' && s[i] <= 'Z') ||
		    (s[i] >= '0' && s[i] <= '9') || s[i] == '+' ||
		    s[i] == '-' || s[i] == '.'))
			return false;
	return i < len;
}

/* Parses an IPv4 or IPv6 address: family and 4 or 16 bytes. */
static bool
ip_parse(const char *s, uint8_t addr[16], size_t *alen)
{
	if (inet_pton(AF_INET, s, addr) == 1) {
		*alen = 4;
		return true;
	}
	if (inet_pton(AF_INET6, s, addr) == 1) {
		*alen = 16;
		return true;
	}
	return false;
}

/* Adds a value known to be valid, taking ownership of it. */
static void
sans_push(struct pki_sans *s, enum pki_san_type t, char *value)
{
	s->v = xrealloc(s->v, (s->n + 1) * sizeof(*s->v));
	s->v[s->n].type = t;
	s->v[s->n].value = value;
	s->n++;
}

enum dv_rc
pki_sans_add(struct pki_sans *s, enum pki_san_type t, const char *value)
{
	char text[INET6_ADDRSTRLEN];
	uint8_t addr[16];
	size_t len, alen;
	bool ok;

	if (s->n >= DV_MAX_SANS) {
		log_msg(LOG_INFO, "pki.sans", "{s:s,s:i}", "detail",
		    "too many subject alternative names", "max", DV_MAX_SANS);
		return DV_ERR_TOO_LARGE;
	}
	len = strnlen(value, DV_MAX_NAME + 1);
	switch (t) {
	case PKI_SAN_DNS:
		ok = dns_valid(value, len);
		break;
	case PKI_SAN_IP:
		ok = len <= DV_MAX_NAME && ip_parse(value, addr, &alen) &&
		    inet_ntop(alen == 4 ? AF_INET : AF_INET6, addr, text,
		    sizeof(text)) != NULL;
		break;
	case PKI_SAN_EMAIL:
		ok = email_valid(value, len);
		break;
	case PKI_SAN_URI:
		ok = uri_valid(value, len);
		break;
	default:
		ok = false;
		break;
	}
	if (!ok) {
		log_msg(LOG_INFO, "pki.sans", "{s:s,s:s,s:s%}", "detail",
		    "RFC 5280 §4.2.1.6: invalid subject alternative name",
		    "type", (unsigned)t < PKI_SAN__MAX ? san_names[t] : "?",
		    "value", value, len > DV_MAX_NAME ? DV_MAX_NAME : len);
		return DV_ERR_MALFORMED;
	}
	/* IPs are kept in their canonical text form */
	sans_push(s, t, xstrdup(t == PKI_SAN_IP ? text : value));
	return DV_OK;
}

/* RFC 3986 §3.1: scheme = ALPHA *( ALPHA / DIGIT / "+" / "-" / "." ) ":" */
static bool
has_scheme(const char *v)
{
	const char *p = v;

	if (!isalpha((unsigned char)*p))
		return false;
	while (isalnum((unsigned char)*p) || *p == '+' || *p == '-' ||
	    *p == '.')
		p++;
	return *p == ':';
}

enum dv_rc
pki_sans_add_auto(struct pki_sans *s, const char *value)
{
	uint8_t addr[16];
	size_t alen;

	/* step's x509util.SplitSANs order: IP, URI with a scheme, email,
	 * DNS; so "https://user@host/" is a URI, "a@b.example" an email. */
	if (ip_parse(value, addr, &alen))
		return pki_sans_add(s, PKI_SAN_IP, value);
	if (has_scheme(value))
		return pki_sans_add(s, PKI_SAN_URI, value);
	if (strchr(value, '@') != NULL)
		return pki_sans_add(s, PKI_SAN_EMAIL, value);
	return pki_sans_add(s, PKI_SAN_DNS, value);
}

void
pki_sans_clear(struct pki_sans *s)
{
	size_t i;

	if (s == NULL)
		return;
	for (i = 0; i < s->n; i++)
		free(s->v[i].value);
	free(s->v);
	s->v = NULL;
	s->n = 0;
}

static bool
san_same(enum pki_san_type t, const char *a, const char *b)
{
	uint8_t x[16], y[16];
	size_t xl, yl;

	switch (t) {
	case PKI_SAN_DNS:
		return strcasecmp(a, b) == 0;
	case PKI_SAN_IP:
		return ip_parse(a, x, &xl) && ip_parse(b, y, &yl) &&
		    xl == yl && memcmp(x, y, xl) == 0;
	default:
		return strcmp(a, b) == 0;
	}
}

/* Every name of type t in a is also in b. */
static bool
sans_subset(const struct pki_sans *a, const struct pki_sans *b,
    enum pki_san_type t)
{
	size_t i, j;

	for (i = 0; i < a->n; i++) {
		if (a->v[i].type != t)
			continue;
		for (j = 0; j < b->n; j++)
			if (b->v[j].type == t &&
			    san_same(t, a->v[i].value, b->v[j].value))
				break;
		if (j == b->n)
			return false;
	}
	return true;
}

bool
pki_sans_equal_type(const struct pki_sans *a, const struct pki_sans *b,
    enum pki_san_type t)
{
	return sans_subset(a, b, t) && sans_subset(b, a, t);
}

size_t
pki_sans_count(const struct pki_sans *s, enum pki_san_type t)
{
	size_t i, n = 0;

	for (i = 0; i < s->n; i++)
		if (s->v[i].type == t)
			n++;
	return n;
}

json_t *
pki_sans_to_json(const struct pki_sans *s)
{
	json_t *a;
	size_t i;

	a = json_array();
	for (i = 0; i < s->n; i++)
		json_array_append_new(a, json_pack("{s:s,s:s}", "type",
		    san_names[s->v[i].type], "value", s->v[i].value));
	return a;
}

enum dv_rc
pki_sans_to_gens(const struct pki_sans *s, GENERAL_NAMES **out)
{
	GENERAL_NAMES *gens = NULL;
	GENERAL_NAME *g = NULL;
	ASN1_STRING *v = NULL;
	size_t i;
	int type;
	enum dv_rc rc = DV_ERR_CRYPTO;

	*out = NULL;
	if ((gens = GENERAL_NAMES_new()) == NULL)
		goto err;
	for (i = 0; i < s->n; i++) {
		switch (s->v[i].type) {
		case PKI_SAN_IP:
			type = GEN_IPADD;
			v = a2i_IPADDRESS(s->v[i].value);
			break;
		case PKI_SAN_DNS:
		case PKI_SAN_EMAIL:
		case PKI_SAN_URI:
			type = s->v[i].type == PKI_SAN_DNS ? GEN_DNS :
			    s->v[i].type == PKI_SAN_EMAIL ? GEN_EMAIL : GEN_URI;
			if ((v = ASN1_IA5STRING_new()) != NULL &&
			    !ASN1_STRING_set(v, s->v[i].value, -1)) {
				ASN1_STRING_free(v);
				v = NULL;
			}
			break;
		default:
			rc = DV_ERR_INTERNAL;
			goto err;
		}
		if (v == NULL || (g = GENERAL_NAME_new()) == NULL)
			goto err;
		GENERAL_NAME_set0_value(g, type, v);
		v = NULL;
		if (!sk_GENERAL_NAME_push(gens, g))
			goto err;
		g = NULL;
	}
	*out = gens;
	return DV_OK;
err:
	pki_log_ssl(LOG_ERR, "pki.sans", "building GeneralNames");
	ASN1_STRING_free(v);
	GENERAL_NAME_free(g);
	GENERAL_NAMES_free(gens);
	return rc;
}

enum dv_rc
pki_sans_from_gens(const GENERAL_NAMES *gens, struct pki_sans *out)
{
	const GENERAL_NAME *g;
	const ASN1_STRING *v;
	char text[INET6_ADDRSTRLEN], *value;
	enum pki_san_type t;
	int i, type, len;
	enum dv_rc rc;

	for (i = 0; i < sk_GENERAL_NAME_num(gens); i++) {
		g = sk_GENERAL_NAME_value(gens, i);
		v = GENERAL_NAME_get0_value(g, &type);
		switch (type) {
		case GEN_DNS:
		case GEN_EMAIL:
		case GEN_URI:
			t = type == GEN_DNS ? PKI_SAN_DNS :
			    type == GEN_EMAIL ? PKI_SAN_EMAIL : PKI_SAN_URI;
			len = ASN1_STRING_length(v);
			/* not a C string: may hold NULs (rule 18) */
			if (len <= 0 || len > DV_MAX_NAME ||
			    memchr(ASN1_STRING_get0_data(v), '\0',
			    (size_t)len) != NULL) {
				log_msg(LOG_INFO, "pki.sans", "{s:s}",
				    "detail", "RFC 5280 §4.2.1.6: empty, long "
				    "or NUL-bearing name");
				return DV_ERR_MALFORMED;
			}
			value = xstrndup((const char *)ASN1_STRING_get0_data(v),
			    (size_t)len);
			rc = pki_sans_add(out, t, value);
			free(value);
			if (rc != DV_OK)
				return rc;
			break;
		case GEN_IPADD:
			len = ASN1_STRING_length(v);
			if ((len != 4 && len != 16) ||
			    inet_ntop(len == 4 ? AF_INET : AF_INET6,
			    ASN1_STRING_get0_data(v), text, sizeof(text)) ==
			    NULL) {
				log_msg(LOG_INFO, "pki.sans", "{s:s}",
				    "detail", "RFC 5280 §4.2.1.6: iPAddress "
				    "is not 4 or 16 octets");
				return DV_ERR_MALFORMED;
			}
			if ((rc = pki_sans_add(out, PKI_SAN_IP, text)) !=
			    DV_OK)
				return rc;
			break;
		default:
			/* otherName, directoryName, ...: not issued by devid */
			break;
		}
	}
	return DV_OK;
}

char *
pki_name_cn(const X509_NAME *name)
{
	const X509_NAME_ENTRY *e;
	unsigned char *utf8 = NULL;
	char *cn = NULL;
	int i, n;

	if ((i = X509_NAME_get_index_by_NID(name, NID_commonName, -1)) < 0)
		return NULL;
	e = X509_NAME_get_entry(name, i);
	if ((n = ASN1_STRING_to_UTF8(&utf8,
	    X509_NAME_ENTRY_get_data(e))) < 0) {
		ERR_clear_error();
		return NULL;
	}
	if (n <= DV_MAX_NAME && memchr(utf8, '\0', (size_t)n) == NULL)
		cn = xstrndup((const char *)utf8, (size_t)n);
	OPENSSL_free(utf8);
	return cn;
}
