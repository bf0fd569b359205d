/* SPDX-License-Identifier: ISC */
/*
 * The master's processes: the raw fork, the child's set-up up to
 * worker_main(), the master's own table of its workers (struct sb_table),
 * the one function every signal to a worker goes through, reaping and
 * exit reports, and the crash brake.  The master's loop (master.c)
 * decides when to fork, retire or stop; this module does it and keeps
 * the books.  Master only: nginx keeps ngx_process.c apart from
 * ngx_process_cycle.c the same way.
 *
 * A worker may be compromised (scoreboard.h says why), so what the
 * master acts on is here, never in the scoreboard: every pid it signals
 * comes from the table, and no worker can write the table, since each
 * child unmaps it first thing, before dropping privileges and long
 * before it reads a byte from a client.
 */
#ifndef PROC_H
#define PROC_H

#include <stddef.h>
#include <sys/types.h>

#include "priv.h"
#include "worker.h"

#if defined(__has_feature)
#if __has_feature(address_sanitizer)
#define PROC_LSAN	1
#endif
#endif
#if defined(__SANITIZE_ADDRESS__) && !defined(PROC_LSAN)
#define PROC_LSAN	1	/* built with LeakSanitizer */
#endif

#define PROC_CLOSE_MAX	32	/* descriptors a child closes */
#define PROC_KEEP_MAX	32	/* heap blocks a child inherits */

struct proc_set;
struct sb_proc;
struct sb_table;
struct scoreboard;

/*
 * What a new worker takes from the master.  It is filled on the master's
 * stack before each fork, never read from the master's state in the
 * child: that state is shared memory (see master_run()), which the master
 * may change before the child has read it.  The caller fills the fields
 * below; proc_spawn() fills env.master, env.nslots, env.slot,
 * env.reserve and its own part.
 */
struct proc_spawn {
	struct worker_env	 env;	/* cfg, lfds, nlfds, sb, wakefd */
	struct priv_user	 user;	/* the child drops to it */
	void			*state;	/* the master's state mapping, */
	size_t			 state_size;	/* unmapped in the child */
	int			 close_fds[PROC_CLOSE_MAX];	/* -1: none */
	size_t			 nclose;
#ifdef PROC_LSAN
	/*
	 * The heap blocks the master state points to at the fork.  The
	 * child inherits them; once the master has freed its own copies,
	 * only this keeps LeakSanitizer from calling the child's ones
	 * leaked.
	 */
	const void		*keep[PROC_KEEP_MAX];
#endif
	struct proc_set		*set;	/* proc_spawn(): unmapped */
	size_t			 set_size;	/* in the child */
};

/*
 * Map the table for nslots workers, all free, with the bookkeeping below
 * (the crash brake, the tunnels of reaped workers), in one shared
 * anonymous mapping: the master writes it between forks, and in private
 * memory each such page would stay behind in every worker forked before
 * as a copy of its own.  Returns NULL with errno on failure.
 */
struct proc_set *proc_create(unsigned nslots);
/* Unmap it; NULL is ignored. */
void	proc_destroy(struct proc_set *ps);

/*
 * The table: pid, generation, start and retire times, reserve and bad
 * flags of the worker in each scoreboard slot, and the slot count.  The
 * master may mark entries retired or bad; only this module fills and
 * frees them.
 */
struct sb_table *proc_table(const struct proc_set *ps);

/*
 * Fork a worker of `generation` into a free slot of sp->env.sb (the
 * reserve when `reserve`), from the context the caller filled.  Signals
 * stay blocked across the fork, so that the child never runs the
 * master's handlers.  The child unmaps the master's state and this set,
 * closes sp->close_fds, logs as "worker", drops to sp->user (or exits 2,
 * which proc_reap() reports as fatal) and runs worker_main(): it never
 * returns here.  Returns 0, or -1 when no slot is free or the fork
 * failed (logged; the slot is left free).
 */
int	proc_spawn(struct proc_set *ps, struct proc_spawn *sp,
	    unsigned generation, int reserve);

/*
 * Send sig to the worker of table entry p: a process the master forked
 * and has not reaped (until then its pid cannot be reused).  Every signal
 * to a worker goes through here.  An entry outside the table, or one
 * whose pid is <= 0 (free: kill(2) would reach a process group), is
 * refused and logged.  Returns kill(2)'s result, or -1.
 */
int	proc_signal(const struct proc_set *ps, const struct sb_proc *p,
	    int sig);
/* proc_signal() every worker in the table. */
void	proc_signal_all(const struct proc_set *ps, int sig);

/*
 * Reap every child that has exited, without blocking.  For each worker of
 * the table: add the tunnels its slot in sb counted to proc_served(),
 * free the slot and the entry, and report how it ended.  A worker killed
 * by a signal or exiting non-zero is logged and counted toward the crash
 * brake, except one killed by SIGKILL (the OOM killer or an operator: a
 * worker never raises it itself, and pausing the pool would only turn it
 * into an outage); one that could not start sets proc_fatal().  Returns
 * how many workers are still alive.
 */
unsigned proc_reap(struct proc_set *ps, struct scoreboard *sb);
/*
 * A stop's last resort: SIGKILL every worker in the table and wait,
 * blocking, for every child (a killed process cannot delay).  The table
 * is left as it is: the master is about to exit.
 */
void	proc_kill_all(struct proc_set *ps);

/*
 * Whether spawning is held at now_ms (monotonic): by the crash brake
 * (DESIGN.md section 1), or as the caller asked with proc_hold().
 */
int	proc_held(const struct proc_set *ps, long long now_ms);
/* Hold spawning until until_ms (monotonic). */
void	proc_hold(struct proc_set *ps, long long until_ms);

/* Whether a worker could not start at all: the proxy must stop. */
int	proc_fatal(const struct proc_set *ps);
/* Tunnels served by reaped workers, as their slots said: saturated. */
unsigned long long proc_served(const struct proc_set *ps);

#endif
