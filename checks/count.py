"""Check `count`: how many examples there are, per split, file and label."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import Check, Severity, counted, option

# Character-length bins shared by every report, so histograms of two audits can be compared.
LENGTH_BINS = (0, 50, 100, 200, 400, 800, 1600, 3200, 6400, 12800)


def _length_histogram(texts) -> dict:
    """Counts of texts per character-length bin: {"bins": lower edges, "counts": [...]}."""
    import polars as pl

    lengths = texts.drop_nulls().str.len_chars()
    # index of the last lower edge <= length; the final bin is open-ended
    index = pl.Series(LENGTH_BINS).search_sorted(lengths, side="right") - 1
    counts = [0] * len(LENGTH_BINS)
    for position, n in index.value_counts().iter_rows():
        counts[position] = n
    return {"bins": list(LENGTH_BINS), "counts": counts, "unit": "characters"}


class Count(Check):
    """Counts rows, parsed and valid records per file, and examples per class label.

    ## What it does
    Reports the number of lines, parsed records and valid records of every input file. For
    classification data (a label column) it counts the examples of each label in train, names the
    smallest class, and warns about every label with fewer than `min_per_label` examples; labels
    that appear in eval but never in train are errors.

    ## Why is this bad?
    A class with a handful of examples is not learned, it is guessed; an eval label the model never
    saw in training measures nothing but luck. The readiness gate itself (500+ clean examples) is
    applied by the verdict after every check has removed its rows.

    ## Example
    ```jsonl
    {"text": "card never arrived", "label": "card_arrival"}
    {"text": "how do I top up?", "label": "top_up"}
    ```
    With `min_per_label = 10`, both labels are reported when they have fewer than ten examples.
    """

    id = "count"
    code = "CNT001"
    provides = frozenset({"label-counts", "length-histograms"})

    @dataclass(frozen=True)
    class Options:
        min_per_label: int = option(10, "Labels with fewer train examples than this are a warning.")

        def __post_init__(self):
            if self.min_per_label < 0:
                raise ValueError("min_per_label must be >= 0")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset()

    def run(self, ctx):
        import polars as pl

        files = {}
        for data in ctx.files:
            frame = ctx.frame.slice(data.first_row, data.lines)
            files[data.path] = {"split": data.split, "lines": frame.height,
                                "parsed": frame.filter(pl.col("error").is_null()).height,
                                "valid": frame.filter(pl.col("valid")).height}
        metrics = {"files": files}
        for split in ("train", "eval"):
            rows = ctx.rows(split)
            metrics[f"{split}_valid"] = rows.height
            for column in ("prompt", "response"):
                metrics[f"{split}_{column}_length_histogram"] = _length_histogram(rows[column])
        findings = []
        summary = f"{metrics['train_valid']:,} valid train records, {metrics['eval_valid']:,} valid eval records"
        if ctx.label_task():
            findings, label_metrics = self._labels(ctx)
            metrics.update(label_metrics)
            summary += f"; {counted(label_metrics['labels'], 'label')}, smallest '{label_metrics['smallest_label']}' " \
                       f"({label_metrics['smallest_count']:,})"
        return self.result(findings, summary=summary, metrics=metrics)

    def _labels(self, ctx):
        import polars as pl

        train = ctx.rows("train").filter(pl.col("label").is_not_null())
        counts = train.group_by("label").agg(n=pl.len(), first_line=pl.col("line").min(),
                                              source=pl.col("source").first()).sort(["n", "label"])
        findings = []
        for label, n, line, source in counts.select("label", "n", "first_line", "source").iter_rows():
            if n < self.options.min_per_label:
                findings.append(self.finding(
                    f"Label '{label}' has {counted(n, 'train example')}, fewer than {self.options.min_per_label:,}",
                    source=source, line=line, split="train", severity=Severity.WARNING, label=label, count=n))
        known = set(counts["label"].to_list())
        unseen = ctx.rows("eval").filter(pl.col("label").is_not_null() & ~pl.col("label").is_in(list(known)))
        for source, line, label in unseen.select("source", "line", "label").iter_rows():
            findings.append(self.finding(f"Eval label '{label}' never appears in train", source=source, line=line,
                                         split="eval", severity=Severity.ERROR, label=label))
        per_label = dict(sorted((k, v) for k, v in counts.select("label", "n").iter_rows()))
        eval_counts = ctx.rows("eval").filter(pl.col("label").is_not_null()).group_by("label").len()
        eval_per_label = dict(sorted(eval_counts.iter_rows()))
        smallest = counts.row(0, named=True) if counts.height else {"label": None, "n": 0}
        return findings, {"labels": len(per_label), "per_label": per_label, "eval_per_label": eval_per_label,
                          "smallest_label": smallest["label"], "smallest_count": smallest["n"]}
