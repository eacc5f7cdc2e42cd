// Matrix types shared by the whole engine.
//
// Everything is row-major with one sample per row, exactly as NumPy holds data, so a
// C-contiguous array crosses into the engine as a view and never needs a transpose.
#pragma once

#include <Eigen/Core>
#include <cstdint>

namespace fastmlp {

using Index = Eigen::Index;

template <class T>
using Matrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

template <class T>
using Vector = Eigen::Matrix<T, Eigen::Dynamic, 1>;

template <class T>
using RowVector = Eigen::Matrix<T, 1, Eigen::Dynamic>;

// Read-only view of a row-major matrix: a whole matrix, a block of rows or a NumPy array.
template <class T>
using ConstMatrixRef = Eigen::Ref<const Matrix<T>>;

// Writable view of a row-major matrix.
template <class T>
using MatrixRef = Eigen::Ref<Matrix<T>>;

template <class T>
using ConstVectorRef = Eigen::Ref<const Vector<T>>;

template <class T>
using MatrixMap = Eigen::Map<Matrix<T>>;

template <class T>
using RowVectorMap = Eigen::Map<RowVector<T>>;

}  // namespace fastmlp
