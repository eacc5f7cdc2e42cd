#!/usr/bin/env python3
"""Speed benchmark of fastmlp against PyTorch (CPU), scikit-learn's MLP and plain NumPy.

Every peer trains the same networks on the same synthetic float32 data (fixed seed), from
the same initial weights where the architectures allow it, with plain SGD (lr 0.01) and
a fresh shuffle every epoch. Peers are measured round-robin after a warm-up, and the
report gives medians (with the interquartile range) of samples/s and achieved GFLOP/s.

    python benchmarks/bench.py                          # everything, about 10 minutes
    python benchmarks/bench.py --workloads W1,W3 --repeats 3 --seconds 0.5
    python benchmarks/bench.py --memory                 # only the peak-memory measurement

See benchmarks/README.md for the formulas, the peers' loops and how to install them.
"""
from __future__ import annotations

import json
import os
import sys

# Some machines set OPENBLAS_CORETYPE / OPENBLAS_L2_SIZE to dodge bugs of old OpenBLAS
# builds; with a current NumPy they only select a slower kernel. NumPy reads them when it
# loads, so the benchmark starts itself again without them (unless told not to) before
# anything imports NumPy; the original values travel along so the report can name them.
OPENBLAS_OVERRIDES = ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE")
ORIGINAL_OPENBLAS_ENV = "FASTMLP_BENCH_ORIGINAL_OPENBLAS_ENV"


def _restart_without_openblas_overrides() -> None:
    if "--keep-openblas-env" in sys.argv or not any(name in os.environ for name in OPENBLAS_OVERRIDES):
        return
    env = dict(os.environ)
    env[ORIGINAL_OPENBLAS_ENV] = json.dumps({name: env.pop(name) for name in OPENBLAS_OVERRIDES if name in env})
    os.execve(sys.executable, [sys.executable, os.path.abspath(__file__), *sys.argv[1:]], env)


if __name__ == "__main__":
    _restart_without_openblas_overrides()

import argparse  # noqa: E402
import contextlib  # noqa: E402
import datetime  # noqa: E402
import gc  # noqa: E402
import math  # noqa: E402
import platform  # noqa: E402
import re  # noqa: E402
import resource  # noqa: E402
import statistics  # noqa: E402
import subprocess  # noqa: E402
import time  # noqa: E402
import timeit  # noqa: E402
import warnings  # noqa: E402
from dataclasses import dataclass  # noqa: E402

import numpy as np  # noqa: E402

SEED = 20240606
LEARNING_RATE = 0.01
# Pause before each measurement so that the worker threads of the previous peer's runtime
# (OpenMP and OpenBLAS spin for a while after a parallel region) stop competing for the
# two cores.
SETTLE_SECONDS = 0.05
MIB = 1 << 20
ALL_PEERS = ("fastmlp", "engine", "torch", "sklearn", "numpy")
PEER_LABELS = {
    "fastmlp": "fastmlp (fit)",
    "engine": "fastmlp engine (train_epochs)",
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "numpy": "NumPy",
}


# ----------------------------------------------------------------------------- workloads
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


def initial_parameters(workload: Workload, seed: int = SEED) -> list:
    """[(W (n_in, n_out), b (n_out,))] float32: fastmlp's own initial weights when fastmlp is
    installed (so every peer starts where fastmlp starts), else He-normal ones."""
    try:
        model = FastmlpPeer.build_model(workload, seed)
        return [(layer.W, layer.b) for layer in model.layers]
    except ImportError:
        rng = np.random.default_rng(seed)
        return [((rng.standard_normal((n_in, n_out)) * math.sqrt(2.0 / n_in)).astype(np.float32),
                 np.zeros(n_out, dtype=np.float32)) for n_in, n_out in workload.layer_shapes]


# ----------------------------------------------------------------------------- quality
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


# ----------------------------------------------------------------------------- peers
class Peer:
    """One library training one workload. train(epochs) is what the clock measures."""

    name = "?"

    def train(self, epochs: int) -> None:
        raise NotImplementedError

    def parameters(self):
        """[(W (n_in, n_out), b (n_out,))], or None when the peer evaluates itself."""
        return None

    def output(self, X: np.ndarray) -> np.ndarray:
        return forward_float64(self.parameters(), X, self.workload.classification)


class FastmlpPeer(Peer):
    """fastmlp as a user drives it: Sequential.fit(verbose=0), one call per measurement."""

    name = "fastmlp"

    @staticmethod
    def build_model(workload: Workload, seed: int, parameters=None):
        import fastmlp as fm
        hidden = [fm.Dense(units, activation="relu") for units in workload.sizes[1:-1]]
        output = fm.Dense(workload.sizes[-1], activation="softmax" if workload.classification else "identity")
        model = fm.Sequential([*hidden, output], input_dim=workload.sizes[0], seed=seed)
        model.compile(loss="cross_entropy" if workload.classification else "mse", optimizer=fm.SGD(lr=LEARNING_RATE))
        for layer, (W, b) in zip(model.layers, parameters or []):
            layer.W, layer.b = W, b
        return model

    def __init__(self, workload, X, y, parameters, seed):
        self.workload, self.X, self.y = workload, X, y
        self.model = self.build_model(workload, seed, parameters)

    def train(self, epochs):
        self.model.fit(self.X, self.y, epochs=epochs, batch_size=self.workload.batch, shuffle=True, verbose=0)

    def parameters(self):
        return [(layer.W, layer.b) for layer in self.model.layers]


class EnginePeer(FastmlpPeer):
    """The same network through the raw engine call (no Python per epoch, no input checks):
    the difference to FastmlpPeer is the Python package's overhead."""

    name = "engine"

    def __init__(self, workload, X, y, parameters, seed):
        super().__init__(workload, X, y, parameters, seed)
        self.network = self.model._network
        self.Y = one_hot(y, workload.sizes[-1]) if workload.classification else y.reshape(-1, 1).copy()

    def train(self, epochs):
        self.network.train_epochs(self.X, self.Y, None, batch_size=self.workload.batch, shuffle=True, epochs=epochs)


class TorchPeer(Peer):
    """A plain nn.Sequential of nn.Linear/nn.ReLU, torch.optim.SGD, nn.CrossEntropyLoss or
    nn.MSELoss, trained by a DataLoader-free loop over slices of a tensor permuted once per
    epoch: the fastest plain PyTorch loop for data that fits in memory."""

    name = "torch"

    def __init__(self, workload, X, y, parameters, seed):
        import torch
        from torch import nn
        self.torch, self.workload = torch, workload
        modules = []
        for index, (W, b) in enumerate(parameters):
            linear = nn.Linear(W.shape[0], W.shape[1])
            with torch.no_grad():
                linear.weight.copy_(torch.from_numpy(np.ascontiguousarray(W.T)))
                linear.bias.copy_(torch.from_numpy(b))
            modules.append(linear)
            if index < len(parameters) - 1:
                modules.append(nn.ReLU())
        self.model = nn.Sequential(*modules)
        self.optimizer = torch.optim.SGD(self.model.parameters(), lr=LEARNING_RATE)
        if workload.classification:
            self.loss_fn, self.y = nn.CrossEntropyLoss(), torch.from_numpy(y)
        else:
            self.loss_fn, self.y = nn.MSELoss(), torch.from_numpy(y.reshape(-1, 1))
        self.X = torch.from_numpy(X)
        self.generator = torch.Generator().manual_seed(seed)

    def train(self, epochs):
        torch, model, optimizer, loss_fn = self.torch, self.model, self.optimizer, self.loss_fn
        n, batch = self.X.shape[0], self.workload.batch
        for _ in range(epochs):
            order = torch.randperm(n, generator=self.generator)
            X, y = self.X[order], self.y[order]
            for start in range(0, n, batch):
                loss = loss_fn(model(X[start:start + batch]), y[start:start + batch])
                optimizer.zero_grad(set_to_none=True)
                loss.backward()
                optimizer.step()

    def parameters(self):
        linears = [m for m in self.model if isinstance(m, self.torch.nn.Linear)]
        return [(m.weight.detach().numpy().T.copy(), m.bias.detach().numpy().copy()) for m in linears]


class SklearnPeer(Peer):
    """MLPClassifier/MLPRegressor with plain SGD, no L2 penalty, no momentum, no early stop.

    warm_start=True and max_iter=epochs make each fit() call run exactly `epochs` more
    epochs. scikit-learn's squared_error is ½·mean((A − Y)²), so the regressor gets twice
    the learning rate to take the same steps as the peers' mean((A − Y)²). For two classes
    scikit-learn uses one logistic output instead of a 2-unit softmax; its output weights
    then start from the difference of the two softmax columns (the same function).
    """

    name = "sklearn"

    def __init__(self, workload, X, y, parameters, seed):
        from sklearn.neural_network import MLPClassifier, MLPRegressor
        self.workload, self.X, self.y = workload, X, y
        options = dict(hidden_layer_sizes=workload.sizes[1:-1], activation="relu", solver="sgd",
                       learning_rate="constant", momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                       batch_size=workload.batch, max_iter=1, shuffle=True, random_state=seed, tol=0.0,
                       n_iter_no_change=2**31 - 1, early_stopping=False, warm_start=True)
        if workload.classification:
            self.model = MLPClassifier(learning_rate_init=LEARNING_RATE, **options)
        else:
            self.model = MLPRegressor(learning_rate_init=2 * LEARNING_RATE, **options)
        # A one-epoch fit on a slice (holding every class) creates scikit-learn's attributes;
        # then the weights are replaced by the shared initial ones.
        _, first_of_each = np.unique(y, return_index=True)
        subset = np.union1d(np.arange(min(2000, X.shape[0])), first_of_each)
        self._fit(X[subset], y[subset])
        coefs = [W.copy() for W, _ in parameters]
        intercepts = [b.copy() for _, b in parameters]
        if workload.classification and workload.sizes[-1] == 2:
            coefs[-1] = (coefs[-1][:, 1] - coefs[-1][:, 0]).reshape(-1, 1)
            intercepts[-1] = np.array([intercepts[-1][1] - intercepts[-1][0]], dtype=np.float32)
        self.model.coefs_, self.model.intercepts_ = coefs, intercepts

    def _fit(self, X, y):
        from sklearn.exceptions import ConvergenceWarning
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)  # max_iter is reached on purpose
            self.model.fit(X, y)

    def train(self, epochs):
        self.model.set_params(max_iter=epochs)
        self._fit(self.X, self.y)

    def output(self, X):
        if self.workload.classification:
            return np.concatenate([self.model.predict_proba(X[s:s + 4096]) for s in range(0, X.shape[0], 4096)])
        return self.model.predict(X)


class NumpyPeer(Peer):
    """A straightforward float32 NumPy implementation: forward, backward, SGD, with every
    per-batch buffer allocated once and written through out= arguments."""

    name = "numpy"

    def __init__(self, workload, X, y, parameters, seed):
        self.workload, self.X = workload, X
        self.Y = one_hot(y, workload.sizes[-1]) if workload.classification else y.reshape(-1, 1).copy()
        self.W = [W.astype(np.float32, copy=True) for W, _ in parameters]
        self.b = [b.astype(np.float32, copy=True) for _, b in parameters]
        self.rng = np.random.default_rng(seed)
        B = workload.batch
        self.x_batch = np.empty((B, workload.sizes[0]), np.float32)
        self.y_batch = np.empty((B, workload.sizes[-1]), np.float32)
        self.Z = [np.empty((B, n_out), np.float32) for _, n_out in workload.layer_shapes]
        self.A = [np.empty((B, n_out), np.float32) for _, n_out in workload.layer_shapes]
        self.delta = [np.empty((B, n_out), np.float32) for _, n_out in workload.layer_shapes]
        self.mask = [np.empty((B, n_out), np.bool_) for _, n_out in workload.layer_shapes]
        self.dW = [np.empty_like(W) for W in self.W]
        self.db = [np.empty_like(b) for b in self.b]
        self.row_max = np.empty((B, 1), np.float32)

    def train(self, epochs):
        n, batch = self.X.shape[0], self.workload.batch
        for _ in range(epochs):
            order = self.rng.permutation(n)
            for start in range(0, n, batch):
                index = order[start:start + batch]
                m = index.shape[0]
                x, y = self.x_batch[:m], self.y_batch[:m]
                np.take(self.X, index, axis=0, out=x)
                np.take(self.Y, index, axis=0, out=y)
                self._step(x, y, m)

    def _step(self, x, y, m):
        last = len(self.W) - 1
        A_prev = x
        for l in range(last + 1):
            Z, A = self.Z[l][:m], self.A[l][:m]
            np.matmul(A_prev, self.W[l], out=Z)
            Z += self.b[l]
            if l < last:
                np.maximum(Z, 0, out=A)
            elif self.workload.classification:
                row_max = self.row_max[:m]
                np.max(Z, axis=1, keepdims=True, out=row_max)
                np.subtract(Z, row_max, out=A)
                np.exp(A, out=A)
                A /= A.sum(axis=1, keepdims=True)
            else:
                A[...] = Z
            A_prev = A
        dZ = self.delta[last][:m]
        np.subtract(self.A[last][:m], y, out=dZ)
        dZ *= (1.0 / m) if self.workload.classification else (2.0 / (m * y.shape[1]))
        for l in range(last, -1, -1):
            dZ = self.delta[l][:m]
            A_in = x if l == 0 else self.A[l - 1][:m]
            np.matmul(A_in.T, dZ, out=self.dW[l])
            np.sum(dZ, axis=0, out=self.db[l])
            if l > 0:
                dA = self.delta[l - 1][:m]
                np.matmul(dZ, self.W[l].T, out=dA)
                mask = self.mask[l - 1][:m]
                np.greater(self.Z[l - 1][:m], 0, out=mask)
                np.multiply(dA, mask, out=dA)
        for W, b, dW, db in zip(self.W, self.b, self.dW, self.db):
            dW *= LEARNING_RATE
            W -= dW
            db *= LEARNING_RATE
            b -= db

    def parameters(self):
        return [(W.copy(), b.copy()) for W, b in zip(self.W, self.b)]


PEER_CLASSES = {"fastmlp": FastmlpPeer, "engine": EnginePeer, "torch": TorchPeer, "sklearn": SklearnPeer,
                "numpy": NumpyPeer}
PEER_MODULES = {"fastmlp": "fastmlp", "engine": "fastmlp", "torch": "torch", "sklearn": "sklearn",
                "numpy": "numpy"}


def available_peers(wanted: list, log) -> tuple:
    """The wanted peers that can be imported, and a note for each one that cannot."""
    import importlib
    ready, notes = [], []
    for name in wanted:
        try:
            importlib.import_module(PEER_MODULES[name])
        except ImportError as error:
            notes.append(f"{PEER_LABELS[name]} skipped: {PEER_MODULES[name]} is not installed ({error})")
            log(notes[-1])
            continue
        ready.append(name)
    return ready, notes


# ----------------------------------------------------------------------------- statistics
def summary(values: list) -> dict:
    """Median, quartiles and the raw values."""
    ordered = sorted(values)
    if len(ordered) >= 2:
        q1, _, q3 = statistics.quantiles(ordered, n=4, method="inclusive")
    else:
        q1 = q3 = ordered[0]
    return {"median": statistics.median(ordered), "q1": q1, "q3": q3, "values": list(values)}


def timed(function, *args) -> float:
    started = time.perf_counter()
    function(*args)
    return time.perf_counter() - started


# ----------------------------------------------------------------------------- training
def bench_training(workload: Workload, peers: list, args, log) -> dict:
    """Warm-up, calibration, then round-robin repeats. Returns per-peer summaries."""
    rows = max(workload.batch * 4, int(workload.rows * args.rows_scale))
    X, y = make_data(workload, rows)
    parameters = initial_parameters(workload)
    log(f"{workload.name} {workload.describe()}: {rows} rows, {workload.train_flops_per_sample:,} FLOP/sample")
    instances = {name: PEER_CLASSES[name](workload, X, y, parameters, SEED) for name in peers}
    epochs = {}
    for name, peer in instances.items():
        peer.train(1)  # warm-up: first-call costs, caches, thread pools
        seconds = timed(peer.train, 1)
        epochs[name] = args.epochs or max(1, round(args.seconds / seconds))
        log(f"  warm-up {name}: {rows / seconds:,.0f} samples/s -> {epochs[name]} epoch(s) per measurement")
    rates = {name: [] for name in instances}
    names = list(instances)
    for repeat in range(args.repeats):
        shift = repeat % len(names)
        for name in names[shift:] + names[:shift]:  # round-robin: each peer goes first in turn
            time.sleep(SETTLE_SECONDS)
            seconds = timed(instances[name].train, epochs[name])
            rates[name].append(epochs[name] * rows / seconds)
        log(f"  repeat {repeat + 1}/{args.repeats}: " +
            ", ".join(f"{name} {rates[name][-1]:,.0f}/s" for name in names))
    results = {}
    for name in names:
        stats = summary(rates[name])
        results[name] = {"samples_per_s": stats, "gflops": stats["median"] * workload.train_flops_per_sample / 1e9,
                         "epochs_per_measurement": epochs[name],
                         "seconds_per_measurement": epochs[name] * rows / stats["median"]}
    del instances
    gc.collect()
    return {"workload": workload.name, "network": workload.describe(), "rows": rows,
            "flops_per_sample": workload.train_flops_per_sample, "peers": results}


def bench_quality(workload: Workload, peers: list, args, log) -> dict:
    """Train each peer for the same epochs from the same weights, then evaluate all final
    weights with one float64 evaluator on the training data. fastmlp and PyTorch run with
    two shuffle seeds each; their spread is the noise the comparison allows for."""
    rows = max(workload.batch * 4, int(workload.rows * args.rows_scale))
    X, y = make_data(workload, rows)
    parameters = initial_parameters(workload)
    initial = quality_of(forward_float64(parameters, X, workload.classification), y, workload.classification)
    runs = {}
    for name in [p for p in peers if p != "engine"]:
        seeds = (SEED + 1, SEED + 2) if name in ("fastmlp", "torch") else (SEED + 1,)
        runs[name] = []
        for seed in seeds:
            peer = PEER_CLASSES[name](workload, X, y, parameters, seed)
            peer.train(args.guard_epochs)
            runs[name].append(quality_of(peer.output(X), y, workload.classification))
            del peer
    metrics = ["loss", "accuracy"] if workload.classification else ["loss"]
    report = {"workload": workload.name, "epochs": args.guard_epochs, "rows": rows, "initial": initial,
              "peers": {}, "flags": []}
    for name, results in runs.items():
        report["peers"][name] = {m: statistics.fmean(r[m] for r in results) for m in metrics}
        report["peers"][name]["seed_spread"] = {m: max(r[m] for r in results) - min(r[m] for r in results)
                                                for m in metrics}
    if "torch" in runs:
        reference = report["peers"]["torch"]
        noise = {m: max(report["peers"][p]["seed_spread"][m] for p in ("fastmlp", "torch") if p in runs)
                 for m in metrics}
        # Allowed difference: 3× the seed-to-seed spread, at least 0.5% of the loss / 1 point
        # of accuracy (two seeds can agree by chance).
        tolerance = {"loss": max(3 * noise["loss"], 0.005 * abs(reference["loss"])),
                     "accuracy": max(3 * noise.get("accuracy", 0.0), 0.01)}
        report["tolerance"] = {m: tolerance[m] for m in metrics}
        for name in runs:
            if name == "torch":
                continue
            # scikit-learn with two classes has another output parametrisation: shown, not judged.
            judged = not (name == "sklearn" and workload.classification and workload.sizes[-1] == 2)
            entry = report["peers"][name]
            entry["diff_vs_torch"] = {m: entry[m] - reference[m] for m in metrics}
            entry["agrees"] = all(abs(entry["diff_vs_torch"][m]) <= tolerance[m] for m in metrics)
            entry["judged"] = judged
            if judged and not entry["agrees"]:
                report["flags"].append(f"{workload.name}: {PEER_LABELS[name]} differs from PyTorch beyond noise: " +
                                       ", ".join(f"{m} {entry[m]:.4f} vs {reference[m]:.4f}" for m in metrics))
    for flag in report["flags"]:
        log("  QUALITY FLAG " + flag)
    log(f"  quality {workload.name} after {args.guard_epochs} epoch(s): " +
        ", ".join(f"{name} loss {entry['loss']:.4f}" for name, entry in report["peers"].items()) +
        f" (initial {initial['loss']:.4f})")
    return report


# ----------------------------------------------------------------------------- inference
def bench_inference(peers: list, args, log) -> dict:
    """W3 predict of one row (latency) and of 10,000 rows at once, round-robin."""
    workload = WORKLOADS[INFERENCE_WORKLOAD]
    X, y = make_data(workload, INFERENCE_BATCH_ROWS)
    parameters = initial_parameters(workload)
    one_row = np.ascontiguousarray(X[:1])
    calls = {}
    for name in peers:
        for rows, data in (("1 row", one_row), (f"{INFERENCE_BATCH_ROWS:,} rows", X)):
            calls[(name, rows)] = (inference_callable(name, workload, parameters, X, y, data), data.shape[0])
    with contextlib.ExitStack() as context:
        if "torch" in peers:
            import torch
            context.enter_context(torch.inference_mode())  # once, outside the timed calls
        numbers = {}
        for key, (call, _) in calls.items():
            call()  # warm-up
            number, seconds = timeit.Timer(call).autorange()
            numbers[key] = max(1, int(number * args.inference_seconds / seconds))
        per_call = {key: [] for key in calls}
        keys = list(calls)
        for repeat in range(max(args.repeats, 3)):
            shift = repeat % len(keys)
            for key in keys[shift:] + keys[:shift]:
                time.sleep(SETTLE_SECONDS)
                per_call[key].append(timeit.Timer(calls[key][0]).timeit(numbers[key]) / numbers[key])
    results = {}
    for (name, rows), times in per_call.items():
        stats = summary([t * 1e6 for t in times])
        n_rows = calls[(name, rows)][1]
        results.setdefault(rows, {})[name] = {
            "microseconds_per_call": stats, "rows_per_s": n_rows / (stats["median"] * 1e-6),
            "gflops": n_rows * workload.predict_flops_per_row / (stats["median"] * 1e-6) / 1e9,
            "calls_per_measurement": numbers[(name, rows)]}
        log(f"  predict {rows} {name}: {stats['median']:.2f} µs per call")
    return {"workload": workload.name, "network": "-".join(map(str, workload.sizes)),
            "flops_per_row": workload.predict_flops_per_row, "results": results}


def inference_callable(name, workload, parameters, X, y, data):
    """A no-argument function that predicts `data` the way a user of that library would.
    PyTorch gets its best case: a tensor in, a tensor out, inference_mode entered once."""
    if name == "fastmlp":
        model = FastmlpPeer.build_model(workload, SEED, parameters)
        return lambda: model.predict(data)
    if name == "engine":
        network = FastmlpPeer.build_model(workload, SEED, parameters)._network
        return lambda: network.predict(data)
    if name == "torch":
        import torch
        model = TorchPeer(workload, X, y, parameters, SEED).model
        tensor = torch.from_numpy(data)
        return lambda: model(tensor)
    if name == "sklearn":
        model = SklearnPeer(workload, X, y, parameters, SEED).model
        return lambda: model.predict_proba(data)
    if name == "numpy":
        weights = [(W.astype(np.float32), b.astype(np.float32)) for W, b in parameters]

        def run():
            A = data
            for index, (W, b) in enumerate(weights):
                Z = A @ W
                Z += b
                A = np.maximum(Z, 0, out=Z) if index < len(weights) - 1 else Z
            A = np.exp(A - A.max(axis=1, keepdims=True))
            return A / A.sum(axis=1, keepdims=True)
        return run
    raise ValueError(f"unknown peer {name!r}")


# ----------------------------------------------------------------------------- subprocess workers
def gemm_worker(args) -> dict:
    """NumPy float32 matmul GFLOP/s on the GEMMs of one training step of W3 and W4:
    forward A·W, backward Aᵀ·dZ and dZ·Wᵀ (the latter not for the first layer)."""
    try:
        from threadpoolctl import threadpool_info, threadpool_limits
        kernels = [{"library": i.get("prefix"), "version": i.get("version"), "kernel": i.get("architecture"),
                    "threads": i.get("num_threads")} for i in threadpool_info() if i.get("user_api") == "blas"]
        thread_limit = threadpool_limits(limits=args.threads, user_api="blas")
    except ImportError:  # without threadpoolctl: kernel unknown, OpenBLAS's own thread count
        kernels, thread_limit = [{"library": "unknown (threadpoolctl not installed)", "version": None,
                                  "kernel": "unknown", "threads": None}], contextlib.nullcontext()
    report = {"kernels": kernels, "workloads": {}}
    rng = np.random.default_rng(SEED)
    with thread_limit:
        for name in GEMM_WORKLOADS:
            workload = WORKLOADS[name]
            B = workload.batch
            gemms = []
            for l, (n_in, n_out) in enumerate(workload.layer_shapes):
                A = rng.standard_normal((B, n_in), dtype=np.float32)
                W = rng.standard_normal((n_in, n_out), dtype=np.float32)
                dZ = rng.standard_normal((B, n_out), dtype=np.float32)
                flops = 2 * B * n_in * n_out
                gemms.append((f"L{l} forward ({B}×{n_in})·({n_in}×{n_out})", A, W,
                              np.empty((B, n_out), np.float32), flops))
                gemms.append((f"L{l} dW ({n_in}×{B})·({B}×{n_out})", A.T, dZ,
                              np.empty((n_in, n_out), np.float32), flops))
                if l > 0:
                    gemms.append((f"L{l} dA ({B}×{n_out})·({n_out}×{n_in})", dZ, W.T,
                                  np.empty((B, n_in), np.float32), flops))

            def step(selection=gemms):
                for _, a, b, out, _ in selection:
                    np.matmul(a, b, out=out)

            step_flops = sum(g[4] for g in gemms)
            assert step_flops == B * workload.train_flops_per_sample
            timer = timeit.Timer(step)
            timer.timeit(3)
            number, seconds = timer.autorange()
            number = max(1, int(number * args.seconds / 5 / seconds))
            step_times = [timer.timeit(number) / number for _ in range(max(args.repeats, 5))]
            per_gemm = {}
            for gemm in gemms:
                gemm_timer = timeit.Timer(lambda g=gemm: step([g]))
                n, s = gemm_timer.autorange()
                per_gemm[gemm[0]] = gemm[4] / statistics.median(
                    gemm_timer.timeit(n) / n for _ in range(3)) / 1e9
            stats = summary([step_flops / t / 1e9 for t in step_times])
            report["workloads"][name] = {"gflops": stats, "step_flops": step_flops, "per_gemm_gflops": per_gemm}
    return report


def memory_worker(args) -> dict:
    """Peak resident memory of one peer's fit on W3's data, in this fresh process.

    The peak is the kernel's high-water mark VmHWM, reset (clear_refs 5) once the data is
    loaded, so that it covers fit alone. ru_maxrss is reported too but cannot be the
    measure: a child started from a large parent inherits the parent's high-water mark.
    """
    def status_bytes(field):
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
        raise OSError(f"{field} not in /proc/self/status")

    workload = WORKLOADS[INFERENCE_WORKLOAD]
    parameters = initial_parameters(workload)
    if args.memory_peer == "torch":
        import torch  # noqa: F401  (its import is part of the baseline, not of fit)
    gc.collect()
    before_data = status_bytes("VmRSS")
    X, y = make_data(workload, args.memory_rows)
    gc.collect()
    after_data, peak_before_fit = status_bytes("VmRSS"), status_bytes("VmHWM")
    with open("/proc/self/clear_refs", "w") as clear_refs:
        clear_refs.write("5")  # the high-water mark starts again from the current RSS
    baseline = status_bytes("VmHWM")
    peer = PEER_CLASSES[args.memory_peer](workload, X, y, parameters, SEED)
    peer.train(args.memory_epochs)
    peak = status_bytes("VmHWM")
    data_bytes = X.nbytes + y.nbytes
    return {"peer": args.memory_peer, "rows": args.memory_rows, "epochs": args.memory_epochs,
            "data_bytes": data_bytes, "rss_before_data": before_data, "rss_after_data": after_data,
            "peak_while_making_data": peak_before_fit, "rss_at_reset": baseline, "peak_during_fit": peak,
            "fit_extra_bytes": peak - baseline, "peak_over_before_data": peak - before_data,
            "ru_maxrss_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
            "within_budget": peak - before_data <= data_bytes + MEMORY_HEADROOM}


def run_worker(mode: str, args, extra: list, env: dict, log) -> dict:
    command = [sys.executable, os.path.abspath(__file__), mode, "--threads", str(args.threads),
               "--repeats", str(args.repeats), "--seconds", str(args.seconds), *extra]
    completed = subprocess.run(command, env=env, capture_output=True, text=True, timeout=1800)
    if completed.returncode != 0:
        log(f"{mode} failed:\n{completed.stderr}")
        # The exception's own line, not the tail of a long message (which may be an array).
        lines = [line for line in completed.stderr.splitlines() if re.match(r"^[\w.]+(Error|Exception)\b", line)]
        return {"error": (lines[-1] if lines else "failed, see stderr")[:300]}
    return json.loads(completed.stdout.strip().splitlines()[-1])


def bench_gemm(args, log) -> dict:
    """GEMM limit in subprocesses: without the OpenBLAS overrides (the limit), and with the
    machine's overrides for comparison when it has any."""
    clean_env = {k: v for k, v in os.environ.items() if k not in OPENBLAS_OVERRIDES and k != ORIGINAL_OPENBLAS_ENV}
    report = {"overrides_unset": run_worker("--gemm-worker", args, [], clean_env, log)}
    original = json.loads(os.environ.get(ORIGINAL_OPENBLAS_ENV, "{}")) or \
        {k: os.environ[k] for k in OPENBLAS_OVERRIDES if k in os.environ}
    if original:
        report["machine_overrides"] = original
        report["overrides_set"] = run_worker("--gemm-worker", args, ["--keep-openblas-env"],
                                             {**clean_env, **original}, log)
    for key in ("overrides_unset", "overrides_set"):
        if key in report and "workloads" in report[key]:
            log(f"  GEMM ({key}, kernel {', '.join(str(k['kernel']) for k in report[key]['kernels'])}): " +
                ", ".join(f"{w} {r['gflops']['median']:.1f} GFLOP/s" for w, r in report[key]["workloads"].items()))
    return report


def bench_memory(args, peers: list, log) -> dict:
    report = {}
    for name in [p for p in ("fastmlp", "torch") if p in peers]:
        report[name] = run_worker("--memory-worker", args,
                                  ["--memory-peer", name, "--memory-rows", str(args.memory_rows),
                                   "--memory-epochs", str(args.memory_epochs)], dict(os.environ), log)
        if "error" not in report[name]:
            r = report[name]
            log(f"  memory {name}: data {r['data_bytes'] / MIB:.0f} MiB, peak over before-data "
                f"{r['peak_over_before_data'] / MIB:.0f} MiB, fit's extra {r['fit_extra_bytes'] / MIB:.1f} MiB")
    return report


# ----------------------------------------------------------------------------- machine
def machine_info(args) -> dict:
    info = {"date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
            "python": platform.python_version(), "platform": platform.platform(),
            "cores": os.cpu_count(), "usable_cores": len(os.sched_getaffinity(0)),
            "load_average_at_start": os.getloadavg(), "threads": args.threads}
    cpu = {}
    try:
        with open("/proc/cpuinfo") as cpuinfo:
            for line in cpuinfo:
                key, _, value = line.partition(":")
                cpu.setdefault(key.strip(), value.strip())
    except OSError:
        pass
    flags = set(cpu.get("flags", "").split())
    info["cpu"] = (f"{cpu.get('model name', platform.processor())} (family {cpu.get('cpu family', '?')}, "
                   f"model {cpu.get('model', '?')}; " +
                   " ".join(f for f in ("avx2", "fma", "avx512f") if f in flags) + ")")
    info["numpy"] = np.__version__
    for module in ("torch", "sklearn", "threadpoolctl"):
        try:
            info[module] = __import__(module).__version__
        except ImportError:
            info[module] = None
    try:
        import fastmlp as fm
        info["fastmlp"] = fm.__version__
        build_info = getattr(fm._core, "build_info", None)
        info["fastmlp_build"] = dict(build_info()) if build_info else {}
        info["fastmlp_threads"] = fm.get_num_threads()
    except ImportError:
        info["fastmlp"] = None
    if info.get("torch"):
        import torch
        info["torch_threads"] = torch.get_num_threads()
        info["torch_cpu_capability"] = torch.backends.cpu.get_cpu_capability()
    try:
        from threadpoolctl import threadpool_info
        info["blas"] = [{"library": i.get("prefix"), "version": i.get("version"), "kernel": i.get("architecture"),
                         "threads": i.get("num_threads"), "file": os.path.basename(i.get("filepath", ""))}
                        for i in threadpool_info() if i.get("user_api") == "blas"]
    except ImportError:
        info["blas"] = []
    info["openblas_overrides"] = json.loads(os.environ.get(ORIGINAL_OPENBLAS_ENV, "{}"))
    info["openblas_overrides_active"] = {k: os.environ[k] for k in OPENBLAS_OVERRIDES if k in os.environ}
    try:
        root = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
        commit = subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True,
                                text=True, timeout=10).stdout.strip()
        dirty = subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"],
                               capture_output=True, text=True, timeout=10).stdout.strip()
        info["git"] = commit + (" (uncommitted changes)" if dirty else "")
    except (OSError, subprocess.SubprocessError):
        info["git"] = None
    return info


# ----------------------------------------------------------------------------- report
TARGETS = {"W1": 30.0, "W2": 6.0, "W3": 1.4, "W4": 1.1, "W5": 10.0}
SKLEARN_TARGET = 2.0
GEMM_SHARE_TARGET = 0.85
LATENCY_TARGET_US = 8.0
BATCH_PREDICT_TARGET = 1.2
MEMORY_HEADROOM = 64 * MIB


def fmt_rate(value: float) -> str:
    return f"{value:,.0f}"


def fmt_ratio(value) -> str:
    return "–" if value is None else (f"{value:.1f}×" if value >= 10 else f"{value:.2f}×")


def speedup(results: dict, peer: str, key=lambda r: r["samples_per_s"]["median"]):
    if "fastmlp" not in results or peer not in results:
        return None
    return key(results["fastmlp"]) / key(results[peer])


def gemm_limit(report: dict, workload: str):
    try:
        return report["gemm"]["overrides_unset"]["workloads"][workload]["gflops"]["median"]
    except (KeyError, TypeError):
        return None


def targets_table(report: dict) -> list:
    """(target, measured, status) rows for every target of issue 6 that this run measured."""
    rows = []

    def verdict(ok):
        return "met" if ok else "**NOT met**"

    training = {t["workload"]: t["peers"] for t in report.get("training", [])}
    for name, factor in TARGETS.items():
        ratio = speedup(training.get(name, {}), "torch")
        if ratio is not None:
            rows.append((f"{name} ≥ {factor:g}× PyTorch samples/s", fmt_ratio(ratio), verdict(ratio >= factor)))
        if name == "W4" and "fastmlp" in training.get(name, {}) and gemm_limit(report, "W4"):
            share = training[name]["fastmlp"]["gflops"] / gemm_limit(report, "W4")
            rows.append((f"W4 ≥ {GEMM_SHARE_TARGET:.0%} of NumPy GEMM GFLOP/s on its shapes",
                         f"{share:.0%} ({training[name]['fastmlp']['gflops']:.1f} of {gemm_limit(report, 'W4'):.1f})",
                         verdict(share >= GEMM_SHARE_TARGET)))
    for name, peers in training.items():
        ratio = speedup(peers, "sklearn")
        if ratio is not None:
            rows.append((f"{name} ≥ {SKLEARN_TARGET:g}× scikit-learn samples/s", fmt_ratio(ratio),
                         verdict(ratio >= SKLEARN_TARGET)))
    inference = report.get("inference", {}).get("results", {})
    one = inference.get("1 row", {})
    if "fastmlp" in one:
        latency = one["fastmlp"]["microseconds_per_call"]["median"]
        rows.append((f"W3 predict 1 row ≤ {LATENCY_TARGET_US:g} µs (median, from Python)", f"{latency:.2f} µs",
                     verdict(latency <= LATENCY_TARGET_US)))
    batch = inference.get(f"{INFERENCE_BATCH_ROWS:,} rows", {})
    if "fastmlp" in batch and "torch" in batch:
        ratio = batch["fastmlp"]["rows_per_s"] / batch["torch"]["rows_per_s"]
        rows.append((f"W3 predict {INFERENCE_BATCH_ROWS:,} rows ≥ {BATCH_PREDICT_TARGET:g}× PyTorch",
                     fmt_ratio(ratio), verdict(ratio >= BATCH_PREDICT_TARGET)))
    memory = report.get("memory", {}).get("fastmlp")
    if memory and "error" not in memory:
        rows.append(("fit on W3 data: peak RSS − RSS before data ≤ data + 64 MiB",
                     f"{memory['peak_over_before_data'] / MIB:.0f} MiB ≤ "
                     f"{(memory['data_bytes'] + MEMORY_HEADROOM) / MIB:.0f} MiB?",
                     verdict(memory["within_budget"])))
    for quality in report.get("quality", []):
        entry = quality["peers"].get("fastmlp", {})
        if "agrees" in entry:
            rows.append((f"{quality['workload']} quality: fastmlp = PyTorch within noise",
                         f"loss {entry['loss']:.4f} vs {quality['peers']['torch']['loss']:.4f}",
                         verdict(entry["agrees"])))
    return rows


def markdown(report: dict) -> str:
    m = report["machine"]
    lines = [f"### {report['title']}", ""]
    build = m.get("fastmlp_build") or {}
    blas = "; ".join(f"{b['library']} {b['version']} kernel {b['kernel']} ({b['threads']} threads)"
                     for b in m.get("blas", []))
    overrides = m.get("openblas_overrides") or {}
    lines += [
        f"- Date: {m['date']}; git {m.get('git')}; command: `{report['command']}`",
        f"- CPU: {m['cpu']}; {m['cores']} cores ({m['usable_cores']} usable); benchmark threads: {m['threads']}; "
        f"load average at start {m['load_average_at_start'][0]:.2f}, at end {report.get('load_average_at_end', [0])[0]:.2f}",
        f"- fastmlp {m.get('fastmlp')} (build_info: " +
        ", ".join(f"{key} {value}" for key, value in build.items() if key != "version") +
        f"; threads {m.get('fastmlp_threads')}); "
        f"PyTorch {m.get('torch')} (threads {m.get('torch_threads')}, CPU capability {m.get('torch_cpu_capability')}); "
        f"scikit-learn {m.get('sklearn')}; NumPy {m['numpy']}; Python {m['python']}",
        f"- BLAS for NumPy/scikit-learn: {blas or 'unknown'}; OpenBLAS overrides of this machine "
        f"{overrides or 'none'} were " + ("unset for this run" if overrides else "not present") +
        (f" (still active: {m['openblas_overrides_active']})" if m.get("openblas_overrides_active") else ""),
        f"- Settings: {report['settings']}",
    ]
    busy = max(m["load_average_at_start"][0], report.get("load_average_at_end", [0])[0])
    if busy > 0.5 * m["usable_cores"]:
        lines.append(f"- **Warning: the machine was busy (load average up to {busy:.1f} on {m['usable_cores']} cores); "
                     "other processes competed for the cores and these numbers understate every peer unevenly.**")
    lines += [f"- Note: {note}" for note in report.get("notes", [])]
    if report.get("training"):
        lines += ["", "#### Training (samples/s, median of the repeats, [IQR]; fastmlp ÷ peer = fastmlp's speed-up)", "",
                  "| workload | peer | samples/s | IQR | GFLOP/s | fastmlp ÷ peer | epochs × s per measurement |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for t in report["training"]:
            for name, r in t["peers"].items():
                s = r["samples_per_s"]
                lines.append(f"| {t['workload']} {t['network']} | {PEER_LABELS[name]} | {fmt_rate(s['median'])} | "
                             f"{fmt_rate(s['q1'])}–{fmt_rate(s['q3'])} | {r['gflops']:.2f} | "
                             f"{fmt_ratio(speedup(t['peers'], name)) if name != 'fastmlp' else '1'} | "
                             f"{r['epochs_per_measurement']} × {r['seconds_per_measurement']:.2f} |")
    if report.get("inference"):
        inf = report["inference"]
        lines += ["", f"#### Inference, {inf['workload']} network {inf['network']} "
                      f"(median µs per call, [IQR]; PyTorch: tensor in/out under inference_mode)", "",
                  "| rows per call | peer | µs per call | IQR | rows/s | GFLOP/s | fastmlp ÷ peer |",
                  "|---|---|---:|---:|---:|---:|---:|"]
        for rows, peers in inf["results"].items():
            for name, r in peers.items():
                s = r["microseconds_per_call"]
                ratio = None
                if "fastmlp" in peers and name != "fastmlp":
                    ratio = peers["fastmlp"]["rows_per_s"] / r["rows_per_s"]
                lines.append(f"| {rows} | {PEER_LABELS[name]} | {s['median']:,.2f} | {s['q1']:,.2f}–{s['q3']:,.2f} | "
                             f"{fmt_rate(r['rows_per_s'])} | {r['gflops']:.2f} | "
                             f"{fmt_ratio(ratio) if name != 'fastmlp' else '1'} |")
    gemm = report.get("gemm")
    if gemm:
        lines += ["", "#### Practical limit: NumPy float32 matmul on the GEMMs of one training step", "",
                  "| workload | OpenBLAS overrides | kernel | step GFLOP/s (median) | IQR | fastmlp training GFLOP/s | fastmlp share |",
                  "|---|---|---|---:|---:|---:|---:|"]
        training = {t["workload"]: t["peers"] for t in report.get("training", [])}
        for key, label in (("overrides_unset", "unset"), ("overrides_set", f"as set here {gemm.get('machine_overrides')}")):
            run = gemm.get(key)
            if not run:
                continue
            if "error" in run:
                lines.append(f"| – | {label} | failed: {run['error']} | | | | |")
                continue
            kernel = ", ".join(str(k["kernel"]) for k in run["kernels"])
            for name, r in run["workloads"].items():
                fm_gflops = training.get(name, {}).get("fastmlp", {}).get("gflops")
                share = f"{fm_gflops / r['gflops']['median']:.0%}" if fm_gflops else "–"
                lines.append(f"| {name} | {label} | {kernel} | {r['gflops']['median']:.1f} | "
                             f"{r['gflops']['q1']:.1f}–{r['gflops']['q3']:.1f} | "
                             f"{f'{fm_gflops:.1f}' if fm_gflops else '–'} | {share} |")
        unset = gemm.get("overrides_unset", {})
        for name, r in unset.get("workloads", {}).items():
            lines.append("")
            lines.append(f"{name} per GEMM (overrides unset): " +
                         "; ".join(f"{label} {g:.1f}" for label, g in r["per_gemm_gflops"].items()) + " GFLOP/s")
    if report.get("quality"):
        lines += ["", "#### Quality guard (same data, same initial weights, same epochs; float64 evaluation "
                      "on the training set; fastmlp and PyTorch: mean of two shuffle seeds)", "",
                  "| workload | epochs | peer | loss | accuracy | seed spread (loss) | Δ loss vs PyTorch | verdict |",
                  "|---|---:|---|---:|---:|---:|---:|---|"]
        for q in report["quality"]:
            lines.append(f"| {q['workload']} | {q['epochs']} | initial weights | {q['initial']['loss']:.4f} | "
                         f"{q['initial'].get('accuracy', float('nan')):.4f} | | | |")
            for name, e in q["peers"].items():
                if "agrees" in e:
                    verdict = ("agrees" if e["agrees"] else "**DIFFERS**") + ("" if e["judged"] else " (not judged)")
                else:
                    verdict = "reference" if name == "torch" else "– (no PyTorch to compare with)"
                diff = e.get("diff_vs_torch", {}).get("loss")
                spread = f"{e['seed_spread']['loss']:.4f}" if name in ("fastmlp", "torch") else "–"
                lines.append(f"| {q['workload']} | {q['epochs']} | {PEER_LABELS[name]} | {e['loss']:.4f} | "
                             f"{e.get('accuracy', float('nan')):.4f} | {spread} | "
                             f"{'' if diff is None else f'{diff:+.4f}'} | {verdict} |")
        tolerances = {q["workload"]: q["tolerance"] for q in report["quality"] if q.get("tolerance")}
        if tolerances:
            lines += ["", "Allowed difference from PyTorch (max of 3× seed spread and 0.5% of the loss / 0.01 accuracy): " +
                      "; ".join(f"{w}: " + ", ".join(f"{k} {v:.4f}" for k, v in t.items())
                                for w, t in tolerances.items())]
        for q in report["quality"]:
            lines += [f"- **{flag}**" for flag in q["flags"]]
    memory = report.get("memory")
    if memory:
        lines += ["", "#### Peak resident memory of fit on W3 data (fresh subprocess; VmHWM reset after loading the data)",
                  "", "| peer | rows × epochs | data | RSS before data | RSS after data | peak during fit − RSS before data "
                      "| fit's own extra | budget: data + 64 MiB |",
                  "|---|---|---:|---:|---:|---:|---:|---|"]
        for name, r in memory.items():
            if "error" in r:
                lines.append(f"| {PEER_LABELS[name]} | failed: {r['error']} | | | | | | |")
                continue
            lines.append(f"| {PEER_LABELS[name]} | {r['rows']:,} × {r['epochs']} | {r['data_bytes'] / MIB:.1f} MiB | "
                         f"{r['rss_before_data'] / MIB:.1f} MiB | {r['rss_after_data'] / MIB:.1f} MiB | "
                         f"{r['peak_over_before_data'] / MIB:.1f} MiB | {r['fit_extra_bytes'] / MIB:.1f} MiB | "
                         f"{(r['data_bytes'] + MEMORY_HEADROOM) / MIB:.1f} MiB: "
                         f"{'within' if r['within_budget'] else '**over**'} |")
    targets = targets_table(report)
    if targets:
        lines += ["", "#### Targets of issue 6", "", "| target | measured | status |", "|---|---|---|"]
        lines += [f"| {t} | {v} | {s} |" for t, v, s in targets]
    return "\n".join(lines) + "\n"


# ----------------------------------------------------------------------------- main
def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--workloads", default=",".join(WORKLOADS),
                        help="comma-separated training workloads, or 'none' (default: all of W1..W5)")
    parser.add_argument("--peers", default=",".join(ALL_PEERS),
                        help=f"comma-separated peers from {','.join(ALL_PEERS)} (default: all); "
                             "'engine' is fastmlp's raw train_epochs call")
    parser.add_argument("--repeats", type=int, default=5, help="measurements per peer after the warm-up (default 5)")
    timing = parser.add_mutually_exclusive_group()
    timing.add_argument("--seconds", type=float, default=1.0,
                        help="target seconds per measurement: each peer gets as many whole epochs as fit "
                             "(calibrated in the warm-up; default 1.0)")
    timing.add_argument("--epochs", type=int, default=None, help="fixed epochs per measurement for every peer")
    parser.add_argument("--threads", type=int, default=os.cpu_count(), help="threads for every library (default: all cores)")
    parser.add_argument("--rows-scale", type=float, default=1.0,
                        help="scale every workload's number of rows (e.g. 0.2 for a smoke run)")
    parser.add_argument("--guard-epochs", type=int, default=3, help="epochs of the quality guard (default 3)")
    parser.add_argument("--inference-seconds", type=float, default=0.3,
                        help="seconds per inference measurement (default 0.3)")
    parser.add_argument("--memory-rows", type=int, default=WORKLOADS["W3"].rows,
                        help="rows of W3 data for the memory measurement (default: W3's rows)")
    parser.add_argument("--memory-epochs", type=int, default=2)
    parser.add_argument("--no-inference", action="store_true", help="skip the inference measurements")
    parser.add_argument("--no-gemm", action="store_true", help="skip the NumPy GEMM limit")
    parser.add_argument("--no-guard", action="store_true", help="skip the quality guard")
    parser.add_argument("--no-memory", action="store_true", help="skip the peak-memory measurement")
    parser.add_argument("--memory", action="store_true", help="only the peak-memory measurement")
    parser.add_argument("--json", metavar="PATH", help="write every measurement to this JSON file")
    parser.add_argument("--markdown", metavar="PATH", help="write the report tables to this Markdown file")
    parser.add_argument("--title", default=None, help="heading of the Markdown report")
    parser.add_argument("--keep-openblas-env", action="store_true",
                        help="keep OPENBLAS_CORETYPE/OPENBLAS_L2_SIZE for NumPy and scikit-learn "
                             "(by default the benchmark restarts itself without them)")
    parser.add_argument("--gemm-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-worker", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--memory-peer", default="fastmlp", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    args.workloads = [] if args.workloads.lower() == "none" else [w.strip().upper() for w in args.workloads.split(",")]
    unknown = [w for w in args.workloads if w not in WORKLOADS]
    if unknown:
        parser.error(f"unknown workload(s) {unknown}; choose from {', '.join(WORKLOADS)}")
    args.peers = [p.strip().lower() for p in args.peers.split(",")]
    unknown = [p for p in args.peers if p not in ALL_PEERS]
    if unknown:
        parser.error(f"unknown peer(s) {unknown}; choose from {', '.join(ALL_PEERS)}")
    if args.threads < 1 or args.repeats < 1 or args.seconds <= 0 or args.rows_scale <= 0 or \
            (args.epochs is not None and args.epochs < 1) or args.guard_epochs < 1:
        parser.error("--threads, --repeats, --epochs and --guard-epochs must be >= 1; "
                     "--seconds and --rows-scale > 0")
    return args


def set_threads(threads: int, torch: bool = True) -> None:
    """One thread count for every library; the limits stay for the whole process."""
    try:
        import fastmlp as fm
        fm.set_num_threads(threads)
    except ImportError:
        pass
    if torch:
        try:
            import torch as torch_module
            torch_module.set_num_threads(threads)
        except ImportError:
            pass
    try:
        from threadpoolctl import threadpool_limits
        threadpool_limits(limits=threads)  # OpenBLAS (NumPy, SciPy, scikit-learn) and OpenMP runtimes
    except ImportError:
        pass


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.gemm_worker:
        print(json.dumps(gemm_worker(args)))  # sets its own BLAS thread limit
        return 0
    if args.memory_worker:
        set_threads(args.threads, torch=args.memory_peer == "torch")
        print(json.dumps(memory_worker(args)))
        return 0

    def log(message: str) -> None:
        print(message, file=sys.stderr, flush=True)

    set_threads(args.threads)
    peers, notes = available_peers(args.peers, log)
    command = "python benchmarks/bench.py " + " ".join(sys.argv[1:])
    settings = (f"repeats {args.repeats} after a warm-up, " +
                (f"{args.epochs} epoch(s)" if args.epochs else f"~{args.seconds:g} s") +
                f" per training measurement, rows × {args.rows_scale:g}, threads {args.threads}, "
                f"quality guard {args.guard_epochs} epoch(s)")
    report = {"title": args.title or ("fastmlp benchmark" + (" (memory only)" if args.memory else "")),
              "command": command, "settings": settings, "notes": notes, "machine": machine_info(args)}
    log(f"machine: {report['machine']['cpu']}, fastmlp build {report['machine'].get('fastmlp_build')}")
    if args.memory:
        report["memory"] = bench_memory(args, peers, log)
    else:
        report["training"] = [bench_training(WORKLOADS[w], peers, args, log) for w in args.workloads]
        if not args.no_inference:
            log("inference")
            report["inference"] = bench_inference(peers, args, log)
        if not args.no_gemm:
            log("GEMM limit")
            report["gemm"] = bench_gemm(args, log)
        if not args.no_guard:
            report["quality"] = [bench_quality(WORKLOADS[w], peers, args, log) for w in args.workloads]
        if not args.no_memory:
            log("memory")
            report["memory"] = bench_memory(args, peers, log)
    report["load_average_at_end"] = os.getloadavg()
    text = markdown(report)
    print(text)
    if args.markdown:
        with open(args.markdown, "w") as out:
            out.write(text)
    if args.json:
        with open(args.json, "w") as out:
            json.dump(report, out, indent=1, default=str)
    return 0


if __name__ == "__main__":
    sys.exit(main())
