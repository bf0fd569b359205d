/* SPDX-License-Identifier: ISC */
/*
 * Target servers of the end-to-end harness (see harness_target.h): the
 * far end of a tunnel, in forked children that report what they saw on
 * a pipe, and the test pattern they send and check.
 */
#define _GNU_SOURCE

#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_client.h"
#include "harness_net.h"
#include "harness_proc.h"
#include "harness_target.h"
#include "harness_time.h"

unsigned char
harness_pattern_byte(size_t off)
{
	/* 251 is prime: a shifted or repeated block does not line up. */
	return (unsigned char)(off % 251);
}

void
harness_pattern_fill(unsigned char *buf, size_t len, size_t off)
{
	size_t	i;

	for (i = 0; i < len; i++)
		buf[i] = harness_pattern_byte(off + i);
}

size_t
harness_pattern_check(const unsigned char *buf, size_t len, size_t off)
{
	size_t	i;

	for (i = 0; i < len; i++)
		if (buf[i] != harness_pattern_byte(off + i))
			return i;
	return (size_t)-1;
}

void
harness_report(int fd, const char *line)
{
	/* One write under PIPE_BUF is atomic; a full pipe drops the line. */
	if (write(fd, line, strlen(line)) == -1)
		return;
}

static void
target_echo(int c)
{
	char	buf[16384];
	ssize_t	n;

	while ((n = recv(c, buf, sizeof(buf), 0)) > 0)
		if (harness_send(c, buf, (size_t)n) == -1)
			break;
	shutdown(c, SHUT_WR);
}

/*
 * Read until EOF checking the pattern from stream offset `total`; returns
 * the offset reached, clears *ok on a mismatch.
 */
static long long
target_drain(int c, long long total, int *ok)
{
	unsigned char	buf[16384];
	ssize_t		n;

	while ((n = recv(c, buf, sizeof(buf), 0)) > 0) {
		if (harness_pattern_check(buf, (size_t)n, (size_t)total) !=
		    (size_t)-1)
			*ok = 0;
		total += n;
	}
	return total;
}

/* Send count pattern bytes while reading, so neither side stalls. */
static long long
target_send(int c, size_t count, int *ok)
{
	unsigned char	buf[16384], in[16384];
	size_t		sent = 0, chunk;
	long long	total = 0;
	ssize_t		n;

	*ok = 1;
	while (sent < count) {
		struct pollfd pfd = { .fd = c, .events = POLLIN | POLLOUT };
		if (poll(&pfd, 1, 30000) <= 0)
			return -1;
		if (pfd.revents & POLLIN) {
			n = recv(c, in, sizeof(in), MSG_DONTWAIT);
			if (n > 0 && harness_pattern_check(in, (size_t)n,
			    (size_t)total) != (size_t)-1)
				*ok = 0;
			if (n > 0)
				total += n;
		}
		if (!(pfd.revents & (POLLOUT | POLLERR | POLLHUP)))
			continue;
		chunk = count - sent < sizeof(buf) ? count - sent : sizeof(buf);
		harness_pattern_fill(buf, chunk, sent);
		n = send(c, buf, chunk, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			sent += (size_t)n;
	}
	shutdown(c, SHUT_WR);
	return target_drain(c, total, ok);
}

/*
 * Send count pattern bytes, half-close, and wait (10 s at most) until the
 * peer has acknowledged everything, FIN included, before closing: the
 * bytes are then all in the peer's hands, and what the peer sends from
 * now on meets a closed socket.  Returns 1 when the queue emptied, 0 when
 * it did not, -1 when a send failed.
 */
static int
target_send_close(int c, size_t count)
{
	struct timeval	tv = { .tv_sec = 30 };
	unsigned char	buf[16384];
	size_t		sent, chunk;
	int		queued = -1, i;

	/* A peer that stops reading fails the send, not the test's time. */
	if (setsockopt(c, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	for (sent = 0; sent < count; sent += chunk) {
		chunk = count - sent < sizeof(buf) ? count - sent : sizeof(buf);
		harness_pattern_fill(buf, chunk, sent);
		if (harness_send(c, buf, chunk) == -1)
			return -1;
	}
	shutdown(c, SHUT_WR);
	for (i = 0; i < 1000; i++) {
		if (ioctl(c, TIOCOUTQ, &queued) == -1 || queued == 0)
			break;
		harness_pause_ms(10);
	}
	return queued == 0;
}

static void
target_conn(int c, int rep, enum harness_target_mode mode, size_t count)
{
	char		line[64];
	long long	total;
	int		ok = 1;

	switch (mode) {
	case HARNESS_TARGET_ECHO:
		target_echo(c);
		break;
	case HARNESS_TARGET_SEND:
		/* The drain after the send continues the same stream. */
		total = target_send(c, count, &ok);
		snprintf(line, sizeof(line), "done recv=%lld ok=%d\n", total, ok);
		harness_report(rep, line);
		break;
	case HARNESS_TARGET_COUNT:
		total = target_drain(c, 0, &ok);
		snprintf(line, sizeof(line), "recv=%lld ok=%d\n", total, ok);
		harness_send_str(c, line);
		snprintf(line, sizeof(line), "done recv=%lld ok=%d\n", total, ok);
		harness_report(rep, line);
		break;
	case HARNESS_TARGET_SILENT:
		target_drain(c, 0, &ok);
		break;
	case HARNESS_TARGET_SEND_CLOSE:
		ok = target_send_close(c, count);
		/* Reported once closed: the line says the target is gone. */
		close(c);
		c = -1;
		snprintf(line, sizeof(line), "done acked=%d\n", ok);
		harness_report(rep, line);
		break;
	}
	if (c != -1)
		close(c);
}

static int
peer_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getpeername(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

static void __attribute__((noreturn))
target_loop(int lfd, int rep, enum harness_target_mode mode, size_t count)
{
	char	line[64];
	pid_t	pid;
	int	c, i;

	/* Connection children are reaped by the kernel. */
	signal(SIGCHLD, SIG_IGN);
	for (i = 0; i < 100000; i++) {
		if ((c = accept(lfd, NULL, NULL)) == -1) {
			if (errno == EINTR || errno == ECONNABORTED)
				continue;
			_exit(1);
		}
		snprintf(line, sizeof(line), "accept %d\n", peer_port(c));
		harness_report(rep, line);
		if ((pid = fork()) == 0) {
			prctl(PR_SET_PDEATHSIG, SIGKILL);
			close(lfd);
			target_conn(c, rep, mode, count);
			_exit(0);
		}
		close(c);
	}
	_exit(0);
}

int
harness_target_start(struct harness_target *t, int family, const char *addr,
    int port, enum harness_target_mode mode, size_t count)
{
	int	lfd, rep[2];

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->report = -1;
	t->family = family;
	snprintf(t->addr, sizeof(t->addr), "%s",
	    addr != NULL ? addr : harness_loopback(family));
	if ((lfd = harness_bind(t->addr, port, &t->port)) == -1)
		return -1;
	if (listen(lfd, 1024) == -1 || pipe2(rep, O_CLOEXEC) == -1) {
		close(lfd);
		return -1;
	}
	fflush(NULL);
	if ((t->pid = fork()) == 0) {
		harness_child_setup();
		close(rep[0]);
		fcntl(rep[1], F_SETFL, O_NONBLOCK);
		target_loop(lfd, rep[1], mode, count);
	}
	close(lfd);
	close(rep[1]);
	t->report = rep[0];
	fcntl(t->report, F_SETFL, O_NONBLOCK);
	return t->pid == -1 ? -1 : 0;
}

void
harness_target_stop(struct harness_target *t)
{
	int	st;

	if (t->pid > 0) {
		kill(t->pid, SIGKILL);
		harness_waitpid(t->pid, &st, 5000);
		t->pid = -1;
	}
	if (t->report != -1)
		close(t->report);
	t->report = -1;
}

/* Take one complete line from rbuf into out.  Returns 0 or -1. */
static int
take_line(struct harness_target *t, char *out, size_t len)
{
	char	*nl;
	size_t	 n;

	if ((nl = memchr(t->rbuf, '\n', t->rlen)) == NULL)
		return -1;
	n = (size_t)(nl - t->rbuf);
	if (len > 0) {
		size_t c = n < len - 1 ? n : len - 1;
		memcpy(out, t->rbuf, c);
		out[c] = '\0';
	}
	memmove(t->rbuf, nl + 1, t->rlen - n - 1);
	t->rlen -= n + 1;
	return 0;
}

int
harness_target_line(struct harness_target *t, const char *prefix,
    char *out, size_t len, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	char		line[256];
	ssize_t		n;

	for (;;) {
		while (take_line(t, line, sizeof(line)) == 0) {
			if (strncmp(line, prefix, strlen(prefix)) == 0) {
				snprintf(out, len, "%s", line);
				return 0;
			}
		}
		if (t->rlen == sizeof(t->rbuf))
			t->rlen = 0;
		if (harness_wait_fd(t->report, POLLIN,
		    harness_remaining_ms(deadline)) <= 0)
			return -1;
		n = read(t->report, t->rbuf + t->rlen,
		    sizeof(t->rbuf) - t->rlen);
		if (n <= 0 && errno != EAGAIN && errno != EINTR)
			return -1;
		if (n > 0)
			t->rlen += (size_t)n;
	}
}

static int
local_port(int fd)
{
	struct sockaddr_storage	ss;
	socklen_t		len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len) == -1)
		return -1;
	return ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
}

int
harness_target_untouched(struct harness_target *t)
{
	char	line[256], want[32];
	int	fd, rc;

	if ((fd = harness_connect(t->addr, t->port, 5000)) == -1)
		return -1;
	/* The listener's queue is FIFO: a proxy connection came first. */
	snprintf(want, sizeof(want), "accept %d", local_port(fd));
	rc = harness_target_line(t, "accept ", line, sizeof(line),
	    harness_ms(5000));
	close(fd);
	if (rc == -1)
		return -1;
	return strcmp(line, want) == 0 ? 1 : 0;
}

/* Many-connection echo target */

struct echo_conn {
	int	fd;			/* -1: free */
	int	eof;			/* the peer half-closed */
	size_t	len;			/* bytes held, not yet echoed */
	char	buf[4096];
};

static void
echo_close(struct echo_conn *c)
{
	close(c->fd);
	c->fd = -1;
}

/* One poll event on a connection: read, or write back what is held. */
static void
echo_service(struct echo_conn *c, short revents)
{
	ssize_t	n;

	if (c->len > 0 && (revents & (POLLOUT | POLLERR | POLLHUP))) {
		n = send(c->fd, c->buf, c->len, MSG_DONTWAIT | MSG_NOSIGNAL);
		if (n == -1 && errno != EAGAIN && errno != EINTR) {
			echo_close(c);
			return;
		}
		if (n > 0) {
			memmove(c->buf, c->buf + n, c->len - (size_t)n);
			c->len -= (size_t)n;
		}
	} else if (c->len == 0 && (revents & (POLLIN | POLLERR | POLLHUP))) {
		n = recv(c->fd, c->buf, sizeof(c->buf), MSG_DONTWAIT);
		if (n == 0 || (n == -1 && errno != EAGAIN && errno != EINTR))
			c->eof = 1;
		else if (n > 0)
			c->len = (size_t)n;
	}
	if (c->fd != -1 && c->eof && c->len == 0) {
		shutdown(c->fd, SHUT_WR);
		echo_close(c);
	}
}

static void __attribute__((noreturn))
echo_many_loop(int lfd, int max)
{
	struct echo_conn	*conns;
	struct pollfd		*pfd;
	int			 i, n, fd, *slot;

	conns = calloc((size_t)max, sizeof(*conns));
	pfd = calloc((size_t)max + 1, sizeof(*pfd));
	slot = calloc((size_t)max + 1, sizeof(*slot));
	if (conns == NULL || pfd == NULL || slot == NULL)
		_exit(1);
	for (i = 0; i < max; i++)
		conns[i].fd = -1;
	fcntl(lfd, F_SETFL, O_NONBLOCK);
	for (;;) {
		n = 0;
		pfd[n].fd = lfd;
		pfd[n++].events = POLLIN;
		for (i = 0; i < max; i++) {
			if (conns[i].fd == -1)
				continue;
			slot[n] = i;
			pfd[n].fd = conns[i].fd;
			pfd[n++].events = conns[i].len > 0 ? POLLOUT : POLLIN;
		}
		if (poll(pfd, (nfds_t)n, -1) == -1) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		for (i = 1; i < n; i++)
			if (pfd[i].revents != 0)
				echo_service(&conns[slot[i]], pfd[i].revents);
		if (!(pfd[0].revents & POLLIN))
			continue;
		/* Take every pending connection that has a free slot. */
		for (i = 0; i < max; i++) {
			if (conns[i].fd != -1)
				continue;
			if ((fd = accept(lfd, NULL, NULL)) == -1)
				break;
			conns[i].fd = fd;
			conns[i].eof = 0;
			conns[i].len = 0;
		}
	}
}

int
harness_echo_many_start(struct harness_target *t, int max)
{
	int	lfd;

	memset(t, 0, sizeof(*t));
	t->pid = -1;
	t->report = -1;
	t->family = AF_INET;
	snprintf(t->addr, sizeof(t->addr), "%s", harness_loopback(AF_INET));
	if ((lfd = harness_bind(t->addr, 0, &t->port)) == -1)
		return -1;
	if (listen(lfd, 4096) == -1) {
		close(lfd);
		return -1;
	}
	fflush(NULL);
	if ((t->pid = fork()) == 0) {
		harness_child_setup();
		echo_many_loop(lfd, max);
	}
	close(lfd);
	return t->pid == -1 ? -1 : 0;
}
