// Activations and their derivatives (cpp/src/activation.cpp).
//
// Expected values are worked out from the definitions in double precision, independently of
// the engine; the comment above each table gives the formula.
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "fastmlp/activation.hpp"
#include "test_support.hpp"

namespace fastmlp {
namespace {

using testing::max_scaled_difference;
using testing::rows;
using testing::tolerance;

template <class T>
Matrix<T> apply(Activation activation, const Matrix<T>& Z, double slope = 0.01) {
  Matrix<T> A(Z.rows(), Z.cols());
  activate<T>(activation, static_cast<T>(slope), Z, A);
  return A;
}

// f'(Z), obtained by multiplying a delta of ones.
template <class T>
Matrix<T> derivative(Activation activation, const Matrix<T>& Z, double slope = 0.01) {
  const Matrix<T> A = apply<T>(activation, Z, slope);
  Matrix<T> delta = Matrix<T>::Ones(Z.rows(), Z.cols());
  multiply_by_derivative<T>(activation, static_cast<T>(slope), Z, A, delta);
  return delta;
}

template <class T>
class ActivationTest : public ::testing::Test {
 protected:
  // The points of every hand-worked table below: two negative, the kink, two positive.
  const Matrix<T> Z = rows<T>({{-2.0, -0.5, 0.0, 0.5, 2.0}});

  void expect_values(Activation activation, std::initializer_list<double> expected_a,
                     std::initializer_list<double> expected_da, double slope = 0.01) {
    const Matrix<double> want_a = rows<double>({expected_a});
    const Matrix<double> want_da = rows<double>({expected_da});
    EXPECT_LE(max_scaled_difference(apply<T>(activation, Z, slope), want_a), tolerance<T>())
        << activation_name(activation) << " values: " << apply<T>(activation, Z, slope);
    EXPECT_LE(max_scaled_difference(derivative<T>(activation, Z, slope), want_da), tolerance<T>())
        << activation_name(activation) << " derivative: " << derivative<T>(activation, Z, slope);
  }
};

using Precisions = ::testing::Types<float, double>;
TYPED_TEST_SUITE(ActivationTest, Precisions);

TYPED_TEST(ActivationTest, IdentityPassesZThroughWithSlopeOne) {
  this->expect_values(Activation::identity, {-2.0, -0.5, 0.0, 0.5, 2.0}, {1, 1, 1, 1, 1});
}

TYPED_TEST(ActivationTest, SigmoidAndItsDerivative) {
  // σ(z) = 1 / (1 + e^−z):  σ(−2) = 1/(1 + e²) = 0.11920292202211755, σ(−0.5) = 0.3775406687981454,
  // σ(0) = 0.5, and σ(−z) = 1 − σ(z) for the positive side.
  // σ'(z) = σ(1 − σ):  σ'(±2) = 0.8807970779778823 · 0.11920292202211755 = 0.10499358540350652,
  // σ'(±0.5) = 0.6224593312018546 · 0.3775406687981454 = 0.2350037122015945, σ'(0) = 0.25.
  this->expect_values(Activation::sigmoid,
                      {0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546, 0.8807970779778823},
                      {0.10499358540350652, 0.2350037122015945, 0.25, 0.2350037122015945, 0.10499358540350652});
}

TYPED_TEST(ActivationTest, TanhAndItsDerivative) {
  // tanh(0.5) = 0.46211715726000974, tanh(2) = 0.9640275800758169, odd function.
  // tanh' = 1 − tanh²: 1 − 0.46211715726000974² = 0.7864477329659274,
  // 1 − 0.9640275800758169² = 0.07065082485316443, tanh'(0) = 1.
  this->expect_values(Activation::tanh,
                      {-0.9640275800758169, -0.46211715726000974, 0.0, 0.46211715726000974, 0.9640275800758169},
                      {0.07065082485316443, 0.7864477329659274, 1.0, 0.7864477329659274, 0.07065082485316443});
}

TYPED_TEST(ActivationTest, ReluAndItsDerivativeWithReluPrimeOfZeroEqualToZero) {
  // max(0, z); the derivative is [z > 0], so relu'(0) = 0 by convention.
  this->expect_values(Activation::relu, {0.0, 0.0, 0.0, 0.5, 2.0}, {0, 0, 0, 1, 1});
}

TYPED_TEST(ActivationTest, LeakyReluUsesItsSlopeBelowAndAtZero) {
  // Slope 0.1: −2 → −0.2, −0.5 → −0.05; the derivative is 1 where z > 0, else the slope
  // (so leaky_relu'(0) = slope, the same convention as relu'(0) = 0).
  this->expect_values(Activation::leaky_relu, {-0.2, -0.05, 0.0, 0.5, 2.0}, {0.1, 0.1, 0.1, 1, 1}, 0.1);
  // The slope is a parameter, not a constant: 0.3 gives −0.6 at z = −2.
  const Matrix<TypeParam> A = apply<TypeParam>(Activation::leaky_relu, this->Z, 0.3);
  EXPECT_NEAR(static_cast<double>(A(0, 0)), -0.6, tolerance<TypeParam>());
}

TYPED_TEST(ActivationTest, EluWithAlphaOne) {
  // z ≤ 0: e^z − 1:  e^−2 − 1 = −0.8646647167633873, e^−0.5 − 1 = −0.3934693402873666, 0 at 0.
  // Derivative e^z there: 0.1353352832366127, 0.6065306597126334, and elu'(0) = e^0 = 1
  // (alpha = 1 makes the function continuously differentiable); 1 for z > 0.
  this->expect_values(Activation::elu, {-0.8646647167633873, -0.3934693402873666, 0.0, 0.5, 2.0},
                      {0.1353352832366127, 0.6065306597126334, 1.0, 1.0, 1.0});
}

TYPED_TEST(ActivationTest, SoftplusAndItsDerivativeTheSigmoid) {
  // log(1 + e^z): log(1 + e^−2) = 0.1269280110429725, log(1 + e^−0.5) = 0.4740769841801067,
  // log 2 = 0.6931471805599453, and softplus(z) = z + softplus(−z) for z > 0.
  // softplus' = σ.
  this->expect_values(Activation::softplus,
                      {0.1269280110429725, 0.4740769841801067, 0.6931471805599453, 0.9740769841801067,
                       2.1269280110429725},
                      {0.11920292202211755, 0.3775406687981454, 0.5, 0.6224593312018546, 0.8807970779778823});
}

TYPED_TEST(ActivationTest, SiluAndItsDerivative) {
  // z·σ(z): −2 · 0.11920292202211755 = −0.2384058440442351, −0.5 · 0.3775406687981454 =
  // −0.1887703343990727, 0, 0.5 · 0.6224593312018546 = 0.3112296656009273, 2 · 0.8807970779778823.
  // Derivative σ(1 + z(1 − σ)): at −2: 0.11920292202211755 · (1 − 2 · 0.8807970779778823) =
  // −0.09078424878489547; at −0.5: 0.3775406687981454 · (1 − 0.5 · 0.6224593312018546) =
  // 0.2600388126973482; at 0: 0.5; at 0.5: 0.7399611873026519; at 2: 1.0907842487848955.
  this->expect_values(
      Activation::silu,
      {-0.2384058440442351, -0.1887703343990727, 0.0, 0.3112296656009273, 1.7615941559557646},
      {-0.09078424878489547, 0.2600388126973482, 0.5, 0.7399611873026519, 1.0907842487848955});
}

TYPED_TEST(ActivationTest, ExpIsItsOwnDerivative) {
  // e^z at −2, −0.5, 0, 0.5, 2, and exp' = exp.
  const std::initializer_list<double> e = {0.1353352832366127, 0.6065306597126334, 1.0, 1.6487212707001282,
                                           7.38905609893065};
  this->expect_values(Activation::exp, e, e);
}

TYPED_TEST(ActivationTest, StepIsOneAboveZeroAndZeroAtZero) {
  const Matrix<TypeParam> A = apply<TypeParam>(Activation::step, this->Z);
  EXPECT_EQ(A, rows<TypeParam>({{0, 0, 0, 1, 1}}));  // step(0) = 0
}

TYPED_TEST(ActivationTest, SoftmaxIsRowWise) {
  // Row [1, 2, 3]: e^k / (e + e² + e³) = 0.09003057317038046, 0.24472847105479767, 0.6652409557748219.
  // Row [0, 0, 0]: 1/3 each. Adding a constant to a row changes nothing (row [101, 102, 103]).
  const Matrix<TypeParam> Z = rows<TypeParam>({{1, 2, 3}, {0, 0, 0}, {101, 102, 103}});
  const Matrix<double> expected = rows<double>({{0.09003057317038046, 0.24472847105479767, 0.6652409557748219},
                                                {1.0 / 3, 1.0 / 3, 1.0 / 3},
                                                {0.09003057317038046, 0.24472847105479767, 0.6652409557748219}});
  EXPECT_LE(max_scaled_difference(apply<TypeParam>(Activation::softmax, Z), expected), tolerance<TypeParam>());
}

TYPED_TEST(ActivationTest, DerivativeMultipliesTheIncomingDeltaInPlace) {
  // dZ = dA ⊙ f'(Z): with dA = 3 at every point, tanh gives 3 · (1 − tanh²).
  const Matrix<TypeParam> A = apply<TypeParam>(Activation::tanh, this->Z);
  Matrix<TypeParam> delta = Matrix<TypeParam>::Constant(1, 5, TypeParam(3));
  multiply_by_derivative<TypeParam>(Activation::tanh, TypeParam(0.01), this->Z, A, delta);
  const Matrix<double> expected =
      3.0 * rows<double>({{0.07065082485316443, 0.7864477329659274, 1.0, 0.7864477329659274, 0.07065082485316443}});
  EXPECT_LE(max_scaled_difference(delta, expected), tolerance<TypeParam>());
}

TEST(ActivationPrecision, EluKeepsRelativeAccuracyNearZeroAndFarBelow) {
  // Near zero e^z − 1 computed as written loses the leading digits (e^−1e−10 − 1 comes out as
  // −1.00000008e−10); expm1(−1e−10) = −9.999999999500001e−11.
  // Far below zero the derivative e^z must not be recovered as A + 1 = (e^z − 1) + 1, which is
  // 0 at z = −40 instead of e^−40 = 4.248354255291589e−18.
  const Matrix<double> Z = rows<double>({{-1e-10, -40.0}});
  const Matrix<double> A = apply<double>(Activation::elu, Z);
  EXPECT_NEAR(A(0, 0) / -9.999999999500001e-11, 1.0, 1e-13);
  const Matrix<double> dA = derivative<double>(Activation::elu, Z);
  EXPECT_NEAR(dA(0, 1) / 4.248354255291589e-18, 1.0, 1e-13);
  EXPECT_NEAR(dA(0, 0), 1.0 - 1e-10, 1e-16);
}

TEST(ActivationPrecision, SigmoidDerivativeKeepsRelativeAccuracyInTheTails) {
  // σ'(−40) = σ(−40)(1 − σ(−40)) = e^−40 / (1 + e^−40)² = 4.248354255291589e−18 (to 17 digits).
  const Matrix<double> Z = rows<double>({{-40.0}});
  EXPECT_NEAR(derivative<double>(Activation::sigmoid, Z)(0, 0) / 4.248354255291589e-18, 1.0, 1e-13);
  EXPECT_NEAR(apply<double>(Activation::sigmoid, Z)(0, 0) / 4.248354255291589e-18, 1.0, 1e-13);
}

// At |z| = 1000 every exp would overflow if taken naively: values and derivatives must be
// finite and equal to their limits exactly.
struct Limits {
  Activation activation;
  double at_plus, at_minus;              // f(1000), f(−1000)
  double slope_at_plus, slope_at_minus;  // f'(1000), f'(−1000)
};

template <class T>
void expect_exact_limits(const Limits& limits) {
  const Matrix<T> Z = rows<T>({{1000.0, -1000.0}});
  const Matrix<T> A = apply<T>(limits.activation, Z, 0.01);
  const std::string name = activation_name(limits.activation);
  ASSERT_TRUE(A.allFinite()) << name << ": " << A;
  EXPECT_EQ(A(0, 0), static_cast<T>(limits.at_plus)) << name;
  EXPECT_EQ(A(0, 1), static_cast<T>(limits.at_minus)) << name;
  if (!has_elementwise_derivative(limits.activation)) return;
  const Matrix<T> dA = derivative<T>(limits.activation, Z, 0.01);
  ASSERT_TRUE(dA.allFinite()) << name << ": " << dA;
  EXPECT_EQ(dA(0, 0), static_cast<T>(limits.slope_at_plus)) << name;
  EXPECT_EQ(dA(0, 1), static_cast<T>(limits.slope_at_minus)) << name;
}

const std::vector<Limits> kLimits = {
    {Activation::identity, 1000, -1000, 1, 1},
    {Activation::sigmoid, 1, 0, 0, 0},
    {Activation::tanh, 1, -1, 0, 0},
    {Activation::relu, 1000, 0, 1, 0},
    {Activation::leaky_relu, 1000, -1000 * 0.01, 1, 0.01},
    {Activation::elu, 1000, -1, 1, 0},
    {Activation::softplus, 1000, 0, 1, 0},
    {Activation::silu, 1000, 0, 1, 0},
    {Activation::step, 1, 0, 0, 0},
};

TYPED_TEST(ActivationTest, ValuesAndDerivativesAreFiniteAndExactAtPlusMinus1000) {
  for (const Limits& limits : kLimits) expect_exact_limits<TypeParam>(limits);
}

TYPED_TEST(ActivationTest, SoftmaxIsFiniteAndExactAtPlusMinus1000) {
  using T = TypeParam;
  const Matrix<T> Z = rows<T>({{1000, -1000}, {-1000, 1000}, {1000, 1000}, {-1000, -1000}});
  const Matrix<T> A = apply<T>(Activation::softmax, Z);
  ASSERT_TRUE(A.allFinite()) << A;
  // The winner's probability is exactly 1 and ties are exactly 1/2.
  EXPECT_EQ(A(0, 0), T(1));
  EXPECT_EQ(A(1, 1), T(1));
  EXPECT_EQ(A.row(2), rows<T>({{0.5, 0.5}}));
  EXPECT_EQ(A.row(3), rows<T>({{0.5, 0.5}}));
  // The loser's is e^−2000, which is 0; Eigen's vectorised exp clamps its argument at about
  // −709.78 and returns 5.6e−309 there (float: likewise below about −88), so what is asserted is
  // "below the smallest normal number": zero for every practical purpose, never negative.
  EXPECT_GE(A(0, 1), T(0));
  EXPECT_LE(A(0, 1), std::numeric_limits<T>::min());
  EXPECT_GE(A(1, 0), T(0));
  EXPECT_LE(A(1, 0), std::numeric_limits<T>::min());
}

// A third, independent check of every elementwise derivative: central differences of the
// engine's own f, in float64, at points away from kinks.
TEST(ActivationDerivative, MatchesCentralDifferencesForEveryElementwiseActivation) {
  const Matrix<double> Z = rows<double>({{-3.0, -1.3, -0.2, 0.2, 0.7, 2.5}});
  const double h = 1e-6;
  for (Activation activation : {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu,
                                Activation::leaky_relu, Activation::elu, Activation::softplus, Activation::silu,
                                Activation::exp}) {
    const Matrix<double> plus = Z.array() + h;
    const Matrix<double> minus = Z.array() - h;
    const Matrix<double> numeric = (apply<double>(activation, plus, 0.05) - apply<double>(activation, minus, 0.05)) / (2 * h);
    EXPECT_LE(max_scaled_difference(derivative<double>(activation, Z, 0.05), numeric), 1e-8)
        << activation_name(activation);
  }
}

TEST(ActivationDerivative, SoftmaxAndStepHaveNoElementwiseDerivative) {
  EXPECT_FALSE(has_elementwise_derivative(Activation::softmax));
  EXPECT_FALSE(has_elementwise_derivative(Activation::step));
  EXPECT_TRUE(has_elementwise_derivative(Activation::relu));
  const Matrix<double> Z = rows<double>({{0.5, -0.5}});
  Matrix<double> delta = Matrix<double>::Ones(1, 2);
  for (Activation activation : {Activation::softmax, Activation::step}) {
    const Matrix<double> A = apply<double>(activation, Z);
    try {
      multiply_by_derivative<double>(activation, 0.01, Z, A, delta);
      ADD_FAILURE() << activation_name(activation) << " derivative did not throw";
    } catch (const std::logic_error& error) {
      EXPECT_NE(std::string(error.what()).find(activation_name(activation)), std::string::npos) << error.what();
    }
  }
}

TEST(ActivationNames, RoundTripEveryActivation) {
  for (Activation activation :
       {Activation::identity, Activation::sigmoid, Activation::tanh, Activation::relu, Activation::leaky_relu,
        Activation::elu, Activation::softplus, Activation::silu, Activation::exp, Activation::softmax,
        Activation::step}) {
    EXPECT_EQ(activation_from_name(activation_name(activation)), activation);
  }
  EXPECT_EQ(activation_name(Activation::leaky_relu), "leaky_relu");
}

TEST(ActivationNames, LogisticIsScikitLearnsNameForSigmoid) {
  EXPECT_EQ(activation_from_name("logistic"), Activation::sigmoid);
  EXPECT_EQ(activation_name(Activation::sigmoid), "sigmoid");
}

TEST(ActivationNames, UnknownNameIsRefusedWithTheNameAndTheChoices) {
  try {
    activation_from_name("sigmod");
    FAIL() << "no exception";
  } catch (const std::invalid_argument& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("'sigmod'"), std::string::npos) << message;
    EXPECT_NE(message.find("sigmoid"), std::string::npos) << message;
    EXPECT_NE(message.find("leaky_relu"), std::string::npos) << message;
  }
  EXPECT_THROW(activation_from_name(""), std::invalid_argument);
  EXPECT_THROW(activation_from_name("ReLU"), std::invalid_argument);  // names are exact
}

TEST(ActivationNames, TheTableListsCanonicalNamesAliasesAndHiddenOnes) {
  const std::vector<std::string> names = activation_names();
  ASSERT_EQ(names.size(), 11u);
  for (const std::string& name : names) EXPECT_EQ(activation_name(activation_from_name(name)), name);
  for (const auto& [alias, canonical] : activation_aliases())
    EXPECT_EQ(activation_from_name(alias), activation_from_name(canonical)) << alias;
  EXPECT_EQ(activation_from_name("linear"), Activation::identity);
  EXPECT_EQ(activation_from_name("swish"), Activation::silu);
  const std::vector<std::string> hidden = hidden_activation_names();
  EXPECT_EQ(hidden.size(), names.size() - 2);
  for (const std::string& name : hidden) EXPECT_TRUE(has_elementwise_derivative(activation_from_name(name))) << name;
}

}  // namespace
}  // namespace fastmlp
