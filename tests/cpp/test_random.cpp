// The portable generator (cpp/include/fastmlp/random.hpp): xoshiro256** seeded by splitmix64.
//
// The expected words come from a separate implementation of the published algorithms (a few
// lines of Python), itself checked against the authors' test vectors: splitmix64 from seed
// 1234567 gives 6457827717110365317, 3203168211198807973, ...; xoshiro256** from the state
// {1, 2, 3, 4} gives 11520, 0, 1509978240, 1215971899390074240.
#include <gtest/gtest.h>

#include <algorithm>
#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <vector>

#include "fastmlp/random.hpp"

namespace fastmlp {
namespace {

TEST(Random, MatchesTheReferenceStreamForSeedZero) {
  Random random(0);
  EXPECT_EQ(random.next(), 0x99ec5f36cb75f2b4ULL);
  EXPECT_EQ(random.next(), 0xbf6e1f784956452aULL);
  EXPECT_EQ(random.next(), 0x1a5f849d4933e6e0ULL);
  EXPECT_EQ(random.next(), 0x6aa594f1262d2d2cULL);
}

TEST(Random, MatchesTheReferenceStreamForSeed42) {
  Random random(42);
  EXPECT_EQ(random.next(), 0x15780b2e0c2ec716ULL);
  EXPECT_EQ(random.next(), 0x6104d9866d113a7eULL);
  EXPECT_EQ(random.next(), 0xae17533239e499a1ULL);
  EXPECT_EQ(random.next(), 0xecb8ad4703b360a1ULL);
}

TEST(Random, UniformUsesTheTop53Bits) {
  // (word >> 11) · 2^−53 for the first three words of seed 42.
  Random random(42);
  EXPECT_EQ(random.uniform(), 0.08386297105988216);
  EXPECT_EQ(random.uniform(), 0.3789802506626686);
  EXPECT_EQ(random.uniform(), 0.6800434110281394);
}

TEST(Random, UniformStaysInTheHalfOpenUnitInterval) {
  Random random(7);
  double low = 1.0, high = 0.0, sum = 0.0;
  const int n = 100000;
  for (int i = 0; i < n; ++i) {
    const double u = random.uniform();
    low = std::min(low, u);
    high = std::max(high, u);
    sum += u;
  }
  EXPECT_GE(low, 0.0);
  EXPECT_LT(high, 1.0);
  EXPECT_LT(low, 1e-3);
  EXPECT_GT(high, 1.0 - 1e-3);
  EXPECT_NEAR(sum / n, 0.5, 0.005);  // the standard error is 0.29/√n ≈ 0.0009
}

TEST(Random, BelowIsInRangeAndEvenlySpread) {
  Random random(3);
  std::array<int, 6> counts{};
  const int n = 60000;
  for (int i = 0; i < n; ++i) {
    const std::uint64_t k = random.below(6);
    ASSERT_LT(k, 6u);
    ++counts[k];
  }
  // Pearson's χ² with 5 degrees of freedom: 20.5 is its 99.9% quantile.
  double chi2 = 0.0;
  for (int c : counts) chi2 += (c - n / 6.0) * (c - n / 6.0) / (n / 6.0);
  EXPECT_LT(chi2, 20.5);
  for (int i = 0; i < 100; ++i) EXPECT_EQ(random.below(1), 0u);
}

TEST(Random, BelowRejectsTheBiasedTopOfTheRange) {
  // For n = 2^63 + 1 only words below n can be kept without modulo bias (half of them are
  // rejected); each kept word is its own remainder.
  const std::uint64_t n = (1ULL << 63) + 1;
  Random random(99), words(99);
  for (int i = 0; i < 50; ++i) {
    std::uint64_t word;
    do word = words.next();
    while (word >= n);
    EXPECT_EQ(random.below(n), word);
  }
}

TEST(Random, NormalIsBoxMullerOfTwoUniforms) {
  Random random(5), uniforms(5);
  for (int i = 0; i < 10; ++i) {
    const double u1 = 1.0 - uniforms.uniform();
    const double u2 = uniforms.uniform();
    EXPECT_EQ(random.normal(), std::sqrt(-2.0 * std::log(u1)) * std::cos(2.0 * std::acos(-1.0) * u2));
  }
}

TEST(Random, NormalHasMeanZeroAndVarianceOne) {
  Random random(11);
  const int n = 200000;
  double sum = 0.0, sum_squares = 0.0, sum_fourth = 0.0;
  for (int i = 0; i < n; ++i) {
    const double x = random.normal();
    ASSERT_TRUE(std::isfinite(x));
    sum += x;
    sum_squares += x * x;
    sum_fourth += x * x * x * x;
  }
  EXPECT_NEAR(sum / n, 0.0, 0.01);           // standard error 0.0022
  EXPECT_NEAR(sum_squares / n, 1.0, 0.015);  // standard error 0.0032
  EXPECT_NEAR(sum_fourth / n, 3.0, 0.1);     // a normal's fourth moment; standard error 0.022
}

TEST(Random, CopiesContinueTheSameStream) {
  Random original(8);
  original.next();
  Random copy = original;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(original.next(), copy.next());
}

TEST(Random, SetStateGivesTheAuthorsStreamForOneTwoThreeFour) {
  Random random(0);
  random.set_state({1, 2, 3, 4});
  const std::array<std::uint64_t, 4> expected = {11520ULL, 0ULL, 1509978240ULL, 1215971899390074240ULL};
  for (auto word : expected) EXPECT_EQ(random.next(), word);
}

TEST(Random, AStateCarriedToAnotherGeneratorContinuesTheStream) {
  Random original(77);
  for (int i = 0; i < 3; ++i) original.next();
  Random other(5);
  other.set_state(original.state());
  for (int i = 0; i < 5; ++i) EXPECT_EQ(original.next(), other.next());
}

TEST(Random, TheAllZeroStateIsRefused) {
  Random random(3);
  const auto before = random.state();
  EXPECT_THROW(random.set_state({0, 0, 0, 0}), std::invalid_argument);
  EXPECT_EQ(random.state(), before);
}

TEST(Random, NearbySeedsGiveUnrelatedStreams) {
  Random a(1), b(2);
  int equal = 0;
  for (int i = 0; i < 1000; ++i) equal += a.below(2) == b.below(2);
  EXPECT_NEAR(equal, 500, 100);  // independent fair coins agree about half the time
}

}  // namespace
}  // namespace fastmlp
