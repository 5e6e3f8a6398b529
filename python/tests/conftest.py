# SPDX-License-Identifier: GPL-2.0
"""Guest pytest suite of the ttalloc package: TAP for the VM harness.

With $TT_TAP_FILE set, one TAP line per test (every phase counted as one
case: not ok when setup, call or teardown failed) and the plan are
written to that file.
"""
import os

import pytest

_tap = {"n": 0, "lines": [], "cur": {}}


def pytest_runtest_logreport(report):
    cur = _tap["cur"].setdefault(report.nodeid, [])
    cur.append(report)


def pytest_runtest_logfinish(nodeid, location):
    reps = _tap["cur"].pop(nodeid, [])
    _tap["n"] += 1
    n = _tap["n"]
    name = nodeid.split("::", 1)[-1]
    if any(r.failed for r in reps):
        _tap["lines"].append("not ok %d %s" % (n, name))
    elif any(r.skipped for r in reps):
        why = ""
        for r in reps:
            if r.skipped and isinstance(r.longrepr, tuple):
                why = " " + str(r.longrepr[2])
        _tap["lines"].append("ok %d %s # SKIP%s" % (n, name, why))
    else:
        _tap["lines"].append("ok %d %s" % (n, name))


def pytest_sessionfinish(session):
    path = os.environ.get("TT_TAP_FILE")
    if path:
        with open(path, "w") as f:
            for line in _tap["lines"]:
                f.write(line + "\n")
            f.write("1..%d\n" % _tap["n"])


@pytest.fixture
def mon():
    """A monitoring context (the module must be loaded)."""
    import ttalloc
    with ttalloc.monitor() as m:
        yield m


def sysfs(device, typ, attr):
    with open("/sys/class/tt_alloc/device%d/%s/%s" % (device, typ, attr)) as f:
        return int(f.read())
