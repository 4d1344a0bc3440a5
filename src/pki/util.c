/*
 * util.c - initialisation, error logging, digests, randomness, base64 and
 * serial numbers.
 */
#include <ctype.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <openssl/bn.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/rand.h>

#include "asn1.h"
#include "pki_int.h"

/* Longest serial text accepted: 20 octets are 49 decimal digits. */
#define SERIAL_TEXT_MAX	64
/* Bytes of OpenSSL error text kept in one log entry. */
#define ERR_TEXT_MAX	1024

static pthread_once_t	 init_once = PTHREAD_ONCE_INIT;
static enum dv_rc	 init_rc = DV_ERR_INTERNAL;
static EVP_MD		*mds[PKI_MD__MAX];
/* The NIST curves, built once: EC_GROUP_new_by_curve_name rebuilds a
 * group from its tables each time (Montgomery context included), and a
 * const group is safe to share between threads, as an EC_KEY's is. */
static const int	 group_nids[] = { NID_X9_62_prime256v1, NID_secp384r1,
			    NID_secp521r1 };
static EC_GROUP		*groups[sizeof(group_nids) / sizeof(group_nids[0])];
static int		 nid_provisioner = NID_undef;

static const char *const md_names[PKI_MD__MAX] = {
	[PKI_MD_SHA1] = "SHA1",
	[PKI_MD_SHA256] = "SHA256",
	[PKI_MD_SHA384] = "SHA384",
	[PKI_MD_SHA512] = "SHA512",
};

/*
 * Lets X509_get_ext_d2i decode the provisioner extension (rule 17).  The
 * method is registered in OpenSSL's global list, so it must be static.
 */
static X509V3_EXT_METHOD provisioner_method = {
	.ext_nid = NID_undef,
	.it = ASN1_ITEM_ref(PKI_PROVISIONER),
};

static void
init_run(void)
{
	int i;

	for (i = 0; i < PKI_MD__MAX; i++) {
		if ((mds[i] = EVP_MD_fetch(NULL, md_names[i], NULL)) == NULL) {
			pki_log_ssl(LOG_ERR, "pki.init", "EVP_MD_fetch %s",
			    md_names[i]);
			return;
		}
	}
	for (i = 0; i < (int)(sizeof(groups) / sizeof(groups[0])); i++) {
		if ((groups[i] = EC_GROUP_new_by_curve_name(group_nids[i])) ==
		    NULL) {
			pki_log_ssl(LOG_ERR, "pki.init",
			    "EC_GROUP_new_by_curve_name %d", group_nids[i]);
			return;
		}
	}
	nid_provisioner = OBJ_txt2nid(PKI_OID_PROVISIONER);
	if (nid_provisioner == NID_undef) {
		nid_provisioner = OBJ_create(PKI_OID_PROVISIONER,
		    PKI_SN_PROVISIONER, PKI_LN_PROVISIONER);
		if (nid_provisioner == NID_undef) {
			pki_log_ssl(LOG_ERR, "pki.init", "OBJ_create %s",
			    PKI_OID_PROVISIONER);
			return;
		}
	}
	if (X509V3_EXT_get_nid(nid_provisioner) == NULL) {
		provisioner_method.ext_nid = nid_provisioner;
		if (!X509V3_EXT_add(&provisioner_method)) {
			pki_log_ssl(LOG_ERR, "pki.init", "X509V3_EXT_add");
			return;
		}
	}
	init_rc = DV_OK;
}

enum dv_rc
pki_init(void)
{
	pthread_once(&init_once, init_run);
	return init_rc;
}

bool
pki_ready(void)
{
	return pki_init() == DV_OK;
}

const EVP_MD *
pki_md(enum pki_md m)
{
	(void)pki_ready();
	return mds[m];
}

const EC_GROUP *
pki_ec_group(int nid)
{
	size_t i;

	if (!pki_ready())
		return NULL;
	for (i = 0; i < sizeof(groups) / sizeof(groups[0]); i++)
		if (group_nids[i] == nid)
			return groups[i];
	return NULL;
}

const EVP_MD *
pki_md_by_nid(int nid)
{
	switch (nid) {
	case NID_sha1:
		return pki_md(PKI_MD_SHA1);
	case NID_sha256:
		return pki_md(PKI_MD_SHA256);
	case NID_sha384:
		return pki_md(PKI_MD_SHA384);
	case NID_sha512:
		return pki_md(PKI_MD_SHA512);
	default:
		return NULL;
	}
}

int
pki_nid_provisioner(void)
{
	(void)pki_ready();
	return nid_provisioner;
}

void
pki_log_ssl(enum log_level l, const char *event, const char *fmt, ...)
{
	char text[ERR_TEXT_MAX], one[256];
	const char *data;
	unsigned long e;
	size_t off;
	va_list ap;
	int flags, n;

	va_start(ap, fmt);
	n = vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	off = n < 0 ? 0 : (size_t)n < sizeof(text) ? (size_t)n :
	    sizeof(text) - 1;
	text[off] = '\0';
	/* Drain the whole queue even when the text is full (rule 10). */
	while ((e = ERR_get_error_all(NULL, NULL, NULL, &data, &flags)) != 0) {
		ERR_error_string_n(e, one, sizeof(one));
		n = snprintf(text + off, sizeof(text) - off, "%s%s%s%s",
		    off > 0 ? "; " : "", one,
		    (flags & ERR_TXT_STRING) && data != NULL ? ": " : "",
		    (flags & ERR_TXT_STRING) && data != NULL ? data : "");
		if (n > 0)
			off += (size_t)n < sizeof(text) - off ? (size_t)n :
			    sizeof(text) - off - 1;
	}
	log_detail(l, event, "%s", text);
}

void
pki_log_errors(enum log_level l, const char *event)
{
	pki_log_ssl(l, event, "openssl");
}

uint8_t *
pki_take_buf(unsigned char *p, size_t len)
{
	uint8_t *r;

	r = xmalloc(len);
	if (len > 0)
		memcpy(r, p, len);
	OPENSSL_free(p);
	return r;
}

void
pki_sha256(const void *data, size_t len, uint8_t md[32])
{
	const EVP_MD *m = pki_md(PKI_MD_SHA256);

	if (m == NULL || !EVP_Digest(data, len, md, NULL, m, NULL)) {
		/* Cannot happen once pki_init succeeded; never return junk
		 * that could match. */
		pki_log_ssl(LOG_ERR, "pki.sha256", "EVP_Digest");
		abort();
	}
}

enum dv_rc
pki_random(void *p, size_t len)
{
	unsigned char *c = p;
	int n;

	while (len > 0) {
		n = len > INT_MAX ? INT_MAX : (int)len;
		if (RAND_bytes(c, n) != 1) {
			pki_log_ssl(LOG_ERR, "pki.random", "RAND_bytes");
			return DV_ERR_CRYPTO;
		}
		c += n;
		len -= (size_t)n;
	}
	return DV_OK;
}

/* ---- base64 (RFC 4648 §4) ---------------------------------------------- */

enum dv_rc
pki_b64_encode(const uint8_t *p, size_t len, char **out)
{
	size_t olen;
	char *s;

	*out = NULL;
	if (len > (size_t)INT_MAX / 4 * 3 - 3)
		return DV_ERR_TOO_LARGE;
	olen = (len + 2) / 3 * 4;
	s = xmalloc(olen + 1);
	if (EVP_EncodeBlock((unsigned char *)s, p, (int)len) != (int)olen) {
		free(s);
		pki_log_ssl(LOG_ERR, "pki.b64", "EVP_EncodeBlock");
		return DV_ERR_INTERNAL;
	}
	s[olen] = '\0';
	*out = s;
	return DV_OK;
}

static int
b64_val(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}

/*
 * Decodes the standard alphabet.  ASCII white space is skipped (PEM bodies,
 * folded headers); padding is optional but, when present, must end the text.
 */
enum dv_rc
pki_b64_decode(const char *s, size_t len, uint8_t **out, size_t *outlen)
{
	uint8_t *r;
	uint32_t acc = 0;
	size_t i, n = 0, k = 0, pad = 0;
	int v;

	*out = NULL;
	*outlen = 0;
	r = xmalloc(len / 4 * 3 + 3);
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == ' ' || c == '\t' || c == '\r' || c == '\n')
			continue;
		if (c == '=') {
			pad++;
			continue;
		}
		if (pad > 0 || (v = b64_val(c)) < 0)
			goto bad;
		acc = acc << 6 | (uint32_t)v;
		if (++k == 4) {
			r[n++] = (uint8_t)(acc >> 16);
			r[n++] = (uint8_t)(acc >> 8);
			r[n++] = (uint8_t)acc;
			acc = 0;
			k = 0;
		}
	}
	/* k symbols left over: 1 is never valid, 2 or 3 carry 1 or 2 bytes */
	if (k == 1 || pad > 2 || (pad > 0 && k + pad != 4))
		goto bad;
	if (k == 2)
		r[n++] = (uint8_t)(acc >> 4);
	else if (k == 3) {
		r[n++] = (uint8_t)(acc >> 10);
		r[n++] = (uint8_t)(acc >> 2);
	}
	*out = r;
	*outlen = n;
	return DV_OK;
bad:
	free(r);
	log_msg(LOG_INFO, "pki.b64.decode", "{s:s}", "detail",
	    "RFC 4648 §4: invalid base64");
	return DV_ERR_MALFORMED;
}

/* ---- PEM (RFC 7468) --------------------------------------------------- */

enum dv_rc
pki_pem_next(BIO *b, const char *label, const char *alt, unsigned char **der,
    long *len)
{
	char *name = NULL, *header = NULL;
	unsigned char *data = NULL;
	long n = 0;
	unsigned long e;

	*der = NULL;
	*len = 0;
	for (;;) {
		/* PEM_read_bio never decrypts and never prompts */
		if (PEM_read_bio(b, &name, &header, &data, &n) != 1) {
			e = ERR_peek_last_error();
			if (ERR_GET_LIB(e) == ERR_LIB_PEM &&
			    ERR_GET_REASON(e) == PEM_R_NO_START_LINE) {
				ERR_clear_error();
				return DV_ERR_NOT_FOUND;
			}
			pki_log_ssl(LOG_INFO, "pki.pem", "RFC 7468: bad PEM");
			return DV_ERR_MALFORMED;
		}
		if (strcmp(name, label) == 0 ||
		    (alt != NULL && strcmp(name, alt) == 0))
			break;
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
	}
	if (header[0] != '\0') {
		OPENSSL_free(name);
		OPENSSL_free(header);
		OPENSSL_free(data);
		log_msg(LOG_INFO, "pki.pem", "{s:s}", "detail",
		    "RFC 7468 §2: PEM headers (encryption) not accepted");
		return DV_ERR_MALFORMED;
	}
	OPENSSL_free(name);
	OPENSSL_free(header);
	*der = data;
	*len = n;
	return DV_OK;
}

/* ---- serial numbers ---------------------------------------------------- */

enum dv_rc
pki_serial_normalise(const char *in, char **dec)
{
	BIGNUM *bn = NULL;
	const char *digits = in;
	char *s = NULL;
	size_t len, i;
	bool hex = false;
	enum dv_rc rc = DV_ERR_MALFORMED;

	*dec = NULL;
	if (in[0] == '0' && (in[1] == 'x' || in[1] == 'X')) {
		hex = true;
		digits = in + 2;
	}
	len = strlen(digits);
	if (len == 0 || len > SERIAL_TEXT_MAX)
		goto bad;
	for (i = 0; i < len; i++) {
		unsigned char c = (unsigned char)digits[i];

		if (hex ? !isxdigit(c) : !isdigit(c))
			goto bad;
	}
	if ((hex ? BN_hex2bn(&bn, digits) : BN_dec2bn(&bn, digits)) !=
	    (int)len) {
		pki_log_ssl(LOG_ERR, "pki.serial", "BN_%s2bn",
		    hex ? "hex" : "dec");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	if ((s = BN_bn2dec(bn)) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.serial", "BN_bn2dec");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	*dec = xstrdup(s);
	rc = DV_OK;
	goto out;
bad:
	log_msg(LOG_INFO, "pki.serial", "{s:s,s:s%}", "detail",
	    "serial is not decimal or 0x-prefixed hex", "serial", in,
	    strnlen(in, SERIAL_TEXT_MAX + 3));
out:
	OPENSSL_free(s);
	BN_free(bn);
	return rc;
}

bool
pki_bits_set(ASN1_BIT_STRING *bs, const uint8_t *p, size_t len)
{
	if (len > INT_MAX || !ASN1_BIT_STRING_set(bs, (unsigned char *)p,
	    (int)len))
		return false;
	/* no unused bits; otherwise trailing zero bits would be trimmed */
	bs->flags &= ~(ASN1_STRING_FLAG_BITS_LEFT | 0x07);
	bs->flags |= ASN1_STRING_FLAG_BITS_LEFT;
	return true;
}
