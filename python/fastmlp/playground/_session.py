"""One playground session: the data, the model on the real engine, and its training thread.

Every public method takes the session's lock, so the training thread and the HTTP
threads never touch the model at the same time.
"""
from __future__ import annotations

import os
import tempfile
import threading
import time

import numpy as np

from .. import datasets
from ..errors import DivergenceError
from ..inspection._common import engine_inputs
from ..inspection._explain import step_values
from ..layers import Dense
from ..model import Sequential
from ..optimizers import SGD, Adam
from ._config import MAX_CLASSES, MIN_SAMPLES, Config
from ._snapshot import boundary, data_points, step_report

MAX_EPOCHS = 3000       # training pauses there: the curves sent to the page stay bounded
EPOCHS_PER_SECOND = 40  # fast enough to watch, slow enough to see the boundary move (and to share the CPU)
GRID = 40               # decision-boundary grid points per axis


def make_data(config: Config):
    """(X, y) of the chosen data set: float64 (n, 2) features, integer labels 0..k-1."""
    n, noise, seed = config.n_samples, config.noise, config.seed
    if config.dataset == "csv":
        return _csv_data(config.csv or "")
    generator = {"xor": lambda: datasets.make_xor(n, noise=noise, random_state=seed),
                 "moons": lambda: datasets.make_moons(n, noise=noise, random_state=seed),
                 "circles": lambda: datasets.make_circles(n, noise=noise, random_state=seed),
                 "spirals": lambda: datasets.make_spirals(n, n_classes=3, noise=noise, random_state=seed),
                 "blobs": lambda: datasets.make_blobs(n, centers=3, cluster_std=1.0 + 4.0 * noise,
                                                      random_state=seed)}[config.dataset]
    X, y = generator()
    return np.asarray(X, dtype=np.float64), np.asarray(y, dtype=np.int64)


def _csv_data(text: str):
    with tempfile.TemporaryDirectory() as folder:
        path = os.path.join(folder, "data.csv")
        with open(path, "w", encoding="utf-8") as file:
            file.write(text)
        table = datasets.load_csv(path, target=-1)
    if table.X.shape[1] != 2:
        raise ValueError(f"the playground draws the plane of 2 features: the CSV has {table.X.shape[1]} feature "
                         f"columns ({', '.join(table.feature_names)}) besides its last column, the label")
    if not MIN_SAMPLES <= table.X.shape[0] <= 2000:
        raise ValueError(f"the CSV must have from {MIN_SAMPLES} to 2000 rows, it has {table.X.shape[0]}")
    if table.y is None:
        raise ValueError("the CSV needs a label column (its last column)")
    classes, y = np.unique(np.asarray(table.y), return_inverse=True)
    if not 2 <= len(classes) <= MAX_CLASSES:
        raise ValueError(f"the label column must hold from 2 to {MAX_CLASSES} classes, it holds {len(classes)}")
    return np.asarray(table.X, dtype=np.float64), y.astype(np.int64)


def build_model(config: Config, n_classes: int, X_train: np.ndarray) -> Sequential:
    hidden = [Dense(units, activation=activation) for units, activation in config.hidden]
    output = Dense(1, activation="sigmoid") if n_classes == 2 else Dense(n_classes, activation="softmax")
    model = Sequential(hidden + [output], input_dim=2, seed=config.seed)
    optimizer = SGD(lr=config.learning_rate) if config.optimizer == "sgd" else Adam(lr=config.learning_rate)
    model.compile(loss="binary_cross_entropy" if n_classes == 2 else "cross_entropy", optimizer=optimizer)
    model.preprocessing = datasets.Standardizer().fit(X_train)
    return model


class Session:
    def __init__(self):
        self._lock = threading.Lock()
        self._running = threading.Event()
        self._closing = threading.Event()
        self.version = 0
        self.configure(Config(), preset="xor")
        self._thread = threading.Thread(target=self._train_loop, name="fastmlp-playground-training", daemon=True)
        self._thread.start()

    def configure(self, config: Config, preset: str | None = None) -> None:
        X, y = make_data(config)          # outside the lock: a bad CSV changes nothing
        n_classes = int(y.max()) + 1
        X_train, X_val, y_train, y_val = datasets.train_test_split(
            X, y, test_size=config.validation_fraction, stratify=y, random_state=config.seed)
        model = build_model(config, n_classes, X_train)
        with self._lock:
            self._running.clear()
            self.config, self.preset, self.model, self.n_classes = config, preset, model, n_classes
            self.train, self.validation = (X_train, y_train), (X_val, y_val)
            self.history: dict[str, list[float]] = {"loss": [], "val_loss": [], "accuracy": [], "val_accuracy": []}
            self.grad_norm: list[list[float]] = []
            self.steps = 0
            self.error: str | None = None
            self._order = np.random.default_rng(config.seed).permutation(len(y_train))
            self._cursor = 0
            self.version += 1

    def set_running(self, running: bool) -> None:
        with self._lock:
            if running and len(self.history["loss"]) < MAX_EPOCHS:
                self.error = None
                self._running.set()
            else:
                self._running.clear()
            self.version += 1

    def step(self) -> dict:
        """Pause, then one optimiser step on the next mini-batch: its Z, A, dZ, dW, db before the update."""
        with self._lock:
            self._running.clear()
            rows = self._next_batch()
            X_batch, y_batch = self.train[0][rows], self.train[1][rows]
            X_ready, Y_ready, _ = engine_inputs(self.model, X_batch, y_batch)
            values = step_values(self.model, X_ready, Y_ready)
            report = step_report(self.model, values, self.config)
            try:
                self.model.fit(X_batch, y_batch, epochs=1, batch_size=len(rows), shuffle=False, verbose=0)
            except DivergenceError as error:
                self.error = str(error)
            self.steps += 1
            self.version += 1
            report["step"] = self.steps
            return report

    def _next_batch(self) -> np.ndarray:
        size = min(self.config.batch_size, len(self._order))
        if self._cursor + size > len(self._order):
            self._cursor = 0
        rows = self._order[self._cursor:self._cursor + size]
        self._cursor += size
        return rows

    def snapshot(self) -> dict:
        with self._lock:
            return {"version": self.version, "running": self._running.is_set(), "preset": self.preset,
                    "epoch": len(self.history["loss"]), "steps": self.steps, "error": self.error,
                    "history": self.history, "grad_norm": self.grad_norm,
                    "layers": [f"{layer.units} {layer.activation}" for layer in self.model.layers],
                    "boundary": boundary(self.model, self.train[0], GRID)}

    def data(self) -> dict:
        with self._lock:
            return {"version": self.version, "n_classes": self.n_classes,
                    "train": data_points(*self.train), "validation": data_points(*self.validation)}

    def model_file(self) -> bytes:
        """The model as .fmlp bytes (written by model.save, read back)."""
        with self._lock, tempfile.TemporaryDirectory() as folder:
            path = os.path.join(folder, "playground.fmlp")
            self.model.save(path)
            with open(path, "rb") as file:
                return file.read()

    def close(self) -> None:
        self._closing.set()
        self._running.clear()
        self._thread.join(timeout=5.0)

    def _train_loop(self) -> None:
        while not self._closing.is_set():
            if not self._running.wait(timeout=0.1):
                continue
            started = time.perf_counter()
            with self._lock:
                if self._running.is_set():
                    self._train_one_epoch()
            # between epochs the page's requests get the lock
            self._closing.wait(max(0.002, 1.0 / EPOCHS_PER_SECOND - (time.perf_counter() - started)))

    def _train_one_epoch(self) -> None:
        X_train, y_train = self.train
        try:
            history = self.model.fit(X_train, y_train, epochs=1, batch_size=self.config.batch_size,
                                     validation_data=self.validation, verbose=0, diagnostics=True)
        except DivergenceError as error:
            self.error = str(error)
            self._running.clear()
            self.version += 1
            return
        for key, values in history.history.items():
            self.history.setdefault(key, []).extend(values)
        self.grad_norm.extend(history.diagnostics["grad_norm"])
        if len(self.history["loss"]) >= MAX_EPOCHS:
            self._running.clear()
        self.version += 1
