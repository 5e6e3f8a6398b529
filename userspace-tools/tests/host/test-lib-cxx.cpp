// SPDX-License-Identifier: GPL-2.0
/*
 * Host test of tt_alloc.hpp: it compiles as C++17 with -Wall -Wextra
 * -Werror -pedantic (the Makefile also compiles it with -fno-exceptions),
 * the uapi structure names are usable as types (tt_alloc_usage u{};), the
 * context is move-only, and on a no-op context (tracking not enabled)
 * every call succeeds with empty results. The real module is exercised by
 * the guest test tt-alloc-cxx-test. TAP.
 */
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <type_traits>

#include <tt_alloc/tt_alloc.hpp>

/* The names collided with functions once; they must be plain types. */
static_assert(std::is_trivial<tt_alloc_usage>::value, "tt_alloc_usage is a type");
static_assert(std::is_trivial<tt_alloc_info>::value, "tt_alloc_info is a type");
static_assert(std::is_trivial<tt_alloc_client>::value, "tt_alloc_client is a type");
static_assert(!std::is_copy_constructible<ttalloc::context>::value, "context is not copyable");
static_assert(!std::is_copy_assignable<ttalloc::context>::value, "context is not copy-assignable");
static_assert(std::is_nothrow_move_constructible<ttalloc::context>::value, "context moves without throwing");
static_assert(std::is_nothrow_move_assignable<ttalloc::context>::value, "context move-assigns without throwing");
static_assert(!std::is_copy_constructible<ttalloc::batch>::value, "batch is not copyable");
static_assert(static_cast<std::uint32_t>(ttalloc::mem_type::kernel) == TT_ALLOC_MEM_KERNEL, "mem_type numbers");

static int n, failed;

static void ok(bool cond, const char *name)
{
	std::printf("%sok %d %s\n", cond ? "" : "not ", ++n, name);
	std::fflush(stdout);
	if (!cond)
		failed++;
}

int main()
{
	tt_alloc_usage u{};
	tt_alloc_info info{};
	std::error_code ec;

	unsetenv("TT_ALLOC_TRACKING_ENABLED");
	ok(u.used[0] == 0 && info.api_version == 0, "tt_alloc_usage u{}; value-initialises the uapi struct");

	ttalloc::context none;
	ok(!none.enabled() && !none && none.get() == nullptr && none.fd() == -1,
	   "default-constructed context is a no-op one");
	ok(!none.record(0, ttalloc::mem_type::dram, 1, 4096) && !none.flush() && !none.close(),
	   "calls on it succeed");

	ttalloc::context ctx = ttalloc::context::open(ec);
	ok(!ec && ctx.get() != nullptr && !ctx.enabled(),
	   "open() without TT_ALLOC_TRACKING_ENABLED: a no-op context, no error");
	ok(!ctx.record(0, ttalloc::mem_type::kernel, 0xf000, 56 << 10, ttalloc::kernel_kind::fabric) &&
	   !ctx.queue_record(0, ttalloc::mem_type::l1, 2, 64) && !ctx.queue_free(0, ttalloc::mem_type::l1, 2) &&
	   !ctx.free(0, ttalloc::mem_type::kernel, 0xf000) && ctx.queued() == 0,
	   "no-op context: record, queue, free succeed, nothing queued");
	{
		ttalloc::batch b(ctx);

		b.record(0, ttalloc::mem_type::cb, 1, 4096).record(0, ttalloc::mem_type::cb, 2, 4096);
		ok(!b.status() && !b.commit() && b.done() == 0, "scoped batch on a no-op context: commit succeeds");
		ok(b.record(0, ttalloc::mem_type::cb, 3, 1).status() == std::errc::operation_not_permitted,
		   "batch after commit: operation_not_permitted");
	}
	ok(ctx.usage_all(TT_ALLOC_SCOPE_DEVICE, ec).empty() && !ec, "usage_all on a no-op context: empty");
	ok(ctx.clients(ec).empty() && !ec, "clients on a no-op context: empty");
	ok(!ctx.set_flush_delay(20) && ctx.flush_delay() == 20 &&
	   ctx.set_flush_delay(TT_ALLOC_FLUSH_DELAY_MAX_MS + 1) == std::errc::invalid_argument,
	   "set_flush_delay: value kept, too large is invalid_argument");
	ok(ctx.error_count() == 0 && !ctx.last_error(), "no errors counted");

	tt_alloc_ctx *raw = ctx.get();
	ttalloc::context moved(std::move(ctx));
	ok(moved.get() == raw && ctx.get() == nullptr, "move construction transfers the handle");
	ttalloc::context other = ttalloc::context::open();
	other = std::move(moved);
	ok(other.get() == raw && moved.get() == nullptr, "move assignment closes the old handle, takes the new");
	ok(!other.close() && other.get() == nullptr, "close() leaves a no-op context");

	ok(ttalloc::to_error(-EEXIST) == std::errc::file_exists && !ttalloc::to_error(0) &&
	   std::strstr(ttalloc::message(ttalloc::to_error(-EEXIST)), "EEXIST"),
	   "errors are std::errc-comparable, message() is tt_alloc's text");
	ok(!std::strcmp(ttalloc::type_name(ttalloc::mem_type::l1_small), "l1_small"), "type_name()");
	tt_alloc_client row{};
	std::memcpy(row.comm, "python3", 7);
	ok(ttalloc::comm(row) == "python3", "comm() of a client row");

	ctx = ttalloc::context::open_ex("/nonexistent/tt_alloc", TT_ALLOC_OPEN_MONITOR, ec);
	ok(ec == std::errc::no_such_file_or_directory && ctx.get() == nullptr,
	   "open_ex monitor of a missing node: no_such_file_or_directory");

	std::printf("1..%d\n", n);
	return failed ? 1 : 0;
}
