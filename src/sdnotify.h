/* SPDX-License-Identifier: ISC */
/*
 * The systemd service protocols without libsystemd: readiness, reload and
 * status notifications as datagrams on $NOTIFY_SOCKET (sd_notify(3)), and
 * socket activation from $LISTEN_PID/$LISTEN_FDS (sd_listen_fds(3)).
 * Only the master notifies: sdnotify_init() takes the socket for the
 * calling process and removes the variables, so forked workers cannot.
 */
#ifndef SDNOTIFY_H
#define SDNOTIFY_H

#include <stddef.h>

#define SDNOTIFY_MSG_MAX	4096	/* one datagram, without its NUL */
#define SDNOTIFY_FDS_MAX	64	/* LISTEN_FDS accepted at most */

/*
 * Read $NOTIFY_SOCKET ("/path" or "@abstract"), open a close-on-exec
 * datagram socket for it in the calling process, read $WATCHDOG_USEC (when
 * $WATCHDOG_PID is unset or is this process), then unset NOTIFY_SOCKET,
 * WATCHDOG_USEC and WATCHDOG_PID in every case.  Call it once in the
 * master before forking; a later call finds the variables gone and keeps
 * what the first found.  Returns 0, also when NOTIFY_SOCKET is unset
 * (every other call is then a no-op), or -1 with errno set (EAFNOSUPPORT
 * for an address other than a path or an abstract name, EINVAL for an
 * empty one, ENAMETOOLONG, or socket(2)'s) and notification disabled.
 */
int	sdnotify_init(void);

/*
 * Send one datagram of newline-separated KEY=VALUE assignments built from
 * fmt.  Only the process that called sdnotify_init() sends; anywhere else,
 * or when disabled, a no-op returning 0.  Returns 0, or -1 with errno set
 * (EMSGSIZE when longer than SDNOTIFY_MSG_MAX); never blocks.  Callers may
 * ignore the result: systemd's side is what times out.
 */
int	sdnotify_send(const char *fmt, ...)
	    __attribute__((__format__(__printf__, 1, 2)));

/*
 * The messages.  A `status` (may be NULL) is sent as STATUS= in the same
 * datagram, its control characters replaced by spaces so it stays one
 * assignment.
 *   ready:     "READY=1[\nSTATUS=...]", start-up or a reload finished;
 *   reloading: "RELOADING=1\nMONOTONIC_USEC=<CLOCK_MONOTONIC now, in us>";
 *   stopping:  "STOPPING=1[\nSTATUS=...]";
 *   status:    "STATUS=...";
 *   watchdog:  "WATCHDOG=1".
 */
int	sdnotify_ready(const char *status);
int	sdnotify_reloading(void);
int	sdnotify_stopping(const char *status);
int	sdnotify_status(const char *status);
int	sdnotify_watchdog(void);

/*
 * The watchdog interval in microseconds read by sdnotify_init(), or 0
 * when there is none (or no notify socket).  Ping at under half of it.
 */
long long sdnotify_watchdog_usec(void);

/*
 * Forget the notify socket in this process (for a worker right after
 * fork(): closes its inherited copy).  Sending is already a no-op there.
 */
void	sdnotify_close(void);

/*
 * Socket activation.  When $LISTEN_PID is this process and $LISTEN_FDS is
 * n > 0, check that each of fds 3 .. 3+n-1 is a listening SOCK_STREAM
 * socket of family AF_INET or AF_INET6, set FD_CLOEXEC on it, and return
 * them in a malloc'ed array *fds (the caller frees it and owns the fds),
 * in the order of the socket unit.  *n is 0 (and *fds NULL) when the
 * process was not activated.  LISTEN_PID, LISTEN_FDS and LISTEN_FDNAMES
 * are unset in every case.  Returns 0, or -1 with a message in err (a
 * malformed variable, a bad fd, more than SDNOTIFY_FDS_MAX fds).
 */
int	sdnotify_listen_fds(int **fds, size_t *n, char *err, size_t errlen);

#endif
