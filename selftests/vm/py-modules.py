#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0
"""List the files the guest's Python tests need (for mkinitramfs).

    py-modules.py PKGDIR TESTDIR

Runs, in this interpreter (Debian's /usr/bin/python3), what the guest
suite runs: imports ttalloc from PKGDIR, collects the pytest suite of
TESTDIR, and runs a small synthetic session that passes, fails, errors,
skips and reports a leak diff through the plugin, so that the modules
pytest imports lazily for its reports are imported too. Then prints one
"SOURCE DESTINATION" line per file to pack: every module loaded, as its
cached bytecode put where the source was (X.pyc beside the package, which
Python imports without the source; the source itself when there is no
bytecode), extension modules, the interpreter and the landmarks getpath
needs (os, lib-dynload); a directory is "DIR DIR". Pytest's output goes
to stderr.
"""
import contextlib
import importlib.util
import os
import sys
import sysconfig
import tempfile

SYNTH = '''
import os, subprocess, sys
import pytest
import ttalloc
from ttalloc import pytest_plugin as p


def test_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("X", "1")
    (tmp_path / "f").write_text("x")
    assert p.diff({(0, "dram"): (1, 1)}, {})[0].startswith("device 0 dram")


def test_fail():
    assert {"a": [1, 2]} == {"a": [1, 3]}


def test_error_in_monitor():
    with pytest.raises(ttalloc.Error):
        ttalloc.monitor("/nonexistent/tt_alloc")
    raise ttalloc.Error(2, "x")


@pytest.mark.tt_alloc_leak_check
def test_checked():
    pass


@pytest.mark.parametrize("x", [1, 2])
def test_param(x):
    subprocess.run([sys.executable, "-c", "pass"], check=True)
    pytest.skip("s")
'''


def main():
    pkgdir, testdir = sys.argv[1:3]
    sys.path[:0] = [pkgdir, testdir]
    import runpy  # noqa: F401  (python3 -m pytest)
    import pytest
    import pytest.__main__  # noqa: F401
    import ttalloc  # noqa: F401
    import ttalloc.pytest_plugin  # noqa: F401
    with tempfile.TemporaryDirectory() as tmp, \
            contextlib.redirect_stdout(sys.stderr):
        with open(os.path.join(tmp, "test_synth.py"), "w") as f:
            f.write(SYNTH)
        common = ["-p", "ttalloc.pytest_plugin", "-p", "no:cacheprovider",
                  "-rfE", "--rootdir", tmp]
        pytest.main(common + ["-q", "--collect-only", testdir])
        pytest.main(common + ["-q", "--markers"])
        pytest.main(common + ["--tt-alloc-device", "/nonexistent", tmp])
    files = set()
    for name, m in list(sys.modules.items()):
        if name == "__main__":
            continue
        f = getattr(m, "__file__", None)
        if not f or not os.path.isabs(f):
            continue
        f = os.path.realpath(f) if f.endswith(".so") else f
        if f.startswith((os.path.abspath(pkgdir), os.path.abspath(testdir),
                         tmp)):
            continue
        files.add(f)
    std = sysconfig.get_path("stdlib")
    for f in ("os.py", "encodings/__init__.py", "encodings/utf_8.py",
              "encodings/aliases.py", "encodings/ascii.py",
              "encodings/latin_1.py"):
        files.add(os.path.join(std, f))
    files.add(os.path.join(std, "lib-dynload"))
    files.add(os.path.realpath(sys.executable))
    for f in sorted(files):
        dst = f
        if f.endswith(".py"):
            c = importlib.util.cache_from_source(f)
            if os.path.exists(c):
                f, dst = c, f + "c"
        print(f, dst)


if __name__ == "__main__":
    main()
