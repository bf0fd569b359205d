/* SPDX-License-Identifier: ISC */
/*
 * Logging: one line per call, one write(2) per line, to stderr, syslog or
 * a file; and the access records, formatted by record.c.
 *
 * Where lines go is the master's logger's choice (logger.c, which says
 * why).  The master writes its own lines to its sinks directly.  A
 * child of the master (a worker) sends a line bound for a file, tagged
 * 'A' (access) or 'E' (error), as "role[pid]: body", in one write(2) on
 * the log socket, a datagram socket pair whose other end the master
 * drains into its current sink; it writes stderr and syslog lines
 * itself.  A full socket makes the worker wait (between tunnels, holding
 * no client) rather than drop a record.
 *
 * A retiring worker sends every line, whatever the sink.  A worker keeps
 * the configuration it was forked with, and a draining one outlives a
 * reload by as long as its tunnel lasts: were it to go on writing stderr
 * or syslog itself, a reload moving access_log from stderr to a file
 * would leave its records on stderr.  A reload retires every worker of
 * the old generation with HUP, whose handler calls log_forward_all();
 * from then on the master writes the worker's lines where the new
 * configuration says.  Workers of the running generation keep writing
 * stderr themselves, so the master is not woken once per tunnel for the
 * default access_log (make bench-smoke, 2 runs each: with every record
 * through the master, 4226-4571 CONNECTs/s from one client against
 * 4907-4950/s).
 */
#include <errno.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/uio.h>

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
/* Set in every worker: thread-local to share errno's page (worker.c). */
static _Thread_local const char	*log_role;	/* NULL: "connectproxy" */
static enum record_format	 log_fmt = RECORD_FORMAT_TEXT;
static struct log_sink_state	 sink_access = { LOG_SINK_STDERR, -1 };
static struct log_sink_state	 sink_error = { LOG_SINK_STDERR, -1 };
static pid_t			 log_owner;	/* the master, once opened */
static _Thread_local pid_t	 log_pid;	/* ours, set by log_init() */
/* The log socket's ends: the logger's, closed in a child; the child's. */
static int			 sock_master = -1, sock_child = -1;
/* Set in a retiring worker: every line goes to the master. */
static volatile sig_atomic_t	 forward_all;

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
 * In a child of the master: send one line to the master, tagged `tag`,
 * as "role[pid]: body" (see the top of this file).  Returns 0, or -1 when
 * the master is gone.
 */
static int
send_line(char tag, const char *body)
{
	char	line[LOG_MSG_MAX];
	int	n;

	if (sock_child == -1)
		return -1;
	n = snprintf(line, sizeof(line), "%c%s[%ld]: %s\n", tag, role_name(),
	    (long)log_pid, body);
	if (n < 0)
		return 0;
	if ((size_t)n >= sizeof(line)) {
		n = (int)sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	return write_all(sock_child, line, (size_t)n);
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
	char		line[LOG_MSG_MAX], now[32];
	enum log_sink	kind = sink->kind;
	int		n;

	/*
	 * A child sends the line to the master, which writes it where its
	 * configuration says now: always for a file (a worker holds none),
	 * and for every sink once the worker retires (see
	 * log_forward_all()).  Otherwise a worker writes stderr and syslog
	 * itself, and the master is not woken for it.  If the master is
	 * gone, stderr beats losing the line.
	 */
	if (in_child() && (forward_all || kind == LOG_SINK_FILE)) {
		if (send_line(tag, body) == 0)
			return;
		kind = LOG_SINK_STDERR;
	}
	switch (kind) {
	case LOG_SINK_OFF:
		return;
	case LOG_SINK_SYSLOG:
		syslog(prio, "%s%s", prefix, body);
		return;
	case LOG_SINK_FILE:
		if (tag == 'E') {
			utc_format_ms(now, sizeof(now), log_now_ms());
			n = snprintf(line, sizeof(line), "%s %s[%ld]: %s\n",
			    now, role_name(), (long)log_pid, body);
		} else
			n = snprintf(line, sizeof(line), "%s\n", body);
		if (n < 0)
			return;
		if ((size_t)n >= sizeof(line)) {
			n = (int)sizeof(line) - 1;
			line[n - 1] = '\n';
		}
		(void)write_all(sink->fd, line, (size_t)n);
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

	/* A child sends it all the same: a reload may have turned the
	 * access_log on since it was forked. */
	if (sink_access.kind == LOG_SINK_OFF && !(in_child() && forward_all))
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

void
log_forward_all(void)
{
	forward_all = 1;
}

int
log_in_child(void)
{
	return in_child();
}

/* Write all of the n parts of iov in one writev(2); EINTR retried. */
static void
writev_all(int fd, struct iovec *iov, int n)
{
	ssize_t	w;

	while (n > 0) {
		if ((w = writev(fd, iov, n)) == -1) {
			if (errno == EINTR)
				continue;
			return;
		}
		/* Short: a full pipe or disk; finish it, in order. */
		for (; n > 0 && (size_t)w >= iov->iov_len; iov++, n--)
			w -= (ssize_t)iov->iov_len;
		if (n > 0) {
			iov->iov_base = (char *)iov->iov_base + w;
			iov->iov_len -= (size_t)w;
		}
	}
}

/* The syslog priority of an error line, from the word log_vwrite() put. */
static int
line_prio(const char *body)
{
	if (strncmp(body, "fatal: ", 7) == 0)
		return LOG_CRIT;
	if (strncmp(body, "error: ", 7) == 0)
		return LOG_ERR;
	if (strncmp(body, "warning: ", 9) == 0)
		return LOG_WARNING;
	if (strncmp(body, "debug: ", 7) == 0)
		return LOG_DEBUG;
	return LOG_INFO;
}

void
log_forward(int access, char *line, size_t len)
{
	struct log_sink_state	*s = access ? &sink_access : &sink_error;
	struct iovec		 iov[4];
	char			 now[32], *body;
	size_t			 head;
	int			 n = 0;

	/* "role[pid]: body", as send_line() made it; a line that is not
	 * (a compromised worker's) is all body. */
	body = strstr(line, "]: ");
	body = body != NULL ? body + 3 : line;
	head = (size_t)(body - line);
	line[len] = '\n';
	switch (s->kind) {
	case LOG_SINK_FILE:
		/* Records bare, for tools; error lines timed, as the
		 * master's own. */
		if (!access) {
			utc_format_ms(now, sizeof(now), log_now_ms());
			iov[n].iov_base = now;
			iov[n++].iov_len = strlen(now);
			iov[n].iov_base = (char *)" ";
			iov[n++].iov_len = 1;
			iov[n].iov_base = line;
			iov[n++].iov_len = len + 1;
		} else {
			iov[n].iov_base = body;
			iov[n++].iov_len = len + 1 - head;
		}
		writev_all(s->fd, iov, n);
		break;
	case LOG_SINK_STDERR:
		iov[n].iov_base = line;
		iov[n++].iov_len = head;
		if (access) {
			iov[n].iov_base = (char *)"access ";
			iov[n++].iov_len = 7;
		}
		iov[n].iov_base = body;
		iov[n++].iov_len = len + 1 - head;
		writev_all(STDERR_FILENO, iov, n);
		break;
	case LOG_SINK_SYSLOG:
		/* The master's pid in the tag, the worker's in the line. */
		line[len] = '\0';
		syslog(access ? LOG_INFO : line_prio(body), "%.*s%s%s",
		    (int)head, line, access ? "access " : "", body);
		break;
	case LOG_SINK_OFF:
		break;
	}
	line[len] = '\0';
}
