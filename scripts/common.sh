# SPDX-License-Identifier: GPL-2.0
# Shared helpers for the tt_alloc build/test scripts (sourced, not run).
# shellcheck shell=bash disable=SC2034

TT_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
# CI may run with a bare environment: fall back to the passwd home.
TT_CACHE=${TT_ALLOC_CACHE:-${HOME:-$(getent passwd "$(id -un)" | cut -d: -f6)}/.cache/tt_alloc}
TT_OUT=${TT_OUT:-$TT_ROOT/out}
# Debian package providing the debug kernel's source and the lint tools.
TT_SRC_PKG=linux-source-6.12
TT_SRC_TARBALL=/usr/src/linux-source-6.12.tar.xz

die() { echo "error: $*" >&2; exit 1; }
note() { echo ">>> $*" >&2; }

# pkg_version PKG: installed version of a Debian package, empty if absent.
pkg_version() {
	dpkg-query -W -f='${Status} ${Version}\n' "$1" 2>/dev/null |
		awk '$1 == "install" && $3 == "installed" { print $4 }'
}

# host_apt ARGS...: apt-get on the host's apt, whose package lists and
# dpkg database are one per machine. Two make check starting together on
# a fresh host both install packages and headers, and apt fails at once on
# a lock the other holds: runs of this project queue on TT_APT_LOCK, and
# apt itself waits for anyone else holding dpkg's lock (unattended-upgrades).
# flock -o: a daemon a postinst starts must not inherit, so keep, the lock.
host_apt() {
	local lock=${TT_APT_LOCK:-/run/lock/tt_alloc-apt.lock} wait=${TT_APT_LOCK_WAIT:-900} rc=0
	flock -n "$lock" true 2>/dev/null ||
		note "waiting up to ${wait}s for $lock: another run is using the host's apt"
	flock -o -w "$wait" -E 75 "$lock" apt-get -o DPkg::Lock::Timeout="$wait" "$@" || rc=$?
	[ "$rc" = 75 ] && echo "error: $lock still held by another run after ${wait}s" >&2
	return "$rc"
}

# kernel_env TAG: path of the env file describing a prepared kernel.
kernel_env() { echo "$TT_OUT/kernels/$1.env"; }

# write_file FILE: stdin into FILE, replaced whole (a temporary file
# renamed over it). The kernels' env and config files are rewritten by
# every make deps and make kernel, which make check runs (its README and
# harness stages) while other stages read them: a reader must never see
# one truncated.
write_file() {
	cat >"$1.tmp.$$" && mv -f "$1.tmp.$$" "$1"
}

# load_kernel TAG: source the env file (KTAG KDIR VMLINUZ KREL KSRC) of a
# kernel prepared by scripts/kernels/build-kernel.sh or scripts/kernels/fetch-kernel.sh.
load_kernel() {
	local f
	f=$(kernel_env "$1")
	if [ ! -f "$f" ]; then
		case $1 in
		debug) die "debug kernel not prepared ($f missing): run 'make kernel' (scripts/kernels/build-kernel.sh)" ;;
		*) die "kernel '$1' not prepared ($f missing): run 'make stock-kernels' (scripts/kernels/fetch-kernel.sh $1)" ;;
		esac
	fi
	# shellcheck disable=SC1090
	. "$f"
}

now() { date +%s; }

# record STATUS NAME [LOGFILE]: report one check of lint.sh or the harness
# self-tests; appended to $results (ktap.py record) when set, the tail of
# LOGFILE shown for a failure, which also sets failed=1.
record() {
	if [ -n "${results:-}" ]; then
		python3 "$TT_ROOT/selftests/vm/ktap.py" record "$results" "$@" >/dev/null
	fi
	if [ "$1" = FAIL ]; then
		failed=1
		echo "FAIL: $2" >&2
		[ -n "${3:-}" ] && sed 's/^/    /' "$3" | tail -100 >&2
	else
		echo "$1: $2" >&2
	fi
	return 0
}

# tap_ok RC NAME [LOG]: one TAP line of a script that prints TAP (counters
# n and failed); on failure the tail of LOG as diagnostics.
tap_ok() {
	n=$((n + 1))
	if [ "$1" = 0 ]; then
		echo "ok $n $2"
	else
		echo "not ok $n $2"
		failed=$((failed + 1))
		[ -n "${3:-}" ] && [ -f "$3" ] && tail -25 "$3" | sed 's/^/# /'
	fi
	return 0
}
