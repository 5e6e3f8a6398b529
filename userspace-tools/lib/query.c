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

	/*
	 * The first structure has no row_size: the kernel writes rows of the
	 * first size, which a library whose rows grew would misread.
	 */
	if (TTA_CLIENT_SIZE)
		return -EOPNOTSUPP;
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
		req.row_size = TTA_CLIENT_SIZE;
		if (have) {
			req.after_id = buf[have - 1].client_id;
			req.after_device = buf[have - 1].device;
		}
		ret = tta_ioctl(ctx->fd, TT_ALLOC_IOC_CLIENTS, &req);
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
