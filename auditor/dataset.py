"""One input file -> a columnar Dataset (a polars frame, one row per physical line) and its line issues."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from .loading import SourceFile
from .normalize import NORMALIZERS, Normalized, detect_format, make_mapped, normalize_record
from .results import Severity

CHUNK_ROWS = 50_000

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


@dataclass(slots=True)
class Dataset:
    """A loaded file: `frame` has columns row, split, source, line, format, valid, error, system,
    prompt, response, label, tool_call; `row` is unique across every file of one audit."""

    path: str
    split: str
    format: str
    frame: Any  # polars.DataFrame
    issues: list[LineIssue] = field(default_factory=list)
    formats: dict[str, int] = field(default_factory=dict)
    sha256: str | None = None
    first_row: int = 0

    @property
    def lines(self) -> int:
        return self.frame.height

    def records(self) -> Iterator[tuple[int, int, dict[str, Any]]]:
        """(row, line, record) for every valid row, streamed again from the file (memory stays flat)."""
        import polars as pl

        valid = set(self.frame.filter(pl.col("valid"))["line"].to_list())
        for raw in SourceFile(self.path).lines():
            if raw.line in valid and raw.record is not None:
                yield self.first_row + raw.line - 1, raw.line, raw.record


def load_dataset(path: str, split: str, *, first_row: int = 0, fmt: str | None = None,
                 fields: Mapping[str, str] | None = None,
                 progress: Callable[[int], None] | None = None) -> Dataset:
    """Read and normalize one JSONL(.gz) file; broken lines become rows with an `error` and an issue."""
    import polars as pl

    source = SourceFile(path)
    forced = make_mapped(fields) if fields else (NORMALIZERS[fmt] if fmt else None)
    forced_name = "mapped" if fields else fmt
    columns: dict[str, list] = {name: [] for name in _COLUMNS}
    chunks: list[pl.DataFrame] = []
    issues: list[LineIssue] = []
    formats: Counter[str] = Counter()
    for raw in source.lines():
        if raw.warning:
            issues.append(LineIssue(raw.line, BYTE_ORDER_MARK, Severity.WARNING, raw.warning))
        record_format = None
        norm = None
        error = raw.error
        if raw.record is not None:
            record_format = forced_name or detect_format(raw.record)
            if record_format is None:
                keys = ", ".join(sorted(raw.record)[:8]) or "none"
                error = f"record matches no known format (keys: {keys}); pass --format or map fields with --field"
                issues.append(LineIssue(raw.line, UNRECOGNIZED_RECORD, Severity.ERROR, error))
            else:
                formats[record_format] += 1
                norm = normalize_record(raw.record, record_format, forced or NORMALIZERS[record_format])
                issues.extend(LineIssue(raw.line, FORMAT_ERROR, Severity.ERROR, m) for m in norm.errors)
                issues.extend(LineIssue(raw.line, FORMAT_WARNING, Severity.WARNING, m) for m in norm.warnings)
        elif error == "blank line":
            issues.append(LineIssue(raw.line, BLANK_LINE, Severity.WARNING, error))
        else:
            issues.append(LineIssue(raw.line, INVALID_LINE, Severity.ERROR, error or "unreadable line"))
        _append(columns, raw.line, record_format, error, norm)
        if len(columns["line"]) >= CHUNK_ROWS:
            chunks.append(_frame(columns))
            columns = {name: [] for name in _COLUMNS}
            if progress:
                progress(CHUNK_ROWS)
    if columns["line"] or not chunks:
        if progress:
            progress(len(columns["line"]))
        chunks.append(_frame(columns))
    frame = pl.concat(chunks, rechunk=True) if len(chunks) > 1 else chunks[0]
    dominant = _dominant(formats)
    if len(formats) > 1 and not forced_name:
        frame, issues = _flag_mixed(frame, issues, dominant, formats)
    frame = frame.with_columns(
        row=pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64),
        split=pl.lit(split),
        source=pl.lit(path),
    ).select(FRAME_COLUMNS)
    return Dataset(path, split, dominant, frame, issues, dict(sorted(formats.items())), source.sha256,
                   first_row)


_COLUMNS = ("line", "format", "error", "invalid", "system", "prompt", "response", "label", "tool_call")
FRAME_COLUMNS = ("row", "split", "source", "line", "format", "valid", "error", "system", "prompt",
                 "response", "label", "tool_call")


def _append(columns: dict[str, list], line: int, fmt: str | None, error: str | None,
            norm: Normalized | None) -> None:
    columns["line"].append(line)
    columns["format"].append(fmt)
    columns["error"].append(error)
    columns["invalid"].append(error is not None or norm is None or bool(norm.errors))
    for name in ("system", "prompt", "response", "label"):
        columns[name].append(getattr(norm, name) if norm is not None else None)
    columns["tool_call"].append(norm is not None and norm.tool_call)


def _frame(columns: dict[str, list]):
    import polars as pl

    frame = pl.DataFrame(
        columns,
        schema={"line": pl.Int64, "format": pl.String, "error": pl.String, "invalid": pl.Boolean,
                "system": pl.String, "prompt": pl.String, "response": pl.String, "label": pl.String,
                "tool_call": pl.Boolean},
    )
    return frame.with_columns(valid=~pl.col("invalid")).drop("invalid")


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
