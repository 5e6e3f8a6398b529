/* SPDX-License-Identifier: GPL-2.0 WITH Linux-syscall-note */
/*
 * tt_alloc: kernel-side tracking of Tenstorrent device-memory allocations.
 *
 * A device runtime opens /dev/tt_alloc and records every device-memory
 * allocation it makes with TT_ALLOC_IOC_ALLOC / TT_ALLOC_IOC_FREE (or many
 * at once with TT_ALLOC_IOC_BATCH). Each record belongs to the open file
 * that made it; closing the file (or the process dying) drops all of them.
 *
 * See Documentation/userspace-api/tt_alloc.rst for the full contract.
 */
#ifndef _UAPI_LINUX_TT_ALLOC_H
#define _UAPI_LINUX_TT_ALLOC_H

#include <linux/const.h>
#include <linux/ioctl.h>
#include <linux/types.h>

/** define TT_ALLOC_API_VERSION - reported in &tt_alloc_info.api_version */
#define TT_ALLOC_API_VERSION	1

/*
 * Memory types, numbered as tt-metal's BufferType (plus the CB and KERNEL
 * extensions of its memory tracker) so that a runtime maps them 1:1.
 */
#define TT_ALLOC_MEM_DRAM	0
#define TT_ALLOC_MEM_L1		1
#define TT_ALLOC_MEM_SYSTEM	2
#define TT_ALLOC_MEM_L1_SMALL	3
#define TT_ALLOC_MEM_TRACE	4
#define TT_ALLOC_MEM_CB		5
#define TT_ALLOC_MEM_KERNEL	6
/**
 * define TT_ALLOC_MEM_NAMES - initializer of an array of the memory type
 * names, indexed by TT_ALLOC_MEM_*: ``names[TT_ALLOC_MEM_COUNT] =
 * TT_ALLOC_MEM_NAMES;``. These lower-case names are the sysfs directories,
 * fdinfo keys, trace event symbols and tool output of every memory type;
 * this list is their one source (the trace events' symbol pairs are tested
 * against it). C only (designated initializers); C++ calls
 * tt_alloc_mem_type_name() of libttalloc.
 */
#define TT_ALLOC_MEM_NAMES {						\
	[TT_ALLOC_MEM_DRAM] = "dram",					\
	[TT_ALLOC_MEM_L1] = "l1",					\
	[TT_ALLOC_MEM_SYSTEM] = "system",				\
	[TT_ALLOC_MEM_L1_SMALL] = "l1_small",				\
	[TT_ALLOC_MEM_TRACE] = "trace",					\
	[TT_ALLOC_MEM_CB] = "cb",					\
	[TT_ALLOC_MEM_KERNEL] = "kernel",				\
}

/** define TT_ALLOC_MEM_COUNT - number of memory types this version knows */
#define TT_ALLOC_MEM_COUNT	7
/** define TT_ALLOC_MEM_MAX - array size of per-type arrays, room to grow */
#define TT_ALLOC_MEM_MAX	8

/*
 * Kernel kinds, for TT_ALLOC_MEM_KERNEL only. Fabric and dispatch kernels
 * are the "system kernels" a runtime loads when it opens a device.
 */
#define TT_ALLOC_KERNEL_APP		0
#define TT_ALLOC_KERNEL_FABRIC		1
#define TT_ALLOC_KERNEL_DISPATCH	2

/* Batch operations, &tt_alloc_op.op */
#define TT_ALLOC_OP_ALLOC	1
#define TT_ALLOC_OP_FREE	2

/**
 * define TT_ALLOC_SIZE_MAX - largest &tt_alloc_buffer.size accepted (1 TiB)
 *
 * Far above any device's memory; it bounds what one entry can add to a
 * counter, see "Counter bounds" in Documentation/userspace-api/tt_alloc.rst.
 * A device type with a known capacity also refuses sizes above it.
 */
#define TT_ALLOC_SIZE_MAX	_BITULL(40)

/** define TT_ALLOC_BATCH_MAX - largest &tt_alloc_batch.count accepted */
#define TT_ALLOC_BATCH_MAX	65536

/* Usage scopes, &tt_alloc_usage.scope */
#define TT_ALLOC_SCOPE_FILE	0
#define TT_ALLOC_SCOPE_DEVICE	1

/** define TT_ALLOC_CLIENTS_MAX - largest &tt_alloc_clients.count accepted */
#define TT_ALLOC_CLIENTS_MAX	65536

/** define TT_ALLOC_COMM_LEN - size of &tt_alloc_client.comm, NUL included */
#define TT_ALLOC_COMM_LEN	16

/**
 * define TT_ALLOC_DEVICE_NONE - &tt_alloc_client.device of a client that
 * holds nothing on any device
 */
#define TT_ALLOC_DEVICE_NONE	0xffffffffU

/**
 * define TT_ALLOC_CLIENT_OPENER_EXITED - &tt_alloc_client.flags: the process
 * that opened the file has exited; the file lives on in another process
 * (inherited across fork or passed with SCM_RIGHTS)
 */
#define TT_ALLOC_CLIENT_OPENER_EXITED	0x1U

/**
 * define TT_ALLOC_FEATURE_CLIENTS_CURSOR - &tt_alloc_info.features: CLIENTS
 * honours &tt_alloc_clients.after_id and &tt_alloc_clients.after_device
 */
#define TT_ALLOC_FEATURE_CLIENTS_CURSOR	_BITULL(0)

/**
 * define TT_ALLOC_FEATURE_ELEM_SIZE - bit of &tt_alloc_info.features, BATCH
 * honours &tt_alloc_batch.op_size and CLIENTS honours
 * &tt_alloc_clients.row_size (a kernel without it refuses a non-zero value
 * with EINVAL)
 */
#define TT_ALLOC_FEATURE_ELEM_SIZE	_BITULL(1)

/**
 * define TT_ALLOC_FEATURE_CLIENT_OWNER - bit of &tt_alloc_info.features,
 * CLIENTS fills &tt_alloc_client.uid and &tt_alloc_client.cgroup_id (a
 * kernel without it leaves them 0, which is not "root": test this bit)
 */
#define TT_ALLOC_FEATURE_CLIENT_OWNER	_BITULL(2)

/**
 * define TT_ALLOC_FEATURE_DMEM - bit of &tt_alloc_info.features, each new
 * entry is charged to the recorder's cgroup in the cgroup dmem controller
 * (regions "tt_alloc/<device>/<type>" for the capacities known at load);
 * an ALLOC that a dmem.max refuses fails with EDQUOT
 */
#define TT_ALLOC_FEATURE_DMEM		_BITULL(3)

/*
 * Sizes of the first published version of each structure. A command whose
 * encoded size is below them is refused with EINVAL; a larger one is
 * accepted as long as the bytes this kernel does not know are zero.
 */
/** define TT_ALLOC_INFO_SIZE_VER0 - first &struct tt_alloc_info, 24 bytes */
#define TT_ALLOC_INFO_SIZE_VER0		24
/** define TT_ALLOC_BUFFER_SIZE_VER0 - first &struct tt_alloc_buffer */
#define TT_ALLOC_BUFFER_SIZE_VER0	32
/** define TT_ALLOC_BATCH_SIZE_VER0 - first &struct tt_alloc_batch */
#define TT_ALLOC_BATCH_SIZE_VER0	24
/** define TT_ALLOC_USAGE_SIZE_VER0 - first &struct tt_alloc_usage */
#define TT_ALLOC_USAGE_SIZE_VER0	272
/** define TT_ALLOC_CLIENTS_SIZE_VER0 - first &struct tt_alloc_clients */
#define TT_ALLOC_CLIENTS_SIZE_VER0	16

/*
 * The same for the elements of the two arrays, whose size the caller gives
 * in &tt_alloc_batch.op_size and &tt_alloc_clients.row_size (0 means the
 * first size). Below it, or above %TT_ALLOC_ELEM_SIZE_MAX, is EINVAL.
 */
/** define TT_ALLOC_OP_SIZE_VER0 - first &struct tt_alloc_op */
#define TT_ALLOC_OP_SIZE_VER0		40
/** define TT_ALLOC_CLIENT_SIZE_VER0 - first &struct tt_alloc_client */
#define TT_ALLOC_CLIENT_SIZE_VER0	168
/** define TT_ALLOC_CLIENT_SIZE_VER1 - &struct tt_alloc_client with its owner */
#define TT_ALLOC_CLIENT_SIZE_VER1	184
/**
 * define TT_ALLOC_ELEM_SIZE_MAX - largest &tt_alloc_batch.op_size and
 * &tt_alloc_clients.row_size accepted, far above any size these elements
 * will reach; it keeps count times size small (at most 2^28 bytes)
 */
#define TT_ALLOC_ELEM_SIZE_MAX		4096

/**
 * struct tt_alloc_info - TT_ALLOC_IOC_INFO
 * @api_version: out: %TT_ALLOC_API_VERSION
 * @num_devices: out: devices tracked; valid device numbers are below it
 * @num_mem_types: out: %TT_ALLOC_MEM_COUNT
 * @flags: out: 0
 * @client_id: out: this open file's id, as in fdinfo and the client list
 * @features: out: TT_ALLOC_FEATURE_* bits of the optional capabilities this
 *	kernel has (since the 32-byte version of the structure; a kernel that
 *	predates it leaves the field as the caller set it, so zero it first)
 */
struct tt_alloc_info {
	__u32 api_version;
	__u32 num_devices;
	__u32 num_mem_types;
	__u32 flags;
	__u64 client_id;
	__u64 features;
};

/**
 * struct tt_alloc_buffer - TT_ALLOC_IOC_ALLOC and TT_ALLOC_IOC_FREE
 * @device: device number, below &tt_alloc_info.num_devices
 * @type: TT_ALLOC_MEM_*, below %TT_ALLOC_MEM_COUNT
 * @id: the runtime's id of the allocation (e.g. its device address);
 *	unique per (device, type) within one open file
 * @size: bytes, 1 to %TT_ALLOC_SIZE_MAX and at most the capacity of the
 *	device's memory type when that is known; ignored by FREE
 * @kind: TT_ALLOC_KERNEL_* for %TT_ALLOC_MEM_KERNEL, else 0; ignored by FREE
 * @flags: must be 0
 */
struct tt_alloc_buffer {
	__u32 device;
	__u32 type;
	__u64 id;
	__u64 size;
	__u32 kind;
	__u32 flags;
};

/**
 * struct tt_alloc_op - one element of a batch
 * @op: %TT_ALLOC_OP_ALLOC or %TT_ALLOC_OP_FREE
 * @reserved: must be 0
 * @buf: the allocation, as for the single ioctls
 *
 * May grow at its end: the caller tells its size in &tt_alloc_batch.op_size.
 */
struct tt_alloc_op {
	__u32 op;
	__u32 reserved;
	struct tt_alloc_buffer buf;
};

/**
 * struct tt_alloc_batch - TT_ALLOC_IOC_BATCH
 * @ops: user pointer to an array of @count ops, @op_size bytes apart
 * @count: number of ops, at most %TT_ALLOC_BATCH_MAX; 0 is a no-op
 * @flags: must be 0
 * @done: out: ops applied, in order, before the first failure; written
 *	(0 if none) whenever the kernel could read this structure
 * @op_size: size of one element of @ops, the caller's sizeof(struct
 *	tt_alloc_op); 0 means %TT_ALLOC_OP_SIZE_VER0. From
 *	%TT_ALLOC_OP_SIZE_VER0 to %TT_ALLOC_ELEM_SIZE_MAX, else EINVAL. A
 *	shorter op than the kernel's is zero-extended; of a longer one the
 *	bytes the kernel does not know must be zero, else that op fails with
 *	E2BIG (the ops before it are applied). Honoured by kernels with
 *	%TT_ALLOC_FEATURE_ELEM_SIZE; older ones (the field was "reserved")
 *	refuse anything but 0 with EINVAL.
 */
struct tt_alloc_batch {
	__u64 ops;
	__u32 count;
	__u32 flags;
	__u32 done;
	__u32 op_size;
};

/**
 * struct tt_alloc_usage - TT_ALLOC_IOC_USAGE
 * @device: in: device number
 * @scope: in: %TT_ALLOC_SCOPE_FILE (this open file) or
 *	%TT_ALLOC_SCOPE_DEVICE (every client of the device)
 * @flags: in: must be 0
 * @reserved: in: must be 0
 * @used: out: bytes in use, per memory type
 * @allocations: out: tracked entries, per memory type
 * @peak: out: highest @used since load or the last reset, never below
 *	@used (device scope only, 0 for file scope)
 * @capacity: out: bytes the device has, 0 when unknown (device scope only)
 */
struct tt_alloc_usage {
	__u32 device;
	__u32 scope;
	__u32 flags;
	__u32 reserved;
	__u64 used[TT_ALLOC_MEM_MAX];
	__u64 allocations[TT_ALLOC_MEM_MAX];
	__u64 peak[TT_ALLOC_MEM_MAX];
	__u64 capacity[TT_ALLOC_MEM_MAX];
};

/**
 * struct tt_alloc_client - one row of the client list
 * @client_id: the open file's id
 * @pid: the process that opened the file, as seen from the caller's pid
 *	namespace
 * @device: the device this row describes, or %TT_ALLOC_DEVICE_NONE for a
 *	client that holds nothing
 * @comm: the opener's command name, NUL-terminated
 * @flags: TT_ALLOC_CLIENT_* flags
 * @reserved: 0
 * @used: bytes this client holds on @device, per memory type
 * @allocations: entries this client holds on @device, per memory type
 * @uid: real user id of the process that opened the file, at open, as seen
 *	from the caller's user namespace (the overflow uid, 65534 by
 *	default, when it has no mapping there) (since
 *	%TT_ALLOC_CLIENT_SIZE_VER1, %TT_ALLOC_FEATURE_CLIENT_OWNER)
 * @reserved2: 0
 * @cgroup_id: id of the cgroup v2 cgroup the opener was in at open, the
 *	inode number of its directory in a cgroup2 mount (and the handle
 *	name_to_handle_at() gives for it); 1 is the root cgroup, 0 a kernel
 *	without cgroups (since %TT_ALLOC_CLIENT_SIZE_VER1,
 *	%TT_ALLOC_FEATURE_CLIENT_OWNER)
 *
 * A client holding entries on several devices gets one row per device.
 * May grow at its end: the caller tells its size in
 * &tt_alloc_clients.row_size.
 */
struct tt_alloc_client {
	__u64 client_id;
	__u32 pid;
	__u32 device;
	__u8 comm[TT_ALLOC_COMM_LEN];
	__u32 flags;
	__u32 reserved;
	__u64 used[TT_ALLOC_MEM_MAX];
	__u64 allocations[TT_ALLOC_MEM_MAX];
	__u32 uid;
	__u32 reserved2;
	__u64 cgroup_id;
};

/**
 * struct tt_alloc_clients - TT_ALLOC_IOC_CLIENTS
 * @clients: user pointer to an array of @count rows, @row_size bytes apart
 * @count: in: room in @clients, at most %TT_ALLOC_CLIENTS_MAX (0 only asks
 *	for the number of rows); out: rows that exist after the cursor, which
 *	may be more than were written (then call again with the cursor at
 *	the last row written, or with more room)
 * @flags: must be 0
 * @after_id: in: cursor, the client id of the last row already read; 0
 *	starts at the first row (since the 48-byte version)
 * @after_device: in: cursor, the device of that row; ignored when
 *	@after_id is 0
 * @row_size: size of one row of @clients, the caller's sizeof(struct
 *	tt_alloc_client); 0 means %TT_ALLOC_CLIENT_SIZE_VER0. From
 *	%TT_ALLOC_CLIENT_SIZE_VER0 to %TT_ALLOC_ELEM_SIZE_MAX, else EINVAL.
 *	Of each row the kernel writes the bytes it knows and zeroes the rest
 *	of a longer row. Honoured by kernels with %TT_ALLOC_FEATURE_ELEM_SIZE;
 *	older ones (the field was "reserved") refuse anything but 0 with
 *	EINVAL.
 * @reserved2: must be 0
 *
 * Rows come in increasing (client id, device) order, %TT_ALLOC_DEVICE_NONE
 * sorting last; with a cursor only rows after (@after_id, @after_device)
 * are counted and written. Only clients whose opener is visible in the
 * caller's pid namespace are listed.
 */
struct tt_alloc_clients {
	__u64 clients;
	__u32 count;
	__u32 flags;
	__u64 after_id;
	__u32 after_device;
	__u32 row_size;
	__u64 reserved2[2];
};

#define TT_ALLOC_IOC_MAGIC	0xBA

#define TT_ALLOC_IOC_INFO	_IOR(TT_ALLOC_IOC_MAGIC, 0x00, struct tt_alloc_info)
#define TT_ALLOC_IOC_ALLOC	_IOW(TT_ALLOC_IOC_MAGIC, 0x01, struct tt_alloc_buffer)
#define TT_ALLOC_IOC_FREE	_IOW(TT_ALLOC_IOC_MAGIC, 0x02, struct tt_alloc_buffer)
#define TT_ALLOC_IOC_BATCH	_IOWR(TT_ALLOC_IOC_MAGIC, 0x03, struct tt_alloc_batch)
#define TT_ALLOC_IOC_USAGE	_IOWR(TT_ALLOC_IOC_MAGIC, 0x04, struct tt_alloc_usage)
#define TT_ALLOC_IOC_CLIENTS	_IOWR(TT_ALLOC_IOC_MAGIC, 0x05, struct tt_alloc_clients)

#endif /* _UAPI_LINUX_TT_ALLOC_H */
