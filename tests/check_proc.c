/* SPDX-License-Identifier: ISC */
/*
 * The master's processes (proc.c), with real children of the test: a
 * signal reaches only a live entry of the master's own table, reaping
 * frees the entry and the slot and keeps the count of tunnels served,
 * and the exit reports: a crash loop holds spawning (SIGKILLs do not
 * count), a worker that could not start stops the proxy.
 */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "net.h"
#include "proc.h"
#include "scoreboard.h"
#include "suites.h"

#define NSLOTS	12

/*
 * A child that exits with `status`, or with status -1 waits for a signal
 * (and dies of SIGALRM within 10 s should the test not end it).  SIGTERM
 * stays blocked until the child has let go of Check's handler, which
 * would take the test's whole process group along.
 */
static pid_t
child(int status)
{
	struct sigaction	sa;
	sigset_t		term, old;
	pid_t			pid;

	sigemptyset(&term);
	sigaddset(&term, SIGTERM);
	ck_assert_int_eq(sigprocmask(SIG_BLOCK, &term, &old), 0);
	ck_assert_int_ne(pid = fork(), -1);
	if (pid == 0) {
		if (status >= 0)
			_exit(status);
		memset(&sa, 0, sizeof(sa));
		sa.sa_handler = SIG_DFL;
		(void)sigaction(SIGTERM, &sa, NULL);
		(void)sigaction(SIGALRM, &sa, NULL);
		(void)sigprocmask(SIG_SETMASK, &old, NULL);
		alarm(10);
		for (;;)
			pause();
	}
	ck_assert_int_eq(sigprocmask(SIG_SETMASK, &old, NULL), 0);
	return pid;
}

/* Wait until pid has ended, leaving it for proc_reap() to collect. */
static void
await_end(pid_t pid)
{
	siginfo_t	si;

	ck_assert_int_eq(waitid(P_PID, (id_t)pid, &si, WEXITED | WNOWAIT), 0);
}

/* What the test has read back of the log. */
static char	logbuf[16384];
static size_t	loglen;

/* Log lines go into a pipe the test reads back (the test's own fd 2). */
static int
log_to_pipe(void)
{
	int	fds[2];

	loglen = 0;
	ck_assert_int_eq(pipe(fds), 0);
	ck_assert_int_eq(fcntl(fds[0], F_SETFL, O_NONBLOCK), 0);
	ck_assert_int_eq(dup2(fds[1], STDERR_FILENO), STDERR_FILENO);
	close(fds[1]);
	return fds[0];
}

/* Whether the lines logged so far hold text. */
static int
log_has(int fd, const char *text)
{
	ssize_t	n;

	while (loglen < sizeof(logbuf) - 1 && (n = read(fd, logbuf + loglen,
	    sizeof(logbuf) - 1 - loglen)) > 0)
		loglen += (size_t)n;
	logbuf[loglen] = '\0';
	return strstr(logbuf, text) != NULL;
}

/*
 * Only a live entry of the set's own table is signalled: not a free one
 * (pid 0 would reach the process group), not a record of the same pid
 * held anywhere else.  Signal 0 probes without harm, should a refusal
 * ever fail.
 */
START_TEST(test_signal_own_table_only)
{
	struct proc_set		*ps = proc_create(NSLOTS);
	struct sb_table		*t;
	struct sb_proc		 copy;
	pid_t			 pid = child(-1);
	int			 log = log_to_pipe();

	ck_assert_ptr_nonnull(ps);
	t = proc_table(ps);
	ck_assert_uint_eq(t->nslots, NSLOTS);
	t->procs[3].pid = pid;
	copy = t->procs[3];
	ck_assert_int_eq(proc_signal(ps, &t->procs[0], 0), -1);
	ck_assert_int_eq(proc_signal(ps, &copy, 0), -1);
	ck_assert_int_eq(proc_signal(ps, &t->procs[3], 0), 0);
	ck_assert_int_eq(proc_signal(ps, &t->procs[3], SIGTERM), 0);
	await_end(pid);
	ck_assert_msg(log_has(log, "not sending signal 0 to pid 0: not a "
	    "worker") && log_has(log, "not sending signal 0: not an entry of "
	    "the master's table"), "a refusal was not logged");
	close(log);
	proc_destroy(ps);
	ck_assert_int_eq(waitpid(pid, NULL, 0), pid);
}
END_TEST

/*
 * A reaped worker frees its entry and its slot, and the tunnels its slot
 * counted stay counted, saturated rather than wrapped.
 */
START_TEST(test_reap_frees_and_counts)
{
	struct proc_set		*ps = proc_create(NSLOTS);
	struct scoreboard	*sb = scoreboard_create(NSLOTS);
	struct sb_table		*t;
	pid_t			 a = child(0), b = child(-1);
	int			 log = log_to_pipe();

	ck_assert_ptr_nonnull(ps);
	ck_assert_ptr_nonnull(sb);
	t = proc_table(ps);
	t->procs[1].pid = a;
	t->procs[5].pid = b;
	scoreboard_set_state(sb, &sb->slots[1], SB_RELAYING);
	atomic_store(&sb->slots[1].served, ULLONG_MAX - 1);
	atomic_store(&sb->slots[5].served, 5);
	await_end(a);
	ck_assert_uint_eq(proc_reap(ps, sb), 1);
	ck_assert_int_eq(t->procs[1].pid, 0);
	ck_assert_int_eq(atomic_load(&sb->slots[1].state), SB_FREE);
	ck_assert_uint_eq(proc_served(ps), ULLONG_MAX - 1);
	ck_assert_int_eq(proc_signal(ps, &t->procs[5], SIGKILL), 0);
	await_end(b);
	ck_assert_uint_eq(proc_reap(ps, sb), 0);
	ck_assert_uint_eq(proc_served(ps), ULLONG_MAX);
	ck_assert_int_eq(proc_fatal(ps), 0);
	close(log);
	scoreboard_destroy(sb, NSLOTS);
	proc_destroy(ps);
}
END_TEST

/* n children of the table end as `how` (an exit status, or -SIGNAL). */
static void
end_children(struct proc_set *ps, unsigned n, int how)
{
	struct sb_table	*t = proc_table(ps);
	unsigned	 i;

	for (i = 0; i < n; i++)
		t->procs[i].pid = child(how >= 0 ? how : -1);
	if (how < 0)
		proc_signal_all(ps, -how);
	for (i = 0; i < n; i++)
		await_end(t->procs[i].pid);
}

/*
 * More than 10 abnormal exits within 10 s hold spawning: 10 do not, the
 * 11th does, and SIGKILL (the OOM killer, an operator) never counts.
 */
START_TEST(test_crash_brake)
{
	struct proc_set		*ps = proc_create(NSLOTS);
	struct scoreboard	*sb = scoreboard_create(NSLOTS);
	int			 log;

	ck_assert_ptr_nonnull(ps);
	ck_assert_ptr_nonnull(sb);
	log = log_to_pipe();
	end_children(ps, 11, -SIGKILL);
	ck_assert_uint_eq(proc_reap(ps, sb), 0);
	ck_assert_int_eq(proc_held(ps, net_mono_ms()), 0);
	end_children(ps, 10, 1);
	ck_assert_uint_eq(proc_reap(ps, sb), 0);
	ck_assert_int_eq(proc_held(ps, net_mono_ms()), 0);
	end_children(ps, 1, -SIGTERM);
	ck_assert_uint_eq(proc_reap(ps, sb), 0);
	ck_assert_int_eq(proc_held(ps, net_mono_ms()), 1);
	ck_assert_int_eq(proc_held(ps, net_mono_ms() + 10001), 0);
	ck_assert_msg(log_has(log, "11 workers failed within 10 s; not "
	    "spawning for 10 s"), "no brake line in the log");
	ck_assert_int_eq(proc_fatal(ps), 0);
	close(log);
	scoreboard_destroy(sb, NSLOTS);
	proc_destroy(ps);
}
END_TEST

/* A worker that could not start (exit 2) is fatal, and said so. */
START_TEST(test_fatal_exit)
{
	struct proc_set		*ps = proc_create(NSLOTS);
	struct scoreboard	*sb = scoreboard_create(NSLOTS);
	int			 log;

	ck_assert_ptr_nonnull(ps);
	ck_assert_ptr_nonnull(sb);
	log = log_to_pipe();
	end_children(ps, 1, 2);
	ck_assert_uint_eq(proc_reap(ps, sb), 0);
	ck_assert_int_eq(proc_fatal(ps), 1);
	ck_assert_msg(log_has(log, "could not start"), "no log line");
	close(log);
	scoreboard_destroy(sb, NSLOTS);
	proc_destroy(ps);
}
END_TEST

Suite *
proc_suite(void)
{
	Suite	*s = suite_create("proc");
	TCase	*tc = tcase_create("books");

	tcase_add_test(tc, test_signal_own_table_only);
	tcase_add_test(tc, test_reap_frees_and_counts);
	tcase_add_test(tc, test_crash_brake);
	tcase_add_test(tc, test_fatal_exit);
	suite_add_tcase(s, tc);
	return s;
}
