// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstdint>
namespace tt::tt_metal {
using DeviceAddr = std::uint64_t;
enum class HalProgrammableCoreType { TENSIX, ACTIVE_ETH, IDLE_ETH, COUNT };
enum class HalMemType { L1, DRAM, HOST, COUNT };
} // namespace tt::tt_metal
