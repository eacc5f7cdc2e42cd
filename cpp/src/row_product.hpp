// The forward product Z += A·W, computed so that a row's result depends on that row alone.
// (Private to the engine; parallel.cpp splits it across threads.)
//
// A GEMM library sums an element's products in an order that depends on where the element
// sits: its register block, a tail of the batch, the depth blocking chosen for the batch's
// size, or a matrix-vector routine for one row. Then a row predicted alone differs in the
// last bits from the same row inside a batch. This kernel gives every element of Z one fixed
// order: starting from its current value (the bias), it adds a[k]·w[k] for k = 0, 1, ...,
// depth − 1, one fused multiply-add at a time (a multiply and an add on CPUs without FMA).
// Register blocks, depth blocks and threads only choose which elements are computed
// together, never the order within one, so the result is the same for a row alone, in any
// chunk, in any batch and at any thread count.
//
// It reads W in place (no packing), which also makes it the fast path for one row.
#pragma once

#include "fastmlp/types.hpp"

namespace fastmlp {

// Z += A·W for row-major views; Z is rows × cols, A rows × depth, W depth × cols.
template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& W);

}  // namespace fastmlp
