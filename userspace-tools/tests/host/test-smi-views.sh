#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-smi's JSON, plain text view, -o, --sort, --raw and
# --csv on a fake 32-chip Galaxy (tests/host/fake-galaxy.sh) with process
# rows from its DIR/dev/tt_alloc (--sysroot). Stdout is never a terminal here (see
# test-smi-tty.sh for that). Env: RUN, BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/galaxy.views.$$
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

sh "$SRC/tests/host/fake-galaxy.sh" "$F"
# UTF-8 "été-run", a name that is not UTF-8 (Latin-1 "caf\xe9" and a lone
# continuation byte), and one with control characters
printf '8001 500 2 0 \\xc3\\xa9t\\xc3\\xa9-run 1048576 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"
printf '8002 501 2 1 caf\\xe9\\x80 2097152 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"
printf '8003 502 2 0 a\\x0a\\x1b[2Jb 3145728 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"
printf '8004 503 2 0 x,y"z 4194304 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"
nrows=$(grep -vc '^#' "$F/dev/tt_alloc")
J=$TMP/views.$$.json
X=$TMP/views.$$.txt
# what the tool prints is compared in a UTF-8 locale when there is one
export LC_ALL=C.UTF-8

$RUN "$S" --sysroot "$F" --json > "$J" 2>/dev/null
ok $? "--json exits 0"
jq -e . "$J" > /dev/null 2>&1
ok $? "valid JSON with names that are not UTF-8"
jq -e --arg n "$(printf '\303\251t\303\251-run')" '[.processes[] | select(.pid == 8001)][0].name == $n' "$J" > /dev/null
ok $? "UTF-8 name comes through as written"
grep -q "$(printf '"name": "\303\251t\303\251-run"')" "$J" && ! grep -q '\\u00c3' "$J"
ok $? "UTF-8 bytes passed through, not \\u00XX-escaped"
jq -e '[.processes[] | select(.pid == 8002)][0].name == "caf\ufffd\ufffd"' "$J" > /dev/null
ok $? "bytes that are not UTF-8 become U+FFFD"
jq -e '[.processes[] | select(.pid == 8003)][0].name == "a\n\u001b[2Jb"' "$J" > /dev/null && ! grep -q "$(printf '\033')" "$J"
ok $? "control characters escaped (no raw ESC in the document)"
[ "$(jq '.processes | length' "$J")" -eq "$nrows" ]
ok $? "--json lists all $nrows process rows, never cut"

$RUN "$S" --sysroot "$F" --json -d 7 > "$J" 2>/dev/null && jq -e '[.devices[].device] == [7] and ([.processes[].device] | unique) == [7]' "$J" > /dev/null
ok $? "--json -d 7 on the Galaxy: device 7 and its rows"
$RUN "$S" --sysroot "$F" --json -d 40 > "$J" 2> "$TMP/v.err"
rc=$?
[ $rc -eq 1 ] && jq -e '.schema_version == 1 and .error.device == 40 and (.error.message | test("device 40 does not exist"))' "$J" > /dev/null &&
	grep -q 'device 40 does not exist' "$TMP/v.err"
ok $? "-j -d 40 without device 40: JSON error document, exit 1"

# the plain text view (stdout is a file)
$RUN "$S" --sysroot "$F" > "$X" 2>/dev/null
ok $? "text view exits 0"
[ "$(grep -c '^ *[0-9][0-9]*  *wormhole_b0  *\[' "$X")" -eq 32 ]
ok $? "one line per device, with bars, for all 32"
! grep -q 'memory breakdown' "$X" && ! grep -q '^Parameters:' "$X"
ok $? "no breakdown and no parameters by default"
[ "$(grep -c '^ *[0-9][0-9]*\*\{0,1\}  *[^ ].*  *[0-9-][0-9]*  *[0-9.]* [KMGT]\{0,1\}i\{0,1\}B ' "$X")" -ge "$nrows" ]
ok $? "plain: every process row shown (not cut)"
! grep -q 'more (process, device)' "$X" && ! grep -q "$(printf '\033')" "$X"
ok $? "plain: no 'more' line, no escape codes"
sed -n '/^ *PID /,/TOTAL/p' "$X" | grep -v 'PID\|TOTAL' | awk '{print $4}' > "$TMP/dram.col"
$RUN "$S" --sysroot "$F" --csv -o DRAM 2>/dev/null | tr -d '\r' | sed 1d > "$TMP/dram.bytes"
head -1 "$TMP/dram.col" | grep -qx '8\.8' && sort -rn -c "$TMP/dram.bytes" 2>/dev/null &&
	[ "$(head -1 "$TMP/dram.bytes")" -gt "$(tail -1 "$TMP/dram.bytes")" ]
ok $? "process table sorted by DRAM by default, biggest first"
grep -q "^ *TOTAL ($nrows) *1[0-9][0-9]\.[0-9] GiB" "$X"
ok $? "totals row counts every row and sums DRAM"
grep -q "$(printf '\303\251t\303\251-run')" "$X" && grep -q "$(printf 'caf\357\277\275\357\277\275')" "$X" && grep -q 'a??\[2Jb' "$X"
ok $? "names in the table: UTF-8 kept, invalid bytes U+FFFD, controls as ?"
grep -q '^ *8002\*' "$X" && grep -q 'opener has exited' "$X"
ok $? "exited opener marked with *"
$RUN "$S" --sysroot "$F" -v > "$X" 2>/dev/null && [ "$(grep -c 'memory breakdown' "$X")" -eq 32 ] && grep -q '^Parameters: ' "$X"
ok $? "-v: parameters and 32 breakdowns"

$RUN "$S" --sysroot "$F" -d 2 > "$X" 2>/dev/null && [ "$(grep -c 'memory breakdown' "$X")" -eq 1 ] && ! grep -q 'hidden' "$X" &&
	[ "$(sed -n '/^ *PID /,/TOTAL/p' "$X" | grep -vc 'PID\|TOTAL')" -eq 5 ]
ok $? "-d 2: its breakdown, its five rows, no 'devices hidden' note for the filtered ones"

# -o, --sort, --raw, --csv
$RUN "$S" --sysroot "$F" --csv -o pid,name,dev,dram,total,exited --sort pid > "$X" 2>/dev/null
ok $? "--csv exits 0"
[ "$(head -1 "$X")" = "$(printf 'PID,NAME,DEV,DRAM,TOTAL,EXITED\r')" ]
ok $? "CSV header from -o, CRLF"
[ "$(($(wc -l < "$X") - 1))" -eq "$nrows" ]
ok $? "CSV: every row, no totals"
tr -d '\r' < "$X" | sed 1d | cut -d, -f1 | sort -n -c 2>/dev/null
ok $? "--sort pid: ascending"
grep -q '^8003,a??\[2Jb,2,3145728,' "$X" && grep -q '^8004,"x,y""z",2,' "$X" &&
	grep -q "^4242,python3,0,9395240960,9421762560,0" "$X" && grep -q '^8002,.*,1.$' "$X"
ok $? "CSV: sizes in bytes, controls as ?, a name with , and \" quoted, EXITED 1/0"
$RUN "$S" --sysroot "$F" --raw -o DEV,PID,DRAM --sort dram > "$X" 2>/dev/null && head -1 "$X" | grep -qx 'DEV PID DRAM' &&
	sed -n 2p "$X" | grep -qx '27 4242 9423552512'
ok $? "--raw -o DEV,PID,DRAM: header, bytes, biggest DRAM first"
$RUN "$S" --sysroot "$F" -o pid,kernels > "$X" 2>/dev/null && grep -q '^ *PID  *KERNELS$' "$X"
ok $? "-o in the text view: only those columns"
$RUN "$S" --sysroot "$F" -o pid,bogus > /dev/null 2> "$TMP/v.err"
[ $? -eq 2 ] && grep -q "unknown column 'bogus'" "$TMP/v.err"
ok $? "-o with an unknown column: usage error"
$RUN "$S" --sysroot "$F" --sort bogus > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "--sort with an unknown key: usage error"
$RUN "$S" --sysroot "$F" --csv --json > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "--csv with --json: usage error"

# -w to a pipe: snapshots separated by a blank line and a timestamp
$RUN "$S" --sysroot "$F" -w 0.1 -n 3 > "$X" 2>/dev/null
ok $? "-w 0.1 -n 3 into a file exits 0"
[ "$(grep -c '^--- [0-9-]*T[0-9:]*[+-][0-9]*$' "$X")" -eq 3 ] && [ "$(grep -c '^tt-alloc-smi ' "$X")" -eq 3 ] &&
	[ "$(grep -B1 '^--- ' "$X" | grep -c '^$')" -eq 2 ]
ok $? "three snapshots, each after a blank line and a timestamp"
! grep -q "$(printf '\033')" "$X"
ok $? "no escape codes in the watch output to a file"
rm -f "$X"
$RUN "$S" --sysroot "$F" -w 0.2 > "$X" 2>/dev/null &
w=$!
# The handler is in place before the first snapshot is written; a fixed
# sleep raced valgrind's start-up on a loaded host (killed by SIGTERM).
i=0
while ! grep -q '^--- ' "$X" 2>/dev/null && [ $i -lt 600 ]; do
	sleep 0.1
	i=$((i + 1))
done
kill -TERM $w
wait $w
ok $? "-w to a file stops cleanly on SIGTERM (exit 0)"

rm -rf "$F" "$J" "$X"
echo "1..$n"
[ $failed -eq 0 ]
