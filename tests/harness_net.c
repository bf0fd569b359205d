/* SPDX-License-Identifier: ISC */
/*
 * Addresses and ports of the end-to-end harness (see harness_net.h):
 * numeric addresses, free and closed loopback ports, listening sockets
 * seen in /proc, and the one-descriptor poll the others build on.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/types.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness_net.h"
#include "harness_time.h"

int
harness_sockaddr(const char *addr, int port, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, addr, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		sin->sin_port = htons((uint16_t)port);
		*len = sizeof(*sin);
		return AF_INET;
	}
	if (inet_pton(AF_INET6, addr, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		sin6->sin6_port = htons((uint16_t)port);
		*len = sizeof(*sin6);
		return AF_INET6;
	}
	return -1;
}

const char *
harness_loopback(int family)
{
	return family == AF_INET6 ? "::1" : "127.0.0.1";
}

int
harness_bind(const char *addr, int port, int *bound)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, family, on = 1;

	if ((family = harness_sockaddr(addr, port, &ss, &len)) == -1)
		return -1;
	fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	*bound = ntohs(family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	return fd;
}

#define FREE_PORT_WINDOW	16384	/* ports below the ephemeral range */
#define FREE_PORT_TRIES		200
#define FREE_PORT_RECENT	64

/* The first port the kernel picks for connect() and bind(0), or -1. */
static int
ephemeral_low(void)
{
	FILE	*f = fopen("/proc/sys/net/ipv4/ip_local_port_range", "r");
	int	 lo = -1;

	if (f != NULL) {
		if (fscanf(f, "%d", &lo) != 1)
			lo = -1;
		fclose(f);
	}
	return lo;
}

/*
 * A port from bind(0) lies in the ephemeral range, where any connect()
 * on the machine may take it as its source port between our close() and
 * the proxy's bind(): "Address already in use", seen often on a busy
 * machine.  So pick below that range, where only an explicit bind() can
 * collide, and never hand out a port twice in a row of FREE_PORT_RECENT.
 */
int
harness_free_port(int family)
{
	static int	 recent[FREE_PORT_RECENT];
	static unsigned	 nrecent, seed;
	int		 lo = ephemeral_low(), fd, port, i, k, bound;

	if (seed == 0)
		seed = (unsigned)getpid() * 2654435761u ^ (unsigned)time(NULL);
	for (i = 0; lo > 1024 + 1024 && i < FREE_PORT_TRIES; i++) {
		seed = seed * 1103515245u + 12345u;
		port = lo - 1 - (int)((seed >> 8) % (unsigned)(lo - 1024 <
		    FREE_PORT_WINDOW ? lo - 1024 : FREE_PORT_WINDOW));
		for (k = 0; k < FREE_PORT_RECENT && recent[k] != port; k++)
			continue;
		if (k < FREE_PORT_RECENT)
			continue;
		if ((fd = harness_bind(harness_loopback(family), port,
		    &bound)) == -1)
			continue;
		close(fd);
		recent[nrecent++ % FREE_PORT_RECENT] = port;
		return port;
	}
	if ((fd = harness_bind(harness_loopback(family), 0, &port)) == -1)
		return -1;
	close(fd);
	return port;
}

int
harness_closed_port(int family, int *holder)
{
	struct sockaddr_storage	ss;
	socklen_t		len;
	int			fd, port;

	/*
	 * Bound without SO_REUSEADDR and never listening: a connect() to
	 * it gets a reset, no later bind() can take it (the proxy's
	 * listener included), and the kernel never picks it as the source
	 * port of a connect(), which would connect the socket to itself.
	 */
	if (harness_sockaddr(harness_loopback(family), 0, &ss, &len) == -1)
		return -1;
	if ((fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0)) == -1)
		return -1;
	if (bind(fd, (struct sockaddr *)&ss, len) == -1 ||
	    getsockname(fd, (struct sockaddr *)&ss, &len) == -1) {
		close(fd);
		return -1;
	}
	port = ntohs(ss.ss_family == AF_INET6 ?
	    ((struct sockaddr_in6 *)&ss)->sin6_port :
	    ((struct sockaddr_in *)&ss)->sin_port);
	*holder = fd;
	return port;
}

int
harness_have_ipv6(void)
{
	int	fd, port;

	if ((fd = harness_bind("::1", 0, &port)) == -1)
		return 0;
	close(fd);
	return 1;
}

/* 1 when /proc/net/<file> lists a LISTEN socket on port. */
static int
proc_listens(const char *file, int port)
{
	FILE		*f;
	char		 line[512];
	unsigned	 lport, state;
	int		 found = 0, n = 0;

	if ((f = fopen(file, "r")) == NULL)
		return 0;
	while (!found && n++ < 100000 && fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');	/* "sl:" */
		if (colon == NULL || (colon = strchr(colon + 1, ':')) == NULL)
			continue;
		if (sscanf(colon + 1, "%x %*[0-9A-Fa-f]:%*x %x", &lport,
		    &state) == 2 && (int)lport == port && state == 0x0A)
			found = 1;
	}
	fclose(f);
	return found;
}

int
harness_wait_listen(int port, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;

	do {
		if (proc_listens("/proc/net/tcp", port) ||
		    proc_listens("/proc/net/tcp6", port))
			return 0;
		harness_pause_ms(HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

int
harness_wait_fd(int fd, short events, int timeout_ms)
{
	struct pollfd	pfd = { .fd = fd, .events = events };
	int		rc;

	do
		rc = poll(&pfd, 1, timeout_ms);
	while (rc == -1 && errno == EINTR);
	return rc;
}
