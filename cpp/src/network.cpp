#include "fastmlp/network.hpp"

#include "checked_size.hpp"
#include "fastmlp/threads.hpp"
#include "network_passes.hpp"
#include "parallel.hpp"
#include "row_product.hpp"
#include "thread_pool.hpp"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <numeric>
#include <stdexcept>
#include <string>

namespace fastmlp {
namespace {

// Rows of one block of inference (forward_in_row_blocks): a block's widest Z and A (W3's first
// layer: 192 × 256 values each) stay in the L2 cache from one layer to the next, and 10,000 rows
// make enough blocks to balance any thread count.
constexpr Index kInferenceBlockRows = 192;

}  // namespace

template <class T>
Network<T>::Network(Index input_dim, std::vector<LayerSpec> layers, Loss loss, std::uint64_t seed)
    : input_dim_(input_dim), layers_(std::move(layers)), loss_(Loss::none) {
  get_num_threads();  // first use fixes Eigen's own GEMM to one thread (see parallel.hpp)
  lay_out_parameters();  // checks every layer and its size (network_checks.cpp)
  const Index size = bias_offsets_.back() + output_dim();
  parameters_ = Vector<T>::Zero(size);
  gradients_ = Vector<T>::Zero(size);
  set_loss(loss);
  initialize(seed);
  set_optimizer(Optimizer<T>());
  delta_.resize(layers_.size());
}

template <class T>
void Network<T>::set_loss(Loss loss) {
  check_output_fits_loss(loss, output_activation(), output_dim());
  loss_ = loss;
}

template <class T>
void Network<T>::initialize(std::uint64_t seed) {
  Random random(seed);
  for (Index l = 0; l < num_layers(); ++l) {
    initialize_weights<T>(layer(l).initializer, layer(l).activation, weights(l), random);
    bias(l).setZero();
  }
  reseed_training(seed);
}

template <class T>
void Network<T>::set_optimizer(Optimizer<T> optimizer) {
  std::vector<ParameterSegment> weight_segments;
  for (Index l = 0; l < num_layers(); ++l)
    weight_segments.push_back({weight_offsets_[static_cast<std::size_t>(l)], layer_input_dim(l) * layer(l).units});
  optimizer_ = std::move(optimizer);
  optimizer_.bind(num_parameters(), std::move(weight_segments));
}

template <class T>
ConstMatrixMap<T> Network<T>::weights(Index l) const {
  return ConstMatrixMap<T>(parameters_.data() + weight_offsets_.at(static_cast<std::size_t>(l)), layer_input_dim(l),
                           layer(l).units);
}

template <class T>
ConstRowVectorMap<T> Network<T>::bias(Index l) const {
  return ConstRowVectorMap<T>(parameters_.data() + bias_offsets_.at(static_cast<std::size_t>(l)), layer(l).units);
}

template <class T>
MatrixMap<T> Network<T>::view_weights(Vector<T>& flat, Index l) {
  return MatrixMap<T>(flat.data() + weight_offsets_.at(static_cast<std::size_t>(l)), layer_input_dim(l),
                      layer(l).units);
}

template <class T>
RowVectorMap<T> Network<T>::view_bias(Vector<T>& flat, Index l) {
  return RowVectorMap<T>(flat.data() + bias_offsets_.at(static_cast<std::size_t>(l)), layer(l).units);
}

template <class T>
void Network<T>::ensure_delta_capacity(Index rows) {
  // Separate from the forward cache: predicting in large chunks needs no deltas.
  if (rows <= delta_capacity_) return;
  for (Index l = 0; l < num_layers(); ++l) delta_[static_cast<std::size_t>(l)].resize(rows, layer(l).units);
  delta_capacity_ = rows;
}

template <class T>
Index Network<T>::inference_chunk_rows(Index m) const {
  // As many rows as keep Z and A of every layer within a fixed budget: large chunks let the
  // products run at full speed, the budget keeps memory flat however many rows come.
  // The chunk depends on the network's shape only, never on what ran before, so a call's
  // result does not depend on other calls (or threads) either.
  constexpr double kBudgetBytes = 16.0 * 1024 * 1024;
  double units = 0;
  for (const auto& spec : layers_) units += static_cast<double>(spec.units);
  const auto budget_rows = static_cast<Index>(std::min(8192.0, kBudgetBytes / (2.0 * sizeof(T) * units)));
  return std::min(m, std::max(Index{256}, budget_rows));
}

template <class T>
void Network<T>::ensure_batch_buffers(Index rows) {
  if (x_batch_.rows() >= rows) return;
  detail::checked_product(rows, std::max(input_dim_, output_dim()), "the shuffled batch buffer");
  x_batch_.resize(rows, input_dim_);
  y_batch_.resize(rows, output_dim());
  w_batch_.resize(rows);
}

template <class T>
void Network<T>::forward_rows(const ConstMatrixRef<T>& X, ForwardCache<T>& cache, bool for_training,
                              Random* dropout_random) const {
  const Index m = X.rows();
  if (!for_training && m >= 2 * kInferenceBlockRows) return forward_in_row_blocks(X, cache);
  reserve(cache, m);
  // Engine layer 0 is the notes' layer 1: it reads A[0] = X.
  auto Z_0 = cache.z[0].topRows(m);
  // Starting Z from the broadcast bias lets the product accumulate onto it: one pass fewer.
  Z_0.rowwise() = bias(0);  // Z[0] = b[0] (broadcast over the m rows) ...
  if (!for_training)
    multiply_row_invariant<T>(Z_0, X, weights(0));  // ... + X·W[0], each row summed in one fixed order
  else if (m == 1)
    vector_times_weights(X.row(0), 0, Z_0);  // ... + X·W[0], one row
  else
    multiply<T>(Z_0, X, weights(0), true);  // ... + X·W[0]
  forward_after_first_product(m, cache, for_training, dropout_random);
}

template <class T>
void Network<T>::forward_after_first_product(Index m, ForwardCache<T>& cache, bool for_training,
                                             Random* dropout_random) const {
  if (dropout_random) reserve_dropout(cache);
  cache.dropping = dropout_random != nullptr;
  for (Index l = 0; l < num_layers(); ++l) {
    const auto i = static_cast<std::size_t>(l);
    // Engine layer l is the notes' layer l+1; "A[l-1]" below is cache.a[l-1] (or Ã[l-1]).
    auto Z_l = cache.z[i].topRows(m);
    if (l > 0) {
      Z_l.rowwise() = bias(l);  // Z[l] = b[l] (broadcast over the m rows) ...
      if (!for_training)
        multiply_row_invariant<T>(Z_l, layer_input(cache, l).topRows(m), weights(l));  // ... + A[l-1]·W[l], fixed order
      else if (m == 1)
        vector_times_weights(layer_input(cache, l).row(0), l, Z_l);  // ... + A[l-1]·W[l], one row
      else
        multiply<T>(Z_l, layer_input(cache, l).topRows(m), weights(l), true);  // ... + A[l-1]·W[l]
    }
    // A[l] = f_l(Z[l])
    activate<T>(layer(l).activation, static_cast<T>(layer(l).negative_slope), Z_l, cache.a[i].topRows(m));
    if (dropout_random && layer(l).dropout > 0.0) drop_units(l, m, cache, *dropout_random);  // Ã[l] = A[l] ⊙ M[l]/(1 − p)
  }
  cache.rows = m;
}

template <class T>
void Network<T>::forward_in_row_blocks(const ConstMatrixRef<T>& X, ForwardCache<T>& cache) const {
  // Every row's prediction depends on that row alone (row_product.hpp), so rows can be cut
  // into blocks that go through all layers on one thread each: one hand-out of work per block
  // instead of a fork and join per layer, the bias and the activations run in parallel too,
  // and a block's Z and A stay in the cache from one layer to the next. W is packed once for
  // all blocks. Blocks depend on the number of rows alone, and the result on none of this.
  const Index m = X.rows();
  reserve(cache, m);
  cache.dropping = false;
  Index packed_values = 0;
  for (Index l = 0; l < num_layers(); ++l) packed_values += packed_size<T>(layer_input_dim(l), layer(l).units);
  if (cache.packed_weights.size() < static_cast<std::size_t>(packed_values))
    cache.packed_weights.resize(static_cast<std::size_t>(packed_values));
  T* next = cache.packed_weights.data();
  for (Index l = 0; l < num_layers(); ++l) next += pack_weights<T>(weights(l), next).size();
  const Index blocks = (m + kInferenceBlockRows - 1) / kInferenceBlockRows;
  run_tasks(static_cast<int>(blocks), threads_for_products(), [&](int b) {
    const Index start = b * kInferenceBlockRows, rows = std::min(kInferenceBlockRows, m - start);
    const T* packed = cache.packed_weights.data();
    for (Index l = 0; l < num_layers(); ++l) {
      const auto i = static_cast<std::size_t>(l);
      const PackedWeights<T> W_l = packed_layout(packed, layer_input_dim(l), layer(l).units);
      packed += W_l.size();
      MatrixRef<T> Z_l = cache.z[i].middleRows(start, rows);
      Z_l.rowwise() = bias(l);  // Z[l] = b[l] ...
      const ConstMatrixRef<T> input =
          l == 0 ? X.middleRows(start, rows) : ConstMatrixRef<T>(cache.a[i - 1].middleRows(start, rows));
      row_invariant_product<T>(Z_l, input, W_l, 0);  // ... + A[l-1]·W[l]
      activate<T>(layer(l).activation, static_cast<T>(layer(l).negative_slope), Z_l,
                  cache.a[i].middleRows(start, rows));  // A[l] = f_l(Z[l])
    }
  });
  cache.rows = m;
}

template <class T>
template <class RowExpression, class Destination>
void Network<T>::vector_times_weights(const RowExpression& row, Index l, Destination& Z) const {
  // One row is a vector-matrix product; multiply() runs it as GEMV, which reads W once where
  // GEMM would first pack (copy) all of it, and splits a large W's columns between threads.
  multiply<T>(Z, row, weights(l), true);  // z[l] += a[l-1]·W[l]
}

template <class T>
void Network<T>::forward(const ConstMatrixRef<T>& X) {
  check_input(X);
  forward_rows(X, cache_);
}

template <class T>
void Network<T>::forward(const ConstMatrixRef<T>& X, ForwardCache<T>& cache) const {
  check_input(X);
  forward_rows(X, cache);
}

template <class T>
void Network<T>::forward_training(const ConstMatrixRef<T>& X, ForwardCache<T>& cache) {
  check_input(X);
  forward_rows(X, cache, true, training_random());
}

template <class T>
double Network<T>::backward(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight) {
  if (cache_.rows != X.rows() || X.cols() != input_dim_)
    throw std::invalid_argument("backward needs the batch that was last passed to forward");
  const double loss = backward_to_first_layer(Y, sample_weight);
  multiply_transposed_left<T>(weight_gradient(0), X, delta_[0].topRows(X.rows()));  // dW[0] = A[0]ᵀ·dZ[0], A[0] = X
  return loss;
}

template <class T>
double Network<T>::backward_to_first_layer(const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight) {
  const Index m = cache_.rows;
  check_targets(m, input_dim_, Y);
  check_sample_weight(m, sample_weight);
  ensure_delta_capacity(m);
  const Index last = num_layers() - 1;
  const auto L = static_cast<std::size_t>(last);
  // delta_[l] holds dZ[l] once layer l is reached; before that it receives dA[l].
  MatrixRef<T> output_delta = delta_[L].topRows(m);
  // dZ[L] = (P − Y)/m for the fused pairs, else dA[L] ⊙ f'(Z[L]) (loss.hpp)
  const double loss = loss_and_output_delta<T>(loss_, output_activation(), output_slope(), cache_.z[L].topRows(m),
                                               cache_.a[L].topRows(m), Y, sample_weight.data, &output_delta,
                                               static_cast<T>(huber_delta_));
  for (Index l = last; l >= 0; --l) {
    const auto i = static_cast<std::size_t>(l);
    auto dZ = delta_[i].topRows(m);
    bias_gradient(l) = dZ.colwise().sum();  // db[l] = column sums of dZ[l]
    if (l == 0) break;  // dW[0] reads X (the caller's, dense or sparse), and no gradient with respect to X
    multiply_transposed_left<T>(weight_gradient(l), layer_input(cache_, l).topRows(m), dZ);  // dW[l] = A[l-1]ᵀ·dZ[l]
    auto dA_prev = delta_[i - 1].topRows(m);
    multiply_transposed_right<T>(dA_prev, dZ, weights(l));  // dA[l-1] = dZ[l]·W[l]ᵀ
    multiply_by_dropout_derivative(l - 1, dA_prev);         // through Ã[l-1] = A[l-1] ⊙ M/(1 − p), if it dropped
    // dZ[l-1] = dA[l-1] ⊙ f'_{l-1}(Z[l-1]), in place
    multiply_by_derivative<T>(layer(l - 1).activation, static_cast<T>(layer(l - 1).negative_slope),
                              cache_.z[i - 1].topRows(m), cache_.a[i - 1].topRows(m), dA_prev);
  }
  return loss;
}

template <class T>
double Network<T>::compute_gradients(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                                     SampleWeights<T> sample_weight, bool training) {
  check_targets(X, Y);
  forward_rows(X, cache_, true, training ? training_random() : nullptr);
  return backward(X, Y, sample_weight);
}

template <class T>
double Network<T>::train_batch(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight) {
  const double loss = compute_gradients(X, Y, sample_weight, true);
  optimizer_.step(parameters_, gradients_);
  return loss;
}

template <class T>
void Network<T>::gather_rows(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                             Index start, Index rows) {
  // Shuffled rows are scattered through X: plain copies of contiguous rows, with the rows a
  // few steps ahead already on their way into the cache.
  constexpr Index kAhead = 8;
  const Index x_cols = X.cols(), y_cols = Y.cols();
  const std::size_t x_bytes = static_cast<std::size_t>(x_cols) * sizeof(T);
  const std::size_t y_bytes = static_cast<std::size_t>(y_cols) * sizeof(T);
  for (Index r = 0; r < rows; ++r) {
#if defined(__GNUC__) || defined(__clang__)
    if (r + kAhead < rows) {
      const Index ahead = order_[static_cast<std::size_t>(start + r + kAhead)];
      __builtin_prefetch(X.data() + ahead * X.outerStride());
      __builtin_prefetch(Y.data() + ahead * Y.outerStride());
    }
#endif
    const Index source = order_[static_cast<std::size_t>(start + r)];
    std::memcpy(x_batch_.data() + r * x_cols, X.data() + source * X.outerStride(), x_bytes);
    std::memcpy(y_batch_.data() + r * y_cols, Y.data() + source * Y.outerStride(), y_bytes);
    if (sample_weight) w_batch_[r] = sample_weight.data[source];
  }
}

template <class T>
void Network<T>::shuffle_order(Index m) {
  order_.resize(static_cast<std::size_t>(m));
  std::iota(order_.begin(), order_.end(), Index{0});
  for (Index i = m - 1; i > 0; --i)  // Fisher-Yates with the portable generator
    std::swap(order_[static_cast<std::size_t>(i)],
              order_[static_cast<std::size_t>(shuffle_random_.below(static_cast<std::uint64_t>(i + 1)))]);
}

template <class T>
PassResult Network<T>::train_epoch(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                                   SampleWeights<T> sample_weight, Index batch_size, bool shuffle,
                                   const ProgressCallback& progress, double progress_interval,
                                   const BatchHooks* hooks) {
  check_targets(X, Y);
  check_sample_weight(X, sample_weight);
  batch_size = checked_batch_size(batch_size, X.rows());
  if (shuffle) {
    ensure_batch_buffers(batch_size);
    shuffle_order(X.rows());
  }
  const bool classify = is_classification(loss_);
  const auto step = [&](Index start, Index rows, Index& correct) {
    double loss;
    if (shuffle) {
      gather_rows(X, Y, sample_weight, start, rows);
      forward_rows(x_batch_.topRows(rows), cache_, true, training_random());
      loss = backward(x_batch_.topRows(rows), y_batch_.topRows(rows),
                      sample_weight ? SampleWeights<T>(w_batch_.data(), rows) : SampleWeights<T>());
      if (classify) correct += count_correct<T>(output_activation(), output(), y_batch_.topRows(rows));
    } else {
      forward_rows(X.middleRows(start, rows), cache_, true, training_random());
      loss = backward(X.middleRows(start, rows), Y.middleRows(start, rows), sample_weight.segment(start, rows));
      if (classify) correct += count_correct<T>(output_activation(), output(), Y.middleRows(start, rows));
    }
    return loss;
  };
  return run_epoch(X.rows(), batch_size, step, progress, progress_interval, hooks);
}

template <class T>
std::vector<PassResult> Network<T>::train_epochs(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                                                SampleWeights<T> sample_weight, Index batch_size, bool shuffle,
                                                Index epochs) {
  std::vector<PassResult> results;
  for (Index e = 0; e < epochs; ++e) {
    results.push_back(train_epoch(X, Y, sample_weight, batch_size, shuffle));
    if (!results.back().finite) break;
  }
  return results;
}

template <class T>
void Network<T>::predict(const ConstMatrixRef<T>& X, MatrixRef<T> out) const {
  check_input(X);
  if (!all_finite(X)) throw std::invalid_argument("X contains NaN or infinity");
  predict_chunks(X.rows(), out, [&](Index start, Index rows, ForwardCache<T>& cache) {
    forward_rows(X.middleRows(start, rows), cache);
  });
}

template <class T>
PassResult Network<T>::evaluate(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                                SampleWeights<T> sample_weight) const {
  check_targets(X, Y);
  check_sample_weight(X, sample_weight);
  return evaluate_chunks(Y, sample_weight, [&](Index start, Index rows, ForwardCache<T>& cache) {
    forward_rows(X.middleRows(start, rows), cache);
  });
}

template class Network<float>;
template class Network<double>;

}  // namespace fastmlp
