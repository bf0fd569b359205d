/* SPDX-License-Identifier: ISC */
/*
 * The loopback target (`loadgen echo-target`): a few threads each poll()
 * the shared non-blocking listener and their own connections.  Echo
 * connections stay in the poll loop; a sink or source connection (bulk)
 * moves to a thread of its own doing plain blocking reads or writes, so
 * the direct baseline is as fast as this host allows.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "lg.h"

#define TGT_THREADS_MAX	16
#define TGT_CONNS_MAX	8192	/* per poll thread */
#define TGT_SCRATCH	(128 * 1024)
#define TGT_BULK_MAX	64	/* bulk threads at once */
#define TGT_BULK_TMO_MS	30000	/* a stalled bulk peer is dropped */
#define TGT_POLL_MS	500	/* how soon a stop is noticed */
#define TGT_ACCEPT_RUN	64	/* accepts per wake-up */

struct tconn {
	int		 fd;
	int		 mode;		/* 0 until the first byte, then 'E' */
	char		*pend;		/* echo bytes the socket did not take */
	size_t		 pend_off;
	size_t		 pend_len;
};

struct tthread {
	pthread_t	 tid;
	int		 lfd;
	struct tconn	*c;
	struct pollfd	*pfd;
	size_t		 n;
	char		*scratch;
};

struct bulk {
	int		 fd;
	int		 mode;		/* 'S' or 'R' */
	unsigned char	 first[TGT_SCRATCH];
	size_t		 first_len;	/* bytes read with the mode byte */
};

static volatile sig_atomic_t	tgt_stop;
static pthread_mutex_t		bulk_lock = PTHREAD_MUTEX_INITIALIZER;
static int			bulk_running;

static void
on_stop(int sig)
{
	(void)sig;
	tgt_stop = 1;
}

static void
conn_close(struct tthread *t, size_t i)
{
	if (t->c[i].fd != -1)
		close(t->c[i].fd);
	free(t->c[i].pend);
	t->c[i] = t->c[--t->n];
}

/*
 * Sink: count until the end mark (or EOF), answer the count.  A client
 * sends only 'u' bytes before its one 'Z', so the mark can only be the
 * last byte of a read.  No half-close needed: tinyproxy ends a tunnel on
 * the first EOF.
 */
static void
bulk_sink(struct bulk *b, char *buf)
{
	unsigned char	reply[8];
	uint64_t	total = b->first_len - 1;
	ssize_t		n = (ssize_t)b->first_len;
	int		mark = b->first[b->first_len - 1] == LG_END_MARK;

	while (!mark && (n = read(b->fd, buf, TGT_SCRATCH)) > 0) {
		total += (uint64_t)n;
		mark = buf[n - 1] == LG_END_MARK;
	}
	if (n >= 0) {
		lg_put64(reply, total - (uint64_t)mark);
		(void)lg_write_all(b->fd, reply, sizeof(reply));
	}
}

/* Source: finish reading the 8-byte length, send that many bytes, EOF. */
static void
bulk_source(struct bulk *b, char *buf)
{
	unsigned char	hdr[9];
	size_t		have = b->first_len < 9 ? b->first_len : 9;
	uint64_t	left;
	ssize_t		n;

	memcpy(hdr, b->first, have);
	if (have < 9 && lg_read_full(b->fd, hdr + have, 9 - have) == -1)
		return;
	memset(buf, 'r', TGT_SCRATCH);
	for (left = lg_get64(hdr + 1); left > 0; left -= (uint64_t)n) {
		n = send(b->fd, buf, left < TGT_SCRATCH ? left : TGT_SCRATCH,
		    MSG_NOSIGNAL);
		if (n <= 0)
			return;
	}
	(void)shutdown(b->fd, SHUT_WR);
	while (read(b->fd, buf, TGT_SCRATCH) > 0)
		;
}

static void *
bulk_main(void *arg)
{
	struct bulk	*b = arg;
	char		*buf;

	if ((buf = malloc(TGT_SCRATCH)) != NULL) {
		if (b->mode == 'S')
			bulk_sink(b, buf);
		else
			bulk_source(b, buf);
	}
	free(buf);
	close(b->fd);
	free(b);
	pthread_mutex_lock(&bulk_lock);
	bulk_running--;
	pthread_mutex_unlock(&bulk_lock);
	return NULL;
}

/* Hand a sink/source connection to its own blocking thread. */
static void
bulk_start(int fd, int mode, const char *first, size_t len)
{
	struct bulk	*b;
	pthread_t	 tid;
	int		 ok;

	pthread_mutex_lock(&bulk_lock);
	ok = bulk_running < TGT_BULK_MAX;
	bulk_running += ok;
	pthread_mutex_unlock(&bulk_lock);
	if (!ok || (b = malloc(sizeof(*b))) == NULL)
		goto fail;
	b->fd = fd;
	b->mode = mode;
	memcpy(b->first, first, len);
	b->first_len = len;
	if (fcntl(fd, F_SETFL, 0) == -1 ||
	    lg_set_timeouts(fd, TGT_BULK_TMO_MS) == -1 ||
	    pthread_create(&tid, NULL, bulk_main, b) != 0) {
		free(b);
		goto fail;
	}
	pthread_detach(tid);
	return;
fail:
	if (ok) {
		pthread_mutex_lock(&bulk_lock);
		bulk_running--;
		pthread_mutex_unlock(&bulk_lock);
	}
	close(fd);
}

/* Send back what was read; keep what the socket did not take. */
static int
echo_out(struct tconn *c, const char *p, size_t n)
{
	ssize_t	r;

	r = send(c->fd, p, n, MSG_NOSIGNAL);
	if (r == -1 && errno != EAGAIN && errno != EWOULDBLOCK)
		return -1;
	if (r == -1)
		r = 0;
	if ((size_t)r == n)
		return 0;
	if ((c->pend = malloc(n - (size_t)r)) == NULL)
		return -1;
	memcpy(c->pend, p + r, n - (size_t)r);
	c->pend_off = 0;
	c->pend_len = n - (size_t)r;
	return 0;
}

static int
echo_flush(struct tconn *c)
{
	ssize_t	r;

	r = send(c->fd, c->pend + c->pend_off, c->pend_len - c->pend_off,
	    MSG_NOSIGNAL);
	if (r == -1)
		return errno == EAGAIN || errno == EWOULDBLOCK ? 0 : -1;
	if ((c->pend_off += (size_t)r) == c->pend_len) {
		free(c->pend);
		c->pend = NULL;
		c->pend_off = c->pend_len = 0;
	}
	return 0;
}

/*
 * One ready connection.  Returns 1 to keep it, 0 when it was closed or
 * handed to a bulk thread (the caller drops it from the set).
 */
static int
conn_ready(struct tthread *t, size_t i, short rev)
{
	struct tconn	*c = &t->c[i];
	ssize_t		 n;

	if (c->pend != NULL)
		return (rev & (POLLOUT | POLLERR | POLLHUP)) == 0 ||
		    echo_flush(c) == 0 ? 1 : -1;
	n = recv(c->fd, t->scratch, TGT_SCRATCH, 0);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return 1;
	if (n <= 0)
		return -1;
	if (c->mode == 0 && (t->scratch[0] == 'S' || t->scratch[0] == 'R')) {
		bulk_start(c->fd, t->scratch[0], t->scratch, (size_t)n);
		c->fd = -1;
		return 0;
	}
	if (c->mode == 0 && t->scratch[0] != 'E')
		return -1;
	c->mode = 'E';
	return echo_out(c, t->scratch, (size_t)n) == 0 ? 1 : -1;
}

static void
accept_some(struct tthread *t)
{
	int	fd, i;

	for (i = 0; i < TGT_ACCEPT_RUN && t->n < TGT_CONNS_MAX; i++) {
		if ((fd = accept(t->lfd, NULL, NULL)) == -1)
			return;
		if (fcntl(fd, F_SETFL, O_NONBLOCK) == -1) {
			close(fd);
			continue;
		}
		memset(&t->c[t->n], 0, sizeof(t->c[t->n]));
		t->c[t->n++].fd = fd;
	}
}

static void
build_pollset(struct tthread *t)
{
	size_t	i;

	t->pfd[0].fd = t->n < TGT_CONNS_MAX ? t->lfd : -1;
	t->pfd[0].events = POLLIN;
	for (i = 0; i < t->n; i++) {
		t->pfd[i + 1].fd = t->c[i].fd;
		t->pfd[i + 1].events = t->c[i].pend != NULL ? POLLOUT : POLLIN;
	}
}

static void *
poll_main(void *arg)
{
	struct tthread	*t = arg;
	size_t		 i, n;
	int		 r;

	while (!tgt_stop) {
		build_pollset(t);
		n = t->n;
		if (poll(t->pfd, n + 1, TGT_POLL_MS) <= 0)
			continue;
		/* Backwards: conn_close() moves the last, already seen, here. */
		for (i = n; i-- > 0;) {
			if (t->pfd[i + 1].revents == 0)
				continue;
			if ((r = conn_ready(t, i, t->pfd[i + 1].revents)) == 1)
				continue;
			if (r == 0)
				t->c[i].fd = -1;
			conn_close(t, i);
		}
		if (t->pfd[0].revents & POLLIN)
			accept_some(t);
	}
	return NULL;
}

static void
target_signals(void)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_stop;
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
}

/*
 * Serve until SIGTERM/SIGINT or the cap.  Prints "listen HOST:PORT" once
 * the socket is ready, for the driver.
 */
int
lg_target_run(const struct lg_opts *o)
{
	struct tthread	 t[TGT_THREADS_MAX];
	struct lg_addr	 bound;
	int		 lfd, i, nt = o->threads;

	if (nt < 1 || nt > TGT_THREADS_MAX || !o->has_listen)
		return -1;
	(void)lg_raise_nofile((long)nt * TGT_CONNS_MAX + 64);
	target_signals();
	if ((lfd = lg_listen(&o->listen, &bound)) == -1 ||
	    fcntl(lfd, F_SETFL, O_NONBLOCK) == -1)
		return -1;
	for (i = 0; i < nt; i++) {
		memset(&t[i], 0, sizeof(t[i]));
		t[i].lfd = lfd;
		t[i].c = calloc(TGT_CONNS_MAX, sizeof(*t[i].c));
		t[i].pfd = calloc(TGT_CONNS_MAX + 1, sizeof(*t[i].pfd));
		t[i].scratch = malloc(TGT_SCRATCH);
		if (t[i].c == NULL || t[i].pfd == NULL || t[i].scratch == NULL ||
		    pthread_create(&t[i].tid, NULL, poll_main, &t[i]) != 0) {
			fprintf(stderr, "loadgen: echo-target: no memory\n");
			return -1;
		}
	}
	printf("listen %s:%u\n", bound.host, bound.port);
	fflush(stdout);
	for (i = 0; i < nt; i++)
		pthread_join(t[i].tid, NULL);
	return 0;
}
