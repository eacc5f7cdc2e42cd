// Dense layers and whole networks (cpp/src/network.cpp): forward and backward worked by hand,
// finite-difference gradient checks of every hidden activation with every output/loss pair,
// refusals, epochs and their rollback, determinism, and no allocation per batch.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <cstring>
#include <cstdio>
#include <limits>
#include <stdexcept>
#include <string>
#include <tuple>
#include <vector>

#include "fastmlp/network.hpp"
#include "fastmlp/threads.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;
using testing::rows;
using testing::tolerance;

template <class T>
Matrix<T> uniform_matrix(Index n_rows, Index n_cols, double low, double high, std::uint64_t seed) {
  Random random(seed);
  Matrix<T> M(n_rows, n_cols);
  for (Index i = 0; i < n_rows; ++i)
    for (Index j = 0; j < n_cols; ++j) M(i, j) = static_cast<T>(low + (high - low) * random.uniform());
  return M;
}

template <class T>
Matrix<T> one_hot(Index n_rows, Index n_classes, std::uint64_t seed) {
  Random random(seed);
  Matrix<T> Y = Matrix<T>::Zero(n_rows, n_classes);
  for (Index i = 0; i < n_rows; ++i) Y(i, static_cast<Index>(random.below(static_cast<std::uint64_t>(n_classes)))) = 1;
  return Y;
}

template <class T>
Matrix<T> binary(Index n_rows, Index n_cols, std::uint64_t seed) {
  Random random(seed);
  Matrix<T> Y(n_rows, n_cols);
  for (Index i = 0; i < n_rows; ++i)
    for (Index j = 0; j < n_cols; ++j) Y(i, j) = static_cast<T>(random.below(2));
  return Y;
}

// Targets of the kind each loss expects: one-hot rows, {0, 1} entries or real values.
template <class T>
Matrix<T> targets_for(Loss loss, Index n_rows, Index n_outputs, std::uint64_t seed) {
  switch (loss) {
    case Loss::cross_entropy: return one_hot<T>(n_rows, n_outputs, seed);
    case Loss::mse: return uniform_matrix<T>(n_rows, n_outputs, -1.0, 1.0, seed);
    default: return binary<T>(n_rows, n_outputs, seed);
  }
}

SGDConfig sgd(double lr, double momentum = 0.0, bool nesterov = false, double weight_decay = 0.0) {
  return SGDConfig{lr, momentum, nesterov, weight_decay};
}

// ---------------------------------------------------------------------------------------------
// A 2-2-1 network worked by hand.
//
//   X = [[1, 2], [0, −1]]                         (m = 2, d = 2)
//   W0 = [[0.5, −1], [0.25, 0.5]], b0 = [0, 0.25], relu
//   W1 = [[1], [−2]],              b1 = [0.5],     identity, mean squared error
//   Y = [[2], [0]]
//
// Forward:
//   Z0 = X W0 + b0 = [[0.5 + 0.5, −1 + 1 + 0.25], [−0.25, −0.5 + 0.25]] = [[1, 0.25], [−0.25, −0.25]]
//   A0 = relu(Z0) = [[1, 0.25], [0, 0]]
//   Z1 = A0 W1 + b1 = [[1 − 0.5 + 0.5], [0.5]] = [[1], [0.5]] = A1
//   L = mean((A1 − Y)²) = ((−1)² + 0.5²)/2 = 0.625
// Backward:
//   dZ1 = 2 (A1 − Y)/(m·k) = A1 − Y = [[−1], [0.5]]
//   dW1 = A0ᵀ dZ1 = [[1·(−1) + 0·0.5], [0.25·(−1) + 0·0.5]] = [[−1], [−0.25]];  db1 = [−0.5]
//   dA0 = dZ1 W1ᵀ = [[−1, 2], [0.5, −1]];  dZ0 = dA0 ⊙ [Z0 > 0] = [[−1, 2], [0, 0]]
//   dW0 = Xᵀ dZ0 = [[−1, 2], [−2, 4]];  db0 = [−1, 2]
// One SGD step with lr = 0.1:
//   W0 = [[0.6, −1.2], [0.45, 0.1]], b0 = [0.1, 0.05], W1 = [[1.1], [−1.975]], b1 = [0.55]
// ---------------------------------------------------------------------------------------------
template <class T>
Network<T> hand_worked_network() {
  Network<T> net(2, {{2, Activation::relu}, {1, Activation::identity}}, Loss::mse, 0);
  net.weights(0) << T(0.5), T(-1), T(0.25), T(0.5);
  net.bias(0) << T(0), T(0.25);
  net.weights(1) << T(1), T(-2);
  net.bias(1) << T(0.5);
  return net;
}

template <class T>
class HandWorkedNetwork : public ::testing::Test {
 protected:
  Network<T> net = hand_worked_network<T>();
  const Matrix<T> X = rows<T>({{1, 2}, {0, -1}});
  const Matrix<T> Y = rows<T>({{2}, {0}});
};

using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(HandWorkedNetwork, Precisions);

TYPED_TEST(HandWorkedNetwork, ParametersLiveInOneFlatVectorLayerByLayer) {
  // [W0 row-major, b0, W1, b1]: (2 + 1)·2 + (2 + 1)·1 = 9 parameters.
  ASSERT_EQ(this->net.num_parameters(), 9);
  const Matrix<double> flat = rows<double>({{0.5, -1, 0.25, 0.5, 0, 0.25, 1, -2, 0.5}});
  EXPECT_EQ(max_scaled_difference(this->net.parameters().transpose(), flat), 0.0);
  EXPECT_EQ(this->net.weights(0).rows(), 2);  // n_in × n_out
  EXPECT_EQ(this->net.weights(1).rows(), 2);
  EXPECT_EQ(this->net.weights(1).cols(), 1);
  EXPECT_EQ(this->net.layer_input_dim(1), 2);
}

TYPED_TEST(HandWorkedNetwork, ForwardCachesZAndAOfEveryLayer) {
  this->net.forward(this->X);
  ASSERT_EQ(this->net.cached_rows(), 2);
  EXPECT_EQ(max_scaled_difference(this->net.Z(0), rows<double>({{1, 0.25}, {-0.25, -0.25}})), 0.0);
  EXPECT_EQ(max_scaled_difference(this->net.A(0), rows<double>({{1, 0.25}, {0, 0}})), 0.0);
  EXPECT_EQ(max_scaled_difference(this->net.Z(1), rows<double>({{1}, {0.5}})), 0.0);
  EXPECT_EQ(max_scaled_difference(this->net.output(), rows<double>({{1}, {0.5}})), 0.0);
}

TYPED_TEST(HandWorkedNetwork, BackwardGivesTheHandWorkedGradients) {
  const double loss = this->net.compute_gradients(this->X, this->Y);
  EXPECT_NEAR(loss, 0.625, tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.weight_gradient(1), rows<double>({{-1}, {-0.25}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.bias_gradient(1), rows<double>({{-0.5}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.weight_gradient(0), rows<double>({{-1, 2}, {-2, 4}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.bias_gradient(0), rows<double>({{-1, 2}})), tolerance<TypeParam>());
  // The gradient vector has the parameters' layout.
  const Matrix<double> flat = rows<double>({{-1, 2, -2, 4, -1, 2, -1, -0.25, -0.5}});
  EXPECT_LE(max_scaled_difference(this->net.gradients().transpose(), flat), tolerance<TypeParam>());
}

TYPED_TEST(HandWorkedNetwork, TrainBatchReturnsTheLossBeforeOneSgdStep) {
  this->net.set_optimizer(Optimizer<TypeParam>(sgd(0.1)));
  EXPECT_NEAR(this->net.train_batch(this->X, this->Y), 0.625, tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.weights(0), rows<double>({{0.6, -1.2}, {0.45, 0.1}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.bias(0), rows<double>({{0.1, 0.05}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.weights(1), rows<double>({{1.1}, {-1.975}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.bias(1), rows<double>({{0.55}})), tolerance<TypeParam>());
}

TYPED_TEST(HandWorkedNetwork, SampleWeightsScaleEachSamplesShare) {
  // Weights [1, 0]: only sample 1 counts: L = (−1)²/2 = 0.5, dZ1 = [[−1], [0]],
  // dW1 = A0ᵀ dZ1 = [[−1], [−0.25]], db1 = [−1]; dZ0 = [[−1, 2], [0, 0]] as before.
  const std::vector<TypeParam> weights{1, 0};
  EXPECT_NEAR(this->net.compute_gradients(this->X, this->Y, weights), 0.5, tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.bias_gradient(1), rows<double>({{-1}})), tolerance<TypeParam>());
  EXPECT_LE(max_scaled_difference(this->net.weight_gradient(0), rows<double>({{-1, 2}, {-2, 4}})), tolerance<TypeParam>());
}

TEST(HandWorkedSoftmaxRegression, ZeroWeightsGiveUniformProbabilities) {
  // One softmax layer, zero weights: P = [1/3, 1/3, 1/3] whatever x. x = [1, −2], class 1:
  // L = log 3; dZ = P − Y = [1/3, −2/3, 1/3]; dW = xᵀ dZ = [[1/3, −2/3, 1/3], [−2/3, 4/3, −2/3]].
  Network<double> net(2, {{3, Activation::softmax, 0.01, Initializer::zeros}}, Loss::cross_entropy, 0);
  const Matrix<double> X = rows<double>({{1, -2}});
  const Matrix<double> Y = rows<double>({{0, 1, 0}});
  EXPECT_NEAR(net.compute_gradients(X, Y), std::log(3.0), 1e-15);
  EXPECT_LE(max_scaled_difference(net.output(), rows<double>({{1.0 / 3, 1.0 / 3, 1.0 / 3}})), 1e-15);
  EXPECT_LE(max_scaled_difference(net.weight_gradient(0),
                                  rows<double>({{1.0 / 3, -2.0 / 3, 1.0 / 3}, {-2.0 / 3, 4.0 / 3, -2.0 / 3}})),
            1e-15);
  EXPECT_LE(max_scaled_difference(net.bias_gradient(0), rows<double>({{1.0 / 3, -2.0 / 3, 1.0 / 3}})), 1e-15);
}

// ---------------------------------------------------------------------------------------------
// Central finite differences of the loss against backpropagation, float64, for every hidden
// activation combined with every output/loss pair that the engine accepts.
// ---------------------------------------------------------------------------------------------
struct OutputPair {
  Activation output;
  Loss loss;
  Index units;
};

const std::vector<Activation> kHiddenActivations = {
    Activation::identity, Activation::sigmoid, Activation::tanh,     Activation::relu,
    Activation::leaky_relu, Activation::elu,   Activation::softplus, Activation::silu};

const std::vector<OutputPair> kOutputPairs = {
    {Activation::softmax, Loss::cross_entropy, 3},   {Activation::sigmoid, Loss::binary_cross_entropy, 2},
    {Activation::identity, Loss::mse, 2},            {Activation::sigmoid, Loss::mse, 2},
    {Activation::tanh, Loss::mse, 2},                {Activation::relu, Loss::mse, 2},
    {Activation::leaky_relu, Loss::mse, 2},          {Activation::elu, Loss::mse, 2},
    {Activation::softplus, Loss::mse, 2},            {Activation::silu, Loss::mse, 2},
    {Activation::identity, Loss::hinge, 2},          {Activation::step, Loss::perceptron, 2},
};

bool has_kink_at_zero(Activation activation) {
  return activation == Activation::relu || activation == Activation::leaky_relu || activation == Activation::elu ||
         activation == Activation::step;
}

// The smallest distance of any pre-activation from a point where the function being checked
// is not smooth: zero for kinked activations, the margin t·z = 1 for hinge.
double distance_from_kinks(const Network<double>& net, const Matrix<double>& Y) {
  double distance = std::numeric_limits<double>::infinity();
  for (Index l = 0; l < net.num_layers(); ++l) {
    const Activation activation = net.layer(l).activation;
    if (has_kink_at_zero(activation)) distance = std::min(distance, net.Z(l).cwiseAbs().minCoeff());
  }
  if (net.loss() == Loss::hinge) {
    const Matrix<double> t = 2.0 * Y.array() - 1.0;
    const Index last = net.num_layers() - 1;
    distance = std::min(distance, (t.array() * net.Z(last).array() - 1.0).abs().minCoeff());
  }
  return distance;
}

// Whether the loss depends on the parameters at all for this draw: a relu output dead on every
// sample, or a perceptron or SVM with every sample already right, would make the check vacuous.
bool gradient_flows(const Network<double>& net, const Matrix<double>& Y) {
  const Index last = net.num_layers() - 1;
  const auto Z = net.Z(last);
  switch (net.loss()) {
    case Loss::perceptron: return ((Z.array() > 0.0).cast<double>() != Y.array()).any();
    case Loss::hinge: return ((2.0 * Y.array() - 1.0) * Z.array() < 1.0).any();
    default: return net.layer(last).activation != Activation::relu || (Z.array() > 0.0).any();
  }
}

struct GradientComparison {
  double relative_error;  // ‖analytic − numeric‖ / (‖analytic‖ + ‖numeric‖)
  double numeric_norm;
  Vector<double> analytic;
};

GradientComparison compare_with_finite_differences(Network<double>& net, const Matrix<double>& X,
                                                   const Matrix<double>& Y, SampleWeights<double> weights) {
  const double h = 1e-6;
  net.compute_gradients(X, Y, weights);
  GradientComparison result{0.0, 0.0, net.gradients()};
  Vector<double> numeric(net.num_parameters());
  for (Index i = 0; i < net.num_parameters(); ++i) {
    const double saved = net.parameters()[i];
    net.parameters()[i] = saved + h;
    const double plus = net.evaluate(X, Y, weights).loss;
    net.parameters()[i] = saved - h;
    const double minus = net.evaluate(X, Y, weights).loss;
    net.parameters()[i] = saved;
    numeric[i] = (plus - minus) / (2 * h);
  }
  result.numeric_norm = numeric.norm();
  result.relative_error = (result.analytic - numeric).norm() / (result.analytic.norm() + result.numeric_norm);
  return result;
}

class GradientCheck : public ::testing::TestWithParam<std::tuple<Activation, OutputPair>> {};

TEST_P(GradientCheck, BackpropagationMatchesCentralDifferences) {
  const auto [hidden, pair] = GetParam();
  const Index m = 6;
  const Matrix<double> X = uniform_matrix<double>(m, 3, -2.0, 2.0, 100);
  const Matrix<double> Y = targets_for<double>(pair.loss, m, pair.units, 200);
  const std::vector<double> weights{0.5, 2.0, 1.0, 0.25, 1.5, 0.75};
  // Two hidden layers, so that the chain rule also runs from one hidden layer into another;
  // a slope of 0.1 makes a wrong leaky_relu slope visible.
  const std::vector<LayerSpec> layers = {{4, hidden, 0.1}, {3, hidden, 0.1}, {pair.units, pair.output, 0.1}};

  // Away from kinks: the finite difference must not straddle a point where the derivative jumps.
  // Try seeds until every pre-activation is at least 1e-3 from one (a step of 1e-6 moves Z by
  // about 1e-5 at most here).
  std::uint64_t seed = 0;
  for (; seed < 50; ++seed) {
    Network<double> probe(3, layers, pair.loss, seed);
    probe.forward(X);
    if (distance_from_kinks(probe, Y) > 1e-3 && gradient_flows(probe, Y)) break;
  }
  ASSERT_LT(seed, 50u) << "no initialisation keeps every pre-activation away from the kinks with a live output";

  Network<double> net(3, layers, pair.loss, seed);
  const GradientComparison plain = compare_with_finite_differences(net, X, Y, nullptr);
  EXPECT_GT(plain.numeric_norm, 1e-6) << "the check would be vacuous";
  EXPECT_LT(plain.relative_error, 1e-6) << "analytic: " << plain.analytic.transpose();

  const GradientComparison weighted = compare_with_finite_differences(net, X, Y, weights);
  EXPECT_GT(weighted.numeric_norm, 1e-6);
  EXPECT_LT(weighted.relative_error, 1e-6) << "analytic: " << weighted.analytic.transpose();
  // And the weights did change the gradient.
  EXPECT_GT((weighted.analytic - plain.analytic).norm(), 1e-3 * plain.analytic.norm());
}

std::string gradient_check_name(const ::testing::TestParamInfo<std::tuple<Activation, OutputPair>>& info) {
  const auto& [hidden, pair] = info.param;
  return "hidden_" + activation_name(hidden) + "_output_" + activation_name(pair.output) + "_" + loss_name(pair.loss);
}

INSTANTIATE_TEST_SUITE_P(EveryHiddenActivationWithEveryOutputLossPair, GradientCheck,
                         ::testing::Combine(::testing::ValuesIn(kHiddenActivations), ::testing::ValuesIn(kOutputPairs)),
                         gradient_check_name);

// ---------------------------------------------------------------------------------------------
// Refusals.
// ---------------------------------------------------------------------------------------------
template <class Call>
void expect_invalid_argument(Call call, const std::string& expected_part) {
  try {
    call();
    ADD_FAILURE() << "no exception; expected one saying '" << expected_part << "'";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find(expected_part), std::string::npos) << error.what();
  }
}

TEST(NetworkRefusals, LayersWithoutUnits) {
  expect_invalid_argument([] { Network<double>(3, {{0, Activation::relu}, {1, Activation::sigmoid}}); },
                          "layer 0 has 0 units");
  expect_invalid_argument([] { Network<double>(3, {{4, Activation::relu}, {-1, Activation::sigmoid}}); },
                          "layer 1 has -1 units");
  expect_invalid_argument([] { Network<double>(3, {}); }, "at least one layer");
  expect_invalid_argument([] { Network<double>(0, {{1, Activation::sigmoid}}); }, "input_dim");
}

TEST(NetworkRefusals, StepInAHiddenLayerSaysWhy) {
  expect_invalid_argument(
      [] { Network<double>(2, {{3, Activation::step}, {1, Activation::sigmoid}}, Loss::binary_cross_entropy); },
      "step has no useful derivative");
  expect_invalid_argument([] { Network<double>(2, {{3, Activation::step}, {1, Activation::step}}); }, "perceptron");
  // At the output of a perceptron it is fine.
  EXPECT_NO_THROW(Network<double>(2, {{1, Activation::step}}, Loss::perceptron));
}

TEST(NetworkRefusals, SoftmaxInAHiddenLayerSaysWhy) {
  expect_invalid_argument(
      [] { Network<double>(2, {{3, Activation::softmax}, {2, Activation::softmax}}, Loss::cross_entropy); },
      "layer 0: softmax");
  expect_invalid_argument([] { Network<double>(2, {{4, Activation::relu}, {3, Activation::softmax}, {1, Activation::identity}}); },
                          "belongs only at the output");
}

TEST(NetworkRefusals, OutputThatDoesNotFitTheLoss) {
  expect_invalid_argument([] { Network<double>(2, {{3, Activation::sigmoid}}, Loss::cross_entropy); },
                          "cross_entropy needs a softmax output");
  Network<double> net(2, {{3, Activation::softmax}}, Loss::cross_entropy);
  expect_invalid_argument([&] { net.set_loss(Loss::mse); }, "softmax belongs with cross_entropy");
  EXPECT_EQ(net.loss(), Loss::cross_entropy);  // the refused loss did not replace the old one
}

TEST(NetworkRefusals, NonFiniteSlope) {
  expect_invalid_argument(
      [] { Network<double>(2, {{3, Activation::leaky_relu, std::numeric_limits<double>::quiet_NaN()}}); },
      "negative_slope must be finite");
}

TEST(NetworkRefusals, WrongShapesOfXAndY) {
  Network<double> net(3, {{4, Activation::tanh}, {2, Activation::identity}}, Loss::mse, 1);
  const Matrix<double> X = uniform_matrix<double>(5, 3, -1, 1, 1);
  const Matrix<double> Y = uniform_matrix<double>(5, 2, -1, 1, 2);
  const Matrix<double> X_narrow = uniform_matrix<double>(5, 2, -1, 1, 3);
  const Matrix<double> Y_short = uniform_matrix<double>(4, 2, -1, 1, 4);
  const Matrix<double> Y_wide = uniform_matrix<double>(5, 3, -1, 1, 5);
  const Matrix<double> empty(0, 3);

  expect_invalid_argument([&] { net.forward(X_narrow); }, "X has 2 features but the network expects 3");
  expect_invalid_argument([&] { net.forward(empty); }, "X has no rows");
  expect_invalid_argument([&] { net.compute_gradients(X_narrow, Y); }, "X has 2 features");
  expect_invalid_argument([&] { net.train_batch(X, Y_short); }, "X has 5 rows but Y has 4");
  expect_invalid_argument([&] { net.train_batch(X, Y_wide); }, "Y has 3 columns but the network has 2 outputs");
  expect_invalid_argument([&] { net.train_epoch(X, Y_wide, nullptr, 2, true); }, "Y has 3 columns");
  expect_invalid_argument([&] { net.evaluate(X, Y_short); }, "Y has 4");
  Matrix<double> out(5, 3);
  expect_invalid_argument([&] { net.predict(X, out); }, "output buffer has the wrong shape");
  expect_invalid_argument([&] { net.train_epoch(X, Y, nullptr, 0, true); }, "batch_size must be at least 1");
}

TEST(NetworkRefusals, TrainingWithoutALoss) {
  Network<double> net(3, {{2, Activation::identity}}, Loss::none, 1);
  const Matrix<double> X = uniform_matrix<double>(4, 3, -1, 1, 1);
  const Matrix<double> Y = uniform_matrix<double>(4, 2, -1, 1, 2);
  const Vector<double> before = net.parameters();
  expect_invalid_argument([&] { net.train_batch(X, Y); }, "no loss");
  expect_invalid_argument([&] { net.train_epoch(X, Y, nullptr, 2, false); }, "no loss");
  expect_invalid_argument([&] { net.compute_gradients(X, Y); }, "no loss");
  expect_invalid_argument([&] { net.evaluate(X, Y); }, "no loss");
  EXPECT_EQ(net.parameters(), before);
  // Inference needs no loss.
  Matrix<double> out(4, 2);
  EXPECT_NO_THROW(net.predict(X, out));
}

TEST(NetworkRefusals, BackwardChecksTheTargetsItIsGiven) {
  Network<double> net(3, {{4, Activation::tanh}, {2, Activation::identity}}, Loss::mse, 1);
  const Matrix<double> X = uniform_matrix<double>(5, 3, -1, 1, 1);
  net.forward(X);
  expect_invalid_argument([&] { net.backward(X, uniform_matrix<double>(3, 2, -1, 1, 2)); }, "Y has 3");
  expect_invalid_argument([&] { net.backward(X, uniform_matrix<double>(5, 1, -1, 1, 2)); }, "Y has 1 column");
}

TEST(NetworkRefusals, BackwardNeedsTheBatchOfTheLastForward) {
  Network<double> net(3, {{2, Activation::identity}}, Loss::mse, 1);
  net.forward(uniform_matrix<double>(5, 3, -1, 1, 1));
  expect_invalid_argument(
      [&] { net.backward(uniform_matrix<double>(4, 3, -1, 1, 1), uniform_matrix<double>(4, 2, -1, 1, 2)); },
      "last passed to forward");
}

TEST(NetworkOptimizer, WeightDecayReachesEveryWeightMatrixAndNoBias) {
  // One SGD step with λ: W ← W − lr (dW + λ W), b ← b − lr db, for each layer; the gradients
  // come from a twin network without decay.
  const Matrix<double> X = uniform_matrix<double>(7, 3, -1, 1, 1);
  const Matrix<double> Y = uniform_matrix<double>(7, 2, -1, 1, 2);
  const std::vector<LayerSpec> layers = {{4, Activation::tanh}, {3, Activation::sigmoid}, {2, Activation::identity}};
  Network<double> net(3, layers, Loss::mse, 5), twin(3, layers, Loss::mse, 5);
  for (Index l = 0; l < net.num_layers(); ++l) {  // non-zero biases, so that decaying them would show
    net.bias(l).setConstant(0.5);
    twin.bias(l).setConstant(0.5);
  }
  net.set_optimizer(Optimizer<double>(sgd(0.1, 0.0, false, 0.3)));
  twin.compute_gradients(X, Y);
  net.train_batch(X, Y);
  for (Index l = 0; l < net.num_layers(); ++l) {
    const Matrix<double> W = twin.weights(l) - 0.1 * (twin.weight_gradient(l) + 0.3 * twin.weights(l));
    const RowVector<double> b = twin.bias(l) - 0.1 * twin.bias_gradient(l);
    EXPECT_LE(max_scaled_difference(net.weights(l), W), 1e-15) << "layer " << l;
    EXPECT_LE(max_scaled_difference(net.bias(l), b), 1e-15) << "layer " << l;
  }
}

// ---------------------------------------------------------------------------------------------
// Epochs.
// ---------------------------------------------------------------------------------------------
TEST(TrainEpoch, WithoutShuffleItIsTrainBatchOverConsecutiveSlices) {
  // m = 10, batch 4: slices of 4, 4 and 2 rows; the epoch's loss is their row-weighted mean,
  // the correct count is taken before each step.
  const Matrix<double> X = uniform_matrix<double>(10, 3, -2, 2, 1);
  const Matrix<double> Y = one_hot<double>(10, 3, 2);
  const std::vector<double> w{1, 2, 0.5, 1, 1, 3, 1, 0.25, 1, 2};
  const std::vector<LayerSpec> layers = {{5, Activation::tanh}, {3, Activation::softmax}};
  Network<double> epoch_net(3, layers, Loss::cross_entropy, 4);
  Network<double> batch_net(3, layers, Loss::cross_entropy, 4);
  for (auto* net : {&epoch_net, &batch_net}) net->set_optimizer(Optimizer<double>(sgd(0.5, 0.9)));

  double loss_sum = 0.0;
  Index correct = 0;
  for (Index start = 0; start < 10; start += 4) {
    const Index n = std::min<Index>(4, 10 - start);
    batch_net.forward(X.middleRows(start, n));
    correct += count_correct<double>(Activation::softmax, batch_net.output(), Y.middleRows(start, n));
    loss_sum += static_cast<double>(n) * batch_net.train_batch(X.middleRows(start, n), Y.middleRows(start, n),
                                                          SampleWeights<double>(w.data() + start, n));
  }
  const PassResult result = epoch_net.train_epoch(X, Y, w, 4, false);
  EXPECT_TRUE(result.finite);
  EXPECT_EQ(result.samples, 10);
  EXPECT_EQ(result.correct, correct);
  EXPECT_NEAR(result.loss, loss_sum / 10, 1e-14);
  EXPECT_LE(max_scaled_difference(epoch_net.parameters(), batch_net.parameters()), 1e-14);
}

TEST(TrainEpoch, ShuffledFullBatchIsOneStepOnAllTheData) {
  // A full batch in any order has the same gradient (up to the order of summation), so the
  // shuffled gather of X, Y and the sample weights must have kept rows together.
  const Matrix<double> X = uniform_matrix<double>(12, 3, -2, 2, 5);
  const Matrix<double> Y = uniform_matrix<double>(12, 2, -1, 1, 6);
  std::vector<double> w(12);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.25 + 0.5 * static_cast<double>(i % 4);
  const std::vector<LayerSpec> layers = {{6, Activation::silu}, {2, Activation::identity}};
  Network<double> shuffled(3, layers, Loss::mse, 8);
  Network<double> reference(3, layers, Loss::mse, 8);
  for (auto* net : {&shuffled, &reference}) net->set_optimizer(Optimizer<double>(sgd(0.1)));
  const double loss = reference.train_batch(X, Y, w);
  const PassResult result = shuffled.train_epoch(X, Y, w, 100, true);
  EXPECT_NEAR(result.loss, loss, 1e-14);
  EXPECT_LE(max_scaled_difference(shuffled.parameters(), reference.parameters()), 1e-14);
}

TEST(TrainEpoch, ShuffleChangesTheOrderAndIsSeeded) {
  const Matrix<double> X = uniform_matrix<double>(16, 2, -1, 1, 1);
  const Matrix<double> Y = uniform_matrix<double>(16, 1, -1, 1, 2);
  const std::vector<LayerSpec> layers = {{4, Activation::tanh}, {1, Activation::identity}};
  Network<double> in_order(2, layers, Loss::mse, 3), shuffled(2, layers, Loss::mse, 3), again(2, layers, Loss::mse, 3),
      other_shuffle(2, layers, Loss::mse, 3);
  other_shuffle.reseed_training(77);
  for (auto* net : {&in_order, &shuffled, &again, &other_shuffle}) {
    net->set_optimizer(Optimizer<double>(sgd(0.2)));
  }
  in_order.train_epoch(X, Y, nullptr, 1, false);
  shuffled.train_epoch(X, Y, nullptr, 1, true);
  again.train_epoch(X, Y, nullptr, 1, true);
  other_shuffle.train_epoch(X, Y, nullptr, 1, true);
  EXPECT_EQ(shuffled.parameters(), again.parameters());
  EXPECT_GT((shuffled.parameters() - in_order.parameters()).norm(), 1e-6);
  EXPECT_GT((shuffled.parameters() - other_shuffle.parameters()).norm(), 1e-6);
}

TEST(TrainEpoch, LearnsXor) {
  // End to end: XOR needs the hidden layer; 400 full-batch Adam epochs solve it.
  const Matrix<double> X = rows<double>({{0, 0}, {0, 1}, {1, 0}, {1, 1}});
  const Matrix<double> Y = rows<double>({{0}, {1}, {1}, {0}});
  Network<double> net(2, {{8, Activation::tanh}, {1, Activation::sigmoid}}, Loss::binary_cross_entropy, 0);
  net.set_optimizer(Optimizer<double>(AdamConfig{0.05, 0.9, 0.999, 1e-8, 0.0}));
  const double initial = net.evaluate(X, Y).loss;
  PassResult last;
  for (int epoch = 0; epoch < 400; ++epoch) last = net.train_epoch(X, Y, nullptr, 4, true);
  const PassResult final_pass = net.evaluate(X, Y);
  EXPECT_TRUE(last.finite);
  EXPECT_LT(final_pass.loss, 0.05);
  EXPECT_LT(final_pass.loss, initial / 10);
  EXPECT_EQ(final_pass.correct, 4);
  EXPECT_EQ(final_pass.samples, 4);
}

TEST(TrainEpoch, DivergenceRollsBackParametersAndOptimizerState) {
  const Matrix<double> X = uniform_matrix<double>(40, 3, -3, 3, 1);
  const Matrix<double> Y = uniform_matrix<double>(40, 1, -10, 10, 2);
  const std::vector<LayerSpec> layers = {{8, Activation::relu}, {1, Activation::identity}};
  Network<double> net(3, layers, Loss::mse, 5);
  Network<double> twin(3, layers, Loss::mse, 5);
  for (auto* n : {&net, &twin}) n->set_optimizer(Optimizer<double>(sgd(0.01, 0.9)));
  // A normal epoch first, so that the velocity is not zero when the rollback restores it.
  ASSERT_TRUE(net.train_epoch(X, Y, nullptr, 8, false).finite);
  ASSERT_TRUE(twin.train_epoch(X, Y, nullptr, 8, false).finite);
  const Vector<double> before = net.parameters();
  const std::int64_t steps_before = net.optimizer().steps_taken();

  net.optimizer().set_learning_rate(1e200);
  const PassResult diverged = net.train_epoch(X, Y, nullptr, 8, false);
  EXPECT_FALSE(diverged.finite);
  EXPECT_TRUE(std::isnan(diverged.loss));
  EXPECT_EQ(net.parameters(), before);
  EXPECT_EQ(net.optimizer().steps_taken(), steps_before);

  // With the old learning rate back, training goes on exactly as if the bad epoch never was.
  net.optimizer().set_learning_rate(0.01);
  const PassResult resumed = net.train_epoch(X, Y, nullptr, 8, false);
  const PassResult reference = twin.train_epoch(X, Y, nullptr, 8, false);
  EXPECT_TRUE(resumed.finite);
  EXPECT_EQ(resumed.loss, reference.loss);
  EXPECT_EQ(net.parameters(), twin.parameters());
}

TEST(TrainEpoch, AdamDivergenceAlsoRollsBack) {
  const Matrix<float> X = uniform_matrix<float>(30, 2, -5, 5, 1);
  const Matrix<float> Y = uniform_matrix<float>(30, 1, -100, 100, 2);
  Network<float> net(2, {{6, Activation::identity}, {1, Activation::identity}}, Loss::mse, 2);
  net.set_optimizer(Optimizer<float>(AdamConfig{1e30, 0.9, 0.999, 1e-8, 0.0}));
  const Vector<float> before = net.parameters();
  const PassResult result = net.train_epoch(X, Y, nullptr, 5, true);
  EXPECT_FALSE(result.finite);
  EXPECT_EQ(net.parameters(), before);
  EXPECT_EQ(net.optimizer().steps_taken(), 0);
}

TEST(Predict, ChunksOfManyRowsEqualOneForwardPass) {
  // 1100 rows are predicted in chunks (512 rows by default); the result must not depend on it.
  const Matrix<double> X = uniform_matrix<double>(1100, 4, -2, 2, 9);
  Network<double> net(4, {{7, Activation::elu}, {3, Activation::softmax}}, Loss::cross_entropy, 3);
  Matrix<double> predicted(1100, 3);
  net.predict(X, predicted);
  net.forward(X);
  EXPECT_LE(max_scaled_difference(predicted, net.output()), 1e-15);
}

TEST(Predict, RowBlocksOnAnyThreadCountGiveEachRowItsOwnBitsAndAllocateNothing) {
  // 1000 rows go through every layer in blocks of rows on the pool (forward_in_row_blocks);
  // every row must get exactly what it gets alone, at 1 and 3 threads, and a second call
  // reuses the first one's cache and packed weights.
  const Matrix<float> X = uniform_matrix<float>(1000, 37, -2, 2, 4);
  Network<float> net(37, {{40, Activation::tanh}, {19, Activation::elu}, {5, Activation::softmax}}, Loss::cross_entropy, 6);
  Matrix<float> alone(1, 5), batch(1000, 5);
  const int saved_threads = get_num_threads();
  for (int threads : {1, 3}) {
    set_num_threads(threads);
    net.predict(X, batch);
    Eigen::internal::set_is_malloc_allowed(false);
    net.predict(X, batch);
    Eigen::internal::set_is_malloc_allowed(true);
    for (Index i = 0; i < X.rows(); i += 37) {
      net.predict(X.row(i), alone);
      ASSERT_EQ(std::memcmp(alone.data(), batch.row(i).data(), 5 * sizeof(float)), 0) << "row " << i;
    }
  }
  set_num_threads(saved_threads);
}

TEST(Evaluate, ChunkedLossAndCountsMatchAWholeBatch) {
  const Matrix<double> X = uniform_matrix<double>(1100, 4, -2, 2, 9);
  const Matrix<double> Y = one_hot<double>(1100, 3, 10);
  std::vector<double> w(1100);
  for (std::size_t i = 0; i < w.size(); ++i) w[i] = 0.5 + static_cast<double>(i % 3);
  Network<double> net(4, {{7, Activation::elu}, {3, Activation::softmax}}, Loss::cross_entropy, 3);
  const PassResult chunked = net.evaluate(X, Y, w);
  const double whole = net.compute_gradients(X, Y, w);
  EXPECT_NEAR(chunked.loss, whole, 1e-13);
  EXPECT_EQ(chunked.samples, 1100);
  EXPECT_EQ(chunked.correct, count_correct<double>(Activation::softmax, net.output(), Y));
  EXPECT_TRUE(chunked.finite);
}

// ---------------------------------------------------------------------------------------------
// Determinism.
// ---------------------------------------------------------------------------------------------
const std::vector<LayerSpec> kDeterminismLayers = {
    {6, Activation::relu}, {5, Activation::tanh}, {3, Activation::softmax}};

TEST(Determinism, SameSeedSameParametersAndSameTraining) {
  const Matrix<double> X = uniform_matrix<double>(50, 4, -2, 2, 1);
  const Matrix<double> Y = one_hot<double>(50, 3, 2);
  Network<double> a(4, kDeterminismLayers, Loss::cross_entropy, 2024);
  Network<double> b(4, kDeterminismLayers, Loss::cross_entropy, 2024);
  EXPECT_EQ(a.parameters(), b.parameters());
  for (Index l = 0; l < a.num_layers(); ++l) EXPECT_TRUE(a.bias(l).isZero(0.0));
  for (auto* net : {&a, &b}) net->set_optimizer(Optimizer<double>(AdamConfig{0.01, 0.9, 0.999, 1e-8, 1e-3}));
  for (int epoch = 0; epoch < 3; ++epoch) {
    const PassResult ra = a.train_epoch(X, Y, nullptr, 8, true);
    const PassResult rb = b.train_epoch(X, Y, nullptr, 8, true);
    EXPECT_EQ(ra.loss, rb.loss);
    EXPECT_EQ(ra.correct, rb.correct);
  }
  EXPECT_EQ(a.parameters(), b.parameters());
}

TEST(Determinism, DifferentSeedsDiffer) {
  Network<double> a(4, kDeterminismLayers, Loss::cross_entropy, 1);
  Network<double> b(4, kDeterminismLayers, Loss::cross_entropy, 2);
  // Every weight differs (the biases are zero in both).
  for (Index l = 0; l < a.num_layers(); ++l) EXPECT_GT((a.weights(l) - b.weights(l)).cwiseAbs().minCoeff(), 0.0);
}

TEST(Determinism, InitializeRedrawsTheSameWeightsAsTheConstructor) {
  Network<double> a(4, kDeterminismLayers, Loss::cross_entropy, 31);
  Network<double> b(4, kDeterminismLayers, Loss::cross_entropy, 32);
  b.initialize(31);
  EXPECT_EQ(a.parameters(), b.parameters());
}

TEST(Determinism, Float32AndFloat64AgreeToFloat32Tolerance) {
  // Data exactly representable in both precisions; the same seed draws the same weights
  // (float ones are the double draws rounded), and a few epochs keep them close.
  const Matrix<double> X = uniform_matrix<float>(64, 4, -2, 2, 1).cast<double>();
  const Matrix<double> Y = one_hot<double>(64, 3, 2);
  Network<double> wide(4, kDeterminismLayers, Loss::cross_entropy, 9);
  Network<float> narrow(4, kDeterminismLayers, Loss::cross_entropy, 9);
  EXPECT_EQ(narrow.parameters(), wide.parameters().cast<float>());
  wide.set_optimizer(Optimizer<double>(sgd(0.1, 0.9)));
  narrow.set_optimizer(Optimizer<float>(sgd(0.1, 0.9)));
  const Matrix<float> X32 = X.cast<float>();
  const Matrix<float> Y32 = Y.cast<float>();
  for (int epoch = 0; epoch < 5; ++epoch) {
    const PassResult r64 = wide.train_epoch(X, Y, nullptr, 16, true);
    const PassResult r32 = narrow.train_epoch(X32, Y32, nullptr, 16, true);
    EXPECT_NEAR(r32.loss, r64.loss, 1e-5 * std::max(1.0, r64.loss)) << "epoch " << epoch;
    EXPECT_EQ(r32.correct, r64.correct) << "epoch " << epoch;
  }
  EXPECT_LE(max_scaled_difference(narrow.parameters(), wide.parameters()), 1e-4);
  Matrix<double> P64(64, 3);
  Matrix<float> P32(64, 3);
  wide.predict(X, P64);
  narrow.predict(X32, P32);
  EXPECT_LE(max_scaled_difference(P32, P64), 1e-5);
}

// ---------------------------------------------------------------------------------------------
// No allocation per batch. The test build defines EIGEN_RUNTIME_NO_MALLOC for the engine
// (tests/cpp/CMakeLists.txt): with allocation forbidden, any Eigen heap allocation aborts.
// ---------------------------------------------------------------------------------------------
TEST(NoAllocationDeathTest, TheGuardStopsAnEigenAllocation) {
  // Without this the tests below would prove nothing.
  GTEST_FLAG_SET(death_test_style, "threadsafe");
  EXPECT_DEATH(
      {
        Eigen::internal::set_is_malloc_allowed(false);
        Matrix<double> M(64, 64);
        M.setOnes();
        std::printf("%f\n", M.sum());
      },
      "heap allocation is forbidden");
}

struct AllocationCase {
  Index width = 16;       // units of each of the two hidden layers
  Index batch_size = 16;
  int threads = 0;        // 0: leave the process's setting alone
};

template <class T>
void expect_second_epoch_allocates_nothing(const Optimizer<T>& optimizer, bool shuffle, bool weighted,
                                           AllocationCase sizes = {}) {
  // 6 full batches and a last, shorter one of 7 rows.
  const Index m = 6 * sizes.batch_size + 7;
  const Matrix<T> X = uniform_matrix<T>(m, 5, -2, 2, 1);
  const Matrix<T> Y = one_hot<T>(m, 3, 2);
  std::vector<T> w(static_cast<std::size_t>(m), T(1));
  for (std::size_t i = 0; i < w.size(); i += 3) w[i] = T(2);
  Network<T> net(5, {{sizes.width, Activation::relu}, {sizes.width, Activation::tanh}, {3, Activation::softmax}},
                 Loss::cross_entropy, 3);
  net.set_optimizer(optimizer);
  const SampleWeights<T> weights = weighted ? SampleWeights<T>(w) : SampleWeights<T>();
  const int saved_threads = get_num_threads();
  if (sizes.threads > 0) set_num_threads(sizes.threads);
  ASSERT_TRUE(net.train_epoch(X, Y, weights, sizes.batch_size, shuffle).finite);  // sizes every buffer
  Eigen::internal::set_is_malloc_allowed(false);
  const PassResult second = net.train_epoch(X, Y, weights, sizes.batch_size, shuffle);
  const PassResult third = net.train_epoch(X, Y, weights, sizes.batch_size, shuffle);
  Eigen::internal::set_is_malloc_allowed(true);
  set_num_threads(saved_threads);
  EXPECT_TRUE(second.finite);
  EXPECT_TRUE(third.finite);
  EXPECT_EQ(third.samples, m);
}

TEST(NoAllocation, SecondEpochWithShuffleAndWeightsAllocatesNothingFloat64Adam) {
  expect_second_epoch_allocates_nothing<double>(Optimizer<double>(AdamConfig{0.01, 0.9, 0.999, 1e-8, 1e-4}), true, true);
}

TEST(NoAllocation, SecondEpochInOrderAllocatesNothingFloat64Nesterov) {
  expect_second_epoch_allocates_nothing<double>(Optimizer<double>(sgd(0.05, 0.9, true, 1e-3)), false, false);
}

TEST(NoAllocation, SecondEpochWithShuffleAllocatesNothingFloat32Sgd) {
  expect_second_epoch_allocates_nothing<float>(Optimizer<float>(sgd(0.05)), true, false);
}

TEST(NoAllocation, SecondEpochInOrderWithWeightsAllocatesNothingFloat32Adam) {
  expect_second_epoch_allocates_nothing<float>(Optimizer<float>(AdamConfig{}), false, true);
}

// Eigen's matrix product packs its operands into scratch blocks, which through the ordinary
// product API come from the heap on every call once they pass 128 KiB, and Eigen's own
// parallel GEMM allocates per-thread bookkeeping. The engine's products reuse per-thread
// packing buffers and split work itself, so wide layers and split products allocate nothing.
TEST(NoAllocation, WideLayersOnOneThreadAllocateNothingPerBatch) {
  expect_second_epoch_allocates_nothing<float>(Optimizer<float>(sgd(0.01)), true, false, {256, 256, 1});
}

TEST(NoAllocation, SmallProductsOnTwoThreadsAllocateNothingPerBatch) {
  expect_second_epoch_allocates_nothing<float>(Optimizer<float>(sgd(0.01)), true, false, {64, 64, 2});
}

TEST(NoAllocation, ProductsSplitAcrossTwoThreadsAllocateNothingPerBatch) {
  // 256 × 512 × 512 multiply-adds per product: above the threshold, so split across threads.
  expect_second_epoch_allocates_nothing<float>(Optimizer<float>(sgd(0.01)), true, false, {512, 256, 2});
}

}  // namespace
}  // namespace fastmlp
