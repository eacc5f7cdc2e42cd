// Private to the binding: a Network as Python threads share it, for the files that bind it.
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

namespace py = pybind11;

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
    py::gil_scoped_release release;
    std::shared_lock<AccessLock> guard(access);
    return work(static_cast<const Network<T>&>(net));
  }
  template <class Work>
  auto write(Work&& work) {
    py::gil_scoped_release release;
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

template <class T>
py::list gradient_list(const LayerPairs<T>& grads) {
  py::list list;
  for (const auto& [dW, db] : grads) list.append(py::make_tuple(dW, db));
  return list;
}

// train_epoch's progress callback: a few times a second the engine takes the GIL back, to move
// a progress bar and to let Ctrl-C stop a long epoch (a raised KeyboardInterrupt unwinds out of
// the loop). `progress` may be None.
inline auto progress_reporter(const py::object& progress) {
  return [&progress](Index samples_done) {
    py::gil_scoped_acquire acquire;
    if (PyErr_CheckSignals() != 0) throw py::error_already_set();
    if (!progress.is_none()) progress(samples_done);
  };
}

// sparse.cpp: the class CsrMatrix, and the sparse overloads of predict, evaluate, gradients
// and train_epoch on a bound network class.
void bind_csr_matrix(py::module_& m);
template <class T>
void bind_sparse_passes(py::class_<BoundNetwork<T>>& cls);

}  // namespace fastmlp::bindings
