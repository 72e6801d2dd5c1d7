"""The incremental cache: per block of lines of every input file, the normalized rows and per-file artefacts.

Layout (default `.auditor_cache/` next to the config file, else in the working directory):

    .auditor_cache/
      .gitignore        "*": the cache never ends up in a commit
      CACHEDIR.TAG      backup tools skip it
      v1/<key>.pack     one input file's blocks: their normalized rows (Arrow IPC) + line issues + formats,
                        or their values of one artefact registered with `ctx.per_file(...)`
      v1/<key>.art      one file's value of an artefact that is not row-aligned
      v1/<key>.report   one whole report

Files are read as content-defined blocks of lines (`auditor.dataset.iter_blocks`: a block ends after a
line whose hash has its low 9 bits zero, 256..4096 lines), so editing, inserting or deleting one line
changes one block (and at most the next) and every other block keeps its values. A block's key is
xxh3_128 of (tool version, code fingerprint, cache layout, format, field mapping, whether it starts the
file, its line count, xxh3_128 of its bytes): it names the content, never the position, so values hold
no line numbers or row ids (issues count lines from the block start; the loader shifts them). File-level
facts (mixed formats, the dominant format, the SHA-256) are decided after the blocks are assembled.

A pack is found by the file's path and what it holds (rows with their format settings, or an artefact
key), and lists the keys of the blocks it was made of: a block whose key is listed is served from it,
any other block is rebuilt, and the pack is rewritten for the file as it is now. One entry per file
and artefact, rather than one per block, because reading an entry has a fixed cost (~0.5 ms) that a
hundred blocks times a dozen artefacts would pay on every edited re-run; and a file's pack replaces
its previous one, so edits do not pile up stale entries.

Every entry is one file written to a temporary name and moved into place with os.replace (atomic), and
carries its own key and a checksum of its payload: a truncated, corrupted or foreign entry is ignored,
deleted and rebuilt. Nothing here is ever fatal; a cache that cannot be written just stops caching.
The cache never changes a report: a warm or partly warm run gives byte-identical JSON to a cold run.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import orjson
import xxhash

from . import __version__
from .dataset import BLOCK_COLUMNS, Dataset

CACHE_DIR_NAME = ".auditor_cache"
LAYOUT = 1
MAGIC = b"AUDITOR-CACHE\x00\x01"
MAX_BYTES = 1 << 30  # least recently used entries are removed beyond this
_HASH_CHUNK = 1 << 20
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This directory is a cache of dataset-auditor.\n"
# Columns a `.block` entry keeps; line, row, split and source depend on the position and the audit.
_STORED = BLOCK_COLUMNS


class CacheMiss(Exception):
    """An entry that is absent, stale or damaged: rebuild it."""


def default_cache_dir(config_source: str | None) -> Path:
    """Next to the config file when there is one, else in the working directory."""
    if config_source and os.path.isfile(config_source):
        return Path(config_source).resolve().parent / CACHE_DIR_NAME
    return Path.cwd() / CACHE_DIR_NAME


def open_cache(directory: str | os.PathLike[str]) -> Cache | None:
    """The cache in `directory`, created with its .gitignore; None (no caching) when it cannot be."""
    root = Path(directory)
    try:
        (root / f"v{LAYOUT}").mkdir(parents=True, exist_ok=True)
        if not (root / ".gitignore").is_file():
            _atomic_write(root / ".gitignore", b"# Created by dataset-auditor\n*\n")
        if not (root / "CACHEDIR.TAG").is_file():
            _atomic_write(root / "CACHEDIR.TAG", _TAG.encode())
    except OSError:
        return None
    return Cache(root)


def file_digest(path: str) -> str:
    """xxh3_128 of a file's bytes (compressed bytes for .gz): the content part of every key."""
    digest = xxhash.xxh3_128()
    with open(path, "rb") as handle:
        while chunk := handle.read(_HASH_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


class Cache:
    """Entries of one cache directory. Used by the engine (`load`, `store`) and the context (`per_file`)."""

    def __init__(self, root: Path) -> None:
        self.root = Path(root)
        self.entries = self.root / f"v{LAYOUT}"
        self.hits = 0
        self.misses = 0
        self.writes = 0
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}
        self._broken = False
        self.opened_ns = time.time_ns() - 2 * 10**9  # entries used since (mtime, coarse on some file systems)
        self._writer: Any = None  # a one-thread executor for pack writes, started by the first one
        self._pending: list[Any] = []

    # ------------------------------------------------------------------ blocks of loaded files

    def block_key(self, settings: Any, first: bool, lines: list[bytes]) -> str:
        """The entry key of one block: its bytes and the content settings (format, field mapping)."""
        content = xxhash.xxh3_128_hexdigest(b"\n".join(lines))
        parts = ["block", __version__, code_fingerprint(), LAYOUT, settings, first, len(lines), content]
        return xxhash.xxh3_128_hexdigest(orjson.dumps(parts))

    def rows_pack(self, path: str, settings: Any) -> Pack | None:
        """The row pack of a file as last loaded with these format settings, or None."""
        pack = self._get_pack(self._pack_entry("rows", path, settings))
        if pack is None or tuple(pack.value.columns) != _STORED:
            return None
        header = pack.header
        if not (isinstance(header.get("issues"), list) and isinstance(header.get("formats"), list)
                and len(header["issues"]) == len(header["formats"]) == len(pack.keys)):
            return None
        return pack

    def block_rows(self, pack: Pack, key: str, lines: int) -> Any:
        """The parsed rows (auditor.dataset.BlockRows) of a block held by a row pack, or None."""
        from .dataset import BlockRows, LineIssue
        from .results import Severity

        found = pack.find(key, lines)
        if found is None:
            return None
        index, at = found
        try:
            issues = [LineIssue(int(line), str(code), Severity(severity), str(message))
                      for line, code, severity, message in pack.header["issues"][index]]
            formats = {str(name): int(count) for name, count in pack.header["formats"][index]}
        except (TypeError, ValueError):  # a pack that passed its checksum but is not what this version writes
            return None
        return BlockRows(pack.value.slice(at, lines), issues, formats)

    def put_rows_pack(self, path: str, settings: Any, blocks: list[Any], parts: list[Any], frame: Any) -> None:
        """Keep a loaded file's rows: `frame` is its blocks' frames concatenated, `parts` their BlockRows (their
        formats and issues are read; their frames may already be let go)."""
        header = {"formats": [list(p.formats.items()) for p in parts],
                  "issues": [[[i.line, i.code, i.severity.value, i.message] for i in p.issues] for p in parts]}
        self._put_pack(self._pack_entry("rows", path, settings), blocks, frame.select(_STORED), header)

    def _content(self, path: str) -> tuple[tuple[int, int], str]:
        """(stat stamp, content digest) of a file, hashed once per audit while it stays unchanged."""
        stamp = _stamp(path)
        memo = self._digests.get(path)
        if memo is None or memo[0] != stamp:
            memo = self._digests[path] = (stamp, file_digest(path))
        return memo

    # ------------------------------------------------------------------ per-file artefacts

    def artefact(self, data: Any, key: Any, build: Callable[[Any], Any]) -> Any:
        """build(data.frame) for one whole file, from its entry when the file and the key are unchanged."""
        entry = self._art_entry(_file_owner(data), key)
        value = self._get_value(entry)
        if value is None:
            value = build(data.frame)
            self._put_value(entry, value)
        return value

    def block_artefact(self, data: Any, key: Any, build: Callable[[Any], Any], context: Any = None) -> Any:
        """build() per block of one file, each unchanged block's value from the file's pack.

        The missing blocks are built a contiguous run at a time (a cold file is one run: build gets the
        file's own frame). A value that is not row-aligned (one entry per row along its first axis) or
        whose blocks do not concatenate to the same type falls back to `artefact` (the whole file).
        """
        blocks = data.blocks
        entry = self._pack_entry("artefact", data.path, key)
        pack = self._get_pack(entry)
        if pack is not None and pack.keys == [b.key for b in blocks]:
            self.hits += len(blocks)
            return pack.value
        parts: list[Any] = [pack.part(b.key, b.lines) if pack is not None else None for b in blocks]
        missing = [i for i, part in enumerate(parts) if part is None]
        self.hits += len(blocks) - len(missing)
        whole = self._art_entry(_file_owner(data), key)
        if missing:
            value = self._get_value(whole, count=False)
            if value is not None:  # a value that is not row-aligned, cached for the whole file
                self.hits += 1
                return value
            self.misses += len(missing)
            if not self._build_runs(data, build, context, parts, missing):
                return self._whole(data, whole, build, None)
        value = _join(parts)
        if value is None:
            return self._whole(data, whole, build, None)
        self._put_pack(entry, blocks, value)
        return value

    def _build_runs(self, data: Any, build: Callable[[Any], Any], context: Any, parts: list[Any],
                    missing: list[int]) -> bool:
        """Fill `parts[i]` for the missing blocks, a contiguous run of blocks per build; False when the
        value turns out not to be row-aligned."""
        blocks = data.blocks
        runs: list[list[int]] = []
        for i in missing:
            if runs and runs[-1][-1] == i - 1:
                runs[-1].append(i)
            else:
                runs.append([i])
        for run in runs:
            start = blocks[run[0]].start
            stop = blocks[run[-1]].start + blocks[run[-1]].lines
            if start == 0 and stop == data.lines:
                value = build(data.frame)
            else:
                with _span_view(context, data, start, stop) as frame:
                    value = build(frame)
            value_kind(value)
            pieces = _split(value, [blocks[i].lines for i in run])
            if pieces is None:
                return False
            for i, piece in zip(run, pieces):
                parts[i] = piece
        return True

    def _whole(self, data: Any, entry: Path, build: Callable[[Any], Any], value: Any) -> Any:
        if value is None:
            value = build(data.frame)
        self._put_value(entry, value)
        return value

    def _art_entry(self, owner: str, key: Any) -> Path:
        return self.entries / f"{xxhash.xxh3_128_hexdigest(owner.encode() + b'|' + canonical_key(key))}.art"

    def _pack_entry(self, kind: str, path: str, key: Any) -> Path:
        owner = orjson.dumps([kind, os.path.realpath(path), __version__, code_fingerprint(), LAYOUT])
        return self.entries / f"{xxhash.xxh3_128_hexdigest(owner + b'|' + canonical_key(key))}.pack"

    def _get_pack(self, entry: Path) -> Pack | None:
        try:
            header, payload = self._read(entry, entry.stem)
            value = decode_value(header["type"], payload)
            pack = Pack([str(k) for k, _ in header["blocks"]], [int(n) for _, n in header["blocks"]], value,
                        header)
        except (CacheMiss, KeyError, TypeError, ValueError):
            return None
        return pack if pack.aligned() else None

    def _put_pack(self, entry: Path, blocks: list[Any], value: Any, header: dict[str, Any] | None = None) -> None:
        """Write a pack on the background writer: polars compresses and the disk writes on the second core
        while the checks go on (an edited re-run writes every pack of the edited file). `flush` waits."""
        kind = value_kind(value)
        if self._broken:
            return
        header = {**(header or {}), "kind": "pack", "blocks": [[b.key, b.lines] for b in blocks]}
        if kind == "ndarray":
            value = value.copy()  # arrays are mutable: write what was built, whatever a check does next
        if self._writer is None:
            from concurrent.futures import ThreadPoolExecutor

            self._writer = ThreadPoolExecutor(1, thread_name_prefix="auditor-cache")
        self._pending.append(self._writer.submit(self._write_pack, entry, header, value))

    def _write_pack(self, entry: Path, header: dict[str, Any], value: Any) -> None:
        try:
            kind, payload = encode_value(value)
            self._write(entry, entry.stem, {**header, "type": kind}, payload)
        except Exception:  # a cache that cannot be written must not stop the audit
            self._broken = True

    def flush(self) -> None:
        """Wait until every entry handed to the background writer is on disk."""
        pending, self._pending = self._pending, []
        for future in pending:
            future.result()
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None

    def _get_value(self, entry: Path, *, count: bool = True) -> Any:
        try:
            header, payload = self._read(entry, entry.stem)
            value = decode_value(header["type"], payload)
        except (CacheMiss, KeyError, TypeError):
            if count:
                self.misses += 1
            return None
        if count:
            self.hits += 1
        return value

    def _put_value(self, entry: Path, value: Any) -> None:
        kind = value_kind(value)  # a value of the wrong type fails with and without a cache
        if self._broken:
            return
        try:
            kind, payload = encode_value(value)
            self._write(entry, entry.stem, {"kind": "artefact", "type": kind}, payload)
        except TypeError:
            if kind == "ndarray":
                raise  # an object array: the artefact itself is wrong
            self._broken = True
        except Exception:
            self._broken = True

    # ------------------------------------------------------------------ whole reports

    def report_key(self, config: Any, plugins: list[Any], schema: Any) -> str | None:
        """The key of a whole audit: every input's content, the settings, the schema and the checks' code.

        When nothing of that changed, the report cannot differ either (reports are deterministic),
        so a re-run on unchanged data is served whole instead of recomputing every check.
        """
        inputs = []
        for split, paths in (("train", config.train), ("eval", config.eval)):
            for path in paths:
                try:
                    inputs.append([split, path, self._content(path)[1]])
                except OSError:
                    return None
        checks = [[p.id, p.dist, p.version, _source_digest(p.cls)] for p in plugins]
        try:
            settings = orjson.dumps(config, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS,
                                    default=_plain)
            parts = orjson.dumps(["report", __version__, code_fingerprint(), LAYOUT, inputs, checks, schema],
                                 option=orjson.OPT_SORT_KEYS)
        except TypeError:
            return None
        return xxhash.xxh3_128_hexdigest(settings + b"|" + parts)

    def get_report(self, key: str) -> dict[str, Any] | None:
        try:
            _, payload = self._read(self.entries / f"{key}.report", key)
            report = orjson.loads(payload)
        except (CacheMiss, orjson.JSONDecodeError):
            self.misses += 1
            return None
        self.hits += 1
        return report if isinstance(report, dict) else None

    def put_report(self, key: str, report: dict[str, Any]) -> None:
        if self._broken:
            return
        try:
            # non-str keys become strings, as in the JSON report itself
            self._write(self.entries / f"{key}.report", key, {"kind": "report"},
                        orjson.dumps(report, option=orjson.OPT_NON_STR_KEYS))
        except Exception:  # a cache that cannot be written must not stop the audit
            self._broken = True

    # ------------------------------------------------------------------ housekeeping

    def prune(self, max_bytes: int = MAX_BYTES) -> int:
        """Remove the least recently used entries beyond `max_bytes`; returns how many were removed.

        Entries this audit read or wrote are kept even beyond `max_bytes`: removing them would make the
        next run of the same audit start cold (a dataset whose entries outgrow the limit would never be
        served from the cache at all).
        """
        try:
            entries = []
            for item in os.scandir(self.entries):
                if item.is_file():
                    stat = item.stat()
                    entries.append((stat.st_mtime_ns, stat.st_size, item.path))
        except OSError:
            return 0
        total = sum(size for _, size, _ in entries)
        removed = 0
        for used, size, path in sorted(entries):
            if total <= max_bytes or used >= self.opened_ns:
                break
            try:
                os.remove(path)
            except OSError:
                continue
            total -= size
            removed += 1
        return removed

    # ------------------------------------------------------------------ entry format

    def _read(self, entry: Path, key: str) -> tuple[dict[str, Any], bytes]:
        """MAGIC, u32 header length, header JSON, payload; the header names its key and payload checksum."""
        blob = read_entry(entry)
        try:
            if not blob.startswith(MAGIC):
                raise ValueError("not a cache entry")
            (length,) = struct.unpack_from("<I", blob, len(MAGIC))
            start = len(MAGIC) + 4
            header = orjson.loads(blob[start : start + length])
            payload = blob[start + length :]
            if (not isinstance(header, dict) or header.get("key") != key
                    or header.get("size") != len(payload) or header.get("xxh3") != _checksum(key, payload)):
                raise ValueError("stale or damaged entry")
        except (ValueError, struct.error, orjson.JSONDecodeError):
            _remove(entry)
            raise CacheMiss from None
        try:
            os.utime(entry)  # recently used: pruned last
        except OSError:
            pass
        return header, payload

    def _write(self, entry: Path, key: str, header: dict[str, Any], payload: bytes) -> None:
        head = orjson.dumps({**header, "key": key, "size": len(payload), "xxh3": _checksum(key, payload)})
        _atomic_write(entry, MAGIC + struct.pack("<I", len(head)) + head, payload)  # no copy of the payload
        self.writes += 1


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


def per_file(cache: Cache | None, datasets: list[Any], key: Any, build: Callable[[Any], Any], *,
             concat: bool = True, blocks: bool | None = None, context: Any = None) -> Any:
    """build(frame) for every input file, each from the cache when possible; see AuditContext.per_file.

    `blocks` (default: `concat`): build and cache the value block by block (the value is row-aligned and
    row-local), else file by file. Without a cache every file is built whole, in one call.
    """
    canonical_key(key)  # a bad key fails the same way with and without a cache
    if blocks is None:
        blocks = concat
    values = []
    for data in datasets:
        if isinstance(data, SpanView):
            continue  # a block being built, not a file
        if cache is None or not data.blocks or data.blocks[0].key is None:
            value = build(data.frame)
            value_kind(value)
        elif blocks:
            value = cache.block_artefact(data, key, build, context)
        else:
            value = cache.artefact(data, key, build)
        values.append(value)
    return combine(values) if concat else values


@dataclass(slots=True)
class SpanView(Dataset):
    """Rows [start, stop) of a loaded file, seen as a Dataset while an artefact is built for them.

    Builders find "their" file with `next(d for d in ctx.datasets if d.frame is frame)` and slice
    audit-wide arrays with its `first_row` and `lines`; while a run of blocks is built, a view of the
    run is appended to `ctx.datasets` so that this keeps working for part of a file.
    """


@contextmanager
def _span_view(context: Any, data: Any, start: int, stop: int) -> Iterator[Any]:
    frame = data.frame.slice(start, stop - start)
    if context is None:
        yield frame
        return
    view = SpanView(data.path, data.split, data.format, frame, [], {}, None, data.first_row + start)
    real = context.datasets
    _ = context.frame  # memoized before the view is visible: ctx.frame stays the files' rows
    context.datasets = [*real, view]
    try:
        yield frame
    finally:
        context.datasets = real


def _split(value: Any, sizes: list[int]) -> list[Any] | None:
    """A row-aligned value cut into pieces of `sizes` rows; None when it is not row-aligned."""
    kind = value_kind(value)
    if kind == "ndarray" and value.ndim == 0:
        return None
    if len(value) != sum(sizes):
        return None
    pieces, at = [], 0
    for size in sizes:
        pieces.append(value.slice(at, size) if kind in ("series", "frame") else value[at : at + size])
        at += size
    return pieces


def _join(parts: list[Any]) -> Any:
    """Blocks of one file as one value, or None when they are not of one type (dtype, shape, schema)."""
    first = parts[0]
    if isinstance(first, list):
        return [item for part in parts for item in part] if all(isinstance(p, list) for p in parts) else None
    if len(parts) == 1:
        return first
    import numpy as np
    import polars as pl

    if isinstance(first, np.ndarray):
        if all(isinstance(p, np.ndarray) and p.dtype == first.dtype and p.shape[1:] == first.shape[1:]
               for p in parts):
            return np.concatenate(parts)
        return None
    if isinstance(first, pl.Series):
        if all(isinstance(p, pl.Series) and p.dtype == first.dtype and p.name == first.name for p in parts):
            return pl.concat(parts, rechunk=True)
        return None
    if isinstance(first, pl.DataFrame):
        if all(isinstance(p, pl.DataFrame) and p.schema == first.schema for p in parts):
            return pl.concat(parts, rechunk=True)
        return None
    return None


def canonical_key(key: Any) -> bytes:
    """A stable byte form of an artefact key (str, int, float, bool, None and tuples/lists of them)."""
    def check(value: Any) -> None:
        if isinstance(value, (list, tuple)):
            for item in value:
                check(item)
        elif not (value is None or isinstance(value, (str, int, float, bool))):
            raise TypeError(f"a per-file artefact key holds only str, int, float, bool, None and tuples, "
                            f"not {type(value).__name__}")
    check(key)
    return orjson.dumps(key)


def value_kind(value: Any) -> str:
    """numpy arrays, polars Series/DataFrames and JSON lists: the values a per-file artefact may be."""
    if isinstance(value, list):
        return "list"
    kind = {"ndarray": "ndarray", "Series": "series", "DataFrame": "frame"}.get(type(value).__name__)
    module = type(value).__module__.partition(".")[0]
    if kind is None or module not in ("numpy", "polars"):
        raise TypeError(f"a per-file artefact must be a numpy array, a polars Series or DataFrame, or a list, "
                        f"not {type(value).__name__}")
    return kind


def encode_value(value: Any) -> tuple[str, bytes | memoryview]:
    kind = value_kind(value)
    buffer = io.BytesIO()
    if kind == "ndarray":
        import numpy as np

        if value.dtype.hasobject:
            raise TypeError("a per-file numpy artefact cannot hold Python objects")
        np.save(buffer, value, allow_pickle=False)
    elif kind in ("series", "frame"):
        import polars as pl

        frame = value.to_frame() if kind == "series" else value
        # text compresses ~3x and lz4 reads at GB/s; numbers do not compress: they are read as stored
        text = any(dtype == pl.String for dtype in frame.schema.values())
        frame.write_ipc(buffer, compression="lz4" if text else "uncompressed")
    else:
        return kind, orjson.dumps(value)
    return kind, buffer.getbuffer()


def decode_value(kind: str, payload: bytes) -> Any:
    import numpy as np
    import polars as pl

    try:
        if kind == "ndarray":
            return np.load(io.BytesIO(payload), allow_pickle=False)
        if kind == "series":
            return pl.read_ipc(io.BytesIO(payload)).to_series()
        if kind == "frame":
            return pl.read_ipc(io.BytesIO(payload))
        if kind == "list":
            return orjson.loads(payload)
    except Exception:  # damaged payload that passed the checksum: treat as absent
        raise CacheMiss from None
    raise CacheMiss


def combine(values: list[Any]) -> Any:
    """Concatenate per-file values in file order (the order of ctx.frame)."""
    if not values:
        return values
    first = values[0]
    if isinstance(first, list):
        return [item for value in values for item in value]
    if len(values) == 1:
        return first
    import numpy as np
    import polars as pl

    if isinstance(first, np.ndarray):
        return np.concatenate(values)
    if isinstance(first, (pl.Series, pl.DataFrame)):
        return pl.concat(values, rechunk=False)
    raise TypeError(f"cannot concatenate per-file values of type {type(first).__name__}")


def _file_owner(data: Any) -> str:
    """What a whole-file artefact entry belongs to: the file's blocks (content and settings), in order."""
    return "file:" + xxhash.xxh3_128_hexdigest("|".join(str(b.key) for b in data.blocks).encode())


def _stamp(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _checksum(key: str, payload: bytes) -> str:
    """The entry's checksum covers its key (which holds the code fingerprint) as well as its payload:
    a payload moved under another key, or from another version of the code, does not verify."""
    digest = xxhash.xxh3_128(key.encode())
    digest.update(b"\0")
    digest.update(payload)
    return digest.hexdigest()


def read_entry(entry: Path) -> bytes:
    """An entry's bytes, read only from a regular file inside the cache, no larger than the cache may be:
    a FIFO, a device or a link planted in the cache directory is a miss (and is removed), never a hang."""
    import stat

    try:
        fd = os.open(entry, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0))
    except OSError:
        if entry.is_symlink():
            _remove(entry)
        raise CacheMiss from None
    try:
        info = os.fstat(fd)
        if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_BYTES:
            _remove(entry)
            raise CacheMiss
        with os.fdopen(fd, "rb") as handle:
            fd = -1
            return handle.read(info.st_size + 1)
    except OSError:
        raise CacheMiss from None
    finally:
        if fd >= 0:
            os.close(fd)


def _atomic_write(path: Path, *chunks: Any) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            for chunk in chunks:
                handle.write(chunk)
        os.replace(tmp, path)
    except BaseException:
        _remove(Path(tmp))
        raise


def _remove(path: Path) -> None:
    try:
        os.remove(path)
    except OSError:
        pass


def _plain(value: Any) -> Any:
    """Settings dataclasses as plain JSON for a key (tuples and dicts are handled by orjson)."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)


_FINGERPRINT: str | None = None


def code_fingerprint() -> str:
    """xxh3 of the engine's own source: an edited checkout (same version number) gets new entries."""
    global _FINGERPRINT
    if _FINGERPRINT is None:
        digest = xxhash.xxh3_64()
        package = Path(__file__).resolve().parent
        for path in sorted(package.rglob("*.py")):
            try:
                digest.update(path.relative_to(package).as_posix().encode() + b"\0" + path.read_bytes())
            except OSError:
                digest.update(path.name.encode())
        _FINGERPRINT = digest.hexdigest()
    return _FINGERPRINT


def _source_digest(cls: type) -> str:
    """xxh3 of the folder of the file defining a check class (its helpers in the same folder included)."""
    import inspect

    try:
        return folder_digest(inspect.getsourcefile(cls) or "")
    except TypeError:
        return f"{cls.__module__}.{cls.__qualname__}"


def code_digest(function: Callable[..., Any]) -> str:
    """xxh3 of the folder of the file defining `function` (a check's artefact builder): an edit there,
    a changed constant included, keys new entries without any version to bump by hand."""
    code = getattr(function, "__code__", None)
    return folder_digest(code.co_filename) if code is not None else type(function).__qualname__


_FOLDER_DIGESTS: dict[str, str] = {}


def folder_digest(source_file: str) -> str:
    """xxh3 of every .py file beside `source_file` (names and bytes), computed once per process."""
    folder = str(Path(source_file).resolve().parent)
    if folder not in _FOLDER_DIGESTS:
        digest = xxhash.xxh3_64()
        try:
            for path in sorted(Path(folder).glob("*.py")):
                digest.update(path.name.encode() + b"\0" + path.read_bytes())
        except OSError:
            digest.update(folder.encode())
        _FOLDER_DIGESTS[folder] = digest.hexdigest()
    return _FOLDER_DIGESTS[folder]
