// SPDX-License-Identifier: GPL-2.0
/*
 * Workload of trace_test.sh: open /dev/tt_alloc, record N allocations,
 * free the first M, and exit holding the other N - M, which the kernel
 * reclaims when the file is released at exit.
 *
 *   tt-trace-workload [-d DEVNODE] N M
 *
 * Prints what the tracepoints must show, one line per event, in the
 * format trace_test.sh extracts from the trace buffer:
 *   client CLIENT_ID
 *   pid PID
 *   alloc device=D type=NAME kind=K id=0xID size=S refs=1
 *   free device=D type=NAME kind=K id=0xID size=S refs=0
 *   reclaim device=D type=NAME kind=K id=0xID size=S refs=1
 * Entry i: device i % 2, type i % 7 (every memory type), kind i % 3 for
 * kernels (else 0), id 0x100000 + i * 0x1000, size 4096 * (i + 1).
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tt_alloc.h>

static const char *const type_names[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;

static void entry(unsigned int i, struct tt_alloc_buffer *b)
{
	memset(b, 0, sizeof(*b));
	b->device = i % 2;
	b->type = i % TT_ALLOC_MEM_COUNT;
	b->kind = b->type == TT_ALLOC_MEM_KERNEL ? i % 3 : 0;
	b->id = 0x100000ULL + i * 0x1000ULL;
	b->size = 4096ULL * (i + 1);
}

static void expect(const char *ev, const struct tt_alloc_buffer *b, unsigned int refs)
{
	printf("%s device=%u type=%s kind=%u id=0x%llx size=%llu refs=%u\n", ev,
	       b->device, type_names[b->type], b->kind,
	       (unsigned long long)b->id, (unsigned long long)b->size, refs);
}

int main(int argc, char **argv)
{
	const char *node = "/dev/tt_alloc";
	struct tt_alloc_buffer b;
	struct tt_alloc_info info;
	unsigned int i, n, m;
	int fd;

	if (argc > 2 && !strcmp(argv[1], "-d")) {
		node = argv[2];
		argc -= 2;
		argv += 2;
	}
	if (argc != 3) {
		fprintf(stderr, "usage: tt-trace-workload [-d DEVNODE] N M (M <= N)\n");
		return 2;
	}
	n = strtoul(argv[1], NULL, 0);
	m = strtoul(argv[2], NULL, 0);
	if (m > n) {
		fprintf(stderr, "tt-trace-workload: M > N\n");
		return 2;
	}
	fd = open(node, O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		fprintf(stderr, "tt-trace-workload: %s: %s\n", node, strerror(errno));
		return 1;
	}
	if (ioctl(fd, TT_ALLOC_IOC_INFO, &info)) {
		perror("tt-trace-workload: TT_ALLOC_IOC_INFO");
		return 1;
	}
	if (info.num_devices < 2) {
		fprintf(stderr, "tt-trace-workload: needs 2 devices, module has %u\n",
			info.num_devices);
		return 1;
	}
	printf("client %llu\npid %ld\n", (unsigned long long)info.client_id,
	       (long)getpid());
	for (i = 0; i < n; i++) {
		entry(i, &b);
		if (ioctl(fd, TT_ALLOC_IOC_ALLOC, &b)) {
			fprintf(stderr, "tt-trace-workload: ALLOC %u: %s\n", i, strerror(errno));
			return 1;
		}
		expect("alloc", &b, 1);
	}
	for (i = 0; i < m; i++) {
		entry(i, &b);
		if (ioctl(fd, TT_ALLOC_IOC_FREE, &b)) {
			fprintf(stderr, "tt-trace-workload: FREE %u: %s\n", i, strerror(errno));
			return 1;
		}
		expect("free", &b, 0);
	}
	for (i = m; i < n; i++) {
		entry(i, &b);
		expect("reclaim", &b, 1);
	}
	fflush(stdout);
	/* exit holding N - M entries: the release reclaims them */
	_exit(0);
}
