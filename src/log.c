/*
 * Logging: one line per call, one write(2) per line, to stderr, syslog or
 * a file; and the access records, formatted by record.c.
 *
 * Log files and unprivileged workers.  Only the master ever opens a log
 * file: it does so before any privilege drop, and again on USR1 (after
 * logrotate renamed the file) or a reload.  A worker runs as `user` and
 * may not be able to open a root-only path, so it never holds the file at
 * all: each file-bound line goes, tagged 'A' (access) or 'E' (error), in
 * one write(2) into "the pipe", whose read end the master polls in its
 * loop and copies to its current file.  Hence the moment the master
 * reopens, every later record of every worker, idle or busy, lands in the
 * new file and nothing more in the renamed one; nothing is lost, since a
 * full pipe makes the worker wait (between tunnels, holding no client)
 * rather than drop a record.  stderr and syslog need no reopening and are
 * written directly; syslog is opened with LOG_NDELAY before the drop, so
 * workers inherit its socket.
 *
 * The pipe is an AF_UNIX datagram socket pair, not a pipe(2): each write
 * is one message and each read returns one, whole, so no line of one
 * worker can be spliced onto another's, whatever a worker sends (a
 * compromised one may send anything: a line without its newline, NUL
 * bytes, megabytes).  The master reads without ever blocking and passes
 * each message through log_pipe_record() before writing it.  Datagrams,
 * not SOCK_SEQPACKET: there a worker's shutdown() would end the stream
 * for the master, and an empty message would look like that end; a
 * datagram socket has no end to reach.  Unix datagrams between a
 * connected pair are reliable: a full buffer blocks the sender.
 */
#define _XOPEN_SOURCE	700	/* S_ISVTX */

#include <sys/stat.h>
#include <sys/socket.h>

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <pwd.h>
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
#define LOG_MSG_MAX	(RECORD_MAX + 96)	/* a worker's pipe line */
#define LOG_DRAIN_READS	256		/* per log_pipe_drain() call */
#define LOG_DRAIN_ALL	65536		/* at a switch of files, at exit */
#define LOG_PIPE_SNDBUF	(1024 * 1024)	/* asked; the kernel caps it */
#define LOG_FILE_MODE	0640

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
static int			 pipe_r = -1, pipe_w = -1;
static int			 syslog_opened;
static char			*rbuf;	/* LOG_MSG_MAX + 1: master's reads */

/* A worker (or any child of the master) writes files through the pipe. */
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
	if (pipe_r != -1)
		close(pipe_r);
	/* Nor does a worker keep the files: it writes through the pipe. */
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
 * stderr line gets after "role[pid]: " ("access " or ""), `stamp` whether
 * a file line starts with the time and role (error lines do, records are
 * bare so that tools can parse them).
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
		else if (pipe_w == -1 || write_all(pipe_w, line, (size_t)n)
		    == -1)
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

/* Opening, reopening and the master's side of the pipe. */

/*
 * Why path was not taken, into err: what is there, else errno's text
 * (`saved`, 0 when open() worked but what it opened was not a plain file).
 */
static void
open_failed(const char *what, const char *path, int saved, char *err,
    size_t errlen)
{
	struct stat	st;
	int		there = lstat(path, &st) == 0;

	if (there && S_ISLNK(st.st_mode))
		snprintf(err, errlen, "%s %s: is a symbolic link, which is "
		    "never followed: name the file itself", what, path);
	else if (there && !S_ISREG(st.st_mode))
		snprintf(err, errlen, "%s %s: not a regular file", what, path);
	else if (there && st.st_nlink != 1)
		snprintf(err, errlen, "%s %s: has %ju hard links; a log file "
		    "must have one", what, path, (uintmax_t)st.st_nlink);
	else
		snprintf(err, errlen, "%s %s: %s", what, path, saved != 0 ?
		    strerror(saved) : "changed while being opened");
}

/*
 * Open a log file to append to, as root, in a directory that someone
 * else may be able to write (see warn_exposed()).  So: a symbolic link
 * at path is not followed (O_NOFOLLOW), or a link planted there would
 * make us append to any file; a FIFO does not block us (O_NONBLOCK,
 * dropped once open); and only a regular file with a single link is
 * taken, since a hard link to another file is the same trap.
 */
static int
open_file(const char *what, const char *path, char *err, size_t errlen)
{
	struct stat	st;
	int		fd, saved;

	fd = open(path, O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC |
	    O_NOFOLLOW | O_NONBLOCK, LOG_FILE_MODE);
	if (fd == -1) {
		open_failed(what, path, errno, err, errlen);
		return -1;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, O_APPEND) == -1)
		saved = errno;
	else if (!S_ISREG(st.st_mode) || st.st_nlink != 1)
		saved = 0;
	else
		return fd;
	close(fd);
	open_failed(what, path, saved, err, errlen);
	return -1;
}

/*
 * Whether uid (in group gid, its only group once dropped) may create,
 * remove or rename entries in the directory st: mode bits of the class
 * that applies, write and search both; its owner, always, since it may
 * chmod it.  ACLs are not read.
 */
static int
dir_writable_by(const struct stat *st, uid_t uid, gid_t gid)
{
	mode_t	m = st->st_mode;

	if (st->st_uid == uid)
		return 1;
	if (st->st_gid == gid)
		return (m & (S_IWGRP | S_IXGRP)) == (S_IWGRP | S_IXGRP);
	return (m & (S_IWOTH | S_IXOTH)) == (S_IWOTH | S_IXOTH);
}

/*
 * Warn when the account workers run as (uid, gid) could put a file or a
 * link of its own where the master, as root, writes `path`: the file's
 * own directory is writable by it, sticky or not (in a sticky directory
 * such as /tmp it can still create the name while it is missing: before
 * the first start, and between a logrotate rename and USR1), or a
 * directory above is writable by it without the sticky bit (it could
 * move the directory below aside and put its own in place).  Nothing is
 * followed that it plants (see open_file()), but what it can do there is
 * a risk an operator should hear of.
 */
static void
warn_exposed(const char *what, const char *path, const char *user,
    uid_t uid, gid_t gid)
{
	char		dir[2 * CONFIG_PATH_MAX], *slash;
	struct stat	st;
	int		own = 1;

	if (path[0] == '/')
		snprintf(dir, sizeof(dir), "%s", path);
	else if (getcwd(dir, CONFIG_PATH_MAX) != NULL)
		snprintf(dir + strlen(dir), sizeof(dir) - strlen(dir), "/%s",
		    path);
	else
		return;
	while ((slash = strrchr(dir, '/')) != NULL) {
		if (slash == dir)
			slash[1] = '\0';	/* the root, "/" */
		else
			*slash = '\0';
		if (stat(dir, &st) == 0 && S_ISDIR(st.st_mode) &&
		    dir_writable_by(&st, uid, gid) &&
		    (own || st.st_uid == uid || !(st.st_mode & S_ISVTX))) {
			log_warnx("%s %s: directory %s is writable by user %s, "
			    "who could plant files there for the master to "
			    "write as root; make it writable by root only",
			    what, path, dir, user);
			return;
		}
		own = 0;
		if (slash == dir)
			break;
	}
}

/*
 * The warnings of warn_exposed() for the log files cfg names, and its
 * pidfile when `pidfile`; nothing without a `user`.
 */
static void
warn_exposed_files(const struct config *cfg, int pidfile)
{
	struct passwd	*pw;

	if (cfg->user[0] == '\0' || (pw = getpwnam(cfg->user)) == NULL)
		return;
	if (cfg->access_log == LOG_SINK_FILE)
		warn_exposed("access_log", cfg->access_log_path, cfg->user,
		    pw->pw_uid, pw->pw_gid);
	if (cfg->error_log == LOG_SINK_FILE)
		warn_exposed("error_log", cfg->error_log_path, cfg->user,
		    pw->pw_uid, pw->pw_gid);
	if (pidfile && cfg->pidfile[0] != '\0')
		warn_exposed("pidfile", cfg->pidfile, cfg->user, pw->pw_uid,
		    pw->pw_gid);
}

static int
files_open(const struct config *cfg, struct log_files *f, char *err,
    size_t errlen)
{
	f->access = f->error = -1;
	if (cfg->access_log == LOG_SINK_FILE && (f->access = open_file(
	    "access_log", cfg->access_log_path, err, errlen)) == -1)
		return -1;
	if (cfg->error_log == LOG_SINK_FILE && (f->error = open_file(
	    "error_log", cfg->error_log_path, err, errlen)) == -1) {
		log_files_close(f);
		return -1;
	}
	return 0;
}

int
log_files_open(const struct config *cfg, struct log_files *f, char *err,
    size_t errlen)
{
	if (files_open(cfg, f, err, errlen) == -1)
		return -1;
	warn_exposed_files(cfg, 0);
	return 0;
}

void
log_files_close(struct log_files *f)
{
	if (f->access != -1)
		close(f->access);
	if (f->error != -1)
		close(f->error);
	f->access = f->error = -1;
}

static void
switch_sink(struct log_sink_state *s, enum log_sink kind, int fd)
{
	if (s->fd != -1)
		close(s->fd);
	s->kind = kind;
	s->fd = fd;
}

static void
switch_sinks(const struct config *cfg, int a, int e)
{
	if (!syslog_opened && (cfg->access_log == LOG_SINK_SYSLOG ||
	    cfg->error_log == LOG_SINK_SYSLOG)) {
		/* Now, while we may still reach /dev/log: workers inherit. */
		openlog("connectproxy", LOG_NDELAY | LOG_PID, LOG_DAEMON);
		syslog_opened = 1;
	}
	switch_sink(&sink_access, cfg->access_log, a);
	switch_sink(&sink_error, cfg->error_log, e);
	log_fmt = cfg->access_log_format;
}

static int
open_pipe(void)
{
	int	fds[2], size = LOG_PIPE_SNDBUF;

	if (socketpair(AF_UNIX, SOCK_DGRAM, 0, fds) == -1)
		return -1;
	if (fcntl(fds[0], F_SETFL, fcntl(fds[0], F_GETFL) | O_NONBLOCK) ==
	    -1 || fcntl(fds[0], F_SETFD, FD_CLOEXEC) == -1 ||
	    fcntl(fds[1], F_SETFD, FD_CLOEXEC) == -1) {
		close(fds[0]);
		close(fds[1]);
		return -1;
	}
	/* Room for a burst of records, like a pipe's 64 KiB or more. */
	(void)setsockopt(fds[1], SOL_SOCKET, SO_SNDBUF, &size, sizeof(size));
	pipe_r = fds[0];
	pipe_w = fds[1];
	return 0;
}

int
log_open(const struct config *cfg, char *err, size_t errlen)
{
	struct log_files	f;

	if (files_open(cfg, &f, err, errlen) == -1)
		return -1;
	/*
	 * On the heap, not the stack: a page the master writes between
	 * forks stays behind in every worker as its own copy, and the
	 * stack deep down is touched by nothing else between forks.
	 */
	if ((rbuf = malloc(LOG_MSG_MAX + 1)) == NULL || open_pipe() == -1) {
		snprintf(err, errlen, "log pipe: %s", strerror(errno));
		free(rbuf);
		rbuf = NULL;
		log_files_close(&f);
		return -1;
	}
	log_owner = log_pid = getpid();
	switch_sinks(cfg, f.access, f.error);
	/* Now, so that the warnings land in the error_log. */
	warn_exposed_files(cfg, 1);
	return 0;
}

static void	drain(int max);

void
log_files_install(const struct config *cfg, struct log_files *f)
{
	/* Lines already in the pipe were sent before: the old files. */
	drain(LOG_DRAIN_ALL);
	switch_sinks(cfg, f->access, f->error);
	f->access = f->error = -1;
}

int
log_reopen(const struct config *cfg)
{
	struct log_files	f;
	char			err[CONFIG_PATH_MAX + 128];

	/* No warnings here: start and reload gave them, USR1 is routine. */
	if (files_open(cfg, &f, err, sizeof(err)) == -1) {
		log_error("reopening logs: %s; still writing to the old ones",
		    err);
		return -1;
	}
	log_files_install(cfg, &f);
	log_info("log files reopened");
	return 0;
}

int
log_pipe_fd(void)
{
	return in_child() ? -1 : pipe_r;
}

size_t
log_pipe_record(const char *msg, size_t len, int *access, char *out,
    size_t outlen)
{
	const unsigned char	*m = (const unsigned char *)msg;
	size_t			 i, n;

	/* out may be msg: each byte moves one place left, after its read. */
	*access = len > 0 && m[0] == 'A';
	if (outlen == 0)
		return 0;
	out[0] = '\0';
	if (len < 2)
		return 0;	/* a tag alone, or nothing */
	m++;
	len--;
	if (m[len - 1] == '\n')
		len--;
	n = len < outlen - 1 ? len : outlen - 1;
	for (i = 0; i < n; i++)
		out[i] = m[i] < 0x20 || m[i] == 0x7f ? '?' : (char)m[i];
	out[n] = '\0';
	return n;
}

/* One line from a worker, made safe by log_pipe_record(), to its sink. */
static void
route_line(int access, char *line, size_t len)
{
	struct log_sink_state	*s = access ? &sink_access : &sink_error;

	switch (s->kind) {
	case LOG_SINK_FILE:
	case LOG_SINK_STDERR:
		/* Room for it: see drain().  stderr: a reload moved this
		 * log off a file, keep the line. */
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

/* Route up to max messages waiting in the pipe; never blocks. */
static void
drain(int max)
{
	ssize_t	n;
	size_t	len;
	int	i, access;

	if (pipe_r == -1 || rbuf == NULL || in_child())
		return;
	for (i = 0; i < max; i++) {
		/* A longer message is cut to the buffer; none is ours. */
		n = recv(pipe_r, rbuf, LOG_MSG_MAX, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;		/* EAGAIN: all read */
		/* In place; the tag's byte leaves room for the newline. */
		len = log_pipe_record(rbuf, (size_t)n, &access, rbuf,
		    LOG_MSG_MAX);
		if (len > 0)
			route_line(access, rbuf, len);
	}
}

void
log_pipe_drain(void)
{
	drain(LOG_DRAIN_READS);
}

void
log_close(void)
{
	if (in_child())
		return;
	drain(LOG_DRAIN_ALL);
	if (pipe_r != -1)
		close(pipe_r);
	if (pipe_w != -1)
		close(pipe_w);
	pipe_r = pipe_w = -1;
	switch_sink(&sink_access, LOG_SINK_STDERR, -1);
	switch_sink(&sink_error, LOG_SINK_STDERR, -1);
	free(rbuf);
	rbuf = NULL;
	if (syslog_opened)
		closelog();
	syslog_opened = 0;
}
