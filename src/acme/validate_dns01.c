/*
 * validate_dns01.c - the dns-01 check (RFC 8555 §8.4): a TXT query for
 * _acme-challenge.{name} (a wildcard identifier's base name) through
 * libresolv, sent to the provisioner's "dnsResolver" (tests: pebble-
 * challtestsrv on loopback) or else to the system's resolvers; one of the
 * TXT records must be base64url(SHA-256(keyAuthorization)).  Answers are
 * read into a bounded buffer and at most ACME_DNS01_MAX_RECORDS records
 * are looked at.  Runs on a validator thread (validate_http01.c).
 */
#include <sys/types.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <arpa/nameser.h>
#include <netdb.h>
#include <resolv.h>
#include <stdlib.h>
#include <string.h>

#include "acme_int.h"
#include "pki/pki.h"

bool
acme_dns01_resolver_parse(const char *s, struct sockaddr_in *out)
{
	char host[INET_ADDRSTRLEN];
	const char *colon;
	size_t len;
	long port = 53;
	char *end;

	memset(out, 0, sizeof(*out));
	if ((colon = strchr(s, ':')) != NULL) {
		len = (size_t)(colon - s);
		if (colon[1] < '0' || colon[1] > '9')
			return false;
		port = strtol(colon + 1, &end, 10);
		if (*end != '\0' || port < 1 || port > 65535)
			return false;
	} else
		len = strlen(s);
	if (len == 0 || len >= sizeof(host))
		return false;
	memcpy(host, s, len);
	host[len] = '\0';
	out->sin_family = AF_INET;
	out->sin_port = htons((uint16_t)port);
	return inet_pton(AF_INET, host, &out->sin_addr) == 1;
}

/* The TXT record rr's character-strings joined into buf (RFC 1035
 * §3.3.14); false when malformed or longer than the buffer. */
static bool
txt_join(const ns_rr *rr, char *buf, size_t size)
{
	const unsigned char *p = ns_rr_rdata(*rr);
	size_t left = ns_rr_rdlen(*rr), n = 0, l;

	while (left > 0) {
		l = p[0];
		if (l + 1 > left || l >= size - n)
			return false;
		memcpy(buf + n, p + 1, l);
		n += l;
		p += l + 1;
		left -= l + 1;
	}
	buf[n] = '\0';
	return true;
}

enum dv_rc
acme_dns01_validate(const struct acme_job *j, json_t **err)
{
	struct __res_state rs;
	unsigned char *ans = NULL;
	const char *base = j->ident;
	char *name = NULL, *want = NULL, txt[ACME_DNS01_MAX_TXT + 1];
	uint8_t md[32];
	ns_msg msg;
	ns_rr rr;
	int len, i, count, seen = 0;
	bool init = false;
	enum dv_rc rc = DV_ERR_UNAUTHORIZED;

	*err = NULL;
	/* §8.4 and §7.1.3: a wildcard is proven on its base name */
	if (strncmp(base, "*.", 2) == 0)
		base += 2;
	name = xasprintf("_acme-challenge.%s", base);
	pki_sha256(j->key_auth, strlen(j->key_auth), md);
	want = jws_b64url_encode(md, sizeof(md));
	memset(&rs, 0, sizeof(rs));
	if (res_ninit(&rs) != 0) {
		log_msg(LOG_ERR, "acme.dns01", "{s:s,s:s}", "challenge",
		    j->chall_id, "detail", "res_ninit failed");
		*err = acme_problem_json(ACME_ERR_SERVER_INTERNAL,
		    "validator unavailable");
		rc = DV_ERR_INTERNAL;
		goto out;
	}
	init = true;
	if (j->resolver_set) {
		rs.nsaddr_list[0] = j->resolver;
		rs.nscount = 1;
	}
	/* bounded time: retrans seconds per try, retry tries per server */
	rs.retrans = ACME_DNS01_TIMEOUT;
	rs.retry = 2;
	/* search lists and the default domain do not apply: name is final */
	rs.options &= ~(unsigned long)(RES_DNSRCH | RES_DEFNAMES);
	ans = xmalloc(ACME_DNS01_MAX_ANSWER);
	len = res_nquery(&rs, name, ns_c_in, ns_t_txt, ans,
	    ACME_DNS01_MAX_ANSWER);
	if (len < 0) {
		bool none = rs.res_h_errno == HOST_NOT_FOUND ||
		    rs.res_h_errno == NO_DATA;

		log_msg(LOG_INFO, "acme.dns01", "{s:s,s:s,s:s}", "challenge",
		    j->chall_id, "name", name, "error",
		    hstrerror(rs.res_h_errno));
		*err = none ? acme_problem_json(ACME_ERR_UNAUTHORIZED,
		    "no TXT record for the dns-01 name") :
		    acme_problem_json(ACME_ERR_DNS, "the TXT query of the "
		    "dns-01 name failed");
		goto out;
	}
	/* res_nquery returns the full length of a truncated answer */
	if (len > ACME_DNS01_MAX_ANSWER ||
	    ns_initparse(ans, len, &msg) != 0) {
		log_msg(LOG_INFO, "acme.dns01", "{s:s,s:s,s:s}", "challenge",
		    j->chall_id, "name", name, "detail", len >
		    ACME_DNS01_MAX_ANSWER ? "answer too large" :
		    "answer malformed");
		*err = acme_problem_json(ACME_ERR_DNS, "the DNS answer for "
		    "the dns-01 name is malformed or too large");
		goto out;
	}
	count = ns_msg_count(msg, ns_s_an);
	for (i = 0; i < count; i++) {
		if (ns_parserr(&msg, ns_s_an, i, &rr) != 0) {
			*err = acme_problem_json(ACME_ERR_DNS, "the DNS "
			    "answer for the dns-01 name is malformed");
			goto out;
		}
		/* CNAMEs on the way are followed by the resolver */
		if (ns_rr_type(rr) != ns_t_txt || ns_rr_class(rr) != ns_c_in)
			continue;
		if (++seen > ACME_DNS01_MAX_RECORDS)
			break;
		if (txt_join(&rr, txt, sizeof(txt)) && strcmp(txt, want) ==
		    0) {
			rc = DV_OK;
			goto out;
		}
	}
	log_msg(LOG_INFO, "acme.dns01", "{s:s,s:s,s:i}", "challenge",
	    j->chall_id, "name", name, "txt_records", seen);
	*err = seen == 0 ? acme_problem_json(ACME_ERR_UNAUTHORIZED,
	    "no TXT record for the dns-01 name") :
	    acme_problem_json(ACME_ERR_INCORRECT_RESPONSE, "no TXT record "
	    "of the dns-01 name is the key authorization digest");
out:
	if (init)
		res_nclose(&rs);
	free(ans);
	free(want);
	free(name);
	return rc;
}
