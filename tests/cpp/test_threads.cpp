// The engine's thread count (cpp/src/threads.cpp).
#include <gtest/gtest.h>

#include <algorithm>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fastmlp/network.hpp"
#include "fastmlp/threads.hpp"

namespace fastmlp {
namespace {

// Restores the process-wide setting whatever a test does with it.
class Threads : public ::testing::Test {
 protected:
  void TearDown() override { set_num_threads(saved_); }
  const int saved_ = get_num_threads();
};

TEST_F(Threads, OneThreadIsAlwaysPossible) {
  set_num_threads(1);
  EXPECT_EQ(get_num_threads(), 1);
}

TEST_F(Threads, ZeroMeansEveryCore) {
  set_num_threads(0);
#ifdef _OPENMP
  EXPECT_EQ(get_num_threads(), static_cast<int>(std::max(1u, std::thread::hardware_concurrency())));
#else
  EXPECT_EQ(get_num_threads(), 1);  // without OpenMP Eigen runs on one thread whatever is asked
#endif
}

TEST_F(Threads, ExplicitCountIsKept) {
#ifdef _OPENMP
  set_num_threads(3);
  EXPECT_EQ(get_num_threads(), 3);
#else
  GTEST_SKIP() << "built without OpenMP";
#endif
}

TEST_F(Threads, NegativeCountIsRefusedAndChangesNothing) {
  set_num_threads(1);
  try {
    set_num_threads(-2);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("-2"), std::string::npos) << error.what();
  }
  EXPECT_EQ(get_num_threads(), 1);
}

// Products of 128 × 128 × 128 multiply-adds are large enough for the engine to split them
// across two threads (cpp/include/fastmlp/parallel.hpp); under the sanitizers this also runs
// that parallel path. Each thread computes whole output elements, so the results agree.
TEST_F(Threads, TwoThreadsTrainLikeOne) {
#ifndef _OPENMP
  GTEST_SKIP() << "built without OpenMP";
#endif
  Random random(4);
  Matrix<double> X(256, 16);
  for (Index i = 0; i < X.size(); ++i) X.data()[i] = 2.0 * random.uniform() - 1.0;
  Matrix<double> Y = Matrix<double>::Zero(256, 3);
  for (Index i = 0; i < 256; ++i) Y(i, static_cast<Index>(random.below(3))) = 1.0;
  const std::vector<LayerSpec> layers = {{128, Activation::relu}, {128, Activation::tanh}, {3, Activation::softmax}};
  Network<double> one(16, layers, Loss::cross_entropy, 6), two(16, layers, Loss::cross_entropy, 6);
  for (auto* net : {&one, &two}) net->set_optimizer(Optimizer<double>(SGDConfig{0.1, 0.9, false, 0.0}));
  set_num_threads(1);
  const PassResult r1 = one.train_epoch(X, Y, nullptr, 128, true);
  set_num_threads(2);
  const PassResult r2 = two.train_epoch(X, Y, nullptr, 128, true);
  EXPECT_NEAR(r1.loss, r2.loss, 1e-12);
  const double scale = one.parameters().cwiseAbs().maxCoeff();
  EXPECT_LE((one.parameters() - two.parameters()).cwiseAbs().maxCoeff(), 1e-12 * scale);
}

}  // namespace
}  // namespace fastmlp
