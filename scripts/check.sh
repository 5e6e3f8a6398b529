#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: install deps, build the module, tools, selftests and the
# debug kernel, run every suite in QEMU, and end with ONE summary line
#   N passed, N failed[, N skipped]
# preceded by a FAIL: line per failing test. Exit 1 if anything failed.
#   TT_CHECK_KERNELS="debug 6.1 6.12"  kernels to run the suite on
#   TT_CHECK_HARNESS=0                 skip the harness self-tests
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$TT_ROOT"

ktap=$TT_ROOT/selftests/vm/ktap.py
res=$TT_OUT/results
logs=$TT_OUT/logs
rm -rf "$res" "$logs"
mkdir -p "$res" "$logs"
kernels=${TT_CHECK_KERNELS:-debug 6.1 6.12}
t0=$(now)
timings=()

stage() { # NAME CMD...: run a stage, print and keep its duration
	local name=$1 s rc
	shift
	echo
	echo "=== $name"
	s=$(now)
	set +e
	"$@"
	rc=$?
	set -e
	timings+=("$(printf '%-28s %5ss%s' "$name" $(( $(now) - s )) "$([ $rc = 0 ] || echo "  (exit $rc)")")")
	echo "=== $name: $(( $(now) - s ))s (exit $rc)"
	return $rc
}
record() { python3 "$ktap" record "$res/$1.res" "${@:2}"; }

# build STEP CMD...: a build step counted as a test (build/STEP)
build() {
	local name=$1
	shift
	if "$@" >"$logs/build-$name.log" 2>&1; then
		record build "PASS" "build/$name"
	else
		tail -40 "$logs/build-$name.log"
		record build "FAIL" "build/$name" "$logs/build-$name.log"
		return 1
	fi
}

stage deps scripts/deps.sh || { echo "error: make deps failed" >&2; exit 1; }

kernel_ok=1
stage kernel-debug build kernel-debug scripts/build-kernel.sh || kernel_ok=0
tail -3 "$logs/build-kernel-debug.log"

if [ -f userspace-tools/Makefile ]; then
	stage tools build tools make -C userspace-tools OUT="$TT_OUT" || true
else
	echo "note: userspace-tools/Makefile missing: no tools"
fi
stage selftests build selftests make selftests || true

# tap_stage NAME CMD...: a host-side stage whose output is TAP, counted
tap_stage() {
	local name=$1 rc=0
	shift
	stage "$name" sh -c '"$@" >"$0" 2>&1' "$logs/$name.tap" "$@" || rc=$?
	grep -E '^(not ok|ok) ' "$logs/$name.tap" | grep -v '^ok ' | sed 's/^/  /' || true
	python3 "$ktap" parse-tap --prefix "$name" --rc "$rc" \
		--out "$res/$name.res" "$logs/$name.tap" || true
}

# Library, smi and replay tests that need no kernel, under ASan+UBSan
# and valgrind.
tap_stage host-tests make -C userspace-tools OUT="$TT_OUT" test-host
# make install/uninstall, DKMS against the stock headers, htmldocs.
tap_stage packaging scripts/packaging-test.sh

if [ "$kernel_ok" = 1 ]; then
	stage lint scripts/lint.sh --results "$res/lint.res" || true
else
	record lint FAIL lint "$logs/build-kernel-debug.log"
fi

for k in $kernels; do
	if [ "$k" = debug ] && [ "$kernel_ok" = 0 ]; then
		record "vm-$k" FAIL "$k/suite" "$logs/build-kernel-debug.log"
		continue
	fi
	stage "modules-$k" build "modules-$k" scripts/build-module.sh "$k" || continue
	# TCG is slow, KASAN + lockdep + kmemleak much more so: generous
	# per-program (guest) and whole-run (host) timeouts.
	suite=(/opt/tt_alloc/run-suite.sh --timeout 600)
	parse=()
	tmo=1500
	if [ "$k" = debug ]; then
		suite=(/opt/tt_alloc/run-suite.sh --kunit --timeout 1200)
		parse=(--expect-kunit --expect-kmemleak)
		tmo=3600
	fi
	rc=0
	stage "vm-$k" selftests/vm/run --kernel "$k" --quiet --timeout "$tmo" \
		--log "$logs/vm-$k.console" -- "${suite[@]}" 2>"$logs/vm-$k.runner" || rc=$?
	echo "runner exit status $rc (console: $logs/vm-$k.console)"
	python3 "$ktap" parse --tag "$k" --log "$logs/vm-$k.console" --out "$res/vm-$k.res" \
		--runner-rc "$rc" "${parse[@]}" || true
	grep -E '^(not ok|ok) |^ +(not ok|ok) |^# tt-suite-(end|rmmod|modprobe)' "$logs/vm-$k.console" | sed 's/^/  /' | tail -200
done

# The benchmarks' code paths, briefly: nothing is timed against a target.
tap_stage bench-quick make bench-quick

if [ "${TT_CHECK_HARNESS:-1}" = 1 ]; then
	if [ "$kernel_ok" = 1 ]; then
		stage harness selftests/harness/run.sh --results "$res/harness.res" || true
	else
		selftests/harness/run.sh --no-vm --results "$res/harness.res" || true
		record harness FAIL harness/vm "$logs/build-kernel-debug.log"
	fi
fi

echo
echo "=== timings"
printf '  %s\n' "${timings[@]}"
printf '  %-28s %5ss\n' total $(( $(now) - t0 ))
echo
python3 "$ktap" summarize "$res"/*.res
