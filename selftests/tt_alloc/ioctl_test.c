// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc ioctl ABI: every command, every validation failure (one TEST
 * each), and the promise that a failed call changes nothing.
 *
 * Expects the module loaded with its defaults (8 devices, unknown
 * capacities, enforce_capacity=0, max_allocations_per_file=1048576).
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <termios.h>

/*
 * The "ioc" fixture: an open file that already holds three entries, and a
 * snapshot of every device taken after recording them.
 */
#define A_DEV	0
#define A_TYPE	TT_ALLOC_MEM_DRAM
#define A_ID	0x1000ULL
#define A_SIZE	4096ULL
#define B_DEV	1
#define B_TYPE	TT_ALLOC_MEM_L1
#define B_ID	0x2000ULL
#define B_SIZE	128ULL
#define C_DEV	0
#define C_TYPE	TT_ALLOC_MEM_KERNEL
#define C_ID	0x3000ULL
#define C_SIZE	1024ULL
#define C_KIND	TT_ALLOC_KERNEL_FABRIC

/* The device the tests record new entries on (the fixture holds none). */
#define T_DEV	2

FIXTURE(ioc) {
	int fd;
	__u32 ndev;
	struct tt_alloc_info info;
	struct tt_dev_state before[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(ioc)
{
	/* sysfs of the fixture's and the tests' main devices; sysfs_test covers the rest. */
	tt_sysfs_mask = (1ULL << A_DEV) | (1ULL << B_DEV) | (1ULL << T_DEV);
	self->fd = tt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open " TT_DEV_PATH ": %s", strerror(-self->fd));
	ASSERT_EQ(0, tt_info(self->fd, &self->info));
	ASSERT_EQ(TT_DEF_DEVICES, self->info.num_devices)
		TH_LOG("ioctl_test expects the module's default 8 devices");
	self->ndev = self->info.num_devices;
	ASSERT_EQ(0, tt_alloc(self->fd, A_DEV, A_TYPE, A_ID, A_SIZE, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, B_DEV, B_TYPE, B_ID, B_SIZE, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, C_DEV, C_TYPE, C_ID, C_SIZE, C_KIND));
	tt_snapshot_all(_metadata, self->fd, self->before);
	memcpy(self->exp, self->before, sizeof(self->exp));
	/* The fixture's own entries are visible in both scopes. */
	ASSERT_EQ(A_SIZE, self->before[A_DEV].f_used[A_TYPE]);
	ASSERT_EQ(1, self->before[A_DEV].f_allocs[A_TYPE]);
	ASSERT_EQ(B_SIZE, self->before[B_DEV].f_used[B_TYPE]);
	ASSERT_EQ(C_SIZE, self->before[C_DEV].f_used[C_TYPE]);
	ASSERT_LE(A_SIZE, self->before[A_DEV].used[A_TYPE]);
	ASSERT_LE(C_SIZE, self->before[C_DEV].system_bytes);
	ASSERT_EQ(0, tt_sum(self->before[T_DEV].f_allocs));
}

FIXTURE_TEARDOWN(ioc)
{
	if (self->fd >= 0)
		close(self->fd);
}

#define UNCHANGED()	tt_assert_unchanged(_metadata, self->fd, self->before)
#define EXPECTED()	tt_assert_state_all(_metadata, self->fd, self->exp)

/* ================================================================== */
/* INFO                                                               */
/* ================================================================== */

TEST_F(ioc, info_values)
{
	struct tt_alloc_info again;

	EXPECT_EQ(TT_ALLOC_API_VERSION, self->info.api_version);
	EXPECT_EQ(1, self->info.api_version);
	EXPECT_EQ(TT_DEF_DEVICES, self->info.num_devices);
	EXPECT_EQ(TT_ALLOC_MEM_COUNT, self->info.num_mem_types);
	EXPECT_EQ(0, self->info.flags);
	/* Loaded with no capacity known: no dmem regions, nothing charged. */
	EXPECT_EQ(TT_ALLOC_FEATURE_CLIENTS_CURSOR | TT_ALLOC_FEATURE_ELEM_SIZE |
		  TT_ALLOC_FEATURE_CLIENT_OWNER, self->info.features);
	/* Stable for the file. */
	ASSERT_EQ(0, tt_info(self->fd, &again));
	EXPECT_EQ(self->info.client_id, again.client_id);
	EXPECT_EQ(0, memcmp(&self->info, &again, sizeof(again)));
}

TEST_F(ioc, info_client_id_per_open)
{
	struct tt_alloc_info i2, i3;
	int fd2 = tt_open(), fd3 = tt_open(), dupfd;

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);
	ASSERT_EQ(0, tt_info(fd2, &i2));
	ASSERT_EQ(0, tt_info(fd3, &i3));
	EXPECT_NE(self->info.client_id, i2.client_id);
	EXPECT_NE(self->info.client_id, i3.client_id);
	EXPECT_NE(i2.client_id, i3.client_id);
	/* A dup is the same open file, the same client. */
	dupfd = dup(fd2);
	ASSERT_LE(0, dupfd);
	ASSERT_EQ(0, tt_info(dupfd, &i3));
	EXPECT_EQ(i2.client_id, i3.client_id);
	close(dupfd);
	close(fd2);
	close(fd3);
}

TEST_F(ioc, info_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_INFO, NULL));
}

TEST_F(ioc, info_arg_unmapped)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_INFO, tt_unmapped_addr()));
}

TEST_F(ioc, info_arg_readonly)
{
	struct tt_alloc_info zero = { 0 };
	struct tt_alloc_info *ro = tt_readonly_copy(&zero, sizeof(zero));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_INFO, ro));
}

TEST_F(ioc, info_arg_straddles_hole)
{
	char *p = tt_page_before_hole();

	ASSERT_NE(NULL, p);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_INFO,
				    p + sysconf(_SC_PAGESIZE) - 8));
}

/* ================================================================== */
/* ENOTTY                                                             */
/* ================================================================== */

TEST_F(ioc, enotty_unknown_nr)
{
	struct tt_alloc_clients c = { 0 };

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOWR(TT_ALLOC_IOC_MAGIC, 0x06,
						    struct tt_alloc_clients), &c));
	UNCHANGED();
}

TEST_F(ioc, enotty_nr_ff)
{
	__u64 v = 0;

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOR(TT_ALLOC_IOC_MAGIC, 0xff, __u64), &v));
}

TEST_F(ioc, enotty_other_magic)
{
	struct tt_alloc_info i = { 0 };

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOR(0xFA, 0x00, struct tt_alloc_info), &i));
	EXPECT_EQ(0, i.api_version);
}

TEST_F(ioc, enotty_tcgets)
{
	struct termios t;

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, TCGETS, &t));
}

/* Sizes: a larger INFO gets what this kernel knows, the rest untouched. */
TEST_F(ioc, info_larger_size)
{
	char buf[64];

	memset(buf, 0x5a, sizeof(buf));
	ASSERT_EQ(0, tt_ioctl(self->fd, _IOC(_IOC_READ, TT_ALLOC_IOC_MAGIC, 0x00,
					     sizeof(struct tt_alloc_info) + 8), buf));
	EXPECT_EQ(0, memcmp(buf, &self->info, sizeof(self->info)));
	EXPECT_EQ(0x5a, buf[sizeof(struct tt_alloc_info)]);
}

TEST_F(ioc, info_below_ver0_einval)
{
	char buf[64] = { 0 };

	ASSERT_EQ(-EINVAL, tt_ioctl(self->fd, _IOC(_IOC_READ, TT_ALLOC_IOC_MAGIC, 0x00,
						   TT_ALLOC_INFO_SIZE_VER0 - 8), buf));
	ASSERT_EQ(-EINVAL, tt_ioctl(self->fd, _IOC(_IOC_READ, TT_ALLOC_IOC_MAGIC, 0x00, 0),
				    buf));
}

TEST_F(ioc, enotty_info_wrong_dir)
{
	struct tt_alloc_info i = { 0 };

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOW(TT_ALLOC_IOC_MAGIC, 0x00,
						   struct tt_alloc_info), &i));
}

TEST_F(ioc, enotty_alloc_wrong_dir)
{
	struct tt_alloc_buffer b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0);

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOWR(TT_ALLOC_IOC_MAGIC, 0x01,
						    struct tt_alloc_buffer), &b));
	UNCHANGED();
}

TEST_F(ioc, alloc_short_size_einval)
{
	struct tt_alloc_buffer b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0);

	ASSERT_EQ(-EINVAL, tt_ioctl(self->fd, _IOC(_IOC_WRITE, TT_ALLOC_IOC_MAGIC, 0x01,
						   sizeof(b) - 8), &b));
	UNCHANGED();
}

/* A newer, longer struct whose unknown tail is zero is accepted... */
TEST_F(ioc, alloc_long_size_zero_tail_ok)
{
	struct { struct tt_alloc_buffer b; __u64 pad; } big = {
		.b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0),
	};

	ASSERT_EQ(0, tt_ioctl(self->fd, _IOC(_IOC_WRITE, TT_ALLOC_IOC_MAGIC, 0x01,
					     sizeof(big)), &big));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	EXPECTED();
}

/* ... one with a non-zero byte this kernel does not know is E2BIG. */
TEST_F(ioc, alloc_long_size_nonzero_tail_e2big)
{
	struct { struct tt_alloc_buffer b; __u8 pad[8]; } big = {
		.b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0),
	};

	big.pad[7] = 1;
	ASSERT_EQ(-E2BIG, tt_ioctl(self->fd, _IOC(_IOC_WRITE, TT_ALLOC_IOC_MAGIC, 0x01,
						  sizeof(big)), &big));
	UNCHANGED();
}

TEST_F(ioc, free_long_size_zero_tail_ok)
{
	struct { struct tt_alloc_buffer b; __u64 pad; } big = {
		.b = tt_buf(A_DEV, A_TYPE, A_ID, 0, 0),
	};

	ASSERT_EQ(0, tt_ioctl(self->fd, _IOC(_IOC_WRITE, TT_ALLOC_IOC_MAGIC, 0x02,
					     sizeof(big)), &big));
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
}

TEST_F(ioc, enotty_free_no_dir)
{
	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IO(TT_ALLOC_IOC_MAGIC, 0x02), NULL));
	UNCHANGED();
}

TEST_F(ioc, enotty_batch_wrong_dir)
{
	struct tt_alloc_op op = tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0);
	struct tt_alloc_batch b = { .ops = (uintptr_t)&op, .count = 1 };

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOW(TT_ALLOC_IOC_MAGIC, 0x03,
						   struct tt_alloc_batch), &b));
	UNCHANGED();
}

TEST_F(ioc, enotty_usage_wrong_dir)
{
	struct tt_alloc_usage u = { .device = 0, .scope = TT_ALLOC_SCOPE_DEVICE };

	ASSERT_EQ(-ENOTTY, tt_ioctl(self->fd, _IOR(TT_ALLOC_IOC_MAGIC, 0x04,
						   struct tt_alloc_usage), &u));
	EXPECT_EQ(0, u.used[A_TYPE]);
}

/* The 16-byte CLIENTS of version 0 still works, without a cursor. */
TEST_F(ioc, clients_ver0_size)
{
	struct { struct tt_alloc_clients c; __u64 pad; } v0 = { 0 };

	ASSERT_EQ(0, tt_ioctl(self->fd, _IOC(_IOC_READ | _IOC_WRITE, TT_ALLOC_IOC_MAGIC,
					     0x05, TT_ALLOC_CLIENTS_SIZE_VER0), &v0));
	EXPECT_LE(2, v0.c.count);	/* the fixture's two devices at least */
	EXPECT_EQ(0, v0.pad);
}

/* ================================================================== */
/* ALLOC                                                              */
/* ================================================================== */

TEST_F(ioc, alloc_records_entry)
{
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	EXPECTED();
	EXPECT_EQ(4096, self->exp[T_DEV].f_used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(1, self->exp[T_DEV].clients - self->before[T_DEV].clients);
}

TEST_F(ioc, alloc_every_type)
{
	int t;

	for (t = 0; t < TT_NTYPES; t++) {
		ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, t, 0x500 + t, 1000 * (t + 1),
				      TT_ALLOC_KERNEL_APP)) TH_LOG("type %d", t);
		tt_state_add(&self->exp[T_DEV], t, 1000 * (t + 1), 1, true);
	}
	EXPECTED();
	for (t = 0; t < TT_NTYPES; t++)
		EXPECT_EQ(1000ULL * (t + 1), self->exp[T_DEV].f_used[t]);
}

TEST_F(ioc, alloc_kernel_kinds)
{
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_KERNEL, 1, 10, TT_ALLOC_KERNEL_APP));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_KERNEL, 2, 20, TT_ALLOC_KERNEL_FABRIC));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_KERNEL, 3, 40, TT_ALLOC_KERNEL_DISPATCH));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_KERNEL, 70, 3, true);
	self->exp[T_DEV].system_bytes += 60;
	EXPECTED();
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_KERNEL, 2));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_KERNEL, -20, -1, true);
	self->exp[T_DEV].system_bytes -= 20;
	EXPECTED();
}

TEST_F(ioc, alloc_arg_readonly_ok)
{
	struct tt_alloc_buffer b = tt_buf(T_DEV, TT_ALLOC_MEM_L1, 0x77, 512, 0);
	struct tt_alloc_buffer *ro = tt_readonly_copy(&b, sizeof(b));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, ro));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 512, 1, true);
	EXPECTED();
}

TEST_F(ioc, alloc_size_max_ok)
{
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_TRACE, 1, TT_ALLOC_SIZE_MAX, 0));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_TRACE, TT_ALLOC_SIZE_MAX, 1, true);
	EXPECTED();
}

TEST_F(ioc, alloc_id_zero_and_max_ok)
{
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_CB, 0, 16, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_CB, UINT64_MAX, 32, 0));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_CB, 48, 2, true);
	EXPECTED();
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_CB, UINT64_MAX));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_CB, -32, -1, true);
	EXPECTED();
}

TEST_F(ioc, alloc_last_device_ok)
{
	ASSERT_EQ(0, tt_alloc(self->fd, self->ndev - 1, TT_ALLOC_MEM_DRAM, 9, 99, 0));
	tt_state_add(&self->exp[self->ndev - 1], TT_ALLOC_MEM_DRAM, 99, 1, true);
	EXPECTED();
}

TEST_F(ioc, alloc_same_key_takes_reference)
{
	int i;

	for (i = 0; i < 3; i++)
		ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_L1, 7, 256, 0)) TH_LOG("ALLOC #%d", i);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 256, 1, true);
	EXPECTED();
	/* As many FREEs as ALLOCs: the first two only drop references. */
	for (i = 0; i < 2; i++) {
		ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_L1, 7)) TH_LOG("FREE #%d", i);
		EXPECTED();
	}
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_L1, 7));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, -256, -1, true);
	EXPECTED();
	ASSERT_EQ(-ENOENT, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_L1, 7));
	EXPECTED();
}

TEST_F(ioc, alloc_same_kernel_key_takes_reference)
{
	ASSERT_EQ(0, tt_alloc(self->fd, C_DEV, C_TYPE, C_ID, C_SIZE, C_KIND));
	UNCHANGED();
	ASSERT_EQ(0, tt_free(self->fd, C_DEV, C_TYPE, C_ID));
	UNCHANGED();
	ASSERT_EQ(0, tt_free(self->fd, C_DEV, C_TYPE, C_ID));
	tt_state_add(&self->exp[C_DEV], C_TYPE, -C_SIZE, -1, true);
	self->exp[C_DEV].system_bytes -= C_SIZE;
	EXPECTED();
}

TEST_F(ioc, alloc_same_id_other_device_or_type)
{
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 42, 100, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV + 1, TT_ALLOC_MEM_DRAM, 42, 200, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_L1, 42, 300, 0));
	/* Same id as the fixture's A on A's device, other type: new entry. */
	ASSERT_EQ(0, tt_alloc(self->fd, A_DEV, TT_ALLOC_MEM_SYSTEM, A_ID, 400, 0));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 100, 1, true);
	tt_state_add(&self->exp[T_DEV + 1], TT_ALLOC_MEM_DRAM, 200, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 300, 1, true);
	tt_state_add(&self->exp[A_DEV], TT_ALLOC_MEM_SYSTEM, 400, 1, true);
	EXPECTED();
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 42));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, -100, -1, true);
	EXPECTED();
	ASSERT_EQ(-ENOENT, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 42));
	ASSERT_EQ(0, tt_free(self->fd, T_DEV + 1, TT_ALLOC_MEM_DRAM, 42));
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_L1, 42));
	ASSERT_EQ(0, tt_free(self->fd, A_DEV, TT_ALLOC_MEM_SYSTEM, A_ID));
	UNCHANGED();
}

TEST_F(ioc, alloc_two_files_same_key_independent)
{
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	/* A's key with another size is no EEXIST in another file. */
	ASSERT_EQ(0, tt_alloc(fd2, A_DEV, A_TYPE, A_ID, 999, 0));
	tt_state_add(&self->exp[A_DEV], A_TYPE, 999, 1, false);
	self->exp[A_DEV].clients++;
	EXPECTED();
	ASSERT_EQ(0, tt_free(fd2, A_DEV, A_TYPE, A_ID));
	ASSERT_EQ(-ENOENT, tt_free(fd2, A_DEV, A_TYPE, A_ID));
	/* Our A is untouched. */
	UNCHANGED();
	close(fd2);
	UNCHANGED();
}

/* ---- ALLOC validation failures: one TEST each --------------------- */

/*
 * ALLOC of a valid new buffer (T_DEV, DRAM, 0x77, 4096) after "mutate"
 * fails with err and changes nothing.
 */
#define ALLOC_FAILS(name, err, mutate)						\
TEST_F(ioc, name)								\
{										\
	struct tt_alloc_buffer b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0); \
	mutate;									\
	ASSERT_EQ(-(err), tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, &b))		\
		TH_LOG("ALLOC dev %u type %u id %llu size %llu kind %u flags %#x", \
		       b.device, b.type, (unsigned long long)b.id,		\
		       (unsigned long long)b.size, b.kind, b.flags);		\
	UNCHANGED();								\
}

ALLOC_FAILS(alloc_flags_1, EINVAL, b.flags = 1)
ALLOC_FAILS(alloc_flags_msb, EINVAL, b.flags = 0x80000000u)
ALLOC_FAILS(alloc_type_count, EINVAL, b.type = TT_ALLOC_MEM_COUNT)
ALLOC_FAILS(alloc_type_max_slot, EINVAL, b.type = TT_ALLOC_MEM_MAX)
ALLOC_FAILS(alloc_type_u32_max, EINVAL, b.type = UINT32_MAX)
ALLOC_FAILS(alloc_kernel_kind_3, EINVAL, b.type = TT_ALLOC_MEM_KERNEL; b.kind = 3)
ALLOC_FAILS(alloc_kernel_kind_u32_max, EINVAL, b.type = TT_ALLOC_MEM_KERNEL; b.kind = UINT32_MAX)
ALLOC_FAILS(alloc_dram_kind_1, EINVAL, b.kind = TT_ALLOC_KERNEL_FABRIC)
ALLOC_FAILS(alloc_cb_kind_2, EINVAL, b.type = TT_ALLOC_MEM_CB; b.kind = TT_ALLOC_KERNEL_DISPATCH)
ALLOC_FAILS(alloc_l1_kind_3, EINVAL, b.type = TT_ALLOC_MEM_L1; b.kind = 3)
ALLOC_FAILS(alloc_size_zero, EINVAL, b.size = 0)
ALLOC_FAILS(alloc_size_max_plus_one, EINVAL, b.size = TT_ALLOC_SIZE_MAX + 1)
ALLOC_FAILS(alloc_size_2_63, EINVAL, b.size = 1ULL << 63)
ALLOC_FAILS(alloc_size_u64_max, EINVAL, b.size = UINT64_MAX)
ALLOC_FAILS(alloc_kernel_size_zero, EINVAL, b.type = TT_ALLOC_MEM_KERNEL; b.size = 0)
ALLOC_FAILS(alloc_device_num_devices, ENODEV, b.device = TT_DEF_DEVICES)
ALLOC_FAILS(alloc_device_max_devices, ENODEV, b.device = TT_MAX_DEVS)
ALLOC_FAILS(alloc_device_u32_max, ENODEV, b.device = UINT32_MAX)
ALLOC_FAILS(alloc_device_none, ENODEV, b.device = TT_ALLOC_DEVICE_NONE)
/* Argument checks before state checks: EINVAL wins over ENODEV. */
ALLOC_FAILS(alloc_bad_device_and_flags, EINVAL, b.device = TT_DEF_DEVICES; b.flags = 1)
ALLOC_FAILS(alloc_bad_device_and_type, EINVAL, b.device = TT_DEF_DEVICES; b.type = 7)
ALLOC_FAILS(alloc_bad_device_and_size_zero, EINVAL, b.device = TT_DEF_DEVICES; b.size = 0)
ALLOC_FAILS(alloc_bad_device_and_kind, EINVAL, b.device = TT_DEF_DEVICES; b.kind = 1)
/* ... and over the state errors. */
ALLOC_FAILS(alloc_existing_other_size, EEXIST,
	    b = tt_buf(A_DEV, A_TYPE, A_ID, A_SIZE * 2, 0))
ALLOC_FAILS(alloc_existing_size_minus_one, EEXIST,
	    b = tt_buf(A_DEV, A_TYPE, A_ID, A_SIZE - 1, 0))
ALLOC_FAILS(alloc_existing_other_kind, EEXIST,
	    b = tt_buf(C_DEV, C_TYPE, C_ID, C_SIZE, TT_ALLOC_KERNEL_DISPATCH))
ALLOC_FAILS(alloc_existing_kind_app, EEXIST,
	    b = tt_buf(C_DEV, C_TYPE, C_ID, C_SIZE, TT_ALLOC_KERNEL_APP))
ALLOC_FAILS(alloc_existing_other_size_bad_flags, EINVAL,
	    b = tt_buf(A_DEV, A_TYPE, A_ID, A_SIZE * 2, 0); b.flags = 2)
ALLOC_FAILS(alloc_existing_size_zero, EINVAL,
	    b = tt_buf(A_DEV, A_TYPE, A_ID, 0, 0))
ALLOC_FAILS(alloc_existing_same_bad_kind, EINVAL,
	    b = tt_buf(A_DEV, A_TYPE, A_ID, A_SIZE, 1))

TEST_F(ioc, alloc_eexist_takes_no_reference)
{
	ASSERT_EQ(-EEXIST, tt_alloc(self->fd, A_DEV, A_TYPE, A_ID, A_SIZE + 1, 0));
	/* One FREE removes A: the failed ALLOC took no reference. */
	ASSERT_EQ(0, tt_free(self->fd, A_DEV, A_TYPE, A_ID));
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
	ASSERT_EQ(-ENOENT, tt_free(self->fd, A_DEV, A_TYPE, A_ID));
}

TEST_F(ioc, alloc_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, NULL));
	UNCHANGED();
}

TEST_F(ioc, alloc_arg_unmapped)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, tt_unmapped_addr()));
	UNCHANGED();
}

TEST_F(ioc, alloc_arg_straddles_hole)
{
	char *p = tt_page_before_hole();
	struct tt_alloc_buffer b = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 0x77, 4096, 0);
	size_t half = sizeof(b) / 2;
	char *arg;

	ASSERT_NE(NULL, p);
	arg = p + sysconf(_SC_PAGESIZE) - half;
	memcpy(arg, &b, half);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, arg));
	UNCHANGED();
}

/* ---- No EOVERFLOW from other files ------------------------------- */

/*
 * Sizes are bounded, so another file's huge entries cannot make this
 * file's ALLOC fail: the device counters do not wrap (their bound is in
 * the ABI document; KUnit tt_test_device_counter_no_wrap crosses 2^64).
 */
TEST_F(ioc, alloc_other_files_max_sizes_no_eoverflow)
{
	const __u64 per = TT_DEF_MAX_BYTES / TT_ALLOC_SIZE_MAX;	/* 16 */
	int fds[4], i, j;

	for (i = 0; i < 4; i++) {
		fds[i] = tt_open();
		ASSERT_LE(0, fds[i]);
		/* Each file up to its byte limit, in entries of the largest size. */
		for (j = 0; j < (int)per; j++)
			ASSERT_EQ(0, tt_alloc(fds[i], T_DEV, TT_ALLOC_MEM_SYSTEM, j,
					      TT_ALLOC_SIZE_MAX, 0));
		ASSERT_EQ(-EDQUOT, tt_alloc(fds[i], T_DEV, TT_ALLOC_MEM_SYSTEM, j, 1, 0));
		tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_SYSTEM, per * TT_ALLOC_SIZE_MAX,
			     per, false);
		self->exp[T_DEV].clients++;
	}
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_SYSTEM, 1, TT_ALLOC_SIZE_MAX, 0));
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_SYSTEM, TT_ALLOC_SIZE_MAX, 1, true);
	EXPECTED();
	for (i = 0; i < 4; i++) {
		close(fds[i]);
		tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_SYSTEM,
			     -(__s64)(per * TT_ALLOC_SIZE_MAX), -(__s64)per, false);
		self->exp[T_DEV].clients--;
		self->exp[T_DEV].reclaimed_bytes += per * TT_ALLOC_SIZE_MAX;
		self->exp[T_DEV].reclaimed_allocs += per;
	}
	EXPECTED();
}

/* ================================================================== */
/* FREE                                                               */
/* ================================================================== */

TEST_F(ioc, free_drops_entry)
{
	ASSERT_EQ(0, tt_free(self->fd, A_DEV, A_TYPE, A_ID));
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
	ASSERT_EQ(0, tt_free(self->fd, B_DEV, B_TYPE, B_ID));
	tt_state_add(&self->exp[B_DEV], B_TYPE, -(__s64)B_SIZE, -1, true);
	EXPECTED();
	/* B was this file's last entry on B_DEV. */
	EXPECT_EQ(self->before[B_DEV].clients - 1, self->exp[B_DEV].clients);
}

TEST_F(ioc, free_ignores_size_and_kind)
{
	struct tt_alloc_buffer b = tt_buf(A_DEV, A_TYPE, A_ID, 1, 99);

	ASSERT_EQ(0, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, &b));
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
}

TEST_F(ioc, free_kernel_ignores_kind)
{
	struct tt_alloc_buffer b = tt_buf(C_DEV, C_TYPE, C_ID, 0, 77);

	ASSERT_EQ(0, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, &b));
	tt_state_add(&self->exp[C_DEV], C_TYPE, -(__s64)C_SIZE, -1, true);
	self->exp[C_DEV].system_bytes -= C_SIZE;
	EXPECTED();
}

TEST_F(ioc, free_arg_readonly_ok)
{
	struct tt_alloc_buffer b = tt_buf(A_DEV, A_TYPE, A_ID, 0, 0);
	struct tt_alloc_buffer *ro = tt_readonly_copy(&b, sizeof(b));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, ro));
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
}

TEST_F(ioc, free_other_files_entry)
{
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(-ENOENT, tt_free(fd2, A_DEV, A_TYPE, A_ID));
	close(fd2);
	UNCHANGED();
}

/* FREE of (A's device, type, id) after "mutate" fails with err, changes nothing. */
#define FREE_FAILS(name, err, mutate)						\
TEST_F(ioc, name)								\
{										\
	struct tt_alloc_buffer b = tt_buf(A_DEV, A_TYPE, A_ID, 0, 0);		\
	mutate;									\
	ASSERT_EQ(-(err), tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, &b))		\
		TH_LOG("FREE dev %u type %u id %llu flags %#x",			\
		       b.device, b.type, (unsigned long long)b.id, b.flags);	\
	UNCHANGED();								\
}

FREE_FAILS(free_unknown_id, ENOENT, b.id = 0x9999)
FREE_FAILS(free_known_id_other_type, ENOENT, b.type = TT_ALLOC_MEM_L1)
FREE_FAILS(free_known_id_other_device, ENOENT, b.device = T_DEV)
FREE_FAILS(free_flags, EINVAL, b.flags = 1)
FREE_FAILS(free_flags_msb, EINVAL, b.flags = 0x80000000u)
FREE_FAILS(free_type_count, EINVAL, b.type = TT_ALLOC_MEM_COUNT)
FREE_FAILS(free_unknown_key_bad_type, EINVAL, b.id = 0x9999; b.type = 7)
FREE_FAILS(free_unknown_key_bad_flags, EINVAL, b.id = 0x9999; b.flags = 4)
FREE_FAILS(free_device_num_devices, ENODEV, b.device = TT_DEF_DEVICES)
FREE_FAILS(free_device_u32_max, ENODEV, b.device = UINT32_MAX)
FREE_FAILS(free_bad_device_and_flags, EINVAL, b.device = TT_DEF_DEVICES; b.flags = 1)
FREE_FAILS(free_bad_device_and_type, EINVAL, b.device = TT_DEF_DEVICES; b.type = 8)

TEST_F(ioc, free_twice)
{
	ASSERT_EQ(0, tt_free(self->fd, B_DEV, B_TYPE, B_ID));
	tt_state_add(&self->exp[B_DEV], B_TYPE, -(__s64)B_SIZE, -1, true);
	ASSERT_EQ(-ENOENT, tt_free(self->fd, B_DEV, B_TYPE, B_ID));
	EXPECTED();
}

TEST_F(ioc, free_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, NULL));
	UNCHANGED();
}

TEST_F(ioc, free_arg_unmapped)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, tt_unmapped_addr()));
	UNCHANGED();
}

TEST_F(ioc, free_arg_straddles_hole)
{
	char *p = tt_page_before_hole();
	struct tt_alloc_buffer b = tt_buf(A_DEV, A_TYPE, A_ID, 0, 0);
	char *arg;

	ASSERT_NE(NULL, p);
	arg = p + sysconf(_SC_PAGESIZE) - 16;
	memcpy(arg, &b, 16);	/* device, type, id: the key is readable */
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_FREE, arg));
	UNCHANGED();
}

/* ================================================================== */
/* BATCH                                                              */
/* ================================================================== */

TEST_F(ioc, batch_count_zero)
{
	__u32 done;

	ASSERT_EQ(0, tt_batch(self->fd, NULL, 0, &done));
	EXPECT_EQ(0, done);
	ASSERT_EQ(0, tt_batch(self->fd, tt_unmapped_addr(), 0, &done));
	EXPECT_EQ(0, done);
	UNCHANGED();
}

TEST_F(ioc, batch_all_applied_in_order)
{
	struct tt_alloc_op ops[] = {
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 2, 128, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),	/* ref */
		tt_op(TT_ALLOC_OP_FREE, T_DEV, TT_ALLOC_MEM_DRAM, 1, 0, 0),
		tt_op(TT_ALLOC_OP_FREE, T_DEV, TT_ALLOC_MEM_L1, 2, 0, 0),
		/* Only valid because the op before freed it. */
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 2, 64, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_KERNEL, 3, 1000, TT_ALLOC_KERNEL_DISPATCH),
		tt_op(TT_ALLOC_OP_FREE, A_DEV, A_TYPE, A_ID, 0, 0),
	};
	__u32 done;

	ASSERT_EQ(0, tt_batch(self->fd, ops, TT_ARRAY_SIZE(ops), &done));
	EXPECT_EQ(TT_ARRAY_SIZE(ops), done);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 64, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_KERNEL, 1000, 1, true);
	self->exp[T_DEV].system_bytes += 1000;
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
	/* The DRAM entry holds one reference. */
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 1));
	ASSERT_EQ(-ENOENT, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 1));
}

TEST_F(ioc, batch_ops_readonly_ok)
{
	struct tt_alloc_op ops[] = {
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_CB, 2, 128, 0),
	};
	struct tt_alloc_op *ro = tt_readonly_copy(ops, sizeof(ops));
	__u32 done;

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(0, tt_batch(self->fd, ro, 2, &done));
	EXPECT_EQ(2, done);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_CB, 128, 1, true);
	EXPECTED();
}

/*
 * A batch [alloc p, alloc q, BAD, alloc s] where BAD is a valid new alloc
 * (T_DEV, TRACE, 3, 64) after "mutate": fails with err, done 2, p and q
 * stay, s is not applied.
 */
#define BATCH_OP_FAILS(name, err, mutate)					\
TEST_F(ioc, name)								\
{										\
	struct tt_alloc_op ops[4] = {						\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),	\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 2, 128, 0),	\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_TRACE, 3, 64, 0),	\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 4, 8192, 0),	\
	};									\
	struct tt_alloc_op *o = &ops[2];					\
	__u32 done;								\
	mutate;									\
	ASSERT_EQ(-(err), tt_batch(self->fd, ops, 4, &done))			\
		TH_LOG("bad op: op %u reserved %u dev %u type %u kind %u flags %#x", \
		       o->op, o->reserved, o->buf.device, o->buf.type,		\
		       o->buf.kind, o->buf.flags);				\
	EXPECT_EQ(2, done);							\
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);	\
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 128, 1, true);	\
	EXPECTED();								\
	ASSERT_EQ(-ENOENT, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 4));	\
}

BATCH_OP_FAILS(batch_op_code_zero, EINVAL, o->op = 0)
BATCH_OP_FAILS(batch_op_code_three, EINVAL, o->op = 3)
BATCH_OP_FAILS(batch_op_code_u32_max, EINVAL, o->op = UINT32_MAX)
BATCH_OP_FAILS(batch_op_reserved, EINVAL, o->reserved = 1)
BATCH_OP_FAILS(batch_op_free_reserved, EINVAL, o->op = TT_ALLOC_OP_FREE; o->reserved = 1)
BATCH_OP_FAILS(batch_op_buf_flags, EINVAL, o->buf.flags = 1)
BATCH_OP_FAILS(batch_op_type, EINVAL, o->buf.type = TT_ALLOC_MEM_COUNT)
BATCH_OP_FAILS(batch_op_kind_nonkernel, EINVAL, o->buf.kind = 1)
BATCH_OP_FAILS(batch_op_kind_kernel, EINVAL, o->buf.type = TT_ALLOC_MEM_KERNEL; o->buf.kind = 3)
BATCH_OP_FAILS(batch_op_size_zero, EINVAL, o->buf.size = 0)
BATCH_OP_FAILS(batch_op_device, ENODEV, o->buf.device = TT_DEF_DEVICES)
BATCH_OP_FAILS(batch_op_device_and_flags, EINVAL, o->buf.device = TT_DEF_DEVICES; o->buf.flags = 1)
BATCH_OP_FAILS(batch_op_free_unknown, ENOENT, o->op = TT_ALLOC_OP_FREE)
BATCH_OP_FAILS(batch_op_free_bad_type, EINVAL, o->op = TT_ALLOC_OP_FREE; o->buf.type = 9)
BATCH_OP_FAILS(batch_op_free_bad_device, ENODEV, o->op = TT_ALLOC_OP_FREE; o->buf.device = 100)
/* Key of op 0 with another size: EEXIST against state built by the same batch. */
BATCH_OP_FAILS(batch_op_eexist_in_batch, EEXIST,
	       o->buf = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 1, 4095, 0))
BATCH_OP_FAILS(batch_op_eexist_prior, EEXIST,
	       o->buf = tt_buf(A_DEV, A_TYPE, A_ID, 1, 0))
BATCH_OP_FAILS(batch_op_size_u64_max, EINVAL,
	       o->buf = tt_buf(T_DEV, TT_ALLOC_MEM_DRAM, 3, UINT64_MAX, 0))

/* A batch of valid allocs, whole-batch argument "mutate" -> err, nothing applied. */
#define BATCH_FAILS(name, err, mutate)						\
TEST_F(ioc, name)								\
{										\
	struct tt_alloc_op ops[2] = {						\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),	\
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 2, 128, 0),	\
	};									\
	struct tt_alloc_batch b = {						\
		.ops = (uintptr_t)ops, .count = 2, .done = 0xdeadbeef,		\
	};									\
	mutate;									\
	ASSERT_EQ(-(err), tt_ioctl(self->fd, TT_ALLOC_IOC_BATCH, &b));		\
	/* The header was read: done is written, 0. */			\
	EXPECT_EQ(0, b.done);							\
	UNCHANGED();								\
}

BATCH_FAILS(batch_flags, EINVAL, b.flags = 1)
BATCH_FAILS(batch_flags_msb, EINVAL, b.flags = 0x80000000u)
BATCH_FAILS(batch_op_size_1, EINVAL, b.op_size = 1)
BATCH_FAILS(batch_count_over_max, E2BIG, b.count = TT_ALLOC_BATCH_MAX + 1)
BATCH_FAILS(batch_count_u32_max, E2BIG, b.count = UINT32_MAX)
BATCH_FAILS(batch_count_over_max_bad_ops, E2BIG, b.count = TT_ALLOC_BATCH_MAX + 1; b.ops = 0)
BATCH_FAILS(batch_flags_and_count_over_max, EINVAL, b.count = TT_ALLOC_BATCH_MAX + 1; b.flags = 1)
BATCH_FAILS(batch_ops_null, EFAULT, b.ops = 0)
BATCH_FAILS(batch_ops_unmapped, EFAULT, b.ops = (uintptr_t)tt_unmapped_addr())
BATCH_FAILS(batch_ops_kernel_address, EFAULT, b.ops = 0xffffffff81000000ULL)

TEST_F(ioc, batch_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_BATCH, NULL));
	UNCHANGED();
}

TEST_F(ioc, batch_arg_unmapped)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_BATCH, tt_unmapped_addr()));
	UNCHANGED();
}

/* The ops array runs into an unmapped page: the ops before it stay applied. */
TEST_F(ioc, batch_ops_cross_hole)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *page = tt_page_before_hole();
	struct tt_alloc_op *ops = (struct tt_alloc_op *)page;
	__u32 full = pg / sizeof(*ops), i, done;

	ASSERT_NE(NULL, page);
	/* ops[full] straddles the end of the page. */
	ASSERT_NE(0, pg % sizeof(*ops));
	for (i = 0; i < full; i++)
		ops[i] = tt_op(TT_ALLOC_OP_ALLOC, T_DEV, i % TT_NTYPES, i, 100 + i, 0);
	ASSERT_EQ(-EFAULT, tt_batch(self->fd, ops, full + 8, &done));
	EXPECT_EQ(full, done) TH_LOG("%u ops lie wholly in the mapped page", full);
	for (i = 0; i < full; i++)
		tt_state_add(&self->exp[T_DEV], i % TT_NTYPES, 100 + i, 1, true);
	EXPECTED();
}

/* The ops array ends exactly at the hole; op[k] lies wholly beyond it. */
TEST_F(ioc, batch_ops_end_at_hole)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *page = tt_page_before_hole();
	const __u32 k = 40;
	struct tt_alloc_op *ops;
	__u32 i, done;

	ASSERT_NE(NULL, page);
	ops = (struct tt_alloc_op *)(page + pg - k * sizeof(*ops));
	for (i = 0; i < k; i++)
		ops[i] = tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, i, 8, 0);
	/* The mapped part alone is a valid batch. */
	ASSERT_EQ(0, tt_batch(self->fd, ops + k / 2, k / 2, &done));
	EXPECT_EQ(k / 2, done);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 8 * k / 2, k / 2, true);
	EXPECTED();
	/* ops[k/2..k-1] are taken again as references: all k mapped ops apply. */
	ASSERT_EQ(-EFAULT, tt_batch(self->fd, ops, k + 1, &done));
	EXPECT_EQ(k, done);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 8 * k / 2, k / 2, true);
	for (i = k / 2; i < k; i++)	/* two references each now */
		ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_L1, i));
	EXPECTED();
	EXPECTED();
}

/* done cannot be written back: EFAULT, and the ops stay applied. */
TEST_F(ioc, batch_arg_readonly)
{
	struct tt_alloc_op ops[] = {
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 2, 128, 0),
		tt_op(TT_ALLOC_OP_FREE, A_DEV, A_TYPE, A_ID, 0, 0),
	};
	struct tt_alloc_batch b = { .ops = (uintptr_t)ops, .count = 3, .done = 0xdeadbeef };
	struct tt_alloc_batch *ro = tt_readonly_copy(&b, sizeof(b));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_BATCH, ro));
	EXPECT_EQ(0xdeadbeef, ro->done);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 128, 1, true);
	tt_state_add(&self->exp[A_DEV], A_TYPE, -(__s64)A_SIZE, -1, true);
	EXPECTED();
}

/* A failing op and a read-only batch struct: the op's error or EFAULT, ops before stay. */
TEST_F(ioc, batch_arg_readonly_failing_op)
{
	struct tt_alloc_op ops[] = {
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_DRAM, 1, 4096, 0),
		tt_op(TT_ALLOC_OP_FREE, T_DEV, TT_ALLOC_MEM_L1, 2, 0, 0),
		tt_op(TT_ALLOC_OP_ALLOC, T_DEV, TT_ALLOC_MEM_L1, 3, 128, 0),
	};
	struct tt_alloc_batch b = { .ops = (uintptr_t)ops, .count = 3, .done = 0xdeadbeef };
	struct tt_alloc_batch *ro = tt_readonly_copy(&b, sizeof(b));
	int ret;

	ASSERT_NE(NULL, ro);
	ret = tt_ioctl(self->fd, TT_ALLOC_IOC_BATCH, ro);
	EXPECT_EQ(-EFAULT, ret) TH_LOG("done cannot be written: EFAULT (got %d)", ret);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 4096, 1, true);
	EXPECTED();
}

/* TT_ALLOC_BATCH_MAX ops are accepted and all applied; then freed in one batch. */
TEST_F_TIMEOUT(ioc, batch_count_max, 300)
{
	const __u32 n = TT_ALLOC_BATCH_MAX;
	struct tt_alloc_op *ops = calloc(n, sizeof(*ops));
	__u64 bytes[TT_NTYPES] = { 0 }, cnt[TT_NTYPES] = { 0 };
	__u32 i, done;
	int t;

	ASSERT_NE(NULL, ops);
	for (i = 0; i < n; i++) {
		t = i % (TT_NTYPES - 1);	/* no kernels: kind stays 0 */
		ops[i] = tt_op(TT_ALLOC_OP_ALLOC, T_DEV, t, i, 1 + (i & 0xff), 0);
		bytes[t] += 1 + (i & 0xff);
		cnt[t]++;
	}
	ASSERT_EQ(0, tt_batch(self->fd, ops, n, &done));
	ASSERT_EQ(n, done);
	for (t = 0; t < TT_NTYPES; t++)
		tt_state_add(&self->exp[T_DEV], t, bytes[t], cnt[t], true);
	EXPECTED();
	for (i = 0; i < n; i++)
		ops[i].op = TT_ALLOC_OP_FREE;
	ASSERT_EQ(0, tt_batch(self->fd, ops, n, &done));
	ASSERT_EQ(n, done);
	UNCHANGED();
	free(ops);
}

/* ================================================================== */
/* USAGE                                                              */
/* ================================================================== */

TEST_F(ioc, usage_file_vs_device_scope)
{
	int fd2 = tt_open();
	struct tt_alloc_usage u;

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tt_reset_peaks(T_DEV));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_DRAM, 1, 100, 0));
	ASSERT_EQ(0, tt_alloc(fd2, T_DEV, TT_ALLOC_MEM_DRAM, 1, 200, 0));
	ASSERT_EQ(0, tt_alloc(fd2, T_DEV, TT_ALLOC_MEM_L1, 1, 50, 0));

	ASSERT_EQ(0, tt_usage(self->fd, T_DEV, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(100, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(1, u.allocations[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, u.used[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(0, u.allocations[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(0, u.peak[TT_ALLOC_MEM_DRAM]);

	ASSERT_EQ(0, tt_usage(fd2, T_DEV, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(200, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(50, u.used[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(1, u.allocations[TT_ALLOC_MEM_L1]);

	/* Device scope is the same through either file. */
	ASSERT_EQ(0, tt_usage(fd2, T_DEV, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(self->before[T_DEV].used[TT_ALLOC_MEM_DRAM] + 300, u.used[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(self->before[T_DEV].allocs[TT_ALLOC_MEM_DRAM] + 2, u.allocations[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(self->before[T_DEV].used[TT_ALLOC_MEM_L1] + 50, u.used[TT_ALLOC_MEM_L1]);
	EXPECT_EQ(u.used[TT_ALLOC_MEM_DRAM], u.peak[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(u.used[TT_ALLOC_MEM_L1], u.peak[TT_ALLOC_MEM_L1]);

	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 100, 1, true);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, 200, 1, false);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, 50, 1, false);
	self->exp[T_DEV].clients++;
	EXPECTED();
	close(fd2);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_DRAM, -200, -1, false);
	tt_state_add(&self->exp[T_DEV], TT_ALLOC_MEM_L1, -50, -1, false);
	self->exp[T_DEV].clients--;
	self->exp[T_DEV].reclaimed_bytes += 250;
	self->exp[T_DEV].reclaimed_allocs += 2;
	EXPECTED();
}

TEST_F(ioc, usage_default_capacity_unknown)
{
	struct tt_alloc_usage u;
	__u32 d;
	int t;

	for (d = 0; d < self->ndev; d++) {
		ASSERT_EQ(0, tt_usage(self->fd, d, TT_ALLOC_SCOPE_DEVICE, &u));
		for (t = 0; t < TT_ALLOC_MEM_MAX; t++)
			EXPECT_EQ(0, u.capacity[t]) TH_LOG("device %u type %d", d, t);
	}
}

TEST_F(ioc, usage_peak_device_scope_only)
{
	struct tt_alloc_usage u;

	ASSERT_EQ(0, tt_reset_peaks(T_DEV));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_CB, 1, 100, 0));
	ASSERT_EQ(0, tt_free(self->fd, T_DEV, TT_ALLOC_MEM_CB, 1));
	ASSERT_EQ(0, tt_alloc(self->fd, T_DEV, TT_ALLOC_MEM_CB, 1, 50, 0));
	ASSERT_EQ(0, tt_usage(self->fd, T_DEV, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(self->before[T_DEV].used[TT_ALLOC_MEM_CB] + 50, u.used[TT_ALLOC_MEM_CB]);
	EXPECT_EQ(self->before[T_DEV].used[TT_ALLOC_MEM_CB] + 100, u.peak[TT_ALLOC_MEM_CB]);
	ASSERT_EQ(0, tt_usage(self->fd, T_DEV, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(50, u.used[TT_ALLOC_MEM_CB]);
	EXPECT_EQ(0, u.peak[TT_ALLOC_MEM_CB]);
}

/* USAGE of device 0 with "mutate" applied fails with err. */
#define USAGE_FAILS(name, err, mutate)						\
TEST_F(ioc, name)								\
{										\
	struct tt_alloc_usage u = { .device = A_DEV, .scope = TT_ALLOC_SCOPE_DEVICE }; \
	mutate;									\
	ASSERT_EQ(-(err), tt_ioctl(self->fd, TT_ALLOC_IOC_USAGE, &u))		\
		TH_LOG("USAGE dev %u scope %u flags %#x reserved %u",		\
		       u.device, u.scope, u.flags, u.reserved);			\
	UNCHANGED();								\
}

USAGE_FAILS(usage_scope_2, EINVAL, u.scope = 2)
USAGE_FAILS(usage_scope_u32_max, EINVAL, u.scope = UINT32_MAX)
USAGE_FAILS(usage_flags, EINVAL, u.flags = 1)
USAGE_FAILS(usage_file_scope_flags, EINVAL, u.scope = TT_ALLOC_SCOPE_FILE; u.flags = 1)
USAGE_FAILS(usage_reserved, EINVAL, u.reserved = 1)
USAGE_FAILS(usage_device_num_devices, ENODEV, u.device = TT_DEF_DEVICES)
USAGE_FAILS(usage_file_scope_bad_device, ENODEV, u.device = TT_DEF_DEVICES; u.scope = TT_ALLOC_SCOPE_FILE)
USAGE_FAILS(usage_bad_device_and_scope, EINVAL, u.device = TT_DEF_DEVICES; u.scope = 2)
USAGE_FAILS(usage_bad_device_and_reserved, EINVAL, u.device = UINT32_MAX; u.reserved = 7)

TEST_F(ioc, usage_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_USAGE, NULL));
}

TEST_F(ioc, usage_arg_unmapped)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_USAGE, tt_unmapped_addr()));
}

TEST_F(ioc, usage_arg_readonly)
{
	struct tt_alloc_usage u = { .device = A_DEV, .scope = TT_ALLOC_SCOPE_DEVICE };
	struct tt_alloc_usage *ro = tt_readonly_copy(&u, sizeof(u));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd, TT_ALLOC_IOC_USAGE, ro));
	EXPECT_EQ(0, ro->used[A_TYPE]);
}

/* ================================================================== */
/* Limits: EDQUOT (max_allocations_per_file), ENOSPC (enforce_capacity) */
/* ================================================================== */

#define QUOTA	10

FIXTURE(quota) {
	int fd;
	struct tt_dev_state before[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(quota)
{
	char v[32];

	tt_sysfs_mask = 1ULL << 5;

	snprintf(v, sizeof(v), "%d", QUOTA);
	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", v));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	tt_snapshot_all(_metadata, self->fd, self->before);
	memcpy(self->exp, self->before, sizeof(self->exp));
}

FIXTURE_TEARDOWN(quota)
{
	char v[32];

	close(self->fd);
	snprintf(v, sizeof(v), "%d", TT_DEF_MAX_PER_FILE);
	EXPECT_EQ(0, tt_param_write("max_allocations_per_file", v));
}

/* Fills the file with QUOTA entries spread over devices and types. */
static void quota_fill(struct __test_metadata *_metadata,
		       FIXTURE_DATA(quota) *self)
{
	int i;

	for (i = 0; i < QUOTA; i++) {
		ASSERT_EQ(0, tt_alloc(self->fd, i % 3, i % 5, i, 10, 0)) TH_LOG("entry %d", i);
		tt_state_add(&self->exp[i % 3], i % 5, 10, 1, true);
	}
}

TEST_F(quota, edquot)
{
	__u64 v;

	ASSERT_EQ(0, tt_param_read("max_allocations_per_file", &v));
	ASSERT_EQ(QUOTA, v);
	quota_fill(_metadata, self);
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 4, TT_ALLOC_MEM_DRAM, 100, 10, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(quota, edquot_kernel)
{
	quota_fill(_metadata, self);
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 0, TT_ALLOC_MEM_KERNEL, 100, 10,
				    TT_ALLOC_KERNEL_FABRIC));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(quota, full_file_may_take_references)
{
	quota_fill(_metadata, self);
	ASSERT_EQ(0, tt_alloc(self->fd, 0, 0, 0, 10, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
	/* Two FREEs needed now. */
	ASSERT_EQ(0, tt_free(self->fd, 0, 0, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(quota, full_file_eexist_before_edquot)
{
	quota_fill(_metadata, self);
	ASSERT_EQ(-EEXIST, tt_alloc(self->fd, 0, 0, 0, 11, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(quota, full_file_einval_before_edquot)
{
	struct tt_alloc_buffer b = tt_buf(4, 0, 100, 10, 0);

	quota_fill(_metadata, self);
	b.flags = 1;
	ASSERT_EQ(-EINVAL, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, &b));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(quota, free_makes_room)
{
	quota_fill(_metadata, self);
	ASSERT_EQ(0, tt_free(self->fd, 1, 1, 1));
	tt_state_add(&self->exp[1], 1, -10, -1, true);
	ASSERT_EQ(0, tt_alloc(self->fd, 4, TT_ALLOC_MEM_DRAM, 100, 10, 0));
	tt_state_add(&self->exp[4], TT_ALLOC_MEM_DRAM, 10, 1, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 4, TT_ALLOC_MEM_DRAM, 101, 10, 0));
}

TEST_F(quota, per_file)
{
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	quota_fill(_metadata, self);
	ASSERT_EQ(0, tt_alloc(fd2, 4, TT_ALLOC_MEM_DRAM, 100, 10, 0));
	close(fd2);
}

TEST_F(quota, edquot_in_batch)
{
	struct tt_alloc_op ops[QUOTA + 2];
	__u32 i, done;

	for (i = 0; i < QUOTA + 2; i++)
		ops[i] = tt_op(TT_ALLOC_OP_ALLOC, 5, TT_ALLOC_MEM_L1, i, 7, 0);
	ASSERT_EQ(-EDQUOT, tt_batch(self->fd, ops, QUOTA + 2, &done));
	EXPECT_EQ(QUOTA, done);
	tt_state_add(&self->exp[5], TT_ALLOC_MEM_L1, 7 * QUOTA, QUOTA, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

/* max_bytes_per_file: the per-file byte limit, EDQUOT like the entry limit. */
#define BQUOTA	10000

FIXTURE(bquota) {
	int fd;
	struct tt_dev_state before[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(bquota)
{
	char v[32];

	tt_sysfs_mask = (1ULL << 5) | (1ULL << 6);
	snprintf(v, sizeof(v), "%d", BQUOTA);
	ASSERT_EQ(0, tt_param_write("max_bytes_per_file", v));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	tt_snapshot_all(_metadata, self->fd, self->before);
	memcpy(self->exp, self->before, sizeof(self->exp));
}

FIXTURE_TEARDOWN(bquota)
{
	char v[32];

	close(self->fd);
	snprintf(v, sizeof(v), "%llu", TT_DEF_MAX_BYTES);
	EXPECT_EQ(0, tt_param_write("max_bytes_per_file", v));
}

TEST_F(bquota, edquot_across_devices_and_types)
{
	__u64 v;

	ASSERT_EQ(0, tt_param_read("max_bytes_per_file", &v));
	ASSERT_EQ(BQUOTA, v);
	ASSERT_EQ(0, tt_alloc(self->fd, 5, TT_ALLOC_MEM_DRAM, 1, 6000, 0));
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 6, TT_ALLOC_MEM_L1, 2, 4001, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 6, TT_ALLOC_MEM_L1, 2, 4000, 0));
	/* Full: a reference of a held entry is no more bytes. */
	ASSERT_EQ(0, tt_alloc(self->fd, 5, TT_ALLOC_MEM_DRAM, 1, 6000, 0));
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 5, TT_ALLOC_MEM_CB, 3, 1, 0));
	tt_state_add(&self->exp[5], TT_ALLOC_MEM_DRAM, 6000, 1, true);
	tt_state_add(&self->exp[6], TT_ALLOC_MEM_L1, 4000, 1, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(bquota, per_file_and_free_makes_room)
{
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tt_alloc(self->fd, 5, TT_ALLOC_MEM_DRAM, 1, BQUOTA, 0));
	ASSERT_EQ(0, tt_alloc(fd2, 5, TT_ALLOC_MEM_DRAM, 1, BQUOTA, 0));
	close(fd2);
	ASSERT_EQ(-EDQUOT, tt_alloc(self->fd, 5, TT_ALLOC_MEM_DRAM, 2, 1, 0));
	ASSERT_EQ(0, tt_free(self->fd, 5, TT_ALLOC_MEM_DRAM, 1));
	ASSERT_EQ(0, tt_alloc(self->fd, 5, TT_ALLOC_MEM_DRAM, 2, 1, 0));
}

TEST_F(bquota, edquot_in_batch)
{
	struct tt_alloc_op ops[3] = {
		tt_op(TT_ALLOC_OP_ALLOC, 5, TT_ALLOC_MEM_L1, 1, BQUOTA / 2, 0),
		tt_op(TT_ALLOC_OP_ALLOC, 5, TT_ALLOC_MEM_L1, 2, BQUOTA / 2, 0),
		tt_op(TT_ALLOC_OP_ALLOC, 5, TT_ALLOC_MEM_L1, 3, 1, 0),
	};
	__u32 done;

	ASSERT_EQ(-EDQUOT, tt_batch(self->fd, ops, 3, &done));
	EXPECT_EQ(2, done);
	tt_state_add(&self->exp[5], TT_ALLOC_MEM_L1, BQUOTA, 2, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(bquota, param_range)
{
	EXPECT_NE(0, tt_param_write("max_bytes_per_file", "0"));
	EXPECT_NE(0, tt_param_write("max_bytes_per_file", "4611686018427387905"));
	EXPECT_EQ(0, tt_param_write("max_bytes_per_file", "4611686018427387904"));
}

#define CAP_DEV		4
#define CAP_BYTES	1048576ULL

FIXTURE(cap) {
	int fd;
	struct tt_dev_state before[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(cap)
{
	struct tt_alloc_usage u;
	char v[32];

	tt_sysfs_mask = 1ULL << CAP_DEV;

	snprintf(v, sizeof(v), "%llu", CAP_BYTES);
	ASSERT_EQ(0, write_sysfs(CAP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", v));
	ASSERT_EQ(0, tt_param_write("enforce_capacity", "1"));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_usage(self->fd, CAP_DEV, TT_ALLOC_SCOPE_DEVICE, &u));
	ASSERT_EQ(CAP_BYTES, u.capacity[TT_ALLOC_MEM_DRAM]);
	ASSERT_EQ(0, u.used[TT_ALLOC_MEM_DRAM]);
	tt_snapshot_all(_metadata, self->fd, self->before);
	memcpy(self->exp, self->before, sizeof(self->exp));
}

FIXTURE_TEARDOWN(cap)
{
	close(self->fd);
	EXPECT_EQ(0, tt_param_write("enforce_capacity", "0"));
	EXPECT_EQ(0, write_sysfs(CAP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", "0"));
}

static void cap_fill(struct __test_metadata *_metadata, FIXTURE_DATA(cap) *self)
{
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 1, CAP_BYTES - 4096, 0));
	/* Exactly at capacity is allowed. */
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 2, 4096, 0));
	tt_state_add(&self->exp[CAP_DEV], TT_ALLOC_MEM_DRAM, CAP_BYTES, 2, true);
}

TEST_F(cap, enospc)
{
	cap_fill(_metadata, self);
	ASSERT_EQ(-ENOSPC, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

/* Bigger than the device: a wrong size, EINVAL, enforced or not. */
TEST_F(cap, einval_single_above_capacity)
{
	ASSERT_EQ(-EINVAL, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, CAP_BYTES + 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, CAP_BYTES, 0));
}

TEST_F(cap, enospc_other_file)
{
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	cap_fill(_metadata, self);
	ASSERT_EQ(-ENOSPC, tt_alloc(fd2, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
	close(fd2);
}

TEST_F(cap, einval_above_capacity_not_enforced)
{
	ASSERT_EQ(0, tt_param_write("enforce_capacity", "0"));
	ASSERT_EQ(-EINVAL, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, CAP_BYTES + 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, full_takes_references)
{
	cap_fill(_metadata, self);
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 2, 4096, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, full_eexist_before_enospc)
{
	cap_fill(_metadata, self);
	ASSERT_EQ(-EEXIST, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 2, 8192, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, full_einval_before_enospc)
{
	struct tt_alloc_buffer b = tt_buf(CAP_DEV, TT_ALLOC_MEM_DRAM, 3, 1, 0);

	cap_fill(_metadata, self);
	b.flags = 1;
	ASSERT_EQ(-EINVAL, tt_ioctl(self->fd, TT_ALLOC_IOC_ALLOC, &b));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, free_makes_room)
{
	cap_fill(_metadata, self);
	ASSERT_EQ(0, tt_free(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 2));
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, 4096, 0));
	ASSERT_EQ(-ENOSPC, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 4, 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, unknown_capacity_unlimited)
{
	/* L1 of CAP_DEV and DRAM of another device have capacity 0. */
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_L1, 1, 1ULL << 40, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV + 1, TT_ALLOC_MEM_DRAM, 1, 1ULL << 40, 0));
	tt_state_add(&self->exp[CAP_DEV], TT_ALLOC_MEM_L1, 1ULL << 40, 1, true);
	tt_state_add(&self->exp[CAP_DEV + 1], TT_ALLOC_MEM_DRAM, 1ULL << 40, 1, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, not_enforced)
{
	ASSERT_EQ(0, tt_param_write("enforce_capacity", "0"));
	cap_fill(_metadata, self);
	ASSERT_EQ(0, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, CAP_BYTES, 0));
	tt_state_add(&self->exp[CAP_DEV], TT_ALLOC_MEM_DRAM, CAP_BYTES, 1, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
	/* Turning enforcement on refuses new entries while over capacity. */
	ASSERT_EQ(0, tt_param_write("enforce_capacity", "1"));
	ASSERT_EQ(-ENOSPC, tt_alloc(self->fd, CAP_DEV, TT_ALLOC_MEM_DRAM, 4, 1, 0));
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_F(cap, enospc_in_batch)
{
	struct tt_alloc_op ops[] = {
		tt_op(TT_ALLOC_OP_ALLOC, CAP_DEV, TT_ALLOC_MEM_DRAM, 1, CAP_BYTES / 2, 0),
		tt_op(TT_ALLOC_OP_ALLOC, CAP_DEV, TT_ALLOC_MEM_DRAM, 2, CAP_BYTES / 2, 0),
		tt_op(TT_ALLOC_OP_ALLOC, CAP_DEV, TT_ALLOC_MEM_DRAM, 3, 1, 0),
		tt_op(TT_ALLOC_OP_FREE, CAP_DEV, TT_ALLOC_MEM_DRAM, 1, 0, 0),
	};
	__u32 done;

	ASSERT_EQ(-ENOSPC, tt_batch(self->fd, ops, 4, &done));
	EXPECT_EQ(2, done);
	tt_state_add(&self->exp[CAP_DEV], TT_ALLOC_MEM_DRAM, CAP_BYTES, 2, true);
	tt_assert_state_all(_metadata, self->fd, self->exp);
}

TEST_HARNESS_MAIN
