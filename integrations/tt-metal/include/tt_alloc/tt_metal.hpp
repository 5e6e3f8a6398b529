// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * tt_alloc <- tt-metal: the hooks that tt-metal-tt_alloc.patch adds to
 * tt-metal next to its own memory tracker's (Buffer::allocate_impl,
 * Buffer::deallocate_impl, Device::close, the CB residency of
 * Device::publish_cb_residency) and where tt-metal loads its system
 * kernels at device init. Documented in
 * Documentation/userspace-api/tt-metal-integration.rst.
 *
 * Why hooks and not a GraphTracker processor: GraphTracker's processors
 * are thread_local, so a processor pushed on one thread misses every
 * buffer allocated on another. These hooks are plain calls from the
 * allocation path, reached from every thread.
 *
 * Process-wide: one Recorder, one /dev/tt_alloc file, opened on first use.
 * Off unless TT_ALLOC_TRACKING_ENABLED=1; without /dev/tt_alloc libttalloc
 * logs one line and every hook is a no-op. A hook never throws and never
 * fails tt-metal: errors are counted (Recorder::errors()), an exception
 * of the recorder's own (memory, lock) included.
 *
 * Header-only; link with -lttalloc. The buffer and device hooks are
 * templates over tt-metal's types so that they compile against tt-metal's
 * real headers and can be driven by a model of them in tests.
 */
#ifndef TT_ALLOC_TT_METAL_HPP
#define TT_ALLOC_TT_METAL_HPP

#include <atomic>
#include <cerrno>
#include <cstdint>
#include <map>
#include <mutex>
#include <new>
#include <set>
#include <utility>
#include <vector>

#include <tt_alloc/libttalloc.h>

namespace ttalloc::metal {

/* The chip-level state behind the hooks: what is recorded for each chip
 * (tt-metal's chip id = the tt_alloc device number), so that a chip's
 * close can drop what tt-metal drops without per-buffer events. */
class Recorder {
public:
	/* the process's recorder (opened on first use, never destroyed:
	 * buffers may be freed from static destructors) */
	static Recorder &instance() noexcept
	{
		/* in static storage, never destroyed: no allocation to fail */
		alignas(Recorder) static unsigned char storage[sizeof(Recorder)];
		static Recorder *r = new (storage) Recorder();
		return *r;
	}

	/* own context: for tests; ctx is owned by the Recorder */
	explicit Recorder(struct tt_alloc_ctx *ctx) : ctx_(ctx) {}
	~Recorder() { tt_alloc_close(ctx_); }
	Recorder(const Recorder &) = delete;
	Recorder &operator=(const Recorder &) = delete;

	bool enabled() const { return tt_alloc_enabled(ctx_) == 1; }

	/* tt-metal's BufferType (DRAM, L1, SYSTEM_MEMORY, L1_SMALL, TRACE) is
	 * TT_ALLOC_MEM_DRAM..TRACE, in the same order */
	void buffer_allocated(std::uint32_t chip, std::uint32_t type, std::uint64_t addr,
			      std::uint64_t size) noexcept
	{
		if (!enabled() || type > TT_ALLOC_MEM_TRACE || size == 0)
			return;
		try {
			std::lock_guard<std::mutex> l(mu_);
			if (note(tt_alloc_record(ctx_, chip, type, addr, size, 0)))
				chips_[chip].buffers[{type, addr}] = size;
		} catch (...) {
			note(-ENOMEM);
		}
	}

	void buffer_deallocated(std::uint32_t chip, std::uint32_t type, std::uint64_t addr) noexcept
	{
		if (!enabled())
			return;
		try {
			std::lock_guard<std::mutex> l(mu_);
			auto c = chips_.find(chip);
			if (c == chips_.end())
				return;
			/* one not recorded (allocated before tracking began) is no error */
			auto b = c->second.buffers.find({type, addr});
			if (b == c->second.buffers.end())
				return;
			c->second.buffers.erase(b);
			note(tt_alloc_free(ctx_, chip, type, addr));
		} catch (...) {
			note(-ENOMEM);
		}
	}

	/* the bytes of locally allocated circular buffers now resident on the
	 * chip, tt-metal's own figure (one TT_ALLOC_MEM_CB entry, id 0) */
	void cbs_resident(std::uint32_t chip, std::uint64_t bytes) noexcept
	{
		if (!enabled())
			return;
		try {
			std::lock_guard<std::mutex> l(mu_);
			set_cbs(chip, bytes);
		} catch (...) {
			note(-ENOMEM);
		}
	}

	/* the system kernels of one kind (TT_ALLOC_KERNEL_FABRIC or
	 * _DISPATCH) tt-metal has just loaded on the chip, one binary size
	 * per kernel: one TT_ALLOC_MEM_KERNEL entry each (id: kind << 32 |
	 * index), replacing what that kind had before */
	void system_kernels(std::uint32_t chip, std::uint32_t kind,
			    const std::vector<std::uint64_t> &sizes) noexcept
	{
		if (!enabled())
			return;
		try {
			std::lock_guard<std::mutex> l(mu_);
			auto &held = chips_[chip].kernels;
			const std::uint64_t base = static_cast<std::uint64_t>(kind) << 32;
			for (auto k = held.lower_bound(base); k != held.end() && *k >> 32 == kind;) {
				note(tt_alloc_free(ctx_, chip, TT_ALLOC_MEM_KERNEL, *k));
				k = held.erase(k);
			}
			for (std::uint64_t i = 0; i < sizes.size(); i++)
				if (sizes[i] &&
				    note(tt_alloc_record(ctx_, chip, TT_ALLOC_MEM_KERNEL, base | i,
							 sizes[i], kind)))
					held.insert(base | i);
		} catch (...) {
			note(-ENOMEM);
		}
	}

	/* the chip was closed: tt-metal resets its allocator without freeing
	 * buffer by buffer, so everything recorded for it goes */
	void chip_closed(std::uint32_t chip) noexcept
	{
		if (!enabled())
			return;
		try {
			std::lock_guard<std::mutex> l(mu_);
			auto c = chips_.find(chip);
			if (c == chips_.end())
				return;
			set_cbs(chip, 0);
			for (const auto &b : c->second.buffers)
				note(tt_alloc_free(ctx_, chip, b.first.first, b.first.second));
			for (const auto id : c->second.kernels)
				note(tt_alloc_free(ctx_, chip, TT_ALLOC_MEM_KERNEL, id));
			chips_.erase(c);
		} catch (...) {
			note(-ENOMEM);
		}
	}

	/* calls the module refused (e.g. -ENODEV for a chip id past the
	 * module's devices; -ENOMEM: the recorder's own memory or lock
	 * failed), and the last one's negative errno */
	std::uint64_t errors() const { return errors_.load(); }
	int last_error() const { return last_error_.load(); }
	struct tt_alloc_ctx *context() const { return ctx_; }
	/* a hook failed on its own (memory): counted as -ENOMEM */
	void failed() noexcept { note(-ENOMEM); }

private:
	Recorder() noexcept { tt_alloc_open(&ctx_); }

	bool note(int rc) noexcept
	{
		if (rc >= 0)
			return true;
		errors_++;
		last_error_ = rc;
		return false;
	}
	/* mu_ held */
	void set_cbs(std::uint32_t chip, std::uint64_t bytes)
	{
		std::uint64_t &held = chips_[chip].cbs;
		if (held == bytes)
			return;
		if (held)
			note(tt_alloc_free(ctx_, chip, TT_ALLOC_MEM_CB, 0));
		held = 0;
		if (bytes && note(tt_alloc_record(ctx_, chip, TT_ALLOC_MEM_CB, 0, bytes, 0)))
			held = bytes;
	}

	struct Chip {
		std::map<std::pair<std::uint32_t, std::uint64_t>, std::uint64_t> buffers;
		std::uint64_t cbs = 0;
		std::set<std::uint64_t> kernels; /* system kernels' ids */
	};
	struct tt_alloc_ctx *ctx_ = nullptr;
	mutable std::mutex mu_;
	std::map<std::uint32_t, Chip> chips_;
	std::atomic<std::uint64_t> errors_{0};
	std::atomic<int> last_error_{0};
};

/*
 * Buffer hooks, called by tt-metal's Buffer right after GraphTracker's
 * track_allocate/track_deallocate. hooked: the allocation was taken by a
 * graph capture (NO_DISPATCH: address 0, no memory), so not recorded.
 * A buffer of a MeshDevice is its lock-step backing allocation: the same
 * address and size on every chip of the mesh, recorded on each chip.
 */
template <class MeshDevice, class Buffer>
void buffer_allocated(const Buffer &b, bool hooked, Recorder &r = Recorder::instance()) noexcept
{
	if (hooked || !r.enabled() || !b.device())
		return;
	try {
		const auto type = static_cast<std::uint32_t>(b.buffer_type());
		if (const auto *mesh = dynamic_cast<const MeshDevice *>(b.device())) {
			for (const auto *chip : mesh->get_devices())
				r.buffer_allocated(static_cast<std::uint32_t>(chip->id()), type,
						   b.address(), b.size());
			return;
		}
		r.buffer_allocated(static_cast<std::uint32_t>(b.device()->id()), type, b.address(),
				   b.size());
	} catch (...) {
		r.failed();
	}
}

template <class MeshDevice, class Buffer>
void buffer_deallocated(const Buffer &b, bool hooked, Recorder &r = Recorder::instance()) noexcept
{
	if (hooked || !r.enabled() || !b.device())
		return;
	try {
		const auto type = static_cast<std::uint32_t>(b.buffer_type());
		if (const auto *mesh = dynamic_cast<const MeshDevice *>(b.device())) {
			for (const auto *chip : mesh->get_devices())
				r.buffer_deallocated(static_cast<std::uint32_t>(chip->id()), type,
						     b.address());
			return;
		}
		r.buffer_deallocated(static_cast<std::uint32_t>(b.device()->id()), type, b.address());
	} catch (...) {
		r.failed();
	}
}

/* Device hooks: a chip's Device::close, and its CB residency */
template <class Device>
void device_closed(const Device &d, Recorder &r = Recorder::instance()) noexcept
{
	try {
		r.chip_closed(static_cast<std::uint32_t>(d.id()));
	} catch (...) {
		r.failed();
	}
}

template <class Device>
void device_cbs_resident(const Device &d, std::uint64_t bytes,
			 Recorder &r = Recorder::instance()) noexcept
{
	try {
		r.cbs_resident(static_cast<std::uint32_t>(d.id()), bytes);
	} catch (...) {
		r.failed();
	}
}

/*
 * System kernels, called where tt-metal loads them at device init
 * (Device::configure_command_queue_programs: dispatch; Device::
 * configure_fabric: fabric). collect returns the program's kernel
 * metadata, ProgramImpl::collect_kernel_meta(device); it is called only
 * when tracking is on, inside the hook, so that its cost and anything it
 * throws stay here. Each kernel is recorded with the packed sizes of its
 * binaries, the bytes tt-metal writes.
 */
template <class Device, class Collect>
void system_kernels_loaded(const Device &d, std::uint32_t kind, const Collect &collect,
			   Recorder &r = Recorder::instance()) noexcept
{
	if (!r.enabled())
		return;
	try {
		std::vector<std::uint64_t> sizes;
		for (const auto &k : collect()) {
			std::uint64_t bytes = 0;
			for (const auto &bin : k.binary_meta)
				bytes += bin.packed_size;
			sizes.push_back(bytes);
		}
		r.system_kernels(static_cast<std::uint32_t>(d.id()), kind, sizes);
	} catch (...) {
		r.failed();
	}
}

} // namespace ttalloc::metal

#endif
