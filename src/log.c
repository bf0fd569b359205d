/*
 * Logging: one line per call, written to stderr with a single write(2) so
 * lines from the master and many workers never interleave.  No timestamps:
 * in the foreground and under journald the reader adds them.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "log.h"

#define LOG_LINE_MAX	2048

static enum log_level	 log_level = LOG_LEVEL_INFO;
static const char	*log_role = "connectproxy";

void
log_init(enum log_level level, const char *role)
{
	log_level = level;
	log_role = role;
}

void
log_set_level(enum log_level level)
{
	log_level = level;
}

enum log_level
log_get_level(void)
{
	return log_level;
}

static void __attribute__((format(printf, 2, 0)))
log_vwrite(const char *tag, const char *fmt, va_list ap, int with_errno)
{
	char	line[LOG_LINE_MAX];
	size_t	cap = sizeof(line) - 1;	/* room for the newline */
	size_t	n;
	int	saved = errno, m;

	m = snprintf(line, cap, "%s[%ld]: %s", log_role, (long)getpid(), tag);
	n = m < 0 ? 0 : (size_t)m;
	if (n < cap) {
		m = vsnprintf(line + n, cap - n, fmt, ap);
		n += m < 0 ? 0 : (size_t)m;
	}
	if (with_errno && n < cap) {
		m = snprintf(line + n, cap - n, ": %s", strerror(saved));
		n += m < 0 ? 0 : (size_t)m;
	}
	if (n >= cap)
		n = cap - 1;	/* truncated: snprintf left a NUL there */
	line[n++] = '\n';
	(void)write(STDERR_FILENO, line, n);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite("warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("error: ", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite("", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite("debug: ", fmt, ap, 0);
	va_end(ap);
}

void
log_access(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("access ", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("fatal: ", fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite("fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}
