/* SPDX-License-Identifier: ISC */
/*
 * Socket helpers: numeric address parsing (listen directives), formatting
 * for logs, a listener that accepts, deadline-bound writes, the
 * lingering close that still delivers our last bytes, and the one wait
 * every deadline goes through.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "suites.h"

static const struct {
	const char	*in;
	int		 ok;
	const char	*out;
} addrs[] = {
	{ "127.0.0.1:3128", 1, "127.0.0.1:3128" },
	{ "0.0.0.0:1", 1, "0.0.0.0:1" },
	{ "[::1]:65535", 1, "[::1]:65535" },
	{ "[::]:8080", 1, "[::]:8080" },
	{ "[2001:DB8::1]:443", 1, "[2001:db8::1]:443" },
	{ "127.0.0.1", 0, NULL },
	{ "127.0.0.1:", 0, NULL },
	{ "127.0.0.1:0", 0, NULL },
	{ "127.0.0.1:65536", 0, NULL },
	{ "127.0.0.1:123456", 0, NULL },
	{ "127.0.0.1:8x", 0, NULL },
	{ "127.1:3128", 0, NULL },
	{ "localhost:3128", 0, NULL },
	{ "::1:3128", 0, NULL },
	{ "[::1:3128", 0, NULL },
	{ "[fe80::1%eth0]:3128", 0, NULL },
	{ ":3128", 0, NULL },
	{ "", 0, NULL },
};

START_TEST(test_parse_format)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			buf[NET_ADDRSTR];
	int			rc;

	rc = net_parse_addrport(addrs[_i].in, &ss, &len);
	ck_assert_msg((rc == 0) == addrs[_i].ok, "%s: rc %d", addrs[_i].in,
	    rc);
	if (!addrs[_i].ok)
		return;
	ck_assert_str_eq(net_format((struct sockaddr *)&ss, buf, sizeof(buf)),
	    addrs[_i].out);
}
END_TEST

static int
listen_any(struct sockaddr_storage *ss, socklen_t *len)
{
	int	fd;

	ck_assert_int_eq(net_parse_addrport("127.0.0.1:1", ss, len), 0);
	((struct sockaddr_in *)ss)->sin_port = 0;
	fd = net_listen((struct sockaddr *)ss, *len, 8);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)ss, len), 0);
	return fd;
}

static int
dial(const struct sockaddr_storage *ss, socklen_t len)
{
	int	fd = socket(AF_INET, SOCK_STREAM, 0);

	ck_assert_int_eq(connect(fd, (const struct sockaddr *)ss, len), 0);
	return fd;
}

START_TEST(test_listen_and_linger)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	char			buf[16];
	int			lfd, c, s;

	lfd = listen_any(&ss, &len);
	c = dial(&ss, len);
	s = accept(lfd, NULL, NULL);
	ck_assert_int_ne(s, -1);
	/* Unread input must not turn our reply into a reset. */
	ck_assert_int_eq(write(c, "unread", 6), 6);
	ck_assert_int_eq(net_write_all(s, "bye", 3, net_mono_ms() + 1000), 0);
	net_lingering_close(s, 200);
	ck_assert_int_eq(read(c, buf, sizeof(buf)), 3);
	ck_assert_int_eq(memcmp(buf, "bye", 3), 0);
	ck_assert_int_eq(read(c, buf, sizeof(buf)), 0);
	close(c);
	close(lfd);
}
END_TEST

START_TEST(test_write_deadline)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	static char		big[1 << 20];
	long long		start;
	int			lfd, c, s, i, rc = 0;

	lfd = listen_any(&ss, &len);
	c = dial(&ss, len);
	s = accept(lfd, NULL, NULL);
	start = net_mono_ms();
	/* The peer never reads: the write must give up at its deadline. */
	for (i = 0; i < 64 && rc == 0; i++)
		rc = net_write_all(s, big, sizeof(big), net_mono_ms() + 200);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(net_mono_ms() - start, 5000);
	close(c);
	close(s);
	close(lfd);
}
END_TEST

START_TEST(test_listen_in_use)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			lfd;

	lfd = listen_any(&ss, &len);
	ck_assert_int_eq(net_listen((struct sockaddr *)&ss, len, 8), -1);
	ck_assert_int_eq(errno, EADDRINUSE);
	close(lfd);
}
END_TEST

/* The wall clock is the date; the monotonic one only moves on. */
START_TEST(test_clocks)
{
	long long	a, b, wall = net_wall_ms();

	ck_assert_int_le(llabs(wall - (long long)time(NULL) * 1000), 1000);
	a = net_mono_ms();
	b = net_mono_ms();
	ck_assert_int_le(a, b);
}
END_TEST

/* --- net_wait: readiness, the deadline, signals, the stop flag ------ */

static volatile sig_atomic_t	wait_stop;
static volatile sig_atomic_t	alarms;

static void
on_alarm(int sig)
{
	(void)sig;
	alarms++;
	wait_stop = 1;
}

/*
 * SIGALRM after `ms`, with a handler that sets wait_stop, installed
 * without SA_RESTART so that it interrupts poll() as a worker's TERM does.
 */
static void
alarm_in(long ms)
{
	struct sigaction	sa;
	struct itimerval	it;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	ck_assert_int_eq(sigaction(SIGALRM, &sa, NULL), 0);
	memset(&it, 0, sizeof(it));
	it.it_value.tv_sec = ms / 1000;
	it.it_value.tv_usec = (ms % 1000) * 1000;
	ck_assert_int_eq(setitimer(ITIMER_REAL, &it, NULL), 0);
}

START_TEST(test_wait_ready)
{
	int	sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	ck_assert_int_eq(net_wait(sv[0], POLLOUT, net_mono_ms() + 1000, NULL),
	    POLLOUT);
	ck_assert_int_eq(write(sv[1], "x", 1), 1);
	ck_assert_int_eq(net_wait(sv[0], POLLIN, net_mono_ms() + 1000, NULL) &
	    POLLIN, POLLIN);
	/* A peer gone is reported, not waited out. */
	close(sv[0]);
	ck_assert_int_ne(net_wait(sv[1], POLLIN, net_mono_ms() + 5000, NULL),
	    0);
	close(sv[1]);
}
END_TEST

START_TEST(test_wait_deadline)
{
	long long	start;
	int		sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	start = net_mono_ms();
	ck_assert_int_eq(net_wait(sv[0], POLLIN, start + 150, NULL), 0);
	ck_assert_int_ge(net_mono_ms() - start, 150);
	ck_assert_int_lt(net_mono_ms() - start, 1000);
	/* A deadline already past: no wait at all. */
	ck_assert_int_eq(net_wait(sv[0], POLLIN, start, NULL), 0);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* A signal that interrupts poll() does not end the wait early. */
START_TEST(test_wait_rides_signal)
{
	long long	start;
	int		sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	alarms = 0;
	alarm_in(50);
	start = net_mono_ms();
	ck_assert_int_eq(net_wait(sv[0], POLLIN, start + 300, NULL), 0);
	ck_assert_int_eq(alarms, 1);
	ck_assert_int_ge(net_mono_ms() - start, 300);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

/* The stop flag a signal sets ends the wait at that signal. */
START_TEST(test_wait_stop)
{
	long long	start;
	int		sv[2];

	ck_assert_int_eq(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	wait_stop = 0;
	alarm_in(50);
	start = net_mono_ms();
	errno = 0;
	ck_assert_int_eq(net_wait(sv[0], POLLIN, start + 5000, &wait_stop),
	    -1);
	ck_assert_int_eq(errno, EINTR);
	/* At the signal, not at the end of a one-second slice. */
	ck_assert_int_lt(net_mono_ms() - start, 900);
	/* Set before the call: no poll() at all. */
	start = net_mono_ms();
	ck_assert_int_eq(net_wait(sv[0], POLLIN, start + 5000, &wait_stop),
	    -1);
	ck_assert_int_lt(net_mono_ms() - start, 100);
	close(sv[0]);
	close(sv[1]);
}
END_TEST

Suite *
net_suite(void)
{
	Suite	*s = suite_create("net");
	TCase	*tc = tcase_create("net");

	tcase_add_loop_test(tc, test_parse_format, 0,
	    (int)(sizeof(addrs) / sizeof(addrs[0])));
	tcase_add_test(tc, test_listen_and_linger);
	tcase_add_test(tc, test_write_deadline);
	tcase_add_test(tc, test_listen_in_use);
	tcase_add_test(tc, test_clocks);
	tcase_add_test(tc, test_wait_ready);
	tcase_add_test(tc, test_wait_deadline);
	tcase_add_test(tc, test_wait_rides_signal);
	tcase_add_test(tc, test_wait_stop);
	suite_add_tcase(s, tc);
	return s;
}
