# SPDX-License-Identifier: GPL-2.0
"""The ttalloc API against the real module (guest, root,
TT_ALLOC_TRACKING_ENABLED=1, tt_alloc loaded with defaults)."""
import errno
import os

import pytest

import ttalloc
from conftest import sysfs

D = ttalloc.MEM_DRAM
L1 = ttalloc.MEM_L1


def dev_used(mon, t, device=0):
    u = mon.usage(device, ttalloc.SCOPE_DEVICE)
    return u.used[t], u.allocations[t]


def test_info(mon):
    i = mon.info()
    assert i.api_version == ttalloc.API_VERSION
    assert i.num_devices >= 2
    assert i.num_mem_types == ttalloc.MEM_COUNT
    assert i.client_id > 0
    with ttalloc.open() as tt:
        assert tt.enabled and tt.fd >= 0
        assert tt.info().client_id not in (0, i.client_id)


def test_record_free_file_and_device_scope(mon):
    base = dev_used(mon, D)
    with ttalloc.open() as tt:
        tt.record(0, D, 0x10000, 4096)
        tt.record(1, L1, 0x20, 2048)
        u = tt.usage(0)
        assert (u.used[D], u.allocations[D]) == (4096, 1)
        assert u.used[L1] == 0 and u.peak == (0,) * ttalloc.MEM_COUNT
        assert tt.usage(1).used[L1] == 2048
        assert dev_used(mon, D) == (base[0] + 4096, base[1] + 1)
        assert sysfs(0, "dram", "used_bytes") == base[0] + 4096
        assert sysfs(1, "l1", "allocations") >= 1
        assert u.by_type()["dram"] == (4096, 1)
        tt.free(0, D, 0x10000)
        assert tt.usage(0).used[D] == 0
        assert dev_used(mon, D) == base
        # the L1 entry is still held: closing the file drops it
    assert mon.usage(1, ttalloc.SCOPE_DEVICE).used[L1] == 0


def test_references_and_kernel_kind(mon):
    with ttalloc.open() as tt:
        tt.record(0, ttalloc.MEM_KERNEL, 0x1000, 56 << 10,
                  ttalloc.KERNEL_FABRIC)
        tt.record(0, ttalloc.MEM_KERNEL, 0x1000, 56 << 10,
                  ttalloc.KERNEL_FABRIC)
        assert tt.usage(0).allocations[ttalloc.MEM_KERNEL] == 1
        assert sysfs(0, "kernel", "system_bytes") == 56 << 10
        tt.free(0, ttalloc.MEM_KERNEL, 0x1000)
        assert tt.usage(0).used[ttalloc.MEM_KERNEL] == 56 << 10
        tt.free(0, ttalloc.MEM_KERNEL, 0x1000)
        assert tt.usage(0).used[ttalloc.MEM_KERNEL] == 0


@pytest.mark.parametrize("call,err", [
    (lambda tt: tt.free(0, D, 0xdead), errno.ENOENT),
    (lambda tt: tt.record(0, D, 1, 0), errno.EINVAL),
    (lambda tt: tt.record(0, 99, 1, 4096), errno.EINVAL),
    (lambda tt: tt.record(4096, D, 1, 4096), errno.ENODEV),
    (lambda tt: (tt.record(0, D, 1, 4096), tt.record(0, D, 1, 8192)),
     errno.EEXIST),
], ids=["free-unknown", "size-0", "bad-type", "bad-device", "other-size"])
def test_errors_carry_errno(call, err):
    with ttalloc.open() as tt:
        with pytest.raises(ttalloc.Error) as ei:
            call(tt)
    assert isinstance(ei.value, OSError)
    assert ei.value.errno == err
    assert ei.value.strerror == ttalloc.strerror(err)


def test_batch_flushes_on_exit(mon):
    base = dev_used(mon, D)
    with ttalloc.open() as tt:
        with tt.batch() as b:
            for i in range(3):
                b.record(0, D, 0x1000 * (i + 1), 1024)
            b.free(0, D, 0x1000)
            assert tt.queued == 4
            assert dev_used(mon, D) == base     # nothing sent yet
        assert b.done == 4 and tt.queued == 0
        assert tt.usage(0).allocations[D] == 2
        assert dev_used(mon, D) == (base[0] + 2048, base[1] + 2)
    assert dev_used(mon, D) == base


def test_batch_error(mon):
    with ttalloc.open() as tt:
        assert tt.error_count == 0 and tt.last_error == 0
        tt.queue_record(0, D, 0x5000, 4096)
        tt.queue_free(0, D, 0x6000)             # never recorded
        tt.queue_record(0, D, 0x7000, 4096)
        with pytest.raises(ttalloc.BatchError) as ei:
            tt.flush()
        assert ei.value.errno == errno.ENOENT and ei.value.done == 2
        assert tt.queued == 0
        # only the refused op is lost: the ops around it are applied
        assert tt.usage(0).used[D] == 8192
        assert tt.error_count == 1 and tt.last_error == errno.ENOENT


def test_flush_delay():
    with ttalloc.open() as tt:
        assert tt.flush_delay == 100            # the documented default
        tt.flush_delay = 0
        assert tt.flush_delay == 0
        tt.flush_delay = 250
        assert tt.flush_delay == 250
        with pytest.raises(ttalloc.Error) as ei:
            tt.flush_delay = 3600 * 1000 + 1
        assert ei.value.errno == errno.EINVAL and tt.flush_delay == 250
        assert tt.features & 1                  # TT_ALLOC_FEATURE_CLIENTS_CURSOR


def test_feature_bits():
    with ttalloc.open() as tt:
        # the kernel has all three, and the library knows them
        kernel = tt.info().features
        assert kernel & ttalloc.FEATURE_CLIENTS_CURSOR
        assert kernel & ttalloc.FEATURE_ELEM_SIZE
        assert kernel & ttalloc.FEATURE_CLIENT_OWNER
        assert tt.features == (ttalloc.FEATURE_CLIENTS_CURSOR
                               | ttalloc.FEATURE_ELEM_SIZE
                               | ttalloc.FEATURE_CLIENT_OWNER)


def test_batch_size_threshold():
    with ttalloc.open() as tt:
        tt.batch_size = 2
        assert tt.batch_size == 2
        tt.queue_record(0, D, 1, 4096)
        assert tt.queued == 1 and tt.usage(0).used[D] == 0
        tt.queue_record(0, D, 2, 4096)
        assert tt.queued == 0 and tt.usage(0).used[D] == 8192
        with pytest.raises(ttalloc.Error) as ei:
            tt.batch_size = ttalloc.BATCH_MAX + 1
        assert ei.value.errno == errno.EINVAL


def test_close_reclaims_and_closed_context(mon):
    base = dev_used(mon, D)
    tt = ttalloc.open()
    tt.record(0, D, 0x7000, 1 << 20)
    tt.queue_record(0, D, 0x8000, 1 << 20)
    assert dev_used(mon, D) == (base[0] + (1 << 20), base[1] + 1)
    tt.close()                                  # flushes, then drops both
    assert dev_used(mon, D) == base
    tt.close()                                  # idempotent
    with pytest.raises(ttalloc.Error) as ei:
        tt.record(0, D, 1, 1)
    assert ei.value.errno == errno.EBADF


def test_clients(mon):
    with open("/proc/self/comm") as f:
        comm = f.read().strip()
    with ttalloc.open() as tt:
        tt.record(1, ttalloc.MEM_TRACE, 0x40, 3 << 20)
        me = tt.info().client_id
        rows = [c for c in mon.clients() if c.client_id == me]
        assert len(rows) == 1
        r = rows[0]
        assert (r.pid, r.device, r.comm) == (os.getpid(), 1, comm)
        assert r.used[ttalloc.MEM_TRACE] == 3 << 20
        assert r.allocations[ttalloc.MEM_TRACE] == 1
        # whose: our uid, our cgroup v2 cgroup (its directory's inode)
        assert r.uid == os.getuid()
        # (no "0::" line until cgroup2 has been mounted once)
        with open("/proc/self/cgroup") as f:
            path = next((ln[3:].strip() for ln in f if ln.startswith("0::")), None)
        with open("/proc/self/mounts") as f:
            cg2 = any(ln.split()[1:3] == ["/sys/fs/cgroup", "cgroup2"] for ln in f)
        if cg2 and path is not None:
            assert r.cgroup_id == os.stat("/sys/fs/cgroup" + path).st_ino
        assert r.cgroup_id != 0
        # the monitor holds nothing: one row, device NONE
        mine = [c for c in mon.clients() if c.client_id == mon.info().client_id]
        assert [c.device for c in mine] == [ttalloc.DEVICE_NONE]
    assert [c for c in mon.clients() if c.client_id == me] == []


@pytest.mark.parametrize("value", [None, "0", "yes", " 1"])
def test_tracking_disabled_is_noop(mon, monkeypatch, value):
    if value is None:
        monkeypatch.delenv("TT_ALLOC_TRACKING_ENABLED", raising=False)
    else:
        monkeypatch.setenv("TT_ALLOC_TRACKING_ENABLED", value)
    base = dev_used(mon, D)
    with ttalloc.open() as tt:
        assert not tt.enabled and tt.fd == -1
        tt.record(0, D, 0x9000, 4096)           # succeeds, records nothing
        assert dev_used(mon, D) == base
        assert tt.info().api_version == 0 and tt.clients() == []


def test_monitor_errors(tmp_path):
    with pytest.raises(ttalloc.Error) as ei:
        ttalloc.monitor(str(tmp_path / "missing"))
    assert ei.value.errno == errno.ENOENT
    with ttalloc.monitor() as m:
        with pytest.raises(ttalloc.Error) as ei:
            m.record(0, D, 1, 4096)             # read-only file
        assert ei.value.errno in (errno.EBADF, errno.EPERM, errno.EACCES)


def test_names():
    assert [ttalloc.mem_type_name(t) for t in range(ttalloc.MEM_COUNT)] == [
        "dram", "l1", "system", "l1_small", "trace", "cb", "kernel"]
    assert ttalloc.mem_type_from_name("L1_SMALL") == ttalloc.MEM_L1_SMALL
    assert ttalloc.kernel_kind_from_name("dispatch") == ttalloc.KERNEL_DISPATCH
    assert ttalloc.library_version() == ttalloc.__version__
