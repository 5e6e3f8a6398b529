#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-smi's Prometheus output on a fake 32-chip Galaxy
# (tests/host/fake-galaxy.sh): promtool check metrics accepts it, the
# per-process series are bounded, comm bytes are escaped, --prometheus-file
# replaces the file atomically, and the real node_exporter textfile
# collector serves the metrics. Env: RUN, BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/galaxy.prom.$$
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

sh "$SRC/tests/host/fake-galaxy.sh" "$F"
# a comm with a quote, a backslash, a newline, a byte that is not UTF-8,
# valid UTF-8 (e acute) and a cut-off sequence
printf '7 9 3 0 a"b\\x5cc\\x0ad\\xff\\xc3\\xa9\\xe2\\x82 999999999999 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"
P=$TMP/smi.$$.prom

$RUN "$S" --sysroot "$F" --prometheus > "$P" 2> "$TMP/p.err"
ok $? "--prometheus exits 0"
promtool check metrics < "$P" > "$TMP/promtool.out" 2>&1
rc=$?
ok $rc "promtool check metrics accepts the Galaxy exposition"
[ $rc -ne 0 ] && sed 's/^/# /' "$TMP/promtool.out" | head -10
[ "$(grep -c '^tt_alloc_used_bytes{' "$P")" -eq $((32 * 7)) ]
ok $? "per-device series for all 32 devices and 7 memory types"

# default top 10 (process, device) pairs: 10 x 7 types
[ "$(grep -c '^tt_alloc_process_used_bytes{' "$P")" -eq 70 ]
ok $? "default: 10 per-process pairs with their own series"
nrows=$(grep -vc '^#' "$F/dev/tt_alloc")
grep -qx "tt_alloc_processes $((nrows - 1))" "$P" &&
	grep -qx "tt_alloc_process_other_processes $((nrows - 1 - 10))" "$P"
ok $? "tt_alloc_processes counts every pair ($((nrows - 1))), the rest are counted as other"
grep -q '^tt_alloc_process_used_bytes{pid="7",comm=.*device="3",type="dram"} 999999999999$' "$P"
ok $? "the biggest pair comes first"

$RUN "$S" --sysroot "$F" --prometheus --prometheus-top 3 > "$P" 2>/dev/null
[ "$(grep -c '^tt_alloc_process_used_bytes{' "$P")" -eq 21 ] &&
	[ "$(grep '^tt_alloc_process_used_bytes{' "$P" | sed 's/.*pid="\([0-9]*\)".*device="\([0-9]*\)".*/\1-\2/' | sort -u | wc -l)" -eq 3 ]
ok $? "--prometheus-top 3: three pairs, seven series each"
all=$(awk '!/^#/ && $3 != "-" {s += $6} END {printf "%.0f", s}' "$F/dev/tt_alloc")
top=$(awk '/^tt_alloc_process_used_bytes\{.*type="dram"/ {s += $2} END {printf "%.0f", s}' "$P")
other=$(awk '/^tt_alloc_process_other_used_bytes\{type="dram"\}/ {printf "%.0f", $2}' "$P")
[ -n "$other" ] && [ $((top + other)) -eq "$all" ]
ok $? "top + other DRAM equals the sum of every row (top $top + other $other = $all)"
$RUN "$S" --sysroot "$F" --prometheus --prometheus-top 0 | promtool check metrics > /dev/null 2>&1 &&
	! $RUN "$S" --sysroot "$F" --prometheus --prometheus-top 0 | grep -q '^tt_alloc_process_used_bytes{'
ok $? "--prometheus-top 0: no per-process series, still valid"
$RUN "$S" --sysroot "$F" --prometheus-top x > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "--prometheus-top x: usage error"

$RUN "$S" --sysroot "$F" --prometheus > "$P" 2>/dev/null
want=$(printf '%s\357\277\275\303\251\357\277\275\357\277\275%s' \
	'tt_alloc_process_used_bytes{pid="7",comm="a\"b\\c\nd' '",device="3",type="dram"} 999999999999')
grep -qxF "$want" "$P"
ok $? "comm escaped (quote, backslash, newline), non-UTF-8 bytes as U+FFFD, UTF-8 kept"

$RUN "$S" --sysroot "$F" -d 5 --prometheus > "$P" 2>/dev/null &&
	[ "$(grep '^tt_alloc_used_bytes{' "$P" | grep -vc 'device="5"')" -eq 0 ] &&
	promtool check metrics < "$P" > /dev/null 2>&1
ok $? "-d 5 --prometheus: device 5 only, valid"

# two open files of one process on one device: one series, summed
# the same sysfs with another process list
F2=$F.2
mkdir -p "$F2/dev" && ln -sfn "$F/sys" "$F2/sys"
cp "$F/dev/tt_alloc" "$F2/dev/tt_alloc"
echo "4242 77 5 0 python3 1000 0 0 0 0 0 0 1 0 0 0 0 0 0" >> "$F2/dev/tt_alloc"
$RUN "$S" --sysroot "$F2" --prometheus --prometheus-top 1000 > "$P" 2>/dev/null
[ "$(grep -c '^tt_alloc_process_used_bytes{pid="4242",comm="python3",device="5",type="dram"} ' "$P")" -eq 1 ] &&
	grep -qx 'tt_alloc_process_used_bytes{pid="4242",comm="python3",device="5",type="dram"} 4031775720' "$P" &&
	grep -qx 'tt_alloc_process_allocations{pid="4242",comm="python3",device="5",type="dram"} 44' "$P" &&
	promtool check metrics < "$P" > /dev/null 2>&1
ok $? "two files of one process on one device: one series with the sum, valid"

# module absent
$RUN "$S" --sysroot "$TMP/nonexistent" --prometheus > "$P" 2>/dev/null
grep -qx 'tt_alloc_module_loaded 0' "$P" && promtool check metrics < "$P" > /dev/null 2>&1
ok $? "module absent: tt_alloc_module_loaded 0, valid"

# --prometheus-file
D=$TMP/textfile.$$
mkdir -p "$D"
$RUN "$S" --sysroot "$F" --prometheus-file "$D/tt_alloc.prom" 2> "$TMP/p.err"
ok $? "--prometheus-file exits 0"
promtool check metrics < "$D/tt_alloc.prom" > /dev/null 2>&1 && grep -qx 'tt_alloc_module_loaded 1' "$D/tt_alloc.prom"
ok $? "the file is a valid exposition"
[ "$(ls -A "$D")" = tt_alloc.prom ]
ok $? "no temporary file left behind"
[ "$(stat -c %a "$D/tt_alloc.prom")" = 644 ]
ok $? "mode 0644 (node_exporter reads it as another user)"
ino=$(stat -c %i "$D/tt_alloc.prom")
$RUN "$S" --sysroot "$TMP/nonexistent" --prometheus-file "$D/tt_alloc.prom" 2> "$TMP/p.err"
rc=$?
[ $rc -eq 0 ] && grep -qx 'tt_alloc_module_loaded 0' "$D/tt_alloc.prom" &&
	! grep -q '^tt_alloc_used_bytes' "$D/tt_alloc.prom" && grep -q 'not loaded' "$TMP/p.err"
ok $? "module absent: the file now says tt_alloc_module_loaded 0, nothing stale"
[ "$(stat -c %i "$D/tt_alloc.prom")" != "$ino" ]
ok $? "replaced by rename (a new inode), not rewritten in place"
$RUN "$S" --sysroot "$F" --prometheus-file "$TMP/nonexistent/dir/x.prom" 2> "$TMP/p.err"
[ $? -eq 1 ] && grep -q 'writing .*x.prom' "$TMP/p.err"
ok $? "unwritable directory: exit 1 and says so"
$RUN "$S" --sysroot "$F" --prometheus-file "$D/tt_alloc.prom" -w 0.1 --count 3 2> "$TMP/p.err"
[ $? -eq 0 ] && grep -qx 'tt_alloc_module_loaded 1' "$D/tt_alloc.prom" && [ "$(ls -A "$D")" = tt_alloc.prom ]
ok $? "--prometheus-file with -w --count 3: rewritten each interval"

# the real textfile collector
NE=$(command -v prometheus-node-exporter || command -v node_exporter)
if [ -z "$NE" ]; then
	ok 1 "prometheus-node-exporter is not installed (make deps)"
else
	port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	$RUN "$S" --sysroot "$F" --prometheus-file "$D/tt_alloc.prom" 2>/dev/null
	timeout 60 "$NE" --web.listen-address="127.0.0.1:$port" --collector.disable-defaults \
		--collector.textfile --collector.textfile.directory="$D" \
		> "$TMP/ne.log" 2>&1 &
	ne=$!
	M=$TMP/metrics.$$
	i=0
	while ! curl -sf "http://127.0.0.1:$port/metrics" > "$M" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 100 ] && break; sleep 0.1
	done
	grep -qx 'tt_alloc_used_bytes{device="0",type="dram"} 9.663676416e+09' "$M" &&
		grep -qx 'tt_alloc_module_loaded 1' "$M" &&
		grep -q '^tt_alloc_process_used_bytes{comm="a\\"b' "$M" &&
		grep -qx 'node_textfile_scrape_error 0' "$M"
	ok $? "node_exporter on 127.0.0.1 serves the metrics, no scrape error"
	echo "# node_exporter listened on 127.0.0.1:$port"
	$RUN "$S" --sysroot "$TMP/nonexistent" --prometheus-file "$D/tt_alloc.prom" 2>/dev/null
	curl -sf "http://127.0.0.1:$port/metrics" > "$M" 2>/dev/null
	grep -qx 'tt_alloc_module_loaded 0' "$M" && ! grep -q '^tt_alloc_used_bytes' "$M"
	ok $? "after an unload node_exporter serves tt_alloc_module_loaded 0 and no stale series"
	kill "$ne" 2>/dev/null
	wait "$ne" 2>/dev/null
	[ -s "$TMP/ne.log" ] && grep -i 'level=error' "$TMP/ne.log" | sed 's/^/# node_exporter: /' | head -5
	rm -f "$M"
fi

rm -rf "$F" "$F.2" "$D" "$P"
echo "1..$n"
[ $failed -eq 0 ]
