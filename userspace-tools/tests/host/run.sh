#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the userspace tools (no kernel needed), run by
# `make -C userspace-tools OUT=<dir> test-host`. Every test program runs
# twice: built with ASan+UBSan ($OUT/asan), and the normal build under
# valgrind --leak-check=full. A case is counted once: it passes only if
# it passed in both runs (the per-run detail is printed as comments).
# Each program adds one case of its own: it exited 0 in both runs and
# neither ASan/UBSan nor valgrind reported anything. tests/host/lib-abi.sh
# (libttalloc's exported symbols and abidiff against the baseline) and
# doc-example.sh (the documented C++ example) and tt-metal.sh (the tt-metal
# integration against $TT_METAL_SRC's real headers, its patch) run once,
# outside the sanitizers.
# Output: one TAP stream ("ok N program: name"), the plan "1..N", then
# "test-host: N passed, N failed". Exit status 1 on any failure.
#
# usage: run.sh OUT SRCDIR [TEST...]
# TEST: only these programs or checks (as named below, e.g.
# test-smi-format.sh or lib-abi); make test-host passes HOST_TESTS=... here.
set -u
OUT=$1
SRC=$2
tmp=$(mktemp -d /tmp/tt-alloc-test-host.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
pass=0
fail=0
n=0
# what the library must say its version is (test-lib-noop)
TT_EXPECT_VERSION=$(cat "$SRC/../VERSION")
export TT_EXPECT_VERSION

result() { # ok|"not ok" name
	n=$((n + 1))
	if [ "$1" = ok ]; then pass=$((pass + 1)); else fail=$((fail + 1)); fi
	echo "$1 $n $2"
}

# run_one FLAVOUR PROG: run PROG in FLAVOUR, leaving its TAP in
# $tmp/FLAVOUR.PROG.tap and its status (0: clean) in $tmp/FLAVOUR.PROG.rc
run_one() {
	fl=$1 p=$2
	if [ "$fl" = asan ]; then
		B=$OUT/asan WRAP=
		export ASAN_OPTIONS="detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$tmp/san.$p"
		export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$tmp/san.$p"
	else
		B=$OUT
		WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 --log-file=$tmp/vg.$p.%p"
	fi
	case $p in
	*.sh) RUN="$WRAP" BIN="$B/bin" SRC="$SRC" TMP="$tmp" sh "$SRC/tests/host/$p" >"$tmp/$fl.$p.tap" 2>"$tmp/err" ;;
	*) $WRAP "$B/host-tests/$p" >"$tmp/$fl.$p.tap" 2>"$tmp/err" ;;
	esac
	rc=$?
	[ $rc -ne 0 ] && sed "s/^/# $fl stderr: /" "$tmp/err" | head -40
	# Programs whose runs are expected to fail cannot tell a report by
	# their status alone: any sanitizer or valgrind log counts.
	if [ "$fl" = asan ]; then
		for f in "$tmp"/san."$p"*; do
			[ -s "$f" ] || continue
			sed "s/^/# asan: /" "$f" | head -30
			[ "$rc" = 0 ] && rc=report
		done
	else
		for f in "$tmp"/vg."$p".*; do
			[ -s "$f" ] || continue
			sed "s/^/# valgrind: /" "$f" | head -30
			[ "$rc" = 0 ] && rc=report
		done
	fi
	echo "$rc" >"$tmp/$fl.$p.rc"
	sed -n 's/^\(not ok\|ok\) [0-9]* \(.*\)$/\1|\2/p' "$tmp/$fl.$p.tap" >"$tmp/$fl.$p.res"
}

if ! command -v valgrind >/dev/null 2>&1; then
	echo "not ok 1 valgrind is not installed (make deps)"
	echo "1..1"
	echo "test-host: 0 passed, 1 failed"
	exit 1
fi

shift 2
only=" $* "
# wanted NAME: NAME is one of the tests asked for (all without a list)
wanted() { [ "$only" = "  " ] || [ "${only#* $1 }" != "$only" ]; }
for t in "$@"; do
	case " test-lib-noop test-lib-fake test-lib-cxx test-python.sh test-replay-parse.sh test-smi-format.sh test-smi-prom.sh test-smi-views.sh test-smi-tty.sh test-smi-chip.sh test-smi-owner.sh test-smi-configure.sh test-record-args.sh lib-abi doc-example tt-metal fleet " in
	*" $t "*) ;;
	*) result "not ok" "no host test named $t" ;;
	esac
done

for p in test-lib-noop test-lib-fake test-lib-cxx test-python.sh test-replay-parse.sh test-smi-format.sh test-smi-prom.sh test-smi-views.sh test-smi-tty.sh test-smi-chip.sh test-smi-owner.sh test-smi-configure.sh test-record-args.sh; do
	wanted "$p" || continue
	name=${p%.sh}
	run_one asan "$p"
	run_one valgrind "$p"
	# Every case named in either run, in the order first seen; ok only
	# when both runs have it ok.
	cat "$tmp/asan.$p.res" "$tmp/valgrind.$p.res" | cut -d'|' -f2- | awk '!seen[$0]++' >"$tmp/names"
	while IFS= read -r c; do
		a=$(grep -Fx -e "ok|$c" -e "not ok|$c" "$tmp/asan.$p.res" | head -1 | cut -d'|' -f1)
		v=$(grep -Fx -e "ok|$c" -e "not ok|$c" "$tmp/valgrind.$p.res" | head -1 | cut -d'|' -f1)
		if [ "$a" = ok ] && [ "$v" = ok ]; then
			result ok "$name: $c"
		else
			result "not ok" "$name: $c (asan: ${a:-missing}, valgrind: ${v:-missing})"
		fi
	done <"$tmp/names"
	if [ ! -s "$tmp/names" ]; then
		result "not ok" "$name: printed no test result"
	fi
	ra=$(cat "$tmp/asan.$p.rc") rv=$(cat "$tmp/valgrind.$p.rc")
	if [ "$ra" = 0 ] && [ "$rv" = 0 ]; then
		result ok "$name: exit status 0, no ASan/UBSan or valgrind report"
	else
		result "not ok" "$name: exit status 0, no ASan/UBSan or valgrind report (asan run: $ra, valgrind run: $rv)"
	fi
done

# Checks run once, outside the sanitizers: the library's ABI, the C++
# example of the documentation compiled as pasted, the tt-metal
# integration, and the fleet path (prometheus, node_exporter, the rules).
for c in lib-abi doc-example tt-metal fleet; do
	wanted "$c" || continue
	sh "$SRC/tests/host/$c.sh" "$OUT" "$SRC" >"$tmp/$c.tap" 2>"$tmp/err"
	sed -n "s/^#/# $c:/p" "$tmp/$c.tap"
	sed -n 's/^\(not ok\|ok\) [0-9]* \(.*\)$/\1|\2/p' "$tmp/$c.tap" >"$tmp/$c.res"
	while IFS='|' read -r st name; do
		result "$st" "$c: $name"
	done <"$tmp/$c.res"
	[ -s "$tmp/$c.res" ] || result "not ok" "$c: printed no test result ($(head -c 200 "$tmp/err"))"
done

echo "1..$n"
echo "test-host: $pass passed, $fail failed"
[ $fail -eq 0 ]
