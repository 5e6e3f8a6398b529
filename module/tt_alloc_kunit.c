// SPDX-License-Identifier: GPL-2.0
/*
 * KUnit tests of the tt_alloc tracking core, on a private instance that
 * no file can reach.
 */
#include <kunit/test.h>
#include <linux/completion.h>
#include <linux/cred.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/pid_namespace.h>
#include <linux/sched.h>
#include <linux/slab.h>

#include "tt_alloc_priv.h"
#include "tt_alloc_compat.h"

#define NDEV 4

struct tt_test {
	struct tt_limits limits;
	struct tt_core *core;
	struct tt_client *c;
};

static int tt_test_init(struct kunit *test)
{
	struct tt_test *t = kunit_kzalloc(test, sizeof(*t), GFP_KERNEL);

	KUNIT_ASSERT_NOT_NULL(test, t);
	t->limits.max_entries = 1 << 20;
	t->limits.max_user = TT_ALLOC_MAX_USER_LIMIT;
	atomic64_set(&t->limits.max_bytes, TT_ALLOC_MAX_BYTES_LIMIT);
	t->core = tt_core_create(NDEV, &t->limits);
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->core));
	t->c = tt_client_create(t->core, task_tgid(current), "kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->c));
	test->priv = t;
	return 0;
}

static void tt_test_exit(struct kunit *test)
{
	struct tt_test *t = test->priv;

	if (t->c)
		tt_client_close(t->c);
	tt_core_destroy(t->core);
}

static struct tt_alloc_buffer buf(u32 device, u32 type, u64 id, u64 size)
{
	return (struct tt_alloc_buffer){
		.device = device, .type = type, .id = id, .size = size,
	};
}

static int alloc(struct tt_client *c, struct tt_alloc_buffer b)
{
	return tt_client_record_alloc(c, &b, task_tgid(current), "kunit");
}

static int do_free(struct tt_client *c, u32 device, u32 type, u64 id)
{
	struct tt_alloc_buffer b = buf(device, type, id, 0);

	return tt_client_record_free(c, &b, task_tgid(current));
}

static u64 dev_used(struct tt_core *core, u32 device, u32 type)
{
	struct tt_counter_snap snap;

	tt_device_read(&core->devs[device], type, &snap);
	return snap.used;
}

static u64 dev_peak(struct tt_core *core, u32 device, u32 type)
{
	struct tt_counter_snap snap;

	tt_device_read(&core->devs[device], type, &snap);
	return snap.peak;
}

static u64 dev_wide(struct tt_core *core, u32 device, struct tt_wide *w)
{
	return tt_wide_read(&core->devs[device], w);
}

static u64 dev_entries(struct tt_core *core, u32 device, u32 type)
{
	struct tt_counter_snap snap;

	tt_device_read(&core->devs[device], type, &snap);
	return snap.entries;
}

static u32 list(struct tt_core *core, struct pid_namespace *ns, u64 after_id,
		u32 after_device, struct tt_alloc_client *rows, u32 room)
{
	struct tt_list_pos pos = {
		.after_id = after_id, .after_device = after_device,
	};

	return tt_core_list_clients(core, ns, &pos, rows, room, false);
}

static void tt_test_alloc_free_refs(struct kunit *test)
{
	struct tt_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_DRAM, 0x1000, 4096)), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 4096);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 1, TT_ALLOC_MEM_DRAM), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->core->devs[1].clients), 1);

	/* Same key, size and kind: another reference, not more bytes. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_DRAM, 0x1000, 4096)), 0);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 1, TT_ALLOC_MEM_DRAM, 0x1000), 2);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 4096);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 1, TT_ALLOC_MEM_DRAM), 1);

	KUNIT_EXPECT_EQ(test, do_free(t->c, 1, TT_ALLOC_MEM_DRAM, 0x1000), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 4096);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 1, TT_ALLOC_MEM_DRAM, 0x1000), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 0);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 1, TT_ALLOC_MEM_DRAM), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->core->devs[1].clients), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 1, TT_ALLOC_MEM_DRAM, 0x1000), -ENOENT);
	KUNIT_EXPECT_EQ(test, dev_peak(t->core, 1, TT_ALLOC_MEM_DRAM), 4096);
}

static void tt_test_same_id_other_key(struct kunit *test)
{
	struct tt_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 7, 10)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_CB, 7, 20)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(2, TT_ALLOC_MEM_L1, 7, 30)), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 10);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_CB), 20);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 2, TT_ALLOC_MEM_L1), 30);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 3);
}

static void tt_test_eexist(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(0, TT_ALLOC_MEM_KERNEL, 1, 100);

	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	b.size = 200;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), -EEXIST);
	b.size = 100;
	b.kind = TT_ALLOC_KERNEL_FABRIC;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), -EEXIST);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_KERNEL, 1), 1);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_KERNEL), 100);
}

static void tt_test_validation(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b;

	b = buf(0, TT_ALLOC_MEM_DRAM, 1, 1);
	b.flags = 1;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), -EINVAL);
	KUNIT_EXPECT_EQ(test, tt_client_record_free(t->c, &b, task_tgid(current)), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_COUNT, 1, 1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 0)), -EINVAL);
	b = buf(0, TT_ALLOC_MEM_DRAM, 1, 1);
	b.kind = TT_ALLOC_KERNEL_FABRIC;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), -EINVAL);
	b = buf(0, TT_ALLOC_MEM_KERNEL, 1, 1);
	b.kind = TT_ALLOC_KERNEL_DISPATCH + 1;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(NDEV, TT_ALLOC_MEM_DRAM, 1, 1)), -ENODEV);
	/* Argument checks before state: a bad type beats an unknown key. */
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_COUNT, 1), -EINVAL);
	KUNIT_EXPECT_EQ(test, do_free(t->c, NDEV, TT_ALLOC_MEM_DRAM, 1), -ENODEV);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 0);
}

static void tt_test_size_bounds(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_counter *ctr = &t->core->devs[1].mem[TT_ALLOC_MEM_L1];

	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1,
					      TT_ALLOC_SIZE_MAX + 1)), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, U64_MAX)),
			-EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1,
					      TT_ALLOC_SIZE_MAX)), 0);
	/* Above a known capacity: EINVAL, enforced or not. */
	atomic64_set(&ctr->capacity, 1000);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 1, 1001)), -EINVAL);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 1, 1000)), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 2);
	KUNIT_EXPECT_TRUE(test, list_is_singular(&t->c->recorders));
}

/*
 * Device counters hold the sum of any number of files at the limits:
 * beyond 2^64 bytes they saturate for readers and come back exactly.
 */
static void tt_test_device_counter_no_wrap(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_client *cl[4];
	unsigned int i, j, bad = 0;
	const unsigned int per = 1U << 11;	/* entries per file */
	const u64 hack = U64_MAX - (1ULL << 53) - (1ULL << 39);

	t->limits.max_entries = 1 << 24;
	for (i = 0; i < ARRAY_SIZE(cl); i++) {
		cl[i] = tt_client_create(t->core, task_tgid(current), "big");
		KUNIT_ASSERT_FALSE(test, IS_ERR(cl[i]));
	}
	/* 4 x 2^11 entries of 2^40 = 2^53; then lift one counter to 2^64. */
	for (i = 0; i < ARRAY_SIZE(cl); i++)
		for (j = 0; j < per; j++)
			bad += !!alloc(cl[i], buf(0, TT_ALLOC_MEM_SYSTEM, j,
						  TT_ALLOC_SIZE_MAX));
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_SYSTEM), 1ULL << 53);
	/* Carry: start the counter near 2^64 by hand and cross it. */
	spin_lock(&t->core->devs[0].lock);
	t->core->devs[0].mem[TT_ALLOC_MEM_SYSTEM].used.lo += hack;
	spin_unlock(&t->core->devs[0].lock);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_SYSTEM, 1, 1ULL << 40)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_SYSTEM, 2, 1ULL << 40)), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_SYSTEM), U64_MAX);
	KUNIT_EXPECT_EQ(test, dev_peak(t->core, 0, TT_ALLOC_MEM_SYSTEM), U64_MAX);
	KUNIT_EXPECT_EQ(test, t->core->devs[0].mem[TT_ALLOC_MEM_SYSTEM].used.hi, 1);
	/* Another client's allocation on the same counter still works. */
	KUNIT_EXPECT_EQ(test, alloc(cl[0], buf(0, TT_ALLOC_MEM_SYSTEM, per, 1)), 0);
	for (i = 0; i < ARRAY_SIZE(cl); i++)
		tt_client_close(cl[i]);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_SYSTEM, 1), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_SYSTEM, 2), 0);
	KUNIT_EXPECT_EQ(test, t->core->devs[0].mem[TT_ALLOC_MEM_SYSTEM].used.hi, 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_SYSTEM), hack);
	spin_lock(&t->core->devs[0].lock);
	t->core->devs[0].mem[TT_ALLOC_MEM_SYSTEM].used.lo = 0;
	spin_unlock(&t->core->devs[0].lock);
}

/* The per-file byte limit: EDQUOT for new entries, references still taken. */
static void tt_test_byte_quota(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_client *other;

	atomic64_set(&t->limits.max_bytes, 1000);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 600)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 2, 401)), -EDQUOT);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 2, 400)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 600)), 0);
	KUNIT_EXPECT_EQ(test, t->c->bytes, 1000);
	/* Per file: another file has its own. */
	other = tt_client_create(t->core, task_tgid(current), "other");
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 1, 1000)), 0);
	tt_client_close(other);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 1, TT_ALLOC_MEM_L1, 2), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 3, 400)), 0);
}

static void tt_test_edquot(struct kunit *test)
{
	struct tt_test *t = test->priv;
	int i;

	t->limits.max_entries = 3;
	for (i = 0; i < 3; i++)
		KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, i, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 3, 8)), -EDQUOT);
	/* More references to a held entry are not more entries. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 0, 8)), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_L1, 1), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 3, 8)), 0);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 0, TT_ALLOC_MEM_L1), 3);
}

static void tt_test_enospc(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_counter *ctr = &t->core->devs[0].mem[TT_ALLOC_MEM_L1];

	atomic64_set(&ctr->capacity, 100);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 1, 60)), 0);
	/* Not enforced: capacity is only reported. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 2, 60)), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_L1, 2), 0);
	t->limits.enforce_capacity = true;
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 2, 41)), -ENOSPC);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 2, 40)), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 100);
	/* Unknown capacity (0) is never enforced. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 1ULL << 40)), 0);
}

static void tt_test_peak(struct kunit *test)
{
	struct tt_test *t = test->priv;

	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_TRACE, 1, 100)), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_TRACE, 1), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_TRACE, 2, 50)), 0);
	KUNIT_EXPECT_EQ(test, dev_peak(t->core, 0, TT_ALLOC_MEM_TRACE), 100);
	tt_device_reset_peak(&t->core->devs[0], TT_ALLOC_MEM_TRACE);
	KUNIT_EXPECT_EQ(test, dev_peak(t->core, 0, TT_ALLOC_MEM_TRACE), 50);
}

static void tt_test_system_kernels(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(0, TT_ALLOC_MEM_KERNEL, 1, 56 << 10);

	b.kind = TT_ALLOC_KERNEL_FABRIC;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	b.id = 2;
	b.kind = TT_ALLOC_KERNEL_DISPATCH;
	b.size = 46 << 10;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	b.id = 3;
	b.kind = TT_ALLOC_KERNEL_APP;
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	KUNIT_EXPECT_EQ(test, dev_wide(t->core, 0, &t->core->devs[0].system_bytes),
			102 << 10);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_KERNEL, 1), 0);
	KUNIT_EXPECT_EQ(test, dev_wide(t->core, 0, &t->core->devs[0].system_bytes),
			46 << 10);
}

static void tt_test_batch_stops_at_failure(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_op ops[4] = {
		{ .op = TT_ALLOC_OP_ALLOC, .buf = buf(0, TT_ALLOC_MEM_DRAM, 1, 10) },
		{ .op = TT_ALLOC_OP_ALLOC, .buf = buf(0, TT_ALLOC_MEM_DRAM, 2, 10) },
		{ .op = TT_ALLOC_OP_FREE, .buf = buf(0, TT_ALLOC_MEM_DRAM, 9, 0) },
		{ .op = TT_ALLOC_OP_ALLOC, .buf = buf(0, TT_ALLOC_MEM_DRAM, 3, 10) },
	};
	unsigned int applied = 99;

	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 4, &applied,
						     task_tgid(current), "kunit"), -ENOENT);
	KUNIT_EXPECT_EQ(test, applied, 2);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 20);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, 3), 0);

	ops[0].reserved = 1;
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 1, &applied,
						     task_tgid(current), "kunit"), -EINVAL);
	KUNIT_EXPECT_EQ(test, applied, 0);
	ops[0].reserved = 0;
	ops[0].op = 3;
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 1, &applied,
						     task_tgid(current), "kunit"), -EINVAL);
}

/* A FREE keeps the entry for the next ALLOC, up to a bound. */
static void tt_test_free_cache(struct kunit *test)
{
	struct tt_test *t = test->priv;
	const unsigned int n = TT_SPARE_MAX + 40;
	unsigned int i, bad = 0;
	HLIST_HEAD(spare);

	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 10)), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 1), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 1);
	/* A failed ALLOC gives the entry it took back. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(NDEV, TT_ALLOC_MEM_DRAM, 2, 10)), -ENODEV);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 1);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 2, 10)), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 2), 0);

	for (i = 0; i < n; i++)
		bad += !!alloc(t->c, buf(1, TT_ALLOC_MEM_L1, i, 64));
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 0);
	for (i = 0; i < n; i++)
		bad += !!do_free(t->c, 1, TT_ALLOC_MEM_L1, i);
	KUNIT_EXPECT_EQ(test, bad, 0);
	/* Bounded: the rest went back to the slab. */
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, TT_SPARE_MAX);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_L1), 0);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 1, TT_ALLOC_MEM_L1), 0);
	/* A sweep trims it, taking no live entry; the cache still works. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1, 0, 64)), 0);
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, TT_SPARE_KEEP);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 1, TT_ALLOC_MEM_L1), 1);
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, TT_SPARE_KEEP);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 1, TT_ALLOC_MEM_L1, 0), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, TT_SPARE_KEEP + 1);
	/* Cut to nothing and refilled: the list is whole either way. */
	mutex_lock(&t->c->lock);
	tt_client_trim_spare(t->c, 0, &spare);
	mutex_unlock(&t->c->lock);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 0);
	tt_entries_destroy(&spare);
	KUNIT_EXPECT_TRUE(test, hlist_empty(&spare));
	for (i = 0; i < 3; i++)
		bad += !!alloc(t->c, buf(1, TT_ALLOC_MEM_L1, i, 64));
	for (i = 0; i < 3; i++)
		bad += !!do_free(t->c, 1, TT_ALLOC_MEM_L1, i);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_spare, 3);
	/* tt_test_exit() destroys the client: kmemleak sees the cache drained. */
}

/* BATCH making its entries in bulk, past one bulk step, and failing. */
static void tt_test_batch_bulk(struct kunit *test)
{
	struct tt_test *t = test->priv;
	/* Past a full cache by a few bulk steps of 32 and a partial one. */
	const unsigned int n = TT_SPARE_MAX + 3 * 32 + 7;
	struct tt_alloc_op *ops;
	unsigned int i, applied;

	ops = kunit_kcalloc(test, n, sizeof(*ops), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ops);
	for (i = 0; i < n; i++) {
		ops[i].op = TT_ALLOC_OP_ALLOC;
		ops[i].buf = buf(2, TT_ALLOC_MEM_DRAM, i, 100);
	}
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, n, &applied,
						     task_tgid(current), "kunit"), 0);
	KUNIT_EXPECT_EQ(test, applied, n);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 2, TT_ALLOC_MEM_DRAM), 100ULL * n);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 2, TT_ALLOC_MEM_DRAM), n);

	/* Frees, then ALLOCs failing halfway through a bulk step. */
	for (i = 0; i < n; i++)
		ops[i].op = TT_ALLOC_OP_FREE;
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, n, &applied,
						     task_tgid(current), "kunit"), 0);
	KUNIT_EXPECT_EQ(test, applied, n);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 2, TT_ALLOC_MEM_DRAM), 0);
	KUNIT_EXPECT_LE(test, t->c->nr_spare, TT_SPARE_MAX);
	for (i = 0; i < n; i++)
		ops[i].op = TT_ALLOC_OP_ALLOC;
	ops[TT_SPARE_MAX + 45].buf.type = TT_ALLOC_MEM_COUNT;
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, n, &applied,
						     task_tgid(current), "kunit"), -EINVAL);
	KUNIT_EXPECT_EQ(test, applied, TT_SPARE_MAX + 45);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 2, TT_ALLOC_MEM_DRAM),
			TT_SPARE_MAX + 45);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, TT_SPARE_MAX + 45);
	KUNIT_EXPECT_LE(test, t->c->nr_spare, TT_SPARE_MAX);
}

/*
 * A BATCH step charges a device's type once: the peak it reached inside
 * the step is kept, more (device, type) pairs than the step accumulates
 * are right too, and an enforced capacity still fails at the exact op.
 */
static void tt_test_batch_deferred_counters(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_op ops[24];
	unsigned int i, applied;

	/* 6 ALLOCs on 6 (device, type) pairs, then their FREEs, twice. */
	for (i = 0; i < 12; i++) {
		ops[i].op = TT_ALLOC_OP_ALLOC;
		ops[i].reserved = 0;
		ops[i].buf = buf(i % 3, i % 2 ? TT_ALLOC_MEM_DRAM : TT_ALLOC_MEM_L1,
				 i, 1000 + i);
		ops[12 + i] = ops[i];
		ops[12 + i].op = TT_ALLOC_OP_FREE;
	}
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 24, &applied,
						     task_tgid(current), "kunit"), 0);
	KUNIT_EXPECT_EQ(test, applied, 24);
	for (i = 0; i < 6; i++) {
		u32 dev = i % 3, type = i % 2 ? TT_ALLOC_MEM_DRAM : TT_ALLOC_MEM_L1;

		/* Ids i and i + 6 share the pair (dev, type). */
		KUNIT_EXPECT_EQ(test, dev_used(t->core, dev, type), 0);
		KUNIT_EXPECT_EQ(test, dev_entries(t->core, dev, type), 0);
		KUNIT_EXPECT_EQ(test, dev_peak(t->core, dev, type),
				(1000 + i) + (1000 + i + 6));
	}

	/* Enforced: the op that would exceed fails, those before stay. */
	atomic64_set(&t->core->devs[3].mem[TT_ALLOC_MEM_L1].capacity, 250);
	t->limits.enforce_capacity = true;
	for (i = 0; i < 3; i++) {
		ops[i].op = TT_ALLOC_OP_ALLOC;
		ops[i].buf = buf(3, TT_ALLOC_MEM_L1, 100 + i, 100);
	}
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 3, &applied,
						     task_tgid(current), "kunit"), -ENOSPC);
	KUNIT_EXPECT_EQ(test, applied, 2);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 3, TT_ALLOC_MEM_L1), 200);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 3, TT_ALLOC_MEM_L1), 2);
	/* Types without a capacity are deferred; the totals still add up. */
	ops[0].buf = buf(3, TT_ALLOC_MEM_DRAM, 1, 7);
	KUNIT_EXPECT_EQ(test, tt_client_record_batch(t->c, ops, 1, &applied,
						     task_tgid(current), "kunit"), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 3, TT_ALLOC_MEM_DRAM), 7);
	KUNIT_EXPECT_EQ(test, dev_peak(t->core, 3, TT_ALLOC_MEM_DRAM), 7);
}

static void tt_test_many_entries(struct kunit *test)
{
	struct tt_test *t = test->priv;
	const unsigned int n = 5000;
	unsigned int i, bad = 0;

	for (i = 0; i < n; i++)
		bad += !!alloc(t->c, buf(i % NDEV, i % TT_ALLOC_MEM_COUNT,
					 (u64)i << 12, i + 1));
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, n);
	/* The table grew with the entries, keeping the load factor <= 1. */
	KUNIT_EXPECT_GE(test, 1ULL << t->c->bits, (u64)n);
	for (i = 0; i < n; i++)
		bad += tt_client_refs(t->c, i % NDEV, i % TT_ALLOC_MEM_COUNT,
				      (u64)i << 12) != 1;
	KUNIT_EXPECT_EQ(test, bad, 0);
	for (i = 0; i < n; i++)
		bad += !!do_free(t->c, i % NDEV, i % TT_ALLOC_MEM_COUNT,
				 (u64)i << 12);
	KUNIT_EXPECT_EQ(test, bad, 0);
	for (i = 0; i < NDEV * TT_ALLOC_MEM_COUNT; i++)
		bad += !!dev_used(t->core, i / TT_ALLOC_MEM_COUNT,
				  i % TT_ALLOC_MEM_COUNT);
	KUNIT_EXPECT_EQ(test, bad, 0);
}

static void tt_test_reclaim_on_destroy(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_client *other;
	unsigned int i;

	other = tt_client_create(t->core, task_tgid(current), "other");
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, alloc(other, buf(3, TT_ALLOC_MEM_DRAM, 1, 1000)), 0);

	for (i = 0; i < 100; i++)
		KUNIT_EXPECT_EQ(test, alloc(t->c, buf(i % 2, TT_ALLOC_MEM_CB, i, 10)), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->core->devs[0].clients), 1);
	tt_client_close(t->c);
	t->c = NULL;

	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_CB), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_CB), 0);
	KUNIT_EXPECT_EQ(test, dev_entries(t->core, 0, TT_ALLOC_MEM_CB), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&t->core->devs[0].clients), 0);
	KUNIT_EXPECT_EQ(test, dev_wide(t->core, 0, &t->core->devs[0].reclaimed_bytes), 500);
	KUNIT_EXPECT_EQ(test, atomic64_read(&t->core->devs[1].reclaimed_entries), 50);
	/* Another client's entries are untouched. */
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 3, TT_ALLOC_MEM_DRAM), 1000);
	tt_client_close(other);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 3, TT_ALLOC_MEM_DRAM), 0);
}

static int tt_idle_thread(void *unused)
{
	set_current_state(TASK_INTERRUPTIBLE);
	while (!kthread_should_stop()) {
		schedule();
		set_current_state(TASK_INTERRUPTIBLE);
	}
	__set_current_state(TASK_RUNNING);
	return 0;
}

/*
 * Stops a tt_idle_thread() and waits, bounded, until tt_pid_exited() says
 * so: kthread_stop() returns before the thread reaches exit_notify().
 */
static void tt_stop_exited(struct kunit *test, struct task_struct *k,
			   struct pid *pid)
{
	int i;

	kthread_stop(k);
	for (i = 0; i < 500 && !tt_pid_exited(pid); i++)
		msleep(20);
	KUNIT_ASSERT_TRUE(test, tt_pid_exited(pid));
}

/* The sweep shrinks a table its entries left, after FREEs or a reclaim. */
static void tt_test_table_shrinks(struct kunit *test)
{
	struct tt_test *t = test->priv;
	const unsigned int n = 5000;
	struct tt_alloc_buffer b;
	struct task_struct *k;
	unsigned int i, bad = 0;
	struct pid *dead;

	for (i = 0; i < n; i++)
		bad += !!alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, i, 1));
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_GE(test, t->c->bits, 13);
	for (i = 10; i < n; i++)
		bad += !!do_free(t->c, 0, TT_ALLOC_MEM_DRAM, i);
	KUNIT_EXPECT_EQ(test, bad, 0);
	/* Not on FREE: a file may fill its table again right away. */
	KUNIT_EXPECT_GE(test, t->c->bits, 13);
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 0);
	/* Ten entries: 32 buckets, a load of at most 1/2. */
	KUNIT_EXPECT_EQ(test, t->c->bits, 5);
	for (i = 0; i < 10; i++)
		bad += tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, i) != 1;
	KUNIT_EXPECT_EQ(test, bad, 0);

	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	dead = get_pid(task_tgid(k));
	for (i = 0; i < n; i++) {
		b = buf(1, TT_ALLOC_MEM_L1, i, 1);
		bad += !!tt_client_record_alloc(t->c, &b, dead, "doomed");
	}
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_GE(test, t->c->bits, 13);
	tt_stop_exited(test, k, dead);
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), n);
	KUNIT_EXPECT_EQ(test, t->c->bits, 5);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 10);
	put_pid(dead);
}

/* A real thread group records, then exits; the sweep must notice. */
static void tt_test_sweep_dead_recorder(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b;
	struct task_struct *k;
	struct pid *dead;

	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	dead = get_pid(task_tgid(k));

	b = buf(0, TT_ALLOC_MEM_DRAM, 1, 111);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, dead, "doomed"), 0);
	b = buf(1, TT_ALLOC_MEM_L1, 2, 222);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, dead, "doomed"), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 3, 333)), 0);
	/* A live recorder's later reference is its own: it survives the dead's. */
	b = buf(0, TT_ALLOC_MEM_DRAM, 1, 111);
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);

	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 0);
	KUNIT_EXPECT_FALSE(test, tt_pid_exited(dead));

	tt_stop_exited(test, k, dead);
	KUNIT_EXPECT_TRUE(test, tt_pid_exited(dead));
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 1);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 444);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_L1), 0);
	KUNIT_EXPECT_EQ(test, dev_wide(t->core, 1, &t->core->devs[1].reclaimed_bytes), 222);
	KUNIT_EXPECT_EQ(test, dev_wide(t->core, 0, &t->core->devs[0].reclaimed_bytes), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 2);
	KUNIT_EXPECT_TRUE(test, list_is_singular(&t->c->recorders));
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, 1), 1);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 1), 0);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 3), 0);
	put_pid(dead);
}

/* A fork child's reference survives its parent's death; the parent's goes. */
static void tt_test_two_recorders(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(0, TT_ALLOC_MEM_DRAM, 1, 4096);
	struct task_struct *k;
	struct pid *dead;
	int order;

	for (order = 0; order < 2; order++) {
		k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
		KUNIT_ASSERT_FALSE(test, IS_ERR(k));
		dead = get_pid(task_tgid(k));
		if (order) {
			KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
			KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, dead, "doomed"), 0);
			KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, dead, "doomed"), 0);
		} else {
			KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, dead, "doomed"), 0);
			KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
		}
		KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, 1),
				order ? 3 : 2);
		tt_stop_exited(test, k, dead);
		/* Only the dead recorder's references go; no entry is removed. */
		KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 0);
		KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, 1), 1);
		KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 4096);
		KUNIT_EXPECT_TRUE(test, list_is_singular(&t->c->recorders));
		KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_DRAM, 1), 0);
		KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 0);
		put_pid(dead);
	}
}

/* The exit path takes exactly the exiting recorder's references. */
static void tt_test_exit_recorder(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(0, TT_ALLOC_MEM_L1, 1, 10);
	struct task_struct *k;
	struct pid *other;

	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	other = get_pid(task_tgid(k));
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, other, "other"), 0);
	b.id = 2;
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, other, "other"), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 3, 30)), 0);
	tt_client_exit_recorder(t->c, other);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 1), 0);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 2), 1);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 40);
	/* A thread group that recorded nothing here: nothing happens. */
	tt_client_exit_recorder(t->c, other);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 40);
	kthread_stop(k);
	put_pid(other);
}

struct tt_gate {
	struct work_struct work;
	struct completion open;
};

static void tt_gate_fn(struct work_struct *work)
{
	wait_for_completion(&container_of(work, struct tt_gate, work)->open);
}

/*
 * The last fput() of a file by a process that recorded nothing in it (a
 * fdinfo reader) leaves the reclaim to the workqueue: behind a gate on an
 * ordered workqueue, the entries are still counted when the release
 * returns, and gone once the gate opens. A recorder's own release
 * reclaims before it returns.
 */
static void tt_test_release_bystander(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(1, TT_ALLOC_MEM_DRAM, 0, 4096);
	struct workqueue_struct *wq;
	struct tt_gate gate;
	struct task_struct *k;
	struct pid *other;
	unsigned int i;

	wq = alloc_ordered_workqueue("tt_alloc_kunit", 0);
	KUNIT_ASSERT_NOT_NULL(test, wq);
	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	other = get_pid(task_tgid(k));
	for (i = 0; i < 1000; i++) {
		b.id = i;
		KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, other, "other"), 0);
	}
	INIT_WORK_ONSTACK(&gate.work, tt_gate_fn);
	init_completion(&gate.open);
	queue_work(wq, &gate.work);

	tt_client_release_file(t->c, wq);
	t->c = NULL;
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 1000 * 4096);
	complete(&gate.open);
	flush_workqueue(wq);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 0);
	destroy_work_on_stack(&gate.work);

	/* The recorder's own release, with the workqueue gated again. */
	t->c = tt_client_create(t->core, task_tgid(current), "kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(t->c));
	KUNIT_EXPECT_EQ(test, alloc(t->c, b), 0);
	INIT_WORK_ONSTACK(&gate.work, tt_gate_fn);
	reinit_completion(&gate.open);
	queue_work(wq, &gate.work);
	tt_client_release_file(t->c, wq);
	t->c = NULL;
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 1, TT_ALLOC_MEM_DRAM), 0);
	complete(&gate.open);
	destroy_workqueue(wq);
	destroy_work_on_stack(&gate.work);
	kthread_stop(k);
	put_pid(other);
}

/*
 * Another process's exit costs O(its references): it looks at its own
 * holders, not at the opener's table. The opener's
 * exit walks the table, and both leave the same counters.
 */
static void tt_test_exit_own_references(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_buffer b = buf(0, TT_ALLOC_MEM_L1, 0, 10);
	struct task_struct *k;
	struct pid *child;
	unsigned int i;

	for (i = 0; i < 1000; i++)
		KUNIT_ASSERT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, i, 1)), 0);
	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	child = get_pid(task_tgid(k));
	/* Two entries of its own, a reference to one of the opener's. */
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, child, "child"), 0);
	b.id = 1;
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, child, "child"), 0);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, child, "child"), 0);
	b = buf(0, TT_ALLOC_MEM_DRAM, 7, 1);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &b, child, "child"), 0);
	/* The opener takes a reference to the child's first entry. */
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 0, 10)), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 1000 + 2 + 1 + 1);

	t->c->reclaim_visited = 0;
	tt_client_exit_recorder(t->c, child);
	KUNIT_EXPECT_EQ(test, t->c->reclaim_visited, 3);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 0), 1);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 1), 0);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_DRAM, 7), 1);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 10);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 1000);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 1000 + 1);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 1000 + 1);

	/* The opener's exit: one pass over the table. */
	t->c->reclaim_visited = 0;
	tt_client_exit_recorder(t->c, task_tgid(current));
	KUNIT_EXPECT_EQ(test, t->c->reclaim_visited, 1001);
	KUNIT_EXPECT_EQ(test, t->c->nr_entries, 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_L1), 0);
	KUNIT_EXPECT_EQ(test, dev_used(t->core, 0, TT_ALLOC_MEM_DRAM), 0);
	kthread_stop(k);
	put_pid(child);
}

/*
 * Another process's first reference to an entry counts against the
 * file's cap; more references from a process that holds one do not.
 */
static void tt_test_edquot_shared(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct task_struct *k;
	struct pid *child;

	t->limits.max_entries = 3;
	k = kthread_run(tt_idle_thread, NULL, "tt_alloc_kunit");
	KUNIT_ASSERT_FALSE(test, IS_ERR(k));
	child = get_pid(task_tgid(k));
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 0, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 1, 8)), 0);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &(struct tt_alloc_buffer){
		.type = TT_ALLOC_MEM_L1, .id = 0, .size = 8 }, child, "child"), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 3);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &(struct tt_alloc_buffer){
		.type = TT_ALLOC_MEM_L1, .id = 1, .size = 8 }, child, "child"), -EDQUOT);
	KUNIT_EXPECT_EQ(test, tt_client_record_alloc(t->c, &(struct tt_alloc_buffer){
		.type = TT_ALLOC_MEM_L1, .id = 0, .size = 8 }, child, "child"), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 1, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 2, 8)), -EDQUOT);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 0), 3);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 1), 2);
	/* The parent's only reference to entry 0 goes, and its holding. */
	KUNIT_EXPECT_EQ(test, do_free(t->c, 0, TT_ALLOC_MEM_L1, 0), 0);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 2);
	KUNIT_EXPECT_EQ(test, tt_client_refs(t->c, 0, TT_ALLOC_MEM_L1, 0), 2);
	/* The child's death takes its holding back. */
	tt_stop_exited(test, k, child);
	KUNIT_EXPECT_EQ(test, tt_core_sweep(t->core), 1);
	KUNIT_EXPECT_EQ(test, t->c->nr_holdings, 1);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 2, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_L1, 3, 8)), 0);
	put_pid(child);
}

/* One user's files together stop at max_user, whichever file asks. */
static void tt_test_edquot_user(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_client *other;

	t->limits.max_user = 3;
	other = tt_client_create(t->core, task_tgid(current), "other");
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 2, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 1, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 2, 8)), -EDQUOT);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 3, 8)), -EDQUOT);
	/* More references are not more holdings. */
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 1, 8)), 0);
	/* Writable at run time; a file's release gives its share back. */
	t->limits.max_user = 4;
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 2, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(other, buf(0, TT_ALLOC_MEM_DRAM, 3, 8)), -EDQUOT);
	tt_client_close(other);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 3, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 4, 8)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 5, 8)), -EDQUOT);
}

struct tt_sweeper {
	struct tt_core *core;
	struct completion started;
};

static int tt_sweep_thread(void *data)
{
	struct tt_sweeper *sw = data;

	complete(&sw->started);
	tt_core_sweep(sw->core);
	return 0;
}

/*
 * The sweep waits for a busy client's lock holding no global lock:
 * clients can be created and released meanwhile.
 */
static void tt_test_sweep_holds_no_global_lock(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_sweeper sw = { .core = t->core };
	struct task_struct *k;
	bool free_lock;

	init_completion(&sw.started);
	mutex_lock(&t->c->lock);
	k = kthread_create(tt_sweep_thread, &sw, "tt_alloc_sweep");
	if (IS_ERR(k)) {
		mutex_unlock(&t->c->lock);
		KUNIT_FAIL(test, "kthread_create: %ld", PTR_ERR(k));
		return;
	}
	get_task_struct(k);
	wake_up_process(k);
	wait_for_completion(&sw.started);
	msleep(100);	/* the sweep now waits for t->c->lock */
	free_lock = mutex_trylock(&t->core->clients_lock);
	KUNIT_EXPECT_TRUE(test, free_lock);
	if (free_lock)
		mutex_unlock(&t->core->clients_lock);
	mutex_unlock(&t->c->lock);
	kthread_stop(k);
	put_task_struct(k);
}

/*
 * Readers of a client's totals (client list, USAGE of the file) take
 * neither its lock nor the list's: with both held here, as by a client in
 * a long reclaim, they still return, with the current totals.
 */
static void tt_test_readers_take_no_lock(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_usage u = { .device = 2, .scope = TT_ALLOC_SCOPE_FILE };
	struct tt_alloc_client rows[2];

	KUNIT_ASSERT_EQ(test, alloc(t->c, buf(2, TT_ALLOC_MEM_L1, 1, 300)), 0);
	mutex_lock(&t->core->clients_lock);
	mutex_lock(&t->c->lock);
	KUNIT_EXPECT_EQ(test, list(t->core, task_active_pid_ns(current), 0, 0,
				   rows, 2), 1);
	KUNIT_EXPECT_EQ(test, tt_client_usage(t->c, &u), 0);
	mutex_unlock(&t->c->lock);
	mutex_unlock(&t->core->clients_lock);
	KUNIT_EXPECT_EQ(test, rows[0].device, 2);
	KUNIT_EXPECT_EQ(test, rows[0].used[TT_ALLOC_MEM_L1], 300);
	KUNIT_EXPECT_EQ(test, u.used[TT_ALLOC_MEM_L1], 300);
	KUNIT_EXPECT_EQ(test, u.allocations[TT_ALLOC_MEM_L1], 1);
}

/*
 * A user whose last recorder went lingers, with its log allowance, until
 * a sweep a log interval later: a user recording from one short-lived
 * process after another gets no fresh allowance each time.
 */
static void tt_test_user_lingers(struct kunit *test)
{
	struct tt_test *t = test->priv;
	unsigned long key = __kuid_val(current_uid());
	struct tt_client *c;
	struct tt_user *u;

	c = tt_client_create(t->core, task_tgid(current), "k2");
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_EQ(test, alloc(c, buf(0, TT_ALLOC_MEM_DRAM, 1, 10)), 0);
	u = xa_load(&t->core->users, key);
	KUNIT_ASSERT_NOT_NULL(test, u);
	KUNIT_EXPECT_TRUE(test, __ratelimit(&u->log_rs));
	tt_client_close(c);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->ref), 0);
	tt_users_prune(t->core, false);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&t->core->users, key), u);

	c = tt_client_create(t->core, task_tgid(current), "k3");
	KUNIT_ASSERT_FALSE(test, IS_ERR(c));
	KUNIT_ASSERT_EQ(test, alloc(c, buf(0, TT_ALLOC_MEM_DRAM, 1, 10)), 0);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&t->core->users, key), u);
	KUNIT_EXPECT_EQ(test, refcount_read(&u->ref), 1);
	KUNIT_EXPECT_EQ(test, atomic_long_read(&u->holdings), 1);
	tt_client_close(c);

	tt_users_prune(t->core, true);
	KUNIT_EXPECT_TRUE(test, xa_empty(&t->core->users));
}

/*
 * CLIENTS walks the list in chunks, each going on from the client of the
 * last row written, which it holds: a client released in between leaves
 * its rows out and the walk goes on after it.
 */
static void tt_test_clients_list_chunks(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct tt_list_pos pos = { };
	struct tt_alloc_client rows[2];
	struct tt_client *c[3];
	unsigned int i;

	for (i = 0; i < ARRAY_SIZE(c); i++) {
		c[i] = tt_client_create(t->core, task_tgid(current), "chunk");
		KUNIT_ASSERT_FALSE(test, IS_ERR(c[i]));
		KUNIT_ASSERT_EQ(test, alloc(c[i], buf(0, TT_ALLOC_MEM_DRAM, 1, 1)), 0);
		KUNIT_ASSERT_EQ(test, alloc(c[i], buf(1, TT_ALLOC_MEM_DRAM, 1, 1)), 0);
	}
	/* t->c holds nothing (one row), then two rows per client. */
	KUNIT_EXPECT_EQ(test, tt_core_list_clients(t->core, ns, &pos, rows, 2, true), 2);
	KUNIT_EXPECT_EQ(test, rows[0].client_id, t->c->id);
	KUNIT_EXPECT_EQ(test, rows[0].device, TT_ALLOC_DEVICE_NONE);
	KUNIT_EXPECT_EQ(test, rows[1].client_id, c[0]->id);
	KUNIT_EXPECT_EQ(test, rows[1].device, 0);
	KUNIT_EXPECT_PTR_EQ(test, pos.from, c[0]);

	tt_client_close(c[0]);
	KUNIT_EXPECT_EQ(test, tt_core_list_clients(t->core, ns, &pos, rows, 2, true), 2);
	KUNIT_EXPECT_EQ(test, rows[0].client_id, c[1]->id);
	KUNIT_EXPECT_EQ(test, rows[0].device, 0);
	KUNIT_EXPECT_EQ(test, rows[1].client_id, c[1]->id);
	KUNIT_EXPECT_EQ(test, rows[1].device, 1);
	KUNIT_EXPECT_PTR_EQ(test, pos.from, c[1]);

	/* The rest, counted: c[2]'s two rows; the held client is put. */
	KUNIT_EXPECT_EQ(test, tt_core_list_clients(t->core, ns, &pos, NULL, 0, false), 2);
	KUNIT_EXPECT_NULL(test, pos.from);
	tt_client_close(c[1]);
	tt_client_close(c[2]);
}

static void tt_test_clients_list(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct pid_namespace *ns = task_active_pid_ns(current);
	struct tt_alloc_client rows[4];
	struct tt_client *idle;
	u32 n;

	idle = tt_client_create(t->core, task_tgid(current), "idle");
	KUNIT_ASSERT_FALSE(test, IS_ERR(idle));
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(0, TT_ALLOC_MEM_DRAM, 1, 10)), 0);
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(2, TT_ALLOC_MEM_L1, 1, 20)), 0);

	KUNIT_EXPECT_EQ(test, list(t->core, ns, 0, 0, NULL, 0), 3);
	n = list(t->core, ns, 0, 0, rows, ARRAY_SIZE(rows));
	KUNIT_ASSERT_EQ(test, n, 3);
	KUNIT_EXPECT_EQ(test, rows[0].client_id, t->c->id);
	KUNIT_EXPECT_EQ(test, rows[0].device, 0);
	KUNIT_EXPECT_EQ(test, rows[0].used[TT_ALLOC_MEM_DRAM], 10);
	KUNIT_EXPECT_EQ(test, rows[0].pid, task_tgid_vnr(current));
	KUNIT_EXPECT_STREQ(test, (char *)rows[0].comm, "kunit");
	KUNIT_EXPECT_EQ(test, rows[1].device, 2);
	KUNIT_EXPECT_EQ(test, rows[1].allocations[TT_ALLOC_MEM_L1], 1);
	KUNIT_EXPECT_EQ(test, rows[2].client_id, idle->id);
	KUNIT_EXPECT_EQ(test, rows[2].device, TT_ALLOC_DEVICE_NONE);
	KUNIT_EXPECT_EQ(test, rows[2].flags, 0);
	/* Less room than rows: the first ones are written, all are counted. */
	memset(rows, 0, sizeof(rows));
	KUNIT_EXPECT_EQ(test, list(t->core, ns, 0, 0, rows, 1), 3);
	KUNIT_EXPECT_EQ(test, rows[1].client_id, 0);
	/* A cursor resumes after the given row, whole or within a client. */
	KUNIT_EXPECT_EQ(test, list(t->core, ns, t->c->id, 0, rows, 4), 2);
	KUNIT_EXPECT_EQ(test, rows[0].device, 2);
	KUNIT_EXPECT_EQ(test, rows[1].client_id, idle->id);
	KUNIT_EXPECT_EQ(test, list(t->core, ns, t->c->id, 2, rows, 4), 1);
	KUNIT_EXPECT_EQ(test, rows[0].client_id, idle->id);
	KUNIT_EXPECT_EQ(test, list(t->core, ns, idle->id,
				   TT_ALLOC_DEVICE_NONE, rows, 4), 0);
	tt_client_close(idle);
}

static void tt_test_arch_presets(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_device *d = &t->core->devs[0];

	KUNIT_EXPECT_STREQ(test, d->arch, "unknown");
	KUNIT_EXPECT_EQ(test, tt_device_set_arch(d, "wormhole_b0"), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->mem[TT_ALLOC_MEM_DRAM].capacity),
			12884901888LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->mem[TT_ALLOC_MEM_L1].capacity),
			72LL * 1499136);
	KUNIT_EXPECT_EQ(test, tt_device_set_arch(d, "blackhole"), 0);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->mem[TT_ALLOC_MEM_DRAM].capacity),
			34359738368LL);
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->mem[TT_ALLOC_MEM_L1].capacity),
			140LL * 1572864);
	KUNIT_EXPECT_STREQ(test, d->arch, "blackhole");
	KUNIT_EXPECT_EQ(test, tt_device_set_arch(d, "grayskull"), -EINVAL);
	KUNIT_EXPECT_STREQ(test, d->arch, "blackhole");
	KUNIT_EXPECT_EQ(test, tt_device_set_arch(d, ""), 0);
	KUNIT_EXPECT_STREQ(test, d->arch, "unknown");
	KUNIT_EXPECT_EQ(test, atomic64_read(&d->mem[TT_ALLOC_MEM_DRAM].capacity), 0);
}

static void tt_test_usage(struct kunit *test)
{
	struct tt_test *t = test->priv;
	struct tt_alloc_usage u = { .device = 1, .scope = TT_ALLOC_SCOPE_FILE };
	struct tt_client *other;

	other = tt_client_create(t->core, task_tgid(current), "other");
	KUNIT_ASSERT_FALSE(test, IS_ERR(other));
	KUNIT_EXPECT_EQ(test, alloc(t->c, buf(1, TT_ALLOC_MEM_L1_SMALL, 1, 64)), 0);
	KUNIT_EXPECT_EQ(test, alloc(other, buf(1, TT_ALLOC_MEM_L1_SMALL, 1, 32)), 0);

	KUNIT_EXPECT_EQ(test, tt_client_usage(t->c, &u), 0);
	KUNIT_EXPECT_EQ(test, u.used[TT_ALLOC_MEM_L1_SMALL], 64);
	KUNIT_EXPECT_EQ(test, u.allocations[TT_ALLOC_MEM_L1_SMALL], 1);
	KUNIT_EXPECT_EQ(test, u.peak[TT_ALLOC_MEM_L1_SMALL], 0);
	u.scope = TT_ALLOC_SCOPE_DEVICE;
	KUNIT_EXPECT_EQ(test, tt_client_usage(t->c, &u), 0);
	KUNIT_EXPECT_EQ(test, u.used[TT_ALLOC_MEM_L1_SMALL], 96);
	KUNIT_EXPECT_EQ(test, u.allocations[TT_ALLOC_MEM_L1_SMALL], 2);
	KUNIT_EXPECT_EQ(test, u.peak[TT_ALLOC_MEM_L1_SMALL], 96);
	u.scope = 2;
	KUNIT_EXPECT_EQ(test, tt_client_usage(t->c, &u), -EINVAL);
	u.scope = TT_ALLOC_SCOPE_DEVICE;
	u.device = NDEV;
	KUNIT_EXPECT_EQ(test, tt_client_usage(t->c, &u), -ENODEV);
	tt_client_close(other);
}

static struct kunit_case tt_alloc_core_cases[] = {
	KUNIT_CASE(tt_test_alloc_free_refs),
	KUNIT_CASE(tt_test_same_id_other_key),
	KUNIT_CASE(tt_test_eexist),
	KUNIT_CASE(tt_test_validation),
	KUNIT_CASE(tt_test_size_bounds),
	KUNIT_CASE(tt_test_device_counter_no_wrap),
	KUNIT_CASE(tt_test_byte_quota),
	KUNIT_CASE(tt_test_edquot),
	KUNIT_CASE(tt_test_edquot_shared),
	KUNIT_CASE(tt_test_edquot_user),
	KUNIT_CASE(tt_test_enospc),
	KUNIT_CASE(tt_test_peak),
	KUNIT_CASE(tt_test_system_kernels),
	KUNIT_CASE(tt_test_batch_stops_at_failure),
	KUNIT_CASE(tt_test_free_cache),
	KUNIT_CASE(tt_test_batch_bulk),
	KUNIT_CASE(tt_test_batch_deferred_counters),
	KUNIT_CASE(tt_test_many_entries),
	KUNIT_CASE(tt_test_table_shrinks),
	KUNIT_CASE(tt_test_reclaim_on_destroy),
	KUNIT_CASE(tt_test_sweep_dead_recorder),
	KUNIT_CASE(tt_test_two_recorders),
	KUNIT_CASE(tt_test_exit_recorder),
	KUNIT_CASE(tt_test_release_bystander),
	KUNIT_CASE(tt_test_exit_own_references),
	KUNIT_CASE(tt_test_sweep_holds_no_global_lock),
	KUNIT_CASE(tt_test_clients_list),
	KUNIT_CASE(tt_test_clients_list_chunks),
	KUNIT_CASE(tt_test_readers_take_no_lock),
	KUNIT_CASE(tt_test_user_lingers),
	KUNIT_CASE(tt_test_arch_presets),
	KUNIT_CASE(tt_test_usage),
	{}
};

static struct kunit_suite tt_alloc_core_suite = {
	.name = "tt_alloc_core",
	.init = tt_test_init,
	.exit = tt_test_exit,
	.test_cases = tt_alloc_core_cases,
};

kunit_test_suite(tt_alloc_core_suite);

MODULE_DESCRIPTION("KUnit tests for the tt_alloc tracking core");
MODULE_LICENSE("GPL");
TT_MODULE_IMPORT_KUNIT_NS();
