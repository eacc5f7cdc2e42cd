// Network32 / Network64, LayerSpec and PassResult, seen from Python.
//
// Only translation happens here: arrays cross as views (C-contiguous arrays of the network's
// dtype) or are converted once by pybind11, arguments get their names, the GIL is released
// around numeric work, and the engine's exceptions become Python's (std::invalid_argument is
// ValueError, std::out_of_range is IndexError). Every check lives in fastmlp::Network.
//
// Threads: Python threads share a network through an AccessLock: any number of readers
// (predict, evaluate, forward, reading parameters) run at once; a writer (training, setting
// parameters or the optimiser) runs alone, and waiting readers let it go first. The lock is
// always taken with the GIL released, so a writer that needs the GIL (the progress callback
// of train_epoch) never waits for a thread that waits for it.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/stl.h>

#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <shared_mutex>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "access_lock.hpp"
#include "bindings.hpp"
#include "bound_network.hpp"
#include "fastmlp/fastmlp.hpp"

namespace py = pybind11;

namespace fastmlp::bindings {
namespace {

// The cache is the caller's own (no lock is held): copies become Python objects with the GIL.
template <class T>
py::list forward_list(const ForwardCache<T>& cache, bool with_masks) {
  py::list list;
  for (std::size_t l = 0; l < cache.z.size(); ++l) {
    const auto layer = static_cast<Index>(l);
    Matrix<T> Z = cache.Z(layer), A = cache.A(layer);
    if (!with_masks) {
      list.append(py::make_tuple(std::move(Z), std::move(A)));
      continue;
    }
    const bool dropped = cache.dropping && l < cache.mask.size() && cache.mask[l].size() > 0;
    py::object mask = dropped ? py::cast(Matrix<T>(cache.M(layer))) : py::object(py::none());
    list.append(py::make_tuple(std::move(Z), std::move(A), mask));
  }
  return list;
}

template <class T, class Class>
void bind_structure(Class& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  // The structure (sizes, activations) never changes after construction: no lock needed.
  cls.def(py::init<Index, std::vector<LayerSpec>, const std::string&, std::uint64_t>(), py::arg("input_dim"),
          py::arg("layers"), py::arg("loss") = "none", py::arg("seed") = 0, "layers: a list of LayerSpec.")
      .def_property_readonly("input_dim", [](Bound& b) { return b.net.input_dim(); })
      .def_property_readonly("output_dim", [](Bound& b) { return b.net.output_dim(); })
      .def_property_readonly("num_layers", [](Bound& b) { return b.net.num_layers(); })
      .def_property_readonly("num_parameters", [](Bound& b) { return b.net.num_parameters(); })
      .def_property_readonly("dtype", [](Bound&) { return py::dtype::of<T>(); })
      .def_property(
          "loss", [](Bound& b) { return b.read([](const Net& net) { return loss_name(net.loss()); }); },
          [](Bound& b, const std::string& loss) {
            const Loss parsed = loss_from_name(loss);
            b.write([parsed](Net& net) { net.set_loss(parsed); });
          })
      .def_property(
          "huber_delta", [](Bound& b) { return b.read([](const Net& net) { return net.huber_delta(); }); },
          [](Bound& b, double delta) { b.write([delta](Net& net) { net.set_huber_delta(delta); }); },
          "δ of the huber loss (1.0 unless set).")
      .def("layer_units", [](Bound& b, Index l) { b.net.check_layer_index(l); return b.net.layer(l).units; })
      .def("layer_activation",
           [](Bound& b, Index l) { b.net.check_layer_index(l); return activation_name(b.net.layer(l).activation); })
      .def("layer_dropout", [](Bound& b, Index l) { b.net.check_layer_index(l); return b.net.layer(l).dropout; })
      .def("reseed_training", [](Bound& b, std::uint64_t seed) { b.write([seed](Net& net) { net.reseed_training(seed); }); },
           py::arg("seed"), "Reseeds the shuffling and the dropout masks (each its own stream).")
      .def("copy", [](Bound& b) { return b.read([](const Net& net) { return std::make_unique<Bound>(net); }); },
           "An independent copy (parameters, optimiser state, shuffling), taken between two training steps.");
}

template <class T, class Class>
void bind_parameters(Class& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  using VectorRef = Eigen::Ref<const Vector<T>>;
  // Parameters are handed out as copies: a user's saved W must not change under training.
  cls.def("get_parameters", [](Bound& b) { return b.read([](const Net& net) { return Vector<T>(net.parameters()); }); })
      .def("set_parameters", [](Bound& b, const VectorRef& values) { b.write([&](Net& net) { net.set_parameters(values); }); },
           py::arg("values"))
      .def("get_weights",
           [](Bound& b, Index l) {
             return b.read([l](const Net& net) { net.check_layer_index(l); return Matrix<T>(net.weights(l)); });
           })
      .def("get_bias",
           [](Bound& b, Index l) {
             return b.read([l](const Net& net) { net.check_layer_index(l); return Vector<T>(net.bias(l).transpose()); });
           })
      .def("set_weights",
           [](Bound& b, Index l, const Eigen::Ref<const Matrix<T>>& W) { b.write([&](Net& net) { net.set_weights(l, W); }); },
           py::arg("layer"), py::arg("W"))
      .def("set_bias", [](Bound& b, Index l, const VectorRef& bias) { b.write([&](Net& net) { net.set_bias(l, bias); }); },
           py::arg("layer"), py::arg("b"));
}

template <class T, class Class>
void bind_inference(Class& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  using Ref = Eigen::Ref<const Matrix<T>>;
  cls.def("forward",
          [](Bound& b, const Ref& X) {
            ForwardCache<T> cache;
            b.read([&](const Net& net) { net.forward(X, cache); });
            return forward_list<T>(cache, false);
          },
          py::arg("X"), "Forward propagation; returns [(Z, A)] per layer (copies).")
      .def("training_forward",
           [](Bound& b, const Ref& X) {
             ForwardCache<T> cache;
             // A training pass advances the dropout generator: a writer.
             b.write([&](Net& net) { net.forward_training(X, cache); });
             return forward_list<T>(cache, true);
           },
           py::arg("X"),
           "The forward pass of a training step; returns [(Z, A, M)] per layer (copies), M the dropout mask "
           "(1 kept, 0 dropped) of a layer that drops, else None. Advances the dropout generator.")
      .def("predict",
           [](Bound& b, const Ref& X) {
             py::array_t<T, py::array::c_style> out({X.rows(), b.net.output_dim()});
             Eigen::Map<Matrix<T>> view(out.mutable_data(), X.rows(), b.net.output_dim());
             b.read([&](const Net& net) { net.predict(X, view); });
             return out;
           },
           py::arg("X"))
      .def("evaluate",
           [](Bound& b, const Ref& X, const Ref& Y, const OptionalWeights<T>& sample_weight) {
             return b.read([&](const Net& net) { return net.evaluate(X, Y, weights_of(sample_weight)); });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def_static(
          "_input_address", [](const Ref& X) { return reinterpret_cast<std::uintptr_t>(X.data()); }, py::arg("X"),
          "Test hook, not API: the address of the data the engine sees for X (X.ctypes.data when no copy was made).");
}

template <class T, class Class>
void bind_training(Class& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  using Ref = Eigen::Ref<const Matrix<T>>;
  using Weights = OptionalWeights<T>;
  cls.def("gradients",
          [](Bound& b, const Ref& X, const Ref& Y, const Weights& sample_weight) {
            auto [loss, grads] = b.write([&](Net& net) {
              const double value = net.compute_gradients(X, Y, weights_of(sample_weight));
              return std::make_pair(value, gradient_copies(net));
            });
            return py::make_tuple(loss, gradient_list<T>(grads));
          },
          py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(),
          "Backpropagation without an update (no dropout); returns (loss, [(dW, db)] per layer).")
      .def("training_gradients",
          [](Bound& b, const Ref& X, const Ref& Y, const Weights& sample_weight) {
            std::vector<std::optional<Matrix<T>>> masks;
            auto [loss, grads] = b.write([&](Net& net) {
              const double value = net.compute_gradients(X, Y, weights_of(sample_weight), true);
              masks = mask_copies(net);
              return std::make_pair(value, gradient_copies(net));
            });
            return py::make_tuple(loss, gradient_list<T>(grads), masks);
          },
          py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(),
          "Backpropagation of a training step, without the update: units dropped as a training step would "
          "(advancing the dropout generator); returns (loss, [(dW, db)] per layer, [mask or None] per layer).")
      .def("train_batch",
           [](Bound& b, const Ref& X, const Ref& Y, const Weights& sample_weight) {
             return b.write([&](Net& net) { return net.train_batch(X, Y, weights_of(sample_weight)); });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def("train_epoch",
           [](Bound& b, const Ref& X, const Ref& Y, const Weights& sample_weight, Index batch_size, bool shuffle,
              const py::object& progress, const py::object& batch_begin, const py::object& batch_end) {
             const auto report = progress_reporter(progress);
             const auto hooks = batch_hooks_of<T>(batch_begin, batch_end);
             return b.write([&](Net& net) {
               return net.train_epoch(X, Y, weights_of(sample_weight), batch_size, shuffle, report, 0.1,
                                      hooks_if_any(hooks));
             });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(), py::arg("batch_size") = 32,
           py::arg("shuffle") = true, py::arg("progress") = py::none(), py::arg("batch_begin") = py::none(),
           py::arg("batch_end") = py::none(),
           "One epoch of mini-batches; progress(samples_done) is called a few times a second, "
           "batch_begin(batch) before each batch and batch_end(batch, loss, correct, samples) after each "
           "update with the epoch so far (True from it stops the epoch).")
      .def("train_epochs",
           [](Bound& b, const Ref& X, const Ref& Y, const Weights& sample_weight, Index batch_size, bool shuffle,
              Index epochs) {
             return b.write([&](Net& net) {
               return net.train_epochs(X, Y, weights_of(sample_weight), batch_size, shuffle, epochs);
             });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(), py::arg("batch_size") = 32,
           py::arg("shuffle") = true, py::arg("epochs") = 1,
           "Several epochs in one call; stops after an epoch that diverged.");
}

template <class T>
void bind_network(py::module_& m, const char* name) {
  // module_local: every compiled variant registers these same C++ types in one process.
  py::class_<BoundNetwork<T>> cls(m, name, "A dense network in one precision. Row-major: X is (n_samples, n_features).",
                                  py::module_local());
  bind_structure<T>(cls);
  bind_parameters<T>(cls);
  bind_optimizer<T>(cls);
  bind_inference<T>(cls);
  bind_training<T>(cls);
  bind_sparse_passes<T>(cls);  // sparse.cpp: the same passes on a CsrMatrix
}

std::string layer_spec_repr(const LayerSpec& spec) {
  return "LayerSpec(units=" + std::to_string(spec.units) + ", activation='" + activation_name(spec.activation) +
         "', negative_slope=" + py::repr(py::float_(spec.negative_slope)).cast<std::string>() + ", initializer='" +
         initializer_name(spec.initializer) + "', dropout=" + py::repr(py::float_(spec.dropout)).cast<std::string>() +
         ")";
}

void bind_clip_config(py::module_& m) {
  py::class_<ClipConfig>(m, "ClipConfig", "Gradient clipping as Keras defines it; 0 is off, at most one is on.",
                         py::module_local())
      .def(py::init([](double clipnorm, double global_clipnorm, double clipvalue) {
             return ClipConfig{clipnorm, global_clipnorm, clipvalue};
           }),
           py::kw_only(), py::arg("clipnorm") = 0.0, py::arg("global_clipnorm") = 0.0, py::arg("clipvalue") = 0.0)
      .def_readonly("clipnorm", &ClipConfig::clipnorm)
      .def_readonly("global_clipnorm", &ClipConfig::global_clipnorm)
      .def_readonly("clipvalue", &ClipConfig::clipvalue);
}

void bind_layer_spec(py::module_& m) {
  py::class_<LayerSpec>(m, "LayerSpec", "One dense layer of a network: units, activation, slope, initializer.",
                        py::module_local())
      .def(py::init([](Index units, const std::string& activation, double negative_slope, const std::string& init,
                       double dropout) {
             return LayerSpec{units, activation_from_name(activation), negative_slope, initializer_from_name(init),
                              dropout};
           }),
           py::kw_only(), py::arg("units"), py::arg("activation") = "identity", py::arg("negative_slope") = 0.01,
           py::arg("initializer") = "auto", py::arg("dropout") = 0.0)
      .def_readwrite("units", &LayerSpec::units)
      .def_property(
          "activation", [](const LayerSpec& s) { return activation_name(s.activation); },
          [](LayerSpec& s, const std::string& name) { s.activation = activation_from_name(name); })
      .def_readwrite("negative_slope", &LayerSpec::negative_slope)
      .def_property(
          "initializer", [](const LayerSpec& s) { return initializer_name(s.initializer); },
          [](LayerSpec& s, const std::string& name) { s.initializer = initializer_from_name(name); })
      .def_readwrite("dropout", &LayerSpec::dropout)
      .def("__repr__", &layer_spec_repr);
}

void bind_pass_result(py::module_& m) {
  py::class_<PassResult>(m, "PassResult", py::module_local())
      .def_readonly("loss", &PassResult::loss)
      .def_readonly("correct", &PassResult::correct)
      .def_readonly("samples", &PassResult::samples)
      .def_readonly("finite", &PassResult::finite)
      .def("__repr__", [](const PassResult& r) {
        return "PassResult(loss=" + std::to_string(r.loss) + ", correct=" + std::to_string(r.correct) +
               ", samples=" + std::to_string(r.samples) + ", finite=" + (r.finite ? "True" : "False") + ")";
      });
}

}  // namespace

void bind_networks(py::module_& m) {
  bind_csr_matrix(m);
  bind_layer_spec(m);
  bind_clip_config(m);
  bind_pass_result(m);
  bind_network<float>(m, "Network32");
  bind_network<double>(m, "Network64");
}

}  // namespace fastmlp::bindings
