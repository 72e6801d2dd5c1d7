"""Errors that stop an audit before it can say anything useful: the CLI turns them into exit code 2."""


class AuditorError(Exception):
    """Base class: its message is one line, shown to the user as is."""


class ConfigError(AuditorError):
    """A bad option or configuration key."""


class DatasetLoadError(AuditorError):
    """An input file that cannot be read at all (missing, a directory, binary, unreadable)."""


class CheckLoadError(AuditorError):
    """A check plugin that could not be imported or is not a valid check."""
