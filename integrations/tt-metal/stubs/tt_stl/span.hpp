// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstddef>
#include <span>
namespace ttsl {
template <typename T, std::size_t Extent = std::dynamic_extent>
using Span = std::span<T, Extent>;
}
namespace tt::stl {
using namespace ::ttsl;
}
