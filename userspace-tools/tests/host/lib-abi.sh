#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The ABI of libttalloc.so.1, checked once per test-host run (not under
# ASan/valgrind: nothing here runs library code). TAP on stdout.
#  - the exported symbols are exactly the functions the header declares,
#    each with its symbol version (lib/libttalloc.map): TTALLOC_1, or for
#    one changed since, TTALLOC_1.1 as default and the old TTALLOC_1;
#  - abidiff finds no difference from the committed baseline
#    lib/libttalloc.abi (make abi-check);
#  - and it would: a library with one function left out of the version
#    script, and one built against a uapi header whose struct
#    tt_alloc_info has a field more, both fail the check.
#
# usage: lib-abi.sh OUT SRCDIR
set -u
OUT=$1
SRC=$2
tmp=$(mktemp -d /tmp/tt-alloc-abi.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
ok() { # status name
	n=$((n + 1))
	if [ "$1" = 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; fi
}
lib=$OUT/lib/libttalloc.so.1.0.0
hdr=$SRC/lib/include/tt_alloc/libttalloc.h

# Declared: a line starting a prototype "type tt_alloc_name(" at column 0.
sed -n 's/^[a-z].*[ *]\(tt_alloc_[a-z0-9_]*\)(.*/\1/p' "$hdr" | sort -u >"$tmp/declared"
# Each is the default (@@) of the first version; one that changed since
# (listed in the TTALLOC_1.1 node of the map) is the default of that one
# and keeps its TTALLOC_1 symbol (@) for the programs linked before.
sed -n '/^TTALLOC_1.1 {/,/^}/s/^\t\t\([a-z0-9_]*\);$/\1/p' "$SRC/lib/libttalloc.map" >"$tmp/v11"
while read -r f; do
	if grep -qx "$f" "$tmp/v11"; then
		echo "$f@@TTALLOC_1.1"
		echo "$f@TTALLOC_1"
	else
		echo "$f@@TTALLOC_1"
	fi
done <"$tmp/declared" | sort >"$tmp/expected"
nm -D --defined-only "$lib" | awk '$2 == "T" { print $3 }' | sort >"$tmp/exported"
if cmp -s "$tmp/expected" "$tmp/exported" && [ -s "$tmp/v11" ] &&
	[ "$(wc -l <"$tmp/declared")" -gt 20 ]; then
	ok 0 "libttalloc.so exports exactly the $(wc -l <"$tmp/declared") functions of libttalloc.h, @@TTALLOC_1 or (changed since: $(tr '\n' ' ' <"$tmp/v11")) @@TTALLOC_1.1 and @TTALLOC_1"
else
	diff "$tmp/expected" "$tmp/exported" | sed 's/^/# /'
	ok 1 "libttalloc.so exports exactly the functions of libttalloc.h with their symbol versions"
fi
# The A (version definition) symbols aside, nothing but functions.
others=$(nm -D --defined-only "$lib" | awk '$2 != "T" && $3 != "TTALLOC_1" && $3 != "TTALLOC_1.1"' | wc -l)
ok "$others" "libttalloc.so exports no data or other symbols"

make -s -C "$SRC" OUT="$OUT" abi-check >"$tmp/diff" 2>&1
rc=$?
[ $rc -ne 0 ] && sed 's/^/# /' "$tmp/diff" | head -40
ok $rc "abidiff: libttalloc.so.1 matches the baseline lib/libttalloc.abi"

# Would the check see an accidental change? Two broken libraries.
cc=${CC:-cc}
flags="-D_GNU_SOURCE -std=c11 -O2 -g -fPIC -fvisibility=hidden -pthread"
grep -v 'tt_alloc_library_version;' "$SRC/lib/libttalloc.map" >"$tmp/short.map"
$cc -shared -pthread -Wl,-soname,libttalloc.so.1 -Wl,--version-script="$tmp/short.map" \
	-o "$tmp/short.so" "$OUT/obj/pic/libttalloc.o" 2>"$tmp/err"
make -s -C "$SRC" OUT="$OUT" ABI_LIB="$tmp/short.so" ABI_OUT="$tmp/short.abi" abi-check >"$tmp/d1" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "tt_alloc_library_version" "$tmp/d1"
ok $? "abi-check fails for a library missing one exported function"

mkdir -p "$tmp/uapi/linux"
awk '{ print } /^\t__u64 client_id;$/ && !done { print "\t__u64 grown;"; done = 1 }' \
	"$SRC/../uapi/linux/tt_alloc.h" >"$tmp/uapi/linux/tt_alloc.h"
$cc $flags -I"$tmp/uapi" -I"$SRC/lib/include" -r -nostdlib -o "$tmp/grown.o" "$SRC"/lib/*.c &&
	$cc -shared -pthread -Wl,-soname,libttalloc.so.1 -Wl,--version-script="$SRC/lib/libttalloc.map" \
		-o "$tmp/grown.so" "$tmp/grown.o"
make -s -C "$SRC" OUT="$OUT" ABI_LIB="$tmp/grown.so" ABI_UAPI="$tmp/uapi" ABI_OUT="$tmp/grown.abi" \
	abi-check >"$tmp/d2" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "struct tt_alloc_info" "$tmp/d2"
ok $? "abi-check fails for a library whose struct tt_alloc_info grew"
echo "1..$n"
