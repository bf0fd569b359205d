/*
 * The master process: binds the listeners, forks the workers, and
 * supervises them.  Signal handlers only set flags and write a byte to a
 * self-pipe; the loop below polls that pipe with a 1 s tick and does the
 * work: reap, respawn (with a crash-loop brake), stop.
 */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include "config.h"
#include "log.h"
#include "master.h"
#include "net.h"
#include "priv.h"
#include "worker.h"

#define LISTEN_BACKLOG		511
#define SHUTDOWN_TIMEOUT_MS	10000
#define FORK_RETRY_MS		1000
#define BRAKE_EXITS		10	/* more than this many abnormal exits */
#define BRAKE_WINDOW_MS		10000	/* within this window ... */
#define BRAKE_PAUSE_MS		10000	/* ... pause spawning this long */
#define EXIT_WORKER_FATAL	2	/* a worker could not start at all */

static volatile sig_atomic_t	sig_stop, sig_hup, sig_chld, sig_usr1;
static int			selfpipe[2] = { -1, -1 };

struct master {
	struct config		*cfg;
	const char		*path;
	struct priv_user	 user;
	int			*lfds;
	size_t			 nlfds;
	pid_t			*pids;		/* one per worker slot, 0 = free */
	size_t			 npids;
	long long		 exits[BRAKE_EXITS + 1];	/* ring */
	size_t			 nexits;
	long long		 hold_until;	/* no spawning before this */
	int			 worker_fatal;
};

static void
on_signal(int sig)
{
	int	saved = errno;

	if (sig == SIGTERM || sig == SIGINT || sig == SIGQUIT)
		sig_stop = 1;
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
master_signals(void)
{
	static const int	 sigs[] = {
		SIGTERM, SIGINT, SIGQUIT, SIGHUP, SIGCHLD, SIGUSR1
	};
	struct sigaction	 sa;
	size_t			 i;

	if (pipe(selfpipe) == -1)
		return -1;
	for (i = 0; i < 2; i++)
		if (net_set_nonblock(selfpipe[i], 1) == -1 ||
		    fcntl(selfpipe[i], F_SETFD, FD_CLOEXEC) == -1)
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

static int
open_listeners(struct master *m)
{
	struct timeval	tv = { 1, 0 };
	size_t		i;

	m->lfds = calloc(m->cfg->nlisten, sizeof(int));
	if (m->lfds == NULL)
		return -1;
	for (i = 0; i < m->cfg->nlisten; i++) {
		struct listen_addr *la = &m->cfg->listen[i];

		m->lfds[i] = net_listen((struct sockaddr *)&la->ss, la->len,
		    LISTEN_BACKLOG);
		if (m->lfds[i] == -1) {
			log_warn("listen %s", la->text);
			return -1;
		}
		m->nlfds++;
		/* Wakes an idle worker's accept() once a second. */
		(void)setsockopt(m->lfds[i], SOL_SOCKET, SO_RCVTIMEO, &tv,
		    sizeof(tv));
		/* Several listeners are polled; a lost race must not block. */
		if (m->cfg->nlisten > 1)
			(void)net_set_nonblock(m->lfds[i], 1);
		log_info("listening on %s", la->text);
	}
	return 0;
}

static void
child_main(struct master *m, pid_t master)
{
	close(selfpipe[0]);
	close(selfpipe[1]);
	log_init(m->cfg->log_level, "worker");
	if (priv_drop(&m->user) == -1)
		_exit(EXIT_WORKER_FATAL);
	worker_main(m->cfg, m->lfds, m->nlfds, master);
}

/* Fork a worker into slot i.  Signals stay blocked across fork so that
 * the child never runs the master's handlers. */
static int
spawn(struct master *m, size_t i)
{
	sigset_t	all, old;
	pid_t		pid, self = getpid();

	sigfillset(&all);
	sigprocmask(SIG_BLOCK, &all, &old);
	pid = fork();
	if (pid == 0)
		child_main(m, self);
	sigprocmask(SIG_SETMASK, &old, NULL);
	if (pid == -1) {
		log_warn("fork");
		return -1;
	}
	m->pids[i] = pid;
	log_debug("worker %ld started", (long)pid);
	return 0;
}

/* Count an abnormal exit; engage the brake on a crash loop. */
static void
note_abnormal(struct master *m)
{
	long long	now = net_now_ms();
	size_t		cap = BRAKE_EXITS + 1;

	m->exits[m->nexits++ % cap] = now;
	if (m->nexits >= cap &&
	    now - m->exits[m->nexits % cap] <= BRAKE_WINDOW_MS) {
		log_error("%d workers failed within %d s; not spawning for "
		    "%d s", BRAKE_EXITS + 1, BRAKE_WINDOW_MS / 1000,
		    BRAKE_PAUSE_MS / 1000);
		m->hold_until = now + BRAKE_PAUSE_MS;
		m->nexits = 0;
	}
}

static void
report_exit(struct master *m, pid_t pid, int status)
{
	if (WIFSIGNALED(status)) {
		log_warnx("worker %ld killed by signal %d", (long)pid,
		    WTERMSIG(status));
		note_abnormal(m);
	} else if (WEXITSTATUS(status) == EXIT_WORKER_FATAL) {
		log_error("worker %ld could not start", (long)pid);
		m->worker_fatal = 1;
	} else if (WEXITSTATUS(status) != 0) {
		log_warnx("worker %ld exited with status %d", (long)pid,
		    WEXITSTATUS(status));
		note_abnormal(m);
	} else
		log_debug("worker %ld exited", (long)pid);
}

/* Reap every exited child; returns how many workers are still alive. */
static size_t
reap(struct master *m)
{
	size_t	i, alive = 0;
	pid_t	pid;
	int	status;

	while ((pid = waitpid(-1, &status, WNOHANG)) > 0) {
		for (i = 0; i < m->npids; i++)
			if (m->pids[i] == pid)
				break;
		if (i == m->npids)
			continue;
		m->pids[i] = 0;
		report_exit(m, pid, status);
	}
	for (i = 0; i < m->npids; i++)
		alive += m->pids[i] != 0;
	return alive;
}

/* Fill every free slot, unless the brake or a fork failure holds us. */
static void
maintain(struct master *m)
{
	size_t	i;

	if (net_now_ms() < m->hold_until)
		return;
	for (i = 0; i < m->npids; i++) {
		if (m->pids[i] != 0)
			continue;
		if (spawn(m, i) == -1) {
			/* Retried on a later tick, never spun on. */
			m->hold_until = net_now_ms() + FORK_RETRY_MS;
			return;
		}
	}
}

static void
drain_selfpipe(int timeout_ms)
{
	struct pollfd	pfd = { .fd = selfpipe[0], .events = POLLIN };
	char		buf[64];

	if (poll(&pfd, 1, timeout_ms) > 0)
		while (read(selfpipe[0], buf, sizeof(buf)) > 0)
			continue;
}

static void
signal_workers(struct master *m, int sig)
{
	size_t	i;

	for (i = 0; i < m->npids; i++)
		if (m->pids[i] != 0)
			kill(m->pids[i], sig);
}

/* Fast stop: close the listeners, TERM the workers, KILL stragglers. */
static void
stop(struct master *m)
{
	long long	deadline = net_now_ms() + SHUTDOWN_TIMEOUT_MS;
	long long	left;
	size_t		i;

	for (i = 0; i < m->nlfds; i++)
		close(m->lfds[i]);
	m->nlfds = 0;
	signal_workers(m, SIGTERM);
	while (reap(m) > 0) {
		if ((left = deadline - net_now_ms()) <= 0) {
			log_warnx("workers still running after %d s; killing",
			    SHUTDOWN_TIMEOUT_MS / 1000);
			signal_workers(m, SIGKILL);
			while (waitpid(-1, NULL, 0) > 0)
				continue;
			break;
		}
		drain_selfpipe(left > 1000 ? 1000 : (int)left);
	}
}

static void
loop(struct master *m)
{
	while (!sig_stop && !m->worker_fatal) {
		drain_selfpipe(1000);
		if (sig_chld) {
			sig_chld = 0;
			reap(m);
		}
		if (sig_hup) {
			sig_hup = 0;
			log_info("SIGHUP: reload is not supported yet; "
			    "configuration unchanged");
		}
		if (sig_usr1) {
			sig_usr1 = 0;
			log_info("SIGUSR1: no log files to reopen");
		}
		if (!sig_stop && !m->worker_fatal)
			maintain(m);
	}
}

int
master_run(struct config *cfg, const char *config_path)
{
	struct master	m;
	char		err[CONFIG_ERR_MAX];
	int		rc = 1;

	memset(&m, 0, sizeof(m));
	m.cfg = cfg;
	m.path = config_path;
	if (priv_lookup(cfg->user, &m.user, 1, err, sizeof(err)) == -1) {
		log_error("%s", err);
		return 1;
	}
	m.npids = cfg->workers_start;
	if ((m.pids = calloc(m.npids, sizeof(pid_t))) == NULL) {
		log_warn("calloc");
		return 1;
	}
	if (open_listeners(&m) == -1 || master_signals() == -1)
		goto out;
	maintain(&m);
	log_info("started %zu workers", m.npids);
	loop(&m);
	log_info("stopping");
	stop(&m);
	rc = m.worker_fatal ? 1 : 0;
out:
	while (m.nlfds > 0)
		close(m.lfds[--m.nlfds]);
	free(m.lfds);
	free(m.pids);
	return rc;
}
