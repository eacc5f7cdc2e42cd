// Optimiser steps over a flat parameter vector (cpp/src/optimizer.cpp).
//
// Conventions (DESIGN.md): SGD momentum as in PyTorch, v ← μv + g, w ← w − lr·v; Nesterov
// w ← w − lr·(g + μv); Adam with bias correction and ε outside the square root; weight decay λ
// adds λ·W to the gradient of weights only, never biases.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "fastmlp/optimizer.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;
using testing::tolerance;

template <class T>
Vector<T> vec(std::initializer_list<double> values) {
  Vector<T> v(static_cast<Index>(values.size()));
  Index i = 0;
  for (double x : values) v[i++] = static_cast<T>(x);
  return v;
}

// An optimiser bound to n parameters, of which `decayed` are the weight segments.
template <class T>
Optimizer<T> bound(Optimizer<T> optimizer, Index n, std::vector<ParameterSegment> decayed) {
  optimizer.bind(n, std::move(decayed));
  return optimizer;
}

template <class T>
class OptimizerTest : public ::testing::Test {
 protected:
  Vector<T> p = vec<T>({1, -2, 0.5});
  const Vector<T> g1 = vec<T>({0.5, 1, -2});
  const Vector<T> g2 = vec<T>({-1, 0, 1});

  // The optimiser may use the gradient as scratch space, so each step gets a fresh copy.
  void step(Optimizer<T>& optimizer, const Vector<T>& gradient) {
    Vector<T> scratch = gradient;
    optimizer.step(p, scratch);
  }
  void expect_parameters(std::initializer_list<double> expected) {
    Vector<double> want(static_cast<Index>(expected.size()));
    Index i = 0;
    for (double x : expected) want[i++] = x;
    EXPECT_LE(max_scaled_difference(p, want), tolerance<T>()) << p.transpose();
  }
};

using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(OptimizerTest, Precisions);

TYPED_TEST(OptimizerTest, PlainSgdStepsAgainstTheGradient) {
  // lr = 0.1: p − 0.1 g = [1 − 0.05, −2 − 0.1, 0.5 + 0.2].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}), 3, {{0, 3}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.95, -2.1, 0.7});
  // Then g2 = [−1, 0, 1]: [0.95 + 0.1, −2.1, 0.7 − 0.1]; no memory of g1.
  this->step(sgd, this->g2);
  this->expect_parameters({1.05, -2.1, 0.6});
  EXPECT_EQ(sgd.steps_taken(), 2);
}

TYPED_TEST(OptimizerTest, MomentumAccumulatesVelocity) {
  // lr = 0.1, μ = 0.9. Step 1: v = g1 = [0.5, 1, −2]; p = [0.95, −2.1, 0.7].
  // Step 2: v = 0.9 [0.5, 1, −2] + [−1, 0, 1] = [−0.55, 0.9, −0.8];
  //         p = [0.95 + 0.055, −2.1 − 0.09, 0.7 + 0.08] = [1.005, −2.19, 0.78].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.9, false, 0.0}), 3, {{0, 3}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.95, -2.1, 0.7});
  this->step(sgd, this->g2);
  this->expect_parameters({1.005, -2.19, 0.78});
  EXPECT_LE(max_scaled_difference(sgd.state().first, vec<double>({-0.55, 0.9, -0.8})), tolerance<TypeParam>());
}

TYPED_TEST(OptimizerTest, NesterovLooksAhead) {
  // lr = 0.1, μ = 0.9. Step 1: v = g1; p −= 0.1 (g1 + 0.9 g1) = 0.19 g1:
  //         p = [1 − 0.095, −2 − 0.19, 0.5 + 0.38] = [0.905, −2.19, 0.88].
  // Step 2: v = [−0.55, 0.9, −0.8]; g2 + 0.9 v = [−1.495, 0.81, 0.28];
  //         p = [0.905 + 0.1495, −2.19 − 0.081, 0.88 − 0.028] = [1.0545, −2.271, 0.852].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.9, true, 0.0}), 3, {{0, 3}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.905, -2.19, 0.88});
  this->step(sgd, this->g2);
  this->expect_parameters({1.0545, -2.271, 0.852});
}

TYPED_TEST(OptimizerTest, AdamTwoSteps) {
  using T = TypeParam;
  // lr = 0.1, β1 = 0.9, β2 = 0.999, ε = 1e−8; p = [1, −1].
  // Step 1, g = [0.2, −0.5]: m = 0.1 g, s = 0.001 g²; m̂ = g, ŝ = g², so
  //   p −= 0.1 g/(|g| + ε): p = [1 − 0.1 · 0.2/(0.2 + 1e−8), −1 + 0.1 · 0.5/(0.5 + 1e−8)]
  //   = [0.9000000049999998, −0.900000002].
  // Step 2, g = [0.4, 0.1]: m = 0.9 m + 0.1 g = [0.058, −0.035];
  //   s = 0.999 s + 0.001 g² = [0.00019996, 0.00025975]; bias corrections 1 − 0.9² = 0.19 and
  //   1 − 0.999² = 0.001999: m̂ = [0.30526315789, −0.18421052632], ŝ = [0.10003001501, 0.12993996998];
  //   p −= 0.1 m̂/(√ŝ + ε): p = [0.8034818054695385, −0.8488973956993239].
  auto adam = bound(Optimizer<T>(AdamConfig{0.1, 0.9, 0.999, 1e-8, 0.0}), 2, {{0, 2}});
  this->p = vec<T>({1, -1});
  this->step(adam, vec<T>({0.2, -0.5}));
  this->expect_parameters({0.9000000049999998, -0.900000002});
  this->step(adam, vec<T>({0.4, 0.1}));
  this->expect_parameters({0.8034818054695385, -0.8488973956993239});
  EXPECT_LE(max_scaled_difference(adam.state().first, vec<double>({0.058, -0.035})), tolerance<T>());
  EXPECT_LE(max_scaled_difference(adam.state().second * 1e3, vec<double>({0.19996, 0.25975})), tolerance<T>());
  EXPECT_EQ(adam.steps_taken(), 2);
}

TYPED_TEST(OptimizerTest, AdamsFirstStepHasLengthLrWhateverTheGradientsScale) {
  using T = TypeParam;
  // Step 1: m̂ = g and ŝ = g² exactly, so each parameter moves by lr · g/(|g| + ε) = lr · sign(g)
  // up to ε/|g|. With lr = 1 a relative error of 1e−5 in 1 − β2 (as 1 − float(0.999) has)
  // would show as 5e−6 here.
  auto adam = bound(Optimizer<T>(AdamConfig{1.0, 0.9, 0.999, 1e-8, 0.0}), 3, {{0, 3}});
  this->p = Vector<T>::Zero(3);
  this->step(adam, vec<T>({0.3, -20, 1e-2}));
  this->expect_parameters({-0.3 / (0.3 + 1e-8), 20 / (20 + 1e-8), -1e-2 / (1e-2 + 1e-8)});
}

TYPED_TEST(OptimizerTest, WeightDecayTouchesOnlyWeightSegments) {
  using T = TypeParam;
  // Layout of a 2-layer net: [W0 (2), b0 (1), W1 (2), b1 (1)]; the weights are decayed.
  // With g = 0, lr = 0.1 and λ = 0.5, each weight shrinks by the factor 1 − 0.1 · 0.5 = 0.95
  // and the biases stay exactly where they were.
  auto sgd = bound(Optimizer<T>(SGDConfig{0.1, 0.0, false, 0.5}), 6, {{0, 2}, {3, 2}});
  this->p = vec<T>({1, -2, 0.5, 4, 3, -1});
  this->step(sgd, Vector<T>::Zero(6));
  this->expect_parameters({0.95, -1.9, 0.5, 3.8, 2.85, -1});
  EXPECT_EQ(this->p[2], T(0.5));
  EXPECT_EQ(this->p[5], T(-1));
  // With a gradient too: W0[0] = 0.95 − 0.1 (1 + 0.5 · 0.95) = 0.8025, b0 = 0.5 − 0.1 · 1 = 0.4.
  this->step(sgd, Vector<T>::Ones(6));
  this->expect_parameters({0.8025, -1.9 - 0.1 * (1 - 0.95), 0.4, 3.8 - 0.1 * (1 + 1.9), 2.85 - 0.1 * (1 + 1.425), -1.1});
}

TYPED_TEST(OptimizerTest, AdamWeightDecayIsAnL2TermInTheGradientAndSkipsBiases) {
  using T = TypeParam;
  // λ = 0.5, g = 0, p = [1 (weight), 2 (bias)]: the weight's gradient becomes 0.5 · 1 = 0.5 and
  // Adam's first step moves it by lr · 0.5/(0.5 + ε) = 0.1 · 0.99999998; the bias sees g = 0.
  auto adam = bound(Optimizer<T>(AdamConfig{0.1, 0.9, 0.999, 1e-8, 0.5}), 2, {{0, 1}});
  this->p = vec<T>({1, 2});
  this->step(adam, Vector<T>::Zero(2));
  this->expect_parameters({1 - 0.1 * 0.5 / (0.5 + 1e-8), 2});
  EXPECT_EQ(this->p[1], T(2));
}

TYPED_TEST(OptimizerTest, ResetStateForgetsVelocity) {
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.9, false, 0.0}), 3, {{0, 3}});
  this->step(sgd, this->g1);
  sgd.reset_state();
  EXPECT_EQ(sgd.steps_taken(), 0);
  this->p = vec<TypeParam>({0.95, -2.1, 0.7});
  // With v = 0 again, step 2 is a plain step: v = g2, p −= 0.1 g2.
  this->step(sgd, this->g2);
  this->expect_parameters({1.05, -2.1, 0.6});
}

TYPED_TEST(OptimizerTest, RestoreStateRewindsVelocityAndStepCount) {
  auto adam = bound(Optimizer<TypeParam>(AdamConfig{0.1, 0.9, 0.999, 1e-8, 0.0}), 3, {{0, 3}});
  this->step(adam, this->g1);
  const auto saved = adam.state();
  const Vector<TypeParam> saved_p = this->p;
  this->step(adam, this->g2);
  const Vector<TypeParam> after_second = this->p;
  adam.restore_state(saved);
  EXPECT_EQ(adam.steps_taken(), 1);
  this->p = saved_p;
  this->step(adam, this->g2);
  EXPECT_EQ(this->p, after_second);  // the same arithmetic again, bit for bit
}

TEST(Optimizer, RestoreStateOfAnotherShapeIsRefused) {
  Optimizer<double> small(SGDConfig{0.1, 0.9, false, 0.0});
  small.bind(2, {{0, 2}});
  Optimizer<double> large(SGDConfig{0.1, 0.9, false, 0.0});
  large.bind(5, {{0, 5}});
  EXPECT_THROW(small.restore_state(large.state()), std::invalid_argument);
}

TEST(Optimizer, DefaultIsPlainSgdWithLearningRateOneHundredth) {
  Optimizer<double> optimizer;
  EXPECT_EQ(optimizer.kind(), Optimizer<double>::Kind::sgd);
  EXPECT_EQ(optimizer.learning_rate(), 0.01);
  EXPECT_EQ(optimizer.sgd().momentum, 0.0);
}

TEST(Optimizer, SetLearningRateChangesTheNextStep) {
  Optimizer<double> sgd(SGDConfig{0.1, 0.0, false, 0.0});
  sgd.bind(1, {{0, 1}});
  sgd.set_learning_rate(0.5);
  EXPECT_EQ(sgd.learning_rate(), 0.5);
  Vector<double> p = vec<double>({1});
  Vector<double> g = vec<double>({2});
  sgd.step(p, g);
  EXPECT_DOUBLE_EQ(p[0], 0.0);  // 1 − 0.5 · 2
}

constexpr double kNaN = std::numeric_limits<double>::quiet_NaN();
constexpr double kInf = std::numeric_limits<double>::infinity();

TEST(OptimizerValidation, SgdRefusesInvalidHyperParameters) {
  for (double lr : {0.0, -0.1, kNaN, kInf})
    EXPECT_THROW(Optimizer<double>(SGDConfig{lr, 0.0, false, 0.0}), std::invalid_argument) << lr;
  for (double momentum : {-0.1, 1.0, 1.5, kNaN})
    EXPECT_THROW(Optimizer<double>(SGDConfig{0.1, momentum, false, 0.0}), std::invalid_argument) << momentum;
  EXPECT_THROW(Optimizer<double>(SGDConfig{0.1, 0.0, true, 0.0}), std::invalid_argument);  // Nesterov, μ = 0
  for (double decay : {-1e-3, kNaN, kInf})
    EXPECT_THROW(Optimizer<double>(SGDConfig{0.1, 0.0, false, decay}), std::invalid_argument) << decay;
  EXPECT_NO_THROW(Optimizer<double>(SGDConfig{0.1, 0.99, true, 1e-4}));
}

TEST(OptimizerValidation, AdamRefusesInvalidHyperParameters) {
  for (double lr : {0.0, -1e-3, kNaN, kInf})
    EXPECT_THROW(Optimizer<double>(AdamConfig{lr, 0.9, 0.999, 1e-8, 0.0}), std::invalid_argument) << lr;
  for (double beta1 : {-0.1, 1.0, kNaN})
    EXPECT_THROW(Optimizer<double>(AdamConfig{1e-3, beta1, 0.999, 1e-8, 0.0}), std::invalid_argument) << beta1;
  for (double beta2 : {-0.1, 1.0, kNaN})
    EXPECT_THROW(Optimizer<double>(AdamConfig{1e-3, 0.9, beta2, 1e-8, 0.0}), std::invalid_argument) << beta2;
  for (double epsilon : {0.0, -1e-8, kNaN, kInf})
    EXPECT_THROW(Optimizer<double>(AdamConfig{1e-3, 0.9, 0.999, epsilon, 0.0}), std::invalid_argument) << epsilon;
  for (double decay : {-0.5, kNaN})
    EXPECT_THROW(Optimizer<double>(AdamConfig{1e-3, 0.9, 0.999, 1e-8, decay}), std::invalid_argument) << decay;
  EXPECT_NO_THROW(Optimizer<double>(AdamConfig{1e-3, 0.0, 0.0, 1e-8, 0.0}));
}

TEST(OptimizerValidation, MessagesNameTheParameter) {
  try {
    Optimizer<double>(SGDConfig{0.1, 1.2, false, 0.0});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("momentum"), std::string::npos) << error.what();
  }
  try {
    Optimizer<double>(AdamConfig{-1.0, 0.9, 0.999, 1e-8, 0.0});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("learning rate"), std::string::npos) << error.what();
  }
}

TEST(OptimizerValidation, SetLearningRateRefusesNonPositiveAndNonFinite) {
  Optimizer<float> adam(AdamConfig{});
  for (double lr : {0.0, -2.0, kNaN, kInf}) EXPECT_THROW(adam.set_learning_rate(lr), std::invalid_argument) << lr;
  EXPECT_EQ(adam.learning_rate(), 1e-3);  // unchanged by the refusals
}

}  // namespace
}  // namespace fastmlp
