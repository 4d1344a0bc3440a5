/*
 * cli.h - internals shared by the files of the `devid` client (not a module
 * header: nothing outside src/cli includes it).
 *
 * Each command lives in cmd_<name>.c and exports cmd_<name>(argc, argv),
 * which returns the process exit status.  Commands report errors on stderr
 * as "devid <command>: <what went wrong>; <what to do>".
 */
#ifndef DV_CLI_H
#define DV_CLI_H

#include <stdbool.h>
#include <stddef.h>
#include <time.h>

#include <openssl/evp.h>
#include <openssl/x509.h>

#include "base/base.h"
#include "pki/pki.h"

/* Exit statuses. */
#define CLI_EXIT_OK	0
#define CLI_EXIT_FAIL	1	/* the operation failed */
#define CLI_EXIT_USAGE	2	/* bad command line */

/* Largest response body read from the server. */
#define CLI_MAX_RESPONSE	(1024 * 1024)
/* Largest local file read (keys, certificates, provisioner files). */
#define CLI_MAX_FILE		(1024 * 1024)
/* Default lifetime of a minted token (step: 5 minutes). */
#define CLI_TOKEN_LIFETIME	(5 * 60)

/* ---- main.c: messages --------------------------------------------- */

/* The running command's name, for messages ("certificate"). */
extern const char *cli_cmd;

/* Prints "devid <cmd>: <message>\n" on stderr. */
void	cli_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Prints "devid <cmd>: <message>: <title of rc>\n" on stderr. */
void	cli_err_rc(enum dv_rc, const char *fmt, ...)
	    __attribute__((format(printf, 2, 3)));
/* Prints "devid <cmd>: <message>\nRun 'devid <cmd> --help'.\n" and returns
 * CLI_EXIT_USAGE. */
int	cli_usage_err(const char *fmt, ...)
	    __attribute__((format(printf, 1, 2)));

/* ---- util.c: files, times, arguments ------------------------------ */

/* Reads a whole file (at most CLI_MAX_FILE bytes), NUL-terminated; reports
 * the error naming what (e.g. "root certificate"). */
enum dv_rc	cli_file_read(const char *what, const char *path,
		    uint8_t **out, size_t *len);
/* Writes data to path with mode, reporting the error. */
enum dv_rc	cli_file_write(const char *what, const char *path,
		    const void *data, size_t len, int mode);
/* Refuses (reporting why) to overwrite an existing file unless force. */
bool		cli_may_write(const char *path, bool force);

/* Parses an RFC 3339 time or a duration relative to base.  Returns false
 * (after reporting, naming the option opt) if s is neither. */
bool		cli_time_arg(const char *opt, const char *s, time_t base,
		    time_t *out);
/* Parses a duration option ("5m"); false after reporting. */
bool		cli_dur_arg(const char *opt, const char *s, int64_t *out);

/* A growable list of strings (borrowed from argv). */
struct cli_strs {
	const char	**v;	/* owned array of borrowed strings */
	size_t		 n;
};
void		cli_strs_add(struct cli_strs *, const char *);
void		cli_strs_free(struct cli_strs *);

/* Reads every certificate of a PEM file (at most DV_MAX_CHAIN). */
enum dv_rc	cli_certs_read(const char *what, const char *path,
		    STACK_OF(X509) **out);
/* Reads an unencrypted PEM private key. */
enum dv_rc	cli_key_read(const char *what, const char *path,
		    EVP_PKEY **out);
/* True if leaf certifies the public key of key. */
bool		cli_cert_matches_key(X509 *leaf, EVP_PKEY *key);
/* Removes trailing '/' from a --ca-url (new string); NULL after reporting
 * if the URL is not https://. */
char		*cli_ca_url(const char *url);

/* ---- http.c: requests to the CA ----------------------------------- */

struct cli_req {
	const char	*method;	/* "GET" or "POST" */
	const char	*url;
	const char	*cafile;	/* roots to verify the server with */
	bool		 insecure;	/* skip TLS checks (bootstrap) */
	const char	*cert;		/* client chain for mTLS */
	const char	*key;		/* its key */
	const char	*bearer;	/* Authorization: Bearer */
	const json_t	*body;		/* JSON body, NULL: none */
	const char	*hint401;	/* what to check after a 401 */
};

struct cli_resp {
	long		 status;
	struct buf	 body;		/* owned, NUL-terminated */
	char		*ctype;		/* owned, may be NULL */
};

/* Runs one request, bounded by CLI_MAX_RESPONSE.  Transport failures are
 * reported here.  resp is cleared first; free with cli_resp_free. */
enum dv_rc	cli_http(const struct cli_req *, struct cli_resp *);
void		cli_resp_free(struct cli_resp *);

/*
 * Runs req and expects status want with a JSON object body, returned in
 * *out (new reference).  Any other status is reported with the server's
 * problem message (sanitised), and returns DV_ERR_UNAUTHORIZED /
 * DV_ERR_FORBIDDEN / DV_ERR_MALFORMED ... per status.
 */
enum dv_rc	cli_api_json(const struct cli_req *, long want, json_t **out);

/* ---- cmd_certificate.c ------------------------------------------- */

/*
 * Checks a SignResponse (spec §1.4): certChain (or crt + ca) are PEM
 * certificates, at most DV_MAX_CHAIN, and the leaf certifies key.  Writes
 * the re-encoded chain (leaf first) to *chain_pem and the leaf's decimal
 * serial to *serial (both new).
 */
enum dv_rc	cli_sign_response(const json_t *resp, EVP_PKEY *key,
		    char **chain_pem, char **serial);

/* ---- cmd_token.c: minting tokens ---------------------------------- */

/* The JWK provisioner credentials of --key (provisioner.json or a JWK). */
struct cli_prov {
	json_t		*jwk;		/* owned: private JWK */
	char		*name;		/* owned, may be NULL */
	char		*kid;		/* owned, NULL if unknown */
};
enum dv_rc	cli_prov_load(const char *path, struct cli_prov *);
void		cli_prov_clear(struct cli_prov *);

struct cli_claims {
	const char	*iss;
	const char	*sub;
	const char	*aud;
	const struct cli_strs *sans;	/* NULL: no "sans" claim */
	time_t		 iat;		/* 0: now */
	time_t		 nbf;
	time_t		 exp;
	const uint8_t	*cnf;		/* CSR DER SHA-256, or NULL */
};

/* Builds the claims object of a step token (spec §2.1), new reference. */
json_t		*cli_claims_build(const struct cli_claims *);
/* Mints a JWK token (header alg, kid, typ). *out is new. */
enum dv_rc	cli_token_jwk(const struct cli_prov *, const char *kid,
		    const struct cli_claims *, char **out);
/* Loads the --key file and mints a JWK token with claims tmpl, iss from
 * provname (else the file's "provisioner") and kid (else the file's). */
enum dv_rc	cli_token_from_file(const char *keyfile, const char *provname,
		    const char *kid, const struct cli_claims *tmpl, char **out);
/* Mints an X5C token signed with key, header x5c = chain (leaf first).
 * *out is new. */
enum dv_rc	cli_token_x5c(EVP_PKEY *key, STACK_OF(X509) *chain,
		    const char *hdrname, const json_t *claims, char **out);

/* ---- commands ----------------------------------------------------- */

int	cmd_token(int, char **);
int	cmd_certificate(int, char **);
int	cmd_renew(int, char **);
int	cmd_revoke(int, char **);
int	cmd_roots(int, char **);
int	cmd_inspect(int, char **);

#endif
