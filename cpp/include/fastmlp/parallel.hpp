// Matrix products split across threads only when they are large enough to gain from it.
//
// Eigen's own parallel GEMM starts threads for any product above ~50k multiply-adds, where
// fork/join costs more than it saves: a 32-row batch through 64-wide layers ran 3× slower on
// two threads than on one. So Eigen itself always runs single-threaded here, and the engine
// splits a product's output into column (or row) slabs, one per thread, when each slab
// still carries enough work. Inside the parallel region every slab is an ordinary serial
// Eigen product.
//
// Every operand is a view (Ref) of a row-major matrix, and the transposes of backpropagation
// are column-major views of those, so only a handful of GEMM kernels are instantiated.
#pragma once

#include "fastmlp/types.hpp"

namespace fastmlp {

// dst = A·B, or dst += A·B when `accumulate`.      (forward:  Z = A[l-1]·W + b)
template <class T>
void multiply(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B, bool accumulate);

// dst = Aᵀ·B.                                         (backward: dW = A[l-1]ᵀ·dZ)
template <class T>
void multiply_transposed_left(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B);

// dst = A·Bᵀ.                                         (backward: dA[l-1] = dZ·Wᵀ)
template <class T>
void multiply_transposed_right(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B);

}  // namespace fastmlp
