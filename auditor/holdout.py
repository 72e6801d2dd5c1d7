"""A train/eval split that cannot leak: whole groups of rows go to one side.

Groups are the connected components of: the findings of every check that declares the `row-groups`
role (exact-duplicate groups, near-duplicate clusters, contradicting prompt groups), rows with the same
normalized prompt, and rows with the same `group_by` value (a conversation or user id). Groups are
drawn in a seeded order into eval until it holds the requested size (within one group), per label
when `stratify` names one. The result is then audited by every check that declares `eval-leakage`,
the way `auditor audit --eval` would audit it: any eval row still found to leak joins the group of the
train rows it leaks from, and the draw is made again, until no leak is left.

Only valid records are split; the rows `auditor clean` would remove for other reasons are better
removed first (`auditor clean`, then `auditor split` of its output).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from .errors import ConfigError

MAX_ROUNDS = 8  # leak checks of a draw; each merges groups, so few are ever needed


@dataclass
class SplitResult:
    """Rows (from 0, in input order) of each side, the groups drawn, and the leak check's rounds."""

    path: str
    train_rows: list[int]
    eval_rows: list[int]
    groups: int
    rounds: int
    report: dict[str, Any]  # the audit of the input that gave the groups
    labels: dict[str, tuple[int, int]] | None = None  # label -> (train rows, eval rows), when stratified

    def table(self) -> str:
        from .render.visible import visible

        total = len(self.train_rows) + len(self.eval_rows)
        lines = [f"{visible(self.path)}: {total:,} valid rows in {self.groups:,} groups -> "
                 f"train {len(self.train_rows):,}, eval {len(self.eval_rows):,} "
                 f"({self.rounds} leak check{'s' if self.rounds != 1 else ''}, no leak left)"]
        if self.labels:
            lines.append(f"  {'label':<24}{'train':>8}{'eval':>8}{'eval share':>12}")
            for label, (train, held) in self.labels.items():
                share = held / (train + held) if train + held else 0.0
                lines.append(f"  {visible(label)[:24]:<24}{train:>8,}{held:>8,}{share:>12.1%}")
        return "\n".join(lines) + "\n"


def split(config: Any, *, eval_size: float, stratify: str | None = None, group_by: str | None = None,
          cache: Any = None, progress: Any = None) -> SplitResult:
    """Split the one training input of `config` (an AuditConfig) into train and eval rows.

    `eval_size` is a row count (>= 1) or a share (0 < size < 1) of the valid rows.
    """
    import numpy as np

    from .engine import audit as run_audit
    from .registry import Registry

    if len(config.train) != 1 or config.eval:
        raise ConfigError("split takes one input: the rows to divide into train and eval")
    if config.train[0] == "-":
        raise ConfigError("split reads its input more than once: save standard input to a file first")
    registry = Registry.from_entry_points()
    grouping = [p.id for p in registry if "row-groups" in p.cls.provides]
    leakage = [p.id for p in registry if "eval-leakage" in p.cls.provides]
    if not leakage:
        raise ConfigError("no installed check declares 'eval-leakage': a split could not be checked for leaks")
    rows = _rows(config, cache)
    report = run_audit(replace(config, select=tuple(grouping), ignore=(), max_findings=0), cache=cache,
                       progress=progress, loaded={config.train[0]: rows.data})
    entry = report["inputs"][0]
    path = entry["path"]
    valid = np.ones(entry["lines"], dtype=bool)
    valid[np.asarray(entry["invalid_lines"], dtype=np.int64) - 1] = False
    valid_rows = np.flatnonzero(valid).tolist()
    wanted = _wanted(eval_size, len(valid_rows))

    groups = _Groups(entry["lines"])
    from .clean import finding_locations

    for result in report["results"]:
        if "row-groups" in report["checks"].get(result["check"], {}).get("provides", ()):
            for f in result["findings"]:
                lines = [line for where, line in finding_locations(f) if where == path]
                groups.join([line - 1 for line in lines])
    for key_column in ("prompt", *(("group",) if group_by else ())):
        keys = rows.key(key_column, group_by)
        by_key: dict[Any, list[int]] = {}
        for row in valid_rows:
            if keys[row] is not None:
                by_key.setdefault(keys[row], []).append(row)
        for members in by_key.values():
            groups.join(members)
    labels = rows.labels(stratify) if stratify else None

    rounds = 0
    while True:
        rounds += 1
        eval_rows = _draw(groups, valid_rows, wanted, config.seed, labels)
        held = set(eval_rows)
        train_rows = [r for r in valid_rows if r not in held]
        leaks = _leaks(config, rows.data, entry, train_rows, eval_rows, leakage, config.input_limits())
        if not leaks:
            break
        if rounds >= MAX_ROUNDS:
            raise ConfigError(f"{path}: {len(leaks)} eval rows still leak after {rounds} draws; "
                              "pass a smaller --eval-size")
        for pair in leaks:
            groups.join(pair)
    counts = None
    if labels is not None:
        counts = {}
        for side, members in ((0, train_rows), (1, eval_rows)):
            for row in members:
                label = str(labels[row])
                counts.setdefault(label, [0, 0])[side] += 1
        counts = {k: (v[0], v[1]) for k, v in sorted(counts.items())}
    return SplitResult(path, train_rows, eval_rows, len({groups.find(r) for r in valid_rows}), rounds, report, counts)


def _wanted(eval_size: float, valid: int) -> int:
    if eval_size <= 0 or (eval_size >= 1 and eval_size != int(eval_size)):
        raise ConfigError(f"--eval-size must be a row count or a share between 0 and 1, got {eval_size}")
    wanted = int(eval_size) if eval_size >= 1 else round(eval_size * valid)
    if not 0 < wanted < valid:
        raise ConfigError(f"--eval-size {eval_size} asks for {wanted:,} of {valid:,} valid rows: "
                          "both sides need rows")
    return wanted


class _Groups:
    """Union-find over row ids."""

    def __init__(self, size: int) -> None:
        self.parent = list(range(size))

    def find(self, row: int) -> int:
        root = row
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[row] != root:
            self.parent[row], row = root, self.parent[row]
        return root

    def join(self, members: Sequence[int]) -> None:
        members = list(members)
        if len(members) < 2:
            return
        first = self.find(members[0])
        for other in members[1:]:
            root = self.find(other)
            if root != first:
                low, high = sorted((first, root))
                self.parent[high] = low  # the smallest row leads: the order never depends on joins
                first = low


def _draw(groups: _Groups, valid_rows: list[int], wanted: int, seed: int, labels: Any) -> list[int]:
    """Eval rows: whole groups in a seeded order, as long as they fit the size (per label, stratified)."""
    import numpy as np

    members: dict[int, list[int]] = {}
    for row in valid_rows:
        members.setdefault(groups.find(row), []).append(row)
    order = sorted(members)
    rng = np.random.default_rng(seed)
    drawn: list[int] = []
    if labels is None:
        for index in rng.permutation(len(order)).tolist():
            group = members[order[index]]
            if len(drawn) + len(group) <= wanted:
                drawn.extend(group)
            if len(drawn) == wanted:
                break
        return sorted(drawn)
    totals: dict[Any, int] = {}
    for row in valid_rows:
        totals[labels[row]] = totals.get(labels[row], 0) + 1
    quota = {label: round(wanted * count / len(valid_rows)) for label, count in totals.items()}
    taken = dict.fromkeys(quota, 0)
    for index in rng.permutation(len(order)).tolist():
        group = members[order[index]]
        need: dict[Any, int] = {}
        for row in group:
            need[labels[row]] = need.get(labels[row], 0) + 1
        if all(taken[label] + n <= quota[label] for label, n in need.items()):
            for label, n in need.items():
                taken[label] += n
            drawn.extend(group)
    return sorted(drawn)


def _leaks(config: Any, data: Any, entry: Mapping[str, Any], train_rows: list[int], eval_rows: list[int],
           leakage: list[str], limits: Any) -> list[tuple[int, int]]:
    """(eval row, train row) pairs the leakage checks find in the drawn split: both sides are written
    as the split would write them (into a temporary folder) and audited as those files, their rows
    taken from the input's (nothing is parsed twice)."""
    import tempfile

    from .clean import finding_locations
    from .engine import audit as run_audit

    with tempfile.TemporaryDirectory(prefix="auditor-split-") as folder:
        names = {side: write_side(entry, rows, Path(folder) / side, limits)
                 for side, rows in (("train", train_rows), ("eval", eval_rows))}
        loaded = {}
        if data.kind == "jsonl":  # a side's records are read back from its file as lines: JSONL only
            loaded = {names["train"]: _side(data, names["train"], "train", train_rows, 0),
                      names["eval"]: _side(data, names["eval"], "eval", eval_rows, len(train_rows))}
        job = replace(config, train=(names["train"],), eval=(names["eval"],), select=tuple(leakage), ignore=(),
                      max_findings=0)
        report = run_audit(job, cache=None, loaded=loaded)
    by_name = {names["train"]: "train", names["eval"]: "eval"}
    report_paths = {i["path"]: by_name.get(i["path"]) for i in report["inputs"]}
    side = {"train": train_rows, "eval": eval_rows}
    pairs = []
    for result in report["results"]:
        if result["check"] in leakage:
            removed = {(report_paths.get(p), line) for p, lines in result["excluded_lines"].items() for line in lines}
            for f in result["findings"]:
                places = [(report_paths[where], line) for where, line in finding_locations(f)
                          if report_paths.get(where) in side]
                if not removed.intersection(places):
                    continue  # a note (rows that share a phrase and are no leak), not a leak
                held = [side["eval"][line - 1] for where, line in places if where == "eval"]
                sources = [side["train"][line - 1] for where, line in places if where == "train"]
                if held and not sources:
                    raise ConfigError(f"{result['check']} found an eval row leaking without naming the train "
                                      "row it leaks from: the split cannot regroup it")
                pairs += [(e, t) for e in held for t in sources]
    return pairs


def _side(data: Any, path: str, split: str, rows: list[int], first_row: int) -> Any:
    """The `Dataset` of one side as written to `path`: the input's rows, numbered as the file's lines."""
    import polars as pl

    picked = data.frame.filter(pl.col("row").is_in(pl.Series([data.first_row + r for r in rows], dtype=pl.Int64)
                                                   .implode()))
    picked = picked.with_columns(row=pl.int_range(first_row, first_row + picked.height, dtype=pl.Int64),
                                 line=pl.int_range(1, picked.height + 1, dtype=pl.Int64),
                                 split=pl.lit(split), source=pl.lit(path))
    return replace(data, path=path, split=split, frame=picked, issues=[], first_row=first_row, blocks=(),
                   sha256=None, read_path=None)


class _Rows:
    """The records of the input and the columns the grouping reads, by row id."""

    def __init__(self, data: Any) -> None:
        self.data = data
        self._records: dict[int, dict[str, Any]] | None = None

    def all_records(self) -> dict[int, dict[str, Any]]:
        if self._records is None:
            self._records = {line - 1: record for _, line, record in self.data.records()}
        return self._records

    def key(self, column: str, group_by: str | None) -> list[Any]:
        if column == "prompt":
            from .context.text import normalize_series

            return [text or None for text in normalize_series(self.data.frame["prompt"]).to_list()]
        values: list[Any] = [None] * self.data.lines
        for row, record in self.all_records().items():
            value = _field(record, group_by or "")
            values[row] = None if value is None else repr(value)
        return values

    def labels(self, stratify: str) -> list[Any]:
        """Per row the value to stratify by: the record's `label` column, a dotted field of the record, or
        `response.KEY` of a JSON training target."""
        import orjson

        values: list[Any] = [None] * self.data.lines
        if stratify == "label":
            values = self.data.frame["label"].to_list()
        elif stratify.startswith("response."):
            for row, text in enumerate(self.data.frame["response"].to_list()):
                try:
                    values[row] = _field(orjson.loads(text or ""), stratify.removeprefix("response."))
                except orjson.JSONDecodeError:
                    values[row] = None
        else:
            for row, record in self.all_records().items():
                values[row] = _field(record, stratify)
        return [v if isinstance(v, (str, int, float, bool)) or v is None else repr(v) for v in values]


def _field(value: Any, dotted: str) -> Any:
    for part in dotted.split("."):
        if isinstance(value, Mapping) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.lstrip("-").isdigit() and -len(value) <= int(part) < len(value):
            value = value[int(part)]
        else:
            return None
    return value


def _rows(config: Any, cache: Any) -> _Rows:
    from .engine import _scratch
    from .input.dataset import load_input

    data = load_input(config.train[0], "train", spool_dir=_scratch(), input_format=config.input_format,
                      fmt=config.format, fields=config.fields or None, limits=config.input_limits(), cache=cache)
    return _Rows(data)


def _suffix(entry: Mapping[str, Any]) -> str:
    """The file ending a side is written with: the input's own (`.jsonl.gz`, `.parquet`, ...)."""
    if entry.get("input_format") == "hf":
        return ".parquet"
    return "".join(Path(Path(entry["path"]).name).suffixes) or ".jsonl"


def write_side(entry: Mapping[str, Any], rows: Sequence[int], stem: Path, limits: Any) -> str:
    """Write the given rows of an input as `stem` + its ending, in its own form; return the path."""
    import numpy as np

    from .clean import write_atomically, write_rows

    mask = np.zeros(entry["lines"], dtype=bool)
    mask[np.asarray(list(rows), dtype=np.int64)] = True
    target = stem.with_name(stem.name + _suffix(entry))
    if os.path.exists(target) and os.path.samefile(target, entry["path"]):
        raise ConfigError(f"{target}: is the input {entry['path']}; write the split into another folder")
    target.parent.mkdir(parents=True, exist_ok=True)
    write_atomically(target, lambda out: write_rows(entry, mask, out, {}, limits))
    return str(target)


def write_split(result: SplitResult, output_dir: str | os.PathLike[str], *, force: bool = False,
                limits: Any = None) -> dict[str, str]:
    """Write `train` and `eval` files into `output_dir` in the input's form (JSONL lines byte for byte,
    compressed as the input was; record inputs in their own format); returns side -> path."""
    from .clean import output_folder

    folder = output_folder(output_dir, force)
    entry = result.report["inputs"][0]
    return {side: write_side(entry, rows, folder / side, limits)
            for side, rows in (("train", result.train_rows), ("eval", result.eval_rows))}
