#!/bin/sh
# SPDX-License-Identifier: ISC
# Install what the test suites need, only when it is missing: the Check
# framework (and pkg-config to find it), curl and openssl as real clients,
# iproute2 for the network-namespace tests, tinyproxy as a parent proxy
# for the upstream tests (run by the tests only, its service is disabled),
# libcrypt-dev for crypt(3), logrotate to rotate with the installed
# snippet, haproxy as the load balancer in front of two instances (run
# by the tests only, its service is disabled).  Debian and Ubuntu
# (apt-get).
set -eu

missing=""
pkg-config --exists check 2>/dev/null || missing="$missing check pkg-config"
command -v curl >/dev/null 2>&1 || missing="$missing curl"
command -v openssl >/dev/null 2>&1 || missing="$missing openssl"
command -v ip >/dev/null 2>&1 || missing="$missing iproute2"
command -v tinyproxy >/dev/null 2>&1 || missing="$missing tinyproxy"
[ -e /usr/include/crypt.h ] || missing="$missing libcrypt-dev"
command -v logrotate >/dev/null 2>&1 || \
    [ -x /usr/sbin/logrotate ] || missing="$missing logrotate"
command -v haproxy >/dev/null 2>&1 || \
    [ -x /usr/sbin/haproxy ] || missing="$missing haproxy"
[ -n "$missing" ] || exit 0

echo "install-deps: installing$missing" >&2
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
# shellcheck disable=SC2086
$sudo apt-get install -y -qq --no-install-recommends $missing
case "$missing" in
*tinyproxy*)
	# The package starts a system-wide tinyproxy; the tests need none.
	$sudo systemctl disable --now tinyproxy >/dev/null 2>&1 || true
	$sudo update-rc.d tinyproxy disable >/dev/null 2>&1 || true
	;;
esac
case "$missing" in
*haproxy*)
	# Likewise: the tests start their own HAProxy.
	$sudo systemctl disable --now haproxy >/dev/null 2>&1 || true
	$sudo update-rc.d haproxy disable >/dev/null 2>&1 || true
	;;
esac
