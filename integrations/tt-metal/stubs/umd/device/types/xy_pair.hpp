// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstddef>
#include <string>
struct tt_xy_pair {
	constexpr tt_xy_pair() = default;
	constexpr tt_xy_pair(std::size_t x_, std::size_t y_) : x(x_), y(y_) {}
	std::size_t x = 0;
	std::size_t y = 0;
	std::string str() const;
};
constexpr bool operator==(const tt_xy_pair &a, const tt_xy_pair &b) { return a.x == b.x && a.y == b.y; }
constexpr bool operator!=(const tt_xy_pair &a, const tt_xy_pair &b) { return !(a == b); }
constexpr bool operator<(const tt_xy_pair &a, const tt_xy_pair &b)
{
	return a.x < b.x || (a.x == b.x && a.y < b.y);
}
