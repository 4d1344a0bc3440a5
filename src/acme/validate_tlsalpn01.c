/*
 * validate_tlsalpn01.c - the tls-alpn-01 check (RFC 8737): a TCP
 * connection to the identifier (or its "resolve" override) on the
 * provisioner's "tlsAlpnPort" (default 443), then, through src/pki, a TLS
 * handshake offering only acme-tls/1 with the identifier as SNI (an IP
 * identifier's reverse name, RFC 8738 §6) and the checks of the
 * self-signed certificate.  Connecting and each read and write are bounded
 * by ACME_TLSALPN_TIMEOUT.  Runs on a validator thread.
 */
#include <sys/socket.h>
#include <sys/time.h>
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme_int.h"
#include "pki/pki.h"

/* RFC 8738 §6: the SNI of an IP identifier is its reverse-mapping name
 * (RFC 1035 §3.5, RFC 3596 §2.5); a DNS name is itself (new string). */
static char *
sni_for(const char *ident)
{
	static const char hex[] = "0123456789abcdef";
	unsigned char a[16];
	char *s, *p;
	int i;

	if (inet_pton(AF_INET, ident, a) == 1)
		return xasprintf("%u.%u.%u.%u.in-addr.arpa", a[3], a[2], a[1],
		    a[0]);
	if (inet_pton(AF_INET6, ident, a) != 1)
		return xstrdup(ident);
	s = p = xmalloc(32 * 2 + sizeof("ip6.arpa"));
	for (i = 15; i >= 0; i--) {
		*p++ = hex[a[i] & 0xf];
		*p++ = '.';
		*p++ = hex[a[i] >> 4];
		*p++ = '.';
	}
	memcpy(p, "ip6.arpa", sizeof("ip6.arpa"));
	return s;
}

/* A socket connected to host:port within ACME_TLSALPN_TIMEOUT, left
 * blocking with that timeout on reads and writes; -1 when none. */
static int
connect_bounded(const char *host, int port)
{
	struct addrinfo hints, *res = NULL, *ai;
	struct timeval tv = { .tv_sec = ACME_TLSALPN_TIMEOUT };
	struct pollfd pfd;
	socklen_t elen;
	char portstr[8];
	int fd = -1, e, fl;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(portstr, sizeof(portstr), "%d", port);
	if (getaddrinfo(host, portstr, &hints, &res) != 0)
		return -1;
	for (ai = res; ai != NULL; ai = ai->ai_next) {
		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC,
		    ai->ai_protocol);
		if (fd < 0)
			continue;
		fl = fcntl(fd, F_GETFL);
		(void)fcntl(fd, F_SETFL, fl | O_NONBLOCK);
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0) {
			if (errno != EINPROGRESS)
				goto next;
			pfd.fd = fd;
			pfd.events = POLLOUT;
			e = 0;
			elen = sizeof(e);
			if (poll(&pfd, 1, ACME_TLSALPN_TIMEOUT * 1000) != 1 ||
			    getsockopt(fd, SOL_SOCKET, SO_ERROR, &e, &elen) !=
			    0 || e != 0)
				goto next;
		}
		(void)fcntl(fd, F_SETFL, fl);
		(void)setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
		(void)setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
		break;
next:
		close(fd);
		fd = -1;
	}
	freeaddrinfo(res);
	return fd;
}

enum dv_rc
acme_tlsalpn01_validate(const struct acme_job *j, json_t **err)
{
	const char *host = j->connect_ip != NULL ? j->connect_ip : j->ident;
	char *sni = sni_for(j->ident);
	uint8_t md[32];
	X509 *x = NULL;
	int fd;
	enum dv_rc rc = DV_ERR_UNAUTHORIZED;

	*err = NULL;
	if ((fd = connect_bounded(host, j->port)) < 0) {
		log_msg(LOG_INFO, "acme.tlsalpn01", "{s:s,s:s,s:i}",
		    "challenge", j->chall_id, "host", host, "port", j->port);
		*err = acme_problem_json(ACME_ERR_CONNECTION, "could not "
		    "connect for tls-alpn-01");
		goto out;
	}
	switch (pki_tlsalpn_handshake(fd, sni, &x)) {
	case DV_OK:
		break;
	case DV_ERR_UNAUTHORIZED:
		*err = acme_problem_json(ACME_ERR_UNAUTHORIZED, "the server "
		    "did not select acme-tls/1");
		goto out;
	case DV_ERR_IO:
		*err = acme_problem_json(ACME_ERR_CONNECTION, "the "
		    "tls-alpn-01 TLS handshake failed");
		goto out;
	default:
		*err = acme_problem_json(ACME_ERR_UNAUTHORIZED, "the "
		    "tls-alpn-01 certificate is missing or malformed");
		goto out;
	}
	pki_sha256(j->key_auth, strlen(j->key_auth), md);
	switch (pki_tlsalpn_cert_check(x, j->ident, md)) {
	case DV_OK:
		rc = DV_OK;
		break;
	case DV_ERR_SANS_MISMATCH:
		*err = acme_problem_json(ACME_ERR_UNAUTHORIZED, "the "
		    "tls-alpn-01 certificate does not name exactly the "
		    "identifier");
		break;
	case DV_ERR_UNAUTHORIZED:
		*err = acme_problem_json(ACME_ERR_INCORRECT_RESPONSE, "the "
		    "acmeIdentifier extension is not the key authorization "
		    "digest");
		break;
	default:
		*err = acme_problem_json(ACME_ERR_UNAUTHORIZED, "the "
		    "tls-alpn-01 certificate has no valid critical "
		    "acmeIdentifier extension");
		break;
	}
out:
	pki_cert_free(x);
	if (fd >= 0)
		close(fd);
	free(sni);
	return rc;
}
