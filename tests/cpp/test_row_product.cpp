// The row-invariant product (row_product.hpp, parallel.hpp) against its definition: every
// element is its starting value plus a[k]·w[k] for k = 0, 1, ..., one rounding step at a time.
// Whatever the path (one row, W in place, W packed, column slabs of a packed W, threads), the
// result must equal that scalar loop bit for bit: any blocking that reorders an element's
// sum, or a padded lane that leaks into a real column, changes the last bits.
#include <gtest/gtest.h>

#include <cmath>
#include <random>
#include <vector>

#include "fastmlp/threads.hpp"
#include "fastmlp/types.hpp"
#include "parallel.hpp"
#include "row_product.hpp"

namespace fastmlp {
namespace {

template <class T>
Matrix<T> random_matrix(Index rows, Index cols, std::mt19937& generator) {
  std::uniform_real_distribution<double> uniform(-1.0, 1.0);
  Matrix<T> M(rows, cols);
  for (Index i = 0; i < rows; ++i)
    for (Index j = 0; j < cols; ++j) M(i, j) = static_cast<T>(uniform(generator));
  return M;
}

// The definition, one element at a time. This file is compiled without contraction, so the
// unfused branch rounds twice, as the engine's unfused packets do.
template <class T>
Matrix<T> by_definition(const Matrix<T>& Z, const Matrix<T>& A, const Matrix<T>& W) {
  Matrix<T> out = Z;
  for (Index i = 0; i < Z.rows(); ++i)
    for (Index j = 0; j < Z.cols(); ++j) {
      T acc = Z(i, j);
      for (Index k = 0; k < A.cols(); ++k) {
#ifdef EIGEN_VECTORIZE_FMA
        acc = std::fma(A(i, k), W(k, j), acc);
#else
        acc = A(i, k) * W(k, j) + acc;
#endif
      }
      out(i, j) = acc;
    }
  return out;
}

template <class T>
bool bit_identical(const Matrix<T>& a, const Matrix<T>& b) {
  return a.rows() == b.rows() && a.cols() == b.cols() &&
         std::equal(a.data(), a.data() + a.size(), b.data(), [](T x, T y) {
           return std::memcmp(&x, &y, sizeof(T)) == 0;
         });
}

template <class T>
class RowProduct : public ::testing::Test {};

using Types = ::testing::Types<float, double>;
TYPED_TEST_SUITE(RowProduct, Types);

// Depths across one and several depth blocks (256), widths with and without a partial packet,
// rows below, at and above the packing threshold and the register tile (6).
TYPED_TEST(RowProduct, InPlaceAndPackedEqualTheDefinitionBitForBit) {
  using T = TypeParam;
  std::mt19937 generator(7);
  for (Index depth : {1, 7, 256, 300})
    for (Index cols : {1, 5, 8, 16, 17, 40})
      for (Index rows : {1, 2, 6, 7, 23, 24, 97}) {
        const Matrix<T> A = random_matrix<T>(rows, depth, generator);
        const Matrix<T> W = random_matrix<T>(depth, cols, generator);
        const Matrix<T> Z0 = random_matrix<T>(rows, cols, generator);
        const Matrix<T> expected = by_definition(Z0, A, W);
        SCOPED_TRACE(::testing::Message() << rows << " × " << depth << " · " << depth << " × " << cols);

        Matrix<T> in_place = Z0;
        MatrixRef<T> in_place_ref(in_place);
        row_invariant_product<T>(in_place_ref, A, W);
        EXPECT_TRUE(bit_identical(in_place, expected));

        std::vector<T> storage(static_cast<std::size_t>(packed_size<T>(depth, cols)));
        const PackedWeights<T> packed = pack_weights<T>(W, storage.data());
        EXPECT_EQ(packed.padded_cols % 2, 0);
        EXPECT_GE(packed.padded_cols, cols);
        Matrix<T> from_packed = Z0;
        MatrixRef<T> from_packed_ref(from_packed);
        row_invariant_product<T>(from_packed_ref, A, packed, 0);
        EXPECT_TRUE(bit_identical(from_packed, expected));
      }
}

// A column slab of the product reads its columns from the middle of the packed W.
TYPED_TEST(RowProduct, PackedColumnSlabsReadTheirOwnColumns) {
  using T = TypeParam;
  std::mt19937 generator(11);
  const Index rows = 30, depth = 300, cols = 75;
  const Matrix<T> A = random_matrix<T>(rows, depth, generator);
  const Matrix<T> W = random_matrix<T>(depth, cols, generator);
  const Matrix<T> Z0 = random_matrix<T>(rows, cols, generator);
  const Matrix<T> expected = by_definition(Z0, A, W);
  std::vector<T> storage(static_cast<std::size_t>(packed_size<T>(depth, cols)));
  const PackedWeights<T> packed = pack_weights<T>(W, storage.data());
  for (Index first : {0, 16, 32, 48, 64}) {
    const Index width = std::min<Index>(cols - first, first == 48 ? 16 : cols);
    Matrix<T> slab = Z0.middleCols(first, width);
    MatrixRef<T> slab_ref(slab);
    row_invariant_product<T>(slab_ref, A, packed, first);
    EXPECT_TRUE(bit_identical<T>(slab, expected.middleCols(first, width))) << "columns from " << first;
  }
}

// Through parallel.hpp: slabs by rows and by columns, packed and not, on 1 and 3 threads, and a
// row alone against the same row inside the batch.
TYPED_TEST(RowProduct, ThreadsSlabsAndBatchCompositionKeepEveryBit) {
  using T = TypeParam;
  const int saved = get_num_threads();
  std::mt19937 generator(13);
  struct Shape {
    Index rows, depth, cols;
  };
  for (Shape shape : {Shape{400, 784, 100}, Shape{30, 300, 2000}, Shape{10, 50, 20}}) {
    const Matrix<T> A = random_matrix<T>(shape.rows, shape.depth, generator);
    const Matrix<T> W = random_matrix<T>(shape.depth, shape.cols, generator);
    const Matrix<T> Z0 = random_matrix<T>(shape.rows, shape.cols, generator);
    const Matrix<T> expected = by_definition(Z0, A, W);
    for (int threads : {1, 3}) {
      set_num_threads(threads);
      Matrix<T> Z = Z0;
      multiply_row_invariant<T>(Z, A, W);
      EXPECT_TRUE(bit_identical(Z, expected)) << shape.rows << " rows, " << threads << " threads";
    }
    const Index row = shape.rows / 2;
    Matrix<T> alone = Z0.row(row);
    multiply_row_invariant<T>(alone, A.row(row), W);
    EXPECT_TRUE(bit_identical<T>(alone, expected.row(row)));
  }
  set_num_threads(saved);
}

}  // namespace
}  // namespace fastmlp
