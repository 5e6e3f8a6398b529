// SPDX-License-Identifier: GPL-2.0
/*
 * One snapshot of tt_alloc: module state from /sys/module/tt_alloc, device
 * counters from /sys/class/tt_alloc/device<N>/ (TT_ALLOC_IOC_USAGE as a
 * fallback), the process table from TT_ALLOC_IOC_CLIENTS on a read-only
 * open of /dev/tt_alloc, each under --sysroot DIR (see sysroot.c). The
 * renderers read only the struct snapshot.
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "smi.h"

/*
 * Read a small sysfs file (name relative to dirfd, or AT_FDCWD), newline
 * stripped. Returns 0 or -errno. open/read/close rather than stdio: a
 * snapshot reads some 170 of these, and fopen() adds an fstat(), a
 * buffer allocation and a second read() to each; relative to the
 * device's directory fd, the kernel does not walk the
 * /sys/class/tt_alloc/deviceN symlink again for every file either.
 */
static int read_str_at(int dirfd, const char *name, char *buf, size_t len)
{
	int fd = openat(dirfd, name, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -errno;
	/* sysfs hands over a whole attribute in the first read() */
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -EIO;
	buf[n] = '\0';
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return 0;
}

static int read_str(const char *path, char *buf, size_t len)
{
	return read_str_at(AT_FDCWD, path, buf, len);
}

static int read_u64_at(int dirfd, const char *name, uint64_t *v)
{
	char buf[64], *end;
	int ret = read_str_at(dirfd, name, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	return read_u64_at(AT_FDCWD, path, v);
}

static int cmp_param(const void *a, const void *b)
{
	return strcmp(((const struct param *)a)->name, ((const struct param *)b)->name);
}

static void read_module(struct modstate *m)
{
	char path[512];
	struct stat st;
	DIR *d;
	struct dirent *de;
	uint64_t v;

	memset(m, 0, sizeof(*m));
	m->refcnt = -1;

	/*
	 * The same files kmod_module_get_initstate() and _get_refcnt() read,
	 * read here directly: linking libkmod for them pulls in libcrypto,
	 * libzstd and liblzma, whose loading would cost every snapshot more
	 * than the reads themselves (kmod.c). A directory without initstate
	 * is a built-in module, as libkmod reports it.
	 */
	m->loaded = stat(sysroot_module_dir(), &st) == 0 && S_ISDIR(st.st_mode);
	if (!m->loaded)
		return;
	snprintf(path, sizeof(path), "%s/initstate", sysroot_module_dir());
	if (read_str(path, m->state, sizeof(m->state)))
		snprintf(m->state, sizeof(m->state), "builtin");
	snprintf(path, sizeof(path), "%s/refcnt", sysroot_module_dir());
	if (!read_u64(path, &v))
		m->refcnt = (int64_t)v;

	snprintf(path, sizeof(path), "%s/version", sysroot_module_dir());
	if (read_str(path, m->version, sizeof(m->version)))
		m->version[0] = '\0';

	snprintf(path, sizeof(path), "%s/parameters", sysroot_module_dir());
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && m->nparams < (int)(sizeof(m->params) / sizeof(m->params[0]))) {
		struct param *p = &m->params[m->nparams];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(p->name))
			continue;
		if (read_str_at(dirfd(d), de->d_name, p->value, sizeof(p->value)))
			continue;
		snprintf(p->name, sizeof(p->name), "%s", de->d_name);
		m->nparams++;
	}
	closedir(d);
	qsort(m->params, (size_t)m->nparams, sizeof(m->params[0]), cmp_param);
}

/*
 * One device from its sysfs directory. The per-type counters come from
 * one device-scope USAGE call when the module answers it (ctx): one
 * ioctl instead of 28 file reads per device, the bulk of a snapshot's
 * cost on a 32-chip machine, and all types of the device read at once.
 */
static int read_device_sysfs(int dir, struct devstat *d, struct tt_alloc_ctx *ctx)
{
	struct tt_alloc_usage u;
	char path[256];
	unsigned int t;
	uint64_t v;

	if (read_str_at(dir, "arch", d->arch, sizeof(d->arch)))
		snprintf(d->arch, sizeof(d->arch), "unknown");
	if (read_str_at(dir, "chip", d->chip, sizeof(d->chip)))
		d->chip[0] = '\0';
	d->clients = read_u64_at(dir, "clients", &v) ? -1 : (int64_t)v;
	if (read_u64_at(dir, "reclaimed_bytes", &d->reclaimed_bytes))
		d->reclaimed_bytes = 0;
	if (read_u64_at(dir, "reclaimed_allocations", &d->reclaimed_allocations))
		d->reclaimed_allocations = 0;
	if (read_u64_at(dir, "kernel/system_bytes", &d->system_bytes))
		d->system_bytes = 0;
	if (ctx && !tt_alloc_get_usage(ctx, d->idx, TT_ALLOC_SCOPE_DEVICE, &u)) {
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			d->mem[t].used = u.used[t];
			d->mem[t].peak = u.peak[t];
			d->mem[t].capacity = u.capacity[t];
			d->mem[t].allocations = u.allocations[t];
		}
		return 0;
	}
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		const char *tn = tt_alloc_mem_type_name(t);
		struct memstat *m = &d->mem[t];

		snprintf(path, sizeof(path), "%s/used_bytes", tn);
		if (read_u64_at(dir, path, &m->used))
			m->used = 0;
		snprintf(path, sizeof(path), "%s/peak_bytes", tn);
		if (read_u64_at(dir, path, &m->peak))
			m->peak = 0;
		snprintf(path, sizeof(path), "%s/capacity_bytes", tn);
		if (read_u64_at(dir, path, &m->capacity))
			m->capacity = 0;
		snprintf(path, sizeof(path), "%s/allocations", tn);
		if (read_u64_at(dir, path, &m->allocations))
			m->allocations = 0;
	}
	return 0;
}

static int cmp_dev(const void *a, const void *b)
{
	unsigned int x = ((const struct devstat *)a)->idx;
	unsigned int y = ((const struct devstat *)b)->idx;

	return x < y ? -1 : x > y;
}

/* Devices from sysfs; returns the number found (devs allocated). */
static size_t read_devices_sysfs(struct devstat **devsp, struct tt_alloc_ctx *ctx)
{
	DIR *d = opendir(sysroot_class_dir());
	struct dirent *de;
	struct devstat *devs = NULL;
	size_t n = 0, cap = 0;

	*devsp = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end;
		unsigned long idx;
		int dir;

		if (strncmp(de->d_name, "device", 6) || !isdigit((unsigned char)de->d_name[6]))
			continue;
		idx = strtoul(de->d_name + 6, &end, 10);
		if (*end || idx > UINT32_MAX)
			continue;
		if (n == cap) {
			struct devstat *nd;

			cap = cap ? cap * 2 : 8;
			nd = realloc(devs, cap * sizeof(*nd));
			if (!nd)
				break;
			devs = nd;
		}
		memset(&devs[n], 0, sizeof(devs[n]));
		devs[n].idx = (unsigned int)idx;
		/* -1 if it cannot be opened: then every file reads as missing */
		dir = openat(dirfd(d), de->d_name, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		read_device_sysfs(dir, &devs[n], ctx);
		if (dir >= 0)
			close(dir);
		n++;
	}
	closedir(d);
	if (n)
		qsort(devs, n, sizeof(*devs), cmp_dev);
	else {
		free(devs);
		devs = NULL;
	}
	*devsp = devs;
	return n;
}

/* Fallback without sysfs: device-scope USAGE for every device INFO reports. */
static size_t read_devices_ioctl(struct tt_alloc_ctx *ctx, struct devstat **devsp)
{
	struct tt_alloc_info info;
	struct devstat *devs;
	uint32_t i, t;

	*devsp = NULL;
	if (!ctx || tt_alloc_get_info(ctx, &info) || !info.num_devices)
		return 0;
	devs = calloc(info.num_devices, sizeof(*devs));
	if (!devs)
		return 0;
	for (i = 0; i < info.num_devices; i++) {
		struct tt_alloc_usage u;

		devs[i].idx = i;
		devs[i].clients = -1;
		snprintf(devs[i].arch, sizeof(devs[i].arch), "unknown");
		if (tt_alloc_get_usage(ctx, i, TT_ALLOC_SCOPE_DEVICE, &u))
			continue;
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			devs[i].mem[t].used = u.used[t];
			devs[i].mem[t].peak = u.peak[t];
			devs[i].mem[t].capacity = u.capacity[t];
			devs[i].mem[t].allocations = u.allocations[t];
		}
	}
	*devsp = devs;
	return info.num_devices;
}

void snapshot_free(struct snapshot *s)
{
	size_t i;

	free(s->devs);
	for (i = 0; s->cgroups && i < s->nclients; i++)
		free(s->cgroups[i]);
	free(s->cgroups);
	tt_alloc_clients_free(s->clients);
	memset(s, 0, sizeof(*s));
}

void snapshot_take(struct snapshot *s)
{
	struct tt_alloc_ctx *ctx = NULL;
	size_t i, j;
	int ret;

	memset(s, 0, sizeof(*s));
	s->ts = time(NULL);
	read_module(&s->mod);
	if (!s->mod.loaded)
		return;

	if (sysroot_has_clients_file()) {
		/* a sysroot's process list (see sysroot.c): no ioctl to ask */
		s->clients_err = sysroot_read_clients(&s->clients, &s->nclients);
	} else {
		ret = tt_alloc_open_ex(device_node(), TT_ALLOC_OPEN_MONITOR | TT_ALLOC_OPEN_QUIET, &ctx);
		if (ret) {
			s->clients_err = ret;
			ctx = NULL;
		} else {
			struct tt_alloc_info info;

			s->clients_err = tt_alloc_get_clients(ctx, &s->clients, &s->nclients);
			/* Leave out our own (read-only, empty) client. */
			if (!s->clients_err && !tt_alloc_get_info(ctx, &info)) {
				for (i = 0, j = 0; i < s->nclients; i++)
					if (s->clients[i].client_id != info.client_id)
						s->clients[j++] = s->clients[i];
				s->nclients = j;
			}
		}
	}

	if (!s->clients_err) {
		cgroup_resolve(s);
		cgroup_filter_rows(s);
	}

	s->ndev = read_devices_sysfs(&s->devs, ctx);
	if (!s->ndev)
		s->ndev = read_devices_ioctl(ctx, &s->devs);
	tt_alloc_close(ctx);

	/* Client counts missing from sysfs: count the rows. */
	for (i = 0; i < s->ndev; i++) {
		if (s->devs[i].clients >= 0 || s->clients_err)
			continue;
		s->devs[i].clients = 0;
		for (j = 0; j < s->nclients; j++)
			if (s->clients[j].device == s->devs[i].idx)
				s->devs[i].clients++;
	}
}
