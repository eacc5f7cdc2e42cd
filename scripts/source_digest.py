"""Print a SHA-256 digest of everything a build of fastmlp is made from.

The build records it in the installed package (fastmlp._build_source.SOURCE_DIGEST), and
scripts/test compares it with the checkout's: equal digests mean the installed package was
built from this very tree, so it need not be compiled again.

    python scripts/source_digest.py [REPOSITORY] [--write MODULE.py]
"""
from __future__ import annotations

import hashlib
import os
import sys

# The build's inputs: the build configuration, the C++ sources and the Python package.
INPUTS = ("pyproject.toml", "CMakeLists.txt", "cpp", "python")
SKIPPED_SUFFIXES = (".pyc", ".pyo", ".so", ".pyd")


def build_inputs(root: str):
    for entry in INPUTS:
        path = os.path.join(root, entry)
        if os.path.isfile(path):
            yield entry
            continue
        for folder, subfolders, files in os.walk(path):
            subfolders[:] = sorted(d for d in subfolders if not d.startswith(".") and d != "__pycache__")
            for name in sorted(files):
                if not name.startswith(".") and not name.endswith(SKIPPED_SUFFIXES):
                    yield os.path.relpath(os.path.join(folder, name), root).replace(os.sep, "/")


def source_digest(root: str) -> str:
    digest = hashlib.sha256()
    for relative in build_inputs(root):
        with open(os.path.join(root, relative), "rb") as file:
            content = file.read()
        digest.update(f"{relative}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


def main(arguments: list) -> None:
    module = None
    if "--write" in arguments:
        at = arguments.index("--write")
        module = arguments[at + 1]
        del arguments[at:at + 2]
    root = arguments[0] if arguments else os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
    digest = source_digest(root)
    if module is None:
        print(digest)
        return
    with open(module, "w", encoding="utf-8") as file:
        file.write('"""Written by the build (scripts/source_digest.py): the source tree it was built from."""\n')
        file.write(f'SOURCE_DIGEST = "{digest}"\n')


if __name__ == "__main__":
    main(sys.argv[1:])
