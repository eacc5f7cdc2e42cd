// Private to the binding: a network shared between Python threads, what the files that bind
// its passes share (sample weights, gradient copies, progress and batch hooks), and the parts
// of its class bound in files of their own.
#pragma once

#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>

#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <utility>
#include <vector>

#include "access_lock.hpp"
#include "fastmlp/fastmlp.hpp"

namespace fastmlp::bindings {

template <class T>
struct BoundNetwork {
  Network<T> net;
  AccessLock access;

  BoundNetwork(Index input_dim, std::vector<LayerSpec> layers, const std::string& loss, std::uint64_t seed)
      : net(input_dim, std::move(layers), loss_from_name(loss), seed) {}
  explicit BoundNetwork(const Network<T>& other) : net(other) {}

  // work(const Network&) among other readers; work(Network&) alone. The GIL is released
  // before waiting and taken back after the lock is let go; work's result must be C++ data.
  template <class Work>
  auto read(Work&& work) {
    pybind11::gil_scoped_release release;
    std::shared_lock<AccessLock> guard(access);
    return work(static_cast<const Network<T>&>(net));
  }
  template <class Work>
  auto write(Work&& work) {
    pybind11::gil_scoped_release release;
    std::unique_lock<AccessLock> guard(access);
    return work(net);
  }
};

template <class T>
using OptionalWeights = std::optional<Eigen::Ref<const Vector<T>>>;

template <class T>
SampleWeights<T> weights_of(const OptionalWeights<T>& sample_weight) {
  return sample_weight ? SampleWeights<T>(*sample_weight) : SampleWeights<T>();
}

template <class T>
using LayerPairs = std::vector<std::pair<Matrix<T>, Vector<T>>>;

// The gradients the network holds, copied (under the lock) for Python.
template <class T>
LayerPairs<T> gradient_copies(Network<T>& net) {
  LayerPairs<T> copies;
  for (Index l = 0; l < net.num_layers(); ++l) copies.emplace_back(net.weight_gradient(l), net.bias_gradient(l).transpose());
  return copies;
}

// The dropout masks of the last training pass, one per layer (none for a layer that did not drop).
template <class T>
std::vector<std::optional<Matrix<T>>> mask_copies(const Network<T>& net) {
  std::vector<std::optional<Matrix<T>>> masks;
  for (Index l = 0; l < net.num_layers(); ++l) {
    if (net.cached_dropping() && net.layer(l).dropout > 0.0)
      masks.emplace_back(Matrix<T>(net.M(l)));
    else
      masks.emplace_back(std::nullopt);
  }
  return masks;
}

template <class T>
pybind11::list gradient_list(const LayerPairs<T>& grads) {
  pybind11::list list;
  for (const auto& [dW, db] : grads) list.append(pybind11::make_tuple(dW, db));
  return list;
}

// train_epoch's progress callback: a few times a second the engine takes the GIL back, to move
// a progress bar and to let Ctrl-C stop a long epoch (a raised KeyboardInterrupt unwinds out of
// the loop). `progress` may be None.
inline auto progress_reporter(const pybind11::object& progress) {
  return [&progress](Index samples_done) {
    pybind11::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) throw pybind11::error_already_set();
    if (!progress.is_none()) progress(samples_done);
  };
}

// train_epoch's per-batch hooks from Python's batch_begin(batch) and batch_end(batch, loss,
// correct, samples) (either may be None). They take the GIL for every batch: only when a
// user's callback asks. The objects must outlive the hooks.
template <class T>
typename Network<T>::BatchHooks batch_hooks_of(const pybind11::object& batch_begin, const pybind11::object& batch_end) {
  typename Network<T>::BatchHooks hooks;
  if (!batch_begin.is_none())
    hooks.begin = [&batch_begin](Index batch) {
      pybind11::gil_scoped_acquire acquire;
      batch_begin(batch);
    };
  if (!batch_end.is_none())
    hooks.end = [&batch_end](Index batch, const PassResult& so_far) {
      pybind11::gil_scoped_acquire acquire;
      return pybind11::bool_(batch_end(batch, so_far.loss, so_far.correct, so_far.samples)).cast<bool>();
    };
  return hooks;
}

template <class Hooks>
const Hooks* hooks_if_any(const Hooks& hooks) {
  return hooks.begin || hooks.end ? &hooks : nullptr;
}

// optimizer.cpp: the optimisers, their state and the training generators' states.
template <class T>
void bind_optimizer(pybind11::class_<BoundNetwork<T>>& cls);

// sparse.cpp: the class CsrMatrix, and the sparse overloads of predict, evaluate, gradients,
// training_gradients and train_epoch on a bound network class.
void bind_csr_matrix(pybind11::module_& m);
template <class T>
void bind_sparse_passes(pybind11::class_<BoundNetwork<T>>& cls);

}  // namespace fastmlp::bindings
