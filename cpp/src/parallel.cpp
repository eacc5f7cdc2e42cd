#include "parallel.hpp"

#include <algorithm>
#include <cmath>

#include "blas_library.hpp"
#include "fastmlp/threads.hpp"
#include "kernel_choice.hpp"
#include "row_product.hpp"
#include "scratch_buffer.hpp"
#include "thread_pool.hpp"

namespace fastmlp {
namespace {

// A product is cut into slabs of at least kSlabWork multiply-adds (about 20 µs of work) and
// kMinSlab output columns or rows (full register blocks of the GEMM kernels), at most
// kMaxSlabs of them: more slabs than threads let a thread that the OS deschedules on a busy
// machine hold back only its current slab. A one-row product (GEMV) reads each weight once and
// is bound by memory, so it is cut at a smaller size: each core then streams its own part of W.
constexpr double kSlabWork = 1 << 21;
constexpr double kRowSlabWork = 1 << 16;
constexpr Index kMinSlab = 32;
constexpr Index kMaxSlabs = 4;

// A slab goes to the BLAS library (when that is the chosen kernel) from this many multiply-adds
// and this many rows, columns and summed terms: below, Eigen's GEMM is as fast and the call
// into the library costs more than it saves.
constexpr double kBlasWork = 1 << 18;
constexpr Index kBlasMinExtent = 16;
constexpr Index kBlasIndexLimit = Index(1) << 30;  // the library's 32-bit sizes and strides, with room

// Eigen's GEMM packs blocks of both operands into scratch buffers. Through the ordinary
// `dst.noalias() += A * B` those come from the heap on every call once they pass 128 KiB
// (wide layers), which DESIGN.md forbids per batch. So the engine calls Eigen's GEMM routine
// itself with a blocking whose buffers belong to the calling thread and only ever grow:
// after the first batch, products allocate nothing.
// (Also the packed right operand of multiply_row_invariant, which every slab reads.)
template <class T>
struct PackingBuffers {
  ScratchBuffer<T> lhs, rhs, row_invariant_rhs;
};

template <class T>
PackingBuffers<T>& thread_buffers() {
  static thread_local PackingBuffers<T> buffers;
  return buffers;
}

template <class T>
class ReusedBlocking : public Eigen::internal::level3_blocking<T, T> {
 public:
  // Blocking of the column-major problem (m × n) · depth that Eigen solves for a row-major
  // destination of rows × cols: m = cols, n = rows (it transposes the product).
  ReusedBlocking(Index m, Index n, Index depth) {
    this->m_mc = m;
    this->m_nc = n;
    this->m_kc = depth;
    Eigen::internal::computeProductBlockingSizes<T, T, 1, Index>(this->m_kc, this->m_mc, this->m_nc, 1);
    auto& buffers = thread_buffers<T>();
    this->m_blockA = at_least(buffers.lhs, this->m_mc * this->m_kc);
    this->m_blockB = at_least(buffers.rhs, this->m_kc * this->m_nc);
  }
};

template <class Operand>
constexpr int storage_order() {
  return Operand::IsRowMajor ? Eigen::RowMajor : Eigen::ColMajor;
}

template <class Operand>
Index blas_leading_dimension(const Operand& operand) {
  return operand.outerStride();  // of the row-major matrix a column-major view transposes
}

// Whether a serial product of this shape goes to the BLAS library, given that BLAS is the
// chosen kernel: a function of the shape alone, as the slabs are.
bool blas_takes(Index rows, Index cols, Index depth) {
  return std::min({rows, cols, depth}) >= kBlasMinExtent && std::max({rows, cols, depth}) < kBlasIndexLimit &&
         static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth) >= kBlasWork;
}

template <class LhsRef, class RhsRef, class T>
void serial_multiply(MatrixRef<T>& dst, const LhsRef& lhs, const RhsRef& rhs, bool accumulate, bool use_blas) {
  const Index rows = dst.rows(), cols = dst.cols(), depth = lhs.cols();
  if (use_blas && blas_takes(rows, cols, depth) && dst.outerStride() < kBlasIndexLimit &&
      blas_leading_dimension(lhs) < kBlasIndexLimit && blas_leading_dimension(rhs) < kBlasIndexLimit) {
    blas::gemm<T>(!LhsRef::IsRowMajor, !RhsRef::IsRowMajor, rows, cols, depth, lhs.data(),
                  blas_leading_dimension(lhs), rhs.data(), blas_leading_dimension(rhs), accumulate ? T(1) : T(0),
                  dst.data(), dst.outerStride());
    return;
  }
  if (!accumulate) dst.setZero();
  if (rows == 0 || cols == 0 || depth == 0) return;
  // Eigen's own choices for these shapes, so results match what its product API would give:
  if (rows + cols + depth < 20) {  // tiny: no packing at all
    dst.noalias() += lhs.lazyProduct(rhs);
    return;
  }
  if (cols == 1) {  // matrix-vector: GEMV reads each operand once, with no packing
    dst.col(0).noalias() += lhs * rhs.col(0);
    return;
  }
  if (rows == 1) {
    dst.row(0).noalias() += lhs.row(0) * rhs;
    return;
  }
  ReusedBlocking<T> blocking(cols, rows, depth);
  Eigen::internal::general_matrix_matrix_product<Index, T, storage_order<LhsRef>(), false, T, storage_order<RhsRef>(),
                                                 false, Eigen::RowMajor, 1>::run(rows, cols, depth, lhs.data(),
                                                                                 lhs.outerStride(), rhs.data(),
                                                                                 rhs.outerStride(), dst.data(), 1,
                                                                                 dst.outerStride(), T(1), blocking);
}

// The slabs of a product: a function of its shape alone (see parallel.hpp).
Index slab_count(Index rows, Index cols, Index depth) {
  const double work = static_cast<double>(rows) * static_cast<double>(cols) * static_cast<double>(depth);
  const Index extent = std::max(rows, cols);
  const double by_work = std::floor(work / (rows == 1 ? kRowSlabWork : kSlabWork));
  return std::max<Index>(1, std::min<Index>({kMaxSlabs, extent / kMinSlab, static_cast<Index>(by_work)}));
}

// Runs serial(dst slab, lhs slab, rhs slab) for every slab of the product dst = lhs·rhs.
template <class LhsRef, class RhsRef, class T, class Serial>
void for_each_slab(MatrixRef<T> dst, const LhsRef& lhs, const RhsRef& rhs, const Serial& serial) {
  const Index slabs = slab_count(dst.rows(), dst.cols(), lhs.cols());
  if (slabs == 1) {
    serial(dst, lhs, rhs);
    return;
  }
  const bool by_columns = dst.cols() >= dst.rows();
  const Index extent = by_columns ? dst.cols() : dst.rows();
  const auto product_of_slab = [&](int s) {
    // Slab edges on multiples of 16 keep every slab but the last on whole SIMD blocks.
    const Index begin = (extent * s / slabs) / 16 * 16;
    const Index end = s + 1 == slabs ? extent : (extent * (s + 1) / slabs) / 16 * 16;
    if (end <= begin) return;
    if (by_columns) {
      MatrixRef<T> slab = dst.middleCols(begin, end - begin);
      const RhsRef rhs_slab = rhs.middleCols(begin, end - begin);
      serial(slab, lhs, rhs_slab);
    } else {
      MatrixRef<T> slab = dst.middleRows(begin, end - begin);
      const LhsRef lhs_slab = lhs.middleRows(begin, end - begin);
      serial(slab, lhs_slab, rhs);
    }
  };
  run_tasks(static_cast<int>(slabs), threads_for_products(), product_of_slab);
}

template <class LhsRef, class RhsRef, class T>
void parallel_multiply(MatrixRef<T> dst, const LhsRef& lhs, const RhsRef& rhs, bool accumulate) {
  // Decided here, before the split, so that all slabs agree; asked only of products that some
  // slab could give to the BLAS library, so small networks never load it.
  const bool use_blas = blas_takes(dst.rows(), dst.cols(), lhs.cols()) && large_products_use_blas();
  for_each_slab(dst, lhs, rhs, [accumulate, use_blas](MatrixRef<T>& slab, const LhsRef& lhs_slab, const RhsRef& rhs_slab) {
    serial_multiply(slab, lhs_slab, rhs_slab, accumulate, use_blas);
  });
}

template <class T>
using ColumnMajorMatrix = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::ColMajor>;

// The transpose of a row-major view, seen (without a copy) as a column-major one.
template <class T>
using TransposedRef = Eigen::Ref<const ColumnMajorMatrix<T>>;

}  // namespace

template <class T>
void multiply(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B, bool accumulate) {
  parallel_multiply(dst, A, B, accumulate);
}

template <class T>
void multiply_row_invariant(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B) {
  using Ref = ConstMatrixRef<T>;
  if (!packing_pays(dst.rows())) {
    for_each_slab(dst, A, B, [](MatrixRef<T>& slab, const Ref& A_slab, const Ref& B_slab) {
      row_invariant_product(slab, A_slab, B_slab);
    });
    return;
  }
  // Packed once by the calling thread, read by every slab; a column slab of B starts its
  // columns at B_slab.data() − B.data() (row-major: a column offset within the first row).
  const PackedWeights<T> packed =
      pack_weights(B, at_least(thread_buffers<T>().row_invariant_rhs, packed_size<T>(B.rows(), B.cols())));
  for_each_slab(dst, A, B, [&packed, &B](MatrixRef<T>& slab, const Ref& A_slab, const Ref& B_slab) {
    row_invariant_product(slab, A_slab, packed, static_cast<Index>(B_slab.data() - B.data()));
  });
}

template <class T>
void multiply_transposed_left(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B) {
  parallel_multiply(dst, TransposedRef<T>(A.transpose()), B, false);
}

template <class T>
void multiply_transposed_right(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B) {
  parallel_multiply(dst, A, TransposedRef<T>(B.transpose()), false);
}

template <class T>
void serial_product(bool use_blas, ProductForm form, MatrixRef<T> dst, const ConstMatrixRef<T>& A,
                    const ConstMatrixRef<T>& B) {
  switch (form) {
    case ProductForm::plain: return serial_multiply(dst, A, B, false, use_blas);
    case ProductForm::transposed_left: return serial_multiply(dst, TransposedRef<T>(A.transpose()), B, false, use_blas);
    case ProductForm::transposed_right: return serial_multiply(dst, A, TransposedRef<T>(B.transpose()), false, use_blas);
  }
}

#define FASTMLP_INSTANTIATE(T)                                                                          \
  template void multiply<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&, bool);   \
  template void multiply_row_invariant<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&); \
  template void multiply_transposed_left<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&); \
  template void multiply_transposed_right<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&); \
  template void serial_product<T>(bool, ProductForm, MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&);
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
