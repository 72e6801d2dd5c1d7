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
from collections.abc import Callable
from typing import Any

import orjson
import xxhash

from ..version import __version__
from .code import engine_digest
from .entries import LAYOUT, Cache, CacheMiss
from .values import canonical_key


# An edited file's pack is not rewritten while the blocks its base entry lacks hold at most this share
# of its rows: a delta entry beside it holds those blocks alone (an edited line of a 100,000-row file
# writes ~1 MB rather than the ~90 MB of all its packs again).
DELTA_SHARE = 0.25


class Pack:
    """A decoded pack: the value of a file's blocks, concatenated, and which rows belong to which block.

    `keys` and `header` are the file's as last stored; each block's rows come from the base entry or
    from the delta beside it (see `put_pack`), and `value` joins them only when asked for. The values
    are `stored` ones, or decoded on a second thread (`get_pack(..., decode_later=True)`) while the
    caller goes on with the keys: the first look at the rows waits for them, and raises CacheMiss when
    they turn out not to be what the header says."""

    def __init__(self, keys: list[str], lines: list[int], header: dict[str, Any],
                 sources: list[tuple[int, int]], stored: Any, base: tuple[str, frozenset[tuple[str, int]]] | None = None
                 ) -> None:
        self.keys = keys
        self.lines = lines
        self.header = header
        self.base = base  # (checksum, blocks) of the base entry, which a delta extends
        self._sources = sources  # (index into the stored values, first row in it) of every block
        self._stored = stored  # the values (base, then delta), or a Decoding of them
        self._index: dict[tuple[str, int], tuple[int, int]] = {}
        at = 0
        for i, (key, count) in enumerate(zip(keys, lines)):
            self._index.setdefault((key, count), (i, at))
            at += count
        self._value: Any = None

    def stored(self) -> list[Any]:
        """The values the blocks come from (the base entry's, and the delta's when there is one)."""
        if isinstance(self._stored, Decoding):
            self._stored = self._stored.result()
        return self._stored

    @property
    def value(self) -> Any:
        """The rows of every block, in order (the base entry's value itself when it holds them all)."""
        if self._value is None:
            stored = self.stored()
            at = 0
            for (slot, first), count in zip(self._sources, self.lines):
                if slot != 0 or first != at:
                    break
                at += count
            else:
                if stored and at == len(stored[0]):
                    self._value = stored[0]
                    return self._value
            from .values import join_rows

            self._value = join_rows([_rows(stored[slot], first, count) for (slot, first), count
                                     in zip(self._sources, self.lines)])
        return self._value

    def spans(self) -> list[tuple[Any, int, int]]:
        """(value, first row, rows) of every block, in order: where each block's rows are stored."""
        stored = self.stored()
        return [(stored[slot], first, count) for (slot, first), count in zip(self._sources, self.lines)]

    def span(self, key: str, lines: int) -> tuple[Any, int, int] | None:
        """(value, first row, rows) of a block, or None when the pack does not hold it."""
        found = self.find(key, lines)
        if found is None:
            return None
        slot, first = self._sources[found[0]]
        return self.stored()[slot], first, lines

    def find(self, key: str, lines: int) -> tuple[int, int] | None:
        """(index in the pack, first row) of a block, or None when the pack does not hold it."""
        return self._index.get((key, lines))

    def part(self, key: str, lines: int) -> Any:
        """A block's slice of the value, or None."""
        span = self.span(key, lines)
        return None if span is None else _rows(*span)


class Decoding:
    """Payloads being decoded on a second thread (polars and numpy let go of the GIL meanwhile);
    `result` waits for the values, each checked to hold `rows[i]` rows, else raises CacheMiss."""

    def __init__(self, payloads: list[tuple[str, Any]], rows: list[int], accept: Callable[[Any], bool]) -> None:
        import threading

        self._payloads, self._rows, self._accept = payloads, rows, accept
        self._values: list[Any] | None = None
        self._thread = threading.Thread(target=self._decode, name="auditor-decode", daemon=True)
        self._thread.start()

    def _decode(self) -> None:
        from .values import decode_value

        try:
            values = [decode_value(kind, payload) for kind, payload in self._payloads]
            if all(len(v) == n and self._accept(v) for v, n in zip(values, self._rows)):
                self._values = values
        except Exception:  # damaged past its checksum: a miss, said by result()
            self._values = None
        self._payloads = []

    def result(self) -> list[Any]:
        self._thread.join()
        if self._values is None:
            raise CacheMiss
        return self._values


def _rows(value: Any, first: int, count: int) -> Any:
    return value.slice(first, count) if hasattr(value, "slice") else value[first : first + count]


def pack_name(kind: str, path: str, key: Any) -> str:
    """The entry name of a file's pack of `kind` ("rows", "artefact") for `key`."""
    owner = orjson.dumps([kind, os.path.realpath(path), __version__, engine_digest(), LAYOUT])
    return f"{xxhash.xxh3_128_hexdigest(owner + b'|' + canonical_key(key))}.pack"


def get_pack(cache: Cache, name: str, *, decode_later: bool = False,
             accept: Callable[[Any], bool] = lambda value: True) -> Pack | None:
    """The pack stored under `name` (with the delta beside it, when it extends this base), or None when it
    is absent, damaged, not row-aligned or a value is not one `accept` takes. `decode_later`: the entries
    are read and checked now, their values decoded on a second thread (see Pack)."""
    base_entry = _entry(cache, name, decode_later)
    if base_entry is None:
        return None
    header, value = base_entry
    blocks = _blocks(header)
    if blocks is None or (not decode_later and (sum(n for _, n in blocks) != len(value) or not accept(value))):
        return None
    sources, at = [], 0
    for _, count in blocks:
        sources.append((0, at))
        at += count
    base = (str(header.get("xxh3")), frozenset(blocks))
    keys, lines = [k for k, _ in blocks], [n for _, n in blocks]
    delta = _entry(cache, _delta_name(name), decode_later)
    if delta is not None and delta[0].get("base") == base[0] and (decode_later or accept(delta[1])):
        extended = _extended(blocks, sources, *delta, decode_later)
        if extended is not None:
            keys, lines, sources, own_rows = extended
            header = delta[0]
            values = [value, delta[1]]
            rows = [at, own_rows]
            return Pack(keys, lines, header, sources, _stored(values, rows, decode_later, accept), base)
    return Pack(keys, lines, header, sources, _stored([value], [at], decode_later, accept), base)


def _entry(cache: Cache, name: str, decode_later: bool) -> tuple[dict[str, Any], Any] | None:
    """(header, value) of an entry, or (header, (kind, payload)) to decode later; None when absent."""
    if not decode_later:
        return cache.get_value(name, count=False)
    try:
        header, payload = cache.read(name)
    except CacheMiss:
        return None
    return header, (header.get("type"), payload)


def _stored(values: list[Any], rows: list[int], decode_later: bool, accept: Callable[[Any], bool]) -> Any:
    return Decoding(values, rows, accept) if decode_later else values


def _extended(base_blocks: list[tuple[str, int]], base_sources: list[tuple[int, int]], header: dict[str, Any],
              value: Any, decode_later: bool) -> tuple[list[str], list[int], list[tuple[int, int]], int] | None:
    """(keys, lines, sources, rows of the delta) of the pack as the delta records it: its own blocks from
    its value (index 1), the others from the base (index 0)."""
    blocks, own = _blocks(header), header.get("own")
    if blocks is None or not isinstance(own, list) or not all(isinstance(i, int) and 0 <= i < len(blocks) for i in own):
        return None
    own_set = set(own)
    own_rows = sum(blocks[i][1] for i in own)
    if len(own_set) != len(own) or own != sorted(own) or (not decode_later and own_rows != len(value)):
        return None
    in_base: dict[tuple[str, int], tuple[int, int]] = {}
    for block, source in zip(base_blocks, base_sources):
        in_base.setdefault(block, source)
    sources, at = [], 0
    for i, (key, count) in enumerate(blocks):
        if i in own_set:
            sources.append((1, at))
            at += count
            continue
        found = in_base.get((key, count))
        if found is None:
            return None
        sources.append(found)
    return [k for k, _ in blocks], [n for _, n in blocks], sources, own_rows


def _blocks(header: dict[str, Any]) -> list[tuple[str, int]] | None:
    try:
        return [(str(k), int(n)) for k, n in header["blocks"]]
    except (KeyError, TypeError, ValueError):
        return None


def _delta_name(name: str) -> str:
    return name.removesuffix(".pack") + ".delta"


class Pieces:
    """A row-aligned value as the (value, first row, rows) spans its blocks' rows are stored in, in
    order: joined only when asked (`joined`), and then only where the spans are not one run of rows of
    one value already. An edited file's artefact is so copied once, into the audit-wide value
    (`values.combine`), not first into the file's own."""

    def __init__(self, spans: list[tuple[Any, int, int]]) -> None:
        self.spans = spans

    def slices(self) -> list[Any]:
        """The rows, in as few slices as the spans allow (adjacent spans of one value are one)."""
        runs: list[list[Any]] = []
        for value, first, count in self.spans:
            if runs and runs[-1][0] is value and runs[-1][1] + runs[-1][2] == first:
                runs[-1][2] += count
            else:
                runs.append([value, first, count])
        return [value if first == 0 and count == len(value) else _rows(value, first, count)
                for value, first, count in runs]

    def block(self, i: int) -> Any:
        return _rows(*self.spans[i])

    def joined(self) -> Any:
        """The rows as one value (the stored value itself when one holds them all); None when the
        spans are not of one type (dtype, shape, schema)."""
        from .values import join_rows

        slices = self.slices()
        return join_rows(slices) if slices else None


def put_pack(cache: Cache, name: str, blocks: list[Any], value: Any, header: dict[str, Any] | None = None,
             previous: Pack | None = None) -> None:
    """Store the value of a file's `blocks` (each with a `key` and a number of `lines`), in the background;
    `value` may be the Pieces it is made of.

    With the `previous` pack read for this file: when the blocks its base entry lacks hold at most
    DELTA_SHARE of the rows, only they are written, as the delta beside the base; else the base is
    rewritten whole (and a delta of the base it replaced no longer applies)."""
    from .values import join_rows, split_rows

    header = {**(header or {}), "kind": "pack", "blocks": [[b.key, b.lines] for b in blocks]}
    if previous is not None and previous.base is not None:
        checksum, stored = previous.base
        own = [i for i, b in enumerate(blocks) if (b.key, b.lines) not in stored]
        if sum(blocks[i].lines for i in own) <= DELTA_SHARE * sum(b.lines for b in blocks):
            if isinstance(value, Pieces):
                pieces = [value.block(i) for i in range(len(blocks))]
            else:
                pieces = split_rows(value, [b.lines for b in blocks])
            if pieces is not None:
                rows = join_rows([pieces[i] for i in own]) if own else _rows(pieces[0], 0, 0)
                if rows is not None:
                    cache.put_value(_delta_name(name), rows, {**header, "base": checksum, "own": own},
                                    background=True)
                    return
    if isinstance(value, Pieces):
        value = value.joined()
    cache.put_value(name, value, header, background=True)
