// Private: the Network's passes over a data set, written once for dense and sparse X
// (network.cpp and network_sparse.cpp instantiate them with their own batch steps).
#pragma once

#include <algorithm>
#include <chrono>
#include <cmath>
#include <limits>
#include <memory>
#include <stdexcept>

#include "fastmlp/network.hpp"

namespace fastmlp {

template <class T>
template <class Pass>
void Network<T>::with_borrowed_cache(const Pass& pass) const {
  struct Lease {
    ForwardCachePool<T>& pool;
    std::unique_ptr<ForwardCache<T>> cache;
    ~Lease() { pool.give_back(std::move(cache)); }
  } lease{inference_caches_, inference_caches_.take()};
  pass(*lease.cache);
}

template <class T>
template <class Step>
PassResult Network<T>::run_epoch(Index m, Index batch_size, const Step& step, const ProgressCallback& progress,
                                 double progress_interval, const BatchHooks* hooks) {
  reserve(cache_, batch_size);
  snapshot_ = parameters_;
  optimizer_snapshot_ = optimizer_.state();
  PassResult result;
  double loss_sum = 0.0;
  auto last_report = std::chrono::steady_clock::now();
  for (Index start = 0; start < m; start += batch_size) {
    const Index rows = std::min(batch_size, m - start);
    if (hooks && hooks->begin) hooks->begin(start / batch_size);
    const double loss = step(start, rows, result.correct);
    if (!std::isfinite(loss)) {
      result.finite = false;
      break;
    }
    optimizer_.step(parameters_, gradients_);
    loss_sum += loss * static_cast<double>(rows);
    result.samples += rows;
    if (hooks && hooks->end) {
      result.loss = loss_sum / static_cast<double>(result.samples);  // the mean over the batches done
      if (hooks->end(start / batch_size, result)) break;
    }
    if (progress) {
      const auto now = std::chrono::steady_clock::now();
      if (std::chrono::duration<double>(now - last_report).count() >= progress_interval) {
        last_report = now;
        progress(result.samples);
      }
    }
  }
  if (result.finite && !all_finite(parameters_)) result.finite = false;
  if (!result.finite) {
    parameters_ = snapshot_;
    optimizer_.restore_state(optimizer_snapshot_);
    result.loss = std::numeric_limits<double>::quiet_NaN();
    return result;
  }
  // An end hook may have stopped the epoch early: the mean is over the samples trained on.
  result.loss = loss_sum / static_cast<double>(std::max<Index>(result.samples, 1));
  return result;
}

template <class T>
template <class ForwardChunk>
void Network<T>::predict_chunks(Index m, MatrixRef<T> out, const ForwardChunk& forward_chunk) const {
  if (out.rows() != m || out.cols() != output_dim())
    throw std::invalid_argument("predict: output buffer has the wrong shape");
  const Index chunk = inference_chunk_rows(m);
  with_borrowed_cache([&](ForwardCache<T>& cache) {
    for (Index start = 0; start < m; start += chunk) {
      const Index rows = std::min(chunk, m - start);
      forward_chunk(start, rows, cache);
      out.middleRows(start, rows) = cache.A(num_layers() - 1);
    }
  });
}

template <class T>
template <class ForwardChunk>
PassResult Network<T>::evaluate_chunks(const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                                       const ForwardChunk& forward_chunk) const {
  const Index m = Y.rows();
  const Index chunk = inference_chunk_rows(m);
  const Index last = num_layers() - 1;
  PassResult result;
  double loss_sum = 0.0;
  with_borrowed_cache([&](ForwardCache<T>& cache) {
    for (Index start = 0; start < m; start += chunk) {
      const Index rows = std::min(chunk, m - start);
      forward_chunk(start, rows, cache);
      loss_sum += static_cast<double>(rows) *
                  loss_and_output_delta<T>(loss_, output_activation(), output_slope(), cache.Z(last), cache.A(last),
                                           Y.middleRows(start, rows), sample_weight.segment(start, rows).data, nullptr,
                                           static_cast<T>(huber_delta_));
      if (is_classification(loss_))
        result.correct += count_correct<T>(output_activation(), cache.A(last), Y.middleRows(start, rows));
      result.samples += rows;
    }
  });
  result.loss = loss_sum / static_cast<double>(m);
  result.finite = std::isfinite(result.loss);
  return result;
}

}  // namespace fastmlp
