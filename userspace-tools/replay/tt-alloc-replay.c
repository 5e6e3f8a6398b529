// SPDX-License-Identifier: GPL-2.0
/*
 * tt-alloc-replay: replay an allocation trace through libttalloc.
 *
 * The whole trace is parsed and checked first; a malformed line is reported
 * as "file:line: message" and nothing is recorded. See
 * Documentation/userspace-api/libttalloc.rst, "Trace format".
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "tt_alloc/libttalloc.h"

#ifndef TT_ALLOC_VERSION
#define TT_ALLOC_VERSION "unknown"
#endif

enum op_kind { OP_ALLOC, OP_FREE, OP_SLEEP };

struct op {
	enum op_kind op;
	unsigned int line;
	uint32_t device, type, kind;
	uint64_t id, size;	/* size: bytes, or ms for OP_SLEEP */
};

struct trace {
	const char *name;
	struct op *ops;
	size_t n, cap;
	size_t nalloc, nfree;
	uint32_t max_device;
	int has_device;
};

/* Live keys during the parse-time simulation, open addressing. */
struct slot {
	int used;		/* 0 empty, 1 live, 2 tombstone */
	uint32_t device, type, kind;
	uint64_t id, size;
	uint64_t refs;
	unsigned int line;
};

struct table {
	struct slot *s;
	size_t cap, live, filled;
};

static const char *prog = "tt-alloc-replay";
static int quiet;

static void usage(FILE *f)
{
	fprintf(f,
"Usage: %s [OPTIONS] TRACE\n"
"Replay a device-memory allocation trace through libttalloc.\n"
"\n"
"  -b, --batch            queue operations into TT_ALLOC_IOC_BATCH calls\n"
"      --batch-size N     operations per batch with --batch (default 64)\n"
"  -c, --crash-after N    abort() after N alloc/free operations (simulated crash)\n"
"  -H, --hold             after the trace, keep everything recorded and wait for\n"
"                         SIGTERM or SIGINT\n"
"  -n, --check            parse and check the trace only, record nothing\n"
"  -q, --quiet            print only errors and the \"holding\" line\n"
"  -h, --help             this text\n"
"  -V, --version          print the version\n"
"\n"
"TRACE is a file or - for standard input. Tracking happens only with\n"
"TT_ALLOC_TRACKING_ENABLED=1; TT_ALLOC_DEVICE overrides /dev/tt_alloc.\n"
"Trace lines:\n"
"  alloc <device> <type> <kind> <id> <size>\n"
"  free  <device> <type> <id>\n"
"  sleep <ms>\n"
"  # comment\n"
"type: dram l1 system l1_small trace cb kernel, or a number; kind: app fabric\n"
"dispatch, a number, or - (0); ids decimal or 0x hex; sizes with optional\n"
"K/M/G (KiB/MiB/GiB) suffix.\n", prog);
}

static int perr(const struct trace *t, unsigned int line, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static int perr(const struct trace *t, unsigned int line, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s:%u: ", t->name, line);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	return -1;
}

static int parse_u64(const char *s, uint64_t *v)
{
	char *end;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	*v = strtoull(s, &end, 0);
	if (errno || *end)
		return -1;
	return 0;
}

static int parse_u32(const char *s, uint32_t *v)
{
	uint64_t x;

	if (parse_u64(s, &x) || x > UINT32_MAX)
		return -1;
	*v = (uint32_t)x;
	return 0;
}

static int parse_size(const char *s, uint64_t *v)
{
	char *end;
	uint64_t x, mult = 1;

	if (!s || !isdigit((unsigned char)*s))
		return -1;
	errno = 0;
	x = strtoull(s, &end, 0);
	if (errno)
		return -1;
	if (*end) {
		char c = (char)toupper((unsigned char)*end);

		if (c == 'K')
			mult = 1ULL << 10;
		else if (c == 'M')
			mult = 1ULL << 20;
		else if (c == 'G')
			mult = 1ULL << 30;
		else
			return -1;
		end++;
		if (*end && strcasecmp(end, "iB") && strcasecmp(end, "B"))
			return -1;
	}
	if (x > UINT64_MAX / mult)
		return -1;
	*v = x * mult;
	return 0;
}

static uint64_t hash_key(uint32_t d, uint32_t t, uint64_t id)
{
	uint64_t h = id * 0x9e3779b97f4a7c15ULL;

	h ^= ((uint64_t)d << 32 | t) * 0xc2b2ae3d27d4eb4fULL;
	return h ^ (h >> 29);
}

static struct slot *table_find(struct table *tb, uint32_t d, uint32_t t,
			       uint64_t id, int insert)
{
	size_t i, mask;
	struct slot *tomb = NULL;

	if (insert && (tb->filled + 1) * 2 > tb->cap) {
		struct table nt = { 0 };
		size_t k;

		nt.cap = tb->cap ? tb->cap * 2 : 256;
		nt.s = calloc(nt.cap, sizeof(*nt.s));
		if (!nt.s)
			return NULL;
		for (k = 0; k < tb->cap; k++) {
			struct slot *o = &tb->s[k];

			if (o->used != 1)
				continue;
			mask = nt.cap - 1;
			for (i = hash_key(o->device, o->type, o->id) & mask;
			     nt.s[i].used; i = (i + 1) & mask)
				;
			nt.s[i] = *o;
			nt.live++;
			nt.filled++;
		}
		free(tb->s);
		*tb = nt;
	}
	if (!tb->cap)
		return NULL;
	mask = tb->cap - 1;
	for (i = hash_key(d, t, id) & mask; tb->s[i].used; i = (i + 1) & mask) {
		struct slot *s = &tb->s[i];

		if (s->used == 2) {
			if (!tomb)
				tomb = s;
			continue;
		}
		if (s->device == d && s->type == t && s->id == id)
			return s;
	}
	if (!insert)
		return NULL;
	if (!tomb) {
		tomb = &tb->s[i];
		tb->filled++;
	}
	memset(tomb, 0, sizeof(*tomb));
	tomb->device = d;
	tomb->type = t;
	tomb->id = id;
	return tomb;
}

static int add_op(struct trace *t, const struct op *o)
{
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		struct op *n = realloc(t->ops, ncap * sizeof(*n));

		if (!n)
			return -1;
		t->ops = n;
		t->cap = ncap;
	}
	t->ops[t->n++] = *o;
	if (o->op != OP_SLEEP) {
		if (!t->has_device || o->device > t->max_device)
			t->max_device = o->device;
		t->has_device = 1;
	}
	return 0;
}

#define MAX_FIELDS 8

static int parse_line(struct trace *t, struct table *tb, char *buf,
		      unsigned int line)
{
	char *f[MAX_FIELDS + 1];
	char *p, *save = NULL;
	int nf = 0, v;
	struct op o;
	struct slot *s;

	p = strchr(buf, '#');
	if (p)
		*p = '\0';
	for (p = strtok_r(buf, " \t\r\n", &save); p;
	     p = strtok_r(NULL, " \t\r\n", &save)) {
		if (nf == MAX_FIELDS + 1)
			break;
		f[nf++] = p;
	}
	if (!nf)
		return 0;

	memset(&o, 0, sizeof(o));
	o.line = line;
	if (!strcmp(f[0], "sleep")) {
		if (nf != 2)
			return perr(t, line, "'sleep' takes 1 argument (milliseconds), got %d", nf - 1);
		if (parse_u64(f[1], &o.size) || o.size > 3600000)
			return perr(t, line, "bad sleep time '%s' (milliseconds, at most 3600000)", f[1]);
		o.op = OP_SLEEP;
		return add_op(t, &o) ? perr(t, line, "out of memory") : 0;
	}
	if (!strcmp(f[0], "alloc")) {
		if (nf != 6)
			return perr(t, line, "'alloc' takes 5 arguments (device type kind id size), got %d", nf - 1);
		o.op = OP_ALLOC;
	} else if (!strcmp(f[0], "free")) {
		if (nf != 4)
			return perr(t, line, "'free' takes 3 arguments (device type id), got %d", nf - 1);
		o.op = OP_FREE;
	} else {
		return perr(t, line, "unknown command '%s' (expected alloc, free or sleep)", f[0]);
	}

	if (parse_u32(f[1], &o.device))
		return perr(t, line, "bad device number '%s'", f[1]);
	v = tt_alloc_mem_type_from_name(f[2]);
	if (v < 0 || v >= TT_ALLOC_MEM_COUNT)
		return perr(t, line, "unknown memory type '%s' (dram, l1, system, l1_small, trace, cb, kernel or 0-%d)",
			    f[2], TT_ALLOC_MEM_COUNT - 1);
	o.type = (uint32_t)v;

	if (o.op == OP_FREE) {
		if (parse_u64(f[3], &o.id))
			return perr(t, line, "bad id '%s' (decimal or 0x hex)", f[3]);
		s = table_find(tb, o.device, o.type, o.id, 0);
		if (!s)
			return perr(t, line, "free of %s id 0x%" PRIx64 " on device %" PRIu32 " that is not allocated at this point",
				    tt_alloc_mem_type_name(o.type), o.id, o.device);
		if (--s->refs == 0) {
			s->used = 2;
			tb->live--;
		}
		t->nfree++;
		return add_op(t, &o) ? perr(t, line, "out of memory") : 0;
	}

	if (!strcmp(f[3], "-")) {
		o.kind = 0;
	} else {
		v = tt_alloc_kernel_kind_from_name(f[3]);
		if (v < 0 || v > TT_ALLOC_KERNEL_DISPATCH)
			return perr(t, line, "unknown kernel kind '%s' (app, fabric, dispatch, 0-2 or -)", f[3]);
		o.kind = (uint32_t)v;
	}
	if (o.kind && o.type != TT_ALLOC_MEM_KERNEL)
		return perr(t, line, "kind '%s' given for a %s allocation; only kernel allocations have a kind (use - or app)",
			    f[3], tt_alloc_mem_type_name(o.type));
	if (parse_u64(f[4], &o.id))
		return perr(t, line, "bad id '%s' (decimal or 0x hex)", f[4]);
	if (parse_size(f[5], &o.size))
		return perr(t, line, "bad size '%s' (bytes, optionally with a K, M or G suffix)", f[5]);
	if (!o.size)
		return perr(t, line, "size must be greater than 0");

	s = table_find(tb, o.device, o.type, o.id, 1);
	if (!s)
		return perr(t, line, "out of memory");
	if (s->used == 1) {
		if (s->size != o.size || s->kind != o.kind)
			return perr(t, line, "%s id 0x%" PRIx64 " on device %" PRIu32 " is already allocated with another size or kind (line %u)",
				    tt_alloc_mem_type_name(o.type), o.id, o.device, s->line);
		s->refs++;
	} else {
		s->used = 1;
		s->size = o.size;
		s->kind = o.kind;
		s->refs = 1;
		s->line = line;
		tb->live++;
	}
	t->nalloc++;
	return add_op(t, &o) ? perr(t, line, "out of memory") : 0;
}

static int parse_trace(struct trace *t, FILE *f)
{
	struct table tb = { 0 };
	char *buf = NULL;
	size_t len = 0;
	unsigned int line = 0;
	int ret = 0;

	while (getline(&buf, &len, f) >= 0) {
		line++;
		if (parse_line(t, &tb, buf, line)) {
			ret = -1;
			break;
		}
	}
	if (!ret && ferror(f)) {
		fprintf(stderr, "%s: %s: read error\n", prog, t->name);
		ret = -1;
	}
	free(buf);
	free(tb.s);
	return ret;
}

static void sleep_ms(uint64_t ms)
{
	struct timespec ts = { (time_t)(ms / 1000), (long)(ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

static void op_error(const struct trace *t, const struct op *o, int err)
{
	perr(t, o->line, "%s of %s id 0x%" PRIx64 " on device %" PRIu32 " failed: %s",
	     o->op == OP_ALLOC ? "alloc" : "free", tt_alloc_mem_type_name(o->type),
	     o->id, o->device, tt_alloc_strerror(err));
}

/* The first queued op the kernel refused in a flush (libttalloc skips it). */
static struct {
	int seen;
	struct tt_alloc_op op;
} refused;

static void on_refused(struct tt_alloc_ctx *ctx, const struct tt_alloc_op *op,
		       int err, void *arg)
{
	(void)ctx;
	(void)err;
	(void)arg;
	if (!refused.seen++)
		refused.op = *op;
}

int main(int argc, char **argv)
{
	static const struct option lopts[] = {
		{ "batch", no_argument, NULL, 'b' },
		{ "batch-size", required_argument, NULL, 'B' },
		{ "crash-after", required_argument, NULL, 'c' },
		{ "hold", no_argument, NULL, 'H' },
		{ "check", no_argument, NULL, 'n' },
		{ "quiet", no_argument, NULL, 'q' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	struct trace t = { 0 };
	struct tt_alloc_ctx *ctx = NULL;
	struct tt_alloc_info info;
	uint64_t crash_after = 0, nops = 0, bytes_alloc = 0, bytes_free = 0;
	int batch = 0, hold = 0, check = 0, crash = 0, c, ret, status = 1;
	unsigned long batch_size = 64;
	size_t i, first = 0, queued = 0;
	FILE *f;

	while ((c = getopt_long(argc, argv, "bc:HnqhV", lopts, NULL)) != -1) {
		switch (c) {
		case 'b':
			batch = 1;
			break;
		case 'B': {
			char *end;

			batch_size = strtoul(optarg, &end, 10);
			if (*end || !batch_size || batch_size > TT_ALLOC_BATCH_MAX) {
				fprintf(stderr, "%s: --batch-size must be 1-%d\n", prog, TT_ALLOC_BATCH_MAX);
				return 2;
			}
			batch = 1;
			break;
		}
		case 'c':
			if (parse_u64(optarg, &crash_after)) {
				fprintf(stderr, "%s: --crash-after needs a number of operations\n", prog);
				return 2;
			}
			crash = 1;
			break;
		case 'H':
			hold = 1;
			break;
		case 'n':
			check = 1;
			break;
		case 'q':
			quiet = 1;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("%s %s\n", prog, TT_ALLOC_VERSION);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc - 1) {
		usage(stderr);
		return 2;
	}

	t.name = argv[optind];
	if (!strcmp(t.name, "-")) {
		t.name = "<stdin>";
		f = stdin;
	} else {
		f = fopen(t.name, "r");
		if (!f) {
			fprintf(stderr, "%s: %s: %s\n", prog, t.name, strerror(errno));
			return 1;
		}
	}
	ret = parse_trace(&t, f);
	if (f != stdin)
		fclose(f);
	if (ret)
		goto out;
	if (check) {
		if (!quiet)
			printf("%s: %s: %zu operations OK (%zu allocs, %zu frees)\n",
			       prog, t.name, t.n, t.nalloc, t.nfree);
		status = 0;
		goto out;
	}

	ret = tt_alloc_open(&ctx);
	if (ret) {
		fprintf(stderr, "%s: %s\n", prog, tt_alloc_strerror(ret));
		goto out;
	}
	/*
	 * Replay flushes itself (before sleeps, at --batch-size, before
	 * --crash-after): no background flush, so a refused op is always
	 * found in the batch being flushed.
	 */
	tt_alloc_set_flush_delay(ctx, 0);
	tt_alloc_set_error_callback(ctx, on_refused, NULL);
	if (tt_alloc_enabled(ctx)) {
		ret = tt_alloc_get_info(ctx, &info);
		if (ret) {
			fprintf(stderr, "%s: TT_ALLOC_IOC_INFO: %s\n", prog, tt_alloc_strerror(ret));
			goto out;
		}
		/* Checked before anything is recorded. */
		for (i = 0; i < t.n; i++) {
			if (t.ops[i].op != OP_SLEEP && t.ops[i].device >= info.num_devices) {
				perr(&t, t.ops[i].line, "device %" PRIu32 " does not exist (tt_alloc tracks %" PRIu32 " device%s)",
				     t.ops[i].device, info.num_devices, info.num_devices == 1 ? "" : "s");
				goto out;
			}
		}
	} else if (!quiet) {
		fprintf(stderr, "%s: tracking is off (TT_ALLOC_TRACKING_ENABLED is not 1 or no device): nothing is recorded\n",
			prog);
	}

	for (i = 0; i <= t.n; i++) {
		const struct op *o = i < t.n ? &t.ops[i] : NULL;
		int need_flush = batch && queued &&
			(!o || o->op == OP_SLEEP || queued >= batch_size ||
			 (crash && nops == crash_after));

		if (need_flush) {
			uint32_t done = 0;

			ret = tt_alloc_flush(ctx, &done);
			if (ret) {
				/*
				 * The library applied the others: name the trace
				 * line of the first refused op, the first queued op
				 * since the last flush with its key.
				 */
				size_t k;

				(void)done;
				for (k = first; k < i; k++) {
					const struct op *q = &t.ops[k];

					if (q->op != OP_SLEEP &&
					    q->device == refused.op.buf.device &&
					    q->type == refused.op.buf.type &&
					    q->id == refused.op.buf.id &&
					    (q->op == OP_ALLOC) == (refused.op.op == TT_ALLOC_OP_ALLOC))
						break;
				}
				op_error(&t, &t.ops[k < i ? k : first], ret);
				goto out;
			}
			queued = 0;
		}
		if (crash && nops == crash_after) {
			fprintf(stderr, "%s: crashing on purpose after %" PRIu64 " operations (--crash-after), pid %ld\n",
				prog, nops, (long)getpid());
			fflush(NULL);
			abort();
		}
		if (!o)
			break;
		if (o->op == OP_SLEEP) {
			sleep_ms(o->size);
			continue;
		}
		if (!queued)
			first = i;
		if (batch) {
			ret = o->op == OP_ALLOC ?
				tt_alloc_queue_record(ctx, o->device, o->type, o->id, o->size, o->kind) :
				tt_alloc_queue_free(ctx, o->device, o->type, o->id);
			queued++;
		} else {
			ret = o->op == OP_ALLOC ?
				tt_alloc_record(ctx, o->device, o->type, o->id, o->size, o->kind) :
				tt_alloc_free(ctx, o->device, o->type, o->id);
		}
		if (ret) {
			op_error(&t, o, ret);
			goto out;
		}
		if (o->op == OP_ALLOC)
			bytes_alloc += o->size;
		else
			bytes_free += 1;
		nops++;
	}

	if (!quiet)
		printf("%s: %s: replayed %" PRIu64 " operations (%zu allocs, %zu frees)%s\n",
		       prog, t.name, nops, t.nalloc, t.nfree,
		       batch ? " in batches" : "");
	if (hold) {
		sigset_t set;
		int sig = 0;

		sigemptyset(&set);
		sigaddset(&set, SIGTERM);
		sigaddset(&set, SIGINT);
		sigprocmask(SIG_BLOCK, &set, NULL);
		printf("%s: holding allocations, pid %ld; send SIGTERM or SIGINT to exit\n",
		       prog, (long)getpid());
		fflush(stdout);
		sigwait(&set, &sig);
		if (!quiet)
			printf("%s: got signal %d, releasing\n", prog, sig);
	}
	status = 0;
out:
	ret = tt_alloc_close(ctx);
	if (ret && !status) {
		fprintf(stderr, "%s: final flush failed: %s\n", prog, tt_alloc_strerror(ret));
		status = 1;
	}
	free(t.ops);
	(void)bytes_alloc;
	(void)bytes_free;
	return status;
}
