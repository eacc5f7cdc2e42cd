// Activation functions f and the chain-rule factor f'(Z) of backpropagation.
//
// The set is closed, so it is an enum; dispatch happens once per layer call, never per
// element and never on a string (names are parsed once, at the boundary).
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fastmlp/types.hpp"

namespace fastmlp {

enum class Activation {
  identity,
  sigmoid,
  tanh,
  relu,
  leaky_relu,  // z if z > 0 else negative_slope * z
  elu,         // z if z > 0 else exp(z) - 1 (alpha = 1)
  softplus,    // log(1 + exp(z)), a smooth relu
  silu,        // z * sigmoid(z), also called swish
  exp,         // e^z, the inverse of the log link (the output of a Poisson regression)
  softmax,     // row-wise; only as the output of cross-entropy
  step,        // 1 if z > 0 else 0; only as the output of a perceptron
};

// The engine is the one source of activation names (the Python package reads them from
// here): canonical names in the enum's order, and aliases (alias, canonical) such as
// scikit-learn's "logistic" for sigmoid, "linear" for identity and "swish" for silu.
std::vector<std::string> activation_names();
std::vector<std::pair<std::string, std::string>> activation_aliases();

// Parses a canonical name or an alias. Throws std::invalid_argument listing the names.
Activation activation_from_name(std::string_view name);
std::string activation_name(Activation activation);

// True for activations whose derivative is used in backpropagation through a hidden
// layer; softmax and step are only defined fused with their loss at the output.
bool has_elementwise_derivative(Activation activation);

// The canonical names of the activations a hidden layer may use (those with an elementwise
// derivative), in the enum's order.
std::vector<std::string> hidden_activation_names();

// A = f(Z), row-wise for softmax. Z and A have the same shape; they may not alias.
template <class T>
void activate(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z, MatrixRef<T> A);

// delta = delta ⊙ f'(Z), in place: turns dA into dZ. Reads both Z and A = f(Z) so that
// each derivative uses whichever is cheaper (sigmoid' = A(1 - A), relu' = [Z > 0]).
// Throws std::logic_error for softmax and step, which have no elementwise derivative.
template <class T>
void multiply_by_derivative(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z,
                            const ConstMatrixRef<T>& A, MatrixRef<T> delta);

}  // namespace fastmlp
