// Many threads on one network (network.hpp, "Threads"): const inference from any number of
// threads gives exactly the serial results; sizes that overflow are refused, naming the layer.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fastmlp/network.hpp"
#include "fastmlp/threads.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

Matrix<float> inputs(Index rows, Index cols, std::uint64_t seed) {
  Random random(seed);
  Matrix<float> X(rows, cols);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = static_cast<float>(random.uniform() * 4.0 - 2.0);
  return X;
}

TEST(Concurrency, EightThreadsPredictExactlyLikeOne) {
  // Wide enough that the 300-row products are split across threads (parallel.hpp) too.
  Network<float> trained(64, {{256, Activation::relu}, {32, Activation::tanh}, {3, Activation::softmax}},
                         Loss::cross_entropy, 5);
  const Matrix<float> X = inputs(300, 64, 6);
  Matrix<float> Y = Matrix<float>::Zero(300, 3);
  for (Index i = 0; i < 300; ++i) Y(i, i % 3) = 1;
  trained.train_epoch(X, Y, nullptr, 32, true);
  const Network<float>& net = trained;

  const std::vector<Index> sizes = {1, 7, 300};
  std::vector<Matrix<float>> expected;
  for (Index rows : sizes) {
    expected.emplace_back(rows, 3);
    net.predict(X.topRows(rows), expected.back());
  }
  const PassResult expected_pass = net.evaluate(X, Y);

  std::vector<int> mismatches(8, 0);
  std::vector<std::thread> threads;
  for (int t = 0; t < 8; ++t) {
    threads.emplace_back([&, t] {
      for (int round = 0; round < 20; ++round) {
        const std::size_t which = static_cast<std::size_t>((t + round) % 3);
        Matrix<float> out(sizes[which], 3);
        net.predict(X.topRows(sizes[which]), out);
        if (out != expected[which]) ++mismatches[static_cast<std::size_t>(t)];
        const PassResult pass = net.evaluate(X, Y);
        if (pass.loss != expected_pass.loss || pass.correct != expected_pass.correct)
          ++mismatches[static_cast<std::size_t>(t)];
        ForwardCache<float> cache;
        net.forward(X.topRows(7), cache);
        if (cache.A(2) != expected[1]) ++mismatches[static_cast<std::size_t>(t)];
      }
    });
  }
  for (auto& thread : threads) thread.join();
  for (int t = 0; t < 8; ++t) EXPECT_EQ(mismatches[static_cast<std::size_t>(t)], 0) << "thread " << t;
}

TEST(Concurrency, ACopyPredictsLikeTheOriginalAndTrainsOnItsOwn) {
  Network<double> net(3, {{5, Activation::tanh}, {2, Activation::softmax}}, Loss::cross_entropy, 2);
  Network<double> copy = net;
  EXPECT_EQ(copy.parameters(), net.parameters());
  const Matrix<double> X = Matrix<double>::Constant(4, 3, 0.5);
  Matrix<double> Y = Matrix<double>::Zero(4, 2);
  Y.col(0).setOnes();
  copy.train_epoch(X, Y, nullptr, 2, false);
  EXPECT_NE(copy.parameters(), net.parameters());
}

template <class Call>
void expect_size_refused(Call call, const std::string& expected_part) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one saying '" << expected_part << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(expected_part), std::string::npos) << error.what();
  }
}

TEST(CheckedSizes, ProductsOfDimensionsThatOverflowAreRefusedNamingTheLayer) {
  const Index huge = Index{1} << 62;
  expect_size_refused([&] { Network<float>(2, {{huge, Activation::relu}}); },
                      "layer 0 (2 inputs, 4611686018427387904 units) needs too many weights");
  expect_size_refused([&] { Network<float>(Index{1} << 61, {{4, Activation::relu}}); },
                      "layer 0 (2305843009213693952 inputs, 4 units)");
  expect_size_refused([&] { Network<double>(1, {{Index{1} << 31, Activation::relu}, {Index{1} << 33, Activation::identity}}); },
                      "layer 1 (2147483648 inputs, 8589934592 units)");
  // Each product fits, their sum does not.
  expect_size_refused([&] { Network<double>(1, {{Index{1} << 59, Activation::relu}}); },
                      "layer 0: the parameter total is too large");
}

}  // namespace
}  // namespace fastmlp
