/* SPDX-License-Identifier: ISC */
/*
 * Tests for relay.c: relay_run() runs in a thread between two socket pairs
 * while the test drives the far ends, the "client" and the "server".
 * Every wait is a poll() with a deadline.
 */
#define _DEFAULT_SOURCE		/* mincore(2) */

#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <alloca.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "relay.h"
#include "suites.h"

#define WAIT_MS		10000	/* generous: sanitizers are slow */
#define MIB		(1024 * 1024)

/* One relay under test and the test's ends of its two sockets. */
struct rt {
	int			 cli;		/* test's client end */
	int			 srv;		/* test's server end */
	int			 rcli;		/* relay's client socket */
	int			 rsrv;		/* relay's server socket */
	int			 done[2];	/* relay thread writes 1 byte */
	const char		*early;
	size_t			 early_len;
	struct relay_buffers	 bufs;
	long long		 idle_ms;
	volatile sig_atomic_t	*stop;
	struct relay_stats	 st;
	enum relay_end		 end;
	int			 linger;	/* relay_run()'s *linger */
	pthread_t		 tid;
};

static volatile sig_atomic_t	 sig_stop;

static long long
mono_ms(void)
{
	struct timespec	 ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* A pattern with no short period, so a lost or repeated block shows. */
static unsigned char
pat(unsigned seed, size_t i)
{
	uint32_t	 x = (uint32_t)i * 2654435761u + seed;

	return (unsigned char)(x >> 24 ^ x >> 11);
}

static void
fill(unsigned char *p, size_t n, unsigned seed, size_t at)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		p[i] = pat(seed, at + i);
}

static int
check_pat(const unsigned char *p, size_t n, unsigned seed, size_t at)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (p[i] != pat(seed, at + i))
			return 0;
	return 1;
}

static void
nonblock(int fd)
{
	ck_assert_int_ne(fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK),
	    -1);
}

static int
wait_fd(int fd, short ev, int ms)
{
	struct pollfd	 p = { .fd = fd, .events = ev };

	return poll(&p, 1, ms) == 1;
}

static void *
relay_thread(void *arg)
{
	struct rt	*rt = arg;
	char		 c = 1;

	/* relay_run() takes non-blocking sockets, as the worker's are. */
	nonblock(rt->rcli);
	nonblock(rt->rsrv);
	rt->end = relay_run(rt->rcli, rt->rsrv, rt->early, rt->early_len,
	    &rt->bufs, rt->idle_ms, rt->stop, &rt->st, &rt->linger);
	(void)write(rt->done[1], &c, 1);
	return NULL;
}

static void
rt_init(struct rt *rt, size_t bufsize)
{
	int	 a[2], b[2];

	memset(rt, 0, sizeof(*rt));
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, a), 0);
	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, b), 0);
	ck_assert_int_eq(pipe(rt->done), 0);
	rt->cli = a[0];
	rt->rcli = a[1];
	rt->rsrv = b[0];
	rt->srv = b[1];
	rt->bufs.size = bufsize;
	rt->bufs.up = malloc(bufsize);
	rt->bufs.down = malloc(bufsize);
	ck_assert(rt->bufs.up != NULL && rt->bufs.down != NULL);
}

static void
rt_start(struct rt *rt)
{
	ck_assert_int_eq(pthread_create(&rt->tid, NULL, relay_thread, rt), 0);
}

static int
rt_finished(struct rt *rt, int ms)
{
	return wait_fd(rt->done[0], POLLIN, ms);
}

/* Wait for the relay to return and collect it; fails the test if it hangs. */
static enum relay_end
rt_join(struct rt *rt)
{
	ck_assert_msg(rt_finished(rt, WAIT_MS), "relay did not return");
	ck_assert_int_eq(pthread_join(rt->tid, NULL), 0);
	return rt->end;
}

static void
rt_free(struct rt *rt)
{
	int	*fds[] = { &rt->cli, &rt->srv, &rt->rcli, &rt->rsrv,
		    &rt->done[0], &rt->done[1] };
	size_t	 i;

	for (i = 0; i < sizeof(fds) / sizeof(fds[0]); i++)
		if (*fds[i] != -1)
			close(*fds[i]);
	free(rt->bufs.up);
	free(rt->bufs.down);
}

static void
send_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 r;

	/* A blocking send would wait past every deadline of the test. */
	nonblock(fd);
	while (n > 0) {
		ck_assert_msg(wait_fd(fd, POLLOUT, WAIT_MS), "send stalled");
		r = send(fd, c, n, MSG_NOSIGNAL);
		if (r == -1 && errno == EAGAIN)
			continue;
		ck_assert_int_gt(r, 0);
		c += r;
		n -= (size_t)r;
	}
}

/* Read exactly n bytes (n == 0: expect EOF next). */
static void
recv_exact(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		ck_assert_msg(wait_fd(fd, POLLIN, WAIT_MS), "recv stalled");
		r = read(fd, c, n);
		if (r == -1 && errno == EAGAIN)
			continue;
		ck_assert_msg(r > 0, "short read: %zd, %zu left", r, n);
		c += r;
		n -= (size_t)r;
	}
}

static void
expect_eof(int fd)
{
	char	 c;
	ssize_t	 r;

	do {
		ck_assert_msg(wait_fd(fd, POLLIN, WAIT_MS), "no EOF");
		r = read(fd, &c, 1);
	} while (r == -1 && errno == EAGAIN);
	ck_assert_int_eq(r, 0);
}

/* Read everything available now; returns the count, checking the pattern. */
static size_t
drain(int fd, unsigned seed, size_t at)
{
	unsigned char	 buf[65536];
	size_t		 n = 0;
	ssize_t		 r;

	nonblock(fd);
	while ((r = read(fd, buf, sizeof(buf))) > 0) {
		ck_assert(check_pat(buf, (size_t)r, seed, at + n));
		n += (size_t)r;
	}
	ck_assert(r == -1 && errno == EAGAIN);
	return n;
}

/*
 * Read what is left of a stream of `total` pattern bytes: its tail.
 * Returns the count.
 */
static size_t
drain_tail(int fd, unsigned seed, size_t total)
{
	unsigned char	*buf;
	size_t		 n = 0;
	ssize_t		 r;

	ck_assert((buf = malloc(total)) != NULL);
	nonblock(fd);
	while (n < total && (r = read(fd, buf + n, total - n)) > 0)
		n += (size_t)r;
	ck_assert(check_pat(buf, n, seed, total - n));
	free(buf);
	return n;
}

/*
 * Stop a relay blocked in poll(): a signal may land just before the poll,
 * so keep signalling until it returns.
 */
static void
stop_by_signal(struct rt *rt)
{
	int	 i;

	for (i = 0; i < 100; i++) {
		sig_stop = 1;
		pthread_kill(rt->tid, SIGUSR1);
		if (rt_finished(rt, 100))
			return;
	}
	ck_abort_msg("relay ignored the stop flag");
}

static void
on_usr1(int sig)
{
	(void)sig;
	sig_stop = 1;
}

static void
catch_usr1(void)
{
	struct sigaction	 sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1;
	sigemptyset(&sa.sa_mask);
	ck_assert_int_eq(sigaction(SIGUSR1, &sa, NULL), 0);
	sig_stop = 0;
}

START_TEST(test_end_names)
{
	ck_assert_str_eq(relay_end_name(RELAY_CLIENT_EOF), "client_eof");
	ck_assert_str_eq(relay_end_name(RELAY_SERVER_EOF), "server_eof");
	ck_assert_str_eq(relay_end_name(RELAY_IDLE), "idle");
	ck_assert_str_eq(relay_end_name(RELAY_ERROR), "error");
	ck_assert_str_eq(relay_end_name(RELAY_SHUTDOWN), "shutdown");
}
END_TEST

/* One far end in the bulk test: sends `total` bytes, checks what arrives. */
struct end {
	int	 fd;
	unsigned seed_out, seed_in;
	size_t	 sent, got, total;
	int	 eof, shut;
};

static void
end_send(struct end *e)
{
	unsigned char	 buf[16384];
	size_t		 n = e->total - e->sent;
	ssize_t		 r;

	if (n > sizeof(buf))
		n = sizeof(buf);
	fill(buf, n, e->seed_out, e->sent);
	r = send(e->fd, buf, n, MSG_NOSIGNAL);
	if (r == -1)
		ck_assert_int_eq(errno, EAGAIN);
	else
		e->sent += (size_t)r;
}

static void
end_recv(struct end *e)
{
	unsigned char	 buf[16384];
	ssize_t		 r;

	r = read(e->fd, buf, sizeof(buf));
	if (r == -1) {
		ck_assert_int_eq(errno, EAGAIN);
		return;
	}
	ck_assert_msg(check_pat(buf, (size_t)r, e->seed_in, e->got),
	    "corrupt data at %zu", e->got);
	e->got += (size_t)r;
	e->eof = r == 0;
}

/*
 * Drive both ends at once.  The client shuts down after sending all; the
 * server only after seeing EOF, so the client's EOF is always first.
 */
static void
pump(struct end *c, struct end *s)
{
	struct pollfd	 p[2];
	long long	 deadline = mono_ms() + WAIT_MS * 3;

	while (!c->eof || !s->eof) {
		ck_assert_msg(mono_ms() < deadline, "bulk transfer stalled");
		if (!c->shut && c->sent == c->total)
			c->shut = shutdown(c->fd, SHUT_WR) == 0;
		if (!s->shut && s->sent == s->total && s->eof)
			s->shut = shutdown(s->fd, SHUT_WR) == 0;
		p[0].events = (c->eof ? 0 : POLLIN) | (c->shut ? 0 : POLLOUT);
		p[1].events = (s->eof ? 0 : POLLIN) |
		    (s->sent < s->total ? POLLOUT : 0);
		p[0].fd = p[0].events ? c->fd : -1;
		p[1].fd = p[1].events ? s->fd : -1;
		if (poll(p, 2, 1000) <= 0)
			continue;
		if (p[0].revents & POLLOUT)
			end_send(c);
		if (p[1].revents & POLLOUT)
			end_send(s);
		if (p[0].revents & (POLLIN | POLLHUP))
			end_recv(c);
		if (p[1].revents & (POLLIN | POLLHUP))
			end_recv(s);
	}
}

START_TEST(test_bulk_both_ways)
{
	struct rt	 rt;
	struct end	 c = { .seed_out = 1, .seed_in = 2, .total = 4 * MIB };
	struct end	 s = { .seed_out = 2, .seed_in = 1, .total = 4 * MIB };

	rt_init(&rt, 4096);
	rt_start(&rt);
	c.fd = rt.cli;
	s.fd = rt.srv;
	nonblock(c.fd);
	nonblock(s.fd);
	pump(&c, &s);
	ck_assert_uint_eq(c.got, 4 * MIB);
	ck_assert_uint_eq(s.got, 4 * MIB);
	ck_assert_int_eq(rt_join(&rt), RELAY_CLIENT_EOF);
	ck_assert_uint_eq(rt.st.up, 4 * MIB);
	ck_assert_uint_eq(rt.st.down, 4 * MIB);
	rt_free(&rt);
}
END_TEST

/* Early bytes, larger than the buffer, reach the server before the rest. */
START_TEST(test_early_bytes_first)
{
	struct rt	 rt;
	unsigned char	*early, *got;
	size_t		 elen = 10000, rest = 5000;

	early = malloc(elen + rest);
	got = malloc(elen + rest);
	ck_assert(early != NULL && got != NULL);
	fill(early, elen + rest, 7, 0);
	rt_init(&rt, 4096);
	rt.early = (const char *)early;
	rt.early_len = elen;
	/* In the socket before the relay starts: it must still come second. */
	send_all(rt.cli, early + elen, rest);
	ck_assert_int_eq(shutdown(rt.cli, SHUT_WR), 0);
	rt_start(&rt);
	recv_exact(rt.srv, got, elen + rest);
	ck_assert(memcmp(got, early, elen + rest) == 0);
	expect_eof(rt.srv);
	close(rt.srv);
	rt.srv = -1;
	expect_eof(rt.cli);
	ck_assert_int_eq(rt_join(&rt), RELAY_CLIENT_EOF);
	ck_assert_uint_eq(rt.st.up, elen + rest);
	ck_assert_uint_eq(rt.st.down, 0);
	free(early);
	free(got);
	rt_free(&rt);
}
END_TEST

/*
 * `a` half-closes after `n1` bytes; `b` sees every byte then EOF, answers
 * with `n2` bytes that `a` receives, then closes.  Sends block until done
 * before anything is read, so n1 and n2 must fit in one socket buffer.
 */
static void
half_close(int a, int b, size_t n1, size_t n2)
{
	unsigned char	*p;

	p = malloc(n1 > n2 ? n1 : n2);
	ck_assert(p != NULL);
	fill(p, n1, 11, 0);
	send_all(a, p, n1);
	ck_assert_int_eq(shutdown(a, SHUT_WR), 0);
	memset(p, 0, n1);
	recv_exact(b, p, n1);
	ck_assert(check_pat(p, n1, 11, 0));
	expect_eof(b);
	fill(p, n2, 12, 0);
	send_all(b, p, n2);
	ck_assert_int_eq(shutdown(b, SHUT_WR), 0);
	memset(p, 0, n2);
	recv_exact(a, p, n2);
	ck_assert(check_pat(p, n2, 12, 0));
	expect_eof(a);
	free(p);
}

START_TEST(test_half_close_client)
{
	struct rt	 rt;

	rt_init(&rt, 4096);
	rt_start(&rt);
	half_close(rt.cli, rt.srv, 100000, 99999);
	ck_assert_int_eq(rt_join(&rt), RELAY_CLIENT_EOF);
	ck_assert_uint_eq(rt.st.up, 100000);
	ck_assert_uint_eq(rt.st.down, 99999);
	rt_free(&rt);
}
END_TEST

START_TEST(test_half_close_server)
{
	struct rt	 rt;

	rt_init(&rt, 4096);
	rt_start(&rt);
	half_close(rt.srv, rt.cli, 100 * 1024, 777);
	ck_assert_int_eq(rt_join(&rt), RELAY_SERVER_EOF);
	ck_assert_uint_eq(rt.st.up, 777);
	ck_assert_uint_eq(rt.st.down, 100 * 1024);
	rt_free(&rt);
}
END_TEST

/* Write until the socket stays full for 300 ms; returns bytes written. */
static size_t
write_until_stalled(int fd, unsigned seed)
{
	unsigned char	 buf[65536];
	size_t		 total = 0;
	ssize_t		 r;

	nonblock(fd);
	for (;;) {
		ck_assert_msg(total < 256 * MIB, "writer never blocked");
		fill(buf, sizeof(buf), seed, total);
		r = send(fd, buf, sizeof(buf), MSG_NOSIGNAL);
		if (r > 0) {
			total += (size_t)r;
			continue;
		}
		ck_assert(r == -1 && errno == EAGAIN);
		if (!wait_fd(fd, POLLOUT, 300))
			return total;
	}
}

/*
 * The client stops reading: the server's writes end in EAGAIN, the other
 * direction still flows, and the relay holds at most one buffer of it.
 */
START_TEST(test_backpressure)
{
	struct rt	 rt;
	unsigned char	 ping[8192], got[8192];
	size_t		 written, delivered, queued;

	catch_usr1();
	rt_init(&rt, 4096);
	rt.stop = &sig_stop;
	rt_start(&rt);
	written = write_until_stalled(rt.srv, 3);
	fill(ping, sizeof(ping), 4, 0);
	send_all(rt.cli, ping, sizeof(ping));
	recv_exact(rt.srv, got, sizeof(got));
	ck_assert(memcmp(ping, got, sizeof(got)) == 0);
	ck_assert_msg(!rt_finished(&rt, 0), "relay gave up");
	stop_by_signal(&rt);
	ck_assert_int_eq(rt_join(&rt), RELAY_SHUTDOWN);
	delivered = drain(rt.cli, 3, 0);
	queued = drain_tail(rt.rsrv, 3, written);
	ck_assert_uint_eq(rt.st.down, delivered);
	ck_assert_uint_eq(rt.st.up, sizeof(ping));
	ck_assert_uint_ge(written, delivered + queued);
	ck_assert_msg(written - delivered - queued <= 4096,
	    "relay held %zu bytes", written - delivered - queued);
	rt_free(&rt);
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct rt	 rt;
	long long	 t0, dt;

	rt_init(&rt, 4096);
	rt.idle_ms = 200;
	t0 = mono_ms();
	rt_start(&rt);
	ck_assert_int_eq(rt_join(&rt), RELAY_IDLE);
	dt = mono_ms() - t0;
	ck_assert_msg(dt >= 190 && dt < 2000, "idle after %lld ms", dt);
	rt_free(&rt);
}
END_TEST

/* Traffic in either direction restarts the idle clock. */
START_TEST(test_idle_reset_by_traffic)
{
	struct rt	 rt;
	char		 c = 'x';
	int		 i;

	rt_init(&rt, 4096);
	rt.idle_ms = 500;
	rt_start(&rt);
	/* 800 ms in all: the relay outlives its idle time only by resets. */
	for (i = 0; i < 8; i++) {
		ck_assert_msg(!rt_finished(&rt, 100), "idle too early");
		send_all(i % 2 ? rt.cli : rt.srv, &c, 1);
		recv_exact(i % 2 ? rt.srv : rt.cli, &c, 1);
	}
	ck_assert_int_eq(rt_join(&rt), RELAY_IDLE);
	ck_assert_uint_eq(rt.st.up, 4);
	ck_assert_uint_eq(rt.st.down, 4);
	rt_free(&rt);
}
END_TEST

START_TEST(test_stop_preset)
{
	struct rt		 rt;
	volatile sig_atomic_t	 stop = 1;

	rt_init(&rt, 4096);
	rt.stop = &stop;
	rt_start(&rt);
	ck_assert_int_eq(rt_join(&rt), RELAY_SHUTDOWN);
	rt_free(&rt);
}
END_TEST

/* No idle timeout: only the signal's EINTR and the flag end the relay. */
START_TEST(test_stop_by_signal)
{
	struct rt	 rt;
	char		 c = 'y';

	catch_usr1();
	rt_init(&rt, 4096);
	rt.stop = &sig_stop;
	rt_start(&rt);
	send_all(rt.cli, &c, 1);
	recv_exact(rt.srv, &c, 1);
	ck_assert(!rt_finished(&rt, 50));
	stop_by_signal(&rt);
	ck_assert_int_eq(rt_join(&rt), RELAY_SHUTDOWN);
	ck_assert_uint_eq(rt.st.up, 1);
	rt_free(&rt);
}
END_TEST

/* A connected loopback TCP pair: *a is the connecting end. */
static void
tcp_pair(int *a, int *b)
{
	struct sockaddr_in	 sin;
	socklen_t		 len = sizeof(sin);
	int			 l;

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	l = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(l, -1);
	ck_assert_int_eq(bind(l, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(l, 1), 0);
	ck_assert_int_eq(getsockname(l, (struct sockaddr *)&sin, &len), 0);
	*a = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(*a, -1);
	ck_assert_int_eq(connect(*a, (struct sockaddr *)&sin, sizeof(sin)), 0);
	*b = accept(l, NULL, NULL);
	ck_assert_int_ne(*b, -1);
	close(l);
}

/* The target resets the connection: an error, not an EOF. */
START_TEST(test_server_reset)
{
	struct rt	 rt;
	struct linger	 lg = { .l_onoff = 1, .l_linger = 0 };
	char		 c = 'z';

	rt_init(&rt, 4096);
	close(rt.rsrv);
	close(rt.srv);
	tcp_pair(&rt.rsrv, &rt.srv);
	rt_start(&rt);
	send_all(rt.srv, &c, 1);
	recv_exact(rt.cli, &c, 1);
	ck_assert_int_eq(setsockopt(rt.srv, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(rt.srv);
	rt.srv = -1;
	ck_assert_int_eq(rt_join(&rt), RELAY_ERROR);
	rt_free(&rt);
}
END_TEST

/* The client closes with unread data (an AF_UNIX reset): an error. */
START_TEST(test_client_reset)
{
	struct rt	 rt;
	char		 buf[100] = { 0 };

	rt_init(&rt, 4096);
	rt_start(&rt);
	send_all(rt.srv, buf, sizeof(buf));
	ck_assert(wait_fd(rt.cli, POLLIN, WAIT_MS));
	close(rt.cli);
	rt.cli = -1;
	ck_assert_int_eq(rt_join(&rt), RELAY_ERROR);
	rt_free(&rt);
}
END_TEST

/*
 * The target closes outright while the client is still sending: the
 * client gets all the target sent and EOF, the relay ends as server_eof.
 */
START_TEST(test_server_full_close)
{
	struct rt	 rt;
	unsigned char	 buf[100000];

	rt_init(&rt, 4096);
	rt_start(&rt);
	fill(buf, sizeof(buf), 5, 0);
	send_all(rt.srv, buf, sizeof(buf));
	close(rt.srv);
	rt.srv = -1;
	memset(buf, 0, sizeof(buf));
	recv_exact(rt.cli, buf, sizeof(buf));
	ck_assert(check_pat(buf, sizeof(buf), 5, 0));
	expect_eof(rt.cli);
	send_all(rt.cli, "late", 4);
	ck_assert_int_eq(rt_join(&rt), RELAY_SERVER_EOF);
	ck_assert_uint_eq(rt.st.down, sizeof(buf));
	/* The client may send more: the caller must not reset it. */
	ck_assert_int_eq(rt.linger, RELAY_LINGER_CLIENT);
	rt_free(&rt);
}
END_TEST

/*
 * One side closes while the relay still holds its bytes, its EOF not yet
 * read, and the other side, not reading, sends more: those bytes meet a
 * closed socket (EPIPE) and are dropped, but everything the closed side
 * sent still arrives, then EOF.  _i 0: the target closes; 1: the client.
 */
START_TEST(test_side_gone_with_data_held)
{
	struct rt	 rt;
	unsigned char	*buf;
	size_t		 total;
	int		*gone, *stays;

	rt_init(&rt, 4096);
	rt_start(&rt);
	gone = _i == 0 ? &rt.srv : &rt.cli;
	stays = _i == 0 ? &rt.cli : &rt.srv;
	total = write_until_stalled(*gone, 11);
	close(*gone);
	*gone = -1;
	send_all(*stays, "late", 4);
	send_all(*stays, "later", 5);
	ck_assert((buf = malloc(total)) != NULL);
	recv_exact(*stays, buf, total);
	ck_assert(check_pat(buf, total, 11, 0));
	free(buf);
	expect_eof(*stays);
	ck_assert_int_eq(rt_join(&rt), _i == 0 ? RELAY_SERVER_EOF :
	    RELAY_CLIENT_EOF);
	ck_assert_uint_eq(_i == 0 ? rt.st.down : rt.st.up, total);
	ck_assert_uint_eq(_i == 0 ? rt.st.up : rt.st.down, 0);
	ck_assert_int_eq(rt.linger, _i == 0 ? RELAY_LINGER_CLIENT :
	    RELAY_LINGER_SERVER);
	rt_free(&rt);
}
END_TEST

/* Both pairs of rt as loopback TCP, whose resets a test can observe. */
static void
rt_use_tcp(struct rt *rt)
{
	close(rt->cli);
	close(rt->rcli);
	close(rt->rsrv);
	close(rt->srv);
	tcp_pair(&rt->cli, &rt->rcli);
	tcp_pair(&rt->rsrv, &rt->srv);
	/* As the worker does: one-byte pings go out at once. */
	ck_assert_int_eq(setsockopt(rt->rsrv, IPPROTO_TCP, TCP_NODELAY,
	    &(int){ 1 }, sizeof(int)), 0);
	ck_assert_int_eq(setsockopt(rt->cli, IPPROTO_TCP, TCP_NODELAY,
	    &(int){ 1 }, sizeof(int)), 0);
	ck_assert_int_eq(setsockopt(rt->srv, IPPROTO_TCP, TCP_NODELAY,
	    &(int){ 1 }, sizeof(int)), 0);
}

/* Bytes waiting in fd's receive queue. */
static int
inq(int fd)
{
	int	 n = -1;

	ck_assert_int_eq(ioctl(fd, FIONREAD, &n), 0);
	return n;
}

/*
 * Bytes sent on fd that its peer has not taken (SIOCOUTQ); for TCP, a FIN
 * counts until it is acknowledged.
 */
static int
outq(int fd)
{
	int	 n = -1;

	ck_assert_int_eq(ioctl(fd, TIOCOUTQ, &n), 0);
	return n;
}

/*
 * One byte from `from` through the relay to `to`.  The relay reads the
 * byte in a poll() round after the one that wrote the previous byte, so
 * once it arrives, the relay has finished every round begun before.
 */
static void
ping(int from, int to)
{
	char	 c = 'p';

	send_all(from, &c, 1);
	recv_exact(to, &c, 1);
	ck_assert_int_eq(c, 'p');
}

/*
 * Read pattern bytes until the stream ends, within WAIT_MS.  Returns the
 * count; *err is 0 for a clean EOF, or the errno that ended the stream.
 */
static size_t
read_to_end(int fd, unsigned seed, int *err)
{
	unsigned char	 buf[65536];
	long long	 deadline = mono_ms() + WAIT_MS;
	size_t		 n = 0;
	ssize_t		 r;

	nonblock(fd);
	for (;;) {
		ck_assert_msg(mono_ms() < deadline, "stream did not end "
		    "(%zu bytes read)", n);
		(void)wait_fd(fd, POLLIN, 100);
		if ((r = read(fd, buf, sizeof(buf))) == -1 &&
		    (errno == EAGAIN || errno == EINTR))
			continue;
		if (r <= 0)
			break;
		ck_assert_msg(check_pat(buf, (size_t)r, seed, n),
		    "corrupt data at %zu", n);
		n += (size_t)r;
	}
	*err = r == 0 ? 0 : errno;
	return n;
}

/*
 * An EOF that arrives while the relay holds bytes is passed on only once
 * they are written: the side that stays does not read, its socket is
 * full and the relay's buffer holds the rest with room to spare, so the
 * relay reads the EOF with bytes still held.  Then the side reads, and
 * must get every byte before the EOF.  _i bit 0: 0 the target sends and
 * half-closes, 1 the client; bit 1: socket pairs (0) or TCP (1).
 */
START_TEST(test_eof_with_data_held)
{
	struct rt	 rt;
	unsigned char	*buf;
	const size_t	 total = 512 * 1024;
	size_t		 held, got;
	long long	 deadline;
	int		 small = 16 * 1024, eof, stays, rfrom, rto, err, i;

	rt_init(&rt, 2 * total);
	if (_i & 2)
		rt_use_tcp(&rt);
	eof = _i & 1 ? rt.cli : rt.srv;
	stays = _i & 1 ? rt.srv : rt.cli;
	rfrom = _i & 1 ? rt.rcli : rt.rsrv;
	rto = _i & 1 ? rt.rsrv : rt.rcli;
	/* A small socket buffer toward `stays`: most bytes stay in the relay. */
	ck_assert_int_eq(setsockopt(rto, SOL_SOCKET, SO_SNDBUF, &small,
	    sizeof(small)), 0);
	rt_start(&rt);
	ck_assert((buf = malloc(total)) != NULL);
	fill(buf, total, 13, 0);
	send_all(eof, buf, total);
	free(buf);
	ck_assert_int_eq(shutdown(eof, SHUT_WR), 0);
	/*
	 * Each ping is a relay round, which reads what has come: on until
	 * the EOF is all that is left of `eof`'s stream, and two rounds more
	 * have read that.
	 */
	deadline = mono_ms() + WAIT_MS;
	for (i = 0; inq(rfrom) > 0 || outq(eof) > 0; i++) {
		ck_assert_msg(i < 100000 && mono_ms() < deadline,
		    "the relay stopped reading");
		ping(stays, eof);
	}
	ping(stays, eof);
	ping(stays, eof);
	held = total - (size_t)(_i & 1 ? rt.st.up : rt.st.down);
	ck_assert_msg(held > 0 && held < total, "%zu bytes held at EOF: the "
	    "test does not reach its case", held);
	got = read_to_end(stays, 13, &err);
	ck_assert_msg(got == total && err == 0, "%zu of %zu bytes, then %s: "
	    "the EOF was passed on with %zu bytes still held", got, total,
	    err == 0 ? "EOF" : strerror(err), held);
	ck_assert_int_eq(shutdown(stays, SHUT_WR), 0);
	expect_eof(eof);
	ck_assert_int_eq(rt_join(&rt), _i & 1 ? RELAY_CLIENT_EOF :
	    RELAY_SERVER_EOF);
	ck_assert_uint_eq(_i & 1 ? rt.st.up : rt.st.down, total);
	ck_assert_uint_eq(_i & 1 ? rt.st.down : rt.st.up, i + 2);
	rt_free(&rt);
}
END_TEST

/*
 * A reset while the other side is open and not reading, and bytes of the
 * reset side are still held for it: the relay sees the reset only when it
 * writes to the reset side what the open side sends next.  A reset
 * without a FIN first ends the tunnel as an error, and the open side must
 * not get a clean EOF: bytes are lost, and a FIN would make the stream it
 * got look complete.  Closed as the worker closes it, it gets a reset.
 * _i 0: the target resets; 1: the client.
 */
START_TEST(test_reset_with_data_held)
{
	struct rt	 rt;
	struct linger	 lg = { .l_onoff = 1, .l_linger = 0 };
	size_t		 total, got;
	int		*gone, stays, rgone, err;

	rt_init(&rt, 64 * 1024);
	rt_use_tcp(&rt);
	gone = _i == 0 ? &rt.srv : &rt.cli;
	stays = _i == 0 ? rt.cli : rt.srv;
	rgone = _i == 0 ? rt.rsrv : rt.rcli;
	rt_start(&rt);
	total = write_until_stalled(*gone, 17);
	ck_assert_int_eq(setsockopt(*gone, SOL_SOCKET, SO_LINGER, &lg,
	    sizeof(lg)), 0);
	close(*gone);
	*gone = -1;
	/* POLLERR: the relay's socket has the reset, nothing has read it. */
	ck_assert_msg(wait_fd(rgone, 0, WAIT_MS), "no reset");
	send_all(stays, "x", 1);
	ck_assert_msg(rt_finished(&rt, WAIT_MS), "the reset did not end "
	    "the relay");
	ck_assert_int_eq(rt_join(&rt), RELAY_ERROR);
	ck_assert_int_eq(rt.linger, 0);
	close(rt.rcli);
	close(rt.rsrv);
	rt.rcli = rt.rsrv = -1;
	got = read_to_end(stays, 17, &err);
	ck_assert_msg(err != 0, "%zu of %zu bytes, then a clean EOF: a reset "
	    "passed on as a FIN", got, total);
	ck_assert_int_eq(err, ECONNRESET);
	ck_assert_uint_lt(got, total);
	rt_free(&rt);
}
END_TEST


/* Pages of [p, p+n) that are resident (whole pages inside it only). */
static size_t
resident(const void *p, size_t n)
{
	uintptr_t	page = (uintptr_t)sysconf(_SC_PAGESIZE);
	uintptr_t	start = ((uintptr_t)p + page - 1) & ~(page - 1);
	uintptr_t	end = ((uintptr_t)p + n) & ~(page - 1);
	unsigned char	vec[1024];
	size_t		i, count = 0;

	ck_assert_uint_le((end - start) / page, sizeof(vec));
	ck_assert_int_eq(mincore((void *)start, end - start, vec), 0);
	for (i = 0; i < (end - start) / page; i++)
		count += vec[i] & 1;
	return count;
}

/*
 * A bulk transfer touches much of its buffer; after a second of silence
 * the relay gives the pages back, the request buffer's too (once the
 * early bytes in it are delivered), and the tunnel still relays exactly.
 */
START_TEST(test_release_when_quiet)
{
	static unsigned char	 out[200 * 1024], got[sizeof(out)];
	const size_t		 head_size = 64 * 1024;
	struct rt		 rt;
	long long		 until;
	size_t			 busy;
	char			*head;

	head = mmap(NULL, head_size, PROT_READ | PROT_WRITE,
	    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	ck_assert(head != MAP_FAILED);
	memset(head, 'h', head_size);
	rt_init(&rt, 256 * 1024);
	rt.bufs.head = head;
	rt.bufs.head_size = head_size;
	rt.early = head + head_size - 5;
	rt.early_len = 5;
	rt_start(&rt);
	recv_exact(rt.srv, got, 5);
	ck_assert(memcmp(got, "hhhhh", 5) == 0);
	fill(out, sizeof(out), 7, 0);
	send_all(rt.cli, out, sizeof(out));
	recv_exact(rt.srv, got, sizeof(got));
	ck_assert(check_pat(got, sizeof(got), 7, 0));
	busy = resident(rt.bufs.up, rt.bufs.size);
	ck_assert_uint_gt(busy, 4);
	ck_assert_uint_eq(resident(head, head_size),
	    head_size / (size_t)sysconf(_SC_PAGESIZE));
	until = mono_ms() + WAIT_MS;
	while ((resident(rt.bufs.up, rt.bufs.size) > 0 ||
	    resident(head, head_size) > 0) && mono_ms() < until)
		(void)poll(NULL, 0, 50);
	ck_assert_msg(resident(rt.bufs.up, rt.bufs.size) == 0,
	    "%zu of the buffer's pages still resident after the quiet "
	    "second (%zu while busy)", resident(rt.bufs.up, rt.bufs.size),
	    busy);
	ck_assert_msg(resident(head, head_size) == 0,
	    "%zu of the request buffer's pages still resident",
	    resident(head, head_size));
	fill(out, sizeof(out), 9, 0);
	send_all(rt.srv, out, sizeof(out));
	recv_exact(rt.cli, got, sizeof(got));
	ck_assert(check_pat(got, sizeof(got), 9, 0));
	ck_assert_int_eq(shutdown(rt.cli, SHUT_WR), 0);
	ck_assert_int_eq(shutdown(rt.srv, SHUT_WR), 0);
	ck_assert_int_eq(rt_join(&rt), RELAY_CLIENT_EOF);
	rt_free(&rt);
	munmap(head, head_size);
}
END_TEST

/* Write every page of 256 KiB of stack below the caller; its lowest byte. */
static uintptr_t __attribute__((noinline))
dirty_stack(void)
{
	/* alloca, not an array: sanitizers may move arrays off the stack. */
	volatile char	*deep = alloca(256 * 1024);
	size_t		 i;

	for (i = 0; i < 256 * 1024; i += 512)
		deep[i] = (char)i;
	return (uintptr_t)deep;
}

/*
 * An idle worker gives back the stack its deepest calls dirtied: the pages
 * below the caller are no longer resident, and what the caller keeps on
 * its own frame is intact.
 */
START_TEST(test_discard_stack)
{
#ifdef __linux__
	uintptr_t	 page = (uintptr_t)sysconf(_SC_PAGESIZE);
	volatile char	*keep = alloca(8192);
	uintptr_t	 low, top;
	size_t		 before, after, i;

	for (i = 0; i < 8192; i++)
		keep[i] = (char)(i * 7);
	low = dirty_stack();
	/* Below this frame, clear of relay_discard_stack()'s own margin. */
	top = ((uintptr_t)__builtin_frame_address(0) & ~(page - 1)) -
	    4 * page;
	ck_assert_uint_gt(top, low);
	before = resident((void *)low, top - low);
	/* A quiet accept's EAGAIN must survive it (the span has holes). */
	errno = EAGAIN;
	relay_discard_stack();
	ck_assert_int_eq(errno, EAGAIN);
	after = resident((void *)low, top - low);
	ck_assert_msg(before >= 48 && after <= 1,
	    "stack pages resident below the caller: %zu before, %zu after",
	    before, after);
	for (i = 0; i < 8192; i++)
		ck_assert_int_eq(keep[i], (char)(i * 7));
#endif
}
END_TEST

Suite *
relay_suite(void)
{
	Suite	*s;
	TCase	*tc;

	s = suite_create("relay");
	tc = tcase_create("relay");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_end_names);
	tcase_add_test(tc, test_release_when_quiet);
	tcase_add_test(tc, test_discard_stack);
	tcase_add_test(tc, test_bulk_both_ways);
	tcase_add_test(tc, test_early_bytes_first);
	tcase_add_test(tc, test_half_close_client);
	tcase_add_test(tc, test_half_close_server);
	tcase_add_test(tc, test_backpressure);
	tcase_add_test(tc, test_idle_timeout);
	tcase_add_test(tc, test_idle_reset_by_traffic);
	tcase_add_test(tc, test_stop_preset);
	tcase_add_test(tc, test_stop_by_signal);
	tcase_add_test(tc, test_server_reset);
	tcase_add_test(tc, test_client_reset);
	tcase_add_test(tc, test_server_full_close);
	tcase_add_loop_test(tc, test_side_gone_with_data_held, 0, 2);
	tcase_add_loop_test(tc, test_eof_with_data_held, 0, 4);
	tcase_add_loop_test(tc, test_reset_with_data_held, 0, 2);
	suite_add_tcase(s, tc);
	return s;
}
