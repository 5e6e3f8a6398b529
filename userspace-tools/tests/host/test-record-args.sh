#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-record's bad input, before any tracefs is touched:
# usage errors exit 2 with a message naming the option, a directory that
# is no tracefs and a tracefs without tt_alloc events exit 4 with what is
# missing, and nothing is created under them. Every case passes --tracefs
# (or fails before tracefs is looked for): the host's real tracefs is
# never used. The module-absent case on a real kernel runs in the guest
# (tt-alloc-record-test). Env: RUN, BIN, TMP. TAP.
set -u
n=0
failed=0
R="$BIN/tt-alloc-record"
D=$TMP/record.$$
mkdir -p "$D"
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

# usage ARGS... : exit 2 and a message (last arg: expected fragment)
usage() {
	want=$1
	shift
	$RUN "$R" -t "$D/none" -o "$D/out" "$@" >"$D/o" 2>"$D/e"
	rc=$?
	[ $rc -eq 2 ] && grep -q -- "$want" "$D/e" && [ ! -s "$D/o" ]
	ok $? "$*: exit 2 ($rc), '$want'"
	[ $rc -eq 2 ] || sed 's/^/# /' "$D/e" | head -3
}
usage "unrecognized option" --bogus
usage "unexpected argument 'extra'" extra
usage "--duration: '0'" -d 0
usage "--duration: 'soon'" --duration soon
usage "--pid: not a pid: '12x'" -p 12x
usage "--pid: not a pid: '0'" --pid 0
usage "--comm: 'a-name-longer-than-15'" -c a-name-longer-than-15
usage "--buffer-size: '3'" -b 3

$RUN "$R" --help >"$D/o" 2>"$D/e"
[ $? -eq 0 ] && grep -q -- "--keep-time" "$D/o" && grep -q "Exit status" "$D/o"
ok $? "--help: exit 0, every option and the exit statuses"
$RUN "$R" --version >"$D/o" 2>"$D/e"
[ $? -eq 0 ] && grep -q "^tt-alloc-record " "$D/o"
ok $? "--version: exit 0"

mkdir -p "$D/plain"
$RUN "$R" -t "$D/plain" -o "$D/out" >"$D/o" 2>"$D/e"
rc=$?
[ $rc -eq 4 ] && grep -q "not a tracefs mount" "$D/e" && [ -z "$(ls "$D/plain")" ]
ok $? "--tracefs on a plain directory: exit 4 ($rc), 'not a tracefs mount', nothing created"

# instances/ and events/ as in a tracefs, but no events/tt_alloc: module absent
mkdir -p "$D/fake/instances" "$D/fake/events/sched"
$RUN "$R" -t "$D/fake" -o "$D/out" >"$D/o" 2>"$D/e"
rc=$?
[ $rc -eq 4 ] && grep -q "no tt_alloc events in $D/fake: is the tt_alloc module loaded" "$D/e" &&
	[ -z "$(ls "$D/fake/instances")" ]
ok $? "tracefs without tt_alloc events: exit 4 ($rc), 'is the tt_alloc module loaded', no instance"

touch "$D/file"
$RUN "$R" -t "$D/fake" -o "$D/file" >"$D/o" 2>"$D/e"
rc=$?
[ $rc -eq 1 ] && grep -q -- "--output $D/file: not a directory" "$D/e"
ok $? "--output on a file: exit 1 ($rc), 'not a directory'"

rm -rf "$D"
echo "1..$n"
[ $failed -eq 0 ]
