import pytest

from auditor.errors import ConfigError
from auditor.input.dataset import load_dataset
from auditor.input.normalize import NORMALIZERS, detect_format, make_mapped, normalize_record
from auditor.testing import write_jsonl


def norm(record, fmt=None):
    fmt = fmt or detect_format(record)
    return normalize_record(record, fmt, NORMALIZERS[fmt])


CHAT = {"messages": [
    {"role": "system", "content": "You triage tickets."},
    {"role": "user", "content": "My card was charged twice."},
    {"role": "assistant", "content": '{"category": "billing"}'},
]}


def test_chat_splits_system_prompt_and_final_response():
    out = norm(CHAT)
    assert (out.system, out.prompt, out.response, out.errors) == (
        "You triage tickets.", "You triage tickets.\nMy card was charged twice.", '{"category": "billing"}', [])


def test_chat_multi_turn_prompt_is_everything_before_the_final_assistant_turn():
    record = {"messages": [{"role": "user", "content": "a"}, {"role": "assistant", "content": "b"},
                           {"role": "user", "content": "c"}, {"role": "assistant", "content": "d", "weight": 1}]}
    out = norm(record)
    assert (out.prompt, out.response, out.errors) == ("a\nb\nc", "d", [])
    assert out.asked == "c"  # the turn the response answers
    assert norm(CHAT).asked is None  # one user turn: the prompt's user side already is it
    sharegpt = {"conversations": [{"from": "human", "value": "x"}, {"from": "gpt", "value": "y"},
                                  {"from": "human", "value": "z\nw"}, {"from": "gpt", "value": "v"}]}
    assert norm(sharegpt).asked == "z\nw"


def test_chat_tool_call_turn_has_the_call_as_target():
    record = {"messages": [{"role": "user", "content": "weather?"},
                           {"role": "assistant", "content": None, "tool_calls": [
                               {"id": "c1", "type": "function",
                                "function": {"name": "get_weather", "arguments": "{}"}}]}],
              "tools": [{"type": "function", "function": {"name": "get_weather", "parameters": {}}}]}
    out = norm(record)
    assert out.errors == [] and out.tool_call
    assert '"name":"get_weather"' in out.response
    assert not norm(CHAT).tool_call


@pytest.mark.parametrize("record, message", [
    ({"messages": []}, "messages is empty"),
    ({"messages": "hi"}, "messages must be an array, got a string"),
    ({"messages": [{"role": "bot", "content": "x"}, {"role": "assistant", "content": "y"}]},
     "messages[0].role 'bot' is not one of system, user, assistant, tool, function"),
    ({"messages": [{"role": "user", "content": "x"}]}, "conversation ends with a user turn, not an assistant turn"),
    ({"messages": [{"role": "user", "content": 5}, {"role": "assistant", "content": "y"}]},
     "messages[0].content must be a string, got a number"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": None}]},
     "messages[1].content is missing or null (allowed only with tool calls)"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 0}]},
     "no assistant turn with a non-empty training target"),
    ({"messages": [{"role": "user", "content": "x"}, {"role": "assistant", "content": "y", "weight": 2}]},
     "messages[1].weight must be 0 or 1 on an assistant turn, got a number"),
    ({"messages": [{"role": "user", "content": "x"}, 3]}, "messages[1] must be an object, got a number"),
], ids=["empty", "not-list", "bad-role", "ends-with-user", "content-type", "null-content", "weight-0",
        "weight-2", "turn-not-object"])
def test_chat_violations(record, message):
    assert message in norm(record, "chat").errors


def test_chat_unknown_keys_are_warnings_not_errors():
    record = {**CHAT, "id": 7}
    record["messages"] = [*CHAT["messages"][:2], {"role": "assistant", "content": "x", "mood": "happy"}]
    out = norm(record)
    assert out.errors == []
    assert out.warnings == ["messages[2] has unknown keys: mood", "unknown top-level keys: id"]


def test_prompt_completion():
    assert (norm({"prompt": "2+2=", "completion": "4"}).prompt, norm({"prompt": "2+2=", "completion": "4"}).response) \
        == ("2+2=", "4")
    assert norm({"prompt": "x", "completion": ""}).errors == ["completion is empty"]
    assert norm({"prompt": ["x"], "completion": "y"}).errors == ["prompt must be a string, got an array"]


def test_alpaca_joins_instruction_and_input():
    out = norm({"instruction": "Translate", "input": "Hallo", "output": "Hello"})
    assert (out.prompt, out.response, out.errors) == ("Translate\nHallo", "Hello", [])
    assert norm({"instruction": "Translate", "output": None}, "alpaca").errors == ["output is missing"]


def test_text_label_accepts_integer_labels():
    assert norm({"text": "card never came", "label": 3}).label == "3"
    assert norm({"text": "x", "label": ""}).errors == ["label is empty"]
    assert norm({"text": "x", "label": [1]}).errors == ["label must be a string or an integer, got an array"]


def test_sharegpt_maps_roles():
    record = {"conversations": [{"from": "system", "value": "Be brief."}, {"from": "human", "value": "Hi"},
                                {"from": "gpt", "value": "Hello"}]}
    out = norm(record)
    assert (out.system, out.prompt, out.response, out.errors) == ("Be brief.", "Be brief.\nHi", "Hello", [])
    bad = norm({"conversations": [{"from": "robot", "value": "x"}]})
    assert bad.errors[0].startswith("conversations[0].from 'robot' is not one of system, human")


def test_preference_uses_chosen_and_flags_identical_pairs():
    out = norm({"prompt": "Pick", "chosen": "A", "rejected": "B"})
    assert (out.prompt, out.response, out.errors) == ("Pick", "A", [])
    assert norm({"prompt": "Pick", "chosen": "A", "rejected": "A"}).errors == ["chosen and rejected are identical"]
    listed = norm({"prompt": [{"role": "user", "content": "Q"}], "chosen": [{"role": "assistant", "content": "A"}],
                   "rejected": [{"role": "assistant", "content": "B"}]})
    assert (listed.prompt, listed.response, listed.errors) == ("Q", "A", [])


def test_field_mapping_with_dotted_paths():
    mapped = make_mapped({"prompt": "question", "response": "answer", "label": "meta.intent"})
    out = normalize_record({"question": "Q?", "answer": "A", "meta": {"intent": "faq"}}, "mapped", mapped)
    assert (out.prompt, out.response, out.label, out.errors) == ("Q?", "A", "faq", [])
    assert normalize_record({"question": "Q?"}, "mapped", mapped).errors == ["answer is missing", "meta.intent is missing"]
    with pytest.raises(ConfigError, match="unknown field mapping target 'output'"):
        make_mapped({"output": "x", "prompt": "y"})


def test_detection_and_mixed_format_file(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [CHAT, CHAT, {"prompt": "p", "completion": "c"}, {"foo": 1}])
    data = load_dataset(str(path), "train")
    assert data.format == "chat"
    assert data.formats == {"chat": 2, "prompt-completion": 1}
    assert [(i.line, i.code) for i in data.issues] == [(3, "AUD005"), (4, "AUD004")]
    assert data.frame["valid"].to_list() == [True, True, False, False]


def test_forced_format_overrides_detection(tmp_path):
    path = write_jsonl(tmp_path / "t.jsonl", [{"prompt": "p", "completion": "c", "messages": []}])
    data = load_dataset(str(path), "train", fmt="prompt-completion")
    assert data.format == "prompt-completion" and data.frame["valid"].to_list() == [True]


def test_tool_calls_with_integers_beyond_64_bits_are_written_not_raised():
    huge = -(2**63) - 1
    record = {"messages": [{"role": "user", "content": "call it"},
                           {"role": "assistant", "tool_calls": [{"id": "c1", "arguments": {"n": huge, "é": 1}}]}]}
    out = normalize_record(record, "chat", NORMALIZERS["chat"])
    assert out.tool_call and out.errors == []
    assert out.response == '[{"arguments":{"n":-9223372036854775809,"é":1},"id":"c1"}]'


def _turn(role, content):
    return {"role": role, "content": content}


@pytest.mark.parametrize("messages", [
    [_turn("user", "q"), _turn("assistant", "a")],
    [_turn("system", "s"), _turn("user", "q"), _turn("assistant", "a")],
    [_turn("system", "s1"), _turn("system", "s2"), _turn("user", "q"), _turn("assistant", "a")],
    [_turn("user", "q1"), _turn("assistant", "a1"), _turn("user", "q2"), _turn("assistant", "a2")],
    [_turn("user", "q1"), _turn("user", "q2"), _turn("assistant", "a")],
    [_turn("user", "q"), _turn("assistant", "a1"), _turn("assistant", "a2")],
    [_turn("assistant", "hello"), _turn("user", "q"), _turn("assistant", "a")],
    # the plain loop gives these up to the general one, which says what is wrong or odd
    [_turn("user", "q"), _turn("assistant", "earlier"), _turn("user", "q2"), _turn("assistant", "  ")],
    [_turn("user", "q"), _turn("assistant", " ")],
    [_turn("system", "s"), _turn("assistant", "a")],
    [_turn("user", "q"), _turn("assistant", "a"), _turn("user", "q2")],
    [_turn("user", "q"), {"role": "assistant", "content": "a", "weight": 0}],
    [_turn("user", "q"), {"role": "assistant", "content": "a", "name": "bot"}],
    [_turn("user", "q"), {"role": "assistant", "content": "a", "extra": 1}],
    [_turn("user", "q"), _turn("assistant", None)],
    [_turn("user", [{"type": "text", "text": "q"}]), _turn("assistant", "a")],
    [_turn("user", "q"), _turn("tool", "42"), _turn("assistant", "a")],
    [_turn(["user"], "q"), _turn("assistant", "a")],
    [_turn("User", "q"), _turn("assistant", "a")],
    [{"role": "user"}, _turn("assistant", "a")],
    ["user: q", _turn("assistant", "a")],
    [],
])
@pytest.mark.parametrize("extra", [{}, {"tools": []}, {"metadata": {}, "id": 7}])
def test_the_plain_chat_loop_reads_a_record_as_the_general_one_does(messages, extra, monkeypatch):
    # most chat rows take a tight loop of their own: whatever it accepts, it must read exactly as the
    # general path reads it, and whatever it declines, the general path reads
    from auditor.input import normalize

    record = {"messages": messages, **extra}
    fast = norm(record)
    monkeypatch.setattr(normalize, "_plain_conversation", lambda messages, out: False)
    assert fast == norm(record)
