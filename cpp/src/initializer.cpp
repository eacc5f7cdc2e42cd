#include "fastmlp/initializer.hpp"

#include "name_table.hpp"

#include <cmath>
#include <stdexcept>

namespace fastmlp {

namespace {

constexpr detail::NameTable<Initializer, 6, 1> kTable{
    "initializer",
    {{
        {"auto", Initializer::automatic},
        {"glorot_uniform", Initializer::glorot_uniform},
        {"glorot_normal", Initializer::glorot_normal},
        {"he_uniform", Initializer::he_uniform},
        {"he_normal", Initializer::he_normal},
        {"zeros", Initializer::zeros},
    }},
    {{{"automatic", Initializer::automatic}}},
};

}  // namespace

Initializer initializer_from_name(std::string_view name) { return kTable.parse(name); }
std::string initializer_name(Initializer initializer) { return kTable.name(initializer); }
std::vector<std::string> initializer_names() { return kTable.canonical(); }
std::vector<std::pair<std::string, std::string>> initializer_aliases() { return kTable.alias_pairs(); }

Initializer resolve_initializer(Initializer initializer, Activation activation) {
  if (initializer != Initializer::automatic) return initializer;
  switch (activation) {
    case Activation::relu:
    case Activation::leaky_relu:
    case Activation::elu:
    case Activation::silu:
      return Initializer::he_normal;
    default:
      return Initializer::glorot_uniform;
  }
}

template <class T>
void initialize_weights(Initializer initializer, Activation activation, MatrixRef<T> W, Random& random) {
  const double fan_in = static_cast<double>(W.rows());
  const double fan_out = static_cast<double>(W.cols());
  const Initializer scheme = resolve_initializer(initializer, activation);
  double bound = 0.0;   // for the uniform schemes
  double stddev = 0.0;  // for the normal schemes
  switch (scheme) {
    case Initializer::glorot_uniform: bound = std::sqrt(6.0 / (fan_in + fan_out)); break;
    case Initializer::glorot_normal: stddev = std::sqrt(2.0 / (fan_in + fan_out)); break;
    case Initializer::he_uniform: bound = std::sqrt(6.0 / fan_in); break;
    case Initializer::he_normal: stddev = std::sqrt(2.0 / fan_in); break;
    case Initializer::zeros: W.setZero(); return;
    case Initializer::automatic: throw std::logic_error("unresolved initializer");
  }
  for (Index i = 0; i < W.rows(); ++i) {
    for (Index j = 0; j < W.cols(); ++j) {
      const double draw = bound > 0.0 ? bound * (2.0 * random.uniform() - 1.0) : stddev * random.normal();
      W(i, j) = static_cast<T>(draw);
    }
  }
}

template void initialize_weights<float>(Initializer, Activation, MatrixRef<float>, Random&);
template void initialize_weights<double>(Initializer, Activation, MatrixRef<double>, Random&);

}  // namespace fastmlp
