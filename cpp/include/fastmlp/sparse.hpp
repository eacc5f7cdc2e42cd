// Sparse input: a CSR matrix borrowed from its owner (SciPy's data, indices and indptr arrays).
//
// Row r of X holds the values values[k] in columns columns[k] for k in [row_starts[r],
// row_starts[r+1]). Columns within a row may come in any order and repeat (repeats add up, as
// SciPy reads them). The view never owns or copies: a block of rows is the same arrays with
// row_starts moved on, so row_starts[0] need not be 0. The index type I is that of the arrays,
// std::int32_t or std::int64_t, so SciPy's arrays cross as they are.
//
// The network (network.hpp) trains, predicts and evaluates on a CsrView as on a dense X: the
// first layer's products Z[0] = X·W[0] + b[0] and dW[0] = Xᵀ·dZ[0] run on the nonzeros only.
#pragma once

#include <cstdint>
#include <vector>

#include "fastmlp/types.hpp"

namespace fastmlp {

template <class T, class I>
struct CsrView {
  const T* values = nullptr;
  const I* columns = nullptr;
  const I* row_starts = nullptr;  // rows + 1 entries
  Index rows = 0;
  Index cols = 0;

  Index row_begin(Index r) const { return static_cast<Index>(row_starts[r]); }
  Index row_end(Index r) const { return static_cast<Index>(row_starts[r + 1]); }
  Index nonzeros() const { return rows == 0 ? 0 : row_end(rows - 1) - row_begin(0); }
  CsrView middle_rows(Index start, Index count) const {
    return CsrView{values, columns, row_starts + start, count, cols};
  }
};

// The lengths of the arrays a CsrView points into, as their owner knows them.
struct CsrLengths {
  Index values = 0;      // also that of columns
  Index row_starts = 0;  // rows + 1
};

// Throws std::invalid_argument naming the first problem: a negative shape, row_starts of the
// wrong length, not starting at 0, decreasing, or ending beyond the values, a column index
// outside [0, cols), or a value that is NaN or infinite. Reads only within the given lengths.
template <class T, class I>
void check_csr(const CsrView<T, I>& X, const CsrLengths& lengths);

// Row r of an X that check_csr accepted when it held `stored` nonzeros, checked again before it
// is read (its owner's code may have changed the arrays since): 0 <= row_starts[r] <=
// row_starts[r+1] <= stored, columns in [0, cols), values finite. Returns the row's nonzero
// count; throws std::invalid_argument naming the problem. Reads only within the first `stored`
// entries (and rows + 1 row starts).
template <class T, class I>
Index check_csr_row(const CsrView<T, I>& X, Index r, Index stored);

// Rows of a CSR matrix copied into arrays that only ever grow: the network's shuffled training
// reserves room for the largest batch of an epoch once, then gathers every batch without
// allocating.
template <class T>
class CsrBatch {
 public:
  using Column = std::int64_t;

  // Room for `rows` rows holding `nonzeros` entries in all; empties the batch.
  void reserve(Index rows, Index nonzeros);
  // Row `source` of X appended as the batch's next row (std::logic_error beyond the room).
  template <class I>
  void append_row(const CsrView<T, I>& X, Index source);
  void clear();
  CsrView<T, Column> view(Index cols) const;

 private:
  std::vector<T> values_;
  std::vector<Column> columns_;
  std::vector<Column> row_starts_{0};
  Index rows_ = 0;
};

}  // namespace fastmlp
