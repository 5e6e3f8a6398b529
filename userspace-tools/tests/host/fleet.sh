#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# The fleet path end to end, on 127.0.0.1 only: tt-alloc-smi
# --prometheus-file on a fake 2-device tree with owners and a cgroup tree
# (as test-smi-owner.sh), Debian's prometheus-node-exporter serving it
# through its textfile collector, Debian's prometheus scraping that every
# second with the project's alerting rules loaded; PromQL through the HTTP
# API must return the per-device and per-cgroup series with the values
# the tree holds. Then the rules themselves: promtool check rules and
# promtool test rules with their own cases
# (integrations/prometheus/tt_alloc-alerts*.yml). Run once per host test
# run, outside the sanitizers. TAP on stdout.
#
# usage: fleet.sh OUT SRCDIR
set -u
OUT=$1
SRC=$2
S=$OUT/bin/tt-alloc-smi
R=$SRC/../integrations/prometheus
T=$(mktemp -d /tmp/tt-alloc-fleet.XXXXXX)
n=0
pids=
cleanup() {
	for p in $pids; do kill "$p" 2>/dev/null; done
	for p in $pids; do wait "$p" 2>/dev/null; done
	rm -rf "$T"
}
[ -n "${KEEP:-}" ] || trap cleanup EXIT INT TERM
ok() { n=$((n + 1)); if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi; }
freeport() { python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'; }
# q PROMQL: the query's vector as "labels value" lines, sorted
q() {
	curl -sfG "http://127.0.0.1:$pport/api/v1/query" --data-urlencode "query=$1" |
		jq -r '.data.result[] | "\(.metric | del(.instance, .job, .__name__) | to_entries | map("\(.key)=\(.value)") | join(",")) \(.value[1])"' | sort
}

# 1. the tree: device 0 with DRAM held by three cgroups, one of them twice
F=$T/root
sh "$SRC/tests/host/fake-galaxy.sh" "$F" 2 > /dev/null
C=$F/sys/fs/cgroup
mkdir -p "$C/system.slice/a.service" "$C/system.slice/b.service"
printf 'tt_alloc/0/dram 4194304\n' > "$C/system.slice/a.service/dmem.max"
ino() { stat -c %i "$C$1"; }
{
	printf '101 1 0 0 p101 1048576 0 0 0 0 0 0 1 0 0 0 0 0 0 uid=0 cgroup=%s\n' "$(ino /system.slice/a.service)"
	printf '102 2 0 0 p102 2097152 0 0 0 0 0 0 1 0 0 0 0 0 0 uid=0 cgroup=%s\n' "$(ino /system.slice/a.service)"
	printf '103 3 0 0 p103 524288 0 0 0 0 0 0 1 0 0 0 0 0 0 uid=1000 cgroup=%s\n' "$(ino /system.slice/b.service)"
} > "$F/dev/tt_alloc"
echo 3670016 > "$F/sys/class/tt_alloc/device0/dram/used_bytes"
echo 0 > "$F/sys/class/tt_alloc/device1/dram/used_bytes"
D=$T/textfile
mkdir -p "$D"
"$S" --sysroot "$F" --prometheus-file "$D/tt_alloc.prom"
ok $? "tt-alloc-smi --prometheus-file writes the textfile"

# 2. node_exporter and prometheus on 127.0.0.1
NE=$(command -v prometheus-node-exporter || command -v node_exporter)
PR=$(command -v prometheus)
if [ -z "$NE" ] || [ -z "$PR" ] || ! command -v promtool > /dev/null; then
	ok 1 "prometheus, prometheus-node-exporter and promtool are installed (make deps)"
	echo "1..$n"
	exit 1
fi
nport=$(freeport)
"$NE" --web.listen-address="127.0.0.1:$nport" --collector.disable-defaults \
	--collector.textfile --collector.textfile.directory="$D" > "$T/ne.log" 2>&1 &
pids="$pids $!"
pport=$(freeport)
cat > "$T/prometheus.yml" <<CFG
global:
  scrape_interval: 1s
  evaluation_interval: 1s
rule_files:
  - $R/tt_alloc-alerts.yml
scrape_configs:
  - job_name: tt_alloc
    static_configs:
      - targets: ['127.0.0.1:$nport']
CFG
"$PR" --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" \
	--web.listen-address="127.0.0.1:$pport" > "$T/prom.log" 2>&1 &
pids="$pids $!"
i=0
while [ "$(q 'tt_alloc_module_loaded')" != " 1" ]; do
	i=$((i + 1)); [ $i -gt 300 ] && break; sleep 0.2
done
[ $i -le 300 ]
ok $? "prometheus on 127.0.0.1:$pport scraped node_exporter on 127.0.0.1:$nport"
[ $i -gt 300 ] && sed 's/^/# /' "$T/prom.log" | tail -5

# 3. PromQL through the HTTP API
[ "$(q 'tt_alloc_used_bytes{type="dram"}')" = "$(printf 'device=0,type=dram 3670016\ndevice=1,type=dram 0')" ]
ok $? "per-device series: device 0 holds 3.5 MiB DRAM, device 1 none"
[ "$(q 'sum by (cgroup) (tt_alloc_cgroup_used_bytes{type="dram"})')" = "$(printf 'cgroup=/system.slice/a.service 3145728\ncgroup=/system.slice/b.service 524288')" ]
ok $? "per-cgroup series: a.service 3 MiB over two files, b.service 512 KiB"
[ "$(q 'tt_alloc_cgroup_dmem_max_bytes')" = "cgroup=/system.slice/a.service,device=0,type=dram 4194304" ]
ok $? "the dmem.max of a.service beside its use, none where no limit is set"
[ "$(q 'sum(tt_alloc_cgroup_used_bytes) + sum(tt_alloc_cgroup_other_used_bytes)')" = " 3670016" ]
ok $? "the cgroup series and their 'other' add up to the device's use"
curl -sf "http://127.0.0.1:$pport/api/v1/rules" | jq -e '[.data.groups[].rules[].name] | sort == ["TTCgroupNearDmemMax", "TTDeviceMemoryNearCapacity", "TTMemoryReclaimedFromCrashedProcesses"]' > /dev/null
ok $? "prometheus loaded the project's three alerting rules"

# 4. the rules on their own
promtool check rules "$R/tt_alloc-alerts.yml" > "$T/check.out" 2>&1
rc=$?
ok $rc "promtool check rules tt_alloc-alerts.yml"
[ $rc -ne 0 ] && sed 's/^/# /' "$T/check.out"
(cd "$R" && promtool test rules tt_alloc-alerts.test.yml) > "$T/test.out" 2>&1
rc=$?
ok $rc "promtool test rules: near capacity, near dmem.max, reclaimed from crashed processes"
[ $rc -ne 0 ] && sed 's/^/# /' "$T/test.out" | head -30
echo "1..$n"
