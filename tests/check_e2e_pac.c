/* SPDX-License-Identifier: ISC */
/*
 * End-to-end suite for pac_file: the proxy serves its PAC file to curl
 * and to raw clients (GET and HEAD of /proxy.pac and /wpad.dat, byte for
 * byte, with its head), to admitted clients only and without asking for
 * credentials; every other GET stays 405; the access records and the
 * metrics tell answers from tunnels; a reload serves an edited file and
 * a reload whose file is gone fails, the old bytes still served; -t
 * names a file that is missing or too large at its line.  Loopback only.
 */
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define CONF_MAX	2048
#define OUT_MAX		8192
#define SAMPLE_PAC	"conf/proxy.pac"
#define PAC_TYPE	"application/x-ns-proxy-autoconfig"
#define PAC_DIRECT	"function FindProxyForURL(u, h) { return " \
			"\"DIRECT\"; }\n"

/* An answer read off a raw connection, body by its Content-Length. */
struct answer {
	int	 status;
	char	 head[HARNESS_HEAD_MAX];
	char	*body;		/* malloc'd, NUL-terminated */
	long	 length;	/* Content-Length, -1 when absent */
	ssize_t	 after;		/* bytes after the body before EOF */
};

/* The whole file at path, which must exist; the caller frees. */
static char *
slurp(const char *path)
{
	char	*text = harness_read_file(path);

	ck_assert_msg(text != NULL, "cannot read %s (run from the tree's "
	    "top)", path);
	return text;
}

/* An absolute path for a file of the tree: the proxy may not share cwd. */
static void
tree_path(const char *rel, char *buf, size_t len)
{
	char	cwd[HARNESS_PATH_MAX];

	ck_assert_ptr_nonnull(getcwd(cwd, sizeof(cwd)));
	snprintf(buf, len, "%s/%s", cwd, rel);
}

/*
 * Send req from source address src to the proxy and read the answer:
 * its head, Content-Length bytes of body (none for `head_only`), then
 * what comes before EOF.  Fails the test when there is no answer.
 */
static void
ask(const struct harness_proxy *p, const char *src, const char *req,
    int head_only, struct answer *a)
{
	char	val[64];
	int	fd;

	memset(a, 0, sizeof(*a));
	fd = harness_connect_from(src, p->port, harness_ms(5000));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(harness_send_str(fd, req), 0);
	EXPECT(p, harness_recv_head(fd, a->head, sizeof(a->head),
	    harness_ms(10000)) > 0, "%s: no answer", req);
	a->status = strncmp(a->head, "HTTP/1.1 ", 9) == 0 ?
	    atoi(a->head + 9) : 0;
	a->length = harness_header(a->head, "Content-Length", val,
	    sizeof(val)) == 0 ? atol(val) : -1;
	ck_assert_ptr_nonnull(a->body = calloc(1, a->length > 0 ?
	    (size_t)a->length + 1 : 1));
	if (!head_only && a->length > 0)
		EXPECT(p, harness_recv_exact(fd, a->body, (size_t)a->length,
		    harness_ms(10000)) == a->length, "%s: body cut short",
		    req);
	a->after = harness_wait_eof(fd, harness_ms(10000));
	close(fd);
}

/* A 200 with the PAC head and body `want` (NULL: none, as for HEAD). */
static void
expect_pac(const struct harness_proxy *p, const struct answer *a,
    const char *want, size_t want_len, const char *what)
{
	char	val[128];

	EXPECT(p, a->status == 200 && strncmp(a->head, "HTTP/1.1 200 OK\r\n",
	    17) == 0, "%s: %.40s", what, a->head);
	EXPECT(p, harness_header(a->head, "Content-Type", val,
	    sizeof(val)) == 0 && strcmp(val, PAC_TYPE) == 0,
	    "%s: Content-Type %s", what, val);
	EXPECT(p, a->length == (long)want_len, "%s: Content-Length %ld, "
	    "file %zu", what, a->length, want_len);
	EXPECT(p, harness_header(a->head, "Connection", val,
	    sizeof(val)) == 0 && strcmp(val, "close") == 0,
	    "%s: no Connection: close", what);
	EXPECT(p, harness_header(a->head, "Cache-Control", val,
	    sizeof(val)) == 0 && strcmp(val, "max-age=300") == 0,
	    "%s: Cache-Control %s", what, val);
	EXPECT(p, harness_header(a->head, "Date", val, sizeof(val)) == 0,
	    "%s: no Date", what);
	if (want != NULL)
		EXPECT(p, memcmp(a->body, want, want_len) == 0,
		    "%s: not the file's bytes", what);
	EXPECT(p, a->after == 0, "%s: %zd bytes after the answer, or not "
	    "closed", what, a->after);
}

static void
expect_status(const struct harness_proxy *p, const struct answer *a,
    int want, const char *what)
{
	EXPECT(p, a->status == want, "%s: expected %d, saw %.40s", what, want,
	    a->head);
}

/* A 405's Allow field is `want`: the methods its target takes. */
static void
expect_allow(const struct harness_proxy *p, const struct answer *a,
    const char *want, const char *what)
{
	char	val[64];

	EXPECT(p, harness_header(a->head, "Allow", val, sizeof(val)) == 0 &&
	    strcmp(val, want) == 0, "%s: Allow: %s, not %s", what,
	    harness_header(a->head, "Allow", val, sizeof(val)) == 0 ? val :
	    "(none)", want);
}

/* The access record with both needles into line, or fail. */
static void
record_with(const struct harness_proxy *p, const char *a, const char *b,
    char *line, size_t len)
{
	EXPECT(p, harness_proxy_wait_log(p, a, b, line, len,
	    harness_ms(10000)) == 0, "no access record with \"%s\" and "
	    "\"%s\"", a, b);
}

/*
 * Wait until `connectproxy metrics` says `series` is `want`: the record
 * is written just before the counters move.
 */
static void
metric_is(const struct harness_proxy *p, const char *series, long want)
{
	char		*argv[] = { (char *)harness_bin(), "-c", (char *)p->conf,
	    "metrics", NULL };
	char		 out[OUT_MAX], line[256];
	long long	 deadline = harness_now_ms() + harness_ms(10000);

	snprintf(line, sizeof(line), "\n%s %ld\n", series, want);
	for (;;) {
		if (harness_run(argv, NULL, out, sizeof(out),
		    harness_ms(10000)) == 0 && strstr(out, line) != NULL)
			return;
		EXPECT(p, harness_now_ms() < deadline, "metrics: no \"%s "
		    "%ld\" in\n%s", series, want, out);
		(void)poll(NULL, 0, HARNESS_POLL_STEP_MS);
	}
}

/*
 * The sample PAC file, served: to curl (origin-form, as curl asks a
 * server), to raw GET and HEAD of both paths, HTTP/1.0 without Host, a
 * query; other GETs 405; records and metrics that are not a tunnel's.
 */
START_TEST(test_pac_served)
{
	struct harness_proxy	 p;
	struct answer		 a;
	char			 conf[CONF_MAX], pac[HARNESS_PATH_MAX * 2];
	char			 dir[HARNESS_PATH_MAX], out[OUT_MAX];
	char			 url[128], got[HARNESS_PATH_MAX + 16];
	char			 line[2048], ctl[HARNESS_PATH_MAX + 16];
	char			*want, *text;
	char			*argv[] = { "curl", "-s", "-f", "-o", got,
	    "--max-time", "20", url, NULL };
	size_t			 len;
	int			 curl = harness_have("curl");

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	tree_path(SAMPLE_PAC, pac, sizeof(pac));
	want = slurp(SAMPLE_PAC);
	len = strlen(want);
	snprintf(ctl, sizeof(ctl), "%s/ctl.sock", dir);
	snprintf(conf, sizeof(conf), "pac_file %s\ncontrol_socket %s\n"
	    "workers_start 2\n", pac, ctl);
	harness_proxy_up(&p, conf);

	if (curl) {
		snprintf(url, sizeof(url), "http://127.0.0.1:%d/proxy.pac",
		    p.port);
		snprintf(got, sizeof(got), "%s/got.pac", dir);
		EXPECT(&p, harness_run(argv, NULL, out, sizeof(out),
		    harness_ms(30000)) == 0, "curl %s: %s", url, out);
		text = slurp(got);
		EXPECT(&p, strcmp(text, want) == 0, "curl: not the file");
		free(text);
	} else
		fprintf(stderr, "SKIP %s (curl part): curl not installed\n",
		    __func__);

	ask(&p, "127.0.0.1", "GET /wpad.dat HTTP/1.1\r\nHost: wpad.office."
	    "lan\r\nUser-Agent: t\r\n\r\n", 0, &a);
	expect_pac(&p, &a, want, len, "GET /wpad.dat");
	free(a.body);
	ask(&p, "127.0.0.1", "GET /proxy.pac HTTP/1.0\r\n\r\n", 0, &a);
	expect_pac(&p, &a, want, len, "HTTP/1.0");
	free(a.body);
	ask(&p, "127.0.0.1", "GET /proxy.pac?v=2 HTTP/1.1\r\nHost: x\r\n\r\n",
	    0, &a);
	expect_pac(&p, &a, want, len, "query");
	free(a.body);
	/* HEAD: the same head, no body before the close. */
	ask(&p, "127.0.0.1", "HEAD /proxy.pac HTTP/1.1\r\nHost: x\r\n\r\n", 1,
	    &a);
	expect_pac(&p, &a, NULL, len, "HEAD");
	free(a.body);
	/* Other GETs, and POST to the path, stay 405. */
	ask(&p, "127.0.0.1", "GET /other HTTP/1.1\r\nHost: x\r\n\r\n", 0, &a);
	expect_status(&p, &a, 405, "GET /other");
	expect_allow(&p, &a, "CONNECT", "GET /other");
	free(a.body);
	ask(&p, "127.0.0.1", "GET http://x/proxy.pac HTTP/1.1\r\nHost: x\r\n"
	    "\r\n", 0, &a);
	expect_status(&p, &a, 405, "absolute-form");
	free(a.body);
	ask(&p, "127.0.0.1", "POST /proxy.pac HTTP/1.1\r\nHost: x\r\n\r\n", 0,
	    &a);
	expect_status(&p, &a, 405, "POST");
	/* RFC 9110 15.5.6: what the target resource takes, the file's. */
	expect_allow(&p, &a, "GET, HEAD", "POST");
	free(a.body);
	ask(&p, "127.0.0.1", "PUT /wpad.dat?x HTTP/1.1\r\nHost: x\r\n\r\n", 0,
	    &a);
	expect_status(&p, &a, 405, "PUT");
	expect_allow(&p, &a, "GET, HEAD", "PUT");
	free(a.body);

	/* Records: 200, the path, reason=pac, the bytes; never a tunnel's. */
	record_with(&p, "access ", " target=/wpad.dat ", line, sizeof(line));
	snprintf(out, sizeof(out), " status=200 bytes_up=0 bytes_down=%zu ",
	    len);
	EXPECT(&p, strstr(line, out) != NULL && strstr(line, " reason=pac") !=
	    NULL && strstr(line, " dialed=") == NULL, "record: %s", line);
	/* The HEAD's: no body sent. */
	record_with(&p, " target=/proxy.pac ", " bytes_down=0 ", line,
	    sizeof(line));
	EXPECT(&p, strstr(line, " status=200 ") != NULL &&
	    strstr(line, " reason=pac") != NULL, "HEAD record: %s", line);
	record_with(&p, " target=- ", " status=405 ", line, sizeof(line));
	EXPECT(&p, strstr(line, " reason=method_not_allowed") != NULL,
	    "405 record: %s", line);
	metric_is(&p, "connectproxy_pac_answers_total", curl ? 5 : 4);
	metric_is(&p, "connectproxy_tunnels_total{status=\"200\"}", 0);
	metric_is(&p, "connectproxy_tunnels_total{status=\"405\"}", 4);
	harness_proxy_free(&p);
	free(want);
	harness_rmdir(dir);
}
END_TEST

/* A sha512-crypt hash of "secret" (openssl passwd -6 -salt cpsalt42). */
#define HASH_SECRET	"$6$cpsalt42$1tbnEr9DinlYqRZbYR7i8AiEQ8Jm9JVoe2JOX" \
			"YCMabkv88gWg2c51R85ipfho4.xYVmbwsODRP4nedolzS5j2."

/*
 * Only clients allow_client admits get the file, and they get it without
 * credentials when an auth_file asks every tunnel for them.
 */
START_TEST(test_pac_clients)
{
	struct harness_proxy	 p;
	struct answer		 a;
	char			 conf[CONF_MAX], dir[HARNESS_PATH_MAX];
	char			 pac[HARNESS_PATH_MAX + 16];
	char			 users[HARNESS_PATH_MAX + 16], line[2048];
	int			 crypt_ok = harness_bin_has_crypt();

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(pac, sizeof(pac), "%s/proxy.pac", dir);
	ck_assert_int_eq(harness_write_file(pac, PAC_DIRECT), 0);
	snprintf(users, sizeof(users), "%s/users", dir);
	ck_assert_int_eq(harness_write_file(users, "alice:" HASH_SECRET "\n"),
	    0);
	snprintf(conf, sizeof(conf), "pac_file %s\nallow_client 127.0.0.1\n"
	    "workers_start 2\n%s%s\n", pac, crypt_ok ? "auth_file " : "",
	    crypt_ok ? users : "");
	harness_proxy_up(&p, conf);
	if (crypt_ok) {
		/* Tunnels need credentials ... */
		ask(&p, "127.0.0.1", "CONNECT 127.0.0.1:443 HTTP/1.1\r\n"
		    "Host: 127.0.0.1:443\r\n\r\n", 0, &a);
		expect_status(&p, &a, 407, "CONNECT without credentials");
		free(a.body);
	} else
		fprintf(stderr, "SKIP %s (auth_file part): built without "
		    "crypt(3)\n", __func__);
	/* ... the PAC file does not. */
	ask(&p, "127.0.0.1", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 0,
	    &a);
	expect_pac(&p, &a, PAC_DIRECT, strlen(PAC_DIRECT), "no credentials");
	EXPECT(&p, strstr(a.head, "Proxy-Authenticate") == NULL,
	    "a challenge in the PAC answer");
	free(a.body);
	/* A client outside allow_client: 403, as for a tunnel. */
	ask(&p, "127.0.0.2", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 0,
	    &a);
	expect_status(&p, &a, 403, "client outside allow_client");
	EXPECT(&p, strstr(a.head, PAC_TYPE) == NULL, "403 with the file");
	free(a.body);
	record_with(&p, "client=127.0.0.2:", " reason=client_denied", line,
	    sizeof(line));
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/* Without pac_file, GET and HEAD of the PAC paths are 405 as ever. */
START_TEST(test_pac_off)
{
	struct harness_proxy	p;
	struct answer		a;
	char			val[64];

	harness_proxy_up(&p, "workers_start 1\n");
	ask(&p, "127.0.0.1", "GET /proxy.pac HTTP/1.1\r\nHost: p\r\n\r\n", 0,
	    &a);
	expect_status(&p, &a, 405, "GET /proxy.pac without pac_file");
	EXPECT(&p, harness_header(a.head, "Allow", val, sizeof(val)) == 0 &&
	    strcmp(val, "CONNECT") == 0, "Allow: %s", val);
	free(a.body);
	ask(&p, "127.0.0.1", "HEAD /wpad.dat HTTP/1.1\r\nHost: p\r\n\r\n", 0,
	    &a);
	expect_status(&p, &a, 405, "HEAD /wpad.dat without pac_file");
	free(a.body);
	harness_proxy_free(&p);
}
END_TEST

/* GET /proxy.pac until its body is `want` (a reload is under way). */
static void
await_body(const struct harness_proxy *p, const char *want, size_t len)
{
	long long	deadline = harness_now_ms() + harness_ms(10000);
	struct answer	a;
	int		same;

	for (;;) {
		ask(p, "127.0.0.1", "GET /proxy.pac HTTP/1.0\r\n\r\n", 0, &a);
		same = a.status == 200 && a.length == (long)len &&
		    memcmp(a.body, want, len) == 0;
		free(a.body);
		if (same)
			return;
		EXPECT(p, harness_now_ms() < deadline, "the file of %zu bytes "
		    "is not served", len);
		(void)poll(NULL, 0, HARNESS_POLL_STEP_MS);
	}
}

/*
 * A reload serves the edited file (here near the 64 KiB bound); a reload
 * whose file is gone fails whole, at the pac_file line, and the proxy
 * goes on serving the bytes it had.
 */
START_TEST(test_pac_reload)
{
	struct harness_proxy	 p;
	struct answer		 a;
	char			 conf[CONF_MAX], dir[HARNESS_PATH_MAX];
	char			 pac[HARNESS_PATH_MAX + 16], want[600];
	char			*big;
	size_t			 len = 60000, i;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(pac, sizeof(pac), "%s/proxy.pac", dir);
	ck_assert_int_eq(harness_write_file(pac, "// first\n"), 0);
	snprintf(conf, sizeof(conf), "workers_start 2\npac_file %s\n", pac);
	harness_proxy_up(&p, conf);
	await_body(&p, "// first\n", 9);

	ck_assert_ptr_nonnull(big = malloc(len + 1));
	for (i = 0; i < len; i++)
		big[i] = i % 64 == 63 ? '\n' : (char)('a' + i % 26);
	big[len] = '\0';
	ck_assert_int_eq(harness_write_file(pac, big), 0);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	EXPECT(&p, harness_proxy_wait_log(&p, "reloaded: generation 1", NULL,
	    NULL, 0, harness_ms(10000)) == 0, "no reload");
	await_body(&p, big, len);

	ck_assert_int_eq(unlink(pac), 0);
	ck_assert_int_eq(harness_proxy_signal(&p, SIGHUP), 0);
	snprintf(want, sizeof(want), "%s:3: pac_file %s: No such file or "
	    "directory", p.conf, pac);
	EXPECT(&p, harness_proxy_wait_log(&p, "reload failed", want, NULL, 0,
	    harness_ms(10000)) == 0, "no failed reload naming %s", want);
	/* Every worker still serves the file of generation 1. */
	for (i = 0; i < 4; i++) {
		ask(&p, "127.0.0.1", "GET /wpad.dat HTTP/1.0\r\n\r\n", 0, &a);
		expect_pac(&p, &a, big, len, "after the failed reload");
		free(a.body);
	}
	free(big);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/* `connectproxy -t -c conf`: its exit status, its output into out. */
static int
check_conf(const char *conf, char *out, size_t len)
{
	char	*argv[] = { (char *)harness_bin(), "-t", "-c", (char *)conf,
	    NULL };
	int	 st;

	st = harness_run(argv, NULL, out, len, harness_ms(10000));
	return st != -1 && WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

/* -t and the start name a missing or too large file at its line. */
START_TEST(test_pac_config_errors)
{
	struct harness_proxy	 p;
	char			 dir[HARNESS_PATH_MAX], conf[HARNESS_PATH_MAX + 16];
	char			 pac[HARNESS_PATH_MAX + 16], text[CONF_MAX];
	char			 out[OUT_MAX], want[CONF_MAX], *big, *log;

	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(pac, sizeof(pac), "%s/proxy.pac", dir);
	snprintf(conf, sizeof(conf), "%s/c.conf", dir);
	snprintf(text, sizeof(text), "listen 127.0.0.1:1\npac_file %s\n",
	    pac);
	ck_assert_int_eq(harness_write_file(conf, text), 0);

	ck_assert_int_ne(check_conf(conf, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: No such file or "
	    "directory", conf, pac);
	ck_assert_msg(strstr(out, want) != NULL, "-t said: %s", out);

	ck_assert_ptr_nonnull(big = malloc(64 * 1024 + 2));
	memset(big, '/', 64 * 1024 + 1);
	big[64 * 1024 + 1] = '\0';
	ck_assert_int_eq(harness_write_file(pac, big), 0);
	ck_assert_int_ne(check_conf(conf, out, sizeof(out)), 0);
	snprintf(want, sizeof(want), "%s:2: pac_file %s: file too large (max "
	    "65536 bytes)", conf, pac);
	ck_assert_msg(strstr(out, want) != NULL, "-t said: %s", out);
	big[64 * 1024] = '\0';
	ck_assert_int_eq(harness_write_file(pac, big), 0);
	ck_assert_msg(check_conf(conf, out, sizeof(out)) == 0, "-t: %s", out);
	free(big);

	/* The start stops there too. */
	ck_assert_int_eq(unlink(pac), 0);
	snprintf(text, sizeof(text), "listen 127.0.0.1:%d\npac_file %s\n",
	    harness_free_port(AF_INET), pac);
	ck_assert_int_eq(harness_proxy_spawn(&p, text), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(10000)) == 0 &&
	    WIFEXITED(p.status) && WEXITSTATUS(p.status) != 0,
	    "the proxy started without its pac_file");
	ck_assert_ptr_nonnull(log = harness_proxy_log(&p));
	snprintf(want, sizeof(want), "%s:2: pac_file %s: No such file or "
	    "directory", p.conf, pac);
	EXPECT(&p, strstr(log, want) != NULL, "no %s", want);
	free(log);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

/*
 * A client that asks for the file and never reads it holds the worker
 * for the write's deadline (header_timeout) and no longer: the answer is
 * lost, so the connection is closed at once, not kept for the lingering
 * close of an answer that was sent (2 s more before the fix).  In a
 * network namespace whose TCP buffers are 4 KiB, so that 64 KiB cannot
 * all go into the kernel and the write really waits.
 */
START_TEST(test_pac_slow_reader_netns)
{
	struct harness_proxy	 p;
	char			 conf[CONF_MAX], dir[HARNESS_PATH_MAX];
	char			 pac[HARNESS_PATH_MAX + 16], line[2048];
	char			*big;
	long long		 ms;
	int			 fd;

	if (harness_netns_enter() == -1 ||
	    harness_write_file("/proc/sys/net/ipv4/tcp_wmem",
	    "4096 4096 4096\n") == -1 ||
	    harness_write_file("/proc/sys/net/ipv4/tcp_rmem",
	    "4096 4096 4096\n") == -1) {
		fprintf(stderr, "SKIP %s: no network namespace of its own\n",
		    __func__);
		return;
	}
	ck_assert_int_eq(harness_tmpdir(dir, sizeof(dir)), 0);
	snprintf(pac, sizeof(pac), "%s/proxy.pac", dir);
	ck_assert_ptr_nonnull(big = malloc(64 * 1024 + 1));
	memset(big, '/', 64 * 1024);
	big[64 * 1024] = '\0';
	ck_assert_int_eq(harness_write_file(pac, big), 0);
	free(big);
	snprintf(conf, sizeof(conf), "pac_file %s\nheader_timeout 1s\n"
	    "workers_start 2\n", pac);
	harness_proxy_up(&p, conf);
	fd = harness_connect("127.0.0.1", p.port, harness_ms(5000));
	ck_assert_int_ne(fd, -1);
	ck_assert_int_eq(harness_send_str(fd, "GET /proxy.pac HTTP/1.1\r\n"
	    "Host: p\r\n\r\n"), 0);
	/* Never read, never close: the worker must let go by itself. */
	record_with(&p, " target=/proxy.pac ", " reason=", line,
	    sizeof(line));
	ms = harness_field_num(line, "duration_ms");
	EXPECT(&p, strstr(line, " status=200 ") != NULL &&
	    strstr(line, " reason=error") != NULL, "not a failed answer: %s",
	    line);
	EXPECT(&p, ms >= 900 && ms < 1800, "the worker held the client %lld "
	    "ms, not about header_timeout (1000): %s", ms, line);
	close(fd);
	harness_proxy_free(&p);
	harness_rmdir(dir);
}
END_TEST

Suite *
pac_suite(void)
{
	Suite	*s = suite_create("pac");
	TCase	*tc = harness_tcase(s, "pac", 60);

	tcase_add_test(tc, test_pac_served);
	tcase_add_test(tc, test_pac_clients);
	tcase_add_test(tc, test_pac_off);
	tcase_add_test(tc, test_pac_reload);
	tcase_add_test(tc, test_pac_config_errors);
	tcase_add_test(tc, test_pac_slow_reader_netns);
	return s;
}
