// SPDX-License-Identifier: GPL-2.0
/*
 * The runtime-side anchor, as a benchmark baseline: tt-metal's
 * shared-memory tracker (memory_stats_shm.hpp, layout version 4), as
 * described in ../shared/reference/tenstorrent-facts.md. Written from that
 * description, not from its code:
 *
 *  - one file per chip, /dev/shm/tt_device_<chip>_memory, mapped
 *    MAP_SHARED by every process using the chip (here: created, truncated
 *    to the layout's size and mapped by the benchmark itself);
 *  - per chip: totals for DRAM, L1, L1_SMALL, TRACE and CB, updated with
 *    atomic adds; a table of at most 64 processes (pid, the same five
 *    totals, last update, a 64-byte name), and room for 16 chips;
 *  - a record is one atomic add to the chip's total of its type, one to
 *    the process's total, and a store of the last-update time (a
 *    CLOCK_REALTIME read through the vDSO): no syscall, no lock, no
 *    buffer identity, no crash safety (a crashed process's totals stay
 *    until a reader reaps its pid);
 *  - the process finds (or claims, with a compare-and-swap on the pid) its
 *    slot once and keeps its index, as a runtime would.
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

struct shm_layout {
	uint32_t version;
	uint32_t nchips;
	uint64_t chip_used[SHM_CHIPS][SHM_TYPES];
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
	l->nchips = 1;
	s->map = l;
	s->chip = chip;
	s->slot = -1;
	for (i = 0; i < SHM_PROCS; i++) {
		int32_t zero = 0, pid = getpid();

		if (__atomic_load_n(&l->procs[i].pid, __ATOMIC_ACQUIRE) == pid ||
		    __atomic_compare_exchange_n(&l->procs[i].pid, &zero, pid, 0,
						__ATOMIC_ACQ_REL, __ATOMIC_ACQUIRE)) {
			s->slot = i;
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
	munmap(l, sizeof(*l));
	unlink(s->path);
}

/* one record: @delta bytes of @type allocated (> 0) or freed (< 0) */
static inline void shm_record(struct shm_layout *l, int chip, int slot,
			      unsigned int type, int64_t delta, int stamp)
{
	struct shm_proc *p = &l->procs[slot];

	__atomic_fetch_add(&l->chip_used[chip][type], (uint64_t)delta, __ATOMIC_RELAXED);
	__atomic_fetch_add(&p->used[type], (uint64_t)delta, __ATOMIC_RELAXED);
	if (stamp) {
		struct timespec ts;

		clock_gettime(CLOCK_REALTIME, &ts);
		__atomic_store_n(&p->last_update_ns,
				 (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec,
				 __ATOMIC_RELAXED);
	}
}

/*
 * ns per record over @pairs alloc+free pairs (2 records each); @stamp:
 * with the last-update time (the faithful model) or without (its floor).
 */
double shmbase_run(struct shmbase *s, long pairs, int stamp)
{
	struct shm_layout *l = s->map;
	uint64_t t0 = now_ns();
	long i;

	for (i = 0; i < pairs; i++) {
		shm_record(l, s->chip, s->slot, 0, 4096, stamp);
		shm_record(l, s->chip, s->slot, 0, -4096, stamp);
	}
	return (double)(now_ns() - t0) / (double)(pairs * 2);
}
