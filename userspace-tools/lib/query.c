// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: INFO, USAGE and CLIENTS.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

TT_ALLOC_EXPORT
int tt_alloc_get_info(struct tt_alloc_ctx *ctx, struct tt_alloc_info *info)
{
	if (!info)
		return -EINVAL;
	memset(info, 0, sizeof(*info));
	if (!tt_alloc_enabled(ctx))
		return 0;
	return tta_info_ioctl(ctx->fd, info) ? -errno : 0;
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
	return tta_ioctl(ctx->fd, TT_ALLOC_IOC_USAGE, usage);
}

/*
 * Rows are read at the kernel's row size @ks (ours with
 * TT_ALLOC_FEATURE_ELEM_SIZE, else the first one) and handed out at the
 * caller's @size: widen them in place from the last, zeroing what the
 * kernel did not write.
 */
static int clients_widen(unsigned char **buf, size_t n, size_t ks, size_t size)
{
	unsigned char *nb;
	size_t i;

	if (ks == size || !n)
		return 0;
	nb = realloc(*buf, n * size);
	if (!nb)
		return -ENOMEM;
	*buf = nb;
	for (i = n; i-- > 0;) {
		memmove(nb + i * size, nb + i * ks, ks);
		memset(nb + i * size + ks, 0, size - ks);
	}
	return 0;
}

/*
 * A kernel without the cursor lists at most TT_ALLOC_CLIENTS_MAX rows, of
 * the first size, in one call of the first structure size; grow the
 * buffer until they fit.
 */
static int clients_no_cursor(struct tt_alloc_ctx *ctx, unsigned char **rows,
			     size_t *count)
{
	const size_t ks = TT_ALLOC_CLIENT_SIZE_VER0;
	struct tt_alloc_clients req;
	unsigned char *buf = NULL;
	uint32_t room = 0;
	int ret, tries;

	for (tries = 0; tries < 16; tries++) {
		memset(&req, 0, sizeof(req));
		req.clients = (uint64_t)(uintptr_t)buf;
		req.count = room;
		ret = tta_ioctl(ctx->fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
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
		buf = calloc(room, ks);
		if (!buf)
			return -ENOMEM;
	}
	free(buf);
	return -EAGAIN;
}

/* The cursor of a row: its client id and device, at the same offsets in every row size. */
static void row_cursor(const unsigned char *row, __u64 *id, __u32 *device)
{
	memcpy(id, row + offsetof(struct tt_alloc_client, client_id), sizeof(*id));
	memcpy(device, row + offsetof(struct tt_alloc_client, device), sizeof(*device));
}

/*
 * With the cursor: read from after the last row we have, as many as the
 * kernel says remain (at most TT_ALLOC_CLIENTS_MAX a call), until a call
 * returns every row left. Rows of clients that come and go meanwhile are
 * seen at most once; every client open throughout is seen. Rows of @size
 * bytes: this header's, or the first ones for tt_alloc_get_clients@TTALLOC_1.
 */
static int get_clients(struct tt_alloc_ctx *ctx, size_t size,
		       unsigned char **rows, size_t *count)
{
	struct tt_alloc_clients req;
	unsigned char *buf = NULL, *nb;
	size_t have = 0, cap = 0, ks = TT_ALLOC_CLIENT_SIZE_VER0, i;
	uint32_t room = 0, got;
	int ret;

	if (!rows || !count)
		return -EINVAL;
	*rows = NULL;
	*count = 0;
	if (!tt_alloc_enabled(ctx))
		return 0;
	if (ctx->features & TT_ALLOC_FEATURE_ELEM_SIZE)
		ks = size;
	if (!(ctx->features & TT_ALLOC_FEATURE_CLIENTS_CURSOR)) {
		ks = TT_ALLOC_CLIENT_SIZE_VER0;
		ret = clients_no_cursor(ctx, &buf, &have);
	} else {
		for (;;) {
			memset(&req, 0, sizeof(req));
			req.clients = buf ? (uint64_t)(uintptr_t)(buf + have * ks) : 0;
			req.count = room;
			req.row_size = ks == TT_ALLOC_CLIENT_SIZE_VER0 ? 0 : ks;
			if (have)
				row_cursor(buf + (have - 1) * ks, &req.after_id,
					   &req.after_device);
			ret = tta_ioctl(ctx->fd, TT_ALLOC_IOC_CLIENTS, &req);
			if (ret)
				break;
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
				nb = realloc(buf, cap * ks);
				if (!nb) {
					ret = -ENOMEM;
					break;
				}
				buf = nb;
			}
		}
		if (!ret && !have) {
			free(buf);
			buf = NULL;
		}
	}
	if (!ret)
		ret = clients_widen(&buf, have, ks, size);
	if (ret) {
		free(buf);
		return ret;
	}
	/* A kernel that does not say whose a file is: no uid rather than root's. */
	if (size >= TT_ALLOC_CLIENT_SIZE_VER1 &&
	    !(ctx->features & TT_ALLOC_FEATURE_CLIENT_OWNER))
		for (i = 0; i < have; i++)
			((struct tt_alloc_client *)(void *)(buf + i * size))->uid =
				TT_ALLOC_UID_UNKNOWN;
	*rows = buf;
	*count = have;
	return 0;
}

/*
 * Both versions are named by .symver, so that the static library gets a
 * plain tt_alloc_get_clients (the default, @@) as well.
 */
TT_ALLOC_EXPORT
int tta_get_clients_ver1(struct tt_alloc_ctx *ctx,
			 struct tt_alloc_client **rows, size_t *count);
int tta_get_clients_ver1(struct tt_alloc_ctx *ctx,
			 struct tt_alloc_client **rows, size_t *count)
{
	return get_clients(ctx, sizeof(**rows), (unsigned char **)rows, count);
}
__asm__(".symver tta_get_clients_ver1, tt_alloc_get_clients@@TTALLOC_1.1");

/*
 * libttalloc 1.0's function, which programs built before the rows grew
 * still call: the same list, in rows of the first size.
 */
TT_ALLOC_EXPORT
int tta_get_clients_ver0(struct tt_alloc_ctx *ctx,
			 struct tta_client_ver0 **rows, size_t *count);
int tta_get_clients_ver0(struct tt_alloc_ctx *ctx,
			 struct tta_client_ver0 **rows, size_t *count)
{
	return get_clients(ctx, sizeof(**rows), (unsigned char **)rows, count);
}
__asm__(".symver tta_get_clients_ver0, tt_alloc_get_clients@TTALLOC_1");

TT_ALLOC_EXPORT
void tt_alloc_clients_free(struct tt_alloc_client *rows)
{
	free(rows);
}
