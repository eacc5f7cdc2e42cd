// A dense feed-forward network: forward propagation with a cache, backpropagation,
// optimiser steps and whole epochs over mini-batches.
//
// Notation (DESIGN.md): X is m × d, W[l] is n_in × n_out, b[l] is 1 × n_out,
//   Z[l] = A[l-1]·W[l] + b[l],  A[l] = f_l(Z[l]),  A[0] = X.
// Indexing: the notes number layers from 1 (layer 1 reads A[0] = X); the engine counts them
// from 0, as Python lists do. So the engine's layer l, its weights(l), Z(l) and A(l), are the
// notes' W[l+1], Z[l+1] and A[l+1]; the input X is the notes' A[0] and has no engine index.
// Parameters live in one flat vector [W0, b0, W1, b1, ...] (each W row-major) and the
// gradients in a second vector of the same layout; layers are views into them. The cache
// (Z, A and the deltas of each layer) is a workspace sized for the largest batch seen, so
// training allocates nothing per batch.
//
// Threads: the const members (predict, evaluate, forward into a caller's cache, reading
// parameters) may run in any number of threads at once: each call borrows its own forward
// cache and never writes the weights, so the results equal serial calls bit for bit. A
// non-const member (training, setting parameters) must not overlap any other call; the
// Python binding enforces that with a readers-writer lock.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <vector>

#include "fastmlp/activation.hpp"
#include "fastmlp/initializer.hpp"
#include "fastmlp/loss.hpp"
#include "fastmlp/optimizer.hpp"
#include "fastmlp/random.hpp"
#include "fastmlp/sparse.hpp"
#include "fastmlp/types.hpp"

namespace fastmlp {

struct LayerSpec {
  Index units = 1;
  Activation activation = Activation::relu;
  double negative_slope = 0.01;  // leaky_relu only
  Initializer initializer = Initializer::automatic;
  // Inverted dropout of this layer's output in training: each unit of A[l] is kept with
  // probability 1 − dropout and scaled by 1/(1 − dropout). Hidden layers only; 0 is off.
  double dropout = 0.0;
};

// What a pass over a data set measured. `loss` is the (weighted) mean per-sample loss
// before each batch's update; `correct` counts rows whose class was right (classifiers).
struct PassResult {
  double loss = 0.0;
  Index correct = 0;
  Index samples = 0;
  bool finite = true;  // false: the loss or the weights became NaN/inf and were rolled back
};

// Z and A of every layer for up to `capacity` rows: what forward propagation leaves behind.
template <class T>
struct ForwardCache {
  std::vector<Matrix<T>> z, a;
  Index capacity = 0;
  Index rows = 0;  // of the last forward pass
  // Training with dropout only, for the layers that drop: the mask M[l] (1 kept, 0 dropped)
  // and the output the next layer reads, Ã[l] = A[l] ⊙ M[l] / (1 − p). Sized with z and a.
  std::vector<Matrix<T>> mask, dropped;
  bool dropping = false;  // the last pass dropped units (a training pass of a network with dropout)
  // Inference in row blocks: every layer's W, packed for the row-invariant product (row_product.hpp).
  std::vector<T, Eigen::aligned_allocator<T>> packed_weights;
  auto Z(Index l) const { return z[static_cast<std::size_t>(l)].topRows(rows); }
  auto A(Index l) const { return a[static_cast<std::size_t>(l)].topRows(rows); }
  auto M(Index l) const { return mask[static_cast<std::size_t>(l)].topRows(rows); }
};

// Forward caches that const inference borrows, one per call in flight, kept for the next
// calls so that a steady stream of predictions allocates nothing. Copies start empty.
template <class T>
class ForwardCachePool {
 public:
  ForwardCachePool() = default;
  ForwardCachePool(const ForwardCachePool&) {}
  ForwardCachePool& operator=(const ForwardCachePool&) { return *this; }

  std::unique_ptr<ForwardCache<T>> take() {
    std::lock_guard<std::mutex> guard(mutex_);
    if (free_.empty()) return std::make_unique<ForwardCache<T>>();
    std::unique_ptr<ForwardCache<T>> cache = std::move(free_.back());
    free_.pop_back();
    return cache;
  }
  void give_back(std::unique_ptr<ForwardCache<T>> cache) {
    std::lock_guard<std::mutex> guard(mutex_);
    free_.push_back(std::move(cache));
  }

 private:
  std::mutex mutex_;
  std::vector<std::unique_ptr<ForwardCache<T>>> free_;
};

template <class T>
class Network {
 public:
  // Throws std::invalid_argument for zero-sized layers, softmax or step in a hidden layer,
  // an output activation that does not fit the loss, and sizes (n_in × units, the parameter
  // total) too large to address, naming the layer.
  Network(Index input_dim, std::vector<LayerSpec> layers, Loss loss = Loss::none, std::uint64_t seed = 0);

  Index input_dim() const { return input_dim_; }
  Index output_dim() const { return layers_.back().units; }
  Index num_layers() const { return static_cast<Index>(layers_.size()); }
  const LayerSpec& layer(Index l) const { return layers_.at(static_cast<std::size_t>(l)); }
  Index layer_input_dim(Index l) const { return l == 0 ? input_dim_ : layer(l - 1).units; }
  // Throws std::out_of_range unless 0 <= l < num_layers().
  void check_layer_index(Index l) const;
  Loss loss() const { return loss_; }
  void set_loss(Loss loss);

  // Draws fresh weights (biases zero) from `seed`; also reseeds the training generators.
  void initialize(std::uint64_t seed);
  // Shuffling and dropout masks draw from streams of their own, so that adding dropout
  // leaves the order of the batches as it was.
  void reseed_training(std::uint64_t seed) {
    shuffle_random_ = Random(seed ^ kShuffleStream);
    dropout_random_ = Random(seed ^ kDropoutStream);
  }
  // The generators' states: with the parameters and the optimiser's state, all that a later
  // epoch depends on, so training can stop, travel and resume bit for bit.
  Random::State shuffle_state() const { return shuffle_random_.state(); }
  void set_shuffle_state(const Random::State& state) { shuffle_random_.set_state(state); }
  Random::State dropout_state() const { return dropout_random_.state(); }
  void set_dropout_state(const Random::State& state) { dropout_random_.set_state(state); }
  bool has_dropout() const;

  // δ of the huber loss, where it turns from quadratic to linear. Throws std::invalid_argument
  // unless positive and finite.
  double huber_delta() const { return huber_delta_; }
  void set_huber_delta(double delta);

  Index num_parameters() const { return parameters_.size(); }
  Vector<T>& parameters() { return parameters_; }
  const Vector<T>& parameters() const { return parameters_; }
  const Vector<T>& gradients() const { return gradients_; }
  MatrixMap<T> weights(Index l) { return view_weights(parameters_, l); }
  RowVectorMap<T> bias(Index l) { return view_bias(parameters_, l); }
  ConstMatrixMap<T> weights(Index l) const;
  ConstRowVectorMap<T> bias(Index l) const;
  MatrixMap<T> weight_gradient(Index l) { return view_weights(gradients_, l); }
  RowVectorMap<T> bias_gradient(Index l) { return view_bias(gradients_, l); }

  // Checked writes: the layer index (std::out_of_range) and the shape (std::invalid_argument,
  // naming the layer and both shapes) are verified before anything is copied.
  void set_weights(Index l, const ConstMatrixRef<T>& W);
  void set_bias(Index l, const ConstVectorRef<T>& b);
  void set_parameters(const ConstVectorRef<T>& values);

  Optimizer<T>& optimizer() { return optimizer_; }
  const Optimizer<T>& optimizer() const { return optimizer_; }
  void set_optimizer(Optimizer<T> optimizer);

  // Forward propagation of X (m × input_dim), caching Z and A of every layer in the
  // network's own cache (read by Z, A, output and backward).
  void forward(const ConstMatrixRef<T>& X);
  Index cached_rows() const { return cache_.rows; }
  auto Z(Index l) const { return cache_.Z(l); }
  auto A(Index l) const { return cache_.A(l); }
  auto output() const { return A(num_layers() - 1); }

  // The same into a cache of the caller's (grown as needed): safe in many threads at once.
  void forward(const ConstMatrixRef<T>& X, ForwardCache<T>& cache) const;
  // A training pass into the caller's cache: dropout masks drawn from the network's generator
  // (which advances), for inspecting what a training step sees.
  void forward_training(const ConstMatrixRef<T>& X, ForwardCache<T>& cache);

  // Backpropagation of the batch last passed to forward(); X must be that batch. Fills the
  // gradient vector (no gradient with respect to X is computed) and returns the loss.
  // sample_weight is none or holds one weight per row of X (checked everywhere below).
  double backward(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight = {});

  // forward + backward, no update; `training` draws dropout masks (the cache keeps them).
  double compute_gradients(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                           SampleWeights<T> sample_weight = {}, bool training = false);
  auto M(Index l) const { return cache_.M(l); }  // the mask of the last training pass
  bool cached_dropping() const { return cache_.dropping; }

  // forward + backward (dropout on) + one optimiser step. Returns the loss before the step.
  double train_batch(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight = {});

  // One epoch of mini-batch training, shuffled with the network's own seeded generator.
  // If the loss or the weights stop being finite, the weights and optimiser state are
  // restored to what they were at the start of the epoch and `finite` is false.
  //
  // `progress`, when set, is called with the number of samples done so far, at most once per
  // `progress_interval` seconds (and never per batch unless batches are that slow): it lets a
  // caller move a progress bar or notice an interrupt. If it throws, the epoch stops there
  // and the exception propagates; the weights are those after the last finished batch.
  //
  // `hooks`, when given, are called around every batch (a user's per-batch callbacks): begin(b)
  // before batch b, end(b, so_far) after its update with the epoch's result so far (the mean
  // loss and correct count over the batches done). end returning true stops the epoch there;
  // the result then covers the batches done.
  using ProgressCallback = std::function<void(Index samples_done)>;
  struct BatchHooks {
    std::function<void(Index batch)> begin;
    std::function<bool(Index batch, const PassResult& so_far)> end;
  };
  PassResult train_epoch(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                         Index batch_size, bool shuffle, const ProgressCallback& progress = {},
                         double progress_interval = 0.1, const BatchHooks* hooks = nullptr);

  // Up to `epochs` epochs; stops after the first that diverged (its result is the last).
  std::vector<PassResult> train_epochs(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                                       SampleWeights<T> sample_weight, Index batch_size, bool shuffle, Index epochs);

  // Output activations for X, written to `out` (m × output_dim), in chunks. X must be finite.
  void predict(const ConstMatrixRef<T>& X, MatrixRef<T> out) const;

  // Loss and correct count over a whole data set, in chunks, no update.
  PassResult evaluate(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y,
                      SampleWeights<T> sample_weight = {}) const;

  // The same passes on a sparse X (CSR, sparse.hpp; I is std::int32_t or std::int64_t), whose
  // structure check_csr has accepted: the first layer's products run on the nonzeros only and
  // shuffled batches are gathered into a CSR buffer, so X is never made dense. Dropout, the
  // batch hooks and the roll-back of a diverged epoch are those of the dense passes (one epoch
  // loop serves both), and the results equal those on the dense X up to the rounding of sums
  // taken in another order.
  //
  // With hooks, the user's code between batches may change X's arrays (Python code can): each
  // batch's rows are then checked again just before they are read (check_csr_row in
  // sparse.hpp, against the nonzero count X had at the start of the epoch), so a changed
  // structure is an std::invalid_argument, as a progress callback's exception is (the weights
  // are those after the last finished batch), never a read outside the arrays.
  template <class I>
  double compute_gradients(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight = {},
                           bool training = false);
  template <class I>
  PassResult train_epoch(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                         Index batch_size, bool shuffle, const ProgressCallback& progress = {},
                         double progress_interval = 0.1, const BatchHooks* hooks = nullptr);
  template <class I>
  void predict(const CsrView<T, I>& X, MatrixRef<T> out) const;
  template <class I>
  PassResult evaluate(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight = {}) const;

  // Shape checks shared by every entry point; throw std::invalid_argument naming the problem.
  // (rows, cols) is the shape of X.
  void check_input(const ConstMatrixRef<T>& X) const { check_input(X.rows(), X.cols()); }
  void check_input(Index rows, Index cols) const;
  void check_targets(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y) const {
    check_targets(X.rows(), X.cols(), Y);
  }
  void check_targets(Index rows, Index cols, const ConstMatrixRef<T>& Y) const;
  void check_sample_weight(const ConstMatrixRef<T>& X, SampleWeights<T> sample_weight) const {
    check_sample_weight(X.rows(), sample_weight);
  }
  void check_sample_weight(Index rows, SampleWeights<T> sample_weight) const;

 private:
  static constexpr std::uint64_t kShuffleStream = 0x5DEECE66DULL;
  static constexpr std::uint64_t kDropoutStream = 0xD1B54A32D192ED03ULL;

  void lay_out_parameters();
  MatrixMap<T> view_weights(Vector<T>& flat, Index l);
  RowVectorMap<T> view_bias(Vector<T>& flat, Index l);
  void reserve(ForwardCache<T>& cache, Index rows) const;
  void ensure_delta_capacity(Index rows);
  Index inference_chunk_rows(Index m) const;
  void ensure_batch_buffers(Index rows);
  void shuffle_order(Index m);
  // Training's products (for_training) run at full speed; inference's give each row the same
  // bits whatever the batch around it (parallel.hpp). dropout_random non-null: a training pass
  // that drops units (inference never does).
  void forward_rows(const ConstMatrixRef<T>& X, ForwardCache<T>& cache, bool for_training = false,
                    Random* dropout_random = nullptr) const;
  template <class I>
  void forward_rows(const CsrView<T, I>& X, ForwardCache<T>& cache, bool for_training = false,
                    Random* dropout_random = nullptr) const;
  // What forward propagation does once Z[0] holds X·W[0] + b[0] for `rows` rows: A[0] (and its
  // dropout) and the layers above.
  void forward_after_first_product(Index rows, ForwardCache<T>& cache, bool for_training,
                                   Random* dropout_random) const;
  // Backpropagation of the cached batch down to dZ[0] and db[0]; dW[0] = Xᵀ·dZ[0] is left to
  // the caller, whose X may be dense or sparse. Returns the loss.
  double backward_to_first_layer(const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight);
  template <class I>
  double backward(const CsrView<T, I>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight);
  Index checked_batch_size(Index batch_size, Index rows) const;
  // The loop of train_epoch over batches of an X of `rows` rows, for dense and sparse X alike:
  // step(start, count, correct) runs forward and backward of one batch (counting its right
  // decisions into `correct`) and returns its loss; this calls the hooks around it, takes the
  // optimiser steps, reports progress and rolls back a non-finite epoch (network_passes.hpp).
  template <class Step>
  PassResult run_epoch(Index rows, Index batch_size, const Step& step, const ProgressCallback& progress,
                       double progress_interval, const BatchHooks* hooks);
  // predict and evaluate over `rows` rows in chunks, forward_chunk(start, count, cache) running
  // forward propagation of a chunk into the cache.
  template <class ForwardChunk>
  void predict_chunks(Index rows, MatrixRef<T> out, const ForwardChunk& forward_chunk) const;
  template <class ForwardChunk>
  PassResult evaluate_chunks(const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                             const ForwardChunk& forward_chunk) const;
  // Inference of many rows: blocks of rows, each through every layer on one thread.
  void forward_in_row_blocks(const ConstMatrixRef<T>& X, ForwardCache<T>& cache) const;
  void reserve_dropout(ForwardCache<T>& cache) const;
  void drop_units(Index l, Index rows, ForwardCache<T>& cache, Random& random) const;
  // What layer l reads: X for l = 0 (not here), else A[l-1] or, after dropout, Ã[l-1].
  const Matrix<T>& layer_input(const ForwardCache<T>& cache, Index l) const;
  void multiply_by_dropout_derivative(Index l, MatrixRef<T> delta) const;
  Random* training_random() { return has_dropout() ? &dropout_random_ : nullptr; }
  // Runs `pass(cache)` with a cache borrowed from the pool (returned even on an exception).
  template <class Pass>
  void with_borrowed_cache(const Pass& pass) const;
  void gather_rows(const ConstMatrixRef<T>& X, const ConstMatrixRef<T>& Y, SampleWeights<T> sample_weight,
                   Index start, Index rows);
  template <class RowExpression, class Destination>
  void vector_times_weights(const RowExpression& row, Index l, Destination& Z) const;
  Activation output_activation() const { return layers_.back().activation; }
  T output_slope() const { return static_cast<T>(layers_.back().negative_slope); }

  Index input_dim_;
  std::vector<LayerSpec> layers_;
  Loss loss_;
  std::vector<Index> weight_offsets_;
  std::vector<Index> bias_offsets_;
  Vector<T> parameters_;
  Vector<T> gradients_;
  Optimizer<T> optimizer_;
  Random shuffle_random_{0};
  Random dropout_random_{0};
  double huber_delta_ = 1.0;

  // Training workspace, sized once for the largest batch.
  ForwardCache<T> cache_;
  Index delta_capacity_ = 0;
  std::vector<Matrix<T>> delta_;
  Matrix<T> x_batch_, y_batch_;
  Vector<T> w_batch_;
  CsrBatch<T> sparse_batch_;
  std::vector<Index> order_;
  Vector<T> snapshot_;
  typename Optimizer<T>::State optimizer_snapshot_;

  // Forward caches of const inference (predict, evaluate) in flight.
  mutable ForwardCachePool<T> inference_caches_;
};

}  // namespace fastmlp
