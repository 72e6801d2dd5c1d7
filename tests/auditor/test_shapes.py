"""Tests for auditor.shapes: reading targets as JSON."""

from auditor.shapes import NOT_JSON, canonical, parse_json


def test_parse_json_reads_json_and_refuses_prose_and_non_standard_values():
    assert parse_json(' {"a": [1, 2.5, true, null]}') == {"a": [1, 2.5, True, None]}
    assert parse_json("-3") == -3
    assert parse_json('"\\ud800"') == "\ud800"  # valid JSON orjson refuses: the stdlib reads it
    for text in ("hello", "NaN", "Infinity", "[1, 2", "", "  ", "{'a': 1}"):
        assert parse_json(text) is NOT_JSON, text


def test_canonical_writes_equal_values_one_way():
    assert canonical({"b": 1.0, "a": [2, {"c": 3.50}]}) == canonical(parse_json('{"a":[2,{"c":3.5}],"b":1}'))
