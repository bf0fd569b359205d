/* SPDX-License-Identifier: ISC */
/*
 * The set of listening sockets the master owns.  A reload builds the next
 * set from the new configuration, reusing the open socket of every address
 * that stays, so nothing queued on it is lost; only then are the sockets
 * of dropped addresses closed.
 */
#ifndef LISTENERS_H
#define LISTENERS_H

#include <stddef.h>

#include "config.h"

struct listener_set {
	int			*fds;
	struct listen_addr	*addrs;		/* addrs[i] is bound by fds[i] */
	size_t			 n;
	int			 inherited;	/* from socket activation */
};

/*
 * Open the listeners cfg asks for into `next`, reusing the socket of any
 * address `cur` (may be NULL) already has.  Every socket gets a 1 s
 * receive timeout (an idle worker's accept() returns to check on the
 * master) and is non-blocking when there are several (workers poll them),
 * and on Linux a TCP_DEFER_ACCEPT period within header_timeout (the
 * worker reads it back: worker.c).
 * On failure "listen ADDR: reason" is in err, everything opened here is
 * closed and cur is untouched.  Returns 0 or -1.
 */
int	listeners_open(const struct config *cfg, const struct listener_set *cur,
	    struct listener_set *next, char *err, size_t errlen);

/*
 * Adopt already-listening sockets (socket activation) as a set: they
 * replace the listen directives and are kept across reloads.  `fds` is
 * copied.  Returns 0 or -1.
 */
int	listeners_adopt(const int *fds, size_t n, struct listener_set *set);

/*
 * Make cfg's listen list name the sockets of `set` (activated ones), so
 * that the policy's "own address" denial follows them.  A socket takes
 * the options (proxy_protocol) of the listen line with its address, and
 * none when no line has it.  Returns 0 or -1.
 */
int	listeners_to_config(struct listener_set *set, struct config *cfg);

/*
 * Connections waiting in the accept queues of `set`, where the system
 * tells (Linux: TCP_INFO on a listening socket); 0 elsewhere.
 */
unsigned listeners_queued(const struct listener_set *set);

/* Close the sockets of `old` that `next` does not share, and free old. */
void	listeners_retire(struct listener_set *old,
	    const struct listener_set *next);

/* Close every socket of set and free it. */
void	listeners_close(struct listener_set *set);

#endif
