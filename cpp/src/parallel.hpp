// Matrix products, split across threads only when they are large enough to gain from it.
// (Private to the engine: C++ users see only set_num_threads, threads.hpp.)
//
// Eigen's own parallel GEMM starts threads for any product above ~50k multiply-adds, where
// fork/join costs more than it saves: a 32-row batch through 64-wide layers ran 3× slower on
// two threads than on one. So Eigen itself always runs single-threaded here, and the engine
// cuts a product's output into column (or row) slabs, each an ordinary serial Eigen product,
// and hands the slabs to its thread pool (thread_pool.hpp).
//
// Deterministic at any thread count: the slabs depend on the product's shape only, never on
// the number of threads, and a slab never splits the summed (inner) dimension. So every
// output element is summed by the same code in the same order whichever thread computes it,
// and 1, 2, 3 or 4 threads give bit-identical results.
//
// Large training products may go to a BLAS library instead of Eigen (matrix_kernel.hpp): the
// choice is made once per process, before a product is split, so every slab of every product
// uses the same kernel, and the BLAS runs one serial call per slab: as deterministic as Eigen.
//
// Every operand is a view (Ref) of a row-major matrix, and the transposes of backpropagation
// are column-major views of those, so only a handful of GEMM kernels are instantiated.
#pragma once

#include "fastmlp/types.hpp"

namespace fastmlp {

// dst = A·B, or dst += A·B when `accumulate`.      (training's forward:  Z = A[l-1]·W + b)
template <class T>
void multiply(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B, bool accumulate);

// dst += A·B, each row of dst a function of its own row of A alone, bit for bit, whatever the
// rows around it (row_product.hpp): a row predicts the same alone, in any chunk or in any
// batch.                                               (inference:  Z = A[l-1]·W + b)
template <class T>
void multiply_row_invariant(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B);

// dst = Aᵀ·B.                                         (backward: dW = A[l-1]ᵀ·dZ)
template <class T>
void multiply_transposed_left(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B);

// dst = A·Bᵀ.                                         (backward: dA[l-1] = dZ·Wᵀ)
template <class T>
void multiply_transposed_right(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B);

// The three products of training, as the functions above name them.
enum class ProductForm { plain, transposed_left, transposed_right };

// One of them on the calling thread by one kernel, Eigen's or the BLAS library's (loaded), as a
// slab of a large product would run it: for measuring the two (matrix_kernel.cpp).
template <class T>
void serial_product(bool use_blas, ProductForm form, MatrixRef<T> dst, const ConstMatrixRef<T>& A,
                    const ConstMatrixRef<T>& B);

}  // namespace fastmlp
