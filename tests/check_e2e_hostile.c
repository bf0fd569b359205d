/* SPDX-License-Identifier: ISC */
/*
 * A worker gone bad.  Every worker can write the whole shared scoreboard
 * and send anything through the log pipe; the root master must trust
 * none of it.  These tests play the compromised worker from outside, as
 * root: they overwrite a live worker's scoreboard mapping through
 * /proc/PID/mem, and send hostile messages on its log pipe (a copy of the
 * worker's descriptor, taken with pidfd_getfd(2)).  The proxy runs in its
 * own PID namespace beside a bystander process, so that a master fooled
 * into signalling a pid it read from the scoreboard can hit only the
 * bystander, which the test watches.
 */
#define _GNU_SOURCE

#include <sys/mount.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pwd.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "harness.h"
#include "scoreboard.h"
#include "suites.h"

#define SKIP(why)	do {						\
	fprintf(stderr, "SKIP %s: %s\n", __func__, (why));		\
	return;								\
} while (0)

#define WORKERS_MAX	4	/* scoreboard: 2 * 4 + 1 slots */
#define WAIT_MS		10000	/* "within 10 s" */

enum fill { FILL_BYSTANDER, FILL_FF, FILL_MAXINT, FILL_RANDOM, FILL_COUNT };

static const char *const	fill_names[FILL_COUNT] = {
	"the bystander's pid in every word", "all 0xff bytes",
	"0x7fffffff in every word", "random bytes"
};

/* The size of the scoreboard mapping, as the kernel shows it. */
static size_t
scoreboard_bytes(void)
{
	size_t	page = (size_t)sysconf(_SC_PAGESIZE);
	size_t	n = sizeof(struct scoreboard) + (2 * WORKERS_MAX + 1) *
	    sizeof(struct sb_slot);

	return (n + page - 1) / page * page;
}

/*
 * The address of the scoreboard in worker pid: its one shared anonymous
 * mapping ("rw-s ... /dev/zero (deleted)") of the scoreboard's size.
 * The master's own mappings are unmapped in every worker.  0 when not
 * found exactly once.
 */
static unsigned long
find_scoreboard(pid_t pid, size_t size, char *why, size_t whylen)
{
	char		 path[64], *text, *line, *next;
	unsigned long	 start, end, found = 0;
	char		 perms[8];
	int		 n = 0;

	snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
	if ((text = harness_read_file(path)) == NULL) {
		snprintf(why, whylen, "cannot read %s", path);
		return 0;
	}
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		if (sscanf(line, "%lx-%lx %7s", &start, &end, perms) != 3 ||
		    perms[3] != 's' || strstr(line, "/dev/zero") == NULL ||
		    end - start != size)
			continue;
		found = start;
		n++;
	}
	free(text);
	if (n != 1) {
		snprintf(why, whylen, "%d shared mappings of %zu bytes in "
		    "worker %ld", n, size, (long)pid);
		return 0;
	}
	return found;
}

static void
fill(uint32_t *w, size_t words, enum fill how, uint32_t bystander,
    uint32_t *seed)
{
	size_t	i;

	for (i = 0; i < words; i++) {
		switch (how) {
		case FILL_BYSTANDER:
			w[i] = bystander;
			break;
		case FILL_FF:
			w[i] = 0xffffffffu;
			break;
		case FILL_MAXINT:
			w[i] = 0x7fffffffu;
			break;
		default:
			*seed ^= *seed << 13;
			*seed ^= *seed >> 17;
			*seed ^= *seed << 5;
			w[i] = *seed;
			break;
		}
	}
}

/*
 * Write the whole scoreboard of a live worker of p as `how` says.
 * Returns 0; -1 with why when it could not be done, errno EPERM or EACCES
 * when this machine forbids writing another process's memory.
 */
static int
overwrite(const struct harness_proxy *p, enum fill how, uint32_t bystander,
    uint32_t *seed, char *why, size_t whylen)
{
	size_t		 size = scoreboard_bytes();
	uint32_t	*buf;
	unsigned long	 at = 0;
	pid_t		 workers[16];
	char		 path[64];
	int		 i, n, fd, saved;
	ssize_t		 w = -1;

	if ((buf = malloc(size)) == NULL)
		return -1;
	fill(buf, size / 4, how, bystander, seed);
	n = harness_proxy_workers(p, workers, 16);
	for (i = 0; i < n && i < 16 && w == -1; i++) {
		if ((at = find_scoreboard(workers[i], size, why, whylen)) == 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/mem",
		    (long)workers[i]);
		if ((fd = open(path, O_RDWR | O_CLOEXEC)) == -1) {
			snprintf(why, whylen, "%s: %s", path, strerror(errno));
			if (errno == EPERM || errno == EACCES)
				break;
			continue;
		}
		w = pwrite(fd, buf, size, (off_t)at);
		saved = errno;
		close(fd);
		errno = saved;
		if (w != (ssize_t)size)
			snprintf(why, whylen, "writing %s: %s", path,
			    w == -1 ? strerror(errno) : "short write");
	}
	saved = errno;
	free(buf);
	errno = saved;
	if (n <= 0)
		snprintf(why, whylen, "no worker");
	return w == (ssize_t)size ? 0 : -1;
}

/* A process that waits for a signal, any of which ends it. */
static pid_t
bystander_start(void)
{
	static const int	sigs[] = { SIGHUP, SIGINT, SIGTERM, SIGUSR1,
	    SIGUSR2, SIGQUIT };
	size_t			i;
	pid_t			pid;

	fflush(NULL);
	if ((pid = fork()) == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		for (i = 0; i < sizeof(sigs) / sizeof(sigs[0]); i++)
			signal(sigs[i], SIG_DFL);
		for (;;)
			pause();
	}
	return pid;
}

static int
alive(pid_t pid)
{
	return pid > 0 && !harness_pid_gone(pid);
}

/*
 * A tunnel through p to the echo target on port, with a byte echoed:
 * tried until one works or ms pass (a worker may die under a try).
 */
static int
tunnel_within(const struct harness_proxy *p, int port, int ms)
{
	long long	 deadline = harness_now_ms() + ms;
	char		 target[64], buf[8];
	int		 fd, st, ok = 0;

	snprintf(target, sizeof(target), "127.0.0.1:%d", port);
	do {
		fd = harness_tunnel(p->port, target, NULL, &st, 2000);
		if (fd == -1)
			continue;
		ok = harness_send_str(fd, "ping") == 0 &&
		    harness_recv_exact(fd, buf, 4, 2000) == 4 &&
		    memcmp(buf, "ping", 4) == 0;
		close(fd);
	} while (!ok && harness_now_ms() < deadline);
	return ok ? 0 : -1;
}

/* Wait for the master to log `needle` n times, or to die. */
static int
wait_count(const struct harness_proxy *p, const char *needle, int n, int ms)
{
	long long	deadline = harness_now_ms() + ms;

	do {
		if (harness_proxy_count_log(p, needle) >= n)
			return 0;
		if (!alive(p->pid))
			return -1;
		harness_pause_ms(20);
	} while (harness_now_ms() < deadline);
	return -1;
}

struct pidns {
	pid_t			init;
	pid_t			bystander;	/* here */
	pid_t			bystander_ns;	/* in the namespace */
	struct harness_target	t;
	struct harness_proxy	p;
};

/*
 * The echo target outside, then a PID namespace holding the bystander
 * and the proxy (workers run as nobody when that user exists).  Returns
 * 0, or -1 with why when this machine cannot run the test.
 */
static int
pidns_start(struct pidns *e, char *why, size_t whylen)
{
	char	conf[1024];
	int	rc;

	memset(e, 0, sizeof(*e));
	e->init = e->bystander = -1;
	if (geteuid() != 0) {
		snprintf(why, whylen, "needs root (a PID namespace, and "
		    "/proc/PID/mem of a worker)");
		return -1;
	}
	if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") ==
	    0) {
		snprintf(why, whylen, "needs Check's fork mode: the test "
		    "process makes a PID namespace");
		return -1;
	}
	ck_assert_int_eq(harness_target_start(&e->t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	if (harness_pidns_enter(&e->init) == -1) {
		snprintf(why, whylen, "cannot create a PID namespace: %s",
		    strerror(errno));
		harness_target_stop(&e->t);
		return -1;
	}
	e->bystander = bystander_start();
	snprintf(conf, sizeof(conf), "workers_start 2\nworkers_min_spare 1\n"
	    "workers_max_spare 2\nworkers_max %d\nallow_port %d\n"
	    "allow_dest 127.0.0.1/32\n%s", WORKERS_MAX, e->t.port,
	    getpwnam("nobody") != NULL ? "user nobody\n" : "");
	rc = harness_proxy_start(&e->p, conf);
	/* Nothing else goes inside: a sanitizer's thread at exit cannot. */
	ck_assert_int_eq(harness_pidns_leave(), 0);
	ck_assert_int_gt(e->bystander, 0);
	ck_assert_int_gt(e->bystander_ns = harness_ns_pid(e->bystander), 0);
	ck_assert_int_eq(rc, 0);
	EXPECT(&e->p, harness_proxy_wait_workers(&e->p, 2, harness_ms(
	    WAIT_MS)) == 0, "workers did not start");
	return 0;
}

static void
pidns_free(struct pidns *e)
{
	harness_proxy_free(&e->p);
	harness_target_stop(&e->t);
	if (e->bystander > 0) {
		kill(e->bystander, SIGKILL);
		waitpid(e->bystander, NULL, 0);
	}
	/* The namespace's init: its end ends anything left inside. */
	if (e->init > 0) {
		kill(e->init, SIGKILL);
		waitpid(e->init, NULL, 0);
	}
}

/*
 * Each fill of the scoreboard in turn; after each, the master replaces
 * the workers whose slots make no sense, a reload (which signals every
 * worker) goes through, a tunnel opens within 10 s, and the bystander
 * and the master live.  At the end a TERM (which signals every worker
 * again) stops the proxy cleanly, and the bystander still lives.
 */
START_TEST(test_scoreboard_overwrite)
{
	struct pidns	e;
	char		why[256], needle[64];
	uint32_t	seed = (uint32_t)time(NULL) ^ (uint32_t)getpid();
	uint32_t	seed0 = seed;
	int		k, before, st;

	if (pidns_start(&e, why, sizeof(why)) == -1)
		SKIP(why);
	for (k = 0; k < FILL_COUNT; k++) {
		before = harness_proxy_count_log(&e.p, "invalid state");
		if (overwrite(&e.p, (enum fill)k, (uint32_t)e.bystander_ns,
		    &seed, why, sizeof(why)) == -1) {
			if (k == 0 && (errno == EPERM || errno == EACCES)) {
				pidns_free(&e);
				SKIP(why);
			}
			EXPECT(&e.p, 0, "%s: %s", fill_names[k], why);
		}
		/* Nonsense states: the master replaces those workers. */
		if (k != FILL_BYSTANDER)
			EXPECT(&e.p, wait_count(&e.p, "invalid state",
			    before + 1, harness_ms(WAIT_MS)) == 0,
			    "%s (seed %u): master %s, no worker replaced",
			    fill_names[k], seed0, alive(e.p.pid) ? "alive" :
			    "dead");
		ck_assert_int_eq(harness_proxy_signal(&e.p, SIGHUP), 0);
		snprintf(needle, sizeof(needle), "reloaded: generation %d",
		    k + 1);
		EXPECT(&e.p, wait_count(&e.p, needle, 1, harness_ms(WAIT_MS))
		    == 0, "%s (seed %u): no reload, master %s, bystander %s",
		    fill_names[k], seed0, alive(e.p.pid) ? "alive" : "dead",
		    alive(e.bystander) ? "alive" : "killed");
		EXPECT(&e.p, tunnel_within(&e.p, e.t.port, harness_ms(WAIT_MS))
		    == 0, "%s (seed %u): no tunnel within 10 s", fill_names[k],
		    seed0);
		EXPECT(&e.p, alive(e.bystander), "%s (seed %u): the bystander "
		    "was killed", fill_names[k], seed0);
		EXPECT(&e.p, alive(e.p.pid), "%s (seed %u): the master died",
		    fill_names[k], seed0);
	}
	/* Once more, then a fast stop, which signals every worker. */
	ck_assert_int_eq(overwrite(&e.p, FILL_BYSTANDER,
	    (uint32_t)e.bystander_ns, &seed, why, sizeof(why)), 0);
	ck_assert_int_eq(harness_proxy_signal(&e.p, SIGTERM), 0);
	EXPECT(&e.p, harness_proxy_wait_exit(&e.p, harness_ms(WAIT_MS)) == 0,
	    "no exit after TERM");
	st = e.p.status;
	EXPECT(&e.p, WIFEXITED(st) && WEXITSTATUS(st) == 0, "exit status "
	    "%#x after TERM", st);
	EXPECT(&e.p, alive(e.bystander), "the stop killed the bystander");
	pidns_free(&e);
}
END_TEST

/* The log pipe */

#define COPIES_MAX	8

/* 1 when inode is a datagram socket in pid's /proc/PID/net/unix. */
static int
unix_dgram(pid_t pid, unsigned long inode)
{
	char		 path[64], *text, *line, *next;
	unsigned long	 ino;
	unsigned	 type;

	snprintf(path, sizeof(path), "/proc/%ld/net/unix", (long)pid);
	if ((text = harness_read_file(path)) == NULL)
		return 0;
	for (line = text; line != NULL && *line != '\0'; line = next) {
		if ((next = strchr(line, '\n')) != NULL)
			*next++ = '\0';
		/* Num RefCount Protocol Flags Type St Inode Path */
		if (sscanf(line, "%*s %*s %*s %*s %x %*s %lu", &type, &ino) ==
		    2 && ino == inode && type == SOCK_DGRAM) {
			free(text);
			return 1;
		}
	}
	free(text);
	return 0;
}

/*
 * Copies, made with pidfd_getfd(2), of the descriptors of worker pid a
 * line could go to the master through: its pipes and its Unix datagram
 * sockets, as a compromised worker would try them all.  Returns how
 * many, or -1 with why.
 */
static int
worker_channels(pid_t pid, int *fds, int max, char *why, size_t whylen)
{
#if defined(SYS_pidfd_open) && defined(SYS_pidfd_getfd)
	char		 dir[64], path[320], link[128];
	struct dirent	*de;
	unsigned long	 inode;
	DIR		*d;
	ssize_t		 len;
	int		 pidfd, fd, n = 0;

	if ((pidfd = (int)syscall(SYS_pidfd_open, pid, 0)) == -1) {
		snprintf(why, whylen, "pidfd_open: %s", strerror(errno));
		return -1;
	}
	snprintf(dir, sizeof(dir), "/proc/%ld/fd", (long)pid);
	if ((d = opendir(dir)) == NULL) {
		snprintf(why, whylen, "%s: %s", dir, strerror(errno));
		close(pidfd);
		return -1;
	}
	while ((de = readdir(d)) != NULL && n < max) {
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		if ((len = readlink(path, link, sizeof(link) - 1)) <= 0)
			continue;
		link[len] = '\0';
		if (strncmp(link, "pipe:", 5) != 0 && !(sscanf(link,
		    "socket:[%lu]", &inode) == 1 && unix_dgram(pid, inode)))
			continue;
		fd = (int)syscall(SYS_pidfd_getfd, pidfd, atoi(de->d_name), 0);
		if (fd == -1) {
			snprintf(why, whylen, "pidfd_getfd: %s",
			    strerror(errno));
			continue;
		}
		fds[n++] = fd;
	}
	closedir(d);
	close(pidfd);
	if (n == 0 && why[0] == '\0')
		snprintf(why, whylen, "no pipe or socket in worker %ld",
		    (long)pid);
	return n > 0 ? n : -1;
#else
	(void)pid;
	(void)fds;
	(void)max;
	snprintf(why, whylen, "no pidfd_getfd(2) on this system");
	return -1;
#endif
}

/*
 * Send msg as one message on each copy, never blocking (the copies share
 * their file flags with the worker's descriptors: left alone).  A pipe
 * gets at most PIPE_BUF bytes, and only when there is room.
 */
static void
send_all(const int *fds, int n, const void *msg, size_t len)
{
	struct pollfd	pfd;
	int		i;

	for (i = 0; i < n; i++) {
		if (send(fds[i], msg, len, MSG_DONTWAIT | MSG_NOSIGNAL) != -1 ||
		    errno != ENOTSOCK)
			continue;
		pfd.fd = fds[i];
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, 0) == 1)
			(void)!write(fds[i], msg, len < 4096 ? len : 4096);
	}
}

/*
 * A mount namespace of our own, where the proxy's syslog cannot reach
 * the host's: /dev/log, when there is one, is covered by /dev/null.
 */
static int
private_dev_log(void)
{
	struct stat	st;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	if (stat("/dev/log", &st) == -1)
		return errno == ENOENT ? 0 : -1;
	return mount("/dev/null", "/dev/log", NULL, MS_BIND, NULL);
}

/*
 * What is wrong with the access log text, or NULL: each line ends with a
 * newline, holds no NUL and fits a record; the records of the two tunnels
 * to port are there, each whole on a line of its own; the line forged
 * inside another message did not become a line.
 */
static char *
bad_line(const char *text, int port)
{
	static char	 line[256];
	char		 target[64];
	const char	*s, *e;
	size_t		 n;
	int		 records = 0;

	snprintf(target, sizeof(target), "target=127.0.0.1:%d ", port);
	for (s = text; *s != '\0'; s = e + 1) {
		if ((e = strchr(s, '\n')) == NULL)
			return (char *)"a line without its newline";
		n = (size_t)(e - s);
		snprintf(line, sizeof(line), "%.*s", (int)(n < 200 ? n : 200),
		    s);
		if (memchr(s, '\0', n) != NULL || n > 4096)
			return line;
		/* A real record, whole and on its own. */
		if (memmem(s, n, target, strlen(target)) != NULL) {
			if (strncmp(s, "time=", 5) != 0 ||
			    memmem(s, n, "reason=", 7) == NULL)
				return line;
			records++;
		}
		/* The forged second line stayed inside the first. */
		if (strncmp(s, "time=forged", 11) == 0)
			return line;
	}
	return records == 2 ? NULL : (char *)"not two records of the tunnels";
}

/*
 * What a compromised worker can send through the log pipe: an empty
 * message, a bare newline (which once made the master copy (size_t)-1
 * bytes with error_log syslog), a tag alone, NUL bytes, two lines in one
 * message, 64 KiB without a newline, and a line left unfinished just
 * before another worker's record.  The master lives, each record stays
 * one line of its own, and tunnels go on.
 */
START_TEST(test_log_pipe_hostile)
{
	struct harness_target	 t;
	struct harness_proxy	 p;
	static char		 big[65536];
	static const char	 nul[] = "E\0\0\0\n";
	char			 conf[512], path[HARNESS_PATH_MAX + 32];
	char			 why[256] = "", *text, *bad;
	pid_t			 workers[16];
	int			 fds[COPIES_MAX], n, i;

	if (geteuid() != 0)
		SKIP("needs root (pidfd_getfd(2) on a worker)");
	if (getenv("CK_FORK") != NULL && strcmp(getenv("CK_FORK"), "no") == 0)
		SKIP("needs Check's fork mode: it makes a mount namespace");
	if (private_dev_log() == -1)
		SKIP("cannot make a mount namespace to keep syslog local");
	ck_assert_int_eq(harness_target_start(&t, AF_INET, NULL, 0,
	    HARNESS_TARGET_ECHO, 0), 0);
	ck_assert_int_eq(harness_tmpdir(path, HARNESS_PATH_MAX), 0);
	strcat(path, "/access.log");
	snprintf(conf, sizeof(conf), "workers_start 1\nworkers_min_spare 1\n"
	    "workers_max 4\nallow_port %d\nallow_dest 127.0.0.1/32\n"
	    "access_log %s\nerror_log syslog\n%s", t.port, path,
	    getpwnam("nobody") != NULL ? "user nobody\n" : "");
	ck_assert_int_eq(harness_proxy_start(&p, conf), 0);
	EXPECT(&p, harness_proxy_wait_workers(&p, 1, harness_ms(WAIT_MS)) ==
	    0, "no worker");
	ck_assert_int_eq(harness_proxy_workers(&p, workers, 16), 1);
	if ((n = worker_channels(workers[0], fds, COPIES_MAX, why,
	    sizeof(why))) == -1) {
		harness_proxy_free(&p);
		harness_target_stop(&t);
		SKIP(why);
	}

	EXPECT(&p, tunnel_within(&p, t.port, harness_ms(WAIT_MS)) == 0,
	    "no first tunnel");
	send_all(fds, n, "", 0);
	send_all(fds, n, "\n", 1);
	send_all(fds, n, "A", 1);
	send_all(fds, n, nul, sizeof(nul) - 1);
	send_all(fds, n, "Aforged\nAtime=forged status=200\n", 33);
	memset(big, 'A', sizeof(big));
	send_all(fds, n, big, sizeof(big));
	send_all(fds, n, "Aunfinished", 11);
	EXPECT(&p, tunnel_within(&p, t.port, harness_ms(WAIT_MS)) == 0,
	    "no tunnel after hostile log lines: master %s",
	    alive(p.pid) ? "alive" : "dead");
	for (i = 0; i < n; i++)
		close(fds[i]);
	/* Both records written: the worker logs after the client closed. */
	ck_assert_int_eq(harness_proxy_signal(&p, SIGQUIT), 0);
	EXPECT(&p, harness_proxy_wait_exit(&p, harness_ms(WAIT_MS)) == 0 &&
	    WIFEXITED(p.status) && WEXITSTATUS(p.status) == 0,
	    "no clean exit");
	ck_assert_ptr_nonnull(text = harness_read_file(path));
	bad = bad_line(text, t.port);
	EXPECT(&p, bad == NULL, "access log: %s\n----\n%.3000s", bad, text);
	free(text);
	*strrchr(path, '/') = '\0';
	harness_rmdir(path);
	harness_proxy_free(&p);
	harness_target_stop(&t);
}
END_TEST

Suite *
hostile_suite(void)
{
	Suite	*s = suite_create("hostile");
	TCase	*tc = harness_tcase(s, "worker", 60);

	tcase_add_test(tc, test_scoreboard_overwrite);
	tcase_add_test(tc, test_log_pipe_hostile);
	return s;
}
