"""Sequential: a stack of Dense layers trained by backpropagation in the C++ engine."""
from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from . import _core
from . import optimizers as _optimizers
from . import _model_state, losses as _losses, serialization
from ._arguments import CLASSIFICATION_LOSSES, canonical_loss, check_positive_int, check_seed
from ._sparse import engine_input
from ._validation import check_features, check_sample_weight, encode_targets, resolve_dtype
from .callbacks import History, callbacks_with_history
from ._keras import KerasHabits, check_initial_epoch, class_sample_weights
from ._summary import summary_table
from .inspection import diagnose, explain_step
from .layers import Dense, Dropout, LayerCache, LayerGradients
from .metrics import check_metrics
from .training import DiagnosticsProbe, check_validation_split, hold_out, train

if TYPE_CHECKING:
    from .datasets.preprocessing import Standardizer
    from .datasets.schema import TableSchema

class Sequential(KerasHabits):
    """A feed-forward network: Dense layers applied in order.

    Parameters
    ----------
    layers : list of Dense
    input_dim : int or None
        Number of input features d; inferred from X at the first fit() when None.
    dtype : "float32" (default) or "float64"
    seed : int or None
        Seeds the initial weights and the shuffling of every epoch.

    Attributes
    ----------
    preprocessing : datasets.Standardizer or None
        Applied to X inside fit/predict/evaluate/forward; saved in the model file.
    table : datasets.TableSchema or None
        How a CSV file's columns become X (fastmlp train sets it; the CLI applies it); saved.
    metadata : dict
        Free-form JSON-serialisable information saved in and restored from the model file.
    """

    def __init__(self, layers=None, input_dim: int | None = None, dtype="float32", seed: int | None = 0,
                 name: str | None = None):
        self.layers: list[Dense] = []
        self.dtype = resolve_dtype(dtype).type
        self.seed = check_seed(seed)
        self.name = name
        self.loss: str | None = None
        self.huber_delta = 1.0  # δ of loss="huber" (compile(loss=fm.losses.Huber(delta)))
        self.optimizer: _optimizers.Optimizer | None = None
        self.metrics: list[str] = []  # compile(metrics=...) beyond loss and accuracy
        self.preprocessing: Standardizer | None = None  # optional, applied to X in predict/evaluate/fit
        # Plain JSON values (str, number, bool, None, list, dict) saved with the model, e.g. the
        # CLI's task, feature names and class names; the engine never reads them.
        self.metadata: dict = {}
        self.table: TableSchema | None = None
        self.stop_training = False
        self.history: History | None = None
        self._network = None
        if isinstance(layers, (Dense, Dropout, str, bytes)):
            raise ValueError(f"Sequential takes a list of fm.Dense (and fm.Dropout) layers, got {layers!r}")
        for layer in layers or []:
            self.add(layer)
        self._check_hidden_layers()  # a step or softmax that cannot be the output is refused at once
        if input_dim is not None:
            self.build(input_dim)

    # ------------------------------------------------------------------ structure
    def add(self, layer: Dense | Dropout) -> None:
        """Append a Dense layer, or a Dropout that applies to the output of the Dense before it."""
        if not isinstance(layer, (Dense, Dropout)):
            raise ValueError(f"Sequential takes fm.Dense and fm.Dropout layers, got {layer!r}")
        if self._network is not None:
            raise ValueError("cannot add layers to a built model; create a new Sequential")
        if isinstance(layer, Dropout):
            self._fold_dropout(layer)
            return
        layer._attach(self, len(self.layers))
        self.layers.append(layer)

    def _fold_dropout(self, dropout: Dropout) -> None:
        if not self.layers:
            raise ValueError("fm.Dropout drops the outputs of the layer before it and must follow a Dense layer; "
                             "dropping the inputs themselves is not supported")
        previous = self.layers[-1]
        if previous.dropout:
            raise ValueError(f"two dropouts after layer {len(self.layers) - 1} (rates {previous.dropout} and "
                             f"{dropout.rate}); use one fm.Dropout")
        previous.dropout = dropout.rate

    @property
    def engine(self):
        """The C++ network behind this model (fastmlp._core.Network32 or Network64), None before build.

        For fastmlp's own modules (estimators, training loop, serialisation, inspection) and for
        advanced users who want the engine's calls directly; everything else goes through the
        methods of Sequential. It is read-only: the model creates its engine in build() and it
        cannot be replaced.
        """
        return self._network

    @property
    def built(self) -> bool:
        return self._network is not None

    @property
    def input_dim(self) -> int | None:
        return None if self._network is None else self._network.input_dim

    @property
    def output_dim(self) -> int:
        if not self.layers:
            raise ValueError("the model has no layers")
        return self.layers[-1].units

    def _check_structure(self) -> None:
        if not self.layers:
            raise ValueError("the model has no layers; pass a list of fm.Dense to Sequential")
        self._check_hidden_layers()
        if self.layers[-1].dropout:
            raise ValueError(f"the output layer (layer {len(self.layers) - 1}) cannot drop units: fm.Dropout "
                             "belongs between hidden layers, before the output layer")
        if self.loss is not None:
            _core.check_output_fits_loss(self.loss, self.layers[-1].activation, self.layers[-1].units)

    def _check_hidden_layers(self) -> None:
        for index, layer in enumerate(self.layers[:-1]):
            if layer.activation == "step":
                raise ValueError(f"layer {index}: step has no useful derivative (zero almost everywhere), so "
                                 "backpropagation cannot pass through it; it can only be the output of a perceptron")
            if layer.activation in ("softmax", "exp"):  # exp: the log link of poisson, an output only
                link = "cross_entropy" if layer.activation == "softmax" else "poisson"
                raise ValueError(f"layer {index}: {layer.activation} belongs only at the output layer, with {link}")

    def build(self, input_dim: int) -> Sequential:
        """Create the parameters for `input_dim` input features (initial weights from the seed)."""
        input_dim = check_positive_int(input_dim, "input_dim")
        if self._network is not None:
            if self._network.input_dim != input_dim:
                raise ValueError(f"the model was built for {self._network.input_dim} features, not {input_dim}")
            return self
        self._check_structure()
        specs = [_core.LayerSpec(units=layer.units, activation=layer.activation, negative_slope=layer.negative_slope,
                                 initializer=layer.initializer, dropout=layer.dropout) for layer in self.layers]
        network_class = _core.Network32 if self.dtype == np.float32 else _core.Network64
        self._network = network_class(input_dim, specs, self.loss or "none", self.seed)
        self._network.huber_delta = self.huber_delta
        (self.optimizer or _optimizers.SGD())._configure(self._network)
        return self

    def compile(self, loss="cross_entropy", optimizer="sgd", metrics=None) -> Sequential:
        """Choose the loss (a name, or fm.losses.Huber(delta)), the optimiser (an fm.Optimizer or
        its name) and metrics to log each epoch for training and validation data ("mae", "mse",
        "rmse", "accuracy"; fastmlp.metrics).

        A loss that does not fit the output activation (cross_entropy without softmax, say)
        is refused here, before any training.
        """
        loss, huber_delta = _losses.resolve(loss)
        loss = canonical_loss(loss)
        optimizer = _optimizers.get(optimizer)
        metrics = check_metrics(metrics, loss in CLASSIFICATION_LOSSES)
        previous = self.loss
        self.loss = loss
        try:
            self._check_structure()
        except ValueError:
            self.loss = previous
            raise
        self.optimizer = optimizer
        self.metrics = metrics
        self.huber_delta = huber_delta
        if self._network is not None:
            self._network.loss = loss
            self._network.huber_delta = huber_delta
            optimizer._configure(self._network)
        return self

    @property
    def is_classifier(self) -> bool:
        return self.loss in CLASSIFICATION_LOSSES

    def count_params(self) -> int:
        return self._built_network().num_parameters

    def get_parameters(self) -> np.ndarray:
        """All parameters in one flat copy: [W0 (row-major), b0, W1, b1, ...]."""
        return self._built_network().get_parameters()

    def set_parameters(self, values) -> None:
        values = np.ascontiguousarray(values, dtype=self.dtype)
        if values.ndim != 1:
            raise ValueError(f"parameters must be a flat vector, got shape {values.shape}")
        if not np.all(np.isfinite(values)):
            raise ValueError("parameters contain NaN or infinity")
        self._built_network().set_parameters(values)

    def _built_network(self):
        if self._network is None:
            raise ValueError("the model is not built yet: give Sequential an input_dim, or call fit() or build()")
        return self._network

    def _compiled_network(self):
        if self.loss is None:
            raise ValueError("the model has no loss yet: call model.compile(loss=..., optimizer=...) first")
        return self._built_network()

    # ------------------------------------------------------------------ data
    def _features(self, X, name: str = "X", accept_sparse: bool = True):
        """X checked and converted for the engine; any number of features while unbuilt. A sparse
        X stays sparse (CSR; see _sparse.engine_input), unless preprocessing would centre it."""
        n_features = None if self._network is None else self._network.input_dim
        if self.preprocessing is not None:
            X = check_features(X, np.float64, name, n_features)
            X = self.preprocessing.transform(X)
        return check_features(X, self.dtype, name, n_features, accept_sparse)

    def _targets(self, y, n_samples: int, name: str = "y", x_name: str = "X") -> np.ndarray:
        return encode_targets(y, n_samples, self.output_dim, self.loss, self.dtype, name, x_name)

    # ------------------------------------------------------------------ training
    def fit(self, X, y, epochs: int = 1, batch_size: int = 32, validation_split: float = 0.0,
            validation_data=None, shuffle: bool = True, callbacks=None, verbose: int = 1, sample_weight=None,
            diagnostics: bool = False, class_weight=None, initial_epoch: int = 0) -> History:
        """Train for `epochs` passes over (X, y) in mini-batches of `batch_size`.

        X is (n_samples, n_features). y holds integer class labels (n_samples,) or one-hot rows
        (n_samples, n_outputs) for classification losses, real targets for mse.
        validation_split holds out a shuffled (stratified, for classifiers) fraction of the
        data; validation_data=(X_val, y_val) gives a set instead. Returns a History with one
        entry per epoch for loss and accuracy, train and validation side by side.
        As in Keras, class_weight={class index: weight} multiplies training samples' weights by
        their class's; initial_epoch resumes a run: epochs initial_epoch .. epochs − 1 run.
        """
        if self.loss is None:
            raise ValueError("the model has no loss yet: call model.compile(loss=..., optimizer=...) first")
        epochs = check_positive_int(epochs, "epochs")
        initial_epoch = check_initial_epoch(initial_epoch, epochs)
        batch_size = check_positive_int(batch_size, "batch_size")
        if verbose not in (0, 1, 2, False, True):
            raise ValueError(f"verbose must be 0, 1 or 2, got {verbose!r}")
        validation_split = check_validation_split(validation_split, validation_data)
        # Everything about the data is checked before the model is built, so that a refused
        # call (a transposed X, say) cannot fix the model's input size.
        X = self._features(X)
        Y = self._targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        callback_list = callbacks_with_history(callbacks, self)
        self.build(X.shape[1])
        validation = None
        if validation_data is not None:
            validation = self._validation_data(validation_data)
        elif validation_split > 0.0:
            X, Y, weights, validation = hold_out(X, Y, weights, validation_split, self.seed, self.is_classifier)
        if class_weight is not None:
            weights = class_sample_weights(class_weight, Y, weights, self.dtype, self.is_classifier)
        if diagnostics:
            # the probe records right after History, before any user callback looks
            callback_list.insert(1, DiagnosticsProbe(self, X, Y, callback_list[0]))
        self.history = callback_list[0]
        train(self, X, Y, weights, epochs=epochs, batch_size=batch_size, shuffle=shuffle, callbacks=callback_list,
              validation=validation, verbose=verbose, initial_epoch=initial_epoch)
        return self.history

    def _validation_data(self, validation_data) -> tuple:
        X_val = self._features(validation_data[0], "X_val")
        Y_val = self._targets(validation_data[1], X_val.shape[0], "y_val", "X_val")
        w_val = check_sample_weight(validation_data[2], X_val.shape[0], self.dtype) \
            if len(validation_data) == 3 else None
        return X_val, Y_val, w_val

    # ------------------------------------------------------------------ inference
    def predict(self, X, batch_size: int | None = None, verbose=0) -> np.ndarray:
        """Output-layer activations A[L], shape (n_samples, n_outputs): class probabilities
        after softmax/sigmoid, raw scores after identity. Keras's batch_size (rows per engine
        call; a row's prediction does not depend on it) and verbose (nothing to show) work."""
        if batch_size is not None or verbose not in (0, 1, 2, "auto"):
            return self._predict_in_batches(X, batch_size, verbose)
        network = self._network
        if network is not None and self.preprocessing is None and type(X) is np.ndarray and X.ndim == 2 \
                and X.dtype == self.dtype and X.shape[0] > 0 and X.shape[1] == network.input_dim:
            # Fast path for ready arrays (one-row latency matters): the engine itself refuses
            # NaN and infinity, so nothing here needs to read the data.
            return network.predict(X)
        return self._built_network().predict(engine_input(self._features(X), self.dtype))

    def evaluate(self, X, y, sample_weight=None) -> dict:
        """Mean loss over (X, y), and accuracy for classifiers: {"loss": ..., "accuracy": ...}."""
        network = self._compiled_network()
        X = self._features(X)
        Y = self._targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        result = network.evaluate(engine_input(X, self.dtype), Y, weights)
        report = {"loss": result.loss}
        if self.is_classifier:
            report["accuracy"] = result.correct / result.samples
        return report

    # ------------------------------------------------------------------ inspection
    def forward(self, X, training: bool = False) -> list:
        """Forward propagation with its cache: one LayerCache(Z, A, M) per layer (not the input).

        training=True makes the pass a training step would: layers with dropout drop units, and
        M holds each one's mask (drawn from the model's dropout generator, which advances)."""
        network = self._built_network()
        X = self._features(X, accept_sparse=False)
        if training:
            return [LayerCache(Z, A, M) for Z, A, M in network.training_forward(X)]
        return [LayerCache(Z, A) for Z, A in network.forward(X)]

    def gradients(self, X, y, sample_weight=None, training: bool = False) -> list:
        """Backpropagation without an update: one LayerGradients(dW, db) per layer (with dropout
        as in a training step when training=True; masks from the model's dropout generator)."""
        return self._loss_and_gradients(X, y, sample_weight, training)[1]

    def _loss_and_gradients(self, X, y, sample_weight=None, training: bool = False, masks: bool = False):
        network = self._compiled_network()
        X = self._features(X)
        Y = self._targets(y, X.shape[0])
        weights = check_sample_weight(sample_weight, X.shape[0], self.dtype)
        X_engine = engine_input(X, self.dtype)
        if training:
            loss, grads, drawn = network.training_gradients(X_engine, Y, weights)
        else:
            (loss, grads), drawn = network.gradients(X_engine, Y, weights), [None] * network.num_layers
        gradients = [LayerGradients(dW, db) for dW, db in grads]
        return (loss, gradients, drawn) if masks else (loss, gradients)

    def explain_step(self, X, y, preview_rows: int = 2, training: bool = False) -> str:
        """One forward and backward pass over a small batch, written out in the notation
        (training=True: with dropout, its masks shown)."""
        return explain_step(self, X, y, preview_rows=preview_rows, training=training)

    def diagnose(self, X, y):
        """Gradient norms, saturated and dead units, and what looks wrong, in plain words.

        Returns a Diagnosis: print it for the report; .findings holds the findings as data."""
        return diagnose(self, X, y)

    def summary(self) -> str:
        """The architecture as a text table: layer, shapes, activation, parameters."""
        return summary_table(self)

    def __repr__(self) -> str:
        return f"Sequential({self.layers!r}, input_dim={self.input_dim}, dtype={np.dtype(self.dtype).name!r})"

    # ------------------------------------------------------------------ files
    def save(self, path, include_optimizer: bool = False) -> None:
        """Write the model to a .fmlp file (safetensors), atomically.

        With include_optimizer=True the file also holds the optimiser's state (SGD's velocity, Adam's
        moments and step count), so that fit after fm.load continues exactly where it stopped;
        without it, training after loading restarts the optimiser. A pickle always holds it (the
        default file's bytes and the optimiser's state beside them).
        """
        serialization.save_model(self, path, include_optimizer=include_optimizer)

    def _fmlp_payload(self, kind: str = "Sequential", include_optimizer: bool = False) -> tuple:
        """(description, tensors) of this built model for fastmlp.fileformat."""
        self._built_network()
        return (serialization.network_description(self, kind),
                serialization.network_tensors(self, include_optimizer=include_optimizer))

    @classmethod
    def _from_payload(cls, description: dict, tensors: dict, where: str = "model") -> Sequential:
        """Rebuild a model from a checked description and its tensors; FormatError if they do not fit."""
        return _model_state.from_payload(cls, description, tensors, where)

    def __getstate__(self):
        return _model_state.get_state(self)

    def __setstate__(self, state):
        _model_state.set_state(self, state)

    def _adopt_engine(self, network) -> None:
        # The one way in for an engine built elsewhere (a snapshot's C++ copy): only this module
        # touches the private handle.
        self._network = network


serialization.register_kind("Sequential", Sequential._from_payload)
