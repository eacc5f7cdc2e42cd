"""Reading and writing ``.fmlp`` model files.

A ``.fmlp`` file is a safetensors file. Its ``__metadata__`` holds exactly one key,
``"fastmlp"``, whose value is the JSON text of a *description* (a dict)::

    {"format": "fastmlp", "format_version": 1, "library_version": "0.1.0",
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

Preprocessing tensors are float64 whatever the model dtype: they are statistics of
the raw inputs, applied before inputs are cast to the model dtype, and float64 keeps
them exactly as they were fitted. Every tensor must hold only finite values.

Loading never unpickles and never executes anything: the header is parsed as
JSON, every field, name, dtype and shape is checked against the description before
any tensor data is read, and the values are checked after. Whatever does not fit
raises :class:`fastmlp.errors.FormatError` with a message naming the problem.
Saving runs the same checks first, then writes a temporary file in the target's
folder and renames it over the target, so a failed save never leaves a partial file.
"""

import contextlib
import json
import math
import os
import secrets
import stat
from collections.abc import Mapping

import numpy as np
import safetensors.numpy

from .errors import FormatError

__all__ = [
    "FORMAT_VERSION",
    "FORMAT_NAME",
    "ACTIVATIONS",
    "LOSSES",
    "DTYPES",
    "MAX_HEADER_BYTES",
    "to_bytes",
    "from_bytes",
    "save",
    "load",
]

FORMAT_NAME = "fastmlp"
FORMAT_VERSION = 1
ACTIVATIONS = (
    "identity",
    "sigmoid",
    "tanh",
    "relu",
    "leaky_relu",
    "elu",
    "softplus",
    "silu",
    "softmax",
    "step",
)
LOSSES = ("cross_entropy", "binary_cross_entropy", "mse", "hinge", "perceptron")
DTYPES = ("float32", "float64")
# safetensors itself refuses headers above 100 MB; checking first avoids reading them.
MAX_HEADER_BYTES = 100_000_000

_METADATA_KEY = "fastmlp"
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
_SAFETENSORS_DTYPES = {"F32": "float32", "F64": "float64"}
_PREPROCESSING_DTYPE = "float64"
_OPTIONAL_PAIRS = (
    ("golden.input", "golden.output"),
    ("preprocessing.mean", "preprocessing.scale"),
)
# Leading bytes of formats people may hand us by mistake, checked only once the bytes
# have failed to parse as safetensors (a safetensors header length may begin with 0x80).
_KNOWN_MAGIC = (
    (b"\x80", "a Python pickle (it starts with the pickle protocol byte 0x80); "
              "fastmlp never unpickles model files"),
    (b"PK\x03\x04", "a zip archive (such as .npz, a PyTorch .pt or a Keras .keras file)"),
    (b"PK\x05\x06", "an empty zip archive"),
    (b"\x93NUMPY", "a NumPy .npy file"),
    (b"\x89HDF\r\n\x1a\n", "an HDF5 file (such as a Keras .h5 file)"),
    (b"\x1f\x8b", "a gzip-compressed file"),
)


def _fail(where, problem):
    raise FormatError(f"{where}: {problem}")


def _is_int(value):
    return isinstance(value, int) and not isinstance(value, bool)


def _is_real(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def _strict_json(text):
    """Parse JSON refusing NaN/Infinity and duplicate keys (ValueError otherwise)."""

    def refuse_constant(name):
        raise ValueError(f"{name} is not allowed")

    def refuse_duplicates(pairs):
        obj = {}
        for key, value in pairs:
            if key in obj:
                raise ValueError(f"duplicate key {key!r}")
            obj[key] = value
        return obj

    try:
        return json.loads(text, parse_constant=refuse_constant,
                          object_pairs_hook=refuse_duplicates)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _describe_value(value):
    return f"{value!r} ({type(value).__name__})"


def _check_description(description, where):
    """Check every field that fastmlp interprets; other keys pass through."""
    if not isinstance(description, dict):
        _fail(where, f"the description must be a JSON object, found {type(description).__name__}")
    if "format" not in description:
        _fail(where, "the description has no 'format' field")
    if description["format"] != FORMAT_NAME:
        _fail(where, f"unknown format name {description['format']!r} (expected {FORMAT_NAME!r})")
    if "format_version" not in description:
        _fail(where, "the description has no 'format_version' field")
    version = description["format_version"]
    if not _is_int(version):
        _fail(where, f"format_version must be an integer, found {_describe_value(version)}")
    if version > FORMAT_VERSION:
        writer = description.get("library_version")
        by = f"library version {writer}, " if isinstance(writer, str) else ""
        _fail(where, f"written by a newer fastmlp ({by}format version {version}); this "
                     f"fastmlp reads format versions up to {FORMAT_VERSION}: upgrade fastmlp")
    if version < 1:
        _fail(where, f"format_version must be at least 1, found {version}")

    missing = [key for key in _REQUIRED_FIELDS if key not in description]
    if missing:
        _fail(where, f"the description lacks the field(s) {', '.join(map(repr, missing))}")
    for key in ("library_version", "kind"):
        if not isinstance(description[key], str) or not description[key]:
            _fail(where, f"{key!r} must be a non-empty string, found "
                         f"{_describe_value(description[key])}")
    if description["dtype"] not in DTYPES:
        _fail(where, f"dtype must be one of {', '.join(DTYPES)}, found "
                     f"{_describe_value(description['dtype'])}")
    input_dim = description["input_dim"]
    if not _is_int(input_dim) or input_dim < 1:
        _fail(where, f"input_dim must be a positive integer, found {_describe_value(input_dim)}")
    seed = description["seed"]
    if seed is not None and not _is_int(seed):
        _fail(where, f"seed must be an integer or null, found {_describe_value(seed)}")
    loss = description["loss"]
    if loss is not None and loss not in LOSSES:
        _fail(where, f"unknown loss {_describe_value(loss)}; known losses: "
                     f"{', '.join(LOSSES)} (or null)")

    layers = description["layers"]
    if not isinstance(layers, list) or not layers:
        _fail(where, f"layers must be a non-empty list, found {_describe_value(layers)}")
    for index, layer in enumerate(layers):
        if not isinstance(layer, dict):
            _fail(where, f"layer {index} must be a JSON object, found {type(layer).__name__}")
        units = layer.get("units")
        if not _is_int(units) or units < 1:
            _fail(where, f"layer {index}: units must be a positive integer, found "
                         f"{_describe_value(units)}")
        activation = layer.get("activation")
        if activation not in ACTIVATIONS:
            _fail(where, f"layer {index} has unknown activation {_describe_value(activation)}; "
                         f"known activations: {', '.join(ACTIVATIONS)}")
        if activation == "leaky_relu" and "negative_slope" not in layer:
            _fail(where, f"layer {index} is leaky_relu but gives no negative_slope")
        if "negative_slope" in layer:
            slope = layer["negative_slope"]
            if not _is_real(slope) or not math.isfinite(slope):
                _fail(where, f"layer {index}: negative_slope must be a finite number, found "
                             f"{_describe_value(slope)}")


def _expected_layout(description, found_shapes, where):
    """Map every tensor name the description calls for to (dtype, shape).

    found_shapes (name -> shape tuple) decides which optional pairs are present and
    the golden sample count g; a half-present pair is refused here.
    """
    dtype = description["dtype"]
    layers = description["layers"]
    expected = {}
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
            _fail(where, f"{first} and {second} must both be present or both absent; "
                         f"found {present[0]} without {absent}")

    input_dim = description["input_dim"]
    if "golden.input" in found_shapes:
        shape = found_shapes["golden.input"]
        if len(shape) != 2 or shape[0] < 1 or shape[1] != input_dim:
            _fail(where, f"tensor 'golden.input' has shape {shape}, expected (g, {input_dim}) "
                         f"with g >= 1 (golden samples × input_dim)")
        n_golden = shape[0]
        expected["golden.input"] = (dtype, (n_golden, input_dim), "golden samples × input_dim")
        expected["golden.output"] = (dtype, (n_golden, layers[-1]["units"]),
                                     "golden samples × units of the last layer")
    if "preprocessing.mean" in found_shapes:
        for name in ("preprocessing.mean", "preprocessing.scale"):
            expected[name] = (_PREPROCESSING_DTYPE, (input_dim,), "input_dim")
    return expected


def _check_layout(description, found, where):
    """Check tensor names, dtypes and shapes; found maps name -> (dtype text, shape).

    Returns the tensor names in canonical order.
    """
    found_shapes = {name: shape for name, (_, shape) in found.items()}
    expected = _expected_layout(description, found_shapes, where)
    missing = [name for name in expected if name not in found]
    if missing:
        _fail(where, f"missing tensor(s) {', '.join(missing)}")
    unexpected = sorted(name for name in found if name not in expected)
    if unexpected:
        _fail(where, f"unexpected tensor(s) {', '.join(map(repr, unexpected))}; the description "
                     f"calls for {', '.join(expected)}")
    for name, (dtype, shape, meaning) in expected.items():
        found_dtype, found_shape = found[name]
        if found_dtype != dtype:
            _fail(where, f"tensor {name!r} has dtype {found_dtype}, expected {dtype}"
                         + (" (the description's dtype)" if dtype == description["dtype"] else ""))
        if found_shape != shape:
            _fail(where, f"tensor {name!r} has the wrong shape: expected {shape} ({meaning}), "
                         f"found {found_shape}")
    return list(expected)


def _check_values(tensors, where):
    for name, array in tensors.items():
        finite = np.isfinite(array)
        if not finite.all():
            n_nan = int(np.isnan(array).sum())
            n_inf = int(array.size - finite.sum()) - n_nan
            _fail(where, f"tensor {name!r} holds {n_nan} NaN and {n_inf} infinite value(s); "
                         f"model files hold only finite numbers")
    scale = tensors.get("preprocessing.scale")
    if scale is not None and not (scale > 0).all():
        _fail(where, "tensor 'preprocessing.scale' must be positive everywhere, found "
                     f"{int((scale <= 0).sum())} value(s) <= 0")


def _array_dtype_text(array):
    dtype = array.dtype
    return dtype.name if dtype.isnative else f"{dtype.str} (non-native byte order)"


def _sniff(prefix):
    """Name a known non-fastmlp format from the leading bytes, or return None."""
    for magic, what in _KNOWN_MAGIC:
        if prefix.startswith(magic):
            return what
    head = prefix[:8]
    if len(head) == 8 and all(32 <= byte < 127 or byte in b"\t\n\r" for byte in head):
        return "a text file (CSV or JSON, perhaps)"
    return None


def _check_framing(prefix, total, where):
    """Check the 8-byte header length against the size; return the header length.

    prefix holds at least the first min(total, 16) bytes.
    """
    if total == 0:
        _fail(where, "empty (0 bytes)")
    header_len = int.from_bytes(prefix[:8], "little") if total >= 8 else None
    if (header_len is not None and 2 <= header_len <= MAX_HEADER_BYTES
            and 8 + header_len <= total and prefix[8:9] == b"{"):
        return header_len
    format_guess = _sniff(prefix)
    if format_guess is not None:
        _fail(where, f"not a fastmlp model file: it looks like {format_guess}")
    if header_len is None:
        _fail(where, f"too short to be a fastmlp model file ({total} bytes; a safetensors "
                     f"file starts with an 8-byte header length)")
    if header_len > MAX_HEADER_BYTES:
        _fail(where, f"not a fastmlp model file (or badly corrupted): its first 8 bytes give "
                     f"a header length of {header_len} bytes, more than the limit of "
                     f"{MAX_HEADER_BYTES}")
    if 8 + header_len > total:
        _fail(where, f"truncated: its header length is {header_len} bytes but "
                     f"only {total - 8} bytes follow the 8-byte length")
    _fail(where, "not a fastmlp model file: the safetensors header does not start with '{'")


def _parse_header(header_bytes, where):
    try:
        text = header_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        _fail(where, f"the header is not valid UTF-8 ({exc})")
    try:
        header = _strict_json(text)
    except ValueError as exc:
        _fail(where, f"the header is not valid JSON ({exc})")
    if not isinstance(header, dict):
        _fail(where, "the header is not a JSON object")
    return header


def _parse_description(header, where):
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or _METADATA_KEY not in metadata:
        _fail(where, "not a fastmlp model file: a safetensors file without fastmlp metadata "
                     "(no '__metadata__' entry 'fastmlp')")
    extra = sorted(key for key in metadata if key != _METADATA_KEY)
    if extra:
        _fail(where, f"unexpected metadata key(s) {', '.join(map(repr, extra))}; fastmlp files "
                     f"hold only {_METADATA_KEY!r}")
    text = metadata[_METADATA_KEY]
    if not isinstance(text, str):
        _fail(where, "the fastmlp metadata is not a string of JSON text")
    try:
        description = _strict_json(text)
    except ValueError as exc:
        _fail(where, f"the fastmlp metadata is not valid JSON ({exc})")
    _check_description(description, where)
    return description


def _header_layout(header, data_len, where):
    """Read name -> (dtype text, shape) from the header entries; refuse truncated data."""
    found = {}
    data_end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            _fail(where, f"the header entry for tensor {name!r} is not a JSON object")
        dtype = entry.get("dtype")
        shape = entry.get("shape")
        offsets = entry.get("data_offsets")
        if (not isinstance(dtype, str)
                or not isinstance(shape, list)
                or not all(_is_int(size) and size >= 0 for size in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(_is_int(offset) and offset >= 0 for offset in offsets)
                or offsets[0] > offsets[1]):
            _fail(where, f"the header entry for tensor {name!r} is malformed: {entry!r}")
        found[name] = (_SAFETENSORS_DTYPES.get(dtype, dtype), tuple(shape))
        data_end = max(data_end, offsets[1])
    if data_end > data_len:
        _fail(where, f"truncated: the tensor data should span {data_end} bytes "
                     f"after the header, but only {data_len} are present")
    return found


def _decode(data, where):
    """Parse and check model bytes; return (description, tensors)."""
    header_len = _check_framing(data[:16], len(data), where)
    header = _parse_header(data[8:8 + header_len], where)
    description = _parse_description(header, where)
    found = _header_layout(header, len(data) - 8 - header_len, where)
    names = _check_layout(description, found, where)
    try:
        raw = safetensors.numpy.load(bytes(data))
    except MemoryError:
        raise
    except Exception as exc:  # SafetensorError, or anything else the parser raises
        _fail(where, f"safetensors refused the data: {exc}")
    # Some safetensors versions return read-only views of the input bytes.
    tensors = {name: np.require(raw[name], requirements=("C_CONTIGUOUS", "WRITEABLE"))
               for name in names}
    _check_layout(description, {name: (_array_dtype_text(array), array.shape)
                                for name, array in tensors.items()}, where)
    _check_values(tensors, where)
    return description, tensors


def _encode(description, tensors, where):
    """Check and serialise a model; return the bytes of a .fmlp file."""
    if not isinstance(description, Mapping):
        _fail(where, f"the description must be a dict, found {type(description).__name__}")
    try:
        text = json.dumps(dict(description), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        _fail(where, f"the description is not JSON-serialisable ({exc})")
    # Check exactly what a reader will see after the JSON round trip.
    try:
        reread = _strict_json(text)
    except ValueError as exc:  # e.g. keys 1 and "1" both become "1"
        _fail(where, f"the description does not survive a JSON round trip ({exc})")
    _check_description(reread, where)
    if not isinstance(tensors, Mapping):
        _fail(where, f"tensors must be a dict of name -> numpy.ndarray, found "
                     f"{type(tensors).__name__}")
    for name, array in tensors.items():
        if not isinstance(name, str):
            _fail(where, f"tensor names must be strings, found {_describe_value(name)}")
        if not isinstance(array, np.ndarray):
            _fail(where, f"tensor {name!r} is a {type(array).__name__}, expected a numpy.ndarray")
    names = _check_layout(reread, {name: (_array_dtype_text(array), array.shape)
                                   for name, array in tensors.items()}, where)
    _check_values(tensors, where)
    # safetensors copies raw memory from the data pointer, so the arrays must be C-contiguous.
    contiguous = {name: np.ascontiguousarray(tensors[name]) for name in names}
    try:
        data = safetensors.numpy.save(contiguous, metadata={_METADATA_KEY: text})
    except MemoryError:
        raise
    except Exception as exc:
        _fail(where, f"safetensors could not serialise the tensors: {exc}")
    # Read the result back through the loader's checks: nothing invalid leaves here.
    _decode(data, where)
    return data


def to_bytes(description, tensors):
    """Serialise a model to the bytes of a ``.fmlp`` file (used for pickling).

    Parameters
    ----------
    description : dict
        The JSON description (see the module docstring).
    tensors : dict of str -> ndarray
        ``layers.<i>.W`` of shape (n_in, n_out), ``layers.<i>.b`` of shape (n_out,),
        optionally ``golden.*`` and ``preprocessing.*``.

    Returns
    -------
    bytes

    Raises
    ------
    FormatError
        If the description or tensors would not make a valid model file.
    """
    return _encode(description, tensors, "cannot serialise model")


def from_bytes(data):
    """Parse the bytes of a ``.fmlp`` file.

    Parameters
    ----------
    data : bytes-like

    Returns
    -------
    description : dict
    tensors : dict of str -> ndarray
        Owned, writeable, C-contiguous arrays in canonical order (layers, golden,
        preprocessing).

    Raises
    ------
    FormatError
        If the bytes are not a valid fastmlp model.
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        _fail("cannot read model bytes", f"expected bytes, found {type(data).__name__}")
    return _decode(bytes(data), "cannot read model bytes")


def _path_text(path):
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def load(path):
    """Read a ``.fmlp`` model file.

    Parameters
    ----------
    path : str or os.PathLike

    Returns
    -------
    description : dict
    tensors : dict of str -> ndarray

    Raises
    ------
    FileNotFoundError
        If there is no file at ``path``.
    FormatError
        If the file is not a valid fastmlp model; the message names the path and
        the problem.
    """
    path_text = _path_text(path)
    where = f"cannot load model file '{path_text}'"
    with open(path_text, "rb") as file:
        info = os.fstat(file.fileno())
        if not stat.S_ISREG(info.st_mode):
            _fail(where, "not a regular file")
        prefix = file.read(16)
        # Refuse before reading everything: the file may be huge and not ours at all.
        _check_framing(prefix, max(info.st_size, len(prefix)), where)
        data = prefix + file.read()
    return _decode(data, where)


def _open_temporary(directory, base_name):
    for _ in range(100):
        temp_path = os.path.join(directory, f".{base_name}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            return os.open(temp_path, flags, 0o666), temp_path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _fsync_directory(directory):
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def save(path, description, tensors):
    """Write a ``.fmlp`` model file atomically.

    The model is checked as :func:`load` would check it, written to a temporary file
    in the same folder, flushed to disk and renamed over ``path``. On any failure the
    temporary file is removed and a previous file at ``path`` is left untouched.

    Parameters
    ----------
    path : str or os.PathLike
    description : dict
    tensors : dict of str -> ndarray

    Raises
    ------
    FormatError
        If the description or tensors would not make a valid model file.
    OSError
        If the file cannot be written.
    """
    path_text = _path_text(path)
    data = _encode(description, tensors, f"cannot save model file '{path_text}'")
    directory = os.path.dirname(os.path.abspath(path_text))
    descriptor, temp_path = _open_temporary(directory, os.path.basename(path_text))
    try:
        try:
            with contextlib.suppress(OSError):
                # Keep the permissions of the file being replaced.
                os.chmod(temp_path, stat.S_IMODE(os.stat(path_text).st_mode))
            view = memoryview(data)
            while view:
                written = os.write(descriptor, view)
                view = view[written:]
            os.fsync(descriptor)
        finally:
            os.close(descriptor)
        os.replace(temp_path, path_text)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    _fsync_directory(directory)
