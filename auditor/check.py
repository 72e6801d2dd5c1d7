"""The one extension point: a Check subclass, its Options dataclass, and helpers to build results."""

from __future__ import annotations

import dataclasses
import inspect
import re
import types
import typing
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar

from .errors import ConfigError
from .results import CheckResult, Finding, Location, Severity, Status, row_set, status_from_findings

_CODE = re.compile(r"^[A-Z]{2,5}[0-9]{3}$")
_ID = re.compile(r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$")


# The roles a check can declare in `provides`, and what each one reads.
ROLES = {
    "held-out-eval": "the checklist's 'clean, held-out eval set?' answer: yes when the check passes or warns",
    "format-consistency": "the checklist's 'output format consistent?' answer: no when the check fails",
    "contradictions": "the checklist's 'free of contradictory examples?' answer: yes when the check passes",
    "record-validity": "reports the records the loader found invalid for their format (FMT001, FMT002), whose "
                       "rows never reach the clean set; when no check that runs declares it, the engine "
                       "reports them as `input` findings",
    "eval-leakage": "the leakage chart: metrics['per_file'], {eval path: {'leaked': n, 'total': m}} or {path: n}",
    "cluster-sizes": "the cluster-size chart: metrics['cluster_sizes'] ({size: clusters}), or the groups of "
                     "lines in its findings' data['lines'] / data['members']",
    "row-groups": "rows that must stay on one side of a train/eval split (`auditor split`): each finding's "
                  "line, its related lines and data['lines'] are one group",
    "label-counts": "the label chart: metrics['per_label'] (train) and metrics['eval_per_label']",
    "length-histograms": "the length charts: metrics['{split}_{column}_length_histogram'], {'bins', 'counts'}",
    "token-histograms": "the tokens-per-example chart: metrics['{split}_tokens_histogram'], {'bins', 'counts'}",
    "redaction": "`auditor clean --redact` asks its `redactions(text)` for every string of every kept row and "
                 "writes each value as its placeholder",
}


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
    # What the verdict and the reports read from this check's result (see ROLES): they know no check
    # by name, so a plugin that declares a role is treated as a built-in that does.
    provides: ClassVar[frozenset[str]] = frozenset()
    # Inputs the check needs: "eval" (an eval file), "schema" (a JSON Schema), "label" (class labels).
    requires: ClassVar[frozenset[str]] = frozenset()
    Options: ClassVar[type] = NoOptions
    # Where the check's documentation lives on the web (code scanning links each alert's rule to it).
    # None: the page its distribution declares (Project-URL "Documentation", else "Homepage"), at
    # the check's anchor, when it declares one.
    docs_url: ClassVar[str | None] = None

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if inspect.isabstract(cls) or "id" not in cls.__dict__:
            return
        if not _ID.match(cls.id):
            raise TypeError(f"{cls.__name__}.id {cls.id!r} must be kebab-case")
        if not _CODE.match(getattr(cls, "code", "")):
            raise TypeError(f"{cls.__name__}.code must look like ABC001")
        unknown = sorted(set(cls.provides) - set(ROLES))
        if unknown:
            raise TypeError(f"{cls.__name__}.provides: unknown role {unknown[0]!r} (roles: {', '.join(ROLES)})")
        _validate_options(cls)

    def __init__(self, options: Any = None) -> None:
        self.options = options if options is not None else self.Options()

    def run(self, ctx: Any) -> CheckResult:  # ctx: auditor.context.AuditContext
        raise NotImplementedError

    def redactions(self, text: str) -> list[tuple[str, str]]:
        """(value, placeholder) for each value in one string that `auditor clean --redact` replaces (checks
        declaring the `redaction` role); the rest of the line stays byte for byte."""
        return []

    def artefacts(self) -> frozenset[str] | None:
        """The audit-context artefacts the check reads, by family (see `AuditContext.release`): a name
        such as "text-keys", or a name and its text selection, "text-keys:input". The engine frees each
        artefact once no check still to run declares it, which keeps a large audit's memory to what the
        running check needs. A family left out is rebuilt when asked for, one declared too many is
        kept longer: the results are the same either way. A check that asks `similarity.near_pairs` for
        pairs declares its banding too (`similarity.banding(text, threshold)`): the bandings that checks
        declare for one text are cut from one MinHash pass over it. None (the default): unknown, so
        nothing is freed before this check has run."""
        return None

    def files_read(self) -> Sequence[str]:
        """Files the check reads besides the inputs and the schema (a tokenizer its options name): their
        content is part of the key of a cached report, so editing one audits again."""
        return ()

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
            default = _default(f)
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
                code: str | None = None, data: Mapping[str, Any] | None = None, **more: Any) -> Finding:
        """A finding on `source` line `line` (None: the whole file). Its data (JSON: what reports show
        beside the message) is `data` and any further keyword arguments; pass `data=` for keys that
        are names of this method's arguments (`source`, `line`, ...)."""
        return Finding(
            check=self.id, code=code or self.code, severity=severity, message=message,
            location=Location(source, line), split=split,
            related=tuple(Location(path, ln) for path, ln in related), data={**(data or {}), **more},
        )

    def result(self, findings: Iterable[Finding] = (), *, summary: str = "",
               metrics: Mapping[str, Any] | None = None, excluded: Iterable[int] = (),
               status: Status | None = None) -> CheckResult:
        findings = sorted(findings, key=Finding.sort_key)
        return CheckResult(
            check=self.id, code=self.code,
            status=status or status_from_findings(findings), summary=summary,
            metrics=dict(metrics or {}), findings=findings, excluded=row_set(excluded),
            blocking=self.blocking,
        )


_SUPPORTED = (bool, int, float, str, list)


def _default(f: dataclasses.Field) -> Any:
    return f.default_factory() if f.default_factory is not dataclasses.MISSING else f.default


def _validate_options(cls: type) -> None:
    """An Options class is checked when its check is defined: a frozen dataclass whose fields all have
    defaults of a type options can be given in (bool, int, float, str, a list; optionally None), and
    whose defaults pass its own __post_init__."""
    options = cls.Options
    if not dataclasses.is_dataclass(options):
        raise TypeError(f"{cls.__name__}.Options must be a dataclass")
    hints = typing.get_type_hints(options)
    for f in dataclasses.fields(options):
        if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING:
            raise TypeError(f"{cls.__name__}.Options.{f.name} needs a default (use option(default, help))")
        default = _default(f)
        _, target, _ = _target_type(hints.get(f.name), default)
        if target not in _SUPPORTED:
            raise TypeError(f"{cls.__name__}.Options.{f.name}: options are bool, int, float, str or lists, "
                            f"not {target.__name__}")
    try:
        options()
    except (TypeError, ValueError) as exc:
        raise TypeError(f"{cls.__name__}.Options defaults are invalid: {exc}") from None


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
    """A config or command-line value as the option's type hint says (`bool`, `int | None`, `list[str]`,
    ...; the default's type when there is no hint). Strings from the command line are parsed."""
    default = _default(f)
    optional, target, item = _target_type(hint, default)
    where = f"option '{name}' of check '{check}'"
    if value is None or (optional and isinstance(value, str) and value.strip().lower() in ("none", "null", "")):
        if optional:
            return None
        raise ConfigError(f"{where} must be {target.__name__}, got {value!r}")
    try:
        value = convert_value(value, target, item)
    except (TypeError, ValueError):
        kind = f"{target.__name__}{' or none' if optional else ''}"
        raise ConfigError(f"{where} must be {kind}, got {value!r}") from None
    choices = f.metadata.get("choices")
    if choices and value not in choices:
        raise ConfigError(f"{where} must be one of {', '.join(map(str, choices))}, got {value!r}")
    return value


def _target_type(hint: Any, default: Any) -> tuple[bool, type, type | None]:
    """(None allowed, the type, the item type of a list) of an option."""
    optional = default is None
    if hint is not None:
        args = typing.get_args(hint)
        if typing.get_origin(hint) in (typing.Union, types.UnionType):
            optional = optional or type(None) in args
            hint = next((a for a in args if a is not type(None)), str)
            args = typing.get_args(hint)
        origin = typing.get_origin(hint) or hint
        if origin in (list, tuple, Sequence):
            return optional, list, (args[0] if args and isinstance(args[0], type) else None)
        if isinstance(origin, type):
            return optional, origin, None
    if isinstance(default, list):
        return optional, list, None
    return optional, type(default) if default is not None else str, None


def convert_value(value: Any, target: type, item: type | None = None) -> Any:
    """`value` as `target` (bool, int, float, str or list of `item`); strings are parsed. ValueError if not."""
    if target is bool:
        if isinstance(value, str):
            lowered = value.strip().lower()
            if lowered not in ("true", "false", "1", "0", "yes", "no", "on", "off"):
                raise ValueError
            return lowered in ("true", "1", "yes", "on")
        if not isinstance(value, bool):
            raise ValueError
        return value
    if target is list:
        if isinstance(value, str):
            value = _list_from_text(value)
        if isinstance(value, tuple):
            value = list(value)
        if not isinstance(value, list):
            raise ValueError
        return [convert_value(v, item) for v in value] if item in (bool, int, float, str) else value
    if target in (int, float):
        if isinstance(value, bool):
            raise ValueError
        if isinstance(value, str):
            value = float(value) if target is float else _int_text(value)
        if target is int and isinstance(value, float) and not value.is_integer():
            raise ValueError  # 100.7 permutations is a mistake, not 100
        if not isinstance(value, (int, float)):
            raise ValueError
        value = target(value)
        if target is float and value != value:
            raise ValueError  # NaN passes no range check
        return value
    if target is str and not isinstance(value, str):
        raise ValueError
    return value


def _int_text(text: str) -> int | float:
    text = text.strip()
    try:
        return int(text)
    except ValueError:
        return float(text)  # "5.0" is 5; "5.5" is refused by the caller
