#!/bin/sh
# SPDX-License-Identifier: ISC
# Soak and leak checks, too slow for `make check`; run by hand or nightly.
#
#   tests/soak.sh [TUNNELS]          20000 tunnels (default) through a pool
#                                    of 2 workers; samples each worker's fd
#                                    count and VmRSS every 1000 tunnels and
#                                    fails if either grows past a bound
#   tests/soak.sh --valgrind [N]     N (default 1000) tunnels with the
#                                    master and workers under valgrind
#                                    --leak-check=full; fails on any error
#                                    or definite leak
#
# Loopback only: an echo target and the clients are a Python driver.
# CONNECTPROXY_BIN (default ./connectproxy, built if missing) is the proxy.
set -eu
cd "$(dirname "$0")/.."

mode=soak
if [ "${1:-}" = "--valgrind" ]; then
	mode=valgrind
	shift
fi
if [ "$mode" = valgrind ]; then n=${1:-1000}; else n=${1:-20000}; fi
bin=${CONNECTPROXY_BIN:-./connectproxy}
[ -x "$bin" ] || make connectproxy >/dev/null
if [ "$mode" = valgrind ] && ! command -v valgrind >/dev/null 2>&1; then
	echo "soak: valgrind is not installed" >&2
	exit 1
fi
dir=$(mktemp -d /tmp/cpxsoak.XXXXXX)
trap 'rm -rf "$dir"' EXIT

MODE=$mode TUNNELS=$n BIN=$bin DIR=$dir python3 - <<'EOF'
import os, re, signal, socket, subprocess, sys, threading, time

mode, n, binary, d = (os.environ["MODE"], int(os.environ["TUNNELS"]),
                      os.environ["BIN"], os.environ["DIR"])
vg = mode == "valgrind"
FD_GROWTH = 2           # fds a worker may gain over the run
RSS_GROWTH_KB = 512     # VmRSS a worker may gain after the first sample

def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    p = s.getsockname()[1]
    s.close()
    return p

def echo_target():
    ls = socket.socket()
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("127.0.0.1", 0))
    ls.listen(128)
    def serve(c):
        with c:
            while True:
                b = c.recv(65536)
                if not b:
                    return
                c.sendall(b)
    def loop():
        while True:
            c, _ = ls.accept()
            threading.Thread(target=serve, args=(c,), daemon=True).start()
    threading.Thread(target=loop, daemon=True).start()
    return ls.getsockname()[1]

tport = echo_target()
pport = free_port()
conf = os.path.join(d, "soak.conf")
with open(conf, "w") as f:
    f.write(f"listen 127.0.0.1:{pport}\nallow_dest 127.0.0.0/8\n"
            f"allow_port {tport}\nworkers_start 2\nworkers_max 2\n"
            "workers_min_spare 0\nworkers_max_spare 2\n"
            "access_log off\ncontrol_socket off\nlog_level warn\n"
            f"header_timeout {'60s' if vg else '10s'}\n")
cmd = [binary, "-c", conf]
if vg:
    cmd = ["valgrind", "--trace-children=yes", "--leak-check=full",
           "--show-leak-kinds=definite", "--error-exitcode=99",
           "--log-file=" + os.path.join(d, "vg.%p")] + cmd
log = open(os.path.join(d, "proxy.log"), "w")
proxy = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT)

def children(pid):
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return sorted(int(x) for x in f.read().split())
    except OSError:
        return []

def sample(pid):
    fds = len(os.listdir(f"/proc/{pid}/fd"))
    with open(f"/proc/{pid}/status") as f:
        rss = int(re.search(r"VmRSS:\s+(\d+)", f.read()).group(1))
    return fds, rss

deadline = time.time() + (120 if vg else 15)
while len(children(proxy.pid)) < 2 or not socket.socket().connect_ex(
        ("127.0.0.1", pport)) == 0:
    if time.time() > deadline or proxy.poll() is not None:
        sys.exit("soak: the proxy did not start; see " + log.name)
    time.sleep(0.1)
workers = children(proxy.pid)
timeout = 60 if vg else 10

def tunnel(i):
    s = socket.create_connection(("127.0.0.1", pport), timeout=timeout)
    with s:
        s.sendall(f"CONNECT 127.0.0.1:{tport} HTTP/1.1\r\n"
                  f"Host: 127.0.0.1:{tport}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            b = s.recv(1024)
            if not b:
                raise RuntimeError("closed before the 200")
            head += b
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError("answer: " + head.split(b"\r\n")[0].decode())
        msg = (b"%d " % i) * 64
        s.sendall(msg)
        got = b""
        while len(got) < len(msg):
            b = s.recv(65536)
            if not b:
                raise RuntimeError("echo cut short")
            got += b
        if got != msg:
            raise RuntimeError("echo mismatch")

series = []
errors = []
done = [0]
lock = threading.Lock()

def client(k):
    while True:
        with lock:
            if done[0] >= n or errors:
                return
            done[0] += 1
            i = done[0]
        try:
            tunnel(i)
        except Exception as e:
            errors.append(f"tunnel {i}: {e}")
            return
        if i % 1000 == 0:
            with lock:
                series.append((i, [sample(w) for w in workers]))

start = time.time()
if not vg:
    series.append((0, [sample(w) for w in workers]))
threads = [threading.Thread(target=client, args=(k,)) for k in range(2)]
for t in threads:
    t.start()
for t in threads:
    t.join()
elapsed = time.time() - start
now = children(proxy.pid)
proxy.send_signal(signal.SIGTERM)
try:
    rc = proxy.wait(timeout=120 if vg else 20)
except subprocess.TimeoutExpired:
    proxy.kill()
    rc = proxy.wait()
fail = list(errors)
print(f"{mode}: {done[0]} tunnels in {elapsed:.1f} s "
      f"({done[0] / elapsed:.0f}/s) through workers {workers}")
if now != workers:
    fail.append(f"workers changed during the run: {workers} -> {now}")

if not vg:
    print("tunnels  " + "  ".join(f"w{k}.fds  w{k}.rss_kb"
                                    for k in range(len(workers))))
    for i, s in sorted(series):
        print(f"{i:7d}  " + "  ".join(f"{fds:6d}  {rss:9d}" for fds, rss in s))
    if len(series) >= 2:
        first = sorted(series)[1][1]    # after 1000: the heap has settled
        last = sorted(series)[-1][1]
        base = sorted(series)[0][1]
        for k in range(len(workers)):
            if last[k][0] - base[k][0] > FD_GROWTH:
                fail.append(f"worker {k}: fds {base[k][0]} -> {last[k][0]}")
            if last[k][1] - first[k][1] > RSS_GROWTH_KB:
                fail.append(f"worker {k}: VmRSS {first[k][1]} -> "
                            f"{last[k][1]} kB")
else:
    reports = sorted(f for f in os.listdir(d) if f.startswith("vg."))
    for f in reports:
        text = open(os.path.join(d, f)).read()
        m = re.search(r"definitely lost: ([\d,]+) bytes", text)
        lost = m.group(1) if m else "0"
        errs = re.search(r"ERROR SUMMARY: (\d+) errors", text)
        errs = errs.group(1) if errs else "?"
        role = "master" if f"vg.{proxy.pid}" == f else "worker"
        print(f"  {f} ({role}): definitely lost {lost} bytes, "
              f"{errs} errors")
        if lost != "0" or errs != "0":
            fail.append(f"{f}: definitely lost {lost}, errors {errs}")
            sys.stdout.write(text[-4000:])
    if len(reports) < 3:
        fail.append(f"only {len(reports)} valgrind reports")
if rc != 0:
    fail.append(f"proxy exit status {rc}")
for f in fail:
    print("FAIL: " + f)
sys.exit(1 if fail else 0)
EOF
