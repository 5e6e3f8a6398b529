#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-replay's parser: every malformed line is reported as
# file:line: message with a non-zero exit; good traces pass --check; no
# kernel needed (TT_ALLOC_DEVICE points nowhere). Env: RUN (wrapper such as
# valgrind), BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
R="$BIN/tt-alloc-replay"
export TT_ALLOC_DEVICE=/nonexistent/tt_alloc
unset TT_ALLOC_TRACKING_ENABLED
T=$TMP/trace.$$

ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

# bad LINE_CONTENT EXPECTED_LINE EXPECTED_MESSAGE_FRAGMENT
bad() {
	{
		echo "# a good start"
		echo "alloc 0 dram - 0x1000 4K"
		echo ""
		printf '%s\n' "$1"
		echo "free 0 dram 0x1000"
	} > "$T"
	$RUN "$R" "$T" > "$TMP/r.out" 2> "$TMP/r.err"
	rc=$?
	if [ $rc -ne 0 ] && grep -q "^$T:$2: .*$3" "$TMP/r.err" && ! grep -q replayed "$TMP/r.out"; then
		ok 0 "malformed '$1' -> line $2: $3"
	else
		ok 1 "malformed '$1' -> line $2: $3 (rc $rc, got: $(cat "$TMP/r.err"))"
	fi
}

bad "allocate 0 dram - 1 4K" 4 "unknown command 'allocate'"
bad "alloc 0 dram - 1" 4 "'alloc' takes 5 arguments"
bad "alloc 0 dram - 1 4K extra" 4 "'alloc' takes 5 arguments"
bad "alloc x dram - 1 4K" 4 "bad device number 'x'"
bad "alloc 0 hbm - 1 4K" 4 "unknown memory type 'hbm'"
bad "alloc 0 9 - 1 4K" 4 "unknown memory type '9'"
bad "alloc 0 kernel turbo 1 4K" 4 "unknown kernel kind 'turbo'"
bad "alloc 0 dram fabric 1 4K" 4 "only kernel allocations have a kind"
bad "alloc 0 dram - zz 4K" 4 "bad id 'zz'"
bad "alloc 0 dram - 1 4X" 4 "bad size '4X'"
bad "alloc 0 dram - 1 0" 4 "size must be greater than 0"
bad "alloc 0 dram - 1 99999999999999999999" 4 "bad size"
bad "alloc 0 dram - 0x1000 8K" 4 "already allocated with another size or kind (line 2)"
bad "free 0 dram 0x2000" 4 "not allocated at this point"
bad "free 0 l1 0x1000" 4 "not allocated at this point"
bad "free 0 dram" 4 "'free' takes 3 arguments"
bad "sleep" 4 "'sleep' takes 1 argument"
bad "sleep soon" 4 "bad sleep time 'soon'"

# a free after the last reference is gone (line 5 of this trace)
printf 'alloc 0 l1 - 7 1K\nalloc 0 l1 - 7 1K\nfree 0 l1 7\nfree 0 l1 7\nfree 0 l1 7\n' > "$T"
$RUN "$R" "$T" > /dev/null 2> "$TMP/r.err"
rc=$?
[ $rc -ne 0 ] && grep -q "^$T:5: free of l1 id 0x7 on device 0 that is not allocated" "$TMP/r.err"
ok $? "reference counting in the parser: the third free of a twice-allocated id is line 5"

# a malformed line late in a long trace: nothing is replayed
cp "$SRC/replay/traces/ttnn-single-device.trace" "$T"
echo "alloc 0 dram - 0xdead" >> "$T"
lines=$(wc -l < "$T")
TT_ALLOC_TRACKING_ENABLED=1 $RUN "$R" "$T" > "$TMP/r.out" 2> "$TMP/r.err"
rc=$?
[ $rc -ne 0 ] && grep -q "^$T:$lines: " "$TMP/r.err" && ! grep -q "libttalloc" "$TMP/r.err" &&
	! grep -q replayed "$TMP/r.out"
ok $? "error on the last line ($lines) of a long trace: reported before the device is even opened"

for t in "$SRC"/replay/traces/*.trace; do
	$RUN "$R" --check "$t" > "$TMP/r.out" 2>&1
	ok $? "shipped trace $(basename "$t") passes --check"
done

printf '# sizes\nalloc 0 dram - 1 1K\nalloc 0 dram - 2 1KiB\nalloc 0 dram - 3 2M\nalloc 0 dram - 4 1G\nalloc 0 dram - 5 0x10\nalloc 0 kernel 2 6 46k # inline comment\nalloc 0 6 fabric 7 56K\n\n  \t\nsleep 0\nfree 0 0 1\n' > "$T"
$RUN "$R" --check "$T" > "$TMP/r.out" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q "9 operations OK (7 allocs, 1 frees)" "$TMP/r.out"
ok $? "suffixes, hex, numeric types and kinds, inline comments, blank lines"

$RUN "$R" --check - < "$T" > "$TMP/r.out" 2>&1
ok $? "trace from standard input"

# no-op mode: tracking off -> success, nothing recorded, one note
$RUN "$R" "$T" > "$TMP/r.out" 2> "$TMP/r.err"
rc=$?
[ $rc -eq 0 ] && grep -q "replayed 8 operations" "$TMP/r.out" && grep -q "tracking is off" "$TMP/r.err"
ok $? "tracking disabled: replay succeeds as a no-op"

TT_ALLOC_TRACKING_ENABLED=1 $RUN "$R" -q --batch "$T" > "$TMP/r.out" 2> "$TMP/r.err"
rc=$?
[ $rc -eq 0 ] && [ "$(grep -c libttalloc "$TMP/r.err")" -eq 1 ] && [ ! -s "$TMP/r.out" ]
ok $? "TT_ALLOC_TRACKING_ENABLED=1 without a device: success, one libttalloc diagnostic, -q is quiet"

$RUN "$R" /nonexistent/trace > /dev/null 2> "$TMP/r.err"
rc=$?
[ $rc -ne 0 ] && grep -q "/nonexistent/trace: No such file" "$TMP/r.err"
ok $? "missing trace file"

$RUN "$R" --crash-after x "$T" > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "bad --crash-after is a usage error"

$RUN "$R" --version > "$TMP/r.out" 2>&1 && grep -q "^tt-alloc-replay $(cat "$SRC/../VERSION")$" "$TMP/r.out"
ok $? "--version prints the VERSION file's version"

rm -f "$T"
echo "1..$n"
[ $failed -eq 0 ]
