#!/bin/sh
# SPDX-License-Identifier: GPL-2.0
# Guest test of the ttalloc Python package and its pytest plugin (root,
# tt_alloc loaded with defaults): Debian's /usr/bin/python3 runs the pytest
# suite of python/tests (installed in ../tests/python) against the module,
# the package imported from ../lib/python3/dist-packages (it finds
# ../lib/libttalloc.so.1 by itself). The suite's own inner pytest sessions
# check that the plugin reports deliberate leaks. One TAP case per test;
# pytest's output is printed as comments.
here=$(cd "$(dirname "$0")" && pwd)
PY=/usr/bin/python3
T=/tmp/python-test.$$
mkdir -p $T
if [ ! -x $PY ] || ! $PY -c 'import pytest' >$T/err 2>&1; then
	sed 's/^/# /' $T/err
	echo "not ok 1 $PY with pytest in the guest (selftests/vm/mkinitramfs packs it)"
	echo "1..1"
	exit 1
fi
export PYTHONPATH=$here/../lib/python3/dist-packages:$here/python
export PYTHONDONTWRITEBYTECODE=1
export TT_ALLOC_TRACKING_ENABLED=1
export TT_TAP_FILE=$T/tap
unset TT_ALLOC_LIBRARY TT_ALLOC_DEVICE
(cd $T && $PY -m pytest -p ttalloc.pytest_plugin -p no:cacheprovider \
	--rootdir "$here/python" -rfE "$here/python") >$T/out 2>&1
rc=$?
sed 's/^/# /' $T/out
if [ ! -s $T/tap ]; then
	echo "not ok 1 pytest wrote no results (exit $rc)"
	echo "1..1"
	exit 1
fi
cat $T/tap
# pytest's status and the TAP must agree (0: all passed, 1: some failed)
if grep -q '^not ok' $T/tap; then
	[ $rc = 1 ] || echo "# pytest exit status $rc, expected 1"
	exit 1
fi
[ $rc = 0 ] || { echo "# pytest exit status $rc with every test ok"; exit 1; }
rm -rf $T
exit 0
