"""tool-calls: calls name declared functions, arguments parse and fit the parameters, replies match calls."""

import json

from auditor.testing import make_context, run_check
from dataset_auditor_checks.tool_calls import ToolCalls

PARAMETERS = {"type": "object", "properties": {"order_id": {"type": "integer"},
                                               "unit": {"enum": ["kg", "lb"]}},
              "required": ["order_id"], "additionalProperties": False}
TOOLS = [{"type": "function", "function": {"name": "get_order", "parameters": PARAMETERS}},
         {"type": "function", "function": {"name": "ping"}}]


def call(name="get_order", arguments='{"order_id": 42}', call_id="call_1"):
    return {"id": call_id, "type": "function", "function": {"name": name, "arguments": arguments}}


def record(calls, reply_id="call_1", tools=TOOLS):
    messages = [{"role": "user", "content": "Where is order 42?"},
                {"role": "assistant", "content": None, "tool_calls": calls},
                {"role": "tool", "tool_call_id": reply_id, "content": '{"status": "shipped"}'},
                {"role": "assistant", "content": "It has shipped."}]
    out = {"messages": messages}
    if tools is not None:
        out["tools"] = tools
    return out


def plain(i=0):
    return {"messages": [{"role": "user", "content": f"hi {i}"}, {"role": "assistant", "content": "hello"}]}


def found(result):
    return [(f.location.line, f.code, f.data.get("message_index"), f.data.get("function")) for f in result.findings]


def test_valid_tool_calls_and_plain_records_pass():
    result = run_check(ToolCalls, [record([call()]), plain(), record([call("ping", "{}")])])
    assert result.findings == []
    assert result.status.value == "pass"
    assert result.metrics["records_with_tool_calls"] == 2
    assert result.metrics["tool_calls"] == 2


def test_records_without_tools_pass():
    result = run_check(ToolCalls, [plain(1), plain(2)])
    assert result.findings == [] and result.status.value == "pass"
    assert result.metrics["records_with_tool_calls"] == 0


def test_call_to_undeclared_function():
    result = run_check(ToolCalls, [record([call()]), record([call("cancel_order")])])
    assert found(result) == [(2, "TOOL001", 1, "cancel_order")]
    assert "get_order" in result.findings[0].message  # the declared names are shown
    assert len(result.excluded) == 1 and result.status.value == "fail"


def test_call_without_any_tools_declared():
    result = run_check(ToolCalls, [record([call()], tools=None)])
    assert found(result) == [(1, "TOOL001", 1, "get_order")]
    assert "declares no tools" in result.findings[0].message


def test_arguments_that_are_not_json():
    result = run_check(ToolCalls, [record([call(arguments='{"order_id": 42')]),
                                   record([call(arguments={"order_id": 42})])])
    assert found(result) == [(1, "TOOL002", 1, "get_order"), (2, "TOOL002", 1, "get_order")]
    assert "line 1 column" in result.findings[0].message
    assert "not a JSON string" in result.findings[1].message


def test_arguments_that_break_the_parameters_schema_report_every_violation():
    bad = json.dumps({"order_id": "42", "unit": "stone", "extra": True})
    result = run_check(ToolCalls, [record([call()]), record([call(arguments=bad)])])
    assert found(result) == [(2, "TOOL003", 1, "get_order")]
    pointers = [(v["pointer"], v["keyword"]) for v in result.findings[0].data["violations"]]
    assert pointers == [("", "additionalProperties"), ("/order_id", "type"), ("/unit", "enum")]
    assert "messages[1].tool_calls[0]" in result.findings[0].message


def test_tool_reply_with_unknown_call_id():
    result = run_check(ToolCalls, [record([call()], reply_id="call_9")])
    assert [(line, code, index) for line, code, index, _ in found(result)] == [(1, "TOOL004", 2)]
    assert "call_9" in result.findings[0].message and "call_1" in result.findings[0].message


def test_legacy_function_call_and_functions_declaration():
    functions = [{"name": "get_order", "parameters": PARAMETERS}]
    good = {"functions": functions, "messages": [
        {"role": "user", "content": "x"},
        {"role": "assistant", "content": None, "function_call": {"name": "get_order", "arguments": '{"order_id": 1}'}},
        {"role": "function", "name": "get_order", "content": "ok"}, {"role": "assistant", "content": "done"}]}
    bad = json.loads(json.dumps(good))
    bad["messages"][1]["function_call"]["arguments"] = '{"order_id": "one"}'
    result = run_check(ToolCalls, [good, bad])
    assert found(result) == [(2, "TOOL003", 1, "get_order")]


def test_tools_declaration_that_is_not_a_valid_json_schema():
    broken = [{"type": "function", "function": {"name": "get_order",
                                                "parameters": {"type": "object", "required": "order_id"}}}]
    result = run_check(ToolCalls, [record([call()]), record([call()], tools=broken)])
    assert found(result) == [(2, "TOOL005", None, "get_order")]
    assert "not a valid JSON Schema" in result.findings[0].message
    assert len(result.excluded) == 1


def test_validators_are_cached_per_distinct_parameters_schema():
    records = [record([call(call_id=f"c{i}")], reply_id=f"c{i}") for i in range(30)]
    result = run_check(ToolCalls, records)
    assert result.findings == []
    assert result.metrics["distinct_parameter_schemas"] == 1


def test_eval_records_are_checked():
    ctx = make_context([record([call()])], [record([call("nope")])])
    result = run_check(ToolCalls, ctx=ctx)
    assert [(f.split, f.location.line, f.code) for f in result.findings] == [("eval", 1, "TOOL001")]


def test_only_records_with_tool_structure_are_read_again(monkeypatch):
    from auditor.input import loading

    parsed = []
    real = loading.parse_line
    ctx = make_context([plain(i) for i in range(30)] + [record([call(arguments="{oops")])] + [plain(99)])
    monkeypatch.setattr(loading, "parse_line", lambda raw, line: parsed.append(line) or real(raw, line))
    result = run_check(ToolCalls, ctx=ctx)
    assert parsed == [31]  # the one record with tools; the 31 plain ones are not parsed again
    assert [f.location.line for f in result.findings] == [31] and result.metrics["records"] == 32


# -- ShareGPT function calling (LLaMA-Factory) ----------------------------------------------------

def sharegpt(name="get_order", arguments=None, tools=None, observation=True):
    specs = [{"name": "get_order", "description": "Look an order up", "parameters": PARAMETERS},
             {"name": "ping", "description": "Check the service"}]
    turns = [{"from": "human", "value": "Where is order 42?"},
             {"from": "function_call", "value": json.dumps({"name": name, "arguments": arguments or {"order_id": 42}})}]
    if observation:
        turns.append({"from": "observation", "value": '{"status": "shipped"}'})
    turns.append({"from": "gpt", "value": "It has shipped."})
    return {"conversations": turns, "tools": json.dumps(specs) if tools is None else tools}


def test_sharegpt_function_calls_are_checked_like_openai_tool_calls():
    rows = [sharegpt(), sharegpt(arguments={"order_id": "42"}), sharegpt("cancel_order"),
            {"conversations": [{"from": "human", "value": "hi"}, {"from": "observation", "value": "{}"},
                               {"from": "gpt", "value": "hello"}], "tools": "[]"},
            sharegpt(tools="[{not json"), {"conversations": [{"from": "human", "value": "hi"},
                                                             {"from": "gpt", "value": "hello"}]}]
    result = run_check(ToolCalls, rows)
    assert found(result) == [(2, "TOOL003", 1, "get_order"), (3, "TOOL001", 1, "cancel_order"),
                             (4, "TOOL004", 1, None), (5, "TOOL001", 1, "get_order"), (5, "TOOL005", None, None)]
    by_line = {f.location.line: f for f in result.findings}
    assert by_line[2].message.startswith("conversations[1] calls 'get_order' with arguments that break its parameters")
    assert by_line[2].data["violations"][0]["pointer"] == "/order_id"
    assert result.metrics["records_with_tool_calls"] == 4
    # the same rows in OpenAI chat form get the same argument violation
    openai = run_check(ToolCalls, [record([call(arguments='{"order_id": "42"}')])])
    assert [f.code for f in openai.findings] == ["TOOL003"]


def test_a_sharegpt_function_call_that_is_not_json_is_reported():
    row = sharegpt()
    row["conversations"][1]["value"] = "get_order(42)"
    result = run_check(ToolCalls, [row])
    assert found(result) == [(1, "TOOL002", 1, None)]
    assert result.findings[0].message.startswith("conversations[1] is a function_call turn whose value is not a JSON object")


def test_one_broken_declaration_shared_by_many_rows_is_one_finding():
    # BFCL's "dict" and "float" are Python names, not JSON Schema types
    broken = [{"type": "function", "function": {"name": "get_order", "parameters": {
        "type": "dict", "properties": {"order_id": {"type": "integer"}}}}}]
    rows = [record([call()], tools=broken) for _ in range(12)] + [record([call()])]
    result = run_check(ToolCalls, rows)
    [finding] = result.findings
    assert finding.code == "TOOL005" and finding.location.line == 1
    assert finding.message.startswith("tools[0] declares 'get_order' with parameters that are not a valid JSON Schema")
    assert finding.message.endswith("(on 12 lines: 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 and 2 more)")
    assert finding.data["lines"] == list(range(1, 13)) and len(finding.related) == 11
    assert result.excluded == frozenset(range(12))
