"""The one extension point: a Check subclass, its Options dataclass, and helpers to build results."""

from __future__ import annotations

import dataclasses
import inspect
import re
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import ConfigError
from .results import CheckResult, Finding, Location, Severity, Status, status_from_findings

_CODE = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


@dataclass(frozen=True)
class NoOptions:
    """A check without options."""


def option(default: Any, help: str, choices: Sequence[Any] | None = None) -> Any:
    """Declare an option field: its default, a one-line help (shown by `auditor explain`) and choices."""
    factory = (lambda: list(default)) if isinstance(default, list) else None
    metadata = {"help": help, "choices": tuple(choices) if choices else None}
    if factory:
        return dataclasses.field(default_factory=factory, metadata=metadata)
    return dataclasses.field(default=default, metadata=metadata)


class Check:
    """Base class of every check, built-in or plugin.

    Subclasses set `id` (kebab-case, equal to the entry point name), `code` (finding code such as
    `DUP001`), a Markdown docstring (summary line, `## What it does`, `## Why is this bad?`,
    `## Example`), optionally an `Options` frozen dataclass built with `option(...)`, and `run`.
    """

    id: ClassVar[str]
    code: ClassVar[str]
    blocking: ClassVar[bool] = True
    # Inputs the check needs: "eval" (an eval file), "schema" (a JSON Schema), "label" (class labels).
    requires: ClassVar[frozenset[str]] = frozenset()
    Options: ClassVar[type] = NoOptions

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "id" not in cls.__dict__:
            return
        if not _ID.match(cls.id):
            raise TypeError(f"{cls.__name__}.id {cls.id!r} must be kebab-case")
        if not _CODE.match(getattr(cls, "code", "")):
            raise TypeError(f"{cls.__name__}.code must look like ABC001")

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def run(self, ctx: Any) -> CheckResult:  # ctx: auditor.context.AuditContext
        raise NotImplementedError

    # -- documentation -------------------------------------------------------------------------
    @classmethod
    def doc(cls) -> str:
        return inspect.cleandoc(cls.__doc__ or "")

    @classmethod
    def summary(cls) -> str:
        return cls.doc().split("\n", 1)[0].strip()

    @classmethod
    def option_table(cls) -> list[dict[str, Any]]:
        """name, type, default, help and choices of every option, for `explain` and the reports."""
        rows = []
        hints = typing.get_type_hints(cls.Options)
        for f in dataclasses.fields(cls.Options):
            default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
            hint = hints.get(f.name, type(default))
            rows.append({"name": f.name, "type": getattr(hint, "__name__", str(hint)).replace("typing.", ""),
                         "default": default, "help": f.metadata.get("help", ""),
                         "choices": list(f.metadata.get("choices") or [])})
        return rows

    # -- options -------------------------------------------------------------------------------
    @classmethod
    def make_options(cls, values: Mapping[str, Any]) -> Any:
        """Options from config or CLI values (strings are converted); unknown names are a ConfigError."""
        known = {f.name: f for f in dataclasses.fields(cls.Options)}
        hints = typing.get_type_hints(cls.Options)
        converted = {}
        for name, value in values.items():
            key = name.replace("-", "_")
            if key not in known:
                valid = ", ".join(sorted(known)) or "none"
                raise ConfigError(f"check '{cls.id}' has no option '{name}' (options: {valid})")
            converted[key] = _convert(cls.id, key, value, hints.get(key), known[key])
        try:
            return cls.Options(**converted)
        except (TypeError, ValueError) as exc:  # range checks in an Options __post_init__
            raise ConfigError(f"check '{cls.id}': {exc}") from None

    # -- building results ----------------------------------------------------------------------
    def finding(self, message: str, *, source: str, line: int | None, split: str | None = None,
                severity: Severity = Severity.ERROR, related: Iterable[tuple[str, int]] = (),
                code: str | None = None, **data: Any) -> Finding:
        return Finding(
            check=self.id, code=code or self.code, severity=severity, message=message,
            location=Location(source, line), split=split,
            related=tuple(Location(path, ln) for path, ln in related), data=data,
        )

    def result(self, findings: Iterable[Finding] = (), *, summary: str = "",
               metrics: Mapping[str, Any] | None = None, excluded: Iterable[int] = (),
               status: Status | None = None) -> CheckResult:
        findings = sorted(findings, key=Finding.sort_key)
        return CheckResult(
            check=self.id, code=self.code,
            status=status or status_from_findings(findings), summary=summary,
            metrics=dict(metrics or {}), findings=findings, excluded=frozenset(excluded),
            blocking=self.blocking,
        )


def _list_from_text(text: str) -> list:
    """A list option written on the command line: TOML/JSON list syntax (`["en", "de"]`) or `en,de`."""
    stripped = text.strip()
    if stripped.startswith("["):
        try:
            import tomllib
        except ModuleNotFoundError:  # Python 3.10
            import tomli as tomllib
        try:
            return tomllib.loads(f"value = {stripped}")["value"]
        except tomllib.TOMLDecodeError:
            import json

            try:
                return json.loads(stripped)
            except ValueError:
                raise ValueError(f"not a list: {text!r}") from None
    return [part.strip() for part in stripped.split(",") if part.strip()]


def _convert(check: str, name: str, value: Any, hint: Any, f: dataclasses.Field) -> Any:
    default = f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default
    target = type(default) if default is not None else str
    where = f"option '{name}' of check '{check}'"
    try:
        if target is bool:
            if isinstance(value, str):
                lowered = value.lower()
                if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                    raise ValueError
                value = lowered in ("true", "1", "yes", "on")
            elif not isinstance(value, bool):
                raise ValueError
        elif target is list:
            if isinstance(value, str):
                value = _list_from_text(value)
            if not isinstance(value, list):
                raise ValueError
        elif target in (int, float):
            if isinstance(value, bool):
                raise ValueError
            if target is int and isinstance(value, float) and not value.is_integer():
                raise ValueError  # 100.7 permutations is a mistake, not 100
            value = target(value)
            if target is float and value != value:
                raise ValueError  # NaN passes no range check
        elif target is str and not isinstance(value, str):
            raise ValueError
    except (TypeError, ValueError):
        raise ConfigError(f"{where} must be {target.__name__}, got {value!r}") from None
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value
