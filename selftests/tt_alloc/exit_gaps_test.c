// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc exit gaps: the cases where a recorder's entries cannot be
 * reclaimed before its parent's waitpid() returns, because the recorder's
 * exit never closes an fd of the file (Documentation/admin-guide/tt_alloc.rst,
 * "Reclaim"). Each test shows that the entries are still counted once
 * waitpid() returned, and that the sweep then reclaims them.
 *
 * The sweep is parked (sweep_interval_ms = 3600000) while the recorder
 * dies, so that "still counted after waitpid()" cannot depend on when the
 * last sweep ran; writing a short interval then re-arms it at once. The
 * test observes through a file of its own that holds nothing.
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <linux/io_uring.h>
#include <sched.h>
#include <sys/socket.h>
#include <sys/syscall.h>

#define DEV		3
#define N_ENTRIES	16
#define ID_BASE		0xE0000ULL
#define PARKED_MS	"3600000"
#define SWEEP_MS	"100"
/* A bound, not a measurement: two 100 ms intervals and a loaded TCG guest. */
#define RECLAIM_WAIT_MS	20000

static __u64 entry_size(unsigned int i)
{
	return 4096ULL * (i + 1);
}

static __u64 total_bytes(void)
{
	__u64 sum = 0;
	unsigned int i;

	for (i = 0; i < N_ENTRIES; i++)
		sum += entry_size(i);
	return sum;
}

/* In a child: records the workload on DEV in @fd; 0 or a negative errno. */
static int record_on(int fd)
{
	unsigned int i;
	int r;

	for (i = 0; i < N_ENTRIES; i++) {
		r = tt_alloc(fd, DEV, TT_ALLOC_MEM_DRAM, ID_BASE + i,
			     entry_size(i), 0);
		if (r)
			return r;
	}
	return 0;
}

/*
 * In a child: opens the device and records the workload on DEV. Returns
 * the fd, or a negative errno. No ASSERTs (it runs in children).
 */
static int record_workload(void)
{
	int fd, r;

	fd = tt_open();
	if (fd < 0)
		return fd;
	r = record_on(fd);
	if (r) {
		close(fd);
		return r;
	}
	return fd;
}

/* In a child: reports a status (0, or a negative errno) and exits. */
static void __attribute__((noreturn)) child_report(int wfd, int status)
{
	if (tt_write_full(wfd, &status, sizeof(status)))
		_exit(2);
	_exit(0);
}

FIXTURE(gaps) {
	int fd;			/* observer: holds nothing */
	int rep[2];		/* child -> test */
	int ring;		/* io_uring, or -1 */
	int sk[2];		/* unix socket pair, or -1 */
	pid_t kid;
	struct tt_dev_state base;
};

FIXTURE_SETUP(gaps)
{
	self->ring = -1;
	self->sk[0] = -1;
	self->sk[1] = -1;
	self->kid = 0;
	tt_sysfs_mask = 1ULL << DEV;
	self->fd = tt_open();
	ASSERT_LE(0, self->fd);
	ASSERT_LT(DEV, tt_ndev(_metadata, self->fd));
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", PARKED_MS));
	tt_snapshot(_metadata, self->fd, DEV, &self->base);
}

FIXTURE_TEARDOWN(gaps)
{
	char v[32];

	tt_kill_reap(&self->kid);
	if (self->ring >= 0)
		close(self->ring);
	if (self->sk[0] >= 0)
		close(self->sk[0]);
	if (self->sk[1] >= 0)
		close(self->sk[1]);
	close(self->rep[0]);
	close(self->rep[1]);
	snprintf(v, sizeof(v), "%d", TT_DEF_SWEEP_MS);
	EXPECT_EQ(0, tt_param_write("sweep_interval_ms", v));
	close(self->fd);
}

/* Reads the child's status, reaps it: waitpid() has returned after this. */
static void reap_child(struct __test_metadata *_metadata,
		       FIXTURE_DATA(gaps) *self)
{
	int status = -1, ws;

	ASSERT_EQ(0, tt_read_full(self->rep[0], &status, sizeof(status)))
		TH_LOG("the child died before reporting");
	ASSERT_EQ(self->kid, waitpid(self->kid, &ws, 0));
	self->kid = 0;
	ASSERT_TRUE(WIFEXITED(ws));
	ASSERT_EQ(0, WEXITSTATUS(ws));
	ASSERT_EQ(0, status) TH_LOG("child: %s", strerror(-status));
}

/* The device's state now is base plus (recorded) or base, reclaimed (!recorded). */
static void assert_state(struct __test_metadata *_metadata,
			 FIXTURE_DATA(gaps) *self, bool recorded)
{
	struct tt_dev_state exp = self->base, now;
	__u64 bytes = total_bytes();

	if (recorded) {
		exp.used[TT_ALLOC_MEM_DRAM] += bytes;
		exp.s_used[TT_ALLOC_MEM_DRAM] += bytes;
		exp.allocs[TT_ALLOC_MEM_DRAM] += N_ENTRIES;
		exp.s_allocs[TT_ALLOC_MEM_DRAM] += N_ENTRIES;
		exp.clients++;
	} else {
		exp.reclaimed_bytes += bytes;
		exp.reclaimed_allocs += N_ENTRIES;
	}
	tt_snapshot(_metadata, self->fd, DEV, &now);
	tt_assert_state_eq(_metadata, DEV, &exp, &now);
}

/*
 * Un-parks the sweep and waits, bounded, for DEV's DRAM usage to be back
 * at the baseline; then checks every counter.
 */
static void assert_swept(struct __test_metadata *_metadata,
			 FIXTURE_DATA(gaps) *self)
{
	__u64 start = tt_now_ms();
	struct tt_alloc_usage u;

	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", SWEEP_MS));
	for (;;) {
		ASSERT_EQ(0, tt_usage(self->fd, DEV, TT_ALLOC_SCOPE_DEVICE, &u));
		if (u.used[TT_ALLOC_MEM_DRAM] == self->base.used[TT_ALLOC_MEM_DRAM])
			break;
		ASSERT_GT(RECLAIM_WAIT_MS, tt_now_ms() - start)
			TH_LOG("the sweep did not reclaim the dead recorder's entries within %d ms (sweep_interval_ms=%s)",
			       RECLAIM_WAIT_MS, SWEEP_MS);
		usleep(20000);
	}
	assert_state(_metadata, self, false);
}

/*
 * (a) clone(CLONE_FILES) without CLONE_THREAD: the recorder's exit only
 * drops its reference on the fd table it shares with the test process, so
 * no fd of the file is closed (no .flush) and the file is not released.
 */
TEST_F_TIMEOUT(gaps, clone_files_sharer_outlives_recorder, 60)
{
	int fd = -1;

	/* A fork() that shares the fd table: no new stack needed. */
	self->kid = syscall(SYS_clone, CLONE_FILES | SIGCHLD, 0, NULL, NULL, 0);
	ASSERT_LE(0, self->kid);
	if (!self->kid) {
		fd = record_workload();
		if (fd >= 0 && tt_write_full(self->rep[1], &fd, sizeof(fd)))
			_exit(2);
		child_report(self->rep[1], fd < 0 ? fd : 0);
	}
	ASSERT_EQ(0, tt_read_full(self->rep[0], &fd, sizeof(fd)))
		TH_LOG("the child died before recording");
	reap_child(_metadata, self);
	/* The child's fd is ours too: the file is open, held by the table. */
	ASSERT_LE(0, fcntl(fd, F_GETFD));
	assert_state(_metadata, self, true);
	assert_swept(_metadata, self);
	EXPECT_EQ(0, close(fd));
}

static int io_uring_setup(unsigned int entries, struct io_uring_params *p)
{
	return syscall(__NR_io_uring_setup, entries, p);
}

static int io_uring_register(int ring, unsigned int op, void *arg,
			     unsigned int nr)
{
	return syscall(__NR_io_uring_register, ring, op, arg, nr);
}

/*
 * (b) A file held only in an io_uring fixed-file table: the recorder
 * registers it in a ring the test process also holds, closes its fd and
 * exits. Its exit closes no fd of the file; the ring keeps it.
 */
TEST_F_TIMEOUT(gaps, io_uring_fixed_file_outlives_recorder, 60)
{
	struct io_uring_params p;

	memset(&p, 0, sizeof(p));
	self->ring = io_uring_setup(4, &p);
	if (self->ring < 0 && (errno == ENOSYS || errno == EPERM))
		SKIP(return, "io_uring unavailable: %s (CONFIG_IO_URING off or io_uring_disabled)",
		     strerror(errno));
	ASSERT_LE(0, self->ring) TH_LOG("io_uring_setup: %s", strerror(errno));

	self->kid = fork();
	ASSERT_LE(0, self->kid);
	if (!self->kid) {
		int fd = record_workload();

		if (fd < 0)
			child_report(self->rep[1], fd);
		if (io_uring_register(self->ring, IORING_REGISTER_FILES, &fd, 1))
			child_report(self->rep[1], -errno);
		/* A plain close(): .flush runs, but not from an exit. */
		if (close(fd))
			child_report(self->rep[1], -errno);
		child_report(self->rep[1], 0);
	}
	reap_child(_metadata, self);
	assert_state(_metadata, self, true);
	assert_swept(_metadata, self);
}

/* Sends fd over sk with SCM_RIGHTS; 0 or a negative errno. */
static int send_fd(int sk, int fd)
{
	char cbuf[CMSG_SPACE(sizeof(int))] = { 0 };
	char byte = 'f';
	struct iovec iov = { .iov_base = &byte, .iov_len = 1 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = cbuf, .msg_controllen = sizeof(cbuf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sk, &msg, 0) == 1 ? 0 : -errno;
}

/*
 * The recorder sends its file to the test process's end of a socket pair
 * and exits; nobody receives it. close_first: it closes its fd before
 * exiting.
 */
static void scm_sender_exits(struct __test_metadata *_metadata,
			     FIXTURE_DATA(gaps) *self, bool close_first)
{
	ASSERT_EQ(0, socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, self->sk));
	self->kid = fork();
	ASSERT_LE(0, self->kid);
	if (!self->kid) {
		int fd = record_workload();

		if (fd < 0)
			child_report(self->rep[1], fd);
		if (send_fd(self->sk[1], fd))
			child_report(self->rep[1], -errno);
		if (close_first && close(fd))
			child_report(self->rep[1], -errno);
		child_report(self->rep[1], 0);
	}
	reap_child(_metadata, self);
}

/*
 * (c) A file in flight in a unix socket whose sender closed its fd before
 * it exited: only the in-flight message holds the file.
 */
TEST_F_TIMEOUT(gaps, scm_in_flight_sender_closed_then_exited, 60)
{
	scm_sender_exits(_metadata, self, true);
	assert_state(_metadata, self, true);
	assert_swept(_metadata, self);
}

/*
 * The contrast to (c): a sender that still holds its fd when it exits has
 * its entries reclaimed by its exit, before waitpid() returns, although
 * the file stays in flight. The sweep stays parked throughout.
 */
TEST_F_TIMEOUT(gaps, scm_in_flight_sender_holding_fd_reclaimed_at_exit, 60)
{
	scm_sender_exits(_metadata, self, false);
	assert_state(_metadata, self, false);
}

/*
 * The contrast to every gap: a process killed while it holds its own fd
 * is reclaimed by its exit, and its log line says so, even with the sweep
 * running every jiffy. Its exit_mm() of a big address space, between the
 * group's live count reaching 0 and exit_files(), is a window in which a
 * sweep that took "no live thread" for "exited" reclaimed first and
 * logged "exited with its file still open".
 */
#define KILL_ROUNDS	8
#define KILL_UID	62000	/* + round: each its own log rate limit */
#define KILL_MAP_BYTES	(64UL << 20)

TEST_F_TIMEOUT(gaps, killed_holder_reclaimed_by_its_exit_not_the_sweep, 180)
{
	pid_t kids[KILL_ROUNDS];
	int kmsg, i, ws, status, found = 0;
	char rec[1024], want[64];

	kmsg = tt_kmsg_open();
	ASSERT_LE(0, kmsg);
	ASSERT_EQ(0, tt_param_write("sweep_interval_ms", "1"));
	for (i = 0; i < KILL_ROUNDS; i++) {
		self->kid = fork();
		ASSERT_LE(0, self->kid);
		if (!self->kid) {
			int fd = tt_open();

			if (fd < 0)
				child_report(self->rep[1], fd);
			if (mmap(NULL, KILL_MAP_BYTES, PROT_READ | PROT_WRITE,
				 MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE,
				 -1, 0) == MAP_FAILED ||
			    setresuid(KILL_UID + i, KILL_UID + i, KILL_UID + i))
				child_report(self->rep[1], -errno);
			status = record_on(fd);
			if (tt_write_full(self->rep[1], &status, sizeof(status)))
				_exit(2);
			for (;;)
				pause();
		}
		ASSERT_EQ(0, tt_read_full(self->rep[0], &status, sizeof(status)));
		ASSERT_EQ(0, status) TH_LOG("child: %s", strerror(-status));
		assert_state(_metadata, self, true);
		ASSERT_EQ(0, kill(self->kid, SIGKILL));
		ASSERT_EQ(self->kid, waitpid(self->kid, &ws, 0));
		kids[i] = self->kid;
		self->kid = 0;
		ASSERT_TRUE(WIFSIGNALED(ws));
		assert_state(_metadata, self, false);
		tt_snapshot(_metadata, self->fd, DEV, &self->base);
	}
	while (tt_kmsg_next(kmsg, rec, sizeof(rec))) {
		for (i = 0; i < KILL_ROUNDS; i++) {
			snprintf(want, sizeof(want), "tt_alloc: pid %d (", kids[i]);
			if (!strstr(rec, want))
				continue;
			found++;
			EXPECT_EQ(NULL, strstr(rec, "exited with its file still open"))
				TH_LOG("round %d: %s", i, rec);
		}
	}
	close(kmsg);
	EXPECT_EQ(KILL_ROUNDS, found);
}

TEST_HARNESS_MAIN
