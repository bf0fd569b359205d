/*
 * Socket helpers: numeric address parsing (listen directives), formatting
 * for logs, a listener that accepts, deadline-bound writes, and the
 * lingering close that still delivers our last bytes.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <string.h>
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
	ck_assert_int_eq(net_write_all(s, "bye", 3, net_now_ms() + 1000), 0);
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
	start = net_now_ms();
	/* The peer never reads: the write must give up at its deadline. */
	for (i = 0; i < 64 && rc == 0; i++)
		rc = net_write_all(s, big, sizeof(big), net_now_ms() + 200);
	ck_assert_int_eq(rc, -1);
	ck_assert_int_eq(errno, ETIMEDOUT);
	ck_assert_int_lt(net_now_ms() - start, 5000);
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
	suite_add_tcase(s, tc);
	return s;
}
