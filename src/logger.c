/* SPDX-License-Identifier: ISC */
/*
 * The master's logger, in the shape of OpenBSD httpd's logger.c: it
 * opens the log files and copies into them what workers send.  The
 * logging calls are log.c's; this decides where their lines go.
 *
 * Log files and unprivileged workers.  Only the master ever opens a log
 * file: it does so before any privilege drop, and again on USR1 (after
 * logrotate renamed the file) or a reload.  A worker runs as `user` and
 * may not be able to open a root-only path, so it never holds the file at
 * all: each of its lines goes, tagged 'A' (access) or 'E' (error), in
 * one write(2) into "the log socket", whose read end the master polls in
 * its loop and copies to its current sink (stderr and syslog lines too:
 * log.c says why).  Hence the moment the master
 * reopens, every later record of every worker, idle or busy, lands in the
 * new file and nothing more in the renamed one; nothing is lost, since a
 * full socket makes the worker wait (between tunnels, holding no client)
 * rather than drop a record.  stderr and syslog need no reopening;
 * syslog is opened with LOG_NDELAY before the drop.
 *
 * The log socket is an AF_UNIX datagram socket pair, not a pipe(2): each
 * write is one message and each read returns one, whole, so no line of
 * one worker can be spliced onto another's, whatever a worker sends (a
 * compromised one may send anything: a line without its newline, NUL
 * bytes, megabytes).  The master reads without ever blocking and passes
 * each message through logger_message() before writing it.  Datagrams,
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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <syslog.h>
#include <unistd.h>

#include "log.h"
#include "logger.h"

#define LOGGER_DRAIN_READS	256	/* per logger_drain() call */
#define LOGGER_DRAIN_ALL	65536	/* at a switch of files, at exit */
#define LOGGER_SNDBUF		(1024 * 1024)	/* asked; the kernel caps it */
#define LOGGER_FILE_MODE	0640

static int	 sock_r = -1, sock_w = -1;	/* the log socket's ends */
static int	 syslog_opened;
static char	*rbuf;		/* LOG_MSG_MAX + 1: the master's reads */

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
	int		fd, saved, created, flags = O_WRONLY | O_APPEND |
			    O_CLOEXEC | O_NOFOLLOW | O_NONBLOCK;

	/*
	 * Created here (O_EXCL tells), the file gets LOGGER_FILE_MODE
	 * whatever the umask: the unit's UMask=0077 would make it 0600, and
	 * logrotate's `nocreate` leaves the new file to us.  A file that was
	 * there keeps the mode its owner gave it.
	 */
	fd = open(path, flags | O_CREAT | O_EXCL, LOGGER_FILE_MODE);
	if ((created = fd != -1) == 0 && errno == EEXIST)
		fd = open(path, flags);
	if (fd == -1) {
		open_failed(what, path, errno, err, errlen);
		return -1;
	}
	if (fstat(fd, &st) == -1 || fcntl(fd, F_SETFL, O_APPEND) == -1 ||
	    (created && fchmod(fd, LOGGER_FILE_MODE) == -1))
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
files_open(const struct config *cfg, struct logger_files *f, char *err,
    size_t errlen)
{
	f->access = f->error = -1;
	if (cfg->access_log == LOG_SINK_FILE && (f->access = open_file(
	    "access_log", cfg->access_log_path, err, errlen)) == -1)
		return -1;
	if (cfg->error_log == LOG_SINK_FILE && (f->error = open_file(
	    "error_log", cfg->error_log_path, err, errlen)) == -1) {
		logger_files_close(f);
		return -1;
	}
	return 0;
}

int
logger_files_open(const struct config *cfg, struct logger_files *f, char *err,
    size_t errlen)
{
	if (files_open(cfg, f, err, errlen) == -1)
		return -1;
	warn_exposed_files(cfg, 0);
	return 0;
}

void
logger_files_close(struct logger_files *f)
{
	if (f->access != -1)
		close(f->access);
	if (f->error != -1)
		close(f->error);
	f->access = f->error = -1;
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
	log_set_sinks(cfg->access_log, a, cfg->error_log, e);
	log_set_format(cfg->access_log_format);
}

static int
open_socket(void)
{
	int	fds[2], size = LOGGER_SNDBUF;

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
	sock_r = fds[0];
	sock_w = fds[1];
	return 0;
}

int
logger_open(const struct config *cfg, char *err, size_t errlen)
{
	struct logger_files	f;

	if (files_open(cfg, &f, err, errlen) == -1)
		return -1;
	/*
	 * On the heap, not the stack: a page the master writes between
	 * forks stays behind in every worker as its own copy, and the
	 * stack deep down is touched by nothing else between forks.
	 */
	if ((rbuf = malloc(LOG_MSG_MAX + 1)) == NULL || open_socket() == -1) {
		snprintf(err, errlen, "log pipe: %s", strerror(errno));
		free(rbuf);
		rbuf = NULL;
		logger_files_close(&f);
		return -1;
	}
	log_set_socket(sock_r, sock_w);
	switch_sinks(cfg, f.access, f.error);
	/* Now, so that the warnings land in the error_log. */
	warn_exposed_files(cfg, 1);
	return 0;
}

static void	drain(int max);

void
logger_files_install(const struct config *cfg, struct logger_files *f)
{
	/* Lines already in the socket were sent before: the old files. */
	drain(LOGGER_DRAIN_ALL);
	switch_sinks(cfg, f->access, f->error);
	f->access = f->error = -1;
}

int
logger_reopen(const struct config *cfg)
{
	struct logger_files	f;
	char			err[CONFIG_PATH_MAX + 128];

	/* No warnings here: start and reload gave them, USR1 is routine. */
	if (files_open(cfg, &f, err, sizeof(err)) == -1) {
		log_error("reopening logs: %s; still writing to the old ones",
		    err);
		return -1;
	}
	logger_files_install(cfg, &f);
	log_info("log files reopened");
	return 0;
}

int
logger_fd(void)
{
	return log_in_child() ? -1 : sock_r;
}

size_t
logger_message(const char *msg, size_t len, int *access, char *out,
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

/* Route up to max messages waiting in the socket; never blocks. */
static void
drain(int max)
{
	ssize_t	n;
	size_t	len;
	int	i, access;

	if (sock_r == -1 || rbuf == NULL || log_in_child())
		return;
	for (i = 0; i < max; i++) {
		/* A longer message is cut to the buffer; none is ours. */
		n = recv(sock_r, rbuf, LOG_MSG_MAX, MSG_DONTWAIT);
		if (n == -1 && errno == EINTR)
			continue;
		if (n == -1)
			break;		/* EAGAIN: all read */
		/* In place; the tag's byte leaves room for the newline
		 * log_forward() puts after the line. */
		len = logger_message(rbuf, (size_t)n, &access, rbuf,
		    LOG_MSG_MAX);
		if (len > 0)
			log_forward(access, rbuf, len);
	}
}

void
logger_drain(void)
{
	drain(LOGGER_DRAIN_READS);
}

void
logger_close(void)
{
	if (log_in_child())
		return;
	drain(LOGGER_DRAIN_ALL);
	if (sock_r != -1) {
		/* log.c lets go of them before they are closed. */
		log_set_socket(-1, -1);
		close(sock_r);
		close(sock_w);
	}
	sock_r = sock_w = -1;
	log_set_sinks(LOG_SINK_STDERR, -1, LOG_SINK_STDERR, -1);
	free(rbuf);
	rbuf = NULL;
	if (syslog_opened)
		closelog();
	syslog_opened = 0;
}
