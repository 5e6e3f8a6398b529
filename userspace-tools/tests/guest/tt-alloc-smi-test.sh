#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of tt-alloc-smi (root, tt_alloc loaded with defaults): --json
# checked with jq against sysfs and a raw TT_ALLOC_IOC_USAGE for a replay
# held with --hold; the text view's process row; the Prometheus output;
# module absent; --load/--unload round trip, and without libkmod. TAP.
here=$(cd "$(dirname "$0")" && pwd)
BIN=$here/../bin
USAGE=$here/../lib/tt_alloc/tt-alloc-usage
SYS=/sys/class/tt_alloc
T=/tmp/smi-test.$$
mkdir -p $T
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }
wait_for() { # FILE PATTERN
	i=0
	while ! grep -q "$2" "$1" 2>/dev/null; do
		i=$((i + 1)); [ $i -gt 200 ] && return 1; sleep 0.05
	done
}

cat > $T/known.trace <<'TRACE'
# a known state: device 0 opened (system kernels), a model, one freed CB
alloc 0 kernel fabric 0x1000 56K
alloc 0 kernel fabric 0x2000 56K
alloc 0 kernel dispatch 0x3000 46K
alloc 0 kernel dispatch 0x4000 46K
alloc 0 dram - 0x10000000 64M
alloc 0 dram - 0x20000000 16M
alloc 0 l1 - 0x100 512K
alloc 0 l1_small - 0x200 32K
alloc 0 trace - 0x300 4M
alloc 0 cb - 0x400 64K
alloc 0 cb - 0x500 64K
free 0 cb 0x500
alloc 1 dram - 0x10000000 1M
TRACE

TT_ALLOC_TRACKING_ENABLED=1 $BIN/tt-alloc-replay --hold $T/known.trace > $T/hold.out 2>&1 &
pid=$!
wait_for $T/hold.out holding
ok $? "replay of a known trace is holding (pid $pid)"

$BIN/tt-alloc-smi --json > $T/smi.json 2> $T/smi.err
ok $? "tt-alloc-smi --json exits 0"
jq -e '.schema_version == 1 and .module.loaded and .processes_available' $T/smi.json > /dev/null
ok $? "valid JSON: schema_version 1, module loaded, processes available"
jq -e '.devices[] | select(.device == 0) | .memory |
	.dram.used_bytes == 83886080 and .dram.allocations == 2 and
	.l1.used_bytes == 524288 and .l1_small.used_bytes == 32768 and
	.trace.used_bytes == 4194304 and .cb.used_bytes == 65536 and .cb.allocations == 1 and
	.kernel.used_bytes == 208896 and .kernel.allocations == 4 and .kernel.system_bytes == 208896' $T/smi.json > /dev/null
ok $? "device 0 totals are the trace's (80 MiB DRAM, 204 KiB system kernels, ...)"
jq -e '.devices[] | select(.device == 1) | .memory.dram.used_bytes == 1048576' $T/smi.json > /dev/null
ok $? "device 1 holds 1 MiB DRAM"

# every number of devices 0 and 1 against sysfs and the raw ioctl
bad=""
for d in 0 1; do
	for t in dram l1 system l1_small trace cb kernel; do
		for f in used_bytes peak_bytes capacity_bytes allocations; do
			j=$(jq ".devices[] | select(.device == $d) | .memory.$t.$f" $T/smi.json)
			s=$(cat $SYS/device$d/$t/$f)
			[ "$j" = "$s" ] || bad="$bad dev$d/$t/$f:json=$j,sysfs=$s"
		done
	done
	for f in clients reclaimed_bytes reclaimed_allocations arch; do
		j=$(jq -r ".devices[] | select(.device == $d) | .$f" $T/smi.json)
		s=$(cat $SYS/device$d/$f)
		[ "$j" = "$s" ] || bad="$bad dev$d/$f:json=$j,sysfs=$s"
	done
	j=$(jq ".devices[] | select(.device == $d) | .memory.kernel.system_bytes" $T/smi.json)
	[ "$j" = "$(cat $SYS/device$d/kernel/system_bytes)" ] || bad="$bad dev$d/system_bytes"
done
[ -z "$bad" ]
ok $? "every JSON counter equals its sysfs file${bad:+:$bad}"

bad=""
for d in 0 1; do
	$USAGE $d > $T/usage.$d || bad="$bad usage$d-failed"
	while read -r t used allocs peak cap; do
		j=$(jq -c ".devices[] | select(.device == $d) | .memory.$t | [.used_bytes, .allocations, .peak_bytes, .capacity_bytes]" $T/smi.json)
		[ "$j" = "[$used,$allocs,$peak,$cap]" ] || bad="$bad dev$d/$t:json=$j,ioctl=[$used,$allocs,$peak,$cap]"
	done < $T/usage.$d
done
[ -z "$bad" ]
ok $? "every JSON counter equals TT_ALLOC_IOC_USAGE (device scope)${bad:+:$bad}"

jq -e --argjson p $pid '[.processes[] | select(.pid == $p and .name == "tt-alloc-replay" and .device == 0 and
	.used_bytes.dram == 83886080 and .used_bytes.kernel == 208896 and .used_bytes.l1 == 524288 and
	.allocations.kernel == 4 and .opener_exited == false)] | length == 1' $T/smi.json > /dev/null
ok $? "process row for pid $pid on device 0 with its bytes"
# Its cgroup's directory inode where cgroup2 is mounted, else the root's id, 1.
cg=1
if [ "$(stat -f -c %T /sys/fs/cgroup 2>/dev/null)" = cgroup2fs ]; then
	cg=$(stat -c %i "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/$pid/cgroup)")
fi
jq -e --argjson p $pid --argjson u "$(id -u)" --argjson cg "$cg" \
	'[.processes[] | select(.pid == $p and .uid == $u and .cgroup_id == $cg)] | length == 2' \
	$T/smi.json > /dev/null
ok $? "its rows say whose: uid $(id -u), cgroup id $cg"
jq -e --argjson p $pid '[.processes[] | select(.pid == $p and .device == 1 and .used_bytes.dram == 1048576)] | length == 1' $T/smi.json > /dev/null
ok $? "second row for the same process on device 1"

$BIN/tt-alloc-smi -v > $T/smi.txt 2>&1
rc=$?
grep -q "^ *$pid  *root  *[^ ]*  *tt-alloc-replay  *0  *80\.0 MiB  *512\.0 KiB  *32\.0 KiB  *4\.0 MiB  *64\.0 KiB  *204\.0 KiB" $T/smi.txt
ok $(( rc | $? )) "text view: process row with pid, user, cgroup, name and sizes"
grep -q "^ *0  *[a-z_0-9]*  *\[" $T/smi.txt && grep -q "(system kernels: 204\.0 KiB)" $T/smi.txt
r=$?
ok $r "text view: device 0 row and its breakdown"
[ $((rc | r)) -ne 0 ] && sed 's/^/# /' $T/smi.txt

$BIN/tt-alloc-smi --csv -o PID,NAME,DEV,DRAM,KERNELS --sort PID > $T/smi.csv
grep -qx "$(printf '%s\r' "$pid,tt-alloc-replay,0,83886080,208896")" $T/smi.csv &&
	grep -qx "$(printf '%s\r' "$pid,tt-alloc-replay,1,1048576,0")" $T/smi.csv
ok $? "--csv: the holder's rows from the real TT_ALLOC_IOC_CLIENTS, in bytes"

$BIN/tt-alloc-smi --prometheus > $T/smi.prom
grep -qx 'tt_alloc_used_bytes{device="0",type="dram"} 83886080' $T/smi.prom &&
	grep -q "^tt_alloc_process_used_bytes{pid=\"$pid\",comm=\"tt-alloc-replay\",device=\"0\",type=\"kernel\"} 208896$" $T/smi.prom
ok $? "--prometheus: device and process samples"

# Displaying needs no privilege: the same devices and process as uid 1000.
su -s /bin/sh tttest -c "$BIN/tt-alloc-smi --json" > $T/user.json 2> $T/user.err &&
	jq -e --slurpfile root $T/smi.json \
		".devices == \$root[0].devices and ([.processes[].pid] | index($pid)) != null" \
		$T/user.json > /dev/null
r=$?
ok $r "as an unprivileged user (uid 1000): same devices, the holder's process row"
if [ $r -ne 0 ]; then
	# what differs (a device's numbers that moved between the two runs?)
	jq -c '.devices[]' $T/smi.json > $T/root.dev
	jq -c '.devices[]' $T/user.json > $T/user.dev 2>&1
	diff $T/root.dev $T/user.dev | sed 's/^/# /' | head -20
fi
[ -s $T/user.err ] && sed 's/^/# /' $T/user.err

$BIN/tt-alloc-smi --json -d 1 > $T/d1.json && jq -e '[.devices[].device] == [1] and ([.processes[].device] | unique) == [1]' $T/d1.json > /dev/null
ok $? "-d 1 restricts devices and processes"

# The owner on the real kernel: a holder started in a cgroup of its own.
CG=/sys/fs/cgroup
[ "$(stat -f -c %T $CG 2>/dev/null)" = cgroup2fs ] || mount -t cgroup2 none $CG
mkdir -p $CG/tt-smi-test.service
printf 'alloc 0 dram - 0x1 1M\n' > $T/cg.trace
sh -c "echo \$\$ > $CG/tt-smi-test.service/cgroup.procs &&
	TT_ALLOC_TRACKING_ENABLED=1 exec $BIN/tt-alloc-replay --hold $T/cg.trace" > $T/cg.out 2>&1 &
cgpid=$!
wait_for $T/cg.out holding
$BIN/tt-alloc-smi --csv -o PID,USER,CGROUP --cgroup /tt-smi-test.service > $T/cg.csv 2>&1
[ "$(tr -d '\r' < $T/cg.csv | tr '\n' ' ')" = "PID,USER,CGROUP $cgpid,root,/tt-smi-test.service " ]
r=$?
ok $r "--cgroup on the real kernel: only the holder of /tt-smi-test.service, its user and path"
[ $r -ne 0 ] && sed 's/^/# /' $T/cg.csv $T/cg.out
$BIN/tt-alloc-smi -o PID,CGROUP > $T/cg.txt 2>&1
grep -q "^ *$cgpid  *tt-smi-test\.service *$" $T/cg.txt && grep -q "^ *$pid  */ *$" $T/cg.txt
ok $? "CGROUP column: the unit's name for it, / for the holder in the root cgroup"
kill $cgpid
wait $cgpid
rmdir $CG/tt-smi-test.service

kill -TERM $pid
wait $pid
ok $? "holder exits 0 on SIGTERM"
$BIN/tt-alloc-smi --json > $T/smi.json
jq -e --argjson p $pid '([.devices[].memory[].used_bytes] | add) == 0 and ([.processes[] | select(.pid == $p)] | length) == 0' $T/smi.json > /dev/null
ok $? "after it exits: nothing used, no row for it"

# module absent
rmmod tt_alloc
$BIN/tt-alloc-smi > $T/smi.txt 2> $T/smi.err
rc=$?
[ $rc -ne 0 ] && grep -q "^tt_alloc module is not loaded; load it with: " $T/smi.err
ok $? "module absent: non-zero exit and the plain message"
$BIN/tt-alloc-smi --json > $T/smi.json 2>/dev/null
[ $? -ne 0 ] && jq -e '.module.loaded == false' $T/smi.json > /dev/null
ok $? "module absent: --json says loaded false"
$BIN/tt-alloc-smi --unload > /dev/null 2> $T/smi.err
[ $? -ne 0 ] && grep -q "not loaded" $T/smi.err
ok $? "--unload when not loaded fails plainly"

# --load / --unload through libkmod, which the smi opens only for them
# without libkmod: /dev/null bound over every copy, in a private mount namespace
unshare -m sh -c 'for l in $(find / -xdev -name "libkmod.so.2*" 2>/dev/null); do
	mount --bind /dev/null "$l" || exit 3; done; exec "$0" --load' $BIN/tt-alloc-smi > /dev/null 2> $T/load.err
[ $? -ne 0 ] && grep -q "need libkmod (Debian package libkmod2)" $T/load.err && [ ! -d /sys/module/tt_alloc ]
ok $? "--load without libkmod: fails with a clear message ($(cat $T/load.err))"
$BIN/tt-alloc-smi --load --devices 3 --arch wormhole_b0,blackhole,wormhole_b0 > $T/load.out 2>&1
rc=$?
[ $rc -eq 0 ] && [ -d /sys/module/tt_alloc ] && [ "$(cat /sys/module/tt_alloc/parameters/devices)" = 3 ]
ok $? "--load --devices 3 --arch ...: module loaded with devices=3 ($(cat $T/load.out))"
$BIN/tt-alloc-smi --json > $T/smi.json
jq -e '.module.parameters.devices == 3 and (.devices | length) == 3 and .devices[1].arch == "blackhole" and
	.devices[0].arch == "wormhole_b0" and .devices[0].memory.dram.capacity_bytes > 0 and
	.module.version != "" and .module.refcount == 0' $T/smi.json > /dev/null
ok $? "smi sees 3 devices with their arch and capacities, version and refcount"
$BIN/tt-alloc-smi > $T/smi.txt && grep -q "^ *1  *blackhole" $T/smi.txt && grep -q "No process is recording allocations" $T/smi.txt
ok $? "text view lists the loaded devices, no process"
$BIN/tt-alloc-smi --load --devices 2 > $T/load.out 2>&1
[ $? -ne 0 ] && grep -q "already loaded" $T/load.out
ok $? "--load with parameters while loaded: refused"
$BIN/tt-alloc-smi --unload > $T/unload.out 2>&1
[ $? -eq 0 ] && [ ! -d /sys/module/tt_alloc ]
ok $? "--unload removes the module"
$BIN/tt-alloc-smi > /dev/null 2>&1
[ $? -ne 0 ]
ok $? "and the smi reports it absent again"

# leave the module as the suite runner expects it (loaded, defaults)
modprobe tt_alloc
rm -rf $T
echo "1..$n"
[ $failed -eq 0 ]
