// SPDX-License-Identifier: GPL-2.0
/*
 * Limits: max_allocations_per_file answers EDQUOT exactly at the cap
 * (single ALLOC and BATCH, references still allowed, other files not
 * affected), references forked children add count against it,
 * max_allocations_per_user bounds one user's files together, BATCH
 * above TT_ALLOC_BATCH_MAX is E2BIG, and the kernel
 * memory one entry costs (slab growth over 100k entries of one file),
 * printed as a TAP comment.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define CAP		1000
#define SLAB_ENTRIES	100000

FIXTURE(lim) {
	int obs;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
};

FIXTURE_SETUP(lim)
{
	self->obs = tt_open();
	ASSERT_LE(0, self->obs);
	self->ndev = tt_snapshot_all(_metadata, self->obs, self->base);
}

FIXTURE_TEARDOWN(lim)
{
	tt_param_write("max_allocations_per_file", "1048576");
	tt_param_write("max_allocations_per_user", "4194304");
	close(self->obs);
}

/* n ALLOC ops, ids first..first+n-1, on device dev, via BATCH chunks. */
static struct tt_alloc_op ops[TT_ALLOC_BATCH_MAX];

static int lim_fill(int fd, __u32 dev, __u64 first, __u32 n, __u32 *done_total)
{
	__u32 i, k, done;
	int r;

	*done_total = 0;
	for (i = 0; i < n; i += k) {
		k = n - i > TT_ALLOC_BATCH_MAX ? TT_ALLOC_BATCH_MAX : n - i;
		for (__u32 j = 0; j < k; j++)
			ops[j] = tt_op(TT_ALLOC_OP_ALLOC, dev, TT_ALLOC_MEM_L1,
				       first + i + j, 64, 0);
		done = 0;
		r = tt_batch(fd, ops, k, &done);
		*done_total += done;
		if (r)
			return r;
	}
	return 0;
}

TEST_F_TIMEOUT(lim, edquot_exactly_at_cap, 120)
{
	struct tt_alloc_op ops[3];
	struct tt_alloc_usage u;
	__u32 done;
	int fd, fd2;

	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", "1000"));
	fd = tt_open();
	ASSERT_LE(0, fd);
	/* CAP-1 by BATCH, the CAP-th single: all accepted */
	ASSERT_EQ(0, lim_fill(fd, 1, 0, CAP - 1, &done));
	ASSERT_EQ(CAP - 1, done);
	ASSERT_EQ(0, tt_alloc(fd, 5, TT_ALLOC_MEM_KERNEL, 7, 10, TT_ALLOC_KERNEL_FABRIC));
	/* CAP+1-th: EDQUOT, on any device and type */
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP + 5, 64, 0));
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	/* a reference of a held entry is not a new entry */
	EXPECT_EQ(0, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, 3, 64, 0));
	/* BATCH: ref, then new -> done 1, EDQUOT */
	ops[0] = tt_op(TT_ALLOC_OP_ALLOC, 1, TT_ALLOC_MEM_L1, 4, 64, 0);
	ops[1] = tt_op(TT_ALLOC_OP_ALLOC, 1, TT_ALLOC_MEM_L1, CAP + 6, 64, 0);
	ops[2] = tt_op(TT_ALLOC_OP_FREE, 1, TT_ALLOC_MEM_L1, 4, 0, 0);
	EXPECT_EQ(-EDQUOT, tt_batch(fd, ops, 3, &done));
	EXPECT_EQ(1, done);
	ASSERT_EQ(0, tt_usage(fd, 1, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(CAP - 1, u.allocations[TT_ALLOC_MEM_L1]);
	EXPECT_EQ((CAP - 1) * 64ULL, u.used[TT_ALLOC_MEM_L1]);
	/* free one entry (both refs of id 3): room for exactly one */
	ASSERT_EQ(0, tt_free(fd, 1, TT_ALLOC_MEM_L1, 3));
	ASSERT_EQ(0, tt_free(fd, 1, TT_ALLOC_MEM_L1, 3));
	EXPECT_EQ(0, tt_alloc(fd, 2, TT_ALLOC_MEM_CB, 3, 64, 0));
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 2, TT_ALLOC_MEM_CB, 4, 64, 0));
	/* per file: another file is not affected */
	fd2 = tt_open();
	ASSERT_LE(0, fd2);
	EXPECT_EQ(0, tt_alloc(fd2, 1, TT_ALLOC_MEM_L1, CAP + 5, 64, 0));
	/* lowering the cap below the use: no new entry, nothing dropped */
	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", "10"));
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP + 7, 64, 0));
	ASSERT_EQ(0, tt_usage(fd, 1, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(CAP - 2, u.allocations[TT_ALLOC_MEM_L1]);
	close(fd2);
	close(fd);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

/*
 * In a forked child: re-ALLOC ids first..first+n-1 of a file filled by
 * lim_fill(), then one of them again; exit status = 0 if exactly @ok of
 * them were accepted, the others EDQUOT, and the repeat was accepted.
 */
static int lim_child_realloc(int fd, __u64 first, __u32 n, __u32 ok)
{
	__u32 accepted = 0, i;
	int r;

	for (i = 0; i < n; i++) {
		r = tt_alloc(fd, 1, TT_ALLOC_MEM_L1, first + i, 64, 0);
		if (!r)
			accepted++;
		else if (r != -EDQUOT)
			return 2;
	}
	if (accepted != ok)
		return 1;
	/* a process that holds a reference only counts up */
	if (ok && tt_alloc(fd, 1, TT_ALLOC_MEM_L1, first, 64, 0))
		return 3;
	return 0;
}

static int lim_fork(int fd, __u64 first, __u32 n, __u32 ok)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return -1;
	if (!pid)
		_exit(lim_child_realloc(fd, first, n, ok));
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status))
		return -1;
	return WEXITSTATUS(status);
}

/* Children re-ALLOCing a full file's keys: EDQUOT, not a reference each. */
TEST_F_TIMEOUT(lim, forked_children_count, 120)
{
	__u32 done;
	int fd, i;

	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", "1000"));
	fd = tt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, lim_fill(fd, 1, 0, CAP, &done));
	ASSERT_EQ(CAP, done);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, lim_fork(fd, 0, CAP, 0));
	/* room for 10 more: another process's 100 re-ALLOCs take 10 */
	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", "1010"));
	EXPECT_EQ(0, lim_fork(fd, 0, 100, 10));
	/* the child's exit gave its 10 back, and so did the next one's */
	EXPECT_EQ(0, lim_fork(fd, 500, 100, 10));
	for (i = 0; i < 10; i++)
		EXPECT_EQ(0, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP + i, 64, 0));
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP + 10, 64, 0));
	close(fd);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

/* One user's files together stop at max_allocations_per_user. */
TEST_F_TIMEOUT(lim, user_cap, 120)
{
	__u32 done;
	int fd, fd2;

	ASSERT_EQ(0, tt_param_write("max_allocations_per_user", "1500"));
	fd = tt_open();
	ASSERT_LE(0, fd);
	fd2 = tt_open();
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, lim_fill(fd, 1, 0, CAP, &done));
	EXPECT_EQ(-EDQUOT, lim_fill(fd2, 1, 0, CAP, &done));
	EXPECT_EQ(500, done);
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP, 64, 0));
	/* a forked child of the same user adds nothing either */
	EXPECT_EQ(0, lim_fork(fd, 0, 10, 0));
	/* a closed file gives its share back */
	close(fd2);
	EXPECT_EQ(0, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP, 64, 0));
	/* lowering the cap drops nothing, refuses more */
	ASSERT_EQ(0, tt_param_write("max_allocations_per_user", "10"));
	EXPECT_EQ(-EDQUOT, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, CAP + 1, 64, 0));
	EXPECT_EQ(0, tt_free(fd, 1, TT_ALLOC_MEM_L1, CAP));
	/* bounds of the parameter */
	EXPECT_NE(0, tt_param_write("max_allocations_per_user", "0"));
	EXPECT_NE(0, tt_param_write("max_allocations_per_user", "268435457"));
	close(fd);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

TEST_F(lim, batch_over_max_e2big)
{
	static struct tt_alloc_op ops[4];
	__u32 counts[] = { TT_ALLOC_BATCH_MAX + 1, TT_ALLOC_BATCH_MAX * 2, ~0U };
	unsigned int i;
	__u32 done;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	for (i = 0; i < TT_ARRAY_SIZE(counts); i++) {
		ops[0] = tt_op(TT_ALLOC_OP_ALLOC, 0, TT_ALLOC_MEM_DRAM, 1, 1, 0);
		EXPECT_EQ(-E2BIG, tt_batch(fd, ops, counts[i], &done)) TH_LOG("count %u", counts[i]);
	}
	{
		__u32 n = TT_ALLOC_CLIENTS_MAX + 1;

		EXPECT_EQ(-E2BIG, tt_clients(fd, (struct tt_alloc_client *)ops, &n));
	}
	/* nothing applied */
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	close(fd);
}

TEST_F_TIMEOUT(lim, slab_bytes_per_entry, 600)
{
	__u64 su0, su1, sl0, sl1, mf0, mf1, vm0, vm1, su2;
	long long per_su, per_free;
	double table;
	struct tt_alloc_usage u;
	__u32 done;
	int fd;

	/* our own batch buffer must not count */
	memset(ops, 0, sizeof(ops));
	tt_write_str("/proc/sys/vm/drop_caches", "3");
	fd = tt_open();
	ASSERT_LE(0, fd);
	rel_msleep(200);
	su0 = rel_meminfo("SUnreclaim");
	sl0 = rel_meminfo("Slab");
	mf0 = rel_meminfo("MemFree");
	vm0 = rel_meminfo("VmallocUsed");
	ASSERT_EQ(0, lim_fill(fd, 3, 1ULL << 32, SLAB_ENTRIES, &done));
	ASSERT_EQ(SLAB_ENTRIES, done);
	su1 = rel_meminfo("SUnreclaim");
	sl1 = rel_meminfo("Slab");
	mf1 = rel_meminfo("MemFree");
	vm1 = rel_meminfo("VmallocUsed");
	ASSERT_EQ(0, tt_usage(fd, 3, TT_ALLOC_SCOPE_FILE, &u));
	ASSERT_EQ(SLAB_ENTRIES, u.allocations[TT_ALLOC_MEM_L1]);
	per_su = ((long long)su1 - (long long)su0) / SLAB_ENTRIES;
	per_free = ((long long)mf0 - (long long)mf1) / SLAB_ENTRIES;
	/* the hash table: 8-byte heads, load factor 1/2..1 (2^17 for 100k) */
	table = 8.0 * 131072 / SLAB_ENTRIES;
	ksft_print_msg("%d entries: SUnreclaim +%lld B (%lld B/entry), Slab +%lld B, VmallocUsed +%lld B, MemFree -%lld B (%lld B/entry)%s\n",
		       SLAB_ENTRIES, (long long)(su1 - su0), per_su,
		       (long long)(sl1 - sl0), (long long)(vm1 - vm0),
		       (long long)(mf0 - mf1), per_free,
		       rel_have_kmemleak() ? " [debug kernel: KASAN/kmemleak metadata included]" : "");
	ksft_print_msg("bytes per entry: %lld slab + %.1f hash table = %.1f\n",
		       per_su, table, per_su + table);
	close(fd);
	rel_msleep(200);
	su2 = rel_meminfo("SUnreclaim");
	ksft_print_msg("after close: SUnreclaim %+lld B vs before\n",
		       (long long)su2 - (long long)su0);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	/* 48-byte objects: at most 64 B of slab per entry on a production kernel */
	if (!rel_have_kmemleak()) {
		EXPECT_GE(64, per_su);
		/* and the whole cost (slab + hash table) stays under 96 B */
		EXPECT_GE(96.0, per_su + table);
		/* whole-system view, noisy: a loose bound */
		EXPECT_GE(160, per_free);
	}
}

TEST_HARNESS_MAIN
