"""Bytes to and from (description, tensors): the safetensors framing, the header, the checks in order.

Loading parses the header as JSON and checks every field, name, dtype and shape before any
tensor data is read, and the values after; saving runs the same checks, then reads its own
result back through the loader's.
"""
from __future__ import annotations

import json
import math
from collections.abc import Mapping
from typing import Any, NamedTuple

import numpy as np
import safetensors.numpy

from ._digest import DIGEST_KEY, Payload, content_digest, seal, unseal
from ._schema import (DIGEST_REQUIRED_FROM_VERSION, check_description, check_layout, check_values, describe_value,
                      fail, is_int, quoted, strict_json)

# safetensors itself refuses headers above 100 MB; checking first avoids reading them.
MAX_HEADER_BYTES = 100_000_000
METADATA_KEY = "fastmlp"
_SAFETENSORS_DTYPES = {"F32": "float32", "F64": "float64"}
_ITEM_SIZES = {"float32": 4, "float64": 8}


class TensorEntry(NamedTuple):
    """A tensor as the safetensors header declares it (dtype text as fastmlp names it)."""

    dtype: str
    shape: tuple[int, ...]
    offsets: tuple[int, int]
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


def array_dtype_text(array: np.ndarray) -> str:
    dtype = array.dtype
    return dtype.name if dtype.isnative else f"{dtype.str} (non-native byte order)"


def sniff(prefix: bytes) -> str | None:
    """Name a known non-fastmlp format from the leading bytes, or return None."""
    for magic, what in _KNOWN_MAGIC:
        if prefix.startswith(magic):
            return what
    head = prefix[:8]
    if len(head) == 8 and all(32 <= byte < 127 or byte in b"\t\n\r" for byte in head):
        return "a text file (CSV or JSON, perhaps)"
    return None


def check_framing(prefix: bytes, total: int, where: str) -> int:
    """Check the 8-byte header length against the size; return the header length.

    prefix holds at least the first min(total, 16) bytes.
    """
    if total == 0:
        fail(where, "empty (0 bytes)")
    header_len = int.from_bytes(prefix[:8], "little") if total >= 8 else None
    if (header_len is not None and 2 <= header_len <= MAX_HEADER_BYTES
            and 8 + header_len <= total and prefix[8:9] == b"{"):
        return header_len
    format_guess = sniff(prefix)
    if format_guess is not None:
        fail(where, f"not a fastmlp model file: it looks like {format_guess}")
    if header_len is None:
        fail(where, f"too short to be a fastmlp model file ({total} bytes; a safetensors "
                    f"file starts with an 8-byte header length)")
    if header_len > MAX_HEADER_BYTES:
        fail(where, f"not a fastmlp model file (or badly corrupted): its first 8 bytes give "
                    f"a header length of {header_len} bytes, more than the limit of "
                    f"{MAX_HEADER_BYTES}")
    if 8 + header_len > total:
        fail(where, f"truncated: its header length is {header_len} bytes but "
                    f"only {total - 8} bytes follow the 8-byte length")
    fail(where, "not a fastmlp model file: the safetensors header does not start with '{'")


def parse_header(header_bytes: bytes, where: str) -> dict[str, Any]:
    try:
        text = header_bytes.decode("utf-8")
    except UnicodeDecodeError as exc:
        fail(where, f"the header is not valid UTF-8 (at byte {exc.start})")
    try:
        header = strict_json(text)
    except ValueError as exc:
        fail(where, f"the header is not valid JSON ({exc})")
    if not isinstance(header, dict):
        fail(where, "the header is not a JSON object")
    return header


def parse_description(header: Mapping[str, Any], where: str) -> dict[str, Any]:
    """The description in the header's metadata, parsed but not yet checked."""
    metadata = header.get("__metadata__")
    if not isinstance(metadata, dict) or METADATA_KEY not in metadata:
        fail(where, "not a fastmlp model file: a safetensors file without fastmlp metadata "
                    "(no '__metadata__' entry 'fastmlp')")
    extra = sorted(key for key in metadata if key != METADATA_KEY)
    if extra:
        fail(where, f"unexpected metadata key(s) {', '.join(map(repr, extra))}; fastmlp files "
                    f"hold only {METADATA_KEY!r}")
    text = metadata[METADATA_KEY]
    if not isinstance(text, str):
        fail(where, "the fastmlp metadata is not a string of JSON text")
    try:
        description: dict[str, Any] = strict_json(text)
    except ValueError as exc:
        fail(where, f"the fastmlp metadata is not valid JSON ({exc})")
    if not isinstance(description, dict):
        fail(where, f"the description must be a JSON object, found {type(description).__name__}")
    return description


def header_layout(header: Mapping[str, Any], data_len: int, where: str) -> dict[str, TensorEntry]:
    """Read name -> (dtype text, shape, data offsets) from the header entries.

    Refuses malformed entries, data that end before the entries do (truncated) and data that go on
    after them (safetensors refuses trailing bytes): the whole size is known from the header alone.
    """
    found = {}
    data_end = 0
    for name, entry in header.items():
        if name == "__metadata__":
            continue
        if not isinstance(entry, dict):
            fail(where, f"the header entry for tensor {quoted(name)} is not a JSON object")
        dtype = entry.get("dtype")
        shape = entry.get("shape")
        offsets = entry.get("data_offsets")
        if (not isinstance(dtype, str)
                or not isinstance(shape, list)
                or not all(is_int(size) and size >= 0 for size in shape)
                or not isinstance(offsets, list) or len(offsets) != 2
                or not all(is_int(offset) and offset >= 0 for offset in offsets)
                or offsets[0] > offsets[1]):
            fail(where, f"the header entry for tensor {quoted(name)} is malformed: {quoted(entry)}")
        found[name] = TensorEntry(_SAFETENSORS_DTYPES.get(dtype, dtype), tuple(shape), (offsets[0], offsets[1]))
        data_end = max(data_end, offsets[1])
    if data_end > data_len:
        fail(where, f"truncated: the tensor data should span {data_end} bytes "
                    f"after the header, but only {data_len} are present")
    if data_end < data_len:
        fail(where, f"safetensors refused the data: {data_len - data_end} byte(s) follow the last "
                    f"tensor (a safetensors file ends where its last tensor ends)")
    return found


def check_spans(entries: Mapping[str, TensorEntry], where: str) -> None:
    """safetensors' rule: tensors tile the data exactly, each as long as its dtype and shape make it."""
    position = 0
    for name, entry in sorted(entries.items(), key=lambda item: item[1].offsets):
        start, end = entry.offsets
        expected = _ITEM_SIZES[entry.dtype] * math.prod(entry.shape)
        if start != position or end - start != expected:
            fail(where, f"safetensors refused the data: tensor {quoted(name)} occupies bytes "
                        f"{start} to {end}, but a {entry.dtype} tensor of shape {entry.shape} "
                        f"takes {expected} bytes from byte {position}")
        position = end


def check_file_size(head: bytes, total: int, where: str) -> None:
    """Refuse a file whose size is not the one its header gives (head = the 8 length bytes + header)."""
    header_len = int.from_bytes(head[:8], "little")
    header_layout(parse_header(head[8:8 + header_len], where), total - 8 - header_len, where)


def decode(data: bytes, where: str) -> Payload:
    """Parse and check model bytes; return the payload (its digest still to be confirmed)."""
    header_len = check_framing(data[:16], len(data), where)
    header = parse_header(data[8:8 + header_len], where)
    entries = header_layout(header, len(data) - 8 - header_len, where)
    description, stored_digest = unseal(parse_description(header, where), where)
    check_description(description, where)
    names = check_layout(description, {name: (entry.dtype, entry.shape) for name, entry in entries.items()},
                         where)
    check_spans(entries, where)
    try:
        raw = safetensors.numpy.load(bytes(data))
    except MemoryError:
        raise
    except Exception as exc:  # SafetensorError, or anything else the parser raises
        fail(where, f"safetensors refused the data: {exc}")
    # Some safetensors versions return read-only views of the input bytes.
    tensors = {name: np.require(raw[name], requirements=("C_CONTIGUOUS", "WRITEABLE"))
               for name in names}
    check_layout(description, {name: (array_dtype_text(array), array.shape)
                               for name, array in tensors.items()}, where)
    check_values(tensors, where)
    return Payload(description, tensors, stored_digest, content_digest(description, tensors))


def encode(description: object, tensors: object, where: str, *, with_digest: bool = False) -> bytes:
    """Check and serialise a model; return the bytes of a .fmlp file.

    with_digest adds the content digest to the description written (see _digest); without it the
    description is written as given.
    """
    if not isinstance(description, Mapping):
        fail(where, f"the description must be a dict, found {type(description).__name__}")
    try:
        text = json.dumps(dict(description), allow_nan=False)
    except (TypeError, ValueError, RecursionError) as exc:
        fail(where, f"the description is not JSON-serialisable ({exc})")
    # Check exactly what a reader will see after the JSON round trip.
    try:
        reread = strict_json(text)
    except ValueError as exc:  # e.g. keys 1 and "1" both become "1"
        fail(where, f"the description does not survive a JSON round trip ({exc})")
    if with_digest:
        reread.pop(DIGEST_KEY, None)
    check_description(reread, where)
    if not with_digest and reread["format_version"] >= DIGEST_REQUIRED_FROM_VERSION and DIGEST_KEY not in reread:
        fail(where, f"a file of format version {reread['format_version']} carries its content digest: "
                    "write it with with_digest=True")
    if not isinstance(tensors, Mapping):
        fail(where, f"tensors must be a dict of name -> numpy.ndarray, found "
                    f"{type(tensors).__name__}")
    for name, array in tensors.items():
        if not isinstance(name, str):
            fail(where, f"tensor names must be strings, found {describe_value(name)}")
        if not isinstance(array, np.ndarray):
            fail(where, f"tensor {name!r} is a {type(array).__name__}, expected a numpy.ndarray")
    names = check_layout(reread, {name: (array_dtype_text(array), array.shape)
                                  for name, array in tensors.items()}, where)
    check_values(tensors, where)
    # safetensors copies raw memory from the data pointer, so the arrays must be C-contiguous.
    contiguous = {name: np.ascontiguousarray(tensors[name]) for name in names}
    if with_digest:
        text = json.dumps(seal(reread, contiguous), allow_nan=False)
    try:
        data: bytes = safetensors.numpy.save(contiguous, metadata={METADATA_KEY: text})
    except MemoryError:
        raise
    except Exception as exc:
        fail(where, f"safetensors could not serialise the tensors: {exc}")
    # Read the result back through the loader's checks: nothing invalid leaves here.
    decode(data, where).confirm(where)
    return data
