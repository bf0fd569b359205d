/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for reload and the signal lifecycle: real signals to
 * the real binary, checked by what a user sees (tunnels that keep
 * relaying, answers to new requests, ports that accept or refuse) and
 * what an operator sees (log lines, the exit status, the pidfile).
 */
#define _GNU_SOURCE

#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* Fail with the proxy's log on stderr, so the report says what it did. */
#define CONF_MAX	2048
#define LINE_MAX_	1024
#define RELOADS		20
#define CHURNERS	2
#define MAX_PIDS	512

static void
target_start(struct harness_target *t)
{
	harness_raise_nofile();
	ck_assert_msg(harness_echo_many_start(t, 256) == 0,
	    "cannot start the echo target: %s", strerror(errno));
}

/*
 * Start the proxy with `conf` and wait until its signal handlers are in
 * place ("started N workers"): a HUP before that would kill it.
 */
static void
proxy_start(struct harness_proxy *p, const char *conf)
{
	int	rc;

	rc = harness_proxy_start(p, conf);
	/* On a loaded machine (thousands of sockets in /proc/net/tcp) the
	 * harness may give up while the master still starts: keep waiting
	 * as long as it runs. */
	if (rc == -1 && p->pid > 0 && p->port > 0 &&
	    harness_wait_listen(p->port, harness_ms(20000)) == 0)
		rc = 0;
	EXPECT(p, rc == 0, "proxy did not start listening (%s, status %d)",
	    harness_bin(), p->status);
	EXPECT(p, harness_proxy_wait_log(p, "started ", "workers", NULL, 0,
	    harness_ms(20000)) == 0, "no \"started N workers\" line");
}

/* The echo target(s) allowed, plus `extra` (printf-style). */
static void __attribute__((format(printf, 3, 4)))
conf_text(char *buf, size_t len, const char *fmt, ...)
{
	va_list	ap;
	int	n;

	va_start(ap, fmt);
	n = vsnprintf(buf, len, fmt, ap);
	va_end(ap);
	ck_assert_msg(n > 0 && (size_t)n < len, "config text too long");
}

static void
rewrite(struct harness_proxy *p, const char *conf)
{
	EXPECT(p, harness_proxy_rewrite_config(p, conf) == 0,
	    "cannot rewrite %s: %s", p->conf, strerror(errno));
}

/* Wait until `needle` occurs at least `n` times in the log. */
static int
wait_count(const struct harness_proxy *p, const char *needle, int n,
    int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	int		i;

	for (i = 0; i < 100000; i++) {
		if (harness_proxy_count_log(p, needle) >= n)
			return 0;
		if (harness_now_ms() >= deadline)
			break;
		harness_pause_ms(20);
	}
	return -1;
}

/*
 * HUP the master and wait for "reloaded: generation gen"; fail at once
 * on a "reload failed" line or when the master died.
 */
static void
reload_ok(struct harness_proxy *p, unsigned gen)
{
	char		needle[64];
	long long	deadline = harness_now_ms() + harness_ms(10000);
	int		failed, i;

	snprintf(needle, sizeof(needle), "reloaded: generation %u\n", gen);
	failed = harness_proxy_count_log(p, "reload failed");
	EXPECT(p, harness_proxy_signal(p, SIGHUP) == 0, "HUP: %s",
	    strerror(errno));
	for (i = 0; i < 100000; i++) {
		if (harness_proxy_count_log(p, needle) > 0)
			return;
		EXPECT(p, harness_proxy_count_log(p, "reload failed") ==
		    failed, "reload to generation %u failed", gen);
		EXPECT(p, harness_proxy_wait_exit(p, 0) == -1,
		    "the master exited on reload %u (status %d)", gen,
		    p->status);
		if (harness_now_ms() >= deadline)
			break;
		harness_pause_ms(20);
	}
	EXPECT(p, 0, "no \"reloaded: generation %u\" line", gen);
}

/*
 * HUP the master and wait for a "reload failed" line; copy it to line.
 */
static void
reload_fails(struct harness_proxy *p, char *line, size_t len)
{
	int	failed = harness_proxy_count_log(p, "reload failed");

	EXPECT(p, harness_proxy_signal(p, SIGHUP) == 0, "HUP: %s",
	    strerror(errno));
	EXPECT(p, wait_count(p, "reload failed", failed + 1,
	    harness_ms(10000)) == 0, "no \"reload failed\" line");
	EXPECT(p, harness_proxy_wait_log(p, "reload failed", NULL, line, len,
	    0) == 0, "no reload failed line");
	EXPECT(p, harness_proxy_wait_exit(p, 0) == -1,
	    "the master exited on a failed reload (status %d)", p->status);
}

/*
 * Connect to addr:port within timeout_ms.  Returns the fd, or -errno
 * (-ETIMEDOUT on a timeout).
 */
static int
dial(const char *addr, int port, int timeout_ms)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		elen = sizeof(int);
	int			fd, err = 0, rc;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)port);
	if (inet_pton(AF_INET, addr, &sin.sin_addr) != 1)
		return -EINVAL;
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS) {
			err = errno;
			goto fail;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		do
			rc = poll(&pfd, 1, timeout_ms);
		while (rc == -1 && errno == EINTR);
		if (rc <= 0) {
			err = ETIMEDOUT;
			goto fail;
		}
		if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1)
			err = errno;
		if (err != 0)
			goto fail;
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		err = errno;
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -err;
}

/*
 * Ask the proxy at addr:port for a tunnel to the target.  Returns the
 * fd when the answer is 200; otherwise -1 with the status seen (0: none)
 * in *status and the connect error, if any, in *err.
 */
static int
open_tunnel(const char *addr, int port, const struct harness_target *t,
    int *status, int *err, int timeout_ms)
{
	char	req[256], head[HARNESS_HEAD_MAX];
	int	fd;
	ssize_t	n;

	*status = 0;
	*err = 0;
	snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
	    "Host: %s:%d\r\n\r\n", t->addr, t->port, t->addr, t->port);
	if ((fd = dial(addr, port, timeout_ms)) < 0) {
		*err = -fd;
		return -1;
	}
	if (harness_send_str(fd, req) == -1) {
		*err = errno != 0 ? errno : EPIPE;
		close(fd);
		return -1;
	}
	n = harness_recv_head(fd, head, sizeof(head), timeout_ms);
	if (n <= 0) {
		*err = n == 0 ? ECONNRESET : ETIMEDOUT;
		close(fd);
		return -1;
	}
	if (sscanf(head, "HTTP/1.%*1[01] %3d ", status) != 1)
		*status = 0;
	if (*status != 200) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Send msg through an echo tunnel; 0 when it came back whole. */
static int
echo_try(int fd, const char *msg)
{
	char	buf[256];
	size_t	len = strlen(msg);

	if (len > sizeof(buf) || harness_send_str(fd, msg) == -1)
		return -1;
	if (harness_recv_exact(fd, buf, len, harness_ms(10000)) !=
	    (ssize_t)len || memcmp(buf, msg, len) != 0)
		return -1;
	return 0;
}

static void
echo_ok(const struct harness_proxy *p, int fd, const char *msg)
{
	EXPECT(p, echo_try(fd, msg) == 0, "echo of \"%.*s\" through the "
	    "tunnel failed", (int)strcspn(msg, "\n"), msg);
}

/* A tunnel through addr:port that must open and echo. */
static int
tunnel_ok(const struct harness_proxy *p, const char *addr, int port,
    const struct harness_target *t)
{
	int	fd, status, err;

	fd = open_tunnel(addr, port, t, &status, &err, harness_ms(10000));
	EXPECT(p, fd >= 0, "CONNECT via %s:%d to port %d: expected 200, saw "
	    "%d (%s)", addr, port, t->port, status, err ? strerror(err) :
	    "no connect error");
	echo_ok(p, fd, "ping\n");
	return fd;
}

/*
 * Connect to addr:port until it is refused (the last listener copy gone),
 * within timeout_ms.  Returns 0 once refused, -1 otherwise.
 */
static int
wait_refused(const char *addr, int port, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	int		fd, i;

	for (i = 0; i < 1000; i++) {
		fd = dial(addr, port, harness_ms(2000));
		if (fd == -ECONNREFUSED)
			return 0;
		if (fd >= 0)
			close(fd);
		if (harness_now_ms() >= deadline)
			break;
		harness_pause_ms(20);
	}
	return -1;
}

/* The access record of the tunnel to target port `port` with `reason`. */
static void
access_line(const struct harness_proxy *p, int port, const char *reason,
    char *line, size_t len)
{
	char	target[64], want[64];

	snprintf(target, sizeof(target), "target=127.0.0.1:%d ", port);
	snprintf(want, sizeof(want), "reason=%s", reason);
	EXPECT(p, harness_proxy_wait_log(p, target, want, line, len,
	    harness_ms(5000)) == 0, "no access record with %s and %s",
	    target, want);
	EXPECT(p, strstr(line, "access ") != NULL && strstr(line,
	    " status=200 ") != NULL, "not a 200 access record: %s", line);
}

/* Workers never die abnormally in these tests. */
static void
no_crash(const struct harness_proxy *p)
{
	EXPECT(p, harness_proxy_count_log(p, "killed by signal") == 0 &&
	    harness_proxy_count_log(p, "exited with status") == 0 &&
	    harness_proxy_count_log(p, "could not start") == 0,
	    "a worker died abnormally");
}

static void
expect_exit0(const struct harness_proxy *p)
{
	EXPECT(p, WIFEXITED(p->status) && WEXITSTATUS(p->status) == 0,
	    "master exit status: %s %d", WIFEXITED(p->status) ? "exit" :
	    "signal", WIFEXITED(p->status) ? WEXITSTATUS(p->status) :
	    WTERMSIG(p->status));
}

static void
expect_gone(const struct harness_proxy *p, const pid_t *pids, int n)
{
	int	i;

	for (i = 0; i < n && i < MAX_PIDS; i++)
		EXPECT(p, harness_wait_pid_gone(pids[i], harness_ms(3000)) == 0,
		    "worker %ld still running after the master exited",
		    (long)pids[i]);
}

/* 1: an established tunnel through 20 reloads */

START_TEST(test_tunnel_survives_reloads)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], msg[64], line[LINE_MAX_];
	unsigned		gen;
	int			fd, w;
	long long		sent = 0, deadline;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 4\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	sent += 5;
	for (gen = 1; gen <= RELOADS; gen++) {
		/* A file that really changes: idle_timeout 300s, 301s, ... */
		conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
		    "allow_port %d\nworkers_start 4\nidle_timeout %us\n",
		    t.port, 300 + gen);
		rewrite(&p, conf);
		reload_ok(&p, gen);
		snprintf(msg, sizeof(msg), "after reload %u\n", gen);
		echo_ok(&p, fd, msg);
		sent += (long long)strlen(msg);
	}
	/* The old generations' idle workers are gone, not piling up. */
	deadline = harness_now_ms() + harness_ms(10000);
	while ((w = harness_proxy_workers(&p, NULL, 0)) > 1 + 8 &&
	    harness_now_ms() < deadline)
		harness_pause_ms(50);
	EXPECT(&p, w <= 1 + 8, "%d workers after %d reloads (expected the "
	    "busy one plus at most workers_max_spare)", w, RELOADS);
	close(fd);
	access_line(&p, t.port, "client_eof", line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "bytes_up") == sent &&
	    harness_field_num(line, "bytes_down") == sent,
	    "expected %lld bytes each way: %s", sent, line);
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 2: clients opening tunnels in a loop through 20 reloads */

struct churn {
	atomic_int	stop;
	atomic_int	done;
	atomic_int	refused;	/* connect refused */
	atomic_int	reset;		/* reset or EOF before the echo */
	atomic_int	status;		/* an answer other than 200 */
	atomic_int	timeout;
	atomic_int	echo;		/* echo came back wrong */
	atomic_int	other;
	atomic_int	last_status;
	atomic_int	last_errno;
};

static void
churn_count(struct churn *c, int status, int err)
{
	atomic_store(&c->last_status, status);
	atomic_store(&c->last_errno, err);
	if (err == ECONNREFUSED)
		atomic_fetch_add(&c->refused, 1);
	else if (err == ECONNRESET || err == EPIPE)
		atomic_fetch_add(&c->reset, 1);
	else if (err == ETIMEDOUT)
		atomic_fetch_add(&c->timeout, 1);
	else if (status != 0 && status != 200)
		atomic_fetch_add(&c->status, 1);
	else
		atomic_fetch_add(&c->other, 1);
}

/* The client loop, in a child: connect, CONNECT, 200, echo, close. */
static void
churn_main(struct churn *c, int port, const struct harness_target *t,
    int id)
{
	long long	deadline = harness_now_ms() + harness_ms(100000);
	char		msg[64];
	int		i, fd, status, err;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	for (i = 0; i < 1000000 && !atomic_load(&c->stop) &&
	    harness_now_ms() < deadline; i++) {
		fd = open_tunnel("127.0.0.1", port, t, &status, &err,
		    harness_ms(10000));
		if (fd < 0) {
			churn_count(c, status, err);
			continue;
		}
		snprintf(msg, sizeof(msg), "client %d tunnel %d\n", id, i);
		if (echo_try(fd, msg) == -1) {
			atomic_fetch_add(&c->echo, 1);
			atomic_store(&c->last_status, 200);
		} else
			atomic_fetch_add(&c->done, 1);
		close(fd);
	}
	_exit(0);
}

static int
churn_failures(struct churn *c)
{
	return atomic_load(&c->refused) + atomic_load(&c->reset) +
	    atomic_load(&c->status) + atomic_load(&c->timeout) +
	    atomic_load(&c->echo) + atomic_load(&c->other);
}

/* Wait until the clients finished `n` tunnels in all. */
static int
churn_wait_done(struct churn *c, int n, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	int		i;

	for (i = 0; i < 100000; i++) {
		if (atomic_load(&c->done) >= n)
			return 0;
		if (harness_now_ms() >= deadline || churn_failures(c) > 0)
			break;
		harness_pause_ms(10);
	}
	return -1;
}

START_TEST(test_no_refused_during_reloads)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct churn		*c;
	char			conf[CONF_MAX];
	pid_t			kids[CHURNERS];
	unsigned		gen;
	int			i, st, done, fails;
	long long		deadline;

	c = mmap(NULL, sizeof(*c), PROT_READ | PROT_WRITE, MAP_SHARED |
	    MAP_ANONYMOUS, -1, 0);
	ck_assert_msg(c != MAP_FAILED, "mmap: %s", strerror(errno));
	memset(c, 0, sizeof(*c));
	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 4\n", t.port);
	proxy_start(&p, conf);
	fflush(NULL);
	for (i = 0; i < CHURNERS; i++) {
		kids[i] = fork();
		ck_assert_msg(kids[i] != -1, "fork: %s", strerror(errno));
		if (kids[i] == 0)
			churn_main(c, p.port, &t, i);
	}
	EXPECT(&p, churn_wait_done(c, 1, harness_ms(10000)) == 0,
	    "the clients opened no tunnel before the first reload");
	for (gen = 1; gen <= RELOADS; gen++) {
		conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
		    "allow_port %d\nworkers_start 4\nidle_timeout %us\n",
		    t.port, 300 + gen);
		rewrite(&p, conf);
		done = atomic_load(&c->done);
		reload_ok(&p, gen);
		/* Tunnels go on across every reload, not only between. */
		if (churn_wait_done(c, done + CHURNERS, harness_ms(10000))
		    == -1)
			break;
	}
	atomic_store(&c->stop, 1);
	for (i = 0; i < CHURNERS; i++) {
		deadline = harness_now_ms() + harness_ms(20000);
		while (waitpid(kids[i], &st, WNOHANG) == 0 &&
		    harness_now_ms() < deadline)
			harness_pause_ms(20);
		if (!harness_pid_gone(kids[i])) {
			kill(kids[i], SIGKILL);
			waitpid(kids[i], &st, 0);
		}
	}
	fails = churn_failures(c);
	fprintf(stderr, "reload churn: %d tunnels done by %d clients during "
	    "%u reloads, %d failed (refused %d, reset %d, status %d, "
	    "timeout %d, echo %d, other %d)\n", atomic_load(&c->done),
	    CHURNERS, gen - 1, fails, atomic_load(&c->refused),
	    atomic_load(&c->reset), atomic_load(&c->status),
	    atomic_load(&c->timeout), atomic_load(&c->echo),
	    atomic_load(&c->other));
	EXPECT(&p, fails == 0, "%d of %d tunnels failed during reloads "
	    "(refused %d, reset %d, status %d, timeout %d, echo %d, other "
	    "%d; last status %d, last error %s)", fails,
	    fails + atomic_load(&c->done), atomic_load(&c->refused),
	    atomic_load(&c->reset), atomic_load(&c->status),
	    atomic_load(&c->timeout), atomic_load(&c->echo),
	    atomic_load(&c->other), atomic_load(&c->last_status),
	    strerror(atomic_load(&c->last_errno)));
	EXPECT(&p, gen > RELOADS, "tunnels stalled after reload %u", gen);
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	munmap(c, sizeof(*c));
}
END_TEST

/* 3: allow_port narrowed by a reload */

START_TEST(test_reload_narrows_ports)
{
	struct harness_proxy	p;
	struct harness_target	a, b;
	char			conf[CONF_MAX], line[LINE_MAX_];
	int			fd_b, fd, i, status, err;

	target_start(&a);
	target_start(&b);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nallow_port %d\n", a.port, b.port);
	proxy_start(&p, conf);
	fd_b = tunnel_ok(&p, "127.0.0.1", p.port, &b);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", a.port);
	rewrite(&p, conf);
	reload_ok(&p, 1);
	for (i = 0; i < 3; i++) {
		fd = open_tunnel("127.0.0.1", p.port, &b, &status, &err,
		    harness_ms(10000));
		if (fd >= 0)
			close(fd);
		EXPECT(&p, status == 403, "new tunnel %d to the removed port "
		    "%d: expected 403, saw %d (%s)", i, b.port, status,
		    err ? strerror(err) : "-");
	}
	EXPECT(&p, harness_proxy_wait_log(&p, "reason=port_denied",
	    NULL, NULL, 0, harness_ms(5000)) == 0, "no port_denied record");
	/* The tunnel opened under the old config still relays. */
	echo_ok(&p, fd_b, "old tunnel still here\n");
	close(tunnel_ok(&p, "127.0.0.1", p.port, &a));
	echo_ok(&p, fd_b, "and still\n");
	close(fd_b);
	access_line(&p, b.port, "client_eof", line, sizeof(line));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&a);
	harness_target_stop(&b);
}
END_TEST

/* 4: a config with an error is not loaded and logs FILE:LINE */

START_TEST(test_reload_syntax_error)
{
	struct harness_proxy	p;
	struct harness_target	a, b;
	char			conf[CONF_MAX], line[LINE_MAX_], want[512];
	int			fd, status, err;
	pid_t			master;

	target_start(&a);
	target_start(&b);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", a.port);
	proxy_start(&p, conf);
	master = p.pid;
	/* Line 1 is the listen line; the bad value is on line 5.  Had this
	 * file been loaded, port a would be refused and port b allowed. */
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n# a comment\nlisten_backlog lots\n", b.port);
	rewrite(&p, conf);
	reload_fails(&p, line, sizeof(line));
	snprintf(want, sizeof(want), "reload failed, still serving "
	    "generation 0: %s:5: ", p.conf);
	EXPECT(&p, strstr(line, want) != NULL, "expected \"%s\" in: %s",
	    want, line);
	EXPECT(&p, p.pid == master && !harness_pid_gone(master),
	    "the master is gone");
	/* Still the old config: a allowed, b refused. */
	close(tunnel_ok(&p, "127.0.0.1", p.port, &a));
	fd = open_tunnel("127.0.0.1", p.port, &b, &status, &err,
	    harness_ms(10000));
	if (fd >= 0)
		close(fd);
	EXPECT(&p, status == 403, "port %d after the failed reload: expected "
	    "403 (old config), saw %d", b.port, status);
	/* A fixed file loads, and the failure used up no generation. */
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", b.port);
	rewrite(&p, conf);
	reload_ok(&p, 1);
	close(tunnel_ok(&p, "127.0.0.1", p.port, &b));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&a);
	harness_target_stop(&b);
}
END_TEST

/* USR1: logged, nothing else changes. */
START_TEST(test_usr1_noop)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX];
	long long		deadline;
	int			before, i;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", t.port);
	proxy_start(&p, conf);
	before = harness_proxy_count_log(&p, "USR1") +
	    harness_proxy_count_log(&p, "reopen");
	EXPECT(&p, harness_proxy_signal(&p, SIGUSR1) == 0, "USR1");
	/* "SIGUSR1: no log files to reopen", or once there are log files,
	 * "log files reopened". */
	deadline = harness_now_ms() + harness_ms(5000);
	for (i = 0; i < 10000 && harness_proxy_count_log(&p, "USR1") +
	    harness_proxy_count_log(&p, "reopen") == before &&
	    harness_now_ms() < deadline; i++)
		harness_pause_ms(20);
	EXPECT(&p, harness_proxy_count_log(&p, "USR1") +
	    harness_proxy_count_log(&p, "reopen") > before,
	    "USR1 not logged");
	EXPECT(&p, harness_proxy_wait_exit(&p, 0) == -1, "master exited");
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * The resolver bound follows connect_timeout across a reload, set before
 * the new workers fork; RES_OPTIONS the operator set is left alone.
 */
START_TEST(test_reload_resolver_bound)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX];
	const char		*want = "resolver: RES_OPTIONS=timeout:5 "
	    "attempts:2";

	if (_i == 1)
		ck_assert_int_eq(setenv("RES_OPTIONS", "attempts:1", 1), 0);
	else
		unsetenv("RES_OPTIONS");
	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nconnect_timeout 8s\n", t.port);
	proxy_start(&p, conf);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nconnect_timeout 20s\n", t.port);
	rewrite(&p, conf);
	reload_ok(&p, 1);
	if (_i == 0)
		EXPECT(&p, harness_proxy_count_log(&p, want) == 1,
		    "no \"%s\" after a reload to connect_timeout 20s", want);
	else
		EXPECT(&p, harness_proxy_count_log(&p, "RES_OPTIONS") == 0,
		    "the operator's RES_OPTIONS was replaced");
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 5: listen addresses added and removed by reloads */

START_TEST(test_reload_listeners)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], want[64];
	int			q, fd, fd_q;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", t.port);
	proxy_start(&p, conf);
	q = harness_free_port(AF_INET);
	ck_assert_int_gt(q, 0);
	/* Held across the reloads: it must keep relaying. */
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);

	conf_text(conf, sizeof(conf), "listen 127.0.0.2:%d\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\n", q, t.port);
	rewrite(&p, conf);
	reload_ok(&p, 1);
	snprintf(want, sizeof(want), "listening on 127.0.0.2:%d\n", q);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"", want);
	/* Held across the removal: its worker listened on q too, and must
	 * let go of it while still relaying. */
	fd_q = tunnel_ok(&p, "127.0.0.2", q, &t);
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	echo_ok(&p, fd, "across the add\n");

	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", t.port);
	rewrite(&p, conf);
	reload_ok(&p, 2);
	snprintf(want, sizeof(want), "no longer listening on 127.0.0.2:%d\n",
	    q);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"", want);
	/* Old workers may hold their copy a moment after the reload. */
	EXPECT(&p, wait_refused("127.0.0.2", q, harness_ms(5000)) == 0,
	    "127.0.0.2:%d still accepts connections after its removal", q);
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	echo_ok(&p, fd, "across the removal\n");
	echo_ok(&p, fd_q, "came in on the removed address\n");
	close(fd_q);
	/* The kept address was never re-announced: same socket. */
	snprintf(want, sizeof(want), "listening on 127.0.0.1:%d\n", p.port);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1,
	    "127.0.0.1:%d announced again: its socket was replaced", p.port);
	close(fd);
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 10: a reload that cannot bind fails, and the old listeners stay */

START_TEST(test_reload_bind_in_use)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct sockaddr_in	sin;
	char			conf[CONF_MAX], line[LINE_MAX_], want[64];
	int			q, squat, on = 1;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", t.port);
	proxy_start(&p, conf);
	/* Someone else listens on q first, SO_REUSEADDR and all. */
	squat = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(squat, 0);
	(void)setsockopt(squat, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	ck_assert_int_eq(bind(squat, (struct sockaddr *)&sin, sizeof(sin)),
	    0);
	ck_assert_int_eq(listen(squat, 8), 0);
	{
		socklen_t len = sizeof(sin);

		ck_assert_int_eq(getsockname(squat, (struct sockaddr *)&sin,
		    &len), 0);
		q = ntohs(sin.sin_port);
	}
	conf_text(conf, sizeof(conf), "listen 127.0.0.1:%d\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\n", q, t.port);
	rewrite(&p, conf);
	reload_fails(&p, line, sizeof(line));
	snprintf(want, sizeof(want), "127.0.0.1:%d", q);
	EXPECT(&p, strstr(line, "still serving generation 0") != NULL &&
	    strstr(line, want) != NULL, "the failure does not name %s: %s",
	    want, line);
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	/* Freed, the same file loads and both addresses serve. */
	close(squat);
	reload_ok(&p, 1);
	close(tunnel_ok(&p, "127.0.0.1", q, &t));
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 6: QUIT lets an open tunnel finish, then exits 0 */

START_TEST(test_quit_graceful)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], line[LINE_MAX_];
	pid_t			pids[MAX_PIDS];
	long long		closed;
	int			fd, n;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	EXPECT(&p, harness_proxy_signal(&p, SIGQUIT) == 0, "QUIT");
	EXPECT(&p, harness_proxy_wait_log(&p, "graceful stop", NULL, NULL, 0,
	    harness_ms(5000)) == 0, "no \"graceful stop\" line");
	EXPECT(&p, wait_refused("127.0.0.1", p.port, harness_ms(5000)) == 0,
	    "new connections still accepted after QUIT");
	echo_ok(&p, fd, "after QUIT\n");
	EXPECT(&p, harness_proxy_wait_exit(&p, 0) == -1,
	    "the master exited with a tunnel open (status %d)", p.status);
	n = harness_proxy_workers(&p, pids, MAX_PIDS);
	EXPECT(&p, n >= 1, "no worker left for the open tunnel");
	echo_ok(&p, fd, "still relaying\n");
	close(fd);
	closed = harness_now_ms();
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(5000)) == 0,
	    "the master did not exit after the last tunnel closed");
	expect_exit0(&p);
	fprintf(stderr, "QUIT: master exited %lld ms after the last tunnel "
	    "closed\n", harness_now_ms() - closed);
	expect_gone(&p, pids, n);
	access_line(&p, t.port, "client_eof", line, sizeof(line));
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* QUIT with drain_timeout: the open tunnel is closed after it. */
START_TEST(test_quit_drain_timeout)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX];
	long long		start, took;
	int			fd;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\ndrain_timeout 1s\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	start = harness_now_ms();
	EXPECT(&p, harness_proxy_signal(&p, SIGQUIT) == 0, "QUIT");
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) >= 0,
	    "the tunnel was not closed after drain_timeout");
	took = harness_now_ms() - start;
	close(fd);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(5000)) == 0,
	    "the master did not exit");
	expect_exit0(&p);
	EXPECT(&p, took >= 900 && took < 1000 + harness_ms(2000),
	    "tunnel closed %lld ms after QUIT with drain_timeout 1s", took);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 7: TERM stops at once, and within shutdown_timeout at worst */

START_TEST(test_term_fast)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], line[LINE_MAX_];
	pid_t			pids[MAX_PIDS];
	long long		start, took;
	int			fd, n;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nshutdown_timeout 2s\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	n = harness_proxy_workers(&p, pids, MAX_PIDS);
	start = harness_now_ms();
	EXPECT(&p, harness_proxy_signal(&p, SIGTERM) == 0, "TERM");
	EXPECT(&p, harness_wait_eof(fd, harness_ms(3000)) >= 0,
	    "the open tunnel was not closed on TERM");
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the master did not exit on TERM");
	took = harness_now_ms() - start;
	close(fd);
	expect_exit0(&p);
	EXPECT(&p, took < 1000 + harness_ms(2000), "TERM took %lld ms with "
	    "shutdown_timeout 2s", took);
	expect_gone(&p, pids, n);
	access_line(&p, t.port, "shutdown", line, sizeof(line));
	fprintf(stderr, "TERM with an open tunnel: exit after %lld ms\n",
	    took);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* Workers stopped by this test, killed at exit should an assert fail. */
static pid_t	stopped[MAX_PIDS];
static int	nstopped;

static void
kill_stopped(void)
{
	int	i;

	for (i = 0; i < nstopped; i++)
		if (stopped[i] > 0 && !harness_pid_gone(stopped[i]))
			kill(stopped[i], SIGKILL);
}

START_TEST(test_term_kills_stragglers)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX];
	long long		start, took;
	int			fd, i;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nshutdown_timeout 2s\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	/* Workers that cannot act on TERM: stopped ones. */
	nstopped = harness_proxy_workers(&p, stopped, MAX_PIDS);
	atexit(kill_stopped);
	EXPECT(&p, nstopped >= 1 && nstopped <= MAX_PIDS, "%d workers",
	    nstopped);
	for (i = 0; i < nstopped; i++)
		kill(stopped[i], SIGSTOP);
	start = harness_now_ms();
	EXPECT(&p, harness_proxy_signal(&p, SIGTERM) == 0, "TERM");
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the master did not exit on TERM");
	took = harness_now_ms() - start;
	close(fd);
	expect_exit0(&p);
	EXPECT(&p, took >= 1900 && took < 1000 + harness_ms(2000),
	    "TERM with stuck workers took %lld ms with shutdown_timeout 2s",
	    took);
	EXPECT(&p, harness_proxy_count_log(&p, "killing them") == 1,
	    "stragglers not reported as killed");
	expect_gone(&p, stopped, nstopped);
	fprintf(stderr, "TERM with %d stuck workers: exit after %lld ms\n",
	    nstopped, took);
	nstopped = 0;
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 8: drain_timeout closes the old generation's tunnel */

START_TEST(test_drain_timeout)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], line[LINE_MAX_];
	long long		hup, took;
	int			fd;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\ndrain_timeout 1s\n", t.port);
	proxy_start(&p, conf);
	fd = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	hup = harness_now_ms();
	reload_ok(&p, 1);
	/* Open across the reload until the drain runs out ... */
	if (harness_now_ms() - hup < 700)
		echo_ok(&p, fd, "right after the reload\n");
	/* ... then closed by the proxy, not by us. */
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) >= 0,
	    "the old tunnel was not closed after drain_timeout");
	took = harness_now_ms() - hup;
	close(fd);
	EXPECT(&p, took >= 900 && took < 1000 + harness_ms(2000),
	    "old tunnel closed %lld ms after HUP with drain_timeout 1s", took);
	access_line(&p, t.port, "reload_drain_timeout", line, sizeof(line));
	/* New tunnels are not affected. */
	close(tunnel_ok(&p, "127.0.0.1", p.port, &t));
	fprintf(stderr, "drain_timeout 1s: old tunnel closed %lld ms after "
	    "HUP\n", took);
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * The scoreboard has room for workers_max workers and one draining
 * generation's worth.  Two reloads during long tunnels leave the new
 * generation short of slots: the log must say why, not only that all
 * workers are busy.
 */
START_TEST(test_reload_slots_held)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX];
	int			fd[5], i;

	target_start(&t);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\nworkers_min_spare 0\n"
	    "workers_max 2\n", t.port);
	proxy_start(&p, conf);
	fd[0] = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	fd[1] = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	reload_ok(&p, 1);
	EXPECT(&p, harness_proxy_count_log(&p, "still drain") == 0,
	    "one draining generation fits, yet a warning");
	fd[2] = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	fd[3] = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	reload_ok(&p, 2);
	EXPECT(&p, harness_proxy_wait_log(&p, "4 workers of older generations "
	    "still drain tunnels", NULL, NULL, 0, harness_ms(5000)) == 0,
	    "no warning at the second reload");
	fd[4] = tunnel_ok(&p, "127.0.0.1", p.port, &t);
	/* The next client waits: the log names the draining workers. */
	i = harness_connect("127.0.0.1", p.port, harness_ms(5000));
	EXPECT(&p, i >= 0, "connect: %s", strerror(errno));
	EXPECT(&p, harness_proxy_wait_log(&p, "busy, not 2: 4 workers of "
	    "older generations", NULL, NULL, 0, harness_ms(5000)) == 0,
	    "\"all workers busy\" does not name the draining workers");
	if (i >= 0)
		close(i);
	for (i = 0; i < 5; i++)
		close(fd[i]);
	no_crash(&p);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 9: the pidfile */

START_TEST(test_pidfile)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			dir[HARNESS_PATH_MAX], path[HARNESS_PATH_MAX + 32];
	char			tmp[HARNESS_PATH_MAX + 40];
	char			conf[CONF_MAX], *text = NULL;
	long long		deadline;

	target_start(&t);
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(path, sizeof(path), "%s/connectproxy.pid", dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", path);
	conf_text(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\npidfile %s\n", t.port, path);
	proxy_start(&p, conf);
	deadline = harness_now_ms() + harness_ms(5000);
	while ((text = harness_read_file(path)) == NULL &&
	    harness_now_ms() < deadline)
		harness_pause_ms(20);
	EXPECT(&p, text != NULL, "no pidfile %s", path);
	EXPECT(&p, atol(text) == (long)p.pid && strchr(text, '\n') != NULL,
	    "pidfile says \"%s\", the master is %ld", text, (long)p.pid);
	free(text);
	EXPECT(&p, access(tmp, F_OK) == -1, "%s left behind", tmp);
	/* A reload keeps it. */
	reload_ok(&p, 1);
	EXPECT(&p, access(path, F_OK) == 0, "pidfile gone after a reload");
	EXPECT(&p, harness_proxy_signal(&p, SIGTERM) == 0, "TERM");
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the master did not exit on TERM");
	expect_exit0(&p);
	EXPECT(&p, access(path, F_OK) == -1, "pidfile %s still there after "
	    "exit", path);
	harness_proxy_free(&p);
	harness_rmdir(dir);
	harness_target_stop(&t);
}
END_TEST

Suite *
reload_suite(void)
{
	Suite	*s;
	TCase	*tc;

	/* A refused client's close must not kill this process. */
	signal(SIGPIPE, SIG_IGN);
	s = suite_create("reload");
	tc = harness_tcase(s, "reloads", 120);
	tcase_add_test(tc, test_tunnel_survives_reloads);
	tcase_add_test(tc, test_no_refused_during_reloads);
	tc = harness_tcase(s, "config", 60);
	tcase_add_test(tc, test_reload_narrows_ports);
	tcase_add_test(tc, test_reload_syntax_error);
	tcase_add_test(tc, test_usr1_noop);
	tcase_add_loop_test(tc, test_reload_resolver_bound, 0, 2);
	tc = harness_tcase(s, "listeners", 60);
	tcase_add_test(tc, test_reload_listeners);
	tcase_add_test(tc, test_reload_bind_in_use);
	tc = harness_tcase(s, "stop", 60);
	tcase_add_test(tc, test_quit_graceful);
	tcase_add_test(tc, test_quit_drain_timeout);
	tcase_add_test(tc, test_term_fast);
	tcase_add_test(tc, test_term_kills_stragglers);
	tc = harness_tcase(s, "drain", 60);
	tcase_add_test(tc, test_drain_timeout);
	tcase_add_test(tc, test_reload_slots_held);
	tc = harness_tcase(s, "pidfile", 60);
	tcase_add_test(tc, test_pidfile);
	return s;
}
