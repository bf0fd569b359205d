/* SPDX-License-Identifier: ISC */
/*
 * End-to-end test harness: start the real connectproxy binary with a
 * temporary config, run target servers and external clients (curl,
 * openssl) in child processes, and drive raw client sockets.  Every wait
 * is a bounded poll on a condition; every helper returns -1 on failure.
 *
 * One file per concern, each with its contracts in its header:
 *   harness_proxy	the proxy under test: start, config, signals, log
 *   harness_target	target servers, the byte pattern they check
 *   harness_dns	the DNS server for a namespaced test
 *   harness_client	raw connections, response heads, CONNECT tunnels
 *   harness_net	free and closed ports, addresses, listening waits
 *   harness_ns		network, mount and PID namespaces
 *   harness_proc	child processes: run, spawn, stop, /proc walks
 *   harness_files	temporary directories and whole files
 *   harness_time	the clock, scaled timeouts, the poll step
 *
 * A suite includes this header alone: an end-to-end test uses most of
 * the parts at once.  The parts include only the headers they use.
 */
#ifndef HARNESS_H
#define HARNESS_H

#include "harness_client.h"
#include "harness_dns.h"
#include "harness_files.h"
#include "harness_net.h"
#include "harness_ns.h"
#include "harness_proc.h"
#include "harness_proxy.h"
#include "harness_target.h"
#include "harness_time.h"

#endif
