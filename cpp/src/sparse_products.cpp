#include "sparse_products.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "thread_pool.hpp"

namespace fastmlp {
namespace {

// As in parallel.cpp: slabs of at least kSlabWork multiply-adds and kMinSlab rows or columns,
// at most kMaxSlabs, counted from the shape of the product alone.
constexpr double kSlabWork = 1 << 20;
constexpr Index kMinSlab = 32;
constexpr Index kMaxSlabs = 4;

Index slab_count(double work, Index extent) {
  return std::max<Index>(1, std::min<Index>({kMaxSlabs, extent / kMinSlab, static_cast<Index>(work / kSlabWork)}));
}

template <class Task>
void run_slabs(Index slabs, Index extent, const Task& task) {
  const auto slab = [&](int s) {
    const Index begin = extent * s / slabs;
    const Index end = extent * (s + 1) / slabs;
    if (end > begin) task(begin, end);
  };
  if (slabs == 1)
    slab(0);
  else
    run_tasks(static_cast<int>(slabs), threads_for_products(), slab);
}

std::string entry_label(Index k) { return "entry " + std::to_string(k); }

}  // namespace

template <class T, class I>
void check_csr(const CsrView<T, I>& X, const CsrLengths& lengths) {
  if (X.rows < 0 || X.cols < 0)
    throw std::invalid_argument("the sparse matrix has a negative shape (" + std::to_string(X.rows) + ", " +
                                std::to_string(X.cols) + ")");
  if (lengths.row_starts != X.rows + 1)
    throw std::invalid_argument("indptr has " + std::to_string(lengths.row_starts) + " entries; a CSR matrix of " +
                                std::to_string(X.rows) + " rows needs rows + 1 = " + std::to_string(X.rows + 1));
  if (X.row_starts[0] != 0)
    throw std::invalid_argument("indptr must start at 0, found " + std::to_string(X.row_starts[0]));
  for (Index r = 0; r < X.rows; ++r)
    if (X.row_starts[r + 1] < X.row_starts[r])
      throw std::invalid_argument("indptr is not non-decreasing: indptr[" + std::to_string(r + 1) + "] = " +
                                  std::to_string(X.row_starts[r + 1]) + " < indptr[" + std::to_string(r) +
                                  "] = " + std::to_string(X.row_starts[r]));
  const auto stored = static_cast<Index>(X.row_starts[X.rows]);
  if (stored > lengths.values)
    throw std::invalid_argument("indptr ends at " + std::to_string(stored) + " but data and indices hold only " +
                                std::to_string(lengths.values) + " entries");
  for (Index k = 0; k < stored; ++k) {
    if (X.columns[k] < 0 || static_cast<Index>(X.columns[k]) >= X.cols)
      throw std::invalid_argument("column index " + std::to_string(X.columns[k]) + " (" + entry_label(k) +
                                  " of indices) is out of range for " + std::to_string(X.cols) + " columns");
    if (!std::isfinite(X.values[k]))
      throw std::invalid_argument("the sparse matrix holds NaN or infinity (" + entry_label(k) + " of data)");
  }
}

template <class T, class I>
Index check_csr_row(const CsrView<T, I>& X, Index r, Index stored) {
  const Index begin = X.row_begin(r), end = X.row_end(r);
  if (begin < 0 || end < begin || end > stored)
    throw std::invalid_argument("the sparse X changed during training: row " + std::to_string(r) + " now spans [" +
                                std::to_string(begin) + ", " + std::to_string(end) + ") of indptr, outside the " +
                                std::to_string(stored) + " entries it held when the epoch began");
  for (Index k = begin; k < end; ++k) {
    if (X.columns[k] < 0 || static_cast<Index>(X.columns[k]) >= X.cols)
      throw std::invalid_argument("the sparse X changed during training: column index " +
                                  std::to_string(X.columns[k]) + " (" + entry_label(k) +
                                  " of indices) is out of range for " + std::to_string(X.cols) + " columns");
    if (!std::isfinite(X.values[k]))
      throw std::invalid_argument("the sparse X changed during training: it holds NaN or infinity (" +
                                  entry_label(k) + " of data)");
  }
  return end - begin;
}

template <class T, class I>
void sparse_multiply_accumulate(MatrixRef<T> Z, const CsrView<T, I>& X, const ConstMatrixRef<T>& W) {
  // Rows of Z are independent: each slab of rows reads the rows of W its nonzeros name.
  const double work = static_cast<double>(X.nonzeros()) * static_cast<double>(W.cols());
  run_slabs(slab_count(work, X.rows), X.rows, [&](Index begin, Index end) {
    for (Index r = begin; r < end; ++r) {
      auto z = Z.row(r);
      for (Index k = X.row_begin(r); k < X.row_end(r); ++k)
        z.noalias() += X.values[k] * W.row(static_cast<Index>(X.columns[k]));  // z[r] += x_rj·W[j]
    }
  });
}

template <class T, class I>
void sparse_multiply_transposed_left(MatrixRef<T> dW, const CsrView<T, I>& X, const ConstMatrixRef<T>& dZ) {
  // Every nonzero of X touches a whole row of dW, so threads split dW's columns: each slab
  // visits all nonzeros, in order, for its own columns.
  dW.setZero();
  const double work = static_cast<double>(X.nonzeros()) * static_cast<double>(dZ.cols());
  run_slabs(slab_count(work, dZ.cols()), dZ.cols(), [&](Index begin, Index end) {
    const Index width = end - begin;
    for (Index r = 0; r < X.rows; ++r) {
      const auto dz = dZ.row(r).segment(begin, width);
      for (Index k = X.row_begin(r); k < X.row_end(r); ++k)
        dW.row(static_cast<Index>(X.columns[k])).segment(begin, width).noalias() += X.values[k] * dz;  // dW[j] += x_rj·dZ[r]
    }
  });
}

template <class T>
void CsrBatch<T>::reserve(Index rows, Index nonzeros) {
  if (static_cast<Index>(values_.size()) < nonzeros) {
    values_.resize(static_cast<std::size_t>(nonzeros));
    columns_.resize(static_cast<std::size_t>(nonzeros));
  }
  if (static_cast<Index>(row_starts_.size()) < rows + 1) row_starts_.resize(static_cast<std::size_t>(rows + 1));
  clear();
}

template <class T>
void CsrBatch<T>::clear() {
  rows_ = 0;
  row_starts_[0] = 0;
}

template <class T>
template <class I>
void CsrBatch<T>::append_row(const CsrView<T, I>& X, Index source) {
  const Index begin = X.row_begin(source), count = X.row_end(source) - begin;
  const auto start = static_cast<std::size_t>(row_starts_[static_cast<std::size_t>(rows_)]);
  if (static_cast<std::size_t>(rows_) + 1 >= row_starts_.size() || start + static_cast<std::size_t>(count) > values_.size())
    throw std::logic_error("CsrBatch::append_row beyond the reserved room");
  std::copy(X.values + begin, X.values + begin + count, values_.begin() + static_cast<std::ptrdiff_t>(start));
  std::copy(X.columns + begin, X.columns + begin + count, columns_.begin() + static_cast<std::ptrdiff_t>(start));
  ++rows_;
  row_starts_[static_cast<std::size_t>(rows_)] = static_cast<Column>(start) + count;
}

template <class T>
CsrView<T, typename CsrBatch<T>::Column> CsrBatch<T>::view(Index cols) const {
  return CsrView<T, Column>{values_.data(), columns_.data(), row_starts_.data(), rows_, cols};
}

#define FASTMLP_INSTANTIATE_INDEX(T, I)                                                                      \
  template void check_csr<T, I>(const CsrView<T, I>&, const CsrLengths&);                                   \
  template Index check_csr_row<T, I>(const CsrView<T, I>&, Index, Index);                                  \
  template void sparse_multiply_accumulate<T, I>(MatrixRef<T>, const CsrView<T, I>&, const ConstMatrixRef<T>&); \
  template void sparse_multiply_transposed_left<T, I>(MatrixRef<T>, const CsrView<T, I>&, const ConstMatrixRef<T>&); \
  template void CsrBatch<T>::append_row<I>(const CsrView<T, I>&, Index);
#define FASTMLP_INSTANTIATE(T)                  \
  template class CsrBatch<T>;                   \
  FASTMLP_INSTANTIATE_INDEX(T, std::int32_t)    \
  FASTMLP_INSTANTIATE_INDEX(T, std::int64_t)
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE
#undef FASTMLP_INSTANTIATE_INDEX

}  // namespace fastmlp
