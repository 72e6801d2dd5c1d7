"""Line-oriented outputs, one finding per line: `concise` (as linters print), `jsonl` (one JSON object a
finding), `github` (GitHub Actions workflow annotations) and the `--statistics` table (counts by code).

Every line is one line: dataset text is made visible (auditor.render.visible) and the GitHub format
escapes `%`, CR and LF as the runner requires, so a row can neither start a workflow command of its
own nor split an annotation. The text outputs end with the verdict and the totals, where a reader of a
terminal or a CI log looks last.
"""

from __future__ import annotations

from typing import Any

from .common import SEVERITY_ORDER, normalized, one_line, verdict_line, where
from .visible import visible_everywhere

# annotations written at most (GitHub shows 10 of each level per step and 50 per job; the rest of a
# long list only floods the log): errors first, then the file order
GITHUB_ANNOTATIONS = 500
_GITHUB_LEVEL = {"error": "error", "warning": "warning"}  # anything else is a notice


def file_order(report: dict[str, Any]) -> list[dict[str, Any]]:
    """Every finding of the report in file and line order, the most severe first on one line."""
    findings = [f for r in report["results"] for f in r["findings"]]
    return sorted(findings, key=lambda f: (f["path"], f["line"] or 0, SEVERITY_ORDER.get(f["severity"], 3),
                                           f["check"], f["code"]))


def totals_line(report: dict[str, Any]) -> str:
    """'NOT READY: 601 clean training examples (500 required), ...; 3 errors, 12 warnings, 4 info'."""
    from ..results import counted

    severities = [f["severity"] for r in report["results"] for f in r["findings"]]
    parts = [counted(severities.count("error"), "error"), counted(severities.count("warning"), "warning"),
             f"{sum(1 for s in severities if s not in ('error', 'warning')):,} info"]
    omitted = sum(r.get("findings_omitted", 0) for r in report["results"])
    if omitted:
        parts.append(f"{omitted:,} more not kept (max_findings)")
    return f"{verdict_line(report)}; {', '.join(parts)}"


def render_concise(report: dict[str, Any]) -> str:
    """`path:line: severity CODE check: message` for every finding, then the verdict and totals."""
    from .console import finding_line

    report = visible_everywhere(normalized(report))
    lines = [finding_line(f) for f in file_order(report)]
    return "\n".join([*lines, *([""] if lines else []), totals_line(report)]) + "\n"


def render_jsonl(report: dict[str, Any]) -> str:
    """One JSON object per finding, in file order, as the JSON report holds it."""
    import orjson

    report = normalized(report)
    return "".join(orjson.dumps(f).decode() + "\n" for f in file_order(report))


def render_github(report: dict[str, Any]) -> str:
    """`::error file=...,line=...,title=CODE check::message` per finding (warnings and notices alike),
    then the verdict as one annotation of its own."""
    report = visible_everywhere(normalized(report))
    findings = sorted(file_order(report), key=lambda f: SEVERITY_ORDER.get(f["severity"], 3))
    out = []
    for f in findings[:GITHUB_ANNOTATIONS]:
        place = f"file={_property(f['path'])}" + (f",line={f['line']}" if f.get("line") and f.get("unit") != "record"
                                                   else "")
        title = _property(f"{f['code']} {f['check']}")
        message = one_line(f["message"], 1000) + (f" ({where(f)})" if f.get("unit") == "record" else "")
        out.append(f"::{_GITHUB_LEVEL.get(f['severity'], 'notice')} {place},title={title}::{_data(message)}")
    if len(findings) > GITHUB_ANNOTATIONS:
        out.append(f"::notice title=dataset-auditor::{len(findings) - GITHUB_ANNOTATIONS:,} more findings "
                   "not annotated (see the report)")
    status = report.get("review", {}).get("status", report["verdict"]["status"])
    level = {"not_ready": "error", "ready_with_warnings": "warning"}.get(status, "notice")
    out.append(f"::{level} title=dataset-auditor::{_data(totals_line(report))}")
    return "\n".join(out) + "\n"


def render_statistics(report: dict[str, Any]) -> str:
    """Findings counted by code, most frequent first (ruff's --statistics), then the verdict and totals
    (which count the findings a check found beyond max_findings apart: their codes are not kept)."""
    report = visible_everywhere(normalized(report))
    counts: dict[tuple[str, str, str], int] = {}
    for r in report["results"]:
        for f in r["findings"]:
            key = (f["code"], f["check"], f["severity"])
            counts[key] = counts.get(key, 0) + 1
    rows = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    width = max((len(f"{n:,}") for _, n in rows), default=1)
    lines = [f"{n:>{width},}  {code:<8} {check:<18} {severity}" for (code, check, severity), n in rows]
    return "\n".join([*lines, *([""] if lines else []), totals_line(report)]) + "\n"


def _data(text: str) -> str:
    return text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A")


def _property(text: str) -> str:
    return _data(text).replace(":", "%3A").replace(",", "%2C")
