// Inverted dropout of hidden layers' outputs in training (the Network members that draw,
// apply and differentiate it). With p the layer's rate and M[l] its mask (1 kept, 0 dropped):
//   Ã[l] = A[l] ⊙ M[l] / (1 − p)          what layer l+1 reads instead of A[l]
//   dA[l] = dÃ[l] ⊙ M[l] / (1 − p)        before dZ[l] = dA[l] ⊙ f'_l(Z[l])
// so the expected input of the next layer is A[l] and inference, which never drops, needs
// no rescaling. The masks come from the network's own dropout generator.
#include "checked_size.hpp"
#include "fastmlp/network.hpp"

#include <cmath>
#include <cstdint>
#include <limits>
#include <string>

namespace fastmlp {
namespace {

// A unit is dropped when a 32-bit draw falls below rate·2³², so each 64-bit draw of the
// generator decides two units.
std::uint64_t drop_threshold(double rate) {
  const double scaled = std::ldexp(rate, 32);
  const double largest = static_cast<double>(std::numeric_limits<std::uint32_t>::max());
  return static_cast<std::uint64_t>(scaled < largest ? scaled : largest);
}

template <class T>
T keep_scale(double rate) {
  return static_cast<T>(1.0 / (1.0 - rate));
}

}  // namespace

template <class T>
bool Network<T>::has_dropout() const {
  for (const auto& spec : layers_)
    if (spec.dropout > 0.0) return true;
  return false;
}

template <class T>
void Network<T>::reserve_dropout(ForwardCache<T>& cache) const {
  // Grown with the cache it belongs to (reserve), so a training epoch allocates nothing per batch.
  cache.mask.resize(layers_.size());
  cache.dropped.resize(layers_.size());
  for (Index l = 0; l < num_layers(); ++l) {
    const auto i = static_cast<std::size_t>(l);
    if (layer(l).dropout <= 0.0 || cache.mask[i].rows() >= cache.capacity) continue;
    detail::checked_product(cache.capacity, layer(l).units, "layer " + std::to_string(l) + ": the dropout mask");
    cache.mask[i].resize(cache.capacity, layer(l).units);
    cache.dropped[i].resize(cache.capacity, layer(l).units);
  }
}

template <class T>
void Network<T>::drop_units(Index l, Index rows, ForwardCache<T>& cache, Random& random) const {
  const auto i = static_cast<std::size_t>(l);
  const std::uint64_t threshold = drop_threshold(layer(l).dropout);
  const T scale = keep_scale<T>(layer(l).dropout);
  // The first rows·units entries of the row-major buffers are the top `rows` rows.
  const Index n = rows * layer(l).units;
  T* mask = cache.mask[i].data();
  T* dropped = cache.dropped[i].data();
  const T* a = cache.a[i].data();
  std::uint64_t draw = 0;
  for (Index k = 0; k < n; ++k) {
    if (k % 2 == 0) draw = random.next();
    const std::uint64_t half = k % 2 == 0 ? (draw & 0xFFFFFFFFULL) : (draw >> 32);
    const bool keep = half >= threshold;
    mask[k] = keep ? T(1) : T(0);
    dropped[k] = keep ? a[k] * scale : T(0);
  }
}

template <class T>
const Matrix<T>& Network<T>::layer_input(const ForwardCache<T>& cache, Index l) const {
  const auto previous = static_cast<std::size_t>(l - 1);
  return cache.dropping && layers_[previous].dropout > 0.0 ? cache.dropped[previous] : cache.a[previous];
}

template <class T>
void Network<T>::multiply_by_dropout_derivative(Index l, MatrixRef<T> delta) const {
  if (!cache_.dropping || layer(l).dropout <= 0.0) return;
  const auto i = static_cast<std::size_t>(l);
  delta.array() *= cache_.mask[i].topRows(delta.rows()).array() * keep_scale<T>(layer(l).dropout);  // dA = dÃ ⊙ M/(1 − p)
}

// Only the members defined here (the class itself is instantiated in network.cpp).
#define FASTMLP_INSTANTIATE(T)                                                                 \
  template bool Network<T>::has_dropout() const;                                               \
  template void Network<T>::reserve_dropout(ForwardCache<T>&) const;                           \
  template void Network<T>::drop_units(Index, Index, ForwardCache<T>&, Random&) const;         \
  template const Matrix<T>& Network<T>::layer_input(const ForwardCache<T>&, Index) const;      \
  template void Network<T>::multiply_by_dropout_derivative(Index, MatrixRef<T>) const;
FASTMLP_INSTANTIATE(float)
FASTMLP_INSTANTIATE(double)
#undef FASTMLP_INSTANTIATE

}  // namespace fastmlp
