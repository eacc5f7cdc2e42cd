"""Atomic writing: a temporary file in the target's folder, flushed, then renamed over the target."""
from __future__ import annotations

import contextlib
import os
import secrets
import stat



def path_as_text(path: str | os.PathLike[str] | bytes) -> str:
    """The path as text (bytes paths decoded as the file system does)."""
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _open_temporary(directory: str, base_name: str) -> tuple[int, str]:
    for _ in range(100):
        temp_path = os.path.join(directory, f".{base_name}.{secrets.token_hex(6)}.tmp")
        flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
        try:
            return os.open(temp_path, flags, 0o666), temp_path
        except FileExistsError:
            continue
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def write_atomically(path_text: str, data: bytes) -> None:
    """Write data to path_text; on any failure the temporary file goes and a previous file stays."""
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
