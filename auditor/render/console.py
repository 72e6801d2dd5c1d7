"""The terminal summary, in the Markdown report's order: verdict, checklist, checks table, top findings,
and last the verdict again with the totals (where a terminal's reader looks when the output scrolls).

On a terminal it is drawn with rich and fits the terminal's width (narrow terminals drop the
secondary columns); piped or in CI it is plain text whose finding lines read `path:line: severity CODE check: message`,
the form editors and pre-commit users know.
"""

from __future__ import annotations

from typing import Any

from .common import VERDICT_TEXT, normalized, one_line, top_findings, verdict_line, where
from .lines import totals_line
from .visible import visible_everywhere

TOP_FINDINGS = 10
VERDICT_STYLE = {"ready": "bold green", "ready_with_warnings": "bold yellow", "not_ready": "bold red"}
ANSWER_MARK = {"yes": "✔", "no": "✘", "not measured": "?", "unanswered": "?"}
STATUS_STYLE = {"pass": "green", "warn": "yellow", "fail": "red", "error": "bold red", "skipped": "dim"}
NARROW = 100  # below this width the checklist evidence and the excluded/summary columns are folded away

__all__ = ["TOP_FINDINGS", "VERDICT_TEXT", "finding_line", "print_rich", "render_text", "top_findings",
           "verdict_line"]


def finding_line(f: dict[str, Any]) -> str:
    """The one line a finding prints as, in the terminal and in the hook: `path:line: severity CODE
    check: message`, as compilers and linters print theirs."""
    return f"{where(f)}: {f['severity']} {f['code']} {f['check']}: {one_line(f['message'], 500)}"


def render_text(report: dict[str, Any]) -> str:
    """Plain text, for pipes, CI logs and pre-commit output."""
    report = visible_everywhere(normalized(report))  # dataset text cannot drive the terminal
    v = report["verdict"]
    out = [verdict_line(report)]
    out += [f"  - {one_line(reason, 500)}" for reason in v["reasons"]]
    out.append("")
    out.append("Checklist:")
    for item in v["checklist"]:
        out.append(f"  [{item['answer']}] {item['question']} ({item['evidence']})")
    out.append("")
    out.append("Checks:")
    width = max((len(r["check"]) for r in report["results"]), default=0)
    for r in report["results"]:
        noun = "finding " if r["findings_total"] == 1 else "findings"
        out.append(f"  {r['check']:<{width}}  {r['status']:<7}  {r['findings_total']:>6,} {noun}  "
                   f"{one_line(r['error'] or r['summary'], 300)}")
    shown = False
    for r in report["results"]:
        findings = top_findings(r, TOP_FINDINGS)
        if findings:
            if not shown:
                out.append("")
                out.append("Top findings:")
                shown = True
            out += [finding_line(f) for f in findings]
            if r["findings_total"] > len(findings):
                out.append(f"  ... and {r['findings_total'] - len(findings):,} more {r['check']} findings")
    out += ["", totals_line(report)]
    return "\n".join(out) + "\n"


def print_rich(report: dict[str, Any], console: Any) -> None:
    """The same structure drawn with rich for a terminal; adapts to the console width."""
    from rich.markup import escape
    from rich.panel import Panel
    from rich.table import Table

    report = visible_everywhere(normalized(report))  # dataset text cannot drive the terminal
    narrow = console.width < NARROW
    v = report["verdict"]
    body = f"[{VERDICT_STYLE[v['status']]}]{escape(VERDICT_TEXT[v['status']])}[/]: " \
           f"{escape(verdict_line(report).split(': ', 1)[1])}"
    if v["reasons"]:
        body += "\n" + "\n".join(f"• {escape(one_line(reason, 500))}" for reason in v["reasons"])
    console.print(Panel(body, title="dataset-auditor", border_style=VERDICT_STYLE[v["status"]]))

    checklist = Table(title="Decision checklist", show_header=False, expand=True)
    checklist.add_column(width=2, no_wrap=True)
    checklist.add_column(ratio=3)
    if not narrow:
        checklist.add_column(ratio=4, style="dim")
    for item in v["checklist"]:
        style = {"yes": "green", "no": "red"}.get(item["answer"], "yellow")
        cells = [f"[{style}]{ANSWER_MARK.get(item['answer'], '?')}[/]", escape(item["question"])]
        if not narrow:
            cells.append(escape(item["evidence"]))
        checklist.add_row(*cells)
    console.print(checklist)

    table = Table(title="Checks", expand=True)
    table.add_column("check", no_wrap=not narrow, overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("findings", justify="right", no_wrap=True)
    if not narrow:
        table.add_column("excluded", justify="right", no_wrap=True)
    table.add_column("summary", ratio=1, overflow="fold")
    for r in report["results"]:
        cells = [escape(r["check"]), f"[{STATUS_STYLE.get(r['status'], '')}]{escape(r['status'])}[/]",
                 f"{r['findings_total']:,}"]
        if not narrow:
            cells.append(f"{r['excluded_rows']:,}")
        cells.append(escape(one_line(r["error"] or r["summary"], 300)))
        table.add_row(*cells)
    console.print(table)

    limit = 5 if narrow else TOP_FINDINGS
    for r in report["results"]:
        findings = top_findings(r, limit)
        if not findings:
            continue
        grid = Table(title=f"{escape(r['check'])}: top findings", show_header=False, expand=True)
        grid.add_column(no_wrap=not narrow, overflow="fold", style="cyan")
        grid.add_column(no_wrap=True)
        grid.add_column(ratio=1, overflow="fold")
        for f in findings:
            sev = {"error": "red", "warning": "yellow"}.get(f["severity"], "dim")
            grid.add_row(escape(where(f)), f"[{sev}]{escape(f['code'])}[/]", escape(one_line(f["message"], 300)))
        if r["findings_total"] > len(findings):
            grid.add_row("", "", f"[dim]… and {r['findings_total'] - len(findings):,} more[/]")
        console.print(grid)
    console.print(f"[{VERDICT_STYLE[v['status']]}]{escape(totals_line(report))}[/]")
