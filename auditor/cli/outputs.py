"""Writing what a command produces: whole or not at all, and never over a file the command reads."""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path

from .app import fail


def write_output(path: str, text: str) -> None:
    """Write an output whole or not at all: a temporary file beside it, then renamed over it."""
    import os
    import tempfile

    if path == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as exc:
            fail(f"cannot write to standard output: {exc.strerror or exc}")
        return
    target = Path(path)
    temporary = None
    try:
        if target.exists() and not target.is_file():  # a device or a pipe: written to, never replaced
            with open(target, "w", encoding="utf-8") as out:
                out.write(text)
            return
        handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                                             prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        fail(f"{path}: cannot write: {exc.strerror or exc}")  # fail makes names printable
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def refuse_overwrites(outputs: list[str], protected: list[str]) -> None:
    """Exit 2 when an output path is an input, schema or config file (by any name: ./, symlinks, hard
    links), or when two outputs are one file: an audit never destroys what it reads."""
    import os

    def identity(path: str):
        try:
            info = os.stat(path)
            return ("inode", info.st_dev, info.st_ino)
        except OSError:
            return ("path", os.path.realpath(path))

    kept = {}
    for path in protected:
        if path and path != "-":
            kept[identity(path)] = path
    seen = {}
    for path in outputs:
        if path == "-":
            continue
        key = identity(path)
        if key in kept:
            fail(f"--output {path} would overwrite the input {kept[key]}")
        if key in seen:
            fail(f"--output {path} is given twice (also as {seen[key]})")
        seen[key] = path
