/*
 * fuzz_acme_jws.c - the JWS envelope of every ACME POST (rule 28):
 * jws_flat_parse() on the fuzzer's bytes (RFC 7515 §7.2.2 flattened, as
 * RFC 8555 §6.2 restricts it), then what acme_verify() does next with a
 * parsed envelope: the alg check, and the signature checked with the jwk
 * of the protected header (newAccount, revokeCert by certificate key),
 * and, as keyChange does, the payload parsed again as an inner JWS.
 *
 * The seeds in fuzz/corpus/acme_jws/ are real requests signed by ES256,
 * RS256 and EdDSA keys (a newAccount, a POST-as-GET with kid, a keyChange
 * with its inner JWS, a newAccount with an external account binding
 * made with the key below); the hostile_* seeds are named for their
 * attack.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "jws/jws.h"
#include "pki/pki.h"

/* The HMAC key of the eab_* seeds (32 bytes 0x01..0x20). */
static const uint8_t eab_key[32] = {
	1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20,
	21, 22, 23, 24, 25, 26, 27, 28, 29, 30, 31, 32,
};

/* newAccount: the payload's externalAccountBinding, as acme_eab_check
 * reads it (RFC 8555 §7.3.4). */
static void
eab(const struct jws_flat *f)
{
	struct jws_flat *b = NULL;
	json_t *pay = NULL, *e;
	char *s;

	if (json_parse_strict(f->payload, f->payloadlen, DV_MAX_TOKEN, &pay)
	    != DV_OK)
		return;
	e = json_object_get(pay, "externalAccountBinding");
	if (json_is_object(e) && (s = json_dumps(e, JSON_COMPACT)) != NULL) {
		if (jws_flat_parse((const uint8_t *)s, strlen(s), &b) == DV_OK)
			(void)jws_flat_verify_hmac(b, eab_key,
			    sizeof(eab_key));
		jws_flat_free(b);
		free(s);
	}
	json_decref(pay);
}

static void
one(const uint8_t *data, size_t size, int depth)
{
	struct jws_flat *f = NULL;
	const json_t *jwk;

	if (jws_flat_parse(data, size, &f) != DV_OK)
		return;
	(void)jws_alg_accepted(json_get_str(f->header, "alg"));
	jwk = json_object_get(f->header, "jwk");
	if (json_is_object(jwk) && jws_jwk_check(jwk) == DV_OK)
		(void)jws_flat_verify(f, jwk);
	/* keyChange: the payload is itself a flattened JWS */
	if (depth == 0 && f->payload != NULL) {
		one(f->payload, f->payloadlen, 1);
		eab(f);
	}
	jws_flat_free(f);
}

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerInitialize(int *argc, char ***argv)
{
	(void)argc;
	(void)argv;
	log_init(LOG__MAX, 2);	/* quiet */
	if (pki_init() != DV_OK)
		abort();
	return 0;
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	one(data, size, 0);
	return 0;
}
