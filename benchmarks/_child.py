"""Timing one command in a fresh process, for the benchmark scripts (imported from beside them)."""

from __future__ import annotations

import os
import subprocess
import time


def compile_bytecode() -> None:
    """Byte-compile the tool's own packages, as `pip install` does for an installed (non-editable)
    package, so that a timed run does not compile them from source: with PYTHONDONTWRITEBYTECODE set
    (as on this project's machines) an editable checkout would otherwise compile every module on every
    run (~0.09 s), which no installed hook pays."""
    import compileall
    import importlib.util

    for package in ("auditor", "dataset_auditor_checks"):
        spec = importlib.util.find_spec(package)
        for folder in (spec.submodule_search_locations or []) if spec else []:
            compileall.compile_dir(folder, quiet=1)


def timed(command: list[str]) -> tuple[float, int]:
    """Wall seconds and peak RSS (MiB) of `command`; exits with its stderr unless it exits 0 or 1.

    The peak is the child's own high-water mark (VmHWM), read while it runs: the `ru_maxrss` that
    `wait4` reports for a child counts the RSS this process had when it forked it (Linux copies the
    high-water mark at fork and keeps it across exec), so a benchmark holding its generated data
    would report its own size as the audit's.
    """
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    status_file = f"/proc/{child.pid}/status"
    peak_kb = 0
    while True:
        pid, status, usage = os.wait4(child.pid, os.WNOHANG)
        if pid:
            break
        peak_kb = max(peak_kb, _high_water_kb(status_file))
        time.sleep(0.002)
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(child.stderr.read().decode())
    return wall, (peak_kb or usage.ru_maxrss) // 1024  # ru_maxrss where there is no /proc


def _high_water_kb(status_file: str) -> int:
    try:
        with open(status_file, encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0
