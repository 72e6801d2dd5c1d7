"""Check `format`: every record is valid for its format."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import Check, Severity, counted, merge_repeated, option

LONG_TARGET = "FMT003"
REPETITIVE_TARGET = "FMT004"
# Targets shorter than this are not judged for repetition: a short reply may well repeat a word.
_REPETITION_MIN_CHARS = 1_000


class Format(Check):
    """Records that break the rules of their format (chat, prompt/completion, Alpaca, ...).

    ## What it does
    Validates each record against its format. Chat (`messages`): a non-empty list; roles among
    system / user / assistant / tool / function; content a string (null only on an assistant turn
    with tool calls); `weight` 0 or 1 on assistant turns; at least one assistant turn with a
    non-empty training target; the conversation ends with an assistant turn; unknown keys are a
    warning; a conversation without a user turn is an error. Prompt/completion, Alpaca, text/label,
    ShareGPT, preference and mapped fields: the required fields are present, strings (labels may be
    integers), and not empty. A record whose format differs from the rest of its file, or matches no
    format, is reported by the engine; so are invalid records when this check does not run (they
    leave the clean set either way, and never silently).

    Targets that are valid but absurd are warnings: `FMT003`, a target longer than
    `max_target_chars` (20,000 characters; the longest reply in the real sets we audit is about
    8,000); `FMT004`, a target of 1,000 characters or more that zlib compresses below
    `min_compression` (0.1) of its size: the same text over and over, or a run of one character
    (prose compresses to about 0.35, JSON and code to 0.15 or more).

    The same problem on many lines of a file is one finding on its first line, the other lines
    related and listed in `data.lines` (the first 1,000; `data.line_count` says how many); every
    affected row still leaves the clean set.

    ## Why is this bad?
    Fine-tuning services reject a file with one malformed record, and a trainer that accepts it
    learns from an empty or truncated target. Invalid rows are excluded from the clean set.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "Reset my password"}]}
    {"messages": [{"role": "bot", "content": "Hi"}, {"role": "assistant", "content": "Hello"}]}
    ```
    The first ends with a user turn, the second uses the unknown role `bot`.
    """

    id = "format"
    code = "FMT001"
    provides = frozenset({"format-consistency", "record-validity"})

    @dataclass(frozen=True)
    class Options:
        max_target_chars: int = option(20_000, "Characters beyond which a target is absurdly long (FMT003).")
        min_compression: float = option(
            0.1, "Compressed size / size below which a target of 1,000+ characters is repetitive (FMT004).")

        def __post_init__(self):
            if self.max_target_chars < 1:
                raise ValueError("max_target_chars must be >= 1")
            if not 0.0 <= self.min_compression < 1.0:
                raise ValueError("min_compression must be in [0, 1)")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset()

    def run(self, ctx):
        import polars as pl

        findings, rows = [], set()
        for data in ctx.files:
            issues = [(i.line, i.code, i.severity, i.message) for i in data.issues if i.code.startswith("FMT")]
            for line, code, severity, message in issues + self._targets(ctx, data):
                findings.append(self.finding(message, source=data.path, line=line, split=data.split,
                                             severity=severity, code=code))
                if severity is Severity.ERROR:
                    rows.add(data.first_row + line - 1)
        affected = len(findings)
        findings = merge_repeated(findings)  # one finding per distinct problem of a file
        checked = ctx.frame.filter(pl.col("format").is_not_null()).height
        errors = sum(1 for f in findings if f.severity is Severity.ERROR)
        warnings = len(findings) - errors
        summary = (f"{len(rows):,} of {checked:,} records break their format" if rows
                   else f"all {checked:,} records valid" + (f" ({counted(warnings, 'warning')})" if warnings else ""))
        return self.result(findings, summary=summary, excluded=sorted(rows),
                           metrics={"records": checked, "invalid_records": len(rows),
                                    "errors": errors, "warnings": warnings, "affected_lines": affected})

    def _targets(self, ctx, data) -> list[tuple]:
        """(line, code, severity, message) of the valid rows whose target is absurdly long or repetitive."""
        import zlib

        import polars as pl

        o = self.options
        long = (ctx.frame.slice(data.first_row, data.lines).filter(pl.col("valid") & pl.col("response").is_not_null()
                                  & (pl.col("response").str.len_chars() >= min(o.max_target_chars, _REPETITION_MIN_CHARS)))
                .select("line", "response"))
        out = []
        for line, text in long.iter_rows():
            size = len(text)
            if size > o.max_target_chars:
                out.append((line, LONG_TARGET, Severity.WARNING,
                            f"target is {size:,} characters long (more than max_target_chars, {o.max_target_chars:,})"))
            if size >= _REPETITION_MIN_CHARS:
                raw = text.encode("utf-8", "surrogatepass")
                ratio = len(zlib.compress(raw, 1)) / len(raw)  # the fastest level: ~65 MB/s, ratios as level 6
                if ratio < o.min_compression:
                    out.append((line, REPETITIVE_TARGET, Severity.WARNING,
                                f"target of {size:,} characters repeats itself: it compresses to {ratio:.1%} of its "
                                f"size (min_compression {o.min_compression:.0%})"))
        return out
