#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# tt_alloc demo (busybox sh, runs as root in the test VM; `make demo`).
# Two fake "model runs" record Tenstorrent device memory through
# /dev/tt_alloc; one crashes, one is killed with SIGKILL; the kernel gives
# everything back the moment each process dies.
PATH=/opt/tt_alloc/bin:$PATH
TRACES=${TT_ALLOC_TRACES:-/opt/tt_alloc/share/traces}
W=/tmp/tt-alloc-demo
rm -rf $W && mkdir -p $W

say() { printf '\n\033[1m==> %s\033[0m\n' "$*"; }
run() { printf '$ %s\n' "$*"; "$@"; }
wait_for() { i=0; while ! grep -q "$2" "$1" 2>/dev/null; do i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05; done; }
die() { echo "demo: $*" >&2; exit 1; }

say "tt_alloc keeps track of the device memory every process uses on Tenstorrent chips."
echo "    A device runtime (tt-metal / TT-NN) tells /dev/tt_alloc about each buffer,"
echo "    circular buffer and kernel it puts on a chip. When a process dies - even by"
echo "    SIGKILL - the kernel forgets its allocations at once: no cleanup daemon."

say "Load the module for two Wormhole chips (an n300 card)."
rmmod tt_alloc 2>/dev/null
run tt-alloc-smi --load --devices 2 --arch wormhole_b0,wormhole_b0 || die "cannot load tt_alloc"
say "Nothing runs yet: the chips are empty."
run tt-alloc-smi

say "Process A: a TT-NN model on device 0 that stays up (--hold)."
echo "    Opening the device loads 204 KiB of system kernels (2 fabric + 2 dispatch),"
echo "    then weights go to DRAM, activations to L1, CBs and kernels per op."
export TT_ALLOC_TRACKING_ENABLED=1
tt-alloc-replay --hold $TRACES/ttnn-single-device.trace > $W/a.log 2>&1 &
A=$!
wait_for $W/a.log holding || die "process A did not start"
cat $W/a.log

# Process B: the multi-device trace, paused halfway (so we can look at it),
# then crashing right after the pause.
awk '/^(alloc|free) /{ops++} {print} ops == half && !done {print "sleep 4000"; done = 1}' \
	half=$(grep -c '^\(alloc\|free\) ' $TRACES/ttnn-multi-device.trace | awk '{print int($1 / 2)}') \
	$TRACES/ttnn-multi-device.trace > $W/multi.trace
half=$(grep -c '^\(alloc\|free\) ' $TRACES/ttnn-multi-device.trace | awk '{print int($1 / 2)}')
say "Process B: a model split over devices 0 and 1; it will crash halfway (--crash-after $((half + 20)))."
tt-alloc-replay --crash-after $((half + 20)) $W/multi.trace > $W/b.log 2>&1 &
B=$!
i=0
while [ "$(cat /sys/class/tt_alloc/device1/kernel/system_bytes)" != 208896 ] && [ $i -lt 100 ]; do
	i=$((i + 1)); sleep 0.05
done
sleep 0.5

say "Both processes are on the chips. tt-alloc-smi shows who holds what:"
run tt-alloc-smi

say "The same numbers are plain sysfs files (for scripts and node_exporter):"
for f in dram/used_bytes l1/used_bytes cb/allocations kernel/used_bytes kernel/system_bytes clients; do
	printf '    /sys/class/tt_alloc/device0/%-22s %s\n' "$f" "$(cat /sys/class/tt_alloc/device0/$f)"
done
printf '    /sys/class/tt_alloc/device1/%-22s %s\n' kernel/system_bytes "$(cat /sys/class/tt_alloc/device1/kernel/system_bytes)"

say "Process B now crashes (abort) in the middle of its run..."
wait $B
echo "    process B (pid $B) exited with status $? ($(grep -o 'crashing on purpose.*' $W/b.log | head -1))"
say "...and its memory is already back: device 1 is empty, only process A is left."
run tt-alloc-smi

say "Now kill process A with SIGKILL: no chance to clean up after itself."
run kill -KILL $A
wait $A 2>/dev/null
say "Right after waitpid() returns, both chips are empty again:"
run tt-alloc-smi -a
say "The kernel log says what it took back from each process:"
# without dmesg's "[seconds]" prefix, which is what `make demo` drops as
# the kernel's own console output
{ dmesg | grep 'tt_alloc' | grep -e "pid $A " -e "pid $B " || dmesg | grep tt_alloc | tail -5; } |
	sed 's/^\[[^]]*\] /    kernel: /'
say "Totals reclaimed per device:"
for d in 0 1; do
	printf '    device%s: %s bytes in %s allocations\n' $d \
		"$(cat /sys/class/tt_alloc/device$d/reclaimed_bytes)" \
		"$(cat /sys/class/tt_alloc/device$d/reclaimed_allocations)"
done
say "No polling, no daemon, no 10-second window: release() of the file did it all."
rm -rf $W
