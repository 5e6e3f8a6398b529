// SPDX-License-Identifier: GPL-2.0
/*
 * tt_alloc client list (TT_ALLOC_IOC_CLIENTS): rows per client and device,
 * counting, the room protocol, errors, pid namespaces, the
 * opener-exited flag, and the owner (uid across user namespaces, cgroup).
 */
#include "kselftest_harness.h"
#include "tt_alloc_test.h"

#include <grp.h>
#include <sched.h>
#include <sys/mount.h>

/* All rows, in a malloc()ed array; returns how many. */
static __u32 list_all(struct __test_metadata *_metadata, int fd,
		      struct tt_alloc_client **rows)
{
	__u32 n = 0, room;

	ASSERT_EQ(0, tt_clients(fd, NULL, &n));
	room = n + 16;
	*rows = calloc(room, sizeof(**rows));
	ASSERT_NE(NULL, *rows);
	ASSERT_EQ(0, tt_clients(fd, *rows, &room));
	ASSERT_EQ(n, room) TH_LOG("row count changed between calls");
	return n;
}

/* Index of the row of client id on device dev, -1 if none; counts the client's rows. */
static int find_row(const struct tt_alloc_client *rows, __u32 n, __u64 id,
		    __u32 dev, int *nrows)
{
	int found = -1;
	__u32 i;

	if (nrows)
		*nrows = 0;
	for (i = 0; i < n; i++) {
		if (rows[i].client_id != id)
			continue;
		if (nrows)
			(*nrows)++;
		if (rows[i].device == dev)
			found = i;
	}
	return found;
}

/* A row has exactly these totals (types not listed are 0). */
static void check_row(struct __test_metadata *_metadata,
		      const struct tt_alloc_client *r, __u32 pid,
		      const char *comm, __u32 flags,
		      const __u64 *used, const __u64 *allocs)
{
	int t;

	EXPECT_EQ(pid, r->pid) TH_LOG("client %llu device %#x", (unsigned long long)r->client_id, r->device);
	EXPECT_EQ(0, r->comm[TT_ALLOC_COMM_LEN - 1]);
	EXPECT_STREQ(comm, (const char *)r->comm);
	EXPECT_EQ(flags, r->flags);
	EXPECT_EQ(0, r->reserved);
	EXPECT_EQ(0, r->reserved2);
	/* Every file of these tests is opened by root, as the test runs. */
	EXPECT_EQ(getuid(), r->uid);
	for (t = 0; t < TT_ALLOC_MEM_MAX; t++) {
		EXPECT_EQ(used ? used[t] : 0, r->used[t]) TH_LOG("used, type %d", t);
		EXPECT_EQ(allocs ? allocs[t] : 0, r->allocations[t]) TH_LOG("allocations, type %d", t);
	}
}

FIXTURE(cl) {
	int fd1, fd2;
	__u64 id1, id2;
	char comm[TT_ALLOC_COMM_LEN + 1];
	pid_t kids[2];
	int rep[2], cmd[2];
	int life[2];	/* only the test process holds the write end */
};

FIXTURE_SETUP(cl)
{
	struct tt_alloc_info info;

	self->fd1 = tt_open();
	self->fd2 = tt_open();
	ASSERT_LE(0, self->fd1);
	ASSERT_LE(0, self->fd2);
	ASSERT_EQ(0, tt_info(self->fd1, &info));
	self->id1 = info.client_id;
	ASSERT_EQ(0, tt_info(self->fd2, &info));
	self->id2 = info.client_id;
	tt_self_comm(self->comm, sizeof(self->comm));
	ASSERT_NE(0, self->comm[0]);
	ASSERT_EQ(0, pipe2(self->rep, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->cmd, O_CLOEXEC));
	ASSERT_EQ(0, pipe2(self->life, O_CLOEXEC));
	ASSERT_EQ(0, prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0));
}

FIXTURE_TEARDOWN(cl)
{
	tt_kill_reap(&self->kids[0]);
	tt_kill_reap(&self->kids[1]);
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	close(self->fd1);
	close(self->fd2);
}

/* fd1: dev0 DRAM 100 + L1 50, dev1 CB 2 x 7; fd2: nothing. */
static void populate(struct __test_metadata *_metadata, FIXTURE_DATA(cl) *self)
{
	ASSERT_EQ(0, tt_alloc(self->fd1, 0, TT_ALLOC_MEM_DRAM, 1, 100, 0));
	ASSERT_EQ(0, tt_alloc(self->fd1, 0, TT_ALLOC_MEM_L1, 1, 50, 0));
	ASSERT_EQ(0, tt_alloc(self->fd1, 1, TT_ALLOC_MEM_CB, 1, 7, 0));
	ASSERT_EQ(0, tt_alloc(self->fd1, 1, TT_ALLOC_MEM_CB, 2, 7, 0));
	/* A second reference changes nothing. */
	ASSERT_EQ(0, tt_alloc(self->fd1, 1, TT_ALLOC_MEM_CB, 2, 7, 0));
}

TEST_F(cl, rows_per_client_and_device)
{
	const __u64 u0[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_DRAM] = 100, [TT_ALLOC_MEM_L1] = 50 };
	const __u64 a0[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_DRAM] = 1, [TT_ALLOC_MEM_L1] = 1 };
	const __u64 u1[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_CB] = 14 };
	const __u64 a1[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_CB] = 2 };
	struct tt_alloc_client *rows;
	int i, nr;
	__u32 n;

	populate(_metadata, self);
	n = list_all(_metadata, self->fd1, &rows);

	i = find_row(rows, n, self->id1, 0, &nr);
	EXPECT_EQ(2, nr) TH_LOG("rows of the client holding entries on devices 0 and 1");
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], getpid(), self->comm, 0, u0, a0);
	i = find_row(rows, n, self->id1, 1, NULL);
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], getpid(), self->comm, 0, u1, a1);

	i = find_row(rows, n, self->id2, TT_ALLOC_DEVICE_NONE, &nr);
	EXPECT_EQ(1, nr) TH_LOG("rows of the client holding nothing");
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], getpid(), self->comm, 0, NULL, NULL);
	/* Only our two files exist. */
	EXPECT_EQ(3, n);
	free(rows);
}

TEST_F(cl, rows_follow_frees)
{
	struct tt_alloc_client *rows;
	int nr;
	__u32 n;

	populate(_metadata, self);
	ASSERT_EQ(0, tt_free(self->fd1, 0, TT_ALLOC_MEM_DRAM, 1));
	ASSERT_EQ(0, tt_free(self->fd1, 0, TT_ALLOC_MEM_L1, 1));
	n = list_all(_metadata, self->fd2, &rows);
	EXPECT_EQ(-1, find_row(rows, n, self->id1, 0, &nr));
	EXPECT_EQ(1, nr);
	EXPECT_LE(0, find_row(rows, n, self->id1, 1, NULL));
	free(rows);

	ASSERT_EQ(0, tt_free(self->fd1, 1, TT_ALLOC_MEM_CB, 1));
	ASSERT_EQ(0, tt_free(self->fd1, 1, TT_ALLOC_MEM_CB, 2));
	ASSERT_EQ(0, tt_free(self->fd1, 1, TT_ALLOC_MEM_CB, 2));
	n = list_all(_metadata, self->fd2, &rows);
	/* Holds nothing again: one DEVICE_NONE row. */
	EXPECT_LE(0, find_row(rows, n, self->id1, TT_ALLOC_DEVICE_NONE, &nr));
	EXPECT_EQ(1, nr);
	EXPECT_EQ(2, n);
	free(rows);
}

TEST_F(cl, closed_file_not_listed)
{
	struct tt_alloc_client *rows;
	int nr;
	__u32 n;

	populate(_metadata, self);
	close(self->fd1);
	self->fd1 = tt_open();
	ASSERT_LE(0, self->fd1);
	n = list_all(_metadata, self->fd2, &rows);
	EXPECT_EQ(-1, find_row(rows, n, self->id1, 0, &nr));
	EXPECT_EQ(0, nr);
	EXPECT_EQ(2, n);
	free(rows);
}

TEST_F(cl, count_zero_only_counts)
{
	__u32 n = 0;

	populate(_metadata, self);
	ASSERT_EQ(0, tt_clients(self->fd1, NULL, &n));
	EXPECT_EQ(3, n);
	/* Nothing is written with count 0, not even to a bad pointer. */
	n = 0;
	ASSERT_EQ(0, tt_clients(self->fd1, tt_unmapped_addr(), &n));
	EXPECT_EQ(3, n);
}

TEST_F(cl, count_smaller_than_rows)
{
	struct tt_alloc_client rows[3], sentinel;
	__u32 n = 1;

	populate(_metadata, self);
	memset(rows, 0xa5, sizeof(rows));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	ASSERT_EQ(0, tt_clients(self->fd1, rows, &n));
	EXPECT_EQ(3, n) TH_LOG("out: rows that exist");
	EXPECT_TRUE(rows[0].client_id == self->id1 || rows[0].client_id == self->id2);
	EXPECT_EQ(0, memcmp(&rows[1], &sentinel, sizeof(sentinel))) TH_LOG("row 1 written with room 1");
	EXPECT_EQ(0, memcmp(&rows[2], &sentinel, sizeof(sentinel)));
}

TEST_F(cl, count_exact_room)
{
	struct tt_alloc_client rows[4], sentinel;
	__u32 n = 3;

	populate(_metadata, self);
	memset(rows, 0xa5, sizeof(rows));
	memset(&sentinel, 0xa5, sizeof(sentinel));
	ASSERT_EQ(0, tt_clients(self->fd1, rows, &n));
	EXPECT_EQ(3, n);
	EXPECT_EQ(0, memcmp(&rows[3], &sentinel, sizeof(sentinel)));
	/* The array lies exactly before a hole: room 3 must not touch beyond. */
	{
		long pg = sysconf(_SC_PAGESIZE);
		char *p = tt_page_before_hole();

		ASSERT_NE(NULL, p);
		n = 3;
		ASSERT_EQ(0, tt_clients(self->fd1, (void *)(p + pg - 3 * sizeof(rows[0])), &n));
		EXPECT_EQ(3, n);
	}
}

TEST_F(cl, count_max_accepted)
{
	size_t len = (size_t)TT_ALLOC_CLIENTS_MAX * sizeof(struct tt_alloc_client);
	struct tt_alloc_client *rows = mmap(NULL, len, PROT_READ | PROT_WRITE,
					    MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u32 n = TT_ALLOC_CLIENTS_MAX;

	ASSERT_NE(MAP_FAILED, rows);
	populate(_metadata, self);
	ASSERT_EQ(0, tt_clients(self->fd1, rows, &n));
	EXPECT_EQ(3, n);
	munmap(rows, len);
}

/* CLIENTS with "mutate" applied to a valid request (room 8) fails with err. */
#define CLIENTS_FAILS(name, err, mutate)					\
TEST_F(cl, name)								\
{										\
	struct tt_alloc_client rows[8];						\
	struct tt_alloc_clients c = { .clients = (uintptr_t)rows, .count = 8,	\
				      .row_size = sizeof(rows[0]) };		\
	populate(_metadata, self);						\
	mutate;									\
	ASSERT_EQ(-(err), tt_ioctl(self->fd1, TT_ALLOC_IOC_CLIENTS, &c))	\
		TH_LOG("CLIENTS count %u flags %#x", c.count, c.flags);		\
}

CLIENTS_FAILS(clients_flags, EINVAL, c.flags = 1)
CLIENTS_FAILS(clients_flags_msb, EINVAL, c.flags = 0x80000000u)
CLIENTS_FAILS(clients_count_over_max, E2BIG, c.count = TT_ALLOC_CLIENTS_MAX + 1)
CLIENTS_FAILS(clients_count_u32_max, E2BIG, c.count = UINT32_MAX)
CLIENTS_FAILS(clients_flags_and_count_over_max, EINVAL, c.count = UINT32_MAX; c.flags = 1)
CLIENTS_FAILS(clients_array_null, EFAULT, c.clients = 0)
CLIENTS_FAILS(clients_array_unmapped, EFAULT, c.clients = (uintptr_t)tt_unmapped_addr())
CLIENTS_FAILS(clients_array_readonly, EFAULT,
	      c.clients = (uintptr_t)tt_readonly_copy(rows, sizeof(rows[0])))
CLIENTS_FAILS(clients_array_kernel_address, EFAULT, c.clients = 0xffffffff81000000ULL)

/* Room for 3 rows, the 3rd straddling a hole. */
TEST_F(cl, clients_array_straddles_hole)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = tt_page_before_hole();
	__u32 n = 3;

	ASSERT_NE(NULL, p);
	populate(_metadata, self);
	ASSERT_EQ(-EFAULT, tt_clients(self->fd1, (void *)(p + pg - 2 * sizeof(struct tt_alloc_client) - 8), &n));
}

TEST_F(cl, clients_arg_null)
{
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd1, TT_ALLOC_IOC_CLIENTS, NULL));
}

TEST_F(cl, clients_arg_readonly)
{
	struct tt_alloc_clients c = { .clients = 0, .count = 0 };
	struct tt_alloc_clients *ro = tt_readonly_copy(&c, sizeof(c));

	ASSERT_NE(NULL, ro);
	ASSERT_EQ(-EFAULT, tt_ioctl(self->fd1, TT_ALLOC_IOC_CLIENTS, ro));
	EXPECT_EQ(0, ro->count);
}

/* ------------------------------------------------------------------ */
/* Other processes                                                     */
/* ------------------------------------------------------------------ */

struct report {
	__u64 client_id;
	int status;
	pid_t pid;
};

static void report(int fd, __u64 id, int status)
{
	struct report r = { .client_id = id, .status = status, .pid = getpid() };

	if (tt_write_full(fd, &r, sizeof(r)))
		_exit(99);
}

static struct report get_report(struct __test_metadata *_metadata, int fd)
{
	struct report r = { 0 };

	ASSERT_EQ(0, tt_read_full(fd, &r, sizeof(r))) TH_LOG("child died before reporting");
	return r;
}

/* The file of a forked child is listed with the child's pid and comm. */
TEST_F(cl, child_opener_pid_and_comm)
{
	const __u64 u[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_TRACE] = 333 };
	const __u64 a[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_TRACE] = 1 };
	struct tt_alloc_client *rows;
	struct report r;
	int i;
	__u32 n;

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_info info;
		int fd;
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "tt_kid_15chars_");
		fd = tt_open();
		if (fd < 0 || tt_info(fd, &info))
			report(self->rep[1], 0, -EBADF), _exit(1);
		report(self->rep[1], info.client_id, tt_alloc(fd, 3, TT_ALLOC_MEM_TRACE, 1, 333, 0));
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	r = get_report(_metadata, self->rep[0]);
	ASSERT_EQ(0, r.status);
	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, r.client_id, 3, NULL);
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], self->kids[0], "tt_kid_15chars_", 0, u, a);
	free(rows);
	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	/* Gone with the child. */
	n = list_all(_metadata, self->fd1, &rows);
	EXPECT_EQ(-1, find_row(rows, n, r.client_id, 3, NULL));
	EXPECT_EQ(2, n);
	free(rows);
}

/*
 * A opens the file and forks B, which inherits it and records an entry;
 * then A exits. The row keeps A as the opener and gains OPENER_EXITED.
 */
TEST_F(cl, opener_exited_flag)
{
	const __u64 u[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_L1_SMALL] = 4096 };
	const __u64 a[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_L1_SMALL] = 1 };
	struct tt_alloc_client *rows;
	struct report ra, rb;
	pid_t a_pid;
	int i;
	__u32 n;

	a_pid = fork();
	ASSERT_LE(0, a_pid);
	if (a_pid == 0) {
		struct tt_alloc_info info;
		pid_t b;
		char c;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		close(self->life[1]);
		prctl(PR_SET_NAME, "tt_opener");
		fd = tt_open();
		if (fd < 0 || tt_info(fd, &info))
			report(self->rep[1], 0, -EBADF), _exit(1);
		b = fork();
		if (b == 0) {
			/* B: records through the inherited file, lives on. */
			prctl(PR_SET_NAME, "tt_heir");
			report(self->rep[1], info.client_id,
			       tt_alloc(fd, 2, TT_ALLOC_MEM_L1_SMALL, 1, 4096, 0));
			/* Lives until killed or the test process is gone. */
			while (read(self->life[0], &c, 1) > 0)
				;
			_exit(0);
		}
		report(self->rep[1], info.client_id, b < 0 ? -errno : 0);
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	self->kids[0] = a_pid;
	ra = get_report(_metadata, self->rep[0]);
	rb = get_report(_metadata, self->rep[0]);
	if (rb.pid == a_pid) {
		struct report t = ra;

		ra = rb;
		rb = t;
	}
	ASSERT_EQ(0, ra.status);
	ASSERT_EQ(0, rb.status);
	ASSERT_EQ(a_pid, ra.pid);
	self->kids[1] = rb.pid;
	ASSERT_EQ(ra.client_id, rb.client_id);

	/* Opener alive. */
	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, ra.client_id, 2, NULL);
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], a_pid, "tt_opener", 0, u, a);
	free(rows);

	/* Opener gone, file lives in B (reparented to us). */
	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(a_pid, waitpid(a_pid, NULL, 0));
	self->kids[0] = 0;
	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, ra.client_id, 2, NULL);
	ASSERT_LE(0, i) TH_LOG("the file B holds is not listed after its opener exited");
	check_row(_metadata, &rows[i], a_pid, "tt_opener", TT_ALLOC_CLIENT_OPENER_EXITED, u, a);
	free(rows);
}

/*
 * In a new pid namespace, a child (pid 1 there) sees only the clients
 * opened inside it; the parent sees the child's client with its pid in
 * the parent's namespace.
 */
struct ns_view {
	int status;
	pid_t pid;		/* child's getpid() */
	__u64 client_id;
	__u32 total;		/* rows the child sees */
	struct tt_alloc_client rows[8];
};

TEST_F(cl, pid_namespace)
{
	const __u64 u[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_L1] = 123 };
	const __u64 a[TT_ALLOC_MEM_MAX] = { [TT_ALLOC_MEM_L1] = 1 };
	struct ns_view *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	struct tt_alloc_client *rows;
	struct report r;
	int i;
	__u32 n, k;

	ASSERT_NE(MAP_FAILED, v);
	populate(_metadata, self);
	ASSERT_EQ(0, unshare(CLONE_NEWPID)) TH_LOG("unshare(CLONE_NEWPID): %s", strerror(errno));
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_info info;
		char c;
		int fd;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		prctl(PR_SET_NAME, "tt_in_ns");
		v->pid = getpid();
		fd = tt_open();
		if (fd < 0 || tt_info(fd, &info)) {
			v->status = -EBADF;
		} else {
			v->client_id = info.client_id;
			v->status = tt_alloc(fd, 1, TT_ALLOC_MEM_L1, 1, 123, 0);
			v->total = 8;
			if (!v->status)
				v->status = tt_clients(fd, v->rows, &v->total);
		}
		report(self->rep[1], v->client_id, v->status);
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	r = get_report(_metadata, self->rep[0]);
	ASSERT_EQ(0, v->status) TH_LOG("child: %s", strerror(-v->status));

	/* Inside: pid 1, only its own client. */
	EXPECT_EQ(1, v->pid);
	EXPECT_EQ(1, v->total) TH_LOG("rows seen inside the new pid namespace");
	for (k = 0; k < v->total && k < 8; k++) {
		EXPECT_NE(self->id1, v->rows[k].client_id);
		EXPECT_NE(self->id2, v->rows[k].client_id);
	}
	i = find_row(v->rows, v->total < 8 ? v->total : 8, v->client_id, 1, NULL);
	ASSERT_LE(0, i);
	check_row(_metadata, &v->rows[i], 1, "tt_in_ns", 0, u, a);

	/* Outside: the child's client with its pid here, and ours. */
	n = list_all(_metadata, self->fd1, &rows);
	EXPECT_EQ(4, n);
	i = find_row(rows, n, r.client_id, 1, NULL);
	ASSERT_LE(0, i);
	check_row(_metadata, &rows[i], self->kids[0], "tt_in_ns", 0, u, a);
	i = find_row(rows, n, self->id2, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(getpid(), rows[i].pid);
	free(rows);

	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	munmap(v, sizeof(*v));
}

/* ---- the owner: uid and cgroup ----------------------------------------- */

/* The decimal value of "key:\t<value>" in fdinfo text, -1 when absent. */
static long long fdinfo_val(const char *text, const char *key)
{
	size_t kl = strlen(key);
	const char *p = text;

	while (p && *p) {
		if (!strncmp(p, key, kl) && p[kl] == ':' && p[kl + 1] == '\t')
			return strtoll(p + kl + 2, NULL, 10);
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return -1;
}

static int read_fdinfo(pid_t pid, int fd, char *buf, size_t len)
{
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/fdinfo/%d", (int)pid, fd);
	return tt_read_str(path, buf, len) < 0 ? -EIO : 0;
}

#define OWNER_UID	4321

struct owner_view {
	int fd;
	__u32 n_out, n_in;	/* rows before and inside the user namespace */
	struct tt_alloc_client out[8], in[8];
	char fdinfo_in[512];
};

/*
 * A file opened by uid 4321 shows 4321 to root, 0 inside a user namespace
 * mapping 4321 to 0, and root's files show the overflow uid there (root
 * has no mapping in it); fdinfo follows its reader's namespace the same
 * way.
 */
TEST_F(cl, owner_uid_user_namespace)
{
	struct owner_view *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE,
				    MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char text[512], ovf[32];
	struct tt_alloc_client *rows;
	struct report r;
	int i;
	__u32 n;

	ASSERT_NE(MAP_FAILED, v);
	ASSERT_LT(0, tt_read_str("/proc/sys/kernel/overflowuid", ovf, sizeof(ovf)));
	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_info info;
		int st = 0;
		char c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (setgroups(0, NULL) || setgid(OWNER_UID) || setuid(OWNER_UID))
			report(self->rep[1], 0, -errno), _exit(1);
		/* Dumpable again after setuid(): our /proc files stay ours (uid_map). */
		prctl(PR_SET_DUMPABLE, 1);
		v->fd = tt_open();
		if (v->fd < 0 || tt_info(v->fd, &info))
			report(self->rep[1], 0, -EBADF), _exit(1);
		v->n_out = 8;
		st = tt_alloc(v->fd, 0, TT_ALLOC_MEM_L1, 1, 64, 0) ?:
		     tt_clients(v->fd, v->out, &v->n_out);
		if (!st && unshare(CLONE_NEWUSER))
			st = -errno;
		if (!st)
			st = tt_write_str("/proc/self/uid_map", "0 4321 1");
		v->n_in = 8;
		if (!st)
			st = tt_clients(v->fd, v->in, &v->n_in) ?:
			     read_fdinfo(getpid(), v->fd, v->fdinfo_in,
					 sizeof(v->fdinfo_in));
		report(self->rep[1], info.client_id, st);
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	r = get_report(_metadata, self->rep[0]);
	ASSERT_EQ(0, r.status) TH_LOG("child: %s", strerror(-r.status));

	/* Root sees 4321 for the child's file, 0 for its own. */
	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, r.client_id, 0, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(OWNER_UID, rows[i].uid);
	EXPECT_EQ(self->kids[0], rows[i].pid);
	i = find_row(rows, n, self->id1, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, rows[i].uid);
	free(rows);
	ASSERT_EQ(0, read_fdinfo(self->kids[0], v->fd, text, sizeof(text)));
	EXPECT_EQ(OWNER_UID, fdinfo_val(text, "tt_alloc-uid")) TH_LOG("%s", text);

	/* The child, before unshare(): the same. */
	i = find_row(v->out, v->n_out, r.client_id, 0, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(OWNER_UID, v->out[i].uid);
	i = find_row(v->out, v->n_out, self->id1, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, v->out[i].uid);

	/* Inside its user namespace: itself 0, root unmapped. */
	i = find_row(v->in, v->n_in, r.client_id, 0, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(0, v->in[i].uid);
	i = find_row(v->in, v->n_in, self->id1, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(strtoul(ovf, NULL, 10), v->in[i].uid);
	EXPECT_EQ(0, fdinfo_val(v->fdinfo_in, "tt_alloc-uid")) TH_LOG("%s", v->fdinfo_in);

	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	munmap(v, sizeof(*v));
}

/* Inode number of a path, 0 if it cannot be read. */
static __u64 path_ino(const char *path)
{
	struct stat st;

	return stat(path, &st) ? 0 : st.st_ino;
}

/* A cgroup2 mount at the mkdtemp() template mnt, a new cgroup dir in it. */
static void cg_make(struct __test_metadata *_metadata, char *mnt, char *dir,
		    size_t len, const char *name)
{
	ASSERT_NE(NULL, mkdtemp(mnt));
	ASSERT_EQ(0, mount("none", mnt, "cgroup2", 0, NULL))
		TH_LOG("mount cgroup2: %s", strerror(errno));
	snprintf(dir, len, "%s/%s-%d", mnt, name, (int)getpid());
	ASSERT_EQ(0, mkdir(dir, 0755));
}

static void cg_remove(struct __test_metadata *_metadata, const char *mnt, const char *dir)
{
	EXPECT_EQ(0, rmdir(dir));
	EXPECT_EQ(0, umount2(mnt, MNT_DETACH));
	EXPECT_EQ(0, rmdir(mnt));
}

struct cg_view {
	int fd[2];
	__u64 id[2];
};

/*
 * A file carries the cgroup its opener was in at open: the id is the
 * inode number of the cgroup's directory in a cgroup2 mount, and stays
 * when the opener moves on.
 */
TEST_F(cl, owner_cgroup_at_open)
{
	struct cg_view *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE,
				 MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char mnt[] = "/tmp/tt-cg.XXXXXX", dir[96], text[512];
	char self_cg[256], self_dir[400];
	struct tt_alloc_client *rows;
	__u64 root_ino, dir_ino;
	struct report r;
	int i;
	__u32 n;

	ASSERT_NE(MAP_FAILED, v);
	cg_make(_metadata, mnt, dir, sizeof(dir), "tt-owner");
	root_ino = path_ino(mnt);
	dir_ino = path_ino(dir);
	EXPECT_EQ(1, root_ino) TH_LOG("the root cgroup's id");
	EXPECT_LT(1, dir_ino);

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_info info = { 0 };
		int k, st = 0;
		char p[160], c;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		/* Into the new cgroup, open; back to the root, open again. */
		for (k = 0; k < 2 && !st; k++) {
			snprintf(p, sizeof(p), "%s/cgroup.procs", k ? mnt : dir);
			st = tt_write_str(p, "0");
			v->fd[k] = tt_open();
			if (!st && (v->fd[k] < 0 || tt_info(v->fd[k], &info)))
				st = -EBADF;
			v->id[k] = info.client_id;
		}
		report(self->rep[1], v->id[0], st);
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	r = get_report(_metadata, self->rep[0]);
	EXPECT_EQ(0, r.status) TH_LOG("child: %s", strerror(-r.status));

	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, v->id[0], TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(dir_ino, rows[i].cgroup_id) TH_LOG("opened in the new cgroup, now back in the root");
	i = find_row(rows, n, v->id[1], TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(root_ino, rows[i].cgroup_id);
	/* Ours: the cgroup /proc/self/cgroup names ("0::/path"). */
	ASSERT_LT(0, tt_read_str("/proc/self/cgroup", self_cg, sizeof(self_cg)));
	ASSERT_EQ(0, strncmp(self_cg, "0::", 3)) TH_LOG("%s", self_cg);
	self_cg[strcspn(self_cg, "\n")] = 0;
	snprintf(self_dir, sizeof(self_dir), "%s%s", mnt, self_cg + 3);
	i = find_row(rows, n, self->id1, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(path_ino(self_dir), rows[i].cgroup_id) TH_LOG("%s", self_dir);
	free(rows);
	ASSERT_EQ(0, read_fdinfo(self->kids[0], v->fd[0], text, sizeof(text)));
	EXPECT_EQ((long long)dir_ino, fdinfo_val(text, "tt_alloc-cgroup-id")) TH_LOG("%s", text);

	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	cg_remove(_metadata, mnt, dir);
	munmap(v, sizeof(*v));
}

/* What the child of owner_cgroup_namespace saw from inside its namespace. */
struct cgns_view {
	__u64 id;		/* its client id */
	__u64 row_cg;		/* its row's cgroup_id, listed from inside */
	__u64 ns_root;		/* inode of the root of a cgroup2 mount made inside */
	char proc_cg[64];	/* its /proc/self/cgroup, inside */
};

/*
 * The id is the same in every cgroup namespace (it is the cgroup's kernfs
 * inode), so a caller inside one resolves it against its own cgroup2 mount,
 * whose root is the namespace's root: the path relative to that root, as
 * item 7 of the container issue asks, without the ABI carrying a path.
 */
TEST_F(cl, owner_cgroup_namespace)
{
	struct cgns_view *v = mmap(NULL, sizeof(*v), PROT_READ | PROT_WRITE,
				   MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	char mnt[] = "/tmp/tt-cg.XXXXXX", inner[] = "/tmp/tt-cgns.XXXXXX";
	struct tt_alloc_client *rows;
	char dir[96];
	__u64 dir_ino;
	struct report r;
	int i;
	__u32 n;

	ASSERT_NE(MAP_FAILED, v);
	ASSERT_NE(NULL, mkdtemp(inner));
	cg_make(_metadata, mnt, dir, sizeof(dir), "tt-cgns");
	dir_ino = path_ino(dir);

	self->kids[0] = fork();
	ASSERT_LE(0, self->kids[0]);
	if (self->kids[0] == 0) {
		struct tt_alloc_client mine[64];
		struct tt_alloc_info info = { 0 };
		__u32 k, room = 64;
		char p[160], c;
		int fd, st;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		snprintf(p, sizeof(p), "%s/cgroup.procs", dir);
		st = tt_write_str(p, "0");
		/* A mount namespace too, so that the inner mount dies with us. */
		if (!st && (unshare(CLONE_NEWCGROUP | CLONE_NEWNS) ||
			    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
			    mount("none", inner, "cgroup2", 0, NULL)))
			st = -errno;
		if (!st && tt_read_str("/proc/self/cgroup", v->proc_cg, sizeof(v->proc_cg)) <= 0)
			st = -EIO;
		fd = st ? -1 : tt_open();
		if (!st && (fd < 0 || tt_info(fd, &info) || tt_clients(fd, mine, &room)))
			st = -EBADF;
		v->id = info.client_id;
		v->ns_root = path_ino(inner);
		for (k = 0; !st && k < room && k < 64; k++)
			if (mine[k].client_id == v->id)
				v->row_cg = mine[k].cgroup_id;
		report(self->rep[1], v->id, st);
		if (read(self->cmd[0], &c, 1) < 0)
			_exit(1);
		_exit(0);
	}
	r = get_report(_metadata, self->rep[0]);
	ASSERT_EQ(0, r.status) TH_LOG("child: %s", strerror(-r.status));

	EXPECT_STREQ("0::/\n", v->proc_cg) TH_LOG("inside its namespace, its cgroup is the root");
	EXPECT_EQ(dir_ino, v->ns_root) TH_LOG("a cgroup2 mount inside shows the namespace root");
	EXPECT_EQ(dir_ino, v->row_cg) TH_LOG("its row, listed from inside");
	n = list_all(_metadata, self->fd1, &rows);
	i = find_row(rows, n, v->id, TT_ALLOC_DEVICE_NONE, NULL);
	ASSERT_LE(0, i);
	EXPECT_EQ(dir_ino, rows[i].cgroup_id) TH_LOG("its row, listed from outside");
	free(rows);

	ASSERT_EQ(1, write(self->cmd[1], "x", 1));
	ASSERT_EQ(self->kids[0], waitpid(self->kids[0], NULL, 0));
	self->kids[0] = 0;
	cg_remove(_metadata, mnt, dir);
	EXPECT_EQ(0, rmdir(inner));
	munmap(v, sizeof(*v));
}

TEST_HARNESS_MAIN
