#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make check`: install deps, build the module, tools, selftests and the
# debug kernel, run every suite in QEMU, and end with ONE summary line
#   N passed, N failed[, N skipped]
# preceded by one line per suite (kernel, release, suite, passed, failed, skipped,
# seconds) and a FAIL: line per failing test. Exit 1 if anything failed.
#   scripts/tests/check.sh               (make check; make check-full)
#
# Before it boots anything it writes down which suites it expects (every
# guest test program the Makefiles build, on every kernel, the KUnit
# suites on the debug kernel, the host suites): an expected suite that
# reports nothing is a failure named with the reason. Skips are allowed
# only where selftests/skips lists them.
#
#   TT_CHECK_KERNELS="debug 6.1 6.12 6.18 7.x"  kernels to run the suites
#                                      on (the module is built for each with
#                                      W=1 and sparse: build-module --strict);
#                                      make check-full adds kcsan, the debug
#                                      kernel with KCSAN, which runs only the
#                                      programs of KCSAN_PROGRAMS
#   TT_CHECK_HARNESS=0                 skip the harness self-tests
#   TT_CHECK_DEADLINE=SECONDS          overall budget (default 4500): a
#                                      stage that would not finish in time
#                                      is reported "not run: deadline"
#   TT_CHECK_FULL=1                    long programs at full length (make
#                                      check-full); the deadline grows to 3h
#   TT_CHECK_WORK=DIR                  results and logs (default out/)
#   TT_CHECK_PARALLEL=0                one lane: host-tests, the debug
#                                      suite in one guest, the stock
#                                      kernels' stages, then bench-quick
#                                      and the harness (default: two
#                                      lanes, see "Two lanes" below)
#   TT_CHECK_TOOLS_KERNEL=K            the kernel that runs the userspace
#                                      tools' guest tests (default 6.12;
#                                      make check-full: every kernel)
set -uo pipefail
. "$(dirname "$0")/../common.sh"
cd "$TT_ROOT" || exit 1

ktap=$TT_ROOT/selftests/vm/ktap.py
work=${TT_CHECK_WORK:-$TT_OUT}
res=$work/results
logs=$work/logs
rm -rf "$res" "$logs"
mkdir -p "$res" "$logs"
expected=$res/expected.txt
: >"$expected" >"$res/kernels.txt"
full=${TT_CHECK_FULL:-0}
if [ "$full" = 1 ]; then
	kernels=${TT_CHECK_KERNELS:-debug kcsan 6.1 6.12 6.18 7.x}
else
	kernels=${TT_CHECK_KERNELS:-debug 6.1 6.12 6.18 7.x}
fi
# The programs the KCSAN kernel runs: those whose processes and threads
# race on one file or on the module's state (issue 19 item 10).
KCSAN_PROGRAMS="rel_concurrency rel_crash_storm rel_shared lifetime_test"
# the Debian 13 kernels among them: DKMS builds them in the build root
deb13=()
for k in $kernels; do
	case $k in 6.12-deb13 | 6.18 | 7.x) deb13+=("$k") ;; esac
done
if [ "$full" = 1 ]; then
	budget=${TT_CHECK_DEADLINE:-10800}
else
	budget=${TT_CHECK_DEADLINE:-4500}
fi
t0=$(now)
deadline=$((t0 + budget))

# VM sizing, from measured runs (TCG, 2 vCPUs, this machine; see the
# README): the debug suite takes about DEBUG_TYPICAL seconds in one guest
# (split over two guests, each guest's share of selftests/debug-times), a
# stock kernel's about STOCK_TYPICAL. A VM may take 3x its typical time; a
# stage is not started when even its typical time no longer fits the
# deadline. STOCK_TYPICAL: the stock suites took 165 to 268 s alone on
# 2026-12-05/06. STOCK_LONGEST: a stock guest's longest program may take
# 3x that before the guest calls it hung. The Python test took 26 s in a
# guest alone, 84 s beside the debug guests, and over 200 s beside another
# run's guests on 2026-12-06 (each python3 start about 25 s), where the
# old cap (STOCK_TYPICAL, then 200) called it hung. TOOLS_TYPICAL: the
# tools kernel's guest also runs the userspace tools' tests; it took 325 s
# alone and reached its 900 s limit beside another run on 2026-12-06.
DEBUG_TYPICAL=1000 STOCK_TYPICAL=300 STOCK_LONGEST=200 KCSAN_TYPICAL=900
TOOLS_TYPICAL=500
[ "$full" = 1 ] && DEBUG_TYPICAL=2400 STOCK_TYPICAL=400 TOOLS_TYPICAL=600

stage_s=0
stage() { # NAME CMD...: run a stage, print its duration
	local name=$1 rc=0
	shift
	echo
	echo "=== $name"
	stage_s=$(now)
	"$@" || rc=$?
	echo "=== $name: $(($(now) - stage_s))s (exit $rc)"
	return $rc
}
record() { python3 "$ktap" record "$res/$1.res" "${@:2}" >/dev/null; }
expect() { # KERNEL SUITE...
	local k=$1
	shift
	printf "$k %s\n" "$@" >>"$expected"
}
missing() { # RESFILE KERNEL REASON SUITE...
	python3 "$ktap" missing "$res/$1.res" --kernel "$2" --reason "$3" "${@:4}"
}
timed() { python3 "$ktap" time "$res/times.res" "$@"; }
left() { echo $((deadline - $(now))); }
summary() {
	echo
	python3 "$ktap" summarize --expected "$expected" --skips "$TT_ROOT/selftests/skips" \
		--kernels "$res/kernels.txt" "$res"/*.res
	exit $?
}

# build NAME CMD...: a build step is not a test; a failed one is a
# named failure (build/NAME) with the tail of its log.
build() {
	local name=$1
	shift
	if "$@" >"$logs/build-$name.log" 2>&1; then
		return 0
	fi
	tail -40 "$logs/build-$name.log"
	record build FAIL "build/$name" "$logs/build-$name.log"
	return 1
}

if ! stage deps build deps scripts/deps.sh; then
	echo "error: make deps failed: nothing else can run" >&2
	summary
fi

# What must report, decided before anything boots.
mapfile -t self_tests < <(make -s -C selftests/tt_alloc list-tests)
mapfile -t tool_tests < <(make -s -C userspace-tools list-tests)
guest_tests=("${self_tests[@]}" "${tool_tests[@]}")
# The userspace tools' guest tests (smi, Python, recorder, replayer, C++,
# tt-metal) check the tools, which reach every kernel through the one
# module ABI the selftests check on each kernel: make check runs them on
# one stock kernel, 6.12 (Debian 13's line) unless TT_CHECK_TOOLS_KERNEL names another
# (the first stock kernel listed when that one is not), make check-full
# on every kernel. They were 177 of the 293 s of the 6.1 guest's programs
# and 510 of the debug guests' 2311 s (a cached run, 2026-12-06), most of
# it python3 and jq starting under TCG. The library's own test, which
# drives every ioctl through libttalloc, runs everywhere.
tools_kernel=${TT_CHECK_TOOLS_KERNEL:-6.12}
if [[ " $kernels " != *" $tools_kernel "* ]]; then
	tools_kernel=debug
	for k in $kernels; do
		case $k in debug | kcsan) ;; *) tools_kernel=$k && break ;; esac
	done
fi
kunit_suites=()
mapfile -t kunit_suites < <(sed -n 's/^[[:space:]]*\.name = "\(tt_alloc[a-z0-9_]*\)",$/\1/p' module/tt_alloc_kunit.c)
# An empty list would expect nothing and so could never fail.
[ ${#guest_tests[@]} -gt 0 ] || record check FAIL check/list-tests
[ ${#kunit_suites[@]} -gt 0 ] || record check FAIL check/kunit-suites
host_suites=(host-tests packaging lint bench-quick demo readme)
[ ${#deb13[@]} -gt 0 ] && host_suites+=(dkms-deb13 deb)
[ "${TT_CHECK_HARNESS:-1}" = 1 ] && host_suites+=(harness)
expect host "${host_suites[@]}"
# kernel_tests KERNEL: the guest programs run on KERNEL
kernel_tests() {
	if [ "$1" = kcsan ]; then
		printf '%s\n' $KCSAN_PROGRAMS
	elif [ "$full" = 1 ] || [ "$1" = "$tools_kernel" ]; then
		printf '%s\n' "${guest_tests[@]}"
	else
		printf '%s\n' "${self_tests[@]}" tt-alloc-lib-test
	fi
}
for k in $kernels; do
	mapfile -t progs < <(kernel_tests "$k")
	expect "$k" "${progs[@]}" vm
	[ "$k" = debug ] && expect "$k" "${kunit_suites[@]/#/kunit/}"
done

kernel_ok=1
stage kernel-debug build kernel-debug scripts/kernels/build-kernel.sh || kernel_ok=0
tail -3 "$logs/build-kernel-debug.log"
kcsan_ok=1
if [[ " $kernels " == *" kcsan "* ]]; then
	stage kernel-kcsan build kernel-kcsan scripts/kernels/build-kernel.sh kcsan || kcsan_ok=0
	tail -3 "$logs/build-kernel-kcsan.log"
fi
stage tools build tools make -C userspace-tools OUT="$TT_OUT"
stage selftests build selftests make selftests

# tap_stage NAME TYPICAL CMD...: a host-side stage whose output is TAP
tap_stage() {
	local name=$1 typ=$2 rc=0
	shift 2
	if [ "$(left)" -lt "$typ" ]; then
		missing "$name" host "not run: deadline (${typ}s needed, $(left)s left of TT_CHECK_DEADLINE=$budget)" "$name"
		return
	fi
	stage "$name" timeout "$(left)" sh -c '"$@" >"$0" 2>&1' "$logs/$name.tap" "$@" || rc=$?
	timed host "$name" $(($(now) - stage_s))
	grep -E '^not ok ' "$logs/$name.tap" | sed 's/^/  /'
	[ "$rc" = 124 ] && echo "not ok - $name: stopped at the deadline" >>"$logs/$name.tap"
	python3 "$ktap" parse-tap --prefix "$name" --rc "$rc" --out "$res/$name.res" "$logs/$name.tap"
}

# vm_prepare KERNEL TYPICAL: build the module for KERNEL (W=1 and sparse)
# and note its exact release; fails (every suite of KERNEL reported
# missing) when that is not possible, or when the guest's TYPICAL seconds
# no longer fit the deadline: a module built then would only be thrown
# away (and the harness's deadline case, run beside the stock guests,
# would rebuild their out/kbuild/KERNEL under them).
vm_prepare() {
	local k=$1 typ=$2 suites
	mapfile -t suites < <(kernel_tests "$k")
	suites+=(vm)
	[ "$k" = debug ] && suites+=("${kunit_suites[@]/#/kunit/}")
	if { [ "$k" = debug ] && [ "$kernel_ok" = 0 ]; } ||
		{ [ "$k" = kcsan ] && [ "$kcsan_ok" = 0 ]; }; then
		missing "vm-$k" "$k" "not run: the $k kernel did not build (build/kernel-$k)" "${suites[@]}"
		return 1
	fi
	if [ "$(left)" -lt "$typ" ]; then
		missing "vm-$k" "$k" "not run: deadline (about ${typ}s needed, $(left)s left of TT_CHECK_DEADLINE=$budget)" \
			"${suites[@]}"
		return 1
	fi
	if ! stage "modules-$k" build "modules-$k" scripts/kernels/build-module.sh --strict "$k"; then
		missing "vm-$k" "$k" "not run: the module did not build for $k (build/modules-$k)" "${suites[@]}"
		return 1
	fi
	# the exact release, for the per-suite table
	(
		load_kernel "$k"
		[ -z "${KPKGVER:-}" ] && [ -f "$KSRC/.tt_alloc-pkgver" ] &&
			KPKGVER="linux-source $(cat "$KSRC/.tt_alloc-pkgver")"
		echo "$k $KREL${KPKGVER:+ ($KPKGVER)}"
	) >>"$res/kernels.txt"
}

# vm_run KERNEL NAME TYPICAL PROGRAM...: run the guest PROGRAMs (a
# program "kunit" stands for the KUnit suites) in one VM on KERNEL, its
# console and results named NAME, count the results. TYPICAL: the seconds
# the run typically takes; it may take 3x that. VM_LONGEST (environment):
# the typical seconds of its longest program, which may take 3x that too
# before the guest calls it hung (default: TYPICAL, at most 600 s). The
# machine's speed varies: the same commit's debug guests took twice as
# long on one day as on another, stock guests and kernel builds as well.
vm_run() {
	local k=$1 name=$2 typ=$3 tmo ptmo rc suite parse progs=() kunit=0 p
	shift 3
	for p; do
		if [ "$p" = kunit ]; then kunit=1; else progs+=("$p"); fi
	done
	suite=(/opt/tt_alloc/run-suite.sh)
	parse=()
	[ "$k" = debug ] && parse=(--expect-kmemleak)
	if [ "$kunit" = 1 ]; then
		suite+=(--kunit)
		parse+=("${kunit_suites[@]/#/--expect-kunit=}")
	fi
	if [ "$(left)" -lt "$typ" ]; then
		missing "$name" "$k" "not run: deadline (about ${typ}s needed, $(left)s left of TT_CHECK_DEADLINE=$budget)" \
			vm "${progs[@]}" $([ "$kunit" = 1 ] && printf 'kunit/%s ' "${kunit_suites[@]}")
		return
	fi
	tmo=$((3 * typ))
	[ "$tmo" -le "$(left)" ] || tmo=$(left)
	# A program never gets the VM's whole timeout: the guest reports a
	# hung program and goes on.
	if [ -n "${VM_LONGEST:-}" ]; then
		ptmo=$((3 * VM_LONGEST))
	else
		ptmo=$((typ < 600 ? typ : 600))
	fi
	[ "$ptmo" -le "$tmo" ] || ptmo=$tmo
	[ "$full" = 1 ] && suite+=(--full)
	suite+=(--timeout "$ptmo" "${progs[@]}")
	rc=0
	stage "$name" selftests/vm/run --kernel "$k" --quiet --timeout "$tmo" \
		--log "$logs/$name.console" -- "${suite[@]}" 2>"$logs/$name.runner" || rc=$?
	timed "$k" vm $(($(now) - stage_s))
	echo "runner exit status $rc (console: $logs/$name.console)"
	grep '^run: ' "$logs/$name.runner" | sed 's/^/  /'
	python3 "$ktap" parse --tag "$k" --log "$logs/$name.console" --out "$res/$name.res" \
		--runner-rc "$rc" --runner-log "$logs/$name.runner" \
		"${progs[@]/#/--expect=}" "${parse[@]}"
	grep -E '^(not ok|ok) |^ +(not ok|ok) |^# tt-suite-(end|rmmod|modprobe|missing)' "$logs/$name.console" |
		grep -vE '^ *ok ' | sed 's/^/  /' | tail -100
}

# The debug suite is the longest, and under TCG its mostly one-threaded
# programs leave a host core idle much of the time: it runs in two guests
# at once, beside the stock kernels' suites (one after the other;
# TT_CHECK_PARALLEL=0: everything in turn, the debug suite in one
# guest). The programs are dealt to the two guests longest first, each to
# the guest with less work so far, by the seconds selftests/debug-times
# gives them (measured; a program it does not list counts 60 s). Each
# debug guest's report is printed when it is done, in one piece.
# PART: the programs of debug guest PART (1 or 2; 0: both), their
# seconds, the seconds of the longest
debug_split() {
	awk -v part="$1" -v full="$full" '
		FNR == NR { if ($1 !~ /^#/ && NF >= 3) t[$1] = full ? $3 : $2; next }
		{ n++; name[n] = $1; w[n] = ($1 in t) ? t[$1] : 60 }
		END {
			# longest first; ties by name, so the split is stable
			for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++)
				if (w[j] > w[i] || (w[j] == w[i] && name[j] < name[i])) {
					x = w[i]; w[i] = w[j]; w[j] = x
					x = name[i]; name[i] = name[j]; name[j] = x
				}
			for (i = 1; i <= n; i++) {
				g = load[1] <= load[2] ? 1 : 2
				load[g] += w[i]
				if (part == 0 || g == part) {
					printf "%s ", name[i]; sum += w[i]
					if (w[i] > max) max = w[i]
				}
			}
			printf "%d %d\n", sum, max
		}' "$TT_ROOT/selftests/debug-times" <(echo kunit; kernel_tests debug)
}
debug_guests() {
	local part line longest sum lines
	if [ "${TT_CHECK_PARALLEL:-1}" != 1 ]; then
		vm_prepare debug "$DEBUG_TYPICAL" || return
		longest=$(debug_split 0)
		mapfile -t progs < <(kernel_tests debug)
		VM_LONGEST=${longest##* } vm_run debug vm-debug "$DEBUG_TYPICAL" kunit "${progs[@]}"
		return
	fi
	lines=("$(debug_split 1)" "$(debug_split 2)")
	line=${lines[0]% *}
	vm_prepare debug $((${line##* } + 60)) || return
	for part in 1 2; do
		line=${lines[part - 1]}
		longest=${line##* }
		line=${line% *}
		sum=${line##* }
		# shellcheck disable=SC2086 # the program names are words
		VM_LONGEST=$longest vm_run debug "vm-debug-$part" $((sum + 60)) ${line% *} \
			>"$logs/vm-debug-$part.out" 2>&1 &
	done
	wait
	cat "$logs/vm-debug-1.out" "$logs/vm-debug-2.out"
}

# The quick benchmark (the benchmarks' code paths, briefly: nothing is
# timed against a target) and the harness self-tests. Each boots its
# guests with a module build of its own (out/kbuild/bench-6.12,
# harness-6.12), so they need nothing the stock kernels' stages make or
# rebuild (the demo and README stages rebuild out/kbuild/6.12).
late_host_suites() {
	tap_stage bench-quick 120 make bench-quick
	[ "${TT_CHECK_HARNESS:-1}" = 1 ] || return 0
	if [ "$(left)" -lt 300 ]; then
		missing harness host "not run: deadline (about 300s needed, $(left)s left)" harness
	elif [ "$kernel_ok" = 1 ]; then
		stage harness selftests/harness/run.sh --results "$res/harness.res"
		timed host harness $(($(now) - stage_s))
	else
		selftests/harness/run.sh --no-vm --results "$res/harness.res"
		record harness FAIL harness/vm "$logs/build-kernel-debug.log"
	fi
}

# Library, smi and replay tests that need no kernel, under ASan+UBSan
# and valgrind.
host_tests() { tap_stage host-tests 150 make -C userspace-tools OUT="$TT_OUT" test-host; }

# Two lanes, about one host core each, of about the same length: the
# debug lane (host-tests, the two debug guests, bench-quick and the
# harness: 1603 s in a cached run alone on 2026-12-06) in the
# background, the stock lane (packaging, DKMS and lint, the stock guests,
# then demo, README and deb: 1666 s) here. Nothing of one lane uses what
# the other builds or rebuilds: each guest boots the modules of its own
# out/kbuild/NAME, and the debug guests have packed theirs long before
# the README stage rebuilds out/kbuild/debug. The debug lane's output is
# printed in one piece when both are done. TT_CHECK_PARALLEL=0 (or no
# debug kernel): one lane, in that order.
dpid=''
if [[ " $kernels " == *" debug "* ]] && [ "${TT_CHECK_PARALLEL:-1}" = 1 ]; then
	{
		host_tests
		debug_guests
		late_host_suites
	} >"$logs/debug-lane.out" 2>&1 &
	dpid=$!
else
	host_tests
	[[ " $kernels " == *" debug "* ]] && debug_guests
fi

# make install/uninstall, DKMS against the stock headers, htmldocs.
tap_stage packaging 60 scripts/tests/packaging-test.sh
# DKMS as a Debian 13 user runs it, in the build root.
[ ${#deb13[@]} -gt 0 ] && tap_stage dkms-deb13 60 scripts/tests/dkms-test.sh "${deb13[@]}"

if [ "$(left)" -lt 120 ]; then
	missing lint host "not run: deadline (about 120s needed, $(left)s left)" lint
elif [ "$kernel_ok" = 1 ]; then
	stage lint timeout "$(left)" scripts/tests/lint.sh --results "$res/lint.res"
	timed host lint $(($(now) - stage_s))
else
	missing lint host "not run: the debug kernel did not build (build/kernel-debug)" lint
fi

for k in $kernels; do
	case $k in
	debug) ;;
	kcsan)
		# shellcheck disable=SC2086 # the program names are words
		vm_prepare kcsan "$KCSAN_TYPICAL" && vm_run kcsan vm-kcsan "$KCSAN_TYPICAL" $KCSAN_PROGRAMS ;;
	*)
		mapfile -t progs < <(kernel_tests "$k")
		typ=$STOCK_TYPICAL
		[ "$k" = "$tools_kernel" ] && typ=$TOOLS_TYPICAL
		vm_prepare "$k" "$typ" && VM_LONGEST=$STOCK_LONGEST vm_run "$k" "vm-$k" "$typ" "${progs[@]}"
		;;
	esac
done
# make demo as a user runs it: the story and nothing of the boot console;
# the README's "Run one test" commands as pasted. Both rebuild modules in
# out/kbuild (readme: 6.12 and debug), so they come after the stock
# guests.
tap_stage demo 60 scripts/tests/demo-test.sh
tap_stage readme 180 scripts/tests/readme-test.sh
# make deb and lintian (host and Debian 13), then the packages installed
# with apt into the Debian 13 build root (DKMS for each header set there),
# the DKMS-built module booted in its stock guest running the demo, and
# the packages purged. Needs the network (apt in the root).
[ ${#deb13[@]} -gt 0 ] && tap_stage deb 240 scripts/tests/deb-test.sh "${deb13[@]}"
if [ -n "$dpid" ]; then
	wait "$dpid"
	cat "$logs/debug-lane.out"
else
	late_host_suites
fi

echo
echo "=== total: $(($(now) - t0))s of the ${budget}s budget (TT_CHECK_DEADLINE; the README says what a run takes here)"
summary
