/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for Proxy-Status (RFC 9209): every error answer the
 * proxy generates says why in its Proxy-Status field, and the access
 * record says the same error type.  Real clients (curl -v, raw sockets)
 * against the real binary; several cases share each proxy to stay fast.
 * Loopback only; the cases that need a resolver, a route that drops
 * packets or none at all run in a private network namespace.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

/* alice:secret, sha512-crypt (openssl passwd -6 -salt cpsalt42). */
#define ALICE	"alice:$6$cpsalt42$1tbnEr9DinlYqRZbYR7i8AiEQ8Jm9JVoe2JOXYCMab" \
		"kv88gWg2c51R85ipfho4.xYVmbwsODRP4nedolzS5j2.\n"

/* A connection from numeric `src` to the proxy, `req` sent on it. */
static int
send_from(const struct harness_proxy *p, const char *src, const char *req)
{
	int	fd;

	fd = harness_connect_from(src, p->port, harness_ms(5000));
	EXPECT(p, fd != -1, "cannot connect from %s", src);
	if (req != NULL)
		EXPECT(p, harness_send_str(fd, req) == 0, "send from %s", src);
	return fd;
}

/*
 * Read the answer on fd: status `want` with exactly one Proxy-Status
 * field, whose value is `ps`.  Closes fd.
 */
static void
expect_answer(const struct harness_proxy *p, int fd, int want,
    const char *ps, const char *what)
{
	struct harness_response	r;
	char			val[1024];
	const char		*first;

	EXPECT(p, harness_read_response(fd, &r, harness_ms(15000)) == 0,
	    "%s: no response", what);
	close(fd);
	EXPECT(p, r.status == want, "%s: expected %d, saw \"%.*s\"", what,
	    want, (int)strcspn(r.head, "\r\n"), r.head);
	EXPECT(p, harness_header(r.head, "Proxy-Status", val, sizeof(val))
	    == 0, "%s: no Proxy-Status in\n%s", what, r.head);
	EXPECT(p, strcmp(val, ps) == 0, "%s: Proxy-Status: %s\nexpected: %s",
	    what, val, ps);
	first = strstr(r.head, "\r\nProxy-Status:");
	EXPECT(p, first != NULL && strstr(first + 2, "\r\nProxy-Status:") ==
	    NULL, "%s: not one Proxy-Status field", what);
}

/*
 * The access record holding `needle` says error=`error`: the type of
 * the answer's Proxy-Status.
 */
static void
expect_record(const struct harness_proxy *p, const char *needle,
    const char *error)
{
	char	line[2048], want[128];

	EXPECT(p, harness_proxy_wait_log(p, "access ", needle, line,
	    sizeof(line), harness_ms(10000)) == 0, "no access record with %s",
	    needle);
	snprintf(want, sizeof(want), " error=%s ", error);
	strcat(line, " ");
	EXPECT(p, strstr(line, want) != NULL, "record: %s\nexpected%s",
	    line, want);
}

/* One CONNECT from 127.0.0.1, its answer and its record. */
static void
connect_case(const struct harness_proxy *p, const char *target, int want,
    const char *ps, const char *error)
{
	char	req[512], needle[300];

	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n",
	    target, target);
	expect_answer(p, send_from(p, "127.0.0.1", req), want, ps, target);
	snprintf(needle, sizeof(needle), " target=%s ", target);
	expect_record(p, needle, error);
}

/*
 * curl -v shows the field: run curl through the proxy and find the line
 * "< Proxy-Status: ps" in what it printed.
 */
static void
curl_case(const struct harness_proxy *p, int tunnel, const char *url,
    const char *ps)
{
	char	proxy[64], out[8192], want[512];
	char	*argv[] = { "curl", "-sv", "--max-time", "10", "-x", proxy,
	    tunnel ? "-p" : "-v", (char *)url, NULL };
	int	st;

	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", p->port);
	st = harness_run(argv, NULL, out, sizeof(out), harness_ms(20000));
	EXPECT(p, st != -1, "curl %s did not finish", url);
	snprintf(want, sizeof(want), "< Proxy-Status: %s\r\n", ps);
	EXPECT(p, strstr(out, want) != NULL, "curl %s: no \"%s\" in\n%s",
	    url, want, out);
}

/* TERM ends the fake parent as an exit: see test_upstream_fake_parent. */
static void
parent_term(int sig)
{
	(void)sig;
	_exit(0);
}

/*
 * A parent in a forked child that answers `answer` to every CONNECT it
 * gets, then closes.  *port is its port; stop it with harness_kill_wait.
 */
static pid_t
fake_parent(int *port, const char *answer)
{
	char	buf[4096];
	size_t	got;
	ssize_t	n;
	pid_t	pid;
	int	lfd, fd;

	lfd = harness_bind("127.0.0.1", 0, port);
	ck_assert_int_ne(lfd, -1);
	ck_assert_int_eq(listen(lfd, 8), 0);
	if ((pid = fork()) != 0) {
		ck_assert_int_ne(pid, -1);
		close(lfd);
		return pid;
	}
	harness_child_setup();
	signal(SIGTERM, parent_term);
	alarm(60);
	while ((fd = accept(lfd, NULL, NULL)) != -1) {
		got = 0;
		while (got < sizeof(buf) - 1 && (n = read(fd, buf + got,
		    sizeof(buf) - 1 - got)) > 0) {
			got += (size_t)n;
			buf[got] = '\0';
			if (strstr(buf, "\r\n\r\n") != NULL)
				break;
		}
		if (write(fd, answer, strlen(answer)) == -1)
			_exit(1);
		close(fd);
	}
	_exit(0);
}

/*
 * The refusals of one proxy: client, port, name and address rules, a
 * bad request, a method other than CONNECT, a head too slow, too many
 * tunnels from one client, a closed port, a parent that refuses (its
 * status and address in the field) and one that is down.
 */
START_TEST(test_refusals)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[1024], target[64], ps[256];
	int			closed, held, parent, hold[3], i;
	pid_t			pid;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, "127.0.0.2", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	ck_assert_int_ne(closed = harness_closed_port(AF_INET, &held), -1);
	pid = fake_parent(&parent, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Length: 0\r\n\r\n");
	snprintf(conf, sizeof(conf), "allow_client 127.0.0.0/29\n"
	    "allow_port 443\nallow_port %d\nallow_port %d\n"
	    "deny_dest blocked.test\nallow_dest 127.0.0.2/32\n"
	    "max_tunnels_per_client 3\nheader_timeout 500ms\n"
	    "max_header_size 1024\n"
	    "connect_timeout 5s\nworkers_start 4\n"
	    "upstream 127.0.0.1:%d for refused.test\n"
	    "upstream 127.0.0.1:%d for down.test\n", closed, t.port, parent,
	    closed);
	harness_proxy_up(&p, conf);

	/* Outside allow_client. */
	expect_answer(&p, send_from(&p, "127.0.0.9", "CONNECT 127.0.0.2:443 "
	    "HTTP/1.1\r\nHost: x\r\n\r\n"), 403, "connectproxy; "
	    "error=http_request_denied; details=\"client not allowed\"",
	    "client rule");
	expect_record(&p, "reason=client_denied", "http_request_denied");
	/* Not a request. */
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT\r\n\r\n"), 400,
	    "connectproxy; error=http_request_error; details=\"invalid "
	    "request line\"", "bad request");
	expect_record(&p, "reason=bad_request", "http_request_error");
	/* A plain-HTTP GET, as curl sends it through a proxy. */
	if (harness_have("curl")) {
		curl_case(&p, 0, "http://example.test/", "connectproxy; "
		    "error=http_request_error; details=\"method not allowed\"");
		expect_record(&p, "reason=method_not_allowed",
		    "http_request_error");
	} else
		fprintf(stderr, "SKIP %s: curl cases\n", __func__);
	/* The port, a name rule, the built-in denial of loopback. */
	connect_case(&p, "127.0.0.2:25", 403, "connectproxy; "
	    "error=http_request_denied; details=\"port not allowed\"",
	    "http_request_denied");
	connect_case(&p, "blocked.test:443", 403, "connectproxy; "
	    "error=http_request_denied; details=\"destination not allowed\"",
	    "http_request_denied");
	if (harness_have("curl")) {
		curl_case(&p, 1, "https://127.0.0.1:443/", "connectproxy; "
		    "error=destination_ip_prohibited; details=\"destination "
		    "not allowed\"");
		expect_record(&p, "rule=builtin:loopback",
		    "destination_ip_prohibited");
	} else
		connect_case(&p, "127.0.0.1:443", 403, "connectproxy; "
		    "error=destination_ip_prohibited; details=\"destination "
		    "not allowed\"", "destination_ip_prohibited");
	/* A name whose every address is denied (loopback): prohibited. */
	connect_case(&p, "localhost:443", 403, "connectproxy; "
	    "error=destination_ip_prohibited; details=\"destination not "
	    "allowed\"", "destination_ip_prohibited");
	/* A port nothing listens on. */
	snprintf(target, sizeof(target), "127.0.0.2:%d", closed);
	connect_case(&p, target, 502, "connectproxy; "
	    "error=connection_refused; details=\"connect failed\"",
	    "connection_refused");
	/* A parent's 403, and a parent that is down. */
	snprintf(ps, sizeof(ps), "connectproxy; error=http_protocol_error; "
	    "next-hop=\"127.0.0.1:%d\"; received-status=403; "
	    "details=\"upstream proxy refused\"", parent);
	connect_case(&p, "refused.test:443", 502, ps, "http_protocol_error");
	snprintf(ps, sizeof(ps), "connectproxy; error=connection_refused; "
	    "next-hop=\"127.0.0.1:%d\"; details=\"upstream proxy failed\"",
	    closed);
	connect_case(&p, "down.test:443", 502, ps, "connection_refused");
	/* A head that does not come within header_timeout. */
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT 127.0.0.2:443 "
	    "HTTP/1.1\r\n"), 408, "connectproxy; error=http_request_error; "
	    "details=\"request head not received in time\"", "slow head");
	expect_record(&p, "reason=header_timeout", "http_request_error");
	/* A head over max_header_size (1024 here): 431. */
	{
		char	big[2048];

		snprintf(big, sizeof(big), "CONNECT 127.0.0.2:443 HTTP/1.1\r\n"
		    "Host: x\r\nX-Pad: %01500d\r\n\r\n", 0);
		expect_answer(&p, send_from(&p, "127.0.0.1", big), 431,
		    "connectproxy; error=http_request_error; details=\"request "
		    "header section too large\"", "head too large");
		expect_record(&p, "reason=header_too_large",
		    "http_request_error");
	}
	/* A fourth tunnel from one client over max_tunnels_per_client. */
	snprintf(target, sizeof(target), "CONNECT 127.0.0.2:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", t.port);
	for (i = 0; i < 3; i++) {
		struct harness_response	r;

		hold[i] = send_from(&p, "127.0.0.3", target);
		EXPECT(&p, harness_recv_head(hold[i], r.head, sizeof(r.head),
		    harness_ms(10000)) > 0 && strncmp(r.head, "HTTP/1.1 200 ",
		    13) == 0, "tunnel %d: %s", i, r.head);
	}
	expect_answer(&p, send_from(&p, "127.0.0.3", target), 429,
	    "connectproxy; error=connection_limit_reached; details=\"too "
	    "many tunnels from this client\"", "over the per-client limit");
	expect_record(&p, "reason=client_limit", "connection_limit_reached");
	for (i = 0; i < 3; i++)
		close(hold[i]);
	/* A tunnel's record has no error. */
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", " status=200 ",
	    conf, sizeof(conf), harness_ms(10000)) == 0 &&
	    strstr(conf, " error=") == NULL, "tunnel record: %s", conf);
	harness_proxy_free(&p);
	harness_kill_wait(pid, 5000);
	harness_target_stop(&t);
	close(held);
}
END_TEST

/*
 * The answers of a proxy that is busy or going: the reserve's 503 when
 * both its workers are taken (when_full reject), a 407 without
 * credentials, and the 503 to a client still sending its head at TERM.
 */
START_TEST(test_busy_and_auth)
{
	struct harness_proxy	p;
	char			conf[1024], dir[HARNESS_PATH_MAX];
	char			users[HARNESS_PATH_MAX + 16];
	int			a, b, auth = harness_bin_has_crypt();

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(users, sizeof(users), "%s/users", dir);
	ck_assert_int_eq(harness_write_file(users, ALICE), 0);
	ck_assert_int_eq(chmod(users, 0600), 0);
	snprintf(conf, sizeof(conf), "workers_start 2\nworkers_min_spare 0\n"
	    "workers_max 2\nwhen_full reject\nheader_timeout 30s\n%s%s\n",
	    auth ? "auth_file " : "", auth ? users : "");
	harness_proxy_up(&p, conf);
	EXPECT(&p, harness_proxy_wait_workers(&p, 2, harness_ms(10000)) == 0,
	    "two workers did not start");
	/*
	 * Both workers, taken by clients whose head is not complete: some
	 * bytes, since the listener hands over no connection before its
	 * first (TCP_DEFER_ACCEPT); and sent before the third connects, so
	 * the workers take them first.
	 */
	a = send_from(&p, "127.0.0.1", "CONNECT 127.0.0.2:443 HTTP/1.1\r\n");
	b = send_from(&p, "127.0.0.1", "CONNECT 127.0.0.2:443 HTTP/1.1\r\n");
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT 127.0.0.2:443 "
	    "HTTP/1.1\r\nHost: x\r\n\r\n"), 503, "connectproxy; "
	    "error=connection_limit_reached; details=\"all workers are busy\"",
	    "pool full");
	expect_record(&p, "reason=pool_full", "connection_limit_reached");
	/* One of them asks, without credentials. */
	ck_assert_int_eq(harness_send_str(a, "Host: x\r\n\r\n"), 0);
	if (auth) {
		expect_answer(&p, a, 407, "connectproxy; "
		    "error=http_request_denied; details=\"proxy "
		    "authentication required\"", "no credentials");
		expect_record(&p, "reason=auth_required",
		    "http_request_denied");
	} else {
		fprintf(stderr, "SKIP %s: 407 (no crypt(3))\n", __func__);
		close(a);
	}
	/* TERM while the other's head is incomplete. */
	ck_assert_int_eq(harness_proxy_signal(&p, SIGTERM), 0);
	expect_answer(&p, b, 503, "connectproxy; "
	    "error=proxy_internal_response; details=\"shutting down\"",
	    "stopping");
	expect_record(&p, "reason=shutdown", "proxy_internal_response");
	harness_proxy_free(&p);
	unlink(users);
	harness_rmdir(dir);
}
END_TEST

/*
 * What the resolver and the network say, in a private namespace with the
 * test's DNS server: a name that does not exist (NXDOMAIN), a resolver
 * with no server (SERVFAIL), one whose server never answers
 * (dns_timeout); an address whose packets vanish (connection_timeout)
 * and one with no route at all.  JSON records here: the key is "error".
 */
START_TEST(test_network_netns)
{
	static const char *const	names[] = { "known.test", NULL };
	struct harness_proxy		p;
	struct harness_target		dns;
	char				line[2048];

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	if (harness_netns_resolv_conf("nameserver 127.0.0.1\n") == -1)
		SKIP("cannot bind a resolv.conf in a mount namespace");
	ck_assert_int_eq(harness_netns_blackhole("198.51.100.1/24"), 0);
	ck_assert_int_eq(harness_dns_start(&dns, names, "127.0.0.5"), 0);
	harness_proxy_up(&p, "connect_timeout 500ms\nworkers_start 2\n"
	    "access_log_format json\n");
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT nope.test:443 "
	    "HTTP/1.1\r\nHost: x\r\n\r\n"), 502, "connectproxy; "
	    "error=dns_error; rcode=\"NXDOMAIN\"; details=\"name does not "
	    "resolve\"", "NXDOMAIN");
	EXPECT(&p, harness_proxy_wait_log(&p, "\"target\":\"nope.test:443\"",
	    "\"error\":\"dns_error\"", line, sizeof(line), harness_ms(10000))
	    == 0, "no JSON record with error dns_error");
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT "
	    "198.51.100.7:443 HTTP/1.1\r\nHost: x\r\n\r\n"), 504,
	    "connectproxy; error=connection_timeout; details=\"connect timed "
	    "out\"", "packets vanish");
	EXPECT(&p, harness_proxy_wait_log(&p, "\"reason\":\"connect_timeout\"",
	    "\"error\":\"connection_timeout\"", NULL, 0, harness_ms(10000)) ==
	    0, "no JSON record with error connection_timeout");
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT "
	    "203.0.113.9:443 HTTP/1.1\r\nHost: x\r\n\r\n"), 502,
	    "connectproxy; error=destination_ip_unroutable; details=\"connect "
	    "failed\"", "no route");
	EXPECT(&p, harness_proxy_wait_log(&p, "\"target\":\"203.0.113.9:443\"",
	    "\"error\":\"destination_ip_unroutable\"", NULL, 0,
	    harness_ms(10000)) == 0, "no JSON record with error "
	    "destination_ip_unroutable");
	/* No server on 127.0.0.1:53 any more. */
	harness_target_stop(&dns);
	expect_answer(&p, send_from(&p, "127.0.0.1", "CONNECT gone.test:443 "
	    "HTTP/1.1\r\nHost: x\r\n\r\n"), 502, "connectproxy; "
	    "error=dns_error; rcode=\"SERVFAIL\"; details=\"name resolution "
	    "failed\"", "no DNS server");
	EXPECT(&p, harness_proxy_wait_log(&p, "\"target\":\"gone.test:443\"",
	    "\"error\":\"dns_error\"", NULL, 0, harness_ms(10000)) == 0,
	    "no JSON record of gone.test with error dns_error");
	harness_proxy_free(&p);
	/* A server whose packets vanish: the resolver waits 1 s. */
	ck_assert_int_eq(harness_write_file("/etc/resolv.conf", "nameserver "
	    "198.51.100.53\noptions timeout:1 attempts:1\n"), 0);
	harness_proxy_up(&p, "connect_timeout 300ms\nworkers_start 2\n");
	connect_case(&p, "slow.test:443", 504, "connectproxy; "
	    "error=dns_timeout; details=\"name resolution timed out\"",
	    "dns_timeout");
	harness_proxy_free(&p);
}
END_TEST

/*
 * A chain of parents: the answer names one parent (next-hop) and says
 * what went wrong with that one, not with another.  Before, the errno of
 * a 502 was the most telling of all the parents' (a refusal by the
 * first, named with the second, which had closed), and every 504 said
 * connection_timeout, also for a parent that took the connection and
 * never answered (connection_read_timeout) and with the last parent as
 * next-hop even when that one had refused.
 */
START_TEST(test_parent_chain)
{
	struct harness_proxy	p;
	char			conf[1024], ps[256];
	int			refuses, held, closes, silent, lfd;
	pid_t			pid;

	ck_assert_int_ne(refuses = harness_closed_port(AF_INET, &held), -1);
	pid = fake_parent(&closes, "");
	/* A parent whose backlog takes the connection, and nothing more. */
	ck_assert_int_ne(lfd = harness_bind("127.0.0.1", 0, &silent), -1);
	ck_assert_int_eq(listen(lfd, 8), 0);
	snprintf(conf, sizeof(conf), "workers_start 2\nconnect_timeout 1s\n"
	    "upstream 127.0.0.1:%d for two.test\n"
	    "upstream 127.0.0.1:%d for two.test\n"
	    "upstream 127.0.0.1:%d for late.test silent.test\n"
	    "upstream 127.0.0.1:%d for late.test\n", refuses, closes, silent,
	    refuses);
	harness_proxy_up(&p, conf);
	snprintf(ps, sizeof(ps), "connectproxy; error=connection_terminated; "
	    "next-hop=\"127.0.0.1:%d\"; details=\"upstream proxy failed\"",
	    closes);
	connect_case(&p, "two.test:443", 502, ps, "connection_terminated");
	snprintf(ps, sizeof(ps), "connectproxy; "
	    "error=connection_read_timeout; next-hop=\"127.0.0.1:%d\"; "
	    "details=\"upstream proxy timed out\"", silent);
	connect_case(&p, "silent.test:443", 504, ps,
	    "connection_read_timeout");
	connect_case(&p, "late.test:443", 504, ps, "connection_read_timeout");
	harness_proxy_free(&p);
	harness_kill_wait(pid, 5000);
	close(lfd);
	close(held);
}
END_TEST

Suite *
proxy_status_suite(void)
{
	Suite	*s = suite_create("proxystatus");
	TCase	*tc = harness_tcase(s, "answers", 60);

	tcase_add_test(tc, test_refusals);
	tcase_add_test(tc, test_busy_and_auth);
	tcase_add_test(tc, test_network_netns);
	tcase_add_test(tc, test_parent_chain);
	return s;
}
