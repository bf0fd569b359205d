/* SPDX-License-Identifier: ISC */
/*
 * The proxy under test, for the end-to-end harness (see harness_proxy.h):
 * started with a temporary config, signalled, stopped, its workers and
 * its log watched.  The proxies a test started are stopped at exit even
 * when an assertion ends the test early.
 */
#define _GNU_SOURCE

#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <check.h>

#include "harness_files.h"
#include "harness_net.h"
#include "harness_proc.h"
#include "harness_proxy.h"
#include "harness_time.h"

#define REGISTRY_MAX	64

/* Proxies started by this process, stopped by the atexit handler. */
static pid_t	registry[REGISTRY_MAX];
static pid_t	registry_owner;

static void
registry_cleanup(void)
{
	int	i, st;

	if (getpid() != registry_owner)
		return;
	for (i = 0; i < REGISTRY_MAX; i++) {
		if (registry[i] <= 0)
			continue;
		harness_kill_wait(registry[i], 3000);
		registry[i] = 0;
	}
	while (waitpid(-1, &st, WNOHANG) > 0)
		;
}

static void
registry_add(pid_t pid)
{
	int	i;

	if (registry_owner != getpid()) {
		memset(registry, 0, sizeof(registry));
		registry_owner = getpid();
		atexit(registry_cleanup);
	}
	for (i = 0; i < REGISTRY_MAX; i++) {
		if (registry[i] == 0) {
			registry[i] = pid;
			return;
		}
	}
}

static void
registry_del(pid_t pid)
{
	int	i;

	for (i = 0; i < REGISTRY_MAX; i++)
		if (registry[i] == pid)
			registry[i] = 0;
}

const char *
harness_bin(void)
{
	const char	*s;

	s = getenv("CONNECTPROXY_BIN");
	return s != NULL && *s != '\0' ? s : "./connectproxy";
}

static int
proxy_prepare(struct harness_proxy *p, const char *conf_text)
{
	memset(p, 0, sizeof(*p));
	p->pid = -1;
	if (harness_tmpdir(p->dir, sizeof(p->dir)) == -1)
		return -1;
	snprintf(p->conf, sizeof(p->conf), "%s/connectproxy.conf", p->dir);
	snprintf(p->log, sizeof(p->log), "%s/stderr.log", p->dir);
	if (harness_write_file(p->conf, conf_text) == -1 ||
	    harness_write_file(p->log, "") == -1)
		return -1;
	return 0;
}

int
harness_proxy_spawn(struct harness_proxy *p, const char *conf_text)
{
	char	*argv[4];

	if (proxy_prepare(p, conf_text) == -1)
		return -1;
	argv[0] = (char *)harness_bin();
	argv[1] = (char *)"-c";
	argv[2] = p->conf;
	argv[3] = NULL;
	/* execvp would search $PATH for a bare name; keep it a path. */
	if (strchr(argv[0], '/') == NULL)
		return -1;
	if ((p->pid = harness_spawn(argv, p->log)) == -1)
		return -1;
	registry_add(p->pid);
	return 0;
}

int
harness_proxy_start(struct harness_proxy *p, const char *conf)
{
	char		*text;
	size_t		 len;
	int		 port, rc;
	long long	 deadline;

	if ((port = harness_free_port(AF_INET)) == -1)
		return -1;
	len = strlen(conf) + 64;
	if ((text = malloc(len)) == NULL)
		return -1;
	snprintf(text, len, "listen 127.0.0.1:%d\n%s\n", port, conf);
	rc = harness_proxy_spawn(p, text);
	free(text);
	p->port = port;
	if (rc == -1)
		return -1;
	deadline = harness_now_ms() + harness_ms(5000);
	do {
		if (harness_wait_listen(port, 50) == 0)
			return 0;
		if (harness_proxy_wait_exit(p, 0) == 0)
			return -1;
	} while (harness_now_ms() < deadline);
	return -1;
}

void
harness_proxy_up(struct harness_proxy *p, const char *conf)
{
	int	rc;

	rc = harness_proxy_start(p, conf);
	EXPECT(p, rc == 0, "proxy did not start listening (%s, status %d)",
	    harness_bin(), p->status);
}

int
harness_proxy_rewrite_config(struct harness_proxy *p, const char *conf)
{
	char	 tmp[sizeof(p->conf) + 8], *text;
	size_t	 len;
	int	 rc;

	len = strlen(conf) + 64;
	if ((text = malloc(len)) == NULL)
		return -1;
	snprintf(text, len, "listen 127.0.0.1:%d\n%s\n", p->port, conf);
	snprintf(tmp, sizeof(tmp), "%s.new", p->conf);
	rc = harness_write_file(tmp, text);
	free(text);
	if (rc == 0 && rename(tmp, p->conf) == -1)
		rc = -1;
	if (rc == -1)
		unlink(tmp);
	return rc;
}

int
harness_proxy_signal(struct harness_proxy *p, int sig)
{
	if (p->pid <= 0)
		return -1;
	return kill(p->pid, sig);
}

int
harness_proxy_wait_exit(struct harness_proxy *p, int timeout_ms)
{
	int	st;

	if (p->pid <= 0)
		return 0;
	if (harness_waitpid(p->pid, &st, timeout_ms) == -1)
		return -1;
	registry_del(p->pid);
	p->pid = -1;
	p->status = st;
	return 0;
}

int
harness_proxy_stop(struct harness_proxy *p)
{
	int	st;

	if (p->pid <= 0)
		return p->status;
	st = harness_kill_wait(p->pid, harness_ms(5000));
	registry_del(p->pid);
	p->pid = -1;
	p->status = st;
	return st;
}

void
harness_proxy_show_log(const struct harness_proxy *p)
{
	char	*text;
	size_t	 len;

	if (p == NULL || (text = harness_proxy_log(p)) == NULL)
		return;
	len = strlen(text);
	fprintf(stderr, "---- proxy log (%s) ----\n%s----\n", p->log,
	    len > 8000 ? text + len - 8000 : text);
	free(text);
}

/*
 * A sanitizer report from any process of the proxy (a worker's ASan
 * abort, UBSan, a leak at exit) lands in its log: it fails the test, and
 * the directory is kept for a look.
 */
static void
check_sanitizers(struct harness_proxy *p)
{
	static const char *const	 marks[] = {
		"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
		"runtime error:"
	};
	char				*text, *hit = NULL;
	size_t				 i;

	if ((text = harness_proxy_log(p)) == NULL)
		return;
	for (i = 0; i < sizeof(marks) / sizeof(marks[0]) && hit == NULL; i++)
		hit = strstr(text, marks[i]);
	if (hit != NULL) {
		fprintf(stderr, "sanitizer report in %s:\n%.2000s\n", p->log,
		    hit);
		free(text);
		ck_abort_msg("sanitizer report in the proxy's log %s", p->log);
	}
	free(text);
}

void
harness_proxy_free(struct harness_proxy *p)
{
	harness_proxy_stop(p);
	check_sanitizers(p);
	harness_rmdir(p->dir);
	p->dir[0] = '\0';
}

char *
harness_proxy_log(const struct harness_proxy *p)
{
	return harness_read_file(p->log);
}

/* Find a line of text with needle (and `and`); copy it to line. */
static int
find_line(const char *text, const char *needle, const char *and,
    char *line, size_t len)
{
	const char	*s, *e;
	size_t		 n;

	for (s = text; s != NULL && *s != '\0'; s = e ? e + 1 : NULL) {
		e = strchr(s, '\n');
		n = e ? (size_t)(e - s) : strlen(s);
		if (!memmem(s, n, needle, strlen(needle)))
			continue;
		if (and != NULL && !memmem(s, n, and, strlen(and)))
			continue;
		if (line != NULL && len > 0) {
			n = n < len - 1 ? n : len - 1;
			memcpy(line, s, n);
			line[n] = '\0';
		}
		return 0;
	}
	return -1;
}

int
harness_proxy_wait_log(const struct harness_proxy *p, const char *needle,
    const char *and, char *line, size_t len, int timeout_ms)
{
	long long	 deadline = harness_now_ms() + timeout_ms;
	char		*text;
	int		 rc;

	do {
		if ((text = harness_proxy_log(p)) != NULL) {
			rc = find_line(text, needle, and, line, len);
			free(text);
			if (rc == 0)
				return 0;
		}
		harness_pause_ms(HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

int
harness_proxy_count_log(const struct harness_proxy *p, const char *needle)
{
	char		*text;
	const char	*s;
	int		 count = 0;

	if ((text = harness_proxy_log(p)) == NULL)
		return -1;
	for (s = strstr(text, needle); s != NULL;
	    s = strstr(s + strlen(needle), needle))
		count++;
	free(text);
	return count;
}

int
harness_proxy_workers(const struct harness_proxy *p, pid_t *pids, int max)
{
	if (p->pid <= 0)
		return 0;
	return harness_children(p->pid, pids, max);
}

int
harness_proxy_wait_workers(const struct harness_proxy *p, int n,
    int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;

	do {
		if (harness_proxy_workers(p, NULL, 0) == n)
			return 0;
		harness_pause_ms(HARNESS_POLL_STEP_MS * 2);
	} while (harness_now_ms() < deadline);
	return -1;
}

int
harness_field(const char *line, const char *key, char *val, size_t len)
{
	const char	*s;
	size_t		 klen = strlen(key), n;

	for (s = strstr(line, key); s != NULL; s = strstr(s + 1, key)) {
		if ((s != line && s[-1] != ' ') || s[klen] != '=')
			continue;
		s += klen + 1;
		n = strcspn(s, " \r\n");
		if (n >= len)
			return -1;
		memcpy(val, s, n);
		val[n] = '\0';
		return 0;
	}
	return -1;
}

long long
harness_field_num(const char *line, const char *key)
{
	char	val[64], *end;
	long long v;

	if (harness_field(line, key, val, sizeof(val)) == -1)
		return -1;
	v = strtoll(val, &end, 10);
	return *end == '\0' && end != val ? v : -1;
}

int
harness_bin_has_crypt(void)
{
	char	*argv[] = { (char *)harness_bin(), "-V", NULL };
	char	 out[256];

	if (harness_run(argv, NULL, out, sizeof(out), harness_ms(10000)) != 0)
		return 1;	/* let the test fail and say why */
	return strstr(out, "without crypt") == NULL;
}

pid_t
harness_proxy_spawn_activated(const struct harness_proxy *p, int fd)
{
	char	pid[32];
	int	out;
	pid_t	child;

	fflush(NULL);
	if ((child = fork()) != 0)
		return child;
	out = open(p->log, O_WRONLY | O_APPEND);
	if (out == -1 || dup2(out, 1) == -1 || dup2(out, 2) == -1 ||
	    dup2(fd, 3) == -1)
		_exit(127);
	snprintf(pid, sizeof(pid), "%ld", (long)getpid());
	setenv("LISTEN_PID", pid, 1);
	setenv("LISTEN_FDS", "1", 1);
	unsetenv("LISTEN_FDNAMES");
	execl(harness_bin(), harness_bin(), "-c", p->conf, (char *)NULL);
	_exit(127);
}
