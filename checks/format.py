"""Check `format`: every record is valid for its format."""

from __future__ import annotations

from auditor import Check, Severity


class Format(Check):
    """Records that break the rules of their format (chat, prompt/completion, Alpaca, ...).

    ## What it does
    Validates each record against its format. Chat (`messages`): a non-empty list; roles among
    system / user / assistant / tool / function; content a string (null only on an assistant turn
    with tool calls); `weight` 0 or 1 on assistant turns; at least one assistant turn with a
    non-empty training target; the conversation ends with an assistant turn; unknown keys are a
    warning. Prompt/completion, Alpaca, text/label, ShareGPT, preference and mapped fields: the
    required fields are present, strings (labels may be integers), and not empty. A record whose
    format differs from the rest of its file, or matches no format, is reported by the engine.

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

    def run(self, ctx):
        import polars as pl

        findings, rows = [], set()
        for data in ctx.datasets:
            for issue in data.issues:
                if issue.code.startswith("FMT"):
                    findings.append(self.finding(issue.message, source=data.path, line=issue.line,
                                                 split=data.split, severity=issue.severity, code=issue.code))
                    if issue.severity is Severity.ERROR:
                        rows.add(data.first_row + issue.line - 1)
        checked = ctx.frame.filter(pl.col("format").is_not_null()).height
        errors = sum(1 for f in findings if f.severity is Severity.ERROR)
        warnings = len(findings) - errors
        summary = (f"{len(rows)} of {checked:,} records break their format" if rows
                   else f"all {checked:,} records valid" + (f" ({warnings} warnings)" if warnings else ""))
        return self.result(findings, summary=summary, excluded=sorted(rows),
                           metrics={"records": checked, "invalid_records": len(rows),
                                    "errors": errors, "warnings": warnings})
