// The forward product Z += A·W, computed so that a row's result depends on that row alone.
// (Private to the engine; parallel.cpp splits it across threads.)
//
// A GEMM library sums an element's products in an order that depends on where the element
// sits: its register block, a tail of the batch, the depth blocking chosen for the batch's
// size, or a matrix-vector routine for one row. Then a row predicted alone differs in the
// last bits from the same row inside a batch. This kernel gives every element of Z one fixed
// order: starting from its current value (the bias), it adds a[k]·w[k] for k = 0, 1, ...,
// depth − 1, one fused multiply-add at a time (a multiply and an add on CPUs without FMA).
// Register blocks, depth blocks, the layout W is read from and threads only choose which
// elements are computed together, never the order within one, so the result is the same for
// a row alone, in any chunk, in any batch and at any thread count.
//
// Few rows read W in place (one row streams it once, as a matrix-vector product does). Many
// rows read a packed copy of W: in place, the rows of a register tile's W block lie a layer's
// width apart, often a power of two (256 or 1024 values), so they fall on a few sets of the L1
// cache and evict each other before the next rows reuse them; packed, the block is one
// contiguous run that stays in L1 and that the prefetcher streams.
#pragma once

#include "fastmlp/types.hpp"

namespace fastmlp {

// W (depth × cols) rearranged for the kernel: for each of its depth blocks (consecutive k), the
// columns in groups of one SIMD packet, each group's block × packet values contiguous; the
// last group padded with zeros to a whole packet (padded_cols columns in all).
template <class T>
struct PackedWeights {
  const T* data;
  Index depth, cols, padded_cols;
  Index size() const { return depth * padded_cols; }
};

// The packed W of depth × cols that starts at `data`.
template <class T>
PackedWeights<T> packed_layout(const T* data, Index depth, Index cols);

// Whether a product of this many rows gains from packing W first (measured: below it, the
// copy costs more than the cache misses it saves).
bool packing_pays(Index rows);

// The number of values a packed depth × cols W takes: packed_layout(…).size().
template <class T>
Index packed_size(Index depth, Index cols);

// Packs W into `out`, which holds packed_size<T>(W.rows(), W.cols()) values.
template <class T>
PackedWeights<T> pack_weights(const ConstMatrixRef<T>& W, T* out);

// Z += A·W for row-major views; Z is rows × cols, A rows × depth, W depth × cols.
template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& W);

// The same with W packed: Z holds the Z.cols() columns of the product that start at column
// `first` of W (a multiple of 16, so a column slab of the product starts on a whole packet).
template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const PackedWeights<T>& W, Index first);

}  // namespace fastmlp
