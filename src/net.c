/* SPDX-License-Identifier: ISC */
/*
 * The socket module: numeric address parsing and formatting, listeners,
 * non-blocking and Nagle switches, the monotonic and wall clocks,
 * net_wait() (the one poll() loop up to a deadline), deadline-bound
 * writes and the lingering close that lets a client read our last answer.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"

/* The longest single poll() of net_wait(). */
#define NET_WAIT_SLICE_MS	1000

int
net_parse_decimal(const char *s, size_t n, unsigned digits, unsigned max,
    unsigned *out)
{
	unsigned	v = 0;
	size_t		i;

	if (n == 0 || n > digits || (n > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (unsigned)(s[i] - '0');
	}
	if (v > max)
		return -1;
	*out = v;
	return 0;
}

static int
parse_port(const char *s, in_port_t *port)
{
	unsigned long	 v = 0;
	size_t		 n;

	for (n = 0; s[n] != '\0'; n++) {
		if (s[n] < '0' || s[n] > '9' || n >= 5)
			return -1;
		v = v * 10 + (unsigned long)(s[n] - '0');
	}
	if (n == 0 || v == 0 || v > 65535)
		return -1;
	*port = htons((in_port_t)v);
	return 0;
}

int
net_parse_addrport(const char *s, struct sockaddr_storage *ss, socklen_t *len)
{
	char			 host[INET6_ADDRSTRLEN + 2];
	const char		*colon;
	size_t			 hlen;
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	hlen = (size_t)(colon - s);
	if (hlen == 0 || hlen >= sizeof(host))
		return -1;
	memcpy(host, s, hlen);
	host[hlen] = '\0';
	if (host[0] == '[') {
		if (hlen < 3 || host[hlen - 1] != ']')
			return -1;
		host[hlen - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &sin6->sin6_addr) != 1 ||
		    parse_port(colon + 1, &sin6->sin6_port) == -1)
			return -1;
		sin6->sin6_family = AF_INET6;
		*len = sizeof(*sin6);
		return 0;
	}
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1 ||
	    parse_port(colon + 1, &sin->sin_port) == -1)
		return -1;
	sin->sin_family = AF_INET;
	*len = sizeof(*sin);
	return 0;
}

const char *
net_format(const struct sockaddr *sa, char *buf, size_t len)
{
	char	ip[INET6_ADDRSTRLEN];

	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *sin = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &sin->sin_addr, ip, sizeof(ip));
		snprintf(buf, len, "%s:%u", ip, ntohs(sin->sin_port));
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *sin6 = (const struct sockaddr_in6 *)sa;

		inet_ntop(AF_INET6, &sin6->sin6_addr, ip, sizeof(ip));
		snprintf(buf, len, "[%s]:%u", ip, ntohs(sin6->sin6_port));
	} else
		snprintf(buf, len, "unknown");
	return buf;
}

int
net_listen(const struct sockaddr *sa, socklen_t len, int backlog)
{
	int	fd, on = 1, saved;

	fd = socket(sa->sa_family, SOCK_STREAM, 0);
	if (fd == -1)
		return -1;
	if (fcntl(fd, F_SETFD, FD_CLOEXEC) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1)
		goto fail;
	if (sa->sa_family == AF_INET6 && setsockopt(fd, IPPROTO_IPV6,
	    IPV6_V6ONLY, &on, sizeof(on)) == -1)
		goto fail;
	if (bind(fd, sa, len) == -1 || listen(fd, backlog) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
net_set_nonblock(int fd, int on)
{
	int	flags;

	if ((flags = fcntl(fd, F_GETFL)) == -1)
		return -1;
	/* Already so (accept4() made it non-blocking): no second call. */
	if (((flags & O_NONBLOCK) != 0) == (on != 0))
		return 0;
	flags = on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK;
	return fcntl(fd, F_SETFL, flags);
}

void
net_set_nodelay(int fd)
{
	int	on = 1;

	/* Tunnels carry interactive protocols (TLS handshakes, SSH). */
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
}

static long long
clock_ms(clockid_t clock)
{
	struct timespec	ts;

	clock_gettime(clock, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

long long
net_mono_ms(void)
{
	return clock_ms(CLOCK_MONOTONIC);
}

long long
net_wall_ms(void)
{
	return clock_ms(CLOCK_REALTIME);
}

int
net_wait(int fd, short events, long long deadline,
    const volatile sig_atomic_t *stop)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	long long	left;
	int		n;

	for (;;) {
		if (stop != NULL && *stop) {
			errno = EINTR;
			return -1;
		}
		if ((left = deadline - net_mono_ms()) <= 0)
			return 0;
		n = poll(&pfd, 1, left > NET_WAIT_SLICE_MS ? NET_WAIT_SLICE_MS :
		    (int)left);
		if (n > 0)
			return pfd.revents;
		if (n == -1 && errno != EINTR)
			return -1;
	}
}

int
net_write_all(int fd, const void *buf, size_t len, long long deadline)
{
	const char	*p = buf;
	ssize_t		 n;
	int		 r;

	while (len > 0) {
		n = send(fd, p, len, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (n > 0) {
			p += n;
			len -= (size_t)n;
			continue;
		}
		if (n == -1 && errno != EAGAIN && errno != EWOULDBLOCK &&
		    errno != EINTR)
			return -1;
		if ((r = net_wait(fd, POLLOUT, deadline, NULL)) <= 0) {
			if (r == 0)
				errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

void
net_lingering_close(int fd, long long linger_ms)
{
	char		buf[4096];
	long long	deadline = net_mono_ms() + linger_ms;
	size_t		total = 0;
	ssize_t		n;

	if (shutdown(fd, SHUT_WR) == 0) {
		/*
		 * Read before waiting: what has already arrived is dropped even
		 * with no time to linger (linger_ms 0), since close() with
		 * unread bytes sends a reset instead of our FIN.  Bounded in
		 * time and bytes, so a flooding peer cannot hold us.
		 */
		while (total < 1024 * 1024) {
			n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			if (n > 0) {
				total += (size_t)n;
				continue;
			}
			if (n == 0 || (errno != EAGAIN &&
			    errno != EWOULDBLOCK && errno != EINTR) ||
			    net_wait(fd, POLLIN, deadline, NULL) <= 0)
				break;
		}
	}
	close(fd);
}

int
net_send_rest(int fd, const char *buf, size_t len, size_t *off)
{
	ssize_t	n;

	n = send(fd, buf + *off, len - *off, MSG_DONTWAIT | MSG_NOSIGNAL);
	if (n == -1)
		return (errno == EAGAIN || errno == EWOULDBLOCK ||
		    errno == EINTR) ? 0 : -1;
	return (*off += (size_t)n) == len;
}

void
net_close_now(int fd)
{
	(void)shutdown(fd, SHUT_RDWR);
	(void)close(fd);
}
