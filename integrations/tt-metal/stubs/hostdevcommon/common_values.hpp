// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstdint>
constexpr static std::uint32_t DEFAULT_L1_SMALL_SIZE = 0;
constexpr static std::uint32_t DEFAULT_TRACE_REGION_SIZE = 0;
constexpr static std::uint32_t DEFAULT_WORKER_L1_SIZE = 0;
