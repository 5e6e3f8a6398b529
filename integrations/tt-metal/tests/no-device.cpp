// SPDX-License-Identifier: GPL-2.0
/*
 * Host test (tests/host/tt-metal.sh): the process-wide Recorder when
 * tracking is asked for (TT_ALLOC_TRACKING_ENABLED=1) but the device is
 * absent (TT_ALLOC_DEVICE names nothing). Every hook, from 2 threads, on a
 * model of tt-metal's types, must be a no-op: the recorder is off, nothing
 * is counted as an error, nothing throws, the exit status is 0; the
 * script checks that stderr holds exactly one line. Exit 1 otherwise.
 * It compiles only if every hook is noexcept (static_assert).
 */
#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <thread>
#include <utility>
#include <vector>

#include <tt_alloc/tt_metal.hpp>

enum class BufferType { DRAM, L1 };
struct IDevice {
	virtual ~IDevice() = default;
	virtual int id() const { return 0; }
};
struct MeshDevice final : IDevice {
	std::vector<IDevice *> get_devices() const { return {}; }
};
struct KernelMeta {
	struct Binary {
		std::size_t packed_size;
	};
	std::vector<Binary> binary_meta;
};
struct Buffer {
	IDevice *d;
	IDevice *device() const { return d; }
	BufferType buffer_type() const { return BufferType::DRAM; }
	std::uint32_t address() const { return 0x1000; }
	std::uint64_t size() const { return 4096; }
};

/* every hook is noexcept: nothing it does can make tt-metal fail */
static_assert(noexcept(ttalloc::metal::Recorder::instance()));
static_assert(noexcept(ttalloc::metal::buffer_allocated<MeshDevice>(std::declval<const Buffer &>(), false)));
static_assert(noexcept(ttalloc::metal::buffer_deallocated<MeshDevice>(std::declval<const Buffer &>(), false)));
static_assert(noexcept(ttalloc::metal::device_closed(std::declval<const IDevice &>())));
static_assert(noexcept(ttalloc::metal::device_cbs_resident(std::declval<const IDevice &>(), 0)));
struct Collect {
	std::vector<KernelMeta> operator()() const { return {{{{8192}, {4096}}}, {{{16384}}}}; }
};
static_assert(noexcept(ttalloc::metal::system_kernels_loaded(std::declval<const IDevice &>(), 0,
							     std::declval<const Collect &>())));

int main()
{
	IDevice chip;
	Buffer b{&chip};
	std::vector<std::thread> th;
	for (int t = 0; t < 2; t++)
		th.emplace_back([&] {
			for (int i = 0; i < 1000; i++) {
				ttalloc::metal::buffer_allocated<MeshDevice>(b, false);
				ttalloc::metal::device_cbs_resident(chip, 4096);
				ttalloc::metal::system_kernels_loaded(chip, TT_ALLOC_KERNEL_DISPATCH,
								      Collect());
				ttalloc::metal::buffer_deallocated<MeshDevice>(b, false);
				ttalloc::metal::device_closed(chip);
			}
		});
	for (auto &t : th)
		t.join();
	auto &r = ttalloc::metal::Recorder::instance();
	std::printf("enabled %d errors %llu\n", r.enabled() ? 1 : 0,
		    (unsigned long long)r.errors());
	return !r.enabled() && r.errors() == 0 ? 0 : 1;
}
