/* SPDX-License-Identifier: ISC */
/*
 * Clients of the end-to-end harness: raw TCP connections to the proxy
 * or to a target, sends and reads that each have a deadline, response
 * heads, and CONNECT tunnels.  External clients (curl, openssl) run
 * through harness_run() (harness_proc.h).
 */
#ifndef HARNESS_CLIENT_H
#define HARNESS_CLIENT_H

#include <stddef.h>
#include <sys/types.h>

#define HARNESS_HEAD_MAX	4096

struct harness_proxy;

/* A parsed response read by harness_read_response(). */
struct harness_response {
	int	status;			/* 0 when no status line was read */
	char	head[HARNESS_HEAD_MAX];	/* NUL-terminated, with the empty line */
	size_t	head_len;
	char	body[HARNESS_HEAD_MAX];	/* Content-Length octets, NUL-terminated */
	size_t	body_len;
	long	content_length;		/* -1 when absent */
};

/* Connect to numeric `addr`:port within timeout.  Returns fd or -1. */
int	harness_connect(const char *addr, int port, int timeout_ms);
/*
 * A TCP connection from numeric source address src to 127.0.0.1:port.
 * timeout_ms >= 0: wait that long for it and return it blocking; < 0:
 * return it non-blocking, the connect perhaps still in progress.
 * Returns the fd, or -1.
 */
int	harness_connect_from(const char *src, int port, int timeout_ms);
/* Send all of buf (MSG_NOSIGNAL).  Returns 0 or -1. */
int	harness_send(int fd, const void *buf, size_t len);
int	harness_send_str(int fd, const char *s);
/* Read exactly len bytes.  Returns len, fewer at EOF, or -1. */
ssize_t	harness_recv_exact(int fd, void *buf, size_t len, int timeout_ms);
/*
 * Read a response head byte by byte up to the empty line, so bytes after
 * it stay in the socket.  NUL-terminates.  Returns the head length, 0 at
 * EOF before anything, or -1 (timeout, error, too long).
 */
ssize_t	harness_recv_head(int fd, char *buf, size_t len, int timeout_ms);
/* Head plus Content-Length body into r.  Returns 0 or -1. */
int	harness_read_response(int fd, struct harness_response *r,
	    int timeout_ms);
/*
 * Wait for EOF (or a reset), discarding data.  Returns the number of
 * bytes discarded before EOF, or -1 on timeout.
 */
ssize_t	harness_wait_eof(int fd, int timeout_ms);
/* Value of header `name` (case-insensitive) in head.  Returns 0 or -1. */
int	harness_header(const char *head, const char *name, char *val,
	    size_t len);
/*
 * Connect to the proxy at 127.0.0.1:proxy_port, send "CONNECT target"
 * with a Host field plus `early` (may be NULL) in one write, and read a
 * 200 head.  Returns the tunnel fd, or -1 (the status seen, if any, in
 * *status; status may be NULL).
 */
int	harness_tunnel(int proxy_port, const char *target, const char *early,
	    int *status, int timeout_ms);
/*
 * Send msg (at most 255 bytes) through a tunnel to an echo target and
 * expect it back; fails the test, with the proxy's log, otherwise.
 */
void	harness_echo_roundtrip(const struct harness_proxy *p, int fd,
	    const char *msg);
/*
 * Send n (at most 64 KiB) pattern bytes through a tunnel to an echo
 * target and expect them back; fails the test, with the log, otherwise.
 */
void	harness_echo_bytes(const struct harness_proxy *p, int fd, size_t n);
/* Half-close a tunnel, wait (10 s at most) for the other end's EOF,
 * close it: an echo target's tunnel ends in order (client_eof). */
void	harness_tunnel_end(int fd);

#endif
