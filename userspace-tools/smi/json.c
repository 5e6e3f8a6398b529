// SPDX-License-Identifier: GPL-2.0
/*
 * --json: one document per run, fields only ever added (schema_version
 * says when a meaning changes).
 */
#include <inttypes.h>
#include <stdint.h>
#include <string.h>

#include "smi.h"

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

void render_json(FILE *f, const struct snapshot *s, const struct opts *o)
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

/* A document even on failure, so that `tt-alloc-smi -j | jq` never reads
 * nothing; scripts test .error. */
void render_json_error(FILE *f, const char *msg, long device)
{
	fprintf(f, "{\n  \"schema_version\": %d,\n", SCHEMA_VERSION);
	fprintf(f, "  \"tool\": {\"name\": \"tt-alloc-smi\", \"version\": ");
	json_str(f, TT_ALLOC_VERSION, SIZE_MAX);
	fprintf(f, "},\n  \"error\": {\"message\": ");
	json_str(f, msg, SIZE_MAX);
	if (device >= 0)
		fprintf(f, ", \"device\": %ld", device);
	fprintf(f, "}\n}\n");
}
