/*
 * hmac.c - HMAC-SHA256 (RFC 2104) and a constant-time comparison, for the
 * signatures of MDM webhooks (issue 3, docs/mdm.md).
 */
#include <limits.h>

#include <openssl/crypto.h>
#include <openssl/hmac.h>

#include "pki_int.h"

enum dv_rc
pki_hmac_sha256(const void *key, size_t keylen, const void *data,
    size_t len, uint8_t md[32])
{
	const EVP_MD *m = pki_md(PKI_MD_SHA256);
	unsigned int mdlen = 0;

	if (keylen > INT_MAX) {
		log_msg(LOG_ERR, "pki.hmac", "{s:s}", "detail", "key too long");
		return DV_ERR_INTERNAL;
	}
	/* HMAC() does not take a NULL data pointer for an empty message on
	 * every release: give it a valid one. */
	if (len == 0)
		data = "";
	if (m == NULL || HMAC(m, key, (int)keylen, data, len, md, &mdlen) ==
	    NULL || mdlen != 32) {
		OPENSSL_cleanse(md, 32);
		pki_log_ssl(LOG_ERR, "pki.hmac", "HMAC-SHA256");
		return DV_ERR_CRYPTO;
	}
	return DV_OK;
}

bool
pki_mem_equal(const void *a, const void *b, size_t len)
{
	return CRYPTO_memcmp(a, b, len) == 0;
}
