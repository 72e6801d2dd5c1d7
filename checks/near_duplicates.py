"""Check `near-duplicates`: rows that are reworded copies of each other (MinHash + LSH)."""

from __future__ import annotations

from dataclasses import dataclass

from auditor import MAX_RELATED, Check, Severity, counted, option, similarity

MAX_LISTED = 10
MAX_PAIRS = 100
MEMBERS_SHOWN = 4  # rows of a cluster side by side (the HTML report shows four columns)
# The `fields` option -> the text selection compared (see the docstring: "prompt" is the user side).
FIELDS = {"prompt+response": "input+response", "prompt": "input", "response": "response"}


class NearDuplicates(Check):
    """Rows that are near-copies of each other: MinHash + LSH over word n-grams.

    ## What it does
    Within each file (train and every eval file, separately; train/eval overlap is the `leakage`
    check's job), compares the normalized text of the valid rows as sets of word `ngram`-grams
    (texts with fewer words than `ngram`, e.g. short classification texts, are compared as
    character 5-grams) and reports the groups of rows whose Jaccard similarity is at least
    `threshold`.

    - `fields`: what is compared. `prompt+response` (default), `prompt` or `response`. "prompt"
      means the user side *without* the system prompt: a system prompt shared by every row would
      add the same shingles to every row and inflate every pair's similarity (two unrelated short
      questions under one long system prompt would look like copies).
    - Candidates come from MinHash signatures (`num_perm` permutations, datasketch-compatible)
      and LSH banding. Deliberate deviation from datasketch's `MinHashLSH`: the band/row split is
      the one datasketch chooses for `threshold - 0.15`, not for `threshold`, because its split
      for 0.8 finds a pair of similarity exactly 0.8 only ~40% of the time; every candidate is
      verified afterwards, so the lower tuning buys recall and costs no precision.
    - Each candidate pair is verified: `verify = "jaccard"` (default) computes the exact Jaccard
      similarity of the two shingle sets, `"estimate"` uses the MinHash estimate (faster on huge
      data, noisier near the threshold).
    - Pairs with an identical prompt (system prompt and user side) but a different response or
      label are contradictions, not duplicates: they are left to the `contradictions` check.
    - With `prompt+response`, a pair is a copy only if the responses alone are also at least
      `threshold` alike, and the labels (text/label data) are the same: rows whose prompts are
      alike but whose targets are not train two different things, such as the paths of a
      conversation tree that share their opening turns (their long shared context would otherwise
      make them look like copies), or the minimal pairs of an intent set ("change my oil" /
      "change my tires"). Near-identical texts with two labels are the `contradictions` check's.
    - Linked pairs form clusters (union-find, so a cluster may hold pairs below the threshold
      joined through a middle row). Rows that are exact duplicates of each other count once: they
      are the `exact-duplicates` check's findings, and a cluster that is only one exact group is
      not reported again (a larger cluster lists the first row of each exact group).

    One finding per cluster, on its first line: `data.lines`, `data.similarity` = [min, max] of
    the verified pairs that link the cluster, `data.pairs` = those pairs as [line, line,
    similarity] (at most 100), and `data.members` with the first four rows side by side. Every row
    but the first of a cluster is excluded from the clean set.

    The signatures and band keys are computed once per file, vectorized (polars + numpy), shared
    with `contradictions` and `leakage`, and kept in the incremental cache.

    ## Why is this bad?
    Reworded copies inflate the example count as much as exact copies do, and over-weight one
    behaviour: a set of 800 rows with 300 near-copies has about 500 distinct examples.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "My order #1234 arrived damaged, the box was crushed and the mug inside is broken."}, {"role": "assistant", "content": "Sorry! A replacement ships today."}]}
    {"messages": [{"role": "user", "content": "My order #1234 arrived damaged, the box was crushed and the cup inside is broken."}, {"role": "assistant", "content": "Sorry! A replacement ships today."}]}
    ```
    One word differs: the second row is reported and excluded. Keep one of them, or make the
    rewording meaningful (different facts, not different words).
    """

    id = "near-duplicates"
    code = "DUP002"
    provides = frozenset({"cluster-sizes", "row-groups"})

    @dataclass(frozen=True)
    class Options:
        threshold: float = option(0.8, "Jaccard similarity of the shingle sets at which two rows are near-duplicates.")
        num_perm: int = option(128, "MinHash permutations (signature length).")
        ngram: int = option(3, "Words per shingle (shorter texts use character 5-grams).")
        fields: str = option("prompt+response", "Text compared: prompt (user side, without the system prompt), "
                             "response, or both.", choices=tuple(FIELDS))
        verify: str = option("jaccard", "How candidate pairs are verified: exact Jaccard or the MinHash estimate.",
                             choices=("jaccard", "estimate"))

        def __post_init__(self):
            if not 0.0 < self.threshold <= 1.0:
                raise ValueError(f"threshold must be in (0, 1], got {self.threshold}")
            if not 16 <= self.num_perm <= 1024:
                raise ValueError(f"num_perm must be between 16 and 1024, got {self.num_perm}")
            if not 1 <= self.ngram <= 10:
                raise ValueError(f"ngram must be between 1 and 10, got {self.ngram}")
            if self.fields not in FIELDS:
                raise ValueError(f"fields must be one of {', '.join(FIELDS)}, got {self.fields!r}")
            if self.verify not in ("jaccard", "estimate"):
                raise ValueError(f"verify must be 'jaccard' or 'estimate', got {self.verify!r}")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        text = FIELDS[self.options.fields]
        return frozenset({"exact-groups", "text-keys:label", "text-keys:system", "no-text-keys", f"text:{text}",
                          f"text-keys:{text}", f"lsh-band-keys:{text}",
                          similarity.banding(text, self.options.threshold, num_perm=self.options.num_perm,
                                             ngram=self.options.ngram)})

    def run(self, ctx):
        import numpy as np
        import polars as pl

        opts = self.options
        text = FIELDS[opts.fields]
        reps = similarity.exact_groups(ctx)
        frame = ctx.frame
        findings, excluded, sizes = [], [], {}
        pairs_found = contradictions = different_targets = 0
        if text == "input+response":  # the targets of a pair must be alike too (see the docs)
            has_response = (frame["response"].fill_null("").str.strip_chars().str.len_bytes() > 0).to_numpy()
            label_keys = ctx.text_keys("label")  # shared with exact_groups
            has_label = label_keys[:, 2] > 0
        for data in ctx.files:
            rows = frame["row"].slice(data.first_row, data.lines).filter(frame["valid"].slice(data.first_row, data.lines))
            pairs = similarity.near_pairs(ctx, rows, text=text, threshold=opts.threshold, num_perm=opts.num_perm,
                                          ngram=opts.ngram, verify=opts.verify,
                                          same=tuple(sorted({"system", "input", "response", "label"}
                                                            - set(text.split("+")))))
            left, right, sim = (pairs[c].to_numpy() for c in ("left", "right", "similarity"))
            copies = reps[left] == reps[right]  # exact copies are exact-duplicates' finding, not a near pair
            left, right, sim = left[~copies], right[~copies], sim[~copies]
            conflict = similarity.same_prompt(ctx, left, right)
            contradictions += int(conflict.sum())
            left, right, sim = left[~conflict], right[~conflict], sim[~conflict]
            if text == "input+response" and len(left):
                # alike prompts with unlike responses (or other labels) train two different targets: no copies
                answered = has_response[left] & has_response[right]
                alike = similarity.pair_jaccard(ctx, "response", left, right, ngram=opts.ngram) >= opts.threshold
                labelled = has_label[left] & has_label[right]
                same_label = (label_keys[left, :2] == label_keys[right, :2]).all(axis=1)
                keep = (alike | ~answered) & (same_label | ~labelled)
                different_targets += int((~keep).sum())
                left, right, sim = left[keep], right[keep], sim[keep]
            # Exact copies count once: link representatives of exact groups.
            left, right = reps[left], reps[right]
            keep = left != right
            left, right, sim = left[keep], right[keep], sim[keep]
            pairs_found += len(left)
            if not len(left):
                continue
            ids, labels = similarity.clusters(left, right)
            edge_label = labels[np.searchsorted(ids, left)]
            first = data.first_row - 1
            stats = (pl.DataFrame({"label": edge_label, "a": left - first, "b": right - first, "sim": sim})
                     .unique(["a", "b"]).sort("a", "b").group_by("label", maintain_order=True)
                     .agg(pl.col("sim").min().alias("lo"), pl.col("sim").max().alias("hi"),
                          pl.concat_list("a", "b", pl.col("sim").round(4)).head(MAX_PAIRS).alias("pairs")))
            low = dict(zip(stats["label"].to_list(), stats["lo"].to_list()))
            high = dict(zip(stats["label"].to_list(), stats["hi"].to_list()))
            linked = dict(zip(stats["label"].to_list(), stats["pairs"].to_list()))
            order = np.lexsort((ids, labels))
            ids, labels = ids[order], labels[order]
            starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
            groups = np.split(ids, starts[1:])
            texts = similarity.member_texts(ctx, [int(r) for g in groups for r in g[:MEMBERS_SHOWN]])
            offsets = np.r_[0, np.cumsum([min(len(g), MEMBERS_SHOWN) for g in groups])]
            for k, group in enumerate(groups):
                members_rows = [int(r) for r in group]
                lines = [r - data.first_row + 1 for r in members_rows]
                lo, hi = round(low[int(group[0])], 4), round(high[int(group[0])], 4)
                excluded += members_rows[1:]
                sizes[len(lines)] = sizes.get(len(lines), 0) + 1
                shown = ", ".join(f"{n:,}" for n in lines[:MAX_LISTED]) + (f" and {len(lines) - MAX_LISTED:,} more"
                                                                  if len(lines) > MAX_LISTED else "")
                similar = f"{lo:.2f}" if f"{lo:.2f}" == f"{hi:.2f}" else f"{lo:.2f}-{hi:.2f}"
                findings.append(self.finding(
                    f"Near-duplicates on {len(lines):,} lines (similarity {similar}): {shown}", source=data.path,
                    line=lines[0], split=data.split, severity=Severity.WARNING,
                    related=[(data.path, line) for line in lines[1:MAX_RELATED]], lines=lines[:MAX_RELATED],
                    line_count=len(lines),
                    members=[{"line": line, "text": t}
                             for line, t in zip(lines[:MEMBERS_SHOWN], texts[offsets[k]:offsets[k + 1]])],
                    similarity=[lo, hi],
                    pairs=[[int(a), int(b), sim] for a, b, sim in linked[int(group[0])]]))
        compared = int(frame["valid"].sum())
        summary = (f"{counted(len(findings), 'cluster')} of near-duplicates, {counted(len(excluded), 'row')} excluded"
                   if findings
                   else f"no near-duplicates among {compared:,} rows (threshold {opts.threshold})")
        return self.result(findings, summary=summary, excluded=excluded,
                           metrics={"rows": compared, "clusters": len(findings), "duplicate_rows": len(excluded),
                                    "pairs": pairs_found, "same_prompt_pairs_skipped": contradictions,
                                    "different_response_pairs_skipped": different_targets,
                                    "threshold": opts.threshold, "fields": opts.fields,
                                    "cluster_sizes": {str(k): v for k, v in sorted(sizes.items())}})
