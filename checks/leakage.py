"""Check `leakage`: eval rows that also sit in train, found by exact, near-duplicate and n-gram matching.

Over 400 lines because one check holds three detectors, the conflicts of exact matches, and the report
that merges them per eval row; the n-gram window hashing lives in `_windows`.
"""

from __future__ import annotations

import dataclasses
import os
import re
from dataclasses import dataclass

from auditor import Check, Severity, counted, normalize_series, option, shapes, similarity, user_side

from ._windows import matching_windows, row_windows, windows_of_rows

DETECTORS = ("exact", "exact-pair", "near", "ngram")
CONFLICT = "LEAK003"  # an exact leak whose label or structured answer differs from train's
TEMPLATE = "LEAK004"  # the same template as a train row, below the coverage of a leak
PHRASE = "LEAK005"  # a shared phrase, below the coverage of a leak: a note
EXCLUDE = ("eval", "train", "both")
# Windows scanned per step of the train join (and rows hashed per step, in _windows): both keep every
# temporary array at a few hundred MB whatever the file size.
_SCAN_WINDOWS = 8_000_000
_MEMBER_CHARS = 300
_SHOWN = 10


class Leakage(Check):
    """Eval rows that also appear in train (or in an earlier eval file): exact, near-duplicate or n-gram leaks.

    ## What it does
    Compares every row of every `--eval` file with the train rows, by three detectors, each named
    in the finding:

    - `exact`: the same normalized prompt (case, whitespace and Unicode folded); `exact-pair` is
      reported as well when the response is also the same.
    - `near`: a MinHash near-duplicate of a train row with Jaccard similarity >= `threshold`
      (shared signatures, LSH band keys across the two splits, candidates verified exactly).
    - `ngram`: the row is substantially in train: at least `min_coverage` (80%) of its words lie in
      windows of `ngram` (13) consecutive normalized words that also occur in train, in any train
      row (the union, as PaLM's 70%-of-8-grams and Llama 2's 80%-of-tokens contamination rules
      count it); the similarity reported is that coverage. A row shorter than the window is one
      window of its whole text, so it matches only a row with exactly the same words. Windows
      found in more than `max_window_share` of the rows compared against (and in at least
      `boilerplate_min_rows` of them) are boilerplate, such as a disclaimer pasted into every
      ticket, and are ignored.

    One shared phrase is not a leak: two different math problems may share "The first movie is 1
    hour and 30 minutes long while the second movie is", and templated support replies share stock
    sentences. A row that shares windows below `min_coverage` is either
    - `LEAK004` (warning): the same template or a light edit of the train row sharing most windows
      with it: their words, numbers masked, align at `template_similarity` (80%) or more (difflib's
      ratio), as in "A train travels 270 miles in 3 hours..." against "A plane travels 1200 miles
      in 3 hours...". Worth a look, not counted as a leak, nothing excluded; or
    - `LEAK005` (info): a shared phrase, one note per eval file listing the rows and how many of
      their words they share.

    An exact leak whose label (text/label data) or structured answer (JSON targets, compared as
    parsed values) differs from that of every train copy is `LEAK003`, "leaked with a conflicting
    label": the eval row is both seen in training and taught another answer there. Free-text
    answers are not compared (another wording is no conflict).

    Matching uses what the user wrote: the system prompt is left out (`include_system = false`),
    so a system prompt shared by train and eval never counts as a leak. Responses are not
    compared except by `exact-pair`.

    Each eval file is also compared with the eval files given before it: a row of `test.jsonl`
    that is also in `eval.jsonl` is reported on its `test.jsonl` line (code `LEAK002`).
    There is one finding per leaked eval row, naming the matching lines (first ten in `related`,
    the count in `data.train_matches`) and the best similarity (1.0 for exact; Jaccard for near;
    the coverage for ngram).

    Leaked eval rows leave the clean eval count (`exclude = "eval"`). With `exclude = "train"`
    the matching train rows leave the clean train count instead, so the eval set stays whole;
    `"both"` removes both. A leak between two eval files always removes the later row. The check
    fails when the leaked share of any eval file is above `max_leakage_rate` (default 0: any leak
    fails); leaks at or below it are warnings.

    ## Why is this bad?
    An eval row the model saw in training measures memory, not skill: every score computed on a
    contaminated eval set is inflated, and the decision to ship is taken on false confidence.
    Evaluation and hold-out sets must be separate from the training corpus.

    ## Example
    ```jsonl
    {"prompt": "My order 1234 never arrived, the tracking page has not moved for a week.", "completion": "..."}
    ```
    The same ticket in `train.jsonl` (line 88) and in `eval.jsonl` (line 3) is reported on
    `eval.jsonl:3` as an `exact` leak of line 88. Remove it from one side, or deduplicate the
    split before sampling the eval set.
    """

    id = "leakage"
    code = "LEAK001"
    provides = frozenset({"held-out-eval", "eval-leakage"})
    requires = frozenset({"eval"})

    @dataclass(frozen=True)
    class Options:
        detectors: list = option(list(DETECTORS), "Detectors to run: exact, exact-pair, near, ngram.")
        threshold: float = option(0.8, "Jaccard similarity at which a near-duplicate counts as a leak.")
        ngram: int = option(13, "Words per n-gram window.")
        min_coverage: float = option(
            0.8, "Share of an eval row's words inside windows also found in train at which it is an ngram leak.")
        template_similarity: float = option(
            0.8, "Word alignment (numbers masked) with a train row at which a partial overlap is the same template.")
        max_window_share: float = option(
            0.01, "Windows found in more than this share of the compared rows are boilerplate and ignored.")
        boilerplate_min_rows: int = option(
            10, "A window is boilerplate only if also found in at least this many rows (protects small train sets).")
        include_system: bool = option(False, "Match the system prompt as well (it is left out by default).")
        max_leakage_rate: float = option(0.0, "Leaked share of an eval file above which the check fails.")
        exclude: str = option("eval", "Rows to remove from the clean set: eval, train or both.", choices=EXCLUDE)

        def __post_init__(self):
            unknown = [d for d in self.detectors if d not in DETECTORS]
            if unknown:
                raise ValueError(f"unknown detector '{unknown[0]}' (choose from {', '.join(DETECTORS)})")
            if not 0.0 < self.threshold <= 1.0:
                raise ValueError("threshold must be in (0, 1]")
            if not 1 <= self.ngram <= 64:
                raise ValueError("ngram must be between 1 and 64")
            for name in ("min_coverage", "template_similarity"):
                if not 0.0 < getattr(self, name) <= 1.0:
                    raise ValueError(f"{name} must be in (0, 1]")
            if not 0.0 <= self.max_window_share <= 1.0:
                raise ValueError("max_window_share must be in [0, 1]")
            if self.boilerplate_min_rows < 1:
                raise ValueError("boilerplate_min_rows must be >= 1")
            if not 0.0 <= self.max_leakage_rate <= 1.0:
                raise ValueError("max_leakage_rate must be in [0, 1]")
            if self.exclude not in EXCLUDE:
                raise ValueError(f"exclude must be one of {', '.join(EXCLUDE)}")

    # ------------------------------------------------------------------------------------------------
    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        text = "prompt" if self.options.include_system else "input"
        return frozenset({f"text:{text}", f"text-keys:{text}", f"text:{text}+tools", f"text-keys:{text}+tools",
                          f"lsh-band-keys:{text}", f"ngram-windows:{text}", f"ngram-matches:{text}", "text-keys:tools",
                          "no-text-keys"}
                         | ({similarity.banding(text, self.options.threshold)} if "near" in self.options.detectors
                            else set()))

    def run(self, ctx):
        import numpy as np

        opts = self.options
        text = "prompt" if opts.include_system else "input"
        eval_sources = ctx.sources("eval")
        # order of a row: -1 for train, the eval file's position otherwise; a row may leak only from
        # rows of a lower order (train, or an eval file given before its own).
        order = np.full(ctx.frame.height, -2, dtype=np.int32)
        for data in ctx.files:
            order[data.first_row:data.first_row + data.lines] = (
                -1 if data.split == "train" else eval_sources.index(data.path))
        valid = ctx.rows().select("row", "split", "source", "line")
        valid_ids = valid["row"].to_numpy()
        valid_order = order[valid_ids]

        parts, conflicts, overlaps = [], {}, None
        if "exact" in opts.detectors or "exact-pair" in opts.detectors:
            exact, conflicts = self._exact(ctx, text, valid_ids, valid_order)
            parts.append(exact)
        if "near" in opts.detectors:
            parts.append(self._near(ctx, text, valid_ids, valid_order, len(eval_sources)))
        if "ngram" in opts.detectors:
            ngram, overlaps = self._ngram(ctx, text, valid_ids, valid_order, order)
            parts.append(ngram)
        return self._report(ctx, _pairs(parts), valid, eval_sources, order, conflicts, overlaps)

    # -- detectors -------------------------------------------------------------------------------
    def _exact(self, ctx, text, valid_ids, valid_order):
        """(pairs of the exact detectors; {eval row: (its target, the train rows' targets)} for inputs
        found in train whose label or structured answer differs from every train copy's)."""
        import polars as pl

        keys = ctx.text_keys(text + "+tools")[valid_ids]  # equal keys: equal texts, same functions offered
        rows = (pl.DataFrame({"row": valid_ids, "order": valid_order, "key": keys[:, 0], "key2": keys[:, 1]})
                .filter(pl.Series(keys[:, 2] > 0)))
        pairs = (rows.filter(pl.col("order") >= 0)
                 .join(rows, on=["key", "key2"], suffix="_ref")
                 .filter(pl.col("order_ref") < pl.col("order"))
                 .select(eval_row="row", ref_row="row_ref"))
        out = []
        if "exact" in self.options.detectors:
            out.append(pairs.with_columns(detector=pl.lit("exact"), similarity=pl.lit(1.0), weight=pl.lit(1.0)))
        if not pairs.height:
            return _pairs(out), {}
        if "exact-pair" in self.options.detectors:
            target = ctx.frame["label" if ctx.label_task() else "response"].cast(pl.String)
            same = (normalize_series(target.gather(pairs["eval_row"]))
                    == normalize_series(target.gather(pairs["ref_row"])))
            out.append(pairs.filter(same.to_numpy()).with_columns(
                detector=pl.lit("exact-pair"), similarity=pl.lit(1.0), weight=pl.lit(1.0)))
        return _pairs(out), _conflicts(ctx, pairs)

    def _near(self, ctx, text, valid_ids, valid_order, n_eval_files):
        import polars as pl

        out = []
        for k in range(n_eval_files):
            rows, others = valid_ids[valid_order == k], valid_ids[(valid_order < k) & (valid_order >= -1)]
            if not len(rows) or not len(others):
                continue
            found = similarity.near_pairs(ctx, rows, other_rows=others, text=text,
                                          threshold=self.options.threshold)
            out.append(found.select(eval_row="left", ref_row="right", detector=pl.lit("near"),
                                    similarity="similarity", weight="similarity"))
        return _pairs(out)

    def _ngram(self, ctx, text, valid_ids, valid_order, order):
        """(leak pairs, partial overlaps): an eval row is an ngram leak when `min_coverage` of its
        words lie in windows also found in the rows it is compared with (the union of them, as
        PaLM and Llama 2 measure contamination); a row sharing fewer is a partial overlap, one frame
        row (eval_row, ref_row: the row sharing most windows, coverage, covered words, words)."""
        import numpy as np
        import polars as pl

        opts = self.options
        n = opts.ngram
        is_valid = np.zeros(ctx.frame.height, dtype=bool)
        is_valid[valid_ids] = True

        eval_ids = valid_ids[valid_order >= 0].astype(np.int64)
        # hashed here, not read from the train rows' artefact: the eval side is small
        eval_positions = row_windows(windows_of_rows(ctx, text, n, eval_ids), eval_ids, positions=True)
        # rows offering different functions never match: the functions are part of the input
        tools = ctx.text_keys("tools")[:, 0]
        eval_positions = eval_positions.with_columns(
            order=pl.Series(order[eval_positions["row"].to_numpy()], dtype=pl.Int32),
            tools=pl.Series(tools[eval_positions["row"].to_numpy()]))
        eval_windows = eval_positions.select("row", "hash", "tools").unique()
        # The train rows' windows that occur in some eval row, kept per block for these eval windows:
        # the join never sees the whole train window table.
        matches = matching_windows(ctx, text, n, eval_windows["hash"], _SCAN_WINDOWS)
        found = [eval_windows.select("row", "hash")]
        for data in ctx.files:
            if data.split == "train":
                rows = np.arange(data.first_row, data.first_row + data.lines, dtype=np.int64)
                train = row_windows(matches.slice(data.first_row, data.lines), rows)
                found.append(train.filter(pl.Series(is_valid[train["row"].to_numpy()])))
        windows = pl.concat(found).unique()
        windows = windows.with_columns(order=pl.Series(order[windows["row"].to_numpy()], dtype=pl.Int32),
                                       tools=pl.Series(tools[windows["row"].to_numpy()]))
        windows_per_row = eval_positions.group_by("row").len("windows")

        leaks, partial = [], []
        for k in range(int(valid_order.max(initial=-1)) + 1):
            ref = windows.filter(pl.col("order") < k)
            n_ref = int(((valid_order < k) & (valid_order >= -1)).sum())
            if not n_ref or not ref.height:
                continue
            counts = ref.group_by("hash").len("rows")
            boiler = counts.filter((pl.col("rows") > opts.max_window_share * n_ref)
                                   & (pl.col("rows") >= opts.boilerplate_min_rows))["hash"].implode()
            ref = ref.filter(~pl.col("hash").is_in(boiler))
            # the words of a row covered by shared windows: the union of [pos, pos + n) over them
            covered = (eval_positions.filter(pl.col("order") == k)
                       .join(ref.select("hash", "tools").unique(), on=["hash", "tools"], how="semi")
                       .select("row", "pos").unique().sort("row", "pos")
                       .group_by("row", maintain_order=True)
                       .agg(covered=pl.col("pos").diff().clip(upper_bound=n).fill_null(n).sum())
                       .join(windows_per_row, on="row")
                       # a row of L >= n words has L - n + 1 windows; a shorter one is one window of all its words
                       .with_columns(words=pl.col("windows") + (n - 1))
                       .with_columns(coverage=pl.min_horizontal(pl.col("covered") / pl.col("words"), pl.lit(1.0))))
            shared = (eval_windows.join(covered.select("row", "coverage"), on="row")
                      .join(ref.select(ref_row="row", hash="hash", tools="tools"), on=["hash", "tools"])
                      .group_by("row", "ref_row").agg(pl.len().alias("shared"), pl.col("coverage").first())
                      .join(windows_per_row, on="row"))
            leaks.append(shared.filter(pl.col("coverage") >= opts.min_coverage).select(
                eval_row="row", ref_row="ref_row", detector=pl.lit("ngram"), similarity="coverage",
                weight=pl.col("shared") / pl.col("windows")))
            best = (shared.filter(pl.col("coverage") < opts.min_coverage)
                    .sort("row", "shared", "ref_row", descending=[False, True, False])
                    .group_by("row", maintain_order=True).first()
                    .join(covered.select("row", "covered", "words"), on="row"))
            partial.append(best.select(eval_row="row", ref_row="ref_row", coverage="coverage",
                                       covered=pl.min_horizontal("covered", "words"), words="words"))
        partial_schema = {"eval_row": pl.Int64, "ref_row": pl.Int64, "coverage": pl.Float64,
                          "covered": pl.Int64, "words": pl.Int64}
        overlaps = (pl.concat([p.cast(partial_schema) for p in partial]) if partial
                    else pl.DataFrame(schema=partial_schema))
        return _pairs(leaks), overlaps

    # -- findings and metrics --------------------------------------------------------------------------
    def _report(self, ctx, pairs, valid, eval_sources, order, conflicts, overlaps):
        import polars as pl

        opts = self.options
        info = valid.select("row", "source", "line")
        rank = {d: i for i, d in enumerate(DETECTORS)}
        per_pair = (pairs.group_by("eval_row", "ref_row")
                    .agg(pl.col("detector").unique(), pl.col("similarity").max(), pl.col("weight").max())
                    .join(info.select(ref_row="row", ref_source="source", ref_line="line"), on="ref_row"))
        per_pair = (per_pair.with_columns(ref_order=pl.Series(order[per_pair["ref_row"].to_numpy()], dtype=pl.Int32))
                    .sort("eval_row", "ref_order", "ref_line"))
        per_row = (per_pair.group_by("eval_row", maintain_order=True)
                   .agg(detectors=pl.col("detector").explode().unique(),
                        matches=pl.len(),
                        ref_rows=pl.col("ref_row").head(_SHOWN),
                        ref_sources=pl.col("ref_source").head(_SHOWN),
                        ref_lines=pl.col("ref_line").head(_SHOWN),
                        best=pl.col("similarity").max(),
                        # the closest match: highest similarity, then the most windows shared with it
                        best_row=pl.col("ref_row").sort_by(["similarity", "weight"], descending=True,
                                                           maintain_order=True).first(),
                        train_refs=pl.col("ref_row").filter(pl.col("ref_order") == -1),
                        from_train=(pl.col("ref_order") == -1).any())
                   .join(info.select(eval_row="row", source="source", line="line"), on="eval_row")
                   .sort("source", "line"))

        rows_per_file = {src: valid.filter(pl.col("source") == src).height for src in eval_sources}
        leaked_per_file = dict.fromkeys(eval_sources, 0)
        by_detector = {src: dict.fromkeys(opts.detectors, 0) for src in eval_sources}
        for record in per_row.iter_rows(named=True):
            leaked_per_file[record["source"]] += 1
            for detector in record["detectors"]:
                by_detector[record["source"]][detector] += 1
        rate = {src: (leaked_per_file[src] / rows_per_file[src]) if rows_per_file[src] else 0.0
                for src in eval_sources}
        failing = {src for src in eval_sources if rate[src] > opts.max_leakage_rate}

        texts = _display_texts(ctx, per_row, opts.include_system)
        # the places of the rows a finding names, not of every row (a dict of 100,000 rows costs ~50 ms)
        named = [per_row["best_row"]]
        if overlaps is not None:
            named += [overlaps["eval_row"], overlaps["ref_row"]]
        places = info.filter(pl.col("row").is_in(pl.concat(named).cast(info.schema["row"]).implode()))
        line_of = dict(zip(places["row"].to_list(), places["line"].to_list()))
        source_of = dict(zip(places["row"].to_list(), places["source"].to_list()))
        findings, excluded = [], set()
        conflicting = 0
        for record in per_row.iter_rows(named=True):
            detectors = sorted(record["detectors"], key=rank.__getitem__)
            best_row = record["best_row"]
            best_source, best_line = source_of[best_row], line_of[best_row]
            conflict = conflicts.get(record["eval_row"])
            where = (f"{'Leaks from' if record['from_train'] else 'Also in'} "
                     f"{os.path.basename(best_source)} line {best_line}")
            if conflict is not None:
                conflicting += 1
                what = "label" if ctx.label_task() else "answer"
                theirs = ", ".join(f"'{_short(v)}'" for v in conflict[1])
                message = (f"{where} with a conflicting {what} ('{_short(conflict[0])}' here, {theirs} there; "
                           f"{', '.join(detectors)}; similarity {record['best']:.2f})")
            else:
                message = f"{where} ({', '.join(detectors)}; {_similarity(detectors, record['best'], opts.ngram)})"
            if record["matches"] > 1:
                message += f"; {record['matches']:,} matching rows"
            code = "LEAK002" if not record["from_train"] else (CONFLICT if conflict is not None else self.code)
            extra = {"conflict": {"eval": conflict[0], "train": conflict[1]}} if conflict is not None else {}
            findings.append(self.finding(
                message, source=record["source"], line=record["line"], split="eval",
                severity=Severity.ERROR if record["source"] in failing else Severity.WARNING,
                related=list(zip(record["ref_sources"], record["ref_lines"])),
                code=code, detectors=detectors, train_lines=record["ref_lines"], train_matches=record["matches"],
                similarity=round(record["best"], 4), **extra,
                members=[{"path": record["source"], "line": record["line"], "text": texts[record["eval_row"]]},
                         {"path": best_source, "line": best_line, "text": texts[best_row]}],
            ))
            # `source` (the best match's file) is also the name of finding()'s location argument
            findings[-1] = dataclasses.replace(findings[-1], data={**findings[-1].data, "source": best_source})
            if opts.exclude in ("eval", "both") or not record["from_train"]:
                excluded.add(record["eval_row"])
            if opts.exclude in ("train", "both"):
                excluded.update(record["train_refs"])

        leaked_rows = set(per_row["eval_row"].to_list())
        templates, phrases = self._overlaps(ctx, overlaps, leaked_rows, source_of, line_of)
        findings += templates + phrases
        total_rows = sum(rows_per_file.values())
        total_leaked = sum(leaked_per_file.values())
        metrics = {
            "eval_rows": total_rows,
            "leaked_rows": total_leaked,
            "leakage_rate": round(total_leaked / total_rows, 6) if total_rows else 0.0,
            "max_leakage_rate": opts.max_leakage_rate,
            "per_file": {src: {"rows": rows_per_file[src], "leaked": leaked_per_file[src],
                               "rate": round(rate[src], 6), "by_detector": by_detector[src]}
                         for src in eval_sources},
            "by_detector": {d: sum(by_detector[src][d] for src in eval_sources) for d in opts.detectors},
            "conflicting_rows": conflicting,
            "template_rows": len(templates),
            "shared_phrase_rows": sum(len(f.data["rows"]) for f in phrases),
            "excluded_rows": len(excluded),
        }
        if total_leaked:
            summary = (f"{total_leaked:,} of {total_rows:,} eval rows ({total_leaked / total_rows:.1%}) "
                       f"leak from train or an earlier eval file")
        else:
            summary = f"No leakage: none of {total_rows:,} eval rows matches a train row"
        if templates:
            summary += f"; {counted(len(templates), 'row')} with the template of a train row"
        return self.result(findings, summary=summary, metrics=metrics, excluded=excluded)

    def _overlaps(self, ctx, overlaps, leaked_rows, source_of, line_of):
        """Findings for the eval rows that share windows with train below `min_coverage`: the same
        template (`TEMPLATE`, a warning per row) or a shared phrase (`PHRASE`, one note per eval file).
        Neither is a leak: nothing is excluded and the leakage rate does not count them."""
        import difflib

        import polars as pl

        if overlaps is None or not overlaps.height:
            return [], []
        overlaps = overlaps.filter(~pl.col("eval_row").is_in(pl.Series(sorted(leaked_rows), dtype=pl.Int64).implode()))
        spec = "prompt" if self.options.include_system else "input"
        ids = sorted(set(overlaps["eval_row"].to_list()) | set(overlaps["ref_row"].to_list()))
        words = dict(zip(ids, (_template_words(t) for t in
                               ctx.text_rows(spec, ids).to_list())))
        templates, phrases = [], {}
        for row, ref, coverage, covered, total in overlaps.sort("eval_row").iter_rows():
            source, line = source_of[row], line_of[row]
            ref_source, ref_line = source_of[ref], line_of[ref]
            aligned = difflib.SequenceMatcher(None, words[row], words[ref], autojunk=False).ratio()
            where = f"{os.path.basename(ref_source)} line {ref_line}"
            if aligned >= self.options.template_similarity:
                templates.append(self.finding(
                    f"Same template as {where}, other names or numbers ({aligned:.0%} of the words align, "
                    f"{coverage:.0%} in shared {self.options.ngram}-word phrases); not counted as a leak",
                    source=source, line=line, split="eval", severity=Severity.WARNING, code=TEMPLATE,
                    related=[(ref_source, ref_line)], alignment=round(aligned, 4), coverage=round(coverage, 4),
                    train_line=ref_line))
                templates[-1] = dataclasses.replace(templates[-1], data={**templates[-1].data, "source": ref_source})
            else:
                phrases.setdefault(source, []).append(
                    {"line": line, "path": ref_source, "train_line": ref_line, "shared_words": covered,
                     "words": total, "coverage": round(coverage, 4)})
        notes = []
        for source, rows in sorted(phrases.items()):
            first = rows[0]
            shown = "; ".join(f"line {r['line']} shares {r['shared_words']} of its {r['words']} words with "
                              f"{os.path.basename(r['path'])} line {r['train_line']}" for r in rows[:3])
            more = f" and {len(rows) - 3:,} more" if len(rows) > 3 else ""
            notes.append(self.finding(
                (f"1 eval row shares a phrase with train but is no leak (under {self.options.min_coverage:.0%} "
                 f"of its words): {shown}" if len(rows) == 1 else
                 f"{len(rows):,} eval rows share a phrase with train but are no leaks (under "
                 f"{self.options.min_coverage:.0%} of their words): {shown}{more}"),
                source=source, line=first["line"], split="eval", severity=Severity.INFO, code=PHRASE,
                related=[(source, r["line"]) for r in rows[1:]], rows=rows))
        return templates, notes

def _conflicts(ctx, pairs):
    """{eval row: (its target, the distinct targets of its exact train copies)} for the eval rows whose
    label, or structured answer (compared as parsed JSON), differs from that of every copy. Free-text
    answers are not compared: another wording of an answer is no conflict."""
    import polars as pl

    eval_rows, ref_rows = pairs["eval_row"].to_list(), pairs["ref_row"].to_list()
    if ctx.label_task():
        labels = ctx.frame["label"]
        mine = [None if v is None else str(v) for v in labels.gather(pairs["eval_row"]).to_list()]
        theirs = [None if v is None else str(v) for v in labels.gather(pairs["ref_row"]).to_list()]
    else:
        response = ctx.frame["response"]
        ids = sorted(set(eval_rows) | set(ref_rows))
        texts = dict(zip(ids, response.gather(pl.Series(ids, dtype=pl.Int64)).to_list()))
        parsed = {row: shapes.parse_json(text) if text is not None else shapes.NOT_JSON
                  for row, text in texts.items()}
        if not shapes.structured(list(parsed.values()), ctx.settings.task, ctx.schema is not None):
            return {}
        value = {row: (texts[row] or "").strip() if parsed[row] is shapes.NOT_JSON else shapes.canonical(parsed[row])
                 for row in texts}
        mine, theirs = [value[row] for row in eval_rows], [value[row] for row in ref_rows]
    copies: dict[int, tuple] = {}
    for row, own, other in zip(eval_rows, mine, theirs):
        copies.setdefault(row, (own, set()))[1].add(other)
    return {row: (own, sorted(o for o in others if o is not None)) for row, (own, others) in copies.items()
            if own is not None and own not in others and any(o is not None for o in others)}


def _similarity(detectors, best, n):
    if detectors == ["ngram"]:
        return f"{best:.0%} of its words in {n}-word phrases of train"
    return f"similarity {best:.2f}"


def _short(text, limit=40):
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[:limit - 1] + "…"


_TEMPLATE_WORD = re.compile(r"\w+")


def _template_words(text):
    """The words of a normalized text with every number written as 0: a template's other numbers align."""
    return ["0" if word.isdigit() else word for word in _TEMPLATE_WORD.findall(text or "")]


def _display_texts(ctx, per_row, include_system):
    """Original text (user side unless include_system) of the eval rows and their best matches, cut short."""

    ids = sorted(set(per_row["eval_row"].to_list()) | set(per_row["best_row"].to_list()))
    if not ids:
        return {}
    picked = ctx.frame.select("system", "prompt").gather(ids)
    if not include_system:
        picked = picked.select(prompt=user_side())
    out = {}
    for row, value in zip(ids, picked["prompt"].to_list()):
        value = value or ""
        out[row] = value if len(value) <= _MEMBER_CHARS else value[:_MEMBER_CHARS - 1] + "…"
    return out


def _pairs(parts):
    """Detector results (eval_row, ref_row, detector, similarity, weight) as one frame, empty when none.
    `weight` ranks the matches of one eval row: the pair's own similarity (for ngram, the share of the
    row's windows found in that one row, while `similarity` is the row's coverage by all of them)."""
    import polars as pl

    schema = {"eval_row": pl.Int64, "ref_row": pl.Int64, "detector": pl.String, "similarity": pl.Float64,
              "weight": pl.Float64}
    if parts:
        return pl.concat([p.select(list(schema)).cast(schema) for p in parts])
    return pl.DataFrame(schema=schema)
