"""Reports for the renderer tests: a real audit of data built in code, hostile rows, and synthetic results
with the `data` keys the renderers understand (members, similarity, lines, detector, languages)."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from auditor.config import AuditConfig
from auditor.engine import audit
from auditor.testing import write_jsonl

MARK = "PWNED"
LONG = "long " * 4000  # 20,000 characters on one line
PAYLOADS = [
    f"<script>document.title='{MARK}';document.body.setAttribute('data-pwned','1')</script>",
    f"<img src=x onerror=\"document.title='{MARK}';document.body.setAttribute('data-pwned','2')\">",
    f"[click me](javascript:document.title='{MARK}') javascript:alert(1)",
    "| a | b | `tick` ``double`` \\| pipe",
    f"\"></style></script><svg onload=\"document.title='{MARK}'\"><a href=\"javascript:alert(1)\">x</a>",
    LONG,
]


def hostile_train(n: int = 40) -> list[dict[str, Any]]:
    """Text/label records: normal ones, plus one per payload whose *label* is the payload (the count check
    quotes labels in its messages), and one broken line."""
    rows: list[Any] = [{"text": f"the parcel {i} arrived late", "label": "delivery" if i % 2 else "billing"}
                       for i in range(n)]
    rows += [{"text": p, "label": p[:200]} for p in PAYLOADS]
    rows.append("{broken <script>document.title='PWNED'</script>")
    return rows


def real_report(tmp_path: Path, train: list, eval: list | None = None, **config: Any) -> dict[str, Any]:
    train_path = write_jsonl(tmp_path / "train.jsonl", train)
    eval_paths = (str(write_jsonl(tmp_path / "eval.jsonl", eval)),) if eval is not None else ()
    settings = AuditConfig(train=(str(train_path),), eval=eval_paths, select=("count", "format"),
                           min_examples=config.pop("min_examples", 10),
                           min_eval_examples=config.pop("min_eval_examples", 5), **config)
    return audit(settings)


def _finding(check: str, code: str, path: str, line: int, message: str, *, severity: str = "error",
             split: str = "train", related=(), **data: Any) -> dict[str, Any]:
    return {"check": check, "code": code, "severity": severity, "message": message, "path": path, "line": line,
            "split": split, "related": [{"path": p, "line": n} for p, n in related], "data": data}


def _result(check: str, code: str, findings: list, *, status: str = "fail", summary: str = "",
            metrics: dict | None = None, omitted: int = 0) -> dict[str, Any]:
    return {"check": check, "code": code, "title": f"The {check} check", "plugin": "dataset-auditor",
            "status": status, "blocking": True, "summary": summary or f"{len(findings) + omitted} findings",
            "metrics": metrics or {}, "excluded_rows": len(findings), "findings": findings,
            "findings_total": len(findings) + omitted, "findings_omitted": omitted, "error": None}


# what the checks these samples stand for declare (Check.provides)
ROLES = {"near-duplicates": ["cluster-sizes"], "contradictions": ["contradictions"],
         "leakage": ["eval-leakage", "held-out-eval"]}


def enrich(report: dict[str, Any]) -> dict[str, Any]:
    """Add near-duplicate, contradiction, language and leakage results whose rows hold the payloads."""
    report = copy.deepcopy(report)
    train = next(i["path"] for i in report["inputs"] if i["split"] == "train")
    evals = [i["path"] for i in report["inputs"] if i["split"] == "eval"]
    dup_members = [{"line": 3, "text": "How do I reset my password? " + PAYLOADS[0]},
                   {"line": 9, "text": "How can I reset my password? " + PAYLOADS[0]},
                   {"line": 12, "text": "how do i reset the password " + PAYLOADS[1]}]
    dups = [_finding("near-duplicates", "DUP002", train, m["line"], "Near-duplicate of line 3 (Jaccard 0.91)",
                     severity="warning", related=[(train, o["line"]) for o in dup_members if o is not m],
                     members=dup_members, similarity=0.91, lines=[3, 9, 12])
            for m in dup_members[1:]]
    dups.append(_finding("near-duplicates", "DUP002", train, 20, "Near-duplicate of line 18 (Jaccard 0.88)",
                         severity="warning", related=[(train, 18)], lines=[18, 20], similarity=0.88))
    con_members = [{"line": 5, "prompt": "Is this spam? " + PAYLOADS[2], "response": "spam", "label": "spam"},
                   {"line": 7, "prompt": "Is this spam? " + PAYLOADS[2], "response": "ham " + PAYLOADS[3] + " " + LONG,
                    "label": "ham"}]
    cons = [_finding("contradictions", "CON001", train, 7, "Same prompt as line 5 but label 'ham' vs 'spam' "
                     + PAYLOADS[4], related=[(train, 5)], members=con_members)]
    results = [
        _result("near-duplicates", "DUP002", dups, status="warn", metrics={"clusters": 2, "rate": 0.12}),
        _result("contradictions", "CON001", cons, metrics={"pairs": 1}),
        _result("language", "LNG001", [_finding("language", "LNG001", train, 4, "Prompt is in 'de'",
                                                severity="info", excerpt=PAYLOADS[5])], status="pass",
                metrics={"prompt_languages": {"en": 40, "de": 3, "fr": 1, "<b>x</b>": 1},
                         "response_languages": {"en": 42, "es": 2}}),
    ]
    if evals:
        leaks = [_finding("leakage", "LEAK001", evals[0], n, f"Eval line {n} appears in train at line {n + 1}",
                          split="eval", related=[(train, n + 1)], detector="exact") for n in (1, 2)]
        results.append(_result("leakage", "LEAK001", leaks, summary="2 of 6 eval rows leak from train"))
    for r in results:
        report["results"].append(r)
        report["checks"][r["check"]] = {"title": r["title"], "code": r["code"], "plugin": "dataset-auditor",
                                        "version": "0", "blocking": True, "options": [],
                                        "provides": ROLES.get(r["check"], []),
                                        "doc": f"{r['title']}.\n\n## What it does\nFinds <things> | `x`.\n"}
    return report


def big_report(base: dict[str, Any], n: int = 100_000) -> dict[str, Any]:
    """`base` with one check reporting `n` findings, each with a long hostile message and members."""
    report = copy.deepcopy(base)
    train = next(i["path"] for i in report["inputs"] if i["split"] == "train")
    findings = [_finding("near-duplicates", "DUP001", train, i + 1,
                         f"Duplicate of line {i} {PAYLOADS[3]} " + "x" * 300, severity="warning",
                         related=[(train, i)], members=[{"line": i, "text": "a b c"}, {"line": i + 1, "text": "a b d"}])
                for i in range(n)]
    report["results"].append(_result("near-duplicates", "DUP001", findings, status="warn"))
    report["checks"]["near-duplicates"] = {"title": "Duplicates", "code": "DUP001", "doc": "Duplicates.",
                                           "plugin": "x", "version": "0", "blocking": True, "options": [],
                                           "provides": ["cluster-sizes"]}
    return report
