#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-smi on a real terminal: tmux panes of a given size
# (send-keys / capture-pane) over the fake Galaxy of fake-galaxy.sh. The
# view fits 120x40 on 32 devices, narrower panes drop columns instead of
# wrapping, and watch mode: the 32-device screen, Ctrl-C / SIGTERM /
# SIGTSTP+SIGCONT with the terminal restored (start, resize, a process
# appearing and going and q: the guest test tt-alloc-smi-watch-test).
# Env: RUN, BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/galaxy.tty.$$
G=$TMP/small.tty.$$
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

if ! command -v tmux > /dev/null 2>&1; then
	ok 1 "tmux is not installed (make deps)"
	echo "1..$n"
	exit 1
fi
sh "$SRC/tests/host/fake-galaxy.sh" "$F"
sh "$SRC/tests/host/fake-galaxy.sh" "$G" 8
SOCK=$TMP/tmux.$$
T="tmux -S $SOCK"
$T -f /dev/null start-server \; set -g exit-empty off 2>/dev/null
# the pane's shell environment: a UTF-8 locale (the tree is --sysroot)
envs="LC_ALL=C.UTF-8 TERM=screen"

wait_file() { # FILE [tenths of a second]
	i=0
	while [ ! -s "$1" ]; do
		i=$((i + 1)); [ $i -gt "${2:-300}" ] && return 1; sleep 0.1
	done
}
wait_screen() { # PATTERN [absent]
	i=0
	while :; do
		if $T capture-pane -p -t tt | grep -q -- "$1"; then
			[ -z "${2:-}" ] && return 0
		else
			[ -n "${2:-}" ] && return 0
		fi
		i=$((i + 1)); [ $i -gt 300 ] && return 1; sleep 0.1
	done
}
# start W H TREE COMMAND...: a new pane running COMMAND in sh
start() {
	w=$1 h=$2 tree=$3
	shift 3
	$T kill-session -t tt 2>/dev/null
	rm -f "$TMP/tty.rc" "$TMP/tty.pid"
	$T new-session -d -s tt -x "$w" -y "$h" \
		"env $envs sh -c '$*'; sleep 600"
}
fmt() { $T display -p -t tt "$1"; }
# no line of the pane wrapped: joining wrapped lines changes nothing
nowrap() { [ "$($T capture-pane -p -t tt | wc -l)" -eq "$($T capture-pane -pJ -t tt | wc -l)" ]; }

# ---- one-shot view, 120x40, 32 devices
start 120 40 "$F" "$RUN $S --sysroot $F; echo \$? > $TMP/tty.rc"
wait_file "$TMP/tty.rc"
$T capture-pane -p -t tt > "$TMP/screen"
[ "$(cat "$TMP/tty.rc")" = 0 ]
ok $? "120x40: exits 0"
[ "$(fmt '#{history_size}')" -eq 0 ] && head -1 "$TMP/screen" | grep -q '^tt-alloc-smi '
ok $? "120x40: all of it fits, nothing scrolled off (header on the first line)"
[ "$(grep -c '^ *[0-9]*  *wormhole_b0  *\[[#.]*\] ' "$TMP/screen")" -eq 32 ]
ok $? "120x40: 32 device lines with bars"
grep -q '^ *PID  *NAME  *DEV  *DRAM  *L1  *L1_SMALL  *TRACE  *CB  *KERNELS$' "$TMP/screen" &&
	grep -q '^ *TOTAL (41) ' "$TMP/screen" && grep -q '^\.\.\. [0-9]* more (process, device) rows' "$TMP/screen"
ok $? "120x40: process table with totals and an 'N more' line"
nowrap
ok $? "120x40: no line wraps"
[ -s "$TMP/screen" ] && sed 's/^/# | /' "$TMP/screen" | head -3

# ---- narrower panes, 8 devices: columns dropped, never wrapped
start 80 30 "$G" "$RUN $S --sysroot $G; echo \$? > $TMP/tty.rc"
wait_file "$TMP/tty.rc"
$T capture-pane -p -t tt > "$TMP/screen"
nowrap && head -1 "$TMP/screen" | grep -q '^tt-alloc-smi ' && grep -q '^ *PID ' "$TMP/screen"
ok $? "80 columns: no line wraps, not even the header"
grep -q 'DRAM USED / CAPACITY USE%  *L1 USED / CAPACITY' "$TMP/screen" && ! grep -q '\[#' "$TMP/screen" &&
	! grep -q 'KERNELS' "$TMP/screen" && grep -q ' TRACE ' "$TMP/screen"
ok $? "80 columns: the bars dropped first, then KERNELS; the numbers kept"
start 50 30 "$G" "$RUN $S --sysroot $G; echo \$? > $TMP/tty.rc"
wait_file "$TMP/tty.rc"
$T capture-pane -p -t tt > "$TMP/screen"
nowrap && ! grep -q '\[#' "$TMP/screen" && grep -q '9\.0 GiB /  *12\.0 GiB' "$TMP/screen" && ! grep -q 'KERNELS' "$TMP/screen"
ok $? "50 columns: no wrap, bars and rare columns dropped, DRAM used/capacity kept"
[ "$($T capture-pane -p -t tt | awk '{ if (length($0) > 50) print }' | wc -l)" -eq 0 ]
ok $? "50 columns: no line longer than the pane"

# ---- watch mode: the 32-device screen. Start, resize, a process coming
# and going and q are the guest test tt-alloc-smi-watch-test, on the real
# module; the other ways out (Ctrl-C, Ctrl-Z, SIGTERM) are here.
start 120 40 "$F" "$RUN $S --sysroot $F -w 0.3; echo \$? > $TMP/tty.rc"
# the footer is drawn last: then the whole first screen is there
wait_screen 'DRAM USED / CAPACITY' && wait_screen 'q: quit' &&
	[ "$(fmt '#{history_size}')" -eq 0 ] && $T capture-pane -p -t tt | head -1 | grep -q '^tt-alloc-smi ' &&
	[ "$($T capture-pane -p -t tt | grep -c '^ *[0-9]*  *wormhole_b0  *\[[#.]*\] ')" -eq 32 ]
ok $? "-w: 32 devices, header on top, footer at the bottom, all in 120x40"
$T send-keys -t tt q
wait_file "$TMP/tty.rc"

rm -f "$TMP/stty.after"
start 120 40 "$F" "trap : INT; stty -g > $TMP/stty.before; $RUN $S --sysroot $F -w 0.3; echo \$? > $TMP/tty.rc; stty -g > $TMP/stty.after"
wait_screen 'DRAM USED / CAPACITY'
$T send-keys -t tt C-c
wait_file "$TMP/tty.rc" && wait_file "$TMP/stty.after"
[ "$(cat "$TMP/tty.rc")" = 0 ] && [ "$(fmt '#{alternate_on}')" = 0 ] && cmp -s "$TMP/stty.before" "$TMP/stty.after"
ok $? "-w: Ctrl-C quits, exit 0, terminal restored"

# Ctrl-Z needs job control, as a user has it: an interactive bash in the
# pane (a pane's own process group is orphaned, and the kernel does not stop
# those).
rm -f "$TMP/stty.after" "$TMP/tty.rc" "$TMP/tty.pid" "$TMP/stty.stopped"
$T kill-session -t tt 2>/dev/null
$T new-session -d -s tt -x 120 -y 40 "env $envs PS1='$ ' bash --norc --noprofile -i"
sleep 0.5
$T send-keys -t tt "stty -g > $TMP/stty.before; $RUN $S --sysroot $F -w 0.3 & echo \$! > $TMP/tty.pid; fg" Enter
wait_screen 'DRAM USED / CAPACITY' && wait_file "$TMP/tty.pid"
pid=$(cat "$TMP/tty.pid")
$T send-keys -t tt C-z
wait_screen 'Stopped'
[ $? -eq 0 ] && [ "$(fmt '#{alternate_on}')" = 0 ] && grep -q '^State:.*T' "/proc/$pid/status"
ok $? "-w: Ctrl-Z leaves the alternate screen and stops"
stty_ok=1
$T send-keys -t tt "stty -g > $TMP/stty.stopped" Enter
wait_file "$TMP/stty.stopped" && cmp -s "$TMP/stty.before" "$TMP/stty.stopped" && stty_ok=0
ok $stty_ok "-w: while stopped the shell has the terminal modes it had before"
$T send-keys -t tt "fg" Enter
i=0
while [ "$(fmt '#{alternate_on}')" != 1 ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.1; done
wait_screen 'DRAM USED / CAPACITY'
[ $? -eq 0 ] && [ "$(fmt '#{alternate_on}')" = 1 ]
ok $? "-w: fg (SIGCONT) comes back to the view"
kill -TERM "$pid"
i=0
while kill -0 "$pid" 2>/dev/null && [ $i -lt 300 ]; do i=$((i + 1)); sleep 0.1; done
$T send-keys -t tt "echo \$? > $TMP/tty.rc; stty -g > $TMP/stty.after" Enter
wait_file "$TMP/tty.rc" && wait_file "$TMP/stty.after"
[ "$(cat "$TMP/tty.rc")" = 0 ] && [ "$(fmt '#{alternate_on}')" = 0 ] && cmp -s "$TMP/stty.before" "$TMP/stty.after"
ok $? "-w: SIGTERM ends it, exit 0, terminal restored"

$T kill-server 2>/dev/null
rm -rf "$F" "$G" "$SOCK"
echo "1..$n"
[ $failed -eq 0 ]
