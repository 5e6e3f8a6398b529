// SPDX-License-Identifier: GPL-2.0
/*
 * Prometheus text exposition (version 0.0.4) of a snapshot, and the
 * textfile-collector writer.
 *
 * Cardinality is what matters for a fleet: per-device series are bounded
 * by the hardware (devices x memory types), per-process series are not
 * (every short-lived process would leave a series behind in the TSDB), so
 * only the top N (process, device) pairs by bytes get their own series and
 * the rest are summed into one series per memory type. The same for the
 * (cgroup, device) pairs: a container per cgroup, as many as ever ran.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include "smi.h"

/* Escaped as the exposition format requires: \\, \" and \n; the value
 * must also be UTF-8, so bytes that are not become U+FFFD first. */
static void prom_label(FILE *f, const char *s, size_t max)
{
	char buf[3 * 256 + 1];
	size_t i;

	if (max > 256)
		max = 256;
	utf8_clean(buf, sizeof(buf), s, max, 0);
	fputc('"', f);
	for (i = 0; buf[i]; i++) {
		if (buf[i] == '\\')
			fputs("\\\\", f);
		else if (buf[i] == '"')
			fputs("\\\"", f);
		else if (buf[i] == '\n')
			fputs("\\n", f);
		else
			fputc(buf[i], f);
	}
	fputc('"', f);
}

static void prom_head(FILE *f, const char *name, const char *type, const char *help)
{
	fprintf(f, "# HELP %s %s\n# TYPE %s %s\n", name, help, name, type);
}

/* What a series row sums: v[0] bytes and v[1] allocations, per memory type. */
struct usage {
	uint64_t v[2][TT_ALLOC_MEM_COUNT], total;
};

static void usage_set(struct usage *u, const struct tt_alloc_client *c)
{
	unsigned int t;

	u->total = 0;
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		u->v[0][t] = c->used[t];
		u->v[1][t] = c->allocations[t];
		u->total += c->used[t];
	}
}

static void usage_add(struct usage *u, const struct usage *x)
{
	unsigned int t;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		u->v[0][t] += x->v[0][t];
		u->v[1][t] += x->v[1][t];
	}
	u->total += x->total;
}

/*
 * The rows beyond the top ones, as tt_alloc_<one>_other_<many> (how many)
 * and tt_alloc_<one>_other_{used_bytes,allocations} (their sum per type).
 */
static void prom_other(FILE *f, const char *one, const char *many, size_t count,
		       const struct usage *sum)
{
	char name[64], help[96];
	unsigned int t, q;

	snprintf(name, sizeof(name), "tt_alloc_%s_other_%s", one, many);
	snprintf(help, sizeof(help), "(%s, device) pairs beyond the top ones, summed below.", one);
	prom_head(f, name, "gauge", help);
	fprintf(f, "%s %zu\n", name, count);
	for (q = 0; q < 2; q++) {
		snprintf(name, sizeof(name), "tt_alloc_%s_other_%s", one,
			 q ? "allocations" : "used_bytes");
		snprintf(help, sizeof(help), "%s of the %s beyond the top ones, summed.",
			 q ? "Allocations" : "Device memory", many);
		prom_head(f, name, "gauge", help);
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
			fprintf(f, "%s{type=\"%s\"} %" PRIu64 "\n", name,
				tt_alloc_mem_type_name(t), sum->v[q][t]);
	}
}

/* Rows of one process on one device, several open files merged so that no
 * two samples carry the same label set. */
struct prow {
	uint32_t pid, device;
	char comm[TT_ALLOC_COMM_LEN];
	struct usage u;
};

static int cmp_prow(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;

	if (x->u.total != y->u.total)
		return x->u.total > y->u.total ? -1 : 1;
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->device < y->device ? -1 : x->device > y->device;
}

static int cmp_prow_key(const void *a, const void *b)
{
	const struct prow *x = a, *y = b;

	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	if (x->device != y->device)
		return x->device < y->device ? -1 : 1;
	return memcmp(x->comm, y->comm, TT_ALLOC_COMM_LEN);
}

/* Sorted by key and merged in one pass: a host may list thousands of rows. */
static size_t merge_rows(const struct snapshot *s, const struct opts *o, struct prow *rows)
{
	size_t n = 0, i, m;

	for (i = 0; i < s->nclients; i++) {
		const struct tt_alloc_client *c = &s->clients[i];
		struct prow *r;

		if (c->device == TT_ALLOC_DEVICE_NONE)
			continue;
		if (o->device >= 0 && (long)c->device != o->device)
			continue;
		r = &rows[n++];
		memset(r, 0, sizeof(*r));
		r->pid = c->pid;
		r->device = c->device;
		memcpy(r->comm, c->comm, TT_ALLOC_COMM_LEN);
		usage_set(&r->u, c);
	}
	qsort(rows, n, sizeof(*rows), cmp_prow_key);
	for (i = 0, m = 0; i < n; i++) {
		if (m && !cmp_prow_key(&rows[m - 1], &rows[i]))
			usage_add(&rows[m - 1].u, &rows[i].u);
		else
			rows[m++] = rows[i];
	}
	qsort(rows, m, sizeof(*rows), cmp_prow);
	return m;
}

static void render_processes(FILE *f, const struct snapshot *s, const struct opts *o)
{
	struct prow *rows = calloc(s->nclients ? s->nclients : 1, sizeof(*rows));
	struct usage other = { 0 };
	size_t n, j, keep;
	unsigned int t, q;

	if (!rows)
		return;
	n = merge_rows(s, o, rows);
	keep = (size_t)o->prom_top < n ? (size_t)o->prom_top : n;
	for (j = keep; j < n; j++)
		usage_add(&other, &rows[j].u);

	prom_head(f, "tt_alloc_processes", "gauge",
		  "(process, device) pairs holding device memory, all of them.");
	fprintf(f, "tt_alloc_processes %zu\n", n);
	for (q = 0; q < 2; q++) {
		const char *name = q ? "tt_alloc_process_allocations" : "tt_alloc_process_used_bytes";

		prom_head(f, name, "gauge", q ?
			  "Allocations a process holds, for the top processes by bytes." :
			  "Device memory a process holds, for the top processes by bytes.");
		for (j = 0; j < keep; j++) {
			for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
				fprintf(f, "%s{pid=\"%" PRIu32 "\",comm=", name, rows[j].pid);
				prom_label(f, rows[j].comm, TT_ALLOC_COMM_LEN);
				fprintf(f, ",device=\"%" PRIu32 "\",type=\"%s\"} %" PRIu64 "\n",
					rows[j].device, tt_alloc_mem_type_name(t),
					rows[j].u.v[q][t]);
			}
		}
	}
	prom_other(f, "process", "processes", n - keep, &other);
	free(rows);
}

/* Rows of one cgroup on one device, every file opened there summed. */
struct crow {
	const char *path;	/* NULL: not under the tool's mount, see idbuf */
	char idbuf[24];		/* "#ID" */
	uint32_t device;
	struct usage u;
};

/* A row's cgroup label: its path, or "#ID" for one not under our mount. */
static const char *crow_name(const struct crow *r)
{
	return r->path ? r->path : r->idbuf;
}

static int cmp_crow_key(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;
	int r = strcmp(crow_name(x), crow_name(y));

	if (r)
		return r;
	return x->device < y->device ? -1 : x->device > y->device;
}

static int cmp_crow(const void *a, const void *b)
{
	const struct crow *x = a, *y = b;

	if (x->u.total != y->u.total)
		return x->u.total > y->u.total ? -1 : 1;
	return cmp_crow_key(a, b);
}

/* The labels of a cgroup series: the path, and what Kubernetes users join on. */
static void crow_labels(FILE *f, const struct crow *r)
{
	char pod[40], ctr[16];

	fputs("cgroup=", f);
	prom_label(f, crow_name(r), strlen(crow_name(r)));
	cgroup_k8s(r->path, pod, sizeof(pod), ctr, sizeof(ctr));
	if (*pod)
		fprintf(f, ",pod_uid=\"%s\"", pod);
	if (*ctr)
		fprintf(f, ",container_id=\"%s\"", ctr);
	fprintf(f, ",device=\"%" PRIu32 "\"", r->device);
}

/*
 * Per (cgroup, device), of the rows whose owner the kernel reported: the
 * cgroup's path, or "#ID" when it is not under the tool's cgroup2 mount.
 */
static void render_cgroups(FILE *f, const struct snapshot *s, const struct opts *o)
{
	struct crow *rows = calloc(s->nclients ? s->nclients : 1, sizeof(*rows));
	struct usage other = { 0 };
	size_t n = 0, m = 0, i, keep;
	unsigned int t, q;

	if (!rows)
		return;
	for (i = 0; i < s->nclients; i++) {
		const struct tt_alloc_client *c = &s->clients[i];
		struct crow *r = &rows[n];

		if (c->device == TT_ALLOC_DEVICE_NONE || !c->cgroup_id ||
		    (o->device >= 0 && (long)c->device != o->device))
			continue;
		n++;
		r->path = s->cgroups ? s->cgroups[i] : NULL;
		snprintf(r->idbuf, sizeof(r->idbuf), "#%" PRIu64, (uint64_t)c->cgroup_id);
		r->device = c->device;
		usage_set(&r->u, c);
	}
	/* Sorted by key and merged in one pass, as the process rows. */
	qsort(rows, n, sizeof(*rows), cmp_crow_key);
	for (i = 0; i < n; i++) {
		if (m && !cmp_crow_key(&rows[m - 1], &rows[i]))
			usage_add(&rows[m - 1].u, &rows[i].u);
		else
			rows[m++] = rows[i];
	}
	qsort(rows, m, sizeof(*rows), cmp_crow);
	keep = (size_t)o->prom_top < m ? (size_t)o->prom_top : m;
	for (i = keep; i < m; i++)
		usage_add(&other, &rows[i].u);

	prom_head(f, "tt_alloc_cgroups", "gauge",
		  "(cgroup, device) pairs holding device memory, all of them.");
	fprintf(f, "tt_alloc_cgroups %zu\n", m);
	for (q = 0; q < 2; q++) {
		const char *name = q ? "tt_alloc_cgroup_allocations" : "tt_alloc_cgroup_used_bytes";

		prom_head(f, name, "gauge", q ?
			  "Allocations the processes of a cgroup hold, for the top cgroups by bytes." :
			  "Device memory the processes of a cgroup hold, for the top cgroups by bytes.");
		for (i = 0; i < keep; i++)
			for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
				fprintf(f, "%s{", name);
				crow_labels(f, &rows[i]);
				fprintf(f, ",type=\"%s\"} %" PRIu64 "\n", tt_alloc_mem_type_name(t),
					rows[i].u.v[q][t]);
			}
	}
	/* The limits beside the use, for "near its dmem.max" alerts. */
	prom_head(f, "tt_alloc_cgroup_dmem_max_bytes", "gauge",
		  "dmem.max of a top cgroup for a tt_alloc region, where it sets one.");
	for (i = 0; i < keep; i++) {
		uint64_t max[TT_ALLOC_MEM_COUNT];

		cgroup_dmem_max(rows[i].path, rows[i].device, max);
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			if (max[t] == UINT64_MAX)
				continue;
			fputs("tt_alloc_cgroup_dmem_max_bytes{", f);
			crow_labels(f, &rows[i]);
			fprintf(f, ",type=\"%s\"} %" PRIu64 "\n", tt_alloc_mem_type_name(t), max[t]);
		}
	}
	prom_other(f, "cgroup", "cgroups", m - keep, &other);
	free(rows);
}

enum devfield { F_USED, F_PEAK, F_CAP, F_ALLOCS };

void render_prom(FILE *f, const struct snapshot *s, const struct opts *o)
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
	size_t i, q;
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
	prom_head(f, "tt_alloc_processes_available", "gauge",
		  "1 when the process list could be read from the device node.");
	fprintf(f, "tt_alloc_processes_available %d\n", !s->clients_err);
	if (!s->clients_err) {
		render_processes(f, s, o);
		render_cgroups(f, s, o);
	}
}

struct prom_args {
	const struct snapshot *s;
	const struct opts *o;
};

static void render_prom_arg(FILE *f, const void *arg)
{
	const struct prom_args *a = arg;

	render_prom(f, a->s, a->o);
}

/* The textfile collector may read PATH at any moment: see replace.c. */
int write_prom_file(const char *path, const struct snapshot *s, const struct opts *o)
{
	struct prom_args a = { s, o };

	if (replace_file(path, render_prom_arg, &a)) {
		fprintf(stderr, "%s: writing %s: %s\n", prog, path, strerror(errno));
		return -1;
	}
	return 0;
}
