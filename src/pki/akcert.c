/*
 * akcert.c - what the Attestation CA needs from X.509 (issue 4): the AK
 * certificate profile of spec/attestation.md §13.3, and EK certificates
 * verified against a folder of TPM-maker CA certificates (§2.6 step 3).
 *
 * The AK certificate is built by pki_cert_issue with its two special
 * extensions handed over as extra extensions: a critical subjectAltName
 * holding the EK URN (URI) and the TPM's directoryName, and an
 * extKeyUsage of tcg-kp-AIKCertificate alone.
 */
#include <ctype.h>
#include <dirent.h>
#include <limits.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include <openssl/err.h>
#include <openssl/x509_vfy.h>

#include "asn1.h"
#include "pki_int.h"

#define EV		"pki.akcert"
#define EV_EK		"pki.ekroots"

/* spec/attestation.md §13.1 */
#define OID_TPM_MANUFACTURER	"2.23.133.2.1"	/* tcg-at-tpmManufacturer */
#define OID_TPM_MODEL		"2.23.133.2.2"	/* tcg-at-tpmModel */
#define OID_TPM_VERSION		"2.23.133.2.3"	/* tcg-at-tpmVersion */
#define OID_AIK_CERTIFICATE	"2.23.133.8.3"	/* tcg-kp-AIKCertificate */
#define OID_SAN			"2.5.29.17"
#define OID_EKU			"2.5.29.37"

/* Longest value of a TPM attribute of the directoryName (ub-name). */
#define AK_ATTR_MAX		128
/* Certificates in one file of the roots folder, bytes of one file. */
#define EK_FILE_CERTS		16
#define EK_FILE_MAX		(EK_FILE_CERTS * DV_MAX_PEM)

static enum dv_rc
ssl_fail(const char *what)
{
	pki_log_ssl(LOG_ERR, EV, "%s", what);
	return DV_ERR_CRYPTO;
}

/* A non-empty printable value of at most AK_ATTR_MAX bytes. */
static bool
attr_ok(const char *s)
{
	size_t i, n;

	if (s == NULL || (n = strlen(s)) == 0 || n > AK_ATTR_MAX)
		return false;
	for (i = 0; i < n; i++)
		if (!isprint((unsigned char)s[i]))
			return false;
	return true;
}

/* The OIDs of the AK profile, parsed once (OBJ_txt2obj parses the dotted
 * text each time); read-only after pthread_once, shared by threads. */
enum ak_oid { AK_OID_MANUFACTURER, AK_OID_MODEL, AK_OID_VERSION,
    AK_OID_AIK_CERTIFICATE, AK_OID__MAX };

static pthread_once_t	 oid_once = PTHREAD_ONCE_INIT;
static ASN1_OBJECT	*oid_objs[AK_OID__MAX];

static void
oid_init(void)
{
	static const char *const text[AK_OID__MAX] = {
		[AK_OID_MANUFACTURER] = OID_TPM_MANUFACTURER,
		[AK_OID_MODEL] = OID_TPM_MODEL,
		[AK_OID_VERSION] = OID_TPM_VERSION,
		[AK_OID_AIK_CERTIFICATE] = OID_AIK_CERTIFICATE,
	};
	int i;

	for (i = 0; i < AK_OID__MAX; i++)
		if ((oid_objs[i] = OBJ_txt2obj(text[i], 1)) == NULL)
			pki_log_ssl(LOG_ERR, EV, "OBJ_txt2obj %s", text[i]);
}

/* The object of OID o (borrowed), NULL if it could not be made. */
static const ASN1_OBJECT *
ak_oid(enum ak_oid o)
{
	pthread_once(&oid_once, oid_init);
	return oid_objs[o];
}

/* Fills the RDN rdn (an empty SET) with the one attribute oid = value,
 * a UTF8String. */
static enum dv_rc
rdn_set(STACK_OF(PKI_AK_ATTR) *rdn, enum ak_oid oid, const char *value)
{
	const ASN1_OBJECT *obj;
	PKI_AK_ATTR *a;

	if ((obj = ak_oid(oid)) == NULL)
		return DV_ERR_CRYPTO;
	if ((a = PKI_AK_ATTR_new()) == NULL)
		abort();
	ASN1_OBJECT_free(a->type);
	if ((a->type = OBJ_dup(obj)) == NULL ||
	    !ASN1_STRING_set(a->value, value, -1) ||
	    !sk_PKI_AK_ATTR_push(rdn, a)) {
		PKI_AK_ATTR_free(a);
		return ssl_fail("AK SAN attribute");
	}
	return DV_OK;
}

/*
 * The subjectAltName value (spec §13.2, §13.3): URI ek_urn, then
 * directoryName { tpmManufacturer, tpmModel, tpmVersion }, each attribute
 * its own RDN (the layout of most EK certificates), through the
 * PKI_AK_SAN template (asn1.h).  *der is new.
 */
static enum dv_rc
san_der(const struct pki_ak_profile *p, uint8_t **der, size_t *len)
{
	PKI_AK_SAN *san;
	unsigned char *buf = NULL;
	enum dv_rc rc;
	int n;

	*der = NULL;
	*len = 0;
	if ((san = PKI_AK_SAN_new()) == NULL)
		abort();
	if (!ASN1_STRING_set(san->uri, p->ek_urn, -1)) {
		rc = ssl_fail("subjectAltName URI");
		goto out;
	}
	if ((rc = rdn_set(san->dirname->manufacturer, AK_OID_MANUFACTURER,
	    p->manufacturer)) != DV_OK || (rc = rdn_set(san->dirname->model,
	    AK_OID_MODEL, p->model)) != DV_OK || (rc =
	    rdn_set(san->dirname->version, AK_OID_VERSION, p->version)) !=
	    DV_OK)
		goto out;
	if ((n = i2d_PKI_AK_SAN(san, &buf)) <= 0) {
		rc = ssl_fail("i2d_PKI_AK_SAN");
		goto out;
	}
	*der = pki_take_buf(buf, (size_t)n);
	*len = (size_t)n;
	rc = DV_OK;
out:
	PKI_AK_SAN_free(san);
	return rc;
}

/* The extKeyUsage value: tcg-kp-AIKCertificate alone (spec §13.2
 * "300706056781050803").  *der is new. */
static enum dv_rc
eku_der(uint8_t **der, size_t *len)
{
	EXTENDED_KEY_USAGE *e = NULL;
	ASN1_OBJECT *obj;
	const ASN1_OBJECT *aik;
	unsigned char *buf = NULL;
	int n;

	*der = NULL;
	*len = 0;
	if ((aik = ak_oid(AK_OID_AIK_CERTIFICATE)) == NULL)
		return DV_ERR_CRYPTO;
	if ((e = sk_ASN1_OBJECT_new_null()) == NULL ||
	    (obj = OBJ_dup(aik)) == NULL)
		abort();
	if (!sk_ASN1_OBJECT_push(e, obj)) {
		ASN1_OBJECT_free(obj);
		sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free);
		return ssl_fail("extKeyUsage");
	}
	n = i2d_EXTENDED_KEY_USAGE(e, &buf);
	sk_ASN1_OBJECT_pop_free(e, ASN1_OBJECT_free);
	if (n <= 0)
		return ssl_fail("i2d_EXTENDED_KEY_USAGE");
	*der = pki_take_buf(buf, (size_t)n);
	*len = (size_t)n;
	return DV_OK;
}

/*
 * The AK profile as a pki_profile for pki_cert_issue or pki_cert_build:
 * signer NULL builds the certificate unsigned (*out only), else issues it.
 */
static enum dv_rc
akcert_make(X509 *issuer, const struct pki_signer *signer,
    const struct pki_ak_profile *ak, const uint8_t *spki, size_t spkilen,
    X509 **out, uint8_t **der, size_t *derlen)
{
	struct pki_profile p;
	struct pki_ext ext[2];
	uint8_t *san = NULL, *eku = NULL;
	size_t sanlen = 0, ekulen = 0;
	enum dv_rc rc;

	if (out != NULL)
		*out = NULL;
	if (der != NULL) {
		*der = NULL;
		*derlen = 0;
	}
	if (ak->ek_urn == NULL || !pki_ek_urn_valid(ak->ek_urn) ||
	    !attr_ok(ak->manufacturer) || !attr_ok(ak->model) ||
	    !attr_ok(ak->version)) {
		log_msg(LOG_ERR, EV, "{s:s}", "detail", "spec/attestation.md "
		    "§13.3: the AK certificate needs the EK URN and a "
		    "non-empty printable TPM manufacturer, model and version");
		return DV_ERR_MALFORMED;
	}
	if ((rc = san_der(ak, &san, &sanlen)) != DV_OK ||
	    (rc = eku_der(&eku, &ekulen)) != DV_OK)
		goto out;
	/* RFC 5280 §4.2.1.6: the subject is empty, so the SAN is critical */
	ext[0].oid = OID_SAN;
	ext[0].critical = true;
	ext[0].der = san;
	ext[0].len = sanlen;
	/* non-critical: step-ca reads it, other verifiers need not */
	ext[1].oid = OID_EKU;
	ext[1].critical = false;
	ext[1].der = eku;
	ext[1].len = ekulen;
	memset(&p, 0, sizeof(p));
	p.cn = NULL;
	p.not_before = ak->not_before;
	p.not_after = ak->not_after;
	p.ku = PKI_KU_DIGITAL_SIGNATURE;
	p.eku = 0;
	p.is_ca = false;
	p.path_len = -1;
	p.crl_url = ak->crl_url;
	p.ocsp_url = ak->ocsp_url;
	p.issuer_url = ak->issuer_url;
	p.ext = ext;
	p.next = 2;
	if (signer != NULL)
		rc = pki_cert_issue(issuer, signer, &p, spki, spkilen, out,
		    der, derlen);
	else
		rc = pki_cert_build(issuer, &p, spki, spkilen, out);
out:
	free(san);
	free(eku);
	return rc;
}

enum dv_rc
pki_akcert_issue(X509 *issuer, const struct pki_signer *signer,
    const struct pki_ak_profile *ak, const uint8_t *spki, size_t spkilen,
    X509 **out, uint8_t **der, size_t *derlen)
{
	if (signer == NULL) {
		if (out != NULL)
			*out = NULL;
		if (der != NULL) {
			*der = NULL;
			*derlen = 0;
		}
		return DV_ERR_INTERNAL;
	}
	return akcert_make(issuer, signer, ak, spki, spkilen, out, der,
	    derlen);
}

enum dv_rc
pki_akcert_build(X509 *issuer, const struct pki_ak_profile *ak,
    const uint8_t *spki, size_t spkilen, X509 **out)
{
	return akcert_make(issuer, NULL, ak, spki, spkilen, out, NULL, NULL);
}

/* ---- EK roots ------------------------------------------------------ */

struct pki_ek_roots {
	X509_STORE	*store;		/* owned: every certificate read */
	size_t		 n;
};

void
pki_ek_roots_free(struct pki_ek_roots *r)
{
	if (r == NULL)
		return;
	X509_STORE_free(r->store);
	free(r);
}

size_t
pki_ek_roots_count(const struct pki_ek_roots *r)
{
	return r != NULL ? r->n : 0;
}

/* True for the certificate file names read from the folder. */
static bool
ek_root_name(const char *name)
{
	static const char *const sfx[] = { ".pem", ".crt", ".cer", ".der" };
	size_t i, n = strlen(name);

	if (name[0] == '.')
		return false;
	for (i = 0; i < sizeof(sfx) / sizeof(sfx[0]); i++)
		if (n > 4 && strcasecmp(name + n - 4, sfx[i]) == 0)
			return true;
	return false;
}

static enum dv_rc
ek_root_add(struct pki_ek_roots *r, X509 *x, const char *path)
{
	if (r->n >= DV_ATT_MAX_EK_ROOTS) {
		log_msg(LOG_ERR, EV_EK, "{s:s,s:i}", "detail",
		    "more certificates than DV_ATT_MAX_EK_ROOTS", "max",
		    DV_ATT_MAX_EK_ROOTS);
		return DV_ERR_TOO_LARGE;
	}
	if (!X509_STORE_add_cert(r->store, x)) {
		unsigned long e = ERR_peek_last_error();

		/* the same certificate in two files (IFX1 and IFX_RSA_01I):
		 * OpenSSL 3 accepts it silently, older ones said so */
		if (ERR_GET_REASON(e) != X509_R_CERT_ALREADY_IN_HASH_TABLE) {
			pki_log_ssl(LOG_ERR, EV_EK, "X509_STORE_add_cert %s",
			    path);
			return DV_ERR_CRYPTO;
		}
		ERR_clear_error();
		return DV_OK;
	}
	r->n++;
	return DV_OK;
}

/* Adds the certificates of one file: a PEM bundle, else one DER one. */
static enum dv_rc
ek_root_file(struct pki_ek_roots *r, const char *path)
{
	STACK_OF(X509) *sk = NULL;
	uint8_t *data = NULL;
	X509 *x = NULL;
	size_t len;
	enum dv_rc rc;
	int i;

	if ((rc = file_read(path, EK_FILE_MAX, &data, &len)) != DV_OK) {
		log_msg(LOG_ERR, EV_EK, "{s:s,s:s}", "detail",
		    "unreadable TPM-maker certificate file", "path", path);
		return rc;
	}
	/* text before the PEM block (openssl x509 -text) is skipped */
	if (memmem(data, len, "-----BEGIN", 10) != NULL) {
		rc = pki_certs_from_pem((const char *)data, len,
		    EK_FILE_CERTS, &sk);
		for (i = 0; rc == DV_OK && i < sk_X509_num(sk); i++)
			rc = ek_root_add(r, sk_X509_value(sk, i), path);
	} else if ((rc = pki_cert_from_der(data, len, &x)) == DV_OK)
		rc = ek_root_add(r, x, path);
	if (rc != DV_OK)
		log_msg(LOG_ERR, EV_EK, "{s:s,s:s}", "detail",
		    "not a certificate file", "path", path);
	pki_certs_free(sk);
	pki_cert_free(x);
	free(data);
	return rc;
}

enum dv_rc
pki_ek_roots_load(const char *dir, struct pki_ek_roots **out)
{
	struct pki_ek_roots *r;
	struct dirent *de;
	struct stat sb;
	DIR *d = NULL;
	char *path = NULL;
	enum dv_rc rc = DV_OK;

	*out = NULL;
	r = xcalloc(1, sizeof(*r));
	if ((r->store = X509_STORE_new()) == NULL) {
		pki_log_ssl(LOG_ERR, EV_EK, "X509_STORE_new");
		abort();
	}
	if ((d = opendir(dir)) == NULL) {
		log_msg(LOG_ERR, EV_EK, "{s:s,s:s}", "detail",
		    "cannot open the TPM-maker roots folder", "path", dir);
		rc = DV_ERR_IO;
		goto out;
	}
	while (rc == DV_OK && (de = readdir(d)) != NULL) {
		if (!ek_root_name(de->d_name))
			continue;
		free(path);
		path = xasprintf("%s/%s", dir, de->d_name);
		if (stat(path, &sb) != 0 || !S_ISREG(sb.st_mode))
			continue;
		rc = ek_root_file(r, path);
	}
	if (rc == DV_OK && r->n == 0) {
		log_msg(LOG_ERR, EV_EK, "{s:s,s:s}", "detail",
		    "no certificate in the TPM-maker roots folder", "path",
		    dir);
		rc = DV_ERR_MALFORMED;
	}
out:
	if (d != NULL)
		closedir(d);
	free(path);
	if (rc != DV_OK)
		pki_ek_roots_free(r);
	else
		*out = r;
	return rc;
}

/* A certificate from DER that may be followed by NV padding (d2i reads
 * its own length; pki_ek_cert_parse does the same). */
static X509 *
ek_decode(const struct pki_der *c)
{
	const unsigned char *p = c->der;
	X509 *x;

	if (c->len > DV_ATT_MAX_EK_CERT ||
	    (x = d2i_X509(NULL, &p, (long)c->len)) == NULL)
		return NULL;
	/* rule 17: extensions cached; 0 when one is malformed */
	if (X509_check_purpose(x, -1, 0) != 1) {
		X509_free(x);
		return NULL;
	}
	return x;
}

enum dv_rc
pki_ek_cert_verify(const struct pki_ek_roots *r, const struct pki_der *certs,
    size_t n, size_t leaf)
{
	STACK_OF(X509) *untrusted = NULL;
	X509_STORE_CTX *ctx = NULL;
	X509 *x = NULL, *y;
	enum dv_rc rc = DV_ERR_UNTRUSTED;
	size_t i;
	int err;

	if (leaf >= n || n > DV_ATT_MAX_EK_CERTS) {
		log_msg(LOG_ERR, EV_EK, "{s:s}", "detail",
		    "bad EK certificate index or count");
		return DV_ERR_INTERNAL;
	}
	if ((x = ek_decode(&certs[leaf])) == NULL) {
		pki_log_ssl(LOG_INFO, EV_EK, "RFC 5280 §4: undecodable EK "
		    "certificate");
		return DV_ERR_UNTRUSTED;
	}
	if ((untrusted = sk_X509_new_null()) == NULL)
		goto ssl_err;
	/* the other certificates sent may complete the chain */
	for (i = 0; i < n; i++) {
		if (i == leaf || (y = ek_decode(&certs[i])) == NULL) {
			ERR_clear_error();
			continue;
		}
		if (!sk_X509_push(untrusted, y)) {
			X509_free(y);
			goto ssl_err;
		}
	}
	if ((ctx = X509_STORE_CTX_new()) == NULL ||
	    !X509_STORE_CTX_init(ctx, r->store, x, untrusted))
		goto ssl_err;
	/*
	 * Every certificate of the folder is a trust anchor (keylime's
	 * tpm_cert_store has intermediates whose roots are not published).
	 * The EK certificate's validity period is not checked: it records
	 * the TPM's manufacture, and many expire (or say 9999) long before
	 * the TPM stops working.
	 */
	X509_STORE_CTX_set_flags(ctx, X509_V_FLAG_PARTIAL_CHAIN |
	    X509_V_FLAG_NO_CHECK_TIME);
	if (X509_verify_cert(ctx) != 1) {
		err = X509_STORE_CTX_get_error(ctx);
		ERR_clear_error();
		log_msg(LOG_INFO, EV_EK, "{s:s,s:s}", "detail",
		    "TCG EK Credential Profile §2.2: the EK certificate does "
		    "not chain to a configured TPM-maker certificate", "reason",
		    X509_verify_cert_error_string(err));
		goto out;
	}
	rc = DV_OK;
	goto out;
ssl_err:
	pki_log_ssl(LOG_ERR, EV_EK, "X509_STORE_CTX_init");
	rc = DV_ERR_CRYPTO;
out:
	X509_STORE_CTX_free(ctx);
	sk_X509_pop_free(untrusted, X509_free);
	X509_free(x);
	return rc;
}
