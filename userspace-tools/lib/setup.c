// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: opening and closing /dev/tt_alloc, the context, fork. See libttalloc.h.
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
 * Incremented in every child of fork() (pthread_atfork): a context opened
 * under another generation belongs to an ancestor and is a no-op here, so
 * a child never sends its parent's queue into the shared file. One load
 * per call instead of a getpid() system call; tta_flush_locked() also checks
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
int tta_ctx_mine(const struct tt_alloc_ctx *ctx)
{
	return ctx && ctx->fork_gen ==
		atomic_load_explicit(&fork_gen, memory_order_relaxed);
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
int tta_info_ioctl(int fd, struct tt_alloc_info *info)
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
	if (tta_info_ioctl(fd, &info) < 0) {
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
		tta_log(flags, TT_ALLOC_LOG_INFO,
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
	tta_log(flags, TT_ALLOC_LOG_WARNING, "%s; allocations are not tracked", why);
	*ctxp = ctx;
	return 0;
}

TT_ALLOC_EXPORT
int tt_alloc_open(struct tt_alloc_ctx **ctxp)
{
	return tt_alloc_open_ex(NULL, 0, ctxp);
}

TT_ALLOC_EXPORT
int tt_alloc_close(struct tt_alloc_ctx *ctx)
{
	int ret = 0;

	if (!ctx)
		return 0;
	if (tta_in_callback == ctx)
		return -EDEADLK;
	if (!tta_ctx_mine(ctx)) {
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
		ret = tta_flush_locked(ctx, NULL);
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
	return ctx && ctx->fd >= 0 && tta_ctx_mine(ctx);
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

int tta_ioctl(int fd, unsigned long cmd, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, cmd, arg);
	} while (ret < 0 && errno == EINTR);
	return ret < 0 ? -errno : 0;
}
