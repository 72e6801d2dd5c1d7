"""Per-file artefacts: a value built from one input file's rows, kept per block of lines (row-aligned
values) or per file, so an edited re-run rebuilds what the edit touched and nothing else."""

from __future__ import annotations

import contextvars
from collections.abc import Callable
from typing import Any

import xxhash

from .entries import Cache
from .packs import Pieces, get_pack, pack_name, put_pack
from .values import canonical_key, combine, joinable, split_rows, value_kind

# Set while a builder works on a slice of a file that is being built whole (see `building_whole_file`).
_WHOLE_FILE: contextvars.ContextVar[bool] = contextvars.ContextVar("auditor_whole_file", default=False)


def building_whole_file() -> bool:
    """Whether the builder now running works on a slice of a file that is being built whole, a slice at
    a time: a text it asks for is wanted for every row of the file (normalized once, then sliced), not
    for the slice alone as after an edit."""
    return _WHOLE_FILE.get()


def per_file(cache: Cache | None, files: list[Any], key: Any, build: Callable[[Any], Any], *,
             concat: bool = True, blocks: bool | None = None, slice_rows: int | None = None) -> Any:
    """build(frame) for every loaded file (`path`, `frame`, `blocks`), each from the cache when possible;
    see AuditContext.per_file.

    `blocks` (default: `concat`): build and cache the value block by block (the value is row-aligned and
    row-local), else file by file. Without a cache every file is built whole. `build` gets the rows it
    works on: a whole file's frame, or the slice of a run of its blocks. With `slice_rows`, a row-local
    value is built at most that many rows at a time (whole blocks, with a cache), so that what a build
    holds besides its value (texts joined for it, shingles) is bounded by the slice, not the file.
    """
    canonical_key(key)  # a bad key fails the same way with and without a cache
    if blocks is None:
        blocks = concat
    values = []
    for data in files:
        if cache is None or not data.blocks or data.blocks[0].key is None:
            if blocks and slice_rows:
                value = _whole_in_slices(data, build, slice_rows)
            else:
                value = build(data.frame)
                value_kind(value)
        elif blocks:
            value = _by_block(cache, data, key, build, slice_rows)
        else:
            value = _whole_file(cache, data, key, build)
        values.append(value)
    if concat:
        return combine(values)
    return [value.joined() if isinstance(value, Pieces) else value for value in values]


def _whole_file(cache: Cache, data: Any, key: Any, build: Callable[[Any], Any], *, lookup: bool = True) -> Any:
    """build(data.frame) for one whole file, from its entry (unless `lookup` is off: known absent) when
    the file and the key are unchanged."""
    name = _file_entry(data, key)
    found = cache.get_value(name) if lookup else None
    if found is not None:
        return found[1]
    value = build(data.frame)
    cache.put_value(name, value, {"kind": "artefact"})
    return value


def _whole_in_slices(data: Any, build: Callable[[Any], Any], slice_rows: int) -> Any:
    """build() over one whole file, `slice_rows` rows at a time, the slices' values joined (numpy ones
    as the `Pieces` that `combine` copies once into the audit-wide value); the whole file at once when a
    slice's value is not row-aligned."""
    if data.lines <= slice_rows:
        return _checked(build(data.frame))
    values = []
    token = _WHOLE_FILE.set(True)
    try:
        for start in range(0, data.lines, slice_rows):
            rows = min(slice_rows, data.lines - start)
            value = build(data.frame.slice(start, rows))
            value_kind(value)
            if split_rows(value, [rows]) is None:
                values = None
                break
            values.append(value)
    finally:
        _WHOLE_FILE.reset(token)
    if values is None or not joinable(values):
        return _checked(build(data.frame))
    if type(values[0]).__name__ == "ndarray":
        return Pieces([(value, 0, len(value)) for value in values])
    if isinstance(values[0], list):
        return [item for value in values for item in value]
    import polars as pl

    return pl.concat(values, rechunk=False)


def _checked(value: Any) -> Any:
    value_kind(value)
    return value


def _by_block(cache: Cache, data: Any, key: Any, build: Callable[[Any], Any], slice_rows: int | None = None) -> Any:
    """build() per block of one file, each unchanged block's value from the file's pack: the `Pieces`
    the file's value is made of (joined with the other files' by `combine`).

    The missing blocks are built a contiguous run at a time (a cold file is one run: build gets the
    file's own frame). A value that is not row-aligned (one entry per row along its first axis) or
    whose blocks do not concatenate to the same type falls back to the whole file.
    """
    blocks = data.blocks
    name = pack_name("artefact", data.path, key)
    pack = get_pack(cache, name)
    if pack is not None and pack.keys == [b.key for b in blocks]:
        cache.hits += len(blocks)
        return Pieces(pack.spans())
    spans: list[Any] = [pack.span(b.key, b.lines) if pack is not None else None for b in blocks]
    missing = [i for i, span in enumerate(spans) if span is None]
    cache.hits += len(blocks) - len(missing)
    if missing:
        found = cache.get_value(_file_entry(data, key), count=False)
        if found is not None:  # a value that is not row-aligned, cached for the whole file
            cache.hits += 1
            return found[1]
        cache.misses += len(missing)
        if not _build_runs(data, build, spans, missing, slice_rows):
            return _whole_file(cache, data, key, build, lookup=False)
    value = Pieces(spans)
    if not joinable(value.slices()):
        return _whole_file(cache, data, key, build, lookup=False)
    put_pack(cache, name, list(blocks), value, previous=pack)
    return value


def _build_runs(data: Any, build: Callable[[Any], Any], spans: list[Any], missing: list[int],
                slice_rows: int | None = None) -> bool:
    """Fill `spans[i]` (value, first row, rows) for the missing blocks, a contiguous run of blocks per
    build (of at most `slice_rows` rows, unless one block holds more); False when the value turns out
    not to be row-aligned."""
    blocks = data.blocks
    runs: list[list[int]] = []
    held = 0
    for i in missing:
        if runs and runs[-1][-1] == i - 1 and (slice_rows is None or held + blocks[i].lines <= slice_rows):
            runs[-1].append(i)
            held += blocks[i].lines
        else:
            runs.append([i])
            held = blocks[i].lines
    token = _WHOLE_FILE.set(len(runs) > 1 and len(missing) == len(blocks))  # a cold file, in slices
    try:
        for run in runs:
            start = blocks[run[0]].start
            stop = blocks[run[-1]].start + blocks[run[-1]].lines
            value = build(data.frame if start == 0 and stop == data.lines else data.frame.slice(start, stop - start))
            value_kind(value)
            if split_rows(value, [blocks[i].lines for i in run]) is None:
                return False
            at = 0
            for i in run:
                spans[i] = (value, at, blocks[i].lines)
                at += blocks[i].lines
    finally:
        _WHOLE_FILE.reset(token)
    return True


def _file_entry(data: Any, key: Any) -> str:
    """A whole-file value's entry: named by the file's blocks (content and settings), in order, and the key."""
    owner = "file:" + xxhash.xxh3_128_hexdigest("|".join(str(b.key) for b in data.blocks).encode())
    return f"{xxhash.xxh3_128_hexdigest(owner.encode() + b'|' + canonical_key(key))}.art"
