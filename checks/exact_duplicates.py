"""Check `exact-duplicates`: rows whose normalized prompt and response are identical."""

from __future__ import annotations

from auditor import MAX_RELATED, Check, Severity, counted, similarity

MAX_LISTED = 10


class ExactDuplicates(Check):
    """Rows whose prompt and response are identical after normalization.

    ## What it does
    Within each file (train and every eval file, separately), groups the valid rows whose
    normalized system prompt, user side, response and label are all identical (normalization:
    Unicode NFKC, case-folding, whitespace collapsed), so copies differing only in case, spacing
    or Unicode form are caught. Each group of two or more rows is one finding, on its first line,
    with the other lines as related locations; `data.lines` lists every line and `data.members`
    shows the first two copies side by side. Every row but the first of a group is excluded from
    the clean set, so the verdict counts each example once.

    ## Why is this bad?
    Duplicates inflate the example count (a set of 800 rows holding 300 copies does not have 800
    examples) and over-weight the copied examples, so the model over-fits to them. Duplicates
    across train and eval are leakage, reported by the `leakage` check.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "Where is my parcel?"}, {"role": "assistant", "content": "It ships today."}]}
    {"messages": [{"role": "user", "content": "where is  my parcel?"}, {"role": "assistant", "content": "It ships TODAY."}]}
    ```
    Line 2 is a copy of line 1; it is reported and excluded. Remove the copies (keep one), or if
    an example matters more, weight it explicitly rather than by repetition.
    """

    id = "exact-duplicates"
    code = "DUP001"
    provides = frozenset({"cluster-sizes", "row-groups"})

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset({"exact-groups", "text:input+response", "text-keys:input+response", "text-keys:system",
                          "text-keys:label", "no-text-keys"})

    def run(self, ctx):
        import polars as pl

        reps = similarity.exact_groups(ctx)
        valid = ctx.frame.filter(pl.col("valid")).select("row", "source", "split", "line")
        valid = valid.with_columns(rep=pl.Series(reps[valid["row"].to_numpy()]))
        # the rows of groups of two or more, before grouping: most rows of most sets have no copy
        copied = valid.filter(pl.col("row") != pl.col("rep"))["rep"]
        members = valid.filter(pl.col("rep").is_in(copied.unique().implode()))
        # Only the first lines of a group are listed: a group of a million copies stays a few numbers here.
        groups = (members.group_by("rep").agg(pl.len().alias("size"), pl.col("row").sort().head(2),
                                           pl.col("line").sort_by("row").head(MAX_RELATED),
                                           pl.col("source").first(), pl.col("split").first())
                  .filter(pl.col("size") > 1).sort("rep"))
        texts = similarity.member_texts(ctx, [r for rows in groups["row"] for r in rows])
        # every row but the first (its representative, the group's smallest row id) is a copy
        excluded = valid.filter(pl.col("row") != pl.col("rep"))["row"].to_numpy()
        findings, sizes = [], {}
        for k, (size, lines, source, split) in enumerate(groups.select("size", "line", "source", "split").iter_rows()):
            sizes[size] = sizes.get(size, 0) + 1
            shown = ", ".join(f"{n:,}" for n in lines[:MAX_LISTED]) + (f" and {size - MAX_LISTED:,} more"
                                                              if size > MAX_LISTED else "")
            members = [{"line": line, "text": text} for line, text in zip(lines[:2], texts[2 * k : 2 * k + 2])]
            findings.append(self.finding(
                f"Same prompt and response on {size:,} lines: {shown}", source=source, line=lines[0],
                split=split, severity=Severity.WARNING, related=[(source, line) for line in lines[1:MAX_RELATED]],
                lines=lines[:MAX_RELATED], line_count=size, members=members))
        summary = (f"{counted(len(findings), 'group')} of identical rows, {counted(len(excluded), 'copy', 'copies')} "
                   "excluded" if findings
                   else f"no exact duplicates among {valid.height:,} rows")
        return self.result(findings, summary=summary, excluded=excluded,
                           metrics={"rows": valid.height, "clusters": len(findings), "duplicate_rows": len(excluded),
                                    "cluster_sizes": {str(k): v for k, v in sorted(sizes.items())}})
