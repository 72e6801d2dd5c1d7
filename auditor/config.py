"""[tool.auditor] in pyproject.toml or auditor.toml, found by walking up; validated, CLI values override.

Top-level keys: train, eval (paths or globs), input_format, schema, format, fields, min_examples, min_eval_examples,
select, ignore, max_findings, seed, task, decision, checks.<id>, and for the hook and the cache:
`fail_on` ("error" default, "warning", "never"), `fail_on_added` (findings on lines the commit adds or
changes: "warning" default), `gate` (true: NOT READY fails a hook run; default false in hook mode), `cache` (default true), `cache_dir` (default `.auditor_cache` next to this file).
Limits for untrusted data (auditor.limits): `max_line_bytes`, `max_expansion`, `max_memory`.
Where the heavy stages run: `engine` ("local" default, "ray"), `ray_address`, `workers`.

Several datasets in one repository are `[[datasets]]` tables (`[[tool.auditor.datasets]]` in
pyproject.toml). Each needs `train`; every other key overrides the top-level value for that dataset
(`checks` and `decision` are merged per key):

    [[datasets]]
    name = "support"                       # shown in the output; default: the first train path
    train = ["data/support/train-*.jsonl"] # paths or globs (**, *, ?), relative to the config file
    eval = "data/support/eval.jsonl"
    schema = "schemas/ticket.json"
    format = "chat"
    fields = {}                            # or prompt = "question", response = "answer"
    min_examples = 1000                    # also min_eval_examples, task, select, ignore, seed,
    checks.count = { min_per_label = 20 }  # max_findings, decision, fail_on, gate

`auditor audit` with no files audits every dataset (top-level train/eval count as one more, unnamed).
Files on the command line select the datasets they belong to (as train or eval: an edited eval file
re-checks its leakage against its train files). Files of no dataset are, in hook mode, each audited
alone; otherwise they are the training files of one audit with the top-level settings (and top-level
eval), as without datasets. With --eval on the command line, the files given are the whole audit.
"""

from __future__ import annotations

import glob
import os
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .input.limits import DEFAULT_MAX_EXPANSION, DEFAULT_MAX_LINE_BYTES, InputLimits, default_max_memory, parse_size
from .input.normalize import FORMATS
from .input.readers import INPUT_FORMATS
from .verdict import FAIL_ON

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DECISION_QUESTIONS = ("prompting_tried", "behaviour_gap", "task_stable")
TASKS = ("structured", "classification", "free-text")
ENGINES = ("local", "ray")

DATASET_KEYS = ("name", "train", "eval", "input_format", "schema", "format", "fields", "min_examples", "min_eval_examples",
                "select", "ignore", "max_findings", "seed", "task", "decision", "checks", "fail_on", "fail_on_added", "gate",
                "max_line_bytes", "max_expansion")


@dataclass(frozen=True)
class DatasetSpec:
    """One `[[datasets]]` table: its file patterns (relative to the working directory) and overrides."""

    name: str
    train: tuple[str, ...]
    eval: tuple[str, ...] = ()
    overrides: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class AuditConfig:
    """Every setting of an audit. Defaults here are the documented defaults."""

    train: tuple[str, ...] = ()
    eval: tuple[str, ...] = ()
    schema: str | None = None
    input_format: str | None = None  # jsonl, json, csv, tsv, parquet, arrow, hf; None: by extension and content
    format: str | None = None
    fields: dict[str, str] = field(default_factory=dict)
    min_examples: int = 500
    min_eval_examples: int = 50
    select: tuple[str, ...] = ()
    ignore: tuple[str, ...] = ()
    max_findings: int = 10_000
    seed: int = 1
    task: str | None = None
    decision: dict[str, bool] = field(default_factory=dict)
    checks: dict[str, dict[str, Any]] = field(default_factory=dict)
    datasets: tuple[DatasetSpec, ...] = ()
    cache: bool = True
    cache_dir: str | None = None
    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES  # longer lines are a finding, never held (0: no limit)
    max_expansion: int = DEFAULT_MAX_EXPANSION  # compressed inputs: largest decompressed/compressed ratio (0: none)
    max_memory: int | str | None = None  # the command's memory cap, bytes or "2GiB" (None: half the RAM; 0: none)
    fail_on: str = "error"  # hook mode: findings of this severity or worse fail the run
    fail_on_added: str = "warning"  # hook mode: the same for findings on lines the commit adds or changes
    gate: bool | None = None  # hook mode: does NOT READY fail the run (None: no)
    engine: str = "local"  # where the heavy stages run: local, or ray (the `ray` extra)
    ray_address: str | None = None  # --engine ray: the cluster to join (None: $RAY_ADDRESS, else a local Ray)
    workers: int | None = None  # --engine ray without a cluster: CPUs of the local Ray (None: every core)
    source: str | None = None  # the config file this came from, for messages

    def input_limits(self) -> InputLimits:
        return InputLimits(max_line_bytes=self.max_line_bytes or sys.maxsize, max_expansion=self.max_expansion)

    def memory_limit(self) -> int:
        """The command's memory cap in bytes (0: none)."""
        return default_max_memory() if self.max_memory is None else parse_size(self.max_memory, "max_memory")

    def with_overrides(self, **values: Any) -> AuditConfig:
        """CLI values win over the file; None means "not given on the command line"."""
        given = {k: v for k, v in values.items() if v is not None and v != () and v != {}}
        merged = replace(self, **given)
        validate(merged)
        return merged


_LIST_KEYS = {"train", "eval", "select", "ignore"}
_INT_KEYS = {"min_examples", "min_eval_examples", "max_findings", "seed", "max_line_bytes", "max_expansion"}


def find_config(start: str | os.PathLike[str] | None = None) -> Path | None:
    """The nearest auditor.toml, or pyproject.toml holding [tool.auditor], from `start` upwards."""
    here = Path(start or os.getcwd()).resolve()
    for folder in (here, *here.parents):
        candidate = folder / "auditor.toml"
        if candidate.is_file():
            return candidate
        pyproject = folder / "pyproject.toml"
        if pyproject.is_file() and "auditor" in _read_toml(pyproject).get("tool", {}):
            return pyproject
    return None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with open(path, "rb") as handle:
            return tomllib.load(handle)
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from None
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 text (byte {exc.start + 1})") from None
    except RecursionError:
        raise ConfigError(f"{path}: invalid TOML: nested too deeply") from None


def load_config(path: str | os.PathLike[str] | None = None, *, search: bool = True) -> AuditConfig:
    """Read and validate a config file (explicit path, or found by walking up); defaults when none."""
    found = Path(path) if path else (find_config() if search else None)
    if found is None:
        return AuditConfig()
    if not found.is_file():
        raise ConfigError(f"{found}: config file not found")
    data = _read_toml(found)
    if found.name == "pyproject.toml":
        data = data.get("tool", {}).get("auditor", {})
        prefix = "tool.auditor."
    else:
        prefix = ""
    return parse_config(data, source=str(found), prefix=prefix, base=found.parent)


def parse_config(data: dict[str, Any], *, source: str = "config", prefix: str = "",
                 base: Path | None = None) -> AuditConfig:
    known = {f.name for f in fields(AuditConfig)} - {"source"}
    values: dict[str, Any] = {}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(f"{source}: unknown key '{prefix}{key}' (known: {', '.join(sorted(known))})")
        if key in _LIST_KEYS:
            value = [value] if isinstance(value, str) else value
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{source}: '{prefix}{key}' must be a string or a list of strings")
            if key in ("train", "eval") and base is not None:
                value = [_relative(base, v) for v in value]
            value = tuple(value)
        elif key in ("schema", "cache_dir") and base is not None and isinstance(value, str):
            value = _relative(base, value)
        elif key == "datasets":
            value = _parse_datasets(value, source=source, prefix=prefix, base=base)
        values[key] = value
    config = AuditConfig(source=source, **values)
    validate(config, prefix=prefix, source=source)
    return config


def _parse_datasets(tables: Any, *, source: str, prefix: str, base: Path | None) -> tuple[DatasetSpec, ...]:
    if not isinstance(tables, list) or not all(isinstance(t, dict) for t in tables):
        raise ConfigError(f"{source}: '{prefix}datasets' must be an array of tables ([[{prefix}datasets]])")
    specs: list[DatasetSpec] = []
    for index, table in enumerate(tables, start=1):
        where = f"{prefix}datasets[{index}]."
        for key in table:
            if key not in DATASET_KEYS:
                raise ConfigError(f"{source}: unknown key '{where}{key}' (known: {', '.join(sorted(DATASET_KEYS))})")
        if not table.get("train"):
            raise ConfigError(f"{source}: '{where}train' is required (paths or globs of the training files)")
        values = {k: v for k, v in table.items() if k != "name"}
        parsed = parse_config(values, source=source, prefix=where, base=base)
        name = table.get("name", parsed.train[0])
        if not isinstance(name, str) or not name.strip():
            raise ConfigError(f"{source}: '{where}name' must be a non-empty string")
        if any(spec.name == name for spec in specs):
            raise ConfigError(f"{source}: two datasets are named '{name}'")
        overrides = {k: getattr(parsed, k) for k in values if k not in ("train", "eval")}
        specs.append(DatasetSpec(name, parsed.train, parsed.eval, overrides))
    return tuple(specs)


def _relative(base: Path, value: str) -> str:
    """Paths in a config file are relative to that file; shown relative to the working directory."""
    path = Path(value) if os.path.isabs(value) else base / value
    try:
        return os.path.relpath(path)
    except ValueError:  # another drive on Windows
        return str(path)


def validate(config: AuditConfig, *, prefix: str = "", source: str | None = None) -> None:
    where = f"{source or config.source or 'config'}: " if (source or config.source) else ""
    for key in _INT_KEYS:
        value = getattr(config, key)
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise ConfigError(f"{where}'{prefix}{key}' must be a whole number >= 0, got {value!r}")
    if config.format is not None and config.format not in FORMATS:
        raise ConfigError(f"{where}'{prefix}format' must be one of {', '.join(FORMATS)}, got {config.format!r}")
    if config.input_format is not None and config.input_format not in INPUT_FORMATS:
        raise ConfigError(f"{where}'{prefix}input_format' must be one of {', '.join(INPUT_FORMATS)}, "
                          f"got {config.input_format!r}")
    if config.task is not None and config.task not in TASKS:
        raise ConfigError(f"{where}'{prefix}task' must be one of {', '.join(TASKS)}, got {config.task!r}")
    if config.schema is not None and not isinstance(config.schema, str):
        raise ConfigError(f"{where}'{prefix}schema' must be a path")
    if not isinstance(config.fields, dict) or not all(isinstance(v, str) for v in config.fields.values()):
        raise ConfigError(f"{where}'{prefix}fields' must be a table of strings, e.g. prompt = \"question\"")
    if not isinstance(config.decision, dict):
        raise ConfigError(f"{where}'{prefix}decision' must be a table, e.g. [{prefix}decision] prompting_tried = true")
    for key, value in config.decision.items():
        if key not in DECISION_QUESTIONS:
            raise ConfigError(f"{where}unknown key '{prefix}decision.{key}' (known: {', '.join(DECISION_QUESTIONS)})")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}'{prefix}decision.{key}' must be true or false")
    if not isinstance(config.checks, dict) or not all(isinstance(v, dict) for v in config.checks.values()):
        raise ConfigError(f"{where}'{prefix}checks' must hold one table per check, e.g. [{prefix}checks.count]")
    if not isinstance(config.cache, bool):
        raise ConfigError(f"{where}'{prefix}cache' must be true or false")
    if config.cache_dir is not None and not isinstance(config.cache_dir, str):
        raise ConfigError(f"{where}'{prefix}cache_dir' must be a path")
    if config.fail_on not in FAIL_ON:
        raise ConfigError(f"{where}'{prefix}fail_on' must be one of {', '.join(FAIL_ON)}, got {config.fail_on!r}")
    if config.fail_on_added not in FAIL_ON:
        raise ConfigError(f"{where}'{prefix}fail_on_added' must be one of {', '.join(FAIL_ON)}, "
                          f"got {config.fail_on_added!r}")
    if config.gate is not None and not isinstance(config.gate, bool):
        raise ConfigError(f"{where}'{prefix}gate' must be true or false")
    if config.engine not in ENGINES:
        raise ConfigError(f"{where}'{prefix}engine' must be one of {', '.join(ENGINES)}, got {config.engine!r}")
    if config.ray_address is not None and not isinstance(config.ray_address, str):
        raise ConfigError(f"{where}'{prefix}ray_address' must be a string, e.g. \"ray://head:10001\"")
    if config.workers is not None and (isinstance(config.workers, bool) or not isinstance(config.workers, int)
                                       or config.workers < 1):
        raise ConfigError(f"{where}'{prefix}workers' must be a whole number >= 1, got {config.workers!r}")
    if config.max_memory is not None:
        try:
            parse_size(config.max_memory, f"{prefix}max_memory")
        except ConfigError as exc:
            raise ConfigError(f"{where}{exc}") from None


def parse_assignments(pairs: list[str], what: str) -> dict[str, str]:
    """`key=value` strings from the command line (--field, --option)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} must look like key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out


@dataclass(frozen=True)
class PlannedAudit:
    """One audit to run: a configured dataset (`name`) or a file audited alone (`name` None)."""

    name: str | None
    config: AuditConfig


def expand(patterns: Sequence[str], keep_unmatched: bool = True) -> tuple[str, ...]:
    """Paths and globs -> files, sorted per pattern, each once. A name that exists is itself even when
    it holds glob characters (`data[1].jsonl`); a glob that matches no file is kept as it was
    written, as a shell does, so loading says "file not found" rather than auditing nothing (with
    `keep_unmatched` False it is dropped: a config then says which pattern matched no file)."""
    out: dict[str, None] = {}
    for pattern in patterns:
        matches = []
        if glob.has_magic(pattern) and not os.path.lexists(pattern):
            matches = [m for m in sorted(glob.glob(pattern, recursive=True)) if os.path.isfile(m)]
        for path in matches or ([pattern] if keep_unmatched or not glob.has_magic(pattern) else []):
            out.setdefault(path, None)
    return tuple(out)


def dataset_config(config: AuditConfig, spec: DatasetSpec) -> AuditConfig:
    """The settings of one configured dataset: its files, its overrides over the top level."""
    values = dict(spec.overrides)
    checks = {k: dict(v) for k, v in config.checks.items()}
    for check_id, options in values.pop("checks", {}).items():
        checks.setdefault(check_id, {}).update(options)
    decision = {**config.decision, **values.pop("decision", {})}
    train = expand(spec.train, keep_unmatched=False)
    if not train:
        what = f"dataset '{spec.name}'" if spec.name else "top level"
        raise ConfigError(f"{config.source or 'config'}: {what}: no file matches train = {list(spec.train)}")
    return replace(config, datasets=(), train=train, eval=expand(spec.eval), checks=checks,
                   decision=decision, **values)


# files that hold settings, never data: in a hook, a commit touching one re-audits every dataset
SETTINGS_NAMES = frozenset({"auditor.toml", "pyproject.toml", "auditor-waivers.toml", "auditor-baseline.json"})


def plan_audits(config: AuditConfig, files: Sequence[str] = (), *, hook: bool = False) -> list[PlannedAudit]:
    """Which audits `auditor audit FILES...` runs under this config (see the module docstring).

    FILES select the configured datasets they belong to (a dataset's schema and the config file select
    it too); the files of none are, in hook mode, each audited alone, otherwise the training files of one audit with the top-level eval (the behaviour
    without datasets). No FILES: every configured dataset.
    """
    specs = list(config.datasets)
    if config.train:  # top-level train/eval: one more dataset, unnamed
        specs.insert(0, DatasetSpec("", config.train, config.eval))
    base = replace(config, datasets=(), train=(), eval=())
    resolved = [(spec, dataset_config(base, spec)) for spec in specs]
    if not files:
        if not resolved:
            return [PlannedAudit(None, replace(base, eval=config.eval))]
        return [PlannedAudit(spec.name or None, cfg) for spec, cfg in resolved]
    files = expand(files)  # a quoted glob names its files
    # a dataset's files, its schema, and the config file that describes it: editing any re-audits it
    settings_files = {os.path.realpath(config.source)} if config.source else set()
    members = [{os.path.realpath(p) for p in (*cfg.train, *cfg.eval, *((cfg.schema,) if cfg.schema else ()))}
               | settings_files for _, cfg in resolved]
    selected: set[int] = set()
    alone: dict[str, None] = {}
    for path in files:
        hits = {i for i, paths in enumerate(members) if os.path.realpath(path) in paths}
        selected |= hits
        if os.path.basename(path) in SETTINGS_NAMES:  # a config or waivers file: every dataset, never data
            selected |= set(range(len(resolved)))
        elif not hits and os.path.realpath(path) not in settings_files:
            alone.setdefault(path, None)
    plans = [PlannedAudit(spec.name or None, cfg) for i, (spec, cfg) in enumerate(resolved) if i in selected]
    if hook:
        plans += [PlannedAudit(None, replace(base, train=(path,))) for path in alone]
    elif alone:
        plans.append(PlannedAudit(None, replace(base, train=tuple(alone), eval=config.eval)))
    return plans
