/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the tt_alloc selftests.
 *
 * Include after kselftest_harness.h: the helpers that take a
 * "struct __test_metadata *_metadata" use ASSERT_*()/EXPECT_*() themselves.
 *
 * Conventions: the ioctl wrappers return 0 or -errno, never -1, so tests
 * can write ASSERT_EQ(-EINVAL, tt_alloc(...)). Code running in a process
 * the test forked itself must not use ASSERT_*() (it would longjmp into
 * the harness of the wrong process): it reports through a pipe or shared
 * memory and _exit()s.
 */
#ifndef TT_ALLOC_TEST_H
#define TT_ALLOC_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <linux/tt_alloc.h>

#define TT_DEV_PATH	"/dev/tt_alloc"
#define TT_CLASS_DIR	"/sys/class/tt_alloc"
#define TT_PARAM_DIR	"/sys/module/tt_alloc/parameters"

/* Module defaults, as run-suite.sh loads it before each program. */
#define TT_DEF_DEVICES		8
#define TT_DEF_SWEEP_MS		5000
#define TT_DEF_MAX_PER_FILE	1048576
#define TT_DEF_MAX_BYTES	(1ULL << 44)

#define TT_NTYPES	TT_ALLOC_MEM_COUNT
#define TT_MAX_DEVS	64

#define TT_ARRAY_SIZE(a)	(sizeof(a) / sizeof((a)[0]))

#ifndef TT_ALLOC_MEM_NAMES
/*
 * abi_v1_test builds against the frozen v1 header (selftests/tt_alloc/
 * abi_v1), which predates the list: its names, frozen with it.
 */
#define TT_ALLOC_MEM_NAMES {						\
	[TT_ALLOC_MEM_DRAM] = "dram", [TT_ALLOC_MEM_L1] = "l1",		\
	[TT_ALLOC_MEM_SYSTEM] = "system", [TT_ALLOC_MEM_L1_SMALL] = "l1_small", \
	[TT_ALLOC_MEM_TRACE] = "trace", [TT_ALLOC_MEM_CB] = "cb",	\
	[TT_ALLOC_MEM_KERNEL] = "kernel",				\
}
#endif
static const char *const tt_type_name[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;

/* ------------------------------------------------------------------ */
/* ioctl wrappers                                                      */
/* ------------------------------------------------------------------ */

static inline int tt_ioctl(int fd, unsigned long cmd, void *arg)
{
	return ioctl(fd, cmd, arg) ? -errno : 0;
}

/* Open /dev/tt_alloc; waits a little for the node after a (re)load. */
static inline int tt_open(void)
{
	int i, fd = -1;

	for (i = 0; i < 200; i++) {
		fd = open(TT_DEV_PATH, O_RDWR | O_CLOEXEC);
		if (fd >= 0 || errno != ENOENT)
			break;
		usleep(10000);
	}
	return fd >= 0 ? fd : -errno;
}

static inline int tt_info(int fd, struct tt_alloc_info *info)
{
	memset(info, 0, sizeof(*info));
	return tt_ioctl(fd, TT_ALLOC_IOC_INFO, info);
}

static inline struct tt_alloc_buffer tt_buf(__u32 dev, __u32 type, __u64 id,
					    __u64 size, __u32 kind)
{
	struct tt_alloc_buffer b = {
		.device = dev, .type = type, .id = id, .size = size,
		.kind = kind, .flags = 0,
	};
	return b;
}

static inline int tt_alloc(int fd, __u32 dev, __u32 type, __u64 id,
			   __u64 size, __u32 kind)
{
	struct tt_alloc_buffer b = tt_buf(dev, type, id, size, kind);

	return tt_ioctl(fd, TT_ALLOC_IOC_ALLOC, &b);
}

static inline int tt_free(int fd, __u32 dev, __u32 type, __u64 id)
{
	struct tt_alloc_buffer b = tt_buf(dev, type, id, 0, 0);

	return tt_ioctl(fd, TT_ALLOC_IOC_FREE, &b);
}

static inline int tt_usage(int fd, __u32 dev, __u32 scope,
			   struct tt_alloc_usage *u)
{
	memset(u, 0, sizeof(*u));
	u->device = dev;
	u->scope = scope;
	return tt_ioctl(fd, TT_ALLOC_IOC_USAGE, u);
}

static inline struct tt_alloc_op tt_op(__u32 op, __u32 dev, __u32 type,
				       __u64 id, __u64 size, __u32 kind)
{
	struct tt_alloc_op o = {
		.op = op, .reserved = 0,
		.buf = tt_buf(dev, type, id, size, kind),
	};
	return o;
}

/* Runs a batch; *done gets the kernel's done (0xdeadbeef if not written). */
static inline int tt_batch(int fd, const struct tt_alloc_op *ops, __u32 count,
			   __u32 *done)
{
	struct tt_alloc_batch b = {
		.ops = (__u64)(uintptr_t)ops, .count = count, .done = 0xdeadbeef,
	};
	int ret = tt_ioctl(fd, TT_ALLOC_IOC_BATCH, &b);

	if (done)
		*done = b.done;
	return ret;
}

/* *count: in room, out rows that exist. */
static inline int tt_clients(int fd, struct tt_alloc_client *rows,
			     __u32 *count)
{
	struct tt_alloc_clients c = {
		.clients = (__u64)(uintptr_t)rows, .count = *count,
	};
	int ret;

#ifdef TT_ALLOC_CLIENT_SIZE_VER1
	/* This header's rows are longer than the first ones (abi_v1's are not). */
	c.row_size = sizeof(*rows);
#endif
	ret = tt_ioctl(fd, TT_ALLOC_IOC_CLIENTS, &c);
	*count = c.count;
	return ret;
}

/* Sum of used[] over the known types. */
static inline __u64 tt_sum(const __u64 *v)
{
	__u64 s = 0;
	int t;

	for (t = 0; t < TT_NTYPES; t++)
		s += v[t];
	return s;
}

/* ------------------------------------------------------------------ */
/* memory that faults                                                  */
/* ------------------------------------------------------------------ */

/* An address with nothing mapped at it. */
static inline void *tt_unmapped_addr(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p, pg);
	return p;
}

/*
 * Two pages, the second unmapped: returns the first; whatever crosses its
 * end faults.
 */
static inline void *tt_page_before_hole(void)
{
	long pg = sysconf(_SC_PAGESIZE);
	char *p = mmap(NULL, 2 * pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	munmap(p + pg, pg);
	memset(p, 0, pg);
	return p;
}

/* A read-only page holding a copy of len bytes of src. */
static inline void *tt_readonly_copy(const void *src, size_t len)
{
	long pg = sysconf(_SC_PAGESIZE);
	void *p = mmap(NULL, pg, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		return NULL;
	memcpy(p, src, len);
	if (mprotect(p, pg, PROT_READ)) {
		munmap(p, pg);
		return NULL;
	}
	return p;
}

/* ------------------------------------------------------------------ */
/* sysfs / procfs                                                      */
/* ------------------------------------------------------------------ */

/* Reads a whole small file; returns bytes read or -errno. NUL-terminates. */
static inline int tt_read_str(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n, off = 0;

	if (fd < 0)
		return -errno;
	while (off < (ssize_t)len - 1) {
		n = read(fd, buf + off, len - 1 - off);
		if (n < 0) {
			int e = errno;

			close(fd);
			return -e;
		}
		if (n == 0)
			break;
		off += n;
	}
	buf[off] = 0;
	close(fd);
	return off;
}

/* Reads a file that must hold exactly one decimal u64 and a newline. */
static inline int tt_read_u64(const char *path, __u64 *val)
{
	char buf[64], *end;
	int n = tt_read_str(path, buf, sizeof(buf));

	if (n < 0)
		return n;
	if (n < 2 || buf[n - 1] != '\n' || buf[0] < '0' || buf[0] > '9')
		return -EBADMSG;
	errno = 0;
	*val = strtoull(buf, &end, 10);
	if (errno || end != buf + n - 1)
		return -EBADMSG;
	return 0;
}

/* One write(2) of the string; 0 or -errno of the write. */
static inline int tt_write_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	ssize_t n;
	int e;

	if (fd < 0)
		return -errno;
	n = write(fd, s, strlen(s));
	e = errno;
	close(fd);
	if (n < 0)
		return -e;
	return n == (ssize_t)strlen(s) ? 0 : -EIO;
}

/* Path of a device attribute: type < 0 for device-level ones. */
static inline char *tt_attr_path(char *buf, size_t len, unsigned int dev,
				 int type, const char *attr)
{
	if (type < 0)
		snprintf(buf, len, TT_CLASS_DIR "/device%u/%s", dev, attr);
	else
		snprintf(buf, len, TT_CLASS_DIR "/device%u/%s/%s", dev,
			 tt_type_name[type], attr);
	return buf;
}

static inline int read_sysfs_u64(unsigned int dev, int type, const char *attr,
				 __u64 *val)
{
	char p[256];

	return tt_read_u64(tt_attr_path(p, sizeof(p), dev, type, attr), val);
}

static inline int write_sysfs(unsigned int dev, int type, const char *attr,
			      const char *s)
{
	char p[256];

	return tt_write_str(tt_attr_path(p, sizeof(p), dev, type, attr), s);
}

static inline int tt_param_read(const char *name, __u64 *val)
{
	char p[256];

	snprintf(p, sizeof(p), TT_PARAM_DIR "/%s", name);
	return tt_read_u64(p, val);
}

static inline int tt_param_write(const char *name, const char *s)
{
	char p[256];

	snprintf(p, sizeof(p), TT_PARAM_DIR "/%s", name);
	return tt_write_str(p, s);
}

/* Resets the peak of every type of a device to its current use. */
static inline int tt_reset_peaks(unsigned int dev)
{
	int t, r;

	for (t = 0; t < TT_NTYPES; t++) {
		r = write_sysfs(dev, t, "peak_bytes", "0");
		if (r)
			return r;
	}
	return 0;
}

/* /proc/self/comm without the newline. */
static inline void tt_self_comm(char *buf, size_t len)
{
	int n = tt_read_str("/proc/self/comm", buf, len);

	if (n > 0 && buf[n - 1] == '\n')
		buf[n - 1] = 0;
	if (n < 0)
		buf[0] = 0;
}

/* ------------------------------------------------------------------ */
/* module control                                                      */
/* ------------------------------------------------------------------ */

/* Runs a shell command, output to stderr; returns its exit status or -1. */
static inline __attribute__((format(printf, 1, 2)))
int tt_sh(const char *fmt, ...)
{
	char cmd[512], full[600];
	va_list ap;
	int st;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	snprintf(full, sizeof(full), "PATH=/sbin:/usr/sbin:/bin:/usr/bin:$PATH; %s 1>&2", cmd);
	fflush(stdout);
	fflush(stderr);
	st = system(full);
	if (st == -1 || !WIFEXITED(st))
		return -1;
	return WEXITSTATUS(st);
}

static inline bool tt_module_loaded(void)
{
	char line[256];
	bool found = false;
	FILE *f = fopen("/proc/modules", "re");

	if (!f)
		return false;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, "tt_alloc ", 9))
			found = true;
	fclose(f);
	return found;
}

/* Unloads tt_alloc if loaded; returns rmmod's status (0 if not loaded). */
static inline int tt_unload(void)
{
	if (!tt_module_loaded())
		return 0;
	return tt_sh("rmmod tt_alloc");
}

/*
 * Loads tt_alloc with the given parameters ("" for defaults); returns
 * modprobe's exit status. On success waits for /dev/tt_alloc.
 */
static inline int tt_load(const char *params)
{
	int st = tt_sh("modprobe tt_alloc %s", params);
	int i;

	if (st == 0) {
		for (i = 0; i < 200 && access(TT_DEV_PATH, F_OK); i++)
			usleep(10000);
	}
	return st;
}

static inline int tt_reload(const char *params)
{
	int st = tt_unload();

	if (st)
		return 100 + st;
	return tt_load(params);
}

/* ------------------------------------------------------------------ */
/* kernel log                                                          */
/* ------------------------------------------------------------------ */

/* /dev/kmsg past its last record: what the kernel logs from now on. */
static inline int tt_kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0 && lseek(fd, 0, SEEK_END) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

/*
 * The next record of @fd ("prio,seq,ts,flags;message") into @buf,
 * NUL-terminated; records the ring overwrote before they were read are
 * skipped. Returns its length, 0 when there is none.
 */
static inline ssize_t tt_kmsg_next(int fd, char *buf, size_t len)
{
	ssize_t n;

	do
		n = read(fd, buf, len - 1);
	while (n < 0 && errno == EPIPE);
	if (n <= 0)
		return 0;
	buf[n] = 0;
	return n;
}

/* ------------------------------------------------------------------ */
/* time                                                                */
/* ------------------------------------------------------------------ */

static inline __u64 tt_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ------------------------------------------------------------------ */
/* child processes                                                     */
/* ------------------------------------------------------------------ */

static inline int tt_read_full(int fd, void *buf, size_t len)
{
	char *p = buf;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = read(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

static inline int tt_write_full(int fd, const void *buf, size_t len)
{
	const char *p = buf;
	size_t off = 0;
	ssize_t n;

	while (off < len) {
		n = write(fd, p + off, len - off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		off += n;
	}
	return 0;
}

/* SIGKILLs and reaps a child if pid > 0; sets *pid to 0. */
static inline void tt_kill_reap(pid_t *pid)
{
	if (*pid > 0) {
		kill(*pid, SIGKILL);
		waitpid(*pid, NULL, 0);
	}
	*pid = 0;
}

/* ------------------------------------------------------------------ */
/* counter snapshots (use ASSERT_*)                                    */
/* ------------------------------------------------------------------ */

/*
 * Devices whose sysfs files tt_snapshot() reads (bit N: device N). Opening
 * sysfs files is slow under KASAN/kmemleak in TCG, so a program that
 * snapshots all devices around every call (ioctl_test) limits it to the
 * devices it records on; for the others the sysfs fields mirror USAGE and
 * the device-level sysfs values (system_bytes, clients, reclaimed_*) are
 * neither read nor compared.
 */
static unsigned long long tt_sysfs_mask = ~0ULL;

/* Everything the module counts for one device, USAGE and sysfs. */
struct tt_dev_state {
	__u64 used[TT_ALLOC_MEM_MAX];		/* USAGE device scope */
	__u64 allocs[TT_ALLOC_MEM_MAX];
	__u64 f_used[TT_ALLOC_MEM_MAX];		/* USAGE file scope */
	__u64 f_allocs[TT_ALLOC_MEM_MAX];
	__u64 s_used[TT_NTYPES];		/* sysfs */
	__u64 s_allocs[TT_NTYPES];
	__u64 system_bytes;
	__u64 clients;
	__u64 reclaimed_bytes;
	__u64 reclaimed_allocs;
};

/*
 * Reads USAGE (both scopes, through fd) and sysfs for dev, and checks the
 * invariants that hold at any time: slot 7 is 0, file scope has no peak or
 * capacity, sysfs agrees with USAGE device scope.
 */
static inline void tt_snapshot(struct __test_metadata *_metadata, int fd,
			       unsigned int dev, struct tt_dev_state *st)
{
	struct tt_alloc_usage u, f;
	int t;

	memset(st, 0, sizeof(*st));
	ASSERT_EQ(0, tt_usage(fd, dev, TT_ALLOC_SCOPE_DEVICE, &u))
		TH_LOG("USAGE device scope of device %u", dev);
	ASSERT_EQ(0, tt_usage(fd, dev, TT_ALLOC_SCOPE_FILE, &f))
		TH_LOG("USAGE file scope of device %u", dev);
	memcpy(st->used, u.used, sizeof(st->used));
	memcpy(st->allocs, u.allocations, sizeof(st->allocs));
	memcpy(st->f_used, f.used, sizeof(st->f_used));
	memcpy(st->f_allocs, f.allocations, sizeof(st->f_allocs));

	EXPECT_EQ(0, u.used[TT_ALLOC_MEM_MAX - 1]);
	EXPECT_EQ(0, u.allocations[TT_ALLOC_MEM_MAX - 1]);
	EXPECT_EQ(0, u.peak[TT_ALLOC_MEM_MAX - 1]);
	EXPECT_EQ(0, u.capacity[TT_ALLOC_MEM_MAX - 1]);
	EXPECT_EQ(0, f.used[TT_ALLOC_MEM_MAX - 1]);
	EXPECT_EQ(0, f.allocations[TT_ALLOC_MEM_MAX - 1]);
	for (t = 0; t < TT_ALLOC_MEM_MAX; t++) {
		EXPECT_EQ(0, f.peak[t]) TH_LOG("file-scope peak, dev %u type %d", dev, t);
		EXPECT_EQ(0, f.capacity[t]) TH_LOG("file-scope capacity, dev %u type %d", dev, t);
	}
	/* Echoed fields are not changed by the kernel. */
	EXPECT_EQ(dev, u.device);
	EXPECT_EQ(TT_ALLOC_SCOPE_DEVICE, u.scope);
	EXPECT_EQ(dev, f.device);
	EXPECT_EQ(TT_ALLOC_SCOPE_FILE, f.scope);

	if (!(tt_sysfs_mask & (1ULL << (dev % 64)))) {
		memcpy(st->s_used, st->used, sizeof(st->s_used));
		memcpy(st->s_allocs, st->allocs, sizeof(st->s_allocs));
		return;
	}
	for (t = 0; t < TT_NTYPES; t++) {
		ASSERT_EQ(0, read_sysfs_u64(dev, t, "used_bytes", &st->s_used[t]))
			TH_LOG("sysfs device%u/%s/used_bytes", dev, tt_type_name[t]);
		ASSERT_EQ(0, read_sysfs_u64(dev, t, "allocations", &st->s_allocs[t]))
			TH_LOG("sysfs device%u/%s/allocations", dev, tt_type_name[t]);
		EXPECT_EQ(st->used[t], st->s_used[t])
			TH_LOG("sysfs vs USAGE used, dev %u type %s", dev, tt_type_name[t]);
		EXPECT_EQ(st->allocs[t], st->s_allocs[t])
			TH_LOG("sysfs vs USAGE allocations, dev %u type %s", dev, tt_type_name[t]);
	}
	ASSERT_EQ(0, read_sysfs_u64(dev, TT_ALLOC_MEM_KERNEL, "system_bytes", &st->system_bytes));
	ASSERT_EQ(0, read_sysfs_u64(dev, -1, "clients", &st->clients));
	ASSERT_EQ(0, read_sysfs_u64(dev, -1, "reclaimed_bytes", &st->reclaimed_bytes));
	ASSERT_EQ(0, read_sysfs_u64(dev, -1, "reclaimed_allocations", &st->reclaimed_allocs));
}

/* Device-scope and sysfs counters of a and b are equal (file scope not compared). */
static inline void tt_assert_dev_counters_eq(struct __test_metadata *_metadata,
					     unsigned int dev,
					     const struct tt_dev_state *exp,
					     const struct tt_dev_state *got)
{
	int t;

	for (t = 0; t < TT_NTYPES; t++) {
		EXPECT_EQ(exp->used[t], got->used[t])
			TH_LOG("device %u type %s: used", dev, tt_type_name[t]);
		EXPECT_EQ(exp->allocs[t], got->allocs[t])
			TH_LOG("device %u type %s: allocations", dev, tt_type_name[t]);
		EXPECT_EQ(exp->s_used[t], got->s_used[t])
			TH_LOG("device %u type %s: sysfs used_bytes", dev, tt_type_name[t]);
		EXPECT_EQ(exp->s_allocs[t], got->s_allocs[t])
			TH_LOG("device %u type %s: sysfs allocations", dev, tt_type_name[t]);
	}
	if (tt_sysfs_mask & (1ULL << (dev % 64))) {
		EXPECT_EQ(exp->system_bytes, got->system_bytes)
			TH_LOG("device %u: kernel/system_bytes", dev);
		EXPECT_EQ(exp->clients, got->clients) TH_LOG("device %u: clients", dev);
	}
	ASSERT_EQ(0, _metadata->exit_code);
}

/* Everything in a and b equal, file scope included. */
static inline void tt_assert_state_eq(struct __test_metadata *_metadata,
				      unsigned int dev,
				      const struct tt_dev_state *exp,
				      const struct tt_dev_state *got)
{
	int t;

	for (t = 0; t < TT_NTYPES; t++) {
		EXPECT_EQ(exp->f_used[t], got->f_used[t])
			TH_LOG("device %u type %s: file-scope used", dev, tt_type_name[t]);
		EXPECT_EQ(exp->f_allocs[t], got->f_allocs[t])
			TH_LOG("device %u type %s: file-scope allocations", dev, tt_type_name[t]);
	}
	if (tt_sysfs_mask & (1ULL << (dev % 64))) {
		EXPECT_EQ(exp->reclaimed_bytes, got->reclaimed_bytes)
			TH_LOG("device %u: reclaimed_bytes", dev);
		EXPECT_EQ(exp->reclaimed_allocs, got->reclaimed_allocs)
			TH_LOG("device %u: reclaimed_allocations", dev);
	}
	tt_assert_dev_counters_eq(_metadata, dev, exp, got);
}

/* Number of devices, from INFO. */
static inline __u32 tt_ndev(struct __test_metadata *_metadata, int fd)
{
	struct tt_alloc_info info;

	ASSERT_EQ(0, tt_info(fd, &info));
	ASSERT_GE(TT_MAX_DEVS, info.num_devices);
	return info.num_devices;
}

/* Snapshots every device into st[] (TT_MAX_DEVS of them); returns count. */
static inline __u32 tt_snapshot_all(struct __test_metadata *_metadata, int fd,
				    struct tt_dev_state *st)
{
	__u32 n = tt_ndev(_metadata, fd), d;

	for (d = 0; d < n; d++)
		tt_snapshot(_metadata, fd, d, &st[d]);
	return n;
}

/* Every device's state (read through fd) equals exp[]. */
static inline void tt_assert_state_all(struct __test_metadata *_metadata, int fd,
				       const struct tt_dev_state *exp)
{
	static struct tt_dev_state now[TT_MAX_DEVS];
	__u32 n = tt_snapshot_all(_metadata, fd, now), d;

	for (d = 0; d < n; d++)
		tt_assert_state_eq(_metadata, d, &exp[d], &now[d]);
}

/* Nothing changed on any device since before[] was taken through fd. */
static inline void tt_assert_unchanged(struct __test_metadata *_metadata, int fd,
				       const struct tt_dev_state *before)
{
	tt_assert_state_all(_metadata, fd, before);
}

/*
 * Adds bytes/entries of one type to an expected state. own_file: the
 * change is made through the file the state is read with (file scope and
 * the device's clients count follow); otherwise the caller adjusts
 * clients. KERNEL entries of kind FABRIC/DISPATCH: caller adjusts
 * system_bytes.
 */
static inline void tt_state_add(struct tt_dev_state *st, int type, __s64 bytes,
				__s64 entries, bool own_file)
{
	__u64 before = tt_sum(st->f_allocs);

	st->used[type] += bytes;
	st->s_used[type] += bytes;
	st->allocs[type] += entries;
	st->s_allocs[type] += entries;
	if (own_file) {
		__u64 after;

		st->f_used[type] += bytes;
		st->f_allocs[type] += entries;
		after = tt_sum(st->f_allocs);
		if (!before && after)
			st->clients++;
		else if (before && !after)
			st->clients--;
	}
}

#endif /* TT_ALLOC_TEST_H */
