"""The command line: `auditor audit`, the hook mode, and the commands around them (see `app`)."""

from . import audit, baseline, clean, commands, split  # noqa: F401  (their commands register on the app)
from .app import app, main

__all__ = ["app", "main"]
