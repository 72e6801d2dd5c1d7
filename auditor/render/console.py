"""The terminal summary: verdict first, then the checklist, the checks table and the top findings.

On a terminal it is drawn with rich; piped or in CI it is plain text whose finding lines read
`path:line: CODE message`, the form editors and pre-commit users know.
"""

from __future__ import annotations

from typing import Any

TOP_FINDINGS = 10
VERDICT_TEXT = {"ready": "READY", "ready_with_warnings": "READY WITH WARNINGS", "not_ready": "NOT READY"}
VERDICT_STYLE = {"ready": "bold green", "ready_with_warnings": "bold yellow", "not_ready": "bold red"}
ANSWER_MARK = {"yes": "✔", "no": "✘", "not measured": "?", "unanswered": "?"}


def verdict_line(report: dict[str, Any]) -> str:
    v = report["verdict"]
    line = (f"{VERDICT_TEXT[v['status']]}: {v['clean_examples']:,} clean training examples "
            f"({v['min_examples']:,} required)")
    if report["settings"].get("min_eval_examples") is not None and v["eval_rows"]:
        line += f", {v['clean_eval_examples']:,} clean eval examples ({v['min_eval_examples']:,} required)"
    return line


def top_findings(result: dict[str, Any], limit: int = TOP_FINDINGS) -> list[dict[str, Any]]:
    """The most severe findings of a result first, in file and line order within a severity."""
    order = {"error": 0, "warning": 1, "info": 2}
    return sorted(result["findings"], key=lambda f: (order[f["severity"]], f["path"], f["line"] or 0))[:limit]


def finding_line(f: dict[str, Any]) -> str:
    where = f"{f['path']}:{f['line']}" if f["line"] else f["path"]
    return f"{where}: {f['code']} {f['message']}"


def render_text(report: dict[str, Any]) -> str:
    """Plain text, for pipes, CI logs and pre-commit output."""
    v = report["verdict"]
    out = [verdict_line(report)]
    out += [f"  - {reason}" for reason in v["reasons"]]
    out.append("")
    out.append("Checklist:")
    for item in v["checklist"]:
        out.append(f"  [{item['answer']}] {item['question']} ({item['evidence']})")
    out.append("")
    out.append("Checks:")
    width = max(len(r["check"]) for r in report["results"])
    for r in report["results"]:
        out.append(f"  {r['check']:<{width}}  {r['status']:<7}  {r['findings_total']:>6} findings  {r['summary']}")
    shown = False
    for r in report["results"]:
        findings = top_findings(r)
        if findings:
            if not shown:
                out.append("")
                out.append("Top findings:")
                shown = True
            out += [finding_line(f) for f in findings]
            if r["findings_total"] > len(findings):
                out.append(f"  ... and {r['findings_total'] - len(findings):,} more {r['check']} findings")
    return "\n".join(out) + "\n"


def print_rich(report: dict[str, Any], console: Any) -> None:
    """The same structure drawn with rich for a terminal; adapts to the console width."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    v = report["verdict"]
    body = escape(verdict_line(report))
    if v["reasons"]:
        body += "\n" + "\n".join(f"• {escape(reason)}" for reason in v["reasons"])
    console.print(Panel(body, title="dataset-auditor", border_style=VERDICT_STYLE[v["status"]]))

    checklist = Table(title="Decision checklist", show_header=False, expand=True)
    checklist.add_column(width=2)
    checklist.add_column(ratio=3)
    checklist.add_column(ratio=4, style="dim")
    for item in v["checklist"]:
        style = {"yes": "green", "no": "red"}.get(item["answer"], "yellow")
        checklist.add_row(f"[{style}]{ANSWER_MARK.get(item['answer'], '?')}[/]", escape(item["question"]),
                          escape(item["evidence"]))
    console.print(checklist)

    table = Table(title="Checks", expand=True)
    table.add_column("check", no_wrap=True)
    table.add_column("status", no_wrap=True)
    table.add_column("findings", justify="right")
    table.add_column("excluded", justify="right")
    table.add_column("summary", ratio=1)
    status_style = {"pass": "green", "warn": "yellow", "fail": "red", "error": "bold red", "skipped": "dim"}
    for r in report["results"]:
        table.add_row(r["check"], f"[{status_style[r['status']]}]{r['status']}[/]", f"{r['findings_total']:,}",
                      f"{r['excluded_rows']:,}", escape(r["summary"]))
    console.print(table)

    for r in report["results"]:
        findings = top_findings(r)
        if not findings:
            continue
        grid = Table(title=f"{r['check']}: top findings", show_header=False, expand=True)
        grid.add_column(no_wrap=True, style="cyan")
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for f in findings:
            where = f"{f['path']}:{f['line']}" if f["line"] else f["path"]
            sev = {"error": "red", "warning": "yellow"}.get(f["severity"], "dim")
            grid.add_row(escape(where), f"[{sev}]{f['code']}[/]", escape(f["message"]))
        if r["findings_total"] > len(findings):
            grid.add_row("", "", f"[dim]… and {r['findings_total'] - len(findings):,} more[/]")
        console.print(grid)
