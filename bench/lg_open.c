/* SPDX-License-Identifier: ISC */
/*
 * `loadgen open`: open count tunnels at once (every connect() is issued
 * before the first answer is read), each done when its 200 and one 64-byte
 * echo came back, all driven by one poll() loop.  Prints the time until the
 * last one is done; with -H it then holds them open, idle, until its stdin
 * closes (the driver measures memory meanwhile) or hold_s passes.
 */
#include <sys/socket.h>

#include <errno.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define OPEN_MAX	20000
#define OPEN_POLL_MS	100

enum ostate {
	O_CONNECTING,		/* waiting for POLLOUT */
	O_HEAD,			/* CONNECT sent, reading the answer head */
	O_ECHO,			/* echo sent, reading it back */
	O_DONE,
	O_FAILED
};

struct oconn {
	int		 fd;
	enum ostate	 st;
	char		 buf[LG_HEAD_MAX];
	size_t		 len;
	long long	 done_ns;
};

struct oset {
	const struct lg_opts	*o;
	struct oconn		*c;
	struct pollfd		*pfd;
	size_t			*idx;		/* pfd slot -> connection */
	size_t			 n;
	size_t			 active;
	size_t			 failed;
	int			 first_errno;
	char			 req[512];
	size_t			 reqlen;
};

static void
fail(struct oset *s, struct oconn *c, int err)
{
	if (s->failed++ == 0)
		s->first_errno = err;
	c->st = O_FAILED;
	s->active--;
	if (c->fd != -1)
		close(c->fd);
	c->fd = -1;
}

/* Small writes to a fresh socket: anything short of all is a failure. */
static int
send_small(int fd, const void *p, size_t n)
{
	ssize_t	r;

	r = send(fd, p, n, MSG_NOSIGNAL);
	if (r >= 0 && (size_t)r != n)
		errno = EMSGSIZE;
	return r >= 0 && (size_t)r == n ? 0 : -1;
}

static void
send_echo(struct oset *s, struct oconn *c)
{
	char	out[LG_ECHO_SIZE];

	memset(out, 'E', sizeof(out));
	c->len = 0;
	if (send_small(c->fd, out, sizeof(out)) == -1)
		fail(s, c, errno);
	else
		c->st = O_ECHO;
}

static void
on_connected(struct oset *s, struct oconn *c)
{
	int		err = 0;
	socklen_t	len = sizeof(err);

	if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) == -1 ||
	    err != 0) {
		fail(s, c, err != 0 ? err : errno);
		return;
	}
	if (!s->o->has_proxy) {
		send_echo(s, c);
		return;
	}
	if (send_small(c->fd, s->req, s->reqlen) == -1)
		fail(s, c, errno);
	else
		c->st = O_HEAD;
}

static void
on_readable(struct oset *s, struct oconn *c)
{
	ssize_t	n;
	int	r;

	n = recv(c->fd, c->buf + c->len, sizeof(c->buf) - c->len, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	if (n <= 0) {
		fail(s, c, n == 0 ? ECONNRESET : errno);
		return;
	}
	c->len += (size_t)n;
	if (c->st == O_HEAD) {
		if ((r = lg_head_check(c->buf, c->len)) == 1)
			send_echo(s, c);
		else if (r == -1)
			fail(s, c, EPROTO);
		return;
	}
	if (c->len > LG_ECHO_SIZE)
		fail(s, c, EPROTO);
	else if (c->len == LG_ECHO_SIZE) {
		c->st = O_DONE;
		c->done_ns = lg_now_ns();
		s->active--;
	}
}

static size_t
build_pollset(struct oset *s)
{
	size_t	i, k = 0;

	for (i = 0; i < s->n; i++) {
		if (s->c[i].st == O_DONE || s->c[i].st == O_FAILED)
			continue;
		s->pfd[k].fd = s->c[i].fd;
		s->pfd[k].events = s->c[i].st == O_CONNECTING ? POLLOUT :
		    POLLIN;
		s->idx[k++] = i;
	}
	return k;
}

/* Drive every connection until all are done or failed, or the deadline. */
static void
drive(struct oset *s, long long deadline)
{
	struct oconn	*c;
	size_t		 i, k;

	while (s->active > 0 && lg_now_ns() < deadline) {
		k = build_pollset(s);
		if (poll(s->pfd, k, OPEN_POLL_MS) <= 0)
			continue;
		for (i = 0; i < k; i++) {
			if (s->pfd[i].revents == 0)
				continue;
			c = &s->c[s->idx[i]];
			if (c->st == O_CONNECTING)
				on_connected(s, c);
			else
				on_readable(s, c);
		}
	}
	for (i = 0; i < s->n; i++)
		if (s->c[i].st != O_DONE && s->c[i].st != O_FAILED)
			fail(s, &s->c[i], ETIMEDOUT);
}

static void
start_all(struct oset *s)
{
	const struct lg_addr	*to;
	size_t			 i;

	to = s->o->has_proxy ? &s->o->proxy : &s->o->target;
	for (i = 0; i < s->n; i++) {
		s->c[i].st = O_CONNECTING;
		s->active++;
		if ((s->c[i].fd = lg_connect(to, 1, 0)) == -1)
			fail(s, &s->c[i], errno);
	}
}

static void
report(struct oset *s, long long t0, long long t_end)
{
	long long	*ms;
	size_t		 i, ok = 0, late = 0;

	if ((ms = calloc(s->n, sizeof(*ms))) == NULL)
		return;
	for (i = 0; i < s->n; i++)
		if (s->c[i].st == O_DONE) {
			ms[ok] = s->c[i].done_ns - t0;
			/* A tunnel past 1 s most likely lost a SYN. */
			late += ms[ok++] >= 1000000000LL;
		}
	lg_sort(ms, ok);
	printf("open n=%zu ok=%zu failed=%zu secs=%.3f p50_ms=%.1f "
	    "p99_ms=%.1f max_ms=%.1f over_1s=%zu first_error=%s\n", s->n, ok,
	    s->failed, (double)(t_end - t0) / 1e9,
	    (double)lg_pct(ms, ok, 0.50) / 1e6,
	    (double)lg_pct(ms, ok, 0.99) / 1e6,
	    (double)lg_pct(ms, ok, 1.0) / 1e6, late,
	    s->failed > 0 ? strerror(s->first_errno) : "-");
	fflush(stdout);
	free(ms);
}

/* Hold: wait for stdin to close (or any input), at most hold_s. */
static void
hold(const struct lg_opts *o, size_t ok)
{
	struct pollfd	pfd = { .fd = STDIN_FILENO, .events = POLLIN };
	long long	end = lg_now_ns() + (long long)(o->hold_s * 1e9);
	long long	left;

	printf("holding %zu\n", ok);
	fflush(stdout);
	while ((left = (end - lg_now_ns()) / 1000000) > 0)
		if (poll(&pfd, 1, left > 1000 ? 1000 : (int)left) > 0)
			return;
}

int
lg_open_run(const struct lg_opts *o)
{
	struct oset	s;
	long long	t0, t_end, last = 0;
	size_t		i;

	memset(&s, 0, sizeof(s));
	s.o = o;
	s.n = (size_t)o->count;
	if (o->count < 1 || o->count > OPEN_MAX ||
	    lg_raise_nofile(o->count + 64) == -1)
		return -1;
	s.c = calloc(s.n, sizeof(*s.c));
	s.pfd = calloc(s.n, sizeof(*s.pfd));
	s.idx = calloc(s.n, sizeof(*s.idx));
	if (s.c == NULL || s.pfd == NULL || s.idx == NULL)
		return -1;
	s.reqlen = lg_connect_request(s.req, sizeof(s.req), &o->target);
	t0 = lg_now_ns();
	start_all(&s);
	drive(&s, t0 + (long long)(o->wait_s * 1e9));
	for (i = 0; i < s.n; i++)
		if (s.c[i].st == O_DONE && s.c[i].done_ns > last)
			last = s.c[i].done_ns;
	t_end = last > 0 ? last : lg_now_ns();
	report(&s, t0, t_end);
	if (o->hold_s > 0)
		hold(o, s.n - s.failed);
	for (i = 0; i < s.n; i++)
		if (s.c[i].fd != -1)
			close(s.c[i].fd);
	return s.failed == 0 ? 0 : 1;
}
