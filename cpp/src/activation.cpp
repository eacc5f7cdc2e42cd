#include "fastmlp/activation.hpp"

#include <array>
#include <cmath>
#include <stdexcept>
#include <utility>

namespace fastmlp {
namespace {

constexpr std::array<std::pair<std::string_view, Activation>, 11> kNames{{
    {"identity", Activation::identity},
    {"sigmoid", Activation::sigmoid},
    {"logistic", Activation::sigmoid},  // scikit-learn's word for it
    {"tanh", Activation::tanh},
    {"relu", Activation::relu},
    {"leaky_relu", Activation::leaky_relu},
    {"elu", Activation::elu},
    {"softplus", Activation::softplus},
    {"silu", Activation::silu},
    {"softmax", Activation::softmax},
    {"step", Activation::step},
}};

// The logistic function on an array expression, written so that neither branch can
// overflow: exp is only ever taken of a non-positive number.
template <class Derived>
auto stable_sigmoid(const Eigen::ArrayBase<Derived>& z) {
  using T = typename Derived::Scalar;
  auto e = (-z.abs()).exp();
  return (z >= T(0)).select(T(1) / (T(1) + e), e / (T(1) + e));
}

}  // namespace

Activation activation_from_name(std::string_view name) {
  for (const auto& [known, activation] : kNames) {
    if (known == name) return activation;
  }
  std::string message = "unknown activation '" + std::string(name) + "'; expected one of:";
  for (const auto& entry : kNames) message += " " + std::string(entry.first);
  throw std::invalid_argument(message);
}

std::string activation_name(Activation activation) {
  for (const auto& [known, value] : kNames) {
    if (value == activation && known != "logistic") return std::string(known);
  }
  throw std::logic_error("activation without a name");
}

bool has_elementwise_derivative(Activation activation) {
  return activation != Activation::softmax && activation != Activation::step;
}

template <class T>
void activate(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z, MatrixRef<T> A) {
  auto z = Z.array();
  auto a = A.array();
  switch (activation) {
    case Activation::identity:
      a = z;
      return;
    case Activation::sigmoid:
      a = stable_sigmoid(z);
      return;
    case Activation::tanh:
      a = z.tanh();
      return;
    case Activation::relu:
      a = z.max(T(0));
      return;
    case Activation::leaky_relu:
      a = (z > T(0)).select(z, negative_slope * z);
      return;
    case Activation::elu:
      a = (z > T(0)).select(z, z.min(T(0)).expm1());  // expm1: no cancellation for tiny |z|
      return;
    case Activation::softplus:
      a = z.max(T(0)) + (-z.abs()).exp().log1p();
      return;
    case Activation::silu:
      a = z * stable_sigmoid(z);
      return;
    case Activation::softmax:
      for (Index i = 0; i < Z.rows(); ++i) {
        const T row_max = Z.row(i).maxCoeff();
        A.row(i) = (Z.row(i).array() - row_max).exp().matrix();
        A.row(i) /= A.row(i).sum();
      }
      return;
    case Activation::step:
      a = (z > T(0)).template cast<T>();
      return;
  }
}

template <class T>
void multiply_by_derivative(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z,
                            const ConstMatrixRef<T>& A, MatrixRef<T> delta) {
  auto z = Z.array();
  auto a = A.array();
  auto d = delta.array();
  switch (activation) {
    case Activation::identity:
      return;
    case Activation::sigmoid:
      d *= a * (T(1) - a);
      return;
    case Activation::tanh:
      d *= T(1) - a.square();
      return;
    case Activation::relu:
      d = (z > T(0)).select(d, T(0));
      return;
    case Activation::leaky_relu:
      d = (z > T(0)).select(d, negative_slope * d);
      return;
    case Activation::elu:
      d = (z > T(0)).select(d, d * z.min(T(0)).exp());  // not a + 1, which cancels for very negative z
      return;
    case Activation::softplus:
      d *= stable_sigmoid(z);
      return;
    case Activation::silu: {
      // (z s)' = s + z s (1 - s) = s (1 + z (1 - s)); s is recomputed rather than cached.
      d *= stable_sigmoid(z) * (T(1) + z * (T(1) - stable_sigmoid(z)));
      return;
    }
    case Activation::softmax:
    case Activation::step:
      throw std::logic_error(activation_name(activation) +
                             " has no elementwise derivative; it is only used fused with its loss");
  }
}

template void activate<float>(Activation, float, const ConstMatrixRef<float>&, MatrixRef<float>);
template void activate<double>(Activation, double, const ConstMatrixRef<double>&, MatrixRef<double>);
template void multiply_by_derivative<float>(Activation, float, const ConstMatrixRef<float>&,
                                            const ConstMatrixRef<float>&, MatrixRef<float>);
template void multiply_by_derivative<double>(Activation, double, const ConstMatrixRef<double>&,
                                             const ConstMatrixRef<double>&, MatrixRef<double>);

}  // namespace fastmlp
