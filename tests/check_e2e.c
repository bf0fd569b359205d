/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite: the real binary ($CONNECTPROXY_BIN) on a loopback
 * port with its own config per test, driven by curl, openssl s_client and
 * raw sockets against target servers started by the harness.  Tests that
 * need addresses other than loopback run in a private network namespace.
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <errno.h>
#include <poll.h>
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

/* Fail with the proxy's log on stderr, so the report says what it did. */
#define MIB		(1024 * 1024)
#define NTUNNELS	200
#define CONF_MAX	1024
#define ESTABLISHED	"HTTP/1.1 200 Connection established\r\n"

/* Start a proxy with `conf`, failing the test (with its log) if it can't. */
/* A target on loopback and a proxy allowed to reach it, plus `extra`. */
static void
setup_pair(struct harness_proxy *p, struct harness_target *t,
    enum harness_target_mode mode, size_t count, const char *extra)
{
	char	conf[CONF_MAX];

	ck_assert_msg(harness_target_start(t, AF_INET, NULL, 0, mode,
	    count) == 0, "cannot start target: %s", strerror(errno));
	if (extra == NULL)
		extra = "";
	/* workers_start is single-valued: a default only when not given. */
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n%s%s\n", t->port,
	    strstr(extra, "workers_start") ? "" : "workers_start 4\n", extra);
	harness_proxy_up(p, conf);
}

static void
teardown_pair(struct harness_proxy *p, struct harness_target *t)
{
	harness_proxy_free(p);
	harness_target_stop(t);
}

static int
tunnel_to(const struct harness_proxy *p, const struct harness_target *t,
    const char *early)
{
	char	target[96];
	int	fd, status;

	if (t->family == AF_INET6)
		snprintf(target, sizeof(target), "[%s]:%d", t->addr, t->port);
	else
		snprintf(target, sizeof(target), "%s:%d", t->addr, t->port);
	fd = harness_tunnel(p->port, target, early, &status,
	    harness_ms(10000));
	EXPECT(p, fd != -1, "CONNECT %s: expected 200, saw %d", target,
	    status);
	return fd;
}

/* The access record for the tunnel to `port` (waits for it). */
static void
access_line(const struct harness_proxy *p, int port, char *line, size_t len)
{
	char	needle[64];
	int	rc;

	snprintf(needle, sizeof(needle), ":%d ", port);
	rc = harness_proxy_wait_log(p, "access ", needle, line, len,
	    harness_ms(10000));
	EXPECT(p, rc == 0, "no access record with target port %d", port);
}

/*
 * Send and receive patterned bytes at once until `out` were sent and
 * `in` received (checking each byte), within timeout_ms.  Returns the
 * offset of the first bad received byte, or -1 when all is well, or -2
 * on timeout/EOF.
 */
static long long
pump(int fd, size_t out, size_t in, int timeout_ms)
{
	static unsigned char	buf[65536];
	long long		deadline = harness_now_ms() + timeout_ms;
	size_t			sent = 0, got = 0, c;
	ssize_t			n;

	while (sent < out || got < in) {
		struct pollfd pfd = { .fd = fd, .events =
		    (got < in ? POLLIN : 0) | (sent < out ? POLLOUT : 0) };
		if (harness_now_ms() >= deadline || poll(&pfd, 1, 1000) == -1)
			return -2;
		if (sent < out && (pfd.revents & POLLOUT)) {
			c = out - sent < 16384 ? out - sent : 16384;
			harness_pattern_fill(buf, c, sent);
			n = send(fd, buf, c, MSG_DONTWAIT | MSG_NOSIGNAL);
			if (n == -1 && errno != EAGAIN)
				return -2;
			sent += n > 0 ? (size_t)n : 0;
		}
		if (got < in && (pfd.revents & (POLLIN | POLLHUP | POLLERR))) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n == 0 || (n == -1 && errno != EAGAIN))
				return -2;
			if (n < 0)
				continue;
			c = harness_pattern_check(buf, (size_t)n, got);
			if (c != (size_t)-1)
				return (long long)(got + c);
			got += (size_t)n;
		}
	}
	return -1;
}

/* Check a refusal: status, framing, close.  Reads from fd. */
static void
expect_refusal(const struct harness_proxy *p, int fd, int want,
    const char *what)
{
	struct harness_response	r;
	char			val[64];
	ssize_t			rest;

	EXPECT(p, harness_read_response(fd, &r, harness_ms(15000)) == 0,
	    "%s: no response (expected %d)", what, want);
	EXPECT(p, r.status == want, "%s: expected %d, saw \"%.*s\"", what,
	    want, (int)strcspn(r.head, "\r\n"), r.head);
	EXPECT(p, strncmp(r.head, "HTTP/1.1 ", 9) == 0,
	    "%s: status line \"%.40s\"", what, r.head);
	EXPECT(p, harness_header(r.head, "Connection", val, sizeof(val)) == 0
	    && strcmp(val, "close") == 0, "%s: no Connection: close", what);
	EXPECT(p, r.content_length >= 0 && (size_t)r.content_length ==
	    r.body_len, "%s: Content-Length %ld but body %zu", what,
	    r.content_length, r.body_len);
	EXPECT(p, harness_header(r.head, "Content-Type", val, sizeof(val))
	    == 0 && strncmp(val, "text/plain", 10) == 0,
	    "%s: Content-Type not text/plain", what);
	EXPECT(p, harness_header(r.head, "Date", val, sizeof(val)) == 0,
	    "%s: no Date", what);
	if (want == 405)
		EXPECT(p, harness_header(r.head, "Allow", val, sizeof(val))
		    == 0 && strcmp(val, "CONNECT") == 0,
		    "%s: 405 without Allow: CONNECT", what);
	rest = harness_wait_eof(fd, harness_ms(10000));
	EXPECT(p, rest == 0, "%s: connection not closed after the %d "
	    "(%zd more bytes or timeout)", what, want, rest);
}

static void
expect_untouched(const struct harness_proxy *p, struct harness_target *t,
    const char *what)
{
	int	rc;

	rc = harness_target_untouched(t);
	EXPECT(p, rc == 1, "%s: target %s:%d was contacted (probe %d)", what,
	    t->addr, t->port, rc);
}

/* TLS: a self-signed certificate and an openssl s_server -www. */

struct tls_server {
	char	dir[HARNESS_PATH_MAX];
	char	cert[HARNESS_PATH_MAX + 16];
	char	key[HARNESS_PATH_MAX + 16];
	char	log[HARNESS_PATH_MAX + 16];
	int	port;
	pid_t	pid;
};

static int
tls_start(struct tls_server *s)
{
	char	out[4096], accept[64];
	char	*req[] = { "openssl", "req", "-x509", "-newkey", "rsa:2048",
	    "-nodes", "-keyout", s->key, "-out", s->cert, "-subj",
	    "/CN=localhost", "-days", "1", NULL };
	char	*srv[] = { "openssl", "s_server", "-accept", accept, "-cert",
	    s->cert, "-key", s->key, "-www", NULL };
	int	st;

	memset(s, 0, sizeof(*s));
	s->pid = -1;
	if (harness_tmpdir(s->dir, sizeof(s->dir)) == -1)
		return -1;
	snprintf(s->cert, sizeof(s->cert), "%s/cert.pem", s->dir);
	snprintf(s->key, sizeof(s->key), "%s/key.pem", s->dir);
	snprintf(s->log, sizeof(s->log), "%s/s_server.log", s->dir);
	st = harness_run(req, NULL, out, sizeof(out), 60000);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "openssl req failed: %s\n", out);
		return -1;
	}
	if ((s->port = harness_free_port(AF_INET)) == -1)
		return -1;
	snprintf(accept, sizeof(accept), "127.0.0.1:%d", s->port);
	if ((s->pid = harness_spawn(srv, s->log)) == -1)
		return -1;
	return harness_wait_listen(s->port, 20000);
}

static void
tls_stop(struct tls_server *s)
{
	if (s->pid > 0)
		harness_kill_wait(s->pid, 3000);
	harness_rmdir(s->dir);
}

static void
tls_proxy(struct harness_proxy *p, const struct tls_server *s)
{
	char	conf[CONF_MAX];

	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\n", s->port);
	harness_proxy_up(p, conf);
}

START_TEST(test_curl_tls)
{
	struct harness_proxy	p;
	struct tls_server	s;
	char			proxy[64], url[64], line[1024];
	static char		out[65536];
	char			*argv[] = { "curl", "-sS", "-k", "-p", "-x",
	    proxy, "--max-time", "30", url, NULL };
	int			st;

	if (!harness_have("curl") || !harness_have("openssl"))
		SKIP("curl or openssl not installed");
	ck_assert_msg(tls_start(&s) == 0, "openssl s_server did not start");
	tls_proxy(&p, &s);
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", p.port);
	snprintf(url, sizeof(url), "https://127.0.0.1:%d/", s.port);
	st = harness_run(argv, NULL, out, sizeof(out), harness_ms(40000));
	EXPECT(&p, st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "curl -p -x failed (status %d): %.500s", st, out);
	EXPECT(&p, strstr(out, "s_server") != NULL,
	    "curl output lacks the s_server page: %.500s", out);
	access_line(&p, s.port, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "status") == 200,
	    "access record without status=200: %s", line);
	EXPECT(&p, harness_field_num(line, "bytes_down") > 1000,
	    "access record bytes_down too small for a TLS page: %s", line);
	harness_proxy_free(&p);
	tls_stop(&s);
}
END_TEST

START_TEST(test_s_client)
{
	struct harness_proxy	p;
	struct tls_server	s;
	char			proxy[64], connect[64];
	static char		out[65536];
	char			*argv[] = { "openssl", "s_client", "-proxy",
	    proxy, "-connect", connect, "-brief", NULL };
	int			st;

	if (!harness_have("openssl"))
		SKIP("openssl not installed");
	ck_assert_msg(tls_start(&s) == 0, "openssl s_server did not start");
	tls_proxy(&p, &s);
	snprintf(proxy, sizeof(proxy), "127.0.0.1:%d", p.port);
	snprintf(connect, sizeof(connect), "127.0.0.1:%d", s.port);
	st = harness_run(argv, "", out, sizeof(out), harness_ms(30000));
	EXPECT(&p, strstr(out, "CONNECTION ESTABLISHED") != NULL,
	    "s_client -proxy: no handshake (status %d): %.800s", st, out);
	EXPECT(&p, st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "s_client exit status %d: %.800s", st, out);
	harness_proxy_free(&p);
	tls_stop(&s);
}
END_TEST

/* Refusals, one row per probe.  '$' is the target port, '#' a closed one. */

enum pad {
	PAD_NONE,
	PAD_TARGET,	/* request-target longer than any limit */
	PAD_FIELD,	/* one field over max_header_size */
	PAD_FIELDS	/* more fields than max_header_fields */
};

struct refusal {
	const char	*name;
	const char	*req;
	enum pad	 pad;
	int		 status;
};

static const struct refusal refusals[] = {
	{ "GET (known method)", "GET http://127.0.0.1:$/ HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n", PAD_NONE, 405 },
	{ "lowercase connect", "connect 127.0.0.1:$ HTTP/1.1\r\n"
	    "Host: 127.0.0.1:$\r\n\r\n", PAD_NONE, 501 },
	{ "unknown method", "FROB 127.0.0.1:$ HTTP/1.1\r\n"
	    "Host: 127.0.0.1:$\r\n\r\n", PAD_NONE, 501 },
	{ "HTTP/2.0", "CONNECT 127.0.0.1:$ HTTP/2.0\r\n"
	    "Host: 127.0.0.1:$\r\n\r\n", PAD_NONE, 505 },
	{ "port 0", "CONNECT 127.0.0.1:0 HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "port 65536", "CONNECT 127.0.0.1:65536 HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "port not digits", "CONNECT 127.0.0.1:4x3 HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", PAD_NONE, 400 },
	{ "no port", "CONNECT 127.0.0.1 HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "empty host", "CONNECT :$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "userinfo", "CONNECT user@127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "no Host in 1.1", "CONNECT 127.0.0.1:$ HTTP/1.1\r\n\r\n",
	    PAD_NONE, 400 },
	{ "two Host", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: a\r\n"
	    "Host: b\r\n\r\n", PAD_NONE, 400 },
	{ "space before colon", "CONNECT 127.0.0.1:$ HTTP/1.1\r\n"
	    "Host : x\r\n\r\n", PAD_NONE, 400 },
	{ "obs-fold", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n"
	    "X-A: a\r\n b\r\n\r\n", PAD_NONE, 400 },
	{ "Content-Length 5", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\nhello", PAD_NONE, 400 },
	{ "Transfer-Encoding", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\n", PAD_NONE, 400 },
	{ "legacy IPv4 127.1", "CONNECT 127.1:$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "target too long", "CONNECT ", PAD_TARGET, 414 },
	{ "head too big", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n",
	    PAD_FIELD, 431 },
	{ "too many fields", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n",
	    PAD_FIELDS, 431 },
	{ "port not allowed", "CONNECT 127.0.0.1:25 HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", PAD_NONE, 403 },
	{ "deny_dest name", "CONNECT blocked.example:$ HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", PAD_NONE, 403 },
	{ "builtin private 10/8", "CONNECT 10.1.2.3:$ HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", PAD_NONE, 403 },
	{ "head never ends", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n",
	    PAD_NONE, 408 },
	{ "closed port", "CONNECT 127.0.0.1:# HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 502 },
	/*
	 * A name that does not resolve would ask this host's resolver:
	 * the access suite's namespace tests bring their own instead.
	 */
	/* No HTTP-version: an invalid request-line, not a method to judge. */
	{ "invalid request-line", "HELLO WORLD\r\n\r\n", PAD_NONE, 400 },
};

/* Expand '$' and '#' into out. */
static void
expand(const char *in, int tport, int cport, char *out, size_t len)
{
	size_t	used = 0;
	int	n;

	for (; *in != '\0' && used + 8 < len; in++) {
		if (*in == '$' || *in == '#') {
			n = snprintf(out + used, len - used, "%d",
			    *in == '$' ? tport : cport);
			used += (size_t)n;
		} else
			out[used++] = *in;
	}
	out[used] = '\0';
}

static void
apply_pad(enum pad pad, int tport, char *out, size_t len)
{
	size_t	used = strlen(out);
	int	i;

	switch (pad) {
	case PAD_NONE:
		return;
	case PAD_TARGET:
		while (used < 3000 && used + 1 < len)
			out[used++] = 'a';
		out[used] = '\0';
		snprintf(out + used, len - used, ".example:%d HTTP/1.1\r\n"
		    "Host: x\r\n\r\n", tport);
		return;
	case PAD_FIELD:
		snprintf(out + used, len - used, "X-Big: ");
		used = strlen(out);
		while (used < 3500 && used + 1 < len)
			out[used++] = 'b';
		snprintf(out + used, len - used, "\r\n\r\n");
		return;
	case PAD_FIELDS:
		for (i = 0; i < 20; i++) {
			used = strlen(out);
			snprintf(out + used, len - used, "X-F%d: v\r\n", i);
		}
		used = strlen(out);
		snprintf(out + used, len - used, "\r\n");
		return;
	}
}

START_TEST(test_refusal)
{
	const struct refusal	*row = &refusals[_i];
	struct harness_proxy	 p;
	struct harness_target	 t;
	char			 conf[CONF_MAX], req[8192], what[128];
	int			 cport, fd, held;

	cport = harness_closed_port(AF_INET, &held);
	ck_assert_int_ne(cport, -1);
	snprintf(conf, sizeof(conf), "allow_port %d\ndeny_dest blocked.example\n"
	    "header_timeout 1s\nconnect_timeout 5s\nmax_header_size 2048\n"
	    "max_header_fields 10\nworkers_start 2\n", cport);
	setup_pair(&p, &t, HARNESS_TARGET_SILENT, 0, conf);
	expand(row->req, t.port, cport, req, sizeof(req));
	apply_pad(row->pad, t.port, req, sizeof(req));
	snprintf(what, sizeof(what), "refusal \"%s\"", row->name);
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	/* A refusal may come (and close) before the last bytes are sent. */
	harness_send_str(fd, req);
	expect_refusal(&p, fd, row->status, what);
	close(fd);
	expect_untouched(&p, &t, what);
	teardown_pair(&p, &t);
	close(held);
}
END_TEST

START_TEST(test_client_denied)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			req[128], line[1024];
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_SILENT, 0,
	    "allow_client 192.0.2.0/24");
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", t.port);
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	harness_send_str(fd, req);
	expect_refusal(&p, fd, 403, "client not in allow_client");
	close(fd);
	expect_untouched(&p, &t, "client not in allow_client");
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "status=403", line,
	    sizeof(line), harness_ms(5000)) == 0,
	    "no access record for the denied client");
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_established_head)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			req[128], head[1024], val[128];
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, NULL);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", t.port, t.port);
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(harness_send_str(fd, req), 0);
	EXPECT(&p, harness_recv_head(fd, head, sizeof(head),
	    harness_ms(10000)) > 0, "no response head");
	EXPECT(&p, strncmp(head, ESTABLISHED, strlen(ESTABLISHED)) == 0,
	    "status line: %.60s", head);
	EXPECT(&p, harness_header(head, "Date", val, sizeof(val)) == 0,
	    "200 without Date");
	EXPECT(&p, harness_header(head, "Content-Length", val, sizeof(val))
	    == -1, "200 with Content-Length");
	EXPECT(&p, harness_header(head, "Transfer-Encoding", val,
	    sizeof(val)) == -1, "200 with Transfer-Encoding");
	harness_echo_roundtrip(&p, fd, "after-200\n");
	close(fd);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_early_data)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			line[1024], buf[16];
	ssize_t			n;
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, NULL);
	/* The request head and these bytes leave in one write. */
	fd = tunnel_to(&p, &t, "early-bytes\n");
	n = harness_recv_exact(fd, buf, 12, harness_ms(10000));
	EXPECT(&p, n == 12 && memcmp(buf, "early-bytes\n", 12) == 0,
	    "bytes sent after the head not forwarded first (got %zd)", n);
	harness_echo_roundtrip(&p, fd, "second\n");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) == 0,
	    "no EOF after both sides closed");
	close(fd);
	access_line(&p, t.port, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "bytes_up") == 19 &&
	    harness_field_num(line, "bytes_down") == 19,
	    "access record: expected bytes_up=19 bytes_down=19: %s", line);
	EXPECT(&p, harness_field_num(line, "status") == 200,
	    "access record: expected status=200: %s", line);
	EXPECT(&p, strstr(line, "client=127.0.0.1:") != NULL &&
	    harness_field_num(line, "worker") > 0 &&
	    harness_field_num(line, "duration_ms") >= 0,
	    "access record lacks client/worker/duration_ms: %s", line);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_halfclose_client)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			buf[64], line[1024];
	int			fd;
	ssize_t			n;

	setup_pair(&p, &t, HARNESS_TARGET_COUNT, 0, NULL);
	fd = tunnel_to(&p, &t, NULL);
	EXPECT(&p, pump(fd, 100000, 0, harness_ms(20000)) == -1,
	    "sending 100000 bytes failed");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	/* The target answers after it saw our EOF. */
	n = harness_recv_exact(fd, buf, sizeof(buf) - 1, harness_ms(15000));
	EXPECT(&p, n >= 0, "no answer after half-close");
	buf[n] = '\0';
	EXPECT(&p, strcmp(buf, "recv=100000 ok=1\n") == 0,
	    "target's answer after our half-close: \"%s\"", buf);
	close(fd);
	access_line(&p, t.port, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "bytes_up") == 100000 &&
	    harness_field_num(line, "bytes_down") == 17,
	    "access record: expected bytes_up=100000 bytes_down=17: %s",
	    line);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_halfclose_target)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			line[256];
	int			fd;
	long long		bad;

	setup_pair(&p, &t, HARNESS_TARGET_SEND, 50000, NULL);
	fd = tunnel_to(&p, &t, NULL);
	bad = pump(fd, 0, 50000, harness_ms(20000));
	EXPECT(&p, bad == -1, "receiving 50000 bytes: %lld", bad);
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) == 0,
	    "no EOF after the target half-closed");
	/* Our direction still flows after the target's EOF. */
	EXPECT(&p, pump(fd, 20000, 0, harness_ms(20000)) == -1,
	    "sending after the target's EOF failed");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	EXPECT(&p, harness_target_line(&t, "done ", line, sizeof(line),
	    harness_ms(15000)) == 0, "target never saw our EOF");
	EXPECT(&p, strcmp(line, "done recv=20000 ok=1") == 0,
	    "target after its half-close: %s", line);
	close(fd);
	teardown_pair(&p, &t);
}
END_TEST

/*
 * Read until EOF or an error, checking the pattern.  Returns the bytes
 * received; *err is 0 after a clean EOF, else the errno that ended it
 * (ETIMEDOUT at the deadline, EILSEQ at a wrong byte).
 */
static size_t
recv_to_eof(int fd, int timeout_ms, int *err)
{
	static unsigned char	buf[65536];
	long long		deadline = harness_now_ms() + timeout_ms;
	size_t			got = 0;
	ssize_t			n;
	int			i;

	for (i = 0; i < 1000000; i++) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		if (harness_now_ms() >= deadline)
			break;
		if (poll(&pfd, 1, 1000) <= 0)
			continue;
		if ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) == 0) {
			*err = 0;
			return got;
		}
		if (n == -1 && (errno == EAGAIN || errno == EINTR))
			continue;
		if (n == -1) {
			*err = errno;
			return got;
		}
		if (harness_pattern_check(buf, (size_t)n, got) != (size_t)-1) {
			*err = EILSEQ;
			return got;
		}
		got += (size_t)n;
	}
	*err = ETIMEDOUT;
	return got;
}

/*
 * The target sends 3 MiB, half-closes, and closes once all of it was
 * acknowledged, while the client keeps sending a byte every 100 ms and
 * reads only later.  The bytes that meet the closed target are dropped;
 * the target's bytes must all reach the client, then a clean EOF: not a
 * reset caused by the client's late bytes hitting a closed socket.
 */
START_TEST(test_target_closes_while_client_sends)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			line[1024], done[64];
	size_t			got;
	int			fd, i, err, late = 0, send_err = 0;

	setup_pair(&p, &t, HARNESS_TARGET_SEND_CLOSE, 3 * MIB, NULL);
	fd = tunnel_to(&p, &t, NULL);
	for (i = 0; i < 300; i++) {
		if (harness_target_line(&t, "done ", done, sizeof(done),
		    100) == 0)
			break;
		EXPECT(&p, harness_send(fd, "x", 1) == 0,
		    "send before the target closed: %s", strerror(errno));
	}
	EXPECT(&p, i < 300, "the target did not finish within 30 s");
	/* On for a second: these are the bytes the closed target refuses. */
	for (late = 0; late < 10 && send_err == 0; late++) {
		if (harness_send(fd, "x", 1) == -1)
			send_err = errno;
		harness_pause_ms(100);
	}
	got = recv_to_eof(fd, harness_ms(20000), &err);
	close(fd);
	EXPECT(&p, got == 3 * MIB && err == 0,
	    "client got %zu of %d bytes, then %s (target: %s; %d late "
	    "sends%s%s)", got, 3 * MIB, err == 0 ? "EOF" : strerror(err),
	    done, late, send_err != 0 ? ", then " : "",
	    send_err != 0 ? strerror(send_err) : "");
	access_line(&p, t.port, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "status") == 200 &&
	    harness_field_num(line, "bytes_down") == 3 * MIB &&
	    strstr(line, "reason=server_eof") != NULL,
	    "access record: expected status=200 bytes_down=%d "
	    "reason=server_eof: %s", 3 * MIB, line);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_ipv6_target)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[CONF_MAX], line[1024], want[64];
	int			fd;

	if (!harness_have_ipv6())
		SKIP("::1 is not available on this machine");
	ck_assert_int_eq(harness_target_start(&t, AF_INET6, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest ::1\nallow_port %d\n"
	    "workers_start 2\n", t.port);
	harness_proxy_up(&p, conf);
	fd = tunnel_to(&p, &t, NULL);
	harness_echo_roundtrip(&p, fd, "over-ipv6\n");
	close(fd);
	access_line(&p, t.port, line, sizeof(line));
	snprintf(want, sizeof(want), "dialed=[::1]:%d", t.port);
	EXPECT(&p, strstr(line, want) != NULL, "access record lacks %s: %s",
	    want, line);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_idle_timeout)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			line[1024];
	long long		start, elapsed;
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "idle_timeout 1s");
	fd = tunnel_to(&p, &t, NULL);
	harness_echo_roundtrip(&p, fd, "then-silence\n");
	start = harness_now_ms();
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) == 0,
	    "idle tunnel not closed");
	elapsed = harness_now_ms() - start;
	EXPECT(&p, elapsed >= 800 && elapsed < 1000 + harness_ms(3000),
	    "idle tunnel closed after %lld ms, idle_timeout is 1000",
	    elapsed);
	close(fd);
	access_line(&p, t.port, line, sizeof(line));
	EXPECT(&p, strstr(line, "reason=idle") != NULL,
	    "access record of an idle tunnel: %s", line);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_mib_each_way)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			line[1024];
	long long		bad;
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_SEND, MIB, NULL);
	fd = tunnel_to(&p, &t, NULL);
	bad = pump(fd, MIB, MIB, harness_ms(30000));
	EXPECT(&p, bad == -1, "1 MiB each way: %s at %lld",
	    bad == -2 ? "stalled or closed" : "wrong byte", bad);
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) == 0,
	    "no EOF after the target's last byte");
	ck_assert_int_eq(shutdown(fd, SHUT_WR), 0);
	EXPECT(&p, harness_target_line(&t, "done ", line, sizeof(line),
	    harness_ms(15000)) == 0, "target did not finish");
	EXPECT(&p, strcmp(line, "done recv=1048576 ok=1") == 0,
	    "target received: %s", line);
	close(fd);
	access_line(&p, t.port, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "bytes_up") == MIB &&
	    harness_field_num(line, "bytes_down") == MIB,
	    "access record: expected 1048576 bytes each way: %s", line);
	teardown_pair(&p, &t);
}
END_TEST

/* 200 tunnels open at once, driven by one poll loop. */

struct conn {
	int	fd;
	char	buf[256];
	size_t	len;
	int	done;
};

/* Read into every conn until each holds `until` (a head end or len). */
static int
poll_all(struct conn *c, int n, const char *until, size_t want, int ms)
{
	static struct pollfd	pfd[NTUNNELS];
	long long		deadline = harness_now_ms() + ms;
	int			i, left = n;
	ssize_t			r;

	for (i = 0; i < n; i++)
		c[i].done = 0;
	while (left > 0 && harness_now_ms() < deadline) {
		for (i = 0; i < n; i++) {
			pfd[i].fd = c[i].done ? -1 : c[i].fd;
			pfd[i].events = POLLIN;
		}
		if (poll(pfd, (nfds_t)n, 1000) == -1 && errno != EINTR)
			return -1;
		for (i = 0; i < n; i++) {
			if (c[i].done || pfd[i].revents == 0)
				continue;
			r = recv(c[i].fd, c[i].buf + c[i].len,
			    sizeof(c[i].buf) - 1 - c[i].len, MSG_DONTWAIT);
			if (r <= 0)
				return -1;
			c[i].len += (size_t)r;
			c[i].buf[c[i].len] = '\0';
			if ((until && strstr(c[i].buf, until)) ||
			    (!until && c[i].len >= want)) {
				c[i].done = 1;
				left--;
			}
		}
	}
	return left == 0 ? 0 : -1;
}

START_TEST(test_many_tunnels)
{
	static struct conn	c[NTUNNELS];
	struct harness_proxy	p;
	struct harness_target	t;
	char			req[128], msg[32];
	int			i, ok = 0;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "workers_start 200");
	EXPECT(&p, harness_proxy_wait_workers(&p, NTUNNELS,
	    harness_ms(20000)) == 0, "expected %d workers, have %d",
	    NTUNNELS, harness_proxy_workers(&p, NULL, 0));
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1\r\n\r\n", t.port);
	for (i = 0; i < NTUNNELS; i++) {
		memset(&c[i], 0, sizeof(c[i]));
		c[i].fd = harness_connect("127.0.0.1", p.port, 10000);
		EXPECT(&p, c[i].fd != -1, "connect %d failed", i);
		ck_assert_int_eq(harness_send_str(c[i].fd, req), 0);
	}
	EXPECT(&p, poll_all(c, NTUNNELS, "\r\n\r\n", 0, harness_ms(30000))
	    == 0, "not every tunnel got its response");
	for (i = 0; i < NTUNNELS; i++) {
		EXPECT(&p, strncmp(c[i].buf, "HTTP/1.1 200 ", 13) == 0,
		    "tunnel %d: %.40s", i, c[i].buf);
		c[i].len = 0;
		snprintf(msg, sizeof(msg), "tunnel-%03d\n", i);
		ck_assert_int_eq(harness_send_str(c[i].fd, msg), 0);
	}
	/* Every tunnel is open now: all 200 answered before any echo. */
	EXPECT(&p, poll_all(c, NTUNNELS, NULL, 11, harness_ms(30000)) == 0,
	    "not every tunnel echoed");
	for (i = 0; i < NTUNNELS; i++) {
		snprintf(msg, sizeof(msg), "tunnel-%03d\n", i);
		ok += strcmp(c[i].buf, msg) == 0;
		close(c[i].fd);
	}
	EXPECT(&p, ok == NTUNNELS, "%d of %d tunnels echoed their own "
	    "message", ok, NTUNNELS);
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_trickle_header_timeout)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			req[128];
	long long		start, elapsed;
	size_t			sent;
	int			a, b;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "header_timeout 2s");
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", t.port, t.port);
	a = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(a, -1);
	start = harness_now_ms();
	for (sent = 0; sent < strlen(req); sent++) {
		struct pollfd pfd = { .fd = a, .events = POLLIN };
		if (harness_send(a, req + sent, 1) == -1)
			break;
		if (sent == 0) {
			/* Another client is served while A trickles. */
			b = tunnel_to(&p, &t, NULL);
			harness_echo_roundtrip(&p, b, "meanwhile\n");
			close(b);
		}
		/* One byte a second, until the proxy answers. */
		if (poll(&pfd, 1, 1000) == 1)
			break;
	}
	EXPECT(&p, sent < strlen(req), "whole head sent, never answered");
	expect_refusal(&p, a, 408, "trickling client");
	elapsed = harness_now_ms() - start;
	EXPECT(&p, elapsed >= 1500 && elapsed < 2000 + harness_ms(2500),
	    "408 after %lld ms, header_timeout is 2000", elapsed);
	close(a);
	teardown_pair(&p, &t);
}
END_TEST

/*
 * TCP_DEFER_ACCEPT (Linux): a connection that has sent nothing holds no
 * worker, yet gets its 408 within header_timeout of connecting, and one
 * that speaks only after the kernel's period (1 s here) is still served.
 * Two workers, two silent clients: a third client is served at once.
 */
START_TEST(test_silent_client_defer_accept)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			req[128], head[1024] = "";
	long long		start, elapsed;
	int			s, c, b;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "header_timeout 2s\n"
	    "workers_start 2\nworkers_max 2\n");
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", t.port, t.port);
	start = harness_now_ms();
	s = harness_connect("127.0.0.1", p.port, 5000);
	c = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert(s != -1 && c != -1);
	b = tunnel_to(&p, &t, NULL);
	harness_echo_roundtrip(&p, b, "while two are silent\n");
	close(b);
	elapsed = harness_now_ms() - start;
#ifdef __linux__
	EXPECT(&p, elapsed < harness_ms(1000), "a third client waited %lld "
	    "ms for one of two workers held by silent clients", elapsed);
#endif
	/* c speaks after the kernel's period of 1 s: still served. */
	harness_pause_ms(1300 - (int)(harness_now_ms() - start));
	ck_assert_int_eq(harness_send_str(c, req), 0);
	EXPECT(&p, harness_recv_head(c, head, sizeof(head),
	    harness_ms(5000)) > 0 && strncmp(head, ESTABLISHED,
	    strlen(ESTABLISHED)) == 0, "a client silent for 1.3 s: %.60s",
	    head);
	harness_echo_roundtrip(&p, c, "late\n");
	close(c);
	expect_refusal(&p, s, 408, "a client that never sends");
	elapsed = harness_now_ms() - start;
	EXPECT(&p, elapsed >= 1500 && elapsed < 2000 + harness_ms(500),
	    "408 after %lld ms, header_timeout is 2000", elapsed);
	close(s);
	teardown_pair(&p, &t);
}
END_TEST

static int
pid_in(pid_t pid, const pid_t *pids, int n)
{
	int	i;

	for (i = 0; i < n; i++)
		if (pids[i] == pid)
			return 1;
	return 0;
}

START_TEST(test_worker_killed)
{
	struct harness_proxy	p;
	struct harness_target	t;
	pid_t			pids[8], victim;
	char			needle[32];
	long long		deadline;
	int			n, i, fd;

	/* With 3 spares wanted, a killed idle worker must be replaced. */
	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0,
	    "workers_start 3\nworkers_min_spare 3");
	EXPECT(&p, harness_proxy_wait_workers(&p, 3, harness_ms(10000)) == 0,
	    "expected 3 workers, have %d", harness_proxy_workers(&p, NULL,
	    0));
	harness_proxy_workers(&p, pids, 8);
	victim = pids[0];
	ck_assert_int_eq(kill(victim, SIGKILL), 0);
	deadline = harness_now_ms() + harness_ms(10000);
	do {
		n = harness_proxy_workers(&p, pids, 8);
		if (n == 3 && !pid_in(victim, pids, n))
			break;
		poll(NULL, 0, 20);
	} while (harness_now_ms() < deadline);
	EXPECT(&p, n == 3 && !pid_in(victim, pids, n),
	    "worker %d killed: %d workers after, no replacement", (int)victim,
	    n);
	/* "worker PID ...", not a line the worker wrote as "worker[PID]". */
	snprintf(needle, sizeof(needle), "worker %d", (int)victim);
	EXPECT(&p, harness_proxy_wait_log(&p, needle, NULL, NULL, 0,
	    harness_ms(5000)) == 0, "master did not log worker %d's death",
	    (int)victim);
	for (i = 0; i < 4; i++) {
		fd = tunnel_to(&p, &t, NULL);
		harness_echo_roundtrip(&p, fd, "after-kill\n");
		close(fd);
	}
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_stop_signal)
{
	static const int	 sigs[] = { SIGTERM, SIGINT };
	struct harness_proxy	 p;
	struct harness_target	 t;
	pid_t			 pids[8];
	int			 n, i, fd, st;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "workers_start 3");
	EXPECT(&p, harness_proxy_wait_workers(&p, 3, harness_ms(10000)) == 0,
	    "expected 3 workers");
	n = harness_proxy_workers(&p, pids, 8);
	fd = tunnel_to(&p, &t, NULL);
	harness_echo_roundtrip(&p, fd, "before-stop\n");
	ck_assert_int_eq(harness_proxy_signal(&p, sigs[_i]), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "proxy still running after signal %d", sigs[_i]);
	st = p.status;
	EXPECT(&p, WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "after signal %d: wait status 0x%x, expected exit 0", sigs[_i],
	    st);
	for (i = 0; i < n; i++)
		EXPECT(&p, harness_wait_pid_gone(pids[i], harness_ms(5000))
		    == 0, "worker %d still alive after the master exited",
		    (int)pids[i]);
	EXPECT(&p, harness_wait_eof(fd, harness_ms(5000)) >= 0,
	    "open tunnel not closed at stop");
	close(fd);
	teardown_pair(&p, &t);
}
END_TEST

/* HUP reloads (the reload suite covers it in depth); serving goes on. */
START_TEST(test_hup_reloads)
{
	struct harness_proxy	p;
	struct harness_target	t;
	int			fd;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, "workers_start 2");
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "reloaded: generation 1", NULL,
	    NULL, 0, harness_ms(5000)) == 0, "reload not logged");
	EXPECT(&p, harness_proxy_wait_exit(&p, 200) == -1,
	    "proxy exited on HUP (status 0x%x)", p.status);
	fd = tunnel_to(&p, &t, NULL);
	harness_echo_roundtrip(&p, fd, "after-hup\n");
	close(fd);
	teardown_pair(&p, &t);
}
END_TEST

/* -t, -V, -h and a bad config at startup. */

static int
run_bin(const char *opt, const char *conf, char *out, size_t len)
{
	char	*argv[] = { (char *)harness_bin(), (char *)opt, "-c",
	    (char *)conf, NULL };

	if (conf == NULL)
		argv[2] = NULL;
	return harness_run(argv, NULL, out, len, harness_ms(10000));
}

START_TEST(test_config_check)
{
	struct harness_proxy	p;
	char			dir[HARNESS_PATH_MAX], good[300], bad[300];
	char			out[4096], want[320];
	int			st;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(good, sizeof(good), "%s/good.conf", dir);
	snprintf(bad, sizeof(bad), "%s/bad.conf", dir);
	ck_assert_int_eq(harness_write_file(good, "listen 127.0.0.1:1\n"
	    "# a comment\n\nallow_port 443\nidle_timeout 500ms\n"), 0);
	ck_assert_int_eq(harness_write_file(bad, "listen 127.0.0.1:1\n"
	    "# a comment\nbogus_directive 1\n"), 0);

	st = run_bin("-t", good, out, sizeof(out));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(out, "configuration OK") != NULL,
	    "-t on a good config: status 0x%x, output: %s", st, out);
	st = run_bin("-t", bad, out, sizeof(out));
	snprintf(want, sizeof(want), "%s:3:", bad);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 1 &&
	    strstr(out, want) != NULL,
	    "-t on an unknown directive: status 0x%x, expected exit 1 and "
	    "\"%s\", output: %s", st, want, out);
	st = run_bin("-V", NULL, out, sizeof(out));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    out[0] != '\0', "-V: status 0x%x, output: %s", st, out);
	st = run_bin("-h", NULL, out, sizeof(out));
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0 &&
	    strstr(out, "-c") != NULL, "-h: status 0x%x, output: %s", st, out);

	ck_assert_int_eq(harness_proxy_spawn(&p, "# startup\n"
	    "bogus_directive 1\n"), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "proxy with a bad config did not exit");
	EXPECT(&p, WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1,
	    "bad config at startup: wait status 0x%x, expected exit 1",
	    p.status);
	snprintf(want, sizeof(want), "%s:2:", p.conf);
	EXPECT(&p, harness_proxy_count_log(&p, want) >= 1,
	    "bad config at startup: no \"%s\" on stderr", want);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/* A refused request followed by another: never a second request. */

static const struct refusal smuggles[] = {
	{ "403 then CONNECT", "CONNECT 127.0.0.1:25 HTTP/1.1\r\nHost: x\r\n"
	    "\r\nCONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 403 },
	{ "400 then CONNECT", "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: a\r\n"
	    "Host: b\r\n\r\nCONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 400 },
	{ "405 then CONNECT", "GET / HTTP/1.1\r\nHost: x\r\n\r\n"
	    "CONNECT 127.0.0.1:$ HTTP/1.1\r\nHost: x\r\n\r\n",
	    PAD_NONE, 405 },
};

START_TEST(test_refused_then_pipelined)
{
	const struct refusal	*row = &smuggles[_i];
	struct harness_proxy	 p;
	struct harness_target	 t;
	char			 req[1024], what[128], status[32];
	int			 fd;

	setup_pair(&p, &t, HARNESS_TARGET_ECHO, 0, NULL);
	expand(row->req, t.port, 0, req, sizeof(req));
	snprintf(what, sizeof(what), "pipelined \"%s\"", row->name);
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	harness_send_str(fd, req);
	/* One response, then EOF: no second head, no tunnel bytes. */
	expect_refusal(&p, fd, row->status, what);
	close(fd);
	expect_untouched(&p, &t, what);
	snprintf(status, sizeof(status), "status=%d", row->status);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", status, NULL, 0,
	    harness_ms(5000)) == 0, "%s: no access record with %s", what,
	    status);
	EXPECT(&p, harness_proxy_count_log(&p, "status=200") == 0,
	    "%s: a tunnel was opened", what);
	teardown_pair(&p, &t);
}
END_TEST

/* Default destination policy: loopback and its disguises are refused. */

static const char *loopback_targets[] = {
	"127.0.0.1", "localhost", "[::1]", "[::ffff:127.0.0.1]", "127.0.0.2",
	"0.0.0.0"
};

START_TEST(test_default_denies_loopback)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			conf[128], req[256], what[128];
	size_t			i;
	int			fd;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_SILENT, 0), 0);
	snprintf(conf, sizeof(conf), "allow_port %d\nworkers_start 2\n",
	    t.port);
	harness_proxy_up(&p, conf);
	for (i = 0; i < sizeof(loopback_targets) / sizeof(*loopback_targets);
	    i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
		    "Host: x\r\n\r\n", loopback_targets[i], t.port);
		snprintf(what, sizeof(what), "default policy, %s",
		    loopback_targets[i]);
		fd = harness_connect("127.0.0.1", p.port, 5000);
		ck_assert_int_ne(fd, -1);
		harness_send_str(fd, req);
		expect_refusal(&p, fd, 403, what);
		close(fd);
	}
	expect_untouched(&p, &t, "default policy, loopback");
	teardown_pair(&p, &t);
}
END_TEST

START_TEST(test_default_denies_private_netns)
{
	static const char	*addrs[] = { "10.0.0.1", "169.254.169.254" };
	static const int	 ports[] = { 443, 80 };
	struct harness_proxy	 p;
	struct harness_target	 t[2];
	char			 req[256], what[128];
	int			 i, fd;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	ck_assert_int_eq(harness_netns_blackhole("10.0.0.1/8"), 0);
	ck_assert_int_eq(harness_netns_blackhole("169.254.169.254/16"), 0);
	for (i = 0; i < 2; i++)
		ck_assert_int_eq(harness_target_start(&t[i], AF_INET,
		    addrs[i], ports[i], HARNESS_TARGET_SILENT, 0), 0);
	harness_proxy_up(&p, "allow_port 443\nallow_port 80\nworkers_start 2\n");
	for (i = 0; i < 2; i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
		    "Host: x\r\n\r\n", addrs[i], ports[i]);
		snprintf(what, sizeof(what), "default policy, %s", addrs[i]);
		fd = harness_connect("127.0.0.1", p.port, 5000);
		ck_assert_int_ne(fd, -1);
		harness_send_str(fd, req);
		expect_refusal(&p, fd, 403, what);
		close(fd);
		expect_untouched(&p, &t[i], what);
	}
	harness_proxy_free(&p);
	harness_target_stop(&t[0]);
	harness_target_stop(&t[1]);
}
END_TEST

START_TEST(test_connect_timeout_netns)
{
	struct harness_proxy	p;
	char			line[1024];
	long long		start, elapsed;
	int			fd;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	ck_assert_int_eq(harness_netns_blackhole("198.51.100.1/24"), 0);
	harness_proxy_up(&p, "allow_dest 198.51.100.0/24\nallow_port 443\n"
	    "connect_timeout 1s\nworkers_start 2\n");
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	start = harness_now_ms();
	harness_send_str(fd, "CONNECT 198.51.100.2:443 HTTP/1.1\r\n"
	    "Host: 198.51.100.2:443\r\n\r\n");
	expect_refusal(&p, fd, 504, "SYN into a black hole");
	elapsed = harness_now_ms() - start;
	EXPECT(&p, elapsed >= 900 && elapsed < 1000 + harness_ms(3000),
	    "504 after %lld ms, connect_timeout is 1000", elapsed);
	close(fd);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "status=504", line,
	    sizeof(line), harness_ms(5000)) == 0, "no access record for 504");
	EXPECT(&p, strstr(line, "reason=connect_timeout") != NULL,
	    "504 access record reason: %s", line);
	harness_proxy_free(&p);
}
END_TEST

START_TEST(test_connect_refused_logged)
{
	struct harness_proxy	p;
	char			conf[128], req[256], line[1024];
	int			cport, fd, held;

	cport = harness_closed_port(AF_INET, &held);
	ck_assert_int_ne(cport, -1);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\n", cport);
	harness_proxy_up(&p, conf);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", cport);
	fd = harness_connect("127.0.0.1", p.port, 5000);
	ck_assert_int_ne(fd, -1);
	harness_send_str(fd, req);
	expect_refusal(&p, fd, 502, "closed port");
	close(fd);
	access_line(&p, cport, line, sizeof(line));
	EXPECT(&p, harness_field_num(line, "status") == 502 &&
	    strstr(line, "reason=connect_failed") != NULL,
	    "access record for a refused connect: %s", line);
	harness_proxy_free(&p);
	close(held);
}
END_TEST

Suite *
e2e_suite(void)
{
	Suite	*s;
	TCase	*tc;

	/* A refused client's close must not kill this process. */
	signal(SIGPIPE, SIG_IGN);
	s = suite_create("e2e");
	tc = harness_tcase(s, "tls", 90);
	tcase_add_test(tc, test_curl_tls);
	tcase_add_test(tc, test_s_client);
	tc = harness_tcase(s, "refusals", 60);
	tcase_add_loop_test(tc, test_refusal, 0,
	    sizeof(refusals) / sizeof(*refusals));
	tcase_add_test(tc, test_client_denied);
	tcase_add_loop_test(tc, test_refused_then_pipelined, 0,
	    sizeof(smuggles) / sizeof(*smuggles));
	tcase_add_test(tc, test_default_denies_loopback);
	tcase_add_test(tc, test_default_denies_private_netns);
	tcase_add_test(tc, test_connect_refused_logged);
	tcase_add_test(tc, test_connect_timeout_netns);
	tc = harness_tcase(s, "relay", 60);
	tcase_add_test(tc, test_established_head);
	tcase_add_test(tc, test_early_data);
	tcase_add_test(tc, test_halfclose_client);
	tcase_add_test(tc, test_halfclose_target);
	tcase_add_test(tc, test_target_closes_while_client_sends);
	tcase_add_test(tc, test_ipv6_target);
	tcase_add_test(tc, test_mib_each_way);
	tcase_add_test(tc, test_idle_timeout);
	tc = harness_tcase(s, "load", 120);
	tcase_add_test(tc, test_many_tunnels);
	tcase_add_test(tc, test_trickle_header_timeout);
	tcase_add_test(tc, test_silent_client_defer_accept);
	tc = harness_tcase(s, "process", 60);
	tcase_add_test(tc, test_worker_killed);
	tcase_add_loop_test(tc, test_stop_signal, 0, 2);
	tcase_add_test(tc, test_hup_reloads);
	tcase_add_test(tc, test_config_check);
	return s;
}
