/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the tt_alloc reliability programs (rel_*). Builds on
 * the functional suite's tt_alloc_test.h; include after
 * kselftest_harness.h.
 */
#ifndef REL_COMMON_H
#define REL_COMMON_H

#include "tt_alloc_test.h"

#include <pthread.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/uio.h>

#define REL_KMEMLEAK	"/sys/kernel/debug/kmemleak"
#define REL_DBG_ALLOCS	"/sys/kernel/debug/tt_alloc/allocations"

/* xorshift64*: cheap, per-thread, reproducible from a seed. */
/*
 * TT_TEST_FULL=1 (make check-full, run-suite.sh --full): long programs
 * run at full length; `make check` runs a shorter version that fits its
 * time budget on the debug kernel under TCG.
 */
static inline bool rel_full(void)
{
	const char *v = getenv("TT_TEST_FULL");

	return v && !strcmp(v, "1");
}

static inline __u64 rel_rand(__u64 *s)
{
	__u64 x = *s;

	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	*s = x;
	return x * 0x2545F4914F6CDD1DULL;
}

/*
 * A new seed every run, so that runs cover more; the programs print it,
 * and TT_TEST_SEED=<that number> replays a failing run.
 */
static inline __u64 rel_seed(void)
{
	const char *env = getenv("TT_TEST_SEED");
	struct timespec ts;

	if (env && *env)
		return strtoull(env, NULL, 0);
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ((__u64)ts.tv_nsec << 20) ^ ts.tv_sec ^ ((__u64)getpid() << 40) ^
	       0x9E3779B97F4A7C15ULL;
}

/* Is this the debug kernel (kmemleak present)? */
static inline bool rel_have_kmemleak(void)
{
	return access(REL_KMEMLEAK, W_OK) == 0;
}

/*
 * Asks kmemleak for a report: scan, wait until the objects are old enough
 * to be reported (min age 5 s), scan again. Returns the number of
 * unreferenced objects whose report mentions tt_ (the module's symbols)
 * and prints every report line as a TAP comment. -1: no kmemleak.
 */
static inline int rel_kmemleak_tt(void)
{
	char line[512];
	int n = 0, all = 0;
	bool in_obj = false, obj_tt = false;
	FILE *f;

	if (!rel_have_kmemleak())
		return -1;
	tt_write_str(REL_KMEMLEAK, "scan");
	sleep(6);
	tt_write_str(REL_KMEMLEAK, "scan");
	f = fopen(REL_KMEMLEAK, "re");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (!strncmp(line, "unreferenced object", 19)) {
			if (in_obj && obj_tt)
				n++;
			in_obj = true;
			obj_tt = false;
			all++;
		}
		if (strstr(line, "tt_"))
			obj_tt = true;
		ksft_print_msg("kmemleak: %s", line);
	}
	if (in_obj && obj_tt)
		n++;
	fclose(f);
	ksft_print_msg("kmemleak: %d unreferenced object(s), %d attributable to tt_alloc\n",
		       all, n);
	return n;
}

/* Counters of every device compared device-scope only (file scope and reclaimed_* excluded). */
static inline void rel_assert_devs_eq(struct __test_metadata *_metadata, int fd,
				      const struct tt_dev_state *exp)
{
	static struct tt_dev_state now[TT_MAX_DEVS];
	__u32 n = tt_snapshot_all(_metadata, fd, now), d;

	for (d = 0; d < n; d++)
		tt_assert_dev_counters_eq(_metadata, d, &exp[d], &now[d]);
}

/* Same as rel_assert_devs_eq() but returns true/false instead of asserting. */
static inline bool rel_devs_eq(int fd, __u32 ndev, const struct tt_dev_state *exp)
{
	struct tt_alloc_usage u;
	__u64 v;
	__u32 d;
	int t;

	for (d = 0; d < ndev; d++) {
		if (tt_usage(fd, d, TT_ALLOC_SCOPE_DEVICE, &u))
			return false;
		for (t = 0; t < TT_NTYPES; t++) {
			if (u.used[t] != exp[d].used[t] ||
			    u.allocations[t] != exp[d].allocs[t])
				return false;
			if (read_sysfs_u64(d, t, "used_bytes", &v) || v != exp[d].s_used[t])
				return false;
			if (read_sysfs_u64(d, t, "allocations", &v) || v != exp[d].s_allocs[t])
				return false;
		}
		if (read_sysfs_u64(d, -1, "clients", &v) || v != exp[d].clients)
			return false;
		if (read_sysfs_u64(d, TT_ALLOC_MEM_KERNEL, "system_bytes", &v) ||
		    v != exp[d].system_bytes)
			return false;
	}
	return true;
}

/*
 * Cheap exact check for loops: USAGE device scope (used and allocations of
 * every type) through fd, and sysfs clients and kernel/system_bytes read
 * with pread() from files kept open. rel_fast_open() first; -errno or 0.
 */
struct rel_fast {
	__u32 ndev;
	int clients[TT_MAX_DEVS];
	int system[TT_MAX_DEVS];
};

static inline int rel_fast_open(struct rel_fast *f, __u32 ndev)
{
	char p[256];
	__u32 d;

	f->ndev = ndev;
	for (d = 0; d < ndev; d++) {
		f->clients[d] = open(tt_attr_path(p, sizeof(p), d, -1, "clients"),
				     O_RDONLY | O_CLOEXEC);
		f->system[d] = open(tt_attr_path(p, sizeof(p), d, TT_ALLOC_MEM_KERNEL,
						 "system_bytes"), O_RDONLY | O_CLOEXEC);
		if (f->clients[d] < 0 || f->system[d] < 0)
			return -errno;
	}
	return 0;
}

static inline void rel_fast_close(struct rel_fast *f)
{
	__u32 d;

	for (d = 0; d < f->ndev; d++) {
		close(f->clients[d]);
		close(f->system[d]);
	}
}

static inline __u64 rel_pread_u64(int fd)
{
	char b[32];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);

	if (n <= 0)
		return ~0ULL;
	b[n] = 0;
	return strtoull(b, NULL, 10);
}

/* Returns -1 if equal, else the first differing device. */
static inline int rel_fast_diff(struct rel_fast *f, int fd,
				const struct tt_dev_state *exp)
{
	struct tt_alloc_usage u;
	__u32 d;
	int t;

	for (d = 0; d < f->ndev; d++) {
		if (tt_usage(fd, d, TT_ALLOC_SCOPE_DEVICE, &u))
			return d;
		for (t = 0; t < TT_NTYPES; t++)
			if (u.used[t] != exp[d].used[t] ||
			    u.allocations[t] != exp[d].allocs[t])
				return d;
		if (rel_pread_u64(f->clients[d]) != exp[d].clients ||
		    rel_pread_u64(f->system[d]) != exp[d].system_bytes)
			return d;
	}
	return -1;
}

/* Lines of debugfs allocations that belong to client id (-1: no debugfs). */
static inline long rel_dbg_entries(__u64 client_id, __u32 *refs_of_id,
				   __u64 want_id)
{
	char line[512];
	long n = 0;
	FILE *f = fopen(REL_DBG_ALLOCS, "re");

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		unsigned long long cid, id, size;
		unsigned int dev, kind, refs;
		char comm[64], type[32];
		int pid;

		if (sscanf(line, "%llu\t%d\t%63s\t%u\t%31s\t%u\t%llx\t%llu\t%u",
			   &cid, &pid, comm, &dev, type, &kind, &id, &size,
			   &refs) != 9)
			continue;
		if (cid != client_id)
			continue;
		n++;
		if (refs_of_id && id == want_id)
			*refs_of_id = refs;
	}
	fclose(f);
	return n;
}

/* A meminfo field in bytes, or 0. */
static inline __u64 rel_meminfo(const char *key)
{
	char line[256];
	size_t kl = strlen(key);
	__u64 v = 0;
	FILE *f = fopen("/proc/meminfo", "re");

	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (!strncmp(line, key, kl) && line[kl] == ':')
			v = strtoull(line + kl + 1, NULL, 10) * 1024;
	fclose(f);
	return v;
}

static inline void rel_msleep(unsigned int ms)
{
	struct timespec ts = { ms / 1000, (ms % 1000) * 1000000L };

	while (nanosleep(&ts, &ts) && errno == EINTR)
		;
}

/* Sends fd over a unix socket. */
static inline int rel_send_fd(int sock, int fd)
{
	char c = 'F';
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm = CMSG_FIRSTHDR(&msg);

	memset(&u, 0, sizeof(u));
	cm->cmsg_level = SOL_SOCKET;
	cm->cmsg_type = SCM_RIGHTS;
	cm->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(cm), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

/* Receives an fd from a unix socket; returns it or -errno. */
static inline int rel_recv_fd(int sock)
{
	char c;
	struct iovec iov = { &c, 1 };
	union {
		char buf[CMSG_SPACE(sizeof(int))];
		struct cmsghdr align;
	} u;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = u.buf, .msg_controllen = sizeof(u.buf),
	};
	struct cmsghdr *cm;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -errno ? -errno : -EPROTO;
	cm = CMSG_FIRSTHDR(&msg);
	if (!cm || cm->cmsg_type != SCM_RIGHTS)
		return -EPROTO;
	memcpy(&fd, CMSG_DATA(cm), sizeof(int));
	return fd;
}

#endif /* REL_COMMON_H */
