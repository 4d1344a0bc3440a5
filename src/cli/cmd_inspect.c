/*
 * cmd_inspect.c - `devid inspect`: a certificate, CSR or CRL in human form
 * or as JSON (the description comes from pki_inspect).
 */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"

/* Prints untrusted text, replacing control characters (terminal escapes)
 * with '?'. */
static void
put_safe(const char *s)
{
	for (; *s != '\0'; s++)
		putchar((unsigned char)*s < 0x20 || *s == 0x7f ? '?' : *s);
}

static void
field(const char *label, const char *value)
{
	if (value == NULL)
		return;
	printf("  %-22s ", label);
	put_safe(value);
	putchar('\n');
}

/* "a, b, c" of an array of strings or of {"type","value"} objects. */
static void
field_list(const char *label, const json_t *a)
{
	const json_t *v;
	size_t i;

	if (!json_is_array(a))
		return;
	printf("  %-22s ", label);
	if (json_array_size(a) == 0)
		printf("(none)");
	json_array_foreach(a, i, v) {
		if (i > 0)
			printf(", ");
		if (json_is_string(v))
			put_safe(json_string_value(v));
		else if (json_is_object(v) && json_get_str(v, "type") &&
		    json_get_str(v, "value")) {
			put_safe(json_get_str(v, "type"));
			putchar(':');
			put_safe(json_get_str(v, "value"));
		}
	}
	putchar('\n');
}

static void
field_serial(const char *label, const json_t *s)
{
	const char *dec = json_get_str(s, "dec"), *hex = json_get_str(s, "hex");

	if (dec == NULL)
		return;
	printf("  %-22s ", label);
	put_safe(dec);
	if (hex != NULL) {
		printf(" (0x");
		put_safe(hex);
		putchar(')');
	}
	putchar('\n');
}

static void
field_key(const json_t *k)
{
	const char *t = json_get_str(k, "type"), *c = json_get_str(k, "curve");

	if (t == NULL)
		return;
	printf("  %-22s ", "Public key:");
	put_safe(t);
	if (c != NULL) {
		putchar(' ');
		put_safe(c);
	} else
		printf(" %lld bits",
		    (long long)json_integer_value(json_object_get(k, "bits")));
	putchar('\n');
}

static void
field_validity(const json_t *o)
{
	const char *nb = json_get_str(o, "notBefore");
	const char *na = json_get_str(o, "notAfter");
	time_t tb, ta, now = dv_now();

	field("Not before:", nb);
	field("Not after:", na);
	if (nb == NULL || na == NULL || time_parse_rfc3339(nb, &tb) != DV_OK ||
	    time_parse_rfc3339(na, &ta) != DV_OK)
		return;
	if (now < tb)
		field("Status:", "not yet valid");
	else if (now > ta)
		field("Status:", "expired");
	else
		field("Status:", "valid");
}

static void
print_common_exts(const json_t *o)
{
	const json_t *bc = json_object_get(o, "basicConstraints");
	const json_t *p = json_object_get(o, "provisioner");
	const char *cred;

	field_list("SANs:", json_object_get(o, "sans"));
	field_list("Key usage:", json_object_get(o, "keyUsage"));
	field_list("Extended key usage:", json_object_get(o, "extKeyUsage"));
	if (json_is_object(bc)) {
		printf("  %-22s CA:%s", "Basic constraints:",
		    json_is_true(json_object_get(bc, "ca")) ? "true" : "false");
		if (json_object_get(bc, "pathLen") != NULL)
			printf(", pathlen:%lld", (long long)json_integer_value(
			    json_object_get(bc, "pathLen")));
		putchar('\n');
	}
	if (json_is_object(p)) {
		printf("  %-22s ", "Provisioner:");
		if (json_get_str(p, "name") != NULL) {
			put_safe(json_get_str(p, "name"));
			printf(" (%s, type %lld)", json_get_str(p, "typeName") ?
			    json_get_str(p, "typeName") : "?",
			    (long long)json_integer_value(json_object_get(p,
			    "type")));
		} else
			printf("(malformed extension)");
		putchar('\n');
		cred = json_get_str(p, "credentialID");
		if (cred != NULL && cred[0] != '\0')
			field("Credential ID:", cred);
	}
	field("Subject key ID:", json_get_str(o, "subjectKeyId"));
	field("Authority key ID:", json_get_str(o, "authorityKeyId"));
	field_list("CRL distribution:", json_object_get(o,
	    "crlDistributionPoints"));
	field_list("OCSP:", json_object_get(o, "ocsp"));
	field_list("CA issuers:", json_object_get(o, "caIssuers"));
}

static void
print_one(const json_t *o)
{
	const char *type = json_get_str(o, "type");
	const json_t *v, *e;
	size_t i;

	if (type == NULL)
		return;
	if (strcmp(type, "certificate") == 0) {
		printf("Certificate:\n");
		field_serial("Serial:", json_object_get(o, "serial"));
		field("Subject:", json_get_str(o, "subject"));
		field("Issuer:", json_get_str(o, "issuer"));
		field_validity(o);
		field_key(json_object_get(o, "publicKey"));
		field("Signature algorithm:",
		    json_get_str(o, "signatureAlgorithm"));
		print_common_exts(o);
		field("SHA-256 fingerprint:", json_get_str(o, "sha256"));
	} else if (strcmp(type, "csr") == 0) {
		printf("Certificate request:\n");
		field("Subject:", json_get_str(o, "subject"));
		field_key(json_object_get(o, "publicKey"));
		field("Signature algorithm:",
		    json_get_str(o, "signatureAlgorithm"));
		field("Signature:", json_is_true(json_object_get(o,
		    "signatureValid")) ? "valid" : "INVALID");
		print_common_exts(o);
	} else if (strcmp(type, "crl") == 0) {
		printf("Certificate revocation list:\n");
		field("Issuer:", json_get_str(o, "issuer"));
		field_serial("CRL number:", json_object_get(o, "crlNumber"));
		field("This update:", json_get_str(o, "thisUpdate"));
		field("Next update:", json_get_str(o, "nextUpdate"));
		field("Signature algorithm:",
		    json_get_str(o, "signatureAlgorithm"));
		field("Authority key ID:", json_get_str(o, "authorityKeyId"));
		v = json_object_get(o, "revoked");
		printf("  %-22s %zu\n", "Revoked:", json_array_size(v));
		json_array_foreach(v, i, e) {
			const json_t *s = json_object_get(e, "serial");

			printf("    ");
			put_safe(json_get_str(s, "dec") ?
			    json_get_str(s, "dec") : "?");
			printf("  ");
			put_safe(json_get_str(e, "revocationDate") ?
			    json_get_str(e, "revocationDate") : "?");
			if (json_get_str(e, "reason") != NULL) {
				printf("  ");
				put_safe(json_get_str(e, "reason"));
			}
			putchar('\n');
		}
	}
}

static void
usage(FILE *f)
{
	fprintf(f,
"usage: devid inspect [--json] FILE\n"
"\n"
"Prints a certificate (or a PEM chain), a CSR or a CRL, PEM or DER: subject,\n"
"issuer, serial (decimal and hex), validity, SANs, key usages, provisioner\n"
"extension, revoked serials.  Nothing is verified.\n"
"\n"
"  --json   print the description as JSON\n"
"  --help   this text\n");
}

int
cmd_inspect(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	json_t *d = NULL, *v;
	uint8_t *data = NULL;
	char *text = NULL;
	size_t len, i;
	bool as_json = false;
	int ch, rv = CLI_EXIT_USAGE;
	enum dv_rc rc;

	while ((ch = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (ch) {
		case 'j': as_json = true; break;
		case 'h':
			usage(stdout);
			rv = CLI_EXIT_OK;
			goto out;
		default:
			rv = cli_usage_err("unknown option");
			goto out;
		}
	}
	if (argc - optind != 1) {
		rv = cli_usage_err("give one FILE (a certificate, CSR or CRL)");
		goto out;
	}
	rv = CLI_EXIT_FAIL;
	if (cli_file_read("input", argv[optind], &data, &len) != DV_OK)
		goto out;
	if ((rc = pki_inspect(data, len, &d)) != DV_OK) {
		cli_err("'%s' is not a certificate, CSR or CRL (PEM or DER)%s",
		    argv[optind], rc == DV_ERR_TOO_LARGE ? ": too large" : "");
		goto out;
	}
	if (as_json) {
		if ((text = json_dumps(d, JSON_INDENT(2))) == NULL) {
			cli_err("cannot encode the description");
			goto out;
		}
		printf("%s\n", text);
	} else if (json_is_array(d)) {
		json_array_foreach(d, i, v) {
			if (i > 0)
				putchar('\n');
			print_one(v);
		}
	} else
		print_one(d);
	rv = fflush(stdout) == 0 ? CLI_EXIT_OK : CLI_EXIT_FAIL;
out:
	free(text);
	free(data);
	json_decref(d);
	return rv;
}
