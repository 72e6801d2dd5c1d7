"""Draft a JSON Schema from the JSON-object training targets of a dataset (`auditor infer-schema`).

The draft is for a person to review and then pass as `--schema`: it is inferred from the clean
targets only (valid rows whose target is a JSON object of the dominant shape), so a handful of broken
targets does not widen it, and what was left out is reported beside it.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from . import shapes
from .errors import AuditorError

DRAFT_2020_12 = "https://json-schema.org/draft/2020-12/schema"
ITEMS = "[]"  # path step into the items of an array


@dataclass
class Inference:
    """The drafted schema, how many targets it came from, and notes on what was left out."""

    schema: dict[str, Any]
    targets: int
    used: int
    notes: list[str] = field(default_factory=list)


def infer_from_datasets(datasets: Sequence[Any], *, min_share: float = 0.9, max_enum: int = 20) -> Inference:
    """Draft a schema from the final targets (`response`) of the valid rows of loaded datasets."""
    import polars as pl

    targets = []
    for data in datasets:
        frame = data.frame.filter(pl.col("valid") & pl.col("response").is_not_null())
        targets.extend((f"{data.path}:{line}", text) for line, text in frame.select("line", "response").iter_rows())
    return infer_schema(targets, min_share=min_share, max_enum=max_enum)


def infer_schema(targets: Iterable[tuple[str, str]], *, min_share: float = 0.9, max_enum: int = 20) -> Inference:
    """Draft a schema from (location, target text) pairs.

    Steps: parse; keep JSON objects of the dominant shape (expected keys present, no outlier key,
    dominant value types); treat string fields with few distinct values as enums and bound array
    lengths, leaving out the rare values and lengths (and their targets); build with genson; add
    `$schema` (2020-12) and `additionalProperties: false` on every object whose samples all have
    the same keys.

    Raises:
        AuditorError: no target is a JSON object, so there is nothing to infer from.
    """
    parsed, total = [], 0
    for where, text in targets:
        total += 1
        value = shapes.parse_json(text)
        if isinstance(value, dict):
            parsed.append((where, value))
    notes: list[str] = []
    if not parsed:
        raise AuditorError(f"none of the {total} valid training targets is a JSON object: nothing to infer a "
                           "schema from")
    if total - len(parsed):
        notes.append(f"{total - len(parsed)} targets left out: not a JSON object")
    shape = shapes.dominant_shape([v for _, v in parsed], min_share)
    kept = [(w, v) for w, v in parsed if not shapes.deviations(shape, v)]
    if len(kept) < len(parsed):
        notes.append(f"{len(parsed) - len(kept)} targets left out: not of the dominant shape ("
                     + ", ".join(w for w, v in parsed if shapes.deviations(shape, v))[:400] + ")")
    enums, max_items, rare = _value_bounds([v for _, v in kept], max_enum)
    if rare:
        dropped = [(w, why) for w, v in kept for why in [_rare_reason(v, enums, max_items)] if why]
        kept = [(w, v) for w, v in kept if not _rare_reason(v, enums, max_items)]
        notes.extend(f"left out {w}: {why}" for w, why in dropped)
    from genson import SchemaBuilder

    builder = SchemaBuilder(schema_uri=False)
    for _, value in kept:
        builder.add_object(value)
    schema = builder.to_schema()
    schema.pop("$schema", None)
    _close_objects(schema, [v for _, v in kept])
    for path, values in enums.items():
        node = _node(schema, path)
        if node is not None and node.get("type") == "string":
            node["enum"] = values
            notes.append(f"{_path_text(path)}: enum of {len(values)} values inferred")
    for path, limit in max_items.items():
        node = _node(schema, path)
        if node is not None and node.get("type") == "array":
            node["maxItems"] = limit
            notes.append(f"{_path_text(path)}: maxItems {limit} inferred")
    return Inference({"$schema": DRAFT_2020_12, **schema}, total, len(kept), notes)


def _walk(value: Any, path: tuple = ()) -> Iterable[tuple[tuple, Any]]:
    yield path, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _walk(item, (*path, key))
    elif isinstance(value, list):
        for item in value:
            yield from _walk(item, (*path, ITEMS))


def _rare_threshold(n: int) -> int:
    return max(2, math.ceil(0.005 * n))


def _value_bounds(objects: list[dict], max_enum: int) -> tuple[dict, dict, bool]:
    """Enums for categorical string fields and maxItems for arrays, leaving out rare outliers.

    A string field is categorical when, among at least 20 values, at most `max_enum` distinct values
    occur at least `max(2, 0.5%)` times each and the rarer ones make up at most 1% of the values (or one):
    those rarer values are left out of the enum. An array's maxItems is the largest length seen that
    often; longer arrays are left out.
    """
    strings: dict[tuple, Counter[str]] = {}
    others: set[tuple] = set()
    lengths: dict[tuple, Counter[int]] = {}
    for obj in objects:
        for path, value in _walk(obj):
            if isinstance(value, str):
                strings.setdefault(path, Counter())[value] += 1
            else:
                others.add(path)
            if isinstance(value, list):
                lengths.setdefault(path, Counter())[len(value)] += 1
    enums, rare = {}, False
    for path, counts in strings.items():
        n = sum(counts.values())
        if path in others or n < 20:
            continue
        common = sorted(v for v, c in counts.items() if c >= _rare_threshold(n))
        uncommon = n - sum(counts[v] for v in common)
        if 1 <= len(common) <= max_enum and uncommon <= max(1, 0.01 * n) and n >= 5 * len(common):
            enums[path] = common
            rare = rare or uncommon > 0
    max_items = {}
    for path, counts in lengths.items():
        n = sum(counts.values())
        if n < 20:
            continue
        often = [length for length, c in counts.items() if c >= _rare_threshold(n)]
        limit = max(often) if often else max(counts)
        max_items[path] = limit
        rare = rare or max(counts) > limit
    return dict(sorted(enums.items(), key=lambda kv: _path_text(kv[0]))), \
        dict(sorted(max_items.items(), key=lambda kv: _path_text(kv[0]))), rare


def _rare_reason(value: dict, enums: dict, max_items: dict) -> str | None:
    for path, item in _walk(value):
        if path in enums and isinstance(item, str) and item not in enums[path]:
            return f"rare value {json.dumps(item, ensure_ascii=False)} at {_path_text(path)}"
        if path in max_items and isinstance(item, list) and len(item) > max_items[path]:
            return f"{len(item)} items at {_path_text(path)}, usually at most {max_items[path]}"
    return None


def _node(schema: dict, path: tuple) -> dict | None:
    node: Any = schema
    for step in path:
        if not isinstance(node, dict):
            return None
        node = node.get("items") if step == ITEMS else node.get("properties", {}).get(step)
    return node if isinstance(node, dict) else None


def _close_objects(schema: dict, samples: list[dict]) -> None:
    """additionalProperties: false on every object node whose samples all carry the same keys."""
    key_sets: dict[tuple, set[frozenset]] = {}
    for sample in samples:
        for path, value in _walk(sample):
            if isinstance(value, dict):
                key_sets.setdefault(path, set()).add(frozenset(value))
    for path, sets in key_sets.items():
        node = _node(schema, path)
        if node is not None and node.get("type") == "object" and len(sets) == 1:
            node["additionalProperties"] = False


def _path_text(path: tuple) -> str:
    return "/" + "/".join(str(step) for step in path) if path else "(root)"
