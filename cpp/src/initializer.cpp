#include "fastmlp/initializer.hpp"

#include <cmath>
#include <stdexcept>

namespace fastmlp {

Initializer initializer_from_name(std::string_view name) {
  if (name == "auto" || name == "automatic") return Initializer::automatic;
  if (name == "glorot_uniform") return Initializer::glorot_uniform;
  if (name == "glorot_normal") return Initializer::glorot_normal;
  if (name == "he_uniform") return Initializer::he_uniform;
  if (name == "he_normal") return Initializer::he_normal;
  if (name == "zeros") return Initializer::zeros;
  throw std::invalid_argument("unknown initializer '" + std::string(name) +
                              "'; expected one of: auto glorot_uniform glorot_normal he_uniform he_normal zeros");
}

std::string initializer_name(Initializer initializer) {
  switch (initializer) {
    case Initializer::automatic: return "auto";
    case Initializer::glorot_uniform: return "glorot_uniform";
    case Initializer::glorot_normal: return "glorot_normal";
    case Initializer::he_uniform: return "he_uniform";
    case Initializer::he_normal: return "he_normal";
    case Initializer::zeros: return "zeros";
  }
  throw std::logic_error("initializer without a name");
}

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
