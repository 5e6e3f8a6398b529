// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstdint>
namespace tt::tt_metal {
struct SubDeviceId {
	std::uint8_t id = 0;
};
struct SubDeviceManagerId {
	std::uint64_t id = 0;
};
} // namespace tt::tt_metal
