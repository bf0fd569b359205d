/* SPDX-License-Identifier: ISC */
/*
 * Target servers of the end-to-end harness: what a tunnel reaches.  Each
 * runs in a forked child, reports what it saw on a pipe, and sends or
 * checks a known byte pattern, so a test sees every byte arrive in order.
 */
#ifndef HARNESS_TARGET_H
#define HARNESS_TARGET_H

#include <stddef.h>
#include <sys/types.h>

enum harness_target_mode {
	HARNESS_TARGET_ECHO,	/* echo until EOF, then half-close */
	HARNESS_TARGET_SEND,	/* send `count` pattern bytes, half-close,
				   then read until EOF checking the pattern */
	HARNESS_TARGET_COUNT,	/* read until EOF checking the pattern, then
				   answer "recv=N ok=B\n" and close */
	HARNESS_TARGET_SILENT,	/* accept, never speak, hold until EOF */
	HARNESS_TARGET_SEND_CLOSE /* send `count` pattern bytes, half-close,
				   wait until the peer acknowledged them all,
				   then close without reading */
};

/*
 * A target server in a forked child.  It reports on `report` (read end,
 * non-blocking) one line per event: "accept PEERPORT" for each
 * connection, and for SEND and COUNT "done recv=N ok=B" at the end of
 * each connection (ok=1 when every byte matched the pattern); SEND_CLOSE
 * reports "done acked=B" once it closed (1: every byte was acknowledged
 * first; 0: its send queue did not empty within 10 s; -1: a send failed).
 */
struct harness_target {
	pid_t	pid;
	int	port;
	int	family;
	char	addr[64];		/* numeric listen address */
	int	report;
	char	rbuf[8192];		/* report bytes read, not yet consumed */
	size_t	rlen;
};

/*
 * Start a target server on `addr` (numeric; NULL for the loopback of
 * `family`), port `port` (0 for any).  `count` is the byte count of
 * HARNESS_TARGET_SEND.  Returns 0 or -1.
 */
int	harness_target_start(struct harness_target *t, int family,
	    const char *addr, int port, enum harness_target_mode mode,
	    size_t count);
/* Kill the target (by pid) and close its report pipe. */
void	harness_target_stop(struct harness_target *t);
/*
 * Wait for the next report line starting with `prefix` (earlier lines
 * that do not match are dropped).  Returns 0 with the line in out, or -1.
 */
int	harness_target_line(struct harness_target *t, const char *prefix,
	    char *out, size_t len, int timeout_ms);
/*
 * Whether the target was never contacted so far: connects directly and
 * checks that its own connection is the first one the target accepted.
 * Returns 1 untouched, 0 contacted before, -1 error.
 */
int	harness_target_untouched(struct harness_target *t);
/*
 * An echo target (as HARNESS_TARGET_ECHO) for many connections at once:
 * one process polls up to `max` of them instead of forking per
 * connection; it writes no report lines.  Needs RLIMIT_NOFILE above max.
 * Stop it with harness_target_stop().  Returns 0 or -1.
 */
int	harness_echo_many_start(struct harness_target *t, int max);

/* Pattern byte at stream offset `off`, and a fill/check of a buffer. */
unsigned char harness_pattern_byte(size_t off);
void	harness_pattern_fill(unsigned char *buf, size_t len, size_t off);
/* Index of the first mismatch, or (size_t)-1 when all match. */
size_t	harness_pattern_check(const unsigned char *buf, size_t len,
	    size_t off);

/* Building blocks of the harness's other files. */
/* One line to a report pipe, in one write(); a full pipe drops it. */
void	harness_report(int fd, const char *line);

#endif
