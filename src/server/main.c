/*
 * main.c - devid-ca: `init` creates a data folder, `serve` runs the CAs.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "acme/acme.h"
#include "api/api.h"
#include "tpm/tpm.h"
#include "inventory/inv.h"

static void
usage(FILE *f)
{
	fputs("usage: devid-ca init [--data DIR] [--listen HOST:PORT] "
	    "[--dns NAME]... [--key-type p256|p384|rsa3072] [--team NAME]\n"
	    "       devid-ca serve [--data DIR] [--local-signer] "
	    "[--log-level debug|info|warn|err]\n"
	    "       devid-ca admin-token [--data DIR] [--team NAME] "
	    "[--out FILE]\n"
	    "       devid-ca team add NAME [--data DIR] "
	    "[--key-type p256|p384|rsa3072]\n"
	    "       devid-ca version\n"
	    "\n"
	    "init   creates DIR (default ./var/devid): for team 'default' an\n"
	    "       attestation, an agent and an account authority (root +\n"
	    "       intermediate each, keys encrypted at rest), the admin JWK\n"
	    "       provisioner, config.json and the team's first admin API\n"
	    "       owner token (DIR/admin/owner.token).\n"
	    "serve  serves HTTPS on the configured address until SIGINT or\n"
	    "       SIGTERM.\n"
	    "admin-token\n"
	    "       mints a new owner token of the team's admin API (default\n"
	    "       team 'default') from the data folder, printed or written\n"
	    "       to FILE (0600): to replace a lost one, or for a new team.\n"
	    "team add\n"
	    "       adds team NAME to the data folder: its three authorities\n"
	    "       (keys under the folder's password), its admin JWK\n"
	    "       provisioner (DIR/admin/NAME-provisioner.json) and its first\n"
	    "       owner token (DIR/admin/NAME-owner.token); restart serve.\n",
	    f);
}

/* Opens the store named by DIR/config.json and the inventory over it. */
static enum dv_rc
inventory_open(const char *dir, struct store **st, struct inv **inv)
{
	uint8_t *data = NULL;
	json_t *cfg = NULL;
	char *path, *url = NULL;
	const char *s;
	size_t len;
	enum dv_rc rc;

	*st = NULL;
	*inv = NULL;
	path = xasprintf("%s/config.json", dir);
	if ((rc = file_read(path, 1024 * 1024, &data, &len)) != DV_OK ||
	    (rc = json_parse_strict(data, len, 1024 * 1024, &cfg)) != DV_OK)
		goto out;
	/* as ca_open: db.dataSource, relative to the data folder */
	if ((s = json_get_str(json_object_get(cfg, "db"), "dataSource")) ==
	    NULL)
		s = "devid.db";
	url = s[0] == '/' ? xstrdup(s) : xasprintf("%s/%s", dir, s);
	if ((rc = store_open(url, st)) != DV_OK)
		goto out;
	if ((rc = inv_open(*st, inv)) != DV_OK) {
		store_close(*st);
		*st = NULL;
	}
out:
	json_decref(cfg);
	free(data);
	free(path);
	free(url);
	return rc;
}

/* Mints an owner token of team (inv_token_bootstrap) into *line, a new
 * "<secret>\n" the caller wipes. */
static enum dv_rc
owner_token(const char *dir, const char *team, char **line)
{
	struct store *st = NULL;
	struct inv *inv = NULL;
	char *secret = NULL;
	enum dv_rc rc;

	*line = NULL;
	if ((rc = inventory_open(dir, &st, &inv)) != DV_OK)
		return rc;
	if ((rc = inv_token_bootstrap(inv, team, &secret)) == DV_OK)
		*line = xasprintf("%s\n", secret);
	if (secret != NULL)
		explicit_bzero(secret, strlen(secret));
	free(secret);
	inv_free(inv);
	store_close(st);
	return rc;
}

/*
 * The team's first admin API owner token written to path (0600) and named
 * in sum, then sum printed: what `init` and `team add` end with.  1 when
 * the token could not be made (said on stderr, as prog), else 0.
 */
static int
owner_token_and_summary(const char *prog, const char *dir, const char *team,
    const char *path, json_t *sum)
{
	char *line = NULL, *text;
	enum dv_rc rc;
	int ret = 0;

	if ((rc = owner_token(dir, team, &line)) != DV_OK ||
	    (rc = file_write(path, line, strlen(line), 0600)) != DV_OK) {
		fprintf(stderr, "%s: the data folder is made, but not the "
		    "admin API owner token of team %s: %s (run `devid-ca "
		    "admin-token --data %s --team %s --out %s`)\n", prog, team,
		    dv_rc_str(rc), dir, team, path);
		ret = 1;
	} else
		json_object_set_new(sum, "ownerToken", json_string(path));
	if (line != NULL)
		explicit_bzero(line, strlen(line));
	free(line);
	text = json_dumps(sum, JSON_INDENT(2));
	printf("%s\n", text);
	free(text);
	return ret;
}

static int
cmd_init(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "listen", required_argument, NULL, 'l' },
		{ "dns", required_argument, NULL, 'n' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "team", required_argument, NULL, 't' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_init_opts o;
	const char **dns = NULL;
	json_t *sum = NULL;
	char *path;
	enum dv_rc rc;
	int c, ret = 0;

	memset(&o, 0, sizeof(o));
	o.dir = "var/devid";
	o.listen = "127.0.0.1:8443";
	o.key_type = PKI_KEY_P256;
	o.team = "default";
	while ((c = getopt_long(argc, argv, "d:l:n:k:t:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.dir = optarg;
			break;
		case 'l':
			o.listen = optarg;
			break;
		case 'n':
			dns = xrealloc(dns, (o.ndns + 1) * sizeof(*dns));
			dns[o.ndns++] = optarg;
			break;
		case 'k':
			if (pki_key_type_parse(optarg, &o.key_type) != DV_OK) {
				fprintf(stderr, "devid-ca init: unknown key type "
				    "'%s' (use p256, p384 or rsa3072)\n",
				    optarg);
				return 2;
			}
			break;
		case 't':
			o.team = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	o.dns = dns;
	if ((rc = ca_init_data(&o, &sum)) != DV_OK) {
		fprintf(stderr, "devid-ca init: %s%s\n", dv_rc_str(rc),
		    rc == DV_ERR_EXISTS ? " (the data folder is already "
		    "initialised; serve it, or choose another --data)" : "");
		free(dns);
		return 1;
	}
	/* The team's first admin API token: an owner's, shown only here. */
	path = xasprintf("%s/admin/owner.token", o.dir);
	ret = owner_token_and_summary("devid-ca init", o.dir, o.team, path,
	    sum);
	free(path);
	json_decref(sum);
	free(dns);
	return ret;
}

static int
cmd_team(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "key-type", required_argument, NULL, 'k' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	struct ca_init_opts o;
	json_t *sum = NULL;
	char *path = NULL;
	enum dv_rc rc;
	int c, ret;

	memset(&o, 0, sizeof(o));
	o.dir = "var/devid";
	o.key_type = PKI_KEY_P256;
	if (argc < 3 || strcmp(argv[1], "add") != 0) {
		usage(stderr);
		return 2;
	}
	o.team = argv[2];
	argc -= 2;
	argv += 2;
	while ((c = getopt_long(argc, argv, "d:k:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			o.dir = optarg;
			break;
		case 'k':
			if (pki_key_type_parse(optarg, &o.key_type) != DV_OK) {
				fprintf(stderr, "devid-ca team add: unknown key "
				    "type '%s' (use p256, p384 or rsa3072)\n",
				    optarg);
				return 2;
			}
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if ((rc = ca_team_add(&o, &sum)) != DV_OK) {
		fprintf(stderr, "devid-ca team add: %s%s\n", dv_rc_str(rc),
		    rc == DV_ERR_EXISTS ? " (the team is already there)" :
		    rc == DV_ERR_MALFORMED ? " (a team name is 1 to 64 of "
		    "[a-z0-9._-], not starting with '.'; is --data a folder "
		    "made by `devid-ca init`?)" : "");
		return 1;
	}
	path = xasprintf("%s/admin/%s-owner.token", o.dir, o.team);
	ret = owner_token_and_summary("devid-ca team add", o.dir, o.team, path,
	    sum);
	free(path);
	json_decref(sum);
	return ret;
}

static int
cmd_admin_token(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "team", required_argument, NULL, 't' },
		{ "out", required_argument, NULL, 'o' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = "var/devid", *team = "default", *out = NULL;
	char *line = NULL;
	enum dv_rc rc;
	int c, ret = 1;

	while ((c = getopt_long(argc, argv, "d:t:o:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 't':
			team = optarg;
			break;
		case 'o':
			out = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (out != NULL && file_exists(out)) {
		fprintf(stderr, "devid-ca admin-token: '%s' exists; remove it "
		    "or choose another --out\n", out);
		return 1;
	}
	if ((rc = owner_token(dir, team, &line)) != DV_OK) {
		fprintf(stderr, "devid-ca admin-token: cannot mint a token in "
		    "%s: %s (is it a data folder made by `devid-ca init`, and "
		    "is --team a valid name?)\n", dir, dv_rc_str(rc));
		goto out;
	}
	if (out != NULL) {
		if ((rc = file_write(out, line, strlen(line), 0600)) != DV_OK) {
			fprintf(stderr, "devid-ca admin-token: cannot write %s: "
			    "%s\n", out, dv_rc_str(rc));
			goto out;
		}
	} else if (fputs(line, stdout) == EOF || fflush(stdout) != 0)
		goto out;
	ret = 0;
out:
	if (line != NULL)
		explicit_bzero(line, strlen(line));
	free(line);
	return ret;
}

static void
banner(struct ca *ca, int port)
{
	size_t i;

	printf("devid-ca %s serving https://%s:%d\n", DEVID_VERSION,
	    ca->dns[0], port);
	for (i = 0; i < ca->nauths; i++)
		printf("  %-22s https://%s:%d%s  root sha256 %s\n",
		    ca->auths[i]->id, ca->dns[0], port, ca->auths[i]->base,
		    ca->auths[i]->root_sha);
	printf("  TLS roots: %s/certs/roots.pem\n", ca->dir);
	printf("  admin credentials: %s/admin/provisioner.json (JWK "
	    "provisioner), %s/admin/owner.token (admin API owner token)\n",
	    ca->dir, ca->dir);
	printf("  admin API: https://%s:%d/admin/v1/teams/{team}/\n",
	    ca->dns[0], port);
	fflush(stdout);
}

static int
cmd_serve(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "data", required_argument, NULL, 'd' },
		{ "local-signer", no_argument, NULL, 'L' },
		{ "log-level", required_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 }
	};
	const char *dir = "var/devid";
	struct http_server *srv = NULL;
	struct http_config hc;
	struct ca *ca = NULL;
	char *chain = NULL, *key = NULL;
	time_t tls_exp, tls_nb, now, last_gc = 0;
	unsigned rec_valid, rec_invalid;
	bool local = false;
	sigset_t set;
	int c, sig, ret = 1;
	enum dv_rc rc;

	while ((c = getopt_long(argc, argv, "d:Lv:h", opts, NULL)) != -1) {
		switch (c) {
		case 'd':
			dir = optarg;
			break;
		case 'L':
			local = true;
			break;
		case 'v':
			if (strcmp(optarg, "debug") == 0)
				log_init(LOG_DEBUG, 2);
			else if (strcmp(optarg, "warn") == 0)
				log_init(LOG_WARN, 2);
			else if (strcmp(optarg, "err") == 0)
				log_init(LOG_ERR, 2);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	/* Signals are taken by sigtimedwait below, in this thread only. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);

	/* The signer process is forked here, before any thread exists. */
	if ((rc = ca_open(dir, local, &ca)) != DV_OK) {
		fprintf(stderr, "devid-ca serve: cannot open %s: %s (run "
		    "`devid-ca init --data %s` first?)\n", dir, dv_rc_str(rc),
		    dir);
		return 1;
	}
	if ((rc = ca_tls_issue(ca, &chain, &key, &tls_exp)) != DV_OK) {
		fprintf(stderr, "devid-ca serve: cannot issue the TLS "
		    "certificate: %s\n", dv_rc_str(rc));
		goto out;
	}
	tls_nb = dv_now();
	/* orders a stop left between finalize's two transactions */
	if ((rc = acme_recover(ca->store, &rec_valid, &rec_invalid)) !=
	    DV_OK) {
		fprintf(stderr, "devid-ca serve: cannot recover the ACME "
		    "orders left processing: %s\n", dv_rc_str(rc));
		goto out;
	}
	/* ACME challenge validation, off the request threads */
	if ((rc = acme_validators_start(ca, 4)) != DV_OK) {
		fprintf(stderr, "devid-ca serve: cannot start the ACME "
		    "validators: %s\n", dv_rc_str(rc));
		goto out;
	}
	memset(&hc, 0, sizeof(hc));
	hc.listen = ca->listen;
	hc.workers = ca->workers;
	hc.max_body = ca->max_body;
	hc.max_body_large = ca->max_import;
	hc.max_conns = ca->max_conns;
	hc.handler = api_handle;
	hc.arg = ca;
	hc.chain_pem = chain;
	hc.key_pem = key;
	if ((rc = http_server_start(&hc, &srv)) != DV_OK) {
		fprintf(stderr, "devid-ca serve: cannot listen on %s: %s\n",
		    ca->listen, dv_rc_str(rc));
		goto out;
	}
	explicit_bzero(key, strlen(key));
	banner(ca, http_server_port(srv));
	log_msg(LOG_INFO, "server.start", "{s:s,s:i}", "listen", ca->listen,
	    "workers", (int)ca->workers);

	for (;;) {
		struct timespec ts = { 30, 0 };

		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGINT || sig == SIGTERM)
			break;
		now = dv_now();
		/* Renew the TLS certificate after two thirds of its life. */
		if (now > tls_nb + (tls_exp - tls_nb) * 2 / 3) {
			free(chain);
			free(key);
			chain = key = NULL;
			if (ca_tls_issue(ca, &chain, &key, &tls_exp) == DV_OK &&
			    http_server_set_cert(srv, chain, key) == DV_OK) {
				tls_nb = now;
				log_msg(LOG_INFO, "tls.renewed", NULL);
			} else
				log_msg(LOG_ERR, "tls.renew_failed", NULL);
			if (key != NULL)
				explicit_bzero(key, strlen(key));
		}
		if (now - last_gc > 3600) {
			(void)store_tokens_expire(ca->store, now - DV_TOKEN_LEEWAY);
			last_gc = now;
		}
	}
	/* let running imports finish and reply (at most a minute) */
	for (c = 0; c < 600 && api_jobs_running() > 0; c++)
		usleep(100 * 1000);
	log_msg(LOG_INFO, "server.stop", NULL);
	ret = 0;
out:
	http_server_stop(srv);
	acme_validators_stop();
	acme_key_cache_clear();
	ca_free(ca);
	free(chain);
	free(key);
	return ret;
}

int
main(int argc, char **argv)
{
	tpm_init();	/* before any thread: it sets TSS2_LOG */
	if (pki_init() != DV_OK) {
		fprintf(stderr, "devid-ca: OpenSSL initialisation failed\n");
		return 1;
	}
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (strcmp(argv[1], "init") == 0)
		return cmd_init(argc - 1, argv + 1);
	if (strcmp(argv[1], "serve") == 0)
		return cmd_serve(argc - 1, argv + 1);
	if (strcmp(argv[1], "admin-token") == 0)
		return cmd_admin_token(argc - 1, argv + 1);
	if (strcmp(argv[1], "team") == 0)
		return cmd_team(argc - 1, argv + 1);
	if (strcmp(argv[1], "version") == 0) {
		printf("devid-ca %s\n", DEVID_VERSION);
		return 0;
	}
	if (strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "devid-ca: unknown command '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
