/*
 * test_pki.c - unit tests of src/pki, with the openssl command as oracle
 * for what devid emits (chains, extensions, CRLs, OCSP responses) and as a
 * source of CSRs that devid did not make itself.
 */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ocsp.h>
#include <openssl/x509.h>

#include <openssl/pem.h>

#include "pki/pki.h"

static char	tmpdir[64];

/* ---- helpers ------------------------------------------------------------ */

static char *
tpath(const char *name)
{
	return xasprintf("%s/%s", tmpdir, name);
}

/* Runs a shell command in tmpdir; output goes to tmpdir/out.  Exit code. */
static int
sh(const char *fmt, ...)
{
	char *cmd, *full;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	if (vasprintf(&cmd, fmt, ap) < 0)
		abort();
	va_end(ap);
	full = xasprintf("cd %s && (%s) >out 2>&1", tmpdir, cmd);
	rc = system(full);
	free(full);
	free(cmd);
	return WIFEXITED(rc) ? WEXITSTATUS(rc) : -1;
}

/* The output of the last sh(). */
static char *
sh_out(void)
{
	char *p = tpath("out");
	uint8_t *data = NULL;
	size_t len;

	assert_int_equal(file_read(p, 1 << 20, &data, &len), DV_OK);
	free(p);
	return (char *)data;
}

static void
put(const char *name, const void *data, size_t len)
{
	char *p = tpath(name);
	FILE *f = fopen(p, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	fclose(f);
	free(p);
}

static uint8_t *
get(const char *name, size_t *len)
{
	char *p = tpath(name);
	uint8_t *data = NULL;

	assert_int_equal(file_read(p, 1 << 20, &data, len), DV_OK);
	free(p);
	return data;
}

static void
put_cert(const char *name, X509 *x)
{
	char *pem = NULL, *pem2 = NULL;
	uint8_t *der = NULL;
	size_t len;

	assert_int_equal(pki_cert_to_pem(x, &pem), DV_OK);
	/* the PEM of the stored DER, without a decode, is the text
	 * OpenSSL's PEM_write_bio_X509 writes for the certificate */
	assert_int_equal(pki_cert_to_der(x, &der, &len), DV_OK);
	assert_int_equal(pki_cert_der_to_pem(der, len, &pem2), DV_OK);
	assert_string_equal(pem, pem2);
	{
		BIO *b = BIO_new(BIO_s_mem());
		char *data;
		long n;

		assert_non_null(b);
		assert_int_equal(PEM_write_bio_X509(b, x), 1);
		n = BIO_get_mem_data(b, &data);
		assert_true(n > 0 && (size_t)n == strlen(pem2));
		assert_memory_equal(data, pem2, (size_t)n);
		BIO_free(b);
	}
	put(name, pem, strlen(pem));
	free(der);
	free(pem2);
	free(pem);
}

/* x read back from its DER, with its key decoded. */
static X509 *
reread(X509 *x)
{
	uint8_t *der;
	size_t len;
	X509 *y;

	assert_int_equal(pki_cert_to_der(x, &der, &len), DV_OK);
	assert_int_equal(pki_cert_from_der(der, len, &y), DV_OK);
	free(der);
	return y;
}

/* A CA: key, certificate and local signer. */
struct ca {
	EVP_PKEY	*key;
	X509		*cert;	/* as returned by pki_cert_issue */
	struct pki_signer signer;
};

static void
ca_free(struct ca *c)
{
	pki_cert_free(c->cert);
	pki_key_free(c->key);
	memset(c, 0, sizeof(*c));
}

static void
ca_make(struct ca *c, struct ca *parent, enum pki_key_type t, const char *cn)
{
	struct pki_profile p;
	uint8_t *spki = NULL, *der = NULL;
	size_t spkilen, derlen;
	time_t now = time(NULL);

	memset(c, 0, sizeof(*c));
	assert_int_equal(pki_key_generate(t, &c->key), DV_OK);
	pki_signer_local(c->key, &c->signer);
	memset(&p, 0, sizeof(p));
	p.cn = cn;
	p.not_before = now - 86400;
	p.not_after = now + 86400 * 365;
	p.ku = PKI_KU_CERT_SIGN | PKI_KU_CRL_SIGN;
	p.is_ca = true;
	p.path_len = parent == NULL ? 1 : 0;
	assert_int_equal(pki_key_spki_der(c->key, &spki, &spkilen), DV_OK);
	assert_int_equal(pki_cert_issue(parent ? parent->cert : NULL,
	    parent ? &parent->signer : &c->signer, &p, spki, spkilen,
	    &c->cert, &der, &derlen), DV_OK);
	assert_non_null(c->cert);
	assert_true(derlen > 100);
	free(spki);
	free(der);
}

static const char *const sans_text[] = {
	"dev1.example.com", "192.0.2.7", "2001:db8::7", "ops@example.com",
	"spiffe://example.com/dev1",
};

static void
sans_fill(struct pki_sans *s)
{
	size_t i;

	memset(s, 0, sizeof(*s));
	for (i = 0; i < sizeof(sans_text) / sizeof(sans_text[0]); i++)
		assert_int_equal(pki_sans_add_auto(s, sans_text[i]), DV_OK);
}

/* Issues a leaf for spki under ca with the whole profile. */
static X509 *
leaf_issue(struct ca *ca, const uint8_t *spki, size_t spkilen,
    time_t nb, time_t na, uint8_t **der, size_t *derlen)
{
	static const uint8_t policy[] = { 0x30, 0x03, 0x02, 0x01, 0x05 };
	struct pki_ext ext = { "1.3.6.1.4.1.99999.1", false, policy,
	    sizeof(policy) };
	struct pki_sans sans;
	struct pki_profile p;
	X509 *x = NULL;

	sans_fill(&sans);
	memset(&p, 0, sizeof(p));
	p.cn = "dev1.example.com";
	p.sans = &sans;
	p.not_before = nb;
	p.not_after = na;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = PKI_EKU_CLIENT_AUTH | PKI_EKU_SERVER_AUTH;
	p.path_len = -1;
	p.crl_url = "http://ca.example.com/1.0/crl";
	p.ocsp_url = "http://ca.example.com/ocsp";
	p.issuer_url = "http://ca.example.com/inter.crt";
	p.prov_type = 1;
	p.prov_name = "admin@example.com";
	p.prov_cred = "kid-123";
	p.ext = &ext;
	p.next = 1;
	assert_int_equal(pki_cert_issue(ca->cert, &ca->signer, &p, spki,
	    spkilen, &x, der, derlen), DV_OK);
	pki_sans_clear(&sans);
	return x;
}

static X509 *
leaf_for_key(struct ca *ca, EVP_PKEY *k, time_t nb, time_t na)
{
	uint8_t *spki = NULL, *der = NULL;
	size_t spkilen, derlen;
	X509 *x;

	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	x = leaf_issue(ca, spki, spkilen, nb, na, &der, &derlen);
	free(spki);
	free(der);
	return x;
}

/* ---- keys --------------------------------------------------------------- */

static void
test_key_types(void **state)
{
	static const enum pki_sig_alg want[PKI_KEY__MAX] = {
		[PKI_KEY_P256] = PKI_SIG_ECDSA_SHA256,
		[PKI_KEY_P384] = PKI_SIG_ECDSA_SHA384,
		[PKI_KEY_RSA2048] = PKI_SIG_RSA_SHA256,
		[PKI_KEY_RSA3072] = PKI_SIG_RSA_SHA256,
		[PKI_KEY_RSA4096] = PKI_SIG_RSA_SHA256,
		[PKI_KEY_ED25519] = PKI_SIG_ED25519,
	};
	enum pki_key_type t, u;
	enum pki_sig_alg a;
	EVP_PKEY *k, *pub;
	uint8_t *spki, *sig;
	size_t spkilen, siglen;

	for (t = 0; t < PKI_KEY__MAX; t++) {
		assert_int_equal(pki_key_type_parse(pki_key_type_name(t), &u),
		    DV_OK);
		assert_int_equal(u, t);
		assert_int_equal(pki_key_generate(t, &k), DV_OK);
		assert_int_equal(pki_key_sig_alg(k, &a), DV_OK);
		assert_int_equal(a, want[t]);
		assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
		assert_int_equal(pki_key_from_spki(spki, spkilen, &pub), DV_OK);
		assert_int_equal(EVP_PKEY_eq(k, pub), 1);
		assert_int_equal(pki_sign_data(k, a, (const uint8_t *)"abc", 3,
		    &sig, &siglen), DV_OK);
		assert_true(siglen > 0);
		free(sig);
		/* wrong algorithm for the key */
		assert_int_not_equal(pki_sign_data(k, a == PKI_SIG_ED25519 ?
		    PKI_SIG_RSA_SHA256 : PKI_SIG_ED25519,
		    (const uint8_t *)"abc", 3, &sig, &siglen), DV_OK);
		assert_null(sig);
		free(spki);
		pki_key_free(pub);
		pki_key_free(k);
	}
	assert_int_equal(pki_key_type_parse("dsa", &u), DV_ERR_BAD_KEY);
	assert_int_equal(pki_key_from_spki((const uint8_t *)"\x30\x00", 2,
	    &pub), DV_ERR_BAD_KEY);
	assert_null(pub);
}

static void
test_key_pem(void **state)
{
	EVP_PKEY *k, *r;
	char *pem;

	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	assert_int_equal(pki_key_to_encrypted_pem(k, "s3cret", &pem), DV_OK);
	assert_non_null(strstr(pem, "BEGIN ENCRYPTED PRIVATE KEY"));
	assert_int_equal(pki_key_from_pem(pem, strlen(pem), "s3cret", &r),
	    DV_OK);
	assert_int_equal(EVP_PKEY_eq(k, r), 1);
	pki_key_free(r);
	assert_int_equal(pki_key_from_pem(pem, strlen(pem), "wrong", &r),
	    DV_ERR_BAD_KEY);
	assert_null(r);
	/* no password: must fail, never prompt */
	assert_int_equal(pki_key_from_pem(pem, strlen(pem), NULL, &r),
	    DV_ERR_BAD_KEY);
	/* openssl agrees on the format (scrypt PBES2) */
	put("enc.key", pem, strlen(pem));
	assert_int_equal(sh("openssl pkey -in enc.key -passin pass:s3cret "
	    "-noout"), 0);
	free(pem);

	assert_int_equal(pki_key_to_pem(k, &pem), DV_OK);
	assert_non_null(strstr(pem, "BEGIN PRIVATE KEY"));
	assert_int_equal(pki_key_from_pem(pem, strlen(pem), NULL, &r), DV_OK);
	assert_int_equal(EVP_PKEY_eq(k, r), 1);
	pki_key_free(r);
	free(pem);
	assert_int_equal(pki_key_from_pem("junk", 4, NULL, &r),
	    DV_ERR_BAD_KEY);
	pki_key_free(k);
}

/* ---- CSRs --------------------------------------------------------------- */

static void
test_csr_make_parse(void **state)
{
	static const enum pki_key_type types[] = { PKI_KEY_P256,
	    PKI_KEY_P384, PKI_KEY_RSA2048, PKI_KEY_ED25519 };
	struct pki_sans sans;
	struct pki_csr *c;
	uint8_t *spki, md[32];
	size_t i, spkilen;
	EVP_PKEY *k;
	char *pem;

	sans_fill(&sans);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		assert_int_equal(pki_key_generate(types[i], &k), DV_OK);
		assert_int_equal(pki_csr_make(k, "dev1", &sans, &pem), DV_OK);
		assert_int_equal(pki_csr_parse((const uint8_t *)pem,
		    strlen(pem), false, &c), DV_OK);
		assert_int_equal(c->keytype, types[i]);
		assert_string_equal(c->cn, "dev1");
		assert_int_equal(c->sans.n, sans.n);
		assert_true(pki_sans_equal_type(&c->sans, &sans, PKI_SAN_DNS));
		assert_true(pki_sans_equal_type(&c->sans, &sans, PKI_SAN_IP));
		assert_true(pki_sans_equal_type(&c->sans, &sans,
		    PKI_SAN_EMAIL));
		assert_true(pki_sans_equal_type(&c->sans, &sans, PKI_SAN_URI));
		assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
		assert_int_equal(c->spkilen, spkilen);
		assert_memory_equal(c->spki, spki, spkilen);
		pki_sha256(c->der, c->derlen, md);
		assert_memory_equal(md, c->sha256, 32);
		free(spki);
		/* the same request in DER */
		{
			struct pki_csr *d;
			uint8_t *der = xmemdup(c->der, c->derlen);
			size_t derlen = c->derlen;

			assert_int_equal(pki_csr_parse(der, derlen, true, &d),
			    DV_OK);
			assert_int_equal(d->keytype, types[i]);
			pki_csr_free(d);
			free(der);
		}
		pki_csr_free(c);
		free(pem);
		pki_key_free(k);
	}
	/* no CN, no SANs */
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	assert_int_equal(pki_csr_make(k, NULL, NULL, &pem), DV_OK);
	assert_int_equal(pki_csr_parse((const uint8_t *)pem, strlen(pem),
	    false, &c), DV_OK);
	assert_null(c->cn);
	assert_int_equal(c->sans.n, 0);
	pki_csr_free(c);
	free(pem);
	pki_key_free(k);
	pki_sans_clear(&sans);
}

static const char *const req_newkey[] = {
	"ec -pkeyopt ec_paramgen_curve:P-256",
	"ec -pkeyopt ec_paramgen_curve:P-384",
	"rsa:2048",
	"ed25519",
};
static const enum pki_key_type req_types[] = {
	PKI_KEY_P256, PKI_KEY_P384, PKI_KEY_RSA2048, PKI_KEY_ED25519,
};

/* A P-256 CSR whose point is moved off the curve is refused at import. */
static void
test_csr_off_curve(void **state)
{
	struct pki_csr *c = NULL;
	EVP_PKEY *k = NULL;
	uint8_t *der = NULL, *spki = NULL;
	size_t derlen, spkilen, i;
	char *pem = NULL;

	(void)state;
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	assert_int_equal(pki_csr_make(k, "dev", NULL, &pem), DV_OK);
	assert_int_equal(pki_csr_parse((const uint8_t *)pem, strlen(pem),
	    false, &c), DV_OK);
	der = xmemdup(c->der, c->derlen);
	derlen = c->derlen;
	pki_csr_free(c);
	c = NULL;
	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	/* the 65-byte point ends the SPKI; find it in the CSR, flip y */
	for (i = 0; i + 65 <= derlen; i++)
		if (memcmp(der + i, spki + spkilen - 65, 65) == 0)
			break;
	assert_true(i + 65 <= derlen);
	der[i + 64] ^= 1;
	assert_int_equal(pki_csr_parse(der, derlen, true, &c), DV_ERR_BAD_KEY);
	assert_null(c);
	free(spki);
	free(der);
	free(pem);
	pki_key_free(k);
}

static void
test_csr_openssl(void **state)
{
	struct pki_csr *c;
	uint8_t *der;
	size_t i, len;

	for (i = 0; i < sizeof(req_types) / sizeof(req_types[0]); i++) {
		assert_int_equal(sh("openssl req -new -newkey %s -nodes "
		    "-keyout r.key -subj /CN=dev%zu -addext 'subjectAltName="
		    "DNS:a.example,IP:192.0.2.1,email:x@example.com,"
		    "URI:spiffe://example/x,DNS:b.example' -out r.pem && "
		    "openssl req -in r.pem -outform DER -out r.der",
		    req_newkey[i], i), 0);
		der = get("r.pem", &len);
		assert_int_equal(pki_csr_parse(der, len, false, &c), DV_OK);
		free(der);
		assert_int_equal(c->keytype, req_types[i]);
		assert_non_null(c->cn);
		assert_int_equal(strncmp(c->cn, "dev", 3), 0);
		assert_int_equal(c->sans.n, 5);
		assert_int_equal(pki_sans_count(&c->sans, PKI_SAN_DNS), 2);
		assert_int_equal(pki_sans_count(&c->sans, PKI_SAN_IP), 1);
		assert_string_equal(c->sans.v[1].value, "192.0.2.1");
		pki_csr_free(c);

		der = get("r.der", &len);
		assert_int_equal(pki_csr_parse(der, len, true, &c), DV_OK);
		assert_int_equal(c->derlen, len);
		pki_csr_free(c);
		/* a DER request fed as PEM, and the reverse, fail cleanly */
		assert_int_equal(pki_csr_parse(der, len, false, &c),
		    DV_ERR_BAD_CSR);
		assert_null(c);
		free(der);
	}
}

static void
test_csr_bad(void **state)
{
	struct pki_csr *c = NULL;
	uint8_t *der, *bad;
	size_t len, i;
	char *cmd;

	/* P-256 request, DER */
	assert_int_equal(sh("openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout r.key -subj /CN=flip "
	    "-outform DER -out r.der"), 0);
	der = get("r.der", &len);
	assert_int_equal(pki_csr_parse(der, len, true, &c), DV_OK);
	pki_csr_free(c);

	/* flipped bit in the signature, then in the signed subject */
	bad = xmemdup(der, len);
	bad[len - 1] ^= 0x01;
	assert_int_equal(pki_csr_parse(bad, len, true, &c), DV_ERR_BAD_CSR);
	assert_null(c);
	memcpy(bad, der, len);
	for (i = 0; i + 4 < len; i++)
		if (memcmp(bad + i, "flip", 4) == 0)
			break;
	assert_true(i + 4 < len);
	bad[i] ^= 0x20;
	assert_int_equal(pki_csr_parse(bad, len, true, &c), DV_ERR_BAD_CSR);

	/* every truncation and a trailing byte: errors, never crashes */
	for (i = 0; i < len; i++)
		assert_int_not_equal(pki_csr_parse(der, i, true, &c), DV_OK);
	free(bad);
	bad = xmalloc(len + 1);
	memcpy(bad, der, len);
	bad[len] = 0;
	assert_int_equal(pki_csr_parse(bad, len + 1, true, &c),
	    DV_ERR_BAD_CSR);
	free(bad);
	free(der);

	/* garbage */
	assert_int_equal(pki_csr_parse((const uint8_t *)"hello", 5, false,
	    &c), DV_ERR_BAD_CSR);
	assert_int_equal(pki_csr_parse((const uint8_t *)"\x30\x80\x00\x00", 4,
	    true, &c), DV_ERR_BAD_CSR);
	assert_int_equal(pki_csr_parse((const uint8_t *)
	    "-----BEGIN CERTIFICATE REQUEST-----\n!!!!\n"
	    "-----END CERTIFICATE REQUEST-----\n", 76, false, &c),
	    DV_ERR_BAD_CSR);
	bad = xcalloc(1, DV_MAX_DER + 1);
	assert_int_equal(pki_csr_parse(bad, DV_MAX_DER + 1, true, &c),
	    DV_ERR_TOO_LARGE);
	free(bad);

	/* RSA-1024 and a curve devid does not take */
	assert_int_equal(sh("openssl req -new -newkey rsa:1024 -nodes "
	    "-keyout r.key -subj /CN=weak -out r.pem"), 0);
	der = get("r.pem", &len);
	assert_int_equal(pki_csr_parse(der, len, false, &c), DV_ERR_BAD_KEY);
	free(der);
	assert_int_equal(sh("openssl req -new -newkey ec -pkeyopt "
	    "ec_paramgen_curve:secp256k1 -nodes -keyout r.key -subj /CN=k1 "
	    "-out r.pem"), 0);
	der = get("r.pem", &len);
	assert_int_equal(pki_csr_parse(der, len, false, &c), DV_ERR_BAD_KEY);
	free(der);

	/* 100 SANs are fine, 101 are refused */
	for (i = 100; i <= 101; i++) {
		struct buf b = { 0 };
		size_t j;

		buf_append(&b, "subjectAltName=", 15);
		for (j = 0; j < i; j++) {
			char n[32];
			int m = snprintf(n, sizeof(n), "%sDNS:n%zu.example",
			    j ? "," : "", j);

			buf_append(&b, n, (size_t)m);
		}
		buf_append(&b, "", 1);
		cmd = xasprintf("openssl req -new -newkey ec -pkeyopt "
		    "ec_paramgen_curve:P-256 -nodes -keyout r.key -subj /CN=m "
		    "-addext '%s' -out r.pem", (char *)b.data);
		assert_int_equal(sh("%s", cmd), 0);
		free(cmd);
		buf_free(&b);
		der = get("r.pem", &len);
		if (i == 100) {
			assert_int_equal(pki_csr_parse(der, len, false, &c),
			    DV_OK);
			assert_int_equal(c->sans.n, 100);
			pki_csr_free(c);
		} else
			assert_int_equal(pki_csr_parse(der, len, false, &c),
			    DV_ERR_TOO_LARGE);
		free(der);
	}
}

/* ---- issuance ----------------------------------------------------------- */

static void
test_issue_chain(void **state)
{
	static const enum pki_key_type ca_types[] = { PKI_KEY_P256,
	    PKI_KEY_P384, PKI_KEY_RSA2048, PKI_KEY_ED25519 };
	struct ca root, inter;
	struct pki_csr *csr;
	struct pki_sans sans = { 0 };
	uint8_t *der, *csrpem;
	size_t i, derlen, len;
	X509 *leaf, *back;
	char *out, *s;
	int type;

	for (i = 0; i < sizeof(ca_types) / sizeof(ca_types[0]); i++) {
		ca_make(&root, NULL, ca_types[i], "Test Root CA");
		ca_make(&inter, &root, ca_types[(i + 1) % 4], "Test Inter CA");
		/* the leaf key comes from an openssl CSR */
		assert_int_equal(sh("openssl req -new -newkey %s -nodes "
		    "-keyout leaf.key -subj /CN=x -out leaf.csr",
		    req_newkey[(i + 2) % 4]), 0);
		csrpem = get("leaf.csr", &len);
		assert_int_equal(pki_csr_parse(csrpem, len, false, &csr),
		    DV_OK);
		free(csrpem);
		leaf = leaf_issue(&inter, csr->spki, csr->spkilen,
		    time(NULL) - 60, time(NULL) + 3600, &der, &derlen);
		pki_csr_free(csr);

		put_cert("root.pem", root.cert);
		put_cert("inter.pem", inter.cert);
		put_cert("leaf.pem", leaf);
		assert_int_equal(sh("openssl verify -x509_strict -purpose "
		    "sslclient -CAfile root.pem -untrusted inter.pem "
		    "leaf.pem"), 0);
		assert_int_equal(sh("openssl verify -x509_strict -CAfile "
		    "root.pem inter.pem"), 0);
		/* the DER is the certificate returned */
		put("leaf.der", der, derlen);
		assert_int_equal(sh("openssl x509 -inform DER -in leaf.der "
		    "-outform PEM | cmp - leaf.pem"), 0);
		/* the leaf key matches the certificate */
		assert_int_equal(sh("openssl x509 -in leaf.pem -noout -pubkey "
		    "> a.pub && openssl pkey -in leaf.key -pubout > b.pub && "
		    "cmp a.pub b.pub"), 0);

		assert_int_equal(sh("openssl x509 -in leaf.pem -noout -text"),
		    0);
		out = sh_out();
		assert_non_null(strstr(out, "1.3.6.1.4.1.37476.9000.64.1"));
		assert_non_null(strstr(out, "X509v3 CRL Distribution Points"));
		assert_non_null(strstr(out,
		    "URI:http://ca.example.com/1.0/crl"));
		assert_non_null(strstr(out,
		    "OCSP - URI:http://ca.example.com/ocsp"));
		assert_non_null(strstr(out,
		    "CA Issuers - URI:http://ca.example.com/inter.crt"));
		assert_non_null(strstr(out, "1.3.6.1.4.1.99999.1"));
		assert_non_null(strstr(out, "X509v3 Key Usage: critical"));
		assert_non_null(strstr(out,
		    "X509v3 Basic Constraints: critical"));
		assert_non_null(strstr(out, "CA:FALSE"));
		assert_non_null(strstr(out, "TLS Web Client Authentication"));
		assert_non_null(strstr(out, "IP Address:2001:DB8:0:0:0:0:0:7"));
		assert_non_null(strstr(out, "Version: 3 (0x2)"));
		free(out);
		assert_int_equal(sh("openssl x509 -in root.pem -noout -text"),
		    0);
		out = sh_out();
		assert_non_null(strstr(out, "CA:TRUE, pathlen:1"));
		assert_non_null(strstr(out, "Certificate Sign, CRL Sign"));
		free(out);

		/* getters on the built certificate and on its DER */
		assert_int_equal(pki_cert_from_der(der, derlen, &back), DV_OK);
		assert_non_null(pki_cert_pubkey0(back));
		s = pki_cert_cn(leaf);
		assert_string_equal(s, "dev1.example.com");
		free(s);
		s = pki_cert_subject(back);
		assert_string_equal(s, "CN=dev1.example.com");
		free(s);
		assert_int_equal(pki_cert_sans(back, &sans), DV_OK);
		assert_int_equal(sans.n, 5);
		assert_string_equal(sans.v[2].value, "2001:db8::7");
		pki_sans_clear(&sans);
		assert_int_equal(pki_cert_provisioner(back, &type, &s), DV_OK);
		assert_int_equal(type, 1);
		assert_string_equal(s, "admin@example.com");
		free(s);
		assert_int_equal(pki_cert_provisioner(root.cert, &type, &s),
		    DV_ERR_NOT_FOUND);
		{
			char *a = pki_cert_serial_dec(leaf);
			char *b = pki_cert_serial_dec(back);
			char *fa = pki_cert_fingerprint(leaf);
			char *fb = pki_cert_fingerprint(back);

			assert_string_equal(a, b);
			assert_string_equal(fa, fb);
			assert_int_equal(strlen(fa), 64);
			/* 159-bit serial: up to 48 decimal digits */
			assert_true(strlen(a) >= 30 && strlen(a) <= 48);
			free(a);
			free(b);
			free(fa);
			free(fb);
		}
		assert_true(pki_cert_not_after(back) -
		    pki_cert_not_before(back) == 3660);
		pki_cert_free(back);
		free(der);
		pki_cert_free(leaf);
		ca_free(&inter);
		ca_free(&root);
		/* rule 10: nothing left in the error queue */
		assert_int_equal(ERR_peek_error(), 0);
	}
}

/*
 * pki_cert_build + pki_cert_tbs + a signature made apart + pki_signed_der
 * (the committer's path, ca_presign): the DER verifies under the CA key
 * with OpenSSL, and is byte for byte the X509 after
 * pki_cert_set_signature, for every CA key type.
 */
static void
test_issue_split(void **state)
{
	static const enum pki_key_type ca_types[] = { PKI_KEY_P256,
	    PKI_KEY_P384, PKI_KEY_RSA2048, PKI_KEY_ED25519 };
	struct pki_profile p;
	struct ca root;
	EVP_PKEY *leafkey;
	uint8_t *spki, *tbs, *sig, *der, *der2 = NULL;
	size_t i, spkilen, tbslen, siglen, derlen;
	const unsigned char *q;
	X509 *x, *back;
	int n;

	(void)state;
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &leafkey), DV_OK);
	assert_int_equal(pki_key_spki_der(leafkey, &spki, &spkilen), DV_OK);
	for (i = 0; i < sizeof(ca_types) / sizeof(ca_types[0]); i++) {
		ca_make(&root, NULL, ca_types[i], "Split Root CA");
		memset(&p, 0, sizeof(p));
		p.cn = "split.example.com";
		p.not_before = time(NULL) - 60;
		p.not_after = time(NULL) + 3600;
		p.ku = PKI_KU_DIGITAL_SIGNATURE;
		p.eku = PKI_EKU_CLIENT_AUTH;
		p.path_len = -1;
		assert_int_equal(pki_cert_build(root.cert, &p, spki, spkilen,
		    &x), DV_OK);
		assert_int_equal(pki_cert_tbs(x, root.signer.alg, &tbs,
		    &tbslen), DV_OK);
		assert_int_equal(root.signer.sign(root.signer.arg, tbs, tbslen,
		    &sig, &siglen), DV_OK);
		assert_int_equal(pki_signed_der(root.signer.alg, tbs, tbslen,
		    sig, siglen, &der, &derlen), DV_OK);
		q = der;
		assert_non_null(back = d2i_X509(NULL, &q, (long)derlen));
		assert_int_equal(X509_verify(back, root.key), 1);
		assert_int_equal(pki_cert_set_signature(x, sig, siglen),
		    DV_OK);
		assert_int_equal(n = i2d_X509(x, &der2), (int)derlen);
		assert_memory_equal(der2, der, derlen);
		OPENSSL_free(der2);
		der2 = NULL;
		X509_free(back);
		pki_cert_free(x);
		free(tbs);
		free(sig);
		free(der);
		ca_free(&root);
	}
	free(spki);
	pki_key_free(leafkey);
}

static void
test_issue_bad(void **state)
{
	struct ca root;
	struct pki_profile p;
	struct pki_ext ext = { "2.5.29.19", false, (const uint8_t *)"\x30\x00",
	    2 };
	uint8_t *spki, *der;
	size_t spkilen, derlen;
	X509 *x;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	assert_int_equal(pki_key_spki_der(root.key, &spki, &spkilen), DV_OK);
	memset(&p, 0, sizeof(p));
	p.cn = "x";
	p.not_before = 100;
	p.not_after = 50;
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p, spki,
	    spkilen, &x, &der, &derlen), DV_ERR_LIFETIME);
	assert_null(x);
	assert_null(der);
	p.not_after = 200;
	/* basicConstraints given twice */
	p.ext = &ext;
	p.next = 1;
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p, spki,
	    spkilen, &x, &der, &derlen), DV_ERR_MALFORMED);
	p.next = 0;
	/* empty subject, no SANs */
	p.cn = NULL;
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p, spki,
	    spkilen, &x, &der, &derlen), DV_ERR_MALFORMED);
	/* garbage SPKI */
	p.cn = "x";
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p,
	    (const uint8_t *)"\x30\x03\x02\x01\x00", 5, &x, &der, &derlen),
	    DV_ERR_BAD_KEY);
	/* only the DER wanted */
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p, spki,
	    spkilen, NULL, &der, &derlen), DV_OK);
	free(der);
	free(spki);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_empty_subject(void **state)
{
	struct ca root;
	struct pki_sans sans = { 0 };
	struct pki_profile p;
	EVP_PKEY *k;
	uint8_t *spki;
	size_t spkilen;
	X509 *x;
	char *out;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &k), DV_OK);
	assert_int_equal(pki_key_spki_der(k, &spki, &spkilen), DV_OK);
	assert_int_equal(pki_sans_add(&sans, PKI_SAN_URI, "spiffe://x/y"),
	    DV_OK);
	memset(&p, 0, sizeof(p));
	p.sans = &sans;
	p.not_before = time(NULL) - 10;
	p.not_after = time(NULL) + 100;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = PKI_EKU_CLIENT_AUTH;
	p.path_len = -1;
	assert_int_equal(pki_cert_issue(root.cert, &root.signer, &p, spki,
	    spkilen, &x, NULL, NULL), DV_OK);
	put_cert("root.pem", root.cert);
	put_cert("leaf.pem", x);
	assert_int_equal(sh("openssl verify -x509_strict -purpose sslclient "
	    "-CAfile root.pem leaf.pem"), 0);
	assert_int_equal(sh("openssl x509 -in leaf.pem -noout -text"), 0);
	out = sh_out();
	assert_non_null(strstr(out, "Subject Alternative Name: critical"));
	free(out);
	assert_null(pki_cert_cn(x));
	pki_cert_free(x);
	pki_sans_clear(&sans);
	free(spki);
	pki_key_free(k);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

static void
test_renew(void **state)
{
	struct ca root, inter;
	struct pki_sans a = { 0 }, b = { 0 };
	EVP_PKEY *k, *k2;
	uint8_t *spki, *der;
	size_t spkilen, derlen;
	X509 *leaf, *ren, *rek;
	time_t now = time(NULL);
	char *s1, *s2;
	int type;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	ca_make(&inter, &root, PKI_KEY_P256, "Inter");
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	leaf = leaf_for_key(&inter, k, now - 3600, now + 60);
	assert_int_equal(pki_cert_renew(inter.cert, &inter.signer, leaf,
	    now - 60, now + 7200, NULL, 0, &ren, &der, &derlen), DV_OK);
	put_cert("root.pem", root.cert);
	put_cert("inter.pem", inter.cert);
	put_cert("ren.pem", ren);
	assert_int_equal(sh("openssl verify -x509_strict -purpose sslclient "
	    "-CAfile root.pem -untrusted inter.pem ren.pem"), 0);
	s1 = pki_cert_serial_dec(leaf);
	s2 = pki_cert_serial_dec(ren);
	assert_string_not_equal(s1, s2);
	free(s1);
	free(s2);
	s1 = pki_cert_subject(leaf);
	s2 = pki_cert_subject(ren);
	assert_string_equal(s1, s2);
	free(s1);
	free(s2);
	assert_int_equal(pki_cert_sans(leaf, &a), DV_OK);
	assert_int_equal(pki_cert_sans(ren, &b), DV_OK);
	assert_int_equal(a.n, b.n);
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN_DNS));
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN_IP));
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN_URI));
	assert_int_equal(pki_cert_provisioner(ren, &type, &s1), DV_OK);
	free(s1);
	assert_int_equal(pki_cert_not_after(ren), now + 7200);
	assert_int_equal(X509_get_ext_count(leaf), X509_get_ext_count(ren));
	assert_int_equal(ASN1_OCTET_STRING_cmp(
	    X509_get0_subject_key_id(leaf), X509_get0_subject_key_id(ren)), 0);
	/* the same key */
	put_cert("leaf.pem", leaf);
	assert_int_equal(sh("openssl x509 -in leaf.pem -noout -pubkey > a && "
	    "openssl x509 -in ren.pem -noout -pubkey > b && cmp a b"), 0);
	free(der);

	/* rekey: new key, new SKI, same names */
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &k2), DV_OK);
	assert_int_equal(pki_key_spki_der(k2, &spki, &spkilen), DV_OK);
	assert_int_equal(pki_cert_renew(inter.cert, &inter.signer, leaf,
	    now - 60, now + 7200, spki, spkilen, &rek, NULL, NULL), DV_OK);
	put_cert("rek.pem", rek);
	assert_int_equal(sh("openssl verify -x509_strict -purpose sslclient "
	    "-CAfile root.pem -untrusted inter.pem rek.pem"), 0);
	assert_int_not_equal(ASN1_OCTET_STRING_cmp(
	    X509_get0_subject_key_id(leaf), X509_get0_subject_key_id(rek)), 0);
	assert_int_equal(sh("openssl x509 -in rek.pem -noout -text | grep -c "
	    "ED25519"), 0);
	pki_sans_clear(&a);
	pki_sans_clear(&b);
	free(spki);
	pki_cert_free(rek);
	pki_cert_free(ren);
	pki_cert_free(leaf);
	pki_key_free(k2);
	pki_key_free(k);
	ca_free(&inter);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- trust -------------------------------------------------------------- */

static void
test_trust(void **state)
{
	struct ca root, inter, other;
	struct pki_trust *t, *t2;
	STACK_OF(X509) *chain, *bundle;
	EVP_PKEY *k;
	X509 *leaf, *old;
	time_t now = time(NULL);
	char *pem;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	ca_make(&inter, &root, PKI_KEY_P384, "Inter");
	ca_make(&other, NULL, PKI_KEY_P256, "Root");	/* same name */
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	leaf = leaf_for_key(&inter, k, now - 60, now + 3600);
	old = leaf_for_key(&inter, k, now - 7200, now - 3600);

	t = pki_trust_new();
	assert_int_equal(pki_trust_add_root(t, root.cert), DV_OK);
	assert_int_equal(pki_trust_add_root(t, root.cert), DV_OK);
	/* the chain presented */
	chain = sk_X509_new_null();
	assert_int_equal(pki_trust_verify(t, leaf, chain, 0, 0, true),
	    DV_ERR_UNTRUSTED);
	{
		X509 *i2 = reread(inter.cert);

		sk_X509_push(chain, i2);
	}
	assert_int_equal(pki_trust_verify(t, leaf, chain, 0,
	    PKI_EKU_CLIENT_AUTH, true), DV_OK);
	assert_int_equal(pki_trust_verify(t, leaf, chain, 0,
	    PKI_EKU_OCSP_SIGNING, false), DV_ERR_UNTRUSTED);
	/* expired, then the same at a time it was valid */
	assert_int_equal(pki_trust_verify(t, old, chain, 0, 0, false),
	    DV_ERR_UNTRUSTED);
	assert_int_equal(pki_trust_verify(t, old, chain, now - 5400, 0,
	    false), DV_OK);
	/* the intermediate known to the trust instead */
	assert_int_equal(pki_trust_add_intermediate(t, inter.cert), DV_OK);
	assert_int_equal(pki_trust_verify(t, leaf, NULL, 0, 0, true), DV_OK);

	/* the wrong root */
	t2 = pki_trust_new();
	assert_int_equal(pki_cert_to_pem(other.cert, &pem), DV_OK);
	assert_int_equal(pki_trust_add_roots_pem(t2, pem, strlen(pem)), DV_OK);
	free(pem);
	assert_int_equal(pki_trust_verify(t2, leaf, chain, 0, 0, false),
	    DV_ERR_UNTRUSTED);
	/* bundle reading */
	{
		char *a, *b, *ab;

		assert_int_equal(pki_cert_to_pem(root.cert, &a), DV_OK);
		assert_int_equal(pki_cert_to_pem(inter.cert, &b), DV_OK);
		ab = xasprintf("junk before\n%s%s", a, b);
		assert_int_equal(pki_certs_from_pem(ab, strlen(ab), 8,
		    &bundle), DV_OK);
		assert_int_equal(sk_X509_num(bundle), 2);
		pki_certs_free(bundle);
		assert_int_equal(pki_certs_from_pem(ab, strlen(ab), 1,
		    &bundle), DV_ERR_TOO_LARGE);
		assert_null(bundle);
		assert_int_equal(pki_certs_from_pem("nothing", 7, 1,
		    &bundle), DV_ERR_MALFORMED);
		free(a);
		free(b);
		free(ab);
	}
	pki_trust_free(t2);
	pki_trust_free(t);
	pki_certs_free(chain);
	pki_cert_free(old);
	pki_cert_free(leaf);
	pki_key_free(k);
	ca_free(&other);
	ca_free(&inter);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- CRL ---------------------------------------------------------------- */

static void
test_crl(void **state)
{
	struct ca root, inter;
	struct pki_revoked r[2];
	uint8_t *der;
	size_t derlen;
	time_t now = time(NULL);
	char *out, *pem;
	size_t i;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	for (i = 0; i < 2; i++) {
		ca_make(&inter, &root, i == 0 ? PKI_KEY_P384 :
		    PKI_KEY_ED25519, "Inter");
		r[0].serial_dec = "1234567890123456789012345678901234567890";
		r[0].revoked_at = now - 100;
		r[0].reason = 1;	/* keyCompromise */
		r[1].serial_dec = "255";
		r[1].revoked_at = now - 50;
		r[1].reason = 0;
		assert_int_equal(pki_crl_build(inter.cert, &inter.signer, r, 2,
		    42, now, now + 86400, "http://ca.example.com/1.0/crl",
		    &der, &derlen), DV_OK);
		put("crl.der", der, derlen);
		put_cert("inter.pem", inter.cert);
		assert_int_equal(sh("openssl crl -inform DER -in crl.der "
		    "-CAfile inter.pem -noout -text"), 0);
		out = sh_out();
		assert_non_null(strstr(out, "verify OK"));
		assert_non_null(strstr(out, "Version 2 (0x1)"));
		/* 1234567890123456789012345678901234567890 in hex */
		assert_non_null(strstr(out,
		    "03A0C92075C0DBF3B8ACBC5F96CE3F0AD2"));
		assert_non_null(strstr(out, "Serial Number: FF"));
		assert_non_null(strstr(out, "Key Compromise"));
		assert_non_null(strstr(out, "X509v3 CRL Number"));
		assert_non_null(strstr(out, "42"));
		assert_non_null(strstr(out,
		    "X509v3 Issuing Distribution Point: critical"));
		assert_non_null(strstr(out,
		    "URI:http://ca.example.com/1.0/crl"));
		assert_non_null(strstr(out, "X509v3 Authority Key Identifier"));
		free(out);
		assert_int_equal(pki_crl_der_to_pem(der, derlen, &pem), DV_OK);
		put("crl.pem", pem, strlen(pem));
		assert_int_equal(sh("openssl crl -in crl.pem -CAfile inter.pem "
		    "-noout"), 0);
		free(pem);
		free(der);
		ca_free(&inter);
	}
	/* empty CRL, no IDP */
	ca_make(&inter, &root, PKI_KEY_RSA2048, "Inter");
	assert_int_equal(pki_crl_build(inter.cert, &inter.signer, NULL, 0, 1,
	    now, now + 60, NULL, &der, &derlen), DV_OK);
	put("crl.der", der, derlen);
	put_cert("inter.pem", inter.cert);
	assert_int_equal(sh("openssl crl -inform DER -in crl.der -CAfile "
	    "inter.pem -noout -text"), 0);
	out = sh_out();
	assert_non_null(strstr(out, "No Revoked Certificates"));
	free(out);
	free(der);
	r[0].serial_dec = "12x";
	assert_int_equal(pki_crl_build(inter.cert, &inter.signer, r, 1, 1,
	    now, now + 60, NULL, &der, &derlen), DV_ERR_MALFORMED);
	ca_free(&inter);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- OCSP --------------------------------------------------------------- */

static void
test_ocsp(void **state)
{
	struct ca root, inter;
	struct pki_ocsp_req *req;
	struct pki_ocsp_answer ans;
	EVP_PKEY *k;
	X509 *leaf;
	uint8_t *der;
	size_t len;
	time_t now = time(NULL);
	char *out, *serial;

	ca_make(&root, NULL, PKI_KEY_P256, "Root");
	ca_make(&inter, &root, PKI_KEY_P256, "Inter");
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	leaf = leaf_for_key(&inter, k, now - 60, now + 3600);
	put_cert("root.pem", root.cert);
	put_cert("inter.pem", inter.cert);
	put_cert("leaf.pem", leaf);

	assert_int_equal(sh("openssl ocsp -issuer inter.pem -cert leaf.pem "
	    "-reqout req.der"), 0);
	der = get("req.der", &len);
	assert_int_equal(pki_ocsp_req_parse(der, len, &req), DV_OK);
	free(der);
	assert_int_equal(req->nids, 1);
	assert_true(req->has_nonce);
	assert_int_equal(req->ids[0].hash_nid, NID_sha1);
	serial = pki_cert_serial_dec(leaf);
	assert_string_equal(req->ids[0].serial_dec, serial);
	free(serial);
	assert_true(pki_ocsp_id_matches(&req->ids[0], inter.cert));
	assert_false(pki_ocsp_id_matches(&req->ids[0], root.cert));

	ans.status = PKI_OCSP_REVOKED;
	ans.revoked_at = now - 30;
	ans.reason = 1;
	assert_int_equal(pki_ocsp_resp_build(inter.cert, &inter.signer, req,
	    &ans, now, 3600, &der, &len), DV_OK);
	put("resp.der", der, len);
	free(der);
	/* -reqin: openssl checks the nonce against the request */
	assert_int_equal(sh("openssl ocsp -reqin req.der -respin resp.der "
	    "-CAfile root.pem -verify_other inter.pem -resp_text"), 0);
	out = sh_out();
	assert_non_null(strstr(out, "Response verify OK"));
	assert_non_null(strstr(out, "Cert Status: revoked"));
	assert_non_null(strstr(out, "Reason: keyCompromise"));
	assert_non_null(strstr(out, "Responder Id: "));
	assert_non_null(strstr(out, "OCSP Nonce"));
	assert_null(strstr(out, "WARNING"));
	free(out);
	/* -cert: openssl matches the CertID and prints the status */
	assert_int_equal(sh("openssl ocsp -no_nonce -issuer inter.pem -cert "
	    "leaf.pem -respin resp.der -CAfile root.pem -verify_other "
	    "inter.pem"), 0);
	out = sh_out();
	assert_non_null(strstr(out, "Response verify OK"));
	assert_non_null(strstr(out, "leaf.pem: revoked"));
	free(out);

	ans.status = PKI_OCSP_GOOD;
	assert_int_equal(pki_ocsp_resp_build(inter.cert, &inter.signer, req,
	    &ans, now, 3600, &der, &len), DV_OK);
	put("resp.der", der, len);
	free(der);
	assert_int_equal(sh("openssl ocsp -no_nonce -respin resp.der "
	    "-CAfile root.pem -verify_other inter.pem -issuer inter.pem "
	    "-cert leaf.pem"), 0);
	out = sh_out();
	assert_non_null(strstr(out, "leaf.pem: good"));
	free(out);
	pki_ocsp_req_free(req);

	/* SHA-256 CertID, no nonce */
	assert_int_equal(sh("openssl ocsp -sha256 -no_nonce -issuer inter.pem "
	    "-cert leaf.pem -reqout req.der"), 0);
	der = get("req.der", &len);
	assert_int_equal(pki_ocsp_req_parse(der, len, &req), DV_OK);
	assert_false(req->has_nonce);
	assert_int_equal(req->ids[0].hash_nid, NID_sha256);
	assert_true(pki_ocsp_id_matches(&req->ids[0], inter.cert));
	pki_ocsp_req_free(req);
	/* truncated requests */
	for (size_t i = 0; i < len; i++) {
		assert_int_not_equal(pki_ocsp_req_parse(der, i, &req), DV_OK);
		assert_null(req);
	}
	free(der);

	/* an error response */
	assert_int_equal(pki_ocsp_resp_error(1, &der, &len), DV_OK);
	{
		const unsigned char *p = der;
		OCSP_RESPONSE *r = d2i_OCSP_RESPONSE(NULL, &p, (long)len);

		assert_non_null(r);
		assert_int_equal(OCSP_response_status(r), 1);
		OCSP_RESPONSE_free(r);
	}
	free(der);
	assert_int_equal(pki_ocsp_resp_error(0, &der, &len), DV_ERR_INTERNAL);

	pki_cert_free(leaf);
	pki_key_free(k);
	ca_free(&inter);
	ca_free(&root);
	assert_int_equal(ERR_peek_error(), 0);
}

/* ---- names and encodings ----------------------------------------------- */

static void
test_verify_raw(void **state)
{
	static const uint8_t msg[] = "to be signed";
	EVP_PKEY *k = NULL, *e = NULL, *pub = NULL;
	uint8_t *sig = NULL, x[32], d[32], x2[32];
	size_t siglen;

	(void)state;
	assert_int_equal(pki_key_generate(PKI_KEY_P256, &k), DV_OK);
	assert_int_equal(pki_sign_data(k, PKI_SIG_ECDSA_SHA256, msg,
	    sizeof(msg), &sig, &siglen), DV_OK);
	assert_int_equal(pki_verify_data(k, PKI_SIG_ECDSA_SHA256, msg,
	    sizeof(msg), sig, siglen), DV_OK);
	assert_int_equal(pki_verify_data(k, PKI_SIG_ECDSA_SHA256, msg,
	    sizeof(msg) - 1, sig, siglen), DV_ERR_BAD_TOKEN);
	assert_int_equal(pki_verify_data(k, PKI_SIG_RSA_SHA256, msg,
	    sizeof(msg), sig, siglen), DV_ERR_BAD_KEY);
	free(sig);

	/* Ed25519 through its raw bytes, as JWKs carry them */
	assert_int_equal(pki_key_generate(PKI_KEY_ED25519, &e), DV_OK);
	assert_int_equal(pki_key_ed25519_to_raw(e, x, d), DV_OK);
	assert_int_equal(pki_key_ed25519_from_raw(x, NULL, &pub), DV_OK);
	assert_int_equal(pki_key_ed25519_to_raw(pub, x2, NULL), DV_OK);
	assert_memory_equal(x, x2, 32);
	assert_int_equal(pki_sign_data(e, PKI_SIG_ED25519, msg, sizeof(msg),
	    &sig, &siglen), DV_OK);
	assert_int_equal(pki_verify_data(pub, PKI_SIG_ED25519, msg,
	    sizeof(msg), sig, siglen), DV_OK);
	sig[0] ^= 1;
	assert_int_equal(pki_verify_data(pub, PKI_SIG_ED25519, msg,
	    sizeof(msg), sig, siglen), DV_ERR_BAD_TOKEN);
	free(sig);
	/* a JWK whose x does not belong to d is refused */
	x[0] ^= 1;
	pki_key_free(pub);
	pub = NULL;
	assert_int_equal(pki_key_ed25519_from_raw(x, d, &pub),
	    DV_ERR_BAD_KEY);
	assert_int_equal(pki_key_ed25519_to_raw(k, x, NULL), DV_ERR_BAD_KEY);
	explicit_bzero(d, sizeof(d));
	pki_key_free(pub);
	pki_key_free(e);
	pki_key_free(k);
}

/* pki_ek_spki_urn (template, no key decode) agrees with the full path
 * (decode + canonical re-encode) on the go-tpm KAT key, on generated RSA
 * and EC keys, and on a compressed EC point (the fallback). */
static void
test_ek_spki_urn(void **state)
{
	static const char gotpm[] =
	    "MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEArIqmuAvuIcakIEPd2hZl"
	    "avob21ehQ7zaHduJQNbNuKVSc1HTlvw9DkWN03b0SktcRIfsjw/omqPl60RhCx0j"
	    "qxsYnf5Gk4jhfCnUeQVicAqHnUGrKjMkLIGTZVOpyqBEXHsdhugw6M5HVIKyfwNO"
	    "KhvLZKRH8JkvtElVhLQ6E2+H83XoSpkt9oCnGPyN2Z5qRP+fhQiRylMCD8Rz8ABn"
	    "YVqGBBrG+2cBt/0uFLjxHx2mm/4sI/1scG5xrcrDLva9WZB40MehW5VlS6Fwqq05"
	    "dKtLGpk7ludjH38m2zhM5/UdKZ34skJaS/Aiyj+P5AT1BpJL2ZtjCbBdnMDUSbRF"
	    "1QIDAQAB";
	static const enum pki_key_type types[] = { PKI_KEY_RSA2048,
	    PKI_KEY_P256, PKI_KEY_P384 };
	uint8_t *der = NULL, garbage[] = { 0x30, 0x03, 0x02, 0x01, 0x00 };
	size_t len, i;
	char *a = NULL, *b = NULL;

	(void)state;
	assert_int_equal(pki_b64_decode(gotpm, strlen(gotpm), &der, &len),
	    DV_OK);
	assert_int_equal(pki_ek_spki_urn(der, len, &a), DV_OK);
	assert_string_equal(a,
	    "urn:ek:sha256:b3A5sfcHCEIsggeqR2BUSWfJSbNT++q/4ghmBNZt7ew=");
	free(a);
	free(der);
	for (i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		EVP_PKEY *k = NULL;

		assert_int_equal(pki_key_generate(types[i], &k), DV_OK);
		assert_int_equal(pki_key_spki_der(k, &der, &len), DV_OK);
		assert_int_equal(pki_ek_spki_urn(der, len, &a), DV_OK);
		assert_int_equal(pki_ek_pub_urn(der, len, true, &b), DV_OK);
		assert_string_equal(a, b);
		free(a);
		free(b);
		if (types[i] == PKI_KEY_P256) {
			/* the same key with a compressed point */
			EVP_PKEY_set_utf8_string_param(k, "point-format",
			    "compressed");
			free(der);
			assert_int_equal(pki_key_spki_der(k, &der, &len),
			    DV_OK);
			assert_int_equal(pki_ek_spki_urn(der, len, &a), DV_OK);
			assert_int_equal(pki_ek_pub_urn(der, len, true, &b),
			    DV_OK);
			assert_string_equal(a, b);
			free(a);
			free(b);
		}
		free(der);
		pki_key_free(k);
	}
	assert_int_not_equal(pki_ek_spki_urn(garbage, sizeof(garbage), &a),
	    DV_OK);
	assert_null(a);
}

/*
 * rawkey.c against OpenSSL's own decoder and encoder: for RSA keys (one
 * with a modulus whose top byte is small, so leading zeros are trimmed)
 * and each NIST curve, the parts read from i2d_PUBKEY's DER are those of
 * the EVP_PKEY accessors, and the SPKI written from them is i2d_PUBKEY's,
 * byte for byte.  A compressed point takes the decoder path and reads the
 * same; a point off the curve, a truncated SPKI and an Ed25519 key are
 * refused.
 */
static void
rawkey_check(EVP_PKEY *k)
{
	struct pki_raw_key r;
	uint8_t *spki = NULL, *mine = NULL, *n = NULL;
	uint8_t x[DV_TPM_MAX_ECC_BYTES], y[DV_TPM_MAX_ECC_BYTES];
	const char *curve = NULL;
	size_t len = 0, mlen = 0, nlen = 0, flen = 0;
	uint64_t e = 0;

	assert_int_equal(pki_key_spki_der(k, &spki, &len), DV_OK);
	assert_int_equal(pki_spki_raw_get(spki, len, &r), DV_OK);
	if (pki_key_rsa_get(k, &n, &nlen, &e) == DV_OK) {
		assert_true(r.rsa);
		assert_int_equal(r.nlen, nlen);
		assert_memory_equal(r.n, n, nlen);
		assert_int_equal(r.e, e);
		assert_int_equal(pki_spki_from_rsa(r.n, r.nlen, r.e, &mine,
		    &mlen), DV_OK);
	} else {
		assert_int_equal(pki_key_ec_get(k, &curve, x, y, &flen),
		    DV_OK);
		assert_false(r.rsa);
		assert_string_equal(r.curve, curve);
		assert_int_equal(r.coordlen, flen);
		assert_memory_equal(r.x, x, flen);
		assert_memory_equal(r.y, y, flen);
		assert_int_equal(pki_spki_from_ec(r.curve, r.x, r.coordlen,
		    r.y, r.coordlen, &mine, &mlen), DV_OK);
	}
	assert_int_equal(mlen, len);
	assert_memory_equal(mine, spki, len);
	/* a truncated SPKI is refused on both paths */
	pki_raw_key_clear(&r);
	assert_int_equal(pki_spki_raw_get(spki, len - 1, &r), DV_ERR_BAD_KEY);
	pki_raw_key_clear(&r);
	free(n);
	free(mine);
	free(spki);
}

static void
test_rawkey(void **state)
{
	static const char *const curves[] = { "P-256", "P-384", "P-521" };
	static const size_t flens[] = { 32, 48, 66 };
	/* P-256 SPKI with the compressed generator (02 || Gx) */
	static const uint8_t comp[] = {
		0x30, 0x39, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce,
		0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d,
		0x03, 0x01, 0x07, 0x03, 0x22, 0x00, 0x03, 0x6b, 0x17, 0xd1,
		0xf2, 0xe1, 0x2c, 0x42, 0x47, 0xf8, 0xbc, 0xe6, 0xe5, 0x63,
		0xa4, 0x40, 0xf2, 0x77, 0x03, 0x7d, 0x81, 0x2d, 0xeb, 0x33,
		0xa0, 0xf4, 0xa1, 0x39, 0x45, 0xd8, 0x98, 0xc2, 0x96 };
	struct pki_raw_key r;
	EVP_PKEY *k;
	uint8_t *spki = NULL, *der = NULL;
	size_t len = 0, dlen = 0, flen, i;
	int tries;

	(void)state;
	for (i = 0; i < 3; i++) {
		assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "EC",
		    curves[i]));
		rawkey_check(k);
		/* the same point with y + 1 is off the curve */
		assert_int_equal(pki_key_spki_der(k, &spki, &len), DV_OK);
		spki[len - 1] ^= 1;
		assert_int_equal(pki_spki_raw_get(spki, len, &r),
		    DV_ERR_BAD_KEY);
		flen = flens[i];
		assert_int_equal(pki_spki_from_ec(curves[i], spki + len -
		    2 * flen, flen, spki + len - flen, flen, &der, &dlen),
		    DV_ERR_BAD_KEY);
		assert_null(der);
		pki_raw_key_clear(&r);
		free(spki);
		EVP_PKEY_free(k);
	}
	/* RSA: until a modulus whose DER INTEGER needs no 0x00 pad is seen
	 * too, both shapes are covered (2048-bit keys always have the top
	 * bit set: a 2047-bit modulus does not) */
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
	    (size_t)2048));
	rawkey_check(k);
	EVP_PKEY_free(k);
	for (tries = 0; tries < 2; tries++) {
		assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "RSA",
		    (size_t)(tries == 0 ? 2047 : 1031)));
		rawkey_check(k);
		EVP_PKEY_free(k);
	}
	/* compressed: decoded by OpenSSL, read as the uncompressed point */
	assert_int_equal(pki_spki_raw_get(comp, sizeof(comp), &r), DV_OK);
	assert_false(r.rsa);
	assert_string_equal(r.curve, "P-256");
	assert_int_equal(r.coordlen, 32);
	assert_memory_equal(r.x, comp + 27, 32);
	pki_raw_key_clear(&r);
	/* not RSA or EC */
	assert_non_null(k = EVP_PKEY_Q_keygen(NULL, NULL, "ED25519"));
	assert_int_equal(pki_key_spki_der(k, &spki, &len), DV_OK);
	assert_int_equal(pki_spki_raw_get(spki, len, &r), DV_ERR_BAD_KEY);
	pki_raw_key_clear(&r);
	free(spki);
	EVP_PKEY_free(k);
	/* degenerate inputs of the encoders */
	assert_int_equal(pki_spki_from_rsa((const uint8_t *)"\0", 1, 65537,
	    &der, &dlen), DV_ERR_BAD_KEY);
	assert_int_equal(pki_spki_from_rsa((const uint8_t *)"\x01", 1, 0,
	    &der, &dlen), DV_ERR_BAD_KEY);
	assert_int_equal(pki_spki_from_ec("P-192", comp + 27, 32, comp + 27,
	    32, &der, &dlen), DV_ERR_BAD_KEY);
	assert_null(der);
}

static void
test_sans(void **state)
{
	struct pki_sans a = { 0 }, b = { 0 };
	json_t *j;
	char *s;
	int i;

	assert_int_equal(pki_sans_add_auto(&a, "Host.Example.com"), DV_OK);
	assert_int_equal(pki_sans_add_auto(&a, "10.0.0.1"), DV_OK);
	assert_int_equal(pki_sans_add_auto(&a, "2001:DB8::1"), DV_OK);
	assert_int_equal(pki_sans_add_auto(&a, "me@example.com"), DV_OK);
	assert_int_equal(pki_sans_add_auto(&a, "https://example.com/x"),
	    DV_OK);
	assert_int_equal(a.v[0].type, PKI_SAN_DNS);
	assert_int_equal(a.v[1].type, PKI_SAN_IP);
	assert_int_equal(a.v[2].type, PKI_SAN_IP);
	assert_string_equal(a.v[2].value, "2001:db8::1");
	assert_int_equal(a.v[3].type, PKI_SAN_EMAIL);
	assert_int_equal(a.v[4].type, PKI_SAN_URI);
	/* step's SplitSANs order: a URI with a scheme before an email */
	assert_int_equal(pki_sans_add_auto(&b, "https://user@host.example/"),
	    DV_OK);
	assert_int_equal(pki_sans_add_auto(&b, "urn:ek:sha256:AAAA"), DV_OK);
	assert_int_equal(pki_sans_add_auto(&b, "user@host.example"), DV_OK);
	assert_int_equal(b.v[0].type, PKI_SAN_URI);
	assert_int_equal(b.v[1].type, PKI_SAN_URI);
	assert_int_equal(b.v[2].type, PKI_SAN_EMAIL);
	pki_sans_clear(&b);

	/* order, DNS case and IP spelling do not matter; duplicates either */
	assert_int_equal(pki_sans_add(&b, PKI_SAN_IP, "2001:db8:0::1"), DV_OK);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "host.example.COM"),
	    DV_OK);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_IP, "10.0.0.1"), DV_OK);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "HOST.example.com"),
	    DV_OK);
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN_DNS));
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN_IP));
	assert_false(pki_sans_equal_type(&a, &b, PKI_SAN_EMAIL));
	assert_false(pki_sans_equal_type(&a, &b, PKI_SAN_URI));
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "other.example.com"),
	    DV_OK);
	assert_false(pki_sans_equal_type(&a, &b, PKI_SAN_DNS));
	assert_int_equal(pki_sans_count(&b, PKI_SAN_DNS), 3);
	assert_int_equal(pki_sans_count(&b, PKI_SAN_URI), 0);

	/* emails and URIs are compared exactly */
	pki_sans_clear(&b);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_EMAIL, "Me@example.com"),
	    DV_OK);
	assert_false(pki_sans_equal_type(&a, &b, PKI_SAN_EMAIL));
	pki_sans_clear(&b);
	assert_true(pki_sans_equal_type(&a, &b, PKI_SAN__MAX));

	/* invalid names */
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "a..b"),
	    DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "a b"),
	    DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, ""), DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_IP, "10.0.0.256"),
	    DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_EMAIL, "nobody"),
	    DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_URI, "no scheme"),
	    DV_ERR_MALFORMED);
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "*.example.com"),
	    DV_OK);
	assert_int_equal(b.n, 1);
	pki_sans_clear(&b);
	for (i = 0; i < DV_MAX_SANS; i++) {
		s = xasprintf("h%d.example", i);
		assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, s), DV_OK);
		free(s);
	}
	assert_int_equal(pki_sans_add(&b, PKI_SAN_DNS, "one.more"),
	    DV_ERR_TOO_LARGE);
	pki_sans_clear(&b);

	j = pki_sans_to_json(&a);
	s = json_dumps(j, JSON_COMPACT);
	assert_string_equal(s, "[{\"type\":\"dns\",\"value\":"
	    "\"Host.Example.com\"},{\"type\":\"ip\",\"value\":\"10.0.0.1\"},"
	    "{\"type\":\"ip\",\"value\":\"2001:db8::1\"},{\"type\":\"email\","
	    "\"value\":\"me@example.com\"},{\"type\":\"uri\",\"value\":"
	    "\"https://example.com/x\"}]");
	free(s);
	json_decref(j);
	pki_sans_clear(&a);
	pki_sans_clear(NULL);
}

static void
test_serial(void **state)
{
	char *d;

	assert_int_equal(pki_serial_normalise("123", &d), DV_OK);
	assert_string_equal(d, "123");
	free(d);
	assert_int_equal(pki_serial_normalise("0x7b", &d), DV_OK);
	assert_string_equal(d, "123");
	free(d);
	assert_int_equal(pki_serial_normalise("0X7B", &d), DV_OK);
	assert_string_equal(d, "123");
	free(d);
	assert_int_equal(pki_serial_normalise("000123", &d), DV_OK);
	assert_string_equal(d, "123");
	free(d);
	assert_int_equal(pki_serial_normalise(
	    "0x7fffffffffffffffffffffffffffffffffffffff", &d), DV_OK);
	assert_string_equal(d,
	    "730750818665451459101842416358141509827966271487");
	free(d);
	assert_int_equal(pki_serial_normalise("", &d), DV_ERR_MALFORMED);
	assert_null(d);
	assert_int_equal(pki_serial_normalise("0x", &d), DV_ERR_MALFORMED);
	assert_int_equal(pki_serial_normalise("12a", &d), DV_ERR_MALFORMED);
	assert_int_equal(pki_serial_normalise("-5", &d), DV_ERR_MALFORMED);
	assert_int_equal(pki_serial_normalise(" 5", &d), DV_ERR_MALFORMED);
	assert_int_equal(pki_serial_normalise("0xg", &d), DV_ERR_MALFORMED);
}

static void
test_b64(void **state)
{
	static const struct {
		const char	*plain, *b64;
	} v[] = {	/* RFC 4648 §10 */
		{ "", "" }, { "f", "Zg==" }, { "fo", "Zm8=" },
		{ "foo", "Zm9v" }, { "foob", "Zm9vYg==" },
		{ "fooba", "Zm9vYmE=" }, { "foobar", "Zm9vYmFy" },
	};
	uint8_t *d, bin[256];
	size_t i, n;
	char *s;

	for (i = 0; i < sizeof(v) / sizeof(v[0]); i++) {
		assert_int_equal(pki_b64_encode((const uint8_t *)v[i].plain,
		    strlen(v[i].plain), &s), DV_OK);
		assert_string_equal(s, v[i].b64);
		free(s);
		assert_int_equal(pki_b64_decode(v[i].b64, strlen(v[i].b64), &d,
		    &n), DV_OK);
		assert_int_equal(n, strlen(v[i].plain));
		assert_memory_equal(d, v[i].plain, n);
		free(d);
	}
	for (i = 0; i < sizeof(bin); i++)
		bin[i] = (uint8_t)(i * 7);
	assert_int_equal(pki_b64_encode(bin, sizeof(bin), &s), DV_OK);
	assert_int_equal(pki_b64_decode(s, strlen(s), &d, &n), DV_OK);
	assert_int_equal(n, sizeof(bin));
	assert_memory_equal(d, bin, n);
	free(d);
	free(s);
	/* unpadded and folded input */
	assert_int_equal(pki_b64_decode("Zm9v\nYg", 7, &d, &n), DV_OK);
	assert_int_equal(n, 4);
	assert_memory_equal(d, "foob", 4);
	free(d);
	assert_int_equal(pki_b64_decode("Zm9v-_", 6, &d, &n),
	    DV_ERR_MALFORMED);
	assert_null(d);
	assert_int_equal(pki_b64_decode("Zg=a", 4, &d, &n), DV_ERR_MALFORMED);
	assert_int_equal(pki_b64_decode("Z", 1, &d, &n), DV_ERR_MALFORMED);
	assert_int_equal(pki_b64_decode("Zg===", 5, &d, &n), DV_ERR_MALFORMED);
}

static void
test_sha256_random(void **state)
{
	uint8_t md[32], a[32], b[32];
	char *h;

	pki_sha256("abc", 3, md);
	h = hex_encode(md, 32);
	assert_string_equal(h, "ba7816bf8f01cfea414140de5dae2223"
	    "b00361a396177a9cb410ff61f20015ad");
	free(h);
	assert_int_equal(pki_random(a, sizeof(a)), DV_OK);
	assert_int_equal(pki_random(b, sizeof(b)), DV_OK);
	assert_memory_not_equal(a, b, sizeof(a));
}

static void
test_cert_read(void **state)
{
	struct ca root;
	X509 *x;
	uint8_t *der;
	size_t len;
	char *pem;

	ca_make(&root, NULL, PKI_KEY_P256, "Read Root");
	assert_int_equal(pki_cert_to_pem(root.cert, &pem), DV_OK);
	assert_int_equal(pki_cert_from_pem(pem, strlen(pem), &x), DV_OK);
	assert_non_null(pki_cert_pubkey0(x));
	assert_null(pki_cert_pubkey0(root.cert));	/* as documented */
	assert_int_equal(pki_cert_to_der(x, &der, &len), DV_OK);
	pki_cert_free(x);
	assert_int_equal(pki_cert_from_der(der, len, &x), DV_OK);
	assert_ptr_equal(pki_cert_up_ref(x), x);
	pki_cert_free(x);
	pki_cert_free(x);
	assert_int_equal(pki_cert_from_der(der, len - 1, &x), DV_ERR_MALFORMED);
	assert_null(x);
	assert_int_equal(pki_cert_from_pem("junk", 4, &x), DV_ERR_MALFORMED);
	free(der);
	free(pem);
	ca_free(&root);
}

/* ---- tls-alpn-01 (RFC 8737) ---------------------------------------------- */

/* A self-signed certificate with the SAN and extra extension (openssl
 * -addext syntax; ext may be NULL). */
static X509 *
alpn_cert(const char *san, const char *ext)
{
	uint8_t *der;
	size_t len;
	X509 *x;

	assert_int_equal(sh("openssl req -x509 -newkey ec -pkeyopt "
	    "ec_paramgen_curve:P-256 -nodes -keyout alpn.key -outform DER "
	    "-out alpn.der -days 1 -subj /CN=alpn -addext "
	    "'subjectAltName=%s' %s%s%s", san, ext != NULL ? "-addext '" :
	    "", ext != NULL ? ext : "", ext != NULL ? "'" : ""), 0);
	der = get("alpn.der", &len);
	assert_int_equal(pki_cert_from_der(der, len, &x), DV_OK);
	free(der);
	return x;
}

static void
test_tlsalpn_cert(void **state)
{
	static const struct {
		const char	*ident;
		const char	*san;
		const char	*ext;	/* %s: the digest's hex */
		enum dv_rc	 rc;
	} cases[] = {
		{ "a.test", "DNS:a.test",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s", DV_OK },
		{ "A.Test", "DNS:a.test",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s", DV_OK },
		{ "127.0.0.1", "IP:127.0.0.1",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s", DV_OK },
		{ "a.test", "DNS:a.test",
		    "1.3.6.1.5.5.7.1.31=DER:0420%s", DV_ERR_MALFORMED },
		{ "a.test", "DNS:a.test", NULL, DV_ERR_MALFORMED },
		/* not an OCTET STRING: a UTF8String of the same bytes */
		{ "a.test", "DNS:a.test",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0c20%s", DV_ERR_MALFORMED },
		{ "a.test", "DNS:a.test,DNS:b.test",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s",
		    DV_ERR_SANS_MISMATCH },
		{ "a.test", "DNS:b.test",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s",
		    DV_ERR_SANS_MISMATCH },
		{ "127.0.0.1", "DNS:127.0.0.1",
		    "1.3.6.1.5.5.7.1.31=critical,DER:0420%s",
		    DV_ERR_SANS_MISMATCH },
	};
	uint8_t md[32], other[32];
	char hex[65], *ext;
	size_t i, k;
	X509 *x;

	(void)state;
	pki_sha256("token.thumb", 11, md);
	for (k = 0; k < sizeof(md); k++)
		snprintf(hex + 2 * k, 3, "%02x", md[k]);
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		ext = cases[i].ext != NULL ? xasprintf(cases[i].ext, hex) :
		    NULL;
		x = alpn_cert(cases[i].san, ext);
		assert_int_equal(pki_tlsalpn_cert_check(x, cases[i].ident, md),
		    cases[i].rc);
		pki_cert_free(x);
		free(ext);
	}
	/* the right shape with another digest */
	ext = xasprintf("1.3.6.1.5.5.7.1.31=critical,DER:0420%s", hex);
	x = alpn_cert("DNS:a.test", ext);
	pki_sha256("token.other", 11, other);
	assert_int_equal(pki_tlsalpn_cert_check(x, "a.test", other),
	    DV_ERR_UNAUTHORIZED);
	pki_cert_free(x);
	free(ext);
}

static int
setup(void **state)
{
	char *p;
	int fd;

	snprintf(tmpdir, sizeof(tmpdir), "/tmp/test_pki.XXXXXX");
	if (mkdtemp(tmpdir) == NULL)
		return -1;
	p = tpath("log");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	free(p);
	log_init(LOG_DEBUG, fd);
	return pki_init() == DV_OK ? 0 : -1;
}

static int
teardown(void **state)
{
	if (getenv("KEEP_TMP") == NULL)
		sh("rm -rf %s", tmpdir);
	return 0;
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_key_types),
		cmocka_unit_test(test_key_pem),
		cmocka_unit_test(test_csr_make_parse),
		cmocka_unit_test(test_csr_openssl),
		cmocka_unit_test(test_csr_bad),
		cmocka_unit_test(test_csr_off_curve),
		cmocka_unit_test(test_issue_chain),
		cmocka_unit_test(test_issue_split),
		cmocka_unit_test(test_issue_bad),
		cmocka_unit_test(test_empty_subject),
		cmocka_unit_test(test_renew),
		cmocka_unit_test(test_trust),
		cmocka_unit_test(test_crl),
		cmocka_unit_test(test_ocsp),
		cmocka_unit_test(test_sans),
		cmocka_unit_test(test_ek_spki_urn),
		cmocka_unit_test(test_rawkey),
		cmocka_unit_test(test_verify_raw),
		cmocka_unit_test(test_serial),
		cmocka_unit_test(test_b64),
		cmocka_unit_test(test_sha256_random),
		cmocka_unit_test(test_cert_read),
		cmocka_unit_test(test_tlsalpn_cert),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
