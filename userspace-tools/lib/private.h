/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * libttalloc internals shared by its files; not installed. The files:
 * setup.c (open, close, the context, fork), queue.c (recording, the
 * queue and its flusher thread), query.c (INFO, USAGE, CLIENTS),
 * errors.c (the log callback, tt_alloc_strerror()), names.c (memory type
 * and kernel kind names, the version). Only TT_ALLOC_EXPORT functions
 * leave the shared object (-fvisibility=hidden, libttalloc.map); the
 * tta_ ones below are the static library's only other global names.
 */
#ifndef TT_ALLOC_PRIVATE_H
#define TT_ALLOC_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <sys/types.h>
#include <time.h>

#include "tt_alloc/libttalloc.h"

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

#define TT_ALLOC_EXPORT __attribute__((visibility("default")))

#define FLUSH_DELAY_ENV		"TT_ALLOC_FLUSH_DELAY_MS"

struct tt_alloc_ctx {
	int fd;				/* -1: no-op context */
	unsigned long fork_gen;		/* fork_gen when opened */
	pid_t owner;			/* the process that opened it */
	pthread_mutex_t lock;		/* protects everything below */
	pthread_cond_t wake;		/* the flusher: queue or delay changed */
	struct tt_alloc_op *ops;
	size_t nops;
	size_t cap;
	size_t batch_size;
	size_t default_batch_size;
	uint64_t features;		/* kernel's TT_ALLOC_FEATURE_* we know */
	tt_alloc_error_fn err_fn;
	void *err_arg;
	/* Read without the lock (tt_alloc_error_count() from a callback). */
	atomic_uint_least64_t nerrors;
	atomic_int last_error;
	/* Bounded flush delay: the background flusher. */
	unsigned int delay_ms;
	struct timespec oldest;		/* when the queue's first op came */
	pthread_t flusher;
	int flusher_state;		/* FLUSHER_* */
	int stop;			/* close: the flusher exits */
};

enum { FLUSHER_NONE, FLUSHER_RUNNING, FLUSHER_FAILED };

/*
 * The element sizes BATCH and CLIENTS are given (op_size, row_size): 0
 * while the header this library is built with has the first elements,
 * which every kernel reads as those, with or without
 * TT_ALLOC_FEATURE_ELEM_SIZE; so no feature test is needed. Only a header
 * whose elements grew makes them the sizeof: a kernel with the feature
 * reads those, an older one refuses the call with EINVAL rather than
 * misreading the array.
 */
#define TTA_ELEM_SIZE(type, ver0) \
	((uint32_t)(sizeof(type) == (ver0) ? 0 : sizeof(type)))
#define TTA_OP_SIZE \
	TTA_ELEM_SIZE(struct tt_alloc_op, TT_ALLOC_OP_SIZE_VER0)

/*
 * The first client row, which tt_alloc_get_clients@TTALLOC_1 (libttalloc
 * 1.0's, for programs built before the row grew) hands out.
 */
struct tta_client_ver0 {
	uint64_t client_id;
	uint32_t pid;
	uint32_t device;
	uint8_t comm[TT_ALLOC_COMM_LEN];
	uint32_t flags;
	uint32_t reserved;
	uint64_t used[TT_ALLOC_MEM_MAX];
	uint64_t allocations[TT_ALLOC_MEM_MAX];
};
_Static_assert(sizeof(struct tta_client_ver0) == TT_ALLOC_CLIENT_SIZE_VER0,
	       "the first client row");

/* setup.c */
int tta_ctx_mine(const struct tt_alloc_ctx *ctx);
int tta_info_ioctl(int fd, struct tt_alloc_info *info);
int tta_ioctl(int fd, unsigned long cmd, void *arg);

/* queue.c */
extern _Thread_local const struct tt_alloc_ctx *tta_in_callback;
int tta_flush_locked(struct tt_alloc_ctx *ctx, uint32_t *done);

/* errors.c */
void tta_log(unsigned int flags, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

#endif
