"""Check `tool-calls`: tool calls in chat records name declared functions with schema-valid arguments."""

from __future__ import annotations

from typing import Any

from auditor import Check, SchemaTrouble, compile_schema, iter_errors, merge_repeated

UNDECLARED = "TOOL001"
ARGUMENTS_NOT_JSON = "TOOL002"
ARGUMENTS_INVALID = "TOOL003"
UNKNOWN_CALL_ID = "TOOL004"
BAD_DECLARATION = "TOOL005"
_MESSAGE_CHARS = 200


class ToolCalls(Check):
    """Tool calls that name undeclared functions, carry broken arguments, or replies to unknown calls.

    ## What it does
    For every chat record (OpenAI format, train and eval) that declares `tools` (or the legacy
    `functions`) or makes tool calls, and every ShareGPT record in LLaMA-Factory's function-calling
    form (`function_call` turns holding {"name", "arguments"}, `observation` turns, `tools` a JSON
    string or list of function specs), read as the same calls; findings then name the
    `conversations[i]` turn:

    - `TOOL001`: an assistant `tool_calls` entry (or legacy `function_call`) names a function the
      record does not declare.
    - `TOOL002`: the call's `arguments` is not a string holding JSON (the parser's message and position).
    - `TOOL003`: the arguments break the function's `parameters` JSON Schema (every violation, with
      the JSON pointer of the failing value and the schema keyword).
    - `TOOL004`: a `tool` message answers a `tool_call_id` that no earlier assistant turn issued (or
      has none).
    - `TOOL005`: the `tools` declaration itself is broken: not an array of function declarations,
      or a `parameters` that is not a valid JSON Schema (checked against the 2020-12 metaschema
      unless it names its own `$schema`), or one whose `$ref` does not resolve inside it or loops.
      A declaration comes from the data: its references are never fetched (no URL, no file) and
      its `pattern`s run on a linear-time regex engine, so one row cannot reach out or hang.

    Findings name the line, the message index and the function; the same problem on many lines
    of a file (one broken declaration shared by every row) is one finding listing the lines.
    Records with any of these are removed from the clean set. Records without tools or tool calls are fine.

    ## Why is this bad?
    A tool-calling model learns the calls in its training data literally: a call to a function
    that does not exist, or arguments that do not parse or do not fit the schema, teaches it to
    emit calls the application cannot execute. Fine-tuning services also reject files whose tool
    definitions or tool replies do not line up.

    ## Example
    ```jsonl
    {"tools": [{"type": "function", "function": {"name": "get_order", "parameters": {"type": "object", "properties": {"id": {"type": "integer"}}, "required": ["id"]}}}], "messages": [{"role": "user", "content": "Where is order 42?"}, {"role": "assistant", "content": null, "tool_calls": [{"id": "call_1", "type": "function", "function": {"name": "get_order", "arguments": "{\\"id\\": \\"42\\"}"}}]}]}
    ```
    `/id`: '42' is not of type 'integer' (`TOOL003`).
    """

    id = "tool-calls"
    code = UNDECLARED
    provides = frozenset({"format-consistency"})

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset()

    def run(self, ctx):
        import polars as pl

        self._cache: dict[str, tuple[Any, str | None]] = {}
        findings, excluded = [], set()
        counts = {"records": 0, "records_with_tools": 0, "records_with_tool_calls": 0,
                  "records_with_tools_or_calls": 0, "tool_calls": 0, "broken_calls": 0}
        for split in ("train", "eval"):
            rows = ctx.rows(split)
            counts["records"] += rows.height
            # Only records with tool structure are read again from the file (the normalizer marked them).
            with_tools = rows.filter(pl.col("tools"))["row"].to_list()
            for row, source, line, record in (ctx.records(split, with_tools) if with_tools else ()):
                found = self._record(record, counts)
                if found:
                    excluded.add(row)
                    findings.extend(self.finding(message, source=source, line=line, split=split, code=code, **data)
                                    for code, message, data in found)
        findings = merge_repeated(findings)  # one declaration shared by many rows: one finding
        broken = len(excluded)
        summary = (f"{broken:,} of {counts['records_with_tools_or_calls']:,} records with tools have broken "
                   f"tool calls or declarations" if broken else
                   f"{counts['records_with_tool_calls']:,} records with tool calls, all valid"
                   if counts["records_with_tool_calls"] else "no tool calls")
        return self.result(findings, summary=summary, metrics={**counts, "broken_records": broken,
                                                               "distinct_parameter_schemas": len(self._cache)},
                           excluded=excluded)

    # -- one record ----------------------------------------------------------------------------
    def _record(self, record: dict, counts: dict) -> list[tuple[str, str, dict]]:
        out: list[tuple[str, str, dict]] = []
        messages, key = record.get("messages"), "messages"
        if not isinstance(messages, list) and isinstance(record.get("conversations"), list):
            record, key = _from_sharegpt(record, out), "conversations"
            messages = record["messages"]
        if not isinstance(messages, list):
            return []
        declared, has_tools = self._declarations(record, out)
        if has_tools:
            counts["records_with_tools"] += 1
        issued: set[str] = set()
        calls_in_record = 0
        for index, message in enumerate(messages):
            if not isinstance(message, dict):
                continue
            role = message.get("role")
            if role == "assistant":
                calls = []
                tool_calls = message.get("tool_calls")
                if isinstance(tool_calls, list):
                    for position, call in enumerate(tool_calls):
                        if isinstance(call, dict):
                            if isinstance(call.get("id"), str):
                                issued.add(call["id"])
                            calls.append((_where(key, index, message, f".tool_calls[{position}]"), call.get("function")))
                        else:
                            calls.append((_where(key, index, message, f".tool_calls[{position}]"), None))
                elif tool_calls is not None:
                    out.append((UNDECLARED, f"{key}[{index}].tool_calls must be an array",
                                {"message_index": index}))
                if message.get("function_call") is not None:
                    calls.append((f"{key}[{index}].function_call", message.get("function_call")))
                for where, function in calls:
                    calls_in_record += 1
                    problems = self._call(where, index, function, declared, has_tools)
                    counts["broken_calls"] += bool(problems)
                    out.extend(problems)
            elif role == "tool":
                call_id = message.get("tool_call_id")
                if key == "conversations":
                    if not message.get("_answers"):  # no call ids: an observation answers the calls before it
                        out.append((UNKNOWN_CALL_ID, f"{key}[{index}] is an observation that no earlier "
                                    "function_call turn asked for", {"message_index": index}))
                elif not isinstance(call_id, str):
                    out.append((UNKNOWN_CALL_ID, f"{key}[{index}] is a tool reply without a tool_call_id",
                                {"message_index": index}))
                elif call_id not in issued:
                    known = ", ".join(sorted(issued)) or "none"
                    out.append((UNKNOWN_CALL_ID, f"{key}[{index}] answers tool_call_id '{call_id}', which no "
                                f"earlier assistant turn issued (issued: {known})",
                                {"message_index": index, "tool_call_id": call_id}))
        counts["tool_calls"] += calls_in_record
        counts["records_with_tool_calls"] += bool(calls_in_record)
        counts["records_with_tools_or_calls"] += bool(has_tools or calls_in_record)
        return out

    def _declarations(self, record: dict, out: list) -> tuple[dict[str, Any], bool]:
        """name -> compiled validator (or None when parameters are absent or broken) of declared functions."""
        declared: dict[str, Any] = {}
        has_tools = False
        for key in ("tools", "functions"):
            entries = record.get(key)
            if entries is None:
                continue
            has_tools = True
            if not isinstance(entries, list):
                out.append((BAD_DECLARATION, f"{key} must be an array of function declarations", {}))
                continue
            for position, entry in enumerate(entries):
                where = f"{key}[{position}]"
                function = entry.get("function") if key == "tools" and isinstance(entry, dict) else entry
                if key == "tools" and isinstance(entry, dict) and entry.get("type", "function") != "function":
                    continue  # built-in tools of other types (code interpreter, ...) declare no function
                if not isinstance(function, dict) or not isinstance(function.get("name"), str):
                    out.append((BAD_DECLARATION, f"{where} does not declare a function with a name", {}))
                    continue
                name = function["name"]
                validator = None
                if "parameters" in function:
                    validator, error = self._validator(function["parameters"])
                    if error:
                        out.append((BAD_DECLARATION, f"{where} declares '{name}' with parameters that are not a "
                                    f"valid JSON Schema: {error}", {"function": name}))
                declared[name] = validator
        return declared, has_tools

    def _validator(self, parameters: Any) -> tuple[Any, str | None]:
        """A compiled validator per distinct parameters schema (keyed by canonical JSON): rows repeat tools."""
        import orjson

        try:
            key = orjson.dumps(parameters, option=orjson.OPT_SORT_KEYS).decode()
        except TypeError:
            key = repr(parameters)
        if key not in self._cache:
            self._cache[key] = compile_schema(parameters)  # confined: see auditor.jsonschemas
        return self._cache[key]

    def _call(self, where: str, index: int, function: Any, declared: dict, has_tools: bool) -> list:
        if not isinstance(function, dict) or not isinstance(function.get("name"), str):
            return [(UNDECLARED, f"{where} has no function name", {"message_index": index})]
        name = function["name"]
        data = {"message_index": index, "function": name}
        out = []
        if name not in declared:
            known = ", ".join(sorted(declared)) if declared else ("none" if has_tools else "the record declares no tools")
            out.append((UNDECLARED, f"{where} calls '{name}', which is not declared (declared: {known})", data))
        arguments = function.get("arguments")
        if not isinstance(arguments, str):
            kind = "missing" if arguments is None else f"{_kind(arguments)}, not a JSON string"
            out.append((ARGUMENTS_NOT_JSON, f"{where} calls '{name}' with arguments {kind}", data))
            return out
        value, error = _parse(arguments)
        if error:
            out.append((ARGUMENTS_NOT_JSON, f"{where} calls '{name}' with arguments that are not JSON: {error}",
                        data))
            return out
        validator = declared.get(name)
        if validator is not None:
            try:
                violations = _violations(validator, value)
            except SchemaTrouble as trouble:  # the row's declaration, reported on the row
                out.append((BAD_DECLARATION, f"'{name}' cannot check the arguments of {where}: {trouble}", data))
                return out
            if violations:
                shown = "; ".join(f"{v['pointer'] or '(root)'}: {v['message']} ({v['keyword']})" for v in violations)
                out.append((ARGUMENTS_INVALID, f"{where} calls '{name}' with arguments that break its parameters: "
                            f"{shown}", {**data, "violations": violations}))
        return out


def _where(key: str, index: int, message: dict, rest: str) -> str:
    # a ShareGPT function_call turn holds one call: name the turn itself
    return f"{key}[{index}]" if message.get("_sharegpt") else f"{key}[{index}]{rest}"


def _from_sharegpt(record: dict, out: list) -> dict:
    """A ShareGPT function-calling record (LLaMA-Factory: `function_call` turns holding
    {"name", "arguments"}, `observation` turns, `tools` a JSON string or list of function specs) in
    the OpenAI chat form the checks above read; turn indices are kept, so findings name the
    ShareGPT turn. A `function_call` turn whose value is not JSON is reported here (TOOL002)."""
    import json

    messages = []
    called = False
    for index, turn in enumerate(record["conversations"]):
        role = turn.get("from") if isinstance(turn, dict) else None
        value = turn.get("value") if isinstance(turn, dict) else None
        if role == "function_call":
            called = True
            call, error = _parse(value) if isinstance(value, str) else (value, None)
            if error or not isinstance(call, dict):
                out.append((ARGUMENTS_NOT_JSON, f"conversations[{index}] is a function_call turn whose value is "
                            f"not a JSON object{': ' + error if error else ''}", {"message_index": index}))
                messages.append({"role": "assistant", "content": None})
                continue
            arguments = call.get("arguments")
            if arguments is not None and not isinstance(arguments, str):  # ShareGPT writes the object itself
                arguments = json.dumps(arguments, ensure_ascii=False)
            messages.append({"role": "assistant", "_sharegpt": True, "tool_calls": [
                {"id": f"call_{index}", "type": "function",
                 "function": {"name": call.get("name"), "arguments": arguments}}]})
        elif role in ("observation", "tool", "function"):
            messages.append({"role": "tool", "content": value, "_answers": called})
        else:
            messages.append({"role": role, "content": value})
    converted = {"messages": messages}
    tools = record.get("tools")
    if isinstance(tools, str):
        if tools.strip():
            parsed, error = _parse(tools)
            if error:
                out.append((BAD_DECLARATION, f"tools is a string that is not JSON: {error}", {}))
            else:
                converted["tools"] = _wrapped(parsed)
    elif tools is not None:
        converted["tools"] = _wrapped(tools)
    return converted


def _wrapped(tools: Any) -> Any:
    """LLaMA-Factory lists bare function specs; OpenAI wraps each as {"type": "function", "function": spec}."""
    if not isinstance(tools, list):
        return tools
    return [entry if not isinstance(entry, dict) or "function" in entry or "type" in entry
            else {"type": "function", "function": entry} for entry in tools]


def _violations(validator: Any, value: Any) -> list[dict[str, str]]:
    errors = []
    for error in iter_errors(validator, value):
        path = list(error.absolute_path)
        errors.append(((tuple((0, p, "") if isinstance(p, int) else (1, 0, str(p)) for p in path),
                        str(error.validator), error.message),
                       {"pointer": "".join("/" + str(p).replace("~", "~0").replace("/", "~1") for p in path),
                        "keyword": str(error.validator), "message": error.message[:_MESSAGE_CHARS]}))
    return [item for _, item in sorted(errors, key=lambda e: e[0])]


def _parse(text: str) -> tuple[Any, str | None]:
    import json

    import orjson

    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError:
        pass
    try:
        return json.loads(text), None
    except json.JSONDecodeError as exc:
        return None, f"{exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})"
    except (ValueError, RecursionError) as exc:
        return None, str(exc)


def _kind(value: Any) -> str:
    return {dict: "an object", list: "an array", bool: "a boolean", int: "a number", float: "a number",
            str: "a string", type(None): "null"}.get(type(value), type(value).__name__)
