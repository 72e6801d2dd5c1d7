"""One input file -> a columnar Dataset (a polars frame, one row per physical line) and its line issues."""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..errors import DatasetLoadError
from ..results import Severity
from ..store.entries import CacheMiss
from .blocks import (
    Block,
    BlockRows,
    block_bytes,
    block_key,
    empty_block_frame,
    file_layout,
    iter_blocks,
    known_blocks,
    parse_block,
    parse_block_as,
    store_rows,
    stored_block,
    stored_rows,
)
from .issues import MIXED_FORMATS, LineIssue
from .limits import DEFAULT_LIMITS, InputLimits
from .loading import BackgroundSha256, SourceFile
from .normalize import NORMALIZERS, make_mapped

FRAME_COLUMNS = ("row", "split", "source", "line", "format", "valid", "error", "system", "prompt",
                 "response", "label", "asked", "tool_call", "tools", "tool_specs")


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
    kind: str = "jsonl"  # the input format (see auditor.input.readers)
    read_path: str | None = None  # where its lines are read from, when not `path` (a converted input's spool)

    @property
    def unit(self) -> str:
        """What a finding's `line` counts in this input: physical lines, or records (rows of a table, elements
        of a JSON array, CSV rows after the header)."""
        return "line" if self.kind == "jsonl" else "record"

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
        source = SourceFile(self.read_path or self.path, self.limits)
        for raw in source.lines(wanted):
            if raw.record is not None:
                yield self.first_row + raw.line - 1, raw.line, raw.record
        if self.sha256 is not None and source.sha256 != self.sha256:
            # what a check read again is not what the audit loaded: no report could be consistent
            raise DatasetLoadError(f"{self.path}: the file changed while it was being audited; audit it again")


def load_input(path: str, split: str, *, spool_dir: str, input_format: str | None = None,
               limits: InputLimits = DEFAULT_LIMITS, **load: Any) -> Dataset:
    """`load_dataset` for any input (see auditor.input.readers): a JSONL file is read where it is;
    another format, standard input (`-`) or a pipe is first written as JSONL into `spool_dir`."""
    from .readers import BackgroundSpool, display_name, needs_spool, spool, spools_in_background
    from .readers import input_format as format_of

    kind = format_of(path, input_format)
    if spools_in_background(path, kind):  # converted while the first rows are already being parsed
        background = BackgroundSpool(path, kind, spool_dir)
        try:
            data = load_dataset(display_name(path), split, limits=limits, kind=kind, read_path=background.path,
                                follow=background, **load)
        except BaseException:
            background.cancel()
            raise
        background.finish()
        return data
    read_path = spool(path, kind, spool_dir, limits.max_line_bytes) if needs_spool(path, kind) else None
    return load_dataset(display_name(path), split, limits=limits, kind=kind, read_path=read_path, **load)


def load_table(name: str, split: str, table: Any, *, spool_dir: str, **load: Any) -> Dataset:
    """`load_dataset` for an in-memory table (a polars DataFrame or a list of records), reported as `name`."""
    from .readers import TABLE, spool_table

    return load_dataset(name, split, kind=TABLE, read_path=spool_table(table, spool_dir), **load)


def load_dataset(path: str, split: str, *, first_row: int = 0, fmt: str | None = None,
                 fields: Mapping[str, str] | None = None,
                 progress: Callable[[int], None] | None = None, cache: Any = None,
                 limits: InputLimits = DEFAULT_LIMITS, kind: str = "jsonl", read_path: str | None = None,
                 follow: Any = None, stored: bool = True) -> Dataset:
    """Read and normalize one JSONL(.gz) file; broken lines become rows with an `error` and an issue.

    The file is read as content-defined blocks of lines (see `iter_blocks`); with a `cache`
    (auditor.store.Cache) each block's rows and issues come from its entry when its bytes are unchanged,
    so editing one line of a large file re-parses one block. Rows, issues and formats never depend on
    the blocks: mixed formats, the dominant format and the SHA-256 are decided for the whole file.
    `follow` (a readers.BackgroundSpool) is still writing `read_path`: it is read as it grows.
    `stored=False`: every block is parsed, none read from the cache (it is still written).
    """
    import polars as pl

    source = SourceFile(read_path or path, limits, follow=follow)
    forced = make_mapped(fields) if fields else (NORMALIZERS[fmt] if fmt else None)
    forced_name = "mapped" if fields else fmt
    settings = [forced_name, sorted((fields or {}).items()), limits.max_line_bytes]
    if kind != "jsonl":
        settings.append(kind)  # the same name read as another format is another entry
    parts: list[BlockRows] = []
    issues: list[LineIssue] = []
    formats: Counter[str] = Counter()
    blocks: list[Block] = []
    digest = BackgroundSha256()
    # the stored rows are decoded on a second thread while the file is read: only the keys are needed
    # before the last block
    pack = stored_rows(cache, path, settings, decode_later=True) if cache is not None and stored else None
    # a file still being written (`follow`) has no size yet: parsed here
    parser = BlockParser(forced, forced_name, fmt, fields, parallel=follow is None and _large(read_path or path),
                         local_first=0 if pack is None else LOCAL_FIRST)
    def parsed_afresh() -> Dataset:  # stored rows that turn out unreadable: every block parsed after all
        digest.hexdigest()
        return load_dataset(path, split, first_row=first_row, fmt=fmt, fields=fields, cache=cache, limits=limits,
                            kind=kind, read_path=read_path, stored=False)

    # an edited file whose layout the cache knows: its unchanged blocks are found where they lie
    known = known_blocks(source, settings, pack, digest) if pack is not None else None
    cut = known if known is not None else ((start, lines, None, len(lines), block_bytes(lines))
                                           for start, lines in iter_blocks(source, digest))
    sizes: list[int] = []
    for start, lines, key, count, size in cut:
        first = start == 0
        if key is None and cache is not None:
            key = block_key(settings, first, lines)
        part = stored_block(pack, key, count) if pack is not None else None
        if part is None:
            if lines is None:  # a stored block whose issues cannot be read after all
                return parsed_afresh()
            part = parser.parse(lines, first)
            if cache is not None:
                cache.misses += 1
        elif cache is not None:
            cache.hits += 1
        parts.append(part)
        blocks.append(Block(key, start, count))
        sizes.append(size)
        if progress:
            progress(count)
    parts = parser.resolved(parts)
    for block, part in zip(blocks, parts):
        issues.extend(LineIssue(block.start + i.line, i.code, i.severity, i.message) for i in part.issues)
        for name, count in part.formats.items():  # first-seen order across the file, as _dominant needs
            formats[name] += count
    try:
        if pack is not None and pack.keys == [b.key for b in blocks]:
            frame = pack.value  # the file is unchanged: its rows as stored, without copying blocks together
        elif parts:
            frames = [pack.part(b.key, b.lines) if p.frame is None else p.frame for b, p in zip(blocks, parts)]
            for part in parts:
                part.frame = None  # the rows are held once: in `frames`, until they are concatenated
            frame = _concat_releasing(frames)
            if cache is not None:
                layout = file_layout(sizes, _file_size(source.path)) if source.plain else None
                store_rows(cache, path, settings, blocks, parts, frame, pack, layout)
        else:
            frame = empty_block_frame()
    except CacheMiss:  # the stored rows were not what their entry said
        return parsed_afresh()
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
                   first_row, tuple(blocks) if cache is not None else (), limits, kind, read_path)


# Files above this many stored bytes are parsed by worker processes, one per core (see auditor.workers):
# a pool costs ~0.3 s to start, which ~100,000 lines of chat repay.
PARALLEL_BYTES = 32 << 20
# A file with rows in the cache parses this many changed blocks in-process before it starts workers:
# an edit changes one or two blocks, which starting a worker would cost ten times over.
LOCAL_FIRST = 8
# Blocks handed to the workers ahead of the one being waited for: the lines of at most this many
# blocks are held at once.
IN_FLIGHT = 16


def warm_parsers(paths: list[str]) -> None:
    """Start the worker processes ahead of loading when one of `paths` is large enough to use them."""
    from .. import workers
    from . import blocks

    if any(_large(path) for path in paths):
        workers.warm(blocks.__name__)  # what the workers import to parse


def _large(path: str) -> bool:
    """Whether the file at `path` is worth parsing in worker processes (PARALLEL_BYTES or more stored)."""
    import os

    try:
        return os.path.getsize(path) >= PARALLEL_BYTES
    except (OSError, TypeError, ValueError):
        return False


class BlockParser:
    """Parses the blocks of one file, in this process or, with `parallel`, in the audit's worker
    processes, a bounded number ahead. `parse` returns a block's rows, or a pending parse that
    `resolved` turns into them, in order; the rows are the same either way."""

    def __init__(self, forced: Any, forced_name: str | None, fmt: str | None, fields: Mapping[str, str] | None,
                 *, parallel: bool, local_first: int = 0) -> None:
        self._local = (forced, forced_name)
        self._remote = (fmt, dict(fields) if fields else None)
        self._parallel = parallel
        self._local_first = local_first  # blocks still parsed here before the workers are asked
        self._pool: Any = None
        self._pending: list[tuple[Any, list[bytes], bool]] = []  # (future, lines, first), oldest first
        self._done: dict[int, BlockRows] = {}

    def parse(self, lines: list[bytes], first: bool) -> Any:
        if self._pool is None and self._parallel and self._local_first <= 0:
            from .. import workers

            self._pool = workers.pool()
            self._parallel = self._pool is not None
        if self._pool is None:
            self._local_first -= 1
            return parse_block(lines, first, *self._local)
        if len(self._pending) >= IN_FLIGHT:
            self._finish_oldest()
            if self._pool is None:  # it broke meanwhile
                return parse_block(lines, first, *self._local)
        try:
            future = self._pool.submit(parse_block_as, lines, first, *self._remote)
        except RuntimeError:  # the pool was shut down or broke
            return self._fallback(lines, first)
        self._pending.append((future, lines, first))
        return future

    def resolved(self, parts: list[Any]) -> list[BlockRows]:
        while self._pending:
            self._finish_oldest()
        return [self._done.pop(id(p)) if id(p) in self._done else p for p in parts]

    def _finish_oldest(self) -> None:
        from concurrent.futures.process import BrokenProcessPool

        future, lines, first = self._pending.pop(0)
        try:
            rows = future.result()
        except (BrokenProcessPool, OSError):  # a worker could not start or died: the rest in-process
            rows = self._fallback(lines, first)
        self._done[id(future)] = rows

    def _fallback(self, lines: list[bytes], first: bool) -> BlockRows:
        from .. import workers

        workers.broken()
        self._pool, self._parallel = None, False
        return parse_block(lines, first, *self._local)


def _file_size(path: str) -> int:
    try:
        return os.path.getsize(path)
    except OSError:
        return -1


def _concat_releasing(frames: list) -> Any:
    """The frames one under the other, in one chunk, while the list lets them go. polars concatenates
    string views without copying their bytes, so the rows are held about once, and a block gathered
    from one row (a run of copies) stays one text shared by every view."""
    import polars as pl

    if len(frames) == 1:
        return frames.pop()
    frame = pl.concat(frames, rechunk=True)
    frames.clear()
    return frame


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
