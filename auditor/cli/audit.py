"""`auditor audit`: plan the audits the arguments and the config ask for, run them, write the reports,
print the summary, and exit with the policy's code."""

from __future__ import annotations

import sys
from typing import Annotated, Any

import typer

from ..errors import AuditorError, ConfigError
from .app import EXIT_USAGE, app, fail, split_names, warn_not_loaded
from .outputs import refuse_overwrites, report_renderer, write_output


@app.command()
def audit(
    train: Annotated[list[str] | None, typer.Argument(help="Training data: JSONL(.gz), JSON, CSV, TSV, Parquet, Arrow, a Hugging Face folder, or - for stdin.",
                                                         show_default=False)] = None,
    eval: Annotated[list[str] | None, typer.Option("--eval", "-e", help="Held-out eval file; repeatable.")] = None,
    schema: Annotated[str | None, typer.Option(help="JSON Schema the training targets must follow.")] = None,
    input_format: Annotated[str | None, typer.Option(
        "--input-format", help="How to read the inputs instead of by extension and content: jsonl, json, csv, "
                               "tsv, parquet, arrow, hf (a Hugging Face save_to_disk folder).")] = None,
    format: Annotated[str | None, typer.Option(
        "--format", help="Record format instead of auto-detection: chat, prompt-completion, alpaca, "
                         "text-label, sharegpt, preference.")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="Map a field for any other shape, e.g. --field prompt=question --field response=answer "
                        "(targets: prompt, response, label, system; dotted paths allowed).")] = None,
    min_examples: Annotated[int | None, typer.Option(help="Clean training examples required [default: 500].")] = None,
    min_eval_examples: Annotated[int | None, typer.Option(help="Clean eval examples required [default: 50].")] = None,
    select: Annotated[list[str] | None, typer.Option(help="Run only these checks (comma-separated or repeated).")] = None,
    ignore: Annotated[list[str] | None, typer.Option(help="Skip these checks.")] = None,
    option: Annotated[list[str] | None, typer.Option(
        "--option", "-o", help="A check option, e.g. -o count.min_per_label=20.")] = None,
    report: Annotated[list[str] | None, typer.Option(
        help="Report format to write: json, markdown (md), html, sarif, text; pair each with --output; "
             "repeatable.")] = None,
    output: Annotated[list[str] | None, typer.Option(
        help="Where to write the report; '-' for stdout. With --output-format alone: where that goes.")] = None,
    output_format: Annotated[str | None, typer.Option(
        "--output-format", help="What to print instead of the summary: concise (a line per finding), full, json, "
                                "jsonl, github (workflow annotations; under GitHub Actions also the job summary), "
                                "sarif, markdown, html; to stdout unless --output FILE.")] = None,
    link_base: Annotated[str | None, typer.Option(
        help="Markdown: link each finding to its line under this URL, e.g. https://github.com/org/data/blob/SHA "
             "[default: the commit, under GitHub Actions].")] = None,
    sarif_root: Annotated[str | None, typer.Option(
        help="SARIF: the folder URIs are relative to (the repository root code scanning resolves them "
             "against) [default: the git top level].")] = None,
    statistics: Annotated[bool, typer.Option(
        "--statistics", help="Print the findings counted by code instead of the summary.")] = False,
    config: Annotated[str | None, typer.Option(help="Config file (default: nearest auditor.toml or "
                                                       "pyproject.toml with [tool.auditor]).")] = None,
    task: Annotated[str | None, typer.Option(help="structured, classification or free-text.")] = None,
    max_findings: Annotated[int | None, typer.Option(help="Findings kept per check (0: all) [default: 10000].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice [default: 1].")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 on READY WITH WARNINGS too.")] = False,
    exit_zero: Annotated[bool, typer.Option(
        "--exit-zero", help="Exit 0 whatever the verdict and findings (2 still means the audit could not run).")] = False,
    progress: Annotated[bool, typer.Option(help="Progress bars on a terminal.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No terminal summary.")] = False,
    hook: Annotated[bool, typer.Option(
        "--hook", help="Pre-commit hook mode: audit the datasets the given files belong to, print a short "
                       "summary and 'path:line: severity CODE check: message' lines, fail per --fail-on and "
                       "--gate.")] = False,
    fail_on: Annotated[str | None, typer.Option(
        help="Hook mode: findings that fail the run: error, warning or never [default: error].")] = None,
    fail_on_added: Annotated[str | None, typer.Option(
        help="Hook mode: findings on lines the commit adds or changes that fail it: error, warning or never "
             "[default: warning].")] = None,
    gate: Annotated[bool | None, typer.Option(
        "--gate/--no-gate", help="Hook mode: whether NOT READY fails the run [default: no].",
        show_default=False)] = None,
    cache: Annotated[bool | None, typer.Option(
        "--cache/--no-cache", help="Reuse results of unchanged files from the cache [default: on].",
        show_default=False)] = None,
    cache_dir: Annotated[str | None, typer.Option(
        help="Cache directory [default: .auditor_cache next to the config file, or here].")] = None,
    max_line_bytes: Annotated[int | None, typer.Option(
        help="Longer lines are a finding and are not read (0: no limit) [default: 67108864, 64 MiB].")] = None,
    max_expansion: Annotated[int | None, typer.Option(
        help="Refuse a compressed input that expands more than this many times (0: no limit) "
             "[default: 200].")] = None,
    tokenizer: Annotated[str | None, typer.Option(
        help="Count tokens exactly with this tokenizer.json or local model folder (its chat template too), or "
             "an OpenAI encoding (o200k_base, cl100k_base: the openai-tokens extra); "
             "same as -o tokens.tokenizer=PATH.")] = None,
    target: Annotated[list[str] | None, typer.Option(
        help="Check the data against a fine-tuning service's rules: openai, vertex, fireworks, together, "
             "mistral (repeatable or comma-separated; same as -o target.targets=...).")] = None,
    max_length: Annotated[int | None, typer.Option(
        help="The trainer's max sequence length: report rows it would truncate or train on nothing "
             "(same as -o tokens.max_length=N).")] = None,
    baseline: Annotated[str | None, typer.Option(
        help="A baseline (auditor baseline write) or an earlier JSON report: only findings it does not hold "
             "(by content) fail the run; the report counts new, baselined and fixed ones [default: "
             "auditor-baseline.json when present].")] = None,
    waivers: Annotated[str | None, typer.Option(
        help="TOML file of [[waiver]] tables (fingerprint, reason, expires) accepting findings [default: "
             "auditor-waivers.toml when present].")] = None,
    max_memory: Annotated[str | None, typer.Option(
        help="Stop (exit 2) when the audit holds more memory, e.g. 4GiB (0: no limit) "
             "[default: half of the machine's memory].")] = None,
    engine: Annotated[str | None, typer.Option(
        help="Where the heavy stages run: local, or ray (Ray Data; the ray extra) [default: local].")] = None,
    ray_address: Annotated[str | None, typer.Option(
        help="--engine ray: the Ray cluster to join [default: $RAY_ADDRESS, else a local Ray for the run].")] = None,
    workers: Annotated[int | None, typer.Option(
        help="--engine ray: CPUs of the local Ray started for the run [default: every core].")] = None,
) -> None:
    """Audit TRAIN (and --eval files): print a verdict and exit 0 ready, 1 not ready, 2 could not audit.

    With [[datasets]] configured, files select the datasets they belong to and no files audits them all.
    """
    from ..config import load_config, parse_assignments
    from ..engine import audit as run_audit
    from ..progress import default_progress
    from ..render import DOCUMENTS, canonical
    from ..review import baseline_for, review

    reports = list(report or [])
    outputs = list(output or [])
    printed_to = "-"  # where --output-format writes
    if output_format is not None and not reports and len(outputs) == 1:
        printed_to = outputs.pop()
    if len(reports) != len(outputs):
        fail("each --report needs its own --output (e.g. --report json --output audit.json)")
    if output_format is not None and statistics:
        fail("--statistics prints instead of --output-format: give one of them")
    results: list[tuple[str | None, dict, Any]] = []
    cache_store = None
    stop_watch = None
    try:
        writers = [(report_renderer(name, link_base, sarif_root), path) for name, path in zip(reports, outputs)]
        printer = None if output_format is None else (
            canonical(output_format), report_renderer(output_format, link_base, sarif_root), printed_to)
        settings = load_config(config).with_overrides(fail_on=fail_on, fail_on_added=fail_on_added, gate=gate,
                                                      cache=cache, cache_dir=cache_dir, max_memory=max_memory)
        stop_watch = cap_memory(settings.memory_limit())
        plans = plan_jobs(settings, train, eval, hook=hook, one=bool(writers) or (printer is not None
                                                                             and printer[0] in DOCUMENTS))
        refuse_overwrites(outputs + ([printed_to] if printer else []), [f for plan in plans for f in (*plan.config.train, *plan.config.eval)]
                          + [schema or plan.config.schema or "" for plan in plans] + [settings.source or ""])
        cache_store = open_cache(settings)
        overrides = dict(schema=schema, input_format=input_format, format=format, fields=parse_assignments(field or [], "--field"),
                         min_examples=min_examples, min_eval_examples=min_eval_examples, select=split_names(select),
                         ignore=split_names(ignore), task=task, max_findings=max_findings, seed=seed,
                         max_line_bytes=max_line_bytes, max_expansion=max_expansion, engine=engine,
                         ray_address=ray_address, workers=workers)
        accepted = _accepted(baseline, waivers)
        cli_checks = check_options(option)
        # the flags that stand for check options apply to those of their checks the audit runs
        shorthand: dict[str, dict[str, str]] = {}
        if tokenizer is not None:
            shorthand.setdefault("tokens", {})["tokenizer"] = tokenizer
            shorthand.setdefault("target", {})["tokenizer"] = tokenizer
        if target:
            shorthand.setdefault("target", {})["targets"] = ",".join(split_names(target))
        if max_length is not None:
            shorthand.setdefault("tokens", {})["max_length"] = str(max_length)
        for plan in plans:
            checks = {k: dict(v) for k, v in plan.config.checks.items()}
            selected = set(overrides["select"] or plan.config.select)
            skipped = set(overrides["ignore"] or plan.config.ignore)
            for check_id, values in shorthand.items():
                if (not selected or check_id in selected) and check_id not in skipped:
                    checks.setdefault(check_id, {}).update(values)
            for check_id, values in cli_checks.items():
                checks.setdefault(check_id, {}).update(values)
            job = plan.config.with_overrides(checks=checks, **overrides)
            report_dict = run_audit(job, progress=default_progress(progress and not hook), cache=cache_store)
            if accepted is not None:
                accepted_here = None if accepted[0] is None else baseline_for(accepted[0], plan.name, job.train)
                report_dict = review(dict(report_dict), baseline=accepted_here, waivers=accepted[1],
                                     baseline_path=accepted[2])
            results.append((plan.name, report_dict, job))
    except AuditorError as exc:
        fail(str(exc))
    finally:
        if stop_watch is not None:
            stop_watch()
        if cache_store is not None and cache_store.writes:
            cache_store.prune()
    # the hook's policy, asked for on the command line
    asked = fail_on is not None or fail_on_added is not None or gate is not None
    code = _finish(results, writers, to_stdout="-" in outputs, hook=hook, quiet=quiet, strict=strict,
                   hook_policy=hook or asked, printer=printer, statistics=statistics)
    raise typer.Exit(0 if exit_zero and code == 1 else code)


def plan_jobs(settings: Any, train: list[str] | None, eval: list[str] | None, *, hook: bool, one: bool) -> list[Any]:
    """The audits to run: the command line's files, or the configured datasets they select."""
    from dataclasses import replace

    from ..config import PlannedAudit, expand, plan_audits

    if eval:  # the command line describes the whole audit
        plans = [PlannedAudit(None, replace(settings, datasets=(), train=expand(train or settings.train),
                                            eval=tuple(p for pattern in eval for p in expand([pattern]))))]
    else:
        plans = plan_audits(settings, train or (), hook=hook)
    if one and len(plans) > 1:
        names = ", ".join(plan.name or plan.config.train[0] for plan in plans)
        raise ConfigError(f"--report writes one audit but {len(plans)} are selected ({names}); "
                          "pass the files of one dataset")
    return plans


def _accepted(baseline: str | None, waivers: str | None) -> tuple[dict | None, list, str | None] | None:
    """(the loaded baseline or None, the waivers, the baseline's path) when either is given or their
    default file is present in the working folder, else None."""
    import os

    from ..review import BASELINE_FILE, WAIVERS_FILE, load_baseline, load_waivers

    if waivers is None and os.path.isfile(WAIVERS_FILE):
        waivers = WAIVERS_FILE
    if baseline is None and os.path.isfile(BASELINE_FILE):
        baseline = BASELINE_FILE
    if baseline is None and waivers is None:
        return None
    return (load_baseline(baseline) if baseline else None), (load_waivers(waivers) if waivers else []), baseline


def check_options(option: list[str] | None) -> dict[str, dict[str, str]]:
    """-o CHECK.OPTION=VALUE assignments, by check."""
    from ..config import parse_assignments

    by_check: dict[str, dict[str, str]] = {}
    for key, value in parse_assignments(option or [], "--option").items():
        check_id, dot, name = key.partition(".")
        if not dot:
            raise ConfigError(f"--option must look like CHECK.OPTION=VALUE, got {key!r}")
        by_check.setdefault(check_id, {})[name] = value
    return by_check


def open_cache(settings: Any) -> Any:
    if not settings.cache:
        return None
    from ..store import default_cache_dir, open_cache

    return open_cache(settings.cache_dir or default_cache_dir(settings.source))


def _finish(results: list[tuple[str | None, dict, Any]], writers: list[tuple[Any, str]], *, to_stdout: bool,
            hook: bool, quiet: bool, strict: bool, hook_policy: bool, printer: tuple[str, Any, str] | None = None,
            statistics: bool = False) -> int:
    """Write every report, print the summaries (or the --output-format, or the statistics), and return
    the exit code: the worst of the audits'."""
    from ..render.lines import render_statistics
    from ..render.visible import visible
    from ..verdict import ExitPolicy, crashed_checks, exit_code
    from .hook import hook_summary, mark_added

    warn_not_loaded(dict.fromkeys(m for _, result, _ in results for m in result["settings"].get("checks_not_loaded", ())))
    codes = []
    printed: list[str] = []
    for name, result, job in results:
        if hook and job.fail_on_added != "never":
            from ..staged import added_lines

            added = added_lines(sorted({entry["path"] for entry in result["inputs"]}))
            if added:
                mark_added(result, added)
        for render, path in writers:
            write_output(path, render(result))
        label = name or ", ".join(entry["path"] for entry in result["inputs"] if entry["split"] == "train")
        policy = ExitPolicy(gate=bool(job.gate), fail_on=job.fail_on, strict=strict,
                            fail_on_added=job.fail_on_added if hook else "never") if hook_policy else \
            ExitPolicy(strict=strict)
        if printer is not None:
            printed.append(_printed(printer, result, label if len(results) > 1 else None))
        elif statistics:
            if not quiet:
                sys.stdout.write(render_statistics(result))
        elif quiet:
            pass
        elif hook:
            sys.stdout.write(hook_summary(result, label, policy))
            if "review" in result:
                from ..review import summary_line

                sys.stdout.write(summary_line(result))
        else:
            if len(results) > 1:
                (sys.stderr if to_stdout else sys.stdout).write(f"== {visible(label)} ==\n")
            _print_summary(result, to_stderr=to_stdout)
            if "review" in result:
                from ..review import summary_line

                (sys.stderr if to_stdout else sys.stdout).write(summary_line(result))
        for check in crashed_checks(result):  # the check's own failure: said on stderr, and exit 2
            error = next(r["error"] for r in result["results"] if r["check"] == check)
            print(f"auditor: error: check {check} failed: {visible(str(error))[:300]}", file=sys.stderr)
        codes.append(exit_code(result, policy))
    if printer is not None:
        write_output(printer[2], "".join(printed))
    return max(codes, default=0)


def _printed(printer: tuple[str, Any, str], result: dict, label: str | None) -> str:
    """One audit in the --output-format; under GitHub Actions the `github` format also appends the
    Markdown report to the job summary."""
    import os

    name, render, _ = printer
    if name == "github" and os.environ.get("GITHUB_STEP_SUMMARY"):
        try:
            with open(os.environ["GITHUB_STEP_SUMMARY"], "a", encoding="utf-8") as summary:
                summary.write(report_renderer("markdown")(result) + "\n")
        except OSError as exc:
            fail(f"GITHUB_STEP_SUMMARY: cannot write: {exc.strerror or exc}")
    text = render(result)
    if label is not None and name in ("concise", "full"):
        from ..render.visible import visible

        text = f"== {visible(label)} ==\n{text}"
    return text


def cap_memory(limit: int):
    """End the command (one line, exit 2) as soon as it holds more than `limit` bytes of memory, until
    the returned function is called."""
    import os

    from ..input.limits import format_size, watch_memory

    def exceeded(held: int) -> None:
        message = (f"auditor: error: the audit took more than {format_size(limit)} of memory ({format_size(held)}; "
                   "max_memory, --max-memory 0 lifts it): stopped, nothing was written\n")
        os.write(2, message.encode())
        os._exit(EXIT_USAGE)  # from a watcher thread: the main thread may be deep in native code

    return watch_memory(limit, exceeded)


def _print_summary(result: dict, *, to_stderr: bool) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    if stream.isatty():
        from rich.console import Console

        from ..render.console import print_rich

        print_rich(result, Console(stderr=to_stderr))
    else:
        from ..render.console import render_text

        stream.write(render_text(result))
