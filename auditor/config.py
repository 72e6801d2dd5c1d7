"""[tool.auditor] in pyproject.toml or auditor.toml, found by walking up; validated, CLI values override."""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError
from .normalize import FORMATS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

DECISION_QUESTIONS = ("prompting_tried", "behaviour_gap", "task_stable")
TASKS = ("structured", "classification", "free-text")


@dataclass(frozen=True)
class AuditConfig:
    """Every setting of an audit. Defaults here are the documented defaults."""

    train: tuple[str, ...] = ()
    eval: tuple[str, ...] = ()
    schema: str | None = None
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
    source: str | None = None  # the config file this came from, for messages

    def with_overrides(self, **values: Any) -> AuditConfig:
        """CLI values win over the file; None means "not given on the command line"."""
        given = {k: v for k, v in values.items() if v is not None and v != () and v != {}}
        merged = replace(self, **given)
        validate(merged)
        return merged


_LIST_KEYS = {"train", "eval", "select", "ignore"}
_INT_KEYS = {"min_examples", "min_eval_examples", "max_findings", "seed"}


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
        elif key == "schema" and base is not None and isinstance(value, str):
            value = _relative(base, value)
        values[key] = value
    config = AuditConfig(source=source, **values)
    validate(config, prefix=prefix, source=source)
    return config


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
    if config.task is not None and config.task not in TASKS:
        raise ConfigError(f"{where}'{prefix}task' must be one of {', '.join(TASKS)}, got {config.task!r}")
    if config.schema is not None and not isinstance(config.schema, str):
        raise ConfigError(f"{where}'{prefix}schema' must be a path")
    if not isinstance(config.fields, dict) or not all(isinstance(v, str) for v in config.fields.values()):
        raise ConfigError(f"{where}'{prefix}fields' must be a table of strings, e.g. prompt = \"question\"")
    for key, value in config.decision.items():
        if key not in DECISION_QUESTIONS:
            raise ConfigError(f"{where}unknown key '{prefix}decision.{key}' (known: {', '.join(DECISION_QUESTIONS)})")
        if not isinstance(value, bool):
            raise ConfigError(f"{where}'{prefix}decision.{key}' must be true or false")
    if not isinstance(config.checks, dict) or not all(isinstance(v, dict) for v in config.checks.values()):
        raise ConfigError(f"{where}'{prefix}checks' must hold one table per check, e.g. [{prefix}checks.count]")


def parse_assignments(pairs: list[str], what: str) -> dict[str, str]:
    """`key=value` strings from the command line (--field, --option)."""
    out: dict[str, str] = {}
    for pair in pairs:
        key, sep, value = pair.partition("=")
        if not sep or not key.strip():
            raise ConfigError(f"{what} must look like key=value, got {pair!r}")
        out[key.strip()] = value.strip()
    return out
