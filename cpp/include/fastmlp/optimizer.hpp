// Optimisers over the network's flat parameter vector.
//
// State has the shape of the parameters (plain vectors and a step counter), so a step is a
// handful of vector operations. Weight decay λ adds λ·W to the gradient of weights only
// (never biases): the segments say which stretches of the flat vector are weights.
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

struct ParameterSegment {
  Index offset;
  Index size;
};

template <class T>
class Optimizer {
 public:
  enum class Kind { sgd, adam };

  Optimizer();  // plain SGD with learning rate 0.01
  explicit Optimizer(const SGDConfig& config);
  explicit Optimizer(const AdamConfig& config);

  // Sizes the state for `n_parameters` and tells which segments are decayed weights.
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
  const AdamConfig& adam() const { return adam_; }
  std::int64_t steps_taken() const { return steps_; }

  // The state, for snapshots that a diverging epoch rolls back to.
  struct State {
    Vector<T> first;   // SGD velocity or Adam's first moment
    Vector<T> second;  // Adam's second moment
    std::int64_t steps = 0;
  };
  const State& state() const { return state_; }
  void restore_state(const State& state);

 private:
  void validate() const;

  Kind kind_;
  SGDConfig sgd_;
  AdamConfig adam_;
  std::vector<ParameterSegment> decayed_;
  State state_;
  std::int64_t steps_ = 0;
};

}  // namespace fastmlp
