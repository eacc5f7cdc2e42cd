// Optimiser steps over a flat parameter vector (cpp/src/optimizer.cpp).
//
// Conventions (DESIGN.md): SGD momentum as in PyTorch, v ← μv + g, w ← w − lr·v; Nesterov
// w ← w − lr·(g + μv); Adam with bias correction and ε outside the square root; weight decay λ
// adds λ·W to the gradient of weights only, never biases. RMSprop and AdamW as PyTorch defines
// them (RMSprop's ρ is PyTorch's alpha; AdamW shrinks W by 1 − lr·λ before its Adam step).
// Clipping as Keras defines clipnorm, global_clipnorm and clipvalue, before weight decay.
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

TYPED_TEST(OptimizerTest, RmspropTwoSteps) {
  // lr = 0.1, ρ = 0.9, ε = 1e−8, p = [1, −2, 0.5].
  // Step 1, g1 = [0.5, 1, −2]: s = 0.1 g1² = [0.025, 0.1, 0.4], so g/√s = √10 · sign(g):
  //   p −= 0.1 g1/(√s + ε) = [0.6837722539831608, −2.3162277560168385, 0.816227761016838].
  // Step 2, g2 = [−1, 0, 1]: s = 0.9 s + 0.1 g2² = [0.1225, 0.09, 0.46];
  //   p −= 0.1 g2/(√s + ε): p[0] = 0.68377 + 0.1/0.35, p[1] unchanged, p[2] = 0.81623 − 0.1/√0.46
  //   = [0.9694865315341814, −2.3162277560168385, 0.6687858070358539].
  auto rmsprop = bound(Optimizer<TypeParam>(RMSpropConfig{0.1, 0.9, 1e-8, 0.0, 0.0}), 3, {{0, 3}});
  this->step(rmsprop, this->g1);
  this->expect_parameters({0.6837722539831608, -2.3162277560168385, 0.816227761016838});
  this->step(rmsprop, this->g2);
  this->expect_parameters({0.9694865315341814, -2.3162277560168385, 0.6687858070358539});
  EXPECT_LE(max_scaled_difference(rmsprop.state().second, vec<double>({0.1225, 0.09, 0.46})), tolerance<TypeParam>());
  EXPECT_EQ(rmsprop.steps_taken(), 2);
}

TYPED_TEST(OptimizerTest, RmspropMomentumBuffersTheScaledGradient) {
  // As above with μ = 0.5: v1 = g1/(√s1 + ε) = √10 · [1, 1, −1], the same first step;
  // v2 = 0.5 v1 + g2/(√s2 + ε) = [1.5811388 − 2.8571429, 1.5811388, −1.5811388 + 1.4744196]
  //    = [−1.2760040454260104, 1.5811387800841916, −0.10671926527434872];
  // p −= 0.1 v2: [0.8113726585257618, −2.4743416340252575, 0.8268996875442729].
  auto rmsprop = bound(Optimizer<TypeParam>(RMSpropConfig{0.1, 0.9, 1e-8, 0.5, 0.0}), 3, {{0, 3}});
  this->step(rmsprop, this->g1);
  this->expect_parameters({0.6837722539831608, -2.3162277560168385, 0.816227761016838});
  this->step(rmsprop, this->g2);
  this->expect_parameters({0.8113726585257618, -2.4743416340252575, 0.8268996875442729});
  EXPECT_LE(max_scaled_difference(rmsprop.state().first,
                                  vec<double>({-1.2760040454260104, 1.5811387800841916, -0.10671926527434872})),
            tolerance<TypeParam>());
}

TYPED_TEST(OptimizerTest, RmspropWeightDecayIsAnL2TermAndSkipsBiases) {
  using T = TypeParam;
  // λ = 0.5, g = 0, p = [1 (weight), 2 (bias)]: the weight's gradient is 0.5, s = 0.1 · 0.25, and
  // the step is lr · 0.5/(√0.025 + ε) = 0.1 · √10 (up to ε); the bias sees g = 0 and stays.
  auto rmsprop = bound(Optimizer<T>(RMSpropConfig{0.1, 0.9, 1e-8, 0.0, 0.5}), 2, {{0, 1}});
  this->p = vec<T>({1, 2});
  this->step(rmsprop, Vector<T>::Zero(2));
  this->expect_parameters({1 - 0.1 * 0.5 / (std::sqrt(0.025) + 1e-8), 2});
  EXPECT_EQ(this->p[1], T(2));
}

TYPED_TEST(OptimizerTest, AdamwDecaysWeightsDecoupledFromTheMoments) {
  using T = TypeParam;
  // lr = 0.1, λ = 0.5, p = [1 (weight), 2 (bias)], g = [0.2, −0.5].
  // The weight first shrinks by 1 − lr·λ = 0.95, then takes Adam's first step 0.1 · 0.2/(0.2 + ε):
  //   0.95 − 0.099999995 = 0.8500000049999997. The bias takes the Adam step only:
  //   2 + 0.1 · 0.5/(0.5 + ε) = 2.099999998. The moments never see λ: m = 0.1 g.
  auto adamw = bound(Optimizer<T>(AdamWConfig{0.1, 0.9, 0.999, 1e-8, 0.5}), 2, {{0, 1}});
  this->p = vec<T>({1, 2});
  this->step(adamw, vec<T>({0.2, -0.5}));
  this->expect_parameters({0.8500000049999997, 2.099999998});
  EXPECT_LE(max_scaled_difference(adamw.state().first, vec<double>({0.02, -0.05})), tolerance<T>());
  EXPECT_EQ(adamw.kind(), Optimizer<T>::Kind::adamw);
  // Adam's coupled decay would have put λ·W into m: the two differ.
  auto adam = bound(Optimizer<T>(AdamConfig{0.1, 0.9, 0.999, 1e-8, 0.5}), 2, {{0, 1}});
  Vector<T> q = vec<T>({1, 2});
  Vector<T> g = vec<T>({0.2, -0.5});
  adam.step(q, g);
  EXPECT_GT(std::abs(static_cast<double>(q[0] - this->p[0])), 1e-3);
}

TEST(Optimizer, AdamwDefaultsAreThoseOfPyTorch) {
  Optimizer<double> adamw(AdamWConfig{});
  EXPECT_EQ(adamw.learning_rate(), 1e-3);
  EXPECT_EQ(adamw.adam().weight_decay, 1e-2);
  EXPECT_EQ(adamw.adam().beta2, 0.999);
}

TYPED_TEST(OptimizerTest, ClipvalueClipsEachElement) {
  // clipvalue 0.6: g1 = [0.5, 1, −2] → [0.5, 0.6, −0.6]; SGD lr = 0.1: p = [0.95, −2.06, 0.56].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}, ClipConfig{0.0, 0.0, 0.6}), 3, {{0, 3}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.95, -2.06, 0.56});
}

TYPED_TEST(OptimizerTest, GlobalClipnormRescalesTheWholeGradient) {
  // ‖g1‖ = √5.25 = 2.2912878474779199 > 1.5: g ← g · 1.5/‖g1‖ = g · 0.6546536707079771;
  // p = [1 − 0.1·0.5·0.65465, −2 − 0.1·0.65465, 0.5 + 0.1·2·0.65465]
  //   = [0.9672673164646012, −2.065465367070798, 0.6309307341415955].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}, ClipConfig{0.0, 1.5, 0.0}), 3, {{0, 2}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.9672673164646012, -2.065465367070798, 0.6309307341415955});
}

TYPED_TEST(OptimizerTest, ClipnormRescalesEachTensorOnItsOwn) {
  // Layout [W (2), b (1)]; clipnorm 1. W's gradient [0.5, 1] has norm √1.25 > 1: it becomes
  // [0.5, 1]/√1.25 = [0.4472136, 0.8944272]; b's [−2] has norm 2: it becomes [−1].
  // p = [1 − 0.04472136, −2 − 0.08944272, 0.5 + 0.1] = [0.9552786404500042, −2.0894427190999916, 0.6].
  auto sgd = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}, ClipConfig{1.0, 0.0, 0.0}), 3, {{0, 2}});
  this->step(sgd, this->g1);
  this->expect_parameters({0.9552786404500042, -2.0894427190999916, 0.6});
  // A gradient within every bound is left exactly as it is.
  auto loose = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}, ClipConfig{10.0, 0.0, 0.0}), 3, {{0, 2}});
  auto plain = bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.0, false, 0.0}), 3, {{0, 2}});
  const Vector<TypeParam> start = this->p;
  this->step(loose, this->g1);
  const Vector<TypeParam> after_loose = this->p;
  this->p = start;
  this->step(plain, this->g1);
  EXPECT_EQ(after_loose, this->p);
}

TYPED_TEST(OptimizerTest, ClippingActsOnTheLossGradientBeforeWeightDecay) {
  using T = TypeParam;
  // g = 0 and λ = 0.5 on the weight 1: the decay term 0.5 is not clipped by clipvalue 0.1,
  // so W = 1 − 0.1 · 0.5 = 0.95 (clipping after the decay would give 0.99).
  auto sgd = bound(Optimizer<T>(SGDConfig{0.1, 0.0, false, 0.5}, ClipConfig{0.0, 0.0, 0.1}), 1, {{0, 1}});
  this->p = vec<T>({1});
  this->step(sgd, Vector<T>::Zero(1));
  this->expect_parameters({0.95});
}

TEST(Optimizer, ClippingRefusesNegativeBoundsAndMoreThanOneKind) {
  for (double bad : {-1.0, std::numeric_limits<double>::quiet_NaN(), std::numeric_limits<double>::infinity()}) {
    EXPECT_THROW(Optimizer<double>(SGDConfig{}, ClipConfig{bad, 0.0, 0.0}), std::invalid_argument) << bad;
    EXPECT_THROW(Optimizer<double>(AdamConfig{}, ClipConfig{0.0, bad, 0.0}), std::invalid_argument) << bad;
    EXPECT_THROW(Optimizer<double>(RMSpropConfig{}, ClipConfig{0.0, 0.0, bad}), std::invalid_argument) << bad;
  }
  try {
    Optimizer<double>(SGDConfig{}, ClipConfig{1.0, 0.0, 0.5});
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    EXPECT_NE(std::string(error.what()).find("only one of clipnorm"), std::string::npos) << error.what();
  }
}

TEST(Optimizer, SetLearningRateReachesEveryKind) {
  // p = 1, g = 2 on one parameter; each kind's first step is proportional to lr, so halving
  // lr after construction halves the step: the rate in effect is the one set last.
  for (int kind = 0; kind < 4; ++kind) {
    auto make = [kind](double lr) {
      switch (kind) {
        case 0: return Optimizer<double>(SGDConfig{lr});
        case 1: return Optimizer<double>(AdamConfig{lr});
        case 2: return Optimizer<double>(RMSpropConfig{lr});
        default: return Optimizer<double>(AdamWConfig{lr, 0.9, 0.999, 1e-8, 0.0});
      }
    };
    Optimizer<double> changed = make(0.2);
    changed.set_learning_rate(0.1);
    EXPECT_EQ(changed.learning_rate(), 0.1);
    Optimizer<double> reference = make(0.1);
    changed.bind(1, {{0, 1}});
    reference.bind(1, {{0, 1}});
    Vector<double> p1 = vec<double>({1}), p2 = vec<double>({1});
    Vector<double> g1 = vec<double>({2}), g2 = vec<double>({2});
    changed.step(p1, g1);
    reference.step(p2, g2);
    EXPECT_EQ(p1[0], p2[0]) << kind;
    EXPECT_LT(p1[0], 1.0) << kind;
  }
}

TEST(OptimizerValidation, RmspropRefusesInvalidHyperParameters) {
  for (double lr : {0.0, -1e-3, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(Optimizer<double>(RMSpropConfig{lr}), std::invalid_argument) << lr;
  for (double rho : {-0.1, 1.0, std::numeric_limits<double>::quiet_NaN()})
    EXPECT_THROW(Optimizer<double>(RMSpropConfig{1e-3, rho}), std::invalid_argument) << rho;
  EXPECT_THROW(Optimizer<double>(RMSpropConfig{1e-3, 0.9, 0.0}), std::invalid_argument);
  EXPECT_THROW(Optimizer<double>(RMSpropConfig{1e-3, 0.9, 1e-8, 1.0}), std::invalid_argument);
  EXPECT_THROW(Optimizer<double>(RMSpropConfig{1e-3, 0.9, 1e-8, 0.0, -1.0}), std::invalid_argument);
  EXPECT_THROW(Optimizer<double>(AdamWConfig{1e-3, 0.9, 0.999, 1e-8, -0.1}), std::invalid_argument);
  EXPECT_NO_THROW(Optimizer<double>(RMSpropConfig{1e-3, 0.0, 1e-8, 0.9, 0.1}));
}

TEST(Optimizer, RestoreStateOfAnotherShapeIsRefused) {
  Optimizer<double> small(SGDConfig{0.1, 0.9, false, 0.0});
  small.bind(2, {{0, 2}});
  Optimizer<double> large(SGDConfig{0.1, 0.9, false, 0.0});
  large.bind(5, {{0, 5}});
  EXPECT_THROW(small.restore_state(large.state()), std::invalid_argument);
}

TYPED_TEST(OptimizerTest, StateCarriedToAFreshOptimizerContinuesBitForBit) {
  for (const bool adam : {false, true}) {
    auto make = [adam] {
      return adam ? bound(Optimizer<TypeParam>(AdamConfig{0.1, 0.9, 0.999, 1e-8, 0.01}), 3, {{0, 2}})
                  : bound(Optimizer<TypeParam>(SGDConfig{0.1, 0.9, true, 0.01}), 3, {{0, 2}});
    };
    auto uninterrupted = make();
    this->p = vec<TypeParam>({1, -2, 0.5});
    this->step(uninterrupted, this->g1);
    const Vector<TypeParam> halfway = this->p;
    const auto saved = uninterrupted.state();
    this->step(uninterrupted, this->g2);
    const Vector<TypeParam> expected = this->p;

    auto resumed = make();  // as a loaded model has it: a new optimiser, the saved state put in
    resumed.restore_state(saved);
    EXPECT_EQ(resumed.steps_taken(), 1);
    this->p = halfway;
    this->step(resumed, this->g2);
    EXPECT_EQ(this->p, expected) << (adam ? "adam" : "sgd");
    EXPECT_EQ(resumed.steps_taken(), 2);
  }
}

TEST(Optimizer, RestoreStateRefusesANegativeStepCount) {
  Optimizer<double> adam(AdamConfig{});
  adam.bind(2, {{0, 2}});
  auto state = adam.state();
  state.steps = -1;
  EXPECT_THROW(adam.restore_state(state), std::invalid_argument);
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
