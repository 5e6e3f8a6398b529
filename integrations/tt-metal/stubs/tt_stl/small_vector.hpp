// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstddef>
#include <vector>
namespace ttsl {
template <typename T, std::size_t N = 8>
using SmallVector = std::vector<T>;
}
