#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""Per-tunnel counts of the CONNECT-rate workload: `make bench-wakeups`.

Rates on a busy machine are noise; counts are not.  For direct and for
connectproxy (started as bench/run.py starts it), this runs N tunnels of
`loadgen rate` (connect, CONNECT, 200, 64-byte echo, close) at 1 and at 64
clients and prints, per tunnel:

- vol, invol, CPU: voluntary and involuntary context switches and the
  time on a CPU of the proxy's processes (the master and its workers,
  /proc/PID/status and schedstat before and after), of the echo target
  and of the client (all their threads);
- syscalls: the proxy's system calls, in all and by name (perf stat on
  the syscall tracepoints of the master and every worker), when perf is
  installed.

WAKEUPS_N sets N (default 3000).  Loopback only; processes started here
are stopped by their pid (bench/run.py's helpers).
"""

import os
import signal
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import run  # noqa: E402

N = int(os.environ.get("WAKEUPS_N", "3000"))


def switches(pid):
    """(voluntary, involuntary, ns on a CPU) over every thread of pid;
    None if gone."""
    vol = invol = ns = 0
    try:
        tids = os.listdir("/proc/%d/task" % pid)
    except OSError:
        return None
    for t in tids:
        try:
            with open("/proc/%d/task/%s/status" % (pid, t)) as f:
                for line in f:
                    if line.startswith("voluntary_ctxt_switches:"):
                        vol += int(line.split()[1])
                    elif line.startswith("nonvoluntary_ctxt_switches:"):
                        invol += int(line.split()[1])
            with open("/proc/%d/task/%s/schedstat" % (pid, t)) as f:
                ns += int(f.read().split()[0])
        except OSError:
            pass
    return vol, invol, ns


def snapshot(pids):
    return {p: s for p in pids if (s := switches(p)) is not None}


def delta(before, after):
    """Summed over the processes alive at both ends."""
    return tuple(sum(after[p][i] - before[p][i] for p in before
                     if p in after) for i in range(3))


def rate(tport, pport, c, n):
    """Run n tunnels at c clients; the client's own counts from wait4."""
    argv = [run.LOADGEN, "rate", "-c", str(c), "-n", str(n), "-D", "60"] + \
        run.target_args(tport, pport) + ["-T", str(run.LG_CAP)]
    p = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
    out = p.stdout.read()
    _, status, ru = os.wait4(p.pid, 0)
    p.returncode = status
    r = run.kv(out.strip().splitlines()[-1])
    return r, ru.ru_nvcsw, ru.ru_nivcsw, (ru.ru_utime + ru.ru_stime) * 1e9


def counts(target, tport, proxy, pport, c):
    procs = [] if proxy is None else [proxy.pid] + run.descendants(proxy.pid)
    b_proxy, b_tgt = snapshot(procs), snapshot([target.pid])
    r, cv, ci, cns = rate(tport, pport, c, N)
    a_proxy, a_tgt = snapshot(procs), snapshot([target.pid])
    done = int(r["ops"])
    pv, pi, pns = delta(b_proxy, a_proxy)
    tv, ti, tns = delta(b_tgt, a_tgt)
    after = [] if proxy is None else run.descendants(proxy.pid)
    return {"c": c, "ops": done, "ops_s": float(r["ops_s"]),
            "errors": int(r["errors"]),
            "proxy": (pv / done, pi / done, pns / done / 1e3),
            "target": (tv / done, ti / done, tns / done / 1e3),
            "client": (cv / done, ci / done, cns / done / 1e3),
            "churn": len(set(after) ^ set(procs[1:]))}


SYSCALLS = ("accept4", "recvfrom", "poll", "read", "sendto", "write",
            "writev", "sendmsg", "fcntl", "setsockopt", "getsockopt",
            "shutdown", "close", "socket", "connect", "madvise", "kill")


def syscalls(tport, proxy, pport, c):
    """perf stat on the master and the workers over N tunnels at c."""
    pids = [proxy.pid] + run.descendants(proxy.pid)
    ev = ["raw_syscalls:sys_enter"] + ["syscalls:sys_enter_" + n
                                       for n in SYSCALLS]
    s = subprocess.Popen(["perf", "stat", "-x", ",", "-e", ",".join(ev),
                          "-p", ",".join(map(str, pids))],
                         stderr=subprocess.PIPE, text=True)
    time.sleep(1.0)             # perf attaches asynchronously
    r = rate(tport, pport, c, N)[0]
    s.send_signal(signal.SIGINT)
    _, err = s.communicate(timeout=30)
    done = int(r["ops"])
    calls = {}
    if "sys_enter" not in err:
        # A worker that exited before perf attached fails the whole run.
        print("perf stat failed: %s" % err.strip()[-200:])
    for line in err.splitlines():
        w = line.split(",")
        if len(w) > 2 and w[0].isdigit():
            calls[w[2].split(":")[-1].replace("sys_enter_", "")] = int(w[0])
    return done, calls


def main():
    tmp = tempfile.mkdtemp(prefix="connectproxy-wakeups-")
    target, tport = run.start_target()
    cp = run.ConnectProxy(tmp)
    proxy = None
    print("load average: %s" % run.loadavg())
    try:
        proxy, pport = cp.start(tport, "main")
        for who, p, port in (("direct", None, None),
                             ("connectproxy", proxy, pport)):
            run.loadgen(["rate", "-c", "64", "-D", "0.3"] +
                        run.target_args(tport, port))
            for c in (1, 64):
                k = counts(target, tport, p, port, c)
                print("%-12s c=%-2d %5d tunnels %6.0f/s  per tunnel, "
                      "switches vol invol and CPU us: proxy %.2f %.2f "
                      "%.1f  target %.2f %.2f %.1f  client %.2f %.2f "
                      "%.1f  errors %d  pool churn %d" % (
                          (who, c, k["ops"], k["ops_s"]) + k["proxy"] +
                          k["target"] + k["client"] +
                          (k["errors"], k["churn"])))
        for c in (1, 64) if run.shutil.which("perf") else ():
            done, calls = syscalls(tport, proxy, pport, c)
            print("connectproxy c=%-2d syscalls per tunnel: %.2f;" % (
                c, calls.pop("sys_enter", 0) / done) + "".join(
                " %s %.2f" % (k, v / done) for k, v in sorted(
                    calls.items(), key=lambda x: -x[1]) if v))
    finally:
        if proxy is not None:
            run.stop(proxy)
        run.stop(target)
        run.shutil.rmtree(tmp, ignore_errors=True)
    print("load average: %s" % run.loadavg())


if __name__ == "__main__":
    main()
