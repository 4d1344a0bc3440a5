/*
 * acmeid.c - the TLS side of the ACME tls-alpn-01 challenge (RFC 8737):
 * a client handshake that offers only the "acme-tls/1" protocol with the
 * identifier as SNI and takes the peer certificate without validating its
 * chain (§3: it is self-signed), and the checks of that certificate:
 * exactly one subjectAltName, equal to the identifier, and a critical
 * id-pe-acmeIdentifier extension whose value is an OCTET STRING holding
 * SHA-256(keyAuthorization).
 */
#include <arpa/inet.h>
#include <string.h>

#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "asn1.h"
#include "pki_int.h"

/* RFC 8737 §6.2: the ALPN protocol, as wire bytes (length prefix). */
static const unsigned char alpn_acme[] = "\x0a" "acme-tls/1";

enum dv_rc
pki_tlsalpn_handshake(int fd, const char *sni, X509 **out)
{
	const unsigned char *proto = NULL;
	unsigned int protolen = 0;
	SSL_CTX *ctx = NULL;
	SSL *ssl = NULL;
	X509 *peer = NULL;
	enum dv_rc rc = DV_ERR_IO;

	*out = NULL;
	if ((ctx = SSL_CTX_new(TLS_client_method())) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.tlsalpn", "SSL_CTX_new");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	/* §3: the certificate is self-signed; it is checked below, not
	 * against any trust store */
	SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	/* SSL_CTX_set_alpn_protos returns 0 on success */
	if (SSL_CTX_set_alpn_protos(ctx, alpn_acme, sizeof(alpn_acme) - 1) !=
	    0 || (ssl = SSL_new(ctx)) == NULL ||
	    SSL_set_tlsext_host_name(ssl, sni) != 1 ||
	    SSL_set_fd(ssl, fd) != 1) {
		pki_log_ssl(LOG_ERR, "pki.tlsalpn", "SSL setup");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	if (SSL_connect(ssl) != 1) {
		pki_log_ssl(LOG_INFO, "pki.tlsalpn",
		    "RFC 8737 §3: TLS handshake with %s failed", sni);
		goto out;
	}
	SSL_get0_alpn_selected(ssl, &proto, &protolen);
	if (protolen != sizeof(alpn_acme) - 2 ||
	    memcmp(proto, alpn_acme + 1, protolen) != 0) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "sni", sni,
		    "detail", "RFC 8737 §3: acme-tls/1 was not negotiated");
		rc = DV_ERR_UNAUTHORIZED;
		goto out;
	}
	if ((peer = SSL_get1_peer_certificate(ssl)) == NULL) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "sni", sni,
		    "detail", "no peer certificate");
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	/* rule 17: cache (and sanity check) the extensions now */
	if (X509_check_purpose(peer, -1, 0) != 1) {
		pki_log_ssl(LOG_INFO, "pki.tlsalpn", "%s: bad extensions", sni);
		X509_free(peer);
		rc = DV_ERR_MALFORMED;
		goto out;
	}
	*out = peer;
	rc = DV_OK;
out:
	if (ssl != NULL) {
		/* no close_notify: the peer may have gone already */
		SSL_set_quiet_shutdown(ssl, 1);
		SSL_free(ssl);
	}
	SSL_CTX_free(ctx);
	ERR_clear_error();
	return rc;
}

/* dNSName a equal to the len bytes of b, ASCII case ignored (RFC 4343). */
static bool
dns_equal(const unsigned char *a, size_t alen, const char *b)
{
	size_t i, blen = strlen(b);
	unsigned char x, y;

	if (alen != blen)
		return false;
	for (i = 0; i < alen; i++) {
		x = a[i] >= 'A' && a[i] <= 'Z' ? a[i] + 32 : a[i];
		y = (unsigned char)b[i];
		y = y >= 'A' && y <= 'Z' ? y + 32 : y;
		if (x != y)
			return false;
	}
	return true;
}

/* RFC 8737 §3: exactly one subjectAltName, ident (RFC 8738 §6: an IP
 * identifier as iPAddress). */
static enum dv_rc
san_check(X509 *x, const char *ident)
{
	GENERAL_NAMES *gens;
	GENERAL_NAME *g;
	unsigned char ip[16];
	size_t iplen = 0;
	int crit = -1, n;
	enum dv_rc rc = DV_ERR_SANS_MISMATCH;

	if (inet_pton(AF_INET, ident, ip) == 1)
		iplen = 4;
	else if (inet_pton(AF_INET6, ident, ip) == 1)
		iplen = 16;
	gens = X509_get_ext_d2i(x, NID_subject_alt_name, &crit, NULL);
	if (gens == NULL) {
		/* crit -1: absent; -2: present twice; else undecodable */
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", crit == -1 ? "RFC 8737 §3: no "
		    "subjectAltName" : "RFC 8737 §3: bad subjectAltName");
		ERR_clear_error();
		return rc;
	}
	n = sk_GENERAL_NAME_num(gens);
	if (n != 1) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: not exactly one "
		    "subjectAltName");
		goto out;
	}
	g = sk_GENERAL_NAME_value(gens, 0);
	if (iplen != 0 ? g->type == GEN_IPADD &&
	    (size_t)ASN1_STRING_length(g->d.iPAddress) == iplen &&
	    memcmp(ASN1_STRING_get0_data(g->d.iPAddress), ip, iplen) == 0 :
	    g->type == GEN_DNS && dns_equal(ASN1_STRING_get0_data(
	    g->d.dNSName), (size_t)ASN1_STRING_length(g->d.dNSName), ident))
		rc = DV_OK;
	else
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: the subjectAltName is not "
		    "the identifier");
out:
	GENERAL_NAMES_free(gens);
	return rc;
}

enum dv_rc
pki_tlsalpn_cert_check(X509 *x, const char *ident, const uint8_t digest[32])
{
	ASN1_OBJECT *obj = NULL;
	ASN1_OCTET_STRING *val = NULL;
	const ASN1_OCTET_STRING *raw;
	const unsigned char *p;
	X509_EXTENSION *ext;
	int idx;
	enum dv_rc rc;

	if ((rc = san_check(x, ident)) != DV_OK)
		return rc;
	rc = DV_ERR_MALFORMED;
	if ((obj = OBJ_txt2obj(PKI_OID_ACME_IDENTIFIER, 1)) == NULL) {
		pki_log_ssl(LOG_ERR, "pki.tlsalpn", "OBJ_txt2obj");
		rc = DV_ERR_CRYPTO;
		goto out;
	}
	/* OpenSSL has no d2i method for this extension (rule 17's
	 * X509_get_ext_d2i cannot apply): find it by OID, once only */
	if ((idx = X509_get_ext_by_OBJ(x, obj, -1)) < 0) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: no acmeIdentifier extension");
		goto out;
	}
	if (X509_get_ext_by_OBJ(x, obj, idx) >= 0) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 5280 §4.2: acmeIdentifier twice");
		goto out;
	}
	ext = X509_get_ext(x, idx);
	if (X509_EXTENSION_get_critical(ext) != 1) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: acmeIdentifier is not "
		    "critical");
		goto out;
	}
	raw = X509_EXTENSION_get_data(ext);
	p = ASN1_STRING_get0_data(raw);
	if ((val = d2i_ASN1_OCTET_STRING(NULL, &p, ASN1_STRING_length(raw))) ==
	    NULL || p != ASN1_STRING_get0_data(raw) + ASN1_STRING_length(raw) ||
	    ASN1_STRING_length(val) != 32) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: acmeIdentifier is not an "
		    "OCTET STRING of 32 bytes");
		ERR_clear_error();
		goto out;
	}
	if (memcmp(ASN1_STRING_get0_data(val), digest, 32) != 0) {
		log_msg(LOG_INFO, "pki.tlsalpn", "{s:s,s:s}", "identifier",
		    ident, "detail", "RFC 8737 §3: acmeIdentifier is not "
		    "SHA-256(keyAuthorization)");
		rc = DV_ERR_UNAUTHORIZED;
		goto out;
	}
	rc = DV_OK;
out:
	ASN1_OCTET_STRING_free(val);
	ASN1_OBJECT_free(obj);
	return rc;
}
