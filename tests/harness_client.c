/* SPDX-License-Identifier: ISC */
/*
 * Clients of the end-to-end harness (see harness_client.h): raw
 * connections, bounded sends and reads, response heads and CONNECT
 * tunnels.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include <check.h>

#include "harness_client.h"
#include "harness_net.h"
#include "harness_proxy.h"
#include "harness_target.h"
#include "harness_time.h"

int
harness_connect(const char *addr, int port, int timeout_ms)
{
	struct sockaddr_storage	ss;
	socklen_t		len, elen = sizeof(int);
	int			fd, family, err = 0;

	if ((family = harness_sockaddr(addr, port, &ss, &len)) == -1)
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd == -1)
		return -1;
	if (connect(fd, (struct sockaddr *)&ss, len) == -1) {
		if (errno != EINPROGRESS ||
		    harness_wait_fd(fd, POLLOUT, timeout_ms) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0) {
			close(fd);
			return -1;
		}
	}
	if (fcntl(fd, F_SETFL, 0) == -1) {
		close(fd);
		return -1;
	}
	return fd;
}

int
harness_connect_from(const char *src, int port, int timeout_ms)
{
	struct sockaddr_in	sin;
	struct pollfd		pfd;
	socklen_t		elen = sizeof(int);
	int			fd, err = 0;

	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC |
	    SOCK_NONBLOCK, 0)) == -1)
		return -1;
	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	if (inet_pton(AF_INET, src, &sin.sin_addr) != 1 ||
	    bind(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1)
		goto fail;
	sin.sin_port = htons((uint16_t)port);
	inet_pton(AF_INET, "127.0.0.1", &sin.sin_addr);
	if (connect(fd, (struct sockaddr *)&sin, sizeof(sin)) == -1) {
		if (errno != EINPROGRESS)
			goto fail;
		if (timeout_ms < 0)
			return fd;
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) <= 0 ||
		    getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &elen) == -1 ||
		    err != 0)
			goto fail;
	}
	if (timeout_ms >= 0 && fcntl(fd, F_SETFL, 0) == -1)
		goto fail;
	return fd;
fail:
	close(fd);
	return -1;
}

int
harness_send(int fd, const void *buf, size_t len)
{
	const char	*p = buf;
	ssize_t		 n;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL);
		if (n == -1 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

int
harness_send_str(int fd, const char *s)
{
	return harness_send(fd, s, strlen(s));
}

/* One recv bounded by the deadline: >0 bytes, 0 EOF or reset, -1. */
static ssize_t
recv_some(int fd, void *buf, size_t len, long long deadline)
{
	ssize_t	n;

	for (;;) {
		if (harness_wait_fd(fd, POLLIN,
		    harness_remaining_ms(deadline)) <= 0)
			return -1;
		n = recv(fd, buf, len, MSG_DONTWAIT);
		if (n >= 0)
			return n;
		if (errno == ECONNRESET)
			return 0;
		if (errno != EINTR && errno != EAGAIN)
			return -1;
	}
}

ssize_t
harness_recv_exact(int fd, void *buf, size_t len, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	size_t		got = 0;
	ssize_t		n;

	while (got < len) {
		n = recv_some(fd, (char *)buf + got, len - got, deadline);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got += (size_t)n;
	}
	return (ssize_t)got;
}

ssize_t
harness_recv_head(int fd, char *buf, size_t len, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	size_t		got = 0;
	ssize_t		n;

	while (got + 1 < len) {
		n = recv_some(fd, buf + got, 1, deadline);
		if (n == -1)
			return -1;
		if (n == 0)
			break;
		got++;
		buf[got] = '\0';
		if (got >= 4 && memcmp(buf + got - 4, "\r\n\r\n", 4) == 0)
			return (ssize_t)got;
		if (got >= 2 && memcmp(buf + got - 2, "\n\n", 2) == 0)
			return (ssize_t)got;
	}
	if (len > 0)
		buf[got] = '\0';
	return got == 0 ? 0 : -1;
}

int
harness_header(const char *head, const char *name, char *val, size_t len)
{
	const char	*s, *e;
	size_t		 nlen = strlen(name), n;

	for (s = strchr(head, '\n'); s != NULL; s = strchr(s, '\n')) {
		s++;
		if (strncasecmp(s, name, nlen) != 0 || s[nlen] != ':')
			continue;
		s += nlen + 1;
		while (*s == ' ' || *s == '\t')
			s++;
		e = s + strcspn(s, "\r\n");
		while (e > s && (e[-1] == ' ' || e[-1] == '\t'))
			e--;
		n = (size_t)(e - s);
		if (n >= len)
			return -1;
		memcpy(val, s, n);
		val[n] = '\0';
		return 0;
	}
	return -1;
}

int
harness_read_response(int fd, struct harness_response *r, int timeout_ms)
{
	char	 val[32];
	ssize_t	 n;

	memset(r, 0, sizeof(*r));
	r->content_length = -1;
	n = harness_recv_head(fd, r->head, sizeof(r->head), timeout_ms);
	if (n <= 0)
		return -1;
	r->head_len = (size_t)n;
	if (sscanf(r->head, "HTTP/1.%*1[01] %3d ", &r->status) != 1)
		return -1;
	if (harness_header(r->head, "Content-Length", val, sizeof(val)) == 0)
		r->content_length = atol(val);
	if (r->content_length <= 0)
		return 0;
	if ((size_t)r->content_length >= sizeof(r->body))
		return -1;
	n = harness_recv_exact(fd, r->body, (size_t)r->content_length,
	    timeout_ms);
	if (n < 0)
		return -1;
	r->body_len = (size_t)n;
	r->body[n] = '\0';
	return 0;
}

ssize_t
harness_wait_eof(int fd, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	char		buf[4096];
	ssize_t		n, total = 0;
	int		i;

	for (i = 0; i < 100000; i++) {
		n = recv_some(fd, buf, sizeof(buf), deadline);
		if (n == -1)
			return -1;
		if (n == 0)
			return total;
		total += n;
	}
	return -1;
}

int
harness_tunnel(int proxy_port, const char *target, const char *early,
    int *status, int timeout_ms)
{
	struct harness_response	r;
	char			req[1024];
	int			fd;

	if (status != NULL)
		*status = 0;
	snprintf(req, sizeof(req), "CONNECT %s HTTP/1.1\r\nHost: %s\r\n\r\n%s",
	    target, target, early != NULL ? early : "");
	if ((fd = harness_connect("127.0.0.1", proxy_port, timeout_ms)) == -1)
		return -1;
	if (harness_send_str(fd, req) == -1) {
		close(fd);
		return -1;
	}
	/* The 200 has no body: read only its head. */
	if (harness_recv_head(fd, r.head, sizeof(r.head), timeout_ms) <= 0 ||
	    sscanf(r.head, "HTTP/1.%*1[01] %3d ", &r.status) != 1) {
		close(fd);
		return -1;
	}
	if (status != NULL)
		*status = r.status;
	if (r.status != 200) {
		close(fd);
		return -1;
	}
	return fd;
}

void
harness_echo_roundtrip(const struct harness_proxy *p, int fd,
    const char *msg)
{
	char	buf[256];
	size_t	len = strlen(msg);
	ssize_t	n;

	ck_assert_uint_lt(len, sizeof(buf));
	ck_assert_int_eq(harness_send_str(fd, msg), 0);
	n = harness_recv_exact(fd, buf, len, harness_ms(10000));
	EXPECT(p, n == (ssize_t)len && memcmp(buf, msg, len) == 0,
	    "echo of \"%s\": got %zd bytes", msg, n);
}

void
harness_echo_bytes(const struct harness_proxy *p, int fd, size_t n)
{
	static unsigned char	out[65536], in[65536];

	ck_assert_uint_le(n, sizeof(out));
	harness_pattern_fill(out, n, 0);
	ck_assert_int_eq(harness_send(fd, out, n), 0);
	EXPECT(p, harness_recv_exact(fd, in, n, harness_ms(10000)) ==
	    (ssize_t)n && memcmp(in, out, n) == 0, "echo of %zu bytes", n);
}

void
harness_tunnel_end(int fd)
{
	shutdown(fd, SHUT_WR);
	ck_assert_int_ge(harness_wait_eof(fd, harness_ms(10000)), 0);
	close(fd);
}
