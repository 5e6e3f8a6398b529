// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * TtAllocProcessor: a tt-metal graph-tracker processor that reports the
 * device memory tt-metal allocates to /dev/tt_alloc through libttalloc.
 *
 *   #include <tt-metalium/graph_tracking.hpp>
 *   #include "tt_alloc_processor.hpp"
 *
 *   auto tt = std::make_shared<tt_alloc::TtAllocProcessor>();
 *   tt::tt_metal::GraphTracker::instance().push_processor(tt);
 *
 * Header-only; link with -lttalloc. Tracking follows libttalloc's contract:
 * unless TT_ALLOC_TRACKING_ENABLED=1 (and /dev/tt_alloc opens) every
 * callback returns at once. A failing record never reaches tt-metal: it is
 * counted (errors(), last_error()).
 *
 * Mapping (Documentation/userspace-api/tt-metal-integration.rst):
 *   track_allocate/track_deallocate  buffer_type() 0..4 -> TT_ALLOC_MEM_DRAM,
 *                                    L1, SYSTEM, L1_SMALL, TRACE; id = address
 *   track_allocate_cb                TT_ALLOC_MEM_CB, size x num_cores();
 *                                    globally allocated CBs are skipped (their
 *                                    memory is a buffer, tracked already)
 *   track_deallocate_cb(device)      frees every CB recorded for that device
 *   track_program(program, device)   TT_ALLOC_MEM_KERNEL, TT_ALLOC_KERNEL_APP,
 *                                    id = program id, once per (program,
 *                                    device), size from the program_bytes
 *                                    function given to the constructor
 *   device_opened/system_kernel/device_closed
 *                                    not graph-tracker callbacks: the runtime
 *                                    calls them (fabric and dispatch kernels)
 */
#ifndef TT_ALLOC_TT_METAL_PROCESSOR_HPP
#define TT_ALLOC_TT_METAL_PROCESSOR_HPP

#include <cerrno>
#include <cstdint>
#include <functional>
#include <map>
#include <mutex>
#include <set>
#include <utility>
#include <vector>

#include <tt-metalium/graph_tracking.hpp>
#include <tt_alloc/libttalloc.h>

namespace tt_alloc {

class TtAllocProcessor : public tt::tt_metal::IGraphProcessor {
public:
	/* bytes of a program's kernel binaries on a device; 0: not recorded */
	using ProgramBytes = std::function<std::uint64_t(const tt::tt_metal::Program *,
							 const tt::tt_metal::IDevice *)>;

	explicit TtAllocProcessor(ProgramBytes program_bytes = {})
		: program_bytes_(std::move(program_bytes))
	{
		tt_alloc_open(&ctx_);
		enabled_ = tt_alloc_enabled(ctx_) == 1;
	}
	~TtAllocProcessor() override { tt_alloc_close(ctx_); }
	TtAllocProcessor(const TtAllocProcessor &) = delete;
	TtAllocProcessor &operator=(const TtAllocProcessor &) = delete;

	/* always registered; does not make GraphTracker::is_enabled() true */
	bool is_capture_processor() const override { return false; }

	void track_allocate(const tt::tt_metal::Buffer *b) override
	{
		std::uint32_t type;
		if (!enabled_ || !b || !b->device() || !mem_type(b, &type))
			return;
		std::lock_guard<std::mutex> l(mu_);
		note(tt_alloc_record(ctx_, dev(b->device()), type, b->address(), b->size(), 0));
	}

	void track_deallocate(tt::tt_metal::Buffer *b) override
	{
		std::uint32_t type;
		if (!enabled_ || !b || !b->device() || !mem_type(b, &type))
			return;
		std::lock_guard<std::mutex> l(mu_);
		note(tt_alloc_free(ctx_, dev(b->device()), type, b->address()));
	}

	void track_allocate_cb(const tt::tt_metal::CoreRangeSet &cores, std::uint64_t addr,
			       std::uint64_t size, bool is_globally_allocated,
			       const tt::tt_metal::IDevice *device) override
	{
		if (!enabled_ || !device || is_globally_allocated)
			return;
		std::uint64_t bytes = size * cores.num_cores();
		if (bytes == 0)
			return;
		std::lock_guard<std::mutex> l(mu_);
		std::uint32_t d = dev(device);
		auto &held = cbs_[d];
		/* an address already held (another program's CB) gets an id of its own */
		std::uint64_t id = addr;
		for (const auto &cb : held) {
			if (cb.first == addr) {
				id = (1ULL << 63) | ++cb_seq_;
				break;
			}
		}
		if (note(tt_alloc_record(ctx_, d, TT_ALLOC_MEM_CB, id, bytes, 0)))
			held.emplace_back(id, bytes);
	}

	void track_deallocate_cb(const tt::tt_metal::IDevice *device) override
	{
		if (!enabled_ || !device)
			return;
		std::lock_guard<std::mutex> l(mu_);
		free_cbs(dev(device));
	}

	void track_program(tt::tt_metal::Program *program, const tt::tt_metal::IDevice *device) override
	{
		if (!enabled_ || !program || !device || !program_bytes_)
			return;
		std::lock_guard<std::mutex> l(mu_);
		std::uint32_t d = dev(device);
		std::uint64_t id = program->get_id();
		if (programs_[d].count(id))
			return;
		std::uint64_t bytes = program_bytes_(program, device);
		if (bytes && note(tt_alloc_record(ctx_, d, TT_ALLOC_MEM_KERNEL, id, bytes,
						  TT_ALLOC_KERNEL_APP)))
			programs_[d].insert(id);
	}

	/* ---- runtime events that are not graph-tracker callbacks ---------- */

	/* a fabric or dispatch kernel loaded when the device was opened */
	void system_kernel(const tt::tt_metal::IDevice *device, std::uint32_t kind,
			   std::uint64_t id, std::uint64_t bytes)
	{
		if (!enabled_ || !device)
			return;
		std::lock_guard<std::mutex> l(mu_);
		std::uint32_t d = dev(device);
		if (note(tt_alloc_record(ctx_, d, TT_ALLOC_MEM_KERNEL, id, bytes, kind)))
			system_[d].push_back(id);
	}

	/* the device is closed: its CBs, programs and system kernels are gone */
	void device_closed(const tt::tt_metal::IDevice *device)
	{
		if (!enabled_ || !device)
			return;
		std::lock_guard<std::mutex> l(mu_);
		std::uint32_t d = dev(device);
		free_cbs(d);
		for (std::uint64_t id : programs_[d])
			note(tt_alloc_free(ctx_, d, TT_ALLOC_MEM_KERNEL, id));
		programs_.erase(d);
		for (std::uint64_t id : system_[d])
			note(tt_alloc_free(ctx_, d, TT_ALLOC_MEM_KERNEL, id));
		system_.erase(d);
	}

	/* ---- state -------------------------------------------------------- */
	bool enabled() const { return enabled_; }
	struct tt_alloc_ctx *context() const { return ctx_; }
	/* calls that failed (e.g. -ENOENT for a buffer freed that was never
	 * recorded) and the last one's negative errno */
	std::uint64_t errors() const
	{
		std::lock_guard<std::mutex> l(mu_);
		return errors_;
	}
	int last_error() const
	{
		std::lock_guard<std::mutex> l(mu_);
		return last_error_;
	}
	/* buffers of a type tt_alloc does not know (not recorded) */
	std::uint64_t unmapped() const
	{
		std::lock_guard<std::mutex> l(mu_);
		return unmapped_;
	}

	/* BufferType -> TT_ALLOC_MEM_*: the same numbers, 0..4 */
	static bool map_buffer_type(tt::tt_metal::BufferType t, std::uint32_t *type)
	{
		switch (t) {
		case tt::tt_metal::BufferType::DRAM: *type = TT_ALLOC_MEM_DRAM; return true;
		case tt::tt_metal::BufferType::L1: *type = TT_ALLOC_MEM_L1; return true;
		case tt::tt_metal::BufferType::SYSTEM_MEMORY: *type = TT_ALLOC_MEM_SYSTEM; return true;
		case tt::tt_metal::BufferType::L1_SMALL: *type = TT_ALLOC_MEM_L1_SMALL; return true;
		case tt::tt_metal::BufferType::TRACE: *type = TT_ALLOC_MEM_TRACE; return true;
		}
		return false;
	}

private:
	static std::uint32_t dev(const tt::tt_metal::IDevice *d)
	{
		return static_cast<std::uint32_t>(d->id());
	}
	bool mem_type(const tt::tt_metal::Buffer *b, std::uint32_t *type)
	{
		if (map_buffer_type(b->buffer_type(), type))
			return true;
		std::lock_guard<std::mutex> l(mu_);
		unmapped_++;
		return false;
	}
	/* mu_ held */
	bool note(int rc)
	{
		if (rc >= 0)
			return true;
		errors_++;
		last_error_ = rc;
		return false;
	}
	/* mu_ held */
	void free_cbs(std::uint32_t d)
	{
		auto it = cbs_.find(d);
		if (it == cbs_.end())
			return;
		for (const auto &cb : it->second)
			note(tt_alloc_free(ctx_, d, TT_ALLOC_MEM_CB, cb.first));
		cbs_.erase(it);
	}

	struct tt_alloc_ctx *ctx_ = nullptr;
	bool enabled_ = false;
	ProgramBytes program_bytes_;
	mutable std::mutex mu_;
	std::map<std::uint32_t, std::vector<std::pair<std::uint64_t, std::uint64_t>>> cbs_;
	std::map<std::uint32_t, std::set<std::uint64_t>> programs_;
	std::map<std::uint32_t, std::vector<std::uint64_t>> system_;
	std::uint64_t cb_seq_ = 0;
	std::uint64_t errors_ = 0;
	int last_error_ = 0;
	std::uint64_t unmapped_ = 0;
};

} // namespace tt_alloc

#endif
