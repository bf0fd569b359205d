/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for the dynamic worker pool: the real binary driven by
 * raw clients through an echo target, watching what a user and an
 * operator see: answers (200, 429, 503), how many worker processes the
 * master has, and the log.
 */
#define _GNU_SOURCE

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
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

/* Fail with the proxy's log on stderr, so the report says what it did. */
#define CONF_MAX	1024
#define BURST		1000
#define MAX_PIDS	2048

/*
 * An echo target on loopback and a proxy allowed to reach it, with
 * `conf` (which must set workers_start) added.
 */
static void
setup(struct harness_proxy *p, struct harness_target *t, const char *conf)
{
	char	text[CONF_MAX];
	int	rc;

	harness_raise_nofile();
	ck_assert_msg(harness_echo_many_start(t, 2048) == 0,
	    "cannot start the echo target: %s", strerror(errno));
	snprintf(text, sizeof(text), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n%s", t->port, conf);
	rc = harness_proxy_start(p, text);
	EXPECT(p, rc == 0, "proxy did not start listening (%s, status %d)",
	    harness_bin(), p->status);
}

static void
teardown(struct harness_proxy *p, struct harness_target *t)
{
	harness_proxy_free(p);
	harness_target_stop(t);
}

/*
 * From `src`, send CONNECT for the target and read the answer into r.
 * Returns the connection (open whatever the status), or -1 when nothing
 * could be sent or no answer came within timeout_ms (r->status 0).
 */
static int
request(const struct harness_proxy *p, const struct harness_target *t,
    const char *src, struct harness_response *r, int timeout_ms)
{
	char	req[256];
	int	fd;

	memset(r, 0, sizeof(*r));
	snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
	    "Host: %s:%d\r\n\r\n", t->addr, t->port, t->addr, t->port);
	if ((fd = harness_connect_from(src, p->port, timeout_ms)) == -1)
		return -1;
	if (harness_send_str(fd, req) == -1 ||
	    harness_read_response(fd, r, timeout_ms) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

/* A tunnel from `src` that must succeed, checked with an echo. */
static int
tunnel(const struct harness_proxy *p, const struct harness_target *t,
    const char *src)
{
	struct harness_response	r;
	int			fd;

	fd = request(p, t, src, &r, harness_ms(10000));
	EXPECT(p, fd != -1 && r.status == 200, "CONNECT from %s: expected "
	    "200, saw %d", src, r.status);
	harness_echo_roundtrip(p, fd, "ping\n");
	return fd;
}

/*
 * Open a tunnel from `src`, retrying while the answer is `busy` (the
 * pool catching up after tunnels closed), within timeout_ms.
 */
static int
tunnel_retry(const struct harness_proxy *p, const struct harness_target *t,
    const char *src, int busy, int timeout_ms)
{
	struct harness_response	r;
	long long		deadline = harness_now_ms() + timeout_ms;
	int			fd, i;

	for (i = 0; i < 1000; i++) {
		fd = request(p, t, src, &r, harness_ms(5000));
		if (fd != -1 && r.status == 200) {
			harness_echo_roundtrip(p, fd, "again\n");
			return fd;
		}
		if (fd != -1)
			close(fd);
		EXPECT(p, r.status == busy, "CONNECT from %s: expected 200 "
		    "or %d, saw %d", src, busy, r.status);
		if (harness_now_ms() >= deadline)
			break;
		harness_pause_ms(50);
	}
	EXPECT(p, 0, "CONNECT from %s: still %d after %d ms", src, busy,
	    timeout_ms);
	return -1;
}

/* Expect a refusal with Retry-After and Connection: close, then EOF. */
static void
expect_busy(const struct harness_proxy *p, int fd,
    const struct harness_response *r, int status)
{
	char	val[64];

	EXPECT(p, r->status == status, "expected %d, saw %d", status,
	    r->status);
	EXPECT(p, harness_header(r->head, "Retry-After", val, sizeof(val))
	    == 0 && atoi(val) > 0, "%d without a Retry-After:\n%s", status,
	    r->head);
	EXPECT(p, harness_header(r->head, "Connection", val, sizeof(val)) ==
	    0 && strcasecmp(val, "close") == 0,
	    "%d without Connection: close:\n%s", status, r->head);
	EXPECT(p, harness_wait_eof(fd, harness_ms(5000)) == 0,
	    "connection not closed after the %d", status);
}

/* Wait until the master has at least n workers; returns the count. */
static int
wait_workers_atleast(const struct harness_proxy *p, int n, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	int		w;

	for (;;) {
		w = harness_proxy_workers(p, NULL, 0);
		if (w >= n || harness_now_ms() >= deadline)
			return w;
		harness_pause_ms(20);
	}
}

/* 1: the burst */

enum burst_state { B_CONNECTING, B_HEAD, B_ECHO, B_DONE, B_FAILED };

struct burst_conn {
	int		fd;
	int		state;
	int		status;		/* of the answer, once read */
	const char	*why;		/* of a failure */
	size_t		len;
	char		buf[512];
	char		msg[32];
};

/* Fail one connection of the burst. */
static void
burst_fail(struct burst_conn *c, const char *why)
{
	c->state = B_FAILED;
	c->why = why;
	close(c->fd);
	c->fd = -1;
}

/* One event on one connection; the time of a 200 or echo into *t200/ *techo. */
static void
burst_step(struct burst_conn *c, const char *req, short revents,
    long long *t200, long long *techo)
{
	socklen_t	elen = sizeof(int);
	ssize_t		n;
	char		*end;
	int		err = 0;

	switch (c->state) {
	case B_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &elen) ==
		    -1 || err != 0) {
			burst_fail(c, "connect failed");
			return;
		}
		if (send(c->fd, req, strlen(req), MSG_NOSIGNAL) !=
		    (ssize_t)strlen(req)) {
			burst_fail(c, "send of CONNECT failed");
			return;
		}
		c->state = B_HEAD;
		return;
	case B_HEAD:
	case B_ECHO:
		if (!(revents & (POLLIN | POLLERR | POLLHUP)))
			return;
		n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - 1 - c->len,
		    MSG_DONTWAIT);
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			return;
		if (n <= 0) {
			burst_fail(c, n == -1 ? strerror(errno) :
			    c->state == B_HEAD ? "EOF before an answer" :
			    "EOF before the echo");
			return;
		}
		c->len += (size_t)n;
		c->buf[c->len] = '\0';
		break;
	default:
		return;
	}
	if (c->state == B_HEAD) {
		if ((end = strstr(c->buf, "\r\n\r\n")) == NULL) {
			if (c->len >= sizeof(c->buf) - 1)
				burst_fail(c, "answer head too long");
			return;
		}
		if (sscanf(c->buf, "HTTP/1.1 %3d", &c->status) != 1 ||
		    c->status != 200) {
			burst_fail(c, "answer not 200");
			return;
		}
		if (end + 4 != c->buf + c->len) {
			burst_fail(c, "bytes after the 200 head");
			return;
		}
		*t200 = harness_now_ms();
		c->len = 0;
		c->state = B_ECHO;
		if (send(c->fd, c->msg, strlen(c->msg), MSG_NOSIGNAL) !=
		    (ssize_t)strlen(c->msg))
			burst_fail(c, "send through the tunnel failed");
		return;
	}
	if (c->len < strlen(c->msg))
		return;
	if (c->len > strlen(c->msg) || memcmp(c->buf, c->msg, c->len) != 0) {
		burst_fail(c, "echo differs");
		return;
	}
	*techo = harness_now_ms();
	c->state = B_DONE;
}

/* Summarise the states of an unfinished burst for the failure message. */
static void
burst_report(const struct burst_conn *c, int n)
{
	int	counts[B_FAILED + 1] = { 0 }, i, shown = 0;

	for (i = 0; i < n; i++) {
		counts[c[i].state]++;
		if (c[i].state == B_FAILED && shown++ < 5)
			fprintf(stderr, "burst: connection %d: %s (status %d)\n",
			    i, c[i].why, c[i].status);
	}
	fprintf(stderr, "burst: connecting %d, awaiting 200 %d, awaiting "
	    "echo %d, done %d, failed %d\n", counts[B_CONNECTING],
	    counts[B_HEAD], counts[B_ECHO], counts[B_DONE], counts[B_FAILED]);
}

/* TcpExt ListenOverflows (system-wide, from /proc/net/netstat), or -1. */
static long long
listen_overflows(void)
{
	char		*text, *names, *vals, *n, *v, *sn = NULL, *sv = NULL;
	long long	 result = -1;

	if ((text = harness_read_file("/proc/net/netstat")) == NULL)
		return -1;
	names = strstr(text, "TcpExt:");
	vals = names != NULL ? strstr(names + 1, "TcpExt:") : NULL;
	if (names != NULL && vals != NULL) {
		names[strcspn(names, "\n")] = '\0';
		vals[strcspn(vals, "\n")] = '\0';
		for (n = strtok_r(names, " ", &sn), v = strtok_r(vals, " ", &sv);
		    n != NULL && v != NULL; n = strtok_r(NULL, " ", &sn),
		    v = strtok_r(NULL, " ", &sv))
			if (strcmp(n, "ListenOverflows") == 0)
				result = atoll(v);
	}
	free(text);
	return result;
}

START_TEST(test_burst)
{
	struct harness_proxy	 p;
	struct harness_target	 t;
	struct burst_conn	*c;
	struct pollfd		*pfd;
	struct sockaddr_in	 sin;
	char			 req[256];
	long long		 t0, t200 = 0, techo = 0, deadline, lo;
	int			*idx, i, n, done = 0, failed = 0, rounds;

	setup(&p, &t, "workers_start 4\nworkers_max 1100\nlisten_backlog 1024\n");
	c = calloc(BURST, sizeof(*c));
	pfd = calloc(BURST, sizeof(*pfd));
	idx = calloc(BURST, sizeof(*idx));
	ck_assert(c != NULL && pfd != NULL && idx != NULL);
	snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nHost: %s:%d\r\n"
	    "\r\n", t.addr, t.port, t.addr, t.port);
	for (i = 0; i < BURST; i++) {
		c[i].fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
		    SOCK_NONBLOCK, 0);
		EXPECT(&p, c[i].fd != -1, "socket %d: %s", i, strerror(errno));
		snprintf(c[i].msg, sizeof(c[i].msg), "echo %d\n", i);
	}
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_port = htons((uint16_t)p.port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);

	lo = listen_overflows();
	t0 = harness_now_ms();
	for (i = 0; i < BURST; i++)
		if (connect(c[i].fd, (struct sockaddr *)&sin, sizeof(sin)) ==
		    -1 && errno != EINPROGRESS)
			burst_fail(&c[i], "connect refused at once");
	deadline = t0 + harness_ms(90000);
	for (rounds = 0; rounds < 10000000; rounds++) {
		done = failed = n = 0;
		for (i = 0; i < BURST; i++) {
			if (c[i].state == B_DONE)
				done++;
			else if (c[i].state == B_FAILED)
				failed++;
			else {
				pfd[n].fd = c[i].fd;
				pfd[n].events = c[i].state == B_CONNECTING ?
				    POLLOUT : POLLIN;
				pfd[n].revents = 0;
				idx[n++] = i;
			}
		}
		if (n == 0 || harness_now_ms() >= deadline)
			break;
		if (poll(pfd, (nfds_t)n, 100) == -1 && errno != EINTR)
			break;
		for (i = 0; i < n; i++)
			if (pfd[i].revents != 0)
				burst_step(&c[idx[i]], req, pfd[i].revents,
				    &t200, &techo);
	}
	if (done != BURST) {
		burst_report(c, BURST);
		/* Resets usually mean clients waited in an overflowing
		 * listen queue for longer than the kernel keeps them. */
		fprintf(stderr, "burst: listen queue overflows during the "
		    "burst (system-wide): %lld\n", listen_overflows() - lo);
	}
	printf("burst: %d tunnels in %lld ms\n", BURST, t200 - t0);
	printf("burst: %d echo round trips in %lld ms (pool: %d workers)\n",
	    BURST, techo - t0, harness_proxy_workers(&p, NULL, 0));
	fflush(stdout);
	EXPECT(&p, done == BURST, "burst: %d of %d tunnels succeeded, %d "
	    "failed, %d unfinished", done, BURST, failed,
	    BURST - done - failed);
	for (i = 0; i < BURST; i++)
		if (c[i].fd != -1)
			close(c[i].fd);
	free(c);
	free(pfd);
	free(idx);
	teardown(&p, &t);
}
END_TEST

/* 2: retirement down to workers_max_spare */

START_TEST(test_shrink_to_max_spare)
{
	struct harness_proxy	p;
	struct harness_target	t;
	long long		until;
	int			w, i;

	setup(&p, &t, "workers_start 12\nworkers_min_spare 0\n"
	    "workers_max_spare 8\n");
	/*
	 * All 12 first (the count passes 8 on the way up), then retirement,
	 * one a second: 4 to retire within ~10 s.
	 */
	EXPECT(&p, harness_proxy_wait_workers(&p, 12, harness_ms(10000)) ==
	    0, "workers_start 12: %d workers", harness_proxy_workers(&p, NULL,
	    0));
	EXPECT(&p, harness_proxy_wait_workers(&p, 8, harness_ms(10000)) == 0,
	    "12 idle workers, workers_max_spare 8: %d workers after %d ms",
	    harness_proxy_workers(&p, NULL, 0), harness_ms(10000));
	/* Observed over time: no retirement below workers_max_spare. */
	until = harness_now_ms() + 2000;
	for (i = 0; i < 1000 && harness_now_ms() < until; i++) {
		w = harness_proxy_workers(&p, NULL, 0);
		EXPECT(&p, w == 8, "the pool went to %d workers, expected to "
		    "stay at workers_max_spare 8", w);
		harness_pause_ms(50);
	}
	/* The pool still serves. */
	close(tunnel(&p, &t, "127.0.0.1"));
	teardown(&p, &t);
}
END_TEST

/* 3: growth without a timer */

START_TEST(test_growth_on_demand)
{
	struct harness_proxy	p;
	struct harness_target	t;
	long long		t0, ms;
	int			fds[6], i, w;

	setup(&p, &t, "workers_start 1\nworkers_min_spare 2\n");
	t0 = harness_now_ms();
	for (i = 0; i < 6; i++)
		fds[i] = tunnel(&p, &t, "127.0.0.1");
	ms = harness_now_ms() - t0;
	printf("growth: 6 sequential tunnels from a pool of 1 in %lld ms\n",
	    ms);
	fflush(stdout);
	/* On the 1 s tick alone this would take seconds. */
	EXPECT(&p, ms < harness_ms(2000), "6 sequential tunnels took %lld "
	    "ms: the pool did not grow on demand", ms);
	/* 6 busy plus workers_min_spare idle. */
	w = wait_workers_atleast(&p, 8, harness_ms(5000));
	EXPECT(&p, w >= 8, "6 tunnels open, workers_min_spare 2: %d workers",
	    w);
	for (i = 0; i < 6; i++)
		harness_echo_roundtrip(&p, fds[i], "still\n");
	for (i = 0; i < 6; i++)
		close(fds[i]);
	teardown(&p, &t);
}
END_TEST

/* 4: max_tunnels_per_client */

START_TEST(test_per_client_limit)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	char			line[1024];
	int			a, b, fd, other, again;

	setup(&p, &t, "workers_start 6\nmax_tunnels_per_client 2\n");
	a = tunnel(&p, &t, "127.0.0.1");
	b = tunnel(&p, &t, "127.0.0.1");
	fd = request(&p, &t, "127.0.0.1", &r, harness_ms(10000));
	EXPECT(&p, fd != -1, "third tunnel from 127.0.0.1: no answer");
	expect_busy(&p, fd, &r, 429);
	close(fd);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "status=429", line,
	    sizeof(line), harness_ms(5000)) == 0, "no access record for "
	    "the 429");
	/* Another client is served while 127.0.0.1 is at its limit. */
	other = tunnel(&p, &t, "127.0.0.2");
	harness_echo_roundtrip(&p, a, "a\n");
	harness_echo_roundtrip(&p, b, "b\n");
	/* A closed tunnel frees a place (once its worker has finished). */
	close(a);
	again = tunnel_retry(&p, &t, "127.0.0.1", 429, harness_ms(5000));
	close(again);
	close(b);
	close(other);
	teardown(&p, &t);
}
END_TEST

/* 5: when_full reject */

#define FLOOD	40

START_TEST(test_when_full_reject)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	long long		t0, ms;
	int			a, b, fd, flood[FLOOD], i, n;

	setup(&p, &t, "workers_start 2\nworkers_min_spare 0\nworkers_max 2\n"
	    "when_full reject\n");
	a = tunnel(&p, &t, "127.0.0.1");
	b = tunnel(&p, &t, "127.0.0.1");
	t0 = harness_now_ms();
	fd = request(&p, &t, "127.0.0.1", &r, harness_ms(10000));
	ms = harness_now_ms() - t0;
	EXPECT(&p, fd != -1, "pool full: no answer within %d ms",
	    harness_ms(10000));
	expect_busy(&p, fd, &r, 503);
	close(fd);
	EXPECT(&p, ms <= harness_ms(2000), "the 503 took %lld ms", ms);
	/*
	 * Clients that keep their connection open after the 503 hold the
	 * reserve in its linger; the master must still see one reserve,
	 * not start another on every tick.
	 */
	for (i = 0; i < FLOOD; i++) {
		flood[i] = request(&p, &t, "127.0.0.1", &r, harness_ms(5000));
		EXPECT(&p, flood[i] != -1 && r.status == 503,
		    "flood %d: expected 503, saw %d", i, r.status);
		harness_pause_ms(50);
	}
	EXPECT(&p, (n = harness_proxy_workers(&p, NULL, 0)) == 3,
	    "2 busy workers and the reserve, but %d processes", n);
	for (i = 0; i < FLOOD; i++)
		close(flood[i]);
	harness_echo_roundtrip(&p, a, "a\n");
	close(a);
	close(b);
	fd = tunnel_retry(&p, &t, "127.0.0.1", 503, harness_ms(10000));
	close(fd);
	teardown(&p, &t);
}
END_TEST

/* 6: when_full queue */

START_TEST(test_when_full_queue)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	struct pollfd		pfd;
	char			req[256];
	int			a, b;

	setup(&p, &t, "workers_start 1\nworkers_min_spare 1\nworkers_max 1\n"
	    "when_full queue\n");
	a = tunnel(&p, &t, "127.0.0.1");
	b = harness_connect_from("127.0.0.1", p.port, harness_ms(5000));
	EXPECT(&p, b != -1, "second client: connect failed (the backlog "
	    "should hold it)");
	snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\nHost: x\r\n\r\n",
	    t.addr, t.port);
	ck_assert_int_eq(harness_send_str(b, req), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "all 1 workers busy", NULL,
	    NULL, 0, harness_ms(5000)) == 0, "no \"all 1 workers busy\" in "
	    "the log");
	/* Observed over time: the queued client gets no answer. */
	pfd.fd = b;
	pfd.events = POLLIN;
	EXPECT(&p, poll(&pfd, 1, 1000) == 0, "the queued client got an "
	    "answer (or EOF) while the only worker was busy");
	close(a);
	EXPECT(&p, harness_read_response(b, &r, harness_ms(10000)) == 0 &&
	    r.status == 200, "queued client after the tunnel closed: "
	    "expected 200, saw %d", r.status);
	harness_echo_roundtrip(&p, b, "queued\n");
	close(b);
	teardown(&p, &t);
}
END_TEST

/* 7: worker_max_tunnels */

/* The worker pid in the access record of the tunnel on fd (closed). */
static long long
served_by(const struct harness_proxy *p, int fd)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			needle[64], line[1024];

	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(needle, sizeof(needle), "client=127.0.0.1:%d ",
	    ntohs(sin.sin_port));
	close(fd);
	EXPECT(p, harness_proxy_wait_log(p, "access ", needle, line,
	    sizeof(line), harness_ms(10000)) == 0, "no access record with %s",
	    needle);
	return harness_field_num(line, "worker");
}

START_TEST(test_worker_recycled)
{
	struct harness_proxy	p;
	struct harness_target	t;
	pid_t			pids[4];
	long long		w1, w2, w3;

	setup(&p, &t, "workers_start 1\nworkers_min_spare 1\nworkers_max 1\n"
	    "workers_max_spare 1\nworker_max_tunnels 2\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 1, harness_ms(5000)) == 0,
	    "expected one worker");
	ck_assert_int_eq(harness_proxy_workers(&p, pids, 4), 1);
	w1 = served_by(&p, tunnel(&p, &t, "127.0.0.1"));
	w2 = served_by(&p, tunnel(&p, &t, "127.0.0.1"));
	EXPECT(&p, w1 == pids[0] && w2 == pids[0], "the first two tunnels "
	    "were served by %lld and %lld, expected the one worker %d", w1,
	    w2, (int)pids[0]);
	EXPECT(&p, harness_wait_pid_gone(pids[0], harness_ms(5000)) == 0,
	    "worker %d still alive after worker_max_tunnels 2",
	    (int)pids[0]);
	w3 = served_by(&p, tunnel(&p, &t, "127.0.0.1"));
	EXPECT(&p, w3 > 0 && w3 != pids[0], "the third tunnel was served by "
	    "%lld, expected a new worker", w3);
	EXPECT(&p, harness_proxy_count_log(&p, "killed by signal") == 0 &&
	    harness_proxy_count_log(&p, "exited with status") == 0,
	    "a recycled worker was logged as an abnormal exit");
	teardown(&p, &t);
}
END_TEST

/* 8: workers die with the master */

START_TEST(test_master_killed)
{
	struct harness_proxy	p;
	struct harness_target	t;
	pid_t			pids[64];
	long long		deadline;
	int			n, i, fd, probe;

	setup(&p, &t, "workers_start 4\n");
	fd = tunnel(&p, &t, "127.0.0.1");
	n = wait_workers_atleast(&p, 4, harness_ms(5000));
	EXPECT(&p, n >= 4, "expected at least 4 workers, saw %d", n);
	n = harness_proxy_workers(&p, pids, 64);
	ck_assert_int_gt(n, 0);
	ck_assert_int_le(n, 64);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGKILL), 0);
	deadline = harness_now_ms() + harness_ms(2000);
	for (i = 0; i < n; i++) {
		long long left = deadline - harness_now_ms();

		EXPECT(&p, harness_wait_pid_gone(pids[i], left > 0 ?
		    (int)left : 0) == 0, "worker %d of %d (pid %d) still alive "
		    "%d ms after SIGKILL of the master", i + 1, n,
		    (int)pids[i], harness_ms(2000));
	}
	/* The held tunnel is closed, and nobody accepts on the port. */
	EXPECT(&p, harness_wait_eof(fd, harness_ms(5000)) >= 0,
	    "the open tunnel was not closed");
	close(fd);
	probe = harness_connect("127.0.0.1", p.port, harness_ms(2000));
	if (probe != -1)
		close(probe);
	EXPECT(&p, probe == -1, "the proxy port still accepts connections "
	    "after the master and its workers died");
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(5000)) == 0 &&
	    WIFSIGNALED(p.status) && WTERMSIG(p.status) == SIGKILL,
	    "master status %d", p.status);
	teardown(&p, &t);
}
END_TEST

/* 9: the crash brake */

#define MANY_LISTENERS	20

/*
 * Every listener is served, the 20th too (workers polled only the first
 * 16), and workers that lose the race for a client on one of several
 * listeners stay healthy while idle: they used to read a stale errno
 * (the failed madvise() of the idle stack span, ENOMEM) after a quiet
 * poll() as an accept() error, warn every second and exit as sick.
 */
START_TEST(test_many_listeners)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], target[64], *c = conf;
	int			ports[MANY_LISTENERS - 1], i, fd, status;

	for (i = 0; i < MANY_LISTENERS - 1; i++) {
		ck_assert_int_ne(ports[i] = harness_free_port(AF_INET), -1);
		c += sprintf(c, "listen 127.0.0.1:%d\n", ports[i]);
	}
	sprintf(c, "workers_start 4\nworkers_min_spare 4\n");
	setup(&p, &t, conf);
	ck_assert_int_eq(harness_proxy_wait_workers(&p, 4, harness_ms(5000)),
	    0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	fd = harness_tunnel(ports[MANY_LISTENERS - 2], target, NULL, &status,
	    harness_ms(5000));
	EXPECT(&p, fd != -1, "listener %d: no tunnel (status %d)",
	    MANY_LISTENERS, status);
	harness_echo_roundtrip(&p, fd, "last\n");
	close(fd);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(5000));
	EXPECT(&p, fd != -1, "listener 1: no tunnel (status %d)", status);
	close(fd);
	/* Two idle poll() timeouts: a stale errno would show by then. */
	EXPECT(&p, harness_proxy_wait_log(&p, "accept", NULL, NULL, 0,
	    2500) == -1, "an idle worker reported an accept error");
	EXPECT(&p, harness_proxy_count_log(&p, "exited with status") == 0,
	    "a worker exited as sick");
	teardown(&p, &t);
}
END_TEST

START_TEST(test_crash_brake)
{
	struct harness_proxy	p;
	struct harness_target	t;
	pid_t			pids[64];
	char			line[512];
	long long		deadline, braked, until;
	int			n, i, round, kills = 0, w;

	setup(&p, &t, "workers_start 4\nworkers_min_spare 4\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 4, harness_ms(5000)) == 0,
	    "expected 4 workers");
	/* Kill whatever workers exist until the brake engages. */
	deadline = harness_now_ms() + harness_ms(8000);
	for (round = 0; round < 2000; round++) {
		if (harness_proxy_wait_log(&p, "workers failed within", NULL,
		    line, sizeof(line), 0) == 0)
			break;
		EXPECT(&p, harness_now_ms() < deadline, "no brake after %d "
		    "workers were killed", kills);
		n = harness_proxy_workers(&p, pids, 64);
		/*
		 * A worker dying of a signal of its own (SIGKILL, from an
		 * operator or the OOM killer, does not count); SIGALRM
		 * leaves no core and no sanitizer report.
		 */
		for (i = 0; i < n && i < 64; i++)
			if (kill(pids[i], SIGALRM) == 0)
				kills++;
		harness_pause_ms(n == 0 ? 20 : 5);
	}
	braked = harness_now_ms();
	EXPECT(&p, strstr(line, "not spawning for 10 s") != NULL,
	    "brake line: %s", line);
	/* Kill the stragglers forked before the brake: none come back. */
	for (round = 0; round < 100; round++) {
		n = harness_proxy_workers(&p, pids, 64);
		if (n == 0)
			break;
		for (i = 0; i < n && i < 64; i++)
			kill(pids[i], SIGKILL);
		harness_pause_ms(20);
	}
	until = harness_now_ms() + 3000;
	for (i = 0; i < 1000 && harness_now_ms() < until; i++) {
		w = harness_proxy_workers(&p, NULL, 0);
		EXPECT(&p, w == 0, "%d workers spawned %lld ms into the brake",
		    w, harness_now_ms() - braked);
		harness_pause_ms(50);
	}
	/* After the 10 s pause the pool is rebuilt. */
	w = wait_workers_atleast(&p, 4, harness_ms(15000) -
	    (int)(harness_now_ms() - braked));
	EXPECT(&p, w >= 4, "%lld ms after the brake: %d workers",
	    harness_now_ms() - braked, w);
	printf("brake: %d workers killed; pool back to %d after %lld ms\n",
	    kills, w, harness_now_ms() - braked);
	fflush(stdout);
	close(tunnel(&p, &t, "127.0.0.1"));
	teardown(&p, &t);
}
END_TEST

Suite *
pool_e2e_suite(void)
{
	Suite	*s;
	TCase	*tc;

	/* A refused client's close must not kill this process. */
	signal(SIGPIPE, SIG_IGN);
	s = suite_create("pool_e2e");
	tc = harness_tcase(s, "burst", 120);
	tcase_add_test(tc, test_burst);
	tc = harness_tcase(s, "size", 60);
	tcase_add_test(tc, test_shrink_to_max_spare);
	tcase_add_test(tc, test_growth_on_demand);
	tc = harness_tcase(s, "limits", 60);
	tcase_add_test(tc, test_per_client_limit);
	tcase_add_test(tc, test_when_full_reject);
	tcase_add_test(tc, test_when_full_queue);
	tc = harness_tcase(s, "lifecycle", 60);
	tcase_add_test(tc, test_worker_recycled);
	tcase_add_test(tc, test_master_killed);
	tcase_add_test(tc, test_crash_brake);
	tcase_add_test(tc, test_many_listeners);
	return s;
}
