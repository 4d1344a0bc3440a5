#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base.h"

static enum log_level	log_min = LOG_INFO;
static int		log_fd = 2;

static const char *const level_names[LOG__MAX] = {
	[LOG_DEBUG] = "debug",
	[LOG_INFO] = "info",
	[LOG_WARN] = "warn",
	[LOG_ERR] = "err",
};

void
log_init(enum log_level min, int fd)
{
	log_min = min;
	log_fd = fd;
}

bool
log_enabled(enum log_level l)
{
	return l >= log_min;
}

static void
log_emit(enum log_level l, const char *event, json_t *fields)
{
	char ts[32], *line;
	json_t *o;

	time_format_rfc3339(time(NULL), ts, sizeof(ts));
	o = json_pack("{s:s,s:s,s:s}", "time", ts, "level", level_names[l],
	    "event", event);
	if (o == NULL)
		return;
	if (fields != NULL)
		json_object_update(o, fields);
	line = json_dumps(o, JSON_COMPACT | JSON_ENSURE_ASCII);
	json_decref(o);
	if (line == NULL)
		return;
	/* One write(2) per line keeps lines whole across threads. */
	{
		size_t n = strlen(line);
		char *w = xmalloc(n + 1);

		memcpy(w, line, n);
		w[n] = '\n';
		(void)!write(log_fd, w, n + 1);
		free(w);
	}
	free(line);
}

void
log_msg(enum log_level l, const char *event, const char *fmt, ...)
{
	json_error_t err;
	json_t *fields = NULL;
	va_list ap;

	if (l < log_min)
		return;
	if (fmt != NULL) {
		va_start(ap, fmt);
		fields = json_vpack_ex(&err, 0, fmt, ap);
		va_end(ap);
	}
	log_emit(l, event, fields);
	json_decref(fields);
}

void
log_detail(enum log_level l, const char *event, const char *fmt, ...)
{
	char *s;
	va_list ap;
	json_t *fields;

	if (l < log_min)
		return;
	va_start(ap, fmt);
	if (vasprintf(&s, fmt, ap) < 0)
		s = NULL;
	va_end(ap);
	/* json_string fails on non-UTF-8; keep the event without detail then */
	fields = json_pack("{s:s?}", "detail", s);
	if (fields == NULL)
		fields = json_object();
	log_emit(l, event, fields);
	json_decref(fields);
	free(s);
}
