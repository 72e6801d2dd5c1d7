"""`auditor.audit()`: the audit as one Python call, for notebooks and scripts.

    import auditor
    result = auditor.audit("train.jsonl", eval="eval.jsonl", min_examples=500)
    result.status            # "ready", "ready_with_warnings" or "not_ready"
    result.findings          # a polars DataFrame, one row per finding
    train = df.filter(result.clean["train"])   # for a DataFrame input: the rows to train on

The call runs the engine the `auditor audit` command runs, with the same config file (the nearest
auditor.toml or pyproject.toml, unless `config=False`), so the verdict and findings are the CLI's.
Inputs may be files (any kind the CLI reads, globs too) or in-memory tables: polars or pandas
DataFrames, Hugging Face `datasets.Dataset` objects, pyarrow tables, or lists of records. pandas,
pyarrow and `datasets` are never imported here: a table is recognised by its type's module.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import fields as dataclass_fields
from dataclasses import replace
from typing import Any

from .errors import ConfigError

# AuditConfig fields the call sets through its own arguments, or that belong to the command line only
_NOT_OPTIONS = {"train", "eval", "schema", "datasets", "source", "cache", "cache_dir", "max_memory", "fail_on",
                "gate"}


def audit(train: Any, eval: Any = None, *, schema: str | os.PathLike[str] | dict[str, Any] | None = None,
          config: str | os.PathLike[str] | bool | None = None, cache: bool | str | os.PathLike[str] = False,
          **options: Any) -> Audit:
    """Audit `train` (and `eval`) and return the `Audit`: verdict, findings, clean rows and reports.

    Args:
        train: a path or glob, an in-memory table, a list of those, or a dict of input name -> one of
            those. A table on its own is named "train" ("train-1", "train-2", ... for several): that
            name is its `path` in findings and its key in `Audit.clean`.
        eval: held-out eval inputs, as `train` ("eval", "eval-1", ...).
        schema: the JSON Schema of the training targets: a path or the schema itself (a dict).
        config: a config file; None finds the nearest one as the CLI does; False reads none.
        cache: reuse results of unchanged files: True (the CLI's cache folder) or a folder. Off by
            default: a notebook should not leave a cache folder behind unasked.
        **options: any setting of the config file: min_examples, min_eval_examples, select, ignore,
            format, fields, task, seed, max_findings, input_format, decision, max_line_bytes,
            max_expansion, and checks (check id -> {option: value}, merged over the config's).

    Raises:
        auditor.ConfigError: an unknown option or a bad value, or a schema that is not one.
        auditor.DatasetLoadError: an input that cannot be read; nothing was audited.
    """
    from .config import expand
    from .engine import audit as run_audit

    settings, values = _settings(config, options)
    originals: dict[str, Any] = {}
    train_names = _inputs(train, "train", originals, expand) if train is not None else []
    eval_names = _inputs(eval, "eval", originals, expand) if eval is not None else []
    tables = {name: as_table(value, name) for name, value in originals.items()}
    job = replace(settings, datasets=(), train=tuple(train_names or settings.train),
                  eval=tuple(eval_names or (settings.eval if train is None else ())))
    schema_document = schema if isinstance(schema, dict) else None
    job = job.with_overrides(schema=None if schema is None or schema_document is not None else os.fspath(schema),
                             **values)
    report = run_audit(job, cache=_cache(cache, settings), tables=tables, schema=schema_document)
    return Audit(report, originals, tables)


def split(data: str | os.PathLike[str], eval_size: float, *, stratify: str | None = None,
          group_by: str | None = None, output_dir: str | os.PathLike[str] | None = None, force: bool = False,
          config: str | os.PathLike[str] | bool | None = None, cache: bool | str | os.PathLike[str] = False,
          **options: Any) -> Any:
    """`auditor split` from Python: divide one input file into train and eval rows that cannot leak
    (see auditor.holdout); with `output_dir`, write them there too. Returns the `SplitResult`
    (`train_rows`, `eval_rows`: rows from 0 in the input's order).

    `options` are the config keys of `audit()` (seed, checks, format, input_format, ...).
    """
    from .config import expand
    from .holdout import split as run_split
    from .holdout import write_split

    if not _is_path(data):
        raise ConfigError("split takes a file: write the table out first (a DataFrame's write_parquet)")
    settings, values = _settings(config, options)
    job = replace(settings, datasets=(), train=expand([os.fspath(data)]), eval=()).with_overrides(**values)
    result = run_split(job, eval_size=eval_size, stratify=stratify, group_by=group_by, cache=_cache(cache, settings))
    if output_dir is not None:
        write_split(result, output_dir, force=force, limits=job.input_limits())
    return result


def _settings(config: str | os.PathLike[str] | bool | None, options: Mapping[str, Any]) -> tuple[Any, dict[str, Any]]:
    """The config file's settings (found as the CLI finds it, none when `config` is False) and the
    keyword options as overrides of them, `checks` merged over the file's; unknown names refused."""
    from .config import AuditConfig, load_config

    known = {f.name for f in dataclass_fields(AuditConfig)} - _NOT_OPTIONS
    unknown = sorted(set(options) - known)
    if unknown:
        raise ConfigError(f"unknown option {unknown[0]!r} (known: {', '.join(sorted(known))})")
    settings = load_config(config if isinstance(config, (str, os.PathLike)) else None, search=config is not False)
    values = {key: _setting(key, value) for key, value in options.items()}
    checks = {k: dict(v) for k, v in settings.checks.items()}
    for check_id, check_options in values.pop("checks", {}).items():
        checks.setdefault(check_id, {}).update(check_options)
    return settings, values | {"checks": checks}


def _setting(key: str, value: Any) -> Any:
    """A keyword argument in the form AuditConfig holds it (tuples of names, plain dicts)."""
    if key in ("select", "ignore"):
        names = [value] if isinstance(value, str) else list(value)
        return tuple(n.strip() for name in names for n in str(name).split(",") if n.strip())
    if key in ("checks", "fields", "decision"):
        if not isinstance(value, Mapping):
            raise ConfigError(f"{key} must be a dict, got {type(value).__name__}")
        return {k: dict(v) for k, v in value.items()} if key == "checks" else dict(value)
    return value


def _inputs(given: Any, split: str, tables: dict[str, Any], expand: Any) -> list[str]:
    """The input names of `given`; its tables are added to `tables` under their names."""
    if isinstance(given, Mapping):
        named = [(str(name), value) for name, value in given.items()]
    elif _is_records(given) or not isinstance(given, (list, tuple)):
        named = [(None, given)]
    else:
        named = [(None, value) for value in given]
    unnamed_tables = sum(1 for name, value in named if name is None and not _is_path(value))
    names: list[str] = []
    counter = 0
    for name, value in named:
        if _is_path(value) and name is None:
            names.extend(expand([os.fspath(value)]))
            continue
        if _is_path(value):
            raise ConfigError(f"{name}: a path is named by itself; pass it without a name")
        counter += 1
        label = name or (split if unnamed_tables == 1 else f"{split}-{counter}")
        if label in tables:
            raise ConfigError(f"{label}: two inputs have this name")
        tables[label] = value
        names.append(label)
    return names


def _is_path(value: Any) -> bool:
    return isinstance(value, (str, os.PathLike))


def _is_records(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and bool(value) and all(isinstance(v, Mapping) for v in value)


def as_table(value: Any, name: str) -> Any:
    """An in-memory input as what the engine reads: a polars DataFrame, or a list of records.

    pandas DataFrames, pyarrow tables and Hugging Face Datasets go through Arrow (polars shares their
    buffers where it can); a Dataset with an index mapping (after `select` or `shuffle`) is read in
    that order.
    """
    import polars as pl

    if isinstance(value, pl.LazyFrame):
        return value.collect()
    if isinstance(value, pl.DataFrame):
        return value
    if isinstance(value, (list, tuple)):
        return [dict(v) if isinstance(v, Mapping) else v for v in value]
    module = type(value).__module__.split(".")[0]
    if module == "pandas":
        return pl.from_pandas(value)
    if module == "datasets" and hasattr(value, "with_format"):
        return pl.from_arrow(value.with_format("arrow")[:])
    if module == "pyarrow":
        return pl.from_arrow(value)
    if hasattr(value, "__arrow_c_stream__"):
        return pl.DataFrame(value)
    raise ConfigError(f"{name}: cannot audit a {type(value).__name__}: pass a path, a DataFrame (polars or "
                      "pandas), a Hugging Face Dataset, an Arrow table or a list of records")


def _rows_of(table: Any, mask: Any) -> Any:
    """The rows of `table` where `mask` is True, as the same kind of table."""
    import numpy as np
    import polars as pl

    if isinstance(table, pl.LazyFrame):
        table = table.collect()
    if isinstance(table, pl.DataFrame):
        return table.filter(pl.Series(mask))
    if isinstance(table, (list, tuple)):
        return [row for row, keep in zip(table, mask) if keep]
    indices = np.flatnonzero(mask)
    module = type(table).__module__.split(".")[0]
    if module == "pandas":
        return table.iloc[indices]
    if module == "datasets":
        return table.select(indices.tolist())
    return table.take(indices)  # a pyarrow table (or one that takes row indices as pyarrow's do)


def _cache(cache: bool | str | os.PathLike[str], settings: Any) -> Any:
    if cache is False or cache is None:
        return None
    from .store import default_cache_dir, open_cache

    return open_cache(default_cache_dir(settings.source) if cache is True else os.fspath(cache))


class Audit:
    """The result of `auditor.audit()`: the JSON report, read as a verdict, findings and clean rows.

    Rows are counted from 0 in each input, in its order: row i of a JSONL file is its line i + 1, row i
    of a table is its row i. An input is named by its path as given, or by its table's name.
    """

    def __init__(self, report: dict[str, Any], tables: Mapping[str, Any] | None = None,
                 converted: Mapping[str, Any] | None = None) -> None:
        self.report = report
        self._tables = dict(tables or {})  # the in-memory inputs as given
        self._converted = dict(converted or {})  # and as audited (polars frames, lists of records)

    @property
    def status(self) -> str:
        """"ready", "ready_with_warnings" or "not_ready"."""
        return self.report["verdict"]["status"]

    @property
    def ready(self) -> bool:
        """Whether the data may be trained on (ready, with or without warnings)."""
        return self.status != "not_ready"

    @property
    def reasons(self) -> list[str]:
        """Why the data is not ready (empty when it is)."""
        return list(self.report["verdict"]["reasons"])

    @property
    def clean_examples(self) -> int:
        return self.report["verdict"]["clean_examples"]

    def exit_code(self, *, strict: bool = False) -> int:
        """The code `auditor audit` exits with: 0 ready, 1 not ready (or warnings, `strict`), 2 a check crashed."""
        from .verdict import ExitPolicy, exit_code

        return exit_code(self.report, ExitPolicy(strict=strict))

    @property
    def inputs(self) -> list[str]:
        """The input names, train first, in the audit's order."""
        return [entry["path"] for entry in self.report["inputs"]]

    @property
    def findings(self) -> Any:
        """Every kept finding as a polars DataFrame: check, code, severity, path, line, row (line - 1,
        the row in the input), split, message; in the report's order."""
        import polars as pl

        rows = [{"check": f["check"], "code": f["code"], "severity": f["severity"], "path": f["path"],
                 "line": f["line"], "split": f["split"], "message": f["message"]}
                for result in self.report["results"] for f in result["findings"]]
        schema = {"check": pl.String, "code": pl.String, "severity": pl.String, "path": pl.String,
                  "line": pl.Int64, "split": pl.String, "message": pl.String}
        frame = pl.DataFrame(rows, schema=schema, orient="row") if rows else pl.DataFrame(schema=schema)
        return frame.with_columns(row=pl.col("line") - 1).select(
            "check", "code", "severity", "path", "line", "row", "split", "message")

    @property
    def clean(self) -> dict[str, Any]:
        """Per input, a numpy boolean mask over its rows: True for a clean row (a valid record that no
        check removes), the rows the clean count counts."""
        from .clean import clean_masks

        return clean_masks(self.report)

    @property
    def excluded(self) -> dict[str, list[int]]:
        """Per input, the rows that are not clean (invalid records and rows a check removes), in order."""
        import numpy as np

        return {name: np.flatnonzero(~mask).tolist() for name, mask in self.clean.items()}

    def excluded_by(self, check: str) -> dict[str, list[int]]:
        """Per input, the rows one check removes (inputs it removes nothing from are absent)."""
        for result in self.report["results"]:
            if result["check"] == check:
                return {path: [line - 1 for line in lines] for path, lines in result.get("excluded_lines", {}).items()}
        raise KeyError(f"no check {check!r} ran (ran: {', '.join(r['check'] for r in self.report['results'])})")

    def clean_data(self, name: str | None = None) -> Any:
        """The clean rows of an in-memory input, as the table it was (polars or pandas DataFrame, Dataset,
        Arrow table, list of records); `name` may be left out when one table was audited."""
        if name is None:
            if len(self._tables) != 1:
                raise ValueError(f"name the input: one of {', '.join(self._tables) or '(no table was audited)'}")
            name = next(iter(self._tables))
        if name not in self._tables:
            raise ValueError(f"{name}: not an in-memory input of this audit (files are cleaned by `auditor clean`)")
        return _rows_of(self._tables[name], self.clean[name])

    def write_clean(self, output_dir: str | os.PathLike[str], *, force: bool = False) -> Any:
        """Write every input's clean rows and `removed.jsonl` into `output_dir` (see auditor.clean);
        returns the `CleanSummary`."""
        from .clean import write_clean

        return write_clean(self.report, output_dir, force=force, tables=self._converted)

    def to_json(self) -> str:
        return self._render("json")

    def to_markdown(self) -> str:
        return self._render("markdown")

    def to_html(self) -> str:
        """The whole HTML report, a page of its own (`_repr_html_` is the notebook's short form)."""
        return self._render("html")

    def to_sarif(self) -> str:
        return self._render("sarif")

    def _render(self, name: str) -> str:
        from .render import renderer

        return renderer(name)(self.report)

    def _repr_html_(self) -> str:
        from .render.notebook import render_fragment

        return render_fragment(self.report)

    def __repr__(self) -> str:
        verdict = self.report["verdict"]
        return (f"<Audit {self.status}: {verdict['clean_examples']:,} clean training examples of "
                f"{verdict['min_examples']:,} required, {len(self.reasons)} blocking reasons>")
