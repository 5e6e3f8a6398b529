#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of the smi's CHIP column and "chip" JSON field (deviceN/chip,
# set by chips=) from fake sysfs trees (--sysroot): a module naming chips,
# and an older module without the attribute. Env: RUN, BIN, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/chip.$$
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

# fake ROOT CHIP...: one tracked device per CHIP; "none": no chip attribute
fake() {
	root=$1; shift
	mkdir -p "$root/sys/module/tt_alloc/parameters"
	echo 0.1.0 > "$root/sys/module/tt_alloc/version"; echo live > "$root/sys/module/tt_alloc/initstate"
	echo 0 > "$root/sys/module/tt_alloc/refcnt"; echo $# > "$root/sys/module/tt_alloc/parameters/devices"
	d=0
	for c in "$@"; do
		D=$root/sys/class/tt_alloc/device$d
		for t in dram l1 system l1_small trace cb kernel; do
			mkdir -p "$D/$t"
			for f in used_bytes peak_bytes capacity_bytes allocations; do echo 0 > "$D/$t/$f"; done
		done
		echo wormhole_b0 > "$D/arch"; echo 0 > "$D/clients"; echo 0 > "$D/kernel/system_bytes"
		echo 0 > "$D/reclaimed_bytes"; echo 0 > "$D/reclaimed_allocations"
		case $c in
		none) ;;
		empty) echo > "$D/chip" ;;
		*) echo "$c" > "$D/chip" ;;
		esac
		d=$((d + 1))
	done
}

fake "$F/n300" 0000:01:00.0/0 0000:01:00.0/1 empty
fake "$F/old" none none

# shown NAME ROOT: the JSON document and the table (-a: the idle devices too)
shown() {
	$RUN "$S" --sysroot "$2" --json > "$TMP/chip.json" 2> "$TMP/chip.err"
	ok $? "$1: --json exits 0"
	$RUN "$S" --sysroot "$2" -a > "$TMP/chip.txt" 2> "$TMP/chip.err"
	ok $? "$1: table exits 0"
}

shown "chips named" "$F/n300"
jq -e '[.devices[].chip] == ["0000:01:00.0/0","0000:01:00.0/1",null]' "$TMP/chip.json" > /dev/null
ok $? "json: each device's chip, null for an empty attribute"
grep -q '^ *DEV  *CHIP ' "$TMP/chip.txt"
ok $? "table: CHIP column after DEV"
grep -Eq '^ *0 +0000:01:00\.0/0 ' "$TMP/chip.txt" && grep -Eq '^ *1 +0000:01:00\.0/1 ' "$TMP/chip.txt" &&
	grep -Eq '^ *2 +- ' "$TMP/chip.txt"
ok $? "table: each device's chip, - for none"

shown "older module" "$F/old"
jq -e '[.devices[].chip] == [null,null]' "$TMP/chip.json" > /dev/null
ok $? "json: chip null without the attribute"
grep -q '^ *DEV ' "$TMP/chip.txt" && ! grep -q 'CHIP' "$TMP/chip.txt"
ok $? "table: no CHIP column when no device names a chip"

rm -rf "$F"
echo "1..$n"
[ $failed -eq 0 ]
