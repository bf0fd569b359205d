#!/bin/bash
# SPDX-License-Identifier: ISC
# tests/systemd.sh: the shipped unit under a real systemd (`make
# test-systemd`, the release check; not part of `make check`).
#
# Builds a minimal Debian 12 system once (debootstrap, cached in
# build/systemd-base), installs connectproxy into a fresh copy of it with
# `make install`, boots the copy with systemd-nspawn on a private network
# (loopback only: every address used here is inside the container), and
# checks what an operator relies on: the unit starts and reports STATUS=,
# a tunnel works, `systemctl reload` keeps an open tunnel, a reload moves
# access_log to a file (mode 0640), the installed logrotate snippet
# rotates it with nothing lost, `connectproxy status` works without
# -c, `systemctl stop` leaves no process, and the sandbox denies the proxy
# nothing it needs.
#
# Needs root.  Exit 0 when every check passes, 1 when one fails, 77
# (skipped) when the base system cannot be built (no Debian mirror, not
# root, no systemd-nspawn).  MIRROR overrides the Debian mirror.
set -eu

TOP=$(cd "$(dirname "$0")/.." && pwd)
BASE=$TOP/build/systemd-base
ROOTFS=$TOP/build/systemd-root
OBJ=$TOP/build/systemd-obj
MIRROR=${MIRROR:-http://deb.debian.org/debian}
PACKAGES=systemd,dbus,curl,socat,procps,logrotate
PROXY=127.0.0.1:3128
WEB_PORT=8080		# answers one HTTP request per connection
ECHO_PORT=8081		# echoes what it reads
NSPID=
INIT=
FAILED=0
T0=$(date +%s)

skip() { echo "SKIP: $*"; exit 77; }
pass() { echo "PASS: $*"; }
fail() { echo "FAIL: $*"; FAILED=1; }

# Run a command inside the container, as root, in all its namespaces.
cin() { nsenter -t "$INIT" -a -- "$@"; }

cleanup() {
	local i
	[ -n "$NSPID" ] || return 0
	if kill -0 "$NSPID" 2>/dev/null; then
		echo "stopping the container (systemd-nspawn pid $NSPID)"
		# nspawn turns TERM into a clean shutdown of the container.
		kill -TERM "$NSPID" 2>/dev/null || true
		for i in $(seq 1 100); do
			kill -0 "$NSPID" 2>/dev/null || break
			sleep 0.1
		done
		kill -KILL "$NSPID" 2>/dev/null || true
	fi
	wait "$NSPID" 2>/dev/null || true
}
trap cleanup EXIT
trap 'exit 1' INT TERM

[ "$(id -u)" = 0 ] || skip "must run as root (debootstrap, systemd-nspawn)"

need_tools() {
	command -v debootstrap >/dev/null && command -v systemd-nspawn \
	    >/dev/null && command -v nsenter >/dev/null && return 0
	echo "installing debootstrap and systemd-container"
	DEBIAN_FRONTEND=noninteractive apt-get install -y -q debootstrap \
	    systemd-container >/dev/null ||
	    skip "cannot install debootstrap and systemd-container"
}

# The base system, built once: a half-built one is never reused.
build_base() {
	# Its marker names the packages, so a changed list rebuilds it.
	[ "$(cat "$BASE/.complete" 2>/dev/null)" = "$PACKAGES" ] && return 0
	if ! curl -sfI --max-time 15 "$MIRROR/dists/bookworm/Release" \
	    >/dev/null; then
		skip "cannot reach the Debian mirror $MIRROR"
	fi
	echo "building the Debian 12 base system in $BASE (once)"
	rm -rf "$BASE.tmp"
	mkdir -p "$TOP/build"
	if ! debootstrap --variant=minbase --include=$PACKAGES bookworm \
	    "$BASE.tmp" "$MIRROR" >"$TOP/build/debootstrap.log" 2>&1; then
		tail -5 "$TOP/build/debootstrap.log"
		skip "debootstrap failed (see build/debootstrap.log)"
	fi
	rm -rf "$BASE"
	mv "$BASE.tmp" "$BASE"
	echo "$PACKAGES" >"$BASE/.complete"
}

# A fresh copy with connectproxy installed as a package would install it.
# The binary is built in its own tree with the installed paths, so the
# developer's ./connectproxy is left as it was.
install_copy() {
	rm -rf "$ROOTFS"
	cp -a --reflink=auto "$BASE" "$ROOTFS"
	make -s -C "$TOP" -j2 BUILD="$OBJ" BIN="$OBJ/connectproxy" \
	    PREFIX=/usr SYSCONFDIR=/etc DESTDIR="$ROOTFS" install >/dev/null
	cat >"$ROOTFS/etc/connectproxy/connectproxy.conf" <<-EOF
	listen $PROXY
	allow_client 127.0.0.0/8
	allow_port $WEB_PORT $ECHO_PORT
	allow_dest 127.0.0.0/8
	EOF
	# The web target, run by socat per connection: it reads the request
	# first, since closing with unread data would reset the connection.
	cat >"$ROOTFS/usr/local/bin/cp-web-reply" <<-'EOF'
	#!/bin/bash
	while IFS= read -r -t 10 l && [ "$l" != $'\r' ] && [ -n "$l" ]; do :; done
	printf 'HTTP/1.0 200 OK\r\nContent-Length: 3\r\n\r\nok\n'
	EOF
	chmod 0755 "$ROOTFS/usr/local/bin/cp-web-reply"
	chroot "$ROOTFS" systemd-sysusers >/dev/null 2>&1
	# The container has no other machine id to find.
	: >"$ROOTFS/etc/machine-id"
}

boot() {
	local i
	systemd-nspawn --boot --private-network --register=no --keep-unit \
	    --console=passive -D "$ROOTFS" </dev/null \
	    >"$TOP/build/systemd-nspawn.log" 2>&1 &
	NSPID=$!
	for i in $(seq 1 100); do
		INIT=$(cat /proc/"$NSPID"/task/*/children 2>/dev/null |
		    awk '{ print $1; exit }')
		[ -n "$INIT" ] && break
		kill -0 "$NSPID" 2>/dev/null || break
		sleep 0.1
	done
	if [ -z "$INIT" ]; then
		cat "$TOP/build/systemd-nspawn.log"
		echo "FAIL: the container did not start"
		exit 1
	fi
	# Until its systemd answers, is-system-running fails: retry, bounded.
	for i in $(seq 1 60); do
		state=$(timeout 60 nsenter -t "$INIT" -a -- systemctl \
		    is-system-running --wait 2>/dev/null) && break
		case $state in running|degraded) break ;; esac
		sleep 0.5
	done
	echo "container up: init pid $INIT, system $state"
	if [ "$state" = degraded ]; then
		cin systemctl --failed --no-legend --plain || true
	fi
}

# Poll a condition (a shell command) every 0.1 s for at most $1 seconds.
await() {
	local secs=$1 i
	shift
	for i in $(seq 1 $((secs * 10))); do
		"$@" && return 0
		sleep 0.1
	done
	return 1
}

status_text() {
	cin systemctl show -p StatusText --value connectproxy.service
}

has_status() {
	case $(status_text) in generation*) return 0 ;; esac
	return 1
}

check_start() {
	if ! timeout 60 nsenter -t "$INIT" -a -- systemctl start \
	    connectproxy.service; then
		fail "systemctl start connectproxy"
		cin journalctl -u connectproxy --no-pager -n 30 || true
		return 1
	fi
	if await 10 has_status; then
		pass "unit started, StatusText=$(status_text)"
	else
		fail "unit started but no STATUS= (StatusText='$(status_text)')"
	fi
}

# Small targets inside the container, as transient services: stopped with
# the container, never left on the host.
start_targets() {
	cin systemd-run -q --unit=cp-web socat \
	    TCP-LISTEN:$WEB_PORT,bind=127.0.0.1,fork,reuseaddr \
	    EXEC:/usr/local/bin/cp-web-reply
	cin systemd-run -q --unit=cp-echo socat \
	    TCP-LISTEN:$ECHO_PORT,bind=127.0.0.1,fork,reuseaddr EXEC:cat
	await 10 cin bash -c "exec 3<>/dev/tcp/127.0.0.1/$WEB_PORT &&
	    exec 4<>/dev/tcp/127.0.0.1/$ECHO_PORT" 2>/dev/null || true
}

check_tunnel() {
	local out
	out=$(cin curl -sS --max-time 10 -p -x "http://$PROXY" \
	    -w ' connect=%{http_connect} code=%{http_code}' \
	    "http://127.0.0.1:$WEB_PORT/" 2>&1 | tr '\n' ' ') || true
	case $out in
	"ok  connect=200 code=200")
		pass "curl -p through the proxy: $out" ;;
	*)	fail "curl -p through the proxy: $out" ;;
	esac
}

# A client inside the container opens a tunnel to the echo target, says
# it is open, waits for the reload to be done, and then uses the tunnel.
TUNNEL_CLIENT='
set -u
exec 3<>/dev/tcp/127.0.0.1/3128 || exit 2
printf "CONNECT 127.0.0.1:%s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\n\r\n" \
    "$1" "$1" >&3
read -r -t 10 line <&3 || exit 3
case $line in "HTTP/1."?" 200"*) ;; *) echo "got: $line"; exit 4 ;; esac
while read -r -t 10 line <&3; do [ "$line" = $'"'"'\r'"'"' ] && break; done
mkdir -p /run/cp-test && : >/run/cp-test/open
for i in $(seq 1 300); do [ -e /run/cp-test/go ] && break; sleep 0.1; done
[ -e /run/cp-test/go ] || exit 5
echo "still-open" >&3
read -r -t 10 line <&3 || { echo "no echo after the reload"; exit 6; }
[ "$line" = still-open ] || { echo "got: $line"; exit 7; }
echo "echoed after the reload"
'

check_reload() {
	local cpid before after rc
	cin rm -rf /run/cp-test
	cin bash -c "$TUNNEL_CLIENT" client "$ECHO_PORT" \
	    >"$TOP/build/systemd-client.log" 2>&1 &
	cpid=$!
	if ! await 10 cin test -e /run/cp-test/open; then
		kill "$cpid" 2>/dev/null || true
		wait "$cpid" 2>/dev/null || true
		fail "reload keeps a tunnel: could not open one: $(cat \
		    "$TOP/build/systemd-client.log")"
		return 0
	fi
	before=$(status_text)
	if ! timeout 30 nsenter -t "$INIT" -a -- systemctl reload \
	    connectproxy.service; then
		fail "systemctl reload connectproxy"
	fi
	# The reload is done when the master says so in its status line.
	after_reload() {
		case $(status_text) in
		*"last reload: none"*) return 1 ;;
		generation*) return 0 ;;
		esac
		return 1
	}
	await 10 after_reload || true
	after=$(status_text)
	cin touch /run/cp-test/go
	rc=0
	wait "$cpid" || rc=$?
	if [ "$rc" = 0 ] && [ "$(cin systemctl is-active \
	    connectproxy.service)" = active ]; then
		pass "systemctl reload kept an open tunnel ($(cat \
		    "$TOP/build/systemd-client.log")); StatusText=$after"
	else
		fail "systemctl reload kept an open tunnel: client exit $rc:" \
		    "$(cat "$TOP/build/systemd-client.log"); before: $before;" \
		    "after: $after"
	fi
}

# A reload that moves access_log from stderr (the journal) to a file:
# the next tunnel's record is in that file, created 0640 by the service
# user under the unit's LogsDirectory=.
ACCESS_LOG=/var/log/connectproxy/access.log
check_log_move() {
	local out mode
	echo "access_log $ACCESS_LOG" \
	    >>"$ROOTFS/etc/connectproxy/connectproxy.conf"
	if ! timeout 30 nsenter -t "$INIT" -a -- systemctl reload \
	    connectproxy.service; then
		fail "systemctl reload to move access_log"
		return 0
	fi
	gen2() { case $(status_text) in "generation 2"*) return 0 ;; esac
	    return 1; }
	await 10 gen2 || true
	out=$(cin curl -sS --max-time 10 -p -x "http://$PROXY" \
	    -o /dev/null -w '%{http_connect}' \
	    "http://127.0.0.1:$WEB_PORT/moved" 2>&1) || true
	logged() { cin grep -qs "target=127.0.0.1:$WEB_PORT" "$ACCESS_LOG"; }
	if [ "$out" = 200 ] && await 10 logged; then
		mode=$(cin stat -c '%a %U' "$ACCESS_LOG")
		if [ "$mode" = "640 connectproxy" ]; then
			pass "reload moved access_log to $ACCESS_LOG ($mode)"
		else
			fail "reload moved access_log, but $ACCESS_LOG is $mode," \
			    "not 640 connectproxy"
		fi
	else
		fail "reload moved access_log: CONNECT $out, $ACCESS_LOG holds:" \
		    "$(cin cat "$ACCESS_LOG" 2>&1 | tail -3)"
	fi
}

# The installed logrotate snippet, as cron would run it, with the access
# log of check_log_move: the rotated file keeps the records before, the
# new one (created by the master on USR1) gets the next tunnel's.
check_logrotate() {
	local out
	if ! cin logrotate -f /etc/logrotate.d/connectproxy; then
		fail "logrotate -f with the installed snippet"
		return 0
	fi
	reopened() { cin test -e "$ACCESS_LOG"; }
	await 10 reopened || true
	out=$(cin curl -sS --max-time 10 -p -x "http://$PROXY" \
	    -o /dev/null -w '%{http_connect}' \
	    "http://127.0.0.1:$WEB_PORT/rotated" 2>&1) || true
	logged() { cin grep -qs "target=127.0.0.1:$WEB_PORT" "$ACCESS_LOG"; }
	if [ "$out" = 200 ] && await 10 logged && cin grep -qs \
	    "target=127.0.0.1:$WEB_PORT" "$ACCESS_LOG.1"; then
		pass "logrotate: old records in access.log.1, the next in a" \
		    "new access.log ($(cin stat -c '%a %U' "$ACCESS_LOG"))"
	else
		fail "logrotate: CONNECT $out; $(cin ls -l \
		    /var/log/connectproxy/ 2>&1 | tr '\n' ' ')"
	fi
}

check_status_cmd() {
	local out
	if out=$(cin timeout 10 connectproxy status 2>&1); then
		pass "connectproxy status without -c: $(echo "$out" |
		    head -1)"
	else
		fail "connectproxy status without -c: $out"
	fi
}

no_proxy_process() { ! cin pgrep -x connectproxy >/dev/null; }

check_stop() {
	if ! timeout 40 nsenter -t "$INIT" -a -- systemctl stop \
	    connectproxy.service; then
		fail "systemctl stop connectproxy"
	fi
	if await 5 no_proxy_process; then
		pass "systemctl stop left no connectproxy process"
	else
		fail "systemctl stop left: $(cin pgrep -a -x connectproxy)"
	fi
}

check_journal() {
	local bad
	bad=$(cin journalctl -u connectproxy.service --no-pager -o cat |
	    grep -E 'Permission denied|Operation not permitted|SECCOMP' ||
	    true)
	if [ -z "$bad" ]; then
		pass "journal of the unit holds no permission error"
	else
		fail "journal of the unit holds permission errors:"
		echo "$bad" | head -20
	fi
}

need_tools
build_base
install_copy
boot
if check_start; then
	start_targets
	check_tunnel
	check_reload
	check_log_move
	check_logrotate
	check_status_cmd
	check_stop
fi
check_journal
if [ "$FAILED" != 0 ]; then
	echo "--- journal of connectproxy.service"
	cin journalctl -u connectproxy.service --no-pager -n 40 || true
fi
echo "test-systemd: $([ "$FAILED" = 0 ] && echo passed || echo FAILED)" \
    "in $(( $(date +%s) - T0 )) s"
exit "$FAILED"
