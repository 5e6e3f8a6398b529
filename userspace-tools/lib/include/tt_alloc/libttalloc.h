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
 * for but cannot be done (or every diagnostic goes to the callback of
 * tt_alloc_set_log_callback()). Queued records reach the kernel within
 * tt_alloc_flush_delay() milliseconds; a queued op the kernel refuses is
 * skipped and counted, never the others. In a fork() child an inherited
 * context is a no-op: open another one there to track the child.
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
 * define TT_ALLOC_OPEN_MONITOR - tt_alloc_open_ex() flag to open for
 * monitoring (read-only, INFO/USAGE/CLIENTS only). The
 * TT_ALLOC_TRACKING_ENABLED gate does not apply and a missing or
 * unopenable device is reported as an error instead of a silent no-op.
 */
#define TT_ALLOC_OPEN_MONITOR		(1U << 0)

/** define TT_ALLOC_OPEN_QUIET - tt_alloc_open_ex() flag for no diagnostic at all */
#define TT_ALLOC_OPEN_QUIET		(1U << 1)

/** struct tt_alloc_ctx - an opaque handle of one open /dev/tt_alloc file */
struct tt_alloc_ctx;

/**
 * define TT_ALLOC_LIB_FEATURES - the TT_ALLOC_FEATURE_* bits this library
 * knows; tt_alloc_features() is the kernel's bits masked with them
 */
#define TT_ALLOC_LIB_FEATURES	\
	(TT_ALLOC_FEATURE_CLIENTS_CURSOR | TT_ALLOC_FEATURE_ELEM_SIZE | \
	 TT_ALLOC_FEATURE_CLIENT_OWNER)

/**
 * define TT_ALLOC_UID_UNKNOWN - &tt_alloc_client.uid in the rows of
 * tt_alloc_get_clients() when the kernel does not report the owner
 * (no %TT_ALLOC_FEATURE_CLIENT_OWNER); its &tt_alloc_client.cgroup_id is 0
 */
#define TT_ALLOC_UID_UNKNOWN	0xffffffffU

/**
 * define TT_ALLOC_FLUSH_DELAY_DEFAULT_MS - default bound, in milliseconds,
 * on how long a queued op waits before the background flush sends it
 */
#define TT_ALLOC_FLUSH_DELAY_DEFAULT_MS	100

/** define TT_ALLOC_FLUSH_DELAY_MAX_MS - largest flush delay accepted (1 h) */
#define TT_ALLOC_FLUSH_DELAY_MAX_MS	3600000

/** define TT_ALLOC_LOG_WARNING - log level of tracking asked for, not done */
#define TT_ALLOC_LOG_WARNING		4

/**
 * define TT_ALLOC_LOG_INFO - log level of what is worth knowing but lost
 * nothing (a newer kernel used with this library's features); never on
 * stderr
 */
#define TT_ALLOC_LOG_INFO		6

/**
 * typedef tt_alloc_log_fn - receives the library's diagnostics
 * @level: %TT_ALLOC_LOG_WARNING or %TT_ALLOC_LOG_INFO (syslog's numbers)
 * @msg: one line without "libttalloc: " and without newline; valid during
 *	the call only
 * @arg: the pointer given to tt_alloc_set_log_callback()
 */
typedef void (*tt_alloc_log_fn)(int level, const char *msg, void *arg);

/**
 * typedef tt_alloc_error_fn - told about each queued op the kernel refused
 * @ctx: the context whose queue was flushed
 * @op: the op, as queued (valid during the call only)
 * @err: its negative errno
 * @arg: the pointer given to tt_alloc_set_error_callback()
 *
 * Runs in the thread that flushes (the caller of a queue function, of
 * tt_alloc_flush() or tt_alloc_close(), or the background flusher) with
 * the context's queue lock held: the queue functions of @ctx called from
 * it return -EDEADLK (tt_alloc_queued() gives 0). tt_alloc_record(),
 * tt_alloc_free(), the other getters and other contexts may be used.
 */
typedef void (*tt_alloc_error_fn)(struct tt_alloc_ctx *ctx,
				  const struct tt_alloc_op *op, int err,
				  void *arg);

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
 * A kernel with a newer &tt_alloc_info.api_version than this library's
 * %TT_ALLOC_API_VERSION is used with the features both know (an
 * %TT_ALLOC_LOG_INFO message says so); only an older one, or a node that
 * does not answer TT_ALLOC_IOC_INFO, makes a no-op context (one
 * %TT_ALLOC_LOG_WARNING diagnostic).
 *
 * Return: 0 or a negative errno (monitor mode only: open(2)'s error, the
 * INFO ioctl's error such as -ENOTTY, -EPROTO for an older API version).
 */
int tt_alloc_open_ex(const char *path, unsigned int flags,
		     struct tt_alloc_ctx **ctxp);

/**
 * tt_alloc_close() - flush the queue and close the context
 * @ctx: the context, may be NULL
 *
 * Stops the background flusher, flushes the queued operations, then closes
 * the file, which makes the kernel drop every allocation still recorded
 * through it. In a fork() child that inherited @ctx, nothing is sent: the
 * child's copy of the queue is dropped and its copy of the descriptor
 * closed (the parent's file and records stay).
 *
 * Return: 0 or the error of the first op the final flush could not apply
 * (the context is freed anyway); -EDEADLK from an error callback of @ctx
 * (nothing done).
 */
int tt_alloc_close(struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_enabled() - is this context really tracking?
 * @ctx: the context, may be NULL
 *
 * Return: 1 when calls reach the kernel, 0 for a no-op context (also for
 * a context inherited across fork()).
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
 * tt_alloc_features() - the optional kernel capabilities in use
 * @ctx: the context, may be NULL
 *
 * Return: the kernel's TT_ALLOC_FEATURE_* bits that this library knows
 * (%TT_ALLOC_LIB_FEATURES); 0 for a no-op context or a kernel without
 * feature bits. tt_alloc_get_info() gives the kernel's own bits.
 */
uint64_t tt_alloc_features(const struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_set_log_callback() - route the diagnostics, for the process
 * @fn: the callback, NULL for the default (warnings to stderr, at most one
 *	line per process; info messages dropped)
 * @arg: passed to @fn
 *
 * With a callback every diagnostic of every context is passed to it, from
 * the thread that has it (tt_alloc_open*(), or a queue function whose
 * context could not start its flush thread: that context's queue
 * functions return -EDEADLK from the callback), instead of going to
 * stderr; %TT_ALLOC_OPEN_QUIET still silences an open. Thread-safe.
 */
void tt_alloc_set_log_callback(tt_alloc_log_fn fn, void *arg);

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
 * operations, and by the background flusher when its oldest operation has
 * waited tt_alloc_flush_delay() milliseconds. Thread-safe.
 *
 * Return: 0; the negative errno of the first op an automatic flush could
 * not apply (this op is queued or sent either way, the others were
 * applied, see tt_alloc_error_count()); -ENOMEM when the queue cannot
 * grow (nothing queued); -EDEADLK from an error callback of @ctx.
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
 * Return: as tt_alloc_queue_record().
 */
int tt_alloc_queue_free(struct tt_alloc_ctx *ctx, uint32_t device,
			uint32_t type, uint64_t id);

/**
 * tt_alloc_flush() - send the queued operations with TT_ALLOC_IOC_BATCH
 * @ctx: the context
 * @done: out, may be NULL: operations the kernel applied
 *
 * Every queued op that can be applied is: when the kernel refuses one
 * (BATCH stops there), that op alone is skipped, counted in
 * tt_alloc_error_count() and tt_alloc_last_error(), passed to the error
 * callback, and the ops after it are sent again. -EINTR skips nothing.
 * An error that concerns the call rather than the op (-EBADF of a
 * read-only context, -ENOTTY, -EFAULT, -EPERM, -EACCES, -E2BIG) fails all
 * the remaining ops at once, each counted. The queue is empty afterwards.
 * Thread-safe.
 *
 * Return: 0 when every op was applied, else the negative errno of the
 * first op that was not; -EDEADLK from an error callback of @ctx.
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
 * tt_alloc_set_flush_delay() - bound the time an op waits in the queue
 * @ctx: the context
 * @ms: milliseconds, at most %TT_ALLOC_FLUSH_DELAY_MAX_MS; 0 turns the
 *	background flush off (ops then wait for a full batch, a flush or close)
 *
 * The default is $TT_ALLOC_FLUSH_DELAY_MS when set at open (a decimal
 * number of milliseconds, 0 for off), else
 * %TT_ALLOC_FLUSH_DELAY_DEFAULT_MS. A background thread, started when the
 * first op is queued and stopped by tt_alloc_close(), flushes the queue
 * once its oldest op has waited @ms, so an idle runtime's records are
 * visible in tt-alloc-smi. The thread blocks every signal.
 *
 * Return: 0, -EINVAL for @ms above the maximum, -EDEADLK from an error
 * callback of @ctx.
 */
int tt_alloc_set_flush_delay(struct tt_alloc_ctx *ctx, unsigned int ms);

/**
 * tt_alloc_flush_delay() - the current flush delay
 * @ctx: the context
 *
 * Return: milliseconds, 0 when the background flush is off.
 */
unsigned int tt_alloc_flush_delay(const struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_set_error_callback() - be told about each refused queued op
 * @ctx: the context
 * @fn: the callback (see &tt_alloc_error_fn for where it runs), NULL for none
 * @arg: passed to @fn
 *
 * Return: 0, or -EDEADLK from an error callback of @ctx.
 */
int tt_alloc_set_error_callback(struct tt_alloc_ctx *ctx, tt_alloc_error_fn fn,
				void *arg);

/**
 * tt_alloc_error_count() - queued ops the kernel refused so far
 * @ctx: the context
 *
 * Counts the ops of automatic, background, explicit and final flushes that
 * were skipped (tt_alloc_record() and tt_alloc_free() return their errors
 * instead). Never reset. Lock-free: usable from an error callback.
 *
 * Return: the count, 0 for a no-op context.
 */
uint64_t tt_alloc_error_count(const struct tt_alloc_ctx *ctx);

/**
 * tt_alloc_last_error() - the error of the last refused queued op
 * @ctx: the context
 *
 * Return: its negative errno, 0 when none was refused.
 */
int tt_alloc_last_error(const struct tt_alloc_ctx *ctx);

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
 * at most %TT_ALLOC_CLIENTS_MAX rows. Rows are this header's &struct
 * tt_alloc_client whatever the kernel's: what an older kernel does not
 * fill is 0, and the uid %TT_ALLOC_UID_UNKNOWN. Since libttalloc 1.1
 * (symbol version TTALLOC_1.1); programs linked against 1.0 keep its
 * function, which hands out rows of %TT_ALLOC_CLIENT_SIZE_VER0 bytes.
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
