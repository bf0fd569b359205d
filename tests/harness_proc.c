/* SPDX-License-Identifier: ISC */
/*
 * Child processes of the end-to-end harness (see harness_proc.h):
 * programs found, spawned, run with their output captured, stopped, and
 * watched through /proc.  Every child started here dies with the test
 * process (PR_SET_PDEATHSIG).
 */
#define _GNU_SOURCE

#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_files.h"
#include "harness_proc.h"
#include "harness_time.h"

void
harness_child_setup(void)
{
	sigset_t	set;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	signal(SIGPIPE, SIG_DFL);
	signal(SIGCHLD, SIG_DFL);
	sigemptyset(&set);
	sigprocmask(SIG_SETMASK, &set, NULL);
}

int
harness_have(const char *cmd)
{
	char		 path[1024], *p, *dir, *save = NULL;
	const char	*env;
	int		 found = 0;

	env = getenv("PATH");
	if (env == NULL)
		env = "/usr/bin:/bin";
	p = strdup(env);
	if (p == NULL)
		return 0;
	for (dir = strtok_r(p, ":", &save); dir != NULL && !found;
	    dir = strtok_r(NULL, ":", &save)) {
		snprintf(path, sizeof(path), "%s/%s", dir, cmd);
		found = access(path, X_OK) == 0;
	}
	free(p);
	return found;
}

int
harness_pid_gone(pid_t pid)
{
	char	 path[64], *buf, *p;
	int	 gone;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	if ((buf = harness_read_file(path)) == NULL)
		return 1;
	p = strrchr(buf, ')');
	gone = p == NULL || p[1] == '\0' || p[2] == 'Z' || p[2] == 'X';
	free(buf);
	return gone;
}

int
harness_wait_pid_gone(pid_t pid, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;

	do {
		if (harness_pid_gone(pid))
			return 0;
		harness_pause_ms(HARNESS_POLL_STEP_MS);
	} while (harness_now_ms() < deadline);
	return -1;
}

/* ppid of a live process, or -1 when gone or a zombie. */
static pid_t
proc_ppid(const char *name)
{
	char	 path[300], buf[1024], *p, state;
	int	 fd, ppid;
	ssize_t	 n;

	snprintf(path, sizeof(path), "/proc/%s/stat", name);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return -1;
	buf[n] = '\0';
	if ((p = strrchr(buf, ')')) == NULL)
		return -1;
	if (sscanf(p + 1, " %c %d", &state, &ppid) != 2 ||
	    state == 'Z' || state == 'X')
		return -1;
	return ppid;
}

int
harness_children(pid_t pid, pid_t *pids, int max)
{
	DIR		*d;
	struct dirent	*de;
	int		 count = 0, n = 0;

	if ((d = opendir("/proc")) == NULL)
		return -1;
	while ((de = readdir(d)) != NULL && n++ < 1000000) {
		if (!isdigit((unsigned char)de->d_name[0]))
			continue;
		if (proc_ppid(de->d_name) != pid)
			continue;
		if (pids != NULL && count < max)
			pids[count] = (pid_t)atoi(de->d_name);
		count++;
	}
	closedir(d);
	return count;
}

/* exec argv[0] in this child with stdin/out/err already arranged. */
static void
exec_child(char *const argv[])
{
	execvp(argv[0], argv);
	fprintf(stderr, "exec %s: %s\n", argv[0], strerror(errno));
	_exit(127);
}

static int
redirect_output(const char *logpath)
{
	int	fd, nul;

	fd = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0644);
	nul = open("/dev/null", O_RDONLY);
	if (fd == -1 || nul == -1)
		return -1;
	if (dup2(nul, 0) == -1 || dup2(fd, 1) == -1 || dup2(fd, 2) == -1)
		return -1;
	close(fd);
	close(nul);
	return 0;
}

pid_t
harness_spawn(char *const argv[], const char *logpath)
{
	pid_t	pid;

	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		harness_child_setup();
		/* The proxy stops cleanly when the test process dies. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (redirect_output(logpath) == -1)
			_exit(127);
		exec_child(argv);
	}
	return pid;
}

int
harness_waitpid(pid_t pid, int *st, int timeout_ms)
{
	long long	deadline = harness_now_ms() + timeout_ms;
	pid_t		r;

	do {
		r = waitpid(pid, st, WNOHANG);
		if (r == pid)
			return 0;
		if (r == -1 && errno != EINTR)
			return -1;
		harness_pause_ms(r == 0 ? 10 : 0);
	} while (harness_now_ms() < deadline);
	return -1;
}

int
harness_kill_wait(pid_t pid, int timeout_ms)
{
	int	st;

	if (pid <= 0)
		return -1;
	kill(pid, SIGTERM);
	if (harness_waitpid(pid, &st, timeout_ms) == 0)
		return st;
	kill(pid, SIGKILL);
	if (harness_waitpid(pid, &st, 5000) == 0)
		return st;
	return -1;
}

/* Feed input (if any) and collect output from a running child. */
static int
collect_output(int in, int outfd, const char *input, char *out, size_t len,
    long long deadline)
{
	size_t	used = 0, inoff = 0, inlen = input ? strlen(input) : 0;
	ssize_t	n;
	char	scratch[4096];

	if (in != -1 && inlen == 0) {
		close(in);
		in = -1;
	}
	for (;;) {
		struct pollfd	pfd[2] = {
			{ .fd = outfd, .events = POLLIN },
			{ .fd = in, .events = POLLOUT }
		};
		if (poll(pfd, in != -1 ? 2 : 1,
		    harness_remaining_ms(deadline)) <= 0) {
			if (in != -1)
				close(in);
			return -1;
		}
		if (in != -1 && pfd[1].revents) {
			n = write(in, input + inoff, inlen - inoff);
			if (n > 0)
				inoff += (size_t)n;
			if (n <= 0 || inoff == inlen) {
				close(in);
				in = -1;
			}
		}
		if (pfd[0].revents == 0)
			continue;
		n = read(outfd, scratch, sizeof(scratch));
		if (n <= 0)
			break;
		if (len > 0 && used < len - 1) {
			size_t c = (size_t)n < len - 1 - used ?
			    (size_t)n : len - 1 - used;
			memcpy(out + used, scratch, c);
			used += c;
		}
	}
	if (in != -1)
		close(in);
	if (len > 0)
		out[used] = '\0';
	return 0;
}

int
harness_run(char *const argv[], const char *input, char *out, size_t len,
    int timeout_ms)
{
	int		inp[2], outp[2], st, rc;
	pid_t		pid;
	long long	deadline = harness_now_ms() + timeout_ms;

	if (len > 0)
		out[0] = '\0';
	if (pipe2(inp, O_CLOEXEC) == -1)
		return -1;
	if (pipe2(outp, O_CLOEXEC) == -1) {
		close(inp[0]);
		close(inp[1]);
		return -1;
	}
	fflush(NULL);
	if ((pid = fork()) == 0) {
		harness_child_setup();
		if (dup2(inp[0], 0) == -1 || dup2(outp[1], 1) == -1 ||
		    dup2(outp[1], 2) == -1)
			_exit(127);
		exec_child(argv);
	}
	close(inp[0]);
	close(outp[1]);
	if (pid == -1) {
		close(inp[1]);
		close(outp[0]);
		return -1;
	}
	rc = collect_output(inp[1], outp[0], input, out, len, deadline);
	close(outp[0]);
	if (rc == -1 ||
	    harness_waitpid(pid, &st, harness_remaining_ms(deadline)) == -1) {
		harness_kill_wait(pid, 1000);
		return -1;
	}
	return st;
}

void
harness_raise_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
		rl.rlim_cur = rl.rlim_max;
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int
harness_fds_on(pid_t pid, const char *what)
{
	struct dirent	*d;
	DIR		*dir;
	char		 name[320], link[HARNESS_PATH_MAX + 64];
	ssize_t		 n;
	int		 count = 0;

	snprintf(name, sizeof(name), "/proc/%ld/fd", (long)pid);
	if ((dir = opendir(name)) == NULL)
		return -1;
	while ((d = readdir(dir)) != NULL) {
		snprintf(name, sizeof(name), "/proc/%ld/fd/%s", (long)pid,
		    d->d_name);
		n = readlink(name, link, sizeof(link) - 1);
		if (n <= 0)
			continue;
		link[n] = '\0';
		count += strcmp(link, what) == 0;
	}
	closedir(dir);
	return count;
}
