"""Worker processes for the audit's pure-Python stages, one per core: parsing and normalizing the lines
of a large file, and any check's own work (the language check judges large inputs here). Part of the
API checks use: `pool()` and `workers()`.

One pool per audit process, started on first use and reused by every file: a worker costs ~0.3 s to
start (spawn, then its imports), which only large inputs repay. Workers are spawned, never forked
(forking a process that runs polars' thread pool can deadlock), and each exits as soon as the process
that started it is gone, even killed with -9, rather than wait on a queue nobody feeds.

Where processes cannot start (a script read from stdin, a sandbox without them) `pool()` is None and
callers do the work in-process: the results are the same, only slower.
"""

from __future__ import annotations

import os
import threading
from typing import Any

_POOL: Any = None
_BROKEN = False
_STARTING = threading.Lock()


def workers() -> int:
    """How many worker processes the pool runs: one per core this process may use."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def pool() -> Any:
    """The audit's process pool (a concurrent.futures.ProcessPoolExecutor), or None when there is one
    core or processes cannot be started here."""
    global _POOL, _BROKEN
    if _POOL is None and not _BROKEN and workers() > 1:
        with _STARTING:  # checks on two threads (see engine.run_checks) start one pool between them
            if _POOL is None and not _BROKEN:
                import atexit
                import multiprocessing
                from concurrent.futures import ProcessPoolExecutor

                try:
                    _POOL = ProcessPoolExecutor(workers(), mp_context=multiprocessing.get_context("spawn"),
                                                initializer=_exit_with_parent, initargs=(os.getpid(),))
                except (OSError, ValueError):
                    _BROKEN = True
                    return None
                atexit.register(shutdown)
    return _POOL


def broken() -> None:
    """The pool failed (a worker could not start or died): stop using it for this process."""
    global _BROKEN
    _BROKEN = True
    shutdown()


def shutdown() -> None:
    global _POOL
    if _POOL is not None:
        _POOL.shutdown(wait=False, cancel_futures=True)
        _POOL = None


def _exit_with_parent(parent: int) -> None:
    import threading
    import time

    def watch():
        while os.getppid() == parent:
            time.sleep(0.5)
        os._exit(0)

    threading.Thread(target=watch, daemon=True).start()


def warm(module: str) -> None:
    """Start the pool's workers now and have each import `module`, so that they are ready by the time
    work arrives (their start overlaps with whatever this process does meanwhile)."""
    executor = pool()
    if executor is None:
        return
    try:
        for _ in range(workers()):
            executor.submit(_import, module)
    except RuntimeError:
        broken()


def _import(module: str) -> None:
    """In a worker: import `module` (returning nothing: a module cannot be sent back)."""
    import importlib

    importlib.import_module(module)
