// fastmlp._core: the engine, seen from Python.
//
// This file only translates: it converts arrays (C-contiguous arrays of the network's
// dtype arrive as views, anything else is converted once by pybind11), names arguments,
// releases the GIL around numeric work and maps C++ exceptions to Python ones
// (std::invalid_argument becomes ValueError). The maths lives in cpp/include/fastmlp.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <mutex>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

#include "fastmlp/fastmlp.hpp"

namespace py = pybind11;
using namespace fastmlp;

namespace {

using LayerTuple = std::tuple<Index, std::string, double, std::string>;  // units, activation, slope, initializer

// A network plus a lock: with the GIL released, two Python threads could otherwise drive
// the same workspace at once.
template <class T>
struct BoundNetwork {
  Network<T> net;
  std::mutex busy;

  BoundNetwork(Index input_dim, const std::vector<LayerTuple>& layers, const std::string& loss, std::uint64_t seed)
      : net(input_dim, parse_layers(layers), loss_from_name(loss), seed) {}

  static std::vector<LayerSpec> parse_layers(const std::vector<LayerTuple>& layers) {
    std::vector<LayerSpec> specs;
    for (const auto& [units, activation, slope, initializer] : layers)
      specs.push_back({units, activation_from_name(activation), slope, initializer_from_name(initializer)});
    return specs;
  }

  std::unique_lock<std::mutex> lock() {
    std::unique_lock<std::mutex> guard(busy, std::try_to_lock);
    if (!guard.owns_lock())
      throw std::runtime_error("this network is already in use by another thread; give each thread its own model");
    return guard;
  }
};

template <class T>
const T* weights_pointer(const std::optional<Eigen::Ref<const Vector<T>>>& sample_weight, Index rows) {
  if (!sample_weight) return nullptr;
  if (sample_weight->size() != rows)
    throw std::invalid_argument("sample_weight has " + std::to_string(sample_weight->size()) + " entries but X has " +
                                std::to_string(rows) + " rows");
  return sample_weight->data();
}

void check_layer_index(Index l, Index n) {
  if (l < 0 || l >= n)
    throw py::index_error("layer index " + std::to_string(l) + " out of range for " + std::to_string(n) + " layers");
}

template <class T>
void bind_network(py::module_& m, const char* name) {
  using Bound = BoundNetwork<T>;
  using Ref = Eigen::Ref<const Matrix<T>>;
  using OptionalWeights = std::optional<Eigen::Ref<const Vector<T>>>;

  // module_local: every compiled variant registers these same C++ types in one process.
  py::class_<Bound>(m, name, "A dense network in one precision. Row-major: X is (n_samples, n_features).",
                    py::module_local())
      .def(py::init<Index, const std::vector<LayerTuple>&, const std::string&, std::uint64_t>(), py::arg("input_dim"),
           py::arg("layers"), py::arg("loss") = "none", py::arg("seed") = 0,
           "layers: list of (units, activation, negative_slope, initializer)")
      .def_property_readonly("input_dim", [](Bound& b) { return b.net.input_dim(); })
      .def_property_readonly("output_dim", [](Bound& b) { return b.net.output_dim(); })
      .def_property_readonly("num_layers", [](Bound& b) { return b.net.num_layers(); })
      .def_property_readonly("num_parameters", [](Bound& b) { return b.net.num_parameters(); })
      .def_property_readonly("dtype", [](Bound&) { return py::dtype::of<T>(); })
      .def_property(
          "loss", [](Bound& b) { return loss_name(b.net.loss()); },
          [](Bound& b, const std::string& loss) { b.net.set_loss(loss_from_name(loss)); })
      .def("layer_units", [](Bound& b, Index l) { check_layer_index(l, b.net.num_layers()); return b.net.layer(l).units; })
      .def("layer_activation",
           [](Bound& b, Index l) { check_layer_index(l, b.net.num_layers()); return activation_name(b.net.layer(l).activation); })
      .def("layer_negative_slope",
           [](Bound& b, Index l) { check_layer_index(l, b.net.num_layers()); return b.net.layer(l).negative_slope; })
      .def("initialize", [](Bound& b, std::uint64_t seed) { auto g = b.lock(); b.net.initialize(seed); }, py::arg("seed"))
      .def("reseed_shuffle", [](Bound& b, std::uint64_t seed) { auto g = b.lock(); b.net.reseed_shuffle(seed); },
           py::arg("seed"))

      // Parameters are handed out as copies: a user's saved W must not change under training.
      .def("get_parameters", [](Bound& b) { return Vector<T>(b.net.parameters()); })
      .def("set_parameters",
           [](Bound& b, const Eigen::Ref<const Vector<T>>& values) {
             auto g = b.lock();
             if (values.size() != b.net.num_parameters())
               throw std::invalid_argument("expected " + std::to_string(b.net.num_parameters()) + " parameters, got " +
                                           std::to_string(values.size()));
             b.net.parameters() = values;
           },
           py::arg("values"))
      .def("get_weights", [](Bound& b, Index l) { check_layer_index(l, b.net.num_layers()); return Matrix<T>(b.net.weights(l)); })
      .def("get_bias", [](Bound& b, Index l) { check_layer_index(l, b.net.num_layers()); return Vector<T>(b.net.bias(l).transpose()); })
      .def("set_weights",
           [](Bound& b, Index l, const Ref& W) {
             check_layer_index(l, b.net.num_layers());
             auto g = b.lock();
             auto target = b.net.weights(l);
             if (W.rows() != target.rows() || W.cols() != target.cols())
               throw std::invalid_argument("W of layer " + std::to_string(l) + " must have shape (" +
                                           std::to_string(target.rows()) + ", " + std::to_string(target.cols()) +
                                           "), got (" + std::to_string(W.rows()) + ", " + std::to_string(W.cols()) + ")");
             target = W;
           },
           py::arg("layer"), py::arg("W"))
      .def("set_bias",
           [](Bound& b, Index l, const Eigen::Ref<const Vector<T>>& bias) {
             check_layer_index(l, b.net.num_layers());
             auto g = b.lock();
             auto target = b.net.bias(l);
             if (bias.size() != target.size())
               throw std::invalid_argument("b of layer " + std::to_string(l) + " must have " +
                                           std::to_string(target.size()) + " entries, got " + std::to_string(bias.size()));
             target = bias.transpose();
           },
           py::arg("layer"), py::arg("b"))

      .def("set_sgd",
           [](Bound& b, double lr, double momentum, bool nesterov, double weight_decay) {
             auto g = b.lock();
             b.net.set_optimizer(Optimizer<T>(SGDConfig{lr, momentum, nesterov, weight_decay}));
           },
           py::arg("learning_rate"), py::arg("momentum") = 0.0, py::arg("nesterov") = false,
           py::arg("weight_decay") = 0.0)
      .def("set_adam",
           [](Bound& b, double lr, double beta1, double beta2, double epsilon, double weight_decay) {
             auto g = b.lock();
             b.net.set_optimizer(Optimizer<T>(AdamConfig{lr, beta1, beta2, epsilon, weight_decay}));
           },
           py::arg("learning_rate") = 1e-3, py::arg("beta1") = 0.9, py::arg("beta2") = 0.999,
           py::arg("epsilon") = 1e-8, py::arg("weight_decay") = 0.0)
      .def_property(
          "learning_rate", [](Bound& b) { return b.net.optimizer().learning_rate(); },
          [](Bound& b, double lr) { b.net.optimizer().set_learning_rate(lr); })
      .def_property_readonly("optimizer_steps", [](Bound& b) { return b.net.optimizer().steps_taken(); })
      .def("reset_optimizer", [](Bound& b) { auto g = b.lock(); b.net.optimizer().reset_state(); })
      // The training state beyond the parameters, for files and pickles that resume exactly.
      .def("get_optimizer_state",
           [](Bound& b) {
             auto g = b.lock();
             const auto& state = b.net.optimizer().state();
             return py::make_tuple(Vector<T>(state.first), Vector<T>(state.second), state.steps);
           },
           "(first, second, steps): SGD's velocity or Adam's first moment, Adam's second moment (empty for SGD), "
           "the step count.")
      .def("set_optimizer_state",
           [](Bound& b, const Eigen::Ref<const Vector<T>>& first, const Eigen::Ref<const Vector<T>>& second,
              std::int64_t steps) {
             auto g = b.lock();
             b.net.optimizer().restore_state(typename Optimizer<T>::State{first, second, steps});
           },
           py::arg("first"), py::arg("second"), py::arg("steps"))
      .def("get_shuffle_state", [](Bound& b) { auto g = b.lock(); return b.net.shuffle_state(); },
           "The shuffling generator's four 64-bit words.")
      .def("set_shuffle_state",
           [](Bound& b, const Random::State& state) { auto g = b.lock(); b.net.set_shuffle_state(state); },
           py::arg("state"))

      .def("forward",
           [](Bound& b, const Ref& X) {
             auto g = b.lock();
             {
               py::gil_scoped_release release;
               b.net.forward(X);
             }
             py::list caches;
             for (Index l = 0; l < b.net.num_layers(); ++l)
               caches.append(py::make_tuple(Matrix<T>(b.net.Z(l)), Matrix<T>(b.net.A(l))));
             return caches;
           },
           py::arg("X"), "Forward propagation; returns [(Z, A)] per layer (copies).")
      .def("gradients",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights& sample_weight) {
             auto g = b.lock();
             const T* w = weights_pointer<T>(sample_weight, X.rows());
             double loss;
             {
               py::gil_scoped_release release;
               loss = b.net.compute_gradients(X, Y, w);
             }
             py::list grads;
             for (Index l = 0; l < b.net.num_layers(); ++l)
               grads.append(py::make_tuple(Matrix<T>(b.net.weight_gradient(l)),
                                           Vector<T>(b.net.bias_gradient(l).transpose())));
             return py::make_tuple(loss, grads);
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(),
           "Backpropagation without an update; returns (loss, [(dW, db)] per layer).")
      .def("train_batch",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights& sample_weight) {
             auto g = b.lock();
             const T* w = weights_pointer<T>(sample_weight, X.rows());
             py::gil_scoped_release release;
             return b.net.train_batch(X, Y, w);
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def("train_epoch",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights& sample_weight, Index batch_size,
              bool shuffle, const py::object& progress) {
             auto g = b.lock();
             const T* w = weights_pointer<T>(sample_weight, X.rows());
             // A few times a second the engine takes the GIL back: to move a progress bar and to
             // let Ctrl-C stop a long epoch (a raised KeyboardInterrupt unwinds out of the loop).
             auto report = [&progress](Index samples_done) {
               py::gil_scoped_acquire acquire;
               if (PyErr_CheckSignals() != 0) throw py::error_already_set();
               if (!progress.is_none()) progress(samples_done);
             };
             py::gil_scoped_release release;
             return b.net.train_epoch(X, Y, w, batch_size, shuffle, report);
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(), py::arg("batch_size") = 32,
           py::arg("shuffle") = true, py::arg("progress") = py::none(),
           "One epoch of mini-batches; progress(samples_done) is called a few times a second.")
      .def("train_epochs",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights& sample_weight, Index batch_size,
              bool shuffle, Index epochs) {
             auto g = b.lock();
             const T* w = weights_pointer<T>(sample_weight, X.rows());
             std::vector<PassResult> results;
             py::gil_scoped_release release;
             for (Index e = 0; e < epochs; ++e) {
               results.push_back(b.net.train_epoch(X, Y, w, batch_size, shuffle));
               if (!results.back().finite) break;
             }
             return results;
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(), py::arg("batch_size") = 32,
           py::arg("shuffle") = true, py::arg("epochs") = 1,
           "Several epochs in one call; stops after an epoch that diverged.")
      .def("predict",
           [](Bound& b, const Ref& X) {
             auto g = b.lock();
             b.net.check_input(X);
             if (!X.allFinite()) throw std::invalid_argument("X contains NaN or infinity");
             py::array_t<T, py::array::c_style> out({X.rows(), b.net.output_dim()});
             Eigen::Map<Matrix<T>> view(out.mutable_data(), X.rows(), b.net.output_dim());
             py::gil_scoped_release release;
             b.net.predict(X, view);
             return out;
           },
           py::arg("X"))
      .def("evaluate",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights& sample_weight) {
             auto g = b.lock();
             const T* w = weights_pointer<T>(sample_weight, X.rows());
             py::gil_scoped_release release;
             return b.net.evaluate(X, Y, w);
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def_static(
          "_input_address", [](const Ref& X) { return reinterpret_cast<std::uintptr_t>(X.data()); }, py::arg("X"),
          "Address of the data the engine sees for X: equal to X.ctypes.data when no copy was made.");
}

template <class T>
Matrix<T> elementwise(const std::string& name, const Eigen::Ref<const Matrix<T>>& Z, double slope, bool derivative) {
  const Activation activation = activation_from_name(name);
  Matrix<T> A(Z.rows(), Z.cols());
  activate<T>(activation, static_cast<T>(slope), Z, A);
  if (!derivative) return A;
  if (!has_elementwise_derivative(activation))
    throw std::invalid_argument(name + " has no elementwise derivative (it is only used fused with its loss)");
  Matrix<T> dA = Matrix<T>::Ones(Z.rows(), Z.cols());
  multiply_by_derivative<T>(activation, static_cast<T>(slope), Z, A, dA);
  return dA;
}

}  // namespace

// What the CPU can run, for choosing among the compiled variants (see fastmlp/_core.py).
py::dict cpu_features() {
  py::dict features;
#if (defined(__x86_64__) || defined(__i386__)) && (defined(__GNUC__) || defined(__clang__))
  __builtin_cpu_init();
  features["avx2"] = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") &&
                     __builtin_cpu_supports("bmi2") && __builtin_cpu_supports("f16c");
  features["avx512"] = __builtin_cpu_supports("avx512f") && __builtin_cpu_supports("avx512bw") &&
                       __builtin_cpu_supports("avx512dq") && __builtin_cpu_supports("avx512vl") &&
                       __builtin_cpu_supports("avx512cd");
#endif
  return features;
}

PYBIND11_MODULE(FASTMLP_MODULE_NAME, m) {
  m.doc() = "fastmlp's C++ engine (Eigen). Use the fastmlp package rather than this module directly.";
  m.def("cpu_features", &cpu_features, "Instruction sets this CPU supports, as the variant choice needs them.");

  py::class_<PassResult>(m, "PassResult", py::module_local())
      .def_readonly("loss", &PassResult::loss)
      .def_readonly("correct", &PassResult::correct)
      .def_readonly("samples", &PassResult::samples)
      .def_readonly("finite", &PassResult::finite)
      .def("__repr__", [](const PassResult& r) {
        return "PassResult(loss=" + std::to_string(r.loss) + ", correct=" + std::to_string(r.correct) +
               ", samples=" + std::to_string(r.samples) + ", finite=" + (r.finite ? "True" : "False") + ")";
      });

  bind_network<float>(m, "Network32");
  bind_network<double>(m, "Network64");

  m.def("activate", [](const std::string& name, const Eigen::Ref<const Matrix<double>>& Z, double slope) {
    return elementwise<double>(name, Z, slope, false);
  }, py::arg("name"), py::arg("Z"), py::arg("negative_slope") = 0.01, "A = f(Z) (float64, 2-D).");
  m.def("activation_derivative", [](const std::string& name, const Eigen::Ref<const Matrix<double>>& Z, double slope) {
    return elementwise<double>(name, Z, slope, true);
  }, py::arg("name"), py::arg("Z"), py::arg("negative_slope") = 0.01, "f'(Z) (float64, 2-D).");
  m.def("check_output_fits_loss", [](const std::string& loss, const std::string& activation, Index n_outputs) {
    check_output_fits_loss(loss_from_name(loss), activation_from_name(activation), n_outputs);
  }, py::arg("loss"), py::arg("activation"), py::arg("n_outputs"),
        "Raises ValueError saying why when the output activation and loss do not belong together.");
  m.def("all_finite", [](const Eigen::Ref<const Matrix<float>>& X) { py::gil_scoped_release r; return X.allFinite(); },
        py::arg("X").noconvert(), "True when no element is NaN or infinite (one pass, no copy).");
  m.def("all_finite", [](const Eigen::Ref<const Matrix<double>>& X) { py::gil_scoped_release r; return X.allFinite(); },
        py::arg("X").noconvert());
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("build_info", []() {
    py::dict info;
    info["version"] = FASTMLP_VERSION;
    info["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
    info["simd"] = std::string(Eigen::SimdInstructionSetsInUse());
    info["variant"] = FASTMLP_VARIANT;
#ifdef _OPENMP
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    return info;
  });
  m.attr("__version__") = FASTMLP_VERSION;
}
