/*
 * The scoreboard: one slot per possible worker in anonymous shared memory,
 * created by the master before the first fork.  Each field has a single
 * writer at a time: the master at spawn and after reaping, the worker in
 * between.  Readers (the master, workers counting a client's tunnels, the
 * status view) read atomics, and the text fields under a sequence lock.
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

struct sb_slot {
	atomic_int		pid;		/* master */
	atomic_uint		generation;	/* master */
	atomic_llong		retired_ms;	/* master: retire asked at */
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

/* Refusal reasons counted apart; anything else counts as "other". */
#define SB_REASONS		18
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
};

struct scoreboard {
	unsigned		nslots;
	atomic_int		idle;		/* slots in SB_IDLE */
	struct sb_totals	totals;
	struct sb_slot		slots[];
};

struct sb_counts {
	unsigned	starting;	/* of the generation asked for */
	unsigned	idle;
	unsigned	busy;
	unsigned	total;		/* of that generation */
	unsigned	others;		/* live slots of other generations */
};

/* mmap a zeroed scoreboard of nslots; NULL with errno on failure. */
struct scoreboard *scoreboard_create(unsigned nslots);
void	scoreboard_destroy(struct scoreboard *sb);

/* Index of a free slot, or -1 when all are taken. */
int	scoreboard_free_slot(const struct scoreboard *sb);

/* Count live slots by state for `generation`. */
void	scoreboard_count(const struct scoreboard *sb, unsigned generation,
	    struct sb_counts *c);

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
 * its first `prefix6` bits, as scoreboard_begin() keyed them).
 */
unsigned scoreboard_client_tunnels(const struct scoreboard *sb,
	    const struct sb_slot *self, const struct sockaddr *client,
	    unsigned prefix6);

/* A consistent copy of a slot's fields, for display. */
void	scoreboard_snapshot(const struct sb_slot *slot, struct sb_slot *copy);

/* "idle", "reading", ... */
const char *scoreboard_state_name(enum sb_state state);

/* The next record number, unique for the master's lifetime (from 1). */
unsigned long long scoreboard_next_id(struct scoreboard *sb);

/*
 * Count one access record: its status, its refusal reason when the status
 * is not 200, an auth failure, and the bytes relayed.
 */
void	scoreboard_account(struct scoreboard *sb, int status,
	    const char *reason, unsigned long long up, unsigned long long down);

/* Count a reload (master only). */
void	scoreboard_reload(struct scoreboard *sb, int ok);

/* Name of refusal counter i < SB_REASONS ("client_denied", ...). */
const char *scoreboard_reason_name(unsigned i);

#endif
