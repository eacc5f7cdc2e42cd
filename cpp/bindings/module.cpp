// fastmlp._core: the engine, seen from Python.
//
// The binding only translates: it converts arrays (C-contiguous arrays of the network's
// dtype arrive as views, anything else is converted once by pybind11), names arguments,
// releases the GIL around numeric work and maps C++ exceptions to Python ones
// (std::invalid_argument becomes ValueError, std::out_of_range IndexError). The maths and
// every check live in cpp/include/fastmlp. This file holds the module and its free
// functions; names.cpp the name tables; network.cpp the network classes; module_init.cpp the
// entry point of each variant's module.
//
// One build of this code serves every engine variant (cpp/CMakeLists.txt), compiled for the
// architecture's baseline: all numeric work, the finiteness check and the SIMD report included,
// is the engine's, called through its non-inline functions, so each module runs its own
// variant's code.
#include <pybind11/eigen.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <stdexcept>
#include <string>

#include "bindings.hpp"
#include "fastmlp/fastmlp.hpp"

namespace py = pybind11;
using namespace fastmlp;

namespace {

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

void fastmlp::bindings::define_module(py::module_& m, const char* variant) {
  if (heap_alignment_here() != engine_heap_alignment())  // an ImportError, not a corrupted heap later
    throw std::runtime_error(std::string("fastmlp._engine_") + variant + " was built wrong: its binding allocates Eigen " +
                             "matrices with alignment " + std::to_string(heap_alignment_here()) + " and its engine with " +
                             std::to_string(engine_heap_alignment()) + " (see cpp/CMakeLists.txt)");
  m.doc() = "fastmlp's C++ engine (Eigen). Use the fastmlp package rather than this module directly.";
  m.def("cpu_features", &cpu_features, "Instruction sets this CPU supports, as the variant choice needs them.");

  fastmlp::bindings::bind_networks(m);
  fastmlp::bindings::bind_names(m);

  m.def("activate", [](const std::string& name, const Eigen::Ref<const Matrix<double>>& Z, double slope) {
    return elementwise<double>(name, Z, slope, false);
  }, py::arg("name"), py::arg("Z"), py::arg("negative_slope") = 0.01, "A = f(Z) (float64, 2-D).");
  m.def("activation_derivative", [](const std::string& name, const Eigen::Ref<const Matrix<double>>& Z, double slope) {
    return elementwise<double>(name, Z, slope, true);
  }, py::arg("name"), py::arg("Z"), py::arg("negative_slope") = 0.01, "f'(Z) (float64, 2-D).");
  m.def("all_finite", [](const Eigen::Ref<const Matrix<float>>& X) { py::gil_scoped_release r; return all_finite_values(X); },
        py::arg("X").noconvert(), "True when no element is NaN or infinite (one pass, no copy).");
  m.def("all_finite", [](const Eigen::Ref<const Matrix<double>>& X) { py::gil_scoped_release r; return all_finite_values(X); },
        py::arg("X").noconvert());
  m.def("set_num_threads", &set_num_threads, py::arg("n"));
  m.def("get_num_threads", &get_num_threads);
  m.def("_set_blas_library", [](const std::string& path, bool load_now) {
    py::gil_scoped_release release;  // loading may take a while, and starts nothing of Python's
    set_blas_library(path, load_now);
  }, py::arg("path"), py::arg("load_now") = false);
  m.def("set_matrix_kernel", [](const std::string& name) {
    py::gil_scoped_release release;
    if (name == "auto") set_matrix_kernel(MatrixKernel::automatic);
    else if (name == "eigen") set_matrix_kernel(MatrixKernel::eigen);
    else if (name == "blas") set_matrix_kernel(MatrixKernel::blas);
    else throw std::invalid_argument("matrix kernel must be 'auto', 'eigen' or 'blas', got '" + name + "'");
  }, py::arg("name"));
  m.def("get_matrix_kernel", []() -> std::string {
    switch (get_matrix_kernel()) {
      case MatrixKernel::eigen: return "eigen";
      case MatrixKernel::blas: return "blas";
      default: return "auto";
    }
  });
  m.def("_set_matrix_kernel_cache", &set_matrix_kernel_cache, py::arg("path"));
  m.def("matrix_kernel_report", []() {
    MatrixKernelReport report;
    {
      py::gil_scoped_release release;  // may load the library and measure
      report = matrix_kernel_report();
    }
    py::dict info;
    info["kernel"] = report.kernel;
    info["reason"] = report.reason;
    info["library"] = report.library;
    info["library_description"] = report.library_description;
    info["blas_speedup"] = report.blas_speedup;
    return info;
  });
  m.def("build_info", [variant]() {
    py::dict info;
    info["version"] = FASTMLP_VERSION;
    info["eigen"] = std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
                    std::to_string(EIGEN_MINOR_VERSION);
    info["simd"] = simd_instruction_sets();
    info["variant"] = variant;
#ifdef _OPENMP
    info["openmp"] = true;
#else
    info["openmp"] = false;
#endif
    return info;
  });
  m.attr("__version__") = FASTMLP_VERSION;
}
