// SPDX-License-Identifier: GPL-2.0
/*
 * ioctl fuzzer: random commands (the valid ones, the same number with
 * another size or direction, number +-1, other magics, random numbers),
 * random argument bytes and mostly-valid structures, bad pointers (NULL,
 * unmapped, kernel, non-canonical, unaligned, read-only, structures and
 * batch/client arrays straddling an unmapped page) and huge counts, on
 * several files from several threads at once. Every call must return 0
 * or a documented errno (an unknown command exactly ENOTTY); after every
 * file is closed, every counter is back at the baseline. The console is
 * checked for oops/WARN/KASAN by the VM runner.
 *
 *   rel_fuzz [-n total_ioctls] [harness options]
 *
 * 1000000 ioctls with TT_TEST_FULL=1 (make check-full), else 200000: the
 * debug kernel under TCG runs about 10k a second, and the short run
 * keeps `make check` in its time budget.
 */
#include "kselftest_harness.h"
#include "rel_common.h"

#define FZ_THREADS	4
#define FZ_FDS		4

#define FZ_OPS_FULL	1000000
#define FZ_OPS_CHECK	200000

static unsigned long total_ops;
static int fz_fds[FZ_FDS];
static long pg;

static const unsigned long fz_valid[] = {
	TT_ALLOC_IOC_INFO, TT_ALLOC_IOC_ALLOC, TT_ALLOC_IOC_FREE,
	TT_ALLOC_IOC_BATCH, TT_ALLOC_IOC_USAGE, TT_ALLOC_IOC_CLIENTS,
};

static const int fz_errnos[] = {
	ENOTTY, EFAULT, EINVAL, ENODEV, E2BIG, EEXIST, ENOENT, EDQUOT,
	ENOSPC, EOVERFLOW, ENOMEM,
};
#define FZ_NERR	TT_ARRAY_SIZE(fz_errnos)

struct fz_thread {
	pthread_t th;
	unsigned int idx;
	unsigned long ops;
	__u64 seed;
	/* page 0: argument structs; pages 1-2: arrays; page 3: hole; page 4: read-only */
	char *mem;
	unsigned long ok, err[FZ_NERR], bad, enotty_valid;
	unsigned long bad_cmd, bad_errno;
};

/*
 * A known command: our magic, a known number and its direction. The size
 * encoded in it may be anything: a size below the first published one is
 * EINVAL, a larger one works if the bytes beyond what the kernel knows
 * are zero (E2BIG otherwise), so only these three decide ENOTTY.
 */
static bool fz_is_valid(unsigned long cmd)
{
	unsigned int i;

	for (i = 0; i < TT_ARRAY_SIZE(fz_valid); i++)
		if (_IOC_TYPE(cmd) == _IOC_TYPE(fz_valid[i]) &&
		    _IOC_NR(cmd) == _IOC_NR(fz_valid[i]) &&
		    _IOC_DIR(cmd) == _IOC_DIR(fz_valid[i]))
			return true;
	return false;
}

/* Magics whose commands the VFS handles itself (FIFREEZE on /dev...). */
static bool fz_vfs_magic(unsigned int magic)
{
	return magic == 0x00 || magic == 0x15 || magic == 'T' || magic == 'X' ||
	       magic == 'f' || magic == 0x94;
}

static unsigned long fz_cmd(__u64 *s)
{
	unsigned long c = fz_valid[rel_rand(s) % TT_ARRAY_SIZE(fz_valid)];
	unsigned int dir = _IOC_DIR(c), nr = _IOC_NR(c), size = _IOC_SIZE(c);
	unsigned int magic = _IOC_TYPE(c);
	__u64 r = rel_rand(s);

	switch (r % 8) {
	case 0: case 1: case 2: case 3:
		return c;
	case 4: { /* another size */
		static const int delta[] = { -8, -4, -1, 1, 4, 8 };

		switch ((r >> 8) % 3) {
		case 0: size = 0; break;
		case 1: size += delta[(r >> 16) % 6]; break;
		default: size = (r >> 16) % (1 << _IOC_SIZEBITS); break;
		}
		break;
	}
	case 5: /* another direction */
		dir = (r >> 8) % 4;
		break;
	case 6: /* neighbouring or random number */
		nr = (r >> 8) & 1 ? (nr + ((r >> 9) & 1 ? 1 : -1)) & 0xff : (r >> 16) & 0xff;
		break;
	default: /* other magic */
		do {
			magic = (r >> 8) & 1 ? 0xBA + ((r >> 9) & 1 ? 1 : -1) : (r >> 16) & 0xff;
			r = rel_rand(s);
		} while (fz_vfs_magic(magic));
		break;
	}
	size &= (1 << _IOC_SIZEBITS) - 1;
	return _IOC(dir, magic, nr, size);
}

static void fz_fill(__u64 *s, void *p, size_t len)
{
	__u64 v;
	size_t i;

	for (i = 0; i + 8 <= len; i += 8) {
		v = rel_rand(s);
		memcpy((char *)p + i, &v, 8);
	}
	for (; i < len; i++)
		((char *)p)[i] = rel_rand(s);
}

static void fz_buffer(__u64 *s, struct tt_alloc_buffer *b)
{
	__u64 r = rel_rand(s);

	b->device = r % 10;
	b->type = (r >> 8) % 9;
	b->id = (r >> 16) % 64;
	switch ((r >> 24) % 6) {
	case 0: b->size = 0; break;
	case 1: b->size = ~0ULL - ((r >> 32) % 4); break;
	case 2: b->size = 1ULL << 63; break;
	default: b->size = 1 + (r >> 32) % 65536; break;
	}
	b->kind = b->type == TT_ALLOC_MEM_KERNEL ? (r >> 40) % 4 : !((r >> 40) % 16);
	b->flags = (r >> 48) % 32 ? 0 : 1U << ((r >> 56) % 32);
	if (!((r >> 44) % 64))	/* keys that FREE finds */
		b->size = 64;
}

/*
 * Anywhere that is not readable/writable, or not where it should be. The
 * kernel may write up to len bytes from a pointer that starts in this
 * thread's pages, so such a pointer never starts outside pages 1-2 or 4:
 * a longer len only moves the fault further in, never into other memory
 * (a random size once put it in another thread's stack).
 */
static char *fz_bad_ptr(struct fz_thread *t, size_t len)
{
	__u64 r = rel_rand(&t->seed);

	if (len < 2)
		len = 2;
	if (len > (size_t)pg)
		len = pg;
	switch (r % 7) {
	case 0: return NULL;
	case 1: return t->mem + 3 * pg + (r >> 8) % pg;			/* unmapped */
	case 2: return (char *)(0xffff888000000000ULL + ((r >> 8) & 0xffffff));	/* kernel */
	case 3: return (char *)(0x8000000000000000ULL | (r >> 4));		/* non-canonical */
	case 4: return (char *)((r >> 8) % 65536);				/* below mmap_min_addr */
	case 5: return t->mem + 4 * pg + (r >> 8) % (pg - len + 1);		/* read-only */
	default: return t->mem + 3 * pg - 1 - (r >> 8) % (len - 1);		/* straddles */
	}
}

/* Where an array of len bytes goes: in pages 1-2 (maybe running into the hole) or bad. */
static char *fz_array(struct fz_thread *t, size_t elem, __u32 count)
{
	__u64 r = rel_rand(&t->seed), len = (__u64)(count ? count : 1) * elem;

	if (r % 4 == 0)
		return fz_bad_ptr(t, elem);
	if (r % 4 != 1)
		return t->mem + pg + (r >> 8) % (2 * pg);
	if (len > 2 * (__u64)pg)	/* too long for pages 1-2: it starts at 1 */
		return t->mem + pg + ((r >> 8) % 8);
	/* end exactly at the hole, or cross it */
	return t->mem + 3 * pg - len + ((r >> 8) % 2) * ((r >> 16) % elem);
}

static __u32 fz_count(__u64 *s, __u32 max)
{
	__u64 r = rel_rand(s);

	switch (r % 8) {
	case 0: return 0;
	case 1: return max;
	case 2: return max + 1;
	case 3: return ~0U - (r >> 8) % 2;
	case 4: return (r >> 8);
	default: return 1 + (r >> 8) % 200;
	}
}

static void fz_one(struct fz_thread *t)
{
	unsigned long cmd = fz_cmd(&t->seed);
	bool valid = fz_is_valid(cmd);
	int fd = fz_fds[rel_rand(&t->seed) % FZ_FDS];
	__u64 r = rel_rand(&t->seed);
	char *arg = t->mem + (r % 4 ? 0 : (r >> 8) % 64);	/* sometimes unaligned */
	unsigned int i;
	int ret, e;

	/* Random bytes, then, mostly, a structure that gets further. */
	fz_fill(&t->seed, t->mem, 512);
	if ((r >> 16) % 8) {
		switch (_IOC_NR(cmd)) {
		case 1: case 2:
			fz_buffer(&t->seed, (struct tt_alloc_buffer *)arg);
			break;
		case 3: {
			struct tt_alloc_batch *b = (struct tt_alloc_batch *)arg;
			struct tt_alloc_op *ops;

			b->count = fz_count(&t->seed, TT_ALLOC_BATCH_MAX);
			ops = (struct tt_alloc_op *)fz_array(t, sizeof(*ops), b->count);
			b->ops = (__u64)(uintptr_t)ops;
			b->flags = (r >> 24) % 32 ? 0 : 1;
			b->op_size = (r >> 32) % 32 ? 0 : 1;
			if ((char *)ops >= t->mem + pg && (char *)ops < t->mem + 3 * pg)
				for (i = 0; i < 204 && (char *)&ops[i + 1] <= t->mem + 3 * pg; i++) {
					__u64 q = rel_rand(&t->seed);

					ops[i].op = q % 16 ? 1 + q % 2 : q % 5;
					ops[i].reserved = (q >> 8) % 64 ? 0 : 1;
					fz_buffer(&t->seed, &ops[i].buf);
					if (((q >> 16) % 4) == 0)	/* keep a few alive */
						ops[i].buf.size = 64;
				}
			break;
		}
		case 4: {
			struct tt_alloc_usage *u = (struct tt_alloc_usage *)arg;

			u->device = rel_rand(&t->seed) % 10;
			u->scope = rel_rand(&t->seed) % 3;
			u->flags = (r >> 24) % 16 ? 0 : 1;
			u->reserved = (r >> 32) % 16 ? 0 : 1;
			break;
		}
		case 5: {
			struct tt_alloc_clients *c = (struct tt_alloc_clients *)arg;

			c->count = fz_count(&t->seed, TT_ALLOC_CLIENTS_MAX);
			c->clients = (__u64)(uintptr_t)fz_array(t, sizeof(struct tt_alloc_client),
								c->count > 20 ? 20 : c->count);
			c->flags = (r >> 24) % 16 ? 0 : 1;
			break;
		}
		}
	}
	if ((r >> 40) % 8 == 0)
		arg = fz_bad_ptr(t, _IOC_SIZE(cmd) ? _IOC_SIZE(cmd) : 8);

	ret = ioctl(fd, cmd, arg);
	e = errno;
	if (ret == 0) {
		t->ok++;
		if (!valid) {
			t->bad++;
			t->bad_cmd = cmd;
			t->bad_errno = 0;
		}
		return;
	}
	for (i = 0; i < FZ_NERR; i++)
		if (fz_errnos[i] == e)
			break;
	if (ret != -1 || i == FZ_NERR || (!valid && e != ENOTTY) || (valid && e == ENOTTY)) {
		t->bad++;
		t->bad_cmd = cmd;
		t->bad_errno = ret == -1 ? e : 10000 + ret;
		return;
	}
	t->err[i]++;
}

static void *fz_thread_fn(void *arg)
{
	struct fz_thread *t = arg;
	unsigned long i;

	for (i = 0; i < t->ops; i++)
		fz_one(t);
	return NULL;
}

FIXTURE(fz) {
	int obs;
	__u32 ndev;
	struct tt_dev_state base[TT_MAX_DEVS];
};

FIXTURE_SETUP(fz)
{
	pg = sysconf(_SC_PAGESIZE);
	self->obs = tt_open();
	ASSERT_LE(0, self->obs);
	self->ndev = tt_snapshot_all(_metadata, self->obs, self->base);
}

FIXTURE_TEARDOWN(fz)
{
	close(self->obs);
}

TEST_F_TIMEOUT(fz, random_ioctls, 1800)
{
	static struct fz_thread th[FZ_THREADS];
	unsigned long tot_ok = 0, tot_bad = 0, tot_err[FZ_NERR] = { 0 };
	__u64 seed = rel_seed(), t0, ms;
	unsigned int i, k;

	ksft_print_msg("seed 0x%llx (TT_TEST_SEED), %lu ioctls, %d threads x %d files\n",
		       (unsigned long long)seed, total_ops, FZ_THREADS, FZ_FDS);
	for (i = 0; i < FZ_FDS; i++) {
		fz_fds[i] = tt_open();
		ASSERT_LE(0, fz_fds[i]);
	}
	for (i = 0; i < FZ_THREADS; i++) {
		char *m = mmap(NULL, 5 * pg, PROT_READ | PROT_WRITE,
			       MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

		ASSERT_NE(MAP_FAILED, m);
		memset(m, 0, 5 * pg);
		ASSERT_EQ(0, munmap(m + 3 * pg, pg));
		ASSERT_EQ(0, mprotect(m + 4 * pg, pg, PROT_READ));
		th[i].mem = m;
		th[i].idx = i;
		th[i].seed = seed ^ ((__u64)(i + 1) * 0x9E3779B97F4A7C15ULL);
		th[i].ops = total_ops / FZ_THREADS + (i < total_ops % FZ_THREADS);
	}
	t0 = tt_now_ms();
	for (i = 0; i < FZ_THREADS; i++)
		ASSERT_EQ(0, pthread_create(&th[i].th, NULL, fz_thread_fn, &th[i]));
	for (i = 0; i < FZ_THREADS; i++)
		pthread_join(th[i].th, NULL);
	ms = tt_now_ms() - t0;
	for (i = 0; i < FZ_THREADS; i++) {
		tot_ok += th[i].ok;
		tot_bad += th[i].bad;
		for (k = 0; k < FZ_NERR; k++)
			tot_err[k] += th[i].err[k];
		if (th[i].bad)
			TH_LOG("thread %u: %lu unexpected results, last: cmd 0x%lx -> %s (%lu)",
			       i, th[i].bad, th[i].bad_cmd,
			       th[i].bad_errno ? strerror(th[i].bad_errno % 10000) : "success",
			       th[i].bad_errno);
	}
	ksft_print_msg("%lu ioctls in %llu ms: %llu/s\n", total_ops,
		       (unsigned long long)ms,
		       (unsigned long long)(ms ? total_ops * 1000 / ms : 0));
	ksft_print_msg("  0: %lu\n", tot_ok);
	for (k = 0; k < FZ_NERR; k++)
		ksft_print_msg("  %s: %lu\n", strerror(fz_errnos[k]), tot_err[k]);
	EXPECT_EQ(0, tot_bad);

	for (i = 0; i < FZ_FDS; i++)
		close(fz_fds[i]);
	rel_assert_devs_eq(_metadata, self->obs, self->base);
}

int main(int argc, char **argv)
{
	total_ops = rel_full() ? FZ_OPS_FULL : FZ_OPS_CHECK;
	if (argc > 2 && !strcmp(argv[1], "-n")) {
		total_ops = strtoul(argv[2], NULL, 0);
		argv[2] = argv[0];
		argc -= 2;
		argv += 2;
	}
	return test_harness_run(argc, argv);
}
