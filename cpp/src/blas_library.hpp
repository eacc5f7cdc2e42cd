// An optional BLAS library for the engine's large products, loaded at run time (dlopen) and
// never linked: the engine builds, installs and runs without one. Meant for OpenBLAS, as PyPI's
// scipy-openblas32 ships it (symbols prefixed "scipy_"), or a system OpenBLAS (no prefix).
//
// Only its single-threaded GEMM is used: the engine's own pool splits a product into slabs
// that depend on the shape alone (parallel.hpp) and hands each slab to one serial call, so the
// result stays bit-identical at any thread count and OpenBLAS's own threads, which spin while
// idle, never run.
#pragma once

#include <string>

#include "fastmlp/types.hpp"

namespace fastmlp::blas {

// Loads the library at `path` once; throws std::runtime_error naming the file and what is
// missing. A second call with the same path does nothing; another path is refused (the first
// library's functions may be running on other threads).
void load(const std::string& path);

bool loaded();
std::string library_path();

// "OpenBLAS 0.3.34 ... (core Haswell)": what the library says of itself, for reports.
std::string description();

// C = op(A)·op(B) + beta·C for row-major operands (CBLAS's row-major convention), on the calling
// thread. Dimensions and strides must fit the library's 32-bit integers (fits_int_dimensions).
template <class T>
void gemm(bool transpose_a, bool transpose_b, Index m, Index n, Index k, const T* a, Index lda, const T* b,
          Index ldb, T beta, T* c, Index ldc);

}  // namespace fastmlp::blas
