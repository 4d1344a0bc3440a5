/*
 * test_api.c - the admin route table against docs/openapi.yaml: every
 * route the server registers is documented with its least role, and every
 * documented admin operation is registered (issue 3, item 8).
 *
 * The document is read line by line rather than by a YAML parser (none is
 * a dependency): docs/openapi.yaml keeps paths at two spaces, methods at
 * four and "x-min-role" at six (its header says so), and the reader refuses
 * any other key at four spaces under a path, so a mis-indented operation
 * fails the test instead of hiding from it.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "api/api.h"
#include "inventory/inv.h"

#define MAX_OPS	128

struct op {
	char	method[8];	/* upper case */
	char	path[160];
	char	role[16];	/* x-min-role, "" if none */
	bool	seen;		/* matched by a route */
};

struct doc {
	struct op	ops[MAX_OPS];
	size_t		n;
};

static char *
doc_path(void)
{
	static const char self[] = "/tests/unit/test_api.c";
	const char *src = getenv("DEVID_SRC");

	/* ctest sets DEVID_SRC; run by hand, CMake's absolute __FILE__ */
	if (src != NULL)
		return xasprintf("%s/docs/openapi.yaml", src);
	if (strlen(__FILE__) > strlen(self) &&
	    strcmp(__FILE__ + strlen(__FILE__) - strlen(self), self) == 0)
		return xasprintf("%.*s/docs/openapi.yaml",
		    (int)(strlen(__FILE__) - strlen(self)), __FILE__);
	return NULL;
}

static size_t
indent(const char *l)
{
	size_t n = 0;

	while (l[n] == ' ')
		n++;
	return n;
}

/* Reads the operations of the paths section; fails the test on a line
 * that breaks the layout rules. */
static void
doc_read(struct doc *d)
{
	static const char *const methods[] = { "get", "put", "post", "patch",
	    "delete", "head", "options" };
	static const char *const pathkeys[] = { "parameters", "summary",
	    "description" };
	uint8_t *text = NULL;
	char *path = doc_path(), *line, *save = NULL, cur[160] = "";
	struct op *op = NULL;
	size_t len, i, ind;
	bool in_paths = false, known;

	memset(d, 0, sizeof(*d));
	if (path == NULL)
		skip();
	assert_int_equal(file_read(path, 1024 * 1024, &text, &len), DV_OK);
	for (line = strtok_r((char *)text, "\n", &save); line != NULL;
	    line = strtok_r(NULL, "\n", &save)) {
		ind = indent(line);
		if (line[ind] == '\0' || line[ind] == '#')
			continue;
		if (ind == 0) {
			in_paths = strcmp(line, "paths:") == 0;
			continue;
		}
		if (!in_paths)
			continue;
		if (ind == 2) {
			len = strlen(line);
			while (len > 0 && line[len - 1] == ' ')
				len--;
			if (line[2] != '/' || line[len - 1] != ':')
				fail_msg("openapi.yaml: not a path at two "
				    "spaces: %s", line);
			assert_true(len - 3 < sizeof(cur));
			memcpy(cur, line + 2, len - 3);
			cur[len - 3] = '\0';
			op = NULL;
		} else if (ind == 4) {
			char *colon = strchr(line + 4, ':');

			assert_non_null(colon);
			*colon = '\0';
			known = false;
			for (i = 0; i < sizeof(methods) / sizeof(methods[0]);
			    i++)
				if (strcmp(line + 4, methods[i]) == 0) {
					assert_true(d->n < MAX_OPS);
					op = &d->ops[d->n++];
					for (len = 0; methods[i][len]; len++)
						op->method[len] = (char)
						    (methods[i][len] - 'a' + 'A');
					snprintf(op->path, sizeof(op->path),
					    "%s", cur);
					known = true;
				}
			for (i = 0; i < sizeof(pathkeys) / sizeof(pathkeys[0]);
			    i++)
				if (strcmp(line + 4, pathkeys[i]) == 0) {
					op = NULL;
					known = true;
				}
			if (!known)
				fail_msg("openapi.yaml: unknown key '%s' under "
				    "path %s", line + 4, cur);
		} else if (ind == 6 && op != NULL &&
		    strncmp(line + 6, "x-min-role:", 11) == 0) {
			const char *v = line + 17;

			while (*v == ' ')
				v++;
			snprintf(op->role, sizeof(op->role), "%s", v);
		}
	}
	free(text);
	free(path);
}

static struct op *
doc_find(struct doc *d, const char *method, const char *path)
{
	size_t i;

	for (i = 0; i < d->n; i++)
		if (strcmp(d->ops[i].method, method) == 0 &&
		    strcmp(d->ops[i].path, path) == 0)
			return &d->ops[i];
	return NULL;
}

/* Every registered route is documented, with its role, and vice versa. */
static void
test_routes_documented(void **state)
{
	const struct api_route *r;
	struct doc *d = xcalloc(1, sizeof(*d));
	struct op *o;
	size_t n, i, admin_ops = 0;

	(void)state;
	doc_read(d);
	r = api_admin_routes(&n);
	assert_true(n > 0);
	for (i = 0; i < n; i++) {
		o = doc_find(d, r[i].method, r[i].pattern);
		if (o == NULL)
			fail_msg("%s %s is registered but not in "
			    "docs/openapi.yaml", r[i].method, r[i].pattern);
		o->seen = true;
		if (r[i].min_role == API_ROLE_NONE)
			assert_string_equal(o->role, "none");
		else if (strcmp(o->role, inv_role_name((enum inv_role)
		    r[i].min_role)) != 0)
			fail_msg("%s %s: x-min-role '%s' in docs/openapi.yaml, "
			    "'%s' in the route table", r[i].method,
			    r[i].pattern, o->role, inv_role_name((enum inv_role)
			    r[i].min_role));
	}
	for (i = 0; i < d->n; i++) {
		if (strncmp(d->ops[i].path, "/admin/", 7) != 0)
			continue;
		admin_ops++;
		if (!d->ops[i].seen)
			fail_msg("%s %s is in docs/openapi.yaml but the server "
			    "does not register it", d->ops[i].method,
			    d->ops[i].path);
	}
	assert_int_equal(admin_ops, n);
	/* the server root's health check (api.c) */
	assert_non_null(doc_find(d, "GET", "/health"));
	free(d);
}

/* The table itself: unique, under the team prefix, known methods and
 * roles, parameters that the matcher can capture. */
static void
test_route_table(void **state)
{
	static const char prefix[] = "/admin/v1/teams/{team}/";
	const struct api_route *r;
	size_t n, i, j;

	(void)state;
	r = api_admin_routes(&n);
	for (i = 0; i < n; i++) {
		const char *p;

		assert_int_equal(strncmp(r[i].pattern, prefix,
		    sizeof(prefix) - 1), 0);
		assert_true(strcmp(r[i].method, "GET") == 0 ||
		    strcmp(r[i].method, "POST") == 0 ||
		    strcmp(r[i].method, "PATCH") == 0 ||
		    strcmp(r[i].method, "DELETE") == 0);
		assert_true(r[i].min_role == API_ROLE_NONE ||
		    (r[i].min_role >= 0 && r[i].min_role < INV_ROLE__MAX));
		assert_non_null(r[i].handler);
		/* a parameter ends at '/', ':' or the end (route_match) */
		for (p = strchr(r[i].pattern, '}'); p != NULL;
		    p = strchr(p + 1, '}'))
			assert_true(p[1] == '\0' || p[1] == '/' || p[1] == ':');
		for (j = 0; j < i; j++)
			assert_false(strcmp(r[i].method, r[j].method) == 0 &&
			    strcmp(r[i].pattern, r[j].pattern) == 0);
	}
}

/* Roles are ordered as the table assumes, and named as the docs say. */
static void
test_roles(void **state)
{
	static const char *const names[INV_ROLE__MAX] = {
		[INV_ROLE_VIEWER] = "viewer",
		[INV_ROLE_MDM_SYNC] = "mdm-sync",
		[INV_ROLE_ADMIN] = "admin",
		[INV_ROLE_OWNER] = "owner",
	};
	enum inv_role r;
	int i;

	(void)state;
	assert_true(INV_ROLE_VIEWER < INV_ROLE_MDM_SYNC);
	assert_true(INV_ROLE_MDM_SYNC < INV_ROLE_ADMIN);
	assert_true(INV_ROLE_ADMIN < INV_ROLE_OWNER);
	for (i = 0; i < INV_ROLE__MAX; i++) {
		assert_string_equal(inv_role_name((enum inv_role)i), names[i]);
		assert_int_equal(inv_role_parse(names[i], &r), DV_OK);
		assert_int_equal(r, i);
	}
}

int
main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_routes_documented),
		cmocka_unit_test(test_route_table),
		cmocka_unit_test(test_roles),
	};

	log_init(LOG__MAX, 2);
	return cmocka_run_group_tests(tests, NULL, NULL);
}
