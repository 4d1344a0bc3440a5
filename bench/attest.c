/*
 * attest.c - the Attestation CA benchmark (issue 4, "Benchmark"): the
 * server's CPU per /attest + /secret pair, the software side only.
 * A benchmark program, not project code: it calls OpenSSL and tss2-mu
 * directly to play a software TPM.
 *
 * Before the clock starts, one EK per connection (RSA-2048 or ECC P-384,
 * software key pairs; the server assumes the TCG default EK template for
 * an SPKI, tpm_ek_from_spki) is registered through the admin API with the
 * owner token, and one restricted signing AK (RSA-2048, RSASSA-SHA256, as
 * tpm2_create -G rsa2048:rsassa-sha256:null in the e2e suite) is made in
 * software with its TPMT_PUBLIC, TPMS_CREATION_DATA, TPMS_ATTEST (type
 * CREATION, TPM_GENERATED, creationHash, objectName = Name(AK)) and
 * TPMT_SIGNATURE by the AK, marshalled with Tss2_MU_*: the /attest body
 * step's client sends (spec/attestation.md §2.2).
 *
 * Then each connection (one thread, blocking TLS, HTTP/1.1 keep-alive)
 * loops: POST /attest -> software ActivateCredential with the EK private
 * key (client work: OAEP decryption or ECDH, KDFa, HMAC, AES-CFB; TPM 2.0
 * Part 1 §24, as tests/unit/test_tpm.c) -> POST /secret -> the AK
 * certificate must hold the AK's key.  The server's CPU (utime+stime of
 * the PID and its descendants, the signer child) is read from /proc at the
 * edges of the measured window.
 *
 *   bench_attest --url https://IP:PORT --data DIR --ek rsa|ecc
 *       [-c CONNS] [-w WARM_S] [-d DUR_S] [--pid PID] [--label TEXT]
 *       [--floor-ms MS]
 *
 * Output: one line "RESULT key=value ...", with floor_ms, floor_ratio
 * (server CPU / floor) and overhead_ms (server CPU - floor) when
 * --floor-ms gives the floor ("-" otherwise).
 *
 * The floor, the in-process limit the benchmark rules ask a ratio
 * against (DESIGN.md §3 bench/):
 *
 *   bench_attest --floor --ek rsa|ecc [-w WARM_S] [-d DUR_S]
 *       [--ca-key p256|p384|rsa3072] [--label TEXT]
 *
 * runs the same prepared /attest body, one thread, no HTTP, TLS or store,
 * through the server's own functions for each part of a pair (floor_pair
 * below): 0.5 s of warm-up, then 3 s counted, by default.  The AK
 * certificate is signed by a key of the type devid-ca init makes (p256;
 * --ca-key for a data folder made with init --key-type).  Output: "LIMIT
 * label=... pairs=N floor_ms=X ..." and "LIMIT_PARTS label=... parse=..
 * ek=.. ak_check=.. makecred=.. secret=.. akcert=.. free=.." in CPU ms per
 * pair (CLOCK_PROCESS_CPUTIME_ID); floor_ms is the sum of the parts.
 */
#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/core_names.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/param_build.h>
#include <openssl/rsa.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>

#include <tss2/tss2_mu.h>

#include "api/api.h"
#include "base/base.h"
#include "pki/pki.h"
#include "tpm/tpm.h"

#define TEAM_PATH	"/t/default/attestation"
#define ADMIN_PATH	"/admin/v1/teams/default/devices"
#define RESP_MAX	(1 << 20)
/* The tpmInfo of the /attest body, and the manufacturer as the server
 * writes it into the AK certificate ("id:" + TPM_PT_MANUFACTURER in hex,
 * spec §13.2; 1229081856 is "IBM"). */
#define BENCH_TPM_MANUFACTURER	"1229081856"
#define BENCH_TPM_MANUFACTURER_ID "id:49424D00"
#define BENCH_TPM_MODEL		"bench"
#define BENCH_TPM_VERSION	"2.0"
/* The Attestation CA's URLs as devid-ca serves them (CDP, AIA). */
#define FLOOR_BASE_URL		"https://127.0.0.1:8443" TEAM_PATH

enum phase { PH_WARM, PH_MEASURE, PH_STOP };

static void
die(const char *what)
{
	fprintf(stderr, "bench_attest: %s\n", what);
	ERR_print_errors_fp(stderr);
	exit(2);
}

/* Nanoseconds of clock c: CLOCK_MONOTONIC (wall), or the CPU time of
 * this process (CLOCK_PROCESS_CPUTIME_ID: the floor runs one thread). */
static uint64_t
clock_ns(clockid_t c)
{
	struct timespec ts;

	clock_gettime(c, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static uint64_t
now_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

/* ---- /proc readings (as bench/loadgen.c) --------------------------- */

/* utime+stime+cutime+cstime of one process in clock ticks; false if gone. */
static bool
proc_cpu_one(int pid, unsigned long long *ticks, int *ppid)
{
	char path[64], buf[1024], *p;
	unsigned long long ut, st, cut, cst;
	FILE *f;
	size_t n;

	snprintf(path, sizeof(path), "/proc/%d/stat", pid);
	if ((f = fopen(path, "r")) == NULL)
		return false;
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return false;
	if (sscanf(p + 2, "%*c %d %*d %*d %*d %*d %*u %*u %*u %*u %*u "
	    "%llu %llu %llu %llu", ppid, &ut, &st, &cut, &cst) != 5)
		return false;
	*ticks = ut + st + cut + cst;
	return true;
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
	int		 nproc;
};

/* Reads pid and every descendant (the signer child). */
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
			for (i = 0; i < np && pids[i] != q; i++)
				;
			if (i < np)
				continue;
			for (i = 0; i < np && pids[i] != pp; i++)
				;
			if (i < np) {
				pids[np++] = q;
				grew = true;
			}
		}
		closedir(d);
	} while (grew);
	for (i = 0; i < np; i++)
		if (proc_cpu_one(pids[i], &tk, &pp))
			t->ticks += tk;
	t->nproc = np;
}

/* ---- a blocking HTTPS keep-alive client ---------------------------- */

struct hconn {
	int		 fd;
	SSL		*ssl;		/* owned */
	char		*in;		/* owned: response bytes */
	size_t		 inlen, incap;
	unsigned	 opens;		/* connections opened */
};

struct target {
	struct sockaddr_in addr;
	char		*host;		/* owned: Host header */
	SSL_CTX		*ctx;		/* owned */
};

static void
hconn_close(struct hconn *c)
{
	if (c->ssl != NULL) {
		SSL_shutdown(c->ssl);
		SSL_free(c->ssl);
	}
	if (c->fd >= 0)
		close(c->fd);
	c->ssl = NULL;
	c->fd = -1;
}

static bool
hconn_open(struct hconn *c, const struct target *tg)
{
	int one = 1;

	c->fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->fd < 0)
		return false;
	setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(c->fd, (const struct sockaddr *)&tg->addr,
	    sizeof(tg->addr)) != 0)
		goto err;
	if ((c->ssl = SSL_new(tg->ctx)) == NULL)
		goto err;
	SSL_set_fd(c->ssl, c->fd);
	if (SSL_connect(c->ssl) != 1)
		goto err;
	return true;
err:
	ERR_clear_error();
	hconn_close(c);
	return false;
}

static const char *
hdr_find(const char *h, size_t hl, const char *name)
{
	size_t nl = strlen(name), i;

	for (i = 0; i + nl < hl; i++)
		if ((i == 0 || h[i - 1] == '\n') &&
		    strncasecmp(h + i, name, nl) == 0)
			return h + i + nl;
	return NULL;
}

/*
 * 1 when c->in holds a whole response (status, the body's offset and
 * length; a chunked body is joined in place), 0 if more bytes are needed,
 * -1 if malformed.
 */
static int
resp_complete(struct hconn *c, int *status, size_t *boff, size_t *blen,
    bool *close)
{
	const char *end, *v;
	char *p, *w, *lim, *e;
	unsigned long sz;
	size_t hl, cl;

	if ((end = memmem(c->in, c->inlen, "\r\n\r\n", 4)) == NULL)
		return c->inlen > 65536 ? -1 : 0;
	hl = (size_t)(end - c->in) + 4;
	if (c->inlen < 12 || strncmp(c->in, "HTTP/1.", 7) != 0)
		return -1;
	*status = atoi(c->in + 9);
	v = hdr_find(c->in, hl, "connection:");
	*close = v != NULL && strncasecmp(v + strspn(v, " "), "close", 5) == 0;
	*boff = hl;
	if ((v = hdr_find(c->in, hl, "content-length:")) != NULL) {
		cl = strtoul(v, NULL, 10);
		*blen = cl;
		return c->inlen >= hl + cl ? 1 : 0;
	}
	v = hdr_find(c->in, hl, "transfer-encoding:");
	if (v == NULL || strncasecmp(v + strspn(v, " "), "chunked", 7) != 0)
		return -1;
	/* check completeness first, then join the chunks in place */
	p = c->in + hl;
	lim = c->in + c->inlen;
	for (;;) {
		if (memchr(p, '\n', (size_t)(lim - p)) == NULL)
			return 0;
		sz = strtoul(p, &e, 16);
		p = (char *)memchr(p, '\n', (size_t)(lim - p)) + 1;
		if (sz == 0) {
			if ((size_t)(lim - p) < 2)
				return 0;
			break;
		}
		if ((size_t)(lim - p) < sz + 2)
			return 0;
		p += sz + 2;
	}
	p = w = c->in + hl;
	while ((sz = strtoul(p, &e, 16)) != 0) {
		p = strchr(p, '\n') + 1;
		memmove(w, p, sz);
		w += sz;
		p += sz + 2;
	}
	*blen = (size_t)(w - (c->in + hl));
	return 1;
}

/*
 * POST path with body; extra is more header lines ("" or "Name: v\r\n").
 * On success *status, and *body (NUL-terminated, in c->in until the next
 * request) with *bodylen.  Reconnects once if the kept-alive connection
 * was closed.
 */
static bool
http_post(struct hconn *c, const struct target *tg, const char *path,
    const char *extra, const char *body, size_t len, int *status,
    char **rbody, size_t *rlen)
{
	char head[512];
	size_t boff = 0, hl;
	bool cl = false;
	int r, n, tries;

	hl = (size_t)snprintf(head, sizeof(head), "POST %s HTTP/1.1\r\n"
	    "Host: %s\r\n%sContent-Length: %zu\r\n\r\n", path, tg->host,
	    extra, len);
	for (tries = 0; tries < 2; tries++) {
		if (c->ssl == NULL) {
			if (!hconn_open(c, tg))
				return false;
			c->opens++;
		}
		c->inlen = 0;
		if (SSL_write(c->ssl, head, (int)hl) != (int)hl ||
		    SSL_write(c->ssl, body, (int)len) != (int)len) {
			hconn_close(c);
			continue;
		}
		for (;;) {
			if (c->incap - c->inlen < 16384) {
				c->incap = c->incap ? 2 * c->incap : 65536;
				if (c->incap > RESP_MAX)
					return false;
				c->in = xrealloc(c->in, c->incap);
			}
			n = SSL_read(c->ssl, c->in + c->inlen,
			    (int)(c->incap - c->inlen - 1));
			if (n <= 0)
				break;
			c->inlen += (size_t)n;
			c->in[c->inlen] = '\0';
			if ((r = resp_complete(c, status, &boff, rlen, &cl))
			    < 0)
				break;
			if (r == 1) {
				*rbody = c->in + boff;
				(*rbody)[*rlen] = '\0';
				if (cl)
					hconn_close(c);
				return true;
			}
		}
		ERR_clear_error();
		hconn_close(c);
		if (c->inlen > 0)	/* a partial answer: no retry */
			return false;
	}
	return false;
}

/* ---- the software TPM ---------------------------------------------- */

static enum pki_hash
hash_of(uint16_t alg)
{
	switch (alg) {
	case TPM_ALG_SHA1:
		return PKI_HASH_SHA1;
	case TPM_ALG_SHA384:
		return PKI_HASH_SHA384;
	case TPM_ALG_SHA512:
		return PKI_HASH_SHA512;
	default:
		return PKI_HASH_SHA256;
	}
}

static const EVP_MD *
evp_md(enum pki_hash h)
{
	static const char *names[PKI_HASH__MAX] = {
		[PKI_HASH_SHA1] = "SHA1", [PKI_HASH_SHA256] = "SHA256",
		[PKI_HASH_SHA384] = "SHA384", [PKI_HASH_SHA512] = "SHA512" };

	return EVP_get_digestbyname(names[h]);
}

/* An EK: its private key and the view the server takes of its SPKI. */
struct ek {
	EVP_PKEY	*priv;		/* owned */
	struct tpm_public *pub;		/* owned: tpm_ek_from_spki */
	char		*spki_b64;	/* owned */
	char		*urn;		/* owned */
};

static void
ek_make(struct ek *ek, bool ecc)
{
	uint8_t *spki = NULL;
	size_t len = 0;

	memset(ek, 0, sizeof(*ek));
	ek->priv = ecc ? EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-384") :
	    EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048);
	if (ek->priv == NULL)
		die("EK keygen");
	if (pki_key_spki_der(ek->priv, &spki, &len) != DV_OK ||
	    tpm_ek_from_spki(spki, len, &ek->pub) != DV_OK ||
	    tpm_ek_urn(ek->pub, &ek->urn) != DV_OK ||
	    pki_b64_encode(spki, len, &ek->spki_b64) != DV_OK)
		die("the EK is not one the server accepts");
	free(spki);
}

static void
ek_clear(struct ek *ek)
{
	EVP_PKEY_free(ek->priv);
	tpm_public_free(ek->pub);
	free(ek->spki_b64);
	free(ek->urn);
	memset(ek, 0, sizeof(*ek));
}

/* The EK's side of secret sharing: RSA-OAEP decryption with the label, or
 * ECDH of the EK key with the ephemeral point + KDFe.  false on failure. */
static bool
seed_unshare(const struct ek *ek, const uint8_t *ct, size_t ctlen,
    uint8_t *seed, size_t *seedlen)
{
	const struct tpm_public *pub = ek->pub;
	enum pki_hash h = hash_of(pub->name_alg);
	EVP_PKEY_CTX *ctx = NULL, *ectx = NULL;
	OSSL_PARAM_BLD *bld = NULL;
	OSSL_PARAM *params = NULL;
	EVP_PKEY *eph = NULL;
	uint8_t pt[1 + 2 * 66], z[66];
	size_t flen, zlen = sizeof(z), n = 512;
	char group[32];
	bool ok = false;

	if ((ctx = EVP_PKEY_CTX_new(ek->priv, NULL)) == NULL)
		goto out;
	if (pub->type == TPM_ALG_RSA) {
		if (EVP_PKEY_decrypt_init(ctx) != 1 ||
		    EVP_PKEY_CTX_set_rsa_padding(ctx,
		    RSA_PKCS1_OAEP_PADDING) != 1 ||
		    EVP_PKEY_CTX_set_rsa_oaep_md(ctx, evp_md(h)) != 1 ||
		    EVP_PKEY_CTX_set_rsa_mgf1_md(ctx, evp_md(h)) != 1 ||
		    EVP_PKEY_CTX_set0_rsa_oaep_label(ctx,
		    OPENSSL_memdup("IDENTITY", 9), 9) != 1 ||
		    EVP_PKEY_decrypt(ctx, seed, &n, ct, ctlen) != 1)
			goto out;
		*seedlen = n;
		ok = true;
		goto out;
	}
	if (ctlen < 4)
		goto out;
	flen = ((size_t)ct[0] << 8) | ct[1];
	if (flen > 66 || ctlen != 4 + 2 * flen)
		goto out;
	pt[0] = 4;
	memcpy(pt + 1, ct + 2, flen);
	memcpy(pt + 1 + flen, ct + 4 + flen, flen);
	if (EVP_PKEY_get_utf8_string_param(ek->priv,
	    OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof(group), NULL) != 1 ||
	    (bld = OSSL_PARAM_BLD_new()) == NULL ||
	    OSSL_PARAM_BLD_push_utf8_string(bld, OSSL_PKEY_PARAM_GROUP_NAME,
	    group, 0) != 1 ||
	    OSSL_PARAM_BLD_push_octet_string(bld, OSSL_PKEY_PARAM_PUB_KEY, pt,
	    1 + 2 * flen) != 1 ||
	    (params = OSSL_PARAM_BLD_to_param(bld)) == NULL ||
	    (ectx = EVP_PKEY_CTX_new_from_name(NULL, "EC", NULL)) == NULL ||
	    EVP_PKEY_fromdata_init(ectx) != 1 ||
	    EVP_PKEY_fromdata(ectx, &eph, EVP_PKEY_PUBLIC_KEY, params) != 1 ||
	    EVP_PKEY_derive_init(ctx) != 1 ||
	    EVP_PKEY_derive_set_peer(ctx, eph) != 1 ||
	    EVP_PKEY_derive(ctx, z, &zlen) != 1 ||
	    pki_tpm_kdfe(h, z, zlen, "IDENTITY", ct + 2, flen, pub->unique,
	    pub->xlen, (uint32_t)(8 * pki_hash_size(h)), seed) != DV_OK)
		goto out;
	*seedlen = pki_hash_size(h);
	ok = true;
out:
	OPENSSL_cleanse(z, sizeof(z));
	EVP_PKEY_free(eph);
	EVP_PKEY_CTX_free(ectx);
	OSSL_PARAM_free(params);
	OSSL_PARAM_BLD_free(bld);
	EVP_PKEY_CTX_free(ctx);
	return ok;
}

/*
 * ActivateCredential in software (TPM 2.0 Part 1 §24): the seed with the
 * EK key, the outer HMAC over encIdentity || name, AES-CFB decryption,
 * the TPM2B_DIGEST inside.  cred and es with their size prefixes.
 * Returns the secret's length, 0 on any failure.
 */
static size_t
activate(const struct ek *ek, const uint8_t *name, size_t namelen,
    const uint8_t *cred, size_t credlen, const uint8_t *es, size_t eslen,
    uint8_t out[DV_TPM_MAX_SECRET])
{
	enum pki_hash h = hash_of(ek->pub->name_alg);
	size_t hlen = pki_hash_size(h), seedlen = 0, enclen, n = 0;
	uint8_t seed[512], symkey[32], hmackey[64], md[64], plain[128];
	EVP_CIPHER_CTX *c = NULL;
	int m = 0;

	if (credlen < 4 + hlen + 2 || eslen < 2 ||
	    ((size_t)cred[0] << 8 | cred[1]) != credlen - 2 ||
	    ((size_t)es[0] << 8 | es[1]) != eslen - 2 ||
	    ((size_t)cred[2] << 8 | cred[3]) != hlen)
		return 0;
	enclen = credlen - 4 - hlen;
	if (enclen > sizeof(plain) || ek->pub->sym_bits > 256)
		return 0;
	if (!seed_unshare(ek, es + 2, eslen - 2, seed, &seedlen) ||
	    pki_tpm_kdfa(h, seed, seedlen, "INTEGRITY", NULL, 0, NULL, 0,
	    (uint32_t)(8 * hlen), hmackey) != DV_OK ||
	    pki_hmac(h, hmackey, hlen, cred + 4 + hlen, enclen, name, namelen,
	    md) != DV_OK || CRYPTO_memcmp(md, cred + 4, hlen) != 0 ||
	    pki_tpm_kdfa(h, seed, seedlen, "STORAGE", name, namelen, NULL, 0,
	    ek->pub->sym_bits, symkey) != DV_OK)
		goto out;
	if ((c = EVP_CIPHER_CTX_new()) == NULL ||
	    EVP_DecryptInit_ex(c, ek->pub->sym_bits == 128 ?
	    EVP_aes_128_cfb128() : EVP_aes_256_cfb128(), NULL, symkey,
	    (const uint8_t *)"\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0") != 1 ||
	    EVP_DecryptUpdate(c, plain, &m, cred + 4 + hlen, (int)enclen) != 1 ||
	    (size_t)m != enclen)
		goto out;
	if (((size_t)plain[0] << 8 | plain[1]) != enclen - 2 ||
	    enclen - 2 > DV_TPM_MAX_SECRET)
		goto out;
	memcpy(out, plain + 2, enclen - 2);
	n = enclen - 2;
out:
	EVP_CIPHER_CTX_free(c);
	OPENSSL_cleanse(seed, sizeof(seed));
	OPENSSL_cleanse(symkey, sizeof(symkey));
	OPENSSL_cleanse(hmackey, sizeof(hmackey));
	OPENSSL_cleanse(plain, sizeof(plain));
	return n;
}

/* The AK: what step's client sends as params, and what /secret returns. */
struct ak {
	EVP_PKEY	*priv;		/* owned */
	uint8_t		*spki;		/* owned: DER */
	size_t		 spkilen;
	uint8_t		 name[2 + 32];	/* SHA-256 Name */
	char		*pub_b64;	/* owned: TPMT_PUBLIC */
	char		*cdata_b64;	/* owned: TPMS_CREATION_DATA */
	char		*attest_b64;	/* owned: TPMS_ATTEST */
	char		*sig_b64;	/* owned: TPMT_SIGNATURE */
};

static char *
b64_of(const uint8_t *d, size_t n)
{
	char *s = NULL;

	if (pki_b64_encode(d, n, &s) != DV_OK)
		die("base64");
	return s;
}

/*
 * A restricted RSA-2048 signing key as tpm2_create -G
 * rsa2048:rsassa-sha256:null -a fixedtpm|fixedparent|sensitivedataorigin|
 * userwithauth|restricted|sign|noda makes it, certified by itself over its
 * creation data (tpm2_certifycreation -g sha256 -s rsassa).
 */
static void
ak_make(struct ak *ak)
{
	TPMT_PUBLIC pub;
	TPMS_CREATION_DATA cd;
	TPMS_ATTEST at;
	TPMT_SIGNATURE sig;
	uint8_t pbuf[1024], cbuf[1024], abuf[1024], sbuf[1024];
	uint8_t hash[32], sigbuf[512];
	size_t plen = 0, clen = 0, alen = 0, slen = 0, siglen = sizeof(sigbuf);
	BIGNUM *n = NULL;
	EVP_MD_CTX *mctx = NULL;

	memset(ak, 0, sizeof(*ak));
	if ((ak->priv = EVP_PKEY_Q_keygen(NULL, NULL, "RSA", (size_t)2048)) ==
	    NULL || pki_key_spki_der(ak->priv, &ak->spki, &ak->spkilen) !=
	    DV_OK)
		die("AK keygen");

	memset(&pub, 0, sizeof(pub));
	pub.type = TPM2_ALG_RSA;
	pub.nameAlg = TPM2_ALG_SHA256;
	pub.objectAttributes = TPMA_OBJECT_FIXEDTPM | TPMA_OBJECT_FIXEDPARENT |
	    TPMA_OBJECT_SENSITIVEDATAORIGIN | TPMA_OBJECT_USERWITHAUTH |
	    TPMA_OBJECT_NODA | TPMA_OBJECT_RESTRICTED | TPMA_OBJECT_SIGN_ENCRYPT;
	pub.parameters.rsaDetail.symmetric.algorithm = TPM2_ALG_NULL;
	pub.parameters.rsaDetail.scheme.scheme = TPM2_ALG_RSASSA;
	pub.parameters.rsaDetail.scheme.details.rsassa.hashAlg =
	    TPM2_ALG_SHA256;
	pub.parameters.rsaDetail.keyBits = 2048;
	pub.parameters.rsaDetail.exponent = 0;
	if (EVP_PKEY_get_bn_param(ak->priv, OSSL_PKEY_PARAM_RSA_N, &n) != 1 ||
	    BN_bn2binpad(n, pub.unique.rsa.buffer, 256) != 256)
		die("AK modulus");
	pub.unique.rsa.size = 256;
	if (Tss2_MU_TPMT_PUBLIC_Marshal(&pub, pbuf, sizeof(pbuf), &plen) !=
	    TSS2_RC_SUCCESS)
		die("Tss2_MU_TPMT_PUBLIC_Marshal");
	ak->name[0] = 0x00;
	ak->name[1] = 0x0b;
	pki_sha256(pbuf, plen, ak->name + 2);

	/* creation data: no PCRs, locality 0, parent = a storage key Name */
	memset(&cd, 0, sizeof(cd));
	cd.pcrSelect.count = 0;
	cd.pcrDigest.size = 32;
	pki_sha256("", 0, cd.pcrDigest.buffer);
	cd.locality = TPMA_LOCALITY_TPM2_LOC_ZERO;
	cd.parentNameAlg = TPM2_ALG_SHA256;
	cd.parentName.size = 34;
	cd.parentName.name[1] = 0x0b;
	pki_sha256("srk", 3, cd.parentName.name + 2);
	cd.parentQualifiedName = cd.parentName;
	if (Tss2_MU_TPMS_CREATION_DATA_Marshal(&cd, cbuf, sizeof(cbuf),
	    &clen) != TSS2_RC_SUCCESS)
		die("Tss2_MU_TPMS_CREATION_DATA_Marshal");
	pki_sha256(cbuf, clen, hash);

	memset(&at, 0, sizeof(at));
	at.magic = TPM2_GENERATED_VALUE;
	at.type = TPM2_ST_ATTEST_CREATION;
	at.qualifiedSigner.size = sizeof(ak->name);
	memcpy(at.qualifiedSigner.name, ak->name, sizeof(ak->name));
	at.clockInfo.clock = 1234567;
	at.clockInfo.resetCount = 1;
	at.clockInfo.restartCount = 0;
	at.clockInfo.safe = 1;
	at.firmwareVersion = 0x2000000000000000ull;
	at.attested.creation.objectName.size = sizeof(ak->name);
	memcpy(at.attested.creation.objectName.name, ak->name,
	    sizeof(ak->name));
	at.attested.creation.creationHash.size = 32;
	memcpy(at.attested.creation.creationHash.buffer, hash, 32);
	if (Tss2_MU_TPMS_ATTEST_Marshal(&at, abuf, sizeof(abuf), &alen) !=
	    TSS2_RC_SUCCESS)
		die("Tss2_MU_TPMS_ATTEST_Marshal");

	if ((mctx = EVP_MD_CTX_new()) == NULL ||
	    EVP_DigestSignInit(mctx, NULL, EVP_sha256(), NULL, ak->priv) != 1 ||
	    EVP_DigestSign(mctx, sigbuf, &siglen, abuf, alen) != 1 ||
	    siglen != 256)
		die("AK signature");
	memset(&sig, 0, sizeof(sig));
	sig.sigAlg = TPM2_ALG_RSASSA;
	sig.signature.rsassa.hash = TPM2_ALG_SHA256;
	sig.signature.rsassa.sig.size = (UINT16)siglen;
	memcpy(sig.signature.rsassa.sig.buffer, sigbuf, siglen);
	if (Tss2_MU_TPMT_SIGNATURE_Marshal(&sig, sbuf, sizeof(sbuf), &slen) !=
	    TSS2_RC_SUCCESS)
		die("Tss2_MU_TPMT_SIGNATURE_Marshal");

	ak->pub_b64 = b64_of(pbuf, plen);
	ak->cdata_b64 = b64_of(cbuf, clen);
	ak->attest_b64 = b64_of(abuf, alen);
	ak->sig_b64 = b64_of(sbuf, slen);
	EVP_MD_CTX_free(mctx);
	BN_free(n);
}

static void
ak_clear(struct ak *ak)
{
	EVP_PKEY_free(ak->priv);
	free(ak->spki);
	free(ak->pub_b64);
	free(ak->cdata_b64);
	free(ak->attest_b64);
	free(ak->sig_b64);
	memset(ak, 0, sizeof(*ak));
}

/* The /attest body step's client sends (spec §2.2), no EK certificate. */
static char *
attest_body(const struct ek *ek, const struct ak *ak)
{
	json_t *o;
	char *s;

	o = json_pack("{s:{s:i,s:s,s:s,s:s},s:s,s:{s:s,s:s,s:s,s:s}}",
	    "tpmInfo", "version", 2, "manufacturer", BENCH_TPM_MANUFACTURER,
	    "model", BENCH_TPM_MODEL, "firmwareVersion", BENCH_TPM_VERSION,
	    "ek", ek->spki_b64, "params", "public", ak->pub_b64, "createData",
	    ak->cdata_b64, "createAttestation", ak->attest_b64,
	    "createSignature", ak->sig_b64);
	if (o == NULL || (s = json_dumps(o, JSON_COMPACT |
	    JSON_PRESERVE_ORDER)) == NULL)
		die("attest body");
	json_decref(o);
	return s;
}

/* ---- runs ---------------------------------------------------------- */

struct lat {
	uint32_t	*v;		/* owned: microseconds */
	size_t		 n, cap;
};

static void
lat_add(struct lat *l, uint64_t ns)
{
	if (l->n == l->cap) {
		l->cap = l->cap ? 2 * l->cap : 16384;
		l->v = xrealloc(l->v, l->cap * sizeof(*l->v));
	}
	l->v[l->n++] = (uint32_t)(ns / 1000);
}

struct worker {
	pthread_t	 th;
	const struct target *tg;	/* borrowed */
	const struct ak	*ak;		/* borrowed */
	struct ek	 ek;		/* owned */
	char		*body;		/* owned: /attest body */
	_Atomic int	*phase;		/* borrowed */
	struct lat	 pair, att, sec; /* measured window only */
	uint64_t	 ok, bad;	/* pairs in the window */
	uint64_t	 total;
	int		 shown;
};

/*
 * Whether the certificate DER holds the AK's key and, with issuer_key,
 * whether its signature verifies under that key.
 */
static bool
akcert_ok(const struct ak *ak, const uint8_t *der, size_t derlen,
    EVP_PKEY *issuer_key)
{
	const uint8_t *p = der;
	uint8_t *pk = NULL;
	X509 *x;
	int pklen;
	bool ok = false;

	if ((x = d2i_X509(NULL, &p, (long)derlen)) == NULL)
		goto out;
	if ((pklen = i2d_X509_PUBKEY(X509_get_X509_PUBKEY(x), &pk)) <= 0)
		goto out;
	ok = (size_t)pklen == ak->spkilen && memcmp(pk, ak->spki,
	    ak->spkilen) == 0 && (issuer_key == NULL ||
	    X509_verify(x, issuer_key) == 1);
out:
	OPENSSL_free(pk);
	X509_free(x);
	ERR_clear_error();
	return ok;
}

/* Whether the AK certificate (chain[0]) holds the AK's key. */
static bool
chain_ok(const struct ak *ak, const char *body, size_t len)
{
	json_t *doc = NULL;
	const char *leaf;
	uint8_t *der = NULL;
	size_t derlen = 0;
	bool ok = false;

	if (json_parse_strict(body, len, RESP_MAX, &doc) != DV_OK ||
	    json_array_size(json_object_get(doc, "chain")) != 2 ||
	    (leaf = json_string_value(json_array_get(json_object_get(doc,
	    "chain"), 0))) == NULL ||
	    pki_b64_decode(leaf, strlen(leaf), &der, &derlen) != DV_OK)
		goto out;
	ok = akcert_ok(ak, der, derlen, NULL);
out:
	free(der);
	json_decref(doc);
	return ok;
}

/* The /secret body step's client sends (spec §2.4). */
static char *
secret_body(const uint8_t *secret, size_t n)
{
	json_t *o;
	char *b64, *s;

	b64 = b64_of(secret, n);
	if ((o = json_pack("{s:s}", "secret", b64)) == NULL ||
	    (s = json_dumps(o, JSON_COMPACT)) == NULL)
		die("secret body");
	json_decref(o);
	free(b64);
	return s;
}

static void
bad(struct worker *w, const char *what, int status, const char *body)
{
	if (w->shown++ < 3)
		fprintf(stderr, "bench_attest: %s: HTTP %d: %.300s\n", what,
		    status, body != NULL ? body : "");
}

/* One pair; true when the AK certificate came back. */
static bool
pair(struct worker *w, struct hconn *c, uint64_t *t_att, uint64_t *t_sec)
{
	uint8_t *cred = NULL, *es = NULL, secret[DV_TPM_MAX_SECRET];
	size_t credlen = 0, eslen = 0, n, rlen;
	const char *cs, *ss;
	char *rbody, *sbody = NULL;
	json_t *doc = NULL;
	int status = 0;
	uint64_t t0, t1;
	bool ok = false;

	t0 = now_ns();
	if (!http_post(c, w->tg, TEAM_PATH "/attest", "", w->body,
	    strlen(w->body), &status, &rbody, &rlen)) {
		bad(w, "/attest: connection", 0, NULL);
		goto out;
	}
	*t_att = now_ns() - t0;
	if (status != 200) {
		bad(w, "/attest", status, rbody);
		goto out;
	}
	if (json_parse_strict(rbody, rlen, RESP_MAX, &doc) != DV_OK ||
	    (cs = json_get_str(doc, "credential")) == NULL ||
	    (ss = json_get_str(doc, "secret")) == NULL ||
	    pki_b64_decode(cs, strlen(cs), &cred, &credlen) != DV_OK ||
	    pki_b64_decode(ss, strlen(ss), &es, &eslen) != DV_OK) {
		bad(w, "/attest answer", status, rbody);
		goto out;
	}
	if ((n = activate(&w->ek, w->ak->name, sizeof(w->ak->name), cred,
	    credlen, es, eslen, secret)) == 0) {
		bad(w, "ActivateCredential failed", status, NULL);
		goto out;
	}
	sbody = secret_body(secret, n);
	t1 = now_ns();
	if (!http_post(c, w->tg, TEAM_PATH "/secret", "", sbody,
	    strlen(sbody), &status, &rbody, &rlen)) {
		bad(w, "/secret: connection", 0, NULL);
		goto out;
	}
	*t_sec = now_ns() - t1;
	if (status != 200 || !chain_ok(w->ak, rbody, rlen)) {
		bad(w, "/secret", status, rbody);
		goto out;
	}
	ok = true;
out:
	OPENSSL_cleanse(secret, sizeof(secret));
	json_decref(doc);
	free(cred);
	free(es);
	free(sbody);
	return ok;
}

static void *
worker_run(void *arg)
{
	struct worker *w = arg;
	struct hconn c = { .fd = -1 };
	uint64_t t0, ta = 0, ts = 0;
	int ph;
	bool ok;

	while ((ph = atomic_load(w->phase)) != PH_STOP) {
		t0 = now_ns();
		ok = pair(w, &c, &ta, &ts);
		w->total++;
		if (atomic_load(w->phase) != PH_MEASURE || ph != PH_MEASURE)
			continue;
		if (!ok) {
			w->bad++;
			continue;
		}
		w->ok++;
		lat_add(&w->pair, now_ns() - t0);
		lat_add(&w->att, ta);
		lat_add(&w->sec, ts);
	}
	hconn_close(&c);
	free(c.in);
	return NULL;
}

/* Registers the EK URN as a device of team default (admin API). */
static void
register_ek(const struct target *tg, const char *token, const char *urn,
    const char *name)
{
	struct hconn c = { .fd = -1 };
	json_t *o;
	char *body, *hdr, *rbody;
	size_t rlen;
	int status = 0;

	o = json_pack("{s:s,s:s,s:s,s:[{s:s,s:s}]}", "name", name, "os",
	    "linux", "kind", "laptop", "identifiers", "type", "ek", "value",
	    urn);
	body = json_dumps(o, JSON_COMPACT);
	json_decref(o);
	hdr = xasprintf("Authorization: Bearer %s\r\n"
	    "Content-Type: application/json\r\n", token);
	if (!http_post(&c, tg, ADMIN_PATH, hdr, body, strlen(body), &status,
	    &rbody, &rlen) || status != 201) {
		fprintf(stderr, "bench_attest: registering %s: HTTP %d: "
		    "%.300s\n", urn, status, status ? rbody : "");
		exit(2);
	}
	OPENSSL_cleanse(hdr, strlen(hdr));
	free(hdr);
	free(body);
	hconn_close(&c);
	free(c.in);
}

static int
cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;

	return x < y ? -1 : x > y;
}

/* Percentile p of the latencies of all workers, in ms. */
static double
pct(struct worker *w, size_t nw, size_t which, double p)
{
	struct lat all = { 0 }, *l;
	size_t i, k;
	double v;

	for (i = 0; i < nw; i++) {
		l = which == 0 ? &w[i].pair : which == 1 ? &w[i].att :
		    &w[i].sec;
		for (k = 0; k < l->n; k++)
			lat_add(&all, (uint64_t)l->v[k] * 1000);
	}
	if (all.n == 0)
		return 0;
	qsort(all.v, all.n, sizeof(*all.v), cmp_u32);
	v = all.v[(size_t)(p * (double)(all.n - 1) + 0.5)] / 1000.0;
	free(all.v);
	return v;
}

static double
self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

static void
parse_url(struct target *tg, const char *url)
{
	char host[256], *colon;
	const char *p;
	size_t hl;
	long port = 443;

	if (strncmp(url, "https://", 8) != 0)
		die("--url must be https://IP:PORT");
	p = url + 8;
	hl = strcspn(p, "/");
	if (hl == 0 || hl >= sizeof(host))
		die("bad --url host");
	memcpy(host, p, hl);
	host[hl] = '\0';
	tg->host = xstrdup(host);
	if ((colon = strrchr(host, ':')) != NULL) {
		*colon = '\0';
		port = strtol(colon + 1, NULL, 10);
	}
	memset(&tg->addr, 0, sizeof(tg->addr));
	tg->addr.sin_family = AF_INET;
	tg->addr.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, host, &tg->addr.sin_addr) != 1)
		die("--url host must be an IPv4 address");
}

/* ---- the in-process floor (--floor) --------------------------------- */

/*
 * What the server must compute per pair, timed part by part: the /attest
 * body's JSON and base64 (api_attest_req_parse), the EK (tpm_ek_from_spki,
 * pki_ek_spki_urn; the bench sends no EK certificate, so no chain check),
 * the AK checks of spec §4 with their TPM decoding and signature check
 * (tpm_ak_check), MakeCredential of a fresh secret (pki_random,
 * tpm_make_credential), the session id both routes derive from the secret
 * and the /secret body (pki_sha256, hex_encode, api_secret_req_parse), and
 * the AK certificate built and signed as /secret and the committer do it
 * (pki_akcert_build, pki_cert_tbs; the signer's pki_sig_digest and
 * pki_sign_ctx_digest; pki_signed_der, pki_cert_set_signature), then the
 * frees of all that.  Left out: HTTP, TLS, the store (inventory lookup,
 * session row, certificate row and its fields, audit), logging, and the
 * answers (their base64 and JSON).
 */
enum fpart {
	FP_PARSE, FP_EK, FP_AK_CHECK, FP_MAKECRED, FP_SECRET, FP_AKCERT,
	FP_FREE, FP__MAX
};

static const char *const fpart_names[FP__MAX] = {
	[FP_PARSE] = "parse", [FP_EK] = "ek", [FP_AK_CHECK] = "ak_check",
	[FP_MAKECRED] = "makecred", [FP_SECRET] = "secret",
	[FP_AKCERT] = "akcert", [FP_FREE] = "free",
};

/* The Attestation CA as the floor needs it: its intermediate and key. */
struct floor {
	const struct ek	*ek;		/* borrowed */
	const struct ak	*ak;		/* borrowed */
	const char	*body;		/* borrowed: the /attest body */
	EVP_PKEY	*key;		/* owned: the intermediate's key */
	X509		*inter;		/* owned */
	enum pki_sig_alg alg;
	struct pki_sign_ctx *sctx;	/* owned: as the signer child keeps */
	uint64_t	 cpu[FP__MAX];	/* CPU ns, summed over pairs */
};

/* The floor's clock: CPU time, not wall time (one thread runs). */
#define FLOOR_CLOCK	CLOCK_PROCESS_CPUTIME_ID

/*
 * The attestation intermediate: a key of the type `devid-ca init` makes
 * (its --key-type, p256 by default), in a CA certificate named as init
 * names it.  Only its name and key identifier reach the AK certificate, so
 * it signs itself.
 */
static void
floor_ca_make(struct floor *f, enum pki_key_type kt)
{
	struct pki_signer sig;
	struct pki_profile p;
	uint8_t *spki = NULL;
	size_t spkilen = 0;
	time_t now = time(NULL);

	memset(&p, 0, sizeof(p));
	p.cn = "devid default Attestation Intermediate CA";
	p.not_before = now - 60;
	p.not_after = now + 24 * 3600;
	p.ku = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN | PKI_KU_DIGITAL_SIGNATURE;
	p.is_ca = true;
	p.path_len = 0;
	if (pki_key_generate(kt, &f->key) != DV_OK ||
	    pki_key_sig_alg(f->key, &f->alg) != DV_OK ||
	    pki_key_spki_der(f->key, &spki, &spkilen) != DV_OK)
		die("the intermediate's key");
	pki_signer_local(f->key, &sig);
	if (pki_cert_issue(NULL, &sig, &p, spki, spkilen, &f->inter, NULL,
	    NULL) != DV_OK ||
	    pki_sign_ctx_new(f->key, f->alg, &f->sctx) != DV_OK)
		die("the intermediate");
	free(spki);
}

/*
 * One pair, each part's CPU added to f->cpu.  With check, the credential
 * is activated with the EK's private key and the /secret body carries the
 * recovered secret, and the AK certificate must hold the AK's key under the
 * intermediate's signature; otherwise the body carries the secret as made
 * (the client's work is not timed either way).
 */
static void
floor_pair(struct floor *f, bool check)
{
	struct api_attest_req r;
	struct tpm_ak_params params;
	struct pki_ak_profile p;
	struct tpm_public *ek = NULL;
	struct tpm_ak *ak = NULL;
	X509 *x = NULL;
	uint8_t secret[DV_ATT_SECRET_LEN], got[DV_TPM_MAX_SECRET];
	uint8_t md[32], smd[EVP_MAX_MD_SIZE];
	uint8_t *cred = NULL, *enc = NULL, *sec = NULL, *tbs = NULL;
	uint8_t *sig = NULL, *der = NULL;
	size_t credlen = 0, enclen = 0, seclen = 0, tbslen = 0, siglen = 0;
	size_t derlen = 0, smdlen = 0, n;
	char *urn = NULL, *id = NULL, *sid = NULL, *sbody = NULL;
	const char *detail;
	time_t now = time(NULL);
	uint64_t t0, t1, t2, t3, t4, t5, t6, t7, t8;

	t0 = clock_ns(FLOOR_CLOCK);
	if (api_attest_req_parse((const uint8_t *)f->body, strlen(f->body),
	    &r, &detail) != DV_OK)
		die(detail);
	t1 = clock_ns(FLOOR_CLOCK);
	if (tpm_ek_from_spki(r.req.ek, r.req.eklen, &ek) != DV_OK ||
	    pki_ek_spki_urn(r.req.ek, r.req.eklen, &urn) != DV_OK)
		die("the EK");
	t2 = clock_ns(FLOOR_CLOCK);
	params.public = r.req.ak_public;
	params.publiclen = r.req.ak_publiclen;
	params.create_data = r.req.create_data;
	params.create_datalen = r.req.create_datalen;
	params.create_attestation = r.req.create_attestation;
	params.create_attestationlen = r.req.create_attestationlen;
	params.create_signature = r.req.create_signature;
	params.create_signaturelen = r.req.create_signaturelen;
	if (tpm_ak_check(&params, &ak) != DV_OK)
		die("the AK checks");
	t3 = clock_ns(FLOOR_CLOCK);
	if (pki_random(secret, sizeof(secret)) != DV_OK ||
	    tpm_make_credential(ek, ak->name, ak->namelen, secret,
	    sizeof(secret), &cred, &credlen, &enc, &enclen) != DV_OK)
		die("MakeCredential");
	t4 = clock_ns(FLOOR_CLOCK);
	pki_sha256(secret, sizeof(secret), md);
	id = hex_encode(md, sizeof(md));
	t5 = clock_ns(FLOOR_CLOCK);

	/* the client's part, not timed */
	if (check) {
		if ((n = activate(f->ek, f->ak->name, sizeof(f->ak->name), cred,
		    credlen, enc, enclen, got)) != sizeof(secret) ||
		    memcmp(got, secret, n) != 0)
			die("the floor's credential does not activate");
		sbody = secret_body(got, n);
	} else
		sbody = secret_body(secret, sizeof(secret));

	t6 = clock_ns(FLOOR_CLOCK);
	if (api_secret_req_parse((const uint8_t *)sbody, strlen(sbody), &sec,
	    &seclen, &detail) != DV_OK || seclen != DV_ATT_SECRET_LEN)
		die("the /secret body");
	pki_sha256(sec, seclen, md);
	sid = hex_encode(md, sizeof(md));
	/* the store finds the session by this id */
	if (strcmp(sid, id) != 0)
		die("the secret's id differs");
	t7 = clock_ns(FLOOR_CLOCK);
	memset(&p, 0, sizeof(p));
	p.ek_urn = urn;
	p.manufacturer = BENCH_TPM_MANUFACTURER_ID;
	p.model = BENCH_TPM_MODEL;
	p.version = BENCH_TPM_VERSION;
	p.not_before = now - 60;
	p.not_after = now + DV_ATT_AK_LIFETIME;
	p.crl_url = FLOOR_BASE_URL "/crl";
	p.ocsp_url = FLOOR_BASE_URL "/ocsp";
	p.issuer_url = FLOOR_BASE_URL "/intermediate.crt";
	if (pki_akcert_build(f->inter, &p, ak->spki, ak->spkilen, &x) !=
	    DV_OK || pki_cert_tbs(x, f->alg, &tbs, &tbslen) != DV_OK ||
	    pki_sig_digest(f->alg, tbs, tbslen, smd, &smdlen) != DV_OK ||
	    pki_sign_ctx_digest(f->sctx, smd, smdlen, &sig, &siglen) !=
	    DV_OK || pki_signed_der(f->alg, tbs, tbslen, sig, siglen, &der,
	    &derlen) != DV_OK || pki_cert_set_signature(x, sig, siglen) !=
	    DV_OK)
		die("the AK certificate");
	t8 = clock_ns(FLOOR_CLOCK);
	if (check && !akcert_ok(f->ak, der, derlen, f->key))
		die("the floor's AK certificate is not the AK's");

	f->cpu[FP_PARSE] += t1 - t0;
	f->cpu[FP_EK] += t2 - t1;
	f->cpu[FP_AK_CHECK] += t3 - t2;
	f->cpu[FP_MAKECRED] += t4 - t3;
	f->cpu[FP_SECRET] += (t5 - t4) + (t7 - t6);
	f->cpu[FP_AKCERT] += t8 - t7;

	t0 = clock_ns(FLOOR_CLOCK);
	api_attest_req_clear(&r);
	tpm_public_free(ek);
	free(urn);
	tpm_ak_free(ak);
	explicit_bzero(secret, sizeof(secret));
	free(cred);
	free(enc);
	free(id);
	explicit_bzero(sec, seclen);
	free(sec);
	free(sid);
	pki_cert_free(x);
	free(tbs);
	free(sig);
	free(der);
	f->cpu[FP_FREE] += clock_ns(FLOOR_CLOCK) - t0;
	OPENSSL_cleanse(got, sizeof(got));
	free(sbody);
}

/*
 * --floor: one thread, no HTTP, TLS or store; pairs for warm seconds, then
 * for dur seconds counted.  Prints "LIMIT" (the sum of the parts per pair)
 * and "LIMIT_PARTS" (each part per pair), in CPU milliseconds.
 */
static int
floor_main(bool ecc, const char *label, double warm, double dur,
    enum pki_key_type kt)
{
	struct floor f;
	struct ek ek;
	struct ak ak;
	struct tree h0, h1;
	char *body;
	uint64_t pairs = 0, ns0, end, sum = 0;
	double secs, other;
	long long ot;
	int i;

	memset(&f, 0, sizeof(f));
	ak_make(&ak);
	ek_make(&ek, ecc);
	body = attest_body(&ek, &ak);
	f.ek = &ek;
	f.ak = &ak;
	f.body = body;
	floor_ca_make(&f, kt);
	fprintf(stderr, "bench_attest: %s floor: %s intermediate, warm-up "
	    "%.1fs, %.1fs\n", label, pki_key_type_name(kt), warm, dur);

	floor_pair(&f, true);
	end = now_ns() + (uint64_t)(warm * 1e9);
	while (now_ns() < end)
		floor_pair(&f, false);
	memset(f.cpu, 0, sizeof(f.cpu));
	tree_read(0, &h0);
	ns0 = now_ns();
	end = ns0 + (uint64_t)(dur * 1e9);
	do {
		floor_pair(&f, false);
		pairs++;
	} while (now_ns() < end);
	secs = (double)(now_ns() - ns0) / 1e9;
	tree_read(0, &h1);

	for (i = 0; i < FP__MAX; i++)
		sum += f.cpu[i];
	ot = (long long)(h1.host - h0.host) - (long long)(h1.self - h0.self);
	other = ot > 0 ? (double)ot / (double)sysconf(_SC_CLK_TCK) / secs :
	    0;
	printf("LIMIT label=%s pairs=%llu floor_ms=%.3f secs=%.2f "
	    "other_cores=%.2f\n", label, (unsigned long long)pairs,
	    (double)sum / 1e6 / (double)pairs, secs, other);
	printf("LIMIT_PARTS label=%s", label);
	for (i = 0; i < FP__MAX; i++)
		printf(" %s=%.3f", fpart_names[i], (double)f.cpu[i] / 1e6 /
		    (double)pairs);
	printf("\n");
	fflush(stdout);

	pki_sign_ctx_free(f.sctx);
	pki_cert_free(f.inter);
	pki_key_free(f.key);
	free(body);
	ek_clear(&ek);
	ak_clear(&ak);
	return 0;
}

static void
usage(void)
{
	fputs("usage: bench_attest --url https://IP:PORT --data DIR "
	    "--ek rsa|ecc\n"
	    "         [-c CONNS] [-w WARM_S] [-d DUR_S] [--pid PID] "
	    "[--label TEXT] [--floor-ms MS]\n"
	    "       bench_attest --floor --ek rsa|ecc [-w WARM_S] [-d DUR_S] "
	    "[--ca-key TYPE]\n"
	    "         [--label TEXT]\n", stderr);
	exit(2);
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "url", required_argument, NULL, 'u' },
		{ "data", required_argument, NULL, 'D' },
		{ "ek", required_argument, NULL, 'e' },
		{ "conns", required_argument, NULL, 'c' },
		{ "warm", required_argument, NULL, 'w' },
		{ "duration", required_argument, NULL, 'd' },
		{ "pid", required_argument, NULL, 'p' },
		{ "label", required_argument, NULL, 'l' },
		{ "floor", no_argument, NULL, 'F' },
		{ "floor-ms", required_argument, NULL, 'f' },
		{ "ca-key", required_argument, NULL, 'k' },
		{ NULL, 0, NULL, 0 }
	};
	struct target tg;
	struct worker *w;
	struct ak ak;
	struct tree t0, t1;
	_Atomic int phase = PH_WARM;
	const char *url = NULL, *data = NULL, *label = NULL, *ekalg = NULL;
	char *path, *token, *nl, *name, tag[9];
	uint8_t *d, rnd[4];
	size_t conns = 4, i, len;
	uint64_t ok = 0, nbad = 0, ns0, ns1;
	double warm = -1, dur = -1, self0, self1, secs, srv_ms, target, other;
	double floor_ms = 0;
	/* the intermediate's key type: devid-ca init's default */
	enum pki_key_type kt = PKI_KEY_P256;
	long long ot;
	int c, pid = 0;
	bool ecc, floor = false;

	while ((c = getopt_long(argc, argv, "u:D:e:c:w:d:p:l:", opts, NULL))
	    != -1) {
		switch (c) {
		case 'u': url = optarg; break;
		case 'D': data = optarg; break;
		case 'e': ekalg = optarg; break;
		case 'c': conns = strtoul(optarg, NULL, 10); break;
		case 'w': warm = strtod(optarg, NULL); break;
		case 'd': dur = strtod(optarg, NULL); break;
		case 'p': pid = atoi(optarg); break;
		case 'l': label = optarg; break;
		case 'F': floor = true; break;
		case 'f': floor_ms = strtod(optarg, NULL); break;
		case 'k':
			if (pki_key_type_parse(optarg, &kt) != DV_OK)
				usage();
			break;
		default: usage();
		}
	}
	if (ekalg == NULL || (strcmp(ekalg, "rsa") != 0 &&
	    strcmp(ekalg, "ecc") != 0))
		usage();
	ecc = strcmp(ekalg, "ecc") == 0;
	if (label == NULL)
		label = ecc ? "ecc-p384" : "rsa-2048";
	tpm_init();
	if (floor)
		return floor_main(ecc, label, warm >= 0 ? warm : 0.5,
		    dur > 0 ? dur : 3, kt);
	if (url == NULL || data == NULL || conns == 0 || conns > 256)
		usage();
	if (warm < 0)
		warm = 2;
	if (dur <= 0)
		dur = 10;

	memset(&tg, 0, sizeof(tg));
	parse_url(&tg, url);
	if ((tg.ctx = SSL_CTX_new(TLS_client_method())) == NULL)
		die("SSL_CTX_new");
	path = xasprintf("%s/certs/roots.pem", data);
	if (SSL_CTX_load_verify_locations(tg.ctx, path, NULL) != 1)
		die("cannot load DIR/certs/roots.pem");
	SSL_CTX_set_verify(tg.ctx, SSL_VERIFY_PEER, NULL);
	free(path);
	path = xasprintf("%s/admin/owner.token", data);
	if (file_read(path, 4096, &d, &len) != DV_OK)
		die("cannot read DIR/admin/owner.token");
	free(path);
	token = (char *)d;
	if ((nl = strpbrk(token, "\r\n")) != NULL)
		*nl = '\0';

	/* the software TPMs, registered before the clock starts */
	ak_make(&ak);
	if (pki_random(rnd, sizeof(rnd)) != DV_OK)
		die("random");
	snprintf(tag, sizeof(tag), "%02x%02x%02x%02x", rnd[0], rnd[1], rnd[2],
	    rnd[3]);
	w = xcalloc(conns, sizeof(*w));
	for (i = 0; i < conns; i++) {
		w[i].tg = &tg;
		w[i].ak = &ak;
		w[i].phase = &phase;
		ek_make(&w[i].ek, ecc);
		w[i].body = attest_body(&w[i].ek, &ak);
		name = xasprintf("bench-%s-%s-%zu", label, tag, i);
		register_ek(&tg, token, w[i].ek.urn, name);
		free(name);
	}
	OPENSSL_cleanse(token, len);
	free(token);
	fprintf(stderr, "bench_attest: %s: %zu EKs registered, AK ready\n",
	    label, conns);

	for (i = 0; i < conns; i++)
		if (pthread_create(&w[i].th, NULL, worker_run, &w[i]) != 0)
			die("pthread_create");
	usleep((useconds_t)(warm * 1e6));
	tree_read(pid, &t0);
	self0 = self_cpu_s();
	ns0 = now_ns();
	atomic_store(&phase, PH_MEASURE);
	usleep((useconds_t)(dur * 1e6));
	atomic_store(&phase, PH_STOP);
	ns1 = now_ns();
	tree_read(pid, &t1);
	self1 = self_cpu_s();
	for (i = 0; i < conns; i++) {
		pthread_join(w[i].th, NULL);
		ok += w[i].ok;
		nbad += w[i].bad;
	}

	secs = (double)(ns1 - ns0) / 1e9;
	srv_ms = ok ? (double)(t1.ticks - t0.ticks) * 1000.0 /
	    (double)sysconf(_SC_CLK_TCK) / (double)ok : 0;
	target = ecc ? 2.0 : 1.0;
	ot = (long long)(t1.host - t0.host) - (long long)(t1.ticks -
	    t0.ticks) - (long long)(t1.self - t0.self);
	other = secs > 0 && ot > 0 ? (double)ot / (double)sysconf(_SC_CLK_TCK)
	    / secs : 0;
	printf("RESULT label=%s c=%zu secs=%.2f pairs=%llu failed=%llu "
	    "pairs_per_s=%.1f p50=%.2f p99=%.2f attest_p50=%.2f "
	    "secret_p50=%.2f srv_cpu_ms=%.4f srv_cores=%.2f cli_cpu_ms=%.4f "
	    "procs=%d target_ms=%.1f ratio=%.2f other_cores=%.2f", label,
	    conns, secs, (unsigned long long)ok, (unsigned long long)nbad,
	    secs > 0 ? (double)ok / secs : 0, pct(w, conns, 0, 0.50),
	    pct(w, conns, 0, 0.99), pct(w, conns, 1, 0.50),
	    pct(w, conns, 2, 0.50), srv_ms, secs > 0 ?
	    (double)(t1.ticks - t0.ticks) / (double)sysconf(_SC_CLK_TCK) /
	    secs : 0, ok ? (self1 - self0) * 1000.0 / (double)ok : 0,
	    t1.nproc, target, srv_ms / target, other);
	/* against the in-process limit (--floor) of the same pairs */
	if (floor_ms > 0)
		printf(" floor_ms=%.3f floor_ratio=%.2f overhead_ms=%.3f\n",
		    floor_ms, srv_ms / floor_ms, srv_ms - floor_ms);
	else
		printf(" floor_ms=- floor_ratio=- overhead_ms=-\n");
	fflush(stdout);

	for (i = 0; i < conns; i++) {
		ek_clear(&w[i].ek);
		free(w[i].body);
		free(w[i].pair.v);
		free(w[i].att.v);
		free(w[i].sec.v);
	}
	free(w);
	ak_clear(&ak);
	SSL_CTX_free(tg.ctx);
	free(tg.host);
	return ok > 0 && nbad == 0 ? 0 : 1;
}
