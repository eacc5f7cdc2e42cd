"""The base of fastmlp's estimators: the network (a fm.Sequential), data checks, fit's order of
work, SGD/Adam through fastmlp's training loop (the stopping rule in _stopping, L-BFGS in
_lbfgs), and model files and pickling.

Objective. Every gradient-trained estimator minimises

    J(W, b) = s · L(W, b) + λ/2 · Σ_l ‖W[l]‖²

where L is the engine's loss, a weighted mean over the samples of a batch (DESIGN.md), s
its scale (1; ½ for the MLP regressor, whose squared error is halved as in scikit-learn)
and λ the L2 strength each estimator derives from its own parameters (alpha, C). The
engine's optimiser is given the weight decay λ/s, so it follows ∇J / s; multiplying SGD's
learning rate by s (and Adam's ε by 1/s, Adam being blind to the scale of its gradient
otherwise) makes every update exactly the update for J.

Sample weights. The raw weight of sample i, r_i = sample_weight_i · class_weight[y_i], is
passed to the engine as r_i / mean(r), so that L = Σ r_i ℓ_i / Σ r_i: weights that
average to one leave the loss unchanged, and an integer weight k counts like k copies of
the row (exactly so for full-batch training).
"""
from __future__ import annotations

import math
import warnings

import numpy as np
from sklearn.base import BaseEstimator
from sklearn.exceptions import ConvergenceWarning
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_is_fitted, validate_data

from .. import serialization
from .._sparse import FORMATS as SPARSE_FORMATS
from .._sparse import as_csr, checked_structure, is_sparse
from ..errors import FormatError
from ..layers import Dense
from ..model import Sequential
from ..training import train
from ._checks import (ENGINE_DTYPES, TRAINING_DEFAULTS, is_real, check_sample_weight, check_settings,
                      decode_params, encode_params, engine_weights, plain, ready_array)
from ._lbfgs import fit_lbfgs
from ._parameters import LayerParameters, float_dtype_of
from ._optimizer_settings import configure_optimizer
from ._sklearn_callbacks import CallbackSupportMixin, FitTasks, with_callbacks
from ._stopping import ScikitLearnStopping, hold_out, train_as_scikit_learn

_SEED_LIMIT = 2 ** 31 - 1


# ---------------------------------------------------------------------- the base class
class NetworkEstimator(CallbackSupportMixin, LayerParameters, BaseEstimator):
    """Base of fastmlp's estimators: one engine network (a fm.Sequential), trained epoch by epoch.

    Subclasses define ``_hidden_layers()``, ``_output_layer(n_outputs)``, ``_penalty(...)``,
    ``_prepare_targets(...)`` and how outputs become predictions.
    """

    _loss_scale = 1.0           # s in J = s·L + λ/2·‖W‖²
    _initializer = "auto"       # of the output layer; linear models start from zero as in the notes
    _is_classifier_network = False
    _reports_epochs = True      # each epoch a subtask for scikit-learn's callbacks (sklearn.callback)
    # Fitted attributes written to model files (besides classes_, n_features_in_, feature_names_in_).
    _STATE = ("n_iter_", "t_", "loss_", "loss_curve_", "best_loss_", "validation_scores_",
              "validation_loss_curve_", "best_validation_score_", "best_validation_loss_",
              "_no_improvement_count", "_learning_rate_now", "_float32_input")

    # ------------------------------------------------------------------ settings
    def _settings(self) -> dict:
        settings = dict(TRAINING_DEFAULTS)
        settings.update(self.get_params(deep=False))
        settings = check_settings(settings)
        self._check_own_params()
        return settings

    def _check_own_params(self) -> None:
        """Check the estimator's own parameters (alpha, C, hidden_layer_sizes, ...)."""

    def _hidden_layers(self) -> list:
        return []

    def _output_layer(self, n_outputs: int) -> tuple:
        """(activation, loss) of the output layer for n_outputs units."""
        raise NotImplementedError

    def _penalty(self, batch_weight: float, total_weight: float) -> float:
        """λ, given the total weight of a batch (batch_size · mean weight) and of the data."""
        return 0.0

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        return tags

    def __sklearn_is_fitted__(self) -> bool:
        return getattr(self, "_model", None) is not None

    # ------------------------------------------------------------------ the network
    def _build(self, n_features: int, n_outputs: int, rng, dtype: str) -> None:
        activation, loss = self._output_layer(n_outputs)
        layers = self._hidden_layers() + [Dense(n_outputs, activation=activation, initializer=self._initializer)]
        model = Sequential(layers, input_dim=n_features, dtype=dtype, seed=0)
        model.compile(loss=self._loss_object(loss), optimizer="sgd")
        self._model = model
        initial = self._initial_parameters(rng)
        if initial is not None:
            self._engine.set_parameters(np.ascontiguousarray(initial, dtype=model.dtype))

    def _loss_object(self, loss: str):
        """What Sequential.compile takes for the engine loss `loss` (a name, or a loss with parameters)."""
        return loss

    def _initial_parameters(self, rng):
        """A flat [W0, b0, W1, b1, ...] to start from, or None for the engine's initialiser."""
        return None

    @property
    def _engine(self):
        return self._model.engine

    def _squared_weights(self) -> float:
        """Σ_l ‖W[l]‖² of the current parameters."""
        with np.errstate(over="ignore"):  # weights about to diverge: J is honestly infinite
            return float(sum(np.dot(W.ravel(), W.ravel()) for W in self._weights(np.float64)))

    def _weights(self, dtype=None) -> list:
        network = self._engine
        return [network.get_weights(i).astype(dtype or network.dtype, copy=False)
                for i in range(network.num_layers)]

    @property
    def model_(self) -> Sequential:
        """The fitted network as a fm.Sequential (shared, not a copy): summary(), forward(), layers."""
        check_is_fitted(self)
        self._push_parameter_edits()
        return self._model

    # ------------------------------------------------------------------ data
    def _features(self, X) -> np.ndarray:
        """X checked against the fitted model (feature count and names, finiteness) and converted
        for the engine: C-contiguous, the engine's dtype, (m, n_features)."""
        ready = ready_array(self, X)  # a plain array skips validate_data's generic machinery
        if ready is None:
            check_is_fitted(self)
            ready = validate_data(self, checked_structure(X), reset=False, dtype=self._model.dtype, order="C",
                                  accept_sparse=SPARSE_FORMATS)
        self._push_parameter_edits()
        return ready

    # ------------------------------------------------------------------ training
    @with_callbacks  # tears scikit-learn's callbacks down however fit ends
    def _fit(self, X, y, sample_weight=None, validation_data=None, incremental=False, classes=None):
        settings = self._settings()
        if incremental and settings["solver"] == "lbfgs":
            raise ValueError("partial_fit needs solver='sgd' or 'adam'; L-BFGS works on the whole data set")
        if incremental and settings["early_stopping"]:
            raise ValueError("partial_fit does not support early_stopping=True: there is no held-out set "
                             "across calls; use fit(..., validation_data=...) or early_stopping with fit")
        first_pass = not self.__sklearn_is_fitted__() or not (settings["warm_start"] or incremental)
        dtype = ENGINE_DTYPES[settings["dtype"]] if first_pass else self._model.dtype
        if first_pass:
            self._model = None  # a fresh fit that fails leaves no stale network behind new classes_
        if y is None:
            raise ValueError(f"{type(self).__name__} requires y to be passed, but the target y is None")
        self._push_parameter_edits()
        float32_input = float_dtype_of(X) == np.float32
        X, y = validate_data(self, checked_structure(X), y, reset=first_pass, dtype=dtype, order="C", multi_output=True,
                             y_numeric=not self._is_classifier_network, accept_sparse=SPARSE_FORMATS)
        X = as_csr(X) if is_sparse(X) else X  # once per fit; the engine trains on the CSR arrays themselves
        task_data = (X, y)  # what scikit-learn's callbacks see (before any hold-out split)
        Y, strata = self._prepare_targets(y, first_pass, incremental, classes)
        raw_weights = check_sample_weight(sample_weight, X.shape[0])
        raw_weights = self._apply_class_weight(raw_weights, strata, settings, incremental)
        if raw_weights is not None and not raw_weights.sum() > 0:
            raise ValueError("the sample weights are all zero: at least one sample needs a positive weight")
        self._check_weighted_classes(raw_weights, strata)

        # The generator is used in scikit-learn's order: initial weights, early-stopping split,
        # shuffling, so that an MLP with the same random_state starts from the same weights.
        rng = check_random_state(settings["random_state"])
        if first_pass:
            self._build(X.shape[1], Y.shape[1], rng, settings["dtype"])
            self._reset_training_state(settings)
            self._float32_input = bool(float32_input)
        Y = np.ascontiguousarray(Y, dtype=dtype)

        validation = None
        if validation_data is not None:
            validation = self._checked_validation_data(validation_data, dtype)
        elif settings["early_stopping"] and settings["solver"] != "lbfgs":
            X, Y, raw_weights, validation = hold_out(X, Y, raw_weights, strata, settings, rng)
        self._prepare_validation_curves(validation is not None, settings)
        if first_pass or not incremental:  # partial_fit keeps drawing from the stream it started
            self._model.seed = int(rng.randint(_SEED_LIMIT))
            self._engine.reseed_training(self._model.seed)

        lbfgs = settings["solver"] == "lbfgs"
        epochs = 0 if lbfgs or not self._reports_epochs else 1 if incremental else settings["max_iter"]
        tasks = FitTasks(self, *task_data, sample_weight, epochs)
        try:
            if lbfgs:
                fit_lbfgs(self, X, Y, raw_weights, validation, settings)
            else:
                self._fit_stochastic(X, Y, raw_weights, validation, settings, incremental, tasks.epoch_callback())
        finally:
            self._drop_parameter_mirror()
        tasks.end()
        return self

    def _prepare_targets(self, y, first_pass: bool, incremental: bool, classes):
        """Return (Y (m, n_outputs) float64, strata or None); classifiers also set classes_."""
        raise NotImplementedError

    def _apply_class_weight(self, raw_weights, strata, settings, incremental):
        return raw_weights

    def _check_weighted_classes(self, raw_weights, strata) -> None:
        pass

    def _reset_training_state(self, settings: dict) -> None:
        self.n_iter_ = 0
        self.t_ = 0
        self.loss_ = None
        self.loss_curve_ = []
        self.best_loss_ = np.inf
        self.validation_scores_ = None
        self.validation_loss_curve_ = None
        self.best_validation_score_ = None
        self.best_validation_loss_ = None
        self._no_improvement_count = 0
        self._learning_rate_now = settings["learning_rate_init"]
        self._optimizer_key = None

    def _prepare_validation_curves(self, validating: bool, settings: dict) -> None:
        if validating and self.validation_scores_ is None:
            self.validation_scores_ = []
            self.validation_loss_curve_ = []
            self.best_validation_score_ = -np.inf
            self.best_validation_loss_ = np.inf
        if settings["early_stopping"]:
            self.best_loss_ = None  # as in scikit-learn: the training loss is not what decides

    def _checked_validation_data(self, validation_data, dtype):
        if not isinstance(validation_data, (tuple, list)) or len(validation_data) not in (2, 3):
            raise ValueError("validation_data must be a tuple (X_val, y_val) or (X_val, y_val, sample_weight_val)")
        X_val = validate_data(self, checked_structure(validation_data[0], "X_val"), reset=False, dtype=dtype,
                              order="C", accept_sparse=SPARSE_FORMATS)
        X_val = as_csr(X_val) if is_sparse(X_val) else X_val
        y_val = np.asarray(validation_data[1])
        if y_val.shape[0] != X_val.shape[0]:
            raise ValueError(f"X_val has {X_val.shape[0]} samples but y_val has {y_val.shape[0]}")
        Y_val = np.ascontiguousarray(self._validation_targets(y_val), dtype=dtype)
        raw = check_sample_weight(validation_data[2], X_val.shape[0]) if len(validation_data) == 3 else None
        return X_val, Y_val, raw

    def _validation_targets(self, y_val) -> np.ndarray:
        raise NotImplementedError

    def _batch_size(self, settings: dict, n_samples: int) -> int:
        if settings["batch_size"] == "auto":
            return min(200, n_samples)
        return min(settings["batch_size"], n_samples)

    def _configure_optimizer(self, settings: dict, decay: float, keep_state: bool) -> None:
        """Give the engine the optimiser of `settings` (see the module docstring for the scaling)."""
        configure_optimizer(self, settings, decay, keep_state)

    def _fit_stochastic(self, X, Y, raw_weights, validation, settings, incremental, reporters=()) -> None:
        engine = self._engine
        n_samples = X.shape[0]
        weights, mean_weight = engine_weights(raw_weights, engine.dtype)
        batch_size = self._batch_size(settings, n_samples)
        penalty = self._penalty(batch_size * mean_weight, n_samples * mean_weight)
        if not incremental:
            self._learning_rate_now = settings["learning_rate_init"]
        self._configure_optimizer(settings, penalty / self._loss_scale, keep_state=incremental)
        rule = ScikitLearnStopping(self, settings, penalty, validation)
        engine_validation = None if validation is None else \
            (validation[0], validation[1], engine_weights(validation[2], engine.dtype)[0])
        epochs = 1 if incremental else settings["max_iter"]
        train_as_scikit_learn(rule, lambda: train(
            self._model, X, Y, weights, epochs=epochs, batch_size=batch_size, shuffle=settings["shuffle"],
            callbacks=[rule, *reporters], validation=engine_validation,
            learning_rate=("learning_rate_init", settings["learning_rate_init"])))
        if not rule.converged and not incremental:
            warnings.warn(f"{type(self).__name__}: the maximum number of iterations ({settings['max_iter']}) was "
                          "reached and the optimization hasn't converged yet.", ConvergenceWarning, stacklevel=4)

    def _objective(self, loss: float, penalty: float) -> float:
        """J = s·L + λ/2·‖W‖² for the engine's mean loss L."""
        return self._loss_scale * loss + (0.5 * penalty * self._squared_weights() if penalty else 0.0)

    def _validation_score(self, X_val, Y_val, raw_weights, accuracy) -> float:
        """The score of the validation set; accuracy is the engine's count of right decisions."""
        raise NotImplementedError

    def _lbfgs_options(self) -> dict:
        return {}

    # ------------------------------------------------------------------ files and pickling
    def save(self, path) -> None:
        """Write the fitted estimator (parameters, classes, weights) to a .fmlp file, atomically."""
        check_is_fitted(self)
        serialization.save_model(self, path)

    def _fmlp_payload(self) -> tuple:
        check_is_fitted(self)
        self._push_parameter_edits()
        # The whole training state, optimiser included: partial_fit resumes exactly after a load.
        description, tensors = self._model._fmlp_payload(kind=type(self).__name__, include_optimizer=True)
        state = {name: plain(getattr(self, name)) for name in self._STATE if hasattr(self, name)}
        if hasattr(self, "feature_names_in_"):
            state["feature_names_in_"] = [str(name) for name in self.feature_names_in_]
        description["estimator"] = {"params": encode_params(self.get_params(deep=False)), "state": state}
        if hasattr(self, "classes_"):
            description["classes"] = plain(self.classes_)
        return description, tensors

    @classmethod
    def _from_payload(cls, description: dict, tensors: dict, where: str):
        try:
            info = description["estimator"]
            if not isinstance(info, dict) or not isinstance(info.get("state"), dict):
                raise ValueError("'estimator' must be an object with 'params' and 'state'")
            estimator = cls(**decode_params(info["params"]))
            estimator._settings()
        except (KeyError, TypeError, ValueError) as error:
            raise FormatError(f"{where}: the estimator description is not valid: {error}") from error
        model = Sequential._from_payload(description, tensors, where)
        try:
            estimator._restore(model, description, info["state"])
        except (KeyError, TypeError, ValueError) as error:
            raise FormatError(f"{where}: the estimator does not fit its network: {error}") from error
        return estimator

    def _restore(self, model: Sequential, description: dict, state: dict) -> None:
        """Adopt a loaded network after checking that it is the one these parameters make."""
        n_outputs = model.layers[-1].units
        self._restore_targets(description, state, n_outputs)
        expected = self._hidden_layers() + [Dense(n_outputs, activation=self._output_layer(n_outputs)[0])]
        found = [(layer.units, layer.activation, layer.dropout) for layer in model.layers]
        wanted = [(layer.units, layer.activation, layer.dropout) for layer in expected]
        if found != wanted:
            raise ValueError(f"the network's layers {found} are not those of the parameters {wanted}")
        if model.loss != self._output_layer(n_outputs)[1]:
            raise ValueError(f"the network's loss {model.loss!r} is not this estimator's")
        if np.dtype(model.dtype).name != self.get_params().get("dtype", "float32"):
            raise ValueError("the network's dtype differs from the estimator's dtype parameter")
        self._model = model
        self.n_features_in_ = model.input_dim
        for name, value in state.items():
            if name == "feature_names_in_":
                if not isinstance(value, list) or len(value) != model.input_dim:
                    raise ValueError("feature_names_in_ must list one name per input feature")
                self.feature_names_in_ = np.asarray(value, dtype=object)
            elif name in self._STATE:
                setattr(self, name, self._restored_value(name, value))
            else:
                raise ValueError(f"unknown fitted attribute {name!r}")
        self._optimizer_key = None

    @staticmethod
    def _restored_value(name: str, value):
        if name == "_float32_input" and isinstance(value, bool):
            return value
        if name in ("best_loss_", "best_validation_loss_") and value is None:
            return None if name == "best_loss_" else np.inf
        if isinstance(value, list):
            if not all(item is None or is_real(item) for item in value):
                raise ValueError(f"{name} must be a list of numbers")
            return [math.nan if item is None else item for item in value]
        if value is not None and not is_real(value):
            raise ValueError(f"{name} must be a number, found {value!r}")
        return value

    def _restore_targets(self, description: dict, state: dict, n_outputs: int) -> None:
        pass

    def __getstate__(self):
        if not self.__sklearn_is_fitted__():
            return super().__getstate__()
        return {"fmlp": serialization.model_to_bytes(self)}

    def __setstate__(self, state):
        if "fmlp" not in state:
            super().__setstate__(state)
            return
        restored = serialization.model_from_bytes(state["fmlp"])
        if type(restored) is not type(self):
            raise FormatError(f"the pickled bytes hold a {type(restored).__name__}, not a {type(self).__name__}")
        self.__dict__.update(restored.__dict__)
