#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of tt-alloc-record (root, busybox sh, tt_alloc loaded; the
# test reloads it with devices=2 and loads it with its defaults again at
# the end). A recording of tt-alloc-replay
# replaying the multi-device sample trace, replayed in turn on a freshly
# loaded module, must give the same counters: USAGE (device scope) and
# sysfs per device and type, held and after the exit (peaks, reclaimed
# bytes and allocations included). Then: --pid and --comm select, the
# instance is gone afterwards, --duration stops by itself, --keep-time
# writes the gaps, --tracefs works through debugfs's tracing/, a process
# that held entries before the recording is reported partial, a buffer
# overrun gives exit 3 and *.incomplete files, and with the module
# unloaded exit 4. Bad flags and non-tracefs directories are the host
# test test-record-args. Prints TAP; exits 1 on failure, 4 (kselftest
# skip) without tracefs or tracepoints.
here=$(cd "$(dirname "$0")" && pwd)
BIN=$here/../bin
REC=$BIN/tt-alloc-record
REPLAY=$BIN/tt-alloc-replay
USAGE=$here/../lib/tt_alloc/tt-alloc-usage
TRACE=$here/../share/traces/ttnn-multi-device.trace
SYS=/sys/class/tt_alloc
T=/tmp/record-test.$$
mkdir -p $T
n=0
failed=0
export TT_ALLOC_TRACKING_ENABLED=1
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }
diag() { sed 's/^/# /' "$@" | head -20; }
cleanup() {
	for p in $(jobs -p); do kill -KILL "$p" 2>/dev/null; done
	rm -rf $T
	# the module as the suite runner loaded it
	rmmod tt_alloc 2>/dev/null
	modprobe tt_alloc
}
trap cleanup EXIT
wait_for() { # FILE PATTERN: poll, 60 s deadline (TCG on a busy host is slow)
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 1200 ] && return 1; sleep 0.05
	done
}
wait_gone() { # PID: poll until it has exited, 60 s deadline
	i=0
	while kill -0 "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 1200 ] && return 1; sleep 0.05
	done
}

# ---- tracefs, as the recorder finds it ----------------------------------------
tracefs=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -d $d/instances ] && { tracefs=$d; break; }
done
if [ -z "$tracefs" ] && [ -d /sys/kernel/tracing ] && mount -t tracefs tracefs /sys/kernel/tracing 2>/dev/null; then
	tracefs=/sys/kernel/tracing
fi
if [ -z "$tracefs" ]; then
	echo "1..0 # SKIP no tracefs"
	exit 4
fi
if [ ! -d $tracefs/events/tt_alloc ]; then
	echo "1..0 # SKIP no events/tt_alloc in $tracefs (kernel without event tracing?)"
	exit 4
fi
no_instance() {
	for i in $tracefs/instances/tt_alloc_record.*; do [ -e "$i" ] && return 1; done
	return 0
}
# only_incomplete DIR: files there, every one *.trace.incomplete
only_incomplete() {
	set -- "$1"/*
	[ -e "$1" ] || return 1
	for i in "$@"; do case $i in *.trace.incomplete) ;; *) return 1 ;; esac; done
}

# counters NAME: every counter of every device (sysfs), and USAGE per
# device; few processes (grep -H), as forks are slow on the debug kernel
counters() {
	for d in $SYS/device*; do
		dn=${d##*/}
		grep -H . $d/*/used_bytes $d/*/allocations $d/*/peak_bytes $d/reclaimed_bytes \
			$d/reclaimed_allocations $d/kernel/system_bytes
		$USAGE "${dn#device}" | sed "s/^/$dn usage /"
	done >$T/$1
}
# 2 devices, as the sample trace uses: fewer counters to read
reload() {
	rmmod tt_alloc && modprobe tt_alloc devices=2 && [ "$(cat $SYS/device*/*/peak_bytes | sort -u)" = 0 ]
}
# start_rec LOG ARGS...: the recorder in the background, $rpid; waits until it records
start_rec() {
	log=$1
	shift
	"$REC" "$@" >$log.out 2>$log.err &
	rpid=$!
	wait_for $log.err "recording tt_alloc events"
}
# what the trace holds: alloc and free lines, entries held at the end
awk '{ sub(/#.*/, "") }
	$1 == "alloc" { a++; k = $2 " " $3 " " $5; if (!r[k]++) e++ }
	$1 == "free" { f++; k = $2 " " $3 " " $4; if (!--r[k]) e-- }
	END { print a + 0, f + 0, e + 0 }' $TRACE >$T/exp
read -r ea ef ee <$T/exp

# ---- 1. record a replay ----------------------------------------------------------
reload
ok $? "module reloaded with devices=2: peaks start at 0"
start_rec $T/rec1 -o $T/rec1 -c tt-alloc-replay
ok $? "recorder started (private instance in $tracefs)"
[ -d $tracefs/instances/tt_alloc_record.$rpid ] &&
	[ "$(cat $tracefs/instances/tt_alloc_record.$rpid/events/tt_alloc/alloc/enable)" = 1 ] &&
	[ "$(cat $tracefs/events/tt_alloc/alloc/enable)" = 0 ]
ok $? "instance tt_alloc_record.$rpid has the events on, the top level not"
"$REPLAY" -q --hold $TRACE >$T/a.log 2>&1 &
apid=$!
wait_for $T/a.log holding && counters a.held
ok $? "original replay (pid $apid) holds the trace"
[ "$(awk '$2 == "usage" && $4 != 0 { print $1 }' $T/a.held | sort -u | wc -l)" -ge 2 ]
ok $? "original: something in use on 2 devices (what the comparison below sees)"
kill -TERM $apid; wait $apid
counters a.after
kill -INT $rpid; wait $rpid
rc=$?
[ $rc = 0 ] && no_instance
ok $? "SIGINT: recorder exits 0 ($rc), its instance removed"
[ $rc = 0 ] || diag $T/rec1.err
f=$T/rec1/pid-$apid.trace
[ "$(wc -l <$T/rec1.out)" = 1 ] &&
	grep -q "^$f pid=$apid comm=tt-alloc-replay client=[0-9]* alloc=$ea free=$ef reclaim=$ee partial=0$" $T/rec1.out
ok $? "one trace, $f: $ea alloc, $ef free, $ee reclaim (as the sample trace holds)"
diag $T/rec1.out
[ "$(grep -c '^alloc ' $f)" = "$ea" ] && [ "$(grep -c '^free ' $f)" = "$ef" ] &&
	[ "$(grep -c '^# reclaim ' $f)" = "$ee" ]
ok $? "the file: $ea alloc lines, $ef free lines, $ee reclaims as comments"
# the recording, replayed
"$REPLAY" -n $f >$T/check.out 2>&1
ok $? "tt-alloc-replay --check accepts the recording"
diag $T/check.out
reload
"$REPLAY" -q --hold $f >$T/b.log 2>&1 &
bpid=$!
wait_for $T/b.log holding && counters b.held
ok $? "replay of the recording holds"
kill -TERM $bpid; wait $bpid
counters b.after
diff -u $T/a.held $T/b.held >$T/diff.held
ok $? "held: every counter and USAGE per device and type as in the original"
diag $T/diff.held
diff -u $T/a.after $T/b.after >$T/diff.after
ok $? "after exit: peaks, reclaimed bytes/allocations as in the original"
diag $T/diff.after

# ---- 2. --pid: only that process; SIGTERM stops -----------------------------------
# Small traces from here on: the debug kernel (KASAN, lockdep) under TCG
# takes seconds per replay of the sample trace.
printf 'alloc 0 dram - 0x1000 4K\nalloc 1 l1 - 0x2000 8K\nalloc 0 dram - 0x1000 4K\nfree 0 dram 0x1000\n' >$T/small.trace
mkfifo $T/go1 $T/go2
# the pids are known before the recorder starts, the ops come after: exec
sh -c "read x <$T/go1; exec $REPLAY -q --hold $T/small.trace" >$T/p1.log 2>&1 &
p1=$!
sh -c "read x <$T/go2; exec $REPLAY -q --hold $T/small.trace" >$T/p2.log 2>&1 &
p2=$!
"$REC" -q -o $T/rec2 --pid $p1 >$T/rec2.out 2>$T/rec2.err &
rpid=$!
# -q: no "recording" line to wait for. The sign is the instance's
# tracing_on at 1 with the filter in place: a new instance starts with
# tracing_on 1 (so that alone can be seen before the recorder has done
# anything), which the recorder turns off at once, then it sets the
# filter, and turns tracing on last.
inst=$tracefs/instances/tt_alloc_record.$rpid
i=0
until grep -qs "pid == $p1" $inst/events/tt_alloc/alloc/filter &&
	[ "$(cat $inst/tracing_on 2>/dev/null)" = 1 ]; do
	i=$((i + 1)); [ $i -gt 1200 ] && break; sleep 0.05
done
grep -q "pid == $p1" $inst/events/tt_alloc/alloc/filter && [ "$(cat $inst/tracing_on)" = 1 ]
ok $? "--pid $p1: a tracefs event filter 'pid == $p1', then tracing on"
echo >$T/go1; echo >$T/go2
wait_for $T/p1.log holding && wait_for $T/p2.log holding
kill -TERM $p1 $p2; wait $p1; wait $p2
kill -TERM $rpid; wait $rpid
rc=$?
[ $rc = 0 ] && [ "$(ls $T/rec2)" = "pid-$p1.trace" ] && [ ! -s $T/rec2.err ] &&
	[ "$(grep -v '^#' $T/rec2/pid-$p1.trace | tr '\n' ' ')" = "alloc 0 dram - 0x1000 4096 alloc 1 l1 - 0x2000 8192 alloc 0 dram - 0x1000 4096 free 0 dram 0x1000 " ]
ok $? "SIGTERM: exit $rc; only pid-$p1.trace, its 4 ops as traced (the second reference too), pid $p2 left out; -q: no message"
# on a failure, all of what the comparison looked at
if [ "$(grep -v '^#' $T/rec2/pid-$p1.trace 2>/dev/null | wc -l)" != 4 ] || [ -s $T/rec2.err ]; then
	ls $T/rec2 | diag
	cat $T/rec2/* $T/rec2.err $T/p1.log 2>&1 | diag
fi

# ---- 3. --duration, --comm that matches nothing -------------------------------------
start_rec $T/rec3 -o $T/rec3 -d 1 -c nosuchprogram
"$REPLAY" -q $T/small.trace >/dev/null 2>&1
wait_gone $rpid
wait $rpid
rc=$?
[ $rc = 0 ] && [ -z "$(ls $T/rec3)" ] && [ ! -s $T/rec3.out ] && no_instance
ok $? "--duration 1 -c nosuchprogram: stops by itself, exit $rc, no trace written"

# ---- 4. --keep-time ----------------------------------------------------------------
printf 'alloc 0 dram - 0x1000 4K\nsleep 400\nalloc 0 l1 - 0x2000 4K\nfree 0 dram 0x1000\n' >$T/gap.trace
# through the old mount point, debugfs's tracing/ (the same tracefs)
start_rec $T/rec4 -o $T/rec4 --keep-time --tracefs /sys/kernel/debug/tracing
"$REPLAY" -q $T/gap.trace >$T/gap.log 2>&1
kill -INT $rpid; wait $rpid
rc=$?
# the sleep is between the two ioctls: the gap is at least 400 ms, whatever the load
ms=$(sed -n 's/^sleep \([0-9]*\)$/\1/p' $T/rec4/*.trace | head -1)
[ $rc = 0 ] && [ -n "$ms" ] && [ "$ms" -ge 399 ] && [ "$(grep -c '^sleep ' $T/rec4/*.trace)" -ge 1 ] &&
	awk '/^(alloc|free|sleep) / { printf "%s ", $1 } END { print "" }' $T/rec4/*.trace | grep -q '^alloc sleep .*alloc '
ok $? "--keep-time: 'sleep $ms' between the two allocs (>= 400 ms slept)"
grep -q "(/sys/kernel/debug/tracing/instances/tt_alloc_record\.[0-9]*)" $T/rec4.err
ok $? "--tracefs /sys/kernel/debug/tracing: the instance made there"

# ---- 5. a process that held entries before the recording started -------------------
printf 'alloc 0 dram - 0x1000 4K\nalloc 0 l1 - 0x2000 4K\nsleep 15000\nfree 0 dram 0x1000\nalloc 0 l1 - 0x2000 4K\nalloc 0 cb - 0x3000 4K\n' >$T/pre.trace
"$REPLAY" -q $T/pre.trace >$T/pre.log 2>&1 &
ppid=$!
i=0
until [ "$(cat $SYS/device0/l1/used_bytes)" = 4096 ]; do
	i=$((i + 1)); [ $i -gt 1200 ] && break; sleep 0.05
done
start_rec $T/rec5p -o $T/rec5p
# the recorder must be up inside the replay's 15 s sleep, or this case means nothing
[ "$(cat $SYS/device0/dram/used_bytes)" = 4096 ]
early=$?
wait $ppid
kill -INT $rpid; wait $rpid
rc=$?
f=$T/rec5p/pid-$ppid.trace
[ $early = 0 ] && [ $rc = 0 ] && grep -q " partial=3$" $T/rec5p.out &&
	grep -q "^# free of an entry from before the recording: 0 dram 0x1000 refs=0$" $f &&
	grep -q "pid $ppid held entries from before the recording started (3 events" $T/rec5p.err &&
	"$REPLAY" -n $f >/dev/null 2>&1
ok $? "started mid-run: the free of an older entry a comment, partial=3 reported, the trace still replays"
diag $T/rec5p.out $T/rec5p.err

# ---- 6. overrun: a stopped recorder, a 4 KiB buffer -------------------------------------
start_rec $T/rec5 -o $T/rec5 -b 4
kill -STOP $rpid
"$REPLAY" -q $TRACE >/dev/null 2>&1
kill -CONT $rpid
kill -INT $rpid; wait $rpid
rc=$?
[ $rc = 3 ] && grep -q "events lost to trace buffer overruns" $T/rec5.err &&
	only_incomplete $T/rec5 && no_instance
ok $? "overrun: exit 3 ($rc), reported, every file renamed *.trace.incomplete"
# lost + read = what the replay generated: the loss is counted once
lost=$(sed -n 's/.*: \([0-9]*\) events lost to trace buffer overruns.*/\1/p' $T/rec5.err)
read=$(sed -n 's/.*stopped.*: \([0-9]*\) events, .*/\1/p' $T/rec5.err)
[ -n "$lost" ] && [ -n "$read" ] && [ $((lost + read)) = $((ea + ef + ee)) ]
ok $? "overrun: $lost lost + $read read = $((ea + ef + ee)) events of the replay"
diag $T/rec5.err

# ---- 7. module absent ------------------------------------------------------------------
rmmod tt_alloc
"$REC" -o $T/rec6 -d 1 >$T/rec6.out 2>$T/rec6.err
rc=$?
modprobe tt_alloc
[ $rc = 4 ] && grep -q "no tt_alloc events in $tracefs: is the tt_alloc module loaded" $T/rec6.err && no_instance
ok $? "module unloaded: exit 4 ($rc), 'is the tt_alloc module loaded', no instance left"
diag $T/rec6.err

echo "1..$n"
[ $failed = 0 ] || exit 1
exit 0
