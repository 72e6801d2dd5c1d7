"""The version of dataset-auditor (pyproject.toml holds the same number)."""

__version__ = "0.1.0"
