// CsrMatrix, and Network32/64's passes on it: SciPy's CSR arrays (data, indices, indptr) cross
// as they are, views of the caller's arrays kept alive by the CsrMatrix, never copied. Their
// structure is checked (fastmlp::check_csr, GIL released) when the CsrMatrix is made and again
// before every pass: the arrays are the caller's, and Python code between two passes (a
// training callback, say) may have changed them; an index out of range must be an error, never
// a read outside the arrays. The check is one pass over the indices, small beside the products.
// Within a pass, Python runs only in train_epoch's batch hooks; the engine then checks each
// batch's rows again before reading them (Network::train_epoch). Training runs under the
// network's write lock, predictions and evaluations under its read lock, GIL released.
#include <pybind11/stl.h>

#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "bindings.hpp"
#include "bound_network.hpp"

namespace py = pybind11;

namespace fastmlp::bindings {
namespace {

// One of the three arrays: 1-D, C-contiguous, of one of the allowed kinds (else ValueError).
py::array checked_vector(const py::object& object, const char* name, bool floating) {
  if (!py::isinstance<py::array>(object))
    throw py::type_error(std::string(name) + " must be a NumPy array, got " +
                         py::str(py::type::of(object).attr("__name__")).cast<std::string>());
  auto array = py::reinterpret_borrow<py::array>(object);
  if (array.ndim() != 1) throw py::value_error(std::string(name) + " must be one-dimensional");
  if (!(array.flags() & py::array::c_style)) throw py::value_error(std::string(name) + " must be C-contiguous");
  const bool allowed = floating ? (array.dtype().is(py::dtype::of<float>()) || array.dtype().is(py::dtype::of<double>()))
                                : (array.dtype().is(py::dtype::of<std::int32_t>()) ||
                                   array.dtype().is(py::dtype::of<std::int64_t>()));
  if (!allowed)
    throw py::value_error(std::string(name) + " must be " + (floating ? "float32 or float64" : "int32 or int64") +
                          ", got " + py::str(array.dtype()).cast<std::string>());
  return array;
}

struct CsrMatrix {
  py::array data, indices, indptr;
  Index rows = 0, cols = 0;

  bool wide_indices() const { return indices.dtype().is(py::dtype::of<std::int64_t>()); }

  template <class T, class I>
  CsrView<T, I> view() const {
    return CsrView<T, I>{static_cast<const T*>(data.data()), static_cast<const I*>(indices.data()),
                         static_cast<const I*>(indptr.data()), rows, cols};
  }

  CsrLengths lengths() const { return {static_cast<Index>(data.size()), static_cast<Index>(indptr.size())}; }

  // work(view) with the view of the arrays' own index type, once check_csr has accepted it;
  // values must be of type T. Called with the GIL; work releases it where it computes.
  template <class T, class Work>
  auto visit(Work&& work) const {
    if (!data.dtype().is(py::dtype::of<T>()))
      throw py::value_error("the sparse X holds " + py::str(data.dtype()).cast<std::string>() +
                            " values but the network computes in " + py::str(py::dtype::of<T>()).cast<std::string>() +
                            ": convert X.data (X.astype) first");
    const auto checked = [&](auto csr) {
      {
        py::gil_scoped_release release;
        check_csr(csr, lengths());
      }
      return work(csr);
    };
    if (wide_indices()) return checked(view<T, std::int64_t>());
    return checked(view<T, std::int32_t>());
  }
};

CsrMatrix make_csr(const py::object& data, const py::object& indices, const py::object& indptr,
                   const std::pair<Index, Index>& shape) {
  CsrMatrix X{checked_vector(data, "data", true), checked_vector(indices, "indices", false),
              checked_vector(indptr, "indptr", false), shape.first, shape.second};
  if (!X.indices.dtype().is(X.indptr.dtype()))
    throw py::value_error("indices and indptr must have one dtype, got " + py::str(X.indices.dtype()).cast<std::string>() +
                          " and " + py::str(X.indptr.dtype()).cast<std::string>());
  if (X.data.size() != X.indices.size())
    throw py::value_error("data has " + std::to_string(X.data.size()) + " entries but indices has " +
                          std::to_string(X.indices.size()));
  const auto accept = [](auto) { return true; };  // visit checks the structure
  if (X.data.dtype().is(py::dtype::of<float>()))
    X.visit<float>(accept);
  else
    X.visit<double>(accept);
  return X;
}

}  // namespace

void bind_csr_matrix(py::module_& m) {
  py::class_<CsrMatrix>(m, "CsrMatrix",
                        "A CSR matrix over the caller's arrays (SciPy's data, indices, indptr), checked once; "
                        "the networks' predict, evaluate, gradients and train_epoch take it in place of a dense X.",
                        py::module_local())
      .def(py::init(&make_csr), py::arg("data"), py::arg("indices"), py::arg("indptr"), py::arg("shape"))
      .def_property_readonly("shape", [](const CsrMatrix& X) { return py::make_tuple(X.rows, X.cols); })
      .def_property_readonly("dtype", [](const CsrMatrix& X) { return X.data.dtype(); })
      .def_readonly("data", &CsrMatrix::data)
      .def_readonly("indices", &CsrMatrix::indices)
      .def_readonly("indptr", &CsrMatrix::indptr);
}

template <class T>
void bind_sparse_passes(py::class_<BoundNetwork<T>>& cls) {
  using Bound = BoundNetwork<T>;
  using Net = Network<T>;
  using Ref = Eigen::Ref<const Matrix<T>>;
  using Weights = OptionalWeights<T>;
  cls.def("predict",
          [](Bound& b, const CsrMatrix& X) {
            py::array_t<T, py::array::c_style> out({X.rows, b.net.output_dim()});
            Eigen::Map<Matrix<T>> view(out.mutable_data(), X.rows, b.net.output_dim());
            X.visit<T>([&](auto csr) { b.read([&](const Net& net) { net.predict(csr, view); }); });
            return out;
          },
          py::arg("X"))
      .def("evaluate",
           [](Bound& b, const CsrMatrix& X, const Ref& Y, const Weights& sample_weight) {
             return X.visit<T>([&](auto csr) {
               return b.read([&](const Net& net) { return net.evaluate(csr, Y, weights_of(sample_weight)); });
             });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def("gradients",
           [](Bound& b, const CsrMatrix& X, const Ref& Y, const Weights& sample_weight) {
             auto [loss, grads] = X.visit<T>([&](auto csr) {
               return b.write([&](Net& net) {
                 const double value = net.compute_gradients(csr, Y, weights_of(sample_weight));
                 return std::make_pair(value, gradient_copies(net));
               });
             });
             return py::make_tuple(loss, gradient_list<T>(grads));
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def("training_gradients",
           [](Bound& b, const CsrMatrix& X, const Ref& Y, const Weights& sample_weight) {
             std::vector<std::optional<Matrix<T>>> masks;
             auto [loss, grads] = X.visit<T>([&](auto csr) {
               return b.write([&](Net& net) {
                 const double value = net.compute_gradients(csr, Y, weights_of(sample_weight), true);
                 masks = mask_copies(net);
                 return std::make_pair(value, gradient_copies(net));
               });
             });
             return py::make_tuple(loss, gradient_list<T>(grads), masks);
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none())
      .def("train_epoch",
           [](Bound& b, const CsrMatrix& X, const Ref& Y, const Weights& sample_weight, Index batch_size, bool shuffle,
              const py::object& progress, const py::object& batch_begin, const py::object& batch_end) {
             // With hooks (Python code between batches) the engine checks each batch's rows again
             // before reading them: the hooks may change the arrays (Network::train_epoch).
             const auto report = progress_reporter(progress);
             const auto hooks = batch_hooks_of<T>(batch_begin, batch_end);
             return X.visit<T>([&](auto csr) {
               return b.write([&](Net& net) {
                 return net.train_epoch(csr, Y, weights_of(sample_weight), batch_size, shuffle, report, 0.1,
                                        hooks_if_any(hooks));
               });
             });
           },
           py::arg("X"), py::arg("Y"), py::arg("sample_weight") = py::none(), py::arg("batch_size") = 32,
           py::arg("shuffle") = true, py::arg("progress") = py::none(), py::arg("batch_begin") = py::none(),
           py::arg("batch_end") = py::none());
}

template void bind_sparse_passes<float>(py::class_<BoundNetwork<float>>&);
template void bind_sparse_passes<double>(py::class_<BoundNetwork<double>>&);

}  // namespace fastmlp::bindings
