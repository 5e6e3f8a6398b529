// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * Stand-in for the parts of tt-metal's public API that the tt_alloc
 * tracking processor uses, so that it builds and is tested without
 * tt-metal. Written from the public signatures (see
 * Documentation/userspace-api/tt-metal-integration.rst); no tt-metal code.
 *
 * Same names, namespaces and virtual signatures as
 * tt_metal/api/tt-metalium/graph_tracking.hpp for what is declared here:
 * IGraphProcessor's track_allocate, track_deallocate, track_allocate_cb,
 * track_deallocate_cb, track_program and is_capture_processor, and
 * GraphTracker's instance, push_processor, pop_processor and the track_*
 * fan-out. Left out: function tracking, captures, hooks (tt_alloc needs
 * none of them). Buffer, IDevice, CoreRangeSet and Program are reduced to
 * the accessors the processor calls; their constructors exist only here,
 * for the tests.
 */
#ifndef TT_ALLOC_STANDIN_GRAPH_TRACKING_HPP
#define TT_ALLOC_STANDIN_GRAPH_TRACKING_HPP

#include <cstdint>
#include <memory>
#include <utility>
#include <vector>

namespace tt::tt_metal {

using ChipId = int;
using DeviceAddr = std::uint64_t;

/* buffer_types.hpp: the numbering tt_alloc's TT_ALLOC_MEM_* follow */
enum class BufferType { DRAM = 0, L1 = 1, SYSTEM_MEMORY = 2, L1_SMALL = 3, TRACE = 4 };

class IDevice {
public:
	explicit IDevice(ChipId id) : id_(id) {}
	virtual ~IDevice() = default;
	virtual ChipId id() const { return id_; }

private:
	ChipId id_;
};

class Buffer {
public:
	Buffer(IDevice *device, DeviceAddr address, DeviceAddr size, BufferType type)
		: device_(device), address_(address), size_(size), type_(type) {}
	IDevice *device() const { return device_; }
	DeviceAddr address() const { return address_; }
	DeviceAddr size() const { return size_; }
	BufferType buffer_type() const { return type_; }

private:
	IDevice *device_;
	DeviceAddr address_;
	DeviceAddr size_;
	BufferType type_;
};

/* core_coord.hpp: only the number of cores of the set is used */
class CoreRangeSet {
public:
	explicit CoreRangeSet(std::uint32_t cores) : cores_(cores) {}
	std::uint32_t num_cores() const { return cores_; }

private:
	std::uint32_t cores_;
};

class Program {
public:
	explicit Program(std::uint64_t id) : id_(id) {}
	std::uint64_t get_id() const { return id_; }

private:
	std::uint64_t id_;
};

class IGraphProcessor {
public:
	IGraphProcessor() = default;
	virtual bool is_capture_processor() const { return true; }
	virtual void track_allocate(const Buffer * /*buffer*/) {}
	virtual void track_deallocate(Buffer * /*buffer*/) {}
	virtual void track_allocate_cb(const CoreRangeSet & /*core_range_set*/, std::uint64_t /*addr*/,
				       std::uint64_t /*size*/, bool /*is_globally_allocated*/,
				       const IDevice * /*device*/) {}
	virtual void track_deallocate_cb(const IDevice * /*device*/) {}
	virtual void track_program(Program * /*program*/, const IDevice * /*device*/) {}
	virtual ~IGraphProcessor() = default;
};

/* The process-wide fan-out (per-thread processor stack in tt-metal; one
 * stack here: the tests are single-threaded). */
class GraphTracker {
public:
	static GraphTracker &instance()
	{
		static GraphTracker t;
		return t;
	}
	void push_processor(const std::shared_ptr<IGraphProcessor> &p) { processors_.push_back(p); }
	void pop_processor() { processors_.pop_back(); }
	bool is_enabled() const
	{
		for (const auto &p : processors_)
			if (p->is_capture_processor())
				return true;
		return false;
	}
	void track_allocate(const Buffer *b)
	{
		for (auto &p : processors_)
			p->track_allocate(b);
	}
	void track_deallocate(Buffer *b)
	{
		for (auto &p : processors_)
			p->track_deallocate(b);
	}
	void track_allocate_cb(const CoreRangeSet &crs, std::uint64_t addr, std::uint64_t size,
			       bool is_globally_allocated, const IDevice *device)
	{
		for (auto &p : processors_)
			p->track_allocate_cb(crs, addr, size, is_globally_allocated, device);
	}
	void track_deallocate_cb(const IDevice *device)
	{
		for (auto &p : processors_)
			p->track_deallocate_cb(device);
	}
	void track_program(Program *program, const IDevice *device)
	{
		for (auto &p : processors_)
			p->track_program(program, device);
	}

private:
	GraphTracker() = default;
	std::vector<std::shared_ptr<IGraphProcessor>> processors_;
};

} // namespace tt::tt_metal

#endif
