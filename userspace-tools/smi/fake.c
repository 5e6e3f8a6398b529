// SPDX-License-Identifier: GPL-2.0
/*
 * Test override TT_ALLOC_SMI_CLIENTS=FILE: the process list from a text
 * file instead of TT_ALLOC_IOC_CLIENTS, so the host tests (no module, no
 * device node) can check the process table, sorting, cut-off, Prometheus
 * top N and the escaping of arbitrary comm bytes. One row a line:
 *
 *   PID CLIENT DEVICE|- EXITED COMM USED*7 ALLOCS*7
 *
 * in TT_ALLOC_MEM_* order; COMM may hold \xNN escapes (\x20 for a space).
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "smi.h"

static void unescape(uint8_t *dst, size_t len, const char *src)
{
	size_t o = 0;

	memset(dst, 0, len);
	while (*src && o + 1 < len) {
		unsigned int v;

		if (src[0] == '\\' && src[1] == 'x' && sscanf(src + 2, "%2x", &v) == 1) {
			dst[o++] = (uint8_t)v;
			src += 4;
		} else {
			dst[o++] = (uint8_t)*src++;
		}
	}
}

int fake_clients(const char *path, struct tt_alloc_client **rows, size_t *count)
{
	FILE *f = fopen(path, "r");
	struct tt_alloc_client *v = NULL;
	size_t n = 0, cap = 0;
	char line[1024];

	*rows = NULL;
	*count = 0;
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		struct tt_alloc_client *c;
		char dev[16], comm[128], *p;
		unsigned int exited, t;
		int off;

		if (line[0] == '#' || line[0] == '\n')
			continue;
		if (n == cap) {
			struct tt_alloc_client *nv;

			cap = cap ? 2 * cap : 16;
			nv = realloc(v, cap * sizeof(*v));
			if (!nv)
				break;
			v = nv;
		}
		c = &v[n];
		memset(c, 0, sizeof(*c));
		if (sscanf(line, "%" SCNu32 " %" SCNu64 " %15s %u %127s%n", &c->pid,
			   (uint64_t *)&c->client_id, dev, &exited, comm, &off) != 5)
			continue;
		c->device = dev[0] == '-' ? TT_ALLOC_DEVICE_NONE : (uint32_t)strtoul(dev, NULL, 10);
		c->flags = exited ? TT_ALLOC_CLIENT_OPENER_EXITED : 0;
		unescape(c->comm, TT_ALLOC_COMM_LEN, comm);
		p = line + off;
		for (t = 0; t < 2 * TT_ALLOC_MEM_COUNT; t++) {
			uint64_t x = strtoull(p, &p, 0);

			if (t < TT_ALLOC_MEM_COUNT)
				c->used[t] = x;
			else
				c->allocations[t - TT_ALLOC_MEM_COUNT] = x;
		}
		n++;
	}
	fclose(f);
	*rows = v;
	*count = n;
	return 0;
}
