// Losses, their fused output deltas and the output/loss pairing rules (cpp/src/loss.cpp).
//
// Conventions (DESIGN.md): every loss is a mean over the m samples; cross-entropy, binary
// cross-entropy, hinge and the perceptron criterion sum over the k outputs, the regression
// losses (mse with no ½, mae, huber, poisson) average over them. Sample weights multiply a
// sample's loss and its row of dZ.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastmlp/activation.hpp"
#include "fastmlp/loss.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;
using testing::rows;
using testing::tolerance;

template <class T>
struct LossResult {
  double loss;
  Matrix<T> dZ;
};

// The output layer's A = f(Z) (from the engine's activation, tested on its own), then the loss.
template <class T>
LossResult<T> evaluate_loss(Loss loss, Activation output, const Matrix<T>& Z, const Matrix<T>& Y,
                            const std::vector<T>* weights = nullptr, double slope = 0.01, double huber_delta = 1.0) {
  Matrix<T> A(Z.rows(), Z.cols());
  activate<T>(output, static_cast<T>(slope), Z, A);
  LossResult<T> result{0.0, Matrix<T>::Constant(Z.rows(), Z.cols(), T(12345))};
  MatrixRef<T> dZ(result.dZ);
  result.loss = loss_and_output_delta<T>(loss, output, static_cast<T>(slope), Z, A, Y,
                                         weights ? weights->data() : nullptr, &dZ, static_cast<T>(huber_delta));
  return result;
}

template <class T>
class LossTest : public ::testing::Test {};
using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(LossTest, Precisions);

TYPED_TEST(LossTest, CrossEntropyWithSoftmax) {
  using T = TypeParam;
  // m = 2, k = 3. Row 1: z = [1, 2, 3], class 2: loss = logsumexp(z) − 3
  //   = log(1 + e^−1 + e^−2) = 0.4076059644443806; P = [0.0900306, 0.2447285, 0.6652410].
  // Row 2: z = [0, 0, 0], class 0: loss = log 3 = 1.0986122886681098; P = [1/3, 1/3, 1/3].
  // Mean: (0.4076059644443806 + 1.0986122886681098) / 2 = 0.7531091265562452.
  // dZ = (P − Y) / 2: row 1 [0.0450153, 0.1223642, (0.6652410 − 1)/2 = −0.1673795],
  //                   row 2 [(1/3 − 1)/2 = −1/3, 1/6, 1/6].
  const Matrix<T> Z = rows<T>({{1, 2, 3}, {0, 0, 0}});
  const Matrix<T> Y = rows<T>({{0, 0, 1}, {1, 0, 0}});
  const auto result = evaluate_loss<T>(Loss::cross_entropy, Activation::softmax, Z, Y);
  EXPECT_NEAR(result.loss, 0.7531091265562452, tolerance<T>());
  const Matrix<double> dZ = rows<double>({{0.04501528658519023, 0.12236423552739883, -0.16737952211258905},
                                          {-1.0 / 3, 1.0 / 6, 1.0 / 6}});
  EXPECT_LE(max_scaled_difference(result.dZ, dZ), tolerance<T>()) << result.dZ;

  // Weights [3, 1]: (3 · 0.4076059644443806 + 1.0986122886681098) / 2 = 1.1607150910006259, and
  // row 1 of dZ is three times as large; the mean still divides by m = 2.
  const std::vector<T> weights{3, 1};
  const auto weighted = evaluate_loss<T>(Loss::cross_entropy, Activation::softmax, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 1.1607150910006259, tolerance<T>());
  Matrix<double> weighted_dZ = dZ;
  weighted_dZ.row(0) *= 3.0;
  EXPECT_LE(max_scaled_difference(weighted.dZ, weighted_dZ), tolerance<T>()) << weighted.dZ;
}

TYPED_TEST(LossTest, CrossEntropyIsFiniteAndExactForHugeScores) {
  using T = TypeParam;
  // z = [1000, −1000]: logsumexp = 1000 exactly, so class 1 costs 1000 − (−1000) = 2000 and
  // class 0 costs 0; P = [1, 0].
  const Matrix<T> Z = rows<T>({{1000, -1000}, {1000, -1000}});
  const Matrix<T> Y = rows<T>({{0, 1}, {1, 0}});
  const auto result = evaluate_loss<T>(Loss::cross_entropy, Activation::softmax, Z, Y);
  EXPECT_EQ(result.loss, (2000.0 + 0.0) / 2);
  // dZ = (P − Y)/2 = [[0.5, −0.5], [0, 0]], up to the e^−2000 in P that Eigen's vectorised exp
  // gives as about 5.6e−309 instead of 0 (see the softmax test in test_activation.cpp).
  ASSERT_TRUE(result.dZ.allFinite());
  EXPECT_LE((result.dZ - rows<T>({{0.5, -0.5}, {0, 0}})).cwiseAbs().maxCoeff(), std::numeric_limits<T>::min());
}

TYPED_TEST(LossTest, BinaryCrossEntropySumsIndependentSigmoidOutputs) {
  using T = TypeParam;
  // Per output: −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y·z.
  // Row 1: z = [0, 2], y = [1, 0]: log 2 + softplus(2) = 0.6931471805599453 + 2.1269280110429727
  //        = 2.820075191602918.
  // Row 2: z = [−1, 0.5], y = [0, 1]: softplus(−1) + softplus(0.5) − 0.5
  //        = 0.31326168751822286 + 0.4740769841801067 = 0.7873386716983295.
  // Mean over m = 2 (summed over the outputs): 1.8037069316506238.
  // dZ = (σ(Z) − Y)/2 = [[(0.5 − 1)/2, σ(2)/2], [σ(−1)/2, (σ(0.5) − 1)/2]].
  const Matrix<T> Z = rows<T>({{0, 2}, {-1, 0.5}});
  const Matrix<T> Y = rows<T>({{1, 0}, {0, 1}});
  const auto result = evaluate_loss<T>(Loss::binary_cross_entropy, Activation::sigmoid, Z, Y);
  EXPECT_NEAR(result.loss, 1.8037069316506238, tolerance<T>());
  const Matrix<double> dZ =
      rows<double>({{-0.25, 0.44039853898894116}, {0.13447071068499755, -0.1887703343990727}});
  EXPECT_LE(max_scaled_difference(result.dZ, dZ), tolerance<T>()) << result.dZ;

  // Weights [0, 2]: row 1 drops out, row 2 doubles: 2 · 0.7873386716983295 / 2.
  const std::vector<T> weights{0, 2};
  const auto weighted = evaluate_loss<T>(Loss::binary_cross_entropy, Activation::sigmoid, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 0.7873386716983295, tolerance<T>());
  Matrix<double> weighted_dZ = 2.0 * dZ;
  weighted_dZ.row(0).setZero();
  EXPECT_LE(max_scaled_difference(weighted.dZ, weighted_dZ), tolerance<T>()) << weighted.dZ;
}

TYPED_TEST(LossTest, BinaryCrossEntropyIsFiniteAndExactForHugeScores) {
  using T = TypeParam;
  // softplus(z) − y z: right and confident costs exactly 0, wrong and confident exactly 1000.
  const Matrix<T> Z = rows<T>({{1000}, {-1000}, {1000}, {-1000}});
  const Matrix<T> Y = rows<T>({{1}, {0}, {0}, {1}});
  const auto result = evaluate_loss<T>(Loss::binary_cross_entropy, Activation::sigmoid, Z, Y);
  EXPECT_EQ(result.loss, (0.0 + 0.0 + 1000.0 + 1000.0) / 4);
  EXPECT_EQ(result.dZ, rows<T>({{0}, {0}, {0.25}, {-0.25}}));  // (σ − y)/4
}

TYPED_TEST(LossTest, MeanSquaredErrorAveragesOverSamplesAndOutputs) {
  using T = TypeParam;
  // Identity output, m = 2, k = 2. A − Y = [[1, 0], [−1, −2]].
  // Per sample, the mean over outputs: (1 + 0)/2 = 0.5, (1 + 4)/2 = 2.5; over samples: 1.5.
  // dZ = 2 (A − Y) / (m·k) = (A − Y)/2 = [[0.5, 0], [−0.5, −1]].
  const Matrix<T> Z = rows<T>({{1, 2}, {0, -1}});
  const Matrix<T> Y = rows<T>({{0, 2}, {1, 1}});
  const auto result = evaluate_loss<T>(Loss::mse, Activation::identity, Z, Y);
  EXPECT_NEAR(result.loss, 1.5, tolerance<T>());
  EXPECT_LE(max_scaled_difference(result.dZ, rows<double>({{0.5, 0}, {-0.5, -1}})), tolerance<T>());

  // Weights [2, 0.5]: (2 · 0.5 + 0.5 · 2.5)/2 = 1.125; dZ rows × 2 and × 0.5.
  const std::vector<T> weights{2, 0.5};
  const auto weighted = evaluate_loss<T>(Loss::mse, Activation::identity, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 1.125, tolerance<T>());
  EXPECT_LE(max_scaled_difference(weighted.dZ, rows<double>({{1, 0}, {-0.25, -0.5}})), tolerance<T>());
}

TYPED_TEST(LossTest, MeanSquaredErrorChainsThroughTheOutputActivation) {
  using T = TypeParam;
  // Sigmoid output, z = 0: a = 0.5, y = 1: L = 0.25; dA = 2(a − y) = −1; dZ = −1 · σ'(0) = −0.25.
  auto sigmoid = evaluate_loss<T>(Loss::mse, Activation::sigmoid, rows<T>({{0}}), rows<T>({{1}}));
  EXPECT_NEAR(sigmoid.loss, 0.25, tolerance<T>());
  EXPECT_NEAR(static_cast<double>(sigmoid.dZ(0, 0)), -0.25, tolerance<T>());
  // Tanh output, z = 0.5: a = 0.46211715726000974, y = 0: L = a² = 0.21355226703407257;
  // dZ = 2a (1 − a²) = 0.7268619813835873.
  auto tanh = evaluate_loss<T>(Loss::mse, Activation::tanh, rows<T>({{0.5}}), rows<T>({{0}}));
  EXPECT_NEAR(tanh.loss, 0.21355226703407257, tolerance<T>());
  EXPECT_NEAR(static_cast<double>(tanh.dZ(0, 0)), 0.7268619813835873, tolerance<T>());
  // Leaky ReLU output with slope 0.1, z = −1: a = −0.1, y = 0.4: L = 0.25; dZ = 2(−0.5) · 0.1 = −0.1.
  auto leaky = evaluate_loss<T>(Loss::mse, Activation::leaky_relu, rows<T>({{-1}}), rows<T>({{0.4}}), nullptr, 0.1);
  EXPECT_NEAR(leaky.loss, 0.25, tolerance<T>());
  EXPECT_NEAR(static_cast<double>(leaky.dZ(0, 0)), -0.1, tolerance<T>());
  // ReLU output below zero: the delta dies (relu'(z) = 0 for z < 0).
  auto relu = evaluate_loss<T>(Loss::mse, Activation::relu, rows<T>({{-1}}), rows<T>({{2}}));
  EXPECT_NEAR(relu.loss, 4.0, tolerance<T>());
  EXPECT_EQ(relu.dZ(0, 0), T(0));
}

TYPED_TEST(LossTest, HingeIsOneVersusRestOnTheRawScore) {
  using T = TypeParam;
  // t = 2y − 1. m = 2, k = 2: Z = [[2, −0.5], [0.3, 1]], Y = [[1, 0], [0, 1]], t = [[1, −1], [−1, 1]].
  // Margins t·z = [[2, 0.5], [−0.3, 1]]; max(0, 1 − t·z) = [[0, 0.5], [1.3, 0]].
  // Sample sums 0.5 and 1.3, mean 0.9.
  // dZ = −t/m where t·z < 1, else 0: [[0, 0.5], [0.5, 0]] (a margin of exactly 1 gives 0).
  const Matrix<T> Z = rows<T>({{2, -0.5}, {0.3, 1}});
  const Matrix<T> Y = rows<T>({{1, 0}, {0, 1}});
  const auto result = evaluate_loss<T>(Loss::hinge, Activation::identity, Z, Y);
  EXPECT_NEAR(result.loss, 0.9, tolerance<T>());
  EXPECT_LE(max_scaled_difference(result.dZ, rows<double>({{0, 0.5}, {0.5, 0}})), tolerance<T>()) << result.dZ;

  // Weights [1, 3]: (0.5 + 3 · 1.3)/2 = 2.2; dZ row 2 × 3.
  const std::vector<T> weights{1, 3};
  const auto weighted = evaluate_loss<T>(Loss::hinge, Activation::identity, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 2.2, tolerance<T>());
  EXPECT_LE(max_scaled_difference(weighted.dZ, rows<double>({{0, 0.5}, {1.5, 0}})), tolerance<T>());
}

TYPED_TEST(LossTest, PerceptronCriterionAndRosenblattDelta) {
  using T = TypeParam;
  // Step output, m = 5: z = [2, −1, 0.5, 0, 0], y = [1, 1, 0, 1, 0], so t = 2y − 1 = [1, 1, −1, 1, −1]
  // and t·z = [2, −1, −0.5, 0, 0]. Loss max(0, −t·z) = [0, 1, 0.5, 0, 0]; mean 1.5/5 = 0.3.
  // A mistake is t·z <= 0 (scikit-learn's rule: a score of exactly 0 is one, for either class):
  // dZ = −t/5 there, else 0 → [0, −1/5, 1/5, −1/5, 1/5].
  const Matrix<T> Z = rows<T>({{2}, {-1}, {0.5}, {0}, {0}});
  const Matrix<T> Y = rows<T>({{1}, {1}, {0}, {1}, {0}});
  const auto result = evaluate_loss<T>(Loss::perceptron, Activation::step, Z, Y);
  EXPECT_NEAR(result.loss, 0.3, tolerance<T>());
  EXPECT_LE(max_scaled_difference(result.dZ, rows<double>({{0}, {-0.2}, {0.2}, {-0.2}, {0.2}})), tolerance<T>());

  // Weights [5, 2, 0, 3, 4]: loss (5·0 + 2·1 + 0·0.5 + 0 + 0)/5 = 0.4; dZ = [0, −2/5, 0, −3/5, 4/5].
  const std::vector<T> weights{5, 2, 0, 3, 4};
  const auto weighted = evaluate_loss<T>(Loss::perceptron, Activation::step, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 0.4, tolerance<T>());
  EXPECT_LE(max_scaled_difference(weighted.dZ, rows<double>({{0}, {-0.4}, {0}, {-0.6}, {0.8}})), tolerance<T>());
}

TYPED_TEST(LossTest, MeanAbsoluteErrorAveragesOverSamplesAndOutputs) {
  using T = TypeParam;
  // Identity output, m = 2, k = 2: A − Y = [[1, −2], [0, 2]], Σ|A − Y| = 5, L = 5/(2·2) = 1.25.
  // dZ = sign(A − Y)/(m·k) = [[0.25, −0.25], [0, 0.25]] (sign(0) = 0).
  const Matrix<T> Z = rows<T>({{1, -2}, {0.5, 3}});
  const Matrix<T> Y = rows<T>({{0, 0}, {0.5, 1}});
  const auto result = evaluate_loss<T>(Loss::mae, Activation::identity, Z, Y);
  EXPECT_NEAR(result.loss, 1.25, tolerance<T>());
  EXPECT_LE(max_scaled_difference(result.dZ, rows<double>({{0.25, -0.25}, {0, 0.25}})), tolerance<T>()) << result.dZ;
  // Weights [3, 1]: (3·3/2 + 2/2)/2 = 2.75; row 1 of dZ three times as large.
  const std::vector<T> weights{3, 1};
  const auto weighted = evaluate_loss<T>(Loss::mae, Activation::identity, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 2.75, tolerance<T>());
  EXPECT_LE(max_scaled_difference(weighted.dZ, rows<double>({{0.75, -0.75}, {0, 0.25}})), tolerance<T>());
}

TYPED_TEST(LossTest, MeanAbsoluteErrorChainsThroughTheOutputActivation) {
  using T = TypeParam;
  // tanh output, z = 0.5, y = 1: A = tanh 0.5 = 0.46211715726000974, L = |A − 1| = 0.5378828427399902;
  // dZ = sign(A − 1)·(1 − A²) = −0.7864477329659274.
  const auto result = evaluate_loss<T>(Loss::mae, Activation::tanh, rows<T>({{0.5}}), rows<T>({{1}}));
  EXPECT_NEAR(result.loss, 0.5378828427399902, tolerance<T>());
  EXPECT_NEAR(static_cast<double>(result.dZ(0, 0)), -0.7864477329659274, tolerance<T>());
}

TYPED_TEST(LossTest, HuberIsQuadraticWithinDeltaAndLinearBeyond) {
  using T = TypeParam;
  // Identity output, Y = 0, residuals r = [[0.5, −3], [1, 2]], m·k = 4.
  // δ = 1: h = [0.5²/2, 1·(3 − 0.5), 1²/2 (the kink: both pieces give 0.5), 1·(2 − 0.5)]
  //        = [0.125, 2.5, 0.5, 1.5], L = 4.625/4 = 1.15625; dZ = clip(r, −1, 1)/4.
  const Matrix<T> Z = rows<T>({{0.5, -3}, {1, 2}});
  const Matrix<T> Y = Matrix<T>::Zero(2, 2);
  const auto one = evaluate_loss<T>(Loss::huber, Activation::identity, Z, Y, nullptr, 0.01, 1.0);
  EXPECT_NEAR(one.loss, 1.15625, tolerance<T>());
  EXPECT_LE(max_scaled_difference(one.dZ, rows<double>({{0.125, -0.25}, {0.25, 0.25}})), tolerance<T>()) << one.dZ;
  // δ = 2: h = [0.125, 2·(3 − 1), 0.5, 2²/2 (the kink: 2·(2 − 1) = 2 as well)] = [0.125, 4, 0.5, 2],
  //        L = 6.625/4 = 1.65625; dZ = clip(r, −2, 2)/4 = [[0.125, −0.5], [0.25, 0.5]].
  const auto two = evaluate_loss<T>(Loss::huber, Activation::identity, Z, Y, nullptr, 0.01, 2.0);
  EXPECT_NEAR(two.loss, 1.65625, tolerance<T>());
  EXPECT_LE(max_scaled_difference(two.dZ, rows<double>({{0.125, -0.5}, {0.25, 0.5}})), tolerance<T>()) << two.dZ;
  // Per-sample weights take the row-by-row path and must agree with it.
  const std::vector<T> weights{1, 1};
  const auto weighted = evaluate_loss<T>(Loss::huber, Activation::identity, Z, Y, &weights, 0.01, 2.0);
  EXPECT_NEAR(weighted.loss, 1.65625, tolerance<T>());
  EXPECT_LE(max_scaled_difference(weighted.dZ, two.dZ), tolerance<T>());
}

TEST(Loss, HuberKinkIsContinuousInValueAndSlopeButNotInCurvature) {
  // One output, δ = 1.5, y = 0, z = δ ± ε. Below the kink h = z²/2 and h' = z; above it
  // h = δ(z − δ/2) and h' = δ. At the kink both pieces give h = δ²/2 = 1.125 and h' = δ = 1.5;
  // the slope's own slope jumps from 1 to 0.
  const double delta = 1.5, eps = 1e-4;
  auto at = [&](double z) {
    return evaluate_loss<double>(Loss::huber, Activation::identity, rows<double>({{z}}), rows<double>({{0}}), nullptr,
                                 0.01, delta);
  };
  const auto below = at(delta - eps), kink = at(delta), above = at(delta + eps);
  EXPECT_NEAR(kink.loss, 1.125, 1e-15);
  EXPECT_NEAR(kink.dZ(0, 0), 1.5, 1e-15);
  EXPECT_NEAR(below.loss, (delta - eps) * (delta - eps) / 2, 1e-15);
  EXPECT_NEAR(below.dZ(0, 0), delta - eps, 1e-15);
  EXPECT_NEAR(above.loss, delta * (delta + eps - delta / 2), 1e-15);
  EXPECT_EQ(above.dZ(0, 0), delta);
  // Curvature from the slopes on either side: 1 inside, 0 outside.
  EXPECT_NEAR((kink.dZ(0, 0) - below.dZ(0, 0)) / eps, 1.0, 1e-9);
  EXPECT_NEAR((above.dZ(0, 0) - kink.dZ(0, 0)) / eps, 0.0, 1e-12);
  // Far out the loss grows linearly: its slope is δ whatever the residual, also for r < −δ.
  EXPECT_EQ(at(1e6).dZ(0, 0), delta);
  EXPECT_EQ(at(-1e6).dZ(0, 0), -delta);
}

TYPED_TEST(LossTest, PoissonIsTheHalfDevianceWithTheLogLink) {
  using T = TypeParam;
  // exp output: μ = e^z. Elementwise y log(y/μ) − y + μ:
  //   z = 0,    y = 1: 0 − 1 + 1                       = 0
  //   z = ln 2, y = 0: 0 − 0 + 2                       = 2
  //   z = 1,    y = 3: 3 (ln 3 − 1) − 3 + e            = 0.014118694463374215
  //   z = −1,   y = 2: 2 (ln 2 + 1) − 2 + 1/e          = 1.7541738022913327
  // L = Σ/(m·k) = 0.9420731241886767; dZ = (μ − y)/4 = [[0, 0.5], [(e − 3)/4, (1/e − 2)/4]].
  const Matrix<T> Z = rows<T>({{0, std::log(2.0)}, {1, -1}});
  const Matrix<T> Y = rows<T>({{1, 0}, {3, 2}});
  const auto result = evaluate_loss<T>(Loss::poisson, Activation::exp, Z, Y);
  EXPECT_NEAR(result.loss, 0.9420731241886767, tolerance<T>());
  const Matrix<double> dZ = rows<double>({{0, 0.5}, {-0.07042954288523873, -0.4080301397071394}});
  EXPECT_LE(max_scaled_difference(result.dZ, dZ), tolerance<T>()) << result.dZ;
  // Weights [3, 1]: (3·(0 + 2)/2 + (0.0141186944633742 + 1.7541738022913327)/2)/2 = 1.9420731241886768.
  const std::vector<T> weights{3, 1};
  const auto weighted = evaluate_loss<T>(Loss::poisson, Activation::exp, Z, Y, &weights);
  EXPECT_NEAR(weighted.loss, 1.9420731241886768, tolerance<T>());
  Matrix<double> weighted_dZ = dZ;
  weighted_dZ.row(0) *= 3.0;
  EXPECT_LE(max_scaled_difference(weighted.dZ, weighted_dZ), tolerance<T>());
}

TYPED_TEST(LossTest, PoissonIsFiniteWhenTheMeanUnderflows) {
  using T = TypeParam;
  // z = −200: μ = e^−200 is 0 in float32 (and 1.4e−87 in float64), yet the loss reads log μ
  // from z: y log y − y z − y + μ = 0 + 200 − 1 + μ = 199 for y = 1; dZ = μ − 1 = −1.
  const auto result = evaluate_loss<T>(Loss::poisson, Activation::exp, rows<T>({{-200}}), rows<T>({{1}}));
  EXPECT_NEAR(result.loss, 199.0, 199.0 * tolerance<T>());
  EXPECT_NEAR(static_cast<double>(result.dZ(0, 0)), -1.0, tolerance<T>());
}

TEST(Loss, PoissonRefusesNegativeTargetsAndAcceptsZeros) {
  EXPECT_NO_THROW(check_targets_fit_loss<double>(Loss::poisson, rows<double>({{0, 3}, {1.5, 0}})));
  try {
    check_targets_fit_loss<double>(Loss::poisson, rows<double>({{0, 3}, {-1, 0}}));
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("y >= 0"), std::string::npos) << error.what();
  }
  EXPECT_NO_THROW(check_targets_fit_loss<float>(Loss::mse, rows<float>({{-1}})));
  EXPECT_NO_THROW(check_targets_fit_loss<float>(Loss::huber, rows<float>({{-1}})));
}

TEST(Loss, HuberDeltaMustBePositiveAndFinite) {
  for (double delta : {0.0, -1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()})
    EXPECT_THROW(check_huber_delta(delta), std::invalid_argument) << delta;
  EXPECT_NO_THROW(check_huber_delta(0.1));
}

// Central differences of the loss with respect to Z, the output activation recomputed each time.
struct DifferenceCase {
  Loss loss;
  Activation output;
  double huber_delta;
};

class LossFiniteDifferences : public ::testing::TestWithParam<DifferenceCase> {};

TEST_P(LossFiniteDifferences, OutputDeltaIsTheDerivativeOfTheLoss) {
  const auto [loss, output, delta] = GetParam();
  // Residuals stay at least 0.05 from 0 (mae's kink) and from ±δ (huber's), targets >= 0.
  const Matrix<double> Z = rows<double>({{0.3, -1.2, 2.0}, {1.5, 0.1, -0.4}});
  const Matrix<double> Y = rows<double>({{1.0, 0.0, 0.5}, {2.0, 3.0, 0.2}});
  const std::vector<double> weights{0.5, 2.0};
  for (const std::vector<double>* w : {static_cast<const std::vector<double>*>(nullptr), &weights}) {
    const auto analytic = evaluate_loss<double>(loss, output, Z, Y, w, 0.01, delta);
    const double h = 1e-6;
    Matrix<double> numeric(Z.rows(), Z.cols());
    for (Index i = 0; i < Z.rows(); ++i) {
      for (Index j = 0; j < Z.cols(); ++j) {
        Matrix<double> shifted = Z;
        shifted(i, j) = Z(i, j) + h;
        const double plus = evaluate_loss<double>(loss, output, shifted, Y, w, 0.01, delta).loss;
        shifted(i, j) = Z(i, j) - h;
        const double minus = evaluate_loss<double>(loss, output, shifted, Y, w, 0.01, delta).loss;
        numeric(i, j) = (plus - minus) / (2 * h);
      }
    }
    EXPECT_GT(numeric.norm(), 1e-3);
    EXPECT_LE((analytic.dZ - numeric).norm() / (analytic.dZ.norm() + numeric.norm()), 1e-8)
        << "analytic\n" << analytic.dZ << "\nnumeric\n" << numeric;
  }
}

INSTANTIATE_TEST_SUITE_P(
    RegressionLosses, LossFiniteDifferences,
    ::testing::Values(DifferenceCase{Loss::mae, Activation::identity, 1.0}, DifferenceCase{Loss::mae, Activation::tanh, 1.0},
                      DifferenceCase{Loss::huber, Activation::identity, 1.0},
                      DifferenceCase{Loss::huber, Activation::identity, 0.4},
                      DifferenceCase{Loss::huber, Activation::softplus, 1.0},
                      DifferenceCase{Loss::poisson, Activation::exp, 1.0}),
    [](const ::testing::TestParamInfo<DifferenceCase>& info) {
      return loss_name(info.param.loss) + "_" + activation_name(info.param.output) + "_" +
             std::to_string(info.index);
    });

TEST(Loss, UnitWeightsEqualNoWeights) {
  const Matrix<double> Z = rows<double>({{0.3, -1.2, 2.0}, {1.5, 0.1, -0.4}});
  const Matrix<double> Y = rows<double>({{0, 1, 0}, {1, 0, 0}});
  const std::vector<double> ones{1, 1};
  const auto plain = evaluate_loss<double>(Loss::cross_entropy, Activation::softmax, Z, Y);
  const auto weighted = evaluate_loss<double>(Loss::cross_entropy, Activation::softmax, Z, Y, &ones);
  EXPECT_EQ(plain.loss, weighted.loss);
  EXPECT_EQ(plain.dZ, weighted.dZ);
}

TEST(Loss, WithoutADeltaBufferOnlyTheValueIsComputed) {
  const Matrix<double> Z = rows<double>({{1, 2}, {0, -1}});
  const Matrix<double> Y = rows<double>({{0, 2}, {1, 1}});
  const double value =
      loss_and_output_delta<double>(Loss::mse, Activation::identity, 0.01, Z, Z, Y, nullptr, nullptr);
  EXPECT_DOUBLE_EQ(value, 1.5);
}

TEST(Loss, NoLossRefusesToComputeOne) {
  const Matrix<double> Z = rows<double>({{1}});
  try {
    loss_and_output_delta<double>(Loss::none, Activation::identity, 0.01, Z, Z, Z, nullptr, nullptr);
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("no loss"), std::string::npos) << error.what();
  }
}

// check_output_fits_loss: the refusal names both halves of the pair and says why.
void expect_refusal(Loss loss, Activation output, Index n_outputs, const std::string& why) {
  try {
    check_output_fits_loss(loss, output, n_outputs);
    ADD_FAILURE() << loss_name(loss) << " with " << activation_name(output) << " was accepted";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'" + activation_name(output) + "'"), std::string::npos) << message;
    EXPECT_NE(message.find("'" + loss_name(loss) + "'"), std::string::npos) << message;
    EXPECT_NE(message.find(why), std::string::npos) << message;
  }
}

TEST(OutputFitsLoss, RefusesPairsWhoseFusedDeltaWouldBeWrong) {
  expect_refusal(Loss::cross_entropy, Activation::sigmoid, 3, "cross_entropy needs a softmax output");
  expect_refusal(Loss::cross_entropy, Activation::identity, 3, "needs a softmax output");
  expect_refusal(Loss::cross_entropy, Activation::softmax, 1, "softmax over one output is always 1");
  expect_refusal(Loss::binary_cross_entropy, Activation::softmax, 2, "binary_cross_entropy needs a sigmoid output");
  expect_refusal(Loss::binary_cross_entropy, Activation::identity, 1, "needs a sigmoid output");
  expect_refusal(Loss::mse, Activation::softmax, 3, "softmax belongs with cross_entropy");
  expect_refusal(Loss::mse, Activation::step, 1, "step has no derivative");
  expect_refusal(Loss::hinge, Activation::sigmoid, 1, "the output must be identity");
  expect_refusal(Loss::hinge, Activation::tanh, 2, "the output must be identity");
  expect_refusal(Loss::perceptron, Activation::sigmoid, 1, "the perceptron rule needs a step output");
  expect_refusal(Loss::perceptron, Activation::identity, 1, "needs a step output");
  expect_refusal(Loss::mae, Activation::softmax, 3, "softmax belongs with cross_entropy");
  expect_refusal(Loss::huber, Activation::step, 1, "step has no derivative");
  expect_refusal(Loss::poisson, Activation::identity, 1, "the output must be exp");
  expect_refusal(Loss::poisson, Activation::softplus, 2, "the output must be exp");
}

TEST(OutputFitsLoss, AcceptsEveryValidPair) {
  EXPECT_NO_THROW(check_output_fits_loss(Loss::cross_entropy, Activation::softmax, 2));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::binary_cross_entropy, Activation::sigmoid, 1));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::binary_cross_entropy, Activation::sigmoid, 4));
  for (Activation output : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu,
                            Activation::leaky_relu, Activation::elu, Activation::softplus, Activation::silu})
    EXPECT_NO_THROW(check_output_fits_loss(Loss::mse, output, 2)) << activation_name(output);
  EXPECT_NO_THROW(check_output_fits_loss(Loss::hinge, Activation::identity, 3));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::perceptron, Activation::step, 1));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::mae, Activation::identity, 2));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::huber, Activation::relu, 1));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::poisson, Activation::exp, 3));
  // Inference only: any output goes.
  EXPECT_NO_THROW(check_output_fits_loss(Loss::none, Activation::softmax, 1));
  EXPECT_NO_THROW(check_output_fits_loss(Loss::none, Activation::step, 3));
}

TEST(LossNames, RoundTripAndAliases) {
  for (Loss loss : {Loss::none, Loss::cross_entropy, Loss::binary_cross_entropy, Loss::mse, Loss::hinge,
                    Loss::perceptron, Loss::mae, Loss::huber, Loss::poisson})
    EXPECT_EQ(loss_from_name(loss_name(loss)), loss);
  EXPECT_EQ(loss_from_name("absolute_error"), Loss::mae);  // scikit-learn's word
  EXPECT_EQ(loss_from_name("mean_absolute_error"), Loss::mae);
  EXPECT_EQ(loss_from_name("log_loss"), Loss::binary_cross_entropy);
  EXPECT_EQ(loss_from_name("squared_error"), Loss::mse);
  EXPECT_EQ(loss_from_name("mean_squared_error"), Loss::mse);
  EXPECT_EQ(loss_from_name("categorical_cross_entropy"), Loss::cross_entropy);
  EXPECT_EQ(loss_from_name("categorical_crossentropy"), Loss::cross_entropy);  // Keras's words
  EXPECT_EQ(loss_from_name("sparse_categorical_crossentropy"), Loss::cross_entropy);
  EXPECT_EQ(loss_from_name("binary_crossentropy"), Loss::binary_cross_entropy);
}

TEST(LossNames, UnknownNameIsRefusedWithTheNameAndTheChoices) {
  try {
    loss_from_name("crossentropy");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'crossentropy'"), std::string::npos) << message;
    EXPECT_NE(message.find("binary_cross_entropy"), std::string::npos) << message;
    EXPECT_NE(message.find("hinge"), std::string::npos) << message;
  }
}

TEST(LossKinds, ClassificationLossesAreTheOnesWithClassTargets) {
  EXPECT_TRUE(is_classification(Loss::cross_entropy));
  EXPECT_TRUE(is_classification(Loss::binary_cross_entropy));
  EXPECT_TRUE(is_classification(Loss::hinge));
  EXPECT_TRUE(is_classification(Loss::perceptron));
  EXPECT_FALSE(is_classification(Loss::mse));
  EXPECT_FALSE(is_classification(Loss::mae));
  EXPECT_FALSE(is_classification(Loss::huber));
  EXPECT_FALSE(is_classification(Loss::poisson));
  EXPECT_FALSE(is_classification(Loss::none));
}

TEST(CountCorrect, ArgmaxForSeveralOutputs) {
  // Predicted classes 2, 0, 1; targets 2, 1, 1 → 2 correct.
  const Matrix<double> A = rows<double>({{0.1, 0.2, 0.7}, {0.5, 0.3, 0.2}, {0.2, 0.6, 0.2}});
  const Matrix<double> Y = rows<double>({{0, 0, 1}, {0, 1, 0}, {0, 1, 0}});
  EXPECT_EQ(count_correct<double>(Activation::softmax, A, Y), 2);
}

TEST(CountCorrect, ThresholdsForOneOutput) {
  // Sigmoid and step: 0.5. Predictions [1, 0, 1, 0] against [1, 0, 0, 1] → 2 correct.
  const Matrix<double> P = rows<double>({{0.9}, {0.1}, {0.6}, {0.5}});
  const Matrix<double> Y = rows<double>({{1}, {0}, {0}, {1}});
  EXPECT_EQ(count_correct<double>(Activation::sigmoid, P, Y), 2);
  EXPECT_EQ(count_correct<double>(Activation::step, rows<double>({{1}, {0}, {1}, {0}}), Y), 2);
  // Identity (a linear SVM's score): the threshold is 0, so 0.4 counts as class 1.
  // Scores [0.4, −0.2, −3, 2] → [1, 0, 0, 1]: all 4 correct.
  EXPECT_EQ(count_correct<double>(Activation::identity, rows<double>({{0.4}, {-0.2}, {-3}, {2}}), Y), 4);
}

TEST(LossNames, TheTableListsTrainingLossesAliasesAndClassificationOnes) {
  const std::vector<std::string> names = loss_names();
  EXPECT_EQ(names, (std::vector<std::string>{"cross_entropy", "binary_cross_entropy", "mse", "hinge", "perceptron",
                                              "mae", "huber", "poisson"}));
  for (const auto& [alias, canonical] : loss_aliases())
    EXPECT_EQ(loss_from_name(alias), loss_from_name(canonical)) << alias;
  EXPECT_EQ(loss_aliases().size(), 9u);
  for (const std::string& name : classification_loss_names()) EXPECT_TRUE(is_classification(loss_from_name(name)));
  EXPECT_EQ(classification_loss_names().size(), 4u);  // not the regression losses
}

}  // namespace
}  // namespace fastmlp
