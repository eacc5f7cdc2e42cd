// Small helpers shared by the C++ tests.
#pragma once

#include <gtest/gtest.h>

#include <initializer_list>

#include "fastmlp/types.hpp"

namespace fastmlp::testing {

// A row-major matrix written row by row, as in the hand-worked examples:
// rows({{1, 2}, {3, 4}}) is 2 × 2.
template <class T>
Matrix<T> rows(std::initializer_list<std::initializer_list<double>> values) {
  const Index n_rows = static_cast<Index>(values.size());
  const Index n_cols = n_rows == 0 ? 0 : static_cast<Index>(values.begin()->size());
  Matrix<T> M(n_rows, n_cols);
  Index i = 0;
  for (const auto& row : values) {
    Index j = 0;
    for (double v : row) M(i, j++) = static_cast<T>(v);
    ++i;
  }
  return M;
}

// Tolerance for values worked out in double precision and computed in T.
template <class T>
constexpr double tolerance() {
  return sizeof(T) == sizeof(float) ? 2e-6 : 1e-13;
}

// Largest |a - b| / max(1, |b|), element by element: relative for large values,
// absolute near zero.
template <class A, class B>
double max_scaled_difference(const A& actual, const B& expected) {
  const auto a = actual.template cast<double>().array();
  const auto b = expected.template cast<double>().array();
  return ((a - b).abs() / b.abs().max(1.0)).maxCoeff();
}

}  // namespace fastmlp::testing
