// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * libttalloc: diagnostics (the log callback) and tt_alloc_strerror().
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

/* ---- diagnostics ------------------------------------------------------- */

static pthread_mutex_t log_lock = PTHREAD_MUTEX_INITIALIZER;
static tt_alloc_log_fn log_fn;
static void *log_arg;
static atomic_int tt_alloc_warned;

/*
 * One message to the log callback, or, without one, warnings to stderr at
 * most once per process (a runtime's log is not ours to fill).
 */
void tta_log(unsigned int flags, int level, const char *fmt, ...)
{
	tt_alloc_log_fn fn;
	void *arg;
	char msg[512];
	va_list ap;

	if (flags & TT_ALLOC_OPEN_QUIET)
		return;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	pthread_mutex_lock(&log_lock);
	fn = log_fn;
	arg = log_arg;
	pthread_mutex_unlock(&log_lock);
	if (fn) {
		fn(level, msg, arg);
		return;
	}
	if (level > TT_ALLOC_LOG_WARNING || atomic_exchange(&tt_alloc_warned, 1))
		return;
	fprintf(stderr, "libttalloc: %s\n", msg);
}

TT_ALLOC_EXPORT
void tt_alloc_set_log_callback(tt_alloc_log_fn fn, void *arg)
{
	pthread_mutex_lock(&log_lock);
	log_fn = fn;
	log_arg = fn ? arg : NULL;
	pthread_mutex_unlock(&log_lock);
}

TT_ALLOC_EXPORT
const char *tt_alloc_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "Success";
	case ENOTTY:
		return "device does not understand this tt_alloc request (ENOTTY)";
	case EINVAL:
		return "invalid argument: bad type, kind, size, flags or scope (EINVAL)";
	case ENODEV:
		return "no such tt_alloc device number (ENODEV)";
	case E2BIG:
		return "too many entries in one request (E2BIG)";
	case EEXIST:
		return "allocation already recorded with another size or kind (EEXIST)";
	case ENOENT:
		return "allocation not recorded by this file, or device node missing (ENOENT)";
	case EDQUOT:
		return "allocation limit reached: max_allocations_per_file, max_bytes_per_file, max_allocations_per_user or a cgroup's dmem.max (EDQUOT)";
	case ENOSPC:
		return "allocation exceeds the device's capacity (enforce_capacity) (ENOSPC)";
	case EOVERFLOW:
		return "byte counter or reference count would overflow (EOVERFLOW)";
	case EPROTO:
		return "tt_alloc API version mismatch (EPROTO)";
	default:
		return strerror(err);
	}
}
