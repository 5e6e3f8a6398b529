// SPDX-License-Identifier: GPL-2.0
/*
 * Concurrency: 8 worker threads on 4 files (and a dup of each) doing mixed
 * ALLOC/FREE/BATCH/USAGE/CLIENTS, while readers loop over every sysfs
 * file, fdinfo and debugfs allocations, the sweep runs every 1 ms, churn
 * threads dup a file, use the dup and close it (racing with read-only
 * ioctls on that very dup), open-record-close files of their own, and a
 * forker spawns children that record through an inherited file and exit
 * (left to the sweep). Lockdep is checked by the VM runner. At the end
 * every counter equals exactly what the threads say they hold, and the
 * reclaimed_* counters grew by exactly what the children and the churn
 * threads left behind.
 *
 *   rel_concurrency [-s seconds] [harness options]   (default 10)
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define CC_WORKERS	8
#define CC_FILES	4
#define CC_HOLD		256
#define CC_NDEV		4
#define CC_CHILD_ENTRIES 5
#define CC_CHILD_SIZE	100

static unsigned int seconds = 10;
static int cc_f[CC_FILES], cc_d[CC_FILES];
static volatile int cc_stop;

struct cc_entry {
	__u32 file, dev, type, kind, refs;
	__u64 id, size;
};

struct cc_worker {
	pthread_t th;
	unsigned int idx;
	__u64 seed, next_id;
	unsigned int n;
	struct cc_entry e[CC_HOLD];
	unsigned long ops, fails;
	int last_err;
	const char *last_op;
};

/* what the churn threads and children left for reclaim */
static __u64 cc_left_entries, cc_left_bytes;
static unsigned long cc_children, cc_churn_ops, cc_reads, cc_churn_fails;
static pthread_mutex_t cc_lock = PTHREAD_MUTEX_INITIALIZER;

static int cc_fd(struct cc_worker *w, unsigned int file)
{
	return rel_rand(&w->seed) & 1 ? cc_f[file] : cc_d[file];
}

static void cc_fail(struct cc_worker *w, const char *op, int err)
{
	w->fails++;
	w->last_err = err;
	w->last_op = op;
}

static void cc_new(struct cc_worker *w, struct cc_entry *e)
{
	__u64 r = rel_rand(&w->seed);

	e->file = r % CC_FILES;
	e->dev = (r >> 8) % CC_NDEV;
	e->type = (r >> 16) % TT_NTYPES;
	e->kind = e->type == TT_ALLOC_MEM_KERNEL ? (r >> 24) % 3 : 0;
	e->id = w->next_id++;
	e->size = 1 + (r >> 32) % 100000;
	e->refs = 1;
}

static void cc_drop(struct cc_worker *w, unsigned int i)
{
	w->e[i] = w->e[--w->n];
}

static void cc_step(struct cc_worker *w)
{
	__u64 r = rel_rand(&w->seed);
	unsigned int op = r % 10, i;
	struct cc_entry *e;
	int ret;

	if (w->n == CC_HOLD)
		op = 3;
	else if (!w->n && op >= 2 && op <= 4)
		op = 0;
	w->ops++;
	switch (op) {
	case 0: case 1: /* ALLOC new */
		e = &w->e[w->n];
		cc_new(w, e);
		ret = tt_alloc(cc_fd(w, e->file), e->dev, e->type, e->id, e->size, e->kind);
		if (ret)
			cc_fail(w, "ALLOC", ret);
		else
			w->n++;
		break;
	case 2: /* another reference */
		e = &w->e[(r >> 8) % w->n];
		ret = tt_alloc(cc_fd(w, e->file), e->dev, e->type, e->id, e->size, e->kind);
		if (ret)
			cc_fail(w, "ALLOC ref", ret);
		else
			e->refs++;
		break;
	case 3: case 4: /* FREE one reference */
		i = (r >> 8) % w->n;
		e = &w->e[i];
		ret = tt_free(cc_fd(w, e->file), e->dev, e->type, e->id);
		if (ret)
			cc_fail(w, "FREE", ret);
		else if (!--e->refs)
			cc_drop(w, i);
		break;
	case 5: case 6: { /* BATCH on one file: new entries, then frees */
		struct tt_alloc_op ops[16];
		struct cc_entry ne[8];
		unsigned int file = (r >> 8) % CC_FILES, k = 0, nn, nf = 0, j;
		unsigned int fi[8];
		__u32 done;

		nn = 1 + (r >> 16) % 8;
		if (w->n + nn > CC_HOLD)
			nn = 0;
		for (j = 0; j < nn; j++) {
			cc_new(w, &ne[j]);
			ne[j].file = file;
			ops[k++] = tt_op(TT_ALLOC_OP_ALLOC, ne[j].dev, ne[j].type,
					 ne[j].id, ne[j].size, ne[j].kind);
		}
		for (j = 0; j < w->n && nf < 8; j++) {
			e = &w->e[j];
			if (e->file != file || e->refs != 1 || ((r >> (24 + j % 32)) & 1))
				continue;
			fi[nf++] = j;
			ops[k++] = tt_op(TT_ALLOC_OP_FREE, e->dev, e->type, e->id, 0, 0);
		}
		ret = tt_batch(cc_fd(w, file), ops, k, &done);
		if (ret || done != k)
			cc_fail(w, "BATCH", ret ? ret : -EPROTO);
		for (j = 0; j < nn && j < done; j++)
			w->e[w->n++] = ne[j];
		/* frees: drop from the highest index down so indices stay valid */
		for (j = nf; j-- > 0;)
			if (nn + j < done)
				cc_drop(w, fi[j]);
		break;
	}
	case 7: case 8: { /* USAGE */
		struct tt_alloc_usage u;

		ret = tt_usage(cc_fd(w, (r >> 8) % CC_FILES), (r >> 16) % CC_NDEV,
			       (r >> 24) & 1, &u);
		if (ret)
			cc_fail(w, "USAGE", ret);
		break;
	}
	default: { /* CLIENTS */
		struct tt_alloc_client rows[16];
		__u32 n = (r >> 8) % 17;

		ret = tt_clients(cc_fd(w, (r >> 16) % CC_FILES), rows, &n);
		if (ret)
			cc_fail(w, "CLIENTS", ret);
		break;
	}
	}
}

static void *cc_worker_fn(void *arg)
{
	struct cc_worker *w = arg;

	while (!cc_stop)
		cc_step(w);
	return NULL;
}

/* Readers: every sysfs file, fdinfo of the shared files, debugfs. */
static char (*cc_paths)[128];
static unsigned int cc_npaths;

static void *cc_reader_fn(void *arg)
{
	char buf[4096];
	unsigned long n = 0;
	unsigned int i = (uintptr_t)arg;
	int fd;

	while (!cc_stop) {
		i = (i + 1) % cc_npaths;
		fd = open(cc_paths[i], O_RDONLY | O_CLOEXEC);
		if (fd >= 0) {
			while (read(fd, buf, sizeof(buf)) > 0)
				;
			close(fd);
		}
		n++;
	}
	pthread_mutex_lock(&cc_lock);
	cc_reads += n;
	pthread_mutex_unlock(&cc_lock);
	return NULL;
}

/* A dup that one churn thread closes while the other ioctls on it. */
static volatile int cc_slot = -1;

static void *cc_slot_user_fn(void *arg)
{
	struct tt_alloc_usage u;
	struct tt_alloc_info info;
	unsigned long bad = 0;
	int fd, r;

	(void)arg;
	while (!cc_stop) {
		fd = cc_slot;
		if (fd < 0)
			continue;
		r = tt_usage(fd, 0, TT_ALLOC_SCOPE_FILE, &u);
		if (r && r != -EBADF && r != -ENOTTY)
			bad++;
		r = tt_info(fd, &info);
		if (r && r != -EBADF && r != -ENOTTY)
			bad++;
	}
	pthread_mutex_lock(&cc_lock);
	cc_churn_fails += bad;
	pthread_mutex_unlock(&cc_lock);
	return NULL;
}

static void *cc_churn_fn(void *arg)
{
	__u64 seed = rel_seed() ^ (uintptr_t)arg, id = 0xc0000000000ULL + ((uintptr_t)arg << 32);
	__u64 left_e = 0, left_b = 0;
	unsigned long n = 0, bad = 0;
	bool slot_owner = (uintptr_t)arg == 0;
	int d, r;

	while (!cc_stop) {
		unsigned int k = rel_rand(&seed) % CC_FILES;

		d = dup(cc_f[k]);
		if (d < 0) {
			bad++;
			continue;
		}
		if (slot_owner)
			cc_slot = d;
		/* record through the dup, free through the original, and back */
		r = tt_alloc(d, 3, TT_ALLOC_MEM_TRACE, ++id, 77, 0);
		if (!r)
			r = tt_free(cc_f[k], 3, TT_ALLOC_MEM_TRACE, id);
		if (!r)
			r = tt_alloc(cc_f[k], 2, TT_ALLOC_MEM_SYSTEM, ++id, 5, 0);
		if (!r)
			r = tt_free(d, 2, TT_ALLOC_MEM_SYSTEM, id);
		if (r)
			bad++;
		if (slot_owner)
			cc_slot = -1;
		close(d);
		/* a file of its own, closed holding entries */
		if (!(n % 8)) {
			int f = tt_open();

			if (f < 0 || tt_alloc(f, 1, TT_ALLOC_MEM_CB, 1, 333, 0) ||
			    tt_alloc(f, 0, TT_ALLOC_MEM_KERNEL, 2, 444, TT_ALLOC_KERNEL_FABRIC)) {
				bad++;
			} else {
				left_e += 2;
				left_b += 777;
			}
			if (f >= 0)
				close(f);
		}
		n++;
	}
	pthread_mutex_lock(&cc_lock);
	cc_left_entries += left_e;
	cc_left_bytes += left_b;
	cc_churn_ops += n;
	cc_churn_fails += bad;
	pthread_mutex_unlock(&cc_lock);
	return NULL;
}

/* Children record through an inherited file and exit; the sweep reclaims. */
static void *cc_forker_fn(void *arg)
{
	unsigned long n = 0, bad = 0;
	__u64 base = 0xf000000000ULL;
	pid_t pid;
	int st;

	(void)arg;
	while (!cc_stop) {
		unsigned int k = n % CC_FILES;

		pid = fork();
		if (pid == 0) {
			int i, ok = 0;

			for (i = 0; i < CC_CHILD_ENTRIES; i++)
				ok += !tt_alloc(cc_f[k], i % CC_NDEV, TT_ALLOC_MEM_DRAM,
						base + n * 16 + i, CC_CHILD_SIZE, 0);
			_exit(ok);
		}
		if (pid < 0 || waitpid(pid, &st, 0) != pid || !WIFEXITED(st) ||
		    WEXITSTATUS(st) != CC_CHILD_ENTRIES)
			bad++;
		n++;
		rel_msleep(20);
	}
	pthread_mutex_lock(&cc_lock);
	cc_children += n;
	cc_left_entries += (__u64)n * CC_CHILD_ENTRIES;
	cc_left_bytes += (__u64)n * CC_CHILD_ENTRIES * CC_CHILD_SIZE;
	cc_churn_fails += bad;
	pthread_mutex_unlock(&cc_lock);
	return NULL;
}

FIXTURE(cc) {
	int obs;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
};

FIXTURE_SETUP(cc)
{
	self->obs = tt_open();
	ASSERT_LE(0, self->obs);
	self->ndev = tt_snapshot_all(_metadata, self->obs, self->base);
	ASSERT_LE(CC_NDEV, self->ndev);
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", "1"));
}

FIXTURE_TEARDOWN(cc)
{
	tt_param_write("sweep_interval_ms", "5000");
	close(self->obs);
}

static __u64 cc_fdinfo_val(int fd, unsigned int dev, unsigned int type)
{
	char path[64], buf[8192], key[64], *p;
	int n;

	snprintf(path, sizeof(path), "/proc/self/fdinfo/%d", fd);
	n = tt_read_str(path, buf, sizeof(buf));
	if (n < 0)
		return ~0ULL;
	snprintf(key, sizeof(key), "tt_alloc-total-dev%u-%s:\t", dev, tt_type_name[type]);
	p = strstr(buf, key);
	return p ? strtoull(p + strlen(key), NULL, 10) : 0;
}

TEST_F_TIMEOUT(cc, mixed_load_totals_exact, 900)
{
	static struct cc_worker w[CC_WORKERS];
	static struct tt_dev_state exp[TT_MAX_DEVS];
	static __u64 fused[CC_FILES][CC_NDEV][TT_ALLOC_MEM_MAX];
	static __u64 fallocs[CC_FILES][CC_NDEV][TT_ALLOC_MEM_MAX];
	pthread_t readers[2], churn[2], slot_user, forker;
	__u64 seed = rel_seed(), e0 = 0, b0 = 0, e1 = 0, b1 = 0, t0;
	unsigned long ops = 0;
	unsigned int i, j, k, d, t;
	long waited;

	ksft_print_msg("seed 0x%llx (TT_TEST_SEED)\n", (unsigned long long)seed);
	/* files and a dup of each */
	for (k = 0; k < CC_FILES; k++) {
		cc_f[k] = tt_open();
		ASSERT_LE(0, cc_f[k]);
		cc_d[k] = dup(cc_f[k]);
		ASSERT_LE(0, cc_d[k]);
	}
	/* reader paths */
	cc_paths = calloc(1024, sizeof(*cc_paths));
	ASSERT_NE(NULL, cc_paths);
	for (d = 0; d < self->ndev && cc_npaths < 1000; d++) {
		static const char *const dattr[] = { "arch", "clients", "reclaimed_bytes",
						     "reclaimed_allocations" };
		static const char *const tattr[] = { "used_bytes", "allocations",
						     "peak_bytes", "capacity_bytes" };

		for (i = 0; i < 4; i++)
			tt_attr_path(cc_paths[cc_npaths++], 128, d, -1, dattr[i]);
		for (t = 0; t < TT_NTYPES; t++)
			for (i = 0; i < 4; i++)
				tt_attr_path(cc_paths[cc_npaths++], 128, d, t, tattr[i]);
		tt_attr_path(cc_paths[cc_npaths++], 128, d, TT_ALLOC_MEM_KERNEL, "system_bytes");
	}
	for (k = 0; k < CC_FILES; k++) {
		snprintf(cc_paths[cc_npaths++], 128, "/proc/self/fdinfo/%d", cc_f[k]);
		snprintf(cc_paths[cc_npaths++], 128, REL_DBG_ALLOCS);
	}
	for (d = 0; d < self->ndev; d++) {
		e0 += self->base[d].reclaimed_allocs;
		b0 += self->base[d].reclaimed_bytes;
	}

	cc_stop = 0;
	for (i = 0; i < CC_WORKERS; i++) {
		w[i].idx = i;
		w[i].seed = seed ^ ((__u64)(i + 1) << 56);
		w[i].next_id = (__u64)(i + 1) << 44;
		ASSERT_EQ(0, pthread_create(&w[i].th, NULL, cc_worker_fn, &w[i]));
	}
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, pthread_create(&readers[i], NULL, cc_reader_fn,
					    (void *)(uintptr_t)(i * 97)));
		ASSERT_EQ(0, pthread_create(&churn[i], NULL, cc_churn_fn, (void *)(uintptr_t)i));
	}
	ASSERT_EQ(0, pthread_create(&slot_user, NULL, cc_slot_user_fn, NULL));
	ASSERT_EQ(0, pthread_create(&forker, NULL, cc_forker_fn, NULL));
	sleep(seconds);
	cc_stop = 1;
	for (i = 0; i < CC_WORKERS; i++) {
		pthread_join(w[i].th, NULL);
		ops += w[i].ops;
		EXPECT_EQ(0, w[i].fails)
			TH_LOG("worker %u: %lu failed calls, last %s: %s", i, w[i].fails,
			       w[i].last_op, strerror(-w[i].last_err));
	}
	for (i = 0; i < 2; i++) {
		pthread_join(readers[i], NULL);
		pthread_join(churn[i], NULL);
	}
	pthread_join(slot_user, NULL);
	pthread_join(forker, NULL);
	EXPECT_EQ(0, cc_churn_fails);
	ksft_print_msg("%us: %lu worker ioctls, %lu churn rounds, %lu children, %lu reads\n",
		       seconds, ops, cc_churn_ops, cc_children, cc_reads);

	/* expected: baseline + what the workers hold */
	memcpy(exp, self->base, sizeof(exp));
	for (i = 0; i < CC_WORKERS; i++)
		for (j = 0; j < w[i].n; j++) {
			struct cc_entry *e = &w[i].e[j];

			exp[e->dev].used[e->type] += e->size;
			exp[e->dev].s_used[e->type] += e->size;
			exp[e->dev].allocs[e->type]++;
			exp[e->dev].s_allocs[e->type]++;
			if (e->type == TT_ALLOC_MEM_KERNEL && e->kind)
				exp[e->dev].system_bytes += e->size;
			fused[e->file][e->dev][e->type] += e->size;
			fallocs[e->file][e->dev][e->type]++;
		}
	for (d = 0; d < CC_NDEV; d++)
		for (k = 0; k < CC_FILES; k++)
			if (tt_sum(fallocs[k][d]))
				exp[d].clients++;
	/* the last children's entries go with the next sweeps */
	t0 = tt_now_ms();
	while (!rel_devs_eq(self->obs, self->ndev, exp) && tt_now_ms() - t0 < 5000)
		rel_msleep(5);
	waited = tt_now_ms() - t0;
	ksft_print_msg("settled %ld ms after the stop\n", waited);
	rel_assert_devs_eq(_metadata, self->obs, exp);
	for (k = 0; k < CC_FILES; k++)
		for (d = 0; d < CC_NDEV; d++) {
			struct tt_alloc_usage u;

			ASSERT_EQ(0, tt_usage(cc_f[k], d, TT_ALLOC_SCOPE_FILE, &u));
			for (t = 0; t < TT_NTYPES; t++) {
				EXPECT_EQ(fused[k][d][t], u.used[t])
					TH_LOG("file %u dev %u type %u: file-scope used", k, d, t);
				EXPECT_EQ(fallocs[k][d][t], u.allocations[t]);
				EXPECT_EQ(fallocs[k][d][t] ? fused[k][d][t] : 0,
					  cc_fdinfo_val(cc_f[k], d, t))
					TH_LOG("file %u dev %u type %u: fdinfo", k, d, t);
			}
		}
	for (d = 0; d < self->ndev; d++) {
		__u64 v;

		ASSERT_EQ(0, read_sysfs_u64(d, -1, "reclaimed_allocations", &v));
		e1 += v;
		ASSERT_EQ(0, read_sysfs_u64(d, -1, "reclaimed_bytes", &v));
		b1 += v;
	}
	EXPECT_EQ(cc_left_entries, e1 - e0) TH_LOG("reclaimed entries: the sweep took a live thread's entries?");
	EXPECT_EQ(cc_left_bytes, b1 - b0);

	/* free everything the workers hold, then close */
	for (i = 0; i < CC_WORKERS; i++)
		for (j = 0; j < w[i].n; j++) {
			struct cc_entry *e = &w[i].e[j];

			while (e->refs--)
				ASSERT_EQ(0, tt_free(cc_f[e->file], e->dev, e->type, e->id));
		}
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	for (k = 0; k < CC_FILES; k++) {
		close(cc_f[k]);
		close(cc_d[k]);
	}
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	free(cc_paths);
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-s")) {
		seconds = strtoul(argv[2], NULL, 0);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	return test_harness_run(argc, argv);
}
