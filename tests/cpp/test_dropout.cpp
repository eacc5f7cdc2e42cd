// Inverted dropout (cpp/src/dropout.cpp): a training step worked out from the recovered mask,
// central differences with the mask held fixed (the generator's state restored before every
// pass), the keep rate, determinism, inference that never drops, rate 0 equal to no dropout,
// shuffling untouched by dropout, refusals, and no allocation per batch.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "fastmlp/network.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;

template <class T>
Matrix<T> uniform_matrix(Index n_rows, Index n_cols, double low, double high, std::uint64_t seed) {
  Random random(seed);
  Matrix<T> M(n_rows, n_cols);
  for (Index i = 0; i < n_rows; ++i)
    for (Index j = 0; j < n_cols; ++j) M(i, j) = static_cast<T>(low + (high - low) * random.uniform());
  return M;
}

LayerSpec hidden(Index units, Activation activation, double dropout) {
  return LayerSpec{units, activation, 0.01, Initializer::automatic, dropout};
}

// d = 3 → 5 tanh (p = 0.4) → 4 sigmoid (p = 0.25) → 2 identity, mean squared error.
std::vector<LayerSpec> two_dropping_layers() {
  return {hidden(5, Activation::tanh, 0.4), hidden(4, Activation::sigmoid, 0.25), hidden(2, Activation::identity, 0.0)};
}

TEST(Dropout, ATrainingStepWorkedOutFromTheRecoveredMasks) {
  const Index m = 7;
  const Matrix<double> X = uniform_matrix<double>(m, 3, -1.5, 1.5, 1);
  const Matrix<double> Y = uniform_matrix<double>(m, 2, -1.0, 1.0, 2);
  Network<double> net(3, two_dropping_layers(), Loss::mse, 11);
  net.set_optimizer(Optimizer<double>(SGDConfig{0.1}));
  const Matrix<double> W0 = net.weights(0), W1 = net.weights(1), W2 = net.weights(2);
  const RowVector<double> b0 = net.bias(0), b1 = net.bias(1), b2 = net.bias(2);

  const double loss = net.train_batch(X, Y);
  ASSERT_TRUE(net.cached_dropping());
  const Matrix<double> M0 = net.M(0), M1 = net.M(1);
  // Masks are 0/1 and, at these rates, drop some units and keep others.
  EXPECT_TRUE(((M0.array() == 0.0) || (M0.array() == 1.0)).all());
  EXPECT_GT(M0.sum(), 0.0);
  EXPECT_LT(M0.sum(), static_cast<double>(M0.size()));

  // The notes' arithmetic, written out independently of the engine.
  const Matrix<double> Z0 = (X * W0).rowwise() + b0;
  const Matrix<double> A0 = Z0.array().tanh().matrix();
  const Matrix<double> D0 = (A0.array() * M0.array() / 0.6).matrix();  // Ã0 = A0 ⊙ M0 / (1 − p)
  const Matrix<double> Z1 = (D0 * W1).rowwise() + b1;
  const Matrix<double> A1 = (1.0 / (1.0 + (-Z1.array()).exp())).matrix();
  const Matrix<double> D1 = (A1.array() * M1.array() / 0.75).matrix();
  const Matrix<double> A2 = (D1 * W2).rowwise() + b2;
  const double expected_loss = (A2 - Y).array().square().mean();
  EXPECT_NEAR(loss, expected_loss, 1e-13);

  const Matrix<double> dZ2 = 2.0 * (A2 - Y) / static_cast<double>(m * 2);
  const Matrix<double> dD1 = dZ2 * W2.transpose();
  const Matrix<double> dZ1 = (dD1.array() * M1.array() / 0.75 * A1.array() * (1.0 - A1.array())).matrix();
  const Matrix<double> dD0 = dZ1 * W1.transpose();
  const Matrix<double> dZ0 = (dD0.array() * M0.array() / 0.6 * (1.0 - A0.array().square())).matrix();
  EXPECT_LT(max_scaled_difference(net.weights(2), W2 - 0.1 * D1.transpose() * dZ2), 1e-13);
  EXPECT_LT(max_scaled_difference(net.bias(2), b2 - 0.1 * dZ2.colwise().sum()), 1e-13);
  EXPECT_LT(max_scaled_difference(net.weights(1), W1 - 0.1 * D0.transpose() * dZ1), 1e-13);
  EXPECT_LT(max_scaled_difference(net.bias(1), b1 - 0.1 * dZ1.colwise().sum()), 1e-13);
  EXPECT_LT(max_scaled_difference(net.weights(0), W0 - 0.1 * X.transpose() * dZ0), 1e-13);
  EXPECT_LT(max_scaled_difference(net.bias(0), b0 - 0.1 * dZ0.colwise().sum()), 1e-13);
}

TEST(Dropout, GradientsMatchCentralDifferencesWithTheMaskHeldFixed) {
  const Index m = 6;
  const Matrix<double> X = uniform_matrix<double>(m, 3, -2.0, 2.0, 3);
  const Matrix<double> Y = uniform_matrix<double>(m, 2, -1.0, 1.0, 4);
  Network<double> net(3, two_dropping_layers(), Loss::mse, 5);
  const Random::State fixed = net.dropout_state();
  net.compute_gradients(X, Y, {}, true);
  const Vector<double> analytic = net.gradients();
  const Matrix<double> M0 = net.M(0);
  const double h = 1e-6;
  auto loss_with_fixed_mask = [&]() {
    net.set_dropout_state(fixed);  // the same draws, so the same mask
    return net.compute_gradients(X, Y, {}, true);
  };
  Vector<double> numeric(net.num_parameters());
  for (Index i = 0; i < net.num_parameters(); ++i) {
    const double saved = net.parameters()[i];
    net.parameters()[i] = saved + h;
    const double plus = loss_with_fixed_mask();
    net.parameters()[i] = saved - h;
    const double minus = loss_with_fixed_mask();
    net.parameters()[i] = saved;
    numeric[i] = (plus - minus) / (2 * h);
  }
  EXPECT_EQ(net.M(0), M0) << "restoring the generator's state must redraw the same mask";
  EXPECT_GT(numeric.norm(), 1e-3);
  EXPECT_LT((analytic - numeric).norm() / (analytic.norm() + numeric.norm()), 1e-7);
  // Without dropout the gradient differs: the check is about the dropped network.
  net.compute_gradients(X, Y, {}, false);
  EXPECT_GT((net.gradients() - analytic).norm(), 1e-3 * analytic.norm());
}

TEST(Dropout, KeepsUnitsAtOneMinusTheRate) {
  const Index m = 4000;
  const Matrix<float> X = uniform_matrix<float>(m, 2, -1.0, 1.0, 6);
  for (double rate : {0.1, 0.5, 0.8}) {
    Network<float> net(2, {hidden(25, Activation::relu, rate), hidden(1, Activation::identity, 0.0)}, Loss::mse, 7);
    ForwardCache<float> cache;
    net.forward_training(X, cache);
    const double n = static_cast<double>(m * 25);
    const double kept = static_cast<double>(cache.M(0).sum()) / n;
    // Five standard deviations of a binomial proportion over n = 100 000 units.
    EXPECT_NEAR(kept, 1.0 - rate, 5.0 * std::sqrt(rate * (1.0 - rate) / n)) << "rate " << rate;
  }
}

TEST(Dropout, PredictAndEvaluateNeverDrop) {
  const Matrix<double> X = uniform_matrix<double>(9, 3, -1.0, 1.0, 8);
  const Matrix<double> Y = uniform_matrix<double>(9, 2, -1.0, 1.0, 9);
  Network<double> dropping(3, two_dropping_layers(), Loss::mse, 12);
  std::vector<LayerSpec> plain_layers = two_dropping_layers();
  for (auto& spec : plain_layers) spec.dropout = 0.0;
  Network<double> plain(3, plain_layers, Loss::mse, 12);
  Matrix<double> first(9, 2), second(9, 2), reference(9, 2);
  dropping.predict(X, first);
  dropping.predict(X, second);
  plain.predict(X, reference);
  EXPECT_EQ(first, reference);
  EXPECT_EQ(second, reference);
  EXPECT_EQ(dropping.evaluate(X, Y).loss, plain.evaluate(X, Y).loss);
  dropping.forward(X);
  EXPECT_FALSE(dropping.cached_dropping());
  EXPECT_EQ(Matrix<double>(dropping.output()), reference);
}

TEST(Dropout, RateZeroIsNoDropoutBitForBit) {
  const Matrix<float> X = uniform_matrix<float>(50, 3, -1.0, 1.0, 10);
  const Matrix<float> Y = uniform_matrix<float>(50, 2, -1.0, 1.0, 11);
  std::vector<LayerSpec> zero = two_dropping_layers();
  for (auto& spec : zero) spec.dropout = 0.0;
  std::vector<LayerSpec> none = zero;
  for (auto& spec : none) spec = LayerSpec{spec.units, spec.activation};
  Network<float> a(3, zero, Loss::mse, 13), b(3, none, Loss::mse, 13);
  a.set_optimizer(Optimizer<float>(AdamConfig{}));
  b.set_optimizer(Optimizer<float>(AdamConfig{}));
  a.train_epochs(X, Y, {}, 8, true, 3);
  b.train_epochs(X, Y, {}, 8, true, 3);
  EXPECT_EQ(a.parameters(), b.parameters());
}

TEST(Dropout, ItsOwnStreamLeavesTheShufflingAsItWas) {
  const Matrix<double> X = uniform_matrix<double>(40, 3, -1.0, 1.0, 14);
  const Matrix<double> Y = uniform_matrix<double>(40, 2, -1.0, 1.0, 15);
  std::vector<LayerSpec> none = two_dropping_layers();
  for (auto& spec : none) spec.dropout = 0.0;
  Network<double> dropping(3, two_dropping_layers(), Loss::mse, 16), plain(3, none, Loss::mse, 16);
  dropping.train_epochs(X, Y, {}, 8, true, 2);
  plain.train_epochs(X, Y, {}, 8, true, 2);
  EXPECT_EQ(dropping.shuffle_state(), plain.shuffle_state());
  EXPECT_NE(dropping.parameters(), plain.parameters());
}

TEST(Dropout, SeededAndResumable) {
  const Matrix<double> X = uniform_matrix<double>(40, 3, -1.0, 1.0, 17);
  const Matrix<double> Y = uniform_matrix<double>(40, 2, -1.0, 1.0, 18);
  Network<double> a(3, two_dropping_layers(), Loss::mse, 19), b(3, two_dropping_layers(), Loss::mse, 19),
      c(3, two_dropping_layers(), Loss::mse, 20);  // another seed: other masks
  a.train_epochs(X, Y, {}, 8, true, 2);
  b.train_epochs(X, Y, {}, 8, true, 2);
  EXPECT_EQ(a.parameters(), b.parameters());
  c.train_epochs(X, Y, {}, 8, true, 2);
  EXPECT_NE(c.parameters(), a.parameters());
  // A copy of a's state (parameters, optimiser, both generators) continues exactly as a does.
  b = a;
  a.train_epochs(X, Y, {}, 8, true, 1);
  b.train_epochs(X, Y, {}, 8, true, 1);
  EXPECT_EQ(a.parameters(), b.parameters());
  Network<double> d(3, two_dropping_layers(), Loss::mse, 0);
  d.set_parameters(Vector<double>(b.parameters()));
  d.set_shuffle_state(b.shuffle_state());
  d.set_dropout_state(b.dropout_state());
  a.train_epochs(X, Y, {}, 8, true, 1);
  d.train_epochs(X, Y, {}, 8, true, 1);
  EXPECT_EQ(a.parameters(), d.parameters());
  // The whole epoch follows one reseed: reseed_training restarts both streams.
  a.reseed_training(3);
  d.reseed_training(3);
  EXPECT_EQ(a.dropout_state(), d.dropout_state());
}

TEST(Dropout, RefusesRatesOutsideZeroToOneAndTheOutputLayer) {
  for (double rate : {-0.1, 1.0, 1.5, std::nan("")}) {
    try {
      Network<double> net(3, {hidden(4, Activation::relu, rate), hidden(1, Activation::identity, 0.0)}, Loss::mse);
      ADD_FAILURE() << "rate " << rate << " was accepted";
    } catch (const std::invalid_argument& error) {
      EXPECT_NE(std::string(error.what()).find("layer 0: dropout"), std::string::npos) << error.what();
    }
  }
  try {
    Network<double> net(3, {hidden(4, Activation::relu, 0.0), hidden(1, Activation::identity, 0.5)}, Loss::mse);
    ADD_FAILURE() << "an output layer that drops was accepted";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("output layer cannot drop"), std::string::npos) << error.what();
  }
}

TEST(NoAllocation, SecondEpochWithDropoutAllocatesNothing) {
  const Index m = 6 * 16 + 7;
  const Matrix<float> X = uniform_matrix<float>(m, 3, -1.0, 1.0, 21);
  const Matrix<float> Y = uniform_matrix<float>(m, 2, -1.0, 1.0, 22);
  for (bool shuffle : {true, false}) {
    Network<float> net(3, two_dropping_layers(), Loss::mse, 23);
    ASSERT_TRUE(net.train_epoch(X, Y, {}, 16, shuffle).finite);
    Eigen::internal::set_is_malloc_allowed(false);
    const PassResult second = net.train_epoch(X, Y, {}, 16, shuffle);
    Eigen::internal::set_is_malloc_allowed(true);
    EXPECT_TRUE(second.finite);
    EXPECT_EQ(second.samples, m);
  }
}

}  // namespace
}  // namespace fastmlp
