/*
 * limit.c - the in-process issuance limit through devid's own pki module
 * (spec/performance.md §2.2): parse + verify a P-256 CSR with pki_csr_parse
 * and issue a leaf with pki_cert_issue under a P-256 CA key held by
 * pki_signer_local, the leaf profile the authority uses for /1.0/sign
 * (issue.c: KU digitalSignature, EKU server+client auth, SANs, CDP, AIA,
 * provisioner extension).  No HTTP, JSON, token or store.  A second pair
 * of runs adds what /1.0/sign also does per certificate before any HTTP,
 * JSON or storage: verify an ES256 token's signature (pki_verify_jws, as
 * prov_authorize does), the crypto floor of the sign benchmark.
 *
 *   bench_limit --ca-cert PEM --ca-key PEM [--pass-file F] --csr PEM
 *       [-s SECS] [--out leaf.pem]
 *
 * Runs S seconds on 1 thread, then S seconds on 2 threads, and prints one
 * "LIMIT threads=..." line for each.
 */
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "base/base.h"
#include "jws/jws.h"
#include "pki/pki.h"

struct limit {
	X509		*ca;		/* owned */
	EVP_PKEY	*key;		/* owned */
	struct pki_signer signer;	/* borrows key */
	const char	*csr;		/* borrowed PEM */
	size_t		 csrlen;
	bool		 token;		/* verify tok first */
	EVP_PKEY	*tokkey;	/* owned: the token's P-256 key */
	char		*tok;		/* owned: header.payload */
	size_t		 toklen;
	uint8_t		*toksig;	/* owned: R || S */
	size_t		 toksiglen;
	uint64_t	 deadline;	/* ns, CLOCK_MONOTONIC */
	atomic_ullong	 certs;
	atomic_int	 failed;
};

static uint64_t
now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static double
cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
	    (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
}

/* One issuance as /1.0/sign does it, minus token, JSON and store. */
static enum dv_rc
issue_one(struct limit *l, X509 **out, uint8_t **der, size_t *derlen)
{
	struct pki_csr *csr = NULL;
	struct pki_profile p;
	time_t now = time(NULL);
	enum dv_rc rc;

	if (l->token && (rc = pki_verify_jws(l->tokkey, "ES256",
	    (const uint8_t *)l->tok, l->toklen, l->toksig, l->toksiglen))
	    != DV_OK)
		return rc;
	if ((rc = pki_csr_parse((const uint8_t *)l->csr, l->csrlen, false,
	    &csr)) != DV_OK)
		goto out;
	memset(&p, 0, sizeof(p));
	p.cn = csr->cn;
	p.sans = &csr->sans;
	p.not_before = now - 60;
	p.not_after = now + 24 * 3600;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = PKI_EKU_SERVER_AUTH | PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	p.crl_url = "https://127.0.0.1:8443/t/default/account/crl";
	p.ocsp_url = "https://127.0.0.1:8443/t/default/account/ocsp";
	p.issuer_url = "https://127.0.0.1:8443/t/default/account/intermediates";
	p.prov_type = 1;
	p.prov_name = "admin";
	p.prov_cred = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG";
	rc = pki_cert_issue(l->ca, &l->signer, &p, csr->spki, csr->spkilen,
	    out, der, derlen);
out:
	pki_csr_free(csr);
	return rc;
}

static void *
worker(void *arg)
{
	struct limit *l = arg;
	unsigned long long n = 0;
	uint8_t *der;
	size_t derlen;
	X509 *x;

	while (now_ns() < l->deadline) {
		if (issue_one(l, &x, &der, &derlen) != DV_OK) {
			atomic_fetch_add(&l->failed, 1);
			break;
		}
		pki_cert_free(x);
		free(der);
		n++;
	}
	atomic_fetch_add(&l->certs, n);
	return NULL;
}

static void
run(struct limit *l, unsigned threads, double secs)
{
	pthread_t th[8];
	unsigned long long n;
	double c0, c1, wall;
	uint64_t t0, t1;
	unsigned i;

	atomic_store(&l->certs, 0);
	t0 = now_ns();
	c0 = cpu_s();
	l->deadline = t0 + (uint64_t)(secs * 1e9);
	for (i = 0; i < threads; i++)
		if (pthread_create(&th[i], NULL, worker, l) != 0) {
			fputs("bench_limit: pthread_create\n", stderr);
			exit(2);
		}
	for (i = 0; i < threads; i++)
		pthread_join(th[i], NULL);
	t1 = now_ns();
	c1 = cpu_s();
	n = atomic_load(&l->certs);
	wall = (double)(t1 - t0) / 1e9;
	printf("LIMIT%s threads=%u certs=%llu secs=%.2f certs_per_s=%.1f "
	    "us_per_cert=%.1f cpu_us_per_cert=%.1f failed=%d\n",
	    l->token ? "+TOKEN" : "", threads, n,
	    wall, (double)n / wall, n ? wall * threads * 1e6 / (double)n : 0,
	    n ? (c1 - c0) * 1e6 / (double)n : 0, atomic_load(&l->failed));
	fflush(stdout);
}

/* An ES256 token as a step client sends one, split for pki_verify_jws. */
static void
token_setup(struct limit *l)
{
	json_t *hdr, *claims;
	char *jws, *dot;

	hdr = json_pack("{s:s,s:s}", "typ", "JWT", "kid",
	    "0123456789abcdefghijklmnopqrstuvwxyzABCDEFG");
	claims = json_pack("{s:s,s:s,s:s,s:s,s:I,s:I,s:[s,s]}", "iss", "admin",
	    "aud", "https://127.0.0.1:8443/t/default/account/1.0/sign",
	    "sub", "device-0001.example.test", "jti",
	    "4f0c3e1bbcd64ee9a5f7a4c3b1d2e9f00a1b2c3d4e5f60718293a4b5c6d7e8f9",
	    "nbf", (json_int_t)time(NULL), "exp",
	    (json_int_t)time(NULL) + 300, "sans", "device-0001.example.test",
	    "device-0001.local.example.test");
	if (pki_key_generate(PKI_KEY_P256, &l->tokkey) != DV_OK ||
	    jws_sign_pkey(l->tokkey, hdr, claims, &jws) != DV_OK ||
	    (dot = strrchr(jws, '.')) == NULL ||
	    jws_b64url_decode(dot + 1, &l->toksig, &l->toksiglen) != DV_OK) {
		fputs("bench_limit: cannot make a token\n", stderr);
		exit(2);
	}
	*dot = '\0';
	l->tok = jws;
	l->toklen = strlen(jws);
	l->token = true;
	json_decref(hdr);
	json_decref(claims);
}

static char *
slurp(const char *path, size_t *len)
{
	uint8_t *d;

	if (file_read(path, 1 << 20, &d, len) != DV_OK) {
		fprintf(stderr, "bench_limit: cannot read %s\n", path);
		exit(2);
	}
	return (char *)d;
}

int
main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "ca-cert", required_argument, NULL, 'c' },
		{ "ca-key", required_argument, NULL, 'k' },
		{ "pass-file", required_argument, NULL, 'p' },
		{ "csr", required_argument, NULL, 'r' },
		{ "secs", required_argument, NULL, 's' },
		{ "out", required_argument, NULL, 'o' },
		{ NULL, 0, NULL, 0 }
	};
	struct limit l;
	const char *cacert = NULL, *cakey = NULL, *passf = NULL, *csrf = NULL;
	const char *outf = NULL;
	char *pem, *pass = NULL, *leafpem;
	double secs = 5;
	uint8_t *der;
	size_t len, plen;
	X509 *x;
	int c;

	while ((c = getopt_long(argc, argv, "c:k:p:r:s:o:", opts, NULL)) != -1) {
		switch (c) {
		case 'c': cacert = optarg; break;
		case 'k': cakey = optarg; break;
		case 'p': passf = optarg; break;
		case 'r': csrf = optarg; break;
		case 's': secs = strtod(optarg, NULL); break;
		case 'o': outf = optarg; break;
		default:
			goto usage;
		}
	}
	if (cacert == NULL || cakey == NULL || csrf == NULL || secs <= 0)
		goto usage;

	log_init(LOG_WARN, 2);
	memset(&l, 0, sizeof(l));
	if (pki_init() != DV_OK)
		return 2;
	pem = slurp(cacert, &len);
	if (pki_cert_from_pem(pem, len, &l.ca) != DV_OK)
		return 2;
	free(pem);
	if (passf != NULL) {
		pass = slurp(passf, &plen);
		pass[strcspn(pass, "\r\n")] = '\0';
	}
	pem = slurp(cakey, &len);
	if (pki_key_from_pem(pem, len, pass, &l.key) != DV_OK)
		return 2;
	OPENSSL_cleanse(pem, len);
	free(pem);
	if (pass != NULL) {
		OPENSSL_cleanse(pass, plen);
		free(pass);
	}
	pki_signer_local(l.key, &l.signer);
	l.csr = slurp(csrf, &l.csrlen);

	/* one certificate first: it must issue (and may be checked) */
	if (issue_one(&l, &x, &der, &len) != DV_OK) {
		fputs("bench_limit: issuance failed\n", stderr);
		return 2;
	}
	if (outf != NULL && pki_cert_to_pem(x, &leafpem) == DV_OK) {
		file_write(outf, leafpem, strlen(leafpem), 0644);
		free(leafpem);
	}
	fprintf(stderr, "bench_limit: sample certificate %zu bytes DER\n", len);
	pki_cert_free(x);
	free(der);

	run(&l, 1, secs);
	run(&l, 2, secs);
	token_setup(&l);
	run(&l, 1, secs);
	run(&l, 2, secs);

	free((char *)l.csr);
	free(l.tok);
	free(l.toksig);
	pki_key_free(l.tokkey);
	pki_key_free(l.key);
	pki_cert_free(l.ca);
	return 0;
usage:
	fputs("usage: bench_limit --ca-cert PEM --ca-key PEM [--pass-file F] "
	    "--csr PEM [-s SECS] [--out leaf.pem]\n", stderr);
	return 2;
}
