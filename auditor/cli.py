"""The `auditor` command: thin glue from typer options to the engine and the renderers.

Heavy modules (polars, numpy) are imported only inside commands: a pre-commit hook
starts this program on every commit.
"""

from __future__ import annotations

import contextlib
import sys
from pathlib import Path
from typing import Annotated, Any

import typer

try:  # recent typer vendors its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

from . import __version__
from .errors import AuditorError, ConfigError

app = typer.Typer(
    name="auditor",
    help="Is this fine-tuning dataset ready? Audits JSONL training data and gives a verdict.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
)

EXIT_USAGE = 2


def _fail(message: str) -> None:
    from .render.visible import visible

    print(f"auditor: error: {visible(message)}", file=sys.stderr)
    raise typer.Exit(EXIT_USAGE)


def _split_names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(name.strip() for value in values or [] for name in value.split(",") if name.strip())


def _version(value: bool) -> None:
    if value:
        print(f"dataset-auditor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """Is this fine-tuning dataset ready? Audits JSONL training data and gives a verdict."""


@app.command()
def audit(
    train: Annotated[list[str] | None, typer.Argument(help="Training JSONL file(s), .jsonl or .jsonl.gz.",
                                                         show_default=False)] = None,
    eval: Annotated[list[str] | None, typer.Option("--eval", "-e", help="Held-out eval file; repeatable.")] = None,
    schema: Annotated[str | None, typer.Option(help="JSON Schema the training targets must follow.")] = None,
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
    output: Annotated[list[str] | None, typer.Option(help="Where to write the report; '-' for stdout.")] = None,
    config: Annotated[str | None, typer.Option(help="Config file (default: nearest auditor.toml or "
                                                       "pyproject.toml with [tool.auditor]).")] = None,
    task: Annotated[str | None, typer.Option(help="structured, classification or free-text.")] = None,
    max_findings: Annotated[int | None, typer.Option(help="Findings kept per check (0: all) [default: 10000].")] = None,
    seed: Annotated[int | None, typer.Option(help="Seed of every random choice [default: 1].")] = None,
    strict: Annotated[bool, typer.Option(help="Exit 1 on READY WITH WARNINGS too.")] = False,
    progress: Annotated[bool, typer.Option(help="Progress bars on a terminal.")] = True,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No terminal summary.")] = False,
    hook: Annotated[bool, typer.Option(
        "--hook", help="Pre-commit hook mode: audit the datasets the given files belong to, print a short "
                       "summary and 'path:line: severity CODE check: message' lines, fail per --fail-on and "
                       "--gate.")] = False,
    fail_on: Annotated[str | None, typer.Option(
        help="Hook mode: findings that fail the run: error, warning or never [default: error].")] = None,
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
    max_memory: Annotated[str | None, typer.Option(
        help="Stop (exit 2) when the audit holds more memory, e.g. 4GiB (0: no limit) "
             "[default: half of the machine's memory].")] = None,
) -> None:
    """Audit TRAIN (and --eval files): print a verdict and exit 0 ready, 1 not ready, 2 could not audit.

    With [[datasets]] configured, files select the datasets they belong to and no files audits them all.
    """
    from dataclasses import replace

    from .config import PlannedAudit, expand, load_config, parse_assignments, plan_audits
    from .engine import audit as run_audit
    from .engine import exit_code
    from .progress import default_progress
    from .render import renderer
    from .render.visible import visible

    reports = list(report or [])
    outputs = list(output or [])
    if len(reports) != len(outputs):
        _fail("each --report needs its own --output (e.g. --report json --output audit.json)")
    results: list[tuple[str | None, dict, Any]] = []
    cache_store = None
    stop_watch = None
    try:
        writers = [(renderer(name), path) for name, path in zip(reports, outputs)]
        settings = load_config(config).with_overrides(fail_on=fail_on, gate=gate, cache=cache, cache_dir=cache_dir,
                                                      max_memory=max_memory)
        stop_watch = _cap_memory(settings.memory_limit())
        cli_checks: dict[str, dict[str, str]] = {}
        for key, value in parse_assignments(option or [], "--option").items():
            check_id, dot, name = key.partition(".")
            if not dot:
                raise ConfigError(f"--option must look like CHECK.OPTION=VALUE, got {key!r}")
            cli_checks.setdefault(check_id, {})[name] = value
        if eval:  # the command line describes the whole audit
            plans = [PlannedAudit(None, replace(settings, datasets=(), train=expand(train or settings.train),
                                                eval=tuple(eval)))]
        else:
            plans = plan_audits(settings, train or (), hook=hook)
        if writers and len(plans) > 1:
            names = ", ".join(plan.name or plan.config.train[0] for plan in plans)
            raise ConfigError(f"--report writes one audit but {len(plans)} are selected ({names}); "
                              "pass the files of one dataset")
        _refuse_overwrites(outputs, [f for plan in plans for f in (*plan.config.train, *plan.config.eval)]
                           + [schema or plan.config.schema or "" for plan in plans] + [settings.source or ""])
        if settings.cache:
            from .store import default_cache_dir, open_cache

            cache_store = open_cache(settings.cache_dir or default_cache_dir(settings.source))
        for plan in plans:
            checks = {k: dict(v) for k, v in plan.config.checks.items()}
            for check_id, values in cli_checks.items():
                checks.setdefault(check_id, {}).update(values)
            job = plan.config.with_overrides(
                schema=schema, format=format, fields=parse_assignments(field or [], "--field"),
                min_examples=min_examples, min_eval_examples=min_eval_examples, select=_split_names(select),
                ignore=_split_names(ignore), checks=checks, task=task, max_findings=max_findings, seed=seed,
                max_line_bytes=max_line_bytes, max_expansion=max_expansion,
            )
            report_dict = run_audit(job, progress=default_progress(progress and not hook), cache=cache_store)
            results.append((plan.name, report_dict, job))
    except AuditorError as exc:
        _fail(str(exc))
        return
    finally:
        if stop_watch is not None:
            stop_watch()
        if cache_store is not None and cache_store.writes:
            cache_store.prune()
    to_stdout = "-" in outputs
    codes = []
    _warn_not_loaded(dict.fromkeys(m for _, result, _ in results for m in result["settings"].get("checks_not_loaded", ())))
    for name, result, job in results:
        for render, path in writers:
            _write(path, render(result))
        label = name or ", ".join(entry["path"] for entry in result["inputs"] if entry["split"] == "train")
        if hook:
            text, code = hook_summary(result, label, fail_on=job.fail_on, gate=bool(job.gate))
            if not quiet:
                sys.stdout.write(text)
        else:
            if not quiet:
                if len(results) > 1:
                    (sys.stderr if to_stdout else sys.stdout).write(f"== {visible(label)} ==\n")
                _print_summary(result, to_stderr=to_stdout)
            code = exit_code(result, strict=strict)
            if fail_on is not None or gate is not None:  # asked for on the command line: the hook's policy
                code = hook_summary(result, label, fail_on=job.fail_on, gate=bool(job.gate))[1]
        for r in result["results"]:
            if r["status"] == "error":  # the check's own failure: said on stderr, and exit 2
                print(f"auditor: error: check {r['check']} failed: {visible(str(r['error']))[:300]}", file=sys.stderr)
                code = EXIT_USAGE
        codes.append(code)
    raise typer.Exit(max(codes, default=0))


def _cap_memory(limit: int):
    """End the command (one line, exit 2) as soon as it holds more than `limit` bytes of memory, until
    the returned function is called."""
    import os

    from .input.limits import format_size, watch_memory

    def exceeded(held: int) -> None:
        message = (f"auditor: error: the audit took more than {format_size(limit)} of memory ({format_size(held)}; "
                   "max_memory, --max-memory 0 lifts it): stopped, nothing was written\n")
        os.write(2, message.encode())
        os._exit(EXIT_USAGE)  # from a watcher thread: the main thread may be deep in native code

    return watch_memory(limit, exceeded)


def hook_summary(report: dict, label: str, *, fail_on: str = "error", gate: bool = False) -> tuple[str, int]:
    """The hook's output for one audit and its exit code (0 pass, 1 fail the commit).

    Findings print as `path:line: severity CODE check: message` (errors and warnings, in file order); the summary says
    the verdict and what failed the run. A finding of severity `fail_on` or worse fails it, and NOT READY
    fails it only with `gate`: a dataset grows over many commits, so the example-count gate is reported
    but not enforced by default.
    """
    from .render.common import SEVERITY_ORDER, VERDICT_TEXT
    from .render.console import finding_line
    from .render.visible import visible, visible_everywhere

    report = visible_everywhere(report)  # no row may print a line of its own (a CI workflow command)
    label = visible(label)
    verdict = report["verdict"]
    findings = [f for r in report["results"] for f in r["findings"] if f["severity"] in ("error", "warning")]
    errors = sum(1 for f in findings if f["severity"] == "error")
    warnings = len(findings) - errors
    crashed = [r["check"] for r in report["results"] if r["status"] == "error"]
    status = VERDICT_TEXT[verdict["status"]]
    head = (f"{label}: {status}: {verdict['clean_examples']:,} clean training examples "
            f"({verdict['min_examples']:,} required)")
    if verdict["eval_rows"]:
        head += f", {verdict['clean_eval_examples']:,} clean eval examples ({verdict['min_eval_examples']:,} required)"
    failing = []
    if fail_on != "never" and (errors or crashed):
        failing.append(f"{errors} error{'s' * (errors != 1)}" if errors else f"check failed: {', '.join(crashed)}")
    if fail_on == "warning" and warnings:
        failing.append(f"{warnings} warning{'s' * (warnings != 1)}")
    if gate and verdict["status"] == "not_ready":
        failing.append("not ready (gate = true)")
    lines = [head]
    lines += [f"  - {reason}" for reason in verdict["reasons"]]
    counts = f"{errors} error{'s' * (errors != 1)}, {warnings} warning{'s' * (warnings != 1)}"
    if failing:
        lines.append(f"{label}: failed ({'; '.join(failing)}; fail_on = {fail_on})")
    else:
        note = "" if gate or verdict["status"] != "not_ready" else "; the readiness gate is not enforced (gate = false)"
        lines.append(f"{label}: passed ({counts}; fail_on = {fail_on}{note})")
    order = sorted(findings, key=lambda f: (f["path"], f["line"] or 0, SEVERITY_ORDER[f["severity"]], f["check"]))
    lines += [finding_line(f) for f in order]
    omitted = sum(r["findings_omitted"] for r in report["results"])
    if omitted:
        lines.append(f"... and {omitted:,} more findings (raise max_findings to see them)")
    return "\n".join(lines) + "\n", 1 if failing else 0


def _write(path: str, text: str) -> None:
    """Write an output whole or not at all: a temporary file beside it, then renamed over it."""
    import os
    import tempfile

    if path == "-":
        try:
            sys.stdout.write(text)
            sys.stdout.flush()
        except OSError as exc:
            _fail(f"cannot write to standard output: {exc.strerror or exc}")
        return
    target = Path(path)
    temporary = None
    try:
        if target.exists() and not target.is_file():  # a device or a pipe: written to, never replaced
            with open(target, "w", encoding="utf-8") as out:
                out.write(text)
            return
        handle, temporary = tempfile.mkstemp(dir=target.parent if str(target.parent) else ".",
                                             prefix=f".{target.name}.", suffix=".tmp")
        with os.fdopen(handle, "w", encoding="utf-8") as out:
            out.write(text)
        os.replace(temporary, target)
        temporary = None
    except OSError as exc:
        _fail(f"{path}: cannot write: {exc.strerror or exc}")  # _fail makes names printable
    finally:
        if temporary is not None:
            with contextlib.suppress(OSError):
                os.unlink(temporary)


def _refuse_overwrites(outputs: list[str], protected: list[str]) -> None:
    """Exit 2 when an output path is an input, schema or config file (by any name: ./, symlinks, hard
    links), or when two outputs are one file: an audit never destroys what it reads."""
    import os

    def identity(path: str):
        try:
            info = os.stat(path)
            return ("inode", info.st_dev, info.st_ino)
        except OSError:
            return ("path", os.path.realpath(path))

    kept = {}
    for path in protected:
        if path and path != "-":
            kept[identity(path)] = path
    seen = {}
    for path in outputs:
        if path == "-":
            continue
        key = identity(path)
        if key in kept:
            _fail(f"--output {path} would overwrite the input {kept[key]}")
        if key in seen:
            _fail(f"--output {path} is given twice (also as {seen[key]})")
        seen[key] = path


def _print_summary(result: dict, *, to_stderr: bool) -> None:
    stream = sys.stderr if to_stderr else sys.stdout
    if stream.isatty():
        from rich.console import Console

        from .render.console import print_rich

        print_rich(result, Console(stderr=to_stderr))
    else:
        from .render.console import render_text

        stream.write(render_text(result))


@app.command("checks")
def list_checks(markdown: Annotated[bool, typer.Option("--markdown", help="As a Markdown table.")] = False) -> None:
    """List every installed check (built-in and plugins) with its summary."""
    from .registry import Registry

    try:
        registry = Registry.from_entry_points()
    except AuditorError as exc:
        _fail(str(exc))
        return
    if markdown:
        print("| check | code | what it finds |\n|---|---|---|")
        for plugin in registry:
            print(f"| `{plugin.id}` | {plugin.cls.code} | {plugin.cls.summary()} |")
        return
    width = max((len(p.id) for p in registry), default=0)
    for plugin in registry:
        origin = "" if plugin.dist == "dataset-auditor" else f"  [{plugin.dist} {plugin.version}]"
        print(f"{plugin.id:<{width}}  {plugin.cls.code}  {plugin.cls.summary()}{origin}")
    _warn_not_loaded(registry.broken.values())


def _warn_not_loaded(messages) -> None:
    from .render.visible import visible

    for message in messages:
        print(f"auditor: warning: {visible(message)[:300]}; skipped", file=sys.stderr)


@app.command()
def explain(check: Annotated[str, typer.Argument(help="A check id, e.g. near-duplicates.")]) -> None:
    """Print a check's documentation and its options with their defaults."""
    from .registry import Registry

    try:
        plugin = Registry.from_entry_points(selected=[check]).get(check)
    except AuditorError as exc:
        _fail(str(exc))
        return
    print(f"# {plugin.id} ({plugin.cls.code})\n")
    print(plugin.cls.doc())
    options = plugin.cls.option_table()
    print("\n## Options")
    if not options:
        print("None.")
    for row in options:
        choices = f" (one of: {', '.join(map(str, row['choices']))})" if row["choices"] else ""
        print(f"- `{row['name']}` ({row['type']}, default `{row['default']!r}`): {row['help']}{choices}")
    print(f"\nSet them under [tool.auditor.checks.{plugin.id}] or with -o {plugin.id}.NAME=VALUE.")


@app.command("infer-schema")
def infer_schema(
    train: Annotated[list[str], typer.Argument(help="Training JSONL file(s) whose targets are JSON objects.",
                                               show_default=False)],
    output: Annotated[str, typer.Option(help="Where to write the schema; '-' for stdout.")] = "-",
    format: Annotated[str | None, typer.Option("--format", help="Record format instead of auto-detection.")] = None,
    field: Annotated[list[str] | None, typer.Option(
        "--field", help="Map a field, e.g. --field prompt=question --field response=answer.")] = None,
    min_share: Annotated[float, typer.Option(help="Share of targets that makes a key expected or a type "
                                                  "dominant; targets of another shape are left out.")] = 0.9,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No notes on stderr.")] = False,
) -> None:
    """Draft a JSON Schema from the JSON training targets, to review and then pass as --schema."""
    import json

    from .config import parse_assignments
    from .infer_schema import infer_from_datasets
    from .input.dataset import load_dataset

    if not 0.5 < min_share <= 1:
        _fail("--min-share must be in (0.5, 1]")
    from .input.limits import default_max_memory

    stop_watch = _cap_memory(default_max_memory())
    try:
        fields = parse_assignments(field or [], "--field") or None
        datasets, first_row = [], 0
        for path in train:
            data = load_dataset(path, "train", first_row=first_row, fmt=format, fields=fields)
            first_row += data.lines
            datasets.append(data)
        inference = infer_from_datasets(datasets, min_share=min_share)
    except AuditorError as exc:
        _fail(str(exc))
        return
    finally:
        stop_watch()
    _refuse_overwrites([output], list(train))
    _write(output, json.dumps(inference.schema, indent=2, ensure_ascii=False) + "\n")
    if not quiet:
        print(f"auditor: schema drafted from {inference.used} of {inference.targets} valid targets; review it, "
              "then pass it as --schema", file=sys.stderr)
        for note in inference.notes:
            print(f"  {note}", file=sys.stderr)


@app.command("report")
def report_command(
    audit_json: Annotated[str, typer.Argument(metavar="AUDIT.json", help="A JSON report saved by "
                                              "`auditor audit --report json --output AUDIT.json`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="markdown (md), html, sarif, json or text.")],
    output: Annotated[str, typer.Option("--output", help="Where to write the report; '-' for stdout.")] = "-",
) -> None:
    """Re-render a saved JSON report in another format (the JSON report is the single source of truth)."""
    import json

    from .render import renderer

    try:
        render = renderer(format)
    except AuditorError as exc:
        _fail(str(exc))
        return
    try:
        with open(audit_json, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        _fail(f"{audit_json}: report not found")
        return
    except (OSError, UnicodeDecodeError) as exc:
        _fail(f"{audit_json}: cannot read report: {getattr(exc, 'strerror', None) or exc}")
        return
    except json.JSONDecodeError as exc:
        _fail(f"{audit_json}: not a JSON report: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    problem = _report_problem(data)
    if problem:
        _fail(f"{audit_json}: not an auditor JSON report: {problem}")
        return
    try:
        text = render(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        _fail(f"{audit_json}: invalid report: {type(exc).__name__}: {exc}")
        return
    _refuse_overwrites([output], [audit_json])
    _write(output, text)


def _report_problem(data: object) -> str | None:
    """The first way `data` departs from auditor/schemas/report.schema.json, or None."""
    import json
    from importlib.resources import files

    import jsonschema

    schema = json.loads(files("auditor").joinpath("schemas/report.schema.json").read_text(encoding="utf-8"))
    error = jsonschema.exceptions.best_match(jsonschema.Draft202012Validator(schema).iter_errors(data))
    if error is None:
        return None
    pointer = "/" + "/".join(map(str, error.absolute_path)) if error.absolute_path else "(root)"
    return f"at {pointer}: {error.message[:200]}"


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors become one line on stderr and exit code 2, never a traceback."""
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:  # bare `auditor`: show help, like --help
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        code = EXIT_USAGE
    except click_exceptions.UsageError as exc:
        print(f"auditor: error: {exc.format_message()}", file=sys.stderr)
        code = EXIT_USAGE
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        print("auditor: aborted", file=sys.stderr)
        code = 130
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except OSError as exc:  # the terminal or a pipe refused the output (a full disk, a closed device)
        with contextlib.suppress(OSError):
            print(f"auditor: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_USAGE
    try:
        sys.stdout.flush()
    except OSError:
        code = EXIT_USAGE
        with contextlib.suppress(OSError):
            print("auditor: error: cannot write the output", file=sys.stderr)
    sys.exit(code or 0)
