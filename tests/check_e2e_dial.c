/* SPDX-License-Identifier: ISC */
/*
 * Suite "dial": how the addresses of a name are tried (RFC 8305, Happy
 * Eyeballs).  The order, pure: dial_order() on hand-made address lists.
 * End to end, each test in its own network and mount namespace, with an
 * /etc/hosts of its own that gives a name an IPv6 and an IPv4 address:
 * an IPv6 address that drops every SYN (on a dummy interface without
 * ARP, where packets vanish) must cost connect_attempt_delay, not a
 * share of connect_timeout; a refused one must cost nothing; the same
 * for a parent proxy given by name.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <arpa/inet.h>
#include <netdb.h>
#include <netinet/in.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "dial.h"
#include "harness.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

/* The blackholed IPv6 network, and this host's address on it. */
#define DEAD_NET	"2001:db8:1::1/64"
#define DEAD_V6		"2001:db8:1::2"

/* Unit: dial_order() */

#define LIST_MAX	24

/* A list of addresses, "6" or "4" per character, linked in order. */
struct list {
	struct addrinfo		ai[LIST_MAX];
	struct sockaddr_storage	ss[LIST_MAX];
};

static struct addrinfo *
make_list(struct list *l, const char *families)
{
	size_t	i, n = strlen(families);

	ck_assert_uint_le(n, LIST_MAX);
	memset(l, 0, sizeof(*l));
	for (i = 0; i < n; i++) {
		l->ai[i].ai_family = families[i] == '6' ? AF_INET6 :
		    families[i] == '4' ? AF_INET : AF_UNIX;
		l->ai[i].ai_addr = (struct sockaddr *)&l->ss[i];
		l->ai[i].ai_next = i + 1 < n ? &l->ai[i + 1] : NULL;
	}
	return n > 0 ? &l->ai[0] : NULL;
}

/*
 * The order dial_order() gives, as indexes into the list ("0 3 1 ...").
 */
static void
order_of(struct list *l, const char *families, size_t max, char *out,
    size_t len)
{
	struct addrinfo	*got[LIST_MAX];
	size_t		 i, n, used = 0;

	n = dial_order(make_list(l, families), got, max);
	ck_assert_uint_le(n, max);
	out[0] = '\0';
	for (i = 0; i < n; i++)
		used += (size_t)snprintf(out + used, len - used, "%s%d",
		    i > 0 ? " " : "", (int)(got[i] - l->ai));
}

START_TEST(test_order_interleaves)
{
	static const struct {
		const char	*families;
		size_t		 max;
		const char	*order;
	} cases[] = {
		/* The first family first, each family in its own order. */
		{ "66644", 16, "0 3 1 4 2" },
		{ "4666", 16, "0 1 2 3" },
		{ "4466", 16, "0 2 1 3" },
		{ "6464", 16, "0 1 2 3" },
		{ "64", 16, "0 1" },
		{ "46", 16, "0 1" },
		{ "666", 16, "0 1 2" },
		{ "44", 16, "0 1" },
		/* Neither IPv4 nor IPv6: left out, also as the first. */
		{ "x6x4", 16, "1 3" },
		{ "xx", 16, "" },
		{ "", 16, "" },
		/* Truncated after the interleaving: IPv4 is not crowded out. */
		{ "66666666666666666666", 4, "0 1 2 3" },
		{ "6666666666666666666644", 4, "0 20 1 21" },
		{ "6666666666666666666644", 16, "0 20 1 21 2 3 4 5 6 7 8 9 "
		    "10 11 12 13" },
	};
	struct list	l;
	char		out[256];
	size_t		i;

	for (i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		order_of(&l, cases[i].families, cases[i].max, out,
		    sizeof(out));
		ck_assert_msg(strcmp(out, cases[i].order) == 0,
		    "%s (max %zu): got \"%s\", want \"%s\"",
		    cases[i].families, cases[i].max, out, cases[i].order);
	}
}
END_TEST

/* End to end */

/*
 * This test's own network (a dead IPv6 subnet: SYNs to DEAD_V6 vanish)
 * and /etc/hosts.  0, or -1 when namespaces are not available.
 */
static int
netns_up(const char *hosts)
{
	if (harness_netns_enter() == -1 ||
	    harness_netns_blackhole(DEAD_NET) == -1 ||
	    harness_netns_hosts(hosts) == -1)
		return -1;
	return 0;
}

/*
 * The scenario holds only if the resolver puts IPv6 first, as RFC 6724
 * does: check with the proxy's own resolver, in this namespace.
 */
static void
assert_v6_first(const char *name, const char *v6)
{
	struct addrinfo	 hints, *list;
	char		 text[INET6_ADDRSTRLEN];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, "443", &hints, &list);
	ck_assert_msg(rc == 0, "%s: %s", name, gai_strerror(rc));
	ck_assert_msg(list->ai_family == AF_INET6 && list->ai_next != NULL &&
	    list->ai_next->ai_family == AF_INET, "%s: not IPv6 then IPv4",
	    name);
	inet_ntop(AF_INET6, &((struct sockaddr_in6 *)(void *)
	    list->ai_addr)->sin6_addr, text, sizeof(text));
	ck_assert_msg(strcmp(text, v6) == 0, "%s: first %s, not %s", name,
	    text, v6);
	freeaddrinfo(list);
}

/*
 * CONNECT `target` through the proxy; returns the milliseconds to the
 * answer's head, with the tunnel (or -1) in *fd and the status in *status.
 */
static long long
timed_connect(const struct harness_proxy *p, const char *target, int *fd,
    int *status)
{
	long long	start = harness_now_ms();

	*fd = harness_tunnel(p->port, target, NULL, status,
	    harness_ms(15000));
	return harness_now_ms() - start;
}

/* A port nothing listens on, in this namespace. */
static int
closed_port(void)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd, port;

	ck_assert_int_ne(fd = socket(AF_INET, SOCK_STREAM, 0), -1);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	port = ntohs(sin.sin_port);
	close(fd);
	return port;
}

/*
 * The case: a dual-stack name whose IPv6 address drops every
 * SYN.  Addresses tried one after the other, each with an equal share
 * of connect_timeout 8s, gave the 200 after 4 s; raced, the IPv4
 * attempt starts connect_attempt_delay (250 ms) after the first and wins.
 */
START_TEST(test_broken_ipv6_netns)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[512], target[128], want[64], line[1024];
	long long		ms;
	int			fd, status;

	if (netns_up(DEAD_V6 " dual.test\n127.0.0.1 dual.test\n") == -1)
		SKIP("cannot set up a network and mount namespace");
	assert_v6_first("dual.test", DEAD_V6);
	ck_assert_int_eq(harness_target_start(&t, AF_INET, "127.0.0.1", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 2001:db8::/32\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\nworkers_start 2\n"
	    "connect_timeout 8s\n", t.port);
	harness_proxy_up(&p, conf);
	snprintf(target, sizeof(target), "dual.test:%d", t.port);
	ms = timed_connect(&p, target, &fd, &status);
	EXPECT(&p, fd != -1, "dual.test: no 200 (status %d after %lld ms)",
	    status, ms);
	EXPECT(&p, ms < harness_ms(1000), "dual.test: 200 after %lld ms",
	    ms);
	harness_echo_roundtrip(&p, fd, "eyeballs");
	close(fd);
	snprintf(want, sizeof(want), "dialed=127.0.0.1:%d ", t.port);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", want, line,
	    sizeof(line), harness_ms(5000)) == 0,
	    "no access record with %s", want);
	fprintf(stderr, "%s: 200 after %lld ms\n", __func__, ms);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * A refused attempt starts the next one at once, whatever the delay
 * (2 s here); when every attempt is refused, 502 at once.
 */
START_TEST(test_refused_next_at_once_netns)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	char			conf[512], req[256], want[64], line[1024];
	long long		ms, start;
	int			fd, status, closed;

	if (netns_up("::1 refused.test\n127.0.0.1 refused.test\n") == -1)
		SKIP("cannot set up a network and mount namespace");
	assert_v6_first("refused.test", "::1");
	/* The target listens on 127.0.0.1 only: [::1] refuses. */
	ck_assert_int_eq(harness_target_start(&t, AF_INET, "127.0.0.1", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	closed = closed_port();
	snprintf(conf, sizeof(conf), "allow_dest ::1\nallow_dest 127.0.0.0/8\n"
	    "allow_port %d %d\nworkers_start 2\nconnect_timeout 8s\n"
	    "connect_attempt_delay 2s\n", t.port, closed);
	harness_proxy_up(&p, conf);
	snprintf(req, sizeof(req), "refused.test:%d", t.port);
	ms = timed_connect(&p, req, &fd, &status);
	EXPECT(&p, fd != -1, "refused.test: no 200 (status %d after %lld ms)",
	    status, ms);
	EXPECT(&p, ms < harness_ms(1000), "refused.test: 200 after %lld ms "
	    "(the refusal did not start the next attempt)", ms);
	harness_echo_roundtrip(&p, fd, "refused first");
	close(fd);
	snprintf(want, sizeof(want), "dialed=127.0.0.1:%d ", t.port);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", want, line,
	    sizeof(line), harness_ms(5000)) == 0,
	    "no access record with %s", want);
	/* Both addresses refuse: 502 connect_failed, without waiting. */
	snprintf(req, sizeof(req), "CONNECT refused.test:%d HTTP/1.1\r\n"
	    "Host: refused.test:%d\r\n\r\n", closed, closed);
	start = harness_now_ms();
	ck_assert_int_ne(fd = harness_connect("127.0.0.1", p.port,
	    harness_ms(5000)), -1);
	ck_assert_int_eq(harness_send_str(fd, req), 0);
	EXPECT(&p, harness_read_response(fd, &r, harness_ms(15000)) == 0 &&
	    r.status == 502, "all refused: status %d: %.60s", r.status,
	    r.head);
	ms = harness_now_ms() - start;
	close(fd);
	EXPECT(&p, ms < harness_ms(1000), "all refused: 502 after %lld ms",
	    ms);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ",
	    "reason=connect_failed", line, sizeof(line),
	    harness_ms(5000)) == 0 && strstr(line, "status=502") != NULL &&
	    strstr(line, "dialed=") == NULL, "all refused: %s", line);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * The two IPv4 addresses of `name` in the resolver's order (which RFC
 * 6724 leaves to rules this test need not guess) into a and b, after
 * checking that the list starts with the IPv6 address v6.
 */
static void
v4_pair(const char *name, const char *v6, char *a, char *b, size_t len)
{
	struct addrinfo	 hints, *list, *ai;
	char		*out[2] = { a, b };
	int		 rc, k = 0;

	assert_v6_first(name, v6);
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	rc = getaddrinfo(name, "443", &hints, &list);
	ck_assert_msg(rc == 0, "%s: %s", name, gai_strerror(rc));
	for (ai = list; ai != NULL && k < 2; ai = ai->ai_next)
		if (ai->ai_family == AF_INET)
			inet_ntop(AF_INET, &((struct sockaddr_in *)(void *)
			    ai->ai_addr)->sin_addr, out[k++], (socklen_t)len);
	freeaddrinfo(list);
	ck_assert_msg(k == 2, "%s: not two IPv4 addresses", name);
}

/*
 * A refusal while an earlier attempt is still pending starts the next
 * one at once too.  mixed.test is DEAD_V6 (pending until the deadline),
 * then two IPv4 addresses: the first refuses, the second answers.  In
 * the RFC 8305 order they are dialled at 0, D and, at once after the
 * refusal, D again: the 200 comes after about D, not 2 D.
 */
START_TEST(test_refused_while_pending_netns)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[512], target[128], want[64], line[1024];
	char			refuses[INET_ADDRSTRLEN], answers[INET_ADDRSTRLEN];
	long long		ms;
	int			fd, status;

	if (netns_up(DEAD_V6 " mixed.test\n127.0.0.2 mixed.test\n"
	    "127.0.0.3 mixed.test\n") == -1)
		SKIP("cannot set up a network and mount namespace");
	v4_pair("mixed.test", DEAD_V6, refuses, answers, sizeof(refuses));
	ck_assert_int_eq(harness_target_start(&t, AF_INET, answers, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 2001:db8::/32\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\nworkers_start 2\n"
	    "connect_timeout 8s\nconnect_attempt_delay 1s\n", t.port);
	harness_proxy_up(&p, conf);
	snprintf(target, sizeof(target), "mixed.test:%d", t.port);
	ms = timed_connect(&p, target, &fd, &status);
	EXPECT(&p, fd != -1, "mixed.test: no 200 (status %d after %lld ms)",
	    status, ms);
	/* Not before the delay: the IPv4 attempts waited for it. */
	EXPECT(&p, ms >= 950 && ms < 1600, "mixed.test: 200 after %lld ms, "
	    "not about 1000 (%s refused, %s answers)", ms, refuses, answers);
	harness_echo_roundtrip(&p, fd, "mixed");
	close(fd);
	snprintf(want, sizeof(want), "dialed=%s:%d ", answers, t.port);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", want, line,
	    sizeof(line), harness_ms(5000)) == 0,
	    "no access record with %s", want);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * A parent proxy given by name is raced the same way: parent.test's
 * IPv6 address drops every SYN, its IPv4 address is a second proxy.
 */
START_TEST(test_parent_by_name_netns)
{
	struct harness_proxy	parent, p;
	struct harness_target	t;
	char			conf[512], target[128], want[64], line[1024];
	long long		ms;
	int			fd, status;

	if (netns_up(DEAD_V6 " parent.test\n127.0.0.1 parent.test\n"
	    "127.0.0.1 dest.test\n") == -1)
		SKIP("cannot set up a network and mount namespace");
	assert_v6_first("parent.test", DEAD_V6);
	ck_assert_int_eq(harness_target_start(&t, AF_INET, "127.0.0.1", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\n", t.port);
	harness_proxy_up(&parent, conf);
	snprintf(conf, sizeof(conf), "upstream parent.test:%d\n"
	    "allow_port %d\nworkers_start 2\nconnect_timeout 8s\n",
	    parent.port, t.port);
	harness_proxy_up(&p, conf);
	/* A name: the parent resolves it, and may dial loopback. */
	snprintf(target, sizeof(target), "dest.test:%d", t.port);
	ms = timed_connect(&p, target, &fd, &status);
	EXPECT(&p, fd != -1, "through parent.test: no 200 (status %d after "
	    "%lld ms)", status, ms);
	EXPECT(&p, ms < harness_ms(1000), "through parent.test: 200 after "
	    "%lld ms", ms);
	harness_echo_roundtrip(&p, fd, "parent");
	close(fd);
	snprintf(want, sizeof(want), "upstream=parent.test:%d ", parent.port);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", want, line,
	    sizeof(line), harness_ms(5000)) == 0,
	    "no access record with %s", want);
	harness_proxy_free(&p);
	harness_proxy_free(&parent);
	harness_target_stop(&t);
}
END_TEST

/* hR2: a fast stop during a dial */

/* `connectproxy -c conf status` lists n workers in state `state`. */
static int
wait_workers_in(const struct harness_proxy *p, const char *state, int n)
{
	static char	out[8192];
	char		*argv[] = { (char *)harness_bin(), "-c", (char *)p->conf,
	    "status", NULL };
	char		row[512], cols[3][128];
	const char	*s, *eol;
	long long	deadline = harness_now_ms() + harness_ms(10000);
	int		seen;

	do {
		if (harness_run(argv, NULL, out, sizeof(out),
		    harness_ms(10000)) != 0)
			return -1;
		seen = 0;
		for (s = out; *s != '\0'; s = *eol ? eol + 1 : eol) {
			eol = s + strcspn(s, "\n");
			snprintf(row, sizeof(row), "%.*s", (int)(eol - s), s);
			if (sscanf(row, "%127s %127s %127s", cols[0], cols[1],
			    cols[2]) == 3 && strcmp(cols[2], state) == 0)
				seen++;
		}
		if (seen >= n)
			return 0;
		(void)poll(NULL, 0, HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

/*
 * TERM (a fast stop) ends a dial at once, with a 503 that says so: a
 * race whose address drops every SYN, and a parent that accepted the
 * connection but never answers.  Before, the worker went on to the end
 * of connect_timeout (8 s here): the client got a 504 long after the
 * stop began, or, with connect_timeout above shutdown_timeout, a reset
 * when the master killed the worker.
 */
START_TEST(test_stop_during_dial_netns)
{
	static const char	*const reqs[2] = {
		"CONNECT [" DEAD_V6 "]:443 HTTP/1.1\r\nHost: x\r\n\r\n",
		"CONNECT silent.test:443 HTTP/1.1\r\nHost: x\r\n\r\n"
	};
	struct harness_proxy	p;
	struct harness_response	r;
	char			conf[1024], dir[HARNESS_PATH_MAX], val[256];
	char			want[256], hop[64];
	long long		start, ms;
	int			silent, lfd, fd[2], i;

	if (netns_up("127.0.0.1 localhost\n") == -1)
		SKIP("cannot set up a network and mount namespace");
	/* A parent whose backlog takes the connection, and nothing more. */
	ck_assert_int_ne(lfd = harness_bind("127.0.0.1", 0, &silent), -1);
	ck_assert_int_eq(listen(lfd, 8), 0);
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(conf, sizeof(conf), "allow_dest 2001:db8::/32\n"
	    "workers_start 3\nconnect_timeout 8s\nshutdown_timeout 20s\n"
	    "control_socket %s/ctl.sock\n"
	    "upstream 127.0.0.1:%d for silent.test\n", dir, silent);
	harness_proxy_up(&p, conf);
	snprintf(hop, sizeof(hop), "next-hop=\"127.0.0.1:%d\"; ", silent);
	for (i = 0; i < 2; i++) {
		fd[i] = harness_connect("127.0.0.1", p.port, harness_ms(5000));
		ck_assert_int_ne(fd[i], -1);
		ck_assert_int_eq(harness_send_str(fd[i], reqs[i]), 0);
	}
	EXPECT(&p, wait_workers_in(&p, "connecting", 2) == 0,
	    "two workers did not start dialling");
	start = harness_now_ms();
	ck_assert_int_eq(harness_proxy_signal(&p, SIGTERM), 0);
	for (i = 0; i < 2; i++) {
		EXPECT(&p, harness_read_response(fd[i], &r,
		    harness_ms(30000)) == 0, "%s: no answer", reqs[i]);
		ms = harness_now_ms() - start;
		close(fd[i]);
		EXPECT(&p, r.status == 503 && ms < harness_ms(2000),
		    "%s: status %d after %lld ms of the stop, not a 503 at "
		    "once", reqs[i], r.status, ms);
		/* The parent chosen is named, as for any of its errors. */
		snprintf(want, sizeof(want), "connectproxy; "
		    "error=proxy_internal_response; %sdetails=\"shutting "
		    "down\"", i == 0 ? "" : hop);
		EXPECT(&p, harness_header(r.head, "Proxy-Status", val,
		    sizeof(val)) == 0 && strcmp(val, want) == 0,
		    "%s: Proxy-Status: %s\nexpected: %s", reqs[i], val, want);
	}
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(5000)) == 0,
	    "the proxy did not stop");
	EXPECT(&p, harness_proxy_count_log(&p, " reason=shutdown "
	    "error=proxy_internal_response") == 2, "not two records of a "
	    "stopped dial");
	harness_proxy_free(&p);
	close(lfd);
	harness_rmdir(dir);
}
END_TEST

Suite *
dial_suite(void)
{
	Suite	*s;
	TCase	*tc;

	signal(SIGPIPE, SIG_IGN);
	s = suite_create("dial");
	tc = tcase_create("order");
	tcase_add_test(tc, test_order_interleaves);
	suite_add_tcase(s, tc);
	tc = harness_tcase(s, "eyeballs", 60);
	tcase_add_test(tc, test_broken_ipv6_netns);
	tcase_add_test(tc, test_refused_next_at_once_netns);
	tcase_add_test(tc, test_refused_while_pending_netns);
	tcase_add_test(tc, test_parent_by_name_netns);
	tcase_add_test(tc, test_stop_during_dial_netns);
	return s;
}
