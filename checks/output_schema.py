"""Check `output-schema`: every training target is JSON that follows the output JSON Schema."""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from auditor import Check, counted, option

NOT_JSON = "SCH002"
CODE_FENCE = "SCH003"
# A whole target wrapped in one Markdown fence: ```json ... ``` (the info string is optional).
_FENCE = re.compile(r"\A\s*```[\w+-]*[ \t]*\r?\n(.*?)\r?\n?[ \t]*```\s*\Z", re.DOTALL)
_MESSAGE_CHARS = 200
_SHOWN = 10  # violations spelled out in a message
_EXCERPT = 160  # characters of the target shown around what broke
_CONVERSATION_KEYS = {"chat": ("messages", "role", "content"), "sharegpt": ("conversations", "from", "value")}
_ASSISTANT = {"assistant", "gpt"}


class OutputSchema(Check):
    """Training targets that are not JSON, or JSON that breaks the output JSON Schema.

    ## What it does
    Parses the training target of every valid record (train and eval) as JSON and validates it
    against the schema given with `--schema` (or `schema` in the config). By default the target is
    the final assistant turn (chat, ShareGPT), the completion, the Alpaca output or the chosen
    answer; with `targets = "all-assistant"` every assistant turn of a conversation whose `weight`
    is not 0 is checked (turns that only carry tool calls are left to `tool-calls`).

    - `SCH001`: the JSON breaks the schema. The finding lists every violation, not only the first:
      the JSON pointer of the failing value, the schema keyword and the validator's message.
    - `SCH002`: the target is not JSON at all (the parser's message and position).
    - `SCH003`: the target is wrapped in a Markdown code fence (```` ```json ... ``` ````). Set
      `allow_code_fence = true` when fenced output is what you want the model to produce; the inner
      JSON is then validated.

    Each finding's `data.excerpt` is the target around what broke (the failing key, the parse
    error's position). The schema's draft follows its `$schema` (2020-12 when absent). `format` is an annotation unless
    `validate_formats = true`. Rows with an invalid target are removed from the clean set.

    ## Why is this bad?
    Structured output is the first reason to fine-tune at all: downstream code parses the answer,
    and one small deviation breaks the process. A model learns exactly the targets it is shown, so
    every schema-breaking target teaches it to break the schema (a fenced target teaches the fence).

    ## Example
    With a schema that requires `priority` to be one of low / medium / high:
    ```jsonl
    {"messages": [{"role": "user", "content": "Site is down!"}, {"role": "assistant", "content": "{\\"priority\\": \\"critical\\"}"}]}
    {"messages": [{"role": "user", "content": "Site is down!"}, {"role": "assistant", "content": "Priority: high"}]}
    ```
    The first is reported at `/priority` (`enum`), the second is not JSON. Fix the targets, or the
    schema if it is the schema that is wrong.
    """

    id = "output-schema"
    code = "SCH001"
    provides = frozenset({"format-consistency"})
    requires = frozenset({"schema"})

    @dataclass(frozen=True)
    class Options:
        targets: str = option("final", "Which turns are training targets: the final one, or every assistant "
                                       "turn whose weight is not 0.", choices=("final", "all-assistant"))
        allow_code_fence: bool = option(False, "Accept a target wrapped in a Markdown code fence and validate "
                                               "the JSON inside it.")
        validate_formats: bool = option(False, "Assert the schema's `format` keywords (email, date-time, ...) "
                                               "instead of treating them as annotations.")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset()

    def run(self, ctx):
        validator = SchemaValidator(ctx.schema, validate_formats=self.options.validate_formats)
        findings, excluded = [], set()
        counts = {"targets": 0, "invalid_targets": 0, "schema_invalid": 0, "not_json": 0, "code_fence": 0}
        for row, source, line, split, turn, text in self._targets(ctx):
            counts["targets"] += 1
            found = self._check_target(validator, text, source=source, line=line, split=split, turn=turn)
            if found:
                counts["invalid_targets"] += 1
                excluded.add(row)
                for finding in found:
                    key = {NOT_JSON: "not_json", CODE_FENCE: "code_fence"}.get(finding.code, "schema_invalid")
                    counts[key] += 1
                findings.extend(found)
        checked = counts["targets"]
        if counts["invalid_targets"]:
            parts = [f"{counts[k]:,} {label}" for k, label in
                     (("schema_invalid", "breaking the schema"), ("not_json", "not JSON"),
                      ("code_fence", "in a code fence")) if counts[k]]
            summary = f"{counts['invalid_targets']:,} of {checked:,} targets invalid ({', '.join(parts)})"
        else:
            summary = f"all {checked:,} targets follow the schema"
        metrics = {**counts, "invalid_rows": len(excluded), "targets_mode": self.options.targets,
                   "rate": round(counts["invalid_targets"] / checked, 6) if checked else 0.0,
                   "validator": validator.engine}
        return self.result(findings, summary=summary, metrics=metrics, excluded=excluded)

    # -- targets -------------------------------------------------------------------------------
    def _targets(self, ctx):
        """(row, source, line, split, (messages key, index) or None, text) of every training target."""
        import polars as pl

        # A final turn that only calls a tool is judged by `tool-calls`, not against the output schema.
        frame = ctx.rows().filter(pl.col("response").is_not_null() & ~pl.col("tool_call"))
        if self.options.targets == "final":
            columns = frame.select("row", "source", "line", "split", "response")
            for row, source, line, split, text in columns.iter_rows():
                yield row, source, line, split, None, text
            return
        # all-assistant: conversations are read from the original records; other formats have one target
        single = frame.filter(~pl.col("format").is_in(list(_CONVERSATION_KEYS)))
        single = {row: text for row, text in single.select("row", "response").iter_rows()}
        formats = dict(ctx.rows().select("row", "format").iter_rows())
        split_of = {f.path: f.split for f in ctx.files}
        for row, source, line, record in ctx.records():
            if row in single:
                yield row, source, line, split_of[source], None, single[row]
                continue
            keys = _CONVERSATION_KEYS.get(formats.get(row))
            if keys is None:
                continue
            messages, role_key, content_key = keys
            for index, message in enumerate(record.get(messages) or []):
                if not isinstance(message, dict) or message.get(role_key) not in _ASSISTANT:
                    continue
                if message.get("weight", 1) == 0:
                    continue
                text = _text(message.get(content_key))
                if text is None or (not text.strip() and (message.get("tool_calls")
                                                         or message.get("function_call"))):
                    continue  # a turn that only calls tools: the tool-calls check validates it
                yield row, source, line, split_of[source], (messages, index), text

    # -- one target ----------------------------------------------------------------------------
    def _check_target(self, validator, text, *, source, line, split, turn):
        subject = f"Target in {turn[0]}[{turn[1]}]" if turn is not None else "Target"
        extra = {"turn": turn[1]} if turn is not None else {}
        fenced = _FENCE.match(text)
        findings = []
        if fenced:
            inner = fenced.group(1)
            if not self.options.allow_code_fence:
                info = text.strip().split("\n", 1)[0]
                findings.append(self.finding(f"{subject} is wrapped in a Markdown code fence ({info})",
                                             source=source, line=line, split=split, code=CODE_FENCE, **extra))
            text = inner
        value, error = parse_json(text)
        if error is not None:
            if not findings:  # a fenced target with broken JSON inside is reported once, as the fence
                findings.append(self.finding(f"{subject} is not JSON: {error['message']}", source=source,
                                             line=line, split=split, code=NOT_JSON, parse_error=error,
                                             excerpt=around(text, error.get("position") or 0), **extra))
            return findings
        violations = validator.violations(value)
        if violations:
            shown = "; ".join(f"{v['pointer'] or '(root)'}: {v['message']} ({v['keyword']})"
                              for v in violations[:_SHOWN])
            if len(violations) > _SHOWN:  # the finding's data keeps every violation
                shown += f"; and {len(violations) - _SHOWN} more"
            count = counted(len(violations), "violation")
            findings.append(self.finding(f"{subject} breaks the schema, {count}: {shown}", source=source,
                                         line=line, split=split, violations=violations,
                                         excerpt=around(text, _position(text, violations[0]["pointer"])), **extra))
        return findings


def around(text: str, at: int, width: int = _EXCERPT) -> str:
    """The part of `text` around character `at` (the evidence a reviewer reads), cut with ellipses."""
    start = max(0, min(at - width // 3, len(text) - width))
    piece = text[start:start + width]
    return ("…" if start else "") + piece + ("…" if start + width < len(text) else "")


def _position(text: str, pointer: str) -> int:
    """Where the value a JSON pointer names starts in the target's text, near enough: its last key."""
    key = pointer.rsplit("/", 1)[-1].replace("~1", "/").replace("~0", "~") if pointer else ""
    if not key or key.isdigit():
        parent = pointer.rsplit("/", 1)[0] if pointer else ""
        return _position(text, parent) if parent and parent != pointer else 0
    found = text.find(json.dumps(key, ensure_ascii=False))
    return max(found, 0)


class SchemaValidator:
    """A fast yes/no path (jsonschema-rs, built once) and standard detailed errors (jsonschema) on failures."""

    def __init__(self, schema: Any, *, validate_formats: bool = False) -> None:
        import jsonschema
        from jsonschema.validators import validator_for

        from auditor import confined_validator

        cls = validator_for(schema, default=jsonschema.Draft202012Validator)
        checker = cls.FORMAT_CHECKER if validate_formats else None
        # references stay inside the schema and patterns run in linear time (see auditor.jsonschemas)
        self.detailed = confined_validator(cls, schema, format_checker=checker)
        self.fast = _fast_validator(cls, schema, validate_formats)
        self.engine = "jsonschema-rs" if self.fast is not None else "jsonschema"

    def is_valid(self, value: Any) -> bool:
        if self.fast is not None:
            try:
                return self.fast.is_valid(value)
            except Exception:  # e.g. an integer beyond 64 bits: let the standard validator decide
                pass
        return not violations(self.detailed, value)

    def violations(self, value: Any) -> list[dict[str, str]]:
        """Every violation, sorted by pointer, keyword and message; [] when the value is valid."""
        if self.is_valid(value):
            return []
        return violations(self.detailed, value)


def _fast_validator(cls: type, schema: Any, validate_formats: bool) -> Any:
    try:
        import jsonschema
        import jsonschema_rs
    except ImportError:
        return None
    drafts = {jsonschema.Draft202012Validator: "Draft202012Validator",
              jsonschema.Draft201909Validator: "Draft201909Validator",
              jsonschema.Draft7Validator: "Draft7Validator", jsonschema.Draft6Validator: "Draft6Validator",
              jsonschema.Draft4Validator: "Draft4Validator"}
    name = drafts.get(cls)
    if name is None or not hasattr(jsonschema_rs, name):
        return None
    try:  # offline: a reference outside the schema is never fetched
        return getattr(jsonschema_rs, name)(schema, validate_formats=validate_formats, offline=True)
    except Exception:  # a schema it rejects (or a reference it cannot resolve): the confined slow path decides
        return None


def violations(validator: Any, value: Any) -> list[dict[str, str]]:
    """Every error of a jsonschema validator as {pointer, keyword, message, schema_path}, deterministic."""
    from auditor import ConfigError, SchemaTrouble, iter_errors

    errors = []
    try:
        found = iter_errors(validator, value)
    except SchemaTrouble as trouble:
        raise ConfigError(f"the JSON Schema cannot be used: {trouble}") from None
    for error in found:
        message = error.message
        if len(message) > _MESSAGE_CHARS:
            message = message[:_MESSAGE_CHARS - 3] + "..."
        errors.append({"pointer": json_pointer(error.absolute_path), "keyword": str(error.validator),
                       "message": message, "schema_path": json_pointer(error.absolute_schema_path),
                       "_key": (_path_key(error.absolute_path), str(error.validator), message)})
    errors.sort(key=lambda e: e["_key"])
    for error in errors:
        del error["_key"]
    return errors


def json_pointer(path: Any) -> str:
    """RFC 6901 pointer of a path of keys and indexes ("" is the document itself)."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in path)


def _path_key(path: Any) -> tuple:
    # indexes sort numerically (/items/2 before /items/10), keys alphabetically
    return tuple((0, part, "") if isinstance(part, int) else (1, 0, str(part)) for part in path)


def parse_json(text: str) -> tuple[Any, dict[str, Any] | None]:
    """(value, None) or (None, {message, position, line_number, column}) with the standard parser's wording."""
    import json

    import orjson

    try:
        return orjson.loads(text), None
    except orjson.JSONDecodeError:
        pass  # orjson also rejects valid JSON such as integers beyond 64 bits: ask the standard parser

    def reject(constant: str) -> Any:
        raise ValueError(f"{constant} is not valid JSON")

    try:
        return json.loads(text, parse_constant=reject), None
    except json.JSONDecodeError as exc:
        return None, {"message": f"{exc.msg} at line {exc.lineno} column {exc.colno} (char {exc.pos})",
                      "position": exc.pos, "line_number": exc.lineno, "column": exc.colno}
    except (ValueError, RecursionError) as exc:
        return None, {"message": str(exc), "position": None, "line_number": None, "column": None}


def _text(content: Any) -> str | None:
    if isinstance(content, str):
        return content
    if isinstance(content, list):  # multimodal parts: the text parts
        return "\n".join(p["text"] for p in content if isinstance(p, dict) and isinstance(p.get("text"), str))
    return None
