#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Host driver of the tt_alloc benchmarks (make bench / make bench-quick).
#   bench/run.sh [--quick]
# Builds the benchmark and the module for the stock 6.12 kernel
# (out/kbuild/bench-6.12; the kernel is fetched first when `make
# stock-kernels` has not run), runs the benchmark in a QEMU guest on that
# kernel, extracts its JSON from the console, runs the host-only part
# (syscall floor and socket baseline, for the TCG slowdown factor)
# natively, merges both and prints the table.
#   full:  bench/results.json, bench/scaling.png, bench/reclaim.png,
#          the host's load average every 5 s in out/bench/loadavg.txt
#          (gnuplot), console log out/bench/console.log
#   quick: out/bench/results-quick.json, no plot; prints "ok 1 bench-quick"
#          or "not ok 1 bench-quick" and exits non-zero
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TT_OUT=${OUT:-$root/out}
B=$TT_OUT/bench
quick=0
case ${1:-} in
--quick) quick=1 ;;
'') ;;
*) echo "usage: bench/run.sh [--quick]" >&2; exit 2 ;;
esac

fail() {
	echo "bench: $*" >&2
	[ "$quick" = 1 ] && echo "not ok 1 bench-quick"
	exit 1
}

make -s -C bench OUT="$TT_OUT" || fail "build of the benchmark failed"
# tt-alloc-smi (out/bin) for the snapshot figure; the guest gets out/bin
make -s tools OUT="$TT_OUT" >/dev/null || fail "build of the tools failed"
# the stock kernel, from the cache when it is there
[ -f "$TT_OUT/kernels/6.12.env" ] || scripts/kernels/fetch-kernel.sh 6.12 >&2 ||
	fail "fetching the stock 6.12 kernel failed"
scripts/kernels/build-module.sh --name bench-6.12 6.12 || fail "module build for 6.12 failed"

if [ "$quick" = 1 ]; then
	args=(--quick) sfx=-quick json=$B/results-quick.json
	timeout=600 quiet=(--quiet)
else
	args=() sfx='' json=$root/bench/results.json
	timeout=2400 quiet=()
fi
log=$B/console$sfx.log gjson=$B/guest$sfx.json hjson=$B/host$sfx.json
rm -f "$gjson" "$hjson"

# the host's load over the whole run, every 5 s (target 8 wants it)
loadlog=$B/loadavg$sfx.txt
: >"$loadlog"
(while :; do cut -d' ' -f1-3 /proc/loadavg >>"$loadlog"; sleep 5; done) &
sampler=$!
trap 'kill "$sampler" 2>/dev/null || true' EXIT

rc=0
# The sweep section times the sweep with the workqueue events, enabled
# from boot: enabling them later patches code every vCPU runs, which
# QEMU's multi-threaded TCG can get wrong (selftests/vm/run).
selftests/vm/run --kernel 6.12 --modules "$TT_OUT/kbuild/bench-6.12" --mem 3072 \
	--trace-event workqueue:workqueue_execute_start,workqueue:workqueue_execute_end \
	--timeout "$timeout" --log "$log" ${quiet[@]+"${quiet[@]}"} \
	--add "$B/tt-alloc-bench:/opt/tt_alloc/bench/tt-alloc-bench" \
	--add "$root/bench/guest.sh:/opt/tt_alloc/bench/guest.sh" \
	-- sh /opt/tt_alloc/bench/guest.sh ${args[@]+"${args[@]}"} || rc=$?
[ "$rc" = 0 ] || fail "guest run failed (exit $rc, console: $log)"
sed -n '/@@TT-BENCH-JSON-BEGIN@@/,/@@TT-BENCH-JSON-END@@/p' "$log" |
	sed '1d;$d' >"$gjson"
[ -s "$gjson" ] || fail "no JSON on the console ($log)"

# natively, after the guest is gone: the TCG slowdown of the same code,
# and the smi on a fake Galaxy (32 devices, 1000 process rows)
fake=$B/fake-galaxy
sh userspace-tools/tests/host/fake-galaxy.sh "$fake" 32
awk 'BEGIN { for (i = 0; i < 1000; i++)
	printf "%d %d %d 0 bench-client 4096 0 0 0 0 0 0 1 0 0 0 0 0 0\n", 10000 + i, 1000 + i, i % 32 }' \
	>"$fake/dev/tt_alloc"
"$B/tt-alloc-bench" --host ${args[@]+"${args[@]}"} --smi "$TT_OUT/bin/tt-alloc-smi" \
	--smi-sysroot "$fake" --json "$hjson" 2>/dev/null || fail "host-side run failed"

kill "$sampler" 2>/dev/null || true
cut -d' ' -f1-3 /proc/loadavg >>"$loadlog"
prev=()
if [ "$quick" = 0 ] && [ -f "$json" ]; then
	cp "$json" "$B/results-previous.json"
	prev=(--previous "$B/results-previous.json")
fi
python3 bench/report.py --guest "$gjson" --host "$hjson" --load "$loadlog" \
	${prev[@]+"${prev[@]}"} --out "$json" --plot-dir "$B" || fail "report failed"

if [ "$quick" = 1 ]; then
	echo "ok 1 bench-quick"
	exit 0
fi
if command -v gnuplot >/dev/null; then
	gnuplot -e "dir='$B'; outdir='$root/bench'" bench/plot.gp ||
		fail "gnuplot failed"
	echo "bench: plots: bench/scaling.png bench/reclaim.png" >&2
else
	echo "bench: gnuplot missing (apt-get install gnuplot-nox): no plots" >&2
	exit 1
fi
echo "bench: results: bench/results.json" >&2
