// SPDX-License-Identifier: GPL-2.0
/*
 * tt-alloc-smi: per-process Tenstorrent device-memory view of tt_alloc.
 *
 * Module state comes from libkmod and /sys/module/tt_alloc, device counters
 * from /sys/class/tt_alloc/device<N>/ (TT_ALLOC_IOC_USAGE as a fallback),
 * the process table from TT_ALLOC_IOC_CLIENTS on a read-only open of
 * /dev/tt_alloc. Nothing here needs root except --load and --unload.
 *
 * Test overrides: TT_ALLOC_SYSFS (for /sys/class/tt_alloc),
 * TT_ALLOC_SYSMODULE (for /sys/module/tt_alloc, bypasses libkmod's state
 * query), TT_ALLOC_DEVICE (for /dev/tt_alloc).
 */
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include <libkmod.h>

#include "tt_alloc/libttalloc.h"

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

#define SCHEMA_VERSION	1
#define MODNAME		"tt_alloc"
#define LOAD_HINT	"tt-alloc-smi --load [--devices N --arch LIST] (or: modprobe tt_alloc)"

static const char *prog = "tt-alloc-smi";

/* Display order of the breakdown, and upper-case labels. */
static const unsigned int type_order[] = {
	TT_ALLOC_MEM_DRAM, TT_ALLOC_MEM_L1, TT_ALLOC_MEM_L1_SMALL,
	TT_ALLOC_MEM_TRACE, TT_ALLOC_MEM_CB, TT_ALLOC_MEM_KERNEL,
	TT_ALLOC_MEM_SYSTEM,
};
static const char *const type_label[TT_ALLOC_MEM_COUNT] = {
	"DRAM", "L1", "SYSTEM", "L1_SMALL", "TRACE", "CB", "KERNELS",
};

struct memstat {
	uint64_t used, peak, capacity, allocations;
};

struct devstat {
	unsigned int idx;
	char arch[64];
	int64_t clients;	/* -1: unknown */
	uint64_t reclaimed_bytes, reclaimed_allocations;
	uint64_t system_bytes;
	struct memstat mem[TT_ALLOC_MEM_COUNT];
};

struct param {
	char name[64];
	char value[256];
};

struct modstate {
	int loaded;
	char state[16];
	char version[64];
	int64_t refcnt;
	struct param params[32];
	int nparams;
};

struct snapshot {
	time_t ts;
	struct modstate mod;
	struct devstat *devs;
	size_t ndev;
	struct tt_alloc_client *clients;
	size_t nclients;
	int clients_err;	/* 0: list valid */
};

struct opts {
	int all;
	long device;		/* -1: all */
	int json, prom, watch;
	double interval;
};

/* ------------------------------------------------------------------------- */

static const char *sysfs_root(void)
{
	const char *s = getenv("TT_ALLOC_SYSFS");

	return s && *s ? s : "/sys/class/tt_alloc";
}

static const char *sysmod_root(void)
{
	const char *s = getenv("TT_ALLOC_SYSMODULE");

	return s && *s ? s : "/sys/module/" MODNAME;
}

/* Read a small sysfs file, newline stripped. Returns 0 or -errno. */
static int read_str(const char *path, char *buf, size_t len)
{
	FILE *f = fopen(path, "r");
	size_t n;

	if (!f)
		return -errno;
	n = fread(buf, 1, len - 1, f);
	buf[n] = '\0';
	fclose(f);
	while (n && (buf[n - 1] == '\n' || buf[n - 1] == ' ' || buf[n - 1] == '\t'))
		buf[--n] = '\0';
	return 0;
}

static int read_u64(const char *path, uint64_t *v)
{
	char buf[64], *end;
	int ret = read_str(path, buf, sizeof(buf));

	if (ret)
		return ret;
	errno = 0;
	*v = strtoull(buf, &end, 0);
	if (errno || end == buf || *end)
		return -EINVAL;
	return 0;
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

	if (getenv("TT_ALLOC_SYSMODULE")) {
		m->loaded = stat(sysmod_root(), &st) == 0;
		snprintf(path, sizeof(path), "%s/initstate", sysmod_root());
		if (read_str(path, m->state, sizeof(m->state)))
			snprintf(m->state, sizeof(m->state), "%s", m->loaded ? "live" : "");
		snprintf(path, sizeof(path), "%s/refcnt", sysmod_root());
		if (!read_u64(path, &v))
			m->refcnt = (int64_t)v;
	} else {
		struct kmod_ctx *ctx = kmod_new(NULL, NULL);
		struct kmod_module *mod = NULL;

		if (ctx && !kmod_module_new_from_name(ctx, MODNAME, &mod)) {
			int s = kmod_module_get_initstate(mod);

			if (s >= 0) {
				m->loaded = 1;
				snprintf(m->state, sizeof(m->state), "%s",
					 kmod_module_initstate_str(s));
				m->refcnt = kmod_module_get_refcnt(mod);
			}
			kmod_module_unref(mod);
		}
		if (ctx)
			kmod_unref(ctx);
	}
	if (!m->loaded)
		return;

	snprintf(path, sizeof(path), "%s/version", sysmod_root());
	if (read_str(path, m->version, sizeof(m->version)))
		m->version[0] = '\0';

	snprintf(path, sizeof(path), "%s/parameters", sysmod_root());
	d = opendir(path);
	if (!d)
		return;
	while ((de = readdir(d)) && m->nparams < (int)(sizeof(m->params) / sizeof(m->params[0]))) {
		struct param *p = &m->params[m->nparams];
		char fpath[1024];

		if (de->d_name[0] == '.' || strlen(de->d_name) >= sizeof(p->name))
			continue;
		snprintf(fpath, sizeof(fpath), "%s/%s", path, de->d_name);
		if (read_str(fpath, p->value, sizeof(p->value)))
			continue;
		snprintf(p->name, sizeof(p->name), "%s", de->d_name);
		m->nparams++;
	}
	closedir(d);
	qsort(m->params, (size_t)m->nparams, sizeof(m->params[0]), cmp_param);
}

static int read_device_sysfs(const char *dir, struct devstat *d)
{
	char path[1024];
	unsigned int t;
	uint64_t v;

	snprintf(path, sizeof(path), "%s/arch", dir);
	if (read_str(path, d->arch, sizeof(d->arch)))
		snprintf(d->arch, sizeof(d->arch), "unknown");
	snprintf(path, sizeof(path), "%s/clients", dir);
	d->clients = read_u64(path, &v) ? -1 : (int64_t)v;
	snprintf(path, sizeof(path), "%s/reclaimed_bytes", dir);
	if (read_u64(path, &d->reclaimed_bytes))
		d->reclaimed_bytes = 0;
	snprintf(path, sizeof(path), "%s/reclaimed_allocations", dir);
	if (read_u64(path, &d->reclaimed_allocations))
		d->reclaimed_allocations = 0;
	snprintf(path, sizeof(path), "%s/kernel/system_bytes", dir);
	if (read_u64(path, &d->system_bytes))
		d->system_bytes = 0;
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		const char *tn = tt_alloc_mem_type_name(t);
		struct memstat *m = &d->mem[t];

		snprintf(path, sizeof(path), "%s/%s/used_bytes", dir, tn);
		if (read_u64(path, &m->used))
			m->used = 0;
		snprintf(path, sizeof(path), "%s/%s/peak_bytes", dir, tn);
		if (read_u64(path, &m->peak))
			m->peak = 0;
		snprintf(path, sizeof(path), "%s/%s/capacity_bytes", dir, tn);
		if (read_u64(path, &m->capacity))
			m->capacity = 0;
		snprintf(path, sizeof(path), "%s/%s/allocations", dir, tn);
		if (read_u64(path, &m->allocations))
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
static size_t read_devices_sysfs(struct devstat **devsp)
{
	DIR *d = opendir(sysfs_root());
	struct dirent *de;
	struct devstat *devs = NULL;
	size_t n = 0, cap = 0;

	*devsp = NULL;
	if (!d)
		return 0;
	while ((de = readdir(d))) {
		char *end, dir[512];
		unsigned long idx;

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
		snprintf(dir, sizeof(dir), "%s/%s", sysfs_root(), de->d_name);
		read_device_sysfs(dir, &devs[n]);
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
	if (!ctx || tt_alloc_info(ctx, &info) || !info.num_devices)
		return 0;
	devs = calloc(info.num_devices, sizeof(*devs));
	if (!devs)
		return 0;
	for (i = 0; i < info.num_devices; i++) {
		struct tt_alloc_usage u;

		devs[i].idx = i;
		devs[i].clients = -1;
		snprintf(devs[i].arch, sizeof(devs[i].arch), "unknown");
		if (tt_alloc_usage(ctx, i, TT_ALLOC_SCOPE_DEVICE, &u))
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

static void snapshot_free(struct snapshot *s)
{
	free(s->devs);
	tt_alloc_clients_free(s->clients);
	memset(s, 0, sizeof(*s));
}

static void snapshot_take(struct snapshot *s)
{
	struct tt_alloc_ctx *ctx = NULL;
	size_t i, j;
	int ret;

	memset(s, 0, sizeof(*s));
	s->ts = time(NULL);
	read_module(&s->mod);
	if (!s->mod.loaded)
		return;

	ret = tt_alloc_open_ex(NULL, TT_ALLOC_OPEN_MONITOR | TT_ALLOC_OPEN_QUIET, &ctx);
	if (ret) {
		s->clients_err = ret;
		ctx = NULL;
	} else {
		struct tt_alloc_info info;

		s->clients_err = tt_alloc_clients(ctx, &s->clients, &s->nclients);
		/* Leave out our own (read-only, empty) client. */
		if (!s->clients_err && !tt_alloc_info(ctx, &info)) {
			for (i = 0, j = 0; i < s->nclients; i++)
				if (s->clients[i].client_id != info.client_id)
					s->clients[j++] = s->clients[i];
			s->nclients = j;
		}
	}

	s->ndev = read_devices_sysfs(&s->devs);
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

/* ------------------------------------------------------------------------- */

static char *fmt_bytes(uint64_t b, char *buf, size_t len)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	double v = (double)b;
	int u = -1;

	if (b < 1024) {
		snprintf(buf, len, "%" PRIu64 " B", b);
		return buf;
	}
	while (v >= 1024.0 && u < 4) {
		v /= 1024.0;
		u++;
	}
	snprintf(buf, len, "%.1f %s", v, units[u]);
	return buf;
}

static void fmt_bar(char *buf, size_t width, uint64_t used, uint64_t cap)
{
	size_t i, fill;

	buf[0] = '[';
	if (!cap) {
		static const char na[] = "no capacity";
		size_t pad = width > sizeof(na) - 1 ? (width - (sizeof(na) - 1)) / 2 : 0;

		for (i = 0; i < width; i++)
			buf[1 + i] = ' ';
		if (width >= sizeof(na) - 1)
			memcpy(buf + 1 + pad, na, sizeof(na) - 1);
	} else {
		double frac = (double)used / (double)cap;

		if (frac > 1.0)
			frac = 1.0;
		fill = (size_t)(frac * (double)width + 0.5);
		if (used && !fill)
			fill = 1;
		for (i = 0; i < width; i++)
			buf[1 + i] = i < fill ? '#' : '.';
	}
	buf[1 + width] = ']';
	buf[2 + width] = '\0';
}

static int dev_visible(const struct devstat *d, const struct opts *o)
{
	unsigned int t;

	if (o->device >= 0)
		return (long)d->idx == o->device;
	if (o->all)
		return 1;
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		if (d->mem[t].capacity || d->mem[t].used || d->mem[t].allocations)
			return 1;
	return d->clients > 0;
}

static void print_not_loaded(FILE *f)
{
	fprintf(f, "tt_alloc module is not loaded; load it with: %s\n", LOAD_HINT);
}

static void render_text(FILE *f, const struct snapshot *s, const struct opts *o)
{
	char tbuf[64], a[32], b[32], bar[40];
	size_t i, j, shown = 0, hidden = 0;
	struct tm tm;
	unsigned int k;
	int any_exited = 0;

	localtime_r(&s->ts, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "tt-alloc-smi %s  %s\n", TT_ALLOC_VERSION, tbuf);
	if (!s->mod.loaded) {
		print_not_loaded(f);
		return;
	}
	fprintf(f, "Module: %s %s (%s), refcount %" PRId64 "\n", MODNAME,
		s->mod.version[0] ? s->mod.version : "?", s->mod.state,
		s->mod.refcnt);
	if (s->mod.nparams) {
		fprintf(f, "Parameters:");
		for (k = 0; k < (unsigned int)s->mod.nparams; k++)
			fprintf(f, " %s=%s", s->mod.params[k].name, s->mod.params[k].value);
		fputc('\n', f);
	}
	fputc('\n', f);

	fprintf(f, "%-4s %-13s %-44s %-44s %7s\n", "DEV", "ARCH",
		"DRAM used / capacity", "L1 used / capacity", "CLIENTS");
	for (i = 0; i < s->ndev; i++) {
		const struct devstat *d = &s->devs[i];
		char cell[2][96], cl[24];
		unsigned int ty[2] = { TT_ALLOC_MEM_DRAM, TT_ALLOC_MEM_L1 };

		if (!dev_visible(d, o)) {
			hidden++;
			continue;
		}
		shown++;
		for (k = 0; k < 2; k++) {
			const struct memstat *m = &d->mem[ty[k]];
			char pct[8];

			fmt_bar(bar, 12, m->used, m->capacity);
			fmt_bytes(m->used, a, sizeof(a));
			if (m->capacity) {
				fmt_bytes(m->capacity, b, sizeof(b));
				snprintf(pct, sizeof(pct), "%3.0f%%",
					 100.0 * (double)m->used / (double)m->capacity);
			} else {
				snprintf(b, sizeof(b), "?");
				snprintf(pct, sizeof(pct), "    ");
			}
			snprintf(cell[k], sizeof(cell[k]), "%s %9s / %-9s %s", bar, a, b, pct);
		}
		if (d->clients >= 0)
			snprintf(cl, sizeof(cl), "%" PRId64, d->clients);
		else
			snprintf(cl, sizeof(cl), "?");
		fprintf(f, "%-4u %-13s %-44s %-44s %7s\n", d->idx, d->arch, cell[0], cell[1], cl);
	}
	if (!shown)
		fprintf(f, "(no device to show)\n");
	if (hidden)
		fprintf(f, "(%zu device%s with no capacity and no use hidden; -a shows all)\n",
			hidden, hidden == 1 ? "" : "s");

	for (i = 0; i < s->ndev; i++) {
		const struct devstat *d = &s->devs[i];

		if (!dev_visible(d, o))
			continue;
		fprintf(f, "\nDevice %u (%s) memory breakdown\n", d->idx, d->arch);
		fprintf(f, "  %-9s %11s %11s %11s %8s\n", "TYPE", "USED", "PEAK", "CAPACITY", "ALLOCS");
		for (k = 0; k < sizeof(type_order) / sizeof(type_order[0]); k++) {
			unsigned int t = type_order[k];
			const struct memstat *m = &d->mem[t];
			char c[32];

			if (t == TT_ALLOC_MEM_SYSTEM && !m->used && !m->allocations && !m->capacity)
				continue;
			fmt_bytes(m->used, a, sizeof(a));
			fmt_bytes(m->peak, b, sizeof(b));
			if (m->capacity)
				fmt_bytes(m->capacity, c, sizeof(c));
			else
				snprintf(c, sizeof(c), "-");
			fprintf(f, "  %-9s %11s %11s %11s %8" PRIu64, type_label[t], a, b, c, m->allocations);
			if (t == TT_ALLOC_MEM_KERNEL)
				fprintf(f, "   (system kernels: %s)", fmt_bytes(d->system_bytes, a, sizeof(a)));
			fputc('\n', f);
		}
		fprintf(f, "  Reclaimed from released files: %s in %" PRIu64 " allocation%s\n",
			fmt_bytes(d->reclaimed_bytes, a, sizeof(a)), d->reclaimed_allocations,
			d->reclaimed_allocations == 1 ? "" : "s");
	}

	fprintf(f, "\nProcesses\n");
	if (s->clients_err) {
		fprintf(f, "  (process list unavailable: %s: %s)\n",
			getenv("TT_ALLOC_DEVICE") ? getenv("TT_ALLOC_DEVICE") : TT_ALLOC_DEFAULT_DEVICE,
			strerror(-s->clients_err));
		return;
	}
	fprintf(f, "  %-8s %-16s %4s %10s %10s %10s %10s %10s %10s\n", "PID", "NAME", "DEV",
		"DRAM", "L1", "L1_SMALL", "TRACE", "CB", "KERNELS");
	shown = 0;
	for (j = 0; j < s->nclients; j++) {
		const struct tt_alloc_client *c = &s->clients[j];
		char name[TT_ALLOC_COMM_LEN + 1], pid[24], dev[12];
		static const unsigned int cols[] = {
			TT_ALLOC_MEM_DRAM, TT_ALLOC_MEM_L1, TT_ALLOC_MEM_L1_SMALL,
			TT_ALLOC_MEM_TRACE, TT_ALLOC_MEM_CB, TT_ALLOC_MEM_KERNEL,
		};

		if (o->device >= 0 && (long)c->device != o->device)
			continue;
		memcpy(name, c->comm, TT_ALLOC_COMM_LEN);
		name[TT_ALLOC_COMM_LEN] = '\0';
		for (k = 0; name[k]; k++)
			if (!isprint((unsigned char)name[k]))
				name[k] = '?';
		snprintf(pid, sizeof(pid), "%" PRIu32 "%s", c->pid,
			 (c->flags & TT_ALLOC_CLIENT_OPENER_EXITED) ? "*" : "");
		if (c->flags & TT_ALLOC_CLIENT_OPENER_EXITED)
			any_exited = 1;
		if (c->device == TT_ALLOC_DEVICE_NONE)
			snprintf(dev, sizeof(dev), "-");
		else
			snprintf(dev, sizeof(dev), "%" PRIu32, c->device);
		fprintf(f, "  %-8s %-16s %4s", pid, name, dev);
		for (k = 0; k < sizeof(cols) / sizeof(cols[0]); k++)
			fprintf(f, " %10s", fmt_bytes(c->used[cols[k]], a, sizeof(a)));
		fputc('\n', f);
		shown++;
	}
	if (!shown)
		fprintf(f, "  No process is recording allocations.\n");
	if (any_exited)
		fprintf(f, "  * the opener has exited; the file lives on in another process\n");
}

/* ------------------------------------------------------------------------- */

static void json_str(FILE *f, const char *s, size_t max)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < max && s[i]; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20 || c >= 0x7f)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void json_param_value(FILE *f, const char *v)
{
	const char *p = v;

	if (!strcmp(v, "Y")) {
		fputs("true", f);
		return;
	}
	if (!strcmp(v, "N")) {
		fputs("false", f);
		return;
	}
	if (*p == '-')
		p++;
	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 19 &&
	    (p[0] != '0' || !p[1])) {
		fputs(v, f);
		return;
	}
	json_str(f, v, SIZE_MAX);
}

static void render_json(FILE *f, const struct snapshot *s, const struct opts *o)
{
	size_t i, j, n;
	unsigned int t;
	int k;

	fprintf(f, "{\n  \"schema_version\": %d,\n", SCHEMA_VERSION);
	fprintf(f, "  \"tool\": {\"name\": \"tt-alloc-smi\", \"version\": ");
	json_str(f, TT_ALLOC_VERSION, SIZE_MAX);
	fprintf(f, "},\n  \"timestamp\": %lld,\n", (long long)s->ts);
	fprintf(f, "  \"module\": {\"loaded\": %s", s->mod.loaded ? "true" : "false");
	if (s->mod.loaded) {
		fprintf(f, ", \"version\": ");
		json_str(f, s->mod.version, sizeof(s->mod.version));
		fprintf(f, ", \"state\": ");
		json_str(f, s->mod.state, sizeof(s->mod.state));
		if (s->mod.refcnt >= 0)
			fprintf(f, ", \"refcount\": %" PRId64, s->mod.refcnt);
		else
			fprintf(f, ", \"refcount\": null");
		fprintf(f, ", \"parameters\": {");
		for (k = 0; k < s->mod.nparams; k++) {
			fprintf(f, "%s", k ? ", " : "");
			json_str(f, s->mod.params[k].name, sizeof(s->mod.params[k].name));
			fprintf(f, ": ");
			json_param_value(f, s->mod.params[k].value);
		}
		fprintf(f, "}");
	}
	fprintf(f, "},\n  \"devices\": [");
	for (i = 0, n = 0; i < s->ndev; i++) {
		const struct devstat *d = &s->devs[i];

		if (o->device >= 0 && (long)d->idx != o->device)
			continue;
		fprintf(f, "%s\n    {\"device\": %u, \"arch\": ", n++ ? "," : "", d->idx);
		json_str(f, d->arch, sizeof(d->arch));
		if (d->clients >= 0)
			fprintf(f, ", \"clients\": %" PRId64, d->clients);
		else
			fprintf(f, ", \"clients\": null");
		fprintf(f, ", \"reclaimed_bytes\": %" PRIu64 ", \"reclaimed_allocations\": %" PRIu64 ",\n",
			d->reclaimed_bytes, d->reclaimed_allocations);
		fprintf(f, "     \"memory\": {");
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			const struct memstat *m = &d->mem[t];

			fprintf(f, "%s\n       \"%s\": {\"used_bytes\": %" PRIu64 ", \"peak_bytes\": %" PRIu64
				", \"capacity_bytes\": %" PRIu64 ", \"allocations\": %" PRIu64,
				t ? "," : "", tt_alloc_mem_type_name(t), m->used, m->peak,
				m->capacity, m->allocations);
			if (t == TT_ALLOC_MEM_KERNEL)
				fprintf(f, ", \"system_bytes\": %" PRIu64, d->system_bytes);
			fputc('}', f);
		}
		fprintf(f, "\n     }}");
	}
	fprintf(f, "%s],\n", n ? "\n  " : "");
	fprintf(f, "  \"processes_available\": %s,\n", s->mod.loaded && !s->clients_err ? "true" : "false");
	fprintf(f, "  \"processes\": [");
	for (j = 0, n = 0; j < s->nclients; j++) {
		const struct tt_alloc_client *c = &s->clients[j];

		if (o->device >= 0 && (long)c->device != o->device)
			continue;
		fprintf(f, "%s\n    {\"pid\": %" PRIu32 ", \"name\": ", n++ ? "," : "", c->pid);
		json_str(f, (const char *)c->comm, TT_ALLOC_COMM_LEN);
		fprintf(f, ", \"client_id\": %" PRIu64 ", \"device\": ", (uint64_t)c->client_id);
		if (c->device == TT_ALLOC_DEVICE_NONE)
			fprintf(f, "null");
		else
			fprintf(f, "%" PRIu32, c->device);
		fprintf(f, ", \"opener_exited\": %s,\n     \"used_bytes\": {",
			(c->flags & TT_ALLOC_CLIENT_OPENER_EXITED) ? "true" : "false");
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			fprintf(f, "%s\"%s\": %" PRIu64, t ? ", " : "", tt_alloc_mem_type_name(t),
				(uint64_t)c->used[t]);
		fprintf(f, "},\n     \"allocations\": {");
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			fprintf(f, "%s\"%s\": %" PRIu64, t ? ", " : "", tt_alloc_mem_type_name(t),
				(uint64_t)c->allocations[t]);
		fprintf(f, "}}");
	}
	fprintf(f, "%s]\n}\n", n ? "\n  " : "");
}

/* ------------------------------------------------------------------------- */

static void prom_label(FILE *f, const char *s, size_t max)
{
	size_t i;

	fputc('"', f);
	for (i = 0; i < max && s[i]; i++) {
		if (s[i] == '\\')
			fputs("\\\\", f);
		else if (s[i] == '"')
			fputs("\\\"", f);
		else if (s[i] == '\n')
			fputs("\\n", f);
		else
			fputc(s[i], f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

enum devfield { F_USED, F_PEAK, F_CAP, F_ALLOCS };

static void render_prom(FILE *f, const struct snapshot *s, const struct opts *o)
{
	static const struct {
		const char *name, *help;
		enum devfield fld;
	} per_type[] = {
		{ "tt_alloc_used_bytes", "Device memory in use, by device and memory type.", F_USED },
		{ "tt_alloc_peak_bytes", "Highest device memory in use since load or reset.", F_PEAK },
		{ "tt_alloc_capacity_bytes", "Device memory capacity, 0 when unknown.", F_CAP },
		{ "tt_alloc_allocations", "Tracked allocations, by device and memory type.", F_ALLOCS },
	};
	size_t i, j, q;
	unsigned int t;

	prom_head(f, "tt_alloc_module_loaded", "gauge", "1 when the tt_alloc kernel module is loaded.");
	fprintf(f, "tt_alloc_module_loaded %d\n", s->mod.loaded);
	if (!s->mod.loaded)
		return;
	prom_head(f, "tt_alloc_module_info", "gauge", "tt_alloc module version, value always 1.");
	fprintf(f, "tt_alloc_module_info{version=");
	prom_label(f, s->mod.version, sizeof(s->mod.version));
	fprintf(f, "} 1\n");
	if (s->mod.refcnt >= 0) {
		prom_head(f, "tt_alloc_module_refcount", "gauge", "Reference count of the tt_alloc module.");
		fprintf(f, "tt_alloc_module_refcount %" PRId64 "\n", s->mod.refcnt);
	}
	prom_head(f, "tt_alloc_device_info", "gauge", "Tracked device and its architecture, value always 1.");
	for (i = 0; i < s->ndev; i++) {
		if (o->device >= 0 && (long)s->devs[i].idx != o->device)
			continue;
		fprintf(f, "tt_alloc_device_info{device=\"%u\",arch=", s->devs[i].idx);
		prom_label(f, s->devs[i].arch, sizeof(s->devs[i].arch));
		fprintf(f, "} 1\n");
	}
	for (q = 0; q < sizeof(per_type) / sizeof(per_type[0]); q++) {
		prom_head(f, per_type[q].name, "gauge", per_type[q].help);
		for (i = 0; i < s->ndev; i++) {
			const struct devstat *d = &s->devs[i];

			if (o->device >= 0 && (long)d->idx != o->device)
				continue;
			for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
				const struct memstat *m = &d->mem[t];
				uint64_t v = per_type[q].fld == F_USED ? m->used :
					     per_type[q].fld == F_PEAK ? m->peak :
					     per_type[q].fld == F_CAP ? m->capacity : m->allocations;

				fprintf(f, "%s{device=\"%u\",type=\"%s\"} %" PRIu64 "\n",
					per_type[q].name, d->idx, tt_alloc_mem_type_name(t), v);
			}
		}
	}
#define PER_DEV(name, type, help, expr)						\
	do {									\
		prom_head(f, name, type, help);					\
		for (i = 0; i < s->ndev; i++) {					\
			const struct devstat *d = &s->devs[i];			\
			if (o->device >= 0 && (long)d->idx != o->device)	\
				continue;					\
			fprintf(f, "%s{device=\"%u\"} %" PRIu64 "\n", name,	\
				d->idx, (uint64_t)(expr));			\
		}								\
	} while (0)
	PER_DEV("tt_alloc_kernel_system_bytes", "gauge",
		"Bytes of system (fabric and dispatch) kernels.", d->system_bytes);
	PER_DEV("tt_alloc_clients", "gauge", "Open files holding allocations on the device.",
		d->clients < 0 ? 0 : d->clients);
	PER_DEV("tt_alloc_reclaimed_bytes_total", "counter",
		"Bytes reclaimed from released files.", d->reclaimed_bytes);
	PER_DEV("tt_alloc_reclaimed_allocations_total", "counter",
		"Allocations reclaimed from released files.", d->reclaimed_allocations);
#undef PER_DEV
	if (s->clients_err)
		return;
	for (q = 0; q < 2; q++) {
		const char *name = q ? "tt_alloc_process_allocations" : "tt_alloc_process_used_bytes";

		prom_head(f, name, "gauge", q ? "Allocations a process holds, by device and memory type." :
						"Device memory a process holds, by device and memory type.");
		for (j = 0; j < s->nclients; j++) {
			const struct tt_alloc_client *c = &s->clients[j];

			if (c->device == TT_ALLOC_DEVICE_NONE)
				continue;
			if (o->device >= 0 && (long)c->device != o->device)
				continue;
			for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
				fprintf(f, "%s{pid=\"%" PRIu32 "\",comm=", name, c->pid);
				prom_label(f, (const char *)c->comm, TT_ALLOC_COMM_LEN);
				fprintf(f, ",client=\"%" PRIu64 "\",device=\"%" PRIu32 "\",type=\"%s\"} %" PRIu64 "\n",
					(uint64_t)c->client_id, c->device, tt_alloc_mem_type_name(t),
					(uint64_t)(q ? c->allocations[t] : c->used[t]));
			}
		}
	}
}

/* ------------------------------------------------------------------------- */

static struct termios saved_tio;
static int tio_saved;
static volatile sig_atomic_t stop_watch;

static void restore_tty(void)
{
	if (tio_saved) {
		tcsetattr(STDIN_FILENO, TCSANOW, &saved_tio);
		tio_saved = 0;
	}
	if (isatty(STDOUT_FILENO)) {
		static const char show[] = "\033[?25h";

		if (write(STDOUT_FILENO, show, sizeof(show) - 1) < 0)
			return;
	}
}

static void on_signal(int sig)
{
	(void)sig;
	stop_watch = 1;
}

static int watch(const struct opts *o)
{
	struct sigaction sa;
	int tty = isatty(STDIN_FILENO);

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);

	if (tty && !tcgetattr(STDIN_FILENO, &saved_tio)) {
		struct termios raw = saved_tio;

		raw.c_lflag &= ~(tcflag_t)(ICANON | ECHO);
		raw.c_cc[VMIN] = 0;
		raw.c_cc[VTIME] = 0;
		tio_saved = 1;
		atexit(restore_tty);
		tcsetattr(STDIN_FILENO, TCSANOW, &raw);
	}
	if (isatty(STDOUT_FILENO))
		fputs("\033[?25l\033[H\033[2J", stdout);

	while (!stop_watch) {
		struct snapshot s;
		char *buf = NULL, *p, *nl;
		size_t len = 0;
		FILE *m = open_memstream(&buf, &len);
		struct pollfd pfd = { .fd = STDIN_FILENO, .events = POLLIN };
		int timeout = (int)(o->interval * 1000.0);

		if (!m)
			return 1;
		snapshot_take(&s);
		render_text(m, &s, o);
		fprintf(m, "\nRefreshing every %.1f s; press q or Ctrl-C to quit.\n", o->interval);
		fclose(m);
		snapshot_free(&s);

		/* Redraw in place: home, each line cleared to its end, rest cleared. */
		fputs("\033[H", stdout);
		for (p = buf; *p; p = nl + 1) {
			nl = strchr(p, '\n');
			if (!nl) {
				fputs(p, stdout);
				break;
			}
			fwrite(p, 1, (size_t)(nl - p), stdout);
			fputs("\033[K\n", stdout);
		}
		fputs("\033[J", stdout);
		fflush(stdout);
		free(buf);

		while (!stop_watch) {
			int r = poll(tty ? &pfd : NULL, tty ? 1 : 0, timeout);
			char c;

			if (r <= 0)
				break;	/* timeout, or a signal */
			if (read(STDIN_FILENO, &c, 1) == 1 && (c == 'q' || c == 'Q' || c == 3)) {
				stop_watch = 1;
				break;
			}
			timeout = 0;	/* other key: refresh now */
		}
	}
	restore_tty();
	fputc('\n', stdout);
	return 0;
}

/* ------------------------------------------------------------------------- */

static int do_load(const char *devices, const char *arch, const char *path)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_module *mod = NULL;
	char options[512] = "";
	int ret, st;

	if (!ctx) {
		fprintf(stderr, "%s: cannot initialise libkmod\n", prog);
		return 1;
	}
	if (devices)
		snprintf(options + strlen(options), sizeof(options) - strlen(options),
			 "devices=%s", devices);
	if (arch)
		snprintf(options + strlen(options), sizeof(options) - strlen(options),
			 "%sarch=%s", options[0] ? " " : "", arch);

	ret = path ? kmod_module_new_from_path(ctx, path, &mod) :
		     kmod_module_new_from_name(ctx, MODNAME, &mod);
	if (ret) {
		fprintf(stderr, "%s: cannot find module %s: %s\n", prog, path ? path : MODNAME, strerror(-ret));
		kmod_unref(ctx);
		return 1;
	}
	st = kmod_module_get_initstate(mod);
	if (st == KMOD_MODULE_LIVE || st == KMOD_MODULE_COMING) {
		printf("tt_alloc is already loaded%s\n",
		       options[0] ? "; unload it first (--unload) to change its parameters" : "");
		kmod_module_unref(mod);
		kmod_unref(ctx);
		return options[0] ? 1 : 0;
	}
	if (path)
		ret = kmod_module_insert_module(mod, 0, options);
	else
		ret = kmod_module_probe_insert_module(mod, 0, options, NULL, NULL, NULL);
	if (ret < 0) {
		fprintf(stderr, "%s: loading tt_alloc%s%s failed: %s\n", prog,
			options[0] ? " with " : "", options, strerror(-ret));
		if (ret == -EPERM)
			fprintf(stderr, "%s: loading a module needs root\n", prog);
		ret = 1;
	} else if (ret > 0) {
		fprintf(stderr, "%s: tt_alloc is blacklisted or has no module file (%d)\n", prog, ret);
		ret = 1;
	} else {
		printf("tt_alloc loaded%s%s\n", options[0] ? " with " : "", options);
	}
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

static int do_unload(void)
{
	struct kmod_ctx *ctx = kmod_new(NULL, NULL);
	struct kmod_module *mod = NULL;
	int ret, st;

	if (!ctx) {
		fprintf(stderr, "%s: cannot initialise libkmod\n", prog);
		return 1;
	}
	ret = kmod_module_new_from_name(ctx, MODNAME, &mod);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, strerror(-ret));
		kmod_unref(ctx);
		return 1;
	}
	st = kmod_module_get_initstate(mod);
	if (st < 0) {
		fprintf(stderr, "tt_alloc module is not loaded\n");
		ret = 1;
		goto out;
	}
	ret = kmod_module_remove_module(mod, KMOD_REMOVE_NOWAIT);
	if (ret < 0) {
		fprintf(stderr, "%s: unloading tt_alloc failed: %s\n", prog, strerror(-ret));
		if (ret == -EBUSY || ret == -EAGAIN)
			fprintf(stderr, "%s: tt_alloc is in use (refcount %d): close the programs using /dev/tt_alloc first\n",
				prog, kmod_module_get_refcnt(mod));
		if (ret == -EPERM)
			fprintf(stderr, "%s: unloading a module needs root\n", prog);
		ret = 1;
	} else {
		printf("tt_alloc unloaded\n");
		ret = 0;
	}
out:
	kmod_module_unref(mod);
	kmod_unref(ctx);
	return ret;
}

/* ------------------------------------------------------------------------- */

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTIONS]\n"
"Show Tenstorrent device memory tracked by the tt_alloc kernel module,\n"
"per device and per process.\n"
"\n"
"  -a, --all              also show devices with no capacity and no use\n"
"  -d, --device N         show device N only\n"
"  -j, --json             print one JSON document (schema_version %d)\n"
"  -p, --prometheus       print Prometheus text exposition format\n"
"  -w, --watch[=SECONDS]  refresh in place every SECONDS (default 1) until q\n"
"                         or Ctrl-C\n"
"      --load             load tt_alloc through libkmod (root)\n"
"      --devices N        with --load: number of devices to track\n"
"      --arch LIST        with --load: comma-separated architectures\n"
"      --module-path FILE with --load: insert this .ko instead of probing\n"
"      --unload           unload tt_alloc through libkmod (root)\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"Environment: TT_ALLOC_SYSFS (instead of /sys/class/tt_alloc),\n"
"TT_ALLOC_SYSMODULE (instead of /sys/module/tt_alloc), TT_ALLOC_DEVICE\n"
"(instead of /dev/tt_alloc). See tt-alloc-smi(8).\n", prog, SCHEMA_VERSION);
}

enum {
	OPT_LOAD = 256, OPT_UNLOAD, OPT_DEVICES, OPT_ARCH, OPT_MODPATH,
};

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "all", no_argument, NULL, 'a' },
		{ "device", required_argument, NULL, 'd' },
		{ "json", no_argument, NULL, 'j' },
		{ "prometheus", no_argument, NULL, 'p' },
		{ "watch", optional_argument, NULL, 'w' },
		{ "load", no_argument, NULL, OPT_LOAD },
		{ "unload", no_argument, NULL, OPT_UNLOAD },
		{ "devices", required_argument, NULL, OPT_DEVICES },
		{ "arch", required_argument, NULL, OPT_ARCH },
		{ "module-path", required_argument, NULL, OPT_MODPATH },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct opts o = { .device = -1, .interval = 1.0 };
	const char *devices = NULL, *arch = NULL, *modpath = NULL;
	int load = 0, unload = 0, c, status;
	struct snapshot s;
	char *end;

	while ((c = getopt_long(argc, argv, "ad:jpw::hV", lopts, NULL)) != -1) {
		switch (c) {
		case 'a':
			o.all = 1;
			break;
		case 'd':
			errno = 0;
			o.device = strtol(optarg, &end, 10);
			if (errno || *end || end == optarg || o.device < 0 || o.device > UINT32_MAX) {
				fprintf(stderr, "%s: bad device number '%s'\n", prog, optarg);
				return 2;
			}
			break;
		case 'j':
			o.json = 1;
			break;
		case 'p':
			o.prom = 1;
			break;
		case 'w': {
			const char *arg = optarg;

			o.watch = 1;
			if (!arg && optind < argc && argv[optind][0] &&
			    strspn(argv[optind], "0123456789.") == strlen(argv[optind]))
				arg = argv[optind++];
			if (arg) {
				o.interval = strtod(arg, &end);
				if (*end || end == arg || !(o.interval >= 0.1 && o.interval <= 86400)) {
					fprintf(stderr, "%s: bad watch interval '%s' (0.1-86400 seconds)\n", prog, arg);
					return 2;
				}
			}
			break;
		}
		case OPT_LOAD:
			load = 1;
			break;
		case OPT_UNLOAD:
			unload = 1;
			break;
		case OPT_DEVICES:
			if (!*optarg || strspn(optarg, "0123456789") != strlen(optarg)) {
				fprintf(stderr, "%s: --devices needs a number\n", prog);
				return 2;
			}
			devices = optarg;
			break;
		case OPT_ARCH:
			if (!*optarg || strspn(optarg, "abcdefghijklmnopqrstuvwxyz0123456789_,") != strlen(optarg)) {
				fprintf(stderr, "%s: --arch needs a comma-separated list of names\n", prog);
				return 2;
			}
			arch = optarg;
			break;
		case OPT_MODPATH:
			modpath = optarg;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("tt-alloc-smi %s (libttalloc %s)\n", TT_ALLOC_VERSION,
			       tt_alloc_library_version());
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr);
		return 2;
	}
	if (load + unload + (o.json || o.prom || o.watch) > 1 || (o.json && o.prom) ||
	    (o.watch && (o.json || o.prom))) {
		fprintf(stderr, "%s: --load, --unload, --json, --prometheus and --watch do not combine\n", prog);
		return 2;
	}
	if ((devices || arch || modpath) && !load) {
		fprintf(stderr, "%s: --devices, --arch and --module-path go with --load\n", prog);
		return 2;
	}
	if (load)
		return do_load(devices, arch, modpath);
	if (unload)
		return do_unload();
	if (o.watch)
		return watch(&o);

	snapshot_take(&s);
	status = 0;
	if (!s.mod.loaded) {
		if (o.json)
			render_json(stdout, &s, &o);
		else if (o.prom)
			render_prom(stdout, &s, &o);
		print_not_loaded(stderr);
		status = 1;
	} else {
		if (o.device >= 0) {
			size_t i;

			for (i = 0; i < s.ndev; i++)
				if ((long)s.devs[i].idx == o.device)
					break;
			if (i == s.ndev) {
				fprintf(stderr, "%s: device %ld does not exist (%zu device%s tracked)\n",
					prog, o.device, s.ndev, s.ndev == 1 ? "" : "s");
				snapshot_free(&s);
				return 1;
			}
		}
		if (o.json)
			render_json(stdout, &s, &o);
		else if (o.prom)
			render_prom(stdout, &s, &o);
		else
			render_text(stdout, &s, &o);
	}
	snapshot_free(&s);
	if (fflush(stdout) || ferror(stdout))
		status = 1;
	return status;
}
