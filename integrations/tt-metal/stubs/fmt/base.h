// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
namespace fmt {
template <typename T, typename Char = char, typename Enable = void>
struct formatter;
struct format_parse_context {
	using iterator = const char *;
	constexpr iterator end() const { return nullptr; }
};
struct format_context {
	using iterator = char *;
};
} // namespace fmt
