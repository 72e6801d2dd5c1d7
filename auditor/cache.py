"""The incremental cache: per input file, keyed by its content, the normalized rows and per-file artefacts.

Layout (default `.auditor_cache/` next to the config file, else in the working directory):

    .auditor_cache/
      .gitignore        "*": the cache never ends up in a commit
      CACHEDIR.TAG      backup tools skip it
      v1/<key>.rows     one loaded file: normalized frame (Arrow IPC) + line issues, formats, sha256
      v1/<key>.art      one per-file artefact registered with `ctx.per_file(...)`

An entry's key is xxh3_128 of (tool version, cache layout, split, format, field mapping, xxh3_128 of the
file's bytes), so an edited file, another version of the tool or another format gets another entry and
an unchanged file is never re-read. Every entry is one file written to a temporary name and moved into
place with os.replace (atomic), and carries its own key and a checksum of its payload: a truncated,
corrupted or foreign entry is ignored, deleted and rebuilt. Nothing here is ever fatal; a cache that
cannot be written just stops caching. The cache never changes a report: a warm run gives byte-identical
JSON to a cold run.
"""

from __future__ import annotations

import io
import os
import struct
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

import orjson
import xxhash

from . import __version__

CACHE_DIR_NAME = ".auditor_cache"
LAYOUT = 1
MAGIC = b"AUDITOR-CACHE\x00\x01"
MAX_BYTES = 1 << 30  # least recently used entries are removed beyond this
_HASH_CHUNK = 1 << 20
_TAG = "Signature: 8a477f597d28d172789f06886806bc55\n# This directory is a cache of dataset-auditor.\n"
# Columns a `.rows` entry keeps; row, split and source depend on the audit and are added back on load.
_STORED = ("line", "format", "valid", "error", "system", "prompt", "response", "label", "tool_call")


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
        self._keys: dict[tuple[str, str], tuple[str, tuple[int, int]]] = {}
        self._digests: dict[str, tuple[tuple[int, int], str]] = {}
        self._broken = False

    # ------------------------------------------------------------------ loaded files

    def file_key(self, path: str, split: str, fmt: str | None, fields: Mapping[str, str] | None) -> str | None:
        """The entry key of one input file as this audit reads it; None when the file cannot be hashed."""
        try:
            stamp, digest = self._content(path)
        except OSError:
            return None  # the loader reports the problem with its own message
        parts = ["rows", __version__, code_fingerprint(), LAYOUT, split, fmt, sorted((fields or {}).items()),
                 digest]
        key = xxhash.xxh3_128_hexdigest(orjson.dumps(parts))
        # the entry that `store` and `artefact` use for this file in the audit being run
        self._keys[(path, split)] = (key, stamp)
        return key

    def _content(self, path: str) -> tuple[tuple[int, int], str]:
        """(stat stamp, content digest) of a file, hashed once per audit while it stays unchanged."""
        stamp = _stamp(path)
        memo = self._digests.get(path)
        if memo is None or memo[0] != stamp:
            memo = self._digests[path] = (stamp, file_digest(path))
        return memo

    def load(self, path: str, split: str, *, first_row: int, fmt: str | None,
             fields: Mapping[str, str] | None) -> Any:
        """The Dataset of an unchanged file from its entry, or None (then load it and `store` it)."""
        key = self.file_key(path, split, fmt, fields)
        if key is None:
            return None
        try:
            header, payload = self._read(self.entries / f"{key}.rows", key)
            data = _dataset_from_entry(header, payload, path, split, first_row)
        except CacheMiss:
            self.misses += 1
            return None
        self.hits += 1
        return data

    def store(self, data: Any) -> None:
        """Write the entry of a freshly loaded Dataset (skipped if the file changed while it was read)."""
        memo = self._keys.get((data.path, data.split))
        if memo is None or self._broken:
            return
        key, before = memo
        try:
            if _stamp(data.path) != before:
                return
            frame = data.frame.select(_STORED)
            buffer = io.BytesIO()
            frame.write_ipc(buffer, compression="lz4")  # text compresses ~3x; lz4 reads back at GB/s
            header = {"kind": "rows", "format": data.format, "formats": data.formats, "sha256": data.sha256,
                      "issues": [[i.line, i.code, i.severity.value, i.message] for i in data.issues]}
            self._write(self.entries / f"{key}.rows", key, header, buffer.getvalue())
        except Exception:  # a cache that cannot be written must not stop the audit
            self._broken = True

    # ------------------------------------------------------------------ per-file artefacts

    def artefact(self, data: Any, key: Any, build: Callable[[Any], Any]) -> Any:
        """build(data.frame) for one file, from its entry when the file and the key are unchanged."""
        file_key = self._keys.get((data.path, data.split))
        if file_key is None:
            value = build(data.frame)
            value_kind(value)
            return value
        entry = self.entries / f"{xxhash.xxh3_128_hexdigest(file_key[0].encode() + b'|' + canonical_key(key))}.art"
        entry_key = entry.stem
        try:
            header, payload = self._read(entry, entry_key)
            value = decode_value(header["type"], payload)
        except (CacheMiss, KeyError, TypeError):
            self.misses += 1
        else:
            self.hits += 1
            return value
        value = build(data.frame)
        if not self._broken:
            try:
                kind, payload = encode_value(value)
                self._write(entry, entry_key, {"kind": "artefact", "type": kind}, payload)
            except TypeError:
                raise
            except Exception:
                self._broken = True
        return value

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
            self._write(self.entries / f"{key}.report", key, {"kind": "report"}, orjson.dumps(report))
        except Exception:  # a cache that cannot be written must not stop the audit
            self._broken = True

    # ------------------------------------------------------------------ housekeeping

    def prune(self, max_bytes: int = MAX_BYTES) -> int:
        """Remove the least recently used entries beyond `max_bytes`; returns how many were removed."""
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
        for _, size, path in sorted(entries):
            if total <= max_bytes:
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
        try:
            blob = entry.read_bytes()
        except OSError:
            raise CacheMiss from None
        try:
            if not blob.startswith(MAGIC):
                raise ValueError("not a cache entry")
            (length,) = struct.unpack_from("<I", blob, len(MAGIC))
            start = len(MAGIC) + 4
            header = orjson.loads(blob[start : start + length])
            payload = blob[start + length :]
            if (not isinstance(header, dict) or header.get("key") != key
                    or header.get("size") != len(payload) or header.get("xxh3") != xxhash.xxh3_64_hexdigest(payload)):
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
        head = orjson.dumps({**header, "key": key, "size": len(payload), "xxh3": xxhash.xxh3_64_hexdigest(payload)})
        _atomic_write(entry, MAGIC + struct.pack("<I", len(head)) + head + payload)
        self.writes += 1


def per_file(cache: Cache | None, datasets: list[Any], key: Any, build: Callable[[Any], Any], *,
             concat: bool = True) -> Any:
    """build(file frame) for every input file, each from the cache when possible; see AuditContext.per_file."""
    canonical_key(key)  # a bad key fails the same way with and without a cache
    values = []
    for data in datasets:
        if cache is None:
            value = build(data.frame)
            value_kind(value)
        else:
            value = cache.artefact(data, key, build)
        values.append(value)
    return combine(values) if concat else values


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


def encode_value(value: Any) -> tuple[str, bytes]:
    kind = value_kind(value)
    buffer = io.BytesIO()
    if kind == "ndarray":
        import numpy as np

        if value.dtype.hasobject:
            raise TypeError("a per-file numpy artefact cannot hold Python objects")
        np.save(buffer, value, allow_pickle=False)
    elif kind == "series":
        value.to_frame().write_ipc(buffer, compression="uncompressed")
    elif kind == "frame":
        value.write_ipc(buffer, compression="uncompressed")
    else:
        return kind, orjson.dumps(value)
    return kind, buffer.getvalue()


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


def _dataset_from_entry(header: dict[str, Any], payload: bytes, path: str, split: str, first_row: int) -> Any:
    import polars as pl

    from .dataset import FRAME_COLUMNS, Dataset, LineIssue
    from .results import Severity

    try:
        frame = pl.read_ipc(io.BytesIO(payload))
        if tuple(frame.columns) != _STORED:
            raise ValueError("unexpected columns")
        issues = [LineIssue(int(line), str(code), Severity(severity), str(message))
                  for line, code, severity, message in header["issues"]]
        formats = {str(k): int(v) for k, v in header["formats"].items()}
        fmt, sha256 = str(header["format"]), header["sha256"]
    except Exception:
        raise CacheMiss from None
    frame = frame.with_columns(
        row=pl.int_range(first_row, first_row + frame.height, dtype=pl.Int64),
        split=pl.lit(split),
        source=pl.lit(path),
    ).select(FRAME_COLUMNS)
    return Dataset(path, split, fmt, frame, issues, formats, sha256, first_row)


def _stamp(path: str) -> tuple[int, int]:
    stat = os.stat(path)
    return stat.st_size, stat.st_mtime_ns


def _atomic_write(path: Path, data: bytes) -> None:
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
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
    """xxh3 of the file defining a check class (its helpers in the same package directory included)."""
    import inspect

    try:
        source = Path(inspect.getsourcefile(cls) or "")
        digest = xxhash.xxh3_64()
        for path in sorted(source.parent.glob("*.py")):
            digest.update(path.name.encode() + b"\0" + path.read_bytes())
        return digest.hexdigest()
    except (OSError, TypeError):
        return f"{cls.__module__}.{cls.__qualname__}"
