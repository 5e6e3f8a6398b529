#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
#
# The tt-metal integration (integrations/tt-metal) against a real tt-metal
# source tree, $TT_METAL_SRC (make test-host: ../shared/reference/tt-metal
# beside the repository, the pinned slice; a user points it at a checkout):
#  1. the tree is there (a missing tree fails, it is never skipped);
#  2. tests/real-headers.cpp (the calls the patch adds, quoted by the doc)
#     compiles with -std=c++20 -Wall -Wextra -Werror against the tree's
#     public headers; stubs/ is searched after the tree, so only headers
#     the tree lacks come from it (stubs/README lists them);
#  3. every stub is listed in stubs/README and every listed stub exists;
#  4. tt-metal-tt_alloc.patch applies (git apply --check) to a copy of
#     the tree's files it patches;
#  5. the doc quotes tests/real-headers.cpp and names the patch;
#  6. the patch's include guard: without tt_alloc's headers on the include
#     path the hooks compile out (tt-metal builds as before), with them in;
#  7. tests/no-device.cpp: TT_ALLOC_TRACKING_ENABLED=1 and no device: the
#     hooks are no-ops from 2 threads, exit 0, exactly one line on stderr.
# TAP on stdout. usage: tt-metal.sh OUT SRCDIR
set -u
OUT=$1
SRC=$2
TTM=$(cd "$SRC/../integrations/tt-metal" && pwd)
DOC=$SRC/../Documentation/userspace-api/tt-metal-integration.rst
T=${TT_METAL_SRC:-}
tmp=$(mktemp -d /tmp/tt-alloc-ttmetal.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM
n=0
res() { n=$((n + 1)); echo "$1 $n $2"; }

if [ -n "$T" ] && [ -f "$T/tt_metal/api/tt-metalium/graph_tracking.hpp" ]; then
	res ok "TT_METAL_SRC=$T holds tt_metal/api/tt-metalium/graph_tracking.hpp"
else
	res "not ok" "TT_METAL_SRC='$T' holds tt_metal/api/tt-metalium/graph_tracking.hpp (no tt-metal tree: put one there or set TT_METAL_SRC)"
fi

if ${CXX:-g++} -std=c++20 -Wall -Wextra -Werror -c -o "$tmp/real-headers.o" \
	-I"$T/tt_metal/api" -I"$TTM/stubs" -I"$TTM/include" \
	-I"$SRC/lib/include" -I"$SRC/../uapi" "$TTM/tests/real-headers.cpp" >"$tmp/err" 2>&1; then
	res ok "real-headers.cpp compiles (-std=c++20 -Wall -Wextra -Werror) against TT_METAL_SRC's headers"
else
	sed 's/^/# /' "$tmp/err" | head -20
	res "not ok" "real-headers.cpp compiles (-std=c++20 -Wall -Wextra -Werror) against TT_METAL_SRC's headers"
fi

(cd "$TTM/stubs" && find . -type f ! -name README | sed 's|^\./||' | sort) >"$tmp/stubs"
sed -n 's/^- `\([^`]*\)`.*/\1/p' "$TTM/stubs/README" | sort >"$tmp/listed"
if [ -s "$tmp/stubs" ] && cmp -s "$tmp/stubs" "$tmp/listed"; then
	res ok "every stub is listed in stubs/README, every listed stub exists"
else
	diff "$tmp/listed" "$tmp/stubs" | sed 's/^/# /'
	res "not ok" "every stub is listed in stubs/README, every listed stub exists"
fi

mkdir "$tmp/tree"
files=$(sed -n 's|^+++ b/||p' "$TTM/tt-metal-tt_alloc.patch")
ok=1
for f in $files; do
	mkdir -p "$tmp/tree/$(dirname "$f")"
	cp "$T/$f" "$tmp/tree/$f" 2>/dev/null || { echo "# $f: not in TT_METAL_SRC"; ok=0; }
done
if [ -n "$files" ] && [ $ok = 1 ] && (cd "$tmp/tree" && git init -q . &&
	git apply --check "$TTM/tt-metal-tt_alloc.patch") >"$tmp/err" 2>&1; then
	res ok "tt-metal-tt_alloc.patch applies (git apply --check) to TT_METAL_SRC's $(echo $files | wc -w) files"
else
	sed 's/^/# /' "$tmp/err" | head -20
	res "not ok" "tt-metal-tt_alloc.patch applies (git apply --check) to TT_METAL_SRC's files"
fi

if grep -q '^\.\. literalinclude:: .*integrations/tt-metal/tests/real-headers\.cpp$' "$DOC" &&
	grep -q 'tt-metal-tt_alloc\.patch' "$DOC"; then
	res ok "tt-metal-integration.rst quotes tests/real-headers.cpp and names the patch"
else
	res "not ok" "tt-metal-integration.rst quotes tests/real-headers.cpp and names the patch"
fi
# the lines the patch adds to buffer.cpp from "#if __has_include" to "#endif"
sed -n '/^+++ b\/tt_metal\/impl\/buffers\/buffer.cpp/,/^diff /p' "$TTM/tt-metal-tt_alloc.patch" |
	sed -n 's/^+//p' | sed -n '/^#if __has_include/,/^#endif/p' >"$tmp/guard.cpp"
printf '#ifdef TT_METAL_WITH_TT_ALLOC\nint with_tt_alloc;\n#endif\n' >>"$tmp/guard.cpp"
if [ "$(grep -c . "$tmp/guard.cpp")" -ge 6 ] &&
	${CXX:-g++} -std=c++20 -Wall -Werror -c -o "$tmp/g0.o" "$tmp/guard.cpp" 2>"$tmp/err" &&
	${CXX:-g++} -std=c++20 -Wall -Werror -c -o "$tmp/g1.o" -I"$TTM/include" -I"$SRC/lib/include" \
		-I"$SRC/../uapi" "$tmp/guard.cpp" 2>>"$tmp/err" &&
	! nm "$tmp/g0.o" | grep -q with_tt_alloc && nm "$tmp/g1.o" | grep -q with_tt_alloc; then
	res ok "the patch's include guard: hooks compiled out without tt_alloc's headers, in with them"
else
	sed 's/^/# /' "$tmp/err" | head -10
	res "not ok" "the patch's include guard: hooks compiled out without tt_alloc's headers, in with them"
fi

if ${CXX:-g++} -std=c++20 -Wall -Wextra -Werror -pthread -o "$tmp/no-device" -I"$TTM/include" \
	-I"$SRC/lib/include" -I"$SRC/../uapi" "$TTM/tests/no-device.cpp" -L"$OUT/lib" -lttalloc \
	-Wl,-rpath,"$OUT/lib" >"$tmp/err" 2>&1 &&
	TT_ALLOC_TRACKING_ENABLED=1 TT_ALLOC_DEVICE=/nonexistent/tt_alloc "$tmp/no-device" \
		>"$tmp/out" 2>"$tmp/stderr" && [ "$(wc -l <"$tmp/stderr")" = 1 ]; then
	sed 's/^/# stderr: /' "$tmp/stderr"
	res ok "TT_ALLOC_TRACKING_ENABLED=1, no device: hooks from 2 threads are no-ops, exit 0, one line on stderr"
else
	sed 's/^/# /' "$tmp/err" "$tmp/out" "$tmp/stderr" 2>/dev/null | head -10
	res "not ok" "TT_ALLOC_TRACKING_ENABLED=1, no device: hooks from 2 threads are no-ops, exit 0, one line on stderr"
fi
echo "1..$n"
