// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstdint>
namespace tt::tt_metal::distributed {
struct MeshTraceId {
	std::uint32_t id = 0;
};
}
