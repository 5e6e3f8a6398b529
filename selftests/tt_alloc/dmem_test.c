// SPDX-License-Identifier: GPL-2.0
/*
 * Device-memory limits per cgroup through the cgroup dmem controller
 * (CONFIG_CGROUP_DMEM): the module's regions, EDQUOT exactly at a
 * dmem.max, dmem.current equal to what is held, a sibling unaffected, a
 * parent's limit binding its children, BATCH, SIGKILL, an entry freed
 * from another cgroup, a recorder that moves, a crash storm across two
 * cgroups, a delegated subtree.
 *
 * Reloads the module with two wormhole_b0 devices (capacities, hence regions)
 * and restores the default one at the end. A kernel without the
 * controller runs only no_dmem_on_this_kernel (selftests/skips lists the
 * others for the cloud kernels, that one for the debug kernel).
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <grp.h>
#include <sys/mount.h>

#define REGION	"tt_alloc/0/dram"
#define K	1024ULL
#define M	(1024 * K)

/* Does this kernel have the dmem controller? */
static bool have_dmem(const char *mnt)
{
	char p[128], buf[512];

	snprintf(p, sizeof(p), "%s/cgroup.controllers", mnt);
	return tt_read_str(p, buf, sizeof(buf)) > 0 && strstr(buf, "dmem");
}

/* The value of @region in a dmem.current/max/capacity file, -1 if absent. */
static long long dmem_val(const char *dir, const char *file, const char *region)
{
	char p[256], buf[4096], *line, *save = NULL;
	size_t n = strlen(region);

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	if (tt_read_str(p, buf, sizeof(buf)) < 0)
		return -1;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
		if (!strncmp(line, region, n) && line[n] == ' ')
			return strtoll(line + n + 1, NULL, 10);
	return -1;
}

static int dmem_set_max(const char *dir, const char *value)
{
	char p[256], s[128];

	snprintf(p, sizeof(p), "%s/dmem.max", dir);
	snprintf(s, sizeof(s), REGION " %s", value);
	return tt_write_str(p, s);
}

/* Move the calling process into cgroup @dir. */
static int cg_enter(const char *dir)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
	return tt_write_str(p, "0");
}

FIXTURE(dm) {
	char mnt[32];
	char top[96], a[128], b[128];	/* top/{a,b}, dmem enabled down to them */
	int fd;
	pid_t kid;
	int cmd[2], rep[2];
};

FIXTURE_SETUP(dm)
{
	char p[160];

	ASSERT_EQ(0, tt_reload("devices=2 arch=wormhole_b0,wormhole_b0"));
	strcpy(self->mnt, "/tmp/tt-dmem.XXXXXX");
	ASSERT_NE(NULL, mkdtemp(self->mnt));
	ASSERT_EQ(0, mount("none", self->mnt, "cgroup2", 0, NULL))
		TH_LOG("mount cgroup2: %s", strerror(errno));
	if (!have_dmem(self->mnt))
		SKIP(return, "no dmem controller (CONFIG_CGROUP_DMEM) in this kernel");
	snprintf(self->top, sizeof(self->top), "%s/tt-dmem-%d", self->mnt, (int)getpid());
	snprintf(self->a, sizeof(self->a), "%s/a", self->top);
	snprintf(self->b, sizeof(self->b), "%s/b", self->top);
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", self->mnt);
	ASSERT_EQ(0, tt_write_str(p, "+dmem"));
	ASSERT_EQ(0, mkdir(self->top, 0755));
	snprintf(p, sizeof(p), "%s/cgroup.subtree_control", self->top);
	ASSERT_EQ(0, tt_write_str(p, "+dmem"));
	ASSERT_EQ(0, mkdir(self->a, 0755));
	ASSERT_EQ(0, mkdir(self->b, 0755));
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_EQ(0, pipe2(self->cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
}

FIXTURE_TEARDOWN(dm)
{
	tt_kill_reap(&self->kid);
	if (self->fd > 0)
		close(self->fd);
	if (self->top[0]) {
		rmdir(self->a);
		rmdir(self->b);
		rmdir(self->top);
	}
	umount2(self->mnt, MNT_DETACH);
	rmdir(self->mnt);
	EXPECT_EQ(0, tt_reload("")) TH_LOG("restoring the default module");
}

/*
 * A child in cgroup @dir that runs @ops, one per command byte: each
 * command is an index into @ops, the reply the op's result (0 or -errno).
 */
struct dm_op {
	int kind;	/* 0 ALLOC, 1 FREE, 2 enter cgroup b, 3 BATCH of 3 x 512K */
	__u64 id, size;
};

static void dm_child(FIXTURE_DATA(dm) *self, const char *dir, const struct dm_op *ops)
{
	unsigned char c;
	int r;

	prctl(PR_SET_PDEATHSIG, SIGKILL);
	r = cg_enter(dir);
	if (write(self->rep[1], &r, sizeof(r)) != sizeof(r))
		_exit(1);
	while (read(self->cmd[0], &c, 1) == 1) {
		const struct dm_op *o = &ops[c];

		if (o->kind == 0) {
			r = tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, o->id, o->size, 0);
		} else if (o->kind == 1) {
			r = tt_free(self->fd, 0, TT_ALLOC_MEM_DRAM, o->id);
		} else if (o->kind == 2) {
			r = cg_enter(self->b);
		} else {
			struct tt_alloc_op b[3];
			__u32 done = 99, i;

			for (i = 0; i < 3; i++)
				b[i] = tt_op(TT_ALLOC_OP_ALLOC, 0, TT_ALLOC_MEM_DRAM,
					     o->id + i, o->size, 0);
			r = tt_batch(self->fd, b, 3, &done);
			r = r ? r * 1000 - (int)done : (int)done;
		}
		if (write(self->rep[1], &r, sizeof(r)) != sizeof(r))
			_exit(1);
	}
	_exit(0);
}

static pid_t dm_start(struct __test_metadata *_metadata, FIXTURE_DATA(dm) *self,
		      const char *dir, const struct dm_op *ops)
{
	pid_t pid = fork();
	int r = -1;

	if (pid == 0)
		dm_child(self, dir, ops);
	EXPECT_LT(0, pid);
	EXPECT_EQ(0, tt_read_full(self->rep[0], &r, sizeof(r)));
	EXPECT_EQ(0, r) TH_LOG("child: entering %s", dir);
	return pid;
}

static int dm_do(struct __test_metadata *_metadata, FIXTURE_DATA(dm) *self, int op)
{
	unsigned char c = (unsigned char)op;
	int r = -12345;

	EXPECT_EQ(1, write(self->cmd[1], &c, 1));
	EXPECT_EQ(0, tt_read_full(self->rep[0], &r, sizeof(r)));
	return r;
}

static __u64 dev0_dram(struct __test_metadata *_metadata, int fd)
{
	struct tt_alloc_usage u;

	EXPECT_EQ(0, tt_usage(fd, 0, TT_ALLOC_SCOPE_DEVICE, &u));
	return u.used[TT_ALLOC_MEM_DRAM];
}

/* The regions: one per type with a capacity, named in sysfs and the root's dmem.capacity. */
TEST_F(dm, regions_and_feature)
{
	struct tt_alloc_info info;
	char p[128], buf[64];
	__u64 cap = 0;

	ASSERT_EQ(0, tt_info(self->fd, &info));
	EXPECT_NE(0, info.features & TT_ALLOC_FEATURE_DMEM);
	ASSERT_EQ(0, read_sysfs_u64(0, TT_ALLOC_MEM_DRAM, "capacity_bytes", &cap));
	ASSERT_LT(0, cap);
	EXPECT_EQ((long long)cap, dmem_val(self->mnt, "dmem.capacity", REGION));
	EXPECT_EQ((long long)cap, dmem_val(self->mnt, "dmem.capacity", "tt_alloc/1/dram"));
	snprintf(p, sizeof(p), "/sys/class/tt_alloc/device1/l1/dmem_region");
	ASSERT_LT(0, tt_read_str(p, buf, sizeof(buf)));
	EXPECT_STREQ("tt_alloc/1/l1\n", buf);
	/* A type without a capacity has none. */
	snprintf(p, sizeof(p), "/sys/class/tt_alloc/device0/trace/dmem_region");
	ASSERT_LT(0, tt_read_str(p, buf, sizeof(buf)));
	EXPECT_STREQ("\n", buf);
	EXPECT_EQ(-1, dmem_val(self->mnt, "dmem.capacity", "tt_alloc/0/trace"));
}

/*
 * dmem.max of a: EDQUOT exactly at the limit, nothing recorded; current
 * equals what is held; a re-ALLOC charges nothing; a sibling is free;
 * raising the limit lets the next ALLOC pass.
 */
TEST_F(dm, limit_exact_sibling_raise)
{
	static const struct dm_op ops[] = {
		{ 0, 1, 512 * K }, { 0, 2, 512 * K }, { 0, 3, 1 }, { 0, 1, 512 * K },
		{ 0, 9, 2 * M },
	};
	__u64 base;

	ASSERT_EQ(0, dmem_set_max(self->a, "1048576"));
	base = dev0_dram(_metadata, self->fd);
	self->kid = dm_start(_metadata, self, self->a, ops);
	EXPECT_EQ(0, dm_do(_metadata, self, 0));
	EXPECT_EQ(0, dm_do(_metadata, self, 1));
	EXPECT_EQ((long long)M, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ(-EDQUOT, dm_do(_metadata, self, 2));
	EXPECT_EQ(base + M, dev0_dram(_metadata, self->fd)) TH_LOG("the refused ALLOC recorded nothing");
	EXPECT_EQ(0, dm_do(_metadata, self, 3)) TH_LOG("a re-ALLOC only counts up");
	EXPECT_EQ((long long)M, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ(-EDQUOT, dm_do(_metadata, self, 4));
	ASSERT_EQ(0, dmem_set_max(self->a, "max"));
	EXPECT_EQ(0, dm_do(_metadata, self, 2)) TH_LOG("after raising the limit");
	EXPECT_EQ((long long)M + 1, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ(0, dmem_val(self->b, "dmem.current", REGION)) TH_LOG("the sibling");
	EXPECT_EQ((long long)M + 1, dmem_val(self->top, "dmem.current", REGION)) TH_LOG("the parent");
	/* Another region is its own. */
	EXPECT_EQ(0, dmem_val(self->a, "dmem.current", "tt_alloc/1/dram"));
}

/* A parent's limit binds its children; BATCH stops at the op it refuses. */
TEST_F(dm, parent_limit_and_batch)
{
	static const struct dm_op ops[] = { { 3, 100, 512 * K }, { 0, 200, 1 } };
	int r;

	ASSERT_EQ(0, dmem_set_max(self->top, "1048576"));
	self->kid = dm_start(_metadata, self, self->a, ops);
	r = dm_do(_metadata, self, 0);
	EXPECT_EQ(-EDQUOT * 1000 - 2, r) TH_LOG("BATCH: EDQUOT after 2 done (%d)", r);
	EXPECT_EQ((long long)M, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ(-EDQUOT, dm_do(_metadata, self, 1));
	EXPECT_EQ((long long)M, dmem_val(self->top, "dmem.current", REGION));
}

/* SIGKILL: the cgroup's charge is gone before waitpid() returns. */
TEST_F(dm, sigkill_uncharges_before_waitpid)
{
	static const struct dm_op ops[] = { { 0, 1, 3 * M }, { 3, 10, 64 * K } };

	self->kid = dm_start(_metadata, self, self->a, ops);
	EXPECT_EQ(0, dm_do(_metadata, self, 0));
	EXPECT_EQ(3, dm_do(_metadata, self, 1));
	EXPECT_EQ((long long)(3 * M + 192 * K), dmem_val(self->a, "dmem.current", REGION));
	kill(self->kid, SIGKILL);
	ASSERT_EQ(self->kid, waitpid(self->kid, NULL, 0));
	self->kid = 0;
	EXPECT_EQ(0, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ(0, dmem_val(self->top, "dmem.current", REGION));
}

/*
 * Charges stay where they were made: an entry recorded in a and freed by
 * a process in b uncharges a; a recorder that moves to b charges b from
 * then on and keeps a's.
 */
TEST_F(dm, charges_stay_where_made)
{
	static const struct dm_op ops[] = {
		{ 0, 1, 512 * K }, { 2, 0, 0 }, { 0, 2, 256 * K },
	};
	pid_t other;
	int st;

	self->kid = dm_start(_metadata, self, self->a, ops);
	EXPECT_EQ(0, dm_do(_metadata, self, 0));
	EXPECT_EQ(0, dm_do(_metadata, self, 1));	/* now in b */
	EXPECT_EQ(0, dm_do(_metadata, self, 2));
	EXPECT_EQ((long long)(512 * K), dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ((long long)(256 * K), dmem_val(self->b, "dmem.current", REGION));

	/* The test process itself (in its own cgroup) frees a's entry. */
	EXPECT_EQ(0, tt_free(self->fd, 0, TT_ALLOC_MEM_DRAM, 1));
	EXPECT_EQ(0, dmem_val(self->a, "dmem.current", REGION));
	EXPECT_EQ((long long)(256 * K), dmem_val(self->b, "dmem.current", REGION));

	/* And a process in b frees b's, after the recorder exited. */
	tt_kill_reap(&self->kid);
	other = fork();
	ASSERT_LE(0, other);
	if (other == 0)
		_exit(cg_enter(self->b) || tt_alloc(self->fd, 0, TT_ALLOC_MEM_DRAM, 3, 4096, 0) ||
		      tt_free(self->fd, 0, TT_ALLOC_MEM_DRAM, 3) ? 1 : 0);
	ASSERT_EQ(other, waitpid(other, &st, 0));
	EXPECT_EQ(0, st);
	EXPECT_EQ(0, dmem_val(self->b, "dmem.current", REGION));
	EXPECT_EQ(0, dmem_val(self->top, "dmem.current", REGION));
}

/*
 * Crash storm across two cgroups: processes in a and b recording as fast
 * as they can are killed mid-stream; after every round both cgroups'
 * dmem.current is 0 as soon as the last waitpid() returned.
 */
TEST_F(dm, crash_storm_two_cgroups)
{
	enum { KIDS = 4, ROUNDS = 5 };
	pid_t kids[KIDS];
	int round, k;

	for (round = 0; round < ROUNDS; round++) {
		for (k = 0; k < KIDS; k++) {
			kids[k] = fork();
			ASSERT_LE(0, kids[k]);
			if (kids[k] == 0) {
				struct tt_alloc_op ops[16];
				__u64 id = 1;
				int fd, i, r = 0;

				prctl(PR_SET_PDEATHSIG, SIGKILL);
				if (cg_enter(k & 1 ? self->b : self->a))
					_exit(1);
				fd = tt_open();
				for (;;) {
					for (i = 0; i < 16; i++)
						ops[i] = tt_op(TT_ALLOC_OP_ALLOC, 0,
							       TT_ALLOC_MEM_DRAM, id++, 4096, 0);
					tt_batch(fd, ops, 16, NULL);
					if (!r++ && write(self->rep[1], "r", 1) != 1)
						_exit(1);
				}
			}
		}
		for (k = 0; k < KIDS; k++) {
			char c;

			ASSERT_EQ(1, read(self->rep[0], &c, 1));
		}
		usleep(1000 * (round + 1));
		for (k = 0; k < KIDS; k++)
			kill(kids[k], SIGKILL);
		for (k = 0; k < KIDS; k++)
			ASSERT_EQ(kids[k], waitpid(kids[k], NULL, 0));
		EXPECT_EQ(0, dmem_val(self->a, "dmem.current", REGION)) TH_LOG("round %d", round);
		EXPECT_EQ(0, dmem_val(self->b, "dmem.current", REGION)) TH_LOG("round %d", round);
	}
}

#define DELEGATE_UID	4321

/*
 * A subtree delegated to an unprivileged user (cgroup-v2.rst,
 * "Delegation"): the user cannot raise the limit set on the delegated
 * cgroup itself, may set its own below it, and that limit still binds.
 */
TEST_F(dm, delegated_user_cannot_raise_own_limit)
{
	static const char *const owned[] = { "", "/cgroup.procs", "/cgroup.subtree_control",
					     "/cgroup.threads" };
	char p[256], sub[160];
	pid_t kid;
	size_t i;
	int st;

	ASSERT_EQ(0, dmem_set_max(self->a, "1048576"));
	for (i = 0; i < sizeof(owned) / sizeof(owned[0]); i++) {
		snprintf(p, sizeof(p), "%s%s", self->a, owned[i]);
		ASSERT_EQ(0, chown(p, DELEGATE_UID, DELEGATE_UID)) TH_LOG("chown %s", p);
	}
	/* The test process's own cgroup stays root's: move the child first. */
	snprintf(sub, sizeof(sub), "%s/sub", self->a);
	kid = fork();
	ASSERT_LE(0, kid);
	if (kid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (cg_enter(self->a) || setgroups(0, NULL) || setgid(DELEGATE_UID) ||
		    setuid(DELEGATE_UID))
			_exit(10);
		fd = tt_open();
		if (fd < 0)
			_exit(11);
		/* Its own limit is the parent's to set. */
		if (dmem_set_max(self->a, "max") != -EACCES)
			_exit(12);
		/*
		 * A child cgroup of its own, with a higher limit of its own
		 * (into it first: a cgroup with processes cannot enable a
		 * controller for its children).
		 */
		snprintf(p, sizeof(p), "%s/cgroup.subtree_control", self->a);
		if (mkdir(sub, 0755) || cg_enter(sub) || tt_write_str(p, "+dmem"))
			_exit(13);
		if (dmem_set_max(sub, "2097152"))
			_exit(14);
		/* a's 1 MiB still binds below it. */
		if (tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 1536 * K, 0) != -EDQUOT)
			_exit(15);
		if (tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 512 * K, 0))
			_exit(16);
		_exit(dmem_val(sub, "dmem.current", REGION) == 512 * K ? 0 : 17);
	}
	ASSERT_EQ(kid, waitpid(kid, &st, 0));
	EXPECT_TRUE(WIFEXITED(st));
	EXPECT_EQ(0, WEXITSTATUS(st)) TH_LOG("step %d failed (see the exits above)", WEXITSTATUS(st));
	EXPECT_EQ(1048576, dmem_val(self->a, "dmem.max", REGION));
	EXPECT_EQ(0, dmem_val(self->a, "dmem.current", REGION));
	rmdir(sub);
}

/* Without the controller: no feature bit, no region named in sysfs. */
TEST(no_dmem_on_this_kernel)
{
	char mnt[] = "/tmp/tt-nodmem.XXXXXX", buf[64];
	struct tt_alloc_info info;
	bool dmem;
	int fd;

	ASSERT_EQ(0, tt_reload("devices=2 arch=wormhole_b0,wormhole_b0"));
	ASSERT_NE(NULL, mkdtemp(mnt));
	ASSERT_EQ(0, mount("none", mnt, "cgroup2", 0, NULL));
	dmem = have_dmem(mnt);
	umount2(mnt, MNT_DETACH);
	rmdir(mnt);
	if (dmem) {
		EXPECT_EQ(0, tt_reload(""));
		SKIP(return, "this kernel has the dmem controller (dm.* test it)");
	}
	fd = tt_open();
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, tt_info(fd, &info));
	EXPECT_EQ(0, info.features & TT_ALLOC_FEATURE_DMEM);
	ASSERT_LT(0, tt_read_str("/sys/class/tt_alloc/device0/dram/dmem_region", buf, sizeof(buf)));
	EXPECT_STREQ("\n", buf);
	/* And recording is what it always was. */
	EXPECT_EQ(0, tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 1, 1 << 20, 0));
	close(fd);
	EXPECT_EQ(0, tt_reload(""));
}

TEST_HARNESS_MAIN
