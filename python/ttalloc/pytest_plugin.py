# SPDX-License-Identifier: LGPL-2.1-or-later
"""pytest plugin: fail a test that leaves device memory recorded.

Load it with ``-p ttalloc.pytest_plugin`` (it is also registered under that
name through the ``pytest11`` entry point when the package is installed).
A test is checked when it is marked ``@pytest.mark.tt_alloc_leak_check``,
uses the ``tt_alloc_leak_check`` fixture, or when pytest runs with
``--tt-alloc-leak-check``. The usage is snapshotted just before the test
function runs (its fixtures are set up) and just after it returns (after a
``gc.collect()``, before fixture teardown); any difference in bytes or
entries, per device and memory type, fails the test with a diff.

What is compared (``--tt-alloc-scope``):

``process`` (default)
    the rows of the client list whose pid is this process: every
    /dev/tt_alloc file this process opened, whichever library opened it
    (the runtime's own context included). Other processes on the machine
    do not disturb it.
``device``
    the device-scope usage (every client of every device). Any other
    process recording or freeing meanwhile shows up as a difference.

A test that frees what an earlier test leaked is a difference too.

Without the device (no tt_alloc module: opening it fails with ENOENT,
ENODEV or ENXIO) a checked test is not checked: it runs and its own
outcome stands, a test using the ``tt_alloc_leak_check`` fixture is
skipped, and the terminal summary says so in one line. So a suite stays
green on machines without tt_alloc. ``--tt-alloc-require`` (or
``TT_ALLOC_REQUIRE=1``) makes a checked test fail with the error instead.
Any other error opening the device (EACCES, EPROTO, ...) fails it always.

Records still queued in a libttalloc context (not yet flushed) are not
seen by either: the kernel does not know them yet.
"""
import errno
import gc
import os

import pytest

MARKER = "tt_alloc_leak_check"
_KEY = pytest.StashKey[str]()
# errnos that mean "this machine has no tt_alloc module"
_ABSENT = (errno.ENOENT, errno.ENODEV, errno.ENXIO)


def pytest_addoption(parser):
    g = parser.getgroup("tt_alloc", "tt_alloc device-memory leak check")
    g.addoption("--tt-alloc-leak-check", action="store_true", default=False,
                help="check every test for device-memory leaks")
    g.addoption("--tt-alloc-scope", choices=("process", "device"),
                default="process",
                help="compare this process's clients (default) or the "
                     "whole devices")
    g.addoption("--tt-alloc-device", default=None, metavar="PATH",
                help="device node (default $TT_ALLOC_DEVICE or /dev/tt_alloc)")
    g.addoption("--tt-alloc-require", action="store_true", default=False,
                help="fail checked tests when the device is absent (default: "
                     "run them unchecked; also TT_ALLOC_REQUIRE=1)")


def pytest_configure(config):
    config.addinivalue_line(
        "markers", MARKER + ": fail the test when device-memory usage "
        "(tt_alloc) after it differs from before it")


class _Monitor:
    """A lazily opened read-only context shared by the session."""

    def __init__(self, config):
        self.config = config
        self.ctx = None
        self.absent = None      # the error when the device is absent
        self.unchecked = 0      # checked tests run without the check
        self.require = (config.getoption("--tt-alloc-require")
                        or os.environ.get("TT_ALLOC_REQUIRE") == "1")

    def missing(self, e):
        """True when error e means no module and that is not an error."""
        if self.require or e.errno not in _ABSENT:
            return False
        self.absent = e
        return True

    def get(self):
        if self.ctx is None:
            import ttalloc
            self.ctx = ttalloc.monitor(
                self.config.getoption("--tt-alloc-device"))
        return self.ctx

    def close(self):
        if self.ctx is not None:
            self.ctx.close()
            self.ctx = None


def snapshot(ctx, scope="process"):
    """{(device, type name): (bytes, entries)} with only non-zero entries."""
    import ttalloc
    snap = {}
    if scope == "device":
        for d in range(ctx.info().num_devices):
            u = ctx.usage(d, ttalloc.SCOPE_DEVICE)
            for t in range(ttalloc.MEM_COUNT):
                if u.used[t] or u.allocations[t]:
                    snap[(d, ttalloc.mem_type_name(t))] = (u.used[t],
                                                           u.allocations[t])
        return snap
    pid = os.getpid()
    for c in ctx.clients():
        if c.pid != pid or c.device == ttalloc.DEVICE_NONE:
            continue
        for t in range(ttalloc.MEM_COUNT):
            if c.used[t] or c.allocations[t]:
                k = (c.device, ttalloc.mem_type_name(t))
                b, e = snap.get(k, (0, 0))
                snap[k] = (b + c.used[t], e + c.allocations[t])
    return snap


def diff(before, after):
    """Lines 'device D TYPE: +B bytes, +E entries (X -> Y bytes)'."""
    lines = []
    for k in sorted(set(before) | set(after)):
        b0, e0 = before.get(k, (0, 0))
        b1, e1 = after.get(k, (0, 0))
        if (b0, e0) != (b1, e1):
            lines.append("device %d %s: %+d bytes, %+d entries "
                         "(%d -> %d bytes, %d -> %d entries)"
                         % (k[0], k[1], b1 - b0, e1 - e0, b0, b1, e0, e1))
    return lines


def _wanted(item):
    return (item.config.getoption("--tt-alloc-leak-check")
            or item.get_closest_marker(MARKER) is not None
            or MARKER in getattr(item, "fixturenames", ()))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    if not _wanted(item):
        yield
        return
    mon = item.config._tt_alloc_monitor
    scope = item.config.getoption("--tt-alloc-scope")
    import ttalloc
    try:
        before, err = snapshot(mon.get(), scope), None
    except ttalloc.Error as e:
        if mon.missing(e):
            mon.unchecked += 1
            yield
            return
        err = "tt_alloc leak check: %s" % e
    if err:
        pytest.fail(err, pytrace=False)
    yield
    gc.collect()
    try:
        lines = diff(before, snapshot(mon.get(), scope))
    except ttalloc.Error as e:
        lines = ["cannot read the usage after the test: %s" % e]
    if lines:
        item.stash[_KEY] = (
            "tt_alloc: device-memory usage (%s scope) changed during the "
            "test:\n  " % scope + "\n  ".join(lines))


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    outcome = yield
    if call.when != "call":
        return
    msg = item.stash.get(_KEY, None)
    if msg is None:
        return
    rep = outcome.get_result()
    if rep.passed:
        rep.outcome = "failed"
        rep.longrepr = msg
    else:
        rep.sections.append(("tt_alloc leak check", msg))


@pytest.hookimpl(tryfirst=True)
def pytest_sessionstart(session):
    session.config._tt_alloc_monitor = _Monitor(session.config)


def pytest_terminal_summary(terminalreporter, config):
    mon = getattr(config, "_tt_alloc_monitor", None)
    if mon is not None and mon.absent is not None:
        terminalreporter.write_line(
            "tt_alloc: no leak check (%d test(s) ran unchecked): %s; "
            "--tt-alloc-require or TT_ALLOC_REQUIRE=1 makes this a failure"
            % (mon.unchecked, mon.absent))


def pytest_sessionfinish(session):
    mon = getattr(session.config, "_tt_alloc_monitor", None)
    if mon is not None:
        mon.close()


@pytest.fixture
def tt_alloc_leak_check(request):
    """Check this test for leaks; the value is the read-only
    :class:`ttalloc.Context` the check uses (usage and clients queries).
    Without the device (and without --tt-alloc-require) the test is
    skipped: there is no context to give it."""
    import ttalloc
    mon = request.config._tt_alloc_monitor
    try:
        return mon.get()
    except ttalloc.Error as e:
        if mon.missing(e):
            pytest.skip("tt_alloc: %s" % e)
        raise
