// SPDX-License-Identifier: GPL-2.0
/*
 * --json: one document per run, fields only ever added (schema_version
 * says when a meaning changes).
 *
 * Written by hand into a buffer, not with fprintf(): with 1000 process
 * rows a document is about 20 fprintf() calls per row, whose format
 * parsing and stream locking cost more than the rest of the snapshot
 * (measured natively and in a test guest: the figures are in
 * Documentation/admin-guide/tt-alloc-smi.rst).
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "smi.h"

struct jbuf {
	FILE *f;
	size_t len;
	char buf[16384];
};

static struct jbuf jb;

static void jb_flush(struct jbuf *b)
{
	if (b->len)
		fwrite(b->buf, 1, b->len, b->f);
	b->len = 0;
}

static void jb_put(struct jbuf *b, const char *s, size_t n)
{
	if (n > sizeof(b->buf) - b->len) {
		jb_flush(b);
		if (n > sizeof(b->buf)) {
			fwrite(s, 1, n, b->f);
			return;
		}
	}
	memcpy(b->buf + b->len, s, n);
	b->len += n;
}

static void jb_puts(struct jbuf *b, const char *s)
{
	jb_put(b, s, strlen(s));
}

/* jb_puts() of a literal, its length known at compile time */
#define JB_LIT(b, lit) jb_put((b), "" lit, sizeof(lit) - 1)

static void jb_u64(struct jbuf *b, uint64_t v)
{
	char d[20], *p = d + sizeof(d);

	do {
		*--p = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	jb_put(b, p, (size_t)(d + sizeof(d) - p));
}

static void jb_i64(struct jbuf *b, int64_t v)
{
	if (v < 0) {
		JB_LIT(b, "-");
		jb_u64(b, -(uint64_t)v);
	} else {
		jb_u64(b, (uint64_t)v);
	}
}

static void jb_bool(struct jbuf *b, int v)
{
	if (v)
		JB_LIT(b, "true");
	else
		JB_LIT(b, "false");
}

/*
 * A JSON string: valid UTF-8 passes through as is (RFC 8259 allows it and
 * jq shows names as written); bytes that are not UTF-8 become \ufffd so
 * the document stays valid whatever the kernel handed over.
 */
static void jb_str(struct jbuf *b, const char *s, size_t max)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *p = (const unsigned char *)s;
	size_t n = bounded_len(s, max), i = 0, run = 0;

	JB_LIT(b, "\"");
	while (i < n) {
		size_t l = utf8_seq(p + i, n - i);
		char esc[6];

		if (l && p[i] != '"' && p[i] != '\\' && p[i] >= 0x20 && p[i] != 0x7f) {
			/* copied in runs, not a call per byte */
			i += l;
			run += l;
			continue;
		}
		jb_put(b, (const char *)p + i - run, run);
		run = 0;
		if (!l) {
			JB_LIT(b, "\\ufffd");
			l = 1;
		} else if (p[i] == '"' || p[i] == '\\') {
			esc[0] = '\\';
			esc[1] = (char)p[i];
			jb_put(b, esc, 2);
		} else {
			memcpy(esc, "\\u00", 4);
			esc[4] = hex[p[i] >> 4];
			esc[5] = hex[p[i] & 15];
			jb_put(b, esc, 6);
		}
		i += l;
	}
	jb_put(b, (const char *)p + i - run, run);
	JB_LIT(b, "\"");
}

static void json_param_value(struct jbuf *b, const char *v)
{
	const char *p = v;

	if (!strcmp(v, "Y")) {
		JB_LIT(b, "true");
		return;
	}
	if (!strcmp(v, "N")) {
		JB_LIT(b, "false");
		return;
	}
	if (*p == '-')
		p++;
	if (*p && strspn(p, "0123456789") == strlen(p) && strlen(p) < 19 &&
	    (p[0] != '0' || !p[1])) {
		jb_puts(b, v);
		return;
	}
	jb_str(b, v, SIZE_MAX);
}

static void json_head(struct jbuf *b)
{
	JB_LIT(b, "{\n  \"schema_version\": ");
	jb_i64(b, SCHEMA_VERSION);
	JB_LIT(b, ",\n  \"tool\": {\"name\": \"tt-alloc-smi\", \"version\": ");
	jb_str(b, TT_ALLOC_VERSION, SIZE_MAX);
}

static void json_module(struct jbuf *b, const struct modstate *m)
{
	int k;

	JB_LIT(b, "  \"module\": {\"loaded\": ");
	jb_bool(b, m->loaded);
	if (m->loaded) {
		JB_LIT(b, ", \"version\": ");
		jb_str(b, m->version, sizeof(m->version));
		JB_LIT(b, ", \"state\": ");
		jb_str(b, m->state, sizeof(m->state));
		JB_LIT(b, ", \"refcount\": ");
		if (m->refcnt >= 0)
			jb_i64(b, m->refcnt);
		else
			JB_LIT(b, "null");
		JB_LIT(b, ", \"parameters\": {");
		for (k = 0; k < m->nparams; k++) {
			if (k)
				JB_LIT(b, ", ");
			jb_str(b, m->params[k].name, sizeof(m->params[k].name));
			JB_LIT(b, ": ");
			json_param_value(b, m->params[k].value);
		}
		JB_LIT(b, "}");
	}
	JB_LIT(b, "},\n");
}

static void json_device(struct jbuf *b, const struct devstat *d)
{
	unsigned int t;

	JB_LIT(b, "\n    {\"device\": ");
	jb_u64(b, d->idx);
	JB_LIT(b, ", \"arch\": ");
	jb_str(b, d->arch, sizeof(d->arch));
	JB_LIT(b, ", \"chip\": ");
	if (d->chip[0])
		jb_str(b, d->chip, sizeof(d->chip));
	else
		JB_LIT(b, "null");
	JB_LIT(b, ", \"clients\": ");
	if (d->clients >= 0)
		jb_i64(b, d->clients);
	else
		JB_LIT(b, "null");
	JB_LIT(b, ", \"reclaimed_bytes\": ");
	jb_u64(b, d->reclaimed_bytes);
	JB_LIT(b, ", \"reclaimed_allocations\": ");
	jb_u64(b, d->reclaimed_allocations);
	JB_LIT(b, ",\n     \"memory\": {");
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		const struct memstat *m = &d->mem[t];

		if (t)
			JB_LIT(b, ",");
		JB_LIT(b, "\n       \"");
		jb_puts(b, tt_alloc_mem_type_name(t));
		JB_LIT(b, "\": {\"used_bytes\": ");
		jb_u64(b, m->used);
		JB_LIT(b, ", \"peak_bytes\": ");
		jb_u64(b, m->peak);
		JB_LIT(b, ", \"capacity_bytes\": ");
		jb_u64(b, m->capacity);
		JB_LIT(b, ", \"allocations\": ");
		jb_u64(b, m->allocations);
		if (t == TT_ALLOC_MEM_KERNEL) {
			JB_LIT(b, ", \"system_bytes\": ");
			jb_u64(b, d->system_bytes);
		}
		JB_LIT(b, "}");
	}
	JB_LIT(b, "\n     }}");
}

/* "dram": 1, "l1": 2, ... of one per-type array of a process row */
static void json_types(struct jbuf *b, const uint64_t *v, const char *const *names)
{
	unsigned int t;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		if (t)
			JB_LIT(b, ", ");
		jb_puts(b, names[t]);
		jb_u64(b, v[t]);
	}
}

static void json_process(struct jbuf *b, const struct tt_alloc_client *c,
			 const char *cgroup, const char *const *names)
{
	uint64_t v[TT_ALLOC_MEM_COUNT];
	unsigned int t;

	JB_LIT(b, "\n    {\"pid\": ");
	jb_u64(b, c->pid);
	JB_LIT(b, ", \"name\": ");
	jb_str(b, (const char *)c->comm, TT_ALLOC_COMM_LEN);
	JB_LIT(b, ", \"client_id\": ");
	jb_u64(b, c->client_id);
	JB_LIT(b, ", \"device\": ");
	if (c->device == TT_ALLOC_DEVICE_NONE)
		JB_LIT(b, "null");
	else
		jb_u64(b, c->device);
	JB_LIT(b, ", \"opener_exited\": ");
	jb_bool(b, c->flags & TT_ALLOC_CLIENT_OPENER_EXITED);
	/* Whose: null where the kernel (or a --sysroot snapshot) does not say. */
	JB_LIT(b, ",\n     \"uid\": ");
	if (c->uid == TT_ALLOC_UID_UNKNOWN)
		JB_LIT(b, "null");
	else
		jb_u64(b, c->uid);
	JB_LIT(b, ", \"cgroup_id\": ");
	if (c->cgroup_id)
		jb_u64(b, c->cgroup_id);
	else
		JB_LIT(b, "null");
	JB_LIT(b, ", \"cgroup\": ");
	if (cgroup)
		jb_str(b, cgroup, strlen(cgroup));
	else
		JB_LIT(b, "null");
	JB_LIT(b, ",\n     \"used_bytes\": {");
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		v[t] = c->used[t];
	json_types(b, v, names);
	JB_LIT(b, "},\n     \"allocations\": {");
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		v[t] = c->allocations[t];
	json_types(b, v, names);
	JB_LIT(b, "}}");
}

void render_json(FILE *f, const struct snapshot *s, const struct opts *o)
{
	/* '"dram": ' and so on, made once instead of once per row */
	char keys[TT_ALLOC_MEM_COUNT][32];
	const char *names[TT_ALLOC_MEM_COUNT];
	struct jbuf *b = &jb;
	size_t i, j, n;
	unsigned int t;

	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++) {
		snprintf(keys[t], sizeof(keys[t]), "\"%s\": ", tt_alloc_mem_type_name(t));
		names[t] = keys[t];
	}
	b->f = f;
	b->len = 0;
	json_head(b);
	JB_LIT(b, "},\n  \"timestamp\": ");
	jb_i64(b, (int64_t)s->ts);
	JB_LIT(b, ",\n");
	json_module(b, &s->mod);
	JB_LIT(b, "  \"devices\": [");
	for (i = 0, n = 0; i < s->ndev; i++) {
		const struct devstat *d = &s->devs[i];

		if (o->device >= 0 && (long)d->idx != o->device)
			continue;
		if (n++)
			JB_LIT(b, ",");
		json_device(b, d);
	}
	if (n)
		JB_LIT(b, "\n  ");
	JB_LIT(b, "],\n  \"processes_available\": ");
	jb_bool(b, s->mod.loaded && !s->clients_err);
	JB_LIT(b, ",\n  \"processes\": [");
	for (j = 0, n = 0; j < s->nclients; j++) {
		const struct tt_alloc_client *c = &s->clients[j];

		if (o->device >= 0 && (long)c->device != o->device)
			continue;
		if (n++)
			JB_LIT(b, ",");
		json_process(b, c, s->cgroups ? s->cgroups[j] : NULL, names);
	}
	if (n)
		JB_LIT(b, "\n  ");
	JB_LIT(b, "]\n}\n");
	jb_flush(b);
}

/* A document even on failure, so that `tt-alloc-smi -j | jq` never reads
 * nothing; scripts test .error. */
void render_json_error(FILE *f, const char *msg, long device)
{
	struct jbuf *b = &jb;

	b->f = f;
	b->len = 0;
	json_head(b);
	JB_LIT(b, "},\n  \"error\": {\"message\": ");
	jb_str(b, msg, SIZE_MAX);
	if (device >= 0) {
		JB_LIT(b, ", \"device\": ");
		jb_i64(b, device);
	}
	JB_LIT(b, "}\n}\n");
	jb_flush(b);
}
