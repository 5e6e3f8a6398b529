// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
namespace ttsl::json {
template <typename T>
struct from_json_t;
template <typename T>
struct to_json_t;
} // namespace ttsl::json
