"""coefs_ and intercepts_ as scikit-learn users hold them: arrays they may edit in place or replace.

The engine owns the weights (one flat buffer in C++, possibly of another precision than the
arrays scikit-learn users expect), so the arrays handed out are a mirror: the estimator
pushes every edit into the engine before it next uses the engine (predict, fit, save, pickle),
and rebuilds the mirror when the engine's weights changed underneath (training, a new fit,
an assignment through ``model_.layers``).
"""
from __future__ import annotations

import numpy as np
from sklearn.utils.validation import check_is_fitted

from ._checks import ready_array
from .._sparse import engine_input


class ParameterList(list):
    """A list of one array per layer whose items may be replaced by arrays of the same shape."""

    def __init__(self, arrays, what: str):
        super().__init__(arrays)
        self._what = what

    def __setitem__(self, index, value):
        if isinstance(index, slice):
            raise TypeError(f"{self._what} has one array per layer; assign one item at a time")
        old = self[index]
        new = np.asarray(value, dtype=old.dtype)
        if new.shape != old.shape:
            raise ValueError(f"{self._what}[{index}] must have shape {old.shape}, got {new.shape}")
        super().__setitem__(index, new)

    def _refuse(self, *args, **kwargs):
        raise TypeError(f"{self._what} has exactly one array per layer; it cannot grow or shrink")

    append = extend = insert = pop = remove = clear = __delitem__ = __iadd__ = _refuse  # type: ignore[assignment]


class ParameterMirror:
    """The handed-out coefs_ and intercepts_ of one engine, with what the engine held when they
    were made (to tell the user's edits from the engine's own changes)."""

    def __init__(self, engine, dtype):
        self.engine = engine
        n_layers = engine.num_layers
        self.coefs = ParameterList([engine.get_weights(i).astype(dtype) for i in range(n_layers)], "coefs_")
        self.intercepts = ParameterList([engine.get_bias(i).astype(dtype) for i in range(n_layers)], "intercepts_")
        self._seen = self._snapshot()

    def _snapshot(self) -> tuple:
        return ([array.copy() for array in self.coefs], [array.copy() for array in self.intercepts])

    def push_edits(self) -> None:
        """Write every array the user changed since the last push into the engine."""
        seen_coefs, seen_intercepts = self._seen
        changed = False
        for i, (array, seen) in enumerate(zip(self.coefs, seen_coefs)):
            if not np.array_equal(array, seen):
                self.engine.set_weights(i, np.ascontiguousarray(array, dtype=self.engine.dtype))
                changed = True
        for i, (array, seen) in enumerate(zip(self.intercepts, seen_intercepts)):
            if not np.array_equal(array, seen):
                self.engine.set_bias(i, np.ascontiguousarray(array, dtype=self.engine.dtype))
                changed = True
        if changed:
            self._seen = self._snapshot()

    def matches_engine(self) -> bool:
        """Whether the engine still holds what the mirror last saw (nothing changed it since)."""
        seen_coefs, seen_intercepts = self._seen
        engine = self.engine
        same_weights = all(np.array_equal(engine.get_weights(i).astype(seen.dtype), seen)
                           for i, seen in enumerate(seen_coefs))
        return same_weights and all(np.array_equal(engine.get_bias(i).astype(seen.dtype), seen)
                                    for i, seen in enumerate(seen_intercepts))


def checked_layer_arrays(arrays, shapes: list, what: str, dtype) -> list:
    """Arrays assigned to coefs_ or intercepts_: one per layer, of the layers' shapes."""
    arrays = list(arrays)
    if len(arrays) != len(shapes):
        raise ValueError(f"{what} must hold {len(shapes)} arrays, one per layer; got {len(arrays)}")
    checked = []
    for i, (array, shape) in enumerate(zip(arrays, shapes)):
        array = np.asarray(array, dtype=dtype)
        if array.shape != shape:
            raise ValueError(f"{what}[{i}] must have shape {shape}, got {array.shape}")
        if not np.all(np.isfinite(array)):
            raise ValueError(f"{what}[{i}] contains NaN or infinity")
        checked.append(array)
    return checked


def float_dtype_of(X):
    """The float dtype scikit-learn keeps for X: float32 for float32 arrays, sparse matrices and
    all-float32 data frames, float64 for everything else."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is not None and not hasattr(X, "dtype"):  # a data frame
        kept = all(np.dtype(getattr(d, "numpy_dtype", d)) == np.float32 for d in list(dtypes)) if len(dtypes) else False
        return np.dtype(np.float32 if kept else np.float64)
    dtype = getattr(X, "dtype", None)
    return np.dtype(np.float32 if dtype == np.float32 else np.float64)


class LayerParameters:
    """coefs_, intercepts_ and the dtype of predictions, for an estimator with an engine network."""

    # ------------------------------------------------------------------ coefs_ and intercepts_
    @property
    def _parameter_dtype(self):
        """scikit-learn's dtype of weights and predictions: float32 when fitted on float32 data."""
        return np.float32 if getattr(self, "_float32_input", False) else np.float64

    def _mirror(self) -> ParameterMirror:
        """The handed-out coefs_/intercepts_, rebuilt when the engine changed them itself."""
        mirror = getattr(self, "_parameter_mirror", None)
        if mirror is not None:
            mirror.push_edits()
            if mirror.engine is self._engine and mirror.matches_engine():
                return mirror
        mirror = self._parameter_mirror = ParameterMirror(self._engine, self._parameter_dtype)
        return mirror

    def _push_parameter_edits(self) -> None:
        """Before the engine is used: the user's edits of coefs_/intercepts_ reach it."""
        mirror = getattr(self, "_parameter_mirror", None)
        if mirror is not None and mirror.engine is self._engine:
            mirror.push_edits()

    def _drop_parameter_mirror(self) -> None:
        """After training: the next coefs_ are new arrays of the trained weights (arrays handed out
        before keep the weights they had, so a fit's before-and-after can be compared)."""
        self._parameter_mirror = None

    @property
    def coefs_(self) -> list:
        """Weight matrices W[l], shapes (n_in, n_out). As in scikit-learn they may be edited in
        place or assigned; the edits reach the network before its next use."""
        check_is_fitted(self)
        return self._mirror().coefs

    @coefs_.setter
    def coefs_(self, arrays) -> None:
        check_is_fitted(self)
        engine = self._engine
        shapes = [self._mirror().coefs[i].shape for i in range(engine.num_layers)]
        for i, W in enumerate(checked_layer_arrays(arrays, shapes, "coefs_", engine.dtype)):
            engine.set_weights(i, np.ascontiguousarray(W))
        self._parameter_mirror = None

    @property
    def intercepts_(self) -> list:
        """Bias vectors b[l], shapes (n_out,); editable as coefs_."""
        check_is_fitted(self)
        return self._mirror().intercepts

    @intercepts_.setter
    def intercepts_(self, arrays) -> None:
        check_is_fitted(self)
        engine = self._engine
        shapes = [(engine.layer_units(i),) for i in range(engine.num_layers)]
        for i, b in enumerate(checked_layer_arrays(arrays, shapes, "intercepts_", engine.dtype)):
            engine.set_bias(i, np.ascontiguousarray(b))
        self._parameter_mirror = None

    def _outputs(self, X) -> np.ndarray:
        """The output layer's activations (m, n_outputs) in the prediction dtype."""
        dtype = self._prediction_dtype(X)
        ready = ready_array(self, X, check_finite=False)
        if ready is not None:
            self._push_parameter_edits()
            try:
                return self._engine.predict(ready).astype(dtype, copy=False)
            except ValueError:  # NaN or infinity, refused by the engine: say it as scikit-learn does
                self._features(X)
                raise
        X = self._features(X)
        return self._engine.predict(engine_input(X, self._engine.dtype)).astype(dtype, copy=False)

    def _prediction_dtype(self, X):
        """scikit-learn's dtype of predictions: float32 for float32 data on a model fitted on
        float32 data, float64 otherwise, whatever the engine computes in."""
        both_float32 = self._parameter_dtype is np.float32 and float_dtype_of(X) == np.float32
        return np.dtype(np.float32 if both_float32 else np.float64)

    def _weight_mask(self) -> np.ndarray:
        """True where the flat parameter vector [W0, b0, W1, b1, ...] holds a weight."""
        network = self._engine
        mask = []
        n_in = network.input_dim
        for i in range(network.num_layers):
            n_out = network.layer_units(i)
            mask += [np.ones(n_in * n_out, dtype=bool), np.zeros(n_out, dtype=bool)]
            n_in = n_out
        return np.concatenate(mask)
