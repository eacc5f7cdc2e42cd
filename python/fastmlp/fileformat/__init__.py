"""Reading and writing ``.fmlp`` model files.

A ``.fmlp`` file is a safetensors file. Its ``__metadata__`` holds exactly one key,
``"fastmlp"``, whose value is the JSON text of a *description* (a dict)::

    {"format": "fastmlp", "format_version": 2, "library_version": "0.1.0",
     "kind": "Sequential",                 # or an estimator class name
     "dtype": "float32" | "float64",
     "input_dim": d,
     "layers": [{"units": n_out, "activation": "relu"},
                {"units": n_out, "activation": "leaky_relu", "negative_slope": 0.01}, ...],
     "loss": one of LOSSES or null,
     "seed": int or null,
     ...}                                  # any other JSON keys are passed through

``negative_slope`` is required for ``leaky_relu`` layers and optional (a finite
number) elsewhere; other keys inside a layer are passed through.

Tensors, all C-contiguous:

    layers.<i>.W          (n_in, n_out)    description dtype; n_in of layer 0 is input_dim,
    layers.<i>.b          (n_out,)         of layer i > 0 the units of layer i-1
    golden.input          (g, input_dim)   description dtype, g >= 1  } both or neither
    golden.output         (g, n_last)      description dtype           }
    preprocessing.mean    (input_dim,)     always float64              } both or neither
    preprocessing.scale   (input_dim,)     always float64, > 0         }
    optimizer.first       (n_parameters,)  description dtype   } the training state, optional:
    optimizer.second      (n_parameters,)  description dtype, >= 0 } Adam's second moment only

The training state (optional; a file without it loads, and training then restarts the
optimiser) lets training resume bit for bit: ``description["training"] = {"optimizer_steps":
t, "shuffle_state": [four strings of 16 hex digits]}`` (the step count and the shuffling
generator's words), and the optimiser's vectors over the flat parameters [W0, b0, W1, b1, ...]
(SGD's velocity or Adam's first moment; Adam's second moment). The optimiser tensors need the
"training" entry.

Preprocessing tensors are float64 whatever the model dtype: they are statistics of
the raw inputs, applied before inputs are cast to the model dtype, and float64 keeps
them exactly as they were fitted. Every tensor must hold only finite values.

A model's description also holds a ``digest`` (``with_digest=True``, as every model
saves): a SHA-256 over the whole description and every tensor (see ``_digest``), checked
at load. Format version 2 makes it mandatory; only version 1 files (written before it) may
lack it, and are checked by their golden rows alone.

Loading never unpickles and never executes anything. Only a regular file is opened
(never waiting on a FIFO or a device); its size is checked against the safetensors
header before any tensor data is read; the header is parsed as JSON (numbers longer
than MAX_NUMBER_CHARS and nesting deeper than MAX_JSON_DEPTH refused), every field,
name, dtype and shape is checked against the description, and the values after.
Whatever does not fit raises :class:`fastmlp.errors.FormatError` with a bounded message
naming the problem. Saving runs the same checks first, then writes a temporary file in
the target's folder (through symlinks: the link stays, its target is replaced) and
renames it over the target, so a failed save never leaves a partial file; temporary
files of earlier saves to the same target killed before they finished are removed.
"""
from __future__ import annotations

import os
from collections.abc import Mapping
from typing import Any

import numpy as np

from ._atomic import path_as_text, write_atomically
from ._codec import MAX_HEADER_BYTES, decode, encode
from ._digest import Payload
from ._reading import read_model_bytes
from ._schema import (ACTIVATIONS, DTYPES, FORMAT_NAME, FORMAT_VERSION, LOSSES, OPTIMIZER_FIRST, OPTIMIZER_SECOND,
                      bounded, fail, quoted)

__all__ = [
    "FORMAT_VERSION",
    "FORMAT_NAME",
    "ACTIVATIONS",
    "LOSSES",
    "DTYPES",
    "MAX_HEADER_BYTES",
    "OPTIMIZER_FIRST",
    "OPTIMIZER_SECOND",
    "Payload",
    "bounded",
    "quoted",
    "to_bytes",
    "from_bytes",
    "save",
    "load",
    "payload_from_bytes",
    "read_payload",
]

def to_bytes(description: Mapping[str, Any], tensors: Mapping[str, np.ndarray], *,
             with_digest: bool = False) -> bytes:
    """Serialise a model to the bytes of a ``.fmlp`` file (used for pickling).

    Parameters
    ----------
    description : dict
        The JSON description (see the module docstring).
    tensors : dict of str -> ndarray
        ``layers.<i>.W`` of shape (n_in, n_out), ``layers.<i>.b`` of shape (n_out,),
        optionally ``golden.*`` and ``preprocessing.*``.
    with_digest : bool
        Add the content digest to the description written (models always do); without it,
        the description is written exactly as given.

    Returns
    -------
    bytes

    Raises
    ------
    FormatError
        If the description or tensors would not make a valid model file.
    """
    return encode(description, tensors, "cannot serialise model", with_digest=with_digest)


def from_bytes(data: bytes | bytearray | memoryview) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Parse the bytes of a ``.fmlp`` file.

    Parameters
    ----------
    data : bytes-like

    Returns
    -------
    description : dict
        Without its ``digest`` (checked here), as it was saved.
    tensors : dict of str -> ndarray
        Owned, writeable, C-contiguous arrays in canonical order (layers, golden,
        preprocessing).

    Raises
    ------
    FormatError
        If the bytes are not a valid fastmlp model.
    """
    where = "cannot read model bytes"
    payload = payload_from_bytes(data)
    payload.confirm(where)
    return payload.description, payload.tensors


def payload_from_bytes(data: bytes | bytearray | memoryview) -> Payload:
    """from_bytes, with the digest left to confirm (after the model is rebuilt, so that a problem
    the model finds is named before the digest says that something changed)."""
    if not isinstance(data, (bytes, bytearray, memoryview)):
        fail("cannot read model bytes", f"expected bytes, found {type(data).__name__}")
    return decode(bytes(data), "cannot read model bytes")


def load(path: str | os.PathLike[str]) -> tuple[dict[str, Any], dict[str, np.ndarray]]:
    """Read a ``.fmlp`` model file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    description : dict
        Without its ``digest`` (checked here), as it was saved.
    tensors : dict of str -> ndarray

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    FormatError
        If the file is not a valid fastmlp model; the message names the path and
        the problem.
    """
    payload = read_payload(path)
    payload.confirm(load_location(path))
    return payload.description, payload.tensors


def load_location(path: str | os.PathLike[str]) -> str:
    return f"cannot load model file '{path_as_text(path)}'"


def read_payload(path: str | os.PathLike[str]) -> Payload:
    """load, with the digest left to confirm (see payload_from_bytes)."""
    where = load_location(path)
    return decode(read_model_bytes(path_as_text(path), where), where)


def save(path: str | os.PathLike[str], description: Mapping[str, Any],
         tensors: Mapping[str, np.ndarray], *, with_digest: bool = False) -> None:
    """Write a ``.fmlp`` model file atomically.

    The model is checked as :func:`load` would check it, written to a temporary file
    in the same folder, flushed to disk and renamed over ``path``. On any failure the
    temporary file is removed and a previous file at ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
    description : dict
    tensors : dict of str -> ndarray
    with_digest : bool
        As for :func:`to_bytes`.

    Raises
    ------
    FormatError
        If the description or tensors would not make a valid model file.
    OSError
        If the file cannot be written.
    """
    path_text = path_as_text(path)
    data = encode(description, tensors, f"cannot save model file '{path_text}'", with_digest=with_digest)
    write_atomically(path_text, data)
