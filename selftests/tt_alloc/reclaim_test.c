// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc reclaim: everything a file recorded is gone the moment the
 * file is released (clean close, exit, SIGKILL), and the periodic sweep
 * frees the entries of a dead recorder while the file lives on in another
 * process.
 *
 * The test process observes through a file of its own that holds nothing
 * (USAGE device scope) and through sysfs.
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <pthread.h>
#include <sys/syscall.h>

/* ------------------------------------------------------------------ */
/* A deterministic workload: entry i of n                              */
/* ------------------------------------------------------------------ */

static const __u32 wl_devs[] = { 0, 2, 5, 7 };
#define WL_NDEVS	TT_ARRAY_SIZE(wl_devs)

static struct tt_alloc_buffer wl_entry(__u64 id_base, __u32 i)
{
	__u32 dev = wl_devs[i % WL_NDEVS];
	__u32 type = (i / WL_NDEVS) % TT_NTYPES;
	__u32 kind = type == TT_ALLOC_MEM_KERNEL ? (i / 28) % 3 : 0;

	return tt_buf(dev, type, id_base + i, 64 + (i * 37) % 4096, kind);
}

/* Expected state after the workload: adds it to exp[]. */
static void wl_expect(struct tt_dev_state *exp, __u64 id_base, __u32 n,
		      bool own_file, bool reclaimed)
{
	bool touched[TT_MAX_DEVS] = { false };
	__u32 i;

	for (i = 0; i < n; i++) {
		struct tt_alloc_buffer b = wl_entry(id_base, i);
		struct tt_dev_state *st = &exp[b.device];

		if (reclaimed) {
			st->reclaimed_bytes += b.size;
			st->reclaimed_allocs++;
			continue;
		}
		tt_state_add(st, b.type, b.size, 1, own_file);
		if (b.type == TT_ALLOC_MEM_KERNEL && b.kind != TT_ALLOC_KERNEL_APP)
			st->system_bytes += b.size;
		if (!own_file && !touched[b.device])
			st->clients++;
		touched[b.device] = true;
	}
}

/*
 * Records the workload through fd: the first half with BATCH (chunks of
 * 500), the rest with single ALLOCs; every 10th entry is ALLOCed twice
 * (a second reference). Returns 0 or a negative errno. No ASSERTs: runs
 * in forked children too.
 */
static int wl_record(int fd, __u64 id_base, __u32 n)
{
	struct tt_alloc_op ops[500];
	__u32 i, k = 0, done;
	int r;

	for (i = 0; i < n / 2; i++) {
		ops[k++] = (struct tt_alloc_op){ .op = TT_ALLOC_OP_ALLOC,
						 .buf = wl_entry(id_base, i) };
		if (i % 10 == 0) {
			ops[k] = ops[k - 1];
			k++;
		}
		if (k >= TT_ARRAY_SIZE(ops) - 1 || i == n / 2 - 1) {
			r = tt_batch(fd, ops, k, &done);
			if (r)
				return r;
			if (done != k)
				return -EPROTO;
			k = 0;
		}
	}
	for (; i < n; i++) {
		struct tt_alloc_buffer b = wl_entry(id_base, i);

		r = tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, &b);
		if (!r && i % 10 == 0)
			r = tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, &b);
		if (r)
			return r;
	}
	return 0;
}

/* FREEs every entry of the workload, references included. */
static int wl_free_all(int fd, __u64 id_base, __u32 n)
{
	__u32 i;
	int r;

	for (i = 0; i < n; i++) {
		struct tt_alloc_buffer b = wl_entry(id_base, i);

		r = tt_ioctl(fd, TT_ALLOC_IOC_FREE, &b);
		if (!r && i % 10 == 0)
			r = tt_ioctl(fd, TT_ALLOC_IOC_FREE, &b);
		if (r)
			return r;
	}
	return 0;
}

/* ------------------------------------------------------------------ */

struct report {
	char who;
	int status;
	pid_t pid;
};

static void report(int fd, char who, int status)
{
	struct report r = { .who = who, .status = status, .pid = getpid() };

	if (tt_write_full(fd, &r, sizeof(r)))
		_exit(99);
}

#define MAX_KIDS 4

FIXTURE(reclaim) {
	int fd;			/* observer: holds nothing */
	bool reloaded;		/* module reloaded with other parameters */
	__u32 ndev;
	pid_t kids[MAX_KIDS];
	int rep[2];		/* children -> test */
	int cmd[2];		/* test -> child B */
	struct tt_dev_state base[TT_MAX_DEVS];
	struct tt_dev_state exp[TT_MAX_DEVS];
};

FIXTURE_SETUP(reclaim)
{
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	self->ndev = tt_snapshot_all(_metadata, self->fd, self->base);
	ASSERT_EQ(TT_DEF_DEVICES, self->ndev);
	memcpy(self->exp, self->base, sizeof(self->exp));
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->cmd, O_CLOEXEC));
	/* Orphaned grandchildren come back to us. */
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN(reclaim)
{
	char v[32];
	int i;

	for (i = 0; i < MAX_KIDS; i++)
		tt_kill_reap(&self->kids[i]);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	snprintf(v, sizeof(v), "%d", TT_DEF_SWEEP_MS);
	tt_param_write("sweep_interval_ms", v);
	close(self->fd);
	if (self->reloaded)
		EXPECT_EQ(0, tt_reload("")) TH_LOG("restoring the default module");
}

/*
 * Reloads the module with the given parameters, reopens the observer and
 * takes a new baseline.
 */
static void reload_module(struct __test_metadata *_metadata,
			  FIXTURE_DATA(reclaim) *self, const char *params)
{
	close(self->fd);
	self->reloaded = true;
	ASSERT_EQ(0, tt_reload(params)) TH_LOG("modprobe tt_alloc %s", params);
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	self->ndev = tt_snapshot_all(_metadata, self->fd, self->base);
	memcpy(self->exp, self->base, sizeof(self->exp));
}

#define STATE_IS(e)	tt_assert_state_all(_metadata, self->fd, (e))

static struct report get_report(struct __test_metadata *_metadata,
				FIXTURE_DATA(reclaim) *self)
{
	struct report r = { 0 };

	ASSERT_EQ(0, tt_read_full(self->rep[0], &r, sizeof(r)))
		TH_LOG("a child died before reporting");
	return r;
}

#define N_KILL	5000

TEST_F_TIMEOUT(reclaim, sigkill_reclaims_everything, 300)
{
	struct report r;
	pid_t pid;
	__u64 t0;

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		fd = tt_open();
		report(self->rep[1], 'C', fd < 0 ? fd : wl_record(fd, 0x10000, N_KILL));
		for (;;)
			pause();
	}
	self->kids[0] = pid;
	r = get_report(_metadata, self);
	ASSERT_EQ(0, r.status) TH_LOG("child recording: %s", strerror(-r.status));

	wl_expect(self->exp, 0x10000, N_KILL, false, false);
	STATE_IS(self->exp);

	t0 = tt_now_ms();
	ASSERT_EQ(0, kill(pid, SIGKILL));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	self->kids[0] = 0;
	/* Immediately: back to the baseline, everything counted as reclaimed. */
	memcpy(self->exp, self->base, sizeof(self->exp));
	wl_expect(self->exp, 0x10000, N_KILL, false, true);
	STATE_IS(self->exp);
	TH_LOG("kill to checked: %llu ms", (unsigned long long)(tt_now_ms() - t0));
}

TEST_F_TIMEOUT(reclaim, exit_without_close_reclaims, 120)
{
	pid_t pid = fork();
	int st;

	ASSERT_LE(0, pid);
	if (pid == 0) {
		int fd = tt_open();

		_exit(fd < 0 ? 10 : wl_record(fd, 0x20000, 1000) ? 11 : 0);
	}
	self->kids[0] = pid;
	ASSERT_EQ(pid, waitpid(pid, &st, 0));
	self->kids[0] = 0;
	ASSERT_TRUE(WIFEXITED(st));
	ASSERT_EQ(0, WEXITSTATUS(st));
	wl_expect(self->exp, 0x20000, 1000, false, true);
	STATE_IS(self->exp);
}

TEST_F_TIMEOUT(reclaim, close_reclaims_everything, 120)
{
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wl_record(fd, 0x30000, 1000));
	wl_expect(self->exp, 0x30000, 1000, false, false);
	STATE_IS(self->exp);
	ASSERT_EQ(0, close(fd));
	memcpy(self->exp, self->base, sizeof(self->exp));
	wl_expect(self->exp, 0x30000, 1000, false, true);
	STATE_IS(self->exp);
}

TEST_F_TIMEOUT(reclaim, freed_entries_are_not_reclaimed, 120)
{
	int fd = tt_open();

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wl_record(fd, 0x40000, 700));
	ASSERT_EQ(0, wl_free_all(fd, 0x40000, 700));
	STATE_IS(self->base);
	ASSERT_EQ(0, close(fd));
	STATE_IS(self->base);
}

/* Only the last close of the open file releases it. */
TEST_F_TIMEOUT(reclaim, last_close_reclaims, 120)
{
	int fd = tt_open(), fd2;
	char c = 0;
	pid_t pid;

	ASSERT_LE(0, fd);
	ASSERT_EQ(0, wl_record(fd, 0x50000, 200));
	wl_expect(self->exp, 0x50000, 200, false, false);

	fd2 = dup(fd);
	ASSERT_LE(0, fd2);
	ASSERT_EQ(0, close(fd));
	STATE_IS(self->exp);

	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0) {
		/* Holds fd2 until told to go. */
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		report(self->rep[1], 'C', 0);
		if (read(self->cmd[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	self->kids[0] = pid;
	ASSERT_EQ(0, get_report(_metadata, self).status);
	ASSERT_EQ(0, close(fd2));
	/* The child still holds the file, its recorder (us) lives. */
	STATE_IS(self->exp);

	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	self->kids[0] = 0;
	memcpy(self->exp, self->base, sizeof(self->exp));
	wl_expect(self->exp, 0x50000, 200, false, true);
	STATE_IS(self->exp);
}

/* Entries recorded by several threads of one process all go with the file. */
struct thr_arg {
	int fd;
	__u64 base;
	int ret;
};

static void *thr_record(void *p)
{
	struct thr_arg *a = p;

	a->ret = wl_record(a->fd, a->base, 250);
	return NULL;
}

TEST_F_TIMEOUT(reclaim, threads_share_the_file, 120)
{
	struct thr_arg a[4];
	pthread_t th[4];
	int fd = tt_open(), i;

	ASSERT_LE(0, fd);
	for (i = 0; i < 4; i++) {
		a[i] = (struct thr_arg){ .fd = fd, .base = 0x100000ULL * (i + 1) };
		ASSERT_EQ(0, pthread_create(&th[i], NULL, thr_record, &a[i]));
	}
	for (i = 0; i < 4; i++) {
		ASSERT_EQ(0, pthread_join(th[i], NULL));
		ASSERT_EQ(0, a[i].ret) TH_LOG("thread %d: %s", i, strerror(-a[i].ret));
	}
	for (i = 0; i < 4; i++)
		wl_expect(self->exp, 0x100000ULL * (i + 1), 250, false, false);
	/* Four recordings on the same devices through one file: one client each. */
	for (i = 0; i < (int)WL_NDEVS; i++)
		self->exp[wl_devs[i]].clients = self->base[wl_devs[i]].clients + 1;
	STATE_IS(self->exp);
	ASSERT_EQ(0, close(fd));
	memcpy(self->exp, self->base, sizeof(self->exp));
	for (i = 0; i < 4; i++)
		wl_expect(self->exp, 0x100000ULL * (i + 1), 250, false, true);
	STATE_IS(self->exp);
}

/* ------------------------------------------------------------------ */
/* Sweep                                                               */
/* ------------------------------------------------------------------ */

#define SWEEP_MS	200
/*
 * How long a sweep may take to show: far below the 60 s interval that
 * must not apply, and slack enough for a TCG guest on a loaded host.
 */
#define SWEEP_DEADLINE_MS	4000
#define A_BASE		0xA0000ULL
#define B_BASE		0xB0000ULL
#define N_A		300
#define N_B		200

/* Commands to B. */
#define CMD_FREE_A	'a'	/* FREE A's ids 0 and 1: report the errnos */
#define CMD_FREE_B	'b'	/* FREE all of B's entries */
#define CMD_EXIT	'x'

/*
 * Child B: holds the file A opened, records its own workload, takes a
 * reference of its own on A's entry 0, then serves commands.
 */
static void child_b(FIXTURE_DATA(reclaim) *self, int fd)
{
	struct tt_alloc_buffer a0 = wl_entry(A_BASE, 0);
	char c;
	int r;

	prctl(PR_SET_NAME, "tt_sweep_b");
	r = wl_record(fd, B_BASE, N_B);
	if (!r)
		r = tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, &a0);
	report(self->rep[1], 'B', r);
	for (;;) {
		if (read(self->cmd[0], &c, 1) != 1)
			_exit(1);
		switch (c) {
		case CMD_FREE_A:
			report(self->rep[1], '0', tt_ioctl(fd, TT_ALLOC_IOC_FREE, &a0));
			a0 = wl_entry(A_BASE, 1);
			report(self->rep[1], '1', tt_ioctl(fd, TT_ALLOC_IOC_FREE, &a0));
			break;
		case CMD_FREE_B:
			report(self->rep[1], 'F', wl_free_all(fd, B_BASE, N_B));
			break;
		default:
			_exit(0);
		}
	}
}

/*
 * Child A: opens, records, forks B which inherits the file. With
 * A_CLOSES A then closes its fd, so that its death leaves its entries to
 * the sweep (a recorder that dies holding the file has them reclaimed at
 * once, see lifetime_test). With A_LEADER_EXITS, A's main thread then
 * exits while a second thread lives on.
 */
#define A_CLOSES	1
#define A_LEADER_EXITS	2

static void *sleeper(void *p)
{
	(void)p;
	for (;;)
		pause();
	return NULL;
}

static void child_a(FIXTURE_DATA(reclaim) *self, int flags)
{
	pthread_t th;
	pid_t b;
	int fd;

	/*
	 * A dies with the test; B (inheriting this) reads EOF on the command
	 * pipe once the test process, its only writer, is gone.
	 */
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	close(self->cmd[1]);
	close(self->rep[0]);
	prctl(PR_SET_NAME, "tt_sweep_a");
	fd = tt_open();
	if (fd < 0) {
		report(self->rep[1], 'A', fd);
		_exit(1);
	}
	report(self->rep[1], 'A', wl_record(fd, A_BASE, N_A));
	b = fork();
	if (b == 0)
		child_b(self, fd);
	if (b < 0)
		report(self->rep[1], 'A', -errno);
	if (flags & A_CLOSES)
		close(fd);
	if (flags & A_LEADER_EXITS) {
		pthread_create(&th, NULL, sleeper, NULL);
		syscall(SYS_exit, 0);	/* this thread only */
	}
	for (;;)
		pause();
}

/* Starts A and B; returns after both reported. kids[0] = A, kids[1] = B. */
static void start_a_b(struct __test_metadata *_metadata,
		      FIXTURE_DATA(reclaim) *self, int flags)
{
	struct report r;
	int i;

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0)
		child_a(self, flags);
	for (i = 0; i < 2; i++) {
		r = get_report(_metadata, self);
		ASSERT_EQ(0, r.status) TH_LOG("child %c: %s", r.who, strerror(-r.status));
		if (r.who == 'B')
			self->kids[1] = r.pid;
		else
			ASSERT_EQ('A', r.who);
	}
	ASSERT_NE(0, self->kids[1]);
}

/* B's command: send c, return B's report (one of who). */
static int b_cmd(struct __test_metadata *_metadata, FIXTURE_DATA(reclaim) *self,
		 char c, char who)
{
	struct report r;

	ASSERT_EQ(1, write(self->cmd[1], &c, 1));
	r = get_report(_metadata, self);
	EXPECT_EQ(who, r.who);
	return r.status;
}

/*
 * Expected once A died and its references were reclaimed: B's workload,
 * and of A's entries only entry 0, which B references too (its bytes are
 * now B's); A's others counted as reclaimed.
 */
static void expect_a_reclaimed(struct tt_dev_state *exp)
{
	__u32 i;

	for (i = 1; i < N_A; i++) {
		struct tt_alloc_buffer b = wl_entry(A_BASE, i);

		exp[b.device].reclaimed_bytes += b.size;
		exp[b.device].reclaimed_allocs++;
	}
}

static void expect_a_dead(struct tt_dev_state *exp)
{
	struct tt_alloc_buffer a0 = wl_entry(A_BASE, 0);

	wl_expect(exp, B_BASE, N_B, false, false);
	expect_a_reclaimed(exp);
	/* B's workload covers a0's device: no other client count. */
	tt_state_add(&exp[a0.device], a0.type, a0.size, 1, false);
}

/* Polls device counters until they equal exp (devices and clients); returns ms waited or -1. */
static long wait_counters(struct __test_metadata *_metadata,
			  FIXTURE_DATA(reclaim) *self,
			  const struct tt_dev_state *exp, __u64 limit_ms)
{
	__u64 t0 = tt_now_ms();
	__u32 d;
	int t;

	/*
	 * USAGE only: sysfs read in the same pass could straddle the sweep
	 * and disagree with it. The caller checks everything once settled.
	 */
	for (;;) {
		bool same = true;

		for (d = 0; d < self->ndev; d++) {
			struct tt_alloc_usage u;

			ASSERT_EQ(0, tt_usage(self->fd, d, TT_ALLOC_SCOPE_DEVICE, &u));
			for (t = 0; t < TT_NTYPES; t++)
				if (u.used[t] != exp[d].used[t] ||
				    u.allocations[t] != exp[d].allocs[t])
					same = false;
		}
		if (same)
			return tt_now_ms() - t0;
		if (tt_now_ms() - t0 > limit_ms)
			return -1;
		usleep(10000);
	}
}

TEST_F_TIMEOUT(reclaim, sweep_frees_dead_recorder, 120)
{
	__u64 t0, limit = SWEEP_DEADLINE_MS;
	struct tt_dev_state with_b[TT_MAX_DEVS];
	long waited;
	char v[32];

	snprintf(v, sizeof(v), "sweep_interval_ms=%d", SWEEP_MS);
	reload_module(_metadata, self, v);
	start_a_b(_metadata, self, A_CLOSES);

	/* One file holds A's and B's entries (B's reference to A0 adds no bytes). */
	wl_expect(self->exp, A_BASE, N_A, false, false);
	wl_expect(self->exp, B_BASE, N_B, false, false);
	for (int i = 0; i < (int)WL_NDEVS; i++)
		self->exp[wl_devs[i]].clients = self->base[wl_devs[i]].clients + 1;
	STATE_IS(self->exp);

	/* Several intervals with both alive: the sweep leaves live recorders alone. */
	usleep(3 * SWEEP_MS * 1000);
	STATE_IS(self->exp);

	t0 = tt_now_ms();
	ASSERT_EQ(0, kill(self->kids[0], SIGKILL));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;

	memcpy(with_b, self->base, sizeof(with_b));
	expect_a_dead(with_b);
	waited = wait_counters(_metadata, self, with_b, limit);
	ASSERT_LE(0, waited) TH_LOG("A's entries still counted %llu ms after its death "
				    "(sweep_interval_ms=%d)", (unsigned long long)limit, SWEEP_MS);
	TH_LOG("swept %llu ms after the kill", (unsigned long long)(tt_now_ms() - t0));
	/* B's entries, B's file (one client), A's counted as reclaimed. */
	STATE_IS(with_b);

	/* A's entries are gone from the file, but for the one B referenced. */
	EXPECT_EQ(0, b_cmd(_metadata, self, CMD_FREE_A, '0'));
	{
		struct report r = get_report(_metadata, self);
		struct tt_alloc_buffer a0 = wl_entry(A_BASE, 0);

		EXPECT_EQ('1', r.who);
		EXPECT_EQ(-ENOENT, r.status);
		tt_state_add(&with_b[a0.device], a0.type, -(__s64)a0.size, -1, false);
	}
	STATE_IS(with_b);

	/* B frees its own entries. */
	ASSERT_EQ(0, b_cmd(_metadata, self, CMD_FREE_B, 'F'));
	memcpy(self->exp, self->base, sizeof(self->exp));
	expect_a_reclaimed(self->exp);
	STATE_IS(self->exp);

	/* B exits holding nothing: nothing more reclaimed. */
	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[1], waitpid(self->kids[1], NULL, 0));
	self->kids[1] = 0;
	STATE_IS(self->exp);
}

TEST_F_TIMEOUT(reclaim, sweep_then_exit_reclaims_rest, 120)
{
	struct tt_dev_state with_b[TT_MAX_DEVS];
	char v[32];

	snprintf(v, sizeof(v), "sweep_interval_ms=%d", SWEEP_MS);
	reload_module(_metadata, self, v);
	start_a_b(_metadata, self, A_CLOSES);
	ASSERT_EQ(0, kill(self->kids[0], SIGKILL));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	memcpy(with_b, self->base, sizeof(with_b));
	expect_a_dead(with_b);
	ASSERT_LE(0, wait_counters(_metadata, self, with_b, SWEEP_DEADLINE_MS));
	STATE_IS(with_b);
	/* B killed: its entries, and A's entry 0, go with the file. */
	ASSERT_EQ(0, kill(self->kids[1], SIGKILL));
	ASSERT_EQ(self->kids[1], waitpid(self->kids[1], NULL, 0));
	self->kids[1] = 0;
	memcpy(self->exp, self->base, sizeof(self->exp));
	wl_expect(self->exp, A_BASE, N_A, false, true);
	wl_expect(self->exp, B_BASE, N_B, false, true);
	STATE_IS(self->exp);
}

/* A recorder whose leader thread exited but another thread lives is not dead. */
TEST_F_TIMEOUT(reclaim, sweep_spares_live_thread_group, 120)
{
	struct tt_dev_state with_b[TT_MAX_DEVS];
	char v[32];

	snprintf(v, sizeof(v), "sweep_interval_ms=%d", SWEEP_MS);
	reload_module(_metadata, self, v);
	start_a_b(_metadata, self, A_CLOSES | A_LEADER_EXITS);
	wl_expect(self->exp, A_BASE, N_A, false, false);
	wl_expect(self->exp, B_BASE, N_B, false, false);
	for (int i = 0; i < (int)WL_NDEVS; i++)
		self->exp[wl_devs[i]].clients = self->base[wl_devs[i]].clients + 1;
	/* Give A's leader time to exit, then several sweeps. */
	usleep(100 * 1000 + 4 * SWEEP_MS * 1000);
	STATE_IS(self->exp);

	ASSERT_EQ(0, kill(self->kids[0], SIGKILL));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	memcpy(with_b, self->base, sizeof(with_b));
	expect_a_dead(with_b);
	ASSERT_LE(0, wait_counters(_metadata, self, with_b, SWEEP_DEADLINE_MS));
	STATE_IS(with_b);
}

/* sweep_interval_ms changes take effect without waiting out the old interval. */
TEST_F_TIMEOUT(reclaim, sweep_interval_shortened_applies, 120)
{
	struct tt_dev_state with_b[TT_MAX_DEVS];
	char v[32];

	/* Loaded with a long interval: the sweep is armed for 60 s... */
	reload_module(_metadata, self, "sweep_interval_ms=60000");
	start_a_b(_metadata, self, A_CLOSES);
	ASSERT_EQ(0, kill(self->kids[0], SIGKILL));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	/* ...then shortened: A's entries must go within the new interval. */
	snprintf(v, sizeof(v), "%d", SWEEP_MS);
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", v));
	memcpy(with_b, self->base, sizeof(with_b));
	expect_a_dead(with_b);
	ASSERT_LE(0, wait_counters(_metadata, self, with_b, SWEEP_DEADLINE_MS))
		TH_LOG("writing sweep_interval_ms=%d did not re-arm a 60 s sweep", SWEEP_MS);
	STATE_IS(with_b);
}

TEST_HARNESS_MAIN
