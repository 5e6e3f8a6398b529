#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Host test of the ttalloc Python package (no kernel needed): its ctypes
# structures against sizeof/offsetof of uapi/linux/tt_alloc.h as the C
# compiler lays it out, its constants against the header's, the version
# against VERSION, a no-op context, errno-carrying errors, and the pytest
# plugin failing a checked test when there is no device. Debian's
# /usr/bin/python3 and the normal build's libttalloc.so.1 in both runs
# (python is not run under valgrind or ASan). Env: BIN, SRC, TMP. TAP.
set -u
OUT=$(cd "$BIN/.." && pwd)
case $OUT in */asan) OUT=${OUT%/asan} ;; esac
T=$TMP/python.$$
mkdir -p "$T"
export PYTHONPATH="$SRC/../python" TT_ALLOC_LIBRARY="$OUT/lib/libttalloc.so.1"
export PYTHONDONTWRITEBYTECODE=1 TT_ALLOC_DEVICE=/nonexistent/tt_alloc
unset TT_ALLOC_TRACKING_ENABLED
PY=/usr/bin/python3

# 1. the C side: a program printing every size, offset and constant
$PY - "$T/layout.c" <<'PYEOF'
import sys, ctypes
import ttalloc._uapi as u
with open(sys.argv[1], "w") as f:
    f.write("#include <stdio.h>\n#include <stddef.h>\n#include <linux/tt_alloc.h>\n"
            "int main(void)\n{\n")
    for s in u.SIZES:
        n = s.__name__
        f.write('\tprintf("%s %%zu\\n", sizeof(struct %s));\n' % (n, n))
        for fld, _ in s._fields_:
            f.write('\tprintf("%s.%s %%zu %%zu\\n", offsetof(struct %s, %s), '
                    'sizeof(((struct %s *)0)->%s));\n' % (n, fld, n, fld, n, fld))
    for k in sorted(dir(u)):
        if k.isupper() and k != "SIZES" and isinstance(getattr(u, k), int):
            f.write('\tprintf("TT_ALLOC_%s %%llu\\n", (unsigned long long)(TT_ALLOC_%s));\n' % (k, k))
    # the names: Python has them from libttalloc, which has them from here
    f.write("\tstatic const char *const names[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;\n"
            '\tfor (int i = 0; i < TT_ALLOC_MEM_COUNT; i++)\n'
            '\t\tprintf("name %d %s\\n", i, names[i]);\n'
            "\treturn 0;\n}\n")
PYEOF
n=0 failed=0
ok() { n=$((n + 1)); if [ "$1" -eq 0 ]; then echo "ok $n $2"; else echo "not ok $n $2"; failed=$((failed + 1)); fi; }

cc -std=c11 -Wall -Wextra -Werror -I"$SRC/../uapi" -o "$T/layout" "$T/layout.c" 2>"$T/cc.err" &&
	"$T/layout" >"$T/c.txt"
ok $? "the generated layout program builds against uapi/linux/tt_alloc.h"
$PY - >"$T/py.txt" <<'PYEOF'
import ctypes
import ttalloc._uapi as u
for s in u.SIZES:
    n = s.__name__
    print(n, ctypes.sizeof(s))
    for fld, _ in s._fields_:
        d = getattr(s, fld)
        print("%s.%s %d %d" % (n, fld, d.offset, d.size))
for k in sorted(dir(u)):
    if k.isupper() and k != "SIZES" and isinstance(getattr(u, k), int):
        print("TT_ALLOC_%s %d" % (k, getattr(u, k)))
import ttalloc
for t in range(u.MEM_COUNT):
    print("name %d %s" % (t, ttalloc.mem_type_name(t)))
PYEOF
diff -u "$T/c.txt" "$T/py.txt" | sed 's/^/# /'
[ -s "$T/c.txt" ] && cmp -s "$T/c.txt" "$T/py.txt"
ok $? "ctypes sizes, offsets, constants and mem_type_name() equal the C header's ($(grep -c . "$T/c.txt") values)"

# 2. the package itself, no device: the Python side prints "0|what" or
# "1|what" per case
$PY - "$SRC/../VERSION" >"$T/pkg.txt" 2>"$T/pkg.err" <<'PYEOF'
import errno, sys
import ttalloc
def ok(c, what):
    print("%d|%s" % (0 if c else 1, what))
version = open(sys.argv[1]).read().strip()
ok(ttalloc.__version__ == version == ttalloc.library_version(),
   "package, VERSION and library say %s" % version)
with ttalloc.open() as t:
    t.record(0, ttalloc.MEM_DRAM, 1, 4096)
    with t.batch() as b:
        b.record(0, ttalloc.MEM_DRAM, 2, 4096)
    ok(not t.enabled and t.fd == -1 and b.done == 0 and t.clients() == []
       and t.usage(0).used == (0,) * ttalloc.MEM_COUNT,
       "tracking not enabled: a no-op context that accepts every call")
try:
    ttalloc.monitor()
    ok(False, "monitor without a device raises")
except ttalloc.Error as e:
    ok(isinstance(e, OSError) and e.errno == errno.ENOENT
       and e.filename == "/nonexistent/tt_alloc",
       "monitor without a device: OSError errno ENOENT naming the node")
try:
    ttalloc.mem_type_from_name("sram")
    ok(False, "unknown memory type name raises")
except ttalloc.Error as e:
    ok(e.errno == errno.EINVAL, "unknown memory type name: errno EINVAL")
PYEOF
sed 's/^/# /' "$T/pkg.err"
[ "$(grep -c . "$T/pkg.txt")" = 4 ]
ok $? "the package checks ran (4 results)"
while IFS='|' read -r rc what; do ok "$rc" "$what"; done <"$T/pkg.txt"

# 3. the plugin without a device: by default a checked test runs unchecked
# (passes), a fixture test is skipped, one summary line; with
# --tt-alloc-require or TT_ALLOC_REQUIRE=1 a checked test fails with errno 2
cat >"$T/test_nodev.py" <<'PYEOF'
import pytest

@pytest.mark.tt_alloc_leak_check
def test_checked():
    pass

def test_unchecked():
    pass

def test_fixture(tt_alloc_leak_check):
    pass
PYEOF
nodev() { # OUTFILE [ARGS]: rc of pytest on test_nodev.py
	o=$1; shift
	(cd "$T" && $PY -m pytest -q -p ttalloc.pytest_plugin -p no:cacheprovider -rfs \
		--rootdir "$T" test_nodev.py "$@") >"$o" 2>&1
}
nodev "$T/pt.txt"
rc=$?
sed 's/^/# /' "$T/pt.txt"
[ $rc = 0 ] && grep -q '^2 passed, 1 skipped' "$T/pt.txt" &&
	grep -qx "tt_alloc: no leak check (1 test(s) ran unchecked): \[Errno 2\] No such file or directory: '/nonexistent/tt_alloc'; --tt-alloc-require or TT_ALLOC_REQUIRE=1 makes this a failure" "$T/pt.txt"
ok $? "pytest plugin, no device: the suite passes (checked test unchecked, fixture test skipped), one summary line"
for how in --tt-alloc-require TT_ALLOC_REQUIRE=1; do
	case $how in
	--*) nodev "$T/pt.txt" "$how" -k "not fixture" ;;
	*) TT_ALLOC_REQUIRE=1 nodev "$T/pt.txt" -k "not fixture" ;;
	esac
	rc=$?
	sed 's/^/# /' "$T/pt.txt"
	[ $rc = 1 ] && grep -q '^FAILED test_nodev.py::test_checked' "$T/pt.txt" &&
		grep -qx "tt_alloc leak check: \\[Errno 2\\] No such file or directory: '/nonexistent/tt_alloc'" "$T/pt.txt" &&
		grep -q '^1 failed, 1 passed' "$T/pt.txt"
	ok $? "pytest plugin, no device, $how: the checked test fails with errno 2, the other passes"
done

rm -rf "$T"
echo "1..$n"
[ $failed = 0 ]
