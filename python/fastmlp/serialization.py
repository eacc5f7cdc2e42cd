"""Model kinds to and from .fmlp files: the registry of kinds and the parts every kind shares.

This module sits just above :mod:`fastmlp.fileformat` and below every model: it imports no
model class. Each kind of model describes itself and registers how it is rebuilt:

* an object that can be saved has a method ``_fmlp_payload() -> (description, tensors)``
  (the description names its kind in ``description["kind"]``);
* its class registers ``register_kind(kind, from_payload)``, where
  ``from_payload(description, tensors, where)`` returns the rebuilt object and raises
  :class:`~fastmlp.errors.FormatError` (naming ``where``) for whatever does not fit.

``Sequential`` registers itself in ``fastmlp.model``; the estimators register in
``fastmlp.estimators``. Loading rebuilds the model, then recomputes the golden input stored at
save time, and last confirms the content digest (a SHA-256 over the whole description and every
tensor, see fileformat): a file that loads is the file that was saved and predicts what it did.
"""
from __future__ import annotations

import os
from typing import Any, Callable, Protocol

import numpy as np

from . import _core, fileformat
from .errors import FormatError

__all__ = ["GOLDEN_ROWS", "GOLDEN_TOLERANCE", "check_golden", "from_payload", "is_registered",
           "model_from_bytes", "model_from_payload", "model_to_bytes", "network_description", "network_tensors",
           "register_kind", "restore_training", "save_model", "training_description", "training_tensors"]

GOLDEN_ROWS = 4
# Same engine, same weights: predictions agree to rounding. Another build (other SIMD
# width, other compiler) may reorder sums, so allow a few ulps of the output's scale.
GOLDEN_TOLERANCE = {"float32": 1e-4, "float64": 1e-10}

Description = dict[str, Any]
Tensors = dict[str, np.ndarray]
# A model arrives here as Any: this module sits below the model classes and imports none of them.
FromPayload = Callable[[Description, Tensors, str], Any]
_KINDS: dict[str, FromPayload] = {}


class Savable(Protocol):
    def _fmlp_payload(self, **options: Any) -> tuple[Description, Tensors]: ...


def register_kind(kind: str, from_payload: FromPayload) -> None:
    """Teach loading a model kind: ``from_payload(description, tensors, where)`` rebuilds it."""
    _KINDS[kind] = from_payload


def is_registered(kind: str) -> bool:
    return kind in _KINDS


def network_description(model: Any, kind: str = "Sequential") -> Description:
    """The JSON description of a built Sequential (fileformat's schema, its current version)."""
    return {
        "format": fileformat.FORMAT_NAME,
        "format_version": fileformat.FORMAT_VERSION,
        "library_version": _core.__version__,
        "kind": kind,
        "dtype": np.dtype(model.dtype).name,
        "input_dim": int(model.engine.input_dim),
        "layers": [layer.get_config() for layer in model.layers],
        "loss": model.loss,
        "seed": int(model.seed),
        "optimizer": None if model.optimizer is None else model.optimizer.get_config(),
        "name": model.name,
        "metadata": dict(model.metadata),
        "training": training_description(model.engine),
    }


def network_tensors(model: Any, include_optimizer: bool = False) -> Tensors:
    """Weights, biases, preprocessing and a golden input with its prediction, of a built Sequential;
    with include_optimizer, also the optimiser's state vectors (training_tensors)."""
    # One copy taken between two training steps: while another thread trains the model, every
    # tensor and the golden output below still come from the same weights.
    network = model.engine.copy()
    tensors: Tensors = {}
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
    features = golden if model.preprocessing is None else model.preprocessing.transform(golden.astype(np.float64))
    tensors["golden.output"] = network.predict(np.ascontiguousarray(features, dtype=model.dtype))
    if include_optimizer and model.optimizer is not None:
        tensors.update(training_tensors(network))
    return tensors


# The training state beyond the parameters (fileformat's "training" entry and optimizer.*
# tensors): the optimiser's vectors and step count and the shuffling generator's position, all
# that a later epoch depends on besides the weights. A model saved, pickled or shipped to a Dask
# worker with them resumes training exactly where it stopped.
def training_description(network: Any) -> dict[str, Any]:
    """The description's "training" entry: the optimiser's step count and the shuffling generator."""
    _, _, steps = network.get_optimizer_state()
    return {"optimizer_steps": int(steps),
            "shuffle_state": [f"{word:016x}" for word in network.get_shuffle_state()]}


def training_tensors(network: Any) -> Tensors:
    """optimizer.first (SGD's velocity or Adam's first moment) and, for Adam, optimizer.second."""
    first, second, _ = network.get_optimizer_state()
    tensors = {fileformat.OPTIMIZER_FIRST: first}
    if second.size:
        tensors[fileformat.OPTIMIZER_SECOND] = second
    return tensors


def restore_training(network: Any, description: Description, tensors: Tensors, where: str) -> None:
    """Put a checked file's training state into the network just rebuilt from it (with the optimiser
    the description names); a file without it leaves the fresh state."""
    training = description.get("training")
    if training is None:
        return
    network.set_shuffle_state([int(word, 16) for word in training["shuffle_state"]])
    if fileformat.OPTIMIZER_FIRST not in tensors:
        return
    first = tensors[fileformat.OPTIMIZER_FIRST]
    second = tensors.get(fileformat.OPTIMIZER_SECOND, np.empty(0, dtype=first.dtype))
    try:
        network.set_optimizer_state(first, second, training["optimizer_steps"])
    except ValueError as error:
        raise FormatError(f"{where}: the optimiser state in the file does not fit the optimiser it names "
                          f"({description.get('optimizer')!r}): {error}") from error


def check_golden(model: Any, tensors: Tensors, dtype: str, where: str) -> None:
    """Refuse a rebuilt model that does not reproduce the prediction stored with it."""
    if "golden.input" not in tensors:
        # fastmlp always writes them; without them nothing vouches for the weights.
        raise FormatError(f"{where}: the file has no golden input and output (tensors 'golden.input' and "
                          "'golden.output'), so its predictions cannot be checked; fastmlp always writes them")
    expected = tensors["golden.output"]
    with np.errstate(all="ignore"):  # edited weights may overflow: the comparison below refuses them
        found = model.predict(tensors["golden.input"])
        scale = max(1.0, float(np.max(np.abs(expected))))
        error = float(np.max(np.abs(found.astype(np.float64) - expected)))
    if not error <= GOLDEN_TOLERANCE[dtype] * scale:
        raise FormatError(f"{where}: the loaded model does not reproduce the prediction stored with it "
                          f"(largest difference {error:.3g}); the file is corrupt or was edited")


def save_model(obj: Savable, path: str | os.PathLike[str], **options: Any) -> None:
    """Write obj._fmlp_payload(**options) to a .fmlp file."""
    description, tensors = obj._fmlp_payload(**options)
    fileformat.save(path, description, tensors, with_digest=True)


def model_to_bytes(obj: Savable, **options: Any) -> bytes:
    """The bytes of obj._fmlp_payload(**options) as a .fmlp file (pickling)."""
    description, tensors = obj._fmlp_payload(**options)
    return fileformat.to_bytes(description, tensors, with_digest=True)


def from_payload(description: Description, tensors: Tensors, where: str) -> Any:
    """Rebuild the object of a checked description and its tensors, by its registered kind.

    Whatever goes wrong while a kind rebuilds itself from file content is the file's fault: it
    raises FormatError with a bounded message, never another exception (ImportError of a missing
    extra excepted, which names the extra).
    """
    kind = description["kind"]
    if kind not in _KINDS:
        raise FormatError(f"{where}: unknown model kind {fileformat.quoted(kind)}")
    try:
        return _KINDS[kind](description, tensors, where)
    except FormatError as error:
        message = str(error)
        if fileformat.bounded(message) == message:
            raise
        raise FormatError(fileformat.bounded(message)) from error.__cause__
    except ImportError:
        raise
    except Exception as error:  # noqa: BLE001 - the boundary between file content and the models
        raise FormatError(f"{where}: the file does not make a valid {kind} "
                          f"({type(error).__name__}: {fileformat.bounded(str(error))})") from error


def model_from_payload(payload: fileformat.Payload, where: str) -> Any:
    """The rebuilt model, once its content digest is confirmed (after the rebuild, so that the
    problem a model finds in edited content is the one named)."""
    model = from_payload(payload.description, payload.tensors, where)
    payload.confirm(where)
    return model


def model_from_bytes(data: bytes) -> Any:
    """The object whose model_to_bytes() these are (pickling); its kind must be registered."""
    return model_from_payload(fileformat.payload_from_bytes(data), "model bytes")
