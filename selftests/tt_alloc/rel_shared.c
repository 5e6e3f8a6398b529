// SPDX-License-Identifier: GPL-2.0
/*
 * Shared files: a file inherited across fork(), dup()ed, or passed with
 * SCM_RIGHTS (also while it is in flight in a socket whose sender died).
 * The sweep (sweep_interval_ms=100 here) takes back exactly the dead
 * recorder's entries within one interval plus one; live holders' entries
 * stay and can still be freed; a file in flight whose socket is closed is
 * released.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define SWEEP_MS	100
/*
 * A dead recorder's entries are gone within 2 intervals, plus slack for
 * a TCG guest on a loaded host; still below the 5 s default interval.
 */
#define SWEEP_DEADLINE_MS	(2 * SWEEP_MS + 3000)

static const __u32 sh_devs[] = { 1, 3, 6 };

static struct tt_alloc_buffer sh_entry(__u64 base, __u32 i)
{
	__u32 type = i % TT_NTYPES;

	return tt_buf(sh_devs[i % TT_ARRAY_SIZE(sh_devs)], type, base + i,
		      4096ULL * (i + 1),
		      type == TT_ALLOC_MEM_KERNEL ? (i / TT_NTYPES) % 3 : 0);
}

static __u64 sh_bytes(__u32 n)
{
	__u64 s = 0;
	__u32 i;

	for (i = 0; i < n; i++)
		s += 4096ULL * (i + 1);
	return s;
}

/* n entries: half with BATCH, half single; 0 or -errno. No ASSERTs. */
static int sh_record(int fd, __u64 base, __u32 n)
{
	struct tt_alloc_op ops[64];
	__u32 i, k = n / 2, done;
	int r;

	if (k > TT_ARRAY_SIZE(ops))
		k = TT_ARRAY_SIZE(ops);
	for (i = 0; i < k; i++)
		ops[i] = (struct tt_alloc_op){ .op = TT_ALLOC_OP_ALLOC,
					       .buf = sh_entry(base, i) };
	r = tt_batch(fd, ops, k, &done);
	if (r || done != k)
		return r ? r : -EPROTO;
	for (; i < n; i++) {
		struct tt_alloc_buffer b = sh_entry(base, i);

		r = tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, &b);
		if (r)
			return r;
	}
	return 0;
}

static int sh_free(int fd, __u64 base, __u32 n)
{
	__u32 i;
	int r;

	for (i = 0; i < n; i++) {
		struct tt_alloc_buffer b = sh_entry(base, i);

		r = tt_ioctl(fd, TT_ALLOC_IOC_FREE, &b);
		if (r)
			return r;
	}
	return 0;
}

/* Sum of reclaimed_allocations / reclaimed_bytes over every device. */
static void sh_reclaimed(__u32 ndev, __u64 *entries, __u64 *bytes)
{
	__u64 v;
	__u32 d;

	*entries = *bytes = 0;
	for (d = 0; d < ndev; d++) {
		if (!read_sysfs_u64(d, -1, "reclaimed_allocations", &v))
			*entries += v;
		if (!read_sysfs_u64(d, -1, "reclaimed_bytes", &v))
			*bytes += v;
	}
}

/* Polls until the device counters equal exp; returns ms waited or -1. */
static long sh_wait_eq(int fd, __u32 ndev, const struct tt_dev_state *exp,
		       __u64 since, unsigned int deadline_ms)
{
	for (;;) {
		__u64 now = tt_now_ms();

		if (rel_devs_eq(fd, ndev, exp))
			return now - since;
		if (now - since > deadline_ms)
			return -1;
		rel_msleep(5);
	}
}

/* Is client id in the CLIENTS list? Returns its flags, or -1 if absent. */
static long sh_client_flags(int fd, __u64 id)
{
	static struct tt_alloc_client rows[256];
	__u32 n = TT_ARRAY_SIZE(rows), i;

	if (tt_clients(fd, rows, &n))
		return -2;
	for (i = 0; i < n && i < TT_ARRAY_SIZE(rows); i++)
		if (rows[i].client_id == id)
			return rows[i].flags;
	return -1;
}

/* Child side: reply a status word (and a client id) on a pipe. */
struct sh_msg {
	int status;
	__u64 client_id;
};

static void sh_reply(int wfd, int status, __u64 id)
{
	struct sh_msg m = { status, id };

	if (tt_write_full(wfd, &m, sizeof(m)))
		_exit(9);
}

FIXTURE(sh) {
	int obs;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
	pid_t kids[2];
	int p2c[2], c2p[2];
};

FIXTURE_SETUP(sh)
{
	self->kids[0] = self->kids[1] = 0;
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", "100"));
	/* Let a sweep scheduled with the old 5 s period pass. */
	self->obs = tt_open();
	ASSERT_LE(0, self->obs);
	self->ndev = tt_snapshot_all(_metadata, self->obs, self->base);
	ASSERT_EQ(0, pipe(self->p2c));
	ASSERT_EQ(0, pipe(self->c2p));
}

FIXTURE_TEARDOWN(sh)
{
	tt_kill_reap(&self->kids[0]);
	tt_kill_reap(&self->kids[1]);
	close(self->obs);
	tt_param_write("sweep_interval_ms", "5000");
}

static struct sh_msg sh_get(struct __test_metadata *_metadata, int rfd)
{
	struct sh_msg m = { -EPIPE, 0 };

	EXPECT_EQ(0, tt_read_full(rfd, &m, sizeof(m)));
	return m;
}

/*
 * The sweep runs every 100 ms only once the old 5 s timer fired: wait for
 * it with a canary (a dead child's entry on a shared file).
 */
static void sh_wait_fast_sweep(struct __test_metadata *_metadata, FIXTURE_DATA(sh) *self)
{
	int fd = tt_open();
	pid_t pid;
	long w;

	ASSERT_LE(0, fd);
	pid = fork();
	ASSERT_LE(0, pid);
	if (pid == 0)
		_exit(tt_alloc(fd, 0, TT_ALLOC_MEM_DRAM, 0xca, 1, 0) ? 1 : 0);
	ASSERT_EQ(pid, waitpid(pid, NULL, 0));
	w = sh_wait_eq(self->obs, self->ndev, self->base, tt_now_ms(), 6000);
	ASSERT_LE(0, w) TH_LOG("canary entry never swept");
	close(fd);
}

TEST_F_TIMEOUT(sh, fork_dup_dead_recorder_swept_live_kept, 60)
{
	struct tt_dev_state s1[TT_MAX_DEVS];
	__u64 e0, b0, e1, b1, t_kill;
	struct sh_msg m;
	int f, g;
	long w;

	sh_wait_fast_sweep(_metadata, self);
	f = tt_open();
	ASSERT_LE(0, f);
	g = dup(f);
	ASSERT_LE(0, g);
	/* Parent's own entries, through the dup. */
	ASSERT_EQ(0, sh_record(g, 0x1000, 20));
	tt_snapshot_all(_metadata, self->obs, s1);
	sh_reclaimed(self->ndev, &e0, &b0);

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		int h = dup(f);
		char c;

		/* Inherited fd and a dup of it: one file, one recorder. */
		m.status = sh_record(f, 0x2000, 30);
		if (!m.status)
			m.status = sh_record(h, 0x3000, 10);
		sh_reply(self->c2p[1], m.status, 0);
		if (read(self->p2c[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	m = sh_get(_metadata, self->c2p[0]);
	ASSERT_EQ(0, m.status) TH_LOG("child recording: %s", strerror(-m.status));
	t_kill = tt_now_ms();
	tt_kill_reap(&self->kids[0]);
	/* File still open here: only the sweep may take the child's entries. */
	w = sh_wait_eq(self->obs, self->ndev, s1, t_kill, SWEEP_DEADLINE_MS);
	ASSERT_LE(0, w) TH_LOG("dead recorder's entries not swept within %d ms", SWEEP_DEADLINE_MS);
	ksft_print_msg("dead recorder swept %ld ms after SIGKILL (interval %d ms)\n", w, SWEEP_MS);
	sh_reclaimed(self->ndev, &e1, &b1);
	EXPECT_EQ(40, e1 - e0);
	EXPECT_EQ(sh_bytes(30) + sh_bytes(10), b1 - b0);
	/* Another sweep or two must not touch the live recorder's entries. */
	rel_msleep(3 * SWEEP_MS);
	rel_assert_devs_eq(_metadata, self->obs, s1);
	ASSERT_EQ(0, sh_free(f, 0x1000, 20));
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	close(f);
	close(g);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

TEST_F_TIMEOUT(sh, live_holder_frees_after_recorder_died, 60)
{
	struct tt_dev_state s1[TT_MAX_DEVS];
	__u64 t_kill;
	struct sh_msg m;
	int f, i;
	long w;

	sh_wait_fast_sweep(_metadata, self);
	f = tt_open();
	ASSERT_LE(0, f);
	/* Child 0 lives on and holds entries; child 1 records and dies. */
	for (i = 0; i < 2; i++) {
		self->kids[i] = fork();
		ASSERT_LE(0, self->kids[i]);
		if (self->kids[i] == 0) {
			char c;

			m.status = sh_record(f, i ? 0x5000 : 0x4000, i ? 25 : 15);
			sh_reply(self->c2p[1], m.status, 0);
			if (i)
				for (;;)
					pause();
			/* Child 0: wait for the order to free. */
			if (tt_read_full(self->p2c[0], &c, 1))
				_exit(1);
			sh_reply(self->c2p[1], sh_free(f, 0x4000, 15), 0);
			_exit(0);
		}
		m = sh_get(_metadata, self->c2p[0]);
		ASSERT_EQ(0, m.status);
		if (i == 0)
			tt_snapshot_all(_metadata, self->obs, s1);
	}
	close(f);	/* the children hold the file now */
	t_kill = tt_now_ms();
	tt_kill_reap(&self->kids[1]);
	w = sh_wait_eq(self->obs, self->ndev, s1, t_kill, SWEEP_DEADLINE_MS);
	ASSERT_LE(0, w) TH_LOG("dead recorder's entries not swept within %d ms", SWEEP_DEADLINE_MS);
	ksft_print_msg("swept %ld ms after SIGKILL\n", w);
	rel_msleep(3 * SWEEP_MS);
	rel_assert_devs_eq(_metadata, self->obs, s1);
	/* The live holder can still free what it recorded. */
	ASSERT_EQ(1, write(self->p2c[1], "f", 1));
	m = sh_get(_metadata, self->c2p[0]);
	EXPECT_EQ(0, m.status) TH_LOG("live holder's FREE: %s", strerror(-m.status));
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

/*
 * The sender opens a file, records, sends it over a socketpair and is
 * SIGKILLed before the receiver (us) reads it. recv: read it and use it;
 * otherwise close the socket without reading.
 */
static void sh_in_flight(struct __test_metadata *_metadata, FIXTURE_DATA(sh) *self,
			 bool recv)
{
	__u64 e0, b0, e1, b1, t_kill;
	struct sh_msg m;
	int sv[2], fd;
	long w, fl;

	sh_wait_fast_sweep(_metadata, self);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	sh_reclaimed(self->ndev, &e0, &b0);
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_info info = { 0 };
		int f = tt_open();

		if (f < 0)
			sh_reply(self->c2p[1], f, 0);
		m.status = tt_info(f, &info);
		if (!m.status)
			m.status = sh_record(f, 0x6000, 21);
		if (!m.status)
			m.status = rel_send_fd(sv[1], f);
		close(f);	/* the only reference is in the socket now */
		sh_reply(self->c2p[1], m.status, info.client_id);
		for (;;)
			pause();
	}
	m = sh_get(_metadata, self->c2p[0]);
	ASSERT_EQ(0, m.status) TH_LOG("sender: %s", strerror(-m.status));
	t_kill = tt_now_ms();
	tt_kill_reap(&self->kids[0]);
	/* In flight, opener dead: listed, flagged OPENER_EXITED. */
	fl = sh_client_flags(self->obs, m.client_id);
	EXPECT_EQ(TT_ALLOC_CLIENT_OPENER_EXITED, fl);

	if (!recv) {
		__u64 t_close;

		close(sv[0]);
		close(sv[1]);
		t_close = tt_now_ms();
		/* released by the close (the client is gone), not by the sweep */
		while (sh_client_flags(self->obs, m.client_id) != -1 &&
		       tt_now_ms() - t_close < 1000)
			rel_msleep(1);
		EXPECT_EQ(-1, sh_client_flags(self->obs, m.client_id))
			TH_LOG("file in flight in a closed socket not released");
		ksft_print_msg("in-flight file released %llu ms after the socket was closed\n",
			       (unsigned long long)(tt_now_ms() - t_close));
		w = sh_wait_eq(self->obs, self->ndev, self->base, t_close, 1000);
		ASSERT_LE(0, w) TH_LOG("counters not back at the baseline");
		sh_reclaimed(self->ndev, &e1, &b1);
		EXPECT_EQ(21, e1 - e0);
		EXPECT_EQ(sh_bytes(21), b1 - b0);
		return;
	}

	/* Still in flight: the sweep takes the dead sender's entries. */
	w = sh_wait_eq(self->obs, self->ndev, self->base, t_kill, SWEEP_DEADLINE_MS);
	ASSERT_LE(0, w) TH_LOG("dead sender's entries not swept while in flight");
	sh_reclaimed(self->ndev, &e1, &b1);
	EXPECT_EQ(21, e1 - e0);
	EXPECT_EQ(sh_bytes(21), b1 - b0);
	fd = rel_recv_fd(sv[0]);
	ASSERT_LE(0, fd) TH_LOG("recvmsg: %s", strerror(-fd));
	close(sv[0]);
	close(sv[1]);
	{
		struct tt_alloc_info info;
		struct tt_alloc_usage u;

		ASSERT_EQ(0, tt_info(fd, &info));
		EXPECT_EQ(m.client_id, info.client_id);
		ASSERT_EQ(0, tt_usage(fd, 1, TT_ALLOC_SCOPE_FILE, &u));
		EXPECT_EQ(0, tt_sum(u.allocations));
		/* The receiver records and frees through the received file. */
		ASSERT_EQ(0, sh_record(fd, 0x7000, 9));
		ASSERT_EQ(0, sh_free(fd, 0x7000, 4));
		ASSERT_EQ(0, tt_usage(fd, 1, TT_ALLOC_SCOPE_FILE, &u));
		EXPECT_NE(0, tt_sum(u.allocations));
	}
	close(fd);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	EXPECT_EQ(-1, sh_client_flags(self->obs, m.client_id));
}

TEST_F_TIMEOUT(sh, scm_in_flight_sender_killed_then_received, 60)
{
	sh_in_flight(_metadata, self, true);
}

TEST_F_TIMEOUT(sh, scm_in_flight_sender_killed_socket_closed, 60)
{
	sh_in_flight(_metadata, self, false);
}

/* The sender holds both socket ends, the file is in flight to itself. */
TEST_F_TIMEOUT(sh, scm_in_flight_to_self_sender_killed, 60)
{
	struct sh_msg m;

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		int sv[2], f = tt_open();

		if (f < 0 || socketpair(AF_UNIX, SOCK_DGRAM, 0, sv))
			sh_reply(self->c2p[1], -EBADF, 0);
		m.status = sh_record(f, 0x8000, 17);
		if (!m.status)
			m.status = rel_send_fd(sv[1], f);
		close(f);
		sh_reply(self->c2p[1], m.status, 0);
		for (;;)
			pause();
	}
	m = sh_get(_metadata, self->c2p[0]);
	ASSERT_EQ(0, m.status);
	tt_kill_reap(&self->kids[0]);
	/* Released with the socket at exit: by the time waitpid() returned. */
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

/* SCM_RIGHTS to a live receiver, sender keeps a copy and dies. */
TEST_F_TIMEOUT(sh, scm_received_sender_dies_receiver_keeps, 60)
{
	struct tt_dev_state s1[TT_MAX_DEVS];
	__u64 t_kill;
	struct sh_msg m;
	int sv[2], fd;
	long w;

	sh_wait_fast_sweep(_metadata, self);
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv));
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		int f = tt_open();

		m.status = f < 0 ? f : rel_send_fd(sv[1], f);
		sh_reply(self->c2p[1], m.status, 0);
		/* Record after the receiver got it: shared file, two recorders. */
		if (tt_read_full(self->p2c[0], &m, 1))
			_exit(1);
		sh_reply(self->c2p[1], sh_record(f, 0x9000, 12), 0);
		for (;;)
			pause();
	}
	m = sh_get(_metadata, self->c2p[0]);
	ASSERT_EQ(0, m.status);
	fd = rel_recv_fd(sv[0]);
	ASSERT_LE(0, fd);
	ASSERT_EQ(0, sh_record(fd, 0xa000, 8));
	tt_snapshot_all(_metadata, self->obs, s1);
	ASSERT_EQ(1, write(self->p2c[1], "r", 1));
	m = sh_get(_metadata, self->c2p[0]);
	ASSERT_EQ(0, m.status);
	t_kill = tt_now_ms();
	tt_kill_reap(&self->kids[0]);
	w = sh_wait_eq(self->obs, self->ndev, s1, t_kill, SWEEP_DEADLINE_MS);
	ASSERT_LE(0, w) TH_LOG("dead sender's entries not swept");
	ASSERT_EQ(0, sh_free(fd, 0xa000, 8));
	rel_assert_devs_eq(_metadata, self->obs, self->base);
	close(fd);
	close(sv[0]);
	close(sv[1]);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

TEST_HARNESS_MAIN
