#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of tt-alloc-smi's owner columns (USER, CGROUP), --cgroup and
# the owner in JSON, on a fake 2-device tree (tests/host/fake-galaxy.sh)
# whose process rows carry "uid= cgroup=" and whose DIR/sys/fs/cgroup is a
# plain directory tree standing for the cgroup2 mount: a row's cgroup id is
# the inode number of its directory there, as on a real mount.
# Env: RUN, BIN, SRC, TMP. TAP.
set -u
n=0
failed=0
S="$BIN/tt-alloc-smi"
F=$TMP/owner.$$
X=$TMP/owner.$$.out
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

sh "$SRC/tests/host/fake-galaxy.sh" "$F" 2
C=$F/sys/fs/cgroup
docker=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
pod=1b2c3d4e_aaaa_bbbb_cccc_0123456789ab
mkdir -p "$C/system.slice/foo.service" "$C/system.slice/docker-$docker.scope" \
	"$C/user.slice/user-1000.slice/user@1000.service" \
	"$C/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$pod.slice"
ino() { stat -c %i "$C$1"; }
row() { # PID CLIENT UID CGROUP-PATH
	printf '%s %s 0 0 p%s 4096 0 0 0 0 0 0 1 0 0 0 0 0 0 uid=%s cgroup=%s\n' \
		"$1" "$2" "$1" "$3" "$(ino "$4")" >> "$F/dev/tt_alloc"
}
: > "$F/dev/tt_alloc"
row 101 1 0 /system.slice/foo.service
row 102 2 1000 /user.slice/user-1000.slice/user@1000.service
row 103 3 0 /system.slice/docker-$docker.scope
row 104 4 65534 /kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$pod.slice
row 105 5 0 /
# a cgroup gone since (an inode nowhere in the tree), and a row without an owner
printf '106 6 0 0 p106 4096 0 0 0 0 0 0 1 0 0 0 0 0 0 uid=7 cgroup=999999999\n' >> "$F/dev/tt_alloc"
printf '107 7 0 0 p107 4096 0 0 0 0 0 0 1 0 0 0 0 0 0\n' >> "$F/dev/tt_alloc"

$RUN "$S" --sysroot "$F" --csv -o PID,USER,CGROUP --sort PID > "$X" 2>&1
ok $? "--csv -o PID,USER,CGROUP exits 0"
exp=$(printf 'PID,USER,CGROUP\r\n101,0,/system.slice/foo.service\r\n102,1000,/user.slice/user-1000.slice/user@1000.service\r\n103,0,/system.slice/docker-%s.scope\r\n104,65534,/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod%s.slice\r\n105,0,/\r\n106,7,#999999999\r\n107,-,-\r' "$docker" "$pod")
[ "$(cat "$X")" = "$exp" ]
ok $? "CSV: the uid (numbers under --sysroot), the whole cgroup path, #ID unresolved, - unknown"
[ $? -eq 0 ] || sed 's/^/# /' "$X"

$RUN "$S" --sysroot "$F" -o PID,USER,CGROUP --sort PID > "$X" 2>&1
ok $? "text view with USER and CGROUP exits 0"
miss=0
for want in '101  *0  *foo\.service$' '102  *1000  *user@1000\.service$' \
	'103  *0  *0123456789ab$' '104  *65534  *pod:1b2c3d4e-aaaa-bbbb-cccc-0123456789ab$' \
	'105  *0  */$' '106  *7  *#999999999$' '107  *-  *-$'; do
	grep -q "^ *$want" "$X" || { echo "# missing: $want"; miss=1; }
done
ok "${miss:-0}" "text: short names: the unit, a container id cut to 12, pod:UID, / for the root"

$RUN "$S" --sysroot "$F" > "$X" 2>&1
grep -q '^ *PID  *USER  *CGROUP  *NAME  *DEV ' "$X"
ok $? "default text view has USER and CGROUP when the rows have an owner"

$RUN "$S" --sysroot "$F" --csv -o PID --cgroup /system.slice --sort PID > "$X" 2>&1
[ "$(tr -d '\r' < "$X" | tr '\n' ' ')" = "PID 101 103 " ]
ok $? "--cgroup /system.slice: its two rows only"
$RUN "$S" --sysroot "$F" --csv -o PID --cgroup /system.slice/foo.service/ > "$X" 2>&1
[ "$(tr -d '\r' < "$X" | tr '\n' ' ')" = "PID 101 " ]
ok $? "--cgroup with a trailing slash: the unit itself"
$RUN "$S" --sysroot "$F" --csv -o PID --cgroup / --sort PID > "$X" 2>&1
[ "$(tr -d '\r' < "$X" | tr '\n' ' ')" = "PID 101 102 103 104 105 " ]
ok $? "--cgroup /: every row whose cgroup is known"
$RUN "$S" --sysroot "$F" --csv -o PID --cgroup /system > "$X" 2>&1
[ $? -eq 2 ] && grep -q 'cgroup /system: no such cgroup' "$X"
ok $? "--cgroup of a missing cgroup: exit 2, says so"
$RUN "$S" --sysroot "$F" --cgroup system.slice > "$X" 2>&1
[ $? -eq 2 ] && grep -q 'starting with /' "$X"
ok $? "--cgroup relative: exit 2, says so"

$RUN "$S" --sysroot "$F" --json --cgroup /kubepods.slice > "$X" 2>/dev/null &&
	jq -e --arg p "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$pod.slice" \
		--argjson i "$(ino "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$pod.slice")" \
		'.processes | length == 1 and .[0].pid == 104 and .[0].uid == 65534 and .[0].cgroup == $p and .[0].cgroup_id == $i' "$X" > /dev/null
ok $? "--json: uid, cgroup_id and the whole path; --cgroup filters it too"
$RUN "$S" --sysroot "$F" --json > "$X" 2>/dev/null &&
	jq -e '[.processes[] | select(.pid >= 106)] | map([.uid, .cgroup_id, .cgroup]) == [[7, 999999999, null], [null, null, null]]' "$X" > /dev/null
ok $? "--json: an unresolved cgroup is null with its id; no owner: all null"

# Prometheus: per (cgroup, device) series, bounded like the per-process
# ones. A second file in foo.service (8 KiB) is summed with the first.
row 108 8 0 /system.slice/foo.service
sed -i 's/^108 8 0 0 p108 4096 /108 8 0 0 p108 8192 /' "$F/dev/tt_alloc"
$RUN "$S" --sysroot "$F" --prometheus > "$X" 2>&1 && promtool check metrics < "$X" > /dev/null 2>&1
ok $? "--prometheus with cgroup series: promtool check metrics accepts it"
grep -qx 'tt_alloc_cgroups 6' "$X" &&
	grep -qx 'tt_alloc_cgroup_used_bytes{cgroup="/system.slice/foo.service",device="0",type="dram"} 12288' "$X" &&
	grep -qx 'tt_alloc_cgroup_allocations{cgroup="/system.slice/foo.service",device="0",type="dram"} 2' "$X"
ok $? "one series per (cgroup, device), its files summed; rows without an owner left out"
grep -qx "tt_alloc_cgroup_used_bytes{cgroup=\"/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$pod.slice\",pod_uid=\"1b2c3d4e-aaaa-bbbb-cccc-0123456789ab\",device=\"0\",type=\"dram\"} 4096" "$X" &&
	grep -qx "tt_alloc_cgroup_used_bytes{cgroup=\"/system.slice/docker-$docker.scope\",container_id=\"0123456789ab\",device=\"0\",type=\"dram\"} 4096" "$X" &&
	grep -qx 'tt_alloc_cgroup_used_bytes{cgroup="#999999999",device="0",type="dram"} 4096' "$X"
ok $? "labels: pod_uid and container_id where the path shows them, #ID for an unresolved cgroup"
$RUN "$S" --sysroot "$F" --prometheus --prometheus-top 2 > "$X" 2>&1 &&
	[ "$(grep -c '^tt_alloc_cgroup_used_bytes{' "$X")" -eq 14 ] &&
	grep -qx 'tt_alloc_cgroup_other_cgroups 4' "$X" &&
	grep -qx 'tt_alloc_cgroup_other_used_bytes{type="dram"} 16384' "$X" &&
	grep -q '^tt_alloc_cgroup_used_bytes{cgroup="/system.slice/foo.service",device="0",type="dram"} 12288$' "$X" &&
	promtool check metrics < "$X" > /dev/null 2>&1
ok $? "--prometheus-top 2: the two biggest (cgroup, device) pairs, the other 4 summed"
printf 'tt_alloc/0/dram 16384\ntt_alloc/0/l1 max\ntt_alloc/1/dram 5\n' > "$C/system.slice/foo.service/dmem.max"
$RUN "$S" --sysroot "$F" --prometheus > "$X" 2>&1 &&
	[ "$(grep '^tt_alloc_cgroup_dmem_max_bytes' "$X")" = 'tt_alloc_cgroup_dmem_max_bytes{cgroup="/system.slice/foo.service",device="0",type="dram"} 16384' ] &&
	promtool check metrics < "$X" > /dev/null 2>&1
ok $? "dmem.max beside the use: the cgroup's own limit for its device, none for max"

[ -n "${KEEP:-}" ] || rm -rf "$F" "$X"
echo "1..$n"
[ "$failed" -eq 0 ]
