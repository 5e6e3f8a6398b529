// SPDX-License-Identifier: GPL-2.0
/*
 * Test helper (installed under lib/tt_alloc/): raw TT_ALLOC_IOC_USAGE in
 * device scope, without libttalloc, so tests can compare the tools with
 * the kernel. Prints one line per memory type:
 *   <type> <used_bytes> <allocations> <peak_bytes> <capacity_bytes>
 * Usage: tt-alloc-usage DEVICE
 */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <linux/tt_alloc.h>

static const char *const names[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;

int main(int argc, char **argv)
{
	const char *path = getenv("TT_ALLOC_DEVICE");
	struct tt_alloc_usage u;
	int fd, t;

	if (argc != 2) {
		fprintf(stderr, "usage: %s DEVICE\n", argv[0]);
		return 2;
	}
	fd = open(path && *path ? path : "/dev/tt_alloc", O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror("open");
		return 1;
	}
	memset(&u, 0, sizeof(u));
	u.device = (unsigned int)strtoul(argv[1], NULL, 0);
	u.scope = TT_ALLOC_SCOPE_DEVICE;
	if (ioctl(fd, TT_ALLOC_IOC_USAGE, &u) < 0) {
		perror("TT_ALLOC_IOC_USAGE");
		close(fd);
		return 1;
	}
	close(fd);
	for (t = 0; t < TT_ALLOC_MEM_COUNT; t++)
		printf("%s %llu %llu %llu %llu\n", names[t],
		       (unsigned long long)u.used[t], (unsigned long long)u.allocations[t],
		       (unsigned long long)u.peak[t], (unsigned long long)u.capacity[t]);
	return 0;
}
