"""The commands around an audit: list and explain checks, draft a schema, re-render a saved report."""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from ..errors import AuditorError
from .app import app, fail, warn_not_loaded
from .audit import cap_memory
from .outputs import refuse_overwrites, write_output


@app.command("checks")
def list_checks(markdown: Annotated[bool, typer.Option("--markdown", help="As a Markdown table.")] = False) -> None:
    """List every installed check (built-in and plugins) with its summary."""
    from ..registry import Registry

    try:
        registry = Registry.from_entry_points()
    except AuditorError as exc:
        fail(str(exc))
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
    warn_not_loaded(registry.broken.values())


@app.command()
def explain(check: Annotated[str, typer.Argument(help="A check id, e.g. near-duplicates.")]) -> None:
    """Print a check's documentation and its options with their defaults."""
    from ..registry import Registry

    try:
        plugin = Registry.from_entry_points(selected=[check]).get(check)
    except AuditorError as exc:
        fail(str(exc))
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

    from ..config import parse_assignments
    from ..infer_schema import infer_from_datasets
    from ..input.dataset import load_dataset

    if not 0.5 < min_share <= 1:
        fail("--min-share must be in (0.5, 1]")
    from ..input.limits import default_max_memory

    stop_watch = cap_memory(default_max_memory())
    try:
        fields = parse_assignments(field or [], "--field") or None
        datasets, first_row = [], 0
        for path in train:
            data = load_dataset(path, "train", first_row=first_row, fmt=format, fields=fields)
            first_row += data.lines
            datasets.append(data)
        inference = infer_from_datasets(datasets, min_share=min_share)
    except AuditorError as exc:
        fail(str(exc))
        return
    finally:
        stop_watch()
    refuse_overwrites([output], list(train))
    write_output(output, json.dumps(inference.schema, indent=2, ensure_ascii=False) + "\n")
    if not quiet:
        print(f"auditor: schema drafted from {inference.used} of {inference.targets} valid targets; review it, "
              "then pass it as --schema", file=sys.stderr)
        for note in inference.notes:
            print(f"  {note}", file=sys.stderr)


@app.command("report")
def report_command(
    audit_json: Annotated[str, typer.Argument(metavar="AUDIT.json", help="A JSON report saved by "
                                              "`auditor audit --report json --output AUDIT.json`.")],
    format: Annotated[str, typer.Option("--format", "-f", help="markdown (md), html, sarif, json, full (text), "
                                                                 "concise, jsonl or github.")],
    output: Annotated[str, typer.Option("--output", help="Where to write the report; '-' for stdout.")] = "-",
    link_base: Annotated[str | None, typer.Option(
        help="Markdown: link each finding to its line under this URL [default: the commit, under GitHub "
             "Actions].")] = None,
    sarif_root: Annotated[str | None, typer.Option(
        help="SARIF: the folder URIs are relative to [default: the git top level].")] = None,
) -> None:
    """Re-render a saved JSON report in another format (the JSON report is the single source of truth)."""
    import json

    from .outputs import report_renderer

    try:
        render = report_renderer(format, link_base, sarif_root)
    except AuditorError as exc:
        fail(str(exc))
        return
    try:
        with open(audit_json, encoding="utf-8") as handle:
            data = json.load(handle)
    except FileNotFoundError:
        fail(f"{audit_json}: report not found")
        return
    except (OSError, UnicodeDecodeError) as exc:
        fail(f"{audit_json}: cannot read report: {getattr(exc, 'strerror', None) or exc}")
        return
    except json.JSONDecodeError as exc:
        fail(f"{audit_json}: not a JSON report: {exc.msg} at line {exc.lineno} column {exc.colno}")
        return
    problem = _report_problem(data)
    if problem:
        fail(f"{audit_json}: not an auditor JSON report: {problem}")
        return
    try:
        text = render(data)
    except (KeyError, TypeError, ValueError, AttributeError, IndexError) as exc:
        fail(f"{audit_json}: invalid report: {type(exc).__name__}: {exc}")
        return
    refuse_overwrites([output], [audit_json])
    write_output(output, text)


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
