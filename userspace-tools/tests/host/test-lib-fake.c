// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of libttalloc against a simulated kernel: what cannot be
 * provoked on demand with the real module (a newer or older API version,
 * -EINTR in the middle of a batch, a call-level error) and what is easier
 * to watch here (every BATCH call, the background flush, fork()). TAP.
 *
 * Test-only technique: this program defines ioctl() itself. libttalloc.a
 * is linked into it statically, so the library's ioctl() calls land here
 * instead of in the C library; TT_ALLOC_DEVICE=/dev/null gives the
 * library a descriptor to open. The simulation follows
 * Documentation/userspace-api/tt_alloc.rst: ALLOC of a held key with the
 * same size takes a reference, with another size is -EEXIST; FREE of a key
 * not held is -ENOENT; BATCH applies ops in order and stops at the first
 * failure with done set.
 */
#include <dirent.h>
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tt_alloc/libttalloc.h"
#include "../tap.h"

/* ---- the simulated kernel ------------------------------------------------ */

#define SLOTS	65536	/* open addressing; the tests hold at most ~10000 */

struct entry {
	int used;
	uint32_t device, type, kind, refs;
	uint64_t id, size;
};

static pthread_mutex_t fk_lock = PTHREAD_MUTEX_INITIALIZER;
static struct entry *table;
static unsigned int fk_api = TT_ALLOC_API_VERSION;
static uint64_t fk_features = TT_ALLOC_FEATURE_CLIENTS_CURSOR;
static int fk_batch_calls;	/* BATCH ioctls seen */
static int fk_eintr_after = -1;	/* next BATCH: apply this many, then -EINTR */
static int fk_call_errno;	/* next BATCH: fail before any op */

static struct entry *lookup(const struct tt_alloc_buffer *b, int create)
{
	uint64_t h = (b->id * 0x9e3779b97f4a7c15ULL) ^ ((uint64_t)b->device << 8) ^ b->type;
	size_t i = (size_t)(h % SLOTS), k;

	for (k = 0; k < SLOTS; k++, i = (i + 1) % SLOTS) {
		struct entry *e = &table[i];

		if (!e->used)
			return create ? e : NULL;
		if (e->device == b->device && e->type == b->type && e->id == b->id)
			return e;
	}
	return NULL;
}

static int fk_alloc(const struct tt_alloc_buffer *b)
{
	struct entry *e = lookup(b, 1);

	if (!b->size || b->type >= TT_ALLOC_MEM_COUNT)
		return -EINVAL;
	if (!e)
		return -ENOMEM;
	if (e->used) {
		if (e->size != b->size || e->kind != b->kind)
			return -EEXIST;
		e->refs++;
		return 0;
	}
	*e = (struct entry){ 1, b->device, b->type, b->kind, 1, b->id, b->size };
	return 0;
}

static int fk_free(const struct tt_alloc_buffer *b)
{
	struct entry *e = lookup(b, 0);

	if (!e)
		return -ENOENT;
	/* Tests never free in a way that needs tombstones: refs only. */
	if (e->refs)
		e->refs--;
	else
		return -ENOENT;
	return 0;
}

/* References held on (device 0, type, id); 0 when not recorded. */
static uint32_t held(uint32_t type, uint64_t id)
{
	struct tt_alloc_buffer b = { .device = 0, .type = type, .id = id };
	struct entry *e;
	uint32_t r;

	pthread_mutex_lock(&fk_lock);
	e = lookup(&b, 0);
	r = e ? e->refs : 0;
	pthread_mutex_unlock(&fk_lock);
	return r;
}

static int batch_calls(void)
{
	int v;

	pthread_mutex_lock(&fk_lock);
	v = fk_batch_calls;
	pthread_mutex_unlock(&fk_lock);
	return v;
}

static int fk_batch(struct tt_alloc_batch *batch)
{
	const struct tt_alloc_op *ops = (const struct tt_alloc_op *)(uintptr_t)batch->ops;
	uint32_t i;
	int ret = 0;

	fk_batch_calls++;
	batch->done = 0;
	/*
	 * The library's ops are the first ones: it passes 0, which every
	 * kernel reads, even one without TT_ALLOC_FEATURE_ELEM_SIZE (as by
	 * default here) that refuses anything else.
	 */
	if (batch->op_size)
		return -EINVAL;
	if (fk_call_errno) {
		ret = -fk_call_errno;
		fk_call_errno = 0;
		return ret;
	}
	for (i = 0; i < batch->count; i++) {
		if (fk_eintr_after >= 0 && i == (uint32_t)fk_eintr_after) {
			fk_eintr_after = -1;
			ret = -EINTR;
			break;
		}
		ret = ops[i].op == TT_ALLOC_OP_ALLOC ? fk_alloc(&ops[i].buf) :
		      ops[i].op == TT_ALLOC_OP_FREE ? fk_free(&ops[i].buf) : -EINVAL;
		if (ret)
			break;
	}
	batch->done = i;
	return ret;
}

/*
 * CLIENTS of FK_ROWS clients (ids 10.., pids 100.., one device-0 row
 * each): rows of the first size unless the library passes row_size, which
 * only a kernel with TT_ALLOC_FEATURE_ELEM_SIZE takes; the owner only with
 * TT_ALLOC_FEATURE_CLIENT_OWNER.
 */
#define FK_ROWS	3
static int fk_clients(struct tt_alloc_clients *c)
{
	size_t st = c->row_size ? c->row_size : TT_ALLOC_CLIENT_SIZE_VER0;
	uint32_t i, k = 0, n = 0;

	if (c->row_size && !(fk_features & TT_ALLOC_FEATURE_ELEM_SIZE))
		return -EINVAL;
	for (i = 0; i < FK_ROWS; i++) {
		struct tt_alloc_client r = { .client_id = 10 + i, .pid = 100 + i };

		if (c->after_id && r.client_id <= c->after_id)
			continue;
		n++;
		if (k == c->count)
			continue;
		r.used[TT_ALLOC_MEM_DRAM] = 4096 * (i + 1);
		if (fk_features & TT_ALLOC_FEATURE_CLIENT_OWNER) {
			r.uid = 1000 + i;
			r.cgroup_id = 77;
		}
		memcpy((char *)(uintptr_t)c->clients + k++ * st, &r,
		       st < sizeof(r) ? st : sizeof(r));
	}
	c->count = n;
	return 0;
}

int ioctl(int fd, unsigned long req, ...)
{
	va_list ap;
	void *arg;
	int ret = 0;

	va_start(ap, req);
	arg = va_arg(ap, void *);
	va_end(ap);
	if (fd <= 2)	/* not the library's: the C library's own business */
		return (int)syscall(SYS_ioctl, fd, req, arg);

	pthread_mutex_lock(&fk_lock);
	if (req == TT_ALLOC_IOC_INFO) {
		struct tt_alloc_info *info = arg;

		info->api_version = fk_api;
		info->num_devices = 2;
		info->num_mem_types = TT_ALLOC_MEM_COUNT;
		info->client_id = 1;
		info->features = fk_features;
	} else if (req == TT_ALLOC_IOC_ALLOC) {
		ret = fk_alloc(arg);
	} else if (req == TT_ALLOC_IOC_FREE) {
		ret = fk_free(arg);
	} else if (req == TT_ALLOC_IOC_BATCH) {
		ret = fk_batch(arg);
	} else if (req == TT_ALLOC_IOC_CLIENTS) {
		ret = fk_clients(arg);
	} else {
		ret = -ENOTTY;
	}
	pthread_mutex_unlock(&fk_lock);
	if (ret) {
		errno = -ret;
		return -1;
	}
	return 0;
}

/* ---- helpers --------------------------------------------------------------- */

static struct {
	int calls, level;
	char msg[512];
} logged;

static void log_cb(int level, const char *msg, void *arg)
{
	(void)arg;
	logged.calls++;
	logged.level = level;
	snprintf(logged.msg, sizeof(logged.msg), "%s", msg);
}

#define MAX_SEEN 8
static struct {
	int calls, flush_ret, queue_ret;
	uint64_t count_inside;
	uint64_t ids[MAX_SEEN];
	int errs[MAX_SEEN];
} seen;

static void err_cb(struct tt_alloc_ctx *ctx, const struct tt_alloc_op *op, int err, void *arg)
{
	(void)arg;
	if (seen.calls < MAX_SEEN) {
		seen.ids[seen.calls] = op->buf.id;
		seen.errs[seen.calls] = err;
	}
	seen.calls++;
	/* The queue lock is held here: these must refuse, not hang. */
	seen.flush_ret = tt_alloc_flush(ctx, NULL);
	seen.queue_ret = tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 0xdead, 1, 0);
	seen.count_inside = tt_alloc_error_count(ctx);
}

static struct tt_alloc_ctx *open_fake(void)
{
	struct tt_alloc_ctx *ctx = NULL;

	tt_alloc_open(&ctx);
	return ctx;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec t1;

	clock_gettime(CLOCK_MONOTONIC, &t1);
	return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

/* Wait (up to 20 s: the machine may be busy) until cond() holds. */
static int wait_for(int (*cond)(void))
{
	struct timespec nap = { 0, 2 * 1000 * 1000 };
	int i;

	for (i = 0; i < 10000 && !cond(); i++)
		nanosleep(&nap, NULL);
	return cond();
}

static int l1_7_held(void)
{
	return held(TT_ALLOC_MEM_L1, 7) == 1;
}

static int l1_9_held(void)
{
	return held(TT_ALLOC_MEM_L1, 9) == 1;
}

/* ---- the tests ----------------------------------------------------------------- */

static void test_versions(void)
{
	struct tt_alloc_ctx *ctx;

	tt_alloc_set_log_callback(log_cb, NULL);

	memset(&logged, 0, sizeof(logged));
	fk_api = TT_ALLOC_API_VERSION;
	fk_features = TT_ALLOC_LIB_FEATURES;
	ctx = open_fake();
	ok(tt_alloc_enabled(ctx) && tt_alloc_features(ctx) == TT_ALLOC_LIB_FEATURES &&
	   logged.calls == 0, "same API and features: tracking, no message");
	tt_alloc_close(ctx);

	memset(&logged, 0, sizeof(logged));
	fk_api = TT_ALLOC_API_VERSION + 1;
	fk_features = TT_ALLOC_FEATURE_CLIENTS_CURSOR | (1ULL << 40);
	ctx = open_fake();
	ok(tt_alloc_enabled(ctx), "newer API version with unknown feature bits: tracking");
	ok(tt_alloc_features(ctx) == TT_ALLOC_FEATURE_CLIENTS_CURSOR,
	   "newer kernel: only the features the library knows are used (0x%llx)",
	   (unsigned long long)tt_alloc_features(ctx));
	ok(tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 0x40, 64, 0) == 0 &&
	   held(TT_ALLOC_MEM_DRAM, 0x40) == 1 && tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x40) == 0,
	   "newer kernel: records reach it");
	ok(logged.calls == 1 && logged.level == TT_ALLOC_LOG_INFO && strstr(logged.msg, "API"),
	   "newer kernel: one info message to the log callback (%d: %s)", logged.calls, logged.msg);
	tt_alloc_close(ctx);

	memset(&logged, 0, sizeof(logged));
	fk_api = TT_ALLOC_API_VERSION - 1;
	fk_features = 0;
	ctx = open_fake();
	ok(ctx && !tt_alloc_enabled(ctx) && tt_alloc_record(ctx, 0, 0, 1, 1, 0) == 0 &&
	   held(0, 1) == 0, "older API version: no-op context, nothing recorded");
	ok(logged.calls == 1 && logged.level == TT_ALLOC_LOG_WARNING && strstr(logged.msg, "older"),
	   "older kernel: one warning to the log callback (%d: %s)", logged.calls, logged.msg);
	tt_alloc_close(ctx);

	memset(&logged, 0, sizeof(logged));
	ctx = NULL;
	ok(tt_alloc_open_ex(NULL, TT_ALLOC_OPEN_MONITOR, &ctx) == -EPROTO && !ctx &&
	   logged.calls == 0, "older kernel, monitor mode: -EPROTO, no message");

	fk_api = TT_ALLOC_API_VERSION;
	fk_features = TT_ALLOC_LIB_FEATURES;
	tt_alloc_set_log_callback(NULL, NULL);
}

static void test_batch_skips(void)
{
	struct tt_alloc_ctx *ctx = open_fake();
	uint32_t done = 0;
	int ret, calls0;

	memset(&seen, 0, sizeof(seen));
	tt_alloc_set_flush_delay(ctx, 0);
	ok(tt_alloc_error_count(ctx) == 0 && tt_alloc_last_error(ctx) == 0,
	   "a new context has no errors");
	ok(tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 2, 100, 0) == 0, "record id 2, 100 bytes");
	ok(tt_alloc_set_error_callback(ctx, err_cb, NULL) == 0, "set an error callback");
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 1, 100, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 2, 200, 0);	/* -EEXIST */
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 3, 100, 0);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_DRAM, 99);		/* -ENOENT */
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 4, 100, 0);
	calls0 = batch_calls();
	ret = tt_alloc_flush(ctx, &done);
	ok(ret == -EEXIST && done == 3, "flush: first failure's error, done 3 of 5 (%d, %u)", ret, done);
	ok(held(TT_ALLOC_MEM_DRAM, 1) == 1 && held(TT_ALLOC_MEM_DRAM, 3) == 1 &&
	   held(TT_ALLOC_MEM_DRAM, 4) == 1 && held(TT_ALLOC_MEM_DRAM, 2) == 1,
	   "every op that could be applied was, ops after a failure included");
	ok(batch_calls() - calls0 == 3, "the rest is resubmitted after each failure: 3 BATCH calls (%d)",
	   batch_calls() - calls0);
	ok(tt_alloc_error_count(ctx) == 2 && tt_alloc_last_error(ctx) == -ENOENT,
	   "error count 2, last error -ENOENT (%llu, %d)",
	   (unsigned long long)tt_alloc_error_count(ctx), tt_alloc_last_error(ctx));
	ok(seen.calls == 2 && seen.ids[0] == 2 && seen.errs[0] == -EEXIST &&
	   seen.ids[1] == 99 && seen.errs[1] == -ENOENT,
	   "callback once per failed op, with the op and its error");
	ok(seen.flush_ret == -EDEADLK && seen.queue_ret == -EDEADLK,
	   "queue functions called from the callback: -EDEADLK (%d, %d)", seen.flush_ret, seen.queue_ret);
	ok(seen.count_inside == 2, "the error count can be read from the callback");
	ok(tt_alloc_queued(ctx) == 0 && held(TT_ALLOC_MEM_L1, 0xdead) == 0,
	   "queue empty, the callback's refused op never queued");

	/* -EINTR between two ops: nothing skipped, nothing counted */
	fk_eintr_after = 2;
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 10, 8, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 11, 8, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 12, 8, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 13, 8, 0);
	ret = tt_alloc_flush(ctx, &done);
	ok(ret == 0 && done == 4 && held(TT_ALLOC_MEM_L1, 12) == 1 && held(TT_ALLOC_MEM_L1, 13) == 1 &&
	   held(TT_ALLOC_MEM_L1, 11) == 1 && tt_alloc_error_count(ctx) == 2,
	   "-EINTR after 2 ops: the rest resumed from there, all 4 applied once (%d, %u)", ret, done);

	/* an error about the call: every remaining op fails at once */
	fk_call_errno = EBADF;
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 20, 8, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 21, 8, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 22, 8, 0);
	calls0 = batch_calls();
	ret = tt_alloc_flush(ctx, &done);
	ok(ret == -EBADF && done == 0 && batch_calls() - calls0 == 1 &&
	   tt_alloc_error_count(ctx) == 5 && seen.calls == 5 && tt_alloc_queued(ctx) == 0,
	   "-EBADF (call-level): one BATCH call, all 3 ops counted failed (%d, %d calls, %llu)", ret,
	   batch_calls() - calls0, (unsigned long long)tt_alloc_error_count(ctx));

	/* automatic flush: the queue function reports the first failure */
	tt_alloc_set_batch_size(ctx, 2);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_L1, 1234);
	ret = tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 30, 8, 0);
	ok(ret == -ENOENT && held(TT_ALLOC_MEM_L1, 30) == 1 && tt_alloc_error_count(ctx) == 6,
	   "automatic flush: -ENOENT returned, the good op applied (%d)", ret);
	ok(tt_alloc_set_error_callback(ctx, NULL, NULL) == 0, "callback can be removed");
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_L1, 1235);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_L1, 1236);
	ok(seen.calls == 6 && tt_alloc_error_count(ctx) == 8, "without a callback errors are still counted");
	tt_alloc_close(ctx);
}

static void test_flush_delay(void)
{
	struct tt_alloc_ctx *ctx;
	struct timespec nap = { 0, 300 * 1000 * 1000 };
	struct timespec t0;
	long waited;
	int sent;

	unsetenv("TT_ALLOC_FLUSH_DELAY_MS");
	ctx = open_fake();
	ok(tt_alloc_flush_delay(ctx) == TT_ALLOC_FLUSH_DELAY_DEFAULT_MS && TT_ALLOC_FLUSH_DELAY_DEFAULT_MS == 100,
	   "default flush delay is 100 ms");
	ok(tt_alloc_set_flush_delay(ctx, TT_ALLOC_FLUSH_DELAY_MAX_MS + 1) == -EINVAL &&
	   tt_alloc_flush_delay(ctx) == 100, "flush delay above the maximum: -EINVAL, unchanged");
	ok(tt_alloc_set_flush_delay(ctx, 0) == 0 && tt_alloc_flush_delay(ctx) == 0, "flush delay 0: off");
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 7, 8, 0);
	nanosleep(&nap, NULL);
	ok(tt_alloc_queued(ctx) == 1 && held(TT_ALLOC_MEM_L1, 7) == 0,
	   "delay off: a queued op stays queued while idle");
	ok(tt_alloc_set_flush_delay(ctx, 20) == 0, "flush delay 20 ms");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	sent = wait_for(l1_7_held);
	ok(sent && tt_alloc_queued(ctx) == 0,
	   "delay set on a queue older than it: the op is sent at once");
	printf("# sent after %ld ms\n", ms_since(&t0));
	/*
	 * t0 before the op is queued: the flush cannot come before t0 + 20 ms
	 * whatever the load. No upper bound: that would depend on the load.
	 */
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 9, 8, 0);
	sent = wait_for(l1_9_held);
	waited = ms_since(&t0);
	ok(sent && tt_alloc_queued(ctx) == 0 && waited >= 20,
	   "idle runtime: the background flush sends a new op, not before the delay");
	printf("# sent after %ld ms (delay 20 ms)\n", waited);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 8, 8, 0);
	ok(tt_alloc_close(ctx) == 0 && held(TT_ALLOC_MEM_L1, 8) == 1,
	   "close stops the flusher and flushes what is left");

	setenv("TT_ALLOC_FLUSH_DELAY_MS", "250", 1);
	ctx = open_fake();
	ok(tt_alloc_flush_delay(ctx) == 250, "TT_ALLOC_FLUSH_DELAY_MS=250 sets the default");
	tt_alloc_close(ctx);
	setenv("TT_ALLOC_FLUSH_DELAY_MS", "0", 1);
	ctx = open_fake();
	ok(tt_alloc_flush_delay(ctx) == 0, "TT_ALLOC_FLUSH_DELAY_MS=0 turns it off");
	tt_alloc_close(ctx);
	setenv("TT_ALLOC_FLUSH_DELAY_MS", "10ms", 1);
	ctx = open_fake();
	ok(tt_alloc_flush_delay(ctx) == 100, "a malformed TT_ALLOC_FLUSH_DELAY_MS gives the default");
	tt_alloc_close(ctx);
	unsetenv("TT_ALLOC_FLUSH_DELAY_MS");
}

struct thr {
	struct tt_alloc_ctx *ctx;
	int idx, errors;
};

#define PER_THREAD 2000

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (tt_alloc_queue_record(t->ctx, 1, TT_ALLOC_MEM_CB,
					  ((uint64_t)t->idx << 32) | (uint64_t)i, 64, 0))
			t->errors++;
	return NULL;
}

static void test_threads(void)
{
	struct tt_alloc_ctx *ctx = open_fake();
	struct tt_alloc_buffer b = { .device = 1, .type = TT_ALLOC_MEM_CB };
	pthread_t th[4];
	struct thr td[4];
	int i, j, missing = 0, errors = 0;

	tt_alloc_set_batch_size(ctx, 100);
	tt_alloc_set_flush_delay(ctx, 1);	/* the flusher races the queuers */
	for (i = 0; i < 4; i++) {
		td[i] = (struct thr){ ctx, i + 1, 0 };
		pthread_create(&th[i], NULL, thr_fn, &td[i]);
	}
	for (i = 0; i < 4; i++) {
		pthread_join(th[i], NULL);
		errors += td[i].errors;
	}
	tt_alloc_close(ctx);
	pthread_mutex_lock(&fk_lock);
	for (i = 0; i < 4; i++)
		for (j = 0; j < PER_THREAD; j++) {
			struct entry *e;

			b.id = ((uint64_t)(i + 1) << 32) | (uint64_t)j;
			e = lookup(&b, 0);
			missing += !e || e->refs != 1;
		}
	pthread_mutex_unlock(&fk_lock);
	ok(!errors && !missing, "4 threads x %d queued ops with a 1 ms flusher: each applied once (%d missing)",
	   PER_THREAD, missing);
}

/*
 * Whether there are other threads and all of them are asleep, waiting up
 * to 10 s: a thread that sleeps has run past its start, sanitizer runtime
 * included.
 */
static int others_asleep(void)
{
	char path[64], buf[256], *st;
	struct dirent *d;
	int tries, busy, others, tid;
	DIR *dir;
	FILE *f;

	for (tries = 0; tries < 1000; tries++) {
		dir = opendir("/proc/self/task");
		busy = !dir;
		others = 0;
		while (dir && (d = readdir(dir))) {
			tid = atoi(d->d_name);
			if (tid <= 0 || tid == getpid())
				continue;
			others++;
			snprintf(path, sizeof(path), "/proc/self/task/%d/stat", tid);
			f = fopen(path, "r");
			st = f && fgets(buf, sizeof(buf), f) ? strrchr(buf, ')') : NULL;
			busy |= !st || strncmp(st, ") S", 3);
			if (f)
				fclose(f);
		}
		if (dir)
			closedir(dir);
		if (!busy && others)
			return 1;
		usleep(10000);
	}
	return 0;
}

static void test_fork(void)
{
	struct tt_alloc_ctx *ctx = open_fake();
	int status = -1, calls0;
	pid_t pid;

	/* A long delay: the flusher thread exists but does not fire. */
	tt_alloc_set_flush_delay(ctx, 3600 * 1000);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 1, 4096, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 2, 4096, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 3, 4096, 0);
	calls0 = batch_calls();
	/* As in a runtime, the flusher has long started when fork() runs. */
	ok(others_asleep(), "fork: the flusher thread has started and sleeps before fork()");
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		/* Exit status: a bit per broken promise. */
		int bad = 0;

		bad |= tt_alloc_enabled(ctx) ? 1 : 0;
		bad |= tt_alloc_fd(ctx) != -1 ? 2 : 0;
		bad |= tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 4, 4096, 0) ? 4 : 0;
		bad |= tt_alloc_queued(ctx) != 0 ? 8 : 0;
		bad |= tt_alloc_flush(ctx, NULL) ? 16 : 0;
		bad |= tt_alloc_close(ctx) ? 32 : 0;
		bad |= batch_calls() != calls0 ? 64 : 0;	/* the child's copy of the fake */
		free(table);
		/*
		 * Not exit(): GCC 12's LeakSanitizer keeps the parent's
		 * threads in the child's registry and would warn that the
		 * flusher "was not suspended". valgrind checks the child's
		 * leaks at _exit() too.
		 */
		_exit(bad);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "fork child: inherited context is a no-op, sends nothing, closes cleanly (status 0x%x)", status);
	ok(tt_alloc_enabled(ctx) && tt_alloc_queued(ctx) == 3 && held(TT_ALLOC_MEM_TRACE, 1) == 0,
	   "parent after fork: still tracking, its 3 ops still queued");
	ok(tt_alloc_flush(ctx, NULL) == 0 && held(TT_ALLOC_MEM_TRACE, 1) == 1 &&
	   held(TT_ALLOC_MEM_TRACE, 3) == 1 && held(TT_ALLOC_MEM_TRACE, 4) == 0,
	   "parent's flush applies its ops exactly once, none of the child's");
	tt_alloc_close(ctx);
}

/*
 * The rows are this header's whatever the kernel's: an older kernel's
 * (first size, no owner) widened with the uid unknown; a newer one's as
 * written.
 */
static void test_clients(void)
{
	static const uint64_t feats[2] = {
		TT_ALLOC_FEATURE_CLIENTS_CURSOR,
		TT_ALLOC_FEATURE_CLIENTS_CURSOR | TT_ALLOC_FEATURE_ELEM_SIZE |
			TT_ALLOC_FEATURE_CLIENT_OWNER,
	};
	struct tt_alloc_client *rows;
	struct tt_alloc_ctx *ctx;
	size_t count, i;
	int k, ret, good;

	for (k = 0; k < 2; k++) {
		fk_features = feats[k];
		ctx = open_fake();
		rows = NULL;
		count = 0;
		ret = tt_alloc_get_clients(ctx, &rows, &count);
		good = ret == 0 && count == FK_ROWS;
		for (i = 0; good && i < count; i++)
			good = rows[i].client_id == 10 + i && rows[i].pid == 100 + i &&
			       rows[i].used[TT_ALLOC_MEM_DRAM] == 4096 * (i + 1) &&
			       rows[i].uid == (k ? 1000 + i : TT_ALLOC_UID_UNKNOWN) &&
			       rows[i].cgroup_id == (k ? 77 : 0) && !rows[i].reserved2;
		ok(good, "clients from a kernel %s: %zu rows of %zu bytes, %s (%d)",
		   k ? "with the owner" : "of the first rows", count, sizeof(*rows),
		   k ? "uid and cgroup as written" : "widened, uid unknown, cgroup 0", ret);
		tt_alloc_clients_free(rows);
		tt_alloc_close(ctx);
	}
	fk_features = TT_ALLOC_FEATURE_CLIENTS_CURSOR;
}

int main(void)
{
	table = calloc(SLOTS, sizeof(*table));
	if (!table)
		return 1;
	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	setenv("TT_ALLOC_DEVICE", "/dev/null", 1);
	unsetenv("TT_ALLOC_BATCH_SIZE");
	unsetenv("TT_ALLOC_FLUSH_DELAY_MS");

	test_versions();
	test_batch_skips();
	test_flush_delay();
	test_threads();
	test_fork();
	test_clients();

	free(table);
	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
