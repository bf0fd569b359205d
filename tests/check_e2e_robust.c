/* SPDX-License-Identifier: ISC */
/*
 * End-to-end robustness suite: adversarial clients (heads cut at every
 * byte, 1 MiB heads, random binary, a second request behind a refusal,
 * slowloris), broken targets and clients that reset at every phase, and
 * chaos (workers SIGKILLed under load).  The proxy must keep serving,
 * never open a tunnel it should not, and no worker may die on its own.
 */
#define _GNU_SOURCE

#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

/* Fail with the proxy's log on stderr, so the report says what it did. */
#define CONF_MAX	1024
#define MIB		(1024 * 1024)
#define SLOWLORIS	500
#define CHAOS_CLIENTS	64
#define CHAOS_MS	10000
#define MAX_PIDS	512

/* A proxy allowed to reach loopback targets on `port`, plus `conf`. */
static void
proxy_for(struct harness_proxy *p, int port, const char *conf)
{
	char	text[CONF_MAX];
	int	rc;

	snprintf(text, sizeof(text), "allow_dest 127.0.0.0/8\n"
	    "allow_port %d\n%s", port, conf);
	rc = harness_proxy_start(p, text);
	EXPECT(p, rc == 0, "proxy did not start listening (%s, status %d)",
	    harness_bin(), p->status);
}

static void
target_up(struct harness_target *t, enum harness_target_mode mode,
    size_t count)
{
	ck_assert_msg(harness_target_start(t, AF_INET, NULL, 0, mode,
	    count) == 0, "cannot start target: %s", strerror(errno));
}

/* The valid head for target t, into buf. */
static size_t
valid_head(char *buf, size_t len, const struct harness_target *t)
{
	return (size_t)snprintf(buf, len, "CONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\n", t->port, t->port);
}

/* Close with a reset (SO_LINGER 0) instead of a FIN. */
static void
close_rst(int fd)
{
	struct linger	l = { 1, 0 };

	(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &l, sizeof(l));
	close(fd);
}

/*
 * The proxy still serves: a tunnel to the echo target `t` carries a
 * message both ways.
 */
static void
expect_serving(const struct harness_proxy *p, const struct harness_target *t,
    const char *what)
{
	char	target[64], buf[16];
	int	fd, status = 0;

	snprintf(target, sizeof(target), "127.0.0.1:%d", t->port);
	fd = harness_tunnel(p->port, target, NULL, &status, harness_ms(10000));
	EXPECT(p, fd != -1, "%s: the proxy no longer serves (status %d)", what,
	    status);
	EXPECT(p, harness_send_str(fd, "ping") == 0 &&
	    harness_recv_exact(fd, buf, 4, harness_ms(5000)) == 4 &&
	    memcmp(buf, "ping", 4) == 0, "%s: no echo through the tunnel",
	    what);
	close(fd);
}

/* No worker died on its own, and the crash brake never engaged. */
static void
expect_no_crash(const struct harness_proxy *p, const char *what)
{
	EXPECT(p, harness_proxy_count_log(p, "killed by signal") == 0,
	    "%s: a worker was killed by a signal", what);
	EXPECT(p, harness_proxy_count_log(p, "exited with status") == 0,
	    "%s: a worker exited abnormally", what);
	EXPECT(p, harness_proxy_count_log(p, "workers failed within") == 0,
	    "%s: the crash brake engaged", what);
}

/* 1: requests cut at every byte offset of a valid head */

START_TEST(test_cut_heads)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			head[256];
	size_t			len, k;
	int			fd;

	target_up(&t, HARNESS_TARGET_ECHO, 0);
	proxy_for(&p, t.port, "workers_start 2\nheader_timeout 5s\n");
	len = valid_head(head, sizeof(head), &t);
	for (k = 0; k < len; k++) {
		fd = harness_connect("127.0.0.1", p.port, harness_ms(5000));
		EXPECT(&p, fd != -1, "connect for a head cut at %zu", k);
		EXPECT(&p, k == 0 || harness_send(fd, head, k) == 0,
		    "send %zu bytes", k);
		/* Half the cuts end with a FIN, half with a reset. */
		if (k % 2 == 0)
			close(fd);
		else
			close_rst(fd);
	}
	/* Each cut connection is closed before its next one is served. */
	expect_serving(&p, &t, "after the cut heads");
	/* The access record comes when that tunnel ends. */
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", "status=200", NULL,
	    0, harness_ms(5000)) == 0, "no access record for the tunnel");
	EXPECT(&p, harness_proxy_count_log(&p, "status=200") == 1,
	    "a tunnel opened for a cut head");
	expect_no_crash(&p, "cut heads");
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 2: 1 MiB heads: 414 or 431, then close */

static const struct {
	const char	*name;
	const char	*start;		/* sent first */
	const char	*fill;		/* repeated up to 1 MiB */
	int		 status;
} huge[] = {
	{ "long target", "CONNECT ", "a", 414 },
	{ "long field", "CONNECT h:443 HTTP/1.1\r\nX-Pad: ", "a", 431 },
	{ "many fields", "CONNECT h:443 HTTP/1.1\r\n", "X: y\r\n", 431 },
	{ "empty lines", "", "\r\n", 431 },
};

START_TEST(test_huge_head)
{
	struct harness_proxy	 p;
	struct harness_response	 r;
	char			*buf;
	size_t			 off, n, flen;
	ssize_t			 w;
	int			 fd, eof = 0;
	long long		 deadline;

	proxy_for(&p, 443, "workers_start 2\n");
	buf = malloc(MIB);
	ck_assert_ptr_nonnull(buf);
	n = strlen(huge[_i].start);
	memcpy(buf, huge[_i].start, n);
	flen = strlen(huge[_i].fill);
	for (off = n; off + flen <= MIB; off += flen)
		memcpy(buf + off, huge[_i].fill, flen);
	fd = harness_connect("127.0.0.1", p.port, harness_ms(5000));
	EXPECT(&p, fd != -1, "connect");
	(void)fcntl(fd, F_SETFL, O_NONBLOCK);
	/* Send until the proxy stops reading (its answer, then close). */
	deadline = harness_now_ms() + harness_ms(20000);
	for (n = 0; n < off && harness_now_ms() < deadline; ) {
		w = send(fd, buf + n, off - n, MSG_NOSIGNAL);
		if (w > 0)
			n += (size_t)w;
		else if (w == -1 && errno != EAGAIN && errno != EINTR)
			break;
		else {
			struct pollfd	pfd = { fd, POLLOUT | POLLIN, 0 };

			(void)poll(&pfd, 1, 100);
			if (pfd.revents & (POLLIN | POLLHUP | POLLERR))
				break;
		}
	}
	free(buf);
	(void)fcntl(fd, F_SETFL, 0);
	EXPECT(&p, harness_read_response(fd, &r, harness_ms(10000)) == 0,
	    "%s: no answer after %zu bytes", huge[_i].name, n);
	EXPECT(&p, r.status == huge[_i].status, "%s: status %d, expected %d",
	    huge[_i].name, r.status, huge[_i].status);
	eof = harness_wait_eof(fd, harness_ms(10000)) != -1;
	EXPECT(&p, eof, "%s: no close after the %d", huge[_i].name, r.status);
	close(fd);
	expect_no_crash(&p, huge[_i].name);
	harness_proxy_free(&p);
}
END_TEST

/* 3: random binary: never a 200, only 4xx (or 501, 505) or a close */

#define RANDOM_CONNS	48

START_TEST(test_random_binary)
{
	struct harness_proxy	 p;
	struct harness_target	 t;
	struct harness_response	 r;
	unsigned char		 buf[4096];
	int			 fds[RANDOM_CONNS], i, status, closed = 0;
	size_t			 len, j;
	unsigned		 seed = 20240608u;

	target_up(&t, HARNESS_TARGET_ECHO, 0);
	proxy_for(&p, t.port, "workers_start 4\nheader_timeout 3s\n");
	for (i = 0; i < RANDOM_CONNS; i++) {
		len = 1 + (size_t)rand_r(&seed) % sizeof(buf);
		for (j = 0; j < len; j++)
			buf[j] = (unsigned char)rand_r(&seed);
		/* Some start like a CONNECT to the real target. */
		if (i % 4 == 0)
			memcpy(buf, "CONNECT 127.0.0.1:", 18);
		fds[i] = harness_connect("127.0.0.1", p.port, harness_ms(5000));
		EXPECT(&p, fds[i] != -1, "connect %d", i);
		(void)harness_send(fds[i], buf, len);
		(void)shutdown(fds[i], SHUT_WR);
	}
	for (i = 0; i < RANDOM_CONNS; i++) {
		memset(&r, 0, sizeof(r));
		if (harness_read_response(fds[i], &r, harness_ms(20000)) == -1)
			EXPECT(&p, r.status == 0, "connection %d: a broken "
			    "answer %d", i, r.status);
		status = r.status;
		closed += status == 0;
		EXPECT(&p, status == 0 || (status >= 400 && status < 500) ||
		    status == 501 || status == 505, "random bytes %d: "
		    "status %d", i, status);
		close(fds[i]);
	}
	printf("random binary: %d connections, %d closed without an "
	    "answer\n", RANDOM_CONNS, closed);
	EXPECT(&p, harness_target_untouched(&t) == 1,
	    "random bytes reached the target");
	expect_serving(&p, &t, "after random binary");
	expect_no_crash(&p, "random binary");
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 4: a second request behind a refusal is never parsed (C38) */

static const struct {
	const char	*name;
	const char	*first;
	int		 status;
} behind[] = {
	{ "403 port", "CONNECT 127.0.0.1:1 HTTP/1.1\r\nHost: x\r\n\r\n", 403 },
	{ "400 two Hosts", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: a\r\n"
	    "Host: b\r\n\r\n", 400 },
	{ "405 GET", "GET http://127.0.0.1:443/ HTTP/1.1\r\nHost: x\r\n\r\n",
	    405 },
	{ "400 Content-Length", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\n", 400 },
	{ "400 chunked", "CONNECT 127.0.0.1:443 HTTP/1.1\r\nHost: x\r\n"
	    "Transfer-Encoding: chunked\r\n\r\n", 400 },
	{ "505 HTTP/2.0", "CONNECT 127.0.0.1:443 HTTP/2.0\r\nHost: x\r\n\r\n",
	    505 },
};

START_TEST(test_second_request_behind_refusal)
{
	struct harness_proxy	p;
	struct harness_target	t;
	struct harness_response	r;
	char			req[512];
	ssize_t			rest;
	int			fd, n;

	target_up(&t, HARNESS_TARGET_ECHO, 0);
	proxy_for(&p, t.port, "workers_start 2\n");
	n = snprintf(req, sizeof(req), "%sCONNECT 127.0.0.1:%d HTTP/1.1\r\n"
	    "Host: 127.0.0.1:%d\r\n\r\nhello", behind[_i].first, t.port,
	    t.port);
	fd = harness_connect("127.0.0.1", p.port, harness_ms(5000));
	EXPECT(&p, fd != -1, "connect");
	/* One write: both requests in the same packet. */
	EXPECT(&p, harness_send(fd, req, (size_t)n) == 0, "send");
	EXPECT(&p, harness_read_response(fd, &r, harness_ms(10000)) == 0,
	    "%s: no response", behind[_i].name);
	EXPECT(&p, r.status == behind[_i].status, "%s: status %d",
	    behind[_i].name, r.status);
	rest = harness_wait_eof(fd, harness_ms(10000));
	EXPECT(&p, rest == 0, "%s: %zd bytes after the first response "
	    "(a second response?)", behind[_i].name, rest);
	close(fd);
	EXPECT(&p, harness_target_untouched(&t) == 1, "%s: the request "
	    "behind the refusal reached the target", behind[_i].name);
	expect_no_crash(&p, behind[_i].name);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 5: slowloris */

/*
 * SLOWLORIS connections from 127.0.0.2 each send one byte of a valid head
 * a second; then a legitimate client from 127.0.0.1 asks for a tunnel.
 * Returns how long (ms) it waited for its 200, or -1 when it got none
 * within limit_ms.
 */
static long long
slowloris_run(const struct harness_proxy *p, const struct harness_target *t,
    int limit_ms, int *answered)
{
	static int	 fds[SLOWLORIS];
	char		 head[256], resp[512];
	struct pollfd	 pfd;
	size_t		 hlen, sent = 0, got = 0;
	long long	 start, tick, now, served = -1;
	int		 i, legit, n;

	hlen = valid_head(head, sizeof(head), t);
	for (i = 0; i < SLOWLORIS; i++) {
		fds[i] = harness_connect_from("127.0.0.2", p->port, -1);
		EXPECT(p, fds[i] != -1, "slowloris connect %d: %s", i,
		    strerror(errno));
	}
	harness_pause_ms(200);
	legit = harness_connect_from("127.0.0.1", p->port, -1);
	EXPECT(p, legit != -1, "legitimate connect");
	start = tick = harness_now_ms();
	*answered = 0;
	while ((now = harness_now_ms()) - start < limit_ms) {
		if (now >= tick) {
			/* One byte each, never the whole head. */
			for (i = 0; i < SLOWLORIS; i++)
				if (fds[i] != -1 && send(fds[i], head +
				    (size_t)(now - start) / 1000 % (hlen - 4),
				    1, MSG_NOSIGNAL) == -1 && errno != EAGAIN) {
					close(fds[i]);
					fds[i] = -1;
					(*answered)++;
				}
			tick += 1000;
		}
		if (sent < hlen && (n = (int)send(legit, head + sent,
		    hlen - sent, MSG_NOSIGNAL)) > 0)
			sent += (size_t)n;
		pfd.fd = legit;
		pfd.events = POLLIN;
		if (poll(&pfd, 1, 50) == 1 && (n = (int)recv(legit, resp + got,
		    sizeof(resp) - 1 - got, 0)) > 0) {
			got += (size_t)n;
			resp[got] = '\0';
			if (strstr(resp, "\r\n\r\n") != NULL) {
				if (strncmp(resp, "HTTP/1.1 200 ", 13) == 0)
					served = now - start;
				break;
			}
		} else if (pfd.revents & (POLLHUP | POLLERR))
			break;
	}
	close(legit);
	for (i = 0; i < SLOWLORIS; i++)
		if (fds[i] != -1)
			close(fds[i]);
	return served;
}

START_TEST(test_slowloris)
{
	struct harness_proxy	p;
	struct harness_target	t;
	long long		waited;
	int			answered, target, bound;

	harness_raise_nofile();
	target_up(&t, HARNESS_TARGET_ECHO, 0);
	/*
	 * The slowloris connections queue ahead of the legitimate one in
	 * the listen backlog (first come, first accepted), so only a limit
	 * per client address keeps 500 of them from holding all 64 workers
	 * for header_timeout each.  The excess gets 429 with a short linger,
	 * so the queue drains fast and the legitimate client is served
	 * within header_timeout + 1 s.
	 */
	proxy_for(&p, t.port, "workers_start 64\nworkers_max 64\n"
	    "workers_min_spare 8\nworkers_max_spare 64\nheader_timeout 2s\n"
	    "max_tunnels_per_client 8\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 64, harness_ms(20000)) == 0,
	    "64 workers did not start");
	target = 2000 + harness_ms(1000);
	bound = target;
	waited = slowloris_run(&p, &t, bound, &answered);
	printf("slowloris: legitimate client served after %lld ms "
	    "(issue target %d ms, bound %d ms); %d of %d slow connections "
	    "closed by then\n", waited, target, bound, answered, SLOWLORIS);
	fflush(stdout);
	EXPECT(&p, waited != -1, "legitimate client not served within %d ms",
	    bound);
	expect_serving(&p, &t, "after slowloris");
	expect_no_crash(&p, "slowloris");
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 6: chaos: SIGKILL a random relaying worker every 100 ms under load */

/* Socket inodes of TCP connections from or to `port` (IPv4). */
static int
port_inodes(int port, unsigned long *inodes, int max)
{
	FILE		*f;
	char		 line[512];
	unsigned	 lport, rport, st;
	unsigned long	 inode;
	int		 n = 0;

	if ((f = fopen("/proc/net/tcp", "r")) == NULL)
		return 0;
	while (n < max && fgets(line, sizeof(line), f) != NULL)
		if (sscanf(line, " %*d: %*8x:%x %*8x:%x %x %*s %*s %*s %*d "
		    "%*d %lu", &lport, &rport, &st, &inode) == 4 &&
		    rport == (unsigned)port && st == 1 /* ESTABLISHED */)
			inodes[n++] = inode;
	fclose(f);
	return n;
}

/* 1 when process pid holds one of the sockets in inodes. */
static int
holds_inode(pid_t pid, const unsigned long *inodes, int n)
{
	char		 dir[64], path[384], link[64];
	struct dirent	*de;
	DIR		*d;
	unsigned long	 ino;
	ssize_t		 len;
	int		 i, found = 0;

	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL)
		return 0;
	while (!found && (de = readdir(d)) != NULL) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (sscanf(link, "socket:[%lu]", &ino) != 1)
			continue;
		for (i = 0; i < n && !found; i++)
			found = inodes[i] == ino;
	}
	closedir(d);
	return found;
}

/* Workers of p holding a connection to the target port: relaying. */
static int
relaying_workers(const struct harness_proxy *p, int tport, pid_t *out,
    int max)
{
	static unsigned long	inodes[4096];
	pid_t			pids[MAX_PIDS];
	int			i, n, ni, k = 0;

	ni = port_inodes(tport, inodes, 4096);
	n = harness_proxy_workers(p, pids, MAX_PIDS);
	for (i = 0; i < n && k < max; i++)
		if (holds_inode(pids[i], inodes, ni))
			out[k++] = pids[i];
	return k;
}

/*
 * One chaos client (a forked child): until `until`, hold a tunnel and
 * echo 64 bytes through it every ~50 ms; when it breaks, open a new one.
 * Writes "new=N newfail=F broken=B echoes=E" to fd.
 */
static void
chaos_client(int proxy_port, int tport, long long until, int fd)
{
	char		target[64], out[128];
	unsigned char	msg[64], back[64];
	long long	n_new = 0, n_fail = 0, n_broken = 0, n_echo = 0;
	size_t		off = 0;
	int		tun = -1, status;

	/* Check's SIGTERM handler would take the test's process group. */
	signal(SIGTERM, SIG_DFL);
	snprintf(target, sizeof(target), "127.0.0.1:%d", tport);
	while (harness_now_ms() < until) {
		if (tun == -1) {
			n_new++;
			tun = harness_tunnel(proxy_port, target, NULL, &status,
			    harness_ms(15000));
			if (tun == -1) {
				n_fail++;
				harness_pause_ms(50);
				continue;
			}
			off = 0;
		}
		harness_pattern_fill(msg, sizeof(msg), off);
		if (harness_send(tun, msg, sizeof(msg)) == -1 ||
		    harness_recv_exact(tun, back, sizeof(back),
		    harness_ms(15000)) != (ssize_t)sizeof(back) ||
		    harness_pattern_check(back, sizeof(back), off) !=
		    (size_t)-1) {
			n_broken++;
			close(tun);
			tun = -1;
			continue;
		}
		off += sizeof(msg);
		n_echo++;
		harness_pause_ms(50);
	}
	if (tun != -1)
		close(tun);
	snprintf(out, sizeof(out), "new=%lld newfail=%lld broken=%lld "
	    "echoes=%lld\n", n_new, n_fail, n_broken, n_echo);
	(void)write(fd, out, strlen(out));
	_exit(0);
}

START_TEST(test_chaos_kill)
{
	struct harness_proxy	p;
	struct harness_target	t;
	pid_t			kids[CHAOS_CLIENTS], busy[MAX_PIDS];
	char			line[256];
	long long		until, end, next, sum[4] = { 0, 0, 0, 0 };
	int			pfd[2], i, n, kills = 0, ticks = 0;
	unsigned		seed = 4242u;
	FILE			*rep;

	harness_raise_nofile();
	ck_assert_int_eq(harness_echo_many_start(&t, 1024), 0);
	proxy_for(&p, t.port, "workers_start 80\nworkers_min_spare 16\n"
	    "workers_max_spare 32\nworkers_max 256\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 80, harness_ms(30000)) == 0,
	    "80 workers did not start");
	ck_assert_int_eq(pipe(pfd), 0);
	until = harness_now_ms() + harness_ms(3000) + CHAOS_MS + 2000;
	for (i = 0; i < CHAOS_CLIENTS; i++) {
		kids[i] = fork();
		ck_assert_int_ne(kids[i], -1);
		if (kids[i] == 0) {
			close(pfd[0]);
			chaos_client(p.port, t.port, until, pfd[1]);
		}
	}
	close(pfd[1]);
	/* Let the load build up, then kill for CHAOS_MS. */
	for (i = 0; i < 300 && relaying_workers(&p, t.port, busy, MAX_PIDS) <
	    CHAOS_CLIENTS; i++)
		harness_pause_ms(harness_ms(10));
	end = harness_now_ms() + CHAOS_MS;
	for (next = harness_now_ms(); next < end; next += 100) {
		ticks++;
		if ((n = relaying_workers(&p, t.port, busy, MAX_PIDS)) > 0 &&
		    kill(busy[rand_r(&seed) % (unsigned)n], SIGKILL) == 0)
			kills++;
		if (next + 100 > harness_now_ms())
			harness_pause_ms((int)(next + 100 - harness_now_ms()));
	}
	rep = fdopen(pfd[0], "r");
	ck_assert_ptr_nonnull(rep);
	while (fgets(line, sizeof(line), rep) != NULL) {
		sum[0] += harness_field_num(line, "new");
		sum[1] += harness_field_num(line, "newfail");
		sum[2] += harness_field_num(line, "broken");
		sum[3] += harness_field_num(line, "echoes");
	}
	fclose(rep);
	for (i = 0; i < CHAOS_CLIENTS; i++)
		(void)harness_kill_wait(kids[i], harness_ms(20000));
	printf("chaos: %d SIGKILLs in %d ticks; %lld new tunnels, %lld "
	    "failed; %lld broken; %lld echoes; %d signal-9 exits logged\n",
	    kills, ticks, sum[0], sum[1], sum[2], sum[3],
	    harness_proxy_count_log(&p, "killed by signal 9"));
	fflush(stdout);
	EXPECT(&p, kills >= 30, "only %d workers killed", kills);
	EXPECT(&p, sum[1] == 0, "%lld new connections failed", sum[1]);
	EXPECT(&p, sum[2] <= kills, "%lld tunnels broke, %d workers killed",
	    sum[2], kills);
	EXPECT(&p, sum[3] > 0, "no echo");
	EXPECT(&p, harness_proxy_count_log(&p, "workers failed within") == 0,
	    "the crash brake engaged on SIGKILLs");
	EXPECT(&p, harness_proxy_count_log(&p, "killed by signal") ==
	    harness_proxy_count_log(&p, "killed by signal 9"),
	    "a worker died of another signal");
	/* The pool recovers. */
	EXPECT(&p, harness_proxy_wait_workers(&p, 16, harness_ms(30000)) == 0
	    || harness_proxy_workers(&p, NULL, 0) >= 16, "pool not rebuilt");
	expect_serving(&p, &t, "after chaos");
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/* 7: broken targets */

START_TEST(test_target_silent_idle)
{
	struct harness_proxy	p;
	struct harness_target	t, e;
	char			target[64];
	long long		start, took;
	int			fd, status;

	target_up(&t, HARNESS_TARGET_SILENT, 0);
	target_up(&e, HARNESS_TARGET_ECHO, 0);
	proxy_for(&p, t.port, "workers_start 1\nworkers_max 1\n"
	    "workers_min_spare 0\nworkers_max_spare 1\nidle_timeout 1s\n");
	snprintf(target, sizeof(target), "127.0.0.1:%d", t.port);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd != -1, "tunnel to a silent target: %d", status);
	start = harness_now_ms();
	EXPECT(&p, harness_wait_eof(fd, harness_ms(10000)) == 0,
	    "a silent tunnel was not closed");
	took = harness_now_ms() - start;
	EXPECT(&p, took >= 900 && took < 1000 + harness_ms(3000),
	    "closed after %lld ms, idle_timeout is 1000", took);
	close(fd);
	/* The one worker is free again. */
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd != -1, "second tunnel: %d", status);
	close(fd);
	expect_no_crash(&p, "silent target");
	harness_proxy_free(&p);
	harness_target_stop(&t);
	harness_target_stop(&e);
}
END_TEST

START_TEST(test_target_blackhole)
{
	struct harness_proxy	p;
	struct harness_target	e;
	struct harness_response	r;
	char			conf[256];
	long long		start, took;
	int			fds[4], i;

	if (harness_netns_enter() == -1)
		SKIP("cannot create a network namespace (needs root)");
	ck_assert_int_eq(harness_netns_blackhole("198.51.100.1/24"), 0);
	target_up(&e, HARNESS_TARGET_ECHO, 0);
	snprintf(conf, sizeof(conf), "allow_dest 198.51.100.0/24\n"
	    "allow_port 443\nconnect_timeout 1s\nworkers_start 2\n"
	    "workers_max 2\nworkers_min_spare 0\nworkers_max_spare 2\n");
	proxy_for(&p, e.port, conf);
	/* Both workers dial into the black hole at once. */
	start = harness_now_ms();
	for (i = 0; i < 4; i++) {
		fds[i] = harness_connect("127.0.0.1", p.port, harness_ms(5000));
		EXPECT(&p, fds[i] != -1, "connect %d", i);
		harness_send_str(fds[i], "CONNECT 198.51.100.7:443 HTTP/1.1\r\n"
		    "Host: x\r\n\r\n");
	}
	for (i = 0; i < 4; i++) {
		EXPECT(&p, harness_read_response(fds[i], &r, harness_ms(15000))
		    == 0 && r.status == 504, "black hole %d: status %d", i,
		    r.status);
		close(fds[i]);
	}
	took = harness_now_ms() - start;
	EXPECT(&p, took >= 1900 && took < 2000 + harness_ms(4000),
	    "4 black-hole dials on 2 workers took %lld ms", took);
	expect_serving(&p, &e, "after the black hole");
	expect_no_crash(&p, "black hole");
	harness_proxy_free(&p);
	harness_target_stop(&e);
}
END_TEST

/*
 * A target that accepts, reads the client's first bytes, sends `count`
 * bytes and then resets the connection.
 */
static pid_t
reset_target(int *port, size_t count)
{
	struct sockaddr_in	sin;
	socklen_t		slen = sizeof(sin);
	char			buf[65536];
	int			lfd, c;
	pid_t			pid;

	lfd = socket(AF_INET, SOCK_STREAM, 0);
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	sin.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (lfd == -1 || bind(lfd, (struct sockaddr *)&sin, sizeof(sin)) == -1
	    || listen(lfd, 16) == -1 || getsockname(lfd, (struct sockaddr *)
	    &sin, &slen) == -1)
		return -1;
	*port = ntohs(sin.sin_port);
	if ((pid = fork()) != 0) {
		close(lfd);
		return pid;
	}
	/* Check's SIGTERM handler would take the test's process group. */
	signal(SIGTERM, SIG_DFL);
	memset(buf, 'r', sizeof(buf));
	for (;;) {
		if ((c = accept(lfd, NULL, NULL)) == -1)
			continue;
		(void)recv(c, buf, 1, 0);
		(void)send(c, buf, count < sizeof(buf) ? count : sizeof(buf),
		    MSG_NOSIGNAL);
		harness_pause_ms(50);
		close_rst(c);
	}
}

START_TEST(test_target_reset_midstream)
{
	struct harness_proxy	p;
	struct harness_target	e;
	char			target[64], line[1024];
	unsigned char		buf[65536];
	ssize_t			n, got = 0;
	int			fd, status, tport;
	pid_t			pid;
	long long		deadline;

	pid = reset_target(&tport, 40000);
	ck_assert_int_ne(pid, -1);
	target_up(&e, HARNESS_TARGET_ECHO, 0);
	snprintf(line, sizeof(line), "allow_port %d\nworkers_start 1\n"
	    "workers_max 1\nworkers_min_spare 0\nworkers_max_spare 1\n",
	    tport);
	proxy_for(&p, e.port, line);
	snprintf(target, sizeof(target), "127.0.0.1:%d", tport);
	fd = harness_tunnel(p.port, target, NULL, &status, harness_ms(10000));
	EXPECT(&p, fd != -1, "tunnel to the resetting target: %d", status);
	EXPECT(&p, harness_send_str(fd, "x") == 0, "send");
	deadline = harness_now_ms() + harness_ms(10000);
	for (;;) {
		struct pollfd	pf = { fd, POLLIN, 0 };

		EXPECT(&p, harness_now_ms() < deadline, "tunnel still open "
		    "after the target reset (%zd bytes)", got);
		if (poll(&pf, 1, 100) != 1)
			continue;
		if ((n = recv(fd, buf, sizeof(buf), 0)) <= 0)
			break;
		got += n;
	}
	close(fd);
	EXPECT(&p, got <= 40000, "%zd bytes from a 40000-byte target", got);
	EXPECT(&p, harness_proxy_wait_log(&p, "access ", target, line,
	    sizeof(line), harness_ms(5000)) == 0, "no access record");
	expect_serving(&p, &e, "after a target reset");
	expect_no_crash(&p, "target reset");
	harness_proxy_free(&p);
	harness_kill_wait(pid, 5000);
	harness_target_stop(&e);
}
END_TEST

/* 8: clients that reset at every phase */

enum phase { BEFORE_HEAD, MID_HEAD, AFTER_200, MID_RELAY, NPHASES };

static const char *const phase_name[NPHASES] = {
	"before the head", "mid head", "after the 200", "mid relay"
};

START_TEST(test_client_resets)
{
	struct harness_proxy	p;
	struct harness_target	e, s;
	char			head[256], target[64], line[256];
	unsigned char		buf[4096];
	int			fd, status, round;
	size_t			hlen;

	target_up(&e, HARNESS_TARGET_ECHO, 0);
	target_up(&s, HARNESS_TARGET_SEND, 64 * MIB);
	snprintf(line, sizeof(line), "allow_port %d\nworkers_start 1\n"
	    "workers_max 1\nworkers_min_spare 0\nworkers_max_spare 1\n"
	    "header_timeout 5s\n", s.port);
	proxy_for(&p, e.port, line);
	/* One worker: each reset must leave it ready for the next client. */
	for (round = 0; round < 3; round++) {
		hlen = valid_head(head, sizeof(head), &e);
		fd = harness_connect("127.0.0.1", p.port, harness_ms(5000));
		EXPECT(&p, fd != -1, "connect");
		switch (_i) {
		case BEFORE_HEAD:
			break;
		case MID_HEAD:
			(void)harness_send(fd, head, hlen / 2);
			harness_pause_ms(50);
			break;
		case AFTER_200:
			close(fd);
			snprintf(target, sizeof(target), "127.0.0.1:%d",
			    e.port);
			fd = harness_tunnel(p.port, target, "early", &status,
			    harness_ms(10000));
			EXPECT(&p, fd != -1, "tunnel: %d", status);
			break;
		case MID_RELAY:
			close(fd);
			snprintf(target, sizeof(target), "127.0.0.1:%d",
			    s.port);
			fd = harness_tunnel(p.port, target, NULL, &status,
			    harness_ms(10000));
			EXPECT(&p, fd != -1, "tunnel: %d", status);
			EXPECT(&p, harness_recv_exact(fd, buf, sizeof(buf),
			    harness_ms(10000)) == (ssize_t)sizeof(buf),
			    "no relay data");
			break;
		}
		close_rst(fd);
		expect_serving(&p, &e, phase_name[_i]);
	}
	if (_i == MID_RELAY)
		EXPECT(&p, harness_target_line(&s, "done", line, sizeof(line),
		    harness_ms(10000)) == 0, "the target's side of a reset "
		    "tunnel was not closed");
	expect_no_crash(&p, phase_name[_i]);
	harness_proxy_free(&p);
	harness_target_stop(&e);
	harness_target_stop(&s);
}
END_TEST

/* 9: a host outside allow_client cannot take the pool */

#define FLOOD_RATE	40		/* connections a second */
#define FLOOD_MS	15000		/* the most a flood lasts */
#define FLOOD_MAX	(FLOOD_RATE * FLOOD_MS / 1000)
#define FLOOD_TRIES	6

/*
 * What one held flood connection saw, once told to stop: 1 a whole 403
 * then a clean close, 2 a whole 403 then a reset, 0 anything else.
 */
static int
flood_answer(int fd, long long deadline)
{
	struct harness_response	r;
	struct pollfd		pfd = { fd, POLLIN, 0 };
	socklen_t		elen = sizeof(int);
	char			c;
	ssize_t			n;
	int			err = 0, left = (int)(deadline -
				    harness_now_ms());

	if (left <= 0 || harness_read_response(fd, &r, left) == -1 ||
	    r.status != 403)
		return 0;
	left = (int)(deadline - harness_now_ms());
	if (left <= 0 || poll(&pfd, 1, left) != 1)
		return 0;
	n = recv(fd, &c, 1, 0);
	/* A reset after the FIN does not fail recv(): it leaves an error. */
	if (n == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == 0)
		return err == 0 ? 1 : 2;
	return n == -1 && errno == ECONNRESET ? 2 : 0;
}

/*
 * The flood, in a forked child: from 127.0.0.2, which allow_client does
 * not list, FLOOD_RATE connections a second, each held open and never
 * read; one in two sends a whole CONNECT head first, as a client would,
 * the other nothing.  When `stop` becomes readable (or after FLOOD_MS)
 * it reads what each connection got, within 5 s in all, and writes
 * "held=N answered=A reset=R" to `report`: A of them got a whole 403,
 * R of those then a reset instead of a FIN.
 */
static void
denied_flood(int port, const char *head, int stop, int report)
{
	static int	fds[FLOOD_MAX];
	struct pollfd	pfd = { stop, POLLIN, 0 };
	char		out[128];
	long long	start, next, deadline;
	int		i, n = 0, seen[3] = { 0, 0, 0 };

	/* Check's SIGTERM handler would take the test's process group. */
	signal(SIGTERM, SIG_DFL);
	start = next = harness_now_ms();
	for (i = 0; i < FLOOD_MAX && next < start + FLOOD_MS; i++) {
		fds[n] = harness_connect_from("127.0.0.2", port, 1000);
		if (fds[n] != -1) {
			if (i % 2 == 0)
				(void)harness_send_str(fds[n], head);
			n++;
		}
		next += 1000 / FLOOD_RATE;
		if (poll(&pfd, 1, next > harness_now_ms() ?
		    (int)(next - harness_now_ms()) : 0) != 0)
			break;
	}
	deadline = harness_now_ms() + 5000;
	for (i = 0; i < n; i++)
		seen[flood_answer(fds[i], deadline)]++;
	snprintf(out, sizeof(out), "held=%d answered=%d reset=%d\n", n,
	    seen[1] + seen[2], seen[2]);
	(void)write(report, out, strlen(out));
	_exit(0);
}

/*
 * An allowed client's CONNECT from 127.0.0.1: the ms until its 200, or
 * -1 when it saw none within limit_ms (status seen in *status).
 */
static long long
timed_connect(const struct harness_proxy *p, const char *head, int limit_ms,
    int *status)
{
	struct harness_response	r;
	long long		start = harness_now_ms(), took;
	int			fd;

	memset(&r, 0, sizeof(r));
	fd = harness_connect_from("127.0.0.1", p->port, limit_ms);
	if (fd != -1 && harness_send_str(fd, head) == 0)
		(void)harness_read_response(fd, &r, (int)(start + limit_ms -
		    harness_now_ms()));
	took = harness_now_ms() - start;
	if (fd != -1)
		close(fd);
	*status = r.status;
	return r.status == 200 && took <= limit_ms ? took : -1;
}

/*
 * duration_ms of the access records of 127.0.0.2's refused connections
 * in the first `upto` bytes of the log (while the flood held them): how
 * long each held its worker.  Returns their count, with *median and *max
 * set, in *slow those that took 50 ms or more, and in *other the records
 * of 127.0.0.2 that are not a 403 client_denied.
 */
static int
denied_hold_ms(const struct harness_proxy *p, size_t upto, long long *median,
    long long *max, int *slow, int *other)
{
	static long long	 d[4096];
	char			*log, *s, *e;
	long long		 v;
	int			 n = 0, i;

	*median = *max = -1;
	*slow = *other = 0;
	if ((log = harness_proxy_log(p)) == NULL)
		return 0;
	if (strlen(log) > upto)
		log[upto] = '\0';
	for (s = log; n < 4096 && (s = strstr(s, "access ")) != NULL; s = e) {
		e = s + strcspn(s, "\n");
		if (*e != '\0')
			*e++ = '\0';
		if (strstr(s, "client=127.0.0.2:") == NULL)
			continue;
		if (strstr(s, "status=403") == NULL ||
		    strstr(s, "reason=client_denied") == NULL ||
		    (v = harness_field_num(s, "duration_ms")) < 0) {
			(*other)++;
			continue;
		}
		*slow += v >= 50;
		/* Insertion sort: a few hundred at most. */
		for (i = n++; i > 0 && d[i - 1] > v; i--)
			d[i] = d[i - 1];
		d[i] = v;
	}
	free(log);
	if (n > 0) {
		*median = d[n / 2];
		*max = d[n - 1];
	}
	return n;
}

START_TEST(test_denied_flood)
{
	struct harness_proxy	p;
	struct harness_target	t;
	char			head[256], took[FLOOD_TRIES * 16], rep[128];
	char			*log;
	long long		waited, median, max, held, answered, reset;
	int			i, served = 0, status, limit, denied, other;
	int			slow, stop[2], report[2];
	struct pollfd		pfd;
	size_t			off = 0, upto;
	ssize_t			n;
	pid_t			flood;

	harness_raise_nofile();
	target_up(&t, HARNESS_TARGET_ECHO, 0);
	proxy_for(&p, t.port, "allow_client 127.0.0.1/32\nworkers_start 16\n"
	    "workers_max 16\nworkers_min_spare 2\nworkers_max_spare 16\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 16, harness_ms(20000)) == 0,
	    "16 workers did not start");
	valid_head(head, sizeof(head), &t);
	ck_assert_int_eq(pipe(stop), 0);
	ck_assert_int_eq(pipe(report), 0);
	flood = fork();
	ck_assert_int_ne(flood, -1);
	if (flood == 0) {
		close(stop[1]);
		close(report[0]);
		denied_flood(p.port, head, stop[0], report[1]);
	}
	close(stop[0]);
	close(report[1]);
	/* A second of flood first: 40 connections, more than the pool. */
	harness_pause_ms(1000);
	limit = harness_ms(2000);
	for (i = 0; i < FLOOD_TRIES; i++) {
		waited = timed_connect(&p, head, limit, &status);
		served += waited != -1;
		if (waited != -1)
			off += (size_t)snprintf(took + off, sizeof(took) - off,
			    " %lld", waited);
		else
			off += (size_t)snprintf(took + off, sizeof(took) - off,
			    " none(%d)", status);
		harness_pause_ms(250);
	}
	/* What the workers logged while the flood still held its sockets. */
	ck_assert_ptr_nonnull(log = harness_proxy_log(&p));
	upto = strlen(log);
	free(log);
	(void)write(stop[1], "", 1);
	/* The child's read-back is bounded (5 s): so is this wait. */
	pfd.fd = report[0];
	pfd.events = POLLIN;
	n = poll(&pfd, 1, harness_ms(10000)) == 1 ? read(report[0], rep,
	    sizeof(rep) - 1) : -1;
	rep[n > 0 ? n : 0] = '\0';
	(void)harness_kill_wait(flood, 5000);
	close(stop[1]);
	close(report[0]);
	denied = denied_hold_ms(&p, upto, &median, &max, &slow,
	    &other);
	held = harness_field_num(rep, "held");
	answered = harness_field_num(rep, "answered");
	reset = harness_field_num(rep, "reset");
	printf("denied flood: %d of %d allowed CONNECTs got 200 within %d ms "
	    "(ms:%s); %d denied connections refused meanwhile, each held "
	    "its worker %lld ms (median), %lld ms (max), %d for 50 ms or "
	    "more; of %lld held, %lld got a whole 403 (%lld then a reset)\n",
	    served, FLOOD_TRIES, limit, took, denied, median, max, slow, held,
	    answered, reset);
	fflush(stdout);
	EXPECT(&p, served >= FLOOD_TRIES - 1, "only %d of %d allowed CONNECTs "
	    "got their 200 within %d ms during the flood (%s)", served,
	    FLOOD_TRIES, limit, took);
	EXPECT(&p, denied >= FLOOD_RATE, "only %d denied connections were "
	    "refused", denied);
	EXPECT(&p, other == 0, "%d records of the denied host are not a 403 "
	    "client_denied", other);
	EXPECT(&p, held >= FLOOD_RATE && answered == held, "of %lld held "
	    "denied connections, %lld got a whole 403", held, answered);
	expect_serving(&p, &t, "after the denied flood");
	expect_no_crash(&p, "denied flood");
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

/*
 * A burst of connections from a denied host, all held open at once: only
 * the first two linger (100 ms); the others are closed at once, and every
 * one of them still finds a whole 403.
 */
#define BURST	8

START_TEST(test_denied_burst)
{
	struct harness_proxy	p;
	long long		median, max, deadline;
	int			fds[BURST], i, n, slow, other, answered = 0;

	proxy_for(&p, 443, "allow_client 127.0.0.1/32\nworkers_start 12\n"
	    "workers_max 12\nworkers_min_spare 0\nworkers_max_spare 12\n");
	EXPECT(&p, harness_proxy_wait_workers(&p, 12, harness_ms(20000)) == 0,
	    "12 workers did not start");
	for (i = 0; i < BURST; i++) {
		fds[i] = harness_connect_from("127.0.0.2", p.port,
		    harness_ms(5000));
		EXPECT(&p, fds[i] != -1, "connect %d", i);
	}
	deadline = harness_now_ms() + harness_ms(10000);
	while ((n = denied_hold_ms(&p, (size_t)-1, &median, &max, &slow,
	    &other)) < BURST && harness_now_ms() < deadline)
		(void)poll(NULL, 0, 20);
	deadline = harness_now_ms() + harness_ms(5000);
	for (i = 0; i < BURST; i++) {
		answered += flood_answer(fds[i], deadline) != 0;
		close(fds[i]);
	}
	printf("denied burst: %d connections held at once, %d refused, %d "
	    "of them after lingering 50 ms or more (max %lld ms), %d got a "
	    "whole 403\n", BURST, n, slow, max, answered);
	fflush(stdout);
	EXPECT(&p, n == BURST && other == 0, "%d refusals logged, %d other "
	    "records", n, other);
	/* Two linger; a race between workers may let one or two more. */
	EXPECT(&p, slow >= 1 && slow <= 4, "%d of %d refusals lingered", slow,
	    BURST);
	EXPECT(&p, max < 1000, "a refusal held its worker %lld ms", max);
	EXPECT(&p, answered == BURST, "%d of %d got a whole 403", answered,
	    BURST);
	expect_no_crash(&p, "denied burst");
	harness_proxy_free(&p);
}
END_TEST

Suite *
robust_suite(void)
{
	Suite	*s;
	TCase	*tc;

	/* A refused client's close must not kill this process. */
	signal(SIGPIPE, SIG_IGN);
	s = suite_create("robust");
	tc = harness_tcase(s, "adversarial", 120);
	tcase_add_test(tc, test_cut_heads);
	tcase_add_loop_test(tc, test_huge_head, 0, sizeof(huge) /
	    sizeof(*huge));
	tcase_add_test(tc, test_random_binary);
	tcase_add_loop_test(tc, test_second_request_behind_refusal, 0,
	    sizeof(behind) / sizeof(*behind));
	tc = harness_tcase(s, "slowloris", 150);
	tcase_add_test(tc, test_slowloris);
	tc = harness_tcase(s, "targets", 60);
	tcase_add_test(tc, test_target_silent_idle);
	tcase_add_test(tc, test_target_blackhole);
	tcase_add_test(tc, test_target_reset_midstream);
	tc = harness_tcase(s, "client_resets", 60);
	tcase_add_loop_test(tc, test_client_resets, 0, NPHASES);
	tc = harness_tcase(s, "denied_flood", 60);
	tcase_add_test(tc, test_denied_flood);
	tcase_add_test(tc, test_denied_burst);
	tc = harness_tcase(s, "chaos", 150);
	tcase_add_test(tc, test_chaos_kill);
	return s;
}
