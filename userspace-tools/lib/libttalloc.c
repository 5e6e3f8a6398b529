// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: userspace side of /dev/tt_alloc. See libttalloc.h.
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
 * Incremented in every child of fork() (pthread_atfork): a context opened
 * under another generation belongs to an ancestor and is a no-op here, so
 * a child never sends its parent's queue into the shared file. One load
 * per call instead of a getpid() system call; flush_locked() also checks
 * the pid, for children made without the atfork handlers (raw clone()).
 */
static atomic_ulong fork_gen;
static pthread_once_t atfork_once = PTHREAD_ONCE_INIT;

static void atfork_child(void)
{
	atomic_fetch_add_explicit(&fork_gen, 1, memory_order_relaxed);
}

static void atfork_register(void)
{
	pthread_atfork(NULL, NULL, atfork_child);
}

/* The context's queue belongs to this process: not inherited via fork. */
static int ctx_mine(const struct tt_alloc_ctx *ctx)
{
	return ctx && ctx->fork_gen ==
		atomic_load_explicit(&fork_gen, memory_order_relaxed);
}

/*
 * Set while an error callback runs on this thread: the queue lock is held,
 * so the calls that take it return -EDEADLK instead of hanging.
 */
static _Thread_local const struct tt_alloc_ctx *in_callback;

/* ---- diagnostics ------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static tt_alloc_log_fn log_fn;
static void *log_arg;
static atomic_int tt_alloc_warned;

/*
 * One message to the log callback, or, without one, warnings to stderr at
 * most once per process (a runtime's log is not ours to fill).
 */
static void tt_alloc_log(unsigned int flags, int level, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void tt_alloc_log(unsigned int flags, int level, const char *fmt, ...)
{
	tt_alloc_log_fn fn;
	void *arg;
	char msg[512];
	va_list ap;

	if (flags & TT_ALLOC_OPEN_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fn = log_fn;
	arg = log_arg;
	pthread_mutex_unlock(&log_lock);
	if (fn) {
		fn(level, msg, arg);
		return;
	}
	if (level > TT_ALLOC_LOG_WARNING || atomic_exchange(&tt_alloc_warned, 1))
		return;
	fprintf(stderr, "libttalloc: %s\n", msg);
}

TT_ALLOC_EXPORT
void tt_alloc_set_log_callback(tt_alloc_log_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_arg = fn ? arg : NULL;
	pthread_mutex_unlock(&log_lock);
}

/* ---- environment --------------------------------------------------------- */

/* A decimal number from 0 to max in $name, else def. */
static unsigned long env_number(const char *name, unsigned long max,
				unsigned long def)
{
	const char *s = getenv(name);
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return def;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v > max)
		return def;
	return v;
}

static size_t env_batch_size(void)
{
	size_t v = env_number("TT_ALLOC_BATCH_SIZE", TT_ALLOC_BATCH_MAX,
			      TT_ALLOC_BATCH_MAX);

	return v ? v : TT_ALLOC_BATCH_MAX;
}

static struct tt_alloc_ctx *ctx_new(void)
{
	struct tt_alloc_ctx *ctx = calloc(1, sizeof(*ctx));
	pthread_condattr_t ca;

	if (!ctx)
		return NULL;
	ctx->fd = -1;
	if (pthread_mutex_init(&ctx->lock, NULL)) {
		free(ctx);
		return NULL;
	}
	/* Deadlines on CLOCK_MONOTONIC: a clock step must not stall flushes. */
	if (pthread_condattr_init(&ca) ||
	    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC) ||
	    pthread_cond_init(&ctx->wake, &ca)) {
		pthread_mutex_destroy(&ctx->lock);
		free(ctx);
		return NULL;
	}
	pthread_condattr_destroy(&ca);
	pthread_once(&atfork_once, atfork_register);
	ctx->fork_gen = atomic_load(&fork_gen);
	ctx->owner = getpid();
	ctx->default_batch_size = env_batch_size();
	ctx->batch_size = ctx->default_batch_size;
	ctx->delay_ms = (unsigned int)env_number(FLUSH_DELAY_ENV,
						 TT_ALLOC_FLUSH_DELAY_MAX_MS,
						 TT_ALLOC_FLUSH_DELAY_DEFAULT_MS);
	return ctx;
}

/*
 * INFO of this header's size; a kernel older than the feature bits does
 * not know that size (ENOTTY): ask again with the first one, features 0.
 */
static int info_ioctl(int fd, struct tt_alloc_info *info)
{
	memset(info, 0, sizeof(*info));
	if (!ioctl(fd, TT_ALLOC_IOC_INFO, info))
		return 0;
	if (errno != ENOTTY)
		return -1;
	return ioctl(fd, _IOC(_IOC_READ, TT_ALLOC_IOC_MAGIC, 0x00,
			      TT_ALLOC_INFO_SIZE_VER0), info);
}

TT_ALLOC_EXPORT
int tt_alloc_open_ex(const char *path, unsigned int flags,
		     struct tt_alloc_ctx **ctxp)
{
	const int monitor = !!(flags & TT_ALLOC_OPEN_MONITOR);
	struct tt_alloc_info info;
	struct tt_alloc_ctx *ctx;
	const char *env;
	char why[512];
	int fd, err;

	if (!ctxp)
		return -EINVAL;
	*ctxp = NULL;
	if (!path || !*path) {
		path = getenv("TT_ALLOC_DEVICE");
		if (!path || !*path)
			path = TT_ALLOC_DEFAULT_DEVICE;
	}

	ctx = ctx_new();
	if (!ctx)
		return -ENOMEM;

	if (!monitor) {
		env = getenv("TT_ALLOC_TRACKING_ENABLED");
		if (!env || strcmp(env, "1") != 0) {
			/* The normal, silent case: tracking not asked for. */
			*ctxp = ctx;
			return 0;
		}
	}

	fd = open(path, (monitor ? O_RDONLY : O_RDWR) | O_CLOEXEC);
	if (fd < 0) {
		err = errno;
		snprintf(why, sizeof(why), "TT_ALLOC_TRACKING_ENABLED=1 but %s cannot be opened (%s)",
			 path, strerror(err));
		goto unusable;
	}
	if (info_ioctl(fd, &info) < 0) {
		err = errno;
		snprintf(why, sizeof(why), "%s is not a tt_alloc device (TT_ALLOC_IOC_INFO: %s)",
			 path, strerror(err));
		goto unusable_fd;
	}
	/*
	 * The ABI only grows (structures at their end, capabilities as
	 * feature bits), so a newer kernel serves this library's requests:
	 * use it with the features we know. An older one may lack what the
	 * library sends.
	 */
	if (info.api_version < TT_ALLOC_API_VERSION) {
		err = EPROTO;
		snprintf(why, sizeof(why), "%s speaks tt_alloc API %u, older than this library's %u",
			 path, info.api_version, TT_ALLOC_API_VERSION);
		goto unusable_fd;
	}
	if (info.api_version > TT_ALLOC_API_VERSION ||
	    (info.features & ~TT_ALLOC_LIB_FEATURES))
		tt_alloc_log(flags, TT_ALLOC_LOG_INFO,
			     "%s speaks tt_alloc API %u (features 0x%llx), this library %u (features 0x%llx): using the library's",
			     path, info.api_version, (unsigned long long)info.features,
			     TT_ALLOC_API_VERSION, (unsigned long long)TT_ALLOC_LIB_FEATURES);

	ctx->fd = fd;
	ctx->features = info.features & TT_ALLOC_LIB_FEATURES;
	*ctxp = ctx;
	return 0;

unusable_fd:
	close(fd);
unusable:
	/* A monitor needs the device; a runtime runs on untracked, warned. */
	if (monitor) {
		tt_alloc_close(ctx);
		return -err;
	}
	tt_alloc_log(flags, TT_ALLOC_LOG_WARNING, "%s; allocations are not tracked", why);
	*ctxp = ctx;
	return 0;
}

TT_ALLOC_EXPORT
int tt_alloc_open(struct tt_alloc_ctx **ctxp)
{
	return tt_alloc_open_ex(NULL, 0, ctxp);
}

static int flush_locked(struct tt_alloc_ctx *ctx, uint32_t *done);

TT_ALLOC_EXPORT
int tt_alloc_close(struct tt_alloc_ctx *ctx)
{
	int ret = 0;

	if (!ctx)
		return 0;
	if (in_callback == ctx)
		return -EDEADLK;
	if (!ctx_mine(ctx)) {
		/*
		 * A fork() child: the flusher thread and the lock state are the
		 * parent's (the lock may even be held by a thread that does not
		 * exist here). Drop our copy of the queue unsent, close our copy
		 * of the descriptor, free the memory; touch nothing else.
		 */
		if (ctx->fd >= 0)
			close(ctx->fd);
		free(ctx->ops);
		free(ctx);
		return 0;
	}
	if (ctx->flusher_state == FLUSHER_RUNNING) {
		pthread_mutex_lock(&ctx->lock);
		ctx->stop = 1;
		pthread_cond_signal(&ctx->wake);
		pthread_mutex_unlock(&ctx->lock);
		pthread_join(ctx->flusher, NULL);
	}
	if (ctx->fd >= 0) {
		pthread_mutex_lock(&ctx->lock);
		ret = flush_locked(ctx, NULL);
		pthread_mutex_unlock(&ctx->lock);
		close(ctx->fd);
	}
	pthread_cond_destroy(&ctx->wake);
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->ops);
	free(ctx);
	return ret;
}

TT_ALLOC_EXPORT
int tt_alloc_enabled(const struct tt_alloc_ctx *ctx)
{
	return ctx && ctx->fd >= 0 && ctx_mine(ctx);
}

TT_ALLOC_EXPORT
int tt_alloc_fd(const struct tt_alloc_ctx *ctx)
{
	return tt_alloc_enabled(ctx) ? ctx->fd : -1;
}

TT_ALLOC_EXPORT
uint64_t tt_alloc_features(const struct tt_alloc_ctx *ctx)
{
	return tt_alloc_enabled(ctx) ? ctx->features : 0;
}

static int xioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}

TT_ALLOC_EXPORT
int tt_alloc_get_info(struct tt_alloc_ctx *ctx, struct tt_alloc_info *info)
{
	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	if (!tt_alloc_enabled(ctx))
		return 0;
	return info_ioctl(ctx->fd, info) ? -errno : 0;
}

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
	return xioctl(ctx->fd, TT_ALLOC_IOC_ALLOC, &b);
}

TT_ALLOC_EXPORT
int tt_alloc_free(struct tt_alloc_ctx *ctx, uint32_t device, uint32_t type,
		  uint64_t id)
{
	struct tt_alloc_buffer b;

	if (!tt_alloc_enabled(ctx))
		return 0;
	fill_buf(&b, device, type, id, 0, 0);
	return xioctl(ctx->fd, TT_ALLOC_IOC_FREE, &b);
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
		in_callback = ctx;
		ctx->err_fn(ctx, op, err, ctx->err_arg);
		in_callback = NULL;
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
static int flush_locked(struct tt_alloc_ctx *ctx, uint32_t *done)
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
		flush_locked(ctx, NULL);
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
	in_callback = ctx;
	tt_alloc_log(0, TT_ALLOC_LOG_WARNING,
		     "cannot start the flush thread (%s); queued records wait for a full batch or tt_alloc_flush()",
		     strerror(err));
	in_callback = NULL;
}

static int queue_op(struct tt_alloc_ctx *ctx, uint32_t op, uint32_t device,
		    uint32_t type, uint64_t id, uint64_t size, uint32_t kind)
{
	struct tt_alloc_op *o;
	int ret = 0;

	if (!tt_alloc_enabled(ctx))
		return 0;
	if (in_callback == ctx)
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
		ret = flush_locked(ctx, NULL);
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
	if (in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	ret = flush_locked(ctx, done);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
size_t tt_alloc_queued(struct tt_alloc_ctx *ctx)
{
	size_t n;

	if (!tt_alloc_enabled(ctx) || in_callback == ctx)
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
	if (!ctx || !ctx_mine(ctx))
		return 0;
	if (in_callback == ctx)
		return -EDEADLK;
	pthread_mutex_lock(&ctx->lock);
	ctx->batch_size = size ? size : ctx->default_batch_size;
	if (ctx->fd >= 0 && ctx->nops >= ctx->batch_size)
		ret = flush_locked(ctx, NULL);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
size_t tt_alloc_batch_size(struct tt_alloc_ctx *ctx)
{
	size_t n;

	if (!ctx || !ctx_mine(ctx) || in_callback == ctx)
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
	if (!ctx || !ctx_mine(ctx))
		return 0;
	if (in_callback == ctx)
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
	if (!ctx || !ctx_mine(ctx))
		return 0;
	if (in_callback == ctx)
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

TT_ALLOC_EXPORT
int tt_alloc_get_usage(struct tt_alloc_ctx *ctx, uint32_t device,
		       uint32_t scope, struct tt_alloc_usage *usage)
{
	if (!usage)
		return -EINVAL;
	memset(usage, 0, sizeof(*usage));
	if (!tt_alloc_enabled(ctx))
		return 0;
	usage->device = device;
	usage->scope = scope;
	return xioctl(ctx->fd, TT_ALLOC_IOC_USAGE, usage);
}

/*
 * A kernel without the cursor lists at most TT_ALLOC_CLIENTS_MAX rows in
 * one call of the first structure size; grow the buffer until they fit.
 */
static int clients_no_cursor(struct tt_alloc_ctx *ctx,
			     struct tt_alloc_client **rows, size_t *count)
{
	struct tt_alloc_clients req;
	struct tt_alloc_client *buf = NULL;
	uint32_t room = 0;
	int ret, tries;

	for (tries = 0; tries < 16; tries++) {
		memset(&req, 0, sizeof(req));
		req.clients = (uint64_t)(uintptr_t)buf;
		req.count = room;
		ret = xioctl(ctx->fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
					   0x05, TT_ALLOC_CLIENTS_SIZE_VER0), &req);
		if (ret) {
			free(buf);
			return ret;
		}
		if (req.count <= room) {
			if (!req.count) {
				free(buf);
				buf = NULL;
			}
			*rows = buf;
			*count = req.count;
			return 0;
		}
		free(buf);
		room = req.count + req.count / 4 + 8;
		if (room > TT_ALLOC_CLIENTS_MAX)
			room = TT_ALLOC_CLIENTS_MAX;
		buf = calloc(room, sizeof(*buf));
		if (!buf)
			return -ENOMEM;
	}
	free(buf);
	return -EAGAIN;
}

/*
 * With the cursor: read from after the last row we have, as many as the
 * kernel says remain (at most TT_ALLOC_CLIENTS_MAX a call), until a call
 * returns every row left. Rows of clients that come and go meanwhile are
 * seen at most once; every client open throughout is seen.
 */
TT_ALLOC_EXPORT
int tt_alloc_get_clients(struct tt_alloc_ctx *ctx,
			 struct tt_alloc_client **rows, size_t *count)
{
	struct tt_alloc_clients req;
	struct tt_alloc_client *buf = NULL, *nb;
	size_t have = 0, cap = 0;
	uint32_t room = 0, got;
	int ret;

	if (!rows || !count)
		return -EINVAL;
	*rows = NULL;
	*count = 0;
	if (!tt_alloc_enabled(ctx))
		return 0;
	if (!(ctx->features & TT_ALLOC_FEATURE_CLIENTS_CURSOR))
		return clients_no_cursor(ctx, rows, count);

	for (;;) {
		memset(&req, 0, sizeof(req));
		req.clients = buf ? (uint64_t)(uintptr_t)(buf + have) : 0;
		req.count = room;
		if (have) {
			req.after_id = buf[have - 1].client_id;
			req.after_device = buf[have - 1].device;
		}
		ret = xioctl(ctx->fd, TT_ALLOC_IOC_CLIENTS, &req);
		if (ret) {
			free(buf);
			return ret;
		}
		got = req.count < room ? req.count : room;
		have += got;
		if (req.count <= room)
			break;
		/* More rows remain after the cursor: room for them, and some. */
		room = req.count - got;
		room += room / 4 + 8;
		if (room > TT_ALLOC_CLIENTS_MAX)
			room = TT_ALLOC_CLIENTS_MAX;
		if (have + room > cap) {
			cap = have + room;
			nb = realloc(buf, cap * sizeof(*buf));
			if (!nb) {
				free(buf);
				return -ENOMEM;
			}
			buf = nb;
		}
	}
	if (!have) {
		free(buf);
		buf = NULL;
	}
	*rows = buf;
	*count = have;
	return 0;
}

TT_ALLOC_EXPORT
void tt_alloc_clients_free(struct tt_alloc_client *rows)
{
	free(rows);
}

TT_ALLOC_EXPORT
const char *tt_alloc_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case ENOTTY:
		return "device does not understand this tt_alloc request (ENOTTY)";
	case EINVAL:
		return "invalid argument: bad type, kind, size, flags or scope (EINVAL)";
	case ENODEV:
		return "no such tt_alloc device number (ENODEV)";
	case E2BIG:
		return "too many entries in one request (E2BIG)";
	case EEXIST:
		return "allocation already recorded with another size or kind (EEXIST)";
	case ENOENT:
		return "allocation not recorded by this file, or device node missing (ENOENT)";
	case EDQUOT:
		return "per-file allocation limit reached (max_allocations_per_file) (EDQUOT)";
	case ENOSPC:
		return "allocation exceeds the device's capacity (enforce_capacity) (ENOSPC)";
	case EOVERFLOW:
		return "byte counter or reference count would overflow (EOVERFLOW)";
	case EPROTO:
		return "tt_alloc API version mismatch (EPROTO)";
	default:
		return strerror(err);
	}
}

static const char *const mem_names[TT_ALLOC_MEM_COUNT] = {
#define MEM_NAME(type, name) [type] = name,
	TT_ALLOC_MEM_NAMES(MEM_NAME)
#undef MEM_NAME
};

static const char *const kind_names[] = {
	[TT_ALLOC_KERNEL_APP] = "app",
	[TT_ALLOC_KERNEL_FABRIC] = "fabric",
	[TT_ALLOC_KERNEL_DISPATCH] = "dispatch",
};

TT_ALLOC_EXPORT
const char *tt_alloc_mem_type_name(uint32_t type)
{
	return type < TT_ALLOC_MEM_COUNT ? mem_names[type] : "unknown";
}

TT_ALLOC_EXPORT
const char *tt_alloc_kernel_kind_name(uint32_t kind)
{
	return kind < sizeof(kind_names) / sizeof(kind_names[0]) ?
		kind_names[kind] : "unknown";
}

static int parse_number(const char *s)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > INT_MAX)
		return -EINVAL;
	return (int)v;
}

static int lookup(const char *name, const char *const *names, size_t n)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!strcasecmp(name, names[i]))
			return (int)i;
	return parse_number(name);
}

TT_ALLOC_EXPORT
int tt_alloc_mem_type_from_name(const char *name)
{
	return lookup(name, mem_names, TT_ALLOC_MEM_COUNT);
}

TT_ALLOC_EXPORT
int tt_alloc_kernel_kind_from_name(const char *name)
{
	return lookup(name, kind_names, sizeof(kind_names) / sizeof(kind_names[0]));
}

TT_ALLOC_EXPORT
const char *tt_alloc_library_version(void)
{
	return TT_ALLOC_VERSION;
}
