#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of tt-alloc-smi --watch on a real terminal and the real
# module (root; tt_alloc reloaded with devices=2 arch=wormhole_b0,blackhole
# so that the devices have capacities and bars, and loaded with its
# defaults again at the end): a detached tmux session (send-keys /
# capture-pane) running tt-alloc-smi -w. The view comes up on the
# alternate screen, one line per device of sysfs, a resize redraws it
# to fit, a process that records appears and disappears when it exits,
# and q quits with exit 0, the previous screen and the terminal modes
# back. Every wait polls the pane against a deadline. The 32-device
# layout and Ctrl-C / Ctrl-Z / SIGTERM stay in the host test
# test-smi-tty (a fake Galaxy, bash job control). TAP.
here=$(cd "$(dirname "$0")" && pwd)
BIN=$here/../bin
SYS=/sys/class/tt_alloc
D=/tmp/smi-watch-test.$$
mkdir -p $D
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

if ! command -v tmux >/dev/null 2>&1; then
	ok 1 "tmux in the guest (selftests/vm/mkinitramfs packs it)"
	echo "1..$n"
	exit 1
fi
# tmux wants a UTF-8 locale (the initramfs has C.UTF-8)
export LC_ALL=C.UTF-8
SOCK=$D/tmux.sock
T="tmux -S $SOCK"
hold=
cleanup() {
	[ -n "$hold" ] && kill -KILL $hold 2>/dev/null
	$T kill-server 2>/dev/null
	rm -rf $D
	rmmod tt_alloc 2>/dev/null
	modprobe tt_alloc
}
trap cleanup EXIT

screen() { $T capture-pane -p -t tt; }
fmt() { $T display -p -t tt "$1"; }
# wait_screen PATTERN [absent]: poll the pane, 60 s deadline (TCG, busy host)
wait_screen() {
	i=0
	while :; do
		if screen | grep -q -- "$1"; then
			[ -z "${2:-}" ] && return 0
		else
			[ -n "${2:-}" ] && return 0
		fi
		i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
	done
}
wait_file() { # FILE: poll until it is non-empty, 60 s deadline
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1)); [ $i -gt 600 ] && return 1; sleep 0.1
	done
}
# every line of the pane at most W columns, none wrapped
fits() {
	[ "$(screen | awk -v w="$1" 'length($0) > w' | wc -l)" -eq 0 ] &&
		[ "$(screen | wc -l)" -eq "$($T capture-pane -pJ -t tt | wc -l)" ]
}
devlines() { screen | grep -c '^ *[0-9][0-9]*  *[a-z_0-9][a-z_0-9]*  *\[[#.]*] '; }
rmmod tt_alloc && modprobe tt_alloc devices=2 arch=wormhole_b0,blackhole
ok $? "tt_alloc reloaded with devices=2 arch=wormhole_b0,blackhole"
ndev=$(ls -d $SYS/device* | wc -l)

$T -f /dev/null start-server \; set -g exit-empty off
$T new-session -d -s tt -x 120 -y 40 \
	"stty -g > $D/stty.before; echo BEFORE-WATCH; $BIN/tt-alloc-smi -w 0.3; echo \$? > $D/rc; stty -g > $D/stty.after; sleep 600"
# the footer is drawn last: then the whole first screen is there
wait_screen 'DRAM USED / CAPACITY' && wait_screen 'q: quit'
ok $? "-w in a 120x40 tmux pane: the view comes up (header, footer 'q: quit')"
[ "$(fmt '#{alternate_on}')" = 1 ] && ! screen | grep -q BEFORE-WATCH
ok $? "on the alternate screen (the shell's output hidden)"
[ "$(devlines)" -eq "$ndev" ] && screen | head -1 | grep -q '^tt-alloc-smi ' && fits 120
[ $? -eq 0 ] && screen | grep -q '^ *0  *wormhole_b0  *\[' && screen | grep -q '^ *1  *blackhole  *\['
ok $? "$ndev device lines with bars (wormhole_b0, blackhole), as sysfs has; header on top; no line wraps"
screen | sed 's/^/# | /' | head -8

$T resize-window -t tt -x 70 -y 30
# 70 columns have no room for the bars: their going is the redraw
wait_screen '\[[#.]*]' absent && wait_screen 'q: quit'
[ $? -eq 0 ] && fits 70 && screen | head -1 | grep -q '^tt-alloc-smi '
ok $? "resized to 70x30: redrawn to fit (bars dropped, no line over 70, no wrap)"
$T resize-window -t tt -x 120 -y 40
wait_screen '\[[#.]*]' && [ "$(devlines)" -eq "$ndev" ]
ok $? "resized back to 120x40: the bars are back"

# a process that records then exits: a copy of tt-alloc-replay, so that
# its name is its own
cp $BIN/tt-alloc-replay $D/newcomer
printf 'alloc 0 dram - 0x10000000 64M\nalloc 0 l1 - 0x100000 256K\n' >$D/new.trace
TT_ALLOC_TRACKING_ENABLED=1 $D/newcomer -q --hold $D/new.trace >$D/new.log 2>&1 &
hold=$!
wait_screen "^ *$hold  *\(root  *[^ ]*  *\)\{0,1\}newcomer .*64\.0 MiB"
ok $? "a process records: its row (pid $hold, newcomer, 64.0 MiB DRAM) appears"
kill -TERM $hold; wait $hold; hold=
wait_screen "newcomer" absent
ok $? "it exits: the row disappears"

$T send-keys -t tt q
wait_file $D/rc && wait_file $D/stty.after
[ "$(cat $D/rc 2>/dev/null)" = 0 ]
ok $? "q quits, exit 0"
[ "$(fmt '#{alternate_on}')" = 0 ] && screen | grep -q BEFORE-WATCH && ! screen | grep -q 'DRAM USED'
ok $? "after q: the previous screen is back (BEFORE-WATCH shown, nothing of the view)"
cmp -s $D/stty.before $D/stty.after
ok $? "after q: terminal modes restored (stty -g before = after)"

echo "1..$n"
[ $failed -eq 0 ]
