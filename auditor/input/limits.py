"""Resource limits for untrusted inputs: the longest line held, how far a compressed file may expand,
and how much memory an audit run from the command line may take.

Each is an option (config key and command-line flag) with a documented default; 0 lifts it.
"""

from __future__ import annotations

import os
import re
import sys
import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..errors import ConfigError

DEFAULT_MAX_LINE_BYTES = 64 << 20
DEFAULT_MAX_EXPANSION = 200
# A compressed input may expand freely up to this many bytes: small, highly repetitive files are fine.
# Small, because memory follows lines, not bytes: 4 MiB of blank lines are 4 million rows.
EXPANSION_ALLOWANCE = 4 << 20
_POLL_SECONDS = 0.05


@dataclass(frozen=True, slots=True)
class InputLimits:
    """What reading one input may cost. `max_line_bytes`: longer lines are a finding and their bytes
    are never held; `max_expansion`: a compressed file that decompresses to more than this many times
    its size (beyond EXPANSION_ALLOWANCE) is refused as a likely decompression bomb (0: no limit)."""

    max_line_bytes: int = DEFAULT_MAX_LINE_BYTES
    max_expansion: int = DEFAULT_MAX_EXPANSION


DEFAULT_LIMITS = InputLimits()

_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmgt]?)(i?b?)\s*$", re.IGNORECASE)
_UNITS = {"": 0, "k": 1, "m": 2, "g": 3, "t": 4}


def parse_size(value: object, key: str) -> int:
    """Bytes from an int or a size such as "2GiB", "512MB", "1.5G" (binary units: 1 GB = 1 GiB here)."""
    if isinstance(value, bool):
        raise ConfigError(f"'{key}' must be a size such as 2GiB or 512MB, got {value!r}")
    if isinstance(value, int):
        if value < 0:
            raise ConfigError(f"'{key}' must be a size >= 0, got {value!r}")
        return value
    match = _SIZE.match(value) if isinstance(value, str) else None
    if match is None:
        raise ConfigError(f"'{key}' must be a size such as 2GiB or 512MB, got {value!r}")
    number, unit = float(match.group(1)), _UNITS[match.group(2).lower()]
    return int(number * 1024**unit)


def format_size(size: int) -> str:
    for unit, power in (("GiB", 3), ("MiB", 2), ("KiB", 1)):
        if size >= 1024**power:
            return f"{size / 1024**power:.1f} {unit}"
    return f"{size} bytes"


def default_max_memory() -> int:
    """Half of the machine's physical memory: an audit can never take the machine down with it."""
    try:
        return os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES") // 2
    except (ValueError, OSError, AttributeError):  # not POSIX: no default cap
        return 0


def resident_bytes() -> int | None:
    """This process's resident memory now (Linux), else its peak so far, or None when unknown."""
    try:
        with open("/proc/self/statm", "rb") as handle:
            return int(handle.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        pass
    try:
        import resource

        peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        return peak if sys.platform == "darwin" else peak * 1024
    except (ImportError, OSError):
        return None


def watch_memory(limit: int, exceeded: Callable[[int], None]) -> Callable[[], None]:
    """Call `exceeded(resident bytes)` from a daemon thread as soon as the process holds more than
    `limit` bytes (0: never). Returns a function that stops the watch.

    A thread, because the memory may be taken inside one long call into native code (polars, numpy)
    that no check in Python would interrupt; `exceeded` must end the process itself.
    """
    stop = threading.Event()
    if limit <= 0 or resident_bytes() is None:
        return stop.set

    def watch() -> None:
        while not stop.wait(_POLL_SECONDS):
            held = resident_bytes()
            if held is not None and held > limit:
                exceeded(held)
                return

    threading.Thread(target=watch, name="auditor-memory-watch", daemon=True).start()
    return stop.set
