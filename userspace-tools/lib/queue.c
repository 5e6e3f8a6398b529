// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: recording, the queue and its background flusher.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

/*
 * Set while an error callback runs on this thread: the queue lock is held,
 * so the calls that take it return -EDEADLK instead of hanging.
 */
_Thread_local const struct tt_alloc_ctx *tta_in_callback;

static void fill_buf(struct tt_alloc_buffer *b, uint32_t device, uint32_t type,
		     uint64_t id, uint64_t size, uint32_t kind)
{
	memset(b, 0, sizeof(*b));
	b->device = device;
	b->type = type;
	b->id = id;
	b->size = size;
	b->kind = kind;
}

TT_ALLOC_EXPORT
int tt_alloc_record(struct tt_alloc_ctx *ctx, uint32_t device, uint32_t type,
		    uint64_t id, uint64_t size, uint32_t kind)
{
	struct tt_alloc_buffer b;

	if (!tt_alloc_enabled(ctx))
		return 0;
	fill_buf(&b, device, type, id, size, kind);
	return tta_ioctl(ctx->fd, TT_ALLOC_IOC_ALLOC, &b);
}

TT_ALLOC_EXPORT
int tt_alloc_free(struct tt_alloc_ctx *ctx, uint32_t device, uint32_t type,
		  uint64_t id)
{
	struct tt_alloc_buffer b;

	if (!tt_alloc_enabled(ctx))
		return 0;
	fill_buf(&b, device, type, id, 0, 0);
	return tta_ioctl(ctx->fd, TT_ALLOC_IOC_FREE, &b);
}

/*
 * Errors that are about the call, not about the op BATCH stopped at: every
 * later op would fail the same way (a read-only file, not tt_alloc, our
 * own bad pointer), so retrying op by op would only cost an ioctl each.
 */
static int batch_call_error(int err)
{
	return err == -EBADF || err == -ENOTTY || err == -EFAULT ||
	       err == -EPERM || err == -EACCES || err == -E2BIG;
}

/* Called with ctx->lock held: count a queued op the kernel refused. */
static void op_failed(struct tt_alloc_ctx *ctx, const struct tt_alloc_op *op,
		      int err)
{
	atomic_fetch_add(&ctx->nerrors, 1);
	atomic_store(&ctx->last_error, err);
	if (ctx->err_fn) {
		tta_in_callback = ctx;
		ctx->err_fn(ctx, op, err, ctx->err_arg);
		tta_in_callback = NULL;
	}
}

/* Consecutive -EINTR without progress before the rest is given up. */
#define MAX_EINTR	16

/*
 * Called with ctx->lock held. BATCH stops at the first op that fails and
 * says how many it applied before it: skip that one op (counted, the
 * callback told) and send the rest after it again, so one bad op never
 * costs the others. -EINTR (a signal between two ops) skips nothing.
 *
 * Return: 0, or the error of the first op that failed.
 */
int tta_flush_locked(struct tt_alloc_ctx *ctx, uint32_t *done)
{
	struct tt_alloc_batch batch;
	size_t pos = 0, applied = 0, k;
	int ret, first = 0, intr = 0;

	if (done)
		*done = 0;
	if (!ctx->nops)
		return 0;
	if (getpid() != ctx->owner) {
		/* A child made without the atfork handlers: never send. */
		ctx->nops = 0;
		return 0;
	}
	while (pos < ctx->nops) {
		memset(&batch, 0, sizeof(batch));
		batch.ops = (uint64_t)(uintptr_t)(ctx->ops + pos);
		batch.count = (uint32_t)(ctx->nops - pos);
		batch.op_size = TTA_OP_SIZE;
		ret = ioctl(ctx->fd, TT_ALLOC_IOC_BATCH, &batch) < 0 ? -errno : 0;
		if (batch.done > batch.count)	/* never trust a count blindly */
			batch.done = batch.count;
		pos += batch.done;
		applied += batch.done;
		if (!ret)
			break;
		if (ret == -EINTR && (batch.done || ++intr < MAX_EINTR)) {
			if (batch.done)
				intr = 0;
			continue;
		}
		if (!first)
			first = ret;
		if (batch_call_error(ret) || ret == -EINTR) {
			for (k = pos; k < ctx->nops; k++)
				op_failed(ctx, &ctx->ops[k], ret);
			break;
		}
		op_failed(ctx, &ctx->ops[pos], ret);
		pos++;
		intr = 0;
	}
	ctx->nops = 0;
	if (done)
		*done = (uint32_t)applied;
	return first;
}

static void timespec_add_ms(struct timespec *t, unsigned int ms)
{
	t->tv_sec += ms / 1000;
	t->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (t->tv_nsec >= 1000000000L) {
		t->tv_sec++;
		t->tv_nsec -= 1000000000L;
	}
}

static int timespec_before(const struct timespec *a, const struct timespec *b)
{
	return a->tv_sec < b->tv_sec ||
	       (a->tv_sec == b->tv_sec && a->tv_nsec < b->tv_nsec);
}

/*
 * The background flusher: sends the queue once its oldest op has waited
 * delay_ms, so an idle runtime's records still reach the kernel. Sleeps
 * on the condition variable while the queue is empty or the delay is off.
 */
static void *flusher_main(void *arg)
{
	struct tt_alloc_ctx *ctx = arg;
	struct timespec now, deadline;

	pthread_mutex_lock(&ctx->lock);
	while (!ctx->stop) {
		if (!ctx->nops || !ctx->delay_ms) {
			pthread_cond_wait(&ctx->wake, &ctx->lock);
			continue;
		}
		deadline = ctx->oldest;
		timespec_add_ms(&deadline, ctx->delay_ms);
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (timespec_before(&now, &deadline)) {
			pthread_cond_timedwait(&ctx->wake, &ctx->lock, &deadline);
			continue;
		}
		tta_flush_locked(ctx, NULL);
	}
	pthread_mutex_unlock(&ctx->lock);
	return NULL;
}

/*
 * Called with ctx->lock held, when there is something to flush later.
 * The thread gets no signals: they are the runtime's, not ours.
 */
static void flusher_start(struct tt_alloc_ctx *ctx)
{
	sigset_t all, old;
	int err;

	if (ctx->flusher_state != FLUSHER_NONE || !ctx->delay_ms)
		return;
	sigfillset(&all);
	pthread_sigmask(SIG_SETMASK, &all, &old);
	err = pthread_create(&ctx->flusher, NULL, flusher_main, ctx);
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!err) {
		ctx->flusher_state = FLUSHER_RUNNING;
		return;
	}
	/* Not retried per op: flushes still happen at the batch size and close. */
	ctx->flusher_state = FLUSHER_FAILED;
	/* The lock is held: a log callback calling back in must not hang. */
	tta_in_callback = ctx;
	tta_log(0, TT_ALLOC_LOG_WARNING,
		     "cannot start the flush thread (%s); queued records wait for a full batch or tt_alloc_flush()",
		     strerror(err));
	tta_in_callback = NULL;
}

static int queue_op(struct tt_alloc_ctx *ctx, uint32_t op, uint32_t device,
		    uint32_t type, uint64_t id, uint64_t size, uint32_t kind)
{
	struct tt_alloc_op *o;
	int ret = 0;

	if (!tt_alloc_enabled(ctx))
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	if (ctx->nops == ctx->cap) {
		size_t ncap = ctx->cap ? ctx->cap * 2 : 64;
		struct tt_alloc_op *nops;

		if (ncap > TT_ALLOC_BATCH_MAX)
			ncap = TT_ALLOC_BATCH_MAX;
		nops = realloc(ctx->ops, ncap * sizeof(*nops));
		if (!nops) {
			pthread_mutex_unlock(&ctx->lock);
			return -ENOMEM;
		}
		ctx->ops = nops;
		ctx->cap = ncap;
	}
	o = &ctx->ops[ctx->nops++];
	memset(o, 0, sizeof(*o));
	o->op = op;
	fill_buf(&o->buf, device, type, id, size, kind);
	if (ctx->nops >= ctx->batch_size) {
		ret = tta_flush_locked(ctx, NULL);
	} else if (ctx->nops == 1) {
		/*
		 * The deadline counts from here even when the delay is off now:
		 * tt_alloc_set_flush_delay() may turn it on later.
		 */
		clock_gettime(CLOCK_MONOTONIC, &ctx->oldest);
		if (ctx->delay_ms) {
			/* The flusher sleeps while the queue is empty: wake it. */
			flusher_start(ctx);
			pthread_cond_signal(&ctx->wake);
		}
	}
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
int tt_alloc_queue_record(struct tt_alloc_ctx *ctx, uint32_t device,
			  uint32_t type, uint64_t id, uint64_t size,
			  uint32_t kind)
{
	return queue_op(ctx, TT_ALLOC_OP_ALLOC, device, type, id, size, kind);
}

TT_ALLOC_EXPORT
int tt_alloc_queue_free(struct tt_alloc_ctx *ctx, uint32_t device,
			uint32_t type, uint64_t id)
{
	return queue_op(ctx, TT_ALLOC_OP_FREE, device, type, id, 0, 0);
}

TT_ALLOC_EXPORT
int tt_alloc_flush(struct tt_alloc_ctx *ctx, uint32_t *done)
{
	int ret;

	if (done)
		*done = 0;
	if (!tt_alloc_enabled(ctx))
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	ret = tta_flush_locked(ctx, done);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
size_t tt_alloc_queued(struct tt_alloc_ctx *ctx)
{
	size_t n;

	if (!tt_alloc_enabled(ctx) || tta_in_callback == ctx)
		return 0;
	pthread_mutex_lock(&ctx->lock);
	n = ctx->nops;
	pthread_mutex_unlock(&ctx->lock);
	return n;
}

TT_ALLOC_EXPORT
int tt_alloc_set_batch_size(struct tt_alloc_ctx *ctx, size_t size)
{
	int ret = 0;

	if (size > TT_ALLOC_BATCH_MAX)
		return -EINVAL;
	if (!ctx || !tta_ctx_mine(ctx))
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	ctx->batch_size = size ? size : ctx->default_batch_size;
	if (ctx->fd >= 0 && ctx->nops >= ctx->batch_size)
		ret = tta_flush_locked(ctx, NULL);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
size_t tt_alloc_batch_size(struct tt_alloc_ctx *ctx)
{
	size_t n;

	if (!ctx || !tta_ctx_mine(ctx) || tta_in_callback == ctx)
		return ctx ? ctx->batch_size : TT_ALLOC_BATCH_MAX;
	pthread_mutex_lock(&ctx->lock);
	n = ctx->batch_size;
	pthread_mutex_unlock(&ctx->lock);
	return n;
}

TT_ALLOC_EXPORT
int tt_alloc_set_flush_delay(struct tt_alloc_ctx *ctx, unsigned int ms)
{
	if (ms > TT_ALLOC_FLUSH_DELAY_MAX_MS)
		return -EINVAL;
	if (!ctx || !tta_ctx_mine(ctx))
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	__atomic_store_n(&ctx->delay_ms, ms, __ATOMIC_RELAXED);
	if (ms && ctx->nops && ctx->fd >= 0)
		flusher_start(ctx);
	/* A shorter delay may already be over: let the flusher look again. */
	pthread_cond_signal(&ctx->wake);
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

TT_ALLOC_EXPORT
unsigned int tt_alloc_flush_delay(const struct tt_alloc_ctx *ctx)
{
	/* An aligned unsigned int: a racing setter gives the old or new one. */
	return ctx ? __atomic_load_n(&ctx->delay_ms, __ATOMIC_RELAXED) :
		TT_ALLOC_FLUSH_DELAY_DEFAULT_MS;
}

TT_ALLOC_EXPORT
int tt_alloc_set_error_callback(struct tt_alloc_ctx *ctx, tt_alloc_error_fn fn,
				void *arg)
{
	if (!ctx || !tta_ctx_mine(ctx))
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	ctx->err_fn = fn;
	ctx->err_arg = fn ? arg : NULL;
	pthread_mutex_unlock(&ctx->lock);
	return 0;
}

TT_ALLOC_EXPORT
uint64_t tt_alloc_error_count(const struct tt_alloc_ctx *ctx)
{
	return ctx ? atomic_load(&((struct tt_alloc_ctx *)ctx)->nerrors) : 0;
}

TT_ALLOC_EXPORT
int tt_alloc_last_error(const struct tt_alloc_ctx *ctx)
{
	return ctx ? atomic_load(&((struct tt_alloc_ctx *)ctx)->last_error) : 0;
}
