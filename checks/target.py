"""Check `target`: the data rules of the hosted fine-tuning services chosen with --target, in one pass."""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from typing import Any

from auditor import Check, counted, merge_repeated, option
from auditor import tokens as token_counting

from ._targets import PROFILES, Profile, rules_table

EXAMPLES = "TGT001"  # too few or too many training examples
TOKENS = "TGT002"  # an example over the tokens per example
FILE_SIZE = "TGT003"
EVAL_SIZE = "TGT004"
ROLE = "TGT005"
SYSTEM_POSITION = "TGT006"
WEIGHT = "TGT007"
CALL_ID = "TGT008"
ARGUMENTS = "TGT009"
UNANSWERED = "TGT010"
LAST_TURN = "TGT011"
SHAPE = "TGT012"  # records not in the target's format


class Target(Check):
    """Every rule of the chosen fine-tuning services that the data breaks, on every line, in one pass.

    ## What it does
    With `targets` (`--target openai`, repeatable: openai, vertex, fireworks, together, mistral),
    applies each service's data profile (below: every rule, its value, where it is documented and
    when it was read) to the whole upload: the number of training examples and eval examples, the
    size of each file, tokens per example (with `tokenizer`, or OpenAI's o200k_base when the
    `openai-tokens` extra is installed, counted as OpenAI counts chat examples; else estimated, and
    said so),
    the record format, allowed roles, the system message's position, `weight` values, and the
    shape of tool calls (ids, string arguments, every call answered, the assistant last). Each
    broken rule is a finding on its line (`TGT002`, `TGT005`-`TGT012`) or on its file (`TGT001`,
    `TGT003`, `TGT004`), naming the target; a row that breaks a rule leaves the clean set. Only
    the chosen targets are checked, so only they can block the verdict. The readiness gate's own
    "500+ clean examples" stays; the metrics give each target's minimum beside it.

    ## Why is this bad?
    Hosted fine-tuning validates after upload, one error at a time, or not at all: a file is
    rejected after minutes in a queue, or a rule it breaks is silently applied (rows dropped).

    ## Example
    With `--target mistral`, an assistant turn whose tool call has id `call_1` is `TGT008` (Mistral
    takes ids of 9 letters and digits), and a conversation ending on a tool reply is `TGT011`.

    ## Rules
    RULES
    """

    id = "target"
    code = EXAMPLES

    @dataclass(frozen=True)
    class Options:
        targets: list = option([], "Fine-tuning services to check the data for: " + ", ".join(PROFILES) + ".")
        tokenizer: str = option("", "A tokenizer.json, a local model folder or an OpenAI encoding (o200k_base, "
                                    "cl100k_base) for the token rules (--tokenizer); empty: o200k_base with the "
                                    "openai-tokens extra, else estimated.")

        def __post_init__(self):
            unknown = [t for t in self.targets if t not in PROFILES]
            if unknown:
                raise ValueError(f"unknown target {unknown[0]!r} (targets: {', '.join(PROFILES)})")

    def files_read(self):
        return token_counting.tokenizer_files(self.options.tokenizer, hosted=True) if self.options.targets else []

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset({"token-counts"})

    def run(self, ctx):
        profiles = [PROFILES[name] for name in dict.fromkeys(self.options.targets)]
        if not profiles:
            return self.result(summary="no target chosen (--target " + "|".join(PROFILES) + ")")
        counts, kind = None, "tokens"
        if any(p.max_tokens for p in profiles):
            tokenizer = token_counting.hosted_tokenizer(self.options.tokenizer)
            counts = token_counting.token_counts(ctx, tokenizer)
            kind = f"tokens ({tokenizer.name})" if tokenizer.exact else "estimated tokens"
        findings, excluded = [], set()
        for profile in profiles:
            findings += self._files(ctx, profile)
        train = set(ctx.sources("train"))
        for row, source, line, record in ctx.records():
            split = "train" if source in train else "eval"
            for profile in profiles:
                broken = list(_record_rules(profile, record))
                if counts is not None and profile.max_tokens and counts[row, 1] > profile.max_tokens:
                    broken.append((TOKENS, f"{counts[row, 1]:,} {kind}, over {profile.max_tokens:,} per example"))
                for code, message in broken:
                    findings.append(self.finding(f"{profile.name}: {message}", source=source, line=line, split=split,
                                                 code=code, target=profile.name))
                if broken:
                    excluded.add(row)
        findings = merge_repeated(findings)
        metrics = {"targets": [p.name for p in profiles], "rules_checked": {p.name: p.checked for p in profiles},
                   "min_examples": {p.name: p.min_examples for p in profiles},
                   "valid_train_examples": ctx.rows("train").height, "token_counts": kind}
        broken_targets = sorted({f.data["target"] for f in findings})
        summary = (f"{counted(len(findings), 'rule')} broken for {', '.join(broken_targets)}" if findings
                   else f"the data meets every rule of {', '.join(p.name for p in profiles)}")
        return self.result(findings, summary=summary, metrics=metrics, excluded=excluded)

    def _files(self, ctx, profile: Profile):
        """The rules on whole files and splits: example counts, eval size, file size."""
        out = []
        train = ctx.rows("train").height
        first_train = ctx.sources("train")[0]
        if profile.min_examples and train < profile.min_examples:
            out.append(self.finding(f"{profile.name}: {counted(train, 'training example')}, at least "
                                    f"{profile.min_examples:,} required", source=first_train, line=None,
                                    split="train", code=EXAMPLES, target=profile.name))
        if profile.max_examples and train > profile.max_examples:
            out.append(self.finding(f"{profile.name}: {counted(train, 'training example')}, at most "
                                    f"{profile.max_examples:,} accepted", source=first_train, line=None,
                                    split="train", code=EXAMPLES, target=profile.name))
        evals = ctx.rows("eval").height
        if profile.max_eval_examples and evals > profile.max_eval_examples:
            out.append(self.finding(f"{profile.name}: {counted(evals, 'eval example')}, at most "
                                    f"{profile.max_eval_examples:,} accepted", source=ctx.sources("eval")[0],
                                    line=None, split="eval", code=EVAL_SIZE, target=profile.name))
        for data in ctx.files:
            size = os.path.getsize(data.path) if os.path.isfile(data.path) else 0
            if profile.max_file_bytes and size > profile.max_file_bytes:
                out.append(self.finding(f"{profile.name}: the file is {size:,} bytes, at most "
                                        f"{profile.max_file_bytes:,} accepted", source=data.path, line=None,
                                        split=data.split, code=FILE_SIZE, target=profile.name))
        return out


Target.__doc__ = Target.__doc__.replace("RULES", rules_table().replace("\n", "\n    "))


def _record_rules(profile: Profile, record: dict[str, Any]):
    """(code, message) for each rule of `profile` that one record breaks."""
    turns = record.get(profile.record_key)
    if not isinstance(turns, list):
        have = next((k for k in ("messages", "contents", "conversations", "prompt", "instruction", "text")
                     if k in record), None)
        yield SHAPE, (f"records hold `{profile.record_key}`" + (f"; this one has `{have}`" if have else ""))
        return
    turns = [t for t in turns if isinstance(t, dict)]
    for i, turn in enumerate(turns):
        role = turn.get("role")
        where = f"{profile.record_key}[{i}]"
        if profile.roles and role not in profile.roles:
            yield ROLE, f"{where}: role {role!r} is not accepted ({', '.join(profile.roles)})"
        if profile.system_first and role == "system" and i > 0:
            yield SYSTEM_POSITION, f"{where}: a system message after the first turn"
        if profile.weights and "weight" in turn and turn["weight"] not in profile.weights:
            yield WEIGHT, f"{where}: weight {turn['weight']!r} is not one of {', '.join(map(str, profile.weights))}"
        for call in turn.get("tool_calls") or () if isinstance(turn.get("tool_calls"), list) else ():
            if not isinstance(call, dict):
                continue
            if profile.tool_call_id and not re.fullmatch(profile.tool_call_id, str(call.get("id", ""))):
                yield CALL_ID, f"{where}: tool call id {call.get('id')!r} does not match {profile.tool_call_id}"
            arguments = (call.get("function") or {}).get("arguments") if isinstance(call.get("function"), dict) else None
            if profile.arguments_string and not isinstance(arguments, str):
                yield ARGUMENTS, f"{where}: tool call arguments are {type(arguments).__name__}, not a JSON string"
    if profile.calls_answered:
        calls = sum(len(t["tool_calls"]) for t in turns if isinstance(t.get("tool_calls"), list))
        replies = sum(1 for t in turns if t.get("role") == "tool")
        if calls != replies:
            yield UNANSWERED, f"{counted(calls, 'tool call')} and {counted(replies, 'tool reply', 'tool replies')}"
    if profile.last_assistant and turns and turns[-1].get("role") != "assistant":
        yield LAST_TURN, f"the last turn is {turns[-1].get('role')!r}, not the assistant's"
