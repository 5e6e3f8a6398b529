#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-smi's output formats from a fake sysfs tree
# (--sysroot) with no kernel module and no device node. Env: RUN (wrapper such as valgrind), BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/fake.$$
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

mkdir -p "$F/sys/module/tt_alloc/parameters"
echo 0.1.0 > "$F/sys/module/tt_alloc/version"; echo live > "$F/sys/module/tt_alloc/initstate"; echo 3 > "$F/sys/module/tt_alloc/refcnt"
echo 3 > "$F/sys/module/tt_alloc/parameters/devices"
echo wormhole_b0,wormhole_b0,blackhole > "$F/sys/module/tt_alloc/parameters/arch"
echo 1000 > "$F/sys/module/tt_alloc/parameters/sweep_interval_ms"
echo 65536 > "$F/sys/module/tt_alloc/parameters/max_allocations_per_file"
echo N > "$F/sys/module/tt_alloc/parameters/enforce_capacity"
for d in 0 1 2; do
	D=$F/sys/class/tt_alloc/device$d
	for t in dram l1 system l1_small trace cb kernel; do
		mkdir -p "$D/$t"
		for f in used_bytes peak_bytes capacity_bytes allocations; do echo 0 > "$D/$t/$f"; done
	done
	echo wormhole_b0 > "$D/arch"; echo 0 > "$D/clients"
	echo 0 > "$D/reclaimed_bytes"; echo 0 > "$D/reclaimed_allocations"; echo 0 > "$D/kernel/system_bytes"
done
# device 0: a model is loaded
D=$F/sys/class/tt_alloc/device0
echo 12884901888 > "$D/dram/capacity_bytes"; echo 1610612736 > "$D/dram/used_bytes"
echo 2147483648 > "$D/dram/peak_bytes"; echo 42 > "$D/dram/allocations"
echo 108003328 > "$D/l1/capacity_bytes"; echo 5242880 > "$D/l1/used_bytes"; echo 3 > "$D/l1/allocations"
echo 32768 > "$D/l1_small/used_bytes"; echo 1 > "$D/l1_small/allocations"
echo 20971520 > "$D/trace/used_bytes"; echo 2 > "$D/trace/allocations"
echo 1023 > "$D/cb/used_bytes"; echo 1 > "$D/cb/allocations"
echo 208896 > "$D/kernel/used_bytes"; echo 4 > "$D/kernel/allocations"; echo 208896 > "$D/kernel/system_bytes"
echo 2 > "$D/clients"; echo 15938355 > "$D/reclaimed_bytes"; echo 17 > "$D/reclaimed_allocations"
# device 1: capacity, no use; device 2: nothing at all, odd arch string
echo 12884901888 > "$F/sys/class/tt_alloc/device1/dram/capacity_bytes"
printf 'weird"arch\\\n' > "$F/sys/class/tt_alloc/device2/arch"
mkdir -p "$F/sys/class/tt_alloc/not-a-device"

J=$TMP/smi.json

$RUN "$S" --sysroot "$F" --json > "$J" 2> "$TMP/s.err"
ok $? "--json exits 0"
jq -e . "$J" > /dev/null 2>&1
ok $? "--json is valid JSON"
jq -e '.schema_version == 1 and .tool.name == "tt-alloc-smi" and (.timestamp | type) == "number"' "$J" > /dev/null
ok $? "schema_version 1, tool, timestamp"
jq -e '.module.loaded and .module.version == "0.1.0" and .module.refcount == 3 and .module.state == "live"' "$J" > /dev/null
ok $? "module: loaded, version, refcount, state"
jq -e '.module.parameters == {"arch":"wormhole_b0,wormhole_b0,blackhole","devices":3,"enforce_capacity":false,"max_allocations_per_file":65536,"sweep_interval_ms":1000}' "$J" > /dev/null
ok $? "module parameters typed (numbers, booleans, strings)"
jq -e '[.devices[].device] == [0,1,2]' "$J" > /dev/null
ok $? "all three devices in order (json never hides devices), non-device entries ignored"
jq -e '.devices[0] | .arch == "wormhole_b0" and .clients == 2 and .reclaimed_bytes == 15938355 and .reclaimed_allocations == 17' "$J" > /dev/null
ok $? "device 0: arch, clients, reclaimed counters"
jq -e '.devices[0].memory | .dram == {"used_bytes":1610612736,"peak_bytes":2147483648,"capacity_bytes":12884901888,"allocations":42} and .kernel.system_bytes == 208896 and .kernel.used_bytes == 208896 and .l1_small.used_bytes == 32768 and .trace.allocations == 2 and .cb.used_bytes == 1023' "$J" > /dev/null
ok $? "device 0 memory values match the sysfs tree"
jq -e '.devices[0].memory | keys == ["cb","dram","kernel","l1","l1_small","system","trace"]' "$J" > /dev/null
ok $? "every memory type present"
jq -e '.devices[2].arch == "weird\"arch\\"' "$J" > /dev/null
ok $? "strings are JSON-escaped"
jq -e '.processes_available == false and .processes == []' "$J" > /dev/null
ok $? "no device node: processes_available false, empty list"
$RUN "$S" --sysroot "$F" --json -d 1 > "$J" 2>/dev/null && jq -e '[.devices[].device] == [1]' "$J" > /dev/null
ok $? "--json -d 1: one device"

P=$TMP/smi.prom
$RUN "$S" --sysroot "$F" --prometheus > "$P" 2> "$TMP/s.err"
ok $? "--prometheus exits 0"
grep -qx 'tt_alloc_used_bytes{device="0",type="dram"} 1610612736' "$P"
ok $? "tt_alloc_used_bytes{device=\"0\",type=\"dram\"}"
grep -qx 'tt_alloc_kernel_system_bytes{device="0"} 208896' "$P" &&
	grep -qx 'tt_alloc_reclaimed_bytes_total{device="0"} 15938355' "$P" &&
	grep -qx 'tt_alloc_capacity_bytes{device="1",type="dram"} 12884901888' "$P" &&
	grep -qx 'tt_alloc_module_loaded 1' "$P"
ok $? "system kernels, reclaimed counter, capacity, module_loaded samples"
grep -qx '# TYPE tt_alloc_reclaimed_bytes_total counter' "$P" && grep -qx '# TYPE tt_alloc_used_bytes gauge' "$P"
ok $? "TYPE lines"
bad=$(grep -v '^# \(HELP\|TYPE\) tt_alloc_[a-z_]* ' "$P" | grep -v '^tt_alloc_[a-z_]*\({[a-z_]*="\([^"\\]\|\\.\)*"\(,[a-z_]*="\([^"\\]\|\\.\)*"\)*}\)\? [0-9][0-9]*$' | head -3)
[ -z "$bad" ]
ok $? "every line is HELP, TYPE or a valid sample ${bad:+(bad: $bad)}"
dup=$(grep '^# TYPE' "$P" | awk '{print $3}' | sort | uniq -d)
helpn=$(grep -c '^# HELP' "$P"); typen=$(grep -c '^# TYPE' "$P")
[ -z "$dup" ] && [ "$helpn" -eq "$typen" ]
ok $? "one HELP and one TYPE per metric"
order_ok=$(awk '/^# TYPE/{cur=$3; seen[cur]++; next} /^#/{next} {split($0,a,/[{ ]/); if (a[1]!=cur) bad=1} END{print bad?1:0}' "$P")
[ "$order_ok" -eq 0 ]
ok $? "samples grouped under their metric's TYPE line"
grep -qx 'tt_alloc_device_info{device="2",arch="weird\\"arch\\\\"} 1' "$P"
ok $? "label values escaped"

X=$TMP/smi.txt
$RUN "$S" --sysroot "$F" > "$X" 2> "$TMP/s.err"
ok $? "text view exits 0"
grep -q '^ *0  *wormhole_b0  *\[#.*\]  *1\.5 GiB /  *12\.0 GiB  *12%' "$X"
ok $? "device row with DRAM bar, human units and percentage"
grep -q '5\.0 MiB /  *103\.0 MiB' "$X"
ok $? "L1 used / capacity"
! grep -q 'memory breakdown' "$X"
ok $? "no per-device breakdown without -v"
$RUN "$S" --sysroot "$F" -v > "$X" 2>/dev/null
grep -q 'KERNELS  *204\.0 KiB .*(system kernels: 204\.0 KiB)' "$X" && grep -q 'CB  *1023 B' "$X" &&
	grep -q 'L1_SMALL  *32\.0 KiB' "$X" && grep -q 'TRACE  *20\.0 MiB' "$X" &&
	grep -q 'Reclaimed from released files: 15\.2 MiB in 17 allocations' "$X"
ok $? "breakdown: DRAM, L1, L1_SMALL, TRACE, CB, kernels with the system part, reclaimed"
$RUN "$S" --sysroot "$F" > "$X" 2>/dev/null
grep -q '^ *1  *wormhole_b0' "$X" && ! grep -q '^ *2 ' "$X" && grep -q '1 device with no capacity and no use hidden; -a shows all' "$X"
ok $? "device with no capacity and no use hidden"
$RUN "$S" --sysroot "$F" -a > "$X" 2>/dev/null && grep -q '^ *2  *weird"arch' "$X" && grep -q 'no capacity' "$X"
ok $? "-a shows it"
$RUN "$S" --sysroot "$F" -d 1 > "$X" 2>/dev/null && grep -q '^ *1  *wormhole_b0' "$X" && ! grep -q '^ *0  *wormhole' "$X" &&
	grep -q 'Device 1 (wormhole_b0) memory breakdown' "$X" && ! grep -q 'Device 0 ' "$X"
ok $? "-d 1 shows device 1 only, with its breakdown"
$RUN "$S" --sysroot "$F" -d 7 > /dev/null 2> "$TMP/s.err"
[ $? -ne 0 ] && grep -q 'device 7 does not exist' "$TMP/s.err"
ok $? "-d 7: error"
$RUN "$S" --sysroot "$F" > "$X" 2>/dev/null; grep -q "process list unavailable: $F/dev/tt_alloc: No such file" "$X"
ok $? "process table explains why it is unavailable"

$RUN "$S" --sysroot "$TMP/nonexistent" > "$X" 2> "$TMP/s.err"
rc=$?
[ $rc -ne 0 ] && grep -q '^tt_alloc module is not loaded; load it with: ' "$TMP/s.err"
ok $? "module not loaded: non-zero exit and the plain message"
$RUN "$S" --sysroot "$TMP/nonexistent" --json > "$J" 2>/dev/null
rc=$?
[ $rc -ne 0 ] && jq -e '.module.loaded == false and .devices == []' "$J" > /dev/null
ok $? "module not loaded: --json says loaded false, exits non-zero"
$RUN "$S" --sysroot "$TMP/nonexistent" --prometheus > "$P" 2>/dev/null
[ $? -ne 0 ] && grep -qx 'tt_alloc_module_loaded 0' "$P"
ok $? "module not loaded: --prometheus tt_alloc_module_loaded 0"

# without sysfs and without a device node: no device, still a clean view
mkdir -p "$F.noclass/sys/module" && ln -sfn "$F/sys/module/tt_alloc" "$F.noclass/sys/module/tt_alloc"
$RUN "$S" --sysroot "$F.noclass" > "$X" 2>/dev/null && grep -q 'no device to show' "$X"
ok $? "no sysfs tree: empty device table"
$RUN "$S" --sysroot "$F/" --json > "$J" 2>/dev/null && jq -e '[.devices[].device] == [0,1,2]' "$J" > /dev/null
ok $? "--sysroot DIR/ is DIR"
$RUN "$S" --sysroot "" > /dev/null 2> "$TMP/s.err"
[ $? -eq 2 ] && grep -q "bad --sysroot ''" "$TMP/s.err"
ok $? "--sysroot '': usage error"
$RUN "$S" --sysroot "$F" --load > /dev/null 2> "$TMP/s.err"
[ $? -eq 2 ] && grep -q -- '--sysroot does not go with --load' "$TMP/s.err"
ok $? "--sysroot --load: usage error (libkmod works on the running kernel only)"

$RUN "$S" --sysroot "$F" --help > "$X" 2>&1 && grep -q -- '--prometheus' "$X"
ok $? "--help"
$RUN "$S" --sysroot "$F" --version > "$X" 2>&1 && grep -q "^tt-alloc-smi $(cat "$SRC/../VERSION") " "$X"
ok $? "--version prints the VERSION file's version"
$RUN "$S" --sysroot "$F" --json --prometheus > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "conflicting options: usage error"
$RUN "$S" --sysroot "$F" --devices 2 > /dev/null 2>&1
[ $? -eq 2 ]
ok $? "--devices without --load: usage error"

rm -rf "$F" "$F.noclass"
echo "1..$n"
[ $failed -eq 0 ]
