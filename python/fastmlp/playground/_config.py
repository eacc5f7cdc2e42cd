"""The playground's settings, read from a request's JSON and checked against hard bounds.

Every size is bounded, so no request can make the server allocate more than a few
megabytes or train for long per step: at most MAX_SAMPLES points, MAX_LAYERS hidden
layers of at most MAX_UNITS units, a CSV of at most MAX_CSV_BYTES.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field

DATASETS = ("xor", "moons", "circles", "spirals", "blobs", "csv")
ACTIVATIONS = ("sigmoid", "tanh", "relu", "leaky_relu", "identity", "elu")
OPTIMIZERS = ("sgd", "adam")
MAX_SAMPLES = 2000
MIN_SAMPLES = 20
MAX_LAYERS = 6
MAX_UNITS = 32
MAX_CSV_BYTES = 256 * 1024
MAX_CLASSES = 6
MAX_SEED = 2**31 - 1


@dataclass(frozen=True)
class Config:
    dataset: str = "xor"
    n_samples: int = 200
    noise: float = 0.1
    validation_fraction: float = 0.3
    hidden: tuple = field(default=((4, "tanh"),))
    learning_rate: float = 0.05
    optimizer: str = "adam"
    batch_size: int = 16
    seed: int = 0
    csv: str | None = None


def parse_config(request) -> Config:
    """A Config from a decoded JSON object; ValueError naming the first bad field."""
    if not isinstance(request, dict):
        raise ValueError("the settings must be a JSON object")
    known = set(Config.__dataclass_fields__) | {"layers"}
    unknown = sorted(set(request) - known)
    if unknown:
        raise ValueError(f"unknown settings {unknown}; known: {sorted(known - {'hidden'})}")
    defaults = Config()
    dataset = _choice(request.get("dataset", defaults.dataset), "dataset", DATASETS)
    csv = request.get("csv")
    if dataset == "csv":
        if not isinstance(csv, str) or not csv.strip():
            raise ValueError("dataset 'csv' needs the file's text in 'csv' (a header row, two feature columns and "
                             "a label column)")
        if len(csv.encode("utf-8")) > MAX_CSV_BYTES:
            raise ValueError(f"the CSV is larger than {MAX_CSV_BYTES // 1024} KiB; the playground takes small files")
    else:
        csv = None
    return Config(
        dataset=dataset,
        n_samples=_integer(request.get("n_samples", defaults.n_samples), "n_samples", MIN_SAMPLES, MAX_SAMPLES),
        noise=_number(request.get("noise", defaults.noise), "noise", 0.0, 2.0),
        validation_fraction=_number(request.get("validation_fraction", defaults.validation_fraction),
                                    "validation_fraction", 0.1, 0.5),
        hidden=_layers(request.get("layers", [{"units": u, "activation": a} for u, a in defaults.hidden])),
        learning_rate=_number(request.get("learning_rate", defaults.learning_rate), "learning_rate", 1e-6, 10.0),
        optimizer=_choice(request.get("optimizer", defaults.optimizer), "optimizer", OPTIMIZERS),
        batch_size=_integer(request.get("batch_size", defaults.batch_size), "batch_size", 1, MAX_SAMPLES),
        seed=_integer(request.get("seed", defaults.seed), "seed", 0, MAX_SEED),
        csv=csv)


def _choice(value, name: str, allowed: tuple) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name} must be one of {', '.join(allowed)}, got {value!r}")
    return value


def _integer(value, name: str, low: int, high: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= high:
        raise ValueError(f"{name} must be an integer from {low} to {high}, got {value!r}")
    return value


def _number(value, name: str, low: float, high: float) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
            or not low <= value <= high:
        raise ValueError(f"{name} must be a number from {low:g} to {high:g}, got {value!r}")
    return float(value)


def _layers(value) -> tuple:
    if not isinstance(value, list) or len(value) > MAX_LAYERS:
        raise ValueError(f"layers must be a list of at most {MAX_LAYERS} hidden layers, got {value!r:.80}")
    layers = []
    for index, layer in enumerate(value):
        if not isinstance(layer, dict) or set(layer) != {"units", "activation"}:
            raise ValueError(f"layer {index} must be an object with 'units' and 'activation', got {layer!r:.80}")
        units = _integer(layer["units"], f"layer {index} units", 1, MAX_UNITS)
        layers.append((units, _choice(layer["activation"], f"layer {index} activation", ACTIVATIONS)))
    return tuple(layers)
