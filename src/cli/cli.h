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
#include <stdio.h>
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
/*
 * The subcommand argv[1] of cmd among the three names in subs: its index
 * in *sub, cli_cmd set to "cmd sub" (static text), and -1 returned; or,
 * for no subcommand or --help (usage printed) and an unknown one (a usage
 * error), the exit status the caller returns.
 */
int		cli_subcommand(int argc, char **argv, const char *cmd,
		    const char *const subs[3], void (*usage)(FILE *),
		    int *sub);
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
	const char	*method;	/* "GET", "POST", "PATCH", "DELETE" */
	const char	*url;
	const char	*cafile;	/* roots to verify the server with */
	bool		 insecure;	/* skip TLS checks (bootstrap) */
	const char	*cert;		/* client chain for mTLS */
	const char	*key;		/* its key */
	const char	*bearer;	/* Authorization: Bearer */
	const json_t	*body;		/* JSON body, NULL: none */
	const uint8_t	*raw;		/* or a raw body (instead of body) */
	size_t		 rawlen;
	const char	*ctype;		/* Content-Type of raw */
	const char	*hint401;	/* what to check after a 401 */
	const char	*hint403;	/* after a 403 (NULL: CA policy) */
	const char	*hint404;	/* after a 404 (NULL: --ca-url) */
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
 * *out (new reference; NULL when want is 204, which has no body).  Any other status is reported with the server's
 * problem message (sanitised), and returns DV_ERR_UNAUTHORIZED /
 * DV_ERR_FORBIDDEN / DV_ERR_MALFORMED ... per status.
 */
enum dv_rc	cli_api_json(const struct cli_req *, long want, json_t **out);

/* ---- admin.c: the admin API (/admin/v1/teams/{team}/...) ---------- */

/* Long-option values of the options every admin command takes. */
enum {
	CLI_OPT_DATA = 1000,
	CLI_OPT_ADMIN_URL,
	CLI_OPT_ROOT,
	CLI_OPT_TOKEN_FILE,
	CLI_OPT_TEAM,
};
/* The struct option entries for them, to put in a command's table. */
#define CLI_ADMIN_OPTIONS \
	{ "data", required_argument, NULL, CLI_OPT_DATA }, \
	{ "admin-url", required_argument, NULL, CLI_OPT_ADMIN_URL }, \
	{ "root", required_argument, NULL, CLI_OPT_ROOT }, \
	{ "token-file", required_argument, NULL, CLI_OPT_TOKEN_FILE }, \
	{ "team", required_argument, NULL, CLI_OPT_TEAM }
/* Their help text. */
#define CLI_ADMIN_HELP \
"  --data DIR          the server's data folder: defaults for the three\n" \
"                      options below (config.json, certs/roots.pem,\n" \
"                      admin/owner.token)\n" \
"  --admin-url URL     https://HOST:PORT of devid-ca (or DEVID_ADMIN_URL)\n" \
"  --root FILE         roots of the server's TLS certificate\n" \
"  --token-file FILE   admin API token (or DEVID_TOKEN holds the token)\n" \
"  --team NAME         the team (default \"default\")\n"

/* The common options as given (borrowed from argv). */
struct cli_admin_args {
	const char	*data;
	const char	*url;
	const char	*root;
	const char	*token_file;
	const char	*team;
};
/* Records option ch of the common set; false if ch is not one. */
bool		cli_admin_opt(struct cli_admin_args *, int ch,
		    const char *arg);

/* A resolved connection to the admin API. */
struct cli_admin {
	char		*base;		/* owned: URL/admin/v1/teams/TEAM */
	char		*root;		/* owned */
	char		*token;		/* owned, wiped on clear */
};
/* Resolves the defaults and reads the token, reporting what is missing
 * and how to give it. */
enum dv_rc	cli_admin_open(const struct cli_admin_args *,
		    struct cli_admin *);
void		cli_admin_clear(struct cli_admin *);
/* base + "/" + coll [+ "/" + escaped id] [+ suffix] [+ "?" + query]:
 * a new string. */
char		*cli_admin_url(const struct cli_admin *, const char *coll,
		    const char *id, const char *suffix, const struct buf *query);
/* Appends key=value (escaped) to a query string; NULL value: skipped. */
void		cli_query_add(struct buf *, const char *key, const char *value);
/* A request to the admin API with token, roots and admin hints. */
void		cli_admin_req(const struct cli_admin *, const char *method,
		    const char *url, struct cli_req *out);
/* Prints j indented on stdout; false on a write error. */
bool		cli_print_json(const json_t *);

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
int	cmd_device(int, char **);
int	cmd_collection(int, char **);
int	cmd_audit(int, char **);
int	cmd_admintoken(int, char **);
int	cmd_acmeeab(int, char **);

#endif
