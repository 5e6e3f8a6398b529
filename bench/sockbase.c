// SPDX-License-Identifier: GPL-2.0
/*
 * The design tt_alloc replaces, as a benchmark baseline: a userspace
 * allocation server reached over an AF_UNIX stream socket (tt-metal's
 * allocation_server_poc). Modelled faithfully, not as a strawman:
 *
 *  - the server is a separate process; its accept loop starts one thread
 *    per client connection, as the PoC does;
 *  - every alloc/free is one fixed 128-byte message (the PoC's packed
 *    AllocMessage plus the CB/kernel fields, rounded to 128 bytes);
 *  - the client thread of the server reads with a blocking read() loop
 *    into a buffer of up to 64 messages (better than one recv() per
 *    message, which is what the PoC does) and applies each message under
 *    the registry mutex (uncontended here, as in the PoC with one client);
 *  - the registry is an open-addressing hash map (linear probing,
 *    backward-shift deletion, power-of-two size, load <= 1/2) keyed by
 *    (device, id) with reference counts, per-device per-type totals and
 *    per-pid per-type totals (a second small open-addressing map);
 *  - no logging per message (the PoC prints a line per message to
 *    stdout, which would make the baseline look much worse than the
 *    design itself is), no sleeps.
 *
 * Two client modes: fire-and-forget (send() and go on: what the PoC's
 * client does) and acknowledged (send() then wait for the 128-byte reply:
 * what a client needs before a query that must see its own updates).
 */
#define _GNU_SOURCE
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bench.h"

enum { MSG_ALLOC = 1, MSG_FREE = 2, MSG_QUERY = 3, MSG_RESPONSE = 4 };
#define MSG_F_ACK	0x1	/* reply with a RESPONSE once applied */
#define SB_DEVICES	8
#define SB_TYPES	8

struct sb_msg {
	uint8_t type;
	uint8_t flags;
	uint8_t pad1[2];
	int32_t device_id;
	uint64_t size;
	uint8_t buffer_type;
	uint8_t kind;
	uint8_t pad2[2];
	int32_t process_id;
	uint64_t buffer_id;
	uint64_t timestamp;
	uint64_t used[SB_TYPES];	/* response: device totals */
	uint8_t pad3[24];
};
_Static_assert(sizeof(struct sb_msg) == 128, "message must be 128 bytes");

/* ---- the server's registry ---- */

struct sb_entry {
	uint64_t id;		/* key */
	int32_t device;		/* key; -1: empty slot */
	int32_t pid;
	uint64_t size;
	uint32_t refs;
	uint8_t type;
};

struct sb_pid {
	int32_t pid;		/* 0: empty */
	uint64_t used[SB_TYPES];
	uint64_t count;
};

struct sb_registry {
	pthread_mutex_t lock;
	struct sb_entry *tab;
	size_t mask, n;
	struct sb_pid *pids;
	size_t pmask, pn;
	uint64_t dev_used[SB_DEVICES][SB_TYPES];
	uint64_t dev_count[SB_DEVICES];
};

static uint64_t sb_hash(int32_t device, uint64_t id)
{
	uint64_t h = id ^ ((uint64_t)(uint32_t)device << 56);

	h ^= h >> 33;
	h *= 0xff51afd7ed558ccdULL;
	h ^= h >> 33;
	h *= 0xc4ceb9fe1a85ec53ULL;
	h ^= h >> 33;
	return h;
}

static void sb_tab_init(struct sb_registry *r, size_t cap)
{
	size_t i;

	r->tab = malloc(cap * sizeof(*r->tab));
	if (!r->tab)
		abort();
	for (i = 0; i < cap; i++)
		r->tab[i].device = -1;
	r->mask = cap - 1;
	r->n = 0;
}

static struct sb_entry *sb_slot(struct sb_registry *r, int32_t device, uint64_t id)
{
	size_t i = sb_hash(device, id) & r->mask;

	for (;;) {
		struct sb_entry *e = &r->tab[i];

		if (e->device < 0 || (e->device == device && e->id == id))
			return e;
		i = (i + 1) & r->mask;
	}
}

static void sb_grow(struct sb_registry *r)
{
	struct sb_entry *old = r->tab;
	size_t cap = r->mask + 1, i;

	sb_tab_init(r, cap * 2);
	for (i = 0; i < cap; i++) {
		if (old[i].device < 0)
			continue;
		*sb_slot(r, old[i].device, old[i].id) = old[i];
		r->n++;
	}
	free(old);
}

/* Linear probing deletion without tombstones (backward shift). */
static void sb_delete(struct sb_registry *r, struct sb_entry *e)
{
	size_t i = (size_t)(e - r->tab), j = i, k;

	for (;;) {
		j = (j + 1) & r->mask;
		if (r->tab[j].device < 0)
			break;
		k = sb_hash(r->tab[j].device, r->tab[j].id) & r->mask;
		/* may r->tab[j] move to i? only if k is cyclically outside (i, j] */
		if ((j > i && (k <= i || k > j)) || (j < i && (k <= i && k > j))) {
			r->tab[i] = r->tab[j];
			i = j;
		}
	}
	r->tab[i].device = -1;
	r->n--;
}

static struct sb_pid *sb_pid_slot(struct sb_registry *r, int32_t pid)
{
	size_t i = ((uint32_t)pid * 2654435761U) & r->pmask;

	if (2 * (r->pn + 1) > r->pmask + 1) {
		struct sb_pid *old = r->pids;
		size_t cap = r->pmask + 1, j;

		r->pids = calloc(cap * 2, sizeof(*r->pids));
		if (!r->pids)
			abort();
		r->pmask = cap * 2 - 1;
		for (j = 0; j < cap; j++) {
			if (!old[j].pid)
				continue;
			i = ((uint32_t)old[j].pid * 2654435761U) & r->pmask;
			while (r->pids[i].pid)
				i = (i + 1) & r->pmask;
			r->pids[i] = old[j];
		}
		free(old);
		i = ((uint32_t)pid * 2654435761U) & r->pmask;
	}
	while (r->pids[i].pid && r->pids[i].pid != pid)
		i = (i + 1) & r->pmask;
	if (!r->pids[i].pid) {
		r->pids[i].pid = pid;
		r->pn++;
	}
	return &r->pids[i];
}

static void sb_apply(struct sb_registry *r, const struct sb_msg *m)
{
	struct sb_entry *e;
	struct sb_pid *p;

	if (m->device_id < 0 || m->device_id >= SB_DEVICES || m->buffer_type >= SB_TYPES)
		return;
	pthread_mutex_lock(&r->lock);
	if (m->type == MSG_ALLOC) {
		e = sb_slot(r, m->device_id, m->buffer_id);
		if (e->device >= 0) {
			e->refs++;
		} else {
			e->device = m->device_id;
			e->id = m->buffer_id;
			e->size = m->size;
			e->type = m->buffer_type;
			e->pid = m->process_id;
			e->refs = 1;
			r->n++;
			r->dev_used[e->device][e->type] += e->size;
			r->dev_count[e->device]++;
			p = sb_pid_slot(r, e->pid);
			p->used[e->type] += e->size;
			p->count++;
			if (2 * r->n > r->mask + 1)
				sb_grow(r);
		}
	} else if (m->type == MSG_FREE) {
		e = sb_slot(r, m->device_id, m->buffer_id);
		if (e->device >= 0 && !--e->refs) {
			r->dev_used[e->device][e->type] -= e->size;
			r->dev_count[e->device]--;
			p = sb_pid_slot(r, e->pid);
			p->used[e->type] -= e->size;
			p->count--;
			sb_delete(r, e);
		}
	}
	pthread_mutex_unlock(&r->lock);
}

static struct sb_registry sb_reg;

static int sb_write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len) {
		ssize_t n = write(fd, p, len);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

/* One thread per client connection: the blocking read loop. */
static void *sb_client_thread(void *arg)
{
	int fd = (int)(intptr_t)arg;
	static _Thread_local struct sb_msg buf[64];
	size_t have = 0, off, i;
	struct sb_msg reply;

	for (;;) {
		ssize_t n = read(fd, (char *)buf + have, sizeof(buf) - have);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		have += (size_t)n;
		for (off = 0; off + sizeof(struct sb_msg) <= have; off += sizeof(struct sb_msg)) {
			const struct sb_msg *m = (const void *)((char *)buf + off);

			sb_apply(&sb_reg, m);
			if (m->type == MSG_QUERY || (m->flags & MSG_F_ACK)) {
				memset(&reply, 0, sizeof(reply));
				reply.type = MSG_RESPONSE;
				reply.device_id = m->device_id;
				pthread_mutex_lock(&sb_reg.lock);
				for (i = 0; i < SB_TYPES; i++)
					reply.used[i] = sb_reg.dev_used[m->device_id & (SB_DEVICES - 1)][i];
				pthread_mutex_unlock(&sb_reg.lock);
				if (sb_write_all(fd, &reply, sizeof(reply)))
					goto out;
			}
		}
		memmove(buf, (char *)buf + off, have - off);
		have -= off;
	}
out:
	close(fd);
	return NULL;
}

static void sb_server(int lfd)
{
	pthread_mutex_init(&sb_reg.lock, NULL);
	sb_tab_init(&sb_reg, 1024);
	sb_reg.pids = calloc(16, sizeof(*sb_reg.pids));
	sb_reg.pmask = 15;
	for (;;) {
		int cfd = accept(lfd, NULL, NULL);
		pthread_t t;

		if (cfd < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pthread_create(&t, NULL, sb_client_thread, (void *)(intptr_t)cfd))
			_exit(1);
		pthread_detach(t);
	}
}

int sockbase_start(struct sockbase *sb, int cpu)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	static int seq;
	int lfd;

	/* abstract name: nothing left in the file system */
	snprintf(addr.sun_path + 1, sizeof(addr.sun_path) - 1,
		 "tt-alloc-bench-%d-%d", (int)getpid(), seq++);
	lfd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&addr, sizeof(addr)) ||
	    listen(lfd, 128))
		return -1;
	sb->server = fork();
	if (sb->server < 0)
		return -1;
	if (!sb->server) {
		if (cpu >= 0) {
			cpu_set_t set;

			CPU_ZERO(&set);
			CPU_SET(cpu, &set);
			if (sched_setaffinity(0, sizeof(set), &set))
				_exit(1);
		}
		sb_server(lfd);
		_exit(0);
	}
	close(lfd);
	sb->fd = socket(AF_UNIX, SOCK_STREAM, 0);
	if (sb->fd < 0 || connect(sb->fd, (struct sockaddr *)&addr, sizeof(addr)))
		return -1;
	return 0;
}

void sockbase_stop(struct sockbase *sb)
{
	close(sb->fd);
	kill(sb->server, SIGKILL);
	waitpid(sb->server, NULL, 0);
}

static int sb_recv_reply(int fd, struct sb_msg *m)
{
	size_t got = 0;

	while (got < sizeof(*m)) {
		ssize_t n = read(fd, (char *)m + got, sizeof(*m) - got);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return -1;
		got += (size_t)n;
	}
	return 0;
}

static void sb_fill(struct sb_msg *m, int type, uint64_t id, int ack)
{
	memset(m, 0, sizeof(*m));
	m->type = (uint8_t)type;
	m->flags = ack ? MSG_F_ACK : 0;
	m->device_id = 0;
	m->size = 4096;
	m->buffer_type = 0;
	m->process_id = (int32_t)getpid();
	m->buffer_id = id;
}

/*
 * @pairs alloc+free pairs; returns ns per op (one op = one message). In
 * fire-and-forget mode a final acknowledged QUERY makes the figure the
 * sustained rate (every message applied), not the rate of filling the
 * socket buffer.
 */
double sockbase_run(struct sockbase *sb, long pairs, int ack, uint64_t base)
{
	struct sb_msg m, reply;
	uint64_t t0, t1;
	long i;
	int k;

	t0 = now_ns();
	for (i = 0; i < pairs; i++) {
		for (k = 0; k < 2; k++) {
			sb_fill(&m, k ? MSG_FREE : MSG_ALLOC, base + (uint64_t)i, ack);
			if (sb_write_all(sb->fd, &m, sizeof(m)))
				return -1;
			if (ack && sb_recv_reply(sb->fd, &reply))
				return -1;
		}
	}
	if (!ack) {
		sb_fill(&m, MSG_QUERY, 0, 1);
		if (sb_write_all(sb->fd, &m, sizeof(m)) || sb_recv_reply(sb->fd, &reply))
			return -1;
	}
	t1 = now_ns();
	return (double)(t1 - t0) / (double)(2 * pairs);
}
