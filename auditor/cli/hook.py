"""The pre-commit hook's output: a short summary of each audit and one line per finding."""

from __future__ import annotations

import os

from ..verdict import HOOK_POLICY, ExitPolicy, fails_run, run_failures


def mark_added(report: dict, added: dict[str, set[int]]) -> None:
    """Mark every finding whose line or related lines the commit adds (`added`: auditor.staged.added_lines)
    with `added`, the first such line: a new copy of an old line is reported where it was added."""
    real: dict[str, str] = {}
    for result in report["results"]:
        for finding in result["findings"]:
            places = [finding, *finding.get("related", ())]
            for place in places:
                path, line = place.get("path"), place.get("line")
                if path and line and line in added.get(real.setdefault(path, os.path.realpath(path)), ()):
                    finding["added"] = {"path": path, "line": line}
                    break


def hook_summary(report: dict, label: str, policy: ExitPolicy = HOOK_POLICY) -> str:
    """The hook's output for one audit under `policy` (see auditor.verdict.ExitPolicy).

    Findings print as `path:line: severity CODE check: message` (errors and warnings, in file order);
    the summary says the verdict and what failed the run. By default a finding of severity `fail_on`
    or worse fails it, a finding on a line the commit adds (marked by `mark_added`) of `fail_on_added`
    or worse too, printed at that line and marked "(added)"; NOT READY fails it only with `gate`: a
    dataset grows over many commits, so the example-count gate is reported but not enforced.
    """
    from ..render.common import SEVERITY_ORDER, VERDICT_TEXT
    from ..render.console import finding_line
    from ..render.visible import visible, visible_everywhere
    from ..results import counted

    report = visible_everywhere(report)  # no row may print a line of its own (a CI workflow command)
    label = visible(label)
    verdict = report["verdict"]
    findings = [f for r in report["results"] for f in r["findings"] if f["severity"] in ("error", "warning")]
    errors = sum(1 for f in findings if f["severity"] == "error")
    head = (f"{label}: {VERDICT_TEXT[verdict['status']]}: {verdict['clean_examples']:,} clean training examples "
            f"({verdict['min_examples']:,} required)")
    if verdict["eval_rows"]:
        head += f", {verdict['clean_eval_examples']:,} clean eval examples ({verdict['min_eval_examples']:,} required)"
    lines = [head, *(f"  - {reason}" for reason in verdict["reasons"])]
    failing = run_failures(report, policy)
    if failing:
        lines.append(f"{label}: failed ({'; '.join(failing)}; fail_on = {policy.fail_on})")
    else:
        counts = f"{counted(errors, 'error')}, {counted(len(findings) - errors, 'warning')}"
        note = ("" if policy.gate or verdict["status"] != "not_ready"
                else "; the readiness gate is not enforced (gate = false)")
        lines.append(f"{label}: passed ({counts}; fail_on = {policy.fail_on}{note})")
    shown = [{**f, **f["added"], "message": f"{f['message']} (added)"} if f.get("added") else f for f in findings]
    order = sorted(shown, key=lambda f: (f["path"], f["line"] or 0, SEVERITY_ORDER[f["severity"]], f["check"]))
    # the lines that fail the commit come first, under their own heading when others follow
    blocking = [f for f in order if fails_run(f, policy)]
    others = [f for f in order if not fails_run(f, policy)]
    if blocking and others:
        lines.append(f"{counted(len(blocking), 'finding')} failing the commit:")
    lines += [finding_line(f) for f in blocking]
    if blocking and others:
        lines.append(f"{counted(len(others), 'other finding')} (not failing: below fail_on, or accepted):")
    lines += [finding_line(f) for f in others]
    omitted = sum(r["findings_omitted"] for r in report["results"])
    if omitted:
        lines.append(f"... and {omitted:,} more findings (raise max_findings to see them)")
    return "\n".join(lines) + "\n"
