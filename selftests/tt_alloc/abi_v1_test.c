// SPDX-License-Identifier: GPL-2.0
/*
 * A binary built against the first published uapi header keeps working:
 * this program is compiled with abi_v1/linux/tt_alloc.h, a frozen copy of
 * that header, instead of the tree's current one (see the Makefile), and
 * uses every command with the structure sizes of that version.
 *
 * Expects the module loaded with its defaults.
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

/* The header really is the old one. */
_Static_assert(sizeof(struct tt_alloc_info) == 24, "v1 tt_alloc_info");
_Static_assert(sizeof(struct tt_alloc_clients) == 16, "v1 tt_alloc_clients");
_Static_assert(TT_ALLOC_IOC_INFO == _IOR(0xBA, 0x00, char[24]), "v1 INFO");
_Static_assert(TT_ALLOC_IOC_CLIENTS == _IOWR(0xBA, 0x05, char[16]), "v1 CLIENTS");

TEST(v1_info)
{
	struct { struct tt_alloc_info i; __u64 after; } a;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	memset(&a, 0x5a, sizeof(a));
	ASSERT_EQ(0, tt_ioctl(fd, TT_ALLOC_IOC_INFO, &a.i));
	EXPECT_EQ(1, a.i.api_version);
	EXPECT_EQ(TT_DEF_DEVICES, a.i.num_devices);
	EXPECT_EQ(TT_ALLOC_MEM_COUNT, a.i.num_mem_types);
	EXPECT_EQ(0, a.i.flags);
	EXPECT_NE(0, a.i.client_id);
	/* The newer kernel writes no byte past the 24 the caller knows. */
	EXPECT_EQ(0x5a5a5a5a5a5a5a5aULL, a.after);
	close(fd);
}

TEST(v1_alloc_free_batch_usage)
{
	struct tt_alloc_op ops[3] = {
		tt_op(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_MEM_L1, 2, 50, 0),
		tt_op(TT_ALLOC_OP_ALLOC, 2, TT_ALLOC_MEM_KERNEL, 3, 60, TT_ALLOC_KERNEL_FABRIC),
		tt_op(TT_ALLOC_OP_FREE, 2, TT_ALLOC_MEM_L1, 2, 0, 0),
	};
	struct tt_alloc_usage u;
	__u32 done = 99;
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_alloc(fd, 2, TT_ALLOC_MEM_DRAM, 1, 4096, 0));
	ASSERT_EQ(0, tt_batch(fd, ops, 3, &done));
	EXPECT_EQ(3, done);
	ASSERT_EQ(0, tt_usage(fd, 2, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(4096, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, u.used[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(60, u.used[TT_ALLOC_MEM_KERNEL]);
	ASSERT_EQ(0, tt_usage(fd, 2, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_LE(4096, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_LE(u.used[TT_ALLOC_MEM_DRAM], u.peak[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, tt_free(fd, 2, TT_ALLOC_MEM_DRAM, 1));
	EXPECT_EQ(-ENOENT, tt_free(fd, 2, TT_ALLOC_MEM_DRAM, 1));
	/* The old errors are the same. */
	EXPECT_EQ(-EINVAL, tt_alloc(fd, 2, TT_ALLOC_MEM_DRAM, 1, 0, 0));
	EXPECT_EQ(-ENODEV, tt_alloc(fd, TT_DEF_DEVICES, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	EXPECT_EQ(-ENOTTY, tt_ioctl(fd, _IOR(TT_ALLOC_IOC_MAGIC, 0x06, __u64), &u));
	close(fd);
}

TEST(v1_clients)
{
	struct tt_alloc_client rows[64];
	struct tt_alloc_info i1, i2;
	__u32 n = 64, k, found = 0;
	int fd1 = tt_open(), fd2 = tt_open();

	ASSERT_LE(0, fd1);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tt_info(fd1, &i1));
	ASSERT_EQ(0, tt_info(fd2, &i2));
	ASSERT_EQ(0, tt_alloc(fd1, 0, TT_ALLOC_MEM_DRAM, 1, 100, 0));
	ASSERT_EQ(0, tt_alloc(fd1, 1, TT_ALLOC_MEM_DRAM, 1, 100, 0));
	ASSERT_EQ(0, tt_clients(fd1, rows, &n));
	ASSERT_GE(64, n);
	for (k = 0; k < n; k++) {
		if (rows[k].client_id == i1.client_id) {
			EXPECT_EQ(found, rows[k].device);
			EXPECT_EQ(100, rows[k].used[TT_ALLOC_MEM_DRAM]);
			found++;
		}
		if (rows[k].client_id == i2.client_id) {
			EXPECT_EQ(TT_ALLOC_DEVICE_NONE, rows[k].device);
			found += 10;
		}
	}
	EXPECT_EQ(12, found);
	/* Room for one: one row written, all counted, as before. */
	k = 1;
	ASSERT_EQ(0, tt_clients(fd1, rows, &k));
	EXPECT_EQ(n, k);
	close(fd1);
	close(fd2);
}

TEST_HARNESS_MAIN
