// Losses: the value of a batch and the output delta dZ[L] that starts backpropagation.
//
// Every loss is a MEAN over the m samples of a batch. Across the outputs of one sample,
// cross-entropy, binary cross-entropy, hinge and the perceptron criterion SUM, while the
// regression losses (mean squared error, mean absolute error, Huber, Poisson) AVERAGE over
// the k outputs (no ½ in mse). With these reductions the output deltas are
//   softmax + cross_entropy, sigmoid + binary_cross_entropy:  dZ = (P − Y) / m
//   identity + hinge (t = 2Y − 1):                            dZ = −t / m where t·z < 1, else 0
//   step + perceptron (ŷ = step(z)):                          dZ = (ŷ − Y) / m
//   exp + poisson (log link, A = e^Z):                        dZ = (A − Y) / (m·k)
//   any f + mse:    L = mean((A − Y)²)                        dZ = 2 (A − Y) / (m·k) ⊙ f'(Z)
//   any f + mae:    L = mean(|A − Y|)                         dZ = sign(A − Y) / (m·k) ⊙ f'(Z)
//   any f + huber:  L = mean(h_δ(A − Y)),                     dZ = clip(A − Y, −δ, δ) / (m·k) ⊙ f'(Z)
//                   h_δ(r) = r²/2 if |r| <= δ else δ(|r| − δ/2)
// Poisson is the half deviance y·log(y/μ) − y + μ with μ = A = e^Z, as scikit-learn's
// MLPRegressor(loss="poisson") and PoissonRegressor define it: zero for a perfect fit. Its loss
// is computed from Z (y·log μ = y·z), so no logarithm of a tiny μ is ever taken; it needs y >= 0.
// MAE's sign(0) is 0 (a subgradient), as in PyTorch.
// Optional per-sample weights w multiply sample i's loss and its row of dZ; the mean still
// divides by m, so weights that average to one leave the scale of the loss unchanged.
#pragma once

#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "fastmlp/activation.hpp"
#include "fastmlp/types.hpp"

namespace fastmlp {

enum class Loss {
  none,                  // inference only: a network without a loss cannot be trained
  cross_entropy,         // softmax output, one-hot targets
  binary_cross_entropy,  // sigmoid outputs, each an independent {0, 1} problem
  mse,                   // any output but softmax and step
  hinge,                 // identity output, targets {0, 1} read as t = 2y − 1 (linear SVM)
  perceptron,            // step output; the criterion Σ (ŷ − y)·z, Rosenblatt's rule
  mae,                   // mean absolute error; any output but softmax and step
  huber,                 // quadratic within δ of the target, linear beyond; as mse
  poisson,               // half Poisson deviance; exp output (log link), targets y >= 0
};

// The one source of loss names: the training losses' canonical names (enum order, without
// "none"), the aliases (alias, canonical) such as scikit-learn's "log_loss" and
// "squared_error", and the losses whose targets are classes.
std::vector<std::string> loss_names();
std::vector<std::pair<std::string, std::string>> loss_aliases();
std::vector<std::string> classification_loss_names();

// Parses a canonical name, an alias or "none". Throws std::invalid_argument listing the names.
Loss loss_from_name(std::string_view name);
std::string loss_name(Loss loss);

// Throws std::invalid_argument, saying why, when the output activation and the loss do not
// belong together (their fused delta would be wrong) or the output width does not fit.
void check_output_fits_loss(Loss loss, Activation output, Index n_outputs);

// True for losses whose targets are classes, so that accuracy means something.
bool is_classification(Loss loss);

// Throws std::invalid_argument when Y holds targets the loss is not defined for (a negative
// count for poisson). The other losses accept any finite Y.
template <class T>
void check_targets_fit_loss(Loss loss, const ConstMatrixRef<T>& Y);

// Throws std::invalid_argument unless δ, the point where Huber turns linear, is positive and finite.
void check_huber_delta(double delta);

// Returns the weighted mean loss of the batch. When dZ is non-null it receives the output
// delta (m × k). Z and A are the output layer's pre-activation and activation, Y the targets
// (m × k). sample_weight is null or points at m weights. huber_delta is δ (huber only).
template <class T>
double loss_and_output_delta(Loss loss, Activation output, T negative_slope, const ConstMatrixRef<T>& Z,
                             const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y, const T* sample_weight,
                             MatrixRef<T>* dZ, T huber_delta = T(1));

// Number of rows whose predicted class matches the target: argmax for several outputs,
// a threshold (0.5 after sigmoid or step, 0 after identity) for one.
template <class T>
Index count_correct(Activation output, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y);

}  // namespace fastmlp
