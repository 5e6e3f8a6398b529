// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test of libttalloc against the real module (loaded with defaults,
 * run as root). Every library call, the no-op contract checked with a raw
 * ioctl, the batch queue and its automatic flush, thread safety. TAP.
 */
#include <errno.h>
#include <stddef.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "tt_alloc/libttalloc.h"
#include "../tap.h"

/*
 * libttalloc 1.0's tt_alloc_get_clients(), as a program linked before the
 * rows grew calls it: rows of the first size. Bound to the old symbol
 * version by name.
 */
int tt_get_clients_1_0(struct tt_alloc_ctx *ctx, void **rows, size_t *count);
__asm__(".symver tt_get_clients_1_0, tt_alloc_get_clients@TTALLOC_1");

/*
 * Our cgroup v2 cgroup id: the inode of our directory under the cgroup2
 * mount /sys/fs/cgroup; 0 when cgroup2 is not mounted there.
 */
static uint64_t own_cgroup_ino(void)
{
	char line[512], path[600];
	struct statfs sfs;
	struct stat st;
	FILE *f;
	uint64_t ino = 0;

	if (statfs("/sys/fs/cgroup", &sfs) || sfs.f_type != CGROUP2_SUPER_MAGIC)
		return 0;
	f = fopen("/proc/self/cgroup", "r");

	while (f && fgets(line, sizeof(line), f))
		if (!strncmp(line, "0::", 3)) {
			line[strcspn(line, "\n")] = 0;
			snprintf(path, sizeof(path), "/sys/fs/cgroup%s", line + 3);
			if (!stat(path, &st))
				ino = st.st_ino;
		}
	if (f)
		fclose(f);
	return ino;
}

static const char *devpath(void)
{
	const char *p = getenv("TT_ALLOC_DEVICE");

	return p && *p ? p : "/dev/tt_alloc";
}

/* Device-scope USAGE through a raw ioctl on a fresh read-only fd. */
static int raw_usage(uint32_t dev, struct tt_alloc_usage *u)
{
	int fd = open(devpath(), O_RDONLY | O_CLOEXEC), ret;

	if (fd < 0)
		return -errno;
	memset(u, 0, sizeof(*u));
	u->device = dev;
	u->scope = TT_ALLOC_SCOPE_DEVICE;
	ret = ioctl(fd, TT_ALLOC_IOC_USAGE, u) < 0 ? -errno : 0;
	close(fd);
	return ret;
}

static uint64_t total_used(const struct tt_alloc_usage *u)
{
	uint64_t s = 0;
	int t;

	for (t = 0; t < TT_ALLOC_MEM_MAX; t++)
		s += u->used[t] + u->allocations[t];
	return s;
}

static long long read_sysfs_u64(const char *path)
{
	FILE *f = fopen(path, "r");
	long long v = -1;

	if (!f)
		return -1;
	if (fscanf(f, "%lld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

struct thr {
	struct tt_alloc_ctx *ctx;
	int idx, errors;
};

#define PER_THREAD 1000

/*
 * More rows than one CLIENTS call returns (TT_ALLOC_CLIENTS_MAX): raw
 * files holding an entry on every device, ROWS rows in all (8,250 files
 * on the 8 devices of the default load). tt_alloc_get_clients() and
 * tt-alloc-smi --json must show every row. Few files with many rows each:
 * open() and close() are most of the cost on a debug kernel.
 */
#define ROWS	(TT_ALLOC_CLIENTS_MAX + 464)

static void many_clients(void)
{
	struct tt_alloc_buffer b = { .type = TT_ALLOC_MEM_DRAM, .id = 1, .size = 1 };
	struct tt_alloc_client *rows = NULL;
	struct tt_alloc_ctx *mon = NULL;
	struct tt_alloc_info info;
	struct rlimit rl;
	uint64_t first = 0, mine = 0, smi_rows = 0, want;
	size_t count = 0, i, nfiles;
	int *fds = NULL, ok_open = 1, ret, fd;
	char cmd[512], buf[4096];
	const char *p;
	uint32_t d;
	FILE *f;

	fd = open(devpath(), O_RDONLY | O_CLOEXEC);
	if (fd < 0 || ioctl(fd, TT_ALLOC_IOC_INFO, &info) || !info.num_devices) {
		ok(0, "many clients: INFO (%s)", strerror(errno));
		if (fd >= 0)
			close(fd);
		return;
	}
	close(fd);
	nfiles = (ROWS + info.num_devices - 1) / info.num_devices;
	want = (uint64_t)nfiles * info.num_devices;
	rl.rlim_cur = rl.rlim_max = nfiles + 256;
	fds = calloc(nfiles, sizeof(*fds));
	if (!fds || setrlimit(RLIMIT_NOFILE, &rl)) {
		ok(0, "many clients: setup (%s)", strerror(errno));
		free(fds);
		return;
	}
	for (i = 0; i < nfiles; i++) {
		fds[i] = open(devpath(), O_RDWR | O_CLOEXEC);
		if (fds[i] < 0) {
			ok_open = 0;
			continue;
		}
		for (d = 0; d < info.num_devices; d++) {
			b.device = d;
			if (ioctl(fds[i], TT_ALLOC_IOC_ALLOC, &b))
				ok_open = 0;
		}
		if (!i && !ioctl(fds[i], TT_ALLOC_IOC_INFO, &info))
			first = info.client_id;
	}
	ok(ok_open, "many clients: %zu files with an entry on each of %u devices",
	   nfiles, info.num_devices);
	ret = tt_alloc_open_ex(NULL, TT_ALLOC_OPEN_MONITOR, &mon);
	if (!ret)
		ret = tt_alloc_get_clients(mon, &rows, &count);
	for (i = 0; i < count; i++)
		mine += rows[i].client_id >= first && rows[i].client_id < first + nfiles;
	ok(ret == 0 && mine == want && count > TT_ALLOC_CLIENTS_MAX,
	   "tt_alloc_get_clients() returns all %llu rows, more than one call holds (%llu of %zu, %d)",
	   (unsigned long long)want, (unsigned long long)mine, count, ret);
	tt_alloc_clients_free(rows);
	tt_alloc_close(mon);

	p = getenv("TT_ALLOC_SMI");
	snprintf(cmd, sizeof(cmd), "%s --json", p && *p ? p : "/opt/tt_alloc/bin/tt-alloc-smi");
	f = popen(cmd, "r");
	while (f && fgets(buf, sizeof(buf), f))
		for (p = buf; (p = strstr(p, "\"client_id\": ")); p++)
			smi_rows++;
	ret = f ? pclose(f) : -1;
	ok(ret == 0 && smi_rows >= want, "tt-alloc-smi --json shows every row (%llu)",
	   (unsigned long long)smi_rows);

	for (i = 0; i < nfiles; i++)
		if (fds[i] >= 0)
			close(fds[i]);
	free(fds);
}

static int log_calls, log_level;
static char log_msg[512];

static void on_log(int level, const char *msg, void *arg)
{
	(void)arg;
	log_calls++;
	log_level = level;
	snprintf(log_msg, sizeof(log_msg), "%s", msg);
}

static int cb_calls, cb_err;
static uint64_t cb_id;

static void on_error(struct tt_alloc_ctx *ctx, const struct tt_alloc_op *op, int err, void *arg)
{
	(void)ctx;
	(void)arg;
	cb_calls++;
	cb_id = op->buf.id;
	cb_err = err;
}

static uint64_t file_entries(struct tt_alloc_ctx *ctx, uint32_t type)
{
	struct tt_alloc_usage u;

	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	return u.allocations[type];
}

/* The runtime goes idle with records queued: they still reach the kernel. */
static void idle_flush(struct tt_alloc_ctx *ctx)
{
	struct timespec t0, t1, nap = { 0, 5 * 1000 * 1000 };
	long ms;
	int i;

	ok(tt_alloc_set_flush_delay(ctx, 50) == 0, "flush delay 50 ms");
	clock_gettime(CLOCK_MONOTONIC, &t0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1_SMALL, 0x77, 4096, 0);
	/* Up to 20 s: TCG on a loaded host is slow; the point is "it comes". */
	for (i = 0; i < 4000 && file_entries(ctx, TT_ALLOC_MEM_L1_SMALL) != 1; i++)
		nanosleep(&nap, NULL);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
	ok(file_entries(ctx, TT_ALLOC_MEM_L1_SMALL) == 1 && tt_alloc_queued(ctx) == 0,
	   "idle: the queued record reached the kernel without a flush call");
	printf("# idle flush after %ld ms (delay 50 ms)\n", ms);
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_L1_SMALL, 0x77);

	ok(tt_alloc_set_flush_delay(ctx, 0) == 0, "flush delay 0: off");
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1_SMALL, 0x78, 4096, 0);
	nap.tv_nsec = 300 * 1000 * 1000;
	nanosleep(&nap, NULL);
	ok(tt_alloc_queued(ctx) == 1 && file_entries(ctx, TT_ALLOC_MEM_L1_SMALL) == 0,
	   "delay off: the record waits in the queue");
	tt_alloc_flush(ctx, NULL);
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_L1_SMALL, 0x78);
	tt_alloc_set_flush_delay(ctx, TT_ALLOC_FLUSH_DELAY_DEFAULT_MS);
}

/* A fork() child must not send the parent's queue into the shared file. */
static void fork_child(struct tt_alloc_ctx *ctx)
{
	int status = -1;
	pid_t pid;

	tt_alloc_set_flush_delay(ctx, 3600 * 1000);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 0x10, 4096, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 0x11, 4096, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 0x12, 4096, 0);
	fflush(stdout);
	pid = fork();
	if (pid == 0) {
		int bad = tt_alloc_enabled(ctx) ||
			tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_TRACE, 0x13, 4096, 0) ||
			tt_alloc_flush(ctx, NULL) || tt_alloc_close(ctx);

		_exit(bad);
	}
	if (pid > 0)
		waitpid(pid, &status, 0);
	ok(pid > 0 && WIFEXITED(status) && WEXITSTATUS(status) == 0,
	   "fork child: the inherited context is a no-op and closes cleanly");
	ok(file_entries(ctx, TT_ALLOC_MEM_TRACE) == 0 && tt_alloc_queued(ctx) == 3,
	   "the child sent none of the parent's queued records into the shared file");
	ok(tt_alloc_flush(ctx, NULL) == 0 && file_entries(ctx, TT_ALLOC_MEM_TRACE) == 3,
	   "the parent's flush applies its 3 records");
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_TRACE, 0x10);
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_TRACE, 0x11);
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_TRACE, 0x12);
	tt_alloc_set_flush_delay(ctx, TT_ALLOC_FLUSH_DELAY_DEFAULT_MS);
}

static void *thr_fn(void *arg)
{
	struct thr *t = arg;
	int i;

	for (i = 0; i < PER_THREAD; i++)
		if (tt_alloc_queue_record(t->ctx, 0, TT_ALLOC_MEM_L1,
					  ((uint64_t)t->idx << 32) | (uint64_t)i, 128, 0))
			t->errors++;
	for (i = 0; i < PER_THREAD; i += 2)
		if (tt_alloc_free(t->ctx, 0, TT_ALLOC_MEM_L1, 0) != -ENOENT)
			t->errors++;	/* single ioctls run concurrently, unlocked */
	return NULL;
}

int main(void)
{
	struct tt_alloc_ctx *ctx = NULL, *ctx2 = NULL;
	struct tt_alloc_info info;
	struct tt_alloc_usage u, base, after;
	struct tt_alloc_client *rows = NULL;
	size_t count = 0, i;
	uint32_t done = 99;
	int ret, found;
	pthread_t th[4];
	struct thr td[4];
	long long sys0;

	unsetenv("TT_ALLOC_BATCH_SIZE");
	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);

	ok(raw_usage(0, &base) == 0, "raw USAGE of device 0 works");
	tt_alloc_set_log_callback(on_log, NULL);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && tt_alloc_enabled(ctx) && tt_alloc_fd(ctx) >= 0, "open with TT_ALLOC_TRACKING_ENABLED=1 tracks");
	ok(log_calls == 0, "the module speaks this library's version: no log message");

	ret = tt_alloc_get_info(ctx, &info);
	ok(ret == 0 && info.api_version == TT_ALLOC_API_VERSION && info.num_devices >= 1 &&
	   info.num_mem_types == TT_ALLOC_MEM_COUNT, "info: api %u, %u devices, %u types",
	   info.api_version, info.num_devices, info.num_mem_types);

	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000, 1 << 20, 0);
	ok(ret == 0, "record 1 MiB DRAM");
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(u.used[TT_ALLOC_MEM_DRAM] == 1 << 20 && u.allocations[TT_ALLOC_MEM_DRAM] == 1,
	   "file usage: 1 MiB in 1 DRAM entry");
	raw_usage(0, &after);
	ok(after.used[TT_ALLOC_MEM_DRAM] == base.used[TT_ALLOC_MEM_DRAM] + (1 << 20),
	   "device usage (raw ioctl) grew by 1 MiB");
	ret = tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_DEVICE, &u);
	ok(ret == 0 && u.used[TT_ALLOC_MEM_DRAM] == after.used[TT_ALLOC_MEM_DRAM],
	   "device usage through the library matches");

	ok(tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000, 1 << 20, 0) == 0,
	   "record of the same key and size takes a reference");
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(u.used[TT_ALLOC_MEM_DRAM] == 1 << 20 && u.allocations[TT_ALLOC_MEM_DRAM] == 1,
	   "a second reference changes no counter");
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000, 2 << 20, 0);
	ok(ret == -EEXIST, "same key, other size: -EEXIST (%d: %s)", ret, tt_alloc_strerror(ret));
	ok(tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000) == 0, "free drops one reference");
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(u.used[TT_ALLOC_MEM_DRAM] == 1 << 20, "still recorded after the first free");
	ok(tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000) == 0, "free the last reference");
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(u.used[TT_ALLOC_MEM_DRAM] == 0 && u.allocations[TT_ALLOC_MEM_DRAM] == 0, "gone after the last free");
	ret = tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000);
	ok(ret == -ENOENT, "free of an unknown key: -ENOENT (%d)", ret);

	ret = tt_alloc_record(ctx, info.num_devices, TT_ALLOC_MEM_DRAM, 1, 1, 0);
	ok(ret == -ENODEV, "record on device %u: -ENODEV (%d)", info.num_devices, ret);
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_COUNT, 1, 1, 0);
	ok(ret == -EINVAL, "record of type %d: -EINVAL (%d)", TT_ALLOC_MEM_COUNT, ret);
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 1, 0, 0);
	ok(ret == -EINVAL, "record of size 0: -EINVAL (%d)", ret);
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 1, 1, TT_ALLOC_KERNEL_FABRIC);
	ok(ret == -EINVAL, "kind on a DRAM buffer: -EINVAL (%d)", ret);
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_KERNEL, 1, 1, 7);
	ok(ret == -EINVAL, "unknown kernel kind: -EINVAL (%d)", ret);
	ret = tt_alloc_get_usage(ctx, 0, 7, &u);
	ok(ret == -EINVAL, "usage with a bad scope: -EINVAL (%d)", ret);
	ret = tt_alloc_get_usage(ctx, info.num_devices, TT_ALLOC_SCOPE_DEVICE, &u);
	ok(ret == -ENODEV, "usage of a missing device: -ENODEV (%d)", ret);

	sys0 = read_sysfs_u64("/sys/class/tt_alloc/device0/kernel/system_bytes");
	ret = tt_alloc_record(ctx, 0, TT_ALLOC_MEM_KERNEL, 0xf000, 56 << 10, TT_ALLOC_KERNEL_FABRIC);
	ok(ret == 0, "record a 56 KiB fabric kernel");
	ok(read_sysfs_u64("/sys/class/tt_alloc/device0/kernel/system_bytes") == sys0 + (56 << 10),
	   "sysfs kernel/system_bytes grew by 56 KiB");

	ret = tt_alloc_get_clients(ctx, &rows, &count);
	found = 0;
	for (i = 0; i < count; i++)
		if (rows[i].pid == (uint32_t)getpid() && rows[i].device == 0 &&
		    rows[i].client_id == info.client_id &&
		    rows[i].used[TT_ALLOC_MEM_KERNEL] == 56 << 10 &&
		    !strncmp((const char *)rows[i].comm, "tt-alloc-lib-te", 15))
			found = 1;
	ok(ret == 0 && found, "clients lists this process (pid, comm, client id, kernel bytes)");
	found = -1;
	for (i = 0; i < count; i++)
		if (rows[i].client_id == info.client_id && rows[i].device == 0)
			found = (int)i;
	ok(found >= 0 && (tt_alloc_features(ctx) & TT_ALLOC_FEATURE_CLIENT_OWNER) &&
	   rows[found].uid == getuid() && rows[found].cgroup_id &&
	   (!own_cgroup_ino() || rows[found].cgroup_id == own_cgroup_ino()),
	   "our row says whose: uid %u, cgroup %llu (/sys/fs/cgroup: %llu)",
	   found >= 0 ? rows[found].uid : 0,
	   found >= 0 ? (unsigned long long)rows[found].cgroup_id : 0ULL,
	   (unsigned long long)own_cgroup_ino());
	{
		unsigned char *old = NULL;
		size_t n_old = 0, j;
		int same = 1, r1;

		r1 = tt_get_clients_1_0(ctx, (void **)&old, &n_old);
		/* Same rows, the first TT_ALLOC_CLIENT_SIZE_VER0 bytes of each. */
		for (j = 0; r1 == 0 && j < n_old && j < count; j++)
			if (memcmp(old + j * TT_ALLOC_CLIENT_SIZE_VER0, &rows[j],
				   offsetof(struct tt_alloc_client, used)))
				same = 0;
		ok(r1 == 0 && n_old == count && same,
		   "tt_alloc_get_clients@TTALLOC_1 (libttalloc 1.0) gives the same %zu rows, %d bytes apart",
		   n_old, TT_ALLOC_CLIENT_SIZE_VER0);
		tt_alloc_clients_free((struct tt_alloc_client *)(void *)old);
	}
	tt_alloc_clients_free(rows);
	ok(tt_alloc_free(ctx, 0, TT_ALLOC_MEM_KERNEL, 0xf000) == 0, "free the kernel");

	/* batch queue */
	ok(tt_alloc_set_batch_size(ctx, 4) == 0 && tt_alloc_batch_size(ctx) == 4, "batch size 4");
	for (i = 0; i < 3; i++)
		tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_CB, 0x100 + i, 4096, 0);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(tt_alloc_queued(ctx) == 3 && u.allocations[TT_ALLOC_MEM_CB] == 0,
	   "3 queued operations are not applied yet");
	ret = tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_CB, 0x103, 4096, 0);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == 0 && tt_alloc_queued(ctx) == 0 && u.allocations[TT_ALLOC_MEM_CB] == 4 &&
	   u.used[TT_ALLOC_MEM_CB] == 4 * 4096, "the 4th queued operation flushes the batch");
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_CB, 0x100);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_CB, 0x101);
	ret = tt_alloc_flush(ctx, &done);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == 0 && done == 2 && u.allocations[TT_ALLOC_MEM_CB] == 2, "explicit flush: done 2");
	tt_alloc_set_error_callback(ctx, on_error, NULL);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_CB, 0x200, 4096, 0);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_CB, 0x999);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_CB, 0x201, 4096, 0);
	ret = tt_alloc_flush(ctx, &done);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == -ENOENT && done == 2 && tt_alloc_queued(ctx) == 0 && u.allocations[TT_ALLOC_MEM_CB] == 4,
	   "failing op in a batch: -ENOENT, only it skipped, the op after it applied (ret %d done %u)", ret, done);
	ok(tt_alloc_error_count(ctx) == 1 && tt_alloc_last_error(ctx) == -ENOENT,
	   "error count 1, last error -ENOENT");
	ok(cb_calls == 1 && cb_id == 0x999 && cb_err == -ENOENT, "error callback got the failed op");
	ok(tt_alloc_flush(ctx, &done) == 0 && done == 0, "flush of an empty queue");
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_CB, 0x102);
	tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_CB, 0x103);
	ok(tt_alloc_set_batch_size(ctx, 1) == 0 && tt_alloc_queued(ctx) == 0,
	   "lowering the batch size below the queue flushes it");
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_CB, 0x200);
	tt_alloc_free(ctx, 0, TT_ALLOC_MEM_CB, 0x201);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(total_used(&u) == 0, "file holds nothing");

	/* one -EEXIST among many: the other records are all kept */
	tt_alloc_set_batch_size(ctx, 0);
	tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 500, 4096, 0);
	for (i = 0; i < 1000; i++)
		tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, i, i == 500 ? 8192 : 4096, 0);
	ret = tt_alloc_flush(ctx, &done);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == -EEXIST && done == 999 && u.allocations[TT_ALLOC_MEM_DRAM] == 1000 &&
	   tt_alloc_error_count(ctx) == 2 && cb_id == 500,
	   "one -EEXIST in 1000 queued records: the 999 others applied (%u, %llu entries)", done,
	   (unsigned long long)u.allocations[TT_ALLOC_MEM_DRAM]);
	for (i = 0; i < 1000; i++)
		tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_DRAM, i);
	ret = tt_alloc_flush(ctx, &done);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == 0 && done == 1000 && total_used(&u) == 0, "and all freed again");
	tt_alloc_set_error_callback(ctx, NULL, NULL);

	ok(tt_alloc_features(ctx) == (TT_ALLOC_FEATURE_CLIENTS_CURSOR | TT_ALLOC_FEATURE_ELEM_SIZE |
	    TT_ALLOC_FEATURE_CLIENT_OWNER),
	   "features in use: the clients cursor, the element sizes, the client owner");

	idle_flush(ctx);
	fork_child(ctx);

	/* threads */
	tt_alloc_set_batch_size(ctx, 100);
	for (i = 0; i < 4; i++) {
		td[i].ctx = ctx;
		td[i].idx = (int)i + 1;
		td[i].errors = 0;
		pthread_create(&th[i], NULL, thr_fn, &td[i]);
	}
	for (i = 0; i < 4; i++)
		pthread_join(th[i], NULL);
	ret = tt_alloc_flush(ctx, NULL);
	tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_FILE, &u);
	ok(ret == 0 && !td[0].errors && !td[1].errors && !td[2].errors && !td[3].errors &&
	   u.allocations[TT_ALLOC_MEM_L1] == 4 * PER_THREAD && u.used[TT_ALLOC_MEM_L1] == 4 * PER_THREAD * 128,
	   "4 threads queued %d records each, all applied (%llu)", PER_THREAD,
	   (unsigned long long)u.allocations[TT_ALLOC_MEM_L1]);

	/* a second context, closed: its entries come back */
	tt_alloc_open(&ctx2);
	tt_alloc_record(ctx2, 0, TT_ALLOC_MEM_TRACE, 1, 8 << 20, 0);
	tt_alloc_queue_record(ctx2, 0, TT_ALLOC_MEM_TRACE, 2, 8 << 20, 0);
	raw_usage(0, &u);
	ok(u.used[TT_ALLOC_MEM_TRACE] == base.used[TT_ALLOC_MEM_TRACE] + (8 << 20), "second context: 8 MiB TRACE, 8 MiB queued");
	ok(tt_alloc_close(ctx2) == 0, "close flushes the queue");
	raw_usage(0, &u);
	ok(u.used[TT_ALLOC_MEM_TRACE] == base.used[TT_ALLOC_MEM_TRACE], "closing the second context released its entries");

	ok(tt_alloc_close(ctx) == 0, "close the first context");
	raw_usage(0, &u);
	ok(total_used(&u) == total_used(&base), "device usage back to where it started");

	/* no-op mode: nothing reaches the kernel */
	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && !tt_alloc_enabled(ctx), "env unset: no-op context");
	ok(tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 1, 1ULL << 30, 0) == 0 &&
	   tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 1, 4096, 0) == 0 &&
	   tt_alloc_flush(ctx, NULL) == 0 && tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 77) == 0 &&
	   tt_alloc_record(ctx, 0, TT_ALLOC_MEM_KERNEL, 5, 56 << 10, TT_ALLOC_KERNEL_FABRIC) == 0,
	   "env unset: every call succeeds");
	raw_usage(0, &u);
	ok(total_used(&u) == total_used(&base) && u.used[TT_ALLOC_MEM_DRAM] == base.used[TT_ALLOC_MEM_DRAM],
	   "env unset: device usage (raw ioctl) unchanged");
	tt_alloc_close(ctx);

	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	setenv("TT_ALLOC_DEVICE", "/nonexistent/tt_alloc", 1);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && !tt_alloc_enabled(ctx) && tt_alloc_record(ctx, 0, 0, 1, 1, 0) == 0,
	   "env=1 but device absent: no-op success");
	ok(log_calls == 1 && log_level == TT_ALLOC_LOG_WARNING && strstr(log_msg, "/nonexistent/tt_alloc"),
	   "the diagnostic went to the log callback as a warning (%s)", log_msg);
	tt_alloc_set_log_callback(NULL, NULL);
	tt_alloc_close(ctx);
	unsetenv("TT_ALLOC_DEVICE");
	raw_usage(0, &u);
	ok(total_used(&u) == total_used(&base), "still nothing recorded");

	ret = tt_alloc_open_ex(NULL, TT_ALLOC_OPEN_MONITOR, &ctx);
	ok(ret == 0 && tt_alloc_enabled(ctx) && tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_DEVICE, &u) == 0,
	   "monitor (read-only) context can query usage");
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 1, 1, 0);
	tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_DRAM, 2, 1, 0);
	ret = tt_alloc_flush(ctx, &done);
	ok(ret == -EBADF && done == 0 && tt_alloc_error_count(ctx) == 2,
	   "monitor context: queued ops fail with -EBADF, each counted (%d, %llu)", ret,
	   (unsigned long long)tt_alloc_error_count(ctx));
	tt_alloc_close(ctx);

	many_clients();

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
