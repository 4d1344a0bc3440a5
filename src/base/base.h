/*
 * base.h - memory, logging, numbers, times, files and JSON helpers shared by
 * every module of devid.  Nothing here touches OpenSSL (STYLE rule 16).
 */
#ifndef DV_BASE_H
#define DV_BASE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <time.h>

#include <jansson.h>

#include "limits.h"
#include "rc.h"

/* Memory: out-of-memory aborts (STYLE rule 11). */
void	*xmalloc(size_t);
void	*xcalloc(size_t, size_t);
void	*xrealloc(void *, size_t);
char	*xstrdup(const char *);
char	*xstrndup(const char *, size_t);
void	*xmemdup(const void *, size_t);
/* Returns a newly allocated formatted string (never for JSON: rule 23). */
char	*xasprintf(const char *, ...) __attribute__((format(printf, 1, 2)));

/* Owned byte buffer. */
struct buf {
	uint8_t	*data;	/* owned */
	size_t	 len;
	size_t	 cap;
};
void	buf_append(struct buf *, const void *, size_t);
void	buf_free(struct buf *);		/* frees data, leaves b zeroed */

/*
 * Logging: one JSON object per line on stderr (or the configured file).
 * log_msg() takes an event name and key/value pairs built with jansson's
 * json_pack format: log_msg(LOG_WARN, "token.rejected", "{s:s}", "why", w).
 * Untrusted strings are escaped by jansson.
 */
enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERR, LOG__MAX };
void	log_init(enum log_level min, int fd);
void	log_msg(enum log_level, const char *event, const char *fmt, ...);
/* Logs "event" with a "detail" member formatted printf-style. */
void	log_detail(enum log_level, const char *event, const char *fmt, ...)
	    __attribute__((format(printf, 3, 4)));
bool	log_enabled(enum log_level);

/*
 * Bounded integer parse (httpd strtonum): writes *out and returns DV_OK only
 * if s is a whole decimal number within [min, max].
 */
enum dv_rc	num_parse(const char *s, long long min, long long max,
		    long long *out);

/*
 * Go-style duration ("90s", "5m", "24h", "1h30m", "-1m", "500ms" rounded
 * down to seconds).  Writes seconds to *out.
 */
enum dv_rc	dur_parse(const char *s, int64_t *out);
/* Formats seconds as a Go-style duration ("24h0m0s") into a new string. */
char		*dur_format(int64_t secs);

/* RFC 3339 time ("2026-01-02T03:04:05Z", offsets allowed) to Unix time. */
enum dv_rc	time_parse_rfc3339(const char *s, time_t *out);
/* Formats t as RFC 3339 UTC into buf (at least 32 bytes). */
void		time_format_rfc3339(time_t t, char *buf, size_t len);
/* Current time; tests may link another definition (rule 27). */
time_t		dv_now(void);

/* Lower-case hex of data into a new string. */
char		*hex_encode(const uint8_t *, size_t);
/* Decodes hex (either case) into a new buffer; fails on odd length/bad digit. */
enum dv_rc	hex_decode(const char *, uint8_t **out, size_t *outlen);

/* Files.  file_read() fails with DV_ERR_TOO_LARGE beyond max bytes; the
 * result is NUL-terminated (not counted in *len). */
enum dv_rc	file_read(const char *path, size_t max, uint8_t **out,
		    size_t *len);
/* Writes atomically (temp file, fsync, rename, fsync dir) with mode. */
enum dv_rc	file_write(const char *path, const void *, size_t, int mode);
/* mkdir -p with mode for the last component. */
enum dv_rc	dir_make(const char *path, int mode);
bool		file_exists(const char *path);

/*
 * Strict JSON from untrusted bytes: rejects duplicate keys, non-UTF-8,
 * nesting deeper than DV_MAX_JSON_DEPTH, a top level that is not an object,
 * and input over max bytes.  *out is a new reference.
 */
enum dv_rc	json_parse_strict(const void *data, size_t len, size_t max,
		    json_t **out);
/* Returns a borrowed string member or NULL when absent or not a string. */
const char	*json_get_str(const json_t *obj, const char *key);

/* Returns true if every byte of s[0..len) is printable ASCII. */
bool		str_printable(const char *s, size_t len);

#endif
