#include "row_product.hpp"

#include <algorithm>
#include <cmath>
#include <vector>

namespace fastmlp {
namespace {

template <class T>
using Packet = typename Eigen::internal::packet_traits<T>::type;

template <class T>
constexpr Index kLanes = Eigen::internal::unpacket_traits<Packet<T>>::size;

// Rows of A whose depth block stays in the L2 cache while every column block of W passes
// over it, and the depth block: a block of W's columns (kDepthBlock × 16 values) then fits
// in the L1 cache and serves all those rows. Neither changes any element's order.
constexpr Index kRowChunk = 96;
constexpr Index kDepthBlock = 256;
constexpr int kTileRows = 6;  // 6 rows × 2 packets: 12 accumulators, 15 of 16 AVX2 registers

// One register tile: R rows × P packets of Z, over `depth` consecutive k. z is loaded, the
// products added one k after another, and z stored back.
template <int R, int P, class T>
void tile(const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz, Index depth) {
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  using Eigen::internal::ploadu;
  constexpr Index S = kLanes<T>;
  Packet<T> acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = ploadu<Packet<T>>(z + r * ldz + p * S);
  for (Index k = 0; k < depth; ++k) {
    Packet<T> wk[P];
    for (int p = 0; p < P; ++p) wk[p] = ploadu<Packet<T>>(w + k * ldw + p * S);
    for (int r = 0; r < R; ++r) {
      const Packet<T> ak = pset1<Packet<T>>(a[r * lda + k]);
      for (int p = 0; p < P; ++p) acc[r][p] = pmadd(ak, wk[p], acc[r][p]);
    }
  }
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) Eigen::internal::pstoreu(z + r * ldz + p * S, acc[r][p]);
}

// Tiles of fewer than kTileRows rows, for the last rows of a chunk.
template <int P, class T>
void short_tile(Index rows, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz, Index depth) {
  switch (rows) {
    case 1: return tile<1, P>(a, lda, w, ldw, z, ldz, depth);
    case 2: return tile<2, P>(a, lda, w, ldw, z, ldz, depth);
    case 3: return tile<3, P>(a, lda, w, ldw, z, ldz, depth);
    case 4: return tile<4, P>(a, lda, w, ldw, z, ldz, depth);
    case 5: return tile<5, P>(a, lda, w, ldw, z, ldz, depth);
    default: return;
  }
}

template <int P, class T>
void column_block(Index rows, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz, Index depth) {
  Index r = 0;
  for (; r + kTileRows <= rows; r += kTileRows)
    tile<kTileRows, P>(a + r * lda, lda, w, ldw, z + r * ldz, ldz, depth);
  short_tile<P>(rows - r, a + r * lda, lda, w, ldw, z + r * ldz, ldz, depth);
}

// One multiply-add of the last columns (fewer than a packet), rounded as once in the packet
// code of this build when the CPU fuses it (std::fma then is one instruction), else twice;
// this file is compiled without contraction (CMakeLists.txt), so `a * w + z` stays two steps.
template <class T>
T multiply_add(T a, T w, T z) {
#ifdef EIGEN_VECTORIZE_FMA
  return std::fma(a, w, z);
#else
  return a * w + z;
#endif
}

// The last `width` columns (fewer than one packet) of one row, each element summed k by k.
template <class T>
void tail_of_one_row(Index width, const T* a, const T* w, Index ldw, T* z, Index depth) {
  for (Index c = 0; c < width; ++c) {
    T acc = z[c];
    for (Index k = 0; k < depth; ++k) acc = multiply_add(a[k], w[k * ldw + c], acc);
    z[c] = acc;
  }
}

// Scratch of the calling thread that only ever grows: the last columns of W padded to a whole
// packet, and the matching part of Z.
template <class T>
struct Scratch {
  std::vector<T, Eigen::aligned_allocator<T>> tail, z;
};

template <class T>
Scratch<T>& scratch() {
  static thread_local Scratch<T> buffers;
  return buffers;
}

template <class Buffer>
typename Buffer::value_type* at_least(Buffer& buffer, Index size) {
  if (buffer.size() < static_cast<std::size_t>(size)) buffer.resize(static_cast<std::size_t>(size));
  return buffer.data();
}

// The last `width` columns (fewer than one packet) of several rows, through copies padded with
// zeros so that they run as packets. Each lane rounds as multiply_add does (IEEE arithmetic is
// the same in a lane as in a scalar), so one row alone (tail_of_one_row) gets the same bits.
template <class T>
void tail_columns(Index rows, Index width, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz,
                  Index depth) {
  constexpr Index S = kLanes<T>;
  T* panel = at_least(scratch<T>().tail, depth * S);
  T* padded = at_least(scratch<T>().z, kTileRows * S);
  std::fill(panel, panel + depth * S, T(0));
  for (Index k = 0; k < depth; ++k) std::copy(w + k * ldw, w + k * ldw + width, panel + k * S);
  for (Index r = 0; r < rows; r += kTileRows) {
    const Index count = std::min<Index>(kTileRows, rows - r);
    for (Index i = 0; i < count; ++i) std::copy(z + (r + i) * ldz, z + (r + i) * ldz + width, padded + i * S);
    if (count == kTileRows)
      tile<kTileRows, 1>(a + r * lda, lda, panel, S, padded, S, depth);
    else
      short_tile<1>(count, a + r * lda, lda, panel, S, padded, S, depth);
    for (Index i = 0; i < count; ++i) std::copy(padded + i * S, padded + i * S + width, z + (r + i) * ldz);
  }
}

// One row: W streamed row after row, four k at a time for each packet of z (as a
// matrix-vector product reads it, once and in order), each element still summed k by k.
template <class T>
void one_row(Index whole, const T* a, const T* w, Index ldw, T* z, Index depth) {
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  using Eigen::internal::ploadu;
  using Eigen::internal::pstoreu;
  using P = Packet<T>;
  constexpr Index S = kLanes<T>;
  Index k = 0;
  for (; k + 4 <= depth; k += 4) {
    const P a0 = pset1<P>(a[k]), a1 = pset1<P>(a[k + 1]), a2 = pset1<P>(a[k + 2]), a3 = pset1<P>(a[k + 3]);
    const T* w0 = w + k * ldw;
    for (Index u = 0; u < whole; u += S) {
      P acc = ploadu<P>(z + u);
      acc = pmadd(a0, ploadu<P>(w0 + u), acc);
      acc = pmadd(a1, ploadu<P>(w0 + ldw + u), acc);
      acc = pmadd(a2, ploadu<P>(w0 + 2 * ldw + u), acc);
      acc = pmadd(a3, ploadu<P>(w0 + 3 * ldw + u), acc);
      pstoreu(z + u, acc);
    }
  }
  for (; k < depth; ++k) {
    const P ak = pset1<P>(a[k]);
    for (Index u = 0; u < whole; u += S) pstoreu(z + u, pmadd(ak, ploadu<P>(w + k * ldw + u), ploadu<P>(z + u)));
  }
}

// Z (rows × cols) += A (rows × depth) · W (depth × cols), raw row-major storage.
template <class T>
void product(Index rows, Index cols, Index depth, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz) {
  constexpr Index S = kLanes<T>;
  const Index whole = cols / S * S;
  if (rows == 1) {
    one_row(whole, a, w, ldw, z, depth);
    if (whole < cols) tail_of_one_row(cols - whole, a, w + whole, ldw, z + whole, depth);
    return;
  }
  for (Index r0 = 0; r0 < rows; r0 += kRowChunk) {
    const Index chunk = std::min(kRowChunk, rows - r0);
    const T* a_chunk = a + r0 * lda;
    T* z_chunk = z + r0 * ldz;
    for (Index k0 = 0; k0 < depth; k0 += kDepthBlock) {  // ascending k: each element's order is kept
      const Index block = std::min(kDepthBlock, depth - k0);
      const T* a_block = a_chunk + k0;
      const T* w_block = w + k0 * ldw;
      Index u = 0;
      for (; u + 2 * S <= whole; u += 2 * S)
        column_block<2>(chunk, a_block, lda, w_block + u, ldw, z_chunk + u, ldz, block);
      for (; u < whole; u += S) column_block<1>(chunk, a_block, lda, w_block + u, ldw, z_chunk + u, ldz, block);
      if (whole < cols)
        tail_columns<T>(chunk, cols - whole, a_block, lda, w_block + whole, ldw, z_chunk + whole, ldz, block);
    }
  }
}

}  // namespace

template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& W) {
  if (Z.rows() == 0 || Z.cols() == 0 || A.cols() == 0) return;
  product<T>(Z.rows(), Z.cols(), A.cols(), A.data(), A.outerStride(), W.data(), W.outerStride(), Z.data(),
             Z.outerStride());
}

template void row_invariant_product<float>(MatrixRef<float>&, const ConstMatrixRef<float>&,
                                           const ConstMatrixRef<float>&);
template void row_invariant_product<double>(MatrixRef<double>&, const ConstMatrixRef<double>&,
                                            const ConstMatrixRef<double>&);

}  // namespace fastmlp
