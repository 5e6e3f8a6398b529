// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc ABI growth and isolation: struct sizes taken from the command,
 * the element sizes of the BATCH and CLIENTS arrays, the feature bits,
 * read-only files, the client-list cursor (with more rows than one call
 * returns), the peak never below the use, and the debugfs dump read in
 * pieces.
 *
 * Expects the module loaded with its defaults (see run-suite.sh).
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <pthread.h>
#include <stddef.h>
#include <sys/resource.h>

#define DBG_PATH	"/sys/kernel/debug/tt_alloc/allocations"

/* Only for the longer timeouts of TEST_F_TIMEOUT(). */
FIXTURE(abi) {
	int unused;
};

FIXTURE_SETUP(abi)
{
	self->unused = 0;
}

FIXTURE_TEARDOWN(abi)
{
}

static int clients_at(int fd, struct tt_alloc_client *rows, __u32 room,
		      __u64 after_id, __u32 after_device, __u32 *count)
{
	struct tt_alloc_clients c = {
		.clients = (__u64)(uintptr_t)rows, .count = room,
		.after_id = after_id, .after_device = after_device,
		.row_size = sizeof(*rows),
	};
	int ret = tt_ioctl(fd, TT_ALLOC_IOC_CLIENTS, &c);

	*count = c.count;
	return ret;
}

/* ---- sizes ---------------------------------------------------------- */

TEST(info_features_and_sizes)
{
	struct tt_alloc_info info;
	char v0[TT_ALLOC_INFO_SIZE_VER0 + 8];
	int fd = tt_open();

	ASSERT_LE(0, fd);
	memset(&info, 0xff, sizeof(info));
	ASSERT_EQ(0, tt_info(fd, &info));
	EXPECT_EQ(32, sizeof(info));
	EXPECT_NE(0, info.features & TT_ALLOC_FEATURE_CLIENTS_CURSOR);
	/* A caller of the first version gets its 24 bytes, nothing more. */
	memset(v0, 0x5a, sizeof(v0));
	ASSERT_EQ(0, tt_ioctl(fd, _IOC(_IOC_READ, TT_ALLOC_IOC_MAGIC, 0x00,
				       TT_ALLOC_INFO_SIZE_VER0), v0));
	EXPECT_EQ(0, memcmp(v0, &info, TT_ALLOC_INFO_SIZE_VER0));
	EXPECT_EQ(0x5a, v0[TT_ALLOC_INFO_SIZE_VER0]);
	close(fd);
}

TEST(usage_sizes)
{
	struct { struct tt_alloc_usage u; __u64 tail[2]; } big = { 0 };
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_alloc(fd, 3, TT_ALLOC_MEM_L1, 1, 77, 0));
	big.u.device = 3;
	big.u.scope = TT_ALLOC_SCOPE_FILE;
	big.tail[1] = 0x1234;
	ASSERT_EQ(-E2BIG, tt_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
					    0x04, sizeof(big)), &big));
	EXPECT_EQ(0, big.u.used[TT_ALLOC_MEM_L1]);
	big.tail[1] = 0;
	ASSERT_EQ(0, tt_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
				       0x04, sizeof(big)), &big));
	EXPECT_EQ(77, big.u.used[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(0, big.tail[0]);
	ASSERT_EQ(-EINVAL, tt_ioctl(fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
					     0x04, TT_ALLOC_USAGE_SIZE_VER0 - 8), &big));
	close(fd);
}

TEST(batch_done_written_on_header_errors)
{
	struct tt_alloc_batch b = { .count = TT_ALLOC_BATCH_MAX + 1, .done = 77 };
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(-E2BIG, tt_ioctl(fd, TT_ALLOC_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	b.count = 1;
	b.flags = 1;
	b.done = 77;
	ASSERT_EQ(-EINVAL, tt_ioctl(fd, TT_ALLOC_IOC_BATCH, &b));
	EXPECT_EQ(0, b.done);
	b.flags = 0;
	b.done = 77;
	ASSERT_EQ(-EFAULT, tt_ioctl(fd, TT_ALLOC_IOC_BATCH, &b));	/* ops NULL */
	EXPECT_EQ(0, b.done);
	close(fd);
}

/* ---- array element sizes ---------------------------------------------- */

TEST(elem_size_feature)
{
	struct tt_alloc_info info;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_info(fd, &info));
	EXPECT_NE(0, info.features & TT_ALLOC_FEATURE_ELEM_SIZE);
	EXPECT_NE(0, info.features & TT_ALLOC_FEATURE_CLIENT_OWNER);
	/* This header's ops are still the first ones; its rows grew once. */
	EXPECT_EQ(TT_ALLOC_OP_SIZE_VER0, sizeof(struct tt_alloc_op));
	EXPECT_EQ(TT_ALLOC_CLIENT_SIZE_VER1, sizeof(struct tt_alloc_client));
	EXPECT_EQ(TT_ALLOC_CLIENT_SIZE_VER1,
		  offsetof(struct tt_alloc_client, cgroup_id) + sizeof(__u64));
	close(fd);
}

/* BATCH of count ops laid out op_size bytes apart (0: our own size). */
static int batch_sized(int fd, const void *ops, __u32 count, __u32 op_size,
		       __u32 *done)
{
	struct tt_alloc_batch b = {
		.ops = (__u64)(uintptr_t)ops, .count = count,
		.done = 0xdeadbeef, .op_size = op_size,
	};
	int ret = tt_ioctl(fd, TT_ALLOC_IOC_BATCH, &b);

	*done = b.done;
	return ret;
}

/*
 * count ops (ALLOC or FREE of ids 1.. on device 2, DRAM, 10 bytes each)
 * each at the start of a zeroed stride-byte slot.
 */
static char *sized_ops(__u32 op, __u32 count, size_t stride)
{
	char *p = calloc(count, stride);
	__u32 i;

	for (i = 0; p && i < count; i++) {
		struct tt_alloc_op o = tt_op(op, 2, TT_ALLOC_MEM_DRAM, i + 1, 10, 0);

		memcpy(p + i * stride, &o, sizeof(o));
	}
	return p;
}

/* This file's DRAM entries and bytes on device 2. */
static void file_dram(int fd, __u64 *allocations, __u64 *used)
{
	struct tt_alloc_usage u;

	*allocations = *used = UINT64_MAX;
	if (tt_usage(fd, 2, TT_ALLOC_SCOPE_FILE, &u))
		return;
	*allocations = u.allocations[TT_ALLOC_MEM_DRAM];
	*used = u.used[TT_ALLOC_MEM_DRAM];
}

TEST(batch_op_size_0_and_own_size)
{
	struct tt_alloc_op ops[3];
	__u64 n, used;
	__u32 done, i;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	for (i = 0; i < 3; i++)
		ops[i] = tt_op(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_MEM_DRAM, i + 1, 10, 0);
	ASSERT_EQ(0, batch_sized(fd, ops, 3, 0, &done));
	EXPECT_EQ(3, done);
	file_dram(fd, &n, &used);
	EXPECT_EQ(3, n);
	EXPECT_EQ(30, used);
	for (i = 0; i < 3; i++)
		ops[i].op = TT_ALLOC_OP_FREE;
	ASSERT_EQ(0, batch_sized(fd, ops, 3, sizeof(ops[0]), &done));
	EXPECT_EQ(3, done);
	file_dram(fd, &n, &used);
	EXPECT_EQ(0, n);
	EXPECT_EQ(0, used);
	close(fd);
}

/*
 * Longer ops, their tails zero: applied as ours. Odd, 8-aligned and the
 * largest strides, and more ops than the kernel reads in one step (128).
 */
TEST(batch_op_size_larger_zero_tail)
{
	static const __u32 strides[] = { TT_ALLOC_OP_SIZE_VER0 + 1, 64,
					 TT_ALLOC_ELEM_SIZE_MAX };
	const __u32 count = 300;
	unsigned int k;
	__u64 n, used;
	__u32 done;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	for (k = 0; k < TT_ARRAY_SIZE(strides); k++) {
		char *a = sized_ops(TT_ALLOC_OP_ALLOC, count, strides[k]);
		char *f = sized_ops(TT_ALLOC_OP_FREE, count, strides[k]);

		ASSERT_NE(NULL, a);
		ASSERT_NE(NULL, f);
		ASSERT_EQ(0, batch_sized(fd, a, count, strides[k], &done))
			TH_LOG("op_size %u", strides[k]);
		EXPECT_EQ(count, done);
		file_dram(fd, &n, &used);
		EXPECT_EQ(count, n) TH_LOG("op_size %u", strides[k]);
		EXPECT_EQ(10 * count, used);
		ASSERT_EQ(0, batch_sized(fd, f, count, strides[k], &done));
		EXPECT_EQ(count, done);
		file_dram(fd, &n, &used);
		EXPECT_EQ(0, n) TH_LOG("op_size %u", strides[k]);
		free(a);
		free(f);
	}
	close(fd);
}

/*
 * A non-zero byte in the tail of op number bad (its last byte: the whole
 * tail is checked): E2BIG, done = bad, the ops before it recorded, it and
 * those after not.
 */
static void tail_case(struct __test_metadata *_metadata, __u32 count,
		      __u32 bad, __u32 stride)
{
	char *a = sized_ops(TT_ALLOC_OP_ALLOC, count, stride);
	__u64 n, used;
	__u32 done;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, a);
	a[(size_t)bad * stride + stride - 1] = 1;
	ASSERT_EQ(-E2BIG, batch_sized(fd, a, count, stride, &done))
		TH_LOG("count %u bad %u op_size %u", count, bad, stride);
	EXPECT_EQ(bad, done);
	file_dram(fd, &n, &used);
	EXPECT_EQ(bad, n);
	EXPECT_EQ(10ULL * bad, used);
	/* Exactly ids 1..bad: the op with the tail was not applied. */
	EXPECT_EQ(-ENOENT, tt_free(fd, 2, TT_ALLOC_MEM_DRAM, bad + 1));
	if (bad)
		EXPECT_EQ(0, tt_free(fd, 2, TT_ALLOC_MEM_DRAM, bad));
	close(fd);
	free(a);
}

TEST(batch_op_size_nonzero_tail)
{
	tail_case(_metadata, 4, 2, 48);
	tail_case(_metadata, 4, 0, 48);
	tail_case(_metadata, 4, 3, TT_ALLOC_OP_SIZE_VER0 + 1);
	/* Beyond the kernel's first step of 128 ops. */
	tail_case(_metadata, 300, 130, 64);
	tail_case(_metadata, 300, 128, TT_ALLOC_ELEM_SIZE_MAX);
}

/* An op that fails on its own before the one with a tail: its error. */
TEST(batch_op_size_earlier_error_first)
{
	char *a = sized_ops(TT_ALLOC_OP_ALLOC, 4, 48);
	struct tt_alloc_op o = tt_op(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_MEM_COUNT, 9, 10, 0);
	__u64 n, used;
	__u32 done;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, a);
	memcpy(a + 1 * 48, &o, sizeof(o));	/* bad type */
	a[2 * 48 + 47] = 1;			/* bad tail */
	ASSERT_EQ(-EINVAL, batch_sized(fd, a, 4, 48, &done));
	EXPECT_EQ(1, done);
	file_dram(fd, &n, &used);
	EXPECT_EQ(1, n);
	close(fd);
	free(a);
}

/* Sizes out of range: EINVAL before any op, done 0, nothing recorded. */
TEST(batch_op_size_out_of_range)
{
	static const struct { __u32 op_size, count; } bad[] = {
		{ 1, 2 },
		{ TT_ALLOC_OP_SIZE_VER0 - 1, 2 },
		{ TT_ALLOC_ELEM_SIZE_MAX + 1, 2 },
		{ UINT32_MAX, 2 },
		/* count times size wraps 32 bits */
		{ 1U << 31, TT_ALLOC_BATCH_MAX },
		{ UINT32_MAX, TT_ALLOC_BATCH_MAX },
	};
	char *a = sized_ops(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_ELEM_SIZE_MAX + 1);
	unsigned int k;
	__u64 n, used;
	__u32 done;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, a);
	for (k = 0; k < TT_ARRAY_SIZE(bad); k++) {
		EXPECT_EQ(-EINVAL, batch_sized(fd, a, bad[k].count, bad[k].op_size, &done))
			TH_LOG("op_size %u count %u", bad[k].op_size, bad[k].count);
		EXPECT_EQ(0, done);
	}
	file_dram(fd, &n, &used);
	EXPECT_EQ(0, n);
	EXPECT_EQ(0, used);
	close(fd);
	free(a);
}

/* Longer ops, the third one's tail on an unmapped page: two applied, EFAULT. */
TEST(batch_op_size_tail_faults)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = tt_page_before_hole(), *a;
	__u64 n, used;
	__u32 done, i;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, p);
	a = p + pg - 2 * 64 - 48;	/* op 2 has 48 of its 64 bytes */
	for (i = 0; i < 3; i++) {
		struct tt_alloc_op o = tt_op(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_MEM_DRAM, i + 1, 10, 0);

		memcpy(a + i * 64, &o, sizeof(o));
	}
	ASSERT_EQ(-EFAULT, batch_sized(fd, a, 3, 64, &done));
	EXPECT_EQ(2, done);
	file_dram(fd, &n, &used);
	EXPECT_EQ(2, n);
	close(fd);
	munmap(p, pg);
}

static int clients_sized(int fd, void *rows, __u32 room, __u32 row_size,
			 __u32 *count)
{
	struct tt_alloc_clients c = {
		.clients = (__u64)(uintptr_t)rows, .count = room,
		.row_size = row_size,
	};
	int ret = tt_ioctl(fd, TT_ALLOC_IOC_CLIENTS, &c);

	*count = c.count;
	return ret;
}

/*
 * Any row size: each row written is the first row_size bytes of the
 * kernel's row (this header's) and a zeroed tail beyond it (the buffer
 * starts as 0xff), and nothing is written past the rows. Row size 0 is
 * the first one: rows without their owner.
 */
TEST(clients_row_size_larger)
{
	static const __u32 strides[] = { TT_ALLOC_CLIENT_SIZE_VER0,
					 TT_ALLOC_CLIENT_SIZE_VER0 + 1,
					 TT_ALLOC_CLIENT_SIZE_VER1 - 1,
					 TT_ALLOC_CLIENT_SIZE_VER1, 256,
					 TT_ALLOC_ELEM_SIZE_MAX, 0 };
	const size_t ksz = sizeof(struct tt_alloc_client);
	struct tt_alloc_client ref[32];
	__u32 total, got, i, k;
	int fds[4];
	size_t j;

	for (i = 0; i < 4; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
		ASSERT_EQ(0, tt_alloc(fds[i], i, TT_ALLOC_MEM_L1, 1, 100 + i, 0));
	}
	ASSERT_EQ(0, clients_sized(fds[0], ref, 32, ksz, &total));
	ASSERT_LE(4, total);
	ASSERT_GE(30, total);
	/* The owner is there to cut off: ours, root in the guest. */
	EXPECT_EQ(getuid(), ref[0].uid);
	EXPECT_NE(0, ref[0].cgroup_id);
	for (k = 0; k < TT_ARRAY_SIZE(strides); k++) {
		__u32 st = strides[k] ?: TT_ALLOC_CLIENT_SIZE_VER0;
		size_t known = st < ksz ? st : ksz;
		unsigned char *buf = malloc((size_t)(total + 2) * st);

		ASSERT_NE(NULL, buf);
		memset(buf, 0xff, (size_t)(total + 2) * st);
		ASSERT_EQ(0, clients_sized(fds[0], buf, total + 2, strides[k], &got))
			TH_LOG("row_size %u", strides[k]);
		ASSERT_EQ(total, got);
		for (i = 0; i < total; i++) {
			unsigned char *r = buf + (size_t)i * st;

			EXPECT_EQ(0, memcmp(r, &ref[i], known))
				TH_LOG("row_size %u row %u differs", st, i);
			for (j = known; j < st; j++)
				if (r[j])
					break;
			EXPECT_EQ(st, j) TH_LOG("row_size %u row %u byte %zu not zeroed", st, i, j);
		}
		for (j = (size_t)total * st; j < (size_t)(total + 2) * st; j++)
			if (buf[j] != 0xff)
				break;
		EXPECT_EQ((size_t)(total + 2) * st, j) TH_LOG("row_size %u: written past the rows", st);
		free(buf);
	}
	for (i = 0; i < 4; i++)
		close(fds[i]);
}

/* Sizes out of range: EINVAL, count not written, the rows untouched. */
TEST(clients_row_size_out_of_range)
{
	static const struct { __u32 row_size, count; } bad[] = {
		{ 1, 4 },
		{ TT_ALLOC_CLIENT_SIZE_VER0 - 1, 4 },
		{ TT_ALLOC_ELEM_SIZE_MAX + 1, 4 },
		{ UINT32_MAX, 4 },
		{ 1U << 31, TT_ALLOC_CLIENTS_MAX },
		{ UINT32_MAX, TT_ALLOC_CLIENTS_MAX },
	};
	size_t len = 4 * (size_t)(TT_ALLOC_ELEM_SIZE_MAX + 1);
	unsigned char *buf = malloc(len);
	unsigned int k;
	__u32 count;
	size_t j;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_NE(NULL, buf);
	ASSERT_EQ(0, tt_alloc(fd, 1, TT_ALLOC_MEM_L1, 1, 100, 0));
	memset(buf, 0xff, len);
	for (k = 0; k < TT_ARRAY_SIZE(bad); k++) {
		EXPECT_EQ(-EINVAL, clients_sized(fd, buf, bad[k].count, bad[k].row_size, &count))
			TH_LOG("row_size %u count %u", bad[k].row_size, bad[k].count);
		EXPECT_EQ(bad[k].count, count);
	}
	for (j = 0; j < len; j++)
		if (buf[j] != 0xff)
			break;
	EXPECT_EQ(len, j);
	close(fd);
	free(buf);
}

/* Longer rows, the second one's tail on an unmapped page: EFAULT. */
TEST(clients_row_size_tail_faults)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = tt_page_before_hole();
	__u32 count;
	int fds[2], i;

	ASSERT_NE(NULL, p);
	for (i = 0; i < 2; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
	}
	/* Row 1 ends on the hole: 176 of its 184 known bytes mapped. */
	ASSERT_EQ(-EFAULT, clients_sized(fds[0], p + pg - 256 - 176, 2, 256, &count));
	for (i = 0; i < 2; i++)
		close(fds[i]);
	munmap(p, pg);
}

/* ---- read-only files -------------------------------------------------- */

TEST(rdonly_file_cannot_record)
{
	struct tt_alloc_op op = tt_op(TT_ALLOC_OP_ALLOC, 0, TT_ALLOC_MEM_DRAM, 1, 10, 0);
	struct tt_alloc_client rows[8];
	struct tt_alloc_usage u;
	struct tt_alloc_info info;
	__u32 done = 99, n = 8;
	int fd = open(TT_DEV_PATH, O_RDONLY | O_CLOEXEC), rw = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_LE(0, rw);
	ASSERT_EQ(0, tt_alloc(rw, 0, TT_ALLOC_MEM_DRAM, 1, 10, 0));
	EXPECT_EQ(-EBADF, tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 10, 0));
	EXPECT_EQ(-EBADF, tt_free(fd, 0, TT_ALLOC_MEM_DRAM, 1));
	EXPECT_EQ(-EBADF, tt_batch(fd, &op, 1, &done));
	/* Whatever the argument: the file's mode is checked first. */
	EXPECT_EQ(-EBADF, tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, NULL));
	EXPECT_EQ(0, tt_info(fd, &info));
	EXPECT_EQ(0, tt_usage(fd, 0, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_LE(10, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, tt_usage(fd, 0, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(0, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, tt_clients(fd, rows, &n));
	EXPECT_LE(2, n);
	/* The writable file's entry is untouched. */
	EXPECT_EQ(0, tt_free(rw, 0, TT_ALLOC_MEM_DRAM, 1));
	close(fd);
	close(rw);
}

/* ---- the client-list cursor ------------------------------------------ */

TEST(clients_cursor_one_row_at_a_time)
{
	struct tt_alloc_client all[64], one;
	int fds[5], i;
	__u32 total, k = 0, left;
	__u64 aid = 0;
	__u32 adev = 0;

	for (i = 0; i < 5; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
		if (i % 2)
			ASSERT_EQ(0, tt_alloc(fds[i], 0, TT_ALLOC_MEM_DRAM, 1, 10, 0));
		if (i % 3)
			ASSERT_EQ(0, tt_alloc(fds[i], 4, TT_ALLOC_MEM_L1, 1, 10, 0));
	}
	ASSERT_EQ(0, clients_at(fds[0], all, 64, 0, 0, &total));
	ASSERT_GE(64, total);
	ASSERT_LE(5, total);
	for (;;) {
		ASSERT_GE(total, k);
		ASSERT_EQ(0, clients_at(fds[0], &one, 1, aid, adev, &left));
		ASSERT_EQ(total - k, left);
		if (!left)
			break;
		EXPECT_EQ(all[k].client_id, one.client_id);
		EXPECT_EQ(all[k].device, one.device);
		if (k) {
			/* Rows come in (client id, device) order. */
			EXPECT_TRUE(one.client_id > aid ||
				    (one.client_id == aid && one.device > adev));
		}
		aid = one.client_id;
		adev = one.device;
		k++;
	}
	EXPECT_EQ(total, k);
	/* A row size below the first, and reserved fields, are refused. */
	{
		struct tt_alloc_clients c = { .row_size = 1 };

		EXPECT_EQ(-EINVAL, tt_ioctl(fds[0], TT_ALLOC_IOC_CLIENTS, &c));
		c.row_size = 0;
		c.reserved2[1] = 1;
		EXPECT_EQ(-EINVAL, tt_ioctl(fds[0], TT_ALLOC_IOC_CLIENTS, &c));
	}
	for (i = 0; i < 5; i++)
		close(fds[i]);
}

/*
 * More rows than TT_ALLOC_CLIENTS_MAX, the most one call returns: files
 * holding an entry on every device, TT_ALLOC_CLIENTS_MAX + 464 rows in
 * all (8,250 files on the 8 devices of the default load). The cursor
 * reads them all, each exactly once. A file per row would do as well but
 * open()+close() is most of the cost on a debug kernel.
 */
#define ROWS	(TT_ALLOC_CLIENTS_MAX + 464)

TEST_F_TIMEOUT(abi, clients_cursor_more_rows_than_one_call, 600)
{
	struct tt_alloc_client *rows;
	struct tt_alloc_info info;
	struct rlimit rl;
	__u64 first, aid = 0, seen = 0;
	__u32 adev = 0, left, got, i, d, calls = 0, ndev, nfiles;
	unsigned char *mark;
	int *fds, fd;

	fd = tt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_info(fd, &info));
	close(fd);
	ndev = info.num_devices;
	nfiles = (ROWS + ndev - 1) / ndev;
	rl.rlim_cur = rl.rlim_max = nfiles + 256;
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	fds = calloc(nfiles, sizeof(*fds));
	rows = calloc(TT_ALLOC_CLIENTS_MAX, sizeof(*rows));
	mark = calloc(nfiles, ndev);
	ASSERT_NE(NULL, fds);
	ASSERT_NE(NULL, rows);
	ASSERT_NE(NULL, mark);
	for (i = 0; i < nfiles; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]) TH_LOG("open #%u", i);
		for (d = 0; d < ndev; d++)
			ASSERT_EQ(0, tt_alloc(fds[i], d, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	}
	ASSERT_EQ(0, tt_info(fds[0], &info));
	first = info.client_id;

	do {
		ASSERT_EQ(0, clients_at(fds[0], rows, TT_ALLOC_CLIENTS_MAX, aid, adev, &left));
		got = left < TT_ALLOC_CLIENTS_MAX ? left : TT_ALLOC_CLIENTS_MAX;
		for (i = 0; i < got; i++) {
			__u64 k = rows[i].client_id - first;

			if (rows[i].client_id < first || k >= nfiles)
				continue;	/* another program's client */
			ASSERT_GT(ndev, rows[i].device);
			EXPECT_EQ(0, mark[k * ndev + rows[i].device]);
			mark[k * ndev + rows[i].device] = 1;
			seen++;
		}
		if (got) {
			aid = rows[got - 1].client_id;
			adev = rows[got - 1].device;
		}
		calls++;
		/* ROWS in pieces of 65,536: a cursor that does not move loops. */
		ASSERT_GT(10, calls);
	} while (left > got);
	EXPECT_EQ((__u64)nfiles * ndev, seen);
	EXPECT_LE(2, calls) TH_LOG("%u calls", calls);

	for (i = 0; i < nfiles; i++)
		close(fds[i]);
	free(mark);
	free(rows);
	free(fds);
}

/* ---- the peak is never below the use --------------------------------- */

static volatile int peak_stop;

static void *peak_writer(void *arg)
{
	int fd = *(int *)arg;
	__u64 id = 0;

	while (!peak_stop) {
		/* Every ALLOC is a new high: the peak moves with it. */
		if (tt_alloc(fd, 7, TT_ALLOC_MEM_TRACE, id++, 1, 0))
			break;
		if (id == 500000)
			break;
	}
	return NULL;
}

TEST_F_TIMEOUT(abi, peak_never_below_used, 120)
{
	struct tt_alloc_usage u;
	pthread_t th[2];
	int fds[2], i;
	__u64 bad = 0, reads = 0, t0;

	for (i = 0; i < 2; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
	}
	peak_stop = 0;
	for (i = 0; i < 2; i++)
		ASSERT_EQ(0, pthread_create(&th[i], NULL, peak_writer, &fds[i]));
	t0 = tt_now_ms();
	while (tt_now_ms() - t0 < 3000) {
		ASSERT_EQ(0, tt_usage(fds[0], 7, TT_ALLOC_SCOPE_DEVICE, &u));
		bad += u.peak[TT_ALLOC_MEM_TRACE] < u.used[TT_ALLOC_MEM_TRACE];
		reads++;
	}
	peak_stop = 1;
	for (i = 0; i < 2; i++)
		pthread_join(th[i], NULL);
	EXPECT_EQ(0, bad) TH_LOG("%llu of %llu reads saw peak < used",
				 (unsigned long long)bad, (unsigned long long)reads);
	for (i = 0; i < 2; i++)
		close(fds[i]);
	ASSERT_EQ(0, tt_reset_peaks(7));
}

/* ---- the debugfs dump streams ------------------------------------------ */

static long mem_available_kb(void)
{
	char line[128];
	long v = -1;
	FILE *f = fopen("/proc/meminfo", "r");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %ld kB", &v) == 1)
			break;
	fclose(f);
	return v;
}

#define DUMP_N	200000

TEST_F_TIMEOUT(abi, debugfs_dump_streams, 600)
{
	struct tt_alloc_op *ops = calloc(4096, sizeof(*ops));
	struct tt_alloc_info info;
	long before, after;
	__u64 lines = 0, mine = 0;
	char buf[97], *p, cid[32];
	int fd = tt_open(), dfd;
	__u32 i, j, done;
	ssize_t n;

	ASSERT_NE(NULL, ops);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_info(fd, &info));
	for (i = 0; i < DUMP_N; i += 4096) {
		for (j = 0; j < 4096; j++)
			ops[j] = tt_op(TT_ALLOC_OP_ALLOC, 6, TT_ALLOC_MEM_CB, i + j, 8, 0);
		ASSERT_EQ(0, tt_batch(fd, ops, i + 4096 <= DUMP_N ? 4096 : DUMP_N - i, &done));
	}
	dfd = open(DBG_PATH, O_RDONLY | O_CLOEXEC);
	if (dfd < 0)
		SKIP(return, "no %s", DBG_PATH);
	/*
	 * One byte read: a dump that formats a whole client at once would
	 * hold ~10 MB of buffer for DUMP_N entries now; a streaming one a page.
	 */
	before = mem_available_kb();
	ASSERT_EQ(1, read(dfd, buf, 1));
	after = mem_available_kb();
	EXPECT_GT(4096, before - after) TH_LOG("MemAvailable dropped by %ld kB", before - after);
	ASSERT_EQ(0, lseek(dfd, 0, SEEK_SET));

	/* Read in odd-sized pieces; every entry shows up exactly once. */
	snprintf(cid, sizeof(cid), "%llu\t", (unsigned long long)info.client_id);
	{
		char line[256];
		size_t ll = 0;

		while ((n = read(dfd, buf, sizeof(buf))) > 0) {
			for (p = buf; p < buf + n; p++) {
				if (*p != '\n') {
					if (ll < sizeof(line) - 1)
						line[ll++] = *p;
					continue;
				}
				line[ll] = 0;
				lines++;
				mine += !strncmp(line, cid, strlen(cid));
				ll = 0;
			}
		}
		ASSERT_EQ(0, n);
	}
	EXPECT_EQ(DUMP_N, mine);
	EXPECT_LE(DUMP_N + 1, lines);
	close(dfd);
	close(fd);
	free(ops);
}

TEST_HARNESS_MAIN
