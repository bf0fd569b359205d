/* SPDX-License-Identifier: ISC */
/*
 * loadgen helpers: numeric, loopback-only addresses (anything else is
 * refused, so the benchmark can never send a byte off this host), the
 * monotonic clock, the hard wall-clock cap, blocking I/O bounded by socket
 * timeouts, the CONNECT handshake and percentiles.
 */
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>

#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "lg.h"

int
lg_is_loopback(const struct sockaddr *sa)
{
	const struct sockaddr_in	*s4;
	const struct sockaddr_in6	*s6;

	if (sa->sa_family == AF_INET) {
		s4 = (const struct sockaddr_in *)(const void *)sa;
		return (ntohl(s4->sin_addr.s_addr) >> 24) == 127;
	}
	if (sa->sa_family == AF_INET6) {
		s6 = (const struct sockaddr_in6 *)(const void *)sa;
		return IN6_IS_ADDR_LOOPBACK(&s6->sin6_addr);
	}
	return 0;
}

/* Split "HOST:PORT" or "[HOST]:PORT"; host is copied without brackets. */
static int
split_hostport(const char *s, char *host, size_t hostlen, unsigned long *port)
{
	const char	*colon, *h = s, *end;
	char		*ep;
	size_t		 n;

	if ((colon = strrchr(s, ':')) == NULL)
		return -1;
	end = colon;
	if (*s == '[') {
		if (colon == s || colon[-1] != ']')
			return -1;
		h = s + 1;
		end = colon - 1;
	}
	if ((n = (size_t)(end - h)) == 0 || n >= hostlen)
		return -1;
	memcpy(host, h, n);
	host[n] = '\0';
	if (colon[1] < '0' || colon[1] > '9')
		return -1;
	errno = 0;
	*port = strtoul(colon + 1, &ep, 10);
	if (*ep != '\0' || errno != 0 || *port > 65535)
		return -1;
	return 0;
}

/*
 * Parse a numeric loopback address into a.  Names are never resolved.
 * Port 0 only when zero_ok (a listener picking its port).  Returns 0, or
 * -1 after a message on stderr.
 */
int
lg_addr_parse(const char *s, int zero_ok, struct lg_addr *a)
{
	struct sockaddr_in	*s4 = (struct sockaddr_in *)(void *)&a->ss;
	struct sockaddr_in6	*s6 = (struct sockaddr_in6 *)(void *)&a->ss;
	char			 host[LG_ADDRSTR - 2];	/* room for [] */
	unsigned long		 port;

	memset(a, 0, sizeof(*a));
	if (split_hostport(s, host, sizeof(host), &port) == -1 ||
	    (port == 0 && !zero_ok)) {
		fprintf(stderr, "loadgen: %s: not ADDR:PORT\n", s);
		return -1;
	}
	if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
		s4->sin_family = AF_INET;
		s4->sin_port = htons((unsigned short)port);
		a->len = sizeof(*s4);
		snprintf(a->host, sizeof(a->host), "%s", host);
	} else if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((unsigned short)port);
		a->len = sizeof(*s6);
		snprintf(a->host, sizeof(a->host), "[%s]", host);
	} else {
		fprintf(stderr, "loadgen: %s: not a numeric address\n", s);
		return -1;
	}
	if (!lg_is_loopback((struct sockaddr *)&a->ss)) {
		fprintf(stderr, "loadgen: %s: not loopback (127.0.0.0/8 or "
		    "::1), refused\n", s);
		return -1;
	}
	a->port = (unsigned)port;
	return 0;
}

long long
lg_now_ns(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

static void
on_alarm(int sig)
{
	static const char	msg[] = "loadgen: wall-clock cap reached\n";

	(void)sig;
	(void)write(STDERR_FILENO, msg, sizeof(msg) - 1);
	_exit(3);
}

/* The hard cap: whatever is blocked or looping, the process ends. */
void
lg_cap(unsigned secs)
{
	struct sigaction	sa;

	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_handler = on_alarm;
	sigaction(SIGALRM, &sa, NULL);
	sa.sa_handler = SIG_IGN;
	sigaction(SIGPIPE, &sa, NULL);
	alarm(secs);
}

/* Raise the soft fd limit towards need (up to the hard limit). */
int
lg_raise_nofile(long need)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
		rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ||
		    rl.rlim_max > (rlim_t)need ? (rlim_t)need : rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
	if (getrlimit(RLIMIT_NOFILE, &rl) == -1)
		return -1;
	if (rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < (rlim_t)need) {
		fprintf(stderr, "loadgen: need %ld descriptors, limit is %llu "
		    "(raise ulimit -n)\n", need, (unsigned long long)rl.rlim_cur);
		return -1;
	}
	return 0;
}

/* Bound every blocking call on fd, connect() included (SO_SNDTIMEO). */
int
lg_set_timeouts(int fd, long long ms)
{
	struct timeval	tv;

	tv.tv_sec = (time_t)(ms / 1000);
	tv.tv_usec = (suseconds_t)(ms % 1000) * 1000;
	if (setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv)) == -1)
		return -1;
	return 0;
}

/*
 * A TCP socket connected (or, nonblock, connecting) to a, with
 * TCP_NODELAY as a browser sets it.  A blocking socket gets timeout_ms on
 * every call.  Returns the fd, or -1 with errno set.
 */
int
lg_connect(const struct lg_addr *a, int nonblock, long long timeout_ms)
{
	int	fd, on = 1, saved;

	if (!lg_is_loopback((const struct sockaddr *)&a->ss)) {
		errno = EPERM;
		return -1;
	}
	if ((fd = socket(a->ss.ss_family, SOCK_STREAM, 0)) == -1)
		return -1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof(on));
	if (nonblock && fcntl(fd, F_SETFL, O_NONBLOCK) == -1)
		goto fail;
	if (!nonblock && lg_set_timeouts(fd, timeout_ms) == -1)
		goto fail;
	if (connect(fd, (const struct sockaddr *)&a->ss, a->len) == -1 &&
	    !(nonblock && errno == EINPROGRESS))
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

/* The CONNECT request for target t, as curl -p sends it. */
size_t
lg_connect_request(char *buf, size_t len, const struct lg_addr *t)
{
	int	n;

	n = snprintf(buf, len, "CONNECT %s:%u HTTP/1.1\r\nHost: %s:%u\r\n"
	    "User-Agent: connectproxy-loadgen\r\n\r\n", t->host, t->port,
	    t->host, t->port);
	return n < 0 || (size_t)n >= len ? 0 : (size_t)n;
}

/*
 * Judge a proxy's answer so far: 0 when the head is incomplete, 1 for a
 * complete 2xx head with nothing after it (the target speaks only when
 * spoken to), -1 otherwise.
 */
int
lg_head_check(const char *buf, size_t len)
{
	const char	*end = NULL;
	size_t		 i;

	for (i = 0; i + 3 < len; i++)
		if (memcmp(buf + i, "\r\n\r\n", 4) == 0) {
			end = buf + i + 4;
			break;
		}
	if (end == NULL)
		return len >= LG_HEAD_MAX ? -1 : 0;
	if (len < 12 || memcmp(buf, "HTTP/1.", 7) != 0 || buf[9] != '2')
		return -1;
	return end == buf + len ? 1 : -1;
}

/* Read a proxy's answer head, byte runs as they come, bounded in size. */
static int
read_head(int fd)
{
	char	buf[LG_HEAD_MAX];
	size_t	len = 0;
	ssize_t	n;
	int	r;

	for (;;) {
		n = recv(fd, buf + len, sizeof(buf) - len, 0);
		if (n <= 0) {
			if (n == 0)
				errno = ECONNRESET;
			return -1;
		}
		len += (size_t)n;
		if ((r = lg_head_check(buf, len)) != 0)
			break;
	}
	if (r == -1) {
		errno = EPROTO;
		return -1;
	}
	return 0;
}

/*
 * A blocking tunnel to the target: through the proxy with CONNECT when
 * one is set, else straight to the target.  Returns the fd or -1.
 */
int
lg_open_tunnel(const struct lg_opts *o, long long timeout_ms)
{
	char	req[512];
	size_t	len;
	int	fd, saved;

	if (!o->has_proxy)
		return lg_connect(&o->target, 0, timeout_ms);
	if ((fd = lg_connect(&o->proxy, 0, timeout_ms)) == -1)
		return -1;
	len = lg_connect_request(req, sizeof(req), &o->target);
	if (lg_write_all(fd, req, len) == -1 || read_head(fd) == -1)
		goto fail;
	return fd;
fail:
	saved = errno;
	close(fd);
	errno = saved;
	return -1;
}

int
lg_write_all(int fd, const void *p, size_t n)
{
	const char	*c = p;
	ssize_t		 r;

	while (n > 0) {
		if ((r = send(fd, c, n, MSG_NOSIGNAL)) == -1) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

int
lg_read_full(int fd, void *p, size_t n)
{
	char	*c = p;
	ssize_t	 r;

	while (n > 0) {
		if ((r = recv(fd, c, n, 0)) <= 0) {
			if (r == -1 && errno == EINTR)
				continue;
			if (r == 0)
				errno = ECONNRESET;
			return -1;
		}
		c += r;
		n -= (size_t)r;
	}
	return 0;
}

void
lg_put64(unsigned char *p, uint64_t v)
{
	int	i;

	for (i = 7; i >= 0; i--, v >>= 8)
		p[i] = (unsigned char)(v & 0xff);
}

uint64_t
lg_get64(const unsigned char *p)
{
	uint64_t	v = 0;
	int		i;

	for (i = 0; i < 8; i++)
		v = v << 8 | p[i];
	return v;
}

static int
cmp_ll(const void *a, const void *b)
{
	long long	x = *(const long long *)a, y = *(const long long *)b;

	return (x > y) - (x < y);
}

void
lg_sort(long long *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_ll);
}

/* Nearest-rank percentile p (0..1] of a sorted array; 0 when empty. */
long long
lg_pct(const long long *v, size_t n, double p)
{
	size_t	k;

	if (n == 0)
		return 0;
	k = (size_t)(p * (double)n + 0.999999);
	if (k < 1)
		k = 1;
	return v[(k > n ? n : k) - 1];
}

/*
 * A listening socket on `a` (port 0: any), its address in *bound.  Used
 * by the echo target and the floor proxy; blocking.  Returns the
 * descriptor, or -1 with a message.
 */
int
lg_listen(const struct lg_addr *a, struct lg_addr *bound)
{
	int	fd, on = 1;

	*bound = *a;
	if ((fd = socket(a->ss.ss_family, SOCK_STREAM, 0)) == -1 ||
	    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on)) == -1 ||
	    bind(fd, (const struct sockaddr *)&a->ss, a->len) == -1 ||
	    listen(fd, 4096) == -1 ||
	    getsockname(fd, (struct sockaddr *)&bound->ss, &bound->len) == -1) {
		perror("loadgen: listen");
		return -1;
	}
	bound->port = ntohs(bound->ss.ss_family == AF_INET ?
	    ((struct sockaddr_in *)(void *)&bound->ss)->sin_port :
	    ((struct sockaddr_in6 *)(void *)&bound->ss)->sin6_port);
	return fd;
}
