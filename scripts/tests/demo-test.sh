#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo` shows the story and nothing of the guest's boot console;
# a failing guest shows the console's last lines and where the rest is.
# TAP on stdout (a host suite of `make check`). Needs the stock 6.12
# kernel (make deps).
#   scripts/tests/demo-test.sh
set -uo pipefail
. "$(dirname "$0")/../common.sh"
cd "$TT_ROOT" || exit 1

n=0 failed=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT
console=$TT_OUT/logs/demo-console.log

echo "1..8"
make -s demo >"$t/out" 2>&1 </dev/null
tap_ok $? "make demo exits 0" "$t/out"
grep -q '^==> tt_alloc keeps track of the device memory' "$t/out" &&
	grep -q '^==> No polling, no daemon' "$t/out"
tap_ok $? "the story is there, from its first line to its last" "$t/out"
grep -q '^    kernel: tt_alloc: pid [0-9]* (tt-alloc-replay) left [0-9]* allocations: reclaimed' "$t/out"
tap_ok $? "the story's kernel log lines are there" "$t/out"
# what the boot console looks like: firmware, the kernel's own lines, the
# guest init's markers
grep -nE 'SeaBIOS|iPXE|Booting from|Linux version|Run /init|^\[ *[0-9]+\.[0-9]+\] |@@TT-VM-|# tt-vm:' "$t/out" >"$t/leak"
[ ! -s "$t/leak" ]
tap_ok $? "no line of the boot console leaks into it" "$t/leak"
! grep -q $'\033' "$t/out"
tap_ok $? "no terminal escape when the output is not a terminal" "$t/out"
[ "$(grep -c "demo-console.log" "$t/out")" = 1 ] && grep -q 'Linux version' "$console"
tap_ok $? "the console is in $console, named once" "$t/out"

scripts/demo.sh -- sh -c 'echo the story so far; exit 3' >"$t/fail" 2>&1 </dev/null
rc=$?
[ "$rc" = 1 ] && grep -q '^the story so far$' "$t/fail" && grep -q '^demo: FAILED' "$t/fail"
tap_ok $? "a failing guest command fails the demo (exit $rc), its output shown" "$t/fail"
grep -q '^  | @@TT-VM-RC-[0-9a-f]*=3@@$' "$t/fail" && grep -q "^demo: the whole console: $console\$" "$t/fail"
tap_ok $? "a failure shows the console's last lines and where the rest is" "$t/fail"
exit $((failed > 0))
