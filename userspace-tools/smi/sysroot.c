// SPDX-License-Identifier: GPL-2.0
/*
 * --sysroot DIR: every path the smi reads (/sys/module/tt_alloc,
 * /sys/class/tt_alloc, /dev/tt_alloc; for --configure /sys/bus/pci and
 * /sys/class/tenstorrent) is looked up under DIR, as
 * lsblk --sysroot does. A copy of another machine's tree can be shown,
 * and the host tests and the bench run the smi on a fake tree with no
 * module loaded.
 *
 * The process list has no file in sysfs: it comes from an ioctl on
 * /dev/tt_alloc. When DIR/dev/tt_alloc is a regular file, it is read as
 * that list instead, one row a line ('#' starts a comment):
 *
 *   PID CLIENT DEVICE|- EXITED COMM USED*N ALLOCS*N [uid=UID cgroup=ID]
 *
 * N = TT_ALLOC_MEM_COUNT numbers each, in TT_ALLOC_MEM_* order; COMM may
 * hold \xNN escapes (\x20 for a space); without the owner the uid is
 * unknown. Documented in tt-alloc-smi(8).
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "smi.h"

static char root[PATH_MAX];	/* "": the real root */
static char module_dir[PATH_MAX] = "/sys/module/" MODNAME;
static char class_dir[PATH_MAX] = "/sys/class/" MODNAME;
static char dev_node[PATH_MAX] = TT_ALLOC_DEFAULT_DEVICE;

static int prefix(char *buf, size_t len, const char *dir, const char *path)
{
	int n = snprintf(buf, len, "%s%s", dir, path);

	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

int sysroot_set(const char *dir)
{
	size_t n = strlen(dir);

	/* "DIR/" and "DIR" are the same root; "/" is the real one */
	while (n > 1 && dir[n - 1] == '/')
		n--;
	if (n >= PATH_MAX - 64)
		return -ENAMETOOLONG;
	if (n == 1 && dir[0] == '/')
		n = 0;
	memcpy(root, dir, n);
	root[n] = '\0';
	if (prefix(module_dir, sizeof(module_dir), root, "/sys/module/" MODNAME) ||
	    prefix(class_dir, sizeof(class_dir), root, "/sys/class/" MODNAME) ||
	    prefix(dev_node, sizeof(dev_node), root, TT_ALLOC_DEFAULT_DEVICE))
		return -ENAMETOOLONG;
	return 0;
}

const char *sysroot_dir(void)
{
	return root;
}

const char *sysroot_module_dir(void)
{
	return module_dir;
}

const char *sysroot_class_dir(void)
{
	return class_dir;
}

const char *device_node(void)
{
	return dev_node;
}

int sysroot_has_clients_file(void)
{
	struct stat st;

	return *root && stat(dev_node, &st) == 0 && S_ISREG(st.st_mode);
}

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

int sysroot_read_clients(struct tt_alloc_client **rows, size_t *count)
{
	FILE *f = fopen(dev_node, "re");
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
		/* Optional owner: " uid=N cgroup=N". */
		if (sscanf(p, " uid=%" SCNu32 " cgroup=%" SCNu64, &c->uid,
			   (uint64_t *)&c->cgroup_id) != 2) {
			c->uid = TT_ALLOC_UID_UNKNOWN;
			c->cgroup_id = 0;
		}
		n++;
	}
	fclose(f);
	*rows = v;
	*count = n;
	return 0;
}
