// A small, portable random number generator.
//
// The standard library's distributions differ between implementations, so the same seed
// would give other weights with another compiler. Everything random in the engine
// (initial weights, shuffling) is drawn from this generator with explicit arithmetic, so
// a seed means the same numbers everywhere.
#pragma once

#include <array>
#include <cmath>
#include <cstdint>
#include <stdexcept>

namespace fastmlp {

// xoshiro256** seeded through splitmix64 (Blackman & Vigna).
class Random {
 public:
  explicit Random(std::uint64_t seed) {
    for (auto& word : state_) {
      seed += 0x9E3779B97F4A7C15ULL;
      std::uint64_t z = seed;
      z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
      z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
      word = z ^ (z >> 31);
    }
  }

  // The four words of the generator, so that a saved model can continue the same stream.
  using State = std::array<std::uint64_t, 4>;
  State state() const { return {state_[0], state_[1], state_[2], state_[3]}; }
  // Throws std::invalid_argument for the all-zero state, from which xoshiro only ever draws zero.
  void set_state(const State& state) {
    if (state[0] == 0 && state[1] == 0 && state[2] == 0 && state[3] == 0)
      throw std::invalid_argument("the generator state must not be all zero");
    for (std::size_t i = 0; i < 4; ++i) state_[i] = state[i];
  }

  std::uint64_t next() {
    const std::uint64_t result = rotl(state_[1] * 5, 7) * 9;
    const std::uint64_t t = state_[1] << 17;
    state_[2] ^= state_[0];
    state_[3] ^= state_[1];
    state_[1] ^= state_[2];
    state_[0] ^= state_[3];
    state_[2] ^= t;
    state_[3] = rotl(state_[3], 45);
    return result;
  }

  // Uniform in [0, 1) with 53 random bits.
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

  // Uniform integer in [0, n), without modulo bias (rejection sampling).
  std::uint64_t below(std::uint64_t n) {
    const std::uint64_t limit = UINT64_MAX - UINT64_MAX % n;
    std::uint64_t draw;
    do draw = next();
    while (draw >= limit);
    return draw % n;
  }

  // Standard normal by the Box-Muller transform.
  double normal() {
    const double u1 = 1.0 - uniform();  // in (0, 1], so the log is finite
    const double u2 = uniform();
    return std::sqrt(-2.0 * std::log(u1)) * std::cos(6.283185307179586 * u2);
  }

 private:
  static std::uint64_t rotl(std::uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  std::uint64_t state_[4];
};

}  // namespace fastmlp
