/* SPDX-License-Identifier: ISC */
/*
 * Child processes of the end-to-end harness: external programs (curl,
 * openssl, ip) run with their output captured or spawned in the
 * background, stopped by pid, and processes watched through /proc.
 * Every child dies with the test process.
 */
#ifndef HARNESS_PROC_H
#define HARNESS_PROC_H

#include <stddef.h>
#include <sys/types.h>

/* 1 when `cmd` is an executable found in $PATH. */
int	harness_have(const char *cmd);
/*
 * Run argv[0] from $PATH with `input` on stdin (may be NULL) and stdout
 * plus stderr captured into out (NUL-terminated, truncated).  Killed
 * after timeout_ms.  Returns the wait status, or -1 (error or timeout).
 */
int	harness_run(char *const argv[], const char *input, char *out,
	    size_t len, int timeout_ms);
/* Start argv in the background, output to logpath.  Returns pid or -1. */
pid_t	harness_spawn(char *const argv[], const char *logpath);
/* TERM the pid, bounded wait, then KILL.  Returns wait status or -1. */
int	harness_kill_wait(pid_t pid, int timeout_ms);

/* Live (non-zombie) children of `pid`; pids may be NULL. */
int	harness_children(pid_t pid, pid_t *pids, int max);
/* 1 when pid is gone or a zombie. */
int	harness_pid_gone(pid_t pid);
/* Wait until harness_pid_gone(pid).  Returns 0 or -1. */
int	harness_wait_pid_gone(pid_t pid, int timeout_ms);
/* The soft RLIMIT_NOFILE raised to the hard one, for many sockets. */
void	harness_raise_nofile(void);
/*
 * How many of process pid's descriptors are open on `what`, as
 * /proc/PID/fd names it (a path, "socket:[INODE]"), or -1.
 */
int	harness_fds_on(pid_t pid, const char *what);

/* Building blocks of the harness's other files. */
/*
 * In a fresh child: die with the parent (SIGKILL), SIGPIPE and SIGCHLD
 * back to their defaults, no signal blocked.
 */
void	harness_child_setup(void);
/* waitpid() with a bound.  Returns 0 with *st, or -1 (timeout, error). */
int	harness_waitpid(pid_t pid, int *st, int timeout_ms);

#endif
