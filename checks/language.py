"""Check `language`: which languages prompts and responses are written in, and rows that break the expectation."""

from __future__ import annotations

import os
from dataclasses import dataclass

from auditor import Check, Severity, option

# A pool worker starts in ~0.3-0.4 s (spawn, numpy, the cached profiles) and detection costs ~0.15 ms a
# text in batches: below this many distinct texts one process finishes sooner (measured on 2 cores).
ALGORITHM = 1  # bump when detection answers could change, so remembered answers are not reused
POOL_THRESHOLD = 8_000
# At most this many texts per task (each worker runs them in lockstep batches); the texts are split
# evenly in at least one task per worker.
CHUNK = 4_096

LANGUAGE_NAMES = {
    "af": "Afrikaans", "ar": "Arabic", "bg": "Bulgarian", "bn": "Bengali", "ca": "Catalan", "cs": "Czech",
    "cy": "Welsh", "da": "Danish", "de": "German", "el": "Greek", "en": "English", "es": "Spanish",
    "et": "Estonian", "fa": "Persian", "fi": "Finnish", "fr": "French", "gu": "Gujarati", "he": "Hebrew",
    "hi": "Hindi", "hr": "Croatian", "hu": "Hungarian", "id": "Indonesian", "it": "Italian",
    "ja": "Japanese", "kn": "Kannada", "ko": "Korean", "lt": "Lithuanian", "lv": "Latvian",
    "mk": "Macedonian", "ml": "Malayalam", "mr": "Marathi", "ne": "Nepali", "nl": "Dutch",
    "no": "Norwegian", "pa": "Punjabi", "pl": "Polish", "pt": "Portuguese", "ro": "Romanian",
    "ru": "Russian", "sk": "Slovak", "sl": "Slovenian", "so": "Somali", "sq": "Albanian", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "th": "Thai", "tl": "Tagalog", "tr": "Turkish",
    "uk": "Ukrainian", "ur": "Urdu", "vi": "Vietnamese", "zh": "Chinese",
}
UNDETERMINED = "undetermined"


class Language(Check):
    """Prompts and responses in an unexpected language, or answered in another language than asked.

    ## What it does
    Detects the language of every row's prompt (for chat data the user side, without the system
    prompt) and response with langdetect, and reports the distribution per split. With `languages`
    set (e.g. `["en"]`), each row whose prompt or response is detected outside that set is a finding
    (`LNG001`, severity `severity`) naming the language and its probability; `exclude = true` also
    removes those rows from the clean set. Independently of `languages`, a row whose response is in
    another language than its prompt is a warning (`LNG002`): "Asked in German (de, 0.99), answered
    in English (en, 0.98)".

    How texts are judged:
    - A JSON response is judged on its string values (recursively), never its keys; fenced and
      inline code, URLs and e-mail addresses are ignored.
    - Texts with fewer than `min_chars` letters, or mostly digits, symbols or code, are
      `undetermined`: counted, never flagged. A mismatch needs both sides determined.
    - Only the first `max_chars` characters (cut at a word) are read.
    - Scripts that one language writes settle it without langdetect: kana -> ja, Han -> zh,
      Hangul -> ko, Thai, Greek, Hebrew, Bengali, Gurmukhi (pa), Gujarati, Tamil, Telugu, Kannada,
      Malayalam. Shared scripts go to langdetect restricted to their languages: Cyrillic (bg, mk, ru,
      uk), Arabic (ar, fa, ur), Devanagari (hi, mr, ne). Chinese is reported as `zh` (langdetect's
      zh-cn and zh-tw are merged).
    - Identical texts are detected once; large inputs are detected in parallel on every core.
    - Above `sample` rows per split, a seeded random sample of `sample` rows is judged; the summary
      and the metrics (`sampled`, `sample_size`, `population`) then say the figures are estimates.

    Results are deterministic: langdetect's random trials are seeded from the audit seed for every
    text, in every process. The per-row results are shared with other checks as
    `ctx.shared(("language", split, key), ...)`: a polars frame of row, prompt_lang, prompt_prob,
    response_lang, response_prob (null language = undetermined).

    ## Why is this bad?
    A support model fine-tuned on a set where 8% of the answers are in another language learns to
    switch languages. Answers in a different language than the question teach the model to ignore
    the user's language. Translate or drop those rows, or list the languages you do support.

    ## Example
    ```jsonl
    {"messages": [{"role": "user", "content": "Mein Paket ist nicht angekommen, was kann ich tun?"}, {"role": "assistant", "content": "Bitte senden Sie uns Ihre Bestellnummer, dann prüfen wir den Versand."}]}
    {"messages": [{"role": "user", "content": "Mein Paket ist nicht angekommen, was kann ich tun?"}, {"role": "assistant", "content": "Please send us your order number and we will check the shipment."}]}
    ```
    With `languages = ["en"]` both rows are reported; the second also as asked in German, answered
    in English.
    """

    id = "language"
    code = "LNG001"
    MISMATCH = "LNG002"

    @dataclass(frozen=True)
    class Options:
        languages: list = option([], "Expected language codes (e.g. [\"en\"]); empty: report the distribution only.")
        severity: str = option("warning", "Severity of a row outside `languages`.",
                               choices=("info", "warning", "error"))
        exclude: bool = option(False, "Remove rows outside `languages` from the clean set.")
        min_chars: int = option(20, "Texts with fewer letters than this are undetermined.")
        max_chars: int = option(300, "Characters of each text that are read (cut at a word boundary).")
        min_probability: float = option(0.9, "Detections less certain than this are undetermined.")
        sample: int = option(20_000, "Rows per split judged; above it a seeded random sample of this size.")

        def __post_init__(self):
            if self.min_chars < 1:
                raise ValueError("min_chars must be >= 1")
            if self.max_chars < max(self.min_chars, 20):
                raise ValueError("max_chars must be >= min_chars and >= 20")
            if not 0.0 <= self.min_probability <= 1.0:
                raise ValueError("min_probability must be between 0 and 1")
            if self.sample < 1:
                raise ValueError("sample must be >= 1")
            unknown = sorted(set(self.languages) - set(LANGUAGE_NAMES))
            if unknown:
                raise ValueError(f"unknown language codes {', '.join(map(str, unknown))} "
                                 f"(known: {', '.join(sorted(LANGUAGE_NAMES))})")

    def run(self, ctx):
        splits = ["train"] + (["eval"] if ctx.has_eval else [])
        findings, excluded, metrics, parts = [], set(), {}, []
        for split in splits:
            frame, info = self.detections(ctx, split)
            split_findings, split_excluded, split_metrics = self._judge(ctx, split, frame, info)
            findings += split_findings
            excluded |= split_excluded
            metrics[split] = split_metrics
            parts.append(self._describe(split, split_metrics))
        return self.result(findings, summary="; ".join(parts), metrics=metrics, excluded=excluded)

    # -- detection (shared artefact) -------------------------------------------------------------
    def options_key(self, ctx) -> tuple:
        o = self.options
        return (ctx.settings.seed, o.min_chars, o.max_chars, o.min_probability, o.sample)

    def detections(self, ctx, split: str):
        """(frame of row, prompt_lang, prompt_prob, response_lang, response_prob; sampling info)."""
        return ctx.shared(("language", split, self.options_key(ctx)), lambda: self._detect(ctx, split))

    def _detect(self, ctx, split):
        import numpy as np
        import polars as pl

        rows = ctx.rows(split).select("row", "system", "prompt", "response")
        population = rows.height
        sampled = population > self.options.sample
        if sampled:  # seeded sample, then back in row order
            picked = np.random.default_rng(ctx.settings.seed).choice(population, self.options.sample, replace=False)
            rows = rows[np.sort(picked)]
        prompts = [_user_side(system, prompt) for system, prompt in
                   zip(rows["system"].to_list(), rows["prompt"].to_list())]
        responses = rows["response"].to_list()
        unique = sorted({t for t in prompts + responses if t})  # dedupe; sorted for stable chunks
        answers = self._answers(ctx, unique)
        none = (None, None)
        p = [answers.get(t, none) if t else none for t in prompts]
        r = [answers.get(t, none) if t else none for t in responses]
        frame = pl.DataFrame({
            "row": rows["row"],
            "prompt_lang": [lang for lang, _ in p], "prompt_prob": [prob if lang else None for lang, prob in p],
            "response_lang": [lang for lang, _ in r], "response_prob": [prob if lang else None for lang, prob in r],
        }, schema={"row": rows.schema["row"], "prompt_lang": pl.String, "prompt_prob": pl.Float64,
                   "response_lang": pl.String, "response_prob": pl.Float64})
        return frame, {"sampled": sampled, "sample_size": rows.height, "population": population}

    def _answers(self, ctx, texts: list[str], *, sentences_only: bool = False) -> dict[str, tuple]:
        """(language, probability) of every text: remembered from earlier audits, or judged now.

        The memo (in the audit's cache) is keyed by each text's content, so an edited dataset only
        judges the texts it has not seen before.
        """
        from auditor import memo as text_memo
        from checks import _langid

        o = self.options
        namespace = (f"language|{ALGORITHM}|{_langid.profile_version()}|seed={ctx.settings.seed}|"
                     f"min_chars={o.min_chars}|max_chars={o.max_chars}|min_probability={o.min_probability}|"
                     f"sentences_only={sentences_only}")
        memo = ctx.memo(namespace)
        keys = [text_memo.text_key(text) for text in texts]
        known = memo.get(keys)
        todo = [i for i, answer in enumerate(known) if answer is None]
        judged = _judge_all([texts[i] for i in todo], ctx.settings.seed, o.min_chars, o.max_chars,
                            o.min_probability, sentences_only) if todo else []
        memo.put((keys[i], list(answer)) for i, answer in zip(todo, judged))
        for i, answer in zip(todo, judged):
            known[i] = answer
        return {text: tuple(answer) for text, answer in zip(texts, known)}

    # -- findings and metrics --------------------------------------------------------------------
    def _judge(self, ctx, split, frame, info):
        import polars as pl

        o = self.options
        expected = set(o.languages)
        severity = Severity(o.severity)
        where = ctx.rows(split).select("row", "source", "line", "response")
        joined = frame.join(where, on="row", how="left").sort("row")
        findings, excluded = [], set()
        mismatched = outside = 0
        responses = []  # the response languages after the second opinion, for the distribution
        table = list(joined.select("row", "prompt_lang", "prompt_prob", "response_lang", "response_prob", "source",
                                   "line", "response").iter_rows())
        suspects = [response for _, plang, _, rlang, _, _, _, response in table
                    if rlang is not None and ((expected and rlang not in expected) or (plang and plang != rlang))]
        second = self._second_opinions(ctx, suspects)
        for row, plang, pprob, rlang, rprob, source, line, response in table:
            if response in second and second[response] != rlang:
                rlang = None
            responses.append(rlang)
            data = {"prompt_lang": plang, "prompt_prob": _round(pprob),
                    "response_lang": rlang, "response_prob": _round(rprob)}
            if expected:
                off = [(side, lang, prob) for side, lang, prob in (("Prompt", plang, pprob), ("Response", rlang, rprob))
                       if lang is not None and lang not in expected]
                if off:
                    outside += 1
                    what = " and ".join(f"{side if i == 0 else side.lower()} in {_name(lang, prob)}"
                                        for i, (side, lang, prob) in enumerate(off))
                    findings.append(self.finding(
                        f"{what}, expected {', '.join(sorted(expected))}", source=source, line=line,
                        split=split, severity=severity, expected=sorted(expected), **data))
                    if o.exclude:
                        excluded.add(row)
            if plang is not None and rlang is not None and plang != rlang:
                mismatched += 1
                findings.append(self.finding(
                    f"Asked in {_name(plang, pprob)}, answered in {_name(rlang, rprob)}", source=source,
                    line=line, split=split, severity=Severity.WARNING, code=self.MISMATCH, **data))
        metrics = {
            **info,
            "prompt_languages": _distribution(frame["prompt_lang"]),
            "response_languages": _distribution(pl.Series("response_lang", responses, dtype=pl.String)),
            "undetermined_rows": sum(1 for plang, rlang in zip(joined["prompt_lang"], responses)
                                     if plang is None or rlang is None),
            "mismatched_rows": mismatched,
        }
        if expected:
            metrics["expected"] = sorted(expected)
            metrics["unexpected_rows"] = outside
        return findings, excluded, metrics

    def _second_opinions(self, ctx, responses: list[str]) -> dict[str, str | None]:
        """For JSON targets about to be flagged: the language of their multi-word values alone.

        Enum and tag values ("data_privacy", "high") sway langdetect on a short summary, so a JSON
        target is flagged only when its sentences alone give the same language. Targets without
        identifiers to leave out are not in the result (their first answer stands).
        """
        from checks import _langid

        unsure = sorted({r for r in responses if r and _langid.prose(r, sentences_only=True) != _langid.prose(r)})
        answers = self._answers(ctx, unsure, sentences_only=True)
        return {text: answers[text][0] for text in unsure}

    def _describe(self, split, m):
        judged = m["sample_size"]
        top = sorted(((n, lang) for lang, n in m["response_languages"].items() if lang != UNDETERMINED),
                     key=lambda item: (-item[0], item[1]))[:3]
        shares = ", ".join(f"{_share(n, judged)} {lang}" for n, lang in top) or "no language determined"
        text = f"{split}: responses {shares}"
        if "unexpected_rows" in m:
            text += f", {m['unexpected_rows']} rows outside {', '.join(m['expected'])}"
        text += f", {m['mismatched_rows']} answered in another language"
        if m["sampled"]:
            text += f" (estimated from a sample of {judged:,} of {m['population']:,} rows)"
        return text


def _user_side(system, prompt):
    # prompt = system + "\n" + the rest for chat data: judge the rest
    if system and prompt and prompt.startswith(system):
        return prompt[len(system):].lstrip("\n")
    return prompt


def _judge_all(texts, seed, min_chars, max_chars, min_probability, sentences_only=False):
    from functools import partial

    from checks import _langid

    judge = partial(_langid.judge_many, seed=seed, min_chars=min_chars, max_chars=max_chars,
                    min_probability=min_probability, sentences_only=sentences_only)
    if len(texts) < POOL_THRESHOLD:
        return judge(texts)
    import multiprocessing
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    workers = os.cpu_count() or 1
    tasks = max(workers, -(-len(texts) // CHUNK))
    size = max(1, -(-len(texts) // tasks))
    chunks = [texts[i:i + size] for i in range(0, len(texts), size)]
    try:
        # spawn, not fork: forking a process that runs polars' thread pool can deadlock
        with ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn")) as pool:
            return [answer for chunk in pool.map(judge, chunks) for answer in chunk]
    except (BrokenProcessPool, OSError):
        # Workers cannot start everywhere (a script read from stdin, a sandbox without processes);
        # the answers are the same in-process, only slower.
        return judge(texts)


def _distribution(series) -> dict:
    counts = series.fill_null(UNDETERMINED).value_counts()
    return dict(sorted(counts.iter_rows()))


def _share(n: int, total: int) -> str:
    share = n / total
    return "<1%" if 0 < share < 0.005 else f"{share:.0%}"


def _round(prob):
    return None if prob is None else round(prob, 4)


def _name(lang, prob) -> str:
    return f"{LANGUAGE_NAMES.get(lang, lang)} ({lang}, {prob:.2f})"
