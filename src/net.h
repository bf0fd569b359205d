/* SPDX-License-Identifier: ISC */
/*
 * The socket module, shared by the master, the workers and the dialer:
 * address parsing and formatting, listeners, the non-blocking and Nagle
 * switches, the clocks, the one wait every deadline on a socket goes
 * through, deadline-bound writes, the lingering close.
 */
#ifndef NET_H
#define NET_H

#include <signal.h>
#include <stddef.h>
#include <sys/socket.h>
#include <sys/types.h>

#define NET_ADDRSTR	64	/* fits "[ipv6]:port" */

/*
 * Parse a numeric "1.2.3.4:80" or "[::1]:80" (port 1-65535, required).
 * Returns 0 or -1.
 */
/*
 * A decimal number of 1 to `digits` digits, without sign or leading zero
 * (but "0"), so that nothing reads as octal, and at most max: s[0, n).
 * 0 with *out set, or -1.
 */
int	net_parse_decimal(const char *s, size_t n, unsigned digits,
	    unsigned max, unsigned *out);
int	net_parse_addrport(const char *s, struct sockaddr_storage *ss,
	    socklen_t *len);

/* "ip:port" or "[ip]:port" into buf; returns buf. */
const char *net_format(const struct sockaddr *sa, char *buf, size_t len);

/*
 * Bind and listen on sa with SO_REUSEADDR (and IPV6_V6ONLY for IPv6, so
 * [::] and 0.0.0.0 can both be listed), close-on-exec.  Returns the fd
 * or -1 with errno set.
 */
int	net_listen(const struct sockaddr *sa, socklen_t len, int backlog);

int	net_set_nonblock(int fd, int on);
void	net_set_nodelay(int fd);

/*
 * The two clocks, named by kind.  net_mono_ms(): milliseconds on
 * CLOCK_MONOTONIC, for every deadline and duration (it never jumps).
 * net_wall_ms(): milliseconds since the epoch on CLOCK_REALTIME, for
 * what a person or another process reads as a date (access records, the
 * status table); never for a deadline, since setting the clock moves it.
 */
long long net_mono_ms(void);
long long net_wall_ms(void);

/*
 * Wait until fd reports one of `events` (POLLIN, POLLOUT) or an error,
 * until the monotonic deadline (ms) passes, or until *stop is set (stop
 * may be NULL).  poll() runs in slices of at most a second, so a flag
 * set by a signal that came just before a poll() is still seen within a
 * second; a signal that interrupts poll() (EINTR) is otherwise ridden
 * out.  Returns the revents seen (> 0), 0 at the deadline, or -1 with
 * errno: EINTR when *stop was set, poll()'s own error otherwise.
 */
int	net_wait(int fd, short events, long long deadline,
	    const volatile sig_atomic_t *stop);

/*
 * Write all of buf before the monotonic deadline (ms), polling on
 * EAGAIN.  Returns 0, or -1 with errno set (ETIMEDOUT at the deadline).
 */
int	net_write_all(int fd, const void *buf, size_t len, long long deadline);

/*
 * Half-close our side, then read and discard what the peer still sends,
 * for at most linger_ms or until EOF, then close.  Lets the peer read our
 * last response before any RST can destroy it.  Bytes already received
 * are read even when linger_ms is 0: close at once, without a reset for
 * what the peer sent before our answer.
 */
void	net_lingering_close(int fd, long long linger_ms);
/*
 * The master's own clients (control socket, metrics), on non-blocking
 * sockets.  net_send_rest() sends what is left of buf[*off, len) as far
 * as the socket takes it: 1 when all is out, 0 when some is left for the
 * next POLLOUT, -1 when the connection failed.  net_close_now() shuts a
 * client down before closing it, so that a copy of the descriptor in a
 * child cannot hold the connection open.
 */
int	net_send_rest(int fd, const char *buf, size_t len, size_t *off);
void	net_close_now(int fd);

#endif
