/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libttalloc: record Tenstorrent device-memory allocations with /dev/tt_alloc.
 *
 * A device runtime opens one context per process (or per device handle),
 * reports each allocation it makes and each one it frees, and may queue
 * many reports into one TT_ALLOC_IOC_BATCH ioctl. The kernel forgets
 * everything a context recorded when the context is closed or the process
 * dies.
 *
 * Tracking must never break a runtime: unless the environment variable
 * TT_ALLOC_TRACKING_ENABLED is exactly "1" and the device node can be
 * opened, every call is a cheap no-op that reports success. At most one
 * diagnostic line is written to stderr per process when tracking was asked
 * for but cannot be done.
 *
 * Every function returning int returns 0 (or a non-negative count) on
 * success and a negative errno value on failure; tt_alloc_strerror() turns
 * it into a message.
 *
 * See Documentation/userspace-api/libttalloc.rst.
 */
#ifndef TT_ALLOC_LIBTTALLOC_H
#define TT_ALLOC_LIBTTALLOC_H

#include <stddef.h>
#include <stdint.h>
#include <linux/tt_alloc.h>

#ifdef __cplusplus
extern "C" {
#endif

/** define TT_ALLOC_DEFAULT_DEVICE - the device node opened by default */
#define TT_ALLOC_DEFAULT_DEVICE		"/dev/tt_alloc"

/**
 * define TT_ALLOC_OPEN_MONITOR - tt_alloc_open_ex() flag: open for
 * monitoring (read-only, INFO/USAGE/CLIENTS only). The
 * TT_ALLOC_TRACKING_ENABLED gate does not apply and a missing or
 * unopenable device is reported as an error instead of a silent no-op.
 */
#define TT_ALLOC_OPEN_MONITOR		(1U << 0)

/** define TT_ALLOC_OPEN_QUIET - tt_alloc_open_ex() flag: no stderr diagnostic */
#define TT_ALLOC_OPEN_QUIET		(1U << 1)

/** struct tt_alloc_ctx - an opaque handle of one open /dev/tt_alloc file */
struct tt_alloc_ctx;

/**
 * tt_alloc_open() - open the tracking device for a runtime
 * @ctxp: out: the new context, to be released with tt_alloc_close()
 *
 * Opens $TT_ALLOC_DEVICE, or /dev/tt_alloc when that is unset, if and only
 * if $TT_ALLOC_TRACKING_ENABLED is "1". Otherwise, or when the device cannot
 * be opened or speaks another API version, the context is a no-op context:
 * all calls on it succeed and record nothing. tt_alloc_enabled() tells
 * which one was made.
 *
 * Return: 0, or -ENOMEM when no context could be allocated (*@ctxp is then
 * NULL, and every call accepts a NULL context as a no-op context).
 */
int tt_alloc_open(struct tt_alloc_ctx **ctxp);

/**
 * tt_alloc_open_ex() - open a given device node with flags
 * @path: the device node, NULL for $TT_ALLOC_DEVICE or /dev/tt_alloc
 * @flags: TT_ALLOC_OPEN_* flags
 * @ctxp: out: the new context
 *
 * Without %TT_ALLOC_OPEN_MONITOR this behaves as tt_alloc_open() with
 * another path. With it the device is opened read-only regardless of
 * $TT_ALLOC_TRACKING_ENABLED, and failures are returned.
 *
 * Return: 0 or a negative errno (open(2)'s error in monitor mode, -EPROTO
 * for an API version this library does not know).
 */
int tt_alloc_open_ex(const char *path, unsigned int flags,
		     struct tt_alloc_ctx **ctxp);

/**
 * tt_alloc_close() - flush the queue and close the context
 * @ctx: the context, may be NULL
 *
 * Queued operations are flushed first; then the file is closed, which makes
 * the kernel drop every allocation still recorded through it.
 *
 * Return: 0 or the error of the final flush (the context is freed anyway).
 */
int tt_alloc_close(struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_enabled() - is this context really tracking?
 * @ctx: the context, may be NULL
 *
 * Return: 1 when calls reach the kernel, 0 for a no-op context.
 */
int tt_alloc_enabled(const struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_fd() - the file descriptor behind a context
 * @ctx: the context, may be NULL
 *
 * Return: the descriptor, or -1 for a no-op context.
 */
int tt_alloc_fd(const struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_get_info() - TT_ALLOC_IOC_INFO
 * @ctx: the context
 * @info: out: API version, number of devices and types, client id; all 0
 *	for a no-op context
 *
 * Return: 0 or a negative errno.
 */
int tt_alloc_get_info(struct tt_alloc_ctx *ctx, struct tt_alloc_info *info);

/**
 * tt_alloc_record() - record one allocation (TT_ALLOC_IOC_ALLOC)
 * @ctx: the context
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @id: the runtime's id of the allocation, e.g. its device address
 * @size: bytes, greater than 0
 * @kind: TT_ALLOC_KERNEL_* for %TT_ALLOC_MEM_KERNEL, else 0
 *
 * Recording a key this context already holds with the same size and kind
 * takes another reference. Not serialised with the queue: flush first if
 * the order relative to queued operations matters.
 *
 * Return: 0 or a negative errno (see Documentation/userspace-api/tt_alloc.rst).
 */
int tt_alloc_record(struct tt_alloc_ctx *ctx, uint32_t device, uint32_t type,
		    uint64_t id, uint64_t size, uint32_t kind);

/**
 * tt_alloc_free() - drop one reference of an allocation (TT_ALLOC_IOC_FREE)
 * @ctx: the context
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @id: the id given to tt_alloc_record()
 *
 * Return: 0 or a negative errno (-ENOENT for a key this context does not hold).
 */
int tt_alloc_free(struct tt_alloc_ctx *ctx, uint32_t device, uint32_t type,
		  uint64_t id);

/**
 * tt_alloc_queue_record() - queue an allocation for the next batch
 * @ctx: the context
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @id: the runtime's id of the allocation
 * @size: bytes, greater than 0
 * @kind: TT_ALLOC_KERNEL_* for %TT_ALLOC_MEM_KERNEL, else 0
 *
 * The queue is flushed automatically when it holds tt_alloc_batch_size()
 * operations. Thread-safe.
 *
 * Return: 0, or the negative errno of an automatic flush that failed.
 */
int tt_alloc_queue_record(struct tt_alloc_ctx *ctx, uint32_t device,
			  uint32_t type, uint64_t id, uint64_t size,
			  uint32_t kind);

/**
 * tt_alloc_queue_free() - queue a free for the next batch
 * @ctx: the context
 * @device: device number
 * @type: TT_ALLOC_MEM_*
 * @id: the id given when the allocation was recorded
 *
 * Return: 0, or the negative errno of an automatic flush that failed.
 */
int tt_alloc_queue_free(struct tt_alloc_ctx *ctx, uint32_t device,
			uint32_t type, uint64_t id);

/**
 * tt_alloc_flush() - send the queued operations in one TT_ALLOC_IOC_BATCH
 * @ctx: the context
 * @done: out, may be NULL: operations the kernel applied
 *
 * The queue is empty afterwards whatever the outcome: on failure the
 * operations before the failing one stay applied (*@done of them), the
 * failing one and those after it are dropped. Thread-safe.
 *
 * Return: 0 or the failing operation's negative errno.
 */
int tt_alloc_flush(struct tt_alloc_ctx *ctx, uint32_t *done);

/**
 * tt_alloc_queued() - number of operations waiting in the queue
 * @ctx: the context
 *
 * Return: the count (0 for a no-op context).
 */
size_t tt_alloc_queued(struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_set_batch_size() - set the automatic flush threshold
 * @ctx: the context
 * @size: 1 to %TT_ALLOC_BATCH_MAX; 0 restores the default
 *	(%TT_ALLOC_BATCH_MAX, or $TT_ALLOC_BATCH_SIZE when set at open)
 *
 * When the queue already holds @size or more operations it is flushed now.
 *
 * Return: 0, -EINVAL for a size above %TT_ALLOC_BATCH_MAX, or the error of
 * the flush.
 */
int tt_alloc_set_batch_size(struct tt_alloc_ctx *ctx, size_t size);

/**
 * tt_alloc_batch_size() - the automatic flush threshold
 * @ctx: the context
 *
 * Return: the threshold in operations.
 */
size_t tt_alloc_batch_size(struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_get_usage() - TT_ALLOC_IOC_USAGE
 * @ctx: the context
 * @device: device number
 * @scope: %TT_ALLOC_SCOPE_FILE (this context) or %TT_ALLOC_SCOPE_DEVICE
 * @usage: out: per-type bytes, entries, and (device scope) peak and capacity;
 *	all 0 for a no-op context
 *
 * Return: 0 or a negative errno.
 */
int tt_alloc_get_usage(struct tt_alloc_ctx *ctx, uint32_t device,
		       uint32_t scope, struct tt_alloc_usage *usage);

/**
 * tt_alloc_get_clients() - TT_ALLOC_IOC_CLIENTS, the whole list
 * @ctx: the context
 * @rows: out: a malloc()ed array of rows (NULL when there are none), to be
 *	released with tt_alloc_clients_free()
 * @count: out: number of rows in *@rows
 *
 * Reads the list in pieces of at most %TT_ALLOC_CLIENTS_MAX rows, each call
 * resuming after the last row of the one before (the kernel's cursor,
 * %TT_ALLOC_FEATURE_CLIENTS_CURSOR), so a list of any length is returned
 * whole. A client that closes meanwhile may be missing, one that opens may
 * be present; every client open throughout is there exactly once. On a
 * kernel without the cursor it retries with more room until the list fits,
 * at most %TT_ALLOC_CLIENTS_MAX rows.
 *
 * Return: 0 or a negative errno; a no-op context gives 0 rows.
 */
int tt_alloc_get_clients(struct tt_alloc_ctx *ctx,
			 struct tt_alloc_client **rows, size_t *count);

/**
 * tt_alloc_clients_free() - release the array of tt_alloc_get_clients()
 * @rows: the array, may be NULL
 */
void tt_alloc_clients_free(struct tt_alloc_client *rows);

/**
 * tt_alloc_strerror() - describe a libttalloc error
 * @err: a return value of this library (negative errno; 0 is "Success")
 *
 * Gives the meaning in tt_alloc's terms for the errors of the ABI (e.g.
 * -EEXIST "allocation already recorded with another size or kind") and
 * strerror()'s text for the rest.
 *
 * Return: a static string, never NULL.
 */
const char *tt_alloc_strerror(int err);

/**
 * tt_alloc_mem_type_name() - short lower-case name of a memory type
 * @type: TT_ALLOC_MEM_*
 *
 * Return: "dram", "l1", "system", "l1_small", "trace", "cb", "kernel",
 * or "unknown".
 */
const char *tt_alloc_mem_type_name(uint32_t type);

/**
 * tt_alloc_mem_type_from_name() - parse a memory type name or number
 * @name: a name as tt_alloc_mem_type_name() gives (any case) or a number
 *
 * Return: the TT_ALLOC_MEM_* value or -EINVAL.
 */
int tt_alloc_mem_type_from_name(const char *name);

/**
 * tt_alloc_kernel_kind_name() - name of a kernel kind
 * @kind: TT_ALLOC_KERNEL_*
 *
 * Return: "app", "fabric", "dispatch" or "unknown".
 */
const char *tt_alloc_kernel_kind_name(uint32_t kind);

/**
 * tt_alloc_kernel_kind_from_name() - parse a kernel kind name or number
 * @name: "app", "fabric", "dispatch" (any case) or a number
 *
 * Return: the TT_ALLOC_KERNEL_* value or -EINVAL.
 */
int tt_alloc_kernel_kind_from_name(const char *name);

/**
 * tt_alloc_library_version() - version of this library
 *
 * Return: a static string such as "0.1.0".
 */
const char *tt_alloc_library_version(void);

#ifdef __cplusplus
}
#endif

#endif /* TT_ALLOC_LIBTTALLOC_H */
