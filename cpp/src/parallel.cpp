#include "fastmlp/parallel.hpp"

#include <algorithm>

#include "fastmlp/threads.hpp"

namespace fastmlp {
namespace {

// Multiply-adds below which one thread does the whole product (about 20 µs of work).
constexpr double kMinParallelWork = 1 << 20;
// Narrowest slab worth a thread: keeps the GEMM kernels on full register blocks.
constexpr Index kMinSlab = 32;

template <class Lhs, class Rhs, class T>
void serial_multiply(MatrixRef<T>& dst, const Lhs& lhs, const Rhs& rhs, bool accumulate) {
  if (accumulate)
    dst.noalias() += lhs * rhs;
  else
    dst.noalias() = lhs * rhs;
}

template <class LhsRef, class RhsRef, class T>
void parallel_multiply(MatrixRef<T> dst, const LhsRef& lhs, const RhsRef& rhs, bool accumulate) {
  const double work = static_cast<double>(lhs.rows()) * static_cast<double>(lhs.cols()) *
                      static_cast<double>(rhs.cols());
  const bool by_columns = dst.cols() >= dst.rows();
  const Index extent = by_columns ? dst.cols() : dst.rows();
  int threads = work >= 2 * kMinParallelWork ? get_num_threads() : 1;
  threads = static_cast<int>(std::min<double>(threads, work / kMinParallelWork));
  threads = static_cast<int>(std::min<Index>(threads, std::max<Index>(1, extent / kMinSlab)));
  if (threads <= 1) {
    serial_multiply(dst, lhs, rhs, accumulate);
    return;
  }
#pragma omp parallel for num_threads(threads) schedule(static)
  for (int t = 0; t < threads; ++t) {
    // Slab edges on multiples of 16 keep every slab but the last on whole SIMD blocks.
    const Index begin = (extent * t / threads) / 16 * 16;
    const Index end = t + 1 == threads ? extent : (extent * (t + 1) / threads) / 16 * 16;
    if (end <= begin) continue;
    if (by_columns) {
      MatrixRef<T> slab = dst.middleCols(begin, end - begin);
      const RhsRef rhs_slab = rhs.middleCols(begin, end - begin);
      serial_multiply(slab, lhs, rhs_slab, accumulate);
    } else {
      MatrixRef<T> slab = dst.middleRows(begin, end - begin);
      const LhsRef lhs_slab = lhs.middleRows(begin, end - begin);
      serial_multiply(slab, lhs_slab, rhs, accumulate);
    }
  }
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
void multiply_transposed_left(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B) {
  parallel_multiply(dst, TransposedRef<T>(A.transpose()), B, false);
}

template <class T>
void multiply_transposed_right(MatrixRef<T> dst, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& B) {
  parallel_multiply(dst, A, TransposedRef<T>(B.transpose()), false);
}

#define FASTMLP_INSTANTIATE(T)                                                                          \
  template void multiply<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&, bool);   \
  template void multiply_transposed_left<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&); \
  template void multiply_transposed_right<T>(MatrixRef<T>, const ConstMatrixRef<T>&, const ConstMatrixRef<T>&);
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
