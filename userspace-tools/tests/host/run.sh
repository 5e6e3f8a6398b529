#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# Host-side tests of the userspace tools (no kernel needed), run by
# `make -C userspace-tools OUT=<dir> test-host`. Every test program runs
# twice: built with ASan+UBSan ($OUT/asan), and the normal build under
# valgrind --leak-check=full --error-exitcode=1. Output: one TAP stream
# ("ok N flavour: test: name"), the plan "1..N", then
# "test-host: N passed, N failed". Exit status 1 on any failure.
#
# usage: run.sh OUT SRCDIR
set -u
OUT=$1
SRC=$2
tmp=$(mktemp -d /tmp/tt-alloc-test-host.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:exitcode=86:log_path=$tmp/san
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$tmp/san
pass=0
fail=0
n=0


# Renumber a sub-test's TAP into the global stream.
collect() { # prefix file
	while IFS= read -r line; do
		case $line in
		"ok "*)
			n=$((n + 1)); pass=$((pass + 1))
			echo "ok $n $1: ${line#ok [0-9]* }" ;;
		"not ok "*)
			n=$((n + 1)); fail=$((fail + 1))
			echo "not ok $n $1: ${line#not ok [0-9]* }" ;;
		"1.."*) ;;
		*) echo "# $line" ;;
		esac
	done < "$2"
}

# A whole program's status as one more test line.
status_line() { # name rc
	n=$((n + 1))
	if [ "$2" -eq 0 ]; then
		pass=$((pass + 1)); echo "ok $n $1"
	else
		fail=$((fail + 1)); echo "not ok $n $1 (exit $2)"
	fi
}

for flavour in asan valgrind; do
	if [ $flavour = asan ]; then
		B=$OUT/asan
		WRAP=""
	else
		B=$OUT
		if ! command -v valgrind >/dev/null 2>&1; then
			echo "# valgrind not installed: valgrind runs skipped"
			continue
		fi
		WRAP="valgrind -q --leak-check=full --show-leak-kinds=definite,indirect,possible --errors-for-leak-kinds=definite,indirect,possible --error-exitcode=1 --log-file=$tmp/vg.%p"
	fi

	# C unit test of the library
	$WRAP "$B/host-tests/test-lib-noop" > "$tmp/out" 2> "$tmp/err"
	rc=$?
	collect "$flavour: libttalloc no-op" "$tmp/out"
	[ $rc -ne 0 ] && sed 's/^/# stderr: /' "$tmp/err" | head -40
	status_line "$flavour: libttalloc no-op: exit status and sanitizer/valgrind report" $rc

	# Tool tests: shell scripts driving the tools through $RUN
	for t in test-replay-parse.sh test-smi-format.sh; do
		RUN="$WRAP" BIN="$B/bin" SRC="$SRC" TMP="$tmp" sh "$SRC/tests/host/$t" > "$tmp/out" 2> "$tmp/err"
		rc=$?
		collect "$flavour: ${t%.sh}" "$tmp/out"
		[ $rc -ne 0 ] && sed 's/^/# stderr: /' "$tmp/err" | head -40
		status_line "$flavour: ${t%.sh}: exit status" $rc
	done

	# valgrind: every log must be clean (exit status alone can't tell for
	# runs that are expected to fail)
	if [ $flavour = valgrind ]; then
		bad=$(grep -l 'ERROR SUMMARY: [1-9]\|definitely lost\|Invalid \|uninitialised' "$tmp"/vg.* 2>/dev/null; \
		      for f in "$tmp"/vg.*; do [ -s "$f" ] && echo "$f"; done | sort -u)
		if [ -n "$bad" ]; then
			for f in $bad; do sed 's/^/# valgrind: /' "$f" | head -30; done
			status_line "valgrind: no error or leak in any run" 1
		else
			status_line "valgrind: no error or leak in any run" 0
		fi
	else
		if grep -l 'ERROR: AddressSanitizer\|ERROR: LeakSanitizer\|runtime error:' "$tmp"/san.* >/dev/null 2>&1; then
			status_line "asan: no sanitizer report in any run" 1
		else
			status_line "asan: no sanitizer report in any run" 0
		fi
	fi
done

echo "1..$n"
echo "test-host: $pass passed, $fail failed"
[ $fail -eq 0 ]
