// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>
namespace tt::tt_metal::detail {
struct KernelBinaryMeta {
	std::uint32_t processor_type;
	std::size_t packed_size;
};
struct KernelMeta {
	std::string_view name, source;
	std::vector<KernelBinaryMeta> binary_meta;
};
} // namespace tt::tt_metal::detail
