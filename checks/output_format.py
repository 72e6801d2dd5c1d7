"""Check `output-format`: structured training targets share one shape (no schema needed)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import Check, Severity, Status, option, shapes

NOT_JSON = "OUT002"


class OutputFormat(Check):
    """Structured training targets whose JSON shape differs from the rest of the dataset.

    ## What it does
    Parses every final training target (final assistant turn, completion, output). When at least
    `min_share` of the train targets are JSON objects, the task is structured and its dominant shape
    is inferred from train: the keys present in at least `min_share` of the objects (expected), the
    keys present in at most `1 - min_share` of them (outliers; keys in between are optional), and
    for each key the JSON type (string, number, boolean, null, array, object) held by at least
    `min_share` of its values. Then every train and eval target is compared with it:

    - `OUT001`: a JSON target that is not an object, lacks an expected key, has an outlier key, or
      holds a value of another type than the dominant one. The finding names each difference and
      carries the expected and the actual shape.
    - `OUT002`: a target that is not JSON at all (a Markdown code fence counts as not JSON).

    Plain-text tasks (fewer JSON objects than `min_share`, or `task = "free-text"` /
    `"classification"`) are left alone. With `task = "structured"` the shape is checked whenever
    the targets hold any JSON object. Findings are warnings and remove no rows: with a JSON Schema,
    `output-schema` is the strict gate; this check catches inconsistency without one.

    ## Why is this bad?
    A structured task is only as good as its consistency. A model trained on targets that mostly
    say `"priority": 2` but sometimes `"priority": "high"`, or that sometimes drop a key, learns
    that either is acceptable, and the parser downstream fails on the rare variant.

    ## Example
    ```jsonl
    {"prompt": "Ticket: refund please", "completion": "{\\"category\\": \\"refund\\", \\"priority\\": 2}"}
    {"prompt": "Ticket: app crashes", "completion": "{\\"category\\": \\"bug\\", \\"priority\\": \\"high\\"}"}
    {"prompt": "Ticket: card declined", "completion": "{\\"category\\": \\"billing\\"}"}
    ```
    Among many records shaped like the first, the second holds a string where the others hold a
    number, and the third lacks `priority`.
    """

    id = "output-format"
    code = "OUT001"
    provides = frozenset({"format-consistency"})

    @dataclass(frozen=True)
    class Options:
        min_share: float = option(0.9, "Share of targets that must be JSON objects for the task to count as "
                                       "structured; also the share that makes a key expected or a type dominant.")

        def __post_init__(self):
            if not 0.5 < self.min_share <= 1:
                raise ValueError("min_share must be in (0.5, 1]")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset({"output-shape"})

    def run(self, ctx):
        import polars as pl

        # A signature per row, cached per block of rows: an edited dataset re-parses only that block.
        signatures = ctx.per_file(("output-shape", 1), lambda frame: _signatures(frame["response"]))
        frame = (ctx.rows().filter(pl.col("response").is_not_null() & ~pl.col("tool_call"))
                 .select("row", "source", "line", "split"))
        frame = frame.with_columns(signature=signatures.gather(frame["row"]))
        counts = frame.filter(pl.col("split") == "train").group_by("signature").len().sort("signature")
        distinct = {sig: shapes.from_signature(sig) for sig in frame["signature"].unique().sort().to_list()}
        train_total = int(counts["len"].sum())
        objects = [(distinct[sig], n) for sig, n in counts.iter_rows() if isinstance(distinct[sig], dict)]
        share = sum(n for _, n in objects) / train_total if train_total else 0.0
        metrics = {"targets": frame.height, "json_objects_share": round(share, 6)}
        task = ctx.settings.task
        structured = objects and (share >= self.options.min_share if task is None else task == "structured")
        if not structured:
            why = f"task '{task}'" if task in ("free-text", "classification") else \
                f"{share:.0%} of train targets are JSON objects"
            return self.result(summary=f"plain text targets ({why}): shape not checked", status=Status.PASS,
                               metrics={**metrics, "kind": "plain text"})
        shape = shapes.dominant_shape([o for o, _ in objects], self.options.min_share, [n for _, n in objects])
        expected = shapes.describe(shape)
        verdicts = {sig: self._verdict(shape, value) for sig, value in distinct.items()}
        findings = []
        # only the rows of shapes that differ are visited (most rows of a structured set share one)
        differing = pl.Series([sig for sig, (message, _, _) in verdicts.items() if message], dtype=pl.String)
        for source, line, split, sig in (frame.filter(pl.col("signature").is_in(differing.implode()))
                                         .select("source", "line", "split", "signature").iter_rows()):
            message, code, data = verdicts[sig]
            if message:
                findings.append(self.finding(message, source=source, line=line, split=split,
                                             severity=Severity.WARNING, code=code, expected=expected, **data))
        affected = len(findings)
        summary = (f"{affected:,} of {frame.height:,} targets differ from the dominant JSON shape" if affected
                   else f"all {frame.height:,} targets share one JSON shape")
        metrics.update(kind="json", dominant_shape=expected, affected=affected,
                       not_json=sum(1 for f in findings if f.code == NOT_JSON))
        return self.result(findings, summary=summary, metrics=metrics)

    def _verdict(self, shape, value):
        """(message or None, code, data) for every target of one shape."""
        if value is shapes.NOT_JSON:
            return (f"Target is not JSON, expected an object with keys {_keys(shape['expected'])}", NOT_JSON,
                    {"actual": {"type": "text"}})
        differences = shapes.deviations(shape, value)
        if not differences:
            return None, None, {}
        return ("Target shape differs from the dominant shape: " + "; ".join(differences), None,
                {"actual": shapes.actual_shape(value), "differences": differences})


def _keys(keys: list[str]) -> str:
    return ", ".join(keys) if keys else "(none)"


def _signatures(responses):
    """`shapes.signature` of each response (null stays null), computed once per distinct response."""
    import polars as pl

    distinct = responses.drop_nulls().unique()
    # prose (no JSON value can start with its first character) is "text" without a call into Python
    stripped = distinct.str.strip_chars_start(" \t\n\r")
    # a value that starts with t, f or n is true, false or null and nothing else ("no idea" is prose)
    maybe_json = (stripped.str.slice(0, 1).is_in(sorted(shapes.JSON_STARTS - set("tfn")))
                  | stripped.str.strip_chars_end(" \t\n\r").is_in(["true", "false", "null"]))
    shapes_of = pl.Series(["text"] * len(distinct), dtype=pl.String)
    candidates = maybe_json.arg_true()
    if len(candidates):
        shapes_of = shapes_of.scatter(candidates, distinct.gather(candidates).map_elements(shapes.signature,
                                                                                          return_dtype=pl.String))
    return responses.replace_strict(distinct, shapes_of, default=None, return_dtype=pl.String)
