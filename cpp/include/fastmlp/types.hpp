// Matrix types shared by the whole engine.
//
// Everything is row-major with one sample per row, exactly as NumPy holds data, so a
// C-contiguous array crosses into the engine as a view and never needs a transpose.
#pragma once

#include <Eigen/Core>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <vector>

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

template <class T>
using ConstMatrixMap = Eigen::Map<const Matrix<T>>;

template <class T>
using ConstRowVectorMap = Eigen::Map<const RowVector<T>>;

// Whether no element is NaN or infinite. x − x is 0 for every finite x and NaN otherwise, and
// a sum keeps a NaN, so one vectorised pass answers it; Eigen's allFinite tests element by
// element (scalar code: ~9% of predicting 10,000 rows of 784 features through 784-256-128-10).
template <class Derived>
bool all_finite(const Eigen::DenseBase<Derived>& X) {
  const auto& values = X.derived().array();
  return !std::isnan((values - values).sum());
}

// all_finite of a whole matrix, compiled into the engine: code built for another instruction
// set than the engine (the Python binding, built once for every variant) runs the engine's.
bool all_finite_values(const ConstMatrixRef<float>& X);
bool all_finite_values(const ConstMatrixRef<double>& X);

// The SIMD instruction sets the engine was compiled for, as Eigen names them.
const char* simd_instruction_sets();

// How Eigen allocates a matrix's memory in this build: 0 for plain malloc, else the alignment
// of its offset blocks. Code that frees the engine's matrices must have been compiled to the
// same rule (cpp/CMakeLists.txt); compare with heap_alignment_here() from that code.
int engine_heap_alignment();
inline int heap_alignment_here() { return EIGEN_MALLOC_ALREADY_ALIGNED ? 0 : EIGEN_DEFAULT_ALIGN_BYTES; }

// Per-sample weights of a data set, borrowed: none (nullptr), or `size` contiguous values,
// one per row of X (the network checks that count). A view, never a copy.
template <class T>
struct SampleWeights {
  const T* data = nullptr;
  Index size = 0;

  SampleWeights() = default;
  SampleWeights(std::nullptr_t) {}  // NOLINT: "no weights" reads as nullptr at call sites
  SampleWeights(const T* values, Index count) : data(values), size(count) {}
  SampleWeights(const std::vector<T>& values)  // NOLINT
      : data(values.data()), size(static_cast<Index>(values.size())) {}
  template <class Derived>
  SampleWeights(const Eigen::MatrixBase<Derived>& values)  // NOLINT: a vector or a segment of one
      : data(values.derived().data()), size(values.size()) {
    static_assert(Derived::IsVectorAtCompileTime, "sample weights are a vector");
  }

  explicit operator bool() const { return data != nullptr; }
  // The weights of rows [start, start + count); none stay none.
  SampleWeights segment(Index start, Index count) const {
    return data ? SampleWeights(data + start, count) : SampleWeights();
  }
};

}  // namespace fastmlp
