"""Digests of source code, so that every stored entry is keyed by the code that produced it: an edited
checkout, check or plugin (a changed constant included) never reads what older code wrote, and no
version number has to be bumped by hand."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import xxhash

_ENGINE: str | None = None
_FOLDERS: dict[str, str] = {}


def engine_digest() -> str:
    """xxh3 of the engine's own source (every .py file of the `auditor` package), computed once per process."""
    global _ENGINE
    if _ENGINE is None:
        digest = xxhash.xxh3_64()
        package = Path(__file__).resolve().parent.parent
        for path in sorted(package.rglob("*.py")):
            try:
                digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
            except OSError:
                digest.update(path.name.encode())
        _ENGINE = digest.hexdigest()
    return _ENGINE


def class_digest(cls: type) -> str:
    """xxh3 of the folder of the file defining a check class (its helpers in the same folder included)."""
    import inspect

    try:
        return folder_digest(inspect.getsourcefile(cls) or "")
    except TypeError:
        return f"{cls.__module__}.{cls.__qualname__}"


def code_digest(function: Callable[..., Any]) -> str:
    """xxh3 of the folder of the file defining `function` (a check's artefact builder)."""
    code = getattr(function, "__code__", None)
    return folder_digest(code.co_filename) if code is not None else type(function).__qualname__


def folder_digest(source_file: str) -> str:
    """xxh3 of every .py file beside `source_file` (names and bytes), computed once per process."""
    folder = str(Path(source_file).resolve().parent)
    if folder not in _FOLDERS:
        digest = xxhash.xxh3_64()
        try:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(folder.encode())
        _FOLDERS[folder] = digest.hexdigest()
    return _FOLDERS[folder]
