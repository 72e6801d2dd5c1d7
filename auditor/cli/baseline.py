"""`auditor baseline write`: record the findings of today's audits, so the hook and CI fail only on new ones."""

from __future__ import annotations

from typing import Annotated

import typer

from ..errors import AuditorError
from .app import app, fail
from .outputs import refuse_overwrites, write_output

baseline_app = typer.Typer(help="Record accepted findings: the audit fails only on findings the baseline does not hold.",
                           no_args_is_help=True)
app.add_typer(baseline_app, name="baseline")


@baseline_app.command("write")
def write(
    train: Annotated[list[str] | None, typer.Argument(help="Training files (default: every configured dataset).",
                                                         show_default=False)] = None,
    eval: Annotated[list[str] | None, typer.Option("--eval", "-e", help="Held-out eval file; repeatable.")] = None,
    config: Annotated[str | None, typer.Option(help="Config file (default: the nearest one).")] = None,
    output: Annotated[str, typer.Option("--output", help="Where to write the baseline.")] = "auditor-baseline.json",
) -> None:
    """Audit as `auditor audit` would (every finding kept, however many) and write their fingerprints.

    `auditor audit` and the hook read auditor-baseline.json from the working folder when it is present
    (or --baseline FILE): findings it holds are shown as baselined and fail nothing.
    """
    from ..config import load_config
    from ..engine import audit as run_audit
    from ..review import baseline_document
    from .audit import open_cache, plan_jobs

    audits = []
    cache_store = None
    try:
        settings = load_config(config)
        plans = plan_jobs(settings, train, eval, hook=False, one=False)
        refuse_overwrites([output], [f for plan in plans for f in (*plan.config.train, *plan.config.eval)]
                          + [plan.config.schema or "" for plan in plans] + [settings.source or ""])
        cache_store = open_cache(settings)
        for plan in plans:
            report = run_audit(plan.config.with_overrides(max_findings=0), progress=None, cache=cache_store)
            audits.append((plan.name, report))
    except AuditorError as exc:
        fail(str(exc))
    finally:
        if cache_store is not None and cache_store.writes:
            cache_store.prune()
    document = baseline_document(audits)
    write_output(output, document)
    total = sum(len(r["findings"]) for _, report in audits for r in report["results"])
    print(f"{output}: {total:,} findings of {len(audits):,} audit{'s' if len(audits) != 1 else ''} recorded")
