#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Before/after of a module change in the same conditions: builds the
# module of two git revisions (or "." for the working tree) for the stock
# 6.12 kernel, boots ONE guest and loads them alternately, A B A B ...,
# running the same benchmark sections on each, so that both see the same
# host load.
#   bench/ab.sh [-r ROUNDS] [-s SECTIONS] [-n REPS] REV_A REV_B
# Defaults: 2 rounds, sections "calls", 5 repetitions per run.
# Output: out/bench/ab/<A|B><round>.json and a table of the target
# figures (median over the rounds, then min..max).
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TT_OUT=${OUT:-$root/out}
P=$TT_OUT/bench/ab
rounds=2 sections=calls reps=5
while getopts r:s:n: o; do
	case $o in
	r) rounds=$OPTARG ;;
	s) sections=$OPTARG ;;
	n) reps=$OPTARG ;;
	*) exit 2 ;;
	esac
done
shift $((OPTIND - 1))
[ $# = 2 ] || { echo "usage: bench/ab.sh [-r ROUNDS] [-s SECTIONS] [-n REPS] REV_A REV_B" >&2; exit 2; }
rm -rf "$P"
mkdir -p "$P"
make -s -C bench OUT="$TT_OUT"
make -s tools OUT="$TT_OUT" >/dev/null

adds=()
i=0
for rev in "$1" "$2"; do
	v=$([ $i = 0 ] && echo A || echo B)
	src=$P/src-$v
	mkdir -p "$src"
	if [ "$rev" = . ]; then
		cp -a Kbuild VERSION module uapi "$src/"
	else
		git archive "$rev" Kbuild VERSION module uapi | tar -x -C "$src"
	fi
	scripts/kernels/build-module.sh --src "$src" --name "bench-ab-$v" 6.12 >/dev/null
	adds+=(--add "$TT_OUT/kbuild/bench-ab-$v/tt_alloc.ko:/opt/ab/$v/tt_alloc.ko")
	i=1
done

gs=$P/guest.sh
{
	echo '#!/bin/sh'
	echo 'echo 5 >/proc/sys/kernel/printk'
	echo 'grep -q tt_alloc /proc/modules && rmmod tt_alloc'
	for r in $(seq "$rounds"); do
		for v in A B; do
			cat <<EOT
insmod /opt/ab/$v/tt_alloc.ko devices=32 max_allocations_per_file=2097152 sweep_interval_ms=100
/opt/tt_alloc/bench/tt-alloc-bench --only $sections --reps $reps --json /tmp/$v$r.json
sleep 1
echo "@@AB-BEGIN-$v$r@@"; cat /tmp/$v$r.json; echo "@@AB-END-$v$r@@"
rmmod tt_alloc
EOT
		done
	done
} >"$gs"

selftests/vm/run --kernel 6.12 --modules "$TT_OUT/kbuild/bench-ab-A" --mem 3072 \
	--timeout 2400 --log "$P/console.log" --quiet "${adds[@]}" \
	--add "$TT_OUT/bench/tt-alloc-bench:/opt/tt_alloc/bench/tt-alloc-bench" \
	--add "$gs:/opt/ab/guest.sh" -- sh /opt/ab/guest.sh

for r in $(seq "$rounds"); do
	for v in A B; do
		sed -n "/@@AB-BEGIN-$v$r@@/,/@@AB-END-$v$r@@/p" "$P/console.log" |
			sed '1d;$d' >"$P/$v$r.json"
	done
done
echo "A = $1, B = $2; host load: $(cut -d' ' -f1-3 /proc/loadavg)"
python3 - "$P" "$rounds" <<'PY'
import json, statistics, sys
d, rounds = sys.argv[1], int(sys.argv[2])
runs = {v: [json.load(open('%s/%s%d.json' % (d, v, r))) for r in range(1, rounds + 1)]
        for v in 'AB'}
def get(g, path):
    for k in path.split('.'):
        if isinstance(g, list):
            g = next(x for x in g if x.get('mode', x.get('n')) == k or str(x.get('n')) == k
                     or '%s-%d' % (x.get('what'), x.get('n', 0)) == k)
        else:
            g = g[k]
    return g
keys = ['floor_ns', 'pair_ns', 'pair_ratio_2floor', 'pair_ref_ns', 'batch_mixed_ns_op',
        'batch_mixed_ratio_floor', 'batch_split_ns_op', 'batch_ref_ns_op', 'batch_vs_shm_record',
        'shm.record_ns', 'scaling_norm.pairs_2proc', 'scaling_norm.batch_2proc',
        'reclaim.1000000.ns_per_entry', 'reclaim.1000000.ratio_to_free',
        'memory.slab_bytes_per_entry', 'latency.idle.median_us', 'latency.idle.p99_us']
keys += ['latency.during.%s-%d.%s_us' % (w, n, st) for w in ('release', 'sweep')
         for n in (100000, 1000000) for st in ('median', 'p99', 'max')]
print('%-40s %24s %24s' % ('figure', 'A', 'B'))
for k in keys:
    cells = []
    for v in 'AB':
        try:
            xs = [get(g, k) for g in runs[v]]
        except (KeyError, StopIteration, TypeError):
            cells.append('-')
            continue
        cells.append('%.3g [%.3g..%.3g]' % (statistics.median(xs), min(xs), max(xs)))
    if cells != ['-', '-']:
        print('%-40s %24s %24s' % (k, cells[0], cells[1]))
PY
