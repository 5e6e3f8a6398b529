/* SPDX-License-Identifier: GPL-2.0 */
/* tt_alloc benchmarks: shared helpers. */
#ifndef TT_ALLOC_BENCH_H
#define TT_ALLOC_BENCH_H

#include <stdint.h>
#include <sys/types.h>
#include <time.h>

static inline uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ULL + (uint64_t)ts.tv_nsec;
}

/* the userspace allocation server baseline (sockbase.c) */
struct sockbase {
	pid_t server;
	int fd;
};

/* @cpu >= 0: pin the server there (the caller pins the client) */
int sockbase_start(struct sockbase *sb, int cpu);
void sockbase_stop(struct sockbase *sb);
double sockbase_run(struct sockbase *sb, long pairs, int ack, uint64_t base);

/* the shared-memory tracker baseline (shmbase.c) */
struct shmbase {
	void *map;
	int chip, slot;
	char path[64];
};

int shmbase_open(struct shmbase *s, int chip);
void shmbase_close(struct shmbase *s);
double shmbase_run(struct shmbase *s, long pairs, int stamp);

#endif
