"""The built-in checks of dataset-auditor, registered through the `auditor.checks` entry point group."""
