"""Deterministic, fast language identification for the `language` check, built on langdetect.

langdetect's `Detector` draws random n-grams (7 trials, each until one language passes 0.99999)
and multiplies per-language probabilities, one Python loop over 55 languages per draw: about 5-10 ms
per text. This module keeps langdetect's profiles, its text cleaning, its n-gram extraction rules and
its random stream (the same `random.Random` seeded the same way, drawing the same n-grams), and does
the probability updates for a whole block of draws at once in numpy (log space). The result is
langdetect's answer - tests compare it with `langdetect.detector.Detector` - at a fraction of the cost.

Determinism: profiles are loaded in sorted file order (langdetect's own loader follows `os.listdir`,
whose order differs between file systems), one factory per process, and every detection reseeds its
random stream from the audit seed, so a text gets the same answer in any process and any order.

Nothing here imports polars: pool workers start with numpy and langdetect only.
"""

from __future__ import annotations

import json
import os
import re
from collections import Counter
from functools import lru_cache

# Scripts that settle the language without langdetect: exactly one language of langdetect's 55 (and
# one common language in practice) writes them. Ranges are (first, last) code points.
_SINGLE_SCRIPTS = {
    "ko": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF)),
    "th": ((0x0E00, 0x0E7F),),
    "el": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "he": ((0x0590, 0x05FF),),
    "bn": ((0x0980, 0x09FF),),
    "pa": ((0x0A00, 0x0A7F),),
    "gu": ((0x0A80, 0x0AFF),),
    "ta": ((0x0B80, 0x0BFF),),
    "te": ((0x0C00, 0x0C7F),),
    "kn": ((0x0C80, 0x0CFF),),
    "ml": ((0x0D00, 0x0D7F),),
}
_KANA = ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F))
_HAN = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF), (0xF900, 0xFAFF))
# Scripts shared by several languages: langdetect decides, restricted to the languages of the script.
_SHARED_SCRIPTS = {
    "cyrillic": (((0x0400, 0x052F),), ("bg", "mk", "ru", "uk")),
    "arabic": (((0x0600, 0x06FF), (0x0750, 0x077F), (0xFB50, 0xFDFF), (0xFE70, 0xFEFF)), ("ar", "fa", "ur")),
    "devanagari": (((0x0900, 0x097F),), ("hi", "mr", "ne")),
}

_FENCE = re.compile(r"```.*?(```|\Z)", re.S)
_INLINE_CODE = re.compile(r"`[^`\n]*`")
_URL = re.compile(r"\b(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"\S+@\S+\.\w+")
_CODE_CHARS = frozenset("{}[]()<>;=_*/\\|#$`&^~")
_WORD_END = re.compile(r"\s+\S*$")

# langdetect's own constants (langdetect.detector.Detector), repeated here because the fast path
# re-implements its update loop.
_N_TRIAL = 7
_ALPHA = 0.5
_ALPHA_WIDTH = 0.05
_ITERATION_LIMIT = 1000
_CONV_THRESHOLD = 0.99999
_BASE_FREQ = 10000
_PROB_THRESHOLD = 0.1


class _Model:
    """langdetect profiles as a matrix: one row per n-gram, one column per language (sorted)."""

    def __init__(self):
        import numpy as np
        from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

        factory = DetectorFactory()
        names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
        profiles = []
        for name in names:
            with open(os.path.join(PROFILES_DIRECTORY, name), encoding="utf-8") as handle:
                profiles.append(handle.read())
        factory.load_json_profile(profiles)  # sorted order: the same language list everywhere
        self.factory = factory
        self.langs = list(factory.langlist)
        self.index = {word: i for i, word in enumerate(factory.word_lang_prob_map)}
        self.matrix = np.array(list(factory.word_lang_prob_map.values()), dtype=np.float64)
        self.column = {lang: i for i, lang in enumerate(self.langs)}


@lru_cache(maxsize=1)
def model() -> _Model:
    """The profiles, loaded once per process."""
    return _Model()


def reference_detector(seed: int, restrict: tuple[str, ...] | None = None):
    """A stock langdetect Detector from this process's factory, seeded (for tests and comparisons)."""
    m = model()
    m.factory.set_seed(seed)
    detector = m.factory.create()
    detector.seed = seed
    if restrict:
        detector.set_prior_map({lang: 1.0 for lang in restrict})
    return detector


def _ngram_ids(text: str, m: _Model) -> list[int]:
    """langdetect's cleaning and n-gram extraction (Detector.append, cleaning_text, _extract_ngrams)."""
    from langdetect.detector import Detector

    detector = Detector(m.factory)
    detector.append(text)
    detector.cleaning_text()
    tokens = detector.text.translate(_NORMALIZE).split(" ")
    ids: list[int] = []
    # A space resets langdetect's n-gram buffer, so each token yields the same n-grams wherever it
    # occurs: memoized per token (with its following space; the last token has none).
    for token in tokens[:-1]:
        if token:
            ids.extend(_token_ids(token + " "))
    if tokens[-1]:
        ids.extend(_token_ids(tokens[-1]))
    return ids


class _NormalizeTable(dict):
    """str.translate table applying langdetect's NGram.normalize, filled on first use of each char."""

    def __missing__(self, code: int) -> str:
        from langdetect.utils.ngram import NGram

        self[code] = value = NGram.normalize(chr(code))
        return value


_NORMALIZE = _NormalizeTable()


@lru_cache(maxsize=200_000)
def _token_ids(token: str) -> tuple[int, ...]:
    # The loop of NGram.add_char + Detector._extract_ngrams for one normalized token.
    index = model().index
    out = []
    grams = " "
    capital = False
    for ch in token:
        last = grams[-1]
        if last == " ":
            grams = " "
            capital = False
            if ch == " ":
                continue
        elif len(grams) >= 3:
            grams = grams[1:]
        grams += ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        if ch != " ":
            i = index.get(ch)
            if i is not None:
                out.append(i)
        size = len(grams)
        if size >= 2:
            i = index.get(grams[-2:])
            if i is not None:
                out.append(i)
            if size >= 3:
                i = index.get(grams)
                if i is not None:
                    out.append(i)
    return tuple(out)


class _Stream:
    """The 32-bit Mersenne Twister outputs of `random.Random(seed)`, computed in bulk with numpy.

    langdetect reseeds its generator for every text, so every text reads the same stream; only how
    many words each text consumes differs.
    """

    def __init__(self, seed: int):
        import random

        self.seed = seed
        state = random.Random(seed).getstate()[1]
        self._key, self._pos = state[:624], state[624]
        self.words = self._generate(1 << 15)

    def _generate(self, size: int):
        import numpy as np

        generator = np.random.MT19937()
        generator.state = {"bit_generator": "MT19937",
                           "state": {"key": np.array(self._key, dtype=np.uint32), "pos": self._pos}}
        return generator.random_raw(size)

    def ensure(self, size: int):
        if size > len(self.words):
            self.words = self._generate(max(size, 2 * len(self.words)))
        return self.words


@lru_cache(maxsize=4)
def _stream(seed: int) -> _Stream:
    return _Stream(seed)


def _uniform(words, at: int) -> float:
    # random.random(): 53 bits from two 32-bit words (genrand_res53 in CPython's _randommodule.c)
    return ((int(words[at]) >> 5) * 67108864.0 + (int(words[at + 1]) >> 6)) * (1.0 / 9007199254740992.0)


def _detect_ids(ids: list[int], m: _Model, seed: int, restrict: tuple[str, ...] | None) -> list[float]:
    """Detector._detect_block: langprob averaged over the trials, for the n-gram ids of one text.

    Reads the random stream exactly as langdetect does (`gauss` for alpha, then `choice(ngrams)`
    draws by rejection sampling of `getrandbits`), and checks convergence after the same draws
    (1, 6, 11, ... up to the iteration limit). Probabilities are kept in log space, so the
    normalization langdetect does every fifth draw is not needed between checkpoints.
    """
    import math

    import numpy as np

    n_langs = len(m.langs)
    if restrict:
        prior = np.full(n_langs, -np.inf)
        prior[[m.column[lang] for lang in restrict]] = 0.0
    else:
        prior = np.zeros(n_langs)
    stream = _stream(seed)
    count = len(ids)
    shift = np.uint64(32 - count.bit_length())
    ids_arr = np.asarray(ids, dtype=np.int64)
    langprob = np.zeros(n_langs)
    at = 0  # next unread word of the stream
    gauss_next = None
    for _ in range(_N_TRIAL):
        if gauss_next is None:  # random.gauss
            words = stream.ensure(at + 4)
            x2pi = _uniform(words, at) * 2.0 * math.pi
            g2rad = math.sqrt(-2.0 * math.log(1.0 - _uniform(words, at + 2)))
            at += 4
            z, gauss_next = math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad
        else:
            z, gauss_next = gauss_next, None
        weight = (_ALPHA + z * _ALPHA_WIDTH) / _BASE_FREQ
        logp = prior
        done = 0  # draws so far in this trial
        block = 66  # draws per numpy step: a trial needs 56 in the median, 84 on average
        while True:
            span = 2 * block + 64
            while True:  # enough words for `block` accepted draws
                words = stream.ensure(at + span)
                values = words[at:at + span] >> shift
                accepted = np.flatnonzero(values < count)
                if len(accepted) >= block:
                    break
                span *= 2
            accepted = accepted[:block]
            picks = values[accepted].astype(np.int64)
            cum = logp + np.cumsum(np.log(m.matrix[ids_arr[picks]] + weight), axis=0)
            rows = np.arange((-done) % 5, block, 5)  # checkpoints: draw index i with i % 5 == 0
            checked = cum[rows]
            top = checked.max(axis=1, keepdims=True)
            maxp = 1.0 / np.exp(checked - top).sum(axis=1)
            stop = (maxp > _CONV_THRESHOLD) | (done + rows >= _ITERATION_LIMIT)
            if stop.any():
                k = int(np.argmax(stop))
                at += int(accepted[rows[k]]) + 1
                p = np.exp(checked[k] - top[k])
                langprob += (p / p.sum()) / _N_TRIAL
                break
            at += int(accepted[-1]) + 1
            logp = cum[-1]
            done += block
            block = 2 * block
    return langprob.tolist()


def detect_ids_top(text: str, seed: int, restrict: tuple[str, ...] | None = None) -> tuple[str | None, float]:
    """(language, probability) as langdetect would answer for `text` (None when it finds no features)."""
    m = model()
    ids = _ngram_ids(text, m)
    if not ids:
        return None, 0.0
    probs = _detect_ids(ids, m, seed, restrict)
    ranked = sorted(((p, lang) for lang, p in zip(m.langs, probs) if p > _PROB_THRESHOLD),
                    key=lambda item: -item[0])
    if not ranked:
        return None, 0.0
    prob, lang = ranked[0]
    return _code(lang), prob


def _code(lang: str) -> str:
    return "zh" if lang.startswith("zh") else lang


def _in(code: int, ranges) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@lru_cache(maxsize=None)
def _script(ch: str) -> str | None:
    """The script key of a letter ("latin", "kana", "han", a language code, a shared script), or None."""
    if not ch.isalpha():
        return None
    code = ord(ch)
    if code < 0x0370:
        return "latin"  # and IPA, spacing modifiers
    if _in(code, _KANA):
        return "kana"
    if _in(code, _HAN):
        return "han"
    key = next((lang for lang, ranges in _SINGLE_SCRIPTS.items() if _in(code, ranges)), None)
    if key is None:
        key = next((name for name, (ranges, _) in _SHARED_SCRIPTS.items() if _in(code, ranges)), "other")
    return key


def script_counts(text: str) -> tuple[int, dict[str, int], int, int]:
    """(letters, letters per non-Latin script, non-space characters, code-like symbols) of a text."""
    letters = nonspace = symbols = 0
    counts: dict[str, int] = {}
    for ch, n in Counter(text).items():
        if ch.isspace():
            continue
        nonspace += n
        if ch in _CODE_CHARS:
            symbols += n
        key = _script(ch)
        if key is None:
            continue
        letters += n
        if key != "latin":
            counts[key] = counts.get(key, 0) + n
    return letters, counts, nonspace, symbols


def prose(text: str, *, sentences_only: bool = False) -> str:
    """The natural-language part of a text: JSON string values instead of JSON, no code, URLs or emails.

    With `sentences_only`, single-token JSON values (enums, tags, ids such as "data_privacy") are
    left out too: the second opinion asked before a JSON target is flagged.
    """
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, (dict, list)):
            strings = _strings(value)
            return "\n".join(s for s in strings if len(s.split()) > 1) if sentences_only else "\n".join(strings)
    text = _FENCE.sub(" ", text)
    text = _INLINE_CODE.sub(" ", text)
    text = _URL.sub(" ", text)
    return _EMAIL.sub(" ", text)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def prefix(text: str, max_chars: int) -> str:
    """At most `max_chars` characters, cut at a word boundary when there is one."""
    if len(text) <= max_chars:
        return text
    head = text[: max_chars + 1]
    cut = _WORD_END.sub("", head)
    return cut if len(cut) >= max_chars // 2 else text[:max_chars]


def judge(text: str | None, seed: int, min_chars: int, max_chars: int,
          min_probability: float = 0.0, *, sentences_only: bool = False) -> tuple[str | None, float]:
    """(language code, probability) of a text, or (None, p) when it is too short, not prose, or unclear."""
    lang, prob = _judge(text, seed, min_chars, max_chars, sentences_only)
    if lang is not None and prob < min_probability:
        return None, prob
    return lang, prob


def _judge(text, seed, min_chars, max_chars, sentences_only=False):
    if not text:
        return None, 0.0
    body = prefix(prose(text, sentences_only=sentences_only), max_chars)
    letters, scripts, nonspace, code_chars = script_counts(body)
    if letters < min_chars:
        return None, 0.0
    if letters < 0.6 * nonspace or code_chars > 0.08 * nonspace:
        return None, 0.0  # mostly numbers, symbols or code
    other = sum(scripts.values())
    if other * 2 > letters:  # mostly non-Latin: the script may settle it
        kana, han = scripts.get("kana", 0), scripts.get("han", 0)
        if kana and kana + han >= other / 2:
            return "ja", 1.0
        name, size = max(sorted(scripts.items()), key=lambda item: item[1])
        if name == "han":
            return "zh", 1.0
        if name in _SINGLE_SCRIPTS:
            return name, 1.0
        if name in _SHARED_SCRIPTS:
            return detect_ids_top(body, seed, _SHARED_SCRIPTS[name][1])
    return detect_ids_top(body, seed)


def judge_many(texts: list[str], seed: int, min_chars: int, max_chars: int,
               min_probability: float = 0.0) -> list[tuple[str | None, float]]:
    """`judge` for a chunk of texts (the unit of work sent to a pool worker)."""
    return [judge(text, seed, min_chars, max_chars, min_probability) for text in texts]
