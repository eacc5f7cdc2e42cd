// Optimisers over the network's flat parameter vector.
//
// State has the shape of the parameters (plain vectors and a step counter), so a step is a
// handful of vector operations. Weight decay λ adds λ·W to the gradient of weights only
// (never biases): the segments say which stretches of the flat vector are weights. AdamW's
// decay is decoupled instead: W ← W·(1 − lr·λ) before the Adam step, again weights only.
//
// A step first clips the gradient of the loss (Keras's clipnorm, global_clipnorm, clipvalue),
// then adds weight decay, then updates: clipping never sees the decay term, as in Keras and
// in PyTorch's clip_grad_norm_ before optimizer.step().
#pragma once

#include <cstdint>
#include <vector>

#include "fastmlp/types.hpp"

namespace fastmlp {

struct SGDConfig {
  double learning_rate = 0.01;
  double momentum = 0.0;  // PyTorch's convention: v ← μ v + g, w ← w − lr v
  bool nesterov = false;  // w ← w − lr (g + μ v)
  double weight_decay = 0.0;
};

struct AdamConfig {  // Kingma & Ba, with bias correction and ε outside the square root
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 0.0;
};

struct RMSpropConfig {  // PyTorch's RMSprop (not centered); rho is its alpha, ε outside the square root
  double learning_rate = 1e-3;
  double rho = 0.9;       // s ← ρ s + (1 − ρ) g²
  double epsilon = 1e-8;  // w ← w − lr g / (√s + ε)
  double momentum = 0.0;  // with momentum: v ← μ v + g / (√s + ε), w ← w − lr v
  double weight_decay = 0.0;
};

struct AdamWConfig {  // Loshchilov & Hutter, as PyTorch's AdamW: decay decoupled from the moments
  double learning_rate = 1e-3;
  double beta1 = 0.9;
  double beta2 = 0.999;
  double epsilon = 1e-8;
  double weight_decay = 1e-2;  // W ← W (1 − lr λ), then the Adam step
};

// Gradient clipping as Keras defines it; 0 leaves it off and at most one may be on.
struct ClipConfig {
  double clipnorm = 0.0;         // each tensor (a W or a b) rescaled so its norm is at most this
  double global_clipnorm = 0.0;  // the whole gradient rescaled so its norm is at most this
  double clipvalue = 0.0;        // each element clipped to [−clipvalue, clipvalue]
};

struct ParameterSegment {
  Index offset;
  Index size;
};

template <class T>
class Optimizer {
 public:
  enum class Kind { sgd, adam, rmsprop, adamw };

  Optimizer();  // plain SGD with learning rate 0.01
  explicit Optimizer(const SGDConfig& config, const ClipConfig& clip = {});
  explicit Optimizer(const AdamConfig& config, const ClipConfig& clip = {});
  explicit Optimizer(const RMSpropConfig& config, const ClipConfig& clip = {});
  explicit Optimizer(const AdamWConfig& config, const ClipConfig& clip = {});

  // Sizes the state for `n_parameters` and tells which segments are decayed weights. The
  // stretches between them are the biases, one tensor each (the network's layout is
  // [W0, b0, W1, b1, ...]), which is what clipnorm clips one by one.
  // Resets the state (velocity, moments, step count).
  void bind(Index n_parameters, std::vector<ParameterSegment> decayed_segments);
  void reset_state();

  // One update of `parameters` from `gradients`. `gradients` is used as scratch space
  // (weight decay is added into it) so that the step allocates nothing.
  void step(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients);

  Kind kind() const { return kind_; }
  double learning_rate() const;
  void set_learning_rate(double learning_rate);
  const SGDConfig& sgd() const { return sgd_; }
  const AdamConfig& adam() const { return adam_; }  // Adam and AdamW (AdamW's weight decay included)
  const RMSpropConfig& rmsprop() const { return rmsprop_; }
  const ClipConfig& clipping() const { return clip_; }
  std::int64_t steps_taken() const { return steps_; }

  // The state, for snapshots that a diverging epoch rolls back to.
  struct State {
    Vector<T> first;   // SGD or RMSprop velocity, or Adam's first moment
    Vector<T> second;  // Adam's second moment or RMSprop's mean square
    std::int64_t steps = 0;
  };
  const State& state() const { return state_; }
  void restore_state(const State& state);

 private:
  void validate() const;
  // The active kind's learning-rate field, const or not: one switch serves both.
  template <class Self>
  static auto& learning_rate_in(Self& self);
  void clip(Eigen::Ref<Vector<T>> gradients) const;
  void step_sgd(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients);
  void step_adam(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients);
  void step_rmsprop(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients);

  Kind kind_;
  SGDConfig sgd_;
  AdamConfig adam_;
  RMSpropConfig rmsprop_;
  ClipConfig clip_;
  std::vector<ParameterSegment> decayed_;
  std::vector<ParameterSegment> tensors_;  // every W and b, for clipnorm
  State state_;
  std::int64_t steps_ = 0;
};

}  // namespace fastmlp
