"""Workloads, synthetic data and the neutral float64 evaluator shared by every peer."""
from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

SEED = 20240606
LEARNING_RATE = 0.01
MIB = 1 << 20


@dataclass(frozen=True)
class Workload:
    """A network (layer sizes d, h1, ..., k), its batch size and a data set size."""

    name: str
    sizes: tuple
    batch: int
    task: str  # "classification" (softmax + cross-entropy) or "regression" (identity + MSE)
    rows: int

    @property
    def layer_shapes(self) -> list:
        return list(zip(self.sizes[:-1], self.sizes[1:]))

    @property
    def classification(self) -> bool:
        return self.task == "classification"

    @property
    def train_flops_per_sample(self) -> int:
        """Forward 2·n_in·n_out per layer, backward 2·n_in·n_out for dW and 2·n_in·n_out for
        dA_prev, except the first layer's (no gradient with respect to X)."""
        products = [n_in * n_out for n_in, n_out in self.layer_shapes]
        return 6 * sum(products) - 2 * products[0]

    @property
    def predict_flops_per_row(self) -> int:
        return 2 * sum(n_in * n_out for n_in, n_out in self.layer_shapes)

    def describe(self) -> str:
        return "-".join(map(str, self.sizes)) + f" batch {self.batch}"


WORKLOADS = {
    "W1": Workload("W1", (2, 16, 16, 2), 32, "classification", 50_000),
    "W2": Workload("W2", (64, 128, 10), 64, "classification", 50_000),
    "W3": Workload("W3", (784, 256, 128, 10), 128, "classification", 50_000),
    "W4": Workload("W4", (1024, 1024, 1024, 10), 256, "classification", 20_000),
    "W5": Workload("W5", (8, 64, 64, 1), 64, "regression", 50_000),
}
INFERENCE_WORKLOAD = "W3"
INFERENCE_BATCH_ROWS = 10_000
GEMM_WORKLOADS = ("W3", "W4")


def make_data(workload: Workload, rows: int, seed: int = SEED):
    """Synthetic data that a network can learn: Gaussian features and targets from a
    random one-hidden-layer tanh "teacher".

    Returns X (rows, d) float32 and y: (rows,) int64 class labels for classification,
    (rows,) float32 standardised targets for regression. Built chunk by chunk, so making
    the data never needs much more memory than the data itself.
    """
    rng = np.random.default_rng([seed, int(workload.name[1:])])
    d, k = workload.sizes[0], workload.sizes[-1]
    X = rng.standard_normal((rows, d), dtype=np.float32)
    hidden = 32
    U = (rng.standard_normal((d, hidden)) * (2.0 / math.sqrt(d))).astype(np.float32)  # float32: no
    V = rng.standard_normal((hidden, k)).astype(np.float32)  # float64 copy of a chunk of X
    targets = np.empty(rows, dtype=np.int64 if workload.classification else np.float64)
    for start in range(0, rows, 4096):
        stop = min(rows, start + 4096)
        scores = np.tanh(X[start:stop] @ U) @ V
        if workload.classification:
            # Gumbel noise makes the label a draw from softmax(3·scores): learnable, not trivial.
            targets[start:stop] = np.argmax(3.0 * scores + rng.gumbel(size=scores.shape), axis=1)
        else:
            targets[start:stop] = scores[:, 0] + 0.1 * rng.standard_normal(stop - start)
    if workload.classification:
        return X, targets
    return X, ((targets - targets.mean()) / targets.std()).astype(np.float32)


def one_hot(y: np.ndarray, k: int) -> np.ndarray:
    Y = np.zeros((y.shape[0], k), dtype=np.float32)
    Y[np.arange(y.shape[0]), y] = 1
    return Y


def forward_float64(parameters: list, X: np.ndarray, classification: bool) -> np.ndarray:
    """Output of a ReLU network with softmax (classification) or identity output, in
    float64 and in chunks: one neutral evaluator for every peer's weights."""
    out = []
    for start in range(0, X.shape[0], 4096):
        A = X[start:start + 4096].astype(np.float64)
        for index, (W, b) in enumerate(parameters):
            Z = A @ W.astype(np.float64) + b.astype(np.float64)
            A = np.maximum(Z, 0.0) if index < len(parameters) - 1 else Z
        if classification:
            A = np.exp(A - A.max(axis=1, keepdims=True))
            A /= A.sum(axis=1, keepdims=True)
        out.append(A)
    return np.concatenate(out)


def quality_of(output: np.ndarray, y: np.ndarray, classification: bool) -> dict:
    """Mean cross-entropy and accuracy (classification) or mean squared error."""
    if classification:
        p_true = output[np.arange(y.shape[0]), y]
        return {"loss": float(-np.mean(np.log(np.clip(p_true, 1e-12, None)))),
                "accuracy": float(np.mean(np.argmax(output, axis=1) == y))}
    return {"loss": float(np.mean((output.reshape(-1) - y.astype(np.float64)) ** 2))}
