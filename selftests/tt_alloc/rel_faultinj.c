// SPDX-License-Identifier: GPL-2.0
/*
 * Fault injection (debug kernel: CONFIG_FAILSLAB + fail-nth). For open(),
 * ALLOC (new entry with a new recorder, new entry of a known recorder,
 * growth of the hash table, another reference), BATCH and CLIENTS: fail
 * the 1st, 2nd, ... slab allocation of the call until the call succeeds
 * without the fault having been used. A failed call returns ENOMEM and
 * leaves nothing half-recorded: USAGE (both scopes), sysfs, debugfs and
 * the client list show exactly the state before (BATCH: exactly the ops
 * reported done).
 *
 * Knobs (Documentation/fault-injection/fault-injection.rst): failslab
 * ignore-gfp-wait=N so that GFP_KERNEL allocations can fail, verbose=0
 * (no stack dump on the console), probability stays 0 so only fail-nth
 * injects; /proc/thread-self/fail-nth: write N, the N-th fault site the
 * task passes fails; reads back 0 once injected, non-zero if not reached.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define FAILSLAB	"/sys/kernel/debug/failslab"
#define MAX_N		5000

static int fi_fd = -1;

static void fi_arm(int n)
{
	char b[16];
	int l = snprintf(b, sizeof(b), "%d", n);

	if (pwrite(fi_fd, b, l, 0) != l)
		abort();
}

/* Reads back fail-nth (0: the fault was injected) and disarms. */
static int fi_left(void)
{
	char b[16] = { 0 };
	int v;

	if (pread(fi_fd, b, sizeof(b) - 1, 0) < 0)
		abort();
	v = atoi(b);
	if (pwrite(fi_fd, "0", 1, 0) != 1)
		abort();
	return v;
}

FIXTURE(fi) {
	int obs;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
	char saved_gfp_wait[8];
	bool armed;
};

FIXTURE_SETUP(fi)
{
	self->armed = false;
	self->obs = -1;
	if (access(FAILSLAB "/ignore-gfp-wait", W_OK) ||
	    access("/proc/thread-self/fail-nth", W_OK))
		SKIP(return, "failslab / fail-nth not available on this kernel");
	ASSERT_LT(0, tt_read_str(FAILSLAB "/ignore-gfp-wait", self->saved_gfp_wait,
				 sizeof(self->saved_gfp_wait)));
	ASSERT_EQ(0, tt_write_str(FAILSLAB "/verbose", "0"));
	ASSERT_EQ(0, tt_write_str(FAILSLAB "/ignore-gfp-wait", "N"));
	self->armed = true;
	fi_fd = open("/proc/thread-self/fail-nth", O_RDWR | O_CLOEXEC);
	ASSERT_LE(0, fi_fd);
	self->obs = tt_open();
	ASSERT_LE(0, self->obs);
	self->ndev = tt_snapshot_all(_metadata, self->obs, self->base);
}

FIXTURE_TEARDOWN(fi)
{
	if (self->armed) {
		self->saved_gfp_wait[strcspn(self->saved_gfp_wait, "\n")] = 0;
		tt_write_str(FAILSLAB "/ignore-gfp-wait", self->saved_gfp_wait);
	}
	if (fi_fd >= 0)
		close(fi_fd);
	if (self->obs >= 0)
		close(self->obs);
}

static __u32 fi_nclients(struct __test_metadata *_metadata, int fd)
{
	__u32 n = 0;

	EXPECT_EQ(0, tt_clients(fd, NULL, &n));
	return n;
}

static __u64 fi_client_id(struct __test_metadata *_metadata, int fd)
{
	struct tt_alloc_info info;

	EXPECT_EQ(0, tt_info(fd, &info));
	return info.client_id;
}

TEST_F_TIMEOUT(fi, open, 300)
{
	__u32 nc0 = fi_nclients(_metadata, self->obs);
	int n, fd, err, left, enomem = 0;

	for (n = 1; n < MAX_N; n++) {
		fi_arm(n);
		fd = open(TT_DEV_PATH, O_RDWR | O_CLOEXEC);
		err = errno;
		left = fi_left();
		if (fd < 0) {
			ASSERT_EQ(ENOMEM, err) TH_LOG("n=%d: open failed with %s", n, strerror(err));
			enomem++;
		} else {
			EXPECT_EQ(nc0 + 1, fi_nclients(_metadata, fd));
			close(fd);
		}
		EXPECT_EQ(nc0, fi_nclients(_metadata, self->obs)) TH_LOG("n=%d", n);
		rel_assert_devs_eq(_metadata, self->obs, self->base);
		if (fd >= 0 && left)
			break;
	}
	ASSERT_LT(n, MAX_N);
	ksft_print_msg("open: %d fault sites, %d failed with ENOMEM\n", n - 1, enomem);
}

/*
 * ALLOC under fault. prep entries are recorded first (ids 1..prep) on
 * device 2; then ALLOC of id (new when id > prep, a reference otherwise).
 */
static void fi_alloc(struct __test_metadata *_metadata, FIXTURE_DATA(fi) *self,
		     unsigned int prep, __u64 id, const char *what)
{
	struct tt_dev_state s1[TT_MAX_DEVS], s2[TT_MAX_DEVS];
	int n, fd, ret, left, enomem = 0, absorbed = 0;
	bool ref = id <= prep;
	unsigned int i;

	for (n = 1; n < MAX_N; n++) {
		__u64 cid;
		__u32 refs = 0;
		long ents;

		fd = tt_open();
		ASSERT_LE(0, fd);
		cid = fi_client_id(_metadata, fd);
		for (i = 1; i <= prep; i++)
			ASSERT_EQ(0, tt_alloc(fd, 2, TT_ALLOC_MEM_L1, i, 64 * i, 0));
		tt_snapshot_all(_metadata, fd, s1);

		fi_arm(n);
		ret = tt_alloc(fd, 2, TT_ALLOC_MEM_L1, id, 64 * id, 0);
		left = fi_left();

		tt_snapshot_all(_metadata, fd, s2);
		ents = rel_dbg_entries(cid, &refs, id);
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret) TH_LOG("n=%d: %s", n, strerror(-ret));
			enomem++;
			/* Nothing half-recorded: file scope too. */
			for (i = 0; i < self->ndev; i++)
				tt_assert_state_eq(_metadata, i, &s1[i], &s2[i]);
			if (ents >= 0) {
				EXPECT_EQ(prep, ents);
				EXPECT_EQ(ref ? 1 : 0, refs);
			}
		} else {
			if (!left)
				absorbed++;
			tt_state_add(&s1[2], TT_ALLOC_MEM_L1, ref ? 0 : 64 * id,
				     ref ? 0 : 1, true);
			for (i = 0; i < self->ndev; i++)
				tt_assert_state_eq(_metadata, i, &s1[i], &s2[i]);
			if (ents >= 0) {
				EXPECT_EQ(prep + (ref ? 0 : 1), ents);
				EXPECT_EQ(ref ? 2 : 1, refs);
			}
		}
		close(fd);
		rel_assert_devs_eq(_metadata, self->obs, self->base);
		if (_metadata->exit_code)
			TH_LOG("%s: n=%d ret=%d", what, n, ret);
		ASSERT_EQ(0, _metadata->exit_code);
		if (!ret && left)
			break;
	}
	ASSERT_LT(n, MAX_N);
	ksft_print_msg("%s: %d fault sites, %d ENOMEM, %d absorbed\n", what, n - 1,
		       enomem, absorbed);
}

TEST_F_TIMEOUT(fi, alloc_new_entry_new_recorder, 300)
{
	fi_alloc(_metadata, self, 0, 1, "ALLOC, new recorder");
}

TEST_F_TIMEOUT(fi, alloc_new_entry_known_recorder, 300)
{
	fi_alloc(_metadata, self, 3, 4, "ALLOC, known recorder");
}

/* The 16th entry grows the 16-bucket table: a failed growth is absorbed. */
TEST_F_TIMEOUT(fi, alloc_new_entry_table_growth, 300)
{
	fi_alloc(_metadata, self, 15, 16, "ALLOC, table growth");
}

TEST_F_TIMEOUT(fi, alloc_reference_of_existing, 300)
{
	fi_alloc(_metadata, self, 3, 2, "ALLOC, reference");
}

/* ---- BATCH ---- */

#define FI_PREP		10
#define FI_NOPS		150	/* more than one 128-op chunk */

struct fi_key {
	__u32 dev, type;
	__u64 id, size;
	__u32 kind, refs;
};

static struct tt_alloc_op fi_ops[FI_NOPS];

static void fi_build_ops(void)
{
	unsigned int i;

	for (i = 0; i < FI_NOPS; i++) {
		__u32 type = i % TT_NTYPES;

		if (i % 20 == 5)	/* FREE of a prepared entry */
			fi_ops[i] = tt_op(TT_ALLOC_OP_FREE, 0, TT_ALLOC_MEM_DRAM,
					  (i / 20) % FI_PREP, 0, 0);
		else if (i % 20 == 7)	/* reference of a prepared entry */
			fi_ops[i] = tt_op(TT_ALLOC_OP_ALLOC, 0, TT_ALLOC_MEM_DRAM,
					  (i / 20) % FI_PREP, 1000, 0);
		else
			fi_ops[i] = tt_op(TT_ALLOC_OP_ALLOC, i % 4, type, 100 + i,
					  100 + i, type == TT_ALLOC_MEM_KERNEL ? i % 3 : 0);
	}
}

/* Model: prepared entries plus the first done ops, as file-scope usage. */
static void fi_model(__u32 done, __u64 used[][TT_ALLOC_MEM_MAX],
		     __u64 allocs[][TT_ALLOC_MEM_MAX], long *entries)
{
	static __u32 refs[FI_PREP];
	unsigned int i;

	memset(used, 0, sizeof(__u64) * 4 * TT_ALLOC_MEM_MAX);
	memset(allocs, 0, sizeof(__u64) * 4 * TT_ALLOC_MEM_MAX);
	*entries = FI_PREP;
	for (i = 0; i < FI_PREP; i++)
		refs[i] = 1;
	used[0][TT_ALLOC_MEM_DRAM] = FI_PREP * 1000;
	allocs[0][TT_ALLOC_MEM_DRAM] = FI_PREP;
	for (i = 0; i < done; i++) {
		const struct tt_alloc_buffer *b = &fi_ops[i].buf;

		if (i % 20 == 5) {
			if (!--refs[b->id]) {
				used[0][TT_ALLOC_MEM_DRAM] -= 1000;
				allocs[0][TT_ALLOC_MEM_DRAM]--;
				(*entries)--;
			}
		} else if (i % 20 == 7) {
			if (!refs[b->id]++) {
				used[0][TT_ALLOC_MEM_DRAM] += 1000;
				allocs[0][TT_ALLOC_MEM_DRAM]++;
				(*entries)++;
			}
		} else {
			used[b->device][b->type] += b->size;
			allocs[b->device][b->type]++;
			(*entries)++;
		}
	}
}

TEST_F_TIMEOUT(fi, batch, 600)
{
	__u64 used[4][TT_ALLOC_MEM_MAX], allocs[4][TT_ALLOC_MEM_MAX];
	int n, fd, ret, left, enomem = 0, absorbed = 0;
	unsigned int i, t;

	struct rel_fast fast;

	ASSERT_EQ(0, rel_fast_open(&fast, self->ndev));
	fi_build_ops();
	for (n = 1; n < MAX_N; n++) {
		struct tt_alloc_usage u;
		__u32 done = 0;
		long ents, exp_ents;
		__u64 cid;

		fd = tt_open();
		ASSERT_LE(0, fd);
		cid = fi_client_id(_metadata, fd);
		for (i = 0; i < FI_PREP; i++)
			ASSERT_EQ(0, tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, i, 1000, 0));

		fi_arm(n);
		ret = tt_batch(fd, fi_ops, FI_NOPS, &done);
		left = fi_left();

		if (ret) {
			ASSERT_EQ(-ENOMEM, ret) TH_LOG("n=%d: %s", n, strerror(-ret));
			ASSERT_GT(FI_NOPS, done) TH_LOG("n=%d", n);
			enomem++;
		} else {
			ASSERT_EQ(FI_NOPS, done);
			if (!left)
				absorbed++;
		}
		fi_model(done, used, allocs, &exp_ents);
		for (i = 0; i < 4; i++) {
			ASSERT_EQ(0, tt_usage(fd, i, TT_ALLOC_SCOPE_FILE, &u));
			for (t = 0; t < TT_NTYPES; t++) {
				EXPECT_EQ(used[i][t], u.used[t])
					TH_LOG("n=%d done=%u dev %u type %u used", n, done, i, t);
				EXPECT_EQ(allocs[i][t], u.allocations[t])
					TH_LOG("n=%d done=%u dev %u type %u allocations", n, done, i, t);
			}
			ASSERT_EQ(0, tt_usage(fd, i, TT_ALLOC_SCOPE_DEVICE, &u));
			for (t = 0; t < TT_NTYPES; t++) {
				EXPECT_EQ(self->base[i].used[t] + used[i][t], u.used[t]);
				EXPECT_EQ(self->base[i].allocs[t] + allocs[i][t],
					  u.allocations[t]);
			}
		}
		ents = rel_dbg_entries(cid, NULL, 0);
		if (ents >= 0)
			EXPECT_EQ(exp_ents, ents) TH_LOG("n=%d: debugfs entries", n);
		close(fd);
		/* every counter every 16th step, USAGE + clients always */
		EXPECT_EQ(-1, rel_fast_diff(&fast, self->obs, self->base));
		if (n % 16 == 0)
			rel_assert_devs_eq(_metadata, self->obs, self->base);
		ASSERT_EQ(0, _metadata->exit_code) TH_LOG("n=%d ret=%d done=%u", n, ret, done);
		if (!ret && left)
			break;
	}
	ASSERT_LT(n, MAX_N);
	rel_fast_close(&fast);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	ksft_print_msg("BATCH of %d: %d fault sites, %d ENOMEM, %d absorbed\n",
		       FI_NOPS, n - 1, enomem, absorbed);
}

TEST_F_TIMEOUT(fi, clients, 300)
{
	static struct tt_alloc_client rows[64];
	int n, ret, left, enomem = 0, fds[3], i;
	__u32 count, exp;

	for (i = 0; i < 3; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, tt_alloc(fds[i], i, TT_ALLOC_MEM_CB, 1, 10, 0));
	}
	exp = fi_nclients(_metadata, self->obs);
	memset(rows, 0, sizeof(rows));
	for (n = 1; n < MAX_N; n++) {
		count = TT_ARRAY_SIZE(rows);
		fi_arm(n);
		ret = tt_clients(self->obs, rows, &count);
		left = fi_left();
		if (ret) {
			ASSERT_EQ(-ENOMEM, ret) TH_LOG("n=%d: %s", n, strerror(-ret));
			EXPECT_EQ(TT_ARRAY_SIZE(rows), count);
			enomem++;
		} else {
			EXPECT_EQ(exp, count);
		}
		if (!ret && left)
			break;
	}
	ASSERT_LT(n, MAX_N);
	for (i = 0; i < 3; i++)
		close(fds[i]);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	ksft_print_msg("CLIENTS: %d fault sites, %d ENOMEM\n", n - 1, enomem);
}

TEST_F_TIMEOUT(fi, no_leak_after_faults, 120)
{
	if (!rel_have_kmemleak())
		SKIP(return, "kmemleak not available");
	ASSERT_EQ(0, rel_kmemleak_tt());
}

TEST_HARNESS_MAIN
