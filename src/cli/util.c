/*
 * util.c - files, times and arguments for the `devid` commands.
 */
#include <stdlib.h>
#include <string.h>

#include <openssl/crypto.h>

#include "cli.h"

enum dv_rc
cli_file_read(const char *what, const char *path, uint8_t **out,
    size_t *len)
{
	enum dv_rc rc;

	*out = NULL;
	*len = 0;
	if (!file_exists(path)) {
		cli_err("%s file '%s' does not exist (or is not readable)",
		    what, path);
		return DV_ERR_NOT_FOUND;
	}
	rc = file_read(path, CLI_MAX_FILE, out, len);
	if (rc == DV_ERR_TOO_LARGE)
		cli_err("%s file '%s' is larger than %d bytes; is it the "
		    "right file?", what, path, CLI_MAX_FILE);
	else if (rc != DV_OK)
		cli_err_rc(rc, "cannot read %s file '%s'", what, path);
	return rc;
}

enum dv_rc
cli_file_write(const char *what, const char *path, const void *data,
    size_t len, int mode)
{
	enum dv_rc rc;

	if ((rc = file_write(path, data, len, mode)) != DV_OK)
		cli_err_rc(rc, "cannot write %s to '%s' (does the folder "
		    "exist and is it writable?)", what, path);
	return rc;
}

bool
cli_may_write(const char *path, bool force)
{
	if (force || !file_exists(path))
		return true;
	cli_err("'%s' exists; use --force to overwrite it", path);
	return false;
}

bool
cli_time_arg(const char *opt, const char *s, time_t base, time_t *out)
{
	int64_t d;

	if (time_parse_rfc3339(s, out) == DV_OK)
		return true;
	if (dur_parse(s, &d) == DV_OK) {
		*out = base + (time_t)d;
		return true;
	}
	cli_err("%s '%s' is neither an RFC 3339 time "
	    "(2026-01-02T15:04:05Z) nor a duration (5m, 1h30m)", opt, s);
	return false;
}

bool
cli_dur_arg(const char *opt, const char *s, int64_t *out)
{
	if (dur_parse(s, out) == DV_OK)
		return true;
	cli_err("%s '%s' is not a duration (like 30s, 5m, 1h30m)", opt, s);
	return false;
}

void
cli_strs_add(struct cli_strs *l, const char *s)
{
	l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
	l->v[l->n++] = s;
}

void
cli_strs_free(struct cli_strs *l)
{
	if (l == NULL)
		return;
	free(l->v);
	l->v = NULL;
	l->n = 0;
}

enum dv_rc
cli_certs_read(const char *what, const char *path, STACK_OF(X509) **out)
{
	uint8_t *pem = NULL;
	size_t len;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = cli_file_read(what, path, &pem, &len)) != DV_OK)
		goto out;
	if ((rc = pki_certs_from_pem((const char *)pem, len, DV_MAX_CHAIN,
	    out)) != DV_OK)
		cli_err_rc(rc, "%s file '%s' holds no PEM certificate (or "
		    "more than %d)", what, path, DV_MAX_CHAIN);
out:
	free(pem);
	return rc;
}

enum dv_rc
cli_key_read(const char *what, const char *path, EVP_PKEY **out)
{
	uint8_t *pem = NULL;
	size_t len = 0;
	enum dv_rc rc;

	*out = NULL;
	if ((rc = cli_file_read(what, path, &pem, &len)) != DV_OK)
		goto out;
	if ((rc = pki_key_from_pem((const char *)pem, len, NULL, out)) !=
	    DV_OK)
		cli_err_rc(rc, "%s file '%s' is not an unencrypted PEM "
		    "private key", what, path);
out:
	if (pem != NULL)
		OPENSSL_cleanse(pem, len);
	free(pem);
	return rc;
}

bool
cli_cert_matches_key(X509 *leaf, EVP_PKEY *key)
{
	uint8_t *a = NULL, *b = NULL;
	size_t alen = 0, blen = 0;
	EVP_PKEY *pub;
	bool same = false;

	if ((pub = pki_cert_pubkey0(leaf)) == NULL)
		return false;
	if (pki_key_spki_der(pub, &a, &alen) != DV_OK ||
	    pki_key_spki_der(key, &b, &blen) != DV_OK)
		goto out;
	same = alen == blen && memcmp(a, b, alen) == 0;
out:
	free(a);
	free(b);
	return same;
}

char *
cli_ca_url(const char *url)
{
	char *u;
	size_t n;

	if (url == NULL) {
		cli_usage_err("--ca-url is required (e.g. "
		    "https://ca.example:8443/t/default/account)");
		return NULL;
	}
	if (strncmp(url, "https://", 8) != 0 || url[8] == '\0' ||
	    strpbrk(url, " \t\r\n?#") != NULL) {
		cli_usage_err("--ca-url '%s' must be an https:// URL without "
		    "query or fragment", url);
		return NULL;
	}
	u = xstrdup(url);
	n = strlen(u);
	while (n > 8 && u[n - 1] == '/')
		u[--n] = '\0';
	return u;
}

int
cli_subcommand(int argc, char **argv, const char *cmd,
    const char *const subs[3], void (*usage)(FILE *), int *sub)
{
	static char name[64];
	int i;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 ||
	    strcmp(argv[1], "-h") == 0) {
		usage(argc < 2 ? stderr : stdout);
		return argc < 2 ? CLI_EXIT_USAGE : CLI_EXIT_OK;
	}
	for (i = 0; i < 3; i++)
		if (strcmp(argv[1], subs[i]) == 0) {
			snprintf(name, sizeof(name), "%s %s", cmd, subs[i]);
			cli_cmd = name;
			*sub = i;
			return -1;
		}
	return cli_usage_err("unknown subcommand '%s' (%s, %s, %s)", argv[1],
	    subs[0], subs[1], subs[2]);
}
