# SPDX-License-Identifier: LGPL-2.1-or-later
"""ttalloc: record Tenstorrent device-memory allocations with /dev/tt_alloc.

A thin ctypes binding of libttalloc (``libttalloc.so.1``), standard library
only. See Documentation/userspace-api/python.rst.

    import ttalloc
    with ttalloc.open() as tt:              # no-op unless TT_ALLOC_TRACKING_ENABLED=1
        tt.record(0, ttalloc.MEM_DRAM, 0x10000, 1 << 20)
        tt.free(0, ttalloc.MEM_DRAM, 0x10000)

Every failing call raises :class:`Error`, an :class:`OSError` whose
``errno`` is the library's (positive) errno value.
"""
import collections
import ctypes
import errno as _errno
import os

from ._version import __version__  # noqa: F401
from ._uapi import *  # noqa: F401,F403  (the uapi constants)
from ._uapi import (MEM_COUNT, SCOPE_FILE, tt_alloc_client, tt_alloc_info,
                    tt_alloc_usage)

# libttalloc.h's TT_ALLOC_UID_UNKNOWN: the kernel does not report the owner
UID_UNKNOWN = 0xFFFFFFFF

__all__ = [
    "Error", "BatchError", "Context", "Batch", "Info", "Usage", "Client",
    "open", "monitor", "library_path", "library_version", "strerror", "mem_type_name",
    "mem_type_from_name", "kernel_kind_name", "kernel_kind_from_name",
]

#: tt_alloc_open_ex() flags (libttalloc.h)
OPEN_MONITOR = 1 << 0
OPEN_QUIET = 1 << 1

SONAME = "libttalloc.so.1"


class Error(OSError):
    """A libttalloc call failed; ``errno`` and ``strerror`` say why."""


class BatchError(Error):
    """A flush failed; ``done`` operations before the failing one were applied."""

    def __init__(self, err, msg, done):
        super().__init__(err, msg)
        self.done = done


_lib = None


def _candidates():
    env = os.environ.get("TT_ALLOC_LIBRARY")
    if env:
        yield env
        return
    # installed together (make install, the build tree):
    # PREFIX/lib/python3*/dist-packages/ttalloc -> PREFIX/lib
    here = os.path.dirname(os.path.abspath(__file__))
    beside = os.path.normpath(os.path.join(here, "..", "..", "..", SONAME))
    if os.path.exists(beside):
        yield beside
    yield SONAME        # the dynamic loader's search (pip-installed package)


def _load():
    global _lib
    if _lib is not None:
        return _lib
    errors = []
    for path in _candidates():
        try:
            lib = ctypes.CDLL(path, use_errno=True)
            break
        except OSError as e:
            errors.append(str(e))
    else:
        raise Error(_errno.ENOENT, "cannot load %s (set TT_ALLOC_LIBRARY): %s"
                    % (SONAME, "; ".join(errors)))
    P = ctypes.c_void_p
    u32, u64, i32, sz = (ctypes.c_uint32, ctypes.c_uint64, ctypes.c_int,
                         ctypes.c_size_t)
    sigs = {
        "tt_alloc_open_ex": (i32, [ctypes.c_char_p, ctypes.c_uint,
                                   ctypes.POINTER(P)]),
        "tt_alloc_open": (i32, [ctypes.POINTER(P)]),
        "tt_alloc_close": (i32, [P]),
        "tt_alloc_enabled": (i32, [P]),
        "tt_alloc_fd": (i32, [P]),
        "tt_alloc_get_info": (i32, [P, ctypes.POINTER(tt_alloc_info)]),
        "tt_alloc_record": (i32, [P, u32, u32, u64, u64, u32]),
        "tt_alloc_free": (i32, [P, u32, u32, u64]),
        "tt_alloc_queue_record": (i32, [P, u32, u32, u64, u64, u32]),
        "tt_alloc_queue_free": (i32, [P, u32, u32, u64]),
        "tt_alloc_flush": (i32, [P, ctypes.POINTER(u32)]),
        "tt_alloc_queued": (sz, [P]),
        "tt_alloc_set_batch_size": (i32, [P, sz]),
        "tt_alloc_batch_size": (sz, [P]),
        "tt_alloc_get_usage": (i32, [P, u32, u32,
                                     ctypes.POINTER(tt_alloc_usage)]),
        "tt_alloc_get_clients": (i32, [P, ctypes.POINTER(
            ctypes.POINTER(tt_alloc_client)), ctypes.POINTER(sz)]),
        "tt_alloc_clients_free": (None, [ctypes.POINTER(tt_alloc_client)]),
        "tt_alloc_strerror": (ctypes.c_char_p, [i32]),
        "tt_alloc_mem_type_name": (ctypes.c_char_p, [u32]),
        "tt_alloc_mem_type_from_name": (i32, [ctypes.c_char_p]),
        "tt_alloc_kernel_kind_name": (ctypes.c_char_p, [u32]),
        "tt_alloc_kernel_kind_from_name": (i32, [ctypes.c_char_p]),
        "tt_alloc_library_version": (ctypes.c_char_p, []),
        "tt_alloc_features": (u64, [P]),
        "tt_alloc_set_flush_delay": (i32, [P, ctypes.c_uint]),
        "tt_alloc_flush_delay": (ctypes.c_uint, [P]),
        "tt_alloc_error_count": (u64, [P]),
        "tt_alloc_last_error": (i32, [P]),
    }
    for name, (res, args) in sigs.items():
        f = getattr(lib, name)
        f.restype = res
        f.argtypes = args
    # The client rows grew in libttalloc 1.1: take that version of the
    # function by name, so that an older library is refused, not misread.
    libc = ctypes.CDLL(None)
    libc.dlvsym.restype = P
    libc.dlvsym.argtypes = [P, ctypes.c_char_p, ctypes.c_char_p]
    addr = libc.dlvsym(lib._handle, b"tt_alloc_get_clients", b"TTALLOC_1.1")
    if not addr:
        raise Error(_errno.ENOENT, "%s has no tt_alloc_get_clients@TTALLOC_1.1:"
                    " libttalloc older than 1.1" % lib._name)
    res, args = sigs["tt_alloc_get_clients"]
    lib.tt_alloc_get_clients = ctypes.CFUNCTYPE(res, *args)(addr)
    _lib = lib
    return lib


def strerror(err):
    """The library's message for a (negative or positive) errno value."""
    return _load().tt_alloc_strerror(-abs(err)).decode()


def _check(rc):
    if rc < 0:
        raise Error(-rc, strerror(rc))
    return rc


def library_path():
    """The file name the library was loaded from."""
    return _load()._name


def library_version():
    """The version of the loaded libttalloc, e.g. "0.1.0"."""
    return _load().tt_alloc_library_version().decode()


def mem_type_name(t):
    """"dram", "l1", ... for a MEM_* value ("unknown" for others)."""
    return _load().tt_alloc_mem_type_name(t).decode()


def mem_type_from_name(name):
    """The MEM_* value of a name or number string; Error(EINVAL) otherwise."""
    return _check(_load().tt_alloc_mem_type_from_name(str(name).encode()))


def kernel_kind_name(kind):
    """"app", "fabric", "dispatch" or "unknown"."""
    return _load().tt_alloc_kernel_kind_name(kind).decode()


def kernel_kind_from_name(name):
    """The KERNEL_* value of a name or number string."""
    return _check(_load().tt_alloc_kernel_kind_from_name(str(name).encode()))


Info = collections.namedtuple(
    "Info", "api_version num_devices num_mem_types flags client_id features")

Client = collections.namedtuple(
    "Client", "client_id pid device comm flags used allocations uid cgroup_id")
Client.__doc__ = """One row of the client list: a client on one device.
``used`` and ``allocations`` are tuples indexed by MEM_*; ``uid`` is the
opener's uid as seen from this process's user namespace (None when the
kernel does not report it), ``cgroup_id`` its cgroup v2 cgroup at open
(the inode number of the cgroup's directory; 0 when not reported)."""


class Usage(collections.namedtuple(
        "Usage", "device scope used allocations peak capacity")):
    """TT_ALLOC_IOC_USAGE: tuples of MEM_COUNT values indexed by MEM_*."""

    __slots__ = ()

    def by_type(self):
        """{type name: (bytes, entries)} for every memory type."""
        return {mem_type_name(t): (self.used[t], self.allocations[t])
                for t in range(MEM_COUNT)}


class Context:
    """One open /dev/tt_alloc file (a libttalloc context).

    A context manager: leaving the ``with`` block flushes and closes it,
    which makes the kernel drop every allocation still recorded through it.
    """

    def __init__(self, path=None, monitor=False, quiet=False):
        lib = _load()
        self._lib = lib
        self._ctx = ctypes.c_void_p()
        flags = (OPEN_MONITOR if monitor else 0) | (OPEN_QUIET if quiet else 0)
        if path is None and not flags:
            rc = lib.tt_alloc_open(ctypes.byref(self._ctx))
        else:
            rc = lib.tt_alloc_open_ex(
                os.fsencode(path) if path is not None else None, flags,
                ctypes.byref(self._ctx))
        if rc < 0:
            if rc == -_errno.ENOMEM or rc == -_errno.EPROTO:
                raise Error(-rc, strerror(rc))
            node = path or os.environ.get("TT_ALLOC_DEVICE") or "/dev/tt_alloc"
            raise Error(-rc, os.strerror(-rc), node)
        self.closed = False

    # -- lifetime ----------------------------------------------------------
    def close(self):
        """Flush the queue and close; raises the final flush's error."""
        if self.closed:
            return
        self.closed = True
        ctx, self._ctx = self._ctx, ctypes.c_void_p()
        _check(self._lib.tt_alloc_close(ctx))

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()
        return False

    def __del__(self):
        try:
            if not getattr(self, "closed", True):
                self.close()
        except Exception:
            pass

    def _c(self):
        if self.closed:
            raise Error(_errno.EBADF, "ttalloc context is closed")
        return self._ctx

    # -- state ---------------------------------------------------------------
    @property
    def enabled(self):
        """True when calls reach the kernel, False for a no-op context."""
        return bool(self._lib.tt_alloc_enabled(self._c()))

    @property
    def fd(self):
        """The file descriptor, or -1 for a no-op context."""
        return self._lib.tt_alloc_fd(self._c())

    def info(self):
        """TT_ALLOC_IOC_INFO as an :class:`Info` (all 0 for a no-op context)."""
        i = tt_alloc_info()
        _check(self._lib.tt_alloc_get_info(self._c(), ctypes.byref(i)))
        return Info(i.api_version, i.num_devices, i.num_mem_types, i.flags,
                    i.client_id, i.features)

    # -- records -----------------------------------------------------------
    def record(self, device, type, id, size, kind=0):
        """Record one allocation (TT_ALLOC_IOC_ALLOC)."""
        _check(self._lib.tt_alloc_record(self._c(), device, type, id, size,
                                         kind))

    def free(self, device, type, id):
        """Drop one reference of an allocation (TT_ALLOC_IOC_FREE)."""
        _check(self._lib.tt_alloc_free(self._c(), device, type, id))

    def queue_record(self, device, type, id, size, kind=0):
        """Queue an allocation for the next batch (may flush: may raise)."""
        _check(self._lib.tt_alloc_queue_record(self._c(), device, type, id,
                                               size, kind))

    def queue_free(self, device, type, id):
        """Queue a free for the next batch (may flush: may raise)."""
        _check(self._lib.tt_alloc_queue_free(self._c(), device, type, id))

    def flush(self):
        """Send the queue (TT_ALLOC_IOC_BATCH); returns the ops applied.

        An op the kernel refuses is skipped and counted (``error_count``),
        the rest are applied; then :class:`BatchError` is raised with the
        first refused op's errno and ``done``, the ops applied.
        """
        done = ctypes.c_uint32(0)
        rc = self._lib.tt_alloc_flush(self._c(), ctypes.byref(done))
        if rc < 0:
            raise BatchError(-rc, strerror(rc), done.value)
        return done.value

    @property
    def queued(self):
        """Operations waiting in the queue."""
        return self._lib.tt_alloc_queued(self._c())

    @property
    def batch_size(self):
        """The automatic flush threshold (settable; 0 restores the default)."""
        return self._lib.tt_alloc_batch_size(self._c())

    @batch_size.setter
    def batch_size(self, n):
        _check(self._lib.tt_alloc_set_batch_size(self._c(), n))

    @property
    def flush_delay(self):
        """Milliseconds a queued op may wait before it is sent (settable;
        0: only on a full queue, flush() or close())."""
        return self._lib.tt_alloc_flush_delay(self._c())

    @flush_delay.setter
    def flush_delay(self, ms):
        _check(self._lib.tt_alloc_set_flush_delay(self._c(), ms))

    @property
    def error_count(self):
        """Queued ops the kernel refused so far."""
        return self._lib.tt_alloc_error_count(self._c())

    @property
    def last_error(self):
        """The errno of the last refused queued op (0: none)."""
        return -self._lib.tt_alloc_last_error(self._c())

    @property
    def features(self):
        """The kernel's TT_ALLOC_FEATURE_* bits this library uses."""
        return self._lib.tt_alloc_features(self._c())

    def batch(self):
        """A :class:`Batch`: queue ops, flushed when the block is left."""
        return Batch(self)

    # -- queries -----------------------------------------------------------
    def usage(self, device, scope=SCOPE_FILE):
        """TT_ALLOC_IOC_USAGE of one device as a :class:`Usage`."""
        u = tt_alloc_usage()
        _check(self._lib.tt_alloc_get_usage(self._c(), device, scope,
                                            ctypes.byref(u)))
        n = MEM_COUNT
        return Usage(device, scope, tuple(u.used[:n]),
                     tuple(u.allocations[:n]), tuple(u.peak[:n]),
                     tuple(u.capacity[:n]))

    def clients(self):
        """The whole client list (TT_ALLOC_IOC_CLIENTS) as :class:`Client` rows."""
        rows = ctypes.POINTER(tt_alloc_client)()
        count = ctypes.c_size_t(0)
        _check(self._lib.tt_alloc_get_clients(self._c(), ctypes.byref(rows),
                                              ctypes.byref(count)))
        try:
            n = MEM_COUNT
            return [Client(r.client_id, r.pid, r.device,
                           bytes(r.comm).split(b"\0", 1)[0].decode(
                               errors="replace"),
                           r.flags, tuple(r.used[:n]),
                           tuple(r.allocations[:n]),
                           None if r.uid == UID_UNKNOWN else r.uid,
                           r.cgroup_id)
                    for r in (rows[i] for i in range(count.value))]
        finally:
            self._lib.tt_alloc_clients_free(rows)


class Batch:
    """Queued records of one context, flushed when the ``with`` block ends
    (also when it ends with an exception: the queued ops describe
    allocations that were made). ``done`` is the count of the last flush."""

    def __init__(self, ctx):
        self.ctx = ctx
        self.done = 0

    def record(self, device, type, id, size, kind=0):
        self.ctx.queue_record(device, type, id, size, kind)

    def free(self, device, type, id):
        self.ctx.queue_free(device, type, id)

    def flush(self):
        self.done = self.ctx.flush()
        return self.done

    def __enter__(self):
        return self

    def __exit__(self, exc_type, *exc):
        if exc_type is None:
            self.flush()
        else:
            try:
                self.flush()
            except Error:
                pass
        return False


def open(path=None, quiet=False):
    """Open a tracking context (tt_alloc_open(), or tt_alloc_open_ex(path)).

    A no-op context (``enabled`` False) unless TT_ALLOC_TRACKING_ENABLED is
    exactly "1" and the device can be opened.
    """
    return Context(path, monitor=False, quiet=quiet)


def monitor(path=None):
    """Open a read-only monitoring context: info, usage and clients only.

    Independent of TT_ALLOC_TRACKING_ENABLED; raises :class:`Error` (e.g.
    errno ENOENT) when the device cannot be opened.
    """
    return Context(path, monitor=True)
