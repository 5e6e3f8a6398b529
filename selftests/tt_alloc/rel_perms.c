// SPDX-License-Identifier: GPL-2.0
/*
 * Permissions: /dev/tt_alloc is mode 0666 and an unprivileged user (uid
 * and gid 1000, no supplementary groups, no capabilities) can open it and
 * record; it cannot write capacity_bytes, peak_bytes or the module
 * parameters, read debugfs allocations, or read another user's fdinfo.
 * The pid-namespace view of the client list is covered by
 * selftests/tt_alloc/clients_test.c (cl.pid_namespace). One user's
 * processes cannot silence another user's reclaim log lines.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#include <grp.h>

#define UNPRIV	1000

static mode_t root_mode;

/* Results the unprivileged child reports, one errno (0: allowed) each. */
enum {
	P_OPEN, P_ALLOC, P_USAGE, P_CLIENTS, P_READ_USED, P_CAPACITY, P_PEAK,
	P_PARAM, P_DEBUGFS, P_FDINFO_OTHER, P_FDINFO_OWN, P_NR
};

static const char *const p_name[P_NR] = {
	"open /dev/tt_alloc", "ALLOC", "USAGE", "CLIENTS", "read used_bytes",
	"write capacity_bytes", "write peak_bytes", "write sweep_interval_ms",
	"read debugfs allocations", "read root's fdinfo", "read own fdinfo",
};

static int p_open_err(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC);

	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

static int p_read_err(const char *path)
{
	char buf[256];
	int n = tt_read_str(path, buf, sizeof(buf));

	return n < 0 ? -n : 0;
}

FIXTURE(perm) {
	int fd;
	pid_t kid;
	int *res;
};

FIXTURE_SETUP(perm)
{
	self->kid = 0;
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	self->res = mmap(NULL, 4096, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->res);
}

static void restore_root(void);

FIXTURE_TEARDOWN(perm)
{
	restore_root();
	tt_kill_reap(&self->kid);
	close(self->fd);
}

TEST_F(perm, device_node_mode_0666)
{
	struct stat st;

	ASSERT_EQ(0, stat(TT_DEV_PATH, &st));
	EXPECT_TRUE(S_ISCHR(st.st_mode));
	EXPECT_EQ(0666, st.st_mode & 07777);
	EXPECT_EQ(0, st.st_uid);
}

TEST_F_TIMEOUT(perm, unprivileged_user, 60)
{
	struct tt_dev_state base[TT_MAX_DEVS], now[TT_MAX_DEVS];
	char cap_before[64], cap_after[64], path[256];
	int st, i, ufd = -1;
	__u32 ndev;

	/*
	 * The test VM's initramfs root may be 0700 (mktemp -d): then no
	 * other user can reach anything. Open it up for the test's duration.
	 */
	{
		struct stat rs;

		ASSERT_EQ(0, stat("/", &rs));
		if (!(rs.st_mode & S_IXOTH)) {
			ksft_print_msg("/ is mode %o: chmod 0755 for the test (environment issue, not tt_alloc)\n",
				       rs.st_mode & 07777);
			ASSERT_EQ(0, chmod("/", (rs.st_mode & 07777) | 0555));
			root_mode = rs.st_mode & 07777;
		}
	}
	/* root's fd holds an entry, so its fdinfo has something to leak */
	ASSERT_EQ(0, tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 42, 1 << 20, 0));
	ndev = tt_snapshot_all(_metadata, self->fd, base);
	ASSERT_LT(0, tt_read_str(tt_attr_path(path, sizeof(path), 0, TT_ALLOC_MEM_DRAM,
					      "capacity_bytes"), cap_before, sizeof(cap_before)));
	for (i = 0; i < P_NR; i++)
		self->res[i] = -1;

	self->kid = fork();
	ASSERT_LE(0, self->kid);
	if (self->kid == 0) {
		struct tt_alloc_usage u;
		__u32 n = 0;
		int *r = self->res, fd;
		char p[256];

		if (setgroups(0, NULL) || setgid(UNPRIV) || setuid(UNPRIV))
			_exit(2);
		prctl(PR_SET_DUMPABLE, 1);
		fd = open(TT_DEV_PATH, O_RDWR | O_CLOEXEC);
		r[P_OPEN] = fd < 0 ? errno : 0;
		r[P_ALLOC] = -tt_alloc(fd, 1, TT_ALLOC_MEM_L1, 7, 4096, 0);
		r[P_USAGE] = -tt_usage(fd, 1, TT_ALLOC_SCOPE_DEVICE, &u);
		r[P_CLIENTS] = -tt_clients(fd, NULL, &n);
		r[P_READ_USED] = p_read_err(tt_attr_path(p, sizeof(p), 1, TT_ALLOC_MEM_L1,
							 "used_bytes"));
		r[P_CAPACITY] = p_open_err(tt_attr_path(p, sizeof(p), 0, TT_ALLOC_MEM_DRAM,
							"capacity_bytes"), O_WRONLY);
		r[P_PEAK] = p_open_err(tt_attr_path(p, sizeof(p), 0, TT_ALLOC_MEM_DRAM,
						    "peak_bytes"), O_WRONLY);
		r[P_PARAM] = p_open_err(TT_PARAM_DIR "/sweep_interval_ms", O_WRONLY);
		r[P_DEBUGFS] = p_read_err(REL_DBG_ALLOCS);
		snprintf(p, sizeof(p), "/proc/%d/fdinfo/%d", getppid(), self->fd);
		r[P_FDINFO_OTHER] = p_read_err(p);
		snprintf(p, sizeof(p), "/proc/self/fdinfo/%d", fd);
		r[P_FDINFO_OWN] = p_read_err(p);
		/* hold the file: root checks the entry, then kills us */
		r[P_NR] = 1;
		for (;;)
			pause();
	}
	for (i = 0; i < 5000 && !self->res[P_NR]; i++)
		rel_msleep(2);
	ASSERT_EQ(1, self->res[P_NR]) TH_LOG("child did not finish");

	for (i = 0; i < P_NR; i++)
		ksft_print_msg("uid %d: %-26s -> %s\n", UNPRIV, p_name[i],
			       self->res[i] ? strerror(self->res[i]) : "allowed");
	/* allowed */
	EXPECT_EQ(0, self->res[P_OPEN]);
	EXPECT_EQ(0, self->res[P_ALLOC]);
	EXPECT_EQ(0, self->res[P_USAGE]);
	EXPECT_EQ(0, self->res[P_CLIENTS]);
	EXPECT_EQ(0, self->res[P_READ_USED]);
	EXPECT_EQ(0, self->res[P_FDINFO_OWN]);
	/* refused */
	EXPECT_EQ(EACCES, self->res[P_CAPACITY]);
	EXPECT_EQ(EACCES, self->res[P_PEAK]);
	EXPECT_EQ(EACCES, self->res[P_PARAM]);
	EXPECT_EQ(EACCES, self->res[P_DEBUGFS]);
	EXPECT_EQ(EACCES, self->res[P_FDINFO_OTHER]);

	/* the unprivileged entry is recorded; nothing else changed */
	tt_snapshot_all(_metadata, self->fd, now);
	tt_state_add(&base[1], TT_ALLOC_MEM_L1, 4096, 1, false);
	base[1].clients++;
	for (i = 0; i < (int)ndev; i++)
		tt_assert_dev_counters_eq(_metadata, i, &base[i], &now[i]);
	ASSERT_LT(0, tt_read_str(path, cap_after, sizeof(cap_after)));
	EXPECT_STREQ(cap_before, cap_after);
	ASSERT_EQ(0, kill(self->kid, SIGKILL));
	ASSERT_EQ(self->kid, waitpid(self->kid, &st, 0));
	self->kid = 0;
	base[1].used[TT_ALLOC_MEM_L1] -= 4096;
	base[1].s_used[TT_ALLOC_MEM_L1] -= 4096;
	base[1].allocs[TT_ALLOC_MEM_L1]--;
	base[1].s_allocs[TT_ALLOC_MEM_L1]--;
	base[1].clients--;
	rel_assert_devs_eq(_metadata, self->fd, base);
	ASSERT_EQ(0, tt_free(self->fd, 0, TT_ALLOC_MEM_DRAM, 42));
	(void)ufd;
}

/*
 * A child of @uid named @comm records an entry and exits holding it; with
 * a pipe @go, once its write end is closed.
 */
static pid_t perm_record_and_die(uid_t uid, const char *comm, const int *go)
{
	pid_t kid = fork();
	char c;
	int fd;

	if (kid)
		return kid;
	if (go)
		close(go[1]);
	if (setgroups(0, NULL) || setgid(uid) || setuid(uid))
		_exit(2);
	prctl(PR_SET_NAME, comm);
	fd = open(TT_DEV_PATH, O_RDWR | O_CLOEXEC);
	if (fd < 0 || tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 4096, 0))
		_exit(3);
	/* All at once, so that they die within one log interval. */
	if (go && read(go[0], &c, 1) != 0)
		_exit(4);
	_exit(0);
}

/*
 * The reclaim log lines are rate-limited per user (10 lines per 5 s): 60
 * processes of one user dying at once with an entry each use up that
 * user's allowance, and a process of another user that dies right after
 * still gets its line.
 */
#define FLOOD_N		60

TEST_F_TIMEOUT(perm, reclaim_log_rate_is_per_user, 120)
{
	int kmsg, go[2], i, st, flood = 0, other_seen = 0;
	char rec[1024], other[64];
	pid_t kids[FLOOD_N], kid;

	kmsg = tt_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, pipe(go));
	for (i = 0; i < FLOOD_N; i++) {
		kids[i] = perm_record_and_die(UNPRIV + 1, "tt-flood", go);
		ASSERT_LT(0, kids[i]);
	}
	close(go[0]);
	close(go[1]);
	for (i = 0; i < FLOOD_N; i++) {
		ASSERT_EQ(kids[i], waitpid(kids[i], &st, 0));
		ASSERT_EQ(0, st) TH_LOG("flooder %d: status %#x", i, st);
	}
	kid = perm_record_and_die(UNPRIV + 2, "tt-other", NULL);
	ASSERT_LT(0, kid);
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	ASSERT_EQ(0, st);
	snprintf(other, sizeof(other), "tt_alloc: pid %d (tt-other) left", kid);
	while (tt_kmsg_next(kmsg, rec, sizeof(rec))) {
		flood += !!strstr(rec, "(tt-flood) left");
		other_seen |= !!strstr(rec, other);
	}
	close(kmsg);
	TH_LOG("%d of %d lines of one user logged", flood, FLOOD_N);
	EXPECT_GT(FLOOD_N, flood) TH_LOG("one user's lines are not rate-limited");
	EXPECT_TRUE(other_seen) TH_LOG("no line for the other user's process %d", kid);
}

static void restore_root(void)
{
	if (root_mode)
		chmod("/", root_mode);
}

TEST_HARNESS_MAIN
