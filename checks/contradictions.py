"""Check `contradictions`: the same prompt taught with different labels or different answers."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from typing import Any

from auditor import MAX_RELATED, Check, Severity, counted, final_answer, option, shapes

LABELS = "CON001"
STRUCTURED = "CON002"
FREE_TEXT = "CON003"
MEMBERS = 4
MEMBER_TEXT = 300
MAX_REPRESENTATIVES = 64  # variants beyond this are not compared key by key in a message
MESSAGE_VARIANTS = 5


class Contradictions(Check):
    """Rows that give different labels or different answers to the same prompt.

    ## What it does
    Groups rows whose prompt is the same after normalization (case, whitespace, Unicode NFKC). For
    chat data the prompt is the whole conversation before the final assistant turn, system prompt
    included, so one user message under two different system prompts is two different prompts.
    With `near` on (the default), rows whose user side (the prompt without its system prompt) is a
    near-duplicate (word 3-gram Jaccard >= `threshold`, found through the audit's shared MinHash
    signatures and LSH buckets) and whose system prompt is identical join the same group; groups are
    the connected components of identical-or-near prompts. Train is checked as one set and every
    eval file on its own (overlap between train and eval is the `leakage` check's job).

    - `CON001` (error), classification data (a label column): a group whose rows carry different
      labels. The finding lists every line with its label, the label counts and the majority label.
    - `CON002` (error), structured targets: a group whose responses differ. JSON responses are
      compared as parsed values, so key order, whitespace and how a number is written (`1` or
      `1.0`) do not matter.
    - `CON003` (warning), free-text targets: a group whose responses commit to different final
      answers. Two free-text replies to one prompt rarely share their words and need not: a worked
      solution told another way, a paraphrase, the ranked alternative replies of a conversation
      tree, "You're welcome!" and "Glad I could help". So responses are compared by the answer
      they commit to, read the way evaluation harnesses read it (`auditor.answers`): GSM8K's
      `#### 7`, `\boxed{7}`, "The answer is 7", a reply opening with "Yes," or "No.", or a reply
      that is only a value (a number, yes/no, true/false, a choice letter), numbers compared by
      value. Responses that commit to no answer are alternatives, never contradictions. The rows
      stay in the clean set unless `drop_free_text` is on: a warning to read, not a verdict.

    Targets count as structured when `task` is `"structured"` or `"classification"`, or when a JSON
    Schema is configured; as free text when `task` is `"free-text"` (an explicit `task` wins over a
    schema). When the task is unknown, a group whose responses all parse as JSON is structured and
    any other group is free text.

    `resolve` decides what leaves the clean set (for free text only with `drop_free_text`):
    `drop-all` (every row of a contradicting group) or `keep-majority` (only the rows that disagree
    with the most common label, response or final answer; a tie removes the whole group). The
    finding sits on the group's first line; `related` holds the others, `data.prompt` the shared
    prompt (of the first line) and `data.members` the differing answers side by side.

    ## Why is this bad?
    Training data that gives two different answers to the same input teaches the model to guess, and
    caps the accuracy any model can reach on those inputs. Fix the wrong rows, or drop the group.

    ## Example
    ```jsonl
    {"text": "I was charged twice this month", "label": "billing"}
    {"text": "I was charged twice this month", "label": "refund"}
    {"text": "I was charged twice this month!", "label": "billing"}
    ```
    Three rows share one prompt with two labels: 'billing' (2, majority) and 'refund' (1). With
    `resolve = "keep-majority"` only the 'refund' row is removed.
    """

    id = "contradictions"
    code = LABELS
    provides = frozenset({"contradictions", "row-groups"})

    @dataclass(frozen=True)
    class Options:
        near: bool = option(True, "Also group prompts that are near-duplicates (same system prompt, user side "
                                  "at or above `threshold`), not only identical ones.")
        threshold: float = option(0.9, "Word 3-gram Jaccard at which two user sides (with `near`) count as "
                                       "the same prompt.")
        drop_free_text: bool = option(False, "Also remove the rows of free-text groups (CON003) from the clean set; "
                                             "by default they are reported and kept.")
        resolve: str = option("drop-all", "Rows removed from the clean set: every row of a contradicting group, or "
                                          "only the minority rows (a tie removes all).",
                              choices=("drop-all", "keep-majority"))

        def __post_init__(self):
            if not 0 < self.threshold <= 1:
                raise ValueError("threshold must be in (0, 1]")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        from auditor import similarity

        return frozenset({"text:prompt+tools", "text-keys:prompt+tools", "text:system", "text-keys:system",
                          "text:input", "text-keys:input", "lsh-band-keys:input", "no-text-keys"}
                         | ({similarity.banding("input", self.options.threshold)} if self.options.near else set()))

    def run(self, ctx):
        import polars as pl

        labels = ctx.label_task()
        column = "label" if labels else "response"
        prompts = ctx.text_keys("prompt+tools")  # equal keys: equal normalized prompts, same functions offered
        systems = ctx.text_keys("system") if self.options.near else None
        scopes = [ctx.rows("train")] + [ctx.rows("eval", source=source) for source in ctx.sources("eval")]
        findings, excluded, involved, first_rows = [], set(), 0, []
        for frame in scopes:
            # where each row is (source, line, split) is looked up for the few rows in a group only
            frame = frame.select("row", column).filter(pl.col(column).is_not_null())
            rows = frame["row"].to_numpy()
            frame = (frame.with_columns(key=pl.Series(prompts[rows, 0]), key2=pl.Series(prompts[rows, 1]))
                     .filter(pl.Series(prompts[rows, 2] > 0)))
            del rows
            if frame.height < 2:
                continue
            for members, near in self._groups(ctx, frame, column, systems):
                verdict = self._judge(ctx, members, labels, near)
                if verdict is None:
                    continue
                finding, dropped = verdict
                findings.append(finding)
                first_rows.append(members[0][0])
                excluded.update(dropped)
                involved += finding.data["line_count"]
        if findings:  # the shared prompt, the evidence beside the answers: looked up for the first rows only
            prompt_of = dict(ctx.frame.select("row", "prompt").filter(pl.col("row").is_in(first_rows)).iter_rows())
            for finding, row in zip(findings, first_rows):
                if prompt_of.get(row):
                    finding.data["prompt"] = prompt_of[row][:MEMBER_TEXT]
        summary = (f"{counted(len(findings), 'prompt')} taught in different ways ({counted(involved, 'row')}, "
                   f"{len(excluded):,} excluded)" if findings else "no prompt is taught two different ways")
        return self.result(findings, summary=summary, excluded=sorted(excluded),
                           metrics={"groups": len(findings), "rows_involved": involved,
                                    "rows_excluded": len(excluded), "compared": column,
                                    "near": self.options.near, "resolve": self.options.resolve})

    # -- grouping --------------------------------------------------------------------------------
    def _groups(self, ctx, frame, column, systems):
        """(member rows as (row, source, line, split, value, key, key2) sorted by row, near?) for each group of identical-or-near prompts whose
        rows do not all carry one `column` value."""
        import numpy as np
        import polars as pl

        from auditor import similarity

        # Groups: the rows of one identical prompt, joined by near pairs (with the same system prompt).
        # Each identical prompt stands behind its first row, so the pair graph holds one node per
        # distinct prompt (a million copies are one node, not a million edges).
        rows = frame["row"].to_numpy()
        first = frame.select(pl.col("row").min().over("key", "key2"))["row"].to_numpy()
        first_of = np.arange(ctx.frame.height, dtype=np.int64)
        first_of[rows] = first
        left, right = [], []
        if systems is not None:
            pairs = similarity.near_pairs(ctx, frame["row"], text="input", threshold=self.options.threshold)
            a, b = pairs["left"].to_numpy(), pairs["right"].to_numpy()
            same_system = (systems[a, :2] == systems[b, :2]).all(axis=1)
            a, b = first_of[a[same_system]], first_of[b[same_system]]
            left.append(a[a != b])
            right.append(b[a != b])
        copied = np.unique(first[first != rows])  # prompts with copies are groups of their own
        left.append(copied)
        right.append(copied)
        del first_of
        ids, labels = similarity.clusters(np.concatenate(left), np.concatenate(right))
        if not len(ids):
            return []
        in_group = np.isin(first, ids)
        group = labels[np.searchsorted(ids, first[in_group])]
        # a group whose rows all carry one target cannot contradict itself: only the others are read
        members = (frame.select("row", column).filter(pl.Series(in_group)).with_columns(group=pl.Series(group))
                   .filter(pl.col(column).n_unique().over("group") > 1))
        ids, labels = members["row"].to_numpy(), members["group"].to_numpy()
        if not len(ids):
            return []
        order = np.lexsort((ids, labels))  # groups by their first row, members by row
        ids, labels = ids[order], labels[order]
        starts = np.flatnonzero(np.r_[True, labels[1:] != labels[:-1]])
        wanted = pl.Series("row", ids).implode()
        where = ctx.frame.select("row", "source", "line", "split").filter(pl.col("row").is_in(wanted))
        info = {r[0]: r for r in where.join(frame.filter(pl.col("row").is_in(wanted)), on="row")
                .select("row", "source", "line", "split", column, "key", "key2").iter_rows()}
        out = []
        for group in np.split(ids, starts[1:]):
            members = [info[row] for row in group.tolist()]
            near = len({(m[5], m[6]) for m in members}) > 1  # prompts differ: a near group
            out.append((members, near))
        return out

    # -- judging one group -----------------------------------------------------------------------
    def _judge(self, ctx, members, labels: bool, near: bool):
        """(finding, rows to exclude) when the group contradicts itself, else None."""
        values = [str(m[4]) for m in members]
        if labels:
            variants = values
            structured, code, severity = True, LABELS, Severity.ERROR
        else:
            # each distinct response is read once: a group can hold a million copies of a few
            distinct = dict.fromkeys(values)
            parsed_of = {text: shapes.parse_json(text) for text in distinct}
            parsed = [parsed_of[text] for text in values]
            structured = shapes.structured(list(parsed_of.values()), ctx.settings.task, ctx.schema is not None)
            if structured:
                canonical = {text: text.strip() if value is shapes.NOT_JSON else shapes.canonical(value)
                             for text, value in parsed_of.items()}
                variants = [canonical[text] for text in values]
                code, severity = STRUCTURED, Severity.ERROR
            else:
                # free text: only the rows that commit to a final answer can disagree
                answer_of = {text: final_answer(text) for text in distinct}
                answers = [answer_of[text] for text in values]
                keep = [i for i, answer in enumerate(answers) if answer is not None]
                members, values = [members[i] for i in keep], [values[i] for i in keep]
                variants = [answers[i] for i in keep]
                code, severity = FREE_TEXT, Severity.WARNING
        if len(set(variants)) < 2:
            return None
        counts = Counter(variants)
        first_at: dict[str, int] = {}
        for i, v in enumerate(variants):
            first_at.setdefault(v, i)
        order = sorted(counts, key=lambda v: (-counts[v], first_at[v]))
        top = [v for v in order if counts[v] == counts[order[0]]]
        majority = top[0] if len(top) == 1 else None
        rows = [m[0] for m in members]
        if code == FREE_TEXT and not self.options.drop_free_text:
            dropped = []
        elif self.options.resolve == "keep-majority" and majority is not None:
            dropped = [row for row, v in zip(rows, variants) if v != majority]
        else:
            dropped = rows
        # One source per scope except when several train files were given: then lines carry their path.
        single = len({m[1] for m in members}) == 1
        keys = [m[2] if single else f"{m[1]}:{m[2]}" for m in members]
        where = "this prompt or a near-identical one" if near else "this prompt"
        if labels:
            described = {v: f"'{_short(v, 60)}'" for v in order[:MESSAGE_VARIANTS]}
            message = f"{len(members):,} rows share {where} with {len(order):,} different labels: "
        elif code == FREE_TEXT:
            described = {v: f"'{_short(v, 60)}'" for v in order[:MESSAGE_VARIANTS]}
            message = f"{len(members):,} rows share {where} with {len(order):,} different final answers: "
        else:
            differing, described = _describe(order, {v: parsed[first_at[v]] for v in order}, parsed)
            message = f"{len(members):,} rows share {where} with {len(order):,} different responses"
            message += f", differing in {differing}: " if differing else ": "
        message += ", ".join(f"{described[v]} ({counts[v]}{', majority' if v == majority else ''})"
                             for v in order[:MESSAGE_VARIANTS])
        if len(order) > MESSAGE_VARIANTS:
            message += f" and {len(order) - MESSAGE_VARIANTS} more"
        # Side-by-side members: the first line, then the first line of every other variant, then the rest.
        picked = list(dict.fromkeys([0] + [first_at[v] for v in order[:MEMBERS]]
                                      + list(range(min(len(members), 2 * MEMBERS)))))
        shown = []
        for i in sorted(picked[:MEMBERS]):
            member = {"line": members[i][2], "text": values[i][:MEMBER_TEXT]}
            if not single:
                member["path"] = members[i][1]
            shown.append(member)
        first = members[0]
        finding = self.finding(
            message, source=first[1], line=first[2], split=first[3], severity=severity, code=code,
            related=[(m[1], m[2]) for m in members[1:MAX_RELATED]],
            # keyed by str(line): a report is JSON, whose object keys are strings
            lines=keys[:MAX_RELATED], line_count=len(keys),
            **{"labels" if labels else "responses": dict(zip(map(str, keys[:MAX_RELATED]), values))},
            counts={v: counts[v] for v in order}, majority=majority, members=shown,
            kind="label" if labels else ("structured" if structured else "free-text"), near=near)
        return finding, dropped


def _describe(order: list[str], first: dict[str, Any], parsed: list[Any]) -> tuple[str, dict[str, str]]:
    """Short evidence per variant; when every response is a JSON object, only the differing keys."""
    if len(order) <= MAX_REPRESENTATIVES and all(isinstance(value, dict) for value in parsed):
        differing = sorted({k for a in first.values() for b in first.values()
                            for k in set(a) | set(b) if a.get(k, shapes.NOT_JSON) != b.get(k, shapes.NOT_JSON)})
        if len(differing) == 1:
            key = differing[0]
            return f"'{key}'", {v: _short(shapes.canonical(first[v][key]), 60) if key in first[v] else "(missing)"
                                for v in order}
        if differing:
            return (", ".join(f"'{k}'" for k in differing),
                    {v: _short(shapes.canonical({k: first[v][k] for k in differing if k in first[v]}), 80) for v in order})
    return "", {v: f"'{_short(v, 60)}'" for v in order}


def _short(text: str, limit: int) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"
