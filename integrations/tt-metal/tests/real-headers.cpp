// SPDX-License-Identifier: LGPL-2.1-or-later
/*
 * The calls tt-metal-tt_alloc.patch adds to tt-metal, made on tt-metal's
 * real types: compiled (-std=c++20 -Wall -Wextra -Werror) against the
 * public headers of the tree in TT_METAL_SRC by
 * userspace-tools/tests/host/tt-metal.sh. Quoted whole by
 * Documentation/userspace-api/tt-metal-integration.rst.
 */
#include <tt-metalium/buffer.hpp>
#include <tt-metalium/device.hpp>
#include <tt-metalium/graph_tracking.hpp>
#include <tt-metalium/kernel_types.hpp>
#include <tt-metalium/mesh_device.hpp>

#include <vector>

#include <tt_alloc/tt_metal.hpp>

// Buffer::allocate_impl, after notify_buffer_allocated(this): a MeshDevice
// buffer is recorded on each chip of get_devices(), a captured
// (hooked_allocation_) one not at all.
void on_allocate(const tt::tt_metal::Buffer &buffer, bool hooked_allocation)
{
	ttalloc::metal::buffer_allocated<tt::tt_metal::distributed::MeshDevice>(buffer, hooked_allocation);
}

// Buffer::deallocate_impl, after notify_buffer_deallocated(this)
void on_deallocate(const tt::tt_metal::Buffer &buffer, bool hooked_allocation)
{
	ttalloc::metal::buffer_deallocated<tt::tt_metal::distributed::MeshDevice>(buffer, hooked_allocation);
}

// Device::close, before default_allocator_.reset(): the chip's records go
void on_close(const tt::tt_metal::IDevice &device)
{
	ttalloc::metal::device_closed(device);
}

// Device::publish_cb_residency: the chip's resident circular-buffer bytes
void on_cb_residency(const tt::tt_metal::IDevice &device, std::uint64_t total_cb_resident)
{
	ttalloc::metal::device_cbs_resident(device, total_cb_resident);
}

// Device::configure_command_queue_programs (dispatch) and
// Device::configure_fabric (fabric), after ConfigureDeviceWithProgram: the
// system kernels just loaded, as the program's
// impl().collect_kernel_meta(this) describes them (called by the hook,
// only when tracking is on)
void on_system_kernels(const tt::tt_metal::IDevice &device, std::uint32_t kind,
		       const std::vector<tt::tt_metal::detail::KernelMeta> &kernels)
{
	ttalloc::metal::system_kernels_loaded(device, kind, [&] { return kernels; });
}
