"""The audit context: what a check sees (frames, input files, settings, text selections and shared,
cached artefacts). `text` holds the one normalization for matching every check and kernel uses."""

from .audit_context import AuditContext, InputFile, Settings

__all__ = ["AuditContext", "InputFile", "Settings"]
