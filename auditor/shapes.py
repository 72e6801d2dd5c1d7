"""The shape of JSON training targets: parsing, the dominant shape of many objects, and deviations.

Shared by the `output-format` check (which reports deviating targets) and `auditor infer-schema`
(which leaves them out of the draft schema), so both apply one rule. Part of the public API (`__all__`).
"""

from __future__ import annotations

from collections import Counter
from typing import Any

__all__ = ["NOT_JSON", "actual_shape", "canonical", "describe", "deviations", "dominant_shape", "from_signature",
           "json_type", "parse_json", "signature", "structured"]

NOT_JSON = object()  # what parse_json returns for text that is no JSON value
JSON_STARTS = frozenset('{["-0123456789tfn')  # the first character of every JSON value
_TYPES = {type(None): "null", bool: "boolean", int: "number", float: "number", str: "string", list: "array",
          dict: "object"}


def parse_json(text: str) -> Any:
    """The parsed value, or NOT_JSON."""
    import json

    import orjson

    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        if text.lstrip(" \t\n\r")[:1] not in JSON_STARTS:
            return NOT_JSON  # prose: no parser would take it (the fallback below is slow on a failure)
        try:  # the stdlib takes valid JSON orjson refuses (e.g. a lone surrogate escape)
            return json.loads(text)
        except (ValueError, RecursionError):
            return NOT_JSON


def canonical(value: Any) -> str:
    """A parsed JSON value written one way: sorted keys, compact separators, and 1.0 is 1 (JSON has one
    number type: `{"priority": 1}` and `{"priority": 1.0}` say the same)."""
    import json

    return json.dumps(_numbers_by_value(value), sort_keys=True, separators=(",", ":"), ensure_ascii=False)


def _numbers_by_value(value: Any) -> Any:
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, dict):
        return {key: _numbers_by_value(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_numbers_by_value(item) for item in value]
    return value  # bool is an int, never a float: true stays true


def structured(parsed: list[Any], task: str | None, has_schema: bool) -> bool:
    """Whether targets are structured (compared as parsed values) rather than free text: an explicit
    `task` decides, then a configured JSON Schema; otherwise they are when every one parses as JSON."""
    if task == "free-text":
        return False
    if task in ("structured", "classification") or has_schema:
        return True
    return all(value is not NOT_JSON for value in parsed)


def json_type(value: Any) -> str:
    return _TYPES.get(type(value), type(value).__name__)


def dominant_shape(objects: list[dict], min_share: float, weights: list[int] | None = None) -> dict[str, Any]:
    """Expected keys, outlier keys and the dominant type of each key, from a list of JSON objects.

    `weights` counts each object that many times (distinct shapes with their number of targets).
    """
    presence: Counter[str] = Counter()
    types: dict[str, Counter[str]] = {}
    for obj, weight in zip(objects, weights or [1] * len(objects)):
        for key, value in obj.items():
            presence[key] += weight
            types.setdefault(key, Counter())[json_type(value)] += weight
    total = sum(weights) if weights else len(objects)
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


# One value of each JSON type: a shape signature turned back into an object deviations() can judge.
_PLACEHOLDER = {"null": None, "boolean": False, "number": 0, "string": "", "array": [], "object": {}}


def signature(text: str | None) -> str | None:
    """The shape of a target as a short string: its JSON type, and for an object each key's type.

    Targets with one signature have one shape, so a dataset's shapes are judged once per distinct
    signature instead of once per row (and signatures can be cached per block of rows).
    """
    import orjson

    if text is None:
        return None
    value = parse_json(text)
    if value is NOT_JSON:
        return "text"
    if isinstance(value, dict):
        return orjson.dumps({key: json_type(item) for key, item in value.items()},
                            option=orjson.OPT_SORT_KEYS).decode()
    return json_type(value)


def from_signature(sig: str) -> Any:
    """A stand-in value with the shape `sig` describes (NOT_JSON for text)."""
    import orjson

    if sig == "text":
        return NOT_JSON
    if sig.startswith("{"):
        return {key: _PLACEHOLDER[kind] for key, kind in orjson.loads(sig).items()}
    return _PLACEHOLDER[sig]
