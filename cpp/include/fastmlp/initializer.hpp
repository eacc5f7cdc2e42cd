// Initial weights, chosen by the activation that follows them.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fastmlp/activation.hpp"
#include "fastmlp/random.hpp"
#include "fastmlp/types.hpp"

namespace fastmlp {

enum class Initializer {
  automatic,       // glorot_uniform for saturating activations, he_normal for the relu family
  glorot_uniform,  // U(-a, a), a = sqrt(6 / (n_in + n_out))   (Glorot & Bengio, 2010)
  glorot_normal,   // N(0, 2 / (n_in + n_out))
  he_uniform,      // U(-a, a), a = sqrt(6 / n_in)
  he_normal,       // N(0, 2 / n_in)                           (He et al., 2015)
  zeros,           // all zero: fine for a single neuron, useless for hidden layers
};

// The one source of initialiser names: canonical names (enum order) and aliases
// (alias, canonical): "automatic" for "auto".
std::vector<std::string> initializer_names();
std::vector<std::pair<std::string, std::string>> initializer_aliases();

// Parses a canonical name or an alias. Throws std::invalid_argument listing the names.
Initializer initializer_from_name(std::string_view name);
std::string initializer_name(Initializer initializer);

// The concrete scheme that `automatic` stands for before an activation.
Initializer resolve_initializer(Initializer initializer, Activation activation);

// Fills W (n_in × n_out) from the generator; biases are always set to zero by the caller.
template <class T>
void initialize_weights(Initializer initializer, Activation activation, MatrixRef<T> W, Random& random);

}  // namespace fastmlp
