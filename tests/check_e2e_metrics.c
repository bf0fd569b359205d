/* SPDX-License-Identifier: ISC */
/*
 * Suite "metrics": the metrics endpoint (metrics_listen, metrics_client)
 * and the metrics a scrape needs.  The request parser and the answers on
 * their own; control_metrics() on a scoreboard filled by hand; then the
 * real binary scraped by curl and by raw sockets: the same families as
 * `connectproxy metrics`, the counts of a tunnel that ran, HEAD, every
 * error answer, a client outside metrics_client, idle clients that hold
 * neither the master nor a scrape, the bytes of an open tunnel, and a
 * reload that moves, fails to move, and drops the endpoint.
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "harness.h"
#include "scoreboard.h"
#include "scrape.h"
#include "scrape_heads.h"
#include "suites.h"

#define CONF_MAX	2048
#define TEXT_MAX	(64 * 1024)

/* The request parser and the answers. */

START_TEST(test_parse)
{
	static const char	nul[] = "GET /metrics HTTP/1.1\r\nHost: \0\r\n"
	    "\r\n";
	size_t			i;
	int			head;

	for (i = 0; i < sizeof(heads) / sizeof(heads[0]); i++) {
		head = -1;
		ck_assert_msg(scrape_parse(heads[i].head, strlen(heads[i].head),
		    &head) == heads[i].status, "%zu: %s: want %d", i,
		    heads[i].head, heads[i].status);
		if (heads[i].status == 200 || heads[i].status == 404)
			ck_assert_int_eq(head, heads[i].is_head);
	}
	/* A NUL in the head is no terminator and no valid byte. */
	ck_assert_int_eq(scrape_parse(nul, sizeof(nul) - 1, &head), 400);
	/* Only the first len bytes count. */
	ck_assert_int_eq(scrape_parse("GET /metrics HTTP/1.0\r\n\r\n", 23,
	    &head), 0);
}
END_TEST

/* Content-Length of an answer's head, and where its body starts. */
static long
framed(const char *a, const char **body)
{
	const char	*cl = strstr(a, "\r\nContent-Length: ");

	ck_assert_ptr_nonnull(cl);
	ck_assert_ptr_nonnull(*body = strstr(a, "\r\n\r\n"));
	*body += 4;
	return atol(cl + 18);
}

START_TEST(test_answers)
{
	const char	*metrics = "# HELP a b\n# TYPE a gauge\na 1\n", *body;
	char		*a;
	size_t		 len;

	a = scrape_answer(200, 0, metrics, 1796401517, &len);
	ck_assert_ptr_nonnull(a);
	ck_assert_uint_eq(len, strlen(a));
	ck_assert_msg(strncmp(a, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", a);
	ck_assert_ptr_nonnull(strstr(a, "\r\nDate: Fri, 04 Dec 2026 "
	    "16:25:17 GMT\r\n"));
	ck_assert_ptr_nonnull(strstr(a, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(strstr(a, "\r\nConnection: close\r\n"));
	ck_assert_int_eq(framed(a, &body), (long)strlen(metrics));
	ck_assert_str_eq(body, metrics);
	free(a);
	/* HEAD: the same head, no body. */
	a = scrape_answer(200, 1, metrics, 1796401517, &len);
	ck_assert_int_eq(framed(a, &body), (long)strlen(metrics));
	ck_assert_str_eq(body, "");
	free(a);
	a = scrape_answer(405, 0, NULL, 0, &len);
	ck_assert_msg(strncmp(a, "HTTP/1.1 405 Method Not Allowed\r\n", 33) ==
	    0, "%s", a);
	ck_assert_ptr_nonnull(strstr(a, "\r\nAllow: GET, HEAD\r\n"));
	ck_assert_int_eq(framed(a, &body), (long)strlen(body));
	free(a);
	a = scrape_answer(404, 1, NULL, 0, &len);
	ck_assert_msg(strncmp(a, "HTTP/1.1 404 Not Found\r\n", 24) == 0, "%s",
	    a);
	ck_assert_int_gt(framed(a, &body), 0);
	ck_assert_str_eq(body, "");
	free(a);
	a = scrape_answer(403, 0, NULL, 0, &len);
	ck_assert_ptr_nonnull(strstr(a, "metrics_client"));
	free(a);
}
END_TEST

/* The value of the series `name` (name and labels as written), or -1. */
static double
series(const char *text, const char *name)
{
	const char	*p;
	size_t		 n = strlen(name);

	for (p = text; p != NULL && *p != '\0'; p = strchr(p, '\n'),
	    p = p != NULL ? p + 1 : NULL)
		if (strncmp(p, name, n) == 0 && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	return -1;
}

/* The new metrics, from a scoreboard filled by hand. */
START_TEST(test_metrics_unit)
{
	struct scoreboard	*sb = scoreboard_create(5);
	struct sb_table		*tab;
	char			*text;

	ck_assert_ptr_nonnull(sb);
	tab = calloc(1, sizeof(*tab) + 5 * sizeof(tab->procs[0]));
	ck_assert_ptr_nonnull(tab);
	tab->nslots = 5;
	/* Two open tunnels count; a closing, a dead and a bad one not. */
	tab->procs[0].pid = 100;
	scoreboard_set_state(sb, &sb->slots[0], SB_RELAYING);
	atomic_store(&sb->slots[0].bytes.up, 100);
	atomic_store(&sb->slots[0].bytes.down, 1000);
	tab->procs[1].pid = 101;
	scoreboard_set_state(sb, &sb->slots[1], SB_RELAYING);
	atomic_store(&sb->slots[1].bytes.up, 23);
	atomic_store(&sb->slots[1].bytes.down, 4);
	tab->procs[2].pid = 102;
	scoreboard_set_state(sb, &sb->slots[2], SB_CLOSING);
	atomic_store(&sb->slots[2].bytes.up, 7);
	scoreboard_set_state(sb, &sb->slots[3], SB_RELAYING);
	atomic_store(&sb->slots[3].bytes.up, 7);
	tab->procs[4].pid = 104;
	tab->procs[4].bad = 1;
	scoreboard_set_state(sb, &sb->slots[4], SB_RELAYING);
	atomic_store(&sb->slots[4].bytes.up, 7);
	control_started(1796401517576LL);
	ck_assert_ptr_nonnull(text = control_metrics(sb, tab));
	ck_assert_msg(series(text, "connectproxy_bytes_active"
	    "{direction=\"up\"}") == 123, "%s", text);
	ck_assert(series(text, "connectproxy_bytes_active"
	    "{direction=\"down\"}") == 1004);
	ck_assert_ptr_nonnull(strstr(text, "\n# TYPE connectproxy_bytes_active "
	    "gauge\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nconnectproxy_build_info"
	    "{version=\"0.1.0\"} 1\n"));
	ck_assert_ptr_nonnull(strstr(text, "\nconnectproxy_process_start_time"
	    "_seconds 1796401517.576\n"));
	free(text);
	/* What a hostile worker writes saturates, never wraps. */
	atomic_store(&sb->slots[1].bytes.up, ULLONG_MAX - 1);
	ck_assert_ptr_nonnull(text = control_metrics(sb, tab));
	ck_assert_ptr_nonnull(strstr(text, "\nconnectproxy_bytes_active"
	    "{direction=\"up\"} 18446744073709551615\n"));
	free(text);
	control_started(0);
	scoreboard_destroy(sb, 5);
	free(tab);
}
END_TEST

/* The directives. */

static void
config_err(const char *text, const char *want)
{
	struct config	cfg;
	char		err[CONFIG_ERR_MAX];

	ck_assert_msg(config_parse_buffer("t.conf", text, &cfg, err,
	    sizeof(err)) == -1, "accepted: %s", text);
	ck_assert_msg(strncmp(err, want, strlen(want)) == 0, "%s: got \"%s\", "
	    "want \"%s...\"", text, err, want);
}

START_TEST(test_config)
{
	struct harness_proxy	p;
	struct config		cfg;
	char			err[CONFIG_ERR_MAX], out[4096], want[512];
	char			*argv[] = { (char *)harness_bin(),
	    (char *)"-t", (char *)"-c", p.conf, NULL };
	int			st;

	ck_assert_int_eq(config_parse_buffer("t.conf", "", &cfg, err,
	    sizeof(err)), 0);
	ck_assert_uint_eq(cfg.metrics_listen.len, 0);
	ck_assert_uint_eq(cfg.nmetrics_clients, 2);
	config_free(&cfg);
	ck_assert_int_eq(config_parse_buffer("t.conf", "metrics_listen "
	    "[::1]:9128\nmetrics_client 10.0.0.0/8 192.168.1.7\n", &cfg, err,
	    sizeof(err)), 0);
	ck_assert_str_eq(cfg.metrics_listen.text, "[::1]:9128");
	ck_assert_uint_eq(cfg.nmetrics_clients, 2);
	config_free(&cfg);
	config_err("metrics_listen 127.0.0.1\n", "t.conf:1: metrics_listen: "
	    "bad address \"127.0.0.1\"");
	config_err("\nmetrics_listen localhost:9128\n", "t.conf:2: "
	    "metrics_listen: bad address");
	config_err("metrics_listen 127.0.0.1:1\nmetrics_listen 127.0.0.1:2\n",
	    "t.conf:2: metrics_listen given twice");
	config_err("listen 127.0.0.1:9128\nmetrics_listen 127.0.0.1:9128\n",
	    "t.conf:2: metrics_listen 127.0.0.1:9128: also a listen address");
	config_err("metrics_listen 127.0.0.1:3128\n", "t.conf:1: "
	    "metrics_listen 127.0.0.1:3128: also a listen address");
	config_err("metrics_client 10.0.0.0/33\n", "t.conf:1: metrics_client: "
	    "bad CIDR \"10.0.0.0/33\"");
	config_err("metrics_client 10.0.0.1/8\n", "t.conf:1: metrics_client: "
	    "10.0.0.1/8: host bits set");
	config_err("metrics_client prometheus\n", "t.conf:1: metrics_client: "
	    "bad CIDR");
	/* And from the binary, as an operator sees it. */
	memset(&p, 0, sizeof(p));
	p.pid = -1;
	ck_assert_int_eq(harness_tmpdir(p.dir, sizeof(p.dir)), 0);
	snprintf(p.conf, sizeof(p.conf), "%s/connectproxy.conf", p.dir);
	ck_assert_int_eq(harness_write_file(p.conf, "listen 127.0.0.1:3128\n"
	    "metrics_listen 127.0.0.1:9128\nmetrics_client 127.0.0.1/33\n"),
	    0);
	st = harness_run(argv, NULL, out, sizeof(out), harness_ms(10000));
	snprintf(want, sizeof(want), "%s:3: metrics_client: bad CIDR",
	    p.conf);
	ck_assert_msg(st != 0 && strstr(out, want) != NULL, "-t: %d %s", st,
	    out);
	harness_rmdir(p.dir);
}
END_TEST

/* The proxy, scraped. */

struct env {
	struct harness_proxy	p;
	struct harness_target	t;
	char			dir[HARNESS_PATH_MAX];
	char			sock[HARNESS_PATH_MAX + 32];
	int			mport;	/* metrics_listen's port */
};

/* The configuration after the listen line, with metrics on mport. */
static void
env_conf(const struct env *e, int mport, const char *extra, char *buf,
    size_t len)
{
	snprintf(buf, len, "control_socket %s\nallow_port 1-65535\n"
	    "allow_dest 127.0.0.0/8\nworkers_start 2\nmetrics_client "
	    "127.0.0.1/32\nmetrics_listen 127.0.0.1:%d\n%s", e->sock, mport,
	    extra);
}

static void
env_start(struct env *e, const char *extra)
{
	char	conf[CONF_MAX];

	memset(e, 0, sizeof(*e));
	e->p.pid = -1;
	e->t.pid = -1;
	e->t.report = -1;
	ck_assert_int_eq(harness_tmpdir(e->dir, sizeof(e->dir)), 0);
	snprintf(e->sock, sizeof(e->sock), "%s/ctl.sock", e->dir);
	ck_assert_int_gt(e->mport = harness_free_port(AF_INET), 0);
	env_conf(e, e->mport, extra, conf, sizeof(conf));
	ck_assert_msg(harness_proxy_start(&e->p, conf) == 0,
	    "proxy did not start");
	/* Its signal handlers are in place once it says so. */
	EXPECT(&e->p, harness_proxy_wait_log(&e->p, "started", NULL, NULL, 0,
	    harness_ms(10000)) == 0, "not started");
}

static void
env_free(struct env *e)
{
	harness_proxy_free(&e->p);
	if (e->t.pid > 0)
		harness_target_stop(&e->t);
	harness_rmdir(e->dir);
}

/*
 * Send req to 127.0.0.1:port (from src when not NULL) and read until
 * the proxy closes, into out.  Returns the status of the answer, 0 when
 * it closed without one, -1 when it did not close in time.
 */
static int
fetch(int port, const char *src, const char *req, char *out, size_t len)
{
	long long	deadline = harness_now_ms() + harness_ms(5000);
	size_t		got = 0;
	ssize_t		n = -1;
	int		fd;

	fd = src != NULL ? harness_connect_from(src, port, harness_ms(5000)) :
	    harness_connect("127.0.0.1", port, harness_ms(5000));
	ck_assert_int_ge(fd, 0);
	ck_assert_int_eq(harness_send_str(fd, req), 0);
	while (got < len - 1 && harness_wait_fd(fd, POLLIN,
	    harness_remaining_ms(deadline)) > 0) {
		if ((n = recv(fd, out + got, len - 1 - got, 0)) <= 0)
			break;
		got += (size_t)n;
	}
	close(fd);
	out[got] = '\0';
	/* A reset after the answer is an end too. */
	if (n > 0 || (n == -1 && errno != ECONNRESET))
		return -1;
	return strncmp(out, "HTTP/1.1 ", 9) == 0 ? atoi(out + 9) : 0;
}

/* GET /metrics over a raw socket: its body, the status checked. */
static const char *
scrape(const struct env *e, int port, char *out, size_t len)
{
	const char	*body;
	int		 st;

	st = fetch(port, NULL, "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n",
	    out, len);
	EXPECT(&e->p, st == 200, "scrape: %d %s", st, out);
	ck_assert_ptr_nonnull(body = strstr(out, "\r\n\r\n"));
	return body + 4;
}

/* curl with args, then the URL of the endpoint: its output. */
static int
curl(const struct env *e, const char *opt, const char *path, char *out,
    size_t len)
{
	char	 url[128];
	char	*argv[] = { (char *)"curl", (char *)"-sS", (char *)"-i",
	    (char *)"--max-time", (char *)"10", (char *)opt, url, NULL };

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", e->mport, path);
	if (opt == NULL) {
		argv[5] = url;
		argv[6] = NULL;
	}
	return harness_run(argv, NULL, out, len, harness_ms(15000));
}

/* The "# TYPE" lines of a text, in order. */
static void
families(const char *text, char *out, size_t len)
{
	const char	*p, *eol;
	size_t		 o = 0;

	out[0] = '\0';
	for (p = text; *p != '\0'; p = *eol != '\0' ? eol + 1 : eol) {
		eol = p + strcspn(p, "\n");
		if (strncmp(p, "# TYPE ", 7) == 0 && o + (size_t)(eol - p) + 2 <
		    len)
			o += (size_t)snprintf(out + o, len - o, "%.*s\n",
			    (int)(eol - p), p);
	}
}

static void
cli(const struct env *e, const char *cmd, char *out, size_t len)
{
	char	*argv[] = { (char *)harness_bin(), (char *)"-c",
	    (char *)e->p.conf, (char *)cmd, NULL };
	int	 st;

	st = harness_run(argv, NULL, out, len, harness_ms(10000));
	EXPECT(&e->p, st == 0, "%s: exit %d: %s", cmd, st, out);
}

/* An echo tunnel through the proxy; n bytes each way. */
static int
tunnel(struct env *e)
{
	char	target[64];
	int	fd, status;

	if (e->t.pid <= 0)
		ck_assert_int_eq(harness_target_start(&e->t, AF_INET, NULL, 0,
		    HARNESS_TARGET_ECHO, 0), 0);
	snprintf(target, sizeof(target), "127.0.0.1:%d", e->t.port);
	fd = harness_tunnel(e->p.port, target, NULL, &status,
	    harness_ms(10000));
	EXPECT(&e->p, fd != -1, "CONNECT %s: status %d", target, status);
	return fd;
}



/* Scrape until the series `name` has `value`.  Returns 0 or -1. */
static int
wait_series(const struct env *e, const char *name, double value)
{
	static char	out[TEXT_MAX];
	long long	deadline = harness_now_ms() + harness_ms(5000);

	do {
		if (series(scrape(e, e->mport, out, sizeof(out)), name) ==
		    value)
			return 0;
		harness_pause_ms(HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

/* The inode of the socket listening on 127.0.0.1:port, or 0. */
static unsigned long
listen_inode(int port)
{
	FILE		*f = fopen("/proc/net/tcp", "r");
	char		 line[512], local[64], want[32];
	unsigned long	 inode, found = 0;
	unsigned	 st;

	ck_assert_ptr_nonnull(f);
	snprintf(want, sizeof(want), "0100007F:%04X", port);
	while (fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, "%*s %63s %*s %x %*s %*s %*s %*s %*s %lu",
		    local, &st, &inode) == 3 && st == 0x0A &&
		    strcmp(local, want) == 0)
			found = inode;
	fclose(f);
	return found;
}

/* How many of pid's descriptors are the socket with that inode. */
static int
fds_on_socket(pid_t pid, unsigned long inode)
{
	char	want[64];

	snprintf(want, sizeof(want), "socket:[%lu]", inode);
	return harness_fds_on(pid, want);
}

/*
 * curl gets the metrics, with the families of `connectproxy metrics`
 * and the counts of a tunnel that ran; HEAD and a query work; each error
 * is answered and closed; 127.0.0.2 is no metrics_client; a client that
 * never speaks holds up neither `status` nor a scrape, and is dropped at
 * its deadline; no worker holds the socket.
 */
START_TEST(test_scrape)
{
	struct env	e;
	static char	out[TEXT_MAX], cli_out[TEXT_MAX];
	static char	fam[TEXT_MAX], cli_fam[TEXT_MAX];
	char		body_len[32];
	const char	*body;
	pid_t		workers[16];
	long long	t0;
	unsigned long	inode;
	int		idle, fd, n, i;

	env_start(&e, "");
	/* Connected first, silent throughout. */
	t0 = harness_now_ms();
	ck_assert_int_ge(idle = harness_connect("127.0.0.1", e.mport,
	    harness_ms(5000)), 0);
	fd = tunnel(&e);
	harness_echo_bytes(&e.p, fd, 1000);
	harness_tunnel_end(fd);
	/* Counted as the worker writes its record, just after. */
	EXPECT(&e.p, wait_series(&e, "connectproxy_tunnels_total"
	    "{status=\"200\"}", 1) == 0, "tunnel not counted");
	ck_assert_int_eq(curl(&e, NULL, "/metrics", out, sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	ck_assert_ptr_nonnull(strstr(out, "\r\nContent-Type: text/plain; "
	    "version=0.0.4; charset=utf-8\r\n"));
	ck_assert_ptr_nonnull(body = strstr(out, "\r\n\r\n"));
	body += 4;
	ck_assert_int_eq(harness_header(out, "Content-Length", body_len,
	    sizeof(body_len)), 0);
	ck_assert_int_eq(atol(body_len), (long)strlen(body));
	families(body, fam, sizeof(fam));
	cli(&e, "metrics", cli_out, sizeof(cli_out));
	families(cli_out, cli_fam, sizeof(cli_fam));
	ck_assert_msg(strstr(fam, "connectproxy_bytes_active gauge") != NULL &&
	    strcmp(fam, cli_fam) == 0, "HTTP:\n%s\ncontrol socket:\n%s", fam,
	    cli_fam);
	ck_assert(series(body, "connectproxy_tunnels_total{status=\"200\"}")
	    == 1);
	ck_assert(series(body, "connectproxy_bytes_total{direction=\"up\"}")
	    == 1000);
	ck_assert(series(body, "connectproxy_bytes_active{direction=\"up\"}")
	    == 0);
	ck_assert(series(body, "connectproxy_process_start_time_seconds") > 0);
	ck_assert(series(body, "connectproxy_build_info{version=\"0.1.0\"}")
	    == 1);
	/* HEAD: the head alone, framed as GET's. */
	ck_assert_int_eq(curl(&e, "-I", "/metrics", out, sizeof(out)), 0);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	ck_assert_int_eq(harness_header(out, "Content-Length", body_len,
	    sizeof(body_len)), 0);
	ck_assert_int_gt(atol(body_len), 1000);
	ck_assert_str_eq(strstr(out, "\r\n\r\n"), "\r\n\r\n");
	ck_assert_int_eq(curl(&e, NULL, "/metrics?debug=1", out, sizeof(out)),
	    0);
	ck_assert_msg(strncmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0, "%s", out);
	/* Each error answered, then closed. */
	ck_assert_int_eq(fetch(e.mport, NULL, "GET /status HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", out, sizeof(out)), 404);
	ck_assert_int_eq(fetch(e.mport, NULL, "POST /metrics HTTP/1.1\r\n"
	    "Host: x\r\nContent-Length: 3\r\n\r\nabc", out, sizeof(out)), 405);
	ck_assert_msg(strstr(out, "\r\nAllow: GET, HEAD\r\n") != NULL, "%s",
	    out);
	ck_assert_int_eq(fetch(e.mport, NULL, "GET /metrics HTTP/1.1\r\n\r\n",
	    out, sizeof(out)), 400);
	ck_assert_int_eq(fetch(e.mport, NULL, "CONNECT example.org:443 "
	    "HTTP/1.1\r\nHost: example.org:443\r\n\r\n", out, sizeof(out)),
	    400);
	memset(out, 'a', SCRAPE_HEAD_MAX + 10);
	memcpy(out, "GET /metrics HTTP/1.1\r\nX: ", 26);
	out[SCRAPE_HEAD_MAX + 10] = '\0';
	ck_assert_int_eq(fetch(e.mport, NULL, out, out, sizeof(out)), 431);
	/* Not a metrics_client: 403 and closed. */
	ck_assert_int_eq(fetch(e.mport, "127.0.0.2", "GET /metrics HTTP/1.1\r\n"
	    "Host: x\r\n\r\n", out, sizeof(out)), 403);
	ck_assert_ptr_null(strstr(out, "connectproxy_"));
	/* The silent client held nothing up, and has had its deadline. */
	cli(&e, "status", cli_out, sizeof(cli_out));
	ck_assert_int_ge(harness_wait_eof(idle, harness_ms(SCRAPE_DEADLINE_MS +
	    5000)), 0);
	ck_assert_int_ge(harness_now_ms() - t0, SCRAPE_DEADLINE_MS);
	close(idle);
	/* The master alone holds the listening socket. */
	ck_assert_uint_gt(inode = listen_inode(e.mport), 0);
	ck_assert_int_eq(fds_on_socket(e.p.pid, inode), 1);
	n = harness_proxy_workers(&e.p, workers, 16);
	ck_assert_int_gt(n, 0);
	for (i = 0; i < n; i++)
		ck_assert_msg(fds_on_socket(workers[i], inode) == 0,
		    "worker %ld holds the metrics socket", (long)workers[i]);
	env_free(&e);
}
END_TEST

/*
 * More silent clients than slots: each new one takes the slot of the
 * oldest (which sees its connection closed), and a scrape still gets
 * its answer at once, not after the silent ones' deadline.
 */
START_TEST(test_idle_clients)
{
	struct env	e;
	static char	out[TEXT_MAX];
	struct pollfd	pfd[SCRAPE_CONNS + 3];
	long long	t0;
	int		i, closed = 0;

	env_start(&e, "");
	/*
	 * Before t0 + SCRAPE_DEADLINE_MS no silent client can have reached
	 * its deadline: what closes them, and lets the scrape in, by then
	 * is that each new client takes the oldest one's slot.
	 */
	t0 = harness_now_ms();
	for (i = 0; i < SCRAPE_CONNS + 3; i++) {
		pfd[i].fd = harness_connect("127.0.0.1", e.mport,
		    harness_ms(5000));
		ck_assert_int_ge(pfd[i].fd, 0);
		pfd[i].events = POLLIN;
	}
	while (closed < 3 && harness_now_ms() < t0 + SCRAPE_DEADLINE_MS) {
		ck_assert_int_ge(poll(pfd, SCRAPE_CONNS + 3,
		    HARNESS_POLL_STEP_MS), 0);
		for (i = 0; i < SCRAPE_CONNS + 3; i++)
			if (pfd[i].revents != 0) {
				closed++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
	}
	EXPECT(&e.p, closed >= 3, "%d silent clients pushed out, want 3",
	    closed);
	(void)scrape(&e, e.mport, out, sizeof(out));
	ck_assert_int_lt(harness_now_ms() - t0, SCRAPE_DEADLINE_MS);
	for (i = 0; i < SCRAPE_CONNS + 3; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	env_free(&e);
}
END_TEST

/*
 * One metrics_client host opening connections without end, more than
 * there are slots, pushes out its own connections, not the scraper's
 * from another host: the scraper, connected first and sending its
 * request only after the flood, still gets its answer.
 */
START_TEST(test_flooding_host)
{
	struct env	e;
	static char	out[TEXT_MAX];
	struct pollfd	pfd[SCRAPE_CONNS + 3];
	long long	t0;
	int		scraper, i, closed = 0;

	env_start(&e, "metrics_client 127.0.0.2/32\n");
	t0 = harness_now_ms();
	ck_assert_int_ge(scraper = harness_connect("127.0.0.1", e.mport,
	    harness_ms(5000)), 0);
	for (i = 0; i < SCRAPE_CONNS + 3; i++) {
		pfd[i].fd = harness_connect_from("127.0.0.2", e.mport,
		    harness_ms(5000));
		ck_assert_int_ge(pfd[i].fd, 0);
		pfd[i].events = POLLIN;
	}
	/* Three of the flood's are closed: every slot was taken. */
	while (closed < 3 && harness_now_ms() < t0 + SCRAPE_DEADLINE_MS) {
		ck_assert_int_ge(poll(pfd, SCRAPE_CONNS + 3,
		    HARNESS_POLL_STEP_MS), 0);
		for (i = 0; i < SCRAPE_CONNS + 3; i++)
			if (pfd[i].fd != -1 && pfd[i].revents != 0) {
				closed++;
				close(pfd[i].fd);
				pfd[i].fd = -1;
			}
	}
	EXPECT(&e.p, closed >= 3, "%d flood connections pushed out, want 3",
	    closed);
	ck_assert_int_eq(harness_send_str(scraper, "GET /metrics HTTP/1.1\r\n"
	    "Host: x\r\n\r\n"), 0);
	EXPECT(&e.p, harness_recv_exact(scraper, out, 17, harness_ms(5000)) ==
	    17 && memcmp(out, "HTTP/1.1 200 OK\r\n", 17) == 0,
	    "the scraper was pushed out by another host's flood");
	ck_assert_int_lt(harness_now_ms() - t0, SCRAPE_DEADLINE_MS);
	close(scraper);
	for (i = 0; i < SCRAPE_CONNS + 3; i++)
		if (pfd[i].fd != -1)
			close(pfd[i].fd);
	env_free(&e);
}
END_TEST

/* The bytes of an open tunnel, scraped until they show. */
static int
wait_active(const struct env *e, double up, double down)
{
	static char	out[TEXT_MAX];
	const char	*body;
	long long	deadline = harness_now_ms() + harness_ms(5000);

	do {
		body = scrape(e, e->mport, out, sizeof(out));
		if (series(body, "connectproxy_bytes_active{direction=\"up\"}")
		    == up && series(body, "connectproxy_bytes_active"
		    "{direction=\"down\"}") == down)
			return 0;
		harness_pause_ms(HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

START_TEST(test_open_tunnel_bytes)
{
	struct env	e;
	static char	out[TEXT_MAX];
	const char	*body;
	int		fd;

	env_start(&e, "");
	fd = tunnel(&e);
	harness_echo_bytes(&e.p, fd, 1000);
	EXPECT(&e.p, wait_active(&e, 1000, 1000) == 0, "bytes_active 1000");
	harness_echo_bytes(&e.p, fd, 2345);
	EXPECT(&e.p, wait_active(&e, 3345, 3345) == 0, "bytes_active 3345");
	body = scrape(&e, e.mport, out, sizeof(out));
	ck_assert(series(body, "connectproxy_bytes_total{direction=\"up\"}")
	    == 0);
	harness_tunnel_end(fd);
	/* Ended, its bytes move to the totals. */
	EXPECT(&e.p, wait_active(&e, 0, 0) == 0, "bytes_active 0");
	EXPECT(&e.p, wait_series(&e, "connectproxy_bytes_total"
	    "{direction=\"up\"}", 3345) == 0, "bytes_total 3345");
	env_free(&e);
}
END_TEST

/* Write the configuration and HUP. */
static void
reload(struct env *e, const char *conf)
{
	ck_assert_int_eq(harness_proxy_rewrite_config(&e->p, conf), 0);
	ck_assert_int_eq(harness_proxy_signal(&e->p, SIGHUP), 0);
}

/*
 * A reload moves the endpoint: the new port answers, the old one is
 * closed.  One whose address cannot be bound fails whole, named at its
 * line, and the endpoint stays; without metrics_listen it goes.
 */
START_TEST(test_reload_moves)
{
	struct env	e;
	static char	out[TEXT_MAX];
	char		conf[CONF_MAX], needle[128];
	const char	*body;
	int		moved, held, busy, fd;

	env_start(&e, "");
	ck_assert_int_gt(moved = harness_free_port(AF_INET), 0);
	env_conf(&e, moved, "", conf, sizeof(conf));
	reload(&e, conf);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reloaded", NULL, NULL, 0,
	    harness_ms(10000)) == 0, "no reload");
	(void)scrape(&e, moved, out, sizeof(out));
	ck_assert_int_eq(harness_connect("127.0.0.1", e.mport,
	    harness_ms(2000)), -1);
	/* A port someone else listens on: the reload fails whole. */
	ck_assert_int_ge(held = harness_bind("127.0.0.1", 0, &busy), 0);
	ck_assert_int_eq(listen(held, 1), 0);
	env_conf(&e, busy, "", conf, sizeof(conf));
	reload(&e, conf);
	snprintf(needle, sizeof(needle), "connectproxy.conf:7: metrics_listen "
	    "127.0.0.1:%d: Address already in use", busy);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, "reload failed", needle,
	    NULL, 0, harness_ms(10000)) == 0, "no failed reload");
	body = scrape(&e, moved, out, sizeof(out));
	ck_assert(series(body, "connectproxy_reloads_total{result=\"failed\"}")
	    == 1);
	close(held);
	/* Without it, no endpoint. */
	snprintf(conf, sizeof(conf), "control_socket %s\n", e.sock);
	reload(&e, conf);
	snprintf(needle, sizeof(needle), "metrics no longer on 127.0.0.1:%d",
	    moved);
	EXPECT(&e.p, harness_proxy_wait_log(&e.p, needle, NULL, NULL, 0,
	    harness_ms(10000)) == 0, "metrics still on");
	ck_assert_int_eq(fd = harness_connect("127.0.0.1", moved,
	    harness_ms(2000)), -1);
	env_free(&e);
}
END_TEST

Suite *
metrics_suite(void)
{
	Suite	*s = suite_create("metrics");
	TCase	*tc = tcase_create("parse");

	tcase_add_test(tc, test_parse);
	tcase_add_test(tc, test_answers);
	tcase_add_test(tc, test_metrics_unit);
	tcase_add_test(tc, test_config);
	suite_add_tcase(s, tc);
	tc = harness_tcase(s, "http", 60);
	tcase_add_test(tc, test_scrape);
	tcase_add_test(tc, test_idle_clients);
	tcase_add_test(tc, test_open_tunnel_bytes);
	tcase_add_test(tc, test_reload_moves);
	tcase_add_test(tc, test_flooding_host);
	return s;
}
