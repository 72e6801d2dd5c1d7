"""The short HTML a notebook shows for an audit (`Audit._repr_html_`): the verdict, its reasons, one
row per check and the first findings. A fragment for an output cell, with inline styles only: no
script, no stylesheet, nothing fetched. Every text from the dataset is escaped and made visible."""

from __future__ import annotations

from typing import Any

from .common import VERDICT_TEXT, normalized, one_line, sorted_findings, verdict_counts, where
from .html_page import esc
from .visible import visible

FINDINGS_SHOWN = 20
_COLOURS = {"ready": "#1a7f37", "ready_with_warnings": "#9a6700", "not_ready": "#cf222e"}
_CELL = "padding:2px 8px;text-align:left;vertical-align:top"


def text(value: Any) -> str:
    return esc(visible(str(value)))


def render_fragment(report: dict[str, Any]) -> str:
    report = normalized(report)
    verdict = report["verdict"]
    colour = _COLOURS[verdict["status"]]
    reasons = "".join(f"<li>{text(r)}</li>" for r in verdict["reasons"])
    checks = "".join(
        f'<tr><td style="{_CELL}"><code>{text(r["check"])}</code></td><td style="{_CELL}">{text(r["status"])}</td>'
        f'<td style="{_CELL}">{r["findings_total"]:,}</td><td style="{_CELL}">{r["excluded_rows"]:,}</td>'
        f'<td style="{_CELL}">{text(one_line(r["error"] or r["summary"], 160))}</td></tr>'
        for r in report["results"])
    findings = [f for r in report["results"] for f in sorted_findings(r)]
    shown = "".join(
        f'<tr><td style="{_CELL}">{text(f["severity"])}</td><td style="{_CELL}"><code>{text(f["code"])}</code></td>'
        f'<td style="{_CELL}"><code>{text(where(f))}</code></td>'
        f'<td style="{_CELL}">{text(one_line(f["message"], 200))}</td></tr>'
        for f in findings[:FINDINGS_SHOWN])
    more = len(findings) - FINDINGS_SHOWN
    head = "".join(f'<th style="{_CELL}">{name}</th>' for name in ("Check", "Status", "Findings", "Excluded", "Summary"))
    return (f'<div class="auditor-result"><div style="border-left:6px solid {colour};padding:4px 10px">'
            f'<b style="color:{colour}">{esc(VERDICT_TEXT[verdict["status"]])}</b>: {text(verdict_counts(report))}'
            + (f"<ul>{reasons}</ul>" if reasons else "") + "</div>"
            f"<table><thead><tr>{head}</tr></thead><tbody>{checks}</tbody></table>"
            + (f"<details><summary>{len(findings):,} findings</summary><table><tbody>{shown}</tbody></table>"
               + (f"<p>and {more:,} more: <code>to_html()</code> has them all</p>" if more > 0 else "")
               + "</details>" if findings else "")
            + "</div>")
