#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Where does the time of ALLOC/FREE go? Profiling by subtraction, since
# perf is not available in the TCG guest: builds variants of the module
# (copies under out/bench/prof/, the tree is not touched), each with one
# cost removed, loads them one after the other in ONE guest boot on the
# stock 6.12 kernel and runs the call section of the benchmark on each.
#   bench/profile.sh [REPS]
# Variants (benchmark only: they break the counters they skip):
#   base       the module as it is
#   noatomic   tt_charge()/tt_uncharge() return at once: no device atomics
#   noaccount  no SLAB_ACCOUNT / __GFP_ACCOUNT (memcg accounting)
#   nomutex    single ALLOC/FREE without the client mutex
#   noslab     freed entries kept on a (single-threaded, global) list and
#              reused: no kmem_cache_alloc()/kmem_cache_free() in steady state
#   none       all four removed
# Output: out/bench/prof/<variant>.json and a table.
set -euo pipefail
root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export TT_OUT=${OUT:-$root/out}
P=$TT_OUT/bench/prof
reps=${1:-5}
variants="base noatomic noaccount nomutex noslab none"
rm -rf "$P"
mkdir -p "$P"
make -s -C bench OUT="$TT_OUT"

edit() { # VARIANT FILE: apply the variant's edits to FILE
	python3 - "$@" <<'PY'
import re, sys
v, f = sys.argv[1], sys.argv[2]
s = open(f).read()
def sub(old, new):
    global s
    if old not in s:
        sys.exit('profile.sh: pattern not found: %r' % old[:60])
    s = s.replace(old, new)
if v in ('noslab', 'none'):
    sub('static struct kmem_cache *tt_entry_cache;\n',
        'static struct kmem_cache *tt_entry_cache;\nstatic struct tt_entry *tt_prof_pool;\n')
    sub('\tkmem_cache_destroy(tt_entry_cache);',
        '\twhile (tt_prof_pool) {\n\t\tstruct tt_entry *n = *(struct tt_entry **)tt_prof_pool;\n'
        '\t\tkmem_cache_free(tt_entry_cache, tt_prof_pool);\n\t\ttt_prof_pool = n;\n\t}\n'
        '\tkmem_cache_destroy(tt_entry_cache);')
    sub('\te = kmem_cache_alloc(tt_entry_cache, GFP_KERNEL_ACCOUNT);',
        '\te = tt_prof_pool;\n\tif (e)\n\t\ttt_prof_pool = *(struct tt_entry **)e;\n'
        '\telse\n\t\te = kmem_cache_alloc(tt_entry_cache, GFP_KERNEL_ACCOUNT);')
    sub('\t\tatomic64_inc(&d->reclaimed_entries);\n\t}\n\tkmem_cache_free(tt_entry_cache, e);',
        '\t\tatomic64_inc(&d->reclaimed_entries);\n\t}\n\t*(struct tt_entry **)e = tt_prof_pool;\n\ttt_prof_pool = e;')
if v in ('noatomic', 'none'):
    sub('\tdo {\n\t\tif (check_add_overflow', '\treturn 0;\n\tdo {\n\t\tif (check_add_overflow')
    sub('\tatomic64_sub(e->size, &ctr->used);\n\tatomic64_dec(&ctr->entries);',
        '\treturn;\n\tatomic64_sub(e->size, &ctr->used);\n\tatomic64_dec(&ctr->entries);')
if v in ('noaccount', 'none'):
    sub('KMEM_CACHE(tt_entry, SLAB_ACCOUNT)', 'KMEM_CACHE(tt_entry, 0)')
    s = s.replace('GFP_KERNEL_ACCOUNT', 'GFP_KERNEL')
if v in ('nomutex', 'none'):
    for fn in ('alloc', 'free'):
        s, n = re.subn(r'(int tt_client_%s\(.*?\{.*?)\tmutex_lock\(&c->lock\);\n(.*?)\tmutex_unlock\(&c->lock\);\n' % fn,
                       r'\1\2', s, count=1, flags=re.S)
        if n != 1:
            sys.exit('profile.sh: tt_client_%s not found' % fn)
open(f, 'w').write(s)
PY
}

gs=$P/guest.sh
{
	echo '#!/bin/sh'
	echo 'echo 5 >/proc/sys/kernel/printk'
	echo 'grep -q tt_alloc /proc/modules && rmmod tt_alloc'
} >"$gs"
adds=()
for v in $variants; do
	src=$P/src-$v
	mkdir -p "$src"
	cp -a Kbuild VERSION module uapi "$src/"
	[ "$v" = base ] || edit "$v" "$src/module/tt_alloc_core.c"
	scripts/build-module.sh --src "$src" --name "bench-prof-$v" 6.12
	adds+=(--add "$TT_OUT/kbuild/bench-prof-$v/tt_alloc.ko:/opt/prof/$v/tt_alloc.ko")
	cat >>"$gs" <<EOT
insmod /opt/prof/$v/tt_alloc.ko max_allocations_per_file=2097152 sweep_interval_ms=100
/opt/tt_alloc/bench/tt-alloc-bench --only calls --no-socket --reps $reps --json /tmp/$v.json
sleep 1
echo "@@PROF-BEGIN-$v@@"; cat /tmp/$v.json; echo "@@PROF-END-$v@@"
rmmod tt_alloc
EOT
done

selftests/vm/run --kernel 6.12 --modules "$TT_OUT/kbuild/bench-prof-base" --mem 3072 \
	--timeout 2400 --log "$P/console.log" --quiet "${adds[@]}" \
	--add "$TT_OUT/bench/tt-alloc-bench:/opt/tt_alloc/bench/tt-alloc-bench" \
	--add "$gs:/opt/prof/guest.sh" -- sh /opt/prof/guest.sh

printf '%-10s %8s %8s %6s %8s %8s %6s %8s\n' variant floor pair ratio pairref batch ratio batchref
for v in $variants; do
	sed -n "/@@PROF-BEGIN-$v@@/,/@@PROF-END-$v@@/p" "$P/console.log" | sed '1d;$d' >"$P/$v.json"
	python3 - "$P/$v.json" "$v" <<'PY'
import json, sys
g = json.load(open(sys.argv[1]))
print('%-10s %8.0f %8.0f %6.2f %8.0f %8.0f %6.3f %8.0f' % (sys.argv[2], g['floor_ns'], g['pair_ns'],
      g['pair_ratio_2floor'], g['pair_ref_ns'], g['batch_mixed_ns_op'], g['batch_mixed_ratio_floor'],
      g['batch_ref_ns_op']))
PY
done
