// Initial weights (cpp/src/initializer.cpp).
//
// Each scheme draws W (n_in × n_out) in row-major order from the portable generator:
// uniform schemes as bound · (2u − 1), normal schemes as stddev · N(0, 1).
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>

#include "fastmlp/initializer.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

template <class T>
Matrix<T> draw(Initializer initializer, Activation activation, Index n_in, Index n_out, std::uint64_t seed) {
  Matrix<T> W = Matrix<T>::Constant(n_in, n_out, T(99));
  Random random(seed);
  initialize_weights<T>(initializer, activation, W, random);
  return W;
}

// The same draws written out from the documented formula with a generator of our own.
Matrix<double> expected_uniform(double bound, Index n_in, Index n_out, std::uint64_t seed) {
  Random random(seed);
  Matrix<double> W(n_in, n_out);
  for (Index i = 0; i < n_in; ++i)
    for (Index j = 0; j < n_out; ++j) W(i, j) = bound * (2.0 * random.uniform() - 1.0);
  return W;
}

Matrix<double> expected_normal(double stddev, Index n_in, Index n_out, std::uint64_t seed) {
  Random random(seed);
  Matrix<double> W(n_in, n_out);
  for (Index i = 0; i < n_in; ++i)
    for (Index j = 0; j < n_out; ++j) W(i, j) = stddev * random.normal();
  return W;
}

TEST(Initializer, GlorotUniformBoundIsSqrtSixOverFanInPlusFanOut) {
  // n_in = 4, n_out = 2: a = √(6/6) = 1.  n_in = 10, n_out = 5: a = √(6/15) = 0.6324555320336759.
  EXPECT_EQ(draw<double>(Initializer::glorot_uniform, Activation::tanh, 4, 2, 7), expected_uniform(1.0, 4, 2, 7));
  EXPECT_EQ(draw<double>(Initializer::glorot_uniform, Activation::tanh, 10, 5, 7),
            expected_uniform(std::sqrt(6.0 / 15.0), 10, 5, 7));
}

TEST(Initializer, HeUniformBoundIsSqrtSixOverFanIn) {
  // n_in = 6: a = √(6/6) = 1; n_in = 24: a = 0.5.
  EXPECT_EQ(draw<double>(Initializer::he_uniform, Activation::relu, 6, 3, 11), expected_uniform(1.0, 6, 3, 11));
  EXPECT_EQ(draw<double>(Initializer::he_uniform, Activation::relu, 24, 3, 11), expected_uniform(0.5, 24, 3, 11));
}

TEST(Initializer, GlorotNormalStddevIsSqrtTwoOverFanInPlusFanOut) {
  // n_in = 3, n_out = 5: σ = √(2/8) = 0.5.
  EXPECT_EQ(draw<double>(Initializer::glorot_normal, Activation::sigmoid, 3, 5, 3), expected_normal(0.5, 3, 5, 3));
}

TEST(Initializer, HeNormalStddevIsSqrtTwoOverFanIn) {
  // n_in = 8: σ = √(2/8) = 0.5.
  EXPECT_EQ(draw<double>(Initializer::he_normal, Activation::relu, 8, 4, 5), expected_normal(0.5, 8, 4, 5));
}

TEST(Initializer, FloatWeightsAreTheDoubleDrawsRounded) {
  const Matrix<float> W = draw<float>(Initializer::glorot_uniform, Activation::tanh, 10, 5, 123);
  EXPECT_EQ(W, expected_uniform(std::sqrt(6.0 / 15.0), 10, 5, 123).cast<float>());
}

TEST(Initializer, ZerosFillsWithZero) {
  EXPECT_TRUE(draw<double>(Initializer::zeros, Activation::sigmoid, 5, 3, 1).isZero(0.0));
}

TEST(Initializer, DrawsHaveTheSchemesSpread) {
  // 300 × 200 draws: a wrong constant in a bound or a variance shows far beyond these margins
  // (the sampling error of a variance estimate from 60,000 draws is about 0.6%).
  const Matrix<double> he = draw<double>(Initializer::he_normal, Activation::relu, 300, 200, 2024);
  const double he_variance = he.array().square().mean();
  EXPECT_NEAR(he_variance, 2.0 / 300, 0.03 * 2.0 / 300);
  EXPECT_NEAR(he.mean(), 0.0, 0.002);

  const double bound = std::sqrt(6.0 / 500);
  const Matrix<double> glorot = draw<double>(Initializer::glorot_uniform, Activation::tanh, 300, 200, 2024);
  EXPECT_LE(glorot.cwiseAbs().maxCoeff(), bound);
  EXPECT_GT(glorot.cwiseAbs().maxCoeff(), 0.99 * bound);
  EXPECT_NEAR(glorot.array().square().mean(), bound * bound / 3, 0.03 * bound * bound / 3);  // U(−a, a): a²/3
}

TEST(Initializer, SameSeedSameWeightsOtherSeedOtherWeights) {
  const auto a = draw<double>(Initializer::he_normal, Activation::relu, 6, 4, 42);
  EXPECT_EQ(a, draw<double>(Initializer::he_normal, Activation::relu, 6, 4, 42));
  const auto b = draw<double>(Initializer::he_normal, Activation::relu, 6, 4, 43);
  EXPECT_GT((a - b).cwiseAbs().minCoeff(), 0.0);  // every single weight differs
}

TEST(Initializer, AutomaticPicksHeForTheReluFamilyAndGlorotOtherwise) {
  for (Activation activation : {Activation::relu, Activation::leaky_relu, Activation::elu, Activation::silu})
    EXPECT_EQ(resolve_initializer(Initializer::automatic, activation), Initializer::he_normal)
        << activation_name(activation);
  for (Activation activation : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::softplus,
                                Activation::softmax, Activation::step})
    EXPECT_EQ(resolve_initializer(Initializer::automatic, activation), Initializer::glorot_uniform)
        << activation_name(activation);
  // An explicit choice is kept whatever follows.
  EXPECT_EQ(resolve_initializer(Initializer::he_uniform, Activation::sigmoid), Initializer::he_uniform);
  EXPECT_EQ(resolve_initializer(Initializer::zeros, Activation::relu), Initializer::zeros);
  // And the automatic draws are those of the resolved scheme.
  EXPECT_EQ(draw<double>(Initializer::automatic, Activation::relu, 8, 4, 5), expected_normal(0.5, 8, 4, 5));
  EXPECT_EQ(draw<double>(Initializer::automatic, Activation::sigmoid, 4, 2, 7), expected_uniform(1.0, 4, 2, 7));
}

TEST(InitializerNames, RoundTripAndAuto) {
  for (Initializer initializer : {Initializer::automatic, Initializer::glorot_uniform, Initializer::glorot_normal,
                                  Initializer::he_uniform, Initializer::he_normal, Initializer::zeros})
    EXPECT_EQ(initializer_from_name(initializer_name(initializer)), initializer);
  EXPECT_EQ(initializer_from_name("auto"), Initializer::automatic);
  EXPECT_EQ(initializer_from_name("automatic"), Initializer::automatic);
}

TEST(InitializerNames, UnknownNameIsRefusedWithTheChoices) {
  try {
    initializer_from_name("xavier");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'xavier'"), std::string::npos) << message;
    EXPECT_NE(message.find("glorot_uniform"), std::string::npos) << message;
  }
}

TEST(InitializerNames, TheTableListsCanonicalNamesAndAliases) {
  EXPECT_EQ(initializer_names().size(), 6u);
  EXPECT_EQ(initializer_names().front(), "auto");
  ASSERT_EQ(initializer_aliases().size(), 1u);
  EXPECT_EQ(initializer_aliases().front(), (std::pair<std::string, std::string>{"automatic", "auto"}));
}

}  // namespace
}  // namespace fastmlp
