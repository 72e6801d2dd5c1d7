"""Packs: one entry per input file holding a value for each of its blocks of lines.

A pack is found by the file's path and what it holds (rows with their format settings, or an artefact
key), and lists the keys of the blocks it was made of: a block whose key is listed is served from it,
any other block is rebuilt. One entry per file and artefact, rather than one per block, because
reading an entry has a fixed cost (~0.5 ms) that a hundred blocks times a dozen artefacts would pay on
every edited re-run. An edit that leaves most blocks as they are writes only the new blocks, in a
delta entry beside the pack (one per pack, replaced at each edit); past DELTA_SHARE of the rows the
pack itself is rewritten for the file as it is now. Either way edits do not pile up stale entries.
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


# An edited file's pack is not rewritten while the blocks its base entry lacks hold at most this share
# of its rows: a delta entry beside it holds those blocks alone (an edited line of a 100,000-row file
# writes ~1 MB rather than the ~90 MB of all its packs again).
DELTA_SHARE = 0.25


class Pack:
    """A decoded pack: the value of a file's blocks, concatenated, and which rows belong to which block.

    `keys` and `header` are the file's as last stored; each block's rows come from the base entry or
    from the delta beside it (see `put_pack`), and `value` joins them only when asked for."""

    def __init__(self, keys: list[str], lines: list[int], header: dict[str, Any],
                 sources: list[tuple[Any, int]], base: tuple[str, frozenset[tuple[str, int]]] | None = None) -> None:
        self.keys = keys
        self.lines = lines
        self.header = header
        self.base = base  # (checksum, blocks) of the base entry, which a delta extends
        self._sources = sources  # (value, first row in it) of every block
        self._index: dict[tuple[str, int], tuple[int, int]] = {}
        at = 0
        for i, (key, count) in enumerate(zip(keys, lines)):
            self._index.setdefault((key, count), (i, at))
            at += count
        self._value: Any = None

    @property
    def value(self) -> Any:
        """The rows of every block, in order (the base entry's value itself when it holds them all)."""
        if self._value is None:
            whole = self._sources[0][0] if self._sources else None
            at = 0
            for (value, first), count in zip(self._sources, self.lines):
                if value is not whole or first != at:
                    break
                at += count
            else:
                if whole is not None and at == len(whole):
                    self._value = whole
                    return whole
            from .values import join_rows

            self._value = join_rows([_rows(value, first, count) for (value, first), count
                                     in zip(self._sources, self.lines)])
        return self._value

    def stored(self) -> list[Any]:
        """The values the blocks come from (the base entry's, and the delta's when there is one)."""
        return list({id(value): value for value, _ in self._sources}.values())

    def find(self, key: str, lines: int) -> tuple[int, int] | None:
        """(index in the pack, first row) of a block, or None when the pack does not hold it."""
        return self._index.get((key, lines))

    def part(self, key: str, lines: int) -> Any:
        """A block's slice of the value, or None."""
        found = self.find(key, lines)
        if found is None:
            return None
        value, first = self._sources[found[0]]
        return _rows(value, first, lines)


def _rows(value: Any, first: int, count: int) -> Any:
    return value.slice(first, count) if hasattr(value, "slice") else value[first : first + count]


def pack_name(kind: str, path: str, key: Any) -> str:
    """The entry name of a file's pack of `kind` ("rows", "artefact") for `key`."""
    owner = orjson.dumps([kind, os.path.realpath(path), __version__, engine_digest(), LAYOUT])
    return f"{xxhash.xxh3_128_hexdigest(owner + b'|' + canonical_key(key))}.pack"


def get_pack(cache: Cache, name: str) -> Pack | None:
    """The pack stored under `name` (with the delta beside it, when it extends this base), or None when it
    is absent, damaged or not row-aligned."""
    found = cache.get_value(name, count=False)
    if found is None:
        return None
    header, value = found
    blocks = _blocks(header)
    if blocks is None or sum(n for _, n in blocks) != len(value):
        return None
    sources, at = [], 0
    for _, count in blocks:
        sources.append((value, at))
        at += count
    base = (str(header.get("xxh3")), frozenset(blocks))
    pack = Pack([k for k, _ in blocks], [n for _, n in blocks], header, sources, base)
    delta = cache.get_value(_delta_name(name), count=False)
    if delta is not None and delta[0].get("base") == base[0]:
        return _extended(pack, *delta) or pack
    return pack


def _extended(base: Pack, header: dict[str, Any], value: Any) -> Pack | None:
    """The pack as the delta records it: its own blocks from its value, the others from the base."""
    blocks, own = _blocks(header), header.get("own")
    if blocks is None or not isinstance(own, list) or not all(isinstance(i, int) and 0 <= i < len(blocks) for i in own):
        return None
    own_set = set(own)
    if len(own_set) != len(own) or own != sorted(own) or sum(blocks[i][1] for i in own) != len(value):
        return None
    sources, at = [], 0
    for i, (key, count) in enumerate(blocks):
        if i in own_set:
            sources.append((value, at))
            at += count
            continue
        found = base.find(key, count)
        if found is None:
            return None
        sources.append(base._sources[found[0]])
    return Pack([k for k, _ in blocks], [n for _, n in blocks], header, sources, base.base)


def _blocks(header: dict[str, Any]) -> list[tuple[str, int]] | None:
    try:
        return [(str(k), int(n)) for k, n in header["blocks"]]
    except (KeyError, TypeError, ValueError):
        return None


def _delta_name(name: str) -> str:
    return name.removesuffix(".pack") + ".delta"


def put_pack(cache: Cache, name: str, blocks: list[Any], value: Any, header: dict[str, Any] | None = None,
             previous: Pack | None = None) -> None:
    """Store the value of a file's `blocks` (each with a `key` and a number of `lines`), in the background.

    With the `previous` pack read for this file: when the blocks its base entry lacks hold at most
    DELTA_SHARE of the rows, only they are written, as the delta beside the base; else the base is
    rewritten whole (and a delta of the base it replaced no longer applies)."""
    from .values import join_rows, split_rows

    header = {**(header or {}), "kind": "pack", "blocks": [[b.key, b.lines] for b in blocks]}
    if previous is not None and previous.base is not None:
        checksum, stored = previous.base
        own = [i for i, b in enumerate(blocks) if (b.key, b.lines) not in stored]
        if sum(blocks[i].lines for i in own) <= DELTA_SHARE * sum(b.lines for b in blocks):
            pieces = split_rows(value, [b.lines for b in blocks])
            if pieces is not None:
                rows = join_rows([pieces[i] for i in own]) if own else _rows(value, 0, 0)
                if rows is not None:
                    cache.put_value(_delta_name(name), rows, {**header, "base": checksum, "own": own},
                                    background=True)
                    return
    cache.put_value(name, value, header, background=True)
