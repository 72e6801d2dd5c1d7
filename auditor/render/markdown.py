"""The Markdown report: a pull-request comment that states the verdict first and stays under 60,000 characters.

Order: a hidden marker (a bot edits its earlier comment in place), the verdict line with clean /
required counts, blocking reasons, the decision checklist (folded), the checks table, then the top
findings of each check (folded: line, linked to the file at the commit when a link base is known,
code, message, a short excerpt of the row). However many findings there are, it summarizes and points
to the full report (JSON, HTML, SARIF).

Dataset text is untrusted: excerpts are code spans (no HTML, links or emphasis inside them) and every
other cell escapes Markdown punctuation, so a row cannot break the tables or inject markup.
"""

from __future__ import annotations

import re
from typing import Any

from .common import (
    VERDICT_TEXT,
    finding_text,
    format_value,
    normalized,
    one_line,
    scalar_metrics,
    top_findings,
    verdict_counts,
    where,
)
from .visible import visible_everywhere

LIMIT = 60_000  # GitHub refuses comments over 65,536 characters; keep a margin
# the first line, invisible once rendered: a bot finds its earlier comment by it and edits it in place
MARKER = "<!-- dataset-auditor report -->"
FINDINGS_PER_CHECK = (10, 5, 3, 1, 0)  # shrink until the report fits
ICON = {"ready": "✅", "ready_with_warnings": "⚠️", "not_ready": "❌"}
ANSWER = {"yes": "✅ yes", "no": "❌ no", "not measured": "❔ not measured", "unanswered": "❔ unanswered"}
STATUS = {"pass": "✅ pass", "warn": "⚠️ warn", "fail": "❌ fail", "error": "💥 error", "skipped": "⏭️ skipped"}
SEVERITY = {"error": "error", "warning": "warning", "info": "info"}
_PUNCT = re.compile(r"([\\`*_\[\]<>#|~$&])")  # inline Markdown/HTML syntax; ( ) ! are inert once [ ] are
_BLOCK_START = re.compile(r"^(\d*)([-+=.)])")  # would start a nested list or heading at the start of a list item


def render_markdown(report: dict[str, Any], *, link_base: str | None = None) -> str:
    """The whole report as GitHub-flavoured Markdown, at most LIMIT characters. With `link_base` (the
    repository's files at the audited commit, e.g. https://github.com/org/data/blob/SHA) each finding's
    place links to its line."""
    report = visible_everywhere(normalized(report))  # dataset text cannot drive the terminal
    for n in FINDINGS_PER_CHECK:
        text = _render(report, n, cell=300, link_base=link_base)
        if len(text) <= LIMIT:
            return text
    text = _render(report, 0, cell=120, link_base=link_base)
    if len(text) > LIMIT:  # only with absurdly many checks: cut at a line boundary and say so
        note = "\n\n_Report cut to fit a comment: see the JSON report for everything._\n"
        text = text[: LIMIT - len(note)].rsplit("\n", 1)[0] + note
    return text


def escape(text: Any, limit: int = 300) -> str:
    """Untrusted text as inert Markdown in a table cell or list item: one line, syntax backslash-escaped."""
    text = _PUNCT.sub(r"\\\1", one_line(text, limit))
    # A word joiner after "@" keeps dataset text from mentioning (notifying) people in a PR comment.
    text = text.replace("@", "@\u2060")
    # and bare URLs from becoming links a reviewer may click (GitHub autolinks http://, https://, www.)
    text = _AUTOLINK.sub(lambda m: m.group(0)[:-1] + "\u2060" + m.group(0)[-1], text)
    return _BLOCK_START.sub(r"\1\\\2", text)


_AUTOLINK = re.compile(r"(?i):/|www\.")


def code(text: Any, limit: int = 120) -> str:
    """Untrusted text as a code span that keeps table columns: pipes escaped, fence longer than any backtick run."""
    text = one_line(text, limit).replace("|", "\\|")
    if not text:
        return ""
    longest = max((len(run) for run in re.findall(r"`+", text)), default=0)
    fence = "`" * (longest + 1)
    pad = " " if text.startswith("`") or text.endswith("`") or longest else ""
    return f"{fence}{pad}{text}{pad}{fence}"


def _location(f: dict[str, Any], link_base: str | None) -> str:
    """A finding's place as a code span, linked to its line at `link_base` when the file is in the repository."""
    text = code(where(f), 120)
    if not link_base or not f.get("line") or f.get("unit") == "record":
        return text
    from .sarif import artifact_location

    location = artifact_location(f["path"])
    if "uriBaseId" not in location or location["uri"].startswith("../"):
        return text
    return f"[{text}]({link_base.rstrip('/')}/{location['uri']}#L{f['line']})"


def _details(summary: str, body: list[str]) -> list[str]:
    """A folded section: GitHub renders Markdown inside it after a blank line."""
    return [f"<details><summary>{summary}</summary>", "", *body, "</details>", ""]


def _render(report: dict[str, Any], per_check: int, cell: int, link_base: str | None = None) -> str:
    v = report["verdict"]
    out = [MARKER, f"## {ICON[v['status']]} {VERDICT_TEXT[v['status']]}: {verdict_counts(report)}", ""]
    if v["reasons"]:
        out.append("**Blocking reasons**")
        out.append("")
        out += [f"- {escape(reason, cell)}" for reason in v["reasons"]]
        out.append("")
    inputs = ", ".join(f"{code(i['path'], 200)} ({i['split']}, {i['lines']:,} lines, {i['format'] or 'unknown'})"
                       for i in report["inputs"])
    out += [f"Inputs: {inputs}  ", f"{report['tool']['name']} {report['tool']['version']}, "
            f"{v['excluded_examples']:,} of {v['valid_examples']:,} valid training examples excluded.", ""]

    answers: dict[str, int] = {}
    for item in v["checklist"]:
        answers[item["answer"]] = answers.get(item["answer"], 0) + 1
    tally = ", ".join(f"{n:,} {escape(answer)}" for answer, n in answers.items())
    checklist = ["| Answer | Question | Evidence |", "| --- | --- | --- |"]
    for item in v["checklist"]:
        checklist.append(f"| {ANSWER.get(item['answer'], escape(item['answer']))} | {escape(item['question'], cell)} "
                         f"| {escape(item['evidence'], cell)} |")
    out += ["### Decision checklist", "", *_details(tally, [*checklist, ""])]

    out += ["### Checks", "", "| Check | Status | Blocking | Findings | Excluded rows | Summary |",
            "| --- | --- | --- | ---: | ---: | --- |"]
    for r in report["results"]:
        out.append(f"| {code(r['check'], 60)} | {STATUS.get(r['status'], escape(r['status']))} "
                   f"| {'yes' if r['blocking'] else 'no'} | {r['findings_total']:,} | {r['excluded_rows']:,} "
                   f"| {escape(r['error'] or r['summary'], cell)} |")
    out.append("")

    with_findings = [r for r in report["results"] if r["findings_total"]]
    if with_findings:
        out += ["### Top findings", ""]
    for r in with_findings:
        title = f" — {escape(r['title'], 200)}" if r.get("title") else ""
        out += [f"#### {code(r['check'], 60)}{title}", ""]
        metrics = [(k, val) for k, val in scalar_metrics(r["metrics"])][:8]
        if metrics:
            out += ["Metrics: " + ", ".join(f"{escape(k, 60)} {escape(format_value(val), 60)}" for k, val in metrics),
                    ""]
        findings = top_findings(r, per_check)
        if findings:
            rows = ["| Line | Code | Severity | Message | Excerpt |", "| --- | --- | --- | --- | --- |"]
            for f in findings:
                related = ", ".join(str(x["line"]) for x in f["related"][:5] if x.get("line"))
                message = escape(f["message"], cell) + (f" (related lines {related})" if related else "")
                excerpt = finding_text(f)
                rows.append(f"| {_location(f, link_base)} | {code(f['code'], 20)} | {SEVERITY.get(f['severity'], '')} "
                            f"| {message} | {code(excerpt, 80) if excerpt else ''} |")
            noun = "finding" if r["findings_total"] == 1 else "findings"
            out += _details(f"{r['findings_total']:,} {noun}" + (f", the first {len(findings):,}"
                                                                 if r["findings_total"] > len(findings) else ""),
                            [*rows, ""])
        rest = r["findings_total"] - len(findings)
        if rest:
            out += [f"… and {rest:,} more {code(r['check'], 60)} findings in the full report.", ""]

    out += ["---", "", "<sub>Full details: the JSON report is the source of truth; re-render it with "
            "`auditor report AUDIT.json --format html --output report.html` (or `sarif`, `markdown`).</sub>", ""]
    return "\n".join(out)
