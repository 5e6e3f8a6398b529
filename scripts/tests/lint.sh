#!/bin/bash
# SPDX-License-Identifier: GPL-2.0
# Static checks of the module and the uapi header; each is one test.
#   scripts/tests/lint.sh [--results FILE]
#   lint/checkpatch    checkpatch.pl --strict --no-tree -f (6.12 source) on
#                      module/*.[ch] and uapi/linux/tt_alloc.h: no message
#   lint/sparse        module build with C=2 against the debug kernel: no
#                      warning
#   lint/w1            module build with W=1 against the debug kernel: no
#                      warning
#   lint/dmem-6.18-api the 6.14-6.18 dmem API branch, W=1 and sparse against
#                      the 6.18 tree with CONFIG_CGROUP_DMEM defined for the
#                      compiler: no warning, the dmem symbols referenced
#   lint/uapi-header   the uapi header alone in userspace with
#                      gcc -std=c99 -Wall -Wextra -Werror
#   lint/uapi-layout   pahole on every struct of the header: no hole, no
#                      padding
# Needs the debug kernel (scripts/kernels/build-kernel.sh) for sparse and W=1,
# and the 6.18 tree (scripts/kernels/fetch-kernel.sh 6.18) for dmem-6.18-api.
# Exit status 1 if any check failed.
set -euo pipefail
. "$(dirname "$0")/../common.sh"

results=
[ "${1:-}" = --results ] && results=$2
ktap=$TT_ROOT/selftests/vm/ktap.py
work=$TT_OUT/lint
rm -rf "$work"
mkdir -p "$work"
failed=0


cd "$TT_ROOT"
header=uapi/linux/tt_alloc.h
mapfile -t csrc < <(ls module/*.[ch] 2>/dev/null)

# checkpatch
ksrc=$("$TT_ROOT/scripts/kernels/kernel-source.sh")
if [ ${#csrc[@]} = 0 ]; then
	echo "no module sources in module/" >"$work/checkpatch.log"
	record FAIL lint/checkpatch "$work/checkpatch.log"
else
	"$ksrc/scripts/checkpatch.pl" --strict --no-tree --no-summary --terse --show-types -f \
		"${csrc[@]}" "$header" >"$work/checkpatch.log" 2>&1 || true
	if grep -qE '(ERROR|WARNING|CHECK):' "$work/checkpatch.log"; then
		record FAIL lint/checkpatch "$work/checkpatch.log"
	else
		record PASS lint/checkpatch
	fi
fi

# sparse (C=2) and W=1 builds against the debug kernel
for check in sparse:C=2 w1:W=1; do
	name=${check%%:*}
	if "$TT_ROOT/scripts/kernels/build-module.sh" --name "lint-$name" debug -- "${check#*:}" \
		>"$work/$name.out" 2>&1; then
		log=$TT_OUT/kbuild/lint-$name.log
		if grep -E 'warning:|error:' "$log" >"$work/$name.log"; then
			record FAIL "lint/$name" "$work/$name.log"
		else
			record PASS "lint/$name"
		fi
	else
		record FAIL "lint/$name" "$work/$name.out"
	fi
done

# The dmem API of 6.14 to 6.18 (dmem_cgroup_register_region(size, fmt))
# is compiled by no kernel we boot: Debian's 6.18 has the controller off
# and the debug kernel (7.x) has the later struct dmem_cgroup_init. Build
# that branch against 6.18's tree with CONFIG_CGROUP_DMEM defined for the
# compiler (and sparse) only; modpost must name the four dmem symbols as
# undefined (the branch was compiled), and nothing else may warn.
dmem_syms='dmem_cgroup_register_region dmem_cgroup_unregister_region dmem_cgroup_try_charge dmem_cgroup_uncharge'
if "$TT_ROOT/scripts/kernels/build-module.sh" --strict --name lint-dmem-6.18 6.18 -- \
	KCFLAGS=-DCONFIG_CGROUP_DMEM=1 KBUILD_MODPOST_WARN=1 >"$work/dmem.out" 2>&1; then
	log=$TT_OUT/kbuild/lint-dmem-6.18.log
	: >"$work/dmem.log"
	for sym in $dmem_syms; do
		grep -q "modpost: \"$sym\" .* undefined" "$log" ||
			echo "the module does not call $sym: was the 6.18 branch compiled?" >>"$work/dmem.log"
	done
	grep -E 'warning:|error:|WARNING:' "$log" | grep -vE "modpost: \"dmem_cgroup_[a-z_]+\" .* undefined!" >>"$work/dmem.log" || true
	if [ -s "$work/dmem.log" ]; then
		record FAIL lint/dmem-6.18-api "$work/dmem.log"
	else
		record PASS lint/dmem-6.18-api
	fi
else
	record FAIL lint/dmem-6.18-api "$work/dmem.out"
fi

# the uapi header compiles standalone in userspace
echo '#include <linux/tt_alloc.h>' >"$work/uapi.c"
if gcc -std=c99 -Wall -Wextra -Werror -I uapi -c "$work/uapi.c" -o "$work/uapi.o" >"$work/uapi.log" 2>&1; then
	record PASS lint/uapi-header
else
	record FAIL lint/uapi-header "$work/uapi.log"
fi

# no hole or padding in any uapi struct
mapfile -t structs < <(sed -n 's/^struct \([a-z0-9_]*\) {.*/\1/p' "$header")
{
	echo '#include <linux/tt_alloc.h>'
	for s in "${structs[@]}"; do echo "struct $s tt_layout_$s;"; done
} >"$work/layout.c"
if [ ${#structs[@]} = 0 ]; then
	echo "no struct found in $header" >"$work/layout.log"
	record FAIL lint/uapi-layout "$work/layout.log"
elif ! gcc -std=c99 -g -O0 -I uapi -c "$work/layout.c" -o "$work/layout.o" >"$work/layout.log" 2>&1; then
	record FAIL lint/uapi-layout "$work/layout.log"
elif ! pahole "$work/layout.o" >"$work/layout.log" 2>&1; then
	record FAIL lint/uapi-layout "$work/layout.log"
else
	missing=
	for s in "${structs[@]}"; do
		grep -q "^struct $s {" "$work/layout.log" || missing="$missing $s"
	done
	if grep -qE 'XXX|padding' "$work/layout.log" || [ -n "$missing" ]; then
		[ -n "$missing" ] && echo "pahole shows no layout for:$missing" >>"$work/layout.log"
		record FAIL lint/uapi-layout "$work/layout.log"
	else
		record PASS lint/uapi-layout
	fi
fi

exit $failed
