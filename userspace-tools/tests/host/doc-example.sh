#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The C++ example of Documentation/userspace-api/libttalloc.rst ("C++
# example"), as a developer would paste it: it compiles with the header's
# promised flags against the built library and runs (tracking off: a
# no-op context, exit 0). Checked once per test-host run. TAP on stdout.
#
# usage: doc-example.sh OUT SRCDIR
set -u
OUT=$1
SRC=$2
tmp=$(mktemp -d /tmp/tt-alloc-docex.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
rst=$SRC/../Documentation/userspace-api/libttalloc.rst
# The indented block after the first ".. code-block:: c++".
awk '/^\.\. code-block:: c\+\+$/ && !seen { seen = 1; inb = 1; next }
	inb && /^[^ ]/ { exit }
	inb { sub(/^   /, ""); print }' "$rst" >"$tmp/example.cpp"
if [ -s "$tmp/example.cpp" ] &&
	${CXX:-g++} -std=c++17 -Wall -Wextra -Werror -pedantic -I"$OUT/include" \
		-o "$tmp/example" "$tmp/example.cpp" -L"$OUT/lib" -lttalloc \
		-Wl,-rpath,"$OUT/lib" >"$tmp/err" 2>&1; then
	echo "ok 1 the C++ example in libttalloc.rst compiles with -std=c++17 -pedantic -Werror"
	env -u TT_ALLOC_TRACKING_ENABLED "$tmp/example" >/dev/null 2>&1
	if [ $? -eq 0 ]; then echo "ok 2 and runs (tracking off): exit 0"; else echo "not ok 2 and runs (tracking off): exit 0"; fi
else
	sed 's/^/# /' "$tmp/err" | head -20
	echo "not ok 1 the C++ example in libttalloc.rst compiles with -std=c++17 -pedantic -Werror"
	echo "not ok 2 and runs (tracking off): exit 0"
fi
echo "1..2"
