"""The content digest: a SHA-256 over the whole description and every tensor, written at save, checked at load.

The description written to a file holds, under ``"digest"``::

    {"sha256": "<64 lowercase hex digits>", "fields": ["classes", "dtype", ...]}

``fields`` lists every other top-level key the description had when it was saved, so the digest
covers the whole description whatever kinds add to it. The hash runs over a fixed prefix, the
canonical JSON of those fields (sorted keys, no spaces, ASCII), then each tensor in name order:
its name, dtype, shape and little-endian C-order bytes, every part preceded by its length, so no
two contents hash the same input. A key added to a file after it was saved is outside ``fields``:
the reader drops it, so it can change nothing.

Which files may lack it: those of format version 1 only, written before the digest existed (or
while it was optional) and checked by their golden rows alone. Every file of version 2 or later
must carry one, so deleting the digest from a file this fastmlp wrote is refused; calling such a
file version 1 as well changes a field the digest covers, refused in turn unless the digest is
deleted too, which makes two deliberate edits (a SHA-256 guards against corruption and careless
edits, not against a forger, who could as well recompute it).
"""
from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ._schema import DIGEST_REQUIRED_FROM_VERSION, FORMAT_VERSION, fail, is_int, quoted

DIGEST_KEY = "digest"
_PREFIX = b"fastmlp content digest 1\n"
_HEX = re.compile(r"[0-9a-f]{64}")


def _feed(hasher: Any, part: bytes) -> None:
    hasher.update(len(part).to_bytes(8, "little"))
    hasher.update(part)


def canonical_json(value: object) -> bytes:
    """One text for one JSON value: what the digest hashes of a description."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True,
                      allow_nan=False).encode("ascii")


def content_digest(fields: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> str:
    """SHA-256 (hex) of description fields and tensors, as the module docstring defines it."""
    hasher = hashlib.sha256(_PREFIX)
    _feed(hasher, canonical_json(dict(fields)))
    for name in sorted(tensors):
        array = np.ascontiguousarray(tensors[name])
        little = array.astype(array.dtype.newbyteorder("<"), copy=False)
        _feed(hasher, name.encode("utf-8"))
        _feed(hasher, little.dtype.name.encode("ascii"))
        _feed(hasher, canonical_json(list(little.shape)))
        _feed(hasher, little.tobytes())
    return hasher.hexdigest()


def seal(description: Mapping[str, Any], tensors: Mapping[str, np.ndarray]) -> dict[str, Any]:
    """A copy of description with its digest (any digest it held is replaced)."""
    fields = {key: value for key, value in description.items() if key != DIGEST_KEY}
    sealed = dict(fields)
    sealed[DIGEST_KEY] = {"sha256": content_digest(fields, tensors), "fields": sorted(fields)}
    return sealed


def unseal(description: Mapping[str, Any], where: str) -> tuple[dict[str, Any], str | None]:
    """(the covered description without its digest, the stored SHA-256 or None for older files)."""
    if DIGEST_KEY not in description:
        version = description.get("format_version")
        # (a newer version is refused by the schema check, with its own message)
        if is_int(version) and DIGEST_REQUIRED_FROM_VERSION <= version <= FORMAT_VERSION:
            fail(where, f"the description has no 'digest', which every file of format version "
                        f"{DIGEST_REQUIRED_FROM_VERSION} or later carries: it was removed or the file is corrupt")
        return dict(description), None
    digest = description[DIGEST_KEY]
    if (not isinstance(digest, dict) or set(digest) != {"sha256", "fields"}
            or not isinstance(digest["sha256"], str) or not _HEX.fullmatch(digest["sha256"])
            or not isinstance(digest["fields"], list)
            or not all(isinstance(key, str) and key != DIGEST_KEY for key in digest["fields"])
            or len(set(digest["fields"])) != len(digest["fields"])):
        fail(where, f"the description's 'digest' is malformed: {quoted(digest)}; fastmlp writes "
                    f"{{'sha256': <64 hex digits>, 'fields': [<the description's keys>]}}")
    covered = set(digest["fields"])
    return {key: value for key, value in description.items() if key in covered}, digest["sha256"]


@dataclass(frozen=True)
class Payload:
    """What a file holds once checked: its covered description, its tensors and the two digests."""

    description: dict[str, Any]
    tensors: dict[str, np.ndarray]
    stored_digest: str | None
    actual_digest: str

    def confirm(self, where: str) -> None:
        """Refuse content that is not what was saved (no digest: a file older than digests)."""
        if self.stored_digest is not None and self.stored_digest != self.actual_digest:
            fail(where, "its content is not what was saved: the SHA-256 digest over its description "
                        "and tensors does not match the one written with it; the file is corrupt or "
                        "was edited")
