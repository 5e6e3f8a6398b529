# SPDX-License-Identifier: LGPL-2.1-or-later
"""ctypes mirror of uapi/linux/tt_alloc.h (API version 1).

The sizes are checked when the module is imported: a layout that does not
match the header's (and so the library's) is an ImportError, not garbage.
"""
import ctypes

API_VERSION = 1

MEM_DRAM = 0
MEM_L1 = 1
MEM_SYSTEM = 2
MEM_L1_SMALL = 3
MEM_TRACE = 4
MEM_CB = 5
MEM_KERNEL = 6
MEM_COUNT = 7
MEM_MAX = 8

KERNEL_APP = 0
KERNEL_FABRIC = 1
KERNEL_DISPATCH = 2

OP_ALLOC = 1
OP_FREE = 2

SIZE_MAX = 1 << 40
BATCH_MAX = 65536

SCOPE_FILE = 0
SCOPE_DEVICE = 1

CLIENTS_MAX = 65536
COMM_LEN = 16
DEVICE_NONE = 0xFFFFFFFF
CLIENT_OPENER_EXITED = 0x1
FEATURE_CLIENTS_CURSOR = 1 << 0
FEATURE_ELEM_SIZE = 1 << 1
FEATURE_CLIENT_OWNER = 1 << 2
FEATURE_DMEM = 1 << 3

OP_SIZE_VER0 = 40
CLIENT_SIZE_VER0 = 168
CLIENT_SIZE_VER1 = 184
ELEM_SIZE_MAX = 4096

_u32 = ctypes.c_uint32
_u64 = ctypes.c_uint64
_u8 = ctypes.c_uint8


class tt_alloc_info(ctypes.Structure):
    _fields_ = [("api_version", _u32), ("num_devices", _u32),
                ("num_mem_types", _u32), ("flags", _u32),
                ("client_id", _u64), ("features", _u64)]


class tt_alloc_buffer(ctypes.Structure):
    _fields_ = [("device", _u32), ("type", _u32), ("id", _u64),
                ("size", _u64), ("kind", _u32), ("flags", _u32)]


class tt_alloc_op(ctypes.Structure):
    _fields_ = [("op", _u32), ("reserved", _u32), ("buf", tt_alloc_buffer)]


class tt_alloc_batch(ctypes.Structure):
    _fields_ = [("ops", _u64), ("count", _u32), ("flags", _u32),
                ("done", _u32), ("op_size", _u32)]


class tt_alloc_usage(ctypes.Structure):
    _fields_ = [("device", _u32), ("scope", _u32), ("flags", _u32),
                ("reserved", _u32), ("used", _u64 * MEM_MAX),
                ("allocations", _u64 * MEM_MAX), ("peak", _u64 * MEM_MAX),
                ("capacity", _u64 * MEM_MAX)]


class tt_alloc_client(ctypes.Structure):
    _fields_ = [("client_id", _u64), ("pid", _u32), ("device", _u32),
                ("comm", _u8 * COMM_LEN), ("flags", _u32), ("reserved", _u32),
                ("used", _u64 * MEM_MAX), ("allocations", _u64 * MEM_MAX),
                ("uid", _u32), ("reserved2", _u32), ("cgroup_id", _u64)]


class tt_alloc_clients(ctypes.Structure):
    _fields_ = [("clients", _u64), ("count", _u32), ("flags", _u32),
                ("after_id", _u64), ("after_device", _u32),
                ("row_size", _u32), ("reserved2", _u64 * 2)]


# Sizes of the structures in uapi/linux/tt_alloc.h of API version 1, as the
# C compiler lays them out (the host test tt-alloc-python-abi compares them
# with sizeof/offsetof of the header itself).
SIZES = {
    tt_alloc_info: 32,
    tt_alloc_buffer: 32,
    tt_alloc_op: 40,
    tt_alloc_batch: 24,
    tt_alloc_usage: 272,
    tt_alloc_client: 184,
    tt_alloc_clients: 48,
}


def _check_sizes():
    bad = ["%s: %d bytes, header has %d" % (s.__name__, ctypes.sizeof(s), n)
           for s, n in SIZES.items() if ctypes.sizeof(s) != n]
    if bad:
        raise ImportError("ttalloc: uapi layout mismatch: " + "; ".join(bad))


_check_sizes()
