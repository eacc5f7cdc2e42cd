"""A Sequential rebuilt from a model file's payload, and its pickled state (copy, joblib, Dask)."""
from __future__ import annotations

from typing import Any

import numpy as np

from . import optimizers, serialization
from .datasets.preprocessing import Standardizer
from .datasets.schema import TableSchema
from .errors import FormatError
from .layers import Dense
from .losses import Huber


def from_payload(cls: Any, description: dict, tensors: dict, where: str) -> Any:
    """Rebuild a model from a checked description and its tensors; FormatError if they do not fit."""
    try:
        layers = [Dense(spec["units"], activation=spec["activation"],
                        negative_slope=spec.get("negative_slope", 0.01),
                        initializer=spec.get("initializer", "auto"),
                        dropout=spec.get("dropout", 0.0)) for spec in description["layers"]]
        model = cls(layers, input_dim=description["input_dim"], dtype=description["dtype"],
                    seed=description.get("seed") or 0, name=description.get("name"))
        if description.get("loss"):
            model.compile(loss=loss_of(description["loss"], description.get("huber_delta", 1.0)),
                          optimizer=description.get("optimizer") or "sgd")
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
    if "table" in description:
        model.table = TableSchema.from_description(description["table"], model.preprocessing)
    serialization.check_golden(model, tensors, description["dtype"], where)
    serialization.restore_training(model.engine, description, tensors, where)
    return model


def loss_of(name: str, huber_delta: float) -> Any:
    """What compile() takes for a loss saved as its name and Huber's delta."""
    return Huber(huber_delta) if name == "huber" else name


def get_state(model: Any) -> dict:
    if not model.built:
        # No weights yet: the architecture and compile settings are all there is to keep
        # (copy.deepcopy and joblib reach here before fit as well).
        return {"config": {"layers": [layer.get_config() for layer in model.layers],
                           "dtype": np.dtype(model.dtype).name, "seed": model.seed, "name": model.name,
                           "loss": model.loss, "huber_delta": model.huber_delta,
                           "optimizer": None if model.optimizer is None else model.optimizer.get_config(),
                           "preprocessing": model.preprocessing, "metadata": model.metadata}}
    # The file's bytes, plus the optimiser's state that a default file leaves out: a pickled
    # model (shipped to another process, say) trains on exactly where it stopped.
    return {"fmlp": serialization.model_to_bytes(model), "optimizer_state": model.engine.get_optimizer_state()}


def set_state(model: Any, state: dict) -> None:
    if "config" in state:
        config = state["config"]
        restored = type(model)([Dense(**spec) for spec in config["layers"]], dtype=config["dtype"],
                               seed=config["seed"], name=config["name"])
        if config["loss"] is not None:
            restored.compile(loss=loss_of(config["loss"], config.get("huber_delta", 1.0)),
                             optimizer=config["optimizer"])
        restored.preprocessing = config["preprocessing"]
        restored.metadata = config["metadata"]
    else:
        restored = serialization.model_from_bytes(state["fmlp"])
        if "optimizer_state" in state:
            restored.engine.set_optimizer_state(*state["optimizer_state"])
    model.__dict__.update(restored.__dict__)
    for layer in model.layers:
        layer._model = model


def snapshot(model: Any) -> Any:
    """An independent Sequential with the same layers, settings and a copy of the engine (its
    weights, optimiser state and generators), taken between two training steps: cheap, as the
    copy is made in C++."""
    copy = type(model)([Dense(**layer.get_config()) for layer in model.layers], dtype=np.dtype(model.dtype).name,
                       seed=model.seed, name=model.name)
    copy.loss, copy.huber_delta, copy.metrics = model.loss, model.huber_delta, list(model.metrics)
    copy.optimizer = None if model.optimizer is None else optimizers.get(model.optimizer.get_config())
    copy.preprocessing, copy.metadata, copy.table = model.preprocessing, dict(model.metadata), model.table
    copy._adopt_engine(model.engine.copy())
    return copy
