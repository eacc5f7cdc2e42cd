#include "fastmlp/optimizer.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

#include "thread_pool.hpp"

namespace fastmlp {
namespace {

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

void require_non_negative(double value, const std::string& name) {
  require(std::isfinite(value) && value >= 0.0, name + " must be >= 0, got " + std::to_string(value));
}

void require_beta(double value, const std::string& name) {
  require(value >= 0.0 && value < 1.0, name + " must be in [0, 1), got " + std::to_string(value));
}

void validate_clipping(const ClipConfig& clip) {
  require_non_negative(clip.clipnorm, "clipnorm");
  require_non_negative(clip.global_clipnorm, "global_clipnorm");
  require_non_negative(clip.clipvalue, "clipvalue");
  const int active = (clip.clipnorm > 0.0) + (clip.global_clipnorm > 0.0) + (clip.clipvalue > 0.0);
  require(active <= 1, "only one of clipnorm, global_clipnorm and clipvalue can be set");
}

// Every tensor of the flat vector: the decayed weight segments and the stretches between them.
std::vector<ParameterSegment> tensors_around(const std::vector<ParameterSegment>& weights, Index n_parameters) {
  std::vector<ParameterSegment> sorted = weights;
  std::sort(sorted.begin(), sorted.end(), [](const auto& a, const auto& b) { return a.offset < b.offset; });
  std::vector<ParameterSegment> tensors;
  Index cursor = 0;
  for (const auto& segment : sorted) {
    if (segment.offset > cursor) tensors.push_back({cursor, segment.offset - cursor});
    if (segment.size > 0) tensors.push_back(segment);
    cursor = segment.offset + segment.size;
  }
  if (cursor < n_parameters) tensors.push_back({cursor, n_parameters - cursor});
  return tensors;
}

// An update is elementwise, so it runs in pieces on the engine's threads (a wide network's
// parameters are megabytes, and one thread streaming them holds the other cores idle). The
// pieces are a function of the number of parameters alone and start on 64-byte boundaries of
// the (64-byte aligned) vectors, so each element goes through the same instructions, in SIMD
// packets or not, as in one pass over the whole vector: bit-identical at any thread count.
constexpr Index kUpdatePiece = Index(1) << 16;

template <class Update>
void update_in_pieces(Index n, const Update& update) {
  const Index pieces = (n + kUpdatePiece - 1) / kUpdatePiece;
  if (pieces <= 1) {
    update(Index(0), n);
    return;
  }
  run_tasks(static_cast<int>(pieces), threads_for_products(), [&](int piece) {
    const Index begin = piece * kUpdatePiece;
    update(begin, std::min(kUpdatePiece, n - begin));
  });
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer() : Optimizer(SGDConfig{}) {}

template <class T>
Optimizer<T>::Optimizer(const SGDConfig& config, const ClipConfig& clip) : kind_(Kind::sgd), sgd_(config), clip_(clip) {
  validate();
}

template <class T>
Optimizer<T>::Optimizer(const AdamConfig& config, const ClipConfig& clip)
    : kind_(Kind::adam), adam_(config), clip_(clip) {
  validate();
}

template <class T>
Optimizer<T>::Optimizer(const RMSpropConfig& config, const ClipConfig& clip)
    : kind_(Kind::rmsprop), rmsprop_(config), clip_(clip) {
  validate();
}

template <class T>
Optimizer<T>::Optimizer(const AdamWConfig& config, const ClipConfig& clip)
    : kind_(Kind::adamw),
      adam_{config.learning_rate, config.beta1, config.beta2, config.epsilon, config.weight_decay},
      clip_(clip) {
  validate();
}

template <class T>
void Optimizer<T>::validate() const {
  const double lr = learning_rate();
  require(std::isfinite(lr) && lr > 0.0, "learning rate must be a positive finite number, got " + std::to_string(lr));
  validate_clipping(clip_);
  switch (kind_) {
    case Kind::sgd:
      require(std::isfinite(sgd_.momentum) && sgd_.momentum >= 0.0 && sgd_.momentum < 1.0,
              "momentum must be in [0, 1), got " + std::to_string(sgd_.momentum));
      require(!sgd_.nesterov || sgd_.momentum > 0.0, "Nesterov momentum needs momentum > 0");
      require_non_negative(sgd_.weight_decay, "weight_decay");
      return;
    case Kind::adam:
    case Kind::adamw:
      require_beta(adam_.beta1, "beta1");
      require_beta(adam_.beta2, "beta2");
      require(std::isfinite(adam_.epsilon) && adam_.epsilon > 0.0, "epsilon must be > 0");
      require_non_negative(adam_.weight_decay, "weight_decay");
      return;
    case Kind::rmsprop:
      require_beta(rmsprop_.rho, "rho");
      require(std::isfinite(rmsprop_.epsilon) && rmsprop_.epsilon > 0.0, "epsilon must be > 0");
      require_beta(rmsprop_.momentum, "momentum");
      require_non_negative(rmsprop_.weight_decay, "weight_decay");
      return;
  }
}

template <class T>
void Optimizer<T>::bind(Index n_parameters, std::vector<ParameterSegment> decayed_segments) {
  tensors_ = tensors_around(decayed_segments, n_parameters);
  decayed_ = std::move(decayed_segments);
  state_.first = Vector<T>::Zero(n_parameters);
  state_.second = kind_ == Kind::sgd ? Vector<T>() : Vector<T>::Zero(n_parameters);
  state_.steps = 0;
  steps_ = 0;
}

template <class T>
void Optimizer<T>::reset_state() {
  state_.first.setZero();
  state_.second.setZero();
  state_.steps = 0;
  steps_ = 0;
}

template <class T>
void Optimizer<T>::restore_state(const State& state) {
  if (state.first.size() != state_.first.size() || state.second.size() != state_.second.size())
    throw std::invalid_argument("optimizer state of another shape");
  if (state.steps < 0) throw std::invalid_argument("the optimizer's step count must be >= 0");
  state_.first = state.first;
  state_.second = state.second;
  state_.steps = state.steps;
  steps_ = state.steps;
}

template <class T>
template <class Self>
auto& Optimizer<T>::learning_rate_in(Self& self) {
  switch (self.kind_) {
    case Kind::sgd: return self.sgd_.learning_rate;
    case Kind::rmsprop: return self.rmsprop_.learning_rate;
    case Kind::adam:
    case Kind::adamw: return self.adam_.learning_rate;
  }
  throw std::logic_error("optimizer of no kind");
}

template <class T>
double Optimizer<T>::learning_rate() const {
  return learning_rate_in(*this);
}

template <class T>
void Optimizer<T>::set_learning_rate(double learning_rate) {
  require(std::isfinite(learning_rate) && learning_rate > 0.0,
          "learning rate must be a positive finite number, got " + std::to_string(learning_rate));
  learning_rate_in(*this) = learning_rate;
}

template <class T>
void Optimizer<T>::clip(Eigen::Ref<Vector<T>> gradients) const {
  // Keras's clip_by_norm: g · c / max(‖g‖, c), so a gradient within the bound is untouched.
  auto rescale = [](auto&& g, double bound) {
    const double norm = static_cast<double>(g.norm());
    if (norm > bound) g *= static_cast<T>(bound / norm);
  };
  if (clip_.clipvalue > 0.0) {
    const T c = static_cast<T>(clip_.clipvalue);
    gradients = gradients.array().max(-c).min(c).matrix();
  } else if (clip_.global_clipnorm > 0.0) {
    rescale(gradients, clip_.global_clipnorm);
  } else if (clip_.clipnorm > 0.0) {
    for (const auto& tensor : tensors_) rescale(gradients.segment(tensor.offset, tensor.size), clip_.clipnorm);
  }
}

template <class T>
void Optimizer<T>::step(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients) {
  clip(gradients);
  ++steps_;
  state_.steps = steps_;
  switch (kind_) {
    case Kind::sgd: step_sgd(parameters, gradients); return;
    case Kind::rmsprop: step_rmsprop(parameters, gradients); return;
    case Kind::adam:
    case Kind::adamw: step_adam(parameters, gradients); return;
  }
}

namespace {

// g ← g + λ·W over the weight segments (the L2 penalty λ/2·‖W‖²).
template <class T>
void add_weight_decay(const std::vector<ParameterSegment>& weights, double decay,
                      const Eigen::Ref<Vector<T>>& parameters, Eigen::Ref<Vector<T>> gradients) {
  if (decay == 0.0) return;
  for (const auto& segment : weights)
    gradients.segment(segment.offset, segment.size) += T(decay) * parameters.segment(segment.offset, segment.size);
}

}  // namespace

template <class T>
void Optimizer<T>::step_sgd(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients) {
  add_weight_decay<T>(decayed_, sgd_.weight_decay, parameters, gradients);
  const T lr = static_cast<T>(sgd_.learning_rate);
  const T mu = static_cast<T>(sgd_.momentum);
  update_in_pieces(parameters.size(), [&](Index begin, Index size) {
    auto p = parameters.segment(begin, size).array();
    auto g = gradients.segment(begin, size).array();
    if (mu == T(0)) {
      p -= lr * g;
      return;
    }
    auto v = state_.first.segment(begin, size).array();
    v = mu * v + g;
    if (sgd_.nesterov)
      p -= lr * (g + mu * v);
    else
      p -= lr * v;
  });
}

template <class T>
void Optimizer<T>::step_adam(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients) {
  if (kind_ == Kind::adamw) {
    const T shrink = static_cast<T>(1.0 - adam_.learning_rate * adam_.weight_decay);
    for (const auto& segment : decayed_) parameters.segment(segment.offset, segment.size) *= shrink;
  } else {
    add_weight_decay<T>(decayed_, adam_.weight_decay, parameters, gradients);
  }
  const T beta1 = static_cast<T>(adam_.beta1);
  const T beta2 = static_cast<T>(adam_.beta2);
  const double t = static_cast<double>(steps_);
  const T bias_correction1 = static_cast<T>(1.0 - std::pow(adam_.beta1, t));
  const T bias_correction2 = static_cast<T>(1.0 - std::pow(adam_.beta2, t));
  const T lr = static_cast<T>(adam_.learning_rate);
  const T eps = static_cast<T>(adam_.epsilon);
  // 1 − β from the double β: in float32, 1 − float(0.999) is 1.3e-5 too small and the
  // first steps would come out too long.
  const T one_minus_beta1 = static_cast<T>(1.0 - adam_.beta1);
  const T one_minus_beta2 = static_cast<T>(1.0 - adam_.beta2);
  update_in_pieces(parameters.size(), [&](Index begin, Index size) {
    auto p = parameters.segment(begin, size).array();
    auto g = gradients.segment(begin, size).array();
    auto m = state_.first.segment(begin, size).array();
    auto s = state_.second.segment(begin, size).array();
    m = beta1 * m + one_minus_beta1 * g;
    s = beta2 * s + one_minus_beta2 * g.square();
    p -= lr * (m / bias_correction1) / ((s / bias_correction2).sqrt() + eps);
  });
}

template <class T>
void Optimizer<T>::step_rmsprop(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients) {
  add_weight_decay<T>(decayed_, rmsprop_.weight_decay, parameters, gradients);
  const T rho = static_cast<T>(rmsprop_.rho);
  const T one_minus_rho = static_cast<T>(1.0 - rmsprop_.rho);
  const T lr = static_cast<T>(rmsprop_.learning_rate);
  const T eps = static_cast<T>(rmsprop_.epsilon);
  const T mu = static_cast<T>(rmsprop_.momentum);
  update_in_pieces(parameters.size(), [&](Index begin, Index size) {
    auto p = parameters.segment(begin, size).array();
    auto g = gradients.segment(begin, size).array();
    auto s = state_.second.segment(begin, size).array();
    s = rho * s + one_minus_rho * g.square();
    if (mu == T(0)) {
      p -= lr * g / (s.sqrt() + eps);
      return;
    }
    auto v = state_.first.segment(begin, size).array();
    v = mu * v + g / (s.sqrt() + eps);
    p -= lr * v;
  });
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fastmlp
