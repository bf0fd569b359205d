/* SPDX-License-Identifier: ISC */
/*
 * The scoreboard: one slot per possible worker in anonymous shared memory,
 * created by the master before the first fork.  Each field has a single
 * writer at a time: the master at spawn and after reaping, the worker in
 * between.  Readers (the master, workers counting a client's tunnels, the
 * status view) read atomics, and the text fields under a sequence lock.
 *
 * Every worker can write all of it, and a worker may be compromised: it
 * runs as `user` and parses what any client sends.  So the shared memory
 * holds nothing the master acts on.  The pid, generation, retire time and
 * slot count of each worker live in the master's own table (struct
 * sb_table), which no worker can reach; what the master and the status
 * view do read here (states, counters, text) is validated, bounded or
 * saturated by the functions below, never trusted as written.
 */
#ifndef SCOREBOARD_H
#define SCOREBOARD_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>
#include <sys/types.h>

#include "net.h"
#include "relay.h"
#include "request.h"

enum sb_state {
	SB_FREE,	/* no process */
	SB_STARTING,	/* forked, not yet in accept() */
	SB_IDLE,	/* waiting in accept() */
	SB_READING,	/* reading the request head */
	SB_CONNECTING,	/* policy, resolution, connect */
	SB_RELAYING,	/* tunnel open */
	SB_CLOSING,	/* refusing or tearing down, then logging */
	SB_RESERVE	/* the when_full reject process */
};

/* What a worker reports of itself: untrusted (see above). */
struct sb_slot {
	atomic_int		state;		/* enum sb_state */
	atomic_ullong		client_hi;	/* client address as IPv6, */
	atomic_ullong		client_lo;	/* IPv4 mapped: for limits */
	atomic_llong		start_ms;	/* tunnel start, realtime ms */
	atomic_ullong		served;		/* tunnels served */
	struct relay_stats	bytes;		/* of the current tunnel */
	atomic_uint		seq;		/* odd while text is written */
	char			client[NET_ADDRSTR];
	char			target[REQUEST_TARGET_MAX + 1];
};

/*
 * Every reason a refused request's access record can carry, each counted
 * apart in connectproxy_refusals_total; "other" (last) takes anything
 * else.  The scoreboard suite reads the reasons the code sets from src/
 * and fails when one is missing here (or one here is set nowhere).
 */
#define SB_REASON_LIST(X)						\
	X(client_denied) X(client_limit) X(bad_request)			\
	X(header_too_large) X(header_timeout) X(port_denied)		\
	X(dest_denied) X(auth_required) X(auth_failed)			\
	X(resolve_failed) X(resolve_timeout) X(connect_failed)		\
	X(connect_timeout) X(upstream_failed) X(upstream_timeout)	\
	X(upstream_refused) X(shutdown) X(pool_full) X(resolve_error)	\
	X(method_not_allowed)						\
	X(other)
#define SB_REASON_COUNT_ONE(name)	+ 1
#define SB_REASONS		(0 SB_REASON_LIST(SB_REASON_COUNT_ONE))
#define SB_STATUS_MAX		600	/* statuses 0-599 are counted */

/*
 * Counters since the master started, for the metrics: workers add theirs
 * as each record is written, the master its reloads.  Only atomics.
 */
struct sb_totals {
	atomic_ullong		records;	/* ids handed out */
	atomic_ullong		status[SB_STATUS_MAX];	/* by HTTP status */
	atomic_ullong		refusals[SB_REASONS];	/* by reason */
	atomic_ullong		bytes_up;	/* of ended tunnels */
	atomic_ullong		bytes_down;
	atomic_ullong		auth_failures;
	atomic_ullong		reloads_ok;
	atomic_ullong		reloads_failed;
	atomic_ullong		pac_answers;	/* reason "pac": not tunnels */
};

/*
 * The slot count is not in here: the master and each worker know it from
 * the master (a worker through its spawn context), never from memory a
 * worker can write.
 */
struct scoreboard {
	atomic_int		idle;		/* slots in SB_IDLE: a hint */
	struct sb_totals	totals;
	struct sb_slot		slots[];
};

/*
 * The master's own record of the worker in each slot, in memory only the
 * master can reach (see proc.h): the single source of the pids it
 * signals and of what it decides a worker is.
 */
struct sb_proc {
	pid_t		pid;		/* forked, not yet reaped; 0: free */
	unsigned	generation;
	int		reserve;	/* the when_full reject process */
	int		bad;		/* wrote an invalid state: killed */
	long long	started_ms;	/* forked at, realtime ms */
	long long	retired_ms;	/* told to retire at, monotonic ms;
					   0: not told */
};

struct sb_table {
	unsigned	nslots;		/* of the table and the scoreboard */
	struct sb_proc	procs[];
};

struct sb_counts {
	unsigned	starting;	/* of the generation asked for */
	unsigned	idle;
	unsigned	busy;
	unsigned	total;		/* of that generation */
	unsigned	others;		/* live slots of other generations */
	unsigned	invalid;	/* live slots with an invalid state */
};

/* Bytes of the mapping scoreboard_create(nslots) makes (before paging). */
size_t	scoreboard_size(unsigned nslots);
/* mmap a zeroed scoreboard of nslots; NULL with errno on failure. */
struct scoreboard *scoreboard_create(unsigned nslots);
void	scoreboard_destroy(struct scoreboard *sb, unsigned nslots);

/* Index of a free slot in the master's table, or -1 when all are taken. */
int	scoreboard_free_slot(const struct sb_table *t);

/*
 * The state the worker in `slot` reports, when it is one that worker may
 * be in: SB_RESERVE for the reserve, SB_STARTING to SB_CLOSING for any
 * other.  Else -1: the slot was written by a broken or hostile process.
 */
int	scoreboard_state(const struct sb_slot *slot, int reserve);

/*
 * Count the live workers of t (the reserve left out) by the state their
 * slots report: those of `generation` as starting, idle or busy, the
 * others apart, and those marked bad or reporting an invalid state as
 * invalid (they hold a slot until reaped).
 */
void	scoreboard_count(const struct scoreboard *sb, const struct sb_table *t,
	    unsigned generation, struct sb_counts *c);

/*
 * Master only: reset a slot no worker holds (before a spawn, after a
 * reap) to SB_FREE and zeroes, keeping sb->idle in step.
 */
void	scoreboard_clear(struct scoreboard *sb, struct sb_slot *slot);
/*
 * Master only, each tick: reset every slot that is free in t but not
 * clean (only a broken or hostile worker writes there), and put sb->idle
 * back in range when it is not.  Returns how many slots were reset.
 */
unsigned scoreboard_tidy(struct scoreboard *sb, const struct sb_table *t);

/* a + b, or ULLONG_MAX when that would wrap: for untrusted counters. */
unsigned long long scoreboard_add_sat(unsigned long long a,
	    unsigned long long b);

/*
 * Change a slot's state, keeping sb->idle in step.  Called by the slot's
 * worker, or by the master for a slot whose worker is gone.
 */
void	scoreboard_set_state(struct scoreboard *sb, struct sb_slot *slot,
	    enum sb_state state);

/*
 * Publish the client of the tunnel starting in `slot` (worker only).  An
 * IPv6 client (not IPv4-mapped) is keyed by its first `prefix6` bits
 * (max_tunnels_ipv6_prefix; 128 or more: all of it), an IPv4 one by
 * its address.
 */
void	scoreboard_begin(struct sb_slot *slot, const struct sockaddr *client,
	    unsigned prefix6, const char *client_text);
/* Publish the requested target (worker only). */
void	scoreboard_set_target(struct sb_slot *slot, const char *target);

/*
 * Tunnels other than `self`'s that `client` holds open (slots reading,
 * connecting, relaying or closing with that address, or for IPv6 with
 * its first `prefix6` bits, as scoreboard_begin() keyed them), among the
 * first nslots slots: the count the worker had from the master.
 */
unsigned scoreboard_client_tunnels(const struct scoreboard *sb,
	    unsigned nslots, const struct sb_slot *self,
	    const struct sockaddr *client, unsigned prefix6);

/*
 * A copy of a slot's fields for display, the text as consistent as the
 * writer allows: NUL-terminated within its array, and every byte that is
 * not printable ASCII replaced by '?'.  The state is copied as it is:
 * check it with scoreboard_state().
 */
void	scoreboard_snapshot(const struct sb_slot *slot, struct sb_slot *copy);

/* "idle", "reading", ...; "invalid" for any other value. */
const char *scoreboard_state_name(int state);

/* The next record number, unique for the master's lifetime (from 1). */
unsigned long long scoreboard_next_id(struct scoreboard *sb);

/*
 * Count one access record: its status, its refusal reason when the status
 * is not 200, an auth failure, and the bytes relayed.  A PAC file answer
 * (reason "pac") counts as that alone, neither a tunnel nor a refusal.
 */
void	scoreboard_account(struct scoreboard *sb, int status,
	    const char *reason, unsigned long long up, unsigned long long down);

/*
 * The bytes relayed so far by the open tunnels: those of the live,
 * valid workers of t whose slots report SB_RELAYING (the tunnels the
 * metrics count as active), summed with saturation into *up and *down.
 * A tunnel that ends moves its bytes to the totals as it is accounted.
 */
void	scoreboard_open_bytes(const struct scoreboard *sb,
	    const struct sb_table *t, unsigned long long *up,
	    unsigned long long *down);

/* Count a reload (master only). */
void	scoreboard_reload(struct scoreboard *sb, int ok);

/* Name of refusal counter i < SB_REASONS ("client_denied", ...). */
const char *scoreboard_reason_name(unsigned i);

#endif
