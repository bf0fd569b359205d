/* SPDX-License-Identifier: ISC */
/*
 * Namespaces of the end-to-end harness (see harness_ns.h): network,
 * mount and PID namespaces a forked test process makes for itself.
 */
#define _GNU_SOURCE

#include <sys/mount.h>
#include <sys/types.h>
#include <sys/wait.h>

#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "harness_files.h"
#include "harness_ns.h"
#include "harness_proc.h"
#include "harness_time.h"

/* Run "ip ARGS" (space-separated).  Returns 0 or -1. */
static int
ip_cmd(const char *args, int quiet)
{
	char	 line[256], out[512], *argv[16], *save = NULL, *w;
	int	 n = 0, st;

	argv[n++] = (char *)"ip";
	snprintf(line, sizeof(line), "%s", args);
	for (w = strtok_r(line, " ", &save); w != NULL && n < 15;
	    w = strtok_r(NULL, " ", &save))
		argv[n++] = w;
	argv[n] = NULL;
	st = harness_run(argv, NULL, out, sizeof(out), 10000);
	if (st == -1 || !WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		if (!quiet)
			fprintf(stderr, "ip %s: %s\n", args, out);
		return -1;
	}
	return 0;
}

int
harness_netns_enter(void)
{
	const char	*fork_mode = getenv("CK_FORK");

	/* Without Check's fork the runner itself would move. */
	if (fork_mode != NULL && strcmp(fork_mode, "no") == 0)
		return -1;
	if (!harness_have("ip") || unshare(CLONE_NEWNET) == -1)
		return -1;
	return ip_cmd("link set lo up", 0);
}

/* Create cpx0: a dummy where available, else one end of a veth pair. */
static int
blackhole_link(void)
{
	static pid_t	made_by;

	if (made_by == getpid())
		return 0;
	if (ip_cmd("link add cpx0 type dummy", 1) == -1) {
		if (ip_cmd("link add cpx0 type veth peer name cpx1", 0) == -1)
			return -1;
		/* The peer has no address: what reaches it is dropped. */
		if (ip_cmd("link set cpx1 up", 0) == -1)
			return -1;
	}
	/* Without ARP, frames leave at once and nobody answers them. */
	if (ip_cmd("link set cpx0 arp off up", 0) == -1)
		return -1;
	made_by = getpid();
	return 0;
}

int
harness_netns_blackhole(const char *cidr)
{
	char	args[128];

	if (blackhole_link() == -1)
		return -1;
	snprintf(args, sizeof(args), "addr add %s dev cpx0", cidr);
	return ip_cmd(args, 0);
}

/*
 * Lay `text` over /etc/NAME, in a mount namespace of our own with private
 * propagation, so the bind mount never reaches the host.
 */
static int
etc_overlay(const char *name, const char *text)
{
	char	dir[HARNESS_PATH_MAX], path[HARNESS_PATH_MAX + 16];
	char	etc[64];
	int	rc = -1;

	if (unshare(CLONE_NEWNS) == -1 ||
	    mount("none", "/", NULL, MS_REC | MS_PRIVATE, NULL) == -1)
		return -1;
	if (harness_tmpdir(dir, sizeof(dir)) == -1)
		return -1;
	snprintf(path, sizeof(path), "%s/%s", dir, name);
	snprintf(etc, sizeof(etc), "/etc/%s", name);
	if (harness_write_file(path, text) == 0 &&
	    mount(path, etc, NULL, MS_BIND, NULL) == 0)
		rc = 0;
	/* The mount holds the file; its name is no longer needed. */
	harness_rmdir(dir);
	return rc;
}

int
harness_netns_resolv_conf(const char *text)
{
	return etc_overlay("resolv.conf", text);
}

int
harness_netns_ip(const char *args)
{
	return ip_cmd(args, 0);
}

int
harness_netns_hosts(const char *text)
{
	return etc_overlay("hosts", text);
}

/* PID namespaces */

static int	pidns_home = -1;	/* our own PID namespace */

int
harness_pidns_enter(pid_t *init)
{
	pid_t	pid;

	if (pidns_home == -1 && (pidns_home = open("/proc/self/ns/pid",
	    O_RDONLY | O_CLOEXEC)) == -1)
		return -1;
	if (unshare(CLONE_NEWPID) == -1)
		return -1;
	fflush(NULL);
	if ((pid = fork()) == -1)
		return -1;
	if (pid == 0) {
		harness_child_setup();
		/* Bounded by our parent: PR_SET_PDEATHSIG ends us with it. */
		for (;;)
			if (waitpid(-1, NULL, 0) == -1)
				harness_pause_ms(100);
	}
	*init = pid;
	return 0;
}

int
harness_pidns_leave(void)
{
	if (pidns_home == -1)
		return -1;
	return setns(pidns_home, CLONE_NEWPID);
}

pid_t
harness_ns_pid(pid_t pid)
{
	char	 path[64], *text, *s, *end;
	long	 v, last = -1;

	snprintf(path, sizeof(path), "/proc/%ld/status", (long)pid);
	if ((text = harness_read_file(path)) == NULL)
		return -1;
	if ((s = strstr(text, "\nNSpid:")) != NULL) {
		/* One pid per namespace, outermost first. */
		for (s += 8; ; s = end) {
			v = strtol(s, &end, 10);
			if (end == s)
				break;
			last = v;
		}
	}
	free(text);
	return (pid_t)last;
}
