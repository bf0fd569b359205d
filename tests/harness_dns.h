/* SPDX-License-Identifier: ISC */
/*
 * The test DNS server of the end-to-end harness, for a test that runs
 * in its own network namespace (harness_ns.h) with a resolv.conf that
 * points at it: names resolve to addresses the test chose.
 */
#ifndef HARNESS_DNS_H
#define HARNESS_DNS_H

struct harness_target;

/*
 * A DNS server on 127.0.0.1:53 (UDP; for a namespace): A `addr` for the
 * names listed (NULL-terminated, case-insensitive), no data for their
 * other types, NXDOMAIN for any other name.  It reports each question as
 * "query NAME TYPE" (NAME lower-cased, TYPE numeric).  Stop it with
 * harness_target_stop().  Returns 0 or -1.
 */
int	harness_dns_start(struct harness_target *t,
	    const char *const *names, const char *addr);

#endif
