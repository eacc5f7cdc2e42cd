"""Models to and from .fmlp files: the description and tensors that fileformat reads and writes.

Loading rebuilds the model from the JSON description and the checked tensors, then
recomputes the golden input stored at save time: a file that loads is known to predict
what it predicted when it was saved.
"""
from __future__ import annotations

import numpy as np

from . import _core, fileformat
from .errors import FormatError

GOLDEN_ROWS = 4
# Same engine, same weights: predictions agree to rounding. Another build (other SIMD
# width, other compiler) may reorder sums, so allow a few ulps of the output's scale.
GOLDEN_TOLERANCE = {"float32": 1e-4, "float64": 1e-10}

_LOADERS = {}
# Kinds whose loader lives in the estimators module (imported on demand: it needs scikit-learn).
_ESTIMATOR_KINDS = ("Perceptron", "LogisticRegression", "LinearSVM", "MLPClassifier", "MLPRegressor")


def register_kind(kind: str, from_payload) -> None:
    """Teach load() a new model kind: from_payload(description, tensors) returns the object."""
    _LOADERS[kind] = from_payload


def network_description(model, kind: str = "Sequential") -> dict:
    """The JSON description of a built Sequential (fileformat's schema, version 1)."""
    network = model._built_network()
    return {
        "format": fileformat.FORMAT_NAME,
        "format_version": fileformat.FORMAT_VERSION,
        "library_version": _core.__version__,
        "kind": kind,
        "dtype": np.dtype(model.dtype).name,
        "input_dim": int(network.input_dim),
        "layers": [layer.get_config() for layer in model.layers],
        "loss": model.loss,
        "seed": int(model.seed),
        "optimizer": None if model.optimizer is None else model.optimizer.get_config(),
        "name": model.name,
        "metadata": dict(model.metadata),
    }


def network_tensors(model) -> dict:
    """Weights, biases, preprocessing and a golden input with its prediction."""
    network = model._built_network()
    tensors = {}
    for index in range(len(model.layers)):
        tensors[f"layers.{index}.W"] = network.get_weights(index)
        tensors[f"layers.{index}.b"] = network.get_bias(index)
    golden = np.random.default_rng(model.seed).standard_normal((GOLDEN_ROWS, network.input_dim))
    if model.preprocessing is not None:
        golden = golden * model.preprocessing.scale_ + model.preprocessing.mean_
        tensors["preprocessing.mean"] = np.asarray(model.preprocessing.mean_, dtype=np.float64)
        tensors["preprocessing.scale"] = np.asarray(model.preprocessing.scale_, dtype=np.float64)
    golden = golden.astype(model.dtype)
    tensors["golden.input"] = golden
    tensors["golden.output"] = model.predict(golden)
    return tensors


def sequential_from_payload(description: dict, tensors: dict, where: str = "model"):
    from .datasets import Standardizer
    from .layers import Dense
    from .model import Sequential

    try:
        layers = [Dense(spec["units"], activation=spec["activation"],
                        negative_slope=spec.get("negative_slope", 0.01),
                        initializer=spec.get("initializer", "auto")) for spec in description["layers"]]
        model = Sequential(layers, input_dim=description["input_dim"], dtype=description["dtype"],
                           seed=description.get("seed") or 0, name=description.get("name"))
        if description.get("loss"):
            model.compile(loss=description["loss"], optimizer=description.get("optimizer") or "sgd")
    except (ValueError, TypeError, KeyError) as error:
        raise FormatError(f"{where}: the description does not make a valid network: {error}") from error
    metadata = description.get("metadata", {})
    if not isinstance(metadata, dict):
        raise FormatError(f"{where}: the description's 'metadata' must be a JSON object, "
                          f"found {type(metadata).__name__}")
    model.metadata = metadata
    for index in range(len(layers)):
        model.engine.set_weights(index, tensors[f"layers.{index}.W"])
        model.engine.set_bias(index, tensors[f"layers.{index}.b"])
    if "preprocessing.mean" in tensors:
        model.preprocessing = Standardizer.from_dict({"mean": tensors["preprocessing.mean"].tolist(),
                                                      "scale": tensors["preprocessing.scale"].tolist()})
    _check_golden(model, tensors, description["dtype"], where)
    return model


def _check_golden(model, tensors: dict, dtype: str, where: str) -> None:
    if "golden.input" not in tensors:
        # fastmlp always writes them; without them nothing vouches for the weights.
        raise FormatError(f"{where}: the file has no golden input and output (tensors 'golden.input' and "
                          "'golden.output'), so its predictions cannot be checked; fastmlp always writes them")
    expected = tensors["golden.output"]
    found = model.predict(tensors["golden.input"])
    scale = max(1.0, float(np.max(np.abs(expected))))
    error = float(np.max(np.abs(found.astype(np.float64) - expected)))
    if not error <= GOLDEN_TOLERANCE[dtype] * scale:
        raise FormatError(f"{where}: the loaded model does not reproduce the prediction stored with it "
                          f"(largest difference {error:.3g}); the file is corrupt or was edited")


register_kind("Sequential", sequential_from_payload)


def _payload(obj):
    if hasattr(obj, "_fmlp_payload"):
        return obj._fmlp_payload()
    return network_description(obj), network_tensors(obj)


def save_model(obj, path) -> None:
    description, tensors = _payload(obj)
    fileformat.save(path, description, tensors)


def model_to_bytes(obj) -> bytes:
    description, tensors = _payload(obj)
    return fileformat.to_bytes(description, tensors)


def _from_payload(description: dict, tensors: dict, where: str):
    kind = description["kind"]
    if kind not in _LOADERS and kind in _ESTIMATOR_KINDS:
        # Registers the estimator kinds; an ImportError here names the missing extra.
        from . import estimators  # noqa: F401
    if kind not in _LOADERS:
        raise FormatError(f"{where}: unknown model kind {kind!r}")
    return _LOADERS[kind](description, tensors, where)


def model_from_bytes(data: bytes):
    description, tensors = fileformat.from_bytes(data)
    return _from_payload(description, tensors, "model bytes")


def load(path):
    """Read a .fmlp file and return what was saved (a Sequential or an estimator).

    Nothing in the file is executed; every shape, dtype and value is checked against the
    description, and the stored golden prediction is recomputed. Raises fm.FormatError
    for a file that is not a valid fastmlp model.
    """
    description, tensors = fileformat.load(path)
    return _from_payload(description, tensors, f"model file {str(path)!r}")
