"""The peers: one class per library, each training one workload the way its users would.

train(epochs) is what the clock measures; parameters()/output() feed the quality guard.
"""
from __future__ import annotations

import math
import warnings

import numpy as np

from bench_workloads import LEARNING_RATE, SEED, Workload, forward_float64, one_hot

ALL_PEERS = ("fastmlp", "engine", "torch", "sklearn", "numpy")
PEER_LABELS = {
    "fastmlp": "fastmlp (fit)",
    "engine": "fastmlp engine (train_epochs)",
    "torch": "PyTorch",
    "sklearn": "scikit-learn",
    "numpy": "NumPy",
}


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
        self.network = self.model.engine
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


def inference_callable(name, workload, parameters, X, y, data):
    """A no-argument function that predicts `data` the way a user of that library would.
    PyTorch gets its best case: a tensor in, a tensor out, inference_mode entered once."""
    if name == "fastmlp":
        model = FastmlpPeer.build_model(workload, SEED, parameters)
        return lambda: model.predict(data)
    if name == "engine":
        network = FastmlpPeer.build_model(workload, SEED, parameters).engine
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
