#include "row_product.hpp"

#include <algorithm>
#include <cmath>

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
// From this many rows on, packing W (one pass over it) costs less than reading it in place.
constexpr Index kPackingRows = 24;

// Where a W block's values lie: packet p of row k starts at w + k·k_stride + p·group_stride.
// In place that is (ldw, one packet); packed, (one packet, the block's depth × one packet).
struct Layout {
  Index k_stride, group_stride;
};

// One register tile: R rows × P packets of Z, over `depth` consecutive k. z is loaded, the
// products added one k after another, and z stored back.
template <int R, int P, class T>
void tile(const T* a, Index lda, const T* w, Layout layout, T* z, Index ldz, Index depth) {
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  using Eigen::internal::ploadu;
  constexpr Index S = kLanes<T>;
  Packet<T> acc[R][P];
  for (int r = 0; r < R; ++r)
    for (int p = 0; p < P; ++p) acc[r][p] = ploadu<Packet<T>>(z + r * ldz + p * S);
  for (Index k = 0; k < depth; ++k) {
    Packet<T> wk[P];
    for (int p = 0; p < P; ++p) wk[p] = ploadu<Packet<T>>(w + k * layout.k_stride + p * layout.group_stride);
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
void short_tile(Index rows, const T* a, Index lda, const T* w, Layout layout, T* z, Index ldz, Index depth) {
  switch (rows) {
    case 1: return tile<1, P>(a, lda, w, layout, z, ldz, depth);
    case 2: return tile<2, P>(a, lda, w, layout, z, ldz, depth);
    case 3: return tile<3, P>(a, lda, w, layout, z, ldz, depth);
    case 4: return tile<4, P>(a, lda, w, layout, z, ldz, depth);
    case 5: return tile<5, P>(a, lda, w, layout, z, ldz, depth);
    default: return;
  }
}

template <int P, class T>
void column_block(Index rows, const T* a, Index lda, const T* w, Layout layout, T* z, Index ldz, Index depth) {
  Index r = 0;
  for (; r + kTileRows <= rows; r += kTileRows)
    tile<kTileRows, P>(a + r * lda, lda, w, layout, z + r * ldz, ldz, depth);
  short_tile<P>(rows - r, a + r * lda, lda, w, layout, z + r * ldz, ldz, depth);
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

// The last `width` columns (fewer than one packet) of several rows, run as packets: `panel`
// holds their W block padded with zeros to one packet per k, and z goes through a padded copy.
// Each lane rounds as multiply_add does (IEEE arithmetic is the same in a lane as in a scalar),
// so one row alone (tail_of_one_row) gets the same bits.
template <class T>
void padded_tail(Index rows, Index width, const T* a, Index lda, const T* panel, T* z, Index ldz, Index depth) {
  constexpr Index S = kLanes<T>;
  const Layout layout{S, S};
  // On the stack, not in a thread's growing scratch: a pool thread that first meets a tail in a
  // later call would otherwise allocate then.
  alignas(64) T padded[kTileRows * S];
  for (Index r = 0; r < rows; r += kTileRows) {
    const Index count = std::min<Index>(kTileRows, rows - r);
    std::fill(padded, padded + kTileRows * S, T(0));
    for (Index i = 0; i < count; ++i) std::copy(z + (r + i) * ldz, z + (r + i) * ldz + width, padded + i * S);
    if (count == kTileRows)
      tile<kTileRows, 1>(a + r * lda, lda, panel, layout, padded, S, depth);
    else
      short_tile<1>(count, a + r * lda, lda, panel, layout, padded, S, depth);
    for (Index i = 0; i < count; ++i) std::copy(padded + i * S, padded + i * S + width, z + (r + i) * ldz);
  }
}

// The same, W read in place: its last columns are first copied into a padded panel.
template <class T>
void tail_columns(Index rows, Index width, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz,
                  Index depth) {
  constexpr Index S = kLanes<T>;
  alignas(64) T panel[kDepthBlock * S];  // depth is one depth block at most (16 KiB at most)
  std::fill(panel, panel + depth * S, T(0));
  for (Index k = 0; k < depth; ++k) std::copy(w + k * ldw, w + k * ldw + width, panel + k * S);
  padded_tail(rows, width, a, lda, panel, z, ldz, depth);
}

// One row, P packets of z held in registers while every k passes (W read down a column block
// of P packets, k after k), so z is loaded and stored once instead of once per few k.
template <int P, class T>
void one_row_block(const T* a, const T* w, Index ldw, T* z, Index depth) {
  using Eigen::internal::pmadd;
  using Eigen::internal::pset1;
  using Eigen::internal::ploadu;
  constexpr Index S = kLanes<T>;
  Packet<T> acc[P];
  for (int p = 0; p < P; ++p) acc[p] = ploadu<Packet<T>>(z + p * S);
  for (Index k = 0; k < depth; ++k) {
    const Packet<T> ak = pset1<Packet<T>>(a[k]);
    const T* w_k = w + k * ldw;
    for (int p = 0; p < P; ++p) acc[p] = pmadd(ak, ploadu<Packet<T>>(w_k + p * S), acc[p]);
  }
  for (int p = 0; p < P; ++p) Eigen::internal::pstoreu(z + p * S, acc[p]);
}

// One row: column blocks of 8 packets (8 accumulators hide the multiply-add latency and leave
// registers for the loads on AVX2's 16), then the remaining whole packets in one block.
template <class T>
void one_row(Index whole, const T* a, const T* w, Index ldw, T* z, Index depth) {
  constexpr Index S = kLanes<T>;
  constexpr int kBlock = 8;
  Index u = 0;
  for (; u + kBlock * S <= whole; u += kBlock * S) one_row_block<kBlock>(a, w + u, ldw, z + u, depth);
  switch ((whole - u) / S) {
    case 1: return one_row_block<1>(a, w + u, ldw, z + u, depth);
    case 2: return one_row_block<2>(a, w + u, ldw, z + u, depth);
    case 3: return one_row_block<3>(a, w + u, ldw, z + u, depth);
    case 4: return one_row_block<4>(a, w + u, ldw, z + u, depth);
    case 5: return one_row_block<5>(a, w + u, ldw, z + u, depth);
    case 6: return one_row_block<6>(a, w + u, ldw, z + u, depth);
    case 7: return one_row_block<7>(a, w + u, ldw, z + u, depth);
    default: return;
  }
}

// Where the kernel finds W's blocks: read in place (row-major, leading dimension ldw) ...
template <class T>
struct InPlaceWeights {
  const T* w;
  Index ldw;
  Layout layout(Index /*block*/) const { return {ldw, kLanes<T>}; }
  const T* at(Index k0, Index /*block*/, Index column) const { return w + k0 * ldw + column; }
  void tail(Index rows, Index width, const T* a, Index lda, Index k0, Index block, Index column, T* z,
            Index ldz) const {
    tail_columns<T>(rows, width, a, lda, at(k0, block, column), ldw, z, ldz, block);
  }
};

// ... or packed (pack_weights), its columns counted from `first`; the last group is already padded.
template <class T>
struct PackedWeightBlocks {
  const PackedWeights<T>& W;
  Index first;
  Layout layout(Index block) const { return {kLanes<T>, block * kLanes<T>}; }
  const T* at(Index k0, Index block, Index column) const {
    return W.data + k0 * W.padded_cols + (first + column) / kLanes<T> * block * kLanes<T>;
  }
  void tail(Index rows, Index width, const T* a, Index lda, Index k0, Index block, Index column, T* z,
            Index ldz) const {
    padded_tail<T>(rows, width, a, lda, at(k0, block, column), z, ldz, block);
  }
};

// Z (rows × cols) += A (rows × depth) · W, raw row-major storage of A and Z; W from `weights`.
template <class T, class Weights>
void blocked_product(Index rows, Index cols, Index depth, const T* a, Index lda, const Weights& weights, T* z,
                     Index ldz) {
  constexpr Index S = kLanes<T>;
  const Index whole = cols / S * S;
  for (Index r0 = 0; r0 < rows; r0 += kRowChunk) {
    const Index chunk = std::min(kRowChunk, rows - r0);
    const T* a_chunk = a + r0 * lda;
    T* z_chunk = z + r0 * ldz;
    for (Index k0 = 0; k0 < depth; k0 += kDepthBlock) {  // ascending k: each element's order is kept
      const Index block = std::min(kDepthBlock, depth - k0);
      const T* a_block = a_chunk + k0;
      const Layout layout = weights.layout(block);
      Index u = 0;
      for (; u + 2 * S <= whole; u += 2 * S)
        column_block<2>(chunk, a_block, lda, weights.at(k0, block, u), layout, z_chunk + u, ldz, block);
      for (; u < whole; u += S)
        column_block<1>(chunk, a_block, lda, weights.at(k0, block, u), layout, z_chunk + u, ldz, block);
      if (whole < cols) weights.tail(chunk, cols - whole, a_block, lda, k0, block, whole, z_chunk + whole, ldz);
    }
  }
}

// W read in place; one row streams it (one_row) instead.
template <class T>
void product(Index rows, Index cols, Index depth, const T* a, Index lda, const T* w, Index ldw, T* z, Index ldz) {
  constexpr Index S = kLanes<T>;
  const Index whole = cols / S * S;
  if (rows == 1) {
    one_row(whole, a, w, ldw, z, depth);
    if (whole < cols) tail_of_one_row(cols - whole, a, w + whole, ldw, z + whole, depth);
    return;
  }
  blocked_product(rows, cols, depth, a, lda, InPlaceWeights<T>{w, ldw}, z, ldz);
}

}  // namespace

bool packing_pays(Index rows) { return rows >= kPackingRows; }

template <class T>
PackedWeights<T> packed_layout(const T* data, Index depth, Index cols) {
  constexpr Index S = kLanes<T>;
  return {data, depth, cols, (cols + S - 1) / S * S};
}

template <class T>
Index packed_size(Index depth, Index cols) {
  return packed_layout<T>(nullptr, depth, cols).size();
}

template <class T>
PackedWeights<T> pack_weights(const ConstMatrixRef<T>& W, T* out) {
  constexpr Index S = kLanes<T>;
  const PackedWeights<T> packed = packed_layout<T>(out, W.rows(), W.cols());
  const Index depth = packed.depth, cols = packed.cols, padded_cols = packed.padded_cols;
  for (Index k0 = 0; k0 < depth; k0 += kDepthBlock) {
    const Index block = std::min(kDepthBlock, depth - k0);
    T* block_out = out + k0 * padded_cols;
    for (Index c0 = 0; c0 < padded_cols; c0 += S) {
      const Index width = std::min(S, cols - c0);
      T* group_out = block_out + c0 * block;
      for (Index k = 0; k < block; ++k) {
        const T* row = W.data() + (k0 + k) * W.outerStride() + c0;
        std::copy(row, row + width, group_out + k * S);
        std::fill(group_out + k * S + width, group_out + (k + 1) * S, T(0));
      }
    }
  }
  return packed;
}

template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& W) {
  if (Z.rows() == 0 || Z.cols() == 0 || A.cols() == 0) return;
  product<T>(Z.rows(), Z.cols(), A.cols(), A.data(), A.outerStride(), W.data(), W.outerStride(), Z.data(),
             Z.outerStride());
}

template <class T>
void row_invariant_product(MatrixRef<T>& Z, const ConstMatrixRef<T>& A, const PackedWeights<T>& W, Index first) {
  if (Z.rows() == 0 || Z.cols() == 0 || A.cols() == 0) return;
  blocked_product<T>(Z.rows(), Z.cols(), W.depth, A.data(), A.outerStride(), PackedWeightBlocks<T>{W, first},
                     Z.data(), Z.outerStride());
}

#define FASTMLP_INSTANTIATE(T)                                                                              \
  template Index packed_size<T>(Index, Index);                                                             \
  template PackedWeights<T> packed_layout<T>(const T*, Index, Index);                                      \
  template PackedWeights<T> pack_weights<T>(const ConstMatrixRef<T>&, T*);                                 \
  template void row_invariant_product<T>(MatrixRef<T>&, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&); \
  template void row_invariant_product<T>(MatrixRef<T>&, const ConstMatrixRef<T>&, const PackedWeights<T>&, Index);
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
