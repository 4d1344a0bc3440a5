/*
 * main.c - `devid`, the command-line client of a devid (or step-ca) CA.
 */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curl/curl.h>

#include "cli.h"

const char *cli_cmd = "";

struct command {
	const char	*name;
	int		(*run)(int, char **);
	const char	*summary;
};

static const struct command commands[] = {
	{ "token", cmd_token, "mint a one-time token (JWK provisioner)" },
	{ "certificate", cmd_certificate,
	    "generate a key and get a certificate for it" },
	{ "renew", cmd_renew, "renew a certificate (mTLS or token)" },
	{ "revoke", cmd_revoke, "revoke a certificate" },
	{ "roots", cmd_roots, "download the CA roots" },
	{ "inspect", cmd_inspect,
	    "print a certificate, CSR or CRL in human form" },
	{ "device", cmd_device,
	    "add, list, change, retire and import inventory devices" },
	{ "collection", cmd_collection, "manage Device Collections" },
	{ "audit", cmd_audit, "verify or export the audit log" },
	{ "admin-token", cmd_admintoken, "manage admin API tokens" },
	{ "acme-eab", cmd_acmeeab,
	    "manage ACME external account binding keys" },
};

static void
vmsg(const char *fmt, va_list ap, const char *suffix)
{
	fprintf(stderr, "devid%s%s: ", *cli_cmd ? " " : "", cli_cmd);
	vfprintf(stderr, fmt, ap);
	if (suffix != NULL)
		fprintf(stderr, ": %s", suffix);
	fputc('\n', stderr);
}

void
cli_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
}

void
cli_err_rc(enum dv_rc rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, dv_rc_str(rc));
	va_end(ap);
}

int
cli_usage_err(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmsg(fmt, ap, NULL);
	va_end(ap);
	fprintf(stderr, "Run 'devid %s --help' for usage.\n", cli_cmd);
	return CLI_EXIT_USAGE;
}

static void
usage(FILE *f)
{
	size_t i;

	fprintf(f, "usage: devid COMMAND [ARGS...]\n\nCommands:\n");
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(f, "  %-12s %s\n", commands[i].name,
		    commands[i].summary);
	fprintf(f, "\nRun 'devid COMMAND --help' for the options of a "
	    "command.\nDEVID_LOG=debug|info|warn|err sets the level of "
	    "library log lines (default err).\n");
}

static enum log_level
log_level_env(void)
{
	const char *s = getenv("DEVID_LOG");

	if (s == NULL)
		return LOG_ERR;
	if (strcmp(s, "debug") == 0)
		return LOG_DEBUG;
	if (strcmp(s, "info") == 0)
		return LOG_INFO;
	if (strcmp(s, "warn") == 0)
		return LOG_WARN;
	return LOG_ERR;
}

int
main(int argc, char *argv[])
{
	const struct command *c = NULL;
	size_t i;
	int rv;

	log_init(log_level_env(), STDERR_FILENO);
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	for (i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(argv[1], commands[i].name) == 0)
			c = &commands[i];
	if (c == NULL) {
		fprintf(stderr, "devid: unknown command '%s'\n", argv[1]);
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	cli_cmd = c->name;
	if (pki_init() != DV_OK) {
		cli_err("cannot initialise OpenSSL");
		return CLI_EXIT_FAIL;
	}
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		cli_err("cannot initialise libcurl");
		return CLI_EXIT_FAIL;
	}
	/* Commands parse their options from argv[1] (the command name) on. */
	rv = c->run(argc - 1, argv + 1);
	curl_global_cleanup();
	return rv;
}
