// SPDX-License-Identifier: GPL-2.0
/*
 * Crash storm: a multi-threaded recorder is SIGKILLed at a random moment,
 * over and over; by the time waitpid() returns every counter of every
 * device is back at the baseline, exactly. Ends with a kmemleak scan.
 *
 *   rel_crash_storm [-R rounds] [harness options]   (default 200 rounds)
 */
#include "kselftest_harness.h"
#include "rel_common.h"

static unsigned int rounds = 200;

#define STORM_THREADS	3
#define STORM_FDS	2

struct storm_ctx {
	int fds[STORM_FDS];
	unsigned int idx;
	__u32 ndev;
	volatile int *started;
};

/* Records and frees forever on several devices and types; killed from outside. */
static void *storm_thread(void *arg)
{
	struct storm_ctx *c = arg;
	__u64 seed = rel_seed() ^ ((__u64)c->idx << 32);
	__u64 next = ((__u64)c->idx << 48) + 1;
	struct tt_alloc_op ops[64];
	unsigned int i, k;
	__u32 done;

	__atomic_add_fetch(c->started, 1, __ATOMIC_SEQ_CST);
	for (;;) {
		int fd = c->fds[rel_rand(&seed) % STORM_FDS];
		__u32 dev = rel_rand(&seed) % c->ndev;
		__u32 type = rel_rand(&seed) % TT_NTYPES;
		__u32 kind = type == TT_ALLOC_MEM_KERNEL ? rel_rand(&seed) % 3 : 0;
		__u64 id = next++;
		__u64 size = 1 + rel_rand(&seed) % (1 << 20);

		switch (rel_rand(&seed) % 4) {
		case 0: /* alloc, maybe a second reference, maybe free */
			tt_alloc(fd, dev, type, id, size, kind);
			if (rel_rand(&seed) & 1)
				tt_alloc(fd, dev, type, id, size, kind);
			if (rel_rand(&seed) & 1)
				tt_free(fd, dev, type, id);
			break;
		case 1: /* batch of allocs, half of them freed again */
			k = 1 + rel_rand(&seed) % TT_ARRAY_SIZE(ops);
			for (i = 0; i < k; i++) {
				type = rel_rand(&seed) % TT_NTYPES;
				ops[i] = tt_op(TT_ALLOC_OP_ALLOC,
					       rel_rand(&seed) % c->ndev, type,
					       next++, 1 + i,
					       type == TT_ALLOC_MEM_KERNEL ? i % 3 : 0);
			}
			tt_batch(fd, ops, k, &done);
			for (i = 0; i < k / 2; i++)
				ops[i].op = TT_ALLOC_OP_FREE;
			tt_batch(fd, ops, k / 2, &done);
			break;
		case 2: /* a long-lived entry */
			tt_alloc(fd, dev, type, id, size, kind);
			break;
		default: {
			struct tt_alloc_usage u;

			tt_usage(fd, dev, TT_ALLOC_SCOPE_FILE, &u);
			break;
		}
		}
	}
	return NULL;
}

static void storm_child(__u32 ndev, volatile int *started)
{
	static struct storm_ctx ctx[STORM_THREADS];
	pthread_t th;
	int fds[STORM_FDS], i;

	for (i = 0; i < STORM_FDS; i++) {
		fds[i] = tt_open();
		if (fds[i] < 0)
			_exit(3);
	}
	for (i = 0; i < STORM_THREADS; i++) {
		memcpy(ctx[i].fds, fds, sizeof(fds));
		ctx[i].idx = i;
		ctx[i].ndev = ndev;
		ctx[i].started = started;
		if (i < STORM_THREADS - 1) {
			if (pthread_create(&th, NULL, storm_thread, &ctx[i]))
				_exit(4);
		}
	}
	storm_thread(&ctx[STORM_THREADS - 1]);
	_exit(0);
}

FIXTURE(storm) {
	int fd;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
	volatile int *started;
};

FIXTURE_SETUP(storm)
{
	self->fd = tt_open();
	ASSERT_LE(0, self->fd) TH_LOG("open %s: %s", TT_DEV_PATH, strerror(-self->fd));
	self->ndev = tt_snapshot_all(_metadata, self->fd, self->base);
	self->started = mmap(NULL, 4096, PROT_READ | PROT_WRITE,
			     MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	ASSERT_NE(MAP_FAILED, self->started);
}

FIXTURE_TEARDOWN(storm)
{
	if (self->fd >= 0)
		close(self->fd);
}

TEST_F_TIMEOUT(storm, sigkill_storm_counters_exact, 600)
{
	__u64 seed = rel_seed(), t0 = tt_now_ms(), reclaimed0 = 0, reclaimed1 = 0;
	unsigned int r, early = 0, d;
	struct tt_dev_state now[TT_MAX_DEVS];
	struct rel_fast fast;
	int st, bad;

	ksft_print_msg("seed 0x%llx (TT_TEST_SEED)\n", (unsigned long long)seed);
	ASSERT_EQ(0, rel_fast_open(&fast, self->ndev));

	for (d = 0; d < self->ndev; d++)
		reclaimed0 += self->base[d].reclaimed_allocs;
	for (r = 0; r < rounds; r++) {
		unsigned int delay = rel_rand(&seed) % 21;
		pid_t pid;

		*self->started = 0;
		pid = fork();
		ASSERT_LE(0, pid);
		if (pid == 0)
			storm_child(self->ndev, self->started);
		/* Random moment: 0-20 ms after the threads got going. */
		while (*self->started < STORM_THREADS) {
			if (waitpid(pid, &st, WNOHANG) == pid) {
				ASSERT_TRUE(0) TH_LOG("round %u: child exited early, status 0x%x", r, st);
			}
			usleep(200);
		}
		if (delay)
			rel_msleep(delay);
		else
			early++;
		ASSERT_EQ(0, kill(pid, SIGKILL));
		ASSERT_EQ(pid, waitpid(pid, &st, 0));
		ASSERT_TRUE(WIFSIGNALED(st) && WTERMSIG(st) == SIGKILL)
			TH_LOG("round %u: child status 0x%x", r, st);
		/*
		 * Exact, right after waitpid(), no polling: USAGE of every
		 * device and type plus sysfs clients/system_bytes each round,
		 * every sysfs counter every 10th round and at the end.
		 */
		bad = rel_fast_diff(&fast, self->fd, self->base);
		if (bad >= 0 || r % 10 == 9 || r == rounds - 1)
			rel_assert_devs_eq(_metadata, self->fd, self->base);
		if (_metadata->exit_code || bad >= 0) {
			TH_LOG("round %u (delay %u ms): device %d differs from the baseline",
			       r, delay, bad);
			ASSERT_TRUE(0);
		}
		if (r % 50 == 49)
			ksft_print_msg("round %u, %llu ms\n", r + 1,
				       (unsigned long long)(tt_now_ms() - t0));
	}
	rel_fast_close(&fast);
	tt_snapshot_all(_metadata, self->fd, now);
	for (d = 0; d < self->ndev; d++)
		reclaimed1 += now[d].reclaimed_allocs;
	ksft_print_msg("%u rounds in %llu ms, %llu entries reclaimed at kill\n",
		       rounds, (unsigned long long)(tt_now_ms() - t0),
		       (unsigned long long)(reclaimed1 - reclaimed0));
	/* The storm did record something for reclaim to take back. */
	EXPECT_LT(reclaimed0, reclaimed1);
}

TEST_F_TIMEOUT(storm, kmemleak_after_storm, 120)
{
	int n;

	if (!rel_have_kmemleak())
		SKIP(return, "kmemleak not available on this kernel");
	n = rel_kmemleak_tt();
	ASSERT_EQ(0, n) TH_LOG("kmemleak reports tt_alloc objects as leaked");
}

int main(int argc, char **argv)
{
	if (argc > 2 && !strcmp(argv[1], "-R")) {
		rounds = strtoul(argv[2], NULL, 0);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	return test_harness_run(argc, argv);
}
