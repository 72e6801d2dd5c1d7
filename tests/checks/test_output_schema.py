"""output-schema: targets that are not JSON or break the JSON Schema, with every violation reported."""

import json
from pathlib import Path

import pytest
from conftest import planted_problems

from auditor.testing import make_context, run_check
from dataset_auditor_checks.output_schema import OutputSchema

SAMPLE = Path(__file__).resolve().parents[2] / "sample_data"

SCHEMA = {
    "type": "object",
    "properties": {
        "category": {"type": "string"},
        "priority": {"type": "integer"},
        "items": {"type": "array", "items": {"type": "object", "properties": {
            "status": {"enum": ["open", "closed"]}}}},
    },
    "required": ["category", "priority"],
    "additionalProperties": False,
}
GOOD = {"category": "billing", "priority": 2, "items": [{"status": "open"}]}


def chat(answer, user="help me"):
    return {"messages": [{"role": "user", "content": user}, {"role": "assistant", "content": answer}]}


def run(answers, schema=SCHEMA, **options):
    records = [chat(a if isinstance(a, str) else json.dumps(a)) for a in answers]
    return run_check(OutputSchema, ctx=make_context(records, schema=schema), **options)


def lines(result):
    return [(f.location.line, f.code) for f in result.findings]


def test_clean_targets_pass():
    result = run([GOOD, {"category": "refund", "priority": 1}])
    assert result.findings == []
    assert result.status.value == "pass"
    assert result.metrics["targets"] == 2
    assert result.excluded == frozenset()


def test_plain_text_target_is_not_json_with_position():
    result = run([GOOD, "Priority: high"])
    assert lines(result) == [(2, "SCH002")]
    finding = result.findings[0]
    assert "line 1 column 1" in finding.message
    assert finding.data["parse_error"]["position"] == 0
    assert result.status.value == "fail"


def test_truncated_json_reports_where_it_broke():
    result = run(['{"category": "billing", "priority": 2'])
    assert lines(result) == [(1, "SCH002")]
    assert result.findings[0].data["parse_error"]["position"] == len('{"category": "billing", "priority": 2')


@pytest.mark.parametrize("target, pointer, keyword", [
    ({"category": "billing", "priority": "high"}, "/priority", "type"),
    ({"category": "billing"}, "", "required"),
    ({**GOOD, "confidence": 0.9}, "", "additionalProperties"),
    ({**GOOD, "items": [{"status": "open"}, {}, {"status": "lost"}]}, "/items/2/status", "enum"),
], ids=["wrong-type", "missing-required", "extra-key", "nested-enum"])
def test_schema_violation_reports_pointer_and_keyword(target, pointer, keyword):
    result = run([GOOD, target])
    assert lines(result) == [(2, "SCH001")]
    (violation,) = result.findings[0].data["violations"]
    assert (violation["pointer"], violation["keyword"]) == (pointer, keyword)
    assert (pointer or "(root)") in result.findings[0].message
    assert result.findings[0].severity.value == "error"


def test_every_violation_of_a_row_is_reported_in_order():
    bad = {"priority": "x", "extra": 1, "items": [{"status": "a"}, {"status": "b"}] * 6}
    result = run([bad])
    assert lines(result) == [(1, "SCH001")]
    found = [(v["pointer"], v["keyword"]) for v in result.findings[0].data["violations"]]
    assert found == [("", "additionalProperties"), ("", "required"),
                     *[(f"/items/{i}/status", "enum") for i in range(12)], ("/priority", "type")]
    message = result.findings[0].message
    assert "15 violations" in message and message.endswith("and 5 more")


def test_invalid_rows_are_excluded_from_the_clean_set():
    result = run([GOOD, "nope", {"category": 1, "priority": 1}])
    ctx_rows = {f.location.line for f in result.findings}
    assert ctx_rows == {2, 3}
    assert len(result.excluded) == 2
    assert result.metrics["invalid_targets"] == 2


def test_code_fence_is_invalid_by_default_and_accepted_with_the_option():
    fenced = "```json\n" + json.dumps(GOOD) + "\n```"
    assert lines(run([GOOD, fenced])) == [(2, "SCH003")]
    assert run([GOOD, fenced], allow_code_fence=True).findings == []
    # with the option the JSON inside the fence is still validated
    bad_inside = "```\n" + json.dumps({"category": "x"}) + "\n```"
    assert lines(run([bad_inside], allow_code_fence=True)) == [(1, "SCH001")]


def test_all_assistant_checks_every_weighted_turn_and_skips_weight_zero():
    record = {"messages": [
        {"role": "user", "content": "a"}, {"role": "assistant", "content": "not json", "weight": 0},
        {"role": "user", "content": "b"}, {"role": "assistant", "content": "also not json"},
        {"role": "user", "content": "c"}, {"role": "assistant", "content": json.dumps(GOOD)},
    ]}
    ctx = make_context([record], schema=SCHEMA)
    assert run_check(OutputSchema, ctx=ctx).findings == []  # final turn only
    result = run_check(OutputSchema, ctx=ctx, targets="all-assistant")
    assert lines(result) == [(1, "SCH002")]
    assert result.findings[0].data["turn"] == 3
    assert "messages[3]" in result.findings[0].message
    assert result.metrics["targets"] == 2


def test_all_assistant_keeps_single_target_formats():
    records = [{"prompt": "p", "completion": json.dumps(GOOD)}, {"prompt": "q", "completion": "{}"}]
    result = run_check(OutputSchema, ctx=make_context(records, schema=SCHEMA), targets="all-assistant")
    assert lines(result) == [(2, "SCH001")]


def test_eval_targets_are_checked_too():
    ctx = make_context([chat(json.dumps(GOOD))], [chat("text")], schema=SCHEMA)
    result = run_check(OutputSchema, ctx=ctx)
    assert [(f.split, f.location.line, f.code) for f in result.findings] == [("eval", 1, "SCH002")]


def test_older_draft_and_fallback_validator_agree():
    schema = {"$schema": "http://json-schema.org/draft-04/schema#", "type": "object",
              "properties": {"n": {"type": "number", "maximum": 3, "exclusiveMaximum": True}}}
    result = run([{"n": 3}, {"n": 2}], schema=schema)
    assert lines(result) == [(1, "SCH001")]
    assert result.metrics["validator"] == "jsonschema-rs"


def test_invalid_schema_file_exits_2_with_the_reason(tmp_path, capsys):
    from auditor.cli import main

    schema = tmp_path / "schema.json"
    schema.write_text(json.dumps({"type": "object", "properties": {"a": {"type": "strin"}}}))
    train = tmp_path / "train.jsonl"
    train.write_text(json.dumps(chat("{}")) + "\n")
    with pytest.raises(SystemExit) as exc:
        main(["audit", str(train), "--schema", str(schema), "--select", "output-schema", "-q"])
    assert exc.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "invalid JSON Schema" in err[0] and "/properties/a/type" in err[0]


def test_sample_data_planted_targets_are_found_exactly(capsys):
    oracle = planted_problems()["train.jsonl"]
    from auditor.cli import main

    with pytest.raises(SystemExit):
        main(["audit", str(SAMPLE / "train.jsonl"), "--eval", str(SAMPLE / "eval.jsonl"),
              "--schema", str(SAMPLE / "schema.json"), "--select", "output-schema",
              "--report", "json", "--output", "-", "-q"])
    report = json.loads(capsys.readouterr().out)
    (result,) = [r for r in report["results"] if r["check"] == "output-schema"]
    found = {}
    for f in result["findings"]:
        assert f["split"] == "train", f
        found.setdefault(f["code"], []).append(f["line"])
    assert found == {"SCH001": oracle["schema_invalid"], "SCH002": oracle["not_json"],
                     "SCH003": oracle["code_fence"]}
    planted = len(oracle["schema_invalid"]) + len(oracle["not_json"]) + len(oracle["code_fence"])
    assert result["excluded_rows"] == planted
    assert result["metrics"]["invalid_targets"] == planted


def test_a_final_tool_call_is_left_to_the_tool_calls_check():
    call = {"role": "assistant", "content": None, "tool_calls": [
        {"id": "c1", "type": "function", "function": {"name": "lookup", "arguments": "{}"}}]}
    records = [chat(json.dumps(GOOD)), {"messages": [{"role": "user", "content": "order 7?"}, call]}]
    result = run_check(OutputSchema, ctx=make_context(records, schema=SCHEMA))
    assert result.findings == [] and result.status.value == "pass"


def test_the_excerpt_is_the_target_around_what_broke():
    padding = "x" * 400
    broken = {"category": padding, "priority": "high"}
    result = run([GOOD, broken, '{"category": "' + padding + '", "priority": 2,, "x": 1}'])
    assert lines(result) == [(2, "SCH001"), (3, "SCH002")]
    violation, parse = (f.data["excerpt"] for f in result.findings)
    assert violation.startswith("…") and '"priority": "high"}' in violation and len(violation) <= 162
    assert parse.startswith("…") and '2,, "x": 1}' in parse
    short = run([GOOD, "Priority: high"]).findings[0].data["excerpt"]
    assert short == "Priority: high"  # a short target is shown whole
