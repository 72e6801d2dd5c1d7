"""`auditor clean`: audit (the cache serves an unchanged audit), then write the clean rows of every input
and `removed.jsonl` into a folder (see auditor.clean)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import AuditorError, ConfigError
from .app import app, fail, split_names


@app.command()
def clean(
    train: Annotated[list[str] | None, typer.Argument(help="Training data (any input `auditor audit` reads).",
                                                         show_default=False)] = None,
    output_dir: Annotated[str, typer.Option("--output-dir", "-d", help="Folder to write the clean files and "
                                                                       "removed.jsonl into.")] = "",
    eval: Annotated[list[str] | None, typer.Option("--eval", "-e", help="Held-out eval file; repeatable.")] = None,
    schema: Annotated[str | None, typer.Option(help="JSON Schema the training targets must follow.")] = None,
    input_format: Annotated[str | None, typer.Option("--input-format", help="How to read the inputs (see audit).")] = None,
    format: Annotated[str | None, typer.Option("--format", help="Record format instead of auto-detection.")] = None,
    field: Annotated[list[str] | None, typer.Option("--field", help="Map a field, e.g. --field prompt=question.")] = None,
    select: Annotated[list[str] | None, typer.Option(help="Run only these checks.")] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Skip these checks.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A check option; policy lives here, e.g. -o contradictions.resolve=keep-majority, "
                               "-o leakage.exclude=both, -o language.exclude=true.")] = None,
    config: Annotated[str | None, typer.Option(help="Config file (default: the nearest one).")] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that already holds files.")] = False,
    redact: Annotated[bool, typer.Option(
        help="Keep rows with personal data or credentials, each value written as a placeholder (<EMAIL>, "
             "<PHONE>, ...), the rest of the line byte for byte (JSONL inputs).")] = False,
    cache: Annotated[bool | None, typer.Option("--cache/--no-cache", help="Reuse the cached audit [default: on].",
                                               show_default=False)] = None,
    cache_dir: Annotated[str | None, typer.Option(help="Cache directory.")] = None,
    progress: Annotated[bool, typer.Option(help="Progress bars on a terminal.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Write the rows the verdict counts as clean (byte for byte for JSONL) and why each other row went.

    Exits 0 when the clean set is written, 2 when it could not be (nothing is left half-written).
    """
    from ..clean import write_clean
    from ..config import load_config, parse_assignments
    from ..engine import audit as run_audit
    from ..engine import checks_providing
    from ..progress import default_progress
    from .audit import check_options, open_cache, plan_jobs

    if not output_dir:
        fail("clean needs --output-dir DIR: the folder the clean files are written into")
    cache_store = None
    try:
        settings = load_config(config).with_overrides(cache=cache, cache_dir=cache_dir)
        planned = plan_jobs(settings, train, eval, hook=False, one=True)
        if len(planned) != 1:
            raise ConfigError("clean writes one audit's files: pass the files of one dataset")
        plan = planned[0]
        checks = {k: dict(v) for k, v in plan.config.checks.items()}
        for check_id, values in check_options(option).items():
            checks.setdefault(check_id, {}).update(values)
        # the audit's own settings, so a cached `auditor audit` of the same files is reused as it is
        job = plan.config.with_overrides(checks=checks, schema=schema, input_format=input_format, format=format,
                                         fields=parse_assignments(field or [], "--field"), select=split_names(select),
                                         ignore=split_names(ignore))
        cache_store = open_cache(job)
        report = run_audit(job, progress=default_progress(progress), cache=cache_store)
        redactors = checks_providing(job, "redaction") if redact else []
        if redact and not redactors:
            raise ConfigError("--redact needs a check that redacts (pii), and it is not selected")
        summary = write_clean(report, output_dir, force=force, limits=job.input_limits(), redactors=redactors)
    except AuditorError as exc:
        fail(str(exc))
    except OSError as exc:
        fail(f"{getattr(exc, 'filename', None) or output_dir}: cannot write: {exc.strerror or exc}")
    finally:
        if cache_store is not None and cache_store.writes:
            cache_store.prune()
    if not quiet:
        sys.stdout.write(summary.table())
    raise typer.Exit(0)
