// The engine's thread count (cpp/src/threads.cpp).
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "fastmlp/network.hpp"
#include "fastmlp/threads.hpp"
#include "test_support.hpp"

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
// across two threads (cpp/src/parallel.hpp); under the sanitizers this also runs that
// parallel path. Each thread computes whole output elements, so the results agree.
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

// The weights and predictions of a network whose every product is split into slabs.
Vector<float> train_wide(int threads) {
  Matrix<float> X;
  Network<float> net = testing::train_wide_network(threads, 9, Optimizer<float>(SGDConfig{0.05, 0.9, false, 0.0}), &X);
  Matrix<float> P(X.rows(), 4);
  net.predict(X, P);
  Vector<float> result(net.parameters().size() + P.size());
  result << net.parameters(), Eigen::Map<const Vector<float>>(P.data(), P.size());
  return result;
}

// The slabs of a product depend on its shape alone (cpp/src/parallel.hpp): bit-identical.
TEST_F(Threads, OneToFourThreadsGiveBitIdenticalWeights) {
  const Vector<float> one = train_wide(1);
  for (int threads : {2, 3, 4}) {
    const Vector<float> other = train_wide(threads);
    EXPECT_TRUE((other.array() == one.array()).all()) << threads << " threads differ from one";
  }
}

// libgomp's pool hangs a forked child that uses it again; the engine's own pool is dropped in
// the child and started afresh. The child must finish within a bounded time.
TEST_F(Threads, ForkedChildTrainsAfterThreadedWork) {
  const Vector<float> parent = train_wide(2);
  const pid_t child = fork();
  ASSERT_GE(child, 0);
  if (child == 0) {
    const bool same = (train_wide(2).array() == parent.array()).all();
    _exit(same ? 0 : 3);
  }
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  pid_t done = 0;
  while ((done = waitpid(child, &status, WNOHANG)) == 0 && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(20));
  if (done == 0) {
    kill(child, SIGKILL);
    waitpid(child, &status, 0);
    FAIL() << "the forked child did not finish within 120 s";
  }
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "the child's training differed from the parent's";
}

}  // namespace
}  // namespace fastmlp
