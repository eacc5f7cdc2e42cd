#include "fastmlp/activation.hpp"

#include "flat_view.hpp"
#include "name_table.hpp"

#include <algorithm>
#include <array>
#include <cmath>
#include <limits>
#include <stdexcept>
#include <utility>

namespace fastmlp {
namespace {

// The one table of activation names: canonical names in the enum's order, then the other
// words users bring (scikit-learn's "logistic", Keras's "linear", "swish").
constexpr detail::NameTable<Activation, 11, 3> kTable{
    "activation",
    {{
        {"identity", Activation::identity},
        {"sigmoid", Activation::sigmoid},
        {"tanh", Activation::tanh},
        {"relu", Activation::relu},
        {"leaky_relu", Activation::leaky_relu},
        {"elu", Activation::elu},
        {"softplus", Activation::softplus},
        {"silu", Activation::silu},
        {"exp", Activation::exp},
        {"softmax", Activation::softmax},
        {"step", Activation::step},
    }},
    {{
        {"logistic", Activation::sigmoid},
        {"linear", Activation::identity},
        {"swish", Activation::silu},
    }},
};

template <class Derived>
auto exp_of_nonpositive(const Eigen::ArrayBase<Derived>& x) {
  // Eigen's packet exp clamps its argument (to about -88.4 in float), so exp(-1000) would come
  // out as 2.9e-39 in a packet and 0 in a scalar; below log(smallest denormal) the true value
  // rounds to 0, which is what every path returns here.
  using T = typename Derived::Scalar;
  const T underflow = std::log(std::numeric_limits<T>::denorm_min());
  return (x < underflow).select(T(0), x.exp());
}

// The logistic function on an array expression, written so that neither branch can
// overflow: exp is only ever taken of a non-positive number.
template <class Derived>
auto stable_sigmoid(const Eigen::ArrayBase<Derived>& z) {
  using T = typename Derived::Scalar;
  auto e = exp_of_nonpositive(-z.abs());
  return (z >= T(0)).select(T(1) / (T(1) + e), e / (T(1) + e));
}

}  // namespace

Activation activation_from_name(std::string_view name) { return kTable.parse(name); }
std::string activation_name(Activation activation) { return kTable.name(activation); }
std::vector<std::string> activation_names() { return kTable.canonical(); }
std::vector<std::pair<std::string, std::string>> activation_aliases() { return kTable.alias_pairs(); }

bool has_elementwise_derivative(Activation activation) {
  return activation != Activation::softmax && activation != Activation::step;
}

std::vector<std::string> hidden_activation_names() {
  std::vector<std::string> names;
  for (const auto& [name, activation] : kTable.names)
    if (has_elementwise_derivative(activation)) names.emplace_back(name);
  return names;
}

namespace {

using detail::ConstFlatArray;
using detail::flat;
using detail::FlatArray;
using detail::is_contiguous;

// The activations made of operations that IEEE arithmetic rounds the same in a packet as in a
// scalar (comparisons, a product): any evaluation order gives the same bits, so they run over
// whole arrays. Each group below is instantiated for the one array type it is called with:
// every extra (activation, array type) pair costs the build seconds of Eigen templates.
bool is_exact(Activation activation) {
  return activation == Activation::identity || activation == Activation::relu ||
         activation == Activation::leaky_relu || activation == Activation::step;
}

template <class T, class ZArray, class AArray>
void activate_exact(Activation activation, T negative_slope, const ZArray& z, AArray a) {
  switch (activation) {
    case Activation::identity:
      a = z;
      return;
    case Activation::relu:
      a = z.max(T(0));
      return;
    case Activation::leaky_relu:
      a = (z > T(0)).select(z, negative_slope * z);
      return;
    case Activation::step:
      a = (z > T(0)).template cast<T>();
      return;
    default:
      throw std::logic_error(activation_name(activation) + " is not an exact activation");
  }
}

// The others, whose packet and scalar functions (exp, tanh, ...) may differ in the last bit.
template <class ZArray, class AArray>
void activate_rounded(Activation activation, const ZArray& z, AArray a) {
  using T = typename ZArray::Scalar;
  switch (activation) {
    case Activation::sigmoid:
      a = stable_sigmoid(z);
      return;
    case Activation::tanh:
      a = z.tanh();
      return;
    case Activation::elu:
      a = (z > T(0)).select(z, z.min(T(0)).expm1());  // expm1: no cancellation for tiny |z|
      return;
    case Activation::softplus:
      a = z.max(T(0)) + exp_of_nonpositive(-z.abs()).log1p();
      return;
    case Activation::silu:
      a = z * stable_sigmoid(z);
      return;
    case Activation::exp:
      a = z.exp();
      return;
    default:
      throw std::logic_error(activation_name(activation) + " is not an elementwise rounded activation");
  }
}

template <class T, class ZArray, class AArray, class DArray>
void derivative_elementwise(Activation activation, T negative_slope, const ZArray& z, const AArray& a, DArray d) {
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
    case Activation::silu:
      // (z s)' = s + z s (1 - s) = s (1 + z (1 - s)); s is recomputed rather than cached.
      d *= stable_sigmoid(z) * (T(1) + z * (T(1) - stable_sigmoid(z)));
      return;
    case Activation::exp:
      d *= a;
      return;
    case Activation::softmax:
    case Activation::step:
      throw std::logic_error(activation_name(activation) +
                             " has no elementwise derivative; it is only used fused with its loss");
  }
}

// f applied to n values in chunks of a fixed size, the last one padded with zeros: Eigen
// evaluates a chunk with its packet functions throughout, where on a long array it would take
// scalar ones for an unaligned head and the tail, whose exp or tanh differ in the last bit.
// So each value's result depends on the value alone, not on its position (row invariance,
// row_product.hpp).
template <class T, class F>
void in_fixed_chunks(const T* z, T* a, Index n, const F& f) {
  constexpr int kChunk = 4 * Eigen::internal::packet_traits<T>::size;
  using Chunk = Eigen::Array<T, kChunk, 1>;
  Chunk in, out;
  const Eigen::Map<Chunk, Eigen::AlignedMax> result(out.data());
  Index i = 0;
  for (; i + kChunk <= n; i += kChunk) {
    in = Eigen::Map<const Chunk>(z + i);
    f(in, result);
    Eigen::Map<Chunk>(a + i) = out;
  }
  if (i == n) return;
  in.setZero();
  std::copy(z + i, z + n, in.data());
  f(in, result);
  std::copy(out.data(), out.data() + (n - i), a + i);
}

// f(z, a) over the rows of Z into A, each a flat array: the whole matrix at once when both are
// contiguous, else row by row (one array type either way).
template <class T, class F>
void over_rows(const ConstMatrixRef<T>& Z, MatrixRef<T>& A, const F& f) {
  if (is_contiguous(Z) && is_contiguous(A)) {
    f(Z.data(), A.data(), Z.size());
    return;
  }
  for (Index i = 0; i < Z.rows(); ++i) f(Z.row(i).data(), A.row(i).data(), Z.cols());
}

// f over every value of Z into A in fixed chunks (above).
template <class T, class F>
void elementwise(const ConstMatrixRef<T>& Z, MatrixRef<T>& A, const F& f) {
  over_rows<T>(Z, A, [&](const T* z, T* a, Index n) { in_fixed_chunks(z, a, n, f); });
}

template <class T>
void softmax_rows(const ConstMatrixRef<T>& Z, MatrixRef<T> A) {
  for (Index i = 0; i < Z.rows(); ++i) A.row(i) = Z.row(i).array() - Z.row(i).maxCoeff();
  // The exponentials, vectorised across rows.
  elementwise<T>(A, A, [](const auto& x, auto y) { y = x.exp(); });
  for (Index i = 0; i < Z.rows(); ++i) {
    // Summed left to right: Eigen's vectorised sum would follow the row's memory alignment.
    const T* row = A.row(i).data();
    T sum = 0;
    for (Index j = 0; j < A.cols(); ++j) sum += row[j];
    A.row(i) *= T(1) / sum;
  }
}

}  // namespace

template <class T>
void activate(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z, MatrixRef<T> A) {
  if (activation == Activation::softmax) {
    softmax_rows<T>(Z, A);
  } else if (is_exact(activation)) {
    over_rows<T>(Z, A, [&](const T* z, T* a, Index n) {
      activate_exact<T>(activation, negative_slope, ConstFlatArray<T>(z, n), FlatArray<T>(a, n));
    });
  } else {
    elementwise<T>(Z, A, [&](const auto& z, auto a) { activate_rounded(activation, z, a); });
  }
}

template <class T>
void multiply_by_derivative(Activation activation, T negative_slope, const ConstMatrixRef<T>& Z,
                            const ConstMatrixRef<T>& A, MatrixRef<T> delta) {
  if (is_contiguous(Z) && is_contiguous(A) && is_contiguous(delta)) {
    derivative_elementwise<T>(activation, negative_slope, flat<T>(Z), flat<T>(A), flat<T>(delta));
    return;
  }
  const Index n = Z.cols();
  for (Index i = 0; i < Z.rows(); ++i)
    derivative_elementwise<T>(activation, negative_slope, ConstFlatArray<T>(Z.row(i).data(), n),
                              ConstFlatArray<T>(A.row(i).data(), n), FlatArray<T>(delta.row(i).data(), n));
}

template void activate<float>(Activation, float, const ConstMatrixRef<float>&, MatrixRef<float>);
template void activate<double>(Activation, double, const ConstMatrixRef<double>&, MatrixRef<double>);
template void multiply_by_derivative<float>(Activation, float, const ConstMatrixRef<float>&,
                                            const ConstMatrixRef<float>&, MatrixRef<float>);
template void multiply_by_derivative<double>(Activation, double, const ConstMatrixRef<double>&,
                                             const ConstMatrixRef<double>&, MatrixRef<double>);

}  // namespace fastmlp
