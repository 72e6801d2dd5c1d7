"""dataset-auditor: is this fine-tuning dataset ready? `audit()` runs an audit from Python; the rest
is the public API for checks and plugins."""

from . import (
    shapes,
    similarity,  # shared MinHash/LSH artefacts (numpy/polars imported lazily)
)
from .answers import final_answer
from .api import Audit, audit, split
from .check import ROLES, Check, NoOptions, option
from .context import AuditContext, InputFile, Settings
from .context.text import normalize_series, normalize_text, user_side
from .errors import AuditorError, CheckLoadError, ConfigError, DatasetLoadError
from .input.issues import LineIssue
from .jsonschemas import SchemaTrouble, compile_schema, confined_validator, iter_errors
from .results import (
    MAX_RELATED,
    CheckResult,
    Finding,
    Location,
    RowSet,
    Severity,
    Status,
    Verdict,
    counted,
    merge_repeated,
)
from .version import __version__

__all__ = [
    "MAX_RELATED",
    "ROLES",
    "SchemaTrouble",
    "Audit",
    "AuditContext",
    "InputFile",
    "LineIssue",
    "AuditorError",
    "Check",
    "CheckLoadError",
    "CheckResult",
    "ConfigError",
    "DatasetLoadError",
    "Finding",
    "Location",
    "NoOptions",
    "RowSet",
    "Settings",
    "Severity",
    "Status",
    "Verdict",
    "__version__",
    "audit",
    "compile_schema",
    "confined_validator",
    "counted",
    "final_answer",
    "iter_errors",
    "merge_repeated",
    "normalize_series",
    "normalize_text",
    "option",
    "shapes",
    "similarity",
    "split",
    "user_side",
]
