"""Helpers for check authors' tests: run one check on records built in code, no files to manage."""

from __future__ import annotations

import json
import shutil
import tempfile
import weakref
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from .check import Check
from .context import AuditContext, Settings
from .input.dataset import load_dataset
from .results import CheckResult


def write_jsonl(path: str | Path, records: Iterable[Mapping[str, Any] | str]) -> Path:
    """Write records (dicts, or raw strings for deliberately broken lines) one per line."""
    path = Path(path)
    with open(path, "w", encoding="utf-8") as handle:
        for record in records:
            handle.write((record if isinstance(record, str) else json.dumps(record, ensure_ascii=False)) + "\n")
    return path


def make_context(train: Sequence[Mapping[str, Any] | str], eval: Sequence[Mapping[str, Any] | str] | None = None,
                 *, directory: str | Path | None = None, eval_sets: Mapping[str, Sequence] | None = None,
                 schema: Mapping[str, Any] | None = None, settings: Settings | None = None,
                 fmt: str | None = None, fields: Mapping[str, str] | None = None) -> AuditContext:
    """Write train.jsonl (and eval.jsonl, or several named eval files) and load them as an audit would.

    Without `directory` the files go to a temporary folder, removed when the context is garbage collected
    (checks may read the files again while the context lives).
    """
    folder = Path(directory or tempfile.mkdtemp(prefix="auditor-test-"))
    files = [(write_jsonl(folder / "train.jsonl", train), "train")]
    if eval is not None:
        files.append((write_jsonl(folder / "eval.jsonl", eval), "eval"))
    for name, records in (eval_sets or {}).items():
        files.append((write_jsonl(folder / name, records), "eval"))
    datasets, first_row = [], 0
    for path, split in files:
        data = load_dataset(str(path), split, first_row=first_row, fmt=fmt, fields=fields)
        first_row += data.lines
        datasets.append(data)
    ctx = AuditContext(datasets, settings or Settings(), dict(schema) if schema is not None else None)
    if directory is None:
        weakref.finalize(ctx, shutil.rmtree, folder, ignore_errors=True)
    return ctx


def run_check(check: type[Check], train: Sequence[Mapping[str, Any] | str] = (),
              eval: Sequence[Mapping[str, Any] | str] | None = None, *, ctx: AuditContext | None = None,
              **options: Any) -> CheckResult:
    """Run one check with options given as keyword arguments (validated like config values)."""
    context = ctx or make_context(train, eval)
    return check(check.make_options(options)).run(context)
