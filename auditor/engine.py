"""audit(config) -> report: load, normalize, run the checks, decide. The report dict is the JSON report."""

from __future__ import annotations

import functools
import json
import os
from collections.abc import Mapping, Sequence, Set
from typing import Any

from .check import convert_value
from .config import AuditConfig
from .context import AuditContext, Settings
from .errors import AuditorError, CheckLoadError, ConfigError
from .fingerprints import fingerprint_findings
from .input.dataset import Dataset, load_input, load_table
from .input.issues import FORMAT_ERROR, FORMAT_WARNING
from .progress import NoProgress
from .registry import Plugin, Registry
from .results import (
    CheckResult,
    Finding,
    Location,
    Severity,
    Status,
    merge_repeated,
    result_problem,
    status_from_findings,
    union_rows,
)
from .verdict import decide
from .workers import workers
from .version import __version__

SCHEMA_VERSION = 1
INPUT_CHECK = "input"
# Line problems reported by the `format` check; every other line issue is the engine's own `input` result.
FORMAT_CODES = {FORMAT_ERROR, FORMAT_WARNING}


def audit(config: AuditConfig, *, registry: Registry | None = None, progress: Any = None,
          cache: Any = None, tables: Mapping[str, Any] | None = None,
          schema: dict[str, Any] | None = None, loaded: Mapping[str, Dataset] | None = None) -> dict[str, Any]:
    """Run a whole audit and return the report (see auditor/schemas/report.schema.json).

    `cache` (an auditor.store.Cache, or None for none) serves unchanged files and their per-file
    artefacts from earlier runs; the report is the same with or without it.

    `tables` names in-memory inputs: a name in `config.train` or `config.eval` that is a key is read
    from its table (a polars DataFrame or a list of records), not from a file. `schema` is a JSON
    Schema document to use instead of reading `config.schema`. `loaded` holds inputs already read
    (a `Dataset` by path, read with the same settings), used instead of reading them again.

    Raises:
        AuditorError: bad configuration or an unreadable input; nothing was audited.
    """
    progress = progress or NoProgress()
    if not config.train:
        raise ConfigError("no training file: pass TRAIN.jsonl or set 'train' in [tool.auditor]")
    if cache is None and not tables and not loaded:
        from .input.dataset import warm_parsers

        warm_parsers([*config.train, *config.eval])  # their start overlaps with loading the checks
    if registry is None:
        registry = Registry.from_entry_points(config.select, config.ignore)
    checks = _instantiate(registry, config)
    not_loaded = sorted(registry.broken.values())
    if schema is not None:
        schema = checked_schema(schema, "schema")
    elif config.schema:
        schema = load_schema(config.schema)
    tables = dict(tables or {})
    from .store import reports

    # an in-memory table has no content digest ahead of reading: its whole report is never stored
    cached_reports = cache is not None and not tables and not loaded
    files_read = sorted({path for _, check in checks for path in check.files_read()})
    report_key = (reports.report_key(cache, config, [p for p, _ in checks], schema, files_read)
                  if cached_reports else None)
    if report_key is not None:
        cached = reports.get_report(cache, report_key)
        if cached is not None:
            return cached
    try:
        report = _audit(config, checks, schema, progress, cache, not_loaded, tables, dict(loaded or {}))
    finally:
        if cache is not None:
            cache.flush()
    if report_key is not None:
        reports.put_report(cache, report_key, report)
    return report


def _audit(config: AuditConfig, checks: list[tuple[Plugin, Any]], schema: dict[str, Any] | None,
           progress: Any, cache: Any, not_loaded: list[str], tables: dict[str, Any],
           loaded: dict[str, Dataset]) -> dict[str, Any]:
    import tempfile

    engine = start_engine(config)
    # inputs that are not JSONL files are read as JSONL spools, which checks may read again until the end
    try:
        with tempfile.TemporaryDirectory(prefix="auditor-inputs-") as spool_dir:
            return _audit_inputs(config, checks, schema, progress, cache, not_loaded, spool_dir, tables, loaded,
                                 engine)
    finally:
        if engine is not None:
            engine.close()


def start_engine(config: AuditConfig) -> Any:
    """The engine of the heavy stages: None for the local one, else a started `auditor.engines` engine."""
    if config.engine == "local":
        return None
    from .engines import ray_data

    if not ray_data.available():
        raise ConfigError("--engine ray needs Ray Data: pip install 'dataset-auditor[ray]'")
    try:
        return ray_data.RayEngine(config.ray_address, config.workers)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(f"--engine ray: cannot start or join Ray ({first})") from None


def _audit_inputs(config: AuditConfig, checks: list[tuple[Plugin, Any]], schema: dict[str, Any] | None,
                  progress: Any, cache: Any, not_loaded: list[str], spool_dir: str,
                  tables: dict[str, Any], loaded: dict[str, Dataset], engine: Any = None) -> dict[str, Any]:
    before = (cache.hits, cache.misses) if cache is not None else (0, 0)
    datasets = _load_all(config, progress, cache, spool_dir, tables, loaded)
    # the input's blocks were served by the cache (an unchanged or edited re-run): see run_checks
    cached = cache is not None and cache.hits - before[0] > 4 * (cache.misses - before[1])
    settings = Settings(seed=config.seed, max_findings=config.max_findings, task=config.task)
    ctx = AuditContext(datasets, settings, schema, _cache=cache, _engine=engine)

    # invalid records leave the clean set whichever checks run: their findings are always reported
    reported = any("record-validity" in plugin.cls.provides for plugin, _ in checks)
    results = [_input_result(datasets, config.max_findings, with_format=not reported)]
    threads = 2 if engine is None and cached and workers() > 1 else 1
    ran = run_checks(checks, ctx, config.max_findings, progress, threads=threads)
    results += [ran[index] for index in range(len(checks))]  # reported in the registry's order
    fingerprint_findings(ctx, results)
    verdict = decide(ctx, results, min_examples=config.min_examples,
                     min_eval_examples=config.min_eval_examples, decision=config.decision)
    return {
        "schema_version": SCHEMA_VERSION,
        "tool": {"name": "dataset-auditor", "version": __version__},
        "inputs": [_input_info(d) for d in datasets],
        "settings": {"min_examples": config.min_examples, "min_eval_examples": config.min_eval_examples,
                     "seed": config.seed, "task": config.task,
                     "schema": config.schema or ("<schema>" if schema is not None else None),
                     "format": config.format, "fields": dict(config.fields),
                     "checks": [p.id for p, _ in checks], "checks_not_loaded": not_loaded,
                     "config_file": config.source},
        "verdict": verdict,
        "checks": {p.id: _check_info(p, check) for p, check in checks},
        "results": [r.to_dict(lambda rows: _lines_of(rows, datasets)) for r in results],
    }


def run_checks(checks: list[tuple[Plugin, Any]], ctx: AuditContext, max_findings: int, progress: Any = None, *,
               threads: int = 1) -> dict[int, CheckResult]:
    """Each check's result by its index in `checks`, the checks run in `run_order`, on `threads` threads.

    Two threads when the cache served the input: the checks then mostly read back what earlier runs
    built and join it, light work, much of it in one thread of Python; two at a time keep both cores
    busy (an edited re-run of 100,000 rows: ~0.2 s less). A cold run stays on one: its heavy stages
    already use every core, and two checks at once would only hold two checks' artefacts at once.
    The results are the same either way: every artefact is built once (`AuditContext.shared`) and
    each check reads only its own and the audit's.
    """
    progress = progress or NoProgress()
    declared = [check.artefacts() for _, check in checks]
    order = run_order(declared)
    known = all(uses is not None for uses in declared)
    ran: dict[int, CheckResult] = {}

    def needed_by(indexes: list[int]) -> frozenset[str]:
        return frozenset().union(*(declared[i] for i in indexes)) if known else frozenset()

    if threads <= 1 or len(checks) < 2:
        for at, index in enumerate(order):
            plugin, check = checks[index]
            ctx.planned = needed_by(order[at:])
            with progress.task(f"check {plugin.id}") as advance:
                ran[index] = _run_check(plugin, check, ctx, max_findings)
                advance(1)
            if known:  # free what no check still to run reads
                ctx.release(needed_by(order[at + 1:]))
        return ran

    from concurrent.futures import FIRST_COMPLETED, ThreadPoolExecutor, wait

    # Every declaration stays planned: whichever check asks first for an artefact that checks plan
    # together (see similarity.banding) builds what the first of them in `order` would have built.
    ctx.planned = needed_by(order)
    unfinished = list(order)
    with progress.task("checks", total=len(checks)) as advance, \
            ThreadPoolExecutor(threads, thread_name_prefix="auditor-check") as pool:
        running = {pool.submit(_run_check, *checks[index], ctx, max_findings): index for index in order}
        try:
            while running:
                done, _ = wait(running, return_when=FIRST_COMPLETED)
                for future in sorted(done, key=lambda f: order.index(running[f])):
                    index = running.pop(future)
                    ran[index] = future.result()  # an AuditorError ends the audit, as on one thread
                    unfinished.remove(index)
                    advance(1)
                if known:
                    ctx.release(needed_by(unfinished))
        except BaseException:
            for future in running:
                future.cancel()  # the checks not started yet never start
            raise
    return ran


def _lines_of(rows: Set[int], datasets: Sequence[Dataset]) -> dict[str, list[int]]:
    """Row ids -> the lines they are, by input path (the ones holding any), each list in order."""
    import numpy as np

    ordered = union_rows([rows])
    out: dict[str, list[int]] = {}
    for data in datasets:
        start, end = np.searchsorted(ordered, [data.first_row, data.first_row + data.lines])
        if end > start:
            out[data.path] = (ordered[start:end] - (data.first_row - 1)).tolist()
    return out


def load_schema(path: str) -> dict[str, Any]:
    """Read a JSON Schema file and check it against its own draft's metaschema (2020-12 by default)."""
    try:
        with open(path, "rb") as handle:
            schema = json.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: schema file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read schema: {exc}") from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"{path}: schema is not valid JSON: {exc.msg} at line {exc.lineno} column {exc.colno}") from None
    return checked_schema(schema, path)


def checked_schema(schema: Any, name: str) -> dict[str, Any]:
    """`schema` when it is a valid JSON Schema of its draft (2020-12 by default), else a ConfigError
    that names it and the place where it breaks the metaschema."""
    import jsonschema
    from jsonschema.validators import validator_for

    if not isinstance(schema, (dict, bool)):
        raise ConfigError(f"{name}: a JSON Schema must be an object")
    validator = validator_for(schema, default=jsonschema.Draft202012Validator)
    try:
        validator.check_schema(schema)
    except jsonschema.SchemaError as exc:
        pointer = "/" + "/".join(map(str, exc.absolute_path)) if exc.absolute_path else "(root)"
        raise ConfigError(f"{name}: invalid JSON Schema at {pointer}: {exc.message}") from None
    return schema


def checks_providing(config: AuditConfig, role: str) -> list[Any]:
    """The checks of an audit (its selection, with its options) that declare `role` (see auditor.check.ROLES)."""
    registry = Registry.from_entry_points(config.select, config.ignore)
    return [check for plugin, check in _instantiate(registry, config) if role in plugin.cls.provides]


def _instantiate(registry: Registry, config: AuditConfig) -> list[tuple[Plugin, Any]]:
    unknown = sorted(set(config.checks) - set(_all_known(registry, config)))
    if unknown:
        from .registry import did_you_mean

        raise ConfigError(f"unknown check '{unknown[0]}' in checks configuration"
                          f"{did_you_mean(unknown[0], _all_known(registry, config))}")
    out = []
    for plugin in registry:
        values = dict(config.checks.get(plugin.id, {}))
        blocking = values.pop("blocking", None)
        if blocking is not None:
            try:
                blocking = convert_value(blocking, bool)
            except ValueError:
                raise ConfigError(f"'blocking' of check '{plugin.id}' must be true or false, got {blocking!r}") from None
        check = plugin.cls(plugin.cls.make_options(values))
        if blocking is not None:
            check.blocking = blocking
        out.append((plugin, check))
    return out


def _all_known(registry: Registry, config: AuditConfig) -> list[str]:
    # Options of a check that --ignore removed are still legitimate config, not typos.
    return [*registry.plugins, *registry.broken, *config.ignore]


def _load_all(config: AuditConfig, progress: Any, cache: Any = None, spool_dir: str | None = None,
              tables: Mapping[str, Any] | None = None, loaded: Mapping[str, Dataset] | None = None) -> list[Dataset]:
    datasets: list[Dataset] = []
    first_row = 0
    inputs = [(p, "train") for p in config.train] + [(p, "eval") for p in config.eval]
    seen: dict[str, str] = {}
    for path, split in inputs:
        # One file twice would be read as two files that leak into each other row for row.
        key = path if tables and path in tables else os.path.realpath(path)
        if key in seen:
            twice = "twice" if seen[key] == split else f"as {seen[key]} and as {split}"
            raise ConfigError(f"{path}: the same file is given {twice}; pass each file once")
        seen[key] = split
    for path, split in inputs:
        # with a cache, unchanged blocks of lines come from it and only edited ones are parsed again
        with progress.task(f"load {path}") as advance:
            load = dict(first_row=first_row, fmt=config.format, fields=config.fields or None, progress=advance,
                        cache=cache, limits=config.input_limits())
            if loaded and path in loaded and loaded[path].split == split and loaded[path].first_row == first_row:
                data = loaded[path]
            elif tables and path in tables:
                data = load_table(path, split, tables[path], spool_dir=spool_dir or _scratch(), **load)
            else:
                data = load_input(path, split, spool_dir=spool_dir or _scratch(), input_format=config.input_format,
                                  **load)
        first_row += data.lines
        datasets.append(data)
    return datasets


def _scratch() -> str:
    """A spool directory for a caller of `_load_all` without one (tests, benchmarks): removed at exit."""
    import atexit
    import shutil
    import tempfile

    folder = tempfile.mkdtemp(prefix="auditor-inputs-")
    atexit.register(shutil.rmtree, folder, True)
    return folder


def run_order(declared: list[frozenset[str] | None]) -> list[int]:
    """The order to run the checks in (indexes into `declared`, their `Check.artefacts()`): each next
    check is the one sharing the most artefact families with those run so far, ties in the registry's
    order, so the users of one artefact run one after another and it is freed sooner. A check that
    declares nothing keeps the registry's order for everything (its needs are unknown)."""
    if any(uses is None for uses in declared):
        return list(range(len(declared)))
    order, left, seen = [], list(range(len(declared))), set()
    while left:
        best = max(left, key=lambda i: (len(seen & declared[i]), -i))
        order.append(best)
        left.remove(best)
        seen |= declared[best]
    return order


def _run_check(plugin: Plugin, check: Any, ctx: AuditContext, max_findings: int) -> CheckResult:
    missing = sorted(need for need in plugin.cls.requires if not _available(need, ctx))
    if missing:
        result = CheckResult(check=plugin.id, code=plugin.cls.code, status=Status.SKIPPED,
                             summary=f"skipped: needs {', '.join(_NEEDS.get(m, m) for m in missing)}",
                             blocking=check.blocking)
    else:
        try:
            result = check.run(ctx)
            if not isinstance(result, CheckResult):
                raise TypeError(f"run() returned {type(result).__name__}, not CheckResult")
            result = _cap(result, max_findings)  # validated as it will be reported
            problem = result_problem(result, {d.path: d.lines for d in ctx.datasets}, ctx.frame.height)
            if problem is not None:
                raise TypeError(f"run() returned a result that cannot be reported: {problem}")
        except AuditorError:
            raise
        except Exception as exc:  # a failing check is reported, the others still run
            result = CheckResult(check=plugin.id, code=plugin.cls.code, status=Status.ERROR,
                                 summary="the check failed", error=f"{type(exc).__name__}: {exc}",
                                 blocking=check.blocking)
    result.title = plugin.cls.summary()
    result.provides = frozenset(plugin.cls.provides)
    result.plugin = plugin.dist
    return result  # capped above; a skipped or failed result has no findings


_NEEDS = {"eval": "an eval file (--eval)", "schema": "a JSON Schema (--schema)", "label": "labelled data"}


def _available(need: str, ctx: AuditContext) -> bool:
    if need == "eval":
        return ctx.has_eval
    if need == "schema":
        return ctx.schema is not None
    if need == "label":
        return ctx.label_task()
    raise CheckLoadError(f"unknown requirement '{need}'")


def _cap(result: CheckResult, max_findings: int) -> CheckResult:
    result.findings = sorted(result.findings, key=Finding.sort_key)
    if max_findings and len(result.findings) > max_findings:
        result.findings_omitted += len(result.findings) - max_findings
        result.findings = result.findings[:max_findings]
    return result


def _input_result(datasets: Sequence[Dataset], max_findings: int, *, with_format: bool = False) -> CheckResult:
    """The engine's own findings: lines that could not be read as records at all and, `with_format`
    (no check reports them), records invalid for their format."""
    def findings_of(codes_wanted: bool) -> list[Finding]:
        return [Finding(check=INPUT_CHECK, code=issue.code, severity=issue.severity, message=issue.message,
                        location=Location(d.path, issue.line), split=d.split)
                for d in datasets for issue in d.issues if (issue.code in FORMAT_CODES) == codes_wanted]

    findings = findings_of(False)
    unusable = sum(1 for f in findings if f.code != "AUD003")
    lines = sum(d.lines for d in datasets)
    summary = f"{unusable} of {lines:,} lines could not be read as records" if unusable else f"all {lines:,} lines read"
    metrics = {"lines": lines, "unreadable_lines": unusable}
    if with_format:
        invalid = findings_of(True)
        broken = len({(f.location.path, f.location.line) for f in invalid if f.severity is Severity.ERROR})
        findings += merge_repeated(invalid)
        metrics["invalid_records"] = broken
        if broken:
            summary += f"; {broken:,} records break their format"
    result = CheckResult(check=INPUT_CHECK, code="AUD001", status=status_from_findings(findings),
                         summary=summary, metrics=metrics,
                         findings=findings, title="Every input line is a readable JSON record", plugin="dataset-auditor")
    return _cap(result, max_findings)


def _input_info(data: Dataset) -> dict[str, Any]:
    import polars as pl

    info = {"path": data.path, "split": data.split, "format": data.format, "formats": data.formats,
            "lines": data.lines, "valid": data.frame.select(pl.col("valid").sum()).item(),
            "sha256": data.sha256}
    if data.unit != "line":
        info |= {"input_format": data.kind, "unit": data.unit}
    info["invalid_lines"] = data.frame.filter(~pl.col("valid"))["line"].to_list()
    return info


def _distribution_docs(dist: str | None, check_id: str) -> str | None:
    """The documentation page a check's distribution declares, at the check's anchor, or None."""
    page = _documentation_page(dist) if dist else None
    return f"{page}#{check_id}" if page else None


@functools.cache
def _documentation_page(dist: str) -> str | None:
    """The documentation (else home) page a distribution declares; read once per distribution, not per check."""
    from importlib.metadata import PackageNotFoundError, metadata

    try:
        urls = metadata(dist).get_all("Project-URL") or []
    except PackageNotFoundError:
        return None
    declared = {}
    for entry in urls:
        label, _, url = str(entry).partition(",")
        declared[label.strip().lower()] = url.strip()
    for label in ("documentation", "docs", "homepage", "home"):
        url = declared.get(label, "")
        if url.startswith(("https://", "http://")):
            return url.split("#")[0]
    return None


def _check_info(plugin: Plugin, check: Any) -> dict[str, Any]:
    return {"title": plugin.cls.summary(), "code": plugin.cls.code, "doc": plugin.cls.doc(),
            "docs_url": plugin.cls.docs_url or _distribution_docs(plugin.dist, plugin.id),
            "plugin": plugin.dist, "version": plugin.version, "blocking": check.blocking,
            "provides": sorted(plugin.cls.provides),
            "options": plugin.cls.option_table()}
