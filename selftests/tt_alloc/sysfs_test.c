// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc sysfs, fdinfo, peaks, capacities, architecture presets,
 * module parameters and module unloading.
 *
 * Some tests reload the module with other parameters; they restore the
 * defaults at the end (run-suite.sh unloads it after the program).
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <dirent.h>

#define WH_DRAM	12884901888ULL		/* 12 GiB */
#define WH_L1	(72ULL * 1499136)	/* 107937792 */
#define BH_DRAM	34359738368ULL		/* 32 GiB */
#define BH_L1	(140ULL * 1572864)	/* 220200960 */

static bool path_exists(const char *p)
{
	struct stat st;

	return stat(p, &st) == 0;
}

static int read_attr_str(unsigned int dev, int type, const char *attr,
			 char *buf, size_t len)
{
	char p[256];

	return tt_read_str(tt_attr_path(p, sizeof(p), dev, type, attr), buf, len);
}

/* ================================================================== */
/* Fixture "sys": module with defaults, one open file                 */
/* ================================================================== */

FIXTURE(sys) {
	int fd;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(sys)
{
	self->fd = tt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open: %s", strerror(-self->fd));
	self->ndev = tt_snapshot_all(_metadata, self->fd, self->base);
	ASSERT_EQ(TT_DEF_DEVICES, self->ndev);
	memcpy(self->exp, self->base, sizeof(self->exp));
}

FIXTURE_TEARDOWN(sys)
{
	char v[32];
	__u32 d;

	close(self->fd);
	for (d = 0; d < TT_DEF_DEVICES; d++)
		write_sysfs(d, TT_ALLOC_MEM_DRAM, "capacity_bytes", "0");
	snprintf(v, sizeof(v), "%d", TT_DEF_SWEEP_MS);
	tt_param_write("sweep_interval_ms", v);
}

#define STATE_IS(e)	tt_assert_state_all(_metadata, self->fd, (e))

TEST_F(sys, layout)
{
	char p[256], s[64];
	__u64 v;
	__u32 d;
	int t;

	for (d = 0; d < self->ndev; d++) {
		ASSERT_EQ(8, read_attr_str(d, -1, "arch", s, sizeof(s))) TH_LOG("device%u/arch", d);
		EXPECT_STREQ("unknown\n", s);
		for (t = 0; t < TT_NTYPES; t++) {
			static const char *const attrs[] = {
				"used_bytes", "peak_bytes", "capacity_bytes", "allocations",
			};
			unsigned int a;

			for (a = 0; a < TT_ARRAY_SIZE(attrs); a++) {
				tt_attr_path(p, sizeof(p), d, t, attrs[a]);
				EXPECT_EQ(0, tt_read_u64(p, &v)) TH_LOG("%.200s", p);
			}
			ASSERT_EQ(0, read_sysfs_u64(d, t, "capacity_bytes", &v));
			EXPECT_EQ(0, v) TH_LOG("device%u/%s capacity without preset", d, tt_type_name[t]);
		}
		EXPECT_EQ(0, read_sysfs_u64(d, TT_ALLOC_MEM_KERNEL, "system_bytes", &v));
		EXPECT_EQ(0, read_sysfs_u64(d, -1, "clients", &v));
		EXPECT_EQ(0, read_sysfs_u64(d, -1, "reclaimed_bytes", &v));
		EXPECT_EQ(0, read_sysfs_u64(d, -1, "reclaimed_allocations", &v));
	}
	snprintf(p, sizeof(p), TT_CLASS_DIR "/device%u", self->ndev);
	EXPECT_FALSE(path_exists(p)) TH_LOG("%s exists with %u devices", p, self->ndev);
	EXPECT_FALSE(path_exists(TT_CLASS_DIR "/device0/type7"));
}

TEST_F(sys, counters_match_usage)
{
	const __u32 dev = 3;
	int t;

	for (t = 0; t < TT_NTYPES - 1; t++) {
		ASSERT_EQ(0, tt_alloc(self->fd, dev, t, 1, 1000 + t, 0));
		ASSERT_EQ(0, tt_alloc(self->fd, dev, t, 2, 3, 0));
		tt_state_add(&self->exp[dev], t, 1003 + t, 2, true);
	}
	ASSERT_EQ(0, tt_alloc(self->fd, dev, TT_ALLOC_MEM_KERNEL, 1, 100, TT_ALLOC_KERNEL_APP));
	ASSERT_EQ(0, tt_alloc(self->fd, dev, TT_ALLOC_MEM_KERNEL, 2, 2 * 56 * 1024, TT_ALLOC_KERNEL_FABRIC));
	ASSERT_EQ(0, tt_alloc(self->fd, dev, TT_ALLOC_MEM_KERNEL, 3, 2 * 46 * 1024, TT_ALLOC_KERNEL_DISPATCH));
	tt_state_add(&self->exp[dev], TT_ALLOC_MEM_KERNEL, 100 + 204 * 1024, 3, true);
	self->exp[dev].system_bytes += 204 * 1024;
	/* tt_snapshot() checks sysfs == USAGE for every counter; STATE_IS the values. */
	STATE_IS(self->exp);
	/* And spelled out for one: */
	{
		__u64 v;

		ASSERT_EQ(0, read_sysfs_u64(dev, TT_ALLOC_MEM_DRAM, "used_bytes", &v));
		EXPECT_EQ(self->base[dev].used[TT_ALLOC_MEM_DRAM] + 1003, v);
		ASSERT_EQ(0, read_sysfs_u64(dev, TT_ALLOC_MEM_KERNEL, "allocations", &v));
		EXPECT_EQ(self->base[dev].allocs[TT_ALLOC_MEM_KERNEL] + 3, v);
		ASSERT_EQ(0, read_sysfs_u64(dev, TT_ALLOC_MEM_KERNEL, "system_bytes", &v));
		EXPECT_EQ(self->base[dev].system_bytes + 204 * 1024, v);
	}
	ASSERT_EQ(0, tt_free(self->fd, dev, TT_ALLOC_MEM_KERNEL, 2));
	tt_state_add(&self->exp[dev], TT_ALLOC_MEM_KERNEL, -2 * 56 * 1024, -1, true);
	self->exp[dev].system_bytes -= 2 * 56 * 1024;
	STATE_IS(self->exp);
}

TEST_F(sys, clients_count)
{
	int fd2 = tt_open(), fd3 = tt_open();
	__u64 v;

	ASSERT_LE(0, fd2);
	ASSERT_LE(0, fd3);	/* holds nothing: not counted anywhere */
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_DRAM, 1, 10, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_L1, 1, 10, 0));
	ASSERT_EQ(0, tt_alloc(fd2, 3, TT_ALLOC_MEM_DRAM, 1, 10, 0));
	ASSERT_EQ(0, tt_alloc(fd2, 4, TT_ALLOC_MEM_CB, 1, 10, 0));
	ASSERT_EQ(0, read_sysfs_u64(3, -1, "clients", &v));
	EXPECT_EQ(self->base[3].clients + 2, v);
	ASSERT_EQ(0, read_sysfs_u64(4, -1, "clients", &v));
	EXPECT_EQ(self->base[4].clients + 1, v);
	ASSERT_EQ(0, read_sysfs_u64(5, -1, "clients", &v));
	EXPECT_EQ(self->base[5].clients, v);

	/* Still one entry left on device 3: still a client there. */
	ASSERT_EQ(0, tt_free(self->fd, 3, TT_ALLOC_MEM_DRAM, 1));
	ASSERT_EQ(0, read_sysfs_u64(3, -1, "clients", &v));
	EXPECT_EQ(self->base[3].clients + 2, v);
	ASSERT_EQ(0, tt_free(self->fd, 3, TT_ALLOC_MEM_L1, 1));
	ASSERT_EQ(0, read_sysfs_u64(3, -1, "clients", &v));
	EXPECT_EQ(self->base[3].clients + 1, v);

	close(fd2);
	ASSERT_EQ(0, read_sysfs_u64(3, -1, "clients", &v));
	EXPECT_EQ(self->base[3].clients, v);
	ASSERT_EQ(0, read_sysfs_u64(4, -1, "clients", &v));
	EXPECT_EQ(self->base[4].clients, v);
	close(fd3);
}

TEST_F(sys, attrs_read_only)
{
	static const char *const ro[] = { "used_bytes", "allocations" };
	unsigned int i;
	__u64 v;

	ASSERT_EQ(0, tt_alloc(self->fd, 1, TT_ALLOC_MEM_DRAM, 1, 10, 0));
	tt_state_add(&self->exp[1], TT_ALLOC_MEM_DRAM, 10, 1, true);
	for (i = 0; i < TT_ARRAY_SIZE(ro); i++)
		EXPECT_NE(0, write_sysfs(1, TT_ALLOC_MEM_DRAM, ro[i], "0")) TH_LOG("attribute #%u", i);
	EXPECT_NE(0, write_sysfs(1, TT_ALLOC_MEM_KERNEL, "system_bytes", "0"));
	EXPECT_NE(0, write_sysfs(1, -1, "clients", "0"));
	EXPECT_NE(0, write_sysfs(1, -1, "reclaimed_bytes", "0"));
	EXPECT_NE(0, write_sysfs(1, -1, "arch", "blackhole"));
	STATE_IS(self->exp);
	ASSERT_EQ(0, read_sysfs_u64(1, TT_ALLOC_MEM_DRAM, "used_bytes", &v));
	EXPECT_EQ(self->base[1].used[TT_ALLOC_MEM_DRAM] + 10, v);
}

/* ================================================================== */
/* fdinfo                                                             */
/* ================================================================== */

struct kv {
	char key[64];
	char val[64];
};

/* The "tt_alloc-" lines of fd's fdinfo; returns how many (at most max). */
static int fdinfo_lines(int fd, struct kv *out, int max)
{
	char p[64], buf[8192], *line, *save;
	int n = 0;

	snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
	if (tt_read_str(p, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *tab = strstr(line, ":\t");

		if (strncmp(line, "tt_alloc-", 9) || !tab || n >= max)
			continue;
		*tab = 0;
		snprintf(out[n].key, sizeof(out[n].key), "%s", line);
		snprintf(out[n].val, sizeof(out[n].val), "%s", tab + 2);
		n++;
	}
	return n;
}

/*
 * fd's fdinfo has the client id line and exactly the expected
 * tt_alloc-total- lines ("tt_alloc-total-dev3-dram", "4096", ...).
 */
static void check_fdinfo(struct __test_metadata *_metadata, int fd,
			 const char *const *exp, int nexp)
{
	struct tt_alloc_info info;
	struct kv kv[128];
	int n = fdinfo_lines(fd, kv, 128), i, j, totals = 0;
	char id[32];

	ASSERT_LE(0, n);
	ASSERT_EQ(0, tt_info(fd, &info));
	snprintf(id, sizeof(id), "%llu", (unsigned long long)info.client_id);
	for (i = 0, j = 0; i < n; i++)
		if (!strcmp(kv[i].key, "tt_alloc-client-id")) {
			EXPECT_STREQ(id, kv[i].val);
			j++;
		}
	EXPECT_EQ(1, j) TH_LOG("tt_alloc-client-id lines");
	for (i = 0; i < n; i++) {
		bool found = false;

		if (strncmp(kv[i].key, "tt_alloc-total-", 15))
			continue;
		totals++;
		for (j = 0; j < nexp; j += 2)
			if (!strcmp(exp[j], kv[i].key)) {
				EXPECT_STREQ(exp[j + 1], kv[i].val) TH_LOG("%s", kv[i].key);
				found = true;
			}
		EXPECT_TRUE(found) TH_LOG("unexpected fdinfo line %s:\t%s", kv[i].key, kv[i].val);
	}
	EXPECT_EQ(nexp / 2, totals) TH_LOG("tt_alloc-total- lines");
}

TEST_F(sys, fdinfo_empty)
{
	check_fdinfo(_metadata, self->fd, NULL, 0);
}

TEST_F(sys, fdinfo_totals)
{
	static const char *const exp1[] = {
		"tt_alloc-total-dev3-dram", "5000",
		"tt_alloc-total-dev3-kernel", "300",
		"tt_alloc-total-dev7-l1_small", "77",
		"tt_alloc-total-dev0-cb", "1",
	};
	static const char *const exp2[] = {
		"tt_alloc-total-dev3-kernel", "300",
		"tt_alloc-total-dev7-l1_small", "77",
		"tt_alloc-total-dev0-cb", "1",
	};
	static const char *const other[] = {
		"tt_alloc-total-dev1-trace", "4096",
		"tt_alloc-total-dev1-system", "8",
	};
	int fd2 = tt_open();

	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_DRAM, 1, 4096, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_DRAM, 2, 904, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_KERNEL, 1, 100, TT_ALLOC_KERNEL_APP));
	ASSERT_EQ(0, tt_alloc(self->fd, 3, TT_ALLOC_MEM_KERNEL, 2, 200, TT_ALLOC_KERNEL_FABRIC));
	ASSERT_EQ(0, tt_alloc(self->fd, 7, TT_ALLOC_MEM_L1_SMALL, 1, 77, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_CB, 1, 1, 0));
	/* References add nothing. */
	ASSERT_EQ(0, tt_alloc(self->fd, 7, TT_ALLOC_MEM_L1_SMALL, 1, 77, 0));
	ASSERT_EQ(0, tt_alloc(fd2, 1, TT_ALLOC_MEM_TRACE, 1, 4096, 0));
	ASSERT_EQ(0, tt_alloc(fd2, 1, TT_ALLOC_MEM_SYSTEM, 1, 8, 0));
	check_fdinfo(_metadata, self->fd, exp1, TT_ARRAY_SIZE(exp1));
	check_fdinfo(_metadata, fd2, other, TT_ARRAY_SIZE(other));

	/* A device/type with no entries left has no line. */
	ASSERT_EQ(0, tt_free(self->fd, 3, TT_ALLOC_MEM_DRAM, 1));
	ASSERT_EQ(0, tt_free(self->fd, 3, TT_ALLOC_MEM_DRAM, 2));
	check_fdinfo(_metadata, self->fd, exp2, TT_ARRAY_SIZE(exp2));
	close(fd2);
}

/* fdinfo totals agree with USAGE file scope on every device and type. */
TEST_F(sys, fdinfo_matches_usage)
{
	struct kv kv[128];
	__u32 d, i;
	int n, t, lines = 0;

	for (i = 0; i < 50; i++)
		ASSERT_EQ(0, tt_alloc(self->fd, i % self->ndev, i % TT_NTYPES, i,
				      1 + i * 1000, 0));
	n = fdinfo_lines(self->fd, kv, 128);
	ASSERT_LE(0, n);
	for (d = 0; d < self->ndev; d++) {
		struct tt_alloc_usage u;

		ASSERT_EQ(0, tt_usage(self->fd, d, TT_ALLOC_SCOPE_FILE, &u));
		for (t = 0; t < TT_NTYPES; t++) {
			char key[64], val[32];
			int k, hits = 0;

			snprintf(key, sizeof(key), "tt_alloc-total-dev%u-%s", d, tt_type_name[t]);
			snprintf(val, sizeof(val), "%llu", (unsigned long long)u.used[t]);
			for (k = 0; k < n; k++)
				if (!strcmp(kv[k].key, key)) {
					EXPECT_STREQ(val, kv[k].val) TH_LOG("%s", key);
					hits++;
				}
			EXPECT_EQ(u.allocations[t] ? 1 : 0, hits) TH_LOG("%s", key);
			lines += hits;
		}
	}
	/* 50 entries over 8 devices x 7 types: (i % 8, i % 7) are 50 distinct pairs. */
	EXPECT_EQ(50, lines);
}

/* ================================================================== */
/* peak                                                               */
/* ================================================================== */

#define PK_DEV	6
#define PK_T	TT_ALLOC_MEM_DRAM

static __u64 peak_of(struct __test_metadata *_metadata, int fd)
{
	struct tt_alloc_usage u;
	__u64 v;

	ASSERT_EQ(0, read_sysfs_u64(PK_DEV, PK_T, "peak_bytes", &v));
	ASSERT_EQ(0, tt_usage(fd, PK_DEV, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(u.peak[PK_T], v) TH_LOG("sysfs peak_bytes vs USAGE peak");
	return v;
}

TEST_F(sys, peak_tracks_highest_use)
{
	__u64 b = self->base[PK_DEV].used[PK_T];

	ASSERT_EQ(0, write_sysfs(PK_DEV, PK_T, "peak_bytes", "0"));
	EXPECT_EQ(b, peak_of(_metadata, self->fd));
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, PK_T, 1, 100, 0));
	EXPECT_EQ(b + 100, peak_of(_metadata, self->fd));
	ASSERT_EQ(0, tt_free(self->fd, PK_DEV, PK_T, 1));
	EXPECT_EQ(b + 100, peak_of(_metadata, self->fd));
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, PK_T, 1, 50, 0));
	EXPECT_EQ(b + 100, peak_of(_metadata, self->fd));
	/* Reset: peak = current use. */
	ASSERT_EQ(0, write_sysfs(PK_DEV, PK_T, "peak_bytes", "0"));
	EXPECT_EQ(b + 50, peak_of(_metadata, self->fd));
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, PK_T, 2, 25, 0));
	EXPECT_EQ(b + 75, peak_of(_metadata, self->fd));
}

TEST_F(sys, peak_per_type_and_device)
{
	__u64 v;

	ASSERT_EQ(0, tt_reset_peaks(PK_DEV));
	ASSERT_EQ(0, tt_reset_peaks(PK_DEV + 1));
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, TT_ALLOC_MEM_L1, 1, 1000, 0));
	ASSERT_EQ(0, tt_free(self->fd, PK_DEV, TT_ALLOC_MEM_L1, 1));
	ASSERT_EQ(0, read_sysfs_u64(PK_DEV, TT_ALLOC_MEM_L1, "peak_bytes", &v));
	EXPECT_EQ(self->base[PK_DEV].used[TT_ALLOC_MEM_L1] + 1000, v);
	ASSERT_EQ(0, read_sysfs_u64(PK_DEV, TT_ALLOC_MEM_DRAM, "peak_bytes", &v));
	EXPECT_EQ(self->base[PK_DEV].used[TT_ALLOC_MEM_DRAM], v);
	ASSERT_EQ(0, read_sysfs_u64(PK_DEV + 1, TT_ALLOC_MEM_L1, "peak_bytes", &v));
	EXPECT_EQ(self->base[PK_DEV + 1].used[TT_ALLOC_MEM_L1], v);
	/* Resetting one type leaves the others. */
	ASSERT_EQ(0, write_sysfs(PK_DEV, TT_ALLOC_MEM_DRAM, "peak_bytes", "0"));
	ASSERT_EQ(0, read_sysfs_u64(PK_DEV, TT_ALLOC_MEM_L1, "peak_bytes", &v));
	EXPECT_EQ(self->base[PK_DEV].used[TT_ALLOC_MEM_L1] + 1000, v);
}

/* Writing anything but 0 to peak_bytes fails with EINVAL, peak unchanged. */
#define PEAK_WRITE_FAILS(name, str)						\
TEST_F(sys, name)								\
{										\
	ASSERT_EQ(0, write_sysfs(PK_DEV, PK_T, "peak_bytes", "0"));		\
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, PK_T, 1, 100, 0));		\
	ASSERT_EQ(0, tt_free(self->fd, PK_DEV, PK_T, 1));			\
	EXPECT_EQ(-EINVAL, write_sysfs(PK_DEV, PK_T, "peak_bytes", str));	\
	EXPECT_EQ(self->base[PK_DEV].used[PK_T] + 100, peak_of(_metadata, self->fd)); \
}

PEAK_WRITE_FAILS(peak_write_5, "5")
PEAK_WRITE_FAILS(peak_write_garbage, "abc")
PEAK_WRITE_FAILS(peak_write_negative, "-1")
PEAK_WRITE_FAILS(peak_write_empty, "\n")

TEST_F(sys, peak_write_0_newline_ok)
{
	ASSERT_EQ(0, tt_alloc(self->fd, PK_DEV, PK_T, 1, 100, 0));
	ASSERT_EQ(0, tt_free(self->fd, PK_DEV, PK_T, 1));
	ASSERT_EQ(0, write_sysfs(PK_DEV, PK_T, "peak_bytes", "0\n"));
	EXPECT_EQ(self->base[PK_DEV].used[PK_T], peak_of(_metadata, self->fd));
}

/* ================================================================== */
/* capacity                                                           */
/* ================================================================== */

#define CP_DEV	5

TEST_F(sys, capacity_write)
{
	struct tt_alloc_usage u;
	__u64 v;

	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", "1048576"));
	ASSERT_EQ(0, read_sysfs_u64(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(1048576, v);
	ASSERT_EQ(0, tt_usage(self->fd, CP_DEV, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(1048576, u.capacity[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(0, u.capacity[TT_ALLOC_MEM_L1]);
	ASSERT_EQ(0, tt_usage(self->fd, CP_DEV + 1, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(0, u.capacity[TT_ALLOC_MEM_DRAM]);
	/* File scope has no capacity. */
	ASSERT_EQ(0, tt_usage(self->fd, CP_DEV, TT_ALLOC_SCOPE_FILE, &u));
	EXPECT_EQ(0, u.capacity[TT_ALLOC_MEM_DRAM]);
	/* As echo(1) writes it, and the largest value. */
	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", "12884901888\n"));
	ASSERT_EQ(0, read_sysfs_u64(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(12884901888ULL, v);
	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", "18446744073709551615"));
	ASSERT_EQ(0, read_sysfs_u64(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(UINT64_MAX, v);
	/* Back to unknown. */
	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", "0"));
	ASSERT_EQ(0, read_sysfs_u64(CP_DEV, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(0, v);
}

/* An invalid capacity string fails with EINVAL and changes nothing. */
#define CAPACITY_WRITE_FAILS(name, str)						\
TEST_F(sys, name)								\
{										\
	__u64 v;								\
	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_L1, "capacity_bytes", "4096")); \
	EXPECT_EQ(-EINVAL, write_sysfs(CP_DEV, TT_ALLOC_MEM_L1, "capacity_bytes", str)); \
	ASSERT_EQ(0, read_sysfs_u64(CP_DEV, TT_ALLOC_MEM_L1, "capacity_bytes", &v)); \
	EXPECT_EQ(4096, v);							\
	ASSERT_EQ(0, write_sysfs(CP_DEV, TT_ALLOC_MEM_L1, "capacity_bytes", "0")); \
}

CAPACITY_WRITE_FAILS(capacity_write_garbage, "abc")
CAPACITY_WRITE_FAILS(capacity_write_trailing_garbage, "4096abc")
CAPACITY_WRITE_FAILS(capacity_write_negative, "-1")
CAPACITY_WRITE_FAILS(capacity_write_empty, "\n")
CAPACITY_WRITE_FAILS(capacity_write_float, "1.5")

/* ================================================================== */
/* module parameters                                                  */
/* ================================================================== */

TEST_F(sys, params_defaults)
{
	char s[16];
	__u64 v;

	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(TT_DEF_SWEEP_MS, v);
	ASSERT_EQ(0, tt_param_read("max_allocations_per_file", &v));
	EXPECT_EQ(TT_DEF_MAX_PER_FILE, v);
	ASSERT_LT(0, tt_read_str(TT_PARAM_DIR "/enforce_capacity", s, sizeof(s)));
	EXPECT_TRUE(!strcmp(s, "0\n") || !strcmp(s, "N\n")) TH_LOG("enforce_capacity reads '%s'", s);
}

TEST_F(sys, param_sweep_interval_write)
{
	__u64 v;

	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", "200"));
	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(200, v);
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", "1"));
	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(1, v);
}

TEST_F(sys, param_sweep_interval_zero_einval)
{
	__u64 v;

	EXPECT_EQ(-EINVAL, tt_param_write("sweep_interval_ms", "0"));
	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(TT_DEF_SWEEP_MS, v);
}

TEST_F(sys, param_sweep_interval_garbage_einval)
{
	__u64 v;

	EXPECT_EQ(-EINVAL, tt_param_write("sweep_interval_ms", "soon"));
	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(TT_DEF_SWEEP_MS, v);
}

TEST_F(sys, param_max_allocations_write)
{
	char v[32];
	__u64 r;
	int i;

	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", "3"));
	ASSERT_EQ(0, tt_param_read("max_allocations_per_file", &r));
	EXPECT_EQ(3, r);
	for (i = 0; i < 3; i++)
		EXPECT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, i, 1, 0));
	EXPECT_EQ(-EDQUOT, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 3, 1, 0));
	snprintf(v, sizeof(v), "%d", TT_DEF_MAX_PER_FILE);
	ASSERT_EQ(0, tt_param_write("max_allocations_per_file", v));
	EXPECT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 3, 1, 0));
}

/* ================================================================== */
/* Fixture "reload": tests that load the module with other parameters */
/* ================================================================== */

FIXTURE(reload) {
	int fd;
};

FIXTURE_SETUP(reload)
{
	self->fd = -1;
}

FIXTURE_TEARDOWN(reload)
{
	if (self->fd >= 0)
		close(self->fd);
	EXPECT_EQ(0, tt_reload("")) TH_LOG("restoring the default module");
}

TEST_F(reload, arch_presets)
{
	struct tt_alloc_info info;
	struct tt_alloc_usage u;
	char s[32];
	__u64 v;

	ASSERT_EQ(0, tt_reload("devices=2 arch=wormhole_b0,blackhole"));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_info(self->fd, &info));
	EXPECT_EQ(2, info.num_devices);

	ASSERT_LT(0, read_attr_str(0, -1, "arch", s, sizeof(s)));
	EXPECT_STREQ("wormhole_b0\n", s);
	ASSERT_LT(0, read_attr_str(1, -1, "arch", s, sizeof(s)));
	EXPECT_STREQ("blackhole\n", s);
	EXPECT_FALSE(path_exists(TT_CLASS_DIR "/device2"));

	ASSERT_EQ(0, read_sysfs_u64(0, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(WH_DRAM, v);
	ASSERT_EQ(0, read_sysfs_u64(0, TT_ALLOC_MEM_L1, "capacity_bytes", &v));
	EXPECT_EQ(WH_L1, v);
	ASSERT_EQ(0, read_sysfs_u64(1, TT_ALLOC_MEM_DRAM, "capacity_bytes", &v));
	EXPECT_EQ(BH_DRAM, v);
	ASSERT_EQ(0, read_sysfs_u64(1, TT_ALLOC_MEM_L1, "capacity_bytes", &v));
	EXPECT_EQ(BH_L1, v);

	ASSERT_EQ(0, tt_usage(self->fd, 0, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(WH_DRAM, u.capacity[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(WH_L1, u.capacity[TT_ALLOC_MEM_L1]);
	ASSERT_EQ(0, tt_usage(self->fd, 1, TT_ALLOC_SCOPE_DEVICE, &u));
	EXPECT_EQ(BH_DRAM, u.capacity[TT_ALLOC_MEM_DRAM]);
	EXPECT_EQ(BH_L1, u.capacity[TT_ALLOC_MEM_L1]);
	/* sysfs and USAGE agree on every type. */
	for (int d = 0; d < 2; d++) {
		ASSERT_EQ(0, tt_usage(self->fd, d, TT_ALLOC_SCOPE_DEVICE, &u));
		for (int t = 0; t < TT_NTYPES; t++) {
			ASSERT_EQ(0, read_sysfs_u64(d, t, "capacity_bytes", &v));
			EXPECT_EQ(v, u.capacity[t]) TH_LOG("device %d %s", d, tt_type_name[t]);
		}
	}
	EXPECT_EQ(-ENODEV, tt_alloc(self->fd, 2, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	EXPECT_EQ(-ENODEV, tt_usage(self->fd, 2, TT_ALLOC_SCOPE_DEVICE, &u));
}

TEST_F(reload, arch_preset_capacity_enforced)
{
	ASSERT_EQ(0, tt_reload("devices=2 arch=wormhole_b0,blackhole enforce_capacity=1"));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_L1, 1, WH_L1, 0));
	EXPECT_EQ(-ENOSPC, tt_alloc(self->fd, 0, TT_ALLOC_MEM_L1, 2, 1, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 1, TT_ALLOC_MEM_L1, 1, WH_L1 + 1, 0));
	EXPECT_EQ(-ENOSPC, tt_alloc(self->fd, 1, TT_ALLOC_MEM_L1, 2, BH_L1 - WH_L1, 0));
	ASSERT_EQ(0, tt_alloc(self->fd, 1, TT_ALLOC_MEM_L1, 2, BH_L1 - WH_L1 - 1, 0));
	/* Bigger than the whole device: a wrong size, not a full device. */
	EXPECT_EQ(-EINVAL, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 1, WH_DRAM + 1, 0));
	EXPECT_EQ(0, tt_alloc(self->fd, 1, TT_ALLOC_MEM_DRAM, 1, WH_DRAM + 1, 0));
}

TEST_F(reload, arch_single_device)
{
	struct tt_alloc_info info;
	char s[32];

	ASSERT_EQ(0, tt_reload("devices=1 arch=blackhole"));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_info(self->fd, &info));
	EXPECT_EQ(1, info.num_devices);
	ASSERT_LT(0, read_attr_str(0, -1, "arch", s, sizeof(s)));
	EXPECT_STREQ("blackhole\n", s);
	EXPECT_FALSE(path_exists(TT_CLASS_DIR "/device1"));
}

TEST_F(reload, chips_named)
{
	char s[64];

	ASSERT_EQ(0, tt_reload("devices=3 arch=wormhole_b0,wormhole_b0,blackhole "
			       "chips=0000:01:00.0/0,0000:01:00.0/1"));
	ASSERT_LT(0, read_attr_str(0, -1, "chip", s, sizeof(s)));
	EXPECT_STREQ("0000:01:00.0/0\n", s);
	ASSERT_LT(0, read_attr_str(1, -1, "chip", s, sizeof(s)));
	EXPECT_STREQ("0000:01:00.0/1\n", s);
	/* Fewer chips than devices: the rest stand for no chip. */
	ASSERT_LT(0, read_attr_str(2, -1, "chip", s, sizeof(s)));
	EXPECT_STREQ("\n", s);
}

/* The longest name deviceN/chip holds, 31 characters, is kept whole. */
TEST_F(reload, chip_longest_kept)
{
	char s[64];

	ASSERT_EQ(0, tt_reload("devices=1 chips=000000000000000000000:01:00.0/0"));
	ASSERT_LT(0, read_attr_str(0, -1, "chip", s, sizeof(s)));
	EXPECT_STREQ("000000000000000000000:01:00.0/0\n", s);
}

TEST_F(reload, chip_empty_by_default)
{
	char s[64];

	ASSERT_EQ(0, tt_reload("devices=1"));
	ASSERT_LT(0, read_attr_str(0, -1, "chip", s, sizeof(s)));
	EXPECT_STREQ("\n", s);
}

/*
 * 64 devices' sysfs directories: over kselftest's default 30 s on the
 * debug kernel beside another run's guests (2026-12-06), and a timed-out
 * case leaves the module busy for the cases after it.
 */
TEST_F_TIMEOUT(reload, devices_64, 300)
{
	struct tt_alloc_info info;
	char p[128];

	ASSERT_EQ(0, tt_reload("devices=64"));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_info(self->fd, &info));
	EXPECT_EQ(64, info.num_devices);
	EXPECT_EQ(0, tt_alloc(self->fd, 63, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	EXPECT_EQ(-ENODEV, tt_alloc(self->fd, 64, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	snprintf(p, sizeof(p), TT_CLASS_DIR "/device63/dram/used_bytes");
	EXPECT_TRUE(path_exists(p));
	EXPECT_FALSE(path_exists(TT_CLASS_DIR "/device64"));
}

/* modprobe with bad parameters fails and leaves the module unloaded. */
#define LOAD_FAILS(name, params)						\
TEST_F(reload, name)								\
{										\
	ASSERT_EQ(0, tt_unload());						\
	EXPECT_NE(0, tt_load(params)) TH_LOG("modprobe tt_alloc %s", params);	\
	EXPECT_FALSE(tt_module_loaded());					\
}

LOAD_FAILS(load_devices_0_fails, "devices=0")
LOAD_FAILS(load_devices_65_fails, "devices=65")
LOAD_FAILS(load_unknown_arch_fails, "devices=2 arch=wormhole_b0,grayskull_x")
LOAD_FAILS(load_unknown_arch_single_fails, "devices=1 arch=quasar9")
LOAD_FAILS(load_chips_too_many_fails, "devices=1 chips=0000:01:00.0/0,0000:01:00.0/1")
LOAD_FAILS(load_chip_no_index_fails, "devices=1 chips=0000:01:00.0")
LOAD_FAILS(load_chip_bad_index_fails, "devices=1 chips=0000:01:00.0/x")
/* 32 characters: one more than deviceN/chip holds */
LOAD_FAILS(load_chip_too_long_fails, "devices=1 chips=0000000000000000000000:01:00.0/0")

TEST_F(reload, load_max_allocations_param)
{
	__u64 v;
	int i;

	ASSERT_EQ(0, tt_reload("max_allocations_per_file=10"));
	ASSERT_EQ(0, tt_param_read("max_allocations_per_file", &v));
	EXPECT_EQ(10, v);
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	for (i = 0; i < 10; i++)
		ASSERT_EQ(0, tt_alloc(self->fd, i % 8, i % TT_NTYPES, i, 1, 0));
	EXPECT_EQ(-EDQUOT, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 100, 1, 0));
}

TEST_F(reload, load_sweep_interval_param)
{
	__u64 v;

	ASSERT_EQ(0, tt_reload("sweep_interval_ms=250"));
	ASSERT_EQ(0, tt_param_read("sweep_interval_ms", &v));
	EXPECT_EQ(250, v);
}

/* ================================================================== */
/* rmmod                                                              */
/* ================================================================== */

TEST_F(reload, rmmod_busy_while_open)
{
	struct tt_alloc_info info;

	ASSERT_TRUE(tt_module_loaded());
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 1, 1, 0));
	EXPECT_NE(0, tt_sh("rmmod tt_alloc"));
	EXPECT_TRUE(tt_module_loaded());
	/* The file still works. */
	ASSERT_EQ(0, tt_info(self->fd, &info));
	ASSERT_EQ(0, tt_free(self->fd, 0, TT_ALLOC_MEM_DRAM, 1));
	close(self->fd);
	self->fd = -1;
	EXPECT_EQ(0, tt_sh("rmmod tt_alloc"));
	EXPECT_FALSE(tt_module_loaded());
	EXPECT_FALSE(path_exists(TT_CLASS_DIR "/device0"));
	ASSERT_EQ(0, tt_load(""));
	EXPECT_TRUE(tt_module_loaded());
}

TEST_F(reload, rmmod_busy_while_child_holds_file)
{
	int p[2];
	pid_t pid;
	char c;

	ASSERT_EQ(0, pipe(p));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(p[1]);
		if (read(p[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	close(p[0]);
	close(self->fd);
	self->fd = -1;
	EXPECT_NE(0, tt_sh("rmmod tt_alloc"));
	EXPECT_TRUE(tt_module_loaded());
	close(p[1]);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	EXPECT_EQ(0, tt_sh("rmmod tt_alloc"));
	EXPECT_FALSE(tt_module_loaded());
}

TEST_HARNESS_MAIN
