// SPDX-License-Identifier: GPL-2.0
/*
 * Guest test of tt_alloc.hpp against the real module (loaded with
 * defaults, run as root): RAII (a context's records go when it is
 * destroyed), moves, error codes, the scoped batch, usage and client
 * vectors. Device usage is checked with a raw ioctl on a separate file,
 * not through the code under test. TAP.
 */
#include <cerrno>
#include <cstdarg>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <tt_alloc/tt_alloc.hpp>

using ttalloc::kernel_kind;
using ttalloc::mem_type;

static int n, failed;

static void ok(bool cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void ok(bool cond, const char *fmt, ...)
{
	va_list ap;

	std::printf("%sok %d ", cond ? "" : "not ", ++n);
	va_start(ap, fmt);
	std::vprintf(fmt, ap);
	va_end(ap);
	std::putchar('\n');
	std::fflush(stdout);
	if (!cond)
		failed++;
}

/* Bytes in use of one type on device 0, from a fresh read-only file. */
static std::uint64_t device_used(mem_type t)
{
	const char *p = std::getenv("TT_ALLOC_DEVICE");
	int fd = open(p && *p ? p : "/dev/tt_alloc", O_RDONLY | O_CLOEXEC);
	tt_alloc_usage u{};

	u.device = 0;
	u.scope = TT_ALLOC_SCOPE_DEVICE;
	if (fd < 0 || ioctl(fd, TT_ALLOC_IOC_USAGE, &u)) {
		if (fd >= 0)
			close(fd);
		return UINT64_MAX;
	}
	close(fd);
	return u.used[static_cast<std::uint32_t>(t)];
}

static std::uint64_t file_entries(const ttalloc::context &c, mem_type t)
{
	tt_alloc_usage u{};

	c.usage(0, TT_ALLOC_SCOPE_FILE, u);
	return u.allocations[static_cast<std::uint32_t>(t)];
}

int main()
{
	std::error_code ec;

	setenv("TT_ALLOC_TRACKING_ENABLED", "1", 1);
	unsetenv("TT_ALLOC_BATCH_SIZE");
	const std::uint64_t trace0 = device_used(mem_type::trace);
	ok(trace0 != UINT64_MAX, "raw USAGE of device 0 works");

	{
		ttalloc::context scoped = ttalloc::context::open(ec);

		ok(!ec && scoped.enabled() && scoped.fd() >= 0, "open with TT_ALLOC_TRACKING_ENABLED=1 tracks");
		ok(!scoped.record(0, mem_type::trace, 1, 8 << 20), "record 8 MiB TRACE");
		ok(device_used(mem_type::trace) == trace0 + (8 << 20), "device usage grew by 8 MiB");
	}
	ok(device_used(mem_type::trace) == trace0, "destroying the context released its records (RAII)");

	ttalloc::context ctx = ttalloc::context::open(ec);
	tt_alloc_info info{};
	ec = ctx.info(info);
	ok(!ec && info.api_version == TT_ALLOC_API_VERSION && info.num_devices >= 1,
	   "info: api %u, %u devices", info.api_version, info.num_devices);
	ok(ctx.features() == (TT_ALLOC_FEATURE_CLIENTS_CURSOR | TT_ALLOC_FEATURE_ELEM_SIZE |
	    TT_ALLOC_FEATURE_CLIENT_OWNER),
	   "features in use: the clients cursor, the element sizes, the client owner");

	ok(!ctx.record(0, mem_type::dram, 0x1000, 4096), "record 4 KiB DRAM");
	ec = ctx.record(0, mem_type::dram, 0x1000, 8192);
	ok(ec == std::errc::file_exists, "same key, other size: std::errc::file_exists (%s)", ttalloc::message(ec));
	ec = ctx.free(0, mem_type::dram, 0x9999);
	ok(ec == std::errc::no_such_file_or_directory, "free of an unknown key: no_such_file_or_directory");
	ec = ctx.record(info.num_devices, mem_type::dram, 1, 1);
	ok(ec == std::errc::no_such_device, "record on a missing device: no_such_device");
	ok(!ctx.free(0, mem_type::dram, 0x1000), "free the DRAM record");
	ok(!ctx.record(0, mem_type::kernel, 0xf000, 56 << 10, kernel_kind::fabric), "record a fabric kernel");

	/* scoped batch: queued inside, sent when the scope ends */
	ctx.set_flush_delay(0);
	{
		ttalloc::batch b(ctx);

		for (std::uint64_t i = 0; i < 3; i++)
			b.record(0, mem_type::cb, 0x100 + i, 4096);
		ok(ctx.queued() == 3 && file_entries(ctx, mem_type::cb) == 0,
		   "scoped batch: 3 ops queued, none applied yet");
	}
	ok(ctx.queued() == 0 && file_entries(ctx, mem_type::cb) == 3, "end of scope: the batch was flushed");

	{
		ttalloc::batch b(ctx);

		b.free(0, mem_type::cb, 0x100).free(0, mem_type::cb, 0x999).free(0, mem_type::cb, 0x101);
		ec = b.commit();
		ok(ec == std::errc::no_such_file_or_directory && b.done() == 2 &&
		   file_entries(ctx, mem_type::cb) == 1,
		   "commit: the refused free is reported, the two others applied (done %u)", b.done());
		ok(b.record(0, mem_type::cb, 1, 1).status() == std::errc::no_such_file_or_directory,
		   "status keeps the first error");
	}
	ok(ctx.error_count() == 1 && ctx.last_error() == std::errc::no_such_file_or_directory,
	   "context: error count 1, last error ENOENT");

	std::vector<tt_alloc_usage> all = ctx.usage_all(TT_ALLOC_SCOPE_FILE, ec);
	ok(!ec && all.size() == info.num_devices &&
	   all[0].allocations[TT_ALLOC_MEM_CB] == 1 && all[0].used[TT_ALLOC_MEM_KERNEL] == 56 << 10,
	   "usage_all: one entry per device, this file's CB and kernel on device 0");
	std::vector<tt_alloc_client> rows = ctx.clients(ec);
	bool found = false;
	for (const tt_alloc_client &r : rows)
		if (r.client_id == info.client_id && r.pid == static_cast<std::uint32_t>(getpid()) &&
		    r.device == 0 && ttalloc::comm(r) == "tt-alloc-cxx-te")
			found = true;
	ok(!ec && found, "clients: this process's row, comm via ttalloc::comm()");

	/* moves */
	ttalloc::context moved(std::move(ctx));
	ok(!ctx.enabled() && moved.enabled() && file_entries(moved, mem_type::cb) == 1,
	   "moved-from context is a no-op, the new owner holds the records");
	const std::uint64_t dram0 = device_used(mem_type::dram);
	ok(!ctx.record(0, mem_type::dram, 5, 5) && device_used(mem_type::dram) == dram0,
	   "calls on the moved-from context succeed and record nothing");
	ttalloc::context second = ttalloc::context::open();
	ok(!second.record(0, mem_type::trace, 2, 4 << 20) &&
	   device_used(mem_type::trace) == trace0 + (4 << 20), "a second context records 4 MiB TRACE");
	second = std::move(moved);
	ok(device_used(mem_type::trace) == trace0 && second.enabled() &&
	   file_entries(second, mem_type::cb) == 1,
	   "move assignment closed the second context (its TRACE gone) and took the first");
	const std::uint64_t kern1 = device_used(mem_type::kernel);
	ok(!second.close() && !second.enabled(), "close() returns no error, leaves a no-op context");
	ok(device_used(mem_type::kernel) == kern1 - (56 << 10),
	   "close() released the fabric kernel recorded through the first context");

	std::printf("1..%d\n", n);
	return failed ? 1 : 0;
}
