/* SPDX-License-Identifier: ISC */
/*
 * sd_notify(3) and sd_listen_fds(3) written against the wire protocol
 * (systemd's sd_notify.xml and sd_listen_fds.xml), so the proxy needs no
 * libsystemd.  The notify state is per process by nature, hence the few
 * statics below; it is written once by sdnotify_init().
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "sdnotify.h"

#define SDNOTIFY_LISTEN_START	3	/* SD_LISTEN_FDS_START */
#define SDNOTIFY_STATUS_MAX	1024	/* bytes of STATUS= text kept */

static int			notify_fd = -1;
static pid_t			notify_pid = -1;	/* who may send */
static struct sockaddr_un	notify_addr;
static socklen_t		notify_len;
static long long		watchdog_usec;

/* A whole decimal number in [min, max], nothing else.  Returns 0 or -1. */
static int
parse_num(const char *s, long long min, long long max, long long *out)
{
	long long	v = 0;

	if (s == NULL || *s == '\0')
		return -1;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (LLONG_MAX - (*s - '0')) / 10)
			return -1;
		v = v * 10 + (*s - '0');
	}
	if (*s != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/*
 * Fill notify_addr from "/path" or "@abstract".  An abstract name has no
 * terminating NUL, and its length must not count one: with sizeof(struct
 * sockaddr_un) the zero padding becomes part of the name and sendto()
 * fails with ECONNREFUSED.
 */
static int
set_address(const char *s)
{
	size_t	len = strlen(s);

	memset(&notify_addr, 0, sizeof(notify_addr));
	notify_addr.sun_family = AF_UNIX;
	if (s[0] != '/' && s[0] != '@') {
		errno = EAFNOSUPPORT;
		return -1;
	}
	if (len < 2) {
		errno = EINVAL;
		return -1;
	}
	if (len >= sizeof(notify_addr.sun_path)) {
		errno = ENAMETOOLONG;
		return -1;
	}
	memcpy(notify_addr.sun_path, s, len);
	if (s[0] == '@') {
		notify_addr.sun_path[0] = '\0';
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path)
		    + len);
	} else
		notify_len = (socklen_t)(offsetof(struct sockaddr_un, sun_path)
		    + len + 1);
	return 0;
}

static void
read_watchdog(void)
{
	const char	*pid = getenv("WATCHDOG_PID");
	long long	 v;

	watchdog_usec = 0;
	if (pid != NULL && (parse_num(pid, 1, INT_MAX, &v) == -1 ||
	    v != (long long)getpid()))
		return;
	if (parse_num(getenv("WATCHDOG_USEC"), 1, LLONG_MAX, &v) == 0)
		watchdog_usec = v;
}

int
sdnotify_init(void)
{
	const char	*s = getenv("NOTIFY_SOCKET");
	int		 rc = 0, save;

	/* Unset: a second call (a reload) keeps what the first found. */
	if (s != NULL) {
		sdnotify_close();
		if ((rc = set_address(s)) == 0 &&
		    (notify_fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC,
		    0)) == -1)
			rc = -1;
		if (rc == 0) {
			notify_pid = getpid();
			read_watchdog();
		}
	}
	save = errno;
	unsetenv("NOTIFY_SOCKET");
	unsetenv("WATCHDOG_USEC");
	unsetenv("WATCHDOG_PID");
	errno = save;
	return rc;
}

void
sdnotify_close(void)
{
	/* Stores only when needed: these live in .data, and a worker that
	 * writes that page gets its own 4 KiB copy of it. */
	if (notify_fd != -1) {
		close(notify_fd);
		notify_fd = -1;
	}
	if (notify_pid != -1)
		notify_pid = -1;
	/* Nor the .bss ones: storing a zero already there copies the page
	 * just the same. */
	if (notify_len != 0)
		notify_len = 0;
	if (watchdog_usec != 0)
		watchdog_usec = 0;
}

long long
sdnotify_watchdog_usec(void)
{
	return notify_fd != -1 && notify_pid == getpid() ? watchdog_usec : 0;
}

static int	vsend(const char *, va_list)
		    __attribute__((__format__(__printf__, 1, 0)));

static int
vsend(const char *fmt, va_list ap)
{
	char	msg[SDNOTIFY_MSG_MAX + 1];
	int	len;

	if (notify_fd == -1 || notify_pid != getpid())
		return 0;
	len = vsnprintf(msg, sizeof(msg), fmt, ap);
	if (len < 0)
		return -1;
	if ((size_t)len >= sizeof(msg)) {
		errno = EMSGSIZE;
		return -1;
	}
	/* A full receive queue must not stall the master: drop instead. */
	if (sendto(notify_fd, msg, (size_t)len, MSG_NOSIGNAL | MSG_DONTWAIT,
	    (struct sockaddr *)&notify_addr, notify_len) == -1)
		return -1;
	return 0;
}

int
sdnotify_send(const char *fmt, ...)
{
	va_list	ap;
	int	rc;

	va_start(ap, fmt);
	rc = vsend(fmt, ap);
	va_end(ap);
	return rc;
}

/* A status as one line: a newline would start another assignment. */
static const char *
one_line(const char *status, char *buf, size_t len)
{
	size_t	i;

	for (i = 0; status[i] != '\0' && i + 1 < len; i++)
		buf[i] = ((unsigned char)status[i] < 0x20 ||
		    status[i] == 0x7f) ? ' ' : status[i];
	buf[i] = '\0';
	return buf;
}

/* "KEY=1" alone, or with "\nSTATUS=..." when status is not NULL. */
static int
send_with_status(const char *key, const char *status)
{
	char	buf[SDNOTIFY_STATUS_MAX];

	if (status == NULL)
		return sdnotify_send("%s=1", key);
	return sdnotify_send("%s=1\nSTATUS=%s", key,
	    one_line(status, buf, sizeof(buf)));
}

int
sdnotify_ready(const char *status)
{
	return send_with_status("READY", status);
}

int
sdnotify_stopping(const char *status)
{
	return send_with_status("STOPPING", status);
}

/*
 * MONOTONIC_USEC lets Type=notify-reload (systemd 253+) match this message
 * to the reload it asked for; older systemd ignores the key.
 */
int
sdnotify_reloading(void)
{
	struct timespec	ts;

	if (clock_gettime(CLOCK_MONOTONIC, &ts) == -1)
		return -1;
	return sdnotify_send("RELOADING=1\nMONOTONIC_USEC=%lld",
	    (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000);
}

int
sdnotify_status(const char *status)
{
	char	buf[SDNOTIFY_STATUS_MAX];

	return sdnotify_send("STATUS=%s", one_line(status != NULL ? status :
	    "", buf, sizeof(buf)));
}

int
sdnotify_watchdog(void)
{
	return sdnotify_send("WATCHDOG=1");
}

/* One inherited fd must be a listening TCP socket.  Returns 0 or -1. */
static int
check_listen_fd(int fd, char *err, size_t errlen)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			type = 0, acc = 0;

	len = sizeof(type);
	if (getsockopt(fd, SOL_SOCKET, SO_TYPE, &type, &len) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d: %s", fd,
		    strerror(errno));
		return -1;
	}
	len = sizeof(acc);
	if (type != SOCK_STREAM ||
	    getsockopt(fd, SOL_SOCKET, SO_ACCEPTCONN, &acc, &len) == -1 ||
	    acc == 0) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d is not a listening "
		    "stream socket", fd);
		return -1;
	}
	len = sizeof(ss);
	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1 ||
	    (ss.ss_family != AF_INET && ss.ss_family != AF_INET6)) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d is not an IPv4 or "
		    "IPv6 socket", fd);
		return -1;
	}
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: fd %d: %s", fd,
		    strerror(errno));
		return -1;
	}
	return 0;
}

/* LISTEN_FDS for this process: n > 0, 0 when not activated, or -1. */
static int
activated_count(long long *n, char *err, size_t errlen)
{
	const char	*pid = getenv("LISTEN_PID");
	const char	*fds = getenv("LISTEN_FDS");
	long long	 v;

	*n = 0;
	if (pid == NULL)
		return 0;
	if (parse_num(pid, 1, INT_MAX, &v) == -1) {
		snprintf(err, errlen, "LISTEN_PID: bad value");
		return -1;
	}
	/* Set for another process (our parent): not ours to take. */
	if (v != (long long)getpid())
		return 0;
	if (fds == NULL)
		return 0;
	if (parse_num(fds, 0, LLONG_MAX, &v) == -1) {
		snprintf(err, errlen, "LISTEN_FDS: bad value");
		return -1;
	}
	if (v > SDNOTIFY_FDS_MAX) {
		snprintf(err, errlen, "LISTEN_FDS: %lld sockets, at most %d",
		    v, SDNOTIFY_FDS_MAX);
		return -1;
	}
	*n = v;
	return 0;
}

int
sdnotify_listen_fds(int **fds, size_t *n, char *err, size_t errlen)
{
	long long	count;
	int		rc, *a = NULL;
	size_t		i;

	*fds = NULL;
	*n = 0;
	rc = activated_count(&count, err, errlen);
	if (rc == 0 && count > 0 &&
	    (a = calloc((size_t)count, sizeof(*a))) == NULL) {
		snprintf(err, errlen, "LISTEN_FDS: %s", strerror(errno));
		rc = -1;
	}
	for (i = 0; rc == 0 && i < (size_t)count; i++) {
		a[i] = SDNOTIFY_LISTEN_START + (int)i;
		rc = check_listen_fd(a[i], err, errlen);
	}
	unsetenv("LISTEN_PID");
	unsetenv("LISTEN_FDS");
	unsetenv("LISTEN_FDNAMES");
	if (rc == -1) {
		free(a);
		return -1;
	}
	*fds = a;
	*n = (size_t)count;
	return 0;
}
