#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Write the sysroot of a fake 32-chip Galaxy for tt-alloc-smi --sysroot:
# DIR/sys/module/tt_alloc, DIR/sys/class/tt_alloc and the process list
# DIR/dev/tt_alloc (a regular file, format in tt-alloc-smi(8)). Used by the
# host tests, the bench and to make the sample output of the documentation:
#   sh tests/host/fake-galaxy.sh DIR [NDEV]
#   tt-alloc-smi --sysroot DIR
set -eu
R=$1
N=${2:-32}
F=$R/sys
rm -rf "$R"
mkdir -p "$F/module/tt_alloc/parameters" "$F/class/tt_alloc" "$R/dev"
echo 0.1.0 > "$F/module/tt_alloc/version"; echo live > "$F/module/tt_alloc/initstate"; echo 4 > "$F/module/tt_alloc/refcnt"
echo "$N" > "$F/module/tt_alloc/parameters/devices"
echo wormhole_b0 > "$F/module/tt_alloc/parameters/arch"
echo 1000 > "$F/module/tt_alloc/parameters/sweep_interval_ms"
echo 65536 > "$F/module/tt_alloc/parameters/max_allocations_per_file"
echo N > "$F/module/tt_alloc/parameters/enforce_capacity"
: > "$R/dev/tt_alloc"
d=0
while [ $d -lt "$N" ]; do
	D=$F/class/tt_alloc/device$d
	for t in dram l1 system l1_small trace cb kernel; do
		mkdir -p "$D/$t"
		for f in used_bytes peak_bytes capacity_bytes allocations; do echo 0 > "$D/$t/$f"; done
	done
	echo wormhole_b0 > "$D/arch"
	echo 0 > "$D/reclaimed_bytes"; echo 0 > "$D/reclaimed_allocations"
	# the model: 1-9 GiB of DRAM per chip, more on the first ones
	dram=$(( (9 - d % 9) * 1073741824 + d * 1048576 ))
	l1=$(( (d % 7 + 1) * 5242880 ))
	echo 12884901888 > "$D/dram/capacity_bytes"; echo $dram > "$D/dram/used_bytes"
	echo $dram > "$D/dram/peak_bytes"; echo $((40 + d)) > "$D/dram/allocations"
	echo 108003328 > "$D/l1/capacity_bytes"; echo $l1 > "$D/l1/used_bytes"; echo 3 > "$D/l1/allocations"
	echo 208896 > "$D/kernel/used_bytes"; echo 4 > "$D/kernel/allocations"; echo 208896 > "$D/kernel/system_bytes"
	echo 20971520 > "$D/trace/used_bytes"; echo 2 > "$D/trace/allocations"
	clients=1
	# PID CLIENT DEVICE EXITED COMM used(dram l1 system l1_small trace cb kernel) allocs(same)
	echo "4242 1 $d 0 python3 $((dram - 268435456)) $l1 0 32768 20971520 65536 208896 $((38 + d)) 3 0 1 2 1 4" >> "$R/dev/tt_alloc"
	if [ $((d % 4)) -eq 0 ]; then
		clients=2
		echo "$((5000 + d)) $((100 + d)) $d 0 pytest 268435456 0 0 0 0 0 0 2 0 0 0 0 0 0" >> "$R/dev/tt_alloc"
	fi
	echo $clients > "$D/clients"
	d=$((d + 1))
done
echo "6100 300 - 0 tt-alloc-smi 0 0 0 0 0 0 0 0 0 0 0 0 0 0" >> "$R/dev/tt_alloc"
