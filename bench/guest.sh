#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest side of bench/run.sh (busybox sh): load tt_alloc, run the
# benchmark, print its JSON between markers for the host to extract.
#   guest.sh [--quick]
# On real hardware run the binary itself: tt-alloc-bench --json FILE
set -e
bin=/opt/tt_alloc/bench/tt-alloc-bench
# console at the usual "quiet"-like level: warnings and worse only,
# not the pr_info of every reclaim (serial output is slow under TCG)
echo 5 >/proc/sys/kernel/printk
# the workqueue events are on from boot (bench/run.sh says why): record
# nothing until the sweep section asks for it
for t in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	[ -w $t/tracing_on ] && { echo 0 >$t/tracing_on; break; }
done
# 2M entries per file so that N=1M fits whatever the default; a 100 ms
# sweep (the benchmark sets 1 ms itself for the sweep section); 32
# devices for the tt-alloc-smi snapshot
modprobe tt_alloc devices=32 max_allocations_per_file=2097152 sweep_interval_ms=100
echo "# bench: guest CPUs: nproc=$(nproc) /proc/cpuinfo=$(grep -c ^processor /proc/cpuinfo)"
echo "# bench: $(grep -m1 'model name' /proc/cpuinfo)"
"$bin" "$@" --json /tmp/bench.json
# let the console settle so that no kernel message splits the JSON
sleep 1
echo "@@TT-BENCH-JSON-BEGIN@@"
cat /tmp/bench.json
echo "@@TT-BENCH-JSON-END@@"
rmmod tt_alloc
