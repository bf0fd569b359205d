/* SPDX-License-Identifier: ISC */
/*
 * The systemd protocols: notify datagrams read back from a socket bound at
 * a path and at an abstract name, exact message contents, the environment
 * left to workers, and socket activation from fds 3.. in a forked child.
 * Then the real binary: its READY/RELOADING/STOPPING sequence over a whole
 * life, and serving through a socket from systemd-socket-activate.
 */
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "sdnotify.h"
#include "suites.h"

#define RECV_MAX	(SDNOTIFY_MSG_MAX + 64)
#define HIGH_FD		100	/* where the activation child parks fds */

/* A datagram receiver bound for NOTIFY_SOCKET, and the value to export. */
struct receiver {
	int	fd;
	char	dir[HARNESS_PATH_MAX];
	char	env[HARNESS_PATH_MAX + 16];
};

static void
receiver_path(struct receiver *r)
{
	struct sockaddr_un	sun;

	memset(r, 0, sizeof(*r));
	ck_assert_int_eq(harness_tmpdir(r->dir, sizeof(r->dir)), 0);
	snprintf(r->env, sizeof(r->env), "%s/notify", r->dir);
	ck_assert_uint_lt(strlen(r->env), sizeof(sun.sun_path));
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, r->env, strlen(r->env));
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(r->fd, -1);
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
}

/*
 * Bound the way systemd binds "@name": the length covers the name and no
 * NUL, so a sender that counted the sun_path padding would miss it.
 */
static void
receiver_abstract(struct receiver *r)
{
	struct sockaddr_un	sun;
	size_t			len;
	struct timespec		ts;

	memset(r, 0, sizeof(*r));
	r->dir[0] = '\0';
	clock_gettime(CLOCK_MONOTONIC, &ts);
	snprintf(r->env, sizeof(r->env), "@connectproxy-test-%ld-%ld",
	    (long)getpid(), (long)ts.tv_nsec);
	len = strlen(r->env);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path + 1, r->env + 1, len - 1);
	r->fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ne(r->fd, -1);
	ck_assert_int_eq(bind(r->fd, (struct sockaddr *)&sun,
	    (socklen_t)(offsetof(struct sockaddr_un, sun_path) + len)), 0);
}

static void
receiver_free(struct receiver *r)
{
	close(r->fd);
	if (r->dir[0] != '\0')
		harness_rmdir(r->dir);
}

/* The next datagram, NUL-terminated.  Returns its length or -1. */
static ssize_t
receive(struct receiver *r, char *buf, size_t len, int timeout_ms)
{
	struct pollfd	pfd = { .fd = r->fd, .events = POLLIN };
	ssize_t		n;

	if (poll(&pfd, 1, harness_ms(timeout_ms)) != 1)
		return -1;
	if ((n = recv(r->fd, buf, len - 1, MSG_DONTWAIT)) == -1)
		return -1;
	buf[n] = '\0';
	return n;
}

static void
expect(struct receiver *r, const char *want)
{
	char	buf[RECV_MAX];

	ck_assert_int_ge(receive(r, buf, sizeof(buf), 5000), 0);
	ck_assert_str_eq(buf, want);
}

static long long
monotonic_usec(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static void
init_for(struct receiver *r)
{
	ck_assert_int_eq(setenv("NOTIFY_SOCKET", r->env, 1), 0);
	ck_assert_int_eq(sdnotify_init(), 0);
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
}

/* Every message, in the order the master sends them over a lifetime. */
static void
exchange(struct receiver *r)
{
	char		 buf[RECV_MAX], tail;
	long long	 before, after, usec;

	init_for(r);
	ck_assert_int_eq(sdnotify_ready(NULL), 0);
	expect(r, "READY=1");
	ck_assert_int_eq(sdnotify_status("16 idle, 0 busy, gen 1"), 0);
	expect(r, "STATUS=16 idle, 0 busy, gen 1");

	before = monotonic_usec();
	ck_assert_int_eq(sdnotify_reloading(), 0);
	after = monotonic_usec();
	ck_assert_int_ge(receive(r, buf, sizeof(buf), 5000), 0);
	ck_assert_int_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%lld%c",
	    &usec, &tail), 1);
	ck_assert_int_ge(usec, before);
	ck_assert_int_le(usec, after);

	ck_assert_int_eq(sdnotify_ready("reload failed: x.conf:3: bad"), 0);
	expect(r, "READY=1\nSTATUS=reload failed: x.conf:3: bad");
	ck_assert_int_eq(sdnotify_watchdog(), 0);
	expect(r, "WATCHDOG=1");
	ck_assert_int_eq(sdnotify_send("EXTEND_TIMEOUT_USEC=%d", 5000000), 0);
	expect(r, "EXTEND_TIMEOUT_USEC=5000000");
	ck_assert_int_eq(sdnotify_stopping(NULL), 0);
	expect(r, "STOPPING=1");
	ck_assert_int_eq(sdnotify_stopping("stopping on TERM"), 0);
	expect(r, "STOPPING=1\nSTATUS=stopping on TERM");
	sdnotify_close();
}

START_TEST(test_path)
{
	struct receiver	r;

	receiver_path(&r);
	exchange(&r);
	receiver_free(&r);
}
END_TEST

START_TEST(test_abstract)
{
	struct receiver	r;

	receiver_abstract(&r);
	exchange(&r);
	receiver_free(&r);
}
END_TEST

/* Called again (say on a reload), init keeps the socket it found. */
START_TEST(test_init_twice)
{
	struct receiver	r;

	receiver_path(&r);
	setenv("WATCHDOG_USEC", "2000000", 1);
	init_for(&r);
	ck_assert_int_eq(sdnotify_init(), 0);
	ck_assert_int_eq(sdnotify_watchdog_usec(), 2000000);
	ck_assert_int_eq(sdnotify_ready(NULL), 0);
	expect(&r, "READY=1");
	sdnotify_close();
	receiver_free(&r);
}
END_TEST

/* A status is one assignment: a newline in it must not add a key. */
START_TEST(test_status_one_line)
{
	struct receiver	r;

	receiver_path(&r);
	init_for(&r);
	ck_assert_int_eq(sdnotify_status("bad\nREADY=1\r\tx"), 0);
	expect(&r, "STATUS=bad READY=1  x");
	ck_assert_int_eq(sdnotify_ready("a\nSTOPPING=1"), 0);
	expect(&r, "READY=1\nSTATUS=a STOPPING=1");
	sdnotify_close();
	receiver_free(&r);
}
END_TEST

START_TEST(test_too_long)
{
	struct receiver	 r;
	char		*big;

	receiver_path(&r);
	init_for(&r);
	big = malloc(SDNOTIFY_MSG_MAX + 1);
	ck_assert_ptr_nonnull(big);
	memset(big, 'x', SDNOTIFY_MSG_MAX);
	big[SDNOTIFY_MSG_MAX] = '\0';
	errno = 0;
	ck_assert_int_eq(sdnotify_send("STATUS=%s", big), -1);
	ck_assert_int_eq(errno, EMSGSIZE);
	free(big);
	ck_assert_int_eq(sdnotify_send("X=1"), 0);
	expect(&r, "X=1");
	sdnotify_close();
	receiver_free(&r);
}
END_TEST

START_TEST(test_unset)
{
	unsetenv("NOTIFY_SOCKET");
	setenv("WATCHDOG_USEC", "1000000", 1);
	ck_assert_int_eq(sdnotify_init(), 0);
	ck_assert_int_eq(sdnotify_ready(NULL), 0);
	ck_assert_int_eq(sdnotify_reloading(), 0);
	ck_assert_int_eq(sdnotify_send("X=%d", 1), 0);
	ck_assert_int_eq(sdnotify_watchdog_usec(), 0);
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
}
END_TEST

static const struct {
	const char	*value;
	int		 err;
} bad_sockets[] = {
	{ "vsock:2:1234", EAFNOSUPPORT },
	{ "relative/path", EAFNOSUPPORT },
	{ "", EAFNOSUPPORT },
	{ "@", EINVAL },
	{ "/", EINVAL },
};

START_TEST(test_bad_socket)
{
	char	longname[200];

	if (_i < (int)(sizeof(bad_sockets) / sizeof(bad_sockets[0]))) {
		setenv("NOTIFY_SOCKET", bad_sockets[_i].value, 1);
		errno = 0;
		ck_assert_int_eq(sdnotify_init(), -1);
		ck_assert_int_eq(errno, bad_sockets[_i].err);
	} else {
		memset(longname, 'n', sizeof(longname) - 1);
		longname[0] = _i % 2 == 0 ? '/' : '@';
		longname[sizeof(longname) - 1] = '\0';
		setenv("NOTIFY_SOCKET", longname, 1);
		errno = 0;
		ck_assert_int_eq(sdnotify_init(), -1);
		ck_assert_int_eq(errno, ENAMETOOLONG);
	}
	ck_assert_ptr_null(getenv("NOTIFY_SOCKET"));
	ck_assert_int_eq(sdnotify_ready(NULL), 0);
}
END_TEST

/*
 * Only the process that called sdnotify_init() speaks: a forked child's
 * message must never arrive, so the first datagram is the parent's, sent
 * after the child has exited.
 */
START_TEST(test_child_silent)
{
	struct receiver	r;
	pid_t		pid;
	int		st;

	receiver_path(&r);
	init_for(&r);
	if ((pid = fork()) == 0)
		_exit(sdnotify_ready("from a worker") == 0 &&
		    sdnotify_watchdog_usec() == 0 ? 0 : 1);
	ck_assert_int_ne(pid, -1);
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	ck_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0);
	ck_assert_int_eq(sdnotify_status("from the master"), 0);
	expect(&r, "STATUS=from the master");
	sdnotify_close();
	receiver_free(&r);
}
END_TEST

static const struct {
	const char	*pid;		/* "self", "other" or a literal */
	const char	*usec;
	long long	 want;
} watchdogs[] = {
	{ NULL, "30000000", 30000000 },
	{ "self", "5000000", 5000000 },
	{ "other", "5000000", 0 },
	{ "abc", "5000000", 0 },
	{ NULL, "0", 0 },
	{ NULL, "-5", 0 },
	{ NULL, "12x", 0 },
	{ NULL, NULL, 0 },
};

START_TEST(test_watchdog)
{
	struct receiver	r;
	char		pid[32];

	receiver_path(&r);
	unsetenv("WATCHDOG_PID");
	unsetenv("WATCHDOG_USEC");
	if (watchdogs[_i].pid != NULL) {
		if (strcmp(watchdogs[_i].pid, "self") == 0)
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		else if (strcmp(watchdogs[_i].pid, "other") == 0)
			snprintf(pid, sizeof(pid), "%ld", (long)getppid());
		else
			snprintf(pid, sizeof(pid), "%s", watchdogs[_i].pid);
		setenv("WATCHDOG_PID", pid, 1);
	}
	if (watchdogs[_i].usec != NULL)
		setenv("WATCHDOG_USEC", watchdogs[_i].usec, 1);
	init_for(&r);
	ck_assert_int_eq(sdnotify_watchdog_usec(), watchdogs[_i].want);
	ck_assert_ptr_null(getenv("WATCHDOG_USEC"));
	ck_assert_ptr_null(getenv("WATCHDOG_PID"));
	sdnotify_close();
	ck_assert_int_eq(sdnotify_watchdog_usec(), 0);
	receiver_free(&r);
}
END_TEST

/* Socket activation */

enum fd_kind {
	FD_LISTEN,		/* listening TCP on 127.0.0.1 */
	FD_LISTEN6,		/* listening TCP on ::1 */
	FD_UNLISTENED,		/* bound TCP, no listen() */
	FD_UDP,
	FD_UNIX_LISTEN,		/* listening AF_UNIX stream */
	FD_PIPE,
	FD_CLOSED
};

static const struct {
	const char	*name;
	enum fd_kind	 kinds[3];
	size_t		 nkinds;
	const char	*listen_pid;	/* "self", "other", or NULL: unset */
	const char	*listen_fds;
	int		 rc;
	size_t		 n;
	const char	*msg;		/* in the error, when rc is -1 */
} activations[] = {
	{ "one", { FD_LISTEN }, 1, "self", "1", 0, 1, NULL },
	{ "two", { FD_LISTEN, FD_LISTEN6 }, 2, "self", "2", 0, 2, NULL },
	{ "not activated", { FD_LISTEN }, 1, NULL, "1", 0, 0, NULL },
	{ "for the parent", { FD_LISTEN }, 1, "other", "1", 0, 0, NULL },
	{ "zero", { FD_LISTEN }, 1, "self", "0", 0, 0, NULL },
	{ "no LISTEN_FDS", { FD_LISTEN }, 1, "self", NULL, 0, 0, NULL },
	{ "not listening", { FD_LISTEN, FD_UNLISTENED }, 2, "self", "2", -1,
	    0, "fd 4 is not a listening" },
	{ "udp", { FD_UDP }, 1, "self", "1", -1, 0, "fd 3 is not" },
	{ "unix", { FD_UNIX_LISTEN }, 1, "self", "1", -1, 0,
	    "fd 3 is not an IPv4" },
	{ "pipe", { FD_PIPE }, 1, "self", "1", -1, 0, "fd 3" },
	{ "closed", { FD_LISTEN, FD_CLOSED }, 2, "self", "2", -1, 0,
	    "fd 4" },
	{ "bad count", { FD_LISTEN }, 1, "self", "1x", -1, 0, "LISTEN_FDS" },
	{ "too many", { FD_LISTEN }, 1, "self", "100000", -1, 0,
	    "at most" },
	{ "bad pid", { FD_LISTEN }, 1, "-1", "1", -1, 0, "LISTEN_PID" },
};

/* A socket of `kind`, or -1 (FD_CLOSED and failures). */
static int
make_fd(enum fd_kind kind)
{
	struct sockaddr_in	sin = { .sin_family = AF_INET };
	struct sockaddr_in6	sin6 = { .sin6_family = AF_INET6 };
	struct sockaddr_un	sun = { .sun_family = AF_UNIX };
	int			fd = -1, p[2];

	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	sin6.sin6_addr = in6addr_loopback;
	switch (kind) {
	case FD_LISTEN:
	case FD_UNLISTENED:
		fd = socket(AF_INET, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
		    (kind == FD_LISTEN && listen(fd, 8) == -1))
			return -1;
		break;
	case FD_LISTEN6:
		/* Without IPv6 on the host, a second IPv4 listener. */
		if ((fd = socket(AF_INET6, SOCK_STREAM, 0)) == -1 ||
		    bind(fd, (struct sockaddr *)&sin6, sizeof(sin6)) == -1) {
			if (fd != -1)
				close(fd);
			return make_fd(FD_LISTEN);
		}
		if (listen(fd, 8) == -1)
			return -1;
		break;
	case FD_UDP:
		fd = socket(AF_INET, SOCK_DGRAM, 0);
		break;
	case FD_UNIX_LISTEN:
		/* An autobound abstract name: nothing to clean up. */
		fd = socket(AF_UNIX, SOCK_STREAM, 0);
		if (bind(fd, (struct sockaddr *)&sun, sizeof(sa_family_t)) ==
		    -1 || listen(fd, 8) == -1)
			return -1;
		break;
	case FD_PIPE:
		if (pipe(p) == -1)
			return -1;
		close(p[1]);
		fd = p[0];
		break;
	case FD_CLOSED:
		break;
	}
	return fd;
}

/*
 * In the activation child: the fds of case i at 3.., the variables set.
 * Check's own descriptors may sit at 3.., so this child never reports
 * through Check: it writes "ok" or what went wrong to `out`.
 */
static int
activation_setup(int i, char *why, size_t len)
{
	int	fd, parked[3];
	size_t	k;
	char	pid[32];

	for (k = 0; k < activations[i].nkinds; k++) {
		parked[k] = -1;
		if (activations[i].kinds[k] == FD_CLOSED)
			continue;
		if ((fd = make_fd(activations[i].kinds[k])) == -1 ||
		    (parked[k] = fcntl(fd, F_DUPFD, HIGH_FD + (int)k)) == -1) {
			snprintf(why, len, "setup: fd %zu: %s", k,
			    strerror(errno));
			return -1;
		}
		close(fd);
	}
	for (k = 0; k < activations[i].nkinds; k++) {
		close(3 + (int)k);
		if (parked[k] != -1 && (dup2(parked[k], 3 + (int)k) == -1 ||
		    close(parked[k]) == -1)) {
			snprintf(why, len, "setup: dup2: %s", strerror(errno));
			return -1;
		}
	}
	if (activations[i].listen_pid != NULL) {
		if (strcmp(activations[i].listen_pid, "self") == 0)
			snprintf(pid, sizeof(pid), "%ld", (long)getpid());
		else if (strcmp(activations[i].listen_pid, "other") == 0)
			snprintf(pid, sizeof(pid), "%ld", (long)getppid());
		else
			snprintf(pid, sizeof(pid), "%s",
			    activations[i].listen_pid);
		setenv("LISTEN_PID", pid, 1);
	}
	if (activations[i].listen_fds != NULL)
		setenv("LISTEN_FDS", activations[i].listen_fds, 1);
	setenv("LISTEN_FDNAMES", "proxy:proxy", 1);
	return 0;
}

/* What sdnotify_listen_fds() gave, against the table.  0 or -1. */
static int
activation_check(int i, int rc, const int *fds, size_t n, const char *err,
    char *why, size_t len)
{
	size_t	k;
	int	flags;

	if (rc != activations[i].rc || n != activations[i].n) {
		snprintf(why, len, "rc %d n %zu (%s)", rc, n, err);
		return -1;
	}
	if (rc == -1 && strstr(err, activations[i].msg) == NULL) {
		snprintf(why, len, "message \"%s\"", err);
		return -1;
	}
	for (k = 0; k < n; k++) {
		flags = fcntl(fds[k], F_GETFD);
		if (fds[k] != 3 + (int)k || flags == -1 ||
		    !(flags & FD_CLOEXEC)) {
			snprintf(why, len, "fd[%zu] = %d, flags %d", k, fds[k],
			    flags);
			return -1;
		}
	}
	if (getenv("LISTEN_PID") != NULL || getenv("LISTEN_FDS") != NULL ||
	    getenv("LISTEN_FDNAMES") != NULL) {
		snprintf(why, len, "variables still set");
		return -1;
	}
	return 0;
}

static void
activation_child(int i, int out)
{
	char	 why[512] = "ok", err[256] = "";
	int	*fds = NULL, rc;
	size_t	 n = 99;

	if (activation_setup(i, why, sizeof(why)) == 0) {
		rc = sdnotify_listen_fds(&fds, &n, err, sizeof(err));
		if (activation_check(i, rc, fds, n, err, why, sizeof(why)) ==
		    0)
			snprintf(why, sizeof(why), "ok");
		free(fds);
	}
	(void)write(out, why, strlen(why));
	_exit(0);
}

START_TEST(test_listen_fds)
{
	char	buf[600];
	int	p[2], out, st;
	ssize_t	n;
	pid_t	pid;

	ck_assert_int_eq(pipe(p), 0);
	/* Above every fd the child places, so it survives the dup2s. */
	out = fcntl(p[1], F_DUPFD, HIGH_FD + 10);
	ck_assert_int_ne(out, -1);
	close(p[1]);
	if ((pid = fork()) == 0) {
		close(p[0]);
		activation_child(_i, out);
	}
	close(out);
	ck_assert_int_ne(pid, -1);
	/* The child writes once and exits: read to EOF. */
	ck_assert_int_eq(waitpid(pid, &st, 0), pid);
	n = read(p[0], buf, sizeof(buf) - 1);
	ck_assert_int_ge(n, 0);
	buf[n] = '\0';
	close(p[0]);
	ck_assert_msg(strcmp(buf, "ok") == 0, "%s: %s", activations[_i].name,
	    buf);
}
END_TEST


/* Datagrams until one starts with `prefix`, into buf.  Returns 0 or -1. */
static int
await(struct receiver *r, const char *prefix, char *buf, size_t len)
{
	int	i;

	for (i = 0; i < 50; i++) {
		if (receive(r, buf, len, 10000) == -1)
			return -1;
		if (strncmp(buf, prefix, strlen(prefix)) == 0)
			return 0;
	}
	return -1;
}

/*
 * Start the proxy with NOTIFY_SOCKET at r, and wait for its READY=1.  The
 * port harness_proxy_start() picks is free when picked only: should
 * another process bind it first, the proxy exits at start (a port that
 * listens, but not for it, may still satisfy harness_proxy_start()), and
 * it is started again on another port.
 */
static void
proxy_ready(struct harness_proxy *p, struct receiver *r, const char *conf)
{
	char		 buf[RECV_MAX];
	long long	 deadline;
	int		 tries;

	ck_assert_int_eq(setenv("NOTIFY_SOCKET", r->env, 1), 0);
	for (tries = 0; tries < 5; tries++) {
		/* Freed below whatever harness_proxy_start() got to. */
		memset(p, 0, sizeof(*p));
		p->pid = -1;
		deadline = harness_now_ms() + harness_ms(10000);
		if (harness_proxy_start(p, conf) == -1)
			deadline = 0;
		while (harness_now_ms() < deadline &&
		    harness_proxy_wait_exit(p, 0) == -1) {
			if (receive(r, buf, sizeof(buf), 100) >= 0 &&
			    strncmp(buf, "READY=1", 7) == 0)
				return;
		}
		harness_proxy_free(p);
	}
	ck_abort_msg("no READY=1 from the master");
}

/* HUP, then RELOADING=1 stamped no earlier than the signal, then READY. */
static void
expect_reload(struct receiver *r, struct harness_proxy *p, char *buf,
    size_t len)
{
	long long	before, usec;

	before = monotonic_usec();
	ck_assert_int_eq(harness_proxy_signal(p, SIGHUP), 0);
	ck_assert_int_eq(await(r, "RELOADING=1\n", buf, len), 0);
	ck_assert_int_eq(sscanf(buf, "RELOADING=1\nMONOTONIC_USEC=%lld",
	    &usec), 1);
	ck_assert_int_ge(usec, before);
	ck_assert_int_le(usec, monotonic_usec());
	ck_assert_int_eq(await(r, "READY=1", buf, len), 0);
}

/* The master's whole life as systemd sees it, at a path and abstract. */
START_TEST(test_binary_lifecycle)
{
	struct receiver		r;
	struct harness_proxy	p;
	char			buf[RECV_MAX];

	if (_i == 0)
		receiver_path(&r);
	else
		receiver_abstract(&r);
	proxy_ready(&p, &r, "workers_start 2\n");
	expect_reload(&r, &p, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\nSTATUS=generation 1 loaded") != NULL,
	    "after a good reload: %s", buf);
	ck_assert_int_eq(harness_proxy_rewrite_config(&p, "bogus 1\n"), 0);
	expect_reload(&r, &p, buf, sizeof(buf));
	ck_assert_msg(strstr(buf, "\nSTATUS=reload failed: ") != NULL &&
	    strstr(buf, ":2: unknown directive") != NULL,
	    "after a bad reload: %s", buf);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGTERM), 0);
	ck_assert_int_eq(await(&r, "STOPPING=1", buf, sizeof(buf)), 0);
	ck_assert_int_eq(harness_proxy_wait_exit(&p, harness_ms(10000)), 0);
	harness_proxy_free(&p);
	receiver_free(&r);
}
END_TEST

/*
 * STATUS= counts each tunnel once, also after its worker is gone: workers
 * that serve one tunnel each are reaped while the count is summed.
 */
START_TEST(test_binary_status_served)
{
	struct receiver		r;
	struct harness_proxy	p;
	struct harness_target	t;
	char			buf[RECV_MAX], conf[256], target[64];
	const char		*s;
	int			i, fd, served = 0;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	receiver_path(&r);
	snprintf(conf, sizeof(conf), "workers_start 1\nworker_max_tunnels 1\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\n", t.port);
	proxy_ready(&p, &r, conf);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	for (i = 0; i < 3; i++) {
		fd = harness_tunnel(p.port, target, NULL, NULL,
		    harness_ms(5000));
		ck_assert_int_ne(fd, -1);
		close(fd);
	}
	/* The master says STATUS= once a second when it changes. */
	for (i = 0; i < 50 && served < 3; i++) {
		ck_assert_int_ge(receive(&r, buf, sizeof(buf), 10000), 0);
		if ((s = strstr(buf, "; ")) != NULL &&
		    sscanf(s, "; %d tunnels served", &served) != 1)
			served = 0;
	}
	ck_assert_msg(served == 3, "3 tunnels, STATUS= says %d: %s", served,
	    buf);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	receiver_free(&r);
}
END_TEST

/*
 * QUIT under systemd: STOPPING=1 makes systemd arm TimeoutStopSec and kill
 * the unit when it runs out, so while a tunnel drains only STATUS= lines
 * may come; STOPPING=1 comes once the last tunnel is closed.
 */
START_TEST(test_binary_quit_drains)
{
	struct receiver		r;
	struct harness_proxy	p;
	struct harness_target	t;
	char			buf[RECV_MAX], conf[256], target[64], echo[4];
	long long		until;
	int			fd, i, drained = 0;

	receiver_path(&r);
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\n", t.port);
	proxy_ready(&p, &r, conf);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, NULL, harness_ms(10000));
	EXPECT(&p, fd != -1, "no tunnel");
	ck_assert_int_eq(harness_proxy_signal(&p, SIGQUIT), 0);
	/* The drain status, then 2 s more of whatever comes: no STOPPING. */
	until = harness_now_ms() + harness_ms(2000);
	for (i = 0; i < 50 && (!drained || harness_now_ms() < until); i++) {
		if (receive(&r, buf, sizeof(buf), drained ? 500 : 10000) ==
		    -1) {
			EXPECT(&p, drained, "no STATUS= while draining");
			continue;
		}
		EXPECT(&p, strncmp(buf, "STOPPING=1", 10) != 0, "STOPPING=1 "
		    "with a tunnel still open: systemd would kill it after "
		    "TimeoutStopSec (%s)", buf);
		if (strstr(buf, "STATUS=graceful stop: draining 1 tunnels") !=
		    NULL)
			drained = 1;
	}
	ck_assert_int_eq(harness_send_str(fd, "hi\n"), 0);
	EXPECT(&p, harness_recv_exact(fd, echo, 3, harness_ms(5000)) == 3,
	    "the tunnel stopped relaying during the drain");
	EXPECT(&p, harness_proxy_wait_exit(&p, 0) == -1, "the master exited "
	    "with a tunnel open");
	close(fd);
	EXPECT(&p, await(&r, "STOPPING=1", buf, sizeof(buf)) == 0,
	    "no STOPPING=1 after the last tunnel closed");
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the master did not exit after STOPPING=1");
	ck_assert_msg(WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
	    "exit status %d", p.status);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	receiver_free(&r);
}
END_TEST

/* A line of the file at path holds needle.  Returns 1 or 0. */
static int
file_has(const char *path, const char *needle)
{
	char	*text;
	int	 found;

	text = harness_read_file(path);
	found = text != NULL && strstr(text, needle) != NULL;
	free(text);
	return found;
}

/*
 * systemd-socket-activate listening at a free port, to exec the proxy on
 * the first connection with NOTIFY_SOCKET `notify`, output to `log`.  A
 * port is free when chosen only: another process may bind it before the
 * tool does, which then exits, and another port is tried.  Returns the
 * pid with *port set, or -1.
 */
static pid_t
activate_spawn(const char *conf, const char *notify, const char *log,
    int *port)
{
	char		 listen[64], env[HARNESS_PATH_MAX + 32];
	long long	 deadline;
	pid_t		 pid;
	int		 tries, st, gone;

	snprintf(env, sizeof(env), "NOTIFY_SOCKET=%s", notify);
	for (tries = 0; tries < 5; tries++) {
		if ((*port = harness_free_port(AF_INET)) == -1)
			return -1;
		snprintf(listen, sizeof(listen), "127.0.0.1:%d", *port);
		pid = harness_spawn((char *[]){ "systemd-socket-activate",
		    "-l", listen, "-E", env, (char *)harness_bin(), "-c",
		    (char *)conf, NULL }, log);
		if (pid == -1)
			return -1;
		/* Its own line: a listener at the port may be another's. */
		snprintf(listen, sizeof(listen), "Listening on 127.0.0.1:%d ",
		    *port);
		deadline = harness_now_ms() + harness_ms(5000);
		gone = 0;
		while (!file_has(log, listen) && !gone &&
		    harness_now_ms() < deadline) {
			gone = waitpid(pid, &st, WNOHANG) == pid;
			harness_pause_ms(20);
		}
		/* Reaped, its pid may be another's already: no signal. */
		if (!gone && file_has(log, listen))
			return pid;
		if (!gone)
			(void)harness_kill_wait(pid, harness_ms(5000));
	}
	return -1;
}

/*
 * systemd-socket-activate binds the port and execs the proxy on the first
 * connection: that connection is served through the inherited socket,
 * the `listen` line of the config is not bound, and a reload keeps the
 * inherited socket.  The `listen` port is held, bound but not listening,
 * so no other process can take it while the test runs: a proxy that
 * bound it would fail to start or to reload.
 */
START_TEST(test_binary_activation)
{
	struct harness_target	t;
	struct receiver		r;
	char			conf[512], log[HARNESS_PATH_MAX + 16];
	char			dir[HARNESS_PATH_MAX], target[64], want[64];
	char			buf[RECV_MAX], echo[4];
	int			port, unused, holder, fd, i;
	pid_t			pid;
	FILE			*f;

	if (access("/usr/bin/systemd-socket-activate", X_OK) != 0)
		return;	/* not every machine has systemd's tools */
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	receiver_path(&r);
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	unused = harness_closed_port(AF_INET, &holder);
	ck_assert_int_ne(unused, -1);
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(log, sizeof(log), "%s/log", dir);
	ck_assert_ptr_nonnull(f = fopen(conf, "w"));
	fprintf(f, "listen 127.0.0.1:%d\nallow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\n", unused, t.port);
	fclose(f);
	pid = activate_spawn(conf, r.env, log, &port);
	ck_assert_msg(pid != -1, "systemd-socket-activate did not listen");
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	for (i = 0; i < 2; i++) {
		fd = harness_tunnel(port, target, NULL, NULL,
		    harness_ms(10000));
		ck_assert_msg(fd != -1, "no tunnel through the activated "
		    "socket (round %d)", i);
		ck_assert_int_eq(harness_send_str(fd, "hi\n"), 0);
		ck_assert_int_eq(harness_recv_exact(fd, echo, 3,
		    harness_ms(5000)), 3);
		close(fd);
		ck_assert_int_eq(kill(pid, SIGHUP), 0);
		snprintf(want, sizeof(want), "READY=1\nSTATUS=generation %d "
		    "loaded", i + 1);
		ck_assert_msg(await(&r, want, buf, sizeof(buf)) == 0,
		    "reload %d under socket activation: %s", i + 1, buf);
	}
	ck_assert_int_ge(harness_kill_wait(pid, harness_ms(10000)), 0);
	snprintf(want, sizeof(want), "listening on 127.0.0.1:%d\n", port);
	ck_assert_msg(file_has(log, want), "no \"%s\" in the log", want);
	close(holder);
	harness_rmdir(dir);
	receiver_free(&r);
	harness_target_stop(&t);
}
END_TEST

Suite *
sdnotify_suite(void)
{
	Suite	*s = suite_create("sdnotify");
	TCase	*tc = tcase_create("notify");
	TCase	*ta = tcase_create("activation");
	TCase	*tb = tcase_create("binary");

	tcase_add_test(tc, test_path);
	tcase_add_test(tc, test_abstract);
	tcase_add_test(tc, test_init_twice);
	tcase_add_test(tc, test_status_one_line);
	tcase_add_test(tc, test_too_long);
	tcase_add_test(tc, test_unset);
	tcase_add_loop_test(tc, test_bad_socket, 0,
	    (int)(sizeof(bad_sockets) / sizeof(bad_sockets[0])) + 2);
	tcase_add_test(tc, test_child_silent);
	tcase_add_loop_test(tc, test_watchdog, 0,
	    (int)(sizeof(watchdogs) / sizeof(watchdogs[0])));
	suite_add_tcase(s, tc);
	tcase_add_loop_test(ta, test_listen_fds, 0,
	    (int)(sizeof(activations) / sizeof(activations[0])));
	suite_add_tcase(s, ta);
	tcase_set_timeout(tb, 60);
	tcase_add_loop_test(tb, test_binary_lifecycle, 0, 2);
	tcase_add_test(tb, test_binary_quit_drains);
	tcase_add_test(tb, test_binary_activation);
	tcase_add_test(tb, test_binary_status_served);
	suite_add_tcase(s, tb);
	return s;
}
