#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of tt-alloc-replay (root, tt_alloc loaded with defaults):
# malformed traces give file:line errors and record nothing (every counter
# stays 0, nothing is even reclaimed); held replays match between single
# ioctls and --batch; --crash-after and SIGKILL give everything back at
# once. TAP.
here=$(cd "$(dirname "$0")" && pwd)
BIN=$here/../bin
USAGE=$here/../lib/tt_alloc/tt-alloc-usage
TRACES=$here/../share/traces
SYS=/sys/class/tt_alloc
T=/tmp/replay-test.$$
mkdir -p $T
n=0
failed=0
export TT_ALLOC_TRACKING_ENABLED=1
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }
wait_for() { # FILE PATTERN
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
	done
}
# sum of every counter of every device, reclaimed ones included
all_counters() {
	cat $SYS/device*/*/used_bytes $SYS/device*/*/allocations $SYS/device*/reclaimed_bytes \
		$SYS/device*/reclaimed_allocations $SYS/device*/kernel/system_bytes | awk '{s += $1} END {print s + 0}'
}
# held FILE N: entries still held after the first N alloc/free lines; an
# alloc of an address already held adds a reference, not an entry
held() {
	awk -v n="$2" '
	$1 == "alloc" { k = $2 " " $3 " " $5; if (r[k]++ == 0) e++; c++ }
	$1 == "free" { k = $2 " " $3 " " $4; if (--r[k] == 0) e--; c++ }
	c == n { print e; exit }' "$1"
}
# logged_left PID: N of the kernel's "pid PID (...) left N allocations"
logged_left() {
	dmesg | sed -n "s/.*tt_alloc: pid $1 (tt-alloc-replay) left \([0-9]*\) allocations.*/\1/p" | tail -1
}
in_use() {
	cat $SYS/device*/*/used_bytes $SYS/device*/*/allocations | awk '{s += $1} END {print s + 0}'
}

[ "$(all_counters)" = 0 ]
ok $? "fresh module: every counter is 0"

# malformed line at the end of a long valid trace
cp $TRACES/ttnn-single-device.trace $T/bad.trace
echo "alloc 0 dram - 0xbad" >> $T/bad.trace
last=$(wc -l < $T/bad.trace)
$BIN/tt-alloc-replay $T/bad.trace > $T/out 2> $T/err
rc=$?
[ $rc -ne 0 ] && grep -q "^$T/bad.trace:$last: 'alloc' takes 5 arguments" $T/err
ok $? "malformed last line: '$T/bad.trace:$last: ...', exit $rc"
[ "$(all_counters)" = 0 ]
ok $? "nothing recorded (no usage, nothing reclaimed either)"

printf 'alloc 0 dram - 1 4K\nalloc 0 sram - 2 4K\n' > $T/bad2.trace
$BIN/tt-alloc-replay --batch $T/bad2.trace > $T/out 2> $T/err
[ $? -ne 0 ] && grep -q "^$T/bad2.trace:2: unknown memory type 'sram'" $T/err && [ "$(all_counters)" = 0 ]
ok $? "--batch: malformed line 2, nothing recorded"

ndev=$(ls -d $SYS/device* | wc -l)
printf 'alloc 0 dram - 1 4K\n\n# device out of range\nalloc %d l1 - 2 4K\n' $ndev > $T/bad3.trace
$BIN/tt-alloc-replay $T/bad3.trace > $T/out 2> $T/err
[ $? -ne 0 ] && grep -q "^$T/bad3.trace:4: device $ndev does not exist" $T/err && [ "$(all_counters)" = 0 ]
ok $? "device $ndev of $ndev: error at line 4, nothing recorded"

# tracking disabled: nothing recorded
# Each held replay writes a file of its own: the parent may look for
# "holding" before the child has truncated a shared one.
TT_ALLOC_TRACKING_ENABLED= $BIN/tt-alloc-replay -q --hold $TRACES/ttnn-single-device.trace > $T/hold.off 2>&1 &
pid=$!
wait_for $T/hold.off holding && [ "$(all_counters)" = 0 ]
ok $? "TT_ALLOC_TRACKING_ENABLED unset: a held replay records nothing"
kill $pid; wait $pid

# single ioctls vs batch: same held state
$BIN/tt-alloc-replay -q --hold $TRACES/ttnn-multi-device.trace > $T/hold.single 2>&1 &
pid=$!
wait_for $T/hold.single holding
ok $? "multi-device trace held"
$USAGE 0 > $T/single.0; $USAGE 1 > $T/single.1
# non-empty, and something is in use on both devices: two empty or
# all-zero outputs would compare equal below
[ -s $T/single.0 ] && [ -s $T/single.1 ] &&
	[ "$(awk '$2 != "0" { n++ } END { print n + 0 }' $T/single.0)" -gt 0 ] &&
	[ "$(awk '$2 != "0" { n++ } END { print n + 0 }' $T/single.1)" -gt 0 ]
ok $? "single ioctls: usage on both devices"
[ "$(cat $SYS/device0/kernel/system_bytes)" = 208896 ] && [ "$(cat $SYS/device1/kernel/system_bytes)" = 208896 ]
ok $? "204 KiB of system kernels on each of the 2 devices"
kill -TERM $pid; wait $pid
[ "$(in_use)" = 0 ]
ok $? "SIGTERM: all released"
$BIN/tt-alloc-replay -q --batch --hold $TRACES/ttnn-multi-device.trace > $T/hold.batch 2>&1 &
pid=$!
wait_for $T/hold.batch holding
ok $? "multi-device trace held with --batch"
$USAGE 0 > $T/batch.0; $USAGE 1 > $T/batch.1
# peaks may differ (batching changes nothing about order, but compare used+allocs only)
cut -d' ' -f1-3 $T/single.0 > $T/a; cut -d' ' -f1-3 $T/batch.0 > $T/b
cut -d' ' -f1-3 $T/single.1 >> $T/a; cut -d' ' -f1-3 $T/batch.1 >> $T/b
cmp -s $T/a $T/b
ok $? "with --batch: exactly what single ioctls hold"

# SIGKILL: everything back before wait returns
kill -KILL $pid; wait $pid
[ "$(in_use)" = 0 ] && [ "$(cat $SYS/device0/clients)" = 0 ]
ok $? "SIGKILL of the holder: every counter back to 0 at once, no client left"
dmesg | grep -q "tt_alloc: pid $pid (tt-alloc-replay) left [0-9]* allocations: reclaimed"
ok $? "kernel log: 'pid $pid (tt-alloc-replay) left ... reclaimed'"

# --crash-after
$BIN/tt-alloc-replay --crash-after 100 $TRACES/ttnn-single-device.trace > $T/out 2> $T/err
rc=$?
[ $rc -ge 128 ] && grep -q "crashing on purpose after 100 operations" $T/err
ok $? "--crash-after 100 aborts (exit $rc)"
cpid=$(sed -n 's/.*pid \([0-9]*\)$/\1/p' $T/err | head -1)
want=$(held $TRACES/ttnn-single-device.trace 100)
got=$(logged_left "$cpid")
[ -n "$cpid" ] && [ "$(in_use)" = 0 ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ]
ok $? "what its first 100 operations held ($want, logged $got) reclaimed at once and logged"

$BIN/tt-alloc-replay --batch --batch-size 7 --crash-after 50 $TRACES/ttnn-single-device.trace > $T/out 2> $T/err
cpid=$(sed -n 's/.*pid \([0-9]*\)$/\1/p' $T/err | head -1)
want=$(held $TRACES/ttnn-single-device.trace 50)
got=$(logged_left "$cpid")
[ -n "$cpid" ] && [ "$want" -gt 0 ] && [ "$got" = "$want" ] && [ "$(in_use)" = 0 ]
ok $? "--batch --crash-after 50: all 50 operations flushed ($want held, logged $got), then reclaimed"

# --batch, the kernel refuses op 4 (max_allocations_per_file=3) and
# applies the free and the alloc after it: libttalloc skips only op 4,
# replay names its line (not the 5th applied op's) and exits 1
P=/sys/module/tt_alloc/parameters/max_allocations_per_file
lim=$(cat $P)
printf 'alloc 0 dram - 1 4K\nalloc 0 dram - 2 4K\nalloc 0 dram - 3 4K\nalloc 0 dram - 4 4K\nfree 0 dram 1\nalloc 0 dram - 5 4K\n' > $T/quota.trace
echo 3 > $P
$BIN/tt-alloc-replay --batch $T/quota.trace > $T/out 2> $T/err
rc=$?
echo "$lim" > $P
[ $rc -eq 1 ] && grep -q "^$T/quota.trace:4: alloc of dram id 0x4 on device 0 failed: .*EDQUOT" $T/err
ok $? "--batch, refused by the kernel: the first refused op's line (4) and EDQUOT, exit $rc"
[ "$(in_use)" = 0 ] && [ "$(cat $P)" = "$lim" ]
ok $? "and everything released at exit, the limit restored"

# a full replay without --hold leaves nothing
$BIN/tt-alloc-replay $TRACES/ttnn-single-device.trace > $T/out 2>&1
[ $? -eq 0 ] && grep -q "replayed" $T/out && [ "$(in_use)" = 0 ]
ok $? "full replay exits 0 and its file release frees the rest"

rm -rf $T
echo "1..$n"
[ $failed -eq 0 ]
