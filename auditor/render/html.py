"""The HTML report: one self-contained file (inline CSS, inline SVG charts, one hashed inline script).

Verdict banner, decision checklist, checks table, charts drawn only when their data is in the report,
then one section per check: metrics, side-by-side views of duplicate clusters and contradictions
(word-level differences highlighted) and a findings table that can be filtered by check, severity and
text. At most MAX_ROWS findings per check are written (the rest are counted and left to the JSON and
SARIF reports), and the script shows them PAGE rows at a time, so the file opens fast with 100,000
findings. Without the script (or printed) every written row shows.

Dataset text is untrusted: everything is HTML-escaped, and a Content-Security-Policy allows no network
access and only the one script whose hash it names, so even a missed escape cannot run.
"""

from __future__ import annotations

import json
import os
import re
from difflib import SequenceMatcher
from typing import Any

from ..results import counted
from . import common
from .common import (
    VERDICT_TEXT,
    finding_text,
    format_value,
    members,
    normalized,
    one_line,
    scalar_metrics,
    sorted_findings,
    verdict_counts,
    where,
)
from .html_page import CSP, CSS, PAGE, SCRIPT, esc
from .svg import column_chart, hbar_chart, share_bars

MAX_ROWS = 200  # findings written per check
MAX_GROUPS = 8  # side-by-side views per check
MAX_MEMBERS = 4  # columns of one side-by-side view
TEXT_CAP = 3000  # characters of a row shown in a side-by-side view
CELL_CAP = 240  # characters of an excerpt in a findings table
CHARTED = {"cluster_sizes", "prompt_languages", "response_languages", "per_label", "eval_per_label",
           "train_per_label", "per_file"}


def slug(text: str) -> str:
    return "check-" + (re.sub(r"[^a-z0-9_-]+", "-", text.lower()).strip("-") or "x")


def render_html(report: dict[str, Any]) -> str:
    """The whole report as one HTML document."""
    report = normalized(report)
    v = report["verdict"]
    status = v["status"]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{CSP}">',  # a constant without " or <
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="referrer" content="no-referrer">',
        f"<title>Dataset audit: {esc(VERDICT_TEXT[status])}</title>",
        f"<style>{CSS}</style></head><body>",
        "<main>",
        _banner(report),
        '<nav class="toc"><a href="#checklist">Checklist</a><a href="#checks">Checks</a>'
        '<a href="#charts">Charts</a><a href="#findings">Findings</a></nav>',
        _cards(report),
        _checklist(report),
        _checks_table(report),
        _charts(report),
        _findings(report),
        f"<footer>{esc(report['tool']['name'])} {esc(report['tool']['version'])} · report schema "
        f"{esc(report['schema_version'])} · seed {esc(report['settings'].get('seed'))}. The JSON report is the "
        "source of truth: <code>auditor report AUDIT.json --format html --output report.html</code>.</footer>",
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body></html>",
        "",
    ]
    return "\n".join(parts)


def _banner(report: dict[str, Any]) -> str:
    v = report["verdict"]
    reasons = "".join(f"<li>{esc(r)}</li>" for r in v["reasons"])
    inputs = ", ".join(f"<code>{esc(i['path'])}</code> ({esc(i['split'])}, {i['lines']:,} lines, "
                       f"{esc(i['format'] or 'unknown format')})" for i in report["inputs"])
    return (f'<header class="banner v-{esc(v["status"])}" id="verdict"><h1>{esc(VERDICT_TEXT[v["status"]])}</h1>'
            f'<div class="counts">{esc(verdict_counts(report))}</div>'
            + (f"<ul>{reasons}</ul>" if reasons else "")
            + f'<div class="meta">Inputs: {inputs}</div></header>')


def _cards(report: dict[str, Any]) -> str:
    v = report["verdict"]
    total = sum(r["findings_total"] for r in report["results"])
    cards = [(f"{v['clean_examples']:,}", f"clean training examples ({v['min_examples']:,} required)"),
             (f"{v['excluded_examples']:,}", f"excluded of {v['valid_examples']:,} valid training examples"),
             (f"{v['clean_eval_examples']:,}", f"clean eval examples ({v['min_eval_examples']:,} required)"),
             (f"{total:,}", f"{'finding' if total == 1 else 'findings'} from {counted(len(report['results']), 'check')}")]
    return '<div class="cards">' + "".join(f"<div class=\"card\"><b>{esc(a)}</b><span>{esc(b)}</span></div>"
                                           for a, b in cards) + "</div>"


def _checklist(report: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><span class="pill a-{esc(i["answer"].replace(" ", "-"))}">{esc(i["answer"])}</span></td>'
        f'<td>{esc(i["question"])}</td><td class="wrap">{esc(i["evidence"])}</td></tr>'
        for i in report["verdict"]["checklist"])
    return ('<h2 id="checklist">Decision checklist</h2><div class="scroll"><table><thead><tr><th>Answer</th>'
            f"<th>Question</th><th>Evidence</th></tr></thead><tbody>{rows}</tbody></table></div>")


def _checks_table(report: dict[str, Any]) -> str:
    rows = "".join(
        f'<tr><td><a href="#{slug(r["check"])}"><code>{esc(r["check"])}</code></a></td>'
        f'<td><span class="pill s-{esc(r["status"])}">{esc(r["status"])}</span></td>'
        f'<td>{"yes" if r["blocking"] else "no"}</td><td class="num">{r["findings_total"]:,}</td>'
        f'<td class="num">{r["excluded_rows"]:,}</td><td class="wrap">{esc(r["error"] or r["summary"])}</td></tr>'
        for r in report["results"])
    return ('<h2 id="checks">Checks</h2><div class="scroll"><table><thead><tr><th>Check</th><th>Status</th><th>Blocking</th>'
            '<th class="num">Findings</th><th class="num">Excluded rows</th><th>Summary</th></tr></thead>'
            f"<tbody>{rows}</tbody></table></div>")


def _charts(report: dict[str, Any]) -> str:
    figures = []
    for column in ("prompt", "response"):
        data = common.length_histograms(report, column)
        if data:
            figures.append((f"{column.capitalize()} length distribution",
                            column_chart(*data, x_label=f"{column} length in characters")))
    tokens = common.token_histograms(report)
    if tokens:
        labels, series, unit = tokens
        figures.append((f"Tokens per example ({unit})", column_chart(labels, series, x_label=f"{unit} per example")))
    labels_by_split = common.label_distribution(report)
    if labels_by_split:
        kinds = max(len(counts) for counts in labels_by_split.values())
        figures.append(("Label distribution", share_bars(labels_by_split, note=f"{kinds:,} labels; bars = share "
                                                                                "of each split's rows")))
    samples = common.language_samples(report)
    for key, counts in common.language_distribution(report).items():
        items = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))
        scope = key.partition(" ")[2]
        title = ("Prompt languages" if key.startswith("prompt") else "Response languages") + (f" {scope}" if scope else "")
        sample = samples.get(scope.strip("()") or "train")
        note = "texts per language" + (f"; estimated from a seeded sample of {sample[0]:,} of {sample[1]:,} rows"
                                       if sample else "")
        figures.append((title, hbar_chart(items, note=note)))
    for check, sizes in common.cluster_sizes(report).items():
        items = [(counted(int(size), "row"), n) for size, n in sizes.items()]
        figures.append((f"Cluster sizes ({check})",
                        hbar_chart(items, note=f"{sum(sizes.values()):,} clusters; bars = clusters of each size")))
    leakage = common.leakage_by_file(report)
    if leakage:
        items = [(path if len(path) <= 22 else "…" + path[-21:], leaked) for path, (leaked, _) in leakage.items()]
        note = "; ".join(f"{path}: {leaked:,} of {total:,} rows ({leaked / total:.1%})" if total else
                         f"{path}: {leaked:,} rows" for path, (leaked, total) in leakage.items())
        figures.append(("Leaked eval rows per eval file", hbar_chart(items, note=note)))
    if not figures:
        return '<h2 id="charts">Charts</h2><p class="note">No chart data in this report.</p>'
    body = "".join(f"<figure><figcaption>{esc(title)}</figcaption>{svg}</figure>" for title, svg in figures)
    return f'<h2 id="charts">Charts</h2><div class="charts">{body}</div>'


# ----- findings ---------------------------------------------------------------------------------------

def _findings(report: dict[str, Any]) -> str:
    results = report["results"]
    options = "".join(f'<option value="{esc(r["check"])}">{esc(r["check"])} ({r["findings_total"]:,})</option>'
                      for r in results)
    severities = "".join(f'<label><input type="checkbox" class="f-sev" value="{s}" checked> {s}</label>'
                         for s in ("error", "warning", "info"))
    bar = (f'<div class="filters" id="filters" hidden><label>Check <select id="f-check"><option value="">all checks'
           f"</option>{options}</select></label>{severities}"
           '<input type="search" id="f-text" placeholder="Filter by text" aria-label="Filter by text">'
           '<span class="note" id="f-count"></span></div>')
    return '<h2 id="findings">Checks in detail</h2>' + bar + "".join(_check_section(report, r) for r in results)


def _check_section(report: dict[str, Any], r: dict[str, Any]) -> str:
    info = report["checks"].get(r["check"], {})
    head = (f'<div class="check-head"><h3><code>{esc(r["check"])}</code></h3>'
            f'<span class="pill s-{esc(r["status"])}">{esc(r["status"])}</span>'
            f'<span class="title">{esc(r.get("title") or info.get("title") or "")}</span></div>'
            f'<p class="wrap">{esc(r["summary"])}</p>')
    if r.get("error"):
        head += f'<p class="error-text wrap">Error: {esc(r["error"])}</p>'
    parts = [f'<section class="check" id="{slug(r["check"])}" data-check="{esc(r["check"])}">', head,
             _metrics(r["metrics"])]
    if info.get("doc"):
        parts.append(f"<details><summary>About this check</summary><pre>{esc(info['doc'])}</pre></details>")
    parts.append(_groups(r))
    parts.append(_findings_table(r))
    parts.append("</section>")
    return "".join(parts)


def _metrics(metrics: dict[str, Any]) -> str:
    scalars = scalar_metrics(metrics)
    out = ""
    if scalars:
        out += '<dl class="metrics">' + "".join(
            f"<div><dt>{esc(k.replace('_', ' '))}</dt><dd>{esc(one_line(format_value(v), 120))}</dd></div>"
            for k, v in scalars
        ) + "</dl>"
    simple = {k for k, _ in scalars}
    nested = {k: v for k, v in metrics.items() if k not in simple and k not in CHARTED
              and not k.endswith("_histogram")}
    if nested:
        out += ("<details><summary>More metrics</summary><pre>"
                f"{esc(json.dumps(nested, indent=2, ensure_ascii=False)[:20000])}</pre></details>")
    return out


def _tokens(text: str) -> list[str]:
    return re.findall(r"\s+|\w+|[^\w\s]", text)


def word_diff(a: str, b: str) -> tuple[str, str]:
    """Both texts escaped, with the words only in `a` in <del> and the words only in `b` in <ins>."""
    ta, tb = _tokens(a), _tokens(b)
    out_a, out_b = [], []
    for op, i1, i2, j1, j2 in SequenceMatcher(None, ta, tb, autojunk=False).get_opcodes():
        sa, sb = esc("".join(ta[i1:i2])), esc("".join(tb[j1:j2]))
        if op == "equal":
            out_a.append(sa)
            out_b.append(sb)
        else:
            if sa:
                out_a.append(f"<del>{sa}</del>")
            if sb:
                out_b.append(f"<ins>{sb}</ins>")
    return "".join(out_a), "".join(out_b)


def _cap(text: Any, start: int = 0) -> tuple[str, str]:
    """At most TEXT_CAP characters of `text` from `start`, and the note (HTML) of what is left out."""
    text = "" if text is None else str(text)
    if len(text) <= TEXT_CAP:
        return text, ""
    start = min(start, max(len(text) - TEXT_CAP, 0))
    piece = text[start:start + TEXT_CAP]
    notes = []
    if start:
        notes.append(f"{start:,} characters before")
    if len(text) > start + len(piece):
        notes.append(f"{len(text) - start - len(piece):,} more characters")
    return piece, f'<span class="note"> … {", ".join(notes)}</span>'


def _window(text: Any, other: Any) -> int:
    """Where a capped view of `text` starts so that its first difference from `other` is in sight:
    the views of two long rows that differ late would otherwise show only their common start."""
    text, other = ("" if text is None else str(text)), ("" if other is None else str(other))
    if len(text) <= TEXT_CAP and len(other) <= TEXT_CAP:
        return 0
    differs = len(os.path.commonprefix([text, other]))
    return 0 if differs < TEXT_CAP // 2 else differs - TEXT_CAP // 4


def _groups(r: dict[str, Any]) -> str:
    """Side-by-side views of `data["members"]`, one per distinct group, differences against the first member."""
    seen, views = set(), []
    for f in sorted_findings(r):
        group = members(f)
        if len(group) < 2:
            continue
        key = tuple((m.get("path", f["path"]), m.get("line")) for m in group)
        if key in seen:
            continue
        seen.add(key)
        if len(views) == MAX_GROUPS:
            views.append(None)
            break
        views.append(_group_view(f, group))
    if not views:
        return ""
    more = ""
    if views[-1] is None:
        views.pop()
        more = f'<p class="note">Showing the first {MAX_GROUPS:,} groups; every group is in the findings below.</p>'
    return "".join(views) + more


def _group_view(f: dict[str, Any], group: list[dict[str, Any]]) -> str:
    data = f.get("data") or {}
    fields = [k for k in ("text", "prompt", "response", "label") if any(k in m for m in group)]
    shown = group[:MAX_MEMBERS]
    first = shown[0]
    columns = []
    for n, member in enumerate(shown):
        cells = []
        for key in fields:
            if key not in member:
                continue
            if n == 0:
                pair = shown[1].get(key) if len(shown) == 2 and key in shown[1] else None
                start = _window(member[key], pair if pair is not None else member[key])
                text, note = _cap(member[key], start)
                body = word_diff(text, _cap(pair, start)[0])[0] if pair is not None else esc(text)
            else:
                start = _window(member[key], first.get(key))  # both cut at one offset: the diff stays aligned
                text, note = _cap(member[key], start)
                body = word_diff(_cap(first.get(key), start)[0] if key in first else "", text)[1]
            cells.append(f'<div class="field"><b>{esc(key)}</b><div class="text">{body}{note}</div></div>')
        loc = f"{member.get('path', f['path'])}:{member.get('line')}"
        columns.append(f'<div class="col"><div class="mono">{esc(loc)}</div>{"".join(cells)}</div>')
    # a group may list fewer members than it has rows (copies of one text are shown once or twice)
    size = data.get("line_count") if isinstance(data.get("line_count"), int) else len(group)
    size = max(size, len(group))
    extra = f" · {size - len(shown):,} more not shown" if size > len(shown) else ""
    similarity = data.get("similarity")
    if isinstance(similarity, (int, float)):
        sim = f" · similarity {format_value(similarity)}"
    elif isinstance(similarity, list) and len(similarity) == 2 and all(isinstance(v, (int, float)) for v in similarity):
        low, high = (format_value(v) for v in similarity)  # a cluster's [min, max] pairwise similarity
        sim = f" · similarity {low}" if low == high else f" · similarity {low}–{high}"
    else:
        sim = ""
    shared = ""
    if isinstance(data.get("prompt"), str) and "prompt" not in fields:  # one prompt, the answers side by side
        text, note = _cap(data["prompt"])
        shared = f'<div class="shared field"><b>shared prompt</b><div class="text">{esc(text)}{note}</div></div>'
    return (f'<div class="group" data-sev="{esc(f["severity"])}"><div class="group-head">{esc(f["code"])} · {counted(size, "row")}{esc(sim)}'
            f'{esc(extra)} · <span class="wrap">{esc(one_line(f["message"], 200))}</span></div>'
            f'{shared}<div class="cols">{"".join(columns)}</div></div>')


def _findings_table(r: dict[str, Any]) -> str:
    total = r["findings_total"]
    if not total:
        return '<p class="note">No findings.</p>'
    rows = []
    for f in sorted_findings(r)[:MAX_ROWS]:
        related = ", ".join(esc(f"{x['path']}:{x['line']}" if x.get("line") else x["path"]) for x in f["related"][:10])
        if len(f["related"]) > 10:
            related += f" … +{len(f['related']) - 10}"
        excerpt = finding_text(f)
        detector = (f.get("data") or {}).get("detector")
        extra = f' <span class="note">[{esc(detector)}]</span>' if isinstance(detector, str) else ""
        rows.append(f'<tr data-sev="{esc(f["severity"])}"><td class="loc mono">{esc(where(f))}</td>'
                    f'<td class="mono">{esc(f["code"])}</td><td class="sev-{esc(f["severity"])}">{esc(f["severity"])}</td>'
                    f'<td class="wrap">{esc(f["message"])}{extra}</td>'
                    f'<td class="wrap mono">{esc(one_line(excerpt, CELL_CAP)) if excerpt else ""}</td>'
                    f'<td class="wrap mono">{related}</td></tr>')
    written = len(rows)
    note = ""
    if total > written:
        note = (f'<p class="note">{written:,} of {total:,} findings written here (most severe first); all '
                f"{len(r['findings']):,} kept findings are in the JSON and SARIF reports"
                + (f", {r['findings_omitted']:,} more were counted but not kept (--max-findings)"
                   if r["findings_omitted"] else "") + ".</p>")
    return (f'<p class="note shown">{written:,} rows</p>'
            f'<div class="scroll"><table class="findings" data-limit="{PAGE}"><thead><tr><th>Location</th><th>Code</th>'
            f"<th>Severity</th><th>Message</th><th>Excerpt</th><th>Related</th></tr></thead><tbody>{''.join(rows)}</tbody>"
            "</table></div>"
            f'<button type="button" class="more" hidden>Show more</button>{note}')
