"""target: every rule of every fine-tuning service's profile, each with a row that breaks it and one that passes."""

import json

import pytest

from auditor import ConfigError
from auditor.testing import run_check
from dataset_auditor_checks._targets import PROFILES
from dataset_auditor_checks.target import Target, _record_rules


def chat(*turns, **extra):
    return {"messages": [{"role": r, "content": c} for r, c in turns], **extra}


def ok(i=0):
    return chat(("system", "Be brief."), ("user", f"question number {i}"), ("assistant", f"answer number {i}"))


def call(id_, arguments='{"city": "Paris"}'):
    return {"id": id_, "type": "function", "function": {"name": "weather", "arguments": arguments}}


TOOLS = [{"type": "function", "function": {"name": "weather", "parameters": {"type": "object"}}}]


def with_calls(calls, replies, last="assistant"):
    messages = [{"role": "user", "content": "weather in Paris?"},
                {"role": "assistant", "content": None, "tool_calls": calls}]
    messages += [{"role": "tool", "tool_call_id": c, "content": "sunny"} for c in replies]
    if last == "assistant":
        messages.append({"role": "assistant", "content": "Sunny."})
    return {"messages": messages, "tools": TOOLS}


def found(result):
    return [(f.location.line, f.code, f.message) for f in result.findings]


def test_no_target_chosen_checks_nothing():
    result = run_check(Target, [chat(("bot", "x"), ("assistant", "y"))])
    assert result.findings == [] and result.summary.startswith("no target chosen")


def test_openai_weights_and_minimum_examples():
    rows = [ok(i) for i in range(12)]
    rows[6] = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "weight": 0}]}
    assert run_check(Target, rows, targets=["openai"]).findings == []
    weighted = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "weight": 2}]}
    # (the format check already rejects such a weight; the rule holds on its own)
    assert list(_record_rules(PROFILES["openai"], weighted)) == [("TGT007", "messages[1]: weight 2 is not one of 0, 1")]
    few = run_check(Target, rows[:4], targets=["openai"])
    assert found(few) == [(None, "TGT001", "openai: 4 training examples, at least 10 required")]
    assert run_check(Target, [ok(i) for i in range(12)], targets=["openai"]).findings == []


def test_openai_tokens_per_example_are_estimated_without_a_tokenizer_or_the_openai_tokens_extra(monkeypatch):
    import sys

    monkeypatch.setitem(sys.modules, "bpe_openai", None)  # the openai-tokens extra not installed
    rows = [ok(i) for i in range(10)] + [chat(("user", "x" * 270_000), ("assistant", "y"))]
    result = run_check(Target, rows, targets=["openai"])
    assert found(result) == [(11, "TGT002", "openai: 67,501 estimated tokens, over 65,536 per example")]
    assert result.metrics["token_counts"] == "estimated tokens"


def test_openai_tokens_per_example_are_counted_with_o200k_base_when_the_extra_is_installed():
    pytest.importorskip("bpe_openai")
    # " hello" is one o200k token: 70,001 for the text, 3 + 1 (role) per turn, 1 for "y", 3 for the reply
    rows = [ok(i) for i in range(10)] + [chat(("user", "hello " * 70_000), ("assistant", "y")),
                                         chat(("user", "hello " * 60_000), ("assistant", "y"))]
    result = run_check(Target, rows, targets=["openai"])
    assert found(result) == [(11, "TGT002", "openai: 70,013 tokens (o200k_base), over 65,536 per example")]
    assert result.metrics["token_counts"] == "tokens (o200k_base)"
    # the estimate (4 characters a token) would have passed row 11 (105,001 estimated) as well as failed it
    # the other way round for "x" * 270,000, which o200k_base packs into far fewer tokens than 67,501
    assert found(run_check(Target, rows[:10] + [chat(("user", "x" * 270_000), ("assistant", "y"))],
                           targets=["openai"])) == []


def test_fireworks_roles_system_message_first_and_its_example_range():
    function_turn = {"messages": [{"role": "user", "content": "hi"}, {"role": "function", "name": "f", "content": "1"},
                                  {"role": "assistant", "content": "yo"}]}
    rows = [ok(i) for i in range(3)] + [chat(("user", "hi"), ("system", "late"), ("assistant", "yo")), function_turn]
    result = run_check(Target, rows, targets=["fireworks"])
    assert found(result) == [(4, "TGT006", "fireworks: messages[1]: a system message after the first turn"),
                             (5, "TGT005", "fireworks: messages[1]: role 'function' is not accepted (system, user, "
                                           "assistant, tool)")]
    assert run_check(Target, rows[:3], targets=["fireworks"]).findings == []
    assert found(run_check(Target, rows[:2], targets=["fireworks"])) == [
        (None, "TGT001", "fireworks: 2 training examples, at least 3 required")]


def test_together_roles_and_weights():
    rows = [ok(), {"messages": [{"role": "user", "content": "hi"}, {"role": "function", "name": "f", "content": "1"},
                                {"role": "assistant", "content": "yo"}]}]
    result = run_check(Target, rows, targets=["together"])
    assert [(line, code) for line, code, _ in found(result)] == [(2, "TGT005")]
    half = {"messages": [{"role": "user", "content": "hi"}, {"role": "assistant", "content": "yo", "weight": 0.5}]}
    assert [code for code, _ in _record_rules(PROFILES["together"], half)] == ["TGT007"]


def test_mistral_tool_call_ids_string_arguments_and_answered_calls():
    rows = [with_calls([call("abcDEF123")], ["abcDEF123"]),               # passes
            with_calls([call("call_1")], ["call_1"]),                     # id shape
            with_calls([call("abcDEF123", {"city": "Paris"})], ["abcDEF123"]),  # arguments as an object
            with_calls([call("abcDEF123"), call("xyzXYZ789")], ["abcDEF123"])]  # one call unanswered
    result = run_check(Target, rows, targets=["mistral"])
    assert found(result) == [
        (2, "TGT008", "mistral: messages[1]: tool call id 'call_1' does not match [A-Za-z0-9]{9}"),
        (3, "TGT009", "mistral: messages[1]: tool call arguments are dict, not a JSON string"),
        (4, "TGT010", "mistral: 2 tool calls and 1 tool reply")]
    assert result.excluded == {1, 2, 3}


def test_rules_the_format_check_already_enforces_hold_on_their_own():
    # A conversation that ends on a tool reply, or a Gemini record, is already a format finding and never
    # reaches the check's rows; the rules themselves still tell such records apart.
    mistral, vertex = PROFILES["mistral"], PROFILES["vertex"]
    assert list(_record_rules(mistral, with_calls([call("abcDEF123")], ["abcDEF123"], last="tool"))) == [
        ("TGT011", "the last turn is 'tool', not the assistant's")]
    assert list(_record_rules(mistral, with_calls([call("abcDEF123")], ["abcDEF123"]))) == []
    gemini = {"contents": [{"role": "user", "parts": [{"text": "q"}]}, {"role": "model", "parts": [{"text": "a"}]}]}
    assert list(_record_rules(vertex, gemini)) == []
    gemini["contents"][1]["role"] = "assistant"
    assert list(_record_rules(vertex, gemini)) == [
        ("TGT005", "contents[1]: role 'assistant' is not accepted (user, model)")]


def test_vertex_wants_gemini_records_and_at_most_5000_eval_examples():
    result = run_check(Target, [ok()], targets=["vertex"])
    assert found(result) == [(1, "TGT012", "vertex: records hold `contents`; this one has `messages`")]
    evals = [ok(i) for i in range(5001)]
    big = run_check(Target, [ok()], evals, targets=["vertex"])
    assert (None, "TGT004", "vertex: 5,001 eval examples, at most 5,000 accepted") in found(big)


def test_the_same_broken_rule_on_many_lines_is_one_finding_and_every_target_is_named():
    late = chat(("user", "hi"), ("system", "late"), ("assistant", "yo"), weight=None)
    rows = [late] * 4 + [ok(i) for i in range(10)]
    result = run_check(Target, rows, targets=["fireworks", "vertex"])
    assert [(f.code, f.data["target"], f.data["line_count"]) for f in result.findings] == [
        ("TGT006", "fireworks", 4), ("TGT012", "vertex", 14)]


def test_an_unknown_target_is_a_config_error_and_every_rule_is_documented_with_source_and_date():
    with pytest.raises(ConfigError, match="unknown target 'azure'"):
        Target.make_options({"targets": ["azure"]})
    doc = Target.doc()
    for profile in PROFILES.values():
        for rule, source in profile.sources.items():
            assert f"| {profile.name} | `{rule}` |" in doc and source in doc and profile.checked in doc


def test_the_cli_takes_target_flags_and_blocks_only_for_the_chosen_targets(tmp_path, capsys, monkeypatch):
    from auditor.cli import main
    from auditor.testing import write_jsonl

    monkeypatch.chdir(tmp_path)
    write_jsonl(tmp_path / "train.jsonl", [with_calls([call("call_1")], ["call_1"])] + [ok(i) for i in range(12)])
    write_jsonl(tmp_path / "eval.jsonl", [ok(i) for i in range(100, 103)])

    def run(*flags):
        with pytest.raises(SystemExit):
            main(["audit", "train.jsonl", "--eval", "eval.jsonl", "--select", "target", "--min-examples", "1",
                  "--min-eval-examples", "1", "--report", "json",
                  "--output", "-", "-q", *flags])
        report = json.loads(capsys.readouterr().out)
        return report["verdict"]["status"], [f["code"] for r in report["results"] for f in r["findings"]]

    assert run("--target", "openai") == ("ready", [])
    assert run("--target", "openai,mistral")[1] == ["TGT008"]
    assert run("--target", "openai", "--target", "mistral")[0] == "not_ready"
