# SPDX-License-Identifier: GPL-2.0
"""The pytest plugin catching deliberate leaks: an inner pytest session
(subprocess) runs INNER and its outcome and report are checked."""
import os
import re
import subprocess
import sys

import pytest

INNER = '''
import subprocess, sys
import pytest
import ttalloc

KEEP = []          # contexts kept open: their records outlive the test


def leak(device, type, id, size):
    tt = ttalloc.open()
    KEEP.append(tt)
    tt.record(device, type, id, size)


@pytest.mark.tt_alloc_leak_check
def test_leaks():
    leak(0, ttalloc.MEM_DRAM, 0x1000, 4096)
    leak(1, ttalloc.MEM_L1, 0x20, 2048)
    leak(1, ttalloc.MEM_L1, 0x40, 2048)


@pytest.mark.tt_alloc_leak_check
def test_clean():
    with ttalloc.open() as tt:
        tt.record(0, ttalloc.MEM_DRAM, 0x2000, 1 << 20)
        tt.free(0, ttalloc.MEM_DRAM, 0x2000)
        tt.record(0, ttalloc.MEM_CB, 0x3000, 1 << 16)
    with ttalloc.open() as tt:      # the close reclaims it
        tt.record(0, ttalloc.MEM_TRACE, 0x3000, 1 << 16)


@pytest.mark.tt_alloc_leak_check
def test_frees_earlier_leak():
    KEEP[0].free(0, ttalloc.MEM_DRAM, 0x1000)


def test_unchecked_leak():
    leak(0, ttalloc.MEM_L1_SMALL, 0x50, 512)


def test_fixture_leak(tt_alloc_leak_check):
    assert tt_alloc_leak_check.info().api_version == ttalloc.API_VERSION
    leak(0, ttalloc.MEM_TRACE, 0x60, 8192)


@pytest.mark.tt_alloc_leak_check
def test_fails_and_leaks():
    leak(0, ttalloc.MEM_CB, 0x70, 256)
    assert 1 == 2


OTHERS = []


@pytest.mark.tt_alloc_leak_check
def test_other_process():
    # another process records during the test and still holds it after
    p = subprocess.Popen([sys.executable, "-c",
        "import sys, ttalloc; t = ttalloc.open(); "
        "t.record(0, ttalloc.MEM_DRAM, 0x7000, 8192); "
        "print('held', flush=True); sys.stdin.read()"],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert p.stdout.readline() == b"held\\n"
    OTHERS.append(p)     # exits when this session ends (stdin EOF)
'''


@pytest.fixture
def inner(tmp_path):
    (tmp_path / "test_inner.py").write_text(INNER)

    def run(*args):
        p = subprocess.run(
            [sys.executable, "-m", "pytest", "-p", "ttalloc.pytest_plugin",
             "-p", "no:cacheprovider", "-q", "-rfE", "--rootdir",
             str(tmp_path), str(tmp_path / "test_inner.py")] + list(args),
            cwd=str(tmp_path), stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, universal_newlines=True, timeout=600)
        sys.stdout.write(p.stdout)      # in the log when an assert fails
        return p.returncode, p.stdout
    return run


def section(out, test):
    """The failure report of one test in pytest's output."""
    m = re.search(r"_{3,} %s _{3,}\n(.*?)(?=\n_{3,} |\n={3,} )" % test,
                  out, re.S)
    return m.group(1) if m else ""


def test_leaks_are_reported_per_device_and_type(inner):
    rc, out = inner()
    assert rc == 1
    assert re.search(r"^4 failed, 3 passed in ", out, re.M), out
    s = section(out, "test_leaks")
    assert "device-memory usage (process scope) changed" in s
    assert ("device 0 dram: +4096 bytes, +1 entries "
            "(0 -> 4096 bytes, 0 -> 1 entries)") in s
    assert ("device 1 l1: +4096 bytes, +2 entries "
            "(0 -> 4096 bytes, 0 -> 2 entries)") in s
    assert s.count("device ") == 2
    # earlier leaks are the baseline of the next checked test
    s = section(out, "test_fixture_leak")
    assert "device 0 trace: +8192 bytes, +1 entries" in s
    assert "dram" not in s and "l1_small" not in s
    # a test that fails anyway keeps its failure and gets the diff
    s = section(out, "test_fails_and_leaks")
    assert "assert 1 == 2" in s
    assert "tt_alloc leak check" in s and "device 0 cb: +256 bytes" in s
    # freeing what an earlier test leaked is a difference too
    assert ("device 0 dram: -4096 bytes, -1 entries "
            "(4096 -> 0 bytes, 1 -> 0 entries)"
            in section(out, "test_frees_earlier_leak"))
    for t in ("test_clean", "test_unchecked_leak", "test_other_process"):
        assert "FAILED test_inner.py::%s " % t not in out
        assert section(out, t) == ""


def test_option_checks_every_test(inner):
    rc, out = inner("--tt-alloc-leak-check", "-k", "unchecked")
    assert rc == 1 and re.search(r"^1 failed, 6 deselected", out, re.M)
    assert ("device 0 l1_small: +512 bytes, +1 entries"
            in section(out, "test_unchecked_leak"))


def test_device_scope_sees_other_processes(inner):
    rc, out = inner("--tt-alloc-scope=device", "-k", "other_process")
    assert rc == 1
    assert "device-memory usage (device scope) changed" in out
    assert ("device 0 dram: +8192 bytes, +1 entries"
            in section(out, "test_other_process"))


def test_no_device_is_not_an_error_by_default(inner, tmp_path):
    # a machine without the module: checked tests run unchecked (a leak
    # is not seen), a fixture test is skipped, the suite passes
    none = tmp_path / "none"
    rc, out = inner("--tt-alloc-device", str(none), "-rs", "-k",
                    "test_clean or test_leaks or test_fixture_leak")
    assert rc == 0 and re.search(r"^2 passed, 1 skipped", out, re.M), out
    assert ("SKIPPED [1] " in out
            and "tt_alloc: [Errno 2] No such file or directory: '%s'"
            % none in out)
    assert ("tt_alloc: no leak check (2 test(s) ran unchecked): [Errno 2] "
            "No such file or directory: '%s'; --tt-alloc-require or "
            "TT_ALLOC_REQUIRE=1 makes this a failure" % none) in out


@pytest.mark.parametrize("how", ["option", "env"])
def test_no_device_is_an_error_when_required(inner, tmp_path, how,
                                             monkeypatch):
    args = ["--tt-alloc-device", str(tmp_path / "none"), "-k",
            "test_clean or test_unchecked_leak"]
    if how == "option":
        args.append("--tt-alloc-require")
    else:
        monkeypatch.setenv("TT_ALLOC_REQUIRE", "1")
    rc, out = inner(*args)
    assert rc == 1 and re.search(r"^1 failed, 1 passed", out, re.M)
    assert ("tt_alloc leak check: [Errno 2] No such file or directory: '%s'"
            % (tmp_path / "none")) in section(out, "test_clean")
    assert "no leak check" not in out


def test_marker_registered(inner):
    rc, out = inner("--markers")
    assert rc == 0
    assert "@pytest.mark.tt_alloc_leak_check:" in out
    assert os.environ.get("TT_ALLOC_TRACKING_ENABLED") == "1"
