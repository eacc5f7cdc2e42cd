// Scratch memory of one thread that only ever grows, so that after the first call of a given
// size the products that use it allocate nothing (DESIGN.md: no allocation per batch).
// (Private to the engine.)
#pragma once

#include <cstddef>
#include <vector>

#include "fastmlp/types.hpp"

namespace fastmlp {

template <class T>
using ScratchBuffer = std::vector<T, Eigen::aligned_allocator<T>>;

// The buffer's storage, grown to at least `size` elements (its contents are not kept).
template <class T>
T* at_least(ScratchBuffer<T>& buffer, Index size) {
  if (buffer.size() < static_cast<std::size_t>(size)) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

}  // namespace fastmlp
