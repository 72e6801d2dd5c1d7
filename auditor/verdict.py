"""The readiness gate: clean example counts, the verdict with every blocking reason, the decision checklist.

This is the one home of readiness policy; checks only measure and grade themselves.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .results import CheckResult, Status, Verdict, union_rows

# Questions of the fine-tuning decision framework that data cannot answer: read from [tool.auditor.decision].
STATED_QUESTIONS = {
    "prompting_tried": "Were prompting and retrieval (RAG) tried first and found short?",
    "behaviour_gap": "Is the gap behaviour or output format, rather than missing knowledge?",
    "task_stable": "Is the task stable enough that a fine-tuned model will not go stale?",
}


def decide(ctx: Any, results: Sequence[CheckResult], *, min_examples: int, min_eval_examples: int,
           decision: dict[str, bool]) -> dict[str, Any]:
    """Count clean rows, apply the gate, and answer the checklist."""
    import polars as pl

    excluded_series = pl.Series("row", union_rows(r.excluded for r in results), dtype=pl.Int64)
    valid = ctx.rows()
    clean = valid.filter(~pl.col("row").is_in(excluded_series.implode()))
    valid_train = valid.filter(pl.col("split") == "train").height
    clean_train = clean.filter(pl.col("split") == "train").height
    eval_sources = ctx.sources("eval")
    clean_eval_by_source = {src: clean.filter(pl.col("source") == src).height for src in eval_sources}
    clean_eval = sum(clean_eval_by_source.values())

    reasons: list[str] = []
    if clean_train < min_examples:
        reasons.append(f"{clean_train:,} clean training examples, {min_examples:,} required")
    if not eval_sources:
        reasons.append("no eval set: pass a held-out eval file with --eval")
    elif clean_eval < min_eval_examples:
        reasons.append(f"{clean_eval:,} clean eval examples, {min_eval_examples:,} required")
    for result in results:
        if result.blocking and result.status in (Status.FAIL, Status.ERROR):
            what = result.error if result.status is Status.ERROR else result.summary
            reasons.append(f"{result.check}: {what}")

    warned = any(r.status in (Status.WARN, Status.FAIL, Status.ERROR) for r in results)
    status = Verdict.NOT_READY if reasons else (Verdict.READY_WITH_WARNINGS if warned else Verdict.READY)
    return {
        "status": status.value,
        "reasons": reasons,
        "min_examples": min_examples,
        "min_eval_examples": min_eval_examples,
        "train_rows": ctx.frame.filter(pl.col("split") == "train").height,
        "valid_examples": valid_train,
        "clean_examples": clean_train,
        "excluded_examples": valid_train - clean_train,
        "eval_rows": ctx.frame.filter(pl.col("split") == "eval").height,
        "clean_eval_examples": clean_eval,
        "clean_eval_by_file": clean_eval_by_source,
        "checklist": _checklist(results, clean_train, clean_eval, bool(eval_sources), min_examples,
                                min_eval_examples, decision),
    }


def _item(key: str, question: str, answer: str, evidence: str) -> dict[str, str]:
    return {"id": key, "question": question, "answer": answer, "evidence": evidence}


def _checklist(results: Sequence[CheckResult], clean_train: int, clean_eval: int, has_eval: bool,
               min_examples: int, min_eval: int, decision: dict[str, bool]) -> list[dict[str, str]]:
    """The decision checklist. A question a check answers reads as the checks table does: "no" exactly
    when a check answering it failed or crashed (the state the table shows, and the verdict's reasons
    when the check blocks), "yes" when they all passed or only warned, "not measured" when none ran."""
    def answered(role: str) -> tuple[str, list[str]] | None:  # (answer, evidence) of the checks with a role
        ran = [r for r in results if role in r.provides and r.status is not Status.SKIPPED]
        if not ran:
            return None
        bad = [r for r in ran if r.status in (Status.FAIL, Status.ERROR)]
        evidence = [f"{r.check}: {r.error if r.status is Status.ERROR else r.summary}" for r in (bad or ran)]
        return ("no" if bad else "yes"), evidence

    items = [_item("enough_examples", f"Are there {min_examples:,}+ clean training examples?",
                   "yes" if clean_train >= min_examples else "no",
                   f"{clean_train:,} clean examples, {min_examples:,} required")]

    held_out = answered("held-out-eval")
    question = "Is there a clean, held-out eval set?"
    if not has_eval:
        items.append(_item("held_out_eval", question, "no", "no eval file given"))
    elif clean_eval < min_eval:
        items.append(_item("held_out_eval", question, "no", f"{clean_eval:,} clean eval examples, {min_eval:,} required"))
    elif held_out is None:
        items.append(_item("held_out_eval", question, "not measured",
                           f"{clean_eval:,} clean eval examples; leakage was not checked"))
    else:
        items.append(_item("held_out_eval", question, held_out[0],
                           f"{clean_eval:,} clean eval examples; " + "; ".join(held_out[1])))

    consistent = answered("format-consistency")
    items.append(_item("consistent_format", "Is the output format consistent?", *(
        (consistent[0], "; ".join(consistent[1])) if consistent else ("not measured", "no format check ran"))))

    contradictions = answered("contradictions")
    items.append(_item("no_contradictions", "Is the data free of contradictory examples?", *(
        (contradictions[0], "; ".join(contradictions[1])) if contradictions
        else ("not measured", "the contradictions check did not run"))))

    for key, question in STATED_QUESTIONS.items():
        if key in decision:
            items.append(_item(key, question, "yes" if decision[key] else "no", "stated in [tool.auditor.decision]"))
        else:
            items.append(_item(key, question, "unanswered",
                               f"state it as {key} = true/false in [tool.auditor.decision]"))
    return items


# ---------------------------------------------------------------------------------- exit status

FAIL_ON = ("error", "warning", "never")


@dataclass(frozen=True, slots=True)
class ExitPolicy:
    """What fails a run (exit 1), read from a report. The audit command's default: NOT READY fails
    (`gate`), and `--strict` also fails READY WITH WARNINGS; the hook's default: findings of `fail_on`
    severity or worse fail, NOT READY only with `gate = true` (a dataset grows over many commits)."""

    gate: bool = True
    fail_on: str = "never"  # "error", "warning" or "never": findings that fail the run
    strict: bool = False  # READY WITH WARNINGS fails too
    fail_on_added: str = "never"  # the same for findings the hook marked `added` (on lines the commit adds)


HOOK_POLICY = ExitPolicy(gate=False, fail_on="error", fail_on_added="warning")


def fails_run(finding: dict[str, Any], policy: ExitPolicy) -> bool:
    """Whether this finding alone fails a run under `policy`: new (not baselined or waived), and of
    `fail_on` severity or worse, or of `fail_on_added` or worse on a line the commit adds."""
    if finding.get("review", "new") != "new":
        return False
    return fails(finding["severity"], policy.fail_on) or bool(finding.get("added")) and fails(
        finding["severity"], policy.fail_on_added)


def fails(severity: str, threshold: str) -> bool:
    """Whether a finding of `severity` meets a fail_on `threshold` ("error", "warning" or "never")."""
    return severity == "error" if threshold == "error" else threshold == "warning" and severity in ("error", "warning")


def crashed_checks(report: dict[str, Any]) -> list[str]:
    """The checks that failed to run (their own error, not the data's): the audit is incomplete."""
    return [r["check"] for r in report["results"] if r["status"] == Status.ERROR.value]


def run_failures(report: dict[str, Any], policy: ExitPolicy) -> list[str]:
    """Why the run fails under `policy`, one short reason each (empty: it passes)."""
    from .results import counted

    # with a baseline or waivers (see auditor.review), only new findings and unaccepted reasons count
    findings = [f["severity"] for r in report["results"] for f in r["findings"] if f.get("review", "new") == "new"]
    errors, warnings = findings.count("error"), findings.count("warning")
    crashed = crashed_checks(report)
    status = report.get("review", {}).get("status", report["verdict"]["status"])
    failing = []
    if policy.fail_on != "never" and (errors or crashed):
        failing.append(counted(errors, "error") if errors else f"check failed: {', '.join(crashed)}")
    if policy.fail_on == "warning" and warnings:
        failing.append(counted(warnings, "warning"))
    added = sum(1 for r in report["results"] for f in r["findings"]
                if fails_run(f, policy) and not fails(f["severity"], policy.fail_on))
    if added:
        failing.append(f"{counted(added, 'finding')} on lines this commit adds, fail_on_added = {policy.fail_on_added}")
    if policy.gate and status == Verdict.NOT_READY.value:
        failing.append("not ready (gate = true)")
    if policy.strict and status == Verdict.READY_WITH_WARNINGS.value:
        failing.append("ready with warnings (strict)")
    return failing


def exit_code(report: dict[str, Any], policy: ExitPolicy = ExitPolicy()) -> int:
    """0 the run passes, 1 it fails under `policy`, 2 a check crashed: an incomplete audit is no verdict
    on the data, whatever the policy."""
    if crashed_checks(report):
        return 2
    return 1 if run_failures(report, policy) else 0
