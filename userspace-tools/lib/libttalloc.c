// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: userspace side of /dev/tt_alloc. See libttalloc.h.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include "tt_alloc/libttalloc.h"

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

#define TT_ALLOC_EXPORT __attribute__((visibility("default")))

struct tt_alloc_ctx {
	int fd;				/* -1: no-op context */
	pthread_mutex_t lock;		/* protects the queue below */
	struct tt_alloc_op *ops;
	size_t nops;
	size_t cap;
	size_t batch_size;
	size_t default_batch_size;
	uint64_t features;		/* TT_ALLOC_FEATURE_* of the kernel */
};

static atomic_int tt_alloc_warned;

static void tt_alloc_diag(unsigned int flags, const char *fmt, const char *path,
			  int err)
{
	if (flags & TT_ALLOC_OPEN_QUIET)
		return;
	if (atomic_exchange(&tt_alloc_warned, 1))
		return;
	fprintf(stderr, "libttalloc: ");
	fprintf(stderr, fmt, path, strerror(err));
	fputc('\n', stderr);
}

static size_t env_batch_size(void)
{
	const char *s = getenv("TT_ALLOC_BATCH_SIZE");
	char *end;
	unsigned long v;

	if (!s || !*s)
		return TT_ALLOC_BATCH_MAX;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > TT_ALLOC_BATCH_MAX)
		return TT_ALLOC_BATCH_MAX;
	return v;
}

static struct tt_alloc_ctx *ctx_new(void)
{
	struct tt_alloc_ctx *ctx = calloc(1, sizeof(*ctx));

	if (!ctx)
		return NULL;
	ctx->fd = -1;
	if (pthread_mutex_init(&ctx->lock, NULL)) {
		free(ctx);
		return NULL;
	}
	ctx->default_batch_size = env_batch_size();
	ctx->batch_size = ctx->default_batch_size;
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
		if (monitor) {
			tt_alloc_close(ctx);
			return -err;
		}
		tt_alloc_diag(flags,
			      "TT_ALLOC_TRACKING_ENABLED=1 but %s cannot be opened (%s); allocations are not tracked",
			      path, err);
		*ctxp = ctx;
		return 0;
	}

	if (info_ioctl(fd, &info) < 0 ||
	    info.api_version != TT_ALLOC_API_VERSION) {
		err = info.api_version ? EPROTO : errno;
		close(fd);
		if (monitor) {
			tt_alloc_close(ctx);
			return -err;
		}
		tt_alloc_diag(flags,
			      "%s speaks another tt_alloc API (%s); allocations are not tracked",
			      path, err);
		*ctxp = ctx;
		return 0;
	}

	ctx->fd = fd;
	ctx->features = info.features;
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
	if (ctx->fd >= 0) {
		ret = tt_alloc_flush(ctx, NULL);
		close(ctx->fd);
	}
	pthread_mutex_destroy(&ctx->lock);
	free(ctx->ops);
	free(ctx);
	return ret;
}

TT_ALLOC_EXPORT
int tt_alloc_enabled(const struct tt_alloc_ctx *ctx)
{
	return ctx && ctx->fd >= 0;
}

TT_ALLOC_EXPORT
int tt_alloc_fd(const struct tt_alloc_ctx *ctx)
{
	return ctx ? ctx->fd : -1;
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

/* Called with ctx->lock held. */
static int flush_locked(struct tt_alloc_ctx *ctx, uint32_t *done)
{
	struct tt_alloc_batch batch;
	int ret;

	if (done)
		*done = 0;
	if (!ctx->nops)
		return 0;
	memset(&batch, 0, sizeof(batch));
	batch.ops = (uint64_t)(uintptr_t)ctx->ops;
	batch.count = (uint32_t)ctx->nops;
	ret = xioctl(ctx->fd, TT_ALLOC_IOC_BATCH, &batch);
	if (done)
		*done = ret == -EFAULT ? 0 : batch.done;
	ctx->nops = 0;
	return ret;
}

static int queue_op(struct tt_alloc_ctx *ctx, uint32_t op, uint32_t device,
		    uint32_t type, uint64_t id, uint64_t size, uint32_t kind)
{
	struct tt_alloc_op *o;
	int ret = 0;

	if (!tt_alloc_enabled(ctx))
		return 0;
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
	if (ctx->nops >= ctx->batch_size)
		ret = flush_locked(ctx, NULL);
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
	pthread_mutex_lock(&ctx->lock);
	ret = flush_locked(ctx, done);
	pthread_mutex_unlock(&ctx->lock);
	return ret;
}

TT_ALLOC_EXPORT
size_t tt_alloc_queued(struct tt_alloc_ctx *ctx)
{
	size_t n;

	if (!tt_alloc_enabled(ctx))
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
	if (!ctx)
		return 0;
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

	if (!ctx)
		return TT_ALLOC_BATCH_MAX;
	pthread_mutex_lock(&ctx->lock);
	n = ctx->batch_size;
	pthread_mutex_unlock(&ctx->lock);
	return n;
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
	[TT_ALLOC_MEM_DRAM] = "dram",
	[TT_ALLOC_MEM_L1] = "l1",
	[TT_ALLOC_MEM_SYSTEM] = "system",
	[TT_ALLOC_MEM_L1_SMALL] = "l1_small",
	[TT_ALLOC_MEM_TRACE] = "trace",
	[TT_ALLOC_MEM_CB] = "cb",
	[TT_ALLOC_MEM_KERNEL] = "kernel",
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
