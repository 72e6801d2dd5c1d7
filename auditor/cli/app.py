"""The `auditor` command itself: the typer app, one-line usage errors, and the console entry point.

Heavy modules (polars, numpy) are imported only inside commands: a pre-commit hook starts this
program on every commit.
"""

from __future__ import annotations

import contextlib
import gc
import os
import sys
from typing import Annotated, NoReturn

import typer

try:  # recent typer vendors its own copy of click
    from typer._click import exceptions as click_exceptions
except ImportError:  # pragma: no cover
    from click import exceptions as click_exceptions

from ..version import __version__

app = typer.Typer(
    name="auditor",
    help="Is this fine-tuning dataset ready? Audits training data (JSONL, CSV, Parquet, ...) and gives a verdict; clean and split fix it.",
    add_completion=False,
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    rich_markup_mode=None,
    context_settings={"help_option_names": ["-h", "--help"]},
)

EXIT_USAGE = 2


def fail(message: str) -> NoReturn:
    """One line on stderr, exit 2: what every usage error, unreadable input or bad option ends in."""
    from ..render.visible import visible

    print(f"auditor: error: {visible(message)}", file=sys.stderr)
    raise typer.Exit(EXIT_USAGE)


def split_names(values: list[str] | None) -> tuple[str, ...]:
    return tuple(name.strip() for value in values or [] for name in value.split(",") if name.strip())


def _version(value: bool) -> None:
    if value:
        print(f"dataset-auditor {__version__}")
        raise typer.Exit(0)


@app.callback()
def _root(version: Annotated[bool, typer.Option("--version", "-V", callback=_version, is_eager=True,
                                                help="Show the version and exit.")] = False) -> None:
    """Is this fine-tuning dataset ready? Audits training data (JSONL, CSV, Parquet, ...) and gives a verdict; clean and split fix it."""


def warn_not_loaded(messages) -> None:
    """A plugin that could not be loaded, said once on stderr (it is skipped, the rest runs)."""
    from ..render.visible import visible

    for message in messages:
        print(f"auditor: warning: {visible(message)[:300]}; skipped", file=sys.stderr)


def _bound_malloc_arenas(arenas: int = 2) -> None:
    """At most `arenas` glibc malloc arenas for this process, unless the user set MALLOC_ARENA_MAX.

    glibc gives threads arenas of their own (up to 8 per core), and memory freed in one stays with it:
    the hashing threads' numpy temporaries, slice after slice, left a million-row audit ~0.45 GiB
    above what it holds (peak 3.2 GiB; 2.7 GiB with two arenas, in the same time). Two arenas keep
    two hashing threads from waiting on one lock."""
    if not sys.platform.startswith("linux") or "MALLOC_ARENA_MAX" in os.environ:
        return
    import ctypes

    try:
        mallopt = ctypes.CDLL(None).mallopt
    except (OSError, AttributeError):  # not glibc
        return
    mallopt(-8, arenas)  # M_ARENA_MAX


def main(argv: list[str] | None = None) -> None:
    """Console entry point: usage errors become one line on stderr and exit code 2, never a traceback."""
    # numpy's OpenBLAS starts a thread per core when numpy is imported (~35 ms of every hook run) and no
    # command multiplies matrices; a thread count the user chose is kept
    os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")
    whole_process = argv is None  # the `auditor` command itself, not a call from code (tests, embedding)
    if whole_process:
        # A run lasts seconds and makes few reference cycles: fewer collections of the young objects
        # (a full collection walks every object of polars, numpy and typer: ~20 ms each)
        gc.set_threshold(50_000, 20, 20)
        _bound_malloc_arenas()
    command = typer.main.get_command(app)
    try:
        code = command.main(args=argv, prog_name="auditor", standalone_mode=False)
    except click_exceptions.NoArgsIsHelpError as exc:  # bare `auditor`: show help, like --help
        print(exc.ctx.get_help() if exc.ctx else "", file=sys.stderr)
        code = EXIT_USAGE
    except click_exceptions.UsageError as exc:
        print(f"auditor: error: {exc.format_message()}", file=sys.stderr)
        code = EXIT_USAGE
    except typer.Exit as exc:
        code = exc.exit_code
    except typer.Abort:
        print("auditor: aborted", file=sys.stderr)
        code = 130
    except KeyboardInterrupt:
        code = 130
    except BrokenPipeError:
        code = 0
    except OSError as exc:  # the terminal or a pipe refused the output (a full disk, a closed device)
        with contextlib.suppress(OSError):
            print(f"auditor: error: cannot write the output: {exc.strerror or exc}", file=sys.stderr)
        code = EXIT_USAGE
    try:
        sys.stdout.flush()
    except OSError:
        code = EXIT_USAGE
        with contextlib.suppress(OSError):
            print("auditor: error: cannot write the output", file=sys.stderr)
    if whole_process:
        # the interpreter's last collection would walk every object only to free what exit frees
        # anyway (~60-100 ms of every run); frozen objects are left alone
        gc.freeze()
    sys.exit(code or 0)
