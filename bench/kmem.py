#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Kernel memory per idle tunnel: `python3 bench/kmem.py [N] [REPS]`.

For the sizing table of connectproxy.conf(5).  N idle tunnels (default
1000) are opened through connectproxy by bench/loadgen and held; the
machine's /proc/meminfo is read before and after, and the same N
connections made directly (client straight to target) are subtracted:
in an office their ends are on other machines.  Also the page tables
summed over the proxy's processes (VmPTE) and its PSS.  Each figure is
the median of REPS runs (default 3), interleaved; other work on the
machine shows as spread between the runs, so run it on a quiet one.
Everything is on 127.0.0.1, started here and stopped by pid.
"""

import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run as B  # noqa: E402  (the benchmark driver's helpers)

FIELDS = ("MemAvailable", "KernelStack", "PageTables", "Slab", "AnonPages")


def meminfo():
    d = {}
    with open("/proc/meminfo") as f:
        for line in f:
            k, v = line.split(":")
            d[k] = int(v.split()[0])
    return d


def vmpte(pids):
    total = 0
    for pid in pids:
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith("VmPTE:"):
                        total += int(line.split()[1])
        except OSError:
            pass
    return total


def hold(n, tport, pport, proxy):
    """Deltas (KiB) over opening n idle tunnels, through proxy if any."""
    procs = (lambda: [proxy.pid] + B.descendants(proxy.pid)) if proxy \
        else (lambda: [])
    m0, pss0, pte0 = meminfo(), B.pss_kib(proxy.pid) if proxy else 0, \
        vmpte(procs())
    lg = B.spawn([B.LOADGEN, "open", "-n", str(n), "-W", "30", "-H", "300",
                  "-T", "300"] + B.target_args(tport, pport),
                 stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    try:
        r = B.kv(lg.stdout.readline())
        if lg.stdout.readline().split()[:1] != ["holding"]:
            raise SystemExit("kmem: loadgen open did not hold: %s" % r)
        if proxy:
            B.settle(proxy.pid, 0, 10)
        time.sleep(B.IDLE_SECS)
        m1 = meminfo()
        d = {k: (m0[k] - m1[k] if k == "MemAvailable" else m1[k] - m0[k])
             for k in FIELDS}
        d["PSS"] = (B.pss_kib(proxy.pid) - pss0) if proxy else 0
        d["VmPTE"] = vmpte(procs()) - pte0
        return d
    finally:
        lg.stdin.close()
        lg.wait(30)
        B.STARTED.remove(lg)


def main():
    n = int(sys.argv[1]) if len(sys.argv) > 1 else 1000
    reps = int(sys.argv[2]) if len(sys.argv) > 2 else 3
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = B.NOFILE if hard == resource.RLIM_INFINITY else min(B.NOFILE, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    tmp = tempfile.mkdtemp(prefix="connectproxy-kmem-")
    runs = {"direct": [], "proxy": []}
    try:
        target, tport = B.start_target()
        cp = B.ConnectProxy(tmp)
        for _ in range(reps):
            runs["direct"].append(hold(n, tport, None, None))
            p, port = cp.start(tport, n)
            B.settle(p.pid, 0, 10)
            runs["proxy"].append(hold(n, tport, port, p))
            B.stop(p)
    finally:
        B.stop_all()
    print("KiB per idle tunnel, N=%d, median of %d (proxy less direct):" % (
        n, reps))
    for f in FIELDS + ("PSS", "VmPTE"):
        d = statistics.median(x[f] for x in runs["direct"]) / n
        p = statistics.median(x[f] for x in runs["proxy"]) / n
        print("  %-13s %7.1f   (proxy %.1f, direct %.1f; runs %s)" % (
            f, p - d, p, d, " ".join("%.1f" % (x[f] / n)
                                     for x in runs["proxy"])))
    print("kernel = KernelStack + PageTables + Slab (MemAvailable less PSS "
          "says about the same, with more noise)")


if __name__ == "__main__":
    main()
