/* SPDX-License-Identifier: ISC */
/*
 * Addresses and ports of the end-to-end harness: loopback ports that are
 * free or that refuse, whether IPv6 is there, waiting for a port to
 * listen; and the socket building blocks of the client and target parts.
 */
#ifndef HARNESS_NET_H
#define HARNESS_NET_H

#include <sys/socket.h>

/*
 * A port free on the loopback address of `family` (AF_INET, AF_INET6),
 * below the kernel's ephemeral range, so that no connect() takes it before
 * the caller binds it; not one of the last 64 this process handed out.
 */
int	harness_free_port(int family);
/*
 * A port that refuses connections for as long as *holder (which the
 * caller closes) stays open: unlike a free port, nothing can take it
 * in the meantime.
 */
int	harness_closed_port(int family, int *holder);
/* 1 when ::1 can be bound on this machine. */
int	harness_have_ipv6(void);
/* Wait until some socket listens on TCP `port`.  Returns 0 or -1. */
int	harness_wait_listen(int port, int timeout_ms);

/* Building blocks of the harness's other files. */
/*
 * Numeric `addr` (IPv4 or IPv6) and port into *ss and *len.  Returns the
 * address family, or -1 when addr is not numeric.
 */
int	harness_sockaddr(const char *addr, int port,
	    struct sockaddr_storage *ss, socklen_t *len);
/* The loopback address of `family`: "::1" or "127.0.0.1". */
const char *harness_loopback(int family);
/*
 * A bound (not listening) socket on numeric addr:port (0 for any), with
 * SO_REUSEADDR; *bound gets the port.  Returns the fd, or -1.
 */
int	harness_bind(const char *addr, int port, int *bound);
/* poll() one fd, again on EINTR: >0 ready, 0 timed out, -1 error. */
int	harness_wait_fd(int fd, short events, int timeout_ms);

#endif
