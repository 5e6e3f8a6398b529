#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# `make demo`: the demo's story, and nothing else, on the terminal.
#   scripts/demo.sh [-- GUEST-CMD [ARGS]]
# Installs what it needs (scripts/deps.sh, the stock 6.12 kernel only),
# builds the tools and the module, boots the stock 6.12 kernel in QEMU and
# runs the demo there (GUEST-CMD instead, if given). The set-up steps and
# the guest's boot console go to out/logs/demo-*.log; the terminal shows
# one line per set-up step, then the guest command's own output as it
# comes, without the kernel's console messages (the demo prints the
# kernel log lines of its story itself, from dmesg). When a step or the
# guest fails: the last lines of its log, and where the rest is.
set -euo pipefail
. "$(dirname "$0")/common.sh"
cd "$TT_ROOT"

cmd=(sh /opt/tt_alloc/share/demo.sh)
# pr_info and pr_notice stay in the kernel log, off the serial console
# where they would split the story's lines; warnings and oopses still show
# there (the runner looks for them).
quiet_console=(sh -c 'echo 5 >/proc/sys/kernel/printk && exec "$@"' demo)
if [ $# -gt 0 ]; then
	[ "$1" = -- ] && [ $# -gt 1 ] || { sed -n '3,4s/^# \{0,1\}//p' "$0" >&2; exit 2; }
	shift
	cmd=("$@")
fi
logs=$TT_OUT/logs
mkdir -p "$logs"

# step NAME CMD...: a set-up step, its output in demo-NAME.log
step() {
	local name=$1 log=$logs/demo-$1.log
	shift
	printf 'demo: %s ... ' "$name"
	if "$@" >"$log" 2>&1; then
		echo ok
		return
	fi
	echo FAILED
	tail -20 "$log" | sed 's/^/  | /'
	echo "demo: the whole log: $log" >&2
	exit 1
}

step deps env TT_STOCK_KERNELS=6.12 scripts/deps.sh
step tools make tools
step module scripts/kernels/build-module.sh 6.12

console=$logs/demo-console.log
echo "demo: the guest's boot console goes to $console"
# The runner shows the console live (with --log, it also keeps it). The
# story is what the command prints between the guest init's "running"
# line and its exit marker; kernel messages (a "[ seconds]" prefix on
# the serial console) and terminal escapes other than bold are dropped.
rc=0
selftests/vm/run --kernel 6.12 --timeout 900 --log "$console" -- "${quiet_console[@]}" "${cmd[@]}" 2>"$logs/demo-runner.log" |
	awk -v tty="$([ -t 1 ] && echo 1 || echo 0)" '
		/^# tt-vm: running: / { story = 1; next }
		/@@TT-VM-/ { story = 0; next }
		!story || /^\[ *[0-9]+\.[0-9]+\] / { next }
		{
			gsub(/\033\[[0-9;?]*[A-HJKSTf-ln-z]/, "")
			if (!tty) gsub(/\033\[[0-9;]*m/, "")
			print; fflush()
		}' || rc=$?
[ "$rc" = 0 ] && exit 0
echo
echo "demo: FAILED ($(tail -1 "$logs/demo-runner.log"))"
echo "demo: the last lines of the guest's console:"
tail -25 "$console" | sed 's/^/  | /'
echo "demo: the whole console: $console"
exit 1
