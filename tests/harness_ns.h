/* SPDX-License-Identifier: ISC */
/*
 * Namespaces of the end-to-end harness.  A test that asks the proxy for
 * a non-loopback destination moves its own (forked) process into a new
 * network namespace first, so nothing it sends leaves the machine; a
 * mount namespace gives it its own resolv.conf, and a PID namespace puts
 * what it starts where it cannot see or signal the test.  Each needs
 * root and Check's fork mode.
 */
#ifndef HARNESS_NS_H
#define HARNESS_NS_H

#include <sys/types.h>

/*
 * Move this (forked test) process into a new network namespace with lo
 * up.  Returns 0, or -1 when that is not possible (not root).
 */
int	harness_netns_enter(void);
/*
 * In the namespace, add an interface holding `cidr` (e.g.
 * "198.51.100.1/24"), where packets to other addresses of the subnet
 * vanish (connects to them time out).  Returns 0 or -1.
 */
int	harness_netns_blackhole(const char *cidr);
/*
 * In the namespace: move into a new mount namespace (private, so nothing
 * propagates out) and bind a file holding `text` over /etc/resolv.conf.
 * Returns 0 or -1.
 */
int	harness_netns_resolv_conf(const char *text);
/*
 * In the namespace, run "ip ARGS" (space-separated; e.g. "addr add
 * 203.0.113.7/32 dev lo" to give this host an address, as a gateway's
 * WAN address is).  Returns 0, or -1 with ip's output on stderr.
 */
int	harness_netns_ip(const char *args);
/*
 * In the namespace: move into a new mount namespace (private, as for
 * harness_netns_resolv_conf()) and bind a file holding `text` over
 * /etc/hosts, so that names resolve to addresses the test chose, of
 * both families, without a DNS server.  Returns 0 or -1.
 */
int	harness_netns_hosts(const char *text);

/*
 * Make the later children of this (forked test) process start in a new
 * PID namespace.  Its init (pid 1 there, *init here) only reaps orphans,
 * and dies with this process, which takes the whole namespace with it;
 * SIGKILL it to end the namespace sooner.  This process itself stays
 * outside, out of reach of anything inside.  Returns 0, or -1 when that
 * is not possible (not root, no PID namespaces).
 */
int	harness_pidns_enter(pid_t *init);
/*
 * Later children start in this process's own PID namespace again (the
 * one entered stays while its init lives).  Call it once the processes
 * meant for the namespace are started: a sanitizer's helper thread at
 * exit, for one, cannot work from inside.  Returns 0 or -1.
 */
int	harness_pidns_leave(void);
/* The pid that `pid` has in its own (innermost) namespace, or -1. */
pid_t	harness_ns_pid(pid_t pid);

#endif
