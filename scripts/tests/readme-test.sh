#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# The README's "Run one test" commands work as pasted: each line of its
# code block runs from the top of the tree, in order, and must exit 0 and
# show that it ran exactly what it says (one program, one case, one KUnit
# case, one host test). TAP on stdout (a host suite of `make check`).
#   scripts/tests/readme-test.sh
set -uo pipefail
. "$(dirname "$0")/../common.sh"
cd "$TT_ROOT" || exit 1

n=0 failed=0
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# the indented block after the heading, comments and blank lines dropped
awk '/^## Run one test/ { on = 1; next } on && /^## / { exit }
	on && /^    [^ #]/ { sub(/^    /, ""); sub(/[ \t]+#.*$/, ""); print }' README.md >"$t/cmds"
mapfile -t cmds <"$t/cmds"
echo "1..$(( ${#cmds[@]} > 0 ? ${#cmds[@]} : 1 ))"
[ ${#cmds[@]} -gt 0 ] || { echo "not ok 1 README.md has no 'Run one test' commands"; exit 1; }

# shows CMD OUTPUT: CMD's output shows it ran what it says
shows() {
	case $1 in
	*run-suite.sh\ *)
		# one program, and it passed
		[ "$(grep -c '^# tt-suite-end: ' "$2")" = 1 ] &&
			grep -q "^# tt-suite-end: ${1##* } rc=0" "$2" ;;
	*" -t "*)
		# the harness ran one case, which passed
		local case=${1##* -t }
		grep -q '^# PASSED: 1 / 1 tests passed' "$2" &&
			grep -q "^ok 1 [a-z_]*\.${case%\'}\$" "$2" ;;
	*kunit.filter_glob=*)
		local want=${1#*filter_glob=}
		want=${want%% *}
		[ "$(grep -c '^    ok [0-9]' "$2")" = 1 ] &&
			grep -q "^    ok 1 ${want#*.}\$" "$2" ;;
	*HOST_TESTS=*)
		# only that test's cases, all passed
		local name=${1##*HOST_TESTS=}
		grep -q '^test-host: [1-9][0-9]* passed, 0 failed$' "$2" &&
			! grep -E '^(not )?ok ' "$2" | grep -vq "^ok [0-9]* ${name%.sh}: " ;;
	*) true ;;
	esac
}
for c in "${cmds[@]}"; do
	timeout 900 bash -c "$c" >"$t/out" 2>&1 </dev/null
	rc=$?
	n=$((n + 1))
	if [ "$rc" = 0 ] && shows "$c" "$t/out"; then
		echo "ok $n $c"
	else
		echo "not ok $n $c (exit $rc)"
		failed=$((failed + 1))
		tail -30 "$t/out" | sed 's/^/# /'
	fi
done
exit $((failed > 0))
