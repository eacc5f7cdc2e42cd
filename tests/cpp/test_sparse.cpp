// Sparse input (cpp/src/sparse_products.cpp, network_sparse.cpp): a network trained, evaluated
// and predicting on a CSR X gives what it gives on the same X made dense, empty rows and unused
// columns included, for both index types; malformed CSR arrays are refused with their problem.
#include <gtest/gtest.h>

#include <cstdint>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastmlp/network.hpp"
#include "fastmlp/sparse.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;

// A CSR matrix that owns its arrays, made from a dense one (zeros dropped).
template <class T, class I>
struct OwnedCsr {
  std::vector<T> values;
  std::vector<I> columns;
  std::vector<I> row_starts{0};
  Index rows = 0, cols = 0;

  explicit OwnedCsr(const Matrix<T>& dense) : rows(dense.rows()), cols(dense.cols()) {
    for (Index r = 0; r < rows; ++r) {
      for (Index j = cols - 1; j >= 0; --j)  // columns in decreasing order: order must not matter
        if (dense(r, j) != T(0)) {
          values.push_back(dense(r, j));
          columns.push_back(static_cast<I>(j));
        }
      row_starts.push_back(static_cast<I>(values.size()));
    }
  }
  CsrView<T, I> view() const { return {values.data(), columns.data(), row_starts.data(), rows, cols}; }
  CsrLengths lengths() const { return {static_cast<Index>(values.size()), static_cast<Index>(row_starts.size())}; }
};

// 60 × 9 with about two thirds zeros, rows 3 and 17 empty, column 4 never used.
template <class T>
Matrix<T> sparse_data() {
  Random random(11);
  Matrix<T> X = Matrix<T>::Zero(60, 9);
  for (Index r = 0; r < X.rows(); ++r)
    for (Index j = 0; j < X.cols(); ++j)
      if (j != 4 && r != 3 && r != 17 && random.uniform() < 0.35) X(r, j) = static_cast<T>(4 * random.uniform() - 2);
  return X;
}

template <class T>
Matrix<T> targets(Index m) {
  Random random(5);
  Matrix<T> Y = Matrix<T>::Zero(m, 3);
  for (Index r = 0; r < m; ++r) Y(r, static_cast<Index>(random.below(3))) = 1;
  return Y;
}

template <class T>
Network<T> network() {
  Network<T> net(9, {{7, Activation::tanh}, {3, Activation::softmax}}, Loss::cross_entropy, 3);
  net.set_optimizer(Optimizer<T>(AdamConfig{0.02, 0.9, 0.999, 1e-8, 1e-3}));
  return net;
}

template <class I>
class SparseTest : public ::testing::Test {};
using IndexTypes = ::testing::Types<std::int32_t, std::int64_t>;
TYPED_TEST_SUITE(SparseTest, IndexTypes);

TYPED_TEST(SparseTest, TrainingOnCsrGivesTheDenseWeights) {
  using I = TypeParam;
  const Matrix<double> X = sparse_data<double>();
  const Matrix<double> Y = targets<double>(X.rows());
  const OwnedCsr<double, I> csr(X);
  check_csr(csr.view(), csr.lengths());
  std::vector<double> weights(static_cast<std::size_t>(X.rows()));
  for (std::size_t i = 0; i < weights.size(); ++i) weights[i] = 0.5 + static_cast<double>(i % 4);
  for (const bool shuffle : {false, true}) {
    Network<double> dense = network<double>(), sparse = network<double>();
    for (int epoch = 0; epoch < 4; ++epoch) {
      const PassResult a = dense.train_epoch(X, Y, weights, 16, shuffle);
      const PassResult b = sparse.train_epoch(csr.view(), Y, weights, 16, shuffle);
      EXPECT_NEAR(a.loss, b.loss, 1e-12);
      EXPECT_EQ(a.correct, b.correct);
    }
    EXPECT_LE(max_scaled_difference(sparse.parameters(), dense.parameters()), 1e-12) << "shuffle " << shuffle;
    // The unused column's weights only decayed, as on the dense X.
    EXPECT_LE(max_scaled_difference(sparse.weights(0).row(4), dense.weights(0).row(4)), 1e-15);

    Matrix<double> P_dense(X.rows(), 3), P_sparse(X.rows(), 3);
    dense.predict(X, P_dense);
    sparse.predict(csr.view(), P_sparse);
    EXPECT_LE(max_scaled_difference(P_sparse, P_dense), 1e-12);
    EXPECT_NEAR(sparse.evaluate(csr.view(), Y).loss, dense.evaluate(X, Y).loss, 1e-12);
  }
}

TYPED_TEST(SparseTest, GradientsOnCsrAreTheDenseGradients) {
  using I = TypeParam;
  const Matrix<double> X = sparse_data<double>();
  const Matrix<double> Y = targets<double>(X.rows());
  const OwnedCsr<double, I> csr(X);
  Network<double> dense = network<double>(), sparse = network<double>();
  const double loss_dense = dense.compute_gradients(X, Y);
  const double loss_sparse = sparse.compute_gradients(csr.view(), Y);
  EXPECT_NEAR(loss_dense, loss_sparse, 1e-13);
  EXPECT_LE(max_scaled_difference(sparse.gradients(), dense.gradients()), 1e-13);
  // A block of rows is a view: its gradient is that of the same dense rows.
  dense.compute_gradients(X.middleRows(10, 20), Y.middleRows(10, 20));
  sparse.compute_gradients(csr.view().middle_rows(10, 20), Y.middleRows(10, 20));
  EXPECT_LE(max_scaled_difference(sparse.gradients(), dense.gradients()), 1e-13);
}

TYPED_TEST(SparseTest, FloatNetworksTrainOnFloatCsr) {
  using I = TypeParam;
  const Matrix<float> X = sparse_data<float>();
  const Matrix<float> Y = targets<float>(X.rows());
  const OwnedCsr<float, I> csr(X);
  Network<float> dense = network<float>(), sparse = network<float>();
  for (int epoch = 0; epoch < 3; ++epoch) {
    dense.train_epoch(X, Y, {}, 8, true);
    sparse.train_epoch(csr.view(), Y, {}, 8, true);
  }
  EXPECT_LE(max_scaled_difference(sparse.parameters(), dense.parameters()), 1e-5);
}

template <class I>
std::string refusal(const OwnedCsr<double, I>& csr) {
  try {
    check_csr(csr.view(), csr.lengths());
  } catch (const std::invalid_argument& error) {
    return error.what();
  }
  return "";
}

TYPED_TEST(SparseTest, MalformedArraysAreRefusedNamingTheProblem) {
  using I = TypeParam;
  const OwnedCsr<double, I> good(sparse_data<double>());
  EXPECT_EQ(refusal(good), "");
  auto bad = good;
  bad.columns[5] = 9;
  EXPECT_NE(refusal(bad).find("column index 9 (entry 5 of indices) is out of range for 9 columns"), std::string::npos);
  bad = good;
  bad.columns[0] = -1;
  EXPECT_NE(refusal(bad).find("column index -1"), std::string::npos);
  bad = good;
  ASSERT_GT(bad.row_starts[9], 0);
  bad.row_starts[10] = bad.row_starts[9] - 1;
  EXPECT_NE(refusal(bad).find("indptr is not non-decreasing: indptr[10]"), std::string::npos) << refusal(bad);
  bad = good;
  bad.row_starts.back() += 1;
  EXPECT_NE(refusal(bad).find("but data and indices hold only"), std::string::npos);
  bad = good;
  bad.row_starts[0] = 1;
  EXPECT_NE(refusal(bad).find("indptr must start at 0"), std::string::npos);
  bad = good;
  bad.row_starts.pop_back();
  EXPECT_NE(refusal(bad).find("indptr has 60 entries; a CSR matrix of 60 rows needs rows + 1 = 61"), std::string::npos);
  bad = good;
  bad.values[3] = std::numeric_limits<double>::quiet_NaN();
  EXPECT_NE(refusal(bad).find("NaN or infinity (entry 3 of data)"), std::string::npos);
}

// Dropout masks and the shuffled order come from the network's own streams, and hooks only
// watch: on the CSR X an epoch with both gives the dense epoch's weights and running results.
TYPED_TEST(SparseTest, DropoutAndBatchHooksOnCsrGiveTheDenseResults) {
  using I = TypeParam;
  const Matrix<double> X = sparse_data<double>();
  const Matrix<double> Y = targets<double>(X.rows());
  const OwnedCsr<double, I> csr(X);
  const auto dropping = [] {
    Network<double> net(9, {{8, Activation::relu, 0.01, Initializer::automatic, 0.4}, {3, Activation::softmax}},
                        Loss::cross_entropy, 3);
    net.set_optimizer(Optimizer<double>(AdamConfig{0.02, 0.9, 0.999, 1e-8, 0.0}));
    return net;
  };
  for (const bool shuffle : {false, true}) {
    Network<double> dense = dropping(), sparse = dropping();
    std::vector<double> dense_losses, sparse_losses;
    for (int epoch = 0; epoch < 3; ++epoch) {
      // Each records the running mean loss after every batch; the last epoch stops after batch 2.
      const auto recording = [epoch](std::vector<double>& losses) {
        return Network<double>::BatchHooks{{}, [&losses, epoch](Index batch, const PassResult& so_far) {
                                             losses.push_back(so_far.loss);
                                             return epoch == 2 && batch == 2;
                                           }};
      };
      const auto dense_hooks = recording(dense_losses), sparse_hooks = recording(sparse_losses);
      const PassResult a = dense.train_epoch(X, Y, {}, 16, shuffle, {}, 0.1, &dense_hooks);
      const PassResult b = sparse.train_epoch(csr.view(), Y, {}, 16, shuffle, {}, 0.1, &sparse_hooks);
      EXPECT_NEAR(a.loss, b.loss, 1e-12);
      EXPECT_EQ(a.correct, b.correct);
      EXPECT_EQ(a.samples, b.samples);
      EXPECT_EQ(b.samples, epoch == 2 ? 48 : 60);
    }
    ASSERT_EQ(sparse_losses.size(), dense_losses.size());
    EXPECT_EQ(sparse_losses.size(), 4u + 4u + 3u);  // 60 rows in batches of 16, the last epoch stopped
    for (std::size_t k = 0; k < dense_losses.size(); ++k) EXPECT_NEAR(sparse_losses[k], dense_losses[k], 1e-12);
    EXPECT_LE(max_scaled_difference(sparse.parameters(), dense.parameters()), 1e-12) << "shuffle " << shuffle;
    // The masks were drawn: the same network without dropout ends elsewhere.
    Network<double> plain(9, {{8, Activation::relu}, {3, Activation::softmax}}, Loss::cross_entropy, 3);
    plain.set_optimizer(Optimizer<double>(AdamConfig{0.02, 0.9, 0.999, 1e-8, 0.0}));
    for (int epoch = 0; epoch < 3; ++epoch) plain.train_epoch(csr.view(), Y, {}, 16, shuffle);
    EXPECT_GT(max_scaled_difference(plain.parameters(), sparse.parameters()), 1e-6);
  }
}

// A hook may change the arrays between batches (Python code can): the rows are checked again
// before they are read, so a broken structure is an error, and a valid one that moved the
// nonzeros into one row (a batch larger than the room reserved) is trained on.
TYPED_TEST(SparseTest, HooksThatChangeTheArraysAreSeenBeforeTheRowsAreRead) {
  using I = TypeParam;
  const Matrix<double> X = sparse_data<double>();
  const Matrix<double> Y = targets<double>(X.rows());
  const OwnedCsr<double, I> good(X);
  const auto message = [&](const std::function<void(OwnedCsr<double, I>&)>& change, bool shuffle) {
    OwnedCsr<double, I> csr = good;
    Network<double> net = network<double>();
    Network<double>::BatchHooks hooks{{}, [&](Index batch, const PassResult&) {
                                        if (batch == 0) change(csr);
                                        return false;
                                      }};
    try {
      net.train_epoch(csr.view(), Y, {}, 16, shuffle, {}, 0.1, &hooks);
    } catch (const std::invalid_argument& error) {
      EXPECT_TRUE(net.parameters().allFinite());
      return std::string(error.what());
    }
    return std::string();
  };
  for (const bool shuffle : {false, true}) {
    EXPECT_NE(message([](auto& csr) { for (auto& j : csr.columns) j = 9; }, shuffle)
                  .find("the sparse X changed during training: column index 9"), std::string::npos);
    EXPECT_NE(message([](auto& csr) { for (auto& j : csr.columns) j = -3; }, shuffle).find("column index -3"),
              std::string::npos);
    EXPECT_NE(message([](auto& csr) { for (std::size_t r = 1; r < csr.row_starts.size(); ++r) csr.row_starts[r] = 100000; },
                      shuffle)
                  .find(" of indptr, outside the "), std::string::npos);
    EXPECT_NE(message([](auto& csr) { for (std::size_t r = 1; r < csr.row_starts.size(); ++r) csr.row_starts[r] = -1; },
                      shuffle)
                  .find("the sparse X changed during training: row "), std::string::npos);
    EXPECT_NE(message([](auto& csr) { for (auto& v : csr.values) v = std::numeric_limits<double>::infinity(); }, shuffle)
                  .find("it holds NaN or infinity (entry"), std::string::npos);
    // Every nonzero moved into the last row: valid CSR (repeated columns add up), one batch
    // holding them all.
    EXPECT_EQ(message([](auto& csr) {
                for (std::size_t r = 1; r + 1 < csr.row_starts.size(); ++r) csr.row_starts[r] = 0;
              }, shuffle), "");
  }
}

TEST(CsrBatch, GathersRowsWithinItsRoomAndRefusesBeyond) {
  const OwnedCsr<double, std::int32_t> csr(sparse_data<double>());
  CsrBatch<double> batch;
  const Index two_rows = csr.view().row_end(1) - csr.view().row_begin(0);
  batch.reserve(2, two_rows);
  batch.append_row(csr.view(), 1);
  batch.append_row(csr.view(), 0);
  const auto view = batch.view(9);
  ASSERT_EQ(view.rows, 2);
  EXPECT_EQ(view.nonzeros(), two_rows);
  EXPECT_EQ(view.values[0], csr.values[static_cast<std::size_t>(csr.row_starts[1])]);
  EXPECT_THROW(batch.append_row(csr.view(), 2), std::logic_error);
}

}  // namespace
}  // namespace fastmlp
