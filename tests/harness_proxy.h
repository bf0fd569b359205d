/* SPDX-License-Identifier: ISC */
/*
 * The proxy under test, for the end-to-end harness: the real binary
 * started with a temporary config, signalled and stopped by pid, its
 * workers counted and its log read.  A sanitizer report in that log
 * fails the test that started the proxy.
 */
#ifndef HARNESS_PROXY_H
#define HARNESS_PROXY_H

#include <stddef.h>
#include <sys/types.h>

#include <check.h>

#include "harness_files.h"

/* A running (or exited) proxy started by harness_proxy_start(). */
struct harness_proxy {
	pid_t	pid;			/* master; -1 once reaped */
	int	status;			/* wait status once reaped */
	int	port;			/* the 127.0.0.1 listen port */
	char	dir[HARNESS_PATH_MAX];	/* private temporary directory */
	char	conf[HARNESS_PATH_MAX + 32];	/* dir/connectproxy.conf */
	char	log[HARNESS_PATH_MAX + 32];	/* dir/stderr.log, stdout too */
};

/* The binary under test: $CONNECTPROXY_BIN or ./connectproxy. */
const char *harness_bin(void);
/*
 * Whether the binary under test can check passwords: a build against a C
 * library without crypt(3) refuses every auth_file (its -V says so).
 */
int	harness_bin_has_crypt(void);

/*
 * Write "listen 127.0.0.1:PORT" (a free port) plus `conf` into a fresh
 * temporary config, start the proxy with -c, its stdout and stderr going
 * to p->log, and wait until the port listens.  Returns 0, or -1 when the
 * proxy failed to start (p->pid is then -1 and p->status is set).
 */
int	harness_proxy_start(struct harness_proxy *p, const char *conf);
/* harness_proxy_start(), failing the test (with the log) if it fails. */
void	harness_proxy_up(struct harness_proxy *p, const char *conf);
/*
 * Like harness_proxy_start() but with the complete config text as given
 * and no wait: for start-up failures.  Returns 0 or -1.
 */
int	harness_proxy_spawn(struct harness_proxy *p, const char *conf_text);
/*
 * Start the proxy as systemd's socket activation does, on p's config and
 * log (as harness_proxy_start() wrote them): `fd` becomes its fd 3, with
 * LISTEN_PID and LISTEN_FDS=1.  No wait.  Returns the child's pid (the
 * caller keeps it in p->pid), or -1.
 */
pid_t	harness_proxy_spawn_activated(const struct harness_proxy *p, int fd);
/*
 * Replace the config of a started proxy with "listen 127.0.0.1:PORT"
 * (its port) plus `conf`, as harness_proxy_start() wrote it, atomically
 * (a temporary file, then rename(2)); send HUP to load it.  0 or -1.
 */
int	harness_proxy_rewrite_config(struct harness_proxy *p,
	    const char *conf);
/* Send a signal to the master, by pid.  Returns 0 or -1. */
int	harness_proxy_signal(struct harness_proxy *p, int sig);
/*
 * Wait up to timeout_ms for the master to exit; reaps it and sets
 * p->status.  Returns 0, or -1 on timeout.
 */
int	harness_proxy_wait_exit(struct harness_proxy *p, int timeout_ms);
/*
 * Stop the proxy: TERM, bounded wait, then KILL.  Returns the wait
 * status, or -1.  Temporary files stay until harness_proxy_free().
 */
int	harness_proxy_stop(struct harness_proxy *p);
/* Stop if still running, then remove the temporary directory. */
void	harness_proxy_free(struct harness_proxy *p);

/* Live (non-zombie) children of the master into pids; returns the count. */
int	harness_proxy_workers(const struct harness_proxy *p, pid_t *pids,
	    int max);
/* Wait until the master has exactly n live children.  Returns 0 or -1. */
int	harness_proxy_wait_workers(const struct harness_proxy *p, int n,
	    int timeout_ms);

/* The log so far; the caller frees. */
char	*harness_proxy_log(const struct harness_proxy *p);
/* The tail of the proxy's log on stderr, to explain a failing test. */
void	harness_proxy_show_log(const struct harness_proxy *p);
/* Fail the test with the proxy's log shown when cond does not hold. */
#define EXPECT(p, cond, ...)	do {					\
	if (!(cond)) {							\
		harness_proxy_show_log(p);				\
		ck_abort_msg(__VA_ARGS__);				\
	}								\
} while (0)
/*
 * Wait for a log line containing `needle` and, when `and` is not NULL,
 * also `and`.  Copies the line into line (may be NULL).  Returns 0 or -1.
 */
int	harness_proxy_wait_log(const struct harness_proxy *p,
	    const char *needle, const char *and, char *line, size_t len,
	    int timeout_ms);
/* Number of log lines containing `needle`. */
int	harness_proxy_count_log(const struct harness_proxy *p,
	    const char *needle);
/* Value of `key=` in a "key=value ..." line into val.  Returns 0 or -1. */
int	harness_field(const char *line, const char *key, char *val,
	    size_t len);
/* Numeric value of `key=`, or -1. */
long long harness_field_num(const char *line, const char *key);

#endif
