"""Checks of the estimators' parameters and sample weights, and their JSON form in model files.

Importing this module (the estimators package imports it first) raises an ImportError
that names the ``sklearn`` extra when scikit-learn is missing or too old.
"""
from __future__ import annotations

import math
import numbers
import re

import numpy as np

try:
    import sklearn
except ImportError as error:  # pragma: no cover - depends on the environment
    raise ImportError("fastmlp's estimators (fm.MLPClassifier and the others) need scikit-learn; "
                      "install it with: pip install 'fastmlp[sklearn]'") from error

MINIMUM_SKLEARN = (1, 6)
if tuple(int(part) for part in re.findall(r"\d+", sklearn.__version__)[:2]) < MINIMUM_SKLEARN:
    raise ImportError(f"fastmlp's estimators need scikit-learn >= 1.6 (found {sklearn.__version__}); "
                      "upgrade it with: pip install -U 'fastmlp[sklearn]'")

STOCHASTIC_SOLVERS = ("sgd", "adam")
ENGINE_DTYPES = {"float32": np.float32, "float64": np.float64}

# Settings every gradient-trained estimator understands. An estimator exposes those that
# mean something for it as constructor parameters; the others keep these values.
TRAINING_DEFAULTS = {
    "solver": "adam", "batch_size": "auto", "learning_rate": "constant", "learning_rate_init": 1e-3,
    "power_t": 0.5, "max_iter": 200, "shuffle": True, "random_state": None, "tol": 1e-4, "verbose": False,
    "warm_start": False, "momentum": 0.9, "nesterovs_momentum": True, "early_stopping": False,
    "validation_fraction": 0.1, "beta_1": 0.9, "beta_2": 0.999, "epsilon": 1e-8, "n_iter_no_change": 10,
    "max_fun": 15000, "monitor": "val_score", "dtype": "float32", "class_weight": None,
}


# ---------------------------------------------------------------------- parameter checks
def is_int(value) -> bool:
    return isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_))


def is_real(value) -> bool:
    return isinstance(value, numbers.Real) and not isinstance(value, (bool, np.bool_))


def check_int(name: str, value, low: int) -> int:
    if not is_int(value) or value < low:
        raise ValueError(f"{name} must be an integer >= {low}, got {value!r}")
    return int(value)


def check_real(name: str, value, low: float, high: float = math.inf, low_open: bool = False,
               high_open: bool = False) -> float:
    ok = is_real(value) and math.isfinite(value)
    if ok:
        ok = (value > low if low_open else value >= low) and (value < high if high_open else value <= high)
    if not ok:
        interval = f"{'(' if low_open else '['}{low:g}, {high:g}{')' if high_open or high == math.inf else ']'}"
        raise ValueError(f"{name} must be a finite number in {interval}, got {value!r}")
    return float(value)


def check_option(name: str, value, options) -> str:
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name} must be one of {', '.join(map(repr, options))}; got {value!r}")
    return value


def check_bool(name: str, value) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def check_settings(settings: dict) -> dict:
    """Check the training settings shared by the estimators; return them cleaned."""
    s = dict(settings)
    s["solver"] = check_option("solver", s["solver"], ("sgd", "adam", "lbfgs"))
    if s["batch_size"] != "auto":
        s["batch_size"] = check_int("batch_size", s["batch_size"], 1)
    s["learning_rate"] = check_option("learning_rate", s["learning_rate"], ("constant", "invscaling", "adaptive"))
    s["learning_rate_init"] = check_real("learning_rate_init", s["learning_rate_init"], 0, low_open=True)
    s["power_t"] = check_real("power_t", s["power_t"], 0)
    s["max_iter"] = check_int("max_iter", s["max_iter"], 1)
    s["shuffle"] = check_bool("shuffle", s["shuffle"])
    random_state = s["random_state"]
    if not (random_state is None or is_int(random_state) or isinstance(random_state, np.random.RandomState)):
        raise ValueError(f"random_state must be None, an integer or a numpy RandomState, got {random_state!r}")
    s["tol"] = check_real("tol", s["tol"], 0)
    if not (is_int(s["verbose"]) or isinstance(s["verbose"], (bool, np.bool_))):
        raise ValueError(f"verbose must be a bool or an integer, got {s['verbose']!r}")
    s["warm_start"] = check_bool("warm_start", s["warm_start"])
    s["momentum"] = check_real("momentum", s["momentum"], 0, 1, high_open=True)
    s["nesterovs_momentum"] = check_bool("nesterovs_momentum", s["nesterovs_momentum"])
    s["early_stopping"] = check_bool("early_stopping", s["early_stopping"])
    s["validation_fraction"] = check_real("validation_fraction", s["validation_fraction"], 0, 1, high_open=True)
    s["beta_1"] = check_real("beta_1", s["beta_1"], 0, 1, high_open=True)
    s["beta_2"] = check_real("beta_2", s["beta_2"], 0, 1, high_open=True)
    s["epsilon"] = check_real("epsilon", s["epsilon"], 0, low_open=True)
    if not (isinstance(s["n_iter_no_change"], float) and s["n_iter_no_change"] == math.inf):
        s["n_iter_no_change"] = check_int("n_iter_no_change", s["n_iter_no_change"], 1)
    s["max_fun"] = check_int("max_fun", s["max_fun"], 1)
    s["monitor"] = check_option("monitor", s["monitor"], ("val_score", "val_loss"))
    s["dtype"] = check_option("dtype", s["dtype"], tuple(ENGINE_DTYPES))
    return s


def check_sample_weight(sample_weight, n_samples: int) -> np.ndarray | None:
    """Sample weights as a float64 vector (n_samples,), or None; refuses what cannot be a weight."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.ndim == 0:
        weights = np.full(n_samples, weights)
    if weights.ndim != 1 or weights.shape[0] != n_samples:
        raise ValueError(f"sample_weight must have shape ({n_samples},), one weight per sample; "
                         f"got shape {weights.shape}")
    try:
        weights = weights.astype(np.float64)
    except (TypeError, ValueError) as error:
        raise ValueError(f"sample_weight must contain numbers, got dtype {weights.dtype}") from error
    if not np.all(np.isfinite(weights)):
        raise ValueError("sample_weight contains NaN or infinity")
    if np.any(weights < 0):
        raise ValueError("sample_weight must be non-negative")
    with np.errstate(over="ignore"):
        total = weights.sum()
    if not np.isfinite(total):
        raise ValueError("sample_weight is too large: the sum of the weights overflows float64. Only their "
                         "ratios matter for the fit, so divide them by a common factor")
    return weights


def engine_weights(raw: np.ndarray | None, dtype):
    """Raw weights r scaled to mean one (the engine's), and mean(r); (None, 1.0) without weights."""
    if raw is None:
        return None, 1.0
    mean = float(raw.mean())
    if not mean > 0:
        raise ValueError("the sample weights are all zero: at least one sample needs a positive weight")
    return np.ascontiguousarray(raw / mean, dtype=dtype), mean


# ---------------------------------------------------------------------- JSON for model files
def plain(value):
    """A JSON value for numbers, strings, bools, None and (nested) lists; NaN/inf become None."""
    if isinstance(value, (bool, np.bool_)):
        return bool(value)
    if isinstance(value, numbers.Integral):
        return int(value)
    if isinstance(value, numbers.Real):
        value = float(value)
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, str):
        return value
    if isinstance(value, np.str_):
        return str(value)
    if isinstance(value, (list, tuple, np.ndarray)):
        return [plain(item) for item in value]
    raise TypeError(f"cannot store {type(value).__name__} {value!r} in a model file")


def encode_params(params: dict) -> dict:
    """get_params() as JSON: tuples and dicts are tagged so that they come back as they were."""
    def encode(value):
        if isinstance(value, tuple):
            return {"tuple": [encode(item) for item in value]}
        if isinstance(value, dict):
            return {"dict": [[encode(key), encode(item)] for key, item in value.items()]}
        if isinstance(value, list):
            return [encode(item) for item in value]
        if isinstance(value, np.random.RandomState):
            return None  # the generator's state means nothing once the model is trained
        return plain(value)
    return {name: encode(value) for name, value in params.items()}


def decode_params(encoded) -> dict:
    def decode(value):
        if isinstance(value, dict):
            if set(value) == {"tuple"} and isinstance(value["tuple"], list):
                return tuple(decode(item) for item in value["tuple"])
            if set(value) == {"dict"} and isinstance(value["dict"], list):
                return {decode(key): decode(item) for key, item in value["dict"]}
            raise ValueError(f"unexpected object {value!r} among the parameters")
        if isinstance(value, list):
            return [decode(item) for item in value]
        return value
    if not isinstance(encoded, dict):
        raise ValueError("the estimator parameters must be a JSON object")
    return {str(name): decode(value) for name, value in encoded.items()}


_FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def ready_array(estimator, X, check_finite: bool = True) -> np.ndarray | None:
    """X as the engine of a fitted estimator takes it (C-contiguous, of its dtype) when X is a
    plain float array that passes every check scikit-learn's validate_data makes for a model
    fitted without feature names (2-D, at least one row, n_features_in_ columns, finite), or
    None: then validate_data decides, and words any error as scikit-learn does. Found without
    validate_data's generic machinery, which costs many times a one-row prediction.
    check_finite=False leaves finiteness to the caller (the engine's predict refuses NaN and
    infinity itself)."""
    state = estimator.__dict__
    model = state.get("_model")
    if (model is None or "feature_names_in_" in state or type(X) is not np.ndarray or X.ndim != 2
            or X.dtype not in _FLOAT_DTYPES or X.shape[0] == 0 or X.shape[1] != state.get("n_features_in_")):
        return None
    X = np.ascontiguousarray(X, dtype=model.dtype)
    if not check_finite:
        return X
    # scikit-learn's own test of finiteness, after the conversion (so that a float64 too large
    # for float32 counts as infinite); a sum that overflows is left to validate_data.
    with np.errstate(over="ignore"):
        return X if math.isfinite(X.sum()) else None
