/* SPDX-License-Identifier: ISC */
/*
 * The master's processes: fork a worker and set the child up, keep the
 * master's own table of its workers, signal them, reap them, report how
 * they ended, and brake a crash loop (see proc.h).
 */
#define _DEFAULT_SOURCE		/* syscall(2), MAP_ANONYMOUS */

#include <signal.h>
#include <stdalign.h>
#include <stdint.h>
#include <string.h>
#include <sys/mman.h>
#ifdef __linux__
#include <sys/syscall.h>
#if defined(__has_include)
#if __has_include(<sys/rseq.h>)
#include <sys/rseq.h>		/* glibc 2.35 and later */
#define PROC_RSEQ	1
#endif
#endif
#endif
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "net.h"
#include "priv.h"
#include "proc.h"
#include "scoreboard.h"
#include "sdnotify.h"
#include "worker.h"

#define BRAKE_EXITS		10	/* more than this many abnormal exits */
#define BRAKE_WINDOW_MS		10000	/* within this window ... */
#define BRAKE_PAUSE_MS		10000	/* ... pause spawning this long */
#define EXIT_WORKER_FATAL	2	/* a worker could not start at all */

/*
 * The head of the mapping proc_create() makes; the table follows it.
 * Only the master reaches either (see proc.h).
 */
struct proc_set {
	struct sb_table		*tab;		/* in the same mapping */
	size_t			 size;		/* of the mapping */
	long long		 exits[BRAKE_EXITS + 1];	/* ring */
	size_t			 nexits;
	long long		 hold_until;	/* no spawning before this */
	unsigned long long	 served_reaped;	/* by workers now gone */
	int			 worker_fatal;
};

/* Where the table starts in the mapping: after the head, aligned. */
#define TABLE_OFFSET	((sizeof(struct proc_set) + \
	alignof(struct sb_table) - 1) / alignof(struct sb_table) * \
	alignof(struct sb_table))

/*
 * glibc registers a restartable-sequences area for the thread, in its
 * thread control block, and the kernel writes the CPU number there
 * whenever the thread comes back to user space after being scheduled: in
 * a worker that write makes the block's page the worker's own copy, 4 KiB
 * each for nothing, since no code here uses the area (sched_getcpu() falls
 * back to a system call once the kernel marked it unregistered).  So the
 * master gives it up before its first fork, and children inherit that.
 * glibc 2.36 registers 32 bytes but reports the 20 it uses, and the
 * kernel only unregisters the length registered: both are tried.  A
 * failure costs the page, nothing else.
 */
static void
rseq_give_up(void)
{
#if defined(PROC_RSEQ) && defined(SYS_rseq)
	unsigned	len[2] = { __rseq_size < 32 ? 32 : __rseq_size,
	    __rseq_size };
	char		*area = (char *)__builtin_thread_pointer() +
	    __rseq_offset;
	size_t		i;

	if (__rseq_size == 0)
		return;		/* not registered */
	for (i = 0; i < 2; i++)
		if (syscall(SYS_rseq, area, len[i], RSEQ_FLAG_UNREGISTER,
		    RSEQ_SIG) == 0)
			return;
#endif
}

struct proc_set *
proc_create(unsigned nslots)
{
	struct proc_set	*ps;
	size_t		 size;

	rseq_give_up();
	size = TABLE_OFFSET + sizeof(struct sb_table) + (size_t)nslots *
	    sizeof(struct sb_proc);
	ps = mmap(NULL, size, PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (ps == MAP_FAILED)
		return NULL;
	ps->size = size;
	ps->tab = (struct sb_table *)((char *)ps + TABLE_OFFSET);
	ps->tab->nslots = nslots;
	return ps;
}

void
proc_destroy(struct proc_set *ps)
{
	if (ps != NULL)
		munmap(ps, ps->size);
}

struct sb_table *
proc_table(const struct proc_set *ps)
{
	return ps->tab;
}

static void
child_main(struct proc_spawn *sp)
{
	size_t	i;

	/* A worker has no business with the master's state: not even a
	 * stray write can reach it. */
	(void)munmap(sp->set, sp->set_size);
	(void)munmap(sp->state, sp->state_size);
	for (i = 0; i < sp->nclose; i++)
		if (sp->close_fds[i] != -1)
			close(sp->close_fds[i]);
	sdnotify_close();
	log_init(sp->env.cfg->log_level, "worker");
	if (priv_drop(&sp->user) == -1)
		_exit(EXIT_WORKER_FATAL);
	sp->env.self = getpid();
	worker_main(&sp->env);
}

/*
 * fork(2) without the C library's fork handlers.  The master has a single
 * thread, so there is no lock for them to take and release around the
 * fork.  But taking them writes lock words in libc's and the dynamic
 * linker's data, in the master before every fork, and each worker ends
 * up holding its own copy of every page the master wrote since the
 * previous fork: 12 KiB a worker, measured.  The raw system call writes
 * nothing in the parent.
 */
static pid_t
fork_quietly(void)
{
#if defined(__linux__) && defined(SYS_clone)
	return (pid_t)syscall(SYS_clone, (long)SIGCHLD, 0L, 0L, 0L, 0L);
#else
	return fork();
#endif
}

int
proc_spawn(struct proc_set *ps, struct proc_spawn *sp, unsigned generation,
    int reserve)
{
	struct scoreboard	*sb = sp->env.sb;
	struct sb_slot		*slot;
	struct sb_proc		*p;
	sigset_t		 all, old;
	pid_t			 pid;
	int			 i;

	if ((i = scoreboard_free_slot(ps->tab)) == -1)
		return -1;
	slot = &sb->slots[i];
	scoreboard_clear(sb, slot);
	scoreboard_set_state(sb, slot, reserve ? SB_RESERVE : SB_STARTING);
	sp->env.master = getpid();
	sp->env.nslots = ps->tab->nslots;
	sp->env.slot = slot;
	sp->env.reserve = reserve;
	sp->set = ps;
	sp->set_size = ps->size;
	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork_quietly();
	if (pid == 0)
		child_main(sp);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_warn("fork");
		scoreboard_clear(sb, slot);
		return -1;
	}
	p = &ps->tab->procs[i];
	memset(p, 0, sizeof(*p));
	p->pid = pid;
	p->generation = generation;
	p->reserve = reserve;
	p->started_ms = log_now_ms();
	log_debug("worker %ld started%s", (long)pid, reserve ?
	    " (reserve)" : "");
	return 0;
}

/* Whether p is an entry of ps's table, by address: nothing else is. */
static int
in_table(const struct proc_set *ps, const struct sb_proc *p)
{
	uintptr_t	a = (uintptr_t)p, lo = (uintptr_t)ps->tab->procs;

	return a >= lo && a - lo < ps->tab->nslots * sizeof(*p) &&
	    (a - lo) % sizeof(*p) == 0;
}

int
proc_signal(const struct proc_set *ps, const struct sb_proc *p, int sig)
{
	if (!in_table(ps, p)) {
		log_error("not sending signal %d: not an entry of the master's "
		    "table", sig);
		return -1;
	}
	if (p->pid <= 0) {
		log_error("not sending signal %d to pid %ld: not a worker",
		    sig, (long)p->pid);
		return -1;
	}
	return kill(p->pid, sig);
}

void
proc_signal_all(const struct proc_set *ps, int sig)
{
	unsigned	i;

	for (i = 0; i < ps->tab->nslots; i++)
		if (ps->tab->procs[i].pid != 0)
			(void)proc_signal(ps, &ps->tab->procs[i], sig);
}

/* Count an abnormal exit; engage the brake on a crash loop. */
static void
note_abnormal(struct proc_set *ps)
{
	long long	now = net_mono_ms();
	size_t		cap = BRAKE_EXITS + 1;

	ps->exits[ps->nexits++ % cap] = now;
	if (ps->nexits >= cap &&
	    now - ps->exits[ps->nexits % cap] <= BRAKE_WINDOW_MS) {
		log_error("%d workers failed within %d s; not spawning for "
		    "%d s", BRAKE_EXITS + 1, BRAKE_WINDOW_MS / 1000,
		    BRAKE_PAUSE_MS / 1000);
		ps->hold_until = now + BRAKE_PAUSE_MS;
		ps->nexits = 0;
	}
}

static void
report_exit(struct proc_set *ps, pid_t pid, int status)
{
	if (WIFSIGNALED(status)) {
		log_warnx("worker %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
		/*
		 * A worker never raises SIGKILL itself: it comes from the
		 * OOM killer or an operator, not a crash loop, and holding
		 * the pool back would only turn it into an outage.
		 */
		if (WTERMSIG(status) != SIGKILL)
			note_abnormal(ps);
	} else if (WEXITSTATUS(status) == EXIT_WORKER_FATAL) {
		log_error("worker %ld could not start", (long)pid);
		ps->worker_fatal = 1;
	} else if (WEXITSTATUS(status) != 0) {
		log_warnx("worker %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
		note_abnormal(ps);
	} else
		log_debug("worker %ld exited", (long)pid);
}

/* The table index of pid, or -1 when the master did not fork it. */
static int
find_proc(const struct proc_set *ps, pid_t pid)
{
	unsigned	i;

	for (i = 0; i < ps->tab->nslots; i++)
		if (ps->tab->procs[i].pid == pid)
			return (int)i;
	return -1;
}

unsigned
proc_reap(struct proc_set *ps, struct scoreboard *sb)
{
	unsigned	 i, alive = 0;
	pid_t		 pid;
	int		 n, status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		if ((n = find_proc(ps, pid)) == -1)
			continue;
		/* The worker is gone: the master is now the slot's writer. */
		ps->served_reaped = scoreboard_add_sat(ps->served_reaped,
		    atomic_load(&sb->slots[n].served));
		scoreboard_clear(sb, &sb->slots[n]);
		memset(&ps->tab->procs[n], 0, sizeof(ps->tab->procs[n]));
		report_exit(ps, pid, status);
	}
	for (i = 0; i < ps->tab->nslots; i++)
		alive += ps->tab->procs[i].pid != 0;
	return alive;
}

void
proc_kill_all(struct proc_set *ps)
{
	proc_signal_all(ps, SIGKILL);
	while (waitpid(-1, NULL, 0) > 0)
		continue;
}

int
proc_held(const struct proc_set *ps, long long now_ms)
{
	return now_ms < ps->hold_until;
}

void
proc_hold(struct proc_set *ps, long long until_ms)
{
	ps->hold_until = until_ms;
}

int
proc_fatal(const struct proc_set *ps)
{
	return ps->worker_fatal;
}

unsigned long long
proc_served(const struct proc_set *ps)
{
	return ps->served_reaped;
}
