// The Network's passes on a sparse X (CSR): the first layer's products on the nonzeros
// (sparse_products.hpp), everything else as for a dense X (network_passes.hpp, dropout.cpp).
#include "checked_size.hpp"
#include "fastmlp/network.hpp"
#include "network_passes.hpp"
#include "sparse_products.hpp"

#include <algorithm>
#include <cstdint>
#include <stdexcept>

namespace fastmlp {

template <class T>
template <class I>
void Network<T>::forward_rows(const CsrView<T, I>& X, ForwardCache<T>& cache, bool for_training,
                              Random* dropout_random) const {
  // Training and inference share the first product: each row of Z[0] is summed over its
  // nonzeros in their stored order, whatever rows surround it (row-invariant, as inference needs).
  const Index m = X.rows;
  reserve(cache, m);
  auto Z_0 = cache.z[0].topRows(m);
  Z_0.rowwise() = bias(0);                                // Z[0] = b[0] (broadcast) ...
  sparse_multiply_accumulate<T, I>(Z_0, X, weights(0));  // ... + X·W[0], over the nonzeros of X
  forward_after_first_product(m, cache, for_training, dropout_random);
}

template <class T>
template <class I>
double Network<T>::backward(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight) {
  if (cache_.rows != X.rows || X.cols != input_dim_)
    throw std::invalid_argument("backward needs the batch that was last passed to forward");
  const double loss = backward_to_first_layer(Y, sample_weight);
  sparse_multiply_transposed_left<T, I>(weight_gradient(0), X, delta_[0].topRows(X.rows));  // dW[0] = Xᵀ·dZ[0]
  return loss;
}

template <class T>
template <class I>
double Network<T>::compute_gradients(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y,
                                     SampleWeights<T> sample_weight, bool training) {
  check_targets(X.rows, X.cols, Y);
  forward_rows(X, cache_, true, training ? training_random() : nullptr);
  return backward(X, Y, sample_weight);
}

template <class T>
template <class I>
PassResult Network<T>::train_epoch(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y,
                                   SampleWeights<T> sample_weight, Index batch_size, bool shuffle,
                                   const ProgressCallback& progress, double progress_interval,
                                   const BatchHooks* hooks) {
  check_targets(X.rows, X.cols, Y);
  check_sample_weight(X.rows, sample_weight);
  const Index m = X.rows;
  batch_size = checked_batch_size(batch_size, m);
  // A hook is the user's code between batches: it may have changed X, so each batch's rows are
  // checked again against the nonzeros X held (and check_csr accepted) at the epoch's start.
  const bool recheck = hooks != nullptr && (hooks->begin || hooks->end);
  const Index stored = X.row_end(m - 1);
  const auto row_nonzeros = [&](Index source) {
    return recheck ? check_csr_row(X, source, stored) : X.row_end(source) - X.row_begin(source);
  };
  Index reserved = 0;  // nonzeros sparse_batch_ has room for
  if (shuffle) {
    // Room for the batch of this order with the most nonzeros: then no batch allocates.
    shuffle_order(m);
    for (Index start = 0; start < m; start += batch_size) {
      Index nonzeros = 0;
      for (Index r = start; r < std::min(m, start + batch_size); ++r)
        nonzeros += X.row_end(order_[static_cast<std::size_t>(r)]) - X.row_begin(order_[static_cast<std::size_t>(r)]);
      reserved = std::max(reserved, nonzeros);
    }
    sparse_batch_.reserve(batch_size, reserved);
    detail::checked_product(batch_size, output_dim(), "the shuffled batch buffer");
    if (y_batch_.rows() < batch_size) y_batch_.resize(batch_size, output_dim());
    if (w_batch_.size() < batch_size) w_batch_.resize(batch_size);
  }
  const bool classify = is_classification(loss_);
  const auto step = [&](Index start, Index rows, Index& correct) {
    if (!shuffle) {
      if (recheck)
        for (Index r = start; r < start + rows; ++r) row_nonzeros(r);
      const CsrView<T, I> batch = X.middle_rows(start, rows);
      forward_rows(batch, cache_, true, training_random());
      const double loss = backward(batch, Y.middleRows(start, rows), sample_weight.segment(start, rows));
      if (classify) correct += count_correct<T>(output_activation(), output(), Y.middleRows(start, rows));
      return loss;
    }
    if (recheck) {
      // A hook that lengthened rows may have made this batch larger than the room reserved.
      Index nonzeros = 0;
      for (Index r = 0; r < rows; ++r) nonzeros += row_nonzeros(order_[static_cast<std::size_t>(start + r)]);
      if (nonzeros > reserved) sparse_batch_.reserve(batch_size, reserved = nonzeros);
    }
    sparse_batch_.clear();
    for (Index r = 0; r < rows; ++r) {
      const Index source = order_[static_cast<std::size_t>(start + r)];
      sparse_batch_.append_row(X, source);
      y_batch_.row(r) = Y.row(source);
      if (sample_weight) w_batch_[r] = sample_weight.data[source];
    }
    const auto batch = sparse_batch_.view(X.cols);
    forward_rows(batch, cache_, true, training_random());
    const double loss = backward(batch, y_batch_.topRows(rows),
                                 sample_weight ? SampleWeights<T>(w_batch_.data(), rows) : SampleWeights<T>());
    if (classify) correct += count_correct<T>(output_activation(), output(), y_batch_.topRows(rows));
    return loss;
  };
  return run_epoch(m, batch_size, step, progress, progress_interval, hooks);
}

template <class T>
template <class I>
void Network<T>::predict(const CsrView<T, I>& X, MatrixRef<T> out) const {
  check_input(X.rows, X.cols);
  predict_chunks(X.rows, out, [&](Index start, Index rows, ForwardCache<T>& cache) {
    forward_rows(X.middle_rows(start, rows), cache);
  });
}

template <class T>
template <class I>
PassResult Network<T>::evaluate(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y,
                                SampleWeights<T> sample_weight) const {
  check_targets(X.rows, X.cols, Y);
  check_sample_weight(X.rows, sample_weight);
  return evaluate_chunks(Y, sample_weight, [&](Index start, Index rows, ForwardCache<T>& cache) {
    forward_rows(X.middle_rows(start, rows), cache);
  });
}

#define FASTMLP_INSTANTIATE(T, I)                                                                                  \
  template double Network<T>::compute_gradients<I>(const CsrView<T, I>&, const ConstMatrixRef<T>&,                 \
                                                   SampleWeights<T>, bool);                                        \
  template PassResult Network<T>::train_epoch<I>(const CsrView<T, I>&, const ConstMatrixRef<T>&, SampleWeights<T>, \
                                                 Index, bool, const ProgressCallback&, double, const BatchHooks*); \
  template void Network<T>::predict<I>(const CsrView<T, I>&, MatrixRef<T>) const;                                 \
  template PassResult Network<T>::evaluate<I>(const CsrView<T, I>&, const ConstMatrixRef<T>&, SampleWeights<T>)    \
      const;
FASTMLP_INSTANTIATE(float, std::int32_t)
FASTMLP_INSTANTIATE(float, std::int64_t)
FASTMLP_INSTANTIATE(double, std::int32_t)
FASTMLP_INSTANTIATE(double, std::int64_t)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
