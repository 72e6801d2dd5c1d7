"""Whole reports, keyed by everything a report depends on: when nothing of that changed, the report
cannot differ either (reports are deterministic), so a re-run on unchanged data is served whole."""

from __future__ import annotations

import os
from typing import Any

import orjson
import xxhash

from ..version import __version__
from .code import class_digest, engine_digest
from .entries import LAYOUT, Cache, CacheMiss


def report_key(cache: Cache, config: Any, plugins: list[Any], schema: Any, files_read: Any = ()) -> str | None:
    """The key of a whole audit: every input's content, the settings (a dataclass), the schema, each
    selected check's identity and code, and the content of the other files checks read (`files_read`);
    None when one of them cannot be read (no report is stored then)."""
    inputs = []
    for path in files_read:
        try:
            inputs.append(["read", path, cache.content_digest(path)])
        except OSError:
            return None
    for split, paths in (("train", config.train), ("eval", config.eval)):
        for path in paths:
            if not os.path.isfile(path):
                return None  # standard input, a pipe or a folder: read once, never hashed ahead
            try:
                inputs.append([split, path, cache.content_digest(path)])
            except OSError:
                return None
    checks = [[p.id, p.dist, p.version, class_digest(p.cls)] for p in plugins]
    try:
        settings = orjson.dumps(config, option=orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS,
                                default=_plain)
        parts = orjson.dumps(["report", __version__, engine_digest(), LAYOUT, inputs, checks, schema],
                             option=orjson.OPT_SORT_KEYS)
    except TypeError:
        return None
    return xxhash.xxh3_128_hexdigest(settings + b"|" + parts)


def get_report(cache: Cache, key: str) -> dict[str, Any] | None:
    try:
        _, payload = cache.read(f"{key}.report")
        report = orjson.loads(payload)
    except (CacheMiss, orjson.JSONDecodeError):
        cache.misses += 1
        return None
    cache.hits += 1
    return report if isinstance(report, dict) else None


def put_report(cache: Cache, key: str, report: dict[str, Any]) -> None:
    # non-str keys become strings, as in the JSON report itself
    cache.write_quietly(f"{key}.report", {"kind": "report"}, orjson.dumps(report, option=orjson.OPT_NON_STR_KEYS))


def _plain(value: Any) -> Any:
    """Settings dataclasses as plain JSON for a key (tuples and dicts are handled by orjson)."""
    import dataclasses

    if dataclasses.is_dataclass(value):
        return {f.name: getattr(value, f.name) for f in dataclasses.fields(value)}
    raise TypeError(type(value).__name__)
