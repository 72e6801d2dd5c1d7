"""Helpers shared by the renderers: verdict wording, finding order, excerpts, and chart data from a report.

Every function reads the report dict (the JSON report) only, so a report re-rendered from its JSON file
gives the same output as one rendered in the audit run.
"""

from __future__ import annotations

import json
from typing import Any

VERDICT_TEXT = {"ready": "READY", "ready_with_warnings": "READY WITH WARNINGS", "not_ready": "NOT READY"}
SEVERITY_ORDER = {"error": 0, "warning": 1, "info": 2}
# Documentation of the engine's own line codes (the `input` pseudo-check has no entry in report["checks"]).
ENGINE_RULES = {
    "AUD001": "A line that is not valid JSON, or not a JSON object, cannot be used as a training record.",
    "AUD002": "A blank line in a JSONL file; most fine-tuning services reject the file.",
    "AUD003": "The file starts with a byte order mark, which some JSONL readers reject.",
    "AUD004": "A JSON object that matches no known record format.",
    "AUD005": "A record whose format differs from the rest of its file.",
}
TEXT_KEYS = ("excerpt", "text", "prompt", "response")


def normalized(report: dict[str, Any]) -> dict[str, Any]:
    """The report exactly as it reads back from its JSON file (string keys, lists), so that rendering
    in the audit run and re-rendering from the saved JSON give byte-identical output.

    A finding on an input whose unit is `record` (not a JSONL file) gets `unit: "record"` in this copy,
    so that `where` says `row N` rather than a line.
    """
    report = json.loads(json.dumps(report, ensure_ascii=False))
    records = {i["path"] for i in report.get("inputs", []) if i.get("unit") == "record"}
    if records:
        for result in report.get("results", []):
            for f in result.get("findings", []):
                if f.get("path") in records:
                    f["unit"] = "record"
    return report


def verdict_counts(report: dict[str, Any]) -> str:
    """'601 clean training examples (500 required), 60 clean eval examples (50 required)'."""
    v = report["verdict"]
    line = f"{v['clean_examples']:,} clean training examples ({v['min_examples']:,} required)"
    if v.get("eval_rows"):
        line += f", {v['clean_eval_examples']:,} clean eval examples ({v['min_eval_examples']:,} required)"
    else:
        line += ", no eval set"
    return line


def verdict_line(report: dict[str, Any]) -> str:
    return f"{VERDICT_TEXT[report['verdict']['status']]}: {verdict_counts(report)}"


def sorted_findings(result: dict[str, Any]) -> list[dict[str, Any]]:
    """Most severe first, then file and line order (stable: the engine already sorted by path, line)."""
    return sorted(result["findings"],
                  key=lambda f: (SEVERITY_ORDER.get(f["severity"], 3), f["path"], f["line"] or 0))


def top_findings(result: dict[str, Any], limit: int = 10) -> list[dict[str, Any]]:
    return sorted_findings(result)[:limit]


def where(f: dict[str, Any]) -> str:
    """`path:line`, or `path:row N` on an input read as records (see `normalized`)."""
    if not f.get("line"):
        return f["path"]
    return f"{f['path']}:row {f['line']}" if f.get("unit") == "record" else f"{f['path']}:{f['line']}"


def one_line(text: Any, limit: int) -> str:
    """Text on one line (newlines and tabs shown as spaces), cut to `limit` characters with an ellipsis."""
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def finding_text(f: dict[str, Any]) -> str | None:
    """The dataset text a finding is about, when the check put it in `data`: `excerpt`, `text`, `prompt`,
    `response`, or the member of `members` at the finding's own line."""
    data = f.get("data") or {}
    for key in TEXT_KEYS:
        if isinstance(data.get(key), str) and data[key]:
            return data[key]
    for member in members(f):
        if member.get("line") == f.get("line") and member.get("path", f["path"]) == f["path"]:
            text = member_text(member)
            if text:
                return text
    return None


def members(f: dict[str, Any]) -> list[dict[str, Any]]:
    """`data["members"]` when it is a list of objects, else []."""
    value = (f.get("data") or {}).get("members")
    if isinstance(value, list) and all(isinstance(m, dict) for m in value):
        return value
    return []


def member_text(member: dict[str, Any]) -> str:
    for key in ("text", "prompt"):
        if isinstance(member.get(key), str):
            return member[key]
    return ""


def scalar_metrics(metrics: dict[str, Any]) -> list[tuple[str, Any]]:
    """The numbers, strings and booleans of a metrics dict, in its own order (nested values are charts)."""
    return [(k, v) for k, v in metrics.items()
            if isinstance(v, (int, float, str, bool)) or v is None]


def format_value(value: Any) -> str:
    if isinstance(value, bool):
        return "yes" if value else "no"
    if isinstance(value, int):
        return f"{value:,}"
    if isinstance(value, float):
        return f"{value:.4g}" if abs(value) < 1e6 else f"{value:,.0f}"
    if value is None:
        return "–"
    return str(value)


# ----- chart data ---------------------------------------------------------------------------------

def providing(report: dict[str, Any], role: str) -> list[dict[str, Any]]:
    """The results of the checks that declare `role` (see auditor.check.ROLES), in report order."""
    checks = report.get("checks", {})
    return [r for r in report["results"] if role in checks.get(r["check"], {}).get("provides", ())]


def _histogram(value: Any) -> tuple[list[str], list[int]] | None:
    """{"bins": lower edges (len == counts) or edges (len == counts + 1), "counts": [...]} -> labels, counts."""
    if not isinstance(value, dict):
        return None
    bins, counts = value.get("bins"), value.get("counts")
    if not (isinstance(bins, list) and isinstance(counts, list) and counts
            and all(isinstance(c, (int, float)) for c in counts)):
        return None
    if len(bins) == len(counts) + 1:
        labels = [f"{_short(a)}–{_short(b)}" for a, b in zip(bins, bins[1:])]
    elif len(bins) == len(counts):
        labels = [f"{_short(a)}–{_short(b)}" for a, b in zip(bins, bins[1:])] + [f"{_short(bins[-1])}+"]
    else:
        return None
    return labels, [int(c) for c in counts]


def _short(n: Any) -> str:
    if isinstance(n, (int, float)) and n >= 1000 and n % 100 == 0:
        return f"{n / 1000:g}k"
    return format_value(n)


def _split_histograms(metrics: dict[str, Any], key: str) -> tuple[list[str], dict[str, list[int]]] | None:
    """Bin labels and counts per split of the histograms `key.format(split=...)` in `metrics` (splits whose
    bins differ from the first's are left out)."""
    labels, series = None, {}
    for split in ("train", "eval"):
        parsed = _histogram(metrics.get(key.format(split=split)))
        if parsed and sum(parsed[1]) and (labels is None or parsed[0] == labels):
            labels = parsed[0]
            series[split] = parsed[1]
    return (labels, series) if labels else None


def length_histograms(report: dict[str, Any], column: str) -> tuple[list[str], dict[str, list[int]]] | None:
    """Bin labels and counts per split of `{split}_{column}_length_histogram` in the metrics of the first
    check providing length histograms."""
    count = next(iter(providing(report, "length-histograms")), None)
    return _split_histograms(count["metrics"], "{split}_" + column + "_length_histogram") if count else None


def token_histograms(report: dict[str, Any]) -> tuple[list[str], dict[str, list[int]], str] | None:
    """Bin labels, counts per split of `{split}_tokens_histogram`, and whether the counts are exact
    ("tokens") or estimates, from the first check providing token histograms."""
    tokens = next(iter(providing(report, "token-histograms")), None)
    found = _split_histograms(tokens["metrics"], "{split}_tokens_histogram") if tokens else None
    if not found:
        return None
    labels, series = found
    # the bins run to 128k tokens: the chart ends at the last bin holding an example
    last = max(i for counts in series.values() for i, n in enumerate(counts) if n) + 1
    unit = "tokens" if tokens["metrics"].get("exact") else "estimated tokens"
    return labels[:last], {split: counts[:last] for split, counts in series.items()}, unit


def label_distribution(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """Examples per label: `per_label` (train) and `eval_per_label` of the first check providing label counts."""
    count = next(iter(providing(report, "label-counts")), None)
    out = {}
    if count:
        for key, split in (("per_label", "train"), ("train_per_label", "train"), ("eval_per_label", "eval")):
            value = count["metrics"].get(key)
            if isinstance(value, dict) and value and split not in out:
                out[split] = {str(k): v for k, v in value.items() if isinstance(v, (int, float))}
    return out


def language_distribution(report: dict[str, Any]) -> dict[str, dict[str, int]]:
    """`prompt_languages` / `response_languages` ({language: count}) from any check's metrics, either at the
    top of its metrics or per split (`metrics["train"]["prompt_languages"]`); keys "prompt_languages (train)"."""
    out = {}
    for r in report["results"]:
        scopes = [("", r["metrics"])] + [(f" ({split})", r["metrics"][split]) for split in ("train", "eval")
                                         if isinstance(r["metrics"].get(split), dict)]
        for suffix, metrics in scopes:
            for key in ("prompt_languages", "response_languages"):
                value = metrics.get(key)
                if isinstance(value, dict) and value and key + suffix not in out:
                    out[key + suffix] = {str(k): v for k, v in value.items() if isinstance(v, (int, float))}
    return out


def language_samples(report: dict[str, Any]) -> dict[str, tuple[int, int]]:
    """{split: (sample size, rows)} where a check's language figures of that split come from a sample
    (its metrics say `sampled`, `sample_size`, `population`)."""
    out = {}
    for r in report["results"]:
        for split in ("train", "eval"):
            metrics = r["metrics"].get(split)
            if isinstance(metrics, dict) and metrics.get("sampled") and split not in out:
                out[split] = (int(metrics.get("sample_size") or 0), int(metrics.get("population") or 0))
    return out


def cluster_sizes(report: dict[str, Any]) -> dict[str, dict[int, int]]:
    """Clusters per size, per check providing cluster sizes: `metrics["cluster_sizes"]` ({size: clusters})
    when given, else counted from the distinct `data["lines"]` / `data["members"]` groups of its findings."""
    out: dict[str, dict[int, int]] = {}
    for r in providing(report, "cluster-sizes"):
        given = r["metrics"].get("cluster_sizes")
        if isinstance(given, dict) and given:
            try:
                out[r["check"]] = {int(k): int(v) for k, v in sorted(given.items(), key=lambda kv: int(kv[0]))}
            except (TypeError, ValueError):
                pass
            continue
        groups = set()
        for f in r["findings"]:
            group = _group(f)
            if group:
                groups.add(group)
        if groups:
            sizes: dict[int, int] = {}
            for group in groups:
                sizes[len(group)] = sizes.get(len(group), 0) + 1
            out[r["check"]] = dict(sorted(sizes.items()))
    return out


def _group(f: dict[str, Any]) -> frozenset | None:
    found = members(f)
    if found:
        return frozenset((m.get("path", f["path"]), m.get("line")) for m in found)
    lines = (f.get("data") or {}).get("lines")
    if isinstance(lines, list) and lines:
        return frozenset((f["path"], line) for line in lines if isinstance(line, int))
    return None


def leakage_by_file(report: dict[str, Any]) -> dict[str, tuple[int, int | None]]:
    """Leaked eval rows per eval file -> (leaked, total or None): `metrics["per_file"]` of the first check
    providing eval leakage ({path: n} or {path: {"leaked": n, "total": m}}) when given, else distinct eval
    lines of its findings."""
    leakage = next(iter(providing(report, "eval-leakage")), None)
    if not leakage or leakage["status"] in ("skipped", "error"):
        return {}
    totals = {i["path"]: i.get("valid") for i in report["inputs"] if i["split"] == "eval"}
    given = leakage["metrics"].get("per_file")
    out: dict[str, tuple[int, int | None]] = {}
    if isinstance(given, dict) and given:
        for path, value in given.items():
            if isinstance(value, dict) and isinstance(value.get("leaked"), (int, float)):
                out[path] = (int(value["leaked"]), value.get("total", totals.get(path)))
            elif isinstance(value, (int, float)):
                out[path] = (int(value), totals.get(path))
        return out
    lines: dict[str, set] = {path: set() for path in totals}
    for f in leakage["findings"]:
        if f.get("split") == "eval" or f["path"] in totals:
            lines.setdefault(f["path"], set()).add(f["line"])
    return {path: (len(found), totals.get(path)) for path, found in lines.items()}
