// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime-side anchor, as a benchmark baseline: tt-metal's
 * shared-memory tracker (memory_stats_shm.hpp/.cpp, layout version 4),
 * modelled after its description in ../shared/reference/ and the record
 * paths of its published source (read, not copied):
 *
 *  - one file per chip, /dev/shm/tt_device_<chip>_memory, mapped
 *    MAP_SHARED by every process using the chip (here: created, truncated
 *    to the layout's size and mapped by the benchmark itself);
 *  - device-wide totals for DRAM, L1, L1_SMALL, TRACE and CB and a
 *    last-update time; the same totals for up to 16 chips behind this
 *    one; a table of at most 64 processes (pid, the same five totals,
 *    last update, a 64-byte name);
 *  - an allocation record finds the caller's process slot and the chip's
 *    entry by scanning for them (as the published code does on every
 *    record), adds to the device's, the chip's and the process's total of
 *    its type with relaxed atomic adds, and stores the time (a
 *    CLOCK_REALTIME read through the vDSO) as the device's and the
 *    process's last update; a free record does the same with subtractions
 *    that saturate at zero (compare-and-swap loops);
 *  - no syscall, no lock, no buffer identity, no crash safety (a crashed
 *    process's totals stay until another process reaps its pid).
 *
 * What it does not do, and tt_alloc does: know which buffer a free is
 * for, refuse a double free, reclaim a dead process's memory, enforce a
 * capacity, keep a peak that a reader can trust.
 */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "bench.h"

#define SHM_VERSION	4
#define SHM_TYPES	5	/* DRAM, L1, L1_SMALL, TRACE, CB */
#define SHM_PROCS	64
#define SHM_CHIPS	16

struct shm_proc {
	int32_t pid;		/* 0: free slot */
	uint32_t pad;
	uint64_t used[SHM_TYPES];
	uint64_t last_update_ns;
	char name[64];
};

struct shm_chip {
	uint32_t chip_id;	/* SHM_CHIP_UNUSED: free entry */
	uint32_t is_remote;
	uint64_t used[SHM_TYPES];
};

#define SHM_CHIP_UNUSED	UINT32_MAX

struct shm_layout {
	uint32_t version;
	uint32_t init_state;
	uint32_t reference_count;
	uint32_t num_active_processes;
	uint64_t used[SHM_TYPES];
	uint64_t last_update_ns;
	struct shm_chip chips[SHM_CHIPS];
	struct shm_proc procs[SHM_PROCS];
};

int shmbase_open(struct shmbase *s, int chip)
{
	struct shm_layout *l;
	int fd, i;

	snprintf(s->path, sizeof(s->path), "/dev/shm/tt_device_%d_memory", chip);
	fd = open(s->path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (fd < 0)
		return -1;
	if (ftruncate(fd, sizeof(*l))) {
		close(fd);
		return -1;
	}
	l = mmap(NULL, sizeof(*l), PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	close(fd);
	if (l == MAP_FAILED)
		return -1;
	l->version = SHM_VERSION;
	for (i = 0; i < SHM_CHIPS; i++)
		l->chips[i].chip_id = SHM_CHIP_UNUSED;
	l->chips[0].chip_id = (uint32_t)chip;
	s->map = l;
	s->chip = chip;
	s->slot = -1;
	for (i = 0; i < SHM_PROCS; i++) {
		int32_t zero = 0, pid = getpid();

		if (__atomic_load_n(&l->procs[i].pid, __ATOMIC_ACQUIRE) == pid ||
		    __atomic_compare_exchange_n(&l->procs[i].pid, &zero, pid, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			s->slot = i;
			__atomic_fetch_add(&l->reference_count, 1, __ATOMIC_RELEASE);
			__atomic_fetch_add(&l->num_active_processes, 1, __ATOMIC_RELAXED);
			snprintf(l->procs[i].name, sizeof(l->procs[i].name), "tt-alloc-bench");
			break;
		}
	}
	return s->slot < 0 ? -1 : 0;
}

void shmbase_close(struct shmbase *s)
{
	struct shm_layout *l = s->map;

	__atomic_store_n(&l->procs[s->slot].pid, 0, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&l->reference_count, 1, __ATOMIC_RELEASE);
	__atomic_fetch_sub(&l->num_active_processes, 1, __ATOMIC_RELAXED);
	munmap(l, sizeof(*l));
	unlink(s->path);
}

static uint64_t shm_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

static inline void shm_sat_sub(uint64_t *v, uint64_t amount)
{
	uint64_t cur = __atomic_load_n(v, __ATOMIC_RELAXED), upd;

	do {
		upd = cur < amount ? 0 : cur - amount;
	} while (!__atomic_compare_exchange_n(v, &cur, upd, 1, __ATOMIC_RELAXED,
					      __ATOMIC_RELAXED));
}

static inline void shm_apply(uint64_t *v, int64_t delta)
{
	if (delta >= 0)
		__atomic_fetch_add(v, (uint64_t)delta, __ATOMIC_RELAXED);
	else
		shm_sat_sub(v, (uint64_t)-delta);
}

/* one record: @delta bytes of @type allocated (> 0) or freed (< 0) */
static inline void shm_record(struct shm_layout *l, int32_t pid, uint32_t chip,
			      unsigned int type, int64_t delta, int stamp)
{
	struct shm_proc *p = NULL;
	struct shm_chip *c = NULL;
	int i;

	for (i = 0; i < SHM_PROCS && !p; i++)
		if (__atomic_load_n(&l->procs[i].pid, __ATOMIC_RELAXED) == pid)
			p = &l->procs[i];
	if (!p)
		return;	/* no slot: the process is not tracked */
	shm_apply(&l->used[type], delta);
	for (i = 0; i < SHM_CHIPS && !c; i++)
		if (__atomic_load_n(&l->chips[i].chip_id, __ATOMIC_RELAXED) == chip)
			c = &l->chips[i];
	if (c)
		shm_apply(&c->used[type], delta);
	if (stamp)
		__atomic_store_n(&l->last_update_ns, shm_now(), __ATOMIC_RELAXED);
	shm_apply(&p->used[type], delta);
	if (stamp)
		__atomic_store_n(&p->last_update_ns, shm_now(), __ATOMIC_RELAXED);
}

/*
 * ns per record over @pairs alloc+free pairs (2 records each); @stamp:
 * with the last-update times (the faithful model) or without (its floor:
 * the scans and the atomics alone).
 */
double shmbase_run(struct shmbase *s, long pairs, int stamp)
{
	struct shm_layout *l = s->map;
	int32_t pid = l->procs[s->slot].pid;
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < pairs; i++) {
		shm_record(l, pid, (uint32_t)s->chip, 0, 4096, stamp);
		shm_record(l, pid, (uint32_t)s->chip, 0, -4096, stamp);
	}
	return (double)(now_ns() - t0) / (double)(pairs * 2);
}
