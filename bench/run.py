#!/usr/bin/env python3
# SPDX-License-Identifier: ISC
"""connectproxy's benchmark driver: `make bench`, `make bench-smoke`.

In one run it measures the direct loopback path (the baseline) and
connectproxy, plus tinyproxy and squid when they are installed (each started
here on loopback with its own temporary configuration), with bench/loadgen
as client and target.  Every figure is taken REPS times (interleaved across
the subjects) and the median is reported, with its ratio to direct.  The
full run prints the table and writes bench/RESULTS.md; BENCH_QUICK=1 takes
each figure once with small counts and writes build/bench/RESULTS-smoke.md.

Everything listens on and connects to 127.0.0.1 only; every wait is bounded,
and the whole run has a wall-clock cap.  Processes started here are stopped
by their pid, never by name.
"""

import datetime
import ipaddress
import os
import platform
import resource
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
QUICK = os.environ.get("BENCH_QUICK", "") not in ("", "0")
PROXY_BIN = os.environ.get("CONNECTPROXY_BIN", os.path.join(ROOT, "connectproxy"))
LOADGEN = os.environ.get("LOADGEN", os.path.join(ROOT, "build/bench/loadgen"))
HOST = "127.0.0.1"

REPS = 1 if QUICK else 3
BULK_SECS = 0.3 if QUICK else 2.0
RATE_SECS = 0.3 if QUICK else 2.0
RATE_CONC = (1, 8, 64)
PING_TRIPS = 2000 if QUICK else 20000
PING_SIZES = (1, 64)
PSS_COUNTS = (20, 100) if QUICK else (100, 1000)
BURST = PSS_COUNTS[-1]          # the cold-pool burst is the largest PSS run
MAIN_WORKERS = 80               # >= the highest concurrency, with margin
RUN_CAP = 120 if QUICK else 900  # seconds, the whole run
LG_CAP = 60                      # seconds, any one loadgen client
NOFILE = 65536
IDLE_SECS = 1.5                 # tunnels held this long before PSS

RESULTS = (os.path.join(ROOT, "build/bench/RESULTS-smoke.md") if QUICK
           else os.path.join(ROOT, "bench/RESULTS.md"))


class Timeout(Exception):
    pass


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def loopback(addr):
    """Refuse anything that is not loopback: the bench stays on this host."""
    if not ipaddress.ip_address(addr).is_loopback:
        raise SystemExit("bench: %s is not loopback, refused" % addr)
    return addr


def free_port():
    with socket.socket() as s:
        s.bind((loopback(HOST), 0))
        return s.getsockname()[1]


def wait_until(pred, timeout, step=0.02):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if pred():
            return True
        time.sleep(step)
    return pred()


def port_open(port):
    try:
        with socket.create_connection((loopback(HOST), port), timeout=0.2):
            return True
    except OSError:
        return False


# --- processes ------------------------------------------------------------

STARTED = []    # Popen objects, stopped at exit by pid


def spawn(argv, pin=False, **kw):
    if pin and shutil.which("taskset"):
        argv = ["taskset", "-c", "0"] + argv
    p = subprocess.Popen(argv, **kw)
    STARTED.append(p)
    return p


def stop(p, grace=15.0):
    """SIGTERM by pid, then SIGKILL; wait for the process and its tree."""
    if p.poll() is None:
        tree = descendants(p.pid)
        p.send_signal(signal.SIGTERM)
        try:
            p.wait(grace)
        except subprocess.TimeoutExpired:
            p.kill()
            p.wait(5)
        wait_until(lambda: not any(os.path.exists("/proc/%d" % c)
                                   for c in tree), 10, 0.05)
    if p in STARTED:
        STARTED.remove(p)


def stop_all():
    for p in list(STARTED):
        try:
            stop(p, 5)
        except Exception as e:  # keep stopping the others
            log("bench: stopping %d: %s" % (p.pid, e))


def ppid_map():
    m = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                st = f.read()
        except OSError:
            continue
        # The command name may hold spaces: fields start after ')'.
        m[int(d)] = int(st[st.rindex(")") + 2:].split()[1])
    return m


def descendants(pid):
    m = ppid_map()
    out, todo = [], [pid]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in m.items() if pp == p]
        out += kids
        todo += kids
    return out


def pss_kib(pid):
    """PSS of pid and all its descendants, KiB (smaps_rollup)."""
    total = 0
    for p in [pid] + descendants(pid):
        try:
            with open("/proc/%d/smaps_rollup" % p) as f:
                for line in f:
                    if line.startswith("Pss:"):
                        total += int(line.split()[1])
                        break
        except OSError:
            pass    # exited meanwhile
    return total


def cpu_ticks(pid):
    """utime + stime of one process, clock ticks; None once it is gone."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            st = f.read()
    except OSError:
        return None
    f = st[st.rindex(")") + 2:].split()
    return int(f[11]) + int(f[12])


SPIN_WINDOW = 0.5       # s of quiet in which a subject's processes are timed
SPIN_SHARE = 0.25       # of one CPU: more than this while idle is a spinner


def stop_spinners(subjects, tab):
    """A subject at rest must not burn CPU: on 2 cores, one process that
    spins takes half the machine from every figure measured after it (an
    Apache prefork child that spins on a tunnel its client closed did
    exactly that, and one may start spinning long after its tunnel, while
    another subject is measured).  Time the processes of each running
    subject, [(name, pid)], over SPIN_WINDOW while nothing is sent; end
    any that used over SPIN_SHARE of a CPU, by pid (they descend from the
    process this driver started), and say so under the table."""
    before = {}
    for name, pid in subjects:
        for p in descendants(pid):
            before[p] = (name, cpu_ticks(p))
    time.sleep(SPIN_WINDOW)
    hz = os.sysconf("SC_CLK_TCK")
    for p, (name, t0) in before.items():
        t1 = cpu_ticks(p)
        if t0 is None or t1 is None:
            continue
        share = (t1 - t0) / hz / SPIN_WINDOW
        if share > SPIN_SHARE:
            what = ("process %d used %.0f%% of a CPU at rest; ended so "
                    "that it does not slow what is measured after it"
                    % (p, 100 * share))
            log("bench: %s: %s" % (name, what))
            tab.extra.setdefault(name, []).append(what)
            try:
                os.kill(p, signal.SIGKILL)
            except OSError:
                pass


def settle(pid, want=0, timeout=10.0):
    """Wait until pid has >= want descendants, stable for 0.5 s."""
    end = time.monotonic() + timeout
    last, since = -1, time.monotonic()
    while time.monotonic() < end:
        n = len(descendants(pid))
        if n != last:
            last, since = n, time.monotonic()
        elif n >= want and time.monotonic() - since >= 0.5:
            return n
        time.sleep(0.1)
    return last


# --- loadgen ----------------------------------------------------------------

def kv(line):
    return dict(f.split("=", 1) for f in line.split()[1:] if "=" in f)


def loadgen(args, pin=False):
    argv = [LOADGEN] + args + ["-T", str(LG_CAP)]
    if pin and shutil.which("taskset"):
        argv = ["taskset", "-c", "0"] + argv
    r = subprocess.run(argv, capture_output=True, text=True,
                       timeout=LG_CAP + 10)
    out = r.stdout.strip().splitlines()
    if r.returncode != 0 or not out:
        raise RuntimeError("loadgen %s: %s" % (" ".join(args),
                                               (r.stderr or r.stdout).strip()))
    return kv(out[-1])


def start_listener(mode, args, pin=False):
    """A loadgen server mode on a free loopback port: (process, port)."""
    p = spawn([LOADGEN, mode, "-l", HOST + ":0", "-T", str(RUN_CAP + 60)] +
              args, pin=pin, stdout=subprocess.PIPE, text=True)
    line = p.stdout.readline().split()
    if len(line) != 2 or line[0] != "listen":
        raise SystemExit("bench: loadgen %s did not start" % mode)
    host, port = line[1].rsplit(":", 1)
    loopback(host)
    return p, int(port)


def start_target(pin=False, threads=2):
    return start_listener("echo-target", ["-j", str(threads)], pin)


# --- subjects -----------------------------------------------------------------

class Subject:
    """A proxy under test; direct is the subject with no proxy."""

    name = "direct"
    note = ""

    def start(self, tport, pool, pin=False):
        return None, None

    def workers(self, pool):
        return 0


class Floor(Subject):
    """The least any CONNECT proxy does for a tunnel (bench/lg_floor.c):
    one process, one tunnel at a time, nothing checked.  Not a peer; it
    shows how much of a figure is left to take at all."""

    name = "floor"
    single = True       # one client at a time: the one-client figures only
    note = ("loadgen floor-proxy: accept, one read of the head, a blocking "
            "connect, the 200, a poll() relay; one process, one tunnel at "
            "a time, no policy, pool or log: the least any CONNECT proxy "
            "does per tunnel, whatever its design.  Not a peer: the "
            "one-client figures only (c=1, latency); it does not try to "
            "be fast at bulk")

    def start(self, tport, pool, pin=False):
        return start_listener("floor-proxy", [], pin)


class ConnectProxy(Subject):
    name = "connectproxy"

    def __init__(self, tmp):
        self.tmp = tmp
        self.dynamic = self.accepts(99, "workers_start 4\nworkers_max 1100\n")
        self.extra = ""
        if self.dynamic and self.accepts(
                99, "workers_start 4\nworkers_max 1100\n"
                "max_tunnels_per_client 0\n"):
            self.extra = "max_tunnels_per_client 0\n"
        self.note = ("dynamic pool: cold = workers_start 4, workers_max 1100"
                     if self.dynamic else
                     "fixed pool (workers_max not accepted): a 'cold' pool "
                     "is pre-forked to N+8 workers, so the burst is not "
                     "really cold")

    def conf(self, tport, port, pool):
        c = ("listen %s:%d\nallow_client 127.0.0.0/8\nallow_port %d\n"
             "allow_dest 127.0.0.0/8\nidle_timeout 300s\nlog_level warn\n"
             % (HOST, port, tport))
        if pool == "main":
            c += "workers_start %d\n" % MAIN_WORKERS
            if self.dynamic:
                c += "workers_max 1100\nworkers_max_spare %d\n" % (
                    MAIN_WORKERS + 16)
        elif self.dynamic:
            c += "workers_start 4\nworkers_max 1100\n"
        else:
            c += "workers_start %d\n" % min(1024, max(4, pool + 8))
        return c + self.extra

    def accepts(self, tport, text):
        """Does `connectproxy -t` take these directives?"""
        path = os.path.join(self.tmp, "probe.conf")
        with open(path, "w") as f:
            f.write("listen %s:1\nallow_port %d\n%s" % (HOST, tport, text))
        r = subprocess.run([PROXY_BIN, "-t", "-c", path],
                           capture_output=True, text=True)
        return r.returncode == 0

    def workers(self, pool):
        if pool == "main":
            return MAIN_WORKERS
        return 4 if self.dynamic else min(1024, max(4, pool + 8))

    def start(self, tport, pool, pin=False):
        port = free_port()
        path = os.path.join(self.tmp, "connectproxy-%d.conf" % port)
        with open(path, "w") as f:
            f.write(self.conf(tport, port, pool))
        r = subprocess.run([PROXY_BIN, "-t", "-c", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench: connectproxy config: " + r.stdout +
                             r.stderr)
        self.log = os.path.join(self.tmp, "connectproxy-%d.log" % port)
        p = spawn([PROXY_BIN, "-c", path], pin=pin,
                  stderr=open(self.log, "w"))
        if not wait_until(lambda: port_open(port), 10):
            raise SystemExit("bench: connectproxy did not listen")
        settle(p.pid, self.workers(pool), 30)
        return p, port


class TinyProxy(Subject):
    name = "tinyproxy"
    note = "threads; MaxClients 2000"

    def __init__(self, tmp, exe):
        self.tmp, self.exe = tmp, exe

    def start(self, tport, pool, pin=False):
        port = free_port()
        path = os.path.join(self.tmp, "tinyproxy-%d.conf" % port)
        user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
        with open(path, "w") as f:
            f.write("Port %d\nListen %s\nTimeout 300\nMaxClients 2000\n"
                    "Allow 127.0.0.0/8\nConnectPort %d\nLogLevel Error\n%s"
                    % (port, HOST, tport, user))
        p = spawn([self.exe, "-d", "-c", path], pin=pin,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: port_open(port), 10):
            raise SystemExit("bench: tinyproxy did not listen")
        settle(p.pid, 0, 5)
        return p, port


class Squid(Subject):
    name = "squid"
    note = "squid -N (one process), no cache"

    def __init__(self, tmp, exe):
        self.tmp, self.exe = tmp, exe

    def start(self, tport, pool, pin=False):
        port = free_port()
        d = tempfile.mkdtemp(dir=self.tmp, prefix="squid-")
        os.chmod(d, 0o777)     # squid drops to its own user when root
        path = os.path.join(d, "squid.conf")
        with open(path, "w") as f:
            f.write("http_port %s:%d\nacl lo src 127.0.0.0/8\n"
                    "acl benchport port %d\nacl CONNECT method CONNECT\n"
                    "http_access allow CONNECT lo benchport\n"
                    "http_access deny all\ncache deny all\ncache_mem 8 MB\n"
                    "access_log none\ncache_log %s/cache.log\n"
                    "pid_filename %s/squid.pid\ncoredump_dir %s\n"
                    "max_filedescriptors 16384\nshutdown_lifetime 1 seconds\n"
                    % (HOST, port, tport, d, d, d))
        p = spawn([self.exe, "-N", "-f", path], pin=pin,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        if not wait_until(lambda: port_open(port), 20):
            raise SystemExit("bench: squid did not listen")
        settle(p.pid, 0, 5)
        return p, port


APACHE_MODULES = "/usr/lib/apache2/modules"


class Apache(Subject):
    """httpd with the prefork MPM: one process per connection, as here."""

    name = "apache"
    note = ("prefork MPM, mod_proxy_connect; cold = StartServers 4 (prefork "
            "adds at most 32 children a second)")
    open_wait = 120     # seconds for a cold burst: see the note

    def __init__(self, tmp, exe):
        self.tmp, self.exe = tmp, exe

    def workers(self, pool):
        return MAIN_WORKERS if pool == "main" else 4

    def start(self, tport, pool, pin=False):
        port = free_port()
        d = tempfile.mkdtemp(dir=self.tmp, prefix="apache-")
        os.chmod(d, 0o777)     # the children run as nobody when root
        n = self.workers(pool)
        user = "User nobody\nGroup nogroup\n" if os.geteuid() == 0 else ""
        mods = "".join("LoadModule %s_module %s/mod_%s.so\n" % (
            m, APACHE_MODULES, m) for m in (
                "mpm_prefork", "authz_core", "authz_host", "proxy",
                "proxy_connect"))
        path = os.path.join(d, "httpd.conf")
        with open(path, "w") as f:
            f.write("ServerRoot %s\nDefaultRuntimeDir %s\nPidFile %s/pid\n"
                    "ErrorLog %s/error.log\nLogLevel warn\n"
                    "ServerName localhost\n%s%sListen %s:%d\n"
                    "ListenBacklog 4096\nTimeout 300\nKeepAlive Off\n"
                    "StartServers %d\nMinSpareServers %d\n"
                    "MaxSpareServers %d\nServerLimit 1100\n"
                    "MaxRequestWorkers 1100\nMaxConnectionsPerChild 0\n"
                    "ProxyRequests On\nAllowCONNECT %d\n"
                    "<Proxy \"*\">\n  Require ip 127.0.0.0/8\n</Proxy>\n"
                    % (d, d, d, d, mods, user, HOST, port, n, n,
                       n + 16, tport))
        r = subprocess.run([self.exe, "-t", "-f", path],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise SystemExit("bench: apache config: " + r.stdout + r.stderr)
        # Its own process group: stopping, httpd signals its whole group.
        p = spawn([self.exe, "-f", path, "-DFOREGROUND"], pin=pin,
                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                  start_new_session=True)
        if not wait_until(lambda: port_open(port), 20):
            raise SystemExit("bench: apache did not listen")
        settle(p.pid, n, 30)
        return p, port


# --- figures ----------------------------------------------------------------

class Table:
    """figure -> subject -> list of samples."""

    def __init__(self):
        self.rows, self.data, self.extra = [], {}, {}

    def add(self, fig, subj, value):
        if fig not in self.data:
            self.rows.append(fig)
            self.data[fig] = {}
        self.data[fig].setdefault(subj, []).append(value)

    def median(self, fig, subj):
        v = self.data.get(fig, {}).get(subj)
        return statistics.median(v) if v else None


def target_args(tport, pport):
    a = ["-t", "%s:%d" % (HOST, tport)]
    if pport is not None:
        a += ["-x", "%s:%d" % (HOST, pport)]
    return a


def single(s):
    return getattr(s, "single", False)


def last(tab, fig, name):
    v = tab.data.get(fig, {}).get(name)
    return v[-1] if v else "-"


def verify_tunnels(s, tport, port):
    """A subject that does not answer 200 and relay gets no figure at all."""
    n = "1" if single(s) else "2"
    r = subprocess.run([LOADGEN, "open", "-n", n, "-W", "10", "-T", "20"] +
                       target_args(tport, port), capture_output=True,
                       text=True, timeout=30)
    out = r.stdout.strip().splitlines()
    if r.returncode != 0 or not out or kv(out[-1]).get("ok") != n:
        raise SystemExit("bench: %s does not tunnel (a CONNECT through it "
                         "got no 200 and echo): %s" % (
                             s.name, (out[-1] if out else r.stderr.strip())))


def measure_main(subjects, tab, tmp):
    """Bulk and CONNECT rate, every subject against one shared target."""
    target, tport = start_target()
    running = []
    try:
        for s in subjects:
            p, port = s.start(tport, "main")
            running.append((s, p, port))
            if port is not None:   # grow pools, warm caches
                verify_tunnels(s, tport, port)
                loadgen(["rate", "-c", "1" if single(s) else "64", "-D",
                         "0.2"] + target_args(tport, port))
        for rep in range(REPS):
            for s, p, port in running:
                # Every subject quiet before this one is measured.
                stop_spinners([(r.name, q.pid) for r, q, _ in running
                               if q is not None], tab)
                ta = target_args(tport, port)
                for d in ("up", "down") if not single(s) else ():
                    r = loadgen(["bulk", "-d", d, "-D", str(BULK_SECS)] + ta)
                    tab.add("bulk %s (MiB/s)" % d, s.name, float(r["mib_s"]))
                    if float(r["secs"]) > 1.5 * BULK_SECS:
                        log("bench: %s bulk %s stalled: %s bytes in %s s" % (
                            s.name, d, r["bytes"], r["secs"]))
                if p is not None:
                    stop_spinners([(s.name, p.pid)], tab)
                for c in RATE_CONC:
                    if c > 1 and single(s):
                        continue
                    r = loadgen(["rate", "-c", str(c), "-D", str(RATE_SECS)]
                                + ta)
                    if int(r["errors"]):
                        tab.extra.setdefault(s.name, []).append(
                            "rate c=%d: %s errors (%s)" % (
                                c, r["errors"], r["first_error"]))
                    tab.add("CONNECT rate c=%d (/s)" % c, s.name,
                            float(r["ops_s"]))
                    tab.add("  c=%d p50 (us)" % c, s.name, float(r["p50_us"]))
                    tab.add("  c=%d p99 (us)" % c, s.name, float(r["p99_us"]))
                if p is not None:
                    stop_spinners([(s.name, p.pid)], tab)
                log("rep %d %s: bulk %s/%s MiB/s, rate c=%s %s/s" % (
                    rep + 1, s.name, last(tab, "bulk up (MiB/s)", s.name),
                    last(tab, "bulk down (MiB/s)", s.name), r["c"],
                    r["ops_s"]))
    finally:
        for s, p, port in running:
            if p is not None:
                stop(p)
        stop(target)


def measure_latency(subjects, tab):
    """Ping-pong with client, proxy and target all pinned to CPU 0."""
    target, tport = start_target(pin=True, threads=1)
    try:
        for rep in range(REPS):
            for s in subjects:
                p, port = s.start(tport, "main", pin=True)
                time.sleep(1.0)     # let a new pool finish its start-up
                try:
                    for size in PING_SIZES:
                        r = loadgen(["ping", "-n", str(PING_TRIPS), "-s",
                                     str(size)] + target_args(tport, port),
                                    pin=True)
                        tab.add("latency %dB p50 (us)" % size, s.name,
                                float(r["p50_us"]))
                        tab.add("  %dB p99 (us)" % size, s.name,
                                float(r["p99_us"]))
                finally:
                    if p is not None:
                        stop(p)
            log("rep %d: latency done" % (rep + 1))
    finally:
        stop(target)


def others_anon_kib():
    """Anonymous memory (RssAnon) and page tables (VmPTE) of every process
    outside this driver's tree: other work on the machine, whose growth
    is taken out of the drop of MemAvailable."""
    m = ppid_map()
    mine, todo = {os.getpid()}, [os.getpid()]
    while todo:
        p = todo.pop()
        kids = [c for c, pp in m.items() if pp == p and c not in mine]
        mine.update(kids)
        todo += kids
    total = 0
    for pid in m:
        if pid in mine:
            continue
        try:
            with open("/proc/%d/status" % pid) as f:
                for line in f:
                    if line.startswith(("RssAnon:", "VmPTE:")):
                        total += int(line.split()[1])
        except OSError:
            pass    # exited meanwhile
    return total


def mem_available(reads=3, gap=0.05):
    """MemAvailable (KiB) plus the other processes' anonymous memory: what
    this driver's subjects leave available.  The median of a few reads."""
    vals = []
    for i in range(reads):
        with open("/proc/meminfo") as f:
            for line in f:
                if line.startswith("MemAvailable:"):
                    vals.append(int(line.split()[1]) + others_anon_kib())
                    break
        if i + 1 < reads:
            time.sleep(gap)
    return statistics.median(vals)


def tree_cpu_s(pid):
    """CPU time (s) of pid and its descendants, every thread, from
    /proc/PID/task/TID/schedstat."""
    total = 0
    for q in [pid] + list(descendants(pid)):
        try:
            for tid in os.listdir("/proc/%d/task" % q):
                with open("/proc/%d/task/%s/schedstat" % (q, tid)) as f:
                    total += int(f.read().split()[0])
        except OSError:
            pass    # exited meanwhile
    return total / 1e9


def machine_ticks():
    """(idle, total) clock ticks of all CPUs, from /proc/stat."""
    with open("/proc/stat") as f:
        v = [int(x) for x in f.readline().split()[1:]]
    return v[3] + v[4], sum(v)


def hold_tunnels(s, tport, n, tab):
    """A fresh cold proxy (none for direct): PSS and MemAvailable at rest,
    open n tunnels, hold them idle, read both again, close.  Returns
    loadgen's result, PSS before and after, the process count, the drop
    of MemAvailable while holding, and how far MemAvailable moved between
    before the start and after the stop (other work on the machine)."""
    mem_pre = mem_available()
    if isinstance(s, ConnectProxy) and not s.dynamic:
        # A pool pre-forked to n+8 is no rest state: measure one of 4.
        p, port = s.start(tport, 0)
        pss0 = pss_kib(p.pid)
        stop(p)
        p, port = s.start(tport, n)
    else:
        p, port = s.start(tport, n)
        pss0 = pss_kib(p.pid) if p is not None else 0
    lg = None
    try:
        mem0 = mem_available()
        cpu0 = tree_cpu_s(p.pid) if p is not None else 0
        ticks0 = machine_ticks()
        lg = spawn([LOADGEN, "open", "-n", str(n), "-W",
                    str(getattr(s, "open_wait", 30)), "-H", "300",
                    "-T", str(LG_CAP * 5)] + target_args(tport, port),
                   stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        r = kv(lg.stdout.readline())
        # Where the opening's time went: the proxy's CPU, and how busy
        # the machine's CPUs were (idle ones: the opening waited).
        ticks1 = machine_ticks()
        r["proxy_cpu_ms"] = "%.0f" % (
            1000 * ((tree_cpu_s(p.pid) if p is not None else 0) - cpu0))
        r["busy_pct"] = "%.0f" % (100 * (1 - (ticks1[0] - ticks0[0]) /
                                         max(1, ticks1[1] - ticks0[1])))
        if lg.stdout.readline().split()[:1] != ["holding"]:
            raise RuntimeError("loadgen open did not hold")
        if p is not None:
            settle(p.pid, 0, 10)
        # Idle tunnels: give connectproxy's relays the 1 s of silence
        # after which they release their buffers.
        time.sleep(IDLE_SECS)
        mem1 = mem_available()
        pss1 = pss_kib(p.pid) if p is not None else 0
        procs = len(descendants(p.pid)) if p is not None else 0
    finally:
        if lg is not None:
            lg.stdin.close()
            lg.wait(30)
            STARTED.remove(lg)
        if p is not None:
            stop(p)
    # The sockets' memory is freed shortly after the close: let it go.
    time.sleep(0.5)
    return r, pss0, pss1, procs, mem0 - mem1, mem_available() - mem_pre


def measure_pool(subjects, tab):
    """PSS and machine memory per idle tunnel, and the cold-pool burst
    (the largest count).  Each repetition holds the tunnels directly
    first, so that each proxy's machine memory is its drop of
    MemAvailable less direct's in the same repetition."""
    target, tport = start_target()
    try:
        for rep in range(REPS):
            r = loadgen(["open", "-n", str(BURST), "-W", "30"] +
                        target_args(tport, None))
            tab.add("open %d from cold pool (s)" % BURST, "direct",
                    float(r["secs"]))
            # The floor under a pool of one process per tunnel: one
            # process forking BURST idle children, no socket involved.
            r = loadgen(["spawn", "-n", str(BURST)])
            tab.add("fork %d idle processes, the floor (s)" % BURST,
                    "direct", float(r["secs"]))
            base = {}
            for s in subjects:
                if single(s):
                    continue
                for n in PSS_COUNTS:
                    r, pss0, pss1, procs, drop, drift = hold_tunnels(
                        s, tport, n, tab)
                    ok = int(r["ok"])
                    log("rep %d %s n=%d: ok=%d secs=%s over_1s=%s "
                        "pss %d -> %d KiB, %d processes, MemAvailable "
                        "-%d KiB (moved %+d KiB from start to stop)" % (
                            rep + 1, s.name, n, ok, r["secs"], r["over_1s"],
                            pss0, pss1, procs + 1, drop, drift))
                    if ok != n:
                        # No figure from a run that did not hold them all.
                        tab.extra.setdefault(s.name, []).append(
                            "open %d: %d failed (%s), no memory figure" % (
                                n, n - ok, r["first_error"]))
                        continue
                    mfig = MEM_FIG % n
                    if s.name == "direct":
                        base[n] = drop
                        tab.add(mfig, s.name, drop / n)
                        continue
                    tab.add("PSS per idle tunnel, %d open (KiB)" % n, s.name,
                            (pss1 - pss0) / n)
                    if n in base:
                        tab.add(mfig, s.name, (drop - base[n]) / n)
                    if n == BURST:
                        tab.add("open %d from cold pool (s)" % BURST, s.name,
                                float(r["secs"]))
                        tab.extra.setdefault(s.name + " burst", []).append(
                            "p50 %s ms, p99 %s ms, over 1 s: %s, CPUs %s%% "
                            "busy, its processes %s ms of CPU" % (
                                r["p50_ms"], r["p99_ms"], r["over_1s"],
                                r["busy_pct"], r["proxy_cpu_ms"]))
    finally:
        stop(target)


# --- report -------------------------------------------------------------------

TARGETS = {
    "bulk up (MiB/s)": (">=", 0.60),
    "bulk down (MiB/s)": (">=", 0.60),
    "CONNECT rate c=1 (/s)": (">=", 0.45),
    "CONNECT rate c=64 (/s)": (">=", 0.50),
    "latency 1B p50 (us)": ("<=", 2.3),
    "latency 64B p50 (us)": ("<=", 2.3),
}
ABS_TARGETS = {
    "PSS per idle tunnel, 1000 open (KiB)": ("<=", 20.0),
    "open 1000 from cold pool (s)": ("<=", 1.0),
}
# The machine's memory per idle tunnel: direct's column is the cost of
# the two ends alone, every proxy's is its own, less that; no ratio.
MEM_FIG = "machine memory per idle tunnel, %d open (KiB)"
NO_RATIO = {MEM_FIG % n for n in PSS_COUNTS}


def higher_is_better(fig):
    return fig.strip().endswith("/s)")


def behind(tab, fig, peers):
    """The peers connectproxy is not ahead of on fig (ties count as
    behind); peers without the figure are left out."""
    cp = tab.median(fig, "connectproxy")
    if cp is None:
        return None
    out = []
    for n in peers:
        v = tab.median(fig, n)
        if v is None or n == "connectproxy":
            continue
        if (cp <= v) if higher_is_better(fig) else (cp >= v):
            out.append(n)
    return out


def fmt(v):
    if v is None:
        return "-"
    if abs(v) >= 100:
        return "%.0f" % v
    if abs(v) >= 10:
        return "%.1f" % v
    return "%.3g" % v


def verdict(fig, v, ratio):
    if fig in TARGETS and ratio is not None:
        op, lim = TARGETS[fig]
        ok = ratio >= lim if op == ">=" else ratio <= lim
        return "%s %sx: %s" % (op, lim, "met" if ok else "MISSED")
    if fig in ABS_TARGETS and v is not None:
        op, lim = ABS_TARGETS[fig]
        ok = v <= lim
        return "%s %g: %s" % (op, lim, "met" if ok else "MISSED")
    return ""


def table_md(tab, subjects):
    peers = [s.name for s in subjects if s.name != "direct"]
    head = ["figure", "direct"]
    for n in peers:
        head += [n, "ratio"]
    head += ["connectproxy target", "ahead of every peer"]
    lines = ["| " + " | ".join(head) + " |",
             "|" + "---|" * len(head)]
    missed = []
    for fig in tab.rows:
        d = tab.median(fig, "direct")
        row = [fig.strip() if not fig.startswith(" ") else
               "&nbsp;&nbsp;" + fig.strip(), fmt(d)]
        cp = None
        for n in peers:
            v = tab.median(fig, n)
            ratio = (v / d if v is not None and d and fig not in NO_RATIO
                     else None)
            row += [fmt(v), "%.2fx" % ratio if ratio is not None else "-"]
            if n == "connectproxy":
                cp = (v, ratio)
        row.append(verdict(fig, *cp) if cp else "")
        rivals = [s.name for s in subjects
                  if s.name != "direct" and not single(s)]
        b = behind(tab, fig, rivals) if len(rivals) > 1 else None
        if b is None:
            row.append("")
        elif b:
            row.append("MISSED: not ahead of " + ", ".join(b))
            missed.append("%s (%s)" % (fig.strip(), ", ".join(b)))
        else:
            row.append("met")
        lines.append("| " + " | ".join(row) + " |")
    if len(peers) > 1:
        lines += ["", "connectproxy ahead of every peer on every figure: " +
                  ("met" if not missed else
                   "MISSED on %d: %s" % (len(missed), "; ".join(missed)))]
    lines += floor_md(tab)
    return "\n".join(lines)


def floor_md(tab):
    """For each ratio target: where the floor itself stands.  A target
    the floor misses was out of reach of any proxy in this run."""
    out = []
    for fig, (op, lim) in TARGETS.items():
        d, f = tab.median(fig, "direct"), tab.median(fig, "floor")
        if not d or f is None:
            continue
        ratio = f / d
        ok = ratio >= lim if op == ">=" else ratio <= lim
        out.append("- %s: the floor reaches %.2fx (target %s %sx)%s" % (
            fig, ratio, op, lim, "" if ok else
            ": missed by the floor itself, so by any proxy in this run"))
    return ["", "Where the floor stands:", ""] + out if out else []


def machine():
    model = "?"
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    model = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return "%d CPUs, %s, Linux %s" % (os.cpu_count(), model,
                                      platform.release())


def revision():
    r = subprocess.run(["git", "-C", ROOT, "describe", "--always", "--dirty"],
                       capture_output=True, text=True)
    return r.stdout.strip() or "?"


def loadavg():
    try:
        with open("/proc/loadavg") as f:
            return " ".join(f.read().split()[:3])
    except OSError:
        return "?"


def samples_md(tab, subjects):
    """Every sample, so a noisy figure shows as one."""
    md = ["## Samples", "", "| figure | " +
          " | ".join(s.name for s in subjects) + " |",
          "|" + "---|" * (len(subjects) + 1)]
    for fig in tab.rows:
        md.append("| %s | %s |" % (fig.strip(), " | ".join(
            ", ".join(fmt(v) for v in tab.data[fig].get(s.name, []))
            or "-" for s in subjects)))
    return md


def report(tab, subjects, started, skipped, load0):
    when = datetime.datetime.now(datetime.timezone.utc)
    md = ["# connectproxy benchmark%s" % (" (smoke run)" if QUICK else ""),
          "",
          "- date: %s" % when.strftime("%Y-%m-%d %H:%M UTC"),
          "- machine: %s" % machine(),
          "- revision: %s; `make bench` (bench/run.py, bench/loadgen)" %
          revision(),
          "- each figure: median of %d runs, interleaved across subjects; "
          "run took %.0f s" % (REPS, time.monotonic() - started),
          "- load average (1, 5, 15 min) at start: %s, at end: %s; other "
          "work on the machine shows as spread in the samples below" % (
              load0, loadavg()),
          "- bulk: one tunnel, %.1f s each way, 128 KiB writes/reads at "
          "both ends; rate: connect, CONNECT, 200, 64-byte echo, close, "
          "%.1f s per concurrency; latency: %d ping-pong round trips over "
          "one tunnel, client, proxy and target on CPU 0" % (
              BULK_SECS, RATE_SECS, PING_TRIPS),
          "- PSS per idle tunnel: (PSS of the proxy's processes with N "
          "tunnels open - PSS at rest with a cold pool) / N, from "
          "/proc/PID/smaps_rollup; cold burst: N tunnels started at once, "
          "time until the last has its 200 and one 64-byte echo",
          "- machine memory per idle tunnel: the drop of MemAvailable "
          "(/proc/meminfo, median of 5 reads) from the proxy at rest to N "
          "tunnels held, less the same drop for N tunnels held direct in "
          "the same repetition, / N: the proxy's processes, page tables, "
          "kernel stacks and its two sockets; direct's column is the two "
          "ends' own cost",
          ""]
    for s in subjects:
        if s.note:
            md.append("- %s: %s" % (s.name, s.note))
    for n in skipped:
        md.append("- %s: not installed, skipped" % n)
    md += ["", table_md(tab, subjects), ""]
    for k, v in tab.extra.items():
        md.append("- %s: %s" % (k, "; ".join(v)))
    md += [""] + samples_md(tab, subjects)
    text = "\n".join(md) + "\n"
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        f.write(text)
    print(text)
    log("bench: wrote %s" % os.path.relpath(RESULTS, ROOT))


def on_alarm(sig, frame):
    raise Timeout()


def main():
    for exe in (PROXY_BIN, LOADGEN):
        if not os.access(exe, os.X_OK):
            raise SystemExit("bench: %s missing (make bench builds it)" % exe)
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = NOFILE if hard == resource.RLIM_INFINITY else min(NOFILE, hard)
    resource.setrlimit(resource.RLIMIT_NOFILE, (max(soft, want), hard))
    if want < 4 * BURST + 256:
        log("bench: ulimit -n %d is low for %d tunnels" % (want, BURST))
    if not shutil.which("taskset"):
        log("bench: taskset missing, latency is measured unpinned")
    signal.signal(signal.SIGALRM, on_alarm)
    signal.alarm(RUN_CAP)
    started, load0 = time.monotonic(), loadavg()
    tmp = tempfile.mkdtemp(prefix="connectproxy-bench-")
    subjects, skipped = [Subject(), Floor(), ConnectProxy(tmp)], []
    for name, cls in (("tinyproxy", TinyProxy), ("squid", Squid),
                      ("apache2", Apache)):
        exe = shutil.which(name) or shutil.which(name, path="/usr/sbin")
        if exe and cls is Apache and not os.path.exists(os.path.join(
                APACHE_MODULES, "mod_proxy_connect.so")):
            exe = None
        if exe:
            subjects.append(cls(tmp, exe))
        else:
            skipped.append("apache (apache2-bin, mod_proxy_connect)"
                           if cls is Apache else name)
    log("bench: %s run, subjects: %s; skipped: %s" % (
        "quick" if QUICK else "full", ", ".join(s.name for s in subjects),
        ", ".join(skipped) or "none"))
    tab = Table()
    try:
        measure_main(subjects, tab, tmp)
        measure_latency(subjects, tab)
        measure_pool(subjects, tab)
    except Timeout:
        log("bench: run cap of %d s reached; partial results" % RUN_CAP)
    finally:
        signal.alarm(0)
        stop_all()
    report(tab, subjects, started, skipped, load0)
    if not os.environ.get("BENCH_KEEP"):
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
