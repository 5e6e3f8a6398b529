// SPDX-License-Identifier: LGPL-2.1-or-later
// tt_alloc compile-test stub (see README): declarations only, our own.
#pragma once
#include <cstdint>
#include <vector>
namespace tt::tt_metal::distributed {
class MeshShape {
public:
	MeshShape(std::uint32_t rows, std::uint32_t cols) : dims_{rows, cols} {}
private:
	std::vector<std::uint32_t> dims_;
};
class MeshCoordinate {
public:
	MeshCoordinate(std::uint32_t row, std::uint32_t col) : coords_{row, col} {}
private:
	std::vector<std::uint32_t> coords_;
};
template <typename T>
class DistributedMeshContainer {
public:
	explicit DistributedMeshContainer(const MeshShape &) {}
private:
	std::vector<T> values_;
};
} // namespace tt::tt_metal::distributed
