/* SPDX-License-Identifier: ISC */
/*
 * End-to-end tests of the PROXY protocol: the real binary with a
 * proxy_protocol listener on loopback, raw sockets as the balancer
 * (127.0.0.1, the only proxy_protocol_from) and as peers that are not
 * one (127.0.0.2): v1 and v2 headers, the header's client judged by
 * allow_client and counted by the per-client limit, its record with
 * via=, and every way a header can fail closing the connection without
 * a byte.  Then HAProxy itself in front of two instances, when it is
 * installed.
 */
#include <sys/socket.h>
#include <sys/wait.h>

#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
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

#define CONF_MAX	2048
#define REQ_MAX		512
#define V2SIG		"\r\n\r\n\0\r\nQUIT\n"
#define BALANCER	"127.0.0.1"
#define STRANGER	"127.0.0.2"	/* not in proxy_protocol_from */
#define ALLOWED		"10.1.2.3"	/* in allow_client */
#define ALLOWED2	"10.1.2.4"
#define DENIED		"10.9.9.9"	/* not in allow_client */
#define DROPPED		"dropped without an answer"

/*
 * A proxy with its harness listener (plain) and a proxy_protocol one,
 * both on 127.0.0.1, and an echo target.  Clients are allowed from
 * 10.1.0.0/16, 2001:db8::/32 and 127.0.0.3 only: not from the balancer,
 * so that a 200 through it proves the header's client was judged.
 */
struct pp {
	struct harness_proxy	p;
	struct harness_target	t;
	int			pport;		/* the proxy_protocol listener */
};

static void
pp_up(struct pp *e, const char *extra)
{
	char	conf[CONF_MAX];

	ck_assert_int_eq(harness_target_start(&e->t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	ck_assert_int_ne(e->pport = harness_free_port(AF_INET), -1);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d proxy_protocol\n"
	    "proxy_protocol_from " BALANCER "\n"
	    "allow_client 10.1.0.0/16 2001:db8::/32 127.0.0.3\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\n%s",
	    e->pport, e->t.port, extra);
	EXPECT(&e->p, harness_proxy_start(&e->p, conf) == 0 &&
	    harness_wait_listen(e->pport, harness_ms(5000)) == 0,
	    "proxy did not start listening (%s, status %d)", harness_bin(),
	    e->p.status);
}

static void
pp_down(struct pp *e)
{
	harness_proxy_free(&e->p);
	harness_target_stop(&e->t);
}

/* The CONNECT request to the echo target. */
static size_t
connect_req(const struct pp *e, char *buf, size_t len)
{
	return (size_t)snprintf(buf, len, "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", e->t.port, e->t.port);
}

/* A v1 header for TCP4 client src:sport, to the proxy_protocol port. */
static size_t
v1_header(const struct pp *e, const char *src, int sport, char *buf,
    size_t len)
{
	return (size_t)snprintf(buf, len, "PROXY TCP4 %s 127.0.0.1 %d %d\r\n",
	    src, sport, e->pport);
}

/* A v2 PROXY header for client addr (4 or 16 bytes):sport, TLV and all. */
static size_t
v2_header(int family, const void *addr, int sport, char *buf)
{
	size_t	alen = family == AF_INET ? 4 : 16, blen = 2 * alen + 4 + 6;

	memcpy(buf, V2SIG, 12);
	buf[12] = 0x21;
	buf[13] = family == AF_INET ? 0x11 : 0x21;
	buf[14] = (char)(blen >> 8);
	buf[15] = (char)blen;
	memcpy(buf + 16, addr, alen);
	memset(buf + 16 + alen, 0x7f, alen);	/* the destination */
	buf[16 + 2 * alen] = (char)(sport >> 8);
	buf[17 + 2 * alen] = (char)sport;
	buf[18 + 2 * alen] = 0x0c;
	buf[19 + 2 * alen] = 0x38;
	/* A NOOP TLV, as a balancer may pad with. */
	memcpy(buf + 20 + 2 * alen, "\x04\x00\x03xyz", 6);
	return 16 + blen;
}

/* Send bytes from `src` to the proxy_protocol port; the fd. */
static int
send_from(const struct pp *e, const char *src, const void *buf, size_t len)
{
	int	fd;

	fd = harness_connect_from(src, e->pport, harness_ms(5000));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(harness_send(fd, buf, len), 0);
	return fd;
}

/* The response status on fd (0 when none came). */
static int
status_of(int fd)
{
	struct harness_response	r;

	if (harness_read_response(fd, &r, harness_ms(10000)) == -1)
		return 0;
	return r.status;
}

/* A v1 header and the request in one segment, from the balancer. */
static int
v1_tunnel(const struct pp *e, const char *client, int sport, int *status)
{
	char	buf[REQ_MAX];
	size_t	n;
	int	fd;

	n = v1_header(e, client, sport, buf, sizeof(buf));
	n += connect_req(e, buf + n, sizeof(buf) - n);
	fd = send_from(e, BALANCER, buf, n);
	*status = status_of(fd);
	return fd;
}

/* The access record whose client is `client` into line; 0 or -1. */
static int
record_of(const struct pp *e, const char *client, char *line, size_t len)
{
	char	key[128];

	snprintf(key, sizeof(key), "client=%s ", client);
	return harness_proxy_wait_log(&e->p, "access ", key, line, len,
	    harness_ms(10000));
}

/* Expect the connection closed with not one byte sent back. */
static void
expect_silence(const struct pp *e, int fd, const char *what)
{
	ssize_t	n = harness_wait_eof(fd, harness_ms(10000));

	EXPECT(&e->p, n == 0, "%s: %zd bytes or no close", what, n);
	close(fd);
}

/*
 * v1, header and request in one segment: the tunnel carries bytes, the
 * record names the header's client and the balancer; the per-client
 * limit counts the header's client, not the balancer they share.
 */
START_TEST(test_v1_tunnel)
{
	struct pp	e;
	char		line[1024], via[64];
	int		a, b, c, st;

	pp_up(&e, "max_tunnels_per_client 1\n");
	a = v1_tunnel(&e, ALLOWED, 40001, &st);
	EXPECT(&e.p, st == 200, "v1 tunnel: status %d", st);
	harness_echo_roundtrip(&e.p, a, "through the balancer");
	b = v1_tunnel(&e, ALLOWED, 40002, &st);
	EXPECT(&e.p, st == 429, "second tunnel of one client: status %d", st);
	c = v1_tunnel(&e, ALLOWED2, 40003, &st);
	EXPECT(&e.p, st == 200, "another client: status %d", st);
	close(a);
	close(b);
	close(c);
	EXPECT(&e.p, record_of(&e, ALLOWED ":40001", line, sizeof(line)) == 0,
	    "no record for " ALLOWED ":40001");
	EXPECT(&e.p, harness_field(line, "via", via, sizeof(via)) == 0 &&
	    strncmp(via, BALANCER ":", strlen(BALANCER) + 1) == 0,
	    "via: %s", line);
	EXPECT(&e.p, harness_field_num(line, "status") == 200 &&
	    harness_field_num(line, "bytes_up") == 20, "record: %s", line);
	EXPECT(&e.p, record_of(&e, ALLOWED ":40002", line, sizeof(line)) ==
	    0 && strstr(line, "reason=client_limit") != NULL,
	    "no client_limit record for " ALLOWED ":40002");
	pp_down(&e);
}
END_TEST

/*
 * v2, IPv4 and IPv6 clients, the header sent before the request in its
 * own write; a LOCAL header (a health check) keeps the balancer as the
 * client, which allow_client refuses here.
 */
START_TEST(test_v2_tunnel)
{
	static const unsigned char	v4[4] = { 10, 1, 2, 5 };
	static const unsigned char	v6[16] = { 0x20, 0x01, 0x0d, 0xb8,
					    [15] = 0x05 };
	struct pp			e;
	char				hdr[REQ_MAX], req[REQ_MAX], line[1024];
	size_t				n;
	int				fd;

	pp_up(&e, "");
	n = v2_header(AF_INET, v4, 40100, hdr);
	fd = send_from(&e, BALANCER, hdr, n);
	ck_assert_int_eq(harness_send(fd, req, connect_req(&e, req,
	    sizeof(req))), 0);
	EXPECT(&e.p, status_of(fd) == 200, "v2 IPv4 tunnel refused");
	harness_echo_roundtrip(&e.p, fd, "v2 over IPv4");
	close(fd);
	EXPECT(&e.p, record_of(&e, "10.1.2.5:40100", line, sizeof(line)) ==
	    0 && strstr(line, " via=" BALANCER ":") != NULL,
	    "no record for 10.1.2.5:40100 via " BALANCER);

	n = v2_header(AF_INET6, v6, 40101, hdr);
	fd = send_from(&e, BALANCER, hdr, n);
	ck_assert_int_eq(harness_send(fd, req, connect_req(&e, req,
	    sizeof(req))), 0);
	EXPECT(&e.p, status_of(fd) == 200, "v2 IPv6 tunnel refused");
	harness_echo_roundtrip(&e.p, fd, "v2 over IPv6");
	close(fd);
	EXPECT(&e.p, record_of(&e, "[2001:db8::5]:40101", line,
	    sizeof(line)) == 0, "no record for [2001:db8::5]:40101");

	memcpy(hdr, V2SIG "\x20\x00\x00\x00", 16);
	n = 16 + connect_req(&e, hdr + 16, sizeof(hdr) - 16);
	fd = send_from(&e, BALANCER, hdr, n);
	EXPECT(&e.p, status_of(fd) == 403, "LOCAL: the balancer not refused");
	close(fd);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "access ", "client="
	    BALANCER ":", line, sizeof(line), harness_ms(10000)) == 0 &&
	    strstr(line, "reason=client_denied") != NULL,
	    "no client_denied record for the LOCAL connection");
	pp_down(&e);
}
END_TEST

/* allow_client judges the header's client, though all come from one. */
START_TEST(test_allow_client)
{
	struct pp	e;
	char		line[1024];
	int		fd, st;

	pp_up(&e, "");
	fd = v1_tunnel(&e, DENIED, 40200, &st);
	EXPECT(&e.p, st == 403, "denied client: status %d", st);
	close(fd);
	fd = v1_tunnel(&e, ALLOWED, 40201, &st);
	EXPECT(&e.p, st == 200, "allowed client: status %d", st);
	close(fd);
	EXPECT(&e.p, record_of(&e, DENIED ":40200", line, sizeof(line)) == 0 &&
	    strstr(line, "reason=client_denied") != NULL &&
	    strstr(line, " via=" BALANCER ":") != NULL,
	    "no client_denied record for " DENIED);
	pp_down(&e);
}
END_TEST

/*
 * A peer outside proxy_protocol_from gets nothing, whatever it sends;
 * one line names it.  Nothing is recorded for it.
 */
START_TEST(test_stranger)
{
	struct pp	e;
	char		buf[REQ_MAX], want[128];
	size_t		n;
	int		fd;

	pp_up(&e, "");
	n = v1_header(&e, ALLOWED, 40300, buf, sizeof(buf));
	n += connect_req(&e, buf + n, sizeof(buf) - n);
	fd = send_from(&e, STRANGER, buf, n);
	expect_silence(&e, fd, "a forged header");
	snprintf(want, sizeof(want), "connection from " STRANGER ":");
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, want, DROPPED ": not in "
	    "proxy_protocol_from", NULL, 0, harness_ms(10000)) == 0,
	    "no line for the stranger");
	EXPECT(&e.p, harness_proxy_count_log(&e.p, "access ") == 0,
	    "a record for a dropped connection");
	pp_down(&e);
}
END_TEST

/*
 * From the balancer, a header that is not one, one that never ends and
 * none at all are each closed without a byte, at once or at
 * header_timeout, with one line each; a header on the plain listener
 * is just a bad request.
 */
START_TEST(test_bad_headers)
{
	struct pp	e;
	char		buf[REQ_MAX];
	int		garbage, slow, none, plain;
	long long	t0;
	size_t		n;

	pp_up(&e, "header_timeout 500ms\n");
	t0 = harness_now_ms();
	n = connect_req(&e, buf, sizeof(buf));
	garbage = send_from(&e, BALANCER, buf, n);
	slow = send_from(&e, BALANCER, "PROXY TCP4 10.1", 15);
	none = harness_connect_from(BALANCER, e.pport, harness_ms(5000));
	ck_assert_int_ne(none, -1);
	expect_silence(&e, garbage, "a request without a header");
	expect_silence(&e, slow, "an unfinished header");
	expect_silence(&e, none, "no header");
	EXPECT(&e.p, harness_now_ms() - t0 >= 450, "closed before "
	    "header_timeout");
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, DROPPED, "not a PROXY "
	    "header", NULL, 0, harness_ms(10000)) == 0, "no line for garbage");
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, DROPPED, "no complete "
	    "header within header_timeout", NULL, 0, harness_ms(10000)) == 0,
	    "no line for the unfinished header");
	EXPECT(&e.p, harness_proxy_count_log(&e.p, "no complete header "
	    "within header_timeout") == 2, "not one line each");

	n = v1_header(&e, ALLOWED, 40400, buf, sizeof(buf));
	n += connect_req(&e, buf + n, sizeof(buf) - n);
	plain = harness_connect_from("127.0.0.3", e.p.port, harness_ms(5000));
	ck_assert_int_ne(plain, -1);
	ck_assert_int_eq(harness_send(plain, buf, n), 0);
	EXPECT(&e.p, status_of(plain) == 400, "header on a plain listener");
	close(plain);
	pp_down(&e);
}
END_TEST

/*
 * With every worker busy, the when_full reserve reads the header too:
 * its 503 is recorded for the header's client, and a stranger still
 * gets nothing.
 */
START_TEST(test_reserve)
{
	struct pp	e;
	char		line[1024], buf[REQ_MAX];
	size_t		n;
	int		a, b, st;

	pp_up(&e, "workers_start 1\nworkers_min_spare 0\nworkers_max 1\n"
	    "when_full reject\n");
	a = v1_tunnel(&e, ALLOWED, 40700, &st);
	EXPECT(&e.p, st == 200, "the one worker: status %d", st);
	b = v1_tunnel(&e, ALLOWED2, 40701, &st);
	EXPECT(&e.p, st == 503, "pool full: status %d", st);
	close(b);
	EXPECT(&e.p, record_of(&e, ALLOWED2 ":40701", line, sizeof(line)) ==
	    0 && strstr(line, "reason=pool_full") != NULL &&
	    strstr(line, " via=" BALANCER ":") != NULL,
	    "no pool_full record for " ALLOWED2 ":40701");
	n = v1_header(&e, ALLOWED, 40702, buf, sizeof(buf));
	n += connect_req(&e, buf + n, sizeof(buf) - n);
	expect_silence(&e, send_from(&e, STRANGER, buf, n),
	    "a stranger at the reserve");
	close(a);
	pp_down(&e);
}
END_TEST

/*
 * HAProxy's v1 health check: a header naming its own connection
 * (source, the balancer and this socket's port), then the close.
 */
static void
own_check(const struct pp *e)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			buf[REQ_MAX];
	size_t			n;
	int			fd;

	fd = harness_connect_from(BALANCER, e->pport, harness_ms(5000));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	n = v1_header(e, BALANCER, ntohs(sin.sin_port), buf, sizeof(buf));
	ck_assert_int_eq(harness_send(fd, buf, n), 0);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	expect_silence(e, fd, "a v1 health check");
}

/*
 * A balancer's health checks, a header then the close: v2 LOCAL (what
 * HAProxy sends), v1 UNKNOWN, and a v1 header naming the check's own
 * connection (what HAProxy sends with send-proxy).  From a balancer
 * that allow_client does not name, each is closed without an answer or
 * a record, not refused and recorded as a client_denied every few
 * seconds.  A request after LOCAL is still refused (test_v2_tunnel).
 */
START_TEST(test_health_check)
{
	struct pp	e;
	char		line[1024];
	int		fd, st;

	pp_up(&e, "");
	fd = send_from(&e, BALANCER, V2SIG "\x20\x00\x00\x00", 16);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	expect_silence(&e, fd, "a LOCAL health check");
	fd = send_from(&e, BALANCER, "PROXY UNKNOWN\r\n", 15);
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	expect_silence(&e, fd, "an UNKNOWN health check");
	own_check(&e);
	fd = v1_tunnel(&e, ALLOWED, 40800, &st);
	EXPECT(&e.p, st == 200, "after the checks: status %d", st);
	close(fd);
	EXPECT(&e.p, record_of(&e, ALLOWED ":40800", line, sizeof(line)) ==
	    0, "no record for " ALLOWED ":40800");
	EXPECT(&e.p, harness_proxy_count_log(&e.p, "reason=client_denied") ==
	    0, "a health check recorded as a client_denied");
	pp_down(&e);
}
END_TEST

/* proxy_protocol without proxy_protocol_from: refused, at its line. */
START_TEST(test_config_refused)
{
	struct harness_proxy	p;
	char			conf[256], want[512];
	int			port = harness_free_port(AF_INET);

	snprintf(conf, sizeof(conf), "workers_start 1\n"
	    "listen 127.0.0.1:%d proxy_protocol\n", port);
	ck_assert_int_eq(harness_proxy_spawn(&p, conf), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "the proxy did not exit");
	EXPECT(&p, WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1,
	    "wait status 0x%x, expected exit 1", p.status);
	snprintf(want, sizeof(want), "%s:2: listen 127.0.0.1:%d "
	    "proxy_protocol: no proxy_protocol_from names the balancers that "
	    "may send the header", p.conf, port);
	EXPECT(&p, harness_proxy_count_log(&p, want) == 1, "no \"%s\"", want);
	harness_proxy_free(&p);
}
END_TEST

/*
 * A socket systemd passes takes proxy_protocol from the listen line with
 * its address: the header's client is served, a request without one is
 * dropped unanswered.
 */
START_TEST(test_activation)
{
	struct pp	e;
	char		conf[CONF_MAX], line[1024], req[REQ_MAX];
	int		fd, st;

	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	ck_assert_int_ne(fd = harness_bind(BALANCER, 0, &e.pport), -1);
	ck_assert_int_eq(listen(fd, 16), 0);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d proxy_protocol\n"
	    "proxy_protocol_from " BALANCER "\nallow_client 10.1.0.0/16\n"
	    "allow_dest 127.0.0.0/8\nallow_port %d\nworkers_start 1\n",
	    e.pport, e.t.port);
	/* Spawned only for its files; started again below, activated. */
	ck_assert_int_eq(harness_proxy_spawn(&e.p, "bogus\n"), 0);
	ck_assert_int_eq(harness_proxy_wait_exit(&e.p, harness_ms(10000)), 0);
	ck_assert_int_eq(harness_write_file(e.p.conf, conf), 0);
	ck_assert_int_eq(harness_write_file(e.p.log, ""), 0);
	ck_assert_int_gt(e.p.pid = harness_proxy_spawn_activated(&e.p, fd), 0);
	close(fd);
	e.p.port = e.pport;
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "started 1 workers", NULL,
	    NULL, 0, harness_ms(10000)) == 0, "the activated proxy did not "
	    "start");
	fd = v1_tunnel(&e, ALLOWED, 40600, &st);
	EXPECT(&e.p, st == 200, "activated socket: status %d", st);
	close(fd);
	EXPECT(&e.p, record_of(&e, ALLOWED ":40600", line, sizeof(line)) ==
	    0 && strstr(line, " via=" BALANCER ":") != NULL,
	    "no record for " ALLOWED ":40600 via " BALANCER);
	expect_silence(&e, send_from(&e, BALANCER, req, connect_req(&e, req,
	    sizeof(req))), "a request without a header");
	pp_down(&e);
}
END_TEST

/* --- HAProxy in front of two instances --------------------------- */

/* haproxy from $PATH, or where Debian puts it (often not in a PATH). */
static const char *
haproxy_bin(void)
{
	if (harness_have("haproxy"))
		return "haproxy";
	if (access("/usr/sbin/haproxy", X_OK) == 0)
		return "/usr/sbin/haproxy";
	return NULL;
}

/*
 * HAProxy in the foreground (-db) with its own configuration in `dir`:
 * one frontend per instance, so that the test knows which instance a
 * connection reaches (a real one balances one frontend over both: see
 * the man page).  The servers get the header each way and health checks
 * as the man page shows them.  Returns its pid, or -1.
 */
static pid_t
haproxy_start(const char *dir, const int front[2], const int back[2])
{
	char	conf[HARNESS_PATH_MAX + 32], log[HARNESS_PATH_MAX + 32];
	char	text[CONF_MAX];
	char	*argv[] = { (char *)haproxy_bin(), "-db", "-f", conf, NULL };
	pid_t	pid;

	snprintf(conf, sizeof(conf), "%s/haproxy.cfg", dir);
	snprintf(log, sizeof(log), "%s/haproxy.log", dir);
	snprintf(text, sizeof(text), "global\n\tmaxconn 64\n"
	    "defaults\n\tmode tcp\n\ttimeout connect 5s\n"
	    "\ttimeout client 30s\n\ttimeout server 30s\n"
	    "frontend fa\n\tbind 127.0.0.1:%d\n\tdefault_backend ba\n"
	    "backend ba\n\tserver a 127.0.0.1:%d send-proxy-v2 check\n"
	    "frontend fb\n\tbind 127.0.0.1:%d\n\tdefault_backend bb\n"
	    "backend bb\n\tserver b 127.0.0.1:%d send-proxy check\n",
	    front[0], back[0], front[1], back[1]);
	if (harness_write_file(conf, text) == -1 ||
	    (pid = harness_spawn(argv, log)) == -1)
		return -1;
	if (harness_wait_listen(front[0], harness_ms(10000)) == -1 ||
	    harness_wait_listen(front[1], harness_ms(10000)) == -1) {
		harness_kill_wait(pid, 3000);
		return -1;
	}
	return pid;
}

/* CONNECT through the frontend at port from client address src. */
static int
balanced_tunnel(const struct pp *e, const char *src, int port, int *status)
{
	char	req[REQ_MAX];
	int	fd;

	fd = harness_connect_from(src, port, harness_ms(5000));
	EXPECT(&e->p, fd != -1, "connect to HAProxy port %d", port);
	ck_assert_int_eq(harness_send(fd, req, connect_req(e, req,
	    sizeof(req))), 0);
	*status = status_of(fd);
	return fd;
}

/*
 * Two instances behind HAProxy, one sent v2 headers, the other v1:
 * through it, tunnels carry bytes on both, an allowed client gets 200
 * and a denied one 403 though HAProxy connects for both, and both
 * instances' records name the real clients.  A forged header straight
 * from a stranger still gets nothing.
 */
START_TEST(test_haproxy)
{
	struct pp	e[2];
	char		dir[HARNESS_PATH_MAX], line[1024], buf[REQ_MAX];
	char		extra[128], url[64], out[16384];
	char		*curl[] = { (char *)"curl", (char *)"-sS", (char *)"-f",
	    (char *)"--max-time", (char *)"10", url, NULL };
	int		front[2], back[2], mport[2], i, fd, st;
	pid_t		ha;
	size_t		n;

	if (haproxy_bin() == NULL)
		SKIP("haproxy not installed (apt-get install haproxy)");
	for (i = 0; i < 2; i++) {
		ck_assert_int_ne(mport[i] = harness_free_port(AF_INET), -1);
		snprintf(extra, sizeof(extra), "allow_client 127.0.0.10\n"
		    "metrics_listen 127.0.0.1:%d\n", mport[i]);
		pp_up(&e[i], extra);
		back[i] = e[i].pport;
		ck_assert_int_ne(front[i] = harness_free_port(AF_INET), -1);
	}
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	if ((ha = haproxy_start(dir, front, back)) == -1) {
		for (i = 0; i < 2; i++)
			pp_down(&e[i]);
		harness_rmdir(dir);
		SKIP("haproxy cannot be run");
	}
	for (i = 0; i < 2; i++) {
		fd = balanced_tunnel(&e[i], "127.0.0.10", front[i], &st);
		EXPECT(&e[i].p, st == 200, "instance %d: allowed client got "
		    "%d", i, st);
		harness_echo_roundtrip(&e[i].p, fd, "through HAProxy");
		close(fd);
		fd = balanced_tunnel(&e[i], "127.0.0.11", front[i], &st);
		EXPECT(&e[i].p, st == 403, "instance %d: denied client got %d",
		    i, st);
		close(fd);
		EXPECT(&e[i].p, harness_proxy_wait_log(&e[i].p, "access ",
		    "client=127.0.0.10:", line, sizeof(line),
		    harness_ms(10000)) == 0 && harness_field_num(line,
		    "status") == 200 && strstr(line, " via=127.0.0.1:") != NULL,
		    "instance %d: no record of 127.0.0.10 via HAProxy", i);
		EXPECT(&e[i].p, harness_proxy_wait_log(&e[i].p, "access ",
		    "client=127.0.0.11:", line, sizeof(line),
		    harness_ms(10000)) == 0 && strstr(line,
		    "reason=client_denied") != NULL,
		    "instance %d: no client_denied record of 127.0.0.11", i);
		/* What Prometheus would scrape from each instance. */
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/metrics",
		    mport[i]);
		EXPECT(&e[i].p, harness_run(curl, NULL, out, sizeof(out),
		    10000) == 0 && strstr(out, "connectproxy_tunnels_total"
		    "{status=\"200\"} 1\n") != NULL && strstr(out,
		    "connectproxy_tunnels_total{status=\"403\"} ") != NULL,
		    "instance %d: metrics endpoint: %.300s", i, out);
	}
	n = v1_header(&e[0], "127.0.0.10", 40500, buf, sizeof(buf));
	n += connect_req(&e[0], buf + n, sizeof(buf) - n);
	expect_silence(&e[0], send_from(&e[0], STRANGER, buf, n),
	    "a forged header beside HAProxy");
	harness_kill_wait(ha, 3000);
	for (i = 0; i < 2; i++)
		pp_down(&e[i]);
	harness_rmdir(dir);
}
END_TEST

Suite *
proxyproto_e2e_suite(void)
{
	Suite	*s = suite_create("proxyproto");
	TCase	*tc;

	tc = harness_tcase(s, "proxy_protocol", 30);
	tcase_add_test(tc, test_v1_tunnel);
	tcase_add_test(tc, test_v2_tunnel);
	tcase_add_test(tc, test_allow_client);
	tcase_add_test(tc, test_stranger);
	tcase_add_test(tc, test_bad_headers);
	tcase_add_test(tc, test_config_refused);
	tcase_add_test(tc, test_reserve);
	tcase_add_test(tc, test_activation);
	tcase_add_test(tc, test_haproxy);
	tcase_add_test(tc, test_health_check);
	return s;
}
