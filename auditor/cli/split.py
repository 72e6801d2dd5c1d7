"""`auditor split`: divide one input into train and eval files that cannot leak (see auditor.holdout)."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import AuditorError
from .app import app, fail


@app.command()
def split(
    data: Annotated[str, typer.Argument(help="The rows to divide (any input `auditor audit` reads).",
                                        show_default=False)],
    eval_size: Annotated[float, typer.Option("--eval-size", help="Eval rows: a count (200) or a share (0.1).")],
    output_dir: Annotated[str, typer.Option("--output-dir", "-d", help="Folder for train.* and eval.*.")] = "",
    seed: Annotated[int | None, typer.Option(help="Seed of the draw [default: the config's, 1].")] = None,
    stratify: Annotated[str | None, typer.Option(
        help="Keep label shares: 'label', a dotted record field, or response.KEY of JSON targets.")] = None,
    group_by: Annotated[str | None, typer.Option(
        help="A dotted record field whose rows stay together (a conversation or user id).")] = None,
    input_format: Annotated[str | None, typer.Option("--input-format", help="How to read the input (see audit).")] = None,
    format: Annotated[str | None, typer.Option("--format", help="Record format instead of auto-detection.")] = None,
    option: Annotated[list[str] | None, typer.Option("--option", "-o", help="A check option, e.g. -o "
                                                                             "near-duplicates.threshold=0.7.")] = None,
    config: Annotated[str | None, typer.Option(help="Config file (default: the nearest one).")] = None,
    force: Annotated[bool, typer.Option(help="Write into a folder that already holds files.")] = False,
    cache: Annotated[bool | None, typer.Option("--cache/--no-cache", help="Reuse cached audits [default: on].",
                                               show_default=False)] = None,
    progress: Annotated[bool, typer.Option(help="Progress bars on a terminal.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No summary.")] = False,
) -> None:
    """Write train and eval so that no duplicate group, near-duplicate cluster, shared prompt, --group-by
    value or leak straddles the two; checked by the leakage checks before anything is written."""
    from dataclasses import replace

    from ..config import expand, load_config
    from ..holdout import split as run_split
    from ..holdout import write_split
    from ..progress import default_progress
    from .audit import check_options, open_cache

    if not output_dir:
        fail("split needs --output-dir DIR: the folder train and eval are written into")
    cache_store = None
    try:
        settings = load_config(config).with_overrides(cache=cache)
        checks = {k: dict(v) for k, v in settings.checks.items()}
        for check_id, values in check_options(option).items():
            checks.setdefault(check_id, {}).update(values)
        job = replace(settings, datasets=(), train=expand([data]), eval=()).with_overrides(
            checks=checks, seed=seed, input_format=input_format, format=format)
        cache_store = open_cache(job)
        result = run_split(job, eval_size=eval_size, stratify=stratify, group_by=group_by, cache=cache_store,
                           progress=default_progress(progress))
        written = write_split(result, output_dir, force=force, limits=job.input_limits())
    except AuditorError as exc:
        fail(str(exc))
    finally:
        if cache_store is not None and cache_store.writes:
            cache_store.prune()
    if not quiet:
        from ..render.visible import visible

        sys.stdout.write(result.table() + "".join(f"{side}: {visible(path)}\n" for side, path in written.items()))
    raise typer.Exit(0)
