"""Reading a model file's bytes: only a regular file, and only once its size fits its header."""
from __future__ import annotations

import os
import stat

from ._codec import check_file_size, check_framing
from ._schema import fail

# Never wait (a FIFO with no writer), never adopt a terminal, never leak the descriptor to a child.
_OPEN_FLAGS = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0)
               | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0))
_FILE_TYPES = ((stat.S_ISDIR, "a directory"), (stat.S_ISFIFO, "a FIFO (named pipe)"),
               (stat.S_ISCHR, "a character device"), (stat.S_ISBLK, "a block device"),
               (stat.S_ISSOCK, "a socket"))


def _refuse_unless_regular(mode: int, where: str) -> None:
    if stat.S_ISREG(mode):
        return
    what = next((name for test, name in _FILE_TYPES if test(mode)), "not a regular file")
    fail(where, f"not a regular file ({what}); a model file is a regular file")


def _read_exactly(descriptor: int, count: int, where: str) -> bytes:
    parts = []
    while count > 0:
        part = os.read(descriptor, min(count, 1 << 24))
        if not part:
            fail(where, "the file became shorter while it was being read")
        parts.append(part)
        count -= len(part)
    return b"".join(parts)


def read_model_bytes(path_text: str, where: str) -> bytes:
    """The whole file, read only after its size has been checked against its safetensors header.

    Raises FileNotFoundError (or another OSError) when the file cannot be opened, FormatError when
    it is not a regular file or its size is not the one its header gives.
    """
    _refuse_unless_regular(os.stat(path_text).st_mode, where)  # before opening: a FIFO would block
    descriptor = os.open(path_text, _OPEN_FLAGS)
    try:
        info = os.fstat(descriptor)
        _refuse_unless_regular(info.st_mode, where)  # the path may have changed since the stat
        total = info.st_size
        prefix = _read_exactly(descriptor, min(total, 16), where)
        header_len = check_framing(prefix, max(total, len(prefix)), where)
        head = prefix + _read_exactly(descriptor, 8 + header_len - len(prefix), where)
        # Refuse a size that does not fit before reading the data: it may be huge and not ours.
        check_file_size(head, total, where)
        data = head + _read_exactly(descriptor, total - len(head), where)
        if os.read(descriptor, 1):
            fail(where, "the file grew while it was being read")
        return data
    finally:
        os.close(descriptor)
