// The first layer's products on a CSR X (fastmlp/sparse.hpp). (Private to the engine.)
//
// Only the nonzeros are visited: forward is Z[0] += X·W[0], each nonzero x_rj adding x_rj·W[0]
// row j to Z row r; backward is dW[0] = Xᵀ·dZ[0], each nonzero adding x_rj·(dZ row r) to dW row
// j. Both split their output between threads the way parallel.hpp does: forward by rows of Z,
// backward by columns of dW, slabs fixed by the product's shape alone, so every output element
// is summed in the same order at any thread count (bit-identical results).
#pragma once

#include "fastmlp/sparse.hpp"
#include "fastmlp/types.hpp"

namespace fastmlp {

// Z += X·W: Z is X.rows × W.cols, W is X.cols × W.cols.    (forward: Z[0] = X·W[0] + b[0])
template <class T, class I>
void sparse_multiply_accumulate(MatrixRef<T> Z, const CsrView<T, I>& X, const ConstMatrixRef<T>& W);

// dW = Xᵀ·dZ: dW is X.cols × dZ.cols, dZ is X.rows × dZ.cols. (backward: dW[0] = Xᵀ·dZ[0])
template <class T, class I>
void sparse_multiply_transposed_left(MatrixRef<T> dW, const CsrView<T, I>& X, const ConstMatrixRef<T>& dZ);

}  // namespace fastmlp
