/* SPDX-License-Identifier: ISC */
/*
 * Logging: one line per call, one write(2) per line, to stderr, syslog or
 * a file; and the access records, formatted by record.c.
 *
 * Where lines go is the master's logger's choice (logger.c, which says
 * why): stderr and syslog are written directly, by every process; a
 * file-bound line is written to the file by the master, and sent by any
 * child of the master, tagged 'A' (access) or 'E' (error), in one
 * write(2) on the log socket, a datagram socket pair whose other end the
 * master drains into its current file.  A full socket makes the worker
 * wait (between tunnels, holding no client) rather than drop a record.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "log.h"
#include "utc.h"

#define LOG_LINE_MAX	2048

struct log_sink_state {
	enum log_sink	kind;
	int		fd;		/* LOG_SINK_FILE, master only */
};

static enum log_level		 log_level = LOG_LEVEL_INFO;
static const char		*log_role;	/* NULL: "connectproxy" */
static enum record_format	 log_fmt = RECORD_FORMAT_TEXT;
static struct log_sink_state	 sink_access = { LOG_SINK_STDERR, -1 };
static struct log_sink_state	 sink_error = { LOG_SINK_STDERR, -1 };
static pid_t			 log_owner;	/* the master, once opened */
static pid_t			 log_pid;	/* ours, set by log_init() */
/* The log socket's ends: the logger's, closed in a child; the child's. */
static int			 sock_master = -1, sock_child = -1;

/* A worker (or any child of the master) writes files through the socket. */
static int
in_child(void)
{
	return log_owner != 0 && log_pid != log_owner;
}

/*
 * log_init() in a worker stores nothing in the initialised variables above
 * (the .data page): a page a worker writes becomes its own copy, 4 KiB
 * each, and a worker already writes the .bss ones.  So the level is only
 * stored when it changes, the role lives in .bss, and the master's
 * descriptors a worker closes keep their numbers: in a child nothing uses
 * them (in_child() guards every use).
 */
void
log_init(enum log_level level, const char *role)
{
	if (log_level != level)
		log_level = level;
	log_role = role;
	/* getpid() is a system call each time: once per process is enough. */
	log_pid = getpid();
	if (!in_child())
		return;
	/* After fork: the read end is the master's alone, or a worker's
	 * write would block forever instead of failing once it is gone. */
	if (sock_master != -1)
		close(sock_master);
	/* Nor does a worker keep the files: it writes through the socket. */
	if (sink_access.fd != -1)
		close(sink_access.fd);
	if (sink_error.fd != -1)
		close(sink_error.fd);
}

static const char *
role_name(void)
{
	return log_role != NULL ? log_role : "connectproxy";
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

long long
log_now_ms(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Write all of buf; EINTR retried.  Returns 0 or -1. */
static int
write_all(int fd, const char *buf, size_t len)
{
	ssize_t	n;

	while (len > 0) {
		if ((n = write(fd, buf, len)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		buf += n;
		len -= (size_t)n;
	}
	return 0;
}

/*
 * Deliver one line to `sink`.  `body` has no newline; `prefix` is what a
 * stderr line gets after "role[pid]: " ("access " or ""); `tag` says
 * whether a file line starts with the time and role ('E': error lines
 * do; 'A': records are bare so that tools can parse them).
 */
static void
deliver(struct log_sink_state *sink, char tag, int prio, const char *prefix,
    const char *body)
{
	char	line[LOG_MSG_MAX], now[32];
	int	n;

	switch (sink->kind) {
	case LOG_SINK_OFF:
		return;
	case LOG_SINK_SYSLOG:
		syslog(prio, "%s%s", prefix, body);
		return;
	case LOG_SINK_FILE:
		if (tag == 'E') {
			utc_format_ms(now, sizeof(now), log_now_ms());
			n = snprintf(line, sizeof(line), "%c%s %s[%ld]: %s\n",
			    tag, now, role_name(), (long)log_pid, body);
		} else
			n = snprintf(line, sizeof(line), "%c%s\n", tag, body);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(line)) {
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		if (!in_child())
			(void)write_all(sink->fd, line + 1, (size_t)n - 1);
		else if (sock_child == -1 || write_all(sock_child, line,
		    (size_t)n) == -1)
			/* The master is gone: stderr beats losing it. */
			(void)write_all(STDERR_FILENO, line + 1, (size_t)n - 1);
		return;
	case LOG_SINK_STDERR:
		break;
	}
	n = snprintf(line, sizeof(line), "%s[%ld]: %s%s\n", role_name(),
	    (long)log_pid, prefix, body);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	(void)write_all(STDERR_FILENO, line, (size_t)n);
}

static void __attribute__((format(printf, 3, 0)))
log_vwrite(int prio, const char *tag, const char *fmt, va_list ap,
    int with_errno)
{
	char	body[LOG_LINE_MAX];
	size_t	cap = sizeof(body);
	size_t	n;
	int	saved = errno, m;

	m = snprintf(body, cap, "%s", tag);
	n = m < 0 ? 0 : (size_t)m;
	if (n < cap) {
		m = vsnprintf(body + n, cap - n, fmt, ap);
		n += m < 0 ? 0 : (size_t)m;
	}
	if (with_errno && n < cap)
		snprintf(body + n, cap - n, ": %s", strerror(saved));
	deliver(&sink_error, 'E', prio, "", body);
	errno = saved;
}

void
log_warn(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning: ", fmt, ap, 1);
	va_end(ap);
}

void
log_warnx(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_WARN)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_WARNING, "warning: ", fmt, ap, 0);
	va_end(ap);
}

void
log_error(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_ERR, "error: ", fmt, ap, 0);
	va_end(ap);
}

void
log_info(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_INFO)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_INFO, "", fmt, ap, 0);
	va_end(ap);
}

void
log_debug(const char *fmt, ...)
{
	va_list	ap;

	if (log_level < LOG_LEVEL_DEBUG)
		return;
	va_start(ap, fmt);
	log_vwrite(LOG_DEBUG, "debug: ", fmt, ap, 0);
	va_end(ap);
}

void
fatal(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "fatal: ", fmt, ap, 1);
	va_end(ap);
	exit(1);
}

void
fatalx(const char *fmt, ...)
{
	va_list	ap;

	va_start(ap, fmt);
	log_vwrite(LOG_CRIT, "fatal: ", fmt, ap, 0);
	va_end(ap);
	exit(1);
}

void
log_access_record(const struct record *r)
{
	char	rec[RECORD_MAX - 64];
	int	saved = errno;

	if (sink_access.kind == LOG_SINK_OFF)
		return;
	if (record_format(rec, sizeof(rec), log_fmt, r) > 0)
		deliver(&sink_access, 'A', LOG_INFO, "access ", rec);
	errno = saved;
}

/* What the master's logger calls: see log.h. */

void
log_set_socket(int master_end, int child_end)
{
	sock_master = master_end;
	sock_child = child_end;
	log_owner = log_pid = getpid();
}

static void
switch_sink(struct log_sink_state *s, enum log_sink kind, int fd)
{
	if (s->fd != -1)
		close(s->fd);
	s->kind = kind;
	s->fd = fd;
}

void
log_set_sinks(enum log_sink access, int access_fd, enum log_sink error,
    int error_fd)
{
	switch_sink(&sink_access, access, access_fd);
	switch_sink(&sink_error, error, error_fd);
}

void
log_set_format(enum record_format format)
{
	log_fmt = format;
}

int
log_in_child(void)
{
	return in_child();
}

void
log_forward(int access, char *line, size_t len)
{
	struct log_sink_state	*s = access ? &sink_access : &sink_error;

	switch (s->kind) {
	case LOG_SINK_FILE:
	case LOG_SINK_STDERR:
		/* stderr: a reload moved this log off a file, keep the
		 * line. */
		line[len] = '\n';
		(void)write_all(s->kind == LOG_SINK_FILE ? s->fd :
		    STDERR_FILENO, line, len + 1);
		line[len] = '\0';
		break;
	case LOG_SINK_SYSLOG:
		syslog(LOG_INFO, "%s%s", access ? "access " : "", line);
		break;
	case LOG_SINK_OFF:
		break;
	}
}
