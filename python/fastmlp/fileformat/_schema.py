"""The schema of a .fmlp description and its tensors: the names, the checks, the expected layout.

Every check raises :class:`fastmlp.errors.FormatError` naming ``where`` and the problem.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any, NoReturn

import numpy as np

from ..errors import FormatError

if TYPE_CHECKING:  # typing.TypeGuard is Python 3.10+; annotations are never evaluated here
    from typing_extensions import TypeGuard

FORMAT_NAME = "fastmlp"
FORMAT_VERSION = 2
# From version 2 on a file must carry its content digest (_digest); version 1 files, written
# before the digest or while it was optional, load with it or without it.
DIGEST_REQUIRED_FROM_VERSION = 2
# The names a version-1 file may hold: the format's own vocabulary (a subset of the engine's
# name table, fastmlp._core.activation_names()/loss_names()), so that this module needs no
# engine. Names are only ever added: an older reader refuses a file holding a name it does not
# know with a FormatError, never misreads it.
ACTIVATIONS = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "silu",
    "exp",
    "softmax",
    "step",
)
LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "hinge", "perceptron", "mae", "huber", "poisson")
DTYPES = ("float32", "float64")

_REQUIRED_FIELDS = (
    "format",
    "format_version",
    "library_version",
    "kind",
    "dtype",
    "input_dim",
    "layers",
    "loss",
    "seed",
)
_PREPROCESSING_DTYPE = "float64"
# The training state beyond the parameters (optional; files without it load and restart the
# optimiser): description["training"] = {"optimizer_steps": t, "shuffle_state": [4 × 16 hex
# digits]}, and the optimiser's vectors over the flat parameters [W0, b0, W1, b1, ...].
OPTIMIZER_FIRST = "optimizer.first"    # SGD's velocity or Adam's first moment
OPTIMIZER_SECOND = "optimizer.second"  # Adam's second moment
_TRAINING_FIELDS = ("optimizer_steps", "shuffle_state")
_OPTIONAL_PAIRS = (
    ("golden.input", "golden.output"),
    ("preprocessing.mean", "preprocessing.scale"),
)
# A message never echoes unbounded file content: a problem is cut to this many characters,
# a value quoted in it to _MAX_QUOTED_CHARS.
MAX_PROBLEM_CHARS = 1000
_MAX_QUOTED_CHARS = 120
# fastmlp writes numbers of at most ~25 characters and JSON a few levels deep; far longer
# numbers or far deeper nesting are refused while parsing, before anything converts them
# (a 400-digit number overflows float(), a 600-deep list overflows recursion elsewhere).
MAX_NUMBER_CHARS = 64
MAX_JSON_DEPTH = 100


def bounded(text: str, limit: int = MAX_PROBLEM_CHARS) -> str:
    """text, cut to at most about limit characters with a note of how much was left out."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}... ({len(text) - limit} more characters)"


def fail(where: str, problem: str) -> NoReturn:
    raise FormatError(f"{where}: {bounded(problem)}")


def is_int(value: object) -> TypeGuard[int]:
    return isinstance(value, int) and not isinstance(value, bool)


def is_real(value: object) -> TypeGuard[int | float]:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def strict_json(text: str) -> Any:
    """Parse JSON refusing NaN/Infinity and duplicate keys (ValueError otherwise)."""

    def refuse_constant(name: str) -> NoReturn:
        raise ValueError(f"{name} is not allowed")

    def refuse_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"duplicate key {bounded(repr(key), _MAX_QUOTED_CHARS)}")
            obj[key] = value
        return obj

    try:
        value = json.loads(text, parse_constant=refuse_constant, parse_int=_parse_int,
                           parse_float=_parse_float, object_pairs_hook=refuse_duplicates)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None
    _check_depth(value)
    return value


def _check_number_length(text: str) -> None:
    if len(text) > MAX_NUMBER_CHARS:
        raise ValueError(f"a number of {len(text)} characters ({text[:20]}...); fastmlp writes "
                         f"numbers of at most {MAX_NUMBER_CHARS}")


def _parse_int(text: str) -> int:
    _check_number_length(text)
    return int(text)


def _parse_float(text: str) -> float:
    _check_number_length(text)
    value = float(text)
    if not math.isfinite(value):
        raise ValueError(f"the number {text} is out of the range of a float64")
    return value


def _check_depth(value: object) -> None:
    """Refuse JSON nested deeper than MAX_JSON_DEPTH (iteratively: no recursion to overflow)."""
    pending = [(value, 1)]
    while pending:
        item, depth = pending.pop()
        if depth > MAX_JSON_DEPTH:
            raise ValueError(f"JSON nested more than {MAX_JSON_DEPTH} levels deep")
        if isinstance(item, dict):
            pending.extend((child, depth + 1) for child in item.values())
        elif isinstance(item, list):
            pending.extend((child, depth + 1) for child in item)


def describe_value(value: object) -> str:
    return f"{bounded(repr(value), _MAX_QUOTED_CHARS)} ({type(value).__name__})"


def quoted(value: object) -> str:
    """repr(value), bounded: for names and values read from a file."""
    return bounded(repr(value), _MAX_QUOTED_CHARS)


def check_description(description: Any, where: str) -> None:
    """Check every field that fastmlp interprets; other keys pass through."""
    if not isinstance(description, dict):
        fail(where, f"the description must be a JSON object, found {type(description).__name__}")
    _check_format(description, where)
    _check_fields(description, where)
    _check_layers(description["layers"], where)
    if "training" in description:
        _check_training(description["training"], where)


def _check_format(description: dict[str, Any], where: str) -> None:
    if "format" not in description:
        fail(where, "the description has no 'format' field")
    if description["format"] != FORMAT_NAME:
        fail(where, f"unknown format name {quoted(description['format'])} (expected {FORMAT_NAME!r})")
    if "format_version" not in description:
        fail(where, "the description has no 'format_version' field")
    version = description["format_version"]
    if not is_int(version):
        fail(where, f"format_version must be an integer, found {describe_value(version)}")
    if version > FORMAT_VERSION:
        writer = description.get("library_version")
        by = f"library version {writer}, " if isinstance(writer, str) else ""
        fail(where, f"written by a newer fastmlp ({by}format version {version}); this "
                    f"fastmlp reads format versions up to {FORMAT_VERSION}: upgrade fastmlp")
    if version < 1:
        fail(where, f"format_version must be at least 1, found {version}")


def _check_fields(description: dict[str, Any], where: str) -> None:
    missing = [key for key in _REQUIRED_FIELDS if key not in description]
    if missing:
        fail(where, f"the description lacks the field(s) {', '.join(map(repr, missing))}")
    for key in ("library_version", "kind"):
        if not isinstance(description[key], str) or not description[key]:
            fail(where, f"{key!r} must be a non-empty string, found "
                        f"{describe_value(description[key])}")
    if description["dtype"] not in DTYPES:
        fail(where, f"dtype must be one of {', '.join(DTYPES)}, found "
                    f"{describe_value(description['dtype'])}")
    input_dim = description["input_dim"]
    if not is_int(input_dim) or input_dim < 1:
        fail(where, f"input_dim must be a positive integer, found {describe_value(input_dim)}")
    seed = description["seed"]
    if seed is not None and not is_int(seed):
        fail(where, f"seed must be an integer or null, found {describe_value(seed)}")
    loss = description["loss"]
    if loss is not None and loss not in LOSSES:
        fail(where, f"unknown loss {describe_value(loss)}; known losses: "
                    f"{', '.join(LOSSES)} (or null)")


def _check_layers(layers: object, where: str) -> None:
    if not isinstance(layers, list) or not layers:
        fail(where, f"layers must be a non-empty list, found {describe_value(layers)}")
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict):
            fail(where, f"layer {index} must be a JSON object, found {type(layer).__name__}")
        units = layer.get("units")
        if not is_int(units) or units < 1:
            fail(where, f"layer {index}: units must be a positive integer, found "
                        f"{describe_value(units)}")
        activation = layer.get("activation")
        if activation not in ACTIVATIONS:
            fail(where, f"layer {index} has unknown activation {describe_value(activation)}; "
                        f"known activations: {', '.join(ACTIVATIONS)}")
        if activation == "leaky_relu" and "negative_slope" not in layer:
            fail(where, f"layer {index} is leaky_relu but gives no negative_slope")
        if "negative_slope" in layer:
            slope = layer["negative_slope"]
            if not is_real(slope) or not math.isfinite(slope):
                fail(where, f"layer {index}: negative_slope must be a finite number, found "
                            f"{describe_value(slope)}")


def expected_layout(description: Mapping[str, Any], found_shapes: Mapping[str, tuple[int, ...]],
                    where: str) -> dict[str, tuple[str, tuple[int, ...], str]]:
    """Map every tensor name the description calls for to (dtype, shape).

    found_shapes (name -> shape tuple) decides which optional pairs are present and
    the golden sample count g; a half-present pair is refused here.
    """
    dtype = description["dtype"]
    layers = description["layers"]
    expected: dict[str, tuple[str, tuple[int, ...], str]] = {}
    n_in = description["input_dim"]
    for index, layer in enumerate(layers):
        n_out = layer["units"]
        expected[f"layers.{index}.W"] = (dtype, (n_in, n_out), f"n_in × n_out of layer {index}")
        expected[f"layers.{index}.b"] = (dtype, (n_out,), f"units of layer {index}")
        n_in = n_out

    for first, second in _OPTIONAL_PAIRS:
        present = [name for name in (first, second) if name in found_shapes]
        if len(present) == 1:
            absent = second if present[0] == first else first
            fail(where, f"{first} and {second} must both be present or both absent; "
                        f"found {present[0]} without {absent}")

    input_dim = description["input_dim"]
    if "golden.input" in found_shapes:
        shape = found_shapes["golden.input"]
        if len(shape) != 2 or shape[0] < 1 or shape[1] != input_dim:
            fail(where, f"tensor 'golden.input' has shape {shape}, expected (g, {input_dim}) "
                        f"with g >= 1 (golden samples × input_dim)")
        n_golden = shape[0]
        expected["golden.input"] = (dtype, (n_golden, input_dim), "golden samples × input_dim")
        expected["golden.output"] = (dtype, (n_golden, layers[-1]["units"]),
                                     "golden samples × units of the last layer")
    if "preprocessing.mean" in found_shapes:
        for name in ("preprocessing.mean", "preprocessing.scale"):
            expected[name] = (_PREPROCESSING_DTYPE, (input_dim,), "input_dim")
    expected.update(_optimizer_layout(description, found_shapes, where))
    return expected


def check_layout(description: Mapping[str, Any], found: Mapping[str, tuple[str, tuple[int, ...]]],
                 where: str) -> list[str]:
    """Check tensor names, dtypes and shapes; found maps name -> (dtype text, shape).

    Returns the tensor names in canonical order.
    """
    found_shapes = {name: shape for name, (_, shape) in found.items()}
    expected = expected_layout(description, found_shapes, where)
    missing = [name for name in expected if name not in found]
    if missing:
        fail(where, f"missing tensor(s) {', '.join(missing)}")
    unexpected = sorted(name for name in found if name not in expected)
    if unexpected:
        fail(where, f"unexpected tensor(s) {', '.join(map(repr, unexpected))}; the description "
                    f"calls for {', '.join(expected)}")
    for name, (dtype, shape, meaning) in expected.items():
        found_dtype, found_shape = found[name]
        if found_dtype != dtype:
            fail(where, f"tensor {name!r} has dtype {bounded(found_dtype, _MAX_QUOTED_CHARS)}, expected {dtype}"
                        + (" (the description's dtype)" if dtype == description["dtype"] else ""))
        if found_shape != shape:
            fail(where, f"tensor {name!r} has the wrong shape: expected {shape} ({meaning}), "
                        f"found {found_shape}")
    return list(expected)


def check_values(tensors: Mapping[str, np.ndarray], where: str) -> None:
    for name, array in tensors.items():
        finite = np.isfinite(array)
        if not finite.all():
            n_nan = int(np.isnan(array).sum())
            n_inf = int(array.size - finite.sum()) - n_nan
            fail(where, f"tensor {name!r} holds {n_nan} NaN and {n_inf} infinite value(s); "
                        f"model files hold only finite numbers")
    scale = tensors.get("preprocessing.scale")
    if scale is not None and not (scale > 0).all():
        fail(where, "tensor 'preprocessing.scale' must be positive everywhere, found "
                    f"{int((scale <= 0).sum())} value(s) <= 0")
    second = tensors.get(OPTIMIZER_SECOND)
    if second is not None and not (second >= 0).all():
        fail(where, f"tensor {OPTIMIZER_SECOND!r} (Adam's second moment) must be >= 0 everywhere, found "
                    f"{int((second < 0).sum())} negative value(s)")


def _check_training(training: object, where: str) -> None:
    if not isinstance(training, dict):
        fail(where, f"'training' must be a JSON object, found {describe_value(training)}")
    unknown = sorted(set(training) - set(_TRAINING_FIELDS))
    missing = [key for key in _TRAINING_FIELDS if key not in training]
    if unknown or missing:
        fail(where, f"'training' must have exactly the fields {', '.join(map(repr, _TRAINING_FIELDS))}")
    steps = training["optimizer_steps"]
    if not is_int(steps) or steps < 0:
        fail(where, f"training.optimizer_steps must be an integer >= 0, found {describe_value(steps)}")
    words = training["shuffle_state"]
    if (not isinstance(words, list) or len(words) != 4
            or not all(isinstance(word, str) and len(word) == 16 and all(c in "0123456789abcdef" for c in word)
                       for word in words)):
        fail(where, "training.shuffle_state must be a list of 4 strings of 16 lowercase hexadecimal digits")
    if all(int(word, 16) == 0 for word in words):
        fail(where, "training.shuffle_state must not be all zero (the generator would draw only zeros)")


def _optimizer_layout(description: Mapping[str, Any], found_shapes: Mapping[str, tuple[int, ...]],
                      where: str) -> dict[str, tuple[str, tuple[int, ...], str]]:
    present = [name for name in (OPTIMIZER_FIRST, OPTIMIZER_SECOND) if name in found_shapes]
    if not present:
        return {}
    if "training" not in description:
        fail(where, f"tensor(s) {', '.join(present)} need the description's 'training' entry "
                    "(the optimiser's step count)")
    if OPTIMIZER_FIRST not in present:
        fail(where, f"tensor {OPTIMIZER_SECOND!r} needs {OPTIMIZER_FIRST!r}")
    n_parameters, n_in = 0, description["input_dim"]
    for layer in description["layers"]:
        n_parameters += (n_in + 1) * layer["units"]
        n_in = layer["units"]
    return {name: (description["dtype"], (n_parameters,), "the number of parameters, weights and biases")
            for name in present}

