/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for access control: Basic authentication against an
 * auth_file (raw sockets and curl --proxy-user), the built-in destination
 * denials under many spellings, and upstream chaining through a real
 * parent (tinyproxy, started by the test on loopback) and through a
 * scripted fake parent.  Only loopback is used; the test that needs its
 * own resolv.conf and DNS server runs in a private namespace, and so does
 * the one that gives the host addresses of its own (the gateway's).
 */
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <netinet/in.h>

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "auth.h"
#include "harness.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

#define CONF_MAX	2048
#define CHALLENGE	"Basic realm=\"Office proxy\", charset=\"UTF-8\""

/* A crypt(3) hash of pass made by `openssl passwd` (-6 or -5). */
static void
make_hash(const char *alg, const char *pass, char *out, size_t len)
{
	char	*argv[] = { "openssl", "passwd", (char *)alg, "-salt",
	    "cpsalt42", (char *)pass, NULL };
	int	 st;

	st = harness_run(argv, NULL, out, len, 30000);
	ck_assert_msg(st != -1 && WIFEXITED(st) && WEXITSTATUS(st) == 0,
	    "openssl passwd failed: %s", out);
	out[strcspn(out, "\r\n")] = '\0';
	ck_assert_msg(out[0] == '$', "openssl passwd: %s", out);
}

/*
 * Write an auth_file (alice:secret as sha512-crypt, bob:"pa:ss" as
 * sha256-crypt) into dir; path gets its name.
 */
static void
write_users(const char *dir, char *path, size_t len)
{
	char	h6[256], h5[256], text[700];

	make_hash("-6", "secret", h6, sizeof(h6));
	make_hash("-5", "pa:ss", h5, sizeof(h5));
	snprintf(path, len, "%s/users", dir);
	snprintf(text, sizeof(text), "# test users\nalice:%s\nbob:%s\n", h6,
	    h5);
	ck_assert_int_eq(harness_write_file(path, text), 0);
}

/* The n-th (0-based) access record in the log into line. */
static int
nth_access(const struct harness_proxy *p, int n, char *line, size_t len)
{
	long long	 deadline = harness_now_ms() + harness_ms(10000);
	char		*text, *s, *e;
	int		 i;

	while (harness_proxy_count_log(p, "access ") <= n)
		if (harness_now_ms() > deadline || poll(NULL, 0, 20) == -1)
			return -1;
	if ((text = harness_proxy_log(p)) == NULL)
		return -1;
	for (i = 0, s = text; (s = strstr(s, "access ")) != NULL; s++)
		if (i++ == n)
			break;
	if (s == NULL) {
		free(text);
		return -1;
	}
	e = s + strcspn(s, "\n");
	snprintf(line, len, "%.*s", (int)(e - s), s);
	free(text);
	return 0;
}

/* `rule=R` in an access record, quoted or not. */
static int
has_rule(const char *line, const char *rule)
{
	char	a[320], b[320];

	snprintf(a, sizeof(a), "rule=%s", rule);
	snprintf(b, sizeof(b), "rule=\"%s\"", rule);
	return strstr(line, a) != NULL || strstr(line, b) != NULL;
}

static int
raw_request(const struct harness_proxy *p, const char *req)
{
	int	fd;

	fd = harness_connect("127.0.0.1", p->port, harness_ms(5000));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(harness_send_str(fd, req), 0);
	return fd;
}

/* A 407 (or other refusal) with the connection closed after it. */
static void
expect_status(const struct harness_proxy *p, int fd, int want,
    const char *what, struct harness_response *r)
{
	ssize_t	rest;

	EXPECT(p, harness_read_response(fd, r, harness_ms(15000)) == 0,
	    "%s: no response", what);
	EXPECT(p, r->status == want, "%s: expected %d, saw \"%.*s\"", what,
	    want, (int)strcspn(r->head, "\r\n"), r->head);
	rest = harness_wait_eof(fd, harness_ms(10000));
	EXPECT(p, rest == 0, "%s: not closed after %d", what, want);
}

/* --- authentication -------------------------------------------------- */

static const struct {
	const char	*what;
	const char	*field;		/* NULL: no Proxy-Authorization */
	int		 status;
	const char	*user;		/* in the warning, NULL: none */
} auth_cases[] = {
	{ "no credentials", NULL, 407, NULL },
	{ "wrong password", "Basic YWxpY2U6d3Jvbmc=", 407, "alice" },
	{ "wrong user", "Basic bWFsbG9yeTpzZWNyZXQ=", 407, "mallory" },
	{ "bad base64", "Basic YWxpY2U6c2VjcmV0!", 407, NULL },
	{ "bad padding", "Basic YWxpY2U6c2VjcmV0=", 407, NULL },
	{ "no colon", "Basic YWxpY2VzZWNyZXQ=", 407, NULL },
	{ "other scheme", "Bearer YWxpY2U6c2VjcmV0", 407, NULL },
	{ "empty field", "", 407, NULL },
	{ "CTL in password", "Basic YWxpY2U6c2VjcmV0AQ==", 407, NULL },
	{ "user alice", "Basic YWxpY2U6c2VjcmV0", 200, NULL },
	{ "scheme lowercase", "basic YWxpY2U6c2VjcmV0", 200, NULL },
	{ "scheme uppercase", "BASIC YWxpY2U6c2VjcmV0", 200, NULL },
	{ "several spaces", "Basic   YWxpY2U6c2VjcmV0", 200, NULL },
	{ "colon in password", "Basic Ym9iOnBhOnNz", 200, NULL },
	{ "cached again", "Basic YWxpY2U6c2VjcmV0", 200, NULL },
};

START_TEST(test_auth_raw)
{
	struct harness_proxy	 p;
	struct harness_target	 t;
	struct harness_response	 r;
	char			 users[HARNESS_PATH_MAX + 16], dir[256];
	char			 conf[CONF_MAX], req[512], val[256], line[1024];
	char			*log;
	size_t			 i;
	int			 fd, n = 0;

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	write_users(dir, users, sizeof(users));
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\nallow_port %d\n"
	    "auth_file %s\nauth_realm Office proxy\nworkers_start 1\n",
	    t.port, users);
	harness_proxy_up(&p, conf);
	/* The failures first, so "untouched" covers every one of them. */
	for (i = 0; i < sizeof(auth_cases) / sizeof(*auth_cases); i++) {
		if (auth_cases[i].status == 200)
			continue;
		snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\n%s%s%s\r\n", t.port, t.port,
		    auth_cases[i].field ? "Proxy-Authorization: " : "",
		    auth_cases[i].field ? auth_cases[i].field : "",
		    auth_cases[i].field ? "\r\n" : "");
		fd = raw_request(&p, req);
		expect_status(&p, fd, 407, auth_cases[i].what, &r);
		close(fd);
		EXPECT(&p, harness_header(r.head, "Proxy-Authenticate", val,
		    sizeof(val)) == 0 && strcmp(val, CHALLENGE) == 0,
		    "%s: challenge \"%s\"", auth_cases[i].what, val);
		EXPECT(&p, strstr(r.head, "Connection: close") != NULL,
		    "%s: no Connection: close", auth_cases[i].what);
		EXPECT(&p, nth_access(&p, n++, line, sizeof(line)) == 0 &&
		    strstr(line, "status=407") != NULL, "%s: access %s",
		    auth_cases[i].what, line);
		/* No user known: no user key (never "user=-"). */
		EXPECT(&p, (auth_cases[i].user == NULL) == (strstr(line,
		    " user=") == NULL), "%s: user in %s", auth_cases[i].what,
		    line);
		/* The cause, in the words of the answer's body. */
		EXPECT(&p, strstr(line, " reason=auth_") != NULL &&
		    strstr(line, " detail=\"proxy authentication required\"")
		    != NULL && strstr(r.body, ": proxy authentication "
		    "required\n") != NULL, "%s: detail in %s",
		    auth_cases[i].what, line);
		if (auth_cases[i].user != NULL) {
			snprintf(val, sizeof(val), "user=%s ",
			    auth_cases[i].user);
			EXPECT(&p, strstr(line, val) != NULL, "%s: no %s in %s",
			    auth_cases[i].what, val, line);
			EXPECT(&p, harness_proxy_wait_log(&p, "authentication "
			    "failed", val, NULL, 0, harness_ms(5000)) == 0,
			    "%s: no warning naming the user",
			    auth_cases[i].what);
		}
	}
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "the target was contacted on a 407");
	for (i = 0; i < sizeof(auth_cases) / sizeof(*auth_cases); i++) {
		if (auth_cases[i].status != 200)
			continue;
		snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
		    "Host: 127.0.0.1:%d\r\nProxy-Authorization: %s\r\n\r\n",
		    t.port, t.port, auth_cases[i].field);
		fd = raw_request(&p, req);
		EXPECT(&p, harness_recv_head(fd, r.head, sizeof(r.head),
		    harness_ms(10000)) > 0 && strncmp(r.head,
		    "HTTP/1.1 200 ", 13) == 0, "%s: no 200: %.60s",
		    auth_cases[i].what, r.head);
		ck_assert_int_eq(harness_send_str(fd, "ping\n"), 0);
		EXPECT(&p, harness_recv_exact(fd, val, 5, harness_ms(5000))
		    == 5 && memcmp(val, "ping\n", 5) == 0, "%s: no echo",
		    auth_cases[i].what);
		close(fd);
	}
	/* Never a password, never the field, in any log line. */
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "user=bob", NULL, 0,
	    harness_ms(10000)) == 0, "no access record with user=bob");
	ck_assert_ptr_nonnull(log = harness_proxy_log(&p));
	EXPECT(&p, strstr(log, "secret") == NULL && strstr(log, "wrong") ==
	    NULL && strstr(log, "YWxpY2U") == NULL && strstr(log, "pa:ss") ==
	    NULL, "a credential reached the log");
	EXPECT(&p, strstr(log, "user=alice") != NULL &&
	    strstr(log, "user=bob") != NULL, "no user= in access records");
	free(log);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	harness_rmdir(dir);
}
END_TEST

/* curl --proxy-user: %{http_connect} is the proxy's CONNECT answer. */
static int
curl_connect_code(int proxy_port, int target_port, const char *userpass)
{
	char	proxy[64], url[64], out[4096];
	char	*argv[] = { "curl", "-s", "-o", "/dev/null", "-w",
	    "%{http_connect}", "-p", "-x", proxy, "--max-time", "20",
	    "--proxy-user", (char *)userpass, url, NULL };

	if (userpass == NULL) {
		argv[11] = url;
		argv[12] = NULL;
	}
	snprintf(proxy, sizeof(proxy), "http://127.0.0.1:%d", proxy_port);
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/", target_port);
	if (harness_run(argv, NULL, out, sizeof(out), harness_ms(30000)) ==
	    -1)
		return -1;
	return atoi(out);
}

START_TEST(test_auth_curl)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			users[HARNESS_PATH_MAX + 16], dir[256];
	char			conf[CONF_MAX];
	int			code;

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	if (!harness_have("curl") || !harness_have("openssl"))
		SKIP("curl or openssl not installed");
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	write_users(dir, users, sizeof(users));
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\nallow_port %d\n"
	    "auth_file %s\nworkers_start 2\n", t.port, users);
	harness_proxy_up(&p, conf);
	code = curl_connect_code(p.port, t.port, NULL);
	EXPECT(&p, code == 407, "curl without credentials: %d", code);
	code = curl_connect_code(p.port, t.port, "alice:wrong");
	EXPECT(&p, code == 407, "curl alice:wrong: %d", code);
	code = curl_connect_code(p.port, t.port, "eve:secret");
	EXPECT(&p, code == 407, "curl eve:secret: %d", code);
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "the target was contacted on a 407");
	code = curl_connect_code(p.port, t.port, "alice:secret");
	EXPECT(&p, code == 200, "curl alice:secret: %d", code);
	code = curl_connect_code(p.port, t.port, "bob:pa:ss");
	EXPECT(&p, code == 200, "curl bob:pa:ss: %d", code);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	harness_rmdir(dir);
}
END_TEST

START_TEST(test_plaintext_refused)
{
	struct harness_proxy	p;
	char			dir[256], users[HARNESS_PATH_MAX + 16];
	char			h6[256], text[512], conf[CONF_MAX], want[600];
	char			*log;
	int			port = harness_free_port(AF_INET);

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	make_hash("-6", "secret", h6, sizeof(h6));
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(text, sizeof(text), "# office\nalice:%s\nbob:hunter2\n", h6);
	ck_assert_int_eq(harness_write_file(users, text), 0);
	snprintf(conf, sizeof(conf), "listen 127.0.0.1:%d\nauth_file %s\n",
	    port, users);
	ck_assert_int_eq(harness_proxy_spawn(&p, conf), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0,
	    "proxy with a plaintext password did not exit");
	EXPECT(&p, WIFEXITED(p.status) && WEXITSTATUS(p.status) == 1,
	    "exit status %d", p.status);
	snprintf(want, sizeof(want), "%s:3: plaintext password refused; "
	    "store a crypt(3) hash (htpasswd -B or openssl passwd -6)", users);
	ck_assert_ptr_nonnull(log = harness_proxy_log(&p));
	EXPECT(&p, strstr(log, want) != NULL, "no \"%s\"", want);
	EXPECT(&p, strstr(log, "hunter2") == NULL, "password echoed");
	free(log);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/* --- built-in denials ------------------------------------------------ */

static const struct {
	const char	*host;		/* as in the request target */
	const char	*rule;
} denials[] = {
	{ "127.0.0.1", "builtin:loopback" },
	{ "127.1.2.3", "builtin:loopback" },
	{ "localhost", "builtin:loopback" },
	{ "LocalHost", "builtin:loopback" },
	{ "localhost.", "builtin:loopback" },
	{ "[::1]", "builtin:loopback" },
	{ "[0:0:0:0:0:0:0:1]", "builtin:loopback" },
	{ "[::ffff:127.0.0.1]", "builtin:loopback" },
	{ "[::ffff:7f00:1]", "builtin:loopback" },
	{ "[::127.0.0.1]", "builtin:loopback" },
	{ "[64:ff9b::127.0.0.1]", "builtin:loopback" },
	{ "[64:ff9b::7f00:1]", "builtin:loopback" },
	{ "0.0.0.0", "builtin:unspecified" },
	{ "[::]", "builtin:unspecified" },
	{ "[::ffff:0.0.0.0]", "builtin:unspecified" },
	{ "169.254.169.254", "builtin:metadata" },
	{ "[::ffff:169.254.169.254]", "builtin:metadata" },
	{ "[64:ff9b::a9fe:a9fe]", "builtin:metadata" },
	{ "169.254.1.1", "builtin:link-local" },
	{ "[fe80::1]", "builtin:link-local" },
	{ "10.0.0.1", "builtin:private" },
	{ "10.255.255.255", "builtin:private" },
	{ "[::ffff:10.1.2.3]", "builtin:private" },
	{ "[::10.1.2.3]", "builtin:private" },
	{ "[64:ff9b::10.1.2.3]", "builtin:private" },
	{ "172.16.0.1", "builtin:private" },
	{ "172.31.255.254", "builtin:private" },
	{ "[::ffff:ac10:1]", "builtin:private" },
	{ "192.168.1.1", "builtin:private" },
	{ "[64:ff9b::c0a8:101]", "builtin:private" },
	{ "100.64.0.1", "builtin:cgnat" },
	{ "100.127.255.254", "builtin:cgnat" },
	{ "[::ffff:100.64.0.1]", "builtin:cgnat" },
	{ "224.0.0.1", "builtin:multicast" },
	{ "239.255.255.250", "builtin:multicast" },
	{ "[ff02::1]", "builtin:multicast" },
	{ "[::ffff:224.0.0.251]", "builtin:multicast" },
	{ "255.255.255.255", "builtin:reserved" },
	{ "240.0.0.1", "builtin:reserved" },
	{ "[fc00::1]", "builtin:unique-local" },
	{ "[fd12:3456::1]", "builtin:unique-local" },
	{ "[fec0::1]", "builtin:site-local" },
};

START_TEST(test_builtin_denials)
{
	struct harness_proxy	p;
	struct harness_target	t, t6;
	struct harness_response	r;
	char			conf[256], req[512], line[1024];
	size_t			i;
	int			fd, v6 = harness_have_ipv6();

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_SILENT, 0), 0);
	if (v6)
		v6 = harness_target_start(&t6, AF_INET6, NULL, t.port,
		    HARNESS_TARGET_SILENT, 0) == 0;
	snprintf(conf, sizeof(conf), "allow_port %d\nallow_port 443\n"
	    "workers_start 2\n", t.port);
	harness_proxy_up(&p, conf);
	for (i = 0; i < sizeof(denials) / sizeof(*denials); i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
		    "Host: x\r\n\r\n", denials[i].host, t.port);
		fd = raw_request(&p, req);
		expect_status(&p, fd, 403, denials[i].host, &r);
		close(fd);
		EXPECT(&p, nth_access(&p, (int)i, line, sizeof(line)) == 0,
		    "%s: no access record", denials[i].host);
		EXPECT(&p, has_rule(line, denials[i].rule) &&
		    strstr(line, "reason=dest_denied") != NULL,
		    "%s: expected %s in %s", denials[i].host, denials[i].rule,
		    line);
	}
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "the 127.0.0.1 target was contacted");
	if (v6) {
		EXPECT(&p, harness_target_untouched(&t6) == 1,
		    "the ::1 target was contacted");
		harness_target_stop(&t6);
	}
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* Operator rules: first match wins, and the log names the rule. */
START_TEST(test_dest_rules_named)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	char			conf[512], req[256], line[1024];
	int			fd;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "deny_dest .blocked.example\n"
	    "deny_dest 127.0.0.2\nallow_dest 127.0.0.0/8\nallow_port %d\n"
	    "workers_start 2\n", t.port);
	harness_proxy_up(&p, conf);
	snprintf(req, sizeof(req), "CONNECT www.Blocked.Example:%d HTTP/1.1"
	    "\r\nHost: x\r\n\r\n", t.port);
	fd = raw_request(&p, req);
	expect_status(&p, fd, 403, "deny_dest suffix", &r);
	close(fd);
	EXPECT(&p, nth_access(&p, 0, line, sizeof(line)) == 0 &&
	    has_rule(line, "deny_dest .blocked.example"), "rule: %s", line);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.2:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", t.port);
	fd = raw_request(&p, req);
	expect_status(&p, fd, 403, "deny_dest address", &r);
	close(fd);
	EXPECT(&p, nth_access(&p, 1, line, sizeof(line)) == 0 &&
	    has_rule(line, "deny_dest 127.0.0.2"), "rule: %s", line);
	/* allow_dest 127.0.0.0/8 unlocks the rest of loopback. */
	snprintf(req, sizeof(req), "localhost:%d", t.port);
	fd = harness_tunnel(p.port, req, NULL, NULL, harness_ms(10000));
	EXPECT(&p, fd != -1, "localhost with allow_dest 127.0.0.0/8");
	close(fd);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * The name a rule is checked on is the name resolved: the resolver's
 * search list must not turn "secret" into the denied secret.corp.test,
 * nor a dotted "db.inner" into db.inner.corp.test.  In a private network
 * and mount namespace with its own resolv.conf and DNS server.
 */
START_TEST(test_dest_name_not_searched_netns)
{
	static const char *const names[] = { "secret.corp.test",
	    "db.inner.corp.test", "open.corp.test", NULL };
	static const char *const tricks[] = { "secret", "db.inner" };
	struct harness_proxy	 p;
	struct harness_target	 t, dns;
	struct harness_response	 r;
	char			 conf[512], req[256], line[1024];
	int			 fd, i;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	if (harness_netns_resolv_conf("nameserver 127.0.0.1\n"
	    "search corp.test\n") == -1)
		SKIP("cannot bind a resolv.conf in a mount namespace");
	ck_assert_int_eq(harness_dns_start(&dns, names, "127.0.0.5"), 0);
	ck_assert_int_eq(harness_target_start(&t, AF_INET, "127.0.0.5", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "deny_dest secret.corp.test\n"
	    "deny_dest .inner.corp.test\nallow_dest 127.0.0.0/8\n"
	    "allow_port %d\nworkers_start 2\nconnect_timeout 5s\n", t.port);
	harness_proxy_up(&p, conf);
	snprintf(req, sizeof(req), "CONNECT secret.corp.test:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", t.port);
	fd = raw_request(&p, req);
	expect_status(&p, fd, 403, "deny_dest secret.corp.test", &r);
	close(fd);
	for (i = 0; i < 2; i++) {
		snprintf(req, sizeof(req), "CONNECT %s:%d HTTP/1.1\r\n"
		    "Host: x\r\n\r\n", tricks[i], t.port);
		fd = raw_request(&p, req);
		expect_status(&p, fd, 502, tricks[i], &r);
		close(fd);
		EXPECT(&p, nth_access(&p, i + 1, line, sizeof(line)) == 0 &&
		    strstr(line, "reason=resolve_failed") != NULL &&
		    strstr(line, "dialed=") == NULL, "%s: %s", tricks[i], line);
	}
	/* The proxy does resolve through this server: a name it allows. */
	snprintf(req, sizeof(req), "open.corp.test:%d", t.port);
	fd = harness_tunnel(p.port, req, NULL, NULL, harness_ms(10000));
	EXPECT(&p, fd != -1, "open.corp.test through the test's DNS server");
	harness_echo_roundtrip(&p, fd, "open");
	close(fd);
	/* Every question before that one, in order: none searched. */
	for (i = 0; i < 64; i++) {
		EXPECT(&p, harness_target_line(&dns, "query ", line,
		    sizeof(line), harness_ms(5000)) == 0,
		    "the DNS server was not asked for open.corp.test");
		EXPECT(&p, strstr(line, "secret.corp.test") == NULL &&
		    strstr(line, "db.inner.corp.test") == NULL,
		    "the proxy asked for a searched name: %s", line);
		if (strncmp(line, "query open.corp.test ", 21) == 0)
			break;
	}
	EXPECT(&p, i < 64, "too many DNS questions");
	harness_proxy_free(&p);
	/* An inherited LOCALDOMAIN would search too: overridden, with a word. */
	ck_assert_int_eq(setenv("LOCALDOMAIN", "corp.test", 1), 0);
	harness_proxy_up(&p, conf);
	unsetenv("LOCALDOMAIN");
	snprintf(req, sizeof(req), "CONNECT secret:%d HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", t.port);
	fd = raw_request(&p, req);
	expect_status(&p, fd, 502, "secret with LOCALDOMAIN=corp.test", &r);
	close(fd);
	EXPECT(&p, harness_proxy_count_log(&p, "LOCALDOMAIN ignored") == 1,
	    "no warning that LOCALDOMAIN is ignored");
	harness_proxy_free(&p);
	harness_target_stop(&t);
	harness_target_stop(&dns);
}
END_TEST

/*
 * One CONNECT to a name the resolver cannot give: its status, reason and
 * how long it took (ms).
 */
static long long
resolve_refusal(const struct harness_proxy *p, int want, const char *reason,
    int nrecord, const char *what)
{
	struct harness_response	 r;
	char			 line[1024], field[64];
	long long		 start = harness_now_ms(), took;
	int			 fd;

	fd = raw_request(p, "CONNECT office.test:443 HTTP/1.1\r\n"
	    "Host: office.test:443\r\n\r\n");
	expect_status(p, fd, want, what, &r);
	took = harness_now_ms() - start;
	close(fd);
	snprintf(field, sizeof(field), "reason=%s", reason);
	EXPECT(p, nth_access(p, nrecord, line, sizeof(line)) == 0 &&
	    strstr(line, field) != NULL && strstr(line, "dialed=") == NULL,
	    "%s: %s", what, line);
	return took;
}

/*
 * An error the resolver reports is no timeout: with no DNS server
 * reachable (nothing on 127.0.0.1:53, or no route to the server) a name
 * gets 502 resolve_error at once, well inside connect_timeout (and a
 * parent's name 502 upstream_failed); 504
 * resolve_timeout is for a resolver still silent when connect_timeout
 * runs out (a server whose packets vanish).  In a private namespace with
 * its own resolv.conf.
 */
START_TEST(test_resolver_failure_netns)
{
	struct harness_proxy	p;
	long long		took;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	if (harness_netns_resolv_conf("nameserver 127.0.0.1\n") == -1)
		SKIP("cannot bind a resolv.conf in a mount namespace");
	harness_proxy_up(&p, "connect_timeout 10s\nworkers_start 2\n");
	took = resolve_refusal(&p, 502, "resolve_error", 0,
	    "no DNS server on 127.0.0.1");
	EXPECT(&p, took < 5000, "502 after %lld ms: not at once", took);
	harness_proxy_free(&p);
	/* A parent's name likewise. */
	harness_proxy_up(&p, "connect_timeout 10s\nworkers_start 2\n"
	    "upstream parent.test:3128\n");
	took = resolve_refusal(&p, 502, "upstream_failed", 0,
	    "a parent's name, no DNS server");
	EXPECT(&p, took < 5000, "502 after %lld ms: not at once", took);
	harness_proxy_free(&p);

	/* The bound file, the namespace's own: rewritten in place. */
	ck_assert_int_eq(harness_write_file("/etc/resolv.conf",
	    "nameserver 192.0.2.53\n"), 0);
	harness_proxy_up(&p, "connect_timeout 10s\nworkers_start 2\n");
	took = resolve_refusal(&p, 502, "resolve_error", 0,
	    "no route to the DNS server");
	EXPECT(&p, took < 5000, "502 after %lld ms: not at once", took);
	harness_proxy_free(&p);

	/* Packets to 198.51.100.53 vanish: the resolver waits 1 s. */
	ck_assert_int_eq(harness_netns_blackhole("198.51.100.1/24"), 0);
	ck_assert_int_eq(harness_write_file("/etc/resolv.conf", "nameserver "
	    "198.51.100.53\noptions timeout:1 attempts:1\n"), 0);
	harness_proxy_up(&p, "connect_timeout 300ms\nworkers_start 2\n");
	took = resolve_refusal(&p, 504, "resolve_timeout", 0,
	    "a DNS server that never answers");
	EXPECT(&p, took >= 300, "504 after %lld ms, before connect_timeout",
	    took);
	harness_proxy_free(&p);
}
END_TEST

/*
 * The gateway's own addresses are not destinations: Linux delivers a
 * connection to any of them locally, to whatever listens on the
 * wildcard.  In a namespace, 203.0.113.7 on lo plays the WAN address,
 * with a service on 0.0.0.0 (and one on ::) and the proxy listening on
 * 0.0.0.0 with its own port allowed.
 */
static void
expect_self_denied(const struct harness_proxy *p, const char *target,
    int nrecord)
{
	struct harness_response	r;
	char			req[256], line[1024];
	int			fd;

	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: x\r\n\r\n",
	    target);
	fd = raw_request(p, req);
	expect_status(p, fd, 403, target, &r);
	close(fd);
	EXPECT(p, nth_access(p, nrecord, line, sizeof(line)) == 0,
	    "%s: no access record", target);
	EXPECT(p, has_rule(line, "builtin:self") &&
	    strstr(line, "reason=dest_denied") != NULL &&
	    strstr(line, "dialed=") == NULL, "%s: %s", target, line);
}

START_TEST(test_self_addresses_netns)
{
	struct harness_proxy	p;
	struct harness_target	t, t6;
	char			conf[512], target[128], line[1024];
	int			fd, port, v6, n = 0;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	ck_assert_int_eq(harness_netns_ip("addr add 203.0.113.7/32 dev lo"),
	    0);
	v6 = harness_netns_ip("addr add 2001:db8::7/128 dev lo nodad") == 0;
	ck_assert_int_eq(harness_target_start(&t, AF_INET, "0.0.0.0", 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	if (v6)
		v6 = harness_target_start(&t6, AF_INET6, "::", 0,
		    HARNESS_TARGET_ECHO, 0) == 0;
	ck_assert_int_ne(port = harness_free_port(AF_INET), -1);
	snprintf(conf, sizeof(conf), "listen 0.0.0.0:%d\nallow_port %d\n"
	    "allow_port %d\nallow_port %d\nworkers_start 2\n"
	    "connect_timeout 5s\n", port, port, t.port, v6 ? t6.port : 443);
	ck_assert_int_eq(harness_proxy_spawn(&p, conf), 0);
	p.port = port;
	EXPECT(&p, harness_wait_listen(port, harness_ms(5000)) == 0,
	    "the proxy did not listen on 0.0.0.0:%d", port);

	snprintf(target, sizeof(target), "203.0.113.7:%d", t.port);
	expect_self_denied(&p, target, n++);
	snprintf(target, sizeof(target), "[::ffff:203.0.113.7]:%d", t.port);
	expect_self_denied(&p, target, n++);
	/* Its own port there: the proxy would dial itself. */
	snprintf(target, sizeof(target), "203.0.113.7:%d", port);
	expect_self_denied(&p, target, n++);
	if (v6) {
		snprintf(target, sizeof(target), "[2001:db8::7]:%d", t6.port);
		expect_self_denied(&p, target, n++);
	}
	/* An address that appears later (DHCP) is the host's too. */
	ck_assert_int_eq(harness_netns_ip("addr add 198.51.100.9/32 dev lo"),
	    0);
	snprintf(target, sizeof(target), "198.51.100.9:%d", t.port);
	expect_self_denied(&p, target, n++);
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "the service on 0.0.0.0 was contacted");
	/*
	 * The belt: should the kernel's answer change between the check
	 * and the connect, the connection itself is refused when its local
	 * address is its peer's.  Here UDP (the check) finds no route to
	 * 198.51.100.10, TCP is delivered locally (the local table is
	 * looked up after the rule).  Needs ip rule's ipproto (Linux 4.17).
	 */
	if (harness_netns_ip("addr add 198.51.100.10/32 dev lo") == 0 &&
	    harness_netns_ip("rule add pref 10 ipproto udp to "
	    "198.51.100.10 unreachable") == 0 &&
	    harness_netns_ip("rule add pref 100 lookup local") == 0 &&
	    harness_netns_ip("rule del pref 0") == 0) {
		snprintf(target, sizeof(target), "198.51.100.10:%d", t.port);
		expect_self_denied(&p, target, n++);
	} else
		fprintf(stderr, "SKIP %s: the belt (no ip rule ipproto)\n",
		    __func__);
	if (v6)
		EXPECT(&p, harness_target_untouched(&t6) == 1,
		    "the service on :: was contacted");
	/* Nothing else was served: no worker took a connection from us. */
	EXPECT(&p, harness_proxy_count_log(&p, "access ") == n,
	    "%d access records, not %d", harness_proxy_count_log(&p,
	    "access "), n);
	harness_proxy_free(&p);

	/* An allow_dest CIDR unlocks it, as for loopback. */
	snprintf(conf, sizeof(conf), "allow_dest 203.0.113.7/32\n"
	    "allow_port %d\nworkers_start 2\n", t.port);
	harness_proxy_up(&p, conf);
	snprintf(target, sizeof(target), "203.0.113.7:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, NULL, harness_ms(10000));
	EXPECT(&p, fd != -1, "%s with allow_dest 203.0.113.7/32", target);
	harness_echo_roundtrip(&p, fd, "own address, allowed");
	close(fd);
	/*
	 * Its record comes when the worker sees the close: wait for it, or
	 * it may come after the refusal's and be read in its place.
	 */
	EXPECT(&p, nth_access(&p, 0, line, sizeof(line)) == 0 &&
	    strstr(line, "status=200") != NULL, "no record of the tunnel");
	snprintf(target, sizeof(target), "198.51.100.9:%d", t.port);
	expect_self_denied(&p, target, 1);
	harness_proxy_free(&p);
	if (v6)
		harness_target_stop(&t6);
	harness_target_stop(&t);
}
END_TEST

/* --- upstream: tinyproxy ----------------------------------------------- */

struct parent {
	char	dir[HARNESS_PATH_MAX];
	char	conf[HARNESS_PATH_MAX + 16];
	char	log[HARNESS_PATH_MAX + 16];
	int	port;
	pid_t	pid;
};

/* tinyproxy on a free loopback port, allowing CONNECT to connect_port. */
static int
tinyproxy_start(struct parent *tp, int connect_port, const char *extra)
{
	char	text[1024];
	char	*argv[] = { "tinyproxy", "-d", "-c", tp->conf, NULL };

	memset(tp, 0, sizeof(*tp));
	tp->pid = -1;
	if (!harness_have("tinyproxy") ||
	    harness_tmpdir(tp->dir, sizeof(tp->dir)) == -1)
		return -1;
	snprintf(tp->conf, sizeof(tp->conf), "%s/tinyproxy.conf", tp->dir);
	snprintf(tp->log, sizeof(tp->log), "%s/tinyproxy.log", tp->dir);
	if ((tp->port = harness_free_port(AF_INET)) == -1)
		return -1;
	snprintf(text, sizeof(text), "Port %d\nListen 127.0.0.1\nTimeout 30\n"
	    "MaxClients 20\nAllow 127.0.0.1\nConnectPort %d\nLogLevel Info\n"
	    "%s", tp->port, connect_port, extra);
	if (harness_write_file(tp->conf, text) == -1 ||
	    (tp->pid = harness_spawn(argv, tp->log)) == -1)
		return -1;
	return harness_wait_listen(tp->port, harness_ms(10000));
}

static void
parent_stop(struct parent *tp)
{
	if (tp->pid > 0)
		harness_kill_wait(tp->pid, 3000);
	tp->pid = -1;
	harness_rmdir(tp->dir);
}

#define NEED_TINYPROXY(tp, port, extra)	do {				\
	if (tinyproxy_start((tp), (port), (extra)) == -1) {		\
		parent_stop(tp);					\
		SKIP("tinyproxy cannot be run (apt-get install "	\
		    "tinyproxy)");					\
	}								\
} while (0)

/* A proxy whose only way out is `upstream_lines`, to a target. */
static void
chain_proxy(struct harness_proxy *p, int target_port,
    const char *upstream_lines)
{
	char	conf[CONF_MAX];

	snprintf(conf, sizeof(conf), "allow_port %d\nworkers_start 2\n"
	    "connect_timeout 3s\n%s", target_port, upstream_lines);
	harness_proxy_up(p, conf);
}

START_TEST(test_upstream_tinyproxy)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct parent		tp;
	char			up[256], target[64], line[1024], want[64];
	static unsigned char	buf[100000];
	ssize_t			n;
	int			fd, status = 0;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_SEND, sizeof(buf)), 0);
	NEED_TINYPROXY(&tp, t.port, "");
	snprintf(up, sizeof(up), "upstream 127.0.0.1:%d\n", tp.port);
	chain_proxy(&p, t.port, up);
	/*
	 * A name: the parent resolves it, we do not, so loopback is not
	 * refused here (the parent is trusted as configured).
	 */
	snprintf(target, sizeof(target), "localhost:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, NULL, harness_ms(10000));
	EXPECT(&p, fd != -1, "CONNECT %s through tinyproxy", target);
	n = harness_recv_exact(fd, buf, sizeof(buf), harness_ms(10000));
	EXPECT(&p, n == (ssize_t)sizeof(buf) && harness_pattern_check(buf,
	    sizeof(buf), 0) == (size_t)-1, "through tinyproxy: %zd bytes", n);
	close(fd);
	EXPECT(&p, nth_access(&p, 0, line, sizeof(line)) == 0, "no record");
	snprintf(want, sizeof(want), "upstream=127.0.0.1:%d", tp.port);
	EXPECT(&p, strstr(line, want) != NULL && strstr(line, "status=200")
	    != NULL, "access record: %s", line);
	snprintf(want, sizeof(want), "dialed=127.0.0.1:%d ", tp.port);
	EXPECT(&p, strstr(line, want) != NULL, "dialed: %s", line);
	/* An IP literal is still judged locally: loopback is refused. */
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 403,
	    "literal loopback through a parent: %d", status);
	harness_proxy_free(&p);
	parent_stop(&tp);
	harness_target_stop(&t);
}
END_TEST

START_TEST(test_upstream_credentials)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct parent		tp;
	char			up[512], cred[HARNESS_PATH_MAX + 16];
	char			target[64], line[1024];
	int			fd, status = 0;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	NEED_TINYPROXY(&tp, t.port, "BasicAuth puser ppass\n");
	snprintf(cred, sizeof(cred), "%s/parent.cred", tp.dir);
	ck_assert_int_eq(harness_write_file(cred, "puser:ppass\n"), 0);
	/* localhost goes with credentials, anything else without. */
	snprintf(up, sizeof(up), "upstream 127.0.0.1:%d credentials %s for "
	    "localhost\nupstream 127.0.0.1:%d\n", tp.port, cred, tp.port);
	chain_proxy(&p, t.port, up);
	snprintf(target, sizeof(target), "localhost:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd != -1, "with parent credentials: %d", status);
	ck_assert_int_eq(harness_send_str(fd, "hello\n"), 0);
	EXPECT(&p, harness_recv_exact(fd, line, 6, harness_ms(5000)) == 6 &&
	    memcmp(line, "hello\n", 6) == 0,
	    "no echo through the authenticated parent");
	close(fd);
	/* Local port policy applies before any parent is asked. */
	fd = harness_tunnel(p.port, "nocreds.test:1", NULL, &status,
	    harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 403, "port 1: %d", status);
	/* Without credentials the parent says 407: we say 502. */
	snprintf(target, sizeof(target), "nocreds.test:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 502, "parent 407 -> %d", status);
	EXPECT(&p, harness_proxy_wait_log(&p, "answered 407", NULL, line,
	    sizeof(line), harness_ms(5000)) == 0, "parent status not logged");
	EXPECT(&p, harness_proxy_wait_log(&p, "reason=upstream_refused", NULL,
	    line, sizeof(line), harness_ms(5000)) == 0, "no upstream_refused");
	EXPECT(&p, harness_proxy_count_log(&p, "ppass") == 0,
	    "parent password in the log");
	harness_proxy_free(&p);
	parent_stop(&tp);
	harness_target_stop(&t);
}
END_TEST

START_TEST(test_upstream_refusing_down_failover)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct parent		ok, refusing;
	char			up[512], target[64], line[1024], want[64];
	int			fd, status = 0, closed, held;

	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	closed = harness_closed_port(AF_INET, &held);
	ck_assert_int_ne(closed, -1);
	NEED_TINYPROXY(&ok, t.port, "");
	/* This one allows CONNECT to another port only. */
	if (tinyproxy_start(&refusing, closed, "") == -1) {
		parent_stop(&ok);
		parent_stop(&refusing);
		SKIP("second tinyproxy did not start");
	}
	snprintf(up, sizeof(up), "upstream 127.0.0.1:%d for down.test\n"
	    "upstream 127.0.0.1:%d for refusing.test\n"
	    "upstream direct for down.test refusing.test\n"
	    "upstream 127.0.0.1:%d\nupstream 127.0.0.1:%d\n", closed,
	    refusing.port, closed, ok.port);
	chain_proxy(&p, t.port, up);
	/* Parent down, no other for that name: 502. */
	snprintf(target, sizeof(target), "down.test:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 502, "parent down: %d", status);
	EXPECT(&p, nth_access(&p, 0, line, sizeof(line)) == 0 &&
	    strstr(line, "reason=upstream_failed") != NULL, "down: %s", line);
	/* The parent refuses the port: its 403 is our 502, logged. */
	snprintf(target, sizeof(target), "refusing.test:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 502, "parent refusing: %d", status);
	EXPECT(&p, harness_proxy_wait_log(&p, "answered 403", NULL, NULL, 0,
	    harness_ms(5000)) == 0, "parent's 403 not logged");
	EXPECT(&p, nth_access(&p, 1, line, sizeof(line)) == 0 &&
	    strstr(line, "reason=upstream_refused") != NULL, "refused: %s",
	    line);
	/* Failover: the first catch-all parent is down, the second works. */
	snprintf(target, sizeof(target), "localhost:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd != -1, "failover: %d", status);
	ck_assert_int_eq(harness_send_str(fd, "fail over\n"), 0);
	EXPECT(&p, harness_recv_exact(fd, line, 10, harness_ms(5000)) == 10,
	    "no echo after failover");
	close(fd);
	EXPECT(&p, nth_access(&p, 2, line, sizeof(line)) == 0, "no record");
	snprintf(want, sizeof(want), "upstream=127.0.0.1:%d ", ok.port);
	strcat(line, " ");
	EXPECT(&p, strstr(line, want) != NULL, "failover went to %s", line);
	harness_proxy_free(&p);
	parent_stop(&ok);
	parent_stop(&refusing);
	harness_target_stop(&t);
	close(held);
}
END_TEST

/* --- upstream: a scripted fake parent -------------------------------- */

/*
 * A parent in a forked child: accepts one connection, reads the request
 * head, writes it to `report`, then answers `answer` and echoes (or, when
 * answer is NULL, stays silent until EOF).
 */
static void
fake_parent_term(int sig)
{
	(void)sig;
	_exit(0);
}

static pid_t
fake_parent(int *port, const char *answer, int report)
{
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	char			buf[4096];
	size_t			got = 0;
	ssize_t			n;
	pid_t			pid;
	int			lfd, fd, one = 1;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	ck_assert_int_ne(lfd, -1);
	setsockopt(lfd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	ck_assert_int_eq(bind(lfd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	ck_assert_int_eq(listen(lfd, 4), 0);
	getsockname(lfd, (struct sockaddr *)&sin, &len);
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(lfd);
		return pid;
	}
	/*
	 * Leave by _exit() on TERM: dying of a signal in a fork of the test
	 * process has been seen to be reported as the test's own death.
	 */
	signal(SIGTERM, fake_parent_term);
	alarm(30);
	if ((fd = accept(lfd, NULL, NULL)) == -1)
		_exit(1);
	while (got < sizeof(buf) - 1 && (n = read(fd, buf + got,
	    sizeof(buf) - 1 - got)) > 0) {
		got += (size_t)n;
		buf[got] = '\0';
		if (strstr(buf, "\r\n\r\n") != NULL)
			break;
	}
	if (write(report, buf, got) == -1)
		_exit(1);
	close(report);
	if (answer != NULL && write(fd, answer, strlen(answer)) == -1)
		_exit(1);
	while ((n = read(fd, buf, sizeof(buf))) > 0)
		if (answer != NULL && write(fd, buf, (size_t)n) == -1)
			break;
	_exit(0);
}

START_TEST(test_upstream_fake_parent)
{
	struct harness_proxy	p;
	char			dir[256], users[HARNESS_PATH_MAX + 16];
	char			cred[HARNESS_PATH_MAX + 16], conf[CONF_MAX];
	char			head[4096], buf[64];
	int			pfd[2], port, fd, status;
	ssize_t			n;
	pid_t			pid;

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	write_users(dir, users, sizeof(users));
	snprintf(cred, sizeof(cred), "%s/cred", dir);
	ck_assert_int_eq(harness_write_file(cred, "puser:p:pass\n"), 0);
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fake_parent(&port, "HTTP/1.1 200 Connection established\r\n"
	    "Via: fake\r\n\r\nEARLY", pfd[1]);
	close(pfd[1]);
	snprintf(conf, sizeof(conf), "allow_port 443\nauth_file %s\n"
	    "workers_start 1\nupstream 127.0.0.1:%d credentials %s\n", users,
	    port, cred);
	harness_proxy_up(&p, conf);
	fd = raw_request(&p, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:443\r\n"
	    "Proxy-Authorization: Basic YWxpY2U6c2VjcmV0\r\n\r\nUP");
	n = harness_recv_head(fd, head, sizeof(head), harness_ms(10000));
	EXPECT(&p, n > 0 && strncmp(head, "HTTP/1.1 200 ", 13) == 0,
	    "no 200 through the fake parent: %.60s", head);
	/* The parent's early bytes, then our early bytes echoed back. */
	n = harness_recv_exact(fd, buf, 7, harness_ms(5000));
	EXPECT(&p, n == 7 && memcmp(buf, "EARLYUP", 7) == 0,
	    "early bytes: %zd \"%.*s\"", n, (int)(n > 0 ? n : 0), buf);
	close(fd);
	n = read(pfd[0], head, sizeof(head) - 1);
	head[n > 0 ? n : 0] = '\0';
	/* Exactly our CONNECT: parent credentials, never the client's. */
	EXPECT(&p, strcmp(head, "CONNECT [2001:db8::1]:443 HTTP/1.1\r\n"
	    "Host: [2001:db8::1]:443\r\nProxy-Authorization: Basic "
	    "cHVzZXI6cDpwYXNz\r\n\r\n") == 0, "parent saw: %s", head);
	close(pfd[0]);
	harness_kill_wait(pid, 3000);
	harness_proxy_free(&p);
	/* A parent that accepts but never answers: 504 in connect_timeout. */
	ck_assert_int_eq(pipe(pfd), 0);
	pid = fake_parent(&port, NULL, pfd[1]);
	close(pfd[1]);
	snprintf(conf, sizeof(conf), "allow_port 443\nconnect_timeout 1s\n"
	    "workers_start 1\nupstream 127.0.0.1:%d\n", port);
	harness_proxy_up(&p, conf);
	fd = harness_tunnel(p.port, "example.org:443", NULL, &status,
	    harness_ms(10000));
	EXPECT(&p, fd == -1 && status == 504, "silent parent: %d", status);
	close(pfd[0]);
	harness_kill_wait(pid, 3000);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/*
 * The password bound end to end: a password of 256 octets opens a
 * tunnel, one of 257 gets 407 (malformed, before any hash) and the target
 * is not contacted for it; the password never reaches the log.
 */
START_TEST(test_auth_password_bound)
{
	struct harness_proxy	 p;
	struct harness_target	 t;
	struct harness_response	 r;
	char			 users[HARNESS_PATH_MAX + 16], dir[256];
	char			 pass[AUTH_PASS_MAX + 2], hash[256], text[512];
	char			 raw[AUTH_PASS_MAX + 8], b64[AUTH_B64_MAX + 8];
	char			 conf[CONF_MAX], req[1024], *log;
	size_t			 len;
	int			 fd;

	if (!harness_bin_has_crypt())
		SKIP("built without crypt(3)");
	if (!harness_have("openssl"))
		SKIP("openssl not installed");
	memset(pass, 'p', AUTH_PASS_MAX);
	pass[AUTH_PASS_MAX] = '\0';
	make_hash("-6", pass, hash, sizeof(hash));
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(users, sizeof(users), "%s/users", dir);
	snprintf(text, sizeof(text), "long:%s\n", hash);
	ck_assert_int_eq(harness_write_file(users, text), 0);
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(conf, sizeof(conf), "allow_dest 127.0.0.0/8\nallow_port %d\n"
	    "auth_file %s\nworkers_start 1\n", t.port, users);
	harness_proxy_up(&p, conf);
	/* 257 octets: the same password and one more octet. */
	len = (size_t)snprintf(raw, sizeof(raw), "long:%sp", pass);
	ck_assert_uint_gt(auth_base64_encode((unsigned char *)raw, len, b64,
	    sizeof(b64)), 0);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\nProxy-Authorization: Basic %s\r\n\r\n", t.port,
	    t.port, b64);
	fd = raw_request(&p, req);
	expect_status(&p, fd, 407, "a 257-octet password", &r);
	close(fd);
	EXPECT(&p, harness_proxy_wait_log(&p, "authentication failed",
	    "reason=malformed", NULL, 0, harness_ms(5000)) == 0,
	    "a 257-octet password was not refused as malformed");
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "the target was contacted for a 257-octet password");
	len = (size_t)snprintf(raw, sizeof(raw), "long:%s", pass);
	ck_assert_uint_gt(auth_base64_encode((unsigned char *)raw, len, b64,
	    sizeof(b64)), 0);
	snprintf(req, sizeof(req), "CONNECT 127.0.0.1:%d HTTP/1.1\r\nHost: "
	    "127.0.0.1:%d\r\nProxy-Authorization: Basic %s\r\n\r\n", t.port,
	    t.port, b64);
	fd = raw_request(&p, req);
	EXPECT(&p, harness_recv_head(fd, r.head, sizeof(r.head),
	    harness_ms(10000)) > 0 && strncmp(r.head, "HTTP/1.1 200 ", 13) ==
	    0, "a 256-octet password: no 200: %.60s", r.head);
	harness_echo_roundtrip(&p, fd, "ping\n");
	close(fd);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "user=long", NULL, 0,
	    harness_ms(10000)) == 0, "no access record with user=long");
	ck_assert_ptr_nonnull(log = harness_proxy_log(&p));
	EXPECT(&p, strstr(log, "pppppppppppppppp") == NULL,
	    "the password reached the log");
	free(log);
	harness_proxy_free(&p);
	harness_target_stop(&t);
	harness_rmdir(dir);
}
END_TEST

Suite *
access_suite(void)
{
	Suite	*s;
	TCase	*tc;

	signal(SIGPIPE, SIG_IGN);
	s = suite_create("access");
	tc = tcase_create("auth");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_auth_raw);
	tcase_add_test(tc, test_auth_curl);
	tcase_add_test(tc, test_plaintext_refused);
	tcase_add_test(tc, test_auth_password_bound);
	suite_add_tcase(s, tc);
	tc = tcase_create("destinations");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_builtin_denials);
	tcase_add_test(tc, test_dest_rules_named);
	tcase_add_test(tc, test_dest_name_not_searched_netns);
	tcase_add_test(tc, test_resolver_failure_netns);
	tcase_add_test(tc, test_self_addresses_netns);
	suite_add_tcase(s, tc);
	tc = tcase_create("upstream");
	tcase_set_timeout(tc, 90);
	tcase_add_test(tc, test_upstream_tinyproxy);
	tcase_add_test(tc, test_upstream_credentials);
	tcase_add_test(tc, test_upstream_refusing_down_failover);
	tcase_add_test(tc, test_upstream_fake_parent);
	suite_add_tcase(s, tc);
	return s;
}
