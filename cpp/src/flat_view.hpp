// Private to the engine's sources: a matrix whose rows are contiguous seen as one flat array.
//
// Elementwise work runs over the flat array when it can (always, for the engine's workspace):
// a row of 10 outputs is shorter than one AVX-512 packet, so a row-by-row loop would run
// mostly scalar, above all the exponentials.
#pragma once

#include "fastmlp/types.hpp"

namespace fastmlp::detail {

// n contiguous values as one array: what every elementwise expression of the engine reads and
// writes, so that Eigen instantiates each expression for this one type (build time).
template <class T>
using ConstFlatArray = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using FlatArray = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class Matrix>
bool is_contiguous(const Matrix& M) {
  return M.outerStride() == M.cols() || M.rows() <= 1;
}

template <class T>
ConstFlatArray<T> flat(const ConstMatrixRef<T>& M) {
  return ConstFlatArray<T>(M.data(), M.size());
}

template <class T>
FlatArray<T> flat(MatrixRef<T>& M) {
  return FlatArray<T>(M.data(), M.size());
}

}  // namespace fastmlp::detail
