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
    """Wall seconds and peak RSS (MiB) of `command`; exits with its stderr unless it exits 0 or 1."""
    start = time.perf_counter()
    child = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own peak, not the largest of all children
    wall = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) not in (0, 1):
        raise SystemExit(child.stderr.read().decode())
    return wall, usage.ru_maxrss // 1024
