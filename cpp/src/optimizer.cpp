#include "fastmlp/optimizer.hpp"

#include <cmath>
#include <stdexcept>
#include <string>

namespace fastmlp {
namespace {

void require(bool condition, const std::string& message) {
  if (!condition) throw std::invalid_argument(message);
}

}  // namespace

template <class T>
Optimizer<T>::Optimizer() : Optimizer(SGDConfig{}) {}

template <class T>
Optimizer<T>::Optimizer(const SGDConfig& config) : kind_(Kind::sgd), sgd_(config) {
  validate();
}

template <class T>
Optimizer<T>::Optimizer(const AdamConfig& config) : kind_(Kind::adam), adam_(config) {
  validate();
}

template <class T>
void Optimizer<T>::validate() const {
  const double lr = learning_rate();
  require(std::isfinite(lr) && lr > 0.0, "learning rate must be a positive finite number, got " + std::to_string(lr));
  if (kind_ == Kind::sgd) {
    require(std::isfinite(sgd_.momentum) && sgd_.momentum >= 0.0 && sgd_.momentum < 1.0,
            "momentum must be in [0, 1), got " + std::to_string(sgd_.momentum));
    require(!sgd_.nesterov || sgd_.momentum > 0.0, "Nesterov momentum needs momentum > 0");
    require(std::isfinite(sgd_.weight_decay) && sgd_.weight_decay >= 0.0,
            "weight_decay must be >= 0, got " + std::to_string(sgd_.weight_decay));
  } else {
    require(adam_.beta1 >= 0.0 && adam_.beta1 < 1.0, "beta1 must be in [0, 1), got " + std::to_string(adam_.beta1));
    require(adam_.beta2 >= 0.0 && adam_.beta2 < 1.0, "beta2 must be in [0, 1), got " + std::to_string(adam_.beta2));
    require(std::isfinite(adam_.epsilon) && adam_.epsilon > 0.0, "epsilon must be > 0");
    require(std::isfinite(adam_.weight_decay) && adam_.weight_decay >= 0.0,
            "weight_decay must be >= 0, got " + std::to_string(adam_.weight_decay));
  }
}

template <class T>
void Optimizer<T>::bind(Index n_parameters, std::vector<ParameterSegment> decayed_segments) {
  decayed_ = std::move(decayed_segments);
  state_.first = Vector<T>::Zero(n_parameters);
  state_.second = kind_ == Kind::adam ? Vector<T>::Zero(n_parameters) : Vector<T>();
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
  state_.first = state.first;
  state_.second = state.second;
  state_.steps = state.steps;
  steps_ = state.steps;
}

template <class T>
double Optimizer<T>::learning_rate() const {
  return kind_ == Kind::sgd ? sgd_.learning_rate : adam_.learning_rate;
}

template <class T>
void Optimizer<T>::set_learning_rate(double learning_rate) {
  require(std::isfinite(learning_rate) && learning_rate > 0.0,
          "learning rate must be a positive finite number, got " + std::to_string(learning_rate));
  (kind_ == Kind::sgd ? sgd_.learning_rate : adam_.learning_rate) = learning_rate;
}

template <class T>
void Optimizer<T>::step(Eigen::Ref<Vector<T>> parameters, Eigen::Ref<Vector<T>> gradients) {
  const double decay = kind_ == Kind::sgd ? sgd_.weight_decay : adam_.weight_decay;
  if (decay != 0.0) {
    for (const auto& segment : decayed_) {
      gradients.segment(segment.offset, segment.size) += T(decay) * parameters.segment(segment.offset, segment.size);
    }
  }
  ++steps_;
  state_.steps = steps_;
  auto p = parameters.array();
  auto g = gradients.array();
  if (kind_ == Kind::sgd) {
    const T lr = static_cast<T>(sgd_.learning_rate);
    const T mu = static_cast<T>(sgd_.momentum);
    if (mu == T(0)) {
      p -= lr * g;
      return;
    }
    auto v = state_.first.array();
    v = mu * v + g;
    if (sgd_.nesterov)
      p -= lr * (g + mu * v);
    else
      p -= lr * v;
    return;
  }
  const T beta1 = static_cast<T>(adam_.beta1);
  const T beta2 = static_cast<T>(adam_.beta2);
  const double t = static_cast<double>(steps_);
  const T bias_correction1 = static_cast<T>(1.0 - std::pow(adam_.beta1, t));
  const T bias_correction2 = static_cast<T>(1.0 - std::pow(adam_.beta2, t));
  const T lr = static_cast<T>(adam_.learning_rate);
  const T eps = static_cast<T>(adam_.epsilon);
  auto m = state_.first.array();
  auto s = state_.second.array();
  // 1 − β from the double β: in float32, 1 − float(0.999) is 1.3e-5 too small and the
  // first steps would come out too long.
  const T one_minus_beta1 = static_cast<T>(1.0 - adam_.beta1);
  const T one_minus_beta2 = static_cast<T>(1.0 - adam_.beta2);
  m = beta1 * m + one_minus_beta1 * g;
  s = beta2 * s + one_minus_beta2 * g.square();
  p -= lr * (m / bias_correction1) / ((s / bias_correction2).sqrt() + eps);
}

template class Optimizer<float>;
template class Optimizer<double>;

}  // namespace fastmlp
