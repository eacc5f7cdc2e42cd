// Private to the binding: a network shared between Python threads, and the parts of its
// class bound in files of their own.
#pragma once

#include <pybind11/pybind11.h>

#include <mutex>
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

// optimizer.cpp: the optimisers, their state and the training generators' states.
template <class T>
void bind_optimizer(pybind11::class_<BoundNetwork<T>>& cls);

}  // namespace fastmlp::bindings
