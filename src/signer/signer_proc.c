/*
 * signer_proc.c - the default signer backend: the CA keys live in a child
 * process (STYLE rule 15, DESIGN §6; acme-client keyproc).
 *
 * Design.  signer_start_proc() forks, and the fork must happen before the
 * parent starts any thread (a child of a threaded process may inherit a
 * lock held by a thread that does not exist in it); it warns when it
 * finds other threads.  The parent never opens a key file and never calls
 * pki_key_from_pem: the child closes every descriptor it inherited except
 * its ends of the channels and stderr, then reads and decrypts the keys,
 * reports each key's signature algorithm on channel 0 (the hello), and
 * serves each channel from a thread of its own.  The parent only ever
 * receives signatures, algorithms and status codes, so no key material can
 * reach the process that parses network input.
 *
 * Messages (all integers are 32-bit, network byte order):
 *   request   op, key index, len, len bytes: op SIGNER_OP_SIGN with the
 *             data (len <= SIGNER_MAX_TBS; Ed25519 keys), or
 *             SIGNER_OP_SIGN_DIGEST with its digest (len <=
 *             SIGNER_MAX_DIGEST; ECDSA and RSA keys, any data size)
 *             or SIGNER_OP_SIGN_DIGESTS with n (<= SIGNER_MAX_BATCH)
 *             digests, each as its length and bytes
 *   response  status (enum dv_rc), len, len bytes (len <= SIGNER_MAX_SIG);
 *             to SIGNER_OP_SIGN_DIGESTS, len bytes holding n (status,
 *             length, signature) in the order of the digests
 *   hello     a response whose bytes are one algorithm per key, or whose
 *             status says why the keys could not be loaded.
 * A channel carries one request at a time; the parent keeps idle channels
 * in a pool (mutex + condvar) so that any thread may sign.  A channel that
 * fails is closed and leaves the pool; with none left signing fails with
 * DV_ERR_UNAVAILABLE.
 *
 * Lifetime.  The child ignores SIGINT, SIGHUP, SIGTERM and SIGPIPE: it
 * ends when the parent's sockets close (signer_stop, or the parent's
 * exit), and on Linux also through PR_SET_PDEATHSIG when the thread that
 * forked it dies.  signer_stop() shuts the sockets down and waits for it.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifdef __linux__
#include <sys/prctl.h>
#endif

#include "signer_int.h"

enum signer_op {
	SIGNER_OP_SIGN = 1,
	SIGNER_OP_SIGN_DIGEST = 2,
	SIGNER_OP_SIGN_DIGESTS = 3,
	SIGNER_OP__MAX
};

#define REQ_HDR		12	/* op, key index, len */
#define RESP_HDR	8	/* status, len */
/* Largest body of a SIGNER_OP_SIGN_DIGESTS request and response. */
#define BATCH_REQ_MAX	(SIGNER_MAX_BATCH * (4 + SIGNER_MAX_DIGEST))
#define BATCH_RESP_MAX	(SIGNER_MAX_BATCH * (8 + SIGNER_MAX_SIG))

/* Parent side. */
struct proc {
	pid_t		 pid;
	unsigned	 nchan;
	int		*fds;		/* owned: parent ends, -1 once failed */
	pthread_mutex_t	 mu;
	pthread_cond_t	 cv;		/* a channel became idle or failed */
	unsigned	*idle;		/* owned: stack of idle channels */
	unsigned	 nidle;
	unsigned	 nlive;		/* channels not failed */
};

/* Child side: one serving thread's channel. */
struct child_chan {
	int		 fd;
	EVP_PKEY	**keys;		/* borrowed from the child's main */
	enum pki_sig_alg *algs;		/* borrowed */
	size_t		 nkeys;
	/* owned by child_serve, nkeys of them, each made at the key's first
	 * digest to sign: no per-signature context set-up */
	struct pki_sign_ctx **sctx;
	pthread_t	 th;
	bool		 started;
};

/* ---- framing ------------------------------------------------------- */

static void
put_u32(uint8_t *p, uint32_t v)
{
	v = htonl(v);
	memcpy(p, &v, 4);
}

static uint32_t
get_u32(const uint8_t *p)
{
	uint32_t v;

	memcpy(&v, p, 4);
	return ntohl(v);
}

/* Writes all of p; MSG_NOSIGNAL: a peer gone is an error, not SIGPIPE. */
static enum dv_rc
io_write(int fd, const void *p, size_t n)
{
	const uint8_t *b = p;
	ssize_t w;

	while (n > 0) {
		w = send(fd, b, n, MSG_NOSIGNAL);
		if (w == -1 && errno == EINTR)
			continue;
		if (w <= 0)
			return DV_ERR_IO;
		b += w;
		n -= (size_t)w;
	}
	return DV_OK;
}

/*
 * Reads one message into buf (cap bytes): its hdr-byte header, whose
 * 32-bit word at lenoff is the body's length (at most max, and hdr + max
 * <= cap), then the body.  One read() usually takes the whole message,
 * where reading the header and the body apart took two.  A channel
 * carries one message at a time, so no byte of a next one can be read.
 * *n is the message's size.  DV_ERR_UNAVAILABLE on end of stream before
 * the first byte (the peer closed), DV_ERR_TOO_LARGE for a length above
 * max, DV_ERR_IO otherwise.
 */
static enum dv_rc
io_read_msg(int fd, uint8_t *buf, size_t cap, size_t hdr, size_t lenoff,
    size_t max, size_t *n)
{
	size_t got = 0, want = hdr;
	ssize_t r;
	uint32_t len;

	*n = 0;
	while (got < want) {
		r = read(fd, buf + got, (want > hdr ? want : cap) - got);
		if (r == -1 && errno == EINTR)
			continue;
		if (r == 0 && got == 0)
			return DV_ERR_UNAVAILABLE;
		if (r <= 0)
			return DV_ERR_IO;
		got += (size_t)r;
		if (want == hdr && got >= hdr) {
			len = get_u32(buf + lenoff);
			if (len > max || hdr + len > cap)
				return DV_ERR_TOO_LARGE;
			want = hdr + len;
			if (got > want)
				return DV_ERR_IO;	/* bytes past the message */
		}
	}
	*n = got;
	return DV_OK;
}

/* Sends a response (or the hello): header and body in one write. */
static enum dv_rc
resp_write(int fd, enum dv_rc status, const uint8_t *body, size_t len)
{
	uint8_t *m;
	enum dv_rc rc;

	m = xmalloc(RESP_HDR + len);
	put_u32(m, (uint32_t)status);
	put_u32(m + 4, (uint32_t)len);
	if (len > 0)
		memcpy(m + RESP_HDR, body, len);
	rc = io_write(fd, m, RESP_HDR + len);
	free(m);
	return rc;
}

/* Reads a response of at most max bytes: *status and a new *body. */
static enum dv_rc
resp_read(int fd, size_t max, enum dv_rc *status, uint8_t **body,
    size_t *len)
{
	uint8_t *m;
	uint32_t st;
	size_t n;
	enum dv_rc rc;

	*status = DV_ERR_INTERNAL;
	*body = NULL;
	*len = 0;
	m = xmalloc(RESP_HDR + max + 1);
	if ((rc = io_read_msg(fd, m, RESP_HDR + max, RESP_HDR, 4, max, &n))
	    != DV_OK || (st = get_u32(m)) >= DV_RC__MAX) {
		free(m);
		/* too large or unknown: the stream cannot be trusted now */
		return rc == DV_ERR_UNAVAILABLE ? rc : DV_ERR_IO;
	}
	n -= RESP_HDR;
	memmove(m, m + RESP_HDR, n);
	*status = (enum dv_rc)st;
	*body = m;
	*len = n;
	return DV_OK;
}

/* ---- child --------------------------------------------------------- */

/* Signs digest md with key idx through the channel's context for it. */
static enum dv_rc
sign_digest(struct child_chan *c, uint32_t idx, const uint8_t *md,
    size_t mdlen, uint8_t **sig, size_t *siglen)
{
	enum dv_rc rc;

	*sig = NULL;
	*siglen = 0;
	if (c->sctx[idx] == NULL && (rc = pki_sign_ctx_new(c->keys[idx],
	    c->algs[idx], &c->sctx[idx])) != DV_OK)
		return rc;
	return pki_sign_ctx_digest(c->sctx[idx], md, mdlen, sig, siglen);
}

/*
 * SIGNER_OP_SIGN_DIGESTS: body[0..len) is n (length, digest) entries; the
 * answer (new *out) is n (status, length, signature).  Any entry out of
 * bounds makes the whole request bad (DV_ERR_INTERNAL, nothing signed).
 */
static enum dv_rc
sign_digests(struct child_chan *c, uint32_t idx, const uint8_t *body,
    size_t len, uint8_t **out, size_t *outlen)
{
	const uint8_t *p = body, *end = body + len;
	uint8_t *r, *sig;
	size_t n = 0, o = 0, siglen, dlen;
	enum dv_rc rc;

	*out = NULL;
	*outlen = 0;
	/* count and bound the entries before signing any */
	while (p < end) {
		if (end - p < 4 || (dlen = get_u32(p)) == 0 ||
		    dlen > SIGNER_MAX_DIGEST || (size_t)(end - p - 4) < dlen ||
		    ++n > SIGNER_MAX_BATCH)
			return DV_ERR_INTERNAL;
		p += 4 + dlen;
	}
	r = xmalloc(n * (8 + SIGNER_MAX_SIG));
	for (p = body; p < end; p += 4 + dlen) {
		dlen = get_u32(p);
		sig = NULL;
		siglen = 0;
		if ((rc = sign_digest(c, idx, p + 4, dlen, &sig, &siglen)) ==
		    DV_OK && siglen > SIGNER_MAX_SIG)
			rc = DV_ERR_INTERNAL;
		if (rc != DV_OK)
			siglen = 0;
		put_u32(r + o, (uint32_t)rc);
		put_u32(r + o + 4, (uint32_t)siglen);
		if (siglen > 0)
			memcpy(r + o + 8, sig, siglen);
		o += 8 + siglen;
		free(sig);
	}
	*out = r;
	*outlen = o;
	return DV_OK;
}

/* Serves one channel until the parent closes it. */
static void *
child_serve(void *arg)
{
	struct child_chan *c = arg;
	uint8_t *m, *tbs, *sig;
	uint32_t op, idx, len;
	size_t siglen, n, i;
	enum dv_rc rc;

	m = xmalloc(REQ_HDR + SIGNER_MAX_TBS);
	tbs = m + REQ_HDR;
	c->sctx = xcalloc(c->nkeys > 0 ? c->nkeys : 1, sizeof(*c->sctx));
	for (;;) {
		if ((rc = io_read_msg(c->fd, m, REQ_HDR + SIGNER_MAX_TBS,
		    REQ_HDR, 8, SIGNER_MAX_TBS, &n)) != DV_OK) {
			/* cannot skip the body without trusting len */
			if (rc == DV_ERR_TOO_LARGE)
				log_msg(LOG_ERR, "signer.child", "{s:s}",
				    "error", "request too large");
			break;	/* parent closed (or failed): we are done */
		}
		op = get_u32(m);
		idx = get_u32(m + 4);
		len = get_u32(m + 8);
		sig = NULL;
		siglen = 0;
		if (idx >= c->nkeys || (op != SIGNER_OP_SIGN &&
		    op != SIGNER_OP_SIGN_DIGEST &&
		    op != SIGNER_OP_SIGN_DIGESTS) ||
		    (op == SIGNER_OP_SIGN_DIGEST && len > SIGNER_MAX_DIGEST)
		    || (op == SIGNER_OP_SIGN_DIGESTS && (len == 0 ||
		    len > BATCH_REQ_MAX || c->algs[idx] == PKI_SIG_ED25519))) {
			log_msg(LOG_ERR, "signer.child", "{s:s,s:I,s:I}",
			    "error", "bad request", "op", (json_int_t)op,
			    "key", (json_int_t)idx);
			rc = DV_ERR_INTERNAL;
		} else if (op == SIGNER_OP_SIGN_DIGESTS) {
			if ((rc = sign_digests(c, idx, tbs, len, &sig,
			    &siglen)) != DV_OK)
				log_msg(LOG_ERR, "signer.child", "{s:s}",
				    "error", "bad batch request");
		} else if ((rc = op == SIGNER_OP_SIGN_DIGEST ?
		    sign_digest(c, idx, tbs, len, &sig, &siglen) :
		    pki_sign_data(c->keys[idx], c->algs[idx], tbs, len, &sig,
		    &siglen)) == DV_OK && siglen > SIGNER_MAX_SIG) {
			log_msg(LOG_ERR, "signer.child", "{s:s,s:I}", "error",
			    "signature larger than SIGNER_MAX_SIG", "len",
			    (json_int_t)siglen);
			rc = DV_ERR_INTERNAL;
		}
		if (rc != DV_OK)
			siglen = 0;
		rc = resp_write(c->fd, rc, sig, siglen);
		free(sig);
		if (rc != DV_OK)
			break;
	}
	/* the bytes signed are certificates, not secrets, but cheap to wipe */
	explicit_bzero(m, REQ_HDR + SIGNER_MAX_TBS);
	free(m);
	for (i = 0; i < c->nkeys; i++)
		pki_sign_ctx_free(c->sctx[i]);
	free(c->sctx);
	c->sctx = NULL;
	close(c->fd);
	return NULL;
}

static int
int_cmp(const void *a, const void *b)
{
	int x = *(const int *)a, y = *(const int *)b;

	return (x > y) - (x < y);
}

static bool
fd_kept(const int *keep, unsigned n, int fd)
{
	unsigned i;

	for (i = 0; i < n; i++)
		if (keep[i] == fd)
			return true;
	return false;
}

/*
 * Closes every descriptor but stderr and keep[0..n): sockets, files and
 * the parent's channel ends the child must not hold.  Stdin and stdout,
 * unless kept (a parent may have started with them closed), are pointed
 * at /dev/null.
 */
static void
child_close_fds(const int *keep, unsigned n)
{
	int *k, lo = 3, fd;
	unsigned i;

	k = xcalloc(n, sizeof(*k));
	memcpy(k, keep, n * sizeof(*k));
	qsort(k, n, sizeof(*k), int_cmp);
	for (i = 0; i < n; i++) {
		if (k[i] < lo)
			continue;
		if (k[i] > lo)
			close_range((unsigned)lo, (unsigned)k[i] - 1, 0);
		lo = k[i] + 1;
	}
	close_range((unsigned)lo, ~0U, 0);
	free(k);
	if ((fd = open("/dev/null", O_RDWR | O_CLOEXEC)) == -1)
		return;
	for (i = 0; i < 2; i++)
		if (!fd_kept(keep, n, (int)i) && fd != (int)i)
			dup2(fd, (int)i);
	if (fd > 2)
		close(fd);
}

#ifdef __linux__
/* Dies with the thread that forked us, in case the sockets are kept open. */
static void
child_bind_parent(pid_t parent)
{
	if (prctl(PR_SET_PDEATHSIG, SIGKILL) == -1 || getppid() != parent)
		_exit(1);
}
#else
static void
child_bind_parent(pid_t parent)
{
	/* end of stream on the channels is the only signal elsewhere */
	(void)parent;
}
#endif

/* The child: never returns; fds (nchan channel ends, owned) is freed. */
static _Noreturn void
child_main(pid_t parent, const struct signer_key *keys, size_t nkeys,
    const char *pass, int *fds, unsigned nchan)
{
	struct child_chan *ch;
	enum pki_sig_alg *algs;
	EVP_PKEY **k;
	uint8_t *hello;
	enum dv_rc rc = DV_OK;
	size_t i;
	unsigned c;

	child_bind_parent(parent);
	signal(SIGINT, SIG_IGN);
	signal(SIGHUP, SIG_IGN);
	signal(SIGTERM, SIG_IGN);
	signal(SIGPIPE, SIG_IGN);
	child_close_fds(fds, nchan);

	k = xcalloc(nkeys, sizeof(*k));
	algs = xcalloc(nkeys, sizeof(*algs));
	hello = xcalloc(nkeys, 4);
	for (i = 0; i < nkeys && rc == DV_OK; i++) {
		if ((rc = signer_key_load(keys[i].path, pass, &k[i])) == DV_OK &&
		    (rc = pki_key_sig_alg(k[i], &algs[i])) == DV_OK)
			put_u32(hello + 4 * i, (uint32_t)algs[i]);
	}
	if (rc != DV_OK) {
		(void)resp_write(fds[0], rc, NULL, 0);
		goto out;
	}
	if (resp_write(fds[0], DV_OK, hello, 4 * nkeys) != DV_OK)
		goto out;

	ch = xcalloc(nchan, sizeof(*ch));
	for (c = 0; c < nchan; c++) {
		ch[c] = (struct child_chan){ .fd = fds[c], .keys = k,
		    .algs = algs, .nkeys = nkeys };
		if (pthread_create(&ch[c].th, NULL, child_serve, &ch[c]) == 0)
			ch[c].started = true;
		else
			close(fds[c]);	/* the parent sees it fail */
	}
	for (c = 0; c < nchan; c++)
		if (ch[c].started)
			pthread_join(ch[c].th, NULL);
	free(ch);
out:
	for (i = 0; i < nkeys; i++)
		pki_key_free(k[i]);
	free(k);
	free(algs);
	free(hello);
	free(fds);
	/* _exit: the parent's atexit handlers and stdio buffers are not ours */
	_exit(rc == DV_OK ? 0 : 1);
}

/* ---- parent -------------------------------------------------------- */

/* Number of threads of this process, 0 if unknown. */
static unsigned
proc_threads(void)
{
	struct dirent *e;
	unsigned n = 0;
	DIR *d;

	if ((d = opendir("/proc/self/task")) == NULL)
		return 0;
	while ((e = readdir(d)) != NULL)
		if (e->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

static void
proc_reap(pid_t pid)
{
	while (waitpid(pid, NULL, 0) == -1 && errno == EINTR)
		;
}

/* One request and its response on fd.  *broken: the channel is unusable. */
static enum dv_rc
proc_exchange(int fd, unsigned idx, bool digest, const uint8_t *tbs,
    size_t len, uint8_t **sig, size_t *siglen, bool *broken)
{
	uint8_t *m, *body = NULL;
	enum dv_rc rc, status;
	size_t n;

	*broken = true;
	m = xmalloc(REQ_HDR + len);
	put_u32(m, digest ? SIGNER_OP_SIGN_DIGEST : SIGNER_OP_SIGN);
	put_u32(m + 4, idx);
	put_u32(m + 8, (uint32_t)len);
	memcpy(m + REQ_HDR, tbs, len);
	rc = io_write(fd, m, REQ_HDR + len);
	free(m);
	if (rc == DV_OK)
		rc = resp_read(fd, SIGNER_MAX_SIG, &status, &body, &n);
	if (rc != DV_OK) {
		log_msg(LOG_ERR, "signer.channel", "{s:s}", "error",
		    "signer process does not answer");
		return DV_ERR_UNAVAILABLE;
	}
	*broken = false;
	/* a failure was logged by the child */
	if (status != DV_OK) {
		free(body);
		return status;
	}
	if (n == 0) {
		free(body);
		log_msg(LOG_ERR, "signer.channel", "{s:s}", "error",
		    "empty signature");
		return DV_ERR_INTERNAL;
	}
	*sig = body;
	*siglen = n;
	return DV_OK;
}

/* Takes an idle channel (waiting for one): false if none is left. */
static bool
chan_take(struct proc *p, unsigned *c)
{
	pthread_mutex_lock(&p->mu);
	while (p->nidle == 0 && p->nlive > 0)
		pthread_cond_wait(&p->cv, &p->mu);
	if (p->nlive == 0) {
		pthread_mutex_unlock(&p->mu);
		log_msg(LOG_ERR, "signer.sign", "{s:s}", "error",
		    "no channel to the signer process is left");
		return false;
	}
	*c = p->idle[--p->nidle];
	pthread_mutex_unlock(&p->mu);
	return true;
}

/* Gives channel c back, or closes it for good when broken. */
static void
chan_give(struct proc *p, unsigned c, bool broken)
{
	pthread_mutex_lock(&p->mu);
	if (broken) {
		shutdown(p->fds[c], SHUT_RDWR);
		close(p->fds[c]);
		p->fds[c] = -1;
		p->nlive--;
		pthread_cond_broadcast(&p->cv);
	} else {
		p->idle[p->nidle++] = c;
		pthread_cond_signal(&p->cv);
	}
	pthread_mutex_unlock(&p->mu);
}

static enum dv_rc
proc_sign(struct signer *s, unsigned idx, bool digest, const uint8_t *tbs,
    size_t len, uint8_t **sig, size_t *siglen)
{
	struct proc *p = s->be;
	enum dv_rc rc;
	unsigned c;
	bool broken;

	if (!chan_take(p, &c))
		return DV_ERR_UNAVAILABLE;
	rc = proc_exchange(p->fds[c], idx, digest, tbs, len, sig, siglen,
	    &broken);
	chan_give(p, c, broken);
	return rc;
}

/*
 * One SIGNER_OP_SIGN_DIGESTS exchange for n digests.  The answer is
 * checked entry by entry against the request: n entries, each length
 * within SIGNER_MAX_SIG, nothing left over; anything else breaks the
 * channel and fails every digest.
 */
static void
proc_sign_batch(struct signer *s, unsigned idx, size_t n,
    const uint8_t *const *md, const size_t *mdlen, uint8_t **sigs,
    size_t *siglens, enum dv_rc *rcs)
{
	struct proc *p = s->be;
	uint8_t *m, *body = NULL;
	size_t i, o, len = 0, blen = 0, sl;
	enum dv_rc rc, status = DV_ERR_INTERNAL, st;
	unsigned c;
	bool broken = true;

	for (i = 0; i < n; i++) {
		sigs[i] = NULL;
		siglens[i] = 0;
		rcs[i] = DV_ERR_UNAVAILABLE;
		len += 4 + mdlen[i];
	}
	if (n == 0 || n > SIGNER_MAX_BATCH || len > BATCH_REQ_MAX ||
	    !chan_take(p, &c))
		return;
	m = xmalloc(REQ_HDR + len);
	put_u32(m, SIGNER_OP_SIGN_DIGESTS);
	put_u32(m + 4, idx);
	put_u32(m + 8, (uint32_t)len);
	for (i = 0, o = REQ_HDR; i < n; i++) {
		put_u32(m + o, (uint32_t)mdlen[i]);
		memcpy(m + o + 4, md[i], mdlen[i]);
		o += 4 + mdlen[i];
	}
	rc = io_write(p->fds[c], m, REQ_HDR + len);
	free(m);
	if (rc == DV_OK)
		rc = resp_read(p->fds[c], BATCH_RESP_MAX, &status, &body,
		    &blen);
	if (rc != DV_OK) {
		log_msg(LOG_ERR, "signer.channel", "{s:s}", "error",
		    "signer process does not answer");
		goto out;
	}
	broken = false;
	if (status != DV_OK) {
		/* a bad request, logged by the child */
		for (i = 0; i < n; i++)
			rcs[i] = status;
		goto out;
	}
	for (i = 0, o = 0; i < n; i++) {
		if (blen - o < 8 || (st = get_u32(body + o)) >= DV_RC__MAX ||
		    (sl = get_u32(body + o + 4)) > SIGNER_MAX_SIG ||
		    blen - o - 8 < sl || (st == DV_OK) != (sl > 0))
			break;
		rcs[i] = st;
		if (sl > 0)
			sigs[i] = xmemdup(body + o + 8, sl);
		siglens[i] = sl;
		o += 8 + sl;
	}
	if (i < n || o != blen) {
		log_msg(LOG_ERR, "signer.channel", "{s:s}", "error",
		    "malformed batch answer");
		broken = true;
		for (i = 0; i < n; i++) {
			free(sigs[i]);
			sigs[i] = NULL;
			siglens[i] = 0;
			rcs[i] = DV_ERR_UNAVAILABLE;
		}
	}
out:
	free(body);
	chan_give(p, c, broken);
}

static void
proc_stop(struct signer *s)
{
	struct proc *p = s->be;
	unsigned c;

	if (p == NULL)
		return;
	/* shutdown, not only close: a copy of the descriptor in another
	 * process must not keep the child alive */
	for (c = 0; c < p->nchan; c++) {
		if (p->fds[c] == -1)
			continue;
		shutdown(p->fds[c], SHUT_RDWR);
		close(p->fds[c]);
	}
	if (p->pid > 0)
		proc_reap(p->pid);
	pthread_cond_destroy(&p->cv);
	pthread_mutex_destroy(&p->mu);
	free(p->idle);
	free(p->fds);
	free(p);
	s->be = NULL;
}

static const struct signer_ops proc_ops = {
	.sign = proc_sign,
	.sign_batch = proc_sign_batch,
	.stop = proc_stop,
};

/* Reads the hello into s->algs. */
static enum dv_rc
proc_hello(struct signer *s, int fd)
{
	uint8_t *body = NULL;
	enum dv_rc rc, status;
	size_t n, i;
	uint32_t a;

	rc = resp_read(fd, 4 * s->nkeys, &status, &body, &n);
	if (rc != DV_OK) {
		log_msg(LOG_ERR, "signer.start", "{s:s}", "error",
		    "signer process ended before it was ready");
		rc = DV_ERR_INTERNAL;
		goto out;
	}
	if ((rc = status) != DV_OK)
		goto out;	/* logged by the child */
	if (n != 4 * s->nkeys) {
		rc = DV_ERR_INTERNAL;
		goto bad;
	}
	for (i = 0; i < s->nkeys; i++) {
		if ((a = get_u32(body + 4 * i)) >= PKI_SIG__MAX) {
			rc = DV_ERR_INTERNAL;
			goto bad;
		}
		s->algs[i] = (enum pki_sig_alg)a;
	}
	goto out;
bad:
	log_msg(LOG_ERR, "signer.start", "{s:s}", "error",
	    "malformed hello from the signer process");
out:
	free(body);
	return rc;
}

enum dv_rc
signer_start_proc(const struct signer_key *keys, size_t n, const char *pass,
    unsigned nchan, struct signer **out)
{
	struct signer *s = NULL;
	struct proc *p;
	int *child = NULL, sv[2];
	unsigned c, threads;
	pid_t parent;
	enum dv_rc rc;

	*out = NULL;
	if (nchan == 0 || nchan > SIGNER_MAX_CHAN || n > SIGNER_MAX_KEYS) {
		log_msg(LOG_ERR, "signer.start", "{s:s,s:i,s:I}", "error",
		    "channels or keys out of range", "channels", (int)nchan,
		    "keys", (json_int_t)n);
		return DV_ERR_INTERNAL;
	}
	if ((threads = proc_threads()) > 1)
		log_msg(LOG_WARN, "signer.start", "{s:s,s:i}", "warning",
		    "forking the signer in a process with threads", "threads",
		    (int)threads);

	s = signer_new(&proc_ops, n);
	p = xcalloc(1, sizeof(*p));
	s->be = p;
	pthread_mutex_init(&p->mu, NULL);
	pthread_cond_init(&p->cv, NULL);
	p->fds = xcalloc(nchan, sizeof(*p->fds));
	p->idle = xcalloc(nchan, sizeof(*p->idle));
	child = xcalloc(nchan, sizeof(*child));
	for (c = 0; c < nchan; c++)
		p->fds[c] = child[c] = -1;
	p->nchan = nchan;
	for (c = 0; c < nchan; c++) {
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv)
		    == -1) {
			log_msg(LOG_ERR, "signer.start", "{s:s,s:s}", "error",
			    "socketpair", "errno", strerror(errno));
			rc = DV_ERR_IO;
			goto err;
		}
		p->fds[c] = sv[0];
		child[c] = sv[1];
	}

	/* buffered output would otherwise be written twice */
	fflush(NULL);
	parent = getpid();
	if ((p->pid = fork()) == -1) {
		log_msg(LOG_ERR, "signer.start", "{s:s,s:s}", "error", "fork",
		    "errno", strerror(errno));
		rc = DV_ERR_INTERNAL;
		goto err;
	}
	if (p->pid == 0) {
		/* the parent's half of the state, copied by fork: the child
		 * keeps only its channel ends (child_main closes the rest) */
		free(p->fds);
		free(p->idle);
		free(p);
		free(s->refs);
		free(s->algs);
		free(s);
		child_main(parent, keys, n, pass, child, nchan);
	}

	for (c = 0; c < nchan; c++) {
		close(child[c]);
		child[c] = -1;
	}
	if ((rc = proc_hello(s, p->fds[0])) != DV_OK)
		goto err;	/* signer_stop() reaps the child */
	for (c = 0; c < nchan; c++)
		p->idle[c] = nchan - 1 - c;
	p->nidle = p->nlive = nchan;
	log_msg(LOG_INFO, "signer.started", "{s:i,s:I,s:i}", "pid",
	    (int)p->pid, "keys", (json_int_t)n, "channels", (int)nchan);
	free(child);
	*out = s;
	return DV_OK;
err:
	for (c = 0; c < nchan; c++)
		if (child[c] != -1)
			close(child[c]);
	free(child);
	signer_stop(s);
	return rc;
}
