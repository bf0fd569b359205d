/* SPDX-License-Identifier: ISC */
/*
 * loadgen spawn: the floor under any pool of one process per tunnel.  One
 * process forks -n children, each of which reports that it runs and then
 * waits; the figure is the time until all of them have run.  No socket
 * is involved.  The children read a pipe whose write end only this
 * process holds, so they all exit when it closes it or dies.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>

#include "lg.h"

#define LG_SPAWN_MAX	10000	/* a measurement, not a fork bomb */

static _Noreturn void
child(int up, int hold)
{
	char	c;

	(void)write(up, "x", 1);
	while (read(hold, &c, 1) == -1 && errno == EINTR)
		;
	_exit(0);
}

int
lg_spawn_run(const struct lg_opts *o)
{
	int		 up[2], hold[2];
	long		 i, forked = 0, running = 0;
	long long	 t0, t_forked, t_running;
	ssize_t		 r;
	char		 buf[256];

	if (o->count > LG_SPAWN_MAX) {
		fprintf(stderr, "loadgen: spawn: at most %d children\n",
		    LG_SPAWN_MAX);
		return -1;
	}
	if (pipe(up) == -1 || pipe(hold) == -1) {
		perror("loadgen: pipe");
		return -1;
	}
	t0 = lg_now_ns();
	for (i = 0; i < o->count; i++) {
		pid_t pid = fork();

		if (pid == 0) {
			close(up[0]);
			close(hold[1]);
			child(up[1], hold[0]);
		}
		if (pid == -1) {
			perror("loadgen: fork");
			break;
		}
		forked++;
	}
	t_forked = lg_now_ns() - t0;
	close(up[1]);
	close(hold[0]);
	while (running < forked) {
		r = read(up[0], buf, sizeof(buf));
		if (r == -1 && errno == EINTR)
			continue;
		if (r <= 0)
			break;
		running += r;
	}
	t_running = lg_now_ns() - t0;
	close(hold[1]);		/* every child reads EOF and exits */
	while (wait(NULL) > 0 || errno == EINTR)
		;
	printf("spawn n=%ld forked=%ld running=%ld fork_secs=%.3f "
	    "secs=%.3f\n", o->count, forked, running, t_forked / 1e9,
	    t_running / 1e9);
	return forked == o->count && running == forked ? 0 : -1;
}
