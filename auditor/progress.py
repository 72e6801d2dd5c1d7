"""Progress bars on a terminal, nothing at all when output is piped or CI is set."""

from __future__ import annotations

import os
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager


class NoProgress:
    """Silent progress: the default for libraries, pipes and CI."""

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        yield lambda advance=1: None


class TerminalProgress:
    """A rich progress bar on stderr (stdout stays free for `--output -`)."""

    def __init__(self) -> None:
        from rich.console import Console
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self._progress = Progress(TextColumn("{task.description}"), BarColumn(), TextColumn("{task.completed:,}"),
                                  TimeElapsedColumn(), console=Console(stderr=True), transient=True)

    @contextmanager
    def task(self, description: str, total: int | None = None) -> Iterator[Callable[[int], None]]:
        with self._progress:
            task_id = self._progress.add_task(description, total=total)
            yield lambda advance=1: self._progress.advance(task_id, advance)
            self._progress.remove_task(task_id)


def default_progress(enabled: bool = True) -> NoProgress | TerminalProgress:
    if enabled and sys.stderr.isatty() and not os.environ.get("CI"):
        return TerminalProgress()
    return NoProgress()
