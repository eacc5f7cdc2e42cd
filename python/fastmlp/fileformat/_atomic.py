"""Atomic writing: a temporary file in the target's folder, flushed, then renamed over the target.

A temporary file is named ``.<target name>.<12 hex digits>.fastmlp-tmp`` and its writer holds an
exclusive ``flock`` on it from creation until after the rename. A writer killed with SIGKILL
leaves its file behind but not its lock (the kernel drops locks with the process), so the next
save to the same target removes every such file whose lock it can take: never one of another
target (the name must match this target's exactly), never one a live process is writing (it
holds the lock). Where ``flock`` does not exist, nothing is cleaned up.

Earlier fastmlp named its temporary files ``.<target name>.<12 hex digits>.tmp`` and took no lock:
such a file is removed only once nothing has written to it for LEGACY_TEMP_AGE seconds, since a
live writer of that older code cannot be told apart by its lock.
"""
from __future__ import annotations

import contextlib
import os
import re
import secrets
import stat
import time

try:
    import fcntl
except ImportError:  # not POSIX: no locks, no clean-up of stale temporary files
    fcntl = None  # type: ignore[assignment]

TEMP_SUFFIX = ".fastmlp-tmp"
LEGACY_TEMP_SUFFIX = ".tmp"
LEGACY_TEMP_AGE = 3600.0
_LOCK_FREE_OPEN = (os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
                   | getattr(os, "O_NOCTTY", 0) | getattr(os, "O_CLOEXEC", 0))


def path_as_text(path: str | os.PathLike[str] | bytes) -> str:
    """The path as text (bytes paths decoded as the file system does)."""
    path = os.fspath(path)
    return os.fsdecode(path) if isinstance(path, bytes) else path


def _temporary_pattern(base_name: str, suffix: str = TEMP_SUFFIX) -> re.Pattern[str]:
    return re.compile(rf"\.{re.escape(base_name)}\.[0-9a-f]{{12}}{re.escape(suffix)}")


def _same_file(path: str, info: os.stat_result) -> bool:
    try:
        current = os.lstat(path)
    except OSError:
        return False
    return (current.st_dev, current.st_ino) == (info.st_dev, info.st_ino)


def _try_lock(descriptor: int) -> bool:
    if fcntl is None:
        return True
    try:
        fcntl.flock(descriptor, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        return False
    return True


def _open_temporary(directory: str, base_name: str) -> tuple[int, str]:
    """Create and lock a new temporary file; (descriptor, path)."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        temp_path = os.path.join(directory, f".{base_name}.{secrets.token_hex(6)}{TEMP_SUFFIX}")
        try:
            descriptor = os.open(temp_path, flags, 0o666)
        except FileExistsError:
            continue
        # Between our open and our lock, another save's clean-up may have taken the file for a
        # dead writer's and removed it: then we do not own that path, so start again.
        if _try_lock(descriptor) and _same_file(temp_path, os.fstat(descriptor)):
            return descriptor, temp_path
        os.close(descriptor)
    raise FileExistsError(f"could not create a temporary file in {directory!r}")


def _remove_if_abandoned(path: str, min_age: float = 0.0) -> None:
    try:
        descriptor = os.open(path, _LOCK_FREE_OPEN)
    except OSError:
        return
    try:
        info = os.fstat(descriptor)
        old_enough = time.time() - info.st_mtime >= min_age
        # Held while unlinking: no writer can own the file between our check and the unlink.
        if stat.S_ISREG(info.st_mode) and old_enough and _try_lock(descriptor) and _same_file(path, info):
            os.unlink(path)
    except OSError:
        pass
    finally:
        os.close(descriptor)


def remove_stale_temporaries(directory: str, base_name: str) -> None:
    """Remove the temporary files of earlier saves to this target whose writers are gone."""
    if fcntl is None:
        return
    try:
        names = os.listdir(directory)
    except OSError:
        return
    pattern = _temporary_pattern(base_name)
    legacy_pattern = _temporary_pattern(base_name, LEGACY_TEMP_SUFFIX)
    for name in names:
        if pattern.fullmatch(name):
            _remove_if_abandoned(os.path.join(directory, name))
        elif legacy_pattern.fullmatch(name):
            _remove_if_abandoned(os.path.join(directory, name), LEGACY_TEMP_AGE)


def _fsync_directory(directory: str) -> None:
    # Makes the rename durable on POSIX; not possible (nor needed) everywhere.
    with contextlib.suppress(OSError):
        descriptor = os.open(directory, os.O_RDONLY)
        try:
            os.fsync(descriptor)
        finally:
            os.close(descriptor)


def _write_all(descriptor: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        written = os.write(descriptor, view)
        view = view[written:]


def write_atomically(path_text: str, data: bytes) -> None:
    """Write data to path_text; on any failure the temporary file goes and a previous file stays.

    Through a symlink, the file it points to is replaced and the link kept.
    """
    target = os.path.realpath(path_text)
    directory, base_name = os.path.split(target)
    remove_stale_temporaries(directory, base_name)
    descriptor, temp_path = _open_temporary(directory, base_name)
    try:
        try:
            with contextlib.suppress(OSError):
                # Keep the permissions of the file being replaced.
                os.chmod(temp_path, stat.S_IMODE(os.stat(target).st_mode))
            _write_all(descriptor, data)
            os.fsync(descriptor)
            os.replace(temp_path, target)
        finally:
            os.close(descriptor)  # the lock goes only now: after the rename, nothing is left to clean
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(temp_path)
        raise
    _fsync_directory(directory)
