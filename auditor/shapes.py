"""The shape of JSON training targets: parsing, the dominant shape of many objects, and deviations.

Shared by the `output-format` check (which reports deviating targets) and `auditor infer-schema`
(which leaves them out of the draft schema), so both apply one rule.
"""

from __future__ import annotations

from collections import Counter
from typing import Any

NOT_JSON = object()
_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array",
          dict: "object"}


def parse_json(text: str) -> Any:
    """The parsed value, or NOT_JSON."""
    import json

    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        try:  # orjson refuses integers beyond 64 bits, which are valid JSON
            return json.loads(text)
        except (ValueError, RecursionError):
            return NOT_JSON


def json_type(value: Any) -> str:
    return _TYPES.get(type(value), type(value).__name__)


def dominant_shape(objects: list[dict], min_share: float) -> dict[str, Any]:
    """Expected keys, outlier keys and the dominant type of each key, from a list of JSON objects."""
    presence: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    for obj in objects:
        for key, value in obj.items():
            presence[key] += 1
            types.setdefault(key, Counter())[json_type(value)] += 1
    total = len(objects)
    expected, optional, dominant = [], [], {}
    for key, count in presence.items():
        share = count / total
        if share >= min_share:
            expected.append(key)
        elif share > 1 - min_share:
            optional.append(key)
        else:
            continue  # an outlier key: not part of the shape
        kind, n = max(types[key].items(), key=lambda item: (item[1], item[0]))
        dominant[key] = kind if n / count >= min_share else None  # None: mixed types, not checked
    return {"expected": sorted(expected), "optional": sorted(optional), "types": dict(sorted(dominant.items()))}


def deviations(shape: dict[str, Any], value: Any) -> list[str]:
    """How a parsed target differs from the dominant shape ([] when it matches)."""
    if not isinstance(value, dict):
        return [f"a JSON {json_type(value)}, expected an object"]
    out = [f"missing key '{key}'" for key in shape["expected"] if key not in value]
    known = shape["types"]
    out += [f"unexpected key '{key}'" for key in sorted(value) if key not in known]
    for key in sorted(value):
        kind = known.get(key)
        if kind is not None and json_type(value[key]) != kind:
            out.append(f"'{key}' is {_article(json_type(value[key]))}, expected {kind}")
    return out


def describe(shape: dict[str, Any]) -> dict[str, Any]:
    return {"type": "object", "keys": {k: t or "mixed" for k, t in shape["types"].items()},
            "required": shape["expected"], "optional": shape["optional"]}


def actual_shape(value: Any) -> dict[str, Any]:
    if not isinstance(value, dict):
        return {"type": json_type(value)}
    return {"type": "object", "keys": {k: json_type(v) for k, v in sorted(value.items())}}


def _article(kind: str) -> str:
    return "null" if kind == "null" else ("an " if kind[0] in "aeiou" else "a ") + kind
