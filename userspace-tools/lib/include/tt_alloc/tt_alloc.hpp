/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * tt_alloc.hpp: a header-only C++17 layer over libttalloc.
 *
 * ttalloc::context owns one struct tt_alloc_ctx (move-only, closed by its
 * destructor), ttalloc::batch queues ops and flushes them when it goes out
 * of scope. Nothing here throws: errors are std::error_code values in
 * std::generic_category() (the library's negative errno, made positive),
 * so they compare with std::errc (ec == std::errc::file_exists). Only the
 * std::vector helpers allocate (with -fno-exceptions an allocation failure
 * ends the program, as any std::vector does).
 *
 * Link with libttalloc (pkg-config --cflags --libs libttalloc). See
 * Documentation/userspace-api/libttalloc.rst, "C++".
 */
#ifndef TT_ALLOC_TT_ALLOC_HPP
#define TT_ALLOC_TT_ALLOC_HPP

#include <cstddef>
#include <cstdint>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <tt_alloc/libttalloc.h>

namespace ttalloc {

/** enum class mem_type - the memory types, numbered as TT_ALLOC_MEM_* */
enum class mem_type : std::uint32_t {
	dram = TT_ALLOC_MEM_DRAM,
	l1 = TT_ALLOC_MEM_L1,
	system = TT_ALLOC_MEM_SYSTEM,
	l1_small = TT_ALLOC_MEM_L1_SMALL,
	trace = TT_ALLOC_MEM_TRACE,
	cb = TT_ALLOC_MEM_CB,
	kernel = TT_ALLOC_MEM_KERNEL,
};

/** enum class kernel_kind - TT_ALLOC_KERNEL_*, for mem_type::kernel only */
enum class kernel_kind : std::uint32_t {
	app = TT_ALLOC_KERNEL_APP,
	fabric = TT_ALLOC_KERNEL_FABRIC,
	dispatch = TT_ALLOC_KERNEL_DISPATCH,
};

/**
 * to_error() - a libttalloc return value as a std::error_code
 * @ret: 0 or a negative errno
 *
 * Return: an empty code for @ret >= 0, else -@ret in std::generic_category().
 */
inline std::error_code to_error(int ret) noexcept
{
	return ret < 0 ? std::error_code(-ret, std::generic_category()) : std::error_code();
}

/**
 * message() - tt_alloc's own text for an error code
 * @ec: a code from this header
 *
 * Return: tt_alloc_strerror()'s text (e.g. what EEXIST means for a record).
 */
inline const char *message(std::error_code ec) noexcept
{
	return tt_alloc_strerror(-ec.value());
}

/**
 * class context - one open /dev/tt_alloc file (or a no-op one)
 *
 * A default-constructed or moved-from context is a no-op context: every
 * call succeeds and records nothing, as for a NULL struct tt_alloc_ctx.
 * The destructor calls tt_alloc_close() (flush, then the kernel drops what
 * the file still holds); call close() first to see the flush's error.
 */
class context {
public:
	context() noexcept = default;

	/** context(ctx) - take ownership of a struct tt_alloc_ctx */
	explicit context(tt_alloc_ctx *ctx) noexcept : ctx_(ctx) {}

	context(const context &) = delete;
	context &operator=(const context &) = delete;

	context(context &&other) noexcept : ctx_(other.ctx_)
	{
		other.ctx_ = nullptr;
	}

	/* The context assigned over is closed first. */
	context &operator=(context &&other) noexcept
	{
		if (this != &other) {
			close();
			ctx_ = other.ctx_;
			other.ctx_ = nullptr;
		}
		return *this;
	}

	~context()
	{
		close();
	}

	/**
	 * open() - tt_alloc_open(): tracking when TT_ALLOC_TRACKING_ENABLED=1
	 * @ec: out: empty, or std::errc::not_enough_memory (the context is
	 *	then a no-op one)
	 */
	static context open(std::error_code &ec) noexcept
	{
		tt_alloc_ctx *c = nullptr;

		ec = to_error(tt_alloc_open(&c));
		return context(c);
	}

	/** open() - the same, for callers that do not look at the error */
	static context open() noexcept
	{
		std::error_code ec;

		return open(ec);
	}

	/**
	 * open_ex() - tt_alloc_open_ex(): another node, TT_ALLOC_OPEN_* flags
	 * @path: the node, nullptr for $TT_ALLOC_DEVICE or /dev/tt_alloc
	 * @flags: TT_ALLOC_OPEN_MONITOR, TT_ALLOC_OPEN_QUIET
	 * @ec: out: the error (monitor mode reports open(2)'s)
	 */
	static context open_ex(const char *path, unsigned int flags,
			       std::error_code &ec) noexcept
	{
		tt_alloc_ctx *c = nullptr;

		ec = to_error(tt_alloc_open_ex(path, flags, &c));
		return context(c);
	}

	/**
	 * close() - tt_alloc_close() now; the context is a no-op one after
	 *
	 * Return: the error of the first op the final flush could not apply.
	 */
	std::error_code close() noexcept
	{
		tt_alloc_ctx *c = ctx_;

		ctx_ = nullptr;
		return to_error(tt_alloc_close(c));
	}

	/** get() - the C handle, still owned by this object */
	tt_alloc_ctx *get() const noexcept { return ctx_; }

	/** release() - give up ownership of the C handle */
	tt_alloc_ctx *release() noexcept
	{
		tt_alloc_ctx *c = ctx_;

		ctx_ = nullptr;
		return c;
	}

	/** enabled() - do calls reach the kernel? */
	bool enabled() const noexcept { return tt_alloc_enabled(ctx_) != 0; }
	explicit operator bool() const noexcept { return enabled(); }

	/** fd() - the file descriptor, -1 for a no-op context */
	int fd() const noexcept { return tt_alloc_fd(ctx_); }

	/** features() - the kernel's feature bits in use */
	std::uint64_t features() const noexcept { return tt_alloc_features(ctx_); }

	/** record() - tt_alloc_record() */
	std::error_code record(std::uint32_t device, mem_type type, std::uint64_t id,
			       std::uint64_t size,
			       kernel_kind kind = kernel_kind::app) noexcept
	{
		return to_error(tt_alloc_record(ctx_, device, static_cast<std::uint32_t>(type),
						id, size, static_cast<std::uint32_t>(kind)));
	}

	/** free() - tt_alloc_free(): drop one reference */
	std::error_code free(std::uint32_t device, mem_type type, std::uint64_t id) noexcept
	{
		return to_error(tt_alloc_free(ctx_, device, static_cast<std::uint32_t>(type), id));
	}

	/** queue_record() - tt_alloc_queue_record() */
	std::error_code queue_record(std::uint32_t device, mem_type type, std::uint64_t id,
				     std::uint64_t size,
				     kernel_kind kind = kernel_kind::app) noexcept
	{
		return to_error(tt_alloc_queue_record(ctx_, device, static_cast<std::uint32_t>(type),
						      id, size, static_cast<std::uint32_t>(kind)));
	}

	/** queue_free() - tt_alloc_queue_free() */
	std::error_code queue_free(std::uint32_t device, mem_type type, std::uint64_t id) noexcept
	{
		return to_error(tt_alloc_queue_free(ctx_, device, static_cast<std::uint32_t>(type), id));
	}

	/**
	 * flush() - tt_alloc_flush()
	 * @done: out, may be nullptr: ops applied
	 *
	 * Return: empty when every queued op was applied, else the first
	 * refused op's error (the others were applied).
	 */
	std::error_code flush(std::uint32_t *done = nullptr) noexcept
	{
		return to_error(tt_alloc_flush(ctx_, done));
	}

	/** queued() - ops waiting in the queue */
	std::size_t queued() const noexcept { return tt_alloc_queued(ctx_); }

	/** set_batch_size() - automatic flush threshold, 0 for the default */
	std::error_code set_batch_size(std::size_t n) noexcept
	{
		return to_error(tt_alloc_set_batch_size(ctx_, n));
	}

	/** batch_size() - the automatic flush threshold */
	std::size_t batch_size() const noexcept { return tt_alloc_batch_size(ctx_); }

	/** set_flush_delay() - milliseconds an op may wait, 0 for off */
	std::error_code set_flush_delay(unsigned int ms) noexcept
	{
		return to_error(tt_alloc_set_flush_delay(ctx_, ms));
	}

	/** flush_delay() - the current flush delay in milliseconds */
	unsigned int flush_delay() const noexcept { return tt_alloc_flush_delay(ctx_); }

	/** error_count() - queued ops the kernel refused so far */
	std::uint64_t error_count() const noexcept { return tt_alloc_error_count(ctx_); }

	/** last_error() - the last refused queued op's error */
	std::error_code last_error() const noexcept { return to_error(tt_alloc_last_error(ctx_)); }

	/**
	 * set_error_callback() - tt_alloc_set_error_callback()
	 * @fn: called once per refused queued op (see tt_alloc_error_fn for
	 *	where it runs), nullptr for none
	 * @arg: passed to @fn; must outlive the context
	 */
	std::error_code set_error_callback(tt_alloc_error_fn fn, void *arg) noexcept
	{
		return to_error(tt_alloc_set_error_callback(ctx_, fn, arg));
	}

	/** info() - TT_ALLOC_IOC_INFO; all 0 for a no-op context */
	std::error_code info(tt_alloc_info &out) const noexcept
	{
		return to_error(tt_alloc_get_info(ctx_, &out));
	}

	/**
	 * usage() - TT_ALLOC_IOC_USAGE of one device
	 * @device: device number
	 * @scope: TT_ALLOC_SCOPE_FILE (this context) or TT_ALLOC_SCOPE_DEVICE
	 * @out: the counters
	 */
	std::error_code usage(std::uint32_t device, std::uint32_t scope,
			      tt_alloc_usage &out) const noexcept
	{
		return to_error(tt_alloc_get_usage(ctx_, device, scope, &out));
	}

	/**
	 * usage_all() - the usage of every device, index = device number
	 * @scope: TT_ALLOC_SCOPE_FILE or TT_ALLOC_SCOPE_DEVICE
	 * @ec: out: the first error (the vector is then empty)
	 *
	 * Return: one tt_alloc_usage per device; empty for a no-op context.
	 */
	std::vector<tt_alloc_usage> usage_all(std::uint32_t scope, std::error_code &ec) const
	{
		std::vector<tt_alloc_usage> v;
		tt_alloc_info in{};

		ec = info(in);
		if (ec)
			return v;
		v.resize(in.num_devices);
		for (std::uint32_t d = 0; d < in.num_devices; d++) {
			ec = usage(d, scope, v[d]);
			if (ec) {
				v.clear();
				break;
			}
		}
		return v;
	}

	/**
	 * clients() - the whole client list (tt_alloc_get_clients())
	 * @ec: out: the error (the vector is then empty)
	 *
	 * Return: one row per client and device; empty for a no-op context.
	 */
	std::vector<tt_alloc_client> clients(std::error_code &ec) const
	{
		tt_alloc_client *rows = nullptr;
		std::size_t n = 0;
		std::vector<tt_alloc_client> v;

		ec = to_error(tt_alloc_get_clients(ctx_, &rows, &n));
		if (!ec && rows)
			v.assign(rows, rows + n);
		tt_alloc_clients_free(rows);
		return v;
	}

private:
	tt_alloc_ctx *ctx_ = nullptr;
};

/**
 * class batch - ops queued together, flushed when the scope ends
 *
 * Queues into the context's queue (so the usual automatic and background
 * flushes still apply) and flushes at commit() or in the destructor. The
 * first error seen (of a queue call or of the flush) is kept: commit()
 * returns it; after the destructor it is gone, so commit() when the
 * outcome matters. Not thread-safe itself; the context is.
 */
class batch {
public:
	explicit batch(context &ctx) noexcept : ctx_(&ctx) {}
	batch(const batch &) = delete;
	batch &operator=(const batch &) = delete;

	~batch()
	{
		if (ctx_)
			commit();
	}

	/** record() - queue an allocation */
	batch &record(std::uint32_t device, mem_type type, std::uint64_t id,
		      std::uint64_t size, kernel_kind kind = kernel_kind::app) noexcept
	{
		keep(ctx_ ? ctx_->queue_record(device, type, id, size, kind) :
			    std::make_error_code(std::errc::operation_not_permitted));
		return *this;
	}

	/** free() - queue a free */
	batch &free(std::uint32_t device, mem_type type, std::uint64_t id) noexcept
	{
		keep(ctx_ ? ctx_->queue_free(device, type, id) :
			    std::make_error_code(std::errc::operation_not_permitted));
		return *this;
	}

	/**
	 * commit() - flush now; later record()/free() calls fail with
	 * std::errc::operation_not_permitted
	 *
	 * Return: the first error of the batch's calls or of the flush.
	 */
	std::error_code commit() noexcept
	{
		if (ctx_) {
			keep(ctx_->flush(&done_));
			ctx_ = nullptr;
		}
		return first_;
	}

	/** status() - the first error so far */
	std::error_code status() const noexcept { return first_; }

	/** done() - ops the commit's flush applied */
	std::uint32_t done() const noexcept { return done_; }

private:
	void keep(std::error_code ec) noexcept
	{
		if (ec && !first_)
			first_ = ec;
	}

	context *ctx_;
	std::error_code first_;
	std::uint32_t done_ = 0;
};

/** comm() - a client row's command name as a std::string */
inline std::string comm(const tt_alloc_client &row)
{
	std::size_t n = 0;

	while (n < sizeof(row.comm) && row.comm[n])
		n++;
	return std::string(reinterpret_cast<const char *>(row.comm), n);
}

/** type_name() - tt_alloc_mem_type_name() of a mem_type */
inline const char *type_name(mem_type t) noexcept
{
	return tt_alloc_mem_type_name(static_cast<std::uint32_t>(t));
}

} // namespace ttalloc

#endif /* TT_ALLOC_TT_ALLOC_HPP */
