"""An input file as content-defined blocks of lines, each parsed and normalized on its own, and kept in
the cache block by block: editing one line of a large file re-parses one block.

A block ends after a line whose hash has its low 9 bits zero (256..4096 lines), so editing, inserting or
deleting one line changes one block (and at most the next) and every other block keeps its values. A
block's key is xxh3_128 of (tool version, engine code, cache layout, format settings, whether it starts
the file, its line count, xxh3_128 of its bytes): it names the content, never the position, so stored
values hold no line numbers or row ids (issues count lines from the block start; the loader shifts them).
"""

from __future__ import annotations

import os
import zlib
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ..errors import DatasetLoadError
from ..results import Severity
from ..store import Cache, Pack, get_pack, pack_name, put_pack
from ..store.code import engine_digest
from ..store.entries import LAYOUT
from ..version import __version__
from .issues import (
    BLANK_LINE,
    BYTE_ORDER_MARK,
    FORMAT_ERROR,
    FORMAT_WARNING,
    INVALID_LINE,
    UNRECOGNIZED_RECORD,
    LineIssue,
)
from .loading import SourceFile, overlong_line, parse_line
from .normalize import NORMALIZERS, Normalized, detect_format, normalize_record

# Content-defined blocks of lines (see iter_blocks): ~770 lines on average, 256..4096.
BLOCK_MIN = 256
BLOCK_MAX = 4096
BLOCK_SPREAD = 512  # a power of two: one line in BLOCK_SPREAD may end a block
_READ_BYTES = 8 << 20


@dataclass(frozen=True, slots=True)
class Block:
    """A run of lines of one file: `key` names its content in the cache, `start` is its first line - 1."""

    key: str | None
    start: int
    lines: int


@dataclass(slots=True)
class BlockRows:
    """One parsed block: its frame (the columns of a file frame but line, row, split and source),
    its issues with lines counted from the block start (1-based), and its formats in first-seen order."""

    frame: Any
    issues: list[LineIssue]
    formats: dict[str, int]


def parse_block(lines: list[bytes], first: bool, forced: Any = None, forced_name: str | None = None) -> BlockRows:
    """Parse and normalize the lines of one block (without line ends); `first`: it starts the file."""
    rows: list[tuple] = []  # the distinct frame rows, in order
    order: list[int] = []  # each line's index in `rows`
    issues: list[LineIssue] = []
    formats: Counter[str] = Counter()
    # A line equal to the one before it parses alike: a run of copies (a million repeated rows) is
    # parsed once, and its texts are stored once (the frame gathers the run from one row, and polars'
    # string views of a gather point into the same bytes). Comparing with the previous line costs next
    # to nothing on distinct lines.
    previous, one, reusable = None, None, False
    for index, data in enumerate(lines):
        line = index + 1
        if not reusable or data != previous:
            one = _parse_one(data, line if first else line + 1, forced, forced_name)  # a BOM counts on line 1 only
            previous, reusable = data, one[3]
            rows.append(one[1])
        order.append(len(rows) - 1)
        record_format, _, line_issues, _ = one
        if line_issues:
            issues.extend(LineIssue(line, code, severity, message) for code, severity, message in line_issues)
        if record_format is not None:
            formats[record_format] += 1
    frame = _frame(rows)
    if len(rows) < len(order):
        import numpy as np

        frame = frame[np.asarray(order, dtype=np.int64)]
    return BlockRows(frame, issues, dict(formats))


def parse_block_as(lines: list[bytes], first: bool, fmt: str | None, fields: dict[str, str] | None) -> BlockRows:
    """parse_block in a worker process: the format settings by name (a field mapping's normalizer is a
    closure, which cannot be sent to a process), made into the normalizer here."""
    from .normalize import make_mapped

    forced = make_mapped(fields) if fields else (NORMALIZERS[fmt] if fmt else None)
    return parse_block(lines, first, forced, "mapped" if fields else fmt)


def _parse_one(data: bytes, line: int, forced: Any, forced_name: str | None) -> tuple:
    """(the record format it was read as or None, its frame row (see _block_row), its issues as
    (code, severity, message), whether the outcome depends on the bytes alone (not on being line 1))."""
    raw = parse_line(data, line)
    issues: list[tuple[str, Severity, str]] = []
    if raw.warning:
        issues.append((BYTE_ORDER_MARK, Severity.WARNING, raw.warning))
    record_format = None
    norm = None
    error = raw.error
    if raw.record is not None:
        record_format = forced_name or detect_format(raw.record)
        if record_format is None:
            keys = ", ".join(sorted(raw.record)[:8]) or "none"
            error = f"record matches no known format (keys: {keys}); pass --format or map fields with --field"
            issues.append((UNRECOGNIZED_RECORD, Severity.ERROR, error))
        else:
            norm = normalize_record(raw.record, record_format, forced or NORMALIZERS[record_format])
            if norm.errors or norm.warnings:
                issues.extend((FORMAT_ERROR, Severity.ERROR, m) for m in norm.errors)
                issues.extend((FORMAT_WARNING, Severity.WARNING, m) for m in norm.warnings)
    elif error == "blank line":
        issues.append((BLANK_LINE, Severity.WARNING, error))
    else:
        issues.append((INVALID_LINE, Severity.ERROR, error or "unreadable line"))
    return record_format, _block_row(record_format, error, norm), tuple(issues), raw.warning is None


def iter_blocks(source: SourceFile, digest: Any = None) -> Iterator[tuple[int, list[bytes]]]:
    """(index of the first line, lines without line ends) of a file's content-defined blocks.

    A block ends after a line whose xxh3 hash has its low bits zero (1 line in BLOCK_SPREAD), once it
    holds at least BLOCK_MIN lines, or when it reaches BLOCK_MAX lines. Boundaries depend only on the
    lines around them, so inserting, deleting or editing one line changes its own block and at most the
    next one; the other blocks keep their bytes and their cache entries. Lines are split exactly as
    `loading.iter_lines` splits them (on "\\n", trailing "\\r" removed, no empty last line). Gzipped files
    are decompressed as they are read and blocked the same way. `digest` (hashlib) gets the file's bytes
    as stored (compressed for .gz), for the report's SHA-256.
    """
    import numpy as np
    import xxhash

    low, high, mask = BLOCK_MIN, BLOCK_MAX, BLOCK_SPREAD - 1
    limit = source.limits.max_line_bytes
    start = 0
    block: list[bytes] = []
    tail = b""
    try:
        with open(source.path, "rb") as handle:
            stream = source.stream(handle, digest)
            skipped = -1  # bytes of an overlong line dropped so far (-1: not inside one)
            while True:
                chunk = stream.read(_READ_BYTES)
                if not chunk:
                    break
                if skipped >= 0:  # inside an overlong line: drop its bytes, keep only its size
                    newline = chunk.find(b"\n")
                    if newline < 0:
                        skipped += len(chunk)
                        continue
                    skipped += newline
                    tail, chunk, skipped = overlong_line(skipped, limit), chunk[newline:], -1
                buffer = tail + chunk if tail else chunk
                pieces = buffer.split(b"\n")
                tail = pieces.pop()
                if len(tail) > limit:
                    skipped, tail = len(tail), b""
                if len(buffer) > limit:  # else no line of it can be longer (one pass over the lines saved)
                    pieces = [overlong_line(len(p), limit) if len(p) > limit else p for p in pieces]
                if b"\r" in buffer:
                    pieces = [piece.rstrip(b"\r") for piece in pieces]
                hashes = np.fromiter(map(xxhash.xxh3_64_intdigest, pieces), dtype=np.uint64, count=len(pieces))
                candidates = np.flatnonzero((hashes & np.uint64(mask)) == 0).tolist()
                done: list[tuple[int, list[bytes]]] = []
                pos = 0
                for end in [*candidates, None]:  # None: the rest of the chunk, cut at BLOCK_MAX only
                    stop = len(pieces) if end is None else end + 1
                    while len(block) + stop - pos > high or (end is None and len(block) + stop - pos == high):
                        cut = pos + high - len(block)
                        done.append((start, block + pieces[pos:cut]))
                        start += high
                        block, pos = [], cut
                    if end is not None and len(block) + stop - pos >= low:
                        lines = block + pieces[pos:stop]
                        done.append((start, lines))
                        start += len(lines)
                        block, pos = [], stop
                block = block + pieces[pos:]
                yield from done
    except (OSError, EOFError, zlib.error) as exc:
        raise DatasetLoadError(f"{source.path}: cannot read: {exc}") from None
    if skipped >= 0:
        tail = overlong_line(skipped, limit)
    if tail:
        block.append(tail.rstrip(b"\r"))
    if block:
        yield start, block


def block_bytes(lines: list[bytes]) -> int:
    """The bytes a block's lines take in a plain file, each with its line end (see `file_layout`)."""
    return sum(map(len, lines)) + len(lines)


def file_layout(sizes: list[int], file_bytes: int) -> list[int] | None:
    """The byte length of each block of a plain file (from `block_bytes` of its blocks), or None when the
    lines are not the file's bytes as they are (a CR stripped, an overlong line replaced)."""
    total = sum(sizes)
    if total == file_bytes:
        return sizes
    if sizes and total - 1 == file_bytes:  # no line end after the last line
        return [*sizes[:-1], sizes[-1] - 1]
    return None


def known_blocks(source: SourceFile, settings: Any, pack: Pack, digest: Any = None) -> list[tuple] | None:
    """The blocks of a plain file as `iter_blocks` cuts them, found from the layout the row pack recorded
    (`file_layout`): (first line index, lines or None, key, line count, bytes) per block.

    A stored block is recognized where it now starts by the key of its bytes, hashed where they lie
    (the lines of an unchanged block are never split or copied: `lines` is None); the rest is cut line
    by line exactly as `iter_blocks` cuts it, from the end of the last block, until a block is found
    again: one that starts where a stored block started (moved by what the edits before it added or
    removed, or by the change of the file's size), or a cut block the pack holds, which tells where
    the stored blocks after it now start. Boundaries depend only on the lines since the last one, so
    from a found block on the stored blocks are what cutting would give. None when this does not
    apply (a compressed file, a CR in it, a line over the length limit, no layout): the caller cuts
    the whole file.
    """
    import mmap

    import xxhash

    layout = pack.header.get("layout")
    if (not source.plain or not isinstance(layout, list) or len(layout) != len(pack.keys)
            or not all(isinstance(n, int) and n > 0 for n in layout)):
        return None
    starts: dict[int, int] = {}
    offsets: list[int] = []
    at = 0
    for j, n in enumerate(layout):
        starts.setdefault(at, j)
        offsets.append(at)
        at += n
    try:
        with open(source.path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size == 0:
                return None
            data = mmap.mmap(handle.fileno(), size, access=mmap.ACCESS_READ)
    except (OSError, ValueError):
        return None
    if data.find(b"\r") >= 0:
        return None
    limit = source.limits.max_line_bytes
    view = memoryview(data)
    delta = size - at

    def stored_at(pos: int, shift: int) -> tuple | None:
        j = starts.get(pos - shift)
        if j is None:
            return None
        end = pos + layout[j]
        last = j == len(layout) - 1
        # the stored last block was cut by the end of the file, not by the rule: only there is it a block
        if end > size or (last and end != size) or (not last and data[end - 1] != 10):
            return None
        body = view[pos:end - 1] if data[end - 1] == 10 else view[pos:end]
        key = _block_key_of(settings, pos == 0, pack.lines[j], xxhash.xxh3_128_hexdigest(body))
        return (j, key) if key == pack.keys[j] else None

    out: list[tuple] = []
    pos = line = shift = 0
    while pos < size:
        found = stored_at(pos, shift)
        if found is None and delta != shift:
            found = stored_at(pos, delta)
            if found is not None:
                shift = delta
        if found is not None:
            j, key = found
            out.append((line, None, key, pack.lines[j], layout[j]))
            pos += layout[j]
            line += pack.lines[j]
            continue
        cut = _cut_one(data, pos, size, limit)
        if cut is None:
            return None
        lines, end = cut
        key = block_key(settings, pos == 0, lines)
        stored = pack.find(key, len(lines))
        if stored is not None:  # cut as a stored block: the blocks after it are looked for after it too
            shift = pos - offsets[stored[0]]
        out.append((line, lines, key, len(lines), end - pos))
        pos, line = end, line + len(lines)
    if digest is not None:
        digest.update(data)  # the file's bytes, hashed on the digest's own thread
    return out


def _cut_one(data: Any, pos: int, size: int, limit: int) -> tuple[list[bytes], int] | None:
    """The lines of the block that starts at byte `pos`, cut as `iter_blocks` cuts (after a line whose
    hash has its low bits zero once BLOCK_MIN lines are in, at BLOCK_MAX lines, at the end of the file),
    and the byte where the next block starts; None at a line over `limit` bytes."""
    import xxhash

    low, high, mask = BLOCK_MIN, BLOCK_MAX, BLOCK_SPREAD - 1
    lines: list[bytes] = []
    while pos < size:
        newline = data.find(b"\n", pos)
        end = size if newline < 0 else newline
        if end - pos > limit:
            return None
        piece = data[pos:end]
        lines.append(piece)
        pos = end + 1 if newline >= 0 else size
        if len(lines) == high or (len(lines) >= low and xxhash.xxh3_64_intdigest(piece) & mask == 0):
            break
    return lines, pos


# The columns of a block's frame (BlockRows.frame, a cache entry): what depends on its lines alone.
BLOCK_COLUMNS = ("format", "valid", "error", "system", "prompt", "response", "label", "asked", "tool_call", "tools",
                 "tool_specs")



def _block_row(fmt: str | None, error: str | None, norm: Normalized | None) -> tuple:
    """One line's values in BLOCK_COLUMNS order."""
    if norm is None:
        return (fmt, False, error, None, None, None, None, None, False, False, None)
    return (fmt, error is None and not norm.errors, error, norm.system, norm.prompt, norm.response, norm.label,
            norm.asked, norm.tool_call, norm.tools, norm.tool_specs)


def _frame(rows: list[tuple]):
    import polars as pl

    columns = list(zip(*rows)) if rows else [()] * len(BLOCK_COLUMNS)
    return pl.DataFrame({name: list(values) for name, values in zip(BLOCK_COLUMNS, columns)},
                        schema={"format": pl.String, "valid": pl.Boolean, "error": pl.String, "system": pl.String,
                                "prompt": pl.String, "response": pl.String, "label": pl.String, "asked": pl.String,
                                "tool_call": pl.Boolean, "tools": pl.Boolean, "tool_specs": pl.String})


def empty_block_frame():
    """The frame of a file without lines."""
    return _frame([])


# ---------------------------------------------------------------------------------- stored blocks


def block_key(settings: Any, first: bool, lines: list[bytes]) -> str:
    """The cache key of one block: its bytes, the format settings, and the code that parses them."""
    import xxhash

    return _block_key_of(settings, first, len(lines), xxhash.xxh3_128_hexdigest(b"\n".join(lines)))


def _block_key_of(settings: Any, first: bool, count: int, content: str) -> str:
    import orjson
    import xxhash

    parts = ["block", __version__, engine_digest(), LAYOUT, settings, first, count, content]
    return xxhash.xxh3_128_hexdigest(orjson.dumps(parts))


def stored_rows(cache: Cache, path: str, settings: Any, *, decode_later: bool = False) -> Pack | None:
    """The rows of a file as last loaded with these format settings (a pack of its blocks), or None.
    `decode_later`: the rows are decoded on a second thread while the caller reads the file (see Pack)."""
    pack = get_pack(cache, pack_name("rows", path, settings), decode_later=decode_later,
                    accept=lambda value: tuple(value.columns) == BLOCK_COLUMNS)
    if pack is None:
        return None
    header = pack.header
    if not (isinstance(header.get("issues"), list) and isinstance(header.get("formats"), list)
            and len(header["issues"]) == len(header["formats"]) == len(pack.keys)):
        return None
    return pack


def stored_block(pack: Pack, key: str, lines: int) -> BlockRows | None:
    """The issues and formats of a block held by a row pack, or None; its frame is None: the rows are
    `pack.part(key, lines)`, read once the pack's rows are decoded."""
    found = pack.find(key, lines)
    if found is None:
        return None
    index = found[0]
    try:
        issues = [LineIssue(int(line), str(code), Severity(severity), str(message))
                  for line, code, severity, message in pack.header["issues"][index]]
        formats = {str(name): int(count) for name, count in pack.header["formats"][index]}
    except (TypeError, ValueError):  # a pack that passed its checksum but is not what this version writes
        return None
    return BlockRows(None, issues, formats)


def store_rows(cache: Cache, path: str, settings: Any, blocks: list[Block], parts: list[BlockRows], frame: Any,
               previous: Pack | None = None, layout: list[int] | None = None) -> None:
    """Keep a loaded file's rows: `frame` is its blocks' frames concatenated, `parts` their BlockRows (their
    formats and issues are read; their frames may already be let go); `previous` the pack read for it;
    `layout` the bytes of each block in the file (see `known_blocks`), when the file is plain."""
    header = {"formats": [list(p.formats.items()) for p in parts],
              "issues": [[[i.line, i.code, i.severity.value, i.message] for i in p.issues] for p in parts]}
    if layout is not None:
        header["layout"] = layout
    put_pack(cache, pack_name("rows", path, settings), blocks, frame.select(BLOCK_COLUMNS), header, previous)
