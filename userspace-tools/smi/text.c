// SPDX-License-Identifier: GPL-2.0
/*
 * The text views: the one-line-per-device table, the per-device breakdown
 * (-v, -d N), the process table (columns by -o, order by --sort), and the
 * script output of the process table (--raw, --csv).
 *
 * libsmartcols lays the tables out (padding, alignment, multibyte widths,
 * truncation of a column that does not fit, raw output). What it has no
 * notion of is a column that matters less than another, so fitting a
 * narrow terminal by dropping whole columns (bars first, rarely used
 * memory types next) is done here before the table is handed over.
 */
#include <ctype.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include <wchar.h>

#include <libsmartcols.h>
#include <pwd.h>

#include "smi.h"

/* ---- a grid of cells, then a libsmartcols table ---------------------- */

struct colspec {
	const char *name;	/* header, and the -o / --sort name */
	int right;		/* right-aligned (numbers) */
	int drop;		/* 0: always shown; else dropped when narrow, lowest first */
	int trunc;		/* may be shortened by libsmartcols */
};

struct grid {
	const struct colspec *cols;
	size_t ncols, nrows, cap;
	char **cells;
	int hidden[32];
};

static int grid_row(struct grid *g)
{
	if (g->nrows == g->cap) {
		size_t cap = g->cap ? g->cap * 2 : 64;
		char **c = realloc(g->cells, cap * g->ncols * sizeof(*c));

		if (!c)
			return -1;
		g->cells = c;
		g->cap = cap;
	}
	memset(g->cells + g->nrows * g->ncols, 0, g->ncols * sizeof(*g->cells));
	g->nrows++;
	return 0;
}

static void grid_set(struct grid *g, size_t col, const char *fmt, ...)
{
	char **cell = &g->cells[(g->nrows - 1) * g->ncols + col];
	va_list ap;

	free(*cell);
	va_start(ap, fmt);
	if (vasprintf(cell, fmt, ap) < 0)
		*cell = NULL;
	va_end(ap);
}

static void grid_free(struct grid *g)
{
	size_t i;

	for (i = 0; i < g->nrows * g->ncols; i++)
		free(g->cells[i]);
	free(g->cells);
	g->cells = NULL;
	g->nrows = g->cap = 0;
}

static size_t text_width(const char *s)
{
	size_t n = mbstowcs(NULL, s, 0);
	wchar_t *w;
	int width;

	if (n == (size_t)-1)
		return strlen(s);
	w = calloc(n + 1, sizeof(*w));
	if (!w)
		return strlen(s);
	mbstowcs(w, s, n + 1);
	width = wcswidth(w, n);
	free(w);
	return width < 0 ? n : (size_t)width;
}

/* Drop the least important columns until the table fits in cols. */
static void grid_fit(struct grid *g, int cols)
{
	size_t w[32], c, r, total;

	if (cols <= 0)
		return;
	for (c = 0; c < g->ncols; c++) {
		w[c] = text_width(g->cols[c].name);
		for (r = 0; r < g->nrows; r++) {
			const char *cell = g->cells[r * g->ncols + c];
			size_t cw = cell ? text_width(cell) : 0;

			if (cw > w[c])
				w[c] = cw;
		}
	}
	for (;;) {
		size_t best = g->ncols;

		total = 0;
		for (c = 0; c < g->ncols; c++)
			if (!g->hidden[c])
				total += w[c] + (total ? 1 : 0);
		if (total <= (size_t)cols)
			return;
		for (c = 0; c < g->ncols; c++)
			if (!g->hidden[c] && g->cols[c].drop &&
			    (best == g->ncols || g->cols[c].drop < g->cols[best].drop))
				best = c;
		if (best == g->ncols)
			return;	/* what remains is shortened by libsmartcols */
		g->hidden[best] = 1;
	}
}

/* cols 0: not a terminal, nothing is ever cut. */
static int grid_print(FILE *f, struct grid *g, int cols, int raw, int noheadings)
{
	struct libscols_table *tb = scols_new_table();
	size_t c, r;
	int ret = -1;

	if (!tb)
		return -1;
	scols_table_set_stream(tb, f);
	if (cols > 0) {
		scols_table_set_termforce(tb, SCOLS_TERMFORCE_ALWAYS);
		scols_table_set_termwidth(tb, (size_t)cols);
	} else {
		scols_table_set_termforce(tb, SCOLS_TERMFORCE_NEVER);
	}
	scols_table_enable_raw(tb, raw);
	scols_table_enable_noheadings(tb, noheadings);
	for (c = 0; c < g->ncols; c++) {
		int fl = (g->cols[c].right ? SCOLS_FL_RIGHT : 0) |
			 (g->cols[c].trunc ? SCOLS_FL_TRUNC : 0) |
			 (g->hidden[c] ? SCOLS_FL_HIDDEN : 0);

		if (!scols_table_new_column(tb, g->cols[c].name, g->cols[c].trunc ? 0.1 : 0, fl))
			goto out;
	}
	for (r = 0; r < g->nrows; r++) {
		struct libscols_line *ln = scols_table_new_line(tb, NULL);

		if (!ln)
			goto out;
		for (c = 0; c < g->ncols; c++) {
			const char *cell = g->cells[r * g->ncols + c];

			if (scols_line_set_data(ln, c, cell ? cell : ""))
				goto out;
		}
	}
	ret = scols_print_table(tb);
out:
	scols_unref_table(tb);
	return ret;
}

/* ---- process table ---------------------------------------------------- */

enum pcol {
	PC_PID, PC_NAME, PC_DEV, PC_CLIENT, PC_DRAM, PC_L1, PC_SYSTEM, PC_L1_SMALL,
	PC_TRACE, PC_CB, PC_KERNELS, PC_TOTAL, PC_ALLOCS, PC_EXITED, PC_USER,
	PC_CGROUP, PC_COUNT
};

static const struct colspec pcols[PC_COUNT] = {
	[PC_PID] = { "PID", 1, 0, 0 },
	[PC_NAME] = { "NAME", 0, 0, 1 },
	[PC_DEV] = { "DEV", 1, 0, 0 },
	[PC_CLIENT] = { "CLIENT", 1, 3, 0 },
	[PC_DRAM] = { "DRAM", 1, 0, 0 },
	[PC_L1] = { "L1", 1, 8, 0 },
	[PC_SYSTEM] = { "SYSTEM", 1, 2, 0 },
	[PC_L1_SMALL] = { "L1_SMALL", 1, 5, 0 },
	[PC_TRACE] = { "TRACE", 1, 6, 0 },
	[PC_CB] = { "CB", 1, 4, 0 },
	[PC_KERNELS] = { "KERNELS", 1, 1, 0 },
	[PC_TOTAL] = { "TOTAL", 1, 7, 0 },
	[PC_ALLOCS] = { "ALLOCS", 1, 3, 0 },
	[PC_EXITED] = { "EXITED", 0, 2, 0 },
	[PC_USER] = { "USER", 0, 3, 1 },
	[PC_CGROUP] = { "CGROUP", 0, 2, 1 },
};

static const unsigned int pcol_type[PC_COUNT] = {
	[PC_DRAM] = TT_ALLOC_MEM_DRAM, [PC_L1] = TT_ALLOC_MEM_L1,
	[PC_SYSTEM] = TT_ALLOC_MEM_SYSTEM, [PC_L1_SMALL] = TT_ALLOC_MEM_L1_SMALL,
	[PC_TRACE] = TT_ALLOC_MEM_TRACE, [PC_CB] = TT_ALLOC_MEM_CB,
	[PC_KERNELS] = TT_ALLOC_MEM_KERNEL,
};

static const enum pcol pcol_default[] = {
	PC_PID, PC_NAME, PC_DEV, PC_DRAM, PC_L1, PC_L1_SMALL, PC_TRACE, PC_CB, PC_KERNELS,
};

/* The default with the owner, when the rows have one (a kernel that says). */
static const enum pcol pcol_default_owner[] = {
	PC_PID, PC_USER, PC_CGROUP, PC_NAME, PC_DEV, PC_DRAM, PC_L1, PC_L1_SMALL, PC_TRACE,
	PC_CB, PC_KERNELS,
};

static int has_owner(const struct snapshot *s)
{
	size_t i;

	for (i = 0; i < s->nclients; i++)
		if (s->clients[i].uid != TT_ALLOC_UID_UNKNOWN)
			return 1;
	return 0;
}

static int pcol_find(const char *name, size_t len)
{
	int c;

	for (c = 0; c < PC_COUNT; c++)
		if (strlen(pcols[c].name) == len && !strncasecmp(pcols[c].name, name, len))
			return c;
	return -1;
}

/*
 * -o LIST into column numbers; returns how many, -1 on an unknown name.
 * No list: the default, with USER and CGROUP when @owner.
 */
static int parse_columns(const char *list, enum pcol *out, size_t max, int owner)
{
	size_t n = 0;
	const char *p = list;

	if (!list && owner) {
		memcpy(out, pcol_default_owner, sizeof(pcol_default_owner));
		return (int)(sizeof(pcol_default_owner) / sizeof(pcol_default_owner[0]));
	}
	if (!list) {
		memcpy(out, pcol_default, sizeof(pcol_default));
		return (int)(sizeof(pcol_default) / sizeof(pcol_default[0]));
	}
	while (*p) {
		size_t len = strcspn(p, ",");
		int c = pcol_find(p, len);

		if (c < 0 || n == max) {
			fprintf(stderr, "%s: unknown column '%.*s' (columns: ", prog, (int)len, p);
			for (c = 0; c < PC_COUNT; c++)
				fprintf(stderr, "%s%s", c ? "," : "", pcols[c].name);
			fprintf(stderr, ")\n");
			return -1;
		}
		out[n++] = (enum pcol)c;
		p += len;
		if (*p == ',')
			p++;
	}
	return n ? (int)n : -1;
}

static uint64_t ctotal(const struct tt_alloc_client *c)
{
	uint64_t v = 0;
	unsigned int t;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		v += c->used[t];
	return v;
}

static uint64_t callocs(const struct tt_alloc_client *c)
{
	uint64_t v = 0;
	unsigned int t;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		v += c->allocations[t];
	return v;
}

static int sort_key = PC_DRAM;
static const struct snapshot *sort_snap;

/* The cgroup path of a row of @s, NULL when unresolved. */
static const char *row_cgroup(const struct snapshot *s, const struct tt_alloc_client *c)
{
	return s->cgroups ? s->cgroups[c - s->clients] : NULL;
}

static uint64_t pcol_num(const struct tt_alloc_client *c, int col)
{
	switch (col) {
	case PC_PID: return c->pid;
	case PC_DEV: return c->device;
	case PC_CLIENT: return c->client_id;
	case PC_TOTAL: return ctotal(c);
	case PC_ALLOCS: return callocs(c);
	case PC_EXITED: return !!(c->flags & TT_ALLOC_CLIENT_OPENER_EXITED);
	case PC_USER: return c->uid;
	case PC_CGROUP: return c->cgroup_id;
	default: return c->used[pcol_type[col]];
	}
}

/* Sizes biggest first; identities (PID, NAME, DEV, CLIENT) ascending. */
static int cmp_client(const void *a, const void *b)
{
	const struct tt_alloc_client *x = *(const struct tt_alloc_client *const *)a;
	const struct tt_alloc_client *y = *(const struct tt_alloc_client *const *)b;
	uint64_t u, v;
	int r;

	if (sort_key == PC_NAME) {
		r = strncmp((const char *)x->comm, (const char *)y->comm, TT_ALLOC_COMM_LEN);
		if (r)
			return r;
	} else if (sort_key == PC_CGROUP) {
		const char *p = row_cgroup(sort_snap, x), *q = row_cgroup(sort_snap, y);

		/* By path, unresolved ones last by id. */
		r = p && q ? strcmp(p, q) : !p - !q;
		if (r)
			return r;
		if (!p && x->cgroup_id != y->cgroup_id)
			return x->cgroup_id < y->cgroup_id ? -1 : 1;
	} else {
		u = pcol_num(x, sort_key);
		v = pcol_num(y, sort_key);
		if (u != v) {
			int asc = sort_key == PC_PID || sort_key == PC_DEV ||
				  sort_key == PC_CLIENT || sort_key == PC_USER;

			return (u < v) == asc ? -1 : 1;
		}
	}
	if (x->pid != y->pid)
		return x->pid < y->pid ? -1 : 1;
	return x->device < y->device ? -1 : x->device > y->device;
}

int table_check_opts(const struct opts *o)
{
	enum pcol cols[32];

	if (parse_columns(o->columns, cols, 32, 0) < 0)
		return -1;
	if (o->sort && pcol_find(o->sort, strlen(o->sort)) < 0) {
		fprintf(stderr, "%s: unknown --sort key '%s' (a column name, see -o)\n", prog, o->sort);
		return -1;
	}
	return 0;
}

/* The rows to show, sorted; *n set. NULL with *n 0 when there are none. */
static const struct tt_alloc_client **sorted_clients(const struct snapshot *s,
						     const struct opts *o, size_t *n)
{
	const struct tt_alloc_client **v = calloc(s->nclients ? s->nclients : 1, sizeof(*v));
	size_t i;

	*n = 0;
	if (!v)
		return NULL;
	for (i = 0; i < s->nclients; i++)
		if (o->device < 0 || (long)s->clients[i].device == o->device)
			v[(*n)++] = &s->clients[i];
	sort_key = o->sort ? pcol_find(o->sort, strlen(o->sort)) : PC_DRAM;
	sort_snap = s;
	qsort(v, *n, sizeof(*v), cmp_client);
	return v;
}

/* A user name for @uid, its number when it has none; one lookup per change of uid. */
static const char *user_name(uint32_t uid, char *buf, size_t len)
{
	static uint32_t last_uid = TT_ALLOC_UID_UNKNOWN;
	static char last[64];
	struct passwd pw, *res = NULL;
	char pwbuf[1024];

	if (uid == TT_ALLOC_UID_UNKNOWN)
		return "-";
	if (uid != last_uid) {
		if (!*sysroot_dir() && !getpwuid_r(uid, &pw, pwbuf, sizeof(pwbuf), &res) && res)
			snprintf(last, sizeof(last), "%s", pw.pw_name);
		else
			snprintf(last, sizeof(last), "%" PRIu32, uid);
		last_uid = uid;
	}
	snprintf(buf, len, "%s", last);
	return buf;
}

static void proc_cells(struct grid *g, const enum pcol *cols, size_t nc,
		       const struct snapshot *s, const struct tt_alloc_client *c, int bytes)
{
	char a[80], name[3 * TT_ALLOC_COMM_LEN + 1];
	size_t k;

	for (k = 0; k < nc; k++) {
		int col = cols[k];
		uint64_t v = pcol_num(c, col);

		switch (col) {
		case PC_PID:
			grid_set(g, k, "%" PRIu32 "%s", c->pid,
				 !bytes && (c->flags & TT_ALLOC_CLIENT_OPENER_EXITED) ? "*" : "");
			break;
		case PC_NAME:
			utf8_clean(name, sizeof(name), (const char *)c->comm, TT_ALLOC_COMM_LEN, 1);
			grid_set(g, k, "%s", name);
			break;
		case PC_DEV:
			if (c->device == TT_ALLOC_DEVICE_NONE)
				grid_set(g, k, "-");
			else
				grid_set(g, k, "%" PRIu32, c->device);
			break;
		case PC_CLIENT:
		case PC_ALLOCS:
			grid_set(g, k, "%" PRIu64, v);
			break;
		case PC_EXITED:
			grid_set(g, k, "%s", bytes ? (v ? "1" : "0") : (v ? "yes" : "no"));
			break;
		case PC_USER:
			grid_set(g, k, "%s", user_name(c->uid, a, sizeof(a)));
			break;
		case PC_CGROUP:
			/* Scripts get the whole path; people the short name. */
			if (bytes && row_cgroup(s, c))
				grid_set(g, k, "%s", row_cgroup(s, c));
			else
				grid_set(g, k, "%s", cgroup_short(row_cgroup(s, c), c->cgroup_id,
								  a, sizeof(a)));
			break;
		default:
			if (bytes)
				grid_set(g, k, "%" PRIu64, v);
			else
				grid_set(g, k, "%s", fmt_bytes(v, a, sizeof(a)));
		}
	}
}

static void proc_grid_init(struct grid *g, struct colspec *spec, const enum pcol *cols, size_t nc)
{
	size_t k;

	memset(g, 0, sizeof(*g));
	for (k = 0; k < nc; k++)
		spec[k] = pcols[cols[k]];
	g->cols = spec;
	g->ncols = nc;
}

static void csv_field(FILE *f, const char *s)
{
	if (strpbrk(s, ",\"\r\n") || (*s && (isspace((unsigned char)s[0]) ||
					       isspace((unsigned char)s[strlen(s) - 1])))) {
		fputc('"', f);
		for (; *s; s++) {
			if (*s == '"')
				fputc('"', f);
			fputc(*s, f);
		}
		fputc('"', f);
	} else {
		fputs(s, f);
	}
}

/* --raw / --csv: every row, byte counts, no totals; for scripts. */
int render_list(FILE *f, const struct snapshot *s, const struct opts *o)
{
	enum pcol cols[32];
	struct colspec spec[32];
	const struct tt_alloc_client **v;
	struct grid g;
	size_t n, i, k;
	int nc = parse_columns(o->columns, cols, 32, 0), ret = 0;

	if (nc < 0)
		return -1;
	v = sorted_clients(s, o, &n);
	proc_grid_init(&g, spec, cols, (size_t)nc);
	for (i = 0; i < n; i++) {
		if (grid_row(&g))
			break;
		proc_cells(&g, cols, (size_t)nc, s, v[i], 1);
	}
	if (o->fmt == OUT_CSV) {
		/* RFC 4180; libsmartcols has no CSV output mode. */
		for (k = 0; k < (size_t)nc; k++) {
			fputs(k ? "," : "", f);
			csv_field(f, spec[k].name);
		}
		fputs("\r\n", f);
		for (i = 0; i < g.nrows; i++) {
			for (k = 0; k < (size_t)nc; k++) {
				const char *cell = g.cells[i * g.ncols + k];

				fputs(k ? "," : "", f);
				csv_field(f, cell ? cell : "");
			}
			fputs("\r\n", f);
		}
	} else {
		ret = grid_print(f, &g, 0, 1, 0);
	}
	grid_free(&g);
	free(v);
	return ret;
}

/* ---- the whole text view ---------------------------------------------- */

static const unsigned int type_order[] = {
	TT_ALLOC_MEM_DRAM, TT_ALLOC_MEM_L1, TT_ALLOC_MEM_L1_SMALL,
	TT_ALLOC_MEM_TRACE, TT_ALLOC_MEM_CB, TT_ALLOC_MEM_KERNEL,
	TT_ALLOC_MEM_SYSTEM,
};
/*
 * Column names, the -o names of tt-alloc-smi(8), not TT_ALLOC_MEM_NAMES
 * upper-cased: the kernel column is KERNELS (it sums many kernels).
 */
static const char *const type_label[TT_ALLOC_MEM_COUNT] = {
	"DRAM", "L1", "SYSTEM", "L1_SMALL", "TRACE", "CB", "KERNELS",
};

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

enum dcol { DC_DEV, DC_CHIP, DC_ARCH, DC_DBAR, DC_DUSE, DC_DPCT, DC_LBAR, DC_LUSE, DC_LPCT, DC_CLIENTS, DC_COUNT };

static const struct colspec dcols[DC_COUNT] = {
	[DC_DEV] = { "DEV", 1, 0, 0 },
	[DC_CHIP] = { "CHIP", 0, 6, 0 },
	[DC_ARCH] = { "ARCH", 0, 0, 1 },
	[DC_DBAR] = { "DRAM", 0, 2, 0 },
	[DC_DUSE] = { "DRAM USED / CAPACITY", 1, 0, 0 },
	[DC_DPCT] = { "USE%", 1, 4, 0 },
	[DC_LBAR] = { "L1", 0, 1, 0 },
	[DC_LUSE] = { "L1 USED / CAPACITY", 1, 5, 0 },
	[DC_LPCT] = { "USE%", 1, 3, 0 },
	[DC_CLIENTS] = { "CLIENTS", 1, 0, 0 },
};

static void dev_mem_cells(struct grid *g, size_t bar, const struct memstat *m, size_t barw)
{
	char b[64], u[32], c[32];

	fmt_bar(b, barw, m->used, m->capacity);
	grid_set(g, bar, "%s", b);
	fmt_bytes(m->used, u, sizeof(u));
	if (m->capacity) {
		fmt_bytes(m->capacity, c, sizeof(c));
		grid_set(g, bar + 1, "%s / %9s", u, c);
		grid_set(g, bar + 2, "%.0f%%", 100.0 * (double)m->used / (double)m->capacity);
	} else {
		grid_set(g, bar + 1, "%s / %9s", u, "?");
		grid_set(g, bar + 2, "-");
	}
}

static void render_breakdown(FILE *f, const struct devstat *d)
{
	char a[32], b[32], c[32];
	unsigned int k;

	fprintf(f, "\nDevice %u (%s) memory breakdown\n", d->idx, d->arch);
	fprintf(f, "  %-9s %11s %11s %11s %8s\n", "TYPE", "USED", "PEAK", "CAPACITY", "ALLOCS");
	for (k = 0; k < sizeof(type_order) / sizeof(type_order[0]); k++) {
		unsigned int t = type_order[k];
		const struct memstat *m = &d->mem[t];

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

static void render_devices(FILE *f, const struct snapshot *s, const struct opts *o, int cols)
{
	struct grid g = { .cols = dcols, .ncols = DC_COUNT };
	size_t i, shown = 0, hidden = 0;
	int chips = 0;
	/* wider terminals get longer bars: what is left of the line, split in two */
	size_t barw = cols >= 140 ? 12 + (size_t)(cols - 120) / 2 / 2 : 12;
	char cl[24];

	if (barw > 40)
		barw = 40;
	for (i = 0; i < s->ndev; i++) {
		const struct devstat *d = &s->devs[i];

		if (!dev_visible(d, o)) {
			hidden += o->device < 0;	/* -d N: the others are not hidden, filtered */
			continue;
		}
		if (grid_row(&g))
			break;
		shown++;
		grid_set(&g, DC_DEV, "%u", d->idx);
		grid_set(&g, DC_CHIP, "%s", d->chip[0] ? d->chip : "-");
		chips |= d->chip[0] != '\0';
		grid_set(&g, DC_ARCH, "%s", d->arch);
		dev_mem_cells(&g, DC_DBAR, &d->mem[TT_ALLOC_MEM_DRAM], barw);
		dev_mem_cells(&g, DC_LBAR, &d->mem[TT_ALLOC_MEM_L1], barw);
		if (d->clients >= 0)
			snprintf(cl, sizeof(cl), "%" PRId64, d->clients);
		else
			snprintf(cl, sizeof(cl), "?");
		grid_set(&g, DC_CLIENTS, "%s", cl);
	}
	if (shown) {
		/* Without chips= (or with an older module) the column would say
		 * nothing on every row; leave the table as it was. */
		g.hidden[DC_CHIP] = !chips;
		grid_fit(&g, cols);
		grid_print(f, &g, cols, 0, 0);
	} else {
		fprintf(f, "(no device to show)\n");
	}
	grid_free(&g);
	if (hidden)
		fprintf(f, "(%zu device%s with no capacity and no use hidden; -a shows all)\n",
			hidden, hidden == 1 ? "" : "s");
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t i, n = 0;

	for (i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n;
}

/*
 * Processes, one row per (process, device), then a totals row. In a
 * terminal (rows > 0) only what fits in the rows left is shown, the rest
 * counted in a "N more" line: a watch screen that scrolls is useless.
 */
static int render_processes(FILE *f, const struct snapshot *s, const struct opts *o,
			    int cols, int rows_left)
{
	enum pcol pc[32];
	struct colspec spec[32];
	const struct tt_alloc_client **v;
	struct tt_alloc_client total;
	struct grid g;
	size_t n, i, show, k;
	int nc = parse_columns(o->columns, pc, 32, has_owner(s)), any_exited = 0;
	unsigned int t;

	if (nc < 0)
		return -1;
	if (s->clients_err) {
		fprintf(f, "\nProcesses: (process list unavailable: %s: %s)\n", device_node(),
			strerror(-s->clients_err));
		return 0;
	}
	v = sorted_clients(s, o, &n);
	if (!n) {
		fprintf(f, "\nProcesses: No process is recording allocations.\n");
		free(v);
		return 0;
	}
	show = n;
	if (rows_left > 0 && n + 2 > (size_t)rows_left)
		/* the header, the totals row and the "N more" line take three */
		show = rows_left > 4 ? (size_t)rows_left - 3 : 1;
	proc_grid_init(&g, spec, pc, (size_t)nc);
	memset(&total, 0, sizeof(total));
	for (i = 0; i < n; i++) {
		for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
			total.used[t] += v[i]->used[t];
			total.allocations[t] += v[i]->allocations[t];
		}
		if (v[i]->flags & TT_ALLOC_CLIENT_OPENER_EXITED)
			any_exited = 1;
		if (i < show && !grid_row(&g))
			proc_cells(&g, pc, (size_t)nc, s, v[i], 0);
	}
	if (!grid_row(&g)) {
		char a[32];

		for (k = 0; k < (size_t)nc; k++) {
			int col = pc[k];

			if (col == PC_NAME)
				grid_set(&g, k, "TOTAL (%zu)", n);
			else if (col == PC_ALLOCS)
				grid_set(&g, k, "%" PRIu64, callocs(&total));
			else if (col == PC_TOTAL)
				grid_set(&g, k, "%s", fmt_bytes(ctotal(&total), a, sizeof(a)));
			else if (pcol_type[col] || col == PC_DRAM)
				grid_set(&g, k, "%s", fmt_bytes(total.used[pcol_type[col]], a, sizeof(a)));
		}
	}
	fputc('\n', f);
	grid_fit(&g, cols);
	grid_print(f, &g, cols, 0, 0);
	if (show < n)
		fprintf(f, "... %zu more (process, device) row%s; --csv lists all\n",
			n - show, n - show == 1 ? "" : "s");
	if (any_exited)
		fprintf(f, "* the opener has exited; the file lives on in another process\n");
	grid_free(&g);
	free(v);
	return 0;
}

/*
 * Every line cut to the terminal's width: the tables already fit, this is
 * for the free text (header, notes, breakdown), which would otherwise wrap
 * and push the top of the view off the screen.
 */
static void write_cut(FILE *out, const char *buf, size_t len, size_t cols)
{
	const char *p = buf, *end = buf + len;

	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t l = nl ? (size_t)(nl - p) : (size_t)(end - p), i = 0, w = 0;
		mbstate_t st;

		memset(&st, 0, sizeof(st));
		while (i < l) {
			wchar_t wc;
			size_t k = mbrtowc(&wc, p + i, l - i, &st);
			int cw;

			if (k == (size_t)-1 || k == (size_t)-2 || k == 0) {
				memset(&st, 0, sizeof(st));
				k = 1;
				cw = 1;
			} else {
				cw = wcwidth(wc);
				if (cw < 0)
					cw = 1;
			}
			if (w + (size_t)cw > cols)
				break;
			w += (size_t)cw;
			i += k;
		}
		fwrite(p, 1, i, out);
		if (nl)
			fputc('\n', out);
		p += l + (nl ? 1 : 0);
	}
}

int render_text(FILE *out, const struct snapshot *s, const struct opts *o,
		const struct layout *lay)
{
	char tbuf[64], *buf = NULL;
	size_t len = 0, i;
	struct tm tm;
	FILE *f = open_memstream(&buf, &len);
	int k, ret = 0, rows_left = 0;

	if (!f)
		return -1;
	localtime_r(&s->ts, &tm);
	strftime(tbuf, sizeof(tbuf), "%Y-%m-%d %H:%M:%S", &tm);
	fprintf(f, "tt-alloc-smi %s  %s", TT_ALLOC_VERSION, tbuf);
	if (!s->mod.loaded) {
		fputc('\n', f);
		print_not_loaded(f);
		goto done;
	}
	fprintf(f, "  %s %s (%s), refcount %" PRId64 "\n", MODNAME,
		s->mod.version[0] ? s->mod.version : "?", s->mod.state, s->mod.refcnt);
	if (s->mod.nparams && (o->verbose || o->device >= 0)) {
		fprintf(f, "Parameters:");
		for (k = 0; k < s->mod.nparams; k++)
			fprintf(f, " %s=%s", s->mod.params[k].name, s->mod.params[k].value);
		fputc('\n', f);
	}
	render_devices(f, s, o, lay->cols);
	if (o->verbose || o->device >= 0)
		for (i = 0; i < s->ndev; i++)
			if (dev_visible(&s->devs[i], o))
				render_breakdown(f, &s->devs[i]);
	if (lay->rows > 0) {
		fflush(f);
		/* a blank line before the table, and the last line for the prompt */
		rows_left = lay->rows - (int)count_lines(buf, len) - 2;
		if (rows_left < 1)
			rows_left = 1;
	}
	ret = render_processes(f, s, o, lay->cols, rows_left);
done:
	fclose(f);
	if (lay->cols > 0)
		write_cut(out, buf, len, (size_t)lay->cols);
	else
		fwrite(buf, 1, len, out);
	free(buf);
	return ret;
}

int layout_of_stdout(struct layout *lay)
{
	struct winsize ws;

	lay->cols = lay->rows = 0;
	if (!isatty(STDOUT_FILENO))
		return 0;
	if (!ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) && ws.ws_col) {
		lay->cols = ws.ws_col;
		lay->rows = ws.ws_row;
	} else {
		lay->cols = 80;
		lay->rows = 24;
	}
	return 1;
}
