// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of libttalloc without a kernel: the no-op contract, the
 * once-per-process diagnostic, monitor-mode errors, the helpers. TAP.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tt_alloc/libttalloc.h"

static int n, failed;

static void ok(int cond, const char *name)
{
	printf("%sok %d %s\n", cond ? "" : "not ", ++n, name);
	if (!cond)
		failed++;
	fflush(stdout);
}

/* stderr capture */
static int saved_fd = -1;
static char cap_path[] = "/tmp/tt-alloc-noop-XXXXXX";
static int cap_fd = -1;

static void capture_start(void)
{
	fflush(stderr);
	cap_fd = mkstemp(cap_path);
	saved_fd = dup(2);
	dup2(cap_fd, 2);
}

static int capture_lines(char *buf, size_t len)
{
	ssize_t r;
	int lines = 0;
	ssize_t i;

	fflush(stderr);
	dup2(saved_fd, 2);
	close(saved_fd);
	lseek(cap_fd, 0, SEEK_SET);
	r = read(cap_fd, buf, len - 1);
	if (r < 0)
		r = 0;
	buf[r] = '\0';
	close(cap_fd);
	unlink(cap_path);
	strcpy(cap_path, "/tmp/tt-alloc-noop-XXXXXX");
	for (i = 0; i < r; i++)
		lines += buf[i] == '\n';
	return lines;
}

static int all_noop_calls(struct tt_alloc_ctx *ctx)
{
	struct tt_alloc_info info;
	struct tt_alloc_usage u;
	struct tt_alloc_client *rows = (struct tt_alloc_client *)1;
	size_t count = 99;
	uint32_t done = 7;
	int bad = 0;

	memset(&info, 0xff, sizeof(info));
	memset(&u, 0xff, sizeof(u));
	bad |= tt_alloc_get_info(ctx, &info) != 0 || info.api_version || info.num_devices;
	bad |= tt_alloc_record(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000, 4096, 0) != 0;
	bad |= tt_alloc_record(ctx, 99, 42, 0, 0, 9) != 0;	/* even nonsense succeeds */
	bad |= tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x1000) != 0;
	bad |= tt_alloc_free(ctx, 0, TT_ALLOC_MEM_DRAM, 0x9999) != 0;
	bad |= tt_alloc_queue_record(ctx, 0, TT_ALLOC_MEM_L1, 1, 64, 0) != 0;
	bad |= tt_alloc_queue_free(ctx, 0, TT_ALLOC_MEM_L1, 1) != 0;
	bad |= tt_alloc_queued(ctx) != 0;
	bad |= tt_alloc_flush(ctx, &done) != 0 || done != 0;
	bad |= tt_alloc_get_usage(ctx, 0, TT_ALLOC_SCOPE_DEVICE, &u) != 0 || u.used[0] || u.capacity[0];
	bad |= tt_alloc_get_clients(ctx, &rows, &count) != 0 || rows || count;
	bad |= tt_alloc_enabled(ctx) != 0 || tt_alloc_fd(ctx) != -1;
	return !bad;
}

int main(void)
{
	struct tt_alloc_ctx *ctx = NULL;
	char buf[4096];
	int ret, lines;

	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	unsetenv("TT_ALLOC_BATCH_SIZE");
	setenv("TT_ALLOC_DEVICE", "/nonexistent/tt_alloc", 1);

	capture_start();
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && ctx, "env unset: open succeeds with a context");
	ok(!tt_alloc_enabled(ctx), "env unset: context is a no-op");
	ok(all_noop_calls(ctx), "env unset: every call succeeds and reports nothing");
	ok(tt_alloc_close(ctx) == 0, "env unset: close succeeds");
	lines = capture_lines(buf, sizeof(buf));
	ok(lines == 0, "env unset: nothing on stderr");

	ok(all_noop_calls(NULL), "NULL context: every call is a no-op");
	ok(tt_alloc_close(NULL) == 0, "NULL context: close succeeds");

	capture_start();
	setenv("TT_ALLOC_TRACKING_ENABLED", "0", 1);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && !tt_alloc_enabled(ctx), "env=0: no-op");
	tt_alloc_close(ctx);
	setenv("TT_ALLOC_TRACKING_ENABLED", "yes", 1);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && !tt_alloc_enabled(ctx), "env=yes (not 1): no-op");
	tt_alloc_close(ctx);
	lines = capture_lines(buf, sizeof(buf));
	ok(lines == 0, "env not 1: nothing on stderr");

	capture_start();
	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && ctx && !tt_alloc_enabled(ctx), "env=1, device absent: open succeeds, no-op");
	ok(all_noop_calls(ctx), "env=1, device absent: every call succeeds");
	tt_alloc_close(ctx);
	ret = tt_alloc_open(&ctx);
	tt_alloc_close(ctx);
	/* /dev/null opens but is not tt_alloc: INFO fails, still a no-op */
	setenv("TT_ALLOC_DEVICE", "/dev/null", 1);
	ret = tt_alloc_open(&ctx);
	ok(ret == 0 && !tt_alloc_enabled(ctx), "env=1, device is not tt_alloc: no-op");
	tt_alloc_close(ctx);
	lines = capture_lines(buf, sizeof(buf));
	ok(lines == 1, "env=1, device absent: exactly one diagnostic line per process");
	ok(strstr(buf, "libttalloc:") && strstr(buf, "/nonexistent/tt_alloc"),
	   "diagnostic names the library and the device path");

	ctx = (struct tt_alloc_ctx *)1;
	ret = tt_alloc_open_ex("/nonexistent/tt_alloc", TT_ALLOC_OPEN_MONITOR, &ctx);
	ok(ret == -ENOENT && ctx == NULL, "monitor mode: missing device is -ENOENT");
	ret = tt_alloc_open_ex("/dev/null", TT_ALLOC_OPEN_MONITOR | TT_ALLOC_OPEN_QUIET, &ctx);
	ok(ret == -ENOTTY && ctx == NULL, "monitor mode: non-tt_alloc device is -ENOTTY");
	ok(tt_alloc_open_ex(NULL, 0, NULL) == -EINVAL, "open_ex without ctxp is -EINVAL");

	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	setenv("TT_ALLOC_BATCH_SIZE", "100", 1);
	tt_alloc_open(&ctx);
	ok(tt_alloc_batch_size(ctx) == 100, "TT_ALLOC_BATCH_SIZE sets the default batch size");
	ok(tt_alloc_set_batch_size(ctx, TT_ALLOC_BATCH_MAX + 1) == -EINVAL,
	   "batch size above TT_ALLOC_BATCH_MAX is -EINVAL");
	ok(tt_alloc_set_batch_size(ctx, 10) == 0 && tt_alloc_batch_size(ctx) == 10,
	   "batch size can be set");
	ok(tt_alloc_set_batch_size(ctx, 0) == 0 && tt_alloc_batch_size(ctx) == 100,
	   "batch size 0 restores the default");
	tt_alloc_close(ctx);
	unsetenv("TT_ALLOC_BATCH_SIZE");
	tt_alloc_open(&ctx);
	ok(tt_alloc_batch_size(ctx) == TT_ALLOC_BATCH_MAX, "default batch size is TT_ALLOC_BATCH_MAX");
	tt_alloc_close(ctx);

	ok(!strcmp(tt_alloc_strerror(0), "Success"), "strerror(0)");
	ok(strstr(tt_alloc_strerror(-EEXIST), "EEXIST") != NULL, "strerror(-EEXIST)");
	ok(strstr(tt_alloc_strerror(-EDQUOT), "max_allocations_per_file") != NULL, "strerror(-EDQUOT)");
	ok(strstr(tt_alloc_strerror(ENOSPC), "capacity") != NULL, "strerror accepts positive errno");
	/* strerror() may reuse its buffer for unknown errors: copy first */
	snprintf(buf, sizeof(buf), "%s", tt_alloc_strerror(-123456));
	ok(!strcmp(buf, strerror(123456)), "strerror of an unknown error is the C library's text");
	ok(strcmp(tt_alloc_strerror(-EEXIST), tt_alloc_strerror(-ENOENT)) != 0,
	   "strerror tells errors apart");

	ok(!strcmp(tt_alloc_mem_type_name(TT_ALLOC_MEM_L1_SMALL), "l1_small") &&
	   !strcmp(tt_alloc_mem_type_name(99), "unknown"), "mem type names");
	ok(tt_alloc_mem_type_from_name("TRACE") == TT_ALLOC_MEM_TRACE &&
	   tt_alloc_mem_type_from_name("6") == TT_ALLOC_MEM_KERNEL &&
	   tt_alloc_mem_type_from_name("bogus") == -EINVAL &&
	   tt_alloc_mem_type_from_name("") == -EINVAL, "mem type parsing");
	ok(tt_alloc_kernel_kind_from_name("dispatch") == TT_ALLOC_KERNEL_DISPATCH &&
	   !strcmp(tt_alloc_kernel_kind_name(TT_ALLOC_KERNEL_FABRIC), "fabric") &&
	   tt_alloc_kernel_kind_from_name("fab") == -EINVAL, "kernel kind names");
	{
		const char *want = getenv("TT_EXPECT_VERSION");

		/* not "unknown", the Makefile's fallback: the VERSION file's */
		ok(want && *want && tt_alloc_library_version() &&
		   !strcmp(tt_alloc_library_version(), want),
		   "library version is the VERSION file's");
	}

	printf("1..%d\n", n);
	return failed ? 1 : 0;
}
