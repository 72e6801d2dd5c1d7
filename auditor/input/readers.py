"""Inputs that are not JSONL files (JSON arrays, CSV and TSV, Parquet, Arrow and Feather, a Hugging
Face `save_to_disk` folder, standard input and named pipes) turned into JSONL once, so that every
input is read, blocked, cached and reported by the one JSONL path and nothing is lost on the way.

Each record becomes one line of a spool file in the audit's temporary directory, in the input's
order: line N of the spool is record N of the input (for CSV, the Nth row after the header, however
many physical lines its quoted fields span). Findings on such inputs point at `row N`: their unit,
`record`, is named in the report's inputs. A record that cannot be written as a JSON object (a JSON
array element that is a string, say) is kept as it is and becomes a finding like any broken line.

An input is recognised by its extension and then confirmed by its first bytes: a file whose content
says otherwise is refused with one line that says what it looks like (never a storm of broken lines
and a verdict on misread data). `--input-format` overrides the guess.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

from ..errors import DatasetLoadError

INPUT_FORMATS = ("jsonl", "json", "csv", "tsv", "parquet", "arrow", "hf")
TABLE = "table"  # the kind of an in-memory table handed to auditor.audit(): never read from a file
STDIN = "-"
STDIN_NAME = "<stdin>"
_EXTENSIONS = {".jsonl": "jsonl", ".ndjson": "jsonl", ".json": "json", ".csv": "csv", ".tsv": "tsv",
               ".parquet": "parquet", ".pq": "parquet", ".arrow": "arrow", ".feather": "arrow", ".ipc": "arrow"}
_PARQUET_MAGIC = b"PAR1"
_ARROW_FILE_MAGIC = b"ARROW1"
_ARROW_STREAM_START = b"\xff\xff\xff\xff"
_BATCH_ROWS = 50_000  # records converted at a time from a columnar file
_COPY_BYTES = 1 << 20


def display_name(path: str) -> str:
    """How an input is named in findings and reports."""
    return STDIN_NAME if path == STDIN else path


def input_format(path: str, forced: str | None = None) -> str:
    """The kind of an input: `forced` when given, else what its extension (or its folder) says,
    confirmed by its first bytes; JSONL (today's default) for anything else."""
    if forced is not None:
        if forced not in INPUT_FORMATS:
            raise DatasetLoadError(f"unknown input format {forced!r} (choose from {', '.join(INPUT_FORMATS)})")
        return forced
    if path == STDIN or _is_stream(path):
        return "jsonl"
    if os.path.isdir(path):
        if (Path(path) / "state.json").is_file() or (Path(path) / "dataset_info.json").is_file():
            return "hf"
        if (Path(path) / "dataset_dict.json").is_file():
            splits = sorted(p.name for p in Path(path).iterdir() if p.is_dir())
            raise DatasetLoadError(f"{path}: a Hugging Face DatasetDict with splits {', '.join(splits)}; pass one "
                                   f"split's folder, e.g. {Path(path) / (splits[0] if splits else 'train')}")
        raise DatasetLoadError(f"{path}: is a directory; pass its files (a quoted glob such as "
                               f"'{Path(path) / '*.parquet'}' works) or a Hugging Face save_to_disk folder")
    name = path.lower().removesuffix(".gz").removesuffix(".zst")
    kind = _EXTENSIONS.get(os.path.splitext(name)[1], "jsonl")
    head = _head(path)
    seen = _looks_like(head)
    if seen is not None and seen != kind and not (kind == "jsonl" and seen == "json"):
        hint = {"parquet": "Parquet", "arrow": "an Arrow/Feather file", "csv": "CSV", "tsv": "TSV",
                "json": "a JSON array"}[seen]
        raise DatasetLoadError(f"{path}: not {_NAMES[kind]}; it looks like {hint}: pass --input-format {seen}")
    return kind


_NAMES = {"jsonl": "JSONL", "json": "a JSON array", "csv": "CSV", "tsv": "TSV", "parquet": "Parquet",
          "arrow": "an Arrow/Feather file", "hf": "a Hugging Face dataset"}


def _looks_like(head: bytes) -> str | None:
    """What the first bytes of a file say it is, when they say it clearly."""
    if head.startswith(_PARQUET_MAGIC):
        return "parquet"
    if head.startswith(_ARROW_FILE_MAGIC) or head.startswith(_ARROW_STREAM_START):
        return "arrow"
    if head.startswith(b"\x1f\x8b") or head.startswith(b"\x28\xb5\x2f\xfd"):
        return None  # gzip or Zstandard: its lines tell
    text = head.lstrip(b"\xef\xbb\xbf \t\r\n")
    if text.startswith(b"["):
        return "json"
    if text.startswith(b"{"):
        return None  # JSONL, or one JSON object
    return _delimited_kind(text)


def _delimited_kind(text: bytes) -> str | None:
    """"csv" or "tsv" when the first complete lines (two at least) hold the same number of commas (or
    tabs), none of them a JSON value: a broken JSONL line is a finding, never a reason to refuse the file."""
    lines = text.split(b"\n")[:-1][:5]
    if len(lines) < 2 or any(line.lstrip()[:1] in (b"{", b"[") or b"\x00" in line for line in lines):
        return None
    for kind, mark in (("tsv", b"\t"), ("csv", b",")):
        counts = {line.count(mark) for line in lines}
        if len(counts) == 1 and counts.pop() >= 1:
            return kind
    return None


def _head(path: str, size: int = 4096) -> bytes:
    try:
        with open(path, "rb") as handle:
            return handle.read(size)
    except OSError:
        return b""  # the reader says why, naming the file


def _is_stream(path: str) -> bool:
    try:
        mode = os.stat(path).st_mode
    except OSError:
        return False
    return stat.S_ISFIFO(mode)  # a device (/dev/zero) never ends: refused when read as a file


def spools_in_background(path: str, kind: str) -> bool:
    """Whether an input is converted by a BackgroundSpool (a columnar file: polars does the work)."""
    return kind in _BATCHES and path != STDIN and not _is_stream(path)


def needs_spool(path: str, kind: str) -> bool:
    """Whether an input is converted (or, for a pipe, kept) before it is read as JSONL."""
    return kind != "jsonl" or path == STDIN or _is_stream(path)


def spool(path: str, kind: str, directory: str, limit: int) -> str:
    """Write the input's records as JSONL into `directory`; return the spool's path.

    `limit` (max_line_bytes) bounds a record's JSON: a longer one is written as it is and becomes the
    overlong-line finding when read.
    """
    import tempfile

    if kind != "jsonl" and (path == STDIN or _is_stream(path)):  # read the stream once, then convert the copy
        try:
            return spool(spool(path, "jsonl", directory, limit), kind, directory, limit)
        except DatasetLoadError as exc:
            raise DatasetLoadError(f"{display_name(path)}: {str(exc).partition(': ')[2]}") from None
    handle, target = tempfile.mkstemp(dir=directory, prefix="input-", suffix=".jsonl")
    try:
        with os.fdopen(handle, "wb") as out:
            if kind == "jsonl":  # standard input or a pipe: read once, every byte kept
                _copy_stream(path, out)
            elif kind in _BATCHES:
                for frame in batches(path, kind):
                    write_frame(frame, out)
            else:
                for line in _records(path, kind):
                    out.write(line)
                    out.write(b"\n")
    except DatasetLoadError:
        raise
    except Exception as exc:  # OSError, ValueError, and polars' own errors on a damaged Parquet or Arrow file
        raise _unreadable(path, kind, exc) from None
    return target


class BackgroundSpool:
    """A columnar input (parquet, arrow, hf) written as a JSONL spool by a thread beside the audit.

    polars reads the file and writes its JSON lines outside the GIL, so with a second core this costs
    little next to parsing: the loader reads the spool as it grows (`reader`), and never sees an end
    before the writer has finished. `finish` waits for the writer and raises what stopped it.
    """

    def __init__(self, path: str, kind: str, directory: str) -> None:
        import tempfile
        import threading

        handle, self.path = tempfile.mkstemp(dir=directory, prefix="input-", suffix=".jsonl")
        self._out = os.fdopen(handle, "wb")
        self._changed = threading.Condition()
        self._done = False
        self._stopped = False
        self.error: DatasetLoadError | None = None
        self._thread = threading.Thread(target=self._write, args=(path, kind), name="auditor-spool", daemon=True)
        self._thread.start()

    def _write(self, path: str, kind: str) -> None:
        try:
            with self._out as out:
                for frame in batches(path, kind):
                    if self._stopped:
                        break
                    write_frame(frame, out)
                    out.flush()
                    with self._changed:
                        self._changed.notify_all()
        except Exception as exc:  # noqa: BLE001 - handed to the reading thread
            self.error = exc if isinstance(exc, DatasetLoadError) else _unreadable(path, kind, exc)
        finally:
            with self._changed:
                self._done = True
                self._changed.notify_all()

    def reader(self, handle: Any) -> Any:
        """`handle` (the spool opened for reading) read as the writer writes it."""
        return _Following(handle, self)

    def wait(self) -> bool:
        """Wait until more is written or the writer ends; True when it has ended."""
        with self._changed:
            if not self._done:
                self._changed.wait(0.5)
            return self._done

    def finish(self) -> None:
        self._thread.join()
        if self.error is not None:
            raise self.error

    def cancel(self) -> None:
        self._stopped = True
        self._thread.join()


class _Following:
    """Reads a file that a BackgroundSpool is still writing: an empty read waits for more, until the end."""

    def __init__(self, handle: Any, spool: BackgroundSpool) -> None:
        self._handle = handle
        self._spool = spool

    def read(self, size: int = -1) -> bytes:
        while True:
            ended = self._spool._done  # taken before reading: when set, all that was written is readable
            data = self._handle.read(size)
            if data:
                return data
            if ended:
                if self._spool.error is not None:
                    raise self._spool.error
                return b""
            self._spool.wait()


def _unreadable(path: str, kind: str, exc: Exception) -> DatasetLoadError:
    return DatasetLoadError(f"{display_name(path)}: cannot read as {_NAMES[kind]}: {_reason(exc)}")


def _reason(exc: Exception) -> str:
    text = str(getattr(exc, "strerror", None) or exc).strip().splitlines()
    return (text[0] if text else type(exc).__name__)[:200]


def _copy_stream(path: str, out: Any) -> None:
    import sys

    source = sys.stdin.buffer if path == STDIN else open(path, "rb")  # noqa: SIM115
    try:
        while chunk := source.read(_COPY_BYTES):
            out.write(chunk)
    finally:
        if source is not sys.stdin.buffer:
            source.close()


def _records(path: str, kind: str) -> Iterator[bytes]:
    if kind == "json":
        return _json_array(path)
    if kind in ("csv", "tsv"):
        return _delimited(path, "\t" if kind == "tsv" else ",")
    raise DatasetLoadError(f"{path}: unknown input format {kind!r}")


def write_frame(frame: Any, out: Any) -> None:
    """A frame's rows as JSON lines into `out`: by polars' own writer (twice as fast as a dict per row)
    when every column is text, numbers, booleans or nested lists and structs of them, whose JSON the
    two agree on; else one `orjson` line per row (dates, decimals, binary: written as orjson writes)."""
    if _plain_json(frame.schema):
        frame.write_ndjson(out)
        return
    for line in _frames_as_lines([frame]):
        out.write(line)
        out.write(b"\n")


def _plain_json(schema: Any) -> bool:
    import polars as pl

    def plain(dtype: Any) -> bool:
        if isinstance(dtype, (pl.List, pl.Array)):
            return plain(dtype.inner)
        if isinstance(dtype, pl.Struct):
            return all(plain(f.dtype) for f in dtype.fields)
        return dtype == pl.String or dtype == pl.Boolean or dtype == pl.Null or dtype.is_integer() \
            or dtype in (pl.Float32, pl.Float64)

    return all(plain(dtype) for dtype in schema.values())


def _json_array(path: str) -> Iterator[bytes]:
    """The elements of a JSON array, each as one line (an object stays as written in content, re-encoded
    compactly); a file that holds one object is one record, and a JSONL file named .json is read as JSONL."""
    import orjson

    from .loading import SourceFile

    source = SourceFile(path)
    with open(path, "rb") as handle:
        data = source.stream(handle).read()
    try:
        value = orjson.loads(data)
    except orjson.JSONDecodeError:
        # many JSONL files are named .json: when the first line is a JSON object on its own, lines it is
        first = data.lstrip().split(b"\n", 1)[0]
        try:
            is_object = isinstance(orjson.loads(first), dict)
        except orjson.JSONDecodeError:
            is_object = False
        if is_object:
            yield from (line.rstrip(b"\r") for line in data.split(b"\n") if line.strip())
            return
        raise
    if isinstance(value, dict):
        value = [value]
    if not isinstance(value, list):
        raise DatasetLoadError(f"{path}: the JSON value is not an array of records")
    for item in value:
        yield orjson.dumps(item)


def _delimited(path: str, delimiter: str) -> Iterator[bytes]:
    """Each row after the header as a JSON object of its columns (all strings: CSV has no types); a row
    with more cells than the header keeps the extra ones under `_extra`, so nothing is dropped."""
    import csv
    import io

    import orjson

    from .loading import SourceFile

    source = SourceFile(path)
    with open(path, "rb") as handle:
        text = io.TextIOWrapper(_Readable(source.stream(handle)), encoding="utf-8-sig", errors="strict", newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            header = next(reader)
        except StopIteration:
            return
        except UnicodeDecodeError as exc:
            raise DatasetLoadError(f"{path}: not UTF-8 text ({exc.reason})") from None
        names = _unique(header)
        try:
            for cells in reader:
                record: dict[str, Any] = dict(zip(names, cells))
                if len(cells) > len(names):
                    record["_extra"] = cells[len(names):]
                yield orjson.dumps(record)
        except UnicodeDecodeError as exc:
            raise DatasetLoadError(f"{path}: not UTF-8 text ({exc.reason})") from None
        except csv.Error as exc:
            raise DatasetLoadError(f"{path}: line {reader.line_num}: {exc}") from None


class _Readable:
    """A byte stream with what io.TextIOWrapper asks of one (the readers hash and bound what they read)."""

    def __init__(self, stream: Any) -> None:
        self._stream = stream
        self.closed = False

    def readable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def seekable(self) -> bool:
        return False

    def read(self, size: int = -1) -> bytes:
        return self._stream.read(size)

    def read1(self, size: int = -1) -> bytes:
        return self._stream.read(size if size and size > 0 else 1 << 16)

    def readinto(self, buffer: Any) -> int:
        data = self._stream.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True


def _unique(names: list[str]) -> list[str]:
    """Header names, a repeated one suffixed (`name_2`), so no column overwrites another."""
    seen: dict[str, int] = {}
    out = []
    for name in names:
        name = name.strip()
        seen[name] = seen.get(name, 0) + 1
        out.append(name if seen[name] == 1 else f"{name}_{seen[name]}")
    return out


def _parquet_batches(path: str) -> Iterator[Any]:
    """A Parquet file a slice of rows at a time (polars reads the row groups a slice needs)."""
    import polars as pl

    rows = pl.scan_parquet(path).select(pl.len()).collect().item()
    for start in range(0, rows, _BATCH_ROWS):
        yield pl.scan_parquet(path).slice(start, _BATCH_ROWS).collect()


def _arrow_batches(path: str) -> Iterator[Any]:
    import polars as pl

    if _head(path, 8).startswith(_ARROW_STREAM_START):
        frame = pl.read_ipc_stream(path)
    else:
        frame = pl.read_ipc(path)
    for start in range(0, frame.height, _BATCH_ROWS):
        yield frame.slice(start, _BATCH_ROWS)


def _hf_batches(path: str) -> Iterator[Any]:
    """The Arrow files of a `save_to_disk` folder, in the order its state.json lists them (the
    `datasets` library itself is not imported)."""
    import orjson

    folder = Path(path)
    files: list[Path] = []
    state = folder / "state.json"
    if state.is_file():
        listed = orjson.loads(state.read_bytes()).get("_data_files") or []
        files = [folder / str(entry["filename"]) for entry in listed if isinstance(entry, dict) and "filename" in entry]
    if not files:
        files = sorted(folder.glob("*.arrow"))
    if not files:
        raise DatasetLoadError(f"{path}: a Hugging Face dataset folder without Arrow files")
    for file in files:
        if not file.resolve().is_relative_to(folder.resolve()):
            raise DatasetLoadError(f"{path}: state.json names a file outside the folder: {file}")
        yield from _arrow_batches(str(file))


def spool_table(table: Any, directory: str) -> str:
    """Write an in-memory table (a polars DataFrame, or a list of records) as a JSONL spool in
    `directory`; return its path. A record that is not a JSON object is written as it is and becomes
    a finding, as in a JSON array."""
    import tempfile

    handle, target = tempfile.mkstemp(dir=directory, prefix="table-", suffix=".jsonl")
    with os.fdopen(handle, "wb") as out:
        write_table(table, out)
    return target


def write_table(table: Any, out: Any) -> None:
    """A polars DataFrame's rows (see `write_frame`), or a list of records, as JSON lines into `out`."""
    import orjson

    if not isinstance(table, list):
        for start in range(0, table.height, _BATCH_ROWS):
            write_frame(table.slice(start, _BATCH_ROWS), out)
        return
    for item in table:
        out.write(orjson.dumps(item, default=str, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_SERIALIZE_NUMPY))
        out.write(b"\n")


_BATCHES = {"parquet": _parquet_batches, "arrow": _arrow_batches, "hf": _hf_batches}


def batches(path: str, kind: str) -> Iterator[Any]:
    """The records of a columnar input (parquet, arrow, hf) as polars frames, a slice at a time."""
    return _BATCHES[kind](path)


def _frames_as_lines(frames: Iterable[Any]) -> Iterator[bytes]:
    import orjson

    for frame in frames:
        for row in frame.iter_rows(named=True):
            yield orjson.dumps(row, default=str, option=orjson.OPT_NON_STR_KEYS)
