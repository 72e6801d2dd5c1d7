"""Check `language`: which languages prompts and responses are written in, and rows that break the expectation.

Over 400 lines because the check judges in two stages (fastText on every sampled text, a seeded second
opinion where it is unsure or sampled for agreement), remembers both per text, and explains each
finding; identifying a language of one text lives in `_langid`.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from auditor import Check, Severity, counted, option, user_side

# A pool worker starts in ~0.15 s (spawn, the fastText model) and a text costs ~60 us in process:
# below this many distinct texts one process finishes sooner (measured on 2 cores).
POOL_THRESHOLD = 12_000
# About this many texts per task at most; the texts are split evenly in tasks of equal size, as many
# per worker.
CHUNK = 8_192
# Second opinions on a language flagged many times are taken on a seeded sample of this many texts,
# which must agree this often for the rest to be confirmed (see Language._ask_langdetect): all 30,
# which a language that langdetect disagrees on one time in ten passes 4% of the time (as often as
# 49 of 50 would), for 20 fewer texts of ~1 ms each.
CONFIRM_SAMPLE = 30
CONFIRM_AGREEMENT = 0.98
# Texts fastText is unsure of are asked of langdetect one by one, ~0.4-1 ms each: at most this many per
# split, a seeded sample when there are more (a set of random letters makes every text unsure). The
# others stay unflagged and are counted: a budget can cost a finding, never add a false one.
SECOND_OPINIONS = 2_000
# Before that, when more than twice this many texts are unsure, a seeded sample of this many is asked;
# if langdetect confirms at most NOISE_CONFIRMED of them the pool is noise (random letters, identifiers,
# a language neither detector knows; langdetect is sure of about one text of random letters in 80)
# and the rest is not asked (counted as unasked). A pool where one text in ten would be confirmed
# passes the probe 98.6% of the time, one in twenty 81%: the probe costs findings only where they are
# rare among texts neither detector reads.
NOISE_PROBE = 60
NOISE_CONFIRMED = 1
UNDETERMINED = "undetermined"
NOT_PROSE = "not prose"
SIDES = ("prompt", "response")


class Language(Check):
    """Prompts and responses in an unexpected language, or answered in another language than asked.

    ## What it does
    Identifies the language of every row's prompt (for chat data the user side, without the system
    prompt) and response with fastText (the `lid.176` model, 176 languages, bundled: nothing is
    downloaded), and reports the distribution per split. With `languages` set (e.g. `["en"]`), each
    row whose prompt or response is in another language is a finding (`LNG001`, severity
    `severity`) naming the language and its probability; `exclude = true` also removes those rows
    from the clean set. Independently of `languages`, a row whose response is in another language
    than its prompt is a warning (`LNG002`): "Asked in German (de, 0.99), answered in English (en, 0.98)".

    Only prose is judged:
    - A target that is not prose is not language-checked and counts as `not prose`: a tool call,
      SQL, code, a JSON value without sentences.
    - JSON is judged on its multi-word string values, never its keys or enum-like values; code
      blocks, inline code, code lines, URLs, e-mail addresses, calculator annotations
      (`<<48/2=24>>`), LaTeX math, numbers and arithmetic are removed before judging.
    - Texts with fewer than `min_chars` letters left, or whose top language is less likely than
      `min_probability`, are `undetermined`. Only the first `max_chars` characters are read.

    A row is flagged only on strong evidence, so that a finding can be trusted:
    - the text has at least `flag_chars` letters in lines that read as sentences (short texts such
      as intent utterances, and lists of names, are in the distribution but never flagged: one
      detector's word on six words is not enough);
    - a second opinion names one of fastText's three most likely languages: the script, where only
      that language writes it (Telugu, Thai, Greek, Hangul, kana, Han, ...), or else stock
      `langdetect`, seeded, asked only about these few texts; and one of the two detectors is at
      least `flag_probability` sure of it. When they disagree (or langdetect does not know the
      language) the text is `undetermined` and counted as `unconfirmed`, never flagged. A
      mismatch needs both sides confirmed. When one language is flagged in more than
      2 x 30 texts, langdetect checks a seeded sample of 30 and, if it agrees on every one,
      confirms that language's other sure answers (`confirmed_by_sample`);
    - an answer in a language the prompt names ("Translate into French") is not flagged.
    - fastText's unsure answers are asked of langdetect one by one, at most 2,000 per split (a seeded
      sample when there are more, as in a set of random letters); the others stay unflagged and are
      counted (`unasked_by_budget`): the budget can cost a finding, never add a false one. When
      more than 120 are unsure, a seeded probe of 60 is asked first, and if langdetect confirms
      at most one of them the others are not asked either (a set of random letters or identifiers
      costs 60 second opinions, not 2,000), and are counted the same way.

    Identical texts are judged once, large inputs on every core, and answers are remembered in the
    audit's cache. Above `sample` rows per split, a seeded random sample of `sample` rows is judged;
    the summary and the metrics (`sampled`, `sample_size`, `population`) then say the figures are
    estimates. The per-row detections are shared with other checks as
    `ctx.shared(("language", split, key), ...)`: a polars frame of row and, per side (prompt,
    response), `{side}_text`, `{side}_lang` and `{side}_prob` (fastText's top answer),
    `{side}_letters`, `{side}_sentence_letters`, `{side}_prose` and `{side}_script` (the language
    the script settles; null language: no letters or not prose); then the sampling information and
    a frame of each distinct text's answer (`text`, fastText's three most likely languages and their
    probabilities as `lang_1`, `prob_1` to `lang_3`, `prob_3`, then the same columns as per side).

    ## Why is this bad?
    A support model fine-tuned on a set where 8% of the answers are in another language learns to
    switch languages. Answers in a different language than the question teach the model to ignore
    the user's language. Translate or drop those rows, or list the languages you do support.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "Mein Paket ist seit zwei Wochen nicht angekommen, obwohl die Sendungsverfolgung es als zugestellt anzeigt. Was kann ich tun?"}, {"role": "assistant", "content": "Bitte senden Sie uns Ihre Bestellnummer, dann prüfen wir den Versand."}]}
    {"messages": [{"role": "user", "content": "Mein Paket ist seit zwei Wochen nicht angekommen, obwohl die Sendungsverfolgung es als zugestellt anzeigt. Was kann ich tun?"}, {"role": "assistant", "content": "Please send us your order number and we will check the shipment."}]}
    ```
    With `languages = ["en"]` both rows are reported; the second also as asked in German, answered
    in English.
    """

    id = "language"
    code = "LNG001"
    MISMATCH = "LNG002"

    @dataclass(frozen=True)
    class Options:
        languages: list = option([], "Expected language codes (e.g. [\"en\"] or en,de); empty: report the distribution only.")
        severity: str = option("warning", "Severity of a row outside `languages`.",
                               choices=("info", "warning", "error"))
        exclude: bool = option(False, "Remove rows outside `languages` from the clean set.")
        min_chars: int = option(10, "Texts with fewer letters of prose than this are undetermined.")
        max_chars: int = option(300, "Characters of each text's prose that are read (cut at a word boundary).")
        min_probability: float = option(0.5, "Detections less certain than this are undetermined.")
        flag_chars: int = option(50, "Letters in lines that read as sentences a text needs before it can be flagged.")
        flag_probability: float = option(0.9, "Certainty one of the two detectors needs for a text to be flagged.")
        sample: int = option(20_000, "Rows per split judged; above it a seeded random sample of this size.")

        def __post_init__(self):
            from ._langid import LANGUAGE_NAMES

            if self.min_chars < 1:
                raise ValueError("min_chars must be >= 1")
            if self.max_chars < max(self.min_chars, self.flag_chars, 20):
                raise ValueError("max_chars must be >= min_chars, >= flag_chars and >= 20")
            for name in ("min_probability", "flag_probability"):
                if not 0.0 <= getattr(self, name) <= 1.0:
                    raise ValueError(f"{name} must be between 0 and 1")
            if self.sample < 1:
                raise ValueError("sample must be >= 1")
            unknown = sorted(set(map(str, self.languages)) - set(LANGUAGE_NAMES))
            if unknown:
                raise ValueError(f"unknown language codes {', '.join(unknown)} "
                                 f"(known: {', '.join(sorted(LANGUAGE_NAMES))})")

    def artefacts(self):  # what it reads of the audit context (see Check.artefacts)
        return frozenset({"language", "memo"})

    def run(self, ctx):
        splits = ["train"] + (["eval"] if ctx.has_eval else [])
        findings, excluded, metrics, parts = [], set(), {}, []
        for split in splits:
            frame, info, answers = self.detections(ctx, split)
            split_findings, split_excluded, split_metrics = self._judge(ctx, split, frame, info, answers)
            findings += split_findings
            excluded |= split_excluded
            metrics[split] = split_metrics
            parts.append(self._describe(split, split_metrics))
        return self.result(findings, summary="; ".join(parts), metrics=metrics, excluded=excluded)

    # -- detection (shared artefact) -------------------------------------------------------------
    def options_key(self, ctx) -> tuple:
        o = self.options
        return (ctx.settings.seed, o.max_chars, o.sample)

    def detections(self, ctx, split: str):
        """(frame of row and per side text, lang, prob, letters, sentence letters, prose, script;
        sampling info; every distinct text's answer, as `_every_answer` gives it)."""
        return ctx.shared(("language", split, self.options_key(ctx)), lambda: self._detect(ctx, split))

    def _detect(self, ctx, split):
        import polars as pl

        sides, info, _ = self._sides(ctx, split)
        answers = self._every_answer(ctx)[split]
        frame = sides.select("row")
        for side in SIDES:
            found = sides.select(text=f"{side}_text", call="call").with_row_index("_at").join(
                answers, on="text", how="left").sort("_at")
            known = pl.col("lang_1").is_not_null()
            prose = pl.col("prose")
            if side == "response":  # null: no text; a tool call is not prose
                prose = pl.when(pl.col("call") & prose.is_null()).then(False).otherwise(prose)
            frame = frame.with_columns(found.select(
                pl.col("text").alias(f"{side}_text"),
                pl.when(known).then(pl.col("lang_1")).alias(f"{side}_lang"),
                pl.when(known).then(pl.col("prob_1")).alias(f"{side}_prob"),
                pl.col("letters").alias(f"{side}_letters"),
                pl.col("sentence_letters").alias(f"{side}_sentence_letters"),
                prose.alias(f"{side}_prose"),
                pl.col("script").alias(f"{side}_script")))
        return frame, info, answers

    def _sides(self, ctx, split):
        """(row, prompt_text, response_text, call) of the split's judged rows (a seeded sample above
        `sample`), the sampling information, and the distinct texts of both sides."""
        # keys of the family "language", which the check declares: another thread's release keeps them
        return ctx.shared(("language", "sides", split, self.options_key(ctx)), lambda: self._pick_sides(ctx, split))

    def _pick_sides(self, ctx, split):
        import numpy as np
        import polars as pl

        rows = ctx.rows(split).select("row", "system", "prompt", "asked", "response", "tool_call")
        population = rows.height
        sampled = population > self.options.sample
        if sampled:  # seeded sample, then back in row order
            picked = np.random.default_rng(ctx.settings.seed).choice(population, self.options.sample, replace=False)
            rows = rows[np.sort(picked)]
        call = pl.col("tool_call").fill_null(False)
        sides = rows.select(
            "row",
            prompt_text=pl.coalesce("asked", user_side()),
            # a tool call is what the model is trained to emit, not text in a language
            response_text=pl.when(call).then(None).otherwise(pl.col("response")),
            call=call)
        info = {"sampled": sampled, "sample_size": rows.height, "population": population}
        return sides, info, _distinct_texts(sides)

    def _every_answer(self, ctx):
        """For each split, a frame of every distinct text of its judged rows and its answer: fastText's
        top languages and their probabilities (`lang_1`, `prob_1`, `lang_2`, ...; null beyond what it
        gave), `letters`, `sentence_letters`, `prose` (is prose) and `script` (the language its script
        settles); remembered from earlier audits, or judged now.

        The memo (in the audit's cache) is keyed by each text's content, so an edited dataset only
        judges the texts it has not seen before. The texts no split remembers are judged in one batch:
        the eval split's go to the worker processes with train's rather than being judged alone on one
        core after them, and a text of both splits is judged once.
        """

        def build():
            import polars as pl

            from . import _langid

            max_chars = self.options.max_chars
            memo = ctx.memo(f"language|{_langid.ALGORITHM}|{_langid.model_version()}|max_chars={max_chars}",
                            schema=_answer_schema())
            known = {}
            for split in ["train"] + (["eval"] if ctx.has_eval else []):
                texts = self._sides(ctx, split)[2].sort()  # sorted: stable chunks
                known[split] = memo.lookup(memo.keys(texts)).with_columns(text=texts)
            todo = (pl.concat([frame.filter(pl.col("prose").is_null()).select("key", "text") for frame in known.values()])
                    .unique(subset="text").sort("text"))
            fresh = self._judged(todo, max_chars) if todo.height else None
            if fresh is not None:
                memo.put(fresh)
            out = {}
            for split, frame in known.items():
                missing = frame.filter(pl.col("prose").is_null())
                if missing.height:
                    mine = fresh.join(missing.select("text"), on="text", how="semi", maintain_order="left")
                    frame = pl.concat([frame.filter(pl.col("prose").is_not_null()), mine.select(frame.columns)])
                out[split] = frame.drop("key")
            return out

        # a key of the family "language", which the check declares: another thread's release keeps it
        return ctx.shared(("language", "every answer", self.options_key(ctx)), build)

    @staticmethod
    def _judged(todo, max_chars):
        """The answers to the texts of `todo` (key, text), judged now, as rows of the memo's schema."""
        import polars as pl

        from . import _langid

        judged = _judge_all(todo["text"].to_list(), max_chars)
        # column by column, the top languages spread over TOP columns: a list column built from
        # Python lists costs ~8 us a row (0.3 s for 40,000 texts), flat columns a fraction of that
        columns: dict = {}
        for k in range(_langid.TOP):
            columns[f"lang_{k + 1}"] = [a[0][k] if len(a[0]) > k else None for a in judged]
            columns[f"prob_{k + 1}"] = [a[1][k] if len(a[1]) > k else None for a in judged]
        for k, name in enumerate(("letters", "sentence_letters", "prose", "script"), start=2):
            columns[name] = [a[k] for a in judged]
        return pl.DataFrame(columns, schema=_answer_schema()).with_columns(key=todo["key"], text=todo["text"])

    def _confirmed(self, ctx, candidates: dict[str, list]) -> tuple[dict[str, tuple | None], int]:
        """For each text about to be flagged (with fastText's top languages): the language a second
        opinion agrees on, with the more certain detector's probability, or None; and how many were
        confirmed by a sample's agreement (see `_ask_langdetect`).

        The second opinion is the script where only one language writes it, else stock langdetect;
        it agrees when it names one of fastText's top languages, and one of the two is certain of
        it (at least `flag_probability`). fastText's compressed model spreads its probability over
        close languages on some (Swahili against Malay, Tagalog), so its second or third answer may be
        the one langdetect confirms.
        """

        out: dict[str, tuple | None] = {}
        ask = []
        for text in sorted(candidates):
            top, script = candidates[text]
            top = dict(top)
            if script is not None:  # the script settles it, one way or the other
                out[text] = (script, top[script]) if script in top else None
            else:
                ask.append((text, top))
        by_sample = self._ask_langdetect(ctx, ask, out) if ask else 0
        return out, by_sample

    def _ask_langdetect(self, ctx, ask: list, out: dict) -> int:
        """langdetect's verdict on the texts of `ask` (text, fastText's top), into `out`; returns how
        many texts a sample's agreement confirmed.

        langdetect costs ~0.4-1 ms a text in lockstep (see `_langid`). When many texts are flagged in
        one language (a set largely in another language), fastText's sure answers (top probability
        >= `flag_probability`) are checked on a seeded sample of `CONFIRM_SAMPLE` texts per language:
        when langdetect agrees on at least `CONFIRM_AGREEMENT` of the sample, the language's other sure
        answers are confirmed by that agreement; otherwise every text is asked. Unsure answers are
        always asked one by one.
        """
        import random

        from . import _langid

        threshold = self.options.flag_probability
        max_chars = self.options.max_chars
        # the threshold is part of the name: an answer is cut short when it cannot agree at it (below)
        memo = ctx.memo(f"language-second|{_langid.ALGORITHM}|{_langid.langdetect_version()}|"
                        f"seed={ctx.settings.seed}|max_chars={max_chars}|flag={threshold}")

        def verdicts(items):
            keys = [memo.key(text) for text, _ in items]
            known = memo.get(keys)
            todo = [i for i, answer in enumerate(known) if answer is None]
            bodies = [_langid.prose(items[i][0], max_chars) or "" for i in todo]
            # A text fastText is unsure of agrees only if langdetect is sure of one of fastText's languages:
            # its trials stop once they cannot end there (random letters: after one or two of seven).
            reach = [None if max(items[i][1].values()) >= threshold else (set(items[i][1]), threshold) for i in todo]
            # the profiles take ~35 ms to load: only when something is not remembered
            judged = _langid.second_opinions(bodies, ctx.settings.seed, max_chars, reach) if todo else []
            memo.put((keys[i], list(answer)) for i, answer in zip(todo, judged))
            for i, answer in zip(todo, judged):
                known[i] = answer
            for (text, top), (lang, prob) in zip(items, known):
                agreed = lang in top and max(top[lang], prob) >= threshold
                out[text] = (lang, max(top[lang], prob)) if agreed else None

        sure: dict[str, list] = {}
        unsure = []
        by_sample = 0
        for item in ask:
            lang, prob = max(item[1].items(), key=lambda pair: (pair[1], pair[0]))
            (sure.setdefault(lang, []) if prob >= threshold else unsure).append(item)
        for lang, items in sorted(sure.items()):
            if len(items) <= 2 * CONFIRM_SAMPLE:
                unsure += items
                continue
            sample = random.Random(f"{ctx.settings.seed}|{lang}").sample(items, CONFIRM_SAMPLE)
            verdicts(sample)
            agreed = sum(out[text] is not None and out[text][0] == lang for text, _ in sample)
            if agreed >= CONFIRM_AGREEMENT * CONFIRM_SAMPLE:
                asked = {text for text, _ in sample}
                for text, top in items:
                    if text not in asked:
                        out[text] = (lang, top[lang])
                by_sample += len(items) - len(sample)
            else:
                unsure += items
        if len(unsure) > 2 * NOISE_PROBE:  # a seeded probe first: a pool of noise is not asked text by text
            probe = random.Random(f"{ctx.settings.seed}|noise-probe").sample(sorted(unsure), NOISE_PROBE)
            verdicts(probe)
            if sum(out[text] is not None for text, _ in probe) <= NOISE_CONFIRMED:
                asked = {text for text, _ in probe}
                for text, _ in unsure:
                    if text not in asked:
                        out[text] = None
                self._unasked = len(unsure) - NOISE_PROBE
                return by_sample
        if len(unsure) > SECOND_OPINIONS:
            asked = random.Random(f"{ctx.settings.seed}|second-opinions").sample(unsure, SECOND_OPINIONS)
            kept = {text for text, _ in asked}
            for text, _ in unsure:
                if text not in kept:
                    out[text] = None
            self._unasked = len(unsure) - SECOND_OPINIONS
            unsure = sorted(asked)
        verdicts(unsure)
        return by_sample

    # -- findings and metrics --------------------------------------------------------------------
    def _judge(self, ctx, split, frame, info, answers):
        import polars as pl

        from ._langid import TOP

        o = self.options
        expected = sorted(map(str, o.languages))
        severity = Severity(o.severity)
        where = ctx.rows(split).select("row", "source", "line")
        joined = frame.join(where, on="row", how="left").sort("row").with_columns(
            expr for side in SIDES for expr in self._status(side))
        # texts that would be flagged: outside `languages`, or one side of a mismatch
        mismatch = pl.col("prompt_long") & pl.col("response_long") & (pl.col("prompt_flag") != pl.col("response_flag"))
        joined = joined.with_columns(
            (pl.col(f"{side}_long") & (mismatch | (~pl.col(f"{side}_flag").is_in(expected) if expected else False)))
            .alias(f"{side}_candidate") for side in SIDES)
        flagged = joined.filter(pl.col("prompt_candidate") | pl.col("response_candidate"))
        candidates: dict[str, tuple] = {}
        scripts = {}
        for side in SIDES:
            for text, script in flagged.filter(pl.col(f"{side}_candidate")).select(
                    f"{side}_text", f"{side}_script").iter_rows():
                scripts[text] = script
        if scripts:
            tops = answers.filter(pl.col("text").is_in(pl.Series(list(scripts), dtype=pl.String).implode()))
            for text, *top in tops.select("text", *(f"{what}_{k}" for k in range(1, TOP + 1)
                                                     for what in ("lang", "prob"))).iter_rows():
                pairs = [(lang, prob) for lang, prob in zip(top[::2], top[1::2]) if lang is not None]
                candidates[text] = (pairs, scripts[text])
        self._unasked = 0
        confirmed, by_sample = self._confirmed(ctx, candidates) if candidates else ({}, 0)
        unasked = self._unasked

        # the distributions of the rows that are not flagged, then the flagged rows one by one
        counts = {side: Counter(joined.filter(~pl.col(f"{side}_candidate"))[f"{side}_shown"].drop_nulls().to_list())
                  for side in SIDES}
        undetermined = joined.filter(~pl.col("prompt_candidate") & ~pl.col("response_candidate")
                                     & ((pl.col("prompt_shown") == UNDETERMINED)
                                        | (pl.col("response_shown") == UNDETERMINED))).height
        findings, excluded = [], set()
        unconfirmed = requested = mismatched = outside = 0
        for record in flagged.iter_rows(named=True):
            final = {}  # per side: (shown in the distribution, probability, confirmed language or None)
            for side in SIDES:
                shown, prob, text = record[f"{side}_shown"], record[f"{side}_prob"], record[f"{side}_text"]
                if not record[f"{side}_candidate"]:
                    final[side] = (shown, prob if shown not in (None, UNDETERMINED, NOT_PROSE) else None, None)
                elif confirmed[text] is None:  # the detectors disagree: not flagged, counted
                    final[side] = (UNDETERMINED, None, None)
                    unconfirmed += 1
                else:
                    lang, certainty = confirmed[text]
                    final[side] = (lang, certainty, lang)
                if record[f"{side}_candidate"]:  # the other rows were counted above
                    counts[side][final[side][0]] += 1
            shown, prob, lang = final["response"]
            prompt = record["prompt_text"]
            if lang is not None and prompt and _names_language(prompt, lang):
                # "Translate into Chinese": the answer is in the language the prompt asks for
                final["response"] = (shown, prob, None)
                requested += 1
            undetermined += UNDETERMINED in (final["prompt"][0], final["response"][0])
            (pshown, pprob, plang), (rshown, rprob, rlang) = final["prompt"], final["response"]
            row, source, line = record["row"], record["source"], record["line"]
            data = {"prompt_lang": _code(pshown), "prompt_prob": _round(pprob) if _code(pshown) else None,
                    "response_lang": _code(rshown), "response_prob": _round(rprob) if _code(rshown) else None}
            if expected:
                off = [(side, lang, prob) for side, lang, prob in
                       (("Prompt", plang, pprob), ("Response", rlang, rprob)) if lang and lang not in expected]
                if off:
                    outside += 1
                    what = " and ".join(f"{side if k == 0 else side.lower()} in {_name(lang, prob)}"
                                        for k, (side, lang, prob) in enumerate(off))
                    findings.append(self.finding(
                        f"{what}, expected {', '.join(expected)}", source=source, line=line,
                        split=split, severity=severity, expected=expected, **data))
                    if o.exclude:
                        excluded.add(row)
            if plang and rlang and plang != rlang:
                mismatched += 1
                findings.append(self.finding(
                    f"Asked in {_name(plang, pprob)}, answered in {_name(rlang, rprob)}", source=source,
                    line=line, split=split, severity=Severity.WARNING, code=self.MISMATCH, **data))
        distributions = {side: dict(sorted(counts[side].items())) for side in SIDES}
        metrics = {
            **info,
            "prompt_languages": distributions["prompt"],
            "response_languages": distributions["response"],
            "not_prose": {side: distributions[side].get(NOT_PROSE, 0) for side in SIDES},
            "undetermined_rows": undetermined,
            "unconfirmed_texts": unconfirmed,
            "confirmed_by_sample": by_sample,
            "unasked_by_budget": unasked,
            "requested_language_rows": requested,
            "mismatched_rows": mismatched,
        }
        if expected:
            metrics["expected"] = expected
            metrics["unexpected_rows"] = outside
        return findings, excluded, metrics

    def _status(self, side: str) -> list:
        """Polars expressions of one side: `{side}_shown` (what the distribution shows: a language,
        undetermined, not prose, or null for no text), `{side}_flag` (fastText's top language when
        the text is judged) and `{side}_long` (whether it has the sentence letters to be flagged)."""
        import polars as pl

        o = self.options
        lang, prob, prose = pl.col(f"{side}_lang"), pl.col(f"{side}_prob"), pl.col(f"{side}_prose")
        judged = prose.fill_null(False) & lang.is_not_null() & (pl.col(f"{side}_letters") >= o.min_chars)
        shown = (pl.when(prose.is_null()).then(None)
                 .when(~prose).then(pl.lit(NOT_PROSE))
                 .when(~judged | (prob < o.min_probability)).then(pl.lit(UNDETERMINED))
                 .otherwise(lang))
        return [shown.alias(f"{side}_shown"),
                pl.when(judged).then(lang).alias(f"{side}_flag"),
                (judged & (pl.col(f"{side}_sentence_letters") >= o.flag_chars)).fill_null(False).alias(f"{side}_long")]

    def _describe(self, split, m):
        parts = []
        texts_only = not m["response_languages"]  # text/label data: the text is the only side
        for side in SIDES:
            counts = m[f"{side}_languages"]
            if not counts:
                continue
            total = sum(counts.values())
            prose = {lang: n for lang, n in counts.items() if lang not in (UNDETERMINED, NOT_PROSE)}
            top = sorted(((n, lang) for lang, n in prose.items()), key=lambda item: (-item[0], item[1]))[:3]
            shares = ", ".join(f"{_share(n, total)} {lang}" for n, lang in top) or "no language determined"
            extra = [f"{_share(counts[key], total)} {key}" for key in (UNDETERMINED, NOT_PROSE) if counts.get(key)]
            name = "texts" if texts_only else f"{side}s"
            parts.append(f"{name} {shares}" + (f" ({', '.join(extra)})" if extra else ""))
        text = f"{split}: " + ("; ".join(parts) or "no texts")
        if "unexpected_rows" in m:
            text += f"; {counted(m['unexpected_rows'], 'row')} outside {', '.join(m['expected'])}"
        if not texts_only:
            text += f", {m['mismatched_rows']:,} answered in another language"
        if m["sampled"]:
            text += f" (estimated from a sample of {m['sample_size']:,} of {m['population']:,} rows)"
        return text


def _answer_schema() -> dict:
    """The columns of a text's answer, in the order `_langid.judge_many` gives them."""
    import polars as pl

    from ._langid import TOP

    tops = {}
    for k in range(1, TOP + 1):
        tops |= {f"lang_{k}": pl.String, f"prob_{k}": pl.Float64}
    return {**tops, "letters": pl.Int64, "sentence_letters": pl.Int64, "prose": pl.Boolean, "script": pl.String}


def _names_language(prompt: str, lang: str) -> bool:
    """Whether a prompt names a language ("... into Chinese"): then an answer in it was asked for."""
    import re

    from ._langid import LANGUAGE_NAMES

    name = LANGUAGE_NAMES.get(lang)
    return bool(name) and re.search(rf"\b{re.escape(name)}\b", prompt, re.IGNORECASE) is not None


def _distinct_texts(sides):
    """The distinct non-empty texts of both sides, in no particular order."""
    import polars as pl

    texts = pl.concat([sides["prompt_text"], sides["response_text"]]).rename("text")
    return texts.filter(texts.is_not_null() & (texts != "")).unique()


def _judge_all(texts, max_chars):
    from functools import partial

    from . import _langid

    judge = partial(_langid.judge_many, max_chars=max_chars)
    if len(texts) < POOL_THRESHOLD:
        return judge(texts)
    from concurrent.futures.process import BrokenProcessPool

    from auditor import workers

    pool = workers.pool()  # the audit's worker processes, one per core (already started by a large load)
    if pool is None:
        return judge(texts)
    n = workers.workers()
    tasks = n * max(1, -(-len(texts) // (CHUNK * n)))  # a multiple of the workers: no straggler
    size = max(1, -(-len(texts) // tasks))
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    try:
        return [answer for chunk in pool.map(judge, chunks) for answer in chunk]
    except (BrokenProcessPool, OSError, RuntimeError):
        # Workers cannot start everywhere (a script read from stdin, a sandbox without processes);
        # the answers are the same in-process, only slower.
        workers.broken()
        return judge(texts)


def _code(lang):
    return None if lang in (None, UNDETERMINED, NOT_PROSE) else lang


def _share(n: int, total: int) -> str:
    share = n / total
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _round(prob):
    return None if prob is None else round(prob, 4)


def _name(lang, prob) -> str:
    from ._langid import LANGUAGE_NAMES

    return f"{LANGUAGE_NAMES.get(lang, lang)} ({lang}, {prob:.2f})"
