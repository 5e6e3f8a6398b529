#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-tests of the test harness; each passes when the harness DETECTS
# the problem planted in it.
#   selftests/harness/run.sh [--results FILE] [--no-vm]
#   harness/aggregator/<case>  canned console logs (cases/*.log) parsed by
#                              ktap.py give exactly cases/<case>.expect
#   harness/vm/kasan-detected  a module doing a KASAN out-of-bounds access
#                              on load: the runner (debug kernel) exits
#                              non-zero and shows the KASAN report
#   harness/vm/failing-test-detected  a failing TAP program run in that VM
#                              by run-suite.sh is reported failed
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
. "$here/../../scripts/common.sh"

results='' vm=1
while [ $# -gt 0 ]; do
	case $1 in
	--results) results=$2; shift 2 ;;
	--no-vm) vm=0; shift ;;
	*) die "unknown argument $1" ;;
	esac
done
ktap=$TT_ROOT/selftests/vm/ktap.py
work=$TT_OUT/harness
rm -rf "$work"
mkdir -p "$work"
failed=0

# (a) the aggregator on canned input
for log in "$here"/cases/*.log; do
	c=$(basename "$log" .log)
	args=(--tag t --log "$log" --out "$work/$c.res")
	case $c in nested-ktap | failures | no-tests) args+=(--expect-kunit) ;; esac
	python3 "$ktap" parse "${args[@]}" >/dev/null
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); print(r["status"], r["name"])' "$work/$c.res" | sort >"$work/$c.got"
	sort "$here/cases/$c.expect" >"$work/$c.want"
	if diff -u "$work/$c.want" "$work/$c.got" >"$work/$c.diff"; then
		record PASS "harness/aggregator/$c"
	else
		record FAIL "harness/aggregator/$c" "$work/$c.diff"
	fi
done

# (b) a real VM run on the debug kernel: failing TAP program + KASAN module
if [ "$vm" = 1 ]; then
	if ! "$TT_ROOT/scripts/build-module.sh" --src "$here/kasan_oob" --name harness-kasan debug \
		>"$work/build.log" 2>&1; then
		record FAIL harness/vm/kasan-detected "$work/build.log"
		record FAIL harness/vm/failing-test-detected "$work/build.log"
	else
		set +e
		"$TT_ROOT/selftests/vm/run" --kernel debug --quiet --timeout 900 --modules /nonexistent \
			--log "$work/vm.console" \
			--add "$TT_OUT/kbuild/harness-kasan/tt_kasan_oob.ko:/root/tt_kasan_oob.ko" \
			--add "$here/guest/failing-tap:/opt/tt_alloc/harness/failing-tap" \
			-- sh -c '/opt/tt_alloc/run-suite.sh --no-module --tests /opt/tt_alloc/harness; insmod /root/tt_kasan_oob.ko' \
			>"$work/vm.out" 2>&1
		rc=$?
		set -e
		echo "runner exit status: $rc" >>"$work/vm.out"
		if [ "$rc" != 0 ] && [ "$rc" != 124 ] && [ "$rc" != 125 ] &&
			grep -q 'BUG: KASAN: slab-out-of-bounds' "$work/vm.out" &&
			grep -q 'kernel problem reported on the console' "$work/vm.out"; then
			record PASS harness/vm/kasan-detected
		else
			record FAIL harness/vm/kasan-detected "$work/vm.out"
		fi
		python3 "$ktap" parse --tag h --log "$work/vm.console" --out "$work/vm.res" >/dev/null
		python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l); print(r["status"], r["name"])' "$work/vm.res" | sort >"$work/vm.got"
		if grep -qx 'FAIL h/failing-tap/fails_on_purpose' "$work/vm.got" &&
			grep -qx 'PASS h/failing-tap/passes' "$work/vm.got" &&
			grep -qx 'SKIP h/failing-tap/skipped_on_purpose' "$work/vm.got" &&
			grep -qx 'FAIL h/vm/console-clean' "$work/vm.got"; then
			record PASS harness/vm/failing-test-detected
		else
			cat "$work/vm.got" "$work/vm.out" >"$work/vm.why"
			record FAIL harness/vm/failing-test-detected "$work/vm.why"
		fi
	fi
fi
exit $failed
