"""Packs: one entry per input file holding a value for each of its blocks of lines.

A pack is found by the file's path and what it holds (rows with their format settings, or an artefact
key), and lists the keys of the blocks it was made of: a block whose key is listed is served from it,
any other block is rebuilt, and the pack is rewritten for the file as it is now. One entry per file
and artefact, rather than one per block, because reading an entry has a fixed cost (~0.5 ms) that a
hundred blocks times a dozen artefacts would pay on every edited re-run; and a file's pack replaces
its previous one, so edits do not pile up stale entries.
"""

from __future__ import annotations

import os
from typing import Any

import orjson
import xxhash

from ..version import __version__
from .code import engine_digest
from .entries import LAYOUT, Cache
from .values import canonical_key


class Pack:
    """A decoded pack: the value of a file's blocks, concatenated, and which rows belong to which block."""

    def __init__(self, keys: list[str], lines: list[int], value: Any, header: dict[str, Any]) -> None:
        self.keys = keys
        self.value = value
        self.header = header
        self._index: dict[tuple[str, int], tuple[int, int]] = {}
        at = 0
        for i, (key, count) in enumerate(zip(keys, lines)):
            self._index.setdefault((key, count), (i, at))
            at += count
        self._rows = at

    def aligned(self) -> bool:
        return len(self.value) == self._rows

    def find(self, key: str, lines: int) -> tuple[int, int] | None:
        """(index in the pack, first row) of a block, or None when the pack does not hold it."""
        return self._index.get((key, lines))

    def part(self, key: str, lines: int) -> Any:
        """A block's slice of the value, or None."""
        found = self.find(key, lines)
        if found is None:
            return None
        at = found[1]
        return self.value.slice(at, lines) if hasattr(self.value, "slice") else self.value[at : at + lines]


def pack_name(kind: str, path: str, key: Any) -> str:
    """The entry name of a file's pack of `kind` ("rows", "artefact") for `key`."""
    owner = orjson.dumps([kind, os.path.realpath(path), __version__, engine_digest(), LAYOUT])
    return f"{xxhash.xxh3_128_hexdigest(owner + b'|' + canonical_key(key))}.pack"


def get_pack(cache: Cache, name: str) -> Pack | None:
    """The pack stored under `name`, or None when it is absent, damaged or not row-aligned."""
    found = cache.get_value(name, count=False)
    if found is None:
        return None
    header, value = found
    try:
        pack = Pack([str(k) for k, _ in header["blocks"]], [int(n) for _, n in header["blocks"]], value, header)
    except (KeyError, TypeError, ValueError):
        return None
    return pack if pack.aligned() else None


def put_pack(cache: Cache, name: str, blocks: list[Any], value: Any, header: dict[str, Any] | None = None) -> None:
    """Store the value of a file's `blocks` (each with a `key` and a number of `lines`), in the background."""
    header = {**(header or {}), "kind": "pack", "blocks": [[b.key, b.lines] for b in blocks]}
    cache.put_value(name, value, header, background=True)
