// The Network's argument checks and checked parameter writes: every entry point of the
// engine refuses wrong shapes itself, so C++ callers get the same errors as Python users.
#include "fastmlp/network.hpp"

#include "checked_size.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <string>

namespace fastmlp {

bool all_finite_values(const ConstMatrixRef<float>& X) { return all_finite(X); }
bool all_finite_values(const ConstMatrixRef<double>& X) { return all_finite(X); }
const char* simd_instruction_sets() { return Eigen::SimdInstructionSetsInUse(); }
int engine_heap_alignment() { return heap_alignment_here(); }
namespace {

std::string shape(Index rows, Index cols) { return "(" + std::to_string(rows) + ", " + std::to_string(cols) + ")"; }

std::string layer_label(Index l) { return "layer " + std::to_string(l); }

void check_layer(const LayerSpec& spec, Index l, bool hidden) {
  if (spec.units < 1)
    throw std::invalid_argument(layer_label(l) + " has " + std::to_string(spec.units) + " units; it needs at least 1");
  if (!std::isfinite(spec.negative_slope)) throw std::invalid_argument(layer_label(l) + ": negative_slope must be finite");
  if (!(spec.dropout >= 0.0 && spec.dropout < 1.0))
    throw std::invalid_argument(layer_label(l) + ": dropout is the fraction of units dropped and must be in [0, 1), got " +
                                std::to_string(spec.dropout));
  if (!hidden && spec.dropout > 0.0)
    throw std::invalid_argument(layer_label(l) +
                                ": the output layer cannot drop units (dropout applies to hidden layers' outputs)");
  if (hidden && spec.activation == Activation::step)
    throw std::invalid_argument(layer_label(l) +
                                ": step has no useful derivative (zero almost everywhere), so backpropagation "
                                "cannot pass through it; it can only be the output of a perceptron");
  if (hidden && spec.activation == Activation::softmax)
    throw std::invalid_argument(layer_label(l) +
                                ": softmax normalises across a layer's outputs and belongs only at the output, "
                                "with cross_entropy");
}

}  // namespace

template <class T>
void Network<T>::lay_out_parameters() {
  if (input_dim_ < 1) throw std::invalid_argument("input_dim must be at least 1, got " + std::to_string(input_dim_));
  if (layers_.empty()) throw std::invalid_argument("a network needs at least one layer");
  const Index last = num_layers() - 1;
  Index size = 0;
  for (Index l = 0; l <= last; ++l) {
    const LayerSpec& spec = layer(l);
    check_layer(spec, l, l < last);
    // Every product of dimensions is checked: Dense(2**62) must be refused, not wrap around.
    const std::string what = layer_label(l) + " (" + std::to_string(layer_input_dim(l)) + " inputs, " +
                             std::to_string(spec.units) + " units) needs too many weights";
    weight_offsets_.push_back(size);
    size = detail::checked_sum(size, detail::checked_product(layer_input_dim(l), spec.units, what), what);
    bias_offsets_.push_back(size);
    size = detail::checked_sum(size, spec.units, layer_label(l) + ": the parameter total is too large");
  }
}

template <class T>
void Network<T>::reserve(ForwardCache<T>& cache, Index rows) const {
  if (rows <= cache.capacity && cache.z.size() == layers_.size()) return;
  cache.z.resize(layers_.size());
  cache.a.resize(layers_.size());
  for (Index l = 0; l < num_layers(); ++l) {
    const auto i = static_cast<std::size_t>(l);
    detail::checked_product(rows, layer(l).units, layer_label(l) + ": the cache of " + std::to_string(rows) + " rows");
    cache.z[i].resize(rows, layer(l).units);
    cache.a[i].resize(rows, layer(l).units);
  }
  cache.capacity = rows;
}

template <class T>
void Network<T>::set_huber_delta(double delta) {
  check_huber_delta(delta);
  huber_delta_ = delta;
}

template <class T>
void Network<T>::check_layer_index(Index l) const {
  if (l < 0 || l >= num_layers())
    throw std::out_of_range("layer index " + std::to_string(l) + " out of range for " + std::to_string(num_layers()) +
                            " layers");
}

template <class T>
void Network<T>::set_weights(Index l, const ConstMatrixRef<T>& W) {
  check_layer_index(l);
  auto target = weights(l);
  if (W.rows() != target.rows() || W.cols() != target.cols())
    throw std::invalid_argument("W of layer " + std::to_string(l) + " must have shape " +
                                shape(target.rows(), target.cols()) + ", got " + shape(W.rows(), W.cols()));
  target = W;
}

template <class T>
void Network<T>::set_bias(Index l, const ConstVectorRef<T>& b) {
  check_layer_index(l);
  auto target = bias(l);
  if (b.size() != target.size())
    throw std::invalid_argument("b of layer " + std::to_string(l) + " must have " + std::to_string(target.size()) +
                                " entries, got " + std::to_string(b.size()));
  target = b.transpose();
}

template <class T>
void Network<T>::set_parameters(const ConstVectorRef<T>& values) {
  if (values.size() != num_parameters())
    throw std::invalid_argument("expected " + std::to_string(num_parameters()) + " parameters, got " +
                                std::to_string(values.size()));
  parameters_ = values;
}

template <class T>
void Network<T>::check_input(Index rows, Index cols) const {
  if (rows < 1) throw std::invalid_argument("X has no rows (empty data)");
  if (cols != input_dim_)
    throw std::invalid_argument("X has " + std::to_string(cols) + " features but the network expects " +
                                std::to_string(input_dim_));
}

template <class T>
void Network<T>::check_targets(Index rows, Index cols, const ConstMatrixRef<T>& Y) const {
  check_input(rows, cols);
  if (Y.rows() != rows)
    throw std::invalid_argument("X has " + std::to_string(rows) + " rows but Y has " + std::to_string(Y.rows()));
  if (Y.cols() != output_dim())
    throw std::invalid_argument("Y has " + std::to_string(Y.cols()) + " columns but the network has " +
                                std::to_string(output_dim()) + " outputs");
  if (loss_ == Loss::none) throw std::invalid_argument("the network has no loss; compile it with one first");
}

template <class T>
void Network<T>::check_sample_weight(Index rows, SampleWeights<T> sample_weight) const {
  if (sample_weight && sample_weight.size != rows)
    throw std::invalid_argument("sample_weight has " + std::to_string(sample_weight.size) + " entries but X has " +
                                std::to_string(rows) + " rows");
}

template <class T>
Index Network<T>::checked_batch_size(Index batch_size, Index rows) const {
  if (batch_size < 1) throw std::invalid_argument("batch_size must be at least 1, got " + std::to_string(batch_size));
  return std::min(batch_size, rows);
}

// Only the members defined here (the class itself is instantiated in network.cpp).
#define FASTMLP_INSTANTIATE(T)                                                                        \
  template void Network<T>::lay_out_parameters();                                                     \
  template void Network<T>::reserve(ForwardCache<T>&, Index) const;                                   \
  template void Network<T>::check_layer_index(Index) const;                                           \
  template void Network<T>::set_huber_delta(double);                                                  \
  template void Network<T>::set_weights(Index, const ConstMatrixRef<T>&);                             \
  template void Network<T>::set_bias(Index, const ConstVectorRef<T>&);                                \
  template void Network<T>::set_parameters(const ConstVectorRef<T>&);                                 \
  template void Network<T>::check_input(Index, Index) const;                                          \
  template void Network<T>::check_targets(Index, Index, const ConstMatrixRef<T>&) const;              \
  template void Network<T>::check_sample_weight(Index, SampleWeights<T>) const;                       \
  template Index Network<T>::checked_batch_size(Index, Index) const;
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
