// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstddef>
namespace tt::tt_metal {
struct Shape2D {
	Shape2D(std::size_t h, std::size_t w) : height(h), width(w) {}
	std::size_t height;
	std::size_t width;
};
} // namespace tt::tt_metal
