#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of the tracepoints tt_alloc:alloc, tt_alloc:free and
# tt_alloc:reclaim (busybox sh, root, tt_alloc loaded with at least 2
# devices). Records the three events in a private tracefs instance while
#   1. tt-trace-workload (next to this script, in trace/) records N
#      allocations, frees M and exits holding K = N - M: exactly N alloc,
#      M free and K reclaim events, each with the right client, pid,
#      device, type name, kind, id, size and refs;
#   2. if /opt/tt_alloc/bin/tt-alloc-replay and its sample trace exist:
#      a replay killed by --crash-after C: as many alloc and free events as
#      the first C operations of the trace hold, one reclaim per entry still
#      live, all with the replay's pid.
# Prints TAP; exits 1 on failure, 4 (kselftest skip) without tracefs or
# without the events.
here=$(cd "$(dirname "$0")" && pwd)
WORKLOAD=${TT_TRACE_WORKLOAD:-$here/trace/tt-trace-workload}
REPLAY=${TT_REPLAY:-/opt/tt_alloc/bin/tt-alloc-replay}
TRACEFILE=${TT_REPLAY_TRACE:-/opt/tt_alloc/share/traces/ttnn-single-device.trace}
N=${TT_TRACE_N:-40} M=${TT_TRACE_M:-25} CRASH=${TT_TRACE_CRASH_AFTER:-150}
K=$((N - M))
T=/tmp/trace-test.$$
mkdir -p $T
n=0
failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }
diag() { sed 's/^/# /' "$@"; }

# ---- tracefs ---------------------------------------------------------------
tracefs=
for d in /sys/kernel/tracing /sys/kernel/debug/tracing; do
	if [ ! -e $d/events ] && [ $d = /sys/kernel/tracing ] && [ -d $d ]; then
		mount -t tracefs tracefs $d 2>/dev/null
	fi
	if [ -d $d/events ]; then
		tracefs=$d
		break
	fi
done
if [ -z "$tracefs" ]; then
	echo "1..0 # SKIP tracefs absent (no /sys/kernel/tracing or /sys/kernel/debug/tracing)"
	exit 4
fi
if [ ! -d $tracefs/events/tt_alloc ]; then
	if [ -e /dev/tt_alloc ]; then
		echo "1..0 # SKIP no events/tt_alloc in $tracefs (kernel without event tracing?)"
	else
		echo "1..0 # SKIP tt_alloc not loaded"
	fi
	exit 4
fi

# A private instance: its own buffer and event switches, so that other
# users of the top-level buffer neither disturb us nor are disturbed.
inst=$tracefs/instances/tt_alloc_trace_test.$$
if mkdir $inst 2>/dev/null && [ -d $inst/events/tt_alloc ]; then
	tr=$inst
else
	inst=
	tr=$tracefs
fi
cleanup() {
	for e in alloc free reclaim; do echo 0 >$tr/events/tt_alloc/$e/enable 2>/dev/null; done
	[ -n "$inst" ] && rmdir $inst 2>/dev/null
	rm -rf $T
}
trap cleanup EXIT

echo 0 >$tr/tracing_on
echo 4096 >$tr/buffer_size_kb 2>/dev/null
echo >$tr/trace
rc=0
for e in alloc free reclaim; do
	[ -f $tr/events/tt_alloc/$e/format ] || rc=1
	echo 1 >$tr/events/tt_alloc/$e/enable || rc=1
done
for e in alloc free reclaim; do
	[ "$(cat $tr/events/tt_alloc/$e/enable)" = 1 ] || rc=1
done
ok $rc "enable tt_alloc:alloc, tt_alloc:free, tt_alloc:reclaim in ${inst:+an instance of }$tracefs"

# the format of every event lists the documented fields
rc=0
for e in alloc free reclaim; do
	for f in client pid device type kind id size refs; do
		grep -q "field:[^;]* $f;" $tr/events/tt_alloc/$e/format || { echo "# $e: no field $f"; rc=1; }
	done
done
ok $rc "events/tt_alloc/*/format: fields client pid device type kind id size refs"

# events EVENT FILE: the "EVENT: client=..." payloads of the buffer, in order
events() { sed -n "s/^.* $1: \(client=.*\)$/\1/p" "$2"; }
# fields FILE: "EVENT device=... refs=..." of FILE's events, client and pid cut
fields() {
	sed -En 's/^.* (alloc|free|reclaim): client=[0-9]+ pid=[0-9]+ (device=.*)$/\1 \2/p' "$1"
}
count() { events "$1" "$2" | wc -l | tr -d ' '; }

# ---- 1. the workload ---------------------------------------------------------
echo >$tr/trace
echo 1 >$tr/tracing_on
"$WORKLOAD" "$N" "$M" >$T/want 2>$T/err
wrc=$?
echo 0 >$tr/tracing_on
cat $tr/trace >$T/got
[ $wrc = 0 ]
ok $? "tt-trace-workload $N $M: exit $wrc"
[ $wrc = 0 ] || diag $T/err

client=$(sed -n 's/^client //p' $T/want)
pid=$(sed -n 's/^pid //p' $T/want)
grep -E '^(alloc|free|reclaim) ' $T/want >$T/want.ev

for e in alloc free reclaim; do
	case $e in alloc) exp=$N ;; free) exp=$M ;; reclaim) exp=$K ;; esac
	got=$(count $e $T/got)
	[ "$got" = "$exp" ]
	ok $? "workload: $got $e events, expected $exp"
done

# alloc and free in program order; reclaim in hash order: compare sorted
fields $T/got | grep -v '^reclaim ' >$T/got.af
grep -v '^reclaim ' $T/want.ev | diff -u - $T/got.af >$T/diff.af
ok $? "alloc and free events: device, type name, kind, id, size, refs as recorded, in order"
[ -s $T/diff.af ] && diag $T/diff.af | head -20
fields $T/got | grep '^reclaim ' | sort >$T/got.r
grep '^reclaim ' $T/want.ev | sort | diff -u - $T/got.r >$T/diff.r
ok $? "reclaim events: the $K entries held at exit, with their fields"
[ -s $T/diff.r ] && diag $T/diff.r | head -20

bad=$(for e in alloc free reclaim; do events $e $T/got; done |
	grep -v "^client=$client pid=$pid " | head -3)
[ -n "$client" ] && [ -n "$pid" ] && [ -z "$bad" ]
ok $? "every event: client=$client (TT_ALLOC_IOC_INFO) pid=$pid (the workload)"
[ -n "$bad" ] && echo "$bad" | sed 's/^/# /'

# sample output line, for the log
grep -m1 ' reclaim: client=' $T/got | sed 's/^ */# sample: /'

# ---- 2. a crashing replay --------------------------------------------------------
if [ ! -x "$REPLAY" ] || [ ! -f "$TRACEFILE" ]; then
	n=$((n + 1))
	echo "ok $n replay --crash-after # SKIP no $REPLAY or $TRACEFILE"
else
	# what the first CRASH alloc/free operations leave: counts and live entries
	awk -v c="$CRASH" '
		{ sub(/#.*/, "") }
		$1 != "alloc" && $1 != "free" { next }
		ops >= c { exit }
		{ ops++ }
		$1 == "alloc" { a++; k = $2 " " $3 " " $5; if (!refs[k]++) live++ }
		$1 == "free" { f++; k = $2 " " $3 " " $4; if (!--refs[k]) live-- }
		END { print a + 0, f + 0, live + 0, ops + 0 }' "$TRACEFILE" >$T/exp
	read -r ea ef er eops <$T/exp
	echo >$tr/trace
	echo 1 >$tr/tracing_on
	TT_ALLOC_TRACKING_ENABLED=1 "$REPLAY" -q --crash-after "$CRASH" "$TRACEFILE" >$T/rout 2>$T/rerr
	rrc=$?
	echo 0 >$tr/tracing_on
	cat $tr/trace >$T/rgot
	rpid=$(sed -n 's/^.*crashing on purpose after .* pid \([0-9]*\).*$/\1/p' $T/rerr)
	[ $rrc -gt 128 ] && [ -n "$rpid" ] && [ "$eops" = "$CRASH" ]
	ok $? "tt-alloc-replay --crash-after $CRASH: killed by a signal (exit $rrc), pid ${rpid:-?}"
	[ -n "$rpid" ] || diag $T/rerr | head -5
	for e in alloc free reclaim; do
		case $e in alloc) exp=$ea ;; free) exp=$ef ;; reclaim) exp=$er ;; esac
		got=$(count $e $T/rgot)
		[ "$got" = "$exp" ]
		ok $? "replay: $got $e events, expected $exp"
	done
	bad=$(for e in alloc free reclaim; do events $e $T/rgot; done | grep -v "^client=[0-9]* pid=$rpid " | head -3)
	[ -n "$rpid" ] && [ -z "$bad" ]
	ok $? "replay: every event has pid=$rpid"
	# the sizes reclaimed add up to what the trace leaves live: cross-check
	# the sum of (alloc sizes) - (free sizes of freed-to-zero entries)
	rs=$(events reclaim $T/rgot | sed -n 's/.* size=\([0-9]*\) .*/\1/p' | awk '{s += $1} END {print s + 0}')
	as=$(events alloc $T/rgot | sed -n 's/.* size=\([0-9]*\) refs=1$/\1/p' | awk '{s += $1} END {print s + 0}')
	fs=$(events free $T/rgot | sed -n 's/.* size=\([0-9]*\) refs=0$/\1/p' | awk '{s += $1} END {print s + 0}')
	[ "$rs" = $((as - fs)) ]
	ok $? "replay: reclaimed bytes $rs = new entries $as - entries freed $fs"
fi

echo "1..$n"
[ $failed = 0 ] || exit 1
exit 0
