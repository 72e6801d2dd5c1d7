"""One input file -> a columnar Dataset (a polars frame, one row per physical line) and its line issues."""

from __future__ import annotations

import hashlib
import zlib
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .errors import DatasetLoadError
from .limits import DEFAULT_LIMITS, InputLimits
from .loading import SourceFile, overlong_line, parse_line
from .normalize import NORMALIZERS, Normalized, detect_format, make_mapped, normalize_record
from .results import Severity

# Content-defined blocks of lines (see iter_blocks): ~770 lines on average, 256..4096.
BLOCK_MIN = 256
BLOCK_MAX = 4096
BLOCK_SPREAD = 512  # a power of two: one line in BLOCK_SPREAD may end a block
_READ_BYTES = 8 << 20

# Codes of the problems found while reading and normalizing; the engine and the `format` check report them.
INVALID_LINE = "AUD001"
BLANK_LINE = "AUD002"
BYTE_ORDER_MARK = "AUD003"
UNRECOGNIZED_RECORD = "AUD004"
MIXED_FORMATS = "AUD005"
FORMAT_ERROR = "FMT001"
FORMAT_WARNING = "FMT002"


@dataclass(frozen=True, slots=True)
class LineIssue:
    """A problem with one line, found before any check runs."""

    line: int
    code: str
    severity: Severity
    message: str


@dataclass(frozen=True, slots=True)
class Block:
    """A run of lines of one file: `key` names its content in the cache, `start` is its first line - 1."""

    key: str | None
    start: int
    lines: int


@dataclass(slots=True)
class Dataset:
    """A loaded file: `frame` has columns row, split, source, line, format, valid, error, system,
    prompt, response, label, asked, tool_call, tools, tool_specs; `row` is unique across every file of one audit."""

    path: str
    split: str
    format: str
    frame: Any  # polars.DataFrame
    issues: list[LineIssue] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None
    first_row: int = 0
    blocks: tuple[Block, ...] = ()  # the file's blocks, when it was loaded with a cache
    limits: InputLimits = DEFAULT_LIMITS  # what it was read with (a check reading it again reads the same)

    @property
    def lines(self) -> int:
        return self.frame.height

    def records(self, rows: set[int] | None = None) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(row, line, record) for every valid row (of `rows`, when given), streamed again from the file
        (memory stays flat); lines that are not wanted are not parsed."""
        import polars as pl

        valid = self.frame.filter(pl.col("valid"))
        if rows is not None:
            valid = valid.filter(pl.col("row").is_in(sorted(rows)))
        wanted = set(valid["line"].to_list())
        if not wanted:
            return
        source = SourceFile(self.path, self.limits)
        for raw in source.lines(wanted):
            if raw.record is not None:
                yield self.first_row + raw.line - 1, raw.line, raw.record
        if self.sha256 is not None and source.sha256 != self.sha256:
            # what a check read again is not what the audit loaded: no report could be consistent
            raise DatasetLoadError(f"{self.path}: the file changed while it was being audited; audit it again")


def load_dataset(path: str, split: str, *, first_row: int = 0, fmt: str | None = None,
                 fields: Mapping[str, str] | None = None,
                 progress: Callable[[int], None] | None = None, cache: Any = None,
                 limits: InputLimits = DEFAULT_LIMITS) -> Dataset:
    """Read and normalize one JSONL(.gz) file; broken lines become rows with an `error` and an issue.

    The file is read as content-defined blocks of lines (see `iter_blocks`); with a `cache`
    (auditor.cache.Cache) each block's rows and issues come from its entry when its bytes are unchanged,
    so editing one line of a large file re-parses one block. Rows, issues and formats never depend on
    the blocks: mixed formats, the dominant format and the SHA-256 are decided for the whole file.
    """
    import polars as pl

    source = SourceFile(path, limits)
    forced = make_mapped(fields) if fields else (NORMALIZERS[fmt] if fmt else None)
    forced_name = "mapped" if fields else fmt
    settings = [forced_name, sorted((fields or {}).items()), limits.max_line_bytes]
    parts: list[BlockRows] = []
    issues: list[LineIssue] = []
    formats: Counter[str] = Counter()
    blocks: list[Block] = []
    digest = hashlib.sha256()
    pack = cache.rows_pack(path, settings) if cache is not None else None
    for start, lines in iter_blocks(source, digest):
        first = start == 0
        key = cache.block_key(settings, first, lines) if cache is not None else None
        part = cache.block_rows(pack, key, len(lines)) if pack is not None else None
        if part is None:
            part = parse_block(lines, first, forced, forced_name)
            if cache is not None:
                cache.misses += 1
        elif cache is not None:
            cache.hits += 1
        parts.append(part)
        issues.extend(LineIssue(start + i.line, i.code, i.severity, i.message) for i in part.issues)
        for name, count in part.formats.items():  # first-seen order across the file, as _dominant needs
            formats[name] += count
        blocks.append(Block(key, start, len(lines)))
        if progress:
            progress(len(lines))
    if pack is not None and pack.keys == [b.key for b in blocks]:
        frame = pack.value  # the file is unchanged: its rows as stored, without copying blocks together
    elif parts:
        frames = [p.frame for p in parts]
        for part in parts:
            part.frame = None  # the rows are held once: in `frames`, until they are concatenated
        frame = _concat_releasing(frames)
        if cache is not None:
            cache.put_rows_pack(path, settings, blocks, parts, frame)
    else:
        frame = _frame([])
    frame = frame.with_columns(line=pl.int_range(1, frame.height + 1, dtype=pl.Int64))
    dominant = _dominant(formats)
    if len(formats) > 1 and not forced_name:
        frame, issues = _flag_mixed(frame, issues, dominant, formats)
    frame = frame.with_columns(
        row=pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64),
        split=pl.lit(split),
        source=pl.lit(path),
    ).select(FRAME_COLUMNS)
    return Dataset(path, split, dominant, frame, issues, dict(sorted(formats.items())), digest.hexdigest(),
                   first_row, tuple(blocks) if cache is not None else (), limits)


def _concat_releasing(frames: list) -> Any:
    """The frames one under the other, in one chunk, built column by column while each column of
    the parts is let go: the file's rows are held about once, not twice."""
    import polars as pl

    if len(frames) == 1:
        return frames[0]
    pieces = {name: [f[name] for f in frames] for name in frames[0].columns}
    frames.clear()
    columns = {}
    for name in list(pieces):
        columns[name] = pl.concat(pieces.pop(name), rechunk=True)
    return pl.DataFrame(columns)


@dataclass(slots=True)
class BlockRows:
    """One parsed block: its frame (the columns of a file frame but line, row, split and source),
    its issues with lines counted from the block start (1-based), and its formats in first-seen order."""

    frame: Any
    issues: list[LineIssue]
    formats: dict[str, int]


def parse_block(lines: list[bytes], first: bool, forced: Any = None, forced_name: str | None = None) -> BlockRows:
    """Parse and normalize the lines of one block (without line ends); `first`: it starts the file."""
    rows: list[tuple] = []
    issues: list[LineIssue] = []
    formats: Counter[str] = Counter()
    # A line equal to the one before it parses alike: a run of copies (a million repeated rows) is
    # parsed once. Comparing with the previous line only costs next to nothing on distinct lines.
    previous, one, reusable = None, None, False
    for index, data in enumerate(lines):
        line = index + 1
        if not reusable or data != previous:
            one = _parse_one(data, line if first else line + 1, forced, forced_name)  # a BOM counts on line 1 only
            previous, reusable = data, one[3]
        record_format, row, line_issues, _ = one
        if line_issues:
            issues.extend(LineIssue(line, code, severity, message) for code, severity, message in line_issues)
        if record_format is not None:
            formats[record_format] += 1
        rows.append(row)
    return BlockRows(_frame(rows), issues, dict(formats))


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


# The columns of a block's frame (BlockRows.frame, a cache entry): what depends on its lines alone.
BLOCK_COLUMNS = ("format", "valid", "error", "system", "prompt", "response", "label", "asked", "tool_call", "tools",
                 "tool_specs")
FRAME_COLUMNS = ("row", "split", "source", "line", "format", "valid", "error", "system", "prompt",
                 "response", "label", "asked", "tool_call", "tools", "tool_specs")


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


def _dominant(formats: Counter[str]) -> str:
    if not formats:
        return "unknown"
    # most_common keeps first-seen order among ties, so the earliest format wins a tie
    return formats.most_common(1)[0][0]


def _flag_mixed(frame, issues: list[LineIssue], dominant: str, formats: Counter[str]):
    """Rows in a minority format are unusable: a trainer reads a file in one format."""
    import polars as pl

    odd = frame.filter(pl.col("format").is_not_null() & (pl.col("format") != dominant))
    summary = ", ".join(f"{n} {name}" for name, n in sorted(formats.items()))
    for line, fmt in odd.select("line", "format").iter_rows():
        issues.append(LineIssue(line, MIXED_FORMATS, Severity.ERROR,
                                f"record is {fmt} but the file is {dominant} (file mixes formats: {summary})"))
    issues.sort(key=lambda issue: issue.line)
    mixed = pl.col("format").is_not_null() & (pl.col("format") != dominant)
    return frame.with_columns(valid=pl.col("valid") & ~mixed), issues
