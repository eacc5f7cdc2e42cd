// Small helpers shared by the C++ tests.
#pragma once

#include <gtest/gtest.h>

#include <cstdint>
#include <initializer_list>

#include "fastmlp/network.hpp"
#include "fastmlp/random.hpp"
#include "fastmlp/threads.hpp"
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

// Trains, at `threads` threads, a network wide enough that every product of its batches of
// 128 is split into slabs (and, where BLAS is the kernel, goes to it): 384 rows of 200
// features, two hidden layers of 256, four classes, two epochs from `seed`.
inline Network<float> train_wide_network(int threads, std::uint64_t seed, const Optimizer<float>& optimizer,
                                         Matrix<float>* inputs = nullptr) {
  set_num_threads(threads);
  Random random(seed);
  Matrix<float> X(384, 200);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<float>(2.0 * random.uniform() - 1.0);
  Matrix<float> Y = Matrix<float>::Zero(384, 4);
  for (Index i = 0; i < 384; ++i) Y(i, static_cast<Index>(random.below(4))) = 1.0f;
  Network<float> net(200, {{256, Activation::relu}, {256, Activation::tanh}, {4, Activation::softmax}},
                     Loss::cross_entropy, 3);
  net.set_optimizer(optimizer);
  for (int epoch = 0; epoch < 2; ++epoch) net.train_epoch(X, Y, nullptr, 128, true);
  if (inputs) *inputs = X;
  return net;
}

}  // namespace fastmlp::testing
