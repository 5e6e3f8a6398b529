#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Self-tests of the test harness; each passes when the harness DETECTS
# the problem planted in it.
#   selftests/harness/run.sh [--results FILE] [--no-vm]
#   harness/aggregator/<case>  canned console logs (cases/*.log) parsed by
#                              ktap.py (with the arguments in
#                              cases/<case>.args) give exactly
#                              cases/<case>.expect
#   harness/vm/kasan-detected  a module doing a KASAN out-of-bounds access
#                              on load: the runner (debug kernel) exits
#                              non-zero and shows the KASAN report
#   harness/vm/failing-test-detected  a failing TAP program run in that VM
#                              by run-suite.sh is reported failed
#   harness/vm/timeout-kills-leftovers  a program that times out leaving a
#                              child with /dev/tt_alloc open: run-suite.sh
#                              ends both, tt_alloc still unloads
#   harness/red/<cause>        each cause below ends in a red summary
#                              (ktap.py summarize) that names it:
#     missing-binary   a program expected in the guest is not there (the
#                      debug VM above is asked for one that is not packed)
#     unlisted-skip    that VM's SKIP is not in selftests/skips
#     guest-crash      a stock guest panics before printing any result
#     runner-failed    the VM runner fails before booting (unknown kernel)
#     parser-error     the results parser raises (a directory as its log)
#     deadline         scripts/tests/check.sh with TT_CHECK_DEADLINE=1
#   harness/vm/kvm-probe-fallback    with a fake QEMU whose KVM fails as a
#   harness/vm/kvm-runtime-fallback  broken paravirtual KVM does, the
#                              runner picks TCG after its probe, and reruns
#                              a failed KVM guest under TCG (cached
#                              verdict planted as "kvm")
#   harness/vm/int3-boot-rerun   with a fake QEMU whose guest oopses on a
#                              stale int3 while booting, once: the runner
#                              boots it again and the command passes
#   harness/vm/int3-after-start-fails  the same oops after the command
#                              started: no second boot, exit 125
#   harness/packaging/dkms-lock-held  while another run holds the host's
#                              DKMS lock, packaging-test.sh's DKMS step
#                              waits, then fails naming the lock, and runs
#                              no make or dkms command (needs root and
#                              dkms, as that step does)
#   harness/deps/apt-lock-queues  host_apt (scripts/common.sh), with a fake
#                              apt-get and its lock held here: gives up
#                              after TT_APT_LOCK_WAIT naming the lock
#                              (exit 75), runs apt-get only once the lock
#                              is released, with DPkg::Lock::Timeout
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

# red CASE NAME_RE DETAIL_RE RESULTS...: the summary of RESULTS must be
# red (exit 1, "N passed, M failed" last with M > 0), have a FAIL: line
# matching NAME_RE and details matching DETAIL_RE.
red() {
	local c=$1 name=$2 why=$3 rc=0
	shift 3
	python3 "$ktap" summarize --skips "$TT_ROOT/selftests/skips" "$@" >"$work/red-$c.out" 2>&1 || rc=$?
	if [ "$rc" = 1 ] && tail -1 "$work/red-$c.out" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed' &&
		grep -Eq "^FAIL: $name\$" "$work/red-$c.out" && grep -Eq "$why" "$work/red-$c.out"; then
		record PASS "harness/red/$c"
	else
		echo "summarize exit $rc; wanted FAIL: $name and '$why'" >>"$work/red-$c.out"
		record FAIL "harness/red/$c" "$work/red-$c.out"
	fi
}

# a stock kernel for the cheap VM runs: 6.12 if prepared, else debug.
# Their modules are a build of the harness's own, made before the first
# of them: make check runs the harness beside stages that rebuild
# out/kbuild/6.12.
stock=6.12
[ -f "$(kernel_env 6.12)" ] || stock=debug
mods=(--modules "$TT_OUT/kbuild/harness-$stock")

# A guest that panics before printing any result (sysrq-c on the stock
# kernel): every expected program is a named failure.
vm_stock() {
	local rc=0
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 --log "$work/crash.console" \
		-- sh -c 'echo 1 >/proc/sys/kernel/sysrq; echo c >/proc/sysrq-trigger; sleep 30' \
		>"$work/crash.out" 2>&1 || rc=$?
	python3 "$ktap" parse --tag c --log "$work/crash.console" --out "$work/crash.res" \
		--runner-rc "$rc" --runner-log "$work/crash.out" --expect ioctl_test --expect reclaim_test >/dev/null
	red guest-crash 'c/reclaim_test' 'guest crashed or never reported completion' "$work/crash.res"
}

# A program that times out leaving a child with /dev/tt_alloc open: the
# guest runner kills its whole process group and waits for it to exit,
# so rmmod works afterwards.
vm_timeout_group() {
	# The timeout has to outlast the child's recording of its 100,000
	# entries: under 5 s in a stock guest alone, but on 2026-12-06,
	# beside another run, it had recorded 16 when 5 s ran out. The case
	# lasts the whole timeout, whatever the kernel.
	local rc=0 c=$work/timeout.console tmo=30
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 --log "$c" \
		--add "$here/guest/hang-leaving-child:/opt/tt_alloc/harness/hang-leaving-child" \
		-- /opt/tt_alloc/run-suite.sh --timeout "$tmo" --tests /opt/tt_alloc/harness hang-leaving-child \
		>"$work/timeout.out" 2>&1 || rc=$?
	echo "runner exit status: $rc" >>"$work/timeout.out"
	if grep -q '^tt-alloc-replay: holding allocations' "$c" &&
		grep -q "^# hang-leaving-child: TIMEOUT after ${tmo}s" "$c" &&
		grep -q '^# tt-suite-end: hang-leaving-child ' "$c" &&
		! grep -q '^# tt-suite-rmmod: hang-leaving-child FAILED' "$c"; then
		record PASS harness/vm/timeout-kills-leftovers
	else
		cat "$c" >>"$work/timeout.out"
		record FAIL harness/vm/timeout-kills-leftovers "$work/timeout.out"
	fi
}

red_runner_failed() {
	local rc=0
	"$TT_ROOT/selftests/vm/run" --kernel no-such-kernel -- true >"$work/nokernel.out" 2>&1 || rc=$?
	python3 "$ktap" parse --tag n --log "$work/nokernel.console" --out "$work/nokernel.res" \
		--runner-rc "$rc" --runner-log "$work/nokernel.out" --expect ioctl_test >/dev/null
	red runner-failed 'n/ioctl_test' 'runner failed before booting' "$work/nokernel.res"
}

red_parser_error() {
	local rc=0
	mkdir -p "$work/not-a-log"
	python3 "$ktap" parse --tag p --log "$work/not-a-log" --out "$work/parser.res" \
		>"$work/parser.out" 2>&1 || rc=$?
	if [ "$rc" != 3 ]; then
		echo "ktap.py parse exited $rc, not 3" >>"$work/parser.out"
		record FAIL harness/red/parser-error "$work/parser.out"
		return
	fi
	red parser-error 'p/parser' 'results parser raised' "$work/parser.res"
}

# The whole of scripts/tests/check.sh, given one second: every suite it expects
# is reported "not run: deadline" and the summary is still printed.
red_deadline() {
	local rc=0
	TT_CHECK_WORK=$work/deadline TT_CHECK_DEADLINE=1 TT_CHECK_HARNESS=0 TT_CHECK_KERNELS=$stock \
		"$TT_ROOT/scripts/tests/check.sh" >"$work/deadline.out" 2>&1 || rc=$?
	if [ "$rc" = 1 ] && tail -1 "$work/deadline.out" | grep -Eq '^[0-9]+ passed, [1-9][0-9]* failed' &&
		grep -q "^FAIL: $stock/ioctl_test\$" "$work/deadline.out" &&
		grep -q "^FAIL: host-tests\$" "$work/deadline.out" &&
		grep -q 'not run: deadline' "$work/deadline.out"; then
		record PASS harness/red/deadline
	else
		echo "check.sh exit $rc" >>"$work/deadline.out"
		record FAIL harness/red/deadline "$work/deadline.out"
	fi
}

# kvm_fallback: the runner with a fake QEMU that fails like a broken KVM.
kvm_fallback() {
	local d=$work/kvm rc=0 real
	real=$(command -v qemu-system-x86_64)
	mkdir -p "$d/probe"
	: >"$d/kvm-dev"
	(export PATH="$here/fake-qemu:$PATH" TT_FAKE_QEMU_REAL="$real" TT_VM_PROBE_DIR="$d/probe" \
		TT_VM_KVM_DEV="$d/kvm-dev"
	unset TT_VM_ACCEL
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 -- true) >"$d/probe.out" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && grep -q '^run: accelerator tcg (KVM probe boot failed: KVM internal error)$' "$d/probe.out" &&
		grep -q '^tcg ' "$d/probe/"*; then
		record PASS harness/vm/kvm-probe-fallback
	else
		echo "runner exit $rc" >>"$d/probe.out"
		record FAIL harness/vm/kvm-probe-fallback "$d/probe.out"
	fi
	rc=0
	echo "kvm planted by the harness" >"$d/probe/$(cat /proc/sys/kernel/random/boot_id)"
	(export PATH="$here/fake-qemu:$PATH" TT_FAKE_QEMU_REAL="$real" TT_VM_PROBE_DIR="$d/probe" \
		TT_VM_KVM_DEV="$d/kvm-dev"
	unset TT_VM_ACCEL
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 -- true) >"$d/run.out" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && grep -q '^run: KVM failed the guest (KVM internal error): killed it, rerunning once under TCG$' "$d/run.out" &&
		grep -q '^run: command exited 0' "$d/run.out"; then
		record PASS harness/vm/kvm-runtime-fallback
	else
		echo "runner exit $rc" >>"$d/run.out"
		record FAIL harness/vm/kvm-runtime-fallback "$d/run.out"
	fi
}

# int3_rerun: a fake QEMU whose guest oopses on a stale int3 while
# booting (once) is booted again and passes; one whose guest oopses after
# the command started is not rerun and fails. The second boot is a real
# one, on one TCG thread: with a thread per vCPU its kernel can hit the
# real stale int3 too (rarely: once in the six full runs of 2026-12-06,
# about 20 boots each, at sched_clock_cpu; the runner, which reboots only
# once, then failed the case), and the case is about the runner, not QEMU.
int3_rerun() {
	local d=$work/int3 rc=0 real
	real=$(command -v qemu-system-x86_64)
	mkdir -p "$d"
	(export PATH="$here/fake-qemu:$PATH" TT_FAKE_QEMU_REAL="$real" TT_VM_ACCEL=tcg \
		TT_VM_TCG_THREAD=single TT_FAKE_QEMU_INT3="boot:$d/once"
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 --log "$d/boot.console" \
		-- true) >"$d/boot.out" 2>&1 || rc=$?
	if [ "$rc" = 0 ] && grep -q '^run: the kernel oopsed on a stale int3 while booting, before the command started .*: rebooting once$' "$d/boot.out" &&
		grep -q '^run: command exited 0' "$d/boot.out" &&
		grep -q 'Oops: int3' "$d/boot.console.first-boot" && ! grep -q 'Oops: int3' "$d/boot.console"; then
		record PASS harness/vm/int3-boot-rerun
	else
		echo "runner exit $rc" >>"$d/boot.out"
		record FAIL harness/vm/int3-boot-rerun "$d/boot.out"
	fi
	rc=0
	(export PATH="$here/fake-qemu:$PATH" TT_FAKE_QEMU_REAL="$real" TT_VM_ACCEL=tcg \
		TT_FAKE_QEMU_INT3=command
	"$TT_ROOT/selftests/vm/run" --kernel "$stock" "${mods[@]}" --quiet --timeout 300 -- true) >"$d/cmd.out" 2>&1 || rc=$?
	if [ "$rc" = 125 ] && ! grep -q 'rebooting once' "$d/cmd.out" &&
		grep -q "did not report the command's exit status" "$d/cmd.out"; then
		record PASS harness/vm/int3-after-start-fails
	else
		echo "runner exit $rc" >>"$d/cmd.out"
		record FAIL harness/vm/int3-after-start-fails "$d/cmd.out"
	fi
}

# dkms_lock_held: the DKMS step of the packaging test, with its lock held
# here and one second to wait for it.
dkms_lock_held() {
	local d=$work/dkms-lock c=harness/packaging/dkms-lock-held rc=0 hold
	mkdir -p "$d"
	if [ "$(id -u)" != 0 ] || ! command -v dkms >/dev/null; then
		echo "needs root and dkms, as the packaging test's DKMS step does" >"$d/why"
		record SKIP "$c" "$d/why"
		return
	fi
	exec {hold}>>"$d/lock"
	flock -n "$hold"
	TT_OUT=$d/out TT_DKMS_LOCK=$d/lock TT_DKMS_LOCK_WAIT=1 TT_PKG_KERNELS=harness-no-such-kernel \
		"$TT_ROOT/scripts/tests/packaging-test.sh" --no-install --no-docs >"$d/tap" 2>&1 || rc=$?
	exec {hold}>&-
	echo "packaging-test.sh exit $rc" >>"$d/tap"
	if [ "$rc" = 1 ] && grep -qx "# waiting up to 1s for $d/lock: another run's DKMS test holds it" "$d/tap" &&
		grep -qx "not ok 1 dkms: $d/lock still held by another run after 1s: the DKMS test did not run" "$d/tap" &&
		[ ! -e "$d/out/logs/packaging-dkms.log" ]; then
		record PASS "$c"
	else
		record FAIL "$c" "$d/tap"
	fi
}

# apt_lock_queues: two make check on a fresh host both run apt-get; the
# second must queue behind the first, not fail on apt's own locks.
apt_lock_queues() {
	local d=$work/apt-lock c=harness/deps/apt-lock-queues hold pid rc=0 rc2=0 early=no
	mkdir -p "$d/bin"
	printf '#!/bin/sh\necho "apt-get $*" >>"%s/ran"\n' "$d" >"$d/bin/apt-get"
	chmod +x "$d/bin/apt-get"
	exec {hold}>>"$d/lock"
	flock -n "$hold"
	(PATH=$d/bin:$PATH TT_APT_LOCK=$d/lock TT_APT_LOCK_WAIT=1 host_apt update) >"$d/out" 2>&1 || rc=$?
	# the waiter must not share this shell's hold on the lock
	(exec {hold}>&-; PATH=$d/bin:$PATH TT_APT_LOCK=$d/lock TT_APT_LOCK_WAIT=120 host_apt install x) >>"$d/out" 2>&1 &
	pid=$!
	# until the waiter says it waits (however loaded the host), then
	# apt-get must not have run
	for _ in $(seq 1200); do
		grep -q '^>>> waiting up to 120s' "$d/out" && break
		sleep 0.1
	done
	[ -e "$d/ran" ] && early=yes
	exec {hold}>&-
	wait "$pid" || rc2=$?
	echo "exit $rc, then $rc2; apt-get ran while the lock was held: $early; it ran: $(cat "$d/ran" 2>/dev/null)" >>"$d/out"
	if [ "$rc" = 75 ] && [ "$rc2" = 0 ] && [ "$early" = no ] &&
		grep -qx "error: $d/lock still held by another run after 1s" "$d/out" &&
		grep -qx ">>> waiting up to 120s for $d/lock: another run is using the host's apt" "$d/out" &&
		[ "$(cat "$d/ran")" = "apt-get -o DPkg::Lock::Timeout=120 install x" ]; then
		record PASS "$c"
	else
		record FAIL "$c" "$d/out"
	fi
}

# (a) the aggregator on canned input
for log in "$here"/cases/*.log; do
	c=$(basename "$log" .log)
	args=(--tag t --log "$log" --out "$work/$c.res")
	# cases/<case>.args: more arguments for ktap.py parse, one a line
	[ -f "$here/cases/$c.args" ] && mapfile -t -O ${#args[@]} args <"$here/cases/$c.args"
	python3 "$ktap" parse "${args[@]}" >/dev/null
	python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "status" in r: print(r["status"], r["name"])' "$work/$c.res" | sort >"$work/$c.got"
	sort "$here/cases/$c.expect" >"$work/$c.want"
	if diff -u "$work/$c.want" "$work/$c.got" >"$work/$c.diff"; then
		record PASS "harness/aggregator/$c"
	else
		record FAIL "harness/aggregator/$c" "$work/$c.diff"
	fi
done

# (b) a real VM run on the debug kernel: failing TAP program + KASAN module
if [ "$vm" = 1 ]; then
	if ! "$TT_ROOT/scripts/kernels/build-module.sh" --src "$here/kasan_oob" --name harness-kasan debug \
		>"$work/build.log" 2>&1; then
		record FAIL harness/vm/kasan-detected "$work/build.log"
		record FAIL harness/vm/failing-test-detected "$work/build.log"
	else
		set +e
		"$TT_ROOT/selftests/vm/run" --kernel debug --quiet --timeout 900 --modules /nonexistent \
			--log "$work/vm.console" \
			--add "$TT_OUT/kbuild/harness-kasan/tt_kasan_oob.ko:/root/tt_kasan_oob.ko" \
			--add "$here/guest/failing-tap:/opt/tt_alloc/harness/failing-tap" \
			-- sh -c '/opt/tt_alloc/run-suite.sh --no-module --tests /opt/tt_alloc/harness failing-tap not-packed; insmod /root/tt_kasan_oob.ko' \
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
		python3 "$ktap" parse --tag h --log "$work/vm.console" --out "$work/vm.res" \
			--expect failing-tap --expect not-packed >/dev/null
		python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if "status" in r: print(r["status"], r["name"])' "$work/vm.res" | sort >"$work/vm.got"
		if grep -qx 'FAIL h/failing-tap/fails_on_purpose' "$work/vm.got" &&
			grep -qx 'PASS h/failing-tap/passes' "$work/vm.got" &&
			grep -qx 'SKIP h/failing-tap/skipped_on_purpose' "$work/vm.got" &&
			grep -qx 'FAIL h/vm/console-clean' "$work/vm.got"; then
			record PASS harness/vm/failing-test-detected
		else
			cat "$work/vm.got" "$work/vm.out" >"$work/vm.why"
			record FAIL harness/vm/failing-test-detected "$work/vm.why"
		fi
		python3 -c 'import json,sys
for l in open(sys.argv[1]):
    r = json.loads(l)
    if r.get("name") != "h/not-packed":
        print(l, end="")' "$work/vm.res" >"$work/vm-skip.res"
		red missing-binary 'h/not-packed' 'test binary is missing in the guest' "$work/vm.res"
		red unlisted-skip 'h/failing-tap/skipped_on_purpose \(unlisted skip\)' 'unlisted skip' "$work/vm-skip.res"
	fi
	if "$TT_ROOT/scripts/kernels/build-module.sh" --name "harness-$stock" "$stock" \
		>"$work/build-stock.log" 2>&1; then
		vm_stock
		vm_timeout_group
		kvm_fallback
		int3_rerun
	else
		for c in red/guest-crash vm/timeout-kills-leftovers vm/kvm-probe-fallback \
			vm/kvm-runtime-fallback vm/int3-boot-rerun vm/int3-after-start-fails; do
			record FAIL "harness/$c" "$work/build-stock.log"
		done
	fi
fi
dkms_lock_held
apt_lock_queues
red_runner_failed
red_parser_error
[ "$vm" = 1 ] && red_deadline
exit $failed
