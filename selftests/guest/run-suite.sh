#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of `make check` (busybox sh, runs as root inside the VM).
#   run-suite.sh [--kunit] [--no-module] [--full] [--timeout SECS] [--tests DIR] [TEST...]
# --kunit: load tt_alloc_kunit (KUnit runs at load) and print the KTAP
#          results of every suite named tt_alloc* from debugfs.
# Then for every executable in DIR (/opt/tt_alloc/tests; sorted), or only
# the named ones: modprobe tt_alloc, run it (per-test timeout, default
# 300s), rmmod tt_alloc. Each program's output is framed by
#   # tt-suite-begin: NAME   ...   # tt-suite-end: NAME rc=RC
# and a failing modprobe/rmmod prints '# tt-suite-<op>: NAME FAILED'.
# --no-module: run the programs without loading tt_alloc (harness tests).
# --full: TT_TEST_FULL=1 for the programs: long ones run at full length.
# Exit status: 0 if every program exited 0 (or 4, kselftest's skip) and
# every modprobe/rmmod worked, 1 otherwise.

kunit=0
module=1
tmo=${TT_TEST_TIMEOUT:-300}
dir=/opt/tt_alloc/tests
while [ $# -gt 0 ]; do
	case $1 in
	--kunit) kunit=1; shift ;;
	--no-module) module=0; shift ;;
	--timeout) tmo=$2; shift 2 ;;
	--tests) dir=$2; shift 2 ;;
	--full) export TT_TEST_FULL=1; shift ;;
	*) break ;;
	esac
done

status=0
fail() { echo "# tt-suite-$1: $2 FAILED${3:+ ($3)}"; status=1; }
oneline() { tr '\n' ' ' <"$1"; }

# await_group PGID: wait (300s at most) until every process of the group
# has exited. kill(2) only queues the signal; a killed process closes its
# files on its way out, so rmmod right after the kill could find tt_alloc
# still in use. A zombie has closed them already: it counts as gone. A
# debug kernel under load took over 2 minutes to reclaim the 200k entries
# of a killed abi_test.
await_group() {
	pgid=$1 tries=3000
	while [ "$tries" -gt 0 ]; do
		alive=0
		for st in /proc/[0-9]*/stat; do
			read -r line <"$st" 2>/dev/null || continue
			# after "(comm) ": state ppid pgrp ...
			# shellcheck disable=SC2086 # split into fields
			set -- ${line##*) }
			if [ "$3" = "$pgid" ] && [ "$1" != Z ] && [ "$1" != X ]; then
				alive=1
				break
			fi
		done
		[ "$alive" = 0 ] && return 0
		sleep 0.1
		tries=$((tries - 1))
	done
	echo "# tt-suite: process group $pgid still running after 300s"
}

unload() { # NAME MODULES...: rmmod, a failure is NAME's failure
	n=$1
	shift
	if ! rmmod "$@" 2>/tmp/rmmod.err; then
		fail rmmod "$n" "$(oneline /tmp/rmmod.err)"
		lsmod
		for fd in /proc/[0-9]*/fd/*; do
			case $(readlink "$fd" 2>/dev/null) in
			/dev/tt_alloc) echo "# still open: $fd" ;;
			esac
		done
		sleep 2
		rmmod "$@" 2>/dev/null
	fi
}

if [ "$kunit" = 1 ]; then
	t0=$(date +%s)
	if modprobe tt_alloc_kunit 2>/tmp/modprobe.err; then
		secs=$(($(date +%s) - t0)) # every suite ran during the load
		found=0
		for d in /sys/kernel/debug/kunit/tt_alloc*; do
			[ -f "$d/results" ] || continue
			found=1
			s=${d##*/}
			echo "# tt-suite-begin: kunit/$s"
			cat "$d/results"
			echo "# tt-suite-end: kunit/$s rc=0 secs=$secs"
			secs=0
		done
		[ "$found" = 1 ] || fail modprobe kunit "no tt_alloc* suite in /sys/kernel/debug/kunit"
		unload kunit tt_alloc_kunit tt_alloc
	else
		fail modprobe kunit "$(oneline /tmp/modprobe.err)"
	fi
fi

if [ $# -gt 0 ]; then
	tests=$*
else
	tests=$(cd "$dir" 2>/dev/null && for f in *; do echo "$f"; done | sort)
fi
ran=0
for t in $tests; do
	case $t in /*) path=$t ;; *) path=$dir/$t ;; esac
	name=${path##*/}
	if [ -d "$path" ]; then
		[ $# -gt 0 ] || continue # a data directory beside the programs
	fi
	if [ ! -f "$path" ] || [ ! -x "$path" ]; then
		echo "# tt-suite-missing: $name (no executable $path in the guest)"
		status=1
		continue
	fi
	if [ "$module" = 1 ] && ! modprobe tt_alloc 2>/tmp/modprobe.err; then
		fail modprobe "$name" "$(oneline /tmp/modprobe.err)"
		continue
	fi
	ran=$((ran + 1))
	echo "# tt-suite-begin: $name"
	t0=$(date +%s)
	# Each program leads its own process group, and the whole group goes
	# when the program ends or times out: a child that outlives a killed
	# test would otherwise keep recording into the next program's counters
	# and keep the module from unloading.
	rm -f /tmp/tt-suite.timeout
	(cd "${path%/*}" && exec setsid "$path") 2>&1 &
	pid=$!
	(
		sleep "$tmo"
		: >/tmp/tt-suite.timeout
		kill -TERM -- "-$pid"
		sleep 5
		kill -KILL -- "-$pid"
	) >/dev/null 2>&1 &
	dog=$!
	wait "$pid"
	rc=$?
	kill "$dog" 2>/dev/null
	kill -KILL -- "-$pid" 2>/dev/null
	await_group "$pid"
	[ -e /tmp/tt-suite.timeout ] && echo "# $name: TIMEOUT after ${tmo}s (rc=$rc)"
	echo "# tt-suite-end: $name rc=$rc secs=$(($(date +%s) - t0))"
	[ "$rc" = 0 ] || [ "$rc" = 4 ] || status=1
	[ "$module" = 1 ] && unload "$name" tt_alloc
done
echo "# tt-suite: ran $ran test program(s) from $dir"
exit $status
