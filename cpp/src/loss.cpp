#include "fastmlp/loss.hpp"

#include "flat_view.hpp"
#include "name_table.hpp"

#include <cmath>
#include <stdexcept>

namespace fastmlp {

namespace {

// The one table of loss names; "none" (inference only) is parsed but is not a training loss.
constexpr detail::NameTable<Loss, 9, 9> kTable{
    "loss",
    {{
        {"none", Loss::none},
        {"cross_entropy", Loss::cross_entropy},
        {"binary_cross_entropy", Loss::binary_cross_entropy},
        {"mse", Loss::mse},
        {"hinge", Loss::hinge},
        {"perceptron", Loss::perceptron},
        {"mae", Loss::mae},
        {"huber", Loss::huber},
        {"poisson", Loss::poisson},
    }},
    {{
        {"categorical_cross_entropy", Loss::cross_entropy},
        // Keras's spellings; the engine takes class indices and one-hot rows alike, so the
        // sparse and the dense name are one loss here.
        {"categorical_crossentropy", Loss::cross_entropy},
        {"sparse_categorical_crossentropy", Loss::cross_entropy},
        {"binary_crossentropy", Loss::binary_cross_entropy},
        {"log_loss", Loss::binary_cross_entropy},
        {"mean_squared_error", Loss::mse},
        {"squared_error", Loss::mse},
        {"mean_absolute_error", Loss::mae},
        {"absolute_error", Loss::mae},
    }},
};

}  // namespace

Loss loss_from_name(std::string_view name) { return kTable.parse(name); }
std::string loss_name(Loss loss) { return kTable.name(loss); }
std::vector<std::pair<std::string, std::string>> loss_aliases() { return kTable.alias_pairs(); }

std::vector<std::string> loss_names() {
  std::vector<std::string> names = kTable.canonical();
  names.erase(names.begin());  // "none"
  return names;
}

std::vector<std::string> classification_loss_names() {
  std::vector<std::string> names;
  for (const std::string& name : loss_names())
    if (is_classification(loss_from_name(name))) names.push_back(name);
  return names;
}

bool is_classification(Loss loss) {
  return loss == Loss::cross_entropy || loss == Loss::binary_cross_entropy || loss == Loss::hinge ||
         loss == Loss::perceptron;
}

void check_huber_delta(double delta) {
  if (!(std::isfinite(delta) && delta > 0.0))
    throw std::invalid_argument("huber delta must be a positive finite number, got " + std::to_string(delta));
}

template <class T>
void check_targets_fit_loss(Loss loss, const ConstMatrixRef<T>& Y) {
  if (loss == Loss::poisson && (Y.array() < T(0)).any())
    throw std::invalid_argument("the poisson loss needs targets y >= 0 (counts or rates); Y has negative values");
}

void check_output_fits_loss(Loss loss, Activation output, Index n_outputs) {
  const std::string out = activation_name(output);
  auto refuse = [&](const std::string& why) {
    throw std::invalid_argument("output activation '" + out + "' does not fit loss '" + loss_name(loss) + "': " + why);
  };
  switch (loss) {
    case Loss::none:
      return;
    case Loss::cross_entropy:
      if (output != Activation::softmax)
        refuse("cross_entropy needs a softmax output (use binary_cross_entropy for sigmoid outputs)");
      if (n_outputs < 2) refuse("softmax over one output is always 1; use 2+ outputs or sigmoid with binary_cross_entropy");
      return;
    case Loss::binary_cross_entropy:
      if (output != Activation::sigmoid) refuse("binary_cross_entropy needs a sigmoid output");
      return;
    case Loss::mse:
    case Loss::mae:
    case Loss::huber:
      if (output == Activation::softmax) refuse("softmax belongs with cross_entropy");
      if (output == Activation::step) refuse("step has no derivative; it belongs with the perceptron loss");
      return;
    case Loss::poisson:
      if (output != Activation::exp)
        refuse("poisson uses the log link, so the output must be exp (the predicted mean e^z stays positive)");
      return;
    case Loss::hinge:
      if (output != Activation::identity) refuse("hinge works on the raw score z, so the output must be identity");
      return;
    case Loss::perceptron:
      if (output != Activation::step) refuse("the perceptron rule needs a step output");
      return;
  }
}

namespace {

using detail::ConstFlatArray;
using detail::flat;
using detail::FlatArray;
using detail::is_contiguous;

// Regression losses whose delta dA still goes through the output activation's derivative.
bool chains_through_output(Loss loss) { return loss == Loss::mse || loss == Loss::mae || loss == Loss::huber; }

// Σ of the elementwise loss of mae, huber or poisson over the given elements (not yet divided
// by k or m). Poisson: y·log(y/μ) − y + μ with log μ = z, and y·log y = 0 at y = 0.
template <class T, class ZArray, class AArray, class YArray>
double added_regression_loss(Loss loss, const ZArray& z, const AArray& a, const YArray& y, T delta) {
  switch (loss) {
    case Loss::mae:
      return static_cast<double>((a - y).abs().sum());
    case Loss::huber: {
      const auto r = (a - y).abs();
      return static_cast<double>((r <= delta).select(T(0.5) * r.square(), delta * (r - T(0.5) * delta)).sum());
    }
    case Loss::poisson:
      return static_cast<double>(((y > T(0)).select(y * y.log(), T(0)) - y * z - y + a).sum());
    default:
      throw std::logic_error("added_regression_loss: unsupported loss");
  }
}

// dA (mae, huber) or dZ (poisson, fused with exp) of the same losses, `scale` = w / (m·k).
template <class T, class AArray, class YArray, class Out>
void added_regression_delta(Loss loss, const AArray& a, const YArray& y, T scale, T delta, Out out) {
  switch (loss) {
    case Loss::mae:
      out = (a - y).sign() * scale;
      return;
    case Loss::huber:
      out = (a - y).max(-delta).min(delta) * scale;
      return;
    case Loss::poisson:
      out = (a - y) * scale;
      return;
    default:
      throw std::logic_error("added_regression_delta: unsupported loss");
  }
}

// The common case, no sample weights and contiguous rows: whole-matrix expressions over flat
// arrays, which vectorise however few outputs there are. Cross-entropy is not handled here.
template <class T>
double unweighted_loss_and_delta(Loss loss, const ConstMatrixRef<T>& Z, const ConstMatrixRef<T>& A,
                                 const ConstMatrixRef<T>& Y, MatrixRef<T>* dZ, T huber_delta) {
  const Index m = Z.rows();
  const Index k = Z.cols();
  const T inv_m = T(1) / static_cast<T>(m);
  const auto z = flat<T>(Z);
  const auto a = flat<T>(A);
  const auto y = flat<T>(Y);
  auto delta = [&]() { return flat<T>(*dZ); };
  double total = 0.0;
  switch (loss) {
    case Loss::binary_cross_entropy:
      total = static_cast<double>((z.max(T(0)) + (-z.abs()).exp().log1p() - y * z).sum());
      if (dZ) delta() = (a - y) * inv_m;
      break;
    case Loss::mse:
      total = static_cast<double>((a - y).square().sum()) / static_cast<double>(k);
      if (dZ) delta() = (a - y) * (T(2) * inv_m / static_cast<T>(k));
      break;
    case Loss::hinge:
      total = static_cast<double>((T(1) - (T(2) * y - T(1)) * z).max(T(0)).sum());
      if (dZ) delta() = ((T(2) * y - T(1)) * z < T(1)).select((T(1) - T(2) * y) * inv_m, T(0));
      break;
    case Loss::perceptron:
      // Rosenblatt's rule as scikit-learn applies it: t = 2y − 1, a sample with t·z <= 0 is a
      // mistake (a score of exactly 0 included, for both classes) and moves w by t·x.
      total = static_cast<double>((-(T(2) * y - T(1)) * z).max(T(0)).sum());
      if (dZ) delta() = ((T(2) * y - T(1)) * z <= T(0)).select((T(1) - T(2) * y) * inv_m, T(0));
      break;
    case Loss::mae:
    case Loss::huber:
    case Loss::poisson:
      total = added_regression_loss<T>(loss, z, a, y, huber_delta) / static_cast<double>(k);
      if (dZ) added_regression_delta<T>(loss, a, y, inv_m / static_cast<T>(k), huber_delta, delta());
      break;
    default:
      throw std::logic_error("unweighted_loss_and_delta: unsupported loss");
  }
  return total / static_cast<double>(m);
}

}  // namespace

template <class T>
double loss_and_output_delta(Loss loss, Activation output, T negative_slope, const ConstMatrixRef<T>& Z,
                             const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y, const T* sample_weight,
                             MatrixRef<T>* dZ, T huber_delta) {
  if (loss == Loss::none) throw std::invalid_argument("the network has no loss; compile it with one before training");
  const Index m = Z.rows();
  const Index k = Z.cols();
  const T inv_m = T(1) / static_cast<T>(m);
  if (!sample_weight && loss != Loss::cross_entropy && is_contiguous(Z) && is_contiguous(A) && is_contiguous(Y) &&
      (!dZ || is_contiguous(*dZ))) {
    const double mean = unweighted_loss_and_delta<T>(loss, Z, A, Y, dZ, huber_delta);
    if (dZ && chains_through_output(loss)) multiply_by_derivative<T>(output, negative_slope, Z, A, *dZ);
    return mean;
  }
  // Each row seen as a flat array, the type the contiguous case uses: one instantiation of
  // every expression below instead of two (Eigen's templates are most of this file's build).
  double total = 0.0;
  for (Index i = 0; i < m; ++i) {
    const T w = sample_weight ? sample_weight[i] : T(1);
    const ConstFlatArray<T> z(Z.row(i).data(), k), a(A.row(i).data(), k), y(Y.row(i).data(), k);
    FlatArray<T> out(dZ ? dZ->row(i).data() : nullptr, dZ ? k : 0);
    double sample_loss = 0.0;
    switch (loss) {
      case Loss::cross_entropy: {
        // −Σ y log softmax(z) = Σ y (logsumexp(z) − z). The softmax output already holds what
        // log-sum-exp needs: at the row's largest z, A = exp(0)/Σ exp(z − max) = 1/Σ, so
        // logsumexp(z) = max − log A[argmax]. A[argmax] >= 1/k never underflows, so the
        // loss stays finite for any z, and no exponential is computed twice.
        Index top;
        z.maxCoeff(&top);
        const T log_sum_exp = z(top) - std::log(a(top));
        sample_loss = (y * (log_sum_exp - z)).sum();
        if (dZ) out = (a - y) * (w * inv_m);
        break;
      }
      case Loss::binary_cross_entropy: {
        // −[y log σ(z) + (1 − y) log(1 − σ(z))] = softplus(z) − y z.
        sample_loss = (z.max(T(0)) + (-z.abs()).exp().log1p() - y * z).sum();
        if (dZ) out = (a - y) * (w * inv_m);
        break;
      }
      case Loss::mse: {
        sample_loss = (a - y).square().sum() / static_cast<double>(k);
        if (dZ) out = (a - y) * (T(2) * w * inv_m / static_cast<T>(k));
        break;
      }
      case Loss::hinge: {
        const auto t = T(2) * y - T(1);
        const auto margin = t * z;
        sample_loss = (T(1) - margin).max(T(0)).sum();
        if (dZ) out = (margin < T(1)).select(-t * (w * inv_m), T(0));
        break;
      }
      case Loss::perceptron: {  // as above: t·z <= 0 is a mistake
        const auto t = T(2) * y - T(1);
        sample_loss = (-t * z).max(T(0)).sum();
        if (dZ) out = (t * z <= T(0)).select(-t * (w * inv_m), T(0));
        break;
      }
      case Loss::mae:
      case Loss::huber:
      case Loss::poisson: {
        sample_loss = added_regression_loss<T>(loss, z, a, y, huber_delta) / static_cast<double>(k);
        if (dZ) added_regression_delta<T>(loss, a, y, w * inv_m / static_cast<T>(k), huber_delta, out);
        break;
      }
      case Loss::none:
        break;
    }
    total += static_cast<double>(w) * sample_loss;
  }
  if (dZ && chains_through_output(loss)) multiply_by_derivative<T>(output, negative_slope, Z, A, *dZ);
  return total / static_cast<double>(m);
}

template <class T>
Index count_correct(Activation output, const ConstMatrixRef<T>& A, const ConstMatrixRef<T>& Y) {
  Index correct = 0;
  if (A.cols() == 1) {
    const T threshold = (output == Activation::sigmoid || output == Activation::step) ? T(0.5) : T(0);
    for (Index i = 0; i < A.rows(); ++i) correct += ((A(i, 0) > threshold) == (Y(i, 0) > T(0.5)));
    return correct;
  }
  for (Index i = 0; i < A.rows(); ++i) {
    Index predicted, target;
    A.row(i).maxCoeff(&predicted);
    Y.row(i).maxCoeff(&target);
    correct += (predicted == target);
  }
  return correct;
}

template double loss_and_output_delta<float>(Loss, Activation, float, const ConstMatrixRef<float>&,
                                             const ConstMatrixRef<float>&, const ConstMatrixRef<float>&,
                                             const float*, MatrixRef<float>*, float);
template double loss_and_output_delta<double>(Loss, Activation, double, const ConstMatrixRef<double>&,
                                              const ConstMatrixRef<double>&, const ConstMatrixRef<double>&,
                                              const double*, MatrixRef<double>*, double);
template void check_targets_fit_loss<float>(Loss, const ConstMatrixRef<float>&);
template void check_targets_fit_loss<double>(Loss, const ConstMatrixRef<double>&);
template Index count_correct<float>(Activation, const ConstMatrixRef<float>&, const ConstMatrixRef<float>&);
template Index count_correct<double>(Activation, const ConstMatrixRef<double>&, const ConstMatrixRef<double>&);

}  // namespace fastmlp
