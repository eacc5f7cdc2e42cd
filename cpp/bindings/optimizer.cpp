// The optimisers of Network32 / Network64 seen from Python (Keras's and PyTorch's
// parameters, clipping included), their state, and the states of the training generators:
// what files and pickles need to resume training exactly.
#include <pybind11/eigen.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <string>
#include <tuple>

#include "bound_network.hpp"

namespace py = pybind11;

namespace fastmlp::bindings {
namespace {

template <class T>
std::string optimizer_kind_name(const Network<T>& net) {
  switch (net.optimizer().kind()) {
    case Optimizer<T>::Kind::sgd: return "sgd";
    case Optimizer<T>::Kind::adam: return "adam";
    case Optimizer<T>::Kind::rmsprop: return "rmsprop";
    case Optimizer<T>::Kind::adamw: return "adamw";
  }
  return "unknown";
}

}  // namespace

template <class T>
void bind_optimizer(py::class_<BoundNetwork<T>>& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  cls.def("set_sgd",
          [](Bound& b, double lr, double momentum, bool nesterov, double weight_decay, const ClipConfig& clip) {
            b.write([&](Net& net) {
              net.set_optimizer(Optimizer<T>(SGDConfig{lr, momentum, nesterov, weight_decay}, clip));
            });
          },
          py::arg("learning_rate"), py::arg("momentum") = 0.0, py::arg("nesterov") = false,
          py::arg("weight_decay") = 0.0, py::arg("clip") = ClipConfig{})
      .def("set_adam",
           [](Bound& b, double lr, double beta1, double beta2, double epsilon, double weight_decay,
              const ClipConfig& clip) {
             b.write([&](Net& net) {
               net.set_optimizer(Optimizer<T>(AdamConfig{lr, beta1, beta2, epsilon, weight_decay}, clip));
             });
           },
           py::arg("learning_rate") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("epsilon") = 1e-8, py::arg("weight_decay") = 0.0, py::arg("clip") = ClipConfig{})
      .def("set_adamw",
           [](Bound& b, double lr, double beta1, double beta2, double epsilon, double weight_decay,
              const ClipConfig& clip) {
             b.write([&](Net& net) {
               net.set_optimizer(Optimizer<T>(AdamWConfig{lr, beta1, beta2, epsilon, weight_decay}, clip));
             });
           },
           py::arg("learning_rate") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("epsilon") = 1e-8, py::arg("weight_decay") = 1e-2, py::arg("clip") = ClipConfig{})
      .def("set_rmsprop",
           [](Bound& b, double lr, double rho, double epsilon, double momentum, double weight_decay,
              const ClipConfig& clip) {
             b.write([&](Net& net) {
               net.set_optimizer(Optimizer<T>(RMSpropConfig{lr, rho, epsilon, momentum, weight_decay}, clip));
             });
           },
           py::arg("learning_rate") = 1e-3, py::arg("rho") = 0.9, py::arg("epsilon") = 1e-8,
           py::arg("momentum") = 0.0, py::arg("weight_decay") = 0.0, py::arg("clip") = ClipConfig{})
      .def_property_readonly("optimizer_kind",
                             [](Bound& b) { return b.read([](const Net& net) { return optimizer_kind_name(net); }); })
      .def_property(
          "learning_rate", [](Bound& b) { return b.read([](const Net& net) { return net.optimizer().learning_rate(); }); },
          [](Bound& b, double lr) { b.write([lr](Net& net) { net.optimizer().set_learning_rate(lr); }); })
      .def_property_readonly("optimizer_steps",
                             [](Bound& b) { return b.read([](const Net& net) { return net.optimizer().steps_taken(); }); })
      .def("reset_optimizer", [](Bound& b) { b.write([](Net& net) { net.optimizer().reset_state(); }); },
           "Forget the optimiser's moments and step count (the parameters stay).")
      // The training state beyond the parameters, for files and pickles that resume exactly.
      .def("get_optimizer_state",
           [](Bound& b) {
             // Copied under the lock with the GIL released; Python objects are made after, with the GIL.
             return b.read([](const Net& net) {
               const auto& state = net.optimizer().state();
               return std::make_tuple(Vector<T>(state.first), Vector<T>(state.second), state.steps);
             });
           },
           "(first, second, steps): SGD's velocity or Adam's first moment, Adam's second moment (empty for SGD), "
           "the step count.")
      .def("set_optimizer_state",
           [](Bound& b, const Eigen::Ref<const Vector<T>>& first, const Eigen::Ref<const Vector<T>>& second,
              std::int64_t steps) {
             b.write([&](Net& net) { net.optimizer().restore_state(typename Optimizer<T>::State{first, second, steps}); });
           },
           py::arg("first"), py::arg("second"), py::arg("steps"))
      .def("get_shuffle_state", [](Bound& b) { return b.read([](const Net& net) { return net.shuffle_state(); }); },
           "The shuffling generator's four 64-bit words.")
      .def("set_shuffle_state",
           [](Bound& b, const Random::State& state) { b.write([&](Net& net) { net.set_shuffle_state(state); }); },
           py::arg("state"))
      .def("get_dropout_state", [](Bound& b) { return b.read([](const Net& net) { return net.dropout_state(); }); },
           "The dropout generator's four 64-bit words.")
      .def("set_dropout_state",
           [](Bound& b, const Random::State& state) { b.write([&](Net& net) { net.set_dropout_state(state); }); },
           py::arg("state"));
}

template void bind_optimizer<float>(py::class_<BoundNetwork<float>>& cls);
template void bind_optimizer<double>(py::class_<BoundNetwork<double>>& cls);

}  // namespace fastmlp::bindings
