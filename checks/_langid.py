"""Deterministic, fast language identification for the `language` check, built on langdetect.

langdetect's `Detector` draws random n-grams (7 trials, each until one language passes 0.99999)
and multiplies per-language probabilities, one Python loop over 55 languages per draw: about 5-10 ms
per text. This module keeps langdetect's profiles, its text cleaning, its n-gram extraction rules and
its random stream (the same `random.Random` seeded the same way, drawing the same n-grams), and
performs the very same floating-point operations (multiply by `weight + p`, normalize by the
left-to-right sum every fifth draw, average the trials) - but for a whole batch of texts at once:
all texts run trial t in lockstep, five draws per numpy step, and leave the batch when they
converge. The result is langdetect's answer, bit for bit on Python 3.10-3.11 (3.12's `sum` is
compensated, so there it may differ in the last bits) - tests compare it with
`langdetect.detector.Detector` - at about 0.1 ms a text.

Every text reads the same random stream (langdetect reseeds per text), so which draws `choice`
accepts depends only on the text's n-gram count: the accepted positions and values are computed
once per count and batch, and a text only keeps its index into them.

Profiles: the matrix (one row per n-gram, one column per language) is built from langdetect's JSON
profiles in a few vectorized steps (~0.1 s) and cached as `.npy` + vocabulary in
`$XDG_CACHE_HOME/dataset-auditor/` (default `~/.cache`), keyed by langdetect's version and a hash of
the profiles; a cached matrix is memory-mapped (~30 ms, shared by pool workers through the page
cache). An unwritable or damaged cache is ignored.

Determinism: profiles are loaded in sorted file order (langdetect's own loader follows `os.listdir`,
whose order differs between file systems), one model per process, and every detection reseeds its
random stream from the audit seed, so a text gets the same answer in any process, order or batch.

Nothing here imports polars: pool workers start with numpy and langdetect only.
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from functools import cache, lru_cache

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
_MAX_TEXT_LENGTH = 10000

_BATCH = 2048  # texts whose trials run in lockstep (memory: ~25 kB a text)
_CACHE_FORMAT = 1  # bump when the cached files change meaning


class _Model:
    """langdetect profiles as a matrix: one row per n-gram, one column per language (sorted)."""

    def __init__(self, cache: bool = True):
        from langdetect.detector_factory import PROFILES_DIRECTORY

        names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
        raw = []
        for name in names:
            with open(os.path.join(PROFILES_DIRECTORY, name), "rb") as handle:
                raw.append(handle.read())
        self._raw = raw
        loaded = _load_cached(raw) if cache else None
        if loaded is None:
            langs, vocab, matrix = _build(raw)
            if cache:
                _store_cached(raw, langs, vocab, matrix)
        else:
            langs, vocab, matrix = loaded
        self.langs = langs
        self.index = dict(zip(vocab, range(len(vocab))))
        self.matrix = matrix
        self.column = {lang: i for i, lang in enumerate(self.langs)}

    @property
    def factory(self):
        """A stock langdetect DetectorFactory with the same profiles in the same order (for tests)."""
        factory = self.__dict__.get("_factory")
        if factory is None:
            from langdetect.detector_factory import DetectorFactory

            factory = self.__dict__["_factory"] = DetectorFactory()
            factory.load_json_profile([b.decode("utf-8") for b in self._raw])
        return factory


def _build(raw: list[bytes]):
    """(languages, n-grams, matrix) exactly as DetectorFactory.add_profile fills word_lang_prob_map."""
    import numpy as np

    langs, index, rows, cols, probs = [], {}, [], [], []
    for col, data in enumerate(raw):
        profile = json.loads(data)
        langs.append(profile["name"])
        freq, n_words = profile["freq"], profile["n_words"]
        rows.append(np.array([index.setdefault(word, len(index)) for word in freq], dtype=np.int64))
        lengths = np.fromiter(map(len, freq), dtype=np.int64, count=len(freq))
        counts = np.fromiter(freq.values(), dtype=np.float64, count=len(freq))
        ok = (lengths >= 1) & (lengths <= 3)
        denominators = np.array([1.0] + [float(n) for n in n_words[:3]])[np.where(ok, lengths, 0)]
        rows[-1], counts = rows[-1][ok], (counts / denominators)[ok]  # 1.0 * freq / n_words[len - 1]
        cols.append(np.full(len(counts), col, dtype=np.int64))
        probs.append(counts)
    matrix = np.zeros((len(index), len(raw)))
    matrix[np.concatenate(rows), np.concatenate(cols)] = np.concatenate(probs)
    return langs, list(index), matrix


def profile_version() -> str:
    """The installed langdetect's version: its profiles decide every answer."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("langdetect")
    except PackageNotFoundError:
        return "unknown"


def _cache_paths(raw: list[bytes]):
    import hashlib

    import langdetect

    digest = hashlib.blake2b(digest_size=16)
    for data in raw:
        digest.update(len(data).to_bytes(8, "little"))
        digest.update(data)
    package = os.path.dirname(langdetect.__file__)
    version = next((entry.name[len("langdetect-"):-len(".dist-info")]
                    for entry in os.scandir(os.path.dirname(package))
                    if entry.name.startswith("langdetect-") and entry.name.endswith(".dist-info")), "unknown")
    home = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    stem = os.path.join(home, "dataset-auditor", f"langdetect-{version}-{digest.hexdigest()}-v{_CACHE_FORMAT}")
    return stem + ".npy", stem + ".vocab"


def _load_cached(raw):
    import numpy as np

    try:
        matrix_path, vocab_path = _cache_paths(raw)
        if not (os.path.exists(matrix_path) and os.path.exists(vocab_path)):
            return None
        with open(vocab_path, encoding="utf-8", newline="") as handle:
            header, _, body = handle.read().partition("\n")
        langs, vocab = header.split(" "), body.split("\x00")
        matrix = np.load(matrix_path, mmap_mode="r", allow_pickle=False)
        if matrix.shape != (len(vocab), len(langs)) or matrix.dtype != np.float64 or len(langs) != len(raw):
            return None
        return langs, vocab, matrix
    except (OSError, ValueError):
        return None


def _store_cached(raw, langs, vocab, matrix):
    """Write the cache files atomically (temporary file + rename); give up silently when unwritable."""
    import tempfile

    import numpy as np

    if any("\x00" in word for word in vocab) or any(" " in lang or "\n" in lang for lang in langs):
        return
    try:
        matrix_path, vocab_path = _cache_paths(raw)
        folder = os.path.dirname(matrix_path)
        os.makedirs(folder, exist_ok=True)
        for path, write in ((vocab_path, lambda h: h.write((" ".join(langs) + "\n" + "\x00".join(vocab)).encode("utf-8"))),
                            (matrix_path, lambda h: np.save(h, matrix, allow_pickle=False))):
            fd, temporary = tempfile.mkstemp(dir=folder, prefix=".langid-", suffix=".tmp")
            try:
                with os.fdopen(fd, "wb") as handle:
                    write(handle)
                os.replace(temporary, path)
            except BaseException:
                os.unlink(temporary)
                raise
    except (OSError, ValueError):
        pass


@lru_cache(maxsize=1)
def model() -> _Model:
    """The profiles, loaded once per process."""
    return _Model()


def reference_detector(seed: int, restrict: tuple[str, ...] | None = None):
    """A stock langdetect Detector from this process's factory, seeded (for tests and comparisons)."""
    factory = model().factory
    factory.set_seed(seed)
    detector = factory.create()
    detector.seed = seed
    if restrict:
        detector.set_prior_map({lang: 1.0 for lang in restrict})
    return detector


_SPACES = re.compile(" {2,}")
_LATIN = re.compile("[A-z]")  # langdetect's 'A' <= ch <= 'z' (with [\]^_`)
_NON_LATIN = re.compile("[\u0300-\U0010FFFF]")


def _cleaned(text: str) -> str:
    """Detector.append followed by Detector.cleaning_text."""
    from langdetect.detector import Detector
    from langdetect.utils.ngram import NGram

    if "http" in text:
        text = Detector.URL_RE.sub(" ", text)
    if "@" in text:
        text = Detector.MAIL_RE.sub(" ", text)
    ascii = text.isascii()
    if not ascii:  # Vietnamese diacritical marks (U+03xx) are not ASCII
        text = NGram.normalize_vi(text)
    text = text[:_MAX_TEXT_LENGTH]
    if "  " in text:
        text = _SPACES.sub(" ", text)  # append() keeps one space of each run
    if not ascii:
        # cleaning_text counts as non-Latin every character from U+0300 on: its exception for Latin
        # Extended Additional compares a block number with a block name, which is never equal
        if len(_LATIN.findall(text)) * 2 < len(_NON_LATIN.findall(text)):
            text = _LATIN.sub("", text)
    return text


def _ngram_bytes(text: str) -> bytes:
    """langdetect's n-grams of a text (Detector._extract_ngrams) as int32 row ids of the matrix."""
    tokens = _cleaned(text).translate(_NORMALIZE).split(" ")
    # A space resets langdetect's n-gram buffer, so each token yields the same n-grams wherever it
    # occurs: memoized per token (with its following space; the last token has none).
    parts = [_token_ids(token + " ") for token in tokens[:-1] if token]
    if tokens[-1]:
        parts.append(_token_ids(tokens[-1]))
    return b"".join(parts)


def _ngram_ids(text: str, m: _Model | None = None) -> list[int]:
    """langdetect's n-grams of a text as row ids of the matrix."""
    import numpy as np

    return np.frombuffer(_ngram_bytes(text), dtype=np.int32).tolist()


class _NormalizeTable(dict):
    """str.translate table applying langdetect's NGram.normalize, filled on first use of each char."""

    def __missing__(self, code: int) -> str:
        from langdetect.utils.ngram import NGram

        self[code] = value = NGram.normalize(chr(code))
        return value


_NORMALIZE = _NormalizeTable()


@lru_cache(maxsize=200_000)
def _token_ids(token: str) -> bytes:
    # The loop of NGram.add_char + Detector._extract_ngrams for one normalized token.
    from array import array

    index = model().index
    out = array("i")
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
    return out.tobytes()


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
        self.words = self._generate(1 << 13)
        self._shifted: dict = {}
        self._gauss: dict = {}

    def _generate(self, size: int):
        import numpy as np

        generator = np.random.MT19937()
        generator.state = {"bit_generator": "MT19937",
                           "state": {"key": np.array(self._key, dtype=np.uint32), "pos": self._pos}}
        return generator.random_raw(size).astype(np.int64)

    def ensure(self, size: int):
        if size > len(self.words):
            self.words = self._generate(max(size, 2 * len(self.words)))
            self._shifted = {}
        return self.words

    def getrandbits(self, bits: int):
        """`getrandbits(bits)` (bits <= 32) at every position of the stream."""
        values = self._shifted.get(bits)
        if values is None:
            values = self._shifted[bits] = self.words >> (32 - bits)
        return values

    def gauss(self, at: int) -> tuple[float, float]:
        """random.gauss's (z, gauss_next) from the four words at `at` (the same math calls, bit for bit)."""
        pair = self._gauss.get(at)
        if pair is None:
            words = self.ensure(at + 4)
            x2pi = _uniform(words, at) * (2.0 * math.pi)
            g2rad = math.sqrt(-2.0 * math.log(1.0 - _uniform(words, at + 2)))
            pair = self._gauss[at] = (math.cos(x2pi) * g2rad, math.sin(x2pi) * g2rad)
        return pair


@lru_cache(maxsize=4)
def _stream(seed: int) -> _Stream:
    return _Stream(seed)


def _uniform(words, at: int) -> float:
    # random.random(): 53 bits from two 32-bit words (genrand_res53 in CPython's _randommodule.c)
    return ((int(words[at]) >> 5) * 67108864.0 + (int(words[at + 1]) >> 6)) * (1.0 / 9007199254740992.0)


class _Draws:
    """The draws `random.choice` accepts from the stream, for each distinct n-gram count of a batch.

    `choice(ngrams)` takes `getrandbits(count.bit_length())` until it is below `count`: which words are
    accepted depends on the count only. Segment s (count `distinct[s]`) lists the accepted positions
    and values in order; `keys` = segment << 32 | position, sorted, to find the next draw after a
    position for all texts at once.
    """

    def __init__(self, stream: _Stream, distinct, size: int):
        import numpy as np

        stream.ensure(size)
        positions, values = [], []
        for count in distinct.tolist():
            shifted = stream.getrandbits(count.bit_length())[:size]
            accepted = np.flatnonzero(shifted < count)
            positions.append(accepted)
            values.append(shifted[accepted])
        self.size = size
        self.length = np.array([len(p) for p in positions], dtype=np.int64)
        self.offset = np.zeros(len(positions), dtype=np.int64)
        np.cumsum(self.length[:-1], out=self.offset[1:])
        self.position = np.concatenate(positions)
        self.value = np.concatenate(values)
        self.keys = np.repeat(np.arange(len(positions), dtype=np.int64) << 32, self.length) + self.position


def _detect_batch(flat_ids, counts, m: _Model, stream: _Stream, prior):
    """Detector._detect_block for a batch of texts: langprob (texts x languages).

    `flat_ids` are the texts' n-gram ids one after the other, `counts` how many each has (>= 1).
    For every text, the same operations in the same order as langdetect: per trial, alpha from
    `gauss`, then draws by `choice`, `prob *= weight + p` per draw, and after draws 1, 6, 11, ...
    `prob /= sum(prob)` (summed left to right) until max(prob) > 0.99999 or the 1001st draw;
    `langprob += prob / 7`.
    """
    import numpy as np

    matrix = np.asarray(m.matrix)  # a plain view of a memory-mapped matrix (no memmap indexing overhead)
    n_texts, n_langs = len(counts), matrix.shape[1]
    text_start = np.zeros(n_texts, dtype=np.int64)
    np.cumsum(counts[:-1], out=text_start[1:])
    distinct, segment = np.unique(counts, return_inverse=True)
    segment = segment.reshape(-1)
    segment_key = segment.astype(np.int64) << 32
    draws = _Draws(stream, distinct, len(stream.words))
    langprob = np.zeros((n_texts, n_langs))
    at = np.zeros(n_texts, dtype=np.int64)  # next unread word of the stream
    nxt = np.zeros(n_texts, dtype=np.int64)  # index of the next accepted draw in the text's segment
    pending = None  # random.gauss's gauss_next (the same trial parity for every text)
    for _ in range(_N_TRIAL):
        if pending is None:
            while int(at.max()) + 4 >= draws.size:
                draws = _Draws(stream, distinct, 2 * draws.size)
            pairs = [stream.gauss(a) for a in at.tolist()]
            z = np.array([pair[0] for pair in pairs])
            pending = np.array([pair[1] for pair in pairs])
            at += 4
            nxt = np.searchsorted(draws.keys, segment_key + at) - draws.offset[segment]
        else:
            z, pending = pending, None
        active = np.arange(n_texts)
        weight = ((_ALPHA + z * _ALPHA_WIDTH) / _BASE_FREQ)[:, None, None]
        prob = np.tile(prior, (n_texts, 1))
        where = draws.offset[segment] + nxt  # flat index of each active text's next draw
        start = text_start
        done = 0  # draws of this trial so far
        group = 1  # draws until the next convergence check
        while len(active):
            while int((where + group - draws.offset[segment[active]] - draws.length[segment[active]]).max()) > 0:
                relative = where - draws.offset[segment[active]]
                draws = _Draws(stream, distinct, 2 * draws.size)
                where = draws.offset[segment[active]] + relative
            grams = flat_ids[start[:, None] + draws.value[where[:, None] + np.arange(group)]]
            factors = matrix[grams]
            factors += weight  # weight + lang_prob_map[i]
            for g in range(group):
                prob *= factors[:, g]
            done += group
            where = where + group
            prob /= _sum_left_to_right(prob)[:, None]  # sum(prob)
            stop = prob.max(axis=1) > _CONV_THRESHOLD
            if done > _ITERATION_LIMIT:
                stop[:] = True
            if stop.any():
                finished = active[stop]
                langprob[finished] += prob[stop] / _N_TRIAL
                at[finished] = draws.position[where[stop] - 1] + 1
                nxt[finished] = where[stop] - draws.offset[segment[finished]]
                keep = ~stop
                active, prob, weight, where, start = active[keep], prob[keep], weight[keep], where[keep], start[keep]
            group = 5
    return langprob


def _sum_left_to_right(prob):
    """Row sums added one language after the other, like Python's sum(prob) (numpy's own sum is pairwise)."""
    import numpy as np

    if len(prob) < 128:  # few rows: one call beats a call per language
        return np.cumsum(prob, axis=1)[:, -1]
    total = prob[:, 0].copy()
    for column in range(1, prob.shape[1]):
        total += prob[:, column]
    return total


def detect_many(texts: list[str], seed: int, restrict: tuple[str, ...] | None = None
                ) -> list[tuple[str | None, float]]:
    """(language, probability) as langdetect would answer for each text (None when it finds no features)."""
    import numpy as np

    m = model()
    n_langs = len(m.langs)
    if restrict:
        prior = np.zeros(n_langs)
        prior[[m.column[lang] for lang in restrict]] = 1.0
        prior /= float(sum(1.0 for lang in m.langs if lang in restrict))  # Detector.set_prior_map
    else:
        prior = np.full(n_langs, 1.0 / n_langs)
    stream = _stream(seed)
    answers: list[tuple[str | None, float]] = [(None, 0.0)] * len(texts)
    for first in range(0, len(texts), _BATCH):
        encoded = [_ngram_bytes(text) for text in texts[first:first + _BATCH]]
        todo = [k for k, data in enumerate(encoded) if data]
        if not todo:
            continue
        counts = np.array([len(encoded[k]) // 4 for k in todo], dtype=np.int64)
        flat_ids = np.frombuffer(b"".join(encoded[k] for k in todo), dtype=np.int32)
        langprob = _detect_batch(flat_ids, counts, m, stream, prior)
        best = langprob.argmax(axis=1)  # the first of equals, like langdetect's stable sort
        top = langprob[np.arange(len(todo)), best].tolist()
        for k, column, prob in zip(todo, best.tolist(), top):
            if prob > _PROB_THRESHOLD:
                answers[first + k] = (_code(m.langs[column]), prob)
    return answers


def detect_ids_top(text: str, seed: int, restrict: tuple[str, ...] | None = None) -> tuple[str | None, float]:
    """(language, probability) as langdetect would answer for `text` (None when it finds no features)."""
    return detect_many([text], seed, restrict)[0]


def _code(lang: str) -> str:
    return "zh" if lang.startswith("zh") else lang


def _in(code: int, ranges) -> bool:
    return any(lo <= code <= hi for lo, hi in ranges)


@cache
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
    # each pattern only runs when its literal part is there (the same result, several times faster)
    if "`" in text:
        text = _FENCE.sub(" ", text)
        text = _INLINE_CODE.sub(" ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    return _EMAIL.sub(" ", text) if "@" in text else text


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
    if head.endswith("\n"):  # `$` also matches before a final newline
        cut = _WORD_END.sub("", head)
    else:  # the same as _WORD_END.sub("", head), faster: drop the last whitespace run and what follows
        end = len(head)
        while end and not head[end - 1].isspace():
            end -= 1
        cut = head[:end].rstrip() if end else head
    return cut if len(cut) >= max_chars // 2 else text[:max_chars]


def judge(text: str | None, seed: int, min_chars: int, max_chars: int,
          min_probability: float = 0.0, *, sentences_only: bool = False) -> tuple[str | None, float]:
    """(language code, probability) of a text, or (None, p) when it is too short, not prose, or unclear."""
    return judge_many([text], seed, min_chars, max_chars, min_probability, sentences_only=sentences_only)[0]


def _screen(text, min_chars, max_chars, sentences_only=False):
    """(answer, None, None) when no detection is needed, else (None, body, languages to choose from)."""
    if not text:
        return (None, 0.0), None, None
    body = prefix(prose(text, sentences_only=sentences_only), max_chars)
    letters, scripts, nonspace, code_chars = script_counts(body)
    if letters < min_chars:
        return (None, 0.0), None, None
    if letters < 0.6 * nonspace or code_chars > 0.08 * nonspace:
        return (None, 0.0), None, None  # mostly numbers, symbols or code
    other = sum(scripts.values())
    if other * 2 > letters:  # mostly non-Latin: the script may settle it
        kana, han = scripts.get("kana", 0), scripts.get("han", 0)
        if kana and kana + han >= other / 2:
            return ("ja", 1.0), None, None
        name, size = max(sorted(scripts.items()), key=lambda item: item[1])
        if name == "han":
            return ("zh", 1.0), None, None
        if name in _SINGLE_SCRIPTS:
            return (name, 1.0), None, None
        if name in _SHARED_SCRIPTS:
            return None, body, _SHARED_SCRIPTS[name][1]
    return None, body, None


def judge_many(texts: list[str | None], seed: int, min_chars: int, max_chars: int,
               min_probability: float = 0.0, *, sentences_only: bool = False) -> list[tuple[str | None, float]]:
    """`judge` for many texts (the unit of work sent to a pool worker): langdetect runs on them in batches."""
    answers: list = [None] * len(texts)
    pending: dict = {}  # languages to choose from -> [(position, body)]
    for k, text in enumerate(texts):
        answer, body, restrict = _screen(text, min_chars, max_chars, sentences_only)
        if answer is None:
            pending.setdefault(restrict, []).append((k, body))
        else:
            answers[k] = answer
    for restrict, items in pending.items():
        for (k, _), answer in zip(items, detect_many([body for _, body in items], seed, restrict)):
            answers[k] = answer
    return [(None, prob) if lang is not None and prob < min_probability else (lang, prob)
            for lang, prob in answers]
