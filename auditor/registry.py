"""Check discovery through the `auditor.checks` entry point group; built-ins are found the same way."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .check import Check
from .errors import CheckLoadError, ConfigError

GROUP = "auditor.checks"


@dataclass(frozen=True)
class Plugin:
    """A loaded check class with the distribution that provides it."""

    id: str
    cls: type[Check]
    dist: str
    version: str


def discover() -> list[EntryPoint]:
    """Entry points of the group, sorted by name; a name declared twice is an error."""
    found = sorted(entry_points(group=GROUP), key=lambda ep: (ep.name, ep.value))
    seen: dict[str, EntryPoint] = {}
    for ep in found:
        if ep.name in seen and seen[ep.name].value != ep.value:
            raise CheckLoadError(f"check '{ep.name}' is declared twice: {seen[ep.name].value} and {ep.value}")
        seen[ep.name] = ep
    return list(seen.values())


def did_you_mean(name: str, names: Iterable[str]) -> str:
    """ "; did you mean 'exact-duplicates'?" for the nearest known name, or "" when none is near."""
    import difflib

    near = difflib.get_close_matches(name, list(names), n=1, cutoff=0.6)
    return f"; did you mean '{near[0]}'?" if near else ""


def select(names: Iterable[str], selected: Sequence[str] = (), ignored: Sequence[str] = ()) -> list[str]:
    """Filter check ids by --select / --ignore before anything is imported (cheap in a hook)."""
    names = list(names)
    for wanted in [*selected, *ignored]:
        if wanted not in names:
            raise ConfigError(f"unknown check '{wanted}'{did_you_mean(wanted, names)} (installed: {', '.join(names)})")
    chosen = [n for n in names if not selected or n in selected]
    return [n for n in chosen if n not in ignored]


def load(ep: EntryPoint) -> Plugin:
    """Import one entry point and verify it is a Check whose id matches the entry point name."""
    try:
        obj = ep.load()
    except Exception as exc:  # a broken plugin must not take the audit down with a traceback
        raise CheckLoadError(f"check '{ep.name}' ({ep.value}) failed to load: {type(exc).__name__}: {exc}") from None
    if not (isinstance(obj, type) and issubclass(obj, Check)):
        raise CheckLoadError(f"check '{ep.name}' ({ep.value}) is not a subclass of auditor.Check")
    if getattr(obj, "id", None) != ep.name:
        raise CheckLoadError(f"check '{ep.name}' ({ep.value}) has id {getattr(obj, 'id', None)!r}; they must match")
    return Plugin(ep.name, obj, *_distribution(getattr(ep, "dist", None)))


_DISTRIBUTIONS: dict[str, tuple[str, str]] = {}


def _distribution(dist: Any) -> tuple[str, str]:
    """(name, version) of an entry point's distribution, its metadata parsed once per distribution
    (`dist.name` and `dist.version` parse it again each: ~2 ms a check on every run)."""
    if dist is None:
        return "unknown", ""
    where = str(getattr(dist, "_path", id(dist)))
    if where not in _DISTRIBUTIONS:
        metadata = dist.metadata
        _DISTRIBUTIONS[where] = (metadata["Name"], metadata["Version"])
    return _DISTRIBUTIONS[where]


class Registry:
    """The checks available to an audit, keyed by id."""

    def __init__(self, plugins: Iterable[Plugin], broken: Mapping[str, str] | None = None) -> None:
        self.plugins = {p.id: p for p in sorted(plugins, key=lambda p: p.id)}
        self.broken = dict(broken or {})  # id -> why: installed checks that could not be loaded, skipped

    @classmethod
    def from_entry_points(cls, selected: Sequence[str] = (), ignored: Sequence[str] = ()) -> Registry:
        """The installed checks. One that fails to load is an error when it was selected by name, and
        otherwise skipped and listed in `broken`: one broken plugin does not stop every audit."""
        eps = {ep.name: ep for ep in discover()}
        plugins, broken = [], {}
        for name in select(eps, selected, ignored):
            try:
                plugins.append(load(eps[name]))
            except CheckLoadError as exc:
                if name in selected:
                    raise
                broken[name] = str(exc)
        return cls(plugins, broken)

    @classmethod
    def from_classes(cls, classes: Iterable[type[Check]]) -> Registry:
        """For tests and embedding: a registry of given classes, no discovery."""
        return cls(Plugin(c.id, c, c.__module__.split(".")[0], "") for c in classes)

    def __iter__(self):
        return iter(self.plugins.values())

    def __contains__(self, check_id: str) -> bool:
        return check_id in self.plugins

    def get(self, check_id: str) -> Plugin:
        if check_id not in self.plugins:
            raise ConfigError(f"unknown check '{check_id}'{did_you_mean(check_id, self.plugins)} "
                              f"(installed: {', '.join(self.plugins)})")
        return self.plugins[check_id]
