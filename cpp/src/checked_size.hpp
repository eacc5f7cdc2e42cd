// Private: sizes formed as products of dimensions, checked before anything is allocated.
// A network of Dense(2**62) units must be refused with a ValueError naming the layer, not
// wrap around to a small or negative size and corrupt memory.
#pragma once

#include <limits>
#include <stdexcept>
#include <string>

#include "fastmlp/types.hpp"

namespace fastmlp::detail {

// The most elements one buffer may hold: its size in bytes (8 per double) must still be
// a valid, positive Index.
constexpr Index kMaxElements = std::numeric_limits<Index>::max() / 8;

// a·b for non-negative a and b; throws std::invalid_argument("<what>: a × b ...") when the
// product exceeds kMaxElements.
inline Index checked_product(Index a, Index b, const std::string& what) {
  if (a < 0 || b < 0 || (a != 0 && b > kMaxElements / a))
    throw std::invalid_argument(what + ": " + std::to_string(a) + " × " + std::to_string(b) +
                                " elements are more than one array can hold (the size overflows)");
  return a * b;
}

// a + b for non-negative a and b, with the same limit and message.
inline Index checked_sum(Index a, Index b, const std::string& what) {
  if (a < 0 || b < 0 || b > kMaxElements - a)
    throw std::invalid_argument(what + ": " + std::to_string(a) + " + " + std::to_string(b) +
                                " elements are more than one array can hold (the size overflows)");
  return a + b;
}

}  // namespace fastmlp::detail
