/* SPDX-License-Identifier: ISC */
/*
 * The master process: binds the listeners, creates the scoreboard, and
 * keeps the pool of workers sized to demand.  Signal handlers only set
 * flags and write a byte to a self-pipe; workers that take one of the last
 * spares write to a wake pipe.  The loop polls both with a 1 s tick and
 * does the work: reap, grow or shrink the pool, reload, stop.  Forking,
 * signalling and reaping a worker, and the books on them, are proc.c's.
 */
#define _DEFAULT_SOURCE		/* MAP_ANONYMOUS */

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>

#include "config.h"
#include "control.h"
#include "listeners.h"
#include "log.h"
#include "logger.h"
#include "master.h"
#include "net.h"
#include "pool.h"
#include "preflight.h"
#include "priv.h"
#include "proc.h"
#include "scoreboard.h"
#include "scrape.h"
#include "sdnotify.h"
#include "worker.h"

#ifdef PROC_LSAN
#include <sanitizer/lsan_interface.h>
#endif

#define FORK_RETRY_MS		1000
#define RETIRE_EVERY_MS		1000
#define GROWING_TICK_MS		10
#define LOG_BATCH_MS		10	/* log lines read at most this often */
#define FULL_LOG_EVERY_MS	60000

static volatile sig_atomic_t	sig_stop, sig_quit, sig_hup, sig_chld, sig_usr1;
static int			selfpipe[2] = { -1, -1 };

struct master {
	struct config		*cfg;
	const char		*path;
	struct priv_user	 user;
	struct listener_set	 ls;
	struct scoreboard	*sb;	/* shared: workers write it */
	struct proc_set		*ps;	/* the master's alone: see proc.h */
	struct sb_table		*procs;	/* proc_table(ps) */
	unsigned		 generation;
	int			 wake[2];	/* workers -> master */
	unsigned		 rate;		/* forks per wake-up */
	long long		 last_retire;
	long long		 last_full_log;
	char			 reload_status[CONFIG_ERR_MAX + 32];
	char			 pidfile[CONFIG_PATH_MAX];	/* written */
	int			 pidfd;		/* locked on it; -1 */
	char			 status[CONFIG_ERR_MAX + 200];	/* last STATUS= */
	long long		 status_at;
	long long		 watchdog_ms;	/* 0: no watchdog */
	long long		 last_watchdog;
	int			 growing;	/* forked for a shortage */
	long long		 ticked;	/* last round of loop() */
	long long		 drained;	/* last read of log lines */
	struct control		 ctl;		/* the control socket */
	struct scrape		 scr;		/* metrics_listen */
	int			 resolver_own;	/* RES_OPTIONS set by the
						   operator: left alone */
};

static void
on_signal(int sig)
{
	int	saved = errno;

	if (sig == SIGTERM || sig == SIGINT)
		sig_stop = 1;
	else if (sig == SIGQUIT)
		sig_quit = 1;
	else if (sig == SIGHUP)
		sig_hup = 1;
	else if (sig == SIGCHLD)
		sig_chld = 1;
	else if (sig == SIGUSR1)
		sig_usr1 = 1;
	(void)write(selfpipe[1], "", 1);
	errno = saved;
}

static int
make_pipe(int fds[2])
{
	size_t	i;

	if (pipe(fds) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if (net_set_nonblock(fds[i], 1) == -1 ||
		    fcntl(fds[i], F_SETFD, FD_CLOEXEC) == -1)
			return -1;
	return 0;
}

static int
master_signals(void)
{
	static const int	 sigs[] = {
		SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1
	};
	struct sigaction	 sa;
	size_t			 i;

	if (make_pipe(selfpipe) == -1)
		return -1;
	memset(&sa, 0, sizeof(sa));
	sigemptyset(&sa.sa_mask);
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_signal;
	for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
		if (sigaction(sigs[i], &sa, NULL) == -1)
			return -1;
	sa.sa_handler = SIG_IGN;
	return sigaction(SIGPIPE, &sa, NULL);
}

/* Log the addresses `next` listens on that `cur` did not, and back. */
static void
log_listeners(const struct listener_set *cur, const struct listener_set *next)
{
	size_t	i, j;
	int	found;

	for (i = 0; i < next->n; i++) {
		for (j = 0, found = 0; cur != NULL && j < cur->n; j++)
			found |= cur->fds[j] == next->fds[i];
		if (!found)
			log_info("listening on %s", next->addrs[i].text);
	}
	for (i = 0; cur != NULL && i < cur->n; i++) {
		for (j = 0, found = 0; j < next->n; j++)
			found |= cur->fds[i] == next->fds[j];
		if (!found)
			log_info("no longer listening on %s",
			    cur->addrs[i].text);
	}
}

_Static_assert(4 + CONTROL_POLLFDS + SCRAPE_POLLFDS <= PROC_CLOSE_MAX,
    "a child closes the self-pipe, the wake pipe, the control socket, "
    "the pidfile and the metrics socket");
_Static_assert(2 + CONTROL_CONNS + SCRAPE_CONNS <= PROC_KEEP_MAX,
    "a child keeps the listeners and the control and metrics clients' "
    "buffers");

/*
 * Fork a worker (the reserve when `reserve`) of the running generation,
 * with what the master holds now: the spawn context is filled on the
 * stack, since the master state may change before the child has read it.
 */
static int
spawn(struct master *m, int reserve)
{
	struct proc_spawn	sp;

	memset(&sp, 0, sizeof(sp));
	sp.env.cfg = m->cfg;
	sp.env.lfds = m->ls.fds;
	sp.env.laddrs = m->ls.addrs;
	sp.env.nlfds = m->ls.n;
	sp.env.sb = m->sb;
	sp.env.wakefd = m->wake[1];
	sp.user = m->user;
	sp.state = m;
	sp.state_size = sizeof(*m);
	sp.close_fds[sp.nclose++] = selfpipe[0];
	sp.close_fds[sp.nclose++] = selfpipe[1];
	sp.close_fds[sp.nclose++] = m->wake[0];
	/* The master's alone: the lock is not inherited, nor its use. */
	if (m->pidfd != -1)
		sp.close_fds[sp.nclose++] = m->pidfd;
	sp.nclose += control_fds(&m->ctl, sp.close_fds + sp.nclose,
	    CONTROL_POLLFDS);
	sp.nclose += scrape_fds(&m->scr, sp.close_fds + sp.nclose,
	    SCRAPE_POLLFDS);
#ifdef PROC_LSAN
	{
		size_t	i;

		sp.keep[0] = m->ls.fds;
		sp.keep[1] = m->ls.addrs;
		for (i = 0; i < CONTROL_CONNS; i++)
			sp.keep[2 + i] = m->ctl.conns[i].out;
		for (i = 0; i < SCRAPE_CONNS; i++)
			sp.keep[2 + CONTROL_CONNS + i] = m->scr.conns[i].out;
	}
#endif
	return proc_spawn(m->ps, &sp, m->generation, reserve);
}

static struct sb_slot *
slot_of(struct master *m, const struct sb_proc *p)
{
	return &m->sb->slots[p - m->procs->procs];
}

/* A live worker whose slot says `state` (of this generation if current). */
static struct sb_proc *
find_state(struct master *m, enum sb_state state, int current)
{
	struct sb_proc	*p;
	unsigned	 i = m->procs->nslots;

	while (i-- > 0) {
		p = &m->procs->procs[i];
		if (p->pid != 0 && !p->bad &&
		    scoreboard_state(slot_of(m, p), p->reserve) == (int)state &&
		    (!current || p->generation == m->generation))
			return p;
	}
	return NULL;
}

static struct sb_proc *
find_reserve(struct master *m)
{
	unsigned	i;

	for (i = 0; i < m->procs->nslots; i++)
		if (m->procs->procs[i].pid != 0 && m->procs->procs[i].reserve)
			return &m->procs->procs[i];
	return NULL;
}

/*
 * A worker whose slot reports a state it cannot be in is broken or
 * hostile (it, or another worker, wrote nonsense into shared memory):
 * say so once and replace it.  SIGKILL, since a hostile worker may
 * ignore anything else; like any SIGKILL it does not count toward the
 * crash brake, so that a worker scribbling over every slot costs the
 * pool a round of forks, not a pause.
 */
static void
replace_invalid(struct master *m)
{
	struct sb_proc	*p;
	unsigned	 i;

	for (i = 0; i < m->procs->nslots; i++) {
		p = &m->procs->procs[i];
		if (p->pid == 0 || p->bad ||
		    scoreboard_state(slot_of(m, p), p->reserve) != -1)
			continue;
		log_warnx("worker %ld: its scoreboard slot holds an invalid "
		    "state (%d); replacing it", (long)p->pid,
		    atomic_load(&slot_of(m, p)->state));
		p->bad = 1;
		(void)proc_signal(m->ps, p, SIGKILL);
	}
}

/*
 * Count the pool from the scoreboard, after tidying what no worker
 * should have written, and replace the workers whose slots make no sense.
 */
static void
census(struct master *m, struct sb_counts *c)
{
	(void)scoreboard_tidy(m->sb, m->procs);
	scoreboard_count(m->sb, m->procs, m->generation, c);
	if (c->invalid > 0)
		replace_invalid(m);
}

/*
 * At workers_max, or out of scoreboard slots: log it now and then, and
 * start or stop the reserve.  Slots run out before workers_max when
 * older generations still drain tunnels: say so, since workers_max alone
 * cannot explain it.
 */
static void
when_full(struct master *m, int full, const struct sb_counts *c)
{
	struct sb_proc	*reserve = find_reserve(m);
	long long	 now = net_mono_ms();

	if (full && m->cfg->when_full == WHEN_FULL_REJECT) {
		if (reserve == NULL)
			(void)spawn(m, 1);
	} else if (reserve != NULL)
		(void)proc_signal(m->ps, reserve, SIGHUP);
	if (full && (m->last_full_log == 0 ||
	    now - m->last_full_log >= FULL_LOG_EVERY_MS)) {
		if (c->total < m->cfg->workers_max)
			log_warnx("all %u workers busy, not %u: %u workers of "
			    "older generations still drain tunnels (see "
			    "drain_timeout)", c->total, m->cfg->workers_max,
			    c->others);
		else
			log_warnx("all %u workers busy", m->cfg->workers_max);
		m->last_full_log = now;
	}
}

/* Grow the pool on a shortage, shrink it on a surplus, one tick's worth. */
static void
maintain(struct master *m)
{
	struct pool_limits	lim = { m->cfg->workers_min_spare,
	    m->cfg->workers_max_spare, m->cfg->workers_max };
	struct pool_plan	plan;
	struct pool_view	v;
	struct sb_counts	c;
	struct sb_proc		*victim;
	long long		now = net_mono_ms();
	unsigned		i, used;

	census(m, &c);
	/* The reserve keeps one slot; invalid ones hold theirs until reaped. */
	used = c.total + c.others + c.invalid + 1;
	v.idle = c.idle;
	v.starting = c.starting;
	v.total = c.total;
	v.slots = used < m->procs->nslots ? m->procs->nslots - used : 0;
	v.queued = c.idle == 0 ? listeners_queued(&m->ls) : 0;
	pool_plan(&lim, &v, now - m->last_retire >= RETIRE_EVERY_MS, &m->rate,
	    &plan);
	if (proc_held(m->ps, now))
		plan.spawn = 0;
	m->growing = plan.spawn > 0;
	if (plan.spawn > 0)
		log_debug("pool: %u idle, %u starting, %u busy, %u queued: "
		    "forking %u", v.idle, v.starting, c.busy, v.queued,
		    plan.spawn);
	for (i = 0; i < plan.spawn; i++) {
		if (spawn(m, 0) == -1) {
			/* Retried on a later tick, never spun on. */
			proc_hold(m->ps, now + FORK_RETRY_MS);
			break;
		}
	}
	if (plan.retire && (victim = find_state(m, SB_IDLE, 1)) != NULL) {
		(void)proc_signal(m->ps, victim, SIGHUP);
		m->last_retire = now;
	}
	when_full(m, plan.full, &c);
}

/* The first workers: workers_start of them, at once. */
static void
start_pool(struct master *m)
{
	struct sb_counts	c;
	unsigned		i;

	/* Tunnels of older generations keep their slots until they end. */
	census(m, &c);
	if (c.others + c.invalid + 1 + m->cfg->workers_max > m->procs->nslots)
		log_warnx("%u workers of older generations still drain "
		    "tunnels and hold scoreboard slots: fewer than %u "
		    "workers fit until they end (see drain_timeout)",
		    c.others, m->cfg->workers_max);
	m->last_full_log = 0;	/* a new generation's first "busy" is news */
	for (i = 0; i < m->cfg->workers_start; i++)
		if (spawn(m, 0) == -1)
			break;
}

/*
 * Sleep until a signal, a worker's wake-up, a worker's log line, a
 * control or metrics client, or the timeout.  Log lines and those
 * clients are served here without blocking (see logger.c, control.c and
 * scrape.c); log lines at most every LOG_BATCH_MS, so that with
 * access_log in a file a busy proxy's records wake us once for many
 * tunnels, not once for each.  Returns 1 when a signal or a worker's
 * wake-up came, 0 otherwise.
 */
static int
wait_events(struct master *m, int timeout_ms)
{
	struct pollfd	pfd[3 + CONTROL_POLLFDS + SCRAPE_POLLFDS] = {
		{ .fd = selfpipe[0], .events = POLLIN },
		{ .fd = m->wake[0], .events = POLLIN },
		{ .fd = logger_fd(), .events = POLLIN }
	};
	char		buf[256];
	long long	batch = m->drained + LOG_BATCH_MS - net_mono_ms();
	int		i, n, r;

	if (batch > 0) {
		pfd[2].fd = -1;
		if (timeout_ms < 0 || timeout_ms > batch)
			timeout_ms = (int)batch;
	}
	control_pollfds(&m->ctl, pfd + 3);
	scrape_pollfds(&m->scr, pfd + 3 + CONTROL_POLLFDS);
	if ((r = poll(pfd, 3 + CONTROL_POLLFDS + SCRAPE_POLLFDS,
	    timeout_ms)) > 0) {
		/* Bounded: a worker writing without end cannot hold us. */
		for (i = 0; i < 2; i++)
			if (pfd[i].revents & POLLIN)
				for (n = 0; n < 64 && read(pfd[i].fd, buf,
				    sizeof(buf)) > 0; n++)
					continue;
		if (pfd[2].revents & POLLIN) {
			logger_drain();
			m->drained = net_mono_ms();
		}
	}
	control_service(&m->ctl, pfd + 3, m->sb, m->procs);
	scrape_service(&m->scr, pfd + 3 + CONTROL_POLLFDS, m->cfg, m->sb,
	    m->procs);
	return r < 0 || ((pfd[0].revents | pfd[1].revents) & POLLIN) != 0;
}

/* Fast stop: close the listeners, TERM the workers, KILL stragglers. */
static void
stop(struct master *m)
{
	long long	deadline = net_mono_ms() + m->cfg->shutdown_timeout_ms;
	long long	left;

	listeners_close(&m->ls);
	proc_signal_all(m->ps, SIGTERM);
	while (proc_reap(m->ps, m->sb) > 0) {
		/* Again each round, for a signal that raced a poll(). */
		proc_signal_all(m->ps, SIGTERM);
		if ((left = deadline - net_mono_ms()) <= 0) {
			log_warnx("workers still running after %lld ms; "
			    "killing them", m->cfg->shutdown_timeout_ms);
			proc_kill_all(m->ps);
			break;
		}
		wait_events(m, left > 1000 ? 1000 : (int)left);
	}
}

/*
 * Ask every worker of the running generations to retire (idle ones exit
 * at once, busy ones after their tunnel) and start their drain clock.
 */
static void
retire_all(struct master *m)
{
	struct sb_proc	*p;
	long long	 now = net_mono_ms();
	unsigned	 i;

	for (i = 0; i < m->procs->nslots; i++) {
		p = &m->procs->procs[i];
		if (p->pid == 0)
			continue;
		if (p->retired_ms == 0)
			p->retired_ms = now;
		(void)proc_signal(m->ps, p, SIGHUP);
	}
}

/* Past drain_timeout, close what old generations still relay. */
static void
enforce_drain(struct master *m)
{
	struct sb_proc	*p;
	long long	 now = net_mono_ms();
	unsigned	 i;

	if (m->cfg->drain_timeout_ms == 0)
		return;
	for (i = 0; i < m->procs->nslots; i++) {
		p = &m->procs->procs[i];
		if (p->pid == 0 || p->retired_ms == 0 ||
		    now - p->retired_ms < m->cfg->drain_timeout_ms)
			continue;
		/*
		 * USR2 makes the worker log reload_drain_timeout.  Sent every
		 * tick until the worker is gone: one that lands just before
		 * the relay's poll() would otherwise wait for traffic.
		 */
		(void)proc_signal(m->ps, p, SIGUSR2);
	}
}

/*
 * Keep a worker's name lookups inside connect_timeout (see
 * config_resolver_options()) unless the operator chose RES_OPTIONS.
 * Workers read it from the environment they are forked with, so this
 * runs before each generation's first fork.
 */
static void
bound_resolver(struct master *m)
{
	const char	*cur = getenv("RES_OPTIONS");
	char		 opts[64];
	int		 changed;

	if (m->resolver_own)
		return;
	config_resolver_options(m->cfg, opts, sizeof(opts));
	if (cur != NULL && strcmp(cur, opts) == 0)
		return;
	changed = cur != NULL;
	if (setenv("RES_OPTIONS", opts, 1) == -1) {
		log_warn("RES_OPTIONS");
		return;
	}
	if (changed)
		log_info("resolver: RES_OPTIONS=%s", opts);
}

/*
 * Swap the running configuration for `next` (loaded and checked): the new
 * listener set replaces the old and the old generation retires; the
 * caller starts the new one once the logs are switched too.  Takes
 * ownership of next's lists.
 */
static void
switch_generation(struct master *m, struct config *next,
    struct listener_set *ls, const struct priv_user *user)
{
	retire_all(m);
	log_listeners(&m->ls, ls);
	listeners_retire(&m->ls, ls);
	m->ls = *ls;
	config_free(m->cfg);
	*m->cfg = *next;
	m->user = *user;
	m->generation++;
	m->rate = 1;
	if (2 * m->cfg->workers_max + 1 > m->procs->nslots)
		log_warnx("workers_max %u: the scoreboard was sized at start "
		    "for %u; restart to raise it", m->cfg->workers_max,
		    (m->procs->nslots - 1) / 2);
	bound_resolver(m);
}

/*
 * HUP: read the configuration again into a new generation.  Any error
 * leaves the running generation untouched and serving: each step that
 * acquires something has its label below, and a failure releases what
 * the steps before it acquired, in reverse order.
 */
static void
reload(struct master *m)
{
	struct config		next;
	struct listener_set	ls;
	struct priv_user	user;
	struct logger_files	files;
	char			err[CONFIG_ERR_MAX];
	int			mfd;

	log_info("reloading %s", m->path);
	if (config_load(m->path, &next, err, sizeof(err)) == -1)
		goto fail;
	if (priv_lookup(next.user, &user, 1, err, sizeof(err)) == -1 ||
	    listeners_open(&next, &m->ls, &ls, err, sizeof(err)) == -1)
		goto fail_config;
	if (ls.inherited && listeners_to_config(&ls, &next) == -1) {
		snprintf(err, sizeof(err), "reload: out of memory");
		goto fail_listeners;
	}
	if (scrape_bind(&m->scr, &next, &mfd, err, sizeof(err)) == -1)
		goto fail_listeners;
	/* Last, so that no other failure leaves a new file created. */
	if (logger_files_open(&next, &files, err, sizeof(err)) == -1)
		goto fail_scrape;
	switch_generation(m, &next, &ls, &user);
	scrape_install(&m->scr, m->cfg, mfd);
	/* Before the new workers fork: they inherit the level and sinks. */
	log_set_level(m->cfg->log_level);
	logger_files_install(m->cfg, &files);
	start_pool(m);
	preflight_warn(m->cfg);
	scoreboard_reload(m->sb, 1);
	snprintf(m->reload_status, sizeof(m->reload_status),
	    "generation %u loaded", m->generation);
	log_info("reloaded: generation %u", m->generation);
	return;
fail_scrape:
	scrape_unbind(&m->scr, mfd);
fail_listeners:
	/* Sockets the running set shares stay open: only new ones close. */
	listeners_retire(&ls, &m->ls);
fail_config:
	config_free(&next);
fail:
	scoreboard_reload(m->sb, 0);
	snprintf(m->reload_status, sizeof(m->reload_status),
	    "reload failed: %s", err);
	log_error("reload failed, still serving generation %u: %s",
	    m->generation, err);
}

/*
 * The systemd STATUS= line, sent when it changes and at most once a
 * second, and the watchdog ping: the loop reaching here is the health
 * the watchdog asks about.  While `draining` (a QUIT), the line counts
 * the tunnels still open instead of the pool.
 */
static void
notify_tick(struct master *m, int draining)
{
	struct sb_counts	c;
	unsigned long long	served = proc_served(m->ps);
	char			status[sizeof(m->status)];
	long long		now = net_mono_ms();
	unsigned		i;

	if (m->watchdog_ms > 0 && now - m->last_watchdog >= m->watchdog_ms / 2) {
		sdnotify_watchdog();
		m->last_watchdog = now;
	}
	if (now - m->status_at < 1000)
		return;
	census(m, &c);
	/* Counts a worker wrote: summed so that nonsense cannot wrap. */
	for (i = 0; i < m->procs->nslots; i++)
		if (m->procs->procs[i].pid != 0)
			served = scoreboard_add_sat(served,
			    atomic_load(&m->sb->slots[i].served));
	if (draining)
		snprintf(status, sizeof(status), "graceful stop: draining %u "
		    "tunnels; %llu tunnels served", c.busy + c.others, served);
	else
		snprintf(status, sizeof(status), "generation %u: %u busy, %u "
		    "idle, %u draining; %llu tunnels served; last reload: %s",
		    m->generation, c.busy, c.idle + c.starting, c.others,
		    served, m->reload_status[0] != '\0' ? m->reload_status :
		    "none");
	if (strcmp(status, m->status) != 0) {
		sdnotify_status(status);
		memcpy(m->status, status, sizeof(m->status));
		m->status_at = now;
	}
}

/* USR1, in the main loop and during a graceful drain alike. */
static void
reopen_if_asked(struct master *m)
{
	if (!sig_usr1)
		return;
	/* Workers hold no log file: see logger.c. */
	sig_usr1 = 0;
	(void)logger_reopen(m->cfg);
}

static void
loop(struct master *m)
{
	long long	tick, left;

	/* The first round waits for an event or a tick, as each one after. */
	m->ticked = net_mono_ms();
	while (!sig_stop && !sig_quit && !proc_fatal(m->ps)) {
		/*
		 * While a shortage lasts, look again soon even if no worker
		 * wakes us: the ones just forked may all be taken before
		 * any of them writes to the wake pipe.
		 */
		tick = m->growing ? GROWING_TICK_MS : 1000;
		left = m->ticked + tick - net_mono_ms();
		/*
		 * Log lines alone (one per tunnel with access_log in a file)
		 * wait for the tick: a round of the pool scans every slot,
		 * and cost about 15 us a tunnel at one client.
		 */
		if (wait_events(m, left > 0 ? (int)left : 0) == 0 &&
		    net_mono_ms() - m->ticked < tick)
			continue;
		m->ticked = net_mono_ms();
		if (sig_chld) {
			sig_chld = 0;
			proc_reap(m->ps, m->sb);
		}
		if (sig_hup) {
			sig_hup = 0;
			sdnotify_reloading();
			reload(m);
			sdnotify_ready(m->reload_status);
		}
		reopen_if_asked(m);
		enforce_drain(m);
		if (!sig_stop && !sig_quit && !proc_fatal(m->ps))
			maintain(m);
		notify_tick(m, 0);
	}
}

/*
 * QUIT: stop listening, let every tunnel finish (within drain_timeout when
 * set), then return.  A TERM or INT meanwhile turns it into a fast stop.
 * systemd hears only STATUS= lines meanwhile: STOPPING=1 would start its
 * TimeoutStopSec, and the unit would be killed, tunnels and all, when it
 * ran out (see master_serve()).
 */
static void
graceful_stop(struct master *m)
{
	log_info("graceful stop: waiting for open tunnels");
	listeners_close(&m->ls);
	retire_all(m);
	m->status_at = 0;	/* say so now, not after the 1 s throttle */
	while (!sig_stop && proc_reap(m->ps, m->sb) > 0) {
		notify_tick(m, 1);
		wait_events(m, 1000);
		/* A logrotate may well come during a long drain. */
		reopen_if_asked(m);
		enforce_drain(m);
	}
}

/* The pid a pidfile names, read from fd into buf ("" when none). */
static void
pidfile_read(int fd, char *buf, size_t len)
{
	ssize_t	n;

	n = pread(fd, buf, len - 1, 0);
	buf[n > 0 ? (size_t)n : 0] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
}

/*
 * Open the file at path (never through a symbolic link), take a write
 * lock on it without waiting, and make sure it is still the file at
 * path.  0 with *fdp, 1 when another process holds the lock (*fdp open
 * to it, to read its pid), -1 on error with why filled.
 *
 * A link at path is removed, as rename(2) replaced it before: it is never
 * ours, and whoever can write the directory could have planted one to
 * make root write (and truncate) any file.  A file we did not make (owned
 * by another user, or hard-linked elsewhere) is replaced likewise, so
 * the pid root reads back is one only we wrote.  The lock is fcntl(2)'s:
 * a forked worker does not inherit it, so the master alone holds it, for
 * its life, and it goes when the master goes whatever its workers do.
 */
static int
pidfile_lock(const char *path, int *fdp, char *why, size_t len)
{
	struct flock	fl;
	struct stat	st, at;
	int		fd, tries;

	for (tries = 0; tries < 4; tries++) {
		/* O_NONBLOCK: a planted FIFO must not hold the start. */
		fd = open(path, O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK |
		    O_CLOEXEC, 0644);
		if (fd == -1 && errno == ELOOP) {
			if (unlink(path) == 0)
				continue;
			snprintf(why, len, "is a symbolic link, never "
			    "followed, and cannot be replaced: %s",
			    strerror(errno));
			return -1;
		}
		if (fd == -1) {
			snprintf(why, len, "%s", strerror(errno));
			return -1;
		}
		if (fstat(fd, &st) == -1 || !S_ISREG(st.st_mode)) {
			snprintf(why, len, "not a regular file");
			close(fd);
			return -1;
		}
		memset(&fl, 0, sizeof(fl));
		fl.l_type = F_WRLCK;
		fl.l_whence = SEEK_SET;
		if (fcntl(fd, F_SETLK, &fl) == -1) {
			if (errno == EAGAIN || errno == EACCES) {
				*fdp = fd;
				return 1;
			}
			snprintf(why, len, "lock: %s", strerror(errno));
			close(fd);
			return -1;
		}
		/* Its last holder may have removed it before we locked. */
		if (lstat(path, &at) == -1 || at.st_dev != st.st_dev ||
		    at.st_ino != st.st_ino) {
			close(fd);
			continue;
		}
		if (st.st_uid != geteuid() || st.st_nlink != 1) {
			close(fd);
			if (unlink(path) == 0)
				continue;
			snprintf(why, len, "not made by us (owner or links) "
			    "and cannot be replaced: %s", strerror(errno));
			return -1;
		}
		*fdp = fd;
		return 0;
	}
	snprintf(why, len, "keeps changing while being locked");
	return -1;
}

/*
 * Lock the pidfile and write our pid into it, before anything is bound:
 * a second instance given the same pidfile stops here, naming the pid of
 * the one that holds it, and neither overwrites nor (at exit) removes it.
 * Returns the descriptor the lock lives on, or -1.
 */
static int
pidfile_take(const struct config *cfg)
{
	const char	*path = cfg->pidfile;
	char		 pid[32], held[32], why[CONFIG_PATH_MAX + 64];
	char		 at[CONFIG_ERR_MAX];
	int		 fd, n, rc;

	/* Named at its directive: this stops the start. */
	config_where(cfg, config_at(cfg, "pidfile"), at, sizeof(at));
	rc = pidfile_lock(path, &fd, why, sizeof(why));
	if (rc == 1) {
		pidfile_read(fd, held, sizeof(held));
		log_error("%s: pidfile %s: in use by a running connectproxy "
		    "(pid %s): not starting a second instance on it", at,
		    path, held[0] != '\0' ? held : "unknown");
		close(fd);
		return -1;
	}
	if (rc == -1) {
		log_error("%s: pidfile %s: %s", at, path, why);
		return -1;
	}
	n = snprintf(pid, sizeof(pid), "%ld\n", (long)getpid());
	if (ftruncate(fd, 0) == -1 || pwrite(fd, pid, (size_t)n, 0) != n) {
		log_error("%s: pidfile %s: %s", at, path, strerror(errno));
		unlink(path);
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * At exit: remove the pidfile only while it is the file we locked and
 * still names us; whatever else now sits at that path is left alone.
 */
static void
pidfile_release(const char *path, int fd)
{
	struct stat	st, at;
	char		held[32], pid[32];

	if (fd == -1)
		return;
	pidfile_read(fd, held, sizeof(held));
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	if (fstat(fd, &st) == 0 && lstat(path, &at) == 0 &&
	    at.st_dev == st.st_dev && at.st_ino == st.st_ino &&
	    strcmp(held, pid) == 0)
		unlink(path);
	close(fd);	/* and with it the lock, after the unlink */
}

/*
 * Under socket activation the sockets systemd passed replace the listen
 * directives; the policy's "own address" denial follows them.
 */
_Static_assert(SDNOTIFY_FDS_MAX <= CONFIG_LISTEN_MAX,
    "a worker polls every activated socket");

static int
take_activated(struct master *m, char *err, size_t errlen)
{
	int	*fds = NULL;
	size_t	 n = 0;

	if (sdnotify_listen_fds(&fds, &n, err, errlen) == -1)
		return -1;
	if (n == 0)
		return 0;
	if (listeners_adopt(fds, n, &m->ls) == -1) {
		snprintf(err, errlen, "socket activation: out of memory");
		free(fds);
		return -1;
	}
	free(fds);
	if (listeners_to_config(&m->ls, m->cfg) == -1) {
		snprintf(err, errlen, "socket activation: out of memory");
		return -1;
	}
	return 0;
}

static int
master_start(struct master *m)
{
	char	err[CONFIG_ERR_MAX];
	int	mfd;

	/*
	 * Handlers first: a HUP or TERM that comes once the port listens,
	 * but before the pool is up, must be a reload or a stop taken in
	 * turn, not the default action that kills the master.
	 */
	if (make_pipe(m->wake) == -1 || master_signals() == -1) {
		log_warn("pipe or signals");
		return -1;
	}
	/* Before any worker drops privileges: they inherit what it opens. */
	if (logger_open(m->cfg, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	preflight_warn(m->cfg);
	if (sdnotify_init() == -1)
		log_warn("NOTIFY_SOCKET");
	m->watchdog_ms = sdnotify_watchdog_usec() / 1000;
	/*
	 * Before anything is bound: a second instance on this pidfile must
	 * not take over the first's control socket either.
	 */
	if (m->cfg->pidfile[0] != '\0') {
		if ((m->pidfd = pidfile_take(m->cfg)) == -1)
			return -1;
		memcpy(m->pidfile, m->cfg->pidfile, sizeof(m->pidfile));
	}
	/* Before the listeners: once the port answers, so does status. */
	if (control_open(&m->ctl, m->cfg) == -1)
		return -1;
	control_started(net_wall_ms());
	if (scrape_bind(&m->scr, m->cfg, &mfd, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return -1;
	}
	scrape_install(&m->scr, m->cfg, mfd);
	if (take_activated(m, err, sizeof(err)) == -1 || (!m->ls.inherited &&
	    listeners_open(m->cfg, NULL, &m->ls, err, sizeof(err)) == -1)) {
		log_error("%s", err);
		return -1;
	}
	log_listeners(NULL, &m->ls);
	start_pool(m);
	log_info("started %u workers", m->cfg->workers_start);
	sdnotify_ready("started");
	return 0;
}

static int
master_serve(struct master *m, struct config *cfg, const char *config_path)
{
	char		err[CONFIG_ERR_MAX];
	int		rc = 1;

	m->cfg = cfg;
	m->path = config_path;
	m->wake[0] = m->wake[1] = -1;
	m->pidfd = -1;
	m->rate = 1;
	control_init(&m->ctl);
	scrape_init(&m->scr);
	m->resolver_own = getenv("RES_OPTIONS") != NULL;
	bound_resolver(m);
	if (priv_lookup(cfg->user, &m->user, 1, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	/* Room for a draining generation beside a full one, and the reserve. */
	if ((m->ps = proc_create(2 * cfg->workers_max + 1)) == NULL ||
	    (m->sb = scoreboard_create(proc_table(m->ps)->nslots)) == NULL) {
		log_warn("scoreboard");
		proc_destroy(m->ps);
		return 1;
	}
	m->procs = proc_table(m->ps);
	if (master_start(m) == 0) {
		loop(m);
		if (sig_quit && !sig_stop)
			graceful_stop(m);
		/*
		 * Only now, with what is left bounded by shutdown_timeout:
		 * systemd kills the unit TimeoutStopSec after STOPPING=1.
		 * On TERM systemd started the stop itself and already counts.
		 */
		sdnotify_stopping(sig_quit && !sig_stop ? "graceful stop: "
		    "all tunnels closed" : "stopping");
		log_info("stopping");
		stop(m);
		rc = proc_fatal(m->ps) ? 1 : 0;
	}
	/* The file written at start, even if a reload named another. */
	pidfile_release(m->pidfile, m->pidfd);
	listeners_close(&m->ls);
	control_close(&m->ctl);
	scrape_close(&m->scr);
	logger_close();
	scoreboard_destroy(m->sb, m->procs->nslots);
	proc_destroy(m->ps);
	return rc;
}

int
master_run(struct config *cfg, const char *config_path)
{
	struct master	*mp;
	int		 rc;

	/*
	 * The master's state lives in shared memory, not on its stack: each
	 * page the master writes after a fork would otherwise stay behind in
	 * that worker as its own stale copy (8 KiB a worker, measured).
	 * Workers never touch it: what they need is copied before fork.
	 */
	mp = mmap(NULL, sizeof(*mp), PROT_READ | PROT_WRITE,
	    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (mp == MAP_FAILED) {
		log_warn("master state");
		return 1;
	}
	memset(mp, 0, sizeof(*mp));
#ifdef PROC_LSAN
	/* LeakSanitizer scans no shared mapping: without this, what only
	 * the master state points to would be reported as leaked. */
	__lsan_register_root_region(mp, sizeof(*mp));
#endif
	rc = master_serve(mp, cfg, config_path);
#ifdef PROC_LSAN
	__lsan_unregister_root_region(mp, sizeof(*mp));
#endif
	munmap(mp, sizeof(*mp));
	return rc;
}
