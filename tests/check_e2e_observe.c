/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite "observe": access records (text and JSON) parsed
 * field by field for tunnels with known byte counts and for each refusal
 * reason; log rotation with USR1 while workers run as an unprivileged
 * user; `connectproxy status` during an open tunnel; and `connectproxy
 * metrics` (and GET /metrics) under a strict Prometheus text parser
 * written here, its counters checked against the traffic sent.
 */
#define _DEFAULT_SOURCE		/* crypt(3) */

#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/un.h>
#include <sys/wait.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <crypt.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <poll.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "control.h"
#include "harness.h"
#include "scoreboard.h"
#include "suites.h"

#define CONF_MAX	2048
#define KV_MAX		20
#define LINES_MAX	64
#define OUT_MAX		(64 * 1024)

/* Record parsers: strict, so a malformed record fails the test. */

struct kv {
	char	key[32];
	char	val[1024];
	int	null;		/* JSON null */
	int	str;		/* JSON string (else a number or null) */
};

static int
hexval(int c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

static int
parse_key(const char **sp, char *key, char end)
{
	const char	*s = *sp;
	size_t		 n = 0;

	while ((*s >= 'a' && *s <= 'z') || *s == '_') {
		if (n + 1 >= 32)
			return -1;
		key[n++] = *s++;
	}
	key[n] = '\0';
	if (n == 0 || *s != end)
		return -1;
	*sp = s + 1;
	return 0;
}

/* A quoted value after the opening quote; text (\xHH) or JSON (\uXXXX). */
static int
parse_quoted(const char **sp, char *val, size_t len, int json)
{
	const char	*s = *sp;
	size_t		 n = 0;
	int		 c, i, h;

	for (; *s != '"'; s++) {
		if (*s == '\0' || (unsigned char)*s < 0x20 || n + 1 >= len)
			return -1;
		c = (unsigned char)*s;
		if (c == '\\') {
			switch (*++s) {
			case '"': case '\\': c = *s; break;
			case 'n': c = '\n'; break;
			case 'r': c = '\r'; break;
			case 't': c = '\t'; break;
			case 'x':
				if (json || hexval(s[1]) < 0 || hexval(s[2]) < 0)
					return -1;
				c = hexval(s[1]) * 16 + hexval(s[2]);
				s += 2;
				break;
			case 'u':
				for (c = 0, i = 1; i <= 4; i++) {
					if (!json || (h = hexval(s[i])) < 0)
						return -1;
					c = c * 16 + h;
				}
				if (c > 0xff)
					return -1;	/* not emitted */
				s += 4;
				break;
			default:
				return -1;
			}
		}
		val[n++] = (char)c;
	}
	val[n] = '\0';
	*sp = s + 1;
	return 0;
}

/* "k=v k=\"v v\" ..." into kv; returns the count or -1. */
static int
parse_text(const char *s, struct kv *kv, int max)
{
	int	n = 0;
	size_t	len;

	while (*s != '\0') {
		if (n == max || (n > 0 && *s++ != ' '))
			return -1;
		memset(&kv[n], 0, sizeof(kv[n]));
		if (parse_key(&s, kv[n].key, '=') == -1)
			return -1;
		if (*s == '"') {
			s++;
			if (parse_quoted(&s, kv[n].val, sizeof(kv[n].val), 0)
			    == -1)
				return -1;
		} else {
			len = strcspn(s, " \"\\=");
			if (len == 0 || len >= sizeof(kv[n].val) ||
			    (s[len] != ' ' && s[len] != '\0'))
				return -1;
			memcpy(kv[n].val, s, len);
			kv[n].val[len] = '\0';
			s += len;
		}
		n++;
	}
	return n;
}

/* A flat JSON object of strings, integers and null; count or -1. */
static int
parse_json(const char *s, struct kv *kv, int max)
{
	int	n = 0;
	size_t	len;

	if (*s++ != '{')
		return -1;
	while (*s != '}') {
		if (n == max || (n > 0 && *s++ != ',') || *s++ != '"')
			return -1;
		memset(&kv[n], 0, sizeof(kv[n]));
		if (parse_key(&s, kv[n].key, '"') == -1 || *s++ != ':')
			return -1;
		if (*s == '"') {
			s++;
			kv[n].str = 1;
			if (parse_quoted(&s, kv[n].val, sizeof(kv[n].val), 1)
			    == -1)
				return -1;
		} else if (strncmp(s, "null", 4) == 0) {
			kv[n].null = 1;
			s += 4;
		} else {
			len = strspn(s + (*s == '-'), "0123456789") +
			    (*s == '-');
			if (len == 0 || len >= 32 || (s[0] == '0' && len > 1))
				return -1;
			memcpy(kv[n].val, s, len);
			kv[n].val[len] = '\0';
			s += len;
		}
		n++;
	}
	return s[1] == '\0' ? n : -1;
}

static const struct kv *
kv_get(const struct kv *kv, int n, const char *key)
{
	int	i;

	for (i = 0; i < n; i++)
		if (strcmp(kv[i].key, key) == 0)
			return &kv[i];
	return NULL;
}

static long long
kv_num(const struct kv *kv, int n, const char *key, int json)
{
	const struct kv	*e = kv_get(kv, n, key);
	char		*end;
	long long	 v;

	if (e == NULL || (json && (e->str || e->null)) || e->val[0] == '\0')
		return -1;
	v = strtoll(e->val, &end, 10);
	return *end == '\0' ? v : -1;
}

static const char *
kv_str(const struct kv *kv, int n, const char *key)
{
	const struct kv	*e = kv_get(kv, n, key);

	return e == NULL || e->null ? NULL : e->val;
}

/*
 * A parsed record with every always-present field well formed and the
 * keys in the documented order.  Returns the count of fields.
 */
static int
parse_record(const char *line, int json, struct kv *kv)
{
	static const char *const order[] = { "time", "id", "worker",
	    "client", "user", "target", "dialed", "upstream", "status",
	    "bytes_up", "bytes_down", "duration_ms", "reason", "error",
	    "rule", "detail" };
	static const char *const must[] = { "time", "id", "worker", "client",
	    "target", "status", "bytes_up", "bytes_down", "duration_ms",
	    "reason" };
	const char	*t, *id;
	char		 want[64];
	size_t		 i, k = 0;
	int		 n, j;

	n = json ? parse_json(line, kv, KV_MAX) : parse_text(line, kv,
	    KV_MAX);
	ck_assert_msg(n > 0, "unparsable record: %s", line);
	for (j = 0; j < n; j++) {
		while (k < sizeof(order) / sizeof(order[0]) &&
		    strcmp(order[k], kv[j].key) != 0)
			k++;
		ck_assert_msg(k < sizeof(order) / sizeof(order[0]),
		    "key %s out of order or unknown: %s", kv[j].key, line);
	}
	/* JSON leaves an unknown target out; text writes "-". */
	for (i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		ck_assert_msg(kv_get(kv, n, must[i]) != NULL || (json &&
		    strcmp(must[i], "target") == 0), "no %s: %s", must[i],
		    line);
	/* One spelling of "unknown" in JSON: the key left out. */
	for (j = 0; json && j < n; j++)
		ck_assert_msg(!kv[j].null && strcmp(kv[j].val, "-") != 0,
		    "%s unknown but present: %s", kv[j].key, line);
	t = kv_str(kv, n, "time");
	ck_assert_msg(t != NULL && strlen(t) == 24 && t[4] == '-' &&
	    t[10] == 'T' && t[19] == '.' && t[23] == 'Z' &&
	    isdigit((unsigned char)t[22]), "time: %s", line);
	snprintf(want, sizeof(want), "%lld-", kv_num(kv, n, "worker", json));
	id = kv_str(kv, n, "id");
	ck_assert_msg(kv_num(kv, n, "worker", json) > 0 && id != NULL &&
	    strncmp(id, want, strlen(want)) == 0 &&
	    strspn(id + strlen(want), "0123456789") ==
	    strlen(id + strlen(want)), "id/worker: %s", line);
	ck_assert_msg(strncmp(kv_str(kv, n, "client"), "127.0.0.1:", 10) ==
	    0, "client: %s", line);
	ck_assert_msg(kv_num(kv, n, "duration_ms", json) >= 0 &&
	    kv_num(kv, n, "bytes_up", json) >= 0 &&
	    kv_num(kv, n, "bytes_down", json) >= 0 &&
	    kv_num(kv, n, "status", json) >= 100, "numbers: %s", line);
	return n;
}

/* Files of records */

/* Split `path` into lines; returns the count (0 when missing). */
static int
read_lines(const char *path, char lines[][4096], int max)
{
	char	*text = harness_read_file(path), *s, *nl;
	int	 n = 0;

	if (text == NULL)
		return 0;
	for (s = text; n < max && (nl = strchr(s, '\n')) != NULL; s = nl + 1) {
		*nl = '\0';
		snprintf(lines[n++], 4096, "%s", s);
	}
	free(text);
	return n;
}

static char	lines[LINES_MAX][4096];

/* Wait until path holds at least n lines; returns the count. */
static int
wait_lines(const char *path, int n)
{
	long long	deadline = harness_now_ms() + harness_ms(10000);
	int		got;

	while ((got = read_lines(path, lines, LINES_MAX)) < n &&
	    harness_now_ms() < deadline)
		usleep(20000);
	return got;
}

/* The proxy and its targets */

struct env {
	struct harness_proxy	p;
	struct harness_target	t;
	char			dir[HARNESS_PATH_MAX];
	char			log[HARNESS_PATH_MAX + 32];
	char			sock[HARNESS_PATH_MAX + 32];
};

/* A temporary directory for the logs and the control socket. */
static void
env_dir(struct env *e)
{
	memset(e, 0, sizeof(*e));
	e->p.pid = -1;
	e->t.pid = -1;
	e->t.report = -1;
	ck_assert_int_eq(harness_tmpdir(e->dir, sizeof(e->dir)), 0);
	snprintf(e->log, sizeof(e->log), "%s/access.log", e->dir);
	snprintf(e->sock, sizeof(e->sock), "%s/ctl.sock", e->dir);
}

static void
env_start(struct env *e, const char *extra)
{
	char	conf[CONF_MAX];

	snprintf(conf, sizeof(conf), "access_log %s\ncontrol_socket %s\n"
	    "allow_port 1-65535\nallow_dest 127.0.0.0/8\n"
	    "workers_start 2\n%s", e->log, e->sock, extra);
	ck_assert_msg(harness_proxy_start(&e->p, conf) == 0,
	    "proxy did not start");
}

static void
env_free(struct env *e)
{
	harness_proxy_free(&e->p);
	if (e->t.pid > 0)
		harness_target_stop(&e->t);
	harness_rmdir(e->dir);
}

static int
tunnel(const struct env *e, int port)
{
	char	target[64];
	int	fd, status;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	fd = harness_tunnel(e->p.port, target, NULL, &status,
	    harness_ms(10000));
	EXPECT(&e->p, fd != -1, "CONNECT %s: status %d", target, status);
	return fd;
}


/* A tunnel with known byte counts, checked field by field. */
static void
check_tunnel_record(int json)
{
	struct env	e;
	struct kv	kv[KV_MAX];
	char		want[64];
	int		fd, n;

	env_dir(&e);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	env_start(&e, json ? "access_log_format json\n" :
	    "access_log_format text\n");
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 12345);
	harness_echo_bytes(&e.p, fd, 55);
	harness_tunnel_end(fd);
	EXPECT(&e.p, wait_lines(e.log, 1) == 1, "one record in %s", e.log);
	n = parse_record(lines[0], json, kv);
	snprintf(want, sizeof(want), "127.0.0.1:%d", e.t.port);
	ck_assert_str_eq(kv_str(kv, n, "target"), want);
	ck_assert_str_eq(kv_str(kv, n, "dialed"), want);
	ck_assert_int_eq(kv_num(kv, n, "status", json), 200);
	ck_assert_int_eq(kv_num(kv, n, "bytes_up", json), 12400);
	ck_assert_int_eq(kv_num(kv, n, "bytes_down", json), 12400);
	ck_assert_str_eq(kv_str(kv, n, "reason"), "client_eof");
	ck_assert_ptr_null(kv_get(kv, n, "user"));
	ck_assert_ptr_null(kv_get(kv, n, "upstream"));
	ck_assert_ptr_null(kv_get(kv, n, "rule"));
	/* The stderr log has no access record: it went to the file. */
	EXPECT(&e.p, harness_proxy_count_log(&e.p, "access ") == 0,
	    "access record on stderr too");
	env_free(&e);
}

START_TEST(test_tunnel_record_text)
{
	check_tunnel_record(0);
}
END_TEST

START_TEST(test_tunnel_record_json)
{
	check_tunnel_record(1);
}
END_TEST

/*
 * A raw request: its status, and the detail its error body gives
 * ("<status> <reason>: <detail>\n") into detail (when not NULL).
 */
static int
raw_answer(const struct env *e, const char *req, char *detail, size_t len)
{
	struct harness_response	r;
	const char		*d;
	int			fd;

	fd = harness_connect("127.0.0.1", e->p.port, harness_ms(5000));
	ck_assert_int_ge(fd, 0);
	if (req != NULL)
		ck_assert_int_eq(harness_send_str(fd, req), 0);
	EXPECT(&e->p, harness_read_response(fd, &r, harness_ms(10000)) == 0,
	    "no answer to %s", req != NULL ? req : "(nothing)");
	close(fd);
	if (detail != NULL) {
		d = strstr(r.body, ": ");
		ck_assert_msg(d != NULL, "no detail in %s", r.body);
		snprintf(detail, len, "%.*s", (int)strcspn(d + 2, "\n"),
		    d + 2);
	}
	return r.status;
}

/* A raw request and the status it must get. */
static int
raw_request(const struct env *e, const char *req)
{
	return raw_answer(e, req, NULL, 0);
}

static void
write_users(const struct env *e, char *path, size_t len)
{
	char	text[512];
	char	*h = crypt("secret", "$6$observesalt$");

	ck_assert_ptr_nonnull(h);
	snprintf(path, len, "%s/users", e->dir);
	snprintf(text, sizeof(text), "alice:%s\n", h);
	ck_assert_int_eq(harness_write_file(path, text), 0);
}

/* Each refusal reason (JSON records), then a tunnel with a user. */
START_TEST(test_refusal_records)
{
	static const struct {
		const char	*req;
		int		 status;
		const char	*reason;
		const char	*target;	/* NULL: none */
	} cases[] = {
		{ "CONNECT 127.0.0.1:80 HTTP/1.1\r\nHost: 127.0.0.1:80\r\n"
		  "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\n", 403,
		  "port_denied", "127.0.0.1:80" },
		{ "CONNECT a.blocked.example:443 HTTP/1.1\r\nHost: "
		  "a.blocked.example:443\r\nProxy-Authorization: Basic "
		  "YWxpY2U6c2VjcmV0\r\n\r\n", 403, "dest_denied",
		  "a.blocked.example:443" },
		{ "CONNECT nope HTTP/1.1\r\n\r\n", 400, "bad_request", NULL },
		{ "GET / HTTP/1.1\r\nHost: x\r\n\r\n", 405,
		  "method_not_allowed", NULL },
		{ "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n"
		  "\r\n", 407, "auth_required", "127.0.0.1:443" },
		{ "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: 127.0.0.1:443\r\n"
		  "Proxy-Authorization: Basic YWxpY2U6d3Jvbmc=\r\n\r\n", 407,
		  "auth_failed", "127.0.0.1:443" },
		{ NULL, 408, "header_timeout", NULL },
	};
	struct env	e;
	struct kv	kv[KV_MAX];
	char		users[HARNESS_PATH_MAX + 16], extra[1024], big[1400];
	char		req[512], detail[256];
	size_t		i;
	int		n, closed, fd, port;

	if (!harness_bin_has_crypt()) {
		fprintf(stderr, "SKIP %s: built without crypt(3)\n",
		    __func__);
		return;
	}
	env_dir(&e);
	write_users(&e, users, sizeof(users));
	snprintf(extra, sizeof(extra), "access_log_format json\n"
	    "allow_port 443\nallow_port 1024-65535\n"
	    "deny_dest .blocked.example\nheader_timeout 500ms\n"
	    "max_header_size 1K\nauth_file %s\n", users);
	/* allow_port 1-65535 from env_start covers 80: use our own list. */
	snprintf(e.log, sizeof(e.log), "%s/access.log", e.dir);
	{
		char	conf[CONF_MAX];

		snprintf(conf, sizeof(conf), "access_log %s\ncontrol_socket "
		    "%s\nallow_dest 127.0.0.0/8\nworkers_start 2\n%s",
		    e.log, e.sock, extra);
		ck_assert(harness_proxy_start(&e.p, conf) == 0);
	}
	for (i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		EXPECT(&e.p, raw_answer(&e, cases[i].req, detail,
		    sizeof(detail)) == cases[i].status, "%s: status",
		    cases[i].reason);
		EXPECT(&e.p, wait_lines(e.log, (int)i + 1) == (int)i + 1,
		    "%s: no record", cases[i].reason);
		n = parse_record(lines[i], 1, kv);
		ck_assert_int_eq(kv_num(kv, n, "status", 1), cases[i].status);
		ck_assert_str_eq(kv_str(kv, n, "reason"), cases[i].reason);
		/* Every refusal has its Proxy-Status error type. */
		ck_assert_msg(kv_str(kv, n, "error") != NULL, "error: %s",
		    lines[i]);
		/* The cause, as the client read it. */
		ck_assert_str_eq(kv_str(kv, n, "detail"), detail);
		/* Unknown: no key in JSON (no null, no "-"). */
		if (cases[i].target == NULL)
			ck_assert_msg(kv_get(kv, n, "target") == NULL,
			    "target: %s", lines[i]);
		else
			ck_assert_str_eq(kv_str(kv, n, "target"),
			    cases[i].target);
		ck_assert_ptr_null(kv_get(kv, n, "dialed"));
		ck_assert_int_eq(kv_num(kv, n, "bytes_up", 1), 0);
		if (strcmp(cases[i].reason, "dest_denied") == 0)
			ck_assert_str_eq(kv_str(kv, n, "rule"),
			    "deny_dest .blocked.example");
		else
			ck_assert_ptr_null(kv_get(kv, n, "rule"));
		if (strcmp(cases[i].reason, "port_denied") == 0)
			ck_assert_str_eq(kv_str(kv, n, "user"), "alice");
		if (strcmp(cases[i].reason, "auth_required") == 0)
			ck_assert_msg(kv_get(kv, n, "user") == NULL,
			    "user: %s", lines[i]);
	}
	/* header_too_large: a head past max_header_size. */
	memset(big, 'a', sizeof(big) - 1);
	big[sizeof(big) - 1] = '\0';
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:443 HTTP/1.1\r\nX: ");
	fd = harness_connect("127.0.0.1", e.p.port, harness_ms(5000));
	ck_assert_int_ge(fd, 0);
	(void)harness_send_str(fd, req);
	(void)harness_send_str(fd, big);
	closed = harness_wait_eof(fd, harness_ms(10000)) >= 0;
	close(fd);
	ck_assert(closed);
	i = sizeof(cases) / sizeof(cases[0]);
	EXPECT(&e.p, wait_lines(e.log, (int)i + 1) == (int)i + 1,
	    "header_too_large: no record");
	n = parse_record(lines[i], 1, kv);
	ck_assert_int_eq(kv_num(kv, n, "status", 1), 431);
	ck_assert_str_eq(kv_str(kv, n, "reason"), "header_too_large");
	ck_assert_str_eq(kv_str(kv, n, "error"), "http_request_error");
	/* connect_failed: a port nobody listens on. */
	port = harness_closed_port(AF_INET, &fd);
	ck_assert_int_ne(port, -1);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\nProxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n"
	    "\r\n", port, port);
	EXPECT(&e.p, raw_request(&e, req) == 502, "connect_failed status");
	close(fd);
	EXPECT(&e.p, wait_lines(e.log, (int)i + 2) == (int)i + 2,
	    "connect_failed: no record");
	n = parse_record(lines[i + 1], 1, kv);
	ck_assert_str_eq(kv_str(kv, n, "reason"), "connect_failed");
	ck_assert_int_eq(kv_num(kv, n, "status", 1), 502);
	ck_assert_str_eq(kv_str(kv, n, "error"), "connection_refused");
	env_free(&e);
}
END_TEST

static int	wait_state(const struct env *, const char *);

/* client_denied and client_limit need their own settings. */
START_TEST(test_client_refusals)
{
	struct env	e;
	struct kv	kv[KV_MAX];
	int		hold, n;

	env_dir(&e);
	env_start(&e, "max_tunnels_per_client 1\nheader_timeout 2s\n");
	/* One connection with half a head holds the client's only slot (one
	 * that says nothing would wait in the kernel: TCP_DEFER_ACCEPT). */
	hold = harness_connect("127.0.0.1", e.p.port, harness_ms(5000));
	ck_assert_int_ge(hold, 0);
	ck_assert_int_eq(harness_send(hold, "C", 1), 0);
	EXPECT(&e.p, wait_state(&e, "reading") == 0,
	    "the silent connection was never taken by a worker");
	EXPECT(&e.p, raw_request(&e, "CONNECT 127.0.0.1:443 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:443\r\n\r\n") == 429, "client_limit status");
	EXPECT(&e.p, wait_lines(e.log, 1) >= 1, "client_limit: no record");
	n = parse_record(lines[0], 0, kv);
	ck_assert_str_eq(kv_str(kv, n, "reason"), "client_limit");
	ck_assert_int_eq(kv_num(kv, n, "status", 0), 429);
	ck_assert_str_eq(kv_str(kv, n, "target"), "-");
	close(hold);
	harness_proxy_free(&e.p);
	unlink(e.log);
	env_start(&e, "allow_client 10.0.0.0/8\n");
	EXPECT(&e.p, raw_request(&e, "CONNECT 127.0.0.1:443 HTTP/1.1\r\n"
	    "Host: 127.0.0.1:443\r\n\r\n") == 403, "client_denied status");
	EXPECT(&e.p, wait_lines(e.log, 1) == 1, "client_denied: no record");
	n = parse_record(lines[0], 0, kv);
	ck_assert_str_eq(kv_str(kv, n, "reason"), "client_denied");
	ck_assert_int_eq(kv_num(kv, n, "status", 0), 403);
	env_free(&e);
}
END_TEST

/* Rotation */

/*
 * logrotate's way: rename the files, USR1 the master.  Workers run as
 * nobody (when we are root) and the directory is root's 0700, so no
 * worker could open the new file itself.  Records of idle workers and of
 * a tunnel open across the rotation land in the new file; the renamed one
 * keeps exactly what was written before.
 */
START_TEST(test_usr1_reopen)
{
	struct env	e;
	char		extra[512], errlog[HARNESS_PATH_MAX + 32];
	char		old[HARNESS_PATH_MAX + 40], olderr[HARNESS_PATH_MAX + 40];
	char		needle[32];
	struct stat	st;
	int		busy, fd, n;

	env_dir(&e);
	ck_assert_int_eq(chmod(e.dir, 0700), 0);
	snprintf(errlog, sizeof(errlog), "%s/error.log", e.dir);
	snprintf(old, sizeof(old), "%s.1", e.log);
	snprintf(olderr, sizeof(olderr), "%s.1", errlog);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(extra, sizeof(extra), "error_log %s\n%s", errlog,
	    geteuid() == 0 && getpwnam("nobody") != NULL ? "user nobody\n" :
	    "");
	env_start(&e, extra);
	ck_assert_int_eq(stat(e.log, &st), 0);
	ck_assert_int_eq(st.st_mode & 0777, 0640);
	EXPECT(&e.p, harness_file_wait(errlog, "started", 1) == 1,
	    "no error_log");

	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 11);
	harness_tunnel_end(fd);
	EXPECT(&e.p, wait_lines(e.log, 1) == 1, "first record");
	busy = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, busy, 22);

	ck_assert_int_eq(rename(e.log, old), 0);
	ck_assert_int_eq(rename(errlog, olderr), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGUSR1), 0);
	EXPECT(&e.p, harness_file_wait(errlog, "log files reopened", 1) == 1,
	    "no reopen in the new error_log");

	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 33);
	harness_tunnel_end(fd);
	harness_echo_bytes(&e.p, busy, 44);
	harness_tunnel_end(busy);
	EXPECT(&e.p, wait_lines(e.log, 2) == 2, "two records after USR1");
	snprintf(needle, sizeof(needle), "bytes_up=33 ");
	ck_assert_int_eq(harness_file_count(e.log, needle), 1);
	snprintf(needle, sizeof(needle), "bytes_up=66 ");
	ck_assert_int_eq(harness_file_count(e.log, needle), 1);
	/* Stop: the workers' last words go to the new files too. */
	harness_proxy_stop(&e.p);
	n = read_lines(old, lines, LINES_MAX);
	ck_assert_msg(n == 1 && strstr(lines[0], "bytes_up=11 ") != NULL,
	    "renamed file got %d records", n);
	ck_assert_int_eq(harness_file_count(olderr, "log files reopened"), 0);
	ck_assert_int_eq(harness_file_count(olderr, "stopping"), 0);
	ck_assert_int_eq(harness_file_count(errlog, "stopping"), 1);
	env_free(&e);
}
END_TEST

/* status and metrics */

static int
run_cli(const struct env *e, const char *cmd, char *out, size_t len)
{
	char	*argv[] = { (char *)harness_bin(), (char *)"-c",
	    (char *)e->p.conf, (char *)cmd, NULL };

	return harness_run(argv, NULL, out, len, harness_ms(10000));
}

/* The row of `status` whose TARGET is target, split into 8 columns. */
static int
status_row(const char *out, const char *target, char cols[8][128])
{
	const char	*s, *eol;
	char		 row[512];
	int		 n;

	for (s = out; *s != '\0'; s = *eol ? eol + 1 : eol) {
		eol = s + strcspn(s, "\n");
		snprintf(row, sizeof(row), "%.*s", (int)(eol - s), s);
		n = sscanf(row, "%127s %127s %127s %127s %127s %127s %127s "
		    "%127s", cols[0], cols[1], cols[2], cols[3], cols[4],
		    cols[5], cols[6], cols[7]);
		if (n == 8 && strcmp(cols[7], target) == 0)
			return 0;
	}
	return -1;
}

/* Wait until `status` lists a worker in `state`.  Returns 0 or -1. */
static int
wait_state(const struct env *e, const char *state)
{
	static char	out[OUT_MAX];
	char		row[512], cols[3][128];
	const char	*s, *eol;
	long long	deadline = harness_now_ms() + harness_ms(10000);

	do {
		if (run_cli(e, "status", out, sizeof(out)) != 0)
			return -1;
		for (s = out; *s != '\0'; s = *eol ? eol + 1 : eol) {
			eol = s + strcspn(s, "\n");
			snprintf(row, sizeof(row), "%.*s", (int)(eol - s), s);
			if (sscanf(row, "%127s %127s %127s", cols[0], cols[1],
			    cols[2]) == 3 && strcmp(cols[2], state) == 0)
				return 0;
		}
		usleep(20000);
	} while (harness_now_ms() < deadline);
	return -1;
}

START_TEST(test_status_open_tunnel)
{
	struct env	e;
	static char	out[OUT_MAX];
	char		cols[8][128], target[64];
	long long	deadline;
	int		fd, st, found = -1;

	env_dir(&e);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	env_start(&e, "");
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 1000);
	harness_echo_bytes(&e.p, fd, 234);
	snprintf(target, sizeof(target), "127.0.0.1:%d", e.t.port);
	/* The relay counts a byte once written; the echo proves it was. */
	deadline = harness_now_ms() + harness_ms(5000);
	do {
		st = run_cli(&e, "status", out, sizeof(out));
		EXPECT(&e.p, st == 0, "status exited %d: %s", st, out);
		if ((found = status_row(out, target, cols)) == 0 &&
		    strcmp(cols[4], "1234") == 0 &&
		    strcmp(cols[5], "1234") == 0)
			break;
		usleep(50000);
	} while (harness_now_ms() < deadline);
	EXPECT(&e.p, found == 0, "no row for %s:\n%s", target, out);
	ck_assert_str_eq(cols[2], "relaying");
	ck_assert_str_eq(cols[4], "1234");
	ck_assert_str_eq(cols[5], "1234");
	ck_assert_int_gt(atoi(cols[0]), 0);
	ck_assert_int_eq(strncmp(cols[6], "127.0.0.1:", 10), 0);
	ck_assert_msg(cols[3][strlen(cols[3]) - 1] == 's', "age %s", cols[3]);
	ck_assert_ptr_nonnull(strstr(out, "tunnels: 1 open"));
	harness_tunnel_end(fd);
	/* Without the socket, status fails cleanly. */
	harness_proxy_stop(&e.p);
	st = run_cli(&e, "status", out, sizeof(out));
	ck_assert_msg(st != 0 && strstr(out, "connect to") != NULL,
	    "status without a proxy: %d %s", st, out);
	env_free(&e);
}
END_TEST

/*
 * A strict parser of the Prometheus text format (0.0.4): # HELP and
 * # TYPE once per family and before its samples, families not
 * interleaved, metric and label names by the grammar, label values
 * escaped, one numeric value, no duplicate series, counters >= 0.
 */
#define PROM_MAX	256

struct prom {
	int	 n;
	char	 series[PROM_MAX][160];	/* name{labels} as written */
	double	 value[PROM_MAX];
	char	 err[256];
};

static int
prom_fail(struct prom *m, int line, const char *why)
{
	snprintf(m->err, sizeof(m->err), "line %d: %s", line, why);
	return -1;
}

static size_t
name_len(const char *s, int colon)
{
	size_t	n = 0;

	if (!(isalpha((unsigned char)s[0]) || s[0] == '_' ||
	    (colon && s[0] == ':')))
		return 0;
	while (isalnum((unsigned char)s[n]) || s[n] == '_' ||
	    (colon && s[n] == ':'))
		n++;
	return n;
}

/* {a="x",b="y"} at s; returns its length or 0. */
static size_t
labels_len(const char *s)
{
	const char	*p = s + 1;
	size_t		 n;

	if (*s != '{')
		return 0;
	while (*p != '}') {
		if ((n = name_len(p, 0)) == 0 || p[n] != '=' || p[n + 1] != '"')
			return 0;
		for (p += n + 2; *p != '"'; p++) {
			if (*p == '\0' || *p == '\n')
				return 0;
			if (*p == '\\' && p[1] != '\\' && p[1] != '"' &&
			    p[1] != 'n')
				return 0;
			if (*p == '\\')
				p++;
		}
		p++;
		if (*p == ',')
			p++;
		else if (*p != '}')
			return 0;
	}
	return (size_t)(p - s) + 1;
}

static int
prom_value(const char *s, double *v)
{
	char	*end;

	if (strcmp(s, "NaN") == 0 || strcmp(s, "+Inf") == 0 ||
	    strcmp(s, "-Inf") == 0) {
		*v = strcmp(s, "-Inf") == 0 ? -INFINITY : INFINITY;
		return 0;
	}
	if (*s == '\0' || isspace((unsigned char)*s))
		return -1;
	*v = strtod(s, &end);
	return *end == '\0' ? 0 : -1;
}

static int
prom_parse(const char *text, struct prom *m)
{
	char		 line[512], fam[PROM_MAX][96], type[PROM_MAX][16];
	char		 name[96], cur[96] = "";
	int		 nfam = 0, lineno = 0, help[PROM_MAX] = { 0 }, i, f;
	const char	*s = text, *eol, *sp;
	size_t		 n, l;

	memset(m, 0, sizeof(*m));
	if (*text == '\0' || text[strlen(text) - 1] != '\n')
		return prom_fail(m, 0, "empty or no final newline");
	for (; *s != '\0'; s = eol + 1) {
		lineno++;
		eol = strchr(s, '\n');
		if ((size_t)(eol - s) >= sizeof(line))
			return prom_fail(m, lineno, "line too long");
		snprintf(line, sizeof(line), "%.*s", (int)(eol - s), s);
		if (strncmp(line, "# HELP ", 7) == 0 ||
		    strncmp(line, "# TYPE ", 7) == 0) {
			n = name_len(line + 7, 1);
			if (n == 0 || n >= sizeof(name) || line[7 + n] != ' ')
				return prom_fail(m, lineno, "bad HELP/TYPE");
			snprintf(name, sizeof(name), "%.*s", (int)n, line + 7);
			for (f = 0; f < nfam && strcmp(fam[f], name) != 0; f++)
				continue;
			if (f == nfam) {
				if (nfam == PROM_MAX)
					return prom_fail(m, lineno, "families");
				snprintf(fam[nfam], sizeof(fam[0]), "%s", name);
				type[nfam++][0] = '\0';
			} else if (strcmp(cur, name) != 0)
				return prom_fail(m, lineno, "family again");
			snprintf(cur, sizeof(cur), "%s", name);
			sp = line + 8 + n;
			if (line[2] == 'H') {
				if (help[f]++ || type[f][0] != '\0' ||
				    *sp == '\0')
					return prom_fail(m, lineno,
					    "HELP twice, late or empty");
				continue;
			}
			if (type[f][0] != '\0' || (strcmp(sp, "counter") &&
			    strcmp(sp, "gauge") && strcmp(sp, "untyped") &&
			    strcmp(sp, "summary") && strcmp(sp, "histogram")))
				return prom_fail(m, lineno, "bad TYPE");
			snprintf(type[f], sizeof(type[0]), "%s", sp);
			continue;
		}
		if (line[0] == '#' || line[0] == '\0')
			return prom_fail(m, lineno, "stray comment or blank");
		n = name_len(line, 1);
		if (n == 0 || n >= sizeof(name))
			return prom_fail(m, lineno, "bad metric name");
		snprintf(name, sizeof(name), "%.*s", (int)n, line);
		l = line[n] == '{' ? labels_len(line + n) : 0;
		if (line[n] == '{' && l == 0)
			return prom_fail(m, lineno, "bad labels");
		if (line[n + l] != ' ')
			return prom_fail(m, lineno, "no space before value");
		for (f = 0; f < nfam && strcmp(fam[f], name) != 0; f++)
			continue;
		if (f == nfam || strcmp(cur, name) != 0 || !help[f] ||
		    type[f][0] == '\0')
			return prom_fail(m, lineno, "sample without its "
			    "HELP and TYPE just before");
		if (m->n == PROM_MAX || n + l >= sizeof(m->series[0]))
			return prom_fail(m, lineno, "too many samples");
		snprintf(m->series[m->n], sizeof(m->series[0]), "%.*s",
		    (int)(n + l), line);
		if (prom_value(line + n + l + 1, &m->value[m->n]) == -1)
			return prom_fail(m, lineno, "bad value");
		if (strcmp(type[f], "counter") == 0 && (m->value[m->n] < 0 ||
		    strlen(name) < 6 ||
		    strcmp(name + strlen(name) - 6, "_total") != 0))
			return prom_fail(m, lineno, "bad counter");
		for (i = 0; i < m->n; i++)
			if (strcmp(m->series[i], m->series[m->n]) == 0)
				return prom_fail(m, lineno, "duplicate series");
		m->n++;
	}
	return 0;
}

static double
prom_get(const struct prom *m, const char *series)
{
	int	i;

	for (i = 0; i < m->n; i++)
		if (strcmp(m->series[i], series) == 0)
			return m->value[i];
	return -1;
}

/* The checker itself rejects what it should. */
START_TEST(test_prom_checker)
{
	static const char *const bad[] = {
		"a_total 1\n",
		"# TYPE a gauge\n# HELP a x\na 1\n",
		"# HELP a x\n# TYPE a gauge\na{b=\"c} 1\n",
		"# HELP a x\n# TYPE a gauge\na{1b=\"c\"} 1\n",
		"# HELP a x\n# TYPE a gauge\na 1x\n",
		"# HELP a x\n# TYPE a gauge\na 1\na 2\n",
		"# HELP a x\n# TYPE a gauge\na  1\n",
		"# HELP a_total x\n# TYPE a_total counter\na_total -1\n",
		"# HELP a x\n# TYPE a counter\na 1\n",
		"# HELP a x\n# TYPE a gauge\na 1",
		("# HELP a x\n# TYPE a gauge\n# HELP b y\n# TYPE b gauge\n"
		    "b 1\na 1\n"),
		"# HELP a x\n# TYPE a metric\na 1\n",
	};
	struct prom	m;
	size_t		i;

	ck_assert_int_eq(prom_parse("# HELP a x y\n# TYPE a gauge\n"
	    "a{b=\"c\\\"d\",e=\"\"} 1.5\na 2\n", &m), 0);
	ck_assert_int_eq(m.n, 2);
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(prom_parse(bad[i], &m) == -1, "accepted: %s",
		    bad[i]);
}
END_TEST

/* control_metrics() on a scoreboard filled by hand. */
START_TEST(test_metrics_unit)
{
	struct scoreboard	*sb = scoreboard_create(4);
	struct sb_table		*tab;
	struct prom		 m;
	char			*text;

	ck_assert_ptr_nonnull(sb);
	tab = calloc(1, sizeof(*tab) + 4 * sizeof(tab->procs[0]));
	ck_assert_ptr_nonnull(tab);
	tab->nslots = 4;
	tab->procs[0].pid = 100;
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	tab->procs[1].pid = 101;
	scoreboard_set_state(sb, &sb->slots[1], SB_IDLE);
	scoreboard_account(sb, 200, "client_eof", 10, 20);
	scoreboard_account(sb, 407, "auth_failed", 0, 0);
	scoreboard_account(sb, 403, "port_denied", 0, 0);
	scoreboard_account(sb, 502, "something_new", 0, 0);
	scoreboard_reload(sb, 1);
	scoreboard_reload(sb, 0);
	scoreboard_reload(sb, 0);
	ck_assert_ptr_nonnull(text = control_metrics(sb, tab));
	ck_assert_msg(prom_parse(text, &m) == 0, "%s\n%s", m.err, text);
	ck_assert(prom_get(&m, "connectproxy_tunnels_active") == 1);
	ck_assert(prom_get(&m, "connectproxy_tunnels_total{status=\"200\"}")
	    == 1);
	ck_assert(prom_get(&m, "connectproxy_tunnels_total{status=\"407\"}")
	    == 1);
	ck_assert(prom_get(&m, "connectproxy_bytes_total{direction=\"up\"}")
	    == 10);
	ck_assert(prom_get(&m,
	    "connectproxy_bytes_total{direction=\"down\"}") == 20);
	ck_assert(prom_get(&m, "connectproxy_workers{state=\"idle\"}") == 1);
	ck_assert(prom_get(&m, "connectproxy_workers{state=\"relaying\"}")
	    == 1);
	ck_assert(prom_get(&m, "connectproxy_auth_failures_total") == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_refusals_total{reason=\"port_denied\"}") == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_refusals_total{reason=\"other\"}") == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_reloads_total{result=\"failed\"}") == 2);
	ck_assert(prom_get(&m, "connectproxy_reloads_total{result=\"ok\"}")
	    == 1);
	free(text);
	scoreboard_destroy(sb, 4);
	free(tab);
}
END_TEST

static void
unix_addr(const char *path, struct sockaddr_un *sun)
{
	memset(sun, 0, sizeof(*sun));
	sun->sun_family = AF_UNIX;
	ck_assert_uint_lt(strlen(path), sizeof(sun->sun_path));
	memcpy(sun->sun_path, path, strlen(path) + 1);
}

/* GET /metrics on the control socket: an HTTP answer, same body. */
static void
http_metrics(const struct env *e, struct prom *m)
{
	struct sockaddr_un	sun;
	static char		buf[OUT_MAX];
	char			*body;
	ssize_t			n;
	size_t			len = 0;
	int			fd;

	unix_addr(e->sock, &sun);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sun, sizeof(sun)),
	    0);
	ck_assert_int_eq(harness_send_str(fd, "GET /metrics HTTP/1.1\r\n"
	    "Host: localhost\r\nAccept: text/plain\r\n\r\n"), 0);
	while ((n = harness_recv_exact(fd, buf + len, sizeof(buf) - 1 - len,
	    harness_ms(5000))) > 0)
		len += (size_t)n;
	close(fd);
	buf[len] = '\0';
	ck_assert_msg(strncmp(buf, "HTTP/1.0 200 OK\r\n", 17) == 0, "%s", buf);
	ck_assert_ptr_nonnull(strstr(buf, "Content-Type: text/plain; "
	    "version=0.0.4"));
	ck_assert_ptr_nonnull(body = strstr(buf, "\r\n\r\n"));
	body += 4;
	ck_assert_msg(prom_parse(body, m) == 0, "%s", m->err);
}

static void
check_promtool(const char *text)
{
	char	*argv[] = { (char *)"promtool", (char *)"check",
	    (char *)"metrics", NULL };
	char	 out[4096];
	int	 st;

	if (!harness_have("promtool"))
		return;
	st = harness_run(argv, text, out, sizeof(out), harness_ms(10000));
	ck_assert_msg(st == 0, "promtool: %s", out);
}

START_TEST(test_metrics_match_traffic)
{
	struct env	e;
	struct prom	m;
	static char	out[OUT_MAX];
	int		fd, st, i;

	env_dir(&e);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	env_start(&e, "deny_dest .blocked.example\n");
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 100);
	harness_tunnel_end(fd);
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 2000);
	harness_echo_bytes(&e.p, fd, 3);
	harness_tunnel_end(fd);
	EXPECT(&e.p, raw_request(&e, "CONNECT x.blocked.example:443 HTTP/1.1"
	    "\r\nHost: x.blocked.example:443\r\n\r\n") == 403, "deny");
	EXPECT(&e.p, raw_request(&e, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    405, "GET");
	EXPECT(&e.p, wait_lines(e.log, 4) == 4, "four records");
	/* A reload that works and one that does not. */
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reloaded", NULL, NULL, 0,
	    harness_ms(10000)) == 0, "no reload");
	st = run_cli(&e, "metrics", out, sizeof(out));
	EXPECT(&e.p, st == 0, "metrics exited %d: %s", st, out);
	ck_assert_msg(prom_parse(out, &m) == 0, "%s\n%s", m.err, out);
	check_promtool(out);
	ck_assert(prom_get(&m, "connectproxy_tunnels_total{status=\"200\"}")
	    == 2);
	ck_assert(prom_get(&m, "connectproxy_tunnels_total{status=\"403\"}")
	    == 1);
	ck_assert(prom_get(&m, "connectproxy_tunnels_total{status=\"405\"}")
	    == 1);
	ck_assert(prom_get(&m, "connectproxy_bytes_total{direction=\"up\"}")
	    == 2103);
	ck_assert(prom_get(&m,
	    "connectproxy_bytes_total{direction=\"down\"}") == 2103);
	ck_assert(prom_get(&m,
	    "connectproxy_refusals_total{reason=\"dest_denied\"}") == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_refusals_total{reason=\"method_not_allowed\"}")
	    == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_refusals_total{reason=\"bad_request\"}") == 0);
	ck_assert(prom_get(&m, "connectproxy_tunnels_active") == 0);
	ck_assert(prom_get(&m, "connectproxy_auth_failures_total") == 0);
	ck_assert(prom_get(&m, "connectproxy_reloads_total{result=\"ok\"}")
	    == 1);
	ck_assert(prom_get(&m,
	    "connectproxy_reloads_total{result=\"failed\"}") == 0);
	for (i = 0, st = 0; i < m.n; i++)
		if (strncmp(m.series[i], "connectproxy_workers{", 21) == 0)
			st += (int)m.value[i];
	ck_assert_int_ge(st, 1);
	/* The same numbers over HTTP. */
	http_metrics(&e, &m);
	ck_assert(prom_get(&m, "connectproxy_bytes_total{direction=\"up\"}")
	    == 2103);
	env_free(&e);
}
END_TEST

/* A client that connects and never speaks does not stall the master. */
START_TEST(test_control_stuck_client)
{
	struct env		e;
	struct sockaddr_un	sun;
	static char		out[OUT_MAX];
	int			fds[CONTROL_CONNS + 2], i, st;
	long long		t0;

	env_dir(&e);
	env_start(&e, "");
	unix_addr(e.sock, &sun);
	for (i = 0; i < CONTROL_CONNS + 2; i++) {
		fds[i] = socket(AF_UNIX, SOCK_STREAM, 0);
		ck_assert_int_ge(fds[i], 0);
		(void)connect(fds[i], (struct sockaddr *)&sun, sizeof(sun));
	}
	/* The master still answers HUP (pool management) at once. */
	t0 = harness_now_ms();
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reloaded", NULL, NULL, 0,
	    harness_ms(10000)) == 0, "no reload");
	ck_assert_int_lt(harness_now_ms() - t0, harness_ms(1500));
	/* The stuck clients are dropped after their deadline; then status
	 * is served again. */
	st = run_cli(&e, "status", out, sizeof(out));
	EXPECT(&e.p, st == 0, "status after stuck clients: %d %s", st, out);
	for (i = 0; i < CONTROL_CONNS + 2; i++)
		close(fds[i]);
	env_free(&e);
}
END_TEST

/*
 * A reload whose access_log cannot be opened fails as a whole: the new
 * listen address is not kept, and records go on to the old file in the
 * old format.
 */
START_TEST(test_reload_bad_log_file)
{
	struct env	e;
	struct kv	kv[KV_MAX];
	static char	out[OUT_MAX];
	char		conf[CONF_MAX], bad[HARNESS_PATH_MAX + 64];
	char		line[1024];
	int		q, fd, n;

	env_dir(&e);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	env_start(&e, "access_log_format text\n");
	q = harness_free_port(AF_INET);
	ck_assert_int_gt(q, 0);
	snprintf(bad, sizeof(bad), "%s/missing/access.log", e.dir);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d\naccess_log %s\n"
	    "access_log_format json\ncontrol_socket %s\n"
	    "allow_port 1-65535\nallow_dest 127.0.0.0/8\nworkers_start 2\n",
	    q, bad, e.sock);
	ck_assert_int_eq(harness_proxy_rewrite_config(&e.p, conf), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reload failed", NULL, line,
	    sizeof(line), harness_ms(10000)) == 0, "a reload to an access_log "
	    "in a missing directory was not reported failed");
	EXPECT(&e.p, strstr(line, bad) != NULL && strstr(line,
	    "still serving generation 0") != NULL, "the failure does not "
	    "name %s: %s", bad, line);
	EXPECT(&e.p, harness_proxy_count_log(&e.p, "reloaded:") == 0,
	    "also reported reloaded");
	EXPECT(&e.p, harness_connect("127.0.0.1", q, harness_ms(1000)) == -1,
	    "the failed reload's listen address 127.0.0.1:%d accepts", q);
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 7);
	harness_tunnel_end(fd);
	EXPECT(&e.p, wait_lines(e.log, 1) == 1, "no record in the old file");
	ck_assert_msg(lines[0][0] != '{', "record in the new format: %s",
	    lines[0]);
	n = parse_record(lines[0], 0, kv);
	ck_assert_int_eq(kv_num(kv, n, "bytes_up", 0), 7);
	ck_assert_msg(run_cli(&e, "status", out, sizeof(out)) == 0 &&
	    strstr(out, "reloads: 0 ok, 1 failed") != NULL,
	    "status: %s", out);
	env_free(&e);
}
END_TEST

/*
 * A logrotate during a graceful (QUIT) drain: the record of the tunnel
 * that ends after USR1 lands in the new file at the configured path.
 */
START_TEST(test_usr1_during_quit)
{
	struct env	e;
	char		old[HARNESS_PATH_MAX + 40];
	int		busy, n;

	env_dir(&e);
	snprintf(old, sizeof(old), "%s.1", e.log);
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	env_start(&e, "");
	busy = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, busy, 22);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGQUIT), 0);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "graceful stop", NULL, NULL,
	    0, harness_ms(5000)) == 0, "no \"graceful stop\" line");
	ck_assert_int_eq(rename(e.log, old), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGUSR1), 0);
	/* Not asserted here: where the record lands says it all. */
	(void)harness_proxy_wait_log(&e.p, "log files reopened", NULL, NULL,
	    0, harness_ms(3000));
	harness_echo_bytes(&e.p, busy, 11);
	harness_tunnel_end(busy);
	EXPECT(&e.p, harness_proxy_wait_exit(&e.p, harness_ms(10000)) == 0,
	    "the master did not exit after the last tunnel");
	n = read_lines(old, lines, LINES_MAX);
	EXPECT(&e.p, n == 0, "USR1 during the drain ignored: %d record(s) "
	    "went to the rotated file %s", n, old);
	n = read_lines(e.log, lines, LINES_MAX);
	EXPECT(&e.p, n == 1 && strstr(lines[0], "bytes_up=33 ") != NULL,
	    "%d record(s) in the new %s", n, e.log);
	env_free(&e);
}
END_TEST

/* --- a parent's refusal counted under its own reason ------------------ */

/* A listening socket on 127.0.0.1, its port in *port. */
static int
listen_loopback(int *port)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	int			fd;

	ck_assert_int_ge(fd = socket(AF_INET, SOCK_STREAM, 0), 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(fd, 4), 0);
	ck_assert_int_eq(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	*port = ntohs(sin.sin_port);
	return fd;
}

/*
 * Play a parent proxy for one connection on lfd: read its request head,
 * answer `answer`, close.  Returns 0 or -1.
 */
static int
parent_answer(int lfd, const char *answer)
{
	struct pollfd	pfd = { .fd = lfd, .events = POLLIN };
	char		head[HARNESS_HEAD_MAX];
	int		fd, rc;

	if (poll(&pfd, 1, harness_ms(10000)) != 1 ||
	    (fd = accept(lfd, NULL, NULL)) == -1)
		return -1;
	rc = harness_recv_head(fd, head, sizeof(head), harness_ms(10000)) > 0 &&
	    strncmp(head, "CONNECT ", 8) == 0 &&
	    harness_send_str(fd, answer) == 0 ? 0 : -1;
	close(fd);
	return rc;
}

/*
 * A parent that answers 403 makes us answer 502 with reason
 * upstream_refused, and `connectproxy metrics` counts it under that
 * label, not under "other".
 */
START_TEST(test_metrics_upstream_refused)
{
	struct env		e;
	struct harness_response	r;
	struct prom		m;
	static char		out[OUT_MAX];
	char			extra[128];
	int			lfd, port, fd, st;

	env_dir(&e);
	lfd = listen_loopback(&port);
	snprintf(extra, sizeof(extra), "upstream 127.0.0.1:%d\n", port);
	env_start(&e, extra);
	fd = harness_connect("127.0.0.1", e.p.port, harness_ms(5000));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_send_str(fd, "CONNECT example.org:443 "
	    "HTTP/1.1\r\nHost: example.org:443\r\n\r\n"), 0);
	EXPECT(&e.p, parent_answer(lfd, "HTTP/1.1 403 Forbidden\r\n"
	    "Content-Length: 0\r\n\r\n") == 0, "the parent was not asked");
	EXPECT(&e.p, harness_read_response(fd, &r, harness_ms(10000)) == 0 &&
	    r.status == 502, "a parent's 403 gave %d", r.status);
	close(fd);
	close(lfd);
	EXPECT(&e.p, wait_lines(e.log, 1) == 1, "no record");
	EXPECT(&e.p, strstr(lines[0], " reason=upstream_refused") != NULL,
	    "record: %s", lines[0]);
	st = run_cli(&e, "metrics", out, sizeof(out));
	EXPECT(&e.p, st == 0, "metrics exited %d: %s", st, out);
	ck_assert_msg(prom_parse(out, &m) == 0, "%s\n%s", m.err, out);
	ck_assert_msg(prom_get(&m, "connectproxy_refusals_total{reason="
	    "\"upstream_refused\"}") == 1, "upstream_refused not counted:\n%s",
	    out);
	ck_assert(prom_get(&m, "connectproxy_refusals_total{reason=\"other\"}")
	    == 0);
	env_free(&e);
}
END_TEST

/* --- files the master opens as root ------------------------------------ */

#define VICTIM_TEXT	"precious\n"

/* A file the proxy must never write: path into buf, VICTIM_TEXT in it. */
static void
make_victim(const struct env *e, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s", e->dir, name);
	ck_assert_int_eq(harness_write_file(buf, VICTIM_TEXT), 0);
}

static void
victim_intact(const struct env *e, const char *path)
{
	char	*text = harness_read_file(path);

	EXPECT(&e->p, text != NULL && strcmp(text, VICTIM_TEXT) == 0,
	    "%s was written to: \"%s\"", path, text != NULL ? text : "(gone)");
	free(text);
}

/*
 * Start the proxy (the env's access_log and control_socket, plus
 * `extra`) and expect it to exit 1 at once, saying `needle`.
 */
static void
start_refused(struct env *e, const char *extra, const char *needle)
{
	char	conf[CONF_MAX];
	int	port = harness_free_port(AF_INET);

	ck_assert_int_gt(port, 0);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d\naccess_log %s\n"
	    "control_socket %s\nworkers_start 1\n%s", port, e->log, e->sock,
	    extra);
	ck_assert_int_eq(harness_proxy_spawn(&e->p, conf), 0);
	EXPECT(&e->p, harness_proxy_wait_exit(&e->p, harness_ms(10000)) == 0,
	    "the proxy did not stop (%s)", needle);
	EXPECT(&e->p, WIFEXITED(e->p.status) && WEXITSTATUS(e->p.status) == 1,
	    "exit status %#x, want 1 (%s)", e->p.status, needle);
	EXPECT(&e->p, harness_proxy_count_log(&e->p, needle) == 1,
	    "no \"%s\" in the log", needle);
}

/* A symbolic link at the access_log path: start refused, no write. */
START_TEST(test_log_symlink_at_start)
{
	struct env	e;
	struct stat	st;
	char		victim[HARNESS_PATH_MAX + 32];
	char		needle[HARNESS_PATH_MAX + 64];

	env_dir(&e);
	make_victim(&e, "victim", victim, sizeof(victim));
	ck_assert_int_eq(symlink(victim, e.log), 0);
	snprintf(needle, sizeof(needle), "access_log %s: is a symbolic link",
	    e.log);
	start_refused(&e, "", needle);
	victim_intact(&e, victim);
	ck_assert_int_eq(lstat(e.log, &st), 0);
	ck_assert(S_ISLNK(st.st_mode));
	env_free(&e);
}
END_TEST

/*
 * logrotate renamed the file, and a link took its name before USR1: the
 * reopen fails (said so), records go on to the renamed file, and the
 * file the link points to is untouched.
 */
START_TEST(test_log_symlink_at_usr1)
{
	struct env	e;
	char		victim[HARNESS_PATH_MAX + 32];
	char		old[HARNESS_PATH_MAX + 40], line[1024];

	env_dir(&e);
	make_victim(&e, "victim", victim, sizeof(victim));
	snprintf(old, sizeof(old), "%s.1", e.log);
	env_start(&e, "");
	ck_assert_int_eq(rename(e.log, old), 0);
	ck_assert_int_eq(symlink(victim, e.log), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGUSR1), 0);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reopening logs", NULL, line,
	    sizeof(line), harness_ms(10000)) == 0, "USR1 did not fail");
	EXPECT(&e.p, strstr(line, "is a symbolic link") != NULL &&
	    strstr(line, "still writing to the old ones") != NULL,
	    "unclear: %s", line);
	EXPECT(&e.p, raw_request(&e, "GET / HTTP/1.1\r\nHost: x\r\n\r\n") ==
	    405, "GET");
	EXPECT(&e.p, wait_lines(old, 1) == 1, "no record in %s", old);
	victim_intact(&e, victim);
	env_free(&e);
}
END_TEST

/*
 * Links at the pidfile and at the temporary name it once was written
 * under: neither is followed; the pidfile ends up a file of its own
 * holding the master's pid.
 */
START_TEST(test_pidfile_symlinks)
{
	struct env	e;
	struct stat	st;
	char		victim[HARNESS_PATH_MAX + 32];
	char		victim2[HARNESS_PATH_MAX + 32];
	char		pid[HARNESS_PATH_MAX + 32], tmp[HARNESS_PATH_MAX + 40];
	char		extra[HARNESS_PATH_MAX + 64], want[32], *text;

	env_dir(&e);
	make_victim(&e, "victim", victim, sizeof(victim));
	make_victim(&e, "victim2", victim2, sizeof(victim2));
	snprintf(pid, sizeof(pid), "%s/proxy.pid", e.dir);
	snprintf(tmp, sizeof(tmp), "%s.tmp", pid);
	ck_assert_int_eq(symlink(victim, tmp), 0);
	ck_assert_int_eq(symlink(victim2, pid), 0);
	snprintf(extra, sizeof(extra), "pidfile %s\n", pid);
	env_start(&e, extra);
	/* The port listens before the pidfile is written: wait for it. */
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "started", "workers", NULL, 0,
	    harness_ms(10000)) == 0, "the proxy did not say it started");
	victim_intact(&e, victim);
	victim_intact(&e, victim2);
	EXPECT(&e.p, lstat(pid, &st) == 0 && S_ISREG(st.st_mode),
	    "the pidfile is not a regular file");
	/* No temporary name any more: a link there is not ours to touch. */
	EXPECT(&e.p, lstat(tmp, &st) == 0 && S_ISLNK(st.st_mode),
	    "the link at %s was changed", tmp);
	snprintf(want, sizeof(want), "%ld\n", (long)e.p.pid);
	text = harness_read_file(pid);
	EXPECT(&e.p, text != NULL && strcmp(text, want) == 0, "pidfile "
	    "holds \"%s\", want \"%s\"", text != NULL ? text : "", want);
	free(text);
	env_free(&e);
}
END_TEST

/* The text of the pidfile at path is "PID\n". */
static void
pidfile_names(const struct harness_proxy *p, const char *path, pid_t pid)
{
	char	want[32], *text;

	snprintf(want, sizeof(want), "%ld\n", (long)pid);
	text = harness_read_file(path);
	EXPECT(p, text != NULL && strcmp(text, want) == 0, "pidfile holds "
	    "\"%s\", want \"%s\"", text != NULL ? text : "(gone)", want);
	free(text);
}

/*
 * One instance per pidfile: a second proxy given the pidfile of a running
 * one (its own port, log and control socket) stops at once, exit 1,
 * naming the pidfile and the running pid; the first serves on, its pid
 * still in the file, also once the second is gone; the first's stop
 * removes the file.
 */
START_TEST(test_pidfile_second_instance)
{
	struct env		e;
	struct harness_proxy	second;
	struct stat		st;
	char			pid[HARNESS_PATH_MAX + 32], extra[CONF_MAX];
	char			conf[CONF_MAX], needle[HARNESS_PATH_MAX + 128];
	pid_t			workers[2];
	int			port, fd, i, n;

	env_dir(&e);
	memset(&second, 0, sizeof(second));
	second.pid = -1;
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(pid, sizeof(pid), "%s/proxy.pid", e.dir);
	snprintf(extra, sizeof(extra), "pidfile %s\n", pid);
	env_start(&e, extra);
	pidfile_names(&e.p, pid, e.p.pid);
	/* The lock's descriptor is the master's alone. */
	EXPECT(&e.p, harness_proxy_wait_workers(&e.p, 2, harness_ms(5000)) ==
	    0, "not 2 workers");
	n = harness_proxy_workers(&e.p, workers, 2);
	EXPECT(&e.p, harness_fds_on(e.p.pid, pid) == 1, "the master has no "
	    "descriptor on the pidfile");
	for (i = 0; i < n; i++)
		EXPECT(&e.p, harness_fds_on(workers[i], pid) == 0, "worker %ld "
		    "holds the pidfile open", (long)workers[i]);

	port = harness_free_port(AF_INET);
	ck_assert_int_gt(port, 0);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d\naccess_log "
	    "%s/access2.log\ncontrol_socket %s/ctl2.sock\nworkers_start 1\n"
	    "pidfile %s\n", port, e.dir, e.dir, pid);
	ck_assert_int_eq(harness_proxy_spawn(&second, conf), 0);
	EXPECT(&second, harness_proxy_wait_exit(&second, harness_ms(5000)) ==
	    0, "a second instance on the same pidfile kept running");
	EXPECT(&second, WIFEXITED(second.status) &&
	    WEXITSTATUS(second.status) == 1, "second instance: exit status "
	    "%#x, want 1", second.status);
	snprintf(needle, sizeof(needle), "pidfile %s: in use by a running "
	    "connectproxy (pid %ld)", pid, (long)e.p.pid);
	EXPECT(&second, harness_proxy_count_log(&second, needle) == 1,
	    "no \"%s\" from the second instance", needle);
	/* Refused before binding anything: neither socket was made. */
	fd = harness_connect("127.0.0.1", port, harness_ms(2000));
	EXPECT(&second, fd == -1, "the second instance's port %d answered",
	    port);
	snprintf(extra, sizeof(extra), "%s/ctl2.sock", e.dir);
	EXPECT(&second, lstat(extra, &st) == -1, "%s was made", extra);
	harness_proxy_free(&second);

	/* The first is untouched: serving, its pid still in the file. */
	EXPECT(&e.p, kill(e.p.pid, 0) == 0, "the first instance is gone");
	pidfile_names(&e.p, pid, e.p.pid);
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 100);
	harness_tunnel_end(fd);

	ck_assert_int_eq(harness_proxy_stop(&e.p), 0);
	EXPECT(&e.p, lstat(pid, &st) == -1 && errno == ENOENT,
	    "the pidfile is left after the first instance stopped");
	env_free(&e);
}
END_TEST

/*
 * Only a socket is ever removed at the control_socket path: a regular
 * file or a symbolic link there stops the start and is left as it is;
 * a stale socket (its proxy gone) is replaced.
 */
START_TEST(test_control_socket_not_a_socket)
{
	struct env		e;
	struct sockaddr_un	sun;
	struct stat		st;
	char			victim[HARNESS_PATH_MAX + 32], needle[512];
	char			out[OUT_MAX], *text;
	int			fd;

	env_dir(&e);
	ck_assert_int_eq(harness_write_file(e.sock, "keep me\n"), 0);
	snprintf(needle, sizeof(needle), "control_socket %s: is a regular "
	    "file, not a socket", e.sock);
	start_refused(&e, "", needle);
	text = harness_read_file(e.sock);
	EXPECT(&e.p, text != NULL && strcmp(text, "keep me\n") == 0,
	    "the file at control_socket was changed: \"%s\"",
	    text != NULL ? text : "(gone)");
	free(text);
	harness_proxy_free(&e.p);

	ck_assert_int_eq(unlink(e.sock), 0);
	make_victim(&e, "victim", victim, sizeof(victim));
	ck_assert_int_eq(symlink(victim, e.sock), 0);
	snprintf(needle, sizeof(needle), "control_socket %s: is a symbolic "
	    "link, not a socket", e.sock);
	start_refused(&e, "", needle);
	EXPECT(&e.p, lstat(e.sock, &st) == 0 && S_ISLNK(st.st_mode),
	    "the link at control_socket was removed");
	victim_intact(&e, victim);
	harness_proxy_free(&e.p);

	/* A stale socket: bound, then its owner gone. */
	ck_assert_int_eq(unlink(e.sock), 0);
	unix_addr(e.sock, &sun);
	ck_assert_int_ge(fd = socket(AF_UNIX, SOCK_STREAM, 0), 0);
	ck_assert_int_eq(bind(fd, (struct sockaddr *)&sun, sizeof(sun)), 0);
	close(fd);
	env_start(&e, "");
	EXPECT(&e.p, run_cli(&e, "status", out, sizeof(out)) == 0,
	    "no status over a replaced stale socket: %s", out);
	env_free(&e);
}
END_TEST

/*
 * As root with `user nobody`: an access_log and a pidfile in a directory
 * nobody may write (sticky and world-writable, as /tmp) are warned about
 * at start, the access_log again on reload; an error_log in a directory
 * only root may write is not (nor /tmp above it: sticky, and not the
 * file's own directory).
 */
START_TEST(test_user_writable_dir_warned)
{
	struct env	e;
	char		ww[HARNESS_PATH_MAX + 8], extra[4 * HARNESS_PATH_MAX];
	char		errlog[HARNESS_PATH_MAX + 32];

	if (geteuid() != 0 || getpwnam("nobody") == NULL) {
		fprintf(stderr, "SKIP %s: `user nobody` needs root and a "
		    "nobody account\n", __func__);
		return;
	}
	env_dir(&e);
	ck_assert_int_eq(chmod(e.dir, 0755), 0);
	snprintf(ww, sizeof(ww), "%s/ww", e.dir);
	ck_assert_int_eq(mkdir(ww, 0755), 0);
	ck_assert_int_eq(chmod(ww, 01777), 0);
	snprintf(e.log, sizeof(e.log), "%s/access.log", ww);
	snprintf(errlog, sizeof(errlog), "%s/error.log", e.dir);
	snprintf(extra, sizeof(extra), "user nobody\nerror_log %s\n"
	    "pidfile %s/proxy.pid\n", errlog, ww);
	env_start(&e, extra);
	EXPECT(&e.p, harness_file_wait(errlog, "started", 1) == 1,
	    "no error_log");
	EXPECT(&e.p, harness_file_count(errlog, "warning: access_log ") == 1 &&
	    harness_file_count(errlog, "warning: pidfile ") == 1,
	    "no warning for the access_log and the pidfile in %s", ww);
	EXPECT(&e.p, harness_file_count(errlog, ": directory ") == 2 &&
	    harness_file_count(errlog, " is writable by user nobody") == 2,
	    "the warnings do not name the directory and the user");
	EXPECT(&e.p, harness_file_count(errlog, "warning: error_log ") == 0,
	    "warned about the error_log in %s (root's, 0755)", e.dir);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
	EXPECT(&e.p, harness_file_wait(errlog, "reloaded", 1) == 1,
	    "no reload");
	EXPECT(&e.p, harness_file_count(errlog, "warning: access_log ") == 2,
	    "no warning for the access_log on reload");
	/* A logrotate is routine: no warning each day. */
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGUSR1), 0);
	EXPECT(&e.p, harness_file_wait(errlog, "log files reopened", 1) == 1,
	    "no reopen");
	EXPECT(&e.p, harness_file_count(errlog, "warning: access_log ") == 2,
	    "a warning on USR1");
	harness_proxy_free(&e.p);
	harness_rmdir(ww);
	env_free(&e);
}
END_TEST

/* `connectproxy -c conf cmd` as another process; its output into out. */
static int
query_default(const struct harness_proxy *p, const char *cmd, char *out,
    size_t len)
{
	char	*argv[] = { (char *)harness_bin(), (char *)"-c",
	    (char *)p->conf, (char *)cmd, NULL };

	return harness_run(argv, NULL, out, len, harness_ms(10000));
}

/*
 * A proxy with the default control_socket, and where its log says the
 * socket is (or "no control socket"); `status` and `metrics` from a
 * second process answer when want_answer.
 */
static void
default_socket_case(const char *want_log, int want_answer)
{
	static char		out[OUT_MAX];
	struct harness_proxy	p;
	int			st;

	ck_assert_msg(harness_proxy_start(&p, "workers_start 1\n") == 0,
	    "proxy did not start");
	EXPECT(&p, harness_proxy_count_log(&p, want_log) == 1,
	    "no \"%s\" in the log", want_log);
	st = query_default(&p, "status", out, sizeof(out));
	if (!want_answer) {
		EXPECT(&p, st != 0 && strstr(out, "no control socket") !=
		    NULL, "status with no socket: %d %s", st, out);
		harness_proxy_free(&p);
		return;
	}
	EXPECT(&p, st == 0 && strstr(out, "tunnels: 0 open") != NULL,
	    "status exited %d: %s", st, out);
	st = query_default(&p, "metrics", out, sizeof(out));
	EXPECT(&p, st == 0 && strstr(out, "\nconnectproxy_workers{") != NULL,
	    "metrics exited %d: %s", st, out);
	harness_proxy_free(&p);
}

/*
 * The quick start: a proxy started from a terminal, with the default
 * control_socket and no $RUNTIME_DIRECTORY or /run/connectproxy, answers
 * `status` and `metrics` from a second process of the same user: its
 * socket is in $XDG_RUNTIME_DIR, else in ~/.connectproxy (made 0700).
 * A directory others may enter is not used.
 */
START_TEST(test_control_socket_default)
{
	char		dir[HARNESS_PATH_MAX], home[HARNESS_PATH_MAX + 16];
	char		priv[HARNESS_PATH_MAX + 32], xdg[HARNESS_PATH_MAX + 16];
	char		want[HARNESS_PATH_MAX + 96];
	struct stat	st;

	if (access("/run/connectproxy", F_OK) == 0) {
		fprintf(stderr, "SKIP %s: /run/connectproxy exists\n",
		    __func__);
		return;
	}
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(home, sizeof(home), "%s/home", dir);
	snprintf(priv, sizeof(priv), "%s/.connectproxy", home);
	snprintf(xdg, sizeof(xdg), "%s/xdg", dir);
	ck_assert_int_eq(mkdir(home, 0755), 0);
	ck_assert_int_eq(setenv("HOME", home, 1), 0);
	unsetenv("XDG_RUNTIME_DIR");
	unsetenv("RUNTIME_DIRECTORY");

	snprintf(want, sizeof(want), "control socket %s/connectproxy.sock",
	    priv);
	default_socket_case(want, 1);
	ck_assert_int_eq(lstat(priv, &st), 0);
	ck_assert_msg(S_ISDIR(st.st_mode) && (st.st_mode & 0777) == 0700,
	    "%s: mode %o", priv, st.st_mode & 0777);

	/* A session's own runtime directory comes first. */
	ck_assert_int_eq(mkdir(xdg, 0700), 0);
	ck_assert_int_eq(setenv("XDG_RUNTIME_DIR", xdg, 1), 0);
	snprintf(want, sizeof(want), "control socket %s/connectproxy.sock",
	    xdg);
	default_socket_case(want, 1);

	/* Neither is used once others may enter it. */
	ck_assert_int_eq(chmod(xdg, 0755), 0);
	ck_assert_int_eq(chmod(priv, 0711), 0);
	default_socket_case("no control socket", 0);
	rmdir(xdg);
	rmdir(priv);
	rmdir(home);
	rmdir(dir);
}
END_TEST

/*
 * A reload that moves access_log and error_log (stderr to files, files to
 * others, files to stderr) while a worker forked under the old
 * configuration holds a tunnel open: that draining worker's record, a new
 * tunnel's and a worker's error line land in the new place only, and the
 * old one keeps what was written before the reload.
 */
static const char *const move_from[] = { "stderr", "a", "a" };
static const char *const move_to[] = { "b", "b", "stderr" };

/* "stderr", or the file e->dir/NAME.SUFFIX, into buf. */
static const char *
move_path(const struct env *e, const char *name, const char *suffix,
    char *buf, size_t len)
{
	if (strcmp(name, "stderr") == 0)
		return name;
	snprintf(buf, len, "%s/%s.%s", e->dir, name, suffix);
	return buf;
}

/* Lines with needle in `where`, the proxy's stderr or a file: now (n 0),
 * or once there are n. */
static int
move_count(const struct env *e, const char *where, const char *needle,
    int n)
{
	const char	*path = strcmp(where, "stderr") == 0 ? e->p.log : where;

	return n > 0 ? harness_file_wait(path, needle, n) :
	    harness_file_count(path, needle);
}

/* A client that closes before its request: a worker's debug line. */
static void
move_idle_client(const struct env *e)
{
	int	fd = harness_connect("127.0.0.1", e->p.port, harness_ms(5000));

	EXPECT(&e->p, fd != -1, "connect to the proxy");
	close(fd);
}

START_TEST(test_reload_moves_logs)
{
	struct env	e;
	char		conf[CONF_MAX], a[HARNESS_PATH_MAX + 32];
	char		b[HARNESS_PATH_MAX + 32], ae[HARNESS_PATH_MAX + 32];
	char		be[HARNESS_PATH_MAX + 32];
	const char	*from, *to, *from_err, *to_err;
	const char	*idle = "closed before a request";
	int		busy, fd;

	env_dir(&e);
	from = move_path(&e, move_from[_i], "log", a, sizeof(a));
	to = move_path(&e, move_to[_i], "log", b, sizeof(b));
	from_err = move_path(&e, move_from[_i], "err", ae, sizeof(ae));
	to_err = move_path(&e, move_to[_i], "err", be, sizeof(be));
	ck_assert_int_eq(harness_target_start(&e.t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "access_log %s\nerror_log %s\n"
	    "log_level debug\naccess_log_format text\ncontrol_socket %s\n"
	    "allow_port 1-65535\nallow_dest 127.0.0.0/8\nworkers_start 2\n",
	    from, from_err, e.sock);
	ck_assert_msg(harness_proxy_start(&e.p, conf) == 0,
	    "proxy did not start");
	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 7);
	harness_tunnel_end(fd);
	EXPECT(&e.p, move_count(&e, from, "bytes_up=7 ", 1) == 1,
	    "no record in %s before the reload", from);
	move_idle_client(&e);
	EXPECT(&e.p, move_count(&e, from_err, idle, 1) == 1,
	    "no worker line in %s before the reload", from_err);
	busy = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, busy, 11);

	snprintf(conf, sizeof(conf), "access_log %s\nerror_log %s\n"
	    "log_level debug\naccess_log_format text\ncontrol_socket %s\n"
	    "allow_port 1-65535\nallow_dest 127.0.0.0/8\nworkers_start 2\n",
	    to, to_err, e.sock);
	ck_assert_int_eq(harness_proxy_rewrite_config(&e.p, conf), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
	EXPECT(&e.p, move_count(&e, to_err, "reloaded:", 1) == 1,
	    "no reload reported in %s", to_err);

	fd = tunnel(&e, e.t.port);
	harness_echo_bytes(&e.p, fd, 33);
	harness_tunnel_end(fd);
	move_idle_client(&e);
	harness_echo_bytes(&e.p, busy, 44);
	harness_tunnel_end(busy);
	EXPECT(&e.p, move_count(&e, to, "bytes_up=33 ", 1) == 1,
	    "a new worker's record is not in %s", to);
	EXPECT(&e.p, move_count(&e, to, "bytes_up=55 ", 1) == 1,
	    "the draining worker's record is not in %s", to);
	EXPECT(&e.p, move_count(&e, to_err, idle, 1) == 1,
	    "a worker's line after the reload is not in %s", to_err);
	/* Stop: anything still on its way is written before the check. */
	harness_proxy_stop(&e.p);
	EXPECT(&e.p, move_count(&e, from, "bytes_up=", 0) == 1,
	    "%s got a record after the reload", from);
	EXPECT(&e.p, move_count(&e, to, "bytes_up=", 0) == 2,
	    "%s got other records", to);
	EXPECT(&e.p, move_count(&e, from_err, idle, 0) == 1,
	    "%s got a worker's line after the reload", from_err);
	env_free(&e);
}
END_TEST

Suite *
observe_suite(void)
{
	Suite	*s = suite_create("observe");
	TCase	*tc = tcase_create("records");

	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_tunnel_record_text);
	tcase_add_test(tc, test_tunnel_record_json);
	tcase_add_test(tc, test_refusal_records);
	tcase_add_test(tc, test_client_refusals);
	tcase_add_test(tc, test_usr1_reopen);
	tcase_add_test(tc, test_reload_bad_log_file);
	tcase_add_test(tc, test_usr1_during_quit);
	tcase_add_loop_test(tc, test_reload_moves_logs, 0, 3);
	suite_add_tcase(s, tc);
	tc = tcase_create("status");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_prom_checker);
	tcase_add_test(tc, test_metrics_unit);
	tcase_add_test(tc, test_status_open_tunnel);
	tcase_add_test(tc, test_metrics_match_traffic);
	tcase_add_test(tc, test_control_stuck_client);
	tcase_add_test(tc, test_control_socket_default);
	suite_add_tcase(s, tc);
	tc = tcase_create("hardening");
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, test_metrics_upstream_refused);
	tcase_add_test(tc, test_log_symlink_at_start);
	tcase_add_test(tc, test_log_symlink_at_usr1);
	tcase_add_test(tc, test_pidfile_symlinks);
	tcase_add_test(tc, test_control_socket_not_a_socket);
	tcase_add_test(tc, test_user_writable_dir_warned);
	tcase_add_test(tc, test_pidfile_second_instance);
	suite_add_tcase(s, tc);
	return s;
}
