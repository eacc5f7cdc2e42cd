"""Plain NumPy (float64) reference implementation of fastmlp's equations.

The test suite compares the C++ engine against this module, so it is written to be
read and checked by eye, not to be fast. It follows the Notation and Conventions of
DESIGN.md exactly:

    X      m × d        m samples in rows, d features
    W[l]   n_in × n_out        b[l]  (n_out,)
    Z[l] = A[l-1] · W[l] + b[l]        A[l] = f_l(Z[l]),   A[0] = X

    dW[l]   = A[l-1]ᵀ · dZ[l]          db[l] = column sums of dZ[l]
    dA[l-1] = dZ[l] · W[l]ᵀ            dZ[l-1] = dA[l-1] ⊙ f'_{l-1}(Z[l-1])

Every loss is a mean over the m samples of a batch. Optional per-sample weights w
multiply each sample's loss (and its row of dZ[L]) before that mean; the mean still
divides by m, not by the sum of the weights.

This module must never import fastmlp: it is the independent side of the comparison.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ACTIVATIONS = (
    "identity", "sigmoid", "tanh", "relu", "leaky_relu",
    "elu", "softplus", "silu", "softmax", "step",
)
# Activations with a usable elementwise derivative, i.e. allowed in hidden layers.
HIDDEN_ACTIVATIONS = (
    "identity", "sigmoid", "tanh", "relu", "leaky_relu", "elu", "softplus", "silu",
)
LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "hinge", "perceptron")
# The output activations each loss accepts.
OUTPUT_ACTIVATIONS_FOR_LOSS = {
    "cross_entropy": ("softmax",),
    "binary_cross_entropy": ("sigmoid",),
    "mse": HIDDEN_ACTIVATIONS,
    "hinge": ("identity",),
    "perceptron": ("step",),
}
DEFAULT_NEGATIVE_SLOPE = 0.01


# --------------------------------------------------------------------------- layers

@dataclass
class Layer:
    """One dense layer: W of shape (n_in, n_out), b of shape (n_out,)."""

    W: np.ndarray
    b: np.ndarray
    activation: str = "identity"
    negative_slope: float = DEFAULT_NEGATIVE_SLOPE

    def __post_init__(self):
        self.W = np.array(self.W, dtype=np.float64)
        self.b = np.array(self.b, dtype=np.float64).reshape(-1)
        if self.W.ndim != 2:
            raise ValueError(f"W must be 2-D (n_in, n_out), got shape {self.W.shape}")
        if self.b.shape != (self.W.shape[1],):
            raise ValueError(
                f"b must have shape ({self.W.shape[1]},) to match W {self.W.shape}, "
                f"got {self.b.shape}")
        if self.activation not in ACTIVATIONS:
            raise ValueError(
                f"unknown activation {self.activation!r}; expected one of {ACTIVATIONS}")


def as_layer(layer) -> Layer:
    """Return `layer` as a Layer (a copy); accepts a Layer or a dict with keys
    W, b, activation and optionally negative_slope."""
    if isinstance(layer, Layer):
        return Layer(layer.W, layer.b, layer.activation, layer.negative_slope)
    if isinstance(layer, dict):
        return Layer(layer["W"], layer["b"], layer.get("activation", "identity"),
                     layer.get("negative_slope", DEFAULT_NEGATIVE_SLOPE))
    raise ValueError(f"a layer must be a Layer or a dict, got {type(layer).__name__}")


def copy_layers(layers) -> list[Layer]:
    """Deep copy of a list of layers (Layer objects or dicts), as Layer objects."""
    return [as_layer(layer) for layer in layers]


def make_layers(layer_sizes, activations, seed=0, negative_slope=DEFAULT_NEGATIVE_SLOPE):
    """Random layers for tests: W uniform in ±sqrt(6/(n_in+n_out)), b uniform in ±0.5.

    layer_sizes: [d, n_1, ..., n_L]; activations: one name per layer (length L).
    """
    if len(activations) != len(layer_sizes) - 1:
        raise ValueError(
            f"need one activation per layer: {len(layer_sizes) - 1} layers, "
            f"got {len(activations)} activations")
    rng = np.random.default_rng(seed)
    layers = []
    for n_in, n_out, name in zip(layer_sizes[:-1], layer_sizes[1:], activations):
        limit = np.sqrt(6.0 / (n_in + n_out))
        layers.append(Layer(rng.uniform(-limit, limit, size=(n_in, n_out)),
                            rng.uniform(-0.5, 0.5, size=n_out), name, negative_slope))
    return layers


def _read(layer, name):
    return layer[name] if isinstance(layer, dict) else getattr(layer, name)


def _write(layer, name, value):
    # Optimisers update the caller's own layer objects, whether dicts or Layers.
    if isinstance(layer, dict):
        layer[name] = value
    else:
        setattr(layer, name, value)


# ---------------------------------------------------------------------- activations

def sigmoid(Z):
    """1 / (1 + exp(-z)), written so that exp never sees a large positive argument."""
    Z = np.asarray(Z, dtype=np.float64)
    e = np.exp(-np.abs(Z))              # in (0, 1]: no overflow for any z
    return np.where(Z >= 0, 1.0 / (1.0 + e), e / (1.0 + e))


def softplus(Z):
    """log(1 + exp(z)) = max(z, 0) + log(1 + exp(-|z|)), finite for any z."""
    Z = np.asarray(Z, dtype=np.float64)
    return np.maximum(Z, 0.0) + np.log1p(np.exp(-np.abs(Z)))


def log_softmax(Z):
    """Row-wise log of softmax via log-sum-exp with the row maximum subtracted."""
    Z = np.asarray(Z, dtype=np.float64)
    shifted = Z - Z.max(axis=1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def softmax(Z):
    """Row-wise softmax, shape of Z (m, k)."""
    return np.exp(log_softmax(Z))


def activation(name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE):
    """A = f(Z) for the activation called `name`; Z has shape (m, n)."""
    Z = np.asarray(Z, dtype=np.float64)
    if name == "identity":
        return Z.copy()
    if name == "sigmoid":
        return sigmoid(Z)
    if name == "tanh":
        return np.tanh(Z)
    if name == "relu":
        return np.where(Z > 0, Z, 0.0)
    if name == "leaky_relu":
        return np.where(Z > 0, Z, negative_slope * Z)
    if name == "elu":
        # expm1 of min(z, 0) so that exp is never evaluated at a large positive z
        return np.where(Z > 0, Z, np.expm1(np.minimum(Z, 0.0)))
    if name == "softplus":
        return softplus(Z)
    if name == "silu":
        return Z * sigmoid(Z)
    if name == "softmax":
        return softmax(Z)
    if name == "step":
        return np.where(Z > 0, 1.0, 0.0)
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


def activation_derivative(name, Z, negative_slope=DEFAULT_NEGATIVE_SLOPE):
    """f'(Z) elementwise, shape of Z. At the kink z = 0, relu' and leaky_relu' take
    the left-hand value (0 and negative_slope). softmax and step have no elementwise
    derivative here: softmax is only differentiated fused with cross-entropy, step
    only fused with the perceptron criterion."""
    Z = np.asarray(Z, dtype=np.float64)
    if name == "identity":
        return np.ones_like(Z)
    if name == "sigmoid":
        s = sigmoid(Z)
        return s * (1.0 - s)
    if name == "tanh":
        return 1.0 - np.tanh(Z) ** 2
    if name == "relu":
        return np.where(Z > 0, 1.0, 0.0)
    if name == "leaky_relu":
        return np.where(Z > 0, 1.0, negative_slope)
    if name == "elu":
        return np.where(Z > 0, 1.0, np.exp(np.minimum(Z, 0.0)))
    if name == "softplus":
        return sigmoid(Z)
    if name == "silu":
        s = sigmoid(Z)
        return s + Z * s * (1.0 - s)
    if name in ("softmax", "step"):
        raise ValueError(
            f"activation {name!r} has no elementwise derivative: it is only valid as "
            f"an output layer fused with its loss")
    raise ValueError(f"unknown activation {name!r}; expected one of {ACTIVATIONS}")


# -------------------------------------------------------------------------- checks

def check_network(layers, loss):
    """Raise ValueError unless the layers chain in shape, hidden layers use
    differentiable activations and the output activation fits `loss`."""
    if loss not in LOSSES:
        raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")
    layers = copy_layers(layers)
    if not layers:
        raise ValueError("layers is empty: a network needs at least one layer")
    for index, (before, after) in enumerate(zip(layers[:-1], layers[1:])):
        if before.W.shape[1] != after.W.shape[0]:
            raise ValueError(
                f"layer {index + 1} expects {after.W.shape[0]} inputs but layer "
                f"{index} has {before.W.shape[1]} outputs")
    for index, layer in enumerate(layers[:-1]):
        if layer.activation not in HIDDEN_ACTIVATIONS:
            raise ValueError(
                f"hidden layer {index} uses {layer.activation!r}, which has no usable "
                f"derivative; it may only be the output activation")
    output = layers[-1].activation
    if output not in OUTPUT_ACTIVATIONS_FOR_LOSS[loss]:
        raise ValueError(
            f"loss {loss!r} cannot be used with output activation {output!r}; it needs "
            f"one of {OUTPUT_ACTIVATIONS_FOR_LOSS[loss]}")


def _as_targets(Y, m, k):
    Y = np.asarray(Y, dtype=np.float64)
    if Y.ndim == 1 and k == 1:
        Y = Y.reshape(-1, 1)
    if Y.shape != (m, k):
        raise ValueError(f"Y must have shape ({m}, {k}), got {Y.shape}")
    return Y


def _as_weights(weights, m):
    if weights is None:
        return np.ones(m)
    weights = np.asarray(weights, dtype=np.float64)
    if weights.shape != (m,):
        raise ValueError(f"weights must have shape ({m},), got {weights.shape}")
    return weights


# ------------------------------------------------------------------------- forward

def forward(layers, X):
    """Forward propagation.

    X: (m, d). Returns a list with one (Z, A) pair per layer (the input is not
    included), Z and A of shape (m, n_out) of that layer.
    """
    A = np.asarray(X, dtype=np.float64)
    caches = []
    for layer in copy_layers(layers):
        Z = A @ layer.W + layer.b
        A = activation(layer.activation, Z, layer.negative_slope)
        caches.append((Z, A))
    return caches


def predict(layers, X):
    """Output-layer activations A[L], shape (m, n_out)."""
    return forward(layers, X)[-1][1]


# -------------------------------------------------------------------------- losses

def per_sample_losses(loss, Z, Y, output_activation, negative_slope=DEFAULT_NEGATIVE_SLOPE):
    """Unweighted loss l_i of every sample, shape (m,), from the output Z (m, k)."""
    Z = np.asarray(Z, dtype=np.float64)
    m, k = Z.shape
    Y = _as_targets(Y, m, k)
    if loss == "cross_entropy":
        # -sum_j y_ij log p_ij, with log p from log-sum-exp so it stays finite
        return -(Y * log_softmax(Z)).sum(axis=1)
    if loss == "binary_cross_entropy":
        # -[y log s(z) + (1-y) log(1-s(z))] = softplus(z) - y z, summed over outputs
        return (softplus(Z) - Y * Z).sum(axis=1)
    if loss == "mse":
        A = activation(output_activation, Z, negative_slope)
        return ((A - Y) ** 2).sum(axis=1) / k          # mean over outputs, no 1/2
    if loss == "hinge":
        t = 2.0 * Y - 1.0                               # labels {0,1} -> {-1,+1}
        return np.maximum(0.0, 1.0 - t * Z).sum(axis=1)
    if loss == "perceptron":
        t = 2.0 * Y - 1.0                               # labels {0,1} -> {-1,+1}
        # perceptron criterion: |z| for each misclassified output, 0 otherwise
        return np.maximum(0.0, -t * Z).sum(axis=1)
    raise ValueError(f"unknown loss {loss!r}; expected one of {LOSSES}")


def loss_and_output_delta(loss, Z, Y, output_activation, weights=None,
                          negative_slope=DEFAULT_NEGATIVE_SLOPE):
    """Loss value L (mean over the m samples) and the output delta dZ[L] = ∂L/∂Z.

    Z: (m, k) output pre-activations; Y: (m, k), or (m,) when k == 1;
    weights: (m,) or None (all ones). Returns (L, dZ) with dZ of shape (m, k).
    """
    if output_activation not in OUTPUT_ACTIVATIONS_FOR_LOSS.get(loss, ()):
        raise ValueError(
            f"loss {loss!r} cannot be used with output activation {output_activation!r}")
    Z = np.asarray(Z, dtype=np.float64)
    m, k = Z.shape
    Y = _as_targets(Y, m, k)
    w = _as_weights(weights, m)

    value = float((w * per_sample_losses(loss, Z, Y, output_activation,
                                         negative_slope)).sum() / m)

    if loss == "cross_entropy":
        dZ = (softmax(Z) - Y) / m
    elif loss == "binary_cross_entropy":
        dZ = (sigmoid(Z) - Y) / m
    elif loss == "mse":
        A = activation(output_activation, Z, negative_slope)
        dA = 2.0 * (A - Y) / (m * k)
        dZ = dA * activation_derivative(output_activation, Z, negative_slope)
    elif loss == "hinge":
        t = 2.0 * Y - 1.0
        dZ = np.where(t * Z < 1.0, -t, 0.0) / m
    else:  # perceptron: t·z <= 0 is a mistake (a score of exactly 0 too), as in scikit-learn
        t = 2.0 * Y - 1.0
        dZ = np.where(t * Z <= 0.0, -t, 0.0) / m
    return value, dZ * w[:, None]


def loss_value(layers, X, Y, loss, weights=None):
    """Mean (optionally weighted) loss of the network on (X, Y). Like the engine's
    reported loss, it does not include the weight-decay penalty λ/2·‖W‖²."""
    check_network(layers, loss)
    output = as_layer(layers[-1])
    Z = forward(layers, X)[-1][0]
    value, _ = loss_and_output_delta(loss, Z, Y, output.activation, weights,
                                     output.negative_slope)
    return value


# ------------------------------------------------------------------------ backward

def backward(layers, X, Y, loss, weights=None):
    """Backpropagation of the mean loss over the batch (X, Y).

    X: (m, d); Y: (m, k) or (m,) when k == 1; weights: (m,) or None.
    Returns (grads, loss_value): grads is a list with one (dW, db) per layer,
    dW of shape W's (n_in, n_out) and db of shape (n_out,). Weight decay is not
    included here: the optimisers add λ·W to dW.
    """
    check_network(layers, loss)
    layers = copy_layers(layers)
    X = np.asarray(X, dtype=np.float64)
    caches = forward(layers, X)
    output = layers[-1]
    value, dZ = loss_and_output_delta(loss, caches[-1][0], Y, output.activation,
                                      weights, output.negative_slope)

    grads = [None] * len(layers)
    for index in reversed(range(len(layers))):
        A_previous = X if index == 0 else caches[index - 1][1]
        grads[index] = (A_previous.T @ dZ, dZ.sum(axis=0))
        if index > 0:
            dA_previous = dZ @ layers[index].W.T
            below = layers[index - 1]
            Z_previous = caches[index - 1][0]
            dZ = dA_previous * activation_derivative(below.activation, Z_previous,
                                                     below.negative_slope)
    return grads, value


def numerical_gradients(layers, X, Y, loss, weights=None, eps=1e-6):
    """Gradients of loss_value by central differences, (L(θ+ε) − L(θ−ε)) / 2ε, one
    parameter at a time. Same layout as backward's grads: a list of (dW, db)."""
    probe = copy_layers(layers)
    grads = []
    for layer in probe:
        layer_grads = []
        for parameter in (layer.W, layer.b):
            gradient = np.zeros_like(parameter)
            for position in np.ndindex(parameter.shape):
                original = parameter[position]
                parameter[position] = original + eps
                above = loss_value(probe, X, Y, loss, weights)
                parameter[position] = original - eps
                below = loss_value(probe, X, Y, loss, weights)
                parameter[position] = original
                gradient[position] = (above - below) / (2.0 * eps)
            layer_grads.append(gradient)
        grads.append(tuple(layer_grads))
    return grads


# ---------------------------------------------------------------------- optimisers

def _with_weight_decay(name, parameter, gradient, weight_decay):
    # L2 penalty λ/2·‖W‖² on weights only: its gradient λ·W joins dW, b is untouched.
    if name == "W" and weight_decay:
        return gradient + weight_decay * parameter
    return gradient


class SGD:
    """Stochastic gradient descent with PyTorch's momentum convention.

    g = grad (+ λW for weights); with momentum μ > 0: v ← μv + g (v starts at 0)
    and the update is g + μv (Nesterov) or v; without momentum the update is g.
    w ← w − lr·update.
    """

    def __init__(self, lr, momentum=0.0, nesterov=False, weight_decay=0.0):
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if momentum < 0:
            raise ValueError(f"momentum must be >= 0, got {momentum}")
        if nesterov and momentum <= 0:
            raise ValueError("nesterov=True needs momentum > 0")
        self.lr = lr
        self.momentum = momentum
        self.nesterov = nesterov
        self.weight_decay = weight_decay
        self.velocity = None    # per layer: {"W": array, "b": array}

    def step(self, layers, grads):
        """Update `layers` in place (their W and b are replaced) from `grads`,
        a list of (dW, db) as returned by backward."""
        if self.velocity is None:
            self.velocity = [{"W": np.zeros_like(_read(layer, "W"), dtype=np.float64),
                              "b": np.zeros_like(_read(layer, "b"), dtype=np.float64)}
                             for layer in layers]
        for layer, layer_grads, velocity in zip(layers, grads, self.velocity):
            for name, gradient in zip(("W", "b"), layer_grads):
                parameter = np.asarray(_read(layer, name), dtype=np.float64)
                g = _with_weight_decay(name, parameter, np.asarray(gradient), self.weight_decay)
                if self.momentum > 0:
                    velocity[name] = self.momentum * velocity[name] + g
                    if self.nesterov:
                        update = g + self.momentum * velocity[name]
                    else:
                        update = velocity[name]
                else:
                    update = g
                _write(layer, name, parameter - self.lr * update)


class Adam:
    """Adam (Kingma & Ba; PyTorch's form), ε outside the square root:

    t ← t+1; m ← β1·m + (1−β1)·g; v ← β2·v + (1−β2)·g²;
    m̂ = m/(1−β1^t); v̂ = v/(1−β2^t); w ← w − lr·m̂/(√v̂ + ε).
    """

    def __init__(self, lr=1e-3, beta1=0.9, beta2=0.999, eps=1e-8, weight_decay=0.0):
        if lr < 0:
            raise ValueError(f"lr must be >= 0, got {lr}")
        if not (0 <= beta1 < 1 and 0 <= beta2 < 1):
            raise ValueError(f"beta1 and beta2 must be in [0, 1), got {beta1}, {beta2}")
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.eps = eps
        self.weight_decay = weight_decay
        self.t = 0
        self.first_moment = None    # per layer: {"W": array, "b": array}
        self.second_moment = None

    def step(self, layers, grads):
        """Update `layers` in place from `grads` (a list of (dW, db))."""
        if self.first_moment is None:
            def zeros():
                return [{"W": np.zeros_like(_read(layer, "W"), dtype=np.float64),
                         "b": np.zeros_like(_read(layer, "b"), dtype=np.float64)}
                        for layer in layers]
            self.first_moment, self.second_moment = zeros(), zeros()
        self.t += 1
        for layer, layer_grads, m_state, v_state in zip(
                layers, grads, self.first_moment, self.second_moment):
            for name, gradient in zip(("W", "b"), layer_grads):
                parameter = np.asarray(_read(layer, name), dtype=np.float64)
                g = _with_weight_decay(name, parameter, np.asarray(gradient), self.weight_decay)
                m_state[name] = self.beta1 * m_state[name] + (1.0 - self.beta1) * g
                v_state[name] = self.beta2 * v_state[name] + (1.0 - self.beta2) * g * g
                m_hat = m_state[name] / (1.0 - self.beta1 ** self.t)
                v_hat = v_state[name] / (1.0 - self.beta2 ** self.t)
                _write(layer, name, parameter - self.lr * m_hat / (np.sqrt(v_hat) + self.eps))


# ------------------------------------------------------------------------ training

def train(layers, X, Y, loss, optimizer, batch_size, epochs, weights=None):
    """Mini-batch training; updates `layers` in place.

    Batches are taken in order without shuffling: rows [0:B], [B:2B], ..., the last
    one possibly smaller. Each batch's loss is computed before its update. Returns a
    list with one float per epoch: the batch losses averaged with the batch sizes as
    weights, i.e. the mean per-sample loss seen during that epoch (without any
    weight-decay penalty).
    """
    check_network(layers, loss)
    X = np.asarray(X, dtype=np.float64)
    m = X.shape[0]
    k = _read(layers[-1], "W").shape[1]
    Y = _as_targets(Y, m, k)
    w = _as_weights(weights, m)
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")

    history = []
    for _ in range(epochs):
        total = 0.0
        for start in range(0, m, batch_size):
            rows = slice(start, start + batch_size)
            grads, batch_loss = backward(layers, X[rows], Y[rows], loss, w[rows])
            optimizer.step(layers, grads)
            total += batch_loss * X[rows].shape[0]
        history.append(total / m)
    return history


def one_hot(labels, n_classes):
    """Integer labels (m,) -> one-hot rows (m, n_classes) of float64."""
    labels = np.asarray(labels)
    Y = np.zeros((labels.shape[0], n_classes))
    Y[np.arange(labels.shape[0]), labels] = 1.0
    return Y
