/* SPDX-License-Identifier: GPL-2.0 */
/*
 * tt-alloc-smi internals shared between the data gathering
 * (snapshot.c) and the views (text.c, json.c, prom.c, watch.c), which
 * share the helpers of format.c.
 * The renderers only read a struct snapshot, so the gathering side can
 * change (ABI, open flags, cursors) without touching them.
 */
#ifndef TT_ALLOC_SMI_H
#define TT_ALLOC_SMI_H

#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include "tt_alloc/libttalloc.h"

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

#define SCHEMA_VERSION	1
#define MODNAME		"tt_alloc"
#define LOAD_HINT	"tt-alloc-smi --load [--devices N --arch LIST] (or: modprobe tt_alloc)"

struct memstat {
	uint64_t used, peak, capacity, allocations;
};

struct devstat {
	unsigned int idx;
	char arch[64];
	char chip[64];		/* deviceN/chip; empty: none named or an older module */
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
	char **cgroups;		/* parallel to clients: path or NULL; NULL: none resolved */
	size_t nclients;
	int clients_err;	/* 0: list valid */
};

enum out_fmt { OUT_TEXT, OUT_JSON, OUT_PROM, OUT_RAW, OUT_CSV };

struct opts {
	int all;
	long device;		/* -1: all */
	int verbose;
	enum out_fmt fmt;
	int watch;
	double interval;
	long count;		/* watch: snapshots to print, 0: until stopped */
	const char *columns;	/* -o LIST, NULL: default */
	const char *sort;	/* --sort KEY, NULL: dram */
	long prom_top;		/* per-process series kept before "other" */
	const char *prom_file;	/* --prometheus-file PATH */
};

/* The terminal the text view is laid out for; cols 0: unlimited (a pipe). */
struct layout {
	int cols, rows;
};

/* tt-alloc-smi.c */
extern const char *prog;

/* kmod.c */
int kmod_load(const char *devices, const char *arch, const char *path);
int kmod_unload(void);

/* configure.c: --configure; returns the exit status (CONF_*) */
#define CONF_DEFAULT_OUTPUT	"/etc/modprobe.d/tt_alloc-machine.conf"
#define CONF_OK		0	/* written, unchanged, removed or nothing to do */
#define CONF_BAD_MACHINE 1	/* sysfs unreadable or not understood: nothing written */
#define CONF_FOREIGN	3	/* the output file was not written by --configure: left alone */
#define CONF_WRITE_FAILED 4	/* the output file could not be written or removed */
int configure(const char *output);

/* snapshot.c */
void snapshot_take(struct snapshot *s);
void snapshot_free(struct snapshot *s);

/* cgroup.c */
const char *cgroup_root(void);
void cgroup_resolve(struct snapshot *s);
int cgroup_set_filter(const char *tree);
void cgroup_filter_rows(struct snapshot *s);
int cgroup_in(const char *path, const char *tree);
void cgroup_dmem_max(const char *path, uint32_t device, uint64_t max[TT_ALLOC_MEM_COUNT]);
void cgroup_k8s(const char *path, char *pod, size_t podlen, char *ctr, size_t ctrlen);
const char *cgroup_short(const char *path, uint64_t id, char *buf, size_t len);

/* sysroot.c */
int sysroot_set(const char *dir);
const char *sysroot_dir(void);	/* "": the real root */
const char *sysroot_module_dir(void);
const char *sysroot_class_dir(void);
const char *device_node(void);
int sysroot_has_clients_file(void);
int sysroot_read_clients(struct tt_alloc_client **rows, size_t *count);

/* format.c */
char *fmt_bytes(uint64_t b, char *buf, size_t len);
void fmt_bar(char *buf, size_t width, uint64_t used, uint64_t cap);
size_t utf8_clean(char *dst, size_t dstlen, const char *src, size_t srclen,
		  int printable);
size_t utf8_seq(const unsigned char *p, size_t n);
size_t bounded_len(const char *s, size_t max);
void print_not_loaded(FILE *f);

/* text.c */
int table_check_opts(const struct opts *o);
int render_text(FILE *f, const struct snapshot *s, const struct opts *o,
		const struct layout *lay);
int render_list(FILE *f, const struct snapshot *s, const struct opts *o);
int layout_of_stdout(struct layout *lay);

/* prom.c */
void render_prom(FILE *f, const struct snapshot *s, const struct opts *o);
int write_prom_file(const char *path, const struct snapshot *s, const struct opts *o);

/* replace.c */
int replace_file(const char *path, void (*render)(FILE *f, const void *arg),
		 const void *arg);

/* watch.c */
int watch(const struct opts *o);

/* json.c */
void render_json(FILE *f, const struct snapshot *s, const struct opts *o);
void render_json_error(FILE *f, const char *msg, long device);

#endif
