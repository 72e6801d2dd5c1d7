"""dataset-auditor: is this fine-tuning dataset ready? The public API for checks and plugins."""

__version__ = "0.1.0"

from . import (
    shapes,
    similarity,  # shared MinHash/LSH artefacts (numpy/polars imported lazily)
)
from .check import Check, NoOptions, option
from .context import AuditContext, Settings
from .errors import AuditorError, CheckLoadError, ConfigError, DatasetLoadError
from .results import MAX_RELATED, CheckResult, Finding, Location, Severity, Status, Verdict, merge_repeated
from .text import counted, normalize_series, normalize_text, user_side

__all__ = [
    "MAX_RELATED",
    "AuditContext",
    "AuditorError",
    "Check",
    "CheckLoadError",
    "CheckResult",
    "ConfigError",
    "DatasetLoadError",
    "Finding",
    "Location",
    "NoOptions",
    "Settings",
    "Severity",
    "Status",
    "Verdict",
    "__version__",
    "counted",
    "merge_repeated",
    "normalize_series",
    "normalize_text",
    "option",
    "shapes",
    "similarity",
    "user_side",
]
