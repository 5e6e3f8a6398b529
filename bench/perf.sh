#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where the time of a benchmark section goes, by sampling in the guest:
# the host's perf (Debian's linux-perf) is packed into a 6.12 TCG guest
# and records the software cpu-clock event (the emulated CPU has no PMU)
# of the whole machine while tt-alloc-bench runs the sections.
#   bench/perf.sh [SECTIONS]     default: calls
# Prints the 40 hottest symbols, kernel and user. Under TCG a sample
# lands at the start of a translation block: a hot return address means
# a costly call/return, not work at that instruction.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TT_OUT=${OUT:-$root/out}
P=$TT_OUT/bench/perf
sections=${1:-calls}
perf=$(command -v perf) || { echo "bench/perf.sh: no perf (apt-get install linux-perf)" >&2; exit 1; }
mkdir -p "$P"
make -s -C bench OUT="$TT_OUT"
scripts/kernels/build-module.sh --name bench-6.12 6.12 >/dev/null
cat >"$P/guest.sh" <<EOT
echo 5 >/proc/sys/kernel/printk
echo 0 >/proc/sys/kernel/kptr_restrict
echo -1 >/proc/sys/kernel/perf_event_paranoid
modprobe tt_alloc devices=32 max_allocations_per_file=2097152 sweep_interval_ms=100
cd /tmp
/opt/perf/perf record -q -a -e cpu-clock -F 20000 -o /tmp/perf.data -- \
	/opt/tt_alloc/bench/tt-alloc-bench --only $sections --reps 3 --no-socket >/dev/null 2>&1
echo "@@PERF-BEGIN@@"
/opt/perf/perf report -i /tmp/perf.data --stdio --sort sym 2>/dev/null | grep -v '^#' | grep -v '^\$' | head -40
echo "@@PERF-END@@"
EOT
selftests/vm/run --kernel 6.12 --modules "$TT_OUT/kbuild/bench-6.12" --mem 3072 \
	--timeout 1200 --log "$P/console.log" --quiet \
	--add "$perf:/opt/perf/perf" \
	--add "$TT_OUT/bench/tt-alloc-bench:/opt/tt_alloc/bench/tt-alloc-bench" \
	--add "$P/guest.sh:/opt/perf/guest.sh" -- sh /opt/perf/guest.sh
sed -n '/@@PERF-BEGIN@@/,/@@PERF-END@@/p' "$P/console.log" | sed '1d;$d'
