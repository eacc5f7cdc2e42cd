// Which code computes the engine's large training products (process-wide, like the thread
// count): Eigen's GEMM, always built in, or an optional BLAS library (OpenBLAS) loaded at run
// time. Inference keeps its own row-invariant kernel either way (parallel.hpp).
//
// The two kernels round differently, so the choice is part of what makes a run reproducible:
// it depends on the machine (by measurement, made once and cached) and on these settings, never
// on the number of threads, and every slab of every product in the process uses the same one.
#pragma once

#include <string>

namespace fastmlp {

enum class MatrixKernel { automatic, eigen, blas };

// Offers the BLAS shared library at `path` (CBLAS's cblas_sgemm/cblas_dgemm, optionally with
// scipy-openblas's "scipy_" prefix). With load_now = false (what the Python package does at
// import, so that importing stays light) it is loaded when the first large product needs it,
// and if loading fails Eigen stays in charge (matrix_kernel_report says why); with
// load_now = true it is loaded here, and a failure throws std::runtime_error.
void set_blas_library(const std::string& path, bool load_now);

// automatic (the default): the BLAS library if one was offered and it computes a slab-sized
// product on this machine at least 5% faster than Eigen, one thread each; measured at the first
// large product, or read from the cache file below. blas without a loadable library throws
// std::invalid_argument.
void set_matrix_kernel(MatrixKernel kernel);
MatrixKernel get_matrix_kernel();

// Where the automatic choice's measurement is kept ("" = nowhere): every later process on the
// machine reads it instead of measuring again, so they all choose alike and compute the same bits.
void set_matrix_kernel_cache(const std::string& path);

struct MatrixKernelReport {
  std::string kernel;               // "eigen" or "blas": what large training products use
  std::string reason;               // why (setting, measurement, cache, load failure)
  std::string library;              // the loaded BLAS library's path, or empty
  std::string library_description;  // what it says of itself (version, core)
  double blas_speedup = 0;          // Eigen's time ÷ BLAS's on the measured product; 0 = not measured
};

// Decides now if the automatic choice is still open (loads the library, measures).
MatrixKernelReport matrix_kernel_report();

}  // namespace fastmlp
