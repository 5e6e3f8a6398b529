// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: memory type and kernel kind names, the library version.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/ioctl.h>
#include <time.h>
#include <unistd.h>

#include "private.h"

static const char *const mem_names[TT_ALLOC_MEM_COUNT] = TT_ALLOC_MEM_NAMES;

static const char *const kind_names[] = {
	[TT_ALLOC_KERNEL_APP] = "app",
	[TT_ALLOC_KERNEL_FABRIC] = "fabric",
	[TT_ALLOC_KERNEL_DISPATCH] = "dispatch",
};

TT_ALLOC_EXPORT
const char *tt_alloc_mem_type_name(uint32_t type)
{
	return type < TT_ALLOC_MEM_COUNT ? mem_names[type] : "unknown";
}

TT_ALLOC_EXPORT
const char *tt_alloc_kernel_kind_name(uint32_t kind)
{
	return kind < sizeof(kind_names) / sizeof(kind_names[0]) ?
		kind_names[kind] : "unknown";
}

static int parse_number(const char *s)
{
	char *end;
	unsigned long v;

	if (!s || *s < '0' || *s > '9')
		return -EINVAL;
	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || *end || v > INT_MAX)
		return -EINVAL;
	return (int)v;
}

static int lookup(const char *name, const char *const *names, size_t n)
{
	size_t i;

	if (!name)
		return -EINVAL;
	for (i = 0; i < n; i++)
		if (!strcasecmp(name, names[i]))
			return (int)i;
	return parse_number(name);
}

TT_ALLOC_EXPORT
int tt_alloc_mem_type_from_name(const char *name)
{
	return lookup(name, mem_names, TT_ALLOC_MEM_COUNT);
}

TT_ALLOC_EXPORT
int tt_alloc_kernel_kind_from_name(const char *name)
{
	return lookup(name, kind_names, sizeof(kind_names) / sizeof(kind_names[0]));
}

TT_ALLOC_EXPORT
const char *tt_alloc_library_version(void)
{
	return TT_ALLOC_VERSION;
}
