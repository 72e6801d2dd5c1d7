"""output-format: structured targets share one JSON shape; plain-text tasks are left alone."""

import json

from auditor import Settings
from auditor.testing import make_context, run_check
from dataset_auditor_checks.output_format import OutputFormat


def pc(completion, i=0):
    return {"prompt": f"ticket {i}", "completion": completion if isinstance(completion, str) else json.dumps(completion)}


def target(i):
    return {"category": ["billing", "refund"][i % 2], "priority": i % 4, "urgent": i % 3 == 0}


def test_fifty_targets_with_four_planted_deviations():
    targets = [target(i) for i in range(50)]
    targets[9] = {k: v for k, v in targets[9].items() if k != "priority"}  # missing key
    targets[19] = {**targets[19], "confidence": 0.5}                        # extra key
    targets[29] = {**targets[29], "priority": "high"}                       # string where others hold a number
    targets[39] = "The ticket is about billing."                            # plain text
    result = run_check(OutputFormat, [pc(t, i) for i, t in enumerate(targets)])
    assert [(f.location.line, f.code) for f in result.findings] == [
        (10, "OUT001"), (20, "OUT001"), (30, "OUT001"), (40, "OUT002")]
    messages = [f.message for f in result.findings]
    assert "missing key 'priority'" in messages[0]
    assert "unexpected key 'confidence'" in messages[1]
    assert "'priority' is a string, expected number" in messages[2]
    assert all(f.severity.value == "warning" for f in result.findings)
    assert result.findings[2].data["expected"]["keys"] == {"category": "string", "priority": "number",
                                                           "urgent": "boolean"}
    assert result.findings[2].data["actual"]["keys"]["priority"] == "string"
    assert result.status.value == "warn"
    assert result.excluded == frozenset()


def test_consistent_json_targets_pass():
    result = run_check(OutputFormat, [pc(target(i), i) for i in range(20)])
    assert result.findings == [] and result.status.value == "pass"
    assert result.metrics["kind"] == "json"


def test_plain_text_task_is_left_alone():
    records = [pc(f"Answer number {i}: please restart the router.", i) for i in range(30)]
    records[3] = pc(target(3), 3)  # one JSON object among text targets is no structure
    result = run_check(OutputFormat, records)
    assert result.findings == [] and result.status.value == "pass"
    assert result.metrics["kind"] == "plain text"
    assert "plain text" in result.summary


def test_below_min_share_is_plain_text_unless_the_task_is_structured():
    records = [pc(target(i), i) for i in range(8)] + [pc("text", 8), pc("more text", 9)]
    assert run_check(OutputFormat, records).findings == []  # 80% < 90%
    assert [f.location.line for f in run_check(OutputFormat, records, min_share=0.75).findings] == [9, 10]
    ctx = make_context(records, settings=Settings(task="structured"))
    assert [f.location.line for f in run_check(OutputFormat, ctx=ctx).findings] == [9, 10]
    ctx = make_context([pc(target(i), i) for i in range(10)] + [pc("x", 10)], settings=Settings(task="free-text"))
    assert run_check(OutputFormat, ctx=ctx).findings == []


def test_optional_keys_are_not_findings():
    targets = [{**target(i), **({"note": "x"} if i % 2 else {})} for i in range(20)]
    assert run_check(OutputFormat, [pc(t, i) for i, t in enumerate(targets)]).findings == []


def test_json_array_among_objects_is_reported():
    records = [pc(target(i), i) for i in range(20)] + [pc([1, 2], 20)]
    result = run_check(OutputFormat, records)
    assert [(f.location.line, f.message) for f in result.findings] == [
        (21, "Target shape differs from the dominant shape: a JSON array, expected an object")]


def test_signatures_of_prose_are_text_without_parsing_and_agree_with_the_per_row_signature(monkeypatch):
    import polars as pl

    from auditor import shapes
    from dataset_auditor_checks import output_format

    targets = pl.Series(["Sure, here you go", '{"a": 1}', " [1, 2]", "thanks!", "", None, "42", "\n{bad json",
                         "no", "true", " false \n", "null", "nullable field", "fine"])
    expected = [shapes.signature(t) for t in targets.to_list()]
    assert expected[-5:] == ["boolean", "boolean", "null", "text", "text"]
    parsed = []
    original = shapes.signature
    monkeypatch.setattr(shapes, "signature", lambda text: parsed.append(text) or original(text))
    assert output_format._signatures(targets).to_list() == expected
    # prose that starts like true, false or null ("thanks!", "no") is not parsed either
    assert sorted(parsed) == sorted(['{"a": 1}', " [1, 2]", "42", "\n{bad json", "true", " false \n", "null"])
