#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base.h"

enum dv_rc
num_parse(const char *s, long long min, long long max, long long *out)
{
	char *end;
	long long v;

	*out = 0;
	if (s == NULL || *s == '\0' || isspace((unsigned char)*s))
		return DV_ERR_MALFORMED;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return DV_ERR_MALFORMED;
	*out = v;
	return DV_OK;
}

enum dv_rc
dur_parse(const char *s, int64_t *out)
{
	const char *p = s;
	int neg = 0, any = 0;
	double total = 0;

	*out = 0;
	if (s == NULL || *s == '\0' || strlen(s) > 64)
		return DV_ERR_MALFORMED;
	if (*p == '-' || *p == '+')
		neg = (*p++ == '-');
	if (strcmp(p, "0") == 0)
		return DV_OK;
	while (*p) {
		double v, mul;
		char *end;

		if (!isdigit((unsigned char)*p) && *p != '.')
			return DV_ERR_MALFORMED;
		errno = 0;
		v = strtod(p, &end);
		if (errno != 0 || end == p)
			return DV_ERR_MALFORMED;
		p = end;
		if (strncmp(p, "ns", 2) == 0) {
			mul = 1e-9; p += 2;
		} else if (strncmp(p, "us", 2) == 0) {
			mul = 1e-6; p += 2;
		} else if (strncmp(p, "ms", 2) == 0) {
			mul = 1e-3; p += 2;
		} else if (*p == 's') {
			mul = 1; p++;
		} else if (*p == 'm') {
			mul = 60; p++;
		} else if (*p == 'h') {
			mul = 3600; p++;
		} else
			return DV_ERR_MALFORMED;
		total += v * mul;
		if (total > 1e11)
			return DV_ERR_MALFORMED;
		any = 1;
	}
	if (!any)
		return DV_ERR_MALFORMED;
	*out = (int64_t)total * (neg ? -1 : 1);
	return DV_OK;
}

char *
dur_format(int64_t secs)
{
	int64_t a = secs < 0 ? -secs : secs;

	return xasprintf("%s%lldh%lldm%llds", secs < 0 ? "-" : "",
	    (long long)(a / 3600), (long long)(a % 3600 / 60),
	    (long long)(a % 60));
}

enum dv_rc
time_parse_rfc3339(const char *s, time_t *out)
{
	struct tm tm;
	const char *p;
	long off = 0;
	time_t t;

	*out = 0;
	if (s == NULL || strlen(s) > 40)
		return DV_ERR_MALFORMED;
	memset(&tm, 0, sizeof(tm));
	p = strptime(s, "%Y-%m-%dT%H:%M:%S", &tm);
	if (p == NULL)
		return DV_ERR_MALFORMED;
	if (*p == '.') {		/* fractional seconds: ignored */
		p++;
		if (!isdigit((unsigned char)*p))
			return DV_ERR_MALFORMED;
		while (isdigit((unsigned char)*p))
			p++;
	}
	if (*p == 'Z' || *p == 'z')
		p++;
	else if (*p == '+' || *p == '-') {
		int sign = *p == '-' ? -1 : 1, hh, mm;

		if (!isdigit((unsigned char)p[1]) ||
		    !isdigit((unsigned char)p[2]) || p[3] != ':' ||
		    !isdigit((unsigned char)p[4]) ||
		    !isdigit((unsigned char)p[5]))
			return DV_ERR_MALFORMED;
		hh = (p[1] - '0') * 10 + (p[2] - '0');
		mm = (p[4] - '0') * 10 + (p[5] - '0');
		if (hh > 23 || mm > 59)
			return DV_ERR_MALFORMED;
		off = sign * (hh * 3600L + mm * 60L);
		p += 6;
	} else
		return DV_ERR_MALFORMED;
	if (*p != '\0')
		return DV_ERR_MALFORMED;
	t = timegm(&tm);
	if (t == (time_t)-1)
		return DV_ERR_MALFORMED;
	*out = t - off;
	return DV_OK;
}

void
time_format_rfc3339(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

char *
hex_encode(const uint8_t *p, size_t n)
{
	static const char digits[] = "0123456789abcdef";
	char *s = xmalloc(n * 2 + 1);
	size_t i;

	for (i = 0; i < n; i++) {
		s[2 * i] = digits[p[i] >> 4];
		s[2 * i + 1] = digits[p[i] & 15];
	}
	s[2 * n] = '\0';
	return s;
}

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

enum dv_rc
hex_decode(const char *s, uint8_t **out, size_t *outlen)
{
	size_t n = strlen(s), i;
	uint8_t *p;

	*out = NULL;
	*outlen = 0;
	if (n % 2)
		return DV_ERR_MALFORMED;
	p = xmalloc(n / 2);
	for (i = 0; i < n / 2; i++) {
		int hi = hexval((unsigned char)s[2 * i]);
		int lo = hexval((unsigned char)s[2 * i + 1]);

		if (hi < 0 || lo < 0) {
			free(p);
			return DV_ERR_MALFORMED;
		}
		p[i] = (uint8_t)(hi << 4 | lo);
	}
	*out = p;
	*outlen = n / 2;
	return DV_OK;
}

enum dv_rc
file_read(const char *path, size_t max, uint8_t **out, size_t *len)
{
	struct buf b = { 0 };
	uint8_t chunk[8192];
	ssize_t n;
	int fd;

	*out = NULL;
	*len = 0;
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1) {
		log_msg(LOG_ERR, "file.open", "{s:s,s:s}", "path", path,
		    "error", strerror(errno));
		return errno == ENOENT ? DV_ERR_NOT_FOUND : DV_ERR_IO;
	}
	while ((n = read(fd, chunk, sizeof(chunk))) > 0) {
		if (b.len + (size_t)n > max) {
			close(fd);
			buf_free(&b);
			log_msg(LOG_ERR, "file.too_large", "{s:s}", "path",
			    path);
			return DV_ERR_TOO_LARGE;
		}
		buf_append(&b, chunk, (size_t)n);
	}
	close(fd);
	if (n < 0) {
		buf_free(&b);
		return DV_ERR_IO;
	}
	buf_append(&b, "", 1);
	*out = b.data;
	*len = b.len - 1;
	return DV_OK;
}

enum dv_rc
file_write(const char *path, const void *data, size_t len, int mode)
{
	char *tmp = xasprintf("%s.tmp.%ld", path, (long)getpid());
	char *dcopy = NULL;
	const uint8_t *p = data;
	enum dv_rc rc = DV_ERR_IO;
	int fd, dfd;

	fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, mode);
	if (fd == -1)
		goto out;
	(void)fchmod(fd, mode);
	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n <= 0) {
			close(fd);
			unlink(tmp);
			goto out;
		}
		p += n;
		len -= (size_t)n;
	}
	if (fsync(fd) == -1 || close(fd) == -1) {
		unlink(tmp);
		goto out;
	}
	if (rename(tmp, path) == -1) {
		unlink(tmp);
		goto out;
	}
	dcopy = xstrdup(path);
	if ((dfd = open(dirname(dcopy), O_RDONLY | O_DIRECTORY)) != -1) {
		(void)fsync(dfd);
		close(dfd);
	}
	rc = DV_OK;
out:
	if (rc != DV_OK)
		log_msg(LOG_ERR, "file.write", "{s:s,s:s}", "path", path,
		    "error", strerror(errno));
	free(dcopy);
	free(tmp);
	return rc;
}

enum dv_rc
dir_make(const char *path, int mode)
{
	char *p = xstrdup(path), *s;

	for (s = p + 1; *s; s++) {
		if (*s != '/')
			continue;
		*s = '\0';
		if (mkdir(p, 0755) == -1 && errno != EEXIST) {
			free(p);
			return DV_ERR_IO;
		}
		*s = '/';
	}
	if (mkdir(p, mode) == -1 && errno != EEXIST) {
		log_msg(LOG_ERR, "dir.make", "{s:s,s:s}", "path", path,
		    "error", strerror(errno));
		free(p);
		return DV_ERR_IO;
	}
	(void)chmod(p, mode);
	free(p);
	return DV_OK;
}

bool
file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

static bool
json_depth_ok(const json_t *v, int depth)
{
	const char *k;
	json_t *e;
	size_t i;

	if (depth > DV_MAX_JSON_DEPTH)
		return false;
	if (json_is_object(v)) {
		json_object_foreach((json_t *)v, k, e)
			if (!json_depth_ok(e, depth + 1))
				return false;
	} else if (json_is_array(v)) {
		json_array_foreach(v, i, e)
			if (!json_depth_ok(e, depth + 1))
				return false;
	}
	return true;
}

enum dv_rc
json_parse_strict(const void *data, size_t len, size_t max, json_t **out)
{
	json_error_t err;
	json_t *j;

	*out = NULL;
	if (len > max)
		return DV_ERR_TOO_LARGE;
	j = json_loadb(data, len, JSON_REJECT_DUPLICATES, &err);
	if (j == NULL) {
		log_msg(LOG_INFO, "json.parse", "{s:s,s:i}", "error", err.text,
		    "position", err.position);
		return DV_ERR_MALFORMED;
	}
	if (!json_is_object(j) || !json_depth_ok(j, 0)) {
		json_decref(j);
		return DV_ERR_MALFORMED;
	}
	*out = j;
	return DV_OK;
}

const char *
json_get_str(const json_t *obj, const char *key)
{
	return json_string_value(json_object_get(obj, key));
}

bool
str_printable(const char *s, size_t len)
{
	size_t i;

	for (i = 0; i < len; i++)
		if ((unsigned char)s[i] < 0x20 || (unsigned char)s[i] > 0x7e)
			return false;
	return true;
}
