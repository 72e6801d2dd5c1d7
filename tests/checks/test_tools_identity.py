"""The functions a row offers are part of its input: duplicates, contradictions and leakage see them.

BFCL-style function-calling rows often ask one question with different function lists: those are
different examples, not copies, and their different calls are no contradiction.
"""

import json

from auditor.input.normalize import Normalized, normalize_chat, normalize_sharegpt, tool_signature
from auditor.testing import make_context, run_check
from dataset_auditor_checks.contradictions import Contradictions
from dataset_auditor_checks.exact_duplicates import ExactDuplicates
from dataset_auditor_checks.leakage import Leakage
from dataset_auditor_checks.near_duplicates import NearDuplicates

WEATHER = {"name": "get_weather", "description": "Weather now",
           "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]}}
FORECAST = {"name": "get_forecast", "description": "Weather later",
            "parameters": {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}}}
QUESTION = ("What is the weather like in Berlin right now, and should I take an umbrella when I walk to the "
            "office this morning before the meeting starts at nine?")


def row(question, functions, name, arguments):
    return {"tools": [{"type": "function", "function": f} for f in functions],
            "messages": [{"role": "user", "content": question},
                         {"role": "assistant", "content": None, "tool_calls": [
                             {"id": "call_1", "type": "function",
                              "function": {"name": name, "arguments": json.dumps(arguments)}}]}]}


def filler(n, start=0):
    return [row(f"Question number {i} about the city of {i} and its {i * 7} parks and {i * 3} museums "
                f"opening hours today", [WEATHER], "get_weather", {"city": str(i)}) for i in range(start, start + n)]


def test_tool_signature_is_names_and_parameters_in_one_order():
    described = dict(WEATHER, description="Other words")
    assert tool_signature([WEATHER, FORECAST]) == tool_signature([FORECAST, described])
    assert tool_signature([{"type": "function", "function": WEATHER}]) == tool_signature(json.dumps([WEATHER]))
    assert tool_signature([WEATHER]) != tool_signature([WEATHER, FORECAST])
    assert tool_signature([]) is None and tool_signature("  ") is None
    assert tool_signature("not json") == "not json"
    chat, sharegpt = Normalized(), Normalized()
    normalize_chat(row(QUESTION, [WEATHER], "get_weather", {"city": "Berlin"}), chat)
    normalize_sharegpt({"conversations": [{"from": "human", "value": QUESTION},
                                          {"from": "function_call", "value": '{"name": "get_weather"}'}],
                        "tools": json.dumps([WEATHER])}, sharegpt)
    assert chat.tool_specs == sharegpt.tool_specs == tool_signature([WEATHER])
    assert chat.tool_call and sharegpt.tool_call and sharegpt.tools and not sharegpt.errors


def test_same_question_with_other_functions_is_no_duplicate_and_no_contradiction():
    berlin = {"city": "Berlin"}
    train = filler(10) + [row(QUESTION, [WEATHER], "get_weather", berlin),
                          row(QUESTION, [WEATHER, FORECAST], "get_weather", berlin),
                          row(QUESTION, [FORECAST], "get_forecast", {"city": "Berlin", "days": 0})]
    assert run_check(ExactDuplicates, train).findings == []
    assert run_check(NearDuplicates, train).findings == []
    assert run_check(Contradictions, train).findings == []
    # the same functions, in another order and described otherwise: a copy, and then a contradiction
    train.append(row(QUESTION, [FORECAST, dict(WEATHER, description="Current weather")], "get_weather", berlin))
    train.append(row(QUESTION, [FORECAST], "get_forecast", {"city": "Berlin", "days": 1}))
    assert [f.data["lines"] for f in run_check(ExactDuplicates, train).findings] == [[12, 14]]
    [conflict] = run_check(Contradictions, train).findings
    assert (conflict.code, conflict.location.line, [r.line for r in conflict.related]) == ("CON002", 13, [15])


def test_an_eval_question_offered_other_functions_is_no_leak():
    train = filler(20) + [row(QUESTION, [WEATHER], "get_weather", {"city": "Berlin"})]
    evals = filler(5, start=100) + [row(QUESTION, [FORECAST], "get_forecast", {"city": "Berlin", "days": 0})]
    assert run_check(Leakage, ctx=make_context(train, evals)).findings == []
    evals.append(row(QUESTION, [WEATHER], "get_weather", {"city": "Berlin"}))
    [leak] = run_check(Leakage, ctx=make_context(train, evals)).findings
    assert (leak.code, leak.location.line, leak.data["train_lines"]) == ("LEAK001", 7, [21])
