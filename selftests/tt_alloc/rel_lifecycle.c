// SPDX-License-Identifier: GPL-2.0
/*
 * Module lifecycle: rmmod is refused while any file is open (also a file
 * only in flight in a unix socket); load/unload cycles with activity in
 * between leave no sysfs, devfs or debugfs behind and nothing for
 * kmemleak; out-of-range parameters fail the load with a tt_alloc line in
 * the kernel log naming the problem. Leaves tt_alloc loaded with its
 * defaults.
 *
 *   rel_lifecycle [-c cycles] [harness options]
 *
 * 50 cycles with TT_TEST_FULL=1 (make check-full), else 10: a load and
 * unload on the debug kernel under TCG takes seconds.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define LC_CYCLES_FULL	50
#define LC_CYCLES_CHECK	10

static unsigned int cycles;

FIXTURE(lc) {
	int dummy;
};

FIXTURE_SETUP(lc)
{
	self->dummy = 0;
	if (!tt_module_loaded())
		ASSERT_EQ(0, tt_load(""));
}

FIXTURE_TEARDOWN(lc)
{
	/* leave it loaded with the defaults */
	if (tt_module_loaded())
		tt_unload();
	tt_load("");
}

static bool lc_gone(void)
{
	return access(TT_CLASS_DIR, F_OK) && access(TT_DEV_PATH, F_OK) &&
	       access("/sys/kernel/debug/tt_alloc", F_OK) &&
	       access("/sys/module/tt_alloc", F_OK);
}

TEST_F_TIMEOUT(lc, rmmod_refused_while_open, 120)
{
	int fd, sv[2];

	fd = tt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 4096, 0));
	EXPECT_NE(0, tt_sh("rmmod tt_alloc"));
	EXPECT_TRUE(tt_module_loaded());
	EXPECT_EQ(0, access(TT_CLASS_DIR "/device0", F_OK));

	/* only in flight: still in use */
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_DGRAM, 0, sv));
	ASSERT_EQ(0, rel_send_fd(sv[1], fd));
	close(fd);
	EXPECT_NE(0, tt_sh("rmmod tt_alloc"));
	EXPECT_TRUE(tt_module_loaded());
	close(sv[0]);
	close(sv[1]);
	/* released with the socket: now it goes */
	EXPECT_EQ(0, tt_sh("rmmod tt_alloc"));
	EXPECT_TRUE(lc_gone());
	ASSERT_EQ(0, tt_load(""));
}

TEST_F_TIMEOUT(lc, load_unload_cycles, 1200)
{
	static const char *const params[] = {
		"", "devices=1", "devices=64", "devices=3 arch=wormhole_b0,blackhole",
		"sweep_interval_ms=1", "max_allocations_per_file=1",
	};
	__u64 t0 = tt_now_ms();
	unsigned int i;

	for (i = 0; i < cycles; i++) {
		const char *p = params[i % TT_ARRAY_SIZE(params)];
		struct tt_alloc_info info;
		__u64 v;
		int fd, fd2;
		pid_t pid;

		ASSERT_EQ(0, tt_unload()) TH_LOG("cycle %u: rmmod", i);
		ASSERT_TRUE(lc_gone()) TH_LOG("cycle %u: stale sysfs/devfs/debugfs after rmmod", i);
		ASSERT_EQ(0, tt_load(p)) TH_LOG("cycle %u: modprobe %s", i, p);
		fd = tt_open();
		ASSERT_LE(0, fd);
		ASSERT_EQ(0, tt_info(fd, &info));
		ASSERT_EQ(0, tt_alloc(fd, info.num_devices - 1, TT_ALLOC_MEM_KERNEL, i,
				      4096, TT_ALLOC_KERNEL_DISPATCH));
		EXPECT_EQ(p[0] == 'm' ? -EDQUOT : 0,
			  tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, i, 1, 0));
		ASSERT_EQ(0, read_sysfs_u64(info.num_devices - 1, TT_ALLOC_MEM_KERNEL,
					    "used_bytes", &v));
		EXPECT_EQ(4096, v);
		ASSERT_EQ(0, read_sysfs_u64(info.num_devices - 1, -1, "clients", &v));
		EXPECT_EQ(1, v);
		/* a child that records through the inherited file and dies */
		fd2 = tt_open();
		ASSERT_LE(0, fd2);
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			_exit(tt_alloc(fd2, 0, TT_ALLOC_MEM_L1, 1, 1, 0) ? 1 : 0);
		ASSERT_EQ(pid, waitpid(pid, NULL, 0));
		{
			char buf[4096];

			tt_read_str(REL_DBG_ALLOCS, buf, sizeof(buf));
		}
		close(fd2);	/* held entries of a dead recorder: reclaimed */
		close(fd);
		ASSERT_EQ(0, read_sysfs_u64(0, -1, "clients", &v));
		EXPECT_EQ(0, v);
		ASSERT_EQ(0, _metadata->exit_code) TH_LOG("cycle %u (%s)", i, p);
	}
	ASSERT_EQ(0, tt_unload());
	ASSERT_TRUE(lc_gone());
	ASSERT_EQ(0, tt_load(""));
	ksft_print_msg("%u load/unload cycles in %llu ms\n", cycles,
		       (unsigned long long)(tt_now_ms() - t0));
	if (rel_have_kmemleak())
		EXPECT_EQ(0, rel_kmemleak_tt());
}

/* Kernel log records written while running cmd, into buf. */
static int lc_kmsg_of(const char *params, char *buf, size_t len, int *st)
{
	char rec[1024];
	size_t off = 0;
	ssize_t n;
	int fd = tt_kmsg_open();

	if (fd < 0)
		return -errno;
	*st = tt_sh("modprobe tt_alloc %s", params);
	buf[0] = 0;
	while ((n = tt_kmsg_next(fd, rec, sizeof(rec)))) {
		if (off + n + 1 < len) {
			char *msg = strchr(rec, ';');

			off += snprintf(buf + off, len - off, "%s", msg ? msg + 1 : rec);
		}
	}
	close(fd);
	return 0;
}

struct lc_bad {
	const char *params;
	const char *needle;	/* must be in a kernel log line with "tt_alloc" */
};

TEST_F_TIMEOUT(lc, bad_params_rejected_at_load, 300)
{
	static const struct lc_bad bad[] = {
		{ "devices=0", "devices=0" },
		{ "devices=65", "devices=65" },
		{ "arch=bogus", "bogus" },
		{ "devices=1 arch=wormhole_b0,blackhole", "arch" },
		{ "chips=0000:01:00.0/zz", "0000:01:00.0/zz" },
		{ "devices=1 chips=0000:01:00.0/0,0000:02:00.0/0", "chips" },
		{ "sweep_interval_ms=0", "sweep_interval_ms" },
		{ "sweep_interval_ms=3600001", "sweep_interval_ms" },
		{ "max_allocations_per_file=0", "max_allocations_per_file" },
		{ "max_allocations_per_file=16777217", "max_allocations_per_file" },
	};
	static char log[16384];
	unsigned int i;
	int st;

	ASSERT_EQ(0, tt_unload());
	for (i = 0; i < TT_ARRAY_SIZE(bad); i++) {
		bool found = false;
		char *line, *save = NULL;

		ASSERT_EQ(0, lc_kmsg_of(bad[i].params, log, sizeof(log), &st));
		EXPECT_NE(0, st) TH_LOG("modprobe tt_alloc %s succeeded", bad[i].params);
		if (!st)
			tt_unload();
		EXPECT_FALSE(tt_module_loaded());
		EXPECT_TRUE(lc_gone()) TH_LOG("%s: leftovers after the failed load", bad[i].params);
		for (line = strtok_r(log, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
			if (!found && strstr(line, "tt_alloc") && strstr(line, bad[i].needle)) {
				found = true;
				ksft_print_msg("%s -> %s\n", bad[i].params, line);
			}
		}
		EXPECT_TRUE(found) TH_LOG("%s: no tt_alloc line naming '%s' in the kernel log",
					  bad[i].params, bad[i].needle);
	}
	/* and the defaults load */
	ASSERT_EQ(0, tt_load(""));
}

int main(int argc, char **argv)
{
	cycles = rel_full() ? LC_CYCLES_FULL : LC_CYCLES_CHECK;
	if (argc > 2 && !strcmp(argv[1], "-c")) {
		cycles = strtoul(argv[2], NULL, 0);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	return test_harness_run(argc, argv);
}
