"""Every record format -> one schema: system, prompt, response, label; with the format's own validity rules.

The validity rules live beside the extraction because they are the same knowledge: which fields a
format has and what they must hold. The `format` check reports the problems found here.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from ..errors import ConfigError

FORMATS = ("chat", "prompt-completion", "alpaca", "text-label", "sharegpt", "preference", "mapped")
CHAT_ROLES = ("system", "user", "assistant", "tool", "function")
SHAREGPT_ROLES = {
    "system": "system", "human": "user", "user": "user", "gpt": "assistant", "assistant": "assistant",
    "function_call": "assistant", "observation": "tool", "tool": "tool", "function": "tool",
}
_ROLE_SET = frozenset(CHAT_ROLES)
_TOOL_KEYS = frozenset({"tool_calls", "function_call", "tool_call_id"})
CHAT_RECORD_KEYS = {"messages", "tools", "functions", "parallel_tool_calls", "metadata"}
CHAT_MESSAGE_KEYS = frozenset({
    "role", "content", "name", "tool_calls", "tool_call_id", "function_call", "weight", "refusal",
})
MAPPABLE_FIELDS = ("prompt", "response", "label", "system")


@dataclass(slots=True)
class Normalized:
    """One record in the common schema, with the problems that make it unusable (errors) or odd."""

    system: str | None = None
    prompt: str | None = None
    response: str | None = None
    label: str | None = None
    # the last user turn, when the prompt holds more than it (earlier turns, tool replies); else null
    asked: str | None = None
    tool_call: bool = False  # the response is a tool call (its JSON), not text the model writes
    tools: bool = False  # tools or functions are declared, called or answered anywhere in the record
    # the functions the record offers (names and parameters, in one order; see tool_signature), or null
    tool_specs: str | None = None
    errors: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


def detect_format(record: Mapping[str, Any]) -> str | None:
    """The format a record's keys announce, or None when they match no known format."""
    if "messages" in record:
        return "chat"
    if "conversations" in record:
        return "sharegpt"
    if "chosen" in record and "rejected" in record:
        return "preference"
    if "prompt" in record and "completion" in record:
        return "prompt-completion"
    if "instruction" in record and "output" in record:
        return "alpaca"
    if "text" in record and "label" in record:
        return "text-label"
    return None


def _text(value: Any, where: str, out: Normalized, *, allow_empty: bool = False) -> str | None:
    if value is None:
        out.errors.append(f"{where} is missing")
        return None
    if not isinstance(value, str):
        out.errors.append(f"{where} must be a string, got {_kind(value)}")
        return None
    if not allow_empty and not value.strip():
        out.errors.append(f"{where} is empty")
    return value


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number",
            str: "a string"}.get(type(value), type(value).__name__)


def _join(parts: list[str]) -> str | None:
    return "\n".join(parts) if parts else None


def content_text(content: Any) -> str | None:
    """Text of a message content: a string, or the text parts of a multimodal parts array."""
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        texts = [p.get("text") for p in content if isinstance(p, dict) and isinstance(p.get("text"), str)]
        return "\n".join(texts)
    return None


def _turns(messages: Any, where: str, out: Normalized, roles: Mapping[str, str] | None,
           role_key: str, content_key: str, *, strict_keys: bool) -> list[tuple[str, str, Any, bool]] | None:
    """Validate a list of turns into (role, text, weight, is_tool_call); None when any turn is unusable."""
    if not isinstance(messages, list):
        out.errors.append(f"{where} must be an array, got {_kind(messages)}")
        return None
    if not messages:
        out.errors.append(f"{where} is empty")
        return None
    turns: list[tuple[str, str, Any, bool]] = []
    for index, message in enumerate(messages):
        # The common, valid case is kept to a few dict lookups: this loop runs for every turn of every row.
        if type(message) is not dict:
            out.errors.append(f"{where}[{index}] must be an object, got {_kind(message)}")
            continue
        raw_role = message.get(role_key)
        role = roles.get(raw_role) if roles is not None and isinstance(raw_role, str) else raw_role
        if not isinstance(raw_role, str) or role not in _ROLE_SET:
            allowed = tuple(roles) if roles is not None else CHAT_ROLES
            out.errors.append(f"{where}[{index}].{role_key} {_repr(raw_role)} is not one of {', '.join(allowed)}")
            continue
        content = message.get(content_key)
        text, is_call = (content, False) if type(content) is str else _odd_content(
            message, content, role, f"{where}[{index}]", content_key, out)
        if raw_role == "function_call" and roles is not None:  # ShareGPT: the turn's value is the call
            is_call = True
        weight = message.get("weight", 1)
        if "weight" in message and (role != "assistant" or weight not in (0, 1) or isinstance(weight, bool)):
            out.errors.append(f"{where}[{index}].weight must be 0 or 1 on an assistant turn, got {_repr(weight)}")
        if strict_keys and not message.keys() <= CHAT_MESSAGE_KEYS:
            unknown = sorted(set(message) - CHAT_MESSAGE_KEYS)
            out.warnings.append(f"{where}[{index}] has unknown keys: {', '.join(unknown)}")
        turns.append((role, text, weight, is_call))
    return turns if len(turns) == len(messages) else None


def _odd_content(message: dict, content: Any, role: str, here: str, content_key: str,
                 out: Normalized) -> tuple[str, bool]:
    """(text, is_tool_call) of a content that is not a plain string: a parts array, or tool calls."""
    calls = message.get("tool_calls") or message.get("function_call")
    text = content_text(content)
    if content is None and not (role == "assistant" and calls):
        out.errors.append(f"{here}.{content_key} is missing or null"
                          + (" (allowed only with tool calls)" if role == "assistant" else ""))
    elif content is not None and text is None:
        out.errors.append(f"{here}.{content_key} must be a string, got {_kind(content)}")
    if role == "assistant" and calls and not text:
        # A tool-calling turn's training target is the call itself.
        return _sorted_json(calls), True
    return text or "", False


def _conversation(messages: Any, where: str, out: Normalized, roles: Mapping[str, str] | None,
                  role_key: str, content_key: str, *, strict_keys: bool) -> list | None:
    """Shared by chat and ShareGPT: validate turns, then split into system / prompt / final response.
    Returns the validated turns (None when a turn is unusable)."""
    turns = _turns(messages, where, out, roles, role_key, content_key, strict_keys=strict_keys)
    if turns is None:
        return None
    final = len(turns) - 1
    if turns[final][0] != "assistant":
        out.errors.append(f"conversation ends with a {turns[final][0]} turn, not an assistant turn")
        final = max((i for i, t in enumerate(turns) if t[0] == "assistant"), default=-1)
    elif not _trainable(turns):
        out.errors.append("no assistant turn with a non-empty training target")
    out.system = _join([text for role, text, _, _ in turns if role == "system"])
    prior = turns[:final] if final >= 0 else turns
    out.prompt = _join([text for _, text, _, _ in prior])
    before = [(role, text) for role, text, _, _ in prior if role != "system"]
    if len(before) > 1:
        out.asked = next((text for role, text in reversed(before) if role == "user"), None)
    if final >= 0:
        out.response, out.tool_call = turns[final][1], turns[final][3]
    return turns


def _trainable(turns: list) -> bool:
    """Whether an assistant turn of weight other than 0 has a non-empty text. (Plain loops here and
    below: these run for every row, and a generator under any() costs twice as much.)"""
    for role, text, weight, _ in turns:
        if role == "assistant" and weight != 0 and text.strip():
            return True
    return False


def _require_user_turn(turns: list | None, out: Normalized) -> None:
    """A conversation that no user turn starts teaches replies to nothing: an error. `turns`: the
    validated turns (their roles normalized), None when a turn was unusable."""
    if not turns or out.errors:
        return  # already unusable, and said why
    for turn in turns:
        if turn[0] == "user":
            return
    out.errors.append("conversation has no user turn")


def _mentions_tools(messages: Any) -> bool:
    """Whether a message list carries tool calls or tool results."""
    if not isinstance(messages, list):
        return False
    for m in messages:
        if type(m) is dict and (m.get("role") in ("tool", "function") or not _TOOL_KEYS.isdisjoint(m)):
            return True
    return False


def _as_list(value: Any) -> list:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def tool_signature(declared: Any) -> str | None:
    """The functions a record offers, written one way: each function's name and parameters (its
    description left out), in sorted order, as compact JSON; None when it offers none. Two rows that
    ask the same question with different functions offered are different examples, so duplicate,
    contradiction and leakage matching include this. `declared` is OpenAI's `tools` (entries wrapping
    a `function`), the legacy `functions`, or LLaMA-Factory's `tools` (a JSON string or list of specs);
    a string that is not JSON stands for itself."""
    if isinstance(declared, str):
        text = declared.strip()
        if not text:
            return None
        try:
            declared = orjson.loads(text)
        except orjson.JSONDecodeError:
            return text
    declared = _as_list(declared)
    if not declared:
        return None
    specs = []
    for entry in declared:
        function = entry.get("function") if isinstance(entry, dict) and isinstance(entry.get("function"), dict) else entry
        if isinstance(function, dict):
            specs.append({"name": function.get("name"), "parameters": function.get("parameters")})
        else:
            specs.append(function)
    return "[" + ",".join(sorted(map(_sorted_json, specs))) + "]"


def _sorted_json(value: Any) -> str:
    """Compact JSON with sorted keys, one way for every value a record can hold."""
    try:
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    except TypeError:  # beyond what orjson writes (integers over 64 bits): the slower, general writer
        import json

        return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def _repr(value: Any) -> str:
    return f"'{value}'" if isinstance(value, str) else _kind(value)


_PLAIN_MESSAGE_KEYS = frozenset({"role", "content"})


def _plain_conversation(messages: Any, out: Normalized) -> bool:
    """The common chat record in one tight loop: every turn holds only a system, user or assistant role
    and a string content, a user turn is among them, and the last turn is the assistant's, with text.
    Fills `out` as `_conversation` and `_require_user_turn` would (such a record has no problem for them
    to tell and mentions no tools); False, `out` untouched, for every other record."""
    if type(messages) is not list or not messages:
        return False
    systems: list[str] = []
    asked = None
    others = 0  # turns before the last that are not the system's
    for message in messages:
        if type(message) is not dict or message.keys() != _PLAIN_MESSAGE_KEYS:
            return False
        role, content = message["role"], message["content"]
        if type(content) is not str:
            return False
        if role == "user":
            asked = content
            others += 1
        elif role == "system":
            systems.append(content)
        elif role == "assistant":
            others += 1
        else:
            return False
    response = messages[-1]["content"]
    if messages[-1]["role"] != "assistant" or asked is None or not response.strip():
        return False
    if systems:
        out.system = "\n".join(systems)
    if len(messages) > 1:
        out.prompt = "\n".join([message["content"] for message in messages[:-1]])
    if others > 2:  # more than one turn before the answer that is not the system's: name the last question
        out.asked = asked
    out.response = response
    return True


def normalize_chat(record: Mapping[str, Any], out: Normalized) -> None:
    messages = record.get("messages")
    mentions_tools = False
    if not _plain_conversation(messages, out):
        turns = _conversation(messages, "messages", out, None, "role", "content", strict_keys=True)
        _require_user_turn(turns, out)
        mentions_tools = _mentions_tools(messages)
    out.tools = "tools" in record or "functions" in record or mentions_tools
    if out.tools:
        out.tool_specs = tool_signature(_as_list(record.get("tools")) + _as_list(record.get("functions")))
    if not record.keys() <= CHAT_RECORD_KEYS:
        unknown = sorted(set(record) - CHAT_RECORD_KEYS)
        out.warnings.append(f"unknown top-level keys: {', '.join(unknown)}")


def normalize_sharegpt(record: Mapping[str, Any], out: Normalized) -> None:
    turns = record.get("conversations")
    _require_user_turn(_conversation(turns, "conversations", out, SHAREGPT_ROLES, "from", "value",
                                     strict_keys=False), out)
    # LLaMA-Factory's function calling: `function_call` / `observation` turns, `tools` a JSON string or list
    out.tools = "tools" in record or (isinstance(turns, list) and any(
        isinstance(t, dict) and t.get("from") in ("function_call", "observation") for t in turns))
    if out.tools:
        out.tool_specs = tool_signature(record.get("tools"))
    system = record.get("system")
    if isinstance(system, str) and system.strip():
        out.system = system if out.system is None else f"{system}\n{out.system}"
        out.prompt = system if out.prompt is None else f"{system}\n{out.prompt}"


def normalize_prompt_completion(record: Mapping[str, Any], out: Normalized) -> None:
    out.prompt = _text(record.get("prompt"), "prompt", out)
    out.response = _text(record.get("completion"), "completion", out)


def normalize_alpaca(record: Mapping[str, Any], out: Normalized) -> None:
    instruction = _text(record.get("instruction"), "instruction", out)
    extra = record.get("input", "")
    extra = _text(extra, "input", out, allow_empty=True) if extra is not None else ""
    system = record.get("system")
    if system is not None and _text(system, "system", out, allow_empty=True):
        out.system = system
    parts = [p for p in (out.system, instruction, extra) if p]
    out.prompt = "\n".join(parts) if parts else None
    out.response = _text(record.get("output"), "output", out)


def normalize_text_label(record: Mapping[str, Any], out: Normalized) -> None:
    out.prompt = _text(record.get("text"), "text", out)
    out.label = _label(record.get("label"), "label", out)


def _label(value: Any, where: str, out: Normalized) -> str | None:
    if isinstance(value, bool) or isinstance(value, (int, str)):
        text = str(value).lower() if isinstance(value, bool) else str(value)
        if not text.strip():
            out.errors.append(f"{where} is empty")
        return text
    out.errors.append(f"{where} is missing" if value is None else
                      f"{where} must be a string or an integer, got {_kind(value)}")
    return None


def normalize_preference(record: Mapping[str, Any], out: Normalized) -> None:
    prompt = record.get("prompt")
    if isinstance(prompt, list):
        turns = _turns(prompt, "prompt", out, None, "role", "content", strict_keys=False) or []
        out.system = _join([text for role, text, _, _ in turns if role == "system"])
        out.prompt = _join([text for _, text, _, _ in turns])
    else:
        out.prompt = _text(prompt, "prompt", out)
    sides = {}
    for side in ("chosen", "rejected"):
        value = record.get(side)
        if isinstance(value, list):
            probe = Normalized()
            _conversation(value, side, probe, None, "role", "content", strict_keys=False)
            out.errors.extend(probe.errors)
            sides[side] = probe.response
        else:
            sides[side] = _text(value, side, out)
    out.response = sides["chosen"]
    if sides["chosen"] is not None and sides["chosen"] == sides["rejected"]:
        out.errors.append("chosen and rejected are identical")


NORMALIZERS: dict[str, Callable[[Mapping[str, Any], Normalized], None]] = {
    "chat": normalize_chat,
    "prompt-completion": normalize_prompt_completion,
    "alpaca": normalize_alpaca,
    "text-label": normalize_text_label,
    "sharegpt": normalize_sharegpt,
    "preference": normalize_preference,
}


def make_mapped(fields: Mapping[str, str]) -> Callable[[Mapping[str, Any], Normalized], None]:
    """A normalizer for an explicit field mapping such as {"prompt": "question", "response": "answer"}.

    A source field may be a dotted path into nested objects ("meta.intent").
    """
    unknown = sorted(set(fields) - set(MAPPABLE_FIELDS))
    if unknown:
        raise ConfigError(f"unknown field mapping target '{unknown[0]}' (choose from {', '.join(MAPPABLE_FIELDS)})")
    if "prompt" not in fields:
        raise ConfigError("a field mapping needs at least 'prompt' (e.g. --field prompt=question)")

    def normalize_mapped(record: Mapping[str, Any], out: Normalized) -> None:
        for target, source in fields.items():
            value = _lookup(record, source)
            if target == "label":
                out.label = _label(value, source, out)
            else:
                setattr(out, target, _text(value, source, out))
        if out.system and out.prompt:
            out.prompt = f"{out.system}\n{out.prompt}"

    return normalize_mapped


def _lookup(record: Mapping[str, Any], dotted: str) -> Any:
    value: Any = record
    for part in dotted.split("."):
        if not isinstance(value, Mapping):
            return None
        value = value.get(part)
    return value


def normalize_record(record: Mapping[str, Any], fmt: str,
                     normalizer: Callable[[Mapping[str, Any], Normalized], None]) -> Normalized:
    out = Normalized()
    try:
        normalizer(record, out)
    except RecursionError:
        out.errors.append(f"record nested too deeply to read as {fmt}")
    return out
