"""From verdict to fix: write exactly the rows an audit counts as clean, and say why each other row went.

For every input, `write_clean` writes the clean rows into the output folder: a JSONL file (plain,
gzip or Zstandard) byte for byte, each kept line as it was (spacing, key order, line ending; a byte
order mark stays at the start of the file), in the input's order; a record input in its own format
(Parquet, Arrow, CSV/TSV, a JSON array; a Hugging Face folder as Parquet; an in-memory table as
JSONL). `removed.jsonl` gets one line per row that is not clean: where it was, the checks and codes
that removed it, and the rows its findings relate it to (the kept original of a duplicate, the train
row an eval row leaks from). The checks are always all named (from `excluded_lines`); codes and related
rows come from the kept findings, so past `max_findings` findings of one check (10,000 by default;
0 keeps all) a row's codes may be empty.

Everything comes from the report (`inputs[].invalid_lines`, `results[].excluded_lines` and the
findings), so the policy is the checks' own options (contradictions.resolve, leakage.exclude, ...) and
what is written is what the verdict counted. Input files are never opened for writing; a file that
changed since it was audited is refused (its SHA-256 no longer matches the report).
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import ConfigError, DatasetLoadError

REMOVED = "removed.jsonl"


@dataclass
class CleanSummary:
    """What was written: per input its output file, rows kept and removed; rows removed per check."""

    outputs: dict[str, str] = field(default_factory=dict)
    kept: dict[str, int] = field(default_factory=dict)
    removed: dict[str, int] = field(default_factory=dict)
    removed_by_check: dict[str, int] = field(default_factory=dict)
    removed_file: str = ""

    def table(self) -> str:
        """The summary as plain text lines, every name made safe to print (see render.visible)."""
        from .render.visible import visible

        width = max([len(visible(p)) for p in self.kept] + [5])
        lines = [f"{'input':<{width}}  {'kept':>8}  {'removed':>8}  written to"]
        lines += [f"{visible(path):<{width}}  {self.kept[path]:>8,}  {self.removed[path]:>8,}  "
                  f"{visible(self.outputs[path])}" for path in self.kept]
        if self.removed_by_check:
            lines.append("removed by check (a row removed by two checks counts for both):")
            lines += [f"  {visible(check):<24}{count:>8,}" for check, count in self.removed_by_check.items()]
        lines.append(f"why each row went: {visible(self.removed_file)}")
        return "\n".join(lines) + "\n"


def clean_masks(report: Mapping[str, Any]) -> dict[str, Any]:
    """Per input path, a numpy mask over its rows (line i + 1 is row i): True where the row is clean."""
    import numpy as np

    masks = {}
    for entry in report["inputs"]:
        mask = np.ones(entry["lines"], dtype=bool)
        mask[np.asarray(entry.get("invalid_lines", []), dtype=np.int64) - 1] = False
        for result in report["results"]:
            lines = result.get("excluded_lines", {}).get(entry["path"])
            if lines:
                mask[np.asarray(lines, dtype=np.int64) - 1] = False
        masks[entry["path"]] = mask
    return masks


def write_clean(report: Mapping[str, Any], output_dir: str | os.PathLike[str], *, force: bool = False,
                tables: Mapping[str, Any] | None = None, limits: Any = None,
                redactors: Sequence[Any] = ()) -> CleanSummary:
    """Write the clean rows of every input of `report` and `removed.jsonl` into `output_dir`.

    `tables` holds the in-memory inputs (by name) of an audit run from Python; `limits`
    (auditor.input.limits.InputLimits) are the ones the audit read the files with. `redactors` (checks
    declaring the `redaction` role) rewrite the values they name in every kept row (see `redacted`):
    JSONL inputs only.

    Raises:
        ConfigError: the folder holds files and `force` is not given, an output would be an input, or
            two inputs would be written to one file.
        DatasetLoadError: an input cannot be read again, or changed since it was audited.
    """
    folder = output_folder(output_dir, force)
    tables = dict(tables or {})
    if redactors:
        other = [e["path"] for e in report["inputs"] if e.get("input_format", "jsonl") != "jsonl" or e["path"] in tables]
        if other:
            raise ConfigError(f"{other[0]}: --redact rewrites JSONL files line by line; convert this input to JSONL "
                              "first")
    masks = clean_masks(report)
    targets = _targets(report, folder, tables)
    folder.mkdir(parents=True, exist_ok=True)
    summary = CleanSummary(removed_file=str(folder / REMOVED))
    for entry in report["inputs"]:
        path, mask = entry["path"], masks[entry["path"]]
        target = targets[path]
        write_atomically(target, lambda out, e=entry, m=mask: write_rows(e, m, out, tables, limits, redactors))
        summary.outputs[path] = str(target)
        summary.kept[path] = int(mask.sum())
        summary.removed[path] = int((~mask).sum())
    removals = list(removed_rows(report, masks))
    for row in removals:
        for cause in row["removed_by"]:
            summary.removed_by_check[cause["check"]] = summary.removed_by_check.get(cause["check"], 0) + 1
    summary.removed_by_check = dict(sorted(summary.removed_by_check.items(), key=lambda kv: (-kv[1], kv[0])))
    import orjson

    write_atomically(folder / REMOVED, lambda out: out.writelines(orjson.dumps(row) + b"\n" for row in removals))
    return summary


def output_folder(output_dir: str | os.PathLike[str], force: bool) -> Path:
    """The folder outputs go to: refused when it is a file, or holds files and `force` is not given."""
    folder = Path(output_dir)
    if folder.exists() and not folder.is_dir():
        raise ConfigError(f"{folder}: exists and is not a folder")
    if folder.is_dir() and any(folder.iterdir()) and not force:
        raise ConfigError(f"{folder}: not empty; pass --force to write into it")
    return folder


def removed_rows(report: Mapping[str, Any], masks: Mapping[str, Any]) -> Iterator[dict[str, Any]]:
    """One dict per row that is not clean, in input order: path, line (or row), split, removed_by
    ([{check, codes}]) and related ([{path, line}])."""
    import numpy as np

    touched = _findings_by_location(report)
    for entry in report["inputs"]:
        path = entry["path"]
        unit = "row" if entry.get("unit") == "record" else "line"
        invalid = set(entry.get("invalid_lines", []))
        by_check = {r["check"]: set(r.get("excluded_lines", {}).get(path, ())) for r in report["results"]}
        for index in np.flatnonzero(~masks[path]).tolist():
            line = index + 1
            causes, related = [], {}
            for check, lines in by_check.items():
                hits = touched.get((check, path, line), [])
                if line in lines or (line in invalid and any(f["severity"] == "error" for f in hits)):
                    causes.append({"check": check, "codes": sorted({f["code"] for f in hits})})
                    for f in hits:
                        for where in finding_locations(f):
                            if where != (path, line):
                                related[where] = None
            if not causes:  # an unreadable line whose finding was not kept (max_findings)
                causes.append({"check": "input", "codes": []})
            yield {"path": path, unit: line, "split": entry["split"], "removed_by": causes,
                   "related": [{"path": p, "line": n} for p, n in related]}


def _findings_by_location(report: Mapping[str, Any]) -> dict[tuple[str, str, int], list[dict[str, Any]]]:
    index: dict[tuple[str, str, int], list[dict[str, Any]]] = {}
    for result in report["results"]:
        for f in result["findings"]:
            for where in finding_locations(f):
                index.setdefault((result["check"], *where), []).append(f)
    return index


def finding_locations(f: Mapping[str, Any]) -> list[tuple[str, int]]:
    """Every (path, line) a finding names: its own, its related ones, and the lines it merged."""
    out = {(f["path"], f["line"]): None} if f.get("line") else {}
    for loc in f.get("related", ()):
        if loc.get("line"):
            out[(loc["path"], loc["line"])] = None
    for line in (f.get("data") or {}).get("lines", ()) or ():
        if isinstance(line, int):
            out[(f["path"], line)] = None
    return list(out)


def _targets(report: Mapping[str, Any], folder: Path, tables: Mapping[str, Any]) -> dict[str, Path]:
    """Where each input's clean rows go: its path as given (relative, inside the working folder) or its
    name, under `folder`, with the extension of what is written."""
    from .input.readers import STDIN_NAME

    targets: dict[str, Path] = {}
    seen: dict[Path, str] = {}
    for entry in report["inputs"]:
        path = entry["path"]
        kind = entry.get("input_format", "jsonl")
        if path in tables or path == STDIN_NAME:
            relative = Path(path.strip("<>") + ".jsonl").name
        else:
            given = Path(path)
            relative = given if not given.is_absolute() and ".." not in given.parts else Path(given.name)
            if kind == "hf":
                relative = relative.with_name(relative.name + ".parquet")
        target = folder / relative
        resolved = target.resolve()
        if resolved in seen:
            raise ConfigError(f"{path} and {seen[resolved]} would both be written to {target}; clean them apart")
        if path not in tables and path != STDIN_NAME and os.path.exists(path) and os.path.exists(target) \
                and os.path.samefile(path, target):
            raise ConfigError(f"{target}: is the input {path}; write the clean set into another folder")
        seen[resolved] = path
        targets[path] = target
    return targets


def write_atomically(target: Path, write: Any) -> None:
    """Write a file whole or not at all: `write(binary handle)` into a temporary file beside it, renamed over it."""
    import tempfile

    target.parent.mkdir(parents=True, exist_ok=True)
    handle, temporary = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            write(out)
        os.replace(temporary, target)
    except BaseException:
        with _suppress():
            os.unlink(temporary)
        raise


def _suppress():
    import contextlib

    return contextlib.suppress(OSError)


def write_rows(entry: Mapping[str, Any], mask: Any, out: Any, tables: Mapping[str, Any], limits: Any,
               redactors: Sequence[Any] = ()) -> None:
    """The rows of one report input where `mask` is True, into `out`, in the input's own form."""
    path = entry["path"]
    kind = entry.get("input_format", "jsonl")
    if path in tables:
        _write_table(tables[path], mask, out)
    elif kind == "jsonl":
        _write_lines(entry, mask, out, limits, redactors)
    elif kind in ("parquet", "arrow", "hf"):
        _write_columnar(path, kind, mask, out)
    elif kind in ("csv", "tsv"):
        _write_delimited(path, "\t" if kind == "tsv" else ",", mask, out)
    elif kind == "json":
        _write_json_array(path, mask, out)
    else:
        raise DatasetLoadError(f"{path}: cannot write a clean copy of a {kind} input")


def _write_lines(entry: Mapping[str, Any], mask: Any, out: Any, limits: Any, redactors: Sequence[Any] = ()) -> None:
    """The kept physical lines, each byte as read; compressed as the input was. The bytes read are
    hashed as the loader hashed them, so a file edited since its audit is refused, not half-cleaned."""
    from .input.limits import DEFAULT_LIMITS
    from .input.loading import BOM, SourceFile

    path = entry["path"]
    limits = limits or DEFAULT_LIMITS
    source = SourceFile(path, limits)
    sink, finish = _compressed_sink(out, source)
    digest = hashlib.sha256()
    limit = limits.max_line_bytes or (1 << 62)
    kept = mask.tolist()
    with open(path, "rb") as handle:
        stream = source.stream(handle, digest)
        number = 0
        while True:
            raw = stream.readline(limit + 1)
            if not raw:
                break
            number += 1
            keep = number <= len(kept) and kept[number - 1]
            if number == 1 and raw.startswith(BOM):
                sink.write(BOM)  # the file's byte order mark, not the row's
                raw = raw[len(BOM):]
            if len(raw) > limit and not raw.endswith(b"\n"):  # an overlong line is never clean: drained
                while raw and not raw.endswith(b"\n"):
                    raw = stream.readline(limit + 1)
                continue
            if keep:
                sink.write(redacted(raw, redactors) if redactors else raw)
    finish()
    if number != len(kept) or (entry.get("sha256") and digest.hexdigest() != entry["sha256"]):
        raise DatasetLoadError(f"{path}: the file changed since it was audited; audit and clean it again")


def redacted(raw: bytes, redactors: Sequence[Any]) -> bytes:
    """One JSONL line with every value the redactors name in any of its strings written as their
    placeholder. Each value is replaced where it stands in the line as JSON writes it (as is, or
    \\u-escaped), so every other byte stays; a value found in no such form (written with other escapes)
    makes the line written anew from its parsed record, so no found value is ever left in."""
    import json

    import orjson

    try:
        record = orjson.loads(raw)
    except orjson.JSONDecodeError:
        return raw  # never a clean row: kept lines parse
    pairs = {}
    for text in _strings(record):
        for redactor in redactors:
            for value, placeholder in redactor.redactions(text):
                if value:
                    pairs[value] = placeholder
    if not pairs:
        return raw
    line = raw.decode("utf-8")
    missing = False
    for value in sorted(pairs, key=len, reverse=True):
        forms = {json.dumps(value, ensure_ascii=False)[1:-1], json.dumps(value)[1:-1]}
        present = [form for form in forms if form in line]
        if not present:
            missing = True
        for form in present:
            line = line.replace(form, pairs[value])
    if missing:
        rewritten = orjson.loads(raw)
        end = b"\r\n" if raw.endswith(b"\r\n") else b"\n" if raw.endswith(b"\n") else b""
        return json.dumps(_replaced(rewritten, pairs), ensure_ascii=False).encode() + end
    return line.encode("utf-8")


def _strings(value: Any) -> Iterator[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, dict):
        for item in value.values():
            yield from _strings(item)
    elif isinstance(value, list):
        for item in value:
            yield from _strings(item)


def _replaced(value: Any, pairs: Mapping[str, str]) -> Any:
    if isinstance(value, str):
        for old in sorted(pairs, key=len, reverse=True):
            value = value.replace(old, pairs[old])
        return value
    if isinstance(value, dict):
        return {k: _replaced(v, pairs) for k, v in value.items()}
    if isinstance(value, list):
        return [_replaced(v, pairs) for v in value]
    return value


def _compressed_sink(out: Any, source: Any) -> tuple[Any, Any]:
    """A writer compressed like `source` (gzip with no timestamp, so output bytes repeat), and its close."""
    if getattr(source, "zstd", False):
        import zstandard

        writer = zstandard.ZstdCompressor().stream_writer(out, closefd=False)
        return writer, writer.close
    if source.compressed:
        import gzip

        writer = gzip.GzipFile(fileobj=out, mode="wb", mtime=0, filename="")
        return writer, writer.close
    return out, lambda: None


def _write_columnar(path: str, kind: str, mask: Any, out: Any) -> None:
    import polars as pl

    from .input import readers

    frame = pl.concat(list(readers.batches(path, kind)), how="vertical_relaxed") if mask.size else None
    if frame is None or frame.height != mask.size:
        raise DatasetLoadError(f"{path}: the file changed since it was audited; audit and clean it again")
    kept = frame.filter(pl.Series(mask))
    if kind == "arrow":
        kept.write_ipc(out)
    else:
        kept.write_parquet(out)


def _write_delimited(path: str, delimiter: str, mask: Any, out: Any) -> None:
    """The header and the kept rows, re-quoted as the csv module quotes (a CSV row has no one byte form
    once its quoted fields span lines)."""
    import csv
    import io

    with open(path, newline="", encoding="utf-8-sig") as handle:
        sample = handle.read(1 << 16)
        handle.seek(0)
        ending = "\r\n" if "\r\n" in sample else "\n"
        text = io.TextIOWrapper(out, encoding="utf-8", newline="", write_through=True)
        writer = csv.writer(text, delimiter=delimiter, lineterminator=ending)
        rows = csv.reader(handle, delimiter=delimiter)
        header = next(rows, None)
        if header is not None:
            writer.writerow(header)
        count = 0
        kept = mask.tolist()
        for count, row in enumerate(rows, 1):
            if count <= len(kept) and kept[count - 1]:
                writer.writerow(row)
        text.detach()
    if count != mask.size:
        raise DatasetLoadError(f"{path}: the file changed since it was audited; audit and clean it again")


def _write_json_array(path: str, mask: Any, out: Any) -> None:
    from .input.readers import _json_array

    kept = mask.tolist()
    items = [line for number, line in enumerate(_json_array(path), 1) if number <= len(kept) and kept[number - 1]]
    out.write(b"[\n" + b",\n".join(items) + b"\n]\n" if items else b"[]\n")


def _write_table(table: Any, mask: Any, out: Any) -> None:
    import polars as pl

    from .input.readers import write_table

    if isinstance(table, list):
        write_table([row for row, keep in zip(table, mask.tolist()) if keep], out)
    else:
        write_table(table.filter(pl.Series(mask)), out)
