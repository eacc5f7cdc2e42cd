// Losses: the value of a batch and the output delta dZ[L] that starts backpropagation.
//
// Every loss is a MEAN over the m samples of a batch. Across the outputs of one sample,
// cross-entropy, binary cross-entropy, hinge and the perceptron criterion SUM, while mean
// squared error AVERAGES (no ½ anywhere). With these reductions the fused output deltas are
//   softmax + cross_entropy, sigmoid + binary_cross_entropy:  dZ = (P − Y) / m
//   identity + hinge (t = 2Y − 1):                            dZ = −t / m where t·z < 1, else 0
//   step + perceptron (ŷ = step(z)):                          dZ = (ŷ − Y) / m
//   any f + mse:                                              dZ = 2 (A − Y) / (m·k) ⊙ f'(Z)
// Optional per-sample weights w multiply sample i's loss and its row of dZ; the mean still
// divides by m, so weights that average to one leave the scale of the loss unchanged.
#pragma once

#include <string>
#include <string_view>

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
};

Loss loss_from_name(std::string_view name);
std::string loss_name(Loss loss);

// Throws std::invalid_argument, saying why, when the output activation and the loss do not
// belong together (their fused delta would be wrong) or the output width does not fit.
void check_output_fits_loss(Loss loss, Activation output, Index n_outputs);

// True for losses whose targets are classes, so that accuracy means something.
bool is_classification(Loss loss);

// Returns the weighted mean loss of the batch. When dZ is non-null it receives the output
// delta (m × k). Z and A are the output layer's pre-activation and activation, Y the targets
// (m × k). sample_weight is null or points at m weights.
template <class T>
double loss_and_output_delta(Loss loss, Activation output, T negative_slope, const ConstMatrixRef<T>& Z,
                             const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y, const T* sample_weight,
                             MatrixRef<T>* dZ);

// Number of rows whose predicted class matches the target: argmax for several outputs,
// a threshold (0.5 after sigmoid or step, 0 after identity) for one.
template <class T>
Index count_correct(Activation output, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y);

}  // namespace fastmlp
