"""The problems found while reading and normalizing lines, before any check runs: a line, a code, a message."""

from __future__ import annotations

from dataclasses import dataclass

from ..results import Severity

# Codes of the problems found while reading and normalizing; the engine and the `format` check report them.
INVALID_LINE = "AUD001"
BLANK_LINE = "AUD002"
BYTE_ORDER_MARK = "AUD003"
UNRECOGNIZED_RECORD = "AUD004"
MIXED_FORMATS = "AUD005"
FORMAT_ERROR = "FMT001"
FORMAT_WARNING = "FMT002"


@dataclass(frozen=True, slots=True)
class LineIssue:
    """A problem with one line, found before any check runs."""

    line: int
    code: str
    severity: Severity
    message: str

