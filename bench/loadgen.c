/*
 * loadgen.c - HTTPS keep-alive load generator for the sign benchmark
 * (spec/performance.md §3, §6, §8).  A benchmark program, not project code:
 * it calls OpenSSL directly (TLS client, HMAC for cfssl's authsign token).
 *
 * One thread, epoll over N non-blocking TLS connections, one request in
 * flight per connection.  Bodies come from a list generated before the run:
 * in devid mode one single-use JWT per request (never reused), minted with
 * jws_sign from the admin JWK; in cfssl mode the same authsign or sign body
 * (cfssl's HMAC token is replayable).  Requests that complete during the
 * measured window (after the warm-up) are counted and their latencies kept.
 * The server's CPU (utime+stime of the PID and its descendants, e.g. the
 * signer process) is read from /proc before and after the window.
 *
 *   bench_loadgen --mode devid|cfssl|cfssl-sign --url https://H:P/path
 *       --csr FILE [--admin FILE --sub CN --sans a,b]
 *       [--auth-key HEX [--profile P]]
 *       [-c CONNS] [-w WARM] [-d DUR] [--rate-hint R] [--pid PID]
 *       [--idle N [--hold SECS]] [--label TEXT]
 *
 * Output: one line "RESULT key=value ..." (or "IDLE key=value ...").
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>
#include <openssl/ssl.h>

#include "base/base.h"
#include "jws/jws.h"

enum lg_mode { LG_DEVID, LG_CFSSL_AUTHSIGN, LG_CFSSL_SIGN, LG__MAX };

enum cstate {
	ST_CONNECT,
	ST_HANDSHAKE,
	ST_NEXT,
	ST_WRITE,
	ST_READ,
	ST_IDLE,
	ST_DEAD,
};

struct conn {
	int		 fd;
	SSL		*ssl;		/* owned */
	enum cstate	 st;
	uint32_t	 events;	/* registered epoll events */
	char		*out;		/* owned: current request */
	size_t		 outlen, outoff, outcap;
	char		*in;		/* owned: response bytes */
	size_t		 inlen, incap;
	uint64_t	 t_start;	/* ns, request sent */
	unsigned	 done;		/* requests completed */
};

struct lat {
	uint32_t	*v;		/* owned: microseconds */
	size_t		 n, cap;
};

struct lg {
	enum lg_mode	 mode;
	struct sockaddr_in addr;
	char		*host;		/* owned: Host header */
	char		*path;		/* owned */
	SSL_CTX		*ctx;		/* owned */
	int		 ep;

	/* bodies */
	char		*fixed;		/* owned: cfssl body */
	size_t		 fixedlen;
	char		*prefix;	/* owned: devid body up to the token */
	size_t		 prefixlen;
	char		**tok;		/* owned: single-use tokens */
	size_t		 ntok, nexttok;
	bool		 exhausted;

	/* run state */
	struct conn	*c;		/* owned */
	size_t		 nc;
	unsigned	 per_conn;	/* requests per connection, 0: no limit */
	bool		 stopping;	/* no new requests */
	uint64_t	 t_meas, t_end;	/* ns; window [t_meas, t_end) */
	bool		 in_window;
	struct lat	 lat;
	uint64_t	 ok, non2xx, errors, reconnects, total;
	int		 bad_shown;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static void
die(const char *what)
{
	fprintf(stderr, "bench_loadgen: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

/* ---- /proc readings ------------------------------------------------ */

/* utime+stime+cutime+cstime of one process in clock ticks; false if gone. */
static bool
proc_cpu_one(int pid, unsigned long long *ticks, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	FILE *f;
	size_t n;
	int pp;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	/* comm may hold spaces and parentheses: fields follow the last ')' */
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu", &pp, &ut, &st, &cut, &cst) != 5)
		return false;
	*ticks = ut + st + cut + cst;
	*ppid = pp;
	return true;
}

/* VmRSS and VmHWM of one process in KiB. */
static void
proc_mem_one(int pid, long *rss, long *hwm)
{
	char path[64], line[256];
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", pid);
	if ((f = fopen(path, "r")) == NULL)
		return;
	while (fgets(line, sizeof(line), f) != NULL) {
		if (strncmp(line, "VmRSS:", 6) == 0)
			*rss += strtol(line + 6, NULL, 10);
		else if (strncmp(line, "VmHWM:", 6) == 0)
			*hwm += strtol(line + 6, NULL, 10);
	}
	fclose(f);
}

/* Busy ticks of the whole machine (/proc/stat: all but idle and iowait). */
static unsigned long long
host_busy_ticks(void)
{
	unsigned long long v[8] = { 0 };
	FILE *f;

	if ((f = fopen("/proc/stat", "r")) == NULL)
		return 0;
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0],
	    &v[1], &v[2], &v[3], &v[4], &v[5], &v[6], &v[7]) != 8)
		v[3] = v[4] = 0;
	fclose(f);
	return v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
}

struct tree {
	unsigned long long ticks;	/* CPU of pid and descendants */
	unsigned long long host;	/* busy ticks of the machine */
	unsigned long long self;	/* this process */
	long		 rss, hwm;	/* KiB, summed */
	long		 rss_main;	/* KiB, pid only */
	int		 nproc;
};

/* Reads pid and every descendant (the signer child, its helpers). */
static void
tree_read(int pid, struct tree *t)
{
	int pids[256], np = 0, i, q, pp;
	unsigned long long tk;
	struct dirent *de;
	DIR *d;
	bool grew;

	memset(t, 0, sizeof(*t));
	t->host = host_busy_ticks();
	if (proc_cpu_one(getpid(), &tk, &pp))
		t->self = tk;
	if (pid <= 0)
		return;
	pids[np++] = pid;
	do {
		grew = false;
		if ((d = opendir("/proc")) == NULL)
			return;
		while ((de = readdir(d)) != NULL && np < 256) {
			if (!isdigit((unsigned char)de->d_name[0]))
				continue;
			q = atoi(de->d_name);
			if (!proc_cpu_one(q, &tk, &pp))
				continue;
			for (i = 0; i < np; i++)
				if (pids[i] == q)
					break;
			if (i < np)
				continue;
			for (i = 0; i < np; i++)
				if (pids[i] == pp)
					break;
			if (i < np) {
				pids[np++] = q;
				grew = true;
			}
		}
		closedir(d);
	} while (grew);
	for (i = 0; i < np; i++) {
		if (proc_cpu_one(pids[i], &tk, &pp))
			t->ticks += tk;
		proc_mem_one(pids[i], &t->rss, &t->hwm);
		if (i == 0)
			t->rss_main = t->rss;
	}
	t->nproc = np;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* ---- bodies -------------------------------------------------------- */

static char *
b64(const uint8_t *d, size_t n)
{
	char *s = xmalloc(4 * ((n + 2) / 3) + 1);

	EVP_EncodeBlock((unsigned char *)s, d, (int)n);
	return s;
}

static char *
read_text(const char *path)
{
	uint8_t *d;
	size_t n;

	if (file_read(path, 1 << 20, &d, &n) != DV_OK) {
		fprintf(stderr, "bench_loadgen: cannot read %s\n", path);
		exit(2);
	}
	return (char *)d;
}

/* cfssl bodies: sign {"certificate_request": PEM}; authsign wraps it in
 * {"token": b64(HMAC-SHA256(key, req)), "request": b64(req)}. */
static void
bodies_cfssl(struct lg *lg, const char *csr, const char *keyhex,
    const char *profile)
{
	uint8_t *key = NULL, mac[EVP_MAX_MD_SIZE];
	unsigned int maclen = 0;
	char *req, *t, *r;
	size_t keylen = 0;
	json_t *o;

	o = json_pack("{s:s}", "certificate_request", csr);
	if (profile != NULL)
		json_object_set_new(o, "profile", json_string(profile));
	req = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if (lg->mode == LG_CFSSL_SIGN) {
		lg->fixed = req;
		lg->fixedlen = strlen(req);
		return;
	}
	if (keyhex == NULL || hex_decode(keyhex, &key, &keylen) != DV_OK)
		die("--auth-key HEX is required for cfssl authsign");
	if (HMAC(EVP_sha256(), key, (int)keylen, (const uint8_t *)req,
	    strlen(req), mac, &maclen) == NULL)
		die("HMAC");
	t = b64(mac, maclen);
	r = b64((const uint8_t *)req, strlen(req));
	o = json_pack("{s:s,s:s}", "token", t, "request", r);
	lg->fixed = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	lg->fixedlen = strlen(lg->fixed);
	json_decref(o);
	free(t);
	free(r);
	free(req);
	free(key);
}

struct mint {
	json_t		*jwk;		/* owned copy per thread */
	const char	*iss, *sub, *aud;
	const json_t	*sans;		/* borrowed */
	char		**tok;		/* borrowed slots */
	size_t		 n;
	int		 failed;
};

static void *
mint_run(void *arg)
{
	struct mint *m = arg;
	uint8_t rnd[32];
	json_t *claims;
	char *jti;
	time_t now;
	size_t i;

	for (i = 0; i < m->n; i++) {
		if (RAND_bytes(rnd, sizeof(rnd)) != 1) {
			m->failed++;
			return NULL;
		}
		jti = hex_encode(rnd, sizeof(rnd));
		now = time(NULL);
		claims = json_pack("{s:s,s:s,s:s,s:O,s:s,s:I,s:I,s:I}",
		    "iss", m->iss, "sub", m->sub, "aud", m->aud,
		    "sans", m->sans, "jti", jti, "nbf", (json_int_t)now,
		    "iat", (json_int_t)now, "exp", (json_int_t)now + 300);
		if (claims == NULL ||
		    jws_sign(m->jwk, NULL, claims, &m->tok[i]) != DV_OK)
			m->failed++;
		json_decref(claims);
		free(jti);
		if (m->failed)
			return NULL;
	}
	return NULL;
}

/*
 * devid bodies {"csr": PEM, "ott": JWT}: the part before the token is the
 * same for every request, so only tokens are kept (n of them).
 */
static void
bodies_devid(struct lg *lg, const char *csr, const char *admin_path,
    const char *aud, const char *sub, const char *sans_csv, size_t n)
{
	struct mint m[2];
	pthread_t th[2];
	json_t *adm, *jwk, *sans, *o;
	const char *iss, *urls_acct;
	char *admtext, *a = NULL, *s, *tokpos, *dump, *save = NULL, *name;
	uint8_t *d;
	size_t len, i, half;
	uint64_t t0;

	/* prefix: {"csr":"<escaped>","ott":" */
	o = json_pack("{s:s,s:s}", "csr", csr, "ott", "@TOKEN@");
	dump = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER);
	json_decref(o);
	if ((tokpos = strstr(dump, "@TOKEN@")) == NULL)
		die("body template");
	lg->prefixlen = (size_t)(tokpos - dump);
	lg->prefix = xstrndup(dump, lg->prefixlen);
	free(dump);

	if (file_read(admin_path, 1 << 20, &d, &len) != DV_OK ||
	    json_parse_strict(d, len, 1 << 20, &adm) != DV_OK)
		die("cannot read the admin provisioner file");
	admtext = (char *)d;
	jwk = json_object_get(adm, "key");
	iss = json_get_str(adm, "provisioner");
	if (jwk == NULL || iss == NULL)
		die("admin file: no key or provisioner");
	if (aud == NULL) {
		urls_acct = json_get_str(json_object_get(adm, "caUrls"),
		    "account");
		if (urls_acct == NULL)
			die("admin file: no caUrls.account (give --aud)");
		a = xasprintf("%s/1.0/sign", urls_acct);
		aud = a;
	}
	sans = json_array();
	s = xstrdup(sans_csv != NULL ? sans_csv : sub);
	for (name = strtok_r(s, ",", &save); name != NULL;
	    name = strtok_r(NULL, ",", &save))
		json_array_append_new(sans, json_string(name));
	free(s);

	lg->tok = xcalloc(n, sizeof(*lg->tok));
	lg->ntok = n;
	half = n / 2;
	t0 = now_ns();
	for (i = 0; i < 2; i++) {
		m[i].jwk = json_deep_copy(jwk);
		m[i].iss = iss;
		m[i].sub = sub;
		m[i].aud = aud;
		m[i].sans = sans;
		m[i].tok = lg->tok + (i == 0 ? 0 : half);
		m[i].n = i == 0 ? half : n - half;
		m[i].failed = 0;
		if (pthread_create(&th[i], NULL, mint_run, &m[i]) != 0)
			die("pthread_create");
	}
	for (i = 0; i < 2; i++) {
		pthread_join(th[i], NULL);
		if (m[i].failed)
			die("jws_sign failed");
		json_decref(m[i].jwk);
	}
	OPENSSL_cleanse(admtext, len);
	fprintf(stderr, "bench_loadgen: minted %zu tokens in %.2f s "
	    "(aud %s)\n", n, (double)(now_ns() - t0) / 1e9, aud);
	json_decref(sans);
	json_decref(adm);
	free(admtext);
	free(a);
}

/* Writes the next request into c->out; false when there is none left. */
static bool
next_request(struct lg *lg, struct conn *c)
{
	const char *tok = NULL;
	size_t blen, need;
	int hl;

	if (lg->stopping)
		return false;
	if (lg->per_conn != 0 && c->done >= lg->per_conn)
		return false;
	if (lg->mode == LG_DEVID) {
		if (lg->nexttok >= lg->ntok) {
			lg->exhausted = true;
			return false;
		}
		tok = lg->tok[lg->nexttok];
		blen = lg->prefixlen + strlen(tok) + 2;
	} else
		blen = lg->fixedlen;
	need = blen + strlen(lg->path) + strlen(lg->host) + 160;
	if (need > c->outcap) {
		c->outcap = need;
		c->out = xrealloc(c->out, need);
	}
	hl = snprintf(c->out, c->outcap, "POST %s HTTP/1.1\r\nHost: %s\r\n"
	    "Content-Type: application/json\r\nContent-Length: %zu\r\n\r\n",
	    lg->path, lg->host, blen);
	c->outlen = (size_t)hl;
	if (tok != NULL) {
		memcpy(c->out + c->outlen, lg->prefix, lg->prefixlen);
		c->outlen += lg->prefixlen;
		memcpy(c->out + c->outlen, tok, strlen(tok));
		c->outlen += strlen(tok);
		memcpy(c->out + c->outlen, "\"}", 2);
		c->outlen += 2;
		/* single use: the token is gone once sent */
		free(lg->tok[lg->nexttok]);
		lg->tok[lg->nexttok++] = NULL;
	} else {
		memcpy(c->out + c->outlen, lg->fixed, lg->fixedlen);
		c->outlen += lg->fixedlen;
	}
	c->outoff = 0;
	return true;
}

/* ---- HTTP response parsing ----------------------------------------- */

static const char *
memmem_ci_hdr(const char *h, size_t hl, const char *name)
{
	size_t nl = strlen(name), i;

	for (i = 0; i + nl < hl; i++) {
		if ((i == 0 || h[i - 1] == '\n') &&
		    strncasecmp(h + i, name, nl) == 0)
			return h + i + nl;
	}
	return NULL;
}

/*
 * Returns 1 when c->in holds a whole response (status in *status, *close
 * if the server will close), 0 if more bytes are needed, -1 if malformed.
 */
static int
response_complete(const struct conn *c, int *status, bool *close)
{
	const char *end, *v, *p, *lim;
	size_t hl, cl;
	unsigned long sz;
	char *e;

	end = memmem(c->in, c->inlen, "\r\n\r\n", 4);
	if (end == NULL)
		return c->inlen > 65536 ? -1 : 0;
	hl = (size_t)(end - c->in) + 4;
	if (c->inlen < 12 || strncmp(c->in, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->in + 9);
	v = memmem_ci_hdr(c->in, hl, "connection:");
	*close = v != NULL && strncasecmp(v + strspn(v, " "), "close", 5) == 0;
	if (strncmp(c->in, "HTTP/1.0", 8) == 0 && v == NULL)
		*close = true;
	if ((v = memmem_ci_hdr(c->in, hl, "content-length:")) != NULL) {
		cl = strtoul(v, NULL, 10);
		return c->inlen >= hl + cl ? 1 : 0;
	}
	v = memmem_ci_hdr(c->in, hl, "transfer-encoding:");
	if (v == NULL || strncasecmp(v + strspn(v, " "), "chunked", 7) != 0)
		return -1;	/* a body delimited by close: not expected */
	p = c->in + hl;
	lim = c->in + c->inlen;
	for (;;) {
		if (memchr(p, '\n', (size_t)(lim - p)) == NULL)
			return 0;
		sz = strtoul(p, &e, 16);
		p = memchr(p, '\n', (size_t)(lim - p)) + 1;
		if (sz == 0)
			return (size_t)(lim - p) >= 2 ? 1 : 0;
		if ((size_t)(lim - p) < sz + 2)
			return 0;
		p += sz + 2;
	}
}

/* ---- connections --------------------------------------------------- */

static void
conn_events(struct lg *lg, struct conn *c, uint32_t ev)
{
	struct epoll_event e;

	if (c->events == ev)
		return;
	memset(&e, 0, sizeof(e));
	e.events = ev;
	e.data.ptr = c;
	if (epoll_ctl(lg->ep, c->events == 0 ? EPOLL_CTL_ADD : EPOLL_CTL_MOD,
	    c->fd, &e) != 0)
		die("epoll_ctl");
	c->events = ev;
}

static void
conn_close(struct lg *lg, struct conn *c)
{
	if (c->fd >= 0) {
		epoll_ctl(lg->ep, EPOLL_CTL_DEL, c->fd, NULL);
		close(c->fd);
	}
	SSL_free(c->ssl);
	c->ssl = NULL;
	c->fd = -1;
	c->events = 0;
	c->inlen = 0;
	c->st = ST_DEAD;
}

static void
conn_open(struct lg *lg, struct conn *c)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		die("socket (raise ulimit -n?)");
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	c->st = ST_CONNECT;
	c->events = 0;
	c->inlen = 0;
	if (connect(c->fd, (struct sockaddr *)&lg->addr,
	    sizeof(lg->addr)) != 0 && errno != EINPROGRESS)
		die("connect");
	conn_events(lg, c, EPOLLOUT);
}

static void
conn_fail(struct lg *lg, struct conn *c, const char *why)
{
	unsigned long e = ERR_peek_last_error();
	char buf[256];

	lg->errors++;
	if (lg->errors <= 5) {
		ERR_error_string_n(e, buf, sizeof(buf));
		fprintf(stderr, "bench_loadgen: connection error: %s (%s, "
		    "errno %s)\n", why, e != 0 ? buf : "no TLS error",
		    strerror(errno));
	}
	ERR_clear_error();
	conn_close(lg, c);
	if (lg->stopping)
		return;
	lg->reconnects++;
	conn_open(lg, c);
}

/* Maps an SSL result to a wait; returns false on a real error. */
static bool
ssl_wait(struct lg *lg, struct conn *c, int r)
{
	switch (SSL_get_error(c->ssl, r)) {
	case SSL_ERROR_WANT_READ:
		conn_events(lg, c, EPOLLIN);
		return true;
	case SSL_ERROR_WANT_WRITE:
		conn_events(lg, c, EPOLLOUT);
		return true;
	default:
		return false;
	}
}

static void
record(struct lg *lg, struct conn *c, int status)
{
	uint64_t t = now_ns();

	c->done++;
	lg->total++;
	if (t < lg->t_meas || t >= lg->t_end)
		return;
	if (status >= 200 && status < 300)
		lg->ok++;
	else {
		lg->non2xx++;
		if (lg->bad_shown++ < 3)
			fprintf(stderr, "bench_loadgen: HTTP %d: %.300s\n",
			    status, c->in);
	}
	if (lg->lat.n == lg->lat.cap) {
		lg->lat.cap = lg->lat.cap ? 2 * lg->lat.cap : 65536;
		lg->lat.v = xrealloc(lg->lat.v, lg->lat.cap *
		    sizeof(*lg->lat.v));
	}
	lg->lat.v[lg->lat.n++] = (uint32_t)((t - c->t_start) / 1000);
}

static void
conn_drive(struct lg *lg, struct conn *c)
{
	socklen_t sl;
	bool cl;
	int r, err, status;

	for (;;) {
		switch (c->st) {
		case ST_CONNECT:
			err = 0;
			sl = sizeof(err);
			getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &sl);
			if (err != 0) {
				conn_fail(lg, c, strerror(err));
				return;
			}
			if ((c->ssl = SSL_new(lg->ctx)) == NULL)
				die("SSL_new");
			SSL_set_fd(c->ssl, c->fd);
			SSL_set_mode(c->ssl, SSL_MODE_ENABLE_PARTIAL_WRITE |
			    SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
			c->st = ST_HANDSHAKE;
			break;
		case ST_HANDSHAKE:
			r = SSL_connect(c->ssl);
			if (r == 1) {
				c->st = ST_NEXT;
				break;
			}
			if (!ssl_wait(lg, c, r))
				conn_fail(lg, c, "TLS handshake");
			return;
		case ST_NEXT:
			if (!next_request(lg, c)) {
				/* idle keep-alive: watch for a server close */
				c->st = ST_IDLE;
				conn_events(lg, c, EPOLLIN);
				return;
			}
			c->t_start = now_ns();
			c->st = ST_WRITE;
			break;
		case ST_WRITE:
			r = SSL_write(c->ssl, c->out + c->outoff,
			    (int)(c->outlen - c->outoff));
			if (r <= 0) {
				if (!ssl_wait(lg, c, r))
					conn_fail(lg, c, "TLS write");
				return;
			}
			c->outoff += (size_t)r;
			if (c->outoff == c->outlen)
				c->st = ST_READ;
			break;
		case ST_READ:
			if (c->incap - c->inlen < 16384) {
				c->incap = c->incap ? 2 * c->incap : 32768;
				c->in = xrealloc(c->in, c->incap);
			}
			r = SSL_read(c->ssl, c->in + c->inlen,
			    (int)(c->incap - c->inlen - 1));
			if (r <= 0) {
				if (!ssl_wait(lg, c, r))
					conn_fail(lg, c, "closed while reading");
				return;
			}
			c->inlen += (size_t)r;
			c->in[c->inlen] = '\0';
			r = response_complete(c, &status, &cl);
			if (r < 0) {
				conn_fail(lg, c, "malformed response");
				return;
			}
			if (r == 0)
				break;
			record(lg, c, status);
			c->inlen = 0;
			if (cl) {
				conn_close(lg, c);
				if (lg->stopping)
					return;
				lg->reconnects++;
				conn_open(lg, c);
				return;
			}
			c->st = ST_NEXT;
			break;
		case ST_IDLE: {
			char b[256];

			/* anything here is the server closing or talking */
			r = SSL_read(c->ssl, b, sizeof(b));
			if (r <= 0 && ssl_wait(lg, c, r))
				return;
			lg->errors++;
			conn_close(lg, c);
			return;
		}
		case ST_DEAD:
			return;
		}
	}
}

/* Runs the loop until every connection is idle or dead, or until deadline
 * (ns, 0: none), calling tick() between rounds. */
static void
loop(struct lg *lg, uint64_t deadline, void (*tick)(struct lg *, uint64_t))
{
	struct epoll_event ev[256];
	size_t i, busy;
	uint64_t t;
	int n, k;

	for (;;) {
		t = now_ns();
		if (tick != NULL)
			tick(lg, t);
		if (deadline != 0 && t >= deadline)
			return;
		for (busy = 0, i = 0; i < lg->nc; i++)
			if (lg->c[i].st != ST_IDLE && lg->c[i].st != ST_DEAD)
				busy++;
		if (busy == 0)
			return;
		n = epoll_wait(lg->ep, ev, 256, 50);
		if (n < 0 && errno != EINTR)
			die("epoll_wait");
		for (k = 0; k < n; k++)
			conn_drive(lg, ev[k].data.ptr);
	}
}

/* ---- runs ---------------------------------------------------------- */

struct window {
	struct tree	 t0, t1;
	double		 self0, self1;
	uint64_t	 ns0, ns1;
	bool		 started, ended;
};
static struct window win;

static void
window_tick(struct lg *lg, uint64_t t)
{
	if (!win.started && t >= lg->t_meas) {
		win.started = true;
		win.ns0 = t;
		win.self0 = self_cpu_s();
	}
	if (lg->exhausted && !lg->stopping) {
		/* tokens ran out: close the window now */
		lg->t_end = t;
		lg->stopping = true;
	}
	if (!win.ended && t >= lg->t_end) {
		win.ended = true;
		win.ns1 = t;
		win.self1 = self_cpu_s();
		lg->stopping = true;
	}
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

static double
pct(const struct lat *l, double p)
{
	size_t i;

	if (l->n == 0)
		return 0;
	i = (size_t)(p * (double)(l->n - 1) + 0.5);
	return l->v[i] / 1000.0;
}

static void
lg_conns(struct lg *lg, size_t n)
{
	size_t i;

	lg->c = xcalloc(n, sizeof(*lg->c));
	lg->nc = n;
	for (i = 0; i < n; i++) {
		lg->c[i].fd = -1;
		conn_open(lg, &lg->c[i]);
	}
}

static void
lg_close_all(struct lg *lg)
{
	size_t i;

	for (i = 0; i < lg->nc; i++) {
		conn_close(lg, &lg->c[i]);
		free(lg->c[i].out);
		free(lg->c[i].in);
	}
	free(lg->c);
	lg->c = NULL;
	lg->nc = 0;
}

/* Reads the server tree at the window edges: a second loop around the
 * measurement so /proc scanning stays out of the epoll rounds. */
static void
run_load(struct lg *lg, size_t conns, double warm, double dur, int pid,
    const char *label)
{
	struct tree tb;
	double secs, srv_ms, cli_ms, rate, other;
	long long ot;
	uint64_t t0;

	lg_conns(lg, conns);
	t0 = now_ns();
	lg->t_meas = t0 + (uint64_t)(warm * 1e9);
	lg->t_end = lg->t_meas + (uint64_t)(dur * 1e9);
	/* warm-up, then read the server, then the window */
	loop(lg, lg->t_meas, NULL);
	tree_read(pid, &win.t0);
	loop(lg, lg->t_end, window_tick);
	if (!win.ended)
		window_tick(lg, lg->t_end > now_ns() ? lg->t_end : now_ns());
	tree_read(pid, &win.t1);
	lg->stopping = true;
	/* let in-flight requests finish (not counted), at most 5 s */
	loop(lg, now_ns() + 5000000000ull, NULL);
	tree_read(pid, &tb);

	secs = (double)(win.ns1 - win.ns0) / 1e9;
	qsort(lg->lat.v, lg->lat.n, sizeof(*lg->lat.v), cmp_u32);
	rate = secs > 0 ? (double)lg->lat.n / secs : 0;
	srv_ms = lg->lat.n ? (double)(win.t1.ticks - win.t0.ticks) * 1000.0 /
	    (double)sysconf(_SC_CLK_TCK) / (double)lg->lat.n : 0;
	cli_ms = lg->lat.n ? (win.self1 - win.self0) * 1000.0 /
	    (double)lg->lat.n : 0;
	/* CPU used by everything else on the machine: noise in the figures */
	ot = (long long)(win.t1.host - win.t0.host) -
	    (long long)(win.t1.ticks - win.t0.ticks) -
	    (long long)(win.t1.self - win.t0.self);
	other = secs > 0 && ot > 0 ? (double)ot /
	    (double)sysconf(_SC_CLK_TCK) / secs : 0;
	printf("RESULT label=%s c=%zu secs=%.2f n=%zu rps=%.1f p50=%.2f "
	    "p90=%.2f p99=%.2f max=%.2f non2xx=%llu errors=%llu "
	    "srv_cpu_ms=%.4f srv_cores=%.2f cli_cpu_ms=%.4f rss_kib=%ld "
	    "hwm_kib=%ld procs=%d exhausted=%d other_cores=%.2f\n",
	    label, conns, secs, lg->lat.n, rate, pct(&lg->lat, 0.50),
	    pct(&lg->lat, 0.90), pct(&lg->lat, 0.99),
	    lg->lat.n ? lg->lat.v[lg->lat.n - 1] / 1000.0 : 0.0,
	    (unsigned long long)lg->non2xx, (unsigned long long)lg->errors,
	    srv_ms, secs > 0 ? (double)(win.t1.ticks - win.t0.ticks) /
	    (double)sysconf(_SC_CLK_TCK) / secs : 0, cli_ms, tb.rss, tb.hwm,
	    win.t1.nproc, lg->exhausted ? 1 : 0, other);
	fflush(stdout);
	lg_close_all(lg);
}

/*
 * Memory per idle keep-alive TLS connection (spec §6): one connection does
 * a few requests and closes (first-use allocations), the server's RSS is
 * read, then n connections each do one request and stay open; after 3 s
 * idle the RSS is read again.
 */
static void
run_idle(struct lg *lg, size_t n, int pid, const char *label,
    unsigned hold)
{
	struct tree a, b, c;
	uint64_t t;
	size_t i, idle;

	lg->t_meas = 0;
	lg->t_end = UINT64_MAX;
	lg->per_conn = 10;
	lg_conns(lg, 1);
	loop(lg, now_ns() + 30000000000ull, NULL);
	lg_close_all(lg);
	sleep(1);
	tree_read(pid, &a);

	lg->per_conn = 1;
	lg->ok = lg->non2xx = lg->errors = 0;
	lg_conns(lg, n);
	t = now_ns();
	loop(lg, t + 60000000000ull, NULL);
	/* idle: 3 s, as a server may return memory when it goes idle */
	sleep(3);
	/* drain any server-side closes that arrived while sleeping */
	loop(lg, now_ns() + 100000000ull, NULL);
	for (idle = 0, i = 0; i < lg->nc; i++)
		if (lg->c[i].st == ST_IDLE)
			idle++;
	tree_read(pid, &b);
	printf("IDLE label=%s conns=%zu idle=%zu ok=%llu non2xx=%llu "
	    "errors=%llu rss_before_kib=%ld rss_after_kib=%ld "
	    "kib_per_conn=%.2f\n", label, n, idle,
	    (unsigned long long)lg->ok, (unsigned long long)lg->non2xx,
	    (unsigned long long)lg->errors, a.rss_main, b.rss_main,
	    idle ? (double)(b.rss_main - a.rss_main) / (double)idle : 0.0);
	fflush(stdout);
	if (hold > 0)	/* keep them open for a look at the server */
		sleep(hold);
	/*
	 * What closing them gives back: the server's RSS once they are gone
	 * and it has been idle again for 3 s.  The first figure also holds
	 * whatever the n requests left behind that is not per connection
	 * (devid's store page cache grows with every certificate stored);
	 * this one is the connections' own memory.
	 */
	lg_close_all(lg);
	sleep(3);
	tree_read(pid, &c);
	printf("IDLE_RELEASED label=%s conns=%zu rss_closed_kib=%ld "
	    "kib_per_conn_released=%.2f\n", label, idle, c.rss_main,
	    idle ? (double)(b.rss_main - c.rss_main) / (double)idle : 0.0);
	fflush(stdout);
}

static void
parse_url(struct lg *lg, const char *url)
{
	char host[256];
	const char *p, *slash;
	size_t hl;
	long port = 443;
	char *colon;

	if (strncmp(url, "https://", 8) != 0)
		die("--url must be https://HOST:PORT/path");
	p = url + 8;
	slash = strchr(p, '/');
	hl = slash ? (size_t)(slash - p) : strlen(p);
	if (hl == 0 || hl >= sizeof(host))
		die("bad --url host");
	memcpy(host, p, hl);
	host[hl] = '\0';
	lg->host = xstrdup(host);
	lg->path = xstrdup(slash ? slash : "/");
	if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = strtol(colon + 1, NULL, 10);
	}
	memset(&lg->addr, 0, sizeof(lg->addr));
	lg->addr.sin_family = AF_INET;
	lg->addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &lg->addr.sin_addr) != 1)
		die("--url host must be an IPv4 address");
}

static void
usage(void)
{
	fputs("usage: bench_loadgen --mode devid|cfssl|cfssl-sign "
	    "--url https://IP:PORT/path --csr FILE\n"
	    "         [--admin provisioner.json --sub CN [--sans a,b] "
	    "[--aud URL]] [--auth-key HEX [--profile P]]\n"
	    "         [-c CONNS] [-w WARM_S] [-d DUR_S] [--rate-hint R] "
	    "[--pid PID] [--cafile PEM]\n"
	    "         [--idle N [--hold SECS]] [--label TEXT]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "mode", required_argument, NULL, 'm' },
		{ "url", required_argument, NULL, 'u' },
		{ "csr", required_argument, NULL, 'r' },
		{ "admin", required_argument, NULL, 'a' },
		{ "sub", required_argument, NULL, 's' },
		{ "sans", required_argument, NULL, 'S' },
		{ "aud", required_argument, NULL, 'A' },
		{ "auth-key", required_argument, NULL, 'k' },
		{ "conns", required_argument, NULL, 'c' },
		{ "warm", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "rate-hint", required_argument, NULL, 'R' },
		{ "pid", required_argument, NULL, 'p' },
		{ "cafile", required_argument, NULL, 'C' },
		{ "idle", required_argument, NULL, 'i' },
		{ "label", required_argument, NULL, 'l' },
		{ "profile", required_argument, NULL, 'P' },
		{ "hold", required_argument, NULL, 'H' },
		{ NULL, 0, NULL, 0 }
	};
	struct lg lg;
	struct rlimit rl;
	const char *url = NULL, *csrf = NULL, *admin = NULL, *sub = NULL;
	const char *sans = NULL, *aud = NULL, *key = NULL, *cafile = NULL;
	const char *label = "run", *profile = NULL;
	double warm = 3, dur = 10, rate = 10000;
	size_t conns = 1, idle = 0, ntok;
	char *csr;
	unsigned hold = 0;
	int c, pid = 0;

	memset(&lg, 0, sizeof(lg));
	lg.mode = LG__MAX;
	while ((c = getopt_long(argc, argv, "m:u:r:a:s:S:A:k:c:w:d:R:p:C:i:l:P:H:",
	    opts, NULL)) != -1) {
		switch (c) {
		case 'm':
			if (strcmp(optarg, "devid") == 0)
				lg.mode = LG_DEVID;
			else if (strcmp(optarg, "cfssl") == 0)
				lg.mode = LG_CFSSL_AUTHSIGN;
			else if (strcmp(optarg, "cfssl-sign") == 0)
				lg.mode = LG_CFSSL_SIGN;
			else
				usage();
			break;
		case 'u': url = optarg; break;
		case 'r': csrf = optarg; break;
		case 'a': admin = optarg; break;
		case 's': sub = optarg; break;
		case 'S': sans = optarg; break;
		case 'A': aud = optarg; break;
		case 'k': key = optarg; break;
		case 'c': conns = strtoul(optarg, NULL, 10); break;
		case 'w': warm = strtod(optarg, NULL); break;
		case 'd': dur = strtod(optarg, NULL); break;
		case 'R': rate = strtod(optarg, NULL); break;
		case 'p': pid = atoi(optarg); break;
		case 'C': cafile = optarg; break;
		case 'i': idle = strtoul(optarg, NULL, 10); break;
		case 'l': label = optarg; break;
		case 'P': profile = optarg; break;
		case 'H': hold = (unsigned)strtoul(optarg, NULL, 10); break;
		default: usage();
		}
	}
	if (lg.mode == LG__MAX || url == NULL || csrf == NULL || conns == 0)
		usage();
	if (lg.mode == LG_DEVID && (admin == NULL || sub == NULL))
		usage();

	/* 1000+ idle connections need descriptors */
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
	parse_url(&lg, url);
	if ((lg.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	if (cafile != NULL) {
		if (SSL_CTX_load_verify_locations(lg.ctx, cafile, NULL) != 1)
			die("--cafile");
		SSL_CTX_set_verify(lg.ctx, SSL_VERIFY_PEER, NULL);
	} else
		SSL_CTX_set_verify(lg.ctx, SSL_VERIFY_NONE, NULL);
	if ((lg.ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		die("epoll_create1");

	csr = read_text(csrf);
	if (lg.mode == LG_DEVID) {
		if (idle > 0)
			ntok = idle + 64;
		else
			ntok = (size_t)(rate * (warm + dur) * 1.5) + 1000;
		bodies_devid(&lg, csr, admin, aud, sub, sans, ntok);
	} else
		bodies_cfssl(&lg, csr, key, profile);

	if (idle > 0)
		run_idle(&lg, idle, pid, label, hold);
	else
		run_load(&lg, conns, warm, dur, pid, label);

	free(csr);
	return 0;
}
