"""Plain, serializable records that flow from checks to the verdict and the renderers."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence, Set
from dataclasses import dataclass, field, replace
from enum import Enum
from typing import Any


class Severity(str, Enum):
    INFO = "info"
    WARNING = "warning"
    ERROR = "error"




class Status(str, Enum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"
    SKIPPED = "skipped"
    ERROR = "error"


class Verdict(str, Enum):
    READY = "ready"
    READY_WITH_WARNINGS = "ready_with_warnings"
    NOT_READY = "not_ready"


@dataclass(frozen=True, slots=True)
class Location:
    """A physical line of an input file (1-based), the unit editors and SARIF viewers point at."""

    path: str
    line: int | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"path": self.path, "line": self.line}


@dataclass(frozen=True, slots=True)
class Finding:
    check: str
    code: str
    severity: Severity
    message: str
    location: Location
    split: str | None = None
    related: tuple[Location, ...] = ()
    data: Mapping[str, Any] = field(default_factory=dict)
    fingerprint: str = ""  # set by the engine from the rows' content (see auditor.fingerprints)

    def sort_key(self) -> tuple:
        return (self.location.path, self.location.line or 0, self.code, self.message)

    def to_dict(self) -> dict[str, Any]:
        return {
            "check": self.check,
            "code": self.code,
            "severity": self.severity.value,
            "message": self.message,
            "path": self.location.path,
            "line": self.location.line,
            "split": self.split,
            "related": [loc.to_dict() for loc in self.related],
            "data": dict(self.data),
            "fingerprint": self.fingerprint,
        }


# A finding lists at most this many related lines (and `data.lines`); `data.line_count` says how many
# there are. A million identical rows are one finding, not a million locations in every report.
MAX_RELATED = 1_000


def merge_repeated(findings: Iterable[Finding], *, listed: int = 10) -> list[Finding]:
    """One finding per distinct problem of a file: findings of one check with the same code,
    severity, message, file and split become one, on the first line, the other lines related and
    listed in `data.lines` (at most MAX_RELATED; `data.line_count` says how many); the message says
    on how many lines (the first `listed` shown).
    The first finding's data stands for the group. Which rows leave the clean set is the check's
    business: merging only changes what a reader sees."""
    groups: dict[tuple, list[Finding]] = {}
    for finding in sorted(findings, key=Finding.sort_key):
        key = (finding.check, finding.code, finding.severity, finding.message, finding.location.path, finding.split)
        groups.setdefault(key, []).append(finding)
    out = []
    for group in groups.values():
        first = group[0]
        if len(group) == 1:
            out.append(first)
            continue
        lines = [f.location.line for f in group]
        shown = ", ".join(f"{n:,}" for n in lines[:listed] if n is not None)
        more = f" and {len(lines) - listed:,} more" if len(lines) > listed else ""
        out.append(replace(first, message=f"{first.message} (on {len(lines):,} lines: {shown}{more})",
                           related=first.related + tuple(f.location for f in group[1:MAX_RELATED]),
                           data={**first.data, "lines": lines[:MAX_RELATED], "line_count": len(lines)}))
    return sorted(out, key=Finding.sort_key)


class RowSet(Set):
    """An immutable set of row ids held as one sorted int64 numpy array (`.array`): five million
    excluded rows take 40 MB, where a frozenset of Python ints takes about 350 MB. It compares,
    iterates (Python ints, in order) and answers `in` like a frozenset."""

    __slots__ = ("_rows",)

    def __init__(self, rows: Any = ()):
        import numpy as np

        if isinstance(rows, RowSet):
            array = rows._rows
        else:
            array = np.asarray(rows if isinstance(rows, np.ndarray) else list(rows), dtype=np.int64).ravel()
            if len(array) > 1 and not (array[1:] > array[:-1]).all():
                array = np.unique(array)
            array.flags.writeable = False
        self._rows = array

    @property
    def array(self):
        """The row ids, sorted and unique (read-only)."""
        return self._rows

    def __len__(self) -> int:
        return len(self._rows)

    def __iter__(self) -> Iterator[int]:
        return iter(self._rows.tolist())

    def __contains__(self, row: object) -> bool:
        import numpy as np

        if type(row) is not int and not isinstance(row, np.integer):
            return False
        at = int(np.searchsorted(self._rows, row))
        return at < len(self._rows) and int(self._rows[at]) == row

    __hash__ = Set._hash

    def __repr__(self) -> str:
        shown = ", ".join(map(str, self._rows[:8].tolist())) + (", ..." if len(self._rows) > 8 else "")
        return f"RowSet({{{shown}}})"


def row_set(rows: Iterable[int]) -> RowSet | frozenset:
    """`rows` as a RowSet when they are all row-id-like integers (an integer numpy array, or Python ints);
    anything else stays a frozenset, for `result_problem` to name."""
    import numpy as np

    if isinstance(rows, RowSet):
        return rows
    if isinstance(rows, np.ndarray):
        return RowSet(rows) if rows.dtype.kind in "iu" else frozenset(rows.tolist())
    items = list(rows)
    if all(type(row) is int for row in items):
        try:
            return RowSet(items)
        except OverflowError:  # beyond int64: no row id
            pass
    return frozenset(items)


def union_rows(sets: Iterable[Set]) -> Any:
    """The union of row-id sets, as a sorted unique int64 numpy array."""
    import numpy as np

    arrays = [RowSet(s).array for s in sets if len(s)]  # a RowSet is taken as it is: sorted and unique
    if len(arrays) == 1:
        return arrays[0]
    return np.unique(np.concatenate(arrays)) if arrays else np.zeros(0, np.int64)


@dataclass(slots=True)
class CheckResult:
    """What one check measured: its findings, numbers, and the rows it removes from the clean set.

    `excluded` holds row ids (the `row` column of the context frames); the verdict takes the union
    over all checks, so a row removed by two checks is removed once.
    """

    check: str
    code: str
    status: Status = Status.PASS
    summary: str = ""
    metrics: dict[str, Any] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)
    excluded: Set[int] = frozenset()  # a RowSet from Check.result; any set of ints is accepted
    blocking: bool = True
    findings_omitted: int = 0
    error: str | None = None
    title: str = ""
    plugin: str = ""
    provides: frozenset[str] = frozenset()  # the roles its check declares (Check.provides)

    def to_dict(self, lines_of: Callable[[Set[int]], dict[str, list[int]]] | None = None) -> dict[str, Any]:
        """The report's form; `lines_of` turns the excluded row ids into lines by input path."""
        return {
            "check": self.check,
            "code": self.code,
            "title": self.title,
            "plugin": self.plugin,
            "status": self.status.value,
            "blocking": self.blocking,
            "summary": self.summary,
            "metrics": self.metrics,
            "excluded_rows": len(self.excluded),
            "excluded_lines": lines_of(self.excluded) if lines_of is not None else {},
            "findings": [f.to_dict() for f in self.findings],
            "findings_total": len(self.findings) + self.findings_omitted,
            "findings_omitted": self.findings_omitted,
            "error": self.error,
        }


def status_from_findings(findings: Sequence[Finding]) -> Status:
    """FAIL on any error finding, WARN on any warning, PASS otherwise."""
    severities = {f.severity for f in findings}
    if Severity.ERROR in severities:
        return Status.FAIL
    if Severity.WARNING in severities:
        return Status.WARN
    return Status.PASS


def result_problem(result: CheckResult, lines_of: Mapping[str, int], rows: int) -> str | None:
    """Why a check's result cannot be reported, or None when it can: findings and their lines must
    point into the inputs, severities and statuses be the known ones, excluded rows be frame rows, and
    data and metrics be JSON (a numpy number is not). Checked when the check hands the result back, so
    a broken plugin is named there rather than failing a renderer later."""
    import orjson

    if not isinstance(result.status, Status):
        return f"status {result.status!r} is not an auditor.Status"
    for i, finding in enumerate(result.findings, start=1):
        where = f"finding {i}"
        if not isinstance(finding, Finding):
            return f"{where} is a {type(finding).__name__}, not an auditor.Finding"
        if not isinstance(finding.severity, Severity):
            return f"{where}: severity {finding.severity!r} is not an auditor.Severity"
        if not isinstance(finding.message, str) or not isinstance(finding.code, str):
            return f"{where}: message and code must be strings"
        for location in (finding.location, *finding.related):
            if location.path not in lines_of:
                return f"{where}: {location.path!r} is not an input of this audit"
            line = location.line
            if line is not None and (type(line) is not int or not 1 <= line <= max(lines_of[location.path], 1)):
                return f"{where}: line {line!r} is not a line of {location.path}"
    excluded = result.excluded
    if isinstance(excluded, RowSet):
        if len(excluded) and not (0 <= excluded.array[0] and excluded.array[-1] < rows):
            return "excluded holds something that is not a row id of the audit"
    elif any(type(row) is not int or not 0 <= row < rows for row in excluded):
        return "excluded holds something that is not a row id of the audit"
    parts = [("metrics", result.metrics)] + [(f"finding {i}'s data", dict(f.data))
                                             for i, f in enumerate(result.findings, start=1)]
    for name, value in parts:
        try:
            orjson.dumps(value)
        except TypeError as exc:
            return f"{name} is not JSON: {exc}"
    return None


def counted(n: int, noun: str, plural: str | None = None) -> str:
    """A count as every report writes it: thousands separators, singular for one ("1 group",
    "2,551 groups")."""
    return f"{n:,} {noun if n == 1 else plural or noun + 's'}"
