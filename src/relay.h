/* SPDX-License-Identifier: ISC */
/*
 * The tunnel relay: moves bytes both ways between two connected sockets
 * with poll(), non-blocking I/O and one bounded buffer per direction.
 */
#ifndef RELAY_H
#define RELAY_H

#include <signal.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

enum relay_end {
	RELAY_CLIENT_EOF,	/* the client closed first, then the tunnel drained */
	RELAY_SERVER_EOF,	/* the target closed first */
	RELAY_IDLE,		/* no byte either way for idle_timeout */
	RELAY_ERROR,		/* a read or write failed (reset, ...) */
	RELAY_SHUTDOWN		/* *stop became non-zero */
};

/* Atomic: they may live in the scoreboard, read while the relay runs. */
struct relay_stats {
	_Atomic uint64_t	up;	/* client to target */
	_Atomic uint64_t	down;	/* target to client */
};

struct relay_buffers {
	char	*up;	/* each `size` bytes, owned by the caller */
	char	*down;
	size_t	 size;
	/*
	 * Optional (NULL): the caller's request buffer, given back with the
	 * two above when the tunnel goes quiet.  The early bytes may point
	 * into it; they have been delivered by then.
	 */
	char	*head;
	size_t	 head_size;
};

/* Bits of relay_run()'s *linger: sides to close with a lingering close. */
#define RELAY_LINGER_CLIENT	0x01
#define RELAY_LINGER_SERVER	0x02

/*
 * Relay between `client` and `server` until both directions have ended,
 * the tunnel is idle for idle_ms, an error occurs, or *stop is set (checked
 * whenever poll() returns, EINTR included).  `early`/`early_len` are bytes
 * the client sent after its request head; they go to the server first.
 * Both sockets must be non-blocking already (the worker's are, from
 * accept4() and socket()); they are not closed.  An EOF on
 * one side becomes shutdown(SHUT_WR) on the other once everything read
 * from it has been written; the other direction keeps flowing.  A side
 * that closed in order and then refused our bytes (EPIPE) ends only the
 * direction toward it: what its peer still sends is discarded while the
 * other direction delivers what it holds.  At most bufs->size bytes are
 * held per direction.  *st is updated as bytes are written.  Returns why
 * the relay ended; *linger gets RELAY_LINGER_CLIENT/SERVER for a side
 * that may still be sending, which a plain close() would reset, losing
 * what is queued toward it (0 for a tunnel that ended otherwise).  A
 * reset without an orderly close first, or any other failure, ends the
 * relay as RELAY_ERROR with both sockets set to reset when closed
 * (SO_LINGER 0): bytes were lost, and a FIN would tell a peer its stream
 * ended complete.
 */
enum relay_end relay_run(int client, int server, const char *early,
	    size_t early_len, const struct relay_buffers *bufs,
	    long long idle_ms, volatile sig_atomic_t *stop,
	    struct relay_stats *st, int *linger);

/*
 * Give the whole pages inside buf[0..len) back to the system: they read
 * as zeroes when next touched.  The relay does it to its buffers after a
 * second without traffic; a worker does it while it waits for a client.
 */
void	relay_discard(void *buf, size_t len);

/*
 * Give back the stack pages below the caller's frame, which deeper calls
 * dirtied earlier and nothing uses now (Linux; elsewhere a no-op).  Done
 * with relay_discard(), so an idle worker keeps a shallow stack.
 */
void	relay_discard_stack(void) __attribute__((noinline));

/* "client_eof", "server_eof", "idle", "error", "shutdown". */
const char	*relay_end_name(enum relay_end end);

#endif
